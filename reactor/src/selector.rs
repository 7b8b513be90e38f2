//! The selector: Python's `selectors.DefaultSelector`, level-triggered.
//!
//! `register` says "tell me when this descriptor is ready for this", `select`
//! waits until something is, and hands back one [`Event`] per ready
//! registration, each carrying the [`Token`] given at registration. The token
//! plays the part of the tutorial's `key.data`: it travels through the kernel
//! and comes back with the event, so finding the registration costs no lookup.
//!
//! Level-triggered means an event repeats at every `select` for as long as the
//! condition holds: unread bytes keep a socket readable, free buffer space
//! keeps it writable. That is why a handler drops WRITE from its interest once
//! it has nothing left to send.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::time::{Duration, Instant};

pub use crate::event::{Event, Token};
use crate::sys;
use crate::Interest;

/// A reusable buffer that `select` fills: allocated once, with a capacity
/// that bounds how many events one `select` can return.
pub struct Events {
    buf: Vec<sys::RawEvent>,
    len: usize,
}

impl Events {
    /// A buffer for at most `capacity` events per `select` (at least one).
    pub fn with_capacity(capacity: usize) -> Events {
        Events {
            buf: vec![sys::empty_event(); capacity.max(1)],
            len: 0,
        }
    }
    /// How many events one `select` can return.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
    /// How many events the last `select` returned.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether the last `select` returned nothing (a timeout, or spurious).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The `i`-th event of the last `select`.
    #[inline]
    pub fn get(&self, i: usize) -> Option<Event> {
        self.buf[..self.len].get(i).map(sys::event_of)
    }
    /// The events of the last `select`, in kernel order.
    pub fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.buf[..self.len].iter().map(sys::event_of)
    }
    /// Forget the events of the last `select`.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Marks a descriptor as registered in [`Selector::registered`].
const PRESENT: u8 = 0x80;

/// A level-triggered selector over epoll (Linux) or kqueue (BSD, macOS).
pub struct Selector {
    sys: sys::Selector,
    /// Per descriptor number: 0 when not registered, else `PRESENT` plus the
    /// interest bits. Both backends report the same errors from it (kqueue's
    /// `EV_ADD` would silently accept a second registration), and kqueue
    /// needs the old interest to know which filter to delete.
    registered: Vec<u8>,
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selector").finish_non_exhaustive()
    }
}

impl Selector {
    /// A new selector; its descriptor is close-on-exec.
    pub fn new() -> io::Result<Selector> {
        Ok(Selector {
            sys: sys::Selector::new()?,
            registered: Vec::new(),
        })
    }

    /// Start watching `fd` for `interest`; its events will carry `token`.
    ///
    /// Fails with `AlreadyExists` if `fd` is already registered.
    pub fn register(&mut self, fd: impl AsFd, token: Token, interest: Interest) -> io::Result<()> {
        self.register_raw(fd.as_fd().as_raw_fd(), token, interest)
    }

    /// Change what `fd` is watched for, and its token.
    ///
    /// To or from [`Interest::NONE`] this takes the descriptor out of the
    /// kernel's set or puts it back (epoll: `EPOLL_CTL_DEL` / `EPOLL_CTL_ADD`;
    /// kqueue: `EV_DELETE` / `EV_ADD` of the filters), not `EPOLL_CTL_MOD`.
    ///
    /// Fails with `NotFound` if `fd` is not registered.
    pub fn modify(&mut self, fd: impl AsFd, token: Token, interest: Interest) -> io::Result<()> {
        self.modify_raw(fd.as_fd().as_raw_fd(), token, interest)
    }

    /// Stop watching `fd`. Do this before closing it: epoll watches the open
    /// file, not the number, so a duplicate of a closed fd keeps firing.
    ///
    /// Fails with `NotFound` if `fd` is not registered.
    pub fn unregister(&mut self, fd: impl AsFd) -> io::Result<()> {
        self.unregister_raw(fd.as_fd().as_raw_fd())
    }

    /// Wait until at least one registration is ready or `timeout` passes
    /// (`None`: wait indefinitely; zero: just poll), and fill `events`.
    ///
    /// Zero events is a normal result (a timeout). A signal arriving during
    /// the wait is not an error: the wait resumes with the time remaining.
    pub fn select(&mut self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.len = 0;
        // Read the clock only when an interruption could need the remainder.
        let start = match timeout {
            Some(t) if !t.is_zero() => Some(Instant::now()),
            _ => None,
        };
        let mut remaining = timeout;
        loop {
            match self.sys.select(&mut events.buf, remaining) {
                Ok(n) => {
                    events.len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if let (Some(total), Some(start)) = (timeout, start) {
                        remaining = Some(total.saturating_sub(start.elapsed()));
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn state(&self, fd: RawFd) -> Option<Interest> {
        let state = *self.registered.get(usize::try_from(fd).ok()?)?;
        (state & PRESENT != 0).then(|| Interest::from_bits(state & !PRESENT))
    }

    fn set_state(&mut self, fd: RawFd, state: u8) {
        if let Ok(i) = usize::try_from(fd) {
            if i >= self.registered.len() {
                self.registered.resize(i + 1, 0);
            }
            self.registered[i] = state;
        }
    }

    pub(crate) fn register_raw(
        &mut self,
        fd: RawFd,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        if fd < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("fd {fd} is not a descriptor"),
            ));
        }
        if self.state(fd).is_some() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("fd {fd} is already registered"),
            ));
        }
        self.sys.update(fd, token.0, Interest::NONE, interest)?;
        self.set_state(fd, PRESENT | interest.bits());
        Ok(())
    }

    pub(crate) fn modify_raw(
        &mut self,
        fd: RawFd,
        token: Token,
        interest: Interest,
    ) -> io::Result<()> {
        let old = self.state(fd).ok_or_else(|| not_registered(fd))?;
        self.sys.update(fd, token.0, old, interest)?;
        self.set_state(fd, PRESENT | interest.bits());
        Ok(())
    }

    pub(crate) fn unregister_raw(&mut self, fd: RawFd) -> io::Result<()> {
        let old = self.state(fd).ok_or_else(|| not_registered(fd))?;
        // Forget it even if the kernel call fails: the caller is about to
        // close the descriptor, and a stale "registered" would block reuse of
        // the number.
        self.set_state(fd, 0);
        self.sys.update(fd, 0, old, Interest::NONE)
    }
}

fn not_registered(fd: RawFd) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("fd {fd} is not registered"),
    )
}
