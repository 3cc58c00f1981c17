//! Children a plan found without drift: [`Verified`].

use sha2::{Digest, Sha256};

use crate::hash::HASH_ANNOTATION;
use crate::model::Object;

/// Fingerprints of children already found without drift, so a reconcile that sees them
/// again unchanged skips the ownership walk.
///
/// Drift ([`super::ownership::drift`]) is a pure function of the desired object and the live
/// one. A live object is pinned by its uid and resourceVersion (the server gives every change
/// a new resourceVersion), and the desired object, as far as drift reads it (labels,
/// annotations, body but `status`), is pinned by its desired hash. So "(uid, resourceVersion,
/// desired hash, field manager) had no drift" stays true: a later plan that meets the same
/// four needs no walk. Without this, every resync walked every child of every parent.
///
/// # Guarantees
/// - Only the ownership path (a live object with the manager's `Apply` entry and an unchanged
///   hash) is remembered; replace mode compares values every time.
/// - A fingerprint is the first 128 bits of SHA-256 over the four values, so two different
///   children (or versions of one) do not share one.
/// - The set is what one plan verified: the driver keeps the last plan's set per parent, so it
///   holds at most one entry per child and forgets deleted ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verified {
    fingerprints: Vec<u128>,
}

impl Verified {
    /// The fingerprint of `live` checked against `desired` for `manager`; None when either
    /// lacks what pins it (uid, resourceVersion, desired hash).
    pub fn fingerprint(desired: &Object, live: &Object, manager: &str) -> Option<u128> {
        let uid = live.metadata.uid.as_deref()?;
        let version = live.metadata.resource_version.as_deref()?;
        let hash = desired.annotation(HASH_ANNOTATION)?;
        let mut sha = Sha256::new();
        // Length-prefixed, so no two tuples write the same bytes.
        for part in [manager, uid, version, hash] {
            sha.update((part.len() as u64).to_le_bytes());
            sha.update(part.as_bytes());
        }
        let digest = sha.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        Some(u128::from_le_bytes(first))
    }

    /// Whether `fingerprint` was verified.
    pub fn contains(&self, fingerprint: u128) -> bool {
        self.fingerprints.contains(&fingerprint)
    }

    /// Records a verified fingerprint.
    pub fn insert(&mut self, fingerprint: u128) {
        if !self.contains(fingerprint) {
            self.fingerprints.push(fingerprint);
        }
    }

    /// How many children are remembered.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}
