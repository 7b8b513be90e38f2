//! The app server's per-connection `Message` under arbitrary input,
//! chunking, send-buffer room and event interleavings (see sockets::testing).
//!
//! Input layout: a byte for the content limit, then a script and the
//! peer's bytes as `sockets::testing::split_script` reads them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sockets::testing::{check_server, split_script};

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let (steps, input) = split_script(rest);
    // Small limits exercise the refusal; 255 means the default 1 MiB.
    let max_content_length = if limit == 255 { 1 << 20 } else { usize::from(limit) };
    if let Err(broken) = check_server(input, &steps, max_content_length) {
        panic!("invariant broken: {broken}");
    }
});
