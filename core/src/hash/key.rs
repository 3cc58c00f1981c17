//! Map keys: turns a serialized key into the raw string `serde_json::to_value` would use.
//!
//! Strings, chars, unit variants, bools, integers and finite floats are keys (the latter as their
//! decimal text); anything else is the same "key must be a string" error serde_json reports.

use std::fmt::Display;

use serde::ser::{self, Impossible, Serialize};
use serde_json::ser::{CompactFormatter, Formatter};

use super::json::Result;

/// Appends the raw (unescaped) key text to a buffer.
pub(super) struct KeySerializer<'a> {
    keys: &'a mut Vec<u8>,
}

impl<'a> KeySerializer<'a> {
    pub(super) fn new(keys: &'a mut Vec<u8>) -> Self {
        Self { keys }
    }

    fn int(self, write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Result {
        write(self.keys).map_err(serde_json::Error::io)
    }
}

fn key_must_be_a_string() -> serde_json::Error {
    ser::Error::custom("key must be a string")
}

fn float_key_must_be_finite() -> serde_json::Error {
    ser::Error::custom("float key must be finite (got NaN or +/-inf)")
}

type No = Impossible<(), serde_json::Error>;

impl ser::Serializer for KeySerializer<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = No;
    type SerializeTuple = No;
    type SerializeTupleStruct = No;
    type SerializeTupleVariant = No;
    type SerializeMap = No;
    type SerializeStruct = No;
    type SerializeStructVariant = No;

    fn serialize_bool(self, v: bool) -> Result {
        self.keys.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        self.int(|k| CompactFormatter.write_i8(k, v))
    }
    fn serialize_i16(self, v: i16) -> Result {
        self.int(|k| CompactFormatter.write_i16(k, v))
    }
    fn serialize_i32(self, v: i32) -> Result {
        self.int(|k| CompactFormatter.write_i32(k, v))
    }
    fn serialize_i64(self, v: i64) -> Result {
        self.int(|k| CompactFormatter.write_i64(k, v))
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.int(|k| CompactFormatter.write_i128(k, v))
    }
    fn serialize_u8(self, v: u8) -> Result {
        self.int(|k| CompactFormatter.write_u8(k, v))
    }
    fn serialize_u16(self, v: u16) -> Result {
        self.int(|k| CompactFormatter.write_u16(k, v))
    }
    fn serialize_u32(self, v: u32) -> Result {
        self.int(|k| CompactFormatter.write_u32(k, v))
    }
    fn serialize_u64(self, v: u64) -> Result {
        self.int(|k| CompactFormatter.write_u64(k, v))
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.int(|k| CompactFormatter.write_u128(k, v))
    }
    fn serialize_f32(self, v: f32) -> Result {
        if !v.is_finite() {
            return Err(float_key_must_be_finite());
        }
        self.int(|k| CompactFormatter.write_f32(k, v))
    }
    fn serialize_f64(self, v: f64) -> Result {
        if !v.is_finite() {
            return Err(float_key_must_be_finite());
        }
        self.int(|k| CompactFormatter.write_f64(k, v))
    }
    fn serialize_char(self, v: char) -> Result {
        self.keys.extend_from_slice(v.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        self.keys.extend_from_slice(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_none(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _value: &T) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit(self) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result {
        Err(key_must_be_a_string())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple(self, _len: usize) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<No> {
        Err(key_must_be_a_string())
    }
    fn collect_str<T: ?Sized + Display>(self, value: &T) -> Result {
        use std::io::Write;
        write!(self.keys, "{value}").map_err(serde_json::Error::io)
    }
}
