//! The app server's per-connection `Message` under arbitrary input,
//! chunking, send-buffer room and event interleavings (see sockets::sim).
//!
//! Input layout: a byte for the content limit, a byte N, N steps of three
//! bytes each (deliver, room, mask), then the bytes the peer sends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::sim::{check_server, Step};

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let Some((&n, rest)) = rest.split_first() else {
        return;
    };
    let script_len = (usize::from(n) * 3).min(rest.len() / 3 * 3);
    let (script, input) = rest.split_at(script_len);
    let steps: Vec<Step> = script
        .chunks_exact(3)
        .map(|s| Step::from_bytes(s[0], s[1], s[2]))
        .collect();
    // Small limits exercise the refusal; 255 means the default 1 MiB.
    let max_content_length = if limit == 255 { 1 << 20 } else { usize::from(limit) };
    if let Err(broken) = check_server(input, &steps, max_content_length) {
        panic!("invariant broken: {broken}");
    }
});
