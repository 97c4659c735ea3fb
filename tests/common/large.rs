//! Synthetic large books (issue 13), one generator for the tests and the benchmark
//! (`examples/large_book.rs`, `bench/large.sh`): a review of `analyses` analyses of `studies`
//! studies each, a forest plot and a sentence of inline values for each, `per_chapter`
//! analyses to a chapter; with `funnel`, a funnel plot for each too (the single big analysis).
//!
//! The data are deterministic and varied (no two studies alike, every study estimable). Two
//! analyses in three are 2×2 data (risk ratio), the third continuous (mean difference), as in
//! real reviews, where most outcomes are dichotomous.

#![allow(dead_code)] // Each user (a test, the benchmark) takes only some of it.

use std::fmt::Write as _;
use std::path::Path;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    pub analyses: usize,
    pub studies: usize,
    pub per_chapter: usize,
    pub funnel: bool,
}

impl Shape {
    /// N analyses of k = 10 studies, ten to a chapter (the issue's "N = 200" books).
    pub fn analyses(n: usize) -> Shape {
        Shape {
            analyses: n,
            studies: 10,
            per_chapter: 10,
            funnel: false,
        }
    }

    /// One analysis of k studies with a forest and a funnel plot (the issue's "k = 10,000").
    pub fn studies(k: usize) -> Shape {
        Shape {
            analyses: 1,
            studies: k,
            per_chapter: 1,
            funnel: true,
        }
    }
}

/// The name of analysis `j` (1-based) and its CSV.
pub fn analysis_name(j: usize) -> String {
    format!("a{j:04}")
}

/// Whether analysis `j` is continuous (every third), else dichotomous.
pub fn is_continuous(j: usize) -> bool {
    j % 3 == 0
}

/// The CSV of analysis `j`: `k` studies.
pub fn csv(j: usize, k: usize) -> String {
    let mut out = String::new();
    if is_continuous(j) {
        out.push_str("study,n1,mean1,sd1,n2,mean2,sd2\n");
        for i in 1..=k {
            let h = hash(j, i);
            let (n1, n2) = (20 + h % 80, 20 + (h / 7) % 80);
            let m1 = 10.0 + ((h / 11) % 400) as f64 / 40.0;
            let m2 = 10.0 + ((h / 13) % 400) as f64 / 40.0;
            let s1 = 2.0 + ((h / 17) % 50) as f64 / 10.0;
            let s2 = 2.0 + ((h / 19) % 50) as f64 / 10.0;
            writeln!(out, "Study {i:05} ({j}),{n1},{m1},{s1},{n2},{m2},{s2}").unwrap();
        }
    } else {
        out.push_str("study,events1,n1,events2,n2\n");
        for i in 1..=k {
            let h = hash(j, i);
            let (n1, n2) = (30 + h % 90, 30 + (h / 7) % 90);
            let e1 = 1 + (h / 11) % (n1 - 2);
            let e2 = 1 + (h / 13) % (n2 - 2);
            writeln!(out, "Study {i:05} ({j}),{e1},{n1},{e2},{n2}").unwrap();
        }
    }
    out
}

/// A fixed, well-mixed number for study `i` of analysis `j` (SplitMix64's finaliser).
fn hash(j: usize, i: usize) -> usize {
    let mut z = (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (i as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) % 1_000_003) as usize
}

/// Write the book into `dir` (created; an existing book there is replaced file by file).
pub fn write(dir: &Path, shape: Shape) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join("report"))?;
    std::fs::create_dir_all(dir.join("data"))?;
    std::fs::write(
        dir.join("book.toml"),
        format!(
            "[book]\ntitle = \"A large synthetic review: {} analyses of {} studies\"\nauthors = [\"metabook's generator\"]\nlanguage = \"en\"\n\n\
             [build]\nsrc = \"report\"\ndata = \"data\"\nbuild-dir = \"book\"\n\n[output.html]\n\n[output.pdf]\npaper = \"a4\"\n\n\
             [analysis]\nmethod = \"DL\"\n",
            shape.analyses, shape.studies
        ),
    )?;
    let chapters = shape.analyses.div_ceil(shape.per_chapter.max(1));
    let mut summary = String::from("# Summary\n\n");
    for c in 1..=chapters {
        writeln!(summary, "- [Comparison {c}](c{c:03}.md)").unwrap();
        let mut text = format!("# Comparison {c}\n\n");
        let first = (c - 1) * shape.per_chapter + 1;
        for j in first..(first + shape.per_chapter).min(shape.analyses + 1) {
            let name = analysis_name(j);
            std::fs::write(dir.join(format!("data/{name}.csv")), csv(j, shape.studies))?;
            let measure = if is_continuous(j) { "MD" } else { "RR" };
            write!(
                text,
                "## Outcome {j}\n\n```metabook analysis\nname = \"{name}\"\ndata = \"{name}.csv\"\nmeasure = \"{measure}\"\n```\n\n\
                 In {{{{ {name}.k }}}} studies the effect was {{{{ {name} | effect }}}} \
                 ({{{{ {name}.p | pval }}}}; I² = {{{{ {name}.i2 | pct }}}}), shown in @fig-{name}.\n\n\
                 ```metabook forest\nanalysis = \"{name}\"\nlabel = \"fig-{name}\"\ncaption = \"Outcome {j}.\"\n```\n\n"
            )
            .unwrap();
            if shape.funnel {
                write!(text, "```metabook funnel\nanalysis = \"{name}\"\nlabel = \"fig-{name}-funnel\"\ncaption = \"Funnel plot of outcome {j}.\"\n```\n\n").unwrap();
            }
        }
        std::fs::write(dir.join(format!("report/c{c:03}.md")), text)?;
    }
    std::fs::write(dir.join("report/SUMMARY.md"), summary)
}
