//! What a connection's state machine asks of the event loop after an event.

use reactor::Interest;

/// The answer of a `process_events` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep the connection, waiting for this readiness (the interest switch).
    Wait(Interest),
    /// Close the connection: done, peer gone, or an error already reported.
    Close,
}

/// Readiness as the state machines see it: the event loop's mask reduced to
/// the two questions the tutorial's `process_events` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask {
    /// The tutorial's `mask & selectors.EVENT_READ`.
    pub read: bool,
    /// The tutorial's `mask & selectors.EVENT_WRITE`.
    pub write: bool,
}

/// A socket whose non-blocking `connect` may still be under way.
pub trait Connect {
    /// Once the socket is writable: `Ok` if the connect succeeded, or the
    /// error it failed with (read from `SO_ERROR`: a refused connect is
    /// otherwise mistaken for success or for an empty read).
    fn connect_result(&self) -> std::io::Result<()>;
}

impl Connect for reactor::net::TcpStream {
    fn connect_result(&self) -> std::io::Result<()> {
        self.finish_connect()
    }
}

/// Describes a failed connect the way the programs print it:
/// `connection to ('127.0.0.1', 65432) refused`.
pub fn connect_failure(what: &str, err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => format!("{what} refused"),
        std::io::ErrorKind::TimedOut => format!("{what} timed out"),
        _ => format!("{what} failed: {err}"),
    }
}
