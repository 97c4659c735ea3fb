//! What changed since the previous build: every reported number that moved (old → new, as the
//! book prints it) and where it appears, with the conclusions that changed — the direction of
//! an effect, its significance, the certainty or the plain-language finding — listed first.
//!
//! Each build keeps a ledger of what it reported (`book/.metabook/reported.json`); the next
//! build compares its own ledger with it. Numbers are compared as printed, so a change in the
//! fourth decimal that the book does not show is not reported as a change. Pure: ledgers in,
//! report out; `cmd::build` does the reading and writing.

use super::pls::Summary;
use super::sof::read_effect;
use crate::directive::{Body, Directive};
use crate::engine::Analyses;
use crate::format;
use serde::{Deserialize, Serialize};

/// What one build reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    pub analyses: Vec<AnalysisEntry>,
    /// Plain-language findings by outcome: (outcome, certainty, finding with its size and numbers).
    pub findings: Vec<(String, String, String)>,
}

/// One analysis as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisEntry {
    pub name: String,
    /// The chapters where it appears (inline values or directives).
    pub appears_in: Vec<String>,
    /// (what, as printed): k, the effect and its CI, P, I², τ².
    pub numbers: Vec<(String, String)>,
    /// "above no effect", "below no effect" or "little or no difference".
    pub direction: String,
    /// Whether the CI excludes no effect.
    pub significant: bool,
}

/// Where analyses appear: per chapter (in the order the directives meet them), the names of
/// the analyses a directive of it names or an inline value `{{ name` prints. Made once, so
/// that looking an analysis up costs the number of chapters, not their length.
struct Appearances<'d> {
    chapters: Vec<(&'d crate::diag::Source, std::collections::HashSet<&'d str>)>,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl<'d> Appearances<'d> {
    fn new(directives: &'d [Directive]) -> Appearances<'d> {
        let mut chapters: Vec<(&crate::diag::Source, std::collections::HashSet<&str>)> = Vec::new();
        for d in directives {
            let i = match chapters.iter().position(|(s, _)| s.name == d.source.name) {
                Some(i) => i,
                None => {
                    // The name right after each `{{`.
                    let inline = d.source.text.split("{{").skip(1).map(|rest| {
                        let rest = rest.trim_start();
                        &rest[..rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len())]
                    });
                    chapters.push((&d.source, inline.filter(|n| !n.is_empty()).collect()));
                    chapters.len() - 1
                }
            };
            let named = match &d.body {
                Body::Analysis(a) => Some(a.name.get_ref()),
                Body::Forest(f) => Some(f.analysis.get_ref()),
                Body::Results(r) => Some(r.analysis.get_ref()),
                Body::Table(t) => t.analysis.as_ref().map(|a| a.get_ref()),
                Body::Rob(r) => r.analysis.as_ref().map(|a| a.get_ref()),
                Body::Funnel(f) => Some(f.analysis.get_ref()),
                Body::Sensitivity(s) => Some(s.analysis.get_ref()),
                Body::Pls(p) => Some(p.analysis.get_ref()),
                Body::References(_) | Body::Sof(_) | Body::Prisma(_) | Body::Revman(_) => None,
            };
            chapters[i].1.extend(named.map(String::as_str));
        }
        Appearances { chapters }
    }

    /// The chapters where the analysis `name` appears.
    fn of(&self, name: &str) -> Vec<String> {
        // A name that is not one word (not one a template can print) is looked for as typed.
        let typed = |text: &str| {
            text.split("{{").skip(1).any(|rest| {
                let rest = rest.trim_start();
                rest.starts_with(name) && !rest[name.len()..].starts_with(is_name_char)
            })
        };
        let word = name.chars().all(is_name_char);
        self.chapters.iter().filter(|(source, names)| names.contains(name) || (!word && typed(&source.text))).map(|(source, _)| source.name.clone()).collect()
    }
}

/// The ledger of a build.
pub fn ledger(analyses: &Analyses, directives: &[Directive], summary: Option<&Summary>) -> Ledger {
    let appearances = Appearances::new(directives);
    let analyses = analyses
        .by_name
        .iter()
        .map(|(name, result)| {
            let a = &result.analysis;
            let read = read_effect(result);
            let p = a.pooled.as_ref();
            let mut numbers = vec![
                ("studies".to_string(), a.k.to_string()),
                ("effect".to_string(), read.text.clone()),
                ("P".to_string(), p.map_or_else(|| "not estimable".to_string(), |p| format::p_journal(p.p))),
            ];
            if let Some(h) = p.and_then(|p| p.heterogeneity.as_ref()) {
                numbers.push(("I²".to_string(), format::percent0(h.i2)));
            }
            if let Some(t) = p.and_then(|p| p.tau2) {
                numbers.push(("τ²".to_string(), format::fixed(t, 3)));
            }
            AnalysisEntry {
                name: name.clone(),
                appears_in: appearances.of(name),
                numbers,
                direction: match read.direction {
                    Some(true) => "above no effect",
                    Some(false) => "below no effect",
                    None => "little or no difference",
                }
                .to_string(),
                significant: !read.crosses,
            }
        })
        .collect();
    // The finding as the summary says it: the statement, its size and its numbers ("about 151
    // die"), so that a change in any of them is reported.
    let said = |o: &super::pls::PlsOutcome| [Some(&o.finding), o.size.as_ref(), o.numbers.as_ref()].into_iter().flatten().cloned().collect::<Vec<_>>().join(" ");
    let findings = summary.map_or_else(Vec::new, |s| s.outcomes.iter().map(|o| (o.name.clone(), o.certainty.clone(), said(o))).collect());
    Ledger { analyses, findings }
}

/// The changes between two ledgers, as Markdown, or None when nothing reported moved.
pub fn report(old: &Ledger, new: &Ledger) -> Option<String> {
    let mut conclusions = Vec::new();
    let mut numbers = Vec::new();
    for n in &new.analyses {
        let where_ = if n.appears_in.is_empty() { String::new() } else { format!(" (in {})", n.appears_in.join(", ")) };
        let Some(o) = old.analyses.iter().find(|o| o.name == n.name) else {
            numbers.push(format!("- `{}`: new analysis{where_}", n.name));
            continue;
        };
        if o.direction != n.direction {
            conclusions.push(format!("- **`{}`: the direction changed**, {} → {}{where_}", n.name, o.direction, n.direction));
        }
        if o.significant != n.significant {
            let word = |s: bool| if s { "significant" } else { "not significant" };
            conclusions.push(format!("- **`{}`: significance changed**, {} → {}{where_}", n.name, word(o.significant), word(n.significant)));
        }
        for (what, value) in &n.numbers {
            match o.numbers.iter().find(|(w, _)| w == what) {
                Some((_, old_value)) if old_value != value => numbers.push(format!("- `{}` {what}: {old_value} → {value}{where_}", n.name)),
                None => numbers.push(format!("- `{}` {what}: (none) → {value}{where_}", n.name)),
                _ => {}
            }
        }
    }
    for o in &old.analyses {
        if !new.analyses.iter().any(|n| n.name == o.name) {
            numbers.push(format!("- `{}`: removed", o.name));
        }
    }
    for (outcome, certainty, finding) in &new.findings {
        match old.findings.iter().find(|(o, _, _)| o == outcome) {
            Some((_, old_certainty, _)) if old_certainty != certainty => {
                conclusions.push(format!("- **{outcome}: the certainty changed**, {old_certainty} → {certainty}: “{finding}”"))
            }
            Some((_, _, old_finding)) if old_finding != finding => conclusions.push(format!("- **{outcome}: the plain-language finding changed**: “{old_finding}” → “{finding}”")),
            _ => {}
        }
    }
    if conclusions.is_empty() && numbers.is_empty() {
        return None;
    }
    let mut out = String::from("# What changed since the previous build\n\n");
    if !conclusions.is_empty() {
        out.push_str("## Conclusions\n\n");
        out.push_str(&conclusions.join("\n"));
        out.push_str("\n\n");
    }
    if !numbers.is_empty() {
        out.push_str("## Numbers\n\n");
        out.push_str(&numbers.join("\n"));
        out.push('\n');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(effect: &str, direction: &str, significant: bool) -> AnalysisEntry {
        AnalysisEntry {
            name: "gait".into(),
            appears_in: vec!["report/results.md".into()],
            numbers: vec![("studies".into(), "3".into()), ("effect".into(), effect.into())],
            direction: direction.into(),
            significant,
        }
    }

    #[test]
    fn nothing_moved_is_no_report() {
        let l = Ledger { analyses: vec![entry("SMD −0.41 (95% CI −0.77 to −0.05)", "below no effect", true)], findings: vec![] };
        assert_eq!(report(&l, &l), None);
    }

    #[test]
    fn conclusions_come_first_then_every_number_that_moved() {
        let old = Ledger { analyses: vec![entry("SMD −0.41 (95% CI −0.77 to −0.05)", "below no effect", true)], findings: vec![("walking speed".into(), "low".into(), "It may help.".into())] };
        let new = Ledger { analyses: vec![entry("SMD −0.12 (95% CI −0.50 to 0.26)", "little or no difference", false)], findings: vec![("walking speed".into(), "very low".into(), "We are very uncertain.".into())] };
        let r = report(&old, &new).unwrap();
        let conclusions = r.find("## Conclusions").unwrap();
        let numbers = r.find("## Numbers").unwrap();
        assert!(conclusions < numbers);
        assert!(r.contains("- **`gait`: the direction changed**, below no effect → little or no difference (in report/results.md)"), "{r}");
        assert!(r.contains("- **`gait`: significance changed**, significant → not significant"), "{r}");
        assert!(r.contains("- **walking speed: the certainty changed**, low → very low"), "{r}");
        assert!(r.contains("- `gait` effect: SMD −0.41 (95% CI −0.77 to −0.05) → SMD −0.12 (95% CI −0.50 to 0.26) (in report/results.md)"), "{r}");
        assert!(!r.contains("studies:"), "k did not move: {r}");
    }
}
