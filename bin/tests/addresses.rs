//! A HOST that resolves to several addresses is tried address by address,
//! in order, and only the last error is reported, as Python's
//! `socket.create_connection` does.
//!
//! Which addresses a name has depends on the machine (`localhost` may be
//! `::1` and `127.0.0.1`, or only one of them), so the clients' loop,
//! [`run_clients`], runs here on a list of addresses given directly: the
//! programs pass it what `resolve_all` found. It runs in a child process
//! (this test binary again), so its output lines can be read as a user
//! would see them.

mod common;

use std::net::SocketAddr;
use std::process::{Command, ExitCode, Stdio};

use common::*;
use sockets::client::app::ClientMessage;
use sockets::client::multiconn::MulticonnMessage;
use sockets::client::run_clients;
use sockets::pyrepr::Addr;
use sockets::say::{self, Say};

/// Set in the child: `PROGRAM ADDR ADDR...`, the client to run and where.
const CHILD_ENV: &str = "SOCKETS_ADDRESSES_CHILD";

/// In the child, runs the clients the parent asked for (what
/// `multiconn-client HOST PORT 2` and `app-client HOST PORT search
/// morpheus` do after resolving HOST) and exits with their status; in the
/// parent, returns.
fn child_part() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut words = spec.split(' ');
    let program = words.next().unwrap_or_default();
    let addrs: Vec<SocketAddr> = words.map(|a| a.parse().expect("an address")).collect();
    let timeout = WAIT;
    let status = match program {
        "multiconn" => {
            let say = Say { quiet: false };
            run_clients(&addrs, 2, timeout, say, false, |connid, addr, sock| {
                say.event(format_args!(
                    "starting connection {connid} to {}",
                    Addr(addr)
                ));
                MulticonnMessage::new(sock, connid, addr)
            })
        }
        "app" => {
            let say = Say { quiet: false };
            run_clients(&addrs, 1, timeout, say, false, |_, addr, sock| {
                say.event(format_args!("starting connection to {}", Addr(addr)));
                ClientMessage::new(sock, addr, "search", "morpheus", 1)
            })
        }
        other => panic!("no client program {other:?}"),
    };
    say::progress(format_args!("child done"));
    std::process::exit(if status == ExitCode::SUCCESS { 0 } else { 1 });
}

/// Runs test `test_name` again in a child that runs `program`'s clients on
/// `addrs`; returns what the child printed (the test harness's own lines
/// among them) and its status.
fn clients_on(test_name: &str, program: &str, addrs: &[SocketAddr]) -> Output {
    let spec: Vec<String> = std::iter::once(program.to_owned())
        .chain(addrs.iter().map(SocketAddr::to_string))
        .collect();
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        // --quiet: the harness's `test NAME ... ` would begin our first line.
        .args(["--exact", test_name, "--nocapture", "--quiet"])
        .env(CHILD_ENV, spec.join(" "))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the test binary runs again as a child");
    let stdout = Lines::collect(child.stdout.take().expect("stdout"));
    let stderr = Lines::collect(child.stderr.take().expect("stderr"));
    let status = wait_exit(&mut child, WAIT * 2);
    let out = Output {
        status,
        stdout: stdout.wait_closed(WAIT),
        stderr: stderr.wait_closed(WAIT),
    };
    assert!(
        out.stderr.iter().any(|l| l == "child done"),
        "the child did not run the clients: {out:#?}"
    );
    out
}

fn errors(out: &Output) -> Vec<&str> {
    out.stderr
        .iter()
        .filter(|l| l.starts_with("error:"))
        .map(String::as_str)
        .collect()
}

/// Where the first line equal to `line` is in `lines`.
fn position(lines: &[String], line: &str) -> Option<usize> {
    lines.iter().position(|l| l == line)
}

#[test]
fn multiconn_moves_on_from_a_refusing_address_to_the_server() {
    child_part();
    let server = Server::start(ECHO_SERVER, &[]);
    // `localhost` as `::1` first, where nothing listens, then 127.0.0.1.
    let refusing: SocketAddr = format!("[::1]:{}", closed_port()).parse().unwrap();
    let out = clients_on(
        "multiconn_moves_on_from_a_refusing_address_to_the_server",
        "multiconn",
        &[refusing, server.addr],
    );

    assert_eq!(out.status.code(), Some(0), "{out:#?}");
    assert_eq!(errors(&out), Vec::<&str>::new(), "{out:#?}");
    for id in 1..=2 {
        let first = format!("starting connection {id} to {}", py_addr(refusing));
        let then = format!("starting connection {id} to {}", server.repr());
        let closed = format!("closing connection {id}");
        let at = |line: &str| position(&out.stdout, line);
        assert!(
            matches!((at(&first), at(&then), at(&closed)), (Some(a), Some(b), Some(c)) if a < b && b < c),
            "connection {id} did not go {first:?}, {then:?}, {closed:?}: {out:#?}"
        );
    }
}

#[test]
fn app_client_moves_on_from_a_refusing_address_to_the_server() {
    child_part();
    let server = Server::start(APP_SERVER, &[]);
    let refusing: SocketAddr = format!("127.0.0.1:{}", closed_port()).parse().unwrap();
    let out = clients_on(
        "app_client_moves_on_from_a_refusing_address_to_the_server",
        "app",
        &[refusing, server.addr],
    );

    assert_eq!(out.status.code(), Some(0), "{out:#?}");
    assert_eq!(errors(&out), Vec::<&str>::new(), "{out:#?}");
    let first = format!("starting connection to {}", py_addr(refusing));
    let then = format!("starting connection to {}", server.repr());
    let got = "got result: Follow the white rabbit. 🐰";
    let at = |line: &str| position(&out.stdout, line);
    assert!(
        matches!((at(&first), at(&then), at(got)), (Some(a), Some(b), Some(c)) if a < b && b < c),
        "{out:#?}"
    );
}

#[test]
fn app_client_reports_only_the_last_address_error_when_all_refuse() {
    child_part();
    let first: SocketAddr = format!("127.0.0.1:{}", closed_port()).parse().unwrap();
    let last: SocketAddr = format!("127.0.0.1:{}", closed_port()).parse().unwrap();
    let out = clients_on(
        "app_client_reports_only_the_last_address_error_when_all_refuse",
        "app",
        &[first, last],
    );

    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let line = format!("error: connection to {} refused", py_addr(last));
    assert_eq!(errors(&out), vec![line.as_str()], "{out:#?}");
}

#[test]
fn multiconn_reports_each_connection_s_last_address_error_when_all_refuse() {
    child_part();
    let first: SocketAddr = format!("[::1]:{}", closed_port()).parse().unwrap();
    let last: SocketAddr = format!("127.0.0.1:{}", closed_port()).parse().unwrap();
    let out = clients_on(
        "multiconn_reports_each_connection_s_last_address_error_when_all_refuse",
        "multiconn",
        &[first, last],
    );

    assert_eq!(out.status.code(), Some(1), "{out:#?}");
    let mut seen = errors(&out);
    seen.sort_unstable();
    let expected: Vec<String> = (1..=2)
        .map(|id| format!("error: connection {id} to {} refused", py_addr(last)))
        .collect();
    assert_eq!(seen, expected, "{out:#?}");
}
