//! An interleaved comparison of the three ping-pong drivers, to read the
//! ratios on a machine shared with other work: criterion measures one
//! contender after another, so a change of background load between them
//! shows up as a difference between them. Here they take turns in short
//! slices and the median slice of each is compared.
//!
//! `cargo test -p benches --release --lib -- --ignored --nocapture interleaved`

use std::io;
use std::time::Instant;

use crate::mio_pingpong::MioPingPong;
use crate::pingpong::ReactorPingPong;

/// Median round trips per second of each driver over `slices` turns of
/// `rounds` round trips: `[reactor, mio, bare epoll level-triggered, bare
/// epoll edge-triggered]` (the bare ones are 0 off Linux).
pub fn interleaved(slices: usize, rounds: u64) -> io::Result<[f64; 4]> {
    let mut reactor = ReactorPingPong::new()?;
    let mut mio = MioPingPong::new()?;
    #[cfg(target_os = "linux")]
    let mut bare = crate::bare_epoll::BareEpoll::new()?;
    #[cfg(target_os = "linux")]
    let mut bare_et = crate::bare_epoll::BareEpoll::edge_triggered()?;
    let mut rates: [Vec<f64>; 4] = Default::default();
    for slice in 0..slices {
        for k in 0..4 {
            // Rotate who goes first, so no driver always follows another.
            let which = (slice + k) % 4;
            let start = Instant::now();
            match which {
                0 => reactor.run(rounds)?,
                1 => mio.run(rounds)?,
                #[cfg(target_os = "linux")]
                2 => bare.run(rounds)?,
                #[cfg(target_os = "linux")]
                _ => bare_et.run(rounds)?,
                #[cfg(not(target_os = "linux"))]
                _ => continue,
            }
            rates[which].push(rounds as f64 / start.elapsed().as_secs_f64());
        }
    }
    Ok(rates.map(|mut r| {
        r.sort_by(f64::total_cmp);
        r.get(r.len() / 2).copied().unwrap_or(0.0)
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    #[ignore = "a measurement, not a test: run it in release mode"]
    fn interleaved_pingpong_ratios() {
        let [reactor, mio, bare, bare_et] = super::interleaved(60, 2_000).unwrap();
        println!("round trips/s (median of 60 interleaved slices of 2000):");
        println!("  reactor {reactor:.0}  mio {mio:.0}  bare_epoll {bare:.0}  bare_epoll_et {bare_et:.0}");
        println!(
            "  reactor/mio {:.3}  reactor/bare {:.3}  reactor/bare_et {:.3}  mio/bare_et {:.3}",
            reactor / mio,
            reactor / bare,
            reactor / bare_et,
            mio / bare_et
        );
    }
}
