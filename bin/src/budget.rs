//! `--max-buffered-bytes`: one worker's budget for partial requests.
//!
//! A request that arrives in pieces is held in its connection's buffer until
//! its last byte is there. Without a bound, 10,000 connections that each
//! announce 1 MiB and send it slowly make the server hold 10 GiB. So a
//! message's bytes are taken into memory only once the budget can hold the
//! whole message (its length is known from the JSON header); until then the
//! connection is *parked*: not read, its bytes wait in the kernel and TCP
//! slows the sender down. Nothing is dropped and no connection is killed.
//!
//! Why this cannot deadlock: a connection is parked only once its
//! request's length is known (its JSON header is in) and that length does
//! not fit; before that it reads, under pressure, no further than the end
//! of its header. So every parked connection waits for a length, and
//! whenever no request at all holds a whole share ("admitted"), the one
//! parked longest is admitted even past the budget (by at most one
//! request). Admitted requests complete (or `--request-timeout` closes
//! them) and free their share for the next in line. What a connection
//! holds before its length is known, one header at most, is counted but
//! never waited for.
//!
//! Each worker thread has its own budget (the option's value divided among
//! the workers): the event loop is single-threaded, so the accounting is a
//! few `Cell`s, with no lock and no atomic on the hot path.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use reactor::Token;

/// The budget of the current thread's event loop.
#[derive(Debug)]
pub struct Budget {
    limit: Cell<usize>,
    used: Cell<usize>,
    /// Shares that cover a whole message.
    admitted: Cell<usize>,
    /// Connections waiting for room, in the order they parked.
    parked: RefCell<VecDeque<Token>>,
}

thread_local! {
    static BUDGET: Budget = const {
        Budget {
            limit: Cell::new(usize::MAX),
            used: Cell::new(0),
            admitted: Cell::new(0),
            parked: RefCell::new(VecDeque::new()),
        }
    };
}

/// Runs `f` with this thread's budget (unlimited until [`Budget::set_limit`]).
pub fn with_budget<R>(f: impl FnOnce(&Budget) -> R) -> R {
    BUDGET.with(f)
}

impl Budget {
    /// Sets this thread's limit (a worker does this once, at start).
    pub fn set_limit(&self, limit: usize) {
        self.limit.set(limit);
    }

    /// Bytes that may still be taken.
    pub fn free(&self) -> usize {
        self.limit.get().saturating_sub(self.used.get())
    }

    /// Bytes held now, by every connection of this thread.
    pub fn used(&self) -> usize {
        self.used.get()
    }

    /// Takes `bytes` more for a share that does not cover a whole message
    /// (the bytes read before a message's length is known). The caller read
    /// at most [`Budget::free`] bytes, so this stays within the limit.
    pub fn take(&self, share: &mut Share, bytes: usize) {
        self.used.set(self.used.get() + bytes);
        share.bytes += bytes;
    }

    /// Grows `share` to hold a whole message of `len` bytes, if there is
    /// room (or if nothing else is admitted: see the module docs).
    pub fn admit(&self, share: &mut Share, len: usize) -> bool {
        let more = len.saturating_sub(share.bytes);
        if more > self.free() && self.admitted.get() > 0 {
            return false;
        }
        self.used.set(self.used.get() + more);
        share.bytes += more;
        if !share.admitted {
            share.admitted = true;
            self.admitted.set(self.admitted.get() + 1);
        }
        true
    }

    /// Gives back all of `share` (its message completed, or its connection
    /// closed).
    pub fn release(&self, share: &mut Share) {
        self.used.set(self.used.get().saturating_sub(share.bytes));
        if share.admitted {
            self.admitted.set(self.admitted.get().saturating_sub(1));
        }
        share.bytes = 0;
        share.admitted = false;
    }

    /// Queues a parked connection, to be offered room when some frees.
    pub fn park(&self, token: Token) {
        self.parked.borrow_mut().push_back(token);
    }

    /// The connection parked longest, if any, taken off the queue.
    pub fn next_parked(&self) -> Option<Token> {
        self.parked.borrow_mut().pop_front()
    }

    /// Puts back a connection that still does not fit, at the head: the
    /// queue keeps its order.
    pub fn unpark_failed(&self, token: Token) {
        self.parked.borrow_mut().push_front(token);
    }

    /// Whether connections are waiting for room.
    pub fn has_parked(&self) -> bool {
        !self.parked.borrow().is_empty()
    }
}

/// What one connection holds of its thread's budget.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Share {
    bytes: usize,
    /// Whether `bytes` covers the whole message being received.
    admitted: bool,
}

/// A closed connection gives its share back, whatever it was doing.
impl Drop for Share {
    fn drop(&mut self) {
        if self.bytes > 0 || self.admitted {
            // At thread exit the budget may be gone already: nothing to keep.
            let _ = BUDGET.try_with(|budget| budget.release(self));
        }
    }
}

impl Share {
    /// Whether this share covers a whole message.
    pub fn is_admitted(&self) -> bool {
        self.admitted
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(limit: usize) -> Budget {
        let b = Budget {
            limit: Cell::new(limit),
            used: Cell::new(0),
            admitted: Cell::new(0),
            parked: RefCell::new(VecDeque::new()),
        };
        b.set_limit(limit);
        b
    }

    #[test]
    fn a_message_is_admitted_only_when_it_fits_whole() {
        let b = budget(100);
        let (mut first, mut second) = (Share::default(), Share::default());
        assert!(b.admit(&mut first, 60));
        b.take(&mut second, 10);
        assert!(!b.admit(&mut second, 60), "60 does not fit in 40");
        assert_eq!(b.used(), 70);
        b.release(&mut first);
        assert!(b.admit(&mut second, 60), "the 10 held count towards it");
        assert_eq!(b.used(), 60);
        b.release(&mut second);
        assert_eq!((b.used(), b.admitted.get()), (0, 0));
    }

    #[test]
    fn with_nothing_admitted_the_first_asking_gets_in_past_the_limit() {
        let b = budget(100);
        let (mut a, mut c) = (Share::default(), Share::default());
        b.take(&mut a, 60);
        b.take(&mut c, 40);
        assert_eq!(b.free(), 0);
        assert!(b.admit(&mut a, 150), "no progress otherwise");
        assert!(!b.admit(&mut c, 150), "one at a time");
        b.release(&mut a);
        assert!(b.admit(&mut c, 150));
        b.release(&mut c);
    }

    #[test]
    fn parked_connections_come_back_in_order() {
        let b = budget(1);
        b.park(Token(1));
        b.park(Token(2));
        let first = b.next_parked();
        assert_eq!(first, Some(Token(1)));
        b.unpark_failed(Token(1));
        assert_eq!(b.next_parked(), Some(Token(1)));
        assert_eq!(b.next_parked(), Some(Token(2)));
        assert!(!b.has_parked());
    }
}
