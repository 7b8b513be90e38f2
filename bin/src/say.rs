//! The programs' output lines: stdout for events, stderr for errors.
//!
//! Lines are written whole through a locked handle, so lines from several
//! worker threads never interleave mid-line.

use std::fmt;
use std::io::Write;

/// Where a program's event lines go, and whether they are wanted (`-q`).
#[derive(Debug, Clone, Copy)]
pub struct Say {
    /// `-q`: event lines are dropped; errors and the lines a program always
    /// prints still go out.
    pub quiet: bool,
}

impl Say {
    /// An event line (`accepted connection from ...`), unless quiet.
    pub fn event(&self, line: fmt::Arguments<'_>) {
        if !self.quiet {
            always(line);
        }
    }
}

/// A line that is printed even when quiet (`listening on ...`, the shutdown
/// line, a client's `got ...`).
pub fn always(line: fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    // A closed stdout (a pipe whose reader left) must not stop a server.
    let _ = writeln!(out, "{line}");
}

/// An error line on stderr: `error: ...`.
pub fn error(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "error: {line}");
}

/// A progress line on stderr, without the `error:` prefix.
pub fn progress(line: fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
