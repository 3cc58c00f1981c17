//! A `serde::Serializer` that writes canonical JSON and streams it into a [`Sink`].
//!
//! Output is produced in serialization order. Only the entries of an open map or struct are held
//! back, because a later key may sort before an earlier one; when a map ends with its keys out of
//! order (or repeated) its entries are rearranged in place. Everything outside open maps has a
//! final position and is flushed to the sink, so memory stays bounded by the largest map.
//!
//! The result is byte-identical to `serde_json::to_vec(&serde_json::to_value(x)?)`: same key
//! conversion rules (integers, bools and chars as keys become strings), last value wins for a
//! repeated key, `f32` widened to `f64`, non-finite floats as `null`, 128-bit integers only when
//! they fit in `i64`/`u64`.

use serde::ser::{self, Serialize};
use sha2::{Digest, Sha256};

use super::json::{self, Result};
use super::key::KeySerializer;

/// Where finished canonical bytes go.
pub(crate) trait Sink {
    /// Flush once this many bytes are buffered and no map is open.
    const FLUSH_AT: usize;
    /// Takes the next finished bytes.
    fn accept(&mut self, bytes: &[u8]);
}

impl Sink for Sha256 {
    const FLUSH_AT: usize = 16 * 1024;
    fn accept(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

/// Keeps everything in the output buffer (for [`super::canonical_json`]).
pub(crate) struct KeepAll;

impl Sink for KeepAll {
    const FLUSH_AT: usize = usize::MAX;
    fn accept(&mut self, _bytes: &[u8]) {}
}

/// One entry of an open map: its raw key in `Canonical::keys`, its `"key":value` bytes in
/// `Canonical::out` (without the separating comma).
#[derive(Clone, Copy)]
struct Entry {
    key_start: usize,
    key_end: usize,
    start: usize,
    end: usize,
}

/// The canonical JSON writer. Buffers are reused across nested maps: `entries` and `keys` are
/// stacks that each map truncates back when it ends.
pub(crate) struct Canonical<S> {
    out: Vec<u8>,
    keys: Vec<u8>,
    entries: Vec<Entry>,
    scratch: Vec<u8>,
    open_maps: usize,
    sink: S,
}

impl<S: Sink> Canonical<S> {
    /// A writer feeding `sink`.
    pub(crate) fn new(sink: S) -> Self {
        Self {
            out: Vec::with_capacity(4096),
            keys: Vec::with_capacity(256),
            entries: Vec::with_capacity(64),
            scratch: Vec::new(),
            open_maps: 0,
            sink,
        }
    }

    /// The output buffer, for writers that emit canonical tokens directly. Callers must not
    /// touch bytes written before the innermost open map started.
    pub(crate) fn out(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Hands finished bytes to the sink when enough have piled up.
    pub(crate) fn maybe_flush(&mut self) {
        if self.open_maps == 0 && self.out.len() >= S::FLUSH_AT {
            self.sink.accept(&self.out);
            self.out.clear();
        }
    }

    /// Flushes what is left and returns the sink and the unflushed bytes.
    pub(crate) fn finish(mut self) -> (S, Vec<u8>) {
        if S::FLUSH_AT != usize::MAX {
            self.sink.accept(&self.out);
            self.out.clear();
        }
        (self.sink, self.out)
    }

    fn open_map(&mut self, variant: Option<&str>) -> MapWriter<'_, S> {
        if let Some(variant) = variant {
            self.open_variant(variant);
        }
        let start = self.out.len();
        self.out.push(b'{');
        self.open_maps += 1;
        MapWriter {
            first_entry: self.entries.len(),
            keys_start: self.keys.len(),
            start,
            sorted: true,
            key_pending: false,
            close_variant: variant.is_some(),
            c: self,
        }
    }

    fn open_variant(&mut self, variant: &str) {
        self.out.push(b'{');
        json::write_str(&mut self.out, variant);
        self.out.push(b':');
    }

    /// Rewrites the entries of the map that starts at `start` in key order; of repeated keys the
    /// last one wins, as in `serde_json::Map::insert`.
    fn reorder(&mut self, start: usize, first_entry: usize) {
        let keys = &self.keys;
        let entries = &mut self.entries[first_entry..];
        // Stable: repeated keys stay in insertion order, so the last of a run is the newest.
        entries.sort_by(|a, b| keys[a.key_start..a.key_end].cmp(&keys[b.key_start..b.key_end]));
        let body = start + 1;
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.out[body..]);
        self.out.truncate(body);
        let mut first = true;
        for (i, e) in entries.iter().enumerate() {
            let key = &keys[e.key_start..e.key_end];
            if entries
                .get(i + 1)
                .is_some_and(|next| &keys[next.key_start..next.key_end] == key)
            {
                continue;
            }
            if !first {
                self.out.push(b',');
            }
            first = false;
            self.out.extend_from_slice(&self.scratch[e.start - body..e.end - body]);
        }
    }
}

/// Writes a sequence (and tuples, and tuple variants when `close_variant`).
pub(crate) struct SeqWriter<'a, S> {
    c: &'a mut Canonical<S>,
    first: bool,
    close_variant: bool,
}

impl<S: Sink> SeqWriter<'_, S> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        if !self.first {
            self.c.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *self.c)?;
        self.c.maybe_flush();
        Ok(())
    }

    fn close(self) -> Result {
        self.c.out.push(b']');
        if self.close_variant {
            self.c.out.push(b'}');
        }
        Ok(())
    }
}

/// Writes a map or struct (and struct variants when `close_variant`).
pub(crate) struct MapWriter<'a, S> {
    c: &'a mut Canonical<S>,
    start: usize,
    first_entry: usize,
    keys_start: usize,
    sorted: bool,
    key_pending: bool,
    close_variant: bool,
}

impl<S: Sink> MapWriter<'_, S> {
    /// Records the raw key just appended to `keys` at `key_start` and writes `"key":`.
    fn begin_entry(&mut self, key_start: usize) -> Result {
        if self.key_pending {
            return Err(ser::Error::custom("serialize_key called twice without a value"));
        }
        let c = &mut *self.c;
        let key_end = c.keys.len();
        if let Some(prev) = c.entries[self.first_entry..].last() {
            if self.sorted && c.keys[prev.key_start..prev.key_end] >= c.keys[key_start..key_end] {
                self.sorted = false;
            }
            c.out.push(b',');
        }
        let start = c.out.len();
        json::write_str_bytes(&mut c.out, &c.keys[key_start..key_end]);
        c.out.push(b':');
        c.entries.push(Entry {
            key_start,
            key_end,
            start,
            end: start,
        });
        self.key_pending = true;
        Ok(())
    }

    fn value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        if !self.key_pending {
            return Err(ser::Error::custom("serialize_value called before serialize_key"));
        }
        value.serialize(&mut *self.c)?;
        let end = self.c.out.len();
        if let Some(entry) = self.c.entries.last_mut() {
            entry.end = end;
        }
        self.key_pending = false;
        Ok(())
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result {
        let key_start = self.c.keys.len();
        self.c.keys.extend_from_slice(key.as_bytes());
        self.begin_entry(key_start)?;
        self.value(value)
    }

    fn close(self) -> Result {
        if self.key_pending {
            return Err(ser::Error::custom("map ended after a key without a value"));
        }
        let c = self.c;
        if !self.sorted {
            c.reorder(self.start, self.first_entry);
        }
        c.out.push(b'}');
        if self.close_variant {
            c.out.push(b'}');
        }
        c.entries.truncate(self.first_entry);
        c.keys.truncate(self.keys_start);
        c.open_maps -= 1;
        c.maybe_flush();
        Ok(())
    }
}

impl<'a, S: Sink> ser::Serializer for &'a mut Canonical<S> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = SeqWriter<'a, S>;
    type SerializeTuple = SeqWriter<'a, S>;
    type SerializeTupleStruct = SeqWriter<'a, S>;
    type SerializeTupleVariant = SeqWriter<'a, S>;
    type SerializeMap = MapWriter<'a, S>;
    type SerializeStruct = MapWriter<'a, S>;
    type SerializeStructVariant = MapWriter<'a, S>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out.extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result {
        json::write_i64(&mut self.out, v.into())
    }
    fn serialize_i16(self, v: i16) -> Result {
        json::write_i64(&mut self.out, v.into())
    }
    fn serialize_i32(self, v: i32) -> Result {
        json::write_i64(&mut self.out, v.into())
    }
    fn serialize_i64(self, v: i64) -> Result {
        json::write_i64(&mut self.out, v)
    }
    fn serialize_i128(self, v: i128) -> Result {
        if let Ok(u) = u64::try_from(v) {
            json::write_u64(&mut self.out, u)
        } else if let Ok(i) = i64::try_from(v) {
            json::write_i64(&mut self.out, i)
        } else {
            Err(ser::Error::custom("number out of range"))
        }
    }
    fn serialize_u8(self, v: u8) -> Result {
        json::write_u64(&mut self.out, v.into())
    }
    fn serialize_u16(self, v: u16) -> Result {
        json::write_u64(&mut self.out, v.into())
    }
    fn serialize_u32(self, v: u32) -> Result {
        json::write_u64(&mut self.out, v.into())
    }
    fn serialize_u64(self, v: u64) -> Result {
        json::write_u64(&mut self.out, v)
    }
    fn serialize_u128(self, v: u128) -> Result {
        match u64::try_from(v) {
            Ok(u) => json::write_u64(&mut self.out, u),
            Err(_) => Err(ser::Error::custom("number out of range")),
        }
    }
    fn serialize_f32(self, v: f32) -> Result {
        // serde_json::Value stores an f32 as the f64 it widens to.
        json::write_f64(&mut self.out, f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result {
        json::write_f64(&mut self.out, v)
    }
    fn serialize_char(self, v: char) -> Result {
        json::write_str(&mut self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result {
        json::write_str(&mut self.out, v);
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        // serde_json::Value has no bytes: they become an array of numbers.
        self.out.push(b'[');
        for (i, b) in v.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            json::write_u64(&mut self.out, (*b).into())?;
        }
        self.out.push(b']');
        Ok(())
    }
    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_unit()
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
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.open_variant(variant);
        value.serialize(&mut *self)?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        self.out.push(b'[');
        Ok(SeqWriter {
            c: self,
            first: true,
            close_variant: false,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Self::SerializeTupleStruct> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.open_variant(variant);
        self.out.push(b'[');
        Ok(SeqWriter {
            c: self,
            first: true,
            close_variant: true,
        })
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Ok(self.open_map(None))
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Ok(self.open_map(None))
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Ok(self.open_map(Some(variant)))
    }
}

impl<S: Sink> ser::SerializeSeq for SeqWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl<S: Sink> ser::SerializeTuple for SeqWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl<S: Sink> ser::SerializeTupleStruct for SeqWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl<S: Sink> ser::SerializeTupleVariant for SeqWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.element(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl<S: Sink> ser::SerializeMap for MapWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        let key_start = self.c.keys.len();
        key.serialize(KeySerializer::new(&mut self.c.keys))?;
        self.begin_entry(key_start)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        self.value(value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl<S: Sink> ser::SerializeStruct for MapWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    fn end(self) -> Result {
        self.close()
    }
}

impl<S: Sink> ser::SerializeStructVariant for MapWriter<'_, S> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
        self.field(key, value)
    }
    fn end(self) -> Result {
        self.close()
    }
}
