//! What the echo and app benches share: one criterion group that drives
//! every server with the same client, side by side.

use std::time::Instant;

use benches::peers::client::Client;
use benches::peers::spawn::Server;
use benches::workload::Workload;
use criterion::{Criterion, SamplingMode, Throughput};

/// One group named `name`: each of `servers` gets `conns` connections with
/// `depth` messages in flight; a timed iteration is `k` messages, every byte
/// of every answer checked; throughput in messages per second.
pub fn compare(
    c: &mut Criterion,
    name: String,
    (conns, depth, k): (usize, usize, u64),
    workload: &Workload,
    servers: &mut [(&'static str, Server)],
) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(k));
    // Every iteration is already K messages: no need to ramp.
    group.sampling_mode(SamplingMode::Flat);
    for (name, server) in servers.iter_mut() {
        let mut client = Client::connect(server.addr(), conns, depth, workload)
            .unwrap_or_else(|e| panic!("{name}: {e}; server {}", server.status()));
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    client.run(k).expect(name);
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}
