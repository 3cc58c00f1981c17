//! Go's `field.Error` constructors with the text `ErrorBody` prints, and apimachinery's string
//! validators (`IsDNS1123Subdomain`, `IsValidPortName`, `IsQualifiedName`, ...) with their
//! messages, for the kinds whose validation is ported by hand (networking, claims).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::validation::Causes;

/// `dns1123LabelFmt`.
const LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
/// `dns1123SubdomainFmt`.
const SUBDOMAIN_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";

/// `field.Required`: the detail follows a colon only when there is one.
pub(crate) fn required(causes: &mut Causes, path: &str, detail: &str) {
    let message = if detail.is_empty() {
        "Required value".to_owned()
    } else {
        format!("Required value: {detail}")
    };
    causes.push("FieldValueRequired", path, message);
}

/// `field.Invalid` of a string value (printed with `%q`).
pub(crate) fn invalid(causes: &mut Causes, path: &str, value: &str, detail: &str) {
    invalid_raw(causes, path, &format!("{value:?}"), detail);
}

/// `field.Invalid` of a value printed as it is (numbers, JSON of structs and slices).
pub(crate) fn invalid_raw(causes: &mut Causes, path: &str, value: &str, detail: &str) {
    causes.push("FieldValueInvalid", path, format!("Invalid value: {value}: {detail}"));
}

/// `field.NotSupported` with its list of supported values.
pub(crate) fn not_supported(causes: &mut Causes, path: &str, value: &str, supported: &[&str]) {
    let quoted: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
    causes.push(
        "FieldValueNotSupported",
        path,
        format!("Unsupported value: {value:?}: supported values: {}", quoted.join(", ")),
    );
}

/// `RegexError`: a message, examples and the regex.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let examples: String = examples
        .iter()
        .map(|e| format!("'{e}', "))
        .collect::<Vec<_>>()
        .join(" or ");
    format!("{msg} (e.g. {examples}regex used for validation is '{fmt}')")
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit.
fn label_shape(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    b.first().is_some_and(edge) && b.last().is_some_and(edge) && b.iter().all(|c| edge(c) || *c == b'-')
}

/// The subdomain regex: dot-separated label shapes.
fn subdomain_shape(s: &str) -> bool {
    s.split('.').all(label_shape)
}

/// `IsDNS1123Subdomain`.
pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if !subdomain_shape(s) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsDNS1123Label` (`NameIsDNSLabel`).
pub(crate) fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !label_shape(s) {
        if subdomain_shape(s) {
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// `IsDNS1035Label` (`NameIsDNS1035Label`): a DNS-1123 label starting with a letter.
pub(crate) fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !label_shape(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            "[a-z]([-a-z0-9]*[a-z0-9])?",
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsWildcardDNS1123Subdomain`: `*.` and a subdomain.
pub(crate) fn wildcard_dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if !s.strip_prefix("*.").is_some_and(subdomain_shape) {
        errs.push(regex_error(
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character",
            &format!("\\*\\.{SUBDOMAIN_FMT}"),
            &["*.example.com"],
        ));
    }
    errs
}

/// `IsValidPortNum`.
pub(crate) fn port_num(port: i64) -> Option<&'static str> {
    (!(1..=65535).contains(&port)).then_some("must be between 1 and 65535, inclusive")
}

/// `IsValidPortName` (an IANA service name).
pub(crate) fn port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push("must be no more than 15 characters".to_owned());
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned());
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

/// `IsPathSegmentName` (a name used in a URL path).
pub(crate) fn path_segment_name(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    ["/", "%"]
        .iter()
        .filter(|bad| name.contains(*bad))
        .map(|bad| format!("may not contain '{bad}'"))
        .collect()
}

/// `labelKeyFmt` without a length limit.
fn label_key_shape(s: &str) -> bool {
    let b = s.as_bytes();
    b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

const LABEL_KEY_MSG: &str =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_KEY_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";

/// `IsQualifiedName` (a label key).
pub(crate) fn qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_owned());
            } else {
                errs.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(LABEL_KEY_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".to_owned());
    }
    if !label_key_shape(name) {
        errs.push(format!(
            "name part {}",
            regex_error(LABEL_KEY_MSG, LABEL_KEY_FMT, &["MyName", "my.name", "123-abc"])
        ));
    }
    errs
}

/// `netutils.ParseIPSloppy`: an IPv4 address may have leading zeros in its octets (read as
/// decimal).
pub(crate) fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    let octets: Vec<&str> = s.split('.').collect();
    if octets.len() != 4 {
        return None;
    }
    let mut out = [0u8; 4];
    for (slot, octet) in out.iter_mut().zip(&octets) {
        if octet.is_empty() || octet.len() > 3 || !octet.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = octet.parse().ok()?;
    }
    Some(IpAddr::V4(Ipv4Addr::from(out)))
}

/// An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`).
fn is_4in6(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some())
}

/// `IsValidIPForLegacyField` with strict validation (`StrictIPCIDRValidation` is on in 1.37):
/// a value in `valid_old` is accepted as it is.
pub(crate) fn legacy_ip(causes: &mut Causes, path: &str, value: &str, valid_old: &[&str]) {
    if valid_old.contains(&value) {
        return;
    }
    if parse_ip_sloppy(value).is_none() {
        invalid(
            causes,
            path,
            value,
            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)",
        );
        return;
    }
    match value.parse::<IpAddr>() {
        Err(_) => invalid(causes, path, value, "must not have leading 0s"),
        Ok(ip) if is_4in6(&ip) => invalid(causes, path, value, "must not be an IPv4-mapped IPv6 address"),
        Ok(_) => {}
    }
}

/// A CIDR as `netutils.ParseCIDRSloppy` reads it: the network address (masked) and the prefix
/// length.
pub(crate) fn parse_cidr_sloppy(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip = parse_ip_sloppy(ip)?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then(|| (mask(ip, len), len))
}

/// The address with the bits past `len` cleared.
fn mask(ip: IpAddr, len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = if len == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(len))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

/// `IsValidCIDRForLegacyField` with strict validation; a value in `valid_old` is accepted as
/// it is. Returns the parsed CIDR when it parses at all.
pub(crate) fn legacy_cidr(causes: &mut Causes, path: &str, value: &str, valid_old: &[&str]) -> Option<(IpAddr, u8)> {
    let parsed = parse_cidr_sloppy(value);
    if valid_old.contains(&value) {
        return parsed;
    }
    let Some((network, _)) = parsed else {
        invalid(
            causes,
            path,
            value,
            "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)",
        );
        return None;
    };
    // netip.ParsePrefix: no leading zeros in the address or the length.
    let strict = value
        .split_once('/')
        .and_then(|(ip, len)| Some((ip.parse::<IpAddr>().ok()?, len)))
        .filter(|(_, len)| *len == "0" || !len.starts_with('0'));
    match strict {
        None => invalid(causes, path, value, "must not have leading 0s in IP or prefix length"),
        Some((ip, _)) if is_4in6(&ip) => {
            invalid(causes, path, value, "must not have an IPv4-mapped IPv6 address");
        }
        Some((ip, _)) if ip != network => {
            invalid(causes, path, value, "must not have bits set beyond the prefix length");
        }
        Some(_) => {}
    }
    parsed
}

/// `IPNet.Contains`: whether `ip` is in the network (same family only).
pub(crate) fn cidr_contains(network: (IpAddr, u8), ip: IpAddr) -> bool {
    match (network.0, ip) {
        (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => mask(ip, network.1) == network.0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ports() {
        assert!(dns1123_subdomain("a.example.com").is_empty());
        assert_eq!(dns1123_subdomain("Bad_Host").len(), 1);
        assert!(wildcard_dns1123_subdomain("*.example.com").is_empty());
        assert!(!wildcard_dns1123_subdomain("*.*.example.com").is_empty());
        assert_eq!(dns1123_label("a.b"), vec!["must not contain dots".to_owned()]);
        assert!(port_name("http").is_empty());
        assert_eq!(port_name("80").len(), 1);
        assert!(port_num(0).is_some() && port_num(80).is_none());
        assert!(qualified_name("example.com/role").is_empty() && !qualified_name("bad key!").is_empty());
        assert_eq!(path_segment_name("a/b"), vec!["may not contain '/'".to_owned()]);
    }

    #[test]
    fn go_error_texts() {
        let mut causes = Causes::default();
        required(&mut causes, "a", "");
        not_supported(&mut causes, "b", "Bogus", &["Ingress", "Egress"]);
        let err = causes.into_result("K", "n").unwrap_err();
        assert_eq!(err.causes()[0].message, "Required value");
        assert_eq!(
            err.causes()[1].message,
            "Unsupported value: \"Bogus\": supported values: \"Ingress\", \"Egress\""
        );
    }

    #[test]
    fn ips_and_cidrs() {
        let check = |value: &str| {
            let mut causes = Causes::default();
            legacy_cidr(&mut causes, "c", value, &[]);
            causes.is_empty()
        };
        assert!(check("10.0.0.0/8") && check("fd00::/8"));
        for bad in [
            "10.0.0.1/8",
            "010.0.0.0/8",
            "10.0.0.0/08",
            "10.0.0.0/33",
            "x",
            "::ffff:10.0.0.0/104",
        ] {
            assert!(!check(bad), "{bad}");
        }
        let net = parse_cidr_sloppy("10.0.0.0/8").unwrap();
        assert!(cidr_contains(net, "10.1.0.0".parse().unwrap()));
        assert!(!cidr_contains(net, "11.0.0.0".parse().unwrap()));
        let mut causes = Causes::default();
        legacy_ip(&mut causes, "ip", "10.0.0.2", &[]);
        legacy_ip(&mut causes, "ip", "010.0.0.2", &["010.0.0.2"]);
        assert!(causes.is_empty());
        legacy_ip(&mut causes, "ip", "010.0.0.2", &[]);
        assert!(!causes.is_empty());
    }
}
