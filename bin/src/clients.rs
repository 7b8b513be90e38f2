//! The clients' event loop: every connection is a handler; the loop runs
//! until the last one closes. A connection that makes no progress for
//! `--timeout` is given up with an error.

use std::cell::Cell;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use reactor::net::{ConnectStatus, TcpStream};
use reactor::{Context, EventLoop, Handler, Ready};

use crate::buffers::with_buffers;
use crate::client::ClientMessage;
use crate::conn::{connect_failure, Mask, Next};
use crate::multiconn::MulticonnMessage;
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

/// A client connection with what the loop needs around it.
#[derive(Debug)]
pub struct ClientEntry {
    conn: ClientConn,
    say: Say,
    timeout: Duration,
    /// Connections that failed, shared by all of a program's connections.
    failures: Rc<Cell<u32>>,
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

    fn fail(&self, reason: &str, cx: &mut Context<'_, Self>) {
        say::error(format_args!("{reason}"));
        self.failures.set(self.failures.get() + 1);
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

/// Runs a client program: `connect` starts each connection's non-blocking
/// connect (the tutorial's `connect_ex`) and builds its state machine; the
/// loop runs until every connection closed. Exit status 0 when none failed.
pub fn run_clients(
    addr: SocketAddr,
    count: usize,
    timeout: Duration,
    say: Say,
    trace: bool,
    mut connect: impl FnMut(usize, TcpStream) -> ClientConn,
) -> ExitCode {
    let mut event_loop = match EventLoop::with_capacity(count.clamp(16, 1024)) {
        Ok(event_loop) => event_loop,
        Err(e) => {
            say::error(format_args!("cannot create the event loop: {e}"));
            return ExitCode::FAILURE;
        }
    };
    event_loop.set_trace(trace);
    let failures = Rc::new(Cell::new(0));
    for i in 1..=count {
        let started = TcpStream::connect(addr).and_then(|(sock, status)| {
            sock.set_nodelay(true)?;
            Ok((sock, status))
        });
        let (sock, status) = match started {
            Ok(started) => started,
            Err(e) => {
                say::error(format_args!(
                    "{}",
                    connect_failure(&format!("connection to {}", Addr(addr)), &e)
                ));
                failures.set(failures.get() + 1);
                continue;
            }
        };
        let fd = sock.as_raw_fd();
        let conn = connect(i, sock);
        if trace {
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
            say,
            timeout,
            failures: Rc::clone(&failures),
        };
        match event_loop.register(entry, interest) {
            Ok(token) => {
                event_loop.set_deadline(token, Some(std::time::Instant::now() + timeout));
            }
            Err(e) => {
                say::error(format_args!("connection to {}: {e}", Addr(addr)));
                failures.set(failures.get() + 1);
            }
        }
    }
    while !event_loop.is_empty() {
        if let Err(e) = event_loop.turn(None) {
            say::error(format_args!("event loop: {e}"));
            return ExitCode::FAILURE;
        }
    }
    if failures.get() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
