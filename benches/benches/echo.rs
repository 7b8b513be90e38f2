//! Echo over loopback: our `echo-server` beside a bare epoll loop, mio and
//! tokio, all driven by the same client (`benches::peers::client`).
//!
//! One group per (connections, message size), the servers side by side:
//! 1 connection in ping-pong (depth 1), and 50 connections with 16 messages
//! in flight on each; 64 B and 4 KiB messages. Each timed iteration sends
//! K messages and waits for every byte back (all checked); throughput is in
//! messages per second. The servers are separate processes, started once,
//! outside the timing: ours from `target/release` (build it first:
//! `cargo build --release -p sockets`), the peers from this crate's
//! `peer-server`.
//!
//! Client and server are not pinned (set `BENCH_PIN_CPUS=1` to put the
//! client on CPU 0 and the servers on CPU 1). The figures mix both sides'
//! costs, and on a shared machine they drift between groups by tens of
//! percent; `scripts/bench.sh` compares the servers by their own CPU time,
//! interleaved.
//!
//! Run: `cargo build --release -p sockets && cargo bench -p benches --bench echo`

use std::path::Path;
use std::time::Duration;

mod common;

use benches::peers::spawn::{split_cpus, workspace_program, Server};
use benches::workload::Workload;
use criterion::{criterion_group, criterion_main, Criterion};

/// (connections, messages in flight per connection, messages per iteration)
const LOADS: [(usize, usize, u64); 2] = [(1, 1, 1_000), (50, 16, 20_000)];
/// Message sizes, with their labels.
const SIZES: [(usize, &str); 2] = [(64, "64B"), (4096, "4KiB")];

/// Our server and the peers, by the name the report shows.
fn start_servers() -> Vec<(&'static str, Server)> {
    let cpu = split_cpus();
    let peer = Path::new(env!("CARGO_BIN_EXE_peer-server"));
    let ours = workspace_program("echo-server").expect("our echo-server");
    let mut servers = vec![(
        "ours",
        Server::spawn_on(&ours, &["-q", "127.0.0.1", "0"], cpu).expect("echo-server"),
    )];
    let mut peers = vec![("mio", "mio-echo"), ("tokio", "tokio-echo")];
    if cfg!(target_os = "linux") {
        peers.insert(0, ("bare_epoll", "bare-echo"));
    }
    for (name, kind) in peers {
        let server = Server::spawn_on(peer, &[kind, "127.0.0.1", "0"], cpu).expect(kind);
        servers.push((name, server));
    }
    servers
}

fn echo(c: &mut Criterion) {
    let mut servers = start_servers();
    for (conns, depth, k) in LOADS {
        for (size, label) in SIZES {
            let name = format!("echo_{conns}conn_d{depth}_{label}");
            let workload = Workload::echo(size);
            common::compare(c, name, (conns, depth, k), &workload, &mut servers);
        }
    }
}

criterion_group! {
    name = benches;
    // 16 benchmarks in about a minute on a busy 2-core machine.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = echo
}
criterion_main!(benches);
