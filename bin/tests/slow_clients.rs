//! Clients that send slowly: `--request-timeout` closes a request that
//! trickles in for ever, and `--max-buffered-bytes` bounds what many large,
//! slow requests make the server hold, losing none of them.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

/// Whether the server has closed `sock` (EOF, or a reset after it).
fn closed_by_server(sock: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match sock.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) if e.kind() == ErrorKind::WouldBlock => false,
        Err(_) => true,
    }
}

#[test]
fn requests_that_trickle_are_closed_and_free_their_slots() {
    // The case of the issue: a byte every 0.5 s is never idle for 2 s, so
    // only the request timeout can close these; at 20 connections the
    // 5 others wait in the backlog until slots free.
    let server = Server::start(
        APP_SERVER,
        &[
            "-q",
            "--idle-timeout",
            "2",
            "--max-connections",
            "20",
            "--request-timeout",
            "2",
        ],
    );
    let request = search_request("morpheus");
    let mut socks: Vec<(TcpStream, usize, bool)> = (0..25)
        .map(|_| {
            let sock = server.connect();
            sock.set_nonblocking(true).expect("non-blocking");
            (sock, 0, false)
        })
        .collect();
    let deadline = Instant::now() + WAIT * 2;
    while socks.iter().any(|(_, _, closed)| !closed) {
        assert!(
            Instant::now() < deadline,
            "{} of 25 trickling connections still open",
            socks.iter().filter(|(_, _, closed)| !closed).count()
        );
        for (sock, sent, closed) in socks.iter_mut().filter(|(_, _, c)| !c) {
            if closed_by_server(sock) {
                *closed = true;
                continue;
            }
            // One byte, never the last one: the request never completes.
            if *sent + 1 < request.len() && sock.write(&request[*sent..*sent + 1]).is_ok() {
                *sent += 1;
            }
        }
        // The clients' pace, not a wait for the server.
        thread::sleep(Duration::from_millis(500));
    }
    let errors = server.stderr.snapshot();
    let timed_out = errors
        .iter()
        .filter(|l| l.contains("not complete within 2 s"))
        .count();
    assert_eq!(timed_out, 25, "{errors:#?}");
    // And the server still serves.
    let mut sock = server.connect();
    assert_serves(&mut sock);
}

#[test]
fn a_request_split_over_time_within_the_timeout_is_answered() {
    let server = Server::start(APP_SERVER, &["-q", "--request-timeout", "5"]);
    let v = vector("search-morpheus");
    let mut sock = server.connect();
    let (first, rest) = v.request.split_at(v.request.len() / 2);
    sock.write_all(first).expect("write");
    thread::sleep(Duration::from_millis(300));
    sock.write_all(rest).expect("write");
    let answer = read_message(&mut sock).expect("the answer");
    assert_eq!(answer.raw, v.response);
    assert!(server.stderr.snapshot().is_empty());
}

/// The peak resident set of a process, in KiB (VmHWM); `None` off Linux.
fn peak_rss_kib(pid: i32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[test]
fn many_large_slow_requests_stay_within_the_buffer_budget_and_all_are_answered() {
    const CONNS: usize = 300;
    const BUDGET_MIB: u64 = 32;
    let budget = (BUDGET_MIB << 20).to_string();
    let server = Server::start(APP_SERVER, &["-q", "--max-buffered-bytes", &budget]);
    let baseline = rss_kib(server.pid());
    let addr = server.addr;
    let clients: Vec<_> = (0..CONNS)
        .map(|i| {
            thread::spawn(move || {
                // 1 MiB, different on each connection, sent in 64 KiB
                // pieces with a pause between them.
                let content: Vec<u8> = (0..1 << 20).map(|b| (b ^ i) as u8).collect();
                let request = binary_request(&content);
                let mut sock = connect(addr);
                sock.set_write_timeout(Some(WAIT * 6)).expect("timeout");
                sock.set_read_timeout(Some(WAIT * 6)).expect("timeout");
                for piece in request.chunks(64 * 1024) {
                    sock.write_all(piece)?;
                    thread::sleep(Duration::from_millis(5));
                }
                let answer = read_message(&mut sock)?;
                assert_eq!(answer.content, binary_answer_content(&content), "conn {i}");
                std::io::Result::Ok(())
            })
        })
        .collect();
    for (i, client) in clients.into_iter().enumerate() {
        client
            .join()
            .expect("client thread")
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
    }
    // The memory bound is read from /proc: Linux only. Every answer was
    // checked above on every system.
    if let (Some(baseline), Some(peak)) = (baseline, peak_rss_kib(server.pid())) {
        println!("peak RSS {peak} KiB, from {baseline} KiB at start");
        assert!(
            peak < baseline + (BUDGET_MIB + 32) * 1024,
            "peak RSS {peak} KiB from {baseline} KiB with a {BUDGET_MIB} MiB budget"
        );
    }
    assert!(
        server.stderr.snapshot().is_empty(),
        "{:?}",
        server.stderr.snapshot()
    );
}

#[test]
fn a_budget_smaller_than_one_request_still_answers_every_request() {
    // Nothing fits in 100 bytes: one request at a time is admitted past
    // the budget, and the others wait their turn; none is stuck for good.
    let server = Server::start(
        APP_SERVER,
        &[
            "-q",
            "--max-buffered-bytes",
            "100",
            "--request-timeout",
            "5",
        ],
    );
    let clients: Vec<_> = (0..5)
        .map(|i| {
            let addr = server.addr;
            thread::spawn(move || {
                let content: Vec<u8> = (0..1000).map(|b| (b ^ i) as u8).collect();
                let mut sock = connect(addr);
                sock.write_all(&binary_request(&content)).expect("write");
                let answer = read_message(&mut sock).expect("an answer");
                assert_eq!(answer.content, binary_answer_content(&content), "conn {i}");
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client");
    }
    let mut sock = server.connect();
    assert_serves(&mut sock);
    assert!(
        server.stderr.snapshot().is_empty(),
        "{:?}",
        server.stderr.snapshot()
    );
}

#[test]
fn each_pipelined_request_gets_its_own_request_timeout() {
    // Every second the end of one request and the start of the next: each
    // request takes a second of the 3 its timeout allows (2 s to spare on
    // a loaded machine), the connection is never between requests, and
    // none may be timed from an earlier one's start: timed from the first,
    // the third would be closed.
    let server = Server::start(APP_SERVER, &["-q", "--request-timeout", "3"]);
    let request = search_request("morpheus");
    let half = request.len() / 2;
    let mut sock = server.connect();
    sock.write_all(&request[..half]).expect("write");
    for i in 0..5 {
        thread::sleep(Duration::from_secs(1));
        let mut piece = request[half..].to_vec();
        piece.extend_from_slice(&request[..half]);
        sock.write_all(&piece).expect("write");
        let answer = read_message(&mut sock)
            .unwrap_or_else(|e| panic!("answer {i}: {e}; {:?}", server.stderr.snapshot()));
        assert_eq!(answer.result(), "Follow the white rabbit. 🐰", "answer {i}");
    }
    assert!(
        server.stderr.snapshot().is_empty(),
        "{:?}",
        server.stderr.snapshot()
    );
}
