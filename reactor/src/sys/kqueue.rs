//! The BSD and macOS backend: `kqueue` through `nix::sys::event`, a waker on
//! a non-blocking self-pipe (portable to every BSD, unlike `EVFILT_USER`).

use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use libc::{intptr_t, uintptr_t};
use nix::fcntl::{fcntl, FcntlArg, FdFlag, OFlag};
use nix::sys::event::{EvFlags, EventFilter, FilterFlag, KEvent, Kqueue};
use nix::sys::time::TimeSpec;

use crate::selector::{Event, ERROR, HANGUP, READABLE, WRITABLE};
use crate::{Interest, Token};

pub(crate) type RawEvent = KEvent;

pub(crate) fn empty_event() -> RawEvent {
    KEvent::new(
        0,
        EventFilter::EVFILT_READ,
        EvFlags::empty(),
        FilterFlag::empty(),
        0,
        0,
    )
}

// The token is a u64; kqueue's user data is an intptr_t. On the 64-bit
// systems we target the two have the same width, so the bits round-trip.
fn udata_of(token: u64) -> intptr_t {
    token as i64 as intptr_t
}

#[inline]
pub(crate) fn event_of(raw: &RawEvent) -> Event {
    let mut flags = match raw.filter() {
        Ok(EventFilter::EVFILT_READ) => READABLE,
        Ok(EventFilter::EVFILT_WRITE) => WRITABLE,
        _ => 0,
    };
    let ev = raw.flags();
    if ev.contains(EvFlags::EV_EOF) {
        flags |= HANGUP;
        // A socket error (ECONNREFUSED, ECONNRESET) comes as EV_EOF with the
        // errno in fflags; EV_ERROR itself only appears on change receipts.
        if raw.fflags().bits() != 0 {
            flags |= ERROR;
        }
    }
    if ev.contains(EvFlags::EV_ERROR) {
        flags |= ERROR;
    }
    Event {
        token: Token(raw.udata() as i64 as u64),
        flags,
    }
}

pub(crate) struct Selector {
    kq: Kqueue,
}

impl Selector {
    pub(crate) fn new() -> io::Result<Selector> {
        let kq = Kqueue::new()?;
        // kqueue() has no close-on-exec flag of its own.
        fcntl(&kq, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
        Ok(Selector { kq })
    }

    /// Move `fd` from interest `old` to `new`: one filter per direction,
    /// added (EV_ADD also updates the token) or deleted, all in one call.
    pub(crate) fn update(
        &self,
        fd: RawFd,
        token: u64,
        old: Interest,
        new: Interest,
    ) -> io::Result<()> {
        let ident = fd as uintptr_t;
        let udata = udata_of(token);
        let mut changes = [empty_event(); 2];
        let mut n = 0;
        let filters = [
            (
                EventFilter::EVFILT_READ,
                old.is_readable(),
                new.is_readable(),
            ),
            (
                EventFilter::EVFILT_WRITE,
                old.is_writable(),
                new.is_writable(),
            ),
        ];
        for (filter, was, will) in filters {
            let action = match (was, will) {
                (_, true) => EvFlags::EV_ADD,
                (true, false) => EvFlags::EV_DELETE,
                (false, false) => continue,
            };
            // EV_RECEIPT: report each change's own result, and never
            // return (and so never swallow) pending events here.
            changes[n] = KEvent::new(
                ident,
                filter,
                action | EvFlags::EV_RECEIPT,
                FilterFlag::empty(),
                0,
                udata,
            );
            n += 1;
        }
        if n == 0 {
            return Ok(());
        }
        let mut receipts = [empty_event(); 2];
        let got = self.kq.kevent(
            &changes[..n],
            &mut receipts[..n],
            Some(*TimeSpec::from_duration(Duration::ZERO).as_ref()),
        )?;
        for receipt in &receipts[..got] {
            if receipt.flags().contains(EvFlags::EV_ERROR) && receipt.data() != 0 {
                let errno = receipt.data() as i32;
                // EPIPE: adding WRITE to a socket whose peer is gone (macOS);
                // the read side will report the hang-up.
                if errno != libc::EPIPE {
                    return Err(io::Error::from_raw_os_error(errno));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn select(
        &self,
        buf: &mut [RawEvent],
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let timeout = timeout.map(|t| *TimeSpec::from_duration(t).as_ref());
        Ok(self.kq.kevent(&[], buf, timeout)?)
    }
}

fn set_nonblocking_cloexec(fd: &OwnedFd) -> io::Result<()> {
    fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))?;
    fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))?;
    Ok(())
}

/// The waker's read and write ends: a self-pipe, both ends non-blocking (a
/// full pipe already means "wake up", so a failed write loses nothing).
pub(crate) fn waker_fds() -> io::Result<(Arc<OwnedFd>, Arc<OwnedFd>)> {
    let (read, write) = nix::unistd::pipe()?;
    set_nonblocking_cloexec(&read)?;
    set_nonblocking_cloexec(&write)?;
    Ok((Arc::new(read), Arc::new(write)))
}

/// Empty the self-pipe, so it stops being readable.
pub(crate) fn drain_waker(fd: &OwnedFd) {
    let mut buf = [0u8; 64];
    while let Ok(n) = nix::unistd::read(fd, &mut buf) {
        if n == 0 {
            break;
        }
    }
}
