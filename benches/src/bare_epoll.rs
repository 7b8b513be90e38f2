//! The floor: the same ping-pong with raw `epoll_wait`, `read` and `write`
//! and no abstraction at all; the fd is the epoll user data. Level-triggered
//! like our reactor, or edge-triggered like mio (to show what the kernel
//! charges for level-triggering: it re-polls each reported socket at the
//! next wait).

use std::io;
use std::os::fd::{AsRawFd, RawFd};

use crate::pingpong::{complete_messages, std_tcp_pair, MSG, READ_BUF};

/// An epoll instance and the two ends of the pair.
pub struct BareEpoll {
    epfd: RawFd,
    edge: bool,
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
    /// Both ends registered for EPOLLIN, level-triggered.
    pub fn new() -> io::Result<Self> {
        Self::with_mode(false)
    }

    /// Both ends registered for EPOLLIN | EPOLLET, edge-triggered.
    pub fn edge_triggered() -> io::Result<Self> {
        Self::with_mode(true)
    }

    fn with_mode(edge: bool) -> io::Result<Self> {
        let (client, server) = std_tcp_pair()?;
        // SAFETY: plain syscall, no pointers.
        let epfd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        let flags = if edge {
            libc::EPOLLIN | libc::EPOLLET
        } else {
            libc::EPOLLIN
        };
        for fd in [client.as_raw_fd(), server.as_raw_fd()] {
            let mut ev = libc::epoll_event {
                events: flags as u32,
                u64: fd as u64,
            };
            // SAFETY: `ev` is a valid epoll_event for the call's duration.
            check(unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_ADD, fd, &mut ev) })?;
        }
        Ok(BareEpoll {
            epfd,
            edge,
            client,
            _server: server,
        })
    }

    /// Do `rounds` round trips.
    pub fn run(&mut self, rounds: u64) -> io::Result<()> {
        let client = self.client.as_raw_fd();
        let mut buf = [7u8; READ_BUF];
        let (mut client_partial, mut server_partial) = (0usize, 0usize);
        let mut remaining = rounds;
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        write_all(client, &buf[..MSG])?;
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
                let partial = if fd == client {
                    &mut client_partial
                } else {
                    &mut server_partial
                };
                loop {
                    // SAFETY: `buf` is a writable buffer of the length passed.
                    let r = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                    if r < 0 {
                        let err = io::Error::last_os_error();
                        if err.kind() == io::ErrorKind::WouldBlock {
                            break;
                        }
                        return Err(err);
                    }
                    if r == 0 {
                        return Err(io::ErrorKind::UnexpectedEof.into());
                    }
                    let r = r as usize;
                    for _ in 0..complete_messages(partial, r) {
                        if fd == client {
                            remaining -= 1;
                            if remaining == 0 {
                                return Ok(());
                            }
                        }
                        write_all(fd, &buf[..MSG])?;
                    }
                    // Level-triggered: one read per event. Edge-triggered:
                    // until a short read says the socket is drained.
                    if !self.edge || r < buf.len() {
                        break;
                    }
                }
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
        for mut pp in [
            super::BareEpoll::new().unwrap(),
            super::BareEpoll::edge_triggered().unwrap(),
        ] {
            pp.run(100).unwrap();
            pp.run(100).unwrap();
        }
    }
}
