//! JSON written as Python's `json.dumps(obj, ensure_ascii=False)` writes it.
//!
//! The Python programs are the reference: our frames must equal theirs byte
//! for byte, and our log lines must print a document as they print it. Both
//! the encoder and [`crate::Value`]'s `Display` write through this one
//! formatter, and it depends on nothing else in the crate.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// A serde_json [`Formatter`] that writes what Python's
/// `json.dumps(obj, ensure_ascii=False)` writes.
///
/// Python separates items with `", "` and keys from values with `": "`, where
/// serde_json's compact layout uses `,` and `:`. Strings need nothing
/// special: serde_json's escapes are Python's (`\"`, `\\`, `\n` `\r` `\t`
/// `\b` `\f`, other control characters as lowercase `\u00XX`, everything else
/// raw UTF-8, U+007F included). Floats are written as Python's `repr`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PythonFormatter;

/// Python's separator between a key and its value.
pub(crate) const KEY_SEPARATOR: &[u8] = b": ";

/// Python's separator between the items of an array or an object.
pub(crate) const ITEM_SEPARATOR: &[u8] = b", ";

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        write_item_separator(w, first)
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        write_item_separator(w, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(KEY_SEPARATOR)
    }

    fn write_f64<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        write_python_float(w, value)
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        write_python_float(w, f64::from(value))
    }
}

fn write_item_separator<W: ?Sized + io::Write>(w: &mut W, first: bool) -> io::Result<()> {
    if first {
        Ok(())
    } else {
        w.write_all(ITEM_SEPARATOR)
    }
}

/// Python's `repr(float)`: the shortest digits that read back the same value,
/// fixed notation when the decimal exponent is in -4..16 (always with a
/// fractional part, `100.0`), else scientific with a signed, two-digit-minimum
/// exponent (`1e+16`, `1.5e-05`).
fn write_python_float<W: ?Sized + io::Write>(w: &mut W, value: f64) -> io::Result<()> {
    if !value.is_finite() {
        // Not reachable from JSON input; Python would write NaN/Infinity,
        // which isn't JSON either, so take serde_json's choice.
        return w.write_all(b"null");
    }
    // Rust's `{:e}` gives the same shortest round-trip digits as Python's
    // repr, as `d.ddde[-]x`; only the layout around them differs.
    let mut sci = StackText::default();
    let _ = std::fmt::Write::write_fmt(&mut sci, format_args!("{:e}", value.abs()));
    let text = sci.as_str();
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let mut digits = StackText::default();
    for c in mantissa.chars().filter(char::is_ascii_digit) {
        let _ = std::fmt::Write::write_char(&mut digits, c);
    }
    let digits = digits.as_str().as_bytes();
    let sign: &[u8] = if value.is_sign_negative() { b"-" } else { b"" };
    w.write_all(sign)?;
    // Python's rule in terms of the decimal point position after the first
    // digit's place: fixed for exponents -4 ..= 15.
    if (-4..16).contains(&exponent) {
        if exponent < 0 {
            w.write_all(b"0.")?;
            for _ in 0..(-exponent - 1) {
                w.write_all(b"0")?;
            }
            w.write_all(digits)
        } else {
            let int_len = exponent.unsigned_abs() as usize + 1;
            if digits.len() <= int_len {
                w.write_all(digits)?;
                for _ in digits.len()..int_len {
                    w.write_all(b"0")?;
                }
                w.write_all(b".0")
            } else {
                let (int, frac) = digits.split_at(int_len);
                w.write_all(int)?;
                w.write_all(b".")?;
                w.write_all(frac)
            }
        }
    } else {
        let (first, rest) = digits.split_at(digits.len().min(1));
        w.write_all(first)?;
        if !rest.is_empty() {
            w.write_all(b".")?;
            w.write_all(rest)?;
        }
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        write!(w, "e{exp_sign}{:02}", exponent.unsigned_abs())
    }
}

/// A few bytes of text on the stack: enough for any `{:e}` of an f64 (at most 24).
#[derive(Default)]
struct StackText {
    bytes: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Appends `value` to `out` as JSON in the Python layout.
///
/// This is the line format of the programs' `received request ...` output.
pub fn write_python_json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    let start = out.len();
    let mut serializer = serde_json::Serializer::with_formatter(&mut *out, PythonFormatter);
    // A Vec never fails a write, so serde_json can only fail on a map key that
    // isn't a string; drop the partial output rather than leave half a value.
    if value.serialize(&mut serializer).is_err() {
        out.truncate(start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(value: f64) -> String {
        let mut out = Vec::new();
        write_python_json(&mut out, &value);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn floats_print_as_python_repr() {
        // Expected values are Python 3's repr() of each float.
        let cases = [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456.789, "123456.789"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e20, "1.5e+20"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
            (-2.5e-5, "-2.5e-05"),
            (12345678901234567.0, "1.2345678901234568e+16"),
        ];
        for (value, expected) in cases {
            assert_eq!(py(value), expected, "{value:e}");
        }
    }
}
