//! The one face of every per-socket state machine: the tutorial's
//! `Message`, as the loops and the property tests drive it.
//!
//! The tutorial has four such machines: `service_connection` in
//! `multiconn-server.py` and in `multiconn-client.py`, and the `Message`
//! classes of `libserver.py` and `libclient.py`. Each loop calls its own the
//! same way, `message.process_events(mask)`, and so do ours:
//! [`Message::process_events`] gets the event loop's [`Ready`] (the
//! tutorial's `mask`) and returns a [`Next`]: the interest to wait for (the
//! tutorial's `_set_selector_events_mask`) or the close. An error comes back
//! as the line to print, where the tutorial's main loop catches the
//! exception; the loop prints it and closes the socket.
//!
//! A `Message` never calls the selector itself: the loop carries out what it
//! returns. So the same machine runs in a server, in a client, and over the
//! in-memory socket of the property tests and fuzz targets, with any
//! interleaving of events.

use std::net::SocketAddr;

use reactor::{Interest, Ready};

use crate::buffers::Buffers;
use crate::say::Say;

/// A per-socket state machine: the echo server's, the app server's, and
/// the two clients'. The servers ask a little more of theirs
/// ([`crate::server::Serve`]).
pub trait Message {
    /// The socket: a `reactor::net::TcpStream` in the programs; any
    /// `Read + Write` in the property tests.
    type Socket;

    /// The socket (the tutorial's `self.sock`).
    fn sock(&self) -> &Self::Socket;

    /// The peer's address (the tutorial's `self.addr`).
    fn addr(&self) -> SocketAddr;

    /// How error lines name the connection: `connection from ('127.0.0.1',
    /// 54406)` in a server, `connection 1 to ('127.0.0.1', 65432)` in
    /// `multiconn-client`.
    fn describe(&self) -> String;

    /// Handles one readiness event (the tutorial's `process_events(mask)`):
    /// writes if `ready` is writable, reads if it is readable. `bufs` are the
    /// thread's buffers, so an idle connection holds none of its own; `say`
    /// is where the event lines go. `Err` is the reason the connection
    /// failed, phrased for an `error:` line.
    fn process_events(
        &mut self,
        ready: Ready,
        bufs: &mut Buffers,
        say: Say,
    ) -> Result<Next, String>;

    /// Bytes the connection holds in memory now: a partial message and what
    /// it owes the peer (the property tests check that this stays bounded).
    fn buffered(&self) -> usize;
}

/// What a [`Message`] asks of the loop after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep the connection, waiting for this readiness (the interest switch).
    Wait(Interest),
    /// Close the connection: done, or the peer is gone.
    Close,
}
