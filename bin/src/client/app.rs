//! The app client's per-socket state machine: the tutorial's
//! `libclient.Message`.
//!
//! The loop checks that the non-blocking connect worked (see
//! [`crate::client`]). At the first writable event `write` queues the
//! request (`queue_request`) and sends it, and once it is all out the
//! interest switches to READ. `read` feeds the sans-IO decoder, which runs
//! the three stages; `process_response` prints each answer, and the
//! connection closes once every answer is in.

use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;

use proto::{BufferedDecoder, PyBytes, Response, Value};
use reactor::Interest;

use crate::buffers::Buffers;
use crate::message::{Message, Next};
use crate::outbox::send_some;
use crate::pyrepr::Addr;
use crate::say::{self, Say};

/// One request (sent `repeat` times, pipelined) and its answers.
#[derive(Debug)]
pub struct ClientMessage<S> {
    sock: S,
    addr: SocketAddr,
    /// What to ask (the tutorial's `request`): ACTION and VALUE.
    action: String,
    value: String,
    repeat: usize,
    /// The tutorial's `_request_queued`.
    request_queued: bool,
    /// One request's bytes, once queued.
    request: Vec<u8>,
    /// Bytes of the `repeat` copies sent so far.
    sent: usize,
    responses: BufferedDecoder,
    answered: usize,
}

impl<S: Read + Write> ClientMessage<S> {
    /// A connection whose connect was just started, to ask ACTION and
    /// VALUE `repeat` times.
    pub fn new(sock: S, addr: SocketAddr, action: &str, value: &str, repeat: usize) -> Self {
        ClientMessage {
            sock,
            addr,
            action: action.to_owned(),
            value: value.to_owned(),
            repeat,
            request_queued: false,
            request: Vec::new(),
            sent: 0,
            responses: BufferedDecoder::new(),
            answered: 0,
        }
    }

    /// Encodes the request (`proto::create_request`: a JSON search for
    /// `search`, a binary one otherwise) for `write` to send.
    fn queue_request(&mut self) {
        proto::create_request(&mut self.request, &self.action, &self.value);
        self.request_queued = true;
    }

    /// Bytes of all `repeat` copies of the request.
    fn total(&self) -> usize {
        self.request.len() * self.repeat
    }

    /// The content stage: prints one response from `addr` as the
    /// tutorial's client does.
    fn process_response(
        response: &proto::Frame<'_>,
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
            if let Response::Result(result) = reply {
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
}

impl<S: Read + Write> Message for ClientMessage<S> {
    type Socket = S;

    /// Reads what arrived and answers each whole response; every answer in
    /// closes the connection.
    fn read(&mut self, _: &mut Buffers, say: Say) -> Result<(), String> {
        match self.responses.read_from(&mut self.sock) {
            Ok(0) => {
                return Err(format!(
                    "{} closed by the server before {} arrived",
                    self.describe(),
                    if self.repeat == 1 {
                        "the answer".to_string()
                    } else {
                        format!("all answers ({} of {})", self.answered, self.repeat)
                    }
                ))
            }
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Ok(())
            }
            Err(e) => return Err(self.failure(e)),
        }
        let addr = self.addr;
        let bad = |e: proto::Error| format!("bad response from {}: {e}", Addr(addr));
        while let Some(response) = self.responses.next_frame().map_err(bad)? {
            // An associated function, not a method: `response` borrows the
            // decoder.
            Self::process_response(&response, addr, say).map_err(bad)?;
            self.answered += 1;
        }
        if self.answered >= self.repeat {
            say.event(format_args!("closing connection to {}", Addr(addr)));
        }
        Ok(())
    }

    /// Queues the request the first time (the tutorial's
    /// `queue_request`), then sends what the kernel takes of its copies.
    fn write(&mut self, say: Say) -> Result<(), String> {
        if !self.request_queued {
            self.queue_request();
        }
        while self.sent < self.total() {
            let offset = self.sent % self.request.len();
            if offset == 0 {
                say.event(format_args!(
                    "sending {} to {}",
                    PyBytes(&self.request),
                    Addr(self.addr)
                ));
            }
            let sent = send_some(&mut self.sock, &self.request[offset..]);
            let n = sent.map_err(|e| self.failure(e))?;
            self.sent += n;
            if n < self.request.len() - offset {
                break; // the kernel's buffer is full: wait for WRITE
            }
        }
        Ok(())
    }

    /// READ and WRITE until the request is out, then READ (the tutorial's
    /// `_set_selector_events_mask("r")`); close once every answer is in.
    fn next(&self) -> Next {
        if self.answered >= self.repeat {
            Next::Close
        } else if self.request_queued && self.sent == self.total() {
            Next::Wait(Interest::READ)
        } else {
            Next::Wait(Interest::READ_WRITE)
        }
    }

    /// The request and the start of an answer not yet whole (the
    /// decoder's own buffer: answers are small).
    fn buffered(&self) -> usize {
        self.request.len() + self.responses.pending().len()
    }

    fn sock(&self) -> &S {
        &self.sock
    }

    fn describe(&self) -> String {
        format!("connection to {}", Addr(self.addr))
    }
}
