//! The Word file (issue 15): the example review, which has `[output.docx]`, read back
//! from its XML. Headings carry Word's heading styles; every table of the site is a Word table
//! whose header row repeats on every page; every figure is a 300-dpi PNG with its caption as
//! alternative text; the results chapter's numbers are the PDF's; hostile text stays text; two
//! builds give the same bytes.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

fn example(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("metabook-docx-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for part in ["report", "data", "templates"] {
        common::copy_dir(&root.join(part), &dir.join(part));
    }
    let config = std::fs::read_to_string(root.join("book.toml")).unwrap();
    assert!(config.contains("\n[output.docx]\n"), "the example review makes its Word file");
    std::fs::write(dir.join("book.toml"), config).unwrap();
    dir
}

fn build(dir: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(dir).env("NO_COLOR", "1").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

fn the_docx(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "docx")).expect("book/<title>.docx")
}

/// The files of a .docx: (name, bytes), in the archive's order.
fn entries(docx: &Path) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(docx).unwrap()).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut e = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (e.name().to_string(), bytes)
        })
        .collect()
}

fn document_xml(docx: &Path) -> String {
    let (_, bytes) = entries(docx).into_iter().find(|(n, _)| n == "word/document.xml").expect("word/document.xml");
    String::from_utf8(bytes).unwrap()
}

/// The text of Word XML as a reader reads it, paragraph by paragraph (a field's result, not
/// its instruction).
fn text_of(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    let mut instruction = false;
    while let Some(open) = rest.find('<') {
        if !instruction {
            out.push_str(&rest[..open]);
        }
        let close = rest[open..].find('>').map_or(rest.len(), |i| open + i + 1);
        let tag = &rest[open..close];
        if tag.starts_with("</w:p>") {
            out.push('\n');
        }
        if tag.starts_with("<w:instrText") && !tag.ends_with("/>") {
            instruction = true;
        } else if tag.starts_with("</w:instrText") {
            instruction = false;
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[test]
fn the_example_review_as_a_word_file() {
    let dir = example("example");
    build(&dir);
    let docx = the_docx(&dir);
    let xml = document_xml(&docx);
    let text = text_of(&xml);

    // Headings in Word's heading styles, in the chapters' order.
    for (style, heading) in [("Heading1", "Abstract"), ("Heading1", "Results"), ("Heading2", "Spasticity"), ("Heading1", "References")] {
        assert!(xml.contains(&format!("<w:pStyle w:val=\"{style}\" />")), "{style}");
        assert!(text.lines().any(|l| l == heading), "{heading}");
    }
    let styles = String::from_utf8(entries(&docx).into_iter().find(|(n, _)| n == "word/styles.xml").unwrap().1).unwrap();
    assert!(styles.contains("<w:name w:val=\"heading 1\" />") && styles.contains("<w:outlineLvl w:val=\"0\" />"), "Word's own names, outline levels for the navigation pane");

    // Every table of the site is a Word table with the same cells, its header row repeated.
    let html: String = std::fs::read_dir(dir.join("book/html")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "html")).map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let site_tables = html.matches("<table").count();
    assert_eq!(xml.matches("<w:tbl>").count(), site_tables, "every table");
    assert_eq!(xml.matches("<w:tblHeader />").count(), site_tables, "each with a header row that repeats");
    for cell in ["Creamer 2018 (SISTERS; pain and QoL)", "conventional medical management", "Certainty of the evidence (GRADE)", "Lower 95% CI"] {
        assert!(text.contains(cell), "{cell}");
    }
    // Numbers right-aligned, with the true minus sign.
    assert!(xml.contains("<w:jc w:val=\"right\" />"));
    assert!(text.contains("SMD \u{2212}0.41 (95% CI \u{2212}0.77 to \u{2212}0.05)"), "{text}");

    // Every figure: a PNG at 300 dpi, its caption as a Word caption under it and as its alt text.
    let media: Vec<(String, Vec<u8>)> = entries(&docx).into_iter().filter(|(n, _)| n.starts_with("word/media/") && n.ends_with(".png")).collect();
    assert_eq!(media.len(), 6, "six figures");
    for (name, png) in &media {
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        let width_px = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert!(width_px >= 1000, "{name}: {width_px} px wide, print quality");
    }
    for n in 1..=6 {
        assert!(xml.contains(&format!("<wp:docPr id=\"{n}\" name=\"Figure {n}\" descr=\"")), "figure {n} has its own id and alt text");
    }
    // The forest plot's PNG has its shapes (the studies' squares, in the plot's blue) and its
    // text (near-black) on a white page.
    let (_, forest) = media.iter().find(|(n, _)| n.ends_with("rIdImage4.png")).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(forest.as_slice())).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb, "opaque");
    let rgb: Vec<&[u8]> = pixels[..info.buffer_size()].chunks(3).collect();
    let near = |p: &[u8], c: [u8; 3]| p.iter().zip(c).all(|(a, b)| a.abs_diff(b) < 12);
    let count = |c: [u8; 3]| rgb.iter().filter(|p| near(p, c)).count();
    assert!(near(rgb[0], [255, 255, 255]), "a white page");
    assert!(count([0x1f, 0x5f, 0xa8]) > 2_000, "the squares: {}", count([0x1f, 0x5f, 0xa8]));
    assert!(rgb.iter().filter(|p| p.iter().all(|&v| v < 60)).count() > 5_000, "the text");
    assert!(xml.contains("descr=\"Spasticity (Ashworth or Modified Ashworth score), before versus after intrathecal baclofen"), "the caption is the alt text");
    assert!(xml.contains(" SEQ Figure \\* ARABIC ") && xml.contains(" SEQ Table \\* ARABIC "), "captions numbered by Word's fields");
    assert!(text.contains("Figure 4. Spasticity") && text.contains("Table 1. Characteristics of the included studies"), "numbered as in the PDF");

    // The results chapter's numbers are the PDF's: each number of its page in the site is in the
    // Word file.
    let mut results = std::fs::read_to_string(dir.join("book/html/results.html")).unwrap();
    // Not the figures' own text: in the Word file it is in their images.
    while let Some(start) = results.find("<svg") {
        let end = results[start..].find("</svg>").map_or(results.len(), |i| start + i + 6);
        results.replace_range(start..end, "");
    }
    // Each element's text apart (a table's cells).
    let results_text = text_of(&results.replace('<', " <"));
    let numbers: Vec<&str> = results_text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '\u{2212}')).map(|t| t.trim_end_matches('.')).filter(|t| t.chars().any(|c| c.is_ascii_digit())).collect();
    assert!(numbers.len() > 50, "{numbers:?}");
    for n in numbers {
        assert!(text.contains(n), "{n} is in the site's results but not in the Word file");
    }
    // The reference list.
    assert!(text.contains("Stokic DS, Yablon SA, Hayes A."), "the references");

    // Citations and cross-references link to their targets, as in the PDF: each link names a
    // bookmark of the file, on a caption or an entry of the list.
    let links: Vec<&str> = xml.split("<w:hyperlink w:anchor=\"").skip(1).map(|l| &l[..l.find('"').unwrap()]).collect();
    let bookmarks: Vec<&str> = xml.split("<w:bookmarkStart ").skip(1).map(|b| { let b = &b[b.find("w:name=\"").unwrap() + 8..]; &b[..b.find('"').unwrap()] }).collect();
    assert!(links.iter().filter(|l| l.contains("figure")).count() >= 6 && links.iter().filter(|l| l.contains("ref")).count() >= 10, "{links:?}");
    for link in &links {
        assert!(bookmarks.contains(link), "{link} links to no bookmark: {bookmarks:?}");
    }
    let figure_4 = xml.find("w:name=\"_mb_figure_4\"").expect("Figure 4's bookmark");
    assert!(text_of(&xml[figure_4..]).trim_start_matches(|c| c != 'F').starts_with("Figure 4. Spasticity"), "on the caption");

    // The plain-language summary as its own Word file.
    let summary = std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().path()).find(|p| p.to_string_lossy().ends_with("-plain-language-summary.docx")).expect("the summary's .docx");
    let summary_text = text_of(&document_xml(&summary));
    assert!(summary_text.lines().any(|l| l == "Key messages") && summary_text.contains("The baclofen pump probably reduces muscle stiffness."), "{summary_text}");
    assert!(summary_text.contains("A plain-language summary of “Intrathecal baclofen"), "{summary_text}");

    // The site links the files, and a second build gives the same bytes.
    assert!(html.contains(">The review (Word)</a>") && html.contains(">Plain-language summary (Word)</a>"));
    let first = std::fs::read(&docx).unwrap();
    std::fs::remove_dir_all(dir.join("book")).unwrap();
    build(&dir);
    assert!(std::fs::read(the_docx(&dir)).unwrap() == first, "two builds, the same bytes");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Study labels with markup, XML's own delimiters and control characters stay text, and the
/// file stays well-formed XML (no control character in it).
#[test]
fn hostile_text_stays_text_in_the_word_file() {
    let dir = example("hostile");
    let data = dir.join("data/spasticity.csv");
    let text = std::fs::read_to_string(&data).unwrap().replacen("Stokic 2005", "Stokic <b>&amp; ]]> \u{1}\u{1b}2005", 1);
    std::fs::write(&data, text).unwrap();
    build(&dir);
    let xml = document_xml(&the_docx(&dir));
    assert!(!xml.contains("<b>") && !xml.chars().any(|c| c < ' ' && c != '\n' && c != '\t' && c != '\r'), "no markup, no control characters");
    assert!(text_of(&xml).contains("Stokic <b>&amp; ]]> 2005"), "the label as typed, less its control characters");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The file as a user opens it: python-docx reads its headings (Word's style names), its
/// tables (the same header cells as the site's) and its pictures; LibreOffice converts it to
/// a PDF whose text has the captions and the results. (CI installs python3-docx and
/// libreoffice-writer-nogui.)
#[test]
fn python_docx_and_libreoffice_read_the_word_file() {
    let dir = example("readers");
    build(&dir);
    let docx = the_docx(&dir);
    let python = if Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers/docx_outline.py");
    let out = Command::new(python).arg(&script).arg(&docx).output().expect("python3 with python-docx (apt-get install python3-docx)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let outline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let headings: Vec<(String, String)> = outline["headings"].as_array().unwrap().iter().map(|h| (h[0].as_str().unwrap().to_string(), h[1].as_str().unwrap().to_string())).collect();
    assert!(headings.contains(&("Heading 1".to_string(), "Results".to_string())) && headings.contains(&("Heading 2".to_string(), "Summary of findings".to_string())), "{headings:?}");
    assert_eq!(outline["pictures"], 6);
    // Each table's header row is the site's: its cells are the <th> cells of the site's pages.
    let site: String = std::fs::read_dir(dir.join("book/html")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "html")).map(|p| std::fs::read_to_string(p).unwrap()).collect();
    let site_headings: Vec<String> = site
        .split("<th")
        .skip(1)
        .filter(|t| t.starts_with('>') || t.starts_with(' '))
        .filter_map(|t| t.split_once('>').map(|(_, rest)| text_of(rest.split("</th>").next().unwrap())))
        .collect();
    let tables = outline["tables"].as_array().unwrap();
    assert_eq!(tables.len(), site.matches("<table").count());
    for t in tables {
        for cell in t[0].as_array().unwrap() {
            assert!(site_headings.iter().any(|h| h == cell.as_str().unwrap()), "{cell} is not a heading cell of the site ({site_headings:?})");
        }
    }
    assert!(tables.iter().any(|t| t.as_array().unwrap().iter().any(|row| row[0] == "Stokic 2005")), "{tables:?}");

    // LibreOffice opens it and sets it: the captions and the results are on its pages.
    let converted = dir.join("converted");
    let status = Command::new("soffice")
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&converted)
        .arg(&docx)
        .env("HOME", &dir)
        .output()
        .expect("LibreOffice (apt-get install libreoffice-writer-nogui)");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let pdf = std::fs::read_dir(&converted).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "pdf")).expect("a PDF");
    let text = String::from_utf8(Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap().stdout).unwrap();
    for shown in ["Table 1. Characteristics of the included studies", "Figure 4. Spasticity", "SMD 1.52 (95% CI 1.09 to 1.96)"] {
        assert!(text.contains(shown), "{shown}:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A book's `templates/reference.docx` gives the Word file its styles (as pandoc's does):
/// where it defines a style, that one is used; metabook's fill in the rest. A file that is not
/// a Word document is an error naming it, and the previous output stays.
#[test]
fn a_reference_document_gives_its_styles() {
    let dir = example("reference");
    let mut reference = std::io::Cursor::new(Vec::new());
    docx_rs::Docx::new()
        .add_style(docx_rs::Style::new("Heading1", docx_rs::StyleType::Paragraph).name("heading 1").color("C00000").size(36).outline_lvl(0))
        .build()
        .pack(&mut reference)
        .unwrap();
    let reference = reference.into_inner();
    std::fs::write(dir.join("templates/reference.docx"), &reference).unwrap();
    build(&dir);
    let docx = the_docx(&dir);
    let styles = String::from_utf8(entries(&docx).into_iter().find(|(n, _)| n == "word/styles.xml").unwrap().1).unwrap();
    let heading = styles.split("<w:style ").find(|s| s.contains("w:styleId=\"Heading1\"")).unwrap();
    assert!(heading.contains("<w:color w:val=\"C00000\" />") && heading.contains("<w:sz w:val=\"36\" />"), "the reference's heading: {heading}");
    assert_eq!(styles.matches("w:styleId=\"Heading1\"").count(), 1, "once");
    assert!(styles.contains("w:styleId=\"Caption\"") && styles.contains("w:styleId=\"Heading2\""), "metabook's own for the rest");

    // Not a Word document: an error naming it, nothing written.
    let before = std::fs::read(&docx).unwrap();
    std::fs::write(dir.join("templates/reference.docx"), "not a Word document").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(&dir).env("NO_COLOR", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("templates/reference.docx is not a Word document metabook can read"), "{stderr}");
    assert!(std::fs::read(&docx).unwrap() == before, "the previous Word file is left as it was");

    // A Word document with a byte changed in a part (its checksum no longer right): the same
    // error, and no crash in docx-rs's reader, which unwraps the zip reader's error.
    let mut damaged = reference.clone();
    let at = damaged.windows(6).position(|w| w == b"C00000").expect("the style's colour in the file");
    damaged[at] = b'D';
    std::fs::write(dir.join("templates/reference.docx"), &damaged).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args(["build", "--book"]).arg(&dir).env("NO_COLOR", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("templates/reference.docx is not a Word document metabook can read: word/styles.xml") && !stderr.contains("panicked"), "{stderr}");
    assert!(std::fs::read(&docx).unwrap() == before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The manuscript options journals ask for: double spacing and line numbers; and the page's
/// section properties in the order Word's schema has them (the footer's reference first).
#[test]
fn double_spacing_and_line_numbers() {
    let dir = example("options");
    build(&dir);
    let xml = document_xml(&the_docx(&dir));
    assert!(xml.contains("<w:sectPr><w:footerReference"), "references first");
    assert!(!xml.contains("lnNumType"));
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap().replace("[output.docx]\n", "[output.docx]\ndouble-spacing = true\nline-numbers = true\n");
    std::fs::write(dir.join("book.toml"), config).unwrap();
    build(&dir);
    let docx = the_docx(&dir);
    let xml = document_xml(&docx);
    let section = &xml[xml.rfind("<w:sectPr>").unwrap()..];
    assert!(section.contains("<w:lnNumType w:countBy=\"1\" w:restart=\"continuous\" /><w:cols"), "{section}");
    let footer = String::from_utf8(entries(&docx).into_iter().find(|(n, _)| n == "word/footer1.xml").unwrap().1).unwrap();
    assert!(footer.contains("<w:suppressLineNumbers /><w:jc w:val=\"center\" />"), "the page number is not a numbered line: {footer}");
    let styles = String::from_utf8(entries(&docx).into_iter().find(|(n, _)| n == "word/styles.xml").unwrap().1).unwrap();
    let defaults = &styles[styles.find("<w:docDefaults>").unwrap()..styles.find("</w:docDefaults>").unwrap()];
    assert!(defaults.contains("w:line=\"480\""), "{defaults}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two Word files of the same book made in one process (as `serve` makes them, build after
/// build) are the same bytes: links, footnotes and pictures are numbered per file, not by
/// counters of the process.
#[test]
fn the_same_file_twice_in_one_process() {
    let dir = example("process");
    let chapter = dir.join("report/introduction.md");
    let text = std::fs::read_to_string(&chapter).unwrap() + "\nSee [the guideline](https://example.org/guideline) and a note.[^n]\n\n[^n]: A footnote with [a link](https://example.org/note).\n";
    std::fs::write(&chapter, text).unwrap();
    let make = || {
        let p = metabook::cmd::build::prepare(&dir).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
        let figure = |svg: &str| metabook::render::typst::figure_png(svg, 300.0, &p.fonts);
        metabook::render::docx::document(&p.book, &p.chapters, &figure, None).unwrap()
    };
    let first = make();
    assert!(make() == first);
    let xml = {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&first)).unwrap();
        let mut xml = String::new();
        archive.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
        xml
    };
    assert!(xml.contains("r:id=\"rIdHyperlink1\"") && xml.contains("<w:footnoteReference w:id=\"2\" />"), "numbered from the start in each file");
    // A footnote's link keeps its address as text: docx-rs gives the footnotes' part no
    // relationships, so a hyperlink there would point nowhere.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&first)).unwrap();
    let mut notes = String::new();
    archive.by_name("word/footnotes.xml").unwrap().read_to_string(&mut notes).unwrap();
    assert!(!notes.contains("<w:hyperlink") && text_of(&notes).contains("A footnote with a link (https://example.org/note)."), "{notes}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Formulas are Word equations (Office Math), in the text and in a footnote, and a display
/// formula is a paragraph of its own; one metabook cannot read is shown as typed, as in the PDF
/// and the site. Markup in a formula stays text; no text can pass for a formula's place. Each
/// footnote starts with its number, in a superscript style the file defines. (And a list
/// item's second paragraph keeps its indent.)
#[test]
fn formulas_are_word_equations() {
    let dir = example("math");
    let methods = dir.join("report/methods.md");
    let text = std::fs::read_to_string(&methods).unwrap()
        + "\nHeterogeneity: $I^2 = \\frac{Q - df}{Q}$ and $\\text{<b>\\&}$, and\n\
           $$\\hat{\\theta} = \\frac{\\sum_{i=1}^{k} w_i y_i}{\\sum_{i=1}^{k} w_i}$$\n\
           with $\\hat\\theta \\pm 1.96 \\sqrt{1 / \\sum w_i}$, not $\\foo{x}$; forged \u{FDD0}0\u{FDD1}.[^m]\n\n\
           [^m]: A note with $\\chi^2_{k-1}$ in it.\n\n\
           - An item.\n\n  Its second paragraph.\n\n- Another item.\n";
    std::fs::write(&methods, text).unwrap();
    build(&dir);
    let docx = the_docx(&dir);
    let xml = document_xml(&docx);
    roxmltree::Document::parse(&xml).expect("document.xml is XML");
    assert_eq!(xml.matches("<m:oMath>").count(), 4, "three in the text and one display");
    assert_eq!(xml.matches("<m:oMathPara>").count(), 1);
    assert!(xml.contains("<m:f><m:num><m:r><m:t>Q</m:t></m:r>"), "a fraction");
    assert!(xml.contains("<m:t>&lt;b&gt;&amp;</m:t>"), "markup in a formula is text");
    assert!(text_of(&xml).contains("not \\foo{x}; forged 0."), "as typed, and the forged marker is plain text");
    assert!(!xml.contains('\u{FDD4}'));
    // A list item's second paragraph stays under its text, unnumbered.
    let second = xml.find("Its second paragraph").unwrap();
    let paragraph = &xml[xml[..second].rfind("<w:p ").unwrap()..second];
    assert!(paragraph.contains("<w:ind w:left=\"360\"") && !paragraph.contains("<w:numPr>"), "{paragraph}");
    let notes = String::from_utf8(entries(&docx).into_iter().find(|(n, _)| n == "word/footnotes.xml").unwrap().1).unwrap();
    roxmltree::Document::parse(&notes).expect("footnotes.xml is XML");
    assert!(notes.contains("<m:oMath><m:sSubSup>"), "{notes}");
    assert_eq!(notes.matches("<w:footnoteRef />").count(), notes.matches("<w:footnote w:id=").count(), "{notes}");
    let styles = String::from_utf8(entries(&docx).into_iter().find(|(n, _)| n == "word/styles.xml").unwrap().1).unwrap();
    let reference = &styles[styles.find("w:styleId=\"FootnoteReference\"").expect("the footnote reference's style")..];
    assert!(reference[..reference.find("</w:style>").unwrap()].contains("<w:vertAlign w:val=\"superscript\" />"), "{reference}");

    // LibreOffice reads the equations as equations: their symbols are on its pages.
    let converted = dir.join("converted");
    let status = Command::new("soffice").args(["--headless", "--convert-to", "pdf", "--outdir"]).arg(&converted).arg(&docx).env("HOME", &dir).output().expect("LibreOffice");
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let pdf = std::fs::read_dir(&converted).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "pdf")).expect("a PDF");
    let text = String::from_utf8(Command::new("pdftotext").arg(&pdf).arg("-").output().unwrap().stdout).unwrap();
    for shown in ["∑", "√", "θ", "A note with χ"] {
        assert!(text.contains(shown), "{shown}:\n{text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
