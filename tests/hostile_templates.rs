//! Hostile and unlucky templates and bibliographies: a template that loops for ever or writes
//! gigabytes, a bibliography whose entries inherit from each other in a circle, markup in the
//! plain-language summary's strings, and mistakes in the page and summary templates. Each is an
//! error located in the author's file with a hint and exit code 1 — never a crash, a hang, or
//! HTML let through.

mod common;

use common::copy_dir;
use metabook::render::template::FUEL;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A private copy of a fixture book.
fn book(fixture: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-templ-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books").join(fixture), &dir);
    dir
}

/// Run `metabook <command> --book dir`: exit code, stdout and stderr together, and the time
/// taken. A run that has not ended after 120 s is killed and fails the test, so that a template
/// that runs for ever fails rather than hangs the test suite.
fn run(command: &str, dir: &Path) -> (i32, String, Duration) {
    let start = Instant::now();
    let log = |stream: &str| dir.with_extension(format!("{command}.{stream}"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_metabook"))
        .args([command, "--book"])
        .arg(dir)
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(log("out")).unwrap())
        .stderr(std::fs::File::create(log("err")).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("metabook {command} did not end within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = std::fs::read_to_string(log("out")).unwrap_or_default() + &std::fs::read_to_string(log("err")).unwrap_or_default();
    let _ = std::fs::remove_file(log("out"));
    let _ = std::fs::remove_file(log("err"));
    (status.code().unwrap_or(-1), text, start.elapsed())
}

fn append(path: &Path, text: &str) {
    let old = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, old + text).unwrap();
}

/// The 1-based line of the first line of `path` containing `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path).unwrap().lines().position(|l| l.contains(needle)).expect("the needle") + 1
}

/// Ten billion steps that write nothing (a loop that writes is stopped by the text limit first).
const NESTED_LOOPS: &str = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}";

#[test]
fn nested_loops_in_a_chapter_stop_at_the_fuel_limit_at_the_loop() {
    let dir = book("minimal", "fuel");
    let chapter = dir.join("report/results.md");
    append(&chapter, &format!("\nA table nobody wants:\n\n{NESTED_LOOPS}\n"));
    let (code, out, took) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    let line = line_of(&chapter, "range(100000)");
    assert!(out.contains(&format!("report/results.md:{line}:1")), "{out}");
    assert!(out.contains("the chapter's template takes too many steps") && out.contains("this loop"), "{out}");
    assert!(out.contains("hint: metabook stops a template after"), "{out}");
    assert!(took < Duration::from_secs(120), "stopped in {took:?}, not after 10¹⁰ steps");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `in` on a lazily repeated sequence walks 10¹¹ items in one step, which minijinja's fuel does
/// not count: it ran for hours. The watchdog stops it after `SECONDS`, naming the chapter, and
/// the previous output stays as it was.
#[test]
fn a_test_the_fuel_does_not_count_is_stopped_by_the_watchdog() {
    let dir = book("minimal", "watchdog");
    assert_eq!(run("build", &dir).0, 0);
    let before = std::fs::read(dir.join("book/html/results.html")).unwrap();
    append(&dir.join("report/results.md"), "\nFound: {{ -1 in range(100000) * 1000000 }}\n");
    let (code, out, took) = run("build", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("the template of report/results.md ran for more than {} s and was stopped", metabook::render::template::SECONDS)), "{out}");
    assert!(out.contains("hint: a test with `in`"), "{out}");
    assert!(took >= Duration::from_secs(metabook::render::template::SECONDS) && took < Duration::from_secs(120), "stopped after {took:?}");
    assert_eq!(std::fs::read(dir.join("book/html/results.html")).unwrap(), before, "the previous page stays");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_huge_value_in_a_chapter_stops_at_the_text_limit() {
    let dir = book("minimal", "text");
    let chapter = dir.join("report/results.md");
    append(&chapter, "\nPadding: {{ \"a\" * 100000000 }}\n");
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    let line = line_of(&chapter, "Padding");
    assert!(out.contains(&format!("report/results.md:{line}:13")), "{out}");
    assert!(out.contains("the chapter's template would be longer than 4 MB"), "{out}");
    assert!(out.contains("hint: a loop or a repeated text"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chapters_that_each_stay_under_the_text_limit_stop_at_the_book_limit() {
    let dir = book("minimal", "book-text");
    // Three chapters of 3 MB each: each under the 4 MB of a chapter, not under the 8 MB of a book.
    for n in 1..=3 {
        std::fs::write(dir.join(format!("report/long{n}.md")), "# Long\n\n{% for i in range(30000) %}{{ \"word \" * 20 }}\n{% endfor %}\n").unwrap();
        append(&dir.join("report/SUMMARY.md"), &format!("- [Long {n}](long{n}.md)\n"));
    }
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: the chapters up to this one would be longer than 8 MB together"), "{out}");
    assert!(out.contains("report/long3.md:1:1"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn template_errors_after_a_directive_are_located_in_the_author_file() {
    // The chapter is templated with each directive block replaced by a one-line placeholder,
    // so its lines after a directive are not the author's lines.
    let dir = book("minimal", "after-directive");
    let chapter = dir.join("report/results.md");
    append(&chapter, "\nIn all, {{ bcg.k | nonesuch }} trials.\n");
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    let line = line_of(&chapter, "In all");
    assert!(out.contains(&format!("report/results.md:{line}:9")), "{out}");
    assert!(!out.contains("<string>"), "{out}");
    // A `{% raw %}` closed inside a directive's body is unclosed once the body is gone.
    let text = std::fs::read_to_string(&chapter).unwrap().replace("```metabook table", "{% raw %}\n```metabook table").replace("caption = \"Trials", "caption = \"{% endraw %} Trials");
    std::fs::write(&chapter, text).unwrap();
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: syntax error"), "{out}");
    assert!(out.contains("┌─ report/results.md:"), "{out}");
    assert!(!out.contains("<string>"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn crossref_cycles_in_the_bibliography_are_errors_at_the_entry() {
    let dir = book("minimal", "crossref");
    append(&dir.join("book.toml"), "\n[bibliography]\nfile = \"refs.bib\"\n");
    std::fs::write(dir.join("data/refs.bib"), "@inproceedings{a, title={A}, year={2000},\n  crossref={b}}\n@proceedings{b, title={B}, year={2000}, crossref={a}}\n").unwrap();
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: the entry `a` takes its fields from itself: a → b → a"), "{out}");
    assert!(out.contains("data/refs.bib:2:3"), "{out}");
    assert!(out.contains("hint: "), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The default page template, with `edit` applied, as the book's own.
fn with_page_template(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let page = dir.join("templates/page.html");
    std::fs::write(&page, edit(std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/page.html")).unwrap())).unwrap();
    page
}

#[test]
fn errors_in_the_page_template_are_located_in_it() {
    let dir = book("minimal", "page");
    let page = with_page_template(&dir, |t| t.replace("<title>", "<title>{{ book_title | nonesuch }}"));
    let (code, out, _) = run("build", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("templates/page.html:{}:", line_of(&page, "nonesuch"))), "{out}");
    assert!(out.contains("unknown filter") && out.contains("hint: while laying out index.html"), "{out}");
    // A syntax error.
    with_page_template(&dir, |t| t.replace("<main id=\"content\">", "<main id=\"content\">{% if %}"));
    let (code, out, _) = run("build", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("templates/page.html:{}:", line_of(&page, "{% if %}"))) && out.contains("syntax error"), "{out}");
    // Loops without end.
    with_page_template(&dir, |t| t.replace("<main id=\"content\">", &format!("<main id=\"content\">\n{NESTED_LOOPS}")));
    let (code, out, _) = run("build", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("templates/page.html:{}:1", line_of(&page, "range(100000)"))) && out.contains("this loop"), "{out}");
    assert!(out.contains("the page template takes too many steps"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_in_the_summary_template_are_located_in_it() {
    let dir = book("pls", "pls-template");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let template = dir.join("templates/pls.md");
    let default = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/pls.md")).unwrap();
    std::fs::write(&template, default.replace("{{ question }}", "{{ question }} {{ nonesuch }}")).unwrap();
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("templates/pls.md:{}:", line_of(&template, "nonesuch"))), "{out}");
    assert!(out.contains("hint: variables: title, headings, key_messages"), "{out}");
    std::fs::write(&template, default.replace("{{ question }}", &format!("{{{{ question }}}}\n\n{NESTED_LOOPS}"))).unwrap();
    let (code, out, _) = run("check", &dir);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(&format!("templates/pls.md:{}:1", line_of(&template, "range(100000)"))) && out.contains("this loop"), "{out}");
    assert!(out.contains("the plain-language summary's template takes too many steps"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn markup_in_the_plain_language_summary_strings_stays_text() {
    let dir = book("pls", "pls-markup");
    // book.toml's [pls], a `pls` block and the wording table, each with HTML in it.
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap()
        .replace("Back pain is common.", "Back pain is common. <script>alert(1)</script>")
        .replace("\"the exercise plan\"", "\"the <b>exercise</b> plan\"")
        .replace("a study that compares two groups.", "<img src=x onerror=alert(2)>")
        .replace("[pls]\n", "[pls]\ncondition = \"<i>back</i> pain\"\nbackground = \"x\"\n");
    std::fs::write(dir.join("book.toml"), config).unwrap();
    let chapter = dir.join("report/results.md");
    let text = std::fs::read_to_string(&chapter).unwrap().replace("meaning = \"how much it hurts\"", "meaning = \"how much it <img src=y onerror=alert(3)> hurts\"");
    std::fs::write(&chapter, text).unwrap();
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let words = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/pls-en.toml")).unwrap()
        .replace("large = \"The change is large.\"", "large = \"The change is <script>alert(4)</script> large.\"")
        .replace("page-title = \"Plain-language summary\"", "page-title = \"<script>alert(5)</script>\"");
    std::fs::write(dir.join("templates/pls-en.toml"), words).unwrap();
    let (code, out, _) = run("build", &dir);
    assert_eq!(code, 0, "{out}");
    let html = std::fs::read_to_string(dir.join("book/html/plain-language-summary.html")).unwrap();
    let summary = &html[html.find("<main").unwrap()..];
    for raw in ["<script", "<img", "<b>exercise", "<i>back"] {
        assert!(!summary.contains(raw), "`{raw}` reached the page as HTML: {summary}");
    }
    // The page's title, in the contents of every page, is text too.
    assert!(!html.contains("<script>alert(5)") && html.contains("&lt;script&gt;alert(5)"), "{html}");
    assert!(summary.contains("What is &lt;i&gt;back&lt;/i&gt; pain?"), "{summary}");
    for shown in ["&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;exercise&lt;/b&gt;", "&lt;img src=x onerror=alert(2)&gt;", "&lt;img src=y onerror=alert(3)&gt;", "&lt;script&gt;alert(4)&lt;/script&gt;"] {
        assert!(summary.contains(shown), "`{shown}` is not shown as text: {summary}");
    }
    // The PDF shows the same text.
    let pdf = std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().ends_with("plain-language-summary.pdf")).unwrap();
    let text = Command::new("pdftotext").arg(&pdf).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    let text = String::from_utf8_lossy(&text.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("<script>alert(1)</script>") && text.contains("<img src=y onerror=alert(3)>"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The fuel a book's chapters take, rendered as a build renders them: (largest, total).
fn fuel_of(root: &Path) -> (u64, u64) {
    let prepared = match metabook::cmd::build::prepare(root) {
        Ok(p) => p,
        Err(d) => panic!("{}", metabook::diag::render(&d, false)),
    };
    let values = metabook::render::chapter::prose_values(&prepared.analyses, &mut metabook::cache::Cache::disabled());
    let mut fuel = Vec::new();
    for chapter in &prepared.book.chapters {
        let directives = metabook::directive::parse_chapter(&chapter.source).unwrap();
        let spliced = metabook::render::template::Spliced::new(&chapter.source.text, directives.iter().map(|d| (d.span.clone(), "\n<!--x-->\n".to_string())));
        let engine = metabook::render::prose::engine();
        metabook::render::prose::render_chapter(&engine, &chapter.source, &spliced, &values).unwrap();
        fuel.push(engine.fuel_used());
    }
    (fuel.iter().copied().max().unwrap_or(0), fuel.iter().sum())
}

#[test]
fn the_fuel_budget_is_a_hundred_times_what_real_books_take() {
    let (largest, total) = fuel_of(Path::new(env!("CARGO_MANIFEST_DIR")));
    eprintln!("the example review: largest chapter {largest} steps, all chapters {total}");
    assert!(largest > 0 && total * 100 < FUEL, "{total}");
    // A review of 400 studies whose chapter lists every study in a loop and prints 300 values.
    let dir = book("minimal", "fuel-large");
    let mut csv = String::from("study,yi,vi\n");
    for i in 0..400 {
        csv.push_str(&format!("Study {i},{:.3},{:.3}\n", (i % 17) as f64 / 10.0 - 0.8, 0.05 + (i % 5) as f64 / 50.0));
    }
    std::fs::write(dir.join("data/large.csv"), csv).unwrap();
    let mut chapter = String::from("# Results\n\n```metabook analysis\nname = \"large\"\ndata = \"large.csv\"\nmeasure = \"GEN\"\n```\n\n| Study | Effect | Weight |\n|---|---|---|\n");
    chapter.push_str("{% for s in large.studies %}| {{ s.study }} | {{ s.yi | num }} | {{ s.weight | num(1) }}% |\n{% endfor %}\n");
    for _ in 0..100 {
        chapter.push_str("Pooled: {{ large | effect }}, I² = {{ large.i2 | pct }}, {{ large.p | pval }}.\n");
    }
    std::fs::write(dir.join("report/results.md"), chapter).unwrap();
    let (largest, _) = fuel_of(&dir);
    eprintln!("a chapter of 400 studies in a loop and 300 values: {largest} steps");
    assert!(largest * 100 < FUEL, "{largest}");
    let _ = std::fs::remove_dir_all(&dir);
}
