//! The event loop: handlers, stale events, deadlines, timers, the waker.

mod common;

use std::cell::RefCell;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::PATIENCE;
use reactor::{Context, EventLoop, Handler, Interest, Ready, TimerId, Token};

/// What the test handlers saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Ready(&'static str, Token),
    Deadline(&'static str, Instant),
    Timer(&'static str, TimerId),
}

type Log = Rc<RefCell<Vec<Seen>>>;

/// Shared state of the close-and-reuse scenario.
#[derive(Default)]
struct Reuse {
    closed: Option<Token>,
    reused: Option<Token>,
    spare: Option<UnixStream>,
}

struct Peer {
    sock: UnixStream,
    name: &'static str,
    log: Log,
    reuse: Option<Rc<RefCell<Reuse>>>,
}

impl Peer {
    fn new(sock: UnixStream, name: &'static str, log: &Log) -> Peer {
        Peer {
            sock,
            name,
            log: log.clone(),
            reuse: None,
        }
    }
}

impl AsFd for Peer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Handler for Peer {
    fn process_events(&mut self, cx: &mut Context<'_, Self>, _ready: Ready) {
        self.log
            .borrow_mut()
            .push(Seen::Ready(self.name, cx.token()));
        let Some(reuse) = self.reuse.clone() else {
            return;
        };
        let mut reuse = reuse.borrow_mut();
        if reuse.closed.is_none() {
            // First of the batch: close ourselves, mid-batch.
            reuse.closed = Some(cx.token());
            cx.close();
        } else if let Some(spare) = reuse.spare.take() {
            // Later in the same batch: a new socket takes the freed slot.
            let handler = Peer::new(spare, "new", &self.log);
            reuse.reused = Some(cx.register(handler, Interest::READ).unwrap());
        }
    }

    fn on_deadline(&mut self, cx: &mut Context<'_, Self>) {
        self.log
            .borrow_mut()
            .push(Seen::Deadline(self.name, cx.now()));
        cx.close();
    }

    fn on_timer(&mut self, _cx: &mut Context<'_, Self>, id: TimerId) {
        self.log.borrow_mut().push(Seen::Timer(self.name, id));
    }
}

/// Turn until `done` holds, at most `PATIENCE`.
fn turn_until(event_loop: &mut EventLoop<Peer>, done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        let left = deadline
            .checked_duration_since(Instant::now())
            .expect("timed out");
        event_loop.turn(Some(left)).unwrap();
    }
}

#[test]
fn timers_fire_in_deadline_order_and_can_be_cancelled() {
    let log = Log::default();
    let mut event_loop = EventLoop::new().unwrap();
    let (a, _a_peer) = UnixStream::pair().unwrap();
    event_loop
        .register(Peer::new(a, "a", &log), Interest::READ)
        .unwrap();
    let mut ids = Vec::new();
    event_loop.for_each(|_, cx| {
        let now = cx.now();
        let late = cx.add_timer(now + Duration::from_millis(30));
        let early = cx.add_timer(now + Duration::from_millis(10));
        let cancelled = cx.add_timer(now + Duration::from_millis(20));
        assert!(cx.cancel_timer(cancelled));
        assert!(!cx.cancel_timer(cancelled), "cancelling twice is a no-op");
        ids = vec![early, late];
    });
    turn_until(&mut event_loop, || log.borrow().len() == 2);
    let fired: Vec<Seen> = ids.iter().map(|&id| Seen::Timer("a", id)).collect();
    assert_eq!(
        *log.borrow(),
        fired,
        "early then late, and not the cancelled one"
    );
    // The one-shot timers are gone: a further turn just times out.
    let turn = event_loop.turn(Some(Duration::from_millis(20))).unwrap();
    assert_eq!(turn.events, 0);
    assert_eq!(log.borrow().len(), 2);
}

#[test]
fn idle_deadline_fires_on_deadline_and_moving_it_later_postpones_it() {
    let log = Log::default();
    let mut event_loop = EventLoop::new().unwrap();
    let (a, _a_peer) = UnixStream::pair().unwrap();
    let token = event_loop
        .register(Peer::new(a, "a", &log), Interest::READ)
        .unwrap();
    let start = Instant::now();
    assert!(event_loop.set_deadline_of(token, Some(start + Duration::from_millis(30))));
    // Moving it later writes the slot's field: no new heap entry.
    let later = start + Duration::from_millis(120);
    assert!(event_loop.set_deadline_of(token, Some(later)));
    assert_eq!(event_loop.queued_deadlines(), 1);
    turn_until(&mut event_loop, || !log.borrow().is_empty());
    match log.borrow()[0] {
        Seen::Deadline("a", at) => assert!(at >= later, "fired before the postponed deadline"),
        ref other => panic!("unexpected {other:?}"),
    }
    // The default reaction closed it; nothing is left to expire.
    assert_eq!(event_loop.registrations(), 0);
    assert_eq!(event_loop.queued_deadlines(), 0);
}

#[test]
fn waker_wakes_a_blocked_select_from_another_thread() {
    let mut event_loop: EventLoop<Peer> = EventLoop::new().unwrap();
    let waker = event_loop.waker();
    let barrier = Arc::new(Barrier::new(2));
    let thread = {
        let barrier = barrier.clone();
        std::thread::spawn(move || {
            barrier.wait();
            waker.wake().unwrap();
        })
    };
    barrier.wait();
    let started = Instant::now();
    let turn = event_loop.turn(Some(PATIENCE)).unwrap();
    assert!(turn.woken);
    assert!(started.elapsed() < PATIENCE);
    thread.join().unwrap();
    // Drained: the next turn is not woken again.
    let turn = event_loop.turn(Some(Duration::from_millis(20))).unwrap();
    assert!(!turn.woken);
}

#[test]
fn a_handler_closed_mid_batch_gets_nothing_more_and_its_reused_slot_gets_none_of_its_events() {
    let log = Log::default();
    let reuse = Rc::new(RefCell::new(Reuse::default()));
    let mut event_loop = EventLoop::new().unwrap();
    let (a, mut a_peer) = UnixStream::pair().unwrap();
    let (b, mut b_peer) = UnixStream::pair().unwrap();
    let (spare, _spare_peer) = UnixStream::pair().unwrap();
    reuse.borrow_mut().spare = Some(spare);
    for (sock, name) in [(a, "a"), (b, "b")] {
        let mut peer = Peer::new(sock, name, &log);
        peer.reuse = Some(reuse.clone());
        event_loop.register(peer, Interest::READ).unwrap();
    }
    // Both readable, so both are in the same batch; nobody reads, so the
    // survivor stays readable (level-triggered) on every later turn.
    a_peer.write_all(b"a").unwrap();
    b_peer.write_all(b"b").unwrap();
    let turn = event_loop.turn(Some(PATIENCE)).unwrap();
    assert_eq!(turn.events, 2, "both sockets ready in one batch");
    let (closed, reused) = {
        let r = reuse.borrow();
        (
            r.closed.unwrap(),
            r.reused.expect("second handler registered the spare"),
        )
    };
    assert_eq!(
        closed.0 & 0xffff_ffff,
        reused.0 & 0xffff_ffff,
        "the new socket took the freed slot"
    );
    assert_ne!(closed, reused, "with a new generation");
    for _ in 0..3 {
        event_loop.turn(Some(Duration::from_millis(20))).unwrap();
    }
    let log = log.borrow();
    let count = |token| {
        log.iter()
            .filter(|s| matches!(s, Seen::Ready(_, t) if *t == token))
            .count()
    };
    assert_eq!(count(closed), 1, "closed handler: its one event only");
    assert_eq!(
        count(reused),
        0,
        "new socket: none of the old socket's events"
    );
    assert!(!log.iter().any(|s| matches!(s, Seen::Ready("new", _))));
    assert_eq!(event_loop.registrations(), 2);
}

#[test]
fn interest_switch_to_read_stops_write_events_in_the_loop() {
    struct Writer {
        sock: UnixStream,
        writable: Rc<RefCell<u32>>,
    }
    impl AsFd for Writer {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.sock.as_fd()
        }
    }
    impl Handler for Writer {
        fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready) {
            if ready.is_writable() {
                *self.writable.borrow_mut() += 1;
                // Nothing left to send: stop asking for WRITE.
                cx.set_interest(Interest::READ).unwrap();
                assert_eq!(cx.interest(), Interest::READ);
            }
        }
    }
    let writable = Rc::new(RefCell::new(0));
    let (sock, _peer) = UnixStream::pair().unwrap();
    let mut event_loop = EventLoop::new().unwrap();
    let handler = Writer {
        sock,
        writable: writable.clone(),
    };
    event_loop
        .register(handler, Interest::READ | Interest::WRITE)
        .unwrap();
    for _ in 0..4 {
        event_loop.turn(Some(Duration::from_millis(20))).unwrap();
    }
    assert_eq!(*writable.borrow(), 1);
}
