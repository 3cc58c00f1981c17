//! Resource quantities (`500m`, `1Gi`, `2e3`) parsed and printed exactly as kube-apiserver does.
//!
//! A port of `k8s.io/apimachinery/pkg/api/resource/quantity.go` (v0.37.2): [`Quantity::parse`]
//! is `ParseQuantity`, [`Quantity::canonical`] is `String()` / `MarshalJSON`, and
//! [`Quantity::round_up_milli`] is the `RoundUp(Milli)` that the core/v1 defaulter
//! `SetDefaults_ResourceList` applies to every resource list (`0.1m` is stored as `1m`).
//!
//! Go keeps a value either as an `int64` with a decimal scale or as an arbitrary precision
//! `inf.Dec`; both print the same canonical text for the same value, so this port keeps one
//! exact representation (a big integer mantissa with a power-of-ten exponent) and reproduces the
//! two places where the paths differ: the int64 path remembers the input text when it is
//! already canonical (so `1e3` and even `01` come back unchanged), and only the `inf.Dec` path
//! clamps binary-suffixed values to `2^63-1` and rounds up to nano precision.
//!
//! Exponents are computed in 64 bits; Go computes them in 32 bits and wraps, so inputs with
//! exponents beyond about ±2·10⁹ are the one range where this port does not follow Go.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

/// The regular expression Go's error message quotes for a malformed quantity.
pub const QUANTITY_REGEX: &str = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/// Why a text is not a quantity. The messages are Go's (`ErrFormatWrong`, `ErrNumeric`,
/// `ErrSuffix`), which the API server puts into its 400 responses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not have the shape `number[suffix]`.
    #[error("quantities must match the regular expression '{regex}'", regex = QUANTITY_REGEX)]
    FormatWrong {
        /// The rejected text.
        input: String,
    },
    /// The numeric part has no digits.
    #[error("unable to parse numeric part of quantity")]
    Numeric {
        /// The rejected text.
        input: String,
    },
    /// The suffix is not one of the known SI, binary or exponent suffixes.
    #[error("unable to parse quantity's suffix")]
    Suffix {
        /// The rejected text.
        input: String,
    },
}

impl QuantityError {
    /// The text that was rejected.
    pub fn input(&self) -> &str {
        match self {
            Self::FormatWrong { input } | Self::Numeric { input } | Self::Suffix { input } => input,
        }
    }
}

/// How a quantity prints: the format comes from the suffix it was written with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// `12e6`: a power-of-ten exponent.
    DecimalExponent,
    /// `12Mi`: powers of 1024.
    BinarySI,
    /// `12M`, `500m`: SI prefixes.
    DecimalSI,
}

/// A parsed quantity: an exact decimal value, its format, and the input text when Go would
/// print it back verbatim.
#[derive(Clone, Debug)]
pub struct Quantity {
    /// value = mantissa × 10^exponent, with no trailing zero digit in the mantissa (zero is 0×10⁰).
    mantissa: BigInt,
    exponent: i64,
    format: Format,
    /// Go's `s` field: the input, kept when the int64 parse path found it already canonical.
    cached: Option<String>,
}

impl PartialEq for Quantity {
    /// Equal values, whatever the format or spelling (Go's `Quantity.Equal`).
    fn eq(&self, other: &Self) -> bool {
        self.mantissa == other.mantissa && self.exponent == other.exponent
    }
}

impl Eq for Quantity {}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// `maxInt64Factors` in math.go: decimal digits that always fit an int64.
const MAX_INT64_FACTORS: i64 = 18;
/// `Nano`: the finest scale a quantity keeps.
const NANO: i64 = -9;
/// `Milli`: the scale resource lists are rounded up to.
const MILLI: i64 = -3;

/// The pieces `parseQuantityString` cuts a text into.
struct Parts<'a> {
    positive: bool,
    /// Sign, digits and fraction as written (`-01.50`).
    value: &'a str,
    /// Integer digits without leading zeros (`"0"` when none).
    num: &'a str,
    /// Fraction digits.
    denom: &'a str,
    suffix: &'a str,
}

/// Port of `parseQuantityString`: byte for byte the same cuts and the same rejections.
fn split(text: &str) -> Result<Parts<'_>, QuantityError> {
    let bytes = text.as_bytes();
    let end = bytes.len();
    let mut pos = 0;
    let mut positive = true;
    match bytes.first() {
        Some(b'-') => {
            positive = false;
            pos += 1;
        }
        Some(b'+') => pos += 1,
        _ => {}
    }
    while pos < end && bytes[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            value: "0",
            num: "0",
            denom: "",
            suffix: "",
        });
    }
    let num_start = pos;
    while pos < end && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos >= end {
        return Ok(Parts {
            positive,
            value: text,
            num: &text[num_start..],
            denom: "",
            suffix: "",
        });
    }
    let num = if pos == num_start { "0" } else { &text[num_start..pos] };
    let mut denom = "";
    if bytes[pos] == b'.' {
        pos += 1;
        let denom_start = pos;
        while pos < end && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &text[denom_start..pos];
        if pos >= end {
            return Ok(Parts {
                positive,
                value: text,
                num,
                denom,
                suffix: "",
            });
        }
    }
    let value = &text[..pos];
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&bytes[pos]) {
        pos += 1;
    }
    if pos < end && (bytes[pos] == b'-' || bytes[pos] == b'+') {
        pos += 1;
    }
    while pos < end && bytes[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < end {
        return Err(QuantityError::FormatWrong { input: text.to_owned() });
    }
    Ok(Parts {
        positive,
        value,
        num,
        denom,
        suffix: &text[suffix_start..],
    })
}

/// Port of `quantitySuffixer.interpret`: (base, exponent, format).
fn interpret(suffix: &str) -> Option<(u32, i64, Format)> {
    let decimal = |exponent| Some((10, exponent, Format::DecimalSI));
    let binary = |exponent| Some((2, exponent, Format::BinarySI));
    match suffix {
        "" => decimal(0),
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        _ if suffix.len() > 1 && (suffix.starts_with('e') || suffix.starts_with('E')) => {
            // strconv.ParseInt(_, 10, 64), then int32(parsed) (which wraps).
            let parsed: i64 = parse_go_int(&suffix[1..])?;
            Some((10, i64::from(parsed as i32), Format::DecimalExponent))
        }
        _ => None,
    }
}

/// `strconv.ParseInt(text, 10, 64)`: optional sign, at least one ASCII digit, in range.
fn parse_go_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `SI suffix` for a power of ten (Go's `decSuffixes`).
fn decimal_suffix(exponent: i64) -> Option<&'static str> {
    Some(match exponent {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

/// Binary suffix for a power of 1024 (Go's `binSuffixes`).
fn binary_suffix(power_of_1024: u32) -> Option<&'static str> {
    Some(match power_of_1024 {
        1 => "Ki",
        2 => "Mi",
        3 => "Gi",
        4 => "Ti",
        5 => "Pi",
        6 => "Ei",
        _ => return None,
    })
}

/// 10^n as a big integer.
fn pow10(n: u64) -> BigInt {
    num_traits::pow(BigInt::from(10u8), usize::try_from(n).unwrap_or(usize::MAX))
}

impl Quantity {
    /// Parses a quantity as Go's `ParseQuantity` does (no trimming: the JSON decoder trims
    /// surrounding whitespace before, see [`Quantity::parse_json_text`]).
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        if text.is_empty() {
            return Err(QuantityError::FormatWrong { input: String::new() });
        }
        if text == "0" {
            return Ok(Self::from_parts(BigInt::zero(), 0, Format::DecimalSI, Some(text)));
        }
        let parts = split(text)?;
        let (base, exponent, format) =
            interpret(parts.suffix).ok_or_else(|| QuantityError::Suffix { input: text.to_owned() })?;
        if let Some(fast) = Self::parse_int64(text, &parts, exponent, format) {
            return Ok(fast);
        }
        Self::parse_decimal(text, &parts, base, exponent, format)
    }

    /// What the API server's JSON decoder does with a quantity's text (`UnmarshalJSON`):
    /// trims surrounding whitespace, then parses.
    pub fn parse_json_text(text: &str) -> Result<Self, QuantityError> {
        Self::parse(text.trim())
    }

    /// The int64 fast path of `ParseQuantity`; None when Go falls through to `inf.Dec`.
    fn parse_int64(text: &str, parts: &Parts<'_>, exponent: i64, format: Format) -> Option<Self> {
        let digits = i64::try_from(parts.num.len() + parts.denom.len()).ok()?;
        let (mut scale, precision, multiplier) = match format {
            Format::DecimalExponent | Format::DecimalSI => (exponent, MAX_INT64_FACTORS - digits, 1i64),
            Format::BinarySI if parts.denom.is_empty() => {
                // int32(float32(exponent)*3/10), exponent is 10..=60 here.
                let decimal_digits = (exponent as f32 * 3.0 / 10.0) as i64;
                let num_len = i64::try_from(parts.num.len()).ok()?;
                (0, 15 - num_len - decimal_digits - 1, 1i64 << exponent)
            }
            Format::BinarySI => return None,
        };
        if precision < 0 {
            return None;
        }
        scale -= i64::try_from(parts.denom.len()).ok()?;
        if scale < NANO {
            return None;
        }
        let shifted = format!("{}{}", parts.num, parts.denom);
        let value: i64 = shifted.parse().ok()?;
        let mut result = value.checked_mul(multiplier)?;
        if !parts.positive {
            result = -result;
        }
        let verbatim = match format {
            Format::BinarySI => exponent % 10 == 0 && value & 0x07 != 0,
            _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
        };
        Some(Self::from_parts(
            BigInt::from(result),
            scale,
            format,
            verbatim.then_some(text),
        ))
    }

    /// The `inf.Dec` path of `ParseQuantity`.
    fn parse_decimal(
        text: &str,
        parts: &Parts<'_>,
        base: u32,
        exponent: i64,
        mut format: Format,
    ) -> Result<Self, QuantityError> {
        let numeric = || QuantityError::Numeric { input: text.to_owned() };
        let unsigned = parts.value.strip_prefix(['+', '-']).unwrap_or(parts.value);
        let (int_digits, frac_digits) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = format!("{int_digits}{frac_digits}");
        if all_digits.is_empty() {
            return Err(numeric());
        }
        let mut mantissa: BigInt = all_digits.parse().map_err(|_| numeric())?;
        let mut scale = -i64::try_from(frac_digits.len()).map_err(|_| numeric())?;
        if base == 10 {
            scale += exponent;
        } else {
            mantissa <<= u32::try_from(exponent).map_err(|_| numeric())?;
        }
        let negative = parts.value.starts_with('-');
        let mut amount = Self::from_parts(mantissa, scale, format, None);
        amount.round_up_to(NANO);
        if format == Format::BinarySI {
            let max = Self::from_parts(BigInt::from(i64::MAX), 0, format, None);
            if amount.cmp_value(&max) == Ordering::Greater {
                amount = max;
            }
            let one = Self::from_parts(BigInt::one(), 0, format, None);
            if amount.cmp_value(&one) == Ordering::Less && !amount.mantissa.is_zero() {
                format = Format::DecimalSI;
            }
        }
        if negative {
            amount.mantissa = -amount.mantissa;
        }
        amount.format = format;
        Ok(amount)
    }

    /// A quantity from mantissa × 10^exponent, normalized (trailing zeros moved to the exponent).
    fn from_parts(mut mantissa: BigInt, mut exponent: i64, format: Format, cached: Option<&str>) -> Self {
        if mantissa.is_zero() {
            exponent = 0;
        } else {
            let ten = BigInt::from(10u8);
            loop {
                let (quotient, remainder) = mantissa.div_rem(&ten);
                if !remainder.is_zero() {
                    break;
                }
                mantissa = quotient;
                exponent += 1;
            }
        }
        Self {
            mantissa,
            exponent,
            format,
            cached: cached.map(str::to_owned),
        }
    }

    /// The format the quantity was written in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True for a zero value.
    pub fn is_zero(&self) -> bool {
        self.mantissa.is_zero()
    }

    /// Compares values (Go's `Quantity.Cmp`).
    pub fn cmp_value(&self, other: &Self) -> Ordering {
        let (a, b) = (self.mantissa.sign(), other.mantissa.sign());
        if a != b {
            return sign_rank(a).cmp(&sign_rank(b));
        }
        match a {
            Sign::NoSign => Ordering::Equal,
            Sign::Plus => self.abs_cmp(other),
            Sign::Minus => other.abs_cmp(self),
        }
    }

    /// Compares magnitudes without building huge powers of ten: the order of magnitude
    /// (digits + exponent) decides unless equal, and then the exponents differ by less than
    /// the digit counts.
    fn abs_cmp(&self, other: &Self) -> Ordering {
        match (self.mantissa.is_zero(), other.mantissa.is_zero()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let magnitude = |q: &Self| digit_count(&q.mantissa).saturating_add(q.exponent);
        match magnitude(self).cmp(&magnitude(other)) {
            Ordering::Equal => {}
            unequal => return unequal,
        }
        let low = self.exponent.min(other.exponent);
        let scaled = |q: &Self| q.mantissa.abs() * pow10(q.exponent.abs_diff(low));
        scaled(self).cmp(&scaled(other))
    }

    /// Rounds the magnitude up (away from zero) to a multiple of 10^scale, as Go's
    /// `inf.Dec.Round(_, _, inf.RoundUp)`. Returns true if the value did not change.
    fn round_up_to(&mut self, scale: i64) -> bool {
        if self.exponent >= scale || self.mantissa.is_zero() {
            return true;
        }
        let drop = self.exponent.abs_diff(scale);
        let digits = u64::try_from(digit_count(&self.mantissa)).unwrap_or(u64::MAX);
        let magnitude = if drop > digits {
            // The whole value is below one unit of the target scale.
            BigInt::one()
        } else {
            let (quotient, remainder) = self.mantissa.abs().div_rem(&pow10(drop));
            if remainder.is_zero() { quotient } else { quotient + 1 }
        };
        let signed = if self.mantissa.is_negative() {
            -magnitude
        } else {
            magnitude
        };
        *self = Self::from_parts(signed, scale, self.format, None);
        false
    }

    /// Go's `RoundUp(Milli)`, which `SetDefaults_ResourceList` applies to every value of a
    /// core/v1 resource list: values finer than 1m are rounded up (away from zero) to 1m, and
    /// then print canonically. Returns true if the value did not change.
    pub fn round_up_milli(&mut self) -> bool {
        if self.exponent >= MILLI {
            return true;
        }
        self.cached = None;
        self.round_up_to(MILLI)
    }

    /// The text Go prints (`String()`, `MarshalJSON`): the verbatim input when the parser kept
    /// it, else the canonical form of the value in its format.
    pub fn canonical(&self) -> String {
        if let Some(text) = &self.cached {
            return text.clone();
        }
        if self.mantissa.is_zero() {
            return "0".to_owned();
        }
        let format = match self.format {
            Format::BinarySI => {
                let limit = Self::from_parts(BigInt::from(1024u32), 0, Format::DecimalSI, None);
                let below_1024 = self.abs_cmp(&limit) == Ordering::Less;
                // Go: AsScale(0) not exact, i.e. the value has a fractional part.
                if below_1024 || self.exponent < 0 {
                    Format::DecimalSI
                } else {
                    Format::BinarySI
                }
            }
            other => other,
        };
        match format {
            Format::BinarySI => self.binary_text(),
            _ => self.decimal_text(format),
        }
    }

    /// `AsCanonicalBytes` plus the decimal or exponent suffix.
    fn decimal_text(&self, format: Format) -> String {
        let mut exponent = self.exponent;
        let mut amount = self.mantissa.clone();
        while exponent % 3 != 0 {
            amount *= 10;
            exponent -= 1;
        }
        let suffix = match format {
            Format::DecimalExponent if exponent == 0 => String::new(),
            Format::DecimalExponent => format!("e{exponent}"),
            // Go prints no suffix at all for an exponent without SI prefix (e.g. 1e21 in
            // DecimalSI prints "1"): ported as is.
            _ => decimal_suffix(exponent).unwrap_or("").to_owned(),
        };
        format!("{amount}{suffix}")
    }

    /// `AsCanonicalBase1024Bytes` plus the binary suffix; the value is an integer here.
    fn binary_text(&self) -> String {
        let exponent = u64::try_from(self.exponent).unwrap_or(0);
        let mut amount = &self.mantissa * pow10(exponent);
        let unit = BigInt::from(1024u32);
        let mut times = 0u32;
        loop {
            let (quotient, remainder) = amount.div_rem(&unit);
            if !remainder.is_zero() || quotient.is_zero() {
                break;
            }
            amount = quotient;
            times += 1;
        }
        format!("{amount}{}", binary_suffix(times).unwrap_or(""))
    }

    /// The value as a float, for display; exact comparison uses [`PartialEq`].
    pub fn approximate_f64(&self) -> f64 {
        let mantissa = self.mantissa.to_f64().unwrap_or(f64::NAN);
        let exponent = i32::try_from(self.exponent).unwrap_or(if self.exponent > 0 { i32::MAX } else { i32::MIN });
        mantissa * 10f64.powi(exponent)
    }
}

/// Number of decimal digits of the magnitude.
fn digit_count(value: &BigInt) -> i64 {
    i64::try_from(value.magnitude().to_string().len()).unwrap_or(i64::MAX)
}

fn sign_rank(sign: Sign) -> i8 {
    match sign {
        Sign::Minus => -1,
        Sign::NoSign => 0,
        Sign::Plus => 1,
    }
}

/// The canonical text of a quantity written as text.
pub fn canonicalize(text: &str) -> Result<String, QuantityError> {
    Quantity::parse_json_text(text).map(|q| q.canonical())
}

#[cfg(test)]
mod tests;
