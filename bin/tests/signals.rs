//! Both servers stop on SIGINT and SIGTERM: stop accepting, finish the
//! answers owed, print the shutdown line last, exit 0.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// A server with an open connection (that has been served) gets `sig`.
fn stops_with_a_connection_open(bin: &str, sig: Signal) {
    let mut server = Server::start(bin, &[]);
    let mut sock = server.connect();
    if bin == APP_SERVER {
        assert_serves(&mut sock);
    } else {
        sock.write_all(b"ping").expect("write");
        let mut back = [0u8; 4];
        sock.read_exact(&mut back).expect("the echo");
        assert_eq!(&back, b"ping");
    }
    server.signal(sig);
    // The open connection is closed by the server...
    expect_eof(&mut sock);
    // ...which exits 0 with the shutdown line last.
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0), "{bin} on {sig}: {lines:#?}");
    assert_eq!(
        lines.last().map(String::as_str),
        Some(SHUTDOWN_LINE),
        "{bin} on {sig}: {lines:#?}"
    );
    assert!(server.stderr.snapshot().is_empty(), "{bin} on {sig}");
}

#[test]
fn app_server_stops_on_sigint_with_a_connection_open() {
    stops_with_a_connection_open(APP_SERVER, Signal::SIGINT);
}

#[test]
fn app_server_stops_on_sigterm_with_a_connection_open() {
    stops_with_a_connection_open(APP_SERVER, Signal::SIGTERM);
}

#[test]
fn echo_server_stops_on_sigint_with_a_connection_open() {
    stops_with_a_connection_open(ECHO_SERVER, Signal::SIGINT);
}

#[test]
fn echo_server_stops_on_sigterm_with_a_connection_open() {
    stops_with_a_connection_open(ECHO_SERVER, Signal::SIGTERM);
}

#[test]
fn a_quiet_server_prints_only_the_listening_and_shutdown_lines() {
    let mut server = Server::start(APP_SERVER, &["-q"]);
    let mut sock = server.connect();
    assert_serves(&mut sock);
    drop(sock);
    server.signal(Signal::SIGINT);
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0));
    assert_eq!(
        lines,
        vec![
            format!("listening on {}", server.repr()),
            SHUTDOWN_LINE.into()
        ]
    );
}

/// Writes search requests until the server stops taking them (it stops
/// reading while it owes answers the client does not read); returns how
/// many whole requests went out.
fn flood_until_blocked(server: &Server, sock: &mut TcpStream, request: &[u8]) -> usize {
    sock.set_write_timeout(Some(Duration::from_millis(200)))
        .expect("write timeout");
    let batch: Vec<u8> = request.repeat(256);
    let mut written = 0usize;
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "the server never stopped reading"
        );
        match sock.write(&batch[written % batch.len()..]) {
            Ok(n) => written += n,
            // A write that made no progress for 200 ms: the server's
            // receive buffer is full, so it has stopped reading, which it
            // does only while it owes answers.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                break;
            }
            Err(e) => panic!(
                "write after {written} bytes: {e}; server stderr: {:#?}",
                server.stderr.snapshot()
            ),
        }
    }
    sock.set_write_timeout(Some(WAIT)).expect("write timeout");
    written / request.len()
}

#[test]
fn answers_owed_at_sigint_are_delivered() {
    let mut server = Server::start(APP_SERVER, &["-q"]);
    let v = vector("search-ring");
    let mut sock = server.connect();
    let sent = flood_until_blocked(&server, &mut sock, &v.request);
    server.signal(Signal::SIGINT);
    // Every answer the server owes arrives whole and right, then EOF. The
    // server read some of the requests, not necessarily all.
    let mut answers = 0usize;
    let mut buf = Vec::new();
    sock.read_to_end(&mut buf)
        .expect("read every owed answer up to EOF");
    let mut rest = &buf[..];
    while !rest.is_empty() {
        let msg = read_message(&mut rest)
            .unwrap_or_else(|e| panic!("answer {answers} is cut short ({e})"));
        assert_eq!(msg.raw, v.response, "answer {answers}");
        answers += 1;
    }
    assert!(
        answers > 0 && answers <= sent,
        "{answers} answers to {sent} requests"
    );
    // The client closes, as clients do: the server need not wait longer.
    drop(sock);
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0));
    assert_eq!(lines.last().map(String::as_str), Some(SHUTDOWN_LINE));
}

#[test]
fn an_answer_owed_to_a_slow_echo_reader_is_delivered_on_sigterm() {
    let mut server = Server::start(ECHO_SERVER, &["-q"]);
    let mut sock = server.connect();
    let chunk = vec![b'e'; 64 * 1024];
    sock.set_write_timeout(Some(Duration::from_millis(200)))
        .expect("write timeout");
    let mut written = 0usize;
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(
            Instant::now() < deadline,
            "the server never stopped reading"
        );
        match sock.write(&chunk) {
            Ok(n) => written += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => panic!("write: {e}"),
        }
    }
    server.signal(Signal::SIGTERM);
    let mut back = Vec::new();
    let reader = thread::spawn(move || {
        sock.read_to_end(&mut back)
            .expect("read the echo up to EOF");
        back
    });
    let back = reader.join().expect("the reader"); // and closed
    assert!(!back.is_empty() && back.len() <= written);
    assert!(back.iter().all(|&b| b == b'e'));
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0));
    assert_eq!(lines.last().map(String::as_str), Some(SHUTDOWN_LINE));
}
