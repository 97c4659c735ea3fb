//! `metabook pool`: one meta-analysis of one CSV file, from the command line.

use crate::data::csv_table;
use crate::diag::{Diagnostic, Source};
use crate::engine;
use crate::render;
use crate::stats::spec::UnknownName;
use crate::stats::{Convention, IterControl, Measure, Method, Model, Spec, Test};
use std::path::PathBuf;

/// Output formats of `metabook pool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// The forest plot as SVG.
    Svg,
}

/// The options of `metabook pool`, as given (names not yet checked).
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub data: PathBuf,
    pub measure: String,
    pub method: String,
    /// RevMan's effects model for MH and IV (`fixed`, `random`); `None`: the method's own.
    pub model: Option<String>,
    pub test: String,
    pub level: f64,
    /// Each study's confidence level (`None`: `level`).
    pub study_level: Option<f64>,
    /// Generic effects are log ratios.
    pub log_scale: bool,
    /// The effect's own name ("Hazard Ratio").
    pub effect_name: Option<String>,
    /// Forest plot: `all`, `subtotals` or `none`.
    pub totals: String,
    pub convention: String,
    pub format: Format,
    /// Pre–post correlation to assume where the data give none (SMCR).
    pub r: Option<f64>,
    pub control: IterControl,
    /// For `--format svg`: the "Favours …" labels and whether to draw the prediction interval.
    pub forest: crate::render::forest::ForestOptions,
    /// Order the cumulative analysis by this column of the data (default: the data's order).
    pub cumulative_by: Option<String>,
}

fn unknown(e: UnknownName, option: &str) -> Diagnostic {
    Diagnostic::error(format!("{e} (in {option})")).hint(e.hint())
}

/// Check the option names and build the [`Spec`].
pub fn spec(opts: &PoolOptions) -> Result<Spec, Vec<Diagnostic>> {
    let mut problems = Vec::new();
    let measure = opts.measure.parse::<Measure>().map_err(|e| problems.push(unknown(e, "--measure"))).ok();
    let method = opts.method.parse::<Method>().map_err(|e| problems.push(unknown(e, "--method"))).ok();
    let model = match &opts.model {
        None => Some(None),
        Some(m) => m.parse::<Model>().map(Some).map_err(|e| problems.push(unknown(e, "--model"))).ok(),
    };
    let resolved = match (method, model) {
        (Some(method), Some(model)) => crate::stats::spec::resolve_model(method, crate::stats::spec::is_iv_name(&opts.method), model)
            .map_err(|e| problems.push(Diagnostic::error(format!("{e} (in --method {} --model {})", opts.method.trim(), opts.model.as_deref().unwrap_or_default().trim())).hint(e.hint().replace("`method = \"", "`--method ").replace("`model = \"", "`--model ").replace("\"`", "`"))))
            .ok(),
        _ => None,
    };
    let test = opts.test.parse::<Test>().map_err(|e| problems.push(unknown(e, "--test"))).ok();
    let convention = opts.convention.parse::<Convention>().map_err(|e| problems.push(unknown(e, "--convention"))).ok();
    if !(opts.level > 0.0 && opts.level < 100.0) {
        problems.push(Diagnostic::error(format!("confidence level {} is not between 0 and 100", opts.level)).hint("e.g. --level 95"));
    }
    if let Some(r) = opts.r {
        if !(r > -1.0 && r < 1.0) {
            problems.push(Diagnostic::error(format!("correlation {r} (in --r) is not between −1 and 1")).hint("e.g. --r 0.5"));
        }
    }
    if let (true, Some(m)) = (opts.log_scale, measure) {
        if m != Measure::GEN {
            problems.push(Diagnostic::error(format!("--log-scale is for generic effects (--measure GEN), not {}", m.name())).hint("remove --log-scale"));
        }
    }
    if let Some(l) = opts.study_level.filter(|l| !(*l > 0.0 && *l < 100.0)) {
        problems.push(Diagnostic::error(format!("confidence level {l} (in --study-level) is not between 0 and 100")).hint("e.g. --study-level 95"));
    }
    match (measure, resolved, test, convention) {
        (Some(measure), Some((method, mh_random)), Some(test), Some(convention)) if problems.is_empty() => {
            let spec = Spec {
                measure,
                method,
                test,
                level: opts.level,
                study_level: opts.study_level.unwrap_or(opts.level),
                convention,
                control: opts.control,
                mh_random,
                generic_log: opts.log_scale,
            };
            // Options that do not fit together are the flags' fault, not the data's: said
            // before the file is read, with a hint that names the flags.
            crate::stats::analysis::check_spec(&spec).map_err(|e| {
                let mut d = Diagnostic::error(e.to_string()).hint(format!("from the flags {}", flags_of(&e, &spec)));
                if let Some(hint) = e.hint() {
                    d = d.hint(hint);
                }
                vec![d]
            })?;
            Ok(spec)
        }
        _ => Err(problems),
    }
}

/// The flags an error about the options is about, as given.
fn flags_of(error: &crate::stats::StatsError, spec: &Spec) -> String {
    use crate::stats::StatsError;
    let (method, measure, test, convention) = (
        match (spec.method, spec.mh_random) {
            (Method::MH, true) => "`--method MH --model random`".to_string(),
            (m, _) => format!("`--method {}`", m.name()),
        },
        format!("`--measure {}`", spec.measure.name()),
        format!("`--test {}`", spec.test.name()),
        format!("`--convention {}`", spec.convention.name()),
    );
    match error {
        StatsError::MethodMeasure { .. } => format!("{method} and {measure}"),
        StatsError::MethodTest { .. } => format!("{test} and {method}"),
        StatsError::Convention { .. } if spec.test != Test::Z && matches!(spec.method, Method::FE | Method::MH | Method::PETO | Method::DL) => {
            format!("{test} and {convention}")
        }
        StatsError::Convention { .. } => format!("{method} and {convention}"),
        StatsError::Control { .. } => "`--step`, `--threshold` and `--max-iter`".to_string(),
        _ => format!("`--level {}`", spec.level),
    }
}

/// Run `metabook pool` and return what it prints on standard output.
pub fn run(opts: &PoolOptions) -> Result<String, Vec<Diagnostic>> {
    let spec = spec(opts)?;
    let name = opts.data.display().to_string();
    let text = std::fs::read(&opts.data).map_err(|e| {
        vec![Diagnostic::error(format!("cannot read the data file `{name}`: {e}")).hint("check the path given to --data")]
    })?;
    let text = String::from_utf8(text).map_err(|e| {
        vec![Diagnostic::error(format!("the data file `{name}` is {}", crate::book::not_utf8(e.as_bytes(), e.utf8_error().valid_up_to())))
            .hint("older exports are often Latin-1 or Windows-1252; save the file as CSV UTF-8")]
    })?;
    let source = Source::new(name, text);
    let table = csv_table(&source)?;
    let studies = crate::data::studies::load_studies_as(&table, spec.measure, opts.r, spec.convention)?;
    // A column the data lack is the option's mistake: say which option (the book points at its
    // directive key instead).
    if opts.cumulative_by.is_some() {
        engine::cumulative_order(&studies, opts.cumulative_by.as_deref()).map_err(|mut d| {
            d.message.push_str(" (in --cumulative-by)");
            vec![d]
        })?;
    }
    let totals = opts.totals.parse::<crate::render::forest::Totals>().map_err(|e| vec![unknown(e, "--totals")])?;
    let mut result = engine::analyse_ordered(studies, &spec, opts.cumulative_by.as_deref()).map_err(|d| vec![d])?;
    result.effect_name = opts.effect_name.as_ref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let forest = crate::render::forest::ForestOptions { totals, ..opts.forest.clone() };
    Ok(match opts.format {
        Format::Text => render::text::render(&result),
        Format::Json => render::json::render(&result),
        Format::Svg => render::forest::svg(&result, &forest),
    })
}
