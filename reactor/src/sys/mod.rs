//! Platform code: one backend per kernel notification API, same shape.
//!
//! Each backend provides `RawEvent` (the kernel's event record, stored as is
//! in [`crate::Events`]), `empty_event`, `event_of` (decode one record),
//! `Selector` (`new`, `update` from an old interest to a new one, `select`),
//! and the waker's descriptors (`waker_fds`, `drain_waker`). The kqueue
//! backend's decisions live apart, in `kqueue_logic`.

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use epoll::*;

// Compiled everywhere, so its tests run on Linux too; only the kqueue
// backend uses it.
#[cfg_attr(
    not(any(
        target_os = "freebsd",
        target_os = "dragonfly",
        target_os = "openbsd",
        target_os = "netbsd",
        target_vendor = "apple"
    )),
    allow(dead_code)
)]
mod kqueue_logic;

#[cfg(any(
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd",
    target_vendor = "apple"
))]
mod kqueue;
#[cfg(any(
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd",
    target_vendor = "apple"
))]
pub(crate) use kqueue::*;

#[cfg(not(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly",
    target_os = "openbsd",
    target_os = "netbsd",
    target_vendor = "apple"
)))]
compile_error!("reactor supports epoll (Linux, Android) and kqueue (BSD, macOS) only");
