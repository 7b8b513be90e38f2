//! Busy-polling: after an event the loop polls without blocking for the
//! time asked, and no longer; then it sleeps again.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use reactor::{Context, EventLoop, Handler, Interest, Ready};

/// Reads whatever arrives and counts the bytes.
struct Reader {
    sock: UnixStream,
    got: usize,
}

impl AsFd for Reader {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Handler for Reader {
    fn process_events(&mut self, _cx: &mut Context<'_, Self>, _ready: Ready) {
        let mut buf = [0u8; 64];
        if let Ok(n) = self.sock.read(&mut buf) {
            self.got += n;
        }
    }
}

/// This thread's CPU time (user and system).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which lives on the stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// What the turns after one event did.
struct AfterEvent {
    /// Before the event was sent (the spin starts later than this).
    sent: Instant,
    /// When the turn that delivered it returned (the spin started before).
    delivered: Instant,
    /// When each turn that returned at once (a poll) began.
    polls: Vec<Instant>,
    /// When the first turn that waited its whole timeout ended.
    slept_until: Instant,
    /// The CPU time that turn used.
    cpu_while_asleep: Duration,
}

/// One event, then turns of at most `wait` each until one waits its whole
/// timeout (with nothing sent, each returns no event).
fn after_one_event(spin: Duration, wait: Duration) -> AfterEvent {
    let (mine, mut theirs) = UnixStream::pair().expect("pair");
    mine.set_nonblocking(true).expect("non-blocking");
    let mut event_loop = EventLoop::new().expect("loop");
    event_loop.set_busy_poll(spin);
    let token = event_loop
        .register(Reader { sock: mine, got: 0 }, Interest::READ)
        .expect("register");
    let sent = Instant::now();
    theirs.write_all(b"x").expect("write");
    while event_loop.get_mut(token).expect("registered").got == 0 {
        event_loop.turn(Some(Duration::from_secs(5))).expect("turn");
    }
    let delivered = Instant::now();
    let mut polls = Vec::new();
    loop {
        let start = Instant::now();
        let cpu = thread_cpu();
        let turn = event_loop.turn(Some(wait)).expect("turn");
        assert_eq!(turn.events, 0, "nothing more was sent");
        if start.elapsed() >= wait {
            return AfterEvent {
                sent,
                delivered,
                polls,
                slept_until: Instant::now(),
                cpu_while_asleep: thread_cpu() - cpu,
            };
        }
        polls.push(start);
        assert!(
            delivered.elapsed() < spin + Duration::from_secs(10),
            "still polling {:?} after the event",
            delivered.elapsed()
        );
    }
}

#[test]
fn after_an_event_the_loop_polls_for_the_time_asked_and_no_longer_then_sleeps() {
    let spin = Duration::from_millis(100);
    let wait = Duration::from_millis(300);
    let after = after_one_event(spin, wait);
    // No poll began after the spin had ended (it ends at most `spin` after
    // the delivering turn returned)...
    let late: Vec<_> = after
        .polls
        .iter()
        .filter(|&&poll| poll >= after.delivered + spin)
        .map(|&poll| poll - after.delivered)
        .collect();
    assert!(late.is_empty(), "polls after the spin: {late:?}");
    // ...and the loop went to sleep only once the spin was over: the turn
    // that slept ended a whole wait after that.
    assert!(
        after.slept_until >= after.sent + spin + wait,
        "slept from {:?} after the event: before the {spin:?} spin ended",
        after.slept_until - after.sent - wait
    );
    // Asleep, it used next to no CPU.
    assert!(
        after.cpu_while_asleep < wait / 2,
        "{:?} of CPU in a {wait:?} wait",
        after.cpu_while_asleep
    );
}

#[test]
fn without_busy_polling_the_first_turn_with_nothing_ready_sleeps() {
    let after = after_one_event(Duration::ZERO, Duration::from_millis(50));
    assert!(after.polls.is_empty(), "{} polls", after.polls.len());
}
