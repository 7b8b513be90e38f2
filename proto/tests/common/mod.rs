//! Shared test helpers: the golden vectors, and frames made by hand.
#![allow(dead_code)]

/// One line of `tests/data/app-protocol.jsonl`.
pub struct Vector {
    pub name: String,
    pub action: String,
    pub value: String,
    pub request: Vec<u8>,
    pub response: Vec<u8>,
}

fn unhex(hex: &str) -> Vec<u8> {
    assert!(hex.len() % 2 == 0, "odd hex length");
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex digit"))
        .collect()
}

pub fn vectors() -> Vec<Vector> {
    let text = include_str!("../data/app-protocol.jsonl");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            let field = |key: &str| v[key].as_str().expect(key).to_owned();
            Vector {
                name: field("name"),
                action: field("action"),
                value: field("value"),
                request: unhex(&field("request_hex")),
                response: unhex(&field("response_hex")),
            }
        })
        .collect()
}

/// A frame from a raw JSON header and content, for headers no encoder
/// would write.
pub fn frame(header: &[u8], content: &[u8]) -> Vec<u8> {
    let mut out = u16::try_from(header.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(header);
    out.extend_from_slice(content);
    out
}
