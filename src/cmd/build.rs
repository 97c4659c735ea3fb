//! `metabook build`: the whole review, from book.toml to the HTML site in `book/html/`, the
//! typeset PDF in `book/<title-slug>.pdf`, the plain-language summary (a page of the site and
//! `book/<title-slug>-plain-language-summary.pdf`), every analysis' results as `pool`'s JSON in
//! `book/results.json` and, when a number moved since the previous build, `book/changes.md`. The site holds copies of the PDFs and links them from every page.
//!
//! load → parse → execute → render, then write. [`prepare`] does everything but the output
//! formats, [`render`] makes every output in memory; both are shared with `metabook check`,
//! `watch` and `serve`. Every problem in the book — also one only typesetting finds — is
//! reported before anything is written, so a failed build leaves the previous output as it was;
//! then [`crate::output`] writes the build folder, only where its bytes changed.
//!
//! A build reads and fills the build cache ([`crate::cache`]): analyses, figures, tables and
//! citations whose inputs are unchanged are not computed again, and a PDF is typeset only when
//! its Typst source or images changed. In one process ([`Session`]), typst also keeps the layout
//! of what did not change.

use crate::book::{self, Book};
use crate::cache::{self, Cache};
use crate::diag::Diagnostic;
use crate::directive::{self, Directive};
use crate::engine::{self, Analyses};
use crate::output;
use crate::render::chapter::{self, PreparedChapter};
use crate::render::changes;
use crate::render::cite::{self, Bibliography};
use crate::render::{html, json, pls, typst};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A book loaded, its directives parsed, its analyses run and its chapters prepared.
pub struct Prepared {
    pub book: Book,
    pub directives: usize,
    pub analyses: Analyses,
    pub chapters: Vec<PreparedChapter>,
    pub counters: chapter::Counters,
    /// The images the chapters show: where the outputs keep them → their bytes.
    pub images: BTreeMap<String, Vec<u8>>,
    /// The fonts the PDFs are set in: metabook's and the book's fonts folder.
    pub fonts: Arc<typst::FontSet>,
    /// The plain-language summary, when book.toml has `[pls]`.
    pub pls: Option<pls::Summary>,
    /// What this build reports, to compare with the next build.
    pub ledger: changes::Ledger,
    /// Problems that do not stop the build.
    pub warnings: Vec<Diagnostic>,
    /// Time to load, parse and run the analyses.
    pub executed: Duration,
    /// The cache the results were read from and written to.
    pub cache: Cache,
}

/// Load, parse, execute and prepare the book in `root`, collecting every problem; every
/// directive is run (nothing is read from or written to the build cache).
pub fn prepare(root: &Path) -> Result<Prepared, Vec<Diagnostic>> {
    prepare_with(root, None)
}

/// [`prepare`], with the build cache of the book's build folder for results computed by the
/// metabook `identity` ([`cache::identity`]) when one is given.
pub fn prepare_with(root: &Path, identity: Option<&str>) -> Result<Prepared, Vec<Diagnostic>> {
    prepare_remembering(root, identity, None)
}

/// [`prepare_with`], the cache also kept decoded in `memory` between builds.
fn prepare_remembering(root: &Path, identity: Option<&str>, memory: Option<&cache::Memory>) -> Result<Prepared, Vec<Diagnostic>> {
    let start = Instant::now();
    let book = book::load(root)?;
    let collisions = page_collisions(&book);
    if !collisions.is_empty() {
        return Err(collisions);
    }
    let mut cache = match identity {
        Some(identity) => {
            let cache = Cache::open(&book.root, &book.root.join(&book.config.build.build_dir), identity);
            match memory {
                Some(memory) => cache.remembering(memory),
                None => cache,
            }
        }
        None => Cache::disabled(),
    };
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
    let analyses = engine::run_directives(&book, &directives, &mut cache)?;
    let executed = start.elapsed();
    let data_table = |d: &Directive, name: &toml::Spanned<String>| -> Result<std::sync::Arc<crate::diag::Source>, Vec<Diagnostic>> {
        book::read_data(&book, name.get_ref()).map_err(|why| vec![d.error_at(name.span(), format!("data file {why}"), "here")])
    };
    let values = chapter::prose_values(&analyses, &mut cache);
    let mut counters = chapter::Counters::default();
    let mut chapters = Vec::new();
    for (c, range) in book.chapters.iter().zip(per_chapter) {
        let own: Vec<&Directive> = directives[range].iter().collect();
        match chapter::prepare(&c.source, &own, &analyses, &values, &data_table, &mut counters, &mut cache) {
            Ok(p) => chapters.push(p),
            Err(mut e) => problems.append(&mut e),
        }
    }
    let mut images = BTreeMap::new();
    for (c, prepared) in book.chapters.iter().zip(chapters.iter_mut()) {
        let scanned = scan_markdown(&c.source);
        problems.extend(scanned.problems);
        for (dest, span) in scanned.images {
            let image = book::read_image(&book, c, &dest).and_then(|image| {
                let extension = dest.rsplit('.').next().unwrap_or("").to_lowercase();
                typst::check_image(&image.bytes, &extension).map_err(|why| format!("`{dest}` {why}")).map(|()| image)
            });
            match image {
                Ok(image) => {
                    prepared.images.insert(dest, image.site_path.clone());
                    images.insert(image.site_path, image.bytes);
                }
                Err(why) => problems.push(
                    Diagnostic::error(format!("image {why}"))
                        .at(&c.source, span, "this image")
                        .hint(format!("images are PNG, JPEG, GIF or SVG files inside {}, addressed from the chapter's folder", book.config.build.src.display())),
                ),
            }
        }
    }
    let fonts = book::read_fonts(&book).and_then(typst::FontSet::new).unwrap_or_else(|e| {
        // A font has no lines to point at: book.toml is, where it names the folder.
        let folder = book.config.build.fonts.span();
        problems.extend(e.into_iter().map(|d| if folder.is_empty() || d.location.is_some() { d } else { d.at(&book.config_source, folder.clone(), "the fonts folder") }));
        typst::FontSet::new(Vec::new()).expect("the embedded fonts")
    });
    let pdf = &book.config.output.pdf;
    if !fonts.has_family(pdf.font_family()) {
        let d = Diagnostic::error(format!("no font family `{}` in metabook's fonts or the book's fonts folder", pdf.font.get_ref()));
        let d = if pdf.font.span().is_empty() { d } else { d.at(&book.config_source, pdf.font.span(), "here") };
        problems.push(d.hint(format!("`libertinus-serif`, `new-computer-modern`, or a family of the fonts in {}: {}", book.config.build.fonts.display(), fonts.families().join(", "))));
    }
    problems.extend(duplicate_labels(&directives));
    if !problems.is_empty() {
        return Err(problems);
    }
    let bibliography = bibliography(&book)?;
    cite::resolve(&mut chapters, bibliography.as_ref(), book.config.book.language.get_ref(), &mut cache)?;
    let mut warnings = std::mem::take(&mut counters.warnings);
    let pls = match &book.config.pls {
        Some(config) => {
            let summary = plain_language_summary(&book, config, &directives, &analyses, &values)?;
            warnings.extend(summary.warnings.iter().cloned());
            Some(summary)
        }
        None => None,
    };
    let ledger = changes::ledger(&analyses, &directives, pls.as_ref());
    let directives = directives.len();
    Ok(Prepared { book, directives, analyses, chapters, counters, images, fonts, pls, ledger, warnings, executed, cache })
}

/// The plain-language summary: the GRADE file and the templates read, the `pls` blocks of
/// every chapter turned into the page.
fn plain_language_summary(
    book: &Book,
    config: &crate::config::PlsConfig,
    directives: &[Directive],
    analyses: &Analyses,
    values: &[(String, minijinja::Value)],
) -> Result<pls::Summary, Vec<Diagnostic>> {
    let grade_file = config.grade.get_ref();
    let source = book::read_data(book, grade_file)
        .map_err(|why| vec![Diagnostic::error(format!("[pls] grade file {why}")).at(&book.config_source, config.grade.span(), "here").hint("the GRADE file (as for `metabook sof`) in the data folder")])?;
    let grade = crate::data::grade::load_grade(&source)?;
    // What concerns the summary as a whole (no `pls` block, no wording table for the book's
    // language) is pointed at its table in book.toml.
    let table = book.config_source.text.lines().scan(0, |at, line| {
        let start = *at;
        *at += line.len() + 1;
        Some((start, line))
    });
    let header = table.filter(|(_, line)| line.trim() == "[pls]").map(|(start, line)| start..start + line.len()).next().unwrap_or(config.grade.span());
    let at_table = |problems: Vec<Diagnostic>| -> Vec<Diagnostic> {
        problems.into_iter().map(|d| if d.location.is_some() { d } else { d.at(&book.config_source, header.clone(), "the plain-language summary") }).collect()
    };
    let (template, words_source) = book::pls_templates(book).map_err(at_table)?;
    // The template is Markdown too: what a chapter may not hold, it may not hold either.
    let problems = scan_markdown(&template).problems;
    if !problems.is_empty() {
        return Err(problems);
    }
    let words = pls::parse_words(&words_source)?;
    let all: Vec<&Directive> = directives.iter().collect();
    let (language, _) = book.config.book.language_parts();
    let inputs = pls::Inputs {
        config,
        config_source: &book.config_source,
        language: &language,
        search_date: book.config.book.search_date(),
        review_title: &book.config.book.title,
        directives: &all,
        analyses,
        values,
        grade: &grade,
        words: &words,
        template: &template,
    };
    pls::summary(&inputs).map_err(at_table)
}

/// The `[bibliography]` of book.toml: the file read and parsed, the style chosen.
fn bibliography(book: &Book) -> Result<Option<Bibliography>, Vec<Diagnostic>> {
    let Some(config) = &book.config.bibliography else { return Ok(None) };
    let at = |span: std::ops::Range<usize>, message: String, hint: String| vec![Diagnostic::error(message).at(&book.config_source, span, "here").hint(hint)];
    let file = config.file.get_ref();
    let source = book::read_data(book, file).map_err(|why| at(config.file.span(), format!("bibliography file {why}"), "the file is looked for in the data folder".into()))?;
    let library = cite::parse_library(&source)?;
    let mut style_id = config.style.as_ref().map_or("vancouver".to_string(), |s| s.get_ref().clone());
    let style = match &config.style {
        None => cite::builtin_style("vancouver").expect("vancouver is built in"),
        Some(name) if name.get_ref().ends_with(".csl") => {
            let csl = book::read_data(book, name.get_ref()).map_err(|why| at(name.span(), format!("citation style {why}"), "a .csl file is looked for in the data folder".into()))?;
            style_id = csl.text.clone();
            cite::csl_style(&csl).map_err(|e| at(name.span(), format!("cannot read the citation style {}: {e}", csl.name), "an independent CSL 1.0 style is expected".into()))?
        }
        Some(name) => cite::builtin_style(name.get_ref()).ok_or_else(|| {
            let close = cite::style_names().min_by_key(|n| strsim::levenshtein(n, name.get_ref())).unwrap_or("vancouver");
            at(name.span(), format!("unknown citation style `{}`", name.get_ref()), format!("did you mean `{close}`? Or give a .csl file in the data folder"))
        })?,
    };
    Ok(Some(Bibliography { library, style, style_id, source }))
}

/// What a chapter's Markdown asks of the outputs, read before they are made.
struct Scanned {
    /// The local images: (address, span of the image in the Markdown).
    images: Vec<(String, std::ops::Range<usize>)>,
    /// Links without a target or that could run code, and blocks nested deeper than the PDF
    /// can set.
    problems: Vec<Diagnostic>,
}

/// How deep quotes and lists may be nested: typst stops at a depth of nested show rules that
/// 16 quotes reach (and about 30 lists); no review needs 10.
const MAX_NESTING: usize = 10;

/// Read a chapter's Markdown for what would fail or be unsafe in an output, so that it is
/// reported at its place now rather than dropped, or found only by typesetting.
fn scan_markdown(source: &Arc<crate::diag::Source>) -> Scanned {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut scanned = Scanned { images: Vec::new(), problems: Vec::new() };
    let mut depth = 0;
    for (event, span) in Parser::new_ext(&source.text, chapter::markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) if !chapter::safe_url(&dest_url) => scanned.problems.push(
                Diagnostic::error(format!("the image address `{dest_url}` could run code in a reader's browser"))
                    .at(source, span, "this image")
                    .hint("images are files inside the book or http(s) addresses"),
            ),
            Event::Start(Tag::Image { dest_url, .. }) if !book::is_remote(&dest_url) => scanned.images.push((dest_url.to_string(), span)),
            Event::Start(Tag::Link { dest_url, .. }) if dest_url.is_empty() => scanned.problems.push(
                Diagnostic::error("a link without a target")
                    .at(source, span, "this link")
                    .hint("write the address in the parentheses, `[text](https://…)`, or remove the brackets"),
            ),
            Event::Start(Tag::Link { dest_url, .. }) if !chapter::safe_url(&dest_url) => scanned.problems.push(
                Diagnostic::error(format!("the link `{dest_url}` could run code in a reader's browser"))
                    .at(source, span, "this link")
                    .hint("links go to http(s), mailto: or tel: addresses, or to files and anchors of the book"),
            ),
            Event::Start(Tag::BlockQuote(_) | Tag::List(_)) => {
                depth += 1;
                if depth == MAX_NESTING + 1 {
                    scanned.problems.push(
                        Diagnostic::error(format!("quotes and lists nested more than {MAX_NESTING} deep"))
                            .at(source, span.start..span.start, "this one")
                            .hint("the PDF cannot set deeper nesting; flatten the quotes or lists"),
                    );
                }
            }
            Event::End(TagEnd::BlockQuote(_) | TagEnd::List(_)) => depth -= 1,
            _ => {}
        }
    }
    scanned
}

/// Each chapter is a page of the site named after its path ([`html::page_file`]): two chapters
/// whose names flatten alike (`sub/a.md`, `sub-a.md`), or a chapter named like a page metabook
/// makes itself (`index.md`), would silently lose a page. Errors at the SUMMARY.md line.
fn page_collisions(book: &Book) -> Vec<Diagnostic> {
    let mut taken: Vec<(String, Option<&book::Chapter>)> = vec![("index.html".to_string(), None)];
    if book.config.pls.is_some() {
        taken.push((PLS_PAGE.to_string(), None));
    }
    let mut problems = Vec::new();
    for chapter in &book.chapters {
        let page = html::page_file(&chapter.path);
        let clash = taken.iter().find(|(p, _)| p.eq_ignore_ascii_case(&page));
        match clash {
            None => taken.push((page, Some(chapter))),
            Some((_, Some(other))) => problems.push(
                Diagnostic::error(format!("the chapters `{}` and `{}` would both be the page `{page}`", other.path.display(), chapter.path.display()))
                    .at(&book.summary, chapter.link.clone(), "this chapter")
                    .hint("a chapter's page is named after its path, folders joined by `-`: rename one of the files"),
            ),
            Some((_, None)) => problems.push(
                Diagnostic::error(format!("the chapter `{}` would be the page `{page}`, which metabook makes itself", chapter.path.display()))
                    .at(&book.summary, chapter.link.clone(), "this chapter")
                    .hint(if page == "index.html" { "index.html is the book's title page and contents: rename the chapter's file, e.g. `introduction.md`" } else { "rename the chapter's file" }),
            ),
        }
    }
    problems
}

/// Two figures or tables with one label would make `@label` ambiguous; two lists of references
/// would hold each reference twice, and a citation could link to only one.
fn duplicate_labels(directives: &[Directive]) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashMap::new();
    let mut problems = Vec::new();
    let mut references = directives.iter().filter(|d| matches!(d.body, directive::Body::References(_)));
    if let (Some(first), Some(second)) = (references.next(), references.next()) {
        let (line, _) = first.source.line_col(first.span.start);
        problems.push(
            Diagnostic::error("the book has a second list of references")
                .at(&second.source, second.span.clone(), "this one")
                .hint(format!("a book has one `metabook references` block; the first is in {} on line {line}", first.source.name)),
        );
    }
    for d in directives {
        let label = match &d.body {
            directive::Body::Forest(f) => f.label.as_ref(),
            directive::Body::Table(t) => t.label.as_ref(),
            directive::Body::Prisma(p) => p.label.as_ref(),
            directive::Body::Rob(r) => r.label.as_ref(),
            directive::Body::Sof(s) => s.label.as_ref(),
            directive::Body::Funnel(f) => f.label.as_ref(),
            directive::Body::Sensitivity(s) => s.label.as_ref(),
            directive::Body::Revman(r) => r.label.as_ref(),
            directive::Body::Analysis(_) | directive::Body::Results(_) | directive::Body::References(_) | directive::Body::Pls(_) => None,
        };
        if let Some(l) = label {
            if seen.insert(l.get_ref().clone(), ()).is_some() {
                problems.push(d.error_at(l.span(), format!("the label `{}` is used twice", l.get_ref()), "second use").hint("labels must be unique in the book"));
            }
        }
    }
    problems
}

/// What lasts from one build to the next: the identity the build cache is keyed by, and —
/// for `watch` and `serve`, which build many times in one process — the cache's entries
/// decoded ([`cache::Memory`], which makes the site of a rebuild after a small edit ready in a
/// fraction of the time) and typst's memoized work (comemo keeps it per process), which does the
/// same for the PDF. [`Session::build`] lets typst's memory age out; the cache's keeps what the
/// last build used.
pub struct Session {
    identity: String,
    /// The build cache's entries, decoded, from one build to the next.
    memory: cache::Memory,
}

impl Default for Session {
    fn default() -> Session {
        Session::with_identity(&cache::identity())
    }
}

/// Told the site's files (paths under `html/`, with their bytes) once they are made in memory.
pub type SiteMade<'a> = dyn FnMut(&[(String, Vec<u8>)]) + 'a;

/// What a build did, besides its output: for the closing lines, tests and benchmarks.
#[derive(Debug, Default)]
pub struct Built {
    pub output: super::Output,
    /// The directives run in this build (the others came from the cache), described.
    pub ran: Vec<String>,
    /// How many directives' results came from the cache.
    pub reused: usize,
    /// The files of the site written because they are new or changed.
    pub pages_written: Vec<String>,
    /// The PDFs typeset in this build (the others were unchanged).
    pub typeset: Vec<String>,
    /// The Word files written in this build because they are new or changed.
    pub words_written: Vec<String>,
    /// Whether the Word files were made in this build (not current on disk).
    pub words_made: bool,
    /// How many images of figures were drawn for the Word files (the others came from the cache).
    pub figures_drawn: usize,
    /// From the start to the site's pages made in memory (what `serve` shows at once), to
    /// every output made in memory (the site's pages, the PDFs), and to all of them written.
    pub site_time: Duration,
    pub made_time: Duration,
    pub written_time: Duration,
}

impl Session {
    /// A session whose cache trusts results of the metabook `identity` (normally
    /// [`cache::identity`]; another one stands for another metabook).
    pub fn with_identity(identity: &str) -> Session {
        Session { identity: identity.to_string(), memory: cache::Memory::default() }
    }

    /// Build the book in `root`; typst's memoized work not used in the last few builds is
    /// dropped afterwards, so a long `serve` does not grow.
    pub fn build(&mut self, root: &Path) -> Result<Built, Vec<Diagnostic>> {
        self.build_then(root, &mut |_| (), &mut || ())
    }

    /// [`Session::build`], calling `site_made` with the site's files (paths under `html/`) as
    /// soon as they are made in memory, before the PDFs are typeset and anything is written
    /// (`serve` shows them at once), and `site_written` once the output is written if any file
    /// of the site changed.
    pub fn build_then(&mut self, root: &Path, site_made: &mut SiteMade, site_written: &mut dyn FnMut()) -> Result<Built, Vec<Diagnostic>> {
        let outcome = build(root, &self.identity, Some(&self.memory), Instant::now(), &|_| (), site_made, site_written);
        comemo::evict(10);
        release_freed_memory();
        outcome
    }
}

/// Hand the memory a build freed back to the system. A build that draws the Word file's figures
/// frees tens of megabytes of pixel buffers on its drawing threads, which glibc keeps in those
/// threads' heaps; without this, a `serve` session's resident memory stayed near 300 MiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_freed_memory() {
    // SAFETY: malloc_trim only returns free pages of the allocator's heaps to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

/// Build the book in `root`; on success, the closing lines with timings. On a terminal, a
/// progress bar on stderr names the phase under way (indicatif draws nothing elsewhere).
pub fn run(root: &Path) -> Result<super::Output, Vec<Diagnostic>> {
    let start = Instant::now();
    let progress = ProgressBar::with_draw_target(Some(5), ProgressDrawTarget::stderr());
    progress.set_style(ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg}").expect("a valid template").progress_chars("=> "));
    let step = |message: &'static str| {
        progress.set_message(message);
        progress.inc(1);
    };
    progress.set_message("loading the book and running its analyses");
    let outcome = build(root, &cache::identity(), None, start, &step, &mut |_| (), &mut || ());
    progress.finish_and_clear();
    outcome.map(|built| built.output)
}

/// The outputs of a book, made in memory: every file of the build folder, relative to it
/// (the site under `html/`, the PDFs beside it), and what making them did.
pub struct Rendered {
    pub files: Vec<(String, Vec<u8>)>,
    /// How many pages the site has besides its index.
    pub pages: usize,
    /// The file names of the PDFs (the book's first).
    pub pdfs: Vec<String>,
    /// The file names of the Word files (none without `[output.docx]`).
    pub words: Vec<String>,
    /// Whether the Word files were made now (else they were current on disk).
    words_made: bool,
    /// How many images of figures were drawn for them (the others came from the cache).
    figures_drawn: usize,
    /// The PDFs typeset now (the others were current on disk), with their cache keys.
    typeset: Vec<(String, cache::Key, u128)>,
}

/// Make every output of a prepared book in memory — the site's pages, the PDFs — without
/// writing anything: a build writes them only when all of them succeeded, and `check` makes
/// them too, so it finds whatever would stop a build. A PDF whose Typst source and images are
/// those it was last typeset from, and which is still on disk as written, is not typeset again.
/// `site_made` gets the site's files as soon as they are made, before the PDFs are typeset.
/// The chapters' views are used up (emptied once both outputs hold them), so that they are not
/// kept while the PDF is typeset.
pub fn render(p: &mut Prepared, step: &dyn Fn(&'static str), site_made: &mut SiteMade) -> Result<Rendered, Vec<Diagnostic>> {
    let book = &p.book;
    step("rendering the HTML pages");
    let templates = book::templates(book)?;
    let page_files: Vec<String> = book.chapters.iter().map(|c| html::page_file(&c.path)).collect();
    let raw_html = book.config.output.html.raw_html;
    let bodies: Vec<String> = p.chapters.iter().map(|c| html::chapter_body(c, &page_files, raw_html)).collect();
    // The summary's page, as a chapter whose author's file is its template.
    let summary = p.pls.as_ref().map(|s| (s, PreparedChapter { markdown: s.markdown.clone(), source: Some(Arc::clone(&s.template)), ..Default::default() }));
    let extras: Vec<html::ExtraPage> = summary
        .iter()
        .map(|(s, c)| html::ExtraPage { title: s.page_title.clone(), file: PLS_PAGE.to_string(), body: html::chapter_body(c, &page_files, raw_html) })
        .collect();
    // The PDFs are also files of the site, linked from every page, so that the site alone
    // (what is published, and what `serve` shows) offers them.
    let pdf_file = format!("{}.pdf", slug(&book.config.book.title));
    let pls_file = format!("{}-plain-language-summary.pdf", slug(&book.config.book.title));
    let mut downloads = vec![html::Download { title: "The review (PDF)".to_string(), href: pdf_file.clone() }];
    if let Some((s, _)) = &summary {
        downloads.push(html::Download { title: s.pdf_link.clone(), href: pls_file.clone() });
    }
    let docx_file = format!("{}.docx", slug(&book.config.book.title));
    let pls_docx_file = format!("{}-plain-language-summary.docx", slug(&book.config.book.title));
    if book.config.output.docx.is_some() {
        downloads.push(html::Download { title: "The review (Word)".to_string(), href: docx_file.clone() });
        if let Some((s, _)) = &summary {
            downloads.push(html::Download { title: s.docx_link.clone(), href: pls_docx_file.clone() });
        }
    }
    let pages = html::site(book, &bodies, &extras, &downloads, &templates)?;
    drop((bodies, extras));
    let page_count = pages.len() - 1;
    let mut files: Vec<(String, Vec<u8>)> = pages.into_iter().map(|page| (format!("html/{}", page.file), page.html.into_bytes())).collect();
    files.extend(p.images.iter().map(|(path, bytes)| (format!("html/{path}"), bytes.clone())));
    site_made(&files);
    let build_dir = book.root.join(&book.config.build.build_dir);
    let book_source = typst::document(book, &p.chapters);
    // The figures and tables are in the site and the PDF's source now; what typesetting may still
    // need of a chapter is where its text stands, to report a problem there. The Word file, made
    // beside the typesetting, still reads them.
    if book.config.output.docx.is_none() {
        for c in &mut p.chapters {
            c.views = Vec::new();
        }
    }
    let book = &p.book;
    let mut jobs = vec![Typeset { file: pdf_file, source: book_source, ident: book.config.book.title.clone(), images: &p.images, fonts: &p.fonts, chapters: &p.chapters }];
    let no_images = BTreeMap::new();
    if let Some((s, c)) = &summary {
        jobs.push(Typeset { file: pls_file, source: typst::summary_document(book, &s.title, &s.colophon, c), ident: s.title.clone(), images: &no_images, fonts: &p.fonts, chapters: std::slice::from_ref(c) });
    }
    // A character no font has would be an empty box in the PDF: say which, and what to do.
    let mut missing: Vec<char> = Vec::new();
    for j in &jobs {
        for c in p.fonts.uncovered(&j.source, 13) {
            if !missing.contains(&c) {
                missing.push(c);
            }
        }
    }
    if !missing.is_empty() {
        let more = if missing.len() > 12 { " …" } else { "" };
        let shown: String = missing.iter().take(12).map(|c| format!("{c} (U+{:04X}) ", *c as u32)).collect();
        p.warnings.push(
            Diagnostic::warning(format!("the PDF has characters its fonts do not cover, which may show as empty boxes: {}{more}", shown.trim_end()))
                .hint(format!("put fonts that have them (.ttf, .otf) in the book's {} folder, e.g. Noto Serif KR or NanumMyeongjo for Korean, Noto Serif SC for Chinese; the site uses the reader's fonts", book.config.build.fonts.display())),
        );
    }
    // The Word files are made while the PDFs typeset, on the cores typesetting leaves idle: what
    // needs the cache is looked up first, what the figures' drawing adds to it is put after.
    // Like a PDF, they are not made again while what they show (the PDFs' sources say it all:
    // text, tables, figures), their options, their styles and the fonts that draw their figures
    // are the same, and the files on disk are those made then.
    let word = match book.config.output.docx {
        Some(options) => {
            let reference = book::reference_docx(book)?;
            let mut key = p.cache.key("docx").text(&format!("{options:?}")).number(p.fonts.hash);
            for j in &jobs {
                key = key.text(&j.source);
            }
            if let Some((_, bytes)) = &reference {
                key = key.bytes(bytes);
            }
            let key = key.finish();
            let names: Vec<&String> = std::iter::once(&docx_file).chain(summary.as_ref().map(|_| &pls_docx_file)).collect();
            let on_disk: Option<Vec<Vec<u8>>> = p.cache.get::<Vec<u128>>(key).and_then(|hashes| {
                (hashes.len() == names.len()).then_some(())?;
                names.iter().zip(&hashes).map(|(name, h)| std::fs::read(build_dir.join(name)).ok().filter(|b| cache::hash(b) == *h)).collect()
            });
            match on_disk {
                Some(files) => {
                    // The figures' PNGs stay in the cache for the next build that changes a figure
                    // (else it would draw them all again).
                    for (_, key) in figure_keys(&p.chapters, &p.fonts, &p.cache) {
                        p.cache.keep(key);
                    }
                    Some(Word::Current(files))
                }
                None => {
                    let reference = match reference {
                        Some((name, bytes)) => Some(crate::render::docx::reference_styles(&name, &bytes)?),
                        None => None,
                    };
                    let (pngs, todo) = word_figures(&p.chapters, &p.fonts, &mut p.cache);
                    Some(Word::Make(key, Box::new(WordWork { options, reference, pngs, todo })))
                }
            }
        }
        None => None,
    };
    step(if matches!(word, Some(Word::Make(..))) { "typesetting the PDF and writing the Word file" } else { "typesetting the PDF" });
    let keys: Vec<cache::Key> = jobs.iter().map(|j| j.key(&p.cache)).collect();
    // Each source goes to its typesetter; the jobs keep the rest.
    let sources: Vec<String> = jobs.iter_mut().map(|j| std::mem::take(&mut j.source)).collect();
    // Each PDF on disk is read once: to compare with the cache, and as the site's copy.
    let current: Vec<Option<Vec<u8>>> = jobs
        .iter()
        .zip(&keys)
        .map(|(j, k)| p.cache.get::<u128>(*k).and_then(|h| std::fs::read(build_dir.join(&j.file)).ok().filter(|b| cache::hash(b) == h)))
        .collect();
    // The book and the summary are typeset at the same time, each on its own core.
    let (outcomes, word) = std::thread::scope(|scope| {
        let summary_chapter = summary.as_ref().map(|(s, c)| (c, s.colophon.as_str()));
        let (chapters, fonts) = (&p.chapters, &p.fonts);
        let word = word.map(|w| match w {
            Word::Current(files) => Err(files),
            Word::Make(key, w) => Ok((key, scope.spawn(move || word_files(*w, book, chapters, summary_chapter, fonts)))),
        });
        let mut todo: Vec<_> = jobs.iter().zip(&current).zip(sources).map(|((j, on_disk), source)| on_disk.is_none().then_some((j, source))).collect();
        // The first on this thread, whose memory the rest of the build has freed.
        let first = todo.iter_mut().position(|t| t.is_some()).and_then(|i| Some((i, todo[i].take()?)));
        let running: Vec<_> = todo
            .into_iter()
            .map(|t| t.map(|(j, source)| scope.spawn(move || typst::compile_pdf(source, &j.ident, j.images, j.fonts, j.chapters))))
            .collect();
        let here = first.map(|(i, (j, source))| (i, typst::compile_pdf(source, &j.ident, j.images, j.fonts, j.chapters)));
        let mut outcomes: Vec<Result<Option<Vec<u8>>, Vec<Diagnostic>>> = running
            .into_iter()
            .map(|handle| match handle {
                None => Ok(None),
                Some(handle) => handle.join().unwrap_or_else(|_| Err(vec![Diagnostic::error("typesetting failed")])).map(Some),
            })
            .collect();
        if let Some((i, outcome)) = here {
            outcomes[i] = outcome.map(Some);
        }
        let word = word.map(|w| w.map(|(key, handle)| (key, handle.join().unwrap_or_else(|_| Err(vec![Diagnostic::error("writing the Word file failed")])))));
        (outcomes, word)
    });
    let mut words = Vec::new();
    let words_made = matches!(word, Some(Ok(_)));
    let mut figures_drawn = 0;
    let made = match word {
        None => Vec::new(),
        Some(Err(on_disk)) => on_disk,
        Some(Ok((key, made))) => {
            let WordFiles { review, summary: summary_bytes, drawn } = made?;
            figures_drawn = drawn.len();
            for (key, png) in drawn {
                p.cache.put(key, &png);
            }
            let made: Vec<Vec<u8>> = std::iter::once(review).chain(summary_bytes).collect();
            // Safe before the files are written: a build trusts this only with the same files
            // on disk.
            p.cache.put(key, &made.iter().map(|b| cache::hash(b)).collect::<Vec<u128>>());
            made
        }
    };
    for (name, bytes) in [docx_file, pls_docx_file].into_iter().zip(made) {
        files.push((format!("html/{name}"), bytes.clone()));
        words.push(name.clone());
        files.push((name, bytes));
    }
    let mut problems = Vec::new();
    let mut typeset = Vec::new();
    let pdfs: Vec<String> = jobs.iter().map(|j| j.file.clone()).collect();
    for (((job, key), on_disk), outcome) in jobs.iter().zip(&keys).zip(current).zip(outcomes) {
        let bytes = match (outcome, on_disk) {
            (Err(mut e), _) => {
                problems.append(&mut e);
                continue;
            }
            (Ok(Some(fresh)), _) => {
                typeset.push((job.file.clone(), *key, cache::hash(&fresh)));
                fresh
            }
            (Ok(None), Some(on_disk)) => on_disk,
            (Ok(None), None) => unreachable!("a PDF not current on disk is typeset"),
        };
        files.push((format!("html/{}", job.file), bytes.clone()));
        files.push((job.file.clone(), bytes));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    files.push((RESULTS_FILE.to_string(), json::render_book(p.analyses.by_name.iter().map(|(name, r)| (name.as_str(), r))).into_bytes()));
    Ok(Rendered { files, pages: page_count, pdfs, words, words_made, figures_drawn, typeset })
}

/// A figure's PNG as the build cache keeps it: the PNG's bytes (as CBOR bytes, not a list of
/// numbers), its size in pixels and in points.
type CachedPng = (ciborium::Value, u32, u32, f64, f64);

/// Each figure's PNG (or why it could not be drawn), by the SVG it was drawn from.
type Pngs<'a> = std::collections::HashMap<&'a str, Result<crate::render::docx::Png, String>>;

/// The Word files of a build: current on disk (their bytes), or to make (with the cache key
/// they are kept under).
enum Word<'a> {
    Current(Vec<Vec<u8>>),
    Make(cache::Key, Box<WordWork<'a>>),
}

/// What the Word files need that is made beside the PDF's typesetting.
struct WordWork<'a> {
    options: crate::config::DocxOutput,
    reference: Option<docx_rs::Styles>,
    /// Each figure's PNG, by its SVG, as far as the cache holds them.
    pngs: Pngs<'a>,
    /// The figures (SVGs, and the cache key of their PNG) still to draw.
    todo: Vec<(&'a str, cache::Key)>,
}

/// The Word files, and the PNGs drawn for them, for the cache.
struct WordFiles {
    review: Vec<u8>,
    summary: Option<Vec<u8>>,
    drawn: Vec<(cache::Key, CachedPng)>,
}

/// Each piece of each figure the Word file shows (its SVG), with the cache key of its PNG
/// (the SVG and the fonts).
fn figure_keys<'a>(chapters: &'a [PreparedChapter], fonts: &typst::FontSet, cache: &Cache) -> Vec<(&'a str, cache::Key)> {
    chapters
        .iter()
        .flat_map(|c| &c.views)
        .filter_map(|v| if let chapter::View::Figure { svg, parts, .. } = v { Some(crate::render::docx::figure_pieces(svg, parts.as_ref())) } else { None })
        .flatten()
        .map(|svg| (svg, cache.key("figure-png").text(svg).number(fonts.hash).finish()))
        .collect()
}

/// The Word file's figures: the PNGs the cache holds, and those still to draw.
fn word_figures<'a>(chapters: &'a [PreparedChapter], fonts: &typst::FontSet, cache: &mut Cache) -> (Pngs<'a>, Vec<(&'a str, cache::Key)>) {
    let mut pngs = Pngs::new();
    let mut todo = Vec::new();
    for (svg, key) in figure_keys(chapters, fonts, cache) {
        match cache.get::<CachedPng>(key) {
            Some((ciborium::Value::Bytes(png), w, h, wp, hp)) => {
                pngs.insert(svg, Ok((png, w, h, wp, hp)));
            }
            _ => todo.push((svg, key)),
        }
    }
    (pngs, todo)
}

/// The book and its plain-language summary as Word files. Figures are PNGs at 300 dpi, drawn by
/// Typst as the PDF draws them; those the cache does not hold are drawn on every core.
fn word_files(work: WordWork, book: &Book, chapters: &[PreparedChapter], summary: Option<(&PreparedChapter, &str)>, fonts: &Arc<typst::FontSet>) -> Result<WordFiles, Vec<Diagnostic>> {
    let WordWork { options, reference, mut pngs, todo } = work;
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get).max(1);
    let chunk = todo.len().div_ceil(threads).max(1);
    let drawn_now: Vec<(&str, cache::Key, Result<crate::render::docx::Png, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = todo.chunks(chunk).map(|part| scope.spawn(move || part.iter().map(|&(svg, key)| (svg, key, typst::figure_png(svg, 300.0, fonts))).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut drawn = Vec::new();
    for (svg, key, png) in drawn_now {
        if let Ok((bytes, w, h, wp, hp)) = &png {
            drawn.push((key, (ciborium::Value::Bytes(bytes.clone()), *w, *h, *wp, *hp)));
        }
        pngs.insert(svg, png);
    }
    let figure = |svg: &str| pngs.get(svg).cloned().unwrap_or_else(|| Err("not drawn".to_string()));
    let review = crate::render::docx::document(book, chapters, &figure, reference.as_ref())?;
    let summary = match summary {
        Some((c, colophon)) => Some(crate::render::docx::summary_document(c, colophon, reference.as_ref(), options)?),
        None => None,
    };
    Ok(WordFiles { review, summary, drawn })
}

fn build(
    root: &Path,
    identity: &str,
    memory: Option<&cache::Memory>,
    start: Instant,
    step: &dyn Fn(&'static str),
    site_made: &mut SiteMade,
    site_written: &mut dyn FnMut(),
) -> Result<Built, Vec<Diagnostic>> {
    let mut prepared = prepare_remembering(root, Some(identity), memory)?;
    let mut site_time = Duration::ZERO;
    let Rendered { mut files, pages: page_count, pdfs, words, words_made, figures_drawn, typeset } = render(&mut prepared, step, &mut |files| {
        site_time = start.elapsed();
        site_made(files);
    })?;
    let rendered_time = start.elapsed();
    // Every output exists: now, and only now, the build folder is written.
    step("writing the output");
    let Prepared { book, analyses, counters, pls, ledger, mut warnings, executed, mut cache, .. } = prepared;
    let build_dir = book.root.join(&book.config.build.build_dir);
    let changes = changes_report(&book.root, &build_dir, &ledger);
    if let Some(report) = &changes.report {
        files.push((CHANGES_FILE.to_string(), report.as_bytes().to_vec()));
    }
    files.push((LEDGER_FILE.to_string(), serde_json::to_vec_pretty(&ledger).expect("the ledger is plain data")));
    // The site's own files; its copies of the PDFs and Word files are counted as those.
    let document = |f: &str| pdfs.iter().chain(&words).any(|d| d == f);
    let site_files = files.iter().filter(|(f, _)| f.strip_prefix("html/").is_some_and(|f| !document(f))).count();
    let written = output::update_build(&book.root, &build_dir, &files, &[CHANGES_FILE.to_string()])
        .map_err(|e| vec![Diagnostic::error(format!("cannot write the book into {}: {e}", build_dir.display())).hint("nothing else was changed; the previous output is as it was where it could not be written")])?;
    let pages_written: Vec<String> = written.iter().filter_map(|f| f.strip_prefix("html/")).filter(|f| !document(f)).map(str::to_string).collect();
    let words_written: Vec<String> = written.iter().filter(|f| words.contains(f)).cloned().collect();
    if written.iter().any(|f| f.starts_with("html/")) {
        site_written();
    }
    for (_, key, hash) in &typeset {
        cache.put(*key, hash);
    }
    cache.commit(&book.root);
    if let Some(problem) = cache.write_error.take() {
        warnings.push(Diagnostic::warning(problem).hint("the book is built; the next build will compute everything again"));
    }
    let written_time = start.elapsed();
    step("done");
    let mut closing_pls = String::new();
    if let Some(s) = &pls {
        closing_pls = format!(
            "plain-language summary: {} and {}; {} words, {:.1} a sentence; {}\n",
            book.config.build.build_dir.join("html").join(PLS_PAGE).display(),
            book.config.build.build_dir.join(&pdfs[1]).display(),
            s.readability.words,
            s.readability.mean_sentence(),
            if s.scored { s.readability.describe() } else { "no readability formula for the book's language".to_string() }
        );
    }
    let ran: Vec<String> = analyses.executed.iter().map(|n| format!("analysis `{n}`")).chain(counters.executed.iter().cloned()).collect();
    let reused = analyses.by_name.len() - analyses.executed.len() + counters.reused;
    let typeset: Vec<String> = typeset.into_iter().map(|(file, _, _)| file).collect();
    let stdout = format!(
        "built {} pages, {} figures, {} tables from {} analyses into {} and {} in {} ms (analyses {} ms; all outputs made at {} ms and written at {} ms)\n",
        page_count,
        counters.figures,
        counters.tables,
        analyses.by_name.len(),
        book.config.build.build_dir.join("html").display(),
        book.config.build.build_dir.join(&pdfs[0]).display(),
        start.elapsed().as_millis(),
        executed.as_millis(),
        rendered_time.as_millis(),
        written_time.as_millis()
    ) + &closing_pls
        + &crate::review::revman::closing_line(&counters.reproductions).unwrap_or_default()
        + &format!(
            "rebuilt: {} of {} directives run ({} from the cache), {} of {} site files written, {} of {} PDFs typeset{}\n",
            ran.len(),
            ran.len() + reused,
            reused,
            pages_written.len(),
            site_files,
            typeset.len(),
            pdfs.len(),
            if words.is_empty() { String::new() } else { format!(", {} of {} Word files written", words_written.len(), words.len()) }
        )
        + &ran_line(&ran, reused)
        + &changes.terminal.map_or(String::new(), |summary| format!("changed since the previous build ({}):\n{summary}", book.config.build.build_dir.join(CHANGES_FILE).display()));
    Ok(Built { output: super::Output { stdout, warnings }, ran, reused, pages_written, typeset, words_written, words_made, figures_drawn, site_time, made_time: rendered_time, written_time })
}


/// After an edit, which directives it made run again (all of them need no list).
fn ran_line(ran: &[String], reused: usize) -> String {
    const SHOWN: usize = 6;
    if ran.is_empty() || reused == 0 {
        return String::new();
    }
    let mut line = format!("  ran: {}", ran.iter().take(SHOWN).cloned().collect::<Vec<_>>().join(", "));
    if ran.len() > SHOWN {
        line.push_str(&format!(" and {} more", ran.len() - SHOWN));
    }
    line + "\n"
}

/// A PDF to typeset: its file in the build folder, its Typst source, its identifier and the
/// images it shows.
struct Typeset<'a> {
    file: String,
    source: String,
    ident: String,
    images: &'a BTreeMap<String, Vec<u8>>,
    fonts: &'a Arc<typst::FontSet>,
    /// The chapters the source was made from, to report an error where it stands.
    chapters: &'a [PreparedChapter],
}

impl Typeset<'_> {
    /// Everything the PDF's bytes follow from.
    fn key(&self, cache: &Cache) -> cache::Key {
        let mut key = cache.key("pdf").text(&self.source).text(&self.ident).number(self.fonts.hash);
        for (path, bytes) in self.images {
            key = key.text(path).bytes(bytes);
        }
        key.finish()
    }
}

/// Every analysis' results by name, each as `metabook pool --format json` prints it: a stable
/// interface for other programs (README, "results.json").
pub const RESULTS_FILE: &str = "results.json";

/// The changes report and the ledger it compares with, in the build folder.
pub const CHANGES_FILE: &str = "changes.md";
const LEDGER_FILE: &str = ".metabook/reported.json";

/// What moved since the previous build: the changes report (`changes.md`) and its lines for
/// the terminal, both `None` when nothing moved.
struct Changes {
    report: Option<String>,
    terminal: Option<String>,
}

/// Compare what this build reports with the previous build's ledger in the build folder of the
/// book in `book_root` (the build then writes the new ledger, and the report where anything
/// moved).
fn changes_report(book_root: &Path, build_dir: &Path, ledger: &changes::Ledger) -> Changes {
    let base = book_root.canonicalize().ok();
    let previous: Option<changes::Ledger> = base.and_then(|base| crate::output::read_own(&base, &build_dir.join(LEDGER_FILE))).and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let report = previous.as_ref().and_then(|old| changes::report(old, ledger));
    let terminal = report.as_ref().map(|r| r.lines().filter(|l| l.starts_with("- ")).map(|l| format!("  {}\n", l.replace("**", "").replace('`', ""))).collect());
    Changes { report, terminal }
}

/// The plain-language summary's page in the site.
pub const PLS_PAGE: &str = "plain-language-summary.html";

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
