//! Typed errors of the pooling core. Callers turn them into located diagnostics; the core itself
//! never panics on bad numbers and never prints.

use super::spec::{Convention, Measure, Method, Test};
use std::fmt;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum StatsError {
    /// No study could be analysed (none given, or all "not estimable").
    NoStudies,
    /// The method needs more studies than there are.
    TooFewStudies { what: std::borrow::Cow<'static, str>, needed: usize, have: usize },
    /// An iterative τ² estimator did not converge within the iteration limit.
    NotConverged { method: Method, iterations: usize, last_change: f64 },
    /// The method cannot pool this measure (e.g. Mantel–Haenszel for an SMD).
    MethodMeasure { method: Method, measure: Measure },
    /// The test does not apply to this method (e.g. Knapp–Hartung with Mantel–Haenszel).
    MethodTest { method: Method, test: Test },
    /// The convention does not offer this choice (e.g. REML in RevMan 5).
    Convention { convention: Convention, what: String },
    /// The data given cannot produce this measure (e.g. means for an odds ratio).
    WrongData { measure: Measure, needs: std::borrow::Cow<'static, str> },
    /// A study's numbers are impossible (checked again here so the core never computes NaN).
    InvalidStudy { index: usize, reason: String },
    /// A study's effect or sampling variance is outside the range the pooling can compute with
    /// in double precision ([`super::effect::check_range`]): a variance that underflows (an SE
    /// of 1e-160 squared) or overflows, or an effect beyond ±1e100.
    StudyScale { index: usize, yi: f64, vi: f64 },
    /// A quantity over- or underflows double precision for these data, although each study is
    /// in range (effects and variances of very different magnitudes).
    Overflow(std::borrow::Cow<'static, str>),
    /// The confidence level is not between 0 and 100.
    Level(f64),
    /// An iteration control is outside its range (e.g. a step of 0, which would report the
    /// starting value as converged). `value` is as given.
    Control { what: std::borrow::Cow<'static, str>, value: String, range: std::borrow::Cow<'static, str> },
    /// A pooled quantity is undefined (e.g. all Mantel–Haenszel weights are zero).
    Undefined(String),
    /// No study of a (re)analysis has an estimable effect: the reason, in plain words.
    NotEstimable(String),
    /// A quantity that exists in general has no finite value for these data (e.g. a test
    /// whose standard error is 0); the text says why, in words that follow "could not be
    /// computed:".
    Degenerate(std::borrow::Cow<'static, str>),
    /// An error within one subgroup's analysis.
    InSubgroup { subgroup: String, error: Box<StatsError> },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::NoStudies => write!(f, "there is no study to analyse"),
            StatsError::TooFewStudies { what, needed, have } => {
                write!(f, "{what} needs at least {needed} studies, but there {} {have}", if *have == 1 { "is" } else { "are" })
            }
            StatsError::NotConverged { method, iterations, last_change } => {
                write!(f, "the {} estimator of tau² did not converge in {iterations} iterations", method.name())?;
                if last_change.is_finite() {
                    write!(f, " (last change {last_change:.3e})")?;
                }
                Ok(())
            }
            StatsError::MethodMeasure { method, measure } => write!(
                f,
                "method {} cannot pool the measure {}",
                method.name(),
                measure.name()
            ),
            StatsError::MethodTest { method, test } => {
                write!(f, "the {} test cannot be used with method {}", test.name(), method.name())
            }
            StatsError::Convention { convention, what } => {
                write!(f, "the {} convention does not offer {what}", convention.name())
            }
            StatsError::WrongData { measure, needs } => {
                write!(f, "measure {} needs {needs}", measure.name())
            }
            StatsError::InvalidStudy { index, reason } => write!(f, "study {}: {reason}", index + 1),
            StatsError::StudyScale { index, yi, vi } => write!(f, "study {}: {}", index + 1, scale_reason(*yi, *vi)),
            StatsError::Overflow(what) => write!(f, "{what} overflows or underflows double precision for these data"),
            StatsError::Level(l) => write!(f, "confidence level {l} is not between 0 and 100"),
            StatsError::Control { what, value, range } => write!(f, "{what} must be {range}, not {value}"),
            StatsError::Undefined(what) => write!(f, "{what} is undefined for these data"),
            StatsError::NotEstimable(why) => write!(f, "not estimable: {why}"),
            StatsError::Degenerate(why) => write!(f, "{why}"),
            StatsError::InSubgroup { subgroup, error } => write!(f, "in subgroup `{subgroup}`: {error}"),
        }
    }
}

impl std::error::Error for StatsError {}

/// Why an effect is out of range, in words (the study is named by the caller).
pub fn scale_reason(yi: f64, vi: f64) -> String {
    use super::effect::{MAX_EFFECT, MAX_VARIANCE, MIN_VARIANCE};
    if yi.is_infinite() {
        "its effect overflows (it is infinite)".to_string()
    } else if yi.abs() > MAX_EFFECT {
        format!("its effect {yi:.3e} is beyond ±{MAX_EFFECT:e}, the largest the pooling can square")
    } else if vi.is_infinite() {
        "its sampling variance overflows (it is infinite)".to_string()
    } else if vi < f64::MIN_POSITIVE {
        "its sampling variance underflows (it is 0 or below the smallest double, about 2.2e-308), so its weight 1/variance is infinite".to_string()
    } else if vi < MIN_VARIANCE {
        format!("its sampling variance {vi:.3e} is below {MIN_VARIANCE:e}, the smallest the pooling can weigh (the weight's cube 1/variance³ overflows a double)")
    } else {
        format!("its sampling variance {vi:.3e} is above {MAX_VARIANCE:e}, the largest the pooling can weigh (the weight's cube underflows to 0)")
    }
}

/// How the user sets an analysis' options, so that a hint names them the way they are written:
/// `--test z` on the command line, `test = "z"` in an analysis directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionStyle {
    Flags,
    Keys,
}

impl OptionStyle {
    /// The option `key` set to `value`, as the user writes it.
    pub fn option(self, key: &str, value: &str) -> String {
        match self {
            OptionStyle::Flags => format!("--{key} {value}"),
            OptionStyle::Keys => format!("{key} = \"{value}\""),
        }
    }
}

impl StatsError {
    /// A suggestion for the user on the command line, where there is an obvious one.
    pub fn hint(&self) -> Option<String> {
        self.hint_in(OptionStyle::Flags)
    }

    /// A suggestion for the user, naming options as `style` writes them.
    pub fn hint_in(&self, style: OptionStyle) -> Option<String> {
        let option = |key: &str, value: &str| format!("`{}`", style.option(key, value));
        match self {
            StatsError::StudyScale { .. } => Some(
                "a value this extreme is almost always a unit or data-entry error (an SD or SE on the wrong scale, a misplaced exponent); check this study's numbers".to_string(),
            ),
            StatsError::Overflow(_) => Some(
                "the effects and variances span too many orders of magnitude to pool in double precision: check their units, or rescale them (divide the effects by c and the variances by c²)".to_string(),
            ),
            StatsError::NotConverged { .. } => Some(match style {
                OptionStyle::Flags => "raise the iteration limit (--max-iter), use a smaller step (--step 0.5), or choose a non-iterative estimator such as DL or PM".to_string(),
                OptionStyle::Keys => format!("choose a non-iterative estimator, e.g. {} or {}", option("method", "DL"), option("method", "PM")),
            }),
            StatsError::MethodMeasure { method: Method::MH, .. } => Some(format!(
                "Mantel–Haenszel pools OR, RR and RD; for other measures use {} or a random-effects method such as {}",
                option("method", "FE"),
                option("method", "REML")
            )),
            StatsError::MethodMeasure { method: Method::PETO, .. } => {
                Some(format!("Peto's method pools odds ratios only: use {} (or another method for this measure)", option("measure", "OR")))
            }
            StatsError::MethodTest { .. } => Some(format!("use {}: Knapp–Hartung rescales an inverse-variance model", option("test", "z"))),
            StatsError::Convention { convention: Convention::Revman5, .. } => Some(format!(
                "RevMan 5 offers FE, MH, PETO and DL with the z test; use {} for other choices",
                option("convention", "metafor")
            )),
            StatsError::Convention { convention: Convention::Metafor, .. } => Some(format!(
                "\"M-H, Random\" is RevMan 5's: use {}, or {} with {} (DerSimonian–Laird)",
                option("convention", "revman5"),
                option("method", "IV"),
                option("model", "random")
            )),
            StatsError::TooFewStudies { .. } => Some(format!("use {}, or add studies", option("test", "z"))),
            StatsError::InSubgroup { error, .. } => error.hint_in(style),
            _ => None,
        }
    }
}
