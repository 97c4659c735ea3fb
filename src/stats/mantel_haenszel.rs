//! Pooling 2×2 tables without first turning each into an effect size: Mantel–Haenszel for the
//! odds ratio, risk ratio and risk difference, and Peto's one-step odds ratio.
//!
//! - MH odds ratio with the Robins–Breslow–Greenland (1986) variance; MH risk ratio with the
//!   Greenland–Robins (1985) variance; MH risk difference with the Sato, Greenland & Robins
//!   (1989) variance (metafor's `rma.mh`) or the Greenland–Robins (1985) variance (RevMan 5,
//!   Deeks & Higgins 2010).
//! - Peto: ln OR = Σ(O − E)/ΣV, variance 1/ΣV (Yusuf et al. 1985), as metafor's `rma.peto`.
//! - Heterogeneity: for MH, Cochran's Q around the MH estimate with inverse-variance weights of
//!   the per-study effects, Q = Σ(yᵢ − θ̂_MH)²/vᵢ (metafor and RevMan 5 alike); for Peto,
//!   Q = Σ(O − E)²/V − (Σ(O − E))²/ΣV. I² = (Q − df)/Q, H² = Q/df, df = studies with an
//!   estimable effect − 1.
//!
//! Zero cells: metafor pools the raw counts (its `rma.mh` default `add = c(1/2, 0)`) and adds
//! 1/2 only for the per-study effects shown beside them; RevMan 5 adds 1/2 to every cell of a
//! study with a zero cell for the pooling too. The caller passes the tables it wants pooled.

use super::analysis::Pooled;
use super::dist;
use super::effect::{EffectSize, Effects, Table2x2};
use super::error::StatsError;
use super::inverse_variance::i2_from_q;
use super::spec::{Convention, Measure, Spec};
use super::analysis::Heterogeneity;

/// The Mantel–Haenszel estimate and its variance on the analysis scale, with the MH weights.
struct MhEstimate {
    estimate: f64,
    variance: f64,
    weights: Vec<f64>,
}

/// `raw` are the tables as counted, `corrected` the same with 0.5 added to the cells of a table
/// with a zero cell where the convention corrects (RevMan 5), else the raw tables again. The
/// odds and risk ratios use `corrected` throughout; the risk difference takes its estimate and
/// weights from `raw` and, under RevMan 5, its variance from `corrected`.
fn mh_estimate(measure: Measure, raw: &[Table2x2], corrected: &[Table2x2], convention: Convention) -> Result<MhEstimate, StatsError> {
    let tables = if measure == Measure::RD { raw } else { corrected };
    let undefined = || StatsError::Undefined(format!("the Mantel–Haenszel {}", measure.long_name().to_lowercase()));
    match measure {
        Measure::OR => {
            // R = Σ a·d/N, S = Σ b·c/N; RBG variance from P = (a + d)/N, Q = (b + c)/N.
            let (mut r, mut s, mut pr, mut ps_qr, mut qs) = (0.0, 0.0, 0.0, 0.0, 0.0);
            let mut weights = Vec::with_capacity(tables.len());
            for t in tables {
                let n = t.total();
                let (ri, si) = (t.a * t.d / n, t.b * t.c / n);
                let (pi, qi) = ((t.a + t.d) / n, (t.b + t.c) / n);
                r += ri;
                s += si;
                pr += pi * ri;
                ps_qr += pi * si + qi * ri;
                qs += qi * si;
                weights.push(si);
            }
            if r == 0.0 || s == 0.0 {
                return Err(undefined());
            }
            let variance = 0.5 * (pr / (r * r) + ps_qr / (r * s) + qs / (s * s));
            Ok(MhEstimate { estimate: (r / s).ln(), variance, weights })
        }
        Measure::RR => {
            let (mut r, mut s, mut num) = (0.0, 0.0, 0.0);
            let mut weights = Vec::with_capacity(tables.len());
            for t in tables {
                let (n1, n2, n) = (t.n1(), t.n2(), t.total());
                r += t.a * n2 / n;
                s += t.c * n1 / n;
                num += n1 * n2 * (t.a + t.c) / (n * n) - t.a * t.c / n;
                weights.push(t.c * n1 / n);
            }
            if r == 0.0 || s == 0.0 {
                return Err(undefined());
            }
            Ok(MhEstimate { estimate: (r / s).ln(), variance: num / (r * s), weights })
        }
        Measure::RD => {
            let (mut num, mut den) = (0.0, 0.0);
            let mut weights = Vec::with_capacity(tables.len());
            for t in tables {
                let (n1, n2, n) = (t.n1(), t.n2(), t.total());
                num += (t.a * n2 - t.c * n1) / n;
                den += n1 * n2 / n;
                weights.push(n1 * n2 / n);
            }
            if den == 0.0 {
                return Err(undefined());
            }
            let rd = num / den;
            let variance = match convention {
                // Sato, Greenland & Robins (1989), as metafor.
                Convention::Metafor => {
                    let (mut p_sum, mut q_sum) = (0.0, 0.0);
                    for t in tables {
                        let (n1, n2, n) = (t.n1(), t.n2(), t.total());
                        p_sum += t.c * (n1 / n).powi(2) - t.a * (n2 / n).powi(2) + (n1 / n) * (n2 / n) * (n2 - n1) / 2.0;
                        q_sum += t.a * (n2 - t.c) / n + t.c * (n1 - t.a) / n;
                    }
                    (rd * p_sum + q_sum / 2.0) / (den * den)
                }
                // Greenland & Robins (1985), as RevMan 5 (Deeks & Higgins 2010), with 0.5 added
                // to the cells of a study with a zero cell (as meta's metabin, which follows
                // RevMan): a study without events in either group adds to the variance.
                Convention::Revman5 => {
                    let s: f64 = corrected
                        .iter()
                        .map(|t| {
                            let (n1, n2, n) = (t.n1(), t.n2(), t.total());
                            (t.a * t.b * n2.powi(3) + t.c * t.d * n1.powi(3)) / (n1 * n2 * n * n)
                        })
                        .sum();
                    s / (den * den)
                }
            };
            Ok(MhEstimate { estimate: rd, variance, weights })
        }
        other => Err(StatsError::MethodMeasure { method: super::spec::Method::MH, measure: other }),
    }
}

/// Mantel–Haenszel pooling of `tables`; `effects` are the per-study effects (on the analysis
/// scale) used for the heterogeneity statistic, `None` where a study has none.
pub fn mantel_haenszel(
    measure: Measure,
    raw: &[Table2x2],
    corrected: &[Table2x2],
    effects: &Effects,
    spec: &Spec,
) -> Result<Pooled, StatsError> {
    if raw.is_empty() {
        return Err(StatsError::NoStudies);
    }
    let mh = mh_estimate(measure, raw, corrected, spec.convention)?;
    let heterogeneity = q_around(mh.estimate, effects);
    Ok(fixed_result(mh.estimate, mh.variance.sqrt(), heterogeneity, percent(&mh.weights), spec))
}

/// Peto's one-step odds ratio from raw `tables`.
pub fn peto(tables: &[Table2x2], spec: &Spec) -> Result<Pooled, StatsError> {
    if tables.is_empty() {
        return Err(StatsError::NoStudies);
    }
    let (mut sum_oe, mut sum_v, mut sum_oe2_v, mut k_pos) = (0.0, 0.0, 0.0, 0usize);
    let mut weights = Vec::with_capacity(tables.len());
    for t in tables {
        let (o_minus_e, v) = peto_o_minus_e(t);
        sum_oe += o_minus_e;
        sum_v += v;
        if v > 0.0 {
            sum_oe2_v += o_minus_e * o_minus_e / v;
            k_pos += 1;
        }
        weights.push(v);
    }
    if sum_v == 0.0 {
        return Err(StatsError::Undefined("Peto's odds ratio (no study has events)".to_string()));
    }
    let heterogeneity = if k_pos >= 2 {
        let q = (sum_oe2_v - sum_oe * sum_oe / sum_v).max(0.0);
        Some(q_heterogeneity(q, (k_pos - 1) as f64))
    } else {
        None
    };
    Ok(fixed_result(sum_oe / sum_v, (1.0 / sum_v).sqrt(), heterogeneity, percent(&weights), spec))
}

/// O − E and its hypergeometric variance V for one table (Peto).
pub fn peto_o_minus_e(t: &Table2x2) -> (f64, f64) {
    let (n1, n2, n) = (t.n1(), t.n2(), t.total());
    let events = t.a + t.c;
    let non_events = t.b + t.d;
    let expected = events * n1 / n;
    let v = events * non_events * (n1 / n) * (n2 / n) / (n - 1.0);
    (t.a - expected, v)
}

/// A study's Peto log odds ratio (O − E)/V with variance 1/V (escalc "PETO").
pub fn peto_effect(t: &Table2x2) -> Option<EffectSize> {
    let (oe, v) = peto_o_minus_e(t);
    (v > 0.0).then(|| EffectSize { yi: oe / v, vi: 1.0 / v })
}

fn q_around(estimate: f64, effects: &Effects) -> Option<Heterogeneity> {
    let present: Vec<EffectSize> = effects.iter().flatten().collect();
    if present.len() < 2 {
        return None;
    }
    let q = present.iter().map(|e| (e.yi - estimate).powi(2) / e.vi).sum::<f64>().max(0.0);
    Some(q_heterogeneity(q, (present.len() - 1) as f64))
}

fn q_heterogeneity(q: f64, df: f64) -> Heterogeneity {
    let (i2, h2) = i2_from_q(q, df);
    Heterogeneity { q, df, p: dist::pchisq_upper(q, df), i2, h2, i2_ci: None, h2_ci: None }
}

fn percent(weights: &[f64]) -> Vec<f64> {
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| 100.0 * (w / total)).collect()
}

/// A common-effect result with the z test (MH and Peto offer no other).
fn fixed_result(
    estimate: f64,
    se: f64,
    heterogeneity: Option<Heterogeneity>,
    weights: Vec<f64>,
    spec: &Spec,
) -> Pooled {
    let crit = dist::qnorm(1.0 - spec.alpha() / 2.0);
    let (ci_lower, ci_upper) = (estimate - crit * se, estimate + crit * se);
    let stat = estimate / se;
    Pooled {
        estimate,
        se,
        ci_lower,
        ci_upper,
        stat,
        stat_df: None,
        p: dist::p_norm_two_sided(stat),
        tau2: None,
        tau2_ci: None,
        heterogeneity,
        // A prediction interval belongs to a random-effects model.
        prediction: None,
        weights,
        iterations: 0,
    }
}

/// Heterogeneity Q around the Mantel–Haenszel estimate, for RevMan 5's "M-H, Random"
/// analysis, which feeds this Q (not the inverse-variance one) into DerSimonian–Laird.
pub fn mh_q(measure: Measure, raw: &[Table2x2], corrected: &[Table2x2], effects: &Effects) -> Result<Option<f64>, StatsError> {
    let mh = mh_estimate(measure, raw, corrected, Convention::Revman5)?;
    Ok(q_around(mh.estimate, effects).map(|h| h.q))
}
