//! The between-study variance τ² of the random-effects model, by eight estimators.
//!
//! All formulas are for the intercept-only model and follow metafor 3.8's `rma.uni`
//! (Viechtbauer 2005 and 2010; Veroniki et al. 2016 review them all):
//!
//! | method | estimator | source |
//! |---|---|---|
//! | DL | method of moments with inverse-variance weights | DerSimonian & Laird 1986 |
//! | HE | method of moments with equal weights | Hedges & Olkin 1985 |
//! | HS | (Q − k)/Σw | Hunter & Schmidt 2004 |
//! | SJ | two-step, starting from the unweighted variance | Sidik & Jonkman 2005 |
//! | ML, REML | Fisher scoring on the (restricted) likelihood | Viechtbauer 2005 |
//! | EB | Fisher-scoring form of Morris's empirical Bayes estimator | Morris 1983 |
//! | PM | root of the generalised Q statistic Q(τ²) = k − 1 | Paule & Mandel 1982 |
//!
//! Negative estimates are truncated at zero, as metafor does.

use super::error::StatsError;
use super::spec::{IterControl, Method};

/// Weighted sums for a given τ², in the notation of metafor's source: wᵢ = 1/(vᵢ + τ²),
/// μ̂ the weighted mean, `q` = Σw(y − μ̂)² and `ypy` = Σw²(y − μ̂)² (= y′PPy).
#[derive(Debug, Clone, Copy)]
pub struct WeightedSums {
    pub sw: f64,
    pub sw2: f64,
    pub sw3: f64,
    pub mu: f64,
    pub q: f64,
    pub ypy: f64,
}

/// Compute [`WeightedSums`] in two passes over the studies, without allocating. Sums are taken
/// of deviations from the first study's value, so that identical studies give exactly zero
/// residuals and large offsets lose no precision.
pub fn weighted_sums(yi: &[f64], vi: &[f64], tau2: f64) -> WeightedSums {
    let shift = yi.first().copied().unwrap_or(0.0);
    let (mut sw, mut swy, mut sw2, mut sw3) = (0.0, 0.0, 0.0, 0.0);
    for (&y, &v) in yi.iter().zip(vi) {
        let w = 1.0 / (v + tau2);
        sw += w;
        swy += w * (y - shift);
        sw2 += w * w;
        sw3 += w * w * w;
    }
    let mu = shift + swy / sw;
    let (mut q, mut ypy) = (0.0, 0.0);
    for (&y, &v) in yi.iter().zip(vi) {
        let w = 1.0 / (v + tau2);
        let r = y - mu;
        q += w * r * r;
        ypy += w * w * r * r;
    }
    WeightedSums { sw, sw2, sw3, mu, q, ypy }
}

/// Cochran's generalised Q statistic Q(τ²) = Σ wᵢ(τ²)(yᵢ − μ̂(τ²))².
pub fn generalised_q(yi: &[f64], vi: &[f64], tau2: f64) -> f64 {
    weighted_sums(yi, vi, tau2).q
}

/// A τ² estimate and the number of iterations it took (0 for closed-form estimators).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tau2 {
    pub tau2: f64,
    pub iterations: usize,
}

/// Estimate τ² by `method` (a random-effects method). With fewer than two studies there is no
/// between-study variance to estimate and the result is 0.
pub fn estimate(method: Method, yi: &[f64], vi: &[f64], control: &IterControl) -> Result<Tau2, StatsError> {
    let k = yi.len();
    if k < 2 {
        return Ok(Tau2 { tau2: 0.0, iterations: 0 });
    }
    let closed = |tau2: f64| Ok(Tau2 { tau2: tau2.max(0.0), iterations: 0 });
    match method {
        Method::DL => closed(dersimonian_laird(yi, vi)),
        Method::HE => closed(hedges(yi, vi)),
        Method::HS => closed(hunter_schmidt(yi, vi)),
        Method::SJ => closed(sidik_jonkman(yi, vi)),
        Method::PM => {
            let (tau2, iterations) = solve_generalised_q(yi, vi, (k - 1) as f64, control)
                .map_err(|iterations| StatsError::NotConverged { method, iterations, last_change: f64::NAN })?;
            Ok(Tau2 { tau2, iterations })
        }
        Method::ML | Method::REML | Method::EB => fisher_scoring(method, yi, vi, control),
        Method::FE | Method::MH | Method::PETO => Ok(Tau2 { tau2: 0.0, iterations: 0 }),
    }
}

/// DerSimonian–Laird: (Q − (k − 1)) / (Σw − Σw²/Σw) with w = 1/v.
pub fn dersimonian_laird(yi: &[f64], vi: &[f64]) -> f64 {
    let s = weighted_sums(yi, vi, 0.0);
    let k = yi.len() as f64;
    (s.q - (k - 1.0)) / (s.sw - s.sw2 / s.sw)
}

fn unweighted_rss(yi: &[f64]) -> f64 {
    let k = yi.len() as f64;
    let shift = yi.first().copied().unwrap_or(0.0);
    let mean = shift + yi.iter().map(|y| y - shift).sum::<f64>() / k;
    yi.iter().map(|y| (y - mean) * (y - mean)).sum()
}

/// Hedges: Σ(y − ȳ)²/(k − 1) − mean(v), the unweighted method of moments.
pub fn hedges(yi: &[f64], vi: &[f64]) -> f64 {
    let k = yi.len() as f64;
    unweighted_rss(yi) / (k - 1.0) - vi.iter().sum::<f64>() / k
}

/// Hunter–Schmidt: (Q − k)/Σw with w = 1/v.
pub fn hunter_schmidt(yi: &[f64], vi: &[f64]) -> f64 {
    let s = weighted_sums(yi, vi, 0.0);
    (s.q - yi.len() as f64) / s.sw
}

/// Sidik–Jonkman: τ₀² = Σ(y − ȳ)²/k, then τ² = τ₀² · Q(τ₀²)/(k − 1).
pub fn sidik_jonkman(yi: &[f64], vi: &[f64]) -> f64 {
    let k = yi.len() as f64;
    let tau0 = unweighted_rss(yi) / k;
    if tau0 == 0.0 {
        return 0.0;
    }
    tau0 * generalised_q(yi, vi, tau0) / (k - 1.0)
}

/// ML, REML and EB by Fisher scoring from the Hedges estimate, with step halving at the
/// boundary τ² = 0 — the algorithm of metafor's `rma.uni`, run to a tighter tolerance. When
/// the score at τ² = 0 points below zero the estimate is the boundary itself.
fn fisher_scoring(method: Method, yi: &[f64], vi: &[f64], control: &IterControl) -> Result<Tau2, StatsError> {
    let k = yi.len() as f64;
    let mut tau2 = hedges(yi, vi).max(0.0);
    let mut change = f64::INFINITY;
    for iteration in 1..=control.max_iter {
        let s = weighted_sums(yi, vi, tau2);
        let adj = match method {
            Method::REML => {
                let tr_p = s.sw - s.sw2 / s.sw;
                let tr_pp = s.sw2 - 2.0 * s.sw3 / s.sw + s.sw2 * s.sw2 / (s.sw * s.sw);
                (s.ypy - tr_p) / tr_pp
            }
            Method::ML => (s.ypy - s.sw) / s.sw2,
            _ => (s.q * k / (k - 1.0) - k) / s.sw,
        };
        if !adj.is_finite() {
            return Err(StatsError::NotConverged { method, iterations: iteration, last_change: change });
        }
        if tau2 == 0.0 && adj <= 0.0 {
            return Ok(Tau2 { tau2: 0.0, iterations: iteration });
        }
        // Halve the step while it would leave the parameter space (metafor does the same).
        let mut delta = control.step * adj;
        let mut halvings = 0;
        while tau2 + delta < 0.0 && halvings < 60 {
            delta /= 2.0;
            halvings += 1;
        }
        let next = (tau2 + delta).max(0.0);
        change = (next - tau2).abs();
        tau2 = next;
        if change <= control.threshold * tau2.max(1.0) {
            return Ok(Tau2 { tau2, iterations: iteration });
        }
    }
    Err(StatsError::NotConverged { method, iterations: control.max_iter, last_change: change })
}

/// Solve Q(τ²) = `target` for τ² ≥ 0 (Q is decreasing in τ²). Returns 0 when Q(0) ≤ target.
/// Newton steps (dQ/dτ² = −Σw²(y − μ̂)²) inside a bisection bracket; used by the Paule–Mandel
/// estimator and the Q-profile confidence interval. On failure returns the iteration count.
pub fn solve_generalised_q(yi: &[f64], vi: &[f64], target: f64, control: &IterControl) -> Result<(f64, usize), usize> {
    let at_zero = weighted_sums(yi, vi, 0.0);
    if at_zero.q <= target {
        return Ok((0.0, 0));
    }
    // Bracket the root: Q → 0 as τ² → ∞, so doubling terminates for target > 0.
    let mut lo = 0.0;
    let mut hi = {
        let mean_v = vi.iter().sum::<f64>() / vi.len() as f64;
        mean_v.max(1e-8)
    };
    let mut iterations = 0;
    while generalised_q(yi, vi, hi) > target {
        lo = hi;
        hi *= 4.0;
        iterations += 1;
        if iterations > control.max_iter || !hi.is_finite() {
            return Err(iterations);
        }
    }
    let mut x = lo;
    let mut s = weighted_sums(yi, vi, x);
    for _ in 0..control.max_iter.max(200) {
        iterations += 1;
        let f = s.q - target;
        if f > 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let mut next = if s.ypy > 0.0 { x + f / s.ypy } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = 0.5 * (lo + hi);
        }
        let change = (next - x).abs();
        x = next;
        s = weighted_sums(yi, vi, x);
        if change <= control.threshold * x.max(1.0) || hi - lo <= 1e-15 * hi {
            return Ok((x, iterations));
        }
    }
    Err(iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [f64; 5] = [0.1, 0.3, 0.35, 0.65, 0.45];
    const V: [f64; 5] = [0.01, 0.02, 0.015, 0.03, 0.01];

    #[test]
    fn pm_and_eb_solve_the_same_equation() {
        let c = IterControl::default();
        let pm = estimate(Method::PM, &Y, &V, &c).unwrap().tau2;
        let eb = estimate(Method::EB, &Y, &V, &c).unwrap().tau2;
        assert!(pm > 0.0);
        assert!((pm - eb).abs() < 1e-10, "PM {pm} EB {eb}");
        assert!((generalised_q(&Y, &V, pm) - 4.0).abs() < 1e-9);
    }

    #[test]
    fn reml_solves_its_score_equation() {
        let t = estimate(Method::REML, &Y, &V, &IterControl::default()).unwrap().tau2;
        let s = weighted_sums(&Y, &V, t);
        let tr_p = s.sw - s.sw2 / s.sw;
        assert!((s.ypy - tr_p).abs() < 1e-8);
    }

    #[test]
    fn homogeneous_data_give_zero() {
        let y = [0.2; 6];
        let v = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06];
        for m in [Method::DL, Method::HE, Method::HS, Method::SJ, Method::ML, Method::REML, Method::EB, Method::PM] {
            assert_eq!(estimate(m, &y, &v, &IterControl::default()).unwrap().tau2, 0.0, "{m:?}");
        }
    }

    #[test]
    fn non_convergence_is_an_error() {
        let c = IterControl { threshold: 1e-12, max_iter: 1, step: 1.0 };
        let e = estimate(Method::REML, &Y, &V, &c).unwrap_err();
        assert!(matches!(e, StatsError::NotConverged { method: Method::REML, .. }));
    }
}
