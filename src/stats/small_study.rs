//! Small-study effects: do smaller (less precise) studies report different effects? Publication
//! bias is one explanation among several (heterogeneity, chance, artefacts), so these are
//! tests of funnel-plot asymmetry, not of bias itself (Cochrane Handbook, chapter 13).
//!
//! Three methods, each exactly as metafor 3.8 computes it by default, so a review can quote
//! either program:
//!
//! - [`egger`]: Egger's regression test in metafor's form, `regtest(res)`: a meta-regression of
//!   the effects on their standard errors with the analysis' τ² estimator and test (Egger et
//!   al. 1997; Sterne & Egger 2005). The slope's z (or t) tests asymmetry; the intercept is the
//!   "limit estimate", the effect of a hypothetical study with SE 0 (Rücker et al. 2011).
//! - [`begg`]: Begg & Mazumdar's (1994) rank correlation, `ranktest(res)`: Kendall's τ between
//!   the standardised deviations from the common-effect estimate and the variances. As metafor
//!   asks `cor.test` for the exact p-value, it is exact when there are no ties; with ties R
//!   falls back on the normal approximation with the tie correction, and so does this module.
//!   R's exact distribution overflows beyond 170 studies (metafor returns NaN); there the normal
//!   approximation is used and said so in a note.
//! - [`trim_and_fill`]: Duval & Tweedie's (2000) trim-and-fill, `trimfill(res)`: the L0
//!   estimator of the number of missing studies, the side chosen from the sign of the Egger
//!   slope, the missing studies filled in as mirror images about the trimmed estimate, and the
//!   model refitted to the filled data by the analysis' own method, test and level.
//!
//! The Cochrane Handbook (chapter 13) advises against these tests with fewer than 10 studies;
//! [`small_study`] says so in a note rather than refusing, and leaves a quantity `None` only
//! where it cannot exist (fewer than 3 studies; a Mantel–Haenszel or Peto model, which has no
//! inverse-variance regression to extend).

use super::analysis::{fit_inverse_variance, is_inverse_variance, Analysis, Pooled};
use super::dist;
use super::effect::EffectSize;
use super::error::StatsError;
use super::meta_regression::meta_regression;
use super::spec::Spec;

/// Egger's regression test (metafor `regtest`, model "rma", predictor "sei").
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Egger {
    /// z or t statistic of the slope on the standard error.
    pub stat: f64,
    /// Degrees of freedom of a t statistic (k − 2), `None` for z.
    pub stat_df: Option<f64>,
    pub p: f64,
    pub slope: f64,
    pub slope_se: f64,
    /// The limit estimate (intercept: the effect at SE = 0) and its confidence interval.
    pub estimate: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// Residual τ² of the regression, `None` for a common-effect model.
    pub tau2: Option<f64>,
}

/// Begg and Mazumdar's rank correlation test (metafor `ranktest`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Begg {
    /// Kendall's τ (τ-b when there are ties).
    pub tau: f64,
    pub p: f64,
    /// Whether the p-value is exact (no ties, k ≤ 170) or from the normal approximation.
    pub exact: bool,
}

/// The side of the funnel plot on which studies are estimated to be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

/// Trim-and-fill (metafor `trimfill`, estimator L0).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrimFill {
    pub side: Side,
    /// Estimated number of missing studies, and its standard error.
    pub k0: usize,
    pub k0_se: f64,
    /// The filled-in studies, in metafor's order.
    pub filled: Vec<EffectSize>,
    /// The model refitted to the observed and filled studies.
    pub pooled: Pooled,
}

/// Everything [`small_study`] computes for one analysis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SmallStudy {
    pub egger: Option<Egger>,
    pub begg: Option<Begg>,
    pub trimfill: Option<TrimFill>,
    /// Cautions and the reasons for a missing quantity, in plain words.
    pub notes: Vec<String>,
}

/// The Cochrane Handbook's minimum number of studies for a test of funnel-plot asymmetry.
pub const HANDBOOK_MIN_STUDIES: usize = 10;

/// Egger's test, Begg's test and trim-and-fill for the pooled studies of `analysis`.
pub fn small_study(analysis: &Analysis) -> SmallStudy {
    let (yi, vi, _) = analysis.pooled_effects();
    let spec = &analysis.spec;
    let k = yi.len();
    let mut notes = Vec::new();
    if k < 3 {
        notes.push(format!(
            "Tests for small-study effects need at least 3 studies; there {} {k}.",
            if k == 1 { "is" } else { "are" }
        ));
        return SmallStudy { egger: None, begg: None, trimfill: None, notes };
    }
    if k < HANDBOOK_MIN_STUDIES {
        notes.push(format!(
            "With {k} studies (fewer than {HANDBOOK_MIN_STUDIES}) tests for funnel-plot asymmetry have too little power to tell chance from real asymmetry (Cochrane Handbook, chapter 13); interpret with caution."
        ));
    }
    let (egger_result, trimfill_result) = if is_inverse_variance(spec) {
        (noted(&mut notes, "Egger's test", egger(&yi, &vi, spec)), noted(&mut notes, "Trim-and-fill", trim_and_fill(&yi, &vi, spec)))
    } else {
        notes.push(format!(
            "Egger's test and trim-and-fill need an inverse-variance model; this analysis pools by {}.",
            if spec.is_random() { "DerSimonian–Laird with the Mantel–Haenszel Q" } else { spec.method.name() }
        ));
        (None, None)
    };
    let begg_result = noted(&mut notes, "Begg's test", begg(&yi, &vi));
    if let Some(b) = &begg_result {
        if !b.exact {
            notes.push(if k > MAX_EXACT_KENDALL {
                format!("Begg's test uses the normal approximation: R's exact distribution of Kendall's tau fails beyond {MAX_EXACT_KENDALL} studies (metafor reports NaN).")
            } else {
                "Begg's test uses the normal approximation with a correction for ties, as R does when values are tied.".to_string()
            });
        }
    }
    SmallStudy { egger: egger_result, begg: begg_result, trimfill: trimfill_result, notes }
}

/// Egger's regression test: yᵢ = β₀ + β₁·√vᵢ, fitted with the τ² estimator, test and level of
/// `spec` (metafor `regtest(res)`).
pub fn egger(yi: &[f64], vi: &[f64], spec: &Spec) -> Result<Egger, StatsError> {
    let sei: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
    let m = meta_regression(yi, &sei, vi, spec)?;
    if m.se_slope.is_nan() || m.se_slope <= 0.0 {
        // Only Knapp–Hartung gets here: its residual variance is 0 when the effects lie exactly
        // on the line (identical effects among them), and metafor's t is ±Inf or NaN.
        return Err(StatsError::Degenerate(
            "the effects lie exactly on a straight line in their standard errors (identical effects do), so the Knapp–Hartung residual variance is 0 and the t statistic of the slope is infinite or undefined; the z test does not have this problem".into(),
        ));
    }
    let (ci_lower, ci_upper) = m.intercept_ci();
    Ok(Egger {
        stat: m.slope_stat(),
        stat_df: m.stat_df,
        p: m.slope_p(),
        slope: m.slope,
        slope_se: m.se_slope,
        estimate: m.intercept,
        ci_lower,
        ci_upper,
        tau2: m.tau2,
    })
}

/// Largest k for which R's `cor.test` computes the exact distribution of Kendall's statistic
/// (it divides by n!, which overflows at 171).
pub const MAX_EXACT_KENDALL: usize = 170;

/// Begg and Mazumdar's test: Kendall's τ between yᵢ* = (yᵢ − μ̂)/√(vᵢ − 1/Σw) (μ̂ the
/// common-effect estimate, w = 1/v) and vᵢ, with R's `cor.test(..., method = "kendall",
/// exact = TRUE)` p-value.
pub fn begg(yi: &[f64], vi: &[f64]) -> Result<Begg, StatsError> {
    let k = yi.len();
    if k < 3 {
        return Err(StatsError::TooFewStudies { what: "Begg's test".into(), needed: 3, have: k });
    }
    let sw: f64 = vi.iter().map(|v| 1.0 / v).sum();
    let theta = yi.iter().zip(vi).map(|(y, v)| y / v).sum::<f64>() / sw;
    let vb = 1.0 / sw;
    let ystar: Vec<f64> = yi.iter().zip(vi).map(|(y, v)| (y - theta) / (v - vb).sqrt()).collect();
    kendall(&ystar, vi)
}

/// Kendall's τ-b and the two-sided p-value of R's `cor.test(x, y, method = "kendall",
/// exact = TRUE)`: the exact null distribution without ties, else the normal approximation with
/// the tie-corrected variance (no continuity correction).
pub fn kendall(x: &[f64], y: &[f64]) -> Result<Begg, StatsError> {
    let n = x.len();
    let (s, nx, ny) = kendall_counts(x, y);
    if nx == 0.0 || ny == 0.0 {
        return Err(StatsError::Undefined("Kendall's tau (one of the variables is constant)".to_string()));
    }
    let tau = s / (nx * ny).sqrt();
    let ties = |v: &[f64]| {
        let mut sorted = v.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mut groups = Vec::new();
        let mut run = 1.0;
        for w in sorted.windows(2) {
            if w[0] == w[1] {
                run += 1.0;
            } else {
                if run > 1.0 {
                    groups.push(run);
                }
                run = 1.0;
            }
        }
        if run > 1.0 {
            groups.push(run);
        }
        groups
    };
    let (xt, yt) = (ties(x), ties(y));
    let nf = n as f64;
    if xt.is_empty() && yt.is_empty() && n <= MAX_EXACT_KENDALL {
        // T = number of concordant pairs; P(T ≤ q) from the exact null distribution.
        let pairs = n * (n - 1) / 2;
        let q = ((tau + 1.0) * nf * (nf - 1.0) / 4.0).round() as usize;
        let cdf = kendall_null_cdf(n);
        let p = if (q as f64) > nf * (nf - 1.0) / 4.0 {
            // 1 − P(T ≤ q − 1) = P(T ≥ q) = P(T ≤ pairs − q) by symmetry, without cancellation.
            cdf[pairs - q]
        } else {
            cdf[q]
        };
        return Ok(Begg { tau, p: (2.0 * p).min(1.0), exact: true });
    }
    let sum = |t: &[f64], f: &dyn Fn(f64) -> f64| t.iter().map(|&v| f(v)).sum::<f64>();
    let v0 = nf * (nf - 1.0) * (2.0 * nf + 5.0);
    let vt = sum(&xt, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let vu = sum(&yt, &|t| t * (t - 1.0) * (2.0 * t + 5.0));
    let v1 = sum(&xt, &|t| t * (t - 1.0)) * sum(&yt, &|t| t * (t - 1.0));
    let v2 = sum(&xt, &|t| t * (t - 1.0) * (t - 2.0)) * sum(&yt, &|t| t * (t - 1.0) * (t - 2.0));
    let var_s = (v0 - vt - vu) / 18.0 + v1 / (2.0 * nf * (nf - 1.0)) + v2 / (9.0 * nf * (nf - 1.0) * (nf - 2.0));
    let z = s / var_s.sqrt();
    Ok(Begg { tau, p: dist::p_norm_two_sided(z), exact: false })
}

/// The pairwise count's sign (the test's reference for [`kendall_counts`]).
#[cfg(test)]
fn sign(d: f64) -> f64 {
    if d > 0.0 {
        1.0
    } else if d < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Kendall's S (concordant minus discordant pairs) and the numbers of pairs not tied in x and
/// not tied in y, in O(n log n) (Knight 1966): sorted by x then y, the discordant pairs are the
/// inversions of y, counted while merge-sorting it. With 100,000 studies the pairwise count
/// took about 20 s. All counts are whole numbers, exact in f64 up to 2^53.
fn kendall_counts(x: &[f64], y: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as u64;
    // −0 and +0 are one value (as the pairwise signs have it), for the sort as for the ties.
    let (x, y): (Vec<f64>, Vec<f64>) = x.iter().zip(y).map(|(&a, &b)| (a + 0.0, b + 0.0)).unzip();
    let (x, y) = (x.as_slice(), y.as_slice());
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
    // Pairs within runs of equal values (sorted).
    let tied = |same: &dyn Fn(usize, usize) -> bool, len: usize| {
        let (mut pairs, mut run) = (0u64, 1u64);
        for i in 1..=len {
            if i < len && same(i - 1, i) {
                run += 1;
            } else {
                pairs += run * (run - 1) / 2;
                run = 1;
            }
        }
        pairs
    };
    let x_ties = tied(&|a, b| x[order[a]] == x[order[b]], order.len());
    let both_ties = tied(&|a, b| x[order[a]] == x[order[b]] && y[order[a]] == y[order[b]], order.len());
    let mut ys: Vec<f64> = order.iter().map(|&i| y[i]).collect();
    let discordant = inversions(&mut ys);
    let y_ties = tied(&|a, b| ys[a] == ys[b], ys.len());
    let all = n * n.saturating_sub(1) / 2;
    let s = (all + both_ties) as f64 - (x_ties + y_ties) as f64 - 2.0 * discordant as f64;
    (s, (all - x_ties) as f64, (all - y_ties) as f64)
}

/// Sort `v` (stable merge sort) and return how many pairs it had out of order (equal values
/// are in order).
fn inversions(v: &mut [f64]) -> u64 {
    let mut buffer = v.to_vec();
    let mut count = 0u64;
    let mut width = 1;
    while width < v.len() {
        for start in (0..v.len()).step_by(2 * width) {
            let mid = (start + width).min(v.len());
            let end = (start + 2 * width).min(v.len());
            let (mut i, mut j) = (start, mid);
            for slot in &mut buffer[start..end] {
                if j >= end || (i < mid && v[i] <= v[j]) {
                    *slot = v[i];
                    i += 1;
                } else {
                    *slot = v[j];
                    count += (mid - i) as u64;
                    j += 1;
                }
            }
        }
        v.copy_from_slice(&buffer);
        width *= 2;
    }
    count
}

/// P(T ≤ q) for q = 0..n(n−1)/2 under independence, T the number of concordant (equivalently
/// inverted) pairs of a random permutation: the Mahonian distribution, built one element at a
/// time as probabilities (P_m(j) = (1/m)·Σ_{i<m} P_{m−1}(j − i)) so nothing overflows.
fn kendall_null_cdf(n: usize) -> Vec<f64> {
    let max = n * (n - 1) / 2;
    let mut p = vec![0.0; max + 1];
    p[0] = 1.0;
    let mut top = 0;
    for m in 2..=n {
        let new_top = top + m - 1;
        let mut prefix = vec![0.0; new_top + 2];
        for j in 0..=new_top {
            prefix[j + 1] = prefix[j] + if j <= top { p[j] } else { 0.0 };
        }
        for (j, pj) in p.iter_mut().enumerate().take(new_top + 1) {
            let lo = j.saturating_sub(m - 1);
            *pj = (prefix[j + 1] - prefix[lo]) / m as f64;
        }
        top = new_top;
    }
    let mut acc = 0.0;
    for pj in p.iter_mut() {
        acc += *pj;
        *pj = acc;
    }
    p
}

/// Trim-and-fill with the L0 estimator, as metafor's `trimfill(res)`: the side from the sign
/// of the Egger slope (missing on the left when it is positive), then alternately trimming the
/// k0 most extreme studies, re-estimating the centre from the rest (same method) and counting
/// k0 again from the Wilcoxon ranks, until k0 stops changing; the k0 trimmed studies are
/// mirrored about the last centre, and the model is refitted to all.
pub fn trim_and_fill(yi: &[f64], vi: &[f64], spec: &Spec) -> Result<TrimFill, StatsError> {
    let k = yi.len();
    if k < 3 {
        return Err(StatsError::TooFewStudies { what: "trim-and-fill".into(), needed: 3, have: k });
    }
    let sei: Vec<f64> = vi.iter().map(|v| v.sqrt()).collect();
    let side = if meta_regression(yi, &sei, vi, spec)?.slope < 0.0 { Side::Right } else { Side::Left };
    let flip = if side == Side::Right { -1.0 } else { 1.0 };
    // Sorted (stably, as R's radix sort) on the side where studies are missing: the left.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| (flip * yi[a]).total_cmp(&(flip * yi[b])));
    let ys: Vec<f64> = order.iter().map(|&i| flip * yi[i]).collect();
    let vs: Vec<f64> = order.iter().map(|&i| vi[i]).collect();
    let kf = k as f64;
    let (mut k0, mut previous) = (0usize, usize::MAX);
    let (mut beta, mut k0_se) = (f64::NAN, f64::NAN);
    let mut iterations = 0;
    while k0 != previous {
        previous = k0;
        iterations += 1;
        if iterations > 100 {
            return Err(StatsError::Undefined("trim-and-fill (the number of missing studies does not settle)".to_string()));
        }
        let trimmed = k - k0;
        beta = fit_inverse_variance(&ys[..trimmed], &vs[..trimmed], spec)?.estimate;
        let centred: Vec<f64> = ys.iter().map(|y| y - beta).collect();
        // Ranks of |centred|, ties broken by position (R's ties.method = "first").
        let mut by_size: Vec<usize> = (0..k).collect();
        by_size.sort_by(|&a, &b| centred[a].abs().total_cmp(&centred[b].abs()));
        let mut sr = 0.0;
        for (rank, &i) in by_size.iter().enumerate() {
            if centred[i] > 0.0 {
                sr += (rank + 1) as f64;
            }
        }
        let l0 = (4.0 * sr - kf * (kf + 1.0)) / (2.0 * kf - 1.0);
        let var_sr = (kf * (kf + 1.0) * (2.0 * kf + 1.0) + 10.0 * l0.powi(3) + 27.0 * l0 * l0 + 17.0 * l0
            - 18.0 * kf * l0 * l0
            - 18.0 * kf * l0
            + 6.0 * kf * kf * l0)
            / 24.0;
        k0_se = (4.0 * var_sr.sqrt() / (2.0 * kf - 1.0)).max(0.0);
        k0 = l0.round().max(0.0) as usize;
        k0 = k0.min(k);
    }
    let filled: Vec<EffectSize> =
        (k - k0..k).map(|j| EffectSize { yi: flip * (2.0 * beta - ys[j]), vi: vs[j] }).collect();
    let all_y: Vec<f64> = yi.iter().copied().chain(filled.iter().map(|e| e.yi)).collect();
    let all_v: Vec<f64> = vi.iter().copied().chain(filled.iter().map(|e| e.vi)).collect();
    let pooled = fit_inverse_variance(&all_y, &all_v, spec)?;
    Ok(TrimFill { side, k0, k0_se, filled, pooled })
}

/// `r`'s value, or `None` with a note saying why `what` is missing.
pub(super) fn noted<T>(notes: &mut Vec<String>, what: &str, r: Result<T, StatsError>) -> Option<T> {
    match r {
        Ok(x) => Some(x),
        Err(e) => {
            notes.push(format!("{what} could not be computed: {e}."));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kendall_null_distribution_is_a_distribution() {
        let cdf = kendall_null_cdf(6);
        assert_eq!(cdf.len(), 16);
        assert!((cdf[15] - 1.0).abs() < 1e-15);
        // One permutation of 6! has no inversions.
        assert!((cdf[0] - 1.0 / 720.0).abs() < 1e-17);
        // Symmetric: P(T ≤ q) = 1 − P(T ≤ max − q − 1).
        for q in 0..15 {
            assert!((cdf[q] - (1.0 - cdf[14 - q])).abs() < 1e-14);
        }
    }

    #[test]
    fn kendall_counts_match_the_pairwise_count_with_and_without_ties() {
        let brute = |x: &[f64], y: &[f64]| {
            let (mut s, mut nx, mut ny) = (0.0, 0.0, 0.0);
            for i in 0..x.len() {
                for j in 0..i {
                    let (a, b) = (sign(x[i] - x[j]), sign(y[i] - y[j]));
                    s += a * b;
                    nx += a * a;
                    ny += b * b;
                }
            }
            (s, nx, ny)
        };
        let mut seed = 7u64;
        let mut next = |m: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) % m) as f64
        };
        assert_eq!(kendall_counts(&[-0.0, 0.0, 1.0], &[2.0, 1.0, 3.0]), brute(&[-0.0, 0.0, 1.0], &[2.0, 1.0, 3.0]));
        for n in [0, 1, 2, 3, 7, 50, 333] {
            for levels in [3, 20, 1_000_000] {
                let x: Vec<f64> = (0..n).map(|_| next(levels)).collect();
                let y: Vec<f64> = (0..n).map(|_| next(levels) / 7.0).collect();
                assert_eq!(kendall_counts(&x, &y), brute(&x, &y), "n = {n}, {levels} levels");
            }
        }
    }

    #[test]
    fn perfectly_ordered_pairs_have_tau_one() {
        let b = kendall(&[1.0, 2.0, 3.0, 4.0], &[0.1, 0.2, 0.3, 0.4]).unwrap();
        assert_eq!(b.tau, 1.0);
        assert!(b.exact);
        // Two-sided exact p for n = 4, all concordant: 2/24.
        assert!((b.p - 2.0 / 24.0).abs() < 1e-15);
    }
}
