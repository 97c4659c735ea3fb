//! `metabook check`: load the book, parse every directive, run every analysis and render every
//! inline value, reporting all problems with their locations — everything `metabook build`
//! does before writing output.

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
    // Inline values: every chapter's `{{ … }}` must render.
    let values: Vec<(String, serde_json::Value)> =
        analyses.by_name.iter().map(|(n, r)| (n.clone(), crate::render::json::value(r))).collect();
    let env = crate::render::prose::environment();
    let problems: Vec<Diagnostic> = book
        .chapters
        .iter()
        .filter_map(|c| crate::render::prose::render_chapter(&env, &c.source, &values).err())
        .collect();
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(format!(
        "ok: {} chapters, {} directives, {} analyses ({})\n",
        book.chapters.len(),
        directives.len(),
        analyses.by_name.len(),
        analyses.by_name.iter().map(|(n, r)| format!("{n}: k = {}", r.analysis.k)).collect::<Vec<_>>().join(", ")
    ))
}
