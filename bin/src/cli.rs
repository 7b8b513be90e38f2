//! Command-line arguments of every program, as `docs/cli.md` fixes them.
//!
//! clap gives the contract's behaviour for free: a missing or malformed
//! argument prints the usage on stderr and exits with status 2, `--help` and
//! `--version` print to stdout and exit 0.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::num::NonZeroUsize;
use std::time::Duration;

use clap::{Args, Parser};

/// Options shared by both servers.
#[derive(Args, Debug, Clone)]
pub struct ServerOptions {
    /// Print only the `listening on` line, errors and the shutdown line.
    #[arg(short, long)]
    pub quiet: bool,
    /// Close a connection idle for this many seconds; 0 turns it off.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_seconds)]
    pub idle_timeout: Duration,
    /// Above N open connections, stop accepting until one closes.
    #[arg(long, value_name = "N", default_value = "10000")]
    pub max_connections: NonZeroUsize,
    /// N threads, one reactor each, sharing the port.
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_workers)]
    pub workers: NonZeroUsize,
    /// Print every reactor step: register, modify, unregister, readiness.
    #[arg(long)]
    pub trace: bool,
    /// After the last event, poll without blocking for up to MICROS before
    /// sleeping: lower latency at low load, for a busy core while the load
    /// is low but not zero; an idle server still sleeps. 0 turns it off.
    #[arg(long, value_name = "MICROS", default_value = "0")]
    pub busy_poll: u64,
}

impl ServerOptions {
    /// The idle timeout, or `None` when it is turned off (`0`).
    pub fn idle_timeout(&self) -> Option<Duration> {
        (!self.idle_timeout.is_zero()).then_some(self.idle_timeout)
    }
}

/// `echo-server HOST PORT`: the tutorial's `multiconn-server.py`.
#[derive(Parser, Debug)]
#[command(
    name = "echo-server",
    version,
    about = "Echo every byte back, many connections at once"
)]
pub struct EchoServerArgs {
    /// IPv4 or IPv6 literal, or a name such as localhost.
    pub host: String,
    /// Port to listen on; 0 asks the system for a free one.
    pub port: u16,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub server: ServerOptions,
}

/// `app-server HOST PORT`: the tutorial's `app-server.py`.
#[derive(Parser, Debug)]
#[command(name = "app-server", version, about = "Answer framed search requests")]
pub struct AppServerArgs {
    /// IPv4 or IPv6 literal, or a name such as localhost.
    pub host: String,
    /// Port to listen on; 0 asks the system for a free one.
    pub port: u16,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub server: ServerOptions,
    /// Refuse a message whose content is longer than this many bytes.
    #[arg(long, value_name = "BYTES", default_value = "1048576")]
    pub max_content_length: usize,
    /// A request whose first byte has arrived must be complete within SECS,
    /// or the connection is closed; 0 turns it off.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub request_timeout: Duration,
    /// All connections' partial requests together: a request's content is
    /// read only once its whole length fits in what is left; until then
    /// that connection waits (backpressure through TCP).
    #[arg(long, value_name = "BYTES", default_value = "268435456")]
    pub max_buffered_bytes: usize,
}

impl AppServerArgs {
    /// `--request-timeout`, or `None` when it is off.
    pub fn request_timeout(&self) -> Option<Duration> {
        (!self.request_timeout.is_zero()).then_some(self.request_timeout)
    }
}

/// `multiconn-client HOST PORT NUM_CONNECTIONS`: `multiconn-client.py`.
#[derive(Parser, Debug)]
#[command(
    name = "multiconn-client",
    version,
    about = "Open several connections, send two messages on each, read the echo"
)]
pub struct MulticonnClientArgs {
    /// Server address: IPv4 or IPv6 literal, or a name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// How many connections to open at once.
    pub num_connections: NonZeroUsize,
    /// Print every reactor step: register, modify, unregister, readiness.
    #[arg(long)]
    pub trace: bool,
    /// Give up on a connection that made no progress for this many seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,
}

/// `app-client HOST PORT ACTION VALUE`: the tutorial's `app-client.py`.
#[derive(Parser, Debug)]
#[command(
    name = "app-client",
    version,
    about = "Send one search (or binary) request and print the answer"
)]
pub struct AppClientArgs {
    /// Server address: IPv4 or IPv6 literal, or a name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `search`, or any other word for a binary request.
    pub action: String,
    /// The query (or the binary request's payload after ACTION).
    pub value: String,
    /// Print every reactor step: register, modify, unregister, readiness.
    #[arg(long)]
    pub trace: bool,
    /// Give up when the connection made no progress for this many seconds.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = parse_seconds)]
    pub timeout: Duration,
    /// Send the request N times, pipelined on one connection.
    #[arg(long, value_name = "N", default_value = "1")]
    pub repeat: NonZeroUsize,
    /// Print only the `got ...` lines.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Parses the program's arguments as `docs/cli.md` says: `--help` and
/// `--version` print to stdout and exit 0; a missing or malformed argument
/// prints the error and the usage line on stderr and exits 2. (clap's own
/// `parse` leaves the usage line out when a value is malformed, as in
/// `PORT notaport`.)
pub fn parse<T: Parser>() -> T {
    match T::try_parse() {
        Ok(args) => args,
        Err(e) => usage_error(e, T::command()),
    }
}

fn usage_error(e: clap::Error, mut command: clap::Command) -> ! {
    if !e.use_stderr() {
        e.exit(); // --help, --version: stdout, status 0
    }
    let mut text = e.render().to_string();
    if !text.contains("Usage:") {
        // Where clap puts it for the other errors: before the `--help` hint.
        let usage = format!("\n{}\n", command.render_usage());
        let at = text.find("\nFor more information").unwrap_or(text.len());
        text.insert_str(at, &usage);
    }
    let _ = write!(std::io::stderr().lock(), "{text}");
    std::process::exit(2)
}

/// Parses `--workers`: at least 1, and no more loops than the signal
/// handler can wake (each worker must see SIGINT and SIGTERM).
pub fn parse_workers(text: &str) -> Result<NonZeroUsize, String> {
    let max = reactor::signal::MAX_WAKERS;
    match text.parse::<NonZeroUsize>() {
        Ok(n) if n.get() <= max => Ok(n),
        _ => Err(format!(
            "`{text}` is not a number of workers from 1 to {max}"
        )),
    }
}

/// Parses a non-negative, finite number of seconds (`1`, `0.5`).
pub fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("`{text}` is not a non-negative, finite number of seconds"))
}

/// Resolves HOST and PORT to the first address the system gives, as Python's
/// `socket.bind((host, port))` does: what a server listens on.
pub fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    resolve_all(host, port).map(|addrs| addrs[0])
}

/// Resolves HOST and PORT to every address the system gives, in its order
/// (never none): a client tries them one by one, as Python's
/// `socket.create_connection` does, since `localhost` may be `::1` first
/// with the server on `127.0.0.1`.
pub fn resolve_all(host: &str, port: u16) -> Result<Vec<SocketAddr>, String> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve host `{host}`: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err(format!("host `{host}` has no address"));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_accept_fractions_and_zero_and_refuse_the_rest() {
        assert_eq!(parse_seconds("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_seconds("0.25"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_seconds("0"), Ok(Duration::ZERO));
        assert!(parse_seconds("-1").is_err());
        assert!(parse_seconds("nan").is_err());
        assert!(parse_seconds("inf").is_err());
        assert!(parse_seconds("soon").is_err());
    }

    #[test]
    fn resolve_takes_literals_and_names() {
        assert_eq!(resolve("127.0.0.1", 7), Ok("127.0.0.1:7".parse().unwrap()));
        assert_eq!(resolve("::1", 7), Ok("[::1]:7".parse().unwrap()));
        assert!(resolve("localhost", 7).is_ok());
        assert_eq!(
            resolve_all("127.0.0.1", 7),
            Ok(vec!["127.0.0.1:7".parse().unwrap()])
        );
        // Every address of the name, the first of which `resolve` gives.
        let all = resolve_all("localhost", 7).expect("localhost resolves");
        assert_eq!(resolve("localhost", 7), Ok(all[0]));
        assert!(all.iter().all(|a| a.port() == 7 && a.ip().is_loopback()));
    }

    #[test]
    fn server_defaults_follow_the_contract() {
        let args = AppServerArgs::try_parse_from(["app-server", "127.0.0.1", "0"]).unwrap();
        assert_eq!(args.server.idle_timeout(), Some(Duration::from_secs(60)));
        assert_eq!(args.server.max_connections.get(), 10_000);
        assert_eq!(args.server.workers.get(), 1);
        assert_eq!(args.max_content_length, 1_048_576);
        let off =
            EchoServerArgs::try_parse_from(["echo-server", "::1", "0", "--idle-timeout", "0"])
                .unwrap();
        assert_eq!(off.server.idle_timeout(), None);
        assert!(AppClientArgs::try_parse_from(["app-client", "h", "notaport", "a", "v"]).is_err());
    }
}
