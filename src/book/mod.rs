//! Loading a book: `book.toml`, `report/SUMMARY.md` and the chapters it lists, in order.
//!
//! This is the only place chapters are read from disk. Everything after works on the loaded
//! [`Source`]s, so parsing and rendering are tested without a file system. Paths a book gives
//! (its folders, chapters, templates, data files, images) must stay inside their folder: `..`,
//! absolute paths and symbolic links that lead out are errors, so a book cannot read files it
//! does not own.

use crate::config::{self, inside, Config, Defaults};
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
    /// Where SUMMARY.md lists it (the span of the link).
    pub link: Range<usize>,
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

/// Read the text file `name` of the book's `folder` (relative to the book's folder `root`) as a
/// [`Source`] named by its path relative to the book, as users see it. The file must lie inside
/// the folder: `..`, an absolute path or a symbolic link that leads out is refused.
pub fn read_source(root: &Path, folder: &Path, name: &Path) -> Result<Arc<Source>, ReadError> {
    let shown = folder.join(name).display().to_string();
    let path = resolve_inside(&root.join(folder), name).map_err(ReadError::from)?;
    let bytes = std::fs::read(path).map_err(|e| ReadError::from(e.to_string()))?;
    String::from_utf8(bytes).map(|text| Source::new(shown.clone(), text)).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let message = not_utf8(e.as_bytes(), valid);
        ReadError { message, at: Some((Source::new(shown, String::from_utf8_lossy(e.as_bytes()).into_owned()), valid)) }
    })
}

/// Why a file of the book could not be read; for a file that is not UTF-8, the file as far as
/// it reads and where it stops, so that the error can point there.
#[derive(Debug)]
pub struct ReadError {
    pub message: String,
    pub at: Option<(Arc<Source>, usize)>,
}

impl From<String> for ReadError {
    fn from(message: String) -> ReadError {
        ReadError { message, at: None }
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ReadError {
    /// `d` pointing at the first byte that is not UTF-8, where there is one.
    pub fn locate(&self, d: Diagnostic) -> Diagnostic {
        match &self.at {
            Some((source, offset)) => d.at(source, *offset..*offset, "not UTF-8 from here"),
            None => d,
        }
    }
}

/// Where a file stops being UTF-8 text, as a reader finds it in an editor.
pub fn not_utf8(bytes: &[u8], valid: usize) -> String {
    let before = String::from_utf8_lossy(&bytes[..valid]);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("not UTF-8 text (line {line}, column {column}): save it as UTF-8")
}

/// The `[build]` folders of the book in `root` as book.toml gives them, or the defaults where
/// book.toml cannot be read or is not valid (for `watch` and `serve`, which must know where
/// to look while the book is broken).
pub fn build_folders(root: &Path) -> config::Build {
    read_source(root, Path::new(""), Path::new("book.toml")).ok().and_then(|s| config::parse(&s).ok()).map(|(c, _)| c.build).unwrap_or_default()
}

/// Load the book in `root`.
pub fn load(root: &Path) -> Result<Book, Vec<Diagnostic>> {
    let config_source = read_source(root, Path::new(""), Path::new("book.toml")).map_err(|e| match e.at {
        Some(_) => vec![e.locate(Diagnostic::error(format!("cannot read book.toml: {e}"))).hint("older editors save Latin-1 or Windows-1252; save the file as UTF-8")],
        None => vec![Diagnostic::error(format!("cannot read book.toml in `{}`: {e}", root.display())).hint("run metabook in the book's folder, or pass --book DIR")],
    })?;
    let (config, defaults) = config::parse(&config_source)?;
    let problems = folders_inside(root, &config, &config_source);
    if !problems.is_empty() {
        return Err(problems);
    }
    let src = &config.build.src;
    let summary = read_source(root, src, Path::new("SUMMARY.md")).map_err(|e| {
        let d = e.locate(Diagnostic::error(format!("cannot read {}: {e}", src.join("SUMMARY.md").display())));
        // Where the source folder is given, point there; the default is nowhere in book.toml.
        let d = if src.span().is_empty() || d.location.is_some() { d } else { d.at(&config_source, src.span(), "the source folder") };
        vec![d.hint("SUMMARY.md, in the source folder, lists the chapters in order, one link per chapter: `- [Introduction](introduction.md)`")]
    })?;
    let mut chapters: Vec<Chapter> = Vec::new();
    let mut problems = Vec::new();
    for (title, dest, span) in summary_links(&summary) {
        let relative = PathBuf::from(&dest);
        if let Err(why) = inside(&relative) {
            problems.push(Diagnostic::error(format!("chapter path `{dest}` {why}")).at(&summary, span, "this link").hint("chapters live inside the source folder"));
            continue;
        }
        if let Some(first) = chapters.iter().find(|c| same_file(&c.path, &relative)) {
            let (line, _) = summary.line_col(first.link.start);
            problems.push(
                Diagnostic::error(format!("the chapter `{dest}` is listed twice"))
                    .at(&summary, span, "listed again here")
                    .hint(format!("each chapter is listed once; the first listing is on line {line}")),
            );
            continue;
        }
        match read_source(root, src, &relative) {
            Ok(source) => chapters.push(Chapter { title, path: relative, source, link: span }),
            Err(e @ ReadError { at: Some(_), .. }) => problems.push(e.locate(Diagnostic::error(format!("cannot read chapter `{dest}`: {e}")))),
            Err(e) => problems.push(
                Diagnostic::error(format!("cannot read chapter `{dest}`: {e}"))
                    .at(&summary, span, "listed here")
                    .hint(format!("create {} or fix the link", src.join(&relative).display())),
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

/// Whether two chapter paths name one file (`a.md`, `./a.md`).
fn same_file(a: &Path, b: &Path) -> bool {
    a.components().filter(|c| !matches!(c, Component::CurDir)).eq(b.components().filter(|c| !matches!(c, Component::CurDir)))
}

/// The folders of `[build]` that exist, or the part of them that does, must lie inside the book
/// also when followed through symbolic links (book.toml's paths are checked by
/// [`config::parse`]); errors at their key.
fn folders_inside(root: &Path, config: &Config, source: &Arc<Source>) -> Vec<Diagnostic> {
    let Ok(base) = root.canonicalize() else { return Vec::new() };
    let b = &config.build;
    let mut problems = Vec::new();
    if std::fs::metadata(root.join(&b.build_dir)).is_ok_and(|m| !m.is_dir()) {
        let d = Diagnostic::error(format!("the build folder `{}` is a file", b.build_dir.display()));
        let d = if b.build_dir.span().is_empty() { d } else { d.at(source, b.build_dir.span(), "here") };
        problems.push(d.hint("metabook writes the book into a folder of its own, e.g. build-dir = \"book\""));
    }
    for (key, dir) in [("src", &b.src), ("data", &b.data), ("templates", &b.templates), ("fonts", &b.fonts), ("build-dir", &b.build_dir)] {
        if !existing_part(&root.join(dir)).is_ok_and(|real| real.starts_with(&base)) {
            let d = Diagnostic::error(format!("the {key} folder `{}` leads out of the book through a symbolic link", dir.display()));
            let d = if dir.span().is_empty() { d } else { d.at(source, dir.span(), "here") };
            problems.push(d.hint("a book reads and writes only inside its own folder: replace the link by a folder"));
        }
    }
    problems
}

/// The real path (symbolic links followed) of what exists of `path`: the path itself, or its
/// nearest folder that exists. An error for a link that leads nowhere.
pub fn existing_part(path: &Path) -> std::io::Result<PathBuf> {
    let mut existing = path;
    while std::fs::symlink_metadata(existing).is_err() {
        match existing.parent() {
            Some(parent) => existing = parent,
            None => break,
        }
    }
    existing.canonicalize()
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

/// Read a data file named in a directive: it must lie inside the book's data folder. The
/// source is named by its path relative to the book, as users see it.
pub fn read_data(book: &Book, name: &str) -> Result<Arc<Source>, String> {
    read_source(&book.root, &book.config.build.data, Path::new(name)).map_err(|e| format!("`{name}` cannot be read: {e}"))
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
    let path = resolve_inside(&src, Path::new(&inside_src))?;
    let bytes = std::fs::read(&path).map_err(|e| format!("cannot read `{dest}`: {e}"))?;
    Ok(Image { site_path: format!("images/{inside_src}"), bytes })
}

/// A font file of the book's fonts folder: its path as users see it, and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct FontFile {
    pub path: String,
    pub bytes: Vec<u8>,
}

/// The font file extensions read from the fonts folder.
pub const FONT_FORMATS: [&str; 4] = ["ttf", "otf", "ttc", "otc"];

/// The font files of the book's fonts folder (none when it does not exist), sorted by name so
/// that the PDF is the same whatever order the file system lists them in. Subfolders are read
/// too; files of other kinds (a licence, a README) are left alone.
pub fn read_fonts(book: &Book) -> Result<Vec<FontFile>, Vec<Diagnostic>> {
    let folder = book.root.join(&book.config.build.fonts);
    if !folder.is_dir() {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    let mut problems = Vec::new();
    while let Some(relative) = stack.pop() {
        let entries = match std::fs::read_dir(folder.join(&relative)) {
            Ok(e) => e,
            Err(e) => {
                problems.push(Diagnostic::error(format!("cannot read the fonts folder `{}`: {e}", book.config.build.fonts.join(&relative).display())));
                continue;
            }
        };
        for entry in entries.flatten() {
            let name = relative.join(entry.file_name());
            let kind = entry.file_type();
            if kind.as_ref().is_ok_and(std::fs::FileType::is_dir) {
                stack.push(name);
            } else if name.extension().is_some_and(|e| FONT_FORMATS.contains(&e.to_string_lossy().to_lowercase().as_str())) {
                found.push(name);
            }
        }
    }
    found.sort();
    let mut fonts = Vec::new();
    for name in found {
        let shown = book.config.build.fonts.join(&name).display().to_string();
        match resolve_inside(&folder, &name).and_then(|path| std::fs::read(path).map_err(|e| e.to_string())) {
            Ok(bytes) => fonts.push(FontFile { path: shown, bytes }),
            Err(why) => problems.push(Diagnostic::error(format!("cannot read the font `{shown}`: {why}")).hint("the fonts folder holds the book's own font files; a link out of the book is refused")),
        }
    }
    if problems.is_empty() {
        Ok(fonts)
    } else {
        Err(problems)
    }
}

/// Resolve `relative` inside `folder`, refusing `..`, absolute paths and symbolic links that
/// lead out of the folder.
pub fn resolve_inside(folder: &Path, relative: &Path) -> Result<PathBuf, String> {
    inside(relative).map_err(|why| format!("`{}` {why}", relative.display()))?;
    let joined = folder.join(relative);
    let real = joined.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => format!("cannot open `{}`: {e}", joined.display()),
    })?;
    let base = folder.canonicalize().map_err(|e| format!("cannot open the folder `{}`: {e}", folder.display()))?;
    if !real.starts_with(&base) {
        return Err(format!("`{}` leads out of `{}` (through a symbolic link)", relative.display(), folder.display()));
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
    let folder = &book.config.build.templates;
    if std::fs::symlink_metadata(book.root.join(folder).join(name)).is_err() {
        return Ok(None);
    }
    read_source(&book.root, folder, Path::new(name))
        .map(Some)
        .map_err(|e| vec![e.locate(Diagnostic::error(format!("cannot read {}: {e}", folder.join(name).display()))).hint("the book's templates are UTF-8 text files inside its templates folder")])
}

/// The book's reference document for the Word file's styles (`templates/reference.docx`), as
/// pandoc takes one: its bytes, or `None` where the book has none.
pub fn reference_docx(book: &Book) -> Result<Option<(String, Vec<u8>)>, Vec<Diagnostic>> {
    let folder = &book.config.build.templates;
    let name = Path::new("reference.docx");
    if std::fs::symlink_metadata(book.root.join(folder).join(name)).is_err() {
        return Ok(None);
    }
    let shown = folder.join(name).display().to_string();
    let bytes = resolve_inside(&book.root.join(folder), name)
        .and_then(|path| std::fs::read(path).map_err(|e| e.to_string()))
        .map_err(|why| vec![Diagnostic::error(format!("cannot read {shown}: {why}")).hint("the Word file's styles come from this Word document in the templates folder")])?;
    Ok(Some((shown, bytes)))
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
/// metabook's (English or Spanish) otherwise.
pub fn pls_templates(book: &Book) -> Result<(Arc<Source>, Arc<Source>), Vec<Diagnostic>> {
    let dir = &book.config.build.templates;
    let read = |name: &str| book_template(book, name);
    let template = read("pls.md")?.unwrap_or_else(|| Source::new("(metabook) templates/pls.md", crate::render::pls::DEFAULT_TEMPLATE));
    let language = book.config.book.language.get_ref().to_lowercase();
    let (base, _) = book.config.book.language_parts();
    let words = match (read(&format!("pls-{language}.toml"))?, read(&format!("pls-{base}.toml"))?) {
        (Some(w), _) | (None, Some(w)) => w,
        (None, None) if base == "en" => Source::new("(metabook) templates/pls-en.toml", crate::render::pls::DEFAULT_WORDS_EN),
        (None, None) if base == "es" => Source::new("(metabook) templates/pls-es.toml", crate::render::pls::DEFAULT_WORDS_ES),
        (None, None) => {
            let d = Diagnostic::error(format!("no wording table for the plain-language summary in `{language}`"));
            let span = book.config.book.language.span();
            let d = if span.is_empty() { d } else { d.at(&book.config_source, span, "the book's language") };
            return Err(vec![d.hint(format!("add {} with the sentence patterns in that language (metabook's English one is a model: templates/pls-en.toml in its repository)", dir.join(format!("pls-{base}.toml")).display()))]);
        }
    };
    Ok((template, words))
}
