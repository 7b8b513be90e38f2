//! `loadgen echo|app --addr HOST:PORT [options]`: the benchmark client.
//! See `sockets::loadgen`.

use std::process::ExitCode;

use sockets::loadgen::{self, LoadgenArgs};

fn main() -> ExitCode {
    loadgen::main(sockets::cli::parse::<LoadgenArgs>())
}
