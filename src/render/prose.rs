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

/// The characters [`escape_markdown`] escapes.
pub const MARKDOWN_PUNCTUATION: &str = "\\`*_{}[]<>#!|~$@&^";

/// Text as Markdown that reads as exactly that text: the characters that can start markup
/// inside a line (emphasis, code, links, HTML, entities, math, citations, pipes of tables,
/// headings) are backslash-escaped. Parentheses need no escape once `]` has one.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if MARKDOWN_PUNCTUATION.contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
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
pub fn render_chapter(engine: &Engine, source: &Arc<Source>, spliced: &Spliced, analyses: &[(String, serde_json::Value)]) -> Result<String, Diagnostic> {
    let context: std::collections::BTreeMap<&str, Value> =
        analyses.iter().map(|(name, v)| (name.as_str(), Value::from_serialize(v))).collect();
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

fn diagnostic(source: &Arc<Source>, spliced: &Spliced, failure: &Failure, analyses: &[(String, serde_json::Value)]) -> Diagnostic {
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
    use serde_json::json;

    fn analyses() -> Vec<(String, serde_json::Value)> {
        vec![(
            "gait".to_string(),
            json!({"measure": "SMD", "level": 95.0, "estimate": -0.4062, "ci_lower": -0.7664, "ci_upper": -0.046, "p": 0.027, "i2": 0.0, "tau2": null}),
        ), (
            "bcg".to_string(),
            json!({"measure": "RR", "level": 95.0, "estimate": -0.7145, "ci_lower": -1.0, "ci_upper": -0.4, "estimate_exp": 0.4894, "ci_lower_exp": 0.3679, "ci_upper_exp": 0.6703, "p": 0.00007, "i2": 92.22}),
        )]
    }

    fn render(text: &str) -> Result<String, Diagnostic> {
        render_chapter(&engine(), &Source::new("ch.md", text), &Spliced::verbatim(text), &analyses())
    }

    #[test]
    fn values_are_escaped_for_markdown() {
        assert_eq!(escape_markdown("*Smith* & <Jones> [@x] $y$ a_b `c` #1 (2003)"), "\\*Smith\\* \\& \\<Jones\\> \\[\\@x\\] \\$y\\$ a\\_b \\`c\\` \\#1 (2003)");
        // The Markdown parser gives the text back exactly.
        let md = escape_markdown("*Smith* & <Jones> [@x] \\ a_b");
        let text: String = pulldown_cmark::Parser::new(&md).filter_map(|e| if let pulldown_cmark::Event::Text(t) = e { Some(t.to_string()) } else { None }).collect();
        assert_eq!(text, "*Smith* & <Jones> [@x] \\ a_b");
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
