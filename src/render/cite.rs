//! Citations (`[@key]`, `[@a; @b]`) and cross-references (`@fig-label`, `@tbl-label`) in the
//! prose, and the list of references.
//!
//! Both are resolved for the whole book at once, after every chapter is prepared: a Vancouver
//! number is the order of a work's first citation anywhere in the book, and a cross-reference
//! may point forward to a figure in a later chapter. So preparing a chapter only *finds* them
//! ([`extract`]) and leaves a marker in its Markdown; [`resolve`] then numbers them with
//! hayagriva and a CSL style, and each renderer draws the resolved [`Inline`]s and the list in
//! its own format. Formatted text from the style comes as [`Run`]s (text with italic, bold,
//! super/subscript or a link), never as markup, so a title cannot inject HTML or Typst.

use super::chapter::{PreparedChapter, View};
use crate::diag::{Diagnostic, Source};
use hayagriva::citationberg::{self, FontStyle, FontWeight, IndependentStyle, LocaleCode, VerticalAlign};
use crate::cache::Cache;
use hayagriva::{BibliographyDriver, BibliographyRequest, CitationItem, CitationRequest, ElemChild, ElemChildren, Library};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// A reference as written in the prose.
#[derive(Debug, Clone, PartialEq)]
pub enum Ref {
    /// `[@a; @b]`: the keys in order.
    Cite(Vec<String>),
    /// `@fig-x` or `@tbl-x`.
    CrossRef(String),
}

/// A reference found in a chapter, with where the author wrote it.
#[derive(Debug, Clone)]
pub struct Found {
    pub reference: Ref,
    /// The chapter's source (the Markdown as the author wrote it) and the span in it.
    pub source: Arc<Source>,
    pub span: Range<usize>,
}

/// A reference resolved for output.
#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    /// The citation as the style writes it ("[1,2]"), linked to the first work's entry.
    Citation { runs: Vec<Run>, target: Target },
    /// "Figure 2", linked to the figure.
    CrossRef { text: String, target: Target },
}

/// Where a link goes: a chapter (by index) and an anchor in it (`figure-2`, `table-1`, `ref-3`).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub chapter: usize,
    pub anchor: String,
}

/// A run of formatted text from the citation style.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Run {
    pub text: String,
    pub italic: bool,
    pub bold: bool,
    pub superscript: bool,
    pub subscript: bool,
    pub link: Option<String>,
}

/// One entry of the list of references.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// The entry's number or label as the style writes it ("1."), if the style has one.
    pub label: Option<Vec<Run>>,
    pub runs: Vec<Run>,
    /// `ref-N`, the target of citations.
    pub anchor: String,
}

/// The marker standing for reference `n` of a chapter in its Markdown: two Unicode
/// noncharacters (reserved for a program's internal use, never text) around the number.
pub fn marker(n: usize) -> String {
    format!("\u{FDD0}{n}\u{FDD1}")
}

/// A piece of text: plain, or the marker of a reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piece<'a> {
    Text(&'a str),
    Ref(usize),
}

/// Close a fenced code block the Markdown leaves open at its end (CommonMark closes it at the
/// end of the document), so that what is appended after it — the list of references — is not
/// read as code.
fn close_open_fence(markdown: &mut String) {
    use pulldown_cmark::{CodeBlockKind, Parser, Tag};
    let last_block = Parser::new_ext(markdown, super::chapter::markdown_options()).into_offset_iter().filter_map(|(e, span)| match e {
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(_))) => Some(span),
        _ => None,
    });
    let Some(span) = last_block.last().filter(|s| s.end >= markdown.trim_end().len()) else { return };
    let block = &markdown[span];
    let first = block.trim_start();
    let fence: String = first.chars().take_while(|c| *c == first.chars().next().unwrap_or('`')).collect();
    let closed = block.trim_end().lines().count() > 1 && block.trim_end().lines().last().is_some_and(|l| l.trim().starts_with(&fence) && l.trim().chars().all(|c| c == fence.chars().next().unwrap_or('`')));
    if !closed {
        markdown.push_str(&format!("\n{fence}\n"));
    }
}

/// Join neighbouring text events (pulldown-cmark splits text at `[`, `\\` and the like), so
/// that a marker is never cut in two; each event keeps its span in the Markdown.
pub fn merge_text<'a>(events: impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>) -> Vec<(Event<'a>, std::ops::Range<usize>)> {
    let mut out: Vec<(Event<'a>, std::ops::Range<usize>)> = Vec::new();
    // The text being joined, grown in place: joining by copying would be quadratic in a long
    // paragraph of escapes (a megabyte of `\*` is a million text events).
    let mut joined: Option<(Event<'a>, String, std::ops::Range<usize>)> = None;
    let flush = |joined: &mut Option<(Event<'a>, String, std::ops::Range<usize>)>, out: &mut Vec<_>| {
        if let Some((first, text, span)) = joined.take() {
            out.push((if text.is_empty() { first } else { Event::Text(text.into()) }, span));
        }
    };
    for (e, span) in events {
        match (&mut joined, e) {
            (Some((Event::Text(first), text, joined_span)), Event::Text(t)) => {
                if text.is_empty() {
                    text.push_str(first);
                }
                text.push_str(&t);
                joined_span.end = span.end;
            }
            (_, Event::Text(t)) => {
                flush(&mut joined, &mut out);
                joined = Some((Event::Text(t), String::new(), span));
            }
            (_, e) => {
                flush(&mut joined, &mut out);
                out.push((e, span));
            }
        }
    }
    flush(&mut joined, &mut out);
    out
}

/// Split text at reference markers.
pub fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('\u{FDD0}') {
        let after = &rest[start + '\u{FDD0}'.len_utf8()..];
        let Some(end) = after.find('\u{FDD1}') else { break };
        let Ok(n) = after[..end].parse() else { break };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Ref(n));
        rest = &after[end + '\u{FDD1}'.len_utf8()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn key_char(c: char) -> bool {
    c.is_alphanumeric() || "_:.#$%&+?<>~/-".contains(c)
}

/// A key at the start of `s` (after `@`): its length, trailing punctuation left out.
fn key_len(s: &str) -> usize {
    let mut len = s.char_indices().find(|&(_, c)| !key_char(c)).map_or(s.len(), |(i, _)| i);
    while len > 0 && s[..len].ends_with(|c: char| ".:?-/".contains(c)) {
        len -= 1;
    }
    len
}

fn is_cross_ref(key: &str) -> bool {
    key.starts_with("fig-") || key.starts_with("tbl-")
}

/// Whether the character at byte `at` of `markdown` is backslash-escaped: an odd number of
/// backslashes before it. pulldown-cmark starts a new text event after an escape, so this is
/// read in the whole Markdown, not in one text range (which may begin just after the `\\`).
fn escaped(markdown: &str, at: usize) -> bool {
    markdown.as_bytes()[..at].iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
}

/// Byte ranges of `markdown` that are prose text (not code, math, HTML or link targets),
/// adjacent text events merged.
fn text_ranges(markdown: &str) -> Vec<Range<usize>> {
    let options = super::chapter::markdown_options();
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut in_code = false;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(_)) => in_code = true,
            Event::End(TagEnd::CodeBlock) => in_code = false,
            // A citation may run over a line break: soft breaks join text.
            Event::Text(_) | Event::SoftBreak if !in_code => match ranges.last_mut() {
                Some(last) if last.end == range.start => last.end = range.end,
                _ => ranges.push(range),
            },
            _ => {}
        }
    }
    ranges
}

/// Where `needle` first stands in the author's source at or after `from`, for diagnostics
/// (the Markdown seen here has its inline values filled in, so offsets differ).
fn locate(source: &Source, needle: &str, from: &mut usize) -> Range<usize> {
    match source.text.get(*from..).and_then(|rest| rest.find(needle)) {
        Some(i) => {
            let start = *from + i;
            *from = start + needle.len();
            start..start + needle.len()
        }
        None => match source.text.find(needle) {
            Some(i) => i..i + needle.len(),
            None => 0..0,
        },
    }
}

/// Find the citations and cross-references of a chapter's templated Markdown. Returns the
/// Markdown with a [`marker`] in place of each, and the references in order.
pub fn extract(markdown: &str, source: &Arc<Source>) -> Result<(String, Vec<Found>), Vec<Diagnostic>> {
    extract_from(markdown, source, 0)
}

/// [`extract`] for a part of a chapter whose references are numbered from `first` (the
/// references found before it).
pub fn extract_from(markdown: &str, source: &Arc<Source>, first: usize) -> Result<(String, Vec<Found>), Vec<Diagnostic>> {
    // Noncharacters never belong in text; dropping them keeps markers (here and in the
    // renderers) unambiguous.
    let markdown: String = markdown.chars().filter(|c| !('\u{FDD0}'..='\u{FDEF}').contains(c)).collect();
    let mut found: Vec<(Range<usize>, Found)> = Vec::new();
    let mut problems = Vec::new();
    let mut cursor = 0;
    for range in text_ranges(&markdown) {
        let text = &markdown[range.clone()];
        let mut i = 0;
        while let Some(at) = text[i..].find('@').map(|a| a + i) {
            if escaped(&markdown, range.start + at) {
                // `\@fig-x`: CommonMark's escape, a literal `@`.
                i = at + 1;
                continue;
            }
            let before = text[..at].chars().next_back();
            if before == Some('[') && !escaped(&markdown, range.start + at - 1) {
                // A bracketed citation: `[@a; @b]`.
                let open = at - 1;
                let Some(close) = text[at..].find(']').map(|c| c + at) else {
                    i = at + 1;
                    continue;
                };
                let inner = &text[at..close];
                let written = &text[open..=close];
                let mut keys = Vec::new();
                let mut bad = None;
                for item in inner.split(';') {
                    let item = item.trim();
                    let key = item.strip_prefix('@').unwrap_or("");
                    if key.is_empty() || key_len(key) != key.len() {
                        bad = Some(item.to_string());
                        break;
                    }
                    keys.push(key.to_string());
                }
                let span = locate(source, written, &mut cursor);
                match bad {
                    Some(item) => problems.push(
                        Diagnostic::error(format!("cannot read the citation `{written}`: `{item}` is not `@key`"))
                            .at(source, span, "here")
                            .hint("write citations as [@key] or [@key1; @key2]; locators and prefixes are not supported"),
                    ),
                    None if keys.iter().any(|k| is_cross_ref(k)) => problems.push(
                        Diagnostic::error(format!("cross-reference in brackets: `{written}`"))
                            .at(source, span, "here")
                            .hint(format!("write a cross-reference without brackets: @{}", keys.iter().find(|k| is_cross_ref(k)).map_or("", |k| k.as_str()))),
                    ),
                    None => found.push((range.start + open..range.start + close + 1, Found { reference: Ref::Cite(keys), source: Arc::clone(source), span })),
                }
                i = close + 1;
                continue;
            }
            // A bare `@fig-x` / `@tbl-x`: only after a space, punctuation or the start. The
            // character before is read in the source: a text that starts at `@` (after `*` or
            // a backslash escape) still has one, and `*\@fig-x*` is text.
            let before = markdown[..range.start + at].chars().next_back();
            let starts_word = before.is_none_or(|c| !(c.is_alphanumeric() || c == '\\' || c == '@'));
            let len = key_len(&text[at + 1..]);
            let key = &text[at + 1..at + 1 + len];
            if starts_word && is_cross_ref(key) {
                let span = locate(source, &format!("@{key}"), &mut cursor);
                found.push((range.start + at..range.start + at + 1 + len, Found { reference: Ref::CrossRef(key.to_string()), source: Arc::clone(source), span }));
            }
            i = at + 1 + len;
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = String::with_capacity(markdown.len());
    let mut at = 0;
    let mut refs = Vec::with_capacity(found.len());
    for (n, (range, f)) in found.into_iter().enumerate() {
        out.push_str(&markdown[at..range.start]);
        out.push_str(&marker(first + n));
        at = range.end;
        refs.push(f);
    }
    out.push_str(&markdown[at..]);
    Ok((out, refs))
}

/// A bibliography file read and a citation style chosen.
pub struct Bibliography {
    pub library: Library,
    pub style: IndependentStyle,
    /// What the style is, for the build cache: a built-in style's name or a CSL file's text.
    pub style_id: String,
    pub source: Arc<Source>,
}

/// The references list and every citation, as the style writes them.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Rendered {
    entries: Vec<Entry>,
    /// Each citation's text and the anchor of its first entry in the list.
    citations: Vec<(Vec<Run>, String)>,
}

/// Run the citation processor over every citation of the book, in reading order.
fn render(bib: &Bibliography, citations: &[Vec<&hayagriva::Entry>], language: &str) -> Rendered {
    let locales = locales_for(language);
    let locale = Some(LocaleCode(language.to_string()));
    let mut driver = BibliographyDriver::new();
    for entries in citations {
        let items = entries.iter().map(|e| CitationItem::with_entry(*e)).collect();
        driver.citation(CitationRequest::new(items, &bib.style, locale.clone(), &locales, None));
    }
    let rendered = driver.finish(BibliographyRequest::new(&bib.style, locale.clone(), &locales));
    let items = rendered.bibliography.map(|b| b.items).unwrap_or_default();
    let anchor_of: HashMap<&str, String> = items.iter().enumerate().map(|(i, item)| (item.key.as_str(), format!("ref-{}", i + 1))).collect();
    let entries: Vec<Entry> = items
        .iter()
        .enumerate()
        .map(|(i, item)| Entry { label: item.first_field.as_ref().map(runs_of_child), runs: runs(&item.content), anchor: format!("ref-{}", i + 1) })
        .collect();
    let citations = citations
        .iter()
        .zip(rendered.citations)
        .map(|(entries, r)| (runs(&r.citation), entries.first().and_then(|e| anchor_of.get(e.key())).cloned().unwrap_or_default()))
        .collect();
    Rendered { entries, citations }
}

/// Parse a bibliography file (BibLaTeX/BibTeX, or Hayagriva YAML for `.yaml`/`.yml`).
pub fn parse_library(source: &Arc<Source>) -> Result<Library, Vec<Diagnostic>> {
    if source.name.ends_with(".yaml") || source.name.ends_with(".yml") {
        return hayagriva::io::from_yaml_str(&source.text).map_err(|e| {
            let span = e.location().map_or(0..0, |l| l.index()..l.index());
            vec![Diagnostic::error(format!("cannot read the bibliography: {e}")).at(source, span, "here").hint("see hayagriva's YAML format")]
        });
    }
    check_links(source)?;
    hayagriva::io::from_biblatex_str(&source.text).map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let (span, what) = match e {
                    hayagriva::io::BibLaTeXError::Parse(p) => (p.span.clone(), p.kind.to_string()),
                    hayagriva::io::BibLaTeXError::Type(t) => (t.span.clone(), t.kind.to_string()),
                };
                Diagnostic::error(format!("cannot read the bibliography: {what}"))
                    .at(source, span, "here")
                    .hint("entries are written as @article{key, author = {…}, title = {…}, …}")
            })
            .collect()
    })
}

/// Entries a BibLaTeX entry may take fields from through `crossref` and `xdata`, counting the
/// entries those take from in turn. Real bibliographies stay at two or three (a paper, its
/// proceedings, their series).
const MAX_INHERITED: usize = 100;

/// An entry's `crossref` and `xdata` links, which the biblatex crate follows by recursion
/// (once per path, with a copy of the entry at each step) when it reads the file: a cycle
/// (`a` crossref `b`, `b` crossref `a`) overflows the stack and aborts metabook, and a ladder of
/// entries each naming the next rung twice in `xdata` doubles the work per rung. So the links
/// are read first, with the crate's own parser and without following them, and a cycle or a
/// tree of more than [`MAX_INHERITED`] entries is an error at the entry's field.
fn check_links(source: &Arc<Source>) -> Result<(), Vec<Diagnostic>> {
    // What the crate cannot parse, hayagriva reports (with the crate's error).
    let Ok(mut raw) = biblatex::RawBibliography::parse(&source.text) else { return Ok(()) };
    // The fields renamed so that the crate parses their values as it would (neither is a
    // verbatim field) but does not follow them; their spans kept for the diagnostics.
    let mut fields: HashMap<String, [Option<Range<usize>>; 2]> = HashMap::new();
    for entry in &mut raw.entries {
        let spans = fields.entry(entry.v.key.v.to_string()).or_default();
        for pair in &mut entry.v.fields {
            let (slot, renamed) = match pair.key.v.to_ascii_lowercase().as_str() {
                "crossref" => (0, "metabook-crossref"),
                "xdata" => (1, "metabook-xdata"),
                _ => continue,
            };
            spans[slot] = Some(pair.key.span.start..pair.value.span.end);
            pair.key.v = renamed;
        }
    }
    let Ok(bibliography) = biblatex::Bibliography::from_raw(raw) else { return Ok(()) };
    let entries: Vec<&biblatex::Entry> = bibliography.iter().collect();
    let index: HashMap<&str, usize> = entries.iter().enumerate().map(|(i, e)| (e.key.as_str(), i)).collect();
    // Each entry's parents, as the crate resolves them: `crossref`, then `xdata` in order.
    let parents: Vec<Vec<(usize, usize)>> = entries
        .iter()
        .map(|e| {
            let crossref = e.get_as::<String>("metabook-crossref").ok().into_iter().map(|k| (k, 0));
            let xdata = e.get_as::<Vec<String>>("metabook-xdata").ok().into_iter().flatten().map(|k| (k, 1));
            crossref.chain(xdata).filter_map(|(k, field)| index.get(k.as_str()).map(|&i| (i, field))).collect()
        })
        .collect();
    let field_span = |entry: usize, field: usize| fields.get(&entries[entry].key).and_then(|f| f[field].clone()).unwrap_or(0..0);
    let link_name = ["crossref", "xdata"];
    // Depth-first, without recursion (a chain may be long): 0 unseen, 1 on the path, 2 done.
    let mut state = vec![0u8; entries.len()];
    let mut inherited = vec![0usize; entries.len()];
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    for root in 0..entries.len() {
        if state[root] != 0 {
            continue;
        }
        state[root] = 1;
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some((node, next)) = path.last().copied() {
            if let Some(&(parent, _)) = parents[node].get(next) {
                path.last_mut().expect("a node").1 += 1;
                match state[parent] {
                    0 => {
                        state[parent] = 1;
                        path.push((parent, 0));
                    }
                    1 => {
                        let from = path.iter().position(|(n, _)| *n == parent).expect("on the path");
                        let mut cycle: Vec<usize> = path[from..].iter().map(|(n, _)| *n).collect();
                        // Written from the cycle's first entry in the file, reported once.
                        let first = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map_or(0, |(i, _)| i);
                        cycle.rotate_left(first);
                        if !cycles.contains(&cycle) {
                            cycles.push(cycle);
                        }
                    }
                    _ => {}
                }
            } else {
                inherited[node] = parents[node].iter().fold(0usize, |sum, (p, _)| sum.saturating_add(1).saturating_add(inherited[*p])).min(MAX_INHERITED + 1);
                state[node] = 2;
                path.pop();
            }
        }
    }
    let mut problems = Vec::new();
    for cycle in &cycles {
        let (first, next) = (cycle[0], cycle.get(1).copied().unwrap_or(cycle[0]));
        let field = parents[first].iter().find(|(p, _)| *p == next).map_or(0, |(_, f)| *f);
        let keys: Vec<&str> = cycle.iter().chain(std::iter::once(&first)).map(|&i| entries[i].key.as_str()).collect();
        problems.push(
            Diagnostic::error(format!("the entry `{}` takes its fields from itself: {}", entries[first].key, keys.join(" → ")))
                .at(source, field_span(first, field), format!("this `{}`", link_name[field]))
                .hint("an entry takes fields (`crossref`, `xdata`) only from entries that do not take fields from it; remove one link of the circle"),
        );
    }
    if problems.is_empty() {
        for (entry, links) in parents.iter().enumerate() {
            // The first entry up each chain to cross the limit (those that take from it cross too).
            if inherited[entry] > MAX_INHERITED && links.iter().all(|(p, _)| inherited[*p] <= MAX_INHERITED) {
                let field = links.first().map_or(0, |(_, f)| *f);
                problems.push(
                    Diagnostic::error(format!("the entry `{}` takes fields from more than {MAX_INHERITED} entries through `crossref` and `xdata`", entries[entry].key))
                        .at(source, field_span(entry, field), "here")
                        .hint("metabook reads at most that many, counting the entries those take from in turn (and each time an entry is named again)"),
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The names of the citation styles built in.
pub fn style_names() -> impl Iterator<Item = &'static str> {
    hayagriva::archive::ArchivedStyle::all().iter().flat_map(|s| s.names().iter().copied())
}

/// A built-in style by name. `vancouver` is Elsevier's Vancouver style (numbers in brackets in
/// order of citation, NLM references): hayagriva 0.10.1's own `vancouver`
/// (nlm-citation-sequence) leaves the authors out of the list of references.
pub fn builtin_style(name: &str) -> Option<IndependentStyle> {
    use hayagriva::archive::ArchivedStyle;
    let style = if name == "vancouver" { ArchivedStyle::ElsevierVancouver } else { ArchivedStyle::by_name(name)? };
    match style.get() {
        citationberg::Style::Independent(s) => Some(s),
        citationberg::Style::Dependent(_) => None,
    }
}

/// A style from a CSL file.
pub fn csl_style(source: &Source) -> Result<IndependentStyle, String> {
    IndependentStyle::from_xml(&source.text).map_err(|e| e.to_string())
}

/// The anchor of figure `number`, which cross-references link to.
pub fn figure_anchor(number: usize) -> String {
    format!("figure-{number}")
}

/// The anchor of table `number`, which cross-references link to.
pub fn table_anchor(number: usize) -> String {
    format!("table-{number}")
}

/// Where figures and tables with a label are: label → (text, target).
pub fn labels(chapters: &[PreparedChapter]) -> HashMap<String, (String, Target)> {
    let mut out = HashMap::new();
    for (c, chapter) in chapters.iter().enumerate() {
        for v in &chapter.views {
            let (label, text, anchor) = match v {
                View::Figure { number, label: Some(l), .. } => (l, format!("Figure\u{a0}{number}"), figure_anchor(*number)),
                View::Table { number, label: Some(l), .. } => (l, format!("Table\u{a0}{number}"), table_anchor(*number)),
                _ => continue,
            };
            out.insert(label.clone(), (text, Target { chapter: c, anchor }));
        }
    }
    out
}

fn closest<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    names.map(|n| (strsim::levenshtein(n, wanted), n)).filter(|(d, _)| *d <= 3).min().map(|(_, n)| n)
}

/// Resolve every chapter's references: number the citations with the style, fill in the list
/// of references (where a `references` directive stands, or at the end of the last chapter),
/// and turn cross-references into "Figure 2" with their target.
pub fn resolve(chapters: &mut [PreparedChapter], bibliography: Option<&Bibliography>, language: &str, cache: &mut Cache) -> Result<(), Vec<Diagnostic>> {
    let labels = labels(chapters);
    let mut problems = Vec::new();
    // Every citation in reading order, with its chapter and its number in the chapter.
    let mut citations: Vec<(usize, usize, Vec<&hayagriva::Entry>)> = Vec::new();
    let mut inlines: Vec<Vec<Option<Inline>>> = chapters.iter().map(|c| vec![None; c.refs.len()]).collect();
    for (c, chapter) in chapters.iter().enumerate() {
        for (n, f) in chapter.refs.iter().enumerate() {
            let source = &f.source;
            match &f.reference {
                Ref::CrossRef(label) => match labels.get(label) {
                    Some((text, target)) => inlines[c][n] = Some(Inline::CrossRef { text: text.clone(), target: target.clone() }),
                    None => {
                        let mut d = Diagnostic::error(format!("no figure or table labelled `{label}`")).at(source, f.span.clone(), "referenced here");
                        d = match closest(label, labels.keys().map(String::as_str)) {
                            Some(l) => d.hint(format!("did you mean `@{l}`?")),
                            None => d.hint("give the figure or table `label = \"fig-…\"` (or \"tbl-…\") in its metabook block"),
                        };
                        problems.push(d);
                    }
                },
                Ref::Cite(keys) => {
                    let Some(bib) = bibliography else {
                        problems.push(
                            Diagnostic::error("a citation, but the book has no bibliography")
                                .at(source, f.span.clone(), "cited here")
                                .hint("add to book.toml: [bibliography] file = \"references.bib\" (a file in the data folder)"),
                        );
                        continue;
                    };
                    let mut entries = Vec::new();
                    for k in keys {
                        match bib.library.get(k) {
                            Some(e) => entries.push(e),
                            None => {
                                let mut d = Diagnostic::error(format!("no entry `{k}` in {}", bib.source.name)).at(source, f.span.clone(), "cited here");
                                if let Some(close) = closest(k, bib.library.iter().map(|e| e.key())) {
                                    d = d.hint(format!("did you mean `@{close}`?"));
                                } else {
                                    d = d.hint(format!("add an entry with the key `{k}` to {}", bib.source.name));
                                }
                                problems.push(d);
                            }
                        }
                    }
                    citations.push((c, n, entries));
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(bib) = bibliography else {
        for (chapter, i) in chapters.iter_mut().zip(inlines) {
            chapter.inlines = i;
        }
        return Ok(());
    };
    // The processor's output follows from the bibliography, the style, the language and the
    // keys cited, in order: the cache keeps it under those.
    let mut key = cache.key("citations").text(&bib.source.text).text(&bib.style_id).text(language);
    for (_, _, entries) in &citations {
        key = key.number(entries.len() as u128);
        for e in entries {
            key = key.text(e.key());
        }
    }
    let key = key.finish();
    let Rendered { entries, citations: rendered } = match cache.get::<Rendered>(key) {
        Some(hit) => hit,
        None => {
            let cited: Vec<Vec<&hayagriva::Entry>> = citations.iter().map(|(_, _, e)| e.clone()).collect();
            let fresh = render(bib, &cited, language);
            cache.put(key, &fresh);
            fresh
        }
    };
    // The list goes where a `references` directive stands, or closes the last chapter.
    let mut list_chapter = None;
    for (c, chapter) in chapters.iter_mut().enumerate() {
        for v in chapter.views.iter_mut() {
            if let View::References { entries: e } = v {
                *e = entries.clone();
                list_chapter.get_or_insert(c);
            }
        }
    }
    if list_chapter.is_none() && !citations.is_empty() {
        let last = chapters.len() - 1;
        let chapter = &mut chapters[last];
        close_open_fence(&mut chapter.markdown);
        chapter.markdown.push_str(&format!("\n\n## References\n\n{}\n", super::chapter::placeholder(chapter.views.len())));
        chapter.views.push(View::References { entries: entries.clone() });
        list_chapter = Some(last);
    }
    let list_chapter = list_chapter.unwrap_or(0);
    for ((c, n, _), (runs, anchor)) in citations.iter().zip(rendered) {
        inlines[*c][*n] = Some(Inline::Citation { runs, target: Target { chapter: list_chapter, anchor } });
    }
    for (chapter, i) in chapters.iter_mut().zip(inlines) {
        chapter.inlines = i;
    }
    Ok(())
}

/// The CSL locales (terms such as "et al.", "editors") for `language`, and en-US, the fallback
/// CSL prescribes. hayagriva's `archive::locales()` decodes all 63 it ships, which took 68 ms
/// of a 160 ms build (bench/book.sh); a locale file names its language near its start as a
/// CBOR text string (`xx-YY`), so only the candidates are decoded.
fn locales_for(language: &str) -> Vec<citationberg::Locale> {
    let base = language.split(['-', '_']).next().unwrap_or("en").to_ascii_lowercase();
    let wanted = |code: &str| code == "en-US" || code.split('-').next().is_some_and(|b| b.eq_ignore_ascii_case(&base));
    // A five-character CBOR text string is the byte 0x65 followed by its UTF-8 bytes: look for
    // "en-US" and for the start of "xx-YY" with the book's language.
    let tag = |code: &str| [&[0x65u8][..], code.as_bytes()].concat();
    let candidates = [tag("en-US"), tag(&format!("{base}-"))];
    hayagriva::archive::LOCALES
        .iter()
        .filter(|bytes| candidates.iter().any(|c| bytes.windows(c.len()).any(|w| w == c.as_slice())))
        .filter_map(|bytes| ciborium::de::from_reader::<citationberg::Locale, _>(*bytes).ok())
        .filter(|l| l.lang.as_ref().is_some_and(|code| wanted(&code.0)))
        .collect()
}

/// The runs of formatted text of a rendered element tree.
fn runs(children: &ElemChildren) -> Vec<Run> {
    let mut out = Vec::new();
    for child in &children.0 {
        push_runs(child, &mut out);
    }
    merge(out)
}

fn runs_of_child(child: &ElemChild) -> Vec<Run> {
    let mut out = Vec::new();
    push_runs(child, &mut out);
    merge(out)
}

fn push_runs(child: &ElemChild, out: &mut Vec<Run>) {
    let formatted = |f: &hayagriva::Formatted, link: Option<String>| Run {
        text: f.text.clone(),
        italic: f.formatting.font_style == FontStyle::Italic,
        bold: f.formatting.font_weight == FontWeight::Bold,
        superscript: f.formatting.vertical_align == VerticalAlign::Sup,
        subscript: f.formatting.vertical_align == VerticalAlign::Sub,
        link,
    };
    match child {
        ElemChild::Text(f) => out.push(formatted(f, None)),
        ElemChild::Elem(e) => e.children.0.iter().for_each(|c| push_runs(c, out)),
        ElemChild::Markup(m) => out.push(Run { text: m.clone(), ..Run::default() }),
        ElemChild::Link { text, url } => out.push(formatted(text, Some(url.clone()))),
        ElemChild::Transparent { .. } => {}
    }
}

/// Join neighbouring runs with the same formatting, and drop a full stop that the style puts
/// after a title ending in `?` or `!` ("What is spasticity?." → "What is spasticity?"), as
/// CSL processors such as citeproc-js do (hayagriva 0.10 does not).
fn merge(runs: Vec<Run>) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::with_capacity(runs.len());
    for mut r in runs {
        if r.link.is_none() {
            r.text = r.text.replace("?.", "?").replace("!.", "!");
            let ends_sentence = out.last().is_some_and(|l: &Run| l.link.is_none() && l.text.ends_with(['?', '!']));
            if ends_sentence && r.text.starts_with('.') {
                r.text.remove(0);
            }
        }
        match out.last_mut() {
            Some(last) if Run { text: String::new(), ..last.clone() } == Run { text: String::new(), ..r.clone() } => last.text.push_str(&r.text),
            _ if r.text.is_empty() => {}
            _ => out.push(r),
        }
    }
    out
}

/// The runs as plain text.
pub fn plain(runs: &[Run]) -> String {
    runs.iter().map(|r| r.text.as_str()).collect()
}

#[cfg(test)]
mod fence_tests {
    use super::close_open_fence;

    #[test]
    fn a_code_block_left_open_at_the_end_is_closed_before_the_references() {
        for (md, closed) in [("# R\n\n```\ncode\n", "# R\n\n```\ncode\n\n```\n"), ("x\n~~~~ r\na\n", "x\n~~~~ r\na\n\n~~~~\n"), ("```\na\n```\n", "```\na\n```\n"), ("text\n", "text\n"), ("```\n", "```\n\n```\n")] {
            let mut m = md.to_string();
            close_open_fence(&mut m);
            assert_eq!(m, closed, "{md:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract_str(md: &str) -> Result<(String, Vec<Found>), Vec<Diagnostic>> {
        extract(md, &Source::new("ch.md", md))
    }

    #[test]
    fn citations_and_cross_references_are_found_outside_code() {
        let (md, refs) = extract_str("Spasticity [@lance1990] rises [@a;\n@b].\nSee @fig-forest, and `[@not]` or\n\n```\n[@code]\n```\nmail a@fig-x.org\n").unwrap();
        let found: Vec<Ref> = refs.iter().map(|f| f.reference.clone()).collect();
        assert_eq!(
            found,
            [Ref::Cite(vec!["lance1990".into()]), Ref::Cite(vec!["a".into(), "b".into()]), Ref::CrossRef("fig-forest".into())]
        );
        assert!(md.starts_with(&format!("Spasticity {} rises {}.\nSee {}, and `[@not]`", marker(0), marker(1), marker(2))), "{md}");
        assert!(md.contains("[@code]") && md.contains("a@fig-x.org"));
        // Spans point at what the author wrote.
        assert_eq!(refs[2].span, 44..55);
        assert_eq!(&"Spasticity [@lance1990] rises [@a; @b].\nSee @fig-forest"[44..55], "@fig-forest");
    }

    #[test]
    fn an_escaped_at_or_bracket_is_text_not_a_reference() {
        let text = "See \\@fig-a, mail\\@fig-b.org, [\\@key], \\[@key], \\@tbl-c and \\[@fig-d].\n";
        let (md, refs) = extract_str(text).unwrap();
        let found: Vec<Ref> = refs.iter().map(|f| f.reference.clone()).collect();
        // Only the bare cross-reference inside escaped brackets is one.
        assert_eq!(found, [Ref::CrossRef("fig-d".into())]);
        assert_eq!(md, text.replace("@fig-d", &marker(0)));
        // An escaped backslash (`\\\\`) escapes nothing after it: `[@key]` is a citation.
        let (_, refs) = extract_str("A \\\\@fig-a and \\\\[@key].\n").unwrap();
        assert_eq!(refs.len(), 1, "{refs:?}");
        assert_eq!(refs[0].reference, Ref::Cite(vec!["key".into()]));
    }

    #[test]
    fn an_escaped_at_sign_is_text_also_at_the_start_of_emphasis() {
        for md in ["*\\@fig-a1\\_1x* here\n", "_\\@fig-a_ b\n", "**\\@tbl-x**\n"] {
            let (_, refs) = extract_str(md).unwrap();
            assert!(refs.is_empty(), "{md:?}: {:?}", refs.iter().map(|f| f.reference.clone()).collect::<Vec<_>>());
        }
        let (_, refs) = extract_str("*@fig-a* and (@tbl-b)\n").unwrap();
        assert_eq!(refs.len(), 2, "unescaped cross-references are still found");
    }

    #[test]
    fn markers_split_text_back() {
        let t = format!("a{}b{}", marker(0), marker(12));
        assert_eq!(pieces(&t), [Piece::Text("a"), Piece::Ref(0), Piece::Text("b"), Piece::Ref(12)]);
        assert_eq!(pieces("plain"), [Piece::Text("plain")]);
    }

    #[test]
    fn malformed_citations_are_located() {
        let e = extract_str("Intro.\n\nAs shown [@a, p. 5].\n").unwrap_err();
        assert_eq!(e[0].position().unwrap(), "ch.md:3:10");
        let e = extract_str("See [@fig-a].\n").unwrap_err();
        assert!(e[0].hints[0].contains("@fig-a"), "{:?}", e[0].hints);
    }

    #[test]
    fn vancouver_numbers_in_order_of_first_citation() {
        let bib = Source::new(
            "refs.bib",
            "@article{b, author={Bee, A.}, title={Second?}, journal={J}, year={2001}, volume={2}, pages={3--4}}\n@article{a, author={Ay, B.}, title={First <i>}, journal={J}, year={2000}}\n",
        );
        let library = parse_library(&bib).unwrap();
        let bibliography = Bibliography { library, style: builtin_style("vancouver").unwrap(), style_id: "vancouver".into(), source: bib };
        let md = "Cited [@b] then [@a; @b].\n";
        let source = Source::new("ch.md", md);
        let (markdown, refs) = extract(md, &source).unwrap();
        let mut chapters = vec![PreparedChapter { markdown, refs, ..Default::default() }];
        resolve(&mut chapters, Some(&bibliography), "en-US", &mut Cache::disabled()).unwrap();
        let texts: Vec<String> = chapters[0].inlines.iter().map(|i| match i.as_ref().unwrap() {
            Inline::Citation { runs, .. } => plain(runs),
            other => panic!("{other:?}"),
        }).collect();
        assert_eq!(texts, ["[1]", "[1,2]"]);
        let View::References { entries } = &chapters[0].views[0] else { panic!() };
        assert_eq!(plain(&entries[0].runs), "Bee A. Second? J 2001;2:3–4.");
        assert_eq!(plain(&entries[1].runs), "Ay B. First <i>. J 2000.");
    }

    #[test]
    fn only_the_locales_of_the_language_are_decoded() {
        let codes = |language: &str| -> Vec<String> { locales_for(language).into_iter().filter_map(|l| l.lang.map(|c| c.0)).collect() };
        assert_eq!(codes("en"), ["en-GB", "en-US"]);
        let de = codes("de-DE");
        assert!(de.contains(&"de-DE".to_string()) && de.contains(&"en-US".to_string()) && !de.iter().any(|c| c.starts_with("fr")), "{de:?}");
        // The same locales as the whole archive holds for those languages.
        let all: Vec<String> = hayagriva::archive::locales().into_iter().filter_map(|l| l.lang.map(|c| c.0)).filter(|c| c.starts_with("de-") || c == "en-US").collect();
        let mut de_sorted = de.clone();
        de_sorted.sort();
        let mut all_sorted = all;
        all_sorted.sort();
        assert_eq!(de_sorted, all_sorted);
    }

    #[test]
    fn a_broken_bibliography_is_located() {
        let bib = Source::new("refs.bib", "@article{a, author={A, B.}, title={T}, year={2000}}\n@article{b, title={Unclosed, year={2001}}\n");
        let e = parse_library(&bib).unwrap_err();
        assert!(e[0].position().unwrap().starts_with("refs.bib:"), "{:?}", e[0]);
        assert!(e[0].message.starts_with("cannot read the bibliography: "), "{}", e[0].message);
        let yaml = Source::new("refs.yaml", "a:\n  type: article\n  title: [unclosed\n");
        assert!(parse_library(&yaml).unwrap_err()[0].position().unwrap().starts_with("refs.yaml:"));
    }

    #[test]
    fn crossref_and_xdata_cycles_are_errors_at_the_entry_not_a_stack_overflow() {
        let bib = Source::new("refs.bib", "@inproceedings{a, title={A}, year={2000},\n  crossref={b}}\n@proceedings{b, title={B}, year={2000}, crossref = {a}}\n");
        let e = parse_library(&bib).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].position().unwrap(), "refs.bib:2:3");
        assert_eq!(e[0].message, "the entry `a` takes its fields from itself: a → b → a");
        assert!(e[0].hints[0].contains("remove one link"), "{:?}", e[0].hints);
        // Through `xdata`, and an entry naming itself.
        let bib = Source::new("refs.bib", "@xdata{x, publisher={P}, xdata={y}}\n@xdata{y, xdata={z, x}}\n@xdata{z, note={N}}\n@book{s, title={T}, crossref={s}}\n");
        let e = parse_library(&bib).unwrap_err();
        let messages: Vec<&str> = e.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["the entry `x` takes its fields from itself: x → y → x", "the entry `s` takes its fields from itself: s → s"]);
        assert_eq!(e[0].position().unwrap(), "refs.bib:1:26");
        assert_eq!(e[1].position().unwrap(), "refs.bib:4:21");
        // Links to entries that are not in the file are left to the crate, which ignores them.
        let bib = Source::new("refs.bib", "@inproceedings{a, title={A}, year={2000}, crossref={missing}}\n@proceedings{p, title={P}, year={2000}}\n@inproceedings{c, title={C}, crossref={p}}\n");
        assert!(parse_library(&bib).is_ok());
    }

    #[test]
    fn a_ladder_of_xdata_links_is_an_error_before_the_work_doubles_at_each_rung() {
        let mut text = String::from("@xdata{r0, note={N}}\n");
        for i in 1..40 {
            text.push_str(&format!("@xdata{{r{i}, xdata={{r{0}, r{0}}}}}\n", i - 1));
        }
        let e = parse_library(&Source::new("refs.bib", text)).unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].message, "the entry `r6` takes fields from more than 100 entries through `crossref` and `xdata`");
        assert_eq!(e[0].position().unwrap(), "refs.bib:7:12");
        // A long chain of crossrefs, too: the check itself does not recurse.
        let mut text = String::from("@book{c0, title={T}}\n");
        for i in 1..100_000 {
            text.push_str(&format!("@book{{c{i}, crossref={{c{}}}}}\n", i - 1));
        }
        let e = parse_library(&Source::new("refs.bib", text)).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.starts_with("the entry `c101` takes fields from more than 100"), "{}", e[0].message);
    }

    #[test]
    fn unknown_keys_and_labels_are_errors_with_suggestions() {
        let bib = Source::new("refs.bib", "@article{lance1990, author={Lance, J.}, title={T}, journal={J}, year={1990}}\n");
        let bibliography = Bibliography { library: parse_library(&bib).unwrap(), style: builtin_style("vancouver").unwrap(), style_id: "vancouver".into(), source: bib };
        let md = "A [@lance1909] and @fig-forst.\n";
        let source = Source::new("ch.md", md);
        let (markdown, refs) = extract(md, &source).unwrap();
        let mut chapters = vec![PreparedChapter {
            markdown,
            views: vec![View::Figure { number: 1, svg: String::new(), parts: None, caption: String::new(), notes: Vec::new(), label: Some("fig-forest".into()) }],
            refs,
            ..Default::default()
        }];
        let e = resolve(&mut chapters, Some(&bibliography), "en-US", &mut Cache::disabled()).unwrap_err();
        assert_eq!(e[0].position().unwrap(), "ch.md:1:3");
        assert!(e[0].hints[0].contains("@lance1990"));
        assert_eq!(e[1].position().unwrap(), "ch.md:1:20");
        assert!(e[1].hints[0].contains("@fig-forest"));
    }
}
