//! The Linux backend: `epoll` through `nix::sys::epoll`, a waker on `eventfd`.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};

use crate::event::{Event, Token, ERROR, HANGUP, READABLE, WRITABLE};
use crate::Interest;

pub(crate) type RawEvent = EpollEvent;

pub(crate) fn empty_event() -> RawEvent {
    EpollEvent::empty()
}

#[inline]
pub(crate) fn event_of(raw: &RawEvent) -> Event {
    let ev = raw.events();
    let mut flags = 0;
    if ev.intersects(EpollFlags::EPOLLIN | EpollFlags::EPOLLPRI) {
        flags |= READABLE;
    }
    if ev.contains(EpollFlags::EPOLLOUT) {
        flags |= WRITABLE;
    }
    if ev.intersects(EpollFlags::EPOLLHUP | EpollFlags::EPOLLRDHUP) {
        flags |= HANGUP;
    }
    if ev.contains(EpollFlags::EPOLLERR) {
        flags |= ERROR;
    }
    Event {
        token: Token(raw.data()),
        flags,
    }
}

fn epoll_flags(interest: Interest) -> EpollFlags {
    let mut flags = EpollFlags::empty();
    if interest.is_readable() {
        // RDHUP makes a peer's half-close visible as a hang-up, not only as
        // a read returning 0.
        flags |= EpollFlags::EPOLLIN | EpollFlags::EPOLLRDHUP;
    }
    if interest.is_writable() {
        flags |= EpollFlags::EPOLLOUT;
    }
    flags
}

pub(crate) struct Selector {
    epoll: Epoll,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        Ok(Selector {
            epoll: Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?,
        })
    }

    /// Move `fd` from interest `old` to `new`. A paused registration
    /// (`Interest::NONE`) is kept out of the epoll set altogether: epoll
    /// reports HUP and ERR even for an empty mask, and level-triggered that
    /// would wake the loop forever for a registration that asked for nothing.
    pub(crate) fn update(
        &self,
        fd: RawFd,
        token: u64,
        old: Interest,
        new: Interest,
    ) -> io::Result<()> {
        // SAFETY: `fd` comes from an `AsFd` the caller holds, or from a
        // handler the event loop owns; either keeps it open during this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let result = match (old.is_none(), new.is_none()) {
            (true, true) => Ok(()),
            (true, false) => self.epoll.add(fd, EpollEvent::new(epoll_flags(new), token)),
            (false, true) => self.epoll.delete(fd),
            (false, false) => self
                .epoll
                .modify(fd, &mut EpollEvent::new(epoll_flags(new), token)),
        };
        result.map_err(io::Error::from)
    }

    pub(crate) fn select(
        &self,
        buf: &mut [RawEvent],
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let ms = millis_rounded_up(timeout);
        let timeout = EpollTimeout::try_from(ms).unwrap_or(EpollTimeout::MAX);
        Ok(self.epoll.wait(buf, timeout)?)
    }
}

/// Round a timeout up to whole milliseconds, as `epoll_wait` counts: a
/// truncated 500 µs would become 0 and the loop would spin until the deadline.
fn millis_rounded_up(timeout: Option<Duration>) -> i32 {
    match timeout {
        None => -1,
        Some(t) => {
            // Whole milliseconds, plus one for any fraction (no u128 division).
            let ms = t
                .as_secs()
                .saturating_mul(1000)
                .saturating_add(u64::from(t.subsec_nanos().div_ceil(1_000_000)));
            i32::try_from(ms).unwrap_or(i32::MAX)
        }
    }
}

/// The waker's read and write ends: one eventfd serves as both.
pub(crate) fn waker_fds() -> io::Result<(Arc<OwnedFd>, Arc<OwnedFd>)> {
    let fd = EventFd::from_value_and_flags(0, EfdFlags::EFD_CLOEXEC | EfdFlags::EFD_NONBLOCK)?;
    let fd = Arc::new(OwnedFd::from(fd));
    Ok((fd.clone(), fd))
}

/// Reset the waker: one read returns and zeroes the eventfd counter.
pub(crate) fn drain_waker(fd: &OwnedFd) {
    let mut buf = [0u8; 8];
    // EAGAIN (already drained) is fine: the point is only to stop the
    // level-triggered readiness.
    let _ = nix::unistd::read(fd, &mut buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_round_up_to_the_next_millisecond() {
        assert_eq!(millis_rounded_up(None), -1);
        assert_eq!(millis_rounded_up(Some(Duration::ZERO)), 0);
        assert_eq!(millis_rounded_up(Some(Duration::from_micros(500))), 1);
        assert_eq!(millis_rounded_up(Some(Duration::from_micros(1000))), 1);
        assert_eq!(millis_rounded_up(Some(Duration::from_micros(1001))), 2);
        assert_eq!(
            millis_rounded_up(Some(Duration::from_secs(u64::MAX))),
            i32::MAX
        );
    }
}
