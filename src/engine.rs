//! The execute phase: run analyses on loaded studies and turn the core's typed errors into
//! located diagnostics.
//!
//! The pooling core ([`crate::stats`]) knows numbers only; this module knows which study a
//! number came from, so an error about "study 3" becomes a message pointing at that study's
//! line in the data file. A book's analyses are taken from the build cache ([`crate::cache`])
//! when their directive, data and defaults are those of a stored result.

use crate::cache::{Cache, Key};
use crate::data::StudyTable;
use crate::diag::{Diagnostic, Location};
use crate::stats::error::OptionStyle;
use crate::stats::sensitivity::{self, Sensitivity};
use crate::stats::small_study::{self, SmallStudy};
use crate::stats::subgroup::{self, SubgroupAnalysis};
use crate::stats::{meta_analysis, Analysis, Spec, StatsError, StudyData};

/// An analysis of one data file, with its subgroup analysis if the file has subgroups.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AnalysisResult {
    pub table: StudyTable,
    pub analysis: Analysis,
    pub subgroups: Option<SubgroupAnalysis>,
    /// Egger's and Begg's tests and trim-and-fill.
    pub small_study: SmallStudy,
    /// Leave-one-out, cumulative and influence analyses (`None` above
    /// [`sensitivity::MAX_STUDIES`] studies).
    pub sensitivity: Option<Sensitivity>,
    /// The column the cumulative analysis is ordered by (`None`: the data's order).
    pub cumulative_by: Option<String>,
    /// The core's notes plus what the data layer assumed (e.g. a default correlation).
    pub notes: Vec<String>,
    /// The effect's own name where the analysis gives one ("Hazard Ratio" for generic
    /// effects); `None`: the measure's name.
    pub effect_name: Option<String>,
}

/// A setting of an analysis that an error can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Data,
    Measure,
    Method,
    Model,
    Test,
    Convention,
}

impl Setting {
    pub fn key(self) -> &'static str {
        match self {
            Setting::Data => "data",
            Setting::Measure => "measure",
            Setting::Method => "method",
            Setting::Model => "model",
            Setting::Test => "test",
            Setting::Convention => "convention",
        }
    }
}

/// Where a setting was written: a key of an analysis directive or of book.toml's
/// `[analysis]`, with a note for the reader when it is not where the analysis stands.
#[derive(Debug, Clone)]
pub struct Place {
    pub location: Location,
    pub note: Option<String>,
}

/// Where an analysis' settings come from, so that an error about a setting (REML under
/// RevMan 5, MH with generic data, Knapp–Hartung with one study) points at the key that set
/// it and its hint names the options as the user writes them. On the command line the flags
/// are the places: nothing is located and the hints name the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    pub places: Vec<(Setting, Place)>,
    pub style: OptionStyle,
}

impl Settings {
    /// Settings given as command-line flags.
    pub fn flags() -> Settings {
        Settings { places: Vec::new(), style: OptionStyle::Flags }
    }

    fn place(&self, setting: Setting) -> Option<&Place> {
        self.places.iter().find(|(s, _)| *s == setting).map(|(_, p)| p)
    }
}

/// The settings a core error is about, the most likely cause first.
fn settings_of(error: &StatsError, spec: &Spec) -> Vec<Setting> {
    use crate::stats::Method;
    match error {
        StatsError::MethodMeasure { .. } => vec![Setting::Method, Setting::Measure],
        StatsError::MethodTest { .. } => vec![Setting::Test, Setting::Method],
        StatsError::Convention { .. } if spec.method == Method::MH && spec.mh_random => vec![Setting::Model, Setting::Convention],
        StatsError::Convention { .. } if !matches!(spec.method, Method::FE | Method::MH | Method::PETO | Method::DL) => {
            vec![Setting::Method, Setting::Convention]
        }
        StatsError::Convention { .. } => vec![Setting::Test, Setting::Convention],
        StatsError::TooFewStudies { .. } if spec.test == crate::stats::Test::Knha => vec![Setting::Test, Setting::Data],
        StatsError::NotConverged { .. } => vec![Setting::Method, Setting::Data],
        StatsError::WrongData { .. } => vec![Setting::Measure],
        StatsError::InSubgroup { error, .. } => settings_of(error, spec),
        StatsError::Level(_) | StatsError::Control { .. } => Vec::new(),
        _ => vec![Setting::Data],
    }
}

/// Analyse every study of `table` as `spec` says, and by subgroup when the table has them;
/// the cumulative analysis follows the data's order.
pub fn analyse(table: StudyTable, spec: &Spec) -> Result<AnalysisResult, Diagnostic> {
    analyse_ordered(table, spec, None)
}

/// [`analyse`], with the cumulative analysis ordered by the study attribute `cumulative_by`
/// (a column of the data file, e.g. `year`): ascending, numerically when every value is a
/// number, studies without a value last, ties in the data's order (as R's `order`).
pub fn analyse_ordered(table: StudyTable, spec: &Spec, cumulative_by: Option<&str>) -> Result<AnalysisResult, Diagnostic> {
    analyse_with(table, spec, &Settings::flags(), cumulative_by)
}

/// [`analyse_ordered`], with errors about a setting located where `settings` says it was set.
pub fn analyse_with(table: StudyTable, spec: &Spec, settings: &Settings, cumulative_by: Option<&str>) -> Result<AnalysisResult, Diagnostic> {
    let order = cumulative_order(&table, cumulative_by)?;
    let data: Vec<StudyData> = table.studies.iter().map(|s| s.data).collect();
    let located = |e| diagnostic_with(&table, e, spec, settings);
    let analysis = meta_analysis(&data, spec).map_err(located)?;
    let subgroups = if table.has_subgroups() {
        let labels: Vec<String> = table.studies.iter().map(|s| s.subgroup.clone().unwrap_or_default()).collect();
        Some(subgroup::by_subgroup(&data, &labels, spec).map_err(located)?)
    } else {
        None
    };
    let mut notes = analysis.notes.clone();
    if let Some(sa) = subgroups.as_ref().filter(|sa| sa.subgroups.len() >= 2 && sa.test.is_none()) {
        let zero: Vec<&str> = sa.subgroups.iter().filter(|g| g.analysis.pooled.as_ref().is_some_and(|p| p.se.is_nan() || p.se <= 0.0)).map(|g| g.name.as_str()).collect();
        notes.push(format!(
            "The test for subgroup differences is not computed: the standard error of subgroup {} is 0 (its effects do not vary, and Knapp–Hartung scales by their variation), so its weight would be infinite.",
            zero.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    let assumed: Vec<&str> = table.studies.iter().filter(|s| s.r_assumed).map(|s| s.label.as_str()).collect();
    if let (Some(first), false) = (table.studies.iter().find(|s| s.r_assumed), assumed.is_empty()) {
        if let StudyData::PrePost { r, .. } = first.data {
            notes.push(format!(
                "Assumption: pre–post correlation r = {r} for {} ({}), which report none.",
                if assumed.len() == 1 { "1 study".to_string() } else { format!("{} studies", assumed.len()) },
                assumed.join(", ")
            ));
        }
    }
    let small_study = small_study::small_study(&analysis);
    let sensitivity = sensitivity::sensitivity(&data, &analysis, &order);
    if sensitivity.is_none() {
        notes.push(format!(
            "Leave-one-out, cumulative and influence analyses are not computed for more than {} studies.",
            sensitivity::MAX_STUDIES
        ));
    }
    let cumulative_by = cumulative_by.map(str::to_string);
    Ok(AnalysisResult { table, analysis, subgroups, small_study, sensitivity, cumulative_by, notes, effect_name: None })
}

/// The order of the studies for the cumulative analysis (input indices).
pub fn cumulative_order(table: &StudyTable, by: Option<&str>) -> Result<Vec<usize>, Diagnostic> {
    let mut order: Vec<usize> = (0..table.studies.len()).collect();
    let Some(column) = by else { return Ok(order) };
    let values: Vec<Option<&str>> = table
        .studies
        .iter()
        .map(|s| {
            if column.eq_ignore_ascii_case("study") {
                return Some(s.label.as_str());
            }
            s.attributes.iter().find(|(name, _)| name.eq_ignore_ascii_case(column)).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
        })
        .collect();
    let known = table.studies.first().is_some_and(|s| s.attributes.iter().any(|(n, _)| n.eq_ignore_ascii_case(column)))
        || column.eq_ignore_ascii_case("study");
    if !known {
        let columns: Vec<&str> = table.studies.first().map_or(Vec::new(), |s| s.attributes.iter().map(|(n, _)| n.as_str()).collect());
        return Err(Diagnostic::error(format!("the data file has no column `{column}` to order the cumulative analysis by"))
            .hint(match columns.iter().copied().min_by_key(|c| strsim::levenshtein(&c.to_lowercase(), &column.to_lowercase())) {
                None => format!("the file `{}` has no extra columns (such as year); add one", table.source.name),
                Some(c) if strsim::levenshtein(&c.to_lowercase(), &column.to_lowercase()) <= 2 => format!("did you mean `{c}`?"),
                Some(_) => format!("columns that can order the studies: {}", columns.join(", ")),
            }));
    }
    let numbers: Option<Vec<Option<f64>>> =
        values.iter().map(|v| v.map_or(Some(None), |v| v.parse::<f64>().ok().filter(|x| x.is_finite()).map(Some))).collect();
    match numbers {
        Some(n) => order.sort_by(|&a, &b| match (n[a], n[b]) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }),
        None => order.sort_by(|&a, &b| match (values[a], values[b]) {
            (Some(x), Some(y)) => x.cmp(y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }),
    }
    Ok(order)
}

/// A core error as a diagnostic, located at the study it concerns where there is one (on the
/// command line: the settings are flags).
pub fn diagnostic(table: &StudyTable, error: StatsError, spec: &Spec) -> Diagnostic {
    diagnostic_with(table, error, spec, &Settings::flags())
}

/// A core error as a diagnostic: at the study it concerns, else at the key that set the
/// setting it is about (a directive's, or book.toml's default), else — for an error about the
/// data on the command line — at the data file's header.
pub fn diagnostic_with(table: &StudyTable, error: StatsError, spec: &Spec, settings: &Settings) -> Diagnostic {
    // (A study error within a subgroup counts the subgroup's studies; the whole analysis, run
    // first, has met any bad study already.)
    if let StatsError::InvalidStudy { index, .. } | StatsError::StudyScale { index, .. } = &error {
        if let Some(study) = table.studies.get(*index) {
            let mut d = Diagnostic::error(format!("study `{}`: {}", study.label, error_reason(&error)))
                .at(&table.source, study.label_span.clone(), "this study");
            if let Some(hint) = error.hint_in(settings.style) {
                d = d.hint(hint);
            }
            return d;
        }
    }
    setting_diagnostic(Some(table), error, spec, settings)
}

/// A core error about the settings (or the data as a whole) as a diagnostic at the key that set
/// the setting; `table` is the data, where it has been read.
pub fn setting_diagnostic(table: Option<&StudyTable>, error: StatsError, spec: &Spec, settings: &Settings) -> Diagnostic {
    let mut d = Diagnostic::error(error.to_string());
    let wanted = settings_of(&error, spec);
    let mut note = None;
    if let Some((setting, place)) = wanted.iter().find_map(|&s| settings.place(s).map(|p| (s, p))) {
        d.location = Some(Location { label: format!("{} set here", setting.key()), ..place.location.clone() });
        note = place.note.clone();
    } else if let (true, Some(table)) = (wanted.contains(&Setting::Data), table) {
        d = d.at(&table.source, table_span(table), "the studies of this file");
    }
    let hint = table.and_then(|t| no_study_hint(&error, t)).or_else(|| error.hint_in(settings.style));
    if let Some(hint) = hint {
        d = d.hint(hint);
    }
    if let Some(note) = note {
        d = d.hint(note);
    }
    if let (None, Some(table)) = (&d.location, table) {
        d = d.hint(format!("data file: {}", table.source.name));
    }
    d
}

/// The header line of a data file, for errors about all of its studies.
fn table_span(table: &StudyTable) -> std::ops::Range<usize> {
    let text = &table.source.text;
    let start = text.find(|c: char| c != '\u{feff}' && !c.is_whitespace()).unwrap_or(0);
    let end = text[start..].find(['\r', '\n']).map_or(text.len(), |i| start + i);
    start..end.max(start)
}

/// Why no study could be analysed, where the data say. (Studies that are all "not estimable"
/// make a not-estimable result, not this error; it remains for data without studies.)
fn no_study_hint(error: &StatsError, table: &StudyTable) -> Option<String> {
    let StatsError::NoStudies = error else { return None };
    Some(format!("no study of `{}` has an effect that can be pooled", table.source.name))
}

fn error_reason(error: &StatsError) -> String {
    match error {
        StatsError::InvalidStudy { reason, .. } => reason.clone(),
        StatsError::StudyScale { yi, vi, .. } => crate::stats::error::scale_reason(*yi, *vi),
        other => other.to_string(),
    }
}

/// The analyses a book defines, by name, in the order their directives appear.
#[derive(Debug, Clone, Default)]
pub struct Analyses {
    pub by_name: Vec<(String, AnalysisResult)>,
    /// Each analysis' cache key (a hash of its directive, the book's defaults, its data and
    /// metabook), for what is computed from it to be keyed by.
    pub keys: std::collections::BTreeMap<String, Key>,
    /// The analyses computed in this run (the others came from the cache).
    pub executed: Vec<String>,
}

impl Analyses {
    /// The cache key of the analyses a result reads: those `reads` says yes to.
    pub fn key_of(&self, reads: impl Fn(&str) -> bool) -> Key {
        let mut builder = crate::cache::KeyBuilder::new("analyses");
        for (n, k) in &self.keys {
            if reads(n) {
                builder = builder.text(n).key(*k);
            }
        }
        builder.finish()
    }

    pub fn get(&self, name: &str) -> Option<&AnalysisResult> {
        self.by_name.iter().find(|(n, _)| n == name).map(|(_, r)| r)
    }
}

/// Run every `metabook analysis` directive of a book once, and check that every directive that
/// refers to an analysis names one that exists. All problems are returned together. An
/// analysis whose directive, data file, book defaults and metabook are those of a result in
/// `cache` is not run again.
pub fn run_directives(book: &crate::book::Book, directives: &[crate::directive::Directive], cache: &mut Cache) -> Result<Analyses, Vec<Diagnostic>> {
    use crate::directive::Body;
    let mut analyses = Analyses::default();
    let mut problems = Vec::new();
    for d in directives {
        let Body::Analysis(a) = &d.body else { continue };
        let name = a.name.get_ref();
        if analyses.get(name).is_some() {
            problems.push(d.error_at(a.name.span(), format!("an analysis named `{name}` is already defined"), "second definition").hint("analysis names must be unique in the book"));
            continue;
        }
        // The data file is read once, for the key and the run; unreadable data has no key (the
        // run reports it).
        let data = crate::book::read_data(book, a.data.get_ref());
        let key = data.as_ref().ok().map(|data| cache.key("analysis").text(d.text()).text(&format!("{:?}", book.defaults)).text(&data.name).text(&data.text).finish());
        if let Some(result) = key.and_then(|k| cache.get::<AnalysisResult>(k)) {
            analyses.keys.insert(name.clone(), key.expect("a hit has a key"));
            analyses.by_name.push((name.clone(), result));
            continue;
        }
        match run_analysis_directive(book, d, a, data) {
            Ok(result) => {
                if let Some(k) = key {
                    cache.put(k, &result);
                    analyses.keys.insert(name.clone(), k);
                }
                analyses.executed.push(name.clone());
                analyses.by_name.push((name.clone(), result));
            }
            Err(mut ds) => problems.append(&mut ds),
        }
    }
    for d in directives {
        let reference = d.body.analysis();
        if let Some(r) = reference {
            let wanted = r.get_ref();
            if analyses.get(wanted).is_none() && !problems.iter().any(|p| p.message.contains(&format!("`{wanted}`"))) {
                let names: Vec<&str> = analyses.by_name.iter().map(|(n, _)| n.as_str()).collect();
                let close = names.iter().copied().min_by_key(|n| strsim::levenshtein(n, wanted)).filter(|n| strsim::levenshtein(n, wanted) <= 3);
                let hint = match close {
                    Some(n) => format!("did you mean `{n}`?"),
                    None if names.is_empty() => "define it with a ```metabook analysis``` block".to_string(),
                    None => format!("defined analyses: {}", names.join(", ")),
                };
                problems.push(d.error_at(r.span(), format!("no analysis named `{wanted}`"), "referenced here").hint(hint));
            }
        }
    }
    if problems.is_empty() {
        Ok(analyses)
    } else {
        Err(problems)
    }
}

/// Run one analysis directive on its data file as read (or why it could not be read).
fn run_analysis_directive(
    book: &crate::book::Book,
    d: &crate::directive::Directive,
    a: &crate::directive::AnalysisDirective,
    data: Result<std::sync::Arc<crate::diag::Source>, String>,
) -> Result<AnalysisResult, Vec<Diagnostic>> {
    use crate::stats::{Convention, IterControl, Measure, Method, Model, Test};
    let mut problems = Vec::new();
    fn named<T: std::str::FromStr<Err = crate::stats::spec::UnknownName>>(
        d: &crate::directive::Directive,
        value: &toml::Spanned<String>,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<T> {
        value.get_ref().parse::<T>().map_err(|e| problems.push(d.error_at(value.span(), e.to_string(), "here").hint(e.hint()))).ok()
    }
    let measure: Option<Measure> = named(d, &a.measure, &mut problems);
    let method: Option<Method> = a.method.as_ref().map_or(Some(book.defaults.method), |m| named(d, m, &mut problems));
    let is_iv = a.method.as_ref().map_or(book.defaults.method_is_iv, |m| crate::stats::spec::is_iv_name(m.get_ref()));
    let own_model: Option<Option<Model>> = a.model.as_ref().map(|m| named(d, m, &mut problems));
    let test: Option<Test> = a.test.as_ref().map_or(Some(book.defaults.test), |t| named(d, t, &mut problems));
    let convention: Option<Convention> = a.convention.as_ref().map_or(Some(book.defaults.convention), |c| named(d, c, &mut problems));
    let level = a.level.as_ref().map_or(book.defaults.level, |l| *l.get_ref());
    let study_level = a.study_level.as_ref().map(|l| *l.get_ref()).or(book.defaults.study_level).unwrap_or(level);
    for (key, value) in [("level", &a.level), ("study-level", &a.study_level)] {
        if let Some(l) = value {
            let v = *l.get_ref();
            if !(v > 0.0 && v < 100.0) {
                problems.push(d.error_at(l.span(), format!("confidence level {v} is not between 0 and 100"), "here").hint(format!("e.g. {key} = 95")));
            }
        }
    }
    // RevMan's method × model: the directive's model, else the book's where it fits the method
    // (a τ² estimator named in the directive is random by its name, whatever the book's model).
    let resolved = method.and_then(|method| match own_model {
        Some(Some(model)) => match crate::stats::spec::resolve_model(method, is_iv, Some(model)) {
            Ok(r) => Some(r),
            Err(e) => {
                let span = a.model.as_ref().expect("own model").span();
                problems.push(d.error_at(span, e.to_string(), "here").hint(e.hint()));
                None
            }
        },
        Some(None) => None,
        None => Some(
            crate::stats::spec::resolve_model(method, is_iv, book.defaults.model)
                .unwrap_or((method, false)),
        ),
    });
    if let (Some(flag), Some(m)) = (&a.log_scale, measure) {
        if *flag.get_ref() && m != Measure::GEN {
            problems.push(
                d.error_at(flag.span(), format!("`log-scale` is for generic effects (`measure = \"GEN\"`), not {}", m.name()), "here")
                    .hint(format!("{} is {}; remove `log-scale`", m.name(), if m.is_ratio() { "analysed on the log scale already" } else { "not a ratio" })),
            );
        }
    }
    if let Some(r) = &a.r {
        let v = *r.get_ref();
        if !(v > -1.0 && v < 1.0) {
            problems.push(d.error_at(r.span(), format!("correlation {v} is not between −1 and 1"), "here").hint("e.g. r = 0.5"));
        }
    }
    let source = match data {
        Ok(s) => Some(s),
        Err(why) => {
            problems.push(d.error_at(a.data.span(), format!("data file {why}"), "here").hint(format!("data files live in the book's `{}` folder", book.config.build.data.display())));
            None
        }
    };
    let (Some(measure), Some((method, mh_random)), Some(test), Some(convention), Some(source), true) = (measure, resolved, test, convention, source, problems.is_empty()) else {
        return Err(problems);
    };
    let spec = Spec {
        measure,
        method,
        test,
        level,
        study_level,
        convention,
        control: IterControl::default(),
        mh_random,
        generic_log: a.log_scale.as_ref().is_some_and(|f| *f.get_ref()),
    };
    let settings = directive_settings(book, d, a);
    // Options that do not fit together are said before the data are read, at their keys.
    crate::stats::analysis::check_spec(&spec).map_err(|e| vec![setting_diagnostic(None, e, &spec, &settings)])?;
    let table = crate::data::csv_table(&source)?;
    let studies = crate::data::studies::load_studies_as(&table, measure, a.r.as_ref().map(|r| *r.get_ref()), convention)?;
    let mut result = analyse_with(studies, &spec, &settings, None).map_err(|e| vec![e])?;
    result.effect_name = a.effect_name.as_ref().map(|n| n.get_ref().trim().to_string()).filter(|n| !n.is_empty());
    Ok(result)
}

/// Where an analysis directive's settings were written: its own keys, or book.toml's
/// `[analysis]` defaults for those it leaves out (metabook's built-in defaults have no place).
fn directive_settings(book: &crate::book::Book, d: &crate::directive::Directive, a: &crate::directive::AnalysisDirective) -> Settings {
    let in_directive = |value: &toml::Spanned<String>| Place {
        location: Location { source: std::sync::Arc::clone(&d.source), span: d.chapter_span(value.span()), label: String::new() },
        note: None,
    };
    let defaults = &book.config.analysis;
    let from_book = |setting: Setting, value: &toml::Spanned<String>| Place {
        location: Location { source: std::sync::Arc::clone(&book.config_source), span: value.span(), label: String::new() },
        note: Some(format!(
            "the analysis `{}` at {}:{} takes its {key} from book.toml's [analysis]; give it `{key} = \"…\"` to override",
            a.name.get_ref(),
            d.source.name,
            d.source.line_col(d.span.start).0,
            key = setting.key()
        )),
    };
    let mut places = vec![(Setting::Data, in_directive(&a.data)), (Setting::Measure, in_directive(&a.measure))];
    for (setting, own, default) in [
        (Setting::Method, &a.method, &defaults.method),
        (Setting::Model, &a.model, &defaults.model),
        (Setting::Test, &a.test, &defaults.test),
        (Setting::Convention, &a.convention, &defaults.convention),
    ] {
        match (own, default) {
            (Some(v), _) => places.push((setting, in_directive(v))),
            (None, Some(v)) => places.push((setting, from_book(setting, v))),
            (None, None) => {}
        }
    }
    Settings { places, style: OptionStyle::Keys }
}
