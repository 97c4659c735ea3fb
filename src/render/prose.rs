//! Inline values in the prose. A chapter is a minijinja template whose variables are the book's
//! analyses, by name, with the keys of `metabook pool`'s JSON (`estimate`, `ci_lower`, `i2`,
//! `p`, …), so `{{ spasticity | effect }}` writes "SMD 1.52 (95% CI 1.10 to 1.93)".
//!
//! The filters format through [`crate::format`], the one place numbers become text. Undefined
//! names are errors (strict undefined), located at the expression in the chapter, with the
//! closest analysis name as a hint — a typo must never print an empty string into a review.

use crate::diag::{Diagnostic, Source};
use crate::format;
use super::template::{self, Crossed, Engine, Escape, Failure, Spliced};
use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind};
use std::sync::Arc;

/// The template engine for prose, with metabook's filters and limits
/// ([`super::template`]). Values land in Markdown, which becomes HTML and Typst: every ASCII
/// punctuation mark that can start markup is backslash-escaped (CommonMark's escape, undone by
/// the Markdown parser), so a study label such as `*Smith* & <Jones> [@x]` stays text in both
/// outputs and can never be read as emphasis, HTML, a link, a citation or math.
pub fn engine() -> Engine {
    let mut engine = Engine::new(Escape::Markdown, template::MAX_TEXT);
    add_filters(engine.env_mut());
    engine
}

/// The number filters of the prose, `effect`, `pct`, `pval` and `num(n)`, all formatted by
/// [`crate::format`]; also for the plain-language summary's template.
pub fn add_filters(env: &mut Environment<'_>) {
    env.add_filter("effect", effect);
    env.add_filter("pct", |x: Value| given(x, "pct").map(format::percent0));
    env.add_filter("pval", |p: Value| given(p, "pval").map(format::p_journal));
    env.add_filter("num", |x: Value, decimals: Option<usize>| given(x, "num").map(|x| format::fixed(x, decimals.unwrap_or(2))));
}

/// The number a filter formats. A value the analysis does not have (`null` in the JSON: τ² of
/// a common-effect model, I² of one study) is an error that says so, not a conversion failure.
fn given(x: Value, filter: &str) -> Result<f64, Error> {
    if x.is_none() || x.is_undefined() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("`{filter}` got no value: the analysis does not have this one (as τ² of a common-effect model, or I² of one study); leave it out or write {{% if … is not none %}}"),
        ));
    }
    f64::try_from(x.clone()).map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("`{filter}` formats a number, not `{x}`")))
}

/// The ASCII punctuation [`escape_markdown`] backslash-escapes wherever it stands: what can
/// start markup inside a line (emphasis, code, links, images, HTML, entities, math,
/// citations, cross-references, table pipes, headings), and the quotes that smart punctuation
/// would curl. Parentheses need no escape once `]` has one; `{` is written as an entity
/// instead ([`LEFT_BRACE`]).
pub const MARKDOWN_PUNCTUATION: &str = "\\`*_}[]<>#!|~$@&^'\"";

/// How [`escape_markdown`] writes `{`: a character reference, which the Markdown parser reads
/// as `{` in every backend, so that no `{{`, `{%` or `{#` — whatever comes before or after —
/// ever reaches the template engine (a chapter is a minijinja template, and a backslash does
/// not escape minijinja's delimiters). It also keeps a heading's trailing `{…}` from being
/// read as heading attributes.
pub const LEFT_BRACE: &str = "&#123;";

/// Text as Markdown that reads as exactly that text, put anywhere inline in a chapter — in a
/// paragraph, a heading, a list item, a table cell, a caption, at the start of a line — also
/// through the chapter's template engine:
///
/// - [`MARKDOWN_PUNCTUATION`] is backslash-escaped (CommonMark's escape), `{` becomes
///   [`LEFT_BRACE`];
/// - a `-` or `.` after the same character is escaped, so that smart punctuation makes no
///   dash of `--` and no ellipsis of `...`;
/// - before anything but spaces and digits, `-`, `+` and `=` (list items, rules, setext
///   headings) and `.` and `)` (ordered list items, `1.`) are escaped;
/// - a run of whitespace (ASCII's, and the line tabulation), line breaks included, is one space, as HTML shows it: a line
///   break would end a heading or a table row, a blank line the paragraph.
///
/// The rendered text is then `text` with its whitespace runs made single spaces, in the HTML
/// and in the PDF (`tests/escaped_text.rs`).
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let _ = std::fmt::Write::write_str(&mut MarkdownText::new(&mut out), text);
    out
}

/// Markdown's whitespace: ASCII's and the line tabulation.
fn markdown_space(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{0B}'
}

/// A writer that writes its text escaped as [`escape_markdown`] says, in as many pieces as it
/// comes (the template engine streams a printed value).
pub struct MarkdownText<W> {
    out: W,
    /// The last character of the text (a space for a run of whitespace).
    previous: Option<char>,
    /// Nothing but whitespace and digits written yet: a line may start here.
    lead: bool,
}

impl<W: std::fmt::Write> MarkdownText<W> {
    pub fn new(out: W) -> MarkdownText<W> {
        MarkdownText { out, previous: None, lead: true }
    }
}

impl<W: std::fmt::Write> std::fmt::Write for MarkdownText<W> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        // Plain runs are written in one piece.
        let mut plain = 0;
        for (i, c) in text.char_indices() {
            let previous = self.previous.replace(if markdown_space(c) { ' ' } else { c });
            let escape = match c {
                _ if markdown_space(c) => {
                    self.out.write_str(&text[plain..i])?;
                    plain = i + c.len_utf8();
                    if previous != Some(' ') {
                        self.out.write_char(' ')?;
                    }
                    continue;
                }
                '{' => {
                    self.out.write_str(&text[plain..i])?;
                    self.out.write_str(LEFT_BRACE)?;
                    plain = i + 1;
                    self.lead = false;
                    continue;
                }
                '-' | '.' if previous == Some(c) => true,
                '-' | '+' | '=' | '.' | ')' => self.lead,
                _ => MARKDOWN_PUNCTUATION.contains(c),
            };
            self.lead &= c.is_ascii_digit();
            if escape {
                self.out.write_str(&text[plain..i])?;
                self.out.write_char('\\')?;
                plain = i;
            }
        }
        self.out.write_str(&text[plain..])
    }
}

fn number(v: &Value, key: &str) -> Result<f64, Error> {
    let field = v.get_attr(key)?;
    f64::try_from(field).map_err(|_| Error::new(ErrorKind::InvalidOperation, format!("`{key}` is not a number")))
}

/// `{{ analysis | effect }}`: the pooled effect with its confidence interval, on the natural
/// scale for ratio measures.
fn effect(v: Value) -> Result<String, Error> {
    let measure = v.get_attr("measure")?;
    let Some(measure) = measure.as_str() else {
        return Err(Error::new(ErrorKind::InvalidOperation, "`effect` applies to an analysis (e.g. {{ spasticity | effect }})"));
    };
    if v.get_attr("estimate")?.is_none() {
        // No estimable study (RevMan's "Not estimable" total).
        return Ok(format!("{measure} not estimable"));
    }
    let ratio = !v.get_attr("estimate_exp")?.is_undefined();
    let suffix = if ratio { "_exp" } else { "" };
    Ok(format::effect_sentence(
        measure,
        number(&v, &format!("estimate{suffix}"))?,
        number(&v, &format!("ci_lower{suffix}"))?,
        number(&v, &format!("ci_upper{suffix}"))?,
        number(&v, "level")?,
        2,
    ))
}

/// Render one chapter's prose — `spliced`, the chapter's text as metabook templates it — with
/// `analyses` (name → JSON value) as variables; an error is located in the author's `source`.
pub fn render_chapter(engine: &Engine, source: &Arc<Source>, spliced: &Spliced, analyses: &[(String, Value)]) -> Result<String, Diagnostic> {
    let context: std::collections::BTreeMap<&str, Value> = analyses.iter().map(|(name, v)| (name.as_str(), v.clone())).collect();
    engine.render(&source.name, &spliced.text, context).map_err(|f| diagnostic(source, spliced, &f, analyses))
}

/// Widen `span` to the `{{ … }}` around it on the same line, if there is one.
fn enclosing_expression(text: &str, span: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let line_start = text[..span.start.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.start.min(text.len())..].find('\n').map_or(text.len(), |i| span.start + i);
    match (text[line_start..span.start].rfind("{{"), text[span.start..line_end].find("}}")) {
        (Some(a), Some(b)) => line_start + a..span.start + b + 2,
        _ => span,
    }
}

fn diagnostic(source: &Arc<Source>, spliced: &Spliced, failure: &Failure, analyses: &[(String, Value)]) -> Diagnostic {
    let span = spliced.to_source(failure.span.clone());
    if failure.crossed != Crossed::Nothing {
        return failure.diagnostic(source, span, "the chapter's template");
    }
    let error = &failure.error;
    // minijinja points at the failing part (often the filter); show the whole `{{ … }}`.
    let span = enclosing_expression(&source.text, span);
    let expression = source.text.get(span.clone()).unwrap_or("").trim().to_string();
    let mut d = match error.kind() {
        ErrorKind::UndefinedError => {
            let d = Diagnostic::error(format!("undefined value in `{expression}`")).at(source, span, "undefined");
            let word = expression.split(|c: char| !(c.is_alphanumeric() || c == '_')).find(|w| !w.is_empty()).unwrap_or("");
            let names: Vec<&str> = analyses.iter().map(|(n, _)| n.as_str()).collect();
            match names.iter().copied().min_by_key(|n| strsim::levenshtein(n, word)).filter(|n| strsim::levenshtein(n, word) <= 3) {
                Some(n) if n != word => d.hint(format!("did you mean `{n}`?")),
                _ if names.is_empty() => d.hint("no analysis is defined; add a ```metabook analysis``` block"),
                _ => d.hint(format!(
                    "`{word}` or one of its fields is not defined; analyses: {}; their fields are the keys of `metabook pool --format json`",
                    names.join(", ")
                )),
            }
        }
        ErrorKind::SyntaxError => Diagnostic::error(failure.message("the chapter's template")).at(source, span, "here"),
        _ => Diagnostic::error(format!("in an inline value: {}", error.detail().unwrap_or(&error.to_string()))).at(source, span, "here"),
    };
    if error.kind() == ErrorKind::UnknownFilter {
        d = d.hint("filters: effect, pct, pval, num(decimals)");
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn analyses() -> Vec<(String, Value)> {
        let values: Vec<(String, serde_json::Value)> = vec![(
            "gait".to_string(),
            json!({"measure": "SMD", "level": 95.0, "estimate": -0.4062, "ci_lower": -0.7664, "ci_upper": -0.046, "p": 0.027, "i2": 0.0, "tau2": null}),
        ), (
            "bcg".to_string(),
            json!({"measure": "RR", "level": 95.0, "estimate": -0.7145, "ci_lower": -1.0, "ci_upper": -0.4, "estimate_exp": 0.4894, "ci_lower_exp": 0.3679, "ci_upper_exp": 0.6703, "p": 0.00007, "i2": 92.22}),
        )];
        values.into_iter().map(|(n, v)| (n, Value::from_serialize(v))).collect()
    }

    fn render(text: &str) -> Result<String, Diagnostic> {
        render_chapter(&engine(), &Source::new("ch.md", text), &Spliced::verbatim(text), &analyses())
    }

    #[test]
    fn values_are_escaped_for_markdown() {
        assert_eq!(escape_markdown("*Smith* & <Jones> [@x] $y$ a_b `c` #1 (2003)"), "\\*Smith\\* \\& \\<Jones\\> \\[\\@x\\] \\$y\\$ a\\_b \\`c\\` \\#1 (2003)");
        assert_eq!(escape_markdown("{{ x }} {% if %} {# c #}"), "&#123;&#123; x \\}\\} &#123;% if %\\} &#123;\\# c \\#\\}");
        assert_eq!(escape_markdown("O'Brien \"A\" -- x... 2.5-3.0"), "O\\'Brien \\\"A\\\" -\\- x.\\.\\. 2.5-3.0");
        // What starts a block at the start of a line, and only there.
        assert_eq!(escape_markdown("- a - b"), "\\- a - b");
        assert_eq!(escape_markdown(" 12. a 1. b"), " 12\\. a 1. b");
        assert_eq!(escape_markdown("=== +"), "\\=== +");
        assert_eq!(escape_markdown("a  \n\n\tb "), "a b ");
    }

    /// The text of `markdown` (a chapter's) as every backend reads it: templated, its
    /// references found, parsed; and its events other than text, to compare block structure.
    fn rendered(markdown: &str) -> (String, Vec<String>) {
        let templated = render(markdown).unwrap_or_else(|d| panic!("{markdown:?}: {}", d.message));
        let (templated, refs) = crate::render::cite::extract(&templated, &Source::new("ch.md", markdown)).unwrap_or_else(|d| panic!("{markdown:?}: {}", d[0].message));
        assert!(refs.is_empty(), "{markdown:?}: {refs:?}");
        let mut text = String::new();
        let mut structure = Vec::new();
        for event in pulldown_cmark::Parser::new_ext(&templated, crate::render::chapter::markdown_options()) {
            match event {
                pulldown_cmark::Event::Text(t) => text.push_str(&t),
                pulldown_cmark::Event::SoftBreak => text.push(' '),
                e => structure.push(format!("{e:?}")),
            }
        }
        (text, structure)
    }

    /// Whitespace runs as one space, as [`escape_markdown`] writes them.
    fn collapsed(s: &str) -> String {
        let mut out = String::new();
        for c in s.chars() {
            if !markdown_space(c) {
                out.push(c);
            } else if !out.ends_with(' ') {
                out.push(' ');
            }
        }
        out
    }

    /// Every place a text goes in a chapter: (before, after), the text between them.
    const PLACES: [(&str, &str); 7] = [
        ("", "»"),
        ("Para\n", "»"),
        ("x", "»"),
        ("# ", "»"),
        ("- ", "»"),
        ("| a |\n| - |\n| ", "» |"),
        ("(", ")\n\nNext.\n"),
    ];

    fn round_trips(s: &str) {
        let expected = collapsed(s);
        for (before, after) in PLACES {
            let (text, structure) = rendered(&format!("{before}{}{after}", escape_markdown(s)));
            let (plain_text, plain_structure) = rendered(&format!("{before}ж{after}"));
            // At the start of a block, Markdown drops leading and trailing spaces.
            let (prefix, suffix) = plain_text.split_once('ж').unwrap();
            let got = text.strip_prefix(prefix).and_then(|t| t.strip_suffix(suffix));
            let trimmed = |t: &str| t.trim_matches(' ').to_string();
            assert_eq!(got.map(trimmed), Some(trimmed(&expected)), "{s:?} after {before:?}: {text:?}");
            assert_eq!(structure, plain_structure, "{s:?} after {before:?}");
        }
    }

    #[test]
    fn escaped_text_reads_as_itself_wherever_it_stands() {
        for s in [
            "{{ analysis | effect }} {% for x in y %}{# c #}{%- raw %}",
            "{",
            "{{",
            "a {#x .y}",
            "@fig-a @tbl-b [@key] [@a; @b] mail@fig-x.org \\@fig-c",
            "*a* _b_ **c** `d` ~~e~~ <b>x</b> &amp; &#123; $x$ $$y$$ [l](u) ![i](j) [^1] \\",
            "1. one 2) two - three + four = five",
            "---",
            "===",
            "1)",
            "    indented",
            "a  \nb\n\nc",
            "O'Brien \"quoted\" -- --- ... ....",
            "| a | b |",
            "#x # y",
            "> quote",
            "<!--metabook-directive-0-->",
            "",
        ] {
            round_trips(s);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn escape_markdown_round_trips(pieces in prop::collection::vec(prop_oneof![
            prop::sample::select(vec![
                "{", "}", "{{", "{%", "{#", "%}", "#}", "}}", "@", "@fig-a", "@tbl-b", "@sec-c", "[@k]", "[", "]", "(u)", "!", "\\", "`",
                "*", "_", "~", "$", "&", "&amp;", "&#123;", "<", ">", "<b>", "#", "|", "-", "--", "+", "=", ".", "...", "1.", "2)", "'",
                "\"", "^", ":", " ", "  ", "\n", "\t", "\r\n", "\n\n", "a", "Smith", "é", "−", "中",
            ]).prop_map(str::to_string),
            prop::char::any().prop_filter("text", |c| *c != '\0' && !('\u{FDD0}'..='\u{FDEF}').contains(c)).prop_map(String::from),
        ], 0..24)) {
            round_trips(&pieces.concat());
        }
    }

    #[test]
    fn a_filter_on_a_value_the_analysis_does_not_have_says_so() {
        let e = render("τ² = {{ gait.tau2 | num }}").unwrap_err();
        assert!(e.message.contains("`num` got no value: the analysis does not have this one"), "{}", e.message);
        assert_eq!(e.position().unwrap(), "ch.md:1:6");
        let e = render("{{ \"x\" | pct }}").unwrap_err();
        assert!(e.message.contains("`pct` formats a number, not `x`"), "{}", e.message);
    }

    #[test]
    fn filters_format_through_the_one_formatting_module() {
        assert_eq!(render("{{ gait | effect }}").unwrap(), "SMD \u{2212}0.41 (95% CI \u{2212}0.77 to \u{2212}0.05)");
        assert_eq!(render("{{ bcg | effect }}").unwrap(), "RR 0.49 (95% CI 0.37 to 0.67)");
        // Escaped for Markdown: the text goes on into Markdown, then HTML and Typst.
        assert_eq!(render("I² = {{ bcg.i2 | pct }}, {{ bcg.p | pval }}").unwrap(), "I² = 92%, P \\< 0.001");
        assert_eq!(render("{{ gait.estimate | num(3) }}").unwrap(), "\u{2212}0.406");
    }

    #[test]
    fn an_undefined_name_is_located_with_a_suggestion() {
        let e = render("# Results\n\nGait: {{ gate | effect }}.\n").unwrap_err();
        assert_eq!(e.position().unwrap(), "ch.md:3:7");
        assert!(e.hints[0].contains("did you mean `gait`?"), "{:?}", e.hints);
        let e = render("{{ gait.i3 }}").unwrap_err();
        assert!(e.message.contains("undefined value in `{{ gait.i3 }}`"), "{}", e.message);
    }
}
