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

use super::kqueue_logic::{self as logic, Action, Changes, Filter, Results, Settled};
use crate::event::{Event, Token};
use crate::Interest;

// The token is a u64 (a slot index and a 32-bit generation); kqueue's user
// data is an intptr_t. Only where the two have the same width do the bits
// round-trip; on a 32-bit system the generation would be cut off silently.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("the kqueue backend needs a 64-bit target: a token must fit in kevent's udata");

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

fn udata_of(token: u64) -> intptr_t {
    token as i64 as intptr_t
}

fn filter_of(raw: &RawEvent) -> Option<Filter> {
    match raw.filter() {
        Ok(EventFilter::EVFILT_READ) => Some(Filter::Read),
        Ok(EventFilter::EVFILT_WRITE) => Some(Filter::Write),
        _ => None,
    }
}

#[inline]
pub(crate) fn event_of(raw: &RawEvent) -> Event {
    let ev = raw.flags();
    Event {
        token: Token(raw.udata() as i64 as u64),
        flags: logic::readiness(
            filter_of(raw),
            ev.contains(EvFlags::EV_EOF),
            ev.contains(EvFlags::EV_ERROR),
            raw.fflags().bits(),
        ),
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
    ///
    /// The kernel applies each change on its own, so one can fail while the
    /// other took effect. The caller records `new` only on success, so on
    /// failure the changes that took effect are undone: the kernel is left
    /// at `old`, which is what the caller still believes. (A filter restored
    /// by the undo carries `token`: the old token is not known here. The
    /// event loop never changes a registration's token.)
    pub(crate) fn update(
        &self,
        fd: RawFd,
        token: u64,
        old: Interest,
        new: Interest,
    ) -> io::Result<()> {
        let changes = logic::changes(old, new);
        let results = self.apply(fd, token, &changes)?;
        let (errno, undo) = match logic::settle(old, changes, results) {
            Settled::Done => return Ok(()),
            Settled::Failed { errno, undo } => (errno, undo),
        };
        let error = io::Error::from_raw_os_error(errno);
        // A failed undo call applied nothing we could confirm: every change
        // it carried counts as not undone.
        let undone = self.apply(fd, token, &undo).unwrap_or([None; 2]);
        match logic::after_undo(old, new, undo, undone) {
            None => Err(error),
            // Only when the kernel refuses to restore a filter it had a
            // moment ago (out of memory): say where the registration stands.
            Some(in_force) => Err(io::Error::new(
                error.kind(),
                format!(
                    "{error}; undoing the other change failed too: fd {fd} is watched for \
                     {in_force}, not {old}"
                ),
            )),
        }
    }

    /// Submit `changes` for `fd` in one `kevent` call and read each change's
    /// receipt. A change's own error comes back in its receipt (there is
    /// room for one per change), so an error from the call means none applied.
    fn apply(&self, fd: RawFd, token: u64, changes: &Changes) -> io::Result<Results> {
        let mut list = [empty_event(); 2];
        let mut n = 0;
        for change in changes.iter().flatten() {
            let filter = match change.filter {
                Filter::Read => EventFilter::EVFILT_READ,
                Filter::Write => EventFilter::EVFILT_WRITE,
            };
            let action = match change.action {
                Action::Add => EvFlags::EV_ADD,
                Action::Delete => EvFlags::EV_DELETE,
            };
            // EV_RECEIPT: report each change's own result, and never
            // return (and so never swallow) pending events here.
            list[n] = KEvent::new(
                fd as uintptr_t,
                filter,
                action | EvFlags::EV_RECEIPT,
                FilterFlag::empty(),
                0,
                udata_of(token),
            );
            n += 1;
        }
        let mut results = [None; 2];
        if n == 0 {
            return Ok(results);
        }
        let mut receipts = [empty_event(); 2];
        let got = self.kq.kevent(
            &list[..n],
            &mut receipts[..n],
            Some(*TimeSpec::from_duration(Duration::ZERO).as_ref()),
        )?;
        for receipt in &receipts[..got] {
            // Matched by filter, so the receipts' order does not matter.
            let Some(filter) = filter_of(receipt) else {
                continue;
            };
            let Some(change) = changes[filter.index()] else {
                continue;
            };
            results[filter.index()] = Some(logic::receipt_result(
                change.action,
                receipt.flags().contains(EvFlags::EV_ERROR),
                receipt.data() as i64,
            ));
        }
        Ok(results)
    }

    pub(crate) fn select(
        &self,
        buf: &mut [RawEvent],
        timeout: Option<Duration>,
    ) -> io::Result<usize> {
        let timeout = logic::wait_limit(timeout).map(|t| *TimeSpec::from_duration(t).as_ref());
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
