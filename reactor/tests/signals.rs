//! Signals and the loop: an unrelated signal during select is not an error,
//! and SIGINT/SIGTERM through `signal::notify` wake the loop.
//!
//! Own test binary: the handlers installed here are process-wide.

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet};
use nix::unistd::Pid;
use reactor::signal::{self, Signal};
use reactor::{Context, EventLoop, Events, Handler, Ready, Selector};

static USR1_SEEN: AtomicU32 = AtomicU32::new(0);

extern "C" fn count_usr1(_: libc::c_int) {
    USR1_SEEN.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_signal_during_select_is_not_an_error() {
    // No SA_RESTART: epoll_wait/kevent fail with EINTR when it arrives.
    let action = SigAction::new(
        SigHandler::Handler(count_usr1),
        SaFlags::empty(),
        SigSet::empty(),
    );
    // SAFETY: the handler only increments an atomic.
    unsafe { sigaction(Signal::SIGUSR1, &action) }.unwrap();

    let mut sel = Selector::new().unwrap();
    let mut events = Events::with_capacity(8);
    // SAFETY: pthread_self has no preconditions.
    let me = unsafe { libc::pthread_self() };
    let done = Arc::new(AtomicBool::new(false));
    let sender = {
        let done = done.clone();
        std::thread::spawn(move || {
            // Keep interrupting this thread's select until it returns.
            for _ in 0..200 {
                if done.load(Ordering::SeqCst) {
                    break;
                }
                // SAFETY: `me` is the test thread, alive until `done` is set
                // (it joins this thread before returning).
                let rc = unsafe { libc::pthread_kill(me, libc::SIGUSR1) };
                assert_eq!(rc, 0);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let wait = Duration::from_millis(200);
    let started = Instant::now();
    let result = sel.select(&mut events, Some(wait));
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    result.expect("EINTR must not surface from select");
    assert!(events.is_empty());
    assert!(USR1_SEEN.load(Ordering::SeqCst) > 0, "the signal arrived");
    assert!(
        elapsed >= wait,
        "select resumed with the time remaining ({elapsed:?})"
    );
}

struct Nothing(UnixStream);

impl AsFd for Nothing {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

impl Handler for Nothing {
    fn process_events(&mut self, _cx: &mut Context<'_, Self>, _ready: Ready) {}
}

#[test]
fn sigint_and_sigterm_through_notify_wake_the_loop() {
    let mut event_loop: EventLoop<Nothing> = EventLoop::new().unwrap();
    signal::notify(&[Signal::SIGINT, Signal::SIGTERM], &event_loop.waker()).unwrap();
    for sent in [Signal::SIGTERM, Signal::SIGINT] {
        // From another thread, to the whole process, as a shell's kill does.
        std::thread::spawn(move || kill(Pid::this(), sent).unwrap())
            .join()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("not woken in time");
            if event_loop.turn(Some(left)).unwrap().woken {
                break;
            }
        }
        let pending = signal::take_pending();
        assert!(pending.contains(sent), "{pending:?}");
        assert_eq!(pending.iter().collect::<Vec<_>>(), vec![sent]);
        assert!(signal::pending().is_empty());
    }
}
