//! The templates an author writes — the chapters, `page.html`, `pls.md` — run with limits,
//! and their mistakes are reported in the author's file.
//!
//! A template is a small program, and a book may come from anyone (a pull request that CI
//! builds, an example downloaded from the web): two nested `range(100000)` loops run for half an
//! hour, and `{{ "a" * 100000000 }}` writes 100 MB that Markdown, HTML and Typst turn into
//! gigabytes. So every template runs on a budget of [`FUEL`] steps (minijinja's own `fuel`
//! feature counts its instructions), writes at most a fixed amount of text, and the built-in
//! filters that walk a whole sequence or build a text refuse inputs beyond [`MAX_ITEMS`] items
//! or [`MAX_TEXT`] bytes. Crossing a limit is an error at the loop or expression that crossed it.
//!
//! minijinja has no hook for its operators, so they are bounded only as minijinja bounds them:
//! `*` repeats a text up to 100 MB (its own cap) and a sequence lazily without a cap; `~` and `+`
//! join texts of any length, so a chain of joins can double a text at every step; `in` and `==`
//! walk a lazily repeated sequence without spending fuel. The fuel bounds how many such
//! operations run, not how large their values grow; for the time one of them takes there is a
//! watchdog ([`SECONDS`]): a render still running after that long ends the process with an
//! error naming the template. Nothing is lost: a build writes nothing until every output is
//! made, and templates run before that.
//!
//! Errors come with minijinja's byte range (or line) in the text rendered. [`Spliced`] maps that
//! text back to the author's file where metabook changed it first (a chapter's directive blocks
//! are replaced by placeholders), and [`Failure::diagnostic`] locates the error there.

use crate::diag::{Diagnostic, Source};
use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, HtmlEscape, Output, State, UndefinedBehavior};
use std::collections::BTreeMap;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Steps (minijinja instructions) one rendering may take. The example review's chapters take
/// 74 together, and a chapter that lists the 400 studies of an analysis in a loop and prints
/// 300 values 9,005 (`tests/hostile_templates.rs` measures both); 20 million is two thousand times
/// that, and runs out in about a second.
pub const FUEL: u64 = 20_000_000;

/// Seconds one render may run before the watchdog ends the process. The fuel runs out in about
/// a second (3 s in a debug build), so only what fuel does not count — `-1 in range(100000) *
/// 1000000` walks 10¹¹ items in one step — lasts this long; it is under the fuzzer's 20 s limit
/// per run, so that a fuzzer finding is the watchdog's error, not a hang.
pub const SECONDS: u64 = 15;

/// Bytes of text a chapter or the plain-language summary may write, and the longest text a
/// filter may take or make. A whole review is well under 1 MB of Markdown; what a template
/// writes goes on to Markdown, HTML and Typst, and 4 MB of text take Typst about 12 s and
/// 1.3 GB to set (16 MB: 5 GB).
pub const MAX_TEXT: usize = 4 << 20;

/// Bytes of templated Markdown all chapters of a book may have together (the PDF sets them
/// all).
pub const MAX_BOOK: usize = 2 * MAX_TEXT;

/// Bytes a page of the site may have: a chapter's HTML and the page template around it.
pub const MAX_PAGE: usize = 4 * MAX_TEXT;

/// Items of a sequence a filter may take (the size of minijinja's largest `range`).
pub const MAX_ITEMS: usize = 100_000;

/// How values printed by `{{ … }}` are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// For Markdown ([`super::prose::escape_markdown`]): the value reads as exactly its text.
    Markdown,
    /// As minijinja escapes by the template's name: HTML for `*.html`, nothing otherwise.
    ByName,
}

/// A minijinja environment with metabook's limits, and the count of what the render under way
/// has written. One render at a time: the count is the environment's.
pub struct Engine {
    env: Environment<'static>,
    limit: usize,
    counts: Arc<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Bytes the render has written to its output.
    written: AtomicUsize,
    /// Bytes the formatter has printed, also where a `{% set %}` block or a macro captures them.
    formatted: AtomicUsize,
    /// Whether the render crossed the text limit.
    crossed: AtomicBool,
    /// Fuel the last render took.
    fuel: AtomicU64,
}

impl Engine {
    /// An environment with strict undefined values, fuel, the guarded filters and a formatter
    /// that escapes by `escape` and prints at most what is left of `limit` bytes.
    pub fn new(escape: Escape, limit: usize) -> Engine {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        let counts = Arc::new(Counts::default());
        let seen = Arc::clone(&counts);
        env.set_formatter(move |out, state, value| {
            let used = seen.written.load(Ordering::Relaxed).max(seen.formatted.load(Ordering::Relaxed));
            let mut sink = Sink { out, room: limit.saturating_sub(used), used: 0, crossed: false };
            let result = print(&mut sink, state, value, escape);
            seen.formatted.fetch_add(sink.used, Ordering::Relaxed);
            if sink.crossed {
                seen.crossed.store(true, Ordering::Relaxed);
                return Err(Error::new(ErrorKind::InvalidOperation, format!("the text would be longer than {}", megabytes(limit))));
            }
            result
        });
        guard_builtins(&mut env);
        Engine { env, limit, counts }
    }

    /// The environment, to add filters and settings.
    pub fn env_mut(&mut self) -> &mut Environment<'static> {
        &mut self.env
    }

    /// Fuel (steps) the last render took.
    pub fn fuel_used(&self) -> u64 {
        self.counts.fuel.load(Ordering::Relaxed)
    }

    /// Render `text` (a template named `name`, whose extension picks the escaping of
    /// [`Escape::ByName`]) with `context`.
    pub fn render<S: serde::Serialize>(&self, name: &str, text: &str, context: S) -> Result<String, Failure> {
        for count in [&self.counts.written, &self.counts.formatted] {
            count.store(0, Ordering::Relaxed);
        }
        self.counts.crossed.store(false, Ordering::Relaxed);
        self.counts.fuel.store(0, Ordering::Relaxed);
        let template = self.env.template_from_named_str(name, text).map_err(|error| Failure::new(error, text, None, Crossed::Nothing))?;
        let _watched = Watched::start(name);
        let mut out = Capped { text: Vec::new(), limit: self.limit, written: &self.counts.written, overflow: None };
        let rendered = template.render_captured_to(context, &mut out);
        let (text_out, overflow) = (out.text, out.overflow);
        match rendered {
            Ok(captured) => {
                self.counts.fuel.store(captured.state().fuel_levels().map_or(0, |(used, _)| used), Ordering::Relaxed);
                Ok(String::from_utf8(text_out).expect("minijinja writes UTF-8"))
            }
            Err(error) => {
                let crossed = if error.kind() == ErrorKind::OutOfFuel {
                    self.counts.fuel.store(FUEL, Ordering::Relaxed);
                    Crossed::Fuel
                } else if overflow.is_some() || self.counts.crossed.load(Ordering::Relaxed) {
                    Crossed::Text(self.limit)
                } else {
                    Crossed::Nothing
                };
                Err(Failure::new(error, text, overflow.as_deref(), crossed))
            }
        }
    }
}

/// A render under way, known to the watchdog until it is dropped.
struct Watched(u64);

/// The renders under way (by number): the template's name and when it started.
static RUNNING: Mutex<BTreeMap<u64, (String, Instant)>> = Mutex::new(BTreeMap::new());

impl Watched {
    fn start(name: &str) -> Watched {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        static WATCHDOG: OnceLock<()> = OnceLock::new();
        WATCHDOG.get_or_init(|| {
            std::thread::Builder::new().name("template watchdog".into()).spawn(watchdog).expect("a thread for the template watchdog");
        });
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).insert(id, (name.to_string(), Instant::now()));
        Watched(id)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        RUNNING.lock().unwrap_or_else(|e| e.into_inner()).remove(&self.0);
    }
}

/// Every quarter of a second, end the process if a render has run longer than [`SECONDS`]: a
/// thread cannot be stopped from outside, and the operations that run that long cannot be
/// interrupted from inside.
fn watchdog() {
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let overdue = RUNNING.lock().unwrap_or_else(|e| e.into_inner()).values().find(|(_, started)| started.elapsed() > Duration::from_secs(SECONDS)).map(|(name, _)| name.clone());
        if let Some(name) = overdue {
            let error = Diagnostic::error(format!("the template of {name} ran for more than {SECONDS} s and was stopped"))
                .hint("a test with `in` or `==` on a repeated sequence (`x in range(1000) * 1000000`) walks every item in one step, which the step limit does not count; test on the sequence itself")
                .hint("nothing was written; the previous output is as it was");
            eprint!("{}", crate::diag::render(&[error], false));
            std::process::exit(1);
        }
    }
}

/// "4 MB".
pub fn megabytes(bytes: usize) -> String {
    format!("{} MB", bytes >> 20)
}

/// The render's output, refusing to grow past `limit`. minijinja writes a template's own text
/// straight here (only printed values pass the formatter), so this is where a loop repeating
/// plain text is stopped; the text that crossed is kept to find it in the template.
struct Capped<'a> {
    text: Vec<u8>,
    limit: usize,
    written: &'a AtomicUsize,
    overflow: Option<String>,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.text.len() + bytes.len() > self.limit {
            let piece = String::from_utf8_lossy(bytes);
            self.overflow = Some(piece.chars().take(200).collect());
            return Err(std::io::Error::other("the text limit is reached"));
        }
        self.text.extend_from_slice(bytes);
        self.written.store(self.text.len(), Ordering::Relaxed);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Where printed text goes: the render's output, with `room` bytes left.
struct Sink<'o, 'p> {
    out: &'o mut Output<'p>,
    room: usize,
    used: usize,
    crossed: bool,
}

impl fmt::Write for Sink<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.used + s.len() > self.room {
            self.crossed = true;
            return Err(fmt::Error);
        }
        self.used += s.len();
        self.out.write_str(s)
    }
}

/// A value's text streamed through its escaping into a [`Sink`]: nothing is built in full
/// first, so a value larger than the room left (a 100 MB string, a sequence of a billion items)
/// stops at the limit instead of being copied.
struct Escaping<'s, 'o, 'p> {
    sink: &'s mut Sink<'o, 'p>,
    html: bool,
}

impl fmt::Write for Escaping<'_, '_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.html {
            return write!(self.sink, "{}", HtmlEscape(s));
        }
        self.sink.write_str(s)
    }
}

/// Print one value, escaped as the template's language wants.
fn print(sink: &mut Sink<'_, '_>, state: &State, value: &Value, escape: Escape) -> Result<(), Error> {
    let (html, markdown) = match (value.is_safe(), escape) {
        (true, _) => (false, false),
        (false, Escape::Markdown) => (false, true),
        (false, Escape::ByName) => match state.auto_escape() {
            AutoEscape::None => (false, false),
            AutoEscape::Html => (true, false),
            // Short values, and the error for an unknown escaping: minijinja's own.
            _ => return minijinja::escape_formatter(sink.out, state, value),
        },
    };
    let written = if markdown { write!(super::prose::MarkdownText::new(sink), "{value}") } else { write!(Escaping { sink, html }, "{value}") };
    written.map_err(|_| Error::new(ErrorKind::WriteFailure, "the value could not be written"))
}

/// Which limit a render crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossed {
    Nothing,
    Fuel,
    /// The text limit, in bytes.
    Text(usize),
}

/// A template that could not be rendered: minijinja's error, where it happened in the text
/// rendered, and the limit it crossed, if any.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    /// The byte range in the text rendered.
    pub span: Range<usize>,
    pub crossed: Crossed,
}

impl Failure {
    fn new(error: Error, text: &str, overflow: Option<&str>, crossed: Crossed) -> Failure {
        let line_start = |line: usize| text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum::<usize>();
        let span = match (error.range(), error.line(), overflow) {
            (Some(range), _, _) => range,
            // A template's own text was written past the limit: it is in the template.
            (None, _, Some(piece)) if !piece.trim().is_empty() => text.find(piece.trim()).map_or(0..0, |at| at..at + piece.trim().len()),
            (None, Some(line), _) => line_start(line)..line_start(line),
            _ => 0..0,
        };
        let span = span.start.min(text.len())..span.end.min(text.len()).max(span.start.min(text.len()));
        Failure { error, span, crossed }
    }

    /// What went wrong, in the user's words (minijinja's kind and detail for template errors).
    pub fn message(&self, what: &str) -> String {
        match self.crossed {
            Crossed::Fuel => format!("{what} takes too many steps: it was stopped after {}", crate::format::count(FUEL)),
            Crossed::Text(limit) => format!("{what} would be longer than {}", megabytes(limit)),
            Crossed::Nothing => match self.error.detail() {
                Some(detail) => format!("{}: {detail}", self.error.kind()),
                None => self.error.kind().to_string(),
            },
        }
    }

    /// The place in `source` to point at, given the span in `source` that [`Failure::span`]
    /// maps to: for a loop that ran out of fuel, the outermost loop around it.
    pub fn widen(&self, source: &Source, span: Range<usize>) -> (Range<usize>, &'static str) {
        if self.crossed == Crossed::Fuel {
            if let Some(tag) = outermost_loop(&source.text, span.start) {
                return (tag, "this loop");
            }
        }
        (span, "here")
    }

    /// The diagnostic, located at `span` of `source` (the author's file; `span` is
    /// [`Failure::span`] mapped there), with a hint for the limits.
    pub fn diagnostic(&self, source: &Arc<Source>, span: Range<usize>, what: &str) -> Diagnostic {
        let (span, label) = self.widen(source, span);
        let d = Diagnostic::error(self.message(what)).at(source, span, label);
        match self.crossed {
            Crossed::Fuel => d.hint(format!(
                "metabook stops a template after {} steps, so that a mistake cannot hang a build; a loop over an analysis' studies takes a few hundred: is a loop nested in another, or over a large `range()`?",
                crate::format::count(FUEL)
            )),
            Crossed::Text(limit) => d.hint(format!(
                "a loop or a repeated text (`\"a\" * n`) writes too much; metabook stops at {} so that a mistake cannot fill the memory (a whole review is well under 1 MB)",
                megabytes(limit)
            )),
            Crossed::Nothing => d,
        }
    }
}

/// The `{% for … %}` tag of the outermost loop open at `offset` of a template's text (a tag
/// starting at `offset` counts: minijinja may point at it).
fn outermost_loop(text: &str, offset: usize) -> Option<Range<usize>> {
    let mut open: Vec<Range<usize>> = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find("{%").map(|i| at + i).filter(|start| *start <= offset) {
        let Some(end) = text[start..].find("%}").map(|i| start + i + 2) else { break };
        let inner = text[start + 2..end - 2].trim_matches(|c: char| c == '-' || c == '+' || c.is_whitespace());
        match inner.split_whitespace().next().unwrap_or("") {
            "for" => open.push(start..end),
            "endfor" => {
                open.pop();
            }
            _ => {}
        }
        at = end;
    }
    open.into_iter().next()
}

/// A template's text as metabook renders it — the author's file with some ranges replaced —
/// and where each part of it stands in the author's file.
#[derive(Debug, Clone)]
pub struct Spliced {
    pub text: String,
    /// (start in `text`, the range of the author's file it comes from, copied as it is).
    parts: Vec<(usize, Range<usize>, bool)>,
}

impl Spliced {
    /// `source` with each of `replacements` (ranges of `source`, in order, not overlapping)
    /// replaced by its text.
    pub fn new(source: &str, replacements: impl IntoIterator<Item = (Range<usize>, String)>) -> Spliced {
        let mut text = String::with_capacity(source.len());
        let mut parts = Vec::new();
        let mut at = 0;
        for (range, with) in replacements {
            parts.push((text.len(), at..range.start, true));
            text.push_str(&source[at..range.start]);
            parts.push((text.len(), range.clone(), false));
            text.push_str(&with);
            at = range.end;
        }
        parts.push((text.len(), at..source.len(), true));
        text.push_str(&source[at..]);
        Spliced { text, parts }
    }

    /// The author's file as it is.
    pub fn verbatim(source: &str) -> Spliced {
        Spliced::new(source, [])
    }

    /// A byte range of [`Spliced::text`] in the author's file: a replaced part stands for the
    /// whole range it replaced.
    pub fn to_source(&self, range: Range<usize>) -> Range<usize> {
        let point = |offset: usize, end: bool| {
            let i = self.parts.partition_point(|(start, _, _)| *start <= offset).saturating_sub(1);
            let (start, from, copied) = &self.parts[i];
            match (copied, end) {
                (true, _) => (from.start + (offset - start)).min(from.end),
                (false, false) => from.start,
                (false, true) => from.end,
            }
        };
        let start = point(range.start, false);
        start..point(range.end, true).max(start)
    }
}

/// The built-in filters that walk a whole sequence or build a text, each behind a check of the
/// size of its arguments: a lazily repeated sequence (`range(100000) * 100000`) has ten billion
/// items, and `list` would allocate them all in one step, which no fuel counts.
fn guard_builtins(env: &mut Environment<'static>) {
    use minijinja::filters as f;
    let walking: [(&str, Value); 25] = [
        ("list", Value::from_function(f::list)),
        ("length", Value::from_function(f::length)),
        ("count", Value::from_function(f::length)),
        ("dictsort", Value::from_function(f::dictsort)),
        ("items", Value::from_function(f::items)),
        ("reverse", Value::from_function(f::reverse)),
        ("last", Value::from_function(f::last)),
        ("min", Value::from_function(f::min)),
        ("max", Value::from_function(f::max)),
        ("sort", Value::from_function(f::sort)),
        ("sum", Value::from_function(f::sum)),
        ("unique", Value::from_function(f::unique)),
        ("map", Value::from_function(f::map)),
        ("select", Value::from_function(f::select)),
        ("reject", Value::from_function(f::reject)),
        ("selectattr", Value::from_function(f::selectattr)),
        ("rejectattr", Value::from_function(f::rejectattr)),
        ("groupby", Value::from_function(f::groupby)),
        ("chain", Value::from_function(f::chain)),
        ("zip", Value::from_function(f::zip)),
        ("title", Value::from_function(f::title)),
        ("upper", Value::from_function(f::upper)),
        ("lower", Value::from_function(f::lower)),
        ("capitalize", Value::from_function(f::capitalize)),
        ("trim", Value::from_function(f::trim)),
    ];
    for (name, filter) in walking {
        env.add_filter(name, guarded(filter, |_| Ok(())));
    }
    env.add_filter("join", guarded(Value::from_function(f::join), check_join));
    env.add_filter("string", guarded(Value::from_function(f::string), |args| check_printed(&args[0], false)));
    env.add_filter("pprint", guarded(Value::from_function(f::pprint), |args| check_printed(&args[0], true)));
    env.add_filter("replace", guarded(Value::from_function(f::replace), check_replace));
    env.add_filter("indent", guarded(Value::from_function(f::indent), check_indent));
    env.add_filter("split", guarded(Value::from_function(f::split), check_split));
    env.add_filter("lines", guarded(Value::from_function(f::lines), check_split));
    env.add_filter("batch", guarded(Value::from_function(f::batch), check_count));
    env.add_filter("slice", guarded(Value::from_function(f::slice), check_count));
    env.add_filter("format", guarded(Value::from_function(f::format), check_format));
    let escape = guarded(Value::from_function(f::escape), |_| Ok(()));
    env.add_filter("escape", escape.clone());
    env.add_filter("e", escape);
    env.add_test("in", guarded(Value::from_function(minijinja::tests::is_in), |_| Ok(())));
}

/// A filter that checks every argument's size ([`check_size`]), then `check`, then runs the
/// built-in `filter`.
fn guarded(filter: Value, check: fn(&[Value]) -> Result<(), Error>) -> impl Fn(&State, Rest<Value>) -> Result<Value, Error> + Clone + Send + Sync + 'static {
    move |state: &State, args: Rest<Value>| {
        for arg in args.iter() {
            check_size(arg)?;
        }
        check(&args)?;
        filter.call(state, &args)
    }
}

fn too_large(what: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, what)
}

/// A text of at most [`MAX_TEXT`] bytes, a sequence or map of at most [`MAX_ITEMS`] items.
fn check_size(value: &Value) -> Result<(), Error> {
    if let Some(s) = value.as_str() {
        if s.len() > MAX_TEXT {
            return Err(too_large(format!("a text of {} bytes is longer than the {} a filter takes", s.len(), megabytes(MAX_TEXT))));
        }
        return Ok(());
    }
    if !matches!(value.kind(), ValueKind::Seq | ValueKind::Map | ValueKind::Iterable) {
        return Ok(());
    }
    let items = match value.len() {
        Some(n) => n,
        None => value.try_iter().map_or(0, |items| items.take(MAX_ITEMS + 1).count()),
    };
    if items > MAX_ITEMS {
        return Err(too_large(format!("a sequence of {items} items is longer than the {MAX_ITEMS} a filter takes")));
    }
    Ok(())
}

/// Counts the bytes of a text as it is written, up to a limit.
struct Measure {
    bytes: usize,
}

impl fmt::Write for Measure {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes += s.len();
        if self.bytes > MAX_TEXT {
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

fn longer_than_max(what: &str) -> Error {
    too_large(format!("{what} would be longer than {}", megabytes(MAX_TEXT)))
}

/// A value whose text (Debug's, for `pprint`) fits in [`MAX_TEXT`].
fn check_printed(value: &Value, debug: bool) -> Result<(), Error> {
    let mut measure = Measure { bytes: 0 };
    let printed = if debug { write!(measure, "{value:#?}") } else { write!(measure, "{value}") };
    printed.map_err(|_| longer_than_max("the text"))
}

/// `join`: the items' texts and the joiner between them.
fn check_join(args: &[Value]) -> Result<(), Error> {
    let joiner = args.get(1).and_then(Value::as_str).map_or(0, str::len);
    let mut measure = Measure { bytes: 0 };
    if let Ok(items) = args[0].try_iter() {
        for item in items {
            measure.bytes += joiner;
            if write!(measure, "{item}").is_err() {
                return Err(longer_than_max("the joined text"));
            }
        }
    }
    Ok(())
}

/// `replace(old, new)`: each match of `old` (every character boundary for an empty one) grows
/// the text by `new`.
fn check_replace(args: &[Value]) -> Result<(), Error> {
    let (Some(text), Some(old), Some(new)) = (args[0].as_str(), args.get(1).and_then(Value::as_str), args.get(2).and_then(Value::as_str)) else {
        return Ok(());
    };
    let matches = if old.is_empty() { text.chars().count() + 1 } else { text.matches(old).count() };
    if text.len().saturating_add(matches.saturating_mul(new.len())) > MAX_TEXT {
        return Err(longer_than_max("the replaced text"));
    }
    Ok(())
}

/// `indent(width)`: every line gains `width` spaces.
fn check_indent(args: &[Value]) -> Result<(), Error> {
    let text = args[0].as_str().unwrap_or("");
    let width = args.get(1).and_then(Value::as_usize).unwrap_or(0);
    let lines = text.matches('\n').count() + 1;
    if text.len().saturating_add(lines.saturating_mul(width)) > MAX_TEXT {
        return Err(longer_than_max("the indented text"));
    }
    Ok(())
}

/// `split` and `lines`: at most [`MAX_ITEMS`] pieces.
fn check_split(args: &[Value]) -> Result<(), Error> {
    let Some(text) = args[0].as_str() else { return Ok(()) };
    let pieces = match args.get(1).and_then(Value::as_str) {
        _ if args.len() == 1 => text.lines().take(MAX_ITEMS + 1).count(),
        Some(separator) => text.split(separator).take(MAX_ITEMS + 2).count(),
        None => text.split_whitespace().take(MAX_ITEMS + 1).count(),
    };
    if pieces > MAX_ITEMS {
        return Err(too_large(format!("splitting the text would give more than {MAX_ITEMS} pieces")));
    }
    Ok(())
}

/// `batch(n)` and `slice(n)`: at most [`MAX_ITEMS`] per batch or slices.
fn check_count(args: &[Value]) -> Result<(), Error> {
    match args.get(1).and_then(Value::as_usize) {
        Some(n) if n > MAX_ITEMS => Err(too_large(format!("{n} is more than the {MAX_ITEMS} items a filter makes"))),
        _ => Ok(()),
    }
}

/// `format`: a width or precision (in the format or, for `*`, among the arguments) makes a text
/// that long.
fn check_format(args: &[Value]) -> Result<(), Error> {
    let Some(format) = args[0].as_str() else { return Ok(()) };
    let (mut widest, mut star) = (0usize, false);
    let mut chars = format.chars();
    while chars.by_ref().any(|c| c == '%') {
        // Flags, width and precision, up to the conversion character (consumed with them).
        let spec: String = chars.by_ref().take_while(|c| "0123456789-+ #.*".contains(*c)).collect();
        star |= spec.contains('*');
        for number in spec.split(|c: char| !c.is_ascii_digit()).filter(|n| !n.is_empty()) {
            widest = widest.max(number.parse().unwrap_or(usize::MAX));
        }
    }
    if star {
        widest = widest.max(args[1..].iter().filter_map(Value::as_usize).max().unwrap_or(0));
    }
    if widest > MAX_ITEMS {
        return Err(too_large(format!("a width or precision of {widest} in `format` (at most {MAX_ITEMS})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::context;

    fn render(text: &str) -> Result<String, Failure> {
        Engine::new(Escape::Markdown, MAX_TEXT).render("t.md", text, context! {})
    }

    #[test]
    fn spliced_positions_map_back_to_the_author_file() {
        let source = "ab\n```x\nbody\n```\ncd {{ x }}\n";
        let spliced = Spliced::new(source, [(3..16, "<!--p-->".to_string())]);
        assert_eq!(spliced.text, "ab\n<!--p-->\ncd {{ x }}\n");
        let at = spliced.text.find("{{").unwrap();
        assert_eq!(spliced.to_source(at..at + 7), source.find("{{").unwrap()..source.find("{{").unwrap() + 7);
        assert_eq!(spliced.to_source(4..6), 3..16);
        assert_eq!(spliced.to_source(0..1), 0..1);
    }

    #[test]
    fn nested_loops_run_out_of_fuel_at_the_outer_loop() {
        let text = "Intro.\n\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n";
        let failure = render(text).unwrap_err();
        assert_eq!(failure.crossed, Crossed::Fuel);
        let source = Source::new("ch.md", text);
        let d = failure.diagnostic(&source, failure.span.clone(), "the chapter");
        assert_eq!(d.position().unwrap(), "ch.md:3:1", "{d:?}");
        assert_eq!(d.location.as_ref().unwrap().label, "this loop");
    }

    #[test]
    fn a_huge_repeated_string_stops_at_the_text_limit() {
        let text = "x\n{{ \"a\" * 100000000 }}";
        let failure = render(text).unwrap_err();
        assert_eq!(failure.crossed, Crossed::Text(MAX_TEXT));
        let d = failure.diagnostic(&Source::new("ch.md", text), failure.span.clone(), "the chapter");
        assert!(d.position().unwrap().starts_with("ch.md:2:"), "{d:?}");
        assert_eq!(d.message, "the chapter would be longer than 4 MB");
        // Plain text repeated by a loop is stopped by the output, and found in the template.
        let text = format!("{{% for i in range(100000) %}}{}{{% endfor %}}", "x".repeat(1000));
        let failure = render(&text).unwrap_err();
        assert_eq!(failure.crossed, Crossed::Text(MAX_TEXT));
        assert_eq!(failure.span.start, text.find('x').unwrap(), "{failure:?}");
    }

    #[test]
    fn filters_refuse_sequences_and_texts_too_large_to_build() {
        for (template, expected) in [
            ("{{ (range(100000) * 100000) | list | length }}", "items is longer"),
            ("{{ range(100000) | list | length }}", ""),
            ("{{ ['a'] | batch(1000000000, 'x') | list }}", "more than"),
            ("{{ 'ab' | replace('', 'x' * 100000) }}", ""),
            ("{{ ('a' * 1000000) | replace('', 'x' * 100) }}", "longer than"),
            ("{{ ('a' * 1000000) | indent(100) }}", ""),
            ("{{ ('a' * 10000000) | upper }}", "longer than the 4 MB a filter takes"),
            ("{{ ('a\n' * 1000000) | indent(100) }}", "longer than"),
            ("{{ (['a' * 1000000] * 10) | join }}", "joined text would be longer"),
            ("{{ ('a' * 1000000) | split('') | length }}", "pieces"),
            ("{{ '%1000000000s' | format('a') }}", "width"),
            ("{{ '%*s' | format(1000000000, 'a') }}", "width"),
            ("{{ '%5.2f' | format(3.14159) }}", ""),
            ("{{ 1 is in (range(100000) * 100000) }}", "items"),
            ("{{ [{'a': 2}, {'a': 1}] | sort(attribute='a') | map(attribute='a') | join(',') }}", ""),
        ] {
            match render(template) {
                Ok(text) => assert!(expected.is_empty(), "{template} should fail: {}", &text[..text.len().min(80)]),
                Err(f) => assert!(!expected.is_empty() && f.error.to_string().contains(expected), "{template}: {}", f.error),
            }
        }
        assert_eq!(render("{{ [{'a': 2}, {'a': 1}] | sort(attribute='a') | map(attribute='a') | join(',') }}").unwrap(), "1,2");
    }

    #[test]
    fn values_print_escaped_as_before() {
        let engine = Engine::new(Escape::ByName, MAX_TEXT);
        let ctx = context! { s => "<b> & \"q\"", n => 3, t => true, f => 1.5 };
        assert_eq!(engine.render("p.html", "{{ s }} {{ n }} {{ t }} {{ f }} {{ s | safe }}", &ctx).unwrap(), "&lt;b&gt; &amp; &quot;q&quot; 3 True 1.5 <b> & \"q\"");
        assert_eq!(engine.render("p.txt", "{{ s }} {{ t }}", &ctx).unwrap(), "<b> & \"q\" True");
        let engine = Engine::new(Escape::Markdown, MAX_TEXT);
        assert_eq!(engine.render("c.md", "{{ s }} {{ [1, 'x_y'] }}", &ctx).unwrap(), "\\<b\\> \\& \\\"q\\\" \\[1, \\\"x\\_y\\\"\\]");
    }
}
