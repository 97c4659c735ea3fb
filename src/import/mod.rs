//! Other tools' files turned into a metabook book: RevMan 5 reviews (`.rm5`).
//!
//! Two pure steps, so that both are tested without a disk: [`rm5::read`] takes the file's bytes
//! and returns a typed [`rm5::Review`] (or located diagnostics), and [`book::book`] turns the
//! review into the book's files in memory, with an import report of everything the book does
//! not show. Writing them is `metabook import`'s job ([`crate::cmd::import`]).

pub mod book;
pub mod rm5;
pub mod sof;
