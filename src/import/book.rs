//! A RevMan [`Review`] turned into the files of a metabook book, in memory.
//!
//! The book builds as it stands: `book.toml`, `report/SUMMARY.md` and a chapter per part of
//! the review's text, one chapter per comparison with an `analysis` and a `forest` directive
//! per outcome, and in `data/` one CSV file per outcome, every number RevMan stored
//! (`revman-results.csv`, for checking the book's results against RevMan's), the references
//! (`references.bib`), risk of bias (`rob.csv`, `rob-support.csv`) and the characteristics of
//! studies. Whatever the file holds that the book does not show is listed in the import
//! report, so nothing is dropped silently. The same review always gives the same bytes.

use super::rm5::{self, Block, Inline, Outcome, OutcomeKind, Review, Section, StudyStatus};
use super::sof;
use crate::render::prose::escape_markdown;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

/// The book's files (paths relative to its folder, `/`-separated) and the import report.
pub struct ImportedBook {
    pub files: Vec<(String, Vec<u8>)>,
    /// The import report, as Markdown (also among the files, as `import-report.md`).
    pub report: String,
}

/// What the book does not show, by topic, for the import report.
/// The import report's heading for text too long for metabook's build.
pub const TOO_LONG: &str = "Text too long to build";

#[derive(Default)]
struct Report {
    notes: BTreeMap<&'static str, Vec<String>>,
}

impl Report {
    fn note(&mut self, topic: &'static str, text: impl Into<String>) {
        self.notes.entry(topic).or_default().push(text.into());
    }
}

/// Turn `review` (read from the file `file_name`) into a book.
pub fn book(review: &Review, file_name: &str) -> ImportedBook {
    let (review, renamed) = &named_subgroups(review);
    let mut b = Builder::new(review);
    for n in renamed {
        b.report.note("Analyses", n.clone());
    }
    for s in &review.skipped {
        b.report.note("Not imported", s.clone());
    }
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut summary = String::from("# Summary\n\n");
    let mut chapters: Vec<(String, String, String)> = Vec::new(); // (file, title, text)

    // Analyses first, one chapter per comparison: the text links only to analyses that run.
    let mut comparisons: Vec<(String, String, String)> = Vec::new(); // (file stem, title, text)
    let mut results = csv_writer();
    results
        .write_record(["analysis", "row", "subgroup", "study", "estimable", "estimate", "ci_lower", "ci_upper", "weight", "chi2", "df", "p_chi2", "i2", "tau2", "z", "p_z"])
        .expect("writing to memory");
    for c in &review.comparisons {
        let mut md = format!("# Comparison {}. {}\n\n", esc(&c.no), b.text(&c.name));
        for o in &c.outcomes {
            let name = b.analysis_names[&(c as *const _ as usize, o as *const _ as usize)].clone();
            b.outcome(c, o, &name, &mut md, &mut files, &mut results);
        }
        comparisons.push((format!("comparison-{}", c.no), format!("Comparison {}", c.no), md));
    }
    // The text, one chapter per part (the body's parts each on their own).
    let mut parts: Vec<&Section> = Vec::new();
    for s in &review.text {
        if s.tag == "BODY" {
            parts.extend(s.children.iter());
        } else {
            parts.push(s);
        }
    }
    for part in parts {
        if !part.has_text() {
            continue;
        }
        let title = rm5::plain(&part.title);
        let mut md = String::new();
        b.section(part, 1, &mut md);
        chapters.push((b.file_name(&title), title, md));
    }
    if !review.history.is_empty() {
        let mut md = String::from("# What's new and history\n\n");
        for (event, date, text) in &review.history {
            let body = b.blocks_inline(text);
            let _ = writeln!(md, "- {} ({}): {}", esc(date), esc(event), body);
        }
        chapters.push((b.file_name("history"), "What's new and history".into(), md));
    }

    for (stem, title, md) in comparisons {
        chapters.push((b.file_name(&stem), title, md));
    }
    // RevMan's results, if any analysis runs to compare them with.
    let results = results.into_inner().expect("memory");
    let compared = results.iter().filter(|&&b| b == b'\n').count() > 1;
    if compared {
        files.push(("data/revman-results.csv".into(), results));
    }

    // Studies: characteristics, risk of bias, the lists of studies with their references.
    let studies_md = b.studies_chapter(&mut files);
    chapters.push((b.file_name("studies"), "Characteristics of studies".into(), studies_md));
    if !review.sof_tables.is_empty() {
        let md = b.summary_of_findings(&mut files);
        chapters.push((b.file_name("summary-of-findings"), "Summary of findings".into(), md));
    }
    if !review.additional_tables.is_empty() {
        let mut md = String::from("# Additional tables\n\n");
        for t in &review.additional_tables {
            b.titled_table(t, &mut md);
        }
        chapters.push((b.file_name("additional-tables"), "Additional tables".into(), md));
    }
    if !review.figures.is_empty() {
        let md = b.figures_chapter(&mut files);
        chapters.push((b.file_name("figures"), "Figures".into(), md));
    }
    chapters.push((b.file_name("references"), "References".into(), b.references_chapter()));
    if compared {
        // The book checks itself against every number RevMan stored, at each build.
        let md = "# Appendix: RevMan versus metabook

Every number RevMan 5 stored in the imported file for each analysis (each study's effect, confidence interval and weight; subtotals and totals with their heterogeneity, tau², z and P; the tests for subgroup differences) is compared with metabook's result for the same data. A difference is a warning of the build.

```metabook revman
data = \"revman-results.csv\"
label = \"tbl-revman\"
caption = \"RevMan versus metabook: the numbers RevMan 5 stored, recomputed.\"
```
";
        chapters.push((b.file_name("revman-versus-metabook"), "Appendix: RevMan versus metabook".into(), md.to_string()));
    }

    // What metabook's build refuses for its size, said now (no RevMan review comes near it).
    let limit = crate::render::template::MAX_TEXT;
    for (file, _, md) in chapters.iter().filter(|(_, _, md)| md.len() > limit) {
        b.report.note(TOO_LONG, format!("`report/{file}` is {:.1} MB; a chapter may be at most {}, so the build stops at it until its text is shortened", md.len() as f64 / 1048576.0, crate::render::template::megabytes(limit)));
    }
    let total: usize = chapters.iter().map(|(_, _, md)| md.len()).sum();
    if total > crate::render::template::MAX_BOOK {
        b.report.note(TOO_LONG, format!("the chapters are {:.1} MB together; a book's chapters may be at most {} together, so the build stops until the text is shortened", total as f64 / 1048576.0, crate::render::template::megabytes(crate::render::template::MAX_BOOK)));
    }
    for (file, title, md) in &chapters {
        let _ = writeln!(summary, "- [{}]({file})", esc(title));
        files.push((format!("report/{file}"), md.clone().into_bytes()));
    }
    files.push(("report/SUMMARY.md".into(), summary.into_bytes()));
    files.push(("data/references.bib".into(), b.bibtex().into_bytes()));
    files.push(("book.toml".into(), book_toml(review, file_name).into_bytes()));

    let report = b.report_text(review, file_name, &files);
    files.push(("import-report.md".into(), report.clone().into_bytes()));
    files.sort_by(|a, b| a.0.cmp(&b.0));
    ImportedBook { files, report }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new())
}

/// A TOML basic string. Chapters are minijinja templates, so `{` is written as `\u007B`: the
/// TOML value is the same, and no `{{`, `{%` or `{#` can reach the template engine.
fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' => out.push_str("\\u007B"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text as Markdown that reads as exactly that text, also through the chapter's template
/// engine: [`escape_markdown`], and the `%` of a `{%` escaped as well.
fn esc(s: &str) -> String {
    let escaped = escape_markdown(s).replace("\\{%", "\\{\\%");
    // An `@` inside a word (`mail@fig-x.org`) is never a citation or cross-reference, and the
    // prose reads a `\@` there as one: leave it bare.
    let mut out = String::with_capacity(escaped.len());
    let mut prev: Option<char> = None;
    let mut chars = escaped.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&'@') && prev.is_some_and(char::is_alphanumeric) {
            continue;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

fn book_toml(review: &Review, file_name: &str) -> String {
    let title = if review.title.trim().is_empty() { "Imported RevMan review".to_string() } else { review.title.clone() };
    let authors = review.authors.iter().map(|a| toml_str(a)).collect::<Vec<_>>().join(", ");
    let version = if review.revman_version.is_empty() { String::new() } else { format!(" {}", review.revman_version) };
    format!(
        "# Imported from {file} (RevMan{version}) by `metabook import`; see import-report.md for what\n\
         # the file holds that the book does not show.\n\n\
         [book]\ntitle = {title}\nauthors = [{authors}]\nlanguage = \"en\"\ndescription = {desc}\n\n\
         [build]\nsrc = \"report\"\ndata = \"data\"\nbuild-dir = \"book\"\ntemplates = \"templates\"\n\n\
         [output.html]\n\n[output.pdf]\n\n[output.docx]\n\n\
         [analysis]\n# Every analysis follows RevMan 5's formulas (Deeks & Higgins 2010) and names its own method.\nconvention = \"revman5\"\n\n\
         [bibliography]\nfile = \"references.bib\"\n",
        file = file_name.replace('\n', " "),
        title = toml_str(&title),
        desc = toml_str(&format!("Imported from the RevMan 5 file {file_name}.")),
    )
}

struct Builder<'r> {
    review: &'r Review,
    /// Study id → the bibliography keys of its references (primary first).
    study_keys: HashMap<&'r str, Vec<String>>,
    /// Additional reference id → key.
    ref_keys: HashMap<&'r str, String>,
    /// Every entry: (key, reference, study name for an empty reference).
    entries: Vec<(String, &'r rm5::Reference, Option<&'r rm5::Study>)>,
    study_names: HashMap<&'r str, &'r str>,
    /// Outcome id (`CMP-001.02`) → the forest plot's label.
    figures: HashMap<String, String>,
    /// (comparison, outcome), by address → the analysis' name (`a1_2`), unique in the book.
    analysis_names: HashMap<(usize, usize), String>,
    used_files: HashSet<String>,
    /// Analyses whose data metabook refuses: written turned off, not in the summary of findings.
    not_computed: HashSet<String>,
    report: Report,
    unknown_markup: BTreeMap<String, usize>,
}

/// The review with every outcome's subgroups named, each name unique within its outcome
/// (RevMan's results and the data file tell subgroups apart by name), and what was renamed.
fn named_subgroups(review: &Review) -> (Review, Vec<String>) {
    let mut review = review.clone();
    let mut notes = Vec::new();
    for c in &mut review.comparisons {
        for o in &mut c.outcomes {
            let mut used = HashSet::new();
            for (i, s) in o.subgroups.iter_mut().enumerate() {
                let base = collapse_ws(&s.name);
                let base = if base.is_empty() { format!("Subgroup {}", if s.no.trim().is_empty() { (i + 1).to_string() } else { collapse_ws(&s.no) }) } else { base };
                let mut name = base.clone();
                let mut n = 2;
                while !used.insert(name.clone()) {
                    name = format!("{base} ({n})");
                    n += 1;
                }
                if name != s.name {
                    notes.push(format!("Analysis {}.{}: the subgroup “{}” is named “{name}” (subgroup names must be present and unique within an analysis)", c.no, o.no, s.name));
                    s.name = name;
                }
            }
        }
    }
    (review, notes)
}

/// A stable bibliography key from an id: `STD-Brink-1951` → `brink1951`.
fn key_base(id: &str) -> String {
    let id = id.strip_prefix("STD-").or_else(|| id.strip_prefix("REF-")).unwrap_or(id);
    let k: String = id.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    if k.is_empty() {
        "ref".into()
    } else if k.starts_with(|c: char| c.is_ascii_digit()) {
        format!("r{k}")
    } else {
        k
    }
}

fn unique(base: String, used: &mut HashSet<String>) -> String {
    if used.insert(base.clone()) {
        return base;
    }
    // brink1951 → brink1951b, brink1951c, …; then numbers.
    for suffix in (b'b'..=b'z').map(|c| (c as char).to_string()).chain((2..).map(|n: u32| format!("-{n}"))) {
        let k = format!("{base}{suffix}");
        if used.insert(k.clone()) {
            return k;
        }
    }
    unreachable!("an endless supply of suffixes")
}

impl<'r> Builder<'r> {
    fn new(review: &'r Review) -> Builder<'r> {
        let mut used = HashSet::new();
        let mut study_keys: HashMap<&str, Vec<String>> = HashMap::new();
        let mut entries = Vec::new();
        for s in &review.studies {
            let mut refs: Vec<&rm5::Reference> = s.references.iter().collect();
            // The primary reference first (stable: the others keep their order).
            refs.sort_by_key(|r| !r.primary);
            let keys = study_keys.entry(s.id.as_str()).or_default();
            for r in refs {
                let key = unique(key_base(&s.id), &mut used);
                keys.push(key.clone());
                entries.push((key, r, Some(s)));
            }
        }
        let mut ref_keys = HashMap::new();
        for r in &review.references {
            let key = unique(key_base(if r.id.is_empty() { &r.name } else { &r.id }), &mut used);
            ref_keys.insert(r.id.as_str(), key.clone());
            entries.push((key, r, None));
        }
        // Every outcome with study data gets a forest plot: links to it from the text (which
        // comes before the analyses) become cross-references.
        // Analysis names from the comparison's and outcome's numbers, unique even where the
        // file numbers two outcomes alike (each names a data file and an analysis).
        let mut used_names = HashSet::new();
        let mut analysis_names = HashMap::new();
        for c in &review.comparisons {
            for o in &c.outcomes {
                let name = unique(format!("a{}_{}", ident(&c.no), ident(&o.no)), &mut used_names);
                analysis_names.insert((c as *const _ as usize, o as *const _ as usize), name);
            }
        }
        let mut figures = HashMap::new();
        for c in &review.comparisons {
            for o in c.outcomes.iter().filter(|o| o.kind != OutcomeKind::Other && o.all_rows().next().is_some()) {
                figures.entry(o.id.clone()).or_insert_with(|| format!("fig-{}", analysis_names[&(c as *const _ as usize, o as *const _ as usize)]));
            }
        }
        Builder {
            review,
            study_keys,
            ref_keys,
            entries,
            study_names: review.studies.iter().map(|s| (s.id.as_str(), s.name.as_str())).collect(),
            figures,
            analysis_names,
            // Pages metabook makes itself (the site's index; the plain-language summary of a
            // book with [pls], which the author may add later) are not chapter names.
            used_files: ["index.md", "plain-language-summary.md"].into_iter().map(String::from).collect(),
            not_computed: HashSet::new(),
            report: Report::default(),
            unknown_markup: BTreeMap::new(),
        }
    }

    /// A unique chapter file name from a title.
    fn file_name(&mut self, title: &str) -> String {
        let slug: String = title
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let slug = if slug.is_empty() { "chapter".to_string() } else { slug };
        let mut name = format!("{slug}.md");
        let mut n = 2;
        while !self.used_files.insert(name.clone()) {
            name = format!("{slug}-{n}.md");
            n += 1;
        }
        name
    }

    fn study_label(&mut self, id: &str) -> String {
        match self.study_names.get(id) {
            Some(n) if !n.trim().is_empty() => n.to_string(),
            _ => {
                let label = id.strip_prefix("STD-").unwrap_or(id).replace('-', " ");
                // A row needs a label: a study without an id or a name is "Unnamed study".
                let label = if label.trim().is_empty() { "Unnamed study".to_string() } else { label };
                self.report.note("Studies", format!("the data refer to the study `{id}`, which the file's list of studies does not have; it is labelled `{label}`"));
                label
            }
        }
    }

    /// Plain text as Markdown that reads as that text.
    fn text(&self, s: &str) -> String {
        esc(&collapse_ws(s))
    }

    // ---------------------------------------------------------------- text

    fn section(&mut self, s: &Section, depth: usize, md: &mut String) {
        let title = self.inlines(&s.title, false);
        let inline_body = s.tag.ends_with("_BODY") && depth > 1;
        if !title.trim().is_empty() && !inline_body {
            let _ = write!(md, "{} {}\n\n", "#".repeat(depth.min(6)), title.trim());
        }
        for block in &s.blocks {
            self.block(block, md, "");
        }
        for c in &s.children {
            if c.has_text() || (c.tag == "TITLE" && c.title.iter().any(Inline::has_text)) {
                self.section(c, if inline_body { depth } else { depth + 1 }, md);
            }
        }
    }

    /// A block as Markdown, every line after the first prefixed with `indent` (list items).
    fn block(&mut self, block: &Block, md: &mut String, indent: &str) {
        match block {
            Block::Paragraph(inl) => {
                let text = self.inlines(inl, false);
                let text = text.trim();
                if !text.is_empty() {
                    md.push_str(&text.replace('\n', &format!("\n{indent}")));
                    md.push_str("\n\n");
                    if !indent.is_empty() {
                        md.push_str(indent);
                    }
                }
            }
            Block::List { ordered, items } => {
                for (n, item) in items.iter().enumerate() {
                    let marker = if *ordered { format!("{}. ", n + 1) } else { "- ".to_string() };
                    let inner = format!("{indent}{}", " ".repeat(marker.len()));
                    let mut body = String::new();
                    for b in item {
                        self.block(b, &mut body, &inner);
                    }
                    let body = body.trim_end();
                    let _ = writeln!(md, "{marker}{}", if body.is_empty() { "" } else { body });
                    md.push_str(indent);
                }
                md.push('\n');
                md.push_str(indent);
            }
            Block::Table(t) => {
                self.table(t, md);
                md.push_str(indent);
            }
        }
    }

    /// A table as a Markdown pipe table: the first row is the heading; merged cells repeat as
    /// empty cells (rows across the whole table at its ends become paragraphs); a cell's paragraphs are joined on one line.
    fn table(&mut self, t: &rm5::Table, md: &mut String) {
        // Rows of one cell across the whole table at its top and bottom (a title, the
        // population, footnotes: RevMan's summary-of-findings tables have them) are paragraphs
        // around the table, since a Markdown table has no merged cells.
        let full = t.grid(|_| (), || ()).iter().map(Vec::len).max().unwrap_or(0);
        let across = |row: &Vec<rm5::TableCell>| full > 1 && row.len() == 1 && row[0].colspan >= full && row[0].rowspan == 1;
        let lead = t.rows.iter().take_while(|r| across(r)).count();
        let trail = t.rows[lead..].iter().rev().take_while(|r| across(r)).count();
        let paragraphs = |b: &mut Self, rows: &[Vec<rm5::TableCell>], md: &mut String| {
            for block in rows.iter().flat_map(|r| &r[0].blocks) {
                b.block(block, md, "");
            }
        };
        paragraphs(self, &t.rows[..lead], md);
        let body = rm5::Table { rows: t.rows[lead..t.rows.len() - trail].to_vec() };
        let grid = body.grid(|cell| self.blocks_inline(&cell.blocks), String::new);
        let width = grid.iter().map(Vec::len).max().unwrap_or(0).max(1);
        if grid.is_empty() {
            paragraphs(self, &t.rows[t.rows.len() - trail..], md);
            return;
        }
        for (i, row) in grid.iter().enumerate() {
            let cells: Vec<String> = (0..width).map(|c| row.get(c).cloned().unwrap_or_default()).collect();
            let _ = writeln!(md, "| {} |", cells.join(" | "));
            if i == 0 {
                let _ = writeln!(md, "|{}", "---|".repeat(width));
            }
        }
        md.push('\n');
        paragraphs(self, &t.rows[t.rows.len() - trail..], md);
    }

    fn titled_table(&mut self, t: &rm5::TitledTable, md: &mut String) {
        let title = self.inlines(&t.title, false);
        if !title.trim().is_empty() {
            let _ = write!(md, "## {}\n\n", title.trim());
        }
        self.table(&t.table, md);
        for b in &t.footnotes {
            self.block(b, md, "");
        }
    }

    /// Blocks on one line (a table cell, a list entry): paragraphs joined by a space.
    fn blocks_inline(&mut self, blocks: &[Block]) -> String {
        let mut parts = Vec::new();
        for b in blocks {
            match b {
                Block::Paragraph(i) => parts.push(self.inlines(i, true)),
                Block::List { items, .. } => {
                    for item in items {
                        parts.push(self.blocks_inline(item));
                    }
                }
                Block::Table(t) => parts.push(t.rows.iter().flatten().map(|c| self.text(&rm5::plain_blocks(&c.blocks))).collect::<Vec<_>>().join("; ")),
            }
        }
        parts.into_iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
    }

    /// Inline markup as Markdown. `one_line`: breaks become spaces (table cells, list entries).
    fn inlines(&mut self, inlines: &[Inline], one_line: bool) -> String {
        let mut out = String::new();
        for i in inlines {
            match i {
                Inline::Text(t) => out.push_str(&esc(&collapse_ws_keep_edges(t))),
                Inline::Break => out.push_str(if one_line { " " } else { "\\\n" }),
                Inline::Bold(c) => out.push_str(&emphasis("**", &self.inlines(c, one_line))),
                Inline::Italic(c) => out.push_str(&emphasis("*", &self.inlines(c, one_line))),
                Inline::Underline(c) => out.push_str(&self.inlines(c, one_line)),
                Inline::Sup(c) => out.push_str(&script(&rm5::plain(c), true).unwrap_or_else(|| esc(&format!("^{}", rm5::plain(c))))),
                Inline::Sub(c) => out.push_str(&script(&rm5::plain(c), false).unwrap_or_else(|| esc(&format!("_{}", rm5::plain(c))))),
                Inline::Link { kind, target, content } => {
                    let text = self.inlines(content, one_line);
                    out.push_str(&self.link(kind, target, &text));
                }
                Inline::Url { href, content } => {
                    let text = self.inlines(content, one_line);
                    let safe = (href.starts_with("http://") || href.starts_with("https://") || href.starts_with("mailto:"))
                        && !href.chars().any(|c| c.is_whitespace() || "<>()[]\\`".contains(c));
                    if safe && !text.trim().is_empty() {
                        let _ = write!(out, "[{}]({href})", text.trim());
                    } else if safe {
                        let _ = write!(out, "<{href}>");
                    } else {
                        out.push_str(&text);
                    }
                }
                Inline::Other { tag, content } => {
                    *self.unknown_markup.entry(tag.clone()).or_default() += 1;
                    out.push_str(&self.inlines(content, one_line));
                }
            }
        }
        if one_line {
            return out;
        }
        // A line that would start a list, a heading or a rule stays text.
        out.split('\n').map(|l| guard_line_start(l.trim_start())).collect::<Vec<_>>().join("\n")
    }

    /// A RevMan link: a study or reference → its citation after the text; an analysis → a
    /// cross-reference to its forest plot; anything else → its text.
    fn link(&mut self, kind: &str, target: &str, text: &str) -> String {
        match kind {
            "STUDY" => match self.study_keys.get(target).and_then(|k| k.first()) {
                Some(key) => format!("{text} [@{key}]"),
                None => {
                    self.report.note("Links", format!("a link to the study `{target}`, which the file does not list, is plain text"));
                    text.to_string()
                }
            },
            "REFERENCE" => match self.ref_keys.get(target) {
                Some(key) => format!("{text} [@{key}]"),
                None => {
                    self.report.note("Links", format!("a link to the reference `{target}`, which the file does not list, is plain text"));
                    text.to_string()
                }
            },
            "ANALYSIS" => match self.figures.get(target) {
                Some(label) => format!("@{label}"),
                None => text.to_string(),
            },
            other => {
                *self.unknown_markup.entry(format!("links to {} (kept as their text)", if other.is_empty() { "unnamed targets" } else { other })).or_default() += 1;
                text.to_string()
            }
        }
    }

    // ---------------------------------------------------------------- analyses

    fn outcome(
        &mut self,
        c: &rm5::Comparison,
        o: &Outcome,
        name: &str,
        md: &mut String,
        files: &mut Vec<(String, Vec<u8>)>,
        results: &mut csv::Writer<Vec<u8>>,
    ) {
        let name = name.to_string();
        let number = format!("{}.{}", c.no, o.no);
        let _ = write!(md, "## Analysis {}. {}\n\n", esc(&number), self.text(&o.name));
        for u in &o.unknown {
            self.report.note("Analyses", format!("Analysis {number}: the element `{u}` is not imported"));
        }
        let a = &o.attrs;
        let has_subgroups = !o.subgroups.is_empty();

        // Rows in RevMan's display order, labels unique within the file.
        let mut rows: Vec<(Option<&rm5::Subgroup>, &rm5::DataRow, String)> = Vec::new();
        // Labels must be unique within a subgroup (the same study may stand in several).
        let mut seen: HashMap<(String, String), usize> = HashMap::new();
        let sort_by = a.text("SORT_BY").to_uppercase();
        let mut groups: Vec<(Option<&rm5::Subgroup>, Vec<&rm5::DataRow>)> = o.subgroups.iter().map(|s| (Some(s), s.rows.iter().collect())).collect();
        if !o.rows.is_empty() {
            groups.push((None, o.rows.iter().collect()));
        }
        for (_, list) in groups.iter_mut() {
            self.sort_rows(list, &sort_by, &number);
        }
        for (sg, list) in &groups {
            for r in list {
                let base = self.study_label(&r.study_id);
                let n = seen.entry((sg.map(|s| s.id.clone()).unwrap_or_default(), base.clone())).or_insert(0);
                *n += 1;
                let label = if *n == 1 {
                    base.clone()
                } else {
                    let l = format!("{base} ({n})");
                    self.report.note("Analyses", format!("Analysis {number}: `{base}` appears {n} times; later rows are labelled `{l}` (study labels must be unique within a subgroup)"));
                    l
                };
                rows.push((*sg, *r, label));
            }
        }

        // Stored results, every level ("other data" has none: it is a table, not an analysis).
        if o.kind == OutcomeKind::Other {
            self.other_outcome(o, &name, &number, &rows, has_subgroups, md, files);
            return;
        }
        // RevMan's stored results, for revman-results.csv once the analysis is known to run.
        let mut stored_rows: Vec<Vec<String>> = Vec::new();
        for (sg, r, label) in &rows {
            let ra = &r.attrs;
            let sgname = sg.map(|s| s.name.clone()).unwrap_or_default();
            let mut v = vec![name.clone(), "study".into(), sgname, label.clone()];
            v.extend(["ESTIMABLE", "EFFECT_SIZE", "CI_START", "CI_END", "WEIGHT"].iter().map(|k| self.stored(ra, k, &number, label)));
            v.extend(std::iter::repeat_n(String::new(), 7));
            stored_rows.push(v);
        }
        let stored = |b: &mut Self, row: &str, sg: &str, at: &rm5::Attrs| -> Vec<String> {
            let mut v = vec![name.clone(), row.to_string(), sg.to_string(), String::new()];
            let place = if sg.is_empty() { row.to_string() } else { format!("{row} of “{sg}”") };
            v.extend(["ESTIMABLE", "EFFECT_SIZE", "CI_START", "CI_END", "WEIGHT", "CHI2", "DF", "P_CHI2", "I2", "TAU2", "Z", "P_Z"].iter().map(|k| b.stored(at, k, &number, &place)));
            v
        };
        for s in &o.subgroups {
            let record = stored(self, "subtotal", &s.name, &s.attrs);
            stored_rows.push(record);
        }
        let record = stored(self, "total", "", a);
        stored_rows.push(record);
        if has_subgroups {
            let df = a.get("DF_Q").map(str::to_string).unwrap_or_else(|| {
                let estimable = |s: &rm5::Subgroup| match s.attrs.get("ESTIMABLE") {
                    Some(e) => e.eq_ignore_ascii_case("YES"),
                    None => s.rows.iter().any(|r| r.attrs.yes("ESTIMABLE")),
                };
                let k = o.subgroups.iter().filter(|s| estimable(s)).count();
                k.saturating_sub(1).to_string()
            });
            let (q, p_q, i2_q) = (self.stored(a, "Q", &number, "test for subgroup differences"), self.stored(a, "P_Q", &number, "test for subgroup differences"), self.stored(a, "I2_Q", &number, "test for subgroup differences"));
            let df = if df.trim().parse::<f64>().is_ok_and(f64::is_finite) { df } else { String::new() };
            stored_rows.push([name.as_str(), "subgroup-test", "", "", "", "", "", "", "", &q, &df, &p_q, &i2_q, "", "", ""].map(String::from).to_vec());
        }

        if rows.is_empty() {
            md.push_str("The RevMan file has no study data for this outcome.\n\n");
            self.report.note("Analyses", format!("Analysis {number} ({}) has no study data: it has a heading but no analysis or forest plot", o.name));
            return;
        }

        // Where RevMan finds no study estimable, it shows "Not estimable"; say so.
        let not_estimable = |r: &rm5::DataRow| r.attrs.get("ESTIMABLE").is_some_and(|e| !e.eq_ignore_ascii_case("YES"));
        if rows.iter().all(|(_, r, _)| not_estimable(r)) {
            self.report.note("Analyses", format!("Analysis {number}: RevMan finds no study estimable and shows “Not estimable”"));
        } else {
            for s in &o.subgroups {
                if !s.rows.is_empty() && s.rows.iter().all(not_estimable) {
                    self.report.note("Analyses", format!("Analysis {number}, subgroup “{}”: RevMan finds no study estimable and shows “Not estimable”", s.name));
                }
            }
        }

        // The data file.
        let (measure, method, effect_name, log_scale) = self.measure(o, &number);
        let mut w = csv_writer();
        let mut header: Vec<&str> = vec!["study"];
        header.extend(match o.kind {
            OutcomeKind::Dichotomous => &["events1", "n1", "events2", "n2"][..],
            OutcomeKind::Continuous => &["n1", "mean1", "sd1", "n2", "mean2", "sd2"][..],
            OutcomeKind::GenericInverseVariance => &["yi", "se"][..],
            OutcomeKind::ObservedMinusExpected => &["yi", "se", "o_minus_e", "variance"][..],
            OutcomeKind::Other => &[][..],
        });
        if has_subgroups {
            header.push("subgroup");
        }
        header.extend(["year", "estimable"]);
        w.write_record(&header).expect("memory");
        for (sg, r, label) in &rows {
            let ra = &r.attrs;
            let t = |k: &str| ra.text(k).trim().to_string();
            let mut rec: Vec<String> = vec![label.clone()];
            match o.kind {
                OutcomeKind::Dichotomous => rec.extend([t("EVENTS_1"), t("TOTAL_1"), t("EVENTS_2"), t("TOTAL_2")]),
                OutcomeKind::Continuous => rec.extend([t("TOTAL_1"), t("MEAN_1"), t("SD_1"), t("TOTAL_2"), t("MEAN_2"), t("SD_2")]),
                OutcomeKind::GenericInverseVariance => {
                    let yi = self.generic_yi(ra, log_scale, &number, label);
                    rec.extend([yi, t("SE")]);
                }
                OutcomeKind::ObservedMinusExpected => {
                    let (oe, v) = (ra.num("O_E"), ra.num("VAR"));
                    let (yi, se) = match (oe, v) {
                        (Some(oe), Some(v)) if v > 0.0 => (fmt_num(oe / v), fmt_num(1.0 / v.sqrt())),
                        _ => (String::new(), String::new()),
                    };
                    rec.extend([yi, se, t("O_E"), t("VAR")]);
                }
                OutcomeKind::Other => {}
            }
            if has_subgroups {
                rec.push(sg.map(|s| s.name.clone()).unwrap_or_default());
            }
            let year = self.review.studies.iter().find(|s| s.id == r.study_id).map(|s| s.year.clone()).unwrap_or_default();
            rec.push(year);
            rec.push(t("ESTIMABLE"));
            w.write_record(&rec).expect("memory");
        }
        let bytes = w.into_inner().expect("memory");
        let data_file = format!("data/{name}.csv");
        files.push((data_file.clone(), bytes.clone()));

        let random = a.yes("RANDOM");
        let model = if random { "random" } else { "fixed" };
        // A confidence level is a percentage strictly between 0 and 100; RevMan's default is 95.
        let mut level_of = |key: &str, default: f64| match a.get(key) {
            None => default,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(x) if x > 0.0 && x < 100.0 => x,
                _ => {
                    self.report.note("Analyses", format!("Analysis {number}: {key} = `{v}` is not a confidence level (a percentage between 0 and 100); the analysis uses {}%", fmt_num(default)));
                    default
                }
            },
        };
        let level = level_of("CI_TOTAL", 95.0);
        let study_level = level_of("CI_STUDY", level);

        // Run the analysis as the book will. What metabook refuses (data beyond what it can
        // pool) must not stop the book's build: the data file stays as RevMan has it, the
        // directives are written as plain TOML to be turned on once the data are corrected,
        // and the chapter and the report say why.
        let refused = trial(&data_file, &bytes, measure, method, model, level, study_level, log_scale);
        let (analysis_block, forest_block) = if refused.is_empty() {
            for row in stored_rows {
                results.write_record(row).expect("memory");
            }
            ("metabook analysis", "metabook forest")
        } else {
            self.figures.remove(&o.id);
            self.not_computed.insert(name.clone());
            md.push_str("metabook does not compute this analysis: it refuses the data RevMan has for it.\n\n");
            for why in &refused {
                let _ = writeln!(md, "- {}", esc(why));
                self.report.note("Analyses not computed", format!("Analysis {number} (`{name}`): {why}"));
            }
            let _ = write!(md, "\nCorrect `{data_file}`, then change `toml` to `metabook analysis` and `metabook forest` in the two blocks below to compute it and draw its forest plot.\n\n");
            self.report.note("Analyses not computed", format!("Analysis {number} (`{name}`): its directives are written as plain TOML blocks and RevMan's stored results for it are not compared; correct `{data_file}` and turn them on"));
            ("toml", "toml")
        };
        let _ = write!(md, "```{analysis_block}\nname = \"{name}\"\ndata = \"{name}.csv\"\nmeasure = \"{measure}\"\nmethod = \"{method}\"\nmodel = \"{model}\"\nlevel = {}\nstudy-level = {}\n", fmt_num(level), fmt_num(study_level));
        if measure == "GEN" {
            if log_scale {
                md.push_str("log-scale = true\n");
            }
            if !effect_name.is_empty() {
                let _ = writeln!(md, "effect-name = {}", toml_str(&effect_name));
            }
        }
        md.push_str("```\n\n");

        let totals = match a.text("TOTALS").to_uppercase().as_str() {
            "SUB" => "subtotals",
            "NO" => "none",
            _ => "all",
        };
        let label = format!("fig-{name}");
        // The caption in RevMan's words: its own method, also where metabook pools otherwise.
        let method_words = match a.text("METHOD").to_uppercase().as_str() {
            "MH" => "M-H",
            "PETO" => "Peto",
            "" if method == "MH" => "M-H",
            "" if method == "PETO" => "Peto",
            _ => "IV",
        };
        let caption = format!(
            "Analysis {number}. Comparison {} {}, Outcome {} {}: {} ({method_words}, {}, {}% CI).",
            c.no,
            c.name,
            o.no,
            o.name,
            effect_name,
            if random { "Random" } else { "Fixed" },
            fmt_num(level)
        );
        let _ = write!(md, "```{forest_block}\nanalysis = \"{name}\"\n");
        let labels = |(l, r): &(String, String)| format!("[{}, {}]", toml_str(l), toml_str(r));
        if !o.graph_labels.0.is_empty() || !o.graph_labels.1.is_empty() {
            let _ = writeln!(md, "favours = {}", labels(&o.graph_labels));
        }
        if !o.group_labels.0.is_empty() || !o.group_labels.1.is_empty() {
            let _ = writeln!(md, "groups = {}", labels(&o.group_labels));
        }
        let _ = write!(md, "totals = \"{totals}\"\nlabel = \"{label}\"\ncaption = {}\n```\n\n", toml_str(&esc(&collapse_ws(&caption))));
    }

    /// A result RevMan stored, for `revman-results.csv`: a number as RevMan wrote it (NaN, its
    /// word for nothing, included), `estimable` as YES or NO; anything else is not a result and
    /// is left out (an empty cell), with a note in the report.
    fn stored(&mut self, at: &rm5::Attrs, key: &str, number: &str, place: &str) -> String {
        let v = at.text(key).trim();
        let fine = if key == "ESTIMABLE" {
            v.is_empty() || v.eq_ignore_ascii_case("YES") || v.eq_ignore_ascii_case("NO")
        } else {
            v.is_empty() || v.eq_ignore_ascii_case("nan") || v.parse::<f64>().is_ok_and(f64::is_finite)
        };
        if fine {
            return if key == "ESTIMABLE" { v.to_ascii_uppercase() } else { v.to_string() };
        }
        self.report.note("RevMan's results left out", format!("Analysis {number}, {place}: {key} = `{v}` is not a result RevMan writes; it is not compared"));
        String::new()
    }

    /// RevMan's effect measure and method as metabook's keys, and the measure's name.
    fn measure(&mut self, o: &Outcome, number: &str) -> (&'static str, &'static str, String, bool) {
        let a = &o.attrs;
        let em = a.text("EFFECT_MEASURE").to_uppercase();
        let method = match a.text("METHOD").to_uppercase().as_str() {
            "MH" => "MH",
            "PETO" => "PETO",
            "IV" => "IV",
            "" => "IV",
            other => {
                self.report.note("Analyses", format!("Analysis {number}: RevMan's method `{other}` is not known to metabook; the analysis uses inverse variance"));
                "IV"
            }
        };
        match o.kind {
            OutcomeKind::Dichotomous => match em.as_str() {
                "RR" => ("RR", method, "Risk Ratio".into(), false),
                "RD" => ("RD", method, "Risk Difference".into(), false),
                "PETO_OR" => ("OR", "PETO", "Peto Odds Ratio".into(), false),
                "OR" => ("OR", method, if method == "PETO" { "Peto Odds Ratio" } else { "Odds Ratio" }.into(), false),
                other => {
                    self.report.note("Analyses", format!("Analysis {number}: the effect measure `{other}` is not known; the analysis uses the risk ratio"));
                    ("RR", method, "Risk Ratio".into(), false)
                }
            },
            OutcomeKind::Continuous => match em.as_str() {
                "SMD" => ("SMD", method, "Std. Mean Difference".into(), false),
                "MD" | "WMD" => ("MD", method, "Mean Difference".into(), false),
                other => {
                    self.report.note("Analyses", format!("Analysis {number}: the effect measure `{other}` is not known; the analysis uses the mean difference"));
                    ("MD", method, "Mean Difference".into(), false)
                }
            },
            OutcomeKind::GenericInverseVariance | OutcomeKind::ObservedMinusExpected => {
                let name = if !o.effect_measure_name.is_empty() {
                    o.effect_measure_name.clone()
                } else {
                    measure_name(a.text("EFFECT_MEASURE"))
                };
                let log = match a.get("LOG_DATA") {
                    Some(v) => v.eq_ignore_ascii_case("YES"),
                    None => o.kind == OutcomeKind::ObservedMinusExpected || name.to_lowercase().contains("ratio"),
                };
                if o.kind == OutcomeKind::ObservedMinusExpected && method != "IV" {
                    self.report.note("Analyses", format!("Analysis {number}: O − E and variance data are pooled as generic data, yi = (O − E)/V with SE 1/√V, by inverse variance (RevMan's method: {method})"));
                }
                ("GEN", if o.kind == OutcomeKind::ObservedMinusExpected { "IV" } else { method }, name, log)
            }
            OutcomeKind::Other => ("", "", String::new(), false),
        }
    }

    /// A generic inverse-variance study's effect for the data file: on the log scale (natural
    /// log) for ratio measures.
    fn generic_yi(&mut self, ra: &rm5::Attrs, log_scale: bool, number: &str, label: &str) -> String {
        let es = ra.num("EFFECT_SIZE");
        if !log_scale {
            return es.map(fmt_num).unwrap_or_default();
        }
        if let Some(l10) = ra.num("LOG_EFFECT_SIZE") {
            return fmt_num(l10 * std::f64::consts::LN_10);
        }
        match es {
            Some(x) if x > 0.0 => {
                // RevMan stores the effect on its natural scale, between CI_START and CI_END;
                // an effect outside its own interval was entered on the log scale.
                match (ra.num("CI_START"), ra.num("CI_END")) {
                    (Some(lo), Some(hi)) if !(lo <= x && x <= hi) && lo > 0.0 && (lo.ln() <= x && x <= hi.ln()) => fmt_num(x),
                    _ => fmt_num(x.ln()),
                }
            }
            Some(x) => {
                self.report.note("Analyses", format!("Analysis {number}, {label}: the effect {x} of ratio data is not positive; taken as already on the log scale"));
                fmt_num(x)
            }
            None => String::new(),
        }
    }

    fn sort_rows(&mut self, rows: &mut [&rm5::DataRow], sort_by: &str, number: &str) {
        let name = |r: &rm5::DataRow| self.study_names.get(r.study_id.as_str()).map(|n| n.to_lowercase()).unwrap_or_else(|| r.study_id.to_lowercase());
        match sort_by {
            "STUDY" | "" => rows.sort_by_cached_key(|r| name(r)),
            "USER" => rows.sort_by_key(|r| r.attrs.num("ORDER").map(|x| x as i64).unwrap_or(i64::MAX)),
            "YEAR" => rows.sort_by_cached_key(|r| (self.review.studies.iter().find(|s| s.id == r.study_id).map(|s| s.year.clone()).unwrap_or_default(), name(r))),
            "EFFECT_SIZE" => rows.sort_by(|a, b| a.attrs.num("EFFECT_SIZE").unwrap_or(f64::INFINITY).total_cmp(&b.attrs.num("EFFECT_SIZE").unwrap_or(f64::INFINITY))),
            "WEIGHT" => rows.sort_by(|a, b| b.attrs.num("WEIGHT").unwrap_or(0.0).total_cmp(&a.attrs.num("WEIGHT").unwrap_or(0.0))),
            other => self.report.note("Analyses", format!("Analysis {number}: RevMan's sort order `{other}` is not known; the studies stand as the file lists them")),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn other_outcome(&mut self, o: &Outcome, name: &str, number: &str, rows: &[(Option<&rm5::Subgroup>, &rm5::DataRow, String)], has_subgroups: bool, md: &mut String, files: &mut Vec<(String, Vec<u8>)>) {
        // Columns: the cells' element names (or the file's headings), then attributes.
        let skip = ["STUDY_ID", "MODIFIED", "MODIFIED_BY", "ORDER"];
        let mut cell_cols: Vec<String> = Vec::new();
        let mut attr_cols: Vec<String> = Vec::new();
        for (_, r, _) in rows {
            for (n, _) in &r.cells {
                if !cell_cols.contains(n) {
                    cell_cols.push(n.clone());
                }
            }
            for (n, _) in &r.attrs.0 {
                if !skip.contains(&n.as_str()) && !attr_cols.contains(n) {
                    attr_cols.push(n.clone());
                }
            }
        }
        let headings: Vec<String> = if o.columns.len() == cell_cols.len() && !o.columns.is_empty() { o.columns.clone() } else { cell_cols.iter().map(|c| c.to_lowercase()).collect() };
        let mut header = vec!["study".to_string()];
        if has_subgroups {
            header.push("subgroup".into());
        }
        let mut used: HashSet<String> = header.iter().cloned().collect();
        for h in headings.iter().chain(attr_cols.iter().map(|a| a.to_lowercase()).collect::<Vec<_>>().iter()) {
            header.push(unique(if h.is_empty() { "column".into() } else { h.clone() }, &mut used));
        }
        let mut w = csv_writer();
        w.write_record(&header).expect("memory");
        for (sg, r, label) in rows {
            let mut rec = vec![label.clone()];
            if has_subgroups {
                rec.push(sg.map(|s| s.name.clone()).unwrap_or_default());
            }
            rec.extend(cell_cols.iter().map(|c| r.cells.iter().find(|(n, _)| n == c).map(|(_, t)| t.clone()).unwrap_or_default()));
            rec.extend(attr_cols.iter().map(|c| r.attrs.text(c).to_string()));
            w.write_record(&rec).expect("memory");
        }
        files.push((format!("data/{name}.csv"), w.into_inner().expect("memory")));
        if rows.is_empty() {
            md.push_str("The RevMan file has no rows for this outcome.\n\n");
            return;
        }
        let _ = write!(md, "```metabook table\ndata = \"{name}.csv\"\ncaption = {}\nlabel = \"tbl-{name}\"\n```\n\n", toml_str(&esc(&format!("Analysis {number}. {} (other data).", o.name))));
        self.report.note("Analyses", format!("Analysis {number} holds other data (no pooling in RevMan either): a table of its {} rows", rows.len()));
    }

    /// Run metabook's CSV loader on a data file made here, and list what it refuses.
    // ---------------------------------------------------------------- studies

    fn studies_chapter(&mut self, files: &mut Vec<(String, Vec<u8>)>) -> String {
        let review = self.review;
        let mut md = String::from("# Characteristics of studies\n\n");
        // Characteristics of included studies.
        if !review.characteristics.is_empty() {
            let mut cols: Vec<String> = Vec::new();
            for c in &review.characteristics {
                for (f, _) in &c.fields {
                    if !cols.contains(f) {
                        cols.push(f.clone());
                    }
                }
            }
            let mut w = csv_writer();
            let mut header = vec!["study".to_string()];
            header.extend(cols.iter().cloned());
            w.write_record(&header).expect("memory");
            let mut rows: Vec<(String, Vec<String>)> = Vec::new();
            for c in &review.characteristics {
                let label = self.study_label(&c.study_id);
                let mut rec = vec![label.clone()];
                rec.extend(cols.iter().map(|col| c.fields.iter().filter(|(f, _)| f == col).map(|(_, b)| rm5::plain_blocks(b)).collect::<Vec<_>>().join(" ")));
                rows.push((label, rec));
            }
            for (_, rec) in rows {
                w.write_record(&rec).expect("memory");
            }
            files.push(("data/characteristics.csv".into(), w.into_inner().expect("memory")));
            md.push_str("## Characteristics of included studies\n\n```metabook table\ndata = \"characteristics.csv\"\ncaption = \"Characteristics of included studies.\"\nlabel = \"tbl-characteristics\"\n```\n\n");
        }
        self.risk_of_bias(&mut md, files);

        for status in [StudyStatus::Included, StudyStatus::Excluded, StudyStatus::Awaiting, StudyStatus::Ongoing] {
            let studies: Vec<&rm5::Study> = review.studies.iter().filter(|s| s.status == status).collect();
            if studies.is_empty() {
                continue;
            }
            let _ = write!(md, "## {}\n\n", status.heading());
            for s in studies {
                let keys = self.study_keys.get(s.id.as_str()).cloned().unwrap_or_default();
                let cite = if keys.is_empty() { String::new() } else { format!(" [{}]", keys.iter().map(|k| format!("@{k}")).collect::<Vec<_>>().join("; ")) };
                let reason = review.exclusions.iter().find(|(id, _)| *id == s.id).map(|(_, r)| r.clone()).unwrap_or_default();
                let reason = self.blocks_inline(&reason);
                let _ = writeln!(md, "- {}{cite}{}", self.text(&s.name), if reason.is_empty() { String::new() } else { format!(": {reason}") });
                if keys.is_empty() {
                    self.report.note("References", format!("the study {} has no reference", s.name));
                }
            }
            md.push('\n');
        }
        md
    }

    /// Risk of bias: one domain per item (per item and group of outcomes for items judged by
    /// outcome), judgements in RoB 1's words, support in a second file.
    fn risk_of_bias(&mut self, md: &mut String, files: &mut Vec<(String, Vec<u8>)>) {
        let review = self.review;
        let mut domains: Vec<(String, &rm5::QualityItem, Option<String>)> = Vec::new();
        for q in &review.quality_items {
            if q.entries.is_empty() {
                self.report.note("Risk of bias", format!("the item “{}” has no judgements and is left out", q.name));
                continue;
            }
            if q.groups.is_empty() || q.entries.iter().all(|e| e.group_id.is_none()) {
                domains.push((q.name.clone(), q, None));
            } else {
                for (gid, gname) in &q.groups {
                    if q.entries.iter().any(|e| e.group_id.as_deref() == Some(gid)) {
                        domains.push((format!("{}: {}", q.name, gname), q, Some(gid.clone())));
                    }
                }
                if q.entries.iter().any(|e| e.group_id.is_none()) {
                    domains.push((q.name.clone(), q, None));
                }
            }
        }
        if domains.is_empty() {
            return;
        }
        let included: Vec<&rm5::Study> = review.studies.iter().filter(|s| s.status == StudyStatus::Included).collect();
        let judged: HashSet<&str> = domains.iter().flat_map(|(_, q, _)| q.entries.iter().map(|e| e.study_id.as_str())).collect();
        let mut ids: Vec<&str> = included.iter().map(|s| s.id.as_str()).filter(|id| judged.contains(id)).collect();
        for id in review.quality_items.iter().flat_map(|q| q.entries.iter().map(|e| e.study_id.as_str())) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut w = csv_writer();
        let mut header = vec!["study".to_string()];
        header.extend((1..=domains.len()).map(|i| format!("D{i}")));
        w.write_record(&header).expect("memory");
        let mut support = csv_writer();
        support.write_record(["study", "domain", "judgement", "support"]).expect("memory");
        let mut labels = HashSet::new();
        for id in ids {
            let label = self.study_label(id);
            if !labels.insert(label.clone()) {
                self.report.note("Risk of bias", format!("two studies are both called {label}; only the first has a row"));
                continue;
            }
            let mut rec = vec![label.clone()];
            for (dname, q, gid) in &domains {
                let entry = q.entries.iter().find(|e| e.study_id == id && e.group_id.as_deref() == gid.as_deref());
                let judgement = match entry.map(|e| e.result.to_uppercase()) {
                    Some(r) if r == "YES" => "Low",
                    Some(r) if r == "NO" => "High",
                    Some(r) if r == "UNKNOWN" || r == "UNCLEAR" => "Unclear",
                    Some(r) if r.is_empty() => "Not reported",
                    Some(r) => {
                        self.report.note("Risk of bias", format!("{label}, “{dname}”: RevMan's judgement `{r}` is not known; written as Not reported"));
                        "Not reported"
                    }
                    None => "Not reported",
                };
                rec.push(judgement.to_string());
                if let Some(e) = entry {
                    support.write_record([label.as_str(), dname.as_str(), judgement, &rm5::plain_blocks(&e.support)]).expect("memory");
                }
            }
            w.write_record(&rec).expect("memory");
        }
        files.push(("data/rob.csv".into(), w.into_inner().expect("memory")));
        files.push(("data/rob-support.csv".into(), support.into_inner().expect("memory")));
        let names = domains.iter().map(|(d, _, _)| toml_str(d)).collect::<Vec<_>>().join(", ");
        let _ = write!(
            md,
            "## Risk of bias in included studies\n\n\
             RevMan's judgements: “yes” is written as low risk of bias, “no” as high and “unclear” as unclear (Cochrane's risk-of-bias tool, RoB 1).\n\n\
             ```metabook rob\ndata = \"rob.csv\"\ntool = \"custom\"\ndomains = [{names}]\nplot = \"traffic-light\"\ncaption = \"Risk of bias: review authors' judgements about each item for each included study.\"\nlabel = \"fig-rob\"\n```\n\n\
             ```metabook rob\ndata = \"rob.csv\"\ntool = \"custom\"\ndomains = [{names}]\nplot = \"summary\"\ncaption = \"Risk of bias: review authors' judgements about each item as percentages across all included studies.\"\nlabel = \"fig-rob-summary\"\n```\n\n\
             ```metabook table\ndata = \"rob-support.csv\"\ncaption = \"Risk of bias: the review authors' support for each judgement.\"\nlabel = \"tbl-rob-support\"\n```\n\n"
        );
    }

    /// The summary-of-findings chapter: for each RevMan table, a `metabook sof` table computed
    /// from the analyses its rows report (with a GRADE file read from it, see [`super::sof`]),
    /// then the table as stored.
    fn summary_of_findings(&mut self, files: &mut Vec<(String, Vec<u8>)>) -> String {
        let review = self.review;
        let mut candidates = Vec::new();
        for c in &review.comparisons {
            for o in c.outcomes.iter().filter(|o| o.kind != OutcomeKind::Other && o.all_rows().next().is_some()) {
                let name = &self.analysis_names[&(c as *const _ as usize, o as *const _ as usize)];
                if self.not_computed.contains(name) {
                    continue;
                }
                let count = |v: Option<f64>| v.filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 1e15).map(|x| x as u64);
                let a = &o.attrs;
                candidates.push(sof::Candidate {
                    name: name.clone(),
                    number: format!("{}.{}", c.no, o.no),
                    title: o.name.clone(),
                    participants: count(a.num("TOTAL_1")).zip(count(a.num("TOTAL_2"))).map(|(x, y)| x + y),
                    studies: count(a.num("STUDIES")),
                    has_subgroups: !o.subgroups.is_empty(),
                });
            }
        }
        let mut md = String::from("# Summary of findings\n\n");
        for (i, t) in review.sof_tables.iter().enumerate() {
            let title = rm5::plain(&t.title);
            let title = if title.is_empty() { format!("Summary of findings {}", i + 1) } else { title };
            // The chapter is already called so: a lone table of that title needs no heading.
            if review.sof_tables.len() > 1 || !title.eq_ignore_ascii_case("summary of findings") {
                let _ = write!(md, "## {}\n\n", self.text(&title));
            }
            let read = sof::read(t, &candidates);
            for n in &read.notes {
                self.report.note("Summary of findings", n.clone());
            }
            let file = if i == 0 { "grade.toml".to_string() } else { format!("grade-{}.toml", i + 1) };
            match sof::grade_toml(&read, &title, toml_str) {
                Some(grade) => {
                    let n = read.usable().count();
                    self.report.note(
                        "Summary of findings",
                        format!("`data/{file}`: {n} of {} outcome rows of \"{title}\", each with the analysis it reports and the certainty the table states; the file does not give the ratings per GRADE domain or the study design, so they are `not reported`", read.rows.len()),
                    );
                    let _ = write!(
                        md,
                        "The table below is computed from the analyses each outcome reports (participants, studies and effect); the certainty is the one the RevMan file states, since the file does not give the GRADE ratings behind it (see `data/{file}`). RevMan's table as stored follows it.\n\n\
                         ```metabook sof\ndata = {}\nlabel = \"tbl-sof-{}\"\ncaption = {}\n```\n\n### As stored in the RevMan file\n\n",
                        toml_str(&file),
                        i + 1,
                        toml_str(&format!("{title}: computed from the analyses, with the certainty the RevMan file states."))
                    );
                    files.push((format!("data/{file}"), grade.into_bytes()));
                }
                None => self.report.note("Summary of findings", format!("\"{title}\" is kept as a table only: none of its rows could be matched to an analysis with a stated certainty")),
            }
            self.table(&t.table, &mut md);
            for b in &t.footnotes {
                self.block(b, &mut md, "");
            }
        }
        md
    }

    fn figures_chapter(&mut self, files: &mut Vec<(String, Vec<u8>)>) -> String {
        let mut md = String::from("# Figures\n\n");
        for f in &self.review.figures {
            let caption = self.blocks_inline(&f.caption);
            let ext = match f.file_type.to_uppercase().as_str() {
                "PNG" => "png",
                "JPG" | "JPEG" => "jpg",
                "GIF" => "gif",
                _ => "",
            };
            let bytes = base64_decode(&f.data_base64);
            let _ = write!(md, "## Figure {}\n\n", esc(&f.no));
            match (ext, bytes) {
                ("", _) | (_, None) => {
                    let _ = write!(md, "{caption}\n\n");
                    self.report.note("Figures", format!("Figure {} ({}): the image ({} data) could not be carried over; its caption is in report/figures.md", f.no, f.filename, f.file_type));
                }
                // An image the build cannot read (damaged data) would stop it: its caption only.
                (ext, Some(bytes)) if !bytes.is_empty() && crate::render::typst::check_image(&bytes, ext).is_err() => {
                    let why = crate::render::typst::check_image(&bytes, ext).err().unwrap_or_default();
                    let _ = write!(md, "{caption}\n\n");
                    self.report.note("Figures", format!("Figure {} ({}): the image RevMan stored {why}; its caption is in report/figures.md", f.no, f.filename));
                }
                (ext, Some(bytes)) if !bytes.is_empty() => {
                    let path = format!("figures/figure-{}.{ext}", ident(&f.no));
                    let alt = collapse_ws(&rm5::plain_blocks(&f.caption)).replace(['[', ']', '\\'], "");
                    let _ = write!(md, "![{}]({path})\n\n{caption}\n\n", esc(&alt));
                    files.push((format!("report/{path}"), bytes));
                    self.report.note("Figures", format!("Figure {} ({}, RevMan's {}) is the image RevMan stored, not redrawn by metabook", f.no, f.filename, f.kind.to_lowercase().replace('_', " ")));
                }
                _ => {
                    let _ = write!(md, "{caption}\n\n");
                    self.report.note("Figures", format!("Figure {} ({}) has no image data", f.no, f.filename));
                }
            }
        }
        md
    }

    fn references_chapter(&mut self) -> String {
        let mut md = String::from("# References\n\n");
        // Every reference that is not a study's is cited here, so that the list holds them all.
        let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for r in &self.review.references {
            if let Some(k) = self.ref_keys.get(r.id.as_str()) {
                groups.entry(r.group.as_str()).or_default().push(format!("@{k}"));
            }
        }
        for (group, keys) in &groups {
            let heading = match *group {
                "additional" => "Additional references",
                "other versions" => "Other published versions of this review",
                "pending" => "References pending classification",
                _ => "Other references",
            };
            let _ = write!(md, "{heading}: [{}].\n\n", keys.join("; "));
        }
        md.push_str("```metabook references\n```\n");
        md
    }

    // ---------------------------------------------------------------- bibliography

    fn bibtex(&mut self) -> String {
        let mut out = String::from("% The references of the RevMan review, imported by metabook. Keys come from RevMan's ids.\n\n");
        let entries = std::mem::take(&mut self.entries);
        for (key, r, study) in &entries {
            let (kind, source_field) = match if r.is_empty() { "" } else { r.kind.as_str() } {
                "JOURNAL_ARTICLE" | "COCHRANE_REVIEW" | "COCHRANE_PROTOCOL" | "CORRESPONDENCE" => ("article", "journal"),
                "BOOK" => ("book", "publisher"),
                "BOOK_SECTION" => ("incollection", "booktitle"),
                "CONFERENCE_PROC" => ("inproceedings", "booktitle"),
                "UNPUBLISHED" => ("unpublished", "note"),
                _ => ("misc", "howpublished"),
            };
            let _ = writeln!(out, "@{kind}{{{key},");
            let mut field = |name: &str, value: &str| {
                let v = collapse_ws(value);
                if !v.is_empty() {
                    let _ = writeln!(out, "  {name} = {{{}}},", bib_escape(&v));
                }
            };
            if r.is_empty() {
                let name = study.map(|s| s.name.as_str()).unwrap_or(r.name.as_str());
                field("title", name);
                let (year, as_written) = bib_year(study.map(|s| s.year.as_str()).unwrap_or(""));
                field("year", &year);
                field("note", &format!("No bibliographic details in the RevMan file{}", as_written.map(|y| format!(". {y}")).unwrap_or_default()));
                self.report.note("References", format!("the reference of {name} has no bibliographic details; its entry holds the study's name and year"));
            } else {
                let authors = bib_authors(&r.authors);
                if !authors.is_empty() {
                    let _ = writeln!(out, "  author = {{{authors}}},");
                }
                let mut field = |name: &str, value: &str| {
                    let v = collapse_ws(value);
                    if !v.is_empty() {
                        let _ = writeln!(out, "  {name} = {{{}}},", bib_escape(&v));
                    }
                };
                field("title", &r.title);
                field("origtitle", &r.title_original);
                field(source_field, &r.source);
                let (year, as_written) = bib_year(&r.year);
                field("year", &year);
                if let Some(y) = as_written {
                    field("note", &y);
                }
                field("volume", &r.volume);
                field("number", &r.issue);
                field("pages", &r.pages.replace('-', "--"));
                field("edition", &r.edition);
                field("editor", &r.editors);
                if source_field != "publisher" {
                    field("publisher", &r.publisher);
                }
                field("address", &r.city);
                for (t, v) in &r.identifiers {
                    match t.to_uppercase().as_str() {
                        "DOI" => field("doi", v),
                        "PUBMED" => field("pmid", v),
                        _ => field("note", &format!("{t}: {v}")),
                    }
                }
            }
            out.push_str("}\n\n");
        }
        self.entries = entries;
        out
    }

    // ---------------------------------------------------------------- report

    fn report_text(&mut self, review: &Review, file_name: &str, files: &[(String, Vec<u8>)]) -> String {
        for (tag, n) in std::mem::take(&mut self.unknown_markup) {
            self.report.note("Markup", format!("{n} × `{tag}`: the text is kept, the markup is not"));
        }
        let outcomes: usize = review.comparisons.iter().map(|c| c.outcomes.len()).sum();
        let mut md = format!(
            "# Import report\n\n`metabook import` read {} (RevMan {}): {} comparisons with {} outcomes, {} studies ({} included), {} other references, {} risk-of-bias items, {} figures.\n\nThe book: {} files.{}\n",
            file_name,
            if review.revman_version.is_empty() { "5" } else { &review.revman_version },
            review.comparisons.len(),
            outcomes,
            review.studies.len(),
            review.studies.iter().filter(|s| s.status == StudyStatus::Included).count(),
            review.references.len(),
            review.quality_items.len(),
            review.figures.len(),
            files.len() + 1,
            if files.iter().any(|(f, _)| f == "data/revman-results.csv") {
                " Every number RevMan stored for the analyses the book computes (study, subtotal, total and subgroup-test rows) is in `data/revman-results.csv`, as stored, and checked at each build."
            } else {
                ""
            },
        );
        if self.report.notes.is_empty() {
            md.push_str("\nThe book shows everything the file holds.\n");
        } else {
            md.push_str("\nWhat the book does not show, or shows differently:\n");
        }
        for (topic, notes) in &self.report.notes {
            let _ = write!(md, "\n## {topic}\n\n");
            for n in notes {
                let _ = writeln!(md, "- {n}");
            }
        }
        md
    }
}

/// Whitespace runs (XML indentation) as one space; leading and trailing spaces trimmed.
/// Run an imported analysis as the book's build will (the same loader, convention and
/// specification as `engine::run_analysis_directive`) on its data file: the errors, as "file:line:col:
/// message", or none when it runs.
#[allow(clippy::too_many_arguments)]
fn trial(file: &str, bytes: &[u8], measure: &str, method: &str, model: &str, level: f64, study_level: f64, log_scale: bool) -> Vec<String> {
    use crate::stats::{spec, Convention, Measure, Method, Model, Spec};
    let (Ok(measure), Ok(parsed), Ok(model)) = (measure.parse::<Measure>(), method.parse::<Method>(), model.parse::<Model>()) else {
        return vec![format!("{file}: the analysis' settings are not ones metabook knows ({measure}, {method}, {model})")];
    };
    let (method, mh_random) = match spec::resolve_model(parsed, spec::is_iv_name(method), Some(model)) {
        Ok(r) => r,
        Err(e) => return vec![format!("{file}: {e}")],
    };
    let spec = Spec { method, level, study_level, convention: Convention::Revman5, mh_random, generic_log: log_scale, ..Spec::new(measure) };
    let source = crate::diag::Source::new(file.to_string(), String::from_utf8_lossy(bytes).into_owned());
    let problems = crate::stats::analysis::check_spec(&spec)
        .map_err(|e| vec![crate::diag::Diagnostic::error(e.to_string())])
        .and_then(|()| crate::data::csv_table(&source))
        .and_then(|table| crate::data::studies::load_studies_as(&table, measure, None, Convention::Revman5))
        .and_then(|studies| crate::engine::analyse(studies, &spec).map_err(|e| vec![e]))
        .err()
        .unwrap_or_default();
    problems.iter().filter(|p| p.is_error()).map(|p| format!("{}: {}", p.position().unwrap_or_else(|| file.to_string()), p.message)).collect()
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whitespace runs as one space, keeping one at either edge (text between inline markup).
fn collapse_ws_keep_edges(s: &str) -> String {
    let inner = collapse_ws(s);
    if inner.is_empty() {
        return if s.is_empty() { String::new() } else { " ".into() };
    }
    let lead = if s.starts_with(char::is_whitespace) { " " } else { "" };
    let trail = if s.ends_with(char::is_whitespace) { " " } else { "" };
    format!("{lead}{inner}{trail}")
}

/// Emphasis around Markdown, with the spaces at its edges moved outside (`** x**` is not
/// emphasis in CommonMark).
fn emphasis(mark: &str, inner: &str) -> String {
    let trimmed = inner.trim();
    if trimmed.is_empty() {
        return inner.to_string();
    }
    let lead = if inner.starts_with(char::is_whitespace) { " " } else { "" };
    let trail = if inner.ends_with(char::is_whitespace) { " " } else { "" };
    format!("{lead}{mark}{trimmed}{mark}{trail}")
}

/// A line of a paragraph that CommonMark would read as a list item, heading, rule or code
/// keeps its first character as text.
fn guard_line_start(line: &str) -> String {
    if line.starts_with(['-', '+', '=']) {
        return format!("\\{line}");
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 9 && line[digits..].starts_with(['.', ')']) {
        return format!("{}\\{}", &line[..digits], &line[digits..]);
    }
    line.to_string()
}

/// Super- and subscripts as Unicode characters, where every character has one.
fn script(text: &str, sup: bool) -> Option<String> {
    let map = |c: char| -> Option<char> {
        Some(match (sup, c) {
            (true, '0') => '⁰',
            (true, '1') => '¹',
            (true, '2') => '²',
            (true, '3') => '³',
            (true, '4') => '⁴',
            (true, '5') => '⁵',
            (true, '6') => '⁶',
            (true, '7') => '⁷',
            (true, '8') => '⁸',
            (true, '9') => '⁹',
            (true, '+') => '⁺',
            (true, '-' | '−') => '⁻',
            (true, '(') => '⁽',
            (true, ')') => '⁾',
            (true, 'n') => 'ⁿ',
            (true, 'i') => 'ⁱ',
            (false, '0') => '₀',
            (false, '1') => '₁',
            (false, '2') => '₂',
            (false, '3') => '₃',
            (false, '4') => '₄',
            (false, '5') => '₅',
            (false, '6') => '₆',
            (false, '7') => '₇',
            (false, '8') => '₈',
            (false, '9') => '₉',
            (false, '+') => '₊',
            (false, '-' | '−') => '₋',
            (false, '(') => '₍',
            (false, ')') => '₎',
            _ => return None,
        })
    };
    let t = text.trim();
    if t.is_empty() {
        return Some(String::new());
    }
    t.chars().map(map).collect()
}

/// A number as the shortest text that reads back as it (deterministic).
fn fmt_num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// An identifier part from RevMan's numbers (`1`, `01` → `1`).
fn ident(no: &str) -> String {
    let t = no.trim();
    match t.parse::<u64>() {
        Ok(n) => n.to_string(),
        Err(_) => {
            let s: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
            if s.is_empty() { "x".into() } else { s }
        }
    }
}

/// A measure's name from RevMan's EFFECT_MEASURE attribute.
fn measure_name(code: &str) -> String {
    match code.to_uppercase().as_str() {
        "OR" => "Odds Ratio".into(),
        "PETO_OR" => "Peto Odds Ratio".into(),
        "RR" => "Risk Ratio".into(),
        "RD" => "Risk Difference".into(),
        "MD" | "WMD" => "Mean Difference".into(),
        "SMD" => "Std. Mean Difference".into(),
        "HR" => "Hazard Ratio".into(),
        "" => "Effect".into(),
        other => other.to_string(),
    }
}

/// BibTeX text: the characters TeX would read as commands escaped.
fn bib_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '{' | '}' | '&' | '%' | '$' | '#' | '_' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(c),
        }
    }
    out
}

/// RevMan's author list (`Brink WRR, Denny FW, et al`) as BibTeX names
/// (`Brink, W. R. R. and Denny, F. W. and others`); a name without initials (an organisation)
/// is kept whole, in braces.
/// RevMan's year for BibTeX's `year`, which holds a year of four digits: the text when it is
/// one, else the first four-digit number in it; and then the text as written, for a note.
fn bib_year(yr: &str) -> (String, Option<String>) {
    let yr = collapse_ws(yr);
    if yr.len() == 4 && yr.bytes().all(|b| b.is_ascii_digit()) {
        return (yr, None);
    }
    let year = yr.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 4).unwrap_or("").to_string();
    let note = (!yr.is_empty()).then(|| format!("Year as RevMan gives it: {yr}"));
    (year, note)
}

fn bib_authors(au: &str) -> String {
    let mut names = Vec::new();
    for part in au.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("et al") || part.eq_ignore_ascii_case("et al.") {
            names.push("others".to_string());
            continue;
        }
        let words: Vec<&str> = part.split_whitespace().collect();
        let last = words.last().copied().unwrap_or("");
        let initials = words.len() >= 2 && last.len() <= 4 && last.chars().all(|c| c.is_uppercase() || c == '-' || c == '.');
        if initials {
            let family = words[..words.len() - 1].join(" ");
            let given: Vec<String> = last.chars().filter(|c| c.is_alphabetic()).map(|c| format!("{c}.")).collect();
            names.push(format!("{}, {}", bib_escape(&family), given.join(" ")));
        } else {
            names.push(format!("{{{}}}", bib_escape(part)));
        }
    }
    names.join(" and ")
}

/// Standard base64 (RevMan's figures); None if it is not valid base64.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let body = bytes.strip_suffix(b"==").or_else(|| bytes.strip_suffix(b"=")).unwrap_or(&bytes);
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let take = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend(&n.to_be_bytes()[1..1 + take]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(inlines: Vec<Inline>) -> String {
        let review = Review::default();
        let mut b = Builder::new(&review);
        b.inlines(&inlines, false)
    }

    #[test]
    fn user_text_stays_text_in_markdown() {
        let t = md(vec![Inline::Text("*a* {{ x }} [@k] $y$ <b> @fig-z 50% & #1".into())]);
        // `{` as its character reference: no minijinja delimiter can form (render::prose).
        assert_eq!(t, "\\*a\\* &#123;&#123; x \\}\\} \\[\\@k\\] \\$y\\$ \\<b\\> \\@fig-z 50% \\& \\#1");
        // A line that would start a list or a heading.
        assert_eq!(md(vec![Inline::Text("1. one".into()), Inline::Break, Inline::Text("- two".into())]), "1\\. one\\\n\\- two");
    }

    #[test]
    fn markup_becomes_markdown() {
        let t = md(vec![
            Inline::Bold(vec![Inline::Text("Question ".into())]),
            Inline::Text("I".into()),
            Inline::Sup(vec![Inline::Text("2".into())]),
            Inline::Text(" and ".into()),
            Inline::Italic(vec![Inline::Text("Streptococcus".into())]),
            Inline::Url { href: "http://example.org".into(), content: vec![Inline::Text("site".into())] },
            Inline::Url { href: "javascript:alert(1)".into(), content: vec![Inline::Text("bad".into())] },
        ]);
        assert_eq!(t, "**Question** I² and *Streptococcus*[site](http://example.org)bad");
    }

    #[test]
    fn authors_and_escapes_for_bibtex() {
        assert_eq!(bib_authors("Brink WRR, Denny FW, et al"), "Brink, W. R. R. and Denny, F. W. and others");
        assert_eq!(bib_authors("Australian Bureau of Statistics"), "{Australian Bureau of Statistics}");
        assert_eq!(bib_escape("50% & {x} #1 a_b"), "50\\% \\& \\{x\\} \\#1 a\\_b");
    }

    #[test]
    fn keys_are_stable_and_unique() {
        let mut used = HashSet::new();
        assert_eq!(unique(key_base("STD-Brink-1951"), &mut used), "brink1951");
        assert_eq!(unique(key_base("STD-Brink-1951"), &mut used), "brink1951b");
        assert_eq!(key_base("STD-El-Daher-1991"), "eldaher1991");
        assert_eq!(key_base("REF-1997"), "r1997");
    }

    #[test]
    fn years_that_are_not_four_digits_go_into_a_note() {
        assert_eq!(bib_year("1999"), ("1999".into(), None));
        assert_eq!(bib_year("1999a"), ("1999".into(), Some("Year as RevMan gives it: 1999a".into())));
        assert_eq!(bib_year("１２").0, "");
        assert_eq!(bib_year("12").0, "");
        assert_eq!(bib_year("in press"), (String::new(), Some("Year as RevMan gives it: in press".into())));
        assert_eq!(bib_year(""), (String::new(), None));
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert!(base64_decode("a*b=").is_none());
    }
}
