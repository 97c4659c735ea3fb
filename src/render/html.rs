//! The HTML site: one page per chapter plus an index (title page and contents), a navigation
//! sidebar, previous/next links, a print stylesheet, accessible tables (caption, `th` with
//! scope) and figures as inline SVG with a title and description. Readable without JavaScript.
//!
//! A chapter is turned into HTML in three steps, as zola handles shortcodes: each directive
//! block is swapped for a placeholder comment; the prose is rendered as a minijinja template
//! (inline values) and then as Markdown; the placeholders are replaced by the directives'
//! HTML. Pages are laid out by the `page.html` template, which a book can override.

use super::chapter::{placeholder_number, safe_url, table_cell, PreparedChapter, View};
use super::cite::{self, Inline, Piece, Run};
use super::forest;
use super::template::{self, Crossed, Engine, Escape};
use crate::book::{Book, Templates};
use crate::config::RawHtml;
use crate::diag::Diagnostic;
use pulldown_cmark::{html, Event, Parser, Tag, TagEnd};
use serde::Serialize;

/// A finished page: its file name in the site and its HTML.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub file: String,
    pub html: String,
}

/// The HTML body of a prepared chapter. `pages` are the page files of the book's chapters,
/// in order, for links between chapters; `raw` says what becomes of HTML the author wrote.
///
/// Whatever the author wrote, the body holds no active content: links and images with an
/// address that could run code are dropped (their text stays), headings keep only their id and
/// classes (`{onclick=…}` is not an attribute metabook writes), and raw HTML is escaped or
/// cleaned by ammonia ([`sanitize`]). What metabook makes itself — the directives' views,
/// formulas, citations — is put in after cleaning, through markers.
pub fn chapter_body(chapter: &PreparedChapter, pages: &[String], raw: RawHtml) -> String {
    let options = super::chapter::markdown_options();
    let mut events = Vec::new();
    // metabook's own HTML in the prose (formulas, citations), put in after cleaning.
    let mut generated: Vec<String> = Vec::new();
    let mut own = |html: String| {
        generated.push(html);
        Event::InlineHtml(marker(GENERATED, generated.len() - 1).into())
    };
    let mut has_raw_html = false;
    // Footnote definitions are gathered and set at the end of the page, wherever written.
    let mut notes = Vec::new();
    let mut in_note = false;
    let mut unsafe_link = false;
    for (event, _) in cite::merge_text(Parser::new_ext(&chapter.markdown, options).into_offset_iter()) {
        let events = if in_note || matches!(event, Event::Start(Tag::FootnoteDefinition(_))) { &mut notes } else { &mut events };
        match event {
            Event::Start(Tag::FootnoteDefinition(label)) => {
                in_note = true;
                events.push(Event::Start(Tag::FootnoteDefinition(label)));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                in_note = false;
                events.push(Event::End(TagEnd::FootnoteDefinition));
            }
            Event::Text(t) if t.contains('\u{FDD0}') => {
                for piece in cite::pieces(&t) {
                    events.push(match piece {
                        Piece::Text(s) => Event::Text(s.to_string().into()),
                        Piece::Ref(n) => own(chapter.inlines.get(n).and_then(Option::as_ref).map_or(String::new(), |i| inline_html(i, pages))),
                    });
                }
            }
            Event::Start(Tag::Heading { level, id, classes, .. }) => events.push(Event::Start(Tag::Heading { level, id, classes, attrs: Vec::new() })),
            // A link that could run code keeps its text only (links do not nest).
            Event::Start(Tag::Link { ref dest_url, .. }) if !safe_url(dest_url) => unsafe_link = true,
            Event::End(TagEnd::Link) if unsafe_link => unsafe_link = false,
            // An image that could run code shows its alt text (pulldown-cmark writes nothing
            // for an image's end); local images are kept at `images/…` in the site, whatever
            // the chapter's folder.
            Event::Start(Tag::Image { ref dest_url, .. }) if !safe_url(dest_url) => {}
            Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
                let dest_url = chapter.images.get(dest_url.as_ref()).map_or(dest_url, |site| site.clone().into());
                events.push(Event::Start(Tag::Image { link_type, dest_url, title, id }));
            }
            Event::InlineMath(t) => events.push(own(math_html(&t, false))),
            Event::DisplayMath(t) => events.push(own(math_html(&t, true))),
            Event::Html(h) | Event::InlineHtml(h) if placeholder_number(&h).is_none() => match raw {
                RawHtml::Escape => events.push(Event::Text(h)),
                RawHtml::Sanitize => {
                    has_raw_html = true;
                    events.push(Event::InlineHtml(h));
                }
            },
            e => events.push(e),
        }
    }
    if !notes.is_empty() {
        events.push(Event::Html("<section class=\"footnotes\" aria-label=\"Notes\">\n".into()));
        events.append(&mut notes);
        events.push(Event::Html("</section>\n".into()));
    }
    let mut body = String::new();
    html::push_html(&mut body, events.into_iter());
    if has_raw_html {
        body = sanitize(&body);
    }
    fill_markers(&body, &|kind, n| match kind {
        DIRECTIVE => chapter.views.get(n).map(|v| view_html(v, &|caption| caption_html(caption, chapter, pages))),
        _ => generated.get(n).cloned(),
    })
}

/// The marker of a directive's view ([`placeholder`]) and of metabook's own HTML in the prose.
const DIRECTIVE: &str = "directive";
const GENERATED: &str = "generated";

fn marker(kind: &str, n: usize) -> String {
    format!("<!--metabook-{kind}-{n}-->")
}

/// Replace every marker in `body` by what `fill` gives for it (a marker it does not know is
/// dropped), in one pass.
fn fill_markers(body: &str, fill: &dyn Fn(&str, usize) -> Option<String>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("<!--metabook-") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "<!--metabook-".len()..];
        let Some(end) = after.find("-->") else {
            out.push_str(&rest[at..]);
            return out;
        };
        match after[..end].rsplit_once('-').and_then(|(kind, n)| Some((kind, n.parse::<usize>().ok()?))) {
            Some((kind, n)) => out.push_str(&fill(kind, n).unwrap_or_default()),
            None => out.push_str(&rest[at..at + "<!--metabook-".len() + end + 3]),
        }
        rest = &after[end + 3..];
    }
    out.push_str(rest);
    out
}

/// Clean HTML that holds an author's raw HTML: ammonia's allow-list of elements and attributes
/// (no script, style, iframe, object, form; no event-handler attributes; addresses only with
/// safe schemes), plus what metabook's Markdown output uses (ids and classes, footnote
/// sections, task-list checkboxes, table cell alignment). Comments stay, for the markers.
pub fn sanitize(html: &str) -> String {
    use std::sync::OnceLock;
    static CLEANER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    let cleaner = CLEANER.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_tags(["section", "input"])
            .add_generic_attributes(["id", "class", "dir", "aria-label"])
            .add_tag_attributes("input", ["type", "disabled", "checked"])
            .add_tag_attributes("th", ["style"])
            .add_tag_attributes("td", ["style"])
            .filter_style_properties(["text-align"].into_iter().collect())
            .set_tag_attribute_value("input", "disabled", "")
            .rm_url_schemes(["data"])
            .link_rel(None)
            .strip_comments(false);
        b.attribute_filter(|element, attribute, value| match (element, attribute) {
            ("input", "type") if value != "checkbox" => None,
            _ => Some(value.into()),
        });
        b
    });
    cleaner.clean(html).to_string()
}

/// A formula as MathML (no JavaScript); one metabook does not understand is shown as typed.
fn math_html(formula: &str, display: bool) -> String {
    let typed = || {
        let code = forest::escape(formula);
        if display {
            format!("<pre class=\"math\"><code>{code}</code></pre>")
        } else {
            format!("<code class=\"math\">{code}</code>")
        }
    };
    super::math::to_mathml(formula, display).unwrap_or_else(typed)
}

/// A citation or cross-reference as a link.
fn inline_html(inline: &Inline, pages: &[String]) -> String {
    let e = forest::escape;
    let href = |t: &cite::Target| format!("{}#{}", pages.get(t.chapter).map_or("", String::as_str), t.anchor);
    match inline {
        Inline::Citation { runs, target } => format!("<a class=\"citation\" href=\"{}\">{}</a>", e(&href(target)), runs_html(runs)),
        Inline::CrossRef { text, target } => format!("<a class=\"xref\" href=\"{}\">{}</a>", e(&href(target)), e(text)),
    }
}

/// Formatted text from the citation style, escaped.
fn runs_html(runs: &[Run]) -> String {
    let mut out = String::new();
    for r in runs {
        let mut t = forest::escape(&r.text);
        for (on, tag) in [(r.italic, "i"), (r.bold, "b"), (r.superscript, "sup"), (r.subscript, "sub")] {
            if on {
                t = format!("<{tag}>{t}</{tag}>");
            }
        }
        // A reference's address (from the bibliography) is a link only if it cannot run code.
        if let Some(url) = r.link.as_deref().filter(|u| safe_url(u)) {
            t = format!("<a href=\"{}\">{t}</a>", forest::escape(url));
        }
        out.push_str(&t);
    }
    out
}

/// A caption's inline Markdown ([`super::chapter::inline_only`], which leaves no raw HTML) as
/// HTML: emphasis, code, links, math, citations and cross-references.
fn caption_html(caption: &str, chapter: &PreparedChapter, pages: &[String]) -> String {
    let mut events = Vec::new();
    let mut unsafe_link = false;
    for (event, _) in cite::merge_text(Parser::new_ext(caption, super::chapter::markdown_options()).into_offset_iter()) {
        match event {
            Event::Start(Tag::Paragraph) | Event::End(TagEnd::Paragraph) => {}
            Event::Text(t) if t.contains('\u{FDD0}') => {
                for piece in cite::pieces(&t) {
                    events.push(match piece {
                        Piece::Text(s) => Event::Text(s.to_string().into()),
                        Piece::Ref(n) => Event::InlineHtml(chapter.inlines.get(n).and_then(Option::as_ref).map_or(String::new(), |i| inline_html(i, pages)).into()),
                    });
                }
            }
            // As in the prose, a link or image that could run code keeps its text only.
            Event::Start(Tag::Link { ref dest_url, .. }) if !safe_url(dest_url) => unsafe_link = true,
            Event::End(TagEnd::Link) if unsafe_link => unsafe_link = false,
            Event::Start(Tag::Image { ref dest_url, .. }) if !safe_url(dest_url) => {}
            // A caption is one line: display math is set inline.
            Event::InlineMath(t) | Event::DisplayMath(t) => events.push(Event::InlineHtml(math_html(&t, false).into())),
            e => events.push(e),
        }
    }
    let mut out = String::new();
    html::push_html(&mut out, events.into_iter());
    out.trim_end().to_string()
}

/// A directive's view as HTML; all text escaped, captions through `caption`.
fn view_html(v: &View, caption_html: &dyn Fn(&str) -> String) -> String {
    let e = forest::escape;
    match v {
        View::Nothing => String::new(),
        View::References { entries } => {
            let mut html = String::from("<ol class=\"references\">");
            for entry in entries {
                let label = entry.label.as_ref().map_or(String::new(), |l| format!("<span class=\"label\">{}</span> ", runs_html(l)));
                html.push_str(&format!("<li id=\"{}\">{label}<span class=\"entry\">{}</span></li>", e(&entry.anchor), runs_html(&entry.runs)));
            }
            html.push_str("</ol>\n");
            html
        }
        View::Figure { number, svg, caption, notes, .. } => {
            let notes: String = notes.iter().map(|n| format!("<span class=\"note\">{}</span>", e(n))).collect();
            format!(
                "<figure class=\"forest\" id=\"figure-{number}\"><div class=\"scroll\">{}</div><figcaption><strong>Figure {number}.</strong> {}{notes}</figcaption></figure>\n",
                scoped_ids(svg, &format!("figure-{number}-")),
                caption_html(caption)
            )
        }
        View::Results { effect, method, k, lines } => {
            let mut html = format!("<div class=\"results\"><p><strong>{}</strong> ({}, {k} studies)</p>", e(effect), e(method));
            for line in lines {
                html.push_str(&format!("<p>{}</p>", e(line)));
            }
            html.push_str("</div>\n");
            html
        }
        View::Table { number, caption, headings, rows, notes, .. } => {
            let mut html = format!("<table id=\"table-{number}\"><caption>Table {number}. {}</caption><thead><tr>", caption_html(caption));
            for h in headings {
                html.push_str(&format!("<th scope=\"col\">{}</th>", e(h)));
            }
            html.push_str("</tr></thead><tbody>");
            for row in rows {
                html.push_str("<tr>");
                for (j, cell) in row.iter().enumerate() {
                    let (cell, numeric) = table_cell(cell);
                    if j == 0 {
                        html.push_str(&format!("<th scope=\"row\">{}</th>", e(&cell)));
                    } else if numeric {
                        html.push_str(&format!("<td class=\"num\">{}</td>", e(&cell)));
                    } else {
                        html.push_str(&format!("<td>{}</td>", e(&cell)));
                    }
                }
                html.push_str("</tr>");
            }
            html.push_str("</tbody>");
            if !notes.is_empty() {
                html.push_str(&format!("<tfoot><tr><td colspan=\"{}\" class=\"notes\">", headings.len()));
                for n in notes {
                    html.push_str(&format!("<p>{}</p>", e(n)));
                }
                html.push_str("</td></tr></tfoot>");
            }
            html.push_str("</table>\n");
            html
        }
    }
}

/// The file name of a chapter's page: its path with `.html`, folders joined by `-`.
pub fn page_file(path: &std::path::Path) -> String {
    let stem = path.with_extension("");
    let flat: Vec<String> = stem.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    format!("{}.html", flat.join("-"))
}

#[derive(Serialize)]
struct NavItem {
    title: String,
    href: String,
    current: bool,
}

/// A page beside the chapters (the plain-language summary): its title, file and body.
#[derive(Debug, Clone)]
pub struct ExtraPage {
    pub title: String,
    pub file: String,
    pub body: String,
}

/// A file of the site offered for download beside the pages (the PDFs).
#[derive(Debug, Clone, Serialize)]
pub struct Download {
    pub title: String,
    pub href: String,
}

/// Lay out every page: the index (title page and contents), one page per chapter, and the
/// extra pages after them, all in the navigation, with links to the `downloads`.
pub fn site(book: &Book, bodies: &[String], extras: &[ExtraPage], downloads: &[Download], templates: &Templates) -> Result<Vec<Page>, Vec<Diagnostic>> {
    // HTML-escaped by the template's name (`….html`), with metabook's limits.
    let engine = Engine::new(Escape::ByName, template::MAX_PAGE);
    let meta = &book.config.book;
    // Every page after the index, in reading order: (title, file, body).
    let entries: Vec<(&str, String, &str)> = book
        .chapters
        .iter()
        .zip(bodies)
        .map(|(c, b)| (c.title.as_str(), page_file(&c.path), b.as_str()))
        .chain(extras.iter().map(|x| (x.title.as_str(), x.file.clone(), x.body.as_str())))
        .collect();
    let nav = |current: Option<usize>| -> Vec<NavItem> {
        entries.iter().enumerate().map(|(i, (title, href, _))| NavItem { title: title.to_string(), href: href.clone(), current: Some(i) == current }).collect()
    };
    let link = |i: usize| NavItem { title: entries[i].0.to_string(), href: entries[i].1.clone(), current: false };
    let render = |file: &str, title: Option<&str>, content: String, current: Option<usize>, prev: Option<NavItem>, next: Option<NavItem>| {
        let context = minijinja::context! {
            language => meta.language.get_ref(),
            book_title => &meta.title,
            description => &meta.description,
            page_title => title,
            content => content,
            nav => nav(current),
            prev => prev,
            next => next,
            downloads => downloads,
        };
        engine.render(&templates.page.name, &templates.page.text, context).map_err(|failure| {
            let mut d = failure.diagnostic(&templates.page, failure.span.clone(), "the page template").hint(format!("while laying out {file}"));
            if failure.crossed == Crossed::Nothing {
                d = d.hint("the page template's variables: book_title, page_title, content, nav, prev, next, downloads, language, description");
            }
            vec![d]
        })
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
    for (title, href, _) in &entries {
        index.push_str(&format!("<li><a href=\"{}\">{}</a></li>", e(href), e(title)));
    }
    index.push_str("</ol></div>");
    let mut pages = vec![Page { file: "index.html".to_string(), html: render("index.html", None, index, None, None, (!entries.is_empty()).then(|| link(0)))? }];
    for (i, (title, file, body)) in entries.iter().enumerate() {
        let prev = if i > 0 { Some(link(i - 1)) } else { None };
        let next = (i + 1 < entries.len()).then(|| link(i + 1));
        pages.push(Page { file: file.clone(), html: render(file, Some(title), body.to_string(), Some(i), prev, next)? });
    }
    pages.push(Page { file: "style.css".to_string(), html: templates.style.clone() });
    Ok(pages)
}

/// An SVG's ids, and the references to them, prefixed with `prefix`: a page showing two forest
/// plots would otherwise hold two elements with the id `forest-title`, and the second plot's
/// `aria-labelledby` would name the first plot's title. The SVGs are metabook's own, so their
/// ids appear only as `id="…"`, in `aria-labelledby`, and as `url(#…)` or `href="#…"`.
fn scoped_ids(svg: &str, prefix: &str) -> String {
    let mut ids: Vec<&str> = svg.split(" id=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    // Longest first, so that an id that begins another is not replaced inside it.
    ids.sort_by_key(|id| std::cmp::Reverse(id.len()));
    let mut out = svg.to_string();
    for id in ids {
        for (from, to) in [
            (format!(" id=\"{id}\""), format!(" id=\"{prefix}{id}\"")),
            (format!("url(#{id})"), format!("url(#{prefix}{id})")),
            (format!("href=\"#{id}\""), format!("href=\"#{prefix}{id}\"")),
        ] {
            out = out.replace(&from, &to);
        }
    }
    // aria-labelledby holds a list of ids.
    let mut rewritten = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("aria-labelledby=\"") {
        let start = at + "aria-labelledby=\"".len();
        let end = start + rest[start..].find('"').unwrap_or(0);
        rewritten.push_str(&rest[..start]);
        rewritten.push_str(&rest[start..end].split_whitespace().map(|id| format!("{prefix}{id}")).collect::<Vec<_>>().join(" "));
        rest = &rest[end..];
    }
    rewritten.push_str(rest);
    rewritten
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitizing_keeps_harmless_html_and_removes_active_content() {
        let clean = sanitize(r#"<p><sup>2</sup> <details><summary>s</summary>d</details> <span class="x" id="y" onclick="z">t</span><script>alert(1)</script><a href="javascript:x">l</a><!--metabook-generated-0--><input type="checkbox" disabled checked><input type="text"><td style="text-align: right; color: red">1</td></p>"#);
        assert!(clean.contains("<sup>2</sup>") && clean.contains("<details><summary>s</summary>d</details>"), "{clean}");
        assert!(clean.contains(r#"<span class="x" id="y">t</span>"#), "{clean}");
        assert!(clean.contains("<!--metabook-generated-0-->"), "markers stay: {clean}");
        assert!(!clean.contains("script") && !clean.contains("onclick") && !clean.contains("javascript"), "{clean}");
        assert!(!clean.contains("type=\"text\""), "{clean}");
    }

    #[test]
    fn two_figures_on_a_page_never_share_an_id() {
        let svg = r##"<svg role="img" aria-labelledby="funnel-title funnel-desc"><title id="funnel-title">t</title><desc id="funnel-desc">d</desc><defs><clipPath id="funnel-clip"><rect/></clipPath></defs><g clip-path="url(#funnel-clip)"/><use href="#funnel-clip"/></svg>"##;
        let scoped = scoped_ids(svg, "figure-2-");
        assert_eq!(
            scoped,
            r##"<svg role="img" aria-labelledby="figure-2-funnel-title figure-2-funnel-desc"><title id="figure-2-funnel-title">t</title><desc id="figure-2-funnel-desc">d</desc><defs><clipPath id="figure-2-funnel-clip"><rect/></clipPath></defs><g clip-path="url(#figure-2-funnel-clip)"/><use href="#figure-2-funnel-clip"/></svg>"##
        );
    }
}
