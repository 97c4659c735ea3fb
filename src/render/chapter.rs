//! One chapter, ready for any output: its prose templated (inline values filled in) with a
//! placeholder where each directive stood, and each directive turned into a [`View`] — the
//! numbers, rows and figure it shows — computed once and drawn by each renderer (HTML, Typst).
//!
//! Placeholders follow zola's shortcodes: an HTML comment on its own line survives Markdown
//! parsing as a raw HTML block, where a renderer swaps in the directive's output.
//!
//! A view is kept in the build cache under its directive's text, its figure or table number
//! and the analyses it shows, with the data files it read; the prose is templated anew every
//! build (it is cheap, and any inline value may have moved). Captions are inline Markdown, and
//! their citations are numbered where their directive stands.

use super::cite::{self, Found, Inline};
use super::template::{self, Spliced};
use super::{forest, funnel, json, prisma, prose, revman, sensitivity};
use crate::diag::{Diagnostic, Source};
use crate::directive::{Body, Directive, TableDirective};
use crate::cache::Cache;
use crate::engine::{Analyses, AnalysisResult};
use crate::format;
use std::sync::Arc;

/// Numbers figures and tables across the book, in reading order, and collects the warnings
/// met on the way.
#[derive(Debug, Default)]
pub struct Counters {
    pub figures: usize,
    pub tables: usize,
    pub warnings: Vec<Diagnostic>,
    /// The directives whose views were computed in this run, described ("forest plot of
    /// `gait` (report/results.md:12)").
    pub executed: Vec<String>,
    /// How many views came from the cache.
    pub reused: usize,
    /// Bytes of templated Markdown of the chapters so far.
    pub text: usize,
    /// The analyses compared with RevMan's stored results (`metabook revman`), for the build's
    /// closing lines.
    pub reproductions: Vec<crate::review::revman::Reproduction>,
}


/// What a directive shows, independent of the output format.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum View {
    /// `analysis` shows nothing where it stands.
    Nothing,
    /// `notes` are short paragraphs shown under the caption (e.g. a funnel plot's tests).
    /// A figure: its SVG, and for a tall one the parts a paged output sets across pages.
    Figure { number: usize, svg: String, parts: Option<super::svg::Parts>, caption: String, notes: Vec<String>, label: Option<String> },
    Results { effect: String, method: String, k: usize, lines: Vec<String> },
    Table { number: usize, caption: String, headings: Vec<String>, rows: Vec<Vec<String>>, notes: Vec<String>, label: Option<String> },
    /// The list of references, filled in by [`cite::resolve`] once the whole book is read.
    References { entries: Vec<cite::Entry> },
}

/// A chapter's templated Markdown (with placeholders for directives and markers for
/// citations and cross-references) and what stands in their place.
#[derive(Debug, Clone, Default)]
pub struct PreparedChapter {
    pub markdown: String,
    pub views: Vec<View>,
    /// The citations and cross-references, in order, as found.
    pub refs: Vec<Found>,
    /// The same, resolved by [`cite::resolve`] (None before).
    pub inlines: Vec<Option<Inline>>,
    /// The chapter's local images: the address as written → where the outputs keep it
    /// (`images/…`). Remote images are not listed.
    pub images: std::collections::BTreeMap<String, String>,
    /// The author's chapter, to report a problem an output finds where it stands.
    pub source: Option<Arc<Source>>,
}

impl PreparedChapter {
    /// Where `offset` of the templated Markdown stands in the author's chapter: its line where
    /// the templating kept the lines (a loop or a multi-line value can change them), else the
    /// chapter's first line.
    pub fn locate(&self, offset: usize) -> Option<(Arc<Source>, std::ops::Range<usize>)> {
        let source = self.source.as_ref()?;
        let line = self.markdown.get(..offset)?.matches('\n').count();
        let same_lines = self.markdown.matches('\n').count() == source.text.matches('\n').count();
        let line = if same_lines { line } else { 0 };
        let start: usize = source.text.split_inclusive('\n').take(line).map(str::len).sum();
        let end = source.text[start..].find('\n').map_or(source.text.len(), |i| start + i);
        Some((Arc::clone(source), start..end))
    }
}

/// A table cell as both outputs show it, and whether it is a number (right-aligned): numbers,
/// percentages and effects with intervals, written in ASCII but for the minus sign. A number
/// typed in a data file with a hyphen gets the true minus sign, as computed numbers do. Any
/// other cell (`10–20%`, `1.00 [0.00, ∞]`) is text, shown as typed.
pub fn table_cell(cell: &str) -> (String, bool) {
    let plain = cell.replace('\u{2212}', "-");
    if !plain.is_ascii() {
        return (cell.to_string(), false);
    }
    let starts_numeric = plain.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '.');
    // A bound such as "< 0.001" (a P value) is a number too.
    let bound = ["< ", "> "].iter().any(|b| plain.strip_prefix(b).is_some_and(|n| n.parse::<f64>().is_ok()));
    let numeric = bound || plain.parse::<f64>().is_ok() || (starts_numeric && (plain.ends_with('%') || plain.ends_with(']')));
    if !numeric {
        return (cell.to_string(), false);
    }
    // Every sign, also inside an interval: "-0.21 [-0.73, 0.32]".
    let mut shown = String::with_capacity(plain.len() + 4);
    let mut previous = ' ';
    for (i, c) in plain.char_indices() {
        let next_is_digit = plain[i + c.len_utf8()..].starts_with(|d: char| d.is_ascii_digit() || d == '.');
        shown.push(if c == '-' && next_is_digit && matches!(previous, ' ' | '[' | '(' | ',') { '\u{2212}' } else { c });
        previous = c;
    }
    (shown, true)
}

/// The Markdown every renderer reads: tables, footnotes, strikethrough, heading attributes,
/// math, and typographic quotes and dashes ("…", –, —). One definition, so the HTML, the Typst
/// code and the citation finder see the same events.
pub fn markdown_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_MATH | Options::ENABLE_SMART_PUNCTUATION
}

/// Whether a link or image address is safe to put in a page or a PDF: a relative address, a
/// fragment, or one of the schemes http, https, mailto, tel and ftp; an image may also be a
/// `data:image/…` address. Browsers ignore tabs, line breaks and leading controls in a scheme,
/// so they are ignored here too (`java\tscript:` is `javascript:`).
pub fn safe_url(url: &str) -> bool {
    let plain: String = url.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect::<String>().to_ascii_lowercase();
    let scheme_end = plain.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')));
    match scheme_end {
        Some(end) if end > 0 && plain[end..].starts_with(':') && plain.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            matches!(&plain[..end], "http" | "https" | "mailto" | "tel" | "ftp") || plain.starts_with("data:image/") && !plain.starts_with("data:image/svg")
        }
        _ => true,
    }
}

/// The placeholder comment standing for directive `n` of a chapter.
pub fn placeholder(n: usize) -> String {
    format!("<!--metabook-directive-{n}-->")
}

/// The directive number of a placeholder comment, if `html` is one.
pub fn placeholder_number(html: &str) -> Option<usize> {
    html.trim().strip_prefix("<!--metabook-directive-")?.strip_suffix("-->")?.parse().ok()
}

/// Reads a data file a directive names (the caller does the I/O and keeps it inside the data
/// folder).
pub type ReadData<'a> = dyn Fn(&Directive, &toml::Spanned<String>) -> Result<Arc<Source>, Vec<Diagnostic>> + 'a;

/// The analyses as the prose sees them (name → the keys of `metabook pool`'s JSON), made once
/// per book as template values (shared, not copied, by every chapter that reads them), and
/// kept from one build to the next by `watch` and `serve` (the cache's memory, under the
/// analysis' key): they were a third of the time until the site is made.
pub fn prose_values(analyses: &Analyses, cache: &mut Cache) -> Vec<(String, minijinja::Value)> {
    let value = |r: &AnalysisResult| minijinja::Value::from_serialize(json::value(r));
    analyses
        .by_name
        .iter()
        .map(|(n, r)| {
            let v = match analyses.keys.get(n) {
                Some(k) => cache.memo(crate::cache::KeyBuilder::new("prose values").key(*k).finish(), || value(r)),
                None => value(r),
            };
            (n.clone(), v)
        })
        .collect()
}

/// Prepare one chapter. `directives` are the chapter's own, in order; `values` are
/// [`prose_values`].
pub fn prepare(
    source: &Arc<Source>,
    directives: &[&Directive],
    analyses: &Analyses,
    values: &[(String, minijinja::Value)],
    read_data: &ReadData<'_>,
    counters: &mut Counters,
    cache: &mut Cache,
) -> Result<PreparedChapter, Vec<Diagnostic>> {
    // One pass, over the chapter with a placeholder where each directive stood; an error's
    // position is mapped back to the author's text. A placeholder takes as many lines as its
    // directive, so the prose keeps its lines (a typesetting error is then reported on the
    // author's line, [`PreparedChapter::locate`]).
    let placeholders = directives.iter().enumerate().map(|(n, d)| {
        let lines = source.text[d.span.clone()].matches('\n').count().max(1);
        (d.span.clone(), format!("\n{}{}", placeholder(n), "\n".repeat(lines - 1)))
    });
    let spliced = Spliced::new(&source.text, placeholders);
    let markdown = prose::render_chapter(&prose::engine(), source, &spliced, values).map_err(|d| vec![d])?;
    counters.text += markdown.len();
    if counters.text > template::MAX_BOOK {
        return Err(vec![Diagnostic::error(format!("the chapters up to this one would be longer than {} together", template::megabytes(template::MAX_BOOK)))
            .at(source, 0..0, "this chapter")
            .hint("metabook stops there so that a mistake (a loop that writes too much) cannot fill the memory when the PDF is set; a whole review is well under 1 MB")]);
    }
    let mut views = Vec::with_capacity(directives.len());
    let mut problems = Vec::new();
    for d in directives {
        match cached_view(d, analyses, read_data, counters, cache) {
            Ok(v) => views.push(v),
            Err(mut e) => problems.append(&mut e),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let (markdown, refs) = references(&markdown, &mut views, source)?;
    Ok(PreparedChapter { markdown, views, refs, inlines: Vec::new(), images: Default::default(), source: Some(Arc::clone(source)) })
}

/// A caption as one paragraph of inline Markdown: line breaks become spaces, `<` is text (a
/// caption holds no raw HTML: "<by allocation>" stays as typed), and a start that Markdown
/// would read as a block — a heading, quote, list item, rule or code fence — is escaped, so
/// "1. Before" stays text.
pub fn inline_only(caption: &str) -> String {
    let line = caption.split_whitespace().collect::<Vec<_>>().join(" ").replace('<', "\\<");
    let after = |n: usize| line[n..].chars().next();
    let hashes = line.chars().take_while(|c| *c == '#').count();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let rule = line.chars().filter(|c| *c != ' ').count() >= 3 && ['-', '*', '_'].iter().any(|m| line.chars().all(|c| c == *m || c == ' '));
    let block = (1..=6).contains(&hashes) && after(hashes).is_none_or(|c| c == ' ')
        || line.starts_with('>')
        || (line.starts_with(['-', '+', '*']) && after(1).is_none_or(|c| c == ' '))
        || line.starts_with("```")
        || line.starts_with("~~~")
        || rule;
    if block {
        format!("\\{line}")
    } else if (1..=9).contains(&digits) && matches!(after(digits), Some('.' | ')')) && line[digits + 1..].chars().next().is_none_or(|c| c == ' ') {
        format!("{}\\{}", &line[..digits], &line[digits..])
    } else {
        line
    }
}

/// Find the citations and cross-references of a chapter — in its prose and in the captions of
/// its figures and tables — numbered in reading order: a caption's come where its directive
/// stands, so a numeric style numbers them as a reader meets them.
fn references(markdown: &str, views: &mut [View], source: &Arc<Source>) -> Result<(String, Vec<Found>), Vec<Diagnostic>> {
    let mut out = String::with_capacity(markdown.len());
    let mut refs = Vec::new();
    let mut problems = Vec::new();
    let mut rest = markdown;
    let mut take = |part: &str, refs: &mut Vec<Found>| match cite::extract_from(part, source, refs.len()) {
        Ok((text, mut found)) => {
            refs.append(&mut found);
            text
        }
        Err(mut e) => {
            problems.append(&mut e);
            part.to_string()
        }
    };
    for (n, view) in views.iter_mut().enumerate() {
        let mark = placeholder(n);
        let Some(at) = rest.find(&mark) else { continue };
        let end = at + mark.len();
        out.push_str(&take(&rest[..end], &mut refs));
        rest = &rest[end..];
        if let View::Figure { caption, .. } | View::Table { caption, .. } = view {
            *caption = take(&inline_only(caption), &mut refs);
        }
    }
    out.push_str(&take(rest, &mut refs));
    if problems.is_empty() {
        Ok((out, refs))
    } else {
        Err(problems)
    }
}

/// A view as the cache keeps it, with what it read and what it added to the counters.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct CachedView {
    view: View,
    /// The data files it read: the name as the directive gives it, and the hash of the text.
    files: Vec<(String, u128)>,
    figures: usize,
    tables: usize,
    #[serde(with = "crate::diag::shared_sources")]
    warnings: Vec<Diagnostic>,
    /// The hash of the chapter's text when a warning points into the chapter (its position
    /// then depends on more than the directive).
    chapter: Option<u128>,
    /// What a `revman` directive compared.
    reproductions: Vec<crate::review::revman::Reproduction>,
}

/// What a directive shows, from the cache when nothing it reads has changed: its own text,
/// the number of the figure or table it will be, the analysis it names (every analysis for a
/// summary of findings) and the data files it read last time, compared by content.
fn cached_view(d: &Directive, analyses: &Analyses, read_data: &ReadData<'_>, counters: &mut Counters, cache: &mut Cache) -> Result<View, Vec<Diagnostic>> {
    if matches!(d.body, Body::Analysis(_) | Body::Pls(_) | Body::References(_)) {
        return view(d, analyses, read_data, counters);
    }
    let reads = match (&d.body, d.body.analysis()) {
        // A summary of findings reads the analyses its GRADE file names, a RevMan comparison
        // those its results file names: any of them.
        (Body::Sof(_) | Body::Revman(_), _) => analyses.key_of(|_| true),
        (_, Some(name)) => analyses.key_of(|n| n == name.get_ref()),
        (_, None) => analyses.key_of(|_| false),
    };
    let key = cache.key("view").text(d.text()).number(counters.figures as u128).number(counters.tables as u128).key(reads).finish();
    let unchanged = |entry: &CachedView| {
        entry.chapter.is_none_or(|h| h == crate::cache::hash(d.source.text.as_bytes()))
            && entry.files.iter().all(|(name, h)| read_data(d, &toml::Spanned::new(0..0, name.clone())).is_ok_and(|s| crate::cache::hash(s.text.as_bytes()) == *h))
    };
    if let Some(entry) = cache.get::<CachedView>(key).filter(unchanged) {
        counters.figures += entry.figures;
        counters.tables += entry.tables;
        counters.warnings.extend(entry.warnings);
        counters.reproductions.extend(entry.reproductions);
        counters.reused += 1;
        return Ok(entry.view);
    }
    let files = std::cell::RefCell::new(Vec::new());
    let tracing = |d: &Directive, name: &toml::Spanned<String>| {
        let source = read_data(d, name)?;
        files.borrow_mut().push((name.get_ref().clone(), crate::cache::hash(source.text.as_bytes())));
        Ok(source)
    };
    let (figures, tables, warned, compared) = (counters.figures, counters.tables, counters.warnings.len(), counters.reproductions.len());
    let view = view(d, analyses, &tracing, counters)?;
    let warnings = counters.warnings[warned..].to_vec();
    let chapter = warnings.iter().any(|w| w.location.as_ref().is_some_and(|l| l.source.name == d.source.name)).then(|| crate::cache::hash(d.source.text.as_bytes()));
    let reproductions = counters.reproductions[compared..].to_vec();
    let entry = CachedView { view, files: files.into_inner(), figures: counters.figures - figures, tables: counters.tables - tables, warnings, chapter, reproductions };
    cache.put(key, &entry);
    counters.executed.push(d.describe());
    Ok(entry.view)
}

fn analysis<'a>(analyses: &'a Analyses, d: &Directive, name: &toml::Spanned<String>) -> Result<&'a AnalysisResult, Vec<Diagnostic>> {
    analyses.get(name.get_ref()).ok_or_else(|| vec![d.error_at(name.span(), format!("no analysis named `{}`", name.get_ref()), "here")])
}

/// What one directive shows.
fn view(d: &Directive, analyses: &Analyses, read_data: &ReadData<'_>, counters: &mut Counters) -> Result<View, Vec<Diagnostic>> {
    Ok(match &d.body {
        Body::Analysis(_) | Body::Pls(_) => View::Nothing,
        Body::Forest(f) => {
            let result = analysis(analyses, d, &f.analysis)?;
            counters.figures += 1;
            let options = forest::ForestOptions {
                favours: f.favours.as_ref().map(|v| (v.get_ref()[0].clone(), v.get_ref()[1].clone())),
                prediction: f.prediction,
                groups: f.groups.as_ref().map(|v| (v.get_ref()[0].clone(), v.get_ref()[1].clone())),
                totals: match &f.totals {
                    None => forest::Totals::All,
                    Some(t) => t.get_ref().parse().map_err(|e: crate::stats::spec::UnknownName| vec![d.error_at(t.span(), e.to_string(), "here").hint(e.hint())])?,
                },
            };
            let caption = f.caption.clone().unwrap_or_else(|| format!("Forest plot of the analysis “{}”.", f.analysis.get_ref()));
            let label = checked_label(d, &f.label, "fig-")?;
            {
                let (svg, parts) = forest::draw(result, &options);
                View::Figure { number: counters.figures, svg, parts: Some(parts), caption, notes: Vec::new(), label }
            }
        }
        Body::Results(r) => {
            let result = analysis(analyses, d, &r.analysis)?;
            let a = &result.analysis;
            let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
            View::Results {
                effect: match &a.pooled {
                    Some(p) => format::effect_sentence(a.spec.measure.name(), shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper), a.spec.level, 2),
                    None => format!("{}: not estimable", a.spec.measure.name()),
                },
                method: a.spec.revman_label(),
                k: a.k,
                lines: revman::footer_lines(a),
            }
        }
        Body::Table(t) => {
            let (headings, rows) = match (&t.analysis, &t.data) {
                (Some(name), _) => study_table(analysis(analyses, d, name)?),
                (None, Some(name)) => csv_rows(d, t, &crate::data::csv_table(&read_data(d, name)?)?)?,
                (None, None) => {
                    return Err(vec![Diagnostic::error("a table needs `analysis` or `data`")
                        .at(&d.source, d.span.clone(), "this table")
                        .hint("e.g. data = \"characteristics.csv\"")])
                }
            };
            let headings = match &t.headings {
                Some(h) if h.get_ref().len() == headings.len() => h.get_ref().clone(),
                Some(h) => {
                    return Err(vec![d
                        .error_at(h.span(), format!("{} headings for {} columns", h.get_ref().len(), headings.len()), "here")
                        .hint("give one heading per column")])
                }
                None => headings,
            };
            let label = checked_label(d, &t.label, "tbl-")?;
            counters.tables += 1;
            View::Table { number: counters.tables, caption: t.caption.clone().unwrap_or_default(), headings, rows, notes: Vec::new(), label }
        }
        Body::References(_) => View::References { entries: Vec::new() },
        Body::Rob(r) => rob_view(d, r, analyses, read_data, counters)?,
        Body::Sof(sof) => {
            let grade = crate::data::grade::load_grade(&read_data(d, &sof.data)?)?;
            let mut missing = Vec::new();
            for o in &grade.outcomes {
                if let crate::data::grade::EffectFrom::Analysis { name, span, .. } = &o.from {
                    if analyses.get(name).is_none() {
                        let names: Vec<&str> = analyses.by_name.iter().map(|(n, _)| n.as_str()).collect();
                        let close = names.iter().copied().min_by_key(|n| strsim::levenshtein(n, name)).filter(|n| strsim::levenshtein(n, name) <= 3);
                        missing.push(
                            Diagnostic::error(format!("outcome `{}`: no analysis named `{name}`", o.name))
                                .at(&grade.source, span.clone(), "here")
                                .hint(close.map_or_else(|| format!("analyses: {}", names.join(", ")), |c| format!("did you mean `{c}`?"))),
                        );
                    }
                }
            }
            if !missing.is_empty() {
                return Err(missing);
            }
            let label = checked_label(d, &sof.label, "tbl-")?;
            let (headings, rows, notes, warnings) = super::sof::table(&grade, analyses);
            counters.warnings.extend(warnings);
            counters.tables += 1;
            let caption = sof.caption.clone().unwrap_or_else(|| format!("Summary of findings: {} (GRADE).", grade.intervention));
            View::Table { number: counters.tables, caption, headings, rows, notes, label }
        }
        Body::Prisma(p) => {
            let flow = crate::data::prisma::flow(&crate::data::csv_table(&read_data(d, &p.data)?)?)?;
            let label = checked_label(d, &p.label, "fig-")?;
            counters.figures += 1;
            let caption = p.caption.clone().unwrap_or_else(|| "PRISMA 2020 flow diagram of the search and selection of studies.".to_string());
            View::Figure { number: counters.figures, svg: prisma::svg(&flow), parts: None, caption, notes: Vec::new(), label }
        }
        Body::Funnel(f) => {
            let result = analysis(analyses, d, &f.analysis)?;
            let contours = match &f.contours {
                None => Vec::new(),
                Some(c) => {
                    if let Some(bad) = c.get_ref().iter().find(|l| !(**l > 0.0 && **l < 100.0)) {
                        return Err(vec![d
                            .error_at(c.span(), format!("contour level {bad} is not a percentage between 0 and 100"), "here")
                            .hint("e.g. contours = [90, 95, 99]")]);
                    }
                    c.get_ref().clone()
                }
            };
            let label = checked_label(d, &f.label, "fig-")?;
            if let Some(why) = &result.analysis.not_estimable {
                return Err(vec![d
                    .error_at(f.analysis.span(), format!("the analysis `{}` is not estimable ({why}): there is no funnel plot to draw", f.analysis.get_ref()), "here")
                    .hint("remove this funnel block; the forest plot shows the studies as \"Not estimable\"")]);
            }
            counters.figures += 1;
            let options = funnel::FunnelOptions { contours, trimfill: f.trimfill };
            let caption = f.caption.clone().unwrap_or_else(|| {
                format!(
                    "Funnel plot of the analysis “{}”{}.",
                    f.analysis.get_ref(),
                    if options.contours.is_empty() { String::new() } else { ", contour-enhanced".to_string() }
                )
            });
            View::Figure { number: counters.figures, svg: funnel::svg(result, &options), parts: None, caption, notes: funnel::notes(result), label }
        }
        Body::Sensitivity(s) => sensitivity_view(d, s, analyses, counters)?,
        Body::Revman(r) => revman_view(d, r, analyses, read_data, counters)?,
    })
}

/// A `revman` directive: RevMan's stored results compared with the book's analyses, as a
/// table; every number that differs is also a warning at its cell of the results file.
fn revman_view(d: &Directive, r: &crate::directive::RevmanDirective, analyses: &Analyses, read_data: &ReadData<'_>, counters: &mut Counters) -> Result<View, Vec<Diagnostic>> {
    use crate::review::revman;
    let results = crate::data::revman::load_revman(&crate::data::csv_table(&read_data(d, &r.data)?)?)?;
    let check = revman::check(&results, analyses)?;
    let label = checked_label(d, &r.label, "tbl-")?;
    let (headings, rows, notes) = revman::table(&check.reproductions);
    counters.warnings.extend(check.warnings);
    counters.reproductions.extend(check.reproductions);
    counters.tables += 1;
    let caption = r.caption.clone().unwrap_or_else(|| "RevMan versus metabook: every number RevMan 5 stored for the analyses, recomputed.".to_string());
    Ok(View::Table { number: counters.tables, caption, headings, rows, notes, label })
}

/// A `rob` directive: the judgements checked against the tool and against the analysis, drawn
/// as the plot asked for.
fn rob_view(d: &Directive, r: &crate::directive::RobDirective, analyses: &Analyses, read_data: &ReadData<'_>, counters: &mut Counters) -> Result<View, Vec<Diagnostic>> {
    use crate::data::rob;
    let tool = rob::tool(r.tool.get_ref(), r.domains.as_ref().map(|v| v.get_ref().as_slice())).map_err(|why| {
        let span = if why.contains("domains") { r.domains.as_ref().map_or(r.tool.span(), |v| v.span()) } else { r.tool.span() };
        vec![d.error_at(span, why, "here").hint(format!("tools: {}", rob::TOOL_NAMES.join(", ")))]
    })?;
    let table = rob::load_rob(&crate::data::csv_table(&read_data(d, &r.data)?)?, tool)?;
    let plot = r.plot.as_ref().map_or("traffic-light", |p| p.get_ref().as_str());
    let result = match &r.analysis {
        Some(name) => Some(analysis(analyses, d, name)?),
        None => None,
    };
    let mut weights = None;
    if let Some(result) = result {
        // Every study of the analysis needs its judgements; a row for a study the analysis does
        // not have may be deliberate (another outcome) and is only a warning.
        let labels: Vec<&str> = result.table.studies.iter().map(|s| s.label.as_str()).collect();
        let missing: Vec<&str> = labels.iter().copied().filter(|l| !table.rows.iter().any(|row| row.study == *l)).collect();
        if !missing.is_empty() {
            let name = r.analysis.as_ref().map_or(r.data.span(), |a| a.span());
            return Err(vec![d
                .error_at(name, format!("no risk-of-bias judgements for {} of the analysis: {}", if missing.len() == 1 { "a study" } else { "studies" }, missing.join(", ")), "this analysis")
                .hint(format!("add a row for each to {} (with `Not reported` where the judgement is not known)", r.data.get_ref()))]);
        }
        for row in &table.rows {
            if !labels.contains(&row.study.as_str()) {
                counters.warnings.push(
                    Diagnostic::warning(format!("`{}` has risk-of-bias judgements but is not a study of the analysis `{}`", row.study, r.analysis.as_ref().map_or("", |a| a.get_ref().as_str())))
                        .at(&table.source, row.span.clone(), "this row")
                        .hint(format!("studies of the analysis: {}", labels.join(", "))),
                );
            }
        }
        let by_label: std::collections::HashMap<&str, f64> = result.table.studies.iter().zip(result.analysis.studies()).map(|(s, st)| (s.label.as_str(), st.weight.unwrap_or(0.0))).collect();
        weights = Some(table.rows.iter().map(|row| by_label.get(row.study.as_str()).copied().unwrap_or(0.0)).collect::<Vec<f64>>());
    }
    if r.weighted && weights.is_none() {
        return Err(vec![d.error_at(r.data.span(), "a weighted summary plot needs the analysis whose weights it uses", "here").hint("add analysis = \"…\"")]);
    }
    let tool_name = table.tool.name.clone();
    let caption = r.caption.clone();
    match plot {
        "traffic-light" | "summary" => {
            let label = checked_label(d, &r.label, "fig-")?;
            counters.figures += 1;
            let (svg, parts, default_caption) = if plot == "summary" {
                (super::rob::summary(&table, if r.weighted { weights.as_deref() } else { None }), None, format!("Risk of bias ({tool_name}): share of {} at each judgement, by domain.", if r.weighted { "the analysis' weight" } else { "studies" }))
            } else {
                let (svg, parts) = super::rob::traffic_light_parts(&table);
                (svg, Some(parts), format!("Risk of bias ({tool_name}) of each study, by domain."))
            };
            Ok(View::Figure { number: counters.figures, svg, parts, caption: caption.unwrap_or(default_caption), notes: Vec::new(), label })
        }
        "table" => {
            let label = checked_label(d, &r.label, "tbl-")?;
            counters.tables += 1;
            let mut headings = vec!["Study".to_string()];
            headings.extend(table.tool.domains.iter().cloned());
            if table.has_overall {
                headings.push("Overall".to_string());
            }
            let rows = table.rows.iter().map(|row| std::iter::once(row.study.clone()).chain(row.judgements.iter().chain(row.overall.iter()).map(|j| j.name().to_string())).collect()).collect();
            Ok(View::Table { number: counters.tables, caption: caption.unwrap_or_else(|| format!("Risk of bias ({tool_name}).")), headings, rows, notes: Vec::new(), label })
        }
        other => Err(vec![d
            .error_at(r.plot.as_ref().map_or(r.data.span(), |p| p.span()), format!("unknown plot `{other}`"), "here")
            .hint("plot = \"traffic-light\", \"summary\" or \"table\"")]),
    }
}

/// A `sensitivity` directive: a leave-one-out, cumulative or influence analysis as a table, or
/// the first two as a plot.
fn sensitivity_view(d: &Directive, s: &crate::directive::SensitivityDirective, analyses: &Analyses, counters: &mut Counters) -> Result<View, Vec<Diagnostic>> {
    use sensitivity::Kind;
    let result = analysis(analyses, d, &s.analysis)?;
    let wanted = s.kind.get_ref();
    let Some(kind) = Kind::ALL.into_iter().find(|k| k.name() == wanted) else {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.name()).collect();
        let close = names.iter().copied().min_by_key(|n| strsim::levenshtein(n, wanted)).filter(|n| strsim::levenshtein(n, wanted) <= 3);
        return Err(vec![d.error_at(s.kind.span(), format!("unknown sensitivity analysis `{wanted}`"), "here").hint(match close {
            Some(c) => format!("did you mean `{c}`? Kinds: {}", names.join(", ")),
            None => format!("kind = {}", names.iter().map(|n| format!("\"{n}\"")).collect::<Vec<_>>().join(", ")),
        })]);
    };
    if let (Some(by), false) = (&s.by, kind == Kind::Cumulative) {
        return Err(vec![d.error_at(by.span(), format!("`by` orders a cumulative analysis; this one is {}", kind.name()), "here").hint("remove `by`, or write kind = \"cumulative\"")]);
    }
    let plot = s.plot.as_ref().is_some_and(|p| *p.get_ref());
    if let (Some(p), true) = (&s.plot, plot && kind == Kind::Influence) {
        return Err(vec![d.error_at(p.span(), "influence diagnostics are shown as a table", "here").hint("remove `plot`, or plot a leave-one-out or cumulative analysis")]);
    }
    let label = checked_label(d, &s.label, if plot { "fig-" } else { "tbl-" })?;
    let name = s.analysis.get_ref();
    let not_computed = |why: String, counters: &mut Counters| {
        counters.tables += 1;
        View::Table { number: counters.tables, caption: s.caption.clone().unwrap_or_else(|| format!("Sensitivity analysis ({}) of “{name}”.", kind.name())), headings: vec!["Study".to_string()], rows: Vec::new(), notes: vec![why], label: label.clone() }
    };
    if let Some(why) = &result.analysis.not_estimable {
        return Ok(not_computed(format!("Not computed: the analysis is not estimable ({why})."), counters));
    }
    let Some(sens) = &result.sensitivity else {
        return Ok(not_computed(format!("Not computed: the analysis has more than {} studies.", crate::stats::sensitivity::MAX_STUDIES), counters));
    };
    let (rows, by) = match kind {
        Kind::Influence => {
            return Ok(match &sens.influence {
                Some(rows) => {
                    let (headings, rows, notes) = sensitivity::influence_table(result, rows);
                    counters.tables += 1;
                    let caption = s.caption.clone().unwrap_or_else(|| format!("Influence diagnostics of the analysis “{name}”."));
                    View::Table { number: counters.tables, caption, headings, rows, notes, label }
                }
                None => {
                    let why = sens.notes.iter().find(|n| n.contains("nfluence")).cloned().unwrap_or_else(|| format!("Influence diagnostics need at least 2 studies; the analysis has {}.", result.analysis.k));
                    not_computed(format!("Not computed. {why}"), counters)
                }
            });
        }
        Kind::LeaveOneOut => match &sens.leave_one_out {
            Some(rows) => (rows.clone(), None),
            None => return Ok(not_computed(format!("Not computed: leaving one study out needs at least 2 studies; the analysis has {}.", result.analysis.k), counters)),
        },
        Kind::Cumulative => match &s.by {
            None => (sens.cumulative.clone(), None),
            Some(by) => {
                let order = crate::engine::cumulative_order(&result.table, Some(by.get_ref())).map_err(|e| {
                    let mut located = d.error_at(by.span(), e.message.clone(), "here");
                    located.hints = e.hints.clone();
                    vec![located]
                })?;
                let data: Vec<crate::stats::StudyData> = result.table.studies.iter().map(|st| st.data).collect();
                let rows = crate::stats::sensitivity::cumulative(&data, &result.analysis, &order);
                let (column, values) = sensitivity::ordering_column(result, by.get_ref(), &rows);
                (rows, Some((column, values)))
            }
        },
    };
    let series = sensitivity::Series { kind, rows: &rows, by };
    let what = match kind {
        Kind::LeaveOneOut => "Leave-one-out analysis",
        _ => "Cumulative analysis",
    };
    let ordered = series.by.as_ref().map_or(String::new(), |(c, _)| format!(", by {c}"));
    if plot {
        counters.figures += 1;
        let caption = s.caption.clone().unwrap_or_else(|| format!("{what} of “{name}”{ordered}: the pooled estimate of each row; the dashed line marks all studies."));
        let (svg, parts) = sensitivity::draw(result, &series);
        Ok(View::Figure { number: counters.figures, svg, parts: Some(parts), caption, notes: Vec::new(), label })
    } else {
        let (headings, rows, notes) = sensitivity::refit_table(result, &series);
        counters.tables += 1;
        let caption = s.caption.clone().unwrap_or_else(|| format!("{what} of “{name}”{ordered}."));
        Ok(View::Table { number: counters.tables, caption, headings, rows, notes, label })
    }
}

/// A figure's or table's label for cross-references, which must start with `prefix`, as in
/// Quarto, so that `@fig-…` and `@tbl-…` in the prose are never read as citations.
fn checked_label(d: &Directive, label: &Option<toml::Spanned<String>>, prefix: &str) -> Result<Option<String>, Vec<Diagnostic>> {
    let Some(l) = label else { return Ok(None) };
    let name = l.get_ref();
    let rest = name.strip_prefix(prefix).unwrap_or("");
    if rest.is_empty() || !rest.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') || rest.ends_with('-') {
        return Err(vec![d
            .error_at(l.span(), format!("the label `{name}` must start with `{prefix}` and go on with letters, digits, `-` or `_`"), "here")
            .hint(format!("e.g. label = \"{prefix}spasticity\""))]);
    }
    Ok(Some(name.clone()))
}

/// An analysis' studies: label, group data, weight, effect with CI.
fn study_table(result: &AnalysisResult) -> (Vec<String>, Vec<Vec<String>>) {
    let a = &result.analysis;
    let shown = |x: f64| if a.spec.log_scale() { x.exp() } else { x };
    let z = crate::stats::dist::qnorm(1.0 - a.spec.alpha() / 2.0);
    let (group_heads, cells) = revman::group_columns(result);
    let mut headings = vec!["Study".to_string()];
    headings.extend(group_heads);
    headings.push("Weight".to_string());
    headings.push(format!("{} ({}% CI)", a.spec.measure.name(), format::fixed(a.spec.level, 0)));
    let rows = result
        .table
        .studies
        .iter()
        .zip(a.studies())
        .zip(cells)
        .map(|((s, r), c)| {
            let mut row = vec![s.label.clone()];
            row.extend(c);
            row.push(r.weight.map_or(String::new(), format::weight));
            row.push(r.effect.map_or("Not estimable".to_string(), |e| {
                let (lo, hi) = e.ci(z);
                format::effect_ci_brackets(shown(e.yi), shown(lo), shown(hi), 2)
            }));
            row
        })
        .collect();
    (headings, rows)
}

/// The chosen columns of a CSV file.
fn csv_rows(d: &Directive, t: &TableDirective, table: &crate::data::CsvTable) -> Result<(Vec<String>, Vec<Vec<String>>), Vec<Diagnostic>> {
    let columns: Vec<usize> = match &t.columns {
        None => (0..table.header.len()).collect(),
        Some(cols) if cols.get_ref().is_empty() => {
            return Err(vec![d.error_at(cols.span(), "a table needs at least one column", "here").hint("name the columns to show, or leave `columns` out for all of them")]);
        }
        Some(cols) => {
            let mut idx = Vec::new();
            for c in cols.get_ref() {
                match table.column(c) {
                    Some(i) => idx.push(i),
                    None => {
                        let have: Vec<&str> = table.header.iter().map(|h| h.text.as_str()).collect();
                        return Err(vec![d.error_at(cols.span(), format!("no column `{c}` in {}", table.source.name), "here").hint(format!("columns: {}", have.join(", ")))]);
                    }
                }
            }
            idx
        }
    };
    let headings = columns.iter().map(|&i| table.header[i].text.clone()).collect();
    let rows = table.rows.iter().map(|r| columns.iter().map(|&i| r[i].text.clone()).collect()).collect();
    Ok((headings, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_that_cannot_run_code_are_safe() {
        for ok in ["https://example.org/a?b#c", "http://x", "mailto:a@b.org", "tel:+123", "results.html#figure-1", "#top", "images/a.png", "a/b:c", "data:image/png;base64,AAAA"] {
            assert!(safe_url(ok), "{ok}");
        }
        for bad in ["javascript:alert(1)", "JavaScript:x", " java\tscript:x", "\u{1}javascript:x", "vbscript:x", "data:text/html,<script>", "data:image/svg+xml,<svg onload=x>", "file:///etc/passwd"] {
            assert!(!safe_url(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_in_tables_get_the_true_minus_and_are_right_aligned() {
        assert_eq!(table_cell("-13.15"), ("\u{2212}13.15".to_string(), true));
        assert_eq!(table_cell("-0.21 [-0.73, 0.32]"), ("\u{2212}0.21 [\u{2212}0.73, 0.32]".to_string(), true));
        assert_eq!(table_cell("38%"), ("38%".to_string(), true));
        assert_eq!(table_cell("< 0.001"), ("< 0.001".to_string(), true));
        assert_eq!(table_cell("1997-2015"), ("1997-2015".to_string(), false));
        assert_eq!(table_cell("not reported"), ("not reported".to_string(), false));
    }

    #[test]
    fn a_numeric_looking_cell_with_a_multibyte_character_is_text() {
        assert_eq!(table_cell("10–20%"), ("10–20%".to_string(), false));
        assert_eq!(table_cell("1.00 [0.00, ∞]"), ("1.00 [0.00, ∞]".to_string(), false));
        assert_eq!(table_cell("−0.5 [−1.2, 0.2]"), ("\u{2212}0.5 [\u{2212}1.2, 0.2]".to_string(), true));
        assert_eq!(table_cell("-1é"), ("-1é".to_string(), false));
    }

    #[test]
    fn a_caption_is_one_line_of_inline_markdown() {
        assert_eq!(inline_only("Forest plot,\n  *random* effects"), "Forest plot, *random* effects");
        assert_eq!(inline_only("1. Before ITB"), "1\\. Before ITB");
        assert_eq!(inline_only("2005) trials"), "2005\\) trials");
        assert_eq!(inline_only("1.52 is the SMD"), "1.52 is the SMD");
        assert_eq!(inline_only("# of events"), "\\# of events");
        assert_eq!(inline_only("#1 ranked"), "#1 ranked");
        assert_eq!(inline_only("- studies"), "\\- studies");
        assert_eq!(inline_only("*Italic* start"), "*Italic* start");
        assert_eq!(inline_only("> 50% weight"), "\\> 50% weight");
        assert_eq!(inline_only("---"), "\\---");
        assert_eq!(inline_only("```x```"), "\\```x```");
        assert_eq!(inline_only("Trials <by allocation>"), "Trials \\<by allocation>");
    }

    #[test]
    fn caption_references_are_numbered_where_their_directive_stands() {
        let source = Source::new("c.md", "See [@a].\n\nDIRECTIVE\n\nThen [@c].\n");
        let markdown = format!("See [@a].\n\n{}\n\nThen [@c].\n", placeholder(0));
        let mut views = vec![View::Figure { number: 1, svg: String::new(), parts: None, caption: "Data from [@b].".into(), notes: Vec::new(), label: None }];
        let (_, refs) = references(&markdown, &mut views, &source).unwrap();
        let keys: Vec<String> = refs
            .iter()
            .map(|f| match &f.reference {
                cite::Ref::Cite(k) => k.join(","),
                cite::Ref::CrossRef(l) => l.clone(),
            })
            .collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let View::Figure { caption, .. } = &views[0] else { unreachable!() };
        assert_eq!(caption, &format!("Data from {}.", cite::marker(1)));
    }
}
