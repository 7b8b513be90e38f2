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

use proto::PyBytes as Bytes;
use reactor::net::TcpStream;
use reactor::{Interest, Ready};

use super::Serve;
use crate::buffers::Buffers;
use crate::message::{Message, Next};
use crate::outbox::Outbox;
use crate::pyrepr::Addr;
use crate::say::Say;

/// One echo connection: the socket, the peer's address, and what is owed.
#[derive(Debug)]
pub struct EchoMessage<S> {
    sock: S,
    addr: SocketAddr,
    outbox: Outbox,
    peer_closed: bool,
}

impl<S: Read + Write> EchoMessage<S> {
    /// A freshly accepted connection: `sock` is a real `TcpStream`, or a
    /// double in the property tests.
    pub fn new(sock: S, addr: SocketAddr) -> Self {
        EchoMessage {
            sock,
            addr,
            outbox: Outbox::default(),
            peer_closed: false,
        }
    }

    /// Reads into the thread's scratch buffer and echoes what came at once.
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
        if !self.outbox.is_empty() {
            Next::Wait(Interest::WRITE)
        } else if self.peer_closed {
            Next::Close
        } else {
            Next::Wait(Interest::READ)
        }
    }
}

impl<S: Read + Write> Message for EchoMessage<S> {
    type Socket = S;

    fn sock(&self) -> &S {
        &self.sock
    }

    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn describe(&self) -> String {
        format!("connection from {}", Addr(self.addr))
    }

    /// Writes what is owed if writable; reads if readable and nothing is
    /// owed.
    fn process_events(
        &mut self,
        ready: Ready,
        bufs: &mut Buffers,
        say: Say,
    ) -> Result<Next, String> {
        if ready.is_writable() {
            self.write()
                .map_err(|e| format!("{}: {e}", self.describe()))?;
        }
        if ready.is_readable() && self.outbox.is_empty() {
            self.read(&mut bufs.scratch, say)
                .map_err(|e| format!("{}: {e}", self.describe()))?;
        }
        Ok(self.next())
    }

    /// What is owed: at most one read's worth.
    fn buffered(&self) -> usize {
        self.outbox.len()
    }
}

impl Serve for EchoMessage<TcpStream> {
    type Config = ();

    fn accept(sock: TcpStream, addr: SocketAddr, _: &()) -> Self {
        EchoMessage::new(sock, addr)
    }

    /// Stopping: read nothing more, as if the peer had closed, and close
    /// once what is owed is sent.
    fn drain(&mut self) -> Next {
        self.peer_closed = true;
        self.next()
    }
}
