//! The floor: an echo server on raw `epoll_wait`, `read` and `write`, with
//! no abstraction between the loop and the kernel.
//!
//! It follows our servers' policy exactly, so that what it costs less is
//! what our reactor's machinery costs: level-triggered, each socket
//! registered for `EPOLLIN`; an echo is written at once; only an unsent tail
//! switches the socket to `EPOLLOUT`, and nothing more is read until the
//! tail is gone. One read buffer serves every connection; the epoll user
//! data is the fd itself, and the unsent tails sit in a table indexed by fd.

use std::io::{self, ErrorKind};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use sockets::buffers::READ_SIZE;

use super::{check, set_int_option};

/// Events taken per `epoll_wait`.
const MAX_EVENTS: usize = 256;

/// Serves echo on `listener` forever (until a signal kills the process).
pub fn serve(listener: OwnedFd) -> io::Result<()> {
    // Borrowed: `listener` stays open until this function returns (never).
    let lfd = listener.as_raw_fd();
    // SAFETY: plain syscall, no pointers.
    let epfd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    ctl(epfd, libc::EPOLL_CTL_ADD, lfd, libc::EPOLLIN)?;
    // The one read buffer, allocated once.
    let mut buf = vec![0u8; READ_SIZE].into_boxed_slice();
    // owed[fd]: the unsent tail of fd's last echo; empty when nothing is owed.
    let mut owed: Vec<Vec<u8>> = Vec::new();
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; MAX_EVENTS];
    loop {
        // SAFETY: `events` is a writable array of the length passed.
        let n = unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), MAX_EVENTS as i32, -1) };
        if n < 0 {
            let err = io::Error::last_os_error();
            if err.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        for ev in &events[..n as usize] {
            let fd = ev.u64 as RawFd;
            if fd == lfd {
                accept_all(epfd, lfd, &mut owed);
                continue;
            }
            let tail = &mut owed[fd as usize];
            // The state decides, not the mask: a socket owing bytes waits
            // for room (EPOLLOUT, or EPOLLERR/EPOLLHUP that make the write
            // fail), any other waits for bytes or EOF.
            let keep = if tail.is_empty() {
                echo(epfd, fd, &mut buf, tail)
            } else {
                flush(epfd, fd, tail)
            };
            if !keep {
                *tail = Vec::new();
                // SAFETY: `fd` is an accepted socket we own; closing it also
                // removes it from the epoll set.
                unsafe { libc::close(fd) };
            }
        }
    }
}

/// Accepts every pending connection, each non-blocking with `TCP_NODELAY`
/// and registered for `EPOLLIN`.
fn accept_all(epfd: RawFd, listener: RawFd, owed: &mut Vec<Vec<u8>>) {
    loop {
        let flags = libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
        // SAFETY: null address pointers are allowed: we don't ask who it is.
        let fd =
            unsafe { libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), flags) };
        if fd < 0 {
            let err = io::Error::last_os_error();
            match err.kind() {
                ErrorKind::WouldBlock => return,
                ErrorKind::Interrupted | ErrorKind::ConnectionAborted => continue,
                // Out of descriptors and the like: say so, retry at the next
                // event (the floor needs no pause logic for the benchmarks).
                _ => {
                    eprintln!("accept: {err}");
                    return;
                }
            }
        }
        let registered = set_int_option(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)
            .and_then(|()| ctl(epfd, libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN));
        if let Err(err) = registered {
            eprintln!("accept: {err}");
            // SAFETY: `fd` was just accepted and is ours.
            unsafe { libc::close(fd) };
            continue;
        }
        if owed.len() <= fd as usize {
            owed.resize_with(fd as usize + 1, Vec::new);
        }
    }
}

/// One read, and the echo written at once; an unsent tail goes to `tail`
/// and the socket switches to `EPOLLOUT`. Returns false to close.
fn echo(epfd: RawFd, fd: RawFd, buf: &mut [u8], tail: &mut Vec<u8>) -> bool {
    // SAFETY: `buf` is writable for the length passed.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n <= 0 {
        // 0: the peer closed, and nothing is owed (else we would not have
        // read). <0: spurious wake-up or EINTR keeps the socket, level-
        // triggering tells us again; a real error closes.
        return n < 0 && is_transient(&io::Error::last_os_error());
    }
    let data = &buf[..n as usize];
    match write_some(fd, data) {
        Ok(sent) if sent == data.len() => true,
        Ok(sent) => {
            tail.extend_from_slice(&data[sent..]);
            ctl(epfd, libc::EPOLL_CTL_MOD, fd, libc::EPOLLOUT).is_ok()
        }
        Err(_) => false,
    }
}

/// Writes what `tail` owes; once it is all sent, frees it and switches the
/// socket back to `EPOLLIN`. Returns false to close.
fn flush(epfd: RawFd, fd: RawFd, tail: &mut Vec<u8>) -> bool {
    match write_some(fd, tail) {
        Ok(sent) if sent == tail.len() => {
            *tail = Vec::new();
            ctl(epfd, libc::EPOLL_CTL_MOD, fd, libc::EPOLLIN).is_ok()
        }
        Ok(sent) => {
            tail.drain(..sent);
            true
        }
        Err(_) => false,
    }
}

/// Writes until all of `data` is taken or the socket is full; returns how
/// much was taken. (Rust's runtime ignores SIGPIPE, so a write to a closed
/// peer is an EPIPE error, not a signal.)
fn write_some(fd: RawFd, data: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < data.len() {
        let rest = &data[sent..];
        // SAFETY: `rest` is readable for the length passed.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n < 0 {
            let err = io::Error::last_os_error();
            match err.kind() {
                ErrorKind::WouldBlock => break,
                ErrorKind::Interrupted => continue,
                _ => return Err(err),
            }
        }
        sent += n as usize;
    }
    Ok(sent)
}

fn is_transient(err: &io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted)
}

/// `epoll_ctl` with the fd as the user data.
fn ctl(epfd: RawFd, op: libc::c_int, fd: RawFd, events: libc::c_int) -> io::Result<()> {
    let mut ev = libc::epoll_event {
        events: events as u32,
        u64: fd as u64,
    };
    // SAFETY: `ev` is a valid epoll_event for the call's duration.
    check(unsafe { libc::epoll_ctl(epfd, op, fd, &mut ev) }).map(drop)
}
