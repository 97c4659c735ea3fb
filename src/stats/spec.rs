//! What an analysis asks for: the effect measure, the pooling method, the test, the confidence
//! level and the convention. Parsing from text lives here too, so that the command line and
//! book directives accept exactly the same names and give the same "did you mean" hints.

use std::fmt;

/// The effect measure, named as in metafor's `escalc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Measure {
    /// Mean difference (raw units).
    MD,
    /// Standardised mean difference (Hedges' g).
    SMD,
    /// Standardised mean change of a single group, standardised by the pre-treatment SD.
    SMCR,
    /// Log ratio of means.
    ROM,
    /// Log odds ratio.
    OR,
    /// Log risk ratio.
    RR,
    /// Risk difference.
    RD,
    /// Fisher's z-transformed correlation.
    ZCOR,
    /// Generic: the effect `yi` and its variance (or standard error) given directly.
    GEN,
}

/// How studies are pooled: a common-effect model, a 2×2-table method, or a random-effects model
/// named by its τ² estimator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Method {
    /// Common (fixed) effect, inverse-variance weights.
    FE,
    /// Mantel–Haenszel (OR, RR, RD).
    MH,
    /// Peto's one-step odds ratio.
    PETO,
    /// DerSimonian–Laird.
    DL,
    /// Hedges (and Olkin), the "variance component" estimator.
    HE,
    /// Hunter–Schmidt.
    HS,
    /// Sidik–Jonkman.
    SJ,
    /// Maximum likelihood.
    ML,
    /// Restricted maximum likelihood.
    REML,
    /// Empirical Bayes (Morris).
    EB,
    /// Paule–Mandel.
    PM,
}

/// The test and confidence-interval construction for the pooled effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Test {
    /// Wald-type: standard normal.
    Z,
    /// Knapp–Hartung: rescaled variance, t distribution with k − 1 df.
    Knha,
}

/// The effects model: one common (fixed) effect, or random effects. For every method but
/// Mantel–Haenszel the method's name says which (FE and PETO are fixed, the τ² estimators are
/// random); Mantel–Haenszel can be either under RevMan 5 ("M-H, Fixed", "M-H, Random").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Model {
    Fixed,
    Random,
}

/// Whose formulas to follow where software traditions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Convention {
    /// metafor 3.8's defaults.
    Metafor,
    /// Review Manager 5 (Deeks & Higgins 2010).
    Revman5,
}

/// Iteration control for the iterative τ² estimators (ML, REML, EB, PM) and the Q-profile
/// confidence interval. The defaults are tighter than metafor's (which stops at a change below
/// 1e-5) so that results are accurate to well below 1e-6.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IterControl {
    /// Stop when τ² changes by less than this.
    pub threshold: f64,
    /// Give up (with an error) after this many iterations.
    pub max_iter: usize,
    /// Fisher-scoring step length (1 = full steps; smaller values help hard cases converge).
    pub step: f64,
}

impl Default for IterControl {
    fn default() -> Self {
        IterControl { threshold: 1e-12, max_iter: 1000, step: 1.0 }
    }
}

impl IterControl {
    /// The step lengths that move towards the estimate without overshooting by design: a step
    /// of 0 (or a negative or NaN one) never moves, and the first iterate would be reported as
    /// "converged".
    pub const STEP_RANGE: &'static str = "greater than 0 and at most 1";
    /// A threshold of 0 is never met, a negative or NaN one never compares, an infinite one is
    /// met at once.
    pub const THRESHOLD_RANGE: &'static str = "a finite number greater than 0";
    pub const MAX_ITER_RANGE: &'static str = "a whole number of at least 1";

    pub fn valid_step(step: f64) -> bool {
        step > 0.0 && step <= 1.0
    }

    pub fn valid_threshold(threshold: f64) -> bool {
        threshold > 0.0 && threshold.is_finite()
    }

    pub fn valid_max_iter(max_iter: usize) -> bool {
        max_iter >= 1
    }

    /// Check every control against its range; the first one out of it is the error.
    pub fn check(&self) -> Result<(), super::StatsError> {
        let out = |what: &'static str, value: String, range: &'static str| {
            Err(super::StatsError::Control { what: what.into(), value, range: range.into() })
        };
        if !Self::valid_step(self.step) {
            return out("the Fisher-scoring step", self.step.to_string(), Self::STEP_RANGE);
        }
        if !Self::valid_threshold(self.threshold) {
            return out("the convergence threshold", self.threshold.to_string(), Self::THRESHOLD_RANGE);
        }
        if !Self::valid_max_iter(self.max_iter) {
            return out("the iteration limit", self.max_iter.to_string(), Self::MAX_ITER_RANGE);
        }
        Ok(())
    }
}

/// Everything that defines one analysis, apart from the data.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spec {
    pub measure: Measure,
    pub method: Method,
    pub test: Test,
    /// Confidence level in percent of the pooled results, e.g. 95.
    pub level: f64,
    /// Confidence level in percent of each study's interval (RevMan's "CI_STUDY"); usually
    /// the same as `level`.
    pub study_level: f64,
    pub convention: Convention,
    pub control: IterControl,
    /// Mantel–Haenszel with random effects: RevMan 5's "M-H, Random" (DerSimonian–Laird fed
    /// with the Mantel–Haenszel Q). Only read when `method` is [`Method::MH`]; see
    /// [`Spec::model`] and [`resolve_model`].
    #[serde(default)]
    pub mh_random: bool,
    /// Generic effects (`GEN`) given on the log scale of a ratio (a hazard ratio, RevMan's
    /// generic inverse variance with log data): pooled as given, reported exponentiated.
    #[serde(default)]
    pub generic_log: bool,
}

impl Spec {
    /// The defaults: REML, z test, 95%, metafor.
    pub fn new(measure: Measure) -> Spec {
        Spec {
            measure,
            method: Method::REML,
            test: Test::Z,
            level: 95.0,
            study_level: 95.0,
            convention: Convention::Metafor,
            control: IterControl::default(),
            mh_random: false,
            generic_log: false,
        }
    }

    /// Whether results are on the log scale and reported exponentiated: ratio measures,
    /// Peto's method (always an odds ratio) and generic effects given as log ratios.
    pub fn log_scale(&self) -> bool {
        self.measure.is_ratio() || self.method == Method::PETO || (self.measure == Measure::GEN && self.generic_log)
    }

    /// α for two-sided intervals of the pooled results, e.g. 0.05 for a 95% level.
    pub fn alpha(&self) -> f64 {
        1.0 - self.level / 100.0
    }

    /// The normal quantile for each study's two-sided interval at `study_level`.
    pub fn study_z(&self) -> f64 {
        super::dist::qnorm(1.0 - (1.0 - self.study_level / 100.0) / 2.0)
    }

    /// The effects model the analysis fits.
    pub fn model(&self) -> Model {
        match self.method {
            Method::MH if self.mh_random => Model::Random,
            m if m.is_random() => Model::Random,
            _ => Model::Fixed,
        }
    }

    /// Whether the pooled result is a random-effects one (τ² estimated).
    pub fn is_random(&self) -> bool {
        self.model() == Model::Random
    }

    /// The analysis method as RevMan labels it: "M-H, Random", "IV, Fixed", "Peto, Fixed";
    /// under metafor's convention a random-effects model names its τ² estimator, "IV, Random
    /// (REML)" (RevMan has DerSimonian–Laird only).
    pub fn revman_label(&self) -> String {
        match (self.method, self.model()) {
            (Method::MH, Model::Random) => "M-H, Random".to_string(),
            (Method::DL, _) if self.convention == Convention::Revman5 => "IV, Random".to_string(),
            (m, _) => m.revman_label(),
        }
    }

    /// The effect's name as RevMan prints it above a forest plot, with the method, e.g.
    /// "Risk Ratio (M-H, Random, 95% CI)"; `effect_name` names a generic effect ("Hazard
    /// Ratio").
    pub fn revman_title(&self, effect_name: Option<&str>) -> String {
        let name = match effect_name {
            Some(n) => n,
            None if self.method == Method::PETO => "Peto Odds Ratio",
            None => self.measure.long_name(),
        };
        format!("{name} ({}, {}% CI)", self.revman_label(), crate::format::fixed(self.level, 0))
    }
}

/// A method name and an effects model that do not go together.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelMismatch {
    pub method: Method,
    pub model: Model,
}

impl fmt::Display for ModelMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.method {
            Method::PETO => write!(f, "Peto's method has a fixed-effect model only (RevMan 5 has no \"Peto, Random\")"),
            Method::FE => write!(f, "method FE is the fixed-effect model; it cannot be `model = \"random\"`"),
            m => write!(f, "{} is a random-effects (tau²) estimator; it cannot be `model = \"{}\"`", m.name(), self.model.name()),
        }
    }
}

impl ModelMismatch {
    pub fn hint(&self) -> String {
        match self.method {
            Method::PETO => "use `method = \"PETO\"` without a model, or `method = \"MH\"` with `model = \"random\"`".to_string(),
            Method::FE => "for inverse-variance random effects write `method = \"IV\"` (DerSimonian–Laird) or name a tau² estimator such as `REML`".to_string(),
            _ => "for a fixed-effect model write `method = \"IV\"` (or `FE`) with `model = \"fixed\"`".to_string(),
        }
    }
}

/// RevMan's two choices — the statistical method (`MH`, `IV`, `PETO`) and the effects model
/// (fixed, random) — as metabook's method: `IV` + random is DerSimonian–Laird (`DL`), `IV` +
/// fixed is `FE`, `MH` + random is "M-H, Random" (`mh_random`). `named` is the method as
/// written (`IV` is parsed as `FE`; `is_iv` says it was written `IV`). Without a model the
/// method's own is kept (`IV` alone is fixed, as RevMan's default). A τ² estimator (`REML`…)
/// with `model = "fixed"`, or `PETO` or `FE` with random, is a [`ModelMismatch`].
pub fn resolve_model(method: Method, is_iv: bool, model: Option<Model>) -> Result<(Method, bool), ModelMismatch> {
    match (method, model) {
        (m, None) => Ok((m, false)),
        (Method::MH, Some(model)) => Ok((Method::MH, model == Model::Random)),
        (Method::FE, Some(Model::Random)) if is_iv => Ok((Method::DL, false)),
        (Method::FE | Method::PETO, Some(Model::Fixed)) => Ok((method, false)),
        (m, Some(Model::Random)) if m.is_random() => Ok((m, false)),
        (m, Some(model)) => Err(ModelMismatch { method: m, model }),
    }
}

impl Model {
    pub fn name(self) -> &'static str {
        match self {
            Model::Fixed => "fixed",
            Model::Random => "random",
        }
    }
}

impl std::str::FromStr for Model {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name(
            "model",
            s,
            &[Model::Fixed, Model::Random],
            Model::name,
            &[("common", Model::Fixed), ("fixed-effect", Model::Fixed), ("random-effects", Model::Random)],
        )
    }
}

/// Whether a method was written as RevMan's `IV` (an alias of `FE` that a random model turns
/// into DerSimonian–Laird).
pub fn is_iv_name(name: &str) -> bool {
    name.trim().eq_ignore_ascii_case("IV")
}

impl Measure {
    pub const ALL: [Measure; 9] = [
        Measure::MD,
        Measure::SMD,
        Measure::SMCR,
        Measure::ROM,
        Measure::OR,
        Measure::RR,
        Measure::RD,
        Measure::ZCOR,
        Measure::GEN,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Measure::MD => "MD",
            Measure::SMD => "SMD",
            Measure::SMCR => "SMCR",
            Measure::ROM => "ROM",
            Measure::OR => "OR",
            Measure::RR => "RR",
            Measure::RD => "RD",
            Measure::ZCOR => "ZCOR",
            Measure::GEN => "GEN",
        }
    }

    /// The measure's name as RevMan prints it above a forest plot.
    pub fn long_name(self) -> &'static str {
        match self {
            Measure::MD => "Mean Difference",
            Measure::SMD => "Std. Mean Difference",
            Measure::SMCR => "Std. Mean Change",
            Measure::ROM => "Ratio of Means",
            Measure::OR => "Odds Ratio",
            Measure::RR => "Risk Ratio",
            Measure::RD => "Risk Difference",
            Measure::ZCOR => "Fisher's z",
            Measure::GEN => "Effect",
        }
    }

    /// Ratio measures are analysed on the log scale and reported exponentiated.
    pub fn is_ratio(self) -> bool {
        matches!(self, Measure::OR | Measure::RR | Measure::ROM)
    }

    /// Measures computed from 2×2 tables (and so poolable by Mantel–Haenszel).
    pub fn is_binary(self) -> bool {
        matches!(self, Measure::OR | Measure::RR | Measure::RD)
    }

    /// The value of "no effect" on the analysis scale.
    pub fn null_value(self) -> f64 {
        0.0
    }
}

impl Method {
    pub const ALL: [Method; 11] = [
        Method::FE,
        Method::MH,
        Method::PETO,
        Method::DL,
        Method::HE,
        Method::HS,
        Method::SJ,
        Method::ML,
        Method::REML,
        Method::EB,
        Method::PM,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::FE => "FE",
            Method::MH => "MH",
            Method::PETO => "PETO",
            Method::DL => "DL",
            Method::HE => "HE",
            Method::HS => "HS",
            Method::SJ => "SJ",
            Method::ML => "ML",
            Method::REML => "REML",
            Method::EB => "EB",
            Method::PM => "PM",
        }
    }

    /// True for the random-effects methods (those that estimate τ²).
    pub fn is_random(self) -> bool {
        !matches!(self, Method::FE | Method::MH | Method::PETO)
    }

    /// The method as RevMan labels it, e.g. "IV, Random" or "M-H, Fixed".
    pub fn revman_label(self) -> String {
        match self {
            Method::FE => "IV, Fixed".to_string(),
            Method::MH => "M-H, Fixed".to_string(),
            Method::PETO => "Peto, Fixed".to_string(),
            m => format!("IV, Random ({})", m.name()),
        }
    }
}

impl Test {
    pub fn name(self) -> &'static str {
        match self {
            Test::Z => "z",
            Test::Knha => "knha",
        }
    }
}

impl Convention {
    pub fn name(self) -> &'static str {
        match self {
            Convention::Metafor => "metafor",
            Convention::Revman5 => "revman5",
        }
    }
}

/// A name that is not one of the accepted values, with the closest accepted one (if any is
/// close) and the full list, for a helpful message.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownName {
    pub what: &'static str,
    pub given: String,
    pub suggestion: Option<&'static str>,
    pub known: Vec<&'static str>,
}

impl fmt::Display for UnknownName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} `{}`", self.what, self.given)
    }
}

impl UnknownName {
    /// A hint line: "did you mean `SMD`?" and the accepted names.
    pub fn hint(&self) -> String {
        let list = self.known.join(", ");
        match self.suggestion {
            Some(s) => format!("did you mean `{s}`? Accepted: {list}"),
            None => format!("accepted {}s: {list}", self.what),
        }
    }
}

fn parse_name<T: Copy>(
    what: &'static str,
    given: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
    aliases: &[(&str, T)],
) -> Result<T, UnknownName> {
    let wanted = given.trim();
    if let Some(&v) = all.iter().find(|&&v| name(v).eq_ignore_ascii_case(wanted)) {
        return Ok(v);
    }
    if let Some(&(_, v)) = aliases.iter().find(|(a, _)| a.eq_ignore_ascii_case(wanted)) {
        return Ok(v);
    }
    let known: Vec<&'static str> = all.iter().map(|&v| name(v)).collect();
    let upper = wanted.to_ascii_uppercase();
    let suggestion = known
        .iter()
        .map(|&k| (k, strsim::damerau_levenshtein(&upper, &k.to_ascii_uppercase())))
        .filter(|&(k, d)| d <= 2.max(k.len() / 3) && d < k.len().max(upper.len()))
        .min_by_key(|&(_, d)| d)
        .map(|(k, _)| k);
    Err(UnknownName { what, given: wanted.to_string(), suggestion, known })
}

impl std::str::FromStr for Measure {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name("measure", s, &Measure::ALL, Measure::name, &[])
    }
}

impl std::str::FromStr for Method {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name(
            "method",
            s,
            &Method::ALL,
            Method::name,
            &[("CE", Method::FE), ("EE", Method::FE), ("IV", Method::FE)],
        )
    }
}

impl std::str::FromStr for Test {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name("test", s, &[Test::Z, Test::Knha], Test::name, &[("hksj", Test::Knha), ("t", Test::Knha)])
    }
}

impl std::str::FromStr for Convention {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_name(
            "convention",
            s,
            &[Convention::Metafor, Convention::Revman5],
            Convention::name,
            &[("revman", Convention::Revman5)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!("reml".parse::<Method>().unwrap(), Method::REML);
        assert_eq!("smd".parse::<Measure>().unwrap(), Measure::SMD);
        assert_eq!("KNHA".parse::<Test>().unwrap(), Test::Knha);
    }

    #[test]
    fn revman_s_method_and_model_become_metabook_s_method() {
        assert_eq!(resolve_model(Method::FE, true, Some(Model::Random)), Ok((Method::DL, false)));
        assert_eq!(resolve_model(Method::FE, true, Some(Model::Fixed)), Ok((Method::FE, false)));
        assert_eq!(resolve_model(Method::MH, false, Some(Model::Random)), Ok((Method::MH, true)));
        assert_eq!(resolve_model(Method::MH, false, None), Ok((Method::MH, false)));
        assert_eq!(resolve_model(Method::REML, false, Some(Model::Random)), Ok((Method::REML, false)));
        assert!(resolve_model(Method::REML, false, Some(Model::Fixed)).is_err());
        assert!(resolve_model(Method::PETO, false, Some(Model::Random)).is_err());
        // FE written as FE is the fixed-effect model by name; only IV takes a model.
        assert!(resolve_model(Method::FE, false, Some(Model::Random)).is_err());
        let spec = Spec { method: Method::DL, convention: Convention::Revman5, ..Spec::new(Measure::RR) };
        assert_eq!(spec.revman_title(None), "Risk Ratio (IV, Random, 95% CI)");
        assert_eq!(Spec { method: Method::PETO, ..spec }.revman_title(None), "Peto Odds Ratio (Peto, Fixed, 95% CI)");
        assert_eq!("Random".parse::<Model>().unwrap(), Model::Random);
        assert_eq!("fxed".parse::<Model>().unwrap_err().suggestion, Some("fixed"));
    }

    #[test]
    fn unknown_names_suggest_the_closest() {
        let e = "SDM".parse::<Measure>().unwrap_err();
        assert_eq!(e.suggestion, Some("SMD"));
        let e = "RMEL".parse::<Method>().unwrap_err();
        assert_eq!(e.suggestion, Some("REML"));
        let e = "bananas".parse::<Method>().unwrap_err();
        assert_eq!(e.suggestion, None);
        assert!(e.hint().contains("REML"));
    }
}
