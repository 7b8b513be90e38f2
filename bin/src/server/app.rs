//! The app server's per-connection state machine: the tutorial's
//! `libserver.Message`.
//!
//! `process_events` reads or writes as the mask says. `read` hands what
//! arrived to the sans-IO decoder, which runs the tutorial's three stages
//! (`process_protoheader`, `process_jsonheader`, the content); each whole
//! request is answered by `create_response` and the answer is written at
//! once. Unlike the tutorial's server, the connection stays open for the
//! next request, and requests pipelined in one read are all answered, in
//! order, with one `send`.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use proto::{Decoder, PyBytes, Status, Value};
use reactor::net::TcpStream;
use reactor::Interest;

use super::Serve;
use crate::budget::{with_budget, Share};
use crate::buffers::{Buffers, READ_SIZE};
use crate::message::{Message, Next};
use crate::outbox::Outbox;
use crate::pyrepr::Addr;
use crate::say::{self, Say};

/// One app connection: the socket, the decoder's stage, and what is owed.
#[derive(Debug)]
pub struct ServerMessage<S> {
    sock: S,
    addr: SocketAddr,
    decoder: Decoder,
    /// The start of a request whose rest has not arrived (the tutorial's
    /// `_recv_buffer`); empty, and unallocated, between requests.
    partial: Vec<u8>,
    /// How many more bytes the decoder's current stage needs (its
    /// `NeedMore`): under budget pressure a read takes no more than that.
    needed: usize,
    /// Requests completed on this connection: the number of the next one.
    requests: u64,
    /// What the partial request holds of the worker's `--max-buffered-bytes`.
    share: Share,
    /// Waiting for room in the budget: not read until there is.
    parked: bool,
    outbox: Outbox,
    /// No more reading: the peer closed its side, the framing broke, or the
    /// server is shutting down. Close once nothing is owed.
    done_reading: bool,
}

impl<S: Read + Write> ServerMessage<S> {
    /// A freshly accepted connection: `sock` is a real `TcpStream`, or a
    /// double in the property tests; `max_content_length` is the largest
    /// request content accepted.
    pub fn new(sock: S, addr: SocketAddr, max_content_length: usize) -> Self {
        ServerMessage {
            sock,
            addr,
            decoder: Decoder::with_max_content_length(max_content_length),
            partial: Vec::new(),
            needed: 2,
            requests: 0,
            share: Share::default(),
            parked: false,
            outbox: Outbox::default(),
            done_reading: false,
        }
    }

    /// How many bytes the next read may take. With room in the budget, a
    /// read's worth. Without, no byte of a request's content is read before
    /// its whole length is admitted: a request whose length is known and
    /// not admitted is not read at all (it is parked), and one whose length
    /// is not known yet is read only up to the end of its current header
    /// stage (the 2-byte length, then the JSON header). So every parked
    /// connection waits in the content stage, for a length the budget can
    /// admit, and the bytes held before that are at most one header each.
    fn read_len(&self) -> usize {
        with_budget(|budget| {
            let free = budget.free();
            if self.share.is_admitted() {
                // The rest of this request, and what fits after it.
                self.needed.saturating_add(free).min(READ_SIZE)
            } else if self.decoder.frame_len().is_some() {
                0
            } else if free >= READ_SIZE {
                READ_SIZE
            } else {
                // 2 between requests, the rest of the stage within one.
                self.needed.clamp(1, READ_SIZE)
            }
        })
    }

    /// One `recv` (the tutorial's `_read`), then every whole request it
    /// completes is answered: the tutorial's three stages, in the decoder.
    fn read_requests(&mut self, bufs: &mut Buffers, say: Say) -> io::Result<()> {
        let len = self.read_len();
        if len == 0 {
            self.parked = true;
            return Ok(());
        }
        let n = match self.sock.read(&mut bufs.scratch[..len]) {
            Ok(0) => {
                if !self.partial.is_empty() || !self.decoder.is_idle() {
                    say::error(format_args!(
                        "connection from {} closed in the middle of a request",
                        Addr(self.addr)
                    ));
                }
                self.done_reading = true;
                return Ok(());
            }
            Ok(n) => n,
            // Spurious readiness or a signal: level-triggered, so we will be
            // told again if there is something to read.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        bufs.out.clear();
        let completed = if self.partial.is_empty() {
            // The common case: whole requests straight from the scratch
            // buffer; only a trailing partial one is copied.
            let used = self.process_requests(&bufs.scratch[..n], &mut bufs.out, say);
            self.partial.extend_from_slice(&bufs.scratch[used..n]);
            used > 0
        } else {
            self.partial.extend_from_slice(&bufs.scratch[..n]);
            let partial = std::mem::take(&mut self.partial);
            let used = self.process_requests(&partial, &mut bufs.out, say);
            self.partial = partial;
            self.partial.drain(..used);
            if self.partial.is_empty() {
                self.partial = Vec::new(); // freed: idle connections hold nothing
            }
            used > 0
        };
        if self.done_reading {
            // A framing error: the rest of the stream is meaningless.
            self.partial = Vec::new();
        }
        self.account(completed);
        self.outbox.send(&mut self.sock, &bufs.out)
    }

    /// Brings the budget share up to date after a read (`completed`: the
    /// read finished the request the share was for): nothing held between
    /// requests; once a request's length is known, its whole length (or
    /// park until it fits); before that, the bytes held.
    fn account(&mut self, completed: bool) {
        with_budget(|budget| {
            if completed || self.partial.is_empty() {
                budget.release(&mut self.share);
            }
            if self.partial.is_empty() || self.share.is_admitted() {
                return;
            }
            let held = self.partial.len().saturating_sub(self.share.bytes());
            budget.take(&mut self.share, held);
            if let Some(len) = self.decoder.frame_len() {
                self.parked = !budget.admit(&mut self.share, len);
                if !self.parked {
                    // One allocation of the right size: no doubling past it.
                    self.partial.reserve_exact(len - self.partial.len());
                }
            }
        });
    }

    /// Decodes and answers every whole request at the start of `buf`,
    /// appending the answers to `out`; returns how many bytes were used.
    fn process_requests(&mut self, buf: &[u8], out: &mut Vec<u8>, say: Say) -> usize {
        let mut used = 0;
        loop {
            match self.decoder.decode(&buf[used..]) {
                Ok(Status::NeedMore { needed }) => {
                    self.needed = needed;
                    return used;
                }
                Ok(Status::Complete { frame, consumed }) => {
                    used += consumed;
                    self.requests += 1;
                    self.process_request(&frame, out, say);
                }
                Err(e) => {
                    // Broken framing can't be resynchronised: answer what
                    // came before it, then close.
                    say::error(format_args!(
                        "bad request from {}: {e}; closing the connection",
                        Addr(self.addr)
                    ));
                    self.done_reading = true;
                    return buf.len();
                }
            }
        }
    }

    /// The content stage: one whole request, answered into `out`.
    fn process_request(&mut self, request: &proto::Frame<'_>, out: &mut Vec<u8>, say: Say) {
        if !say.quiet {
            self.print_request(request);
        }
        let start = out.len();
        proto::create_response(request, out);
        say.event(format_args!(
            "sending {} to {}",
            PyBytes(&out[start..]),
            Addr(self.addr)
        ));
    }

    fn print_request(&self, request: &proto::Frame<'_>) {
        let addr = Addr(self.addr);
        if !request.header.is_json() {
            say::always(format_args!(
                "received {} request from {addr}",
                request.header.content_type
            ));
            return;
        }
        match Value::parse(request.content) {
            Ok(json) => say::always(format_args!("received request {json} from {addr}")),
            Err(_) => say::always(format_args!(
                "received request {} from {addr}",
                PyBytes(request.content)
            )),
        }
    }
}

/// What every app connection shares.
#[derive(Debug, Clone, Copy)]
pub struct AppConfig {
    /// `--max-content-length`: the largest request content accepted.
    pub max_content_length: usize,
    /// `--request-timeout`: how long a begun request may take to arrive.
    pub request_timeout: Option<Duration>,
    /// `--max-buffered-bytes`: all partial requests together, per process.
    pub max_buffered_bytes: usize,
}

impl<S: Read + Write> Message for ServerMessage<S> {
    type Socket = S;

    /// Reads requests and answers them, unless answers are owed or reading
    /// is over: a peer that pipelines and never reads fills its own
    /// buffers, not ours.
    fn read(&mut self, bufs: &mut Buffers, say: Say) -> Result<(), String> {
        if self.outbox.is_empty() && !self.done_reading {
            let read = self.read_requests(bufs, say);
            read.map_err(|e| self.failure(e))?;
        }
        Ok(())
    }

    /// The tutorial's `_write`: what the kernel takes of the answers owed.
    fn write(&mut self, _: Say) -> Result<(), String> {
        let flushed = self.outbox.flush(&mut self.sock);
        flushed.map(drop).map_err(|e| self.failure(e))
    }

    /// WRITE while answers are owed, READ otherwise (NONE while parked);
    /// close once reading is over and nothing is owed.
    fn next(&self) -> Next {
        let then = if self.parked {
            Interest::NONE
        } else {
            Interest::READ
        };
        self.outbox.next(self.done_reading, then)
    }

    /// A partial request and unsent answers: bounded by one request plus
    /// one read's answers.
    fn buffered(&self) -> usize {
        self.partial.len() + self.outbox.len()
    }

    fn sock(&self) -> &S {
        &self.sock
    }

    fn describe(&self) -> String {
        format!("connection from {}", Addr(self.addr))
    }
}

impl Serve for ServerMessage<TcpStream> {
    type Config = AppConfig;

    fn accept(sock: TcpStream, addr: SocketAddr, config: &AppConfig) -> Self {
        ServerMessage::new(sock, addr, config.max_content_length)
    }

    /// Stopping: read nothing more, finish the answers owed, close.
    fn drain(&mut self) -> Next {
        self.done_reading = true;
        self.next()
    }

    /// The request that has begun to arrive and is not complete yet (what
    /// `--request-timeout` times), by its number on this connection.
    fn request_under_way(&self) -> Option<u64> {
        (!self.partial.is_empty()).then_some(self.requests)
    }

    /// Closing: the partial request will not be answered; its bytes and
    /// its share of the budget go now, not when the lingering ends.
    fn abandon(&mut self) {
        with_budget(|budget| budget.release(&mut self.share));
        self.partial = Vec::new();
        self.parked = false;
    }

    /// Whether the connection waits for room in the budget (and so is not
    /// read, and not timed: the wait is the server's, not the peer's).
    fn parked(&self) -> bool {
        self.parked
    }

    /// Room was freed: take it if the partial request now fits, and read
    /// again.
    fn unpark(&mut self) -> Option<Next> {
        // Only a request whose length is known is ever parked.
        self.parked = !with_budget(|budget| match self.decoder.frame_len() {
            Some(len) => budget.admit(&mut self.share, len),
            None => true,
        });
        if let (false, Some(len)) = (self.parked, self.decoder.frame_len()) {
            self.partial
                .reserve_exact(len.saturating_sub(self.partial.len()));
        }
        (!self.parked).then(|| self.next())
    }

    fn request_timeout(config: &AppConfig) -> Option<Duration> {
        config.request_timeout
    }

    fn max_buffered_bytes(config: &AppConfig) -> usize {
        config.max_buffered_bytes
    }
}
