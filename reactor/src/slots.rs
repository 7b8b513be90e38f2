//! The slot table: one slot per registration, found from its [`Token`].
//!
//! Each registration lives in a slot of a `Vec`. Its token packs the slot
//! index (low 32 bits) and the slot's generation (high 32 bits); the
//! generation changes whenever a slot is freed, so an event for a socket
//! closed earlier in the same batch, or for a slot reused since, no longer
//! matches and is dropped. Finding a registration from an event is one
//! index and one comparison: no hashing. Freed slots form a free list
//! (through `Slot::next_free`), so a new registration reuses one before the
//! `Vec` grows.
//!
//! This is the loop's bookkeeping, apart from the loop itself
//! (`event_loop.rs`: wait, dispatch, fire what is due): [`Core`] holds the
//! slots with everything else a [`Context`](crate::Context) may touch, and
//! its methods are all that a handler's call can do to a registration.

use std::cell::Cell;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Instant;

use crate::timer::{DeadlineEntry, Timers};
use crate::trace::trace;
use crate::{Interest, Selector, Token};

/// End of the free list.
const NO_SLOT: u32 = u32::MAX;
/// Stale deadline entries tolerated beyond twice the live ones: a heap this
/// small is not worth a pass.
const COMPACT_SLACK: usize = 32;

/// A registration's bookkeeping (its handler is in `EventLoop::handlers`,
/// at the same index).
pub(crate) struct Slot {
    /// Whether the slot is in use.
    pub(crate) live: bool,
    pub(crate) generation: u32,
    /// The descriptor's number as registered: what interest changes go by
    /// (a `Context` cannot reach its handler to borrow the descriptor), and
    /// what the rule of [`Handler`](crate::Handler) is checked against.
    pub(crate) fd: RawFd,
    pub(crate) interest: Interest,
    /// The idle deadline as last set.
    pub(crate) deadline: Option<Instant>,
    /// When this slot's live entry in the deadline heap is due (`None`: it
    /// has none). Earlier than `deadline` once that has moved later (a field
    /// write): the entry, when it comes due, finds the new one.
    pub(crate) live_entry_at: Option<Instant>,
    /// How many entries this slot has pushed (wrapping): its live entry is
    /// the one with this stamp.
    pub(crate) stamp: u32,
    pub(crate) next_free: u32,
}

impl Slot {
    /// Whether `entry` is this slot's live heap entry (the caller has
    /// checked that its token is this slot's current one).
    #[inline]
    fn is_live_entry(&self, entry: &DeadlineEntry) -> bool {
        self.live_entry_at.is_some() && self.stamp == entry.stamp
    }
}

/// Everything but the handlers and the event buffer: what a
/// [`Context`](crate::Context) may touch.
pub(crate) struct Core<H> {
    pub(crate) selector: Selector,
    pub(crate) slots: Vec<Slot>,
    /// Handlers registered during a handler call, with their slot index:
    /// moved into place when the call returns (capacity reused).
    pub(crate) pending: Vec<(usize, H)>,
    /// The head of the free list (`NO_SLOT`: empty).
    pub(crate) free: u32,
    /// How many slots are live.
    pub(crate) registrations: usize,
    pub(crate) timers: Timers,
    /// How many slots have a live deadline entry (`live_entry_at` set); the
    /// rest of the heap is stale.
    pub(crate) live_entries: usize,
    /// The time after the last wait, read on first use: a batch that never
    /// asks (no deadlines, no timers, no `cx.now()`) costs no clock read.
    pub(crate) now: Cell<Option<Instant>>,
    pub(crate) trace: bool,
    pub(crate) stopped: bool,
}

/// The token of slot `index` in its `generation`.
#[inline]
pub(crate) fn make_token(index: usize, generation: u32) -> Token {
    Token((u64::from(generation) << 32) | index as u64)
}

/// The slot of a live registration whose generation matches `token`.
#[inline]
fn slot_of(slots: &[Slot], token: Token) -> Option<usize> {
    let index = (token.0 & 0xffff_ffff) as usize;
    let slot = slots.get(index)?;
    (slot.live && slot.generation == (token.0 >> 32) as u32).then_some(index)
}

impl<H: AsFd> Core<H> {
    pub(crate) fn new(selector: Selector) -> Self {
        Core {
            selector,
            slots: Vec::new(),
            pending: Vec::new(),
            free: NO_SLOT,
            registrations: 0,
            timers: Timers::default(),
            live_entries: 0,
            now: Cell::new(None),
            trace: false,
            stopped: false,
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self.now.get() {
            Some(now) => now,
            None => {
                let now = Instant::now();
                self.now.set(Some(now));
                now
            }
        }
    }

    /// The slot of a live registration whose generation matches `token`.
    #[inline]
    pub(crate) fn slot_index(&self, token: Token) -> Option<usize> {
        slot_of(&self.slots, token)
    }

    pub(crate) fn insert(&mut self, handler: H, interest: Interest) -> io::Result<Token> {
        let fd = handler.as_fd().as_raw_fd();
        if self.free == NO_SLOT {
            if self.slots.len() >= (NO_SLOT - 1) as usize {
                return Err(io::Error::new(
                    io::ErrorKind::OutOfMemory,
                    "event loop slab is full",
                ));
            }
            // A new slot joins the free list first, so a registration that
            // fails below leaves it there for the next one.
            self.slots.push(Slot {
                live: false,
                generation: 0,
                fd: -1,
                interest: Interest::NONE,
                deadline: None,
                live_entry_at: None,
                stamp: 0,
                next_free: NO_SLOT,
            });
            self.free = (self.slots.len() - 1) as u32;
        }
        let index = self.free as usize;
        let token = make_token(index, self.slots[index].generation);
        self.selector.register_raw(fd, token, interest)?;
        if self.trace {
            trace(format_args!("register fd={fd} interest={interest}"));
        }
        let slot = &mut self.slots[index];
        self.free = slot.next_free;
        self.pending.push((index, handler));
        slot.live = true;
        slot.fd = fd;
        slot.interest = interest;
        slot.deadline = None;
        slot.next_free = NO_SLOT;
        self.registrations += 1;
        Ok(token)
    }

    /// Unregister `fd`, the slot's handler's descriptor, and free the slot
    /// (the caller then drops the handler).
    pub(crate) fn release(&mut self, index: usize, fd: BorrowedFd<'_>) {
        let slot = &mut self.slots[index];
        // The fd is open (its handler, dropped only after this, owns it) and
        // registered; the only failure left is the kernel's, and the close
        // that follows removes the registration anyway.
        let _ = self.selector.unregister(fd);
        if self.trace {
            trace(format_args!("unregister fd={}", fd.as_raw_fd()));
        }
        slot.live = false;
        slot.fd = -1;
        slot.interest = Interest::NONE;
        slot.deadline = None;
        // A new generation makes every outstanding token of this slot stale,
        // and so its heap entry, if it had one.
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free;
        self.free = index as u32;
        self.registrations -= 1;
        if slot.live_entry_at.take().is_some() {
            self.live_entries -= 1;
            self.compact_deadlines();
        }
    }

    pub(crate) fn set_interest(
        &mut self,
        index: usize,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        let slot = &mut self.slots[index];
        let old = slot.interest;
        if old == interest {
            return Ok(()); // no syscall for no change
        }
        self.selector.modify_raw(slot.fd, token, interest)?;
        slot.interest = interest;
        if self.trace {
            let fd = slot.fd;
            // NONE takes the descriptor out of the kernel's set, and leaving
            // NONE puts it back in: the trace says so, not "modify".
            match (old.is_none(), interest.is_none()) {
                (false, true) => trace(format_args!("pause fd={fd}")),
                (true, false) => trace(format_args!("resume fd={fd} interest={interest}")),
                _ => trace(format_args!("modify fd={fd} interest={interest}")),
            }
        }
        Ok(())
    }

    pub(crate) fn set_deadline(&mut self, index: usize, token: Token, deadline: Option<Instant>) {
        let slot = &mut self.slots[index];
        slot.deadline = deadline;
        if let Some(at) = deadline {
            // Later than the live entry: that entry, when it pops, finds
            // this field and re-queues itself. Only an earlier one is pushed.
            if slot.live_entry_at.is_none_or(|due| at < due) {
                self.queue_deadline(index, token, at);
            }
        }
    }

    /// Set (or clear) the idle deadline of `token`'s registration; returns
    /// whether it is registered.
    pub(crate) fn set_deadline_of(&mut self, token: Token, deadline: Option<Instant>) -> bool {
        match self.slot_index(token) {
            Some(index) => {
                self.set_deadline(index, token, deadline);
                true
            }
            None => false,
        }
    }

    /// A heap entry has come due at `now`. Returns the slot whose idle
    /// deadline has passed (its deadline now cleared), or `None` when the
    /// entry is stale (its registration closed since, or superseded by an
    /// earlier deadline) or the deadline has moved since it was queued
    /// (later: queued again; cleared: forgotten).
    pub(crate) fn passed_deadline(&mut self, entry: DeadlineEntry, now: Instant) -> Option<usize> {
        let index = self.slot_index(entry.token)?;
        let slot = &mut self.slots[index];
        if !slot.is_live_entry(&entry) {
            return None;
        }
        match slot.deadline {
            // Moved later since it was queued (a field write): queue that.
            Some(later) if later > now => self.queue_deadline(index, entry.token, later),
            // Cleared since.
            None => self.unqueue_deadline(index),
            Some(_) => {
                slot.deadline = None;
                self.unqueue_deadline(index);
                return Some(index);
            }
        }
        None
    }

    /// Push an entry for `at` as slot `index`'s live one; the entry it had
    /// before, if any, is stale from now on.
    fn queue_deadline(&mut self, index: usize, token: Token, at: Instant) {
        let slot = &mut self.slots[index];
        if slot.live_entry_at.is_none() {
            self.live_entries += 1;
        }
        slot.live_entry_at = Some(at);
        slot.stamp = slot.stamp.wrapping_add(1);
        let stamp = slot.stamp;
        self.timers
            .push_deadline(DeadlineEntry { at, token, stamp });
        self.compact_deadlines();
    }

    /// Slot `index`'s live entry has come due and left the heap (see
    /// `passed_deadline`), and no other replaces it.
    fn unqueue_deadline(&mut self, index: usize) {
        if self.slots[index].live_entry_at.take().is_some() {
            self.live_entries -= 1;
            self.compact_deadlines();
        }
    }

    /// Drop every stale entry, once they outnumber the live ones two to one
    /// (plus a slack). A pass visits every entry, but the pushes and closes
    /// since the previous pass (which left only live ones) number at least
    /// two thirds of them: O(1) per push or close, amortised. The heap stays
    /// within three entries per live one plus the slack, and keeps its
    /// memory.
    fn compact_deadlines(&mut self) {
        // The live count also covers entries popped for this turn's
        // `fire_due` and not yet run, so the stale count is, if anything,
        // underestimated.
        if self.timers.queued_deadlines() <= 3 * self.live_entries + COMPACT_SLACK {
            return;
        }
        let slots = &self.slots;
        self.timers.retain_deadlines(|entry| {
            slot_of(slots, entry.token).is_some_and(|index| slots[index].is_live_entry(entry))
        });
    }
}
