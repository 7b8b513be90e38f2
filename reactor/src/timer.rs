//! Deadlines and timers, kept so that idle connections cost nothing.
//!
//! Idle deadlines (one per registration, moved later on every bit of
//! activity) are kept lazily in a min-heap: moving a deadline later only
//! writes the slot's field, with no heap operation. When an entry reaches the
//! top and its slot now holds a later deadline, it is pushed again with that
//! one. So 10,000 connections that each push their deadline forward on every
//! message leave the heap untouched.
//!
//! Each slot has at most one live entry, the one it pushed last (its
//! `stamp` says which). The others are stale: left by a closed registration
//! (its token's generation no longer matches) or by a deadline moved
//! earlier, which needs a new entry nearer the top. A stale entry is dropped
//! when it reaches the top, but for an idle timeout of a minute that is a
//! minute later, and a server that accepts and closes thousands of
//! connections a second would pile them up. So once the stale entries
//! outnumber the live ones two to one, the loop drops them all in one pass
//! over the heap (see `Core::compact_deadlines`).
//!
//! One-shot timers are rare (a retry, a pause), so an ordered map is enough.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::{Duration, Instant};

use crate::Token;

/// Names a one-shot timer, for [`crate::Context::cancel_timer`] and
/// [`crate::Handler::on_timer`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId {
    at: Instant,
    seq: u64,
}

impl TimerId {
    /// When the timer is due.
    pub fn deadline(&self) -> Instant {
        self.at
    }
}

/// An idle deadline's entry in the heap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DeadlineEntry {
    /// First, so that entries are ordered by time.
    pub(crate) at: Instant,
    pub(crate) token: Token,
    /// The slot's count of pushes when this one was made: the entry is live
    /// while the slot's count is still this. (`u32` is plenty: compaction
    /// drops a stale entry long before its slot could push 2^32 more.)
    pub(crate) stamp: u32,
}

#[derive(Default)]
pub(crate) struct Timers {
    /// Idle deadlines: a min-heap (by `Reverse`).
    deadlines: BinaryHeap<Reverse<DeadlineEntry>>,
    /// One-shot timers, ordered by due time then creation.
    timers: BTreeMap<TimerId, Token>,
    next_seq: u64,
}

impl Timers {
    pub(crate) fn push_deadline(&mut self, entry: DeadlineEntry) {
        self.deadlines.push(Reverse(entry));
    }

    /// The earliest heap entry if it is due at `now`, removed from the heap.
    pub(crate) fn pop_due_deadline(&mut self, now: Instant) -> Option<DeadlineEntry> {
        match self.deadlines.peek() {
            Some(Reverse(entry)) if entry.at <= now => self.deadlines.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Keep only the heap entries `keep` accepts: one pass, then a rebuild,
    /// in place (the heap's memory is reused).
    pub(crate) fn retain_deadlines(&mut self, mut keep: impl FnMut(&DeadlineEntry) -> bool) {
        self.deadlines.retain(|Reverse(entry)| keep(entry));
    }

    pub(crate) fn add_timer(&mut self, at: Instant, token: Token) -> TimerId {
        let id = TimerId {
            at,
            seq: self.next_seq,
        };
        self.next_seq += 1;
        self.timers.insert(id, token);
        id
    }

    pub(crate) fn cancel_timer(&mut self, id: TimerId) -> bool {
        self.timers.remove(&id).is_some()
    }

    /// Append the timers due at `now` to `due`, in order, leaving them in
    /// place: each is taken with [`Timers::take_timer`] when its turn comes,
    /// so one cancelled in the meantime is no longer there to fire.
    pub(crate) fn due_timers(&self, now: Instant, due: &mut Vec<TimerId>) {
        let ids = self.timers.keys().take_while(|id| id.at <= now);
        due.extend(ids.copied());
    }

    /// Remove a timer, returning its registration's token if it was pending.
    pub(crate) fn take_timer(&mut self, id: TimerId) -> Option<Token> {
        self.timers.remove(&id)
    }

    /// Whether anything is scheduled (so the clock must be read before a wait).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.deadlines.is_empty() && self.timers.is_empty()
    }

    /// How long `select` may wait: the caller's timeout, shortened to the
    /// nearest deadline or timer.
    pub(crate) fn wait_for(&self, now: Instant, timeout: Option<Duration>) -> Option<Duration> {
        let next_deadline = self.deadlines.peek().map(|Reverse(entry)| entry.at);
        let next_timer = self.timers.first_key_value().map(|(id, _)| id.at);
        let next = match (next_deadline, next_timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let until_next = next.map(|at| at.saturating_duration_since(now));
        match (timeout, until_next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Entries in the deadline heap, stale ones included.
    pub(crate) fn queued_deadlines(&self) -> usize {
        self.deadlines.len()
    }
}
