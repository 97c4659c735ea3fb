//! `metabook check`: load the book, parse every directive and run every analysis, reporting
//! all problems with their locations — everything `metabook build` does before rendering.

use crate::book;
use crate::diag::Diagnostic;
use crate::directive;
use crate::engine;
use std::path::Path;

/// Check the book in `root`; on success, a one-line summary.
pub fn run(root: &Path) -> Result<String, Vec<Diagnostic>> {
    let book = book::load(root)?;
    let mut directives = Vec::new();
    let mut problems = Vec::new();
    for chapter in &book.chapters {
        match directive::parse_chapter(&chapter.source) {
            Ok(mut d) => directives.append(&mut d),
            Err(mut e) => problems.append(&mut e),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let analyses = engine::run_directives(&book, &directives)?;
    Ok(format!(
        "ok: {} chapters, {} directives, {} analyses ({})\n",
        book.chapters.len(),
        directives.len(),
        analyses.by_name.len(),
        analyses.by_name.iter().map(|(n, r)| format!("{n}: k = {}", r.analysis.k)).collect::<Vec<_>>().join(", ")
    ))
}
