//! metabook: a systematic review written as one Markdown book, analysed and typeset in one go.
//!
//! Work flows through four phases, visible in the module tree:
//!
//! 1. **load** — read the inputs: [`data`] turns CSV files into typed, checked study rows
//!    (every cell remembers its file, line and column for [`diag`]nostics).
//! 2. **parse** — [`book`] loads `book.toml` ([`config`]) and the chapters listed in
//!    `SUMMARY.md`; [`directive`] finds the `metabook` directives in each chapter, with the
//!    position of every key.
//! 3. **execute** — [`engine`] runs each analysis (from `metabook pool` or an `analysis`
//!    directive) once through the pure pooling core, [`stats`], which does no I/O and is
//!    checked against metafor's numbers.
//! 4. **render** — [`render`] presents results: JSON and RevMan-style text for `metabook pool`;
//!    for a book, the figures (forest, funnel, risk of bias, PRISMA) as SVG, the tables, the
//!    GRADE summary of findings, citations, the plain-language summary, and the two outputs,
//!    HTML and Typst/PDF — with every number formatted in one place, [`format`]. [`output`] is
//!    the only place that writes files. [`review`] holds what is computed from the results for
//!    the chapters beyond the analyses (the book checked against RevMan's stored numbers).
//!
//! Between builds, [`cache`] keeps each directive's result under a hash of its inputs, so a
//! rebuild runs only what an edit reached.
//!
//! Beside the pipeline, [`import`] turns another tool's review (a RevMan 5 `.rm5` file) into a
//! new book: read into a typed model, then written out as book.toml, chapters and data files.
//!
//! The command-line front end lives in [`cmd`] (pool, init, check, build, watch, serve, import);
//! `main.rs` only parses arguments and maps outcomes to exit codes.

pub mod book;
pub mod cache;
pub mod cmd;
pub mod config;
pub mod data;
pub mod diag;
pub mod directive;
pub mod engine;
pub mod format;
pub mod import;
pub mod output;
pub mod render;
pub mod review;
pub mod stats;
