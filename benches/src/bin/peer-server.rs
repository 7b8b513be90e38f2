//! `peer-server KIND HOST PORT`: a server we measure ours against.
//!
//! KIND is `bare-echo` (Linux only), `mio-echo`, `tokio-echo` or
//! `tokio-app` (see `benches::peers`). It prints `listening on ('127.0.0.1', PORT)` once
//! bound (PORT 0: a free port, the one bound is printed), then serves,
//! silently, until SIGINT or SIGTERM ends it.

use std::process::ExitCode;

use benches::peers::{self, Kind};

fn usage() -> ExitCode {
    let kinds: Vec<&str> = Kind::ALL.iter().map(|(name, _)| *name).collect();
    eprintln!("usage: peer-server {{{}}} HOST PORT", kinds.join("|"));
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, host, port] = args.as_slice() else {
        return usage();
    };
    let (Some(kind), Ok(port)) = (Kind::parse(kind), port.parse::<u16>()) else {
        return usage();
    };
    match peers::run(kind, host, port) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("peer-server: {e}");
            ExitCode::FAILURE
        }
    }
}
