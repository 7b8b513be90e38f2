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

use std::io;

use reactor::{Interest, Ready};

use crate::buffers::Buffers;
use crate::say::Say;

/// A per-socket state machine: the echo server's, the app server's, and
/// the two clients'. The servers ask a little more of theirs
/// ([`crate::server::Serve`]).
///
/// As in the tutorial's `Message`, [`Message::process_events`] is the same
/// for all of them: it calls `write` and `read` as the readiness says, then
/// asks the interest switch ([`Message::next`]) what to wait for. Each
/// machine writes its own `read`, `write` and `next`.
pub trait Message {
    /// The socket: a `reactor::net::TcpStream` in the programs; any
    /// `Read + Write` in the property tests.
    type Socket;

    /// The socket is readable (the tutorial's `read`): read, and act on
    /// what came. `bufs` are the thread's buffers, so an idle connection
    /// holds none of its own; `say` is where the event lines go. `Err` is
    /// the reason the connection failed, phrased for an `error:` line.
    fn read(&mut self, bufs: &mut Buffers, say: Say) -> Result<(), String>;

    /// The socket is writable (the tutorial's `write`): send what is owed.
    fn write(&mut self, say: Say) -> Result<(), String>;

    /// The interest switch (the tutorial's `_set_selector_events_mask`):
    /// what to wait for now, or the close.
    fn next(&self) -> Next;

    /// Bytes the connection holds in memory now: a partial message and what
    /// it owes the peer (the property tests check that this stays bounded).
    fn buffered(&self) -> usize;

    /// The socket (the tutorial's `self.sock`).
    fn sock(&self) -> &Self::Socket;

    /// How error lines name the connection: `connection from ('127.0.0.1',
    /// 54406)` in a server, `connection 1 to ('127.0.0.1', 65432)` in
    /// `multiconn-client`.
    fn describe(&self) -> String;

    /// Handles one readiness event (the tutorial's `process_events(mask)`):
    /// writes if `ready` is writable, then reads if it is readable, then
    /// switches the interest. What the loops call.
    fn process_events(
        &mut self,
        ready: Ready,
        bufs: &mut Buffers,
        say: Say,
    ) -> Result<Next, String> {
        if ready.is_writable() {
            self.write(say)?;
        }
        if ready.is_readable() {
            self.read(bufs, say)?;
        }
        Ok(self.next())
    }

    /// The `error:` line for an I/O error on this connection.
    fn failure(&self, e: io::Error) -> String {
        format!("{}: {e}", self.describe())
    }
}

/// What a [`Message`] asks of the loop after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Keep the connection, waiting for this readiness (the interest switch).
    Wait(Interest),
    /// Close the connection: done, or the peer is gone.
    Close,
}
