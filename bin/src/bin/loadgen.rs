//! `loadgen echo|app --addr HOST:PORT [options]`: the benchmark client.
//! See `sockets::loadgen`.

use std::process::ExitCode;

use clap::Parser;
use sockets::loadgen::{self, LoadgenArgs};

fn main() -> ExitCode {
    loadgen::main(LoadgenArgs::parse())
}
