//! Printing bytes and socket addresses the way Python prints them.
//!
//! The tutorial's programs print `repr(data)` of what they send and receive
//! and the address tuples that `socket.accept()` returns. Our programs print
//! the same text, so a transcript from the Python version and one from ours
//! can be compared line by line.

use std::fmt::{self, Write as _};
use std::net::SocketAddr;

/// Python's `repr()` of a bytes object: `b'...'`, or `b"..."` when the bytes
/// hold a `'` and no `"`, with `\t`, `\n`, `\r`, `\\`, the quote, and `\xNN`
/// escapes for everything outside printable ASCII.
pub struct Bytes<'a>(pub &'a [u8]);

impl fmt::Display for Bytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = if self.0.contains(&b'\'') && !self.0.contains(&b'"') {
            b'"'
        } else {
            b'\''
        };
        f.write_char('b')?;
        f.write_char(char::from(quote))?;
        for &byte in self.0 {
            match byte {
                b'\t' => f.write_str("\\t")?,
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\\' => f.write_str("\\\\")?,
                _ if byte == quote => {
                    f.write_char('\\')?;
                    f.write_char(char::from(byte))?;
                }
                0x20..=0x7e => f.write_char(char::from(byte))?,
                _ => write!(f, "\\x{byte:02x}")?,
            }
        }
        f.write_char(char::from(quote))
    }
}

/// A socket address as Python prints the tuple: `('127.0.0.1', 65432)` for
/// IPv4 and `('::1', 65432, 0, 0)` (host, port, flowinfo, scope id) for IPv6.
pub struct Addr(pub SocketAddr);

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            SocketAddr::V4(a) => write!(f, "('{}', {})", a.ip(), a.port()),
            SocketAddr::V6(a) => write!(
                f,
                "('{}', {}, {}, {})",
                a.ip(),
                a.port(),
                a.flowinfo(),
                a.scope_id()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repr(bytes: &[u8]) -> String {
        Bytes(bytes).to_string()
    }

    #[test]
    fn bytes_repr_matches_python() {
        // Each expected string is what CPython 3.11 prints for repr(b).
        assert_eq!(repr(b"Message 1 from client."), "b'Message 1 from client.'");
        assert_eq!(repr(b""), "b''");
        assert_eq!(repr(b"\x00g{\"a\": 1}"), "b'\\x00g{\"a\": 1}'");
        assert_eq!(repr(b"it's"), "b\"it's\"");
        assert_eq!(repr(b"it's \"x\""), "b'it\\'s \"x\"'");
        assert_eq!(repr(b"a\tb\nc\rd\\e"), "b'a\\tb\\nc\\rd\\\\e'");
        assert_eq!(repr(b"\x7f\x80\xff\x1f"), "b'\\x7f\\x80\\xff\\x1f'");
        assert_eq!(repr("🐰".as_bytes()), "b'\\xf0\\x9f\\x90\\xb0'");
    }

    #[test]
    fn address_repr_matches_python() {
        let v4: SocketAddr = "127.0.0.1:65432".parse().unwrap();
        assert_eq!(Addr(v4).to_string(), "('127.0.0.1', 65432)");
        let v6: SocketAddr = "[::1]:65432".parse().unwrap();
        assert_eq!(Addr(v6).to_string(), "('::1', 65432, 0, 0)");
    }
}
