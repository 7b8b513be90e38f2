//! The idle-deadline heap stays bounded under connection churn. An entry
//! left by a closed connection, or by a deadline moved earlier, would
//! otherwise stay until its time came, a minute later for an idle timeout:
//! a server accepting and closing thousands of connections a second would
//! grow the heap by as many entries. Here 200,000 registrations come and go
//! against a 60 s idle deadline, and the heap never holds more than a small
//! multiple of the live ones.

mod common;

use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use common::PATIENCE;
use reactor::{Context, EventLoop, Handler, Interest, Ready};

const REGISTRATIONS: usize = 200_000;
/// Live registrations rise to this, then fall to none, again and again
/// (one descriptor each, well within the usual limit of 1,024).
const MOST: usize = 400;
/// The heap may hold this many entries more than three per live
/// registration.
const SLACK: usize = 64;

/// One end of a socket pair, both ends registered. Nothing is ever sent,
/// so readiness means the other end has closed: this one closes too.
struct Conn {
    sock: UnixStream,
}

impl AsFd for Conn {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Handler for Conn {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, _ready: Ready) {
        cx.close();
    }
}

fn assert_bounded(event_loop: &EventLoop<Conn>, step: usize) {
    let live = event_loop.registrations();
    let queued = event_loop.queued_deadlines();
    assert!(
        queued <= 3 * live + SLACK,
        "step {step}: {queued} heap entries for {live} registrations"
    );
}

#[test]
fn closed_and_superseded_deadlines_do_not_pile_up_in_the_heap() {
    let mut event_loop = EventLoop::with_capacity(256).unwrap();
    let mut closers = Vec::with_capacity(MOST / 2);
    let mut step = 0;
    while step < REGISTRATIONS {
        let idle = Instant::now() + Duration::from_secs(60);
        while event_loop.registrations() < MOST {
            let (a, b) = UnixStream::pair().unwrap();
            for sock in [a, b] {
                let token = event_loop.register(Conn { sock }, Interest::READ).unwrap();
                assert!(event_loop.set_deadline_of(token, Some(idle)));
                if step % 2 == 0 {
                    // Earlier: a second entry, which supersedes the first.
                    let earlier = idle - Duration::from_secs(1);
                    assert!(event_loop.set_deadline_of(token, Some(earlier)));
                }
                closers.push(token);
                step += 1;
                assert_bounded(&event_loop, step);
            }
            // The pair's second end is left to close itself.
            closers.pop();
        }
        // Half are closed by the loop's owner...
        for token in closers.drain(..) {
            assert!(event_loop.close(token));
            assert_bounded(&event_loop, step);
        }
        // ... and the other half by their handlers, seeing their peers go.
        let deadline = Instant::now() + PATIENCE;
        while !event_loop.is_empty() {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("the handlers saw their peers close in time");
            event_loop.turn(Some(left)).unwrap();
            assert_bounded(&event_loop, step);
        }
    }
    assert!(event_loop.queued_deadlines() <= SLACK);
}
