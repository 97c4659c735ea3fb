//! The oracles: what counts as a finding. Each takes what a run left behind — exit status,
//! stdout, stderr, the files before and after — and returns findings with a kind and a message
//! whose first line names the problem (findings are deduplicated on kind and that line).
//!
//! This is the module to tune as metabook's rules change: the allowlists at the top say what
//! is accepted on purpose, each with the reason.

use crate::files::Digest;
use crate::run::{Outcome, Status};
use std::collections::BTreeSet;

/// Kinds of findings.
pub const CRASH: &str = "crash";
pub const MEMORY: &str = "out-of-memory";
pub const HANG: &str = "hang";
pub const EXIT_CODE: &str = "exit-code";
pub const UNLOCATED: &str = "error-without-location";
pub const FAILED_BUILD_WROTE: &str = "failed-build-changed-output";
pub const NON_FINITE: &str = "nan-in-output";
pub const ACTIVE: &str = "active-content";
pub const WROTE_OUTSIDE: &str = "wrote-outside-book";
pub const READ_OUTSIDE: &str = "read-outside-book";
pub const CHANGED_INPUT: &str = "changed-book-input";
pub const CHECK_PASSES: &str = "check-passes-failed-build";
pub const LOST_PAGE: &str = "lost-page";
pub const ACCEPTED: &str = "accepted-bad-input";
pub const BAD_WORD_FILE: &str = "malformed-word-file";

/// Errors of `metabook pool` that may come without a file position, because the mistake is in
/// its options, on the command line, which has no file: (part of the message, the option).
/// Errors of a book have no such excuse: its options are in book.toml and the directives.
pub const POOL_UNLOCATED_ALLOWED: &[(&str, &str)] = &[
    ("(in --", "any option that names itself, e.g. `unknown measure `XX` (in --measure)`"),
    ("convention does not offer", "--convention with --method or --test"),
    ("cannot pool the measure", "--method with --measure"),
    ("Knapp–Hartung", "--test knha with --method"),
    ("cannot be used with", "--test with --method, e.g. `the knha test cannot be used with method MH` (a hint names the flags)"),
    ("did not converge", "--method with --max-iter, --step and --threshold: the whole data set, no one cell"),
];
// Also allowed: any error with exit code 2, the argument parser's usage error (the command line
// again).

/// Errors of a book that may come without a file position, because what is wrong is on the
/// disk, not in any file's text: (part of the message, why).
pub const BOOK_UNLOCATED_ALLOWED: &[(&str, &str)] = &[
    ("leads out of", "a file or folder that is a symbolic link out of the book (book.toml is pointed at when it names the folder)"),
    ("cannot read", "a file missing or unreadable where no text names it (book.toml, SUMMARY.md of the default folder); a chapter or data file is pointed at where it is named"),
    ("is not a font metabook can read", "a font file is binary, with no lines: the message names the file (book.toml is pointed at when it names the fonts folder)"),
    ("is not a Word document metabook can read", "templates/reference.docx is binary, with no lines: the message names the file"),
];

/// Files a failed build may change in its build folder (paths relative to it, by prefix).
/// None: "a mistake in the book stops the build before anything is written" (README). The
/// build cache is the candidate, should its entries count as harmless: ".metabook/cache/".
pub const FAILED_BUILD_MAY_CHANGE: &[&str] = &[];

/// Whether a build folder that is itself a symbolic link out of the book (`book -> ../site`)
/// may be written through. Not yet: the build must never write outside the book folder; set
/// this if following such a link is decided to be the user's intent.
pub const LINKED_BUILD_DIR_MAY_LEAVE: bool = false;

/// Whether a run may write outside the book folder: only through a linked build folder, and only
/// if [`LINKED_BUILD_DIR_MAY_LEAVE`].
pub fn may_write_outside(through_linked_build_dir: bool) -> bool {
    through_linked_build_dir && LINKED_BUILD_DIR_MAY_LEAVE
}

/// Whether a chapter may have the site's index page as its page (`index.md` → `index.html`).
/// Not now: the chapter and the index (title page and contents) overwrite each other. Should
/// `index.md` become the index page on purpose, as in mdBook, set this.
pub const CHAPTER_MAY_BE_INDEX: bool = false;

/// Active content metabook itself may write into a page. Its page template has none; the live
/// reload script of `metabook serve` is added when a page is served, never written. So: none.
pub const ACTIVE_ALLOWED: &[&str] = &[];

#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: &'static str,
    /// The first line names the problem (the deduplication key); more lines may follow.
    pub message: String,
}

impl Finding {
    fn new(kind: &'static str, message: impl Into<String>) -> Finding {
        Finding { kind, message: message.into() }
    }
}

/// Findings any run can have: a crash, a hang, a bad exit code, an error without a location.
/// `ops` names the mutations applied (told, not a part of the finding's first line).
pub fn process(outcome: &Outcome, ops: &str, pool: bool) -> Vec<Finding> {
    let err = &outcome.stderr;
    let mut out = Vec::new();
    match outcome.status {
        Status::TimedOut => out.push(Finding::new(HANG, format!("no exit within the time limit\nafter {ops}"))),
        Status::Signal(_) | Status::Exit(_) if err.contains("memory allocation of") => out.push(Finding::new(MEMORY, "memory allocation failed under the memory limit")),
        Status::Signal(_) | Status::Exit(_) if err.contains("has overflowed its stack") => out.push(Finding::new(CRASH, "stack overflow")),
        _ if err.contains("panicked at") => out.push(Finding::new(CRASH, panic_line(err))),
        Status::Signal(s) => out.push(Finding::new(CRASH, format!("killed by signal {s}"))),
        Status::Exit(101) => out.push(Finding::new(CRASH, "exit code 101 (a panic) without a panic message")),
        Status::Exit(0) => {
            if let Some(line) = err.lines().find(|l| l.starts_with("error")) {
                out.push(Finding::new(EXIT_CODE, format!("exit code 0 after `{}`", normalise(line))));
            }
        }
        Status::Exit(1) => out.extend(unlocated(err, if pool { POOL_UNLOCATED_ALLOWED } else { BOOK_UNLOCATED_ALLOWED })),
        Status::Exit(2) => {}
        Status::Exit(c) => out.push(Finding::new(EXIT_CODE, format!("exit code {c}"))),
    }
    if outcome.code() == Some(1) && !err.lines().any(|l| l.starts_with("error")) {
        out.push(Finding::new(EXIT_CODE, "exit code 1 without an `error:` diagnostic"));
    }
    out
}

/// `panicked at src/x.rs:1:2:` and the message's first line.
fn panic_line(stderr: &str) -> String {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at"));
    let at = lines.next().unwrap_or("").trim();
    let at = at[at.find("panicked at").unwrap_or(0)..].trim_end_matches(':');
    format!("{at}\n{}", lines.next().unwrap_or(""))
}

/// Every `error:` diagnostic must be followed by its location (`┌─ file:line:column`).
pub fn unlocated(stderr: &str, allowed: &[(&str, &str)]) -> Vec<Finding> {
    let lines: Vec<&str> = stderr.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(message) = line.strip_prefix("error: ").or_else(|| line.strip_prefix("error[").and_then(|l| l.split_once("]: ").map(|x| x.1))) else {
            continue;
        };
        let located = lines[i + 1..]
            .iter()
            .take_while(|l| !(l.is_empty() || l.starts_with("error") || l.starts_with("warning") || l.trim_start().starts_with("= ")))
            .any(|l| l.trim_start().starts_with("┌─"));
        if !located && !allowed.iter().any(|(pattern, _)| message.contains(pattern)) {
            out.push(Finding::new(UNLOCATED, normalise(&without_paths(message))));
        }
    }
    out
}

/// A message with the parts that vary from one input to the next made constant: numbers,
/// and quoted or backticked text.
pub fn normalise(message: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut last_digit = false;
    for c in message.chars() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
                out.push('…');
                out.push(c);
            }
            continue;
        }
        if c == '`' || c == '"' {
            quote = Some(c);
            out.push(c);
            continue;
        }
        if c.is_ascii_digit() {
            if !last_digit {
                out.push('0');
            }
            last_digit = true;
            continue;
        }
        last_digit = false;
        out.push(c);
    }
    out.chars().take(200).collect()
}

/// Whether `text` itself says NaN or inf (as a word, in any case): then a page that shows it
/// may just be quoting the book.
pub fn mentions_non_finite(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["nan", "inf", "infinity"].iter().any(|word| {
        lower.match_indices(word).any(|(i, _)| {
            let before = lower[..i].chars().next_back();
            let after = lower[i + word.len()..].chars().next();
            !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
        })
    })
}

/// A message with its file paths (words with a `/`, as in `cannot read x/SUMMARY.md:`) made
/// constant, so that the same error about different paths is one finding.
pub fn without_paths(message: &str) -> String {
    message.split(' ').map(|w| if w.contains('/') && !w.starts_with('(') { "<path>" } else { w }).collect::<Vec<_>>().join(" ")
}

/// A printed NaN or infinity in `text`: the first one, with a little context. In `layout` text
/// (pdftotext's), table cells lose their structure, so a bare `inf` may be the heading of
/// metafor's influence flag column: there only a signed infinity or one inside an interval or
/// after `=` counts.
pub fn non_finite(text: &str, layout: bool) -> Option<String> {
    let word_at = |i: usize, len: usize| {
        let before = text[..i].chars().next_back();
        let after = text[i + len..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_') && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    };
    let context = |i: usize| {
        let s = text.floor_char_boundary_compat(i.saturating_sub(60));
        let e = text.floor_char_boundary_compat((i + 40).min(text.len()));
        text[s..e].replace('\n', " ")
    };
    for (i, _) in text.match_indices("NaN") {
        if word_at(i, 3) {
            return Some(context(i));
        }
    }
    for (i, _) in text.match_indices("inf") {
        if !word_at(i, 3) {
            continue;
        }
        // A column headed "inf" (metafor's influence flag) is a word, not a number: after a
        // letter (a text table's header) or as a header cell of an HTML table.
        let prev = text[..i].trim_end_matches([' ', '\t']).chars().next_back();
        if prev.is_some_and(|c| c.is_alphabetic()) {
            continue;
        }
        let next = text[i + 3..].trim_start_matches(' ').chars().next();
        let in_number = prev.is_some_and(|c| "-−+=[(,".contains(c)) || next.is_some_and(|c| "]),%".contains(c));
        if layout && !in_number {
            continue;
        }
        // A header cell, also as escaped HTML (a page template that prints `{{ content }}`).
        let before = text[..i].trim_end();
        if let Some(tag) = before.strip_suffix('>').map(|b| &b[b.rfind('<').unwrap_or(0)..]).or_else(|| before.strip_suffix("&gt;").map(|b| &b[b.rfind("&lt;").unwrap_or(0)..])) {
            if tag.starts_with("<th") || tag.starts_with("&lt;th") {
                continue;
            }
        }
        return Some(context(i));
    }
    None
}

trait FloorBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}

impl FloorBoundary for str {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while i > 0 && !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}

/// Active content in an HTML (or SVG) document: script-like elements, event-handler
/// attributes, `javascript:` URLs.
pub fn active_content(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt + 1..];
        if rest.starts_with("!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == ':').collect();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let tag = name.to_ascii_lowercase();
        let (attributes, after) = tag_attributes(&rest[name.len()..]);
        rest = after;
        if ["script", "iframe", "object", "embed", "frame", "base"].contains(&tag.as_str()) {
            out.push(format!("<{tag}> element"));
        }
        for (attr, value) in attributes {
            let attr = attr.to_ascii_lowercase();
            if attr.starts_with("on") && attr.len() > 2 {
                out.push(format!("`{attr}=` attribute on <{tag}>"));
            }
            if attr == "srcdoc" {
                out.push(format!("`srcdoc=` attribute on <{tag}>"));
            }
            if ["href", "src", "xlink:href", "action", "formaction", "data", "poster", "background"].contains(&attr.as_str()) {
                let url: String = decode_entities(&value).chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:text/html"] {
                    if url.starts_with(scheme) {
                        out.push(format!("`{scheme}` URL in `{attr}=` of <{tag}>"));
                    }
                }
            }
            if tag == "meta" && attr == "http-equiv" && value.eq_ignore_ascii_case("refresh") {
                out.push("<meta http-equiv=refresh>".to_string());
            }
        }
    }
    out.retain(|what| !ACTIVE_ALLOWED.contains(&what.as_str()));
    out
}

/// The attributes of a tag (after its name) and the text after the tag. Every delimiter is
/// ASCII, so byte positions are character boundaries.
fn tag_attributes(s: &str) -> (Vec<(String, String)>, &str) {
    let b = s.as_bytes();
    let mut attributes = Vec::new();
    let mut i = 0;
    let skip_space = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    while i < b.len() {
        match b[i] {
            b'>' => return (attributes, &s[i + 1..]),
            c if c.is_ascii_whitespace() || c == b'/' => {
                i += 1;
                continue;
            }
            _ => {}
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && !b"=>/".contains(&b[i]) {
            i += 1;
        }
        let name = s[start..i].to_string();
        let mut value = String::new();
        i = skip_space(i);
        if i < b.len() && b[i] == b'=' {
            i = skip_space(i + 1);
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                i = vs;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                value = s[vs..i.min(b.len())].to_string();
                i += 1;
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'>' {
                    i += 1;
                }
                value = s[vs..i].to_string();
            }
        }
        if name.is_empty() {
            i += 1;
        } else {
            attributes.push((name, value));
        }
    }
    (attributes, "")
}

/// Numeric character references and the few named ones that matter for a URL scheme.
fn decode_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest.find(';').filter(|&e| e < 12);
        let decoded = end.and_then(|e| {
            let body = &rest[1..e];
            let c = if let Some(hex) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
            } else if let Some(dec) = body.strip_prefix('#') {
                dec.parse().ok().and_then(char::from_u32)
            } else {
                match body {
                    "colon" => Some(':'),
                    "Tab" => Some('\t'),
                    "NewLine" => Some('\n'),
                    "amp" => Some('&'),
                    _ => None,
                }
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// How the files of a book changed in a run, judged against the build folder.
pub struct BookChanges<'a> {
    pub before: &'a Digest,
    pub after: &'a Digest,
    /// The book's input files (and the links the mutations made).
    pub inputs: &'a BTreeSet<String>,
    /// The build folder relative to the book (`""` for the book's folder itself), or `None` when
    /// it lies outside the book.
    pub build_dir: Option<&'a str>,
}

impl BookChanges<'_> {
    /// Paths that differ, with what happened to them.
    fn changed(&self) -> Vec<(String, &'static str)> {
        let mut out = Vec::new();
        for (path, hash) in self.before {
            match self.after.get(path) {
                None => out.push((path.clone(), "deleted")),
                Some(h) if h != hash => out.push((path.clone(), "modified")),
                _ => {}
            }
        }
        for path in self.after.keys().filter(|p| !self.before.contains_key(*p)) {
            out.push((path.clone(), "created"));
        }
        out
    }

    fn in_build_dir(&self, path: &str) -> bool {
        match self.build_dir {
            Some("") => true,
            Some(dir) => path.starts_with(&format!("{dir}/")),
            None => false,
        }
    }
}

/// A build (or check) must not touch the book's inputs nor write outside its build folder; a
/// failed build must leave the build folder as it was; `check` writes nothing.
pub fn book_changes(c: &BookChanges, command: &str, succeeded: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    let changed = c.changed();
    let list = |items: &[&(String, &str)]| items.iter().take(6).map(|(p, what)| format!("{what} {p}")).collect::<Vec<_>>().join(", ");
    if command == "check" {
        let all: Vec<&(String, &str)> = changed.iter().collect();
        if !all.is_empty() {
            out.push(Finding::new(CHANGED_INPUT, format!("`check` changed files of the book\n{}", list(&all))));
        }
        return out;
    }
    let inputs: Vec<&(String, &str)> = changed.iter().filter(|(p, _)| c.inputs.contains(p) || !c.in_build_dir(p)).collect();
    if !inputs.is_empty() {
        let what = if inputs.iter().any(|(p, _)| c.inputs.contains(p)) { "the book's own files" } else { "files outside its build folder" };
        out.push(Finding::new(CHANGED_INPUT, format!("a {} build changed {what}\n{}", if succeeded { "successful" } else { "failed" }, list(&inputs))));
    }
    if !succeeded {
        let may_change = |p: &str| {
            let rel = c.build_dir.map_or(p, |d| p.strip_prefix(d).unwrap_or(p)).trim_start_matches('/');
            FAILED_BUILD_MAY_CHANGE.iter().any(|allowed| rel.starts_with(allowed))
        };
        let output: Vec<&(String, &str)> = changed.iter().filter(|(p, _)| !c.inputs.contains(p) && c.in_build_dir(p) && !may_change(p)).collect();
        if !output.is_empty() {
            // Which part of the output changed says which phase wrote before the failure.
            let part = |p: &str| {
                let rel = c.build_dir.map_or(p, |d| p.strip_prefix(d).unwrap_or(p)).trim_start_matches('/');
                if rel.starts_with(".metabook/cache") {
                    "the build cache"
                } else if rel.starts_with(".metabook") {
                    "the ledger"
                } else if rel.starts_with("html/") {
                    "the site"
                } else {
                    "the PDFs or changes.md"
                }
            };
            let parts: BTreeSet<&str> = output.iter().map(|(p, _)| part(p)).collect();
            out.push(Finding::new(FAILED_BUILD_WROTE, format!("a failed build changed {}\n{}", parts.into_iter().collect::<Vec<_>>().join(" and "), list(&output))));
        }
    }
    out
}

/// The site's navigation must not list a page twice (two chapters sharing a page file), and
/// the chapters made with a unique word must each show it somewhere in the site.
pub fn lost_pages(index_html: &str, pages: &str, marks: &[(String, String)]) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(nav) = index_html.split("<nav class=\"sidebar\"").nth(1).and_then(|n| n.split("</nav>").next()) {
        let mut seen = BTreeSet::new();
        for href in nav.split("<li><a href=\"").skip(1).filter_map(|h| h.split('"').next()) {
            if !seen.insert(href) || (href == "index.html" && !CHAPTER_MAY_BE_INDEX) {
                let file = if href == "index.html" { "index.html (the index page's)" } else { "of another page" };
                out.push(Finding::new(LOST_PAGE, format!("two pages of the site share a file: {file}\n{href}")));
            }
        }
    }
    for (chapter, mark) in marks {
        if !pages.contains(mark.as_str()) {
            out.push(Finding::new(LOST_PAGE, format!("a chapter's text is missing from the site (another page overwrote it)\n{chapter}")));
        }
    }
    out
}

/// The destinations of the links in a Markdown text, as CommonMark reads it: a link that a
/// mutation moved into a code block (an unclosed fence swallows the rest of SUMMARY.md) lists
/// no chapter, though its text is still there to find.
pub fn markdown_links(text: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, Tag};
    Parser::new(text)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. }) => Some(dest_url.to_string()),
            _ => None,
        })
        .collect()
}

/// Duplicate column names (case and spaces aside) in a CSV header.
pub fn duplicate_columns(header: &[String]) -> Option<String> {
    let mut seen = BTreeSet::new();
    header.iter().map(|h| h.trim().to_ascii_lowercase()).find(|h| !h.is_empty() && !seen.insert(h.clone()))
}

/// The oracles on inputs whose answer is known, run before any fuzzing: an oracle that has
/// gone blind would make a clean run meaningless.
pub fn self_check() {
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(!active_content("<h1 id=\"x\" onclick=\"alert(1)\">a</h1>").is_empty(), "event handler");
    assert!(!active_content("<a href=\" JaVa&#x53;cript:alert(1)\">x</a>").is_empty(), "javascript: URL");
    assert!(!active_content("<p>x<script>alert(1)</script></p>").is_empty(), "script element");
    assert!(active_content("<p title=\"a > b\">&lt;script&gt; onclick=x javascript:y</p>").is_empty(), "escaped text");
    assert!(non_finite("Test for overall effect: t = NaN", false).is_some(), "NaN");
    let docx = |xml: &str| {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        zip.start_file("word/document.xml", zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(xml.as_bytes()).unwrap();
        zip.finish().unwrap().into_inner()
    };
    assert!(word_file(&docx("<w:document xmlns:w=\"w\"><w:t>a &amp; b</w:t></w:document>")).is_none(), "a well-formed part");
    assert!(word_file(&docx("<w:document xmlns:w=\"w\"><w:t>a & b</w:t></w:document>")).is_some(), "a raw ampersand");
    assert!(word_file(&docx("<w:document><m:oMath/></w:document>")).is_some(), "an undeclared namespace");
    assert!(word_file(b"not a zip").is_some(), "not a zip file");
    assert!(non_finite("1.00 [0.30, inf]", true).is_some(), "inf in an interval");
    assert!(non_finite("weight  inf", false).is_none(), "the influence flag's heading");
    assert!(non_finite("<th scope=\"col\">inf</th>", false).is_none(), "the influence flag's heading cell");
    assert!(non_finite("&lt;th scope=&quot;col&quot;&gt;inf&lt;/th&gt;", false).is_none(), "the same, escaped");
    assert!(non_finite("<td class=\"num\">inf</td>", false).is_some(), "an infinite cell");
    assert!(non_finite("influence, information, Inf.", false).is_none(), "words");
    assert!(unlocated("error: x\n  ┌─ a.csv:1:2\n  │\n", &[]).is_empty(), "a located error");
    assert!(!unlocated("error: x\n = hint: y\n", &[]).is_empty(), "an error without location");
    assert!(duplicate_columns(&strings(&["study", "yi", " YI"])).is_some(), "duplicate columns");
    assert!(mentions_non_finite("a NaN cell") && !mentions_non_finite("influence"), "the book's own words");
    assert_eq!(markdown_links("- [A](a.md)\n- [B](b.m= \"x\"\n```\nd)\n- [C](c.md)\n"), strings(&["a.md"]), "links in a code block list nothing");
}

/// What is wrong with a Word file (the bytes of a .docx), if anything: a part that is not
/// well-formed XML (Word refuses the whole file), or a formula's marker left in the text.
pub fn word_file(bytes: &[u8]) -> Option<String> {
    use std::io::Read;
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => return Some(format!("not a zip file: {e}")),
    };
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).ok()?;
        let name = entry.name().to_string();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let mut xml = String::new();
        if let Err(e) = entry.read_to_string(&mut xml) {
            return Some(format!("{name} is not UTF-8: {e}"));
        }
        if let Err(e) = roxmltree::Document::parse(&xml) {
            return Some(format!("{name} is not XML: {e}"));
        }
        if xml.contains('\u{FDD4}') {
            return Some(format!("{name} holds a formula's marker"));
        }
    }
    None
}
