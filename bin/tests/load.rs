//! Many connections at once, several workers, and no CPU spent while idle.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

use common::*;

/// Opens `n` connections first, then writes `per` pipelined requests on
/// each, then reads every answer and checks it.
fn many_connections(server: &Server, n: usize, per: usize) {
    raise_own_fd_limit(n as u64 + 256);
    let vectors = vectors();
    let mut socks: Vec<TcpStream> = (0..n).map(|_| server.connect()).collect();
    let pick = |c: usize, r: usize| &vectors[(c + r) % vectors.len()];
    for (c, sock) in socks.iter_mut().enumerate() {
        let batch: Vec<u8> = (0..per).flat_map(|r| pick(c, r).request.clone()).collect();
        sock.write_all(&batch).expect("write the requests");
    }
    for (c, sock) in socks.iter_mut().enumerate() {
        for r in 0..per {
            let answer =
                read_message(sock).unwrap_or_else(|e| panic!("connection {c}, answer {r}: {e}"));
            assert_eq!(
                answer.raw,
                pick(c, r).response,
                "connection {c}, answer {r} ({})",
                pick(c, r).name
            );
        }
    }
}

#[test]
fn a_thousand_concurrent_connections_with_ten_requests_each() {
    let server = Server::start(APP_SERVER, &["-q"]);
    many_connections(&server, 1000, 10);
    assert!(server.stderr.snapshot().is_empty());
}

#[test]
fn two_workers_serve_many_connections_and_stop_on_sigint() {
    let mut server = Server::start(APP_SERVER, &["-q", "--workers", "2"]);
    // Two worker threads (only Linux lists a process's threads in /proc).
    if cfg!(target_os = "linux") {
        let workers = std::fs::read_dir(format!("/proc/{}/task", server.pid()))
            .expect("list the server's threads")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.starts_with("worker-"))
            .count();
        assert_eq!(workers, 2);
    }
    many_connections(&server, 200, 5);
    let mut open = server.connect();
    assert_serves(&mut open);
    server.signal(Signal::SIGINT);
    expect_eof(&mut open);
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    assert_eq!(
        lines,
        vec![
            format!("listening on {}", server.repr()),
            SHUTDOWN_LINE.into()
        ]
    );
}

/// A server with `conns` connections, each served once, then idle: it
/// sleeps in epoll_wait, whatever `args` ask for.
fn idle_server_uses_no_cpu(bin: &str, args: &[&str], conns: usize) {
    let server = Server::start(bin, args);
    let mut socks: Vec<TcpStream> = (0..conns).map(|_| server.connect()).collect();
    // Each connection is registered and has been served once.
    for sock in &mut socks {
        exchange(bin, sock);
    }
    // Idle, the server sleeps in epoll_wait: 0 ticks, maybe 1 from the
    // tick-based accounting. A server that kept WRITE interest (as the
    // tutorial does), or busy-polled without end, would spin at a full
    // core: hundreds of ticks in 3 s, and still well over 10 on a loaded
    // machine. Its own CPU time is measured, so a loaded machine does not
    // inflate it.
    let window = Duration::from_secs(3);
    let before = server.cpu_ticks();
    thread::sleep(window);
    // Off Linux no CPU time is read, and only the serving is checked.
    if let (Some(before), Some(after)) = (before, server.cpu_ticks()) {
        let used = after - before;
        assert!(
            used <= 10,
            "idle {bin} {args:?} used {used} ticks in {window:?} (of {} per second)",
            ticks_per_second()
        );
    }
    // Still serving.
    for sock in &mut socks {
        exchange(bin, sock);
    }
}

/// One request and its answer: an echo, or a search.
fn exchange(bin: &str, sock: &mut TcpStream) {
    if bin == APP_SERVER {
        assert_serves(sock);
        return;
    }
    sock.write_all(b"hello").expect("write");
    let mut back = [0u8; 5];
    std::io::Read::read_exact(sock, &mut back).expect("the echo");
    assert_eq!(&back, b"hello");
}

#[test]
fn echo_server_idle_with_20_connections_uses_no_cpu() {
    idle_server_uses_no_cpu(ECHO_SERVER, &["-q"], 20);
}

#[test]
fn busy_polling_servers_idle_with_100_connections_use_no_cpu() {
    // 50 ms of polling after the last event, then sleep.
    idle_server_uses_no_cpu(ECHO_SERVER, &["-q", "--busy-poll", "50000"], 100);
    idle_server_uses_no_cpu(APP_SERVER, &["-q", "--busy-poll", "50000"], 100);
}

#[test]
fn multiconn_client_with_200_connections() {
    let server = Server::start(ECHO_SERVER, &["-q"]);
    let out = run(
        MULTICONN_CLIENT,
        &["127.0.0.1", &server.port().to_string(), "200"],
    );
    assert!(out.status.success(), "{:#?}", out.stderr);
    assert!(out.stderr.is_empty(), "{:#?}", out.stderr);
    for i in 1..=200 {
        assert!(
            out.stdout.contains(&format!("closing connection {i}")),
            "connection {i} did not finish"
        );
    }
}
