//! Write the Word file of a book (work in progress, issue 15): `cargo run --example docx_probe -- BOOK OUT.docx`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let p = metabook::cmd::build::prepare(std::path::Path::new(&args[1])).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    let bytes = metabook::render::docx::document(&p.book, &p.chapters).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    std::fs::write(&args[2], bytes).unwrap();
}
