//! Ping-pong of small messages over a loopback TCP pair, both ends in one
//! thread, driven by our [`reactor::EventLoop`]. The mio and bare-epoll
//! versions ([`crate::mio_pingpong`], [`crate::bare_epoll`]) do the same
//! exchange, so the three differ only in the machinery around the syscalls.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use reactor::net::{ListenOptions, TcpStream};
use reactor::{Context, EventLoop, Handler, Interest, Ready, Token};

/// Bytes per message.
pub const MSG: usize = 64;

/// A connected loopback pair (client, server), non-blocking, no Nagle.
pub fn std_tcp_pair() -> io::Result<(std::net::TcpStream, std::net::TcpStream)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let client = std::net::TcpStream::connect(listener.local_addr()?)?;
    let (server, _) = listener.accept()?;
    for s in [&client, &server] {
        s.set_nodelay(true)?;
        s.set_nonblocking(true)?;
    }
    Ok((client, server))
}

/// The same pair as our own [`TcpStream`]s.
pub fn reactor_tcp_pair() -> io::Result<(TcpStream, TcpStream)> {
    let addr: SocketAddr = "127.0.0.1:0".parse().map_err(io::Error::other)?;
    let listener = reactor::net::TcpListener::bind(addr, &ListenOptions::default())?;
    let (client, _) = TcpStream::connect(listener.local_addr()?)?;
    // Loopback: the handshake is done once connect returns; accept may still
    // need a moment on a loaded machine, so poll it (bounded).
    let mut tries = 0;
    let server = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < 1000 => {
                tries += 1;
                std::thread::yield_now();
            }
            Err(e) => return Err(e),
        }
    };
    client.finish_connect()?;
    for s in [&client, &server] {
        s.set_nodelay(true)?;
    }
    Ok((client, server))
}

/// Size of the read buffer: larger than a message, so a read shorter than
/// the buffer tells an edge-triggered driver that the socket is drained.
pub const READ_BUF: usize = 4096;

/// Count the complete messages among `n` newly read bytes; `partial` holds
/// the bytes of an incomplete message across reads.
#[inline]
pub fn complete_messages(partial: &mut usize, n: usize) -> usize {
    *partial += n;
    let messages = *partial / MSG;
    *partial %= MSG;
    messages
}

/// One end of the exchange. The client counts round trips and sends the
/// next ping; the server echoes each message it completes.
pub struct End {
    stream: TcpStream,
    client: bool,
    buf: [u8; READ_BUF],
    partial: usize,
    remaining: u64,
}

impl AsFd for End {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }
}

impl Handler for End {
    #[inline]
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        if !ready.is_readable() {
            return;
        }
        // Level-triggered: one read; anything left is reported again.
        let n = match (&self.stream).read(&mut self.buf) {
            Ok(0) => return cx.close(),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(_) => return cx.close(),
        };
        for _ in 0..complete_messages(&mut self.partial, n) {
            if self.client {
                self.remaining -= 1;
                if self.remaining == 0 {
                    return cx.stop();
                }
            }
            // 64 bytes into an idle loopback socket: never partial.
            if (&self.stream).write_all(&self.buf[..MSG]).is_err() {
                return cx.close();
            }
        }
    }
}

/// The reactor-driven ping-pong.
pub struct ReactorPingPong {
    event_loop: EventLoop<End>,
    client: Token,
}

impl ReactorPingPong {
    /// Both ends registered for READ in one loop.
    pub fn new() -> io::Result<Self> {
        let (client, server) = reactor_tcp_pair()?;
        let mut event_loop = EventLoop::with_capacity(64)?;
        let end = |stream, client| End {
            stream,
            client,
            buf: [7; READ_BUF],
            partial: 0,
            remaining: 0,
        };
        let client = event_loop.register(end(client, true), Interest::READ)?;
        event_loop.register(end(server, false), Interest::READ)?;
        Ok(ReactorPingPong { event_loop, client })
    }

    /// Do `rounds` round trips.
    pub fn run(&mut self, rounds: u64) -> io::Result<()> {
        let client = self
            .event_loop
            .get_mut(self.client)
            .ok_or_else(|| io::Error::other("client closed"))?;
        client.remaining = rounds;
        (&client.stream).write_all(&client.buf[..MSG])?;
        self.event_loop.run()
    }
}

/// A handler that never expects an event: for the idle-select benchmark.
pub struct Idle(pub UnixStream);

impl AsFd for Idle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Handler for Idle {
    fn process_events(&mut self, _cx: &mut Context<'_, Self>, _ready: Ready) {}
}

/// A loop with `n` idle registrations (n/2 socket pairs), each with an idle
/// deadline an hour away.
pub fn idle_reactor(n: usize) -> io::Result<EventLoop<Idle>> {
    reactor::net::raise_fd_limit(2 * n as u64 + 1000)?;
    let mut event_loop = EventLoop::with_capacity(1024)?;
    let deadline = std::time::Instant::now() + Duration::from_secs(3600);
    for _ in 0..n / 2 {
        let (a, b) = UnixStream::pair()?;
        for s in [a, b] {
            let token = event_loop.register(Idle(s), Interest::READ)?;
            event_loop.set_deadline_of(token, Some(deadline));
        }
    }
    Ok(event_loop)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reactor_pingpong_completes() {
        let mut pp = super::ReactorPingPong::new().unwrap();
        pp.run(100).unwrap();
        pp.run(100).unwrap();
    }
}
