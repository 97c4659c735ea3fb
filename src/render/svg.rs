//! Text layout shared by the SVG figures. A figure is one SVG used by both outputs, so its
//! text is placed by metabook, not by a browser or typst: widths are estimated from the number
//! of characters (each figure keeps its own per-character factor, for its font size and
//! weight), and text that could be long — an author's label, a PRISMA box — is wrapped here.

/// Wrap `text` into lines no wider than `width` by `width_of`, breaking at spaces only (a
/// no-break space holds; a single word wider than `width` stays whole on its line). Never
/// empty: an empty text is one empty line.
pub fn wrap(text: &str, width: f64, width_of: impl Fn(&str) -> f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !line.is_empty() && width_of(&line) + width_of(" ") + width_of(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_within_the_width() {
        let chars = |s: &str| s.chars().count() as f64;
        assert_eq!(wrap("Favours intrathecal baclofen", 12.0, chars), ["Favours", "intrathecal", "baclofen"]);
        assert_eq!(wrap("a b c", 3.0, chars), ["a b", "c"]);
        assert_eq!(wrap("", 3.0, chars), [""]);
        assert_eq!(wrap("unbreakable\u{a0}words", 3.0, chars), ["unbreakable\u{a0}words"]);
    }
}

/// A tall figure cut into horizontal parts for a paged output: the heading part, to repeat on
/// each page, then the bands of rows, each a whole SVG of its own over the same coordinates.
/// The HTML shows the figure whole; the PDF sets the parts as the rows of one breakable grid,
/// so that a forest plot of a thousand studies continues across pages instead of being cut.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Parts {
    pub head: String,
    pub bands: Vec<String>,
}

/// What was drawn where: the byte range of an SVG's text that draws between two heights.
#[derive(Debug, Clone)]
pub struct Mark {
    pub top: f64,
    pub bottom: f64,
    pub bytes: std::ops::Range<usize>,
}

/// Cut an SVG drawn as `marks` (in drawing order) into a head (everything above `head_bottom`)
/// and bands that break only at the given heights. `open` is the root element's opening tag
/// without its `viewBox`, `width` and `height`. An element is in every band it reaches (a
/// vertical line through all rows is in each, clipped by the band's view box), so the parts
/// together are about as long as the figure.
pub fn cut(svg: &str, open: &str, width: f64, height: f64, head_bottom: f64, breaks: &[f64], marks: &[Mark]) -> Parts {
    let part = |top: f64, bottom: f64| {
        let mut s = format!("{open} viewBox=\"0 {top:.1} {width:.1} {h:.1}\" width=\"{width:.1}\" height=\"{h:.1}\">", h = bottom - top);
        for m in marks.iter().filter(|m| m.top < bottom && m.bottom > top) {
            s.push_str(&svg[m.bytes.clone()]);
        }
        s.push_str("</svg>\n");
        s
    };
    let mut edges = vec![head_bottom];
    edges.extend(breaks.iter().copied().filter(|&b| b > head_bottom && b < height));
    edges.push(height);
    Parts { head: part(0.0, head_bottom), bands: edges.windows(2).map(|w| part(w[0], w[1])).collect() }
}

#[cfg(test)]
mod cut_tests {
    use super::*;

    #[test]
    fn each_row_is_in_one_band_and_a_line_through_them_in_all() {
        let mut svg = String::from("<svg>");
        let mut marks = Vec::new();
        let mut add = |svg: &mut String, top: f64, bottom: f64, el: &str| {
            let start = svg.len();
            svg.push_str(el);
            marks.push(Mark { top, bottom, bytes: start..svg.len() });
        };
        add(&mut svg, 0.0, 20.0, "<text>head</text>");
        for i in 0..6 {
            add(&mut svg, 20.0 + 10.0 * i as f64, 30.0 + 10.0 * i as f64, &format!("<text>row{i}</text>"));
        }
        add(&mut svg, 20.0, 80.0, "<line/>");
        let parts = cut(&svg, "<svg x", 100.0, 80.0, 20.0, &[20.0, 40.0, 60.0], &marks);
        assert_eq!(parts.head, "<svg x viewBox=\"0 0.0 100.0 20.0\" width=\"100.0\" height=\"20.0\"><text>head</text></svg>\n");
        assert_eq!(parts.bands.len(), 3);
        for i in 0..6 {
            assert_eq!(parts.bands.iter().filter(|b| b.contains(&format!("row{i}<"))).count(), 1, "row {i}");
        }
        assert!(parts.bands.iter().all(|b| b.contains("<line/>") && !b.contains("head")));
        assert!(parts.bands[1].starts_with("<svg x viewBox=\"0 40.0 100.0 20.0\""), "{}", parts.bands[1]);
    }
}
