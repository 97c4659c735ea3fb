//! Rebuilding the example review after an edit, as `metabook watch` and `metabook serve` do:
//! one [`Session`] for all builds, so the build cache and typst's memoized layout carry over.
//!
//!     cargo bench --bench rebuild [-- --write] [-- REPS]
//!
//! Works on a private copy of the example review (book.toml, report/, data/, templates/). Each
//! case makes a fresh edit before every timed build (a new value each time, so neither the
//! cache nor typst has seen it) and reads the build's own clock: from the start of the build to
//! every output made in memory, and to all of them written. "One-shot" builds first drop typst's memoized work
//! (as a new `metabook build` process starts without it) but keep the build cache on disk.
//! Prints a Markdown section; with `--write` it also replaces that section of BENCHMARKS.md
//! (from its heading to the line `<!-- end of benches/rebuild.rs output -->`).
//!
//! Targets (issue 6): a CSV cell edited → PDF in ≤ 100 ms (and the site in ≤ 50 ms, which
//! became the same time once a build writes nothing until every output is made, issue 11).

#[path = "../tests/common/mod.rs"]
mod common;

use common::copy_dir;
use metabook::cmd::build::{Built, Session};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HEADING: &str = "## Rebuilding after an edit (watch and serve)";
const END: &str = "<!-- end of benches/rebuild.rs output -->";

fn build(session: &mut Session, root: &Path) -> Built {
    session.build(root).unwrap_or_else(|problems| panic!("{}", metabook::diag::render(&problems, false)))
}

/// Kilobytes of the process' resident memory: now and at most so far.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok()).unwrap_or(0);
    (field("VmRSS:"), field("VmHWM:"))
}

struct Case {
    name: &'static str,
    site: Vec<Duration>,
    made: Vec<Duration>,
    written: Vec<Duration>,
    ran: usize,
    reused: usize,
    files: usize,
    typeset: usize,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Time `reps` builds, each after `edit(i)`; `cold_typst` drops typst's memoized work first.
fn case(name: &'static str, session: &mut Session, root: &Path, reps: usize, cold_typst: bool, edit: &mut dyn FnMut(usize)) -> Case {
    let mut c = Case { name, site: Vec::new(), made: Vec::new(), written: Vec::new(), ran: 0, reused: 0, files: 0, typeset: 0 };
    for i in 0..reps {
        edit(i);
        if cold_typst {
            comemo::evict(0);
        }
        let built = build(session, root);
        c.site.push(built.site_time);
        c.made.push(built.made_time);
        c.written.push(built.written_time);
        (c.ran, c.reused, c.files, c.typeset) = (built.ran.len(), built.reused, built.pages_written.len(), built.typeset.len());
    }
    c.site.sort();
    c.made.sort();
    c.written.sort();
    c
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let write = args.iter().any(|a| a == "--write");
    let reps: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(40);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root: PathBuf = std::env::temp_dir().join(format!("metabook-rebuild-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(repo.join("book.toml"), root.join("book.toml")).unwrap();
    for folder in ["report", "data", "templates"] {
        copy_dir(&repo.join(folder), &root.join(folder));
    }
    let csv = root.join("data/spasticity.csv");
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let chapter = root.join("report/discussion.md");
    let chapter_text = std::fs::read_to_string(&chapter).unwrap();
    let template = root.join("templates/page.html");
    let template_text = std::fs::read_to_string(&template).unwrap();
    let started = Instant::now();

    let mut session = Session::default();
    let first = Instant::now();
    let cold = build(&mut session, &root);
    let first = (first.elapsed(), cold.made_time, cold.written_time);
    let mut cases = Vec::new();
    cases.push(case("nothing changed", &mut session, &root, reps, false, &mut |_| ()));
    // Stokic 2005's experimental mean, 2.4 → 2.401, 2.402, …: a new number each time.
    let mut cell = |i: usize| std::fs::write(&csv, csv_text.replacen("Stokic 2005,30,2.4,", &format!("Stokic 2005,30,{:.3},", 2.4 + 0.001 * (i + 1) as f64), 1)).unwrap();
    cases.push(case("one CSV cell (spasticity.csv)", &mut session, &root, reps, false, &mut cell));
    let (rss_after, peak) = memory();
    let mut prose = |i: usize| std::fs::write(&chapter, chapter_text.replacen("\n\n", &format!("\n\nEdit {i}.\n\n"), 1)).unwrap();
    cases.push(case("one sentence of prose (discussion.md)", &mut session, &root, reps, false, &mut prose));
    let mut page = |i: usize| std::fs::write(&template, template_text.replacen("</head>", &format!("<meta name=\"edit\" content=\"{i}\">\n</head>"), 1)).unwrap();
    cases.push(case("the HTML page template", &mut session, &root, reps, false, &mut page));
    let one_shot_reps = reps.min(10);
    let mut cell_again = |i: usize| std::fs::write(&csv, csv_text.replacen("Stokic 2005,30,2.4,", &format!("Stokic 2005,30,{:.3},", 2.5 + 0.001 * (i + 1) as f64), 1)).unwrap();
    cases.push(case("one CSV cell, typst cold (as in a new `metabook build`)", &mut session, &root, one_shot_reps, true, &mut cell_again));
    // From a save to the start of the build, as `watch` and `serve` wait for it.
    let waker = metabook::cmd::watch::Waker::new(&root);
    let mut last = metabook::cmd::watch::fingerprint(&root);
    let mut noticed = Vec::new();
    for i in 0..reps.min(20) {
        std::thread::sleep(Duration::from_millis(30));
        let saved = Instant::now();
        std::fs::write(&csv, csv_text.replacen("Stokic 2005,30,2.4,", &format!("Stokic 2005,30,{:.3},", 2.6 + 0.001 * (i + 1) as f64), 1)).unwrap();
        last = metabook::cmd::watch::wait_for_change(&root, last, &waker);
        noticed.push(saved.elapsed());
    }
    noticed.sort();
    let (rss_end, peak_end) = memory();
    // A large review (issue 13): 200 analyses of 10 studies, a forest plot each, in its own
    // session; one cell of the first analysis' CSV (the first study's total) edited.
    let large_root = root.join("large");
    common::large::write(&large_root, common::large::Shape::analyses(200)).unwrap();
    let mut large_session = Session::default();
    let large_first = Instant::now();
    build(&mut large_session, &large_root);
    let large_first = large_first.elapsed();
    let large_csv = large_root.join(format!("data/{}.csv", common::large::analysis_name(1)));
    let large_text = std::fs::read_to_string(&large_csv).unwrap();
    let first_row: Vec<String> = large_text.lines().nth(1).unwrap().split(',').map(str::to_string).collect();
    let n1: u64 = first_row[2].parse().unwrap();
    let mut large_cell = |i: usize| {
        let mut row = first_row.clone();
        row[2] = (n1 + 1 + i as u64).to_string();
        std::fs::write(&large_csv, large_text.replacen(&first_row.join(","), &row.join(","), 1)).unwrap();
    };
    let large_reps = reps.min(10);
    cases.push(case("N = 200 analyses: one CSV cell (a0001.csv)", &mut large_session, &large_root, large_reps, false, &mut large_cell));
    let (_, peak_large) = memory();
    let total = started.elapsed();
    let _ = std::fs::remove_dir_all(&root);

    let commit = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let dirty = std::process::Command::new("git").args(["-C", env!("CARGO_MANIFEST_DIR"), "status", "--porcelain", "--untracked-files=no"]).output().is_ok_and(|o| !o.stdout.is_empty());
    let date = std::process::Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]).output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    let mut out = format!("{HEADING}\n\n");
    out.push_str(&format!(
        "- Date: {date}; metabook commit {commit}{}; release build (`cargo bench`); {cpus} CPUs; load average before: {load}\n",
        if dirty { " (with uncommitted changes)" } else { "" }
    ));
    out.push_str(&format!("- {reps} timed builds per case ({one_shot_reps} for the one-shot case), each after a fresh edit; run took {:.0} s\n", total.as_secs_f64()));
    out.push_str(&format!(
        "- First build of the session (empty cache, typst cold, fonts loaded): {} in all; every output made at {}, written at {}\n\n",
        ms(first.0),
        ms(first.1),
        ms(first.2)
    ));
    out.push_str("Times from the start of the build (load, parse, execute, render, write): to the site's pages made in memory (`serve` shows them then, and reloads the open pages), to every output made in memory (the site's pages, and both PDFs — book and plain-language summary, typeset at the same time), and to all of them written. Nothing is written before every output is made, so that a build that fails leaves the previous output as it was; the site's files on disk therefore appear with the PDFs. The last case drops typst's memoized work before each build, as a new `metabook build` process starts without it, but keeps the build cache; it does not include starting the process or loading the fonts.\n\n");
    out.push_str("| edit | site made (shown by serve): median | p90 | outputs made: median | p90 | max | written (site and PDFs): median | p90 | max | directives run / from cache | site files written | PDFs typeset |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for c in &cases {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {} |\n",
            c.name,
            ms(quantile(&c.site, 0.5)),
            ms(quantile(&c.site, 0.9)),
            ms(quantile(&c.made, 0.5)),
            ms(quantile(&c.made, 0.9)),
            ms(*c.made.last().unwrap()),
            ms(quantile(&c.written, 0.5)),
            ms(quantile(&c.written, 0.9)),
            ms(*c.written.last().unwrap()),
            c.ran,
            c.reused,
            c.files,
            c.typeset
        ));
    }
    out.push_str(&format!(
        "\nBefore a build starts, `watch` and `serve` wait for the save to be over (a file event, then {} ms without one): from writing the CSV file to the start of the build, median {}, p90 {}, max {} ({} saves).\n",
        metabook::cmd::watch::SETTLE.as_millis(),
        ms(quantile(&noticed, 0.5)),
        ms(quantile(&noticed, 0.9)),
        ms(*noticed.last().unwrap()),
        noticed.len()
    ));
    let cell = &cases[1];
    let verdict = |d: Duration, target: u64| if d <= Duration::from_millis(target) { format!("≤ {target} ms (met)") } else { format!("≤ {target} ms (NOT met)") };
    out.push_str(&format!(
        "\nTargets for one CSV cell in watch/serve, on the p90: site {} (made, as `serve` shows it), PDF {} (written).\n",
        verdict(quantile(&cell.site, 0.9), 50),
        verdict(quantile(&cell.written, 0.9), 100)
    ));
    let large = cases.last().unwrap();
    out.push_str(&format!(
        "For the 200-analysis book (issue 13; its first build in the session {}; {large_reps} edits; peak memory of the process then {:.0} MiB), on the p90: site {} (made, as `serve` shows it), PDF {} (written).\n\n",
        ms(large_first),
        peak_large as f64 / 1024.0,
        verdict(quantile(&large.site, 0.9), 100),
        verdict(quantile(&large.written, 0.9), 1000)
    ));
    out.push_str(&format!(
        "Memory (resident): {:.0} MiB after the CSV-cell case ({} builds), {:.0} MiB at the end ({} builds); peak {:.0} MiB, then {:.0} MiB. typst's memoized work older than 10 builds is dropped after each build.\n\n",
        rss_after as f64 / 1024.0,
        2 * reps + 1,
        rss_end as f64 / 1024.0,
        4 * reps + one_shot_reps + 1,
        peak as f64 / 1024.0,
        peak_end as f64 / 1024.0
    ));
    out.push_str("Rerun: `cargo bench --bench rebuild -- --write` (40 builds per case; a number among the arguments sets another count).\n\n");
    out.push_str(END);
    out.push('\n');
    print!("{out}");
    if write {
        let path = repo.join("BENCHMARKS.md");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (old.find(HEADING), old.find(END)) {
            (Some(a), Some(b)) if b > a => format!("{}{}{}", &old[..a], out, &old[b + END.len() + 1..]),
            _ => format!("{}\n{out}", old.trim_end()),
        };
        std::fs::write(&path, new).unwrap();
        eprintln!("updated {}", path.display());
    }
}
