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
//! The parts: `seeds.rs` (the seed books, built once, and the decoy beside each), `mutate/`
//! (the mutations and `tokens.rs`, their dictionaries), `book.rs` and `pool.rs` (one iteration
//! each), `run.rs` (metabook as a child process with a time and a memory limit), `oracle.rs`
//! (what counts as a finding, and what is allowed on purpose), `findings.rs` (deduplicated,
//! saved, reported).
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
//! `--timeout S` (per run, default 20), `--findings DIR`, `--kind book|pool|import` (only
//! that kind of iteration). The run fails if it finds anything.

mod book;
mod files;
mod findings;
mod import;
mod mutate;
mod oracle;
mod pool;
mod rng;
mod run;
mod seeds;
mod tokens;

use findings::Findings;
use rng::Rng;
use run::Outcome;
use seeds::SeedBook;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The seed of a run without `--seed` (issue 11 asked for this fuzzer).
const FIXED_SEED: u64 = 11;
/// The share of the iterations that are not `pool` runs that import a mutated RevMan file
/// (and build the book) instead of building a mutated book: about 5% of all, because an import
/// and the build of its book (PDF included) take ~0.4 s against ~0.05 s for a mutated book, and
/// the CI runs (1,000 iterations, 90 s at most) must stay within their time.
const IMPORT_SHARE: f64 = 0.06;
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
    /// Only this kind of iteration (`book`, `pool`, `import`), for a run that targets one.
    kind: Option<String>,
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
        kind: None,
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
            "--kind" => match value("--kind")?.as_str() {
                k @ ("book" | "pool" | "import") => o.kind = Some(k.to_string()),
                k => return Err(format!("--kind: `{k}` is not book, pool or import")),
            },
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
  --findings DIR  where findings are saved (default target/fuzz-findings)
  --kind K        only iterations of one kind: book, pool or import (the same draws as a
                  mixed run: an iteration of another kind is skipped, so replays still match)";

fn main() -> ExitCode {
    let options = match parse_options() {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Skip) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    oracle::self_check();
    mutate::rm5::self_check();
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
        rm5_seeds: import::rm5_seeds(),
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
        let kind = if rng.chance(0.2) {
            "pool"
        } else if rng.chance(IMPORT_SHARE) {
            "import"
        } else {
            "book"
        };
        match kind {
            _ if options.kind.as_deref().is_some_and(|k| k != kind) => {}
            "pool" => fuzzer.pool_iteration(&mut rng, iteration),
            "import" => fuzzer.import_iteration(&mut rng, iteration),
            _ => fuzzer.book_iteration(&mut rng, iteration),
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
        "fuzz: seed {}, iterations {}..{} in {elapsed:.1} s ({:.2}/s): {} builds, {} checks, {} pool runs, {} imports",
        options.seed,
        options.from,
        iteration,
        done as f64 / elapsed.max(1e-9),
        c.builds,
        c.checks,
        c.pools,
        c.imports
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
    imports: usize,
}

struct Fuzzer {
    exe: PathBuf,
    root: PathBuf,
    seed: u64,
    timeout: Duration,
    seeds: HashMap<&'static str, Result<Rc<SeedBook>, String>>,
    pool_csvs: Vec<(String, Vec<u8>)>,
    rm5_seeds: Vec<(&'static str, Vec<u8>)>,
    findings: Findings,
    pdftotext: bool,
    counts: Counts,
}

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
}
