//! The PRISMA 2020 flow diagram: the SVG of a complete and of a partly "not reported" data file
//! (snapshots; both were looked at in the example book's PDF and HTML page when they changed),
//! and the diagnostics of bad data files — counts that do not add up, an unknown box, negative
//! and fractional counts — rendered as the user sees them. The column of other methods (websites,
//! citation searching…) is drawn only when the data give one of its boxes, and checked the same
//! way.

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

/// The text of the diagram as read: the lines of each box joined (the boxes wrap their text),
/// every element's text followed by a space; entities stay escaped.
fn shown(svg: &str) -> String {
    let mut out = String::new();
    let mut tag = String::new();
    let mut in_tag = false;
    for c in svg.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (true, '>') => {
                in_tag = false;
                if matches!(tag.as_str(), "/text" | "/desc" | "/title") {
                    out.push(' ');
                }
            }
            (true, c) => tag.push(c),
            (false, c) => out.push(c),
        }
    }
    out
}

#[test]
fn other_methods_get_their_own_column() {
    let s = diagram("other_methods.csv");
    let text = shown(&s);
    assert!(s.contains(">Identification of studies via other methods</text>"), "{s}");
    assert!(s.contains(">Identification of studies via databases and registers</text>"));
    for box_text in [
        "Records identified (n = 45): Websites (n = 12) Organisations (n = 3) Citation searching (n = 30) ",
        "Reports sought for retrieval (n = 20) Reports not retrieved (n = 2) ",
        "Reports assessed for eligibility (n = 18) Reports excluded (n = 10): ",
        "Studies included in review (n = 18) Reports of included studies (n = 23) ",
    ] {
        assert!(text.contains(box_text), "{box_text}\n{text}");
    }
    // Two of each box that both columns have.
    assert_eq!(text.matches("Reports sought for retrieval (n = ").count(), 2, "{text}");
    assert_eq!(text.matches("Reports assessed for eligibility (n = ").count(), 2, "{text}");
    assert_eq!(s.matches("<rect").count(), 2 + 3 + 9 + 5, "two heading bars, three bands, nine boxes of databases and registers, five of other methods");
    // Arrowheads: four across and four down the first column; two across and three down the
    // second, the last turning into the box of included studies.
    assert_eq!(s.matches("<path").count(), 4 + 4 + 2 + 3, "{s}");
    assert!(!s.contains("not reported"));
    // User text is escaped, in the boxes and in the description.
    assert!(text.contains("Letter &lt;not a trial&gt; &amp; commentary (n = 6)"), "{text}");
    assert!(s.contains("Letter &lt;not a trial&gt; &amp; commentary 6, Wrong population 4.</desc>"), "{s}");
    assert!(!s.contains("<not a trial>"));
    // The description tells the whole flow, the other methods too.
    assert!(s.contains("Records identified via other methods: 45. Reports sought for retrieval via other methods: 20. Reports not retrieved via other methods: 2. Reports assessed for eligibility via other methods: 18. Reports excluded via other methods: 10."), "{s}");
    assert!(s.contains("Via other methods, by source: Websites 12, Organisations 3, Citation searching 30."), "{s}");
    // Wider than the diagram of databases and registers only, and no wider than it needs.
    let width = |svg: &str| svg.split("viewBox=\"0 0 ").nth(1).and_then(|v| v.split(' ').next()).and_then(|w| w.parse::<f64>().ok()).unwrap();
    assert!(width(&s) > width(&diagram("complete.csv")));
    assert!(width(&s) < 750.0, "{}", width(&s));
    insta::assert_snapshot!(s);
}

#[test]
fn without_other_methods_the_diagram_has_no_such_column() {
    // (The snapshots of complete.csv and partial.csv, unchanged since before the column existed,
    // hold the diagram byte for byte.)
    for file in ["complete.csv", "partial.csv"] {
        let s = diagram(file);
        assert!(!s.contains("other methods"), "{file}: neither the heading nor the description speaks of them");
        assert_eq!(shown(&s).matches("Reports assessed for eligibility (").count(), 1, "{file}");
    }
    // The column comes with any one of its boxes; a count not reported is still a box given.
    let s = diagram("other_partial.csv");
    assert!(s.contains(">Identification of studies via other methods</text>"), "{s}");
    assert_eq!(shown(&s).matches("Reports assessed for eligibility (").count(), 2, "{s}");
}

#[test]
fn unreported_boxes_of_other_methods_say_so() {
    let s = diagram("other_partial.csv");
    let text = shown(&s);
    assert!(text.contains("Records identified (not reported): Citation searching (n = 14) "), "{text}");
    // Not computed from the other boxes: sought, not retrieved and excluded stay unreported.
    assert_eq!(text.matches("Reports sought for retrieval (not reported) Reports not retrieved (not reported) ").count(), 2, "{text}");
    assert_eq!(text.matches("Reports assessed for eligibility (not reported) Reports excluded (not reported) ").count(), 2, "{text}");
    assert!(s.contains("Records identified via other methods: not reported"), "{s}");
    assert!(s.contains("Reports assessed for eligibility via other methods: not reported"), "{s}");
}

#[test]
fn other_methods_counts_that_do_not_add_up_are_located_at_their_cells() {
    let text = problems("other_mismatch.csv");
    assert!(text.contains("records identified via other methods is 45, but the `other_source` rows add up to 42"), "{text}");
    assert!(text.contains("data/other_mismatch.csv:8:16"), "{text}");
    assert!(text.contains("reports assessed for eligibility via other methods is 17, but reports sought for retrieval via other methods (20) − reports not retrieved via other methods (2) is 18"), "{text}");
    assert!(text.contains("data/other_mismatch.csv:13:17"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn reports_of_included_studies_come_from_both_columns() {
    let text = problems("other_reports.csv");
    assert!(
        text.contains("reports of included studies is 24, but reports assessed for eligibility (75) − reports excluded (60) + reports assessed for eligibility via other methods (18) − reports excluded via other methods (10) is 23"),
        "{text}"
    );
    assert!(text.contains("data/other_reports.csv:9:10"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn an_unknown_other_methods_box_suggests_the_closest() {
    let d = prisma::flow(&csv_table(&Source::new("data/x.csv", "box,name,n\nother_sougt,,3\nother_reasons,Wrong population,2\n")).unwrap()).unwrap_err();
    let text = render(&d, false);
    assert!(text.contains("unknown PRISMA box `other_sougt`"), "{text}");
    assert!(text.contains("did you mean `other_sought`?"), "{text}");
    assert!(text.contains("data/x.csv:2:1"), "{text}");
    assert!(text.contains("did you mean `other_reason`?"), "{text}");
    assert!(text.contains("data/x.csv:3:1"), "{text}");
}
