//! The server's limits: --idle-timeout, --max-connections, and running out
//! of descriptors (EMFILE) without spinning.

mod common;

use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::thread;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn idle_timeout_closes_a_silent_connection_and_activity_postpones_it() {
    // 2 s, so the busy connection's request at 0.5 s is safely inside the
    // timeout even on a loaded machine.
    let server = Server::start(APP_SERVER, &["--idle-timeout", "2"]);
    let started = Instant::now();
    let mut silent = server.connect();
    let mut busy = server.connect();
    // The busy one asks something a quarter of the way through.
    thread::sleep(Duration::from_millis(500));
    assert_serves(&mut busy);
    let asked = Instant::now();

    expect_eof(&mut silent);
    let closed = started.elapsed();
    assert!(
        closed >= Duration::from_millis(1900),
        "closed after {closed:?}, before the idle timeout"
    );
    let peer = silent.local_addr().expect("local addr");
    server
        .stdout
        .expect_line("closing the idle connection", |l| {
            l == format!("closing idle connection to {}", py_addr(peer))
        });

    expect_eof(&mut busy);
    let busy_idle = asked.elapsed();
    assert!(
        busy_idle >= Duration::from_millis(1900),
        "the busy connection closed {busy_idle:?} after its last request"
    );
    // A new connection is served as usual.
    assert_serves(&mut server.connect());
}

#[test]
fn echo_server_idle_timeout_closes_a_silent_connection() {
    let server = Server::start(ECHO_SERVER, &["--idle-timeout", "1"]);
    let started = Instant::now();
    let mut sock = server.connect();
    expect_eof(&mut sock);
    assert!(started.elapsed() >= Duration::from_millis(900));
    let peer = sock.local_addr().expect("local addr");
    server
        .stdout
        .expect_line("closing the idle connection", |l| {
            l == format!("closing idle connection to {}", py_addr(peer))
        });
}

#[test]
fn with_max_connections_2_a_third_client_waits_until_one_leaves() {
    let server = Server::start(APP_SERVER, &["--max-connections", "2", "-q"]);
    let mut first = server.connect();
    let mut second = server.connect();
    // Both are accepted and served.
    assert_serves(&mut first);
    assert_serves(&mut second);
    // The third gets into the kernel's backlog, but is not served.
    let mut third = server.connect();
    let v = vector("search-dog-emoji");
    std::io::Write::write_all(&mut third, &v.request).expect("write");
    expect_silence(&mut third, Duration::from_millis(300));
    assert_serves(&mut second);
    // One leaves: the third is accepted and answered.
    drop(first);
    let answer = read_message(&mut third).expect("the third client's answer");
    assert_eq!(answer.raw, v.response);
    // Full again: a fourth waits until another leaves.
    let mut fourth = server.connect();
    std::io::Write::write_all(&mut fourth, &v.request).expect("write");
    expect_silence(&mut fourth, Duration::from_millis(300));
    drop(third);
    assert_eq!(read_message(&mut fourth).expect("answer").raw, v.response);
    assert_serves(&mut second);
}

/// The descriptor limit the EMFILE test gives the server: room for a few
/// connections beside stdio, the event loop and the listener.
const SERVER_NOFILE: u64 = 32;

/// The app server, quiet, with [`SERVER_NOFILE`] descriptors at most.
fn server_short_of_descriptors() -> Server {
    let mut cmd = server_command(APP_SERVER, &["-q"]);
    // SAFETY: between fork and exec only async-signal-safe calls are allowed:
    // setrlimit is a plain system call; the closure takes no lock, allocates nothing.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: SERVER_NOFILE as libc::rlim_t,
                rlim_max: SERVER_NOFILE as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    Server::start_cmd(cmd)
}

#[test]
fn out_of_descriptors_the_server_does_not_spin_and_recovers() {
    let server = server_short_of_descriptors();

    // More clients than the server has descriptors: all get through the
    // kernel's backlog, the server accepts until EMFILE.
    let mut clients: Vec<TcpStream> = (0..SERVER_NOFILE * 2).map(|_| server.connect()).collect();
    server
        .stderr
        .expect_line("about running out of descriptors", |l| {
            l.starts_with("error: accept: ") && l.contains("pausing")
        });

    // The connections it has are still served.
    assert_serves(&mut clients[0]);

    // Saturated: a server that spins on its ever-readable listener would
    // burn a whole core (about 100 ticks a second, or at least tens on a
    // loaded machine); one that pauses and retries accept every 100 ms
    // costs a few syscalls a second, which rounds to 0 or 1 tick. 20 ticks
    // (a fifth of a core) leaves room for a busy machine's noise without
    // letting a spin through. The server's own CPU time is measured, not
    // wall time, so a loaded machine does not inflate it.
    let window = Duration::from_secs(1);
    let pauses_before = pause_lines(&server);
    let before = server.cpu_ticks();
    thread::sleep(window);
    let after = server.cpu_ticks();
    let pauses = pause_lines(&server) - pauses_before;
    // Off Linux no CPU time is read: the count of retries below is then
    // what shows the server does not spin.
    if let (Some(before), Some(after)) = (before, after) {
        let used = after - before;
        assert!(
            used < 20,
            "the saturated server used {used} ticks of CPU in {window:?} (of {} per second)",
            ticks_per_second()
        );
    }
    // The retry is paced, not a loop: about 10 a second.
    assert!(pauses <= 30, "{pauses} accept retries in {window:?}");

    // The clients leave: the server serves again.
    drop(clients);
    assert_serves(&mut server.connect());
}

#[test]
fn out_of_descriptors_the_pause_is_logged_once_a_second_with_a_count() {
    let started = Instant::now();
    let server = server_short_of_descriptors();
    let _clients: Vec<TcpStream> = (0..SERVER_NOFILE * 2).map(|_| server.connect()).collect();

    // The listener retries every 100 ms and runs out again each time: the
    // first line goes out, the next ones within a second are only counted,
    // and the first line after that second says how many.
    let counted = server
        .stderr
        .expect_line("with the count of the pauses held back", |l| {
            l.contains("; pausing the listener for 100 ms (and ")
        });
    assert!(counted.starts_with("error: accept: "), "{counted:?}");
    let held: u64 = counted
        .split(" (and ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {counted:?}"));
    assert!(held >= 1, "{counted:?}");
    assert!(counted.ends_with(" s)"), "{counted:?}");

    // At most one line a second since the server started: lines one second
    // apart or more, all printed within `elapsed` of the start.
    let lines = pause_lines(&server);
    let elapsed = started.elapsed();
    assert!(
        lines as u64 <= elapsed.as_secs() + 1,
        "{lines} pause lines in {elapsed:?}: {:#?}",
        server.stderr.snapshot()
    );
}

fn pause_lines(server: &Server) -> usize {
    server
        .stderr
        .snapshot()
        .iter()
        .filter(|l| l.contains("pausing"))
        .count()
}

#[test]
fn idle_timeout_closes_a_connection_silent_in_the_middle_of_a_request() {
    let server = Server::start(APP_SERVER, &["--idle-timeout", "1"]);
    let mut sock = server.connect();
    let v = vector("search-morpheus");
    std::io::Write::write_all(&mut sock, &v.request[..v.request.len() / 2]).expect("write");
    expect_eof(&mut sock);
    assert_serves(&mut server.connect());
}
