//! The floor: the same ping-pong with raw `epoll_wait`, `read` and `write`
//! and no abstraction at all. The fd is the epoll user data.

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use crate::pingpong::{std_tcp_pair, MSG};

/// An epoll instance and the two ends of the pair.
pub struct BareEpoll {
    epfd: RawFd,
    client: std::net::TcpStream,
    /// Kept open; its events are told apart from the client's by fd.
    _server: std::net::TcpStream,
}

fn check(res: libc::c_int) -> io::Result<libc::c_int> {
    if res < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(res)
    }
}

impl BareEpoll {
    /// Both ends registered for EPOLLIN (level-triggered).
    pub fn new() -> io::Result<Self> {
        let (client, server) = std_tcp_pair()?;
        // SAFETY: plain syscall, no pointers.
        let epfd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        for fd in [client.as_raw_fd(), server.as_raw_fd()] {
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: fd as u64,
            };
            // SAFETY: `ev` is a valid epoll_event for the call's duration.
            check(unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        }
        Ok(BareEpoll {
            epfd,
            client,
            _server: server,
        })
    }

    /// Do `rounds` round trips.
    pub fn run(&mut self, rounds: u64) -> io::Result<()> {
        let client = self.client.as_raw_fd();
        let mut buf = [7u8; MSG];
        let (mut client_got, mut server_got) = (0usize, 0usize);
        let mut remaining = rounds;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        write_all(client, &buf)?;
        loop {
            // SAFETY: `events` is a writable array of the length passed.
            let n = unsafe {
                libc::epoll_wait(self.epfd, events.as_mut_ptr(), events.len() as i32, -1)
            };
            if n < 0 {
                let err = io::Error::last_os_error();
                if err.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(err);
            }
            for ev in &events[..n as usize] {
                let fd = ev.u64 as RawFd;
                let got = if fd == client {
                    &mut client_got
                } else {
                    &mut server_got
                };
                let rest = &mut buf[*got..];
                // SAFETY: `rest` is a writable buffer of the length passed.
                let r = unsafe { libc::read(fd, rest.as_mut_ptr().cast(), rest.len()) };
                if r < 0 {
                    let err = io::Error::last_os_error();
                    if err.kind() == io::ErrorKind::WouldBlock {
                        continue;
                    }
                    return Err(err);
                }
                if r == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                *got += r as usize;
                if *got < MSG {
                    continue;
                }
                *got = 0;
                if fd == client {
                    remaining -= 1;
                    if remaining == 0 {
                        return Ok(());
                    }
                }
                write_all(fd, &buf)?;
            }
        }
    }
}

fn write_all(fd: RawFd, buf: &[u8]) -> io::Result<()> {
    // SAFETY: `buf` is a readable buffer of the length passed.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    if n == buf.len() as isize {
        Ok(())
    } else if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Err(io::Error::other("short write on an idle loopback socket"))
    }
}

impl Drop for BareEpoll {
    fn drop(&mut self) {
        // SAFETY: `epfd` is ours and closed only here.
        unsafe { libc::close(self.epfd) };
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bare_pingpong_completes() {
        let mut pp = super::BareEpoll::new().unwrap();
        pp.run(100).unwrap();
        pp.run(100).unwrap();
    }
}
