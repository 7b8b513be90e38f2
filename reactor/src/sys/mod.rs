//! Platform code: one backend per kernel notification API, same shape.
//!
//! `build.rs` names the target's API, as `cfg(epoll)` or `cfg(kqueue)`, and
//! that picks which file is the `backend` module. Everything a backend
//! provides is the list re-exported below, so the compiler checks that each
//! backend provides all of it:
//!
//! - `RawEvent`, the kernel's event record, stored as is in
//!   [`crate::Events`]; `empty_event` to fill the buffer, and `event_of` to
//!   decode one record into an [`crate::Event`];
//! - `Selector`: `new`, `update` (move a descriptor from an old interest to
//!   a new one), and `select`;
//! - the waker's descriptors: `waker_fds`, and `drain_waker` once it fired.
//!
//! The kqueue backend's decisions live apart, in `kqueue_logic`.

#[cfg_attr(epoll, path = "epoll.rs")]
#[cfg_attr(kqueue, path = "kqueue.rs")]
mod backend;

pub(crate) use backend::{drain_waker, empty_event, event_of, waker_fds, RawEvent, Selector};

// Compiled everywhere, so its tests run on Linux too; only the kqueue
// backend uses it.
#[cfg_attr(not(kqueue), allow(dead_code))]
mod kqueue_logic;
