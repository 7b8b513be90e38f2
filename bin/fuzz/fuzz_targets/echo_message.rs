//! The echo server's per-connection `Message`: every byte back, in order,
//! whatever the chunking, send-buffer room and event interleaving.
//!
//! Input layout: a script and the peer's bytes, as
//! `sockets::testing::split_script` reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::testing::{check_echo, split_script};

fuzz_target!(|data: &[u8]| {
    let (steps, input) = split_script(data);
    if let Err(broken) = check_echo(input, &steps) {
        panic!("invariant broken: {broken}");
    }
});
