//! The PRISMA 2020 flow diagram: the SVG of a complete and of a partly "not reported" data file
//! (snapshots; both were looked at in the example book's PDF and HTML page when they changed),
//! and the diagnostics of bad data files — counts that do not add up, an unknown box, negative
//! and fractional counts — rendered as the user sees them.

use metabook::data::{csv_table, prisma};
use metabook::diag::{render, Diagnostic, Source};
use std::path::Path;

fn read(file: &str) -> Result<prisma::Flow, Vec<Diagnostic>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prisma").join(file);
    let text = std::fs::read_to_string(&path).expect("a fixture");
    prisma::flow(&csv_table(&Source::new(format!("data/{file}"), text))?)
}

fn diagram(file: &str) -> String {
    match read(file) {
        Ok(flow) => metabook::render::prisma::svg(&flow),
        Err(d) => panic!("{}", render(&d, false)),
    }
}

fn problems(file: &str) -> String {
    match read(file) {
        Ok(_) => panic!("{file} should not pass"),
        Err(d) => render(&d, false),
    }
}

#[test]
fn complete_flow_diagram() {
    let s = diagram("complete.csv");
    assert!(s.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(s.contains("<title id=\"prisma-title\">PRISMA 2020 flow diagram</title>"));
    for text in ["Identification", "Screening", "Included", "Databases (n = 1,200)", "MEDLINE (n = 700)", "Studies included in review (n = 12)"] {
        assert!(s.contains(text), "{text}");
    }
    assert!(!s.contains("not reported"));
    // User text is escaped.
    assert!(s.contains("No comparison group &amp; &lt;other&gt;"));
    assert_eq!(s, diagram("complete.csv"));
    insta::assert_snapshot!(s);
}

#[test]
fn unreported_boxes_say_so_and_get_no_number() {
    let s = diagram("partial.csv");
    assert!(s.contains("Databases (n = 1,631)"));
    assert!(s.contains(r#"Records screened <tspan font-style="italic">(not reported)</tspan>"#), "{s}");
    // Boxes absent from the file are not reported either; nothing is derived from the others.
    assert!(s.contains(r#"Records excluded <tspan font-style="italic">(not reported)</tspan>"#));
    assert!(s.contains("Conference abstract <tspan"));
    assert!(s.contains("Records screened: not reported"), "the description says it too");
    insta::assert_snapshot!(s);
}

#[test]
fn counts_that_do_not_add_up_are_located_with_the_numbers() {
    let text = problems("mismatch.csv");
    assert!(text.contains("data/mismatch.csv:7:11"), "{text}");
    assert!(text.contains("records screened is 930, but records identified from databases (1,200) + records identified from registers (40)"), "{text}");
    assert!(text.contains("data/mismatch.csv:10:19"), "{text}");
    assert!(text.contains("the `reason` rows add up to 45"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn an_unknown_box_suggests_the_closest() {
    let text = problems("unknown_box.csv");
    assert!(text.contains("unknown PRISMA box `screend`"), "{text}");
    assert!(text.contains("did you mean `screened`?"), "{text}");
    assert!(text.contains("data/unknown_box.csv:4:1"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn negative_and_fractional_counts_are_refused() {
    let text = problems("negative.csv");
    assert!(text.contains("a count cannot be negative, not -5"), "{text}");
    assert!(text.contains("a count must be a whole number, not 12.5"), "{text}");
    insta::assert_snapshot!(text);
}
