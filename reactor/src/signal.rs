//! SIGINT and SIGTERM as loop events, by the self-pipe trick.
//!
//! A signal handler may only do async-signal-safe things, so ours does two:
//! it records the signal in a static bitmask, and it writes a few bytes to
//! every registered [`Waker`] descriptor. Each loop's `select` then returns
//! with [`crate::Turn::woken`] set, and the loop asks [`take_pending`] which
//! signals came.
//!
//! Why not `signalfd` (or `EVFILT_SIGNAL`)? A signalfd only sees a signal that
//! is blocked in *every* thread of the process, including threads spawned
//! before it was set up (a test harness, a logging thread) or by libraries;
//! one thread that leaves it unblocked gets the signal the default way, and a
//! SIGINT kills the process. It is also Linux-only. The self-pipe works with
//! any threads, on every Unix, and wakes several worker loops at once.
//!
//! Wakers passed to [`notify`] are kept for the life of the process: the
//! handler may run at any moment, and must never write to a descriptor
//! number that was closed and reused.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;

pub use nix::sys::signal::Signal;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet};

use crate::waker::WAKE_BYTES;
use crate::Waker;

/// How many loops can be woken by signals at once (a server with more
/// worker loops than this is refused).
pub const MAX_WAKERS: usize = 64;

static WAKE_FDS: [AtomicI32; MAX_WAKERS] = [const { AtomicI32::new(-1) }; MAX_WAKERS];
/// Bit `n` set: signal number `n` arrived since the last [`take_pending`].
static PENDING: AtomicU64 = AtomicU64::new(0);
/// How many notified signals have arrived since the process started.
static RECEIVED: AtomicU64 = AtomicU64::new(0);
/// Keeps the registered wakers' descriptors open (see the module docs).
static KEPT: Mutex<Vec<Waker>> = Mutex::new(Vec::new());

extern "C" fn on_signal(signo: libc::c_int) {
    // `write` may set errno; the interrupted code must not see it change.
    let saved = nix::errno::Errno::last_raw();
    if (0..64).contains(&signo) {
        PENDING.fetch_or(1 << signo, Ordering::SeqCst);
    }
    RECEIVED.fetch_add(1, Ordering::SeqCst);
    for slot in &WAKE_FDS {
        let fd = slot.load(Ordering::SeqCst);
        if fd >= 0 {
            // SAFETY: write(2) is async-signal-safe; the buffer is a static
            // of the given length; the fd is kept open for ever by `KEPT`.
            unsafe { libc::write(fd, WAKE_BYTES.as_ptr().cast(), WAKE_BYTES.len()) };
        }
    }
    nix::errno::Errno::set_raw(saved);
}

/// Deliver `signals` to `waker`'s loop: from now on, each of them marks
/// itself pending (see [`take_pending`]) and wakes every loop passed here,
/// instead of its default action (for SIGINT and SIGTERM: exiting).
pub fn notify(signals: &[Signal], waker: &Waker) -> io::Result<()> {
    add_waker(waker)?;
    // SA_RESTART: other threads' blocking calls are not disturbed; a wait in
    // select is woken by the waker's bytes, not by EINTR.
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::SA_RESTART,
        SigSet::empty(),
    );
    for &signal in signals {
        // SAFETY: `on_signal` only touches atomics and calls write(2), both
        // async-signal-safe.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(())
}

fn add_waker(waker: &Waker) -> io::Result<()> {
    let fd: RawFd = waker.raw_write_fd();
    let mut kept = KEPT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if WAKE_FDS
        .iter()
        .any(|slot| slot.load(Ordering::SeqCst) == fd)
    {
        return Ok(());
    }
    let free = WAKE_FDS.iter().find(|slot| {
        slot.compare_exchange(-1, fd, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    if free.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::OutOfMemory,
            format!("at most {MAX_WAKERS} wakers can be notified of signals"),
        ));
    }
    kept.push(waker.clone());
    Ok(())
}

/// A set of signals, as returned by [`take_pending`] and [`pending`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pending(u64);

impl Pending {
    /// Whether `signal` is in the set.
    pub fn contains(self, signal: Signal) -> bool {
        let n = signal as i32;
        (0..64).contains(&n) && self.0 & (1 << n) != 0
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The signals in the set, by number.
    pub fn iter(self) -> impl Iterator<Item = Signal> {
        (1..64)
            .filter(move |n| self.0 & (1u64 << n) != 0)
            .filter_map(|n| Signal::try_from(n).ok())
    }
}

/// How many notified signals have arrived since the process started, each
/// counted (unlike [`pending`], where a signal that comes twice is one bit):
/// a stopping server asks whether a second one came.
pub fn received() -> u64 {
    RECEIVED.load(Ordering::SeqCst)
}

/// The signals that arrived since the last call, and forget them.
pub fn take_pending() -> Pending {
    Pending(PENDING.swap(0, Ordering::SeqCst))
}

/// The signals that arrived since the last [`take_pending`], without
/// forgetting them.
pub fn pending() -> Pending {
    Pending(PENDING.load(Ordering::SeqCst))
}
