//! The `--trace` output: one line per reactor step, in the words a learner
//! sees (`register fd=7 interest=READ`, `ready fd=7 READ`, ...; the whole
//! list is in the docs of
//! [`EventLoop::set_trace`](crate::EventLoop::set_trace)).

use std::fmt;
use std::io::{self, Write};

/// One `--trace` line on stdout. Written whole through the lock, and never
/// a panic: a closed stdout (a pipe whose reader left) must not stop the
/// loop, as `println!` would.
#[cold]
pub(crate) fn trace(line: fmt::Arguments<'_>) {
    let _ = writeln!(io::stdout().lock(), "{line}");
}
