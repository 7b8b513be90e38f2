//! Shared helpers for the benchmarks: peer servers built on mio, tokio and raw epoll.
