//! `echo_server IP PORT [--trace]`: the tutorial's `multiconn-server.py` on
//! the reactor, minus its WRITE spin.
//!
//! The tutorial registers every connection for READ and WRITE, so `select`
//! reports it writable at every turn even when there is nothing to echo.
//! Here a connection asks for READ while it waits for bytes, for WRITE only
//! while it owes some back, and for READ again once they are sent.

use std::io::{self, ErrorKind, Read, Write};
use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use reactor::net::{accept_error_action, AcceptAction, ListenOptions, TcpListener, TcpStream};
use reactor::signal::{self, Signal};
use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId};

/// How long the listener stops asking when the process is out of
/// descriptors.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What the loop holds for each registered socket (the tutorial's
/// `key.data`): the listening socket, or a client connection.
enum Sock {
    Listener(TcpListener),
    Conn(Conn),
}

/// One client connection and the bytes it owes the peer (the tutorial's
/// `data.outb`).
struct Conn {
    sock: TcpStream,
    outb: Vec<u8>,
    /// How much of `outb` is sent already: the rest, `outb[sent..]`, is
    /// still owed. (The tutorial's `outb = outb[sent:]` copies what is left
    /// to the front; moving an offset does not.)
    sent: usize,
}

impl AsFd for Sock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Sock::Listener(listener) => listener.as_fd(),
            Sock::Conn(conn) => conn.sock.as_fd(),
        }
    }
}

impl Handler for Sock {
    /// The body of the tutorial's event loop: a new client on the listener,
    /// or bytes to move on a connection.
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        match self {
            Sock::Listener(listener) => accept_wrapper(listener, cx),
            Sock::Conn(conn) => service_connection(conn, cx, ready),
        }
    }

    /// Only the listener sets timers: its pause is over, so it asks again.
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _: TimerId) {
        if cx.set_interest(Interest::READ).is_err() {
            cx.close();
        }
    }
}

/// Take the next client from the listener's backlog and register it for
/// READ. Our sockets are non-blocking from the start.
fn accept_wrapper(listener: &TcpListener, cx: &mut Context<'_, Sock>) {
    match listener.accept() {
        Ok((sock, _addr)) => {
            let conn = Conn {
                sock,
                outb: Vec::new(),
                sent: 0,
            };
            // If the registration fails, the connection is dropped, and so
            // closed: the client sees its connection end.
            let _ = cx.register(Sock::Conn(conn), Interest::READ);
        }

        // Out of descriptors (EMFILE): the client stays in the backlog and
        // the listener readable, so asking again at once would spin. Stop
        // asking for a while; the timer turns READ back on.
        Err(e) if accept_error_action(&e) == AcceptAction::Pause => {
            if cx.set_interest(Interest::NONE).is_err() {
                cx.close();
            }
            cx.add_timer(cx.now() + ACCEPT_PAUSE);
        }

        // WouldBlock, or that one client failed (ECONNABORTED): skip it. The
        // listener is level-triggered, so the next waiting client fires again.
        Err(_) => {}
    }
}

/// Echo: read what the client sent, then write it back. A connection asks
/// for one of READ and WRITE at a time, so each event is one or the other.
fn service_connection(conn: &mut Conn, cx: &mut Context<'_, Sock>, ready: Ready) {
    let result = if ready.is_writable() {
        conn.write()
    } else {
        conn.read()
    };

    match result {
        // Read 0 bytes: the client closed its side (EOF), so we close ours.
        // (A write of 0 bytes cannot make progress either.)
        Ok(0) => cx.close(),

        // Ask for WRITE only while bytes are owed: left on, it would fire
        // at every select.
        Ok(_) => {
            let next = if conn.owes_bytes() {
                Interest::WRITE
            } else {
                Interest::READ
            };
            if cx.set_interest(next).is_err() {
                cx.close();
            }
        }

        // Readiness is a hint, not a promise: wait for the next event.
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}

        // Reset by the peer, or any other error: this connection is done.
        Err(_) => cx.close(),
    }
}

impl Conn {
    /// Receive what the client sent, and owe it back (the tutorial's
    /// `data.outb += recv_data`). Returns how many bytes came: 0 is EOF.
    fn read(&mut self) -> io::Result<usize> {
        let mut buf = [0; 4096];
        let n = self.sock.read(&mut buf)?;
        self.outb.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    /// Send as much of what is owed as the kernel takes now.
    fn write(&mut self) -> io::Result<usize> {
        let n = self.sock.write(&self.outb[self.sent..])?;
        self.sent += n;
        if !self.owes_bytes() {
            // All echoed: the buffer starts again from the front.
            self.outb.clear();
            self.sent = 0;
        }
        Ok(n)
    }

    fn owes_bytes(&self) -> bool {
        self.sent < self.outb.len()
    }
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let ip: IpAddr = args.get(1).and_then(|a| a.parse().ok()).expect("IP");
    let port: u16 = args.get(2).and_then(|a| a.parse().ok()).expect("PORT");
    let trace = args.iter().any(|a| a == "--trace");

    let listener = TcpListener::bind((ip, port).into(), &ListenOptions::default())?;
    let mut event_loop = EventLoop::new()?;
    event_loop.set_trace(trace);

    // Ctrl-C wakes the loop instead of killing the process, so it can say
    // goodbye, as the tutorial's `except KeyboardInterrupt` does.
    signal::notify(&[Signal::SIGINT, Signal::SIGTERM], &event_loop.waker())?;

    println!("listening on ('{ip}', {})", listener.local_addr()?.port());
    event_loop.register(Sock::Listener(listener), Interest::READ)?;

    while signal::take_pending().is_empty() {
        event_loop.turn(None)?;
    }
    println!("caught keyboard interrupt, exiting");
    Ok(())
}
