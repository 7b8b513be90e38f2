//! What the kernel reported, decoded: one [`Event`] per ready registration,
//! carrying the [`Token`] it was registered with and its readiness flags.
//!
//! These are what each backend in `sys` produces from its kernel's records,
//! and what the public [`Selector`](crate::Selector) hands out. They live
//! here, on their own, so that the backends and the selector both build on
//! them and neither depends on the other.

use std::fmt;

/// The value a registration carries through the kernel and gets back in its
/// events (the tutorial's `key.data`, reduced to a number).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u64);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:#x})", self.0)
    }
}

/// An [`Event`] flag: a read (or accept) would not block.
pub(crate) const READABLE: u8 = 0b0001;
/// An [`Event`] flag: a write (or a connect's completion) would not block.
pub(crate) const WRITABLE: u8 = 0b0010;
/// An [`Event`] flag: the peer hung up (at least its sending side); data
/// sent before its FIN may still be waiting.
pub(crate) const HANGUP: u8 = 0b0100;
/// An [`Event`] flag: an error is pending on the socket.
pub(crate) const ERROR: u8 = 0b1000;

/// One readiness report: which registration, and what it is ready for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub(crate) token: Token,
    /// [`READABLE`], [`WRITABLE`], [`HANGUP`] and [`ERROR`], or-ed.
    pub(crate) flags: u8,
}

impl Event {
    /// The token given when the descriptor was registered.
    #[inline]
    pub fn token(&self) -> Token {
        self.token
    }
    /// A read (or accept) would not block.
    #[inline]
    pub fn is_readable(&self) -> bool {
        self.flags & READABLE != 0
    }
    /// A write (or a pending connect's completion) would not block.
    #[inline]
    pub fn is_writable(&self) -> bool {
        self.flags & WRITABLE != 0
    }
    /// The peer hung up (at least its sending side is closed). Bytes it sent
    /// before may still be unread: a read returns them first, and 0 (EOF)
    /// only after them.
    #[inline]
    pub fn is_hangup(&self) -> bool {
        self.flags & HANGUP != 0
    }
    /// An error is pending on the socket (`SO_ERROR` says which).
    #[inline]
    pub fn is_error(&self) -> bool {
        self.flags & ERROR != 0
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("token", &self.token)
            .field("readable", &self.is_readable())
            .field("writable", &self.is_writable())
            .field("hangup", &self.is_hangup())
            .field("error", &self.is_error())
            .finish()
    }
}
