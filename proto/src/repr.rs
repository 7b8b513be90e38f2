//! Python's `repr()` of a bytes object, for the programs' output lines.

use std::fmt;

/// Displays bytes exactly as Python's `repr(bytes)` does: `b'...'` with
/// `\t`, `\n`, `\r`, `\\`, `\'` and `\xNN` escapes, or `b"..."` when the
/// bytes hold `'` and no `"`.
///
/// ```
/// assert_eq!(proto::PyBytes(b"it's\x00").to_string(), r#"b"it's\x00""#);
/// assert_eq!(proto::PyBytes(b"a'b\"").to_string(), r#"b'a\'b"'"#);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PyBytes<'a>(pub &'a [u8]);

impl fmt::Display for PyBytes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quote = if self.0.contains(&b'\'') && !self.0.contains(&b'"') {
            '"'
        } else {
            '\''
        };
        write!(f, "b{quote}")?;
        for &byte in self.0 {
            match byte {
                b'\t' => f.write_str("\\t")?,
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\\' => f.write_str("\\\\")?,
                b'\'' if quote == '\'' => f.write_str("\\'")?,
                0x20..=0x7e => write!(f, "{}", char::from(byte))?,
                _ => write!(f, "\\x{byte:02x}")?,
            }
        }
        write!(f, "{quote}")
    }
}
