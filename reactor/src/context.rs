//! What a handler may do to its loop while it runs.

use std::fmt;
use std::io;
use std::time::Instant;

use crate::slots::Core;
use crate::{Handler, Interest, TimerId, Token};

/// What a running handler can do to the loop (the tutorial's `key` and
/// `sel` together).
pub struct Context<'a, H: Handler> {
    core: &'a mut Core<H>,
    index: usize,
    token: Token,
    /// Set by [`Context::close`]; the loop acts on it when the call returns.
    pub(crate) closed: bool,
}

impl<H: Handler> fmt::Debug for Context<'_, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("token", &self.token)
            .field("interest", &self.interest())
            .finish_non_exhaustive()
    }
}

impl<'a, H: Handler> Context<'a, H> {
    #[inline]
    pub(crate) fn new(core: &'a mut Core<H>, index: usize, token: Token) -> Self {
        Context {
            core,
            index,
            token,
            closed: false,
        }
    }

    /// This registration's token.
    pub fn token(&self) -> Token {
        self.token
    }

    /// This registration's current interest.
    pub fn interest(&self) -> Interest {
        self.core.slots[self.index].interest
    }

    /// Switch this registration's interest (the tutorial's
    /// `selector.modify(sock, events, data=self)`): WRITE while there is
    /// something to send (READ|WRITE to keep reading meanwhile, as the
    /// clients do), READ once it is sent, NONE to pause (see
    /// [`Interest::NONE`]). No system call when the interest is unchanged.
    pub fn set_interest(&mut self, interest: Interest) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        self.core.set_interest(self.index, self.token, interest)
    }

    /// Register another socket's handler (a listener accepting a
    /// connection). On failure the handler (and its socket) is dropped.
    pub fn register(&mut self, handler: H, interest: Interest) -> io::Result<Token> {
        self.core.insert(handler, interest)
    }

    /// Close this registration: once the current call returns, the loop
    /// unregisters the socket and drops the handler. Events still pending
    /// for it in this batch are dropped.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// Set (`Some`) or clear (`None`) this registration's idle deadline;
    /// when it passes, [`Handler::on_deadline`] runs. Moving it later costs
    /// a field write. Set from `on_deadline` for a time already past, it
    /// runs again in the next turn.
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.core.set_deadline(self.index, self.token, deadline);
    }

    /// Set (or clear) the idle deadline of another registration, such as
    /// the connection a listener just registered; returns whether `token`
    /// is registered (a stale one is ignored). The same as
    /// [`EventLoop::set_deadline_of`](crate::EventLoop::set_deadline_of),
    /// from inside a handler.
    pub fn set_deadline_of(&mut self, token: Token, deadline: Option<Instant>) -> bool {
        self.core.set_deadline_of(token, deadline)
    }

    /// How many handlers are registered (this one included), as
    /// [`EventLoop::registrations`](crate::EventLoop::registrations).
    pub fn registrations(&self) -> usize {
        self.core.registrations
    }

    /// The time after the last `select` returned: read from the clock on
    /// the first call after each wait, then the same for the whole batch.
    pub fn now(&self) -> Instant {
        self.core.now()
    }

    /// Schedule a one-shot [`Handler::on_timer`] call for this registration.
    /// A time already past is due at once: from `on_timer` (a retry for
    /// `cx.now()`), that is the next turn, not this one again.
    pub fn add_timer(&mut self, at: Instant) -> TimerId {
        self.core.timers.add_timer(at, self.token)
    }

    /// Cancel a timer; returns whether it was still pending.
    pub fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.core.timers.cancel_timer(id)
    }

    /// Make [`crate::EventLoop::run`] return after this turn.
    pub fn stop(&mut self) {
        self.core.stopped = true;
    }

    /// Whether tracing is on (for handlers that print their own steps).
    pub fn is_tracing(&self) -> bool {
        self.core.trace
    }
}
