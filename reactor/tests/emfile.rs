//! EMFILE on accept must not busy-loop: the listener pauses its interest and
//! retries on a timer, then accepts again once descriptors are freed.
//!
//! The descriptor limit is lowered in a child process (this test binary run
//! again with an environment variable), so no other test feels it.

mod common;

use std::fs::File;
use std::io::ErrorKind;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrlimit, getrusage, setrlimit, Resource, UsageWho};
use reactor::net::{is_fd_exhaustion, ListenOptions, TcpListener, TcpStream};
use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId};

const CHILD_ENV: &str = "REACTOR_EMFILE_CHILD";
const TEST_NAME: &str = "emfile_on_accept_pauses_the_listener_and_retries_without_spinning";
const RETRY: Duration = Duration::from_millis(25);
const SATURATED: Duration = Duration::from_millis(400);
const CLIENTS: usize = 3;

#[test]
fn emfile_on_accept_pauses_the_listener_and_retries_without_spinning() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child();
    }
    let out = common::rerun_in_child(CHILD_ENV, TEST_NAME);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("emfile child ok"),
        "child did not run:\n{stdout}\n{stderr}"
    );
    println!(
        "{}",
        stdout
            .lines()
            .find(|l| l.contains("emfile child ok"))
            .unwrap_or_default()
    );
}

enum Sock {
    Listener {
        listener: TcpListener,
        accepted: usize,
        exhausted: usize,
    },
    Conn(TcpStream),
}

impl AsFd for Sock {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Sock::Listener { listener, .. } => listener.as_fd(),
            Sock::Conn(c) => c.as_fd(),
        }
    }
}

impl Handler for Sock {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, _ready: Ready) {
        let Sock::Listener {
            listener,
            accepted,
            exhausted,
        } = self
        else {
            return;
        };
        loop {
            match listener.accept() {
                Ok((conn, _)) => {
                    *accepted += 1;
                    cx.register(Sock::Conn(conn), Interest::READ).unwrap();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if is_fd_exhaustion(&e) => {
                    // The connection stays in the backlog and the listener
                    // stays readable: stop asking, and ask again later.
                    *exhausted += 1;
                    cx.set_interest(Interest::NONE).unwrap();
                    let at = cx.now() + RETRY;
                    cx.add_timer(at);
                    break;
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _id: TimerId) {
        cx.set_interest(Interest::READ).unwrap();
    }
}

fn cpu_time() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_SELF).unwrap();
    let (user, sys) = (usage.user_time(), usage.system_time());
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(micros(user) + micros(sys))
}

fn counts(event_loop: &mut EventLoop<Sock>, token: reactor::Token) -> (usize, usize) {
    match event_loop.get_mut(token) {
        Some(Sock::Listener {
            accepted,
            exhausted,
            ..
        }) => (*accepted, *exhausted),
        _ => panic!("listener gone"),
    }
}

fn child() {
    let listener =
        TcpListener::bind("127.0.0.1:0".parse().unwrap(), &ListenOptions::default()).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut event_loop = EventLoop::new().unwrap();
    let token = event_loop
        .register(
            Sock::Listener {
                listener,
                accepted: 0,
                exhausted: 0,
            },
            Interest::READ,
        )
        .unwrap();
    // Clients whose connections wait in the backlog (loopback completes the
    // handshake without an accept).
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    // Descriptors to free later, then the limit set to the lowest free
    // number: every descriptor below it is in use, so accept gets EMFILE.
    let ballast: Vec<File> = (0..CLIENTS + 1)
        .map(|_| File::open("/dev/null").unwrap())
        .collect();
    let next_fd = {
        let probe = File::open("/dev/null").unwrap();
        // rlim_t: unsigned on Linux and macOS, signed on FreeBSD.
        std::os::fd::AsRawFd::as_raw_fd(&probe) as libc::rlim_t
    };
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
    setrlimit(Resource::RLIMIT_NOFILE, next_fd, hard).unwrap();

    let cpu_before = cpu_time();
    let started = Instant::now();
    while started.elapsed() < SATURATED {
        event_loop.turn(Some(Duration::from_millis(50))).unwrap();
    }
    let cpu = cpu_time() - cpu_before;
    let (accepted, exhausted) = counts(&mut event_loop, token);
    assert_eq!(accepted, 0);
    // About one attempt per retry period, not thousands: no busy loop.
    let max_attempts = (SATURATED.as_millis() / RETRY.as_millis()) as usize + 3;
    assert!(
        (2..=max_attempts).contains(&exhausted),
        "{exhausted} EMFILE attempts"
    );
    assert!(
        cpu < SATURATED / 2,
        "spent {cpu:?} CPU in {SATURATED:?} while saturated"
    );

    // Free descriptors: the next retry accepts everyone.
    drop(ballast);
    let deadline = Instant::now() + Duration::from_secs(5);
    while counts(&mut event_loop, token).0 < CLIENTS {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("never accepted again");
        event_loop.turn(Some(left)).unwrap();
    }
    assert_eq!(event_loop.registrations(), 1 + CLIENTS);
    drop(clients);
    println!("emfile child ok: {exhausted} EMFILE attempts, {cpu:?} CPU while saturated");
}
