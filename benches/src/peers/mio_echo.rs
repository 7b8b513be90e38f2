//! An echo server as mio's own examples write one: every socket registered
//! once for READABLE | WRITABLE, edge-triggered, and on each event read
//! until `WouldBlock` (an edge is reported once, so whatever is left unread
//! would never be reported again). Connections live in a `Vec` indexed by
//! token, with a free list (a slab).
//!
//! The policy is ours otherwise: the echo is written at once, an unsent tail
//! is kept, and nothing more is read until the tail is gone (the WRITABLE
//! edge says when).

use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::OwnedFd;

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use sockets::buffers::READ_SIZE;

/// The listener's token; connections use their slot index.
const LISTENER: Token = Token(usize::MAX);

/// One connection: the socket and the unsent tail of its echo.
struct Conn {
    stream: TcpStream,
    owed: Vec<u8>,
}

/// Serves echo on `listener` forever (until a signal kills the process).
pub fn serve(listener: OwnedFd) -> io::Result<()> {
    let mut listener = TcpListener::from_std(std::net::TcpListener::from(listener));
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut conns: Vec<Option<Conn>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut buf = vec![0u8; READ_SIZE];
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                accept_all(&poll, &listener, &mut conns, &mut free);
                continue;
            }
            let slot = event.token().0;
            let Some(conn) = conns[slot].as_mut() else {
                continue; // closed earlier in this batch
            };
            if !matches!(conn.ready(&mut buf), Ok(true)) {
                let mut conn = conns[slot].take().expect("checked above");
                let _ = poll.registry().deregister(&mut conn.stream);
                free.push(slot);
            }
        }
    }
}

/// Accepts until `WouldBlock` (edge-triggered: the listener won't be
/// reported again for connections already waiting).
fn accept_all(
    poll: &Poll,
    listener: &TcpListener,
    conns: &mut Vec<Option<Conn>>,
    free: &mut Vec<usize>,
) {
    loop {
        let mut stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("accept: {e}");
                return;
            }
        };
        let slot = free.pop().unwrap_or_else(|| {
            conns.push(None);
            conns.len() - 1
        });
        let registered = stream.set_nodelay(true).and_then(|()| {
            poll.registry().register(
                &mut stream,
                Token(slot),
                Interest::READABLE | Interest::WRITABLE,
            )
        });
        match registered {
            Ok(()) => {
                conns[slot] = Some(Conn {
                    stream,
                    owed: Vec::new(),
                })
            }
            Err(e) => {
                eprintln!("accept: {e}");
                free.push(slot);
            }
        }
    }
}

impl Conn {
    /// Handles an event: finish the owed tail, then read and echo until
    /// `WouldBlock`. Returns whether to keep the connection.
    fn ready(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        if !self.owed.is_empty() {
            let sent = write_some(&mut self.stream, &self.owed)?;
            if sent < self.owed.len() {
                self.owed.drain(..sent);
                return Ok(true); // the next WRITABLE edge resumes here
            }
            self.owed = Vec::new();
        }
        loop {
            let n = match self.stream.read(buf) {
                Ok(0) => return Ok(false),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let sent = write_some(&mut self.stream, &buf[..n])?;
            if sent < n {
                self.owed.extend_from_slice(&buf[sent..n]);
                return Ok(true);
            }
        }
    }
}

/// Writes until all of `data` is taken or the socket is full.
fn write_some(stream: &mut TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < data.len() {
        match stream.write(&data[sent..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}
