//! The echo server's per-connection `Message`: every byte back, in order,
//! whatever the chunking, send-buffer room and event interleaving.
//!
//! Input layout: a byte N, N steps of three bytes, then the peer's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::sim::{check_echo, Step};

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let script_len = (usize::from(n) * 3).min(rest.len() / 3 * 3);
    let (script, input) = rest.split_at(script_len);
    let steps: Vec<Step> = script
        .chunks_exact(3)
        .map(|s| Step::from_bytes(s[0], s[1], s[2]))
        .collect();
    if let Err(broken) = check_echo(input, &steps) {
        panic!("invariant broken: {broken}");
    }
});
