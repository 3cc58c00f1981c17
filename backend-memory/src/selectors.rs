//! Label and field selectors, parsed once per request and matched without allocation.
//!
//! Label selectors are parsed by core's [`operator_runtime_core::selector`] (the syntax of
//! `k8s.io/apimachinery/pkg/labels.Parse`); a parse error is a 400.
//! Field selectors take `=`, `==` and `!=` on the labels the kind accepts (its strategy's
//! [`FieldLabels`]: `metadata.name` and `metadata.namespace` by default); any other label is
//! a 400 worded as the server words it.

use operator_runtime_core::selector::Selector as CoreSelector;
use operator_runtime_core::{Object, StoreError};

use crate::strategy::{FieldLabels, field_value};

/// A parsed label selector (core's [`CoreSelector`], the one parser of the project); the empty
/// selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LabelSelector(CoreSelector);

impl LabelSelector {
    /// Parses a selector string; malformed input is a BadRequest.
    pub fn parse(selector: &str) -> Result<Self, StoreError> {
        CoreSelector::parse(selector)
            .map(Self)
            .map_err(|e| StoreError::bad_request(format!("unable to parse requirement: {e} (in '{selector}')")))
    }

    /// Whether a label set satisfies every requirement.
    pub fn matches(&self, labels: Option<&std::collections::BTreeMap<String, String>>) -> bool {
        self.0.matches_labels(labels)
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
    use std::collections::BTreeMap;

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
