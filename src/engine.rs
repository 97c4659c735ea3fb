//! The execute phase: run analyses on loaded studies and turn the core's typed errors into
//! located diagnostics.
//!
//! The pooling core ([`crate::stats`]) knows numbers only; this module knows which study a
//! number came from, so an error about "study 3" becomes a message pointing at that study's
//! line in the data file.

use crate::data::StudyTable;
use crate::diag::Diagnostic;
use crate::stats::subgroup::{self, SubgroupAnalysis};
use crate::stats::{meta_analysis, Analysis, Spec, StatsError, StudyData};

/// An analysis of one data file, with its subgroup analysis if the file has subgroups.
#[derive(Debug, Clone)]
pub struct AnalysisResult {
    pub table: StudyTable,
    pub analysis: Analysis,
    pub subgroups: Option<SubgroupAnalysis>,
    /// The core's notes plus what the data layer assumed (e.g. a default correlation).
    pub notes: Vec<String>,
}

/// Analyse every study of `table` as `spec` says, and by subgroup when the table has them.
pub fn analyse(table: StudyTable, spec: &Spec) -> Result<AnalysisResult, Diagnostic> {
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
    Ok(AnalysisResult { table, analysis, subgroups, notes })
}

/// A core error as a diagnostic, located at the study it concerns where there is one.
pub fn diagnostic(table: &StudyTable, error: StatsError) -> Diagnostic {
    let mut d = Diagnostic::error(error.to_string());
    if let StatsError::InvalidStudy { index, .. } = &error {
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
        other => other.to_string(),
    }
}
