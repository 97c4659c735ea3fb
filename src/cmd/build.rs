//! `metabook build`: the whole review, from book.toml to the HTML site in `book/html/` and the
//! typeset PDF in `book/<title-slug>.pdf`.
//!
//! load → parse → execute → render, then write. [`prepare`] does everything but the output
//! formats and is shared with `metabook check`; every problem is reported before anything is
//! written, and the outputs are swapped in whole, so a failed build leaves the previous one intact.

use crate::book::{self, Book};
use crate::data::{csv_table, CsvTable};
use crate::diag::Diagnostic;
use crate::directive::{self, Directive, TableDirective};
use crate::engine::{self, Analyses};
use crate::output;
use crate::render::chapter::{self, PreparedChapter};
use crate::render::{html, typst};
use std::path::Path;
use std::time::{Duration, Instant};

/// A book loaded, its directives parsed, its analyses run and its chapters prepared.
pub struct Prepared {
    pub book: Book,
    pub directives: usize,
    pub analyses: Analyses,
    pub chapters: Vec<PreparedChapter>,
    pub counters: chapter::Counters,
    /// Time to load, parse and run the analyses.
    pub executed: Duration,
}

/// Load, parse, execute and prepare the book in `root`, collecting every problem.
pub fn prepare(root: &Path) -> Result<Prepared, Vec<Diagnostic>> {
    let start = Instant::now();
    let book = book::load(root)?;
    let mut directives: Vec<Directive> = Vec::new();
    let mut per_chapter = Vec::new();
    let mut problems = Vec::new();
    for chapter in &book.chapters {
        let first = directives.len();
        match directive::parse_chapter(&chapter.source) {
            Ok(mut d) => directives.append(&mut d),
            Err(mut e) => problems.append(&mut e),
        }
        per_chapter.push(first..directives.len());
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let analyses = engine::run_directives(&book, &directives)?;
    let executed = start.elapsed();
    let data_table = |d: &Directive, t: &TableDirective| -> Result<CsvTable, Vec<Diagnostic>> {
        let name = t.data.as_ref().expect("called for data tables");
        let source = book::read_data(&book, name.get_ref()).map_err(|why| vec![d.error_at(name.span(), format!("data file {why}"), "here")])?;
        csv_table(&source)
    };
    let mut counters = chapter::Counters::default();
    let mut chapters = Vec::new();
    for (c, range) in book.chapters.iter().zip(per_chapter) {
        let own: Vec<&Directive> = directives[range].iter().collect();
        match chapter::prepare(&c.source, &own, &analyses, &data_table, &mut counters) {
            Ok(p) => chapters.push(p),
            Err(mut e) => problems.append(&mut e),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let directives = directives.len();
    Ok(Prepared { book, directives, analyses, chapters, counters, executed })
}

/// Build the book in `root`; on success, the closing line with timings.
pub fn run(root: &Path) -> Result<String, Vec<Diagnostic>> {
    let start = Instant::now();
    let Prepared { book, analyses, chapters: prepared, counters, executed, .. } = prepare(root)?;
    let templates = book::templates(&book)?;
    let bodies: Vec<String> = prepared.iter().map(html::chapter_body).collect();
    let pages = html::site(&book, &bodies, &templates)?;
    let pdf_start = Instant::now();
    let pdf = typst::compile_pdf(typst::document(&book, &prepared), &book.config.book.title)?;
    let pdf_time = pdf_start.elapsed();
    let build_dir = book.root.join(&book.config.build.build_dir);
    let files: Vec<(String, Vec<u8>)> = pages.into_iter().map(|p| (p.file, p.html.into_bytes())).collect();
    output::replace_folder(&build_dir.join("html"), &files)
        .map_err(|e| vec![Diagnostic::error(format!("cannot write {}: {e}", build_dir.join("html").display()))])?;
    let pdf_path = build_dir.join(format!("{}.pdf", slug(&book.config.book.title)));
    output::replace_file(&pdf_path, &pdf).map_err(|e| vec![Diagnostic::error(format!("cannot write {}: {e}", pdf_path.display()))])?;
    Ok(format!(
        "built {} pages, {} figures, {} tables from {} analyses into {} and {} in {} ms (analyses {} ms, PDF {} ms)\n",
        files.len() - 1,
        counters.figures,
        counters.tables,
        analyses.by_name.len(),
        book.config.build.build_dir.join("html").display(),
        book.config.build.build_dir.join(pdf_path.file_name().unwrap_or_default()).display(),
        start.elapsed().as_millis(),
        executed.as_millis(),
        pdf_time.as_millis()
    ))
}

/// A file name from a title: lower-case words joined by `-`, at most 60 characters.
pub fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    let mut out = String::new();
    for w in words {
        if out.len() + w.len() + 1 > 60 {
            break;
        }
        if !out.is_empty() {
            out.push('-');
        }
        out.push_str(&w);
    }
    if out.is_empty() {
        "book".to_string()
    } else {
        out
    }
}
