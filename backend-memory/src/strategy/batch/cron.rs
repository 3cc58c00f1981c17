//! A CronJob schedule parser: the port of robfig/cron v3.0.1's `ParseStandard` (the parser
//! `ParseCronScheduleWithPanicRecovery` calls), written by hand because no crate parses that
//! format with its exact error messages. It only validates: the schedule itself is never run
//! here. Time-zone names are looked up as Go's `time.LoadLocation` does with the tz database
//! embedded in kube-apiserver (`time/tzdata`), through `chrono-tz`.

/// `bounds` of robfig/cron: the range of a field and the names it accepts.
struct Bounds {
    min: u64,
    max: u64,
    names: &'static [(&'static str, u64)],
}

const SECONDS: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const MINUTES: Bounds = Bounds {
    min: 0,
    max: 59,
    names: &[],
};
const HOURS: Bounds = Bounds {
    min: 0,
    max: 23,
    names: &[],
};
const DOM: Bounds = Bounds {
    min: 1,
    max: 31,
    names: &[],
};
const MONTHS: Bounds = Bounds {
    min: 1,
    max: 12,
    names: &[
        ("jan", 1),
        ("feb", 2),
        ("mar", 3),
        ("apr", 4),
        ("may", 5),
        ("jun", 6),
        ("jul", 7),
        ("aug", 8),
        ("sep", 9),
        ("oct", 10),
        ("nov", 11),
        ("dec", 12),
    ],
};
const DOW: Bounds = Bounds {
    min: 0,
    max: 6,
    names: &[
        ("sun", 0),
        ("mon", 1),
        ("tue", 2),
        ("wed", 3),
        ("thu", 4),
        ("fri", 5),
        ("sat", 6),
    ],
};

/// The descriptors `parseDescriptor` knows besides `@every`.
const DESCRIPTORS: &[&str] = &[
    "@yearly",
    "@annually",
    "@monthly",
    "@weekly",
    "@daily",
    "@midnight",
    "@hourly",
];

/// `cron.ParseStandard(schedule)`: Ok for a schedule robfig/cron accepts, else its error text
/// (a recovered panic reads as `ParseCronScheduleWithPanicRecovery` words it).
pub(crate) fn parse_standard(schedule: &str) -> Result<(), String> {
    if schedule.is_empty() {
        return Err("empty spec string".to_owned());
    }
    let mut spec = schedule;
    if spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=") {
        // Go slices `spec[eq+1 : strings.Index(spec, " ")]`: without a space the index is -1
        // and the slice panics, which the Kubernetes wrapper recovers.
        let Some(space) = spec.find(' ') else {
            return Err("invalid schedule format: runtime error: slice bounds out of range [:-1]".to_owned());
        };
        let eq = spec.find('=').unwrap_or(0);
        let name = spec.get(eq + 1..space).unwrap_or("");
        if let Err(e) = load_location(name) {
            return Err(format!("provided bad location {name}: {e}"));
        }
        spec = go_trim_space(&spec[space..]);
    }
    if spec.starts_with('@') {
        return parse_descriptor(spec);
    }
    let fields: Vec<&str> = spec.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "expected exactly 5 fields, found {}: [{}]",
            fields.len(),
            fields.join(" ")
        ));
    }
    // The seconds field is not part of the standard format: it is always "0".
    get_field("0", &SECONDS)?;
    for (field, bounds) in fields.iter().zip([&MINUTES, &HOURS, &DOM, &MONTHS, &DOW]) {
        get_field(field, bounds)?;
    }
    Ok(())
}

/// `strings.TrimSpace` (ASCII and Unicode white space).
fn go_trim_space(s: &str) -> &str {
    s.trim_matches(char::is_whitespace)
}

/// `parseDescriptor`.
fn parse_descriptor(descriptor: &str) -> Result<(), String> {
    if DESCRIPTORS.contains(&descriptor) {
        return Ok(());
    }
    if let Some(duration) = descriptor.strip_prefix("@every ") {
        return parse_duration(duration)
            .map(|_| ())
            .map_err(|e| format!("failed to parse duration {descriptor}: {e}"));
    }
    Err(format!("unrecognized descriptor: {descriptor}"))
}

/// `getField`: comma-separated ranges (`strings.FieldsFunc` drops empty ones, so "," alone is
/// accepted).
fn get_field(field: &str, bounds: &Bounds) -> Result<(), String> {
    for expr in field.split(',').filter(|r| !r.is_empty()) {
        get_range(expr, bounds)?;
    }
    Ok(())
}

/// `getRange`: `number | number "-" number [ "/" number ]`, `*` and `?` for the whole range.
fn get_range(expr: &str, bounds: &Bounds) -> Result<(), String> {
    let range_and_step: Vec<&str> = expr.split('/').collect();
    let low_and_high: Vec<&str> = range_and_step[0].split('-').collect();
    let single = low_and_high.len() == 1;
    let (start, mut end);
    if low_and_high[0] == "*" || low_and_high[0] == "?" {
        (start, end) = (bounds.min, bounds.max);
    } else {
        start = parse_int_or_name(low_and_high[0], bounds)?;
        end = match low_and_high.len() {
            1 => start,
            2 => parse_int_or_name(low_and_high[1], bounds)?,
            _ => return Err(format!("too many hyphens: {expr}")),
        };
    }
    let step = match range_and_step.len() {
        1 => 1,
        2 => {
            let step = must_parse_int(range_and_step[1])?;
            // "N/step" means "N-max/step".
            if single {
                end = bounds.max;
            }
            step
        }
        _ => return Err(format!("too many slashes: {expr}")),
    };
    if start < bounds.min {
        return Err(format!(
            "beginning of range ({start}) below minimum ({}): {expr}",
            bounds.min
        ));
    }
    if end > bounds.max {
        return Err(format!("end of range ({end}) above maximum ({}): {expr}", bounds.max));
    }
    if start > end {
        return Err(format!(
            "beginning of range ({start}) beyond end of range ({end}): {expr}"
        ));
    }
    if step == 0 {
        return Err(format!("step of range should be a positive number: {expr}"));
    }
    Ok(())
}

/// `parseIntOrName`: a field's names are case-insensitive.
fn parse_int_or_name(expr: &str, bounds: &Bounds) -> Result<u64, String> {
    let lower = expr.to_lowercase();
    if let Some((_, n)) = bounds.names.iter().find(|(name, _)| *name == lower) {
        return Ok(*n);
    }
    must_parse_int(expr)
}

/// `mustParseInt`: `strconv.Atoi`, then negative numbers are refused.
fn must_parse_int(expr: &str) -> Result<u64, String> {
    let n = atoi(expr).map_err(|e| format!("failed to parse int from {expr}: {e}"))?;
    u64::try_from(n).map_err(|_| format!("negative number ({n}) not allowed: {expr}"))
}

/// `strconv.Atoi` on a 64-bit platform, with its error text.
fn atoi(s: &str) -> Result<i64, String> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("strconv.Atoi: parsing {}: invalid syntax", go_strconv_quote(s)));
    }
    s.parse::<i64>()
        .map_err(|_| format!("strconv.Atoi: parsing {}: value out of range", go_strconv_quote(s)))
}

/// `strconv.Quote` for the texts a schedule holds (printable characters kept, control
/// characters escaped).
fn go_strconv_quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `quote` of Go's time package: non-ASCII and control bytes as `\xNN`.
fn go_time_quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        if !c.is_ascii() || (c as u32) < 0x20 {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// `time.ParseDuration`, keeping only whether it parses (and its error text).
fn parse_duration(text: &str) -> Result<(), String> {
    const LIMIT: u64 = 1 << 63;
    let invalid = || format!("time: invalid duration {}", go_time_quote(text));
    let mut s = text.as_bytes();
    let mut neg = false;
    if let Some(&c) = s.first()
        && (c == b'-' || c == b'+')
    {
        neg = c == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(());
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Leading integer: an overflow is an error.
        let mut v: u64 = 0;
        let int_len = s.iter().take_while(|b| b.is_ascii_digit()).count();
        for &d in &s[..int_len] {
            if v > LIMIT / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(d - b'0');
            if v > LIMIT {
                return Err(invalid());
            }
        }
        let pre = int_len > 0;
        s = &s[int_len..];
        // Fraction: digits past the precision are consumed and dropped.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if s.first() == Some(&b'.') {
            s = &s[1..];
            let frac_len = s.iter().take_while(|b| b.is_ascii_digit()).count();
            let mut overflow = false;
            for &d in &s[..frac_len] {
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(d - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = frac_len > 0;
            s = &s[frac_len..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s.iter().take_while(|b| !(**b == b'.' || b.is_ascii_digit())).count();
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", go_time_quote(text)));
        }
        let unit_text = String::from_utf8_lossy(&s[..unit_len]).into_owned();
        s = &s[unit_len..];
        let unit: u64 = match unit_text.as_str() {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    go_time_quote(&unit_text),
                    go_time_quote(text)
                ));
            }
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            // Go converts the float product back with uint64(); the result only matters for
            // the overflow check.
            v = v.saturating_add((f as f64 * (unit as f64 / scale)) as u64);
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total = total.saturating_add(v);
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if !neg && total > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(())
}

/// `time.LoadLocation(name)` with the embedded tz database: Ok when Go finds the zone, else
/// its error text.
pub(crate) fn load_location(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "UTC" || name == "Local" {
        return Ok(());
    }
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err("time: invalid location name".to_owned());
    }
    // chrono-tz's names are the tz database's (with the `backward` links), matched
    // case-sensitively as Go's lookup in the zoneinfo archive is.
    match name.parse::<chrono_tz::Tz>() {
        Ok(_) => Ok(()),
        Err(_) => Err(format!("unknown time zone {name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_schedules() {
        for ok in [
            "*/5 * * * *",
            "0 0 * * 1",
            "0-59/15 0-23 1-31 1-12 0-6",
            "5 4 * jan,FEB sun-sat",
            "? * * * ?",
            "1,,2 * * * *",
            ", * * * *",
            "0 0 1/2 * *",
            "*-5 * * * *",
            "  0   0 * * *  ",
            "@hourly",
            "@yearly",
            "@annually",
            "@monthly",
            "@weekly",
            "@daily",
            "@midnight",
            "@every 1h30m",
            "@every 0",
            "@every -5s",
            "@every .5s",
            "@every 1.5h",
            "TZ=UTC 0 * * * *",
            "CRON_TZ=Europe/Paris @daily",
            "TZ= 0 * * * *",
            "+5 * * * *",
        ] {
            assert_eq!(parse_standard(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn invalid_schedules_with_robfig_messages() {
        let cases = [
            ("", "empty spec string"),
            ("bogus", "expected exactly 5 fields, found 1: [bogus]"),
            ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
            ("0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"),
            ("61 * * * *", "end of range (61) above maximum (59): 61"),
            ("* 24 * * *", "end of range (24) above maximum (23): 24"),
            ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
            ("* * * 13 *", "end of range (13) above maximum (12): 13"),
            ("* * * * 7", "end of range (7) above maximum (6): 7"),
            ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
            ("*/0 * * * *", "step of range should be a positive number: */0"),
            ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
            ("*/1/2 * * * *", "too many slashes: */1/2"),
            (
                "x * * * *",
                "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                "-1 * * * *",
                "failed to parse int from : strconv.Atoi: parsing \"\": invalid syntax",
            ),
            ("*/-1 * * * *", "negative number (-1) not allowed: -1"),
            (
                "99999999999999999999 * * * *",
                "failed to parse int from 99999999999999999999: strconv.Atoi: parsing \"99999999999999999999\": value out of range",
            ),
            (
                "* * * foo *",
                "failed to parse int from foo: strconv.Atoi: parsing \"foo\": invalid syntax",
            ),
            ("@bogus", "unrecognized descriptor: @bogus"),
            ("@every", "unrecognized descriptor: @every"),
            (
                "@every 1x",
                "failed to parse duration @every 1x: time: unknown unit \"x\" in duration \"1x\"",
            ),
            (
                "@every 10",
                "failed to parse duration @every 10: time: missing unit in duration \"10\"",
            ),
            (
                "@every abc",
                "failed to parse duration @every abc: time: invalid duration \"abc\"",
            ),
            (
                "TZ=UTC",
                "invalid schedule format: runtime error: slice bounds out of range [:-1]",
            ),
            (
                "TZ=Not/AZone 0 * * * *",
                "provided bad location Not/AZone: unknown time zone Not/AZone",
            ),
            ("TZ=UTC ", "expected exactly 5 fields, found 0: []"),
            ("  @hourly", "expected exactly 5 fields, found 1: [@hourly]"),
        ];
        for (schedule, message) in cases {
            assert_eq!(parse_standard(schedule), Err(message.to_owned()), "{schedule:?}");
        }
    }

    #[test]
    fn durations() {
        for ok in ["1ns", "1us", "1µs", "2h45m", "1.000000000000000000001s", "+3m"] {
            assert_eq!(parse_duration(ok), Ok(()), "{ok}");
        }
        for bad in ["", "-", ".s", "9223372036854775808ns", "3000000h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("-9223372036854775808ns"), Ok(()));
        assert_eq!(
            parse_duration("1é"),
            Err("time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"".to_owned())
        );
    }

    #[test]
    fn locations() {
        for ok in ["UTC", "Local", "", "Etc/UTC", "Europe/Paris", "US/Eastern", "Etc/GMT+5"] {
            assert_eq!(load_location(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            load_location("europe/paris"),
            Err("unknown time zone europe/paris".to_owned())
        );
        assert_eq!(load_location("../etc"), Err("time: invalid location name".to_owned()));
    }
}
