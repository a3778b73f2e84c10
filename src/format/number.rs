//! Numbers as people read them: metrics to a few significant digits, rates and large counts
//! with an SI prefix and their unit (`490 k samples/s`), exact counts grouped by thousands.

/// `v` to `digits` significant digits: plain notation from 0.0001 to a million (never fewer
/// digits before the point than the number has), scientific outside; trailing zeros dropped.
pub fn significant(v: f64, digits: usize) -> String {
    if let Some(text) = not_finite(v) {
        return text;
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.clamp(1, 17);
    let a = v.abs();
    if (1e-4..1e6).contains(&a) {
        let magnitude = a.log10().floor() as i64;
        let decimals = (digits as i64 - 1 - magnitude).clamp(0, 20) as usize;
        trim_zeros(&format!("{v:.decimals$}"))
    } else {
        let text = format!("{v:.*e}", digits - 1);
        match text.split_once('e') {
            Some((mantissa, exponent)) => format!("{}e{exponent}", trim_zeros(mantissa)),
            None => text,
        }
    }
}

/// A metric value (a loss, an accuracy, a learning rate): four significant digits.
pub fn metric(v: f64) -> String {
    significant(v, 4)
}

/// A value in a data preview or table: whole numbers exactly, others to six significant digits.
pub fn value(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        significant(v, 6)
    }
}

/// Three significant digits with an SI prefix: `950`, `12.3 k`, `490 k`, `4.1 M`, `2.5 G`.
pub fn si(v: f64) -> String {
    if let Some(text) = not_finite(v) {
        return text;
    }
    const PREFIXES: [&str; 5] = ["", " k", " M", " G", " T"];
    let a = v.abs();
    let mut level = if a < 1000.0 {
        0
    } else {
        ((a.log10() / 3.0).floor() as usize).min(PREFIXES.len() - 1)
    };
    // 999.7 rounds to 1000 at three digits: that is 1 k.
    if level + 1 < PREFIXES.len() && round_to(a / 1000f64.powi(level as i32), 3) >= 1000.0 {
        level += 1;
    }
    let scaled = v / 1000f64.powi(level as i32);
    let prefix = PREFIXES.get(level).copied().unwrap_or("");
    format!("{}{prefix}", significant(round_to(scaled, 3), 3))
}

/// A rate with its unit: `rate(490_249.5, "samples/s")` is `490 k samples/s`; a unit that
/// starts with `/` joins without a space (`25.6 k/s`).
pub fn rate(v: f64, unit: &str) -> String {
    let number = si(v);
    if unit.starts_with('/') {
        format!("{number}{unit}")
    } else {
        format!("{number} {unit}")
    }
}

/// An exact count grouped by thousands: `1,234,567`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as a percentage with three significant digits: `95.7 %`.
pub fn percent(share: f64) -> String {
    if let Some(text) = not_finite(share) {
        return text;
    }
    format!("{} %", significant(round_to(share * 100.0, 3), 3))
}

fn not_finite(v: f64) -> Option<String> {
    if v.is_nan() {
        Some("NaN".into())
    } else if v.is_infinite() {
        Some(if v > 0.0 { "∞" } else { "-∞" }.into())
    } else {
        None
    }
}

/// `v` rounded to `digits` significant digits.
fn round_to(v: f64, digits: usize) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let magnitude = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits as i32 - 1 - magnitude);
    (v * scale).round() / scale
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_keep_four_significant_digits() {
        assert_eq!(metric(0.012_345_6), "0.01235");
        assert_eq!(metric(0.5), "0.5");
        assert_eq!(metric(2.304_567), "2.305");
        assert_eq!(metric(1234.5678), "1235");
        assert_eq!(metric(490_249.472_513), "490249");
        assert_eq!(metric(0.000_012_345_6), "1.235e-5");
        assert_eq!(metric(-0.25), "-0.25");
        assert_eq!(metric(0.0), "0");
        assert_eq!(metric(f64::NAN), "NaN");
        assert_eq!(metric(f64::INFINITY), "∞");
        assert_eq!(significant(3.0e9, 3), "3e9");
    }

    #[test]
    fn rates_have_an_si_prefix_and_their_unit() {
        assert_eq!(rate(490_249.472_513, "samples/s"), "490 k samples/s");
        assert_eq!(rate(950.0, "/s"), "950/s");
        assert_eq!(rate(12_345.0, "/s"), "12.3 k/s");
        assert_eq!(rate(4_100_000.0, "records/s"), "4.1 M records/s");
        assert_eq!(si(999.7), "1 k");
        assert_eq!(si(999_700.0), "1 M");
        assert_eq!(si(12.34), "12.3");
        assert_eq!(si(0.5), "0.5");
        assert_eq!(si(0.0), "0");
        assert_eq!(si(-2_500.0), "-2.5 k");
        assert_eq!(si(1e20), "1e8 T");
    }

    #[test]
    fn counts_and_values_are_exact_where_it_matters() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(value(52.0), "52");
        assert_eq!(value(1.0 / 3.0), "0.333333");
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(percent(0.956_72), "95.7 %");
        assert_eq!(percent(1.0), "100 %");
    }
}
