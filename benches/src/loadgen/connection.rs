//! One load connection: keeps `depth` requests in flight and checks every
//! byte of the answers.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read};
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::rc::Rc;
use std::time::{Duration, Instant};

use reactor::net::TcpStream;
use reactor::{Context, Handler, Interest, Ready, Token};

use super::stats::Stats;
use crate::workload::Workload;
use sockets::buffers::with_buffers;
use sockets::outbox::send_some;

/// The load: what every connection of a run sends, how, and the counters
/// they all add to.
#[derive(Debug)]
pub struct Load {
    /// The server.
    pub addr: SocketAddr,
    /// The request and its answer.
    pub workload: Workload,
    /// Requests in flight per connection.
    pub depth: usize,
    /// A new connection per request.
    pub churn: bool,
    /// No progress for this long is an error.
    pub timeout: Duration,
    /// The counters and the latency histogram.
    pub stats: RefCell<Stats>,
    /// The run is over: send no new request, only finish the ones started,
    /// and wait for their answers.
    pub stopping: Cell<bool>,
}

/// A connection of the load.
#[derive(Debug)]
pub struct Connection {
    sock: TcpStream,
    load: Rc<Load>,
    connected: bool,
    /// Request bytes sent, answer bytes received (stream offsets).
    sent: u64,
    received: u64,
    /// When each request in flight was sent, oldest first (capacity
    /// `depth`: no allocation once running).
    sent_at: VecDeque<Instant>,
    /// With --churn: when the connection was opened.
    opened: Instant,
}

impl AsFd for Connection {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Connection {
    /// Starts a connection (non-blocking connect) and registers it with
    /// `register`, giving it its first deadline.
    pub fn open<R>(load: &Rc<Load>, register: R) -> io::Result<()>
    where
        R: FnOnce(Connection, Interest) -> io::Result<Token>,
    {
        let (sock, _) = TcpStream::connect(load.addr)?;
        sock.set_nodelay(true)?;
        let conn = Connection {
            sock,
            load: Rc::clone(load),
            connected: false,
            sent: 0,
            received: 0,
            sent_at: VecDeque::with_capacity(load.depth),
            opened: Instant::now(),
        };
        register(conn, Interest::READ_WRITE).map(drop)
    }

    fn fail(&self, cx: &mut Context<'_, Self>, what: &str) {
        let mut stats = self.load.stats.borrow_mut();
        stats.errors += 1;
        // Requests in flight here will never be answered.
        stats.lost += self.sent_at.len() as u64;
        if stats.errors <= 10 {
            sockets::say::error(format_args!("connection to {}: {what}", self.load.addr));
        }
        cx.close();
    }

    /// Sends requests until `depth` are in flight or the socket is full.
    /// Returns whether it stopped because the socket is full.
    fn pump(&mut self, now: Instant) -> io::Result<bool> {
        let work = &self.load.workload;
        let request_len = work.request_len() as u64;
        let limit = if self.load.churn {
            1
        } else {
            self.load.depth as u64
        };
        let answered = self.received / work.response_len() as u64;
        let allowed = if self.load.stopping.get() {
            // Only the rest of a request already started.
            self.sent.div_ceil(request_len) * request_len
        } else {
            (answered + limit) * request_len
        };
        while self.sent < allowed {
            let chunk = work.to_send(self.sent, (allowed - self.sent) as usize);
            let n = send_some(&mut self.sock, chunk)?;
            // A request counts as sent from its first byte.
            let first = self.sent.div_ceil(request_len);
            let past = (self.sent + n as u64).div_ceil(request_len);
            for _ in first..past {
                self.sent_at.push_back(now);
            }
            self.load.stats.borrow_mut().sent += past - first;
            self.sent += n as u64;
            if n < chunk.len() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Reads what arrived and checks it; returns how many answers completed.
    fn read(&mut self, now: Instant) -> Result<(), String> {
        let n = with_buffers(|bufs| -> Result<usize, String> {
            let n = match self.sock.read(&mut bufs.scratch) {
                Ok(0) => return Err("closed by the server".into()),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {
                    return Ok(0)
                }
                Err(e) => return Err(e.to_string()),
            };
            if !self
                .load
                .workload
                .is_expected(self.received, &bufs.scratch[..n])
            {
                return Err(format!("wrong bytes at answer offset {}", self.received));
            }
            Ok(n)
        })?;
        let response_len = self.load.workload.response_len() as u64;
        let before = self.received / response_len;
        self.received += n as u64;
        let after = self.received / response_len;
        if after > before {
            let mut stats = self.load.stats.borrow_mut();
            for _ in before..after {
                let sent_at = self.sent_at.pop_front().unwrap_or(now);
                let began = if self.load.churn {
                    self.opened
                } else {
                    sent_at
                };
                stats.record(now.saturating_duration_since(began), response_len);
            }
        }
        Ok(())
    }
}

impl Handler for Connection {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        let now = cx.now();
        if !self.connected {
            if let Err(e) = self.sock.finish_connect() {
                return self.fail(cx, &format!("connect: {e}"));
            }
            self.connected = true;
        }
        if ready.is_readable() {
            if let Err(what) = self.read(now) {
                return self.fail(cx, &what);
            }
            let response_len = self.load.workload.response_len() as u64;
            if self.load.churn && self.received == response_len && !self.load.stopping.get() {
                // One answer per connection: close, and open the next.
                cx.close();
                let load = Rc::clone(&self.load);
                if let Err(e) = Connection::open(&load, |conn, interest| {
                    let token = cx.register(conn, interest)?;
                    cx.set_deadline_of(token, Some(now + load.timeout));
                    Ok(token)
                }) {
                    let mut stats = load.stats.borrow_mut();
                    stats.errors += 1;
                    sockets::say::error(format_args!("connection to {}: {e}", load.addr));
                }
                return;
            }
        }
        match self.pump(now) {
            Ok(full) => {
                let interest = if full {
                    Interest::READ_WRITE
                } else {
                    Interest::READ
                };
                if let Err(e) = cx.set_interest(interest) {
                    return self.fail(cx, &e.to_string());
                }
                cx.set_deadline(Some(now + self.load.timeout));
            }
            Err(e) => self.fail(cx, &e.to_string()),
        }
    }

    fn on_deadline(&mut self, cx: &mut Context<'_, Self>) {
        let timeout = self.load.timeout.as_secs_f64();
        self.fail(cx, &format!("no progress for {timeout} s"));
    }
}
