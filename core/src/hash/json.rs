//! Low-level canonical JSON tokens, byte-identical to what serde_json's compact serializer writes.
//!
//! Numbers go through serde_json's own [`CompactFormatter`], so integer and float text can never
//! drift from serde_json's; strings use a copy of serde_json's escape table (pinned by a test
//! against `serde_json::to_string` for every ASCII byte).

use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::{Number, Value};

pub(super) type Result<T = ()> = std::result::Result<T, serde_json::Error>;

const BB: u8 = b'b'; // \x08
const TT: u8 = b't'; // \x09
const NN: u8 = b'n'; // \x0A
const FF: u8 = b'f'; // \x0C
const RR: u8 = b'r'; // \x0D
const QU: u8 = b'"'; // \x22
const BS: u8 = b'\\'; // \x5C
const UU: u8 = b'u'; // other control characters, written as \u00XX
const __: u8 = 0;

/// For each byte: 0 when it is written as is, otherwise the character after the backslash.
static ESCAPE: [u8; 256] = {
    let mut table = [__; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = UU;
        i += 1;
    }
    table[0x08] = BB;
    table[0x09] = TT;
    table[0x0A] = NN;
    table[0x0C] = FF;
    table[0x0D] = RR;
    table[0x22] = QU;
    table[0x5C] = BS;
    table
};

static HEX_DIGITS: [u8; 16] = *b"0123456789abcdef";

/// Writes `s` (the bytes of a valid UTF-8 string) as a quoted JSON string.
///
/// Escapes only concern ASCII bytes, so working on bytes keeps multi-byte characters intact.
pub(super) fn write_str_bytes(out: &mut Vec<u8>, s: &[u8]) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &byte) in s.iter().enumerate() {
        let escape = ESCAPE[byte as usize];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&s[start..i]);
        if escape == UU {
            out.extend_from_slice(b"\\u00");
            out.push(HEX_DIGITS[(byte >> 4) as usize]);
            out.push(HEX_DIGITS[(byte & 0xF) as usize]);
        } else {
            out.push(b'\\');
            out.push(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}

/// Writes a quoted JSON string.
pub(super) fn write_str(out: &mut Vec<u8>, s: &str) {
    write_str_bytes(out, s.as_bytes());
}

/// Writes an unsigned integer.
pub(super) fn write_u64(out: &mut Vec<u8>, v: u64) -> Result {
    CompactFormatter.write_u64(out, v).map_err(serde_json::Error::io)
}

/// Writes a signed integer.
pub(super) fn write_i64(out: &mut Vec<u8>, v: i64) -> Result {
    CompactFormatter.write_i64(out, v).map_err(serde_json::Error::io)
}

/// Writes a float the way a `serde_json::Value` holds it: non-finite floats become `null`
/// (`serde_json::to_value` maps them to `Value::Null`).
pub(super) fn write_f64(out: &mut Vec<u8>, v: f64) -> Result {
    if v.is_finite() {
        CompactFormatter.write_f64(out, v).map_err(serde_json::Error::io)
    } else {
        out.extend_from_slice(b"null");
        Ok(())
    }
}

/// Writes a `serde_json::Number`.
pub(super) fn write_number(out: &mut Vec<u8>, n: &Number) -> Result {
    if let Some(u) = n.as_u64() {
        write_u64(out, u)
    } else if let Some(i) = n.as_i64() {
        write_i64(out, i)
    } else {
        // Without `arbitrary_precision` every other Number is a finite f64.
        write_f64(out, n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Writes a JSON value in canonical form straight from the tree, without serde's indirection.
pub(super) fn write_value(out: &mut Vec<u8>, value: &Value) -> Result {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // serde_json's Map is a BTreeMap, already in key order; with the `preserve_order`
            // feature (which any crate in a build can switch on) it keeps insertion order.
            let sorted = map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b);
            if sorted {
                write_entries(out, map.iter())?;
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                write_entries(out, entries.into_iter())?;
            }
        }
    }
    Ok(())
}

fn write_entries<'a>(out: &mut Vec<u8>, entries: impl Iterator<Item = (&'a String, &'a Value)>) -> Result {
    out.push(b'{');
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v)?;
    }
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ascii_byte_is_escaped_like_serde_json() {
        for b in 0u8..0x80 {
            let s = String::from(b as char);
            let mut ours = Vec::new();
            write_str(&mut ours, &s);
            assert_eq!(ours, serde_json::to_vec(&s).unwrap(), "byte {b:#04x}");
        }
    }

    #[test]
    fn multi_byte_text_is_kept_and_mixed_escapes_are_right() {
        let s = "h\u{e9}\"llo\n\u{1F600}\\\u{7}\u{2028}end";
        let mut ours = Vec::new();
        write_str(&mut ours, s);
        assert_eq!(ours, serde_json::to_vec(s).unwrap());
    }

    #[test]
    fn numbers_match_serde_json() {
        for n in [
            Number::from(0u64),
            Number::from(u64::MAX),
            Number::from(i64::MIN),
            Number::from(-1i64),
        ] {
            let mut ours = Vec::new();
            write_number(&mut ours, &n).unwrap();
            assert_eq!(ours, serde_json::to_vec(&n).unwrap());
        }
        for f in [0.0, -0.0, 1.0, 0.1, 1e300, -2.5e-308, f64::MAX, f64::MIN_POSITIVE] {
            let mut ours = Vec::new();
            write_f64(&mut ours, f).unwrap();
            assert_eq!(ours, serde_json::to_vec(&f).unwrap(), "{f}");
        }
        let mut nan = Vec::new();
        write_f64(&mut nan, f64::NAN).unwrap();
        assert_eq!(nan, b"null");
    }
}
