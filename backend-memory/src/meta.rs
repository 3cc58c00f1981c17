//! Server-set metadata: uids, timestamps and generated names, all from the injected clock and
//! the seeded RNG so that a run is reproducible byte for byte.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use operator_runtime_core::clock::{Clock, Timestamp};
use operator_runtime_core::model::ObjectMeta;
use rand::RngCore;
use rand_chacha::ChaCha8Rng;

/// The alphabet of `names.SimpleNameGenerator` (no vowels, no confusable characters).
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// Length of the random suffix appended to `generateName`.
pub(crate) const GENERATED_SUFFIX_LEN: usize = 5;
/// Longest prefix kept from `generateName` (63 - 5, as the real generator).
const MAX_GENERATED_PREFIX: usize = 58;

/// A random (version 4) UUID drawn from the seeded RNG.
pub(crate) fn new_uid(rng: &mut ChaCha8Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut uid = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            uid.push('-');
        }
        uid.push(char::from(HEX[usize::from(byte >> 4)]));
        uid.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    uid
}

/// `prefix` + five random characters, as `SimpleNameGenerator.GenerateName`.
pub(crate) fn generate_name(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    let mut cut = prefix.len().min(MAX_GENERATED_PREFIX);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut name = String::with_capacity(cut + GENERATED_SUFFIX_LEN);
    name.push_str(&prefix[..cut]);
    for _ in 0..GENERATED_SUFFIX_LEN {
        let i = (rng.next_u32() as usize) % NAME_ALPHABET.len();
        name.push(char::from(NAME_ALPHABET[i]));
    }
    name
}

/// "Now" truncated to whole seconds: `metav1.Time` serialises seconds only, so a stored
/// timestamp must read back byte-identical.
pub(crate) fn now_seconds(clock: &dyn Clock) -> Time {
    let now = clock.now();
    Time(Timestamp::from_second(now.as_second()).unwrap_or(now))
}

/// Copies the fields a client can never change on update from the stored metadata
/// (`rest.BeforeUpdate`): uid (when empty), creationTimestamp, deletionTimestamp,
/// deletionGracePeriodSeconds, generation, and managedFields when the body carries none.
pub(crate) fn keep_system_fields(new: &mut ObjectMeta, old: &ObjectMeta) {
    new.uid.clone_from(&old.uid);
    new.creation_timestamp.clone_from(&old.creation_timestamp);
    new.deletion_timestamp.clone_from(&old.deletion_timestamp);
    new.deletion_grace_period_seconds = old.deletion_grace_period_seconds;
    new.generation = old.generation;
    new.self_link = None;
    if new.managed_fields.is_none() {
        new.managed_fields.clone_from(&old.managed_fields);
    } else if new
        .managed_fields
        .as_ref()
        .is_some_and(|m| m.len() == 1 && m[0] == Default::default())
    {
        // `managedFields: [{}]` is the documented way to clear them.
        new.managed_fields = None;
    }
    // generateName only matters on create; keep what was stored.
    new.generate_name.clone_from(&old.generate_name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uids_are_uuid_shaped_and_seeded() {
        let mut a = ChaCha8Rng::seed_from_u64(7);
        let mut b = ChaCha8Rng::seed_from_u64(7);
        let u = new_uid(&mut a);
        assert_eq!(u, new_uid(&mut b));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uid(&mut a));
    }

    #[test]
    fn generated_names_have_five_char_suffix() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let n = generate_name(&mut rng, "x-");
        assert_eq!(n.len(), 7);
        assert!(n.starts_with("x-") && n[2..].bytes().all(|c| NAME_ALPHABET.contains(&c)));
        assert_eq!(generate_name(&mut rng, &"p".repeat(70)).len(), 63);
    }

    #[test]
    fn timestamps_are_truncated_to_seconds() {
        let clock = operator_runtime_core::clock::ManualClock::at_epoch();
        clock.advance(std::time::Duration::from_millis(1500));
        let t = now_seconds(&clock);
        assert_eq!(t.0.subsec_nanosecond(), 0);
        assert_eq!(t.0.as_second(), 1_767_225_601);
    }
}
