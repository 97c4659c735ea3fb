//! Inverse-variance pooling: the common-effect model (τ² = 0) and the random-effects model
//! (τ² from [`super::tau2`]), with the Wald z test or the Knapp–Hartung t test.
//!
//! - Pooled estimate μ̂ = Σwᵢyᵢ/Σwᵢ with wᵢ = 1/(vᵢ + τ²), variance 1/Σwᵢ (Borenstein et al. 2009).
//! - Knapp–Hartung (2003): variance multiplied by s² = Σwᵢ(yᵢ − μ̂)²/(k − 1), t with k − 1 df,
//!   without the ad hoc truncation at 1 (metafor's default).
//! - Cochran's Q with common-effect weights; I² and H² as metafor defines them: for a
//!   common-effect model I² = (Q − df)/Q and H² = Q/df; for a random-effects model
//!   I² = τ²/(τ² + ṽ) and H² = (τ² + ṽ)/ṽ with the "typical" within-study variance
//!   ṽ = (k − 1)Σw/((Σw)² − Σw²) (Higgins & Thompson 2002, eq. 9). RevMan 5 uses
//!   I² = (Q − df)/Q for both models.
//! - Prediction interval μ̂ ± crit·√(SE² + τ²) for random-effects models, crit from z or
//!   t(k − 1) as metafor's `predict` (Riley et al. 2011).
//! - Q-profile confidence interval for τ² (Viechtbauer 2007): the τ² at which the generalised Q
//!   equals the χ²(k − 1) quantiles; the same bounds map into I² and H².

use super::analysis::{Heterogeneity, Pooled};
use super::dist;
use super::error::StatsError;
use super::spec::{Convention, IterControl, Spec, Test};
use super::tau2;

/// Pool `(yi, vi)` with between-study variance `tau2` (0 for the common-effect model).
/// `random` says whether τ² was estimated (it decides how I² and H² are defined and whether
/// the Q-profile interval is computed).
pub fn pool(yi: &[f64], vi: &[f64], tau2: f64, random: bool, spec: &Spec) -> Result<Pooled, StatsError> {
    let k = yi.len();
    if k == 0 {
        return Err(StatsError::NoStudies);
    }
    if spec.test == Test::Knha && k < 2 {
        return Err(StatsError::TooFewStudies { what: "the Knapp–Hartung test".into(), needed: 2, have: k });
    }
    let alpha = spec.alpha();
    let s = tau2::weighted_sums(yi, vi, tau2);
    let mu = s.mu;
    let (se, crit, stat_df) = match spec.test {
        Test::Z => ((1.0 / s.sw).sqrt(), dist::qnorm(1.0 - alpha / 2.0), None),
        Test::Knha => {
            let df = (k - 1) as f64;
            let s2w = s.q / df;
            ((s2w / s.sw).sqrt(), dist::qt(1.0 - alpha / 2.0, df), Some(df))
        }
    };
    if !(mu.is_finite() && se.is_finite()) {
        return Err(StatsError::Overflow("the pooled estimate".into()));
    }
    let stat = mu / se;
    let p = match stat_df {
        None => dist::p_norm_two_sided(stat),
        Some(df) => dist::p_t_two_sided(stat, df),
    };
    let weights = vi.iter().map(|&v| 100.0 * ((1.0 / (v + tau2)) / s.sw)).collect();

    // Heterogeneity uses the common-effect sums (τ² = 0): the same pass when τ² is 0.
    let common = if random { tau2::weighted_sums(yi, vi, 0.0) } else { s };
    let mut heterogeneity = (k >= 2).then(|| heterogeneity_from(&common, k, random.then_some(tau2), spec));
    // A prediction interval belongs to a random-effects model; RevMan 5 reports none.
    let prediction = (random && spec.convention == Convention::Metafor).then(|| {
        let half = crit * (se * se + tau2).sqrt();
        (mu - half, mu + half)
    });
    let tau2_ci = if random && k >= 2 && spec.convention == Convention::Metafor {
        Some(q_profile_tau2(yi, vi, alpha, &[(0.0, common), (tau2, s)], &spec.control)?)
    } else {
        None
    };
    if let (Some(h), Some((lb, ub))) = (heterogeneity.as_mut(), tau2_ci) {
        let vt = typical_variance_from(&common, k);
        h.i2_ci = Some((100.0 * lb / (vt + lb), 100.0 * ub / (vt + ub)));
        h.h2_ci = Some(((vt + lb) / vt, (vt + ub) / vt));
    }

    Ok(Pooled {
        estimate: mu,
        se,
        ci_lower: mu - crit * se,
        ci_upper: mu + crit * se,
        stat,
        stat_df,
        p,
        tau2: if random && k >= 2 { Some(tau2) } else { None },
        tau2_ci,
        heterogeneity,
        prediction,
        weights,
        iterations: 0,
    })
}

/// The "typical" within-study variance ṽ = (k − 1)Σw/((Σw)² − Σw²), w = 1/v, from the
/// common-effect sums.
fn typical_variance_from(common: &tau2::WeightedSums, k: usize) -> f64 {
    (k as f64 - 1.0) * common.sw / (common.sw * common.sw - common.sw2)
}

/// Cochran's Q (common-effect weights), its p-value, I² and H², for k ≥ 2.
/// `tau2` is `Some` for random-effects models (I² from τ², as metafor) and `None` otherwise.
pub fn heterogeneity(yi: &[f64], vi: &[f64], tau2: Option<f64>, spec: &Spec) -> Heterogeneity {
    heterogeneity_from(&tau2::weighted_sums(yi, vi, 0.0), yi.len(), tau2, spec)
}

/// [`heterogeneity`] from the common-effect sums (τ² = 0) of `k` studies.
fn heterogeneity_from(common: &tau2::WeightedSums, k: usize, tau2: Option<f64>, spec: &Spec) -> Heterogeneity {
    let q = common.q;
    let df = (k - 1) as f64;
    let (i2, h2) = match (tau2, spec.convention) {
        (Some(t), Convention::Metafor) => {
            let vt = typical_variance_from(common, k);
            (100.0 * t / (vt + t), (vt + t) / vt)
        }
        _ => i2_from_q(q, df),
    };
    Heterogeneity { q, df, p: dist::pchisq_upper(q, df), i2, h2, i2_ci: None, h2_ci: None }
}

/// I² = max(0, (Q − df)/Q)·100 and H² = Q/df (Higgins & Thompson 2002).
pub fn i2_from_q(q: f64, df: f64) -> (f64, f64) {
    let i2 = if q > 0.0 { (100.0 * (q - df) / q).max(0.0) } else { 0.0 };
    (i2, q / df)
}

/// Q-profile confidence interval for τ² (Viechtbauer 2007), as metafor's `confint`. `known`
/// are weighted sums already computed (at τ² = 0 and at the estimate), where the search starts.
pub fn q_profile_tau2(
    yi: &[f64],
    vi: &[f64],
    alpha: f64,
    known: &[(f64, tau2::WeightedSums)],
    control: &IterControl,
) -> Result<(f64, f64), StatsError> {
    let df = (yi.len() - 1) as f64;
    let not_converged = |iterations| StatsError::NotConverged {
        method: super::spec::Method::PM,
        iterations,
        last_change: f64::NAN,
    };
    let lb = tau2::solve_generalised_q(yi, vi, dist::qchisq(1.0 - alpha / 2.0, df), known, control).map_err(not_converged)?;
    let ub = tau2::solve_generalised_q(yi, vi, dist::qchisq(alpha / 2.0, df), known, control).map_err(not_converged)?;
    Ok((lb.0, ub.0))
}
