//! The readiness handed to a handler: the tutorial's `mask`.

use std::fmt;

use crate::event::{Event, ERROR, HANGUP, READABLE, WRITABLE};
use crate::Interest;

/// The readiness given to [`crate::Handler::process_events`] (the tutorial's
/// `mask`).
///
/// A hang-up or an error is also reported as readable and writable (within
/// the registered interest), so a handler that only asks "readable?" or
/// "writable?" still makes the call that says exactly what happened: the
/// next `read`, `write` or `take_error`. A hang-up does not mean the next
/// read returns EOF: the last data and the peer's FIN can arrive together,
/// so the read may return that data first, and only a read of 0 bytes says
/// the peer has finished sending.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ready(u8);

impl Ready {
    /// Readiness built by hand, for driving a handler's state machine
    /// without a loop (a test that feeds it the events it wants):
    /// `Ready::new(true, false)` is what a readable registration gets.
    /// Add [`with_hangup`](Ready::with_hangup) or
    /// [`with_error`](Ready::with_error) for the rest.
    ///
    /// ```
    /// use reactor::Ready;
    /// // What the loop hands a READ registration whose peer sent its last
    /// // bytes and its FIN.
    /// let ready = Ready::new(true, false).with_hangup();
    /// assert!(ready.is_readable() && ready.is_hangup() && !ready.is_writable());
    /// assert_eq!(ready.to_string(), "READ|HUP");
    /// ```
    #[inline]
    pub const fn new(readable: bool, writable: bool) -> Ready {
        let mut flags = 0;
        if readable {
            flags |= READABLE;
        }
        if writable {
            flags |= WRITABLE;
        }
        Ready(flags)
    }

    /// This readiness, with the peer's hang-up added. (The loop reports a
    /// hang-up together with whatever of READ and WRITE the registration
    /// asked for.)
    #[inline]
    pub const fn with_hangup(self) -> Ready {
        Ready(self.0 | HANGUP)
    }

    /// This readiness, with a pending socket error added. (The loop reports
    /// an error together with whatever of READ and WRITE the registration
    /// asked for.)
    #[inline]
    pub const fn with_error(self) -> Ready {
        Ready(self.0 | ERROR)
    }

    /// What a registration for `interest` is told of `event`.
    #[inline]
    pub(crate) fn of(event: Event, interest: Interest) -> Ready {
        let mut mask = 0;
        if interest.is_readable() {
            mask |= READABLE;
        }
        if interest.is_writable() {
            mask |= WRITABLE;
        }
        let mut flags = event.flags;
        if flags & (HANGUP | ERROR) != 0 {
            flags |= READABLE | WRITABLE;
        }
        Ready((flags & mask) | (flags & (HANGUP | ERROR)))
    }
    /// A read (or accept) would not block.
    #[inline]
    pub fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }
    /// A write (or a connect's completion) would not block.
    #[inline]
    pub fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }
    /// The peer hung up (at least its sending side). Data may still be
    /// waiting to be read before the read that returns 0.
    #[inline]
    pub fn is_hangup(self) -> bool {
        self.0 & HANGUP != 0
    }
    /// An error is pending on the socket.
    #[inline]
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }
    #[inline]
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = [
            (READABLE, "READ"),
            (WRITABLE, "WRITE"),
            (HANGUP, "HUP"),
            (ERROR, "ERR"),
        ];
        let mut first = true;
        for (bit, word) in words {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(word)?;
                first = false;
            }
        }
        if first {
            f.write_str("NONE")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Token;

    fn event(flags: u8) -> Event {
        Event {
            token: Token(0),
            flags,
        }
    }

    #[test]
    fn ready_reports_hangup_as_readable_and_writable_within_the_interest() {
        let ready = Ready::of(event(HANGUP), Interest::READ);
        assert!(ready.is_readable() && !ready.is_writable() && ready.is_hangup());
        assert_eq!(ready.to_string(), "READ|HUP");
        assert_eq!(
            Ready::of(event(ERROR), Interest::READ_WRITE).to_string(),
            "READ|WRITE|ERR"
        );
        assert!(Ready::of(event(WRITABLE), Interest::READ).is_empty());
    }

    #[test]
    fn ready_built_by_hand_is_what_the_loop_reports() {
        assert_eq!(
            Ready::new(true, false).with_hangup(),
            Ready::of(event(HANGUP), Interest::READ)
        );
        assert_eq!(
            Ready::new(true, true).with_error(),
            Ready::of(event(ERROR), Interest::READ_WRITE)
        );
        assert_eq!(
            Ready::new(false, true),
            Ready::of(event(WRITABLE), Interest::WRITE)
        );
        assert!(Ready::new(false, false).is_empty());
        assert_eq!(Ready::new(false, false).to_string(), "NONE");
    }
}
