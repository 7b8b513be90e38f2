//! What both clients share: starting the connections and the loop that
//! runs them until the last one closes. This is the tutorial's client loop:
//!
//! ```text
//! start_connections(host, int(port), int(num_conns))
//! while True:
//!     events = sel.select(timeout=1)
//!     for key, mask in events:
//!         service_connection(key, mask)
//!     if not sel.get_map():
//!         break
//! ```
//!
//! Each connection is a [`Connection`]: its [`Message`] (the multiconn
//! client's or the app client's) and the loop's state around it. Its first
//! event says the non-blocking connect finished; the loop reads `SO_ERROR`
//! to know whether it worked before the `Message` sees any event. A
//! connection that makes no progress for `--timeout` is given up with an
//! error.
//!
//! A HOST name may resolve to several addresses (`localhost`: `::1` and
//! `127.0.0.1`), and the server may listen on only one of them. So, as
//! Python's `socket.create_connection` does, each connection tries them in
//! order: a connect that fails (refused, no route, timed out) moves on to the
//! next address, and only the last one's error is reported.

pub mod app;
pub mod multiconn;

use std::cell::{Cell, RefCell};
use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use reactor::net::{ConnectStatus, TcpStream};
use reactor::{Context, EventLoop, Handler, Interest, Ready};

use crate::buffers::with_buffers;
use crate::message::{Message, Next};
use crate::pyrepr::Addr;
use crate::say::{self, Say};

/// A client connection: its [`Message`], with what the loop needs around it.
#[derive(Debug)]
pub struct Connection<M> {
    message: M,
    say: Say,
    timeout: Duration,
    /// The connection's number, from 1.
    id: usize,
    /// The index of the address it is connecting to.
    attempt: usize,
    /// Whether the non-blocking connect has finished and succeeded.
    connected: bool,
    failures: Rc<Failures>,
}

/// What failing connections leave for the loop: the count of those that
/// failed for good, and those whose connect failed with addresses left, to
/// be started again on the next one.
#[derive(Debug)]
struct Failures {
    /// How many addresses there are to try.
    addrs: usize,
    /// Connections that failed.
    count: Cell<u32>,
    /// Connections whose connect failed with addresses left: (id, the index
    /// of the next address). The loop starts them after the turn, since a
    /// handler cannot build another connection's state machine.
    retries: RefCell<Vec<(usize, usize)>>,
}

impl Failures {
    /// One connection failed for good, for `reason` (an `error:` line).
    fn fail(&self, reason: &str) {
        say::error(format_args!("{reason}"));
        self.count.set(self.count.get() + 1);
    }
}

impl<M: Message<Socket = TcpStream>> AsFd for Connection<M> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.message.sock().as_fd()
    }
}

impl<M: Message<Socket = TcpStream>> Connection<M> {
    /// Gives up on this connection with `reason`; but a connect that failed
    /// with addresses left is no failure yet: the next one is tried.
    fn fail(&self, reason: &str, cx: &mut Context<'_, Self>) {
        let next = self.attempt + 1;
        if !self.connected && next < self.failures.addrs {
            self.failures.retries.borrow_mut().push((self.id, next));
        } else {
            self.failures.fail(reason);
        }
        cx.close();
    }
}

impl<M: Message<Socket = TcpStream>> Handler for Connection<M> {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        if !self.connected {
            // Readiness of any kind while connecting means the connect
            // finished, one way or the other: `SO_ERROR` says which (a
            // refused connect is otherwise mistaken for success or for an
            // empty read).
            if let Err(e) = self.message.sock().finish_connect() {
                let reason = connect_failure(&self.message.describe(), &e);
                return self.fail(&reason, cx);
            }
            self.connected = true;
        }
        let say = self.say;
        match with_buffers(|bufs| self.message.process_events(ready, bufs, say)) {
            Ok(Next::Wait(interest)) => {
                if let Err(e) = cx.set_interest(interest) {
                    return self.fail(&format!("{}: {e}", self.message.describe()), cx);
                }
                // Progress moves the deadline; see --timeout.
                cx.set_deadline(Some(cx.now() + self.timeout));
            }
            Ok(Next::Close) => cx.close(),
            Err(reason) => self.fail(&reason, cx),
        }
    }

    fn on_deadline(&mut self, cx: &mut Context<'_, Self>) {
        let reason = format!(
            "{} timed out: no progress for {} s",
            self.message.describe(),
            self.timeout.as_secs_f64()
        );
        self.fail(&reason, cx);
    }
}

/// Describes a failed connect the way the programs print it:
/// `connection to ('127.0.0.1', 65432) refused`.
fn connect_failure(what: &str, err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::ConnectionRefused => format!("{what} refused"),
        io::ErrorKind::TimedOut => format!("{what} timed out"),
        _ => format!("{what} failed: {err}"),
    }
}

/// Runs a client program: `connect` builds each connection's [`Message`]
/// (from its number, the address, and the socket whose non-blocking
/// connect, the tutorial's `connect_ex`, has started); it is called again
/// for each next address a connection tries. The loop runs until every
/// connection closed. Exit status 0 when none failed.
pub fn run_clients<M: Message<Socket = TcpStream>>(
    addrs: &[SocketAddr],
    count: usize,
    timeout: Duration,
    say: Say,
    trace: bool,
    connect: impl FnMut(usize, SocketAddr, TcpStream) -> M,
) -> ExitCode {
    let mut event_loop = match EventLoop::with_capacity(count.clamp(16, 1024)) {
        Ok(event_loop) => event_loop,
        Err(e) => {
            say::error(format_args!("cannot create the event loop: {e}"));
            return ExitCode::FAILURE;
        }
    };
    event_loop.set_trace(trace);
    if addrs.is_empty() {
        say::error(format_args!("no address to connect to"));
        return ExitCode::FAILURE;
    }
    let failures = Rc::new(Failures {
        addrs: addrs.len(),
        count: Cell::new(0),
        retries: RefCell::new(Vec::new()),
    });
    let mut starter = Starter {
        addrs,
        timeout,
        say,
        trace,
        failures: Rc::clone(&failures),
        connect,
    };
    for id in 1..=count {
        starter.start_connection(&mut event_loop, id, 0);
    }
    while !event_loop.is_empty() {
        if let Err(e) = event_loop.turn(None) {
            say::error(format_args!("event loop: {e}"));
            return ExitCode::FAILURE;
        }
        // The connections whose connect failed, on their next address.
        let retries = failures.retries.take();
        for (id, next) in retries {
            starter.start_connection(&mut event_loop, id, next);
        }
    }
    if failures.count.get() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What starting a connection takes (the tutorial's `start_connections`).
struct Starter<'a, F> {
    addrs: &'a [SocketAddr],
    timeout: Duration,
    say: Say,
    trace: bool,
    failures: Rc<Failures>,
    connect: F,
}

impl<M, F> Starter<'_, F>
where
    M: Message<Socket = TcpStream>,
    F: FnMut(usize, SocketAddr, TcpStream) -> M,
{
    /// Starts connection `id` on `addrs[from]`, or on the next address
    /// after it whose connect does not fail at once, and registers it.
    fn start_connection(
        &mut self,
        event_loop: &mut EventLoop<Connection<M>>,
        id: usize,
        from: usize,
    ) {
        for (attempt, &addr) in self.addrs.iter().enumerate().skip(from) {
            let started = TcpStream::connect(addr).and_then(|(sock, status)| {
                sock.set_nodelay(true)?;
                Ok((sock, status))
            });
            let (sock, status) = match started {
                Ok(started) => started,
                // Failed at once (no route to an IPv6 address, say): the
                // next address, as for a connect that fails later.
                Err(_) if attempt + 1 < self.addrs.len() => continue,
                Err(e) => {
                    let what = format!("connection to {}", Addr(addr));
                    return self.failures.fail(&connect_failure(&what, &e));
                }
            };
            return self.register(event_loop, id, attempt, sock, status);
        }
    }

    fn register(
        &mut self,
        event_loop: &mut EventLoop<Connection<M>>,
        id: usize,
        attempt: usize,
        sock: TcpStream,
        status: ConnectStatus,
    ) {
        let addr = self.addrs[attempt];
        let fd = sock.as_raw_fd();
        let message = (self.connect)(id, addr, sock);
        if self.trace {
            // Both outcomes are handled alike: the first writable event (at
            // once if already connected) finishes the connect.
            let how = match status {
                ConnectStatus::InProgress => "in progress (EINPROGRESS)",
                ConnectStatus::Connected => "connected at once",
            };
            say::always(format_args!("connect fd={fd} {how}"));
        }
        let connection = Connection {
            message,
            say: self.say,
            timeout: self.timeout,
            id,
            attempt,
            connected: false,
            failures: Rc::clone(&self.failures),
        };
        // READ and WRITE, as in the tutorial: WRITE says the connect
        // finished.
        match event_loop.register(connection, Interest::READ_WRITE) {
            Ok(token) => {
                event_loop.set_deadline_of(token, Some(Instant::now() + self.timeout));
            }
            Err(e) => self
                .failures
                .fail(&format!("connection to {}: {e}", Addr(addr))),
        }
    }
}
