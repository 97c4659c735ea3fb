//! The execute phase: run analyses on loaded studies and turn the core's typed errors into
//! located diagnostics.
//!
//! The pooling core ([`crate::stats`]) knows numbers only; this module knows which study a
//! number came from, so an error about "study 3" becomes a message pointing at that study's
//! line in the data file. A book's analyses are taken from the build cache ([`crate::cache`])
//! when their directive, data and defaults are those of a stored result.

use crate::cache::{Cache, Key};
use crate::data::StudyTable;
use crate::diag::Diagnostic;
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
    let order = cumulative_order(&table, cumulative_by)?;
    let data: Vec<StudyData> = table.studies.iter().map(|s| s.data).collect();
    let analysis = meta_analysis(&data, spec).map_err(|e| diagnostic(&table, e))?;
    let subgroups = if table.has_subgroups() {
        let labels: Vec<String> = table.studies.iter().map(|s| s.subgroup.clone().unwrap_or_default()).collect();
        Some(subgroup::by_subgroup(&data, &labels, spec).map_err(|e| diagnostic(&table, e))?)
    } else {
        None
    };
    let mut notes = analysis.notes.clone();
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
    Ok(AnalysisResult { table, analysis, subgroups, small_study, sensitivity, cumulative_by, notes })
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

/// A core error as a diagnostic, located at the study it concerns where there is one.
pub fn diagnostic(table: &StudyTable, error: StatsError) -> Diagnostic {
    let mut d = Diagnostic::error(error.to_string());
    if let StatsError::InvalidStudy { index, .. } | StatsError::StudyScale { index, .. } = &error {
        if let Some(study) = table.studies.get(*index) {
            d = Diagnostic::error(format!("study `{}`: {}", study.label, error_reason(&error)))
                .at(&table.source, study.label_span.clone(), "this study");
        }
    }
    if let Some(hint) = error.hint() {
        d = d.hint(hint);
    }
    if d.location.is_none() {
        d = d.hint(format!("data file: {}", table.source.name));
    }
    d
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
    use crate::stats::{Convention, IterControl, Measure, Method, Test};
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
    let test: Option<Test> = a.test.as_ref().map_or(Some(book.defaults.test), |t| named(d, t, &mut problems));
    let convention: Option<Convention> = a.convention.as_ref().map_or(Some(book.defaults.convention), |c| named(d, c, &mut problems));
    let level = a.level.as_ref().map_or(book.defaults.level, |l| *l.get_ref());
    if let Some(l) = &a.level {
        if !(level > 0.0 && level < 100.0) {
            problems.push(d.error_at(l.span(), format!("confidence level {level} is not between 0 and 100"), "here").hint("e.g. level = 95"));
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
    let (Some(measure), Some(method), Some(test), Some(convention), Some(source), true) = (measure, method, test, convention, source, problems.is_empty()) else {
        return Err(problems);
    };
    let spec = Spec { measure, method, test, level, convention, control: IterControl::default() };
    let table = crate::data::csv_table(&source)?;
    let studies = crate::data::load_studies(&table, measure, a.r.as_ref().map(|r| *r.get_ref()))?;
    analyse(studies, &spec).map_err(|e| vec![e])
}
