//! 10,000 idle registrations with idle deadlines: an idle select over them
//! returns nothing, and pushing every deadline later leaves the timer heap
//! untouched. (Correctness only; the cost is measured by the benchmark.)

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use reactor::net::raise_fd_limit;
use reactor::{Context, EventLoop, Handler, Interest, Ready, Token};

const PAIRS: usize = 5_000;

struct Idle {
    sock: UnixStream,
    events: u32,
}

impl AsFd for Idle {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Handler for Idle {
    fn process_events(&mut self, _cx: &mut Context<'_, Self>, ready: Ready) {
        assert!(ready.is_readable());
        self.events += 1;
    }
}

#[test]
fn ten_thousand_idle_registrations_with_deadlines() {
    let limit = raise_fd_limit(20_000).unwrap();
    if limit < 2 * PAIRS as u64 + 100 {
        eprintln!("skipping: RLIMIT_NOFILE hard limit is {limit}");
        return;
    }
    let mut event_loop = EventLoop::with_capacity(256).unwrap();
    let mut tokens = Vec::with_capacity(2 * PAIRS);
    let hour = Instant::now() + Duration::from_secs(3600);
    for _ in 0..PAIRS {
        let (a, b) = UnixStream::pair().unwrap();
        for sock in [a, b] {
            let token = event_loop
                .register(Idle { sock, events: 0 }, Interest::READ)
                .unwrap();
            assert!(event_loop.set_deadline_of(token, Some(hour)));
            tokens.push(token);
        }
    }
    assert_eq!(event_loop.registrations(), 2 * PAIRS);
    assert_eq!(event_loop.queued_deadlines(), 2 * PAIRS);

    let turn = event_loop.turn(Some(Duration::ZERO)).unwrap();
    assert_eq!(turn.events, 0, "idle select over 10,000 registrations");

    // Activity on every connection pushes its deadline later: field writes only.
    let two_hours = hour + Duration::from_secs(3600);
    for &token in &tokens {
        event_loop.set_deadline_of(token, Some(two_hours));
    }
    assert_eq!(event_loop.queued_deadlines(), 2 * PAIRS, "no heap growth");

    // One byte on one socket: exactly that handler runs.
    let target: Token = tokens[7_777];
    let peer = tokens[7_776]; // its pair (registered just before it)
    event_loop
        .get_mut(peer)
        .unwrap()
        .sock
        .write_all(b"!")
        .unwrap();
    let turn = event_loop.turn(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(turn.events, 1);
    assert_eq!(event_loop.get_mut(target).unwrap().events, 1);
    let total: u32 = tokens
        .iter()
        .map(|&t| event_loop.get_mut(t).unwrap().events)
        .sum();
    assert_eq!(total, 1);
}
