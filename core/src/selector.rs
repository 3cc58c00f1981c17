//! Label selectors: parse the API server's string syntax and match label maps, in memory.
//!
//! The syntax and semantics follow apimachinery's `labels.Parse` and `Requirement.Matches`:
//! requirements are separated by commas and all must hold (AND).
//!
//! | syntax | matches when |
//! |---|---|
//! | `k=v`, `k==v` | label `k` is present with value `v` |
//! | `k!=v` | label `k` is absent, or its value is not `v` |
//! | `k in (a,b)` | label `k` is present with value `a` or `b` |
//! | `k notin (a,b)` | label `k` is absent, or its value is neither `a` nor `b` |
//! | `k` | label `k` is present |
//! | `!k` | label `k` is absent |
//! | `k>3`, `k<3` | label `k` is present and its value is an integer greater (less) than 3 |
//!
//! The empty string is the empty selector, which matches everything. Bad input is a typed
//! [`SelectorError`], never a panic.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Why a selector could not be parsed or converted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The input had something other than what the grammar allows at this point.
    #[error("unexpected {found} at byte {position}, expected {expected}")]
    Unexpected {
        /// Byte offset in the input.
        position: usize,
        /// What was found (a token, or "end of input").
        found: String,
        /// What the grammar allows here.
        expected: &'static str,
    },
    /// A key is not a qualified name (`[prefix/]name`).
    #[error("invalid label key {key:?}: {reason}")]
    InvalidKey {
        /// The key.
        key: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// A value is not a valid label value.
    #[error("invalid label value {value:?} for key {key:?}: {reason}")]
    InvalidValue {
        /// The key the value belongs to.
        key: String,
        /// The value.
        value: String,
        /// Why it is invalid.
        reason: &'static str,
    },
    /// `in` / `notin` with an empty value set.
    #[error("the value set of {key:?} can't be empty for 'in' and 'notin'")]
    EmptySet {
        /// The key.
        key: String,
    },
    /// `>` / `<` with a value that is not a base-10 integer.
    #[error("value {value:?} of key {key:?} must be an integer for '>' and '<'")]
    NotAnInteger {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// A `LabelSelector` match expression has an operator other than In, NotIn, Exists, DoesNotExist.
    #[error("unknown match expression operator {operator:?} for key {key:?}")]
    UnknownOperator {
        /// The key.
        key: String,
        /// The operator.
        operator: String,
    },
    /// A `LabelSelector` Exists / DoesNotExist expression carries values.
    #[error("values must be empty for 'Exists' and 'DoesNotExist' (key {key:?})")]
    UnexpectedValues {
        /// The key.
        key: String,
    },
}

/// The operator of one [`Requirement`] and its operand.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `k=v` / `k==v`.
    Equals(String),
    /// `k!=v`.
    NotEquals(String),
    /// `k in (..)`; never empty.
    In(BTreeSet<String>),
    /// `k notin (..)`; never empty.
    NotIn(BTreeSet<String>),
    /// `k`.
    Exists,
    /// `!k`.
    DoesNotExist,
    /// `k>n`.
    GreaterThan(i64),
    /// `k<n`.
    LessThan(i64),
}

/// One `key operator operand` term of a selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
}

impl Requirement {
    /// A requirement; the key and values are validated as the API server validates them.
    pub fn new(key: impl Into<String>, operator: Operator) -> Result<Self, SelectorError> {
        let key = key.into();
        validate_key(&key)?;
        match &operator {
            Operator::Equals(v) | Operator::NotEquals(v) => validate_value(&key, v)?,
            Operator::In(set) | Operator::NotIn(set) => {
                if set.is_empty() {
                    return Err(SelectorError::EmptySet { key });
                }
                for v in set {
                    validate_value(&key, v)?;
                }
            }
            Operator::Exists | Operator::DoesNotExist | Operator::GreaterThan(_) | Operator::LessThan(_) => {}
        }
        Ok(Self { key, operator })
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator and operand.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// Whether a label map satisfies this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match (&self.operator, value) {
            (Operator::Exists, v) => v.is_some(),
            (Operator::DoesNotExist, v) => v.is_none(),
            (Operator::Equals(want), Some(v)) => v == want,
            (Operator::In(set), Some(v)) => set.contains(v),
            (Operator::NotEquals(want), Some(v)) => v != want,
            (Operator::NotIn(set), Some(v)) => !set.contains(v),
            (Operator::NotEquals(_) | Operator::NotIn(_), None) => true,
            (Operator::GreaterThan(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x > *n),
            (Operator::LessThan(n), Some(v)) => v.parse::<i64>().is_ok_and(|x| x < *n),
            (Operator::Equals(_) | Operator::In(_) | Operator::GreaterThan(_) | Operator::LessThan(_), None) => false,
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |set: &BTreeSet<String>| set.iter().map(String::as_str).collect::<Vec<_>>().join(",");
        match &self.operator {
            Operator::Equals(v) => write!(f, "{}={v}", self.key),
            Operator::NotEquals(v) => write!(f, "{}!={v}", self.key),
            Operator::In(set) => write!(f, "{} in ({})", self.key, join(set)),
            Operator::NotIn(set) => write!(f, "{} notin ({})", self.key, join(set)),
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::GreaterThan(n) => write!(f, "{}>{n}", self.key),
            Operator::LessThan(n) => write!(f, "{}<{n}", self.key),
        }
    }
}

/// A parsed label selector: every requirement must hold. The default (empty) selector matches
/// everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses the API server's string syntax (`a=b,c!=d,e in (x,y),!f`).
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        Parser::new(input).parse()
    }

    /// A selector from requirements; they are kept sorted by key, as the API server prints them.
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Self { requirements }
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True when the selector has no requirement and so matches everything.
    pub fn matches_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a label map satisfies every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether an object's labels (None when it has none) satisfy every requirement.
    pub fn matches_labels(&self, labels: Option<&BTreeMap<String, String>>) -> bool {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.matches(labels.unwrap_or(&EMPTY))
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&LabelSelector> for Selector {
    type Error = SelectorError;

    /// Converts a `metav1.LabelSelector` (matchLabels and matchExpressions) as
    /// `LabelSelectorAsSelector` does. An empty LabelSelector matches everything.
    fn try_from(ls: &LabelSelector) -> Result<Self, Self::Error> {
        let mut requirements = Vec::new();
        for (k, v) in ls.match_labels.iter().flatten() {
            requirements.push(Requirement::new(k.clone(), Operator::Equals(v.clone()))?);
        }
        for expr in ls.match_expressions.iter().flatten() {
            let values: BTreeSet<String> = expr.values.iter().flatten().cloned().collect();
            let operator = match expr.operator.as_str() {
                "In" => Operator::In(values),
                "NotIn" => Operator::NotIn(values),
                "Exists" | "DoesNotExist" if !values.is_empty() => {
                    return Err(SelectorError::UnexpectedValues { key: expr.key.clone() });
                }
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => {
                    return Err(SelectorError::UnknownOperator {
                        key: expr.key.clone(),
                        operator: other.to_owned(),
                    });
                }
            };
            requirements.push(Requirement::new(expr.key.clone(), operator)?);
        }
        Ok(Self::from_requirements(requirements))
    }
}

/// Checks a label key: a qualified name ([`crate::validation::qualified_name_error`]).
fn validate_key(key: &str) -> Result<(), SelectorError> {
    match crate::validation::qualified_name_error(key) {
        None => Ok(()),
        Some(reason) => Err(SelectorError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
    }
}

/// Checks a label value ([`crate::validation::label_value_error`]).
fn validate_value(key: &str, value: &str) -> Result<(), SelectorError> {
    match crate::validation::label_value_error(value) {
        None => Ok(()),
        Some(reason) => Err(SelectorError::InvalidValue {
            key: key.to_owned(),
            value: value.to_owned(),
            reason,
        }),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token<'a> {
    Ident(&'a str),
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Bang,
    Open,
    Close,
    Comma,
    Greater,
    Less,
    End,
}

impl Token<'_> {
    fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("{s:?}"),
            Token::In => "'in'".into(),
            Token::NotIn => "'notin'".into(),
            Token::Equals => "'='".into(),
            Token::DoubleEquals => "'=='".into(),
            Token::NotEquals => "'!='".into(),
            Token::Bang => "'!'".into(),
            Token::Open => "'('".into(),
            Token::Close => "')'".into(),
            Token::Comma => "','".into(),
            Token::Greater => "'>'".into(),
            Token::Less => "'<'".into(),
            Token::End => "end of input".into(),
        }
    }
}

/// Recursive-descent parser over a one-token lookahead lexer.
struct Parser<'a> {
    input: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Self { input, pos: 0 }
    }

    /// Returns the next token and its start offset without consuming it.
    fn peek(&self) -> (Token<'a>, usize, usize) {
        let rest = &self.input[self.pos..];
        let skipped = rest.len() - rest.trim_start().len();
        let start = self.pos + skipped;
        let rest = &self.input[start..];
        let two = rest.get(..2);
        let (token, len) = match rest.chars().next() {
            None => (Token::End, 0),
            Some('!') if two == Some("!=") => (Token::NotEquals, 2),
            Some('!') => (Token::Bang, 1),
            Some('=') if two == Some("==") => (Token::DoubleEquals, 2),
            Some('=') => (Token::Equals, 1),
            Some('(') => (Token::Open, 1),
            Some(')') => (Token::Close, 1),
            Some(',') => (Token::Comma, 1),
            Some('>') => (Token::Greater, 1),
            Some('<') => (Token::Less, 1),
            Some(_) => {
                let len = rest
                    .find(|c: char| c.is_whitespace() || "!=(),<>".contains(c))
                    .unwrap_or(rest.len());
                let word = &rest[..len];
                let token = match word {
                    "in" => Token::In,
                    "notin" => Token::NotIn,
                    _ => Token::Ident(word),
                };
                (token, len)
            }
        };
        (token, start, start + len)
    }

    fn next(&mut self) -> (Token<'a>, usize) {
        let (token, start, end) = self.peek();
        self.pos = end;
        (token, start)
    }

    fn unexpected(token: &Token<'_>, position: usize, expected: &'static str) -> SelectorError {
        SelectorError::Unexpected {
            position,
            found: token.describe(),
            expected,
        }
    }

    fn parse(mut self) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        if self.peek().0 == Token::End {
            return Ok(Selector::default());
        }
        loop {
            requirements.push(self.requirement()?);
            match self.next() {
                (Token::End, _) => break,
                (Token::Comma, _) => {}
                (t, p) => return Err(Self::unexpected(&t, p, "',' or end of input")),
            }
        }
        Ok(Selector::from_requirements(requirements))
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let (token, position) = self.next();
        let key = match token {
            Token::Bang => {
                let key = self.identifier("a label key after '!'")?;
                return Requirement::new(key, Operator::DoesNotExist);
            }
            Token::Ident(k) => k,
            t => return Err(Self::unexpected(&t, position, "a label key or '!'")),
        };
        let (op, op_pos, _) = self.peek();
        let operator = match op {
            Token::Comma | Token::End => Operator::Exists,
            Token::Equals | Token::DoubleEquals | Token::NotEquals => {
                self.next();
                let value = match self.peek().0 {
                    // `k=` selects the empty value, as in apimachinery.
                    Token::Comma | Token::End => "",
                    _ => self.identifier("a label value")?,
                };
                if op == Token::NotEquals {
                    Operator::NotEquals(value.to_owned())
                } else {
                    Operator::Equals(value.to_owned())
                }
            }
            Token::In | Token::NotIn => {
                self.next();
                let values = self.value_set()?;
                if op == Token::In {
                    Operator::In(values)
                } else {
                    Operator::NotIn(values)
                }
            }
            Token::Greater | Token::Less => {
                self.next();
                let value = self.identifier("an integer")?;
                let n = value.parse::<i64>().map_err(|_| SelectorError::NotAnInteger {
                    key: key.to_owned(),
                    value: value.to_owned(),
                })?;
                if op == Token::Greater {
                    Operator::GreaterThan(n)
                } else {
                    Operator::LessThan(n)
                }
            }
            t => {
                return Err(Self::unexpected(
                    &t,
                    op_pos,
                    "'=', '==', '!=', 'in', 'notin', '>', '<', ',' or end of input",
                ));
            }
        };
        Requirement::new(key, operator)
    }

    fn identifier(&mut self, expected: &'static str) -> Result<&'a str, SelectorError> {
        match self.next() {
            (Token::Ident(s), _) => Ok(s),
            (t, p) => Err(Self::unexpected(&t, p, expected)),
        }
    }

    /// `( v1, v2, ... )`; an empty set parses here and is rejected by [`Requirement::new`].
    fn value_set(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        match self.next() {
            (Token::Open, _) => {}
            (t, p) => return Err(Self::unexpected(&t, p, "'('")),
        }
        let mut values = BTreeSet::new();
        if self.peek().0 == Token::Close {
            self.next();
            return Ok(values);
        }
        loop {
            // An empty element (`(a,,b)`) is the empty value, as in apimachinery.
            match self.peek().0 {
                Token::Comma | Token::Close => {
                    values.insert(String::new());
                }
                _ => {
                    values.insert(self.identifier("a label value")?.to_owned());
                }
            }
            match self.next() {
                (Token::Comma, _) => {}
                (Token::Close, _) => return Ok(values),
                (t, p) => return Err(Self::unexpected(&t, p, "',' or ')'")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn empty_selector_matches_everything() {
        let s = Selector::parse("  ").unwrap();
        assert!(s.matches_everything());
        assert!(s.matches(&labels(&[])));
        assert!(s.matches_labels(None));
    }

    #[test]
    fn equality_requirements() {
        let s = Selector::parse("app=web, tier==front ,env!=prod").unwrap();
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "front")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "front"), ("env", "prod")])));
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "front"), ("env", "dev")])));
        assert!(!s.matches(&labels(&[("app", "db"), ("tier", "front")])));
        assert!(!s.matches(&labels(&[("tier", "front")])));
    }

    #[test]
    fn set_based_requirements() {
        let s = Selector::parse("env in (prod, staging),tier notin (cache),canary,!legacy").unwrap();
        assert!(s.matches(&labels(&[("env", "prod"), ("canary", "")])));
        assert!(s.matches(&labels(&[("env", "staging"), ("tier", "web"), ("canary", "1")])));
        assert!(!s.matches(&labels(&[("env", "dev"), ("canary", "")])));
        assert!(!s.matches(&labels(&[("env", "prod"), ("tier", "cache"), ("canary", "")])));
        assert!(!s.matches(&labels(&[("env", "prod")])));
        assert!(!s.matches(&labels(&[("env", "prod"), ("canary", ""), ("legacy", "x")])));
    }

    #[test]
    fn numeric_comparisons_need_an_integer_label() {
        let s = Selector::parse("gen>3,gen<10").unwrap();
        assert!(s.matches(&labels(&[("gen", "5")])));
        assert!(!s.matches(&labels(&[("gen", "3")])));
        assert!(!s.matches(&labels(&[("gen", "x")])));
        assert!(!s.matches(&labels(&[])));
        assert_eq!(
            Selector::parse("gen>x"),
            Err(SelectorError::NotAnInteger {
                key: "gen".into(),
                value: "x".into()
            })
        );
    }

    #[test]
    fn empty_values_are_allowed_where_apimachinery_allows_them() {
        let s = Selector::parse("a=,b in (x,)").unwrap();
        assert!(s.matches(&labels(&[("a", ""), ("b", "")])));
        assert!(!s.matches(&labels(&[("a", "1"), ("b", "x")])));
    }

    #[test]
    fn display_is_canonical_and_round_trips() {
        let s = Selector::parse("z=1, a in (y,x), !m, k, n!=2, g>4").unwrap();
        assert_eq!(s.to_string(), "a in (x,y),g>4,k,!m,n!=2,z=1");
        assert_eq!(Selector::parse(&s.to_string()).unwrap(), s);
    }

    #[test]
    fn prefixed_keys_are_accepted() {
        let s = Selector::parse("app.kubernetes.io/managed-by=operator-runtime").unwrap();
        assert_eq!(s.requirements()[0].key(), "app.kubernetes.io/managed-by");
    }

    #[test]
    fn syntax_errors_are_typed() {
        assert!(matches!(
            Selector::parse("a=b,"),
            Err(SelectorError::Unexpected {
                expected: "a label key or '!'",
                ..
            })
        ));
        assert!(matches!(
            Selector::parse("a in x"),
            Err(SelectorError::Unexpected { expected: "'('", .. })
        ));
        assert!(matches!(
            Selector::parse("a in (x"),
            Err(SelectorError::Unexpected {
                expected: "',' or ')'",
                ..
            })
        ));
        assert!(matches!(
            Selector::parse("a b"),
            Err(SelectorError::Unexpected { position: 2, .. })
        ));
        assert!(matches!(
            Selector::parse("(a)"),
            Err(SelectorError::Unexpected { position: 0, .. })
        ));
        assert_eq!(
            Selector::parse("a in ()"),
            Err(SelectorError::EmptySet { key: "a".into() })
        );
    }

    #[test]
    fn invalid_keys_and_values_are_typed() {
        assert!(matches!(Selector::parse("-a=b"), Err(SelectorError::InvalidKey { .. })));
        assert!(matches!(
            Selector::parse("Ex.com/a=b"),
            Err(SelectorError::InvalidKey { .. })
        ));
        assert!(matches!(Selector::parse("/a=b"), Err(SelectorError::InvalidKey { .. })));
        assert!(matches!(
            Selector::parse(&format!("{}=b", "k".repeat(64))),
            Err(SelectorError::InvalidKey { .. })
        ));
        assert!(matches!(
            Selector::parse("a=b-"),
            Err(SelectorError::InvalidValue { .. })
        ));
        assert!(matches!(
            Selector::parse("a=é"),
            Err(SelectorError::InvalidValue { .. })
        ));
    }

    #[test]
    fn label_selector_objects_convert() {
        let ls = LabelSelector {
            match_labels: Some([("app".to_string(), "web".to_string())].into()),
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "NotIn".into(),
                values: Some(vec!["prod".into()]),
            }]),
        };
        let s = Selector::try_from(&ls).unwrap();
        assert_eq!(s.to_string(), "app=web,env notin (prod)");
        let bad = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "Has".into(),
                values: None,
            }]),
            ..Default::default()
        };
        assert!(matches!(
            Selector::try_from(&bad),
            Err(SelectorError::UnknownOperator { .. })
        ));
        let exists_with_values = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "env".into(),
                operator: "Exists".into(),
                values: Some(vec!["x".into()]),
            }]),
            ..Default::default()
        };
        assert!(matches!(
            Selector::try_from(&exists_with_values),
            Err(SelectorError::UnexpectedValues { .. })
        ));
        assert!(
            Selector::try_from(&LabelSelector::default())
                .unwrap()
                .matches_everything()
        );
    }
}
