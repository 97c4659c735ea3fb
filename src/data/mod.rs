//! Study data from CSV files: the load phase for everything tabular.
//!
//! [`csv_table`] reads a CSV file into cells that remember where they came from (byte spans in
//! the [`Source`]), so every later complaint — a non-numeric cell, an SD of zero, a duplicate
//! study — points at the file, line and column. [`studies`] turns those cells into typed study
//! rows for a measure, checking each value.

pub mod grade;
pub mod prisma;
pub mod revman;
pub mod rob;
pub mod studies;

pub use studies::{load_studies, Schema, Study, StudyTable};

use crate::diag::{Diagnostic, Source};
use std::ops::Range;
use std::sync::Arc;

/// One CSV field: its (trimmed) text and the byte span of that text in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub span: Range<usize>,
}

/// A parsed CSV file: a header row and data rows, every cell located.
#[derive(Debug, Clone)]
pub struct CsvTable {
    pub source: Arc<Source>,
    pub header: Vec<Cell>,
    pub rows: Vec<Vec<Cell>>,
}

impl CsvTable {
    /// Index of a column by case-insensitive name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|c| c.text.eq_ignore_ascii_case(name))
    }

    /// The span of the whole header line, for complaints about missing columns.
    pub fn header_span(&self) -> Range<usize> {
        match (self.header.first(), self.header.last()) {
            (Some(a), Some(b)) => a.span.start..b.span.end.max(a.span.start + 1),
            _ => 0..0,
        }
    }
}

/// Parse the CSV text of `source` (comma-separated, first row the header, optional quotes,
/// a UTF-8 byte-order mark and blank lines tolerated).
pub fn csv_table(source: &Arc<Source>) -> Result<CsvTable, Vec<Diagnostic>> {
    let text = source.text.as_str();
    let body_start = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    if text[body_start..].trim().is_empty() {
        return Err(vec![Diagnostic::error("the data file is empty")
            .at(source, 0..0, "no header, no studies")
            .hint("the first line names the columns, e.g. `study,n1,mean1,sd1,n2,mean2,sd2`; each further line is one study")]);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&text.as_bytes()[body_start..]);
    let mut records = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let start = body_start + record.position().map_or(0, |p| p.byte() as usize);
                let spans = field_spans(text, start);
                let cells: Vec<Cell> = record
                    .iter()
                    .enumerate()
                    .map(|(i, field)| {
                        let raw = spans.get(i).cloned().unwrap_or(start..start);
                        Cell { text: field.trim().to_string(), span: trim_span(text, raw) }
                    })
                    .collect();
                if cells.iter().all(|c| c.text.is_empty()) {
                    continue;
                }
                records.push(cells);
            }
            Err(e) => {
                let offset = match e.position() {
                    Some(p) => body_start + p.byte() as usize,
                    None => text.len(),
                };
                return Err(vec![Diagnostic::error(format!("the file is not valid CSV: {e}"))
                    .at(source, offset..offset, "here")
                    .hint("save the file as UTF-8 CSV with commas between fields")]);
            }
        }
    }
    let mut rows = records.into_iter();
    let header = rows.next().unwrap_or_default();
    let rows: Vec<Vec<Cell>> = rows.collect();
    let mut problems = Vec::new();
    // Columns are found by name (case-insensitively): a second column of the same name would
    // never be read, so it is an error at the second one, as a duplicate study label is.
    for (i, cell) in header.iter().enumerate() {
        if cell.text.is_empty() {
            continue;
        }
        if let Some(first) = header[..i].iter().position(|c| c.text.eq_ignore_ascii_case(&cell.text)) {
            problems.push(
                Diagnostic::error(format!("duplicate column name `{}`", cell.text))
                    .at(source, cell.span.clone(), format!("column {}", i + 1))
                    .hint(format!(
                        "column {} is already named `{}` (names are case-insensitive); rename or remove one of them",
                        first + 1,
                        header[first].text
                    )),
            );
        }
    }
    for row in &rows {
        if row.len() != header.len() {
            let span = row.first().map_or(0..0, |c| c.span.start..row.last().map_or(c.span.end, |l| l.span.end));
            problems.push(
                Diagnostic::error(format!("this row has {} fields but the header has {}", row.len(), header.len()))
                    .at(source, span, "row")
                    .hint("every row needs one value per column; quote a value that contains a comma"),
            );
        }
    }
    if problems.is_empty() {
        Ok(CsvTable { source: Arc::clone(source), header, rows })
    } else {
        Err(problems)
    }
}

/// Byte spans of the fields of the record starting at `start`: split on commas outside quotes,
/// up to the end of the record (a newline outside quotes).
fn field_spans(text: &str, start: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    // A record's position may point at the line terminator that precedes it (CRLF files).
    let mut start = start;
    while start < bytes.len() && (bytes[start] == b'\n' || bytes[start] == b'\r') {
        start += 1;
    }
    let mut spans = Vec::new();
    let mut field_start = start;
    let mut in_quotes = false;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_quotes = !in_quotes,
            b',' if !in_quotes => {
                spans.push(field_start..i);
                field_start = i + 1;
            }
            b'\n' | b'\r' if !in_quotes => break,
            _ => {}
        }
        i += 1;
    }
    spans.push(field_start..i);
    spans
}

/// Narrow a field's span to its text without surrounding blanks and quotes.
fn trim_span(text: &str, span: Range<usize>) -> Range<usize> {
    let field = &text[span.clone()];
    let lead = field.len() - field.trim_start().len();
    let trail = field.len() - field.trim_end().len();
    let (mut a, mut b) = (span.start + lead, span.end - trail);
    if b > a + 1 && text.as_bytes()[a] == b'"' && text.as_bytes()[b - 1] == b'"' {
        a += 1;
        b -= 1;
    }
    a..b.max(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_know_their_place() {
        let s = Source::new("x.csv", "study,n\r\n\"Smith, 2001\", 12\n\nJones,9\n");
        let t = csv_table(&s).unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][0].text, "Smith, 2001");
        assert_eq!(&s.text[t.rows[0][0].span.clone()], "Smith, 2001");
        assert_eq!(&s.text[t.rows[0][1].span.clone()], "12");
        assert_eq!(s.line_col(t.rows[1][1].span.start), (4, 7));
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        let s = Source::new("x.csv", "\u{feff}study,n\nA,3\n");
        let t = csv_table(&s).unwrap();
        assert_eq!(t.header[0].text, "study");
    }

    #[test]
    fn a_duplicate_column_name_is_an_error_at_the_second_header_cell() {
        let s = Source::new("x.csv", "study,yi,vi,YI\nA,0.1,0.01,0.5\n");
        let e = csv_table(&s).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("duplicate column name `YI`"), "{}", e[0].message);
        assert_eq!(e[0].position().unwrap(), "x.csv:1:13");
        assert!(e[0].hints[0].contains("column 2"), "{:?}", e[0].hints);
    }

    #[test]
    fn ragged_rows_and_empty_files_are_errors() {
        let s = Source::new("x.csv", "study,n\nA,3,4\n");
        assert!(csv_table(&s).is_err());
        let s = Source::new("x.csv", " \n");
        let e = csv_table(&s).unwrap_err();
        assert!(e[0].message.contains("empty"));
    }
}
