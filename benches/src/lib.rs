//! Shared helpers for the benchmarks: peer servers built on mio, tokio and raw epoll.

#[cfg(target_os = "linux")]
pub mod bare_epoll;
pub mod mio_pingpong;
pub mod peers;
pub mod pingpong;
pub mod pingpong_compare;
