//! Printing socket addresses the way Python prints them.
//!
//! The tutorial's programs print the address tuples that `socket.accept()`
//! returns; ours print the same text, so transcripts compare line by line.
//! (Bytes print with [`proto::PyBytes`], Python's `repr()` of bytes.)

use std::fmt;
use std::net::SocketAddr;

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

    #[test]
    fn address_repr_matches_python() {
        let v4: SocketAddr = "127.0.0.1:65432".parse().unwrap();
        assert_eq!(Addr(v4).to_string(), "('127.0.0.1', 65432)");
        let v6: SocketAddr = "[::1]:65432".parse().unwrap();
        assert_eq!(Addr(v6).to_string(), "('::1', 65432, 0, 0)");
    }
}
