//! `loadgen echo|app --addr HOST:PORT [options]`: the benchmark client.
//! See `benches::loadgen`.

use std::process::ExitCode;

use benches::loadgen::{self, LoadgenArgs};

fn main() -> ExitCode {
    loadgen::main(sockets::cli::parse::<LoadgenArgs>())
}
