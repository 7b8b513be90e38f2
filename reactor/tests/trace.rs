//! `set_trace(true)` prints one line per reactor step, in the words the
//! programs' `--trace` shows a learner. Run in a child process (this binary
//! again), so its stdout can be read whole.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

use reactor::net::{ListenOptions, TcpListener, TcpStream};
use reactor::{Context, EventLoop, Handler, Interest, Ready};

const CHILD_ENV: &str = "REACTOR_TRACE_CHILD";
const TEST_NAME: &str = "trace_prints_one_line_per_reactor_step";

enum Sock {
    Listener(TcpListener),
    Conn(TcpStream),
}

impl AsFd for Sock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Sock::Listener(l) => l.as_fd(),
            Sock::Conn(c) => c.as_fd(),
        }
    }
}

impl Handler for Sock {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
        match self {
            Sock::Listener(listener) => {
                if let Ok((conn, _)) = listener.accept() {
                    cx.register(Sock::Conn(conn), Interest::READ).unwrap();
                }
            }
            Sock::Conn(conn) => {
                if ready.is_readable() {
                    let mut buf = [0u8; 64];
                    match conn.read(&mut buf) {
                        Ok(0) => cx.close(),
                        // Something to answer: ask for WRITE too.
                        Ok(_) => cx.set_interest(Interest::READ | Interest::WRITE).unwrap(),
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                        Err(_) => cx.close(),
                    }
                } else if ready.is_writable() {
                    conn.write_all(b"ok").unwrap();
                    // Answer sent: back to READ, and an idle deadline now.
                    cx.set_interest(Interest::READ).unwrap();
                    let now = cx.now();
                    cx.set_deadline(Some(now));
                }
            }
        }
    }
}

fn child() {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), &ListenOptions::default()).unwrap();
    let addr = listener.local_addr().unwrap();
    let listener_fd = listener.as_raw_fd();
    let mut event_loop = EventLoop::new().unwrap();
    event_loop.set_trace(true);
    event_loop
        .register(Sock::Listener(listener), Interest::READ)
        .unwrap();
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client.write_all(b"hi").unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    // Until the deadline has closed the connection: listener alone again.
    let mut seen_two = false;
    while !(seen_two && event_loop.registrations() == 1) {
        seen_two |= event_loop.registrations() == 2;
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("trace scenario timed out");
        event_loop
            .turn(Some(left.min(Duration::from_millis(50))))
            .unwrap();
    }
    println!("listener fd={listener_fd}");
}

/// What the test `test_name`, run again in a child, printed; it must pass.
fn child_stdout(test_name: &str) -> String {
    let out = common::rerun_in_child(CHILD_ENV, test_name);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn trace_prints_one_line_per_reactor_step() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child();
    }
    let stdout = child_stdout(TEST_NAME);
    let lines: Vec<&str> = stdout.lines().collect();
    let fd_of = |prefix: &str| -> String {
        let line = lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix:?} in:\n{stdout}"));
        line[prefix.len()..].split(' ').next().unwrap().to_string()
    };
    let listener = fd_of("listener fd=");
    let expect_in_order = [
        format!("register fd={listener} interest=READ"),
        format!("ready fd={listener} READ"),
    ];
    let conn = lines
        .iter()
        .filter_map(|l| l.split("register fd=").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().to_string())
        .find(|fd| *fd != listener)
        .unwrap_or_else(|| panic!("no connection registered:\n{stdout}"));
    let expect_in_order = expect_in_order.into_iter().chain([
        format!("register fd={conn} interest=READ"),
        format!("ready fd={conn} READ"),
        format!("modify fd={conn} interest=READ|WRITE"),
        format!("ready fd={conn} WRITE"),
        format!("modify fd={conn} interest=READ"),
        format!("timeout fd={conn}"),
        format!("unregister fd={conn}"),
    ]);
    // The harness prints "test NAME ... " before the first line of output.
    let is = |line: &str, want: &str| line == want || line.ends_with(&format!("... {want}"));
    let mut rest = lines.iter();
    for want in expect_in_order {
        assert!(
            rest.any(|l| is(l, &want)),
            "missing {want:?} (in order) in:\n{stdout}"
        );
    }
}

const PAUSE_TEST_NAME: &str = "trace_says_pause_and_resume_for_interest_none";

fn pause_child() {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), &ListenOptions::default()).unwrap();
    let listener_fd = listener.as_raw_fd();
    let mut event_loop = EventLoop::new().unwrap();
    event_loop.set_trace(true);
    let token = event_loop
        .register(Sock::Listener(listener), Interest::READ)
        .unwrap();
    assert!(event_loop.set_interest(token, Interest::NONE).unwrap());
    assert!(event_loop.set_interest(token, Interest::READ).unwrap());
    println!("listener fd={listener_fd}");
}

/// NONE takes the descriptor out of the kernel's set: the trace says
/// `pause`, and `resume` when it asks for something again, not `modify`.
#[test]
fn trace_says_pause_and_resume_for_interest_none() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return pause_child();
    }
    let stdout = child_stdout(PAUSE_TEST_NAME);
    let fd = stdout
        .lines()
        .find_map(|l| l.strip_prefix("listener fd="))
        .unwrap_or_else(|| panic!("no listener line in:\n{stdout}"));
    let this_fd = format!("fd={fd}");
    let steps: Vec<&str> = stdout
        .lines()
        // The harness prints "test NAME ... " before the first line of output.
        .map(|l| l.rsplit("... ").next().unwrap())
        .filter(|l| !l.starts_with("listener ") && l.split(' ').any(|word| word == this_fd))
        .collect();
    assert_eq!(
        steps,
        [
            format!("register fd={fd} interest=READ"),
            format!("pause fd={fd}"),
            format!("resume fd={fd} interest=READ"),
        ],
        "in:\n{stdout}"
    );
}
