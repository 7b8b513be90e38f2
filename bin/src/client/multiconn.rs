//! The multi-connection client's per-socket state machine: the tutorial's
//! `service_connection` in `multiconn-client.py`.
//!
//! Each connection starts with a non-blocking `connect` (EINPROGRESS) and is
//! registered for READ and WRITE; the loop checks that the connect worked
//! (see [`crate::client`]). Then one message goes out per writable event, as
//! in the tutorial; once all are sent the interest switches to READ, and the
//! connection closes when every byte is back.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use proto::PyBytes as Bytes;
use reactor::Interest;

use crate::buffers::Buffers;
use crate::message::{Message, Next};
use crate::outbox::send_some;
use crate::pyrepr::Addr;
use crate::say::Say;

/// The messages every connection sends, as in the tutorial.
pub const MESSAGES: [&[u8]; 2] = [b"Message 1 from client.", b"Message 2 from client."];

/// One client connection: the tutorial's `types.SimpleNamespace` data.
#[derive(Debug)]
pub struct MulticonnMessage<S> {
    sock: S,
    /// The tutorial's `connid`, from 1.
    connid: usize,
    addr: SocketAddr,
    /// Next message to send, and how much of it is out.
    next_message: usize,
    outb_sent: usize,
    recv_total: usize,
}

impl<S: Read + Write> MulticonnMessage<S> {
    /// Connection `connid` to `addr`, whose non-blocking connect was just
    /// started.
    pub fn new(sock: S, connid: usize, addr: SocketAddr) -> Self {
        MulticonnMessage {
            sock,
            connid,
            addr,
            next_message: 0,
            outb_sent: 0,
            recv_total: 0,
        }
    }

    /// The total the server must echo back (`msg_total`).
    pub fn msg_total() -> usize {
        MESSAGES.iter().map(|m| m.len()).sum()
    }
}

impl<S: Read + Write> Message for MulticonnMessage<S> {
    type Socket = S;

    /// Counts what comes back; every byte back closes the connection.
    fn read(&mut self, bufs: &mut Buffers, say: Say) -> Result<(), String> {
        match self.sock.read(&mut bufs.scratch) {
            Ok(0) => Err(self.failure(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!(
                    "closed by the server after {} of {} bytes",
                    self.recv_total,
                    Self::msg_total()
                ),
            ))),
            Ok(n) => {
                say.event(format_args!(
                    "received {} from connection {}",
                    Bytes(&bufs.scratch[..n]),
                    self.connid
                ));
                self.recv_total += n;
                if self.recv_total >= Self::msg_total() {
                    say.event(format_args!("closing connection {}", self.connid));
                }
                Ok(())
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => Ok(()),
            Err(e) => Err(self.failure(e)),
        }
    }

    /// Sends (the rest of) the next message: one message per event.
    fn write(&mut self, say: Say) -> Result<(), String> {
        let Some(message) = MESSAGES.get(self.next_message) else {
            return Ok(());
        };
        if self.outb_sent == 0 {
            say.event(format_args!(
                "sending {} to connection {}",
                Bytes(message),
                self.connid
            ));
        }
        let sent = send_some(&mut self.sock, &message[self.outb_sent..]);
        self.outb_sent += sent.map_err(|e| self.failure(e))?;
        if self.outb_sent == message.len() {
            self.next_message += 1;
            self.outb_sent = 0;
        }
        Ok(())
    }

    /// READ and WRITE until every message is out, then READ; close once
    /// everything is back.
    fn next(&self) -> Next {
        if self.recv_total >= Self::msg_total() {
            Next::Close
        } else if self.next_message < MESSAGES.len() {
            Next::Wait(Interest::READ_WRITE)
        } else {
            Next::Wait(Interest::READ)
        }
    }

    /// Nothing: the messages are constants, and what comes back is counted,
    /// not kept.
    fn buffered(&self) -> usize {
        0
    }

    fn sock(&self) -> &S {
        &self.sock
    }

    fn describe(&self) -> String {
        format!("connection {} to {}", self.connid, Addr(self.addr))
    }
}
