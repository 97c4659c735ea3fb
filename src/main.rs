//! The `metabook` command: parse arguments, run a subcommand, print its output or its
//! diagnostics, and map the outcome to an exit code (0 success, 1 an error in the input,
//! 2 a usage error reported by the argument parser).

use clap::{Parser, Subcommand, ValueEnum};
use metabook::cmd::pool::{self, Format, PoolOptions};
use metabook::cmd::Output;
use metabook::diag;
use metabook::stats::IterControl;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "metabook", version, about = "A systematic review as one Markdown book: analyses, figures and text from the same numbers.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pool the studies of one CSV file and print the meta-analysis.
    Pool(PoolArgs),
    /// Build the book into its build folder: the site (book/html/), the PDF and the
    /// plain-language summary. Results whose inputs are unchanged come from the build cache
    /// (book/.metabook/cache/; delete it to compute everything again).
    Build {
        /// The book's folder (with book.toml).
        #[arg(long, default_value = ".")]
        book: PathBuf,
    },
    /// Build the book, then rebuild it whenever book.toml, the chapters, data or templates change.
    Watch {
        /// The book's folder (with book.toml).
        #[arg(long, default_value = ".")]
        book: PathBuf,
    },
    /// Serve the HTML site on 127.0.0.1, rebuilt on every change, open pages reloaded live.
    Serve {
        /// The book's folder (with book.toml).
        #[arg(long, default_value = ".")]
        book: PathBuf,
        /// The port (0: any free port; the address is printed).
        #[arg(long, default_value_t = 3000)]
        port: u16,
    },
    /// Start a new book in DIR (default: the current folder), which must be new or empty: a
    /// book.toml, a chapter with an analysis of invented example data and its forest plot.
    Init {
        /// The folder for the new book.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Import a RevMan 5 review (.rm5) as a new book: chapters, analyses, data, references,
    /// risk of bias; prints the import report (what the book does not show).
    Import {
        /// The RevMan 5 file.
        #[arg(value_name = "FILE.rm5")]
        file: PathBuf,
        /// The new book's folder (must not exist, or be empty).
        #[arg(long, value_name = "DIR")]
        into: PathBuf,
    },
    /// Load a book, parse its directives and run its analyses; report every problem.
    Check {
        /// The book's folder (with book.toml).
        #[arg(long, default_value = ".")]
        book: PathBuf,
    },
}

#[derive(clap::Args)]
struct PoolArgs {
    /// The CSV file (see the README for the accepted columns).
    #[arg(long, value_name = "FILE.csv")]
    data: PathBuf,
    /// Effect measure: MD, SMD, SMCR, ROM, OR, RR, RD, ZCOR or GEN.
    #[arg(long, value_name = "M")]
    measure: String,
    /// FE, MH, PETO, IV, or a random-effects estimator: DL, HE, HS, SJ, ML, REML, EB, PM.
    #[arg(long, default_value = "REML", value_name = "METHOD")]
    method: String,
    /// RevMan's effects model for MH and IV: fixed or random ("M-H, Random" needs
    /// --convention revman5; IV random is DerSimonian–Laird).
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// z (Wald) or knha (Knapp–Hartung).
    #[arg(long, default_value = "z")]
    test: String,
    /// Confidence level in percent (between 0 and 100).
    #[arg(long, default_value_t = 95.0, value_parser = level, allow_hyphen_values = true)]
    level: f64,
    /// Confidence level of each study's interval, in percent (default: --level).
    #[arg(long, value_parser = level, allow_hyphen_values = true)]
    study_level: Option<f64>,
    /// Generic effects (GEN) are log ratios (e.g. log hazard ratios): report them exponentiated.
    #[arg(long)]
    log_scale: bool,
    /// The effect's name in the output, e.g. "Hazard Ratio" (default: the measure's).
    #[arg(long, value_name = "NAME")]
    effect_name: Option<String>,
    /// Forest plot: which totals to draw: all, subtotals or none.
    #[arg(long, default_value = "all", value_name = "WHICH")]
    totals: String,
    /// Whose formulas to follow: metafor or revman5.
    #[arg(long, default_value = "metafor")]
    convention: String,
    /// text (RevMan-style), json (stable keys) or svg (the forest plot).
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Forest plot: the labels under the left and right side of the axis, e.g. "ITB,control".
    #[arg(long, value_name = "LEFT,RIGHT", value_delimiter = ',')]
    favours: Vec<String>,
    /// Forest plot: draw the prediction interval.
    #[arg(long)]
    prediction: bool,
    /// Pre–post correlation assumed for SMCR where the data have no `r` (reported as an assumption).
    #[arg(long, value_name = "R", allow_negative_numbers = true)]
    r: Option<f64>,
    /// Order the cumulative meta-analysis by this column of the data (e.g. year); default: the
    /// data's order.
    #[arg(long, value_name = "COLUMN")]
    cumulative_by: Option<String>,
    /// Iteration limit of the iterative tau² estimators (ML, REML, EB, PM); at least 1.
    #[arg(long, default_value_t = IterControl::default().max_iter, value_parser = max_iter, allow_hyphen_values = true)]
    max_iter: usize,
    /// Convergence threshold on the change in tau² (finite, > 0).
    #[arg(long, default_value_t = IterControl::default().threshold, value_parser = threshold, allow_hyphen_values = true)]
    threshold: f64,
    /// Fisher-scoring step length (0 < step ≤ 1).
    #[arg(long, default_value_t = IterControl::default().step, value_parser = step, allow_hyphen_values = true)]
    step: f64,
}

// The confidence level and the iteration controls are checked as they are parsed, so that a
// value out of range is a usage error (exit code 2) naming the flag and its range, as clap
// reports any other bad flag. The ranges are the core's ([`IterControl::check`], and
// `cmd::pool::spec` for the level), which refuses them too.

fn number(text: &str) -> Result<f64, String> {
    text.trim().parse::<f64>().map_err(|_| format!("`{text}` is not a number"))
}

fn step(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if IterControl::valid_step(x) {
        Ok(x)
    } else {
        Err(format!("the step must be {} (e.g. --step 0.5)", IterControl::STEP_RANGE))
    }
}

fn level(text: &str) -> Result<f64, String> {
    match number(text)? {
        x if x > 0.0 && x < 100.0 => Ok(x),
        _ => Err("the confidence level must be between 0 and 100 (e.g. --level 95)".to_string()),
    }
}

fn threshold(text: &str) -> Result<f64, String> {
    let x = number(text)?;
    if IterControl::valid_threshold(x) {
        Ok(x)
    } else {
        Err(format!("the threshold must be {} (e.g. --threshold 1e-10)", IterControl::THRESHOLD_RANGE))
    }
}

fn max_iter(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if IterControl::valid_max_iter(n) => Ok(n),
        _ => Err(format!("the iteration limit must be {} (e.g. --max-iter 1000)", IterControl::MAX_ITER_RANGE)),
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Svg,
}

/// glibc's allocator serves a large block from `mmap` (returned to the system when freed)
/// until a freed one raises its threshold, up to 32 MiB; then large blocks come from the
/// heaps of the threads that freed them, and what one thread frees (the site, the chapters,
/// before typesetting) the typesetting threads cannot use. The build's peak then depended on
/// which thread freed what: 242–245 MB for 400 forest plots, 264–279 MB for one of 10,000
/// studies, in four runs each. A fixed threshold of 256 KiB gave 235 and 257 MB every time,
/// no slower (BENCHMARKS.md, "Large reviews").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets a parameter of the allocator; called first thing in main,
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Init { dir } => metabook::cmd::init::run(&dir),
        Command::Check { book } => metabook::cmd::check::run(&book),
        Command::Import { file, into } => metabook::cmd::import::run(&file, &into),
        Command::Build { book } => metabook::cmd::build::run(&book),
        Command::Watch { book } => metabook::cmd::watch::run(&book),
        Command::Serve { book, port } => metabook::cmd::serve::run(&book, port),
        Command::Pool(a) => pool::run(&PoolOptions {
            data: a.data,
            measure: a.measure,
            method: a.method,
            model: a.model,
            test: a.test,
            level: a.level,
            study_level: a.study_level,
            log_scale: a.log_scale,
            effect_name: a.effect_name,
            totals: a.totals,
            convention: a.convention,
            format: match a.format {
                FormatArg::Text => Format::Text,
                FormatArg::Json => Format::Json,
                FormatArg::Svg => Format::Svg,
            },
            forest: metabook::render::forest::ForestOptions {
                favours: (a.favours.len() == 2).then(|| (a.favours[0].clone(), a.favours[1].clone())),
                prediction: a.prediction,
                groups: None,
                totals: Default::default(),
            },
            r: a.r,
            cumulative_by: a.cumulative_by,
            control: IterControl { threshold: a.threshold, max_iter: a.max_iter, step: a.step },
        })
        .map(Output::from),
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    match outcome {
        Ok(output) => {
            if !output.warnings.is_empty() {
                eprint!("{}", diag::render(&output.warnings, color));
            }
            let mut stdout = std::io::stdout().lock();
            if stdout.write_all(output.stdout.as_bytes()).and_then(|_| stdout.flush()).is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(diagnostics) => {
            eprint!("{}", diag::render(&diagnostics, color));
            ExitCode::from(1)
        }
    }
}
