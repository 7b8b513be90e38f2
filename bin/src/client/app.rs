//! The app client's per-socket state machine: the tutorial's
//! `libclient.Message`.
//!
//! The request is queued at creation (the tutorial's `queue_request`); the
//! first writable event says the non-blocking connect finished, `write`
//! sends the request, and the interest switches to READ. `read` feeds the
//! sans-IO decoder, which runs the three stages; `process_response` prints
//! the answer, and the connection closes once every answer is in.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use proto::{BufferedDecoder, PyBytes, Reply, Value};
use reactor::Interest;

use crate::conn::{connect_failure, Connect, Mask, Next};
use crate::outbox::send_some;
use crate::pyrepr::Addr;
use crate::say::{self, Say};

/// One request (sent `repeat` times, pipelined) and its answers.
#[derive(Debug)]
pub struct ClientMessage<S> {
    /// The socket, connecting or connected.
    pub sock: S,
    /// The server's address.
    pub addr: SocketAddr,
    /// One request's bytes.
    request: Vec<u8>,
    repeat: usize,
    /// Bytes of the `repeat` copies sent so far.
    sent: usize,
    responses: BufferedDecoder,
    answered: usize,
    connected: bool,
}

impl<S: Read + Write + Connect> ClientMessage<S> {
    /// Interest while the connect is under way: WRITE says it finished.
    pub const INITIAL: Interest = Interest::READ_WRITE;

    /// A connection whose connect was just started, with the request for
    /// ACTION and VALUE queued `repeat` times.
    pub fn new(sock: S, addr: SocketAddr, action: &str, value: &str, repeat: usize) -> Self {
        let mut request = Vec::new();
        proto::create_request(&mut request, action, value);
        ClientMessage {
            sock,
            addr,
            request,
            repeat,
            sent: 0,
            responses: BufferedDecoder::new(),
            answered: 0,
            connected: false,
        }
    }

    /// Handles one readiness event. An `Err` is the reason the request
    /// failed, phrased for an `error:` line.
    pub fn process_events(&mut self, mask: Mask, say: Say) -> Result<Next, String> {
        if !self.connected {
            self.sock
                .connect_result()
                .map_err(|e| connect_failure(&format!("connection to {}", Addr(self.addr)), &e))?;
            self.connected = true;
        }
        if mask.write {
            self.write(say).map_err(|e| self.failure(e))?;
        }
        if mask.read {
            if let Some(next) = self.read(say)? {
                return Ok(next);
            }
        }
        // The interest switch: once the request is out, only answers matter.
        Ok(Next::Wait(if self.sent < self.total() {
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

    fn total(&self) -> usize {
        self.request.len() * self.repeat
    }

    fn failure(&self, e: io::Error) -> String {
        format!("connection to {}: {e}", Addr(self.addr))
    }

    fn write(&mut self, say: Say) -> io::Result<()> {
        while self.sent < self.total() {
            let offset = self.sent % self.request.len();
            if offset == 0 {
                say.event(format_args!(
                    "sending {} to {}",
                    PyBytes(&self.request),
                    Addr(self.addr)
                ));
            }
            let n = send_some(&mut self.sock, &self.request[offset..])?;
            self.sent += n;
            if n < self.request.len() - offset {
                break; // the kernel's buffer is full: wait for WRITE
            }
        }
        Ok(())
    }

    fn read(&mut self, say: Say) -> Result<Option<Next>, String> {
        match self.responses.read_from(&mut self.sock) {
            Ok(0) => {
                return Err(format!(
                    "connection to {} closed by the server before {} arrived",
                    Addr(self.addr),
                    if self.repeat == 1 {
                        "the answer".to_string()
                    } else {
                        format!("all answers ({} of {})", self.answered, self.repeat)
                    }
                ))
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Ok(None)
            }
            Err(e) => return Err(self.failure(e)),
        }
        let addr = self.addr;
        let bad = |e: proto::Error| format!("bad response from {}: {e}", Addr(addr));
        while let Some(response) = self.responses.next_message().map_err(bad)? {
            process_response(&response, addr, say).map_err(bad)?;
            self.answered += 1;
        }
        if self.answered >= self.repeat {
            say.event(format_args!("closing connection to {}", Addr(addr)));
            return Ok(Some(Next::Close));
        }
        Ok(None)
    }
}

/// Prints one response as the tutorial's client does.
fn process_response(
    response: &proto::Message<'_>,
    addr: SocketAddr,
    say: Say,
) -> Result<(), proto::Error> {
    if response.header.is_json() {
        let reply = proto::process_response(response)?;
        if !say.quiet {
            // The whole document, as Python prints the decoded dict.
            if let Ok(json) = Value::parse(response.content) {
                say::always(format_args!("received response {json} from {}", Addr(addr)));
            }
        }
        if let Reply::Result(result) = reply {
            say::always(format_args!("got result: {result}"));
        }
    } else {
        say.event(format_args!(
            "received {} response from {}",
            response.header.content_type,
            Addr(addr)
        ));
        say::always(format_args!("got response: {}", PyBytes(response.content)));
    }
    Ok(())
}
