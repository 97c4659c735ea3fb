//! The HTML site: one page per chapter plus an index (title page and contents), a navigation
//! sidebar, previous/next links, a print stylesheet, accessible tables (caption, `th` with
//! scope) and figures as inline SVG with a title and description. Readable without JavaScript.
//!
//! A chapter is turned into HTML in three steps, as zola handles shortcodes: each directive
//! block is swapped for a placeholder comment; the prose is rendered as a minijinja template
//! (inline values) and then as Markdown; the placeholders are replaced by the directives'
//! HTML. Pages are laid out by the `page.html` template, which a book can override.

use super::{forest, json, prose, revman};
use crate::book::{Book, Templates};
use crate::diag::{Diagnostic, Source};
use crate::directive::{Body, Directive, TableDirective};
use crate::engine::{Analyses, AnalysisResult};
use crate::format;
use minijinja::Environment;
use pulldown_cmark::{html, Options, Parser};
use serde::Serialize;
use std::sync::Arc;

/// A finished page: its file name in the site and its HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub file: String,
    pub html: String,
}

/// Numbers figures and tables across the book, in reading order.
#[derive(Debug, Default)]
pub struct Counters {
    pub figures: usize,
    pub tables: usize,
}

fn placeholder(n: usize) -> String {
    format!("<!--metabook-directive-{n}-->")
}

/// The file name of a chapter's page: its path with `.html`, folders joined by `-`.
pub fn page_file(path: &std::path::Path) -> String {
    let stem = path.with_extension("");
    let flat: Vec<String> = stem.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("{}.html", flat.join("-"))
}

/// The HTML body of one chapter. `directives` are the chapter's own, in order.
pub fn chapter_body(
    source: &Arc<Source>,
    directives: &[&Directive],
    analyses: &Analyses,
    data_tables: &dyn Fn(&Directive, &TableDirective) -> Result<crate::data::CsvTable, Vec<Diagnostic>>,
    counters: &mut Counters,
) -> Result<String, Vec<Diagnostic>> {
    let values: Vec<(String, serde_json::Value)> = analyses.by_name.iter().map(|(n, r)| (n.clone(), json::value(r))).collect();
    let env = prose::environment();
    // Validate the prose where positions are the author's, then render with placeholders.
    prose::render_chapter(&env, source, &values).map_err(|d| vec![d])?;
    let mut text = String::with_capacity(source.text.len());
    let mut at = 0;
    for (n, d) in directives.iter().enumerate() {
        text.push_str(&source.text[at..d.span.start]);
        text.push_str(&format!("\n{}\n", placeholder(n)));
        at = d.span.end;
    }
    text.push_str(&source.text[at..]);
    let templated = env.render_str(&text, values.iter().map(|(n, v)| (n.as_str(), minijinja::Value::from_serialize(v))).collect::<std::collections::BTreeMap<_, _>>())
        .map_err(|e| vec![Diagnostic::error(format!("{}: {e}", source.name))])?;
    let options = Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut body = String::new();
    html::push_html(&mut body, Parser::new_ext(&templated, options));
    let mut problems = Vec::new();
    for (n, d) in directives.iter().enumerate() {
        let rendered = match directive_html(d, analyses, data_tables, counters) {
            Ok(h) => h,
            Err(mut e) => {
                problems.append(&mut e);
                String::new()
            }
        };
        body = body.replace(&placeholder(n), &rendered);
    }
    if problems.is_empty() {
        Ok(body)
    } else {
        Err(problems)
    }
}

fn analysis<'a>(analyses: &'a Analyses, d: &Directive, name: &toml::Spanned<String>) -> Result<&'a AnalysisResult, Vec<Diagnostic>> {
    analyses.get(name.get_ref()).ok_or_else(|| vec![d.error_at(name.span(), format!("no analysis named `{}`", name.get_ref()), "here")])
}

fn directive_html(
    d: &Directive,
    analyses: &Analyses,
    data_tables: &dyn Fn(&Directive, &TableDirective) -> Result<crate::data::CsvTable, Vec<Diagnostic>>,
    counters: &mut Counters,
) -> Result<String, Vec<Diagnostic>> {
    let e = forest::escape;
    Ok(match &d.body {
        Body::Analysis(_) => String::new(),
        Body::Forest(f) => {
            let result = analysis(analyses, d, &f.analysis)?;
            counters.figures += 1;
            let options = forest::ForestOptions {
                favours: f.favours.as_ref().map(|v| (v.get_ref()[0].clone(), v.get_ref()[1].clone())),
                prediction: f.prediction,
                groups: f.groups.as_ref().map(|v| (v.get_ref()[0].clone(), v.get_ref()[1].clone())),
            };
            let caption = f.caption.clone().unwrap_or_else(|| format!("Forest plot of the analysis “{}”.", f.analysis.get_ref()));
            format!(
                "<figure class=\"forest\" id=\"figure-{n}\"><div class=\"scroll\">{}</div><figcaption><strong>Figure {n}.</strong> {}</figcaption></figure>\n",
                forest::svg(result, &options),
                e(&caption),
                n = counters.figures
            )
        }
        Body::Results(r) => {
            let result = analysis(analyses, d, &r.analysis)?;
            let a = &result.analysis;
            let ratio = a.spec.measure.is_ratio() || a.spec.method == crate::stats::Method::PETO;
            let shown = |x: f64| if ratio { x.exp() } else { x };
            let p = &a.pooled;
            let mut html = format!(
                "<div class=\"results\"><p><strong>{}</strong> ({}, {} studies)</p>",
                e(&format::effect_sentence(a.spec.measure.name(), shown(p.estimate), shown(p.ci_lower), shown(p.ci_upper), a.spec.level, 2)),
                e(&a.spec.method.revman_label()),
                a.k
            );
            for line in revman::footer_lines(a) {
                html.push_str(&format!("<p>{}</p>", e(&line)));
            }
            html.push_str("</div>\n");
            html
        }
        Body::Table(t) => {
            counters.tables += 1;
            let (headings, rows) = match (&t.analysis, &t.data) {
                (Some(name), _) => study_table(analysis(analyses, d, name)?),
                (None, Some(_)) => csv_rows(d, t, &data_tables(d, t)?)?,
                (None, None) => return Err(vec![Diagnostic::error("a table needs `analysis` or `data`").at(&d.source, d.span.clone(), "this table").hint("e.g. data = \"characteristics.csv\"")]),
            };
            let headings = match &t.headings {
                Some(h) if h.get_ref().len() == headings.len() => h.get_ref().clone(),
                Some(h) => {
                    return Err(vec![d.error_at(h.span(), format!("{} headings for {} columns", h.get_ref().len(), headings.len()), "here").hint("give one heading per column")])
                }
                None => headings,
            };
            let mut html = format!("<table id=\"table-{n}\"><caption>Table {n}. {}</caption><thead><tr>", e(t.caption.as_deref().unwrap_or("")), n = counters.tables);
            for h in &headings {
                html.push_str(&format!("<th scope=\"col\">{}</th>", e(h)));
            }
            html.push_str("</tr></thead><tbody>");
            for row in rows {
                html.push_str("<tr>");
                for (j, cell) in row.iter().enumerate() {
                    if j == 0 {
                        html.push_str(&format!("<th scope=\"row\">{}</th>", e(cell)));
                    } else if looks_numeric(cell) {
                        // Numbers typed in a data file get the true minus sign too.
                        let cell = cell.replacen('-', "\u{2212}", usize::from(cell.starts_with('-')));
                        html.push_str(&format!("<td class=\"num\">{}</td>", e(&cell)));
                    } else {
                        html.push_str(&format!("<td>{}</td>", e(cell)));
                    }
                }
                html.push_str("</tr>");
            }
            html.push_str("</tbody></table>\n");
            html
        }
    })
}

/// Numbers (and effects with intervals) are right-aligned in tables.
fn looks_numeric(cell: &str) -> bool {
    let plain = cell.replace('\u{2212}', "-");
    let starts_numeric = plain.chars().next().is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '.');
    plain.parse::<f64>().is_ok() || (starts_numeric && (plain.ends_with('%') || plain.ends_with(']')))
}

/// An analysis' studies: label, group data, weight, effect with CI.
fn study_table(result: &AnalysisResult) -> (Vec<String>, Vec<Vec<String>>) {
    let a = &result.analysis;
    let ratio = a.spec.measure.is_ratio() || a.spec.method == crate::stats::Method::PETO;
    let shown = |x: f64| if ratio { x.exp() } else { x };
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
                format::effect_ci_brackets(shown(e.yi), shown(e.yi - z * e.vi.sqrt()), shown(e.yi + z * e.vi.sqrt()), 2)
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

#[derive(Serialize)]
struct NavItem {
    title: String,
    href: String,
    current: bool,
}

/// Lay out every page: the index (title page and contents) and one page per chapter.
pub fn site(book: &Book, bodies: &[String], templates: &Templates) -> Result<Vec<Page>, Vec<Diagnostic>> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("page.html", &templates.page.text).map_err(|e| vec![Diagnostic::error(format!("{}: {e}", templates.page.name))])?;
    let page = env.get_template("page.html").expect("just added");
    let meta = &book.config.book;
    let nav = |current: Option<usize>| -> Vec<NavItem> {
        book.chapters
            .iter()
            .enumerate()
            .map(|(i, c)| NavItem { title: c.title.clone(), href: page_file(&c.path), current: Some(i) == current })
            .collect()
    };
    let link = |i: usize| NavItem { title: book.chapters[i].title.clone(), href: page_file(&book.chapters[i].path), current: false };
    let render = |title: Option<&str>, content: String, current: Option<usize>, prev: Option<NavItem>, next: Option<NavItem>| {
        page.render(minijinja::context! {
            language => &meta.language,
            book_title => &meta.title,
            description => &meta.description,
            page_title => title,
            content => content,
            nav => nav(current),
            prev => prev,
            next => next,
        })
        .map_err(|e| vec![Diagnostic::error(format!("{}: {e}", templates.page.name)).hint("check the page template's variables: book_title, page_title, content, nav, prev, next, language, description")])
    };
    let e = forest::escape;
    let mut index = format!("<div class=\"title-page\"><h1>{}</h1>", e(&meta.title));
    if !meta.authors.is_empty() {
        index.push_str(&format!("<p class=\"authors\">{}</p>", e(&meta.authors.join(", "))));
    }
    if let Some(d) = &meta.description {
        index.push_str(&format!("<p>{}</p>", e(d)));
    }
    index.push_str("<h2>Contents</h2><ol>");
    for c in &book.chapters {
        index.push_str(&format!("<li><a href=\"{}\">{}</a></li>", e(&page_file(&c.path)), e(&c.title)));
    }
    index.push_str("</ol></div>");
    let mut pages = vec![Page { file: "index.html".to_string(), html: render(None, index, None, None, (!book.chapters.is_empty()).then(|| link(0)))? }];
    for (i, (c, body)) in book.chapters.iter().zip(bodies).enumerate() {
        let prev = if i > 0 { Some(link(i - 1)) } else { None };
        let next = (i + 1 < book.chapters.len()).then(|| link(i + 1));
        pages.push(Page { file: page_file(&c.path), html: render(Some(&c.title), body.clone(), Some(i), prev, next)? });
    }
    pages.push(Page { file: "style.css".to_string(), html: templates.style.clone() });
    Ok(pages)
}
