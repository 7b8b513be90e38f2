//! A JSON value that keeps object keys in document order, like a Python dict.
//!
//! `serde_json::Value` sorts object keys (without its `preserve_order`
//! feature), which would print `{"value": ..., "action": ...}` differently
//! from the Python programs. This type keeps the order, and borrows strings
//! from the input where it can.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::fields::Text;
use crate::pyjson::write_python_json;
use crate::Error;

/// Any JSON value, objects kept in document order.
///
/// A key repeated in one object keeps its first position and its last value,
/// as Python's `json.loads` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as serde_json reads it.
    Number(serde_json::Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Value<'a>>),
    /// An object, entries in document order.
    Object(Vec<(Cow<'a, str>, Value<'a>)>),
}

impl<'a> Value<'a> {
    /// Parses one JSON document (UTF-8 bytes), borrowing its strings.
    ///
    /// A syntax error is reported as [`Error::ContentNotJson`], since this is
    /// how contents are read.
    pub fn parse(json: &'a [u8]) -> Result<Self, Error> {
        let invalid = |reason| Error::ContentNotJson { reason };
        let text = std::str::from_utf8(json)
            .map_err(|e| invalid(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
        serde_json::from_str(text).map_err(|e| invalid(e.to_string()))
    }

    /// The value for `key` if this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Copies every borrowed string, so the value outlives its input.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(b) => Value::Bool(b),
            Value::Number(n) => Value::Number(n),
            Value::String(s) => Value::String(Cow::Owned(s.into_owned())),
            Value::Array(items) => Value::Array(items.into_iter().map(Value::into_owned).collect()),
            Value::Object(entries) => Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
        }
    }
}

/// Prints the value as Python's `json.dumps(value, ensure_ascii=False)` does:
/// `{"action": "search", "value": "morpheus"}`.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        write_python_json(&mut out, self);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

impl Serialize for Value<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Number(n) => n.serialize(serializer),
            Value::String(s) => serializer.serialize_str(s),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // JSON text can't spell NaN or infinity, so this is always Some.
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Value::String(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Value::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Value::String(Cow::Owned(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut dict = Dict::default();
        while let Some(Text(key)) = map.next_key::<Text<'de>>()? {
            let value = map.next_value()?;
            dict.insert(key, value);
        }
        Ok(Value::Object(dict.into_vec()))
    }
}

/// An object's entries as a Python dict keeps them: in first-seen order,
/// the last value winning for a repeated key. Built in time linear in the
/// number of keys: a short object is searched, a long one gets a hash index,
/// so a peer can't make us quadratic with many keys.
pub(crate) struct Dict<'a, V> {
    entries: Vec<(Cow<'a, str>, V)>,
    index: Option<HashMap<Cow<'a, str>, usize>>,
}

impl<V> Default for Dict<'_, V> {
    fn default() -> Self {
        Dict {
            entries: Vec::new(),
            index: None,
        }
    }
}

/// Above this many keys a linear search per insert costs more than hashing.
const INDEX_AT: usize = 16;

impl<'a, V> Dict<'a, V> {
    pub(crate) fn insert(&mut self, key: Cow<'a, str>, value: V) {
        if self.index.is_none() && self.entries.len() >= INDEX_AT {
            let index = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.clone(), i))
                .collect();
            self.index = Some(index);
        }
        let found = match &self.index {
            Some(index) => index.get(&key).copied(),
            None => self.entries.iter().position(|(k, _)| *k == key),
        };
        match found.and_then(|i| self.entries.get_mut(i)) {
            Some(slot) => slot.1 = value,
            None => {
                if let Some(index) = &mut self.index {
                    index.insert(key.clone(), self.entries.len());
                }
                self.entries.push((key, value));
            }
        }
    }

    pub(crate) fn into_vec(self) -> Vec<(Cow<'a, str>, V)> {
        self.entries
    }
}
