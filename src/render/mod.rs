//! The render phase: results into the forms people and programs read.
//!
//! - [`json`]: the public JSON interface of `metabook pool` (stable keys).
//! - [`text`]: a RevMan-style analysis for the terminal.
//! - [`prose`]: inline values (`{{ name | effect }}`) in the chapters.

pub mod chapter;
pub mod forest;
pub mod html;
pub mod json;
pub mod prose;
pub mod revman;
pub mod text;
pub mod typst;
