//! The same ping-pong driven by mio (edge-triggered). As tokio does, a read
//! shorter than the buffer is taken to mean "drained", so mio pays no extra
//! `read` returning EAGAIN per event.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::pingpong::{complete_messages, std_tcp_pair, MSG, READ_BUF};

const CLIENT: Token = Token(0);
const SERVER: Token = Token(1);

/// Two mio streams in one `Poll`.
pub struct MioPingPong {
    poll: Poll,
    events: Events,
    client: TcpStream,
    server: TcpStream,
}

impl MioPingPong {
    /// Both ends registered READABLE.
    pub fn new() -> io::Result<Self> {
        let (client, server) = std_tcp_pair()?;
        let poll = Poll::new()?;
        let mut client = TcpStream::from_std(client);
        let mut server = TcpStream::from_std(server);
        poll.registry()
            .register(&mut client, CLIENT, Interest::READABLE)?;
        poll.registry()
            .register(&mut server, SERVER, Interest::READABLE)?;
        Ok(MioPingPong {
            poll,
            events: Events::with_capacity(64),
            client,
            server,
        })
    }

    /// Do `rounds` round trips.
    pub fn run(&mut self, rounds: u64) -> io::Result<()> {
        let mut buf = [7u8; READ_BUF];
        let (mut client_partial, mut server_partial) = (0, 0);
        let mut remaining = rounds;
        self.client.write_all(&buf[..MSG])?;
        loop {
            self.poll.poll(&mut self.events, None)?;
            for event in self.events.iter() {
                let client = event.token() == CLIENT;
                let (stream, partial) = if client {
                    (&mut self.client, &mut client_partial)
                } else {
                    (&mut self.server, &mut server_partial)
                };
                // Edge-triggered: read until WouldBlock or a short read.
                loop {
                    let n = match stream.read(&mut buf) {
                        Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    };
                    for _ in 0..complete_messages(partial, n) {
                        if client {
                            remaining -= 1;
                            if remaining == 0 {
                                return Ok(());
                            }
                        }
                        stream.write_all(&buf[..MSG])?;
                    }
                    if n < buf.len() {
                        break;
                    }
                }
            }
        }
    }
}

/// A mio `Poll` with `n` idle registrations (n/2 socket pairs); the
/// streams are returned to keep them open.
pub fn mio_idle(n: usize) -> io::Result<(Poll, Vec<mio::net::UnixStream>)> {
    reactor::net::raise_fd_limit(2 * n as u64 + 1000)?;
    let poll = Poll::new()?;
    let mut streams = Vec::with_capacity(n);
    for i in 0..n / 2 {
        let (a, b) = UnixStream::pair()?;
        for (j, s) in [a, b].into_iter().enumerate() {
            s.set_nonblocking(true)?;
            let mut s = mio::net::UnixStream::from_std(s);
            poll.registry()
                .register(&mut s, Token(2 * i + j), Interest::READABLE)?;
            streams.push(s);
        }
    }
    Ok((poll, streams))
}

/// One `poll` with a zero timeout.
pub fn mio_idle_poll(poll: &mut Poll, events: &mut Events) -> io::Result<usize> {
    poll.poll(events, Some(Duration::ZERO))?;
    Ok(events.iter().count())
}

#[cfg(test)]
mod tests {
    #[test]
    fn mio_pingpong_completes() {
        let mut pp = super::MioPingPong::new().unwrap();
        pp.run(100).unwrap();
        pp.run(100).unwrap();
    }
}
