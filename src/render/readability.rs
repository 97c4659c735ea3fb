//! How easy an English text is to read: Flesch reading ease and the Flesch–Kincaid grade level,
//! from counts of sentences, words and syllables.
//!
//! - reading ease = 206.835 − 1.015 × (words / sentences) − 84.6 × (syllables / words)
//! - grade = 0.39 × (words / sentences) + 11.8 × (syllables / words) − 15.59
//!
//! Syllables are counted as the usual checkers do: groups of vowels (y counts as one), less a
//! silent final e, at least one per word. Numbers count as one word of one syllable per digit
//! group, so "1.52" is one word. Pure: text in, numbers out.

/// The counts and scores of a text, and what makes it hard.
#[derive(Debug, Clone, PartialEq)]
pub struct Readability {
    pub sentences: usize,
    pub words: usize,
    pub syllables: usize,
    pub reading_ease: f64,
    pub grade: f64,
    /// The longest sentences, longest first (at most three), with their word counts.
    pub longest_sentences: Vec<(String, usize)>,
    /// The words with the most syllables (three or more), most first (at most eight).
    pub hardest_words: Vec<(String, usize)>,
}

/// Syllables of one word.
pub fn syllables(word: &str) -> usize {
    let w: String = word.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
    if w.is_empty() {
        return usize::from(word.chars().any(|c| c.is_ascii_digit()));
    }
    let vowel = |c: char| "aeiouy".contains(c);
    let chars: Vec<char> = w.chars().collect();
    let mut count = 0;
    let mut previous = false;
    for &c in &chars {
        let v = vowel(c);
        if v && !previous {
            count += 1;
        }
        previous = v;
    }
    // A silent final e ("make", "stroke"), but not "-le" after a consonant ("table").
    let n = chars.len();
    let consonant_le = chars[n.saturating_sub(2)] == 'l' && n > 2 && !vowel(chars[n - 3]);
    if n > 2 && chars[n - 1] == 'e' && !vowel(chars[n - 2]) && !consonant_le && count > 1 {
        count -= 1;
    }
    // Endings that add no syllable: "-ed" ("walked", "reduced") unless after t or d
    // ("wanted"); "-es" ("makes") unless after a sibilant ("reduces", "pages"); "-ely"
    // ("moderately").
    if n > 3 && count > 1 {
        let before = chars[n - 3];
        let silent_ed = w.ends_with("ed") && !vowel(before) && !"td".contains(before);
        let silent_es = w.ends_with("es") && !vowel(before) && !"scxzgh".contains(before);
        let silent_ely = n > 4 && w.ends_with("ely") && !vowel(chars[n - 4]);
        if silent_ed || silent_es || silent_ely {
            count -= 1;
        }
    }
    count.max(1)
}

/// Split text into sentences: at `.`, `!`, `?` or `:` followed by a space or the end, and at
/// line breaks between blocks (headings and list items are sentences of their own).
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for block in text.split('\n').map(str::trim).filter(|b| !b.is_empty()) {
        let mut current = String::new();
        let chars: Vec<char> = block.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            current.push(c);
            let ends = matches!(c, '.' | '!' | '?' | ':' | ';') && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
            // "e.g." and decimal points do not end a sentence: the next character decides.
            if ends && !current.trim_end().ends_with("e.g.") && !current.trim_end().ends_with("i.e.") {
                out.push(current.trim().to_string());
                current.clear();
            }
        }
        if !current.trim().is_empty() {
            out.push(current.trim().to_string());
        }
    }
    out.retain(|s| s.chars().any(char::is_alphanumeric));
    out
}

/// The words of a sentence (letters, digits, apostrophes and inner hyphens or points).
pub fn words(sentence: &str) -> Vec<String> {
    sentence
        .split(|c: char| c.is_whitespace() || c == '/' || c == '—' || c == '–')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .collect()
}

/// Score a text.
pub fn measure(text: &str) -> Readability {
    let sentences = sentences(text);
    let mut words_total = 0;
    let mut syllables_total = 0;
    let mut lengths = Vec::new();
    let mut hard: Vec<(String, usize)> = Vec::new();
    for s in &sentences {
        let ws = words(s);
        words_total += ws.len();
        lengths.push((s.clone(), ws.len()));
        for w in ws {
            let n = syllables(&w);
            syllables_total += n;
            if n >= 3 && w.chars().all(char::is_alphabetic) && !hard.iter().any(|(h, _)| h.eq_ignore_ascii_case(&w)) {
                hard.push((w.to_lowercase(), n));
            }
        }
    }
    let (s, w, y) = (sentences.len().max(1) as f64, words_total.max(1) as f64, syllables_total as f64);
    lengths.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    lengths.truncate(3);
    hard.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    hard.truncate(8);
    Readability {
        sentences: sentences.len(),
        words: words_total,
        syllables: syllables_total,
        reading_ease: 206.835 - 1.015 * (w / s) - 84.6 * (y / w),
        grade: 0.39 * (w / s) + 11.8 * (y / w) - 15.59,
        longest_sentences: lengths,
        hardest_words: hard,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_of_common_words() {
        for (word, n) in [
            ("the", 1),
            ("cat", 1),
            ("stroke", 1),
            ("make", 1),
            ("makes", 1),
            ("table", 2),
            ("people", 2),
            ("muscle", 2),
            ("stiffness", 2),
            ("reduces", 3),
            ("walking", 2),
            ("evidence", 3),
            ("baclofen", 3),
            ("spasticity", 4),
            ("intrathecal", 4),
            ("probably", 3),
            ("uncertain", 3),
            ("studies", 2),
            ("reduced", 2),
            ("wanted", 2),
            ("walked", 1),
            ("moderately", 4),
            ("pages", 2),
        ] {
            assert_eq!(syllables(word), n, "{word}");
        }
    }

    /// Hand-checked: "The cat sat on the mat." has 1 sentence, 6 words, 6 syllables:
    /// ease = 206.835 − 1.015 × 6 − 84.6 × 1 = 116.145; grade = 0.39 × 6 + 11.8 − 15.59 = −1.45.
    #[test]
    fn a_hand_checked_simple_text() {
        let r = measure("The cat sat on the mat.");
        assert_eq!((r.sentences, r.words, r.syllables), (1, 6, 6));
        assert!((r.reading_ease - 116.145).abs() < 1e-9, "{}", r.reading_ease);
        assert!((r.grade - -1.45).abs() < 1e-9, "{}", r.grade);
    }

    /// Hand-checked against a dictionary's syllable counts.
    #[test]
    fn a_hand_checked_summary_sentence() {
        let text = "Intrathecal baclofen probably reduces muscle stiffness after stroke. We are moderately confident in this result.";
        let r = measure(text);
        // Words: intrathecal(4) baclofen(3) probably(3) reduces(3) muscle(2) stiffness(2)
        // after(2) stroke(1) = 8 words, 20 syllables; we(1) are(1) moderately(4) confident(3)
        // in(1) this(1) result(2) = 7 words, 13 syllables.
        assert_eq!((r.sentences, r.words, r.syllables), (2, 15, 33));
        let ease = 206.835 - 1.015 * 7.5 - 84.6 * (33.0 / 15.0);
        let grade = 0.39 * 7.5 + 11.8 * (33.0 / 15.0) - 15.59;
        assert!((r.reading_ease - ease).abs() < 1e-9 && (r.grade - grade).abs() < 1e-9);
        assert_eq!(r.hardest_words[0], ("intrathecal".to_string(), 4));
        assert_eq!(r.longest_sentences[0].1, 8);
    }

    #[test]
    fn sentences_split_at_ends_and_blocks_not_at_decimals() {
        let s = sentences("SMD 1.52 (95% CI 1.09 to 1.96). Next one!\n# A heading\n- an item");
        assert_eq!(s, ["SMD 1.52 (95% CI 1.09 to 1.96).", "Next one!", "# A heading", "- an item"]);
    }
}
