//! The criterion benches' client for every server: N connections, each keeping
//! up to `depth` requests in flight, every byte that comes back checked
//! against the [`Workload`].
//!
//! [`Client::run`] sends and receives exactly `k` messages spread over the
//! connections, and returns once every answer is in, so the connections are
//! quiet between runs and the next run starts from a message boundary. It
//! runs on mio, edge-triggered, in the calling thread; no wait is unbounded.

use std::io::{self, ErrorKind, Read};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use sockets::buffers::READ_SIZE;
use sockets::outbox::send_some;

use crate::workload::Workload;

/// A run fails if no byte arrives for this long.
const STALL: Duration = Duration::from_secs(10);

/// One connection's progress in the current run, in bytes of its streams.
#[derive(Debug)]
struct Connection {
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
    conns: Vec<Connection>,
    plan: Plan,
    buf: Vec<u8>,
}

/// What every connection sends and must receive, and how far ahead.
#[derive(Debug)]
struct Plan {
    depth: u64,
    workload: Workload,
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
            streams.push(Connection {
                stream,
                quota: 0,
                sent: 0,
                received: 0,
            });
        }
        Ok(Client {
            poll,
            events: Events::with_capacity(1024),
            conns: streams,
            plan: Plan {
                depth: depth as u64,
                workload: workload.clone(),
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
    fn answer_len(&self) -> u64 {
        self.workload.response_len() as u64
    }

    /// Whether every answer of the connection's quota is in.
    fn done(&self, conn: &Connection) -> bool {
        conn.received == conn.quota * self.answer_len()
    }

    /// Writes what the connection may send: requests up to `depth` ahead of
    /// the answers received, within its quota.
    fn send(&self, conn: &mut Connection) -> io::Result<()> {
        let answered = conn.received / self.answer_len();
        let request_len = self.workload.request_len() as u64;
        let allowed = conn.quota.min(answered + self.depth) * request_len;
        while conn.sent < allowed {
            let chunk = self
                .workload
                .to_send(conn.sent, (allowed - conn.sent) as usize);
            let n = send_some(&mut conn.stream, chunk)?;
            conn.sent += n as u64;
            if n < chunk.len() {
                break; // the kernel's buffer is full
            }
        }
        Ok(())
    }

    /// Reads until `WouldBlock`, checking every byte against the answers.
    fn receive(&self, conn: &mut Connection, buf: &mut [u8]) -> io::Result<()> {
        loop {
            let n = match conn.stream.read(buf) {
                Ok(0) => return Err(io::Error::new(ErrorKind::UnexpectedEof, "server closed")),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if !self.workload.is_expected(conn.received, &buf[..n]) {
                return Err(io::Error::other(format!(
                    "wrong bytes at offset {} of the answers",
                    conn.received
                )));
            }
            conn.received += n as u64;
            if conn.received > conn.quota * self.answer_len() {
                return Err(io::Error::other("more bytes than were asked for"));
            }
        }
    }
}
