//! `loadgen`: the benchmark client, on our own reactor.
//!
//! Every connection sends the same request again and again, keeping up to
//! `--depth` of them in flight (1 is ping-pong), and compares every byte that
//! comes back with the answer it must get: the request itself for `echo`,
//! the search answer for `app`. With `--churn` each request gets a new
//! connection, the way a server that closes after one answer (the Python
//! tutorial's) must be measured.
//!
//! After `--warmup` seconds the counters restart, and after `--duration`
//! more the run ends with messages/s, MiB/s, latency percentiles and the
//! error count. With `--server-pid` the server's own CPU time over the
//! measured window is read from `/proc`, so servers can be compared by
//! messages per second of server CPU even when the client is the limit.

mod connection;
mod stats;

use std::cell::{Cell, RefCell};
use std::io;
use std::num::NonZeroUsize;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use reactor::EventLoop;
use sockets::cli::{parse_seconds, resolve};
use sockets::say;

use crate::workload::Workload;
use connection::{Connection, Load};
pub use stats::{cpu_seconds_of_pid, own_cpu_seconds, Report, Stats};

/// What the load is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Raw bytes to an echo server; every byte must come back.
    Echo,
    /// Framed search requests to an app server; every answer must be right.
    App,
}

/// `loadgen echo|app --addr HOST:PORT [options]`.
#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    version,
    about = "Drive an echo or app server and measure it"
)]
pub struct LoadgenArgs {
    /// `echo` or `app`.
    #[arg(value_enum)]
    pub mode: Mode,
    /// The server, as HOST:PORT (`127.0.0.1:65432`, `[::1]:65432`).
    #[arg(long)]
    pub addr: String,
    /// Connections kept open at once (or, with --churn, requests in flight).
    #[arg(long, default_value = "50")]
    pub conns: NonZeroUsize,
    /// Echo message size in bytes.
    #[arg(long, default_value = "64")]
    pub size: NonZeroUsize,
    /// Messages in flight per connection; 1 is ping-pong.
    #[arg(long, default_value = "1")]
    pub depth: NonZeroUsize,
    /// Seconds measured, after the warm-up.
    #[arg(long, value_name = "SECS", default_value = "5", value_parser = parse_seconds)]
    pub duration: Duration,
    /// Seconds of load before measuring starts.
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds)]
    pub warmup: Duration,
    /// A new connection for every request.
    #[arg(long)]
    pub churn: bool,
    /// App mode: the request's ACTION.
    #[arg(long, default_value = "search")]
    pub action: String,
    /// App mode: the request's VALUE.
    #[arg(long, default_value = "morpheus")]
    pub value: String,
    /// Read this process's CPU time over the measured window (the server).
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    pub json: bool,
    /// Give up on a connection that made no progress for this long.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,
}

/// Runs `loadgen`; the exit status is 0 when the run had no error.
pub fn main(args: LoadgenArgs) -> ExitCode {
    match run(&args) {
        Ok(report) => {
            if args.json {
                say::always(format_args!("{}", report.to_json()));
            } else {
                say::always(format_args!("{report}"));
            }
            if report.errors == 0 && report.messages > 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            say::error(format_args!("{e}"));
            ExitCode::FAILURE
        }
    }
}

/// `--addr HOST:PORT` as HOST and PORT: `127.0.0.1:65432`, `[::1]:65432`,
/// `localhost:65432`.
fn host_and_port(addr: &str) -> Result<(&str, u16), String> {
    let (host, port) = addr
        .rsplit_once(':')
        .ok_or_else(|| format!("`{addr}` is not HOST:PORT"))?;
    let port = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port number"))?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    Ok((host, port))
}

/// Runs the load and returns the report of the measured window.
pub fn run(args: &LoadgenArgs) -> io::Result<Report> {
    let addr = host_and_port(&args.addr)
        .and_then(|(host, port)| resolve(host, port))
        .map_err(|e| io::Error::other(format!("--addr {}: {e}", args.addr)))?;
    let conns = args.conns.get();
    reactor::net::raise_fd_limit(conns as u64 + 64)?;
    let workload = match args.mode {
        Mode::Echo => Workload::echo(args.size.get()),
        Mode::App => Workload::app(&args.action, &args.value)
            .map_err(|e| io::Error::other(format!("cannot build the request: {e}")))?,
    };
    let load = Rc::new(Load {
        addr,
        workload,
        depth: args.depth.get(),
        churn: args.churn,
        timeout: args.timeout,
        stats: RefCell::new(Stats::new()),
        stopping: Cell::new(false),
    });
    let mut event_loop = EventLoop::with_capacity(conns.clamp(64, 4096))?;
    for _ in 0..conns {
        Connection::open(&load, |conn, interest| event_loop.register(conn, interest))?;
    }

    let start = Instant::now();
    let measure_from = start + args.warmup;
    let end = measure_from + args.duration;
    let mut next_progress = start + Duration::from_secs(1);
    let mut window: Option<(Instant, f64, Option<f64>)> = None;
    let mut last_count = 0;
    loop {
        let now = Instant::now();
        if window.is_none() && now >= measure_from {
            load.stats.borrow_mut().start_measuring();
            let server = args.server_pid.map(cpu_seconds_of_pid).transpose()?;
            window = Some((now, own_cpu_seconds(), server));
        }
        if now >= end {
            break;
        }
        if now >= next_progress {
            let total = load.stats.borrow().total_messages;
            let errors = load.stats.borrow().errors;
            say::progress(format_args!(
                "loadgen: {:>3.0} s: {} msg/s, {} errors, {} connections",
                (now - start).as_secs_f64(),
                total - last_count,
                errors,
                event_loop.registrations()
            ));
            last_count = total;
            next_progress += Duration::from_secs(1);
        }
        if event_loop.is_empty() {
            return Err(io::Error::other(
                "every connection failed: is the server running?",
            ));
        }
        let wake = next_progress
            .min(end)
            .min(if window.is_none() { measure_from } else { end });
        event_loop.turn(Some(wake.saturating_duration_since(now)))?;
    }
    let finished = Instant::now();
    load.stats.borrow_mut().stop_measuring();
    let own_end = own_cpu_seconds();
    let server_end = args.server_pid.map(cpu_seconds_of_pid).transpose()?;
    drain(&mut event_loop, &load, args.timeout)?;
    let (began, own_start, server_start) =
        window.ok_or_else(|| io::Error::other("the run ended before measuring began"))?;
    let server_cpu = match (server_end, server_start) {
        (Some(after), Some(before)) => Some(after - before),
        _ => None,
    };
    let stats = load.stats.borrow();
    Ok(Report::new(
        args,
        &stats,
        finished - began,
        own_end - own_start,
        server_cpu,
    ))
}

/// The end of a run: no new request, and every answer still owed is waited
/// for (at most `timeout` without progress), so that `answered == sent`
/// proves no request was lost.
fn drain(event_loop: &mut EventLoop<Connection>, load: &Load, timeout: Duration) -> io::Result<()> {
    load.stopping.set(true);
    // Connections keep their own no-progress deadlines; this bounds the
    // whole drain as well.
    let give_up = Instant::now() + timeout;
    while load.stats.borrow().outstanding() > 0 && !event_loop.is_empty() {
        let now = Instant::now();
        if now >= give_up {
            break;
        }
        event_loop.turn(Some(give_up - now))?;
    }
    Ok(())
}
