//! At most one line per interval for a kind of repeated error, with the
//! count of the ones held back.
//!
//! An error that repeats thousands of times a second (an accept failing for
//! every connection of a flood) must neither flood stderr, and slow the
//! server down with it, nor hide how often it happened. So the first line
//! goes out, the next ones within the interval are only counted, and the
//! next line after the interval says how many were held back:
//!
//! ```text
//! error: accept: Software caused connection abort (os error 103)
//! error: accept: Software caused connection abort (os error 103) (and 41 more in the last 1.0 s)
//! ```
//!
//! The caller passes the time, so a test drives the clock, and a server
//! passes its event loop's time of the turn, read once per wakeup anyway.

use std::fmt;
use std::time::{Duration, Instant};

/// The limiter for one kind of line: a time and a count, no allocation.
#[derive(Debug, Clone)]
pub struct RateLimit {
    interval: Duration,
    /// When the last line went out.
    last: Option<Instant>,
    /// Lines held back since then.
    held: u64,
}

impl RateLimit {
    /// At most one line per `interval`. `const`, so a limiter shared by
    /// threads can live in a `static Mutex`.
    pub const fn new(interval: Duration) -> RateLimit {
        RateLimit {
            interval,
            last: None,
            held: 0,
        }
    }

    /// Whether a line may go out at `now`. `Some` with what was held back
    /// since the last line (print it with the line); `None`: too soon, the
    /// line is counted instead.
    pub fn allow(&mut self, now: Instant) -> Option<Held> {
        // saturating: threads' clocks read a moment apart may be out of
        // order; a line from "before" the last one is too soon.
        let since = self.last.map(|last| now.saturating_duration_since(last));
        if since.is_some_and(|since| since < self.interval) {
            self.held += 1;
            return None;
        }
        self.last = Some(now);
        Some(Held {
            count: std::mem::take(&mut self.held),
            over: since.unwrap_or_default(),
        })
    }
}

/// The lines a [`RateLimit`] held back before the one it lets through:
/// `count` of them, all within the last `over`. Displays as
/// ` (and 41 more in the last 1.0 s)`, or as nothing when none were held,
/// so it can follow any line: `say::error(format_args!("accept: {e}{held}"))`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// How many lines were held back.
    pub count: u64,
    /// The time since the last line that went out.
    pub over: Duration,
}

impl fmt::Display for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.count == 0 {
            return Ok(());
        }
        write!(
            f,
            " (and {} more in the last {:.1} s)",
            self.count,
            self.over.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_first_line_goes_out_and_holds_nothing_back() {
        let mut limit = RateLimit::new(SECOND);
        let held = limit.allow(Instant::now()).expect("the first line");
        assert_eq!(held.count, 0);
        assert_eq!(held.to_string(), "");
    }

    #[test]
    fn at_most_one_line_per_interval_and_the_next_says_how_many_were_held() {
        let mut limit = RateLimit::new(SECOND);
        let t0 = Instant::now();
        assert!(limit.allow(t0).is_some());
        let allowed = (1..=41)
            .filter(|i| limit.allow(t0 + ms(20 * i)).is_some())
            .count();
        assert_eq!(allowed, 0, "lines within the second after the first");
        assert!(limit.allow(t0 + ms(999)).is_none());

        let held = limit.allow(t0 + SECOND).expect("a line a second later");
        assert_eq!(
            held,
            Held {
                count: 42,
                over: SECOND
            }
        );
        assert_eq!(held.to_string(), " (and 42 more in the last 1.0 s)");

        // The count starts again with the line that went out.
        assert!(limit.allow(t0 + ms(1500)).is_none());
        let held = limit.allow(t0 + ms(2300)).expect("the third second");
        assert_eq!(held.to_string(), " (and 1 more in the last 1.3 s)");
    }

    #[test]
    fn a_quiet_spell_lets_the_next_line_out_with_nothing_held() {
        let mut limit = RateLimit::new(SECOND);
        let t0 = Instant::now();
        assert!(limit.allow(t0).is_some());
        let held = limit.allow(t0 + Duration::from_secs(3600)).expect("later");
        assert_eq!(held.count, 0);
        assert_eq!(held.to_string(), "");
    }

    #[test]
    fn a_time_before_the_last_line_is_too_soon() {
        let mut limit = RateLimit::new(SECOND);
        let t0 = Instant::now();
        assert!(limit.allow(t0 + ms(10)).is_some());
        assert!(limit.allow(t0).is_none());
        let held = limit.allow(t0 + ms(1010)).expect("a second after the line");
        assert_eq!(held.count, 1);
    }
}
