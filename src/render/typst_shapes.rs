//! metabook's SVG figures drawn with Typst's own shapes and text, for the PDF.
//!
//! Why: set as an image, an SVG is parsed again by Typst's SVG reader (usvg), which shapes
//! every `<text>` on its own — a new font face and shaping plan each time — and turns each glyph
//! into an outline kept in memory. A forest plot of 10,000 studies has 70,000 texts: two thirds
//! of a 4-second build and most of its 800 MB went there. Drawn as Typst shapes the same figure
//! shares Typst's font and shaping caches, and its text is the PDF's own text.
//!
//! What is drawn is exactly the figure's SVG (the one view all outputs share), read with
//! roxmltree: `line`, `rect`, `circle`, `path` (straight segments), `text` (with `tspan`s
//! that change style, rotated or translated), and groups clipped by a rectangle. These are what
//! metabook's figures use; an SVG with anything else (an author's image, a gradient, a curve)
//! gives `None`, and the caller sets it as an image, as before.

use super::typst::string;
use std::collections::HashMap;
use std::fmt::Write;

/// The figure `svg` as Typst code (a `box` of `width_pt`), or `None` where it uses anything this
/// drawing does not know.
pub fn draw(svg: &str, width_pt: f64) -> Option<String> {
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
    let mut clips = HashMap::new();
    for node in root.descendants().filter(|n| n.has_tag_name("clipPath")) {
        let mut rects = node.children().filter(|c| c.is_element());
        let (Some(r), None) = (rects.next(), rects.next()) else {
            return None;
        };
        if !r.has_tag_name("rect") {
            return None;
        }
        clips.insert(
            node.attribute("id")?.to_string(),
            [
                num(r, "x", 0.0)?,
                num(r, "y", 0.0)?,
                num(r, "width", 0.0)?,
                num(r, "height", 0.0)?,
            ],
        );
    }
    let style = Style::default().inherit(root)?;
    let mut d = Drawing {
        out: String::new(),
        scale,
        x0,
        y0,
        width: w,
        height: h,
        font_size: style.font_size,
        family: style.family.clone(),
        clips,
        pending: Vec::new(),
        shapes: Shapes::default(),
        loose: String::new(),
    };
    d.container(root, &style)?;
    let font = style
        .family
        .as_ref()
        .map_or(String::new(), |f| format!("font: {}, ", fonts(f)));
    Some(format!(
        "box(width: {}, height: {}, clip: true, {{ set text({font}size: {}, top-edge: \"baseline\", bottom-edge: \"baseline\", hyphenate: false); set par(justify: false, leading: 0pt); {}}})",
        pt(width_pt),
        pt(h * scale),
        pt(style.font_size * scale),
        d.out
    ))
}

/// What an element inherits from its parents (SVG's presentation attributes).
#[derive(Clone)]
struct Style {
    fill: Option<String>,
    stroke: Option<String>,
    stroke_width: f64,
    dash: Option<Vec<f64>>,
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
            stroke: None,
            stroke_width: 1.0,
            dash: None,
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
    /// This style with `node`'s own attributes; `None` for a value it cannot draw.
    fn inherit(&self, node: roxmltree::Node) -> Option<Style> {
        let mut s = self.clone();
        for a in node.attributes() {
            let v = a.value().trim();
            match a.name() {
                "fill" => s.fill = paint(v)?,
                "stroke" => s.stroke = paint(v)?,
                "stroke-width" => {
                    s.stroke_width = v
                        .parse()
                        .ok()
                        .filter(|w: &f64| w.is_finite() && *w >= 0.0)?
                }
                "stroke-dasharray" => {
                    s.dash = if v == "none" {
                        None
                    } else {
                        Some(
                            v.split([' ', ','])
                                .filter(|p| !p.is_empty())
                                .map(|p| {
                                    p.parse().ok().filter(|d: &f64| d.is_finite() && *d >= 0.0)
                                })
                                .collect::<Option<_>>()?,
                        )
                    }
                }
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
                // Geometry, names and accessibility: read by the element itself or not drawn.
                "x" | "y" | "x1" | "y1" | "x2" | "y2" | "width" | "height" | "rx" | "cx" | "cy"
                | "r" | "d" | "id" | "transform" | "clip-path" | "role" | "aria-labelledby"
                | "viewBox" => {}
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

fn pt(v: f64) -> String {
    format!("{:.2}pt", if v == 0.0 { 0.0 } else { v })
}

struct Drawing {
    out: String,
    scale: f64,
    x0: f64,
    y0: f64,
    width: f64,
    height: f64,
    /// The figure's font size and family, set once for the whole box.
    font_size: f64,
    family: Option<String>,
    clips: HashMap<String, [f64; 4]>,
    /// Texts measured and waiting to be set with the others on their baseline (see `flush`).
    pending: Vec<Line>,
    /// Shapes waiting to be drawn, gathered by paint (see `shape`).
    shapes: Shapes,
    /// Texts set on their own (turned, or not measured), drawn over the shapes with the rest.
    loose: String,
}

/// The shapes of a container, gathered into layers: each layer one Typst `curve` of many
/// parts, all with one paint, drawn in the order of its first shape. A shape joins the last
/// layer of its paint unless that would put it under a shape of another layer it overlaps
/// (or, filled and stroked, under one of its own), so the figure looks as the SVG draws it.
#[derive(Default)]
struct Shapes {
    layers: Vec<Layer>,
    last_of: HashMap<String, usize>,
    /// Where each shape is, by bands of [`BUCKET`] units from the top: its box and layer.
    buckets: HashMap<i64, Vec<([f64; 4], usize)>>,
}

/// One layer: `paint` (the `curve`'s fill and stroke) and its parts; a shape that cannot be a
/// curve's part (a rounded rectangle) is a layer of its own, its code in `parts`.
struct Layer {
    paint: Option<String>,
    parts: String,
}

/// The height of the bands that index where shapes are.
const BUCKET: f64 = 16.0;

/// A text whose width is known: set in one line with the others on its baseline.
struct Line {
    /// Its baseline, in hundredths of a point from the top.
    baseline: i64,
    left: f64,
    right: f64,
    content: String,
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

    fn fill(&self, s: &Style) -> String {
        s.fill.clone().unwrap_or_else(|| "none".into())
    }

    fn stroke(&self, s: &Style) -> String {
        match &s.stroke {
            None => "none".into(),
            Some(paint) => {
                let dash = s
                    .dash
                    .as_ref()
                    .filter(|d| !d.is_empty())
                    .map_or(String::new(), |d| {
                        format!(
                            ", dash: ({},)",
                            d.iter()
                                .map(|v| self.len(*v))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    });
                format!(
                    "(paint: {paint}, thickness: {}{dash})",
                    self.len(s.stroke_width)
                )
            }
        }
    }

    /// The children of `node`, their texts set by baseline at the end (over its shapes).
    fn container(&mut self, node: roxmltree::Node, style: &Style) -> Option<()> {
        let (outer, outer_shapes, outer_loose) = (
            std::mem::take(&mut self.pending),
            std::mem::take(&mut self.shapes),
            std::mem::take(&mut self.loose),
        );
        self.children(node, style)?;
        for layer in std::mem::take(&mut self.shapes).layers {
            match layer.paint {
                Some(paint) => {
                    let _ = write!(self.out, "place(curve({paint}, {})); ", layer.parts);
                }
                None => self.out.push_str(&layer.parts),
            }
        }
        let loose = std::mem::replace(&mut self.loose, outer_loose);
        self.out.push_str(&loose);
        self.flush();
        (self.pending, self.shapes) = (outer, outer_shapes);
        Some(())
    }

    /// Draw a shape: `parts` of a `curve` painted with `paint` (or, with no paint, Typst code
    /// of its own), over the box `[left, top, right, bottom]` in the SVG's units.
    fn shape(&mut self, paint: Option<String>, parts: String, bbox: [f64; 4]) {
        let both = paint
            .as_deref()
            .is_some_and(|p| !p.contains("fill: none") && !p.contains("stroke: none"));
        let overlaps =
            |a: &[f64; 4], b: &[f64; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
        // Only what is in view can cover anything: a line down a whole forest plot is in each of
        // its bands, clipped to it.
        let (top, bottom) = (bbox[1].max(self.y0), bbox[3].min(self.y0 + self.height));
        let (first, last) = (
            (top / BUCKET).floor() as i64,
            (bottom / BUCKET).floor() as i64,
        );
        let shapes = &mut self.shapes;
        let join = paint
            .as_ref()
            .and_then(|p| shapes.last_of.get(p).copied())
            .filter(|&layer| {
                (first..=last).all(|b| {
                    shapes.buckets.get(&b).is_none_or(|drawn| {
                        !drawn.iter().any(|(other, l)| {
                            (*l > layer || (both && *l == layer)) && overlaps(other, &bbox)
                        })
                    })
                })
            });
        let layer = match join {
            Some(layer) => {
                shapes.layers[layer].parts.push_str(&parts);
                layer
            }
            None => {
                if let Some(p) = &paint {
                    shapes.last_of.insert(p.clone(), shapes.layers.len());
                }
                shapes.layers.push(Layer { paint, parts });
                shapes.layers.len() - 1
            }
        };
        for b in first..=last {
            shapes.buckets.entry(b).or_default().push((bbox, layer));
        }
    }

    /// Set the pending texts: one Typst paragraph per baseline, its texts apart by the spaces
    /// their measured widths leave, instead of one placed box each. A placed text is Typst's
    /// unit of layout (about 25 µs and 7 KB each): a forest plot row of seven texts costs one.
    fn flush(&mut self) {
        let mut lines = std::mem::take(&mut self.pending);
        lines.sort_by(|a, b| a.baseline.cmp(&b.baseline).then(a.left.total_cmp(&b.left)));
        for row in lines.chunk_by(|a, b| a.baseline == b.baseline) {
            let mut body = String::new();
            let mut at = row[0].left;
            for (i, l) in row.iter().enumerate() {
                if i > 0 {
                    let _ = write!(body, "#h({})", pt(l.left - at));
                }
                let _ = write!(body, "#{}", l.content);
                at = l.right;
            }
            // Wide enough never to wrap: the figure's box clips what runs past it.
            let _ = write!(
                self.out,
                "place(dx: {}, dy: {}, box(width: {})[{body}]); ",
                pt(row[0].left),
                pt(row[0].baseline as f64 / 100.0),
                pt(4.0 * self.width * self.scale)
            );
        }
    }

    fn children(&mut self, node: roxmltree::Node, style: &Style) -> Option<()> {
        for child in node.children() {
            if child.is_element() {
                self.element(child, style)?;
            } else if child.is_text() && !child.text().unwrap_or("").trim().is_empty() {
                return None;
            }
        }
        Some(())
    }

    fn element(&mut self, node: roxmltree::Node, parent: &Style) -> Option<()> {
        let name = node.tag_name().name();
        if matches!(name, "title" | "desc" | "defs") {
            return Some(());
        }
        if node.attribute("transform").is_some() && name != "text" {
            return None;
        }
        let s = parent.inherit(node)?;
        match name {
            "g" => match node.attribute("clip-path") {
                None => self.container(node, &s)?,
                Some(url) => {
                    let id = url.trim().strip_prefix("url(#")?.strip_suffix(')')?;
                    let [cx, cy, cw, ch] = *self.clips.get(id)?;
                    let inner = std::mem::take(&mut self.out);
                    self.container(node, &s)?;
                    let body = std::mem::replace(&mut self.out, inner);
                    let _ = write!(
                        self.out,
                        "place(dx: {}, dy: {}, box(width: {}, height: {}, clip: true, place(dx: {}, dy: {}, {{ {body}}}))); ",
                        self.x(cx),
                        self.y(cy),
                        self.len(cw),
                        self.len(ch),
                        self.len(-(cx - self.x0)),
                        self.len(-(cy - self.y0)),
                    );
                }
            },
            "line" => {
                let (x1, y1, x2, y2) = (
                    num(node, "x1", 0.0)?,
                    num(node, "y1", 0.0)?,
                    num(node, "x2", 0.0)?,
                    num(node, "y2", 0.0)?,
                );
                if s.stroke.is_some() {
                    let parts = format!(
                        "curve.move(({}, {})), curve.line(({}, {})), ",
                        self.x(x1),
                        self.y(y1),
                        self.x(x2),
                        self.y(y2)
                    );
                    let half = s.stroke_width / 2.0;
                    self.shape(
                        Some(format!("fill: none, stroke: {}", self.stroke(&s))),
                        parts,
                        [
                            x1.min(x2) - half,
                            y1.min(y2) - half,
                            x1.max(x2) + half,
                            y1.max(y2) + half,
                        ],
                    );
                }
            }
            "rect" => {
                let (x, y, w, h, rx) = (
                    num(node, "x", 0.0)?,
                    num(node, "y", 0.0)?,
                    num(node, "width", 0.0)?,
                    num(node, "height", 0.0)?,
                    num(node, "rx", 0.0)?,
                );
                let (w, h) = (w.max(0.0), h.max(0.0));
                let half = if s.stroke.is_some() {
                    s.stroke_width / 2.0
                } else {
                    0.0
                };
                let bbox = [x - half, y - half, x + w + half, y + h + half];
                if rx > 0.0 {
                    let code = format!("place(dx: {}, dy: {}, rect(width: {}, height: {}, fill: {}, stroke: {}, radius: {})); ", self.x(x), self.y(y), self.len(w), self.len(h), self.fill(&s), self.stroke(&s), self.len(rx));
                    self.shape(None, code, bbox);
                } else {
                    let (l, t, r, b) = (self.x(x), self.y(y), self.x(x + w), self.y(y + h));
                    let parts = format!("curve.move(({l}, {t})), curve.line(({r}, {t})), curve.line(({r}, {b})), curve.line(({l}, {b})), curve.close(), ");
                    self.shape(
                        Some(format!(
                            "fill: {}, stroke: {}",
                            self.fill(&s),
                            self.stroke(&s)
                        )),
                        parts,
                        bbox,
                    );
                }
            }
            "circle" => {
                let (cx, cy, r) = (
                    num(node, "cx", 0.0)?,
                    num(node, "cy", 0.0)?,
                    num(node, "r", 0.0)?.max(0.0),
                );
                // Four cubic arcs (the usual 0.5523 of the radius for the control points).
                let k = 0.552_284_75 * r;
                let p = |x: f64, y: f64| format!("({}, {})", self.x(x), self.y(y));
                let parts = format!(
                    "curve.move({}), curve.cubic({}, {}, {}), curve.cubic({}, {}, {}), curve.cubic({}, {}, {}), curve.cubic({}, {}, {}), curve.close(), ",
                    p(cx + r, cy),
                    p(cx + r, cy + k), p(cx + k, cy + r), p(cx, cy + r),
                    p(cx - k, cy + r), p(cx - r, cy + k), p(cx - r, cy),
                    p(cx - r, cy - k), p(cx - k, cy - r), p(cx, cy - r),
                    p(cx + k, cy - r), p(cx + r, cy - k), p(cx + r, cy),
                );
                let half = if s.stroke.is_some() {
                    s.stroke_width / 2.0
                } else {
                    0.0
                };
                self.shape(
                    Some(format!(
                        "fill: {}, stroke: {}",
                        self.fill(&s),
                        self.stroke(&s)
                    )),
                    parts,
                    [cx - r - half, cy - r - half, cx + r + half, cy + r + half],
                );
            }
            "path" => {
                let (parts, mut bbox) = self.path(node.attribute("d")?)?;
                if s.stroke.is_some() {
                    let half = s.stroke_width / 2.0;
                    bbox = [
                        bbox[0] - half,
                        bbox[1] - half,
                        bbox[2] + half,
                        bbox[3] + half,
                    ];
                }
                self.shape(
                    Some(format!(
                        "fill: {}, stroke: {}",
                        self.fill(&s),
                        self.stroke(&s)
                    )),
                    parts,
                    bbox,
                );
            }
            "text" => self.text(node, &s)?,
            _ => return None,
        }
        Some(())
    }

    /// A path of straight segments (M, L, H, V, Z, absolute or relative) as `curve` segments.
    /// With the box of its points.
    fn path(&self, d: &str) -> Option<(String, [f64; 4])> {
        let mut out = String::new();
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut reach = |x: f64, y: f64| {
            bbox = [
                bbox[0].min(x),
                bbox[1].min(y),
                bbox[2].max(x),
                bbox[3].max(y),
            ]
        };
        let (mut x, mut y, mut start) = (0.0, 0.0, (0.0, 0.0));
        let mut tokens = Tokens { rest: d };
        let mut command = None;
        while let Some(tok) = tokens.next()? {
            let c = match tok {
                Token::Command(c) => {
                    if matches!(c, 'Z' | 'z') {
                        out.push_str("curve.close(), ");
                        (x, y) = start;
                        command = None;
                        continue;
                    }
                    command = Some(c);
                    tokens.number()?
                }
                Token::Number(n) => n,
            };
            let cmd = command?;
            let relative = cmd.is_ascii_lowercase();
            let (bx, by) = if relative { (x, y) } else { (0.0, 0.0) };
            match cmd.to_ascii_uppercase() {
                'M' | 'L' => {
                    (x, y) = (bx + c, by + tokens.number()?);
                    reach(x, y);
                    let f = if cmd.eq_ignore_ascii_case(&'m') {
                        "move"
                    } else {
                        "line"
                    };
                    let _ = write!(out, "curve.{f}(({}, {})), ", self.x(x), self.y(y));
                    if f == "move" {
                        start = (x, y);
                        // Further pairs after a move are lines (SVG's rule).
                        command = Some(if relative { 'l' } else { 'L' });
                    }
                }
                'H' => {
                    x = bx + c;
                    reach(x, y);
                    let _ = write!(out, "curve.line(({}, {})), ", self.x(x), self.y(y));
                }
                'V' => {
                    y = by + c;
                    reach(x, y);
                    let _ = write!(out, "curve.line(({}, {})), ", self.x(x), self.y(y));
                }
                _ => return None,
            }
        }
        (!out.is_empty()).then_some((out, bbox))
    }

    fn text(&mut self, node: roxmltree::Node, s: &Style) -> Option<()> {
        let (x, y) = (num(node, "x", 0.0)?, num(node, "y", 0.0)?);
        // The text's runs, each with its style.
        let mut runs: Vec<String> = Vec::new();
        // The text's width as Typst will set it, if every run can be measured.
        let mut width = Some(0.0);
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
            let size = (st.font_size * self.scale * 100.0).round() / 100.0;
            width = width
                .zip(
                    st.family
                        .as_deref()
                        .and_then(|f| super::typst::text_width(f, st.bold, st.italic, size, &run)),
                )
                .map(|(a, b)| a + b);
            runs.push(format!("text({args}{})", string(&run)));
        }
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
            self.pending.push(Line {
                baseline: ((py - self.y0) * self.scale * 100.0).round() as i64,
                left: (left - self.x0) * self.scale,
                right: (left + w - self.x0) * self.scale,
                content: content.clone(),
            });
        } else if angle == 0.0 {
            let (align, dx) = match s.anchor {
                Anchor::Start => ("left", px - self.x0),
                Anchor::Middle => ("center", px - self.x0 - self.width / 2.0),
                Anchor::End => ("right", px - self.x0 - self.width),
            };
            let _ = write!(
                self.loose,
                "place(top + {align}, dx: {}, dy: {}, {content}); ",
                self.len(dx),
                self.y(py)
            );
        } else {
            // Turned: a wide box whose anchor edge is the turning point.
            let b = self.width;
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

enum Token {
    Command(char),
    Number(f64),
}

/// The tokens of a path's `d`.
struct Tokens<'a> {
    rest: &'a str,
}

impl Tokens<'_> {
    /// The next command or number; `Ok(None)` at the end; `None` (outer) on anything else.
    fn next(&mut self) -> Option<Option<Token>> {
        self.rest = self
            .rest
            .trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        let Some(c) = self.rest.chars().next() else {
            return Some(None);
        };
        if c.is_ascii_alphabetic() {
            self.rest = &self.rest[1..];
            return Some(Some(Token::Command(c)));
        }
        let end = self
            .rest
            .char_indices()
            .skip(1)
            .find(|&(i, ch)| {
                !(ch.is_ascii_digit()
                    || ch == '.'
                    || ((ch == 'e' || ch == 'E') && i > 0)
                    || ((ch == '-' || ch == '+')
                        && matches!(self.rest.as_bytes()[i - 1], b'e' | b'E')))
            })
            .map_or(self.rest.len(), |(i, _)| i);
        let n: f64 = self.rest[..end]
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())?;
        self.rest = &self.rest[end..];
        Some(Some(Token::Number(n)))
    }

    fn number(&mut self) -> Option<f64> {
        match self.next()? {
            Some(Token::Number(n)) => Some(n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_what_metabook_figures_use() {
        let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 10 200 100" font-family="Libertinus Serif, serif" font-size="10"><title>t</title><text x="100" y="20" text-anchor="middle" font-weight="bold">A &amp; "B"</text><line x1="0" y1="30" x2="200" y2="30" stroke="black" stroke-width="0.8" stroke-dasharray="4 2"/><rect x="10" y="40" width="5" height="5" fill="#1f5fa8"/><path d="M10 50 l-6 -3 v6 z" fill="black"/><text x="5" y="60" transform="rotate(-90 5 60)" text-anchor="middle">turned</text><text x="1" y="70">a <tspan font-style="italic">not reported</tspan> b</text><text x="190" y="70" text-anchor="end" font-family="DejaVu Sans Mono">+</text></svg>"##;
        let t = draw(svg, 100.0).unwrap();
        assert!(t.starts_with("box(width: 100.00pt, height: 50.00pt, clip: true, { set text(font: \"Libertinus Serif\", size: 5.00pt"), "{t}");
        // Units at half a point, the view box' top at 0. Shapes are curves, by paint.
        assert!(t.contains("place(curve(fill: none, stroke: (paint: black, thickness: 0.40pt, dash: (2.00pt, 1.00pt,)), curve.move((0.00pt, 10.00pt)), curve.line((100.00pt, 10.00pt)), ))"), "{t}");
        assert!(t.contains("place(curve(fill: rgb(\"#1f5fa8\"), stroke: none, curve.move((5.00pt, 15.00pt)), curve.line((7.50pt, 15.00pt)), curve.line((7.50pt, 17.50pt)), curve.line((5.00pt, 17.50pt)), curve.close(), ))"), "{t}");
        assert!(t.contains("curve.move((5.00pt, 20.00pt)), curve.line((2.00pt, 18.50pt)), curve.line((2.00pt, 21.50pt)), curve.close()"), "{t}");
        // Text over the shapes: turned about its anchor; the others one line per baseline,
        // placed by their measured widths (centred: its left edge left of the anchor by half
        // its width), each run with its style and font.
        let (shapes, texts) = t.split_at(t.find("rotate(").unwrap());
        assert!(
            shapes.contains("curve(") && !texts.contains("curve("),
            "{t}"
        );
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
            line.contains(
                "#[#text(\"a \")#text(style: \"italic\", \"not reported\")#text(\" b\")]#h("
            ),
            "{line}"
        );
        assert!(
            line.contains("#text(font: (\"DejaVu Sans Mono\", \"Libertinus Serif\"), \"+\")"),
            "{line}"
        );
    }

    #[test]
    fn shapes_of_one_paint_become_one_curve_unless_that_changes_what_covers_what() {
        // Two forest rows: a whisker then a square over it, twice: two curves.
        let rows = r##"<svg viewBox="0 0 100 100"><line x1="0" y1="10" x2="50" y2="10" stroke="black"/><rect x="20" y="5" width="10" height="10" fill="blue"/><line x1="0" y1="40" x2="50" y2="40" stroke="black"/><rect x="20" y="35" width="10" height="10" fill="blue"/></svg>"##
            .replace("blue", "#00f");
        let t = draw(&rows, 100.0).unwrap();
        assert_eq!(t.matches("place(curve(").count(), 2, "{t}");
        assert!(
            t.find("stroke: (paint: black").unwrap() < t.find("fill: rgb(").unwrap(),
            "whiskers first, squares over them: {t}"
        );
        // A black line over a square, then a square over that line: the second square cannot
        // join the first (it would go under the line).
        let over = r##"<svg viewBox="0 0 100 100"><rect x="0" y="0" width="50" height="50" fill="#00f"/><line x1="0" y1="25" x2="100" y2="25" stroke="black"/><rect x="40" y="20" width="20" height="10" fill="#00f"/></svg>"##;
        let t = draw(over, 100.0).unwrap();
        assert_eq!(t.matches("place(curve(").count(), 3, "{t}");
        // Filled and stroked circles that overlap stay apart (one's outline under the other).
        let dots = r##"<svg viewBox="0 0 100 100"><circle cx="10" cy="10" r="5" fill="#00f" stroke="black"/><circle cx="13" cy="10" r="5" fill="#00f" stroke="black"/><circle cx="60" cy="60" r="5" fill="#00f" stroke="black"/></svg>"##;
        let t = draw(dots, 100.0).unwrap();
        assert_eq!(t.matches("place(curve(").count(), 2, "{t}");
    }

    #[test]
    fn anything_else_is_left_to_the_image_reader() {
        for svg in [
            r#"<svg viewBox="0 0 10 10"><image href="x.png"/></svg>"#,
            r#"<svg viewBox="0 0 10 10"><path d="M0 0 C1 1 2 2 3 3"/></svg>"#,
            r#"<svg viewBox="0 0 10 10"><rect fill="url(#g)"/></svg>"#,
            r#"<svg viewBox="0 0 10 10"><g transform="scale(2)"/></svg>"#,
            r#"<svg viewBox="0 0 10 10"><text x="1" y="1" text-anchor="inherit">x</text></svg>"#,
            r#"<svg><rect/></svg>"#,
            "not svg",
        ] {
            assert!(draw(svg, 100.0).is_none(), "{svg}");
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
