//! The golden vectors (proto/tests/data/app-protocol.jsonl), both ways:
//! each request sent raw to app-server gets the exact response bytes, and
//! app-client, against a raw-socket server in the test, sends the exact
//! request bytes and prints the right `got ...` line for the vector's
//! response.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn every_vector_sent_raw_gets_the_exact_response() {
    let server = Server::start(APP_SERVER, &["-q"]);
    for v in vectors() {
        // Each on its own connection, as the Python client sends it...
        let mut sock = server.connect();
        let answer = ask(&mut sock, &v.request);
        assert_eq!(
            py_bytes(&answer.raw),
            py_bytes(&v.response),
            "vector {}",
            v.name
        );
        // ...and again on the same connection, which stays open.
        let again = ask(&mut sock, &v.request);
        assert_eq!(again.raw, v.response, "vector {}, second time", v.name);
    }
    // All of them back to back in one write, on one connection.
    let all = vectors();
    let mut sock = server.connect();
    let requests: Vec<u8> = all.iter().flat_map(|v| v.request.clone()).collect();
    sock.write_all(&requests).expect("write");
    for v in &all {
        let answer = read_message(&mut sock).expect("an answer");
        assert_eq!(answer.raw, v.response, "vector {} pipelined", v.name);
    }
    assert!(server.stderr.snapshot().is_empty());
}

/// What the raw-socket server in the test saw.
struct Seen {
    request: Vec<u8>,
    /// Bytes after the request, up to the client's EOF.
    trailing: Vec<u8>,
}

/// A one-shot raw server: accepts one connection, reads `expect_len` bytes,
/// answers `response` (if any), then reads until the client closes.
fn raw_server(
    listener: TcpListener,
    expect_len: usize,
    response: Option<Vec<u8>>,
) -> thread::JoinHandle<Seen> {
    thread::spawn(move || {
        let mut sock = accept_one(&listener);
        let mut request = vec![0u8; expect_len];
        sock.read_exact(&mut request).expect("read the request");
        if let Some(response) = response {
            sock.write_all(&response).expect("write the response");
        }
        let mut trailing = Vec::new();
        sock.read_to_end(&mut trailing)
            .expect("read until the client closes");
        Seen { request, trailing }
    })
}

/// The `got ...` line app-client prints for a response.
fn got_line(response: &[u8]) -> String {
    let msg = read_message(&mut &response[..]).expect("a vector response");
    if msg.header["content-type"] == "text/json" {
        format!("got result: {}", msg.result())
    } else {
        format!("got response: {}", py_bytes(&msg.content))
    }
}

#[test]
fn app_client_sends_each_vector_request_and_prints_the_answer() {
    for v in vectors() {
        // The Python client never sends a text/json request with another
        // action: for `find x` it sends a binary request. That vector's
        // response is checked below, on its own.
        if v.name == "json-invalid-action" {
            continue;
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port().to_string();
        let server = raw_server(listener, v.request.len(), Some(v.response.clone()));
        let out = run(APP_CLIENT, &["127.0.0.1", &port, &v.action, &v.value]);
        let seen = server.join().expect("the raw server");
        assert_eq!(
            py_bytes(&seen.request),
            py_bytes(&v.request),
            "vector {}: request bytes",
            v.name
        );
        assert!(seen.trailing.is_empty(), "vector {}: extra bytes", v.name);
        assert!(out.status.success(), "vector {}: {out:#?}", v.name);
        assert!(out.stderr.is_empty(), "vector {}: {out:#?}", v.name);
        let got: Vec<&String> = out
            .stdout
            .iter()
            .filter(|l| l.starts_with("got "))
            .collect();
        assert_eq!(got, vec![&got_line(&v.response)], "vector {}", v.name);
    }
}

#[test]
fn app_client_prints_an_error_result_from_the_server() {
    // `find x` goes out as a binary request; whatever the answer, the
    // client prints it. Here: the server's answer to a text/json `find`.
    let v = vector("json-invalid-action");
    let request = binary_request(b"findx");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let server = raw_server(listener, request.len(), Some(v.response.clone()));
    let out = run(APP_CLIENT, &["127.0.0.1", &port, "find", "x", "-q"]);
    let seen = server.join().expect("the raw server");
    assert_eq!(py_bytes(&seen.request), py_bytes(&request));
    assert!(out.status.success(), "{out:#?}");
    assert_eq!(
        out.stdout,
        vec!["got result: Error: invalid action \"find\"."]
    );
}

#[test]
fn app_client_exits_1_on_a_broken_response() {
    let v = vector("search-morpheus");
    // A proto-header announcing a JSON header that is not JSON.
    let broken = frame(b"{not json at all", b"");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let server = raw_server(listener, v.request.len(), Some(broken));
    let out = run(APP_CLIENT, &["127.0.0.1", &port, "search", "morpheus"]);
    server.join().expect("the raw server");
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(
        !out.stdout.iter().any(|l| l.starts_with("got ")),
        "{out:#?}"
    );
    assert_eq!(out.stderr.len(), 1, "{out:#?}");
    assert!(
        out.stderr[0].starts_with(&format!("error: bad response from ('127.0.0.1', {port})")),
        "{out:#?}"
    );
}

#[test]
fn app_client_exits_1_when_the_server_closes_without_answering() {
    let v = vector("search-ring");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let server = thread::spawn(move || {
        let mut sock = accept_one(&listener);
        let mut request = vec![0u8; v.request.len()];
        sock.read_exact(&mut request).expect("read the request");
        // Half an answer, then close.
        sock.write_all(&v.response[..20]).expect("write");
    });
    let out = run(APP_CLIENT, &["127.0.0.1", &port, "search", "ring"]);
    server.join().expect("the raw server");
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(
        !out.stdout.iter().any(|l| l.starts_with("got ")),
        "{out:#?}"
    );
    assert_eq!(out.stderr.len(), 1, "{out:#?}");
    assert!(
        out.stderr[0].starts_with(&format!("error: connection to ('127.0.0.1', {port})")),
        "{out:#?}"
    );
}

#[test]
fn app_client_times_out_on_a_silent_server() {
    let v = vector("search-ring");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    // Reads the request, never answers, and holds the connection until the
    // client gives up.
    let server = raw_server(listener, v.request.len(), None);
    let started = Instant::now();
    let out = run(
        APP_CLIENT,
        &["127.0.0.1", &port, "search", "ring", "--timeout", "1"],
    );
    let seen = server.join().expect("the raw server");
    assert_eq!(seen.request, v.request);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "gave up before its timeout"
    );
    assert_eq!(out.stderr.len(), 1, "{out:#?}");
    assert!(out.stderr[0].contains("timed out"), "{out:#?}");
}

#[test]
fn app_client_reads_an_answer_that_comes_one_byte_at_a_time() {
    let v = vector("search-dog-emoji");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port().to_string();
    let response = v.response.clone();
    let len = v.request.len();
    let server = thread::spawn(move || {
        let mut sock = accept_one(&listener);
        sock.set_nodelay(true).expect("TCP_NODELAY");
        let mut request = vec![0u8; len];
        sock.read_exact(&mut request).expect("read the request");
        for byte in &response {
            sock.write_all(std::slice::from_ref(byte))
                .expect("write one byte");
        }
        let mut rest = Vec::new();
        sock.read_to_end(&mut rest)
            .expect("read until the client closes");
        request
    });
    let out = run(APP_CLIENT, &["127.0.0.1", &port, "search", "🐶", "-q"]);
    assert_eq!(server.join().expect("the raw server"), v.request);
    assert!(out.status.success(), "{out:#?}");
    assert_eq!(out.stdout, vec!["got result: 🐾 Playing ball! 🏐"]);
}

#[test]
fn app_client_repeat_pipelines_on_one_connection() {
    let server = Server::start(APP_SERVER, &[]);
    let out = run(
        APP_CLIENT,
        &[
            "127.0.0.1",
            &server.port().to_string(),
            "x",
            "y",
            "--repeat",
            "200",
            "-q",
        ],
    );
    assert!(out.status.success(), "{out:#?}");
    assert_eq!(
        out.stdout,
        vec!["got response: b'First 10 bytes of request: xy'"; 200]
    );
    // One connection for all of them.
    let (lines, _) = server.stdout.wait_until(WAIT, |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("closing connection to "))
    });
    let accepted = lines
        .iter()
        .filter(|l| l.starts_with("accepted connection from "))
        .count();
    assert_eq!(accepted, 1, "{lines:#?}");
    let requests = lines
        .iter()
        .filter(|l| l.starts_with("received binary/custom-client-binary-type request from "))
        .count();
    assert_eq!(requests, 200);
}
