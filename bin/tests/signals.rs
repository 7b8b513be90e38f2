//! Both servers stop on SIGINT and SIGTERM: stop accepting, finish the
//! answers owed, print the shutdown line last, exit 0.

mod common;

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

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

#[test]
fn answers_owed_at_sigint_are_delivered() {
    let mut server = Server::start(APP_SERVER, &["-q"]);
    let v = vector("search-ring");
    let mut sock = server.connect();
    // Requests until the server stops reading: it does so only while it owes
    // answers (which this client does not read).
    let sent = write_until_blocked(&mut sock, &v.request) / v.request.len();
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
    let written = write_until_blocked(&mut sock, b"e");
    server.signal(Signal::SIGTERM);
    // Every byte it still owes, then EOF (no reset).
    let mut back = Vec::new();
    sock.read_to_end(&mut back)
        .expect("read the echo up to EOF");
    drop(sock);
    assert!(!back.is_empty() && back.len() <= written);
    assert!(back.iter().all(|&b| b == b'e'));
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0));
    assert_eq!(lines.last().map(String::as_str), Some(SHUTDOWN_LINE));
}

#[test]
fn a_second_signal_during_the_drain_stops_at_once() {
    let mut server = Server::start(ECHO_SERVER, &["-q"]);
    // A peer that is owed bytes and never reads: the drain would wait the
    // whole grace period for it.
    let mut sock = server.connect();
    write_until_blocked(&mut sock, b"e");
    server.signal(Signal::SIGTERM);
    server.signal(Signal::SIGINT);
    // Well before the 5 s grace could end.
    let status = wait_exit(&mut server.child, Duration::from_secs(4));
    assert_eq!(status.code(), Some(0));
    let errors = server.stderr.wait_closed(WAIT);
    assert!(
        errors.iter().any(|l| l.contains("a second signal")),
        "{errors:?}"
    );
}

#[test]
fn the_drain_grace_holds_however_the_peer_trickles() {
    // The idle timeout (60 s) must not stretch the 5 s grace: a peer that
    // takes a little of what it is owed now and then is given up on.
    let mut server = Server::start(ECHO_SERVER, &["-q"]);
    let mut sock = server.connect();
    write_until_blocked(&mut sock, b"e");
    server.signal(Signal::SIGTERM);
    let stop = Arc::new(AtomicBool::new(false));
    let trickle = {
        let stop = Arc::clone(&stop);
        let mut sock = sock.try_clone().expect("clone");
        thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while !stop.load(Ordering::Relaxed) {
                match sock.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => thread::sleep(Duration::from_millis(100)),
                }
            }
        })
    };
    // 1 KiB every 100 ms would take minutes to take all that is owed.
    let status = wait_exit(&mut server.child, WAIT);
    stop.store(true, Ordering::Relaxed);
    drop(sock);
    let _ = trickle.join();
    assert_eq!(status.code(), Some(0));
    let errors = server.stderr.wait_closed(WAIT);
    assert!(
        errors
            .iter()
            .any(|l| l.contains("giving up on the connection")),
        "{errors:?}"
    );
}

#[test]
fn every_worker_sees_a_signal_sent_right_after_listening() {
    for run in 0..50 {
        let mut server = Server::start(APP_SERVER, &["-q", "--workers", "2"]);
        server.signal(Signal::SIGINT);
        let (status, lines) = server.wait_exit(Duration::from_secs(5));
        assert_eq!(status.code(), Some(0), "run {run}: {lines:?}");
        assert_eq!(
            lines.last().map(String::as_str),
            Some(SHUTDOWN_LINE),
            "run {run}"
        );
    }
}
