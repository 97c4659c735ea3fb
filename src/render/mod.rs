//! The render phase: results into the forms people and programs read.
//!
//! - [`json`]: the public JSON interface of `metabook pool` (stable keys).
//! - [`text`]: a RevMan-style analysis for the terminal; [`revman`] its shared pieces.
//! - [`forest`]: the forest plot as SVG, used by both outputs; [`rob`] the risk-of-bias plots;
//!   [`prisma`] the PRISMA 2020 flow diagram; [`sof`] the GRADE summary of findings;
//!   [`funnel`] the funnel plot with the tests for small-study effects; [`sensitivity`] the
//!   leave-one-out, cumulative and influence analyses as tables and plots; [`svg`] the text
//!   layout these figures share.
//! - [`template`]: the templates an author writes (chapters, `page.html`, `pls.md`) run with
//!   limits on work and text, their errors located in the author's file.
//! - [`prose`]: inline values (`{{ name | effect }}`) in the chapters.
//! - [`chapter`]: a chapter made ready for any output: prose templated, directives as views.
//! - [`cite`]: citations, cross-references and the list of references, for the whole book.
//! - [`math`]: LaTeX formulas as Typst math and MathML, a whitelist so a formula never breaks a build.
//! - [`html`] and [`typst`]: the two outputs, the HTML site and the typeset PDF;
//!   [`typst_figure`] sets the figures in the PDF: their shapes as SVG, their text by Typst.
//! - [`changes`]: what moved since the previous build.

pub mod changes;
pub mod chapter;
pub mod cite;
pub mod docx;
pub mod forest;
pub mod funnel;
pub mod html;
pub mod json;
pub mod math;
pub mod prisma;
pub mod prose;
pub mod pls;
pub mod readability;
pub mod revman;
pub mod rob;
pub mod sensitivity;
pub mod sof;
pub mod svg;
pub mod template;
pub mod text;
pub mod typst;
pub mod typst_figure;
