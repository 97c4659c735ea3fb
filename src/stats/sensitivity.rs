//! Sensitivity analyses: how much does the pooled result rest on single studies, and how did it
//! build up? Each is a series of refits of the same model, exactly as metafor 3.8 runs them, so
//! that every number can be checked against R:
//!
//! - [`leave_one_out`]: the analysis without each study in turn (metafor `leave1out(res)`).
//! - [`cumulative`]: the analysis of the first 1, 2, …, k studies in a given order, e.g. by
//!   year of publication (metafor `cumul(res, order = ...)`, Lau et al. 1992).
//! - [`influence`]: case-deletion diagnostics for inverse-variance models (metafor
//!   `influence(res)`, Viechtbauer & Cheung 2010): externally studentised residuals, DFFITS,
//!   Cook's distance, the covariance ratio, τ² and Q without the study, hat values, weights, and
//!   metafor's rule of thumb that flags a study as influential.
//!
//! Leave-one-out and cumulative analyses rerun [`meta_analysis`] on subsets of the studies, so
//! they use the analysis' own method and convention, Mantel–Haenszel and RevMan 5 included.
//! As metafor, a subset of one study is tested with z even under Knapp–Hartung (t with 0 df
//! does not exist); heterogeneity of one study does not exist and is `None`.

use super::analysis::{fit_inverse_variance, is_inverse_variance, meta_analysis, Analysis, Pooled};
use super::dist;
use super::effect::StudyData;
use super::error::StatsError;
use super::small_study::noted;
use super::spec::{Spec, Test};

/// Above this many studies the sensitivity analyses (k refits each) are not run.
pub const MAX_STUDIES: usize = 1000;

/// One refit: the pooled result of a subset of the studies.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Refit {
    /// Input index of the study left out (leave-one-out) or added last (cumulative).
    pub study: usize,
    /// Studies pooled in the refit.
    pub k: usize,
    /// The refit's numbers, or why it failed (metafor leaves such a row `NA`).
    pub fit: Result<RefitStats, StatsError>,
}

/// The numbers of one refit.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefitStats {
    pub estimate: f64,
    pub se: f64,
    pub stat: f64,
    pub stat_df: Option<f64>,
    pub p: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    pub q: Option<f64>,
    pub q_p: Option<f64>,
    pub tau2: Option<f64>,
    pub i2: Option<f64>,
    pub h2: Option<f64>,
}

impl RefitStats {
    fn new(p: &Pooled) -> RefitStats {
        let h = p.heterogeneity.as_ref();
        RefitStats {
            estimate: p.estimate,
            se: p.se,
            stat: p.stat,
            stat_df: p.stat_df,
            p: p.p,
            ci_lower: p.ci_lower,
            ci_upper: p.ci_upper,
            q: h.map(|h| h.q),
            q_p: h.map(|h| h.p),
            tau2: p.tau2,
            i2: h.map(|h| h.i2),
            h2: h.map(|h| h.h2),
        }
    }
}

/// Case-deletion diagnostics of one study (metafor `influence`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Influence {
    /// Input index of the study.
    pub study: usize,
    /// Externally studentised residual: (yᵢ − μ̂₍₋ᵢ₎)/SE.
    pub rstudent: f64,
    pub dffits: f64,
    pub cook_d: f64,
    pub cov_r: f64,
    /// τ² without the study, `None` for a common-effect model.
    pub tau2_del: Option<f64>,
    /// Cochran's Q without the study.
    pub q_del: f64,
    pub hat: f64,
    /// Weight in percent.
    pub weight: f64,
    /// DFBETAS of the pooled estimate.
    pub dfbetas: f64,
    /// metafor's flag: |DFFITS| > 3√(1/(k − 1)), P(χ²₁ ≤ Cook's D) > 0.5, hat > 3/k or
    /// |DFBETAS| > 1.
    pub influential: bool,
}

/// Everything [`sensitivity`] computes for one analysis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sensitivity {
    /// One row per pooled study; `None` with fewer than two studies.
    pub leave_one_out: Option<Vec<Refit>>,
    /// One row per pooled study, in the requested order.
    pub cumulative: Vec<Refit>,
    /// One row per pooled study; `None` for non-inverse-variance models or fewer than two studies.
    pub influence: Option<Vec<Influence>>,
    pub notes: Vec<String>,
}

/// Leave-one-out, cumulative (studies in input order `order`) and influence analyses of
/// `analysis`, which was computed from `data`. `None` if there are more than [`MAX_STUDIES`].
pub fn sensitivity(data: &[StudyData], analysis: &Analysis, order: &[usize]) -> Option<Sensitivity> {
    if analysis.k > MAX_STUDIES {
        return None;
    }
    let mut notes = Vec::new();
    let leave_one_out = (analysis.k >= 2).then(|| leave_one_out(data, analysis));
    let cumulative = cumulative(data, analysis, order);
    notes.extend(leave_one_out.as_deref().and_then(|rows| failed_rows("leave-one-out analysis", rows)));
    notes.extend(failed_rows("cumulative analysis", &cumulative));
    let influence = if analysis.k < 2 {
        None
    } else if !is_inverse_variance(&analysis.spec) {
        notes.push("Influence diagnostics need an inverse-variance model.".to_string());
        None
    } else {
        let (yi, vi, index) = analysis.pooled_effects();
        noted(&mut notes, "Influence diagnostics", influence(&yi, &vi, &analysis.spec)).map(|rows| {
            rows.into_iter().map(|r| Influence { study: index[r.study], ..r }).collect()
        })
    };
    Some(Sensitivity { leave_one_out, cumulative, influence, notes })
}

/// Which input studies take part in the pooling of `analysis`.
fn pooled_mask(analysis: &Analysis) -> Vec<bool> {
    analysis.studies().map(|s| s.weight.is_some()).collect()
}

/// The analysis of the studies `keep` (input indices, in order), as `spec` says; a single study
/// is tested with z, as metafor does.
fn refit(data: &[StudyData], keep: &[usize], spec: &Spec) -> Result<RefitStats, StatsError> {
    let subset: Vec<StudyData> = keep.iter().map(|&i| data[i]).collect();
    let a = match meta_analysis(&subset, spec) {
        Err(StatsError::TooFewStudies { have: 1, .. }) if spec.test == Test::Knha => {
            meta_analysis(&subset, &Spec { test: Test::Z, ..*spec })
        }
        a => a,
    };
    let a = a?;
    a.pooled.as_ref().map(RefitStats::new).ok_or_else(|| StatsError::NotEstimable(a.not_estimable.clone().unwrap_or_default()))
}

/// The analysis without each pooled study in turn (metafor `leave1out`).
pub fn leave_one_out(data: &[StudyData], analysis: &Analysis) -> Vec<Refit> {
    let pooled = pooled_mask(analysis);
    (0..data.len())
        .filter(|&i| pooled[i])
        .map(|i| {
            let keep: Vec<usize> = (0..data.len()).filter(|&j| j != i).collect();
            Refit { study: i, k: analysis.k - 1, fit: refit(data, &keep, &analysis.spec) }
        })
        .collect()
}

/// The analyses of the first 1, 2, … studies in `order` (input indices; metafor `cumul`). One
/// row per pooled study, the last being the full analysis.
pub fn cumulative(data: &[StudyData], analysis: &Analysis, order: &[usize]) -> Vec<Refit> {
    let pooled = pooled_mask(analysis);
    let mut rows = Vec::with_capacity(analysis.k);
    let mut k = 0;
    for (n, &i) in order.iter().enumerate() {
        if pooled[i] {
            k += 1;
            rows.push(Refit { study: i, k, fit: refit(data, &order[..=n], &analysis.spec) });
        }
    }
    rows
}

/// A note for the rows of `rows` that could not be computed, if any.
fn failed_rows(what: &str, rows: &[Refit]) -> Option<String> {
    let failed: Vec<&Refit> = rows.iter().filter(|r| r.fit.is_err()).collect();
    let first = failed.first()?;
    let Err(e) = &first.fit else { return None };
    Some(format!(
        "{} of {} rows of the {what} could not be computed (they are empty), e.g.: {e}.",
        failed.len(),
        rows.len()
    ))
}

/// Case-deletion diagnostics of the inverse-variance model of `spec` for effects `yi` with
/// variances `vi` (metafor `influence.rma.uni`, intercept-only model). `study` in the result
/// is the position in `yi`.
pub fn influence(yi: &[f64], vi: &[f64], spec: &Spec) -> Result<Vec<Influence>, StatsError> {
    let k = yi.len();
    if k < 2 {
        return Err(StatsError::TooFewStudies { what: "influence diagnostics".into(), needed: 2, have: k });
    }
    let full = fit_inverse_variance(yi, vi, spec)?;
    if full.se.is_nan() || full.se <= 0.0 {
        // Knapp–Hartung with Q = 0 (identical effects): every diagnostic divides by the
        // pooled variance (metafor stops with an error).
        return Err(StatsError::Degenerate(KNHA_ZERO_SE.into()));
    }
    let tau2 = full.tau2.unwrap_or(0.0);
    let w: Vec<f64> = vi.iter().map(|v| 1.0 / (v + tau2)).collect();
    let sw: f64 = w.iter().sum();
    let vb = full.se * full.se;
    let kf = k as f64;
    let cook_cut = dist::qchisq(0.5, 1.0);
    let mut rows = Vec::with_capacity(k);
    let (mut ys, mut vs) = (Vec::with_capacity(k - 1), Vec::with_capacity(k - 1));
    for i in 0..k {
        ys.clear();
        vs.clear();
        for j in (0..k).filter(|&j| j != i) {
            ys.push(yi[j]);
            vs.push(vi[j]);
        }
        let spec_del = if k - 1 == 1 && spec.test == Test::Knha { Spec { test: Test::Z, ..*spec } } else { *spec };
        let del = fit_inverse_variance(&ys, &vs, &spec_del)?;
        let tau2_del = del.tau2.unwrap_or(0.0);
        let sw_del: f64 = vs.iter().map(|v| 1.0 / (v + tau2_del)).sum();
        let vdel = del.se * del.se;
        // Knapp–Hartung's scale factor s² of the deleted model (1 for the z test).
        let s2w = if spec_del.test == Test::Knha { vdel * sw_del } else { 1.0 };
        let hat = w[i] / sw;
        let diff = full.estimate - del.estimate;
        let dffits = diff / (s2w * hat * (tau2_del + vi[i])).sqrt();
        let vb_del = 1.0 / vi.iter().map(|v| 1.0 / (v + tau2_del)).sum::<f64>();
        let dfbetas = diff / (s2w * vb_del).sqrt();
        let cook_d = diff * diff / vb;
        let mut resid = yi[i] - del.estimate;
        if resid.abs() < 100.0 * f64::EPSILON {
            resid = 0.0;
        }
        let rstudent = resid / (vi[i] * s2w + vdel + tau2_del * s2w).sqrt();
        let influential =
            dffits.abs() > 3.0 * (1.0 / (kf - 1.0)).sqrt() || cook_d > cook_cut || hat > 3.0 / kf || dfbetas.abs() > 1.0;
        rows.push(Influence {
            study: i,
            rstudent,
            dffits,
            cook_d,
            cov_r: vdel / vb,
            tau2_del: full.tau2.map(|_| tau2_del),
            q_del: del.heterogeneity.as_ref().map_or(0.0, |h| h.q),
            hat,
            weight: 100.0 * hat,
            dfbetas,
            influential,
        });
    }
    // A model without study i whose effects do not vary has a Knapp–Hartung variance of 0:
    // metafor shows ±Inf where a difference is divided by it, and 0/0 would be NaN.
    let values = |r: &Influence| [r.rstudent, r.dffits, r.cook_d, r.cov_r, r.q_del, r.hat, r.weight, r.dfbetas];
    if rows.iter().any(|r| values(r).iter().any(|x| x.is_nan())) {
        return Err(StatsError::Degenerate(if spec.test == Test::Knha { KNHA_ZERO_SE } else { "a diagnostic has no finite value for these data" }.into()));
    }
    Ok(rows)
}

const KNHA_ZERO_SE: &str = "the effects (with a study left out, or all of them) do not vary about their pooled estimate (Q = 0), so the Knapp–Hartung standard error is 0 and the diagnostics that divide by it have no value; the z test does not have this problem";
