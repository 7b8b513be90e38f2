//! What a registration waits for: the tutorial's `EVENT_READ` / `EVENT_WRITE`.

use std::fmt;
use std::ops::BitOr;

/// The readiness a registration asks the selector to report.
///
/// `Interest::READ | Interest::WRITE` asks for both, like
/// `selectors.EVENT_READ | selectors.EVENT_WRITE`. [`Interest::NONE`] keeps
/// the registration (and its slot, its token) but asks for nothing: the way
/// to pause a listener that cannot accept right now without forgetting it.
/// (Python's selectors refuse an empty mask.) The kernel then does not watch
/// the descriptor at all: epoll would report a hang-up or an error even for
/// an empty mask, so the descriptor leaves the epoll set (kqueue: both
/// filters are deleted), and comes back when the interest does. The trace
/// says `pause fd=N`, then `resume fd=N interest=READ`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Interest(u8);

const READ_BIT: u8 = 0b01;
const WRITE_BIT: u8 = 0b10;

impl Interest {
    /// Paused: registered, but no readiness is reported.
    pub const NONE: Interest = Interest(0);
    /// Report when a read (or an accept) would not block.
    pub const READ: Interest = Interest(READ_BIT);
    /// Report when a write (or a pending connect's completion) would not block.
    pub const WRITE: Interest = Interest(WRITE_BIT);
    /// Both of the above.
    pub const READ_WRITE: Interest = Interest(READ_BIT | WRITE_BIT);

    /// Whether readable readiness is asked for.
    #[inline]
    pub const fn is_readable(self) -> bool {
        self.0 & READ_BIT != 0
    }

    /// Whether writable readiness is asked for.
    #[inline]
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE_BIT != 0
    }

    /// Whether nothing is asked for (a paused registration).
    #[inline]
    pub const fn is_none(self) -> bool {
        self.0 == 0
    }

    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    pub(crate) const fn from_bits(bits: u8) -> Interest {
        Interest(bits & (READ_BIT | WRITE_BIT))
    }

    /// This interest with `other`'s bits removed.
    #[inline]
    pub const fn remove(self, other: Interest) -> Interest {
        Interest(self.0 & !other.0)
    }
}

impl BitOr for Interest {
    type Output = Interest;
    #[inline]
    fn bitor(self, rhs: Interest) -> Interest {
        Interest(self.0 | rhs.0)
    }
}

impl fmt::Display for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match (self.is_readable(), self.is_writable()) {
            (true, true) => "READ|WRITE",
            (true, false) => "READ",
            (false, true) => "WRITE",
            (false, false) => "NONE",
        })
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_trace_words() {
        assert_eq!(Interest::READ.to_string(), "READ");
        assert_eq!(Interest::WRITE.to_string(), "WRITE");
        assert_eq!((Interest::READ | Interest::WRITE).to_string(), "READ|WRITE");
        assert_eq!(Interest::NONE.to_string(), "NONE");
        assert!(Interest::READ_WRITE.remove(Interest::WRITE) == Interest::READ);
    }
}
