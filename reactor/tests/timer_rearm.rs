//! A turn runs the timers and deadlines that were due when it started, and
//! nothing scheduled while they run: a handler that re-arms itself for a
//! time already due (`cx.now()`, or its own past deadline) gets one call per
//! turn, and the turn returns, instead of being called again and again
//! within one turn that never ends.
//!
//! No test here can hang: a handler called more than `SPIN` times in one
//! turn stops re-arming, so a loop that does spin ends the turn anyway, with
//! a count that fails the assertion.

mod common;

use std::cell::{Cell, RefCell};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::PATIENCE;
use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId};

/// Calls within one turn beyond which the loop is taken to be spinning.
const SPIN: usize = 10;

/// The handlers called during the current turn, in order (emptied by the
/// test before each turn).
type Calls = Rc<RefCell<Vec<&'static str>>>;

/// What a handler schedules when its timer or deadline fires.
#[derive(Clone, Copy)]
enum Again {
    /// The same again, for `cx.now()`: due at once.
    Now,
    /// The same again, for the time it was first due (in the past).
    SameTime,
    Never,
}

struct Sched {
    sock: UnixStream,
    name: &'static str,
    /// When its first timer or deadline is due.
    at: Instant,
    again: Again,
    calls: Calls,
    /// Another handler's timer, cancelled on the first call.
    cancel: Option<Rc<Cell<Option<TimerId>>>>,
}

impl Sched {
    fn new(name: &'static str, at: Instant, again: Again, calls: &Calls) -> Sched {
        Sched {
            sock: UnixStream::pair().unwrap().0,
            name,
            at,
            again,
            calls: calls.clone(),
            cancel: None,
        }
    }

    /// Note the call; `None` if nothing is to be scheduled: `Never`, or a
    /// spin that has gone on long enough to be counted.
    fn called(&self, now: Instant) -> Option<Instant> {
        let mut calls = self.calls.borrow_mut();
        calls.push(self.name);
        if calls.len() >= SPIN {
            return None;
        }
        match self.again {
            Again::Now => Some(now),
            Again::SameTime => Some(self.at),
            Again::Never => None,
        }
    }
}

impl AsFd for Sched {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Handler for Sched {
    fn process_events(&mut self, _cx: &mut Context<'_, Self>, _ready: Ready) {}

    fn on_timer(&mut self, cx: &mut Context<'_, Self>, _id: TimerId) {
        if let Some(other) = self.cancel.as_ref().and_then(|c| c.take()) {
            assert!(cx.cancel_timer(other), "the other timer was still pending");
        }
        if let Some(at) = self.called(cx.now()) {
            cx.add_timer(at);
        }
    }

    fn on_deadline(&mut self, cx: &mut Context<'_, Self>) {
        if let Some(at) = self.called(cx.now()) {
            cx.set_deadline(Some(at));
        }
    }
}

/// A moment already past, and a later one, also past.
fn past() -> (Instant, Instant) {
    let earlier = Instant::now()
        .checked_sub(Duration::from_millis(2))
        .expect("the clock has run for two milliseconds");
    (earlier, earlier + Duration::from_millis(1))
}

/// One turn (its wait is bounded, and short with anything due): the
/// handlers it called.
fn turn(event_loop: &mut EventLoop<Sched>, calls: &Calls) -> Vec<&'static str> {
    calls.borrow_mut().clear();
    event_loop.turn(Some(PATIENCE)).unwrap();
    calls.borrow().clone()
}

/// Register `handlers` and give each a timer at its `at`.
fn with_timers(handlers: Vec<Sched>) -> EventLoop<Sched> {
    let mut event_loop = EventLoop::new().unwrap();
    for handler in handlers {
        event_loop.register(handler, Interest::READ).unwrap();
    }
    event_loop.for_each(|handler, cx| {
        cx.add_timer(handler.at);
    });
    event_loop
}

/// Register `handlers` and give each an idle deadline at its `at`.
fn with_deadlines(handlers: Vec<Sched>) -> EventLoop<Sched> {
    let mut event_loop = EventLoop::new().unwrap();
    for handler in handlers {
        let at = handler.at;
        let token = event_loop.register(handler, Interest::READ).unwrap();
        assert!(event_loop.set_deadline_of(token, Some(at)));
    }
    event_loop
}

#[test]
fn a_timer_rearmed_for_now_runs_once_per_turn() {
    let calls = Calls::default();
    let now = Instant::now();
    let mut event_loop = with_timers(vec![Sched::new("a", now, Again::Now, &calls)]);
    for i in 0..5 {
        assert_eq!(turn(&mut event_loop, &calls), ["a"], "turn {i}");
    }
}

#[test]
fn a_deadline_reset_to_now_runs_once_per_turn() {
    let calls = Calls::default();
    let now = Instant::now();
    let mut event_loop = with_deadlines(vec![Sched::new("a", now, Again::Now, &calls)]);
    for i in 0..5 {
        assert_eq!(turn(&mut event_loop, &calls), ["a"], "turn {i}");
    }
    assert_eq!(
        event_loop.registrations(),
        1,
        "on_deadline did not close it"
    );
}

#[test]
fn a_timer_rearmed_in_the_past_does_not_hold_back_another_due_in_the_same_turn() {
    let calls = Calls::default();
    let (earlier, later) = past();
    let mut event_loop = with_timers(vec![
        Sched::new("a", earlier, Again::SameTime, &calls),
        Sched::new("b", later, Again::Never, &calls),
    ]);
    // a's new timer sorts before b's, but was not due when the turn began.
    assert_eq!(turn(&mut event_loop, &calls), ["a", "b"]);
    assert_eq!(turn(&mut event_loop, &calls), ["a"]);
}

#[test]
fn a_deadline_reset_in_the_past_does_not_hold_back_another_due_in_the_same_turn() {
    let calls = Calls::default();
    let (earlier, later) = past();
    let mut event_loop = with_deadlines(vec![
        Sched::new("a", earlier, Again::SameTime, &calls),
        Sched::new("b", later, Again::Never, &calls),
    ]);
    assert_eq!(turn(&mut event_loop, &calls), ["a", "b"]);
    assert_eq!(turn(&mut event_loop, &calls), ["a"]);
}

#[test]
fn a_due_timer_cancelled_earlier_in_the_same_turn_does_not_fire() {
    let calls = Calls::default();
    let (earlier, later) = past();
    let b_timer = Rc::new(Cell::new(None));
    let mut a = Sched::new("a", earlier, Again::Never, &calls);
    a.cancel = Some(b_timer.clone());
    let b = Sched::new("b", later, Again::Never, &calls);
    let mut event_loop = EventLoop::new().unwrap();
    event_loop.register(a, Interest::READ).unwrap();
    event_loop.register(b, Interest::READ).unwrap();
    event_loop.for_each(|handler, cx| {
        let id = cx.add_timer(handler.at);
        if handler.name == "b" {
            b_timer.set(Some(id));
        }
    });
    // Both were due when the turn began; a ran first and cancelled b's.
    assert_eq!(turn(&mut event_loop, &calls), ["a"]);
    assert_eq!(b_timer.get(), None, "a did cancel it");
}
