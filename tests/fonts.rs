//! A book's own fonts (its fonts folder) for scripts metabook's embedded fonts do not cover:
//! Korean, the source review's language. Without them the build warns, naming the characters;
//! with them the PDF sets the text in them and stays deterministic; `[output.pdf] font` may
//! name one of their families; a file that is not a font, or a family that is nowhere, is a
//! located error. The Korean font is NanumMyeongjo from Debian's fonts-nanum (.ci/run installs
//! it).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const NANUM: &str = "/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf";

fn metabook(dir: &Path, command: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_metabook")).args([command, "--book"]).arg(dir).env("NO_COLOR", "1").output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

/// The minimal fixture with a Korean sentence (the source review's title) and language `ko`.
fn korean_book(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("metabook-fonts-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    common::copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/books/minimal"), &dir);
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap().replace("[book]\n", "[book]\nlanguage = \"ko\"\n");
    std::fs::write(dir.join("book.toml"), config).unwrap();
    let chapter = std::fs::read_to_string(dir.join("report/results.md")).unwrap().replacen("# Results\n", "# Results\n\n뇌졸중 후 경직에 대한 척수강내 바클로펜: **메타분석**.\n", 1);
    std::fs::write(dir.join("report/results.md"), chapter).unwrap();
    dir
}

fn pdf(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir.join("book")).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|x| x == "pdf")).unwrap()
}

fn poppler(tool: &str, pdf: &Path) -> String {
    let out = Command::new(tool).arg(pdf).args(if tool == "pdftotext" { vec!["-"] } else { vec![] }).output().unwrap_or_else(|_| panic!("{tool} (poppler-utils)"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_books_fonts_set_the_scripts_the_embedded_fonts_lack() {
    assert!(Path::new(NANUM).is_file(), "{NANUM} is missing: apt-get install fonts-nanum");
    let dir = korean_book("ko");
    // Without a Korean font: built, with a warning naming the characters and what to do.
    let (code, out) = metabook(&dir, "build");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("warning: the PDF has characters its fonts do not cover, which may show as empty boxes: 뇌 (U+B1CC) 졸 (U+C878)"), "{out}");
    assert!(out.contains("put fonts that have them (.ttf, .otf) in the book's fonts folder"), "{out}");

    // With one: no warning, the PDF is typeset again with it, and its text is the Korean text.
    std::fs::create_dir_all(dir.join("fonts/nanum")).unwrap();
    std::fs::copy(NANUM, dir.join("fonts/nanum/NanumMyeongjo.ttf")).unwrap();
    std::fs::write(dir.join("fonts/OFL.txt"), "the font's licence: not a font, left alone").unwrap();
    let (code, out) = metabook(&dir, "build");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("warning"), "{out}");
    assert!(out.contains("1 of 1 PDFs typeset"), "a new font is a new PDF: {out}");
    let first = std::fs::read(pdf(&dir)).unwrap();
    assert!(poppler("pdffonts", &pdf(&dir)).contains("NanumMyeongjo"), "embedded");
    assert!(poppler("pdftotext", &pdf(&dir)).contains("뇌졸중 후 경직에 대한 척수강내 바클로펜: 메타분석."), "{}", poppler("pdftotext", &pdf(&dir)));
    // Deterministic: a clean second build gives the same bytes.
    std::fs::remove_dir_all(dir.join("book")).unwrap();
    assert_eq!(metabook(&dir, "build").0, 0);
    assert!(std::fs::read(pdf(&dir)).unwrap() == first, "two builds, the same PDF");

    // The main font may be one of the book's families.
    let config = std::fs::read_to_string(dir.join("book.toml")).unwrap() + "\n[output.pdf]\nfont = \"NanumMyeongjo\"\n";
    std::fs::write(dir.join("book.toml"), &config).unwrap();
    let (code, out) = metabook(&dir, "build");
    assert_eq!(code, 0, "{out}");
    // The text changes font (the figures keep theirs, which their layout is measured in).
    assert!(std::fs::read(pdf(&dir)).unwrap() != first, "the main font is Nanum now");

    // A family that is nowhere: an error at the key, naming the families there are.
    std::fs::write(dir.join("book.toml"), config.replace("font = \"NanumMyeongjo\"", "font = \"Nanum Nonesuch\"")).unwrap();
    let (code, out) = metabook(&dir, "check");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no font family `Nanum Nonesuch`") && out.contains("book.toml:") && out.contains("NanumMyeongjo"), "{out}");

    // A file that is not a font: an error naming it, and the previous PDF left as it was.
    std::fs::write(dir.join("book.toml"), &config).unwrap();
    let before = std::fs::read(pdf(&dir)).unwrap();
    std::fs::write(dir.join("fonts/broken.ttf"), "not a font").unwrap();
    let (code, out) = metabook(&dir, "build");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("`fonts/broken.ttf` is not a font metabook can read"), "{out}");
    assert!(std::fs::read(pdf(&dir)).unwrap() == before);
    let _ = std::fs::remove_dir_all(&dir);
}
