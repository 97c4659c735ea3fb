//! Hostile and unlucky input to `metabook build` and `check` (issue 11): each test edits a
//! private copy of the minimal fixture book the way a co-author, an export from another tool or
//! an attacker might, and checks that metabook reports it at its place with exit code 1, never
//! writes or removes anything outside the book, leaves the previous output as it was when a
//! build fails, and never puts active content into the site.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh copy of the minimal book in its own folder (`<tmp>/<name>/review`), with room beside
/// it for what must stay untouched.
fn book(name: &str) -> PathBuf {
    fixture_book("minimal", name)
}

/// A fresh copy of the fixture book `fixture`, as [`book`].
fn fixture_book(fixture: &str, name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!("metabook-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let dir = root.join("review");
    common::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books").join(fixture), &dir);
    dir
}

fn run(command: &str, dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args([command, "--book"]).arg(dir).env("NO_COLOR", "1").output().expect("run metabook");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn append(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(path, old + text).unwrap();
}

fn replace(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let old = std::fs::read_to_string(&path).unwrap();
    assert!(old.contains(from), "{file} has no `{from}`");
    std::fs::write(path, old.replacen(from, to, 1)).unwrap();
}

/// Every file under `dir` with its bytes, in order.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if std::fs::symlink_metadata(&path).unwrap().is_dir() {
                stack.push(path);
            } else {
                out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

/// Build once, make the edit, and check that `build` and `check` both fail at `position` and
/// that the failed build left the previous output exactly as it was.
fn fails_at(name: &str, edit: impl Fn(&Path), position: &str, message: &str) {
    fails_in("minimal", name, edit, position, message);
}

/// [`fails_at`] for a copy of the fixture book `fixture`.
fn fails_in(fixture: &str, name: &str, edit: impl Fn(&Path), position: &str, message: &str) {
    let dir = fixture_book(fixture, name);
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    let before = snapshot(&dir.join("book"));
    edit(&dir);
    for command in ["check", "build"] {
        let (code, _, stderr) = run(command, &dir);
        assert_eq!(code, 1, "{command}: {stderr}");
        assert!(stderr.contains(position), "{command}: expected the error at {position}:\n{stderr}");
        assert!(stderr.contains(message), "{command}: expected `{message}`:\n{stderr}");
        assert!(!stderr.contains("generated Typst"), "{stderr}");
    }
    assert!(snapshot(&dir.join("book")) == before, "a failed build changed the output");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_numeric_looking_table_cell_with_a_multibyte_character_builds() {
    let dir = book("cell");
    replace(&dir, "data/bcg.csv", "Aronson 1948,", "Aronson 1948 10–20% ∞,");
    append(&dir, "data/extra.csv", "item,value\nrange,10–20%\nci,\"1.00 [0.00, ∞]\"\n");
    append(&dir, "report/results.md", "\n```metabook table\ndata = \"extra.csv\"\n```\n");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert!(page.contains("<td>10–20%</td>") && page.contains("<td>1.00 [0.00, ∞]</td>"), "shown as text");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_chapter_named_index_would_replace_the_contents_page() {
    fails_at(
        "index",
        |dir| {
            append(dir, "report/SUMMARY.md", "- [Start](index.md)\n");
            std::fs::write(dir.join("report/index.md"), "# Start\n").unwrap();
        },
        "report/SUMMARY.md:4:3",
        "would be the page `index.html`, which metabook makes itself",
    );
}

#[test]
fn two_chapters_whose_pages_would_collide_are_an_error() {
    fails_at(
        "collide",
        |dir| {
            append(dir, "report/SUMMARY.md", "- [A](sub/a.md)\n- [B](sub-a.md)\n");
            std::fs::create_dir_all(dir.join("report/sub")).unwrap();
            std::fs::write(dir.join("report/sub/a.md"), "# A\n").unwrap();
            std::fs::write(dir.join("report/sub-a.md"), "# B\n").unwrap();
        },
        "report/SUMMARY.md:5:3",
        "would both be the page `sub-a.html`",
    );
}

#[test]
fn a_chapter_listed_twice_is_an_error_at_the_second_listing() {
    fails_at("twice", |dir| append(dir, "report/SUMMARY.md", "- [Again](./results.md)\n"), "report/SUMMARY.md:4:3", "is listed twice");
}

#[test]
fn a_language_typst_cannot_take_is_an_error_at_the_key_and_a_region_is_fine() {
    fails_at("language", |dir| replace(dir, "book.toml", "[analysis]", "language = \"english\"\n[analysis]"), "book.toml:5:12", "not a language tag");
    let dir = book("region");
    replace(&dir, "book.toml", "[analysis]", "language = \"en-GB\"\n[analysis]");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(std::fs::read_to_string(dir.join("book/html/index.html")).unwrap().contains("lang=\"en-GB\""));
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn an_image_whose_bytes_are_not_its_format_is_an_error_at_the_image() {
    fails_at(
        "image-bytes",
        |dir| {
            std::fs::write(dir.join("report/fake.png"), b"GIF89a not really a picture").unwrap();
            append(dir, "report/results.md", "\n![A plot](fake.png)\n");
        },
        "report/results.md:25:1",
        "`fake.png` is named .png but holds a Gif image",
    );
    fails_at(
        "image-garbage",
        |dir| {
            std::fs::write(dir.join("report/fake.jpg"), b"hello").unwrap();
            append(dir, "report/results.md", "\n![A plot](fake.jpg)\n");
        },
        "report/results.md:25:1",
        "is not a JPEG image",
    );
}

#[test]
fn an_svg_linking_an_image_is_an_error_at_the_image() {
    fails_at(
        "svg-link",
        |dir| {
            std::fs::write(dir.join("report/plot.svg"), r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="10" height="10"><image xlink:href="/etc/hostname" width="10" height="10"/></svg>"#).unwrap();
            append(dir, "report/results.md", "\n![A plot](plot.svg)\n");
        },
        "report/results.md:25:1",
        "links the image `/etc/hostname`",
    );
}

#[test]
fn an_empty_link_is_an_error_at_the_link() {
    fails_at("empty-link", |dir| append(dir, "report/results.md", "\nSee [the protocol]() for details.\n"), "report/results.md:25:5", "a link without a target");
}

#[test]
fn quotes_nested_deeper_than_the_pdf_can_set_are_an_error_at_the_quote() {
    fails_at("quotes", |dir| append(dir, "report/results.md", &format!("\n{} deep\n", ">".repeat(20))), "report/results.md:25:", "nested more than 10 deep");
}

#[test]
fn a_javascript_link_is_an_error_and_active_html_never_reaches_the_site() {
    fails_at("js-link", |dir| append(dir, "report/results.md", "\n[click](JavaScript:alert(1))\n"), "report/results.md:25:1", "could run code");
    let dir = book("active");
    append(
        &dir,
        "report/results.md",
        "\n## Heading {.c onclick=alert(1)}\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">x</a> <sup>2</sup> <iframe src=\"https://example.org\"></iframe>\n",
    );
    replace(&dir, "report/results.md", "<by allocation>", "<by allocation> [x](javascript:alert(4)) <script>alert(5)</script>");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    for active in ["<script>alert", "onclick", "onerror", "javascript:", "<iframe"] {
        assert!(!page.contains(active), "`{active}` in the page:\n{page}");
    }
    assert!(page.contains("<h2 class=\"c\">Heading</h2>"), "classes stay");
    assert!(page.contains("<sup>2</sup>"), "harmless HTML stays");
    assert!(page.contains("&lt;script&gt;alert(5)&lt;/script&gt;"), "a caption's HTML is text");
    // `raw-html = "escape"`: the author's HTML is shown as typed.
    append(&dir, "book.toml", "\n[output.html]\nraw-html = \"escape\"\n");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert!(page.contains("&lt;sup&gt;2&lt;/sup&gt;") && page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(!page.contains("<script>alert"));
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn build_folders_outside_the_book_are_errors_at_the_key_and_nothing_outside_is_touched() {
    for (n, (line, problem)) in [
        ("build-dir = \"../outside\"", "leaves its folder"),
        ("build-dir = \"/tmp\"", "is absolute"),
        ("data = \"/\"", "is absolute"),
        ("src = \"../..\"", "leaves its folder"),
        ("templates = \"\"", "is empty"),
        ("build-dir = \".\"", "is the book's folder itself"),
        ("build-dir = \"data/..\"", "leaves its folder"),
        ("build-dir = \"book.toml\"", "is a file"),
    ]
    .into_iter()
    .enumerate()
    {
        let dir = book(&format!("folders-{n}"));
        let outside = dir.parent().unwrap().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("precious.txt"), "mine").unwrap();
        append(&dir, "book.toml", &format!("\n[build]\n{line}\n"));
        let (code, _, stderr) = run("build", &dir);
        assert_eq!(code, 1, "{line}: {stderr}");
        assert!(stderr.contains("book.toml:9:") && stderr.contains(problem), "{line}: {stderr}");
        assert_eq!(std::fs::read_to_string(outside.join("precious.txt")).unwrap(), "mine");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "{line}: nothing written beside the book");
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }
}

#[test]
fn the_build_removes_only_files_it_wrote() {
    let dir = book("manifest");
    assert_eq!(run("build", &dir).0, 0);
    std::fs::write(dir.join("book/html/CNAME"), "review.example.org").unwrap();
    std::fs::write(dir.join("book/notes.txt"), "mine").unwrap();
    // A chapter added, built, then taken out again: its page goes, the author's files stay.
    append(&dir, "report/SUMMARY.md", "- [Extra](extra.md)\n");
    std::fs::write(dir.join("report/extra.md"), "# Extra\n").unwrap();
    assert_eq!(run("build", &dir).0, 0);
    assert!(dir.join("book/html/extra.html").exists());
    replace(&dir, "report/SUMMARY.md", "- [Extra](extra.md)\n", "");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(!dir.join("book/html/extra.html").exists());
    assert_eq!(std::fs::read_to_string(dir.join("book/html/CNAME")).unwrap(), "review.example.org");
    assert_eq!(std::fs::read_to_string(dir.join("book/notes.txt")).unwrap(), "mine");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[cfg(unix)]
#[test]
fn symbolic_links_out_of_the_book_are_refused_everywhere() {
    use std::os::unix::fs::symlink;
    /// What a case does to the book (its folder, and a folder beside it) before it is built.
    type Edit = dyn Fn(&Path, &Path);
    let cases: [(&str, &Edit, &str); 6] = [
        ("chapter", &|dir, outside| {
            std::fs::write(outside.join("secret.md"), "# Secret\n").unwrap();
            std::fs::remove_file(dir.join("report/results.md")).unwrap();
            symlink(outside.join("secret.md"), dir.join("report/results.md")).unwrap();
        }, "report/SUMMARY.md:3:3"),
        ("summary", &|dir, outside| {
            std::fs::copy(dir.join("report/SUMMARY.md"), outside.join("SUMMARY.md")).unwrap();
            std::fs::remove_file(dir.join("report/SUMMARY.md")).unwrap();
            symlink(outside.join("SUMMARY.md"), dir.join("report/SUMMARY.md")).unwrap();
        }, "cannot read report/SUMMARY.md"),
        ("template", &|dir, outside| {
            std::fs::write(outside.join("page.html"), "{{ content }}").unwrap();
            std::fs::create_dir_all(dir.join("templates")).unwrap();
            symlink(outside.join("page.html"), dir.join("templates/page.html")).unwrap();
        }, "cannot read templates/page.html"),
        ("source folder", &|dir, outside| {
            std::fs::rename(dir.join("report"), outside.join("report")).unwrap();
            symlink(outside.join("report"), dir.join("report")).unwrap();
        }, "the src folder `report` leads out of the book"),
        ("data folder", &|dir, outside| {
            std::fs::rename(dir.join("data"), outside.join("data")).unwrap();
            symlink(outside.join("data"), dir.join("data")).unwrap();
        }, "the data folder `data` leads out of the book"),
        ("build folder", &|dir, outside| {
            std::fs::remove_dir_all(dir.join("book")).unwrap();
            symlink(outside, dir.join("book")).unwrap();
        }, "the build-dir folder `book` leads out of the book"),
    ];
    for (what, edit, message) in cases {
        let dir = book(&format!("link-{}", what.replace(' ', "-")));
        assert_eq!(run("build", &dir).0, 0);
        let outside = dir.parent().unwrap().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        edit(&dir, &outside);
        let before = snapshot(&outside);
        let (code, _, stderr) = run("build", &dir);
        assert_eq!(code, 1, "{what}: {stderr}");
        assert!(stderr.contains(message), "{what}: expected `{message}`:\n{stderr}");
        assert!(snapshot(&outside) == before, "{what}: something outside the book changed");
        let _ = std::fs::remove_dir_all(dir.parent().unwrap());
    }
}

/// What metabook keeps for itself in the build folder (the ledger of reported numbers, the build
/// cache) was read through a symbolic link out of the book, though never written there: a
/// planted ledger could make the build report numbers as moved, planted cache entries could
/// stand in for results. Through a link out they now count as absent.
#[test]
fn metabook_s_own_state_is_not_read_through_a_link_out_of_the_book() {
    use std::os::unix::fs::symlink;
    let dir = book("own-state-link");
    assert_eq!(run("build", &dir).0, 0);
    let state = dir.join("book/.metabook");
    let outside = dir.parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::rename(state.join("cache"), outside.join("cache")).unwrap();
    symlink(outside.join("cache"), state.join("cache")).unwrap();
    let ledger = std::fs::read_to_string(state.join("reported.json")).unwrap();
    assert!(ledger.contains("\"0.309\""), "{ledger}");
    std::fs::write(outside.join("reported.json"), ledger.replace("\"0.309\"", "\"0.999\"")).unwrap();
    std::fs::remove_file(state.join("reported.json")).unwrap();
    symlink(outside.join("reported.json"), state.join("reported.json")).unwrap();
    let before = snapshot(&outside);
    let (code, stdout, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("(0 from the cache)"), "no result read from the cache outside: {stdout}");
    assert!(!stdout.contains("0.999") && !dir.join("book/changes.md").exists(), "the planted ledger was not compared with: {stdout}");
    assert!(stderr.contains("cannot write the build cache") && stderr.contains("leads out of the book"), "{stderr}");
    assert!(snapshot(&outside) == before, "something outside the book changed");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_file_that_is_not_utf8_is_an_error_where_it_stops_being_utf8() {
    fails_at(
        "latin1-template",
        |dir| {
            std::fs::create_dir_all(dir.join("templates")).unwrap();
            std::fs::write(dir.join("templates/page.html"), b"<html>\n<p>Caf\xe9</p>{{ content }}\n").unwrap();
        },
        "templates/page.html:2:7",
        "not UTF-8 text (line 2, column 7)",
    );
    fails_at(
        "latin1-book-toml",
        |dir| {
            let mut toml = std::fs::read(dir.join("book.toml")).unwrap();
            toml.extend_from_slice(b"# Caf\xe9\n");
            std::fs::write(dir.join("book.toml"), toml).unwrap();
        },
        "book.toml:7:6",
        "cannot read book.toml: not UTF-8 text",
    );
}

#[test]
fn a_second_list_of_references_is_an_error_at_it() {
    fails_in("directives", "two-lists", |dir| append(dir, "report/results.md", "\n```metabook references\n```\n"), "report/references.md:3:1", "a second list of references");
}

#[test]
fn a_code_block_left_open_at_the_end_does_not_swallow_the_references() {
    let dir = fixture_book("directives", "open-fence");
    replace(&dir, "report/SUMMARY.md", "- [References](references.md)\n", "");
    append(&dir, "report/sensitivity.md", "\n```\nleft open\n");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(dir.join("book/html/sensitivity.html")).unwrap();
    assert!(page.contains("<h2>References</h2>") && page.contains("<ol class=\"references\">"), "{page}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn a_table_of_no_columns_is_an_error_at_the_key() {
    fails_at("no-columns", |dir| append(dir, "report/results.md", "\n```metabook table\ndata = \"bcg.csv\"\ncolumns = []\n```\n"), "report/results.md:27:11", "a table needs at least one column");
}

#[test]
fn a_reference_address_that_could_run_code_is_no_link() {
    let dir = fixture_book("directives", "bib-url");
    append(&dir, "data/refs.bib", "\n@misc{evil, title = {Link}, url = {javascript:alert(1)}, year = {2020}}\n");
    append(&dir, "report/results.md", "\nSee [@evil].\n");
    let (code, _, stderr) = run("build", &dir);
    assert_eq!(code, 0, "{stderr}");
    let page = std::fs::read_to_string(dir.join("book/html/references.html")).unwrap();
    assert!(page.contains("javascript:alert(1)") && !page.contains("href=\"javascript:"), "shown as text, not a link");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

#[test]
fn problems_of_the_summary_as_a_whole_point_at_book_toml() {
    let no_blocks = |dir: &Path| {
        let chapter = std::fs::read_to_string(dir.join("report/results.md")).unwrap();
        std::fs::write(dir.join("report/results.md"), chapter.replace("```metabook pls", "```toml")).unwrap();
    };
    fails_in("pls", "no-pls-block", no_blocks, "book.toml:7:1", "no `metabook pls` block");
    fails_in("pls", "no-wording", |dir| replace(dir, "book.toml", "[analysis]", "language = \"de\"\n\n[analysis]"), "book.toml:4:12", "no wording table for the plain-language summary in `de`");
}

#[test]
fn the_summary_template_is_held_to_what_a_chapter_may_hold() {
    fails_in(
        "pls",
        "pls-quotes",
        |dir| {
            std::fs::create_dir_all(dir.join("templates")).unwrap();
            std::fs::write(dir.join("templates/pls.md"), format!("# {{{{ title }}}}\n\n{} deep\n", "> ".repeat(20))).unwrap();
        },
        "templates/pls.md:3:",
        "nested more than 10 deep",
    );
}
