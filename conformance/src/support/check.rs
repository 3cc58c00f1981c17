//! Assertion helpers: a behaviour stops at the first assertion that does not hold and returns
//! its description as `Err(String)`, so a report names what went wrong without panicking.

use std::fmt::Debug;

use operator_runtime_core::store::StoreResult;

/// Fails the behaviour unless the condition holds.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// Expects a `StoreResult` to be an error matching the pattern; evaluates to the error.
/// Anything else fails the behaviour, naming `$what`.
macro_rules! expect_err {
    ($result:expr, $pattern:pat, $what:expr) => {
        match $result {
            Err(error @ $pattern) => error,
            Err(other) => {
                return Err(format!("{}: expected {}, got {other:?}", $what, stringify!($pattern)));
            }
            Ok(value) => {
                return Err(format!(
                    "{}: expected {}, but it succeeded: {}",
                    $what,
                    stringify!($pattern),
                    $crate::support::check::brief(&value)
                ));
            }
        }
    };
}

/// Expects a `StoreResult` to be an error of any kind (where the real server's exact status is
/// not certain); evaluates to the error.
macro_rules! expect_any_err {
    ($result:expr, $what:expr) => {
        match $result {
            Err(error) => error,
            Ok(value) => {
                return Err(format!(
                    "{}: expected an error, but it succeeded: {}",
                    $what,
                    $crate::support::check::brief(&value)
                ));
            }
        }
    };
}

/// Returns `NotApplicable(reason)` from the behaviour unless the capability holds.
macro_rules! require {
    ($cond:expr, $reason:expr) => {
        if !$cond {
            return Ok($crate::Outcome::NotApplicable(String::from($reason)));
        }
    };
}

/// Turns an unexpected store error into a failure that names the step.
pub trait OrFail<T> {
    /// The value, or a failure message `"<what>: unexpected error ..."`.
    fn or_fail(self, what: &str) -> Result<T, String>;
}

impl<T> OrFail<T> for StoreResult<T> {
    fn or_fail(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: unexpected error {e:?}"))
    }
}

/// A short Debug rendering of a value for failure messages (objects can be long).
pub fn brief<T: Debug>(value: &T) -> String {
    const MAX: usize = 300;
    let text = format!("{value:?}");
    if text.len() <= MAX {
        return text;
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use operator_runtime_core::StoreError;

    fn wants_not_found(r: StoreResult<u32>) -> Result<StoreError, String> {
        Ok(expect_err!(r, StoreError::NotFound { .. }, "probe"))
    }

    #[test]
    fn expect_err_accepts_the_variant_and_rejects_others() {
        assert!(wants_not_found(Err(StoreError::not_found("x"))).is_ok());
        let other = wants_not_found(Err(StoreError::conflict("x"))).unwrap_err();
        assert!(other.contains("expected StoreError::NotFound"), "{other}");
        let ok = wants_not_found(Ok(7)).unwrap_err();
        assert!(ok.contains("succeeded: 7"), "{ok}");
    }

    #[test]
    fn brief_truncates_long_values_on_a_char_boundary() {
        let long = "é".repeat(400);
        let b = brief(&long);
        assert!(b.len() < 320 && b.ends_with("..."));
        assert_eq!(brief(&5), "5");
    }
}
