//! One meta-analysis from start to finish: check the [`Spec`], compute each study's effect,
//! pool by the chosen method, and return every number a report needs.

use super::effect::{self, EffectSize, Effects, StudyData, StudyEffect, Table2x2};
use super::error::StatsError;
use super::inverse_variance;
use super::mantel_haenszel;
use super::spec::{Convention, Measure, Method, Spec, Test};
use super::tau2;

/// Cochran's Q and the measures derived from it (present only when k ≥ 2).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Heterogeneity {
    pub q: f64,
    pub df: f64,
    /// P-value of Q against χ²(df).
    pub p: f64,
    /// I² in percent.
    pub i2: f64,
    pub h2: f64,
    /// Q-profile interval for I² (random-effects models, metafor convention).
    pub i2_ci: Option<(f64, f64)>,
    pub h2_ci: Option<(f64, f64)>,
}

/// The pooled result on the analysis scale (log scale for ratio measures).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pooled {
    pub estimate: f64,
    pub se: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// z or t statistic.
    pub stat: f64,
    /// Degrees of freedom of the t statistic (Knapp–Hartung), `None` for z.
    pub stat_df: Option<f64>,
    pub p: f64,
    /// τ² for random-effects models with k ≥ 2.
    pub tau2: Option<f64>,
    /// Q-profile confidence interval for τ².
    pub tau2_ci: Option<(f64, f64)>,
    pub heterogeneity: Option<Heterogeneity>,
    pub prediction: Option<(f64, f64)>,
    /// Weight of each pooled study in percent, in the order of the pooled studies.
    pub weights: Vec<f64>,
    /// Iterations the τ² estimator needed (0 for closed forms).
    pub iterations: usize,
}

/// One study as analysed.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StudyResult {
    /// The study's effect, or `None` if it is not estimable (shown, but not pooled).
    pub effect: Option<EffectSize>,
    /// The study's weight in percent, `None` if it does not take part in the pooling.
    pub weight: Option<f64>,
}

/// A complete meta-analysis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Analysis {
    pub spec: Spec,
    /// Number of studies pooled.
    pub k: usize,
    /// Each input study's effect, in input order.
    effects: Effects,
    /// Whether each input study takes part in the pooling (its weight is the next one in
    /// `pooled.weights`). Kept apart rather than as a vector of [`StudyResult`]s so that a
    /// million-study analysis does not copy its effects.
    in_pool: Vec<bool>,
    /// The pooled result; `None` when no study has an estimable effect (RevMan's "Not
    /// estimable" total, e.g. no events in either group of every study for a risk ratio).
    pub pooled: Option<Pooled>,
    /// Why there is no pooled result, in plain words (`None` when there is one).
    pub not_estimable: Option<String>,
    /// What the computation assumed or did that a reader should know, in plain words.
    pub notes: Vec<String>,
}

impl Analysis {
    /// Every input study as analysed, in input order.
    pub fn studies(&self) -> impl ExactSizeIterator<Item = StudyResult> + '_ {
        let mut weights = self.pooled.as_ref().map_or(&[][..], |p| &p.weights[..]).iter().copied();
        self.effects
            .iter()
            .zip(&self.in_pool)
            .map(move |(effect, &pooled)| StudyResult { effect, weight: if pooled { weights.next() } else { None } })
    }
}

/// Check that the parts of a [`Spec`] fit together and fit the convention.
pub fn check_spec(spec: &Spec) -> Result<(), StatsError> {
    for level in [spec.level, spec.study_level] {
        if !(level > 0.0 && level < 100.0) {
            return Err(StatsError::Level(level));
        }
    }
    if spec.generic_log && spec.measure != Measure::GEN {
        return Err(StatsError::Undefined(format!(
            "generic log-scale effects with the {} measure (the log scale is for `GEN` effects given as log ratios; {} is {} already)",
            spec.measure.name(),
            spec.measure.name(),
            if spec.measure.is_ratio() { "analysed on the log scale" } else { "not a ratio" }
        )));
    }
    spec.control.check()?;
    match spec.method {
        Method::MH if !spec.measure.is_binary() => {
            return Err(StatsError::MethodMeasure { method: spec.method, measure: spec.measure })
        }
        Method::PETO if spec.measure != Measure::OR => {
            return Err(StatsError::MethodMeasure { method: spec.method, measure: spec.measure })
        }
        Method::MH | Method::PETO if spec.test != Test::Z => {
            return Err(StatsError::MethodTest { method: spec.method, test: spec.test })
        }
        _ => {}
    }
    if spec.method == Method::MH && spec.mh_random && spec.convention != Convention::Revman5 {
        return Err(StatsError::Convention {
            convention: spec.convention,
            what: "Mantel–Haenszel with random effects (RevMan 5's \"M-H, Random\")".to_string(),
        });
    }
    if spec.convention == Convention::Revman5 {
        if !matches!(spec.method, Method::FE | Method::MH | Method::PETO | Method::DL) {
            return Err(StatsError::Convention {
                convention: spec.convention,
                what: format!("the {} estimator (RevMan 5 estimates tau² by DerSimonian–Laird only)", spec.method.name()),
            });
        }
        if spec.test != Test::Z {
            return Err(StatsError::Convention {
                convention: spec.convention,
                what: "the Knapp–Hartung test".to_string(),
            });
        }
    }
    Ok(())
}

/// Run one meta-analysis of `data` (one entry per study) as `spec` says.
pub fn meta_analysis(data: &[StudyData], spec: &Spec) -> Result<Analysis, StatsError> {
    check_spec(spec)?;
    if data.is_empty() {
        return Err(StatsError::NoStudies);
    }
    let mut notes = convention_notes(spec);
    let binary = spec.measure.is_binary();
    let tables: Vec<Table2x2> = if binary {
        data.iter()
            .map(|d| match *d {
                StudyData::Binary { events1, n1, events2, n2 } => Ok(Table2x2::from_counts(events1, n1, events2, n2)),
                _ => Err(StatsError::WrongData { measure: spec.measure, needs: effect::needed_data(spec.measure).into() }),
            })
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };

    // 1. Per-study effects.
    let mut effects = Effects::with_capacity(data.len());
    match spec.method {
        Method::PETO => {
            for (index, t) in tables.iter().enumerate() {
                let e = if t.is_double_zero() || t.n1() == 0.0 || t.n2() == 0.0 { None } else { mantel_haenszel::peto_effect(&t.corrected(0.5)) };
                if let Some(e) = &e {
                    effect::check_range(e, index)?;
                }
                effects.push(e);
            }
        }
        _ => {
            for (index, d) in data.iter().enumerate() {
                let e = match effect::effect_size(spec.measure, d, spec.convention) {
                    Ok(StudyEffect::Estimable(e)) => Some(e),
                    Ok(StudyEffect::NotEstimable) => None,
                    Err(StatsError::InvalidStudy { reason, .. }) => return Err(StatsError::InvalidStudy { index, reason }),
                    Err(StatsError::StudyScale { yi, vi, .. }) => return Err(StatsError::StudyScale { index, yi, vi }),
                    Err(e) => return Err(e),
                };
                // metafor's rma.mh leaves double-zero studies without an effect (drop00 = TRUE).
                let dropped = spec.method == Method::MH
                    && spec.convention == Convention::Metafor
                    && binary
                    && tables[index].is_double_zero();
                effects.push(if dropped { None } else { e });
            }
        }
    }
    if binary {
        let corrected = tables.iter().filter(|t| t.has_zero_cell()).count();
        if corrected > 0 {
            notes.push(format!(
                "0.5 was added to every cell of the {corrected} {} with a zero cell{}.",
                if corrected == 1 { "study" } else { "studies" },
                match (spec.method, spec.convention, spec.measure) {
                    (_, Convention::Revman5, Measure::RD) if spec.method != Method::PETO => {
                        " for the standard error of its risk difference only; the differences and the Mantel–Haenszel estimate use the raw counts (RevMan 5)"
                    }
                    (Method::MH | Method::PETO, Convention::Metafor, _) => " for its own effect only; the pooling used the raw counts",
                    (Method::MH, Convention::Revman5, _) => ", for its effect and for the Mantel–Haenszel pooling",
                    _ => "",
                }
            ));
        }
        let empty = tables.iter().filter(|t| t.n1() == 0.0 || t.n2() == 0.0).count();
        if empty > 0 {
            notes.push(format!(
                "{empty} {} no participants in a group and {} not estimable.",
                if empty == 1 { "study has" } else { "studies have" },
                if empty == 1 { "is" } else { "are" }
            ));
        }
        let double = tables.iter().filter(|t| t.is_double_zero() && t.n1() > 0.0 && t.n2() > 0.0).count();
        let double_not_estimable = match spec.convention {
            Convention::Revman5 => spec.measure != Measure::RD || spec.method == Method::PETO,
            Convention::Metafor => matches!(spec.method, Method::MH | Method::PETO),
        };
        if double > 0 && double_not_estimable {
            notes.push(format!(
                "{double} {} without events (or with only events) in both groups {} not estimable.",
                if double == 1 { "study" } else { "studies" },
                if double == 1 { "is" } else { "are" }
            ));
        }
    }

    // 2. Which studies take part in the pooling.
    let in_pool: Vec<bool> = match (spec.method, spec.convention) {
        // metafor's rma.mh and rma.peto pool every table, double zeros included (they add nothing).
        // (A table with an empty group has no information and would divide 0 by 0.)
        (Method::MH | Method::PETO, Convention::Metafor) => tables.iter().map(|t| t.n1() > 0.0 && t.n2() > 0.0).collect(),
        (Method::PETO, Convention::Revman5) => tables.iter().map(|t| !t.is_double_zero() && t.n1() > 0.0 && t.n2() > 0.0).collect(),
        _ => effects.estimable.clone(),
    };
    let k = in_pool.iter().filter(|&&p| p).count();
    if k == 0 {
        let why = not_estimable_reason(spec, &tables);
        notes.push(format!("Not estimable: {why}."));
        return Ok(Analysis { spec: *spec, k, effects, in_pool, pooled: None, not_estimable: Some(why), notes });
    }
    let pooled_tables = |correct: bool| -> Vec<Table2x2> {
        tables
            .iter()
            .zip(&in_pool)
            .filter(|(_, &p)| p)
            .map(|(t, _)| if correct { t.corrected(0.5) } else { *t })
            .collect()
    };

    // 3. Pool.
    let pooled = match spec.method {
        Method::MH if spec.mh_random => {
            // RevMan 5's "M-H, Random": DerSimonian–Laird fed with the Mantel–Haenszel Q, then
            // inverse-variance random-effects weights (Deeks & Higgins 2010).
            let (yi, vi): (Vec<f64>, Vec<f64>) = effects.iter().flatten().map(|e| (e.yi, e.vi)).unzip();
            let mh_q = if yi.len() >= 2 {
                mantel_haenszel::mh_q(spec.measure, &pooled_tables(false), &pooled_tables(true), &effects)?
            } else {
                None
            };
            let tau2 = match mh_q {
                Some(q) => {
                    let s = tau2::weighted_sums(&yi, &vi, 0.0);
                    let df = (yi.len() - 1) as f64;
                    ((q - df) / (s.sw - s.sw2 / s.sw)).max(0.0)
                }
                None => 0.0,
            };
            let mut pooled = inverse_variance::pool(&yi, &vi, tau2, true, spec)?;
            if let (Some(q), Some(h)) = (mh_q, pooled.heterogeneity.as_mut()) {
                let (i2, h2) = inverse_variance::i2_from_q(q, h.df);
                h.q = q;
                h.p = super::dist::pchisq_upper(q, h.df);
                h.i2 = i2;
                h.h2 = h2;
                notes.push("Heterogeneity Q is computed around the Mantel–Haenszel estimate and feeds the DerSimonian–Laird tau² (RevMan 5's M-H, Random).".to_string());
            }
            // Studies in the pool without an effect (none under RevMan 5) would have no weight.
            pooled
        }
        Method::MH => {
            mantel_haenszel::mantel_haenszel(spec.measure, &pooled_tables(false), &pooled_tables(spec.convention == Convention::Revman5), &effects, spec)?
        }
        Method::PETO => mantel_haenszel::peto(&pooled_tables(false), spec)?,
        _ => {
            // Here the pooled studies are exactly those with an effect: use the columns as they
            // are when every study has one.
            let filtered: (Vec<f64>, Vec<f64>);
            let (yi, vi): (&[f64], &[f64]) = if k == effects.len() {
                (&effects.yi, &effects.vi)
            } else {
                filtered = effects.iter().flatten().map(|e| (e.yi, e.vi)).unzip();
                (&filtered.0, &filtered.1)
            };
            fit_inverse_variance(yi, vi, spec)?
        }
    };

    if spec.test == Test::Knha && pooled.se == 0.0 {
        notes.push(KNHA_ZERO_SE_NOTE.to_string());
    }
    Ok(Analysis { spec: *spec, k, effects, in_pool, pooled: Some(pooled), not_estimable: None, notes })
}

/// Why no study of an analysis has an effect to pool, in plain words.
fn not_estimable_reason(spec: &Spec, tables: &[Table2x2]) -> String {
    if !tables.is_empty() && tables.iter().all(Table2x2::is_double_zero) {
        format!(
            "no study has events in one group and not the other (every study has no events, or only events, in both groups), which leaves the {} undefined",
            if spec.method == Method::PETO { "Peto odds ratio".to_string() } else { spec.measure.long_name().to_lowercase() }
        )
    } else {
        "no study has an effect that can be pooled".to_string()
    }
}

/// Knapp–Hartung multiplies the variance by Q/(k − 1): effects that do not vary about the
/// estimate (identical effects) leave nothing to scale by.
pub const KNHA_ZERO_SE_NOTE: &str = "The effects do not vary about the pooled estimate (Q = 0), so the Knapp–Hartung standard error is 0: the confidence interval has no width and the t statistic is infinite (not computed for an estimate of exactly 0), as metafor reports them; the z test does not have this problem.";

/// Fit the inverse-variance model of `spec.method` (FE or a random-effects estimator) to
/// effects `yi` with variances `vi`: τ² by the method's estimator, then [`inverse_variance::pool`].
/// This is metafor's `rma.uni` for an intercept-only model, and what the sensitivity analyses
/// and trim-and-fill refit on subsets and filled data. Mantel–Haenszel and Peto are not
/// inverse-variance methods and are refused.
pub fn fit_inverse_variance(yi: &[f64], vi: &[f64], spec: &Spec) -> Result<Pooled, StatsError> {
    match spec.method {
        Method::MH | Method::PETO => Err(StatsError::Undefined(format!(
            "an inverse-variance refit of a {} analysis",
            spec.method.name()
        ))),
        Method::FE => inverse_variance::pool(yi, vi, 0.0, false, spec),
        method => {
            let estimate = tau2::estimate(method, yi, vi, &spec.control)?;
            let mut pooled = inverse_variance::pool(yi, vi, estimate.tau2, true, spec)?;
            pooled.iterations = estimate.iterations;
            Ok(pooled)
        }
    }
}

/// Whether `analysis` is an inverse-variance model of its effects (yᵢ, vᵢ), so that refitting
/// those effects reproduces it: not Mantel–Haenszel (fixed, or RevMan 5's "M-H, Random":
/// DerSimonian–Laird fed with the Mantel–Haenszel Q) or Peto.
pub fn is_inverse_variance(spec: &Spec) -> bool {
    !matches!(spec.method, Method::MH | Method::PETO)
}

impl Analysis {
    /// The pooled studies' effects `(yi, vi)` and their input indices, in input order.
    pub fn pooled_effects(&self) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
        let mut yi = Vec::with_capacity(self.k);
        let mut vi = Vec::with_capacity(self.k);
        let mut index = Vec::with_capacity(self.k);
        for (i, (e, &pooled)) in self.effects.iter().zip(&self.in_pool).enumerate() {
            if let (Some(e), true) = (e, pooled) {
                yi.push(e.yi);
                vi.push(e.vi);
                index.push(i);
            }
        }
        (yi, vi, index)
    }
}

/// The convention's choices that matter for this measure, stated for the reader.
fn convention_notes(spec: &Spec) -> Vec<String> {
    let mut notes = Vec::new();
    match (spec.measure, spec.convention) {
        (Measure::SMD, Convention::Metafor) => notes.push(
            "SMD is Hedges' g with the exact small-sample correction; variance 1/n1 + 1/n2 + g²/(2(n1 + n2)) (metafor escalc).".to_string(),
        ),
        (Measure::SMD, Convention::Revman5) => notes.push(
            "SMD is Hedges' g with RevMan 5's correction 1 − 3/(4N − 9); variance N/(n1·n2) + g²/(2(N − 3.94)).".to_string(),
        ),
        (Measure::SMCR, _) => notes.push(
            "SMCR is the standardised mean change (post − pre)/SD(pre) with the exact small-sample correction; variance 2(1 − r)/n + g²/(2n) (Becker 1988; metafor escalc).".to_string(),
        ),
        _ => {}
    }
    if spec.is_random() {
        if spec.convention == Convention::Revman5 {
            notes.push("I² = (Q − df)/Q, as RevMan 5 reports it.".to_string());
        } else {
            notes.push("I² and H² are derived from tau² and the typical within-study variance (metafor).".to_string());
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::IterControl;

    fn gen(yi: &[f64], vi: &[f64]) -> Vec<StudyData> {
        yi.iter().zip(vi).map(|(&yi, &vi)| StudyData::Generic { yi, vi }).collect()
    }

    #[test]
    fn one_study_reports_itself() {
        let a = meta_analysis(&gen(&[0.4], &[0.04]), &Spec::new(Measure::GEN)).unwrap();
        assert_eq!(a.k, 1);
        assert!((a.pooled.as_ref().unwrap().estimate - 0.4).abs() < 1e-15);
        assert!((a.pooled.as_ref().unwrap().se - 0.2).abs() < 1e-15);
        assert!(a.pooled.as_ref().unwrap().heterogeneity.is_none());
        assert!(a.pooled.as_ref().unwrap().tau2.is_none());
    }

    #[test]
    fn revman5_refuses_reml() {
        let mut spec = Spec::new(Measure::GEN);
        spec.convention = Convention::Revman5;
        assert!(matches!(meta_analysis(&gen(&[0.1, 0.2], &[0.1, 0.1]), &spec), Err(StatsError::Convention { .. })));
    }

    #[test]
    fn iteration_controls_out_of_range_are_refused_not_converged() {
        // A step of 0 left τ² at its starting value and called it converged.
        let data = gen(&[0.1, 0.5, 0.9], &[0.01, 0.02, 0.03]);
        for control in [
            IterControl { step: 0.0, ..IterControl::default() },
            IterControl { step: -1.0, ..IterControl::default() },
            IterControl { step: f64::NAN, ..IterControl::default() },
            IterControl { threshold: f64::NAN, ..IterControl::default() },
            IterControl { threshold: -1e-5, ..IterControl::default() },
            IterControl { max_iter: 0, ..IterControl::default() },
        ] {
            let spec = Spec { control, ..Spec::new(Measure::GEN) };
            assert!(matches!(meta_analysis(&data, &spec), Err(StatsError::Control { .. })), "{control:?}");
        }
    }

    #[test]
    fn out_of_range_studies_and_overflow_are_typed_errors() {
        // A variance that underflowed (an SE of 1e-160 squared) is named by its study.
        let e = meta_analysis(&gen(&[0.1, 0.5, 0.9], &[0.01, 1e-320, 0.03]), &Spec::new(Measure::GEN)).unwrap_err();
        assert!(matches!(e, StatsError::StudyScale { index: 1, .. }), "{e:?}");
        // Each study in range, together beyond double precision: not "did not converge".
        let e = meta_analysis(&gen(&[-1e99, 1e99, 0.0], &[1.0, 1.0, 1e-99]), &Spec::new(Measure::GEN)).unwrap_err();
        assert!(matches!(e, StatsError::Overflow(_)), "{e:?}");
    }

    fn binary(rows: &[(f64, f64, f64, f64)]) -> Vec<StudyData> {
        rows.iter().map(|&(events1, n1, events2, n2)| StudyData::Binary { events1, n1, events2, n2 }).collect()
    }

    fn revman(measure: Measure, method: Method) -> Spec {
        Spec { method, convention: Convention::Revman5, ..Spec::new(measure) }
    }

    #[test]
    fn revman_risk_difference_of_a_study_without_events_is_zero_with_a_corrected_interval() {
        // Deeks & Higgins (2010): RD = a/n1 − c/n2; SE² = ab/n1³ + cd/n2³, with 0.5 added to
        // every cell of a table with a zero cell. RevMan prints such a study as 0.00 [−0.07, 0.07].
        let a = meta_analysis(&binary(&[(0.0, 27.0, 0.0, 27.0), (3.0, 20.0, 1.0, 20.0)]), &revman(Measure::RD, Method::MH)).unwrap();
        let e = a.studies().next().unwrap().effect.unwrap();
        assert_eq!(e.yi, 0.0);
        let se = (2.0 * 0.5 * 27.5 / 28f64.powi(3)).sqrt();
        assert!((e.vi.sqrt() - se).abs() < 1e-15);
        let (lo, hi) = e.ci(crate::stats::dist::qnorm(0.975));
        assert_eq!((crate::format::fixed(lo, 2), crate::format::fixed(hi, 2)), ("\u{2212}0.07".to_string(), "0.07".to_string()));
        // A single zero cell: the difference of the raw proportions, the SE of the corrected.
        let e = a.studies().nth(1).unwrap().effect.unwrap();
        assert!((e.yi - (3.0 / 20.0 - 1.0 / 20.0)).abs() < 1e-15);
    }

    #[test]
    fn revman_mantel_haenszel_risk_difference_pools_the_raw_counts() {
        let tables = [(3.0, 20.0, 1.0, 20.0), (0.0, 15.0, 0.0, 15.0), (0.0, 30.0, 2.0, 30.0)];
        let a = meta_analysis(&binary(&tables), &revman(Measure::RD, Method::MH)).unwrap();
        let p = a.pooled.as_ref().unwrap();
        // MH RD = Σ(a·n2 − c·n1)/N / Σ n1·n2/N of the counts as they are (no 0.5 moves it).
        let num: f64 = tables.iter().map(|&(a, n1, c, n2)| (a * n2 - c * n1) / (n1 + n2)).sum();
        let den: f64 = tables.iter().map(|&(_, n1, _, n2)| n1 * n2 / (n1 + n2)).sum();
        assert!((p.estimate - num / den).abs() < 1e-15, "{} vs {}", p.estimate, num / den);
        // Greenland–Robins variance, 0.5 added to the cells of the tables with a zero cell.
        let var: f64 = tables
            .iter()
            .map(|&(a, n1, c, n2)| {
                let add = if a == 0.0 || c == 0.0 || a == n1 || c == n2 { 0.5 } else { 0.0 };
                let (a, b, c, d) = (a + add, n1 - a + add, c + add, n2 - c + add);
                let (n1, n2) = (a + b, c + d);
                (a * b * n2.powi(3) + c * d * n1.powi(3)) / (n1 * n2 * (n1 + n2).powi(2))
            })
            .sum::<f64>()
            / (den * den);
        assert!((p.se - var.sqrt()).abs() < 1e-15);
        // The double-zero study takes part, with its weight n1·n2/N.
        assert_eq!(a.k, 3);
        assert!((p.weights[1] - 100.0 * 7.5 / den).abs() < 1e-12);
    }

    #[test]
    fn an_analysis_without_an_estimable_study_is_not_estimable_not_an_error() {
        let data = binary(&[(0.0, 10.0, 0.0, 10.0), (0.0, 12.0, 0.0, 11.0)]);
        for method in [Method::MH, Method::FE, Method::DL, Method::PETO] {
            let measure = if method == Method::PETO { Measure::OR } else { Measure::RR };
            let a = meta_analysis(&data, &revman(measure, method)).unwrap();
            assert!(a.pooled.is_none() && a.k == 0, "{method:?}");
            assert!(a.not_estimable.as_deref().unwrap().contains("no events, or only events, in both groups"), "{:?}", a.not_estimable);
            assert!(a.studies().all(|s| s.effect.is_none() && s.weight.is_none()));
        }
        // The risk difference of such studies is 0 and estimable.
        assert!(meta_analysis(&data, &revman(Measure::RD, Method::MH)).unwrap().pooled.is_some());
    }

    #[test]
    fn a_study_without_participants_in_a_group_is_not_estimable() {
        // RevMan keeps a study without data for an outcome as 0 of 0 in both groups.
        let data = binary(&[(0.0, 0.0, 0.0, 0.0), (3.0, 20.0, 1.0, 20.0), (5.0, 15.0, 2.0, 15.0)]);
        for convention in [Convention::Revman5, Convention::Metafor] {
            for (measure, method) in [(Measure::RR, Method::MH), (Measure::RD, Method::MH), (Measure::OR, Method::PETO), (Measure::OR, Method::DL)] {
                let a = meta_analysis(&data, &Spec { convention, ..revman(measure, method) }).unwrap();
                let first = a.studies().next().unwrap();
                assert!(first.effect.is_none() && first.weight.is_none_or(|w| w == 0.0), "{convention:?} {measure:?} {method:?}: {first:?}");
                assert!(a.pooled.is_some());
                assert!(a.notes.iter().any(|n| n.contains("1 study has no participants in a group")), "{:?}", a.notes);
            }
        }
    }

    #[test]
    fn mantel_haenszel_random_is_revman_s_only() {
        let data = binary(&[(3.0, 20.0, 1.0, 20.0), (5.0, 15.0, 2.0, 15.0)]);
        let spec = Spec { method: Method::MH, mh_random: true, ..Spec::new(Measure::RR) };
        assert!(matches!(meta_analysis(&data, &spec), Err(StatsError::Convention { .. })));
        let a = meta_analysis(&data, &Spec { convention: Convention::Revman5, ..spec }).unwrap();
        assert!(a.pooled.as_ref().unwrap().tau2.is_some());
        assert_eq!(a.spec.revman_label(), "M-H, Random");
    }

    #[test]
    fn mh_needs_a_binary_measure() {
        let mut spec = Spec::new(Measure::GEN);
        spec.method = Method::MH;
        assert!(matches!(
            meta_analysis(&gen(&[0.1, 0.2], &[0.1, 0.1]), &spec),
            Err(StatsError::MethodMeasure { .. })
        ));
    }
}
