//! A client that connects the way `multiconn-client.py` does with
//! `connect_ex`: the call returns at once, before the handshake is done.
//!
//!     cargo run -p reactor --example connect -- 127.0.0.1 PORT
//!
//! It uses the bare `Selector` (the tutorial's `selectors.DefaultSelector`)
//! rather than the event loop, so every step is in sight: wait for WRITE,
//! ask `SO_ERROR` whether the connect worked, send a line, switch the
//! interest to READ, read the echo. Every wait has a timeout.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use reactor::net::{ConnectStatus, TcpStream};
use reactor::{Events, Interest, Selector, Token};

const LINE: &[u8] = b"hello from connect.rs\n";
const TIMEOUT: Duration = Duration::from_secs(10);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let addr = match (args.get(1), args.get(2)) {
        (Some(ip), Some(port)) => format!("{ip}:{port}").parse::<SocketAddr>().ok(),
        _ => None,
    };
    let Some(addr) = addr else {
        eprintln!("usage: connect IP PORT");
        return ExitCode::from(2);
    };
    match run(addr) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(addr: SocketAddr) -> io::Result<()> {
    // Non-blocking from birth: connect starts the handshake and returns.
    let (sock, status) = TcpStream::connect(addr)?;
    match status {
        ConnectStatus::InProgress => println!("connect to {addr}: in progress (EINPROGRESS)"),
        ConnectStatus::Connected => println!("connect to {addr}: connected at once"),
    }
    let mut selector = Selector::new()?;
    let mut events = Events::with_capacity(4);
    // The handshake's end makes the socket writable, whether it worked or not.
    selector.register(&sock, Token(0), Interest::WRITE)?;
    wait(&mut selector, &mut events, "the connect")?;
    // So ask: SO_ERROR holds ECONNREFUSED and the like. Without this check a
    // refused connect looks writable, and fails later, obscurely.
    sock.finish_connect()?;
    println!(
        "connected: SO_ERROR is 0; sending {:?}",
        String::from_utf8_lossy(LINE)
    );

    let mut sent = 0;
    while sent < LINE.len() {
        match (&sock).write(&LINE[sent..]) {
            Ok(n) => sent += n,
            // The send buffer is full: wait until it has room.
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                wait(&mut selector, &mut events, "room to send")?
            }
            Err(e) => return Err(e),
        }
    }

    // All sent: WRITE would now fire at every select, so ask for READ only.
    selector.modify(&sock, Token(0), Interest::READ)?;
    let mut echoed = Vec::new();
    let mut buf = [0; 1024];
    while echoed.len() < LINE.len() {
        wait(&mut selector, &mut events, "the echo")?;
        match (&sock).read(&mut buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "closed before the echo",
                ))
            }
            Ok(n) => echoed.extend_from_slice(&buf[..n]),
            // Readiness is a hint: wait again.
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
    }
    println!("received {:?}", String::from_utf8_lossy(&echoed));
    // Unregister before the socket closes (it closes when `sock` drops).
    selector.unregister(&sock)?;
    Ok(())
}

/// One select with a timeout: an empty result means nothing happened in time.
fn wait(selector: &mut Selector, events: &mut Events, what: &str) -> io::Result<()> {
    selector.select(events, Some(TIMEOUT))?;
    if events.is_empty() {
        return Err(io::Error::new(
            ErrorKind::TimedOut,
            format!("no sign of {what}"),
        ));
    }
    Ok(())
}
