//! Helpers shared by the integration tests: real sockets on loopback, and
//! waits that always have a bound.
#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use reactor::net::{ListenOptions, TcpListener, TcpStream};
use reactor::{Event, Events, Interest, Selector, Token};

/// The longest any test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(5);
/// How long a test waits to be convinced that nothing happens.
pub const QUIET: Duration = Duration::from_millis(100);

pub fn v4_any_port() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

pub fn v6_any_port() -> SocketAddr {
    "[::1]:0".parse().unwrap()
}

pub fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr, &ListenOptions::default())
}

/// Select until an event satisfies `want`, or `PATIENCE` passes.
pub fn wait_for(
    sel: &mut Selector,
    events: &mut Events,
    want: impl Fn(&Event) -> bool,
) -> Option<Event> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.checked_duration_since(Instant::now())?;
        sel.select(events, Some(left)).expect("select");
        if let Some(ev) = events.iter().find(|e| want(e)) {
            return Some(ev);
        }
    }
}

/// Every event of `token` during `QUIET` (should be none in "nothing
/// happens" tests).
pub fn events_during_quiet(sel: &mut Selector, events: &mut Events, token: Token) -> Vec<Event> {
    let deadline = Instant::now() + QUIET;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        sel.select(events, Some(left)).expect("select");
        seen.extend(events.iter().filter(|e| e.token() == token));
    }
    seen
}

/// A connected pair on `addr`'s family: (client, accepted server side).
pub fn connected_pair(addr: SocketAddr) -> io::Result<(TcpStream, TcpStream)> {
    let listener = listen(addr)?;
    let (client, _) = TcpStream::connect(listener.local_addr()?)?;
    let mut sel = Selector::new()?;
    let mut events = Events::with_capacity(8);
    sel.register(&listener, Token(1), Interest::READ)?;
    wait_for(&mut sel, &mut events, |e| e.is_readable()).expect("listener readable");
    let (server, _) = listener.accept()?;
    sel.register(&client, Token(2), Interest::WRITE)?;
    wait_for(&mut sel, &mut events, |e| e.token() == Token(2)).expect("client writable");
    client.finish_connect()?;
    Ok((client, server))
}

/// A loopback port with nothing listening: bind, note the port, close.
pub fn closed_port() -> SocketAddr {
    let listener = listen(v4_any_port()).expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    drop(listener);
    addr
}

/// Runs test `test_name` of this test binary again, alone, in a child
/// process with `env` set: for tests that change process-wide state (the
/// descriptor limit) or must capture the process's own stdout (the trace).
/// The test sees `env` and does the child's part.
pub fn rerun_in_child(env: &str, test_name: &str) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    std::process::Command::new(exe)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(env, "1")
        .output()
        .expect("the test binary runs again as a child")
}
