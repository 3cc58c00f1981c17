//! Label and field selectors, parsed once per request and matched without allocation.
//!
//! Label selectors follow `k8s.io/apimachinery/pkg/labels.Parse`: comma-separated
//! requirements `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>n`, `k<n`;
//! keys must be qualified names and values label values, otherwise the request is a 400.
//! Field selectors take `=`, `==` and `!=` on the labels the kind accepts (its strategy's
//! [`FieldLabels`]: `metadata.name` and `metadata.namespace` by default); any other label is
//! a 400 worded as the server words it.

use std::collections::BTreeMap;

use operator_runtime_core::{Object, StoreError};

use crate::strategy::{FieldLabels, field_value};
use crate::validation::{is_label_value, is_qualified_name};

/// One label requirement.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
    GreaterThan(String, i64),
    LessThan(String, i64),
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector {
    requirements: Vec<Requirement>,
}

fn bad(selector: &str, why: &str) -> StoreError {
    StoreError::bad_request(format!("unable to parse requirement: found '{selector}', {why}"))
}

/// Splits on commas that are not inside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

fn check_key(key: &str, whole: &str) -> Result<String, StoreError> {
    if is_qualified_name(key) {
        Ok(key.to_owned())
    } else {
        Err(bad(whole, &format!("invalid label key \"{key}\"")))
    }
}

fn check_value(value: &str, whole: &str) -> Result<String, StoreError> {
    if is_label_value(value) {
        Ok(value.to_owned())
    } else {
        Err(bad(whole, &format!("invalid label value: \"{value}\"")))
    }
}

fn parse_set(rest: &str, whole: &str) -> Result<Vec<String>, StoreError> {
    let rest = rest.trim();
    let inner = rest
        .strip_prefix('(')
        .and_then(|r| r.strip_suffix(')'))
        .ok_or_else(|| bad(whole, "expected a parenthesised set of values"))?;
    let values = inner
        .split(',')
        .map(|v| check_value(v.trim(), whole))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(values)
}

fn parse_requirement(raw: &str) -> Result<Requirement, StoreError> {
    let r = raw.trim();
    if r.is_empty() {
        return Err(bad(raw, "expected a requirement"));
    }
    if let Some(key) = r.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(check_key(key.trim(), raw)?));
    }
    for (op, ctor) in [
        ("!=", Requirement::NotEquals as fn(String, String) -> Requirement),
        ("==", Requirement::Equals),
        ("=", Requirement::Equals),
    ] {
        if let Some((k, v)) = r.split_once(op) {
            return Ok(ctor(check_key(k.trim(), raw)?, check_value(v.trim(), raw)?));
        }
    }
    for (op, greater) in [(">", true), ("<", false)] {
        if let Some((k, v)) = r.split_once(op) {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| bad(raw, "for 'gt', 'lt' operators, the value must be an integer"))?;
            let key = check_key(k.trim(), raw)?;
            return Ok(if greater {
                Requirement::GreaterThan(key, n)
            } else {
                Requirement::LessThan(key, n)
            });
        }
    }
    let mut words = r.splitn(2, char::is_whitespace);
    let key = words.next().unwrap_or_default();
    let rest = words.next().unwrap_or_default().trim_start();
    if rest.is_empty() {
        return Ok(Requirement::Exists(check_key(key, raw)?));
    }
    if let Some(set) = rest.strip_prefix("notin") {
        return Ok(Requirement::NotIn(check_key(key, raw)?, parse_set(set, raw)?));
    }
    if let Some(set) = rest.strip_prefix("in") {
        return Ok(Requirement::In(check_key(key, raw)?, parse_set(set, raw)?));
    }
    Err(bad(raw, "expected one of '=', '==', '!=', 'in', 'notin'"))
}

impl LabelSelector {
    /// Parses a selector string; malformed input is a BadRequest.
    pub fn parse(selector: &str) -> Result<Self, StoreError> {
        if selector.trim().is_empty() {
            return Ok(Self::default());
        }
        let requirements = split_top_level(selector)
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { requirements })
    }

    /// Whether a label set satisfies every requirement.
    pub fn matches(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        let get = |k: &str| labels.and_then(|l| l.get(k)).map(String::as_str);
        self.requirements.iter().all(|req| match req {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
            Requirement::GreaterThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x > *n),
            Requirement::LessThan(k, n) => get(k).and_then(|x| x.parse::<i64>().ok()).is_some_and(|x| x < *n),
        })
    }
}

/// A parsed field selector: (label, equality, value) terms, every one must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FieldSelector {
    requirements: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses a field selector against the labels the kind accepts; unknown labels and
    /// malformed terms are a BadRequest.
    pub fn parse(selector: &str, accepted: &FieldLabels) -> Result<Self, StoreError> {
        let mut requirements = Vec::new();
        if selector.trim().is_empty() {
            return Ok(Self { requirements });
        }
        for term in selector.split(',') {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(StoreError::bad_request(format!(
                    "invalid selector: '{selector}'; can't understand '{term}'"
                )));
            };
            let field = field.trim();
            accepted.check(field)?;
            requirements.push((field.to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self { requirements })
    }

    /// Whether an object satisfies every requirement.
    pub fn matches(&self, object: &Object) -> bool {
        self.requirements
            .iter()
            .all(|(field, equal, value)| (field_value(object, field) == value.as_str()) == *equal)
    }
}

/// A label and a field selector together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Selector {
    labels: LabelSelector,
    fields: FieldSelector,
}

impl Selector {
    /// Parses both selectors of a request.
    pub fn parse(labels: Option<&str>, fields: Option<&str>, accepted: &FieldLabels) -> Result<Self, StoreError> {
        Ok(Self {
            labels: LabelSelector::parse(labels.unwrap_or(""))?,
            fields: FieldSelector::parse(fields.unwrap_or(""), accepted)?,
        })
    }

    /// Whether an object is selected.
    pub fn matches(&self, object: &Object) -> bool {
        self.labels.matches(object.metadata.labels.as_ref()) && self.fields.matches(object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn equality_and_set_based_requirements() {
        let l = labels(&[("a", "b"), ("tier", "web"), ("n", "5")]);
        let m = |s: &str| LabelSelector::parse(s).unwrap().matches(Some(&l));
        assert!(m("a=b") && m("a==b") && !m("a!=b") && m("a!=c"));
        assert!(m("tier in (web, db)") && !m("tier notin (web)") && m("x notin (y)"));
        assert!(m("a") && !m("!a") && m("!missing") && !m("missing"));
        assert!(m("a=b,tier in (web),!missing") && !m("a=b,tier=db"));
        assert!(m("n>4") && !m("n<5"));
        assert!(m("") && LabelSelector::parse("").unwrap().matches(None));
        assert!(!LabelSelector::parse("a in (b)").unwrap().matches(None));
    }

    #[test]
    fn malformed_label_selectors_are_bad_requests() {
        for s in [
            "a=b=c=",
            "a in b",
            "=b",
            "a in (b",
            "a=-bad-",
            "a b c",
            ",",
            "bad key=v",
            "a>x",
        ] {
            let err = LabelSelector::parse(s).unwrap_err();
            assert!(matches!(err, StoreError::BadRequest { .. }), "{s}: {err:?}");
        }
    }

    #[test]
    fn field_selectors_support_name_and_namespace_only() {
        let obj = Object::new(&operator_runtime_core::TypeRef::new("v1", "ConfigMap"), Some("ns"), "x");
        let m = |s: &str| FieldSelector::parse(s, &FieldLabels::Default).unwrap().matches(&obj);
        assert!(m("metadata.name=x") && m("metadata.name==x") && !m("metadata.name!=x"));
        assert!(m("metadata.namespace=ns,metadata.name!=y"));
        let err = FieldSelector::parse("spec.x=1", &FieldLabels::Default).unwrap_err();
        assert!(
            matches!(err, StoreError::BadRequest { ref message } if message.contains("is not a known field selector"))
        );
        assert!(FieldSelector::parse("metadata.name", &FieldLabels::Default).is_err());
    }
}
