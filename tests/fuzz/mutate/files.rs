//! Mutations of the book's other files: SUMMARY.md (chapters twice, page names that collide,
//! links out of the book), the templates, the bibliography, symbolic links out of the book, and
//! plain byte edits of any file.

use super::toml::{mutate_doc, split_lines};
use super::{shorten, Draft};
use crate::rng::Rng;
use crate::tokens::{BIB_ENTRIES, EXPRESSIONS, MARKDOWN_LINES, NUMBERS, PAGE_TEMPLATE_LINES, TEXT};

/// The marker of the decoy book beside each book (see `seeds.rs`): text that must never reach
/// the output, because it is only outside the book.
pub const CANARY: &str = "CANARY7F3A";

/// Add a chapter file with a unique word that the site must show.
fn new_chapter(draft: &mut Draft, relative: &str) -> String {
    let mark = draft.fresh("PAGEMARK");
    let path = format!("{}/{relative}", draft.layout.src);
    draft.set_text(&path, format!("# Chapter {relative}\n\nThis page says {mark}.\n"));
    draft.page_marks.push((path, mark.clone()));
    mark
}

pub fn summary(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let path = draft.summary_path();
    let mut lines = split_lines(&draft.text(&path)?);
    let links: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains("](")).collect();
    let what = match rng.below(11) {
        0 if !links.is_empty() => {
            let line = lines[*rng.pick(&links)].clone();
            lines.push(line.clone());
            format!("`{}` listed twice", line.trim())
        }
        1 => {
            new_chapter(draft, "index.md");
            lines.push("- [Index](index.md)".into());
            "chapter index.md added (the site's index page is index.html)".to_string()
        }
        2 => {
            new_chapter(draft, "sub/a.md");
            new_chapter(draft, "sub-a.md");
            lines.push("- [Sub A](sub/a.md)".into());
            lines.push("- [Sub-A](sub-a.md)".into());
            "chapters sub/a.md and sub-a.md added".to_string()
        }
        3 => {
            new_chapter(draft, "plain-language-summary.md");
            lines.push("- [PLS](plain-language-summary.md)".into());
            "chapter plain-language-summary.md added".to_string()
        }
        4 => {
            let target = *rng.pick(&["missing.md", "../book.toml", "../../canary/secret.md", "/etc/hostname", "../data/README.md", "", "a b.md", "%2e%2e/book.toml", "SUMMARY.md"]);
            lines.push(format!("- [Elsewhere]({target})"));
            format!("link to `{target}`")
        }
        5 if !links.is_empty() => {
            // The same chapter under another spelling of its path.
            let i = *rng.pick(&links);
            let line = lines[i].clone();
            let (head, rest) = line.split_once("](")?;
            let alias = if rng.chance(0.5) { format!("{head}](./{rest}") } else { format!("{head}](sub/../{rest}") };
            lines.push(alias.clone());
            format!("`{}` added", alias.trim())
        }
        6 if !links.is_empty() => {
            let i = *rng.pick(&links);
            let gone = lines.remove(i);
            format!("`{}` removed", gone.trim())
        }
        7 => {
            lines.push("- [A draft]()".into());
            "draft chapter `[A draft]()`".to_string()
        }
        8 => {
            let title = rng.pick(TEXT);
            lines.push(format!("# {title}"));
            lines.push("---".into());
            format!("part title `{}`", shorten(title))
        }
        9 if !links.is_empty() => {
            let i = *rng.pick(&links);
            let title = rng.pick(TEXT);
            let line = lines[i].clone();
            let (_, rest) = line.split_once("](")?;
            lines[i] = format!("- [{}]({rest}", title.replace(['[', ']'], ""));
            format!("line {}: title `{}`", i + 1, shorten(title))
        }
        _ if !links.is_empty() => {
            let i = *rng.pick(&links);
            lines[i] = format!("    {}", lines[i]);
            format!("line {} nested", i + 1)
        }
        _ => return None,
    };
    draft.set_text(&path, lines.join("\n"));
    Some(format!("{path}: {what}"))
}

/// metabook's own templates, to mutate in books that do not override them.
fn default_template(name: &str) -> &'static str {
    match name {
        "page.html" => include_str!("../../../templates/page.html"),
        "pls.md" => include_str!("../../../templates/pls.md"),
        "pls-es.toml" => include_str!("../../../templates/pls-es.toml"),
        _ => include_str!("../../../templates/pls-en.toml"),
    }
}

pub fn template(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let name = *rng.weighted(&[(4, "page.html"), (3, "pls.md"), (2, "pls-en.toml"), (1, "pls-es.toml")]);
    let path = format!("{}/{name}", draft.layout.templates);
    if !draft.files.contains_key(&path) {
        draft.set_text(&path, default_template(name).to_string());
    }
    if name.starts_with("pls-") {
        let what = mutate_doc(rng, draft, &path, "words", &["third-person-rules", "numbers", "high", "low", "moderate", "very-low", "decimal", "thousands", "months", "risks", "found", "up-to-date", "key-messages", "condition"])?;
        return Some(format!("{path}: {what}"));
    }
    let mut lines = split_lines(&draft.text(&path)?);
    let n = lines.len();
    let what = if rng.chance(0.25) {
        let i = rng.below(n);
        let gone = lines.remove(i);
        format!("line {} deleted (`{}`)", i + 1, shorten(&gone))
    } else {
        // The page template is the author's own HTML, trusted with scripts: only template
        // logic goes there. The summary's template is Markdown, like a chapter.
        let line = if name == "page.html" {
            rng.pick(PAGE_TEMPLATE_LINES).to_string()
        } else if rng.chance(0.6) {
            let names = draft.analysis_names();
            let a = if names.is_empty() { "x".to_string() } else { rng.pick(&names).clone() };
            rng.pick(EXPRESSIONS).replace("x.", &format!("analyses.{a}.")).replace("x |", &format!("analyses.{a} |"))
        } else {
            rng.pick(MARKDOWN_LINES).to_string()
        };
        let i = rng.below(n + 1);
        lines.insert(i, line.clone());
        format!("line {}: inserted `{}`", i + 1, shorten(&line))
    };
    draft.set_text(&path, lines.join("\n"));
    Some(format!("{path}: {what}"))
}

pub fn bibliography(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let bibs = draft.data_files(".bib");
    let path = if bibs.is_empty() {
        // A book without a bibliography gets one.
        let book = draft.text("book.toml")?;
        draft.set_text("book.toml", format!("{book}\n[bibliography]\nfile = \"fz.bib\"\n"));
        draft.data_path("fz.bib")
    } else {
        draft.data_path(rng.pick(&bibs).as_str())
    };
    let mut text = draft.text(&path).unwrap_or_default();
    let what = if !text.is_empty() && rng.chance(0.2) {
        // An entry removed: its citations must be errors at their place.
        let starts: Vec<usize> = text.match_indices("\n@").map(|(i, _)| i + 1).collect();
        if starts.is_empty() {
            return None;
        }
        let s = *rng.pick(&starts);
        let e = text[s + 1..].find("\n@").map_or(text.len(), |e| s + 1 + e);
        let gone = text[s..e].lines().next().unwrap_or("").to_string();
        text.replace_range(s..e, "");
        format!("entry `{}` removed", shorten(&gone))
    } else {
        let key = draft.fresh("fzref");
        let entry = rng.pick(BIB_ENTRIES).replace("{KEY}", &key);
        text.push_str("\n\n");
        text.push_str(&entry);
        text.push('\n');
        // Cite it, so that it is formatted.
        let chapters = draft.chapters();
        if !chapters.is_empty() {
            let chapter = rng.pick(&chapters).clone();
            let body = draft.text(&chapter).unwrap_or_default();
            draft.set_text(&chapter, format!("{body}\n\nAs shown before [@{key}].\n"));
        }
        format!("entry added and cited: `{}`", shorten(&entry))
    };
    draft.set_text(&path, text);
    Some(format!("{path}: {what}"))
}

/// Replace a file or folder of the book by a symbolic link into the decoy book beside it.
pub fn symlink(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    // From a path inside the book, the way up to the folder that holds the book and the decoy.
    let up = |path: &str| "../".repeat(path.matches('/').count() + 1);
    let (path, target) = match rng.below(5) {
        0 => {
            let chapters = draft.chapters();
            if chapters.is_empty() {
                return None;
            }
            let c = rng.pick(&chapters).clone();
            let t = format!("{}canary/secret.md", up(&c));
            (c, t)
        }
        1 => {
            let s = draft.summary_path();
            let t = format!("{}canary/report/SUMMARY.md", up(&s));
            (s, t)
        }
        2 => {
            let t = draft.layout.templates.clone();
            let target = format!("{}canary/templates", up(&t));
            (t, target)
        }
        3 => {
            let csvs = draft.data_files(".csv");
            if csvs.is_empty() {
                return None;
            }
            let name = rng.pick(&csvs).clone();
            let p = draft.data_path(&name);
            let t = format!("{}canary/data/{name}", up(&p));
            (p, t)
        }
        _ => ("book".to_string(), "../canary/out".to_string()),
    };
    let prefix = format!("{path}/");
    draft.files.retain(|p, _| *p != path && !p.starts_with(&prefix));
    draft.symlinks.push((path.clone(), target.clone()));
    Some(format!("`{path}` → symbolic link to `{target}` (outside the book)"))
}

/// Edit the bytes of any file: flip a bit, insert or delete bytes, splice in a token or a piece
/// of another file, cut the file short.
pub fn bytes(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let paths: Vec<String> = draft.files.keys().cloned().collect();
    if paths.is_empty() {
        return None;
    }
    let path = rng.pick(&paths).clone();
    let other = draft.files.get(rng.pick(&paths)).cloned().unwrap_or_default();
    let bytes = draft.files.get_mut(&path)?;
    let n = bytes.len();
    let at = rng.below(n + 1);
    let what = match rng.below(6) {
        0 if n > 0 => {
            let i = at.min(n - 1);
            bytes[i] ^= 1 << rng.below(8);
            format!("bit flipped at byte {i}")
        }
        1 => {
            let b = rng.next_u64() as u8;
            bytes.insert(at, b);
            format!("byte {b:#04x} inserted at {at}")
        }
        2 if n > 0 => {
            let len = rng.between(1, 16).min(n - at.min(n - 1));
            bytes.drain(at.min(n - 1)..at.min(n - 1) + len);
            format!("{len} bytes deleted at {at}")
        }
        3 => {
            let token = if rng.chance(0.5) { *rng.pick(TEXT) } else { *rng.pick(NUMBERS) };
            bytes.splice(at..at, token.bytes());
            format!("`{}` inserted at byte {at}", shorten(token))
        }
        4 if !other.is_empty() => {
            let s = rng.below(other.len());
            let len = rng.between(1, 64).min(other.len() - s);
            bytes.splice(at..at, other[s..s + len].iter().copied());
            format!("{len} bytes of another file spliced in at {at}")
        }
        _ => {
            bytes.truncate(at);
            format!("cut short at byte {at}")
        }
    };
    Some(format!("{path}: {what}"))
}

/// A binary file as the author may have it: whole, cut short, with a byte changed, or only a
/// text with its name (later byte mutations damage it further); and what was done, for the log.
fn damaged(rng: &mut Rng, mut bytes: Vec<u8>, kind: &str) -> (Vec<u8>, String) {
    let what = match rng.below(4) {
        0 => format!("a whole {kind}"),
        1 if !bytes.is_empty() => {
            let at = rng.below(bytes.len());
            bytes.truncate(at);
            format!("a {kind} cut short at byte {at}")
        }
        2 if !bytes.is_empty() => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 0xff;
            format!("a {kind} with byte {at} changed")
        }
        _ => {
            bytes = b"not a binary file".to_vec();
            "a text file".to_string()
        }
    };
    (bytes, what)
}

/// A font in the book's fonts folder: one of the embedded fonts, maybe damaged.
pub fn font(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let fonts: Vec<&'static [u8]> = typst_assets::fonts().collect();
    let font = rng.pick(&fonts).to_vec();
    let (bytes, what) = damaged(rng, font, "font");
    let name = format!("fonts/{}", rng.pick(&["a.ttf", "b.otf", "sub/c.TTC", "d.otc", "readme.txt"]));
    draft.files.insert(name.clone(), bytes);
    Some(format!("{name}: {what}"))
}

/// A reference document for the Word file's styles: a real one (made by docx-rs), maybe damaged.
pub fn reference_docx(rng: &mut Rng, draft: &mut Draft) -> Option<String> {
    let mut bytes = std::io::Cursor::new(Vec::new());
    docx_rs::Docx::new()
        .add_style(docx_rs::Style::new("Heading1", docx_rs::StyleType::Paragraph).name("heading 1").color("C00000"))
        .build()
        .pack(&mut bytes)
        .ok()?;
    let (bytes, what) = damaged(rng, bytes.into_inner(), "Word document");
    let name = format!("{}/reference.docx", draft.layout.templates);
    draft.files.insert(name.clone(), bytes);
    Some(format!("{name}: {what}"))
}
