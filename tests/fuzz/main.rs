//! metabook's own fuzzer, on stable Rust (`cargo fuzz` needs a nightly toolchain).
//!
//! Each iteration copies a seed book — the example review or a fixture book, built once so
//! that it has previous output — applies one to a few mutations (CSV cells and shape,
//! directive TOML, Markdown, book.toml, SUMMARY.md, templates, bibliography, symbolic links,
//! bytes; see `mutate/`), runs `metabook build` (sometimes `check`) on it as a child process,
//! and asks the oracles (`oracle.rs`) what went wrong. Some iterations run `metabook pool` on
//! a mutated CSV file with mutated flags instead. metabook runs as a separate process so that
//! a panic, an abort (a stack overflow), a hang or a runaway allocation is caught and the
//! harness goes on; the price is a process start per run, small beside a build.
//!
//! An iteration's mutations depend only on the seed and the iteration's number, so a finding
//! replays with `--seed S --from I --iterations 1`, and its mutated book is saved under
//! `target/fuzz-findings/` to build by hand.
//!
//! ```text
//! cargo test --test fuzz                                  # 4 iterations, fixed seed (plain `cargo test` runs this)
//! cargo test --release --test fuzz -- --seconds 3600      # an hour
//! cargo test --release --test fuzz -- --seconds 120 --seed 1234
//! ```
//! Options (after `--`): `--seconds N` (or `METABOOK_FUZZ_SECONDS`), `--seed N` (or
//! `METABOOK_FUZZ_SEED`), `--from I` (first iteration), `--iterations N` (at most),
//! `--timeout S` (per run, default 20), `--findings DIR`. The run fails if it finds anything.

mod files;
mod findings;
mod mutate;
mod oracle;
mod rng;
mod run;
mod seeds;
mod tokens;

use findings::{Context, Findings};
use mutate::Draft;
use oracle::Finding;
use rng::Rng;
use run::{Outcome, Status};
use seeds::SeedBook;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The seed of a run without `--seed` (issue 11 asked for this fuzzer).
const FIXED_SEED: u64 = 11;
/// A run without `--seconds` (a plain `cargo test`): this many iterations, the same on every
/// machine, so that it takes a few seconds and fails or passes alike everywhere...
const SHORT_RUN_ITERATIONS: u64 = 4;
/// ...and in any case stops after this long.
const SHORT_RUN_SECONDS: f64 = 60.0;

struct Options {
    seconds: f64,
    seed: u64,
    from: u64,
    iterations: Option<u64>,
    timeout: Duration,
    findings: PathBuf,
}

enum Parsed {
    Run(Options),
    /// `--list`, or a test-name filter that does not match `fuzz`.
    Skip,
}

fn parse_options() -> Result<Parsed, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut o = Options {
        seconds: env("METABOOK_FUZZ_SECONDS").map(|v| v.parse().map_err(|_| format!("METABOOK_FUZZ_SECONDS: not a number: {v}"))).transpose()?.unwrap_or(-1.0),
        seed: env("METABOOK_FUZZ_SEED").map_or(Ok(FIXED_SEED), |v| v.parse().map_err(|_| format!("METABOOK_FUZZ_SEED: not a number: {v}")))?,
        from: 0,
        iterations: None,
        timeout: Duration::from_secs(20),
        findings: Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp is in target/").join("fuzz-findings"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |s: String, name: &str| s.parse::<u64>().map_err(|_| format!("{name}: not a number: {s}"));
        match a.as_str() {
            "--seconds" => o.seconds = value("--seconds")?.parse().map_err(|_| "--seconds: not a number".to_string())?,
            "--help" => {
                println!("{}", HELP);
                return Ok(Parsed::Skip);
            }
            "--seed" => o.seed = number(value("--seed")?, "--seed")?,
            "--from" => o.from = number(value("--from")?, "--from")?,
            "--iterations" => o.iterations = Some(number(value("--iterations")?, "--iterations")?),
            "--timeout" => o.timeout = Duration::from_secs(number(value("--timeout")?, "--timeout")?),
            "--findings" => o.findings = PathBuf::from(value("--findings")?),
            "--list" => {
                println!("fuzz: test");
                return Ok(Parsed::Skip);
            }
            // libtest's own flags, which `cargo test -- …` passes to every test binary.
            flag if flag.starts_with('-') => {}
            filter if !"fuzz".contains(filter) => return Ok(Parsed::Skip),
            _ => {}
        }
    }
    if o.seconds < 0.0 {
        o.seconds = SHORT_RUN_SECONDS;
        o.iterations = o.iterations.or(Some(SHORT_RUN_ITERATIONS));
    }
    Ok(Parsed::Run(o))
}

const HELP: &str = "metabook's fuzzer. Options (after `cargo test [--release] --test fuzz --`):
  --seconds N     run for N seconds (env METABOOK_FUZZ_SECONDS; default: 4 iterations)
  --seed N        the run's seed (env METABOOK_FUZZ_SEED; default 11)
  --from I        start at iteration I (replay a finding: --seed S --from I --iterations 1)
  --iterations N  at most N iterations
  --timeout S     time limit of one run of metabook (default 20)
  --findings DIR  where findings are saved (default target/fuzz-findings)";

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Skip) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_metabook"));
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{}", std::process::id()));
    files::remove(&root);
    for dir in ["seeds", "iter", "logs"] {
        std::fs::create_dir_all(root.join(dir)).expect("the fuzzer's temporary folder");
    }
    println!(
        "fuzz: seed {}, {}, {} (per run: {} s, memory limited); findings go to {}",
        options.seed,
        options.iterations.map_or(format!("{} s", options.seconds), |n| format!("{n} iterations at most, {} s at most", options.seconds)),
        exe.display(),
        options.timeout.as_secs(),
        options.findings.display()
    );
    let mut fuzzer = Fuzzer {
        exe,
        root: root.clone(),
        seed: options.seed,
        timeout: options.timeout,
        seeds: HashMap::new(),
        pool_csvs: seeds::pool_csvs(),
        findings: Findings::new(options.findings.clone()),
        pdftotext: std::process::Command::new("pdftotext").arg("-v").output().is_ok(),
        counts: Counts::default(),
    };
    if !fuzzer.pdftotext {
        println!("fuzz: pdftotext not found, the PDFs' text is not checked (apt-get install poppler-utils)");
    }
    let start = Instant::now();
    let budget = Duration::from_secs_f64(options.seconds);
    let mut last_note = Instant::now();
    let mut iteration = options.from;
    while start.elapsed() < budget && options.iterations.is_none_or(|n| iteration < options.from + n) {
        let mut rng = Rng::for_iteration(options.seed, iteration);
        let began = Instant::now();
        if rng.chance(0.2) {
            fuzzer.pool_iteration(&mut rng, iteration);
        } else {
            fuzzer.book_iteration(&mut rng, iteration);
        }
        if began.elapsed() > options.timeout {
            println!("fuzz: iteration {iteration} took {:.1} s", began.elapsed().as_secs_f64());
        }
        iteration += 1;
        if last_note.elapsed() > Duration::from_secs(60) {
            last_note = Instant::now();
            println!("fuzz: {:.0} s, {} iterations, {} findings", start.elapsed().as_secs_f64(), iteration - options.from, fuzzer.findings.occurrences());
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let done = iteration - options.from;
    let c = &fuzzer.counts;
    println!(
        "fuzz: seed {}, iterations {}..{} in {elapsed:.1} s ({:.2}/s): {} builds, {} checks, {} pool runs",
        options.seed,
        options.from,
        iteration,
        done as f64 / elapsed.max(1e-9),
        c.builds,
        c.checks,
        c.pools
    );
    files::remove(&root);
    if fuzzer.findings.is_empty() {
        println!("fuzz: no findings");
        ExitCode::SUCCESS
    } else {
        println!("{}", fuzzer.findings.report());
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Counts {
    builds: usize,
    checks: usize,
    pools: usize,
}

struct Fuzzer {
    exe: PathBuf,
    root: PathBuf,
    seed: u64,
    timeout: Duration,
    seeds: HashMap<&'static str, Result<Rc<SeedBook>, String>>,
    pool_csvs: Vec<(String, Vec<u8>)>,
    findings: Findings,
    pdftotext: bool,
    counts: Counts,
}

/// How many mutations an iteration applies.
const MUTATION_COUNTS: &[(u32, usize)] = &[(5, 1), (3, 2), (2, 3), (1, 4), (1, 6)];

impl Fuzzer {
    fn run(&self, args: &[OsString], cwd: &Path) -> Outcome {
        run::run(&self.exe, args, cwd, &self.root.join("logs"), self.timeout)
    }

    /// A seed book, prepared on first use.
    fn seed_book(&mut self, name: &'static str) -> Result<Rc<SeedBook>, String> {
        if !self.seeds.contains_key(name) {
            let prepared = seeds::prepare(name, &self.root.join("seeds").join(name), &self.exe, self.timeout * 6).map(Rc::new);
            self.seeds.insert(name, prepared);
        }
        self.seeds[name].clone()
    }

    fn book_iteration(&mut self, rng: &mut Rng, iteration: u64) {
        let name = *rng.weighted(seeds::BOOKS);
        let root = self.root.clone();
        let seed = match self.seed_book(name) {
            Ok(s) => s,
            Err(why) => {
                let f = Finding { kind: "seed", message: format!("the seed book `{name}` does not build cleanly\n{why}") };
                let cx = Context { seed: self.seed, iteration, book: name, mutations: &[], command: "build", stderr: &why };
                self.findings.add(f, &cx, &|_| Ok(()));
                return;
            }
        };
        let mut draft = Draft::new(seed.inputs.clone(), seed.layout.clone(), root.display().to_string());
        for _ in 0..*rng.weighted(MUTATION_COUNTS) {
            mutate::mutate(rng, &mut draft);
        }
        let iter = root.join("iter");
        let book = iter.join("book");
        // A build folder out of the fuzzer's own folder would write into the real file system.
        if !build_dir(&draft, &book).0.starts_with(&root) {
            draft.files.insert("book.toml".into(), seed.inputs["book.toml"].clone());
            draft.log.push("(book.toml's edits undone: its build folder left the fuzzer's temporary folder)".into());
        }
        let command = if rng.chance(0.1) { "check" } else { "build" };
        materialise(&seed, &draft, &iter).expect("writing the mutated book");
        let canary_before = seeds::canary_digest(&seed);
        let (build_abs, build_rel) = build_dir(&draft, &book);
        let before = files::digest(&book);
        let args: Vec<OsString> = vec![command.into(), "--book".into(), book.clone().into()];
        let outcome = self.run(&args, &iter);
        match command {
            "check" => self.counts.checks += 1,
            _ => self.counts.builds += 1,
        }
        let after = files::digest(&book);
        let ops = {
            let mut ops = draft.ops.clone();
            ops.sort();
            ops.dedup();
            ops.join(", ")
        };
        let mut found = oracle::process(&outcome, &ops, false);
        let succeeded = outcome.code() == Some(0);
        let mut inputs: BTreeSet<String> = draft.files.keys().cloned().collect();
        inputs.extend(draft.symlinks.iter().map(|(p, _)| p.clone()));
        let changes = oracle::BookChanges { before: &before, after: &after, inputs: &inputs, build_dir: build_rel.as_deref() };
        if outcome.status != Status::TimedOut {
            found.extend(oracle::book_changes(&changes, command, succeeded));
        }
        // Nothing may appear beside the book, and the decoy must stay as it was.
        let strays: Vec<PathBuf> = files::names(&iter)
            .into_iter()
            .filter(|n| n != "book" && n != "canary")
            .map(|n| iter.join(n))
            .chain(files::names(&root).into_iter().filter(|n| !["seeds", "iter", "logs"].contains(&n.as_str())).map(|n| root.join(n)))
            .collect();
        let mut outside: Vec<String> = strays.iter().map(|p| format!("created {}", p.strip_prefix(&root).unwrap_or(p).display())).collect();
        for stray in &strays {
            files::remove(stray);
        }
        let canary_after = files::digest(&iter.join("canary"));
        for (path, h) in &canary_after {
            if canary_before.get(path) != Some(h) {
                outside.push(format!("wrote ../canary/{path}"));
            }
        }
        outside.extend(canary_before.keys().filter(|p| !canary_after.contains_key(*p)).map(|p| format!("deleted ../canary/{p}")));
        if !outside.is_empty() {
            // A build folder that is itself a link out of the book is told apart: whether
            // metabook should follow it is a decision, not an obvious bug.
            let linked = draft.symlinks.iter().any(|(p, _)| build_rel.as_deref() == Some(p.as_str()));
            let how = if linked { " through its build folder, a symbolic link out of the book" } else { "" };
            found.push(Finding { kind: oracle::WROTE_OUTSIDE, message: format!("`{command}` wrote outside the book folder{how}\n{}", outside.into_iter().take(8).collect::<Vec<_>>().join(", ")) });
        }
        let mut seen = format!("{}\n{}", outcome.stdout, outcome.stderr);
        if succeeded && command == "build" {
            found.extend(self.output_findings(&draft, &seed, &build_abs, &before, &outcome, &mut seen));
        }
        if seen.contains(mutate::files::CANARY) {
            found.push(Finding { kind: oracle::READ_OUTSIDE, message: format!("`{command}` showed a file from outside the book (after {ops})") });
        }
        let mut check_stderr = String::new();
        if command == "build" && outcome.code() == Some(1) {
            let check = self.run(&[OsString::from("check"), "--book".into(), book.clone().into()], &iter);
            self.counts.checks += 1;
            if check.code() == Some(0) {
                let first = outcome.stderr.lines().find(|l| l.starts_with("error")).unwrap_or("");
                found.push(Finding { kind: oracle::CHECK_PASSES, message: format!("`check` passes a book whose build fails with `{}`", oracle::normalise(first)) });
            }
            found.extend(oracle::process(&check, &ops, false).into_iter().filter(|f| f.kind != oracle::UNLOCATED));
            check_stderr = check.stderr;
        }
        let command_line = format!("metabook {command} --book <finding>/book");
        let stderr = if check_stderr.is_empty() { outcome.stderr.clone() } else { format!("{}\n(check:)\n{check_stderr}", outcome.stderr) };
        let cx = Context { seed: self.seed, iteration, book: name, mutations: &draft.log, command: &command_line, stderr: &stderr };
        for f in found {
            self.findings.add(f, &cx, &|dir| materialise(&seed, &draft, dir));
        }
    }

    /// What a successful build wrote: no NaN or infinity printed, no active content, no page
    /// lost, no duplicate column names accepted. Adds the pages' text to `seen`.
    fn output_findings(&self, draft: &Draft, seed: &SeedBook, build: &Path, before: &files::Digest, outcome: &Outcome, seen: &mut String) -> Vec<Finding> {
        let mut found = Vec::new();
        let html_dir = build.join("html");
        let mut pages = String::new();
        for name in files::names(&html_dir).into_iter().filter(|n| n.ends_with(".html")) {
            let html = std::fs::read_to_string(html_dir.join(&name)).unwrap_or_default();
            for what in oracle::active_content(&html) {
                found.push(Finding { kind: oracle::ACTIVE, message: format!("{what} in {}", page_kind(&name)) });
            }
            pages.push_str(&html);
        }
        let mut texts = vec![("a page".to_string(), pages.clone()), ("build's output".to_string(), outcome.stdout.clone())];
        texts.push(("changes.md".to_string(), std::fs::read_to_string(build.join("changes.md")).unwrap_or_default()));
        if self.pdftotext {
            // Only the PDFs this build typeset (pdftotext takes as long as a build).
            let rel = build.strip_prefix(self.root.join("iter/book")).ok().map(|r| files::relative(Path::new(""), r));
            let unchanged = |name: &str| {
                let key = rel.as_ref().map(|r| if r.is_empty() { name.to_string() } else { format!("{r}/{name}") });
                let now = std::fs::read(build.join(name)).map(|b| files::hash(&b)).ok();
                key.and_then(|k| before.get(&k).copied()) == now
            };
            for name in files::names(build).into_iter().filter(|n| n.ends_with(".pdf") && !unchanged(n)) {
                let pdf = run::run(Path::new("pdftotext"), &[build.join(&name).into(), "-".into()], build, &self.root.join("logs"), self.timeout);
                texts.push(("a PDF".to_string(), pdf.stdout));
            }
        }
        if !oracle::mentions_non_finite(&draft.all_text()) {
            for (place, text) in &texts {
                if let Some(context) = oracle::non_finite(text, place == "a PDF") {
                    found.push(Finding { kind: oracle::NON_FINITE, message: format!("NaN or infinity printed in {place}: …{}…", oracle::normalise(&context)) });
                }
            }
        }
        for (_, text) in &texts {
            seen.push_str(text);
        }
        // The navigation and chapters' words can be judged only with metabook's page template.
        let page_template = format!("{}/page.html", draft.layout.templates);
        if draft.files.get(&page_template) == seed.inputs.get(&page_template) {
            let index = std::fs::read_to_string(html_dir.join("index.html")).unwrap_or_default();
            let summary = draft.text(&draft.summary_path()).unwrap_or_default();
            let listed: Vec<(String, String)> = draft
                .page_marks
                .iter()
                .filter(|(chapter, _)| {
                    let rel = chapter.strip_prefix(&format!("{}/", draft.layout.src)).unwrap_or(chapter);
                    draft.files.contains_key(chapter) && summary.contains(&format!("]({rel})"))
                })
                .cloned()
                .collect();
            found.extend(oracle::lost_pages(&index, &pages, &listed));
        }
        for name in draft.analysis_data() {
            if let Some(dup) = draft.files.get(&draft.data_path(&name)).and_then(|b| mutate::csv::Table::parse(b)).and_then(|t| oracle::duplicate_columns(&t.header())) {
                found.push(Finding { kind: oracle::ACCEPTED, message: format!("a study file with two columns named `{dup}` was accepted by `build`") });
            }
        }
        found
    }

    fn pool_iteration(&mut self, rng: &mut Rng, iteration: u64) {
        let (name, bytes) = rng.pick(&self.pool_csvs).clone();
        let path = format!("data/{name}");
        let layout = mutate::Layout { src: "report".into(), data: "data".into(), templates: "templates".into() };
        let mut draft = Draft::new([(path.clone(), bytes)].into_iter().collect(), layout, self.root.display().to_string());
        for _ in 0..rng.below(4) {
            let what = match rng.below(10) {
                0..=4 => mutate::csv::cell(rng, &mut draft),
                5..=7 => mutate::csv::structure(rng, &mut draft),
                _ => mutate::csv::spreads(rng, &mut draft, &path),
            };
            if let Some(w) = what {
                draft.log.push(w);
            }
        }
        let data = draft.files[&path].clone();
        let table = mutate::csv::Table::parse(&data);
        let header = table.as_ref().map(|t| t.header()).unwrap_or_default();
        let (flags, doubtful) = pool_flags(rng, &header);
        let dir = self.root.join("iter");
        files::remove(&dir);
        std::fs::create_dir_all(&dir).expect("the iteration's folder");
        std::fs::write(dir.join(&name), &data).expect("the CSV file");
        let mut args: Vec<OsString> = vec!["pool".into(), "--data".into(), name.clone().into()];
        args.extend(flags.iter().map(OsString::from));
        let outcome = self.run(&args, &dir);
        self.counts.pools += 1;
        let ops = format!("pool {}", flags.iter().filter(|f| f.starts_with("--")).cloned().collect::<Vec<_>>().join(" "));
        let mut found = oracle::process(&outcome, &ops, true);
        if outcome.code() == Some(0) {
            let format = flags.iter().position(|f| f == "--format").map_or("text", |i| flags[i + 1].as_str());
            if format != "json" && !oracle::mentions_non_finite(&String::from_utf8_lossy(&data)) {
                if let Some(context) = oracle::non_finite(&outcome.stdout, false) {
                    found.push(Finding { kind: oracle::NON_FINITE, message: format!("NaN or infinity printed by `pool --format {format}`: …{}…", oracle::normalise(&context)) });
                }
            }
            if format == "svg" {
                for what in oracle::active_content(&outcome.stdout) {
                    found.push(Finding { kind: oracle::ACTIVE, message: format!("{what} in `pool --format svg`") });
                }
            }
            if format == "json" {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&outcome.stdout) {
                    for key in ["estimate", "se", "ci_lower", "ci_upper"] {
                        if json.get(key).is_some_and(|v| v.is_null()) {
                            found.push(Finding { kind: oracle::ACCEPTED, message: format!("`pool` exits 0 with a null `{key}`") });
                        }
                    }
                }
            }
            if let Some(dup) = oracle::duplicate_columns(&header) {
                found.push(Finding { kind: oracle::ACCEPTED, message: format!("a study file with two columns named `{}` was accepted by `pool`", oracle::normalise(&dup)) });
            }
            for d in doubtful {
                found.push(Finding { kind: oracle::ACCEPTED, message: format!("`pool` accepted {d}") });
            }
        }
        let quoted: Vec<String> = args.iter().map(|a| shell_quote(&a.to_string_lossy())).collect();
        let command = format!("metabook {}", quoted.join(" "));
        let cx = Context { seed: self.seed, iteration, book: &name, mutations: &draft.log, command: &command, stderr: &outcome.stderr };
        for f in found {
            self.findings.add(f, &cx, &|dir| {
                std::fs::write(dir.join(&name), &data)?;
                std::fs::write(dir.join("replay.sh"), format!("#!/bin/sh\n# from this folder\n{command}\n"))
            });
        }
    }
}

/// Flags for `pool`: a measure that fits the columns most of the time, and the other options
/// now and then, with values from the edges of their ranges. Also says which of the values
/// drawn are outside the option's documented range (which `pool` must refuse).
fn pool_flags(rng: &mut Rng, header: &[String]) -> (Vec<String>, Vec<String>) {
    let mut flags = Vec::new();
    let mut doubtful = Vec::new();
    let measure = *if rng.chance(0.85) { rng.pick(mutate::csv::measures_for(header)) } else { rng.pick(tokens::MEASURES) };
    flags.extend(["--measure".to_string(), measure.to_string()]);
    let mut method = "REML";
    if rng.chance(0.6) {
        method = *rng.pick(tokens::METHODS);
        flags.extend(["--method".to_string(), method.to_string()]);
    }
    if rng.chance(0.3) {
        flags.extend(["--test".to_string(), rng.pick(tokens::TESTS).to_string()]);
    }
    if rng.chance(0.3) {
        flags.extend(["--convention".to_string(), rng.pick(tokens::CONVENTIONS).to_string()]);
    }
    flags.extend(["--format".to_string(), rng.pick(&["text", "json", "json", "svg"]).to_string()]);
    let iterative = ["REML", "ML", "EB", "PM"].contains(&method);
    // (flag, values, whether a value is in range, whether the range matters for this run)
    type InRange = fn(f64) -> bool;
    let numeric: [(&str, &[&str], InRange, bool); 5] = [
        ("--level", &["95", "90", "0", "100", "-5", "NaN", "inf", "1e-300", "99.9999999"], |v| v > 0.0 && v < 100.0, true),
        ("--step", &["1", "0.5", "0", "-1", "NaN", "inf", "2", "1e-300"], |v| v > 0.0 && v <= 1.0, iterative),
        ("--threshold", &["1e-12", "0", "-1", "NaN", "inf", "1"], |v| v > 0.0 && v.is_finite(), iterative),
        ("--max-iter", &["1000", "0", "1", "2", "100000"], |v| v >= 1.0, iterative),
        ("--r", &["0.5", "0", "-0.99", "1", "-1", "2", "NaN"], |v| v > -1.0 && v < 1.0, measure == "SMCR"),
    ];
    for (flag, values, in_range, matters) in numeric {
        if rng.chance(0.15) {
            let v = *rng.pick(values);
            flags.extend([flag.to_string(), v.to_string()]);
            if matters && v.parse::<f64>().is_ok_and(|x| !in_range(x)) {
                doubtful.push(format!("{flag} {v}"));
            }
        }
    }
    if rng.chance(0.15) {
        let mut columns: Vec<String> = header.to_vec();
        columns.extend(["nope".to_string(), String::new()]);
        flags.extend(["--cumulative-by".to_string(), rng.pick(&columns).clone()]);
    }
    if rng.chance(0.2) {
        flags.extend(["--favours".to_string(), format!("{},{}", rng.pick(tokens::TEXT), rng.pick(tokens::TEXT))]);
    }
    if rng.chance(0.2) {
        flags.push("--prediction".to_string());
    }
    (flags, doubtful)
}

/// The build folder a (mutated) book.toml names: absolute, and relative to the book when inside it.
fn build_dir(draft: &Draft, book: &Path) -> (PathBuf, Option<String>) {
    let value: Option<toml::Value> = draft.text("book.toml").and_then(|t| toml::from_str(&t).ok());
    let dir = value.as_ref().and_then(|v| v.get("build")).and_then(|b| b.get("build-dir")).and_then(|d| d.as_str()).unwrap_or("book").to_string();
    let abs = files::resolve(book, &dir);
    let rel = abs.strip_prefix(book).ok().map(|r| files::relative(Path::new(""), r));
    (abs, rel)
}

/// Lay out the seed's built book with the draft's changes in `dir/book`, and the decoy in
/// `dir/canary`.
fn materialise(seed: &SeedBook, draft: &Draft, dir: &Path) -> std::io::Result<()> {
    files::remove(dir);
    let book = dir.join("book");
    files::copy_dir(&seed.dir.join("book"), &book)?;
    files::copy_dir(&seed.dir.join("canary"), &dir.join("canary"))?;
    for path in seed.inputs.keys().filter(|p| !draft.files.contains_key(*p)) {
        files::remove(&book.join(path));
    }
    for (path, bytes) in &draft.files {
        if seed.inputs.get(path) != Some(bytes) {
            let target = book.join(path);
            if let Some(parent) = target.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(target, bytes);
        }
    }
    for (path, target) in &draft.symlinks {
        let at = book.join(path);
        files::remove(&at);
        if let Some(parent) = at.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        std::os::unix::fs::symlink(target, &at)?;
    }
    Ok(())
}

/// What a page is, for a finding's first line: the plain-language summary, the index or a chapter.
fn page_kind(name: &str) -> &'static str {
    match name {
        "index.html" => "the index page",
        "plain-language-summary.html" => "the plain-language summary",
        _ => "a chapter page",
    }
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
