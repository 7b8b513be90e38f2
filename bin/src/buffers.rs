//! The event loop's shared buffers: one per thread, reused by every socket.
//!
//! A connection reads into the thread's scratch buffer and decodes whole
//! messages straight from it; only a partial message is copied into the
//! connection's own buffer. Answers are encoded into the thread's output
//! buffer and sent at once. So an idle connection owns no buffer at all, and
//! the steady state allocates nothing.

use std::cell::RefCell;

/// Bytes read per `recv`: enough for hundreds of pipelined requests.
pub const READ_SIZE: usize = 64 * 1024;

/// The reusable buffers of one event-loop thread.
#[derive(Debug)]
pub struct Buffers {
    /// Where `recv` writes.
    pub scratch: Box<[u8]>,
    /// Where answers are encoded before they are sent.
    pub out: Vec<u8>,
}

impl Buffers {
    fn new() -> Self {
        Buffers {
            scratch: vec![0; READ_SIZE].into_boxed_slice(),
            out: Vec::with_capacity(READ_SIZE),
        }
    }
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::new());
}

/// Runs `f` with this thread's buffers. Not reentrant: handlers run one at
/// a time on a thread, so nothing else holds them.
pub fn with_buffers<R>(f: impl FnOnce(&mut Buffers) -> R) -> R {
    BUFFERS.with_borrow_mut(f)
}
