//! metabook's SVG figures in the PDF: the shapes as an SVG image, the text set by Typst.
//!
//! Why: set whole as an image, an SVG is read by Typst's SVG reader (usvg), which shapes every
//! `<text>` on its own — a new font face and shaping plan each time — and keeps each glyph as
//! an outline. A forest plot of 10,000 studies has 70,000 texts: two thirds of a 4-second build
//! and most of its 800 MB went there. Shapes cost usvg little, so the image keeps them (the
//! figure's SVG without its texts) and Typst sets the texts over it, sharing its font and
//! shaping caches; the PDF's text is then Typst's own.
//!
//! A placed text is Typst's unit of layout, dear in time and memory, so the texts on one
//! baseline (a forest plot's row: label, counts, weight, effect) are set as one line, each
//! where the SVG puts it: their widths are measured with the embedded fonts, shaped as Typst
//! shapes them ([`text_width`](super::typst::text_width)). A text that cannot be measured (a
//! character the font lacks) is placed on its own, aligned by Typst; a turned text too.
//! Lines of plain strings are written as data, not code ([`Drawing::finish`]: Typst alone on
//! a forest plot of 10,000 studies peaked at 317 MB instead of 347 MB, with the same PDF), and
//! a box clips only where a text may reach past it.
//!
//! What is read is exactly the figure's SVG (the one view all outputs share), with roxmltree:
//! `text` with `tspan`s that change its style, turned or moved by `transform`, in groups that
//! neither clip nor transform. A figure with text anywhere else gives `None`, and the caller
//! sets it whole as an image, as before.

use super::typst::string;
use std::fmt::Write;

/// The figure `svg` at `width_pt` as Typst code (a `box`), or `None` where its text is where
/// this drawing does not look for it.
pub fn draw(svg: &str, width_pt: f64) -> Option<String> {
    draw_parts(svg, width_pt).map(|d| d.boxed(false))
}

/// A figure drawn by Typst ([`draw_parts`]).
pub struct Drawn {
    /// The `set` rules its texts are set in: the same for every part of a tall figure, which
    /// sets them once around all of them (each rule costs Typst memory where it is written).
    pub settings: String,
    width: f64,
    height: f64,
    /// Whether a text may reach past the box (it is then clipped, as the SVG clips it); a clip
    /// costs Typst a group and a path, so a box only clips where it must.
    clip: bool,
    body: String,
    /// The shapes, an SVG without its texts, which `body` places as an image under the texts.
    pub shapes: Option<String>,
    /// The texts alone, as Typst code (what `body` places over the image).
    texts: String,
}

impl Drawn {
    /// The drawing as a `box`; `settings_in_force` when its [`settings`](Drawn::settings)
    /// are already set around it.
    pub fn boxed(&self, settings_in_force: bool) -> String {
        let settings = if settings_in_force { "" } else { self.settings.as_str() };
        let clip = if self.clip { "clip: true, " } else { "" };
        format!("box(width: {}, height: {}, {clip}{{ {settings}{}}})", pt(self.width), pt(self.height), self.body)
    }

    /// [`Drawn::boxed`] without the shapes: the texts alone, where the shapes are drawn apart
    /// (the Word file's PNG draws [`Drawn::shapes`] straight onto its pixels).
    pub fn texts_boxed(&self) -> String {
        let clip = if self.clip { "clip: true, " } else { "" };
        format!("box(width: {}, height: {}, {clip}{{ {}{}}})", pt(self.width), pt(self.height), self.settings, self.texts)
    }
}

/// [`draw`], with the text settings apart.
pub fn draw_parts(svg: &str, width_pt: f64) -> Option<Drawn> {
    draw_with(svg, width_pt, true)
}

/// [`draw_parts`]; lines of plain strings as data when `data_rows` (the tests compare).
fn draw_with(svg: &str, width_pt: f64, data_rows: bool) -> Option<Drawn> {
    let doc = roxmltree::Document::parse(svg).ok()?;
    let root = doc.root_element();
    if root.tag_name().name() != "svg" {
        return None;
    }
    let view: Vec<f64> = root
        .attribute("viewBox")?
        .split_whitespace()
        .map(|n| n.parse().ok())
        .collect::<Option<_>>()?;
    let [x0, y0, w, h] = view[..] else {
        return None;
    };
    if !(w > 0.0 && h > 0.0 && x0.is_finite() && y0.is_finite() && w.is_finite() && h.is_finite()) {
        return None;
    }
    let scale = width_pt / w;
    let style = Style::default().inherit(root)?;
    let mut d = Drawing {
        scale,
        x0,
        y0,
        width: w,
        font_size: style.font_size,
        family: style.family.clone(),
        lines: Vec::new(),
        loose: String::new(),
        data_rows,
    };
    // The shapes: the SVG without its texts (and without its title and description, which
    // the PDF does not show).
    let mut shapes = String::with_capacity(svg.len());
    let mut at = 0;
    let mut drawn = false;
    for node in root.descendants().filter(|n| n.is_element()) {
        match node.tag_name().name() {
            "text" | "title" | "desc" => {
                if node.has_tag_name("text") {
                    // Its parents must neither clip nor transform it.
                    if node
                        .ancestors()
                        .skip(1)
                        .filter(|a| a.is_element() && *a != root)
                        .any(|a| {
                            !a.has_tag_name("g")
                                || a.has_attribute("clip-path")
                                || a.has_attribute("transform")
                                || a.has_attribute("style")
                        })
                    {
                        return None;
                    }
                    let mut st = style.clone();
                    for a in node
                        .ancestors()
                        .skip(1)
                        .filter(|a| a.is_element() && *a != root)
                        .collect::<Vec<_>>()
                        .into_iter()
                        .rev()
                    {
                        st = st.inherit(a)?;
                    }
                    d.text(node, &st.inherit(node)?)?;
                }
                let range = node.range();
                if range.start < at {
                    continue;
                }
                shapes.push_str(&svg[at..range.start]);
                at = range.end;
            }
            "svg" | "g" | "defs" | "tspan" => {}
            // A style sheet may style the texts too, which this drawing would not follow.
            "style" => return None,
            _ => drawn = true,
        }
    }
    shapes.push_str(&svg[at..]);
    let image = if drawn {
        format!(
            "place(image(bytes({}), format: \"svg\", width: {})); ",
            string(&shapes),
            pt(width_pt)
        )
    } else {
        String::new()
    };
    let shapes = drawn.then_some(shapes);
    let clip = d.reaches_out(h * scale);
    let texts = d.finish();
    Some(Drawn {
        settings: format!(
            "set text({}size: {}, top-edge: \"baseline\", bottom-edge: \"baseline\", hyphenate: false); set par(justify: false, leading: 0pt); ",
            style.family.as_ref().map_or(String::new(), |f| format!("font: {}, ", fonts(f))),
            pt(style.font_size * scale),
        ),
        width: width_pt,
        height: h * scale,
        clip,
        body: format!("{image}{texts}"),
        shapes,
        texts,
    })
}

/// The longest text (bytes) set by Typst; a longer one makes the figure an image.
const MAX_RUN: usize = 2_000;

/// What a text inherits from its parents (SVG's presentation attributes); the rest of an
/// element's attributes are the image's business.
#[derive(Clone)]
struct Style {
    fill: Option<String>,
    font_size: f64,
    /// The first family of `font-family`.
    family: Option<String>,
    bold: bool,
    italic: bool,
    anchor: Anchor,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            fill: Some("black".into()),
            font_size: 16.0,
            family: None,
            bold: false,
            italic: false,
            anchor: Anchor::Start,
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

impl Style {
    /// This style with `node`'s own attributes; `None` for a value the text cannot take.
    fn inherit(&self, node: roxmltree::Node) -> Option<Style> {
        let mut s = self.clone();
        for a in node.attributes() {
            let v = a.value().trim();
            match a.name() {
                "fill" => s.fill = paint(v)?,
                "font-size" => {
                    s.font_size = v.parse().ok().filter(|f: &f64| f.is_finite() && *f > 0.0)?
                }
                "font-family" => {
                    s.family = v
                        .split(',')
                        .next()
                        .map(|f| f.trim().trim_matches(['\'', '"']).to_string())
                        .filter(|f| !f.is_empty())
                }
                "font-weight" => s.bold = matches!(v, "bold" | "700" | "800" | "900"),
                "font-style" => s.italic = v == "italic",
                "text-anchor" => {
                    s.anchor = match v {
                        "start" => Anchor::Start,
                        "middle" => Anchor::Middle,
                        "end" => Anchor::End,
                        _ => return None,
                    }
                }
                // Drawn by the text itself, or nothing a text shows.
                "x" | "y" | "transform" | "id" | "role" | "aria-labelledby" | "viewBox"
                | "width" | "height" | "stroke" | "stroke-width" | "stroke-dasharray" => {}
                // What only the shapes of a group or the whole drawing follow.
                "stroke-linecap" | "stroke-linejoin" | "fill-rule" | "shape-rendering"
                | "preserveAspectRatio" | "version" | "class" | "aria-hidden"
                    if !node.has_tag_name("text") && !node.has_tag_name("tspan") => {}
                _ if a.namespace().is_some() && !node.has_tag_name("text") && !node.has_tag_name("tspan") => {}
                // Anything else on a text or its parents (opacity, letter spacing, a style,
                // a shift, a hidden group): not set here.
                _ => return None,
            }
        }
        Some(s)
    }
}

/// An SVG paint as Typst's: `None` for "none", `Some` colour; `None` (outer) if unknown.
fn paint(v: &str) -> Option<Option<String>> {
    let hex = v
        .strip_prefix('#')
        .filter(|h| matches!(h.len(), 3 | 6) && h.chars().all(|c| c.is_ascii_hexdigit()));
    Some(match v {
        "none" => None,
        "black" => Some("black".into()),
        "white" => Some("white".into()),
        _ => Some(format!("rgb(\"#{}\")", hex?)),
    })
}

/// A family, then the book's serif for what it lacks, as Typst's font list.
fn fonts(family: &str) -> String {
    if family == "Libertinus Serif" {
        string(family)
    } else {
        format!("({}, \"Libertinus Serif\")", string(family))
    }
}

/// A number attribute (`default` when absent); `None` when it is not a finite number.
fn num(node: roxmltree::Node, name: &str, default: f64) -> Option<f64> {
    match node.attribute(name) {
        None => Some(default),
        Some(v) => v.trim().parse().ok().filter(|n: &f64| n.is_finite()),
    }
}

/// Lines written as data ([`Drawing::finish`]) as the loop that sets them, in their place among
/// the others (the PDF draws them in the same order).
fn flush_data(out: &mut String, data: &mut String) {
    if !data.is_empty() {
        // A float is a space, a string a text (a string never reads as a number).
        let _ = write!(
            out,
            "for r in ({data}) {{ place(dx: r.at(0) * 1pt, dy: r.at(1) * 1pt, for v in r.slice(2) {{ if type(v) == str {{ v }} else {{ h(v * 1pt) }} }}) }}; "
        );
        data.clear();
    }
}

/// A length in points as a Typst float (always with a decimal point).
fn number(v: f64) -> String {
    format!("{:.2}", if v == 0.0 { 0.0 } else { v })
}

fn pt(v: f64) -> String {
    format!("{:.2}pt", if v == 0.0 { 0.0 } else { v })
}

struct Drawing {
    scale: f64,
    x0: f64,
    y0: f64,
    width: f64,
    /// The figure's font size and family, set once for the whole box.
    font_size: f64,
    family: Option<String>,
    /// Texts measured, to be set with the others on their baseline (see `finish`).
    lines: Vec<Line>,
    /// Texts set on their own (turned, or not measured).
    loose: String,
    /// Whether lines of plain strings are written as data ([`Drawing::finish`]).
    data_rows: bool,
}

/// A text whose width is known: set in one line with the others on its baseline.
struct Line {
    /// Its baseline, in hundredths of a point from the top.
    baseline: i64,
    left: f64,
    right: f64,
    /// Its largest font size, in points.
    em: f64,
    content: String,
    /// Whether it is one run in the figure's own style: its content a string literal.
    plain: bool,
}

impl Drawing {
    fn x(&self, x: f64) -> String {
        pt((x - self.x0) * self.scale)
    }
    fn y(&self, y: f64) -> String {
        pt((y - self.y0) * self.scale)
    }
    fn len(&self, v: f64) -> String {
        pt(v * self.scale)
    }

    /// Whether a text may reach past the drawing's box of `height` points: a text set on its
    /// own (its size is not known), or a line whose glyphs (from an em above its baseline to
    /// 0.3 em below, deeper than the descenders of the embedded fonts) are not inside.
    fn reaches_out(&self, height: f64) -> bool {
        !self.loose.is_empty()
            || self.lines.iter().any(|l| {
                let baseline = l.baseline as f64 / 100.0;
                l.left < 0.0 || l.right > self.width * self.scale || baseline - l.em < 0.0 || baseline + l.em * 0.3 > height
            })
    }

    /// The texts as Typst code: one paragraph per baseline, its texts apart by the spaces their
    /// measured widths leave, instead of one placed box each; then the loose ones.
    ///
    /// Lines of plain strings (a forest plot's study rows: most of a big figure's texts) are
    /// written as data, an array of (x, baseline, text, space, text, …) that a loop in the
    /// box turns into the same placed lines: Typst's syntax tree for a written `#h(…)` and
    /// `#"…"` took ten times the memory of two values in an array (35 MB of a 210 MB build
    /// of 400 forest plots, whose texts are Typst's main cost); the PDF is the same.
    fn finish(mut self) -> String {
        let mut out = String::new();
        let mut data = String::new();
        self.lines
            .sort_by(|a, b| a.baseline.cmp(&b.baseline).then(a.left.total_cmp(&b.left)));
        for row in self.lines.chunk_by(|a, b| a.baseline == b.baseline) {
            let (left, right) = (row[0].left, row[row.len() - 1].right);
            if self.data_rows && row.iter().all(|l| l.plain) && right - left < self.width * self.scale - 1.0 {
                let _ = write!(data, "({},{}", number(left), number(row[0].baseline as f64 / 100.0));
                let mut at = left;
                for (i, l) in row.iter().enumerate() {
                    if i > 0 {
                        let _ = write!(data, ",{}", number(l.left - at));
                    }
                    let _ = write!(data, ",{}", l.content);
                    at = l.right;
                }
                data.push_str("),");
                continue;
            }
            flush_data(&mut out, &mut data);
            let mut body = String::new();
            let mut at = row[0].left;
            for (i, l) in row.iter().enumerate() {
                if i > 0 {
                    let _ = write!(body, "#h({})", pt(l.left - at));
                }
                let _ = write!(body, "#{}", l.content);
                at = l.right;
            }
            // A line that would reach past the figure's edge is set in a box wide enough never
            // to wrap (the figure's box clips what runs past it); the others need none.
            let (dx, dy) = (pt(left), pt(row[0].baseline as f64 / 100.0));
            if right - left < self.width * self.scale - 1.0 {
                let _ = write!(out, "place(dx: {dx}, dy: {dy})[{body}]; ");
            } else {
                let _ = write!(
                    out,
                    "place(dx: {dx}, dy: {dy}, box(width: {}, align(left)[{body}])); ",
                    pt(right - left + self.width * self.scale)
                );
            }
        }
        flush_data(&mut out, &mut data);
        out.push_str(&self.loose);
        out
    }

    fn text(&mut self, node: roxmltree::Node, s: &Style) -> Option<()> {
        let (x, y) = (num(node, "x", 0.0)?, num(node, "y", 0.0)?);
        // The text's runs, each with its style.
        let mut runs: Vec<String> = Vec::new();
        let mut plains: Vec<bool> = Vec::new();
        // The text's width as Typst will set it, if every run can be measured; and, for one
        // that cannot be, a width it cannot exceed (no character is wider than 1 em, and none
        // takes less than a byte), in points.
        let mut width = Some(0.0);
        let mut bound = 0.0;
        let mut em: f64 = 0.0;
        for child in node.children() {
            let (t, st) = if child.is_text() {
                (child.text().unwrap_or(""), s.clone())
            } else if child.has_tag_name("tspan")
                && child.children().all(|c| c.is_text())
                && !child.has_attribute("x")
                && !child.has_attribute("y")
                && !child.has_attribute("dy")
            {
                (child.text().unwrap_or(""), s.inherit(child)?)
            } else {
                return None;
            };
            if t.is_empty() {
                continue;
            }
            let mut args = String::new();
            if st.bold {
                args.push_str("weight: \"bold\", ");
            }
            if st.italic {
                args.push_str("style: \"italic\", ");
            }
            if st.font_size != self.font_size {
                let _ = write!(args, "size: {}, ", self.len(st.font_size));
            }
            if let Some(f) = st.fill.as_deref().filter(|f| *f != "black") {
                let _ = write!(args, "fill: {f}, ");
            }
            if st.family != self.family {
                match &st.family {
                    Some(f) => {
                        let _ = write!(args, "font: {}, ", fonts(f));
                    }
                    None => width = None,
                }
            }
            // SVG collapses runs of white space, keeps a no-break space.
            let collapsed = t
                .split([' ', '\t', '\n', '\r'])
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let lead = if t.starts_with([' ', '\t', '\n', '\r']) && !runs.is_empty() {
                " "
            } else {
                ""
            };
            let trail = if t.ends_with([' ', '\t', '\n', '\r']) && !collapsed.is_empty() {
                " "
            } else {
                ""
            };
            let run = format!("{lead}{collapsed}{trail}");
            // A very long text (krilla slices runs at 65,535 bytes, which can split a character)
            // leaves the figure to the image reader, as before.
            if run.len() > MAX_RUN {
                return None;
            }
            let size = (st.font_size * self.scale * 100.0).round() / 100.0;
            em = em.max(size);
            bound += run.len() as f64 * size;
            width = width
                .zip(
                    st.family
                        .as_deref()
                        .and_then(|f| super::typst::text_width(f, st.bold, st.italic, size, &run)),
                )
                .map(|(a, b)| a + b);
            // A run in the figure's own style is a plain string: one element less to set.
            let set = if args.is_empty() {
                string(&run)
            } else {
                format!("text({args}{})", string(&run))
            };
            // A run without paint (`fill="none"`) shows nothing, but takes its room.
            plains.push(args.is_empty() && st.fill.is_some());
            runs.push(if st.fill.is_none() { format!("hide({set})") } else { set });
        }
        let plain = matches!(&plains[..], [true]);
        let content = match &runs[..] {
            [] => return Some(()),
            [one] => one.clone(),
            many => format!(
                "[{}]",
                many.iter().map(|r| format!("#{r}")).collect::<String>()
            ),
        };
        // Where the anchor ends up, and the turn about it.
        let (px, py, angle) = match node.attribute("transform") {
            None => (x, y, 0.0),
            Some(t) => transform(t, x, y)?,
        };
        if let (0.0, Some(width)) = (angle, width) {
            let w = width / self.scale;
            let left = match s.anchor {
                Anchor::Start => px,
                Anchor::Middle => px - w / 2.0,
                Anchor::End => px - w,
            };
            self.lines.push(Line {
                baseline: ((py - self.y0) * self.scale * 100.0).round() as i64,
                left: (left - self.x0) * self.scale,
                right: (left + w - self.x0) * self.scale,
                em,
                content: content.clone(),
                plain,
            });
        } else if angle == 0.0 {
            // In a box as wide as the text can be, so that it never wraps onto itself (the
            // figure's box clips what runs past its edge).
            let (align, dx) = match s.anchor {
                Anchor::Start => ("left", px - self.x0),
                Anchor::Middle => ("center", px - self.x0 - self.width / 2.0),
                Anchor::End => ("right", px - self.x0 - self.width),
            };
            let _ = write!(
                self.loose,
                "place(top + {align}, dx: {}, dy: {}, box(width: {}, align({align}, {content}))); ",
                self.len(dx),
                self.y(py),
                pt(bound.max(self.width * self.scale))
            );
        } else {
            // Turned: a box as wide as the text can be, whose anchor edge is the turning point.
            let b = (bound / self.scale).max(self.width);
            let (origin, left) = match s.anchor {
                Anchor::Start => ("left", px),
                Anchor::Middle => ("center", px - b / 2.0),
                Anchor::End => ("right", px - b),
            };
            let _ = write!(
                self.loose,
                "place(dx: {}, dy: {}, rotate({angle:.3}deg, origin: top + {origin}, reflow: false, box(width: {}, align({origin}, {content})))); ",
                self.x(left),
                self.y(py),
                self.len(b)
            );
        }
        Some(())
    }
}

/// Where `transform` takes the point (x, y), and by how many degrees it turns text there:
/// `rotate(a)`, `rotate(a cx cy)`, `translate(tx ty)` and a translation then a rotation.
fn transform(t: &str, x: f64, y: f64) -> Option<(f64, f64, f64)> {
    let (mut px, mut py, mut angle) = (x, y, 0.0);
    // SVG applies the list right to left to the point.
    let mut ops = Vec::new();
    for part in t.split(')').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, args) = part.split_once('(')?;
        let args: Vec<f64> = args
            .split([' ', ','])
            .filter(|a| !a.is_empty())
            .map(|a| a.parse().ok().filter(|v: &f64| v.is_finite()))
            .collect::<Option<_>>()?;
        ops.push((name.trim().to_string(), args));
    }
    for (name, args) in ops.iter().rev() {
        match (name.as_str(), &args[..]) {
            ("translate", &[tx]) => px += tx,
            ("translate", &[tx, ty]) => (px, py) = (px + tx, py + ty),
            ("rotate", &[a]) => {
                (px, py) = turn(px, py, 0.0, 0.0, a);
                angle += a;
            }
            ("rotate", &[a, cx, cy]) => {
                (px, py) = turn(px, py, cx, cy, a);
                angle += a;
            }
            _ => return None,
        }
    }
    Some((px, py, angle))
}

fn turn(x: f64, y: f64, cx: f64, cy: f64, degrees: f64) -> (f64, f64) {
    let (sin, cos) = degrees.to_radians().sin_cos();
    (
        cx + (x - cx) * cos - (y - cy) * sin,
        cy + (x - cx) * sin + (y - cy) * cos,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_stay_an_image_and_texts_are_set_by_typst() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 10 200 100" font-family="Libertinus Serif, serif" font-size="10"><title>t</title><text x="100" y="20" text-anchor="middle" font-weight="bold">A &amp; "B"</text><line x1="0" y1="30" x2="200" y2="30" stroke="black"/><rect x="10" y="40" width="5" height="5" fill="#1f5fa8"/><text x="5" y="60" transform="rotate(-90 5 60)" text-anchor="middle">turned</text><text x="1" y="70">a <tspan font-style="italic">not reported</tspan> b</text><g fill="#c33"><text x="190" y="70" text-anchor="end" font-family="DejaVu Sans Mono">+</text></g></svg>"##;
        let t = draw(svg, 100.0).unwrap();
        assert!(t.starts_with("box(width: 100.00pt, height: 50.00pt, clip: true, { set text(font: \"Libertinus Serif\", size: 5.00pt"), "{t}");
        // The image: the shapes, no text, no title.
        let image = t
            .split("place(image(bytes(\"")
            .nth(1)
            .unwrap()
            .split("\"), format: \"svg\"")
            .next()
            .unwrap();
        assert!(
            image.contains("<line x1=\\\"0\\\"")
                && image.contains("<rect ")
                && !image.contains("<text")
                && !image.contains("<title")
                && image.contains("<g fill=\\\"#c33\\\"></g>"),
            "{image}"
        );
        // Texts over it: turned about its anchor; the others one line per baseline, placed by
        // their measured widths (centred: its left edge left of the anchor by half its width),
        // each run with its style, font and colour.
        let texts = &t[t.find("svg\", width: 100.00pt)); ").unwrap()..];
        assert!(
            texts.contains("rotate(-90.000deg, origin: top + center"),
            "{t}"
        );
        let centred = texts
            .split("place(dx: ")
            .find(|p| p.contains("\"A & \\\"B\\\"\""))
            .unwrap();
        let left: f64 = centred.split("pt").next().unwrap().parse().unwrap();
        assert!(
            left > 40.0 && left < 50.0 && centred.contains("dy: 5.00pt"),
            "{centred}"
        );
        let line = texts
            .split("place(dx: ")
            .find(|p| p.contains("not reported"))
            .unwrap();
        assert!(line.starts_with("0.50pt, dy: 30.00pt"), "{line}");
        assert!(
            line.contains("#[#\"a \"#text(style: \"italic\", \"not reported\")#\" b\"]#h("),
            "{line}"
        );
        assert!(line.contains("#text(fill: rgb(\"#c33\"), font: (\"DejaVu Sans Mono\", \"Libertinus Serif\"), \"+\")"), "{line}");
    }

    #[test]
    fn text_it_cannot_place_leaves_the_figure_to_the_image_reader() {
        for svg in [
            r#"<svg viewBox="0 0 10 10"><g transform="scale(2)"><text>x</text></g></svg>"#,
            r#"<svg viewBox="0 0 10 10"><g clip-path="url(#c)"><text>x</text></g></svg>"#,
            r#"<svg viewBox="0 0 10 10"><a href="x"><text>x</text></a></svg>"#,
            r#"<svg viewBox="0 0 10 10"><text x="1" y="1" text-anchor="inherit">x</text></svg>"#,
            r#"<svg viewBox="0 0 10 10"><text x="1" y="1" letter-spacing="2">x</text></svg>"#,
            r#"<svg viewBox="0 0 10 10"><text x="1" y="1"><tspan x="3">x</tspan></text></svg>"#,
            r#"<svg viewBox="0 0 10 10"><text x="1" y="1" fill="url(#g)">x</text></svg>"#,
            r#"<svg><rect/></svg>"#,
            "not svg",
            // What a text's parents or the drawing say that this drawing would not follow.
            r#"<svg viewBox="0 0 10 10"><g opacity="0.5"><text x="1" y="1">x</text></g></svg>"#,
            r#"<svg viewBox="0 0 10 10"><g display="none"><text x="1" y="1">x</text></g></svg>"#,
            r#"<svg viewBox="0 0 10 10" letter-spacing="3"><text x="1" y="1">x</text></svg>"#,
            r#"<svg viewBox="0 0 10 10"><style>text { fill: red }</style><text x="1" y="1">x</text></svg>"#,
        ] {
            assert!(draw(svg, 100.0).is_none(), "{svg}");
        }
        // Shapes of any kind are the image's: a curve, a gradient.
        assert!(draw(
            r#"<svg viewBox="0 0 10 10"><path d="M0 0 C1 1 2 2 3 3" fill="url(#g)"/></svg>"#,
            100.0
        )
        .is_some());
    }

    #[test]
    fn an_unpainted_text_takes_its_room_unseen_and_one_not_measured_never_wraps() {
        let t = draw(r#"<svg viewBox="0 0 100 10" font-family="Libertinus Serif" font-size="5"><g stroke-linecap="round"><text x="1" y="5">a <tspan fill="none">b</tspan> c</text><text x="50" y="5" fill="none">d</text></g></svg>"#, 100.0).unwrap();
        assert!(t.contains(r#"#hide("b")"#) && t.contains(r#"hide("d")"#) && !t.contains(r#"#"d""#), "{t}");
        // A text in a script the embedded fonts lack cannot be measured: placed on its own, in a
        // box as wide as it can be (60 characters of 3 bytes at 5 pt), not the figure's 100 pt.
        let wide = "漢".repeat(60);
        let t = draw(&format!(r#"<svg viewBox="0 0 100 10" font-family="Libertinus Serif" font-size="5"><text x="50" y="5" text-anchor="middle">{wide}</text><text x="5" y="9" transform="rotate(-90 5 9)">{wide}</text></svg>"#), 100.0).unwrap();
        assert!(t.contains(&format!(r#"place(top + center, dx: 0.00pt, dy: 5.00pt, box(width: 900.00pt, align(center, "{wide}")))"#)), "{t}");
        assert!(t.contains(r#"reflow: false, box(width: 900.00pt, align(left, "#), "{t}");
    }

    #[test]
    fn lines_of_plain_strings_are_data_and_typeset_the_same() {
        // Rows of plain strings (one that reads as a number, one with quotes and a backslash,
        // two texts that touch), a row with a bold text, a text alone.
        let svg = r##"<svg viewBox="0 0 200 60" font-family="Libertinus Serif" font-size="10"><line x1="0" y1="1" x2="200" y2="1" stroke="black"/><text x="2" y="12">Study "A" \ 1</text><text x="120" y="12" text-anchor="end">1.50</text><text x="150" y="12">12</text><text x="2" y="24">Study B</text><text x="120" y="24" text-anchor="end">-3</text><text x="120" y="24">x</text><text x="2" y="36" font-weight="bold">Total</text><text x="120" y="36" text-anchor="end">7</text><text x="100" y="48" text-anchor="middle">alone</text></svg>"##;
        let data = draw(svg, 200.0).unwrap();
        let written = draw_with(svg, 200.0, false).unwrap().boxed(false);
        assert!(data.contains(r#"for r in ((2.00,12.00,"Study \"A\" \\ 1","#), "{data}");
        assert!(data.contains(r#","1.50","#) && data.contains(r#",0.00,"x")"#) && data.contains(r#",48.00,"alone")"#), "{data}");
        assert!(data.contains(r#"place(dx: 2.00pt, dy: 36.00pt)[#text(weight: "bold", "Total")#h("#), "{data}");
        assert!(!written.contains("for r in"), "{written}");
        // Every text is inside the box: nothing to clip.
        assert!(!data.contains("clip"), "{data}");
        // The same PDF, to the byte.
        let pdf = |figure: &str| crate::render::typst::compile_pdf(format!("#{figure}"), "t", &Default::default(), &crate::render::typst::FontSet::new(Vec::new()).unwrap(), &[]).ok().unwrap();
        assert_eq!(pdf(&data), pdf(&written));
    }

    #[test]
    fn only_a_text_that_may_reach_out_is_clipped() {
        let inside = r#"<svg viewBox="0 0 100 20" font-family="Libertinus Serif" font-size="5"><text x="1" y="10">in</text></svg>"#;
        assert!(!draw(inside, 100.0).unwrap().contains("clip"));
        for out in [
            r#"<svg viewBox="0 0 100 20" font-family="Libertinus Serif" font-size="5"><text x="99" y="10">out on the right</text></svg>"#,
            r#"<svg viewBox="0 0 100 20" font-family="Libertinus Serif" font-size="5"><text x="1" y="2">above</text></svg>"#,
            r#"<svg viewBox="0 0 100 20" font-family="Libertinus Serif" font-size="5"><text x="1" y="20">below</text></svg>"#,
            r#"<svg viewBox="0 0 100 20" font-family="Libertinus Serif" font-size="5"><text x="5" y="10" transform="rotate(-90 5 10)">turned</text></svg>"#,
        ] {
            assert!(draw(out, 100.0).unwrap().contains("clip: true"), "{out}");
        }
    }

    #[test]
    fn transforms_move_and_turn_the_anchor() {
        let (x, y, a) = transform("translate(10 20) rotate(-90)", 0.0, 5.0).unwrap();
        assert!(
            (x - 15.0).abs() < 1e-9 && (y - 20.0).abs() < 1e-9 && a == -90.0,
            "{x} {y} {a}"
        );
        let (x, y, a) = transform("rotate(-90 14 50)", 14.0, 50.0).unwrap();
        assert!((x - 14.0).abs() < 1e-9 && (y - 50.0).abs() < 1e-9 && a == -90.0);
    }
}
