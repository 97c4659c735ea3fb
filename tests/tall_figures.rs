//! Tall figures and tables in the PDF (issue 13): a forest plot of a thousand studies continues
//! across pages — every study, the total, the footer lines and the axis in the PDF's text, the
//! column headings repeated and "(continued)" on each page after the first — while the site
//! shows it as one figure; a long table continues with its headings, no page holding more rows
//! than fit (an unbreakable table printed its overflow over its last rows).

use std::path::{Path, PathBuf};
use std::process::Command;

fn metabook(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(args).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

/// A new book (`metabook init`) whose analysis has `k` studies.
fn book_with(k: usize, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-tall-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(metabook(&["init".as_ref(), dir.as_os_str()]).0, 0);
    let mut csv = String::from("study,events1,n1,events2,n2\n");
    for i in 1..=k {
        // Deterministic, varied counts: every study estimable.
        let (n1, n2) = (40 + i % 97, 45 + (i * 7) % 89);
        csv.push_str(&format!("Study {i:04},{},{n1},{},{n2}\n", 1 + (i * 13) % (n1 - 2), 1 + (i * 29) % (n2 - 2)));
    }
    std::fs::write(dir.join("data/example.csv"), csv).unwrap();
    dir
}

/// Add `block` to the book's results chapter, build, and return the PDF's pages.
fn build_with(dir: &Path, block: &str) -> Vec<String> {
    let chapter = dir.join("report/results.md");
    std::fs::write(&chapter, std::fs::read_to_string(&chapter).unwrap() + "\n" + block).unwrap();
    let (code, out, err) = metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    pdf_pages(dir)
}

/// A new book with `data/long.csv`: 300 rows of three columns.
fn book_with_long_table(tag: &str) -> PathBuf {
    let dir = book_with(20, tag);
    let rows: String = (1..=300).map(|i| format!("Row {i:03},{},note {i}\n", i * 7)).collect();
    std::fs::write(dir.join("data/long.csv"), format!("row,value,note\n{rows}")).unwrap();
    dir
}

/// The table directive that shows `data/long.csv`.
const LONG_TABLE: &str = "```metabook table\ndata = \"long.csv\"\nlabel = \"tbl-long\"\ncaption = \"A long table.\"\n```\n";

fn pdf_pages(dir: &Path) -> Vec<String> {
    let pdf = std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "pdf")).unwrap();
    let out = Command::new("pdftotext").arg("-layout").arg(&pdf).arg("-").output().expect("pdftotext (apt-get install poppler-utils)");
    String::from_utf8_lossy(&out.stdout).split('\u{c}').map(str::to_string).collect()
}

#[test]
fn a_forest_plot_of_a_thousand_studies_continues_across_pages() {
    let dir = book_with(1000, "k1000");
    let (code, out, err) = metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    let pages = pdf_pages(&dir);
    let text = pages.concat();
    // Nothing is cut: every study, then the total, its footer lines, the axis' labels.
    for i in 1..=1000 {
        assert_eq!(text.matches(&format!("Study {i:04} ")).count(), 1, "Study {i:04} is not in the PDF once");
    }
    for line in ["Total (95% CI)", "Heterogeneity: Tau² =", "Test for overall effect: Z =", "Favours control"] {
        assert!(text.contains(line), "`{line}` is not in the PDF");
    }
    // The figure spans pages: each of them has the column headings; all but the first say
    // which figure continues; the caption comes once, at the end.
    let figure_pages: Vec<&String> = pages.iter().filter(|p| p.contains("Study or Subgroup")).collect();
    assert!(figure_pages.len() >= 10, "{} pages", figure_pages.len());
    assert!(!figure_pages[0].contains("(continued)") && figure_pages[1..].iter().all(|p| p.contains("Figure 1 (continued)")));
    assert!(figure_pages.last().unwrap().contains("Figure 1. ") && text.matches("Figure 1. ").count() == 1);
    // The site shows one figure with every study.
    let html = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 1);
    assert!(html.contains(">Study 0001<") && html.contains(">Study 1000<"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_leave_one_out_plot_of_a_thousand_studies_continues_across_pages() {
    let dir = book_with(1000, "loo");
    let pages = build_with(&dir, "```metabook sensitivity\nanalysis = \"example\"\nkind = \"leave-one-out\"\nplot = true\nlabel = \"fig-loo\"\ncaption = \"Leave one out.\"\n```\n");
    let plot: Vec<&String> = pages.iter().filter(|p| p.contains("Study omitted")).collect();
    assert!(plot.len() >= 10, "{} pages", plot.len());
    assert!(plot[1..].iter().all(|p| p.contains("Figure 2 (continued)")));
    // From its headings on (the forest plot ends on its first page).
    let text: String = plot.iter().map(|p| p.as_str()).collect();
    let text = &text[text.find("Study omitted").unwrap()..];
    for i in 1..=1000 {
        assert_eq!(text.matches(&format!("Study {i:04} ")).count(), 1, "Study {i:04} is not in the plot once");
    }
    assert!(text.contains("All studies (k = 1000)") && plot.last().unwrap().contains("Figure 2. Leave one out."));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_forest_plot_that_fits_a_page_stays_one_image() {
    let dir = book_with(20, "k20");
    assert_eq!(metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]).0, 0);
    let text = pdf_pages(&dir).concat();
    assert!(text.contains("Study 0020") && !text.contains("(continued)"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_long_table_continues_across_pages_without_rows_printed_over_each_other() {
    let dir = book_with_long_table("table");
    let pages = build_with(&dir, LONG_TABLE);
    let rows = |p: &str| p.lines().filter(|l| l.trim_start().starts_with("Row ")).count();
    let counts: Vec<usize> = pages.iter().map(|p| rows(p)).filter(|&n| n > 0).collect();
    assert_eq!(counts.iter().sum::<usize>(), 300, "{counts:?}");
    assert!(counts.len() >= 4 && counts.iter().all(|&n| n <= 70), "a page holds more rows than fit: {counts:?}");
    // The headings on every page of the table, and on each after the first which table
    // continues.
    assert_eq!(pages.iter().filter(|p| rows(p) > 0 && p.contains("value")).count(), counts.len());
    let table_pages: Vec<&String> = pages.iter().filter(|p| rows(p) > 0).collect();
    assert!(!table_pages[0].contains("(continued)") && table_pages[1..].iter().all(|p| p.contains("Table 1 (continued)")), "{table_pages:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_table_whose_caption_stays_a_page_behind_is_not_continued_on_its_first_rows() {
    let dir = book_with_long_table("caption");
    let chapter = dir.join("report/results.md");
    let text = std::fs::read_to_string(&chapter).unwrap();
    // The table after n paragraphs: the page of its caption (set above it), of its first row,
    // and the pages.
    let build = |n: usize| {
        let filler: String = (0..n).map(|i| format!("Filler paragraph {i}.\n\n")).collect();
        std::fs::write(&chapter, format!("{text}\n#### Filler\n\n{filler}{LONG_TABLE}")).unwrap();
        let (code, out, err) = metabook(&["build".as_ref(), "--book".as_ref(), dir.as_os_str()]);
        assert_eq!(code, 0, "{out}{err}");
        let pages = pdf_pages(&dir);
        let caption = pages.iter().position(|p| p.contains("Table 1. A long table.")).unwrap();
        let first = pages.iter().position(|p| p.contains("Row 001")).unwrap();
        (caption, first, pages)
    };
    // The fewest paragraphs that push the headings and first rows to the next page: there the
    // caption, shorter, still ends the page before.
    let (_, start, _) = build(0);
    let (mut fits, mut pushed) = (0, 60);
    assert!(build(pushed).1 > start);
    while pushed - fits > 1 {
        let mid = (fits + pushed) / 2;
        if build(mid).1 > start {
            pushed = mid;
        } else {
            fits = mid;
        }
    }
    let (caption, first, pages) = build(pushed);
    assert_eq!(first, caption + 1, "with {pushed} paragraphs the caption does not stay behind the rows");
    assert!(!pages[first].contains("(continued)"), "{}", pages[first]);
    assert!(pages[first + 1].contains("Table 1 (continued)"), "{}", pages[first + 1]);
    let _ = std::fs::remove_dir_all(&dir);
}
