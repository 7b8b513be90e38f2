//! The one benchmark client for every server: N connections, each keeping
//! up to `depth` requests in flight, every byte that comes back checked.
//!
//! A [`Workload`] is one request and the exact answer it must get (for echo,
//! the request itself), so the client never parses: a connection's incoming
//! stream must equal the answer repeated, byte for byte. That makes it
//! cheap enough not to favour any server, and strict: a lost, extra,
//! reordered or corrupted byte is an error.
//!
//! [`Client::run`] sends and receives exactly `k` messages spread over the
//! connections, and returns once every answer is in, so the connections are
//! quiet between runs and the next run starts from a message boundary. It
//! runs on mio, edge-triggered, in the calling thread; no wait is unbounded.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// Bytes read per `read`.
const READ_SIZE: usize = 64 * 1024;

/// A run fails if no byte arrives for this long.
const STALL: Duration = Duration::from_secs(10);

/// One request and the answer it must get.
#[derive(Debug, Clone)]
pub struct Workload {
    /// The bytes sent per message.
    pub request: Vec<u8>,
    /// The bytes that must come back per message.
    pub answer: Vec<u8>,
}

impl Workload {
    /// Echo of `size`-byte messages. The bytes vary along the message (a
    /// period of 251, prime, so no message size is a multiple of it), so a
    /// shifted or spliced stream does not pass the check.
    pub fn echo(size: usize) -> Workload {
        let message: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        Workload {
            request: message.clone(),
            answer: message,
        }
    }

    /// The search service: `ACTION VALUE` requests (a JSON search for
    /// `search`), each answer computed once here by `proto` itself.
    pub fn app(action: &str, value: &str) -> Workload {
        let mut request = Vec::new();
        proto::create_request(&mut request, action, value);
        let mut decoder = proto::Decoder::new();
        let mut answer = Vec::new();
        match decoder.decode(&request) {
            Ok(proto::Status::Complete { frame, .. }) => {
                proto::create_response(&frame, &mut answer)
            }
            other => panic!("our own request does not decode: {other:?}"),
        }
        Workload { request, answer }
    }
}

/// One connection's progress in the current run, in bytes of its streams.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    /// Messages this connection does in this run.
    quota: u64,
    sent: u64,
    received: u64,
}

/// N connections to one server, and the buffers to drive them.
#[derive(Debug)]
pub struct Client {
    poll: Poll,
    events: Events,
    conns: Vec<Conn>,
    plan: Plan,
    buf: Vec<u8>,
}

/// What every connection sends and must receive.
#[derive(Debug)]
struct Plan {
    depth: u64,
    request_len: u64,
    answer_len: u64,
    /// The request repeated `depth + 1` times: any window of up to `depth`
    /// requests, starting anywhere in the first, is one contiguous slice.
    requests: Vec<u8>,
    /// The answer repeated to cover a whole read from any starting offset.
    answers: Vec<u8>,
}

impl Client {
    /// Opens `conns` connections to `addr` (`TCP_NODELAY`, non-blocking).
    pub fn connect(
        addr: SocketAddr,
        conns: usize,
        depth: usize,
        workload: &Workload,
    ) -> io::Result<Client> {
        assert!(
            conns > 0 && depth > 0,
            "at least one connection and depth 1"
        );
        let poll = Poll::new()?;
        let mut streams = Vec::with_capacity(conns);
        for i in 0..conns {
            // On loopback a connect completes or is refused at once; the
            // timeout only bounds the wait on a saturated backlog.
            let std = std::net::TcpStream::connect_timeout(&addr, STALL)?;
            std.set_nodelay(true)?;
            std.set_nonblocking(true)?;
            let mut stream = TcpStream::from_std(std);
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            streams.push(Conn {
                stream,
                quota: 0,
                sent: 0,
                received: 0,
            });
        }
        let answer_copies = READ_SIZE.div_ceil(workload.answer.len()) + 1;
        Ok(Client {
            poll,
            events: Events::with_capacity(1024),
            conns: streams,
            plan: Plan {
                depth: depth as u64,
                request_len: workload.request.len() as u64,
                answer_len: workload.answer.len() as u64,
                requests: workload.request.repeat(depth + 1),
                answers: workload.answer.repeat(answer_copies),
            },
            buf: vec![0; READ_SIZE],
        })
    }

    /// Sends `k` messages (spread evenly over the connections) and waits
    /// for every answer, checking each byte.
    pub fn run(&mut self, k: u64) -> io::Result<()> {
        // Disjoint borrows of the fields, so events can be read while
        // connections are mutated.
        let Client {
            poll,
            events,
            conns,
            plan,
            buf,
        } = self;
        let n = conns.len() as u64;
        let mut busy = 0;
        for (i, conn) in conns.iter_mut().enumerate() {
            conn.quota = k / n + u64::from((i as u64) < k % n);
            conn.sent = 0;
            conn.received = 0;
            busy += usize::from(!plan.done(conn));
            // The first `depth` requests go out now.
            plan.send(conn)?;
        }
        while busy > 0 {
            poll.poll(events, Some(STALL))?;
            if events.is_empty() {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("no progress for {STALL:?}"),
                ));
            }
            for event in events.iter() {
                let conn = &mut conns[event.token().0];
                let was_done = plan.done(conn);
                // Edge-triggered: drain what arrived, then send what that
                // allows, whatever the event said.
                plan.receive(conn, buf)?;
                plan.send(conn)?;
                if !was_done && plan.done(conn) {
                    busy -= 1;
                }
            }
        }
        Ok(())
    }
}

impl Plan {
    /// Whether every answer of the connection's quota is in.
    fn done(&self, conn: &Conn) -> bool {
        conn.received == conn.quota * self.answer_len
    }

    /// Writes what the connection may send: requests up to `depth` ahead of
    /// the answers received, within its quota.
    fn send(&self, conn: &mut Conn) -> io::Result<()> {
        let answered = conn.received / self.answer_len;
        let allowed = conn.quota.min(answered + self.depth) * self.request_len;
        while conn.sent < allowed {
            // Every request is the same bytes, so the stream at offset
            // `sent` is the repeated request from `sent % request_len`.
            let start = (conn.sent % self.request_len) as usize;
            let len = (allowed - conn.sent).min((self.requests.len() - start) as u64) as usize;
            match conn.stream.write(&self.requests[start..start + len]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => conn.sent += n as u64,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Reads until `WouldBlock`, checking every byte against the answers.
    fn receive(&self, conn: &mut Conn, buf: &mut [u8]) -> io::Result<()> {
        loop {
            let n = match conn.stream.read(buf) {
                Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "server closed")),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let start = (conn.received % self.answer_len) as usize;
            if buf[..n] != self.answers[start..start + n] {
                return Err(io::Error::other(format!(
                    "wrong bytes at offset {} of the answers",
                    conn.received
                )));
            }
            conn.received += n as u64;
            if conn.received > conn.quota * self.answer_len {
                return Err(io::Error::other("more bytes than were asked for"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_workload_answers_the_search() {
        let w = Workload::app("search", "morpheus");
        let text = String::from_utf8_lossy(&w.answer);
        assert!(text.contains("Follow the white rabbit."), "{text}");
    }
}
