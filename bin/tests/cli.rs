//! The transcripts of docs/cli.md, exit codes, usage errors, --help and
//! --version: every program as a real process on 127.0.0.1 port 0.

mod common;

use std::net::SocketAddr;

use common::*;

const M1: &[u8] = b"Message 1 from client.";
const M2: &[u8] = b"Message 2 from client.";

/// The bytes of the `received b'...' from connection N` lines of one
/// connection, concatenated.
fn received_bytes(lines: &[String], prefix: &str, suffix: &str) -> Vec<u8> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix(prefix)?.strip_suffix(suffix))
        .flat_map(parse_py_bytes)
        .collect()
}

/// Runs multiconn-client with `n` connections against a fresh echo-server
/// and checks both transcripts.
fn multiconn_transcript(n: usize) {
    let server = Server::start(ECHO_SERVER, &[]);
    let port = server.port().to_string();
    let out = run(MULTICONN_CLIENT, &["127.0.0.1", &port, &n.to_string()]);
    assert!(out.status.success(), "exit status: {out:#?}");
    assert!(out.stderr.is_empty(), "stderr: {:#?}", out.stderr);
    let srv = server.repr();

    // Every connection is started before the loop runs.
    for i in 1..=n {
        assert_eq!(
            out.stdout[i - 1],
            format!("starting connection {i} to {srv}"),
            "{:#?}",
            out.stdout
        );
    }
    for i in 1..=n {
        let sending = format!(" to connection {i}");
        let received = format!(" from connection {i}");
        let closing = format!("closing connection {i}");
        let mine: Vec<&String> = out
            .stdout
            .iter()
            .filter(|l| {
                l.starts_with(&format!("starting connection {i} "))
                    || l.ends_with(&sending)
                    || l.ends_with(&received)
                    || **l == closing
            })
            .collect();
        let n_lines = mine.len();
        assert!(n_lines >= 5, "connection {i}: {mine:#?}");
        assert_eq!(
            *mine[1],
            format!("sending {} to connection {i}", py_bytes(M1))
        );
        assert_eq!(
            *mine[2],
            format!("sending {} to connection {i}", py_bytes(M2))
        );
        assert_eq!(*mine[n_lines - 1], closing);
        let middle: Vec<String> = mine[3..n_lines - 1].iter().map(|s| s.to_string()).collect();
        assert!(
            middle.iter().all(|l| l.starts_with("received b")),
            "connection {i}: only `received` lines between the sends and the close: {mine:#?}"
        );
        assert_eq!(
            received_bytes(&middle, "received ", &received),
            [M1, M2].concat(),
            "connection {i}: the bytes received"
        );
    }
    assert_eq!(out.stdout.len(), n * 5 + count_extra_received(&out.stdout));

    // The server: one accepted and one closing line per connection, and
    // the echoed bytes of each peer concatenate to both messages.
    let (lines, done) = server.stdout.wait_until(WAIT, |lines| {
        lines
            .iter()
            .filter(|l| l.starts_with("closing connection to "))
            .count()
            == n
    });
    assert!(done, "echo-server closed fewer than {n}: {lines:#?}");
    assert!(lines[0].starts_with("listening on "));
    let peers: Vec<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("accepted connection from "))
        .map(str::to_owned)
        .collect();
    assert_eq!(peers.len(), n, "{lines:#?}");
    for peer in &peers {
        let addr: SocketAddr = parse_py_addr(peer);
        assert_eq!(addr.ip(), server.addr.ip());
        let to = format!(" to {peer}");
        let echoed = received_bytes(&lines, "echoing ", &to);
        assert_eq!(echoed, [M1, M2].concat(), "echoed to {peer}: {lines:#?}");
        let accepted = lines
            .iter()
            .position(|l| *l == format!("accepted connection from {peer}"));
        let closing = lines
            .iter()
            .position(|l| *l == format!("closing connection to {peer}"));
        let first_echo = lines
            .iter()
            .position(|l| l.starts_with("echoing ") && l.ends_with(&to));
        assert!(
            accepted < first_echo && first_echo < closing,
            "order of {peer}'s lines: {lines:#?}"
        );
    }
    let expected = 1 + 2 * n + count_lines(&lines, "echoing ");
    assert_eq!(lines.len(), expected, "unexpected lines: {lines:#?}");
    assert!(server.stderr.snapshot().is_empty());
}

fn count_extra_received(lines: &[String]) -> usize {
    // Five lines per connection when each connection receives both messages
    // in one read; one more per extra `received` line.
    let received = count_lines(lines, "received ");
    let connections = count_lines(lines, "closing connection ");
    received - connections
}

fn count_lines(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

/// `('127.0.0.1', 61354)` back to an address.
fn parse_py_addr(text: &str) -> SocketAddr {
    let inner = text
        .strip_prefix("('")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not an address tuple: {text}"));
    let (ip, port) = inner.split_once("', ").expect("ip and port");
    format!("{ip}:{port}").parse().expect("an IPv4 address")
}

#[test]
fn multiconn_client_with_one_connection_against_echo_server() {
    multiconn_transcript(1);
}

#[test]
fn multiconn_client_with_three_connections_against_echo_server() {
    multiconn_transcript(3);
}

#[test]
fn multiconn_client_refused_reports_the_error_and_exits_1() {
    let port = closed_port();
    let out = run(MULTICONN_CLIENT, &["127.0.0.1", &port.to_string(), "2"]);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    for i in 1..=2 {
        let line = format!("error: connection {i} to ('127.0.0.1', {port}) refused");
        assert!(out.stderr.contains(&line), "no {line:?}: {out:#?}");
    }
}

/// Runs app-client for ACTION VALUE against a fresh app-server; checks the
/// exit status and both transcripts against `client_lines` and
/// `server_request_line` (the server's `received ...` line without ` from`).
fn app_transcript(action: &str, value: &str, client_tail: &[&str], server_request: &str) {
    let server = Server::start(APP_SERVER, &[]);
    let srv = server.repr();
    let out = run(
        APP_CLIENT,
        &["127.0.0.1", &server.port().to_string(), action, value],
    );
    assert!(out.status.success(), "{out:#?}");
    assert!(out.stderr.is_empty(), "{out:#?}");
    let v = vectors()
        .into_iter()
        .find(|v| v.action == action && v.value == value)
        .expect("a vector for this request");
    let mut expected = vec![
        format!("starting connection to {srv}"),
        format!("sending {} to {srv}", py_bytes(&v.request)),
    ];
    expected.extend(client_tail.iter().map(|l| l.replace("{srv}", &srv)));
    expected.push(format!("closing connection to {srv}"));
    assert_eq!(out.stdout, expected);

    let (lines, done) = server.stdout.wait_until(WAIT, |lines| {
        lines
            .iter()
            .any(|l| l.starts_with("closing connection to "))
    });
    assert!(done, "app-server did not close: {lines:#?}");
    let peer = lines[1]
        .strip_prefix("accepted connection from ")
        .unwrap_or_else(|| panic!("second line: {lines:#?}"))
        .to_owned();
    assert_eq!(
        lines,
        vec![
            format!("listening on {srv}"),
            format!("accepted connection from {peer}"),
            format!("{server_request} from {peer}"),
            format!("sending {} to {peer}", py_bytes(&v.response)),
            format!("closing connection to {peer}"),
        ]
    );
    assert!(server.stderr.snapshot().is_empty());
}

#[test]
fn app_client_search_morpheus_transcript() {
    app_transcript(
        "search",
        "morpheus",
        &[
            "received response {\"result\": \"Follow the white rabbit. 🐰\"} from {srv}",
            "got result: Follow the white rabbit. 🐰",
        ],
        "received request {\"action\": \"search\", \"value\": \"morpheus\"}",
    );
}

#[test]
fn app_client_binary_request_transcript() {
    app_transcript(
        "hello",
        "world",
        &[
            "received binary/custom-server-binary-type response from {srv}",
            "got response: b'First 10 bytes of request: helloworld'",
        ],
        "received binary/custom-client-binary-type request",
    );
}

#[test]
fn app_client_quiet_repeat_prints_one_got_line_per_answer() {
    let server = Server::start(APP_SERVER, &["-q"]);
    let out = run(
        APP_CLIENT,
        &[
            "127.0.0.1",
            &server.port().to_string(),
            "search",
            "ring",
            "--repeat",
            "5",
            "-q",
        ],
    );
    assert!(out.status.success(), "{out:#?}");
    assert_eq!(
        out.stdout,
        vec!["got result: In the caves beneath the Misty Mountains. 💍"; 5]
    );
    assert!(out.stderr.is_empty(), "{out:#?}");
    // A quiet server prints its listening line only.
    assert_eq!(server.stdout.snapshot().len(), 1);
}

#[test]
fn app_client_refused_reports_the_error_and_exits_1() {
    let port = closed_port();
    let out = run(APP_CLIENT, &["127.0.0.1", &port.to_string(), "search", "x"]);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert_eq!(
        out.stderr,
        vec![format!(
            "error: connection to ('127.0.0.1', {port}) refused"
        )]
    );
    assert!(!out.stdout.iter().any(|l| l.starts_with("got ")));
}

const PROGRAMS: [(&str, &str); 4] = [
    (ECHO_SERVER, "echo-server"),
    (APP_SERVER, "app-server"),
    (MULTICONN_CLIENT, "multiconn-client"),
    (APP_CLIENT, "app-client"),
];

#[test]
fn usage_errors_exit_2_with_the_usage_on_stderr() {
    let cases: &[(&str, &[&str])] = &[
        (ECHO_SERVER, &[]),
        (ECHO_SERVER, &["127.0.0.1"]),
        (ECHO_SERVER, &["127.0.0.1", "notaport"]),
        (ECHO_SERVER, &["127.0.0.1", "70000"]),
        (ECHO_SERVER, &["127.0.0.1", "0", "--idle-timeout", "soon"]),
        (
            ECHO_SERVER,
            &["127.0.0.1", "0", "--max-content-length", "5"],
        ),
        (ECHO_SERVER, &["127.0.0.1", "0", "extra"]),
        (APP_SERVER, &[]),
        (APP_SERVER, &["127.0.0.1", "-1"]),
        (
            APP_SERVER,
            &["127.0.0.1", "0", "--max-content-length", "-1"],
        ),
        (APP_SERVER, &["127.0.0.1", "0", "--max-connections", "0"]),
        (APP_SERVER, &["127.0.0.1", "0", "--workers", "0"]),
        // More worker loops than the signal handler can wake.
        (ECHO_SERVER, &["127.0.0.1", "0", "--workers", "65"]),
        (APP_SERVER, &["127.0.0.1", "0", "--request-timeout", "-1"]),
        (
            APP_SERVER,
            &["127.0.0.1", "0", "--max-buffered-bytes", "lots"],
        ),
        (APP_SERVER, &["127.0.0.1", "0", "--idle-timeout", "-1"]),
        (APP_SERVER, &["127.0.0.1", "0", "--no-such-option"]),
        (MULTICONN_CLIENT, &[]),
        (MULTICONN_CLIENT, &["127.0.0.1", "1"]),
        (MULTICONN_CLIENT, &["127.0.0.1", "1", "zero"]),
        (MULTICONN_CLIENT, &["127.0.0.1", "1", "0"]),
        (MULTICONN_CLIENT, &["127.0.0.1", "1", "2", "--timeout", "x"]),
        (APP_CLIENT, &[]),
        (APP_CLIENT, &["127.0.0.1", "1", "search"]),
        (APP_CLIENT, &["127.0.0.1", "port", "search", "x"]),
        (
            APP_CLIENT,
            &["127.0.0.1", "1", "search", "x", "--repeat", "0"],
        ),
        (APP_CLIENT, &["127.0.0.1", "1", "search", "x", "extra"]),
    ];
    let mut wrong = Vec::new();
    for (bin, args) in cases {
        let name = PROGRAMS
            .iter()
            .find(|(b, _)| b == bin)
            .expect("a program")
            .1;
        let out = run(bin, args);
        let usage = out
            .stderr
            .iter()
            .any(|l| l.starts_with(&format!("Usage: {name} ")));
        if out.status.code() != Some(2) || !out.stdout.is_empty() || !usage {
            wrong.push(format!("{name} {args:?}: {out:#?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "not exit 2 with the usage on stderr (and nothing on stdout):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn help_and_version_exit_0_on_stdout() {
    for (bin, name) in PROGRAMS {
        let out = run(bin, &["--help"]);
        assert_eq!(out.status.code(), Some(0), "{name} --help: {out:#?}");
        assert!(out.stderr.is_empty(), "{name} --help: {out:#?}");
        assert!(
            out.stdout
                .iter()
                .any(|l| l.starts_with(&format!("Usage: {name} "))),
            "{name} --help: {out:#?}"
        );
        let out = run(bin, &["--version"]);
        assert_eq!(out.status.code(), Some(0), "{name} --version: {out:#?}");
        assert!(out.stderr.is_empty(), "{name} --version: {out:#?}");
        assert_eq!(
            out.stdout,
            vec![format!("{name} {}", env!("CARGO_PKG_VERSION"))]
        );
    }
}

#[test]
fn trace_prints_every_reactor_step() {
    let mut server = Server::start(ECHO_SERVER, &["--trace"]);
    let out = run(
        MULTICONN_CLIENT,
        &["127.0.0.1", &server.port().to_string(), "1"],
    );
    assert!(out.status.success(), "{out:#?}");
    server
        .stdout
        .expect_line("closing the connection", |l| l.starts_with("closing "));
    server.signal(Signal::SIGINT);
    let (status, lines) = server.wait_exit(WAIT);
    assert_eq!(status.code(), Some(0));
    assert_eq!(lines.last().map(String::as_str), Some(SHUTDOWN_LINE));
    // The listener and the connection: registered, ready, unregistered.
    let fd_of = |prefix: &str| -> Vec<String> {
        lines
            .iter()
            .filter_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
            .collect()
    };
    let registered = fd_of("register fd=");
    assert_eq!(registered.len(), 2, "{lines:#?}");
    let unregistered = fd_of("unregister fd=");
    for fd in &registered {
        assert!(
            unregistered.contains(fd),
            "fd {fd} never unregistered: {lines:#?}"
        );
        assert!(
            fd_of("ready fd=").contains(fd),
            "no readiness of fd {fd}: {lines:#?}"
        );
    }
    // The tutorial's lines are all still there.
    assert!(lines
        .iter()
        .any(|l| l.starts_with("accepted connection from ")));
    assert!(lines.iter().any(|l| l.starts_with("echoing b'")));
}

#[test]
fn multiconn_client_exits_1_when_the_server_closes_early() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let server = std::thread::spawn(move || {
        // Take the first message's bytes, echo none, close.
        let mut sock = accept_one(&listener);
        let mut first = vec![0u8; M1.len()];
        std::io::Read::read_exact(&mut sock, &mut first).expect("read");
        first
    });
    let out = run(MULTICONN_CLIENT, &["127.0.0.1", &port.to_string(), "1"]);
    assert_eq!(server.join().expect("the raw server"), M1);
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert_eq!(out.stderr.len(), 1, "{out:#?}");
    assert!(
        out.stderr[0].starts_with(&format!("error: connection 1 to ('127.0.0.1', {port})")),
        "{out:#?}"
    );
    assert!(!out.stdout.contains(&"closing connection 1".to_owned()));
}

#[test]
fn app_client_repeat_exits_1_when_the_server_answers_once_and_closes() {
    // The Python server's lifecycle: one answer, then close; the client
    // wanted three.
    let v = vector("search-morpheus");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let response = v.response.clone();
    let server = std::thread::spawn(move || {
        let mut sock = accept_one(&listener);
        // All three pipelined requests are read (so the close is a FIN, not
        // a reset); one is answered.
        let mut requests = vec![0u8; v.request.len() * 3];
        std::io::Read::read_exact(&mut sock, &mut requests).expect("read");
        assert_eq!(requests, v.request.repeat(3));
        std::io::Write::write_all(&mut sock, &response).expect("write");
    });
    let out = run(
        APP_CLIENT,
        &[
            "127.0.0.1",
            &port.to_string(),
            "search",
            "morpheus",
            "--repeat",
            "3",
            "-q",
        ],
    );
    server.join().expect("the raw server");
    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    assert_eq!(out.stdout, vec!["got result: Follow the white rabbit. 🐰"]);
    assert_eq!(out.stderr.len(), 1, "{out:#?}");
    assert!(out.stderr[0].contains("(1 of 3)"), "{out:#?}");
}

#[test]
fn ipv6_addresses_print_as_python_prints_them() {
    let server = Server::start_cmd(server_command_on(APP_SERVER, "::1", &[]));
    assert_eq!(server.addr.ip().to_string(), "::1");
    let srv = format!("('::1', {}, 0, 0)", server.port());
    assert_eq!(server.repr(), srv);
    let out = run(
        APP_CLIENT,
        &["::1", &server.port().to_string(), "search", "ring"],
    );
    assert!(out.status.success(), "{out:#?}");
    assert_eq!(out.stdout[0], format!("starting connection to {srv}"));
    assert_eq!(
        out.stdout.last(),
        Some(&format!("closing connection to {srv}"))
    );
    let accepted = server.stdout.expect_line("accepting the client", |l| {
        l.starts_with("accepted connection from ")
    });
    assert!(
        accepted.starts_with("accepted connection from ('::1', ") && accepted.ends_with(", 0, 0)"),
        "{accepted}"
    );
}
