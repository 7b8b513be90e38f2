//! Waking a blocked `select` from elsewhere: another thread, or a signal
//! handler (see [`crate::signal`]).
//!
//! The loop registers a descriptor it owns (an eventfd on Linux, the read end
//! of a self-pipe on kqueue systems) under a token reserved for it; writing to
//! the other end makes it readable, `select` returns, and the loop drains it.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::Arc;

/// A handle that wakes its event loop's `select`. Cheap to clone; send it to
/// any thread.
#[derive(Clone, Debug)]
pub struct Waker {
    write: Arc<OwnedFd>,
}

/// What is written: 8 bytes, because an eventfd accepts exactly a `u64`; a
/// pipe takes them as well (atomically: less than `PIPE_BUF`).
pub(crate) const WAKE_BYTES: [u8; 8] = 1u64.to_ne_bytes();

impl Waker {
    pub(crate) fn new(write: Arc<OwnedFd>) -> Waker {
        Waker { write }
    }

    /// Wake the loop: its current or next `select` returns, and
    /// [`crate::Turn::woken`] says so. Wakes that happen before the loop
    /// looks are merged into one.
    pub fn wake(&self) -> io::Result<()> {
        match nix::unistd::write(&*self.write, &WAKE_BYTES) {
            Ok(_) => Ok(()),
            // Full pipe / saturated counter: a wake is already pending.
            Err(nix::errno::Errno::EAGAIN) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The descriptor written to (used by the signal handler, which may only
    /// call async-signal-safe functions such as `write`).
    pub(crate) fn raw_write_fd(&self) -> RawFd {
        self.write.as_raw_fd()
    }
}
