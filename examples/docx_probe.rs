//! Write the Word file of a book (work in progress, issue 15): `cargo run --example docx_probe -- BOOK OUT.docx`.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let p = metabook::cmd::build::prepare(std::path::Path::new(&args[1])).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    let figure = |svg: &str| metabook::render::typst::figure_png(svg, 300.0, &p.fonts);
    let bytes = metabook::render::docx::document(&p.book, &p.chapters, &figure, None).unwrap_or_else(|d| panic!("{}", metabook::diag::render(&d, false)));
    std::fs::write(&args[2], bytes).unwrap();
}
