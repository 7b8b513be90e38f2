//! A TCP stream has no message boundaries: many requests in one write, a
//! request one byte at a time, a request of exactly the content limit, and
//! 10 MiB through the echo server to a reader slower than the writer.

mod common;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::thread;
use std::time::Duration;

use common::*;

#[test]
fn hundred_requests_pipelined_in_one_write_are_answered_in_order() {
    let server = Server::start(APP_SERVER, &["-q"]);
    let vectors = vectors();
    let picks: Vec<&Vector> = (0..100).map(|i| &vectors[i % vectors.len()]).collect();
    let batch: Vec<u8> = picks.iter().flat_map(|v| v.request.clone()).collect();
    let mut sock = server.connect();
    sock.write_all(&batch).expect("one write of 100 requests");
    for (i, v) in picks.iter().enumerate() {
        let answer = read_message(&mut sock).expect("an answer");
        assert_eq!(
            py_bytes(&answer.raw),
            py_bytes(&v.response),
            "answer {i} ({})",
            v.name
        );
    }
    // Nothing more, and the connection still serves.
    expect_silence(&mut sock, Duration::from_millis(50));
    assert_serves(&mut sock);
}

#[test]
fn a_request_sent_one_byte_at_a_time_is_answered_once_whole() {
    let server = Server::start(APP_SERVER, &["-q"]);
    let mut sock = server.connect(); // TCP_NODELAY: one segment per byte
    for name in ["search-dog-emoji", "binary-unicode", "search-quote"] {
        let v = vector(name);
        let (last, head) = v.request.split_last().expect("a request");
        for &byte in head {
            sock.write_all(&[byte]).expect("write one byte");
        }
        // No answer before the last byte.
        expect_silence(&mut sock, Duration::from_millis(100));
        sock.write_all(&[*last]).expect("write the last byte");
        let answer = read_message(&mut sock).expect("the answer");
        assert_eq!(py_bytes(&answer.raw), py_bytes(&v.response), "{name}");
    }
}

#[test]
fn a_binary_request_of_exactly_the_default_limit_is_accepted() {
    let server = Server::start(APP_SERVER, &["-q"]);
    let content: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    assert_eq!(content.len(), 1_048_576);
    let request = binary_request(&content);
    let mut sock = server.connect();
    let answer = ask(&mut sock, &request);
    assert_eq!(
        answer.header["content-type"], "binary/custom-server-binary-type",
        "{answer:?}"
    );
    assert_eq!(answer.content, binary_answer_content(&content));
    assert_serves(&mut sock);
    assert!(server.stderr.snapshot().is_empty());
}

#[test]
fn a_binary_request_one_byte_above_the_default_limit_is_refused() {
    let server = Server::start(APP_SERVER, &["-q"]);
    let mut sock = server.connect();
    // The header alone: the server must not wait for the content.
    let header = header("binary/custom-client-binary-type", "binary", (1 << 20) + 1);
    sock.write_all(&frame(header.as_bytes(), b""))
        .expect("write");
    expect_eof(&mut sock);
    let peer = sock.local_addr().expect("local addr");
    let line = server
        .stderr
        .expect_line("about the refused request", |l| l.contains(&py_addr(peer)));
    assert!(
        line.starts_with("error: ") && line.contains("1048577"),
        "{line}"
    );
}

/// Byte `i` of the echo test's stream: not periodic at any power of two.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8 ^ (i / 4093) as u8
}

#[test]
fn ten_mib_through_echo_server_to_a_slow_reader() {
    const TOTAL: usize = 10 << 20;
    let server = Server::start(ECHO_SERVER, &["-q"]);
    let mut sock = server.connect();
    let mut writer = sock.try_clone().expect("clone the socket");
    let write_thread = thread::spawn(move || {
        let mut offset = 0;
        let mut chunk = vec![0u8; 256 * 1024];
        while offset < TOTAL {
            let n = chunk.len().min(TOTAL - offset);
            for (j, byte) in chunk[..n].iter_mut().enumerate() {
                *byte = pattern(offset + j);
            }
            writer.write_all(&chunk[..n]).expect("write to echo-server");
            offset += n;
        }
        writer.shutdown(Shutdown::Write).expect("shutdown write");
    });
    // Small reads: the reader is much slower than the writer, so the
    // server's writes back block and it must stop reading meanwhile.
    let mut buf = [0u8; 1024];
    let mut got = 0;
    loop {
        let n = sock.read(&mut buf).expect("read the echo");
        if n == 0 {
            break;
        }
        for (j, &byte) in buf[..n].iter().enumerate() {
            assert_eq!(byte, pattern(got + j), "byte {} of the echo", got + j);
        }
        got += n;
        assert!(got <= TOTAL, "more bytes back than sent");
    }
    write_thread.join().expect("the writer");
    assert_eq!(got, TOTAL, "every byte back before the server's EOF");
    assert!(server.stderr.snapshot().is_empty());
}

/// A peer that sends and never reads fills its own kernel buffers, not the
/// server's memory: the server stops reading while it owes bytes.
fn a_peer_that_never_reads_is_held_back(bin: &str, unit: &[u8]) {
    let server = Server::start(bin, &["-q"]);
    let rss_before = rss_kib(server.pid());
    let mut sock = server.connect();
    // Small buffers on this side: less to push before the server balks.
    use nix::sys::socket::{setsockopt, sockopt};
    setsockopt(&sock, sockopt::SndBuf, &(64 * 1024)).expect("SO_SNDBUF");
    setsockopt(&sock, sockopt::RcvBuf, &(64 * 1024)).expect("SO_RCVBUF");
    // That the writes stop at all is checked on every system; the memory
    // only where /proc shows it (Linux).
    let total = write_until_blocked(&mut sock, unit);
    if let (Some(before), Some(after)) = (rss_before, rss_kib(server.pid())) {
        let grown = after.saturating_sub(before);
        // What the kernel buffers hold (a few MiB per connection on
        // loopback), not an ever-growing queue: the writes stopped. The
        // server's own growth stays far below what was sent to it.
        assert!(
            grown * 1024 < (total as u64) / 2,
            "{bin}: RSS grew by {grown} KiB while {total} bytes were sent"
        );
    }
    // And it still serves others.
    if bin == APP_SERVER {
        assert_serves(&mut server.connect());
    }
}

#[test]
fn app_server_holds_back_a_peer_that_never_reads() {
    a_peer_that_never_reads_is_held_back(APP_SERVER, &vector("search-ring").request);
}

#[test]
fn echo_server_holds_back_a_peer_that_never_reads() {
    a_peer_that_never_reads_is_held_back(ECHO_SERVER, b"0123456789abcdef");
}

#[test]
fn a_json_header_of_the_largest_size_is_accepted() {
    // 65535 bytes of JSON header: with the proto-header, more than one
    // 64 KiB read, so the request is assembled across reads.
    let server = Server::start(APP_SERVER, &["-q"]);
    let content = b"{\"action\": \"search\", \"value\": \"morpheus\"}";
    let base = header("text/json", "utf-8", content.len());
    let pad_key = ", \"x-pad\": \"\"}";
    let pad = u16::MAX as usize - (base.len() - 1 + pad_key.len());
    let big = format!(
        "{}, \"x-pad\": \"{}\"}}",
        &base[..base.len() - 1],
        "p".repeat(pad)
    );
    assert_eq!(big.len(), u16::MAX as usize);
    let mut sock = server.connect();
    let answer = ask(&mut sock, &frame(big.as_bytes(), content));
    assert_eq!(answer.raw, vector("search-morpheus").response);
    assert_serves(&mut sock);
}

#[test]
fn requests_followed_by_eof_are_all_answered_before_the_close() {
    // The client sends its requests and half-closes; the server answers
    // every one (more than a socket buffer holds), then closes.
    const N: usize = 3000;
    let server = Server::start(APP_SERVER, &["-q"]);
    let v = vector("binary-hello");
    let mut sock = server.connect();
    let mut writer = sock.try_clone().expect("clone");
    let requests = v.request.repeat(N);
    let write_thread = thread::spawn(move || {
        writer.write_all(&requests).expect("write the requests");
        writer.shutdown(Shutdown::Write).expect("half-close");
    });
    for i in 0..N {
        let answer = read_message(&mut sock).unwrap_or_else(|e| panic!("answer {i}: {e}"));
        assert_eq!(answer.raw, v.response, "answer {i}");
    }
    expect_eof(&mut sock);
    write_thread.join().expect("the writer");
}
