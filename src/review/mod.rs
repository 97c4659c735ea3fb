//! Review content computed from results: what a book says about its analyses beyond the
//! analyses themselves. Pure: it takes loaded data and results and returns values and
//! diagnostics, which the chapter model ([`crate::render::chapter`]) turns into views.
//!
//! - [`revman`]: the book checks itself against the numbers RevMan 5 stored.

pub mod revman;
