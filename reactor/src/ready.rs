//! The readiness handed to a handler: the tutorial's `mask`.

use std::fmt;

use crate::selector::{Event, ERROR, HANGUP, READABLE, WRITABLE};
use crate::Interest;

/// The readiness given to [`crate::Handler::process_events`] (the tutorial's
/// `mask`). A hang-up or an error is also reported as readable and writable
/// (within the registered interest): the next `read`, `write` or
/// `take_error` then says exactly what happened.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ready(u8);

impl Ready {
    /// Readiness made by hand, for driving a handler or a state machine
    /// without a selector (tests, simulations): readable, writable, both or
    /// neither; never a hang-up or an error.
    pub fn new(readable: bool, writable: bool) -> Ready {
        let mut mask = 0;
        if readable {
            mask |= READABLE;
        }
        if writable {
            mask |= WRITABLE;
        }
        Ready(mask)
    }
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
    /// The peer hung up.
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
    use super::Ready;

    #[test]
    fn made_by_hand_it_says_what_it_was_given() {
        for (readable, writable, text) in [
            (false, false, "NONE"),
            (true, false, "READ"),
            (false, true, "WRITE"),
            (true, true, "READ|WRITE"),
        ] {
            let ready = Ready::new(readable, writable);
            assert_eq!(
                (ready.is_readable(), ready.is_writable()),
                (readable, writable)
            );
            assert!(!ready.is_hangup() && !ready.is_error());
            assert_eq!(ready.to_string(), text);
        }
    }
}
