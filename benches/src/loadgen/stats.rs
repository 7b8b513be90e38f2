//! Counting: messages, bytes, errors, the latency histogram, CPU time.

use std::fmt;
use std::io;
use std::time::Duration;

use hdrhistogram::Histogram;

use super::{LoadgenArgs, Mode};

/// Counters of a run.
#[derive(Debug)]
pub struct Stats {
    /// Whether the warm-up is over.
    measuring: bool,
    /// Answers in the measured window.
    pub messages: u64,
    /// Answer bytes in the measured window.
    pub bytes: u64,
    /// Errors over the whole run.
    pub errors: u64,
    /// Answers over the whole run, drain included.
    pub total_messages: u64,
    /// Requests sent over the whole run (counted from their first byte).
    pub sent: u64,
    /// Requests in flight on connections that failed: never answered.
    pub lost: u64,
    /// Latency in microseconds, measured window only.
    latency: Histogram<u64>,
}

impl Stats {
    /// Empty counters.
    pub fn new() -> Stats {
        Stats {
            measuring: false,
            messages: 0,
            bytes: 0,
            errors: 0,
            total_messages: 0,
            sent: 0,
            lost: 0,
            // 1 µs to 100 s at 3 significant digits: a fixed-size array, so
            // recording never allocates.
            latency: Histogram::new_with_bounds(1, 100_000_000, 3)
                .expect("constant histogram bounds are valid"),
        }
    }

    /// Requests sent and neither answered nor lost yet.
    pub fn outstanding(&self) -> u64 {
        self.sent - self.total_messages - self.lost
    }

    /// The warm-up is over: count from now on.
    pub fn start_measuring(&mut self) {
        self.measuring = true;
        self.messages = 0;
        self.bytes = 0;
        self.latency.reset();
    }

    /// The measured window is over: what the drain receives is not timed.
    pub fn stop_measuring(&mut self) {
        self.measuring = false;
    }

    /// One answer arrived `latency` after its request left.
    pub fn record(&mut self, latency: Duration, bytes: u64) {
        self.total_messages += 1;
        if self.measuring {
            self.messages += 1;
            self.bytes += bytes;
            let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
            self.latency.saturating_record(micros.max(1));
        }
    }
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct Report {
    /// `echo` or `app`.
    pub mode: &'static str,
    /// Connections.
    pub conns: usize,
    /// Message (echo) or answer (app) size in bytes.
    pub size: usize,
    /// Requests in flight per connection.
    pub depth: usize,
    /// New connection per request.
    pub churn: bool,
    /// Measured window, seconds.
    pub seconds: f64,
    /// Answers in the window.
    pub messages: u64,
    /// Answers per second.
    pub msgs_per_sec: f64,
    /// Answer MiB per second.
    pub mib_per_sec: f64,
    /// Latency percentiles in microseconds: p50, p90, p99, p99.9, max.
    pub latency_us: [u64; 5],
    /// Errors over the whole run.
    pub errors: u64,
    /// Requests sent over the whole run.
    pub sent: u64,
    /// Answers received over the whole run, the final drain included: equal
    /// to `sent` when every request was answered.
    pub answered: u64,
    /// loadgen's own CPU seconds in the window (its headroom).
    pub loadgen_cpu: f64,
    /// The server's CPU seconds in the window, with --server-pid.
    pub server_cpu: Option<f64>,
}

impl Report {
    /// The report of `stats` over a window of `window`.
    pub fn new(
        args: &LoadgenArgs,
        stats: &Stats,
        window: Duration,
        loadgen_cpu: f64,
        server_cpu: Option<f64>,
    ) -> Report {
        let seconds = window.as_secs_f64().max(1e-9);
        let h = &stats.latency;
        Report {
            mode: match args.mode {
                Mode::Echo => "echo",
                Mode::App => "app",
            },
            conns: args.conns.get(),
            size: match args.mode {
                Mode::Echo => args.size.get(),
                Mode::App => stats.bytes.checked_div(stats.messages).unwrap_or(0) as usize,
            },
            depth: args.depth.get(),
            churn: args.churn,
            seconds,
            messages: stats.messages,
            msgs_per_sec: stats.messages as f64 / seconds,
            mib_per_sec: stats.bytes as f64 / seconds / (1024.0 * 1024.0),
            latency_us: [
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.9),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
            ],
            errors: stats.errors,
            sent: stats.sent,
            answered: stats.total_messages,
            loadgen_cpu,
            server_cpu,
        }
    }

    /// Answers per second of server CPU time, with --server-pid.
    pub fn msgs_per_server_cpu_sec(&self) -> Option<f64> {
        self.server_cpu
            .filter(|cpu| *cpu > 0.0)
            .map(|cpu| self.messages as f64 / cpu)
    }

    /// One JSON object (for scripts).
    pub fn to_json(&self) -> String {
        let opt = |v: Option<f64>| v.map_or("null".to_string(), |v| format!("{v:.4}"));
        let [p50, p90, p99, p999, max] = self.latency_us;
        format!(
            concat!(
                "{{\"mode\": \"{}\", \"conns\": {}, \"size\": {}, \"depth\": {}, \"churn\": {}, ",
                "\"seconds\": {:.3}, \"messages\": {}, \"msgs_per_sec\": {:.1}, \"mib_per_sec\": {:.3}, ",
                "\"latency_us\": {{\"p50\": {}, \"p90\": {}, \"p99\": {}, \"p999\": {}, \"max\": {}}}, ",
                "\"errors\": {}, \"sent\": {}, \"answered\": {}, \"loadgen_cpu_sec\": {:.4}, \"server_cpu_sec\": {}, ",
                "\"msgs_per_server_cpu_sec\": {}}}"
            ),
            self.mode,
            self.conns,
            self.size,
            self.depth,
            self.churn,
            self.seconds,
            self.messages,
            self.msgs_per_sec,
            self.mib_per_sec,
            p50,
            p90,
            p99,
            p999,
            max,
            self.errors,
            self.sent,
            self.answered,
            self.loadgen_cpu,
            opt(self.server_cpu),
            opt(self.msgs_per_server_cpu_sec()),
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [p50, p90, p99, p999, max] = self.latency_us;
        writeln!(
            f,
            "{} x{} conns, {} B, depth {}{}: {} messages in {:.2} s",
            self.mode,
            self.conns,
            self.size,
            self.depth,
            if self.churn { ", churn" } else { "" },
            self.messages,
            self.seconds
        )?;
        writeln!(f, "messages/s: {:.0}", self.msgs_per_sec)?;
        writeln!(f, "MiB/s: {:.2}", self.mib_per_sec)?;
        writeln!(
            f,
            "latency us: p50 {p50}, p90 {p90}, p99 {p99}, p99.9 {p999}, max {max}"
        )?;
        writeln!(
            f,
            "loadgen CPU: {:.2} s ({:.0}% of the window)",
            self.loadgen_cpu,
            100.0 * self.loadgen_cpu / self.seconds
        )?;
        if let (Some(cpu), Some(rate)) = (self.server_cpu, self.msgs_per_server_cpu_sec()) {
            writeln!(
                f,
                "server CPU: {cpu:.2} s, {rate:.0} messages per server CPU second"
            )?;
        }
        writeln!(
            f,
            "answered: {} of {} requests sent",
            self.answered, self.sent
        )?;
        write!(f, "errors: {}", self.errors)
    }
}

/// CPU seconds (user + system) used so far by process `pid`, from
/// `/proc/PID/stat` (Linux).
pub fn cpu_seconds_of_pid(pid: u32) -> io::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces: count fields after its ')'.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| io::Error::other("unexpected /proc/PID/stat format"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15; `after` starts at field 3.
    let ticks = |i: usize| -> io::Result<f64> {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .ok_or_else(|| io::Error::other("unexpected /proc/PID/stat format"))
    };
    // SAFETY: sysconf only reads a system constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    let hz = if hz > 0 { hz as f64 } else { 100.0 };
    Ok((ticks(14)? + ticks(15)?) / hz)
}

/// CPU seconds (user + system) used so far by this process.
pub fn own_cpu_seconds() -> f64 {
    use nix::sys::resource::{getrusage, UsageWho};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(usage) => {
            let t = |tv: nix::sys::time::TimeVal| tv.tv_sec() as f64 + tv.tv_usec() as f64 / 1e6;
            t(usage.user_time()) + t(usage.system_time())
        }
        Err(_) => 0.0,
    }
}
