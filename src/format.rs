//! The one place where numbers become text.
//!
//! Every reported number — in the terminal, in the book's prose, tables and figures — goes
//! through these functions, so decimals, the minus sign (U+2212, as typesetting expects) and the
//! wording of small P values are decided once. Two P-value styles exist because two audiences
//! read them: RevMan's footer style ("P < 0.00001") and journal prose style ("P < 0.001").

/// The true minus sign.
pub const MINUS: char = '\u{2212}';

/// What a number that has no value is shown as, should one ever reach the formatter.
pub const NOT_COMPUTED: &str = "not computed";

/// `x` with `decimals` decimals and a true minus sign; "−0.00" is written "0.00".
///
/// NaN is never printed: every quantity that can lack a value is an `Option` or an error with
/// its reason upstream, so a NaN here is a bug — caught by the debug assertion in tests, and
/// shown as "not computed" in a release build rather than as "NaN".
pub fn fixed(x: f64, decimals: usize) -> String {
    if x.is_nan() {
        debug_assert!(false, "a NaN reached the number formatter");
        return NOT_COMPUTED.to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "∞".to_string() } else { format!("{MINUS}∞") };
    }
    // Beyond 10¹⁵ a number's digits would fill a line (10³⁰⁰ has 301): powers of ten instead.
    let s = if x.abs() >= LARGE { format!("{:.*e}", decimals, x) } else { format!("{:.*}", decimals, x) };
    minus(s)
}

/// From this size on, numbers are written with a power of ten (`1.50e20`).
const LARGE: f64 = 1e15;

/// A number's text with a true minus sign; "−0.00" is written "0.00".
fn minus(s: String) -> String {
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => format!("{MINUS}{rest}"),
        Some(rest) => rest.to_string(),
        None => s,
    }
}

/// A value from a data file as it was typed: at most 6 decimals, no trailing zeros, a true minus
/// sign; a very large or very small value with a power of ten (`1e308`, `2.5e-9`), never
/// rounded to 0 or overflowing to ∞.
pub fn data_value(x: f64) -> String {
    if !x.is_finite() {
        return fixed(x, 0);
    }
    let tiny = x != 0.0 && x.abs() < 1e-6;
    let s = if x.abs() >= LARGE || tiny { format!("{x:e}") } else { format!("{}", (x * 1e6).round() / 1e6) };
    minus(s)
}

/// An axis label too small for a few decimals, with a power of ten and at most 4 significant
/// digits: "2.5e-8", "3e-8" (not "3.0000000000000004e-8"), "0".
pub fn scientific(x: f64) -> String {
    if !x.is_finite() {
        return fixed(x, 0);
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let s = format!("{x:.3e}");
    let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
    let mantissa = if mantissa.contains('.') { mantissa.trim_end_matches('0').trim_end_matches('.') } else { mantissa };
    minus(format!("{mantissa}e{exponent}"))
}

/// `x` with `digits` significant digits and a true minus sign: "0.4808", "12.35", "100.0";
/// below 10⁻⁴ and from 10¹⁵ on with a power of ten ("1.010e-5").
pub fn significant(x: f64, digits: usize) -> String {
    if !x.is_finite() || x == 0.0 {
        return fixed(x, 0);
    }
    let digits = digits.clamp(1, 17);
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..15).contains(&magnitude) {
        return minus(format!("{:.*e}", digits - 1, x));
    }
    fixed(x, (digits as i32 - 1 - magnitude).max(0) as usize)
}

/// Two numbers that differ, each with as many significant digits (at least 4) as it takes for
/// them to read apart: (0.48081, 0.47899) → ("0.4808", "0.4790"); (0.89686556, 0.89686559) →
/// ("0.89686556", "0.89686559").
pub fn apart(a: f64, b: f64) -> (String, String) {
    let mut digits = 4;
    loop {
        let (x, y) = (significant(a, digits), significant(b, digits));
        if x != y || digits >= 17 {
            return (x, y);
        }
        digits += 1;
    }
}

/// A count with a comma between thousands, as PRISMA diagrams and journals print it: "1,631".
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// People per `per`, rounded to a whole person, as a summary of findings states a risk:
/// "162 per 1,000".
pub fn per_people(x: f64, per: f64) -> String {
    format!("{} per {}", count(x.round().max(0.0) as u64), count(per as u64))
}

/// A risk per `per` people with its interval: "162 per 1,000 (114 to 232)".
pub fn risk_ci(x: f64, lower: f64, upper: f64, per: f64) -> String {
    let n = |v: f64| count(v.round().max(0.0) as u64);
    format!("{} ({} to {})", per_people(x, per), n(lower), n(upper))
}

/// A difference in people per `per`, as GRADEpro words it: "38 fewer per 1,000 (from 86
/// fewer to 32 more)"; a difference that rounds to none is "0 fewer" or "0 more" by its sign.
pub fn people_difference(d: f64, lower: f64, upper: f64, per: f64) -> String {
    let words = |v: f64| if v < 0.0 { format!("{} fewer", count((-v).round() as u64)) } else { format!("{} more", count(v.round() as u64)) };
    format!("{} per {} (from {} to {})", words(d), count(per as u64), words(lower), words(upper))
}

/// A difference of means in words, as a summary of findings states it: "MD 0.50 lower (1.20
/// lower to 0.20 higher)".
pub fn difference_words(label: &str, estimate: f64, lower: f64, upper: f64, decimals: usize) -> String {
    let words = |v: f64| {
        let shown = fixed(v.abs(), decimals);
        if v < 0.0 && shown.chars().any(|c| c.is_ascii_digit() && c != '0') {
            format!("{shown} lower")
        } else {
            format!("{shown} higher")
        }
    };
    format!("{label} {} ({} to {})", words(estimate), words(lower), words(upper))
}

/// An effect with its interval where the heading names the level: "RR 0.49 (0.34 to 0.70)".
pub fn effect_ci(label: &str, estimate: f64, lower: f64, upper: f64, decimals: usize) -> String {
    format!("{label} {} ({} to {})", fixed(estimate, decimals), fixed(lower, decimals), fixed(upper, decimals))
}

/// An effect with its interval in RevMan's style: "−0.89 [−2.01, 0.23]".
pub fn effect_ci_brackets(estimate: f64, lower: f64, upper: f64, decimals: usize) -> String {
    format!("{} [{}, {}]", fixed(estimate, decimals), fixed(lower, decimals), fixed(upper, decimals))
}

/// An effect in prose: "SMD 1.52 (95% CI 1.10 to 1.93)", with a true minus sign.
pub fn effect_sentence(label: &str, estimate: f64, lower: f64, upper: f64, level: f64, decimals: usize) -> String {
    format!(
        "{label} {} ({}% CI {} to {})",
        fixed(estimate, decimals),
        fixed(level, 0),
        fixed(lower, decimals),
        fixed(upper, decimals)
    )
}

/// A weight in percent with one decimal: "12.3%".
pub fn weight(percent: f64) -> String {
    format!("{}%", fixed(percent, 1))
}

/// A percentage rounded to a whole number: "92%".
pub fn percent0(percent: f64) -> String {
    format!("{}%", fixed(percent, 0))
}

/// A P value as RevMan 5 prints it in forest-plot footers, with the relation:
/// "P < 0.00001", "P < 0.0001", "P = 0.0004", "P = 0.003", "P = 0.04", "P = 0.55".
pub fn p_revman(p: f64) -> String {
    if p.is_nan() {
        return "P not estimable".to_string();
    }
    if p < 0.00001 {
        return "P < 0.00001".to_string();
    }
    if p < 0.0001 {
        return "P < 0.0001".to_string();
    }
    let decimals = if p >= 0.01 {
        2
    } else if p >= 0.001 {
        3
    } else {
        4
    };
    format!("P = {}", fixed(p, decimals))
}

/// A P value in journal style (AMA/Vancouver): "P < 0.001", "P = 0.003", "P = 0.04",
/// and "P > 0.99" at the top.
pub fn p_journal(p: f64) -> String {
    if p.is_nan() {
        return "P not estimable".to_string();
    }
    if p < 0.001 {
        "P < 0.001".to_string()
    } else if p < 0.01 {
        format!("P = {}", fixed(p, 3))
    } else if p > 0.99 {
        "P > 0.99".to_string()
    } else {
        format!("P = {}", fixed(p, 2))
    }
}

/// The numbers of a text formatted here (a comma between thousands, a point before decimals)
/// in another language's marks: `decimal` for the point and `thousands` for the comma, as a
/// language's wording table gives them (Spanish: "1,52" and "10 000"). Where the thousands
/// mark is a space, a four-digit number is not split ("1000"), as the SI and the RAE write it.
pub fn localize(text: &str, decimal: &str, thousands: &str) -> String {
    if decimal == "." && thousands == "," {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    let digit = |i: usize| chars.get(i).is_some_and(char::is_ascii_digit);
    let spaced = thousands.chars().all(char::is_whitespace);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !digit(i) || (i > 0 && (digit(i - 1) || chars[i - 1] == ',' || chars[i - 1] == '.')) {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A number starts: its integer part with its commas, then a point and decimals.
        let start = i;
        while digit(i) || (chars.get(i) == Some(&',') && digit(i + 1) && digit(i + 2) && digit(i + 3) && !digit(i + 4)) {
            i += 1;
        }
        let integer: String = chars[start..i].iter().collect();
        let plain: String = integer.chars().filter(char::is_ascii_digit).collect();
        if integer.contains(',') && !(spaced && plain.len() == 4) {
            out.push_str(&integer.replace(',', thousands));
        } else if integer.contains(',') {
            out.push_str(&plain);
        } else {
            out.push_str(&integer);
        }
        if chars.get(i) == Some(&'.') && digit(i + 1) {
            out.push_str(decimal);
            i += 1;
            while digit(i) {
                out.push(chars[i]);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risks_and_differences_as_a_summary_of_findings_words_them() {
        assert_eq!(per_people(161.6, 1000.0), "162 per 1,000");
        assert_eq!(risk_ci(444.6, 312.8, 631.0, 100_000.0), "445 per 100,000 (313 to 631)");
        assert_eq!(people_difference(-38.2, -86.0, 31.6, 1000.0), "38 fewer per 1,000 (from 86 fewer to 32 more)");
        assert_eq!(people_difference(0.2, -0.3, 1.0, 1000.0), "0 more per 1,000 (from 0 fewer to 1 more)");
        assert_eq!(difference_words("MD", -0.5, -1.2, 0.2, 2), "MD 0.50 lower (1.20 lower to 0.20 higher)");
        // A difference that rounds to nothing is not "0.00 lower".
        assert_eq!(difference_words("MD", -0.001, -0.3, 0.2, 2), "MD 0.00 higher (0.30 lower to 0.20 higher)");
        assert_eq!(effect_ci("RR", 0.4894, 0.3441, 0.6962, 2), "RR 0.49 (0.34 to 0.70)");
    }

    #[test]
    fn very_large_and_very_small_numbers_keep_their_size() {
        assert_eq!(data_value(1e308), "1e308");
        assert_eq!(data_value(-2.5e-9), "\u{2212}2.5e-9");
        assert_eq!(data_value(12.5), "12.5");
        assert_eq!(data_value(0.1234567), "0.123457");
        assert_eq!(fixed(2e198, 2), "2.00e198");
        assert_eq!(fixed(-1234.5, 1), "\u{2212}1234.5");
    }

    #[test]
    fn scientific_labels_are_short() {
        assert_eq!(scientific(3.0000000000000004e-8), "3e-8");
        assert_eq!(scientific(7.5e-8), "7.5e-8");
        assert_eq!(scientific(-1e-12), "\u{2212}1e-12");
        assert_eq!(scientific(0.0), "0");
    }

    #[test]
    fn numbers_that_differ_read_apart() {
        assert_eq!(significant(0.48081, 4), "0.4808");
        assert_eq!(significant(100.00000000000001, 4), "100.0");
        assert_eq!(significant(-3.287633, 4), "\u{2212}3.288");
        assert_eq!(significant(1.0103e-5, 4), "1.010e-5");
        assert_eq!(apart(0.48081, 0.47899), ("0.4808".to_string(), "0.4790".to_string()));
        assert_eq!(apart(0.89686556, 0.89686559), ("0.89686556".to_string(), "0.89686559".to_string()));
        assert_eq!(apart(2.0, 2.0), ("2.0000000000000000".to_string(), "2.0000000000000000".to_string()));
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1631), "1,631");
        assert_eq!(count(1234567), "1,234,567");
    }

    #[test]
    fn minus_sign_is_typographic_and_negative_zero_vanishes() {
        assert_eq!(fixed(-1.234, 2), "\u{2212}1.23");
        assert_eq!(fixed(-0.001, 2), "0.00");
        assert_eq!(fixed(2.5, 0), "2");
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "a NaN reached the number formatter")]
    fn a_nan_reaching_the_formatter_fails_the_tests() {
        fixed(f64::NAN, 2);
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn a_nan_is_never_printed() {
        assert_eq!(fixed(f64::NAN, 2), "not computed");
    }

    #[test]
    fn p_values_in_both_styles() {
        assert_eq!(p_revman(3e-6), "P < 0.00001");
        assert_eq!(p_revman(0.00007), "P < 0.0001");
        assert_eq!(p_revman(0.00042), "P = 0.0004");
        assert_eq!(p_revman(0.0312), "P = 0.03");
        assert_eq!(p_journal(0.0004), "P < 0.001");
        assert_eq!(p_journal(0.0042), "P = 0.004");
        assert_eq!(p_journal(0.5), "P = 0.50");
        assert_eq!(p_journal(0.999), "P > 0.99");
    }

    #[test]
    fn effects_in_prose() {
        assert_eq!(effect_sentence("SMD", -0.406, -0.766, -0.046, 95.0, 2), "SMD \u{2212}0.41 (95% CI \u{2212}0.77 to \u{2212}0.05)");
    }

    #[test]
    fn effects_with_brackets() {
        assert_eq!(effect_ci_brackets(-0.5, -1.0, 0.25, 2), "\u{2212}0.50 [\u{2212}1.00, 0.25]");
        assert_eq!(weight(12.345), "12.3%");
    }

    #[test]
    fn numbers_in_another_languages_marks() {
        assert_eq!(localize("SMD 1.52 (95% CI 1.09 to 1.96), 1,631 people", ",", "\u{a0}"), "SMD 1,52 (95% CI 1,09 to 1,96), 1631 people");
        assert_eq!(localize("103 per 1,000 (68 to 157); 12,345.6", ",", "\u{a0}"), "103 per 1000 (68 to 157); 12\u{a0}345,6");
        assert_eq!(localize("1,234,567 and 2.5", ",", "."), "1.234.567 and 2,5");
        // Not numbers of this module: a list "1,2" and a sentence's end "in 2022." stay.
        assert_eq!(localize("studies 1,2 and 3. In 2022.", ",", "\u{a0}"), "studies 1,2 and 3. In 2022.");
        assert_eq!(localize("\u{2212}0.41", ",", " "), "\u{2212}0,41");
        assert_eq!(localize("1.52", ".", ","), "1.52");
    }
}
