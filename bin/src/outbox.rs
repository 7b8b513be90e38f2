//! Bytes owed to a peer: the tutorial's `_send_buffer`.
//!
//! A server writes an answer straight to the socket as soon as it has one: a
//! socket with room in its kernel send buffer is writable, so waiting for
//! `select` to say so would cost two `epoll_ctl` calls and a wake-up per
//! answer. Only what the kernel did not take waits here, and only then does
//! the connection switch its interest to WRITE. The buffer is freed once it
//! drains, so an idle connection holds no memory for it.

use std::io::{self, ErrorKind, Write};

use reactor::Interest;

use crate::message::Next;

/// The unsent tail of what a connection has written.
#[derive(Debug, Default)]
pub struct Outbox {
    buf: Vec<u8>,
    sent: usize,
}

impl Outbox {
    /// Whether nothing is owed.
    pub fn is_empty(&self) -> bool {
        self.sent == self.buf.len()
    }

    /// How many bytes are owed.
    pub fn len(&self) -> usize {
        self.buf.len() - self.sent
    }

    /// Sends `bytes` now if nothing is queued before them, and queues what
    /// the kernel does not take. Order is kept: with bytes already queued,
    /// the new ones go behind them.
    pub fn send<W: Write>(&mut self, sock: &mut W, bytes: &[u8]) -> io::Result<()> {
        let taken = if self.is_empty() {
            send_some(sock, bytes)?
        } else {
            0
        };
        if taken < bytes.len() {
            self.buf.extend_from_slice(&bytes[taken..]);
        }
        Ok(())
    }

    /// The servers' interest switch: WRITE while bytes are owed, and nothing
    /// more read until they are sent; once they are, the close if the
    /// connection is `done`, or else a wait for `then`.
    pub fn next(&self, done: bool, then: Interest) -> Next {
        if !self.is_empty() {
            Next::Wait(Interest::WRITE)
        } else if done {
            Next::Close
        } else {
            Next::Wait(then)
        }
    }

    /// Sends as much of what is owed as the kernel takes (the tutorial's
    /// `_write`). Returns whether everything is sent.
    pub fn flush<W: Write>(&mut self, sock: &mut W) -> io::Result<bool> {
        self.sent += send_some(sock, &self.buf[self.sent..])?;
        if self.is_empty() {
            // Freed, not kept: an idle connection should cost no buffer.
            self.buf = Vec::new();
            self.sent = 0;
            return Ok(true);
        }
        Ok(false)
    }
}

/// Writes until `bytes` are all taken or the socket would block; returns how
/// many were taken. EINTR is retried; any other error is the caller's.
pub fn send_some<W: Write>(sock: &mut W, bytes: &[u8]) -> io::Result<usize> {
    let mut taken = 0;
    while taken < bytes.len() {
        match sock.write(&bytes[taken..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => taken += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket double whose kernel buffer takes `room` more bytes.
    struct Tight {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Tight {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.room).min(3);
            self.room -= n;
            self.got.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn keeps_order_and_loses_nothing_across_partial_writes() {
        let mut sock = Tight {
            room: 5,
            got: Vec::new(),
        };
        let mut outbox = Outbox::default();
        outbox.send(&mut sock, b"hello world").unwrap();
        assert_eq!(outbox.len(), 6);
        outbox.send(&mut sock, b"!").unwrap();
        assert_eq!(outbox.len(), 7);
        sock.room = 4;
        assert!(!outbox.flush(&mut sock).unwrap());
        sock.room = 100;
        assert!(outbox.flush(&mut sock).unwrap());
        assert!(outbox.is_empty());
        assert_eq!(sock.got, b"hello world!");
        assert_eq!(outbox.buf.capacity(), 0, "a drained outbox holds no memory");
    }
}
