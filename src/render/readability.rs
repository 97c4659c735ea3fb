//! How easy an English text is to read: Flesch reading ease and the Flesch–Kincaid grade level,
//! from counts of sentences, words and syllables.
//!
//! - reading ease = 206.835 − 1.015 × (words / sentences) − 84.6 × (syllables / words)
//! - grade = 0.39 × (words / sentences) + 11.8 × (syllables / words) − 15.59
//!
//! Syllables are counted as the usual checkers do: groups of vowels (y counts as one), less a
//! silent final e, at least one per word. Numbers count as one word of one syllable per digit
//! group, so "1.52" is one word. Pure: text in, numbers out.
//!
//! Spanish text is scored with Szigriszt-Pazos' adaptation of Flesch (the INFLESZ scale that
//! Spanish health-literacy studies use, Barrio-Cantalejo et al., An Sist Sanit Navar 2008):
//! ease = 206.835 − 62.3 × (syllables / words) − (words / sentences), where a text for the
//! general public should score 55 or more. Spanish syllables are vowel nuclei: a run of vowels
//! is one syllable (a diphthong, "ue", "ia") except where two strong vowels (a, e, o, or an
//! accented í or ú) meet, which is a hiatus ("le-er", "rí-o").

/// Which readability formula a language is scored with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formula {
    /// English: Flesch reading ease and the Flesch–Kincaid grade; the target is grade ≤ 8.
    FleschKincaid,
    /// Spanish: Szigriszt-Pazos (INFLESZ); the target is 55 or more.
    SzigrisztPazos,
}

impl Formula {
    /// The formula for a language (its ISO 639 code), if metabook has one.
    pub fn for_language(code: &str) -> Option<Formula> {
        match code {
            "en" => Some(Formula::FleschKincaid),
            "es" => Some(Formula::SzigrisztPazos),
            _ => None,
        }
    }
}

/// The counts and scores of a text, and what makes it hard.
#[derive(Debug, Clone, PartialEq)]
pub struct Readability {
    pub sentences: usize,
    pub words: usize,
    pub syllables: usize,
    pub formula: Formula,
    /// Flesch reading ease (English) or Szigriszt-Pazos' index (Spanish): higher is easier.
    pub reading_ease: f64,
    /// The Flesch–Kincaid grade level (English only).
    pub grade: Option<f64>,
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

/// Syllables of one Spanish word: its vowel nuclei, a hiatus of two strong vowels counting two.
pub fn syllables_es(word: &str) -> usize {
    let w: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
    if w.is_empty() {
        return usize::from(word.chars().any(|c| c.is_ascii_digit()));
    }
    let strong = |c: char| "aeoáéóíú".contains(c);
    let vowel = |c: char| "aeiouáéíóúü".contains(c);
    let mut count = 0;
    let mut previous: Option<char> = None;
    for (i, &c) in w.iter().enumerate() {
        // "y" is a vowel only at a word's end after a vowel ("muy", "hay") or on its own ("y").
        let is_vowel = vowel(c) || (c == 'y' && i + 1 == w.len() && (i == 0 || vowel(w[i - 1])));
        match (is_vowel, previous) {
            (false, _) => previous = None,
            (true, None) => {
                count += 1;
                previous = Some(c);
            }
            (true, Some(p)) => {
                if strong(p) && strong(c) {
                    count += 1;
                }
                previous = Some(c);
            }
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

/// Score an English text.
pub fn measure(text: &str) -> Readability {
    measure_with(text, Formula::FleschKincaid)
}

/// Score a text with a language's formula.
pub fn measure_with(text: &str, formula: Formula) -> Readability {
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
            let n = match formula {
                Formula::FleschKincaid => syllables(&w),
                Formula::SzigrisztPazos => syllables_es(&w),
            };
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
        formula,
        reading_ease: match formula {
            Formula::FleschKincaid => 206.835 - 1.015 * (w / s) - 84.6 * (y / w),
            Formula::SzigrisztPazos => 206.835 - 62.3 * (y / w) - w / s,
        },
        grade: (formula == Formula::FleschKincaid).then(|| 0.39 * (w / s) + 11.8 * (y / w) - 15.59),
        longest_sentences: lengths,
        hardest_words: hard,
    }
}

impl Readability {
    /// Words per sentence.
    pub fn mean_sentence(&self) -> f64 {
        self.words as f64 / self.sentences.max(1) as f64
    }

    /// Whether the text is as easy as a plain-language summary should be: Flesch–Kincaid grade
    /// 8 or below, or Szigriszt-Pazos 55 or above.
    pub fn easy_enough(&self) -> bool {
        match self.formula {
            Formula::FleschKincaid => self.grade.is_some_and(|g| g <= 8.0),
            Formula::SzigrisztPazos => self.reading_ease >= 55.0,
        }
    }

    /// The scores in words, as the build prints them.
    pub fn describe(&self) -> String {
        match (self.formula, self.grade) {
            (Formula::FleschKincaid, Some(g)) => format!("Flesch reading ease {:.0}, Flesch–Kincaid grade {g:.1}", self.reading_ease),
            _ => format!("Szigriszt-Pazos (INFLESZ) {:.0}", self.reading_ease),
        }
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
        assert!((r.grade.unwrap() - -1.45).abs() < 1e-9, "{:?}", r.grade);
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
        assert!((r.reading_ease - ease).abs() < 1e-9 && (r.grade.unwrap() - grade).abs() < 1e-9);
        assert_eq!(r.hardest_words[0], ("intrathecal".to_string(), 4));
        assert_eq!(r.longest_sentences[0].1, 8);
    }

    #[test]
    fn sentences_split_at_ends_and_blocks_not_at_decimals() {
        let s = sentences("SMD 1.52 (95% CI 1.09 to 1.96). Next one!\n# A heading\n- an item");
        assert_eq!(s, ["SMD 1.52 (95% CI 1.09 to 1.96).", "Next one!", "# A heading", "- an item"]);
    }

    #[test]
    fn spanish_syllables_by_hand() {
        for (word, n) in [
            ("el", 1),
            ("bomba", 2),
            ("baclofeno", 4),
            ("músculos", 3),
            ("rígidos", 3),
            ("ciudad", 2),   // diphthong "iu"
            ("pueden", 2),   // diphthong "ue"
            ("leer", 2),     // hiatus of two strong vowels
            ("río", 2),      // an accented weak vowel breaks the diphthong
            ("probablemente", 5),
            ("espasticidad", 5),
            ("muy", 1),
            ("y", 1),
            ("que", 1),
            ("evidencia", 4),
        ] {
            assert_eq!(syllables_es(word), n, "{word}");
        }
    }

    /// Hand-checked: "La bomba puede reducir la rigidez." is 1 sentence of 6 words and
    /// la(1) bom-ba(2) pue-de(2) re-du-cir(3) la(1) ri-gi-dez(3) = 12 syllables:
    /// 206.835 − 62.3 × 2 − 6 = 76.235.
    #[test]
    fn a_hand_checked_spanish_sentence() {
        let r = measure_with("La bomba puede reducir la rigidez.", Formula::SzigrisztPazos);
        assert_eq!((r.sentences, r.words, r.syllables), (1, 6, 12));
        assert!((r.reading_ease - 76.235).abs() < 1e-9, "{}", r.reading_ease);
        assert_eq!(r.grade, None);
        assert!(r.easy_enough());
        assert_eq!(r.describe(), "Szigriszt-Pazos (INFLESZ) 76");
    }
}
