//! Shared helpers for the benchmarks: `loadgen`, the benchmark client, and
//! peer servers built on mio, tokio and raw epoll.

#[cfg(target_os = "linux")]
pub mod bare_epoll;
pub mod loadgen;
pub mod mio_pingpong;
pub mod peers;
pub mod pingpong;
pub mod pingpong_compare;
pub mod workload;
