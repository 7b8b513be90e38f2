//! The reactor beside mio and a bare epoll loop.
//!
//! `pingpong`: K round trips of 64-byte messages over one loopback TCP pair,
//! both ends in one thread; throughput in round trips per second. Our
//! reactor and `bare_epoll` are level-triggered; mio and `bare_epoll_et`
//! edge-triggered. For ratios on a busy machine, prefer the interleaved
//! comparison in `benches/src/pingpong_compare.rs`.
//! `idle_select`: one zero-timeout select over 10,000 idle registrations.
//!
//! Run: `cargo bench -p benches --bench reactor -- --warm-up-time 1 --measurement-time 5`

use std::time::{Duration, Instant};

use benches::mio_pingpong::{mio_idle, mio_idle_poll, MioPingPong};
use benches::pingpong::{idle_reactor, ReactorPingPong};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Round trips per timed iteration.
const K: u64 = 1_000;
/// Registrations for the idle select.
const IDLE: usize = 10_000;

fn pingpong(c: &mut Criterion) {
    let mut group = c.benchmark_group("pingpong_64B");
    group.throughput(Throughput::Elements(K));

    let mut reactor = ReactorPingPong::new().expect("reactor pair");
    group.bench_function("reactor", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                reactor.run(K).expect("reactor ping-pong");
            }
            start.elapsed()
        })
    });

    let mut mio = MioPingPong::new().expect("mio pair");
    group.bench_function("mio", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                mio.run(K).expect("mio ping-pong");
            }
            start.elapsed()
        })
    });

    #[cfg(target_os = "linux")]
    {
        let mut bare = benches::bare_epoll::BareEpoll::new().expect("bare pair");
        group.bench_function("bare_epoll", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    bare.run(K).expect("bare ping-pong");
                }
                start.elapsed()
            })
        });
        // Edge-triggered like mio: shows what level-triggering costs in the
        // kernel (each reported socket is polled again at the next wait).
        let mut bare_et = benches::bare_epoll::BareEpoll::edge_triggered().expect("bare pair");
        group.bench_function("bare_epoll_et", |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    bare_et.run(K).expect("bare ET ping-pong");
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn idle_select(c: &mut Criterion) {
    let mut group = c.benchmark_group("idle_select_10k");
    {
        let mut event_loop = idle_reactor(IDLE).expect("10k registrations");
        group.bench_function("reactor", |b| {
            b.iter(|| {
                let turn = event_loop.turn(Some(Duration::ZERO)).expect("turn");
                assert_eq!(turn.events, 0);
            })
        });
    }
    {
        let (mut poll, _streams) = mio_idle(IDLE).expect("10k registrations");
        let mut events = mio::Events::with_capacity(1024);
        group.bench_function("mio", |b| {
            b.iter(|| {
                let n = mio_idle_poll(&mut poll, &mut events).expect("poll");
                assert_eq!(n, 0);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, pingpong, idle_select);
criterion_main!(benches);
