//! The render phase: results into the forms people and programs read.
//!
//! - [`json`]: the public JSON interface of `metabook pool` (stable keys).
//! - [`text`]: a RevMan-style analysis for the terminal.

pub mod json;
pub mod text;
