//! Per-study effect sizes `(yi, vi)`: the observed effect and its sampling variance.
//!
//! Formulas follow metafor's `escalc` (Viechtbauer 2010, and the `escalc` help page of metafor
//! 3.8), which in turn cite the primary sources named on each function. Under the `revman5`
//! convention the standardised mean difference uses RevMan 5's approximations instead (Deeks &
//! Higgins 2010, section "Standardised mean difference"), and studies without events in either
//! arm are "not estimable" for OR and RR, as RevMan reports them.

use super::error::StatsError;
use super::spec::{Convention, Measure};

/// One study's summary data, in the form its design reports it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StudyData {
    /// Two independent groups with a continuous outcome; group 1 is the intervention.
    Continuous { n1: f64, mean1: f64, sd1: f64, n2: f64, mean2: f64, sd2: f64 },
    /// One group measured before and after; `r` is the pre–post correlation.
    PrePost { n: f64, mean_pre: f64, sd_pre: f64, mean_post: f64, sd_post: f64, r: f64 },
    /// A 2×2 table: events and totals per group; group 1 is the intervention.
    Binary { events1: f64, n1: f64, events2: f64, n2: f64 },
    /// A correlation coefficient from `n` participants.
    Correlation { n: f64, r: f64 },
    /// An effect and its sampling variance computed elsewhere.
    Generic { yi: f64, vi: f64 },
}

/// A study's effect on the analysis scale (log scale for ratio measures).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EffectSize {
    pub yi: f64,
    pub vi: f64,
}

impl EffectSize {
    /// The Wald confidence interval yi ± z·√vi (z the normal quantile for the level), as
    /// RevMan and metafor show for each study.
    pub fn ci(&self, z: f64) -> (f64, f64) {
        let half = z * self.vi.sqrt();
        (self.yi - half, self.yi + half)
    }
}

/// The effects of all studies of an analysis, stored as plain columns (`yi`, `vi`) so that
/// the pooling passes read them directly and a million-study analysis keeps one copy.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Effects {
    /// Effects on the analysis scale; NaN where not estimable.
    pub yi: Vec<f64>,
    /// Sampling variances; NaN where not estimable.
    pub vi: Vec<f64>,
    /// Whether each study has an effect.
    pub estimable: Vec<bool>,
}

impl Effects {
    pub fn with_capacity(n: usize) -> Effects {
        Effects { yi: Vec::with_capacity(n), vi: Vec::with_capacity(n), estimable: Vec::with_capacity(n) }
    }

    pub fn push(&mut self, effect: Option<EffectSize>) {
        let e = effect.unwrap_or(EffectSize { yi: f64::NAN, vi: f64::NAN });
        self.yi.push(e.yi);
        self.vi.push(e.vi);
        self.estimable.push(effect.is_some());
    }

    pub fn len(&self) -> usize {
        self.yi.len()
    }

    pub fn is_empty(&self) -> bool {
        self.yi.is_empty()
    }

    /// Study `i`'s effect, `None` if not estimable.
    pub fn get(&self, i: usize) -> Option<EffectSize> {
        self.estimable[i].then(|| EffectSize { yi: self.yi[i], vi: self.vi[i] })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Option<EffectSize>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// The outcome of computing one study's effect.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StudyEffect {
    Estimable(EffectSize),
    /// RevMan's "Not estimable": no events (or only events) in both arms for a ratio measure.
    NotEstimable,
}

/// A 2×2 table with the four cells `a b / c d` (events and non-events per group).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Table2x2 {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
}

impl Table2x2 {
    pub fn from_counts(events1: f64, n1: f64, events2: f64, n2: f64) -> Table2x2 {
        Table2x2 { a: events1, b: n1 - events1, c: events2, d: n2 - events2 }
    }
    pub fn n1(&self) -> f64 {
        self.a + self.b
    }
    pub fn n2(&self) -> f64 {
        self.c + self.d
    }
    pub fn total(&self) -> f64 {
        self.a + self.b + self.c + self.d
    }
    pub fn has_zero_cell(&self) -> bool {
        self.a == 0.0 || self.b == 0.0 || self.c == 0.0 || self.d == 0.0
    }
    /// No events in both groups, or only events in both groups.
    pub fn is_double_zero(&self) -> bool {
        (self.a == 0.0 && self.c == 0.0) || (self.b == 0.0 && self.d == 0.0)
    }
    /// The table with `add` added to every cell when any cell is zero (metafor's
    /// `add = 1/2, to = "only0"`; RevMan 5 does the same).
    pub fn corrected(&self, add: f64) -> Table2x2 {
        if self.has_zero_cell() {
            Table2x2 { a: self.a + add, b: self.b + add, c: self.c + add, d: self.d + add }
        } else {
            *self
        }
    }
}

/// Compute one study's effect size for `measure` under `convention`.
pub fn effect_size(
    measure: Measure,
    data: &StudyData,
    convention: Convention,
) -> Result<StudyEffect, StatsError> {
    // A study RevMan keeps without data (a group of 0, no spread, a standard error of 0; the
    // loader lets these through under `revman5` only): shown, not estimable.
    let no_data = match *data {
        StudyData::Continuous { n1, sd1, n2, sd2, .. } => n1 == 0.0 || n2 == 0.0 || (sd1 == 0.0 && sd2 == 0.0) || n1 + n2 < 3.0,
        StudyData::Generic { vi, .. } => vi == 0.0,
        _ => false,
    };
    if no_data {
        return Ok(StudyEffect::NotEstimable);
    }
    let es = match (measure, *data) {
        (Measure::MD, StudyData::Continuous { n1, mean1, sd1, n2, mean2, sd2 }) => mean_difference(n1, mean1, sd1, n2, mean2, sd2),
        (Measure::SMD, StudyData::Continuous { n1, mean1, sd1, n2, mean2, sd2 }) => match convention {
            Convention::Metafor => smd_hedges_exact(n1, mean1, sd1, n2, mean2, sd2),
            Convention::Revman5 => smd_revman5(n1, mean1, sd1, n2, mean2, sd2),
        },
        (Measure::ROM, StudyData::Continuous { n1, mean1, sd1, n2, mean2, sd2 }) => ratio_of_means(n1, mean1, sd1, n2, mean2, sd2),
        (Measure::SMCR, StudyData::PrePost { n, mean_pre, sd_pre, mean_post, r, .. }) => {
            smcr(n, mean_pre, sd_pre, mean_post, r)
        }
        (Measure::OR | Measure::RR | Measure::RD, StudyData::Binary { events1, n1, events2, n2 }) => {
            let table = Table2x2::from_counts(events1, n1, events2, n2);
            if n1 == 0.0 || n2 == 0.0 {
                // A group without participants (RevMan's 0 of 0 for a study without data).
                return Ok(StudyEffect::NotEstimable);
            }
            if convention == Convention::Revman5 && measure != Measure::RD && table.is_double_zero() {
                return Ok(StudyEffect::NotEstimable);
            }
            let corrected = binary_effect(measure, &table.corrected(0.5));
            if convention == Convention::Revman5 && measure == Measure::RD {
                // RevMan 5 (and meta's metabin, its reimplementation): the risk difference of
                // the raw counts (0 for a study without events in either group), its standard
                // error from the table with 0.5 added to every cell when a cell is zero.
                EffectSize { yi: binary_effect(measure, &table).yi, vi: corrected.vi }
            } else {
                corrected
            }
        }
        (Measure::ZCOR, StudyData::Correlation { n, r }) => fisher_z(n, r),
        (Measure::GEN, StudyData::Generic { yi, vi }) => EffectSize { yi, vi },
        (measure, _) => return Err(StatsError::WrongData { measure, needs: needed_data(measure).into() }),
    };
    if es.yi.is_nan() || es.vi.is_nan() || es.vi < 0.0 {
        return Err(StatsError::InvalidStudy {
            index: 0,
            reason: format!("its {} cannot be computed from these numbers", measure.name()),
        });
    }
    check_range(&es, 0)?;
    Ok(StudyEffect::Estimable(es))
}

/// The smallest sampling variance the pooling can weigh. Weights are w = 1/v and the iterative
/// τ² estimators sum their cubes (Σw³r², metafor's y′PPPy): below 1e-100 a cube overflows a
/// double (and a variance that underflowed to 0 or a subnormal number, e.g. the square of a
/// standard error of 1e-160, gives an infinite weight).
pub const MIN_VARIANCE: f64 = 1e-100;
/// The largest: above 1e100 the cube of the weight underflows to 0 and the study's weight
/// vanishes from the sums.
pub const MAX_VARIANCE: f64 = 1e100;
/// The largest effect in size: beyond ±1e100 squared deviations overflow when weighted.
pub const MAX_EFFECT: f64 = 1e100;

/// Whether study `index`'s effect is inside the range the pooling computes with in double
/// precision ([`MIN_VARIANCE`] ≤ vᵢ ≤ [`MAX_VARIANCE`], |yᵢ| ≤ [`MAX_EFFECT`]); an effect
/// outside it is [`StatsError::StudyScale`], never a silent infinite weight or a NaN.
pub fn check_range(es: &EffectSize, index: usize) -> Result<(), StatsError> {
    let vi_ok = (MIN_VARIANCE..=MAX_VARIANCE).contains(&es.vi);
    let yi_ok = es.yi.abs() <= MAX_EFFECT;
    if vi_ok && yi_ok {
        Ok(())
    } else {
        Err(StatsError::StudyScale { index, yi: es.yi, vi: es.vi })
    }
}

/// The data a measure needs, in words, for error messages.
pub fn needed_data(measure: Measure) -> &'static str {
    match measure {
        Measure::MD | Measure::SMD | Measure::ROM => "two-group continuous data (n, mean and SD per group)",
        Measure::SMCR => "single-group pre/post data (n, means and SDs before and after)",
        Measure::OR | Measure::RR | Measure::RD => "dichotomous data (events and totals per group)",
        Measure::ZCOR => "correlations (n and r per study)",
        Measure::GEN => "effects with their variances or standard errors (yi and vi or se)",
    }
}

/// Mean difference m1 − m2 with variance sd1²/n1 + sd2²/n2 (escalc "MD", vtype "LS").
pub fn mean_difference(n1: f64, m1: f64, sd1: f64, n2: f64, m2: f64, sd2: f64) -> EffectSize {
    EffectSize { yi: m1 - m2, vi: sd1 * sd1 / n1 + sd2 * sd2 / n2 }
}

fn pooled_sd(n1: f64, sd1: f64, n2: f64, sd2: f64) -> f64 {
    (((n1 - 1.0) * sd1 * sd1 + (n2 - 1.0) * sd2 * sd2) / (n1 + n2 - 2.0)).sqrt()
}

/// The exact small-sample correction factor of Hedges (1981):
/// c(m) = Γ(m/2) / (√(m/2) · Γ((m − 1)/2)).
pub fn hedges_correction(m: f64) -> f64 {
    (statrs::function::gamma::ln_gamma(m / 2.0)
        - (m / 2.0).sqrt().ln()
        - statrs::function::gamma::ln_gamma((m - 1.0) / 2.0))
    .exp()
}

/// Hedges' g with the exact correction and metafor's default large-sample variance
/// 1/n1 + 1/n2 + g²/(2(n1 + n2)) (escalc "SMD", vtype "LS").
pub fn smd_hedges_exact(n1: f64, m1: f64, sd1: f64, n2: f64, m2: f64, sd2: f64) -> EffectSize {
    let d = (m1 - m2) / pooled_sd(n1, sd1, n2, sd2);
    let g = hedges_correction(n1 + n2 - 2.0) * d;
    EffectSize { yi: g, vi: 1.0 / n1 + 1.0 / n2 + g * g / (2.0 * (n1 + n2)) }
}

/// RevMan 5's Hedges' g: correction 1 − 3/(4N − 9) and variance N/(n1·n2) + g²/(2(N − 3.94))
/// (Deeks & Higgins 2010).
pub fn smd_revman5(n1: f64, m1: f64, sd1: f64, n2: f64, m2: f64, sd2: f64) -> EffectSize {
    let n = n1 + n2;
    let d = (m1 - m2) / pooled_sd(n1, sd1, n2, sd2);
    let g = d * (1.0 - 3.0 / (4.0 * n - 9.0));
    EffectSize { yi: g, vi: n / (n1 * n2) + g * g / (2.0 * (n - 3.94)) }
}

/// Log ratio of means ln(m1/m2) with variance sd1²/(n1·m1²) + sd2²/(n2·m2²) (escalc "ROM";
/// Hedges, Gurevitch & Curtis 1999).
pub fn ratio_of_means(n1: f64, m1: f64, sd1: f64, n2: f64, m2: f64, sd2: f64) -> EffectSize {
    EffectSize {
        yi: (m1 / m2).ln(),
        vi: sd1 * sd1 / (n1 * m1 * m1) + sd2 * sd2 / (n2 * m2 * m2),
    }
}

/// Standardised mean change with raw-score standardisation (Becker 1988; escalc "SMCR" with
/// m1i = post, m2i = pre, sd1i = pre SD): g = c(n − 1)·(post − pre)/sd_pre, variance
/// 2(1 − r)/n + g²/(2n).
pub fn smcr(n: f64, mean_pre: f64, sd_pre: f64, mean_post: f64, r: f64) -> EffectSize {
    let g = hedges_correction(n - 1.0) * (mean_post - mean_pre) / sd_pre;
    EffectSize { yi: g, vi: 2.0 * (1.0 - r) / n + g * g / (2.0 * n) }
}

/// Log odds ratio, log risk ratio or risk difference from a (corrected) 2×2 table
/// (escalc "OR", "RR", "RD"; Woolf's variance for the log OR, the delta-method variance for the
/// log RR, and the unpooled binomial variance for the RD).
pub fn binary_effect(measure: Measure, t: &Table2x2) -> EffectSize {
    let (n1, n2) = (t.n1(), t.n2());
    match measure {
        Measure::OR => EffectSize {
            yi: (t.a * t.d / (t.b * t.c)).ln(),
            vi: 1.0 / t.a + 1.0 / t.b + 1.0 / t.c + 1.0 / t.d,
        },
        Measure::RR => EffectSize {
            yi: ((t.a / n1) / (t.c / n2)).ln(),
            vi: 1.0 / t.a - 1.0 / n1 + 1.0 / t.c - 1.0 / n2,
        },
        _ => {
            let (p1, p2) = (t.a / n1, t.c / n2);
            EffectSize { yi: p1 - p2, vi: p1 * (1.0 - p1) / n1 + p2 * (1.0 - p2) / n2 }
        }
    }
}

/// Fisher's z = atanh(r) with variance 1/(n − 3) (escalc "ZCOR").
pub fn fisher_z(n: f64, r: f64) -> EffectSize {
    EffectSize { yi: r.atanh(), vi: 1.0 / (n - 3.0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hedges_exact_correction_approaches_one() {
        // metafor:::.cmicalc(10) printed by R = 0.9227456081
        assert!((hedges_correction(10.0) - 0.922_745_608_1).abs() < 1e-10);
        assert!((hedges_correction(1e6) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn zero_cells_get_half_added_everywhere() {
        let t = Table2x2::from_counts(0.0, 10.0, 3.0, 10.0).corrected(0.5);
        assert_eq!(t, Table2x2 { a: 0.5, b: 10.5, c: 3.5, d: 7.5 });
        let t = Table2x2::from_counts(1.0, 10.0, 3.0, 10.0).corrected(0.5);
        assert_eq!(t.a, 1.0);
    }

    #[test]
    fn revman5_drops_double_zero_for_ratios_but_not_rd() {
        let d = StudyData::Binary { events1: 0.0, n1: 10.0, events2: 0.0, n2: 12.0 };
        assert_eq!(effect_size(Measure::OR, &d, Convention::Revman5).unwrap(), StudyEffect::NotEstimable);
        assert!(matches!(effect_size(Measure::RD, &d, Convention::Revman5).unwrap(), StudyEffect::Estimable(_)));
        assert!(matches!(effect_size(Measure::OR, &d, Convention::Metafor).unwrap(), StudyEffect::Estimable(_)));
    }

    #[test]
    fn variances_that_underflow_or_overflow_are_a_typed_error() {
        // SDs of 1e-160 square to a subnormal variance: its weight is infinite.
        let tiny = StudyData::Continuous { n1: 10.0, mean1: 1.0, sd1: 1e-160, n2: 10.0, mean2: 0.5, sd2: 1e-160 };
        assert!(matches!(effect_size(Measure::MD, &tiny, Convention::Metafor), Err(StatsError::StudyScale { .. })));
        // The SMD of the same study is 5e159: beyond any effect the sums can square.
        assert!(matches!(effect_size(Measure::SMD, &tiny, Convention::Metafor), Err(StatsError::StudyScale { .. })));
        let huge = StudyData::Generic { yi: 0.1, vi: 1e300 };
        assert!(matches!(effect_size(Measure::GEN, &huge, Convention::Metafor), Err(StatsError::StudyScale { .. })));
        let fine = StudyData::Generic { yi: 1e50, vi: 1e-90 };
        assert!(effect_size(Measure::GEN, &fine, Convention::Metafor).is_ok());
    }

    #[test]
    fn wrong_data_is_an_error() {
        let d = StudyData::Correlation { n: 10.0, r: 0.3 };
        assert!(matches!(effect_size(Measure::SMD, &d, Convention::Metafor), Err(StatsError::WrongData { .. })));
    }
}
