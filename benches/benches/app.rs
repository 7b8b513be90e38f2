//! The search service over loopback: our `app-server` beside a tokio server
//! built on the same sans-IO codec (`peer-server tokio-app`), driven by the
//! same client (`benches::peers::client`), every answer checked byte for
//! byte.
//!
//! Two groups: 1 connection in ping-pong, and 50 connections with 16
//! `search morpheus` requests in flight on each. Each timed iteration sends
//! K requests and waits for every answer; throughput is in requests per
//! second. Servers are separate processes started once, outside the timing
//! (ours from `target/release`: `cargo build --release -p sockets` first).
//!
//! Run: `cargo build --release -p sockets && cargo bench -p benches --bench app`

use std::path::Path;
use std::time::Duration;

mod common;

use benches::peers::spawn::{split_cpus, workspace_program, Server};
use benches::workload::Workload;
use criterion::{criterion_group, criterion_main, Criterion};

/// (connections, requests in flight per connection, requests per iteration)
const LOADS: [(usize, usize, u64); 2] = [(1, 1, 1_000), (50, 16, 20_000)];

fn app(c: &mut Criterion) {
    let peer = Path::new(env!("CARGO_BIN_EXE_peer-server"));
    let ours = workspace_program("app-server").expect("our app-server");
    // Unpinned unless BENCH_PIN_CPUS=1 (see `split_cpus`).
    let cpu = split_cpus();
    let mut servers = [
        (
            "ours",
            Server::spawn_on(&ours, &["-q", "127.0.0.1", "0"], cpu).expect("app-server"),
        ),
        (
            "tokio",
            Server::spawn_on(peer, &["tokio-app", "127.0.0.1", "0"], cpu).expect("tokio-app"),
        ),
    ];
    let workload = Workload::app("search", "morpheus").expect("our own request");
    for (conns, depth, k) in LOADS {
        let name = format!("app_{conns}conn_d{depth}_morpheus");
        common::compare(c, name, (conns, depth, k), &workload, &mut servers);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = app
}
criterion_main!(benches);
