//! Diagnostics: what metabook tells a user about a mistake in their review or data.
//!
//! A diagnostic carries a message in the user's words, the place it refers to (a file and a
//! byte span, from which line and column follow) and hints. Problems are collected, not thrown:
//! a loader reports every bad cell of a CSV at once, the way rustc reports every error in a
//! crate, and the command prints them together and exits non-zero. Rendering (with the source
//! line and a caret under the offending text) is done by codespan-reporting.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor};
use std::ops::Range;
use std::sync::Arc;

/// A text file as read, kept so that diagnostics can show the offending line.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// The path as the user should see it.
    pub name: String,
    pub text: String,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Arc<Source> {
        Arc::new(Source { name: name.into(), text: text.into() })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = before.matches('\n').count() + 1;
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Severity {
    Error,
    Warning,
}

/// Where a diagnostic points.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub source: Arc<Source>,
    pub span: Range<usize>,
    /// A short note shown under the span, e.g. "column `sd1`".
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    pub location: Option<Location>,
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, message: message.into(), location: None, hints: Vec::new() }
    }

    pub fn warning(message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, message: message.into(), location: None, hints: Vec::new() }
    }

    /// Point the diagnostic at `span` of `source`.
    pub fn at(mut self, source: &Arc<Source>, span: Range<usize>, label: impl Into<String>) -> Diagnostic {
        self.location = Some(Location { source: Arc::clone(source), span, label: label.into() });
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hints.push(hint.into());
        self
    }

    /// `file:line:column` of the diagnostic, if it has a location.
    pub fn position(&self) -> Option<String> {
        self.location.as_ref().map(|l| {
            let (line, col) = l.source.line_col(l.span.start);
            format!("{}:{line}:{col}", l.source.name)
        })
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Serde for a list of diagnostics that stores each source file once. A diagnostic carries its
/// file's whole text (to show the line later); a directive with a thousand warnings into one
/// file, cached as they are, would store that file a thousand times. For
/// `#[serde(with = "crate::diag::shared_sources")]`.
pub mod shared_sources {
    use super::{Diagnostic, Location, Severity, Source};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::ops::Range;
    use std::sync::Arc;

    #[derive(Serialize, Deserialize)]
    struct Stored {
        sources: Vec<Arc<Source>>,
        items: Vec<Item>,
    }

    #[derive(Serialize, Deserialize)]
    struct Item {
        severity: Severity,
        message: String,
        /// The index of the source, the span and the label.
        at: Option<(usize, Range<usize>, String)>,
        hints: Vec<String>,
    }

    pub fn serialize<S: Serializer>(diagnostics: &[Diagnostic], serializer: S) -> Result<S::Ok, S::Error> {
        let mut sources: Vec<Arc<Source>> = Vec::new();
        let items = diagnostics
            .iter()
            .map(|d| Item {
                severity: d.severity,
                message: d.message.clone(),
                at: d.location.as_ref().map(|l| {
                    let i = sources.iter().position(|s| Arc::ptr_eq(s, &l.source) || **s == *l.source).unwrap_or_else(|| {
                        sources.push(Arc::clone(&l.source));
                        sources.len() - 1
                    });
                    (i, l.span.clone(), l.label.clone())
                }),
                hints: d.hints.clone(),
            })
            .collect();
        Stored { sources, items }.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Diagnostic>, D::Error> {
        let stored = Stored::deserialize(deserializer)?;
        stored
            .items
            .into_iter()
            .map(|i| {
                let location = match i.at {
                    Some((n, span, label)) => {
                        let source = stored.sources.get(n).ok_or_else(|| serde::de::Error::custom("a diagnostic's source is missing"))?;
                        Some(Location { source: Arc::clone(source), span, label })
                    }
                    None => None,
                };
                Ok(Diagnostic { severity: i.severity, message: i.message, location, hints: i.hints })
            })
            .collect()
    }
}

/// Characters of a source line a diagnostic shows; a longer line (a paragraph written on one
/// line, a minified file) is cut to a window around the place, marked with "…".
const SHOWN_LINE: usize = 160;

/// Lines of a span a diagnostic shows; a span over more (a whole chapter) shows its first line.
const SHOWN_LINES: usize = 8;

/// The lines of a source that one diagnostic shows, cut to windows, with the line and column
/// numbers of the whole file: codespan-reporting then prints a few hundred characters, however
/// long the file's lines are.
struct Excerpt {
    name: String,
    text: String,
    /// 0-based index of the excerpt's first line in the file.
    first_line: usize,
    /// Per excerpt line: its start in `text`, and the file's column (0-based, in characters)
    /// of its first character, less one for a leading "…".
    lines: Vec<(usize, usize)>,
}

impl Excerpt {
    /// The excerpt of `source` around `span`, and the span within it.
    fn new(source: &Source, span: Range<usize>) -> (Excerpt, Range<usize>) {
        let text = &source.text;
        let clamp = |i: usize| {
            let mut i = i.min(text.len());
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let (start, mut end) = (clamp(span.start), clamp(span.end.max(span.start)));
        let line_start = |i: usize| text[..i].rfind('\n').map_or(0, |n| n + 1);
        let line_end = |i: usize| text[i..].find('\n').map_or(text.len(), |n| i + n);
        let first = line_start(start);
        if text[first..end].matches('\n').count() >= SHOWN_LINES {
            end = line_end(start);
        }
        let first_line = text[..first].matches('\n').count();
        let last = line_end(end.max(first));
        let mut excerpt = Excerpt { name: source.name.clone(), text: String::new(), first_line, lines: Vec::new() };
        let mut mapped = 0..0;
        let mut at = first;
        loop {
            let stop = line_end(at);
            let line = &text[at..stop];
            // The window: from a little before the span's start on its line, else the start.
            let anchor = if (at..=stop).contains(&start) { text[at..start].chars().count() } else { 0 };
            // A line that fits is shown whole; a longer one from a little before the place,
            // as much as fits.
            let chars = line.chars().count();
            let skip = anchor.saturating_sub(SHOWN_LINE / 4).min(chars.saturating_sub(SHOWN_LINE));
            let from = line.char_indices().nth(skip).map_or(line.len(), |(i, _)| i);
            let to = line[from..].char_indices().nth(SHOWN_LINE).map_or(line.len(), |(i, _)| from + i);
            let base = excerpt.text.len();
            let lead = if from > 0 { "…" } else { "" };
            excerpt.lines.push((base, skip.saturating_sub(usize::from(from > 0))));
            excerpt.text.push_str(lead);
            excerpt.text.push_str(&line[from..to]);
            let window = at + from..at + to;
            let map = |i: usize| base + lead.len() + i.clamp(window.start, window.end) - window.start;
            if (at..=stop).contains(&start) {
                mapped.start = map(start);
            }
            if (at..=stop).contains(&end) {
                mapped.end = map(end).max(mapped.start);
            }
            if to < line.len() {
                excerpt.text.push('…');
            }
            if stop >= last || stop >= text.len() {
                break;
            }
            excerpt.text.push('\n');
            at = stop + 1;
        }
        (excerpt, mapped)
    }
}

impl<'a> codespan_reporting::files::Files<'a> for Excerpt {
    type FileId = ();
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, (): ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(&self.name)
    }

    fn source(&'a self, (): ()) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(&self.text)
    }

    fn line_index(&'a self, (): (), byte_index: usize) -> Result<usize, codespan_reporting::files::Error> {
        Ok(self.lines.partition_point(|(start, _)| *start <= byte_index).saturating_sub(1))
    }

    fn line_number(&'a self, (): (), line_index: usize) -> Result<usize, codespan_reporting::files::Error> {
        Ok(self.first_line + line_index + 1)
    }

    fn column_number(&'a self, (): (), line_index: usize, byte_index: usize) -> Result<usize, codespan_reporting::files::Error> {
        let range = self.line_range((), line_index)?;
        let (_, offset) = self.lines[line_index];
        Ok(offset + codespan_reporting::files::column_index(&self.text, range, byte_index) + 1)
    }

    fn line_range(&'a self, (): (), line_index: usize) -> Result<Range<usize>, codespan_reporting::files::Error> {
        let &(start, _) = self.lines.get(line_index).ok_or(codespan_reporting::files::Error::LineTooLarge { given: line_index, max: self.lines.len() })?;
        let end = self.lines.get(line_index + 1).map_or(self.text.len(), |(next, _)| next - 1);
        Ok(start..end)
    }
}

/// Render diagnostics as rustc does, with the source line and a caret. `color` adds ANSI
/// colours (for a terminal). Only the lines around the place are shown, cut to a window.
pub fn render(diagnostics: &[Diagnostic], color: bool) -> String {
    let mut buffer = if color { termcolor::Buffer::ansi() } else { termcolor::Buffer::no_color() };
    let config = term::Config::default();
    for d in diagnostics {
        let mut out = match d.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        }
        .with_message(&d.message);
        out = out.with_notes(d.hints.iter().map(|h| format!("hint: {h}")).collect());
        let (excerpt, span) = match &d.location {
            Some(loc) => Excerpt::new(&loc.source, loc.span.clone()),
            None => (Excerpt { name: String::new(), text: String::new(), first_line: 0, lines: vec![(0, 0)] }, 0..0),
        };
        if let Some(loc) = &d.location {
            out = out.with_labels(vec![cs::Label::primary((), span).with_message(&loc.label)]);
        }
        // Writing into an in-memory buffer cannot fail except on a span outside its file,
        // which would be a bug; fall back to the plain message rather than panic.
        if term::emit(&mut buffer, &config, &excerpt, &out).is_err() {
            let fallback = format!("{}: {}\n", if d.is_error() { "error" } else { "warning" }, d.message);
            let _ = std::io::Write::write_all(&mut buffer, fallback.as_bytes());
        }
    }
    String::from_utf8_lossy(buffer.as_slice()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let s = Source::new("x.csv", "study,n\nRémy,4\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(8), (2, 1));
        // "Rémy," is 6 bytes but 5 characters: the 4 is in column 6.
        assert_eq!(s.line_col(14), (2, 6));
    }

    #[test]
    fn long_lines_and_long_spans_are_cut_to_the_place() {
        // A paragraph of 100,000 characters on line 3, the mistake in its middle.
        let line = format!("{}é{}", "word ".repeat(10_000), " more".repeat(10_000));
        let s = Source::new("report/long.md", format!("# Title\n\n{line}\nlast\n"));
        let at = s.text.find('é').unwrap();
        let text = render(&[Diagnostic::error("bad").at(&s, at..at + 2, "this")], false);
        assert!(text.contains("report/long.md:3:50001"), "{text}");
        assert!(text.len() < 1000 && text.contains("…word word") && text.contains("é more") && text.contains("^ this"), "{text}");
        // A span over the whole file shows its first line, with its true place.
        let text = render(&[Diagnostic::error("too long").at(&s, 0..s.text.len(), "here")], false);
        assert!(text.contains("report/long.md:1:1") && text.len() < 1000, "{text}");
        let text = render(&[Diagnostic::error("at the end").at(&s, s.text.len()..s.text.len(), "here")], false);
        assert!(text.contains("report/long.md:5:1"), "{text}");
        // A span over a few lines shows them, each cut.
        let at = s.text.find("last").unwrap();
        let text = render(&[Diagnostic::error("two lines").at(&s, at - 10..at + 4, "here")], false);
        assert!(text.contains("report/long.md:3:99993") && text.contains("4 │") && text.len() < 1500, "{text}");
    }

    #[test]
    fn cached_diagnostics_keep_each_source_once() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Cached {
            #[serde(with = "shared_sources")]
            warnings: Vec<Diagnostic>,
        }
        let big = Source::new("data/revman-results.csv", "x".repeat(100_000));
        let other = Source::new("report/a.md", "text");
        let warnings: Vec<Diagnostic> = (0..100).map(|i| Diagnostic::warning(format!("w{i}")).at(&big, i..i + 1, "here").hint("h")).chain([Diagnostic::warning("o").at(&other, 0..4, "t"), Diagnostic::error("none")]).collect();
        let mut bytes = Vec::new();
        ciborium::into_writer(&Cached { warnings: warnings.clone() }, &mut bytes).unwrap();
        assert!(bytes.len() < 110_000, "the file is stored once: {} bytes", bytes.len());
        let back: Cached = ciborium::from_reader(bytes.as_slice()).unwrap();
        assert_eq!(back.warnings, warnings);
        let sources = back.warnings[..100].iter().map(|w| Arc::as_ptr(&w.location.as_ref().unwrap().source)).collect::<std::collections::HashSet<_>>();
        assert_eq!(sources.len(), 1, "and shared when read back");
    }

    #[test]
    fn rendering_shows_file_line_and_hint() {
        let s = Source::new("data/x.csv", "study,n\nA,-3\n");
        let d = Diagnostic::error("sample size must be at least 2").at(&s, 10..12, "column `n`").hint("check the row");
        let text = render(&[d], false);
        assert!(text.contains("data/x.csv:2:3"), "{text}");
        assert!(text.contains("hint: check the row"), "{text}");
    }
}
