//! The examples are lessons, so they must keep working: this runs the built
//! `echo_server` on 127.0.0.1 port 0, runs `connect` against it, checks what
//! both print, and stops the server with SIGINT; and runs `echo_server` out
//! of descriptors, where it must pause rather than spin. Cargo builds
//! examples for `cargo test` (and `--all-targets`); they sit in
//! `target/<profile>/examples/`.

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

/// The descriptor limit of the example in the EMFILE test: stdio, the
/// listener and the loop's own take 6, which leaves room for 10 clients.
#[cfg(target_os = "linux")]
const EXAMPLE_NOFILE: usize = 16;

#[cfg(target_os = "linux")]
#[test]
fn echo_server_example_out_of_descriptors_pauses_instead_of_spinning() {
    use std::io::Write;
    use std::os::unix::process::CommandExt;

    let mut cmd = Command::new(example("echo_server"));
    cmd.args(["127.0.0.1", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // SAFETY: between fork and exec only async-signal-safe calls are allowed:
    // setrlimit is a plain system call; the closure takes no lock, allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: EXAMPLE_NOFILE as libc::rlim_t,
                rlim_max: EXAMPLE_NOFILE as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut server = Guard(cmd.spawn().expect("start echo_server"));
    let pid = server.0.id();
    let out = lines(server.0.stdout.take().unwrap());
    let first = out.recv_timeout(PATIENCE).expect("a `listening on` line");
    let addr: std::net::SocketAddr = first
        .strip_prefix("listening on ('127.0.0.1', ")
        .and_then(|rest| rest.strip_suffix(')'))
        .and_then(|port| format!("127.0.0.1:{port}").parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"));

    // Twice as many clients as it has descriptors: loopback completes their
    // handshakes in the backlog, and the example accepts until EMFILE.
    let clients: Vec<_> = (0..2 * EXAMPLE_NOFILE)
        .map(|_| std::net::TcpStream::connect(addr).expect("connect"))
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while open_fds(pid) < EXAMPLE_NOFILE {
        assert!(
            Instant::now() < deadline,
            "echo_server holds {} of {EXAMPLE_NOFILE} descriptors after {PATIENCE:?}",
            open_fds(pid)
        );
        thread::sleep(Duration::from_millis(10));
    }

    // Saturated, with clients waiting: spinning on the ever-readable
    // listener burns a whole core (about 100 ticks a second); pausing and
    // retrying every 100 ms rounds to 0 or 1. 20 ticks leaves room for a
    // loaded machine's noise. Its own CPU time is measured, not wall time.
    let window = Duration::from_secs(1);
    let before = cpu_ticks(pid);
    thread::sleep(window);
    let used = cpu_ticks(pid) - before;
    assert!(
        used < 20,
        "echo_server used {used} ticks of CPU in {window:?}"
    );

    // The clients leave, the descriptors come back: a new one is echoed.
    drop(clients);
    let mut client = std::net::TcpStream::connect(addr).expect("connect");
    client.set_read_timeout(Some(PATIENCE)).unwrap();
    client.write_all(b"hello again").expect("write");
    let mut echoed = [0u8; 11];
    client.read_exact(&mut echoed).expect("the echo");
    assert_eq!(&echoed, b"hello again");
}

/// How many descriptors process `pid` has open.
#[cfg(target_os = "linux")]
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|dir| dir.count())
        .unwrap_or(0)
}

/// utime + stime of process `pid`, in clock ticks, from /proc/PID/stat.
#[cfg(target_os = "linux")]
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // The command name may hold spaces and parentheses: fields start after
    // the last `)`, where utime and stime (fields 14 and 15) are 11 and 12.
    let rest = &stat[stat.rfind(')').expect("a `)` in stat") + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> u64 { fields[i].parse().expect("a number of ticks") };
    field(11) + field(12)
}
