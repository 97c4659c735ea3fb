//! The typeset PDF, through typst embedded as a library.
//!
//! Markdown is turned into Typst *code*, not markup: every run of user text becomes a string
//! literal (`#"…"`), and structure is built from function calls (`#heading`, `#strong`,
//! `#list`), so no character an author types can be read as Typst syntax. The compiler sees
//! only what [`BookWorld`] gives it — one generated source file and the fonts embedded in the
//! binary (typst-assets) — and the PDF gets a fixed identifier, date and timestamp, so two
//! builds of the same book give the same bytes.

use super::chapter::{placeholder_number, safe_url, table_cell, PreparedChapter, View};
use super::cite::{self, Inline, Piece, Run};
use crate::book::Book;
use crate::config::Paper;
use crate::diag::Diagnostic;
use pulldown_cmark::{Alignment, CodeBlockKind, Event, Parser, Tag, TagEnd};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;

/// The fonts shipped with typst-assets, loaded once per process.
fn fonts() -> &'static (LazyHash<FontBook>, Vec<Font>) {
    static FONTS: OnceLock<(LazyHash<FontBook>, Vec<Font>)> = OnceLock::new();
    FONTS.get_or_init(|| {
        let fonts: Vec<Font> = typst_assets::fonts().flat_map(|data| Font::iter(Bytes::new(data))).collect();
        (LazyHash::new(FontBook::from_fonts(&fonts)), fonts)
    })
}

/// The fonts a PDF is set in: those embedded in metabook and the book's own (its fonts
/// folder), for scripts the embedded ones do not cover. Typst takes a character the main font
/// lacks from the first font that has it, so a book's Korean font sets its Korean text with no
/// other setting.
pub struct FontSet {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    /// A hash of the book's font files (names and bytes), for the PDF's cache key.
    pub hash: u128,
}

impl FontSet {
    /// The embedded fonts and the book's font files; an error for a file Typst cannot read.
    pub fn new(files: Vec<crate::book::FontFile>) -> Result<Arc<FontSet>, Vec<Diagnostic>> {
        static EMBEDDED: OnceLock<Arc<FontSet>> = OnceLock::new();
        if files.is_empty() {
            return Ok(Arc::clone(EMBEDDED.get_or_init(|| Arc::new(FontSet { book: LazyHash::new(FontBook::from_fonts(&fonts().1)), fonts: fonts().1.clone(), hash: 0 }))));
        }
        let mut all = fonts().1.clone();
        let mut problems = Vec::new();
        let mut names_and_hashes = Vec::new();
        for file in files {
            names_and_hashes.extend_from_slice(file.path.as_bytes());
            names_and_hashes.push(0);
            names_and_hashes.extend_from_slice(&crate::cache::hash(&file.bytes).to_le_bytes());
            let before = all.len();
            all.extend(Font::iter(Bytes::new(file.bytes)));
            if all.len() == before {
                problems.push(Diagnostic::error(format!("`{}` is not a font metabook can read", file.path)).hint("the fonts folder takes TrueType and OpenType fonts (.ttf, .otf, .ttc, .otc)"));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Arc::new(FontSet { book: LazyHash::new(FontBook::from_fonts(&all)), fonts: all, hash: crate::cache::hash(&names_and_hashes) }))
    }

    /// Whether a family of that name (as Typst matches it: in any case) is in the set.
    pub fn has_family(&self, family: &str) -> bool {
        let family = family.to_lowercase();
        self.book.families().any(|(name, _)| name.to_lowercase() == family)
    }

    /// The families of the set, for a hint.
    pub fn families(&self) -> Vec<String> {
        let mut names: Vec<String> = self.book.families().map(|(name, _)| name.to_string()).collect();
        names.dedup();
        names
    }

    /// The characters of `text` that no font of the set has, in order of first use, at most
    /// `limit`: what the PDF would show as empty boxes. ASCII and invisible format characters
    /// (zero-width spaces, joiners, soft hyphens) are not looked at.
    pub fn uncovered(&self, text: &str, limit: usize) -> Vec<char> {
        let infos: Vec<&typst::text::FontInfo> = (0..self.fonts.len()).filter_map(|i| self.book.info(i)).collect();
        let mut seen = std::collections::HashSet::new();
        let mut missing = Vec::new();
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(offset) = bytes[at..].iter().position(|b| *b >= 0x80) {
            let start = at + offset;
            let Some(c) = text[start..].chars().next() else { break };
            at = start + c.len_utf8();
            let invisible = matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{fe00}'..='\u{fe0f}');
            if invisible || !seen.insert(c) {
                continue;
            }
            if !infos.iter().any(|info| info.coverage.contains(c as u32)) {
                missing.push(c);
                if missing.len() == limit {
                    break;
                }
            }
        }
        missing
    }
}

/// How wide `text` is set in the embedded font `family` (bold, italic) at `size` points, shaped
/// as Typst shapes it (rustybuzz, its default features); `None` when the family is not embedded
/// or a character is not in the font (Typst would take it from another).
pub(super) fn text_width(family: &str, bold: bool, italic: bool, size: f64, text: &str) -> Option<f64> {
    use typst::text::{FontStretch, FontStyle, FontVariant, FontWeight};
    type Shaper = (rustybuzz::Face<'static>, HashMap<rustybuzz::Script, rustybuzz::ShapePlan>);
    static SHAPERS: OnceLock<std::sync::Mutex<HashMap<usize, Option<Shaper>>>> = OnceLock::new();
    let (book, list) = fonts();
    let variant = FontVariant {
        style: if italic { FontStyle::Italic } else { FontStyle::Normal },
        weight: if bold { FontWeight::BOLD } else { FontWeight::REGULAR },
        stretch: FontStretch::NORMAL,
    };
    let index = book.select(&family.to_lowercase(), variant)?;
    let mut shapers = SHAPERS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    let shaper = shapers.entry(index).or_insert_with(|| {
        // The font's bytes live as long as the process (`fonts` keeps them).
        let font: &'static Font = list.get(index)?;
        Some((rustybuzz::Face::from_slice(font.data().as_slice(), font.index())?, HashMap::new()))
    });
    let (face, plans) = shaper.as_mut()?;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    let direction = buffer.direction();
    if direction != rustybuzz::Direction::LeftToRight {
        return None;
    }
    let plan = plans.entry(buffer.script()).or_insert_with(|| rustybuzz::ShapePlan::new(face, direction, Some(buffer.script()), None, &[]));
    let glyphs = rustybuzz::shape_with_plan(face, plan, buffer);
    if glyphs.glyph_infos().iter().any(|g| g.glyph_id == 0) {
        return None;
    }
    let units: i64 = glyphs.glyph_positions().iter().map(|p| i64::from(p.x_advance)).sum();
    Some(units as f64 / f64::from(face.units_per_em()) * size)
}

fn library() -> &'static LazyHash<Library> {
    static LIBRARY: OnceLock<LazyHash<Library>> = OnceLock::new();
    LIBRARY.get_or_init(|| LazyHash::new(Library::default()))
}

/// Everything the compiler may read: one source, the book's images (read by the load phase,
/// at `/images/…`) and the fonts.
pub struct BookWorld {
    main: Source,
    files: HashMap<FileId, Bytes>,
    fonts: Arc<FontSet>,
}

fn file_id(path: &str) -> Option<FileId> {
    Some(FileId::new(RootedPath::new(VirtualRoot::Project, VirtualPath::new(path).ok()?)))
}

impl BookWorld {
    pub fn new(typst_source: String, images: &BTreeMap<String, Vec<u8>>, fonts: &Arc<FontSet>) -> BookWorld {
        let id = file_id("/main.typ").expect("a valid virtual path");
        let files = images.iter().filter_map(|(path, bytes)| Some((file_id(&format!("/{path}"))?, Bytes::new(bytes.clone())))).collect();
        BookWorld { main: Source::new(id, typst_source), files, fonts: Arc::clone(fonts) }
    }
}

impl World for BookWorld {
    fn library(&self) -> &LazyHash<Library> {
        library()
    }
    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }
    fn main(&self) -> FileId {
        self.main.id()
    }
    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }
    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() {
            Ok(Bytes::from_string(self.main.clone()))
        } else {
            self.files.get(&id).cloned().ok_or(FileError::AccessDenied)
        }
    }
    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.fonts.get(index).cloned()
    }
    /// A fixed date: the document must not change with the day it is built.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        Datetime::from_ymd(2000, 1, 1)
    }
}

/// Whether typst can show `bytes` as an image of the format its file extension names (`png`,
/// `jpg`/`jpeg`, `gif`, `svg`), decoding it as typst will: an image typst would refuse is found
/// while the book is prepared, and reported at the image, not as a failed typesetting. An SVG
/// must be self-contained: an image it links by address (absolute or relative) is refused, as
/// the PDF and the browser would not find it; embedded `data:` images are fine.
pub fn check_image(bytes: &[u8], extension: &str) -> Result<(), String> {
    use typst::visualize::{ExchangeFormat, RasterImage};
    let (format, name) = match extension {
        "png" => (ExchangeFormat::Png, "PNG"),
        "jpg" | "jpeg" => (ExchangeFormat::Jpg, "JPEG"),
        "gif" => (ExchangeFormat::Gif, "GIF"),
        "svg" => {
            let linked = std::sync::Mutex::new(None);
            let options = usvg::Options {
                image_href_resolver: usvg::ImageHrefResolver {
                    resolve_data: usvg::ImageHrefResolver::default_data_resolver(),
                    resolve_string: Box::new(|href, _| {
                        linked.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(|| href.to_string());
                        None
                    }),
                },
                ..Default::default()
            };
            usvg::Tree::from_data(bytes, &options).map_err(|e| format!("is not an SVG image typst can read ({e})"))?;
            drop(options);
            return match linked.into_inner().unwrap_or_else(|e| e.into_inner()) {
                Some(href) => Err(format!("links the image `{href}`; an SVG image must be self-contained (embed the image as a data: address, or show it on its own)")),
                None => Ok(()),
            };
        }
        other => return Err(format!("has the extension `{other}`, which is not an image format")),
    };
    match ExchangeFormat::detect(bytes) {
        Some(found) if found == format => RasterImage::plain(Bytes::new(bytes.to_vec()), format).map(|_| ()).map_err(|e| format!("is not a {name} image typst can read ({e})")),
        Some(found) => Err(format!("is named .{extension} but holds a {found:?} image; rename it to its format's extension")),
        None => Err(format!("is named .{extension} but is not a {name} image")),
    }
}

/// Compile Typst source to PDF bytes, deterministically. `chapters` are those the source was
/// made from ([`document`], or the summary as one chapter for [`summary_document`]): an error
/// is reported at the place of the chapter it comes from.
pub fn compile_pdf(typst_source: String, ident: &str, images: &BTreeMap<String, Vec<u8>>, fonts: &Arc<FontSet>, chapters: &[PreparedChapter]) -> Result<Vec<u8>, Vec<Diagnostic>> {
    let world = BookWorld::new(typst_source, images, fonts);
    let document = typst::compile::<PagedDocument>(&world).output.map_err(|errors| {
        errors
            .iter()
            .map(|e| {
                let place = world.range(e.span).and_then(|r| origin(world.main.text(), r.start)).and_then(|(c, offset)| chapters.get(c)?.locate(offset));
                let d = Diagnostic::error(format!("typesetting failed: {}", e.message));
                let d = match place {
                    Some((source, span)) => d.at(&source, span, "in the PDF, this part could not be set"),
                    None => d,
                };
                d.hint("nothing was written; this is a metabook bug if the Markdown here is valid: please report it with the book")
            })
            .collect::<Vec<_>>()
    })?;
    // The source and its syntax tree are not needed to write the PDF: their memory is.
    drop(world);
    let options = typst_pdf::PdfOptions {
        ident: Smart::Custom(ident.to_string()),
        timestamp: Datetime::from_ymd_hms(2000, 1, 1, 0, 0, 0).map(typst_pdf::Timestamp::new_utc),
        ..Default::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| errors.iter().map(|e| Diagnostic::error(format!("PDF export failed: {}", e.message))).collect())
}

/// A figure as a PNG at `dpi` dots per inch, drawn as the PDF draws it (its shapes, and its
/// text set by Typst in the same fonts: [`drawing`]; the shapes drawn by resvg, see below) on a
/// white page of its own size: (the PNG, its width and height in pixels, its width and height
/// in points). For the Word file, whose figures are images.
///
/// The page is white, not transparent: a transparent figure is black on black in a dark-mode
/// Word. So the PNG is RGB, a quarter smaller than RGBA before compression, and written with
/// deflate level 1 and the Up filter: at 300 dpi, encoding at tiny-skia's default settings took
/// 87 ms of the 240 the example's six figures took; this takes 33 ms for 1.36 MB of PNG against
/// 0.88 MB (fdeflate: 33 ms, 1.55 MB; level 3: 49 ms, 1.03 MB).
pub fn figure_png(svg: &str, dpi: f64, fonts: &Arc<FontSet>) -> Result<(Vec<u8>, u32, u32, f64, f64), String> {
    let width = figure_width_pt(svg);
    // Where the figure's shapes are an SVG under Typst's texts (most figures), Typst sets the
    // texts alone and resvg draws the shapes straight onto the pixels: through Typst, the shapes
    // were rasterised into a texture the size of the page and then sampled onto it again, which
    // was more than half of the drawing's time.
    let drawn = super::typst_figure::draw_parts(svg, width);
    let (content, fill) = match &drawn {
        // Transparent, not `none`: Typst then writes every pixel first, and the system maps the
        // pixels as they are written rather than copying its shared page of zeros on the first
        // text drawn on each (1.3 s of system time on the 113-analysis import).
        Some(d) if d.shapes.is_some() => (d.texts_boxed(), "rgb(0, 0, 0, 0)"),
        _ => (drawing(svg, width), "white"),
    };
    let source = format!("#set page(width: {width}pt, height: auto, margin: 1pt, fill: {fill})\n#set text(font: \"Libertinus Serif\", size: 10.5pt)\n#{content}\n");
    let world = BookWorld::new(source, &BTreeMap::new(), fonts);
    let document = typst::compile::<PagedDocument>(&world).output.map_err(|e| e.iter().map(|e| e.message.to_string()).collect::<Vec<_>>().join("; "))?;
    let page = document.pages().first().ok_or("the figure has no page")?;
    let scale = dpi / 72.0;
    let options = typst_render::RenderOptions { pixel_per_pt: typst::utils::Scalar::new(scale), render_bleed: false };
    let mut pixmap = typst_render::render(page, &options);
    if let Some(shapes) = drawn.as_ref().and_then(|d| d.shapes.as_ref()) {
        // The shapes on a white page, at the place and size Typst gives the image (its box's
        // top left, inside the 1 pt margin; `width` wide), then the texts over them.
        let tree = resvg::usvg::Tree::from_str(shapes, &resvg::usvg::Options::default()).map_err(|e| e.to_string())?;
        let mut canvas = resvg::tiny_skia::Pixmap::new(pixmap.width(), pixmap.height()).ok_or("the figure has no size")?;
        canvas.fill(resvg::tiny_skia::Color::WHITE);
        let image_scale = (width / f64::from(tree.size().width())) * scale;
        let transform = resvg::tiny_skia::Transform::from_row(image_scale as f32, 0.0, 0.0, image_scale as f32, scale as f32, scale as f32);
        resvg::render(&tree, transform, &mut canvas.as_mut());
        canvas.draw_pixmap(0, 0, pixmap.as_ref(), &resvg::tiny_skia::PixmapPaint::default(), resvg::tiny_skia::Transform::identity(), None);
        pixmap = canvas;
    }
    let size = page.frame.size();
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, pixmap.width(), pixmap.height());
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_deflate_compression(png::DeflateCompression::Level(1));
    encoder.set_filter(png::Filter::Up);
    // pHYs: the resolution, so that an image editor opens it at its printed size.
    let per_metre = (dpi / 0.0254).round() as u32;
    encoder.set_pixel_dims(Some(png::PixelDimensions { xppu: per_metre, yppu: per_metre, unit: png::Unit::Meter }));
    // Opaque (the page is filled), so premultiplied RGBA is plain RGBA: drop the alpha.
    let rgb: Vec<u8> = pixmap.data().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    encoder.write_header().and_then(|mut w| w.write_image_data(&rgb)).map_err(|e| e.to_string())?;
    Ok((png, pixmap.width(), pixmap.height(), size.x.to_pt(), size.y.to_pt()))
}

/// A Typst string literal holding `text` exactly.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as Typst content: `#"…"` (the `#` leaves markup mode for one string literal).
pub fn text(t: &str) -> String {
    if t.is_empty() {
        String::new()
    } else {
        format!("#{}", string(&breakable(t)))
    }
}

/// Text in a table cell: as [`text`], but a word long enough to be wider than a narrow column
/// ("Glomerulonephritis") may be hyphenated, where tables otherwise keep words whole (a column
/// is no wider than its share of the page, and a word wider than that ran into the next).
pub fn cell_text(t: &str) -> String {
    if !t.split(|c: char| !c.is_alphabetic()).any(|w| w.chars().count() >= LONG_WORD) {
        return text(t);
    }
    let mut out = String::new();
    let mut plain = String::new();
    let mut rest = t;
    while !rest.is_empty() {
        let end = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
        let (word, after) = rest.split_at(end);
        if word.chars().count() >= LONG_WORD {
            out.push_str(&text(&std::mem::take(&mut plain)));
            out.push_str(&format!("#text(hyphenate: true)[{}]", text(word)));
        } else {
            plain.push_str(word);
        }
        let gap = after.find(char::is_alphabetic).unwrap_or(after.len());
        plain.push_str(&after[..gap]);
        rest = &after[gap..];
    }
    out.push_str(&text(&plain));
    out
}

/// How many letters make a word long in a table cell ([`cell_text`]).
const LONG_WORD: usize = 14;

/// The longest run of characters without a space that text keeps as it is; a longer one (a web
/// address, a sequence, a word of a hostile file) gets a zero-width space (a break opportunity,
/// invisible, taken only where the line needs it) after every this many characters. Typst does
/// not break inside a word, so a run wider than the line would run off the page and be cut; and
/// the PDF writer (krilla 0.8) panics on a run of text longer than 65,535 bytes that a
/// multibyte character straddles. Forty characters fit a line of body text and most columns.
const MAX_UNBROKEN: usize = 40;

/// The length (in bytes of Markdown) above which a paragraph is broken into lines one at a
/// time rather than optimally; about four pages of text.
const LONG_PARAGRAPH: usize = 20_000;

fn breakable(t: &str) -> std::borrow::Cow<'_, str> {
    let mut run = 0usize;
    if t.chars().all(|c| {
        run = if c.is_whitespace() { 0 } else { run + 1 };
        run <= MAX_UNBROKEN
    }) {
        return std::borrow::Cow::Borrowed(t);
    }
    let mut out = String::with_capacity(t.len() + t.len() / MAX_UNBROKEN * 3);
    run = 0;
    for c in t.chars() {
        run = if c.is_whitespace() { 0 } else { run + 1 };
        if run > MAX_UNBROKEN {
            out.push('\u{200B}');
            run = 1;
        }
        out.push(c);
    }
    std::borrow::Cow::Owned(out)
}

/// Markdown (already templated) into Typst code. `placeholder` turns a raw-HTML placeholder
/// comment into the Typst of the directive it stands for; `inline` the marker of a citation or
/// cross-reference into its Typst.
///
/// Footnotes become Typst footnotes where they are referenced: definitions are collected on
/// the way (into their own buffer) and put in at the end, so a definition may stand anywhere.
///
/// With `mark`, the number of a chapter, each top-level block starts with a comment naming
/// where it stands in the chapter's Markdown ([`origin_marker`]), so that a typesetting error
/// is reported in the author's file.
pub fn markdown(md: &str, placeholder: &dyn Fn(&str) -> Option<String>, inline: &dyn Fn(usize) -> String, images: &BTreeMap<String, String>, mark: Option<usize>) -> String {
    let options = super::chapter::markdown_options();
    let mut out = String::new();
    // Inside a code block the text continues one string literal.
    let mut in_code = false;
    // Inside a table's cell a long word may hyphenate ([`cell_text`]).
    let mut in_cell = false;
    // Footnotes: labels in order of first reference, their definitions, and the main text
    // while a definition is being written.
    let mut notes: Vec<String> = Vec::new();
    let mut definitions: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut outside_note: Option<(String, String)> = None;
    // An image's alt text, collected until its end: (the local path, if any; the text).
    let mut image: Option<(Option<String>, String)> = None;
    // For each link open, whether it is set as a link.
    let mut links: Vec<bool> = Vec::new();
    let mut depth = 0usize;
    let mut long_paragraph = false;
    for (event, span) in cite::merge_text(Parser::new_ext(md, options).into_offset_iter()) {
        match &event {
            Event::Start(tag) if is_block(tag) => {
                if let (0, Some(chapter), false) = (depth, mark, matches!(tag, Tag::FootnoteDefinition(_))) {
                    out.push_str(&origin_marker(chapter, span.start));
                }
                depth += 1;
            }
            Event::End(tag) if is_block_end(tag) => depth = depth.saturating_sub(1),
            _ => {}
        }
        match event {
            Event::Start(tag) => match tag {
                // Typst's optimal line breaking grows faster than the paragraph: a megabyte-long
                // paragraph takes 18 s where breaking line by line takes 1 s. No paragraph a
                // reader reads is this long, so the few that are break line by line.
                Tag::Paragraph if span.len() > LONG_PARAGRAPH => {
                    long_paragraph = true;
                    out.push_str("#[#set par(linebreaks: \"simple\")\n");
                }
                Tag::Paragraph => {}
                Tag::Heading { level, .. } => {
                    let n = level as usize; // H1 is 1
                    out.push_str(&format!("\n#heading(level: {n})["));
                }
                Tag::BlockQuote(_) => out.push_str("\n#quote(block: true)["),
                Tag::CodeBlock(kind) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(l) if !l.is_empty() => format!("lang: {}, ", string(l.split_whitespace().next().unwrap_or(""))),
                        _ => String::new(),
                    };
                    out.push_str(&format!("\n#raw(block: true, {lang}\""));
                    in_code = true;
                }
                Tag::List(Some(start)) => out.push_str(&format!("\n#enum(start: {start}, ")),
                Tag::List(None) => out.push_str("\n#list("),
                Tag::Item => out.push('['),
                Tag::Emphasis => out.push_str("#emph["),
                Tag::Strong => out.push_str("#strong["),
                Tag::Strikethrough => out.push_str("#strike["),
                // A link that could run code, or one without a target, keeps its text only.
                Tag::Link { dest_url, .. } if dest_url.is_empty() || !safe_url(&dest_url) => links.push(false),
                Tag::Link { dest_url, .. } => {
                    links.push(true);
                    out.push_str(&format!("#link({})[", string(&dest_url)));
                }
                // An image that could run code: its alt text (closed as a remote image's link is).
                Tag::Image { dest_url, .. } if !safe_url(&dest_url) => {
                    out.push_str("#box[");
                    image = Some((None, String::new()));
                }
                Tag::Image { dest_url, .. } => match images.get(dest_url.as_ref()) {
                    Some(path) => image = Some((Some(format!("/{path}")), String::new())),
                    // A remote image cannot be fetched: its alt text, linked.
                    None => {
                        out.push_str(&format!("#link({})[", string(&dest_url)));
                        image = Some((None, String::new()));
                    }
                },
                Tag::Table(aligns) => {
                    let align: Vec<&str> = aligns
                        .iter()
                        .map(|a| match a {
                            Alignment::Center => "center",
                            Alignment::Right => "right",
                            Alignment::Left | Alignment::None => "left",
                        })
                        .collect();
                    out.push_str(&format!("\n#table(columns: {}, align: ({},), stroke: none, table.hline(), ", aligns.len(), align.join(", ")));
                }
                Tag::TableHead | Tag::TableRow => {}
                Tag::TableCell => {
                    in_cell = true;
                    out.push('[');
                }
                Tag::FootnoteDefinition(label) => outside_note = Some((label.to_string(), std::mem::take(&mut out))),
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => {
                    if std::mem::take(&mut long_paragraph) {
                        out.push(']');
                    }
                    out.push_str("\n\n");
                }
                TagEnd::Heading(_) => out.push_str("]\n"),
                TagEnd::BlockQuote(_) => out.push_str("]\n"),
                TagEnd::CodeBlock => {
                    out.push_str("\")\n");
                    in_code = false;
                }
                TagEnd::List(_) => out.push_str(")\n"),
                TagEnd::Item => out.push_str("], "),
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => out.push(']'),
                TagEnd::Link if links.pop().unwrap_or(true) => out.push(']'),
                TagEnd::Image => match image.take() {
                    Some((Some(path), alt)) => out.push_str(&format!("#box(image({}, alt: {}))", string(&path), string(&alt))),
                    Some((None, alt)) => out.push_str(&format!("{}]", text(&alt))),
                    None => {}
                },
                TagEnd::Table => {
                    out.push_str("table.hline())\n");
                }
                TagEnd::TableHead => out.push_str("table.hline(), "),
                TagEnd::TableCell => {
                    in_cell = false;
                    out.push_str("], ");
                }
                TagEnd::FootnoteDefinition => {
                    if let Some((label, main)) = outside_note.take() {
                        definitions.insert(label, std::mem::replace(&mut out, main).trim().to_string());
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                if let Some((_, alt)) = image.as_mut() {
                    alt.push_str(&t);
                } else if in_code {
                    let s = string(&t);
                    out.push_str(&s[1..s.len() - 1]);
                } else {
                    for piece in cite::pieces(&t) {
                        match piece {
                            Piece::Text(t) if in_cell => out.push_str(&cell_text(t)),
                            Piece::Text(t) => out.push_str(&text(t)),
                            Piece::Ref(n) => out.push_str(&inline(n)),
                        }
                    }
                }
            }
            Event::Code(t) => out.push_str(&format!("#raw({})", string(&t))),
            // Formulas metabook understands are set as math; any other is shown as typed.
            Event::InlineMath(t) => match super::math::to_typst(&t) {
                Some(m) => out.push_str(&format!("${m}$")),
                None => out.push_str(&format!("#raw({})", string(&t))),
            },
            Event::DisplayMath(t) => match super::math::to_typst(&t) {
                Some(m) => out.push_str(&format!("\n$ {m} $\n")),
                None => out.push_str(&format!("\n#raw(block: true, {})\n", string(&t))),
            },
            Event::Html(h) | Event::InlineHtml(h) => {
                if let Some(typst) = placeholder(h.trim()) {
                    out.push('\n');
                    out.push_str(&typst);
                    out.push('\n');
                }
            }
            Event::SoftBreak => out.push_str("#\" \""),
            Event::HardBreak => out.push_str("#linebreak()"),
            Event::Rule => out.push_str("\n#line(length: 100%)\n"),
            Event::FootnoteReference(label) => {
                let n = notes.iter().position(|l| *l == *label).unwrap_or_else(|| {
                    notes.push(label.to_string());
                    notes.len() - 1
                });
                out.push_str(&note_marker(n));
            }
            Event::TaskListMarker(done) => out.push_str(if done { "☑ " } else { "☐ " }),
        }
    }
    // The first reference to a footnote carries it; later ones refer to it by its label.
    for (n, label) in notes.iter().enumerate() {
        let note = match definitions.get(label) {
            Some(body) => format!("#footnote[{body}]<footnote-{n}>"),
            None => format!("#super[{}]", text(label)),
        };
        out = out.replacen(&note_marker(n), &note, 1).replace(&note_marker(n), &format!("#footnote(<footnote-{n}>)"));
    }
    out
}

/// Whether a tag starts a block (a paragraph, heading, quote, list, table, code or HTML block, a
/// footnote's definition), not an inline span.
fn is_block(tag: &Tag) -> bool {
    !matches!(tag, Tag::Emphasis | Tag::Strong | Tag::Strikethrough | Tag::Superscript | Tag::Subscript | Tag::Link { .. } | Tag::Image { .. })
}

fn is_block_end(tag: &TagEnd) -> bool {
    !matches!(tag, TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough | TagEnd::Superscript | TagEnd::Subscript | TagEnd::Link | TagEnd::Image)
}

/// A Typst comment naming a place in chapter `chapter`'s Markdown: `/*@3:120*/`.
fn origin_marker(chapter: usize, offset: usize) -> String {
    format!("/*@{chapter}:{offset}*/")
}

/// The place in the chapters' Markdown of the generated Typst at `at`: the last origin marker
/// before it, as (chapter, offset).
fn origin(typst: &str, at: usize) -> Option<(usize, usize)> {
    let before = typst.get(..at)?;
    let start = before.rfind("/*@")? + 3;
    let (chapter, offset) = before[start..].split_once("*/")?.0.split_once(':')?;
    Some((chapter.parse().ok()?, offset.parse().ok()?))
}

/// Where footnote `n` is referenced, until the footnotes are put in. A noncharacter never
/// occurs in the text (see [`cite::extract`]) nor in generated code.
fn note_marker(n: usize) -> String {
    format!("\u{FDD2}{n}\u{FDD3}")
}

/// A citation or cross-reference as a link.
fn inline_typst(inline: &Inline) -> String {
    match inline {
        Inline::Citation { runs: r, target } => format!("#link(<{}>)[{}]", target.anchor, runs(r)),
        Inline::CrossRef { text: t, target } => format!("#link(<{}>)[{}]", target.anchor, text(t)),
    }
}

/// Formatted text from the citation style, every run a string literal.
fn runs(runs: &[Run]) -> String {
    let mut out = String::new();
    for r in runs {
        let mut t = text(&r.text);
        for (on, function) in [(r.italic, "emph"), (r.bold, "strong"), (r.superscript, "super"), (r.subscript, "sub")] {
            if on {
                t = format!("#{function}[{t}]");
            }
        }
        if let Some(url) = r.link.as_deref().filter(|u| safe_url(u)) {
            t = format!("#link({})[{t}]", string(url));
        }
        out.push_str(&t);
    }
    out
}

/// The width of the text on the page (A4 with the book's margins), in points.
const TEXT_WIDTH_PT: f64 = 470.0;

/// The height a figure may have on one page (A4 or US Letter, less its caption); a taller one
/// with parts (a forest plot) continues across pages.
const PAGE_FIGURE_PT: f64 = 560.0;

/// A figure's height as set: its SVG's height at the scale [`figure_width_pt`] gives it.
pub fn figure_height_pt(svg: &str) -> f64 {
    let view_box: Vec<f64> = svg.split_once("viewBox=\"").and_then(|(_, rest)| rest.split('"').next()).map_or_else(Vec::new, |v| v.split_whitespace().filter_map(|n| n.parse().ok()).collect());
    match view_box[..] {
        [_, _, w, h] if w > 0.0 => h * (0.8f64).min(TEXT_WIDTH_PT / w),
        _ => 0.0,
    }
}

/// How wide a figure is set, in points: its drawing units (the SVG's viewBox; the HTML page may
/// show it larger through the width attribute) at 0.8 pt each, so that 11-unit text comes out
/// at about 9 pt, like the tables; a figure wider than the text (a forest plot) takes the text
/// width.
fn figure_width_pt(svg: &str) -> f64 {
    let attribute = |name: &str| svg.split_once(&format!("{name}=\"")).and_then(|(_, rest)| rest.split('"').next().map(str::to_string));
    let units = attribute("viewBox").and_then(|v| v.split_whitespace().nth(2).and_then(|w| w.parse::<f64>().ok())).or_else(|| attribute("width").and_then(|w| w.parse().ok()));
    match units {
        Some(w) if w > 0.0 && w * 0.8 < TEXT_WIDTH_PT => (w * 0.8).round(),
        _ => TEXT_WIDTH_PT,
    }
}

/// A figure's drawing at `width` points: Typst's own shapes and text where
/// [`typst_figure`](super::typst_figure) can draw it, else the SVG as an image.
fn drawing(svg: &str, width: f64) -> String {
    super::typst_figure::draw(svg, width).unwrap_or_else(|| format!("image(bytes({}), format: \"svg\", width: {width:.0}pt)", string(svg)))
}

/// A directive's view as Typst code; all text passed as string literals, captions through
/// `caption` (their inline Markdown).
fn view_typst(v: &View, caption_typst: &dyn Fn(&str) -> String) -> String {
    match v {
        View::Nothing => String::new(),
        View::Figure { number, svg, caption, notes, parts, .. } => {
            // Notes under the caption, smaller and set left like a table's footnotes.
            let notes: String = notes.iter().map(|n| format!("#block(width: 100%, above: 0.5em)[#set align(left)\n#set text(size: 8.5pt)\n{}]", text(n))).collect();
            // A figure taller than a page continues across pages: its parts are the rows of a
            // grid that breaks between them, the column headings repeated on each page.
            if let Some(parts) = parts.as_ref().filter(|_| figure_height_pt(svg) > PAGE_FIGURE_PT) {
                let width = figure_width_pt(svg);
                // The parts' text settings are written once, around the grid (a band's own
                // only where they differ).
                let head = super::typst_figure::draw_parts(&parts.head, width);
                let settings = head.as_ref().map(|d| d.settings.clone()).unwrap_or_default();
                let head = head.map_or_else(|| drawing(&parts.head, width), |d| d.boxed(true));
                let part = |svg: &str| match super::typst_figure::draw_parts(svg, width) {
                    Some(d) => d.boxed(d.settings == settings),
                    None => drawing(svg, width),
                };
                // The first band carries a mark: the pages after its own are those the figure
                // continues on (its caption, set first, may stay a page behind).
                let bands: Vec<String> = parts.bands.iter().enumerate().map(|(i, b)| if i == 0 { format!("[#metadata(none)<figure-{number}-rows>#{}]", part(b)) } else { part(b) }).collect();
                let first = if bands.is_empty() { format!("figure-{number}") } else { format!("figure-{number}-rows") };
                // On the pages after the first, the headings say which figure continues (in
                // the text's own line height, not the figure's).
                let continued = format!("context if here().page() > locate(<{first}>).page() {{ align(left, text(size: 8.5pt, top-edge: \"cap-height\", bottom-edge: \"baseline\")[#ref(<figure-{number}>) (continued)]) }}");
                return format!(
                    "#[#show figure: set block(breakable: true)\n#figure({{ {settings}grid(columns: 1, grid.header({continued}, {}), {}) }}, caption: [{}{notes}], kind: image)<figure-{number}>]\n",
                    head,
                    bands.join(", "),
                    caption_typst(caption)
                );
            }
            format!(
                "#figure({}, caption: [{}{notes}], kind: image)<figure-{number}>\n",
                drawing(svg, figure_width_pt(svg)),
                caption_typst(caption)
            )
        }
        View::References { entries } => {
            let mut out = String::from("#block(width: 100%)[#set par(justify: false, hanging-indent: 0pt)\n#set text(size: 9.5pt)\n#grid(columns: (auto, 1fr), column-gutter: 0.6em, row-gutter: 0.65em, ");
            for e in entries {
                let label = e.label.as_ref().map_or(String::new(), |l| runs(l));
                out.push_str(&format!("[#metadata(none)<{}>{label}], [{}], ", e.anchor, runs(&e.runs)));
            }
            out.push_str(")]\n");
            out
        }
        View::Results { effect, method, k, lines } => {
            let mut out = format!("#block(inset: (left: 8pt), stroke: (left: 1.5pt + rgb(\"#1f5fa8\")))[#strong[{}] {}\n", text(effect), text(&format!("({method}, {k} studies)")));
            for l in lines {
                out.push_str(&format!("\n{}\n", text(l)));
            }
            out.push_str("]\n");
            out
        }
        View::Table { number, caption, headings, rows, notes, .. } => {
            // The figure's body is the table and, under it, its footnotes as a paragraph of their
            // own: in a cell they would widen the table's last column to their length.
            let mut out = format!("#figure(kind: table, caption: [{}], [#table(columns: {}, stroke: none, align: left, ", caption_typst(caption), headings.len());
            let cells: Vec<String> = headings.iter().map(|h| format!("[#strong[{}]]", cell_text(h))).collect();
            // On the pages after the first row's (the caption, set first, may stay a page
            // behind), the repeated headings say which table continues.
            let first = if rows.iter().any(|r| !r.is_empty()) { format!("table-{number}-rows") } else { format!("table-{number}") };
            let continued = format!(
                "table.cell(colspan: {}, inset: 0pt)[#context if here().page() > locate(<{first}>).page() {{ pad(bottom: 4pt, text(size: 8.5pt)[#ref(<table-{number}>) (continued)]) }}]",
                headings.len()
            );
            out.push_str(&format!("table.header({continued}, table.hline(), {}), table.hline(stroke: 0.5pt), ", cells.join(", ")));
            let mut marked = false;
            for row in rows {
                for (j, cell) in row.iter().enumerate() {
                    let mark = if marked { "" } else { "#metadata(none)" };
                    let label = if marked { String::new() } else { format!("<table-{number}-rows>") };
                    marked = true;
                    match table_cell(cell) {
                        (cell, true) if j > 0 => out.push_str(&format!("table.cell(align: right)[{mark}{label}{}], ", text(&cell))),
                        (cell, _) => out.push_str(&format!("[{mark}{label}{}], ", cell_text(&cell))),
                    }
                }
            }
            out.push_str("table.hline())");
            if !notes.is_empty() {
                out.push_str("\n#block(width: 100%, above: 4pt)[#set align(left)\n#set par(justify: false, spacing: 3pt)\n#set text(size: 8pt)\n");
                for n in notes {
                    out.push_str(&format!("{}\n\n", text(n)));
                }
                out.push(']');
            }
            out.push_str(&format!("])<table-{number}>\n"));
            out
        }
    }
}

/// One chapter as Typst, starting on a new page; `number` is its place in the book, for the
/// origin markers.
pub fn chapter(prepared: &PreparedChapter, number: usize) -> String {
    let views = &prepared.views;
    let inline = |n: usize| prepared.inlines.get(n).and_then(Option::as_ref).map_or(String::new(), inline_typst);
    let caption = |c: &str| markdown(c, &|_| None, &inline, &prepared.images, None).trim().to_string();
    let body = markdown(&prepared.markdown, &|html| placeholder_number(html).and_then(|n| views.get(n)).map(|v| view_typst(v, &caption)), &inline, &prepared.images, Some(number));
    format!("#pagebreak(weak: true)\n{body}\n")
}

/// The whole document: settings, title page, contents and the chapters.
pub fn document(book: &Book, chapters: &[PreparedChapter]) -> String {
    let meta = &book.config.book;
    let mut out = preamble(book, &meta.title);
    out.push_str(&format!(
        "#page(numbering: none)[#set par(justify: false)\n#v(30%)#align(center)[#text(size: 20pt, weight: \"bold\")[{}]\n\n#v(1em)#text(size: 12pt)[{}]\n\n#v(1em){}]]\n",
        text(&meta.title),
        text(&meta.authors.join(", ")),
        meta.description.as_deref().map(text).unwrap_or_default()
    ));
    // The leaders are a dotted rule, one shape per entry: Typst's default (a repeated ".")
    // keeps a text item per dot, 15 MB in a contents of 440 entries.
    out.push_str("#set outline.entry(fill: line(length: 100%, stroke: (paint: luma(40), thickness: 0.9pt, cap: \"round\", dash: (0pt, 3.2pt))))\n#outline(depth: 2)\n");
    for (n, c) in chapters.iter().enumerate() {
        out.push_str(&chapter(c, n));
    }
    out
}

/// The plain-language summary as its own short document: no title page or contents, a little
/// larger type for reading, and the review it summarises named under its title. Its origin
/// markers name chapter 0: the summary itself.
pub fn summary_document(book: &Book, title: &str, colophon: &str, summary: &PreparedChapter) -> String {
    let mut out = preamble(book, title);
    out.push_str("#set text(size: 11.5pt)\n#set par(justify: false, leading: 0.75em)\n#show heading.where(level: 1): set text(size: 18pt)\n");
    let inline = |n: usize| summary.inlines.get(n).and_then(Option::as_ref).map_or(String::new(), inline_typst);
    out.push_str(&markdown(&summary.markdown, &|_| None, &inline, &summary.images, Some(0)));
    out.push_str(&format!("\n#v(1em)#text(size: 9pt, fill: luma(90))[{}]\n", text(colophon)));
    out
}

/// Page, type and heading settings shared by the book and the summary. A figure stays on one
/// page, but a table (its headings repeated) breaks across pages: kept whole, a long table ran
/// off the page's foot, its last rows printed over each other and the rest lost. Tall figures
/// with parts break on their own (see `view_typst`).
fn preamble(book: &Book, title: &str) -> String {
    let meta = &book.config.book;
    let pdf = &book.config.output.pdf;
    let paper = match pdf.paper {
        Paper::A4 => "a4",
        Paper::UsLetter => "us-letter",
    };
    let font = pdf.font_family();
    let authors: Vec<String> = meta.authors.iter().map(|a| string(a)).collect();
    let (language, region) = meta.language_parts();
    let region = region.map_or(String::new(), |r| format!(", region: {}", string(&r)));
    format!(
        "#set document(title: {}, author: ({}))\n#set page(paper: {}, margin: (x: 2.2cm, y: 2.5cm), numbering: \"1\")\n#set text(font: {}, size: 10.5pt, lang: {}{})\n#set par(justify: true)\n#set heading(numbering: none)\n#show heading.where(level: 1): set text(size: 16pt)\n#show figure: set block(breakable: false)\n#show figure.where(kind: table): set block(breakable: true)\n#show table: set par(justify: false)\n#show figure.where(kind: table): set figure.caption(position: top)\n#set figure.caption(separator: [. ])\n#show table: set text(size: 9pt)\n",
        string(title),
        authors.iter().map(|a| format!("{a},")).collect::<String>(),
        string(paper),
        string(font),
        string(&language),
        region,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_long_word_in_a_cell_may_hyphenate() {
        assert_eq!(super::cell_text("non-randomised (pre/post)"), super::text("non-randomised (pre/post)"));
        assert_eq!(super::cell_text("Glomerulonephritis"), "#text(hyphenate: true)[#\"Glomerulonephritis\"]");
        assert_eq!(super::cell_text("may result in glomerulonephritis."), "#\"may result in \"#text(hyphenate: true)[#\"glomerulonephritis\"]#\".\"");
        assert_eq!(super::cell_text(""), "");
    }

    #[test]
    fn a_word_longer_than_the_pdf_writer_takes_gets_invisible_break_opportunities() {
        let word = "é".repeat(100_000);
        let t = super::breakable(&word);
        assert_eq!(t.replace('\u{200B}', ""), word, "the text itself is kept");
        assert!(t.split('\u{200B}').all(|run| run.chars().count() <= super::MAX_UNBROKEN));
        assert!(matches!(super::breakable("ordinary words"), std::borrow::Cow::Borrowed(_)));
    }

    use super::*;

    #[test]
    fn a_typesetting_error_is_located_in_the_chapter_it_comes_from() {
        let text = "# A\n\nline two\n";
        let chapter = PreparedChapter { markdown: text.to_string(), source: Some(crate::diag::Source::new("report/c.md", text)), ..Default::default() };
        let typst = format!("#\"before\"\n{}#\"x\"\n#panic(\"broken\")\n", origin_marker(0, 5));
        let e = compile_pdf(typst, "t", &BTreeMap::new(), &super::FontSet::new(Vec::new()).unwrap(), &[chapter]).unwrap_err();
        assert_eq!(e[0].position().as_deref(), Some("report/c.md:3:1"), "{e:?}");
        assert!(e[0].message.contains("broken"));
        // The Markdown's own markers give that place.
        let md = markdown("# A\n\nline two\n", &|_| None, &|_| String::new(), &BTreeMap::new(), Some(4));
        assert!(md.contains(&origin_marker(4, 5)), "{md}");
        assert_eq!(origin(&md, md.len()), Some((4, 5)));
    }

    #[test]
    fn user_text_is_never_markup() {
        // `\"` keeps a straight quote (plain ones become typographic quotes).
        let t = markdown("# Title *with* `code`\n\nA #set and $x$ and \\\"quotes\\\" \\ back.\n", &|_| None, &|_| String::new(), &BTreeMap::new(), None);
        assert!(t.contains("#heading(level: 1)[#\"Title \"#emph[#\"with\"]#\" \"#raw(\"code\")]"), "{t}");
        assert!(t.contains("#\"A #set and \"$x$#\" and \\\"quotes\\\" \\\\ back.\""), "{t}");
        // A formula outside the converter's whitelist is shown as typed, never as Typst math.
        let t = markdown("$#sys.exit()$ and $\\unknown{x}$\n", &|_| None, &|_| String::new(), &BTreeMap::new(), None);
        assert_eq!(t.trim(), "#raw(\"#sys.exit()\")#\" and \"#raw(\"\\\\unknown{x}\")");
    }
}

