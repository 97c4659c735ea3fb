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
