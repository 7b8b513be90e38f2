//! The clients' event loop: every connection is a handler; the loop runs
//! until the last one closes. A connection that makes no progress for
//! `--timeout` is given up with an error.
//!
//! A HOST name may resolve to several addresses (`localhost`: `::1` and
//! `127.0.0.1`), and the server may listen on only one of them. So, as
//! Python's `socket.create_connection` does, each connection tries them in
//! order: a connect that fails (refused, no route, timed out) moves on to the
//! next address, and only the last one's error is reported.

pub mod app;
pub mod multiconn;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use reactor::net::{ConnectStatus, TcpStream};
use reactor::{Context, EventLoop, Handler, Ready};

use app::ClientMessage;
use multiconn::MulticonnMessage;

use crate::buffers::with_buffers;
use crate::conn::{connect_failure, Mask, Next};
use crate::pyrepr::Addr;
use crate::say::{self, Say};

/// A client connection's state machine, as the loop drives it.
#[derive(Debug)]
pub enum ClientConn {
    /// One of `multiconn-client`'s connections.
    Multiconn(MulticonnMessage<TcpStream>),
    /// `app-client`'s connection.
    App(ClientMessage<TcpStream>),
}

impl ClientConn {
    fn is_connected(&self) -> bool {
        match self {
            ClientConn::Multiconn(m) => m.is_connected(),
            ClientConn::App(m) => m.is_connected(),
        }
    }
}

/// A client connection with what the loop needs around it.
#[derive(Debug)]
pub struct ClientEntry {
    conn: ClientConn,
    say: Say,
    timeout: Duration,
    /// The connection's number, from 1.
    id: usize,
    /// The index of the address it is connecting to.
    attempt: usize,
    shared: Rc<Shared>,
}

/// What all of a program's connections share.
#[derive(Debug)]
struct Shared {
    /// How many addresses there are to try.
    addrs: usize,
    /// Connections that failed.
    failures: Cell<u32>,
    /// Connections whose connect failed with addresses left: (id, the index
    /// of the next address). The loop starts them after the turn, since a
    /// handler cannot build another connection's state machine.
    retries: RefCell<Vec<(usize, usize)>>,
}

impl AsFd for ClientEntry {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.conn {
            ClientConn::Multiconn(m) => m.sock.as_fd(),
            ClientConn::App(m) => m.sock.as_fd(),
        }
    }
}

impl ClientEntry {
    fn describe(&self) -> String {
        match &self.conn {
            ClientConn::Multiconn(m) => format!("connection {} to {}", m.connid, Addr(m.addr)),
            ClientConn::App(m) => format!("connection to {}", Addr(m.addr)),
        }
    }

    /// Gives up on this connection with `reason`; but a connect that failed
    /// with addresses left is no failure yet: the next one is tried.
    fn fail(&self, reason: &str, cx: &mut Context<'_, Self>) {
        let next = self.attempt + 1;
        if !self.conn.is_connected() && next < self.shared.addrs {
            self.shared.retries.borrow_mut().push((self.id, next));
        } else {
            say::error(format_args!("{reason}"));
            self.shared.failures.set(self.shared.failures.get() + 1);
        }
        cx.close();
    }
}

impl Handler for ClientEntry {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        let mask = Mask {
            read: ready.is_readable(),
            write: ready.is_writable(),
        };
        let say = self.say;
        let next = match &mut self.conn {
            ClientConn::Multiconn(m) => {
                with_buffers(|bufs| m.process_events(mask, &mut bufs.scratch, say))
            }
            ClientConn::App(m) => m.process_events(mask, say),
        };
        match next {
            Ok(Next::Wait(interest)) => {
                if let Err(e) = cx.set_interest(interest) {
                    return self.fail(&format!("{}: {e}", self.describe()), cx);
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
            self.describe(),
            self.timeout.as_secs_f64()
        );
        self.fail(&reason, cx);
    }
}

/// Runs a client program: `connect` builds each connection's state machine
/// (its number, the address, and the socket whose non-blocking connect, the
/// tutorial's `connect_ex`, has started); it is called again for each next
/// address a connection tries. The loop runs until every connection
/// closed. Exit status 0 when none failed.
pub fn run_clients(
    addrs: &[SocketAddr],
    count: usize,
    timeout: Duration,
    say: Say,
    trace: bool,
    connect: impl FnMut(usize, SocketAddr, TcpStream) -> ClientConn,
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
    let shared = Rc::new(Shared {
        addrs: addrs.len(),
        failures: Cell::new(0),
        retries: RefCell::new(Vec::new()),
    });
    let mut starter = Starter {
        addrs,
        timeout,
        say,
        trace,
        shared: Rc::clone(&shared),
        connect,
    };
    for id in 1..=count {
        starter.start(&mut event_loop, id, 0);
    }
    while !event_loop.is_empty() {
        if let Err(e) = event_loop.turn(None) {
            say::error(format_args!("event loop: {e}"));
            return ExitCode::FAILURE;
        }
        // The connections whose connect failed, on their next address.
        let retries = shared.retries.take();
        for (id, next) in retries {
            starter.start(&mut event_loop, id, next);
        }
    }
    if shared.failures.get() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// What starting a connection takes.
struct Starter<'a, F> {
    addrs: &'a [SocketAddr],
    timeout: Duration,
    say: Say,
    trace: bool,
    shared: Rc<Shared>,
    connect: F,
}

impl<F: FnMut(usize, SocketAddr, TcpStream) -> ClientConn> Starter<'_, F> {
    /// Starts connection `id` on `addrs[from]`, or on the next address
    /// after it whose connect does not fail at once, and registers it.
    fn start(&mut self, event_loop: &mut EventLoop<ClientEntry>, id: usize, from: usize) {
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
                    say::error(format_args!(
                        "{}",
                        connect_failure(&format!("connection to {}", Addr(addr)), &e)
                    ));
                    self.shared.failures.set(self.shared.failures.get() + 1);
                    return;
                }
            };
            return self.register(event_loop, id, attempt, sock, status);
        }
    }

    fn register(
        &mut self,
        event_loop: &mut EventLoop<ClientEntry>,
        id: usize,
        attempt: usize,
        sock: TcpStream,
        status: ConnectStatus,
    ) {
        let addr = self.addrs[attempt];
        let fd = sock.as_raw_fd();
        let conn = (self.connect)(id, addr, sock);
        if self.trace {
            // Both outcomes are handled alike: the first writable event (at
            // once if already connected) finishes the connect.
            let how = match status {
                ConnectStatus::InProgress => "in progress (EINPROGRESS)",
                ConnectStatus::Connected => "connected at once",
            };
            say::always(format_args!("connect fd={fd} {how}"));
        }
        let interest = match &conn {
            ClientConn::Multiconn(_) => MulticonnMessage::<TcpStream>::INITIAL,
            ClientConn::App(_) => ClientMessage::<TcpStream>::INITIAL,
        };
        let entry = ClientEntry {
            conn,
            say: self.say,
            timeout: self.timeout,
            id,
            attempt,
            shared: Rc::clone(&self.shared),
        };
        match event_loop.register(entry, interest) {
            Ok(token) => {
                event_loop.set_deadline(token, Some(Instant::now() + self.timeout));
            }
            Err(e) => {
                say::error(format_args!("connection to {}: {e}", Addr(addr)));
                self.shared.failures.set(self.shared.failures.get() + 1);
            }
        }
    }
}
