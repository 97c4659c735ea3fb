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
/// μ̂ the weighted mean, rᵢ = yᵢ − μ̂, `q` = Σwr² (the generalised Q), `ypy` = Σw²r² (y′PPy)
/// and `ypppy` = y′PPPy = Σw³r² − (Σw²r)²/Σw, which the Newton steps need.
#[derive(Debug, Clone, Copy)]
pub struct WeightedSums {
    pub sw: f64,
    pub sw2: f64,
    pub sw3: f64,
    pub mu: f64,
    pub q: f64,
    pub ypy: f64,
    pub ypppy: f64,
}

/// Compute [`WeightedSums`] in one pass over the studies, without allocating for small k.
///
/// Raw power sums are taken of deviations dᵢ = yᵢ − c from a shift c and centred afterwards
/// (e.g. Σwr² = Σwd² − (Σwd)²/Σw). With c near μ̂ the centring loses no precision; the first
/// study's value serves, and identical studies give exactly zero residuals. One pass matters:
/// the iterative estimators call this a dozen times.
///
/// Large inputs are summed in fixed blocks of [`BLOCK`] studies, spread over the available
/// cores and combined in block order, so the result does not depend on the number of threads.
///
/// When the first study lies so far from μ̂ that the centring cancels most digits of Σwr²
/// (a very precise study far from a very imprecise first one: Σwd² above 10⁶·Σwr²), the sums
/// are taken again about μ̂ itself, where nothing cancels. Ordinary data never come near this,
/// and keep their one pass.
pub fn weighted_sums(yi: &[f64], vi: &[f64], tau2: f64) -> WeightedSums {
    let c = yi.first().copied().unwrap_or(0.0);
    let (sums, raw_q) = sums_about(yi, vi, tau2, c);
    if raw_q > CANCELLATION * sums.q && sums.mu.is_finite() && sums.mu != c {
        return sums_about(yi, vi, tau2, sums.mu).0;
    }
    sums
}

/// The factor by which the uncentred Σwd² may exceed Σwr² before the sums are taken again
/// about μ̂ ([`weighted_sums`]): at most 6 of the 16 digits are lost.
const CANCELLATION: f64 = 1e6;

/// [`WeightedSums`] with deviations taken from the shift `c`, and the uncentred Σwd².
fn sums_about(yi: &[f64], vi: &[f64], tau2: f64, c: f64) -> (WeightedSums, f64) {
    let n = yi.len().min(vi.len());
    let sums = if n >= 4 * BLOCK {
        let blocks = n.div_ceil(BLOCK);
        let threads = std::thread::available_parallelism().map_or(1, |t| t.get()).min(blocks);
        let mut partial = vec![[0.0; 9]; blocks];
        let per_thread = blocks.div_ceil(threads);
        std::thread::scope(|scope| {
            for (t, chunk) in partial.chunks_mut(per_thread).enumerate() {
                scope.spawn(move || {
                    for (j, out) in chunk.iter_mut().enumerate() {
                        let b = t * per_thread + j;
                        let range = b * BLOCK..((b + 1) * BLOCK).min(n);
                        *out = power_sums(&yi[range.clone()], &vi[range], tau2, c);
                    }
                });
            }
        });
        partial.iter().fold([0.0; 9], |mut acc, p| {
            for (a, x) in acc.iter_mut().zip(p) {
                *a += x;
            }
            acc
        })
    } else {
        power_sums(&yi[..n], &vi[..n], tau2, c)
    };
    let [s0, s1, s2, t0, t1, t2, u0, u1, u2] = sums;
    let m = s1 / s0;
    let q = (s2 - m * s1).max(0.0);
    let w2r = t1 - m * t0;
    let ypy = (t2 - 2.0 * m * t1 + m * m * t0).max(0.0);
    let w3r2 = (u2 - 2.0 * m * u1 + m * m * u0).max(0.0);
    (WeightedSums { sw: s0, sw2: t0, sw3: u0, mu: c + m, q, ypy, ypppy: (w3r2 - w2r * w2r / s0).max(0.0) }, s2)
}

/// Studies per block when sums are split over threads.
pub const BLOCK: usize = 1 << 15;

/// Σw, Σwd, Σwd², Σw², Σw²d, Σw²d², Σw³, Σw³d, Σw³d² with w = 1/(v + τ²), d = y − c,
/// accumulated in four independent lanes so the compiler can use SIMD (float addition is not
/// associative, so it will not reorder a single running sum).
fn power_sums(yi: &[f64], vi: &[f64], tau2: f64, c: f64) -> [f64; 9] {
    const LANES: usize = 4;
    let mut acc = [[0.0f64; LANES]; 9];
    let add = |acc: &mut [[f64; LANES]; 9], lane: usize, y: f64, v: f64| {
        let w = 1.0 / (v + tau2);
        let d = y - c;
        let (wd, w2) = (w * d, w * w);
        let (w2d, w3) = (w2 * d, w2 * w);
        let w3d = w3 * d;
        acc[0][lane] += w;
        acc[1][lane] += wd;
        acc[2][lane] += wd * d;
        acc[3][lane] += w2;
        acc[4][lane] += w2d;
        acc[5][lane] += w2d * d;
        acc[6][lane] += w3;
        acc[7][lane] += w3d;
        acc[8][lane] += w3d * d;
    };
    let (y_chunks, v_chunks) = (yi.chunks_exact(LANES), vi.chunks_exact(LANES));
    let (y_rest, v_rest) = (y_chunks.remainder(), v_chunks.remainder());
    for (ys, vs) in y_chunks.zip(v_chunks) {
        for lane in 0..LANES {
            add(&mut acc, lane, ys[lane], vs[lane]);
        }
    }
    for (lane, (&y, &v)) in y_rest.iter().zip(v_rest).enumerate() {
        add(&mut acc, lane, y, v);
    }
    acc.map(|lanes| lanes.iter().sum::<f64>())
}

/// Cochran's generalised Q statistic Q(τ²) = Σ wᵢ(τ²)(yᵢ − μ̂(τ²))².
pub fn generalised_q(yi: &[f64], vi: &[f64], tau2: f64) -> f64 {
    weighted_sums(yi, vi, tau2).q
}

/// A τ² estimate and the number of iterations it took (0 for closed-form estimators).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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
            let (tau2, iterations) = solve_generalised_q(yi, vi, (k - 1) as f64, &[], control)
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

/// ML, REML and EB: Fisher scoring from the Hedges estimate with step halving at the boundary
/// τ² = 0 — the algorithm of metafor's `rma.uni` — taking Newton steps (observed instead of
/// expected information) where they are safe, so that the tight default tolerance is reached
/// in a few iterations. Both converge to the same root of the score equation. When the
/// score at τ² = 0 points below zero, the estimate is the boundary itself.
fn fisher_scoring(method: Method, yi: &[f64], vi: &[f64], control: &IterControl) -> Result<Tau2, StatsError> {
    let k = yi.len() as f64;
    let mut tau2 = hedges(yi, vi).max(0.0);
    let mut change = f64::INFINITY;
    for iteration in 1..=control.max_iter {
        let s = weighted_sums(yi, vi, tau2);
        // Score (up to a factor), expected information and observed information.
        let (score, expected, observed) = match method {
            Method::REML => {
                let tr_p = s.sw - s.sw2 / s.sw;
                let tr_pp = s.sw2 - 2.0 * s.sw3 / s.sw + s.sw2 * s.sw2 / (s.sw * s.sw);
                (s.ypy - tr_p, tr_pp, 2.0 * s.ypppy - tr_pp)
            }
            Method::ML => (s.ypy - s.sw, s.sw2, 2.0 * s.ypppy - s.sw2),
            _ => (s.q * k / (k - 1.0) - k, s.sw, s.ypy * k / (k - 1.0)),
        };
        let fisher = score / expected;
        if !fisher.is_finite() {
            // Not a matter of iterations: the weights' powers left the range of a double.
            return Err(StatsError::Overflow(format!("the {} estimator of tau²", method.name()).into()));
        }
        if tau2 == 0.0 && fisher <= 0.0 {
            return Ok(Tau2 { tau2: 0.0, iterations: iteration });
        }
        // Newton where the likelihood is locally concave and agrees on the direction; the
        // Fisher step otherwise (it always points uphill).
        let newton = score / observed;
        let adj = if observed > 0.0 && newton.signum() == fisher.signum() { newton } else { fisher };
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
/// Newton steps (dQ/dτ² = −Σw²r²) inside a bisection bracket; used by the Paule–Mandel
/// estimator and the Q-profile confidence interval. `known` are points whose sums the caller
/// already has (τ² = 0, the estimate): the search starts from the one closest to the target,
/// so near the estimate (where Q-profile bounds lie) it takes a few passes over the data.
/// On failure returns the iteration count.
pub fn solve_generalised_q(
    yi: &[f64],
    vi: &[f64],
    target: f64,
    known: &[(f64, WeightedSums)],
    control: &IterControl,
) -> Result<(f64, usize), usize> {
    let at_zero = match known.iter().find(|(t, _)| *t == 0.0) {
        Some(&(_, s)) => s,
        None => weighted_sums(yi, vi, 0.0),
    };
    if at_zero.q <= target {
        return Ok((0.0, 0));
    }
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    let (mut x, mut s) = (0.0f64, at_zero);
    for &(t, st) in known.iter().filter(|(t, st)| *t > 0.0 && st.q.is_finite()) {
        if st.q > target {
            lo = lo.max(t);
        } else {
            hi = hi.min(t);
        }
        if (st.q - target).abs() < (s.q - target).abs() {
            (x, s) = (t, st);
        }
    }
    let limit = control.max_iter.max(200);
    for iterations in 1..=limit {
        let f = s.q - target;
        if f > 0.0 {
            lo = lo.max(x);
        } else {
            hi = hi.min(x);
        }
        // Q is convex and decreasing: a Newton step from the left of the root stays left of
        // it; one from the right may overshoot once, into the bracket.
        let mut next = if s.ypy > 0.0 { x + f / s.ypy } else { f64::NAN };
        if !(next > lo && next < hi) {
            next = if hi.is_finite() { 0.5 * (lo + hi) } else { 2.0 * lo.max(1e-8) };
        }
        let change = (next - x).abs();
        if change <= control.threshold * next.max(1.0) || (hi.is_finite() && hi - lo <= 4.0 * f64::EPSILON * hi) {
            return Ok((next, iterations));
        }
        x = next;
        s = weighted_sums(yi, vi, x);
    }
    Err(limit)
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
    fn threaded_sums_cover_every_block_once_in_order() {
        let n = 5 * BLOCK + 17;
        let yi: Vec<f64> = (0..n).map(|i| ((i as f64) * 0.618_033_988_749_894_9) % 1.0).collect();
        let vi: Vec<f64> = (0..n).map(|i| 0.01 + ((i as f64) * 0.414_213_562_373_095_1) % 1.0).collect();
        let threaded = weighted_sums(&yi, &vi, 0.05);
        // The same blocks, summed one after another on this thread.
        let c = yi[0];
        let mut sums = [0.0; 9];
        for b in 0..n.div_ceil(BLOCK) {
            let r = b * BLOCK..((b + 1) * BLOCK).min(n);
            for (a, x) in sums.iter_mut().zip(power_sums(&yi[r.clone()], &vi[r], 0.05, c)) {
                *a += x;
            }
        }
        assert_eq!(threaded.sw, sums[0]);
        assert_eq!(threaded.sw2, sums[3]);
        assert_eq!(threaded.sw3, sums[6]);
        assert_eq!(threaded.mu, c + sums[1] / sums[0]);
        // And close to one unblocked pass.
        let single = power_sums(&yi, &vi, 0.05, c);
        assert!((single[2] / sums[2] - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_first_study_far_from_the_estimate_does_not_cancel_q_away() {
        // Centred on the first study (−1e99), Σwr² = Σwd² − (Σwd)²/Σw cancelled to 0; metafor
        // reports Q = 2e198.
        let s = weighted_sums(&[-1e99, 1e99, 0.0], &[1.0, 1.0, 1e-99], 0.0);
        assert!((s.q / 2e198 - 1.0).abs() < 1e-12, "{}", s.q);
        // Ordinary data keep their single pass: the same bits as summing about the first study.
        let (one_pass, _) = sums_about(&Y, &V, 0.05, Y[0]);
        let s = weighted_sums(&Y, &V, 0.05);
        assert_eq!((s.q, s.ypy, s.ypppy, s.mu), (one_pass.q, one_pass.ypy, one_pass.ypppy, one_pass.mu));
    }

    #[test]
    fn non_convergence_is_an_error() {
        let c = IterControl { threshold: 1e-12, max_iter: 1, step: 1.0 };
        let e = estimate(Method::REML, &Y, &V, &c).unwrap_err();
        assert!(matches!(e, StatsError::NotConverged { method: Method::REML, .. }));
    }
}
