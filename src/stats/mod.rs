//! The pooling core: every number metabook reports is computed here.
//!
//! This module is pure: it takes plain numbers (study summaries) and returns plain numbers
//! (effect sizes, pooled estimates, heterogeneity). It does no I/O and knows nothing about CSV,
//! JSON or Markdown, so it can be tested against reference values without files and reused by
//! every front end (`metabook pool`, analysis directives in a book).
//!
//! It reads like a textbook chapter, in the order an analysis runs:
//!
//! 1. [`effect`]: per-study effect sizes `(yi, vi)` — metafor's `escalc`, or RevMan 5's formulas.
//! 2. [`tau2`]: the between-study variance τ² by DL, HE, HS, SJ, ML, REML, EB or PM.
//! 3. [`inverse_variance`]: common-effect and random-effects pooling, Wald z or Knapp–Hartung,
//!    Q, I², H², the prediction interval and the Q-profile confidence intervals.
//! 4. [`mantel_haenszel`]: Mantel–Haenszel (OR, RR, RD) and Peto (OR) pooling of 2×2 tables.
//! 5. [`subgroup`]: the test for subgroup differences.
//! 6. [`analysis`]: the entry point that ties them together for one [`Spec`].
//! 7. [`small_study`]: Egger's and Begg's tests and trim-and-fill, with [`meta_regression`]
//!    on one moderator beneath Egger's test.
//! 8. [`sensitivity`]: leave-one-out, cumulative and influence analyses.
//! 9. [`absolute`]: what a pooled relative effect means in risks, for a summary of findings.
//!
//! Two conventions are supported and every result names the one it used: `metafor` (the
//! defaults of metafor 3.8, the reference implementation for most methodologists) and `revman5`
//! (Deeks & Higgins, *Statistical algorithms in Review Manager 5*, 2010), for reproducing reviews
//! that were analysed in RevMan 5.

pub mod absolute;
pub mod analysis;
pub mod dist;
pub mod effect;
pub mod error;
pub mod inverse_variance;
pub mod mantel_haenszel;
pub mod meta_regression;
pub mod sensitivity;
pub mod small_study;
pub mod spec;
pub mod subgroup;
pub mod tau2;

pub use analysis::{meta_analysis, Analysis, Pooled, StudyResult};
pub use effect::{EffectSize, StudyData};
pub use error::StatsError;
pub use spec::{Convention, IterControl, Measure, Method, Model, Spec, Test};
