//! The multi-connection client's per-socket state machine: the tutorial's
//! `service_connection` in `multiconn-client.py`.
//!
//! Each connection starts with a non-blocking `connect` (EINPROGRESS) and is
//! registered for READ and WRITE. The first writable event says the connect
//! finished: `SO_ERROR` tells whether it worked. Then one message goes out
//! per writable event, as in the tutorial; once all are sent the interest
//! switches to READ, and the connection closes when every byte is back.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use reactor::Interest;

use crate::conn::{connect_failure, Connect, Mask, Next};
use crate::outbox::send_some;
use proto::PyBytes as Bytes;

use crate::pyrepr::Addr;
use crate::say::Say;

/// The messages every connection sends, as in the tutorial.
pub const MESSAGES: [&[u8]; 2] = [b"Message 1 from client.", b"Message 2 from client."];

/// One client connection: the tutorial's `types.SimpleNamespace` data.
#[derive(Debug)]
pub struct MulticonnMessage<S> {
    /// The socket, connecting or connected.
    pub sock: S,
    /// The tutorial's `connid`, from 1.
    pub connid: usize,
    /// The server's address.
    pub addr: SocketAddr,
    connected: bool,
    /// Next message to send, and how much of it is out.
    next_message: usize,
    outb_sent: usize,
    recv_total: usize,
}

impl<S: Read + Write + Connect> MulticonnMessage<S> {
    /// Interest for a connection whose connect is under way: WRITE says it
    /// finished, READ too as in the tutorial.
    pub const INITIAL: Interest = Interest::READ_WRITE;

    /// A connection whose non-blocking connect was just started.
    pub fn new(sock: S, connid: usize, addr: SocketAddr) -> Self {
        MulticonnMessage {
            sock,
            connid,
            addr,
            connected: false,
            next_message: 0,
            outb_sent: 0,
            recv_total: 0,
        }
    }

    /// The total the server must echo back (`msg_total`).
    pub fn msg_total() -> usize {
        MESSAGES.iter().map(|m| m.len()).sum()
    }

    /// Handles one readiness event. An `Err` is the reason the connection
    /// failed, already phrased for an `error:` line.
    pub fn process_events(
        &mut self,
        mask: Mask,
        scratch: &mut [u8],
        say: Say,
    ) -> Result<Next, String> {
        if mask.write || !self.connected {
            if !self.connected {
                // Readiness of any kind while connecting means the connect
                // finished, one way or the other.
                self.sock.connect_result().map_err(|e| {
                    connect_failure(
                        &format!("connection {} to {}", self.connid, Addr(self.addr)),
                        &e,
                    )
                })?;
                self.connected = true;
            }
            if mask.write {
                self.write(say).map_err(|e| self.failure(e))?;
            }
        }
        if mask.read {
            if let Some(next) = self.read(scratch, say).map_err(|e| self.failure(e))? {
                return Ok(next);
            }
        }
        Ok(Next::Wait(if self.next_message < MESSAGES.len() {
            Interest::READ_WRITE
        } else {
            Interest::READ
        }))
    }

    /// Whether the connect succeeded: an error before it is the connect's,
    /// and the loop may try the server's next address.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    fn failure(&self, e: io::Error) -> String {
        format!("connection {} to {}: {e}", self.connid, Addr(self.addr))
    }

    /// Sends (the rest of) the next message: one message per event.
    fn write(&mut self, say: Say) -> io::Result<()> {
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
        self.outb_sent += send_some(&mut self.sock, &message[self.outb_sent..])?;
        if self.outb_sent == message.len() {
            self.next_message += 1;
            self.outb_sent = 0;
        }
        Ok(())
    }

    /// Reads what arrived; `Some(Close)` once everything is back.
    fn read(&mut self, scratch: &mut [u8], say: Say) -> io::Result<Option<Next>> {
        match self.sock.read(scratch) {
            Ok(0) => Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!(
                    "closed by the server after {} of {} bytes",
                    self.recv_total,
                    Self::msg_total()
                ),
            )),
            Ok(n) => {
                say.event(format_args!(
                    "received {} from connection {}",
                    Bytes(&scratch[..n]),
                    self.connid
                ));
                self.recv_total += n;
                if self.recv_total >= Self::msg_total() {
                    say.event(format_args!("closing connection {}", self.connid));
                    return Ok(Some(Next::Close));
                }
                Ok(None)
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}
