//! The examples are lessons, so they must keep working: this runs the built
//! `echo_server` on 127.0.0.1 port 0, runs `connect` against it, checks what
//! both print, and stops the server with SIGINT. Cargo builds examples for
//! `cargo test` (and `--all-targets`); they sit in `target/<profile>/examples/`.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The longest any step may take.
const PATIENCE: Duration = Duration::from_secs(10);

/// `target/<profile>/examples/NAME`, found from this test binary's path
/// (`target/<profile>/deps/examples-HASH`).
fn example(name: &str) -> PathBuf {
    let me = std::env::current_exe().expect("current_exe");
    me.ancestors()
        .map(|dir| dir.join("examples").join(name))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("example `{name}` not built near {me:?}: run `cargo test -p reactor` or `cargo build -p reactor --examples`")
        })
}

/// Kills the child if the test fails before it exits on its own.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Each line of `out`, as it comes, on a channel (a read that can time out).
fn lines(out: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits (bounded) for the child to exit.
fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "child did not exit within {PATIENCE:?}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn echo_server_and_connect_examples_talk_and_the_server_stops_on_sigint() {
    let mut server = Guard(
        Command::new(example("echo_server"))
            .args(["127.0.0.1", "0", "--trace"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start echo_server"),
    );
    let server_out = lines(server.0.stdout.take().unwrap());
    let first = server_out
        .recv_timeout(PATIENCE)
        .expect("a `listening on` line");
    let port = first
        .strip_prefix("listening on ('127.0.0.1', ")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));

    let mut client = Guard(
        Command::new(example("connect"))
            .args(["127.0.0.1", port])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start connect"),
    );
    let client_out = lines(client.0.stdout.take().unwrap());
    let status = wait_exit(&mut client.0);
    let mut stderr = String::new();
    client
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "connect failed: {status}; stderr: {stderr}"
    );
    let printed: Vec<String> = client_out.iter().collect();
    assert_eq!(printed.len(), 3, "connect printed {printed:#?}");
    assert!(
        printed[0].ends_with(": in progress (EINPROGRESS)")
            || printed[0].ends_with(": connected at once"),
        "{printed:#?}"
    );
    assert_eq!(
        printed[1],
        r#"connected: SO_ERROR is 0; sending "hello from connect.rs\n""#
    );
    assert_eq!(printed[2], r#"received "hello from connect.rs\n""#);

    kill(Pid::from_raw(server.0.id() as i32), Signal::SIGINT).expect("SIGINT");
    let status = wait_exit(&mut server.0);
    assert!(status.success(), "echo_server exit status: {status}");
    let trace: Vec<String> = server_out.iter().collect();
    // The lesson of the example: WRITE asked for while the echo is owed,
    // dropped once it is sent.
    let switch = ["modify fd=", "interest=WRITE"];
    let back = ["modify fd=", "interest=READ"];
    let has = |pair: [&str; 2]| {
        trace
            .iter()
            .position(|l| l.starts_with(pair[0]) && l.ends_with(pair[1]))
    };
    let (to_write, to_read) = (has(switch), has(back));
    assert!(
        matches!((to_write, to_read), (Some(w), Some(r)) if w < r),
        "no READ -> WRITE -> READ switch in {trace:#?}"
    );
    assert_eq!(
        trace.last().map(String::as_str),
        Some("caught keyboard interrupt, exiting")
    );
}
