//! Diagnostics: what metabook tells a user about a mistake in their review or data.
//!
//! A diagnostic carries a message in the user's words, the place it refers to (a file and a
//! byte span, from which line and column follow) and hints. Problems are collected, not thrown:
//! a loader reports every bad cell of a CSV at once, the way rustc reports every error in a
//! crate, and the command prints them together and exits non-zero. Rendering (with the source
//! line and a caret under the offending text) is done by codespan-reporting.

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::SimpleFiles;
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

/// Render diagnostics as rustc does, with the source line and a caret. `color` adds ANSI
/// colours (for a terminal).
pub fn render(diagnostics: &[Diagnostic], color: bool) -> String {
    let mut files = SimpleFiles::new();
    let mut ids: Vec<(*const Source, usize)> = Vec::new();
    let mut buffer = if color { termcolor::Buffer::ansi() } else { termcolor::Buffer::no_color() };
    let config = term::Config::default();
    for d in diagnostics {
        let mut out = match d.severity {
            Severity::Error => cs::Diagnostic::error(),
            Severity::Warning => cs::Diagnostic::warning(),
        }
        .with_message(&d.message);
        if let Some(loc) = &d.location {
            let key = Arc::as_ptr(&loc.source);
            let id = match ids.iter().find(|(k, _)| *k == key) {
                Some(&(_, id)) => id,
                None => {
                    let id = files.add(loc.source.name.clone(), loc.source.text.clone());
                    ids.push((key, id));
                    id
                }
            };
            out = out.with_labels(vec![cs::Label::primary(id, loc.span.clone()).with_message(&loc.label)]);
        }
        out = out.with_notes(d.hints.iter().map(|h| format!("hint: {h}")).collect());
        // Writing into an in-memory buffer cannot fail except on a span outside its file,
        // which would be a bug; fall back to the plain message rather than panic.
        if term::emit(&mut buffer, &config, &files, &out).is_err() {
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
    fn rendering_shows_file_line_and_hint() {
        let s = Source::new("data/x.csv", "study,n\nA,-3\n");
        let d = Diagnostic::error("sample size must be at least 2").at(&s, 10..12, "column `n`").hint("check the row");
        let text = render(&[d], false);
        assert!(text.contains("data/x.csv:2:3"), "{text}");
        assert!(text.contains("hint: check the row"), "{text}");
    }
}
