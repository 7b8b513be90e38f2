//! The echo server's per-connection state machine: the tutorial's
//! `service_connection` in `multiconn-server.py`, as a `Message` of its own.
//!
//! It differs from the tutorial where the tutorial is wrong for a real
//! server: WRITE interest is asked for only while bytes are owed (the
//! tutorial keeps it always and spins at full CPU), and nothing more is read
//! while bytes are owed, so a peer that sends and never reads fills its own
//! kernel buffers instead of our memory.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use proto::PyBytes as Bytes;
use reactor::net::TcpStream;
use reactor::Interest;

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
}

impl<S: Read + Write> Message for EchoMessage<S> {
    type Socket = S;

    /// Reads into the thread's scratch buffer and echoes what came at once;
    /// reads nothing while bytes are owed.
    fn read(&mut self, bufs: &mut Buffers, say: Say) -> Result<(), String> {
        if !self.outbox.is_empty() {
            return Ok(());
        }
        match self.sock.read(&mut bufs.scratch) {
            Ok(0) => self.peer_closed = true,
            Ok(n) => {
                let data = &bufs.scratch[..n];
                say.event(format_args!(
                    "echoing {} to {}",
                    Bytes(data),
                    Addr(self.addr)
                ));
                let sent = self.outbox.send(&mut self.sock, data);
                sent.map_err(|e| self.failure(e))?;
            }
            // Spurious readiness or a signal: level-triggered, so we will be
            // told again if there is something to read.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
            Err(e) => return Err(self.failure(e)),
        }
        Ok(())
    }

    fn write(&mut self, _: Say) -> Result<(), String> {
        let flushed = self.outbox.flush(&mut self.sock);
        flushed.map(drop).map_err(|e| self.failure(e))
    }

    /// WRITE while bytes are owed (and nothing more is read until they are
    /// sent), READ otherwise; close once the peer has closed its side and
    /// everything it sent is back.
    fn next(&self) -> Next {
        self.outbox.next(self.peer_closed, Interest::READ)
    }

    /// What is owed: at most one read's worth.
    fn buffered(&self) -> usize {
        self.outbox.len()
    }

    fn sock(&self) -> &S {
        &self.sock
    }

    fn describe(&self) -> String {
        format!("connection from {}", Addr(self.addr))
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
