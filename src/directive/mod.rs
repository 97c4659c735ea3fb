//! Analysis directives: fenced code blocks whose info string is `metabook <kind>` and whose
//! body is TOML, found in a chapter's Markdown with their source positions.
//!
//! ````markdown
//! ```metabook analysis
//! name = "spasticity"
//! data = "spasticity.csv"
//! measure = "SMD"
//! ```
//! ````
//!
//! Parsing is pure: it takes the chapter's [`Source`] and returns typed directives or located
//! diagnostics. Positions inside the TOML body are mapped back to the chapter, so an error
//! points at the offending key's line and column in the Markdown file.

use crate::config::toml_error;
use crate::diag::{Diagnostic, Source};
use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
use serde::Deserialize;
use std::ops::Range;
use std::sync::Arc;
use toml::Spanned;

/// The kinds of directive, as written after `metabook` in the info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Analysis,
    Forest,
    Table,
    Results,
    References,
    Rob,
    Sof,
    Prisma,
    Funnel,
    Sensitivity,
    Pls,
    Revman,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Analysis,
        Kind::Forest,
        Kind::Table,
        Kind::Results,
        Kind::References,
        Kind::Rob,
        Kind::Sof,
        Kind::Prisma,
        Kind::Funnel,
        Kind::Sensitivity,
        Kind::Pls,
        Kind::Revman,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Analysis => "analysis",
            Kind::Forest => "forest",
            Kind::Table => "table",
            Kind::Results => "results",
            Kind::References => "references",
            Kind::Rob => "rob",
            Kind::Sof => "sof",
            Kind::Prisma => "prisma",
            Kind::Pls => "pls",
            Kind::Funnel => "funnel",
            Kind::Sensitivity => "sensitivity",
            Kind::Revman => "revman",
        }
    }
}

/// `metabook analysis`: a named meta-analysis, available to every chapter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AnalysisDirective {
    pub name: Spanned<String>,
    /// A CSV file inside the book's data folder.
    pub data: Spanned<String>,
    pub measure: Spanned<String>,
    /// FE, MH, PETO, IV, or a τ² estimator (DL, REML, …).
    pub method: Option<Spanned<String>>,
    /// RevMan's effects model, `fixed` or `random`, for `MH` and `IV` (a τ² estimator is random
    /// by its name).
    pub model: Option<Spanned<String>>,
    pub test: Option<Spanned<String>>,
    pub convention: Option<Spanned<String>>,
    /// Confidence level of the pooled results, in percent.
    pub level: Option<Spanned<f64>>,
    /// Confidence level of each study's interval (default: `level`).
    pub study_level: Option<Spanned<f64>>,
    /// Pre–post correlation assumed where the data give none (SMCR).
    pub r: Option<Spanned<f64>>,
    /// Generic effects (`GEN`) are log ratios: report them exponentiated.
    pub log_scale: Option<Spanned<bool>>,
    /// The effect's name in titles and tables ("Hazard Ratio"), for generic effects.
    pub effect_name: Option<Spanned<String>>,
}

/// `metabook forest`: a forest plot of a named analysis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ForestDirective {
    pub analysis: Spanned<String>,
    /// "Favours …" under the left and right side of the axis.
    pub favours: Option<Spanned<[String; 2]>>,
    /// Headings over the two groups' data (default "Experimental", "Control").
    pub groups: Option<Spanned<[String; 2]>>,
    #[serde(default)]
    pub prediction: bool,
    /// Which totals to draw: `all` (the default), `subtotals` (subgroups only, as RevMan's
    /// "subtotals only") or `none`.
    pub totals: Option<Spanned<String>>,
    pub caption: Option<String>,
    /// A name for cross-references in the prose (`@fig-spasticity`); starts with `fig-`.
    pub label: Option<Spanned<String>>,
}

/// `metabook table`: a table from a CSV file or from an analysis' studies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TableDirective {
    pub data: Option<Spanned<String>>,
    pub analysis: Option<Spanned<String>>,
    pub columns: Option<Spanned<Vec<String>>>,
    pub headings: Option<Spanned<Vec<String>>>,
    pub caption: Option<String>,
    /// A name for cross-references in the prose (`@tbl-characteristics`); starts with `tbl-`.
    pub label: Option<Spanned<String>>,
}

/// `metabook results`: a RevMan-style result block of a named analysis.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ResultsDirective {
    pub analysis: Spanned<String>,
}

/// `metabook references`: the list of the works cited, where the block stands (without one,
/// the list closes the last chapter).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReferencesDirective {}

/// `metabook rob`: risk-of-bias judgements from a CSV file, drawn as a traffic-light plot, a
/// summary plot or a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RobDirective {
    /// A CSV file inside the data folder: `study`, `D1`…`Dn`, optionally `overall`.
    pub data: Spanned<String>,
    /// `RoB 2`, `RoB 1`, `ROBINS-I`, `RoBANS 2` or `custom`.
    pub tool: Spanned<String>,
    /// Domain names: required for `custom`, or to rename a tool's domains.
    pub domains: Option<Spanned<Vec<String>>>,
    /// The analysis whose studies are assessed: checked against the rows, and its weights for
    /// a weighted summary plot.
    pub analysis: Option<Spanned<String>>,
    /// `traffic-light` (the default), `summary` or `table`.
    pub plot: Option<Spanned<String>>,
    /// Summary plot: share of the analysis' weight rather than of studies.
    #[serde(default)]
    pub weighted: bool,
    pub caption: Option<String>,
    pub label: Option<Spanned<String>>,
}

/// `metabook sof`: a GRADE summary-of-findings table from a GRADE file in the data folder.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SofDirective {
    /// A TOML file inside the data folder (see `data::grade`).
    pub data: Spanned<String>,
    pub caption: Option<String>,
    pub label: Option<Spanned<String>>,
}

/// `metabook prisma`: a PRISMA 2020 flow diagram from the counts in a data file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrismaDirective {
    /// A CSV file inside the book's data folder (`box,name,n`; see [`crate::data::prisma`]).
    pub data: Spanned<String>,
    pub caption: Option<String>,
    /// A name for cross-references in the prose (`@fig-prisma`); starts with `fig-`.
    pub label: Option<Spanned<String>>,
}

/// `metabook pls`: one outcome of the plain-language summary — what it means to a patient and
/// what the intervention does to it, in plain words. Shows nothing where it stands.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PlsDirective {
    pub analysis: Spanned<String>,
    /// The outcome in plain words ("muscle stiffness").
    pub outcome: String,
    /// What it means to a patient ("how stiff and tight the muscles are").
    pub meaning: String,
    /// What the intervention does when the estimate is above no effect, in the base form of
    /// the verb ("reduce muscle stiffness"), and below it.
    pub positive: String,
    pub negative: String,
    /// The same in the third person ("reduces muscle stiffness"); made by English rules when
    /// not given.
    pub positive_s: Option<String>,
    pub negative_s: Option<String>,
    /// For 2×2 data: what the outcome counts, said of several people ("have a fall", "die"),
    /// for the natural frequencies ("about 160 of them have a fall"); the wording table's
    /// `event` ("have {outcome}") when not given.
    pub event: Option<String>,
}

/// `metabook funnel`: a funnel plot of a named analysis, with the tests for small-study
/// effects under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FunnelDirective {
    pub analysis: Spanned<String>,
    /// Levels of a contour-enhanced funnel plot, in percent (e.g. `[90, 95, 99]`): shaded
    /// regions of statistical significance around no effect.
    pub contours: Option<Spanned<Vec<f64>>>,
    /// Draw trim-and-fill's filled studies (hollow) and its adjusted estimate (dashed).
    #[serde(default)]
    pub trimfill: bool,
    pub caption: Option<String>,
    /// A name for cross-references in the prose (`@fig-funnel`); starts with `fig-`.
    pub label: Option<Spanned<String>>,
}

/// `metabook sensitivity`: a leave-one-out, cumulative or influence analysis of a named
/// analysis, as a table or (leave-one-out, cumulative) a forest-style plot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SensitivityDirective {
    pub analysis: Spanned<String>,
    /// `leave-one-out`, `cumulative` or `influence`.
    pub kind: Spanned<String>,
    /// Cumulative analysis: the column of the data file that orders the studies (e.g. `year`).
    pub by: Option<Spanned<String>>,
    /// Draw the re-pooled estimates as a plot rather than a table.
    pub plot: Option<Spanned<bool>>,
    pub caption: Option<String>,
    /// `fig-…` for a plot, `tbl-…` for a table.
    pub label: Option<Spanned<String>>,
}

/// `metabook revman`: the book checks itself against the numbers RevMan 5 stored for its
/// analyses (`data/revman-results.csv`, as `metabook import` writes it), in a table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RevmanDirective {
    /// A CSV file inside the data folder (see [`crate::data::revman`]).
    pub data: Spanned<String>,
    pub caption: Option<String>,
    /// A name for cross-references in the prose (`@tbl-revman`); starts with `tbl-`.
    pub label: Option<Spanned<String>>,
}

#[derive(Debug, Clone)]
pub enum Body {
    Analysis(AnalysisDirective),
    Forest(ForestDirective),
    Table(TableDirective),
    Results(ResultsDirective),
    References(ReferencesDirective),
    Rob(RobDirective),
    Sof(SofDirective),
    Prisma(PrismaDirective),
    Pls(PlsDirective),
    Funnel(FunnelDirective),
    Sensitivity(SensitivityDirective),
    Revman(RevmanDirective),
}

impl Body {
    /// The analysis a directive names (`analysis = "…"`), if it names one. A summary of
    /// findings names none here: its outcomes name analyses in the GRADE file.
    pub fn analysis(&self) -> Option<&toml::Spanned<String>> {
        match self {
            Body::Forest(f) => Some(&f.analysis),
            Body::Results(r) => Some(&r.analysis),
            Body::Table(t) => t.analysis.as_ref(),
            Body::Rob(r) => r.analysis.as_ref(),
            Body::Pls(p) => Some(&p.analysis),
            Body::Funnel(f) => Some(&f.analysis),
            Body::Sensitivity(s) => Some(&s.analysis),
            Body::Analysis(_) | Body::References(_) | Body::Sof(_) | Body::Prisma(_) | Body::Revman(_) => None,
        }
    }
}

/// A directive as found in a chapter.
#[derive(Debug, Clone)]
pub struct Directive {
    pub kind: Kind,
    pub body: Body,
    pub source: Arc<Source>,
    /// The whole fenced block in the chapter.
    pub span: Range<usize>,
    /// Maps byte offsets of the TOML body to offsets in the chapter.
    body_map: Vec<(usize, usize)>,
}

impl Directive {
    /// The directive as written: its whole fenced block, parameters included.
    pub fn text(&self) -> &str {
        &self.source.text[self.span.clone()]
    }

    /// The directive for a person: its kind, what it shows and where it stands
    /// (`forest \`gait\` at report/results.md:12`).
    pub fn describe(&self) -> String {
        let (line, _) = self.source.line_col(self.span.start);
        let shows = match &self.body {
            Body::Analysis(a) => Some(a.name.get_ref()),
            body => body.analysis().map(|a| a.get_ref()),
        };
        format!("{}{} at {}:{line}", self.kind.name(), shows.map_or(String::new(), |n| format!(" `{n}`")), self.source.name)
    }

    /// The chapter span of a span inside the TOML body (e.g. a key's value).
    pub fn chapter_span(&self, body: Range<usize>) -> Range<usize> {
        map_span(&self.body_map, body)
    }

    /// A diagnostic pointing at a span of the body.
    pub fn error_at(&self, body: Range<usize>, message: impl Into<String>, label: impl Into<String>) -> Diagnostic {
        Diagnostic::error(message).at(&self.source, self.chapter_span(body), label)
    }
}

fn map_span(map: &[(usize, usize)], span: Range<usize>) -> Range<usize> {
    let map_one = |offset: usize| {
        let &(body, chapter) = map.iter().rev().find(|(b, _)| *b <= offset).unwrap_or(&(0, 0));
        chapter + (offset - body)
    };
    let start = map_one(span.start);
    start..map_one(span.end).max(start)
}

/// Find and parse every `metabook` directive of a chapter. Other code blocks are left alone.
pub fn parse_chapter(source: &Arc<Source>) -> Result<Vec<Directive>, Vec<Diagnostic>> {
    let mut directives = Vec::new();
    let mut problems = Vec::new();
    let mut current: Option<(String, Range<usize>, String, Vec<(usize, usize)>)> = None;
    for (event, range) in Parser::new(&source.text).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let mut words = info.split_whitespace();
                if words.next() == Some("metabook") {
                    let kind = words.next().unwrap_or("").to_string();
                    current = Some((kind, range, String::new(), Vec::new()));
                }
            }
            Event::Text(text) => {
                if let Some((_, _, body, map)) = current.as_mut() {
                    map.push((body.len(), range.start));
                    body.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some((kind, span, body, map)) = current.take() {
                    match parse_directive(source, &kind, span, &body, map) {
                        Ok(d) => directives.push(d),
                        Err(d) => problems.push(d),
                    }
                }
            }
            _ => {}
        }
    }
    if problems.is_empty() {
        Ok(directives)
    } else {
        Err(problems)
    }
}

fn parse_directive(
    source: &Arc<Source>,
    kind_name: &str,
    span: Range<usize>,
    body: &str,
    body_map: Vec<(usize, usize)>,
) -> Result<Directive, Diagnostic> {
    let info_line = span.start..source.text[span.start..].find('\n').map_or(span.end, |i| span.start + i);
    let Some(kind) = Kind::ALL.into_iter().find(|k| k.name() == kind_name) else {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        let close = known.iter().copied().min_by_key(|k| strsim::damerau_levenshtein(k, kind_name)).filter(|k| strsim::damerau_levenshtein(k, kind_name) <= 2);
        let message = if kind_name.is_empty() { "a metabook block needs a kind".to_string() } else { format!("unknown directive kind `{kind_name}`") };
        let hint = match close {
            Some(k) => format!("did you mean `metabook {k}`? Kinds: {}", known.join(", ")),
            None => format!("write `metabook <kind>` with a kind among: {}", known.join(", ")),
        };
        return Err(Diagnostic::error(message).at(source, info_line, "info string").hint(hint));
    };
    let what = format!("`metabook {}` block", kind.name());
    let located = |e: toml::de::Error| {
        let mut d = toml_error(source, &e, &what);
        if let (Some(loc), Some(s)) = (d.location.as_mut(), e.span()) {
            loc.span = map_span(&body_map, s);
        }
        if e.span().is_none() {
            if let Some(loc) = d.location.as_mut() {
                loc.span = info_line.clone();
            }
        }
        d
    };
    let body = match kind {
        Kind::Analysis => Body::Analysis(toml::from_str(body).map_err(located)?),
        Kind::Forest => Body::Forest(toml::from_str(body).map_err(located)?),
        Kind::Table => Body::Table(toml::from_str(body).map_err(located)?),
        Kind::Results => Body::Results(toml::from_str(body).map_err(located)?),
        Kind::References => Body::References(toml::from_str(body).map_err(located)?),
        Kind::Rob => Body::Rob(toml::from_str(body).map_err(located)?),
        Kind::Sof => Body::Sof(toml::from_str(body).map_err(located)?),
        Kind::Prisma => Body::Prisma(toml::from_str(body).map_err(located)?),
        Kind::Pls => Body::Pls(toml::from_str(body).map_err(located)?),
        Kind::Funnel => Body::Funnel(toml::from_str(body).map_err(located)?),
        Kind::Sensitivity => Body::Sensitivity(toml::from_str(body).map_err(located)?),
        Kind::Revman => Body::Revman(toml::from_str(body).map_err(located)?),
    };
    Ok(Directive { kind, body, source: Arc::clone(source), span, body_map })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAPTER: &str = "# Results\n\nSome prose.\n\n```metabook analysis\nname = \"spasticity\"\ndata = \"spasticity.csv\"\nmeasure = \"SMD\"\n```\n\n```rust\nfn main() {}\n```\n\n```metabook forest\nanalysis = \"spasticity\"\nfavours = [\"Post\", \"Pre\"]\n```\n";

    #[test]
    fn directives_are_found_in_order_and_other_code_is_left_alone() {
        let s = Source::new("report/results.md", CHAPTER);
        let d = parse_chapter(&s).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].kind, Kind::Analysis);
        let Body::Analysis(a) = &d[0].body else { panic!() };
        assert_eq!(a.name.get_ref(), "spasticity");
        // The span of `"SMD"` maps back to line 8, column 11 of the chapter.
        let span = d[0].chapter_span(a.measure.span());
        assert_eq!(s.line_col(span.start), (8, 11));
        assert_eq!(&s.text[span], "\"SMD\"");
    }

    #[test]
    fn an_unknown_key_points_at_the_key_in_the_markdown() {
        let s = Source::new("ch.md", "Intro\n\n```metabook analysis\nname = \"a\"\ndata = \"a.csv\"\nmesure = \"SMD\"\n```\n");
        let e = parse_chapter(&s).unwrap_err();
        assert!(e[0].message.contains("unknown field `mesure`"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "ch.md:6:1");
    }

    #[test]
    fn an_unknown_kind_suggests_the_closest() {
        let s = Source::new("ch.md", "```metabook forrest\nanalysis = \"a\"\n```\n");
        let e = parse_chapter(&s).unwrap_err();
        assert!(e[0].hints[0].contains("did you mean `metabook forest`?"), "{:?}", e[0].hints);
        assert_eq!(e[0].position().unwrap(), "ch.md:1:1");
    }

    #[test]
    fn a_revman_block_takes_its_data_caption_and_label_only() {
        let s = Source::new("ch.md", "```metabook revman\ndata = \"revman-results.csv\"\nlabel = \"tbl-revman\"\n```\n");
        let d = parse_chapter(&s).unwrap();
        let Body::Revman(r) = &d[0].body else { panic!("{:?}", d[0].body) };
        assert_eq!(r.data.get_ref(), "revman-results.csv");
        assert_eq!(r.label.as_ref().unwrap().get_ref(), "tbl-revman");
        let s = Source::new("ch.md", "```metabook revman\ndata = \"r.csv\"\nanalysis = \"a1_1\"\n```\n");
        let e = parse_chapter(&s).unwrap_err();
        assert!(e[0].message.contains("unknown field `analysis`"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "ch.md:3:1");
    }

    #[test]
    fn a_missing_key_points_at_the_block() {
        let s = Source::new("ch.md", "\n```metabook analysis\nname = \"a\"\n```\n");
        let e = parse_chapter(&s).unwrap_err();
        assert!(e[0].message.contains("missing field `data`"), "{}", e[0].message);
        assert!(e[0].position().unwrap().starts_with("ch.md:"));
    }
}
