//! Minimal sequences: a [`Replay`] rebuilds a shrunk sequence from its seed (which operations
//! are kept, which simplifications were applied), so a divergence replays with one command line.

use std::fmt;

use serde_json::Value;

use super::generate::generate;
use super::ops::{Edit, KindSet, NameChoice, Op, Precondition, RvChoice};

/// A sequence derived from a seed: the kept operations (indices into the seed's sequence) and
/// simplifications applied in order (`(index, choice)`: the `choice`-th candidate of
/// [`simplifications`] of that operation as it stood).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    /// The seed.
    pub seed: u64,
    /// The kinds the seed's sequence is drawn from.
    pub kinds: KindSet,
    /// Kept operations, ascending.
    pub keep: Vec<usize>,
    /// Simplifications, in the order applied.
    pub simplify: Vec<(usize, usize)>,
}

impl Replay {
    /// The whole sequence of `seed` over `kinds` (`len` operations).
    pub fn new(seed: u64, kinds: KindSet, len: usize) -> Self {
        Self {
            seed,
            kinds,
            keep: (0..len).collect(),
            simplify: Vec::new(),
        }
    }

    /// Parses `--keep 1,2,5` and `--simplify 2:0,5:1` values (empty strings for none).
    ///
    /// # Errors
    /// A value that is not a comma-separated list of numbers (or `i:j` pairs).
    pub fn parse(seed: u64, kinds: KindSet, keep: Option<&str>, simplify: Option<&str>) -> Result<Self, String> {
        let len = generate(seed, kinds).len();
        let keep = match keep {
            None => (0..len).collect(),
            Some(s) => s
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| p.trim().parse::<usize>().map_err(|e| format!("--keep {p}: {e}")))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let simplify = match simplify {
            None => Vec::new(),
            Some(s) => s
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (i, j) = p
                        .split_once(':')
                        .ok_or_else(|| format!("--simplify {p}: expected i:j"))?;
                    let i = i.trim().parse::<usize>().map_err(|e| format!("--simplify {p}: {e}"))?;
                    let j = j.trim().parse::<usize>().map_err(|e| format!("--simplify {p}: {e}"))?;
                    Ok((i, j))
                })
                .collect::<Result<Vec<_>, String>>()?,
        };
        if let Some(bad) = keep.iter().find(|i| **i >= len) {
            return Err(format!("--keep {bad}: seed {seed} has {len} operations"));
        }
        Ok(Self {
            seed,
            kinds,
            keep,
            simplify,
        })
    }

    /// Operation `index` of the seed's sequence with this replay's simplifications applied.
    pub fn op_at(&self, index: usize) -> Op {
        let all = generate(self.seed, self.kinds);
        let Some(mut op) = all.get(index).cloned() else {
            return Op::Watch {
                kind: super::ops::Kind::ConfigMap,
            };
        };
        for (i, choice) in &self.simplify {
            if *i == index
                && let Some(simpler) = simplifications(&op).into_iter().nth(*choice)
            {
                op = simpler;
            }
        }
        op
    }

    /// The sequence this replay describes.
    pub fn ops(&self) -> Vec<Op> {
        self.keep.iter().map(|i| self.op_at(*i)).collect()
    }

    /// The command-line arguments that replay it (`--seed 7 --keep 0,3 --simplify 3:1`, with
    /// `--kinds` when the sequence is not drawn from [`KindSet::CHECKED`]).
    pub fn args(&self) -> String {
        let mut out = format!("--seed {}", self.seed);
        if self.kinds != KindSet::CHECKED {
            out.push_str(&format!(" --kinds {}", self.kinds));
        }
        let full = generate(self.seed, self.kinds).len();
        if self.keep.len() != full {
            let keep: Vec<String> = self.keep.iter().map(ToString::to_string).collect();
            out.push_str(&format!(" --keep {}", keep.join(",")));
        }
        if !self.simplify.is_empty() {
            let s: Vec<String> = self.simplify.iter().map(|(i, j)| format!("{i}:{j}")).collect();
            out.push_str(&format!(" --simplify {}", s.join(",")));
        }
        out
    }
}

impl fmt::Display for Replay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.args())
    }
}

/// Body fields a simplification may drop one at a time: labels, annotations, finalizers, and
/// each key under `spec`, `data`, `stringData` and the top level (never apiVersion, kind,
/// metadata).
fn body_removals(body: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for key in ["labels", "annotations", "finalizers"] {
        if body["metadata"].get(key).is_some() {
            let mut b = body.clone();
            if let Some(m) = b["metadata"].as_object_mut() {
                m.remove(key);
            }
            out.push(b);
        }
    }
    for parent in ["spec", "data", "stringData"] {
        if let Some(map) = body.get(parent).and_then(Value::as_object) {
            for key in map.keys() {
                let mut b = body.clone();
                if let Some(m) = b[parent].as_object_mut() {
                    m.remove(key);
                }
                out.push(b);
            }
        }
    }
    if let Some(map) = body.as_object() {
        for key in map
            .keys()
            .filter(|k| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata"))
        {
            let mut b = body.clone();
            if let Some(m) = b.as_object_mut() {
                m.remove(key);
            }
            out.push(b);
        }
    }
    out
}

/// Simpler variants of an operation, most drastic first; each is tried by the shrinker.
pub fn simplifications(op: &Op) -> Vec<Op> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Op)| {
        let mut o = op.clone();
        f(&mut o);
        if &o != op {
            out.push(o);
        }
    };
    match op {
        Op::Create { body, target, .. } => {
            push(&|o| {
                if let Op::Create { dry_run, .. } = o {
                    *dry_run = false;
                }
            });
            push(&|o| {
                if let Op::Create { owners, .. } = o {
                    owners.clear();
                }
            });
            push(&|o| {
                if let Op::Create { name, .. } = o {
                    *name = NameChoice::Fixed(target.sym.clone());
                }
            });
            for b in body_removals(body) {
                push(&|o| {
                    if let Op::Create { body, .. } = o {
                        *body = b.clone();
                    }
                });
            }
        }
        Op::Apply { body, .. } => {
            push(&|o| {
                if let Op::Apply { force, dry_run, .. } = o {
                    *force = false;
                    *dry_run = false;
                }
            });
            for b in body_removals(body) {
                push(&|o| {
                    if let Op::Apply { body, .. } = o {
                        *body = b.clone();
                    }
                });
            }
        }
        Op::Replace { edits, .. } => {
            push(&|o| {
                if let Op::Replace { dry_run, rv, .. } = o {
                    *dry_run = false;
                    *rv = RvChoice::Current;
                }
            });
            for i in 0..edits.len() {
                if edits.len() > 1 {
                    push(&|o| {
                        if let Op::Replace { edits, .. } = o {
                            edits.remove(i);
                        }
                    });
                }
            }
            if let Some(Edit::SetOwners(_)) = edits.first() {
                push(&|o| {
                    if let Op::Replace { edits, .. } = o {
                        edits[0] = Edit::SetAnnotation("note".into(), "edited".into());
                    }
                });
            }
        }
        Op::MergePatch { .. } => push(&|o| {
            if let Op::MergePatch { rv, dry_run, .. } = o {
                *rv = RvChoice::Omit;
                *dry_run = false;
            }
        }),
        Op::JsonPatch { .. } => push(&|o| {
            if let Op::JsonPatch { dry_run, .. } = o {
                *dry_run = false;
            }
        }),
        Op::Delete { .. } => {
            push(&|o| {
                if let Op::Delete {
                    precondition, dry_run, ..
                } = o
                {
                    *precondition = Precondition::None;
                    *dry_run = false;
                }
            });
            push(&|o| {
                if let Op::Delete { propagation, .. } = o {
                    *propagation = None;
                }
            });
        }
        Op::List { .. } => {
            push(&|o| {
                if let Op::List { limit, .. } = o {
                    *limit = None;
                }
            });
            push(&|o| {
                if let Op::List { labels, fields, .. } = o {
                    *labels = None;
                    *fields = None;
                }
            });
        }
        Op::ReplaceStatus { .. } => push(&|o| {
            if let Op::ReplaceStatus { rv, .. } = o {
                *rv = RvChoice::Current;
            }
        }),
        Op::Get { .. } | Op::Watch { .. } => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_args_round_trip() {
        let seed = 11;
        let len = generate(seed, KindSet::CHECKED).len();
        let mut r = Replay::new(seed, KindSet::CHECKED, len);
        assert_eq!(r.args(), "--seed 11");
        r.keep = vec![0, 2];
        r.simplify = vec![(2, 1)];
        let args = r.args();
        assert_eq!(args, "--seed 11 --keep 0,2 --simplify 2:1");
        let back = Replay::parse(seed, KindSet::CHECKED, Some("0,2"), Some("2:1")).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.ops().len(), 2);
    }

    #[test]
    fn simplifications_change_the_operation() {
        for seed in 0..30 {
            for op in generate(seed, KindSet::ALL) {
                for s in simplifications(&op) {
                    assert_ne!(s, op);
                }
            }
        }
    }
}
