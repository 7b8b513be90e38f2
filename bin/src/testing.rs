//! Test support, hidden from the docs: driving the servers' [`Message`]s
//! with no network, over an in-memory socket double, checking the
//! invariants every run must keep. Used by the property tests
//! (`tests/state_machine.rs`) and the fuzz targets (`fuzz/`).
//!
//! A script of [`Step`]s says, for each readiness event, how many more bytes
//! the peer has delivered, how much room the kernel's send buffer has (zero
//! means a write returns `EAGAIN`), and which readiness is reported (any
//! interleaving, even readiness the socket doesn't have: spurious events
//! must be harmless). After the script, the peer's bytes all arrive, EOF
//! follows, and the send buffer drains; the connection must then close
//! having sent exactly the right bytes.

use std::cell::RefCell;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::rc::Rc;

use reactor::Ready;

use crate::buffers::{with_buffers, READ_SIZE};
use crate::message::{Message, Next};
use crate::say::Say;
use crate::server::app::ServerMessage;
use crate::server::echo::EchoMessage;

/// A socket whose peer sends `input`, released a few bytes at a time. A
/// clone is a handle on the same socket: the connection owns one, the
/// driver keeps another to play the peer and the kernel.
#[derive(Debug, Default, Clone)]
pub struct MemSocket(Rc<RefCell<Wire>>);

/// What the peer has sent and the kernel holds, on both sides.
#[derive(Debug, Default)]
struct Wire {
    input: Vec<u8>,
    /// Bytes of `input` the peer has sent so far.
    delivered: usize,
    /// Bytes of `input` the connection has read.
    read: usize,
    /// The peer closed its side after `input`.
    eof: bool,
    /// What the connection wrote.
    output: Vec<u8>,
    /// Room left in the kernel's send buffer.
    room: usize,
}

impl Read for MemSocket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let wire = &mut *self.0.borrow_mut();
        if wire.read == wire.delivered {
            return if wire.eof {
                Ok(0)
            } else {
                Err(ErrorKind::WouldBlock.into())
            };
        }
        let n = buf.len().min(wire.delivered - wire.read);
        buf[..n].copy_from_slice(&wire.input[wire.read..wire.read + n]);
        wire.read += n;
        Ok(n)
    }
}

impl Write for MemSocket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let wire = &mut *self.0.borrow_mut();
        if wire.room == 0 {
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(wire.room);
        wire.output.extend_from_slice(&buf[..n]);
        wire.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One readiness event of a script.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// More bytes the peer sends before this event.
    pub deliver: usize,
    /// Room the send buffer gains before this event.
    pub room: usize,
    /// The readiness reported.
    pub ready: Ready,
}

impl Step {
    /// A step from three arbitrary bytes (for fuzzers).
    pub fn from_bytes(deliver: u8, room: u8, mask: u8) -> Step {
        Step {
            // Mostly small, sometimes a large burst.
            deliver: if deliver == 255 {
                1 << 16
            } else {
                usize::from(deliver)
            },
            room: if room == 255 {
                1 << 20
            } else {
                usize::from(room) * 8
            },
            ready: Ready::new(mask & 1 != 0, mask & 2 != 0),
        }
    }
}

/// Splits a fuzzer's input into a script and the peer's bytes: a byte N,
/// then N steps of three bytes (see [`Step::from_bytes`]), then the bytes.
pub fn split_script(data: &[u8]) -> (Vec<Step>, &[u8]) {
    let Some((&n, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let script_len = (usize::from(n) * 3).min(rest.len() / 3 * 3);
    let (script, input) = rest.split_at(script_len);
    let steps = script
        .chunks_exact(3)
        .map(|s| Step::from_bytes(s[0], s[1], s[2]))
        .collect();
    (steps, input)
}

const PEER: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::LOCALHOST,
    40000,
));
const QUIET: Say = Say { quiet: true };

/// What a connection must send for `input`: the answer to every whole
/// request before the first framing error, in order.
pub fn expected_answers(input: &[u8], max_content_length: usize) -> Vec<u8> {
    let mut decoder = proto::Decoder::with_max_content_length(max_content_length);
    let mut out = Vec::new();
    let mut used = 0;
    while let Ok(proto::Status::Complete { frame, consumed }) = decoder.decode(&input[used..]) {
        proto::create_response(&frame, &mut out);
        used += consumed;
    }
    out
}

/// Runs `message` through `steps`, then to the end (all bytes delivered,
/// EOF, unlimited room), checking after every event that at most `bound`
/// bytes are buffered. Returns what it wrote, or which invariant broke.
fn drive(
    message: &mut impl Message<Socket = MemSocket>,
    input: &[u8],
    steps: &[Step],
    bound: usize,
) -> Result<Vec<u8>, String> {
    let sock = message.sock().clone();
    sock.0.borrow_mut().input = input.to_vec();
    let everything = Step {
        deliver: input.len(),
        room: usize::MAX / 2,
        ready: Ready::new(true, true),
    };
    // Each final event reads up to READ_SIZE bytes: more events than that
    // takes means the connection stalls.
    let ending = std::iter::repeat_n(&everything, input.len() / READ_SIZE + 16);
    for (i, &step) in steps.iter().chain(ending).enumerate() {
        {
            let wire = &mut *sock.0.borrow_mut();
            if i >= steps.len() {
                wire.eof = true;
            }
            wire.delivered = wire.delivered.saturating_add(step.deliver).min(input.len());
            wire.room = wire.room.saturating_add(step.room);
        }
        // An error closes the connection, as in the server.
        let next = with_buffers(|bufs| message.process_events(step.ready, bufs, QUIET))
            .unwrap_or(Next::Close);
        if message.buffered() > bound {
            return Err(format!(
                "{} bytes buffered, above the bound {bound}",
                message.buffered()
            ));
        }
        if next == Next::Close {
            return Ok(std::mem::take(&mut sock.0.borrow_mut().output));
        }
    }
    Err("the connection never closes after EOF".into())
}

/// Checks the app server's `Message` on `input` and `steps`: no panic,
/// bounded buffers (the partial request and one read's answers), and on
/// close exactly the answers to every whole request before the first
/// framing error, each once, in order.
pub fn check_server(input: &[u8], steps: &[Step], max_content_length: usize) -> Result<(), String> {
    let mut message = ServerMessage::new(MemSocket::default(), PEER, max_content_length);
    let bound = 2 * (max_content_length + u16::MAX as usize + 2 + READ_SIZE);
    let out = drive(&mut message, input, steps, bound)?;
    let expected = expected_answers(input, max_content_length);
    if out != expected {
        let at = out
            .iter()
            .zip(&expected)
            .take_while(|(a, b)| a == b)
            .count();
        return Err(format!(
            "sent {} answer bytes, expected {}; they differ from byte {at}",
            out.len(),
            expected.len()
        ));
    }
    Ok(())
}

/// Checks the echo server's `Message`: every byte comes back, in order, at
/// most one read is ever owed, and the connection closes after EOF.
pub fn check_echo(input: &[u8], steps: &[Step]) -> Result<(), String> {
    let mut message = EchoMessage::new(MemSocket::default(), PEER);
    let out = drive(&mut message, input, steps, READ_SIZE)?;
    if out != input {
        return Err(format!(
            "echoed {} bytes of {}, or others",
            out.len(),
            input.len()
        ));
    }
    Ok(())
}
