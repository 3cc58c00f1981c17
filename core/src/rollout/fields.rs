//! Typed reads of a workload's spec and status from a dynamic object.

use serde_json::Value;

use super::Readiness;
use crate::model::Object;

/// A field that exists with the wrong JSON type: the object is reported as failed.
pub(super) struct Malformed(String);

impl From<Malformed> for Readiness {
    fn from(m: Malformed) -> Self {
        Readiness::Failed { reason: m.0 }
    }
}

/// Reads fields of one object. Reasons do not name the object: callers put them next to the
/// child they are about ("StatefulSet data: 2 of 3 pods ready").
pub(super) struct Fields<'a> {
    object: &'a Object,
}

impl<'a> Fields<'a> {
    pub(super) fn new(object: &'a Object) -> Self {
        Self { object }
    }

    fn get(&self, path: &[&str]) -> Option<&'a Value> {
        let (first, rest) = path.split_first()?;
        rest.iter().try_fold(self.object.body.get(*first)?, |v, k| v.get(k))
    }

    fn malformed(&self, path: &[&str], expected: &str) -> Malformed {
        Malformed(format!("{} is not {expected}", path.join(".")))
    }

    /// An integer field; absent or null is None.
    pub(super) fn int(&self, path: &[&str]) -> Result<Option<i64>, Malformed> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| self.malformed(path, "an integer")),
        }
    }

    /// A string field; absent or null is None.
    pub(super) fn str(&self, path: &[&str]) -> Result<Option<&'a str>, Malformed> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| self.malformed(path, "a string")),
        }
    }

    /// An array field; absent or null is empty.
    pub(super) fn array(&self, path: &[&str]) -> Result<&'a [Value], Malformed> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(&[]),
            Some(v) => v
                .as_array()
                .map(Vec::as_slice)
                .ok_or_else(|| self.malformed(path, "an array")),
        }
    }

    /// `spec.replicas`, which the API server defaults to 1.
    pub(super) fn desired_replicas(&self) -> Result<i64, Malformed> {
        Ok(self.int(&["spec", "replicas"])?.unwrap_or(1))
    }

    /// Progressing until the workload controller has seen the current spec: until then every
    /// other status field describes an older generation.
    pub(super) fn generation_not_observed(&self) -> Result<Option<Readiness>, Malformed> {
        let observed = self.int(&["status", "observedGeneration"])?;
        let generation = self.object.metadata.generation;
        Ok(match (generation, observed) {
            (_, None) => Some(Readiness::progressing("waiting for the controller to observe it")),
            (Some(generation), Some(observed)) if observed < generation => Some(Readiness::progressing(format!(
                "waiting for the controller to observe generation {generation} (observed {observed})"
            ))),
            _ => None,
        })
    }

    /// Progressing when `have < want`, with "`have` of `want` pods `what`".
    pub(super) fn at_least(&self, have: i64, want: i64, what: &str) -> Option<Readiness> {
        (have < want).then(|| Readiness::progressing(format!("{have} of {want} {what}")))
    }
}
