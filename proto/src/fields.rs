//! Reading the fields of a JSON object by kind, before judging them.
//!
//! The header, the request and the response are each a JSON object with a
//! few keys that must hold a string or a count. Their parsers take each
//! value as a [`Field`] (a string, a non-negative integer, or the name of
//! whatever else it was) rather than into typed structs, so that a wrong
//! type never becomes a serde error string: plain Rust code afterwards
//! turns it into the precise [`crate::Error`] variant. Strings are borrowed
//! from the input whenever they hold no escapes, which keeps the hot path
//! free of allocation.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string, borrowed from the input unless it had escapes.
///
/// (serde's own `Cow<str>` impl always copies outside of derived structs.)
pub(crate) struct Text<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// One JSON value reduced to what the protocol asks of it: a string, a
/// non-negative integer, or the name of whatever else it was.
#[derive(Debug)]
pub(crate) enum Field<'a> {
    Str(Cow<'a, str>),
    UInt(u64),
    Other(&'static str),
}

impl Field<'_> {
    /// The value's kind, as the error messages name it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Field::Str(_) => "a string",
            Field::UInt(_) => "a number",
            Field::Other(kind) => kind,
        }
    }
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Field::UInt(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        // serde_json only calls this for negative integers.
        Ok(match u64::try_from(v) {
            Ok(v) => Field::UInt(v),
            Err(_) => Field::Other("a negative integer"),
        })
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Field::Other("a fractional number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Field::Other("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Other("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other("an object"))
    }
}

/// A parser's record of the fields it wants: it is handed each key of a
/// top-level JSON object in turn, and takes that key's value or skips it.
pub(crate) trait TakeFields<'de> {
    /// Takes the value for `key` out of `map` (`map.next_value::<T>()`).
    fn take_field<A: MapAccess<'de>>(
        &mut self,
        key: Cow<'de, str>,
        map: &mut A,
    ) -> Result<(), A::Error>;
}

/// What the top level of a document turned out to be.
pub(crate) enum Shape {
    Object,
    Not(&'static str),
}

/// Why [`parse_object`] found no JSON document.
pub(crate) enum Invalid {
    /// The bytes aren't UTF-8 (offset of the first bad byte).
    NotUtf8(usize),
    /// serde_json's account of the syntax error.
    NotJson(String),
}

impl Invalid {
    /// One clause for an error message.
    pub(crate) fn reason(self) -> String {
        match self {
            Invalid::NotUtf8(at) => format!("invalid UTF-8 at byte {at}"),
            Invalid::NotJson(reason) => reason,
        }
    }
}

/// Parses `input` as one JSON document that should be an object, feeding its
/// keys to `fields`; any other value is reported by kind, not as an error,
/// so that only genuine syntax errors come back as `Err`.
///
/// UTF-8 is checked once for the whole input, which lets serde_json skip its
/// per-string check (the header parse is about a third faster for it).
pub(crate) fn parse_object<'de, F: TakeFields<'de>>(
    input: &'de [u8],
    fields: &mut F,
) -> Result<Shape, Invalid> {
    let text = std::str::from_utf8(input).map_err(|e| Invalid::NotUtf8(e.valid_up_to()))?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let shape = deserializer
        .deserialize_any(ObjectOrKind(fields))
        .and_then(|shape| deserializer.end().map(|()| shape));
    shape.map_err(|e| Invalid::NotJson(e.to_string()))
}

struct ObjectOrKind<'s, F>(&'s mut F);

impl<'de, F: TakeFields<'de>> Visitor<'de> for ObjectOrKind<'_, F> {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            self.0.take_field(key, &mut map)?;
        }
        Ok(Shape::Object)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::Not("an array"))
    }
    fn visit_borrowed_str<E: de::Error>(self, _: &'de str) -> Result<Self::Value, E> {
        Ok(Shape::Not("a string"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Shape::Not("a string"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Shape::Not("a number"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Shape::Not("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Shape::Not("a number"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Shape::Not("a boolean"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Shape::Not("null"))
    }
}
