//! `metabook build`: the whole review, from book.toml to the HTML site in `book/html/`, the
//! typeset PDF in `book/<title-slug>.pdf`, the plain-language summary (a page of the site and
//! `book/<title-slug>-plain-language-summary.pdf`) and, when a number moved since the previous
//! build, `book/changes.md`. The site holds copies of the PDFs and links them from every page.
//!
//! load → parse → execute → render, then write. [`prepare`] does everything but the output
//! formats and is shared with `metabook check`, `watch` and `serve`; every problem in the book
//! is reported before anything is written, so a failed build leaves the previous one intact.
//!
//! A build reads and fills the build cache ([`crate::cache`]): analyses, figures, tables and
//! citations whose inputs are unchanged are not computed again, the site is written first and
//! only where its bytes changed (a browser shows the new numbers before the PDF is done), and a
//! PDF is typeset only when its Typst source or images changed. In one process ([`Session`]),
//! typst also keeps the layout of what did not change.

use crate::book::{self, Book};
use crate::cache::{self, Cache};
use crate::diag::Diagnostic;
use crate::directive::{self, Directive};
use crate::engine::{self, Analyses};
use crate::output;
use crate::render::chapter::{self, PreparedChapter};
use crate::render::changes;
use crate::render::cite::{self, Bibliography};
use crate::render::{html, pls, typst};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::BTreeMap;
use std::path::Path;
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
    let start = Instant::now();
    let book = book::load(root)?;
    let mut cache = match identity {
        Some(identity) => Cache::open(&book.root.join(&book.config.build.build_dir), identity),
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
    let values = chapter::prose_values(&analyses);
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
        for (dest, span) in image_links(&c.source) {
            match book::read_image(&book, c, &dest) {
                Ok(image) => {
                    prepared.images.insert(dest, image.site_path.clone());
                    images.insert(image.site_path, image.bytes);
                }
                Err(why) => problems.push(
                    Diagnostic::error(format!("image {why}"))
                        .at(&c.source, span, "this image")
                        .hint(format!("images are files inside {}, addressed from the chapter's folder", book.config.build.src.display())),
                ),
            }
        }
    }
    problems.extend(duplicate_labels(&directives));
    if !problems.is_empty() {
        return Err(problems);
    }
    let bibliography = bibliography(&book)?;
    cite::resolve(&mut chapters, bibliography.as_ref(), &book.config.book.language, &mut cache)?;
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
    Ok(Prepared { book, directives, analyses, chapters, counters, images, pls, ledger, warnings, executed, cache })
}

/// The plain-language summary: the GRADE file and the templates read, the `pls` blocks of
/// every chapter turned into the page.
fn plain_language_summary(
    book: &Book,
    config: &crate::config::PlsConfig,
    directives: &[Directive],
    analyses: &Analyses,
    values: &[(String, serde_json::Value)],
) -> Result<pls::Summary, Vec<Diagnostic>> {
    let grade_file = config.grade.get_ref();
    let source = book::read_data(book, grade_file)
        .map_err(|why| vec![Diagnostic::error(format!("[pls] grade file {why}")).at(&book.config_source, config.grade.span(), "here").hint("the GRADE file (as for `metabook sof`) in the data folder")])?;
    let grade = crate::data::grade::load_grade(&source)?;
    let (template, words_source) = book::pls_templates(book)?;
    let words = pls::parse_words(&words_source)?;
    let all: Vec<&Directive> = directives.iter().collect();
    pls::summary(config, &all, analyses, values, &grade, &words, &template)
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

/// The local images of a chapter: (address, span of the image in the Markdown).
fn image_links(source: &crate::diag::Source) -> Vec<(String, std::ops::Range<usize>)> {
    use pulldown_cmark::{Event, Options, Parser, Tag};
    Parser::new_ext(&source.text, Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES)
        .into_offset_iter()
        .filter_map(|(event, span)| match event {
            Event::Start(Tag::Image { dest_url, .. }) if !book::is_remote(&dest_url) => Some((dest_url.to_string(), span)),
            _ => None,
        })
        .collect()
}

/// Two figures or tables with one label would make `@label` ambiguous.
fn duplicate_labels(directives: &[Directive]) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashMap::new();
    let mut problems = Vec::new();
    for d in directives {
        let label = match &d.body {
            directive::Body::Forest(f) => f.label.as_ref(),
            directive::Body::Table(t) => t.label.as_ref(),
            directive::Body::Prisma(p) => p.label.as_ref(),
            directive::Body::Rob(r) => r.label.as_ref(),
            directive::Body::Sof(s) => s.label.as_ref(),
            directive::Body::Funnel(f) => f.label.as_ref(),
            directive::Body::Sensitivity(s) => s.label.as_ref(),
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
/// for `watch` and `serve`, which build many times in one process — typst's memoized work
/// (comemo keeps it per process), which is what makes a re-typeset after a small edit take a
/// fraction of the first. [`Session::build`] lets that memory age out.
pub struct Session {
    identity: String,
}

impl Default for Session {
    fn default() -> Session {
        Session::with_identity(&cache::identity())
    }
}

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
    /// From the start to the site written, and to the PDFs written.
    pub html_time: Duration,
    pub pdf_time: Duration,
}

impl Session {
    /// A session whose cache trusts results of the metabook `identity` (normally
    /// [`cache::identity`]; another one stands for another metabook).
    pub fn with_identity(identity: &str) -> Session {
        Session { identity: identity.to_string() }
    }

    /// Build the book in `root`; typst's memoized work not used in the last few builds is
    /// dropped afterwards, so a long `serve` does not grow.
    pub fn build(&mut self, root: &Path) -> Result<Built, Vec<Diagnostic>> {
        self.build_then(root, &mut || ())
    }

    /// [`Session::build`], calling `site_written` as soon as the site is written when any of its
    /// files changed, before the PDFs are typeset (`serve` reloads the open pages then).
    pub fn build_then(&mut self, root: &Path, site_written: &mut dyn FnMut()) -> Result<Built, Vec<Diagnostic>> {
        let outcome = build(root, &self.identity, Instant::now(), &|_| (), site_written);
        comemo::evict(10);
        outcome
    }
}

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
    let outcome = build(root, &cache::identity(), start, &step, &mut || ());
    progress.finish_and_clear();
    outcome.map(|built| built.output)
}

fn build(root: &Path, identity: &str, start: Instant, step: &dyn Fn(&'static str), site_written: &mut dyn FnMut()) -> Result<Built, Vec<Diagnostic>> {
    let Prepared { book, analyses, chapters: prepared, counters, images, pls, ledger, mut warnings, executed, mut cache, .. } = prepare_with(root, Some(identity))?;
    step("writing the HTML pages");
    let templates = book::templates(&book)?;
    let page_files: Vec<String> = book.chapters.iter().map(|c| html::page_file(&c.path)).collect();
    let bodies: Vec<String> = prepared.iter().map(|c| html::chapter_body(c, &page_files)).collect();
    let summary = pls.as_ref().map(|s| (s, PreparedChapter { markdown: s.markdown.clone(), ..Default::default() }));
    let extras: Vec<html::ExtraPage> = summary
        .iter()
        .map(|(_, c)| html::ExtraPage { title: "Plain-language summary".to_string(), file: PLS_PAGE.to_string(), body: html::chapter_body(c, &page_files) })
        .collect();
    // The PDFs are also files of the site, linked from every page, so that the site alone
    // (what is published, and what `serve` shows) offers them.
    let pdf_file = format!("{}.pdf", slug(&book.config.book.title));
    let pls_file = format!("{}-plain-language-summary.pdf", slug(&book.config.book.title));
    let mut downloads = vec![html::Download { title: "The review (PDF)".to_string(), href: pdf_file.clone() }];
    if summary.is_some() {
        downloads.push(html::Download { title: "Plain-language summary (PDF)".to_string(), href: pls_file.clone() });
    }
    let pages = html::site(&book, &bodies, &extras, &downloads, &templates)?;
    let build_dir = book.root.join(&book.config.build.build_dir);
    let page_count = pages.len() - 1;
    let mut files: Vec<(String, Vec<u8>)> = pages.into_iter().map(|p| (p.file, p.html.into_bytes())).collect();
    files.extend(images.iter().map(|(path, bytes)| (path.clone(), bytes.clone())));
    let site_dir = build_dir.join("html");
    let cannot_write = |path: &Path, e: std::io::Error| vec![Diagnostic::error(format!("cannot write {}: {e}", path.display()))];
    let keep: Vec<String> = downloads.iter().map(|d| d.href.clone()).collect();
    let pages_written = output::update_folder(&site_dir, &files, &keep).map_err(|e| cannot_write(&site_dir, e))?;
    let html_time = start.elapsed();
    if !pages_written.is_empty() {
        site_written();
    }
    step("typesetting the PDF");
    let pdf_path = build_dir.join(&pdf_file);
    let pls_path = build_dir.join(&pls_file);
    let mut jobs = vec![Typeset { path: pdf_path.clone(), source: typst::document(&book, &prepared), ident: book.config.book.title.clone(), images: &images }];
    let no_images = BTreeMap::new();
    if let Some((s, c)) = &summary {
        jobs.push(Typeset { path: pls_path.clone(), source: typst::summary_document(&book, &s.title, c), ident: s.title.clone(), images: &no_images });
    }
    // A PDF whose Typst source and images are those it was last typeset from, and which is
    // still on disk as written, is not typeset again.
    let keys: Vec<cache::Key> = jobs.iter().map(|j| j.key(&cache)).collect();
    // Each PDF on disk is read once: to compare with the cache, and as the site's copy.
    let current: Vec<Option<Vec<u8>>> = jobs
        .iter()
        .zip(&keys)
        .map(|(j, k)| cache.get::<u128>(*k).and_then(|h| std::fs::read(&j.path).ok().filter(|b| cache::hash(b) == h)))
        .collect();
    // The book and the summary are typeset at the same time, each on its own core; a PDF
    // still current is taken as it is on disk.
    let outcomes: Vec<PdfOutcome> = std::thread::scope(|scope| {
        let running: Vec<_> = jobs
            .iter()
            .zip(current)
            .map(|(j, on_disk)| match on_disk {
                Some(bytes) => Err(bytes),
                None => Ok(scope.spawn(|| typst::compile_pdf(j.source.clone(), &j.ident, j.images))),
            })
            .collect();
        running
            .into_iter()
            .map(|r| match r {
                Err(on_disk) => Ok((false, on_disk)),
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(vec![Diagnostic::error("typesetting failed")])).map(|pdf| (true, pdf)),
            })
            .collect()
    });
    let mut finished = Vec::new();
    for ((job, key), outcome) in jobs.iter().zip(&keys).zip(outcomes) {
        let (fresh, bytes) = outcome?;
        finished.push((job, fresh.then_some(*key), bytes));
    }
    let mut typeset = Vec::new();
    for (job, key, bytes) in &finished {
        if let Some(key) = key {
            output::replace_file(&job.path, bytes).map_err(|e| cannot_write(&job.path, e))?;
            cache.put(*key, &cache::hash(bytes));
            typeset.push(job.path.file_name().unwrap_or_default().to_string_lossy().into_owned());
        }
    }
    // The site's copies follow the PDFs (written only where they differ).
    for (job, _, bytes) in &finished {
        let copy = site_dir.join(job.path.file_name().unwrap_or_default());
        output::update_file(&copy, bytes).map_err(|e| cannot_write(&copy, e))?;
    }
    let pdf_time = start.elapsed();
    step("writing the output");
    let mut closing_pls = String::new();
    if let Some((s, _)) = &summary {
        closing_pls = format!(
            "plain-language summary: {} and {}; Flesch reading ease {:.0}, Flesch–Kincaid grade {:.1}\n",
            book.config.build.build_dir.join("html").join(PLS_PAGE).display(),
            book.config.build.build_dir.join(pls_path.file_name().unwrap_or_default()).display(),
            s.readability.reading_ease,
            s.readability.grade
        );
    }
    let changed = record_changes(&build_dir, &ledger).map_err(|e| vec![Diagnostic::error(format!("cannot write the changes report in {}: {e}", build_dir.display()))])?;
    cache.prune();
    if let Some(problem) = cache.write_error.take() {
        warnings.push(Diagnostic::warning(problem).hint("the book is built; the next build will compute everything again"));
    }
    step("done");
    let ran: Vec<String> = analyses.executed.iter().map(|n| format!("analysis `{n}`")).chain(counters.executed.iter().cloned()).collect();
    let reused = analyses.by_name.len() - analyses.executed.len() + counters.reused;
    let stdout = format!(
        "built {} pages, {} figures, {} tables from {} analyses into {} and {} in {} ms (analyses {} ms; site written at {} ms, PDF at {} ms)\n",
        page_count,
        counters.figures,
        counters.tables,
        analyses.by_name.len(),
        book.config.build.build_dir.join("html").display(),
        book.config.build.build_dir.join(pdf_path.file_name().unwrap_or_default()).display(),
        start.elapsed().as_millis(),
        executed.as_millis(),
        html_time.as_millis(),
        pdf_time.as_millis()
    ) + &closing_pls
        + &format!(
            "rebuilt: {} of {} directives run ({} from the cache), {} of {} site files written, {} of {} PDFs typeset\n",
            ran.len(),
            ran.len() + reused,
            reused,
            pages_written.len(),
            files.len(),
            typeset.len(),
            jobs.len()
        )
        + &ran_line(&ran, reused)
        + &changed.map_or(String::new(), |summary| format!("changed since the previous build ({}):\n{summary}", book.config.build.build_dir.join(CHANGES_FILE).display()));
    Ok(Built { output: super::Output { stdout, warnings }, ran, reused, pages_written, typeset, html_time, pdf_time })
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

/// A PDF of a build: whether it was typeset in the build (or was current on disk), and its
/// bytes; or why typesetting failed.
type PdfOutcome = Result<(bool, Vec<u8>), Vec<Diagnostic>>;

/// A PDF to typeset: where it goes, its Typst source, its identifier and the images it shows.
struct Typeset<'a> {
    path: std::path::PathBuf,
    source: String,
    ident: String,
    images: &'a BTreeMap<String, Vec<u8>>,
}

impl Typeset<'_> {
    /// Everything the PDF's bytes follow from.
    fn key(&self, cache: &Cache) -> cache::Key {
        let mut key = cache.key("pdf").text(&self.source).text(&self.ident);
        for (path, bytes) in self.images {
            key = key.text(path).bytes(bytes);
        }
        key.finish()
    }
}

/// The changes report and the ledger it compares with, in the build folder.
pub const CHANGES_FILE: &str = "changes.md";
const LEDGER_FILE: &str = ".metabook/reported.json";

/// Compare what this build reports with the previous build's ledger; where anything moved,
/// write `changes.md` and return its lines for the terminal. The ledger is then replaced.
fn record_changes(build_dir: &Path, ledger: &changes::Ledger) -> std::io::Result<Option<String>> {
    let ledger_path = build_dir.join(LEDGER_FILE);
    let previous: Option<changes::Ledger> = std::fs::read(&ledger_path).ok().and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let report = previous.as_ref().and_then(|old| changes::report(old, ledger));
    if let Some(report) = &report {
        output::replace_file(&build_dir.join(CHANGES_FILE), report.as_bytes())?;
    }
    let json = serde_json::to_vec_pretty(ledger).expect("the ledger is plain data");
    if previous.as_ref() != Some(ledger) {
        std::fs::create_dir_all(build_dir.join(".metabook"))?;
        output::replace_file(&ledger_path, &json)?;
    }
    Ok(report.map(|r| r.lines().filter(|l| l.starts_with("- ")).map(|l| format!("  {}\n", l.replace("**", "").replace('`', ""))).collect()))
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
