//! The echo server's per-connection state machine: the tutorial's
//! `service_connection` in `multiconn-server.py`, as a `Message` of its own.
//!
//! It differs from the tutorial where the tutorial is wrong for a real
//! server: WRITE interest is asked for only while bytes are owed (the
//! tutorial keeps it always and spins at full CPU), and nothing more is read
//! while bytes are owed, so a peer that sends and never reads fills its own
//! kernel buffers instead of our memory.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use reactor::Interest;

use crate::conn::{Mask, Next};
use crate::outbox::Outbox;
use proto::PyBytes as Bytes;

use crate::pyrepr::Addr;
use crate::say::{self, Say};

/// One echo connection: the socket, the peer's address, and what is owed.
#[derive(Debug)]
pub struct EchoMessage<S> {
    /// The connected socket (a real `TcpStream`, or a double in tests).
    pub sock: S,
    /// The peer's address, for the output lines.
    pub addr: SocketAddr,
    outbox: Outbox,
    peer_closed: bool,
}

impl<S: Read + Write> EchoMessage<S> {
    /// A freshly accepted connection.
    pub fn new(sock: S, addr: SocketAddr) -> Self {
        EchoMessage {
            sock,
            addr,
            outbox: Outbox::default(),
            peer_closed: false,
        }
    }

    /// Handles one readiness event; `scratch` is the event loop's shared
    /// read buffer, so an idle connection holds none of its own.
    pub fn process_events(&mut self, mask: Mask, scratch: &mut [u8], say: Say) -> Next {
        let step = (|| {
            if mask.write {
                self.write()?;
            }
            if mask.read && self.outbox.is_empty() {
                self.read(scratch, say)?;
            }
            io::Result::Ok(())
        })();
        match step {
            Ok(()) => self.next(),
            Err(e) => {
                say::error(format_args!("connection from {}: {e}", Addr(self.addr)));
                Next::Close
            }
        }
    }

    /// Whether bytes received are still owed to the peer.
    pub fn owes(&self) -> bool {
        !self.outbox.is_empty()
    }

    fn read(&mut self, scratch: &mut [u8], say: Say) -> io::Result<()> {
        match self.sock.read(scratch) {
            Ok(0) => self.peer_closed = true,
            Ok(n) => {
                let data = &scratch[..n];
                say.event(format_args!(
                    "echoing {} to {}",
                    Bytes(data),
                    Addr(self.addr)
                ));
                self.outbox.send(&mut self.sock, data)?;
            }
            // Spurious readiness or a signal: level-triggered, so we will be
            // told again if there is something to read.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    fn write(&mut self) -> io::Result<()> {
        self.outbox.flush(&mut self.sock).map(drop)
    }

    /// The interest switch: WRITE while bytes are owed (and nothing more is
    /// read until they are sent), READ otherwise; close once the peer has
    /// closed its side and everything it sent is back.
    fn next(&self) -> Next {
        if self.owes() {
            Next::Wait(Interest::WRITE)
        } else if self.peer_closed {
            Next::Close
        } else {
            Next::Wait(Interest::READ)
        }
    }
}

impl super::Connection for EchoMessage<reactor::net::TcpStream> {
    type Config = ();
    const INITIAL: Interest = Interest::READ;

    fn accept(sock: reactor::net::TcpStream, addr: SocketAddr, _: &()) -> Self {
        EchoMessage::new(sock, addr)
    }
    fn sock(&self) -> &reactor::net::TcpStream {
        &self.sock
    }
    fn addr(&self) -> SocketAddr {
        self.addr
    }
    fn process_events(&mut self, mask: Mask, bufs: &mut crate::buffers::Buffers, say: Say) -> Next {
        EchoMessage::process_events(self, mask, &mut bufs.scratch, say)
    }
    fn drain(&mut self) -> Next {
        self.peer_closed = true;
        self.next()
    }
}
