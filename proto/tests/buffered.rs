//! The owning decoder reading straight from an `io::Read`.

use std::io::{self, Read};

use proto::{create_request, BufferedDecoder};

/// A reader that hands out at most `step` bytes per call, like a socket.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        let (now, later) = self.bytes.split_at(n);
        buf[..n].copy_from_slice(now);
        self.bytes = later;
        Ok(n)
    }
}

#[test]
fn read_from_a_reader_in_small_reads() {
    let mut stream = Vec::new();
    for i in 0..50 {
        create_request(&mut stream, "search", &format!("query {i}"));
        create_request(&mut stream, "hello", &"x".repeat(i * 100));
    }
    for step in [1, 3, 100, 5000, 1 << 20] {
        let mut reader = Trickle {
            bytes: &stream,
            step,
        };
        let mut decoder = BufferedDecoder::new();
        let mut count = 0;
        while decoder.read_from(&mut reader).expect("reads") > 0 {
            while let Some(frame) = decoder.next_frame().expect("valid") {
                let expected = if count % 2 == 0 {
                    "text/json"
                } else {
                    "binary/custom-client-binary-type"
                };
                assert_eq!(frame.header.content_type, expected);
                count += 1;
            }
        }
        assert_eq!(count, 100, "reads of {step}");
        assert!(decoder.pending().is_empty());
    }
}

#[test]
fn feed_and_read_from_mix() {
    let mut one = Vec::new();
    create_request(&mut one, "search", "ring");
    let mut decoder = BufferedDecoder::new();
    decoder.feed(&one[..5]);
    let mut reader = Trickle {
        bytes: &one[5..],
        step: 7,
    };
    let mut got = None;
    while decoder.read_from(&mut reader).expect("reads") > 0 {
        if let Some(m) = decoder.next_frame().expect("valid") {
            got = Some(m.content.to_vec());
        }
    }
    assert_eq!(
        got.as_deref(),
        Some(&br#"{"action": "search", "value": "ring"}"#[..])
    );
}
