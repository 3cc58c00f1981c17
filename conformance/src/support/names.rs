//! Namespace names derived from behaviour names, so every behaviour runs in its own namespace
//! and all of them can run in parallel against one shared API server.

/// Longest base name; leaves room for a `-<suffix>` of up to 6 characters for extra namespaces
/// while staying within the 63-character DNS label limit.
const MAX_BASE: usize = 56;

/// `prefix-behaviour-name` in kebab case, at most 56 characters. Names that would be longer are
/// cut and end in 6 hex digits of a hash of the full name, so two long behaviour names that
/// share a prefix still get different namespaces.
pub fn namespace_for(prefix: &str, behaviour: &str) -> String {
    let full = format!("{prefix}-{}", behaviour.replace('_', "-").to_ascii_lowercase());
    if full.len() <= MAX_BASE {
        return full;
    }
    let hash = fnv1a(full.as_bytes()) & 0xff_ffff;
    let mut cut = full[..MAX_BASE - 7].trim_end_matches('-').to_owned();
    cut.push_str(&format!("-{hash:06x}"));
    cut
}

/// 64-bit FNV-1a: a tiny stable hash (no need for a cryptographic one here).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// True for a valid DNS-1123 label (what a namespace name must be).
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kebab_case() {
        assert_eq!(
            namespace_for("c", "update_with_stale_rv_conflicts"),
            "c-update-with-stale-rv-conflicts"
        );
    }

    #[test]
    fn long_names_are_cut_with_a_distinguishing_hash() {
        let a = namespace_for("c", "a_very_long_behaviour_name_that_goes_on_and_on_and_on_variant_one");
        let b = namespace_for("c", "a_very_long_behaviour_name_that_goes_on_and_on_and_on_variant_two");
        assert!(a.len() <= MAX_BASE && b.len() <= MAX_BASE);
        assert_ne!(a, b);
        assert!(is_dns_label(&a) && is_dns_label(&format!("{a}-extra")));
    }

    #[test]
    fn dns_label_rules() {
        assert!(is_dns_label("c-x1"));
        assert!(!is_dns_label("C-x"));
        assert!(!is_dns_label("-x"));
        assert!(!is_dns_label(&"x".repeat(64)));
    }
}
