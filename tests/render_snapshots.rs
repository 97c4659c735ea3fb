//! Snapshots of what each directive, citation, cross-reference, footnote and formula becomes
//! in both outputs: the HTML fragment of every chapter and the Typst code the PDF is typeset
//! from, for the fixture book `tests/fixtures/books/directives` (one chapter per directive
//! kind). Review a change with `cargo insta review`.
//!
//! The forest plot's SVG has its own snapshot (tests/forest_plot.rs), the PRISMA diagram's
//! too (tests/prisma_diagram.rs); here it is cut to its
//! length so that these snapshots show the structure around it.

use metabook::cmd::build::prepare;
use metabook::render::{html, typst};
use std::path::Path;

fn book() -> metabook::cmd::build::Prepared {
    match prepare(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books/directives")) {
        Ok(p) => p,
        Err(d) => panic!("{}", metabook::diag::render(&d, false)),
    }
}

/// Replace each `<svg …</svg>` (HTML) or `bytes("…")` (Typst) by its length.
fn without_svg(text: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let end = rest[start..].find(close).map_or(rest.len(), |e| start + e + close.len());
        out.push_str(&rest[..start]);
        out.push_str(&format!("[svg, {} bytes]", end - start));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `text` with each figure set by `typst_figure` (tested on its own) replaced
/// by its size: the snapshot shows where the figure goes and with what caption.
fn without_drawings(text: &str) -> String {
    let open = "box(width: ";
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(open).filter(|&s| rest[s..].split_once('{').is_some_and(|(head, _)| (head.ends_with("clip: true, ") || head.ends_with("pt, ")) && head.contains("height: ") && !head.contains('\n'))) {
        let body = start + rest[start..].find('{').unwrap();
        let (mut depth, mut in_string, mut escaped, mut end) = (0, false, false, rest.len());
        for (i, c) in rest[body..].char_indices() {
            match (in_string, escaped, c) {
                (true, true, _) => escaped = false,
                (true, false, '\\') => escaped = true,
                (_, false, '"') => in_string = !in_string,
                (false, _, '{') => depth += 1,
                (false, _, '}') => {
                    depth -= 1;
                    if depth == 0 {
                        end = body + i + 2;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(&rest[..start]);
        out.push_str(&format!("[drawing, {} bytes]", end - start));
        rest = &rest[end.min(rest.len())..];
    }
    out.push_str(rest);
    out
}

fn chapter_index(p: &metabook::cmd::build::Prepared, file: &str) -> usize {
    p.book.chapters.iter().position(|c| c.path == Path::new(file)).expect("a chapter of the fixture book")
}

#[test]
fn html_fragments_of_every_directive() {
    let p = book();
    let pages: Vec<String> = p.book.chapters.iter().map(|c| html::page_file(&c.path)).collect();
    for file in ["analysis.md", "forest.md", "table.md", "results.md", "rob.md", "sof.md", "prisma.md", "funnel.md", "sensitivity.md", "references.md"] {
        let body = html::chapter_body(&p.chapters[chapter_index(&p, file)], &pages, metabook::config::RawHtml::Sanitize);
        insta::assert_snapshot!(format!("html_{}", file.trim_end_matches(".md")), without_svg(&body, "<svg", "</svg>"));
    }
}

#[test]
fn typst_code_of_every_directive() {
    let p = book();
    for file in ["analysis.md", "forest.md", "table.md", "results.md", "rob.md", "sof.md", "prisma.md", "funnel.md", "sensitivity.md", "references.md"] {
        let n = chapter_index(&p, file);
        let code = typst::chapter(&p.chapters[n], n);
        insta::assert_snapshot!(format!("typst_{}", file.trim_end_matches(".md")), without_drawings(&without_svg(&code, "bytes(\"", "\")")));
    }
}

#[test]
fn the_whole_fixture_book_typesets() {
    let p = book();
    let pdf = typst::compile_pdf(typst::document(&p.book, &p.chapters), "fixture", &p.images, &p.fonts, &p.chapters).expect("the generated Typst compiles");
    assert!(pdf.starts_with(b"%PDF"));
}

#[test]
fn risk_of_bias_figures() {
    let p = book();
    let chapter = &p.chapters[chapter_index(&p, "rob.md")];
    let svgs: Vec<&str> = chapter
        .views
        .iter()
        .filter_map(|v| match v {
            metabook::render::chapter::View::Figure { svg, .. } => Some(svg.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(svgs.len(), 2);
    insta::assert_snapshot!("rob_traffic_light", svgs[0]);
    insta::assert_snapshot!("rob_summary_weighted", svgs[1]);
}
