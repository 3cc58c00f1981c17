use proptest::prelude::*;

use super::*;

/// Output of Go's `resource.ParseQuantity` (apimachinery v0.37.2) for 981 inputs: hand-picked
/// edge cases plus random ones. Columns: input, `String()` (or `ERR`), then `String()` after
/// `RoundUp(Milli)` (or the error message). Produced over the real package by this program
/// (module requiring `k8s.io/apimachinery v0.37.2`), one input per line on stdin:
///
/// ```text
/// for sc.Scan() {
///     in := sc.Text()
///     q, err := resource.ParseQuantity(in)
///     if err != nil { fmt.Printf("%s\tERR\t%s\n", in, err.Error()); continue }
///     r := q.DeepCopy(); r.RoundUp(resource.Milli)
///     fmt.Printf("%s\t%s\t%s\n", in, q.String(), r.String())
/// }
/// ```
///
/// The inputs the API server itself was asked about are in `SERVER_CASES` below.
const GO_GOLDEN: &str = include_str!("go_golden.tsv");

#[test]
fn every_go_golden_case_parses_prints_and_rounds_as_go() {
    let mut checked = 0;
    for line in GO_GOLDEN.lines() {
        let mut columns = line.split('\t');
        let (Some(input), Some(canonical), Some(third)) = (columns.next(), columns.next(), columns.next()) else {
            panic!("malformed golden line {line:?}");
        };
        match Quantity::parse(input) {
            Ok(mut quantity) => {
                assert_eq!(quantity.canonical(), canonical, "canonical form of {input:?}");
                quantity.round_up_milli();
                assert_eq!(quantity.canonical(), third, "milli-rounded form of {input:?}");
            }
            Err(error) => {
                assert_eq!(canonical, "ERR", "{input:?} failed here with {error} but parses in Go");
                assert_eq!(error.to_string(), third, "error for {input:?}");
                assert_eq!(error.input(), input);
            }
        }
        checked += 1;
    }
    assert!(checked > 900, "golden table read only {checked} lines");
}

/// (written, stored in a resource list, stored in a single quantity field), as kube-apiserver
/// 1.37.2 returned them (Deployment `resources.requests` and `emptyDir.sizeLimit`).
const SERVER_CASES: &[(&str, &str, &str)] = &[
    ("1000m", "1", "1"),
    ("1024Mi", "1Gi", "1Gi"),
    ("0.5", "500m", "500m"),
    ("1e3", "1e3", "1e3"),
    ("1.5Gi", "1536Mi", "1536Mi"),
    ("100M", "100M", "100M"),
    ("0.1m", "1m", "100u"),
    ("01", "01", "01"),
    ("+1", "+1", "+1"),
    ("1.500", "1.500", "1.500"),
    ("1000E", "1", "1"),
    ("8Ei", "9223372036854775807", "9223372036854775807"),
    ("1.0005", "1001m", "1000500u"),
];

#[test]
fn server_observed_cases() {
    for (written, in_list, single) in SERVER_CASES {
        let mut quantity = Quantity::parse(written).unwrap_or_else(|e| panic!("{written}: {e}"));
        assert_eq!(quantity.canonical(), *single, "single quantity {written}");
        quantity.round_up_milli();
        assert_eq!(quantity.canonical(), *in_list, "resource list value {written}");
    }
}

#[test]
fn values_compare_across_formats() {
    let q = |text| Quantity::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    assert_eq!(q("1Gi"), q("1073741824"));
    assert_eq!(q("1000m"), q("1"));
    assert_eq!(q("2e3"), q("2k"));
    assert_ne!(q("1Gi"), q("1G"));
    assert_eq!(q("-1").cmp_value(&q("1m")), Ordering::Less);
    assert_eq!(q("-2").cmp_value(&q("-1")), Ordering::Less);
    assert_eq!(q("1e100").cmp_value(&q("999e97")), Ordering::Greater);
    assert_eq!(q("0").cmp_value(&q("-0")), Ordering::Equal);
}

#[test]
fn huge_exponents_stay_cheap() {
    let big = Quantity::parse("1e1000000").expect("parses");
    // 10^6 is not a multiple of 3: Go moves one digit into the mantissa.
    assert_eq!(big.canonical(), "10e999999");
    let tiny = Quantity::parse("1e-1000000").expect("parses");
    assert_eq!(tiny.canonical(), "1e-9");
}

/// Texts shaped like quantities: optional sign, digits, optional fraction, any suffix.
fn quantity_text() -> impl Strategy<Value = String> {
    let suffix = prop::sample::select(vec![
        "", "m", "u", "n", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3", "e-3", "E6", "e-12",
        "e21",
    ]);
    ("[+-]?", "[0-9]{1,22}", prop::option::of("[0-9]{0,12}"), suffix).prop_map(|(sign, int, frac, suffix)| {
        let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
        format!("{sign}{int}{frac}{suffix}")
    })
}

/// Go prints DecimalSI values of 10^21 and more without a suffix (no SI prefix exists), so
/// their text no longer means their value; the value properties exclude them.
fn beyond_si_prefixes(quantity: &Quantity) -> bool {
    let limit = Quantity::parse("1e21").expect("parses");
    quantity.format() == Format::DecimalSI && quantity.abs_cmp(&limit) != Ordering::Less
}

proptest! {
    #[test]
    fn canonical_form_is_a_fixed_point(text in quantity_text()) {
        let quantity = Quantity::parse(&text).expect("generated texts are quantities");
        let canonical = quantity.canonical();
        let again = Quantity::parse(&canonical).expect("canonical text parses");
        prop_assert_eq!(again.canonical(), canonical.clone(), "{} -> {}", text, canonical);
    }

    #[test]
    fn parsing_the_canonical_form_keeps_the_value(text in quantity_text()) {
        let quantity = Quantity::parse(&text).expect("generated texts are quantities");
        prop_assume!(!beyond_si_prefixes(&quantity));
        let again = Quantity::parse(&quantity.canonical()).expect("canonical text parses");
        // BinarySI values beyond 2^63-1 are clamped on parse, so they compare after the clamp.
        prop_assert_eq!(again, quantity);
    }

    #[test]
    fn milli_rounding_never_lowers_the_magnitude(text in quantity_text()) {
        let quantity = Quantity::parse(&text).expect("generated texts are quantities");
        prop_assume!(!beyond_si_prefixes(&quantity));
        let mut rounded = quantity.clone();
        let unchanged = rounded.round_up_milli();
        prop_assert_eq!(unchanged, rounded == quantity);
        prop_assert_ne!(rounded.abs_cmp(&quantity), Ordering::Less);
        let twice = Quantity::parse(&rounded.canonical()).expect("parses");
        prop_assert_eq!(twice, rounded);
    }
}
