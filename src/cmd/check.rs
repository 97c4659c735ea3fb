//! `metabook check`: load the book, parse every directive, run every analysis, render every
//! inline value and every directive's view, make the site's pages and typeset the PDFs in
//! memory — everything `metabook build` does but write (it is the same code,
//! [`super::build::prepare`] and [`super::build::render`]) — reporting all problems with their
//! locations.

use crate::diag::Diagnostic;
use std::path::Path;

/// Check the book in `root`; on success, a one-line summary.
pub fn run(root: &Path) -> Result<super::Output, Vec<Diagnostic>> {
    let mut p = super::build::prepare(root)?;
    super::build::render(&mut p, &|_| (), &mut |_| ())?;
    let stdout = format!(
        "ok: {} chapters, {} directives, {} analyses ({})\n",
        p.book.chapters.len(),
        p.directives,
        p.analyses.by_name.len(),
        p.analyses.by_name.iter().map(|(n, r)| format!("{n}: k = {}", r.analysis.k)).collect::<Vec<_>>().join(", ")
    ) + &crate::review::revman::closing_line(&p.counters.reproductions).unwrap_or_default();
    Ok(super::Output { stdout, warnings: p.warnings })
}
