//! The three distributions inference needs — standard normal, Student's t and χ² — as plain
//! functions. statrs supplies the densities and distribution functions; quantiles are refined
//! here by safeguarded Newton steps, because statrs' generic inverse stops after a few steps and
//! confidence limits must agree with R's `qt`/`qchisq` to well below 1e-6.

use statrs::distribution::{ChiSquared, Continuous, ContinuousCDF, Normal, StudentsT};

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal parameters are valid")
}

/// Φ⁻¹(p), the standard normal quantile.
pub fn qnorm(p: f64) -> f64 {
    std_normal().inverse_cdf(p)
}

/// Two-sided p-value of a standard normal statistic: 2·(1 − Φ(|z|)).
pub fn p_norm_two_sided(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    2.0 * std_normal().cdf(-z.abs())
}

/// Two-sided p-value of a t statistic with `df` degrees of freedom.
pub fn p_t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    let dist = StudentsT::new(0.0, 1.0, df).expect("t parameters are valid");
    2.0 * dist.cdf(-t.abs())
}

/// The t quantile for probability `p` with `df` degrees of freedom: a Cornish–Fisher start
/// (Abramowitz & Stegun 26.7.5) refined by Newton steps.
pub fn qt(p: f64, df: f64) -> f64 {
    remembered(Quantile::T, p, df, qt_uncached)
}

fn qt_uncached(p: f64, df: f64) -> f64 {
    let dist = StudentsT::new(0.0, 1.0, df).expect("t parameters are valid");
    let z = qnorm(p);
    let (z3, z5) = (z.powi(3), z.powi(5));
    let start = z + (z3 + z) / (4.0 * df) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * df * df);
    let start = if start.is_finite() && df >= 3.0 { start } else { dist.inverse_cdf(p) };
    refine(|x| dist.cdf(x), |x| dist.pdf(x), p, start, f64::NEG_INFINITY, f64::INFINITY)
}

/// Upper-tail probability of the χ² distribution: P(X > q).
pub fn pchisq_upper(q: f64, df: f64) -> f64 {
    if q.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if q <= 0.0 {
        return 1.0;
    }
    let dist = ChiSquared::new(df).expect("chi-squared parameters are valid");
    dist.sf(q)
}

/// The χ² quantile for probability `p` (lower tail): a Wilson–Hilferty start refined by
/// Newton steps.
pub fn qchisq(p: f64, df: f64) -> f64 {
    remembered(Quantile::ChiSquared, p, df, qchisq_uncached)
}

fn qchisq_uncached(p: f64, df: f64) -> f64 {
    let dist = ChiSquared::new(df).expect("chi-squared parameters are valid");
    let c = 2.0 / (9.0 * df);
    let wilson_hilferty = df * (1.0 - c + qnorm(p) * c.sqrt()).powi(3);
    let start = if wilson_hilferty > 0.0 && df >= 2.0 { wilson_hilferty } else { dist.inverse_cdf(p) };
    refine(|x| dist.cdf(x), |x| dist.pdf(x), p, start, 0.0, f64::INFINITY)
}

#[derive(Clone, Copy, PartialEq)]
enum Quantile {
    T,
    ChiSquared,
}

/// Quantiles are asked for with the same (p, df) again and again — every analysis of ten
/// studies at the 95% level needs t(0.975, 9) or χ²(0.025, 9) and χ²(0.975, 9) — and each costs
/// a dozen evaluations of an incomplete gamma or beta function. A small per-thread memory of
/// recent answers (exact keys, so results are bit-identical with or without it) saves that.
fn remembered(kind: Quantile, p: f64, df: f64, compute: fn(f64, f64) -> f64) -> f64 {
    use std::cell::RefCell;
    const SLOTS: usize = 8;
    thread_local! {
        static RECENT: RefCell<([(u8, u64, u64, f64); SLOTS], usize)> = const { RefCell::new(([(0, 0, 0, 0.0); SLOTS], 0)) };
    }
    let key = (kind as u8 + 1, p.to_bits(), df.to_bits());
    if let Some(hit) = RECENT.with(|r| r.borrow().0.iter().find(|e| (e.0, e.1, e.2) == key).map(|e| e.3)) {
        return hit;
    }
    let value = compute(p, df);
    RECENT.with(|r| {
        let mut r = r.borrow_mut();
        let slot = r.1;
        r.0[slot] = (key.0, key.1, key.2, value);
        r.1 = (slot + 1) % SLOTS;
    });
    value
}

/// Solve cdf(x) = p near `start` by Newton steps kept inside a shrinking bracket.
fn refine(
    cdf: impl Fn(f64) -> f64,
    pdf: impl Fn(f64) -> f64,
    p: f64,
    start: f64,
    min: f64,
    max: f64,
) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return start;
    }
    let mut x = if start.is_finite() { start } else { 0.5 * (min.max(-1.0) + max.min(1.0)) };
    let (mut lo, mut hi) = (min, max);
    for _ in 0..100 {
        let f = cdf(x) - p;
        if f == 0.0 {
            return x;
        }
        if f > 0.0 {
            hi = x;
        } else {
            lo = x;
        }
        let d = pdf(x);
        let mut next = if d > 0.0 { x - f / d } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = if lo.is_finite() && hi.is_finite() {
                0.5 * (lo + hi)
            } else if lo.is_finite() {
                lo + 2.0 * (x - lo).abs().max(1.0)
            } else {
                hi - 2.0 * (hi - x).abs().max(1.0)
            };
        }
        if (next - x).abs() <= 1e-15 * x.abs().max(1e-300) {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values printed by R 4.2 (Debian bookworm) with digits = 16: qnorm(0.975), qt(0.975, 4), qchisq(0.025, 12), qchisq(0.975, 12).
    #[test]
    fn quantiles_match_r() {
        assert!((qnorm(0.975) - 1.959963984540054).abs() < 1e-14);
        assert!((qt(0.975, 4.0) - 2.776445105197793).abs() < 1e-12);
        assert!((qchisq(0.025, 12.0) - 4.403788506981702).abs() < 1e-11);
        assert!((qchisq(0.975, 12.0) - 23.336664158645334).abs() < 1e-10);
        // qchisq(0.025, 1), qchisq(0.975, 999999) and qt(0.025, 1) from R
        assert!((qchisq(0.025, 1.0) / 0.0009820691171752562 - 1.0).abs() < 1e-10);
        assert!((qchisq(0.975, 999999.0) / 1002772.700082022 - 1.0).abs() < 1e-12);
        assert!((qt(0.025, 1.0) / -12.70620473617471 - 1.0).abs() < 1e-10);
    }

    #[test]
    fn p_values_match_r() {
        // 2 * pnorm(-1.96) and 2 * pt(-2.5, 7), pchisq(20, 10, lower.tail = FALSE)
        // statrs' erfc is good to about 1e-10 relative here; ample for 1e-6 parity.
        let p = p_norm_two_sided(1.96);
        assert!((p / 0.04999579029644086 - 1.0).abs() < 1e-9, "{p:e}");
        assert!((p_t_two_sided(2.5, 7.0) - 0.04099221858575287).abs() < 1e-12);
        assert!((pchisq_upper(20.0, 10.0) - 0.02925268807696108).abs() < 1e-12);
    }
}
