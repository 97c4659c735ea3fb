//! Loading a book: `book.toml`, `report/SUMMARY.md` and the chapters it lists, in order.
//!
//! This is the only place chapters are read from disk. Everything after works on the loaded
//! [`Source`]s, so parsing and rendering are tested without a file system. Paths a book gives
//! (chapters, data files) must stay inside their folder: `..`, absolute paths and symbolic
//! links that lead out are errors, so a book cannot read files it does not own.

use crate::config::{self, Config, Defaults};
use crate::diag::{Diagnostic, Source};
use pulldown_cmark::{Event, Parser, Tag, TagEnd};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// A chapter as listed in SUMMARY.md.
#[derive(Debug, Clone)]
pub struct Chapter {
    pub title: String,
    /// Path relative to the source folder, as written in SUMMARY.md.
    pub path: PathBuf,
    pub source: Arc<Source>,
}

/// A loaded book.
#[derive(Debug, Clone)]
pub struct Book {
    pub root: PathBuf,
    pub config: Config,
    pub defaults: Defaults,
    /// book.toml as read, for diagnostics about its values.
    pub config_source: Arc<Source>,
    pub summary: Arc<Source>,
    pub chapters: Vec<Chapter>,
}

impl Book {
    pub fn data_dir(&self) -> PathBuf {
        self.root.join(&self.config.build.data)
    }
}

/// Read a text file as a [`Source`] named by its path relative to the book (as users see it).
pub fn read_source(root: &Path, relative: &Path) -> Result<Arc<Source>, String> {
    let bytes = std::fs::read(root.join(relative)).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))?;
    Ok(Source::new(relative.display().to_string(), text))
}

/// Load the book in `root`.
pub fn load(root: &Path) -> Result<Book, Vec<Diagnostic>> {
    let config_source = read_source(root, Path::new("book.toml")).map_err(|e| {
        vec![Diagnostic::error(format!("cannot read book.toml in `{}`: {e}", root.display()))
            .hint("run metabook in the book's folder, or pass --book DIR")]
    })?;
    let (config, defaults) = config::parse(&config_source)?;
    let summary_path = config.build.src.join("SUMMARY.md");
    let summary = read_source(root, &summary_path).map_err(|e| {
        vec![Diagnostic::error(format!("cannot read {}: {e}", summary_path.display()))
            .hint("SUMMARY.md lists the chapters in order, one link per chapter: `- [Introduction](introduction.md)`")]
    })?;
    let mut chapters = Vec::new();
    let mut problems = Vec::new();
    for (title, dest, span) in summary_links(&summary) {
        let relative = PathBuf::from(&dest);
        if let Err(why) = inside(&relative) {
            problems.push(Diagnostic::error(format!("chapter path `{dest}` {why}")).at(&summary, span, "this link").hint("chapters live inside the source folder"));
            continue;
        }
        match read_source(root, &config.build.src.join(&relative)) {
            Ok(source) => chapters.push(Chapter { title, path: relative, source }),
            Err(e) => problems.push(
                Diagnostic::error(format!("cannot read chapter `{dest}`: {e}"))
                    .at(&summary, span, "listed here")
                    .hint(format!("create {} or fix the link", config.build.src.join(&relative).display())),
            ),
        }
    }
    if chapters.is_empty() && problems.is_empty() {
        problems.push(Diagnostic::error("SUMMARY.md lists no chapters").at(&summary, 0..0, "here").hint("add links such as `- [Introduction](introduction.md)`"));
    }
    if problems.is_empty() {
        Ok(Book { root: root.to_path_buf(), config, defaults, config_source, summary, chapters })
    } else {
        Err(problems)
    }
}

/// The links of SUMMARY.md: (title, destination, span of the link).
fn summary_links(summary: &Source) -> Vec<(String, String, Range<usize>)> {
    let mut links = Vec::new();
    let mut current: Option<(String, String, Range<usize>)> = None;
    for (event, range) in Parser::new(&summary.text).into_offset_iter() {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => current = Some((String::new(), dest_url.to_string(), range)),
            Event::Text(t) | Event::Code(t) => {
                if let Some((title, _, _)) = current.as_mut() {
                    title.push_str(&t);
                }
            }
            Event::End(TagEnd::Link) => links.extend(current.take()),
            _ => {}
        }
    }
    links
}

/// Check that a relative path stays inside its folder (no `..`, not absolute).
pub fn inside(path: &Path) -> Result<(), &'static str> {
    for c in path.components() {
        match c {
            Component::ParentDir => return Err("leaves its folder (`..`)"),
            Component::RootDir | Component::Prefix(_) => return Err("is absolute"),
            _ => {}
        }
    }
    if path.as_os_str().is_empty() {
        return Err("is empty");
    }
    Ok(())
}

/// Read a data file named in a directive: it must lie inside the book's data folder. The
/// source is named by its path relative to the book, as users see it.
pub fn read_data(book: &Book, name: &str) -> Result<Arc<Source>, String> {
    resolve_inside(&book.data_dir(), name)?;
    read_source(&book.root, &book.config.build.data.join(name)).map_err(|e| format!("`{name}` cannot be read: {e}"))
}

/// An image a chapter shows, read from the source folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// Where it goes in the outputs: `images/<path inside the source folder>`.
    pub site_path: String,
    pub bytes: Vec<u8>,
}

/// The image formats both outputs can show.
pub const IMAGE_FORMATS: [&str; 5] = ["png", "jpg", "jpeg", "gif", "svg"];

/// Whether an image address is remote (left to the browser; the PDF shows its alt text).
pub fn is_remote(dest: &str) -> bool {
    dest.starts_with("http://") || dest.starts_with("https://") || dest.starts_with("data:")
}

/// Read an image that `chapter` shows as `dest` (relative to the chapter's folder); it must lie
/// inside the source folder and be a PNG, JPEG, GIF or SVG file.
pub fn read_image(book: &Book, chapter: &Chapter, dest: &str) -> Result<Image, String> {
    let relative = chapter.path.parent().unwrap_or(Path::new("")).join(dest);
    let format = relative.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
    if !IMAGE_FORMATS.contains(&format.as_str()) {
        return Err(format!("`{dest}` is not an image metabook can show (it takes {})", IMAGE_FORMATS.join(", ")));
    }
    // Normalise `a/./b` and `a/../b` within the source folder; leaving it is refused below.
    let mut parts: Vec<String> = Vec::new();
    for c in relative.components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir if !parts.is_empty() => {
                parts.pop();
            }
            _ => return Err(format!("`{dest}` leaves the source folder")),
        }
    }
    let inside_src = parts.join("/");
    let src = book.root.join(&book.config.build.src);
    if !src.join(&inside_src).exists() {
        return Err(format!("`{dest}` does not exist (looked for {})", book.config.build.src.join(&inside_src).display()));
    }
    let path = resolve_inside(&src, &inside_src)?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read `{dest}`: {e}"))?;
    Ok(Image { site_path: format!("images/{inside_src}"), bytes })
}

/// Resolve `relative` inside `folder`, refusing `..`, absolute paths and symbolic links that
/// lead out of the folder.
pub fn resolve_inside(folder: &Path, relative: &str) -> Result<PathBuf, String> {
    let rel = Path::new(relative);
    inside(rel).map_err(|why| format!("`{relative}` {why}"))?;
    let joined = folder.join(rel);
    let real = joined.canonicalize().map_err(|e| format!("cannot open `{}`: {e}", joined.display()))?;
    let base = folder.canonicalize().map_err(|e| format!("cannot open the folder `{}`: {e}", folder.display()))?;
    if !real.starts_with(&base) {
        return Err(format!("`{relative}` leads out of `{}` (through a symbolic link)", folder.display()));
    }
    Ok(real)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_links_in_order() {
        let s = Source::new("SUMMARY.md", "# Summary\n\n[Abstract](abstract.md)\n\n- [Introduction](intro.md)\n- [Methods](methods.md)\n");
        let links: Vec<String> = summary_links(&s).into_iter().map(|l| l.1).collect();
        assert_eq!(links, ["abstract.md", "intro.md", "methods.md"]);
    }

    #[test]
    fn paths_must_stay_inside() {
        assert!(inside(Path::new("a/b.csv")).is_ok());
        assert!(inside(Path::new("../secret.csv")).is_err());
        assert!(inside(Path::new("/etc/passwd")).is_err());
        assert!(inside(Path::new("a/../../b")).is_err());
    }
}

/// The page template and stylesheet of the HTML output: the book's own (in its templates
/// folder) where it has them, metabook's defaults otherwise.
#[derive(Debug, Clone)]
pub struct Templates {
    pub page: Arc<Source>,
    pub style: String,
}

/// metabook's default templates, embedded in the binary.
pub const DEFAULT_PAGE: &str = include_str!("../../templates/page.html");
pub const DEFAULT_STYLE: &str = include_str!("../../templates/style.css");

/// A file of the book's templates folder, if the book has it.
fn book_template(book: &Book, name: &str) -> Result<Option<Arc<Source>>, Vec<Diagnostic>> {
    let relative = book.config.build.templates.join(name);
    if !book.root.join(&relative).exists() {
        return Ok(None);
    }
    read_source(&book.root, &relative).map(Some).map_err(|e| vec![Diagnostic::error(format!("cannot read {}: {e}", relative.display()))])
}

/// Load the HTML templates, preferring the book's overrides.
pub fn templates(book: &Book) -> Result<Templates, Vec<Diagnostic>> {
    let read = |name: &str| book_template(book, name);
    let page = read("page.html")?.unwrap_or_else(|| Source::new("(metabook) templates/page.html", DEFAULT_PAGE));
    let style = read("style.css")?.map_or_else(|| DEFAULT_STYLE.to_string(), |s| s.text.clone());
    Ok(Templates { page, style })
}

/// The plain-language summary's page template (`templates/pls.md`) and the wording table of
/// the book's language (`templates/pls-<language>.toml`): the book's own where it has them,
/// metabook's English ones otherwise.
pub fn pls_templates(book: &Book) -> Result<(Arc<Source>, Arc<Source>), Vec<Diagnostic>> {
    let dir = &book.config.build.templates;
    let read = |name: &str| book_template(book, name);
    let template = read("pls.md")?.unwrap_or_else(|| Source::new("(metabook) templates/pls.md", crate::render::pls::DEFAULT_TEMPLATE));
    let language = book.config.book.language.to_lowercase();
    let base = language.split(['-', '_']).next().unwrap_or("en").to_string();
    let words = match (read(&format!("pls-{language}.toml"))?, read(&format!("pls-{base}.toml"))?) {
        (Some(w), _) | (None, Some(w)) => w,
        (None, None) if base == "en" => Source::new("(metabook) templates/pls-en.toml", crate::render::pls::DEFAULT_WORDS_EN),
        (None, None) => {
            return Err(vec![Diagnostic::error(format!("no wording table for the plain-language summary in `{language}`"))
                .hint(format!("add {} with the sentence patterns in that language (metabook's English one is a model: templates/pls-en.toml in its repository)", dir.join(format!("pls-{base}.toml")).display()))])
        }
    };
    Ok((template, words))
}
