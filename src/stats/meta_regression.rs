//! Meta-regression on one moderator: yᵢ = β₀ + β₁xᵢ + uᵢ + εᵢ, with εᵢ ~ N(0, vᵢ) and
//! uᵢ ~ N(0, τ²) — metafor's `rma.uni(yi, vi, mods = ~ x)`.
//!
//! It exists for Egger's regression test ([`super::small_study`]): metafor's `regtest` fits
//! exactly this model with xᵢ = √vᵢ and the τ² estimator of the analysis, and trim-and-fill
//! reads the sign of the same slope to decide on which side studies are missing. A general
//! p-column meta-regression is not needed for that, so the model has two columns and every
//! matrix in metafor's formulas (X′WX, the projection P = W − WX(X′WX)⁻¹X′W and its traces) is
//! written out in closed form, in one pass over the studies. The moderator is centred at its
//! weighted mean, which makes X′WX diagonal and keeps the slope accurate when x varies little.
//!
//! τ² follows `rma.uni`'s residual estimators (Viechtbauer 2005; Raudenbush 2009):
//!
//! | method | estimator |
//! |---|---|
//! | DL | (Q_E − (k − p))/tr(P), P with weights 1/vᵢ |
//! | HE | (RSS_OLS − tr(P_OLS V))/(k − p) |
//! | HS | (Q_E − k)/Σ(1/vᵢ) |
//! | SJ | τ₀²·Q_E(τ₀²)/(k − p), τ₀² = Σ(yᵢ − ȳ)²/k |
//! | ML, REML, EB | Fisher scoring from the HE estimate, with step halving at τ² = 0 |
//! | PM | the root of Q_E(τ²) = k − p |
//!
//! with p = 2 coefficients and negative estimates truncated at zero. The Knapp–Hartung test
//! multiplies the coefficients' covariance by Q_E(τ̂²)/(k − p) and uses t with k − p df.

use super::dist;
use super::error::StatsError;
use super::spec::{Method, Spec, Test};

/// Number of coefficients (intercept and slope).
const P: f64 = 2.0;

/// A fitted one-moderator meta-regression.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MetaRegression {
    pub intercept: f64,
    pub slope: f64,
    pub se_intercept: f64,
    pub se_slope: f64,
    /// Critical value of the test (z or t quantile) at the spec's level.
    pub crit: f64,
    /// Degrees of freedom of the t test (Knapp–Hartung), `None` for z.
    pub stat_df: Option<f64>,
    /// The residual τ², `None` for the common-effect model.
    pub tau2: Option<f64>,
}

impl MetaRegression {
    /// Test statistic of the slope (z or t).
    pub fn slope_stat(&self) -> f64 {
        self.slope / self.se_slope
    }

    /// Two-sided p-value of the slope.
    pub fn slope_p(&self) -> f64 {
        p_two_sided(self.slope_stat(), self.stat_df)
    }

    /// Confidence interval of the intercept.
    pub fn intercept_ci(&self) -> (f64, f64) {
        (self.intercept - self.crit * self.se_intercept, self.intercept + self.crit * self.se_intercept)
    }
}

fn p_two_sided(stat: f64, df: Option<f64>) -> f64 {
    match df {
        None => dist::p_norm_two_sided(stat),
        Some(df) => dist::p_t_two_sided(stat, df),
    }
}

/// Weighted least squares of y on (1, x) with weights w, and the pieces of P that the τ²
/// estimators need.
#[derive(Debug, Clone, Copy)]
struct Wls {
    intercept: f64,
    slope: f64,
    /// Σw and Σw(x − x̄)²: X′WX in the centred basis is diag(sw, sdd).
    sw: f64,
    sdd: f64,
    /// Weighted mean of x.
    xbar: f64,
    /// Q_E = y′Py = Σwr².
    rss: f64,
    /// y′PPy = Σw²r².
    ypppy: f64,
    sw2: f64,
    tr_p: f64,
    tr_pp: f64,
}

fn wls(yi: &[f64], xi: &[f64], w: impl Fn(usize) -> f64) -> Wls {
    let k = yi.len();
    let (mut sw, mut swx, mut swy) = (0.0, 0.0, 0.0);
    for i in 0..k {
        let wi = w(i);
        sw += wi;
        swx += wi * xi[i];
        swy += wi * yi[i];
    }
    let (xbar, ybar) = (swx / sw, swy / sw);
    let (mut sdd, mut sdy) = (0.0, 0.0);
    for i in 0..k {
        let (wi, d) = (w(i), xi[i] - xbar);
        sdd += wi * d * d;
        sdy += wi * d * (yi[i] - ybar);
    }
    let slope = sdy / sdd;
    let intercept = ybar - slope * xbar;
    let (mut rss, mut ypppy, mut sw2, mut sw2d, mut sw2dd, mut sw3, mut sw3dd) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for i in 0..k {
        let (wi, d) = (w(i), xi[i] - xbar);
        let r = yi[i] - ybar - slope * d;
        let w2 = wi * wi;
        rss += wi * r * r;
        ypppy += w2 * r * r;
        sw2 += w2;
        sw2d += w2 * d;
        sw2dd += w2 * d * d;
        sw3 += w2 * wi;
        sw3dd += w2 * wi * d * d;
    }
    // tr(P) = Σw − tr(A·X′W²X), tr(PP) = Σw² − 2tr(A·X′W³X) + tr((A·X′W²X)²), A = (X′WX)⁻¹.
    let (a11, a22) = (sw2 / sw, sw2dd / sdd);
    let tr_am2 = a11 + a22;
    let tr_am3 = sw3 / sw + sw3dd / sdd;
    let tr_am2am2 = a11 * a11 + 2.0 * sw2d * sw2d / (sw * sdd) + a22 * a22;
    Wls { intercept, slope, sw, sdd, xbar, rss, ypppy, sw2, tr_p: sw - tr_am2, tr_pp: sw2 - 2.0 * tr_am3 + tr_am2am2 }
}

/// Fit the meta-regression of `yi` on `xi` (variances `vi`) with the τ² estimator, test and
/// level of `spec`. Needs k ≥ 3 studies and a moderator that varies.
pub fn meta_regression(yi: &[f64], xi: &[f64], vi: &[f64], spec: &Spec) -> Result<MetaRegression, StatsError> {
    let k = yi.len();
    if k < 3 {
        return Err(StatsError::TooFewStudies { what: "a meta-regression".into(), needed: 3, have: k });
    }
    if xi.iter().all(|&x| x == xi[0]) {
        return Err(StatsError::Undefined("the meta-regression slope (the moderator does not vary)".to_string()));
    }
    let random = spec.method != Method::FE;
    let tau2 = if random { residual_tau2(spec, yi, xi, vi)? } else { 0.0 };
    let fit = wls(yi, xi, |i| 1.0 / (vi[i] + tau2));
    let kf = k as f64;
    let alpha = spec.alpha();
    let (s2w, crit, stat_df) = match spec.test {
        Test::Z => (1.0, dist::qnorm(1.0 - alpha / 2.0), None),
        Test::Knha => {
            let df = kf - P;
            let s2w = if fit.rss <= f64::EPSILON { 0.0 } else { fit.rss / df };
            (s2w, dist::qt(1.0 - alpha / 2.0, df), Some(df))
        }
    };
    let var_slope = 1.0 / fit.sdd;
    let var_intercept = 1.0 / fit.sw + fit.xbar * fit.xbar / fit.sdd;
    Ok(MetaRegression {
        intercept: fit.intercept,
        slope: fit.slope,
        se_intercept: (s2w * var_intercept).sqrt(),
        se_slope: (s2w * var_slope).sqrt(),
        crit,
        stat_df,
        tau2: random.then_some(tau2),
    })
}

/// The residual τ² by the spec's random-effects estimator (see the module table).
fn residual_tau2(spec: &Spec, yi: &[f64], xi: &[f64], vi: &[f64]) -> Result<f64, StatsError> {
    let kf = yi.len() as f64;
    let control = &spec.control;
    let hedges = || {
        let ols = wls(yi, xi, |_| 1.0);
        // tr(P_OLS V) = Σv − Σv/Σ1 … in the centred basis: Σvᵢ(1 − 1/k − dᵢ²/Σd²).
        let tr_pv: f64 = (0..yi.len())
            .map(|i| {
                let d = xi[i] - ols.xbar;
                vi[i] * (1.0 - 1.0 / kf - d * d / ols.sdd)
            })
            .sum();
        (ols.rss - tr_pv) / (kf - P)
    };
    let tau2 = match spec.method {
        Method::DL => {
            let f = wls(yi, xi, |i| 1.0 / vi[i]);
            (f.rss - (kf - P)) / f.tr_p
        }
        Method::HE => hedges(),
        Method::HS => {
            let f = wls(yi, xi, |i| 1.0 / vi[i]);
            (f.rss - kf) / f.sw
        }
        Method::SJ => {
            let mean = yi.iter().sum::<f64>() / kf;
            let tau0 = yi.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / kf;
            let f = wls(yi, xi, |i| 1.0 / (vi[i] + tau0));
            tau0 * f.rss / (kf - P)
        }
        Method::PM => {
            let q = |t: f64| wls(yi, xi, |i| 1.0 / (vi[i] + t)).rss;
            let target = kf - P;
            if q(0.0) < target {
                0.0
            } else {
                // Q_E(τ²) decreases in τ²: bracket the root, then bisect to the threshold.
                let (mut lo, mut hi) = (0.0f64, 1.0f64);
                let mut steps = 0;
                while q(hi) > target {
                    (lo, hi) = (hi, hi * 2.0);
                    steps += 1;
                    if steps > 2000 {
                        return Err(StatsError::NotConverged { method: Method::PM, iterations: steps, last_change: f64::NAN });
                    }
                }
                while hi - lo > control.threshold * hi.max(1.0) && steps < 100_000 {
                    let mid = 0.5 * (lo + hi);
                    if mid <= lo || mid >= hi {
                        break;
                    }
                    if q(mid) > target {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                    steps += 1;
                }
                0.5 * (lo + hi)
            }
        }
        method @ (Method::ML | Method::REML | Method::EB) => fisher_scoring(method, yi, xi, vi, hedges().max(0.0), spec)?,
        Method::FE | Method::MH | Method::PETO => {
            return Err(StatsError::Undefined(format!("a meta-regression with method {}", spec.method.name())))
        }
    };
    Ok(tau2.max(0.0))
}

/// Fisher scoring for ML, REML and EB as in `rma.uni`: the same score and information as the
/// intercept-only model with the two-column P, step halving so τ² stays ≥ 0, and metafor's
/// check that the likelihood at τ² = 0 is not higher (`ll0check`).
fn fisher_scoring(method: Method, yi: &[f64], xi: &[f64], vi: &[f64], start: f64, spec: &Spec) -> Result<f64, StatsError> {
    let kf = yi.len() as f64;
    let control = &spec.control;
    let mut tau2 = start;
    let mut converged = false;
    let mut change = f64::INFINITY;
    for _ in 0..control.max_iter {
        let f = wls(yi, xi, |i| 1.0 / (vi[i] + tau2));
        let mut adj = match method {
            Method::ML => (f.ypppy - f.sw) / f.sw2,
            Method::REML => (f.ypppy - f.tr_p) / f.tr_pp,
            _ => (f.rss * kf / (kf - P) - kf) / f.sw,
        } * control.step;
        if adj.is_nan() {
            adj = 0.0;
        }
        while tau2 + adj < 0.0 {
            adj /= 2.0;
        }
        let old = tau2;
        tau2 += adj;
        change = (tau2 - old).abs();
        if change <= control.threshold {
            converged = true;
            break;
        }
    }
    if !converged {
        return Err(StatsError::NotConverged { method, iterations: control.max_iter, last_change: change });
    }
    if matches!(method, Method::ML | Method::REML) && tau2 > control.threshold {
        let loglik = |t: f64| {
            let f = wls(yi, xi, |i| 1.0 / (vi[i] + t));
            let logdet: f64 = vi.iter().map(|v| (v + t).ln()).sum();
            match method {
                Method::ML => -0.5 * logdet - 0.5 * f.rss,
                _ => -0.5 * logdet - 0.5 * (f.sw * f.sdd).ln() - 0.5 * f.rss,
            }
        };
        if loglik(0.0) - loglik(tau2) > control.threshold {
            tau2 = 0.0;
        }
    }
    Ok(tau2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::spec::Measure;

    #[test]
    fn a_perfect_line_is_recovered() {
        let xi = [0.1, 0.2, 0.3, 0.4, 0.5];
        let yi: Vec<f64> = xi.iter().map(|x| 1.0 + 2.0 * x).collect();
        let vi = [0.01, 0.04, 0.09, 0.16, 0.25];
        let spec = Spec { method: Method::FE, ..Spec::new(Measure::GEN) };
        let m = meta_regression(&yi, &xi, &vi, &spec).unwrap();
        assert!((m.intercept - 1.0).abs() < 1e-12 && (m.slope - 2.0).abs() < 1e-12);
    }

    #[test]
    fn a_constant_moderator_is_an_error() {
        let spec = Spec { method: Method::DL, ..Spec::new(Measure::GEN) };
        let r = meta_regression(&[0.1, 0.2, 0.4], &[0.3, 0.3, 0.3], &[0.01, 0.02, 0.03], &spec);
        assert!(matches!(r, Err(StatsError::Undefined(_))));
    }
}
