//! Children a plan found without drift: [`Verified`].

use std::collections::{HashMap, HashSet};

use foldhash::fast::FixedState;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::hash::HASH_ANNOTATION;
use crate::model::Object;

/// Fingerprints of children already found without drift, so a reconcile that sees them
/// again unchanged skips the ownership walk.
///
/// Drift ([`super::ownership::drift`]) reads two things only: the desired object, as far as
/// its desired hash pins it (labels, annotations, body but `status`), and the field set of the
/// manager's `Apply` entry in the live object (the live values are only quoted in a report).
/// Each child is remembered by two fingerprints:
/// - its **version**: (uid, resourceVersion, desired hash, field manager). The server gives
///   every change a new resourceVersion, so a child met again at the same four needs nothing
///   read at all;
/// - its **entry**: (field manager, desired hash, the entry's `fieldsV1` text), for a live
///   object that keeps the entry as text (the memory backend, and the cache for every
///   backend). A new version whose entry is the same text (a status update, a field of
///   another manager) has the same drift, none, so it is not walked either.
///
/// A child this runtime's own server-side apply has just written is remembered at the version
/// the write returned, without a walk: a forced apply leaves the manager owning every field it
/// applied, so a walk of that version could only find what the server itself did to the
/// write (a normalization, a default), which is not drift. Someone else's change gives the
/// child a new version, whose entry then differs if it took a field of ours.
///
/// # Guarantees
/// - Only the ownership path (a live object with the manager's `Apply` entry and an unchanged
///   hash) is remembered; replace mode compares values every time.
/// - A fingerprint is the first 128 bits of SHA-256 over length-prefixed parts, tagged by
///   kind, so two different children (or versions of one) do not share one.
/// - The set is what one plan verified (and what its writes wrote): the driver keeps the last
///   plan's set per parent, so it holds at most one entry per child and forgets deleted ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verified {
    /// Version fingerprint -> its entry fingerprint, when the entry is text. Maps, not lists:
    /// a plan looks each of a parent's children up, so a scan would be quadratic in them.
    versions: HashMap<u128, Option<u128>, FixedState>,
    /// Every entry fingerprint in `versions`.
    entries: HashSet<u128, FixedState>,
}

/// SHA-256 of the length-prefixed parts, first 128 bits.
fn digest<'a>(parts: impl IntoIterator<Item = &'a str>) -> u128 {
    let mut sha = Sha256::new();
    // The parts are gathered on the stack and fed to the digest at once: fed one by one, the
    // digest's own buffering of many small pieces cost more than the hashing (a version
    // fingerprint is about 150 bytes).
    let mut buf = [0u8; 256];
    let mut len = 0;
    for part in parts {
        // Length-prefixed, so no two tuples write the same bytes.
        for piece in [&(part.len() as u64).to_le_bytes()[..], part.as_bytes()] {
            if len + piece.len() > buf.len() {
                sha.update(&buf[..len]);
                len = 0;
            }
            match buf.get_mut(len..len + piece.len()) {
                Some(slot) => {
                    slot.copy_from_slice(piece);
                    len += piece.len();
                }
                None => sha.update(piece),
            }
        }
    }
    sha.update(&buf[..len]);
    let digest = sha.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    u128::from_le_bytes(first)
}

impl Verified {
    /// The version fingerprint of `live` checked against `desired` for `manager`; None when
    /// either lacks what pins it (uid, resourceVersion, desired hash).
    pub fn fingerprint(desired: &Object, live: &Object, manager: &str) -> Option<u128> {
        let uid = live.metadata.uid.as_deref()?;
        let version = live.metadata.resource_version.as_deref()?;
        let hash = desired.annotation(HASH_ANNOTATION)?;
        Some(digest([manager, uid, version, hash]))
    }

    /// The entry fingerprint of `live` checked against `desired` for `manager`: None when
    /// `desired` has no hash or `live` has no `Apply` entry of `manager` kept as JSON text.
    pub fn entry_fingerprint(desired: &Object, live: &Object, manager: &str) -> Option<u128> {
        let hash = desired.annotation(HASH_ANNOTATION)?;
        match super::ownership::apply_fields(live, manager)? {
            Value::String(text) => Some(digest(["fieldsV1", manager, hash, text])),
            _ => None,
        }
    }

    /// Whether the version `fingerprint` was verified.
    pub fn contains(&self, fingerprint: u128) -> bool {
        self.versions.contains_key(&fingerprint)
    }

    /// Whether a child with the entry fingerprint `entry` was verified (at any version).
    pub fn contains_entry(&self, entry: u128) -> bool {
        self.entries.contains(&entry)
    }

    /// The entry fingerprint remembered with the version `fingerprint`, if that version was
    /// verified (`Some(None)` when its entry is not text).
    pub fn entry_of(&self, fingerprint: u128) -> Option<Option<u128>> {
        self.versions.get(&fingerprint).copied()
    }

    /// Records a verified version fingerprint.
    pub fn insert(&mut self, fingerprint: u128) {
        self.insert_with_entry(fingerprint, None);
    }

    /// Records a verified version fingerprint with its entry fingerprint.
    pub fn insert_with_entry(&mut self, fingerprint: u128, entry: Option<u128>) {
        let known = self.versions.entry(fingerprint).or_default();
        if known.is_none()
            && let Some(entry) = entry
        {
            *known = Some(entry);
            self.entries.insert(entry);
        }
    }

    /// Records `live`, the version of `desired` that `manager`'s own apply just wrote (see the
    /// type's docs for why it needs no walk). Nothing when it lacks what pins it.
    pub fn record_written(&mut self, desired: &Object, live: &Object, manager: &str) {
        if let Some(fingerprint) = Self::fingerprint(desired, live, manager) {
            self.insert_with_entry(fingerprint, Self::entry_fingerprint(desired, live, manager));
        }
    }

    /// Adds what `other` remembers.
    pub fn extend(&mut self, other: &Verified) {
        for (&version, &entry) in &other.versions {
            self.insert_with_entry(version, entry);
        }
    }

    /// How many children are remembered.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The definition: each length and part fed to the digest in turn.
    fn one_by_one(parts: &[String]) -> u128 {
        let mut sha = Sha256::new();
        for part in parts {
            sha.update((part.len() as u64).to_le_bytes());
            sha.update(part.as_bytes());
        }
        let mut first = [0u8; 16];
        first.copy_from_slice(&sha.finalize()[..16]);
        u128::from_le_bytes(first)
    }

    proptest! {
        #[test]
        fn the_gathered_digest_hashes_the_same_bytes(parts in proptest::collection::vec("[a-z]{0,300}", 0..6)) {
            prop_assert_eq!(digest(parts.iter().map(String::as_str)), one_by_one(&parts));
        }
    }

    #[test]
    fn parts_at_and_past_the_buffer_hash_the_same_bytes() {
        for sizes in [[248, 0], [240, 8], [256, 1], [1000, 3], [247, 300]] {
            let parts: Vec<String> = sizes.iter().map(|n| "x".repeat(*n)).collect();
            assert_eq!(
                digest(parts.iter().map(String::as_str)),
                one_by_one(&parts),
                "{sizes:?}"
            );
        }
    }
}
