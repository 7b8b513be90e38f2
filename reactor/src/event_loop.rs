//! The event loop: the tutorial's `while True: events = sel.select(...)`
//! loop, with the per-socket objects (`key.data`) owned by the loop.
//!
//! Each registration has a slot in the slot table (`slots.rs`), found from
//! the [`Token`] its events carry. Handlers live in their own `Vec`, beside
//! the slots' bookkeeping, and stay in place while they run: the [`Context`]
//! a handler receives borrows everything else mutably (selector, slots,
//! timers), so it can register new sockets, switch its own interest and
//! close itself, and a handler that holds a large buffer inline is never
//! copied to be called. A handler registered during a call is parked and
//! moved into place when the call returns.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::event::Event;
use crate::slots::{make_token, Core};
use crate::timer::DeadlineEntry;
use crate::trace::trace;
use crate::{sys, Context, Events, Interest, Ready, Selector, TimerId, Token, Waker};

/// The token of the loop's own waker registration; no slot ever has it.
const WAKER_TOKEN: Token = Token(u64::MAX);

/// Per-socket logic: the tutorial's `Message` class. The handler owns its
/// socket; the loop owns the handler, and so the descriptor, which it
/// unregisters before dropping the handler.
///
/// # One descriptor per registration
///
/// The descriptor `as_fd` returns must stay the same for the life of the
/// registration, from `register` until the loop drops the handler: the loop
/// registered that descriptor, switches its interest by its number, and
/// unregisters what `as_fd` returns at the end. A handler that swapped its
/// socket would have the loop change the interest of a number that may now
/// name another connection's socket, and unregister a descriptor it never
/// registered, leaving the old registration behind. To move to another
/// socket, close the registration and register a new handler. Debug builds
/// check the rule, and panic if it is broken, after every call to the
/// handler and before the loop's owner changes or closes its registration.
pub trait Handler: AsFd + Sized {
    /// The socket is ready as `ready` says (the tutorial's
    /// `process_events(mask)`). Read or write until `WouldBlock`, or just
    /// once: level-triggered, what is left is reported again.
    fn process_events(&mut self, cx: &mut Context<'_, Self>, ready: Ready);

    /// The idle deadline set with [`Context::set_deadline`] has passed.
    /// By default the registration is closed.
    fn on_deadline(&mut self, cx: &mut Context<'_, Self>) {
        cx.close();
    }

    /// A timer set with [`Context::add_timer`] is due. By default: nothing.
    fn on_timer(&mut self, cx: &mut Context<'_, Self>, id: TimerId) {
        let _ = (cx, id);
    }
}

/// What one [`EventLoop::turn`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// Events the selector returned (including the waker's).
    pub events: usize,
    /// Whether the loop's [`Waker`] fired (another thread, or a signal).
    pub woken: bool,
}

/// Owns the selector and the handlers; dispatches every event to its handler.
pub struct EventLoop<H: Handler> {
    core: Core<H>,
    /// The handler of slot `i` is `handlers[i]`.
    handlers: Vec<Option<H>>,
    events: Events,
    /// The deadline heap entries and the timers due this turn (see
    /// `fire_due`): refilled each turn, capacity kept.
    due_deadlines: Vec<DeadlineEntry>,
    due_timers: Vec<TimerId>,
    waker_read: Arc<OwnedFd>,
    waker: Waker,
    /// How long to keep polling without blocking after an event (see
    /// [`EventLoop::set_busy_poll`]); `None`: block as soon as nothing is
    /// ready.
    busy_poll: Option<Duration>,
    /// Until when this loop polls instead of blocking.
    spin_until: Option<Instant>,
}

impl<H: Handler> fmt::Debug for EventLoop<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoop")
            .field("registrations", &self.core.registrations)
            .finish_non_exhaustive()
    }
}

impl<H: Handler> EventLoop<H> {
    /// A loop that takes up to 1024 events per `select`.
    pub fn new() -> io::Result<Self> {
        Self::with_capacity(1024)
    }

    /// A loop that takes up to `events` events per `select`.
    pub fn with_capacity(events: usize) -> io::Result<Self> {
        let mut selector = Selector::new()?;
        let (waker_read, waker_write) = sys::waker_fds()?;
        selector.register(&*waker_read, WAKER_TOKEN, Interest::READ)?;
        Ok(EventLoop {
            core: Core::new(selector),
            handlers: Vec::new(),
            events: Events::with_capacity(events),
            due_deadlines: Vec::new(),
            due_timers: Vec::new(),
            waker_read,
            waker: Waker::new(waker_write),
            busy_poll: None,
            spin_until: None,
        })
    }

    /// Busy-polling: after a turn that had events, keep asking the kernel
    /// with a zero timeout for up to `spin` before blocking again.
    ///
    /// Blocking costs a wake-up per event (the thread sleeps in
    /// `epoll_wait`, the kernel must schedule it again when a packet comes):
    /// tens of microseconds, which is most of a round trip at low load. A
    /// loop that polls for a little while after each event is already
    /// running when the next one comes. The spin is bounded, so an idle
    /// loop still sleeps; the price is a busy core while the load is low
    /// but not zero. `Duration::ZERO` turns it off (the default).
    pub fn set_busy_poll(&mut self, spin: Duration) {
        self.busy_poll = (!spin.is_zero()).then_some(spin);
        self.spin_until = None;
    }

    /// Print one line per reactor step on stdout:
    ///
    /// - `register fd=7 interest=READ`: a handler's socket joined the loop;
    /// - `ready fd=7 READ|WRITE`: `select` reported it ready (a [`Ready`]);
    /// - `modify fd=7 interest=WRITE`: its interest switched;
    /// - `pause fd=7`: its interest became [`Interest::NONE`], so the kernel
    ///   no longer watches it (the registration, its token and its handler
    ///   stay), and `resume fd=7 interest=READ`: it asks for something again;
    /// - `timeout fd=7`, `timer fd=7`: its idle deadline passed, or one of
    ///   its timers fired;
    /// - `unregister fd=7`: it left the loop, just before its handler (and
    ///   socket) is dropped;
    /// - `woken`: the loop's [`Waker`] fired.
    pub fn set_trace(&mut self, on: bool) {
        self.core.trace = on;
    }

    /// A waker for this loop, to hand to another thread or to
    /// [`crate::signal::notify`].
    pub fn waker(&self) -> Waker {
        self.waker.clone()
    }

    /// How many handlers are registered (as [`Context::registrations`]).
    pub fn registrations(&self) -> usize {
        self.core.registrations
    }

    /// Whether no handler is registered.
    pub fn is_empty(&self) -> bool {
        self.core.registrations == 0
    }

    /// Register `handler`'s socket for `interest` (the tutorial's
    /// `sel.register(sock, events, data=message)`). On failure the handler
    /// (and its socket) is dropped.
    pub fn register(&mut self, handler: H, interest: Interest) -> io::Result<Token> {
        let token = self.core.insert(handler, interest)?;
        self.place_pending();
        Ok(token)
    }

    /// Unregister and drop the handler of `token`. Returns whether it was
    /// still registered.
    pub fn close(&mut self, token: Token) -> bool {
        match self.core.slot_index(token) {
            Some(index) => {
                self.release(index);
                true
            }
            None => false,
        }
    }

    /// Set (or clear) the idle deadline of `token`'s registration, from
    /// outside a handler (as [`Context::set_deadline_of`] does from inside
    /// one); returns whether it is registered. See [`Context::set_deadline`].
    pub fn set_deadline_of(&mut self, token: Token, deadline: Option<Instant>) -> bool {
        self.core.set_deadline_of(token, deadline)
    }

    /// Switch the interest of `token`'s registration from outside a handler
    /// (e.g. resume a paused listener once there is room). Returns whether
    /// it is registered; no system call when the interest is unchanged.
    pub fn set_interest(&mut self, token: Token, interest: Interest) -> io::Result<bool> {
        let Some(index) = self.core.slot_index(token) else {
            return Ok(false);
        };
        // A socket swapped through `get_mut` would be caught here.
        self.debug_check_fd(index);
        self.core
            .set_interest(index, token, interest)
            .map(|()| true)
    }

    /// Borrow the handler of `token`, if registered.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut H> {
        let index = self.core.slot_index(token)?;
        self.handlers.get_mut(index)?.as_mut()
    }

    /// Visit every handler with a context, as if it had an event (e.g. to
    /// tell every connection to drain on SIGINT). Handlers registered during
    /// the visit are not visited.
    pub fn for_each(&mut self, mut f: impl FnMut(&mut H, &mut Context<'_, H>)) {
        let end = self.handlers.len();
        for index in 0..end {
            let token = make_token(index, self.core.slots[index].generation);
            if let Some(handler) = self.handlers[index].as_mut() {
                let mut cx = Context::new(&mut self.core, index, token);
                f(handler, &mut cx);
                let closed = cx.closed;
                self.after_call(index, closed);
            }
        }
    }

    /// Whether [`Context::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.core.stopped
    }

    /// One round: wait (at most `timeout`, less if a deadline or a timer is
    /// nearer), dispatch every event to its handler, then run the deadlines
    /// and timers that are due. A deadline or timer that a handler sets for
    /// a time already past runs in this turn if set from `process_events`,
    /// in the next if set from `on_deadline` or `on_timer`.
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<Turn> {
        let wait = if self.spinning() {
            Some(Duration::ZERO)
        } else if self.core.timers.is_empty() || timeout == Some(Duration::ZERO) {
            timeout
        } else {
            self.core.timers.wait_for(Instant::now(), timeout)
        };
        self.core.selector.select(&mut self.events, wait)?;
        if let (Some(spin), false) = (self.busy_poll, self.events.is_empty()) {
            self.spin_until = Some(Instant::now() + spin);
        }
        // At most one clock read per wait, shared by the whole batch.
        self.core.now.set(None);
        let mut turn = Turn {
            events: self.events.len(),
            woken: false,
        };
        for i in 0..self.events.len() {
            let Some(event) = self.events.get(i) else {
                break;
            };
            if event.token == WAKER_TOKEN {
                sys::drain_waker(&self.waker_read);
                turn.woken = true;
                if self.core.trace {
                    trace(format_args!("woken"));
                }
            } else {
                self.dispatch(event);
            }
        }
        if !self.core.timers.is_empty() {
            self.fire_due();
        }
        Ok(turn)
    }

    /// Whether the loop is within its busy-polling time (one branch when
    /// busy-polling is off).
    #[inline]
    fn spinning(&mut self) -> bool {
        let Some(until) = self.spin_until else {
            return false;
        };
        if Instant::now() < until {
            return true;
        }
        self.spin_until = None;
        false
    }

    /// Turn until a handler calls [`Context::stop`].
    pub fn run(&mut self) -> io::Result<()> {
        self.core.stopped = false;
        while !self.core.stopped {
            self.turn(None)?;
        }
        Ok(())
    }

    /// Entries in the idle-deadline heap (stale ones included): shows that
    /// moving deadlines later does not grow it, and that closing
    /// connections does not pile entries up.
    #[doc(hidden)]
    pub fn queued_deadlines(&self) -> usize {
        self.core.timers.queued_deadlines()
    }

    /// Hand one event to its handler, unless it is stale (its registration
    /// closed earlier in this batch, or its slot reused since).
    #[inline]
    fn dispatch(&mut self, event: Event) {
        let Some(index) = self.core.slot_index(event.token) else {
            return;
        };
        let slot = &self.core.slots[index];
        let ready = Ready::of(event, slot.interest);
        if ready.is_empty() {
            return;
        }
        if self.core.trace {
            trace(format_args!("ready fd={} {}", slot.fd, ready));
        }
        let Some(handler) = self.handlers.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        let mut cx = Context::new(&mut self.core, index, event.token);
        handler.process_events(&mut cx, ready);
        let closed = cx.closed;
        self.after_call(index, closed);
    }

    /// After a handler call: check that its descriptor is still the one
    /// registered, drop it if it closed itself, and move the handlers it
    /// registered into place.
    #[inline]
    fn after_call(&mut self, index: usize, closed: bool) {
        self.debug_check_fd(index);
        if closed {
            self.release(index);
        }
        if !self.core.pending.is_empty() {
            self.place_pending();
        }
    }

    fn place_pending(&mut self) {
        for (index, handler) in self.core.pending.drain(..) {
            if index >= self.handlers.len() {
                self.handlers.resize_with(index + 1, || None);
            }
            self.handlers[index] = Some(handler);
        }
    }

    /// Unregister first, then drop the handler (closing its socket): an fd
    /// is never closed while registered. The descriptor to unregister is
    /// the one the handler owns and lends, not the number noted at
    /// registration: that number is only as good as the handler's keeping
    /// to the rule, which debug builds check here.
    pub(crate) fn release(&mut self, index: usize) {
        self.debug_check_fd(index);
        let handler = self.handlers[index]
            .take()
            .expect("a live slot's handler is in place between handler calls");
        self.core.release(index, handler.as_fd());
        drop(handler);
    }

    /// The rule of [`Handler`]: the descriptor a handler lends is the one
    /// its slot registered. Checked in debug builds only: it costs an
    /// `as_fd` call on every event.
    #[inline]
    fn debug_check_fd(&self, index: usize) {
        if cfg!(debug_assertions) {
            if let Some(handler) = &self.handlers[index] {
                assert_eq!(
                    handler.as_fd().as_raw_fd(),
                    self.core.slots[index].fd,
                    "the handler's descriptor changed while registered (see `Handler`)"
                );
            }
        }
    }

    /// Run the deadlines and timers that were due when it started. They are
    /// listed before any runs: what a handler schedules meanwhile waits for
    /// the next turn, even if it is due already, so a handler that re-arms
    /// itself for `cx.now()` gets one call per turn instead of keeping this
    /// one from ever ending. (The lists keep their capacity from turn to
    /// turn: no allocation once they have held the largest batch.)
    fn fire_due(&mut self) {
        let now = self.core.now();
        self.due_deadlines.clear();
        while let Some(entry) = self.core.timers.pop_due_deadline(now) {
            self.due_deadlines.push(entry);
        }
        self.due_timers.clear();
        self.core.timers.due_timers(now, &mut self.due_timers);
        for i in 0..self.due_deadlines.len() {
            let entry = self.due_deadlines[i];
            self.fire_deadline(entry, now);
        }
        for i in 0..self.due_timers.len() {
            let id = self.due_timers[i];
            // Gone if a handler earlier in this batch cancelled it.
            let Some(token) = self.core.timers.take_timer(id) else {
                continue;
            };
            let Some(index) = self.core.slot_index(token) else {
                continue;
            };
            let Some(handler) = self.handlers.get_mut(index).and_then(Option::as_mut) else {
                continue;
            };
            if self.core.trace {
                trace(format_args!("timer fd={}", self.core.slots[index].fd));
            }
            let mut cx = Context::new(&mut self.core, index, token);
            handler.on_timer(&mut cx, id);
            let closed = cx.closed;
            self.after_call(index, closed);
        }
    }

    /// A heap entry has come due: run `on_deadline`, unless the entry is
    /// stale or the deadline has moved.
    fn fire_deadline(&mut self, entry: DeadlineEntry, now: Instant) {
        let Some(index) = self.core.passed_deadline(entry, now) else {
            return;
        };
        if self.core.trace {
            trace(format_args!("timeout fd={}", self.core.slots[index].fd));
        }
        let Some(handler) = self.handlers.get_mut(index).and_then(Option::as_mut) else {
            return;
        };
        let mut cx = Context::new(&mut self.core, index, entry.token);
        handler.on_deadline(&mut cx);
        let closed = cx.closed;
        self.after_call(index, closed);
    }
}

#[cfg(test)]
mod tests {
    //! kqueue reports readable and writable as two events of one batch; on
    //! epoll the kernel cannot produce that, so the batch is made by hand.
    use super::*;
    use crate::event::{READABLE, WRITABLE};
    use std::os::fd::BorrowedFd;
    use std::os::unix::net::UnixStream;

    struct Counted {
        sock: UnixStream,
        calls: u32,
        close_on_first: bool,
        spare: Option<UnixStream>,
        registered: Option<Token>,
    }

    impl AsFd for Counted {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.sock.as_fd()
        }
    }

    impl Handler for Counted {
        fn process_events(&mut self, cx: &mut Context<'_, Self>, _ready: Ready) {
            self.calls += 1;
            if self.close_on_first {
                cx.close();
            }
            if let Some(sock) = self.spare.take() {
                let handler = Counted {
                    sock,
                    calls: 0,
                    close_on_first: false,
                    spare: None,
                    registered: None,
                };
                self.registered = cx.register(handler, Interest::READ_WRITE).ok();
            }
        }
    }

    fn counted(close_on_first: bool, spare: Option<UnixStream>) -> Counted {
        Counted {
            sock: UnixStream::pair().unwrap().0,
            calls: 0,
            close_on_first,
            spare,
            registered: None,
        }
    }

    #[test]
    fn second_event_of_a_closed_registration_is_dropped_even_after_slot_reuse() {
        let mut event_loop = EventLoop::new().unwrap();
        let a = event_loop
            .register(counted(true, None), Interest::READ_WRITE)
            .unwrap();
        let spare = UnixStream::pair().unwrap().0;
        let b = event_loop
            .register(counted(false, Some(spare)), Interest::READ_WRITE)
            .unwrap();
        let batch = [
            Event {
                token: a,
                flags: READABLE,
            },
            Event {
                token: b,
                flags: READABLE,
            },
            Event {
                token: a,
                flags: WRITABLE,
            },
        ];
        for event in batch {
            event_loop.dispatch(event);
        }
        let c = event_loop.get_mut(b).unwrap().registered.unwrap();
        assert_eq!(c.0 as u32, a.0 as u32, "c reuses a's slot");
        assert_ne!(c, a);
        assert_eq!(
            event_loop.get_mut(c).unwrap().calls,
            0,
            "a's late event is not c's"
        );
        assert!(event_loop.get_mut(a).is_none());
        assert_eq!(event_loop.registrations(), 2);
    }
}
