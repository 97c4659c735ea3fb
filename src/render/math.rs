//! LaTeX math from the Markdown (`$…$`, `$$…$$`) as Typst math code (for the PDF), as MathML (for the HTML) and as
//! Office Math (OMML, for the Word file: an equation Word and LibreOffice edit as one).
//!
//! The PDF is one typst compilation: a single formula that typst cannot read would abort the whole book. So this is a
//! whitelist, not a pass-through. The LaTeX is parsed into a small syntax tree, and only what the tables below and
//! `Parser::command` list is accepted; every Typst name the printer emits comes from those tables (each checked
//! against typst 0.15.1's math scope), and text the author typed reaches Typst only inside string literals. Anything
//! else — an unknown command, unbalanced braces, alignment (`&`, `\\`) — gives `None`, and the caller shows the formula
//! as it was typed.
//!
//! Pipeline: `Parser` (which reads the tokens on demand) → a tree of `Node`s → the printers `typst`, `mathml` and
//! `omml`.

/// Typst math code for `latex` (the content to put between `$ … $`, without the dollars), or None if any part is not understood.
pub fn to_typst(latex: &str) -> Option<String> {
    let nodes = Parser::new(latex).formula()?;
    Some(typst::row(&nodes))
}

/// A MathML `<math>` element (display="block" when `display`), or None if any part is not understood.
pub fn to_mathml(latex: &str, display: bool) -> Option<String> {
    let nodes = Parser::new(latex).formula()?;
    let mut out = String::from(if display { r#"<math display="block">"# } else { "<math>" });
    mathml::row(&nodes, display, &mut out);
    out.push_str("</math>");
    Some(out)
}

/// An Office Math `<m:oMath>` element (in an `<m:oMathPara>`, a paragraph of its own, when `display`), or None if any
/// part is not understood. It needs the `m` namespace (`http://schemas.openxmlformats.org/officeDocument/2006/math`)
/// declared, as Word's documents declare it.
pub fn to_omml(latex: &str, display: bool) -> Option<String> {
    let nodes = Parser::new(latex).formula()?;
    let mut out = String::from(if display { "<m:oMathPara><m:oMath>" } else { "<m:oMath>" });
    omml::row(&nodes, display, &mut out);
    out.push_str(if display { "</m:oMath></m:oMathPara>" } else { "</m:oMath>" });
    Some(out)
}

// ---------------------------------------------------------------------------------------------------------------------
// Tables. The Typst names were checked against the sources typst 0.15.1 builds its math scope from: codex 0.3.0
// `src/modules/sym.txt` (symbols), typst-library 0.15.1 `src/math/op.rs` (log, lim, …) and `src/math/mod.rs` (thin,
// quad, …, and the functions frac, sqrt, root, lr, mid, op, attach, limits, scripts, upright, bold, …).

/// How a symbol behaves: which MathML element it becomes, and where its scripts go.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Class {
    /// A variable-like symbol, `<mi>` (italic when it is one Latin or lowercase Greek letter).
    Ident,
    /// An upright symbol (capital Greek, ∇): `<mi mathvariant="normal">`.
    Upright,
    /// An operator, relation, arrow or punctuation: `<mo>`.
    Op,
    /// A delimiter: `<mo stretchy="false">`; it may also follow `\left`, `\middle` and `\right`.
    Fence,
    /// A big operator whose scripts go below and above in display style (∑).
    Large,
    /// A big operator whose scripts stay at the side (∫).
    Integral,
    /// A named function whose scripts stay at the side (log).
    Function,
    /// A named function whose scripts go below in display style (lim).
    LimitFunction,
}
use Class::*;

/// Every symbol: LaTeX token (a command or a single character), Typst name, MathML text, class.
const SYMBOLS: &[(&str, &str, &str, Class)] = &[
    // Characters typed as themselves. Typst reads some of them as syntax (`/` is a fraction, `,` separates arguments,
    // `(` opens a group that grows with its content, which LaTeX's does not), so those are escaped. `-` is Typst's
    // shorthand for the minus sign.
    ("+", "+", "+", Op),
    ("-", "-", "\u{2212}", Op),
    ("=", "=", "=", Op),
    ("<", "<", "<", Op),
    (">", ">", ">", Op),
    ("*", "ast.op", "\u{2217}", Op),
    (",", r"\,", ",", Op),
    (";", r"\;", ";", Op),
    (":", r"\:", ":", Op),
    (".", r"\.", ".", Op),
    ("!", r"\!", "!", Op),
    ("?", r"\?", "?", Op),
    ("/", r"\/", "/", Fence),
    ("(", r"\(", "(", Fence),
    (")", r"\)", ")", Fence),
    ("[", r"\[", "[", Fence),
    ("]", r"\]", "]", Fence),
    ("|", r"\|", "|", Fence),
    // Escaped characters.
    (r"\{", "brace.l", "{", Fence),
    (r"\}", "brace.r", "}", Fence),
    (r"\|", r"\‖", "‖", Fence),
    (r"\%", "percent", "%", Ident),
    (r"\#", "hash", "#", Ident),
    (r"\&", "amp", "&", Ident),
    (r"\$", "dollar", "$", Ident),
    (r"\_", "underscore", "_", Ident),
    // Lowercase Greek. LaTeX's \epsilon and \phi are Typst's (and Unicode's) variant forms, and the other way round.
    (r"\alpha", "alpha", "α", Ident),
    (r"\beta", "beta", "β", Ident),
    (r"\gamma", "gamma", "γ", Ident),
    (r"\delta", "delta", "δ", Ident),
    (r"\epsilon", "epsilon.alt", "ϵ", Ident),
    (r"\varepsilon", "epsilon", "ε", Ident),
    (r"\zeta", "zeta", "ζ", Ident),
    (r"\eta", "eta", "η", Ident),
    (r"\theta", "theta", "θ", Ident),
    (r"\vartheta", "theta.alt", "ϑ", Ident),
    (r"\iota", "iota", "ι", Ident),
    (r"\kappa", "kappa", "κ", Ident),
    (r"\varkappa", "kappa.alt", "ϰ", Ident),
    (r"\lambda", "lambda", "λ", Ident),
    (r"\mu", "mu", "μ", Ident),
    (r"\nu", "nu", "ν", Ident),
    (r"\xi", "xi", "ξ", Ident),
    (r"\pi", "pi", "π", Ident),
    (r"\varpi", "pi.alt", "ϖ", Ident),
    (r"\rho", "rho", "ρ", Ident),
    (r"\varrho", "rho.alt", "ϱ", Ident),
    (r"\sigma", "sigma", "σ", Ident),
    (r"\varsigma", "sigma.alt", "ς", Ident),
    (r"\tau", "tau", "τ", Ident),
    (r"\upsilon", "upsilon", "υ", Ident),
    (r"\phi", "phi.alt", "ϕ", Ident),
    (r"\varphi", "phi", "φ", Ident),
    (r"\chi", "chi", "χ", Ident),
    (r"\psi", "psi", "ψ", Ident),
    (r"\omega", "omega", "ω", Ident),
    // Uppercase Greek (LaTeX has no \Alpha: it is A).
    (r"\Gamma", "Gamma", "Γ", Upright),
    (r"\Delta", "Delta", "Δ", Upright),
    (r"\Theta", "Theta", "Θ", Upright),
    (r"\Lambda", "Lambda", "Λ", Upright),
    (r"\Xi", "Xi", "Ξ", Upright),
    (r"\Pi", "Pi", "Π", Upright),
    (r"\Sigma", "Sigma", "Σ", Upright),
    (r"\Upsilon", "Upsilon", "Υ", Upright),
    (r"\Phi", "Phi", "Φ", Upright),
    (r"\Psi", "Psi", "Ψ", Upright),
    (r"\Omega", "Omega", "Ω", Upright),
    // Other letter-like symbols.
    (r"\infty", "infinity", "∞", Ident),
    (r"\partial", "partial", "∂", Ident),
    (r"\nabla", "nabla", "∇", Upright),
    (r"\ell", "ell", "ℓ", Ident),
    (r"\hbar", "planck", "ħ", Ident),
    (r"\emptyset", "emptyset", "∅", Ident),
    (r"\varnothing", "emptyset", "∅", Ident),
    (r"\prime", "prime", "′", Ident),
    (r"\angle", "angle", "∠", Ident),
    (r"\top", "top", "⊤", Ident),
    (r"\bot", "bot", "⊥", Ident),
    (r"\dagger", "dagger", "†", Ident),
    (r"\forall", "forall", "∀", Op),
    (r"\exists", "exists", "∃", Op),
    (r"\neg", "not", "¬", Op),
    (r"\lnot", "not", "¬", Op),
    // Binary operators.
    (r"\times", "times", "×", Op),
    (r"\cdot", "dot.op", "⋅", Op),
    (r"\pm", "plus.minus", "±", Op),
    (r"\mp", "minus.plus", "∓", Op),
    (r"\div", "div", "÷", Op),
    (r"\ast", "ast.op", "∗", Op),
    (r"\star", "star.op", "⋆", Op),
    (r"\circ", "compose", "∘", Op),
    (r"\bullet", "bullet", "•", Op),
    (r"\cup", "union", "∪", Op),
    (r"\cap", "inter", "∩", Op),
    (r"\setminus", "without", "∖", Op),
    (r"\wedge", "and", "∧", Op),
    (r"\land", "and", "∧", Op),
    (r"\vee", "or", "∨", Op),
    (r"\lor", "or", "∨", Op),
    (r"\oplus", "plus.o", "⊕", Op),
    (r"\otimes", "times.o", "⊗", Op),
    // Relations.
    (r"\le", "lt.eq", "≤", Op),
    (r"\leq", "lt.eq", "≤", Op),
    (r"\ge", "gt.eq", "≥", Op),
    (r"\geq", "gt.eq", "≥", Op),
    (r"\leqslant", "lt.eq.slant", "⩽", Op),
    (r"\geqslant", "gt.eq.slant", "⩾", Op),
    (r"\ne", "eq.not", "≠", Op),
    (r"\neq", "eq.not", "≠", Op),
    (r"\approx", "approx", "≈", Op),
    (r"\sim", "tilde.op", "∼", Op),
    (r"\simeq", "tilde.eq", "≃", Op),
    (r"\cong", "tilde.equiv", "≅", Op),
    (r"\equiv", "equiv", "≡", Op),
    (r"\propto", "prop", "∝", Op),
    (r"\ll", "lt.double", "≪", Op),
    (r"\gg", "gt.double", "≫", Op),
    (r"\lesssim", "lt.tilde", "≲", Op),
    (r"\gtrsim", "gt.tilde", "≳", Op),
    (r"\in", "in", "∈", Op),
    (r"\notin", "in.not", "∉", Op),
    (r"\ni", "in.rev", "∋", Op),
    (r"\subset", "subset", "⊂", Op),
    (r"\subseteq", "subset.eq", "⊆", Op),
    (r"\supset", "supset", "⊃", Op),
    (r"\supseteq", "supset.eq", "⊇", Op),
    (r"\mid", "divides", "∣", Op),
    (r"\parallel", "parallel", "∥", Op),
    (r"\perp", "perp", "⟂", Op),
    // Arrows.
    (r"\to", "arrow.r", "→", Op),
    (r"\rightarrow", "arrow.r", "→", Op),
    (r"\leftarrow", "arrow.l", "←", Op),
    (r"\gets", "arrow.l", "←", Op),
    (r"\leftrightarrow", "arrow.l.r", "↔", Op),
    (r"\longrightarrow", "arrow.r.long", "⟶", Op),
    (r"\Rightarrow", "arrow.r.double", "⇒", Op),
    (r"\Leftarrow", "arrow.l.double", "⇐", Op),
    (r"\Leftrightarrow", "arrow.l.r.double", "⇔", Op),
    (r"\implies", "arrow.r.double.long", "⟹", Op),
    (r"\iff", "arrow.l.r.double.long", "⟺", Op),
    (r"\mapsto", "arrow.r.bar", "↦", Op),
    (r"\uparrow", "arrow.t", "↑", Op),
    (r"\downarrow", "arrow.b", "↓", Op),
    // Dots.
    (r"\ldots", "dots.h", "…", Op),
    (r"\dots", "dots.h", "…", Op),
    (r"\cdots", "dots.h.c", "⋯", Op),
    (r"\vdots", "dots.v", "⋮", Op),
    (r"\ddots", "dots.down", "⋱", Op),
    // Big operators.
    (r"\sum", "sum", "∑", Large),
    (r"\prod", "product", "∏", Large),
    (r"\coprod", "product.co", "∐", Large),
    (r"\bigcup", "union.big", "⋃", Large),
    (r"\bigcap", "inter.big", "⋂", Large),
    (r"\int", "integral", "∫", Integral),
    (r"\iint", "integral.double", "∬", Integral),
    (r"\iiint", "integral.triple", "∭", Integral),
    (r"\oint", "integral.cont", "∮", Integral),
    // Delimiters.
    (r"\langle", "chevron.l", "⟨", Fence),
    (r"\rangle", "chevron.r", "⟩", Fence),
    (r"\lfloor", "floor.l", "⌊", Fence),
    (r"\rfloor", "floor.r", "⌋", Fence),
    (r"\lceil", "ceil.l", "⌈", Fence),
    (r"\rceil", "ceil.r", "⌉", Fence),
    (r"\lbrace", "brace.l", "{", Fence),
    (r"\rbrace", "brace.r", "}", Fence),
    (r"\vert", r"\|", "|", Fence),
    (r"\lvert", r"\|", "|", Fence),
    (r"\rvert", r"\|", "|", Fence),
    (r"\Vert", r"\‖", "‖", Fence),
    (r"\lVert", r"\‖", "‖", Fence),
    (r"\rVert", r"\‖", "‖", Fence),
    // Named functions: Typst has each of them built in (typst-library src/math/op.rs).
    (r"\log", "log", "log", Function),
    (r"\ln", "ln", "ln", Function),
    (r"\lg", "lg", "lg", Function),
    (r"\exp", "exp", "exp", Function),
    (r"\sin", "sin", "sin", Function),
    (r"\cos", "cos", "cos", Function),
    (r"\tan", "tan", "tan", Function),
    (r"\sec", "sec", "sec", Function),
    (r"\csc", "csc", "csc", Function),
    (r"\cot", "cot", "cot", Function),
    (r"\arcsin", "arcsin", "arcsin", Function),
    (r"\arccos", "arccos", "arccos", Function),
    (r"\arctan", "arctan", "arctan", Function),
    (r"\sinh", "sinh", "sinh", Function),
    (r"\cosh", "cosh", "cosh", Function),
    (r"\tanh", "tanh", "tanh", Function),
    (r"\coth", "coth", "coth", Function),
    (r"\arg", "arg", "arg", Function),
    (r"\deg", "deg", "deg", Function),
    (r"\dim", "dim", "dim", Function),
    (r"\hom", "hom", "hom", Function),
    (r"\ker", "ker", "ker", Function),
    (r"\lim", "lim", "lim", LimitFunction),
    (r"\liminf", "liminf", "lim inf", LimitFunction),
    (r"\limsup", "limsup", "lim sup", LimitFunction),
    (r"\max", "max", "max", LimitFunction),
    (r"\min", "min", "min", LimitFunction),
    (r"\sup", "sup", "sup", LimitFunction),
    (r"\inf", "inf", "inf", LimitFunction),
    (r"\det", "det", "det", LimitFunction),
    (r"\gcd", "gcd", "gcd", LimitFunction),
    (r"\Pr", "Pr", "Pr", LimitFunction),
];

/// Accents: LaTeX command, Typst function, MathML accent character, whether it stretches over a wide base.
/// (In Typst an accent symbol called like a function accents its argument: `hat(x)`.)
const ACCENTS: &[(&str, &str, &str, bool)] = &[
    (r"\hat", "hat", "^", false),
    (r"\widehat", "hat", "^", true),
    (r"\bar", "macron", "¯", false),
    (r"\overline", "overline", "‾", true),
    (r"\tilde", "tilde", "~", false),
    (r"\widetilde", "tilde", "~", true),
    (r"\vec", "arrow", "→", false),
    (r"\overrightarrow", "arrow", "→", true),
    (r"\dot", "dot", "˙", false),
    (r"\ddot", "dot.double", "¨", false),
    (r"\check", "caron", "ˇ", false),
    (r"\breve", "breve", "˘", false),
    (r"\acute", "acute", "´", false),
    (r"\grave", "grave", "`", false),
];

/// Spaces: LaTeX command, Typst name, MathML width. `~` and `\ ` are a word space.
const SPACES: &[(&str, &str, &str)] = &[
    (r"\,", "thin", "0.1667em"),
    (r"\thinspace", "thin", "0.1667em"),
    (r"\:", "med", "0.2222em"),
    (r"\>", "med", "0.2222em"),
    (r"\medspace", "med", "0.2222em"),
    (r"\;", "thick", "0.2778em"),
    (r"\thickspace", "thick", "0.2778em"),
    (r"\quad", "quad", "1em"),
    (r"\qquad", "wide", "2em"),
    (r"\ ", "space", "0.3333em"),
    ("~", "space.nobreak", "0.3333em"),
];

/// Math alphabets: LaTeX command, Typst code (`{}` is the content), alphabet. Typst's `bold` and `sans` keep letters
/// italic unless told `upright`.
const FONTS: &[(&str, &str, Font)] = &[
    (r"\mathrm", "upright({})", Font::Roman),
    (r"\mathit", "italic({})", Font::Italic),
    (r"\mathbf", "bold(upright({}))", Font::Bold),
    (r"\boldsymbol", "bold({})", Font::BoldItalic),
    (r"\bm", "bold({})", Font::BoldItalic),
    (r"\mathsf", "sans(upright({}))", Font::Sans),
    (r"\mathtt", "mono({})", Font::Mono),
    (r"\mathbb", "bb({})", Font::DoubleStruck),
    (r"\mathcal", "cal({})", Font::Script),
    (r"\mathfrak", "frak({})", Font::Fraktur),
];

#[derive(Clone, Copy, Debug, PartialEq)]
struct Symbol {
    typst: &'static str,
    mathml: &'static str,
    class: Class,
}

/// The symbol a LaTeX token (`\alpha`, `+`) stands for.
fn symbol(latex: &str) -> Option<Symbol> {
    SYMBOLS.iter().find(|s| s.0 == latex).map(|&(_, typst, mathml, class)| Symbol { typst, mathml, class })
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Accent {
    typst: &'static str,
    mathml: &'static str,
    stretchy: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Space {
    typst: &'static str,
    width: &'static str,
}

/// A math alphabet (`\mathbf`, `\mathbb`, …). In MathML its letters are the Unicode Mathematical Alphanumeric Symbols.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Font {
    Roman,
    Italic,
    Bold,
    /// `\boldsymbol`: bold italic letters and lowercase Greek, bold upright digits and capital Greek.
    BoldItalic,
    Sans,
    Mono,
    DoubleStruck,
    Script,
    Fraktur,
}

impl Font {
    /// `c` in this alphabet, or None if the alphabet has no such character.
    fn style(self, c: char) -> Option<char> {
        let greek = matches!(c, 'Α'..='Ω' | 'α'..='ω' | 'ϵ' | 'ϑ' | 'ϰ' | 'ϕ' | 'ϱ' | 'ϖ') && c != '\u{3A2}';
        // Where the alphabet starts for A, a and 0 (0: no digits), and its letters that Unicode had encoded
        // before, in the Letterlike Symbols block.
        let (capital, small, digit, letterlike): (u32, u32, u32, &[(char, char)]) = match self {
            Font::Roman => return (c.is_ascii_alphanumeric() || greek).then_some(c),
            Font::BoldItalic if greek => return bold_greek(c),
            Font::Italic => (0x1D434, 0x1D44E, 0, &[('h', 'ℎ')]),
            Font::Bold => (0x1D400, 0x1D41A, 0x1D7CE, &[]),
            Font::BoldItalic => (0x1D468, 0x1D482, 0x1D7CE, &[]),
            Font::Sans => (0x1D5A0, 0x1D5BA, 0x1D7E2, &[]),
            Font::Mono => (0x1D670, 0x1D68A, 0x1D7F6, &[]),
            Font::DoubleStruck => (0x1D538, 0x1D552, 0x1D7D8, &[('C', 'ℂ'), ('H', 'ℍ'), ('N', 'ℕ'), ('P', 'ℙ'), ('Q', 'ℚ'), ('R', 'ℝ'), ('Z', 'ℤ')]),
            Font::Script => (
                0x1D49C,
                0x1D4B6,
                0,
                &[('B', 'ℬ'), ('E', 'ℰ'), ('F', 'ℱ'), ('H', 'ℋ'), ('I', 'ℐ'), ('L', 'ℒ'), ('M', 'ℳ'), ('R', 'ℛ'), ('e', 'ℯ'), ('g', 'ℊ'), ('o', 'ℴ')],
            ),
            Font::Fraktur => (0x1D504, 0x1D51E, 0, &[('C', 'ℭ'), ('H', 'ℌ'), ('I', 'ℑ'), ('R', 'ℜ'), ('Z', 'ℨ')]),
        };
        if let Some(&(_, styled)) = letterlike.iter().find(|&&(plain, _)| plain == c) {
            return Some(styled);
        }
        let start = match c {
            'A'..='Z' => capital + (c as u32 - 'A' as u32),
            'a'..='z' => small + (c as u32 - 'a' as u32),
            '0'..='9' if digit != 0 => digit + (c as u32 - '0' as u32),
            // Unicode has no italic digits: they stay upright, as in most math fonts.
            '0'..='9' if self == Font::Italic => return Some(c),
            _ => return None,
        };
        char::from_u32(start)
    }
}

/// A Greek letter as `\boldsymbol` sets it: capitals bold upright, small letters bold italic.
fn bold_greek(c: char) -> Option<char> {
    let code = match c {
        'Α'..='Ω' => 0x1D6A8 + (c as u32 - 'Α' as u32),
        'α'..='ω' => 0x1D736 + (c as u32 - 'α' as u32),
        _ => 0x1D750 + ['ϵ', 'ϑ', 'ϰ', 'ϕ', 'ϱ', 'ϖ'].iter().position(|&v| v == c)? as u32,
    };
    char::from_u32(code)
}

// ---------------------------------------------------------------------------------------------------------------------
// Syntax tree.

#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// A single-letter variable: `x`.
    Letter(char),
    /// `1.96`.
    Number(String),
    Symbol(Symbol),
    /// `\text{…}`: upright text with its spaces.
    Text(String),
    /// `\mathrm{…}`, `\mathbf{…}`, …: letters, digits (and Greek where the alphabet has it) in another alphabet.
    Font {
        typst: &'static str,
        font: Font,
        body: Vec<Node>,
    },
    /// `\operatorname{logit}`; `limits` for `\operatorname*`.
    OperatorName {
        name: String,
        limits: bool,
    },
    Frac(FracKind, Box<Node>, Box<Node>),
    /// `\sqrt[index]{radicand}`.
    Sqrt(Option<Box<Node>>, Box<Node>),
    Accent(Accent, Box<Node>),
    /// `base_sub^sup`, `base'`; `limits` is `\limits` (true) or `\nolimits` (false) after a big operator.
    Scripts {
        base: Box<Node>,
        sub: Option<Box<Node>>,
        sup: Option<Box<Node>>,
        primes: usize,
        limits: Option<bool>,
    },
    /// `{…}`.
    Group(Vec<Node>),
    /// `\left( … \right)`; `None` for the invisible delimiter `.`.
    Fenced(Option<Symbol>, Vec<Node>, Option<Symbol>),
    /// `\middle|`, inside `\left … \right`.
    Middle(Symbol),
    Space(Space),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum FracKind {
    /// `\frac`: in the style of its surroundings.
    Normal,
    /// `\dfrac`: always display style.
    Display,
    /// `\tfrac`: always text style.
    Inline,
    /// `\binom`.
    Binom,
}

impl Node {
    /// The node inside single-element groups: `{{x}}` is `x`.
    fn ungrouped(&self) -> &Node {
        match self {
            Node::Group(nodes) if nodes.len() == 1 => nodes[0].ungrouped(),
            node => node,
        }
    }

    fn nodes(&self) -> &[Node] {
        match self {
            Node::Group(nodes) => nodes,
            node => std::slice::from_ref(node),
        }
    }

    /// A big operator or named function, which `\limits` and `\nolimits` may follow.
    fn is_operator(&self) -> bool {
        match self {
            Node::Symbol(s) => matches!(s.class, Large | Integral | Function | LimitFunction),
            Node::OperatorName { .. } => true,
            _ => false,
        }
    }

    /// Whether scripts go below and above (in display style, unless `\limits`/`\nolimits` says otherwise).
    fn has_limits(&self) -> bool {
        match self {
            Node::Symbol(s) => matches!(s.class, Large | LimitFunction),
            Node::OperatorName { limits, .. } => *limits,
            _ => false,
        }
    }

    /// A named function (possibly with scripts), which MathML follows with an invisible function application.
    fn is_function(&self) -> bool {
        match self {
            Node::Symbol(s) => matches!(s.class, Function | LimitFunction),
            Node::OperatorName { .. } => true,
            Node::Scripts { base, .. } => base.is_function(),
            _ => false,
        }
    }

    /// The characters of a letter, number or Greek letter (what an alphabet command may contain).
    fn plain_text(&self) -> Option<String> {
        match self {
            Node::Letter(c) => Some(c.to_string()),
            Node::Number(n) => Some(n.clone()),
            Node::Symbol(s) if matches!(s.class, Ident | Upright) => Some(s.mathml.to_string()),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// Parser.

/// Nesting deeper than this is refused, so that `{{{{…` cannot overflow the stack.
const MAX_DEPTH: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Token<'a> {
    Char(char),
    /// With its backslash: `\alpha`, `\,`.
    Command(&'a str),
}

/// Where a row of items ends.
#[derive(Clone, Copy, PartialEq)]
enum Until {
    End,
    Brace,
    /// The `]` of `\sqrt[…]`.
    Bracket,
    Right,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Parser<'a> {
        Parser { src, pos: 0, depth: 0 }
    }

    fn formula(mut self) -> Option<Vec<Node>> {
        self.row(Until::End)
    }

    // Tokens. Spaces separate tokens and mean nothing else in math mode.

    fn skip_spaces(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_whitespace()).len();
    }

    /// The next token and its length in bytes.
    fn token(&mut self) -> Option<(Token<'a>, usize)> {
        self.skip_spaces();
        let rest = &self.src[self.pos..];
        let c = rest.chars().next()?;
        if c != '\\' {
            return Some((Token::Char(c), c.len_utf8()));
        }
        let letters = rest[1..].bytes().take_while(u8::is_ascii_alphabetic).count();
        let len = if letters > 0 { 1 + letters } else { 1 + rest[1..].chars().next().map_or(0, char::len_utf8) };
        Some((Token::Command(&rest[..len]), len))
    }

    fn peek(&mut self) -> Option<Token<'a>> {
        self.token().map(|(token, _)| token)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let (token, len) = self.token()?;
        self.pos += len;
        Some(token)
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(Token::Char(c));
        if found {
            self.pos += c.len_utf8();
        }
        found
    }

    // Grammar.

    /// Items up to `until`. The closing `}` or `]` is consumed; a `\right` is not.
    fn row(&mut self, until: Until) -> Option<Vec<Node>> {
        let mut nodes = Vec::new();
        loop {
            match (self.peek(), until) {
                (None, Until::End) => return Some(nodes),
                (None, _) => return None,
                (Some(Token::Char('}')), Until::Brace) | (Some(Token::Char(']')), Until::Bracket) => {
                    self.next();
                    return Some(nodes);
                }
                (Some(Token::Command(r"\right")), Until::Right) => return Some(nodes),
                (Some(Token::Command(r"\middle")), Until::Right) => {
                    self.next();
                    nodes.push(Node::Middle(self.delimiter()??));
                }
                _ => nodes.push(self.item()?),
            }
        }
    }

    /// An atom with its scripts: `x`, `x_i^2`, `f'`, `\sum\limits_{i=1}^n`.
    fn item(&mut self) -> Option<Node> {
        let base = self.atom()?;
        let mut limits = None;
        if base.is_operator() {
            match self.peek() {
                Some(Token::Command(r"\limits")) => limits = Some(true),
                Some(Token::Command(r"\nolimits")) => limits = Some(false),
                _ => {}
            }
            if limits.is_some() {
                self.next();
            }
        }
        let (mut sub, mut sup, mut primes) = (None, None, 0);
        loop {
            match self.peek() {
                Some(Token::Char('_')) if sub.is_none() => {
                    self.next();
                    sub = Some(Box::new(self.argument()?));
                }
                Some(Token::Char('^')) if sup.is_none() => {
                    self.next();
                    sup = Some(Box::new(self.argument()?));
                }
                Some(Token::Char('\'')) if sup.is_none() => {
                    self.next();
                    primes += 1;
                }
                // A double subscript or superscript is an error in LaTeX too.
                Some(Token::Char('_' | '^' | '\'')) => return None,
                _ => break,
            }
        }
        if sub.is_none() && sup.is_none() && primes == 0 {
            return Some(base);
        }
        Some(Node::Scripts { base: Box::new(base), sub, sup, primes, limits })
    }

    /// The argument of a command or script: one token (one digit of a number: `x^23` is x² 3) or a `{group}`.
    fn argument(&mut self) -> Option<Node> {
        match self.peek()? {
            Token::Char(c) if c.is_ascii_digit() => {
                self.next();
                Some(Node::Number(c.to_string()))
            }
            Token::Char('_' | '^') => None,
            _ => self.atom(),
        }
    }

    fn atom(&mut self) -> Option<Node> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let atom = self.atom_unguarded();
        self.depth -= 1;
        atom
    }

    fn atom_unguarded(&mut self) -> Option<Node> {
        match self.peek()? {
            Token::Char('{') => {
                self.next();
                Some(Node::Group(self.row(Until::Brace)?))
            }
            // Scripts with nothing before them, as in `^{14}C`.
            Token::Char('_' | '^') => Some(Node::Group(Vec::new())),
            Token::Char(c) if c.is_ascii_digit() => Some(Node::Number(self.number())),
            Token::Char(c) if c.is_ascii_alphabetic() => {
                self.next();
                Some(Node::Letter(c))
            }
            Token::Char(c) => {
                self.next();
                self.command(c.encode_utf8(&mut [0; 4]))
            }
            Token::Command(name) => {
                self.next();
                self.command(name)
            }
        }
    }

    /// Digits with at most one decimal point: `1.96`.
    fn number(&mut self) -> String {
        let rest = &self.src[self.pos..];
        let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
        let whole = digits(rest);
        let fraction = if rest[whole..].starts_with('.') { digits(&rest[whole + 1..]) } else { 0 };
        let len = if fraction > 0 { whole + 1 + fraction } else { whole };
        self.pos += len;
        rest[..len].to_string()
    }

    /// What a command (`\frac`, `\alpha`) or a character other than a letter or digit (`+`, `(`) stands for,
    /// with its arguments. None for anything not in the whitelist.
    fn command(&mut self, name: &str) -> Option<Node> {
        let node = match name {
            r"\frac" | r"\dfrac" | r"\tfrac" | r"\binom" => {
                let kind = match name {
                    r"\dfrac" => FracKind::Display,
                    r"\tfrac" => FracKind::Inline,
                    r"\binom" => FracKind::Binom,
                    _ => FracKind::Normal,
                };
                let numerator = self.argument()?;
                Node::Frac(kind, Box::new(numerator), Box::new(self.argument()?))
            }
            r"\sqrt" => {
                let index = if self.eat('[') { Some(Box::new(Node::Group(self.row(Until::Bracket)?))) } else { None };
                Node::Sqrt(index, Box::new(self.argument()?))
            }
            r"\left" => {
                let open = self.delimiter()?;
                let body = self.row(Until::Right)?;
                self.next(); // \right
                Node::Fenced(open, body, self.delimiter()?)
            }
            r"\text" | r"\textrm" | r"\textnormal" | r"\textup" | r"\mbox" => Node::Text(text_mode(self.braced_source()?)?),
            r"\operatorname" => {
                let limits = self.eat('*');
                Node::OperatorName { name: operator_name(self.braced_source()?)?, limits }
            }
            _ => {
                if let Some(symbol) = symbol(name) {
                    Node::Symbol(symbol)
                } else if let Some(&(_, typst, mathml, stretchy)) = ACCENTS.iter().find(|a| a.0 == name) {
                    Node::Accent(Accent { typst, mathml, stretchy }, Box::new(self.argument()?))
                } else if let Some(&(_, typst, width)) = SPACES.iter().find(|s| s.0 == name) {
                    Node::Space(Space { typst, width })
                } else if let Some(&(_, typst, font)) = FONTS.iter().find(|f| f.0 == name) {
                    let body = self.argument()?.nodes().to_vec();
                    let all_styled = |node: &Node| node.plain_text().is_some_and(|text| text.chars().all(|c| font.style(c).is_some()));
                    if body.is_empty() || !body.iter().all(all_styled) {
                        return None;
                    }
                    Node::Font { typst, font, body }
                } else {
                    return None;
                }
            }
        };
        Some(node)
    }

    /// The delimiter after `\left`, `\middle` or `\right`: `Some(None)` for the invisible `.`.
    fn delimiter(&mut self) -> Option<Option<Symbol>> {
        match self.next()? {
            Token::Char('.') => Some(None),
            Token::Char(c) => symbol(c.encode_utf8(&mut [0; 4])).filter(|s| s.class == Fence).map(Some),
            Token::Command(name) => symbol(name).filter(|s| s.class == Fence).map(Some),
        }
    }

    /// The source between `{` and its matching `}` (for text, which is not math).
    fn braced_source(&mut self) -> Option<&'a str> {
        if !self.eat('{') {
            return None;
        }
        let rest = &self.src[self.pos..];
        let (mut depth, mut escaped) = (0, false);
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '{' => depth += 1,
                '}' if depth == 0 => {
                    self.pos += i + 1;
                    return Some(&rest[..i]);
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        None
    }
}

/// The argument of `\text{…}` as LaTeX sets it in text mode: spaces kept (runs collapse to one), braces only group,
/// `--` and `---` are dashes, quotes curl, `~` is a no-break space, `\%`-style escapes are the character.
fn text_mode(source: &str) -> Option<String> {
    let mut text = String::new();
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                c @ ('%' | '&' | '#' | '$' | '_' | '{' | '}') => text.push(c),
                ' ' => text.push(' '),
                _ => return None,
            },
            '{' | '}' => {}
            '~' => text.push('\u{A0}'),
            '-' if chars.peek() == Some(&'-') => {
                chars.next();
                text.push(if chars.next_if_eq(&'-').is_some() { '—' } else { '–' });
            }
            '`' => text.push(if chars.next_if_eq(&'`').is_some() { '“' } else { '‘' }),
            '\'' => text.push(if chars.next_if_eq(&'\'').is_some() { '”' } else { '’' }),
            c if c.is_ascii_whitespace() => {
                if !text.ends_with(' ') {
                    text.push(' ');
                }
            }
            '$' | '^' | '_' | '&' | '#' | '%' => return None,
            c if c.is_control() => return None,
            c => text.push(c),
        }
    }
    Some(text)
}

/// The argument of `\operatorname{…}`: letters, digits, hyphens and thin spaces (`\,`); other spaces are ignored, as
/// everywhere in math mode.
fn operator_name(source: &str) -> Option<String> {
    let mut name = String::new();
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_ascii_alphanumeric() || c == '-' => name.push(c),
            c if c.is_ascii_whitespace() => {}
            '\\' if chars.next() == Some(',') => name.push('\u{2009}'),
            _ => return None,
        }
    }
    (!name.is_empty()).then_some(name)
}

// ---------------------------------------------------------------------------------------------------------------------
// Typst printer.

mod typst {
    use super::{FracKind, Node};

    /// Items separated by spaces: `d f` (not the undefined identifier `df`), `< =` (not the shorthand `<=`), `alpha \(`
    /// (not a call of `alpha`). Typst keeps the spaces next to text and to the fences `|`, `‖`, so those items get
    /// none; they begin with `"` or `\` and end with `"`, an escape or `)`, so nothing merges with them.
    pub fn row(nodes: &[Node]) -> String {
        let mut items = Vec::new();
        flatten(nodes, &mut items);
        let mut code = String::new();
        for (i, item) in items.iter().enumerate() {
            if i > 0 && !keeps_spaces(items[i - 1]) && !keeps_spaces(item) {
                code.push(' ');
            }
            code.push_str(&node(item));
        }
        code
    }

    /// The nodes with groups dissolved: `{a b} c` is `a b c`.
    fn flatten<'a>(nodes: &'a [Node], items: &mut Vec<&'a Node>) {
        for n in nodes {
            match n {
                Node::Group(inner) => flatten(inner, items),
                n => items.push(n),
            }
        }
    }

    /// Whether Typst sets the spaces around this item that the source has.
    fn keeps_spaces(n: &Node) -> bool {
        match n {
            Node::Text(_) => true,
            Node::Symbol(s) => matches!(s.typst, r"\|" | r"\‖"),
            Node::Scripts { base, .. } => keeps_spaces(base.ungrouped()),
            _ => false,
        }
    }

    /// A function argument: never empty.
    fn arg(n: &Node) -> String {
        let code = row(n.nodes());
        if code.is_empty() {
            r#""""#.to_string()
        } else {
            code
        }
    }

    /// A Typst string literal.
    pub use crate::render::typst::string;

    fn node(n: &Node) -> String {
        match n {
            Node::Letter(c) => c.to_string(),
            Node::Number(number) => number.clone(),
            Node::Symbol(s) => s.typst.to_string(),
            Node::Text(text) => string(text),
            Node::Font { typst, body, .. } => typst.replace("{}", &row(body)),
            Node::OperatorName { name, limits: false } => format!("op({})", string(name)),
            Node::OperatorName { name, limits: true } => format!("op({}, limits: #true)", string(name)),
            Node::Frac(kind, numerator, denominator) => {
                let (numerator, denominator) = (arg(numerator), arg(denominator));
                match kind {
                    FracKind::Normal => format!("frac({numerator}, {denominator})"),
                    FracKind::Display => format!("display(frac({numerator}, {denominator}))"),
                    FracKind::Inline => format!("inline(frac({numerator}, {denominator}))"),
                    FracKind::Binom => format!("binom({numerator}, {denominator})"),
                }
            }
            Node::Sqrt(None, radicand) => format!("sqrt({})", arg(radicand)),
            Node::Sqrt(Some(index), radicand) => format!("root({}, {})", arg(index), arg(radicand)),
            Node::Accent(accent, base) => format!("{}({})", accent.typst, arg(base)),
            Node::Scripts { base, sub, sup, primes, limits } => {
                let mut code = match base.ungrouped() {
                    // `(a b)^2` would show the parentheses, and `x^2^3` reads as x^(2^3): attach() with no attachments
                    // is an invisible group.
                    base @ (Node::Group(_) | Node::Scripts { .. }) => format!("attach({})", arg(base)),
                    base => node(base),
                };
                match limits {
                    Some(true) => code = format!("limits({code})"),
                    Some(false) => code = format!("scripts({code})"),
                    None => {}
                }
                code.push_str(&"'".repeat(*primes));
                // After an item that keeps its spaces, the script must end in `)`: see `row`.
                let parenthesize = keeps_spaces(base.ungrouped());
                if let Some(sub) = sub {
                    code = format!("{code}_{}", script(sub, parenthesize));
                }
                if let Some(sup) = sup {
                    code = format!("{code}^{}", script(sup, parenthesize));
                }
                code
            }
            Node::Group(nodes) => row(nodes),
            Node::Fenced(open, body, close) => {
                let open = open.map(Node::Symbol);
                let close = close.map(Node::Symbol);
                let items: Vec<Node> = open.into_iter().chain(body.iter().cloned()).chain(close).collect();
                format!("lr({})", row(&items))
            }
            Node::Middle(s) => format!("mid({})", s.typst),
            Node::Space(space) => space.typst.to_string(),
        }
    }

    /// A subscript or superscript: a letter, number or named symbol as it is (`x_i`, `x^alpha`), anything else in
    /// parentheses, which Typst removes (`x_(i j)`, `e^(- x)`).
    fn script(n: &Node, parenthesize: bool) -> String {
        match n.ungrouped() {
            single @ (Node::Letter(_) | Node::Number(_)) if !parenthesize => node(single),
            Node::Symbol(s) if !parenthesize && s.typst.starts_with(|c: char| c.is_ascii_alphabetic()) => s.typst.to_string(),
            _ => format!("({})", row(n.nodes())),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------------
// MathML printer.

mod mathml {
    use super::{Class, Font, FracKind, Node, Symbol};

    /// Nodes one after the other; a named function is followed by an invisible function application.
    pub fn row(nodes: &[Node], display: bool, out: &mut String) {
        for (i, n) in nodes.iter().enumerate() {
            node(n, display, out);
            if n.is_function() && i + 1 < nodes.len() {
                out.push_str("<mo>&#x2061;</mo>");
            }
        }
    }

    /// One element, as each child of `<mfrac>`, `<msub>`, … must be: several nodes go in an `<mrow>`.
    fn single(n: &Node, display: bool, out: &mut String) {
        match n.ungrouped() {
            Node::Group(nodes) => {
                out.push_str("<mrow>");
                row(nodes, display, out);
                out.push_str("</mrow>");
            }
            n => node(n, display, out),
        }
    }

    pub use crate::render::forest::escape;

    fn symbol(s: &Symbol) -> String {
        let text = escape(s.mathml);
        match s.class {
            Class::Ident | Class::Function | Class::LimitFunction => format!("<mi>{text}</mi>"),
            Class::Upright => format!(r#"<mi mathvariant="normal">{text}</mi>"#),
            Class::Op | Class::Large | Class::Integral => format!("<mo>{text}</mo>"),
            // Only \left, \middle and \right stretch a delimiter. MathML spaces |, ‖ and / as operators; LaTeX does not.
            Class::Fence if matches!(s.mathml, "|" | "‖" | "/") => format!(r#"<mo stretchy="false" lspace="0em" rspace="0em">{text}</mo>"#),
            Class::Fence => format!(r#"<mo stretchy="false">{text}</mo>"#),
        }
    }

    fn node(n: &Node, display: bool, out: &mut String) {
        match n {
            Node::Letter(c) => out.push_str(&format!("<mi>{c}</mi>")),
            Node::Number(number) => out.push_str(&format!("<mn>{number}</mn>")),
            Node::Symbol(s) => out.push_str(&symbol(s)),
            Node::Text(text) => {
                // MathML trims spaces at the ends of a token; no-break spaces stay.
                let mut text = escape(text);
                if text.ends_with(' ') {
                    text.pop();
                    text.push_str("&#xA0;");
                }
                if text.starts_with(' ') {
                    text.replace_range(..1, "&#xA0;");
                }
                out.push_str(&format!("<mtext>{text}</mtext>"));
            }
            Node::Font { font, body, .. } => {
                let plain: String = body.iter().filter_map(Node::plain_text).collect();
                let styled: String = plain.chars().filter_map(|c| font.style(c)).collect();
                let variant = if *font == Font::Roman { r#" mathvariant="normal""# } else { "" };
                out.push_str(&format!("<mi{variant}>{}</mi>", escape(&styled)));
            }
            Node::OperatorName { name, .. } => {
                let variant = if name.chars().count() == 1 { r#" mathvariant="normal""# } else { "" };
                out.push_str(&format!("<mi{variant}>{}</mi>", escape(name)));
            }
            Node::Frac(kind, numerator, denominator) => {
                let (open, close) = match kind {
                    FracKind::Normal => ("<mfrac>", "</mfrac>"),
                    FracKind::Display => (r#"<mstyle displaystyle="true"><mfrac>"#, "</mfrac></mstyle>"),
                    FracKind::Inline => (r#"<mstyle displaystyle="false"><mfrac>"#, "</mfrac></mstyle>"),
                    FracKind::Binom => (r#"<mrow><mo>(</mo><mfrac linethickness="0">"#, "</mfrac><mo>)</mo></mrow>"),
                };
                out.push_str(open);
                single(numerator, display, out);
                single(denominator, display, out);
                out.push_str(close);
            }
            Node::Sqrt(None, radicand) => {
                out.push_str("<msqrt>");
                single(radicand, display, out);
                out.push_str("</msqrt>");
            }
            Node::Sqrt(Some(index), radicand) => {
                out.push_str("<mroot>");
                single(radicand, display, out);
                single(index, display, out);
                out.push_str("</mroot>");
            }
            Node::Accent(accent, base) => {
                out.push_str(r#"<mover accent="true">"#);
                single(base, display, out);
                out.push_str(&format!(r#"<mo stretchy="{}">{}</mo></mover>"#, accent.stretchy, escape(accent.mathml)));
            }
            Node::Scripts { base, sub, sup, primes, limits } => {
                let has_sup = sup.is_some() || *primes > 0;
                let tag = match (sub.is_some(), has_sup, limits.unwrap_or(display && base.has_limits())) {
                    (true, true, false) => "msubsup",
                    (true, false, false) => "msub",
                    (false, _, false) => "msup",
                    (true, true, true) => "munderover",
                    (true, false, true) => "munder",
                    (false, _, true) => "mover",
                };
                out.push_str(&format!("<{tag}>"));
                single(base, display, out);
                if let Some(sub) = sub {
                    single(sub, display, out);
                }
                if has_sup {
                    // Primes are superscripts too: f′, x′².
                    let several = *primes + usize::from(sup.is_some()) > 1;
                    out.push_str(if several { "<mrow>" } else { "" });
                    out.push_str(&"<mo>′</mo>".repeat(*primes));
                    if let Some(sup) = sup {
                        single(sup, display, out);
                    }
                    out.push_str(if several { "</mrow>" } else { "" });
                }
                out.push_str(&format!("</{tag}>"));
            }
            Node::Group(_) => single(n, display, out),
            Node::Fenced(open, body, close) => {
                out.push_str("<mrow>");
                if let Some(open) = open {
                    out.push_str(&format!(r#"<mo stretchy="true" form="prefix">{}</mo>"#, escape(open.mathml)));
                }
                row(body, display, out);
                if let Some(close) = close {
                    out.push_str(&format!(r#"<mo stretchy="true" form="postfix">{}</mo>"#, escape(close.mathml)));
                }
                out.push_str("</mrow>");
            }
            Node::Middle(s) => out.push_str(&format!(r#"<mo stretchy="true">{}</mo>"#, escape(s.mathml))),
            Node::Space(space) => out.push_str(&format!(r#"<mspace width="{}"/>"#, space.width)),
        }
    }
}

mod omml {
    //! Office Math (ECMA-376 part 1, §22.1). A run (`m:r`) is italic unless told otherwise (`m:sty`), as a letter in
    //! LaTeX is; what LaTeX sets upright (numbers, operators, `\mathrm`, function names) says so. Alphabets are
    //! `m:scr` + `m:sty` on plain letters, which is how Word itself writes them.
    use super::{Class, Font, FracKind, Node, Symbol};
    use crate::render::forest::escape;

    pub fn row(nodes: &[Node], display: bool, out: &mut String) {
        for n in nodes {
            node(n, display, out);
        }
    }

    /// A run of `text` with the run properties `props` (`m:rPr`'s content, empty for italic math).
    fn run(text: &str, props: &str, out: &mut String) {
        let space = if text.starts_with(' ') || text.ends_with(' ') { r#" xml:space="preserve""# } else { "" };
        if props.is_empty() {
            out.push_str(&format!("<m:r><m:t{space}>{}</m:t></m:r>", escape(text)));
        } else {
            out.push_str(&format!("<m:r><m:rPr>{props}</m:rPr><m:t{space}>{}</m:t></m:r>", escape(text)));
        }
    }

    const UPRIGHT: &str = r#"<m:sty m:val="p"/>"#;

    /// `element`'s argument `tag` (`m:e`, `m:num`, …) holding `n`.
    fn arg(tag: &str, n: &Node, display: bool, out: &mut String) {
        out.push_str(&format!("<{tag}>"));
        row(n.ungrouped().nodes(), display, out);
        out.push_str(&format!("</{tag}>"));
    }

    fn symbol(s: &Symbol, out: &mut String) {
        match s.class {
            Class::Ident => run(s.mathml, "", out),
            _ => run(s.mathml, UPRIGHT, out),
        }
    }

    /// The combining character Word puts over its base for an accent (by its Typst name).
    fn combining(typst: &str) -> &'static str {
        match typst {
            "hat" => "\u{302}",
            "macron" => "\u{304}",
            "tilde" => "\u{303}",
            "arrow" => "\u{20D7}",
            "dot" => "\u{307}",
            "dot.double" => "\u{308}",
            "caron" => "\u{30C}",
            "breve" => "\u{306}",
            "acute" => "\u{301}",
            _ => "\u{300}",
        }
    }

    fn node(n: &Node, display: bool, out: &mut String) {
        match n {
            Node::Letter(c) => run(&c.to_string(), "", out),
            Node::Number(number) => run(number, UPRIGHT, out),
            Node::Symbol(s) => symbol(s, out),
            Node::Text(text) => run(text, "<m:nor/>", out),
            Node::Font { font, body, .. } => {
                let plain: String = body.iter().filter_map(Node::plain_text).collect();
                let (script, style) = match font {
                    Font::Roman => ("roman", "p"),
                    Font::Italic => ("roman", "i"),
                    Font::Bold => ("roman", "b"),
                    Font::BoldItalic => ("roman", "bi"),
                    Font::Sans => ("sans-serif", "p"),
                    Font::Mono => ("monospace", "p"),
                    Font::DoubleStruck => ("double-struck", "p"),
                    Font::Script => ("script", "p"),
                    Font::Fraktur => ("fraktur", "p"),
                };
                run(&plain, &format!(r#"<m:scr m:val="{script}"/><m:sty m:val="{style}"/>"#), out);
            }
            Node::OperatorName { name, .. } => run(name, UPRIGHT, out),
            Node::Frac(kind, numerator, denominator) => {
                let binom = *kind == FracKind::Binom;
                if binom {
                    out.push_str("<m:d><m:e>");
                }
                out.push_str(if binom { r#"<m:f><m:fPr><m:type m:val="noBar"/></m:fPr>"# } else { "<m:f>" });
                arg("m:num", numerator, display, out);
                arg("m:den", denominator, display, out);
                out.push_str("</m:f>");
                if binom {
                    out.push_str("</m:e></m:d>");
                }
            }
            Node::Sqrt(index, radicand) => {
                match index {
                    None => out.push_str(r#"<m:rad><m:radPr><m:degHide m:val="1"/></m:radPr><m:deg/>"#),
                    Some(index) => {
                        out.push_str("<m:rad>");
                        arg("m:deg", index, display, out);
                    }
                }
                arg("m:e", radicand, display, out);
                out.push_str("</m:rad>");
            }
            Node::Accent(accent, base) if accent.typst == "overline" => {
                out.push_str(r#"<m:bar><m:barPr><m:pos m:val="top"/></m:barPr>"#);
                arg("m:e", base, display, out);
                out.push_str("</m:bar>");
            }
            Node::Accent(accent, base) => {
                out.push_str(&format!(r#"<m:acc><m:accPr><m:chr m:val="{}"/></m:accPr>"#, combining(accent.typst)));
                arg("m:e", base, display, out);
                out.push_str("</m:acc>");
            }
            Node::Scripts { base, sub, sup, primes, limits } => {
                // Primes are superscripts too: f′, x′².
                let mut upper = String::new();
                for _ in 0..*primes {
                    run("′", UPRIGHT, &mut upper);
                }
                if let Some(sup) = sup {
                    row(sup.ungrouped().nodes(), display, &mut upper);
                }
                let has_sup = sup.is_some() || *primes > 0;
                let mut lower = String::new();
                if let Some(sub) = sub {
                    row(sub.ungrouped().nodes(), display, &mut lower);
                }
                if limits.unwrap_or(display && base.has_limits()) {
                    // Below and above: ∑ in display, lim.
                    if has_sup {
                        out.push_str("<m:limUpp><m:e>");
                    }
                    if sub.is_some() {
                        out.push_str("<m:limLow>");
                        arg("m:e", base, display, out);
                        out.push_str(&format!("<m:lim>{lower}</m:lim></m:limLow>"));
                    } else {
                        arg("m:e", base, display, out);
                    }
                    if has_sup {
                        out.push_str(&format!("</m:e><m:lim>{upper}</m:lim></m:limUpp>"));
                    }
                } else {
                    let tag = match (sub.is_some(), has_sup) {
                        (true, true) => "m:sSubSup",
                        (true, false) => "m:sSub",
                        _ => "m:sSup",
                    };
                    out.push_str(&format!("<{tag}>"));
                    arg("m:e", base, display, out);
                    if sub.is_some() {
                        out.push_str(&format!("<m:sub>{lower}</m:sub>"));
                    }
                    if has_sup {
                        out.push_str(&format!("<m:sup>{upper}</m:sup>"));
                    }
                    out.push_str(&format!("</{tag}>"));
                }
            }
            Node::Group(nodes) => row(nodes, display, out),
            Node::Fenced(open, body, close) => {
                let chr = |s: &Option<Symbol>| s.map_or(String::new(), |s| escape(s.mathml));
                out.push_str(&format!(r#"<m:d><m:dPr><m:begChr m:val="{}"/><m:endChr m:val="{}"/></m:dPr><m:e>"#, chr(open), chr(close)));
                row(body, display, out);
                out.push_str("</m:e></m:d>");
            }
            Node::Middle(s) => run(s.mathml, UPRIGHT, out),
            // The Unicode space of the width: thin, medium, thick, em, two em, word.
            Node::Space(space) => run(
                match space.typst {
                    "thin" => "\u{2009}",
                    "med" => "\u{205F}",
                    "thick" => "\u{2004}",
                    "quad" => "\u{2003}",
                    "wide" => "\u{2003}\u{2003}",
                    _ => "\u{A0}",
                },
                UPRIGHT,
                out,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typst_of(latex: &str) -> String {
        to_typst(latex).unwrap_or_else(|| panic!("no Typst for {latex:?}"))
    }

    /// MathML without the `<math>` wrapper, inline.
    fn mathml_of(latex: &str) -> String {
        let math = to_mathml(latex, false).unwrap_or_else(|| panic!("no MathML for {latex:?}"));
        math.strip_prefix("<math>").and_then(|m| m.strip_suffix("</math>")).unwrap().to_string()
    }

    #[test]
    fn examples_to_typst() {
        let cases = [
            (r"I^2 = \frac{Q - df}{Q}", r"I^2 = frac(Q - d f, Q)"),
            (r"\tau^2", "tau^2"),
            (r"\hat{\theta} \pm 1.96 \times SE", "hat(theta) plus.minus 1.96 times S E"),
            (r"\chi^2_{k-1}", "chi_(k - 1)^2"),
            (r"\sum_{i=1}^{k} w_i y_i", "sum_(i = 1)^k w_i y_i"),
            (r"\sqrt[3]{x}", "root(3, x)"),
            (r"\text{SMD} = \frac{\bar{x}_1 - \bar{x}_2}{s}", r#""SMD"= frac(macron(x)_1 - macron(x)_2, s)"#),
            (r"e^{-x}", "e^(- x)"),
            (r"x_{ij}", "x_(i j)"),
            (r"\sqrt{x^2+1}", "sqrt(x^2 + 1)"),
            (r"\dfrac{a}{b} + \tfrac12", "display(frac(a, b)) + inline(frac(1, 2))"),
            (r"\binom{n}{k}", "binom(n, k)"),
            (r"\log(x) \ln y \exp z", r"log \( x \) ln y exp z"),
            (r"\lim_{n \to \infty} \max_i x_i", "lim_(n arrow.r infinity) max_i x_i"),
            (r"\left( \frac{a}{b} \right)", r"lr(\( frac(a, b) \))"),
            (r"\left\{ x \middle| x > 0 \right\}", r"lr(brace.l x mid(\|) x > 0 brace.r)"),
            (r"\left| x \right| + \|y\| \vert", r"lr(\|x\|) +\‖y\‖\|"),
            (r"|x|^2 y {|}_1 z", r"\|x\|^(2)y\|_(1)z"),
            (r"\left. \frac{df}{dx} \right|_{x=0}", r"lr(frac(d f, d x)\|)_(x = 0)"),
            (r"\langle x, y \rangle", r"chevron.l x \, y chevron.r"),
            (r"\mathrm{SE}(\hat\mu) \mathrm{d}x", r#"upright(S E) \( hat(mu) \) upright(d) x"#),
            (r"\mathbf{x}^\top \boldsymbol{\beta}", r#"bold(upright(x))^top bold(beta)"#),
            (r"\mathbb{E}[X] = \mu", r#"bb(E) \[ X \] = mu"#),
            (r"X \sim \mathcal{N}(0, 1)", r#"X tilde.op cal(N) \( 0 \, 1 \)"#),
            (r"\operatorname{logit}(p)", r#"op("logit") \( p \)"#),
            (r"\operatorname*{arg\,max}_\theta L", "op(\"arg\u{2009}max\", limits: #true)_theta L"),
            (r"\varepsilon \epsilon \varphi \phi", "epsilon epsilon.alt phi phi.alt"),
            (r"a \le b \leq c \ge d \neq e \approx f", "a lt.eq b lt.eq c gt.eq d eq.not e approx f"),
            (r"\mu \mp \sigma \cdot \Delta", "mu minus.plus sigma dot.op Delta"),
            (r"x_1, \ldots, x_n \cdots", r"x_1 \, dots.h \, x_n dots.h.c"),
            (r"\int_0^1 f(x)\,dx", r"integral_0^1 f \( x \) thin d x"),
            (r"\prod_{j} p_j \quad a\;b\:c", "product_j p_j quad a thick b med c"),
            (r"\overline{X} \tilde{y} \vec v", "overline(X) tilde(y) arrow(v)"),
            (r"f'(x) + f''", r"f' \( x \) + f''"),
            (r"a/b", r"a \/ b"),
            (r"|x|", r"\|x\|"),
            (r"a~b\ c", "a space.nobreak b space c"),
            (r"{a b}^2", "attach(a b)^2"),
            (r"{x^2}^3", "attach(x^2)^3"),
            (r"{}^{14}C", r#"attach("")^14 C"#),
            (r"\sum\limits_{i} x_i", "limits(sum)_i x_i"),
            (r"\text{if } x = \text{SE}_i y", r#""if "x ="SE"_(i)y"#),
            (r"10^{10}", "10^10"),
            (r"x^{1.5}", "x^1.5"),
            (r"x^23", "x^2 3"),
            (r"x^*", "x^ast.op"),
            (r"x^{}", "x^()"),
            (r"x^{(k)}", r"x^(\( k \))"),
            ("", ""),
        ];
        for (latex, expected) in cases {
            assert_eq!(typst_of(latex), expected, "for {latex:?}");
        }
    }

    #[test]
    fn examples_to_mathml() {
        let cases = [
            (r"I^2 = \frac{Q - df}{Q}", "<msup><mi>I</mi><mn>2</mn></msup><mo>=</mo><mfrac><mrow><mi>Q</mi><mo>−</mo><mi>d</mi><mi>f</mi></mrow><mi>Q</mi></mfrac>"),
            (r"\tau^2", "<msup><mi>τ</mi><mn>2</mn></msup>"),
            (
                r"\hat{\theta} \pm 1.96 \times SE",
                r#"<mover accent="true"><mi>θ</mi><mo stretchy="false">^</mo></mover><mo>±</mo><mn>1.96</mn><mo>×</mo><mi>S</mi><mi>E</mi>"#,
            ),
            (r"\chi^2_{k-1}", "<msubsup><mi>χ</mi><mrow><mi>k</mi><mo>−</mo><mn>1</mn></mrow><mn>2</mn></msubsup>"),
            (
                r"\sum_{i=1}^{k} w_i y_i",
                "<msubsup><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>k</mi></msubsup><msub><mi>w</mi><mi>i</mi></msub><msub><mi>y</mi><mi>i</mi></msub>",
            ),
            (r"\sqrt[3]{x}", "<mroot><mi>x</mi><mn>3</mn></mroot>"),
            (
                r"\text{SMD} = \frac{\bar{x}_1 - \bar{x}_2}{s}",
                concat!(
                    r#"<mtext>SMD</mtext><mo>=</mo><mfrac><mrow><msub><mover accent="true"><mi>x</mi><mo stretchy="false">¯</mo></mover><mn>1</mn></msub>"#,
                    r#"<mo>−</mo><msub><mover accent="true"><mi>x</mi><mo stretchy="false">¯</mo></mover><mn>2</mn></msub></mrow><mi>s</mi></mfrac>"#
                ),
            ),
            (r"\sqrt{2}", "<msqrt><mn>2</mn></msqrt>"),
            (r"\log x", "<mi>log</mi><mo>&#x2061;</mo><mi>x</mi>"),
            (r"f'(x)", r#"<msup><mi>f</mi><mo>′</mo></msup><mo stretchy="false">(</mo><mi>x</mi><mo stretchy="false">)</mo>"#),
            (r"x'^2", "<msup><mi>x</mi><mrow><mo>′</mo><mn>2</mn></mrow></msup>"),
            (r"\left( x \right]", r#"<mrow><mo stretchy="true" form="prefix">(</mo><mi>x</mi><mo stretchy="true" form="postfix">]</mo></mrow>"#),
            (r"\Delta \nabla", r#"<mi mathvariant="normal">Δ</mi><mi mathvariant="normal">∇</mi>"#),
            (r"\mathrm{d}x", r#"<mi mathvariant="normal">d</mi><mi>x</mi>"#),
            (r"|x|", r#"<mo stretchy="false" lspace="0em" rspace="0em">|</mo><mi>x</mi><mo stretchy="false" lspace="0em" rspace="0em">|</mo>"#),
            (r"\mathbb{R}^n", "<msup><mi>ℝ</mi><mi>n</mi></msup>"),
            (r"\mathcal{N}", "<mi>𝒩</mi>"),
            (r"\mathbf{x}", "<mi>𝐱</mi>"),
            (r"\mathit{h}", "<mi>ℎ</mi>"),
            (r"\boldsymbol{\beta}", "<mi>𝜷</mi>"),
            (r"\boldsymbol{\Sigma}", "<mi>𝚺</mi>"),
            (r"\operatorname{logit} p", "<mi>logit</mi><mo>&#x2061;</mo><mi>p</mi>"),
            (r"a\,b\quad c", r#"<mi>a</mi><mspace width="0.1667em"/><mi>b</mi><mspace width="1em"/><mi>c</mi>"#),
            (r"\text{ if }", "<mtext>&#xA0;if&#xA0;</mtext>"),
            (r"\binom{n}{k}", r#"<mrow><mo>(</mo><mfrac linethickness="0"><mi>n</mi><mi>k</mi></mfrac><mo>)</mo></mrow>"#),
            (r"{}^{14}C", "<msup><mrow></mrow><mn>14</mn></msup><mi>C</mi>"),
        ];
        for (latex, expected) in cases {
            assert_eq!(mathml_of(latex), expected, "for {latex:?}");
        }
    }

    #[test]
    fn display_mathml_is_a_block_with_limits_below_and_above() {
        assert_eq!(
            to_mathml(r"\sum_{i=1}^n x_i", true).unwrap(),
            r#"<math display="block"><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mi>n</mi></munderover><msub><mi>x</mi><mi>i</mi></msub></math>"#
        );
        assert_eq!(
            to_mathml(r"\lim_{n\to\infty} a_n", true).unwrap(),
            concat!(
                r#"<math display="block"><munder><mi>lim</mi><mrow><mi>n</mi><mo>→</mo><mi>∞</mi></mrow></munder><mo>&#x2061;</mo>"#,
                "<msub><mi>a</mi><mi>n</mi></msub></math>"
            )
        );
        // Integrals keep their scripts at the side; \nolimits and \limits overrule.
        assert!(to_mathml(r"\int_0^1", true).unwrap().contains("<msubsup><mo>∫</mo>"));
        assert!(to_mathml(r"\sum\nolimits_i", true).unwrap().contains("<msub><mo>∑</mo>"));
        assert!(to_mathml(r"\int\limits_0^1", false).unwrap().contains("<munderover><mo>∫</mo>"));
        assert_eq!(to_mathml("x", false).unwrap(), "<math><mi>x</mi></math>");
    }

    #[test]
    fn not_understood_gives_none() {
        let cases = [
            r"\foo",
            r"\frac{a}",
            r"\frac{a}{b",
            r"{x",
            r"x}",
            r"a & b",
            r"a \\ b",
            r"\begin{matrix} a \end{matrix}",
            r"x^2^3",
            r"x_1_2",
            r"x^2'",
            r"\left( x",
            r"x \right)",
            r"\left< x \right>",
            r"\middle| x",
            r"\text{$x$}",
            r"\text{\textbf{x}}",
            r"\text{a",
            r"\mathbf{x_1}",
            r"\mathbb{\alpha}",
            r"\operatorname{f(x)}",
            r"\sqrt[3{x}",
            r"50\%\\",
            "x % comment",
            "é",
            "a # b",
            r"\",
            r"x^",
            r"\hat",
            r"\!",
        ];
        for latex in cases {
            assert_eq!(to_typst(latex), None, "Typst for {latex:?}");
            assert_eq!(to_mathml(latex, true), None, "MathML for {latex:?}");
        }
    }

    #[test]
    fn escaping() {
        // Quotes and backslashes in a Typst string literal.
        assert_eq!(typst_of(r#"\text{say "hi" \{ok\}}"#), r#""say \"hi\" {ok}""#);
        assert_eq!(typst::string(r#"a\b"c"#), r#""a\\b\"c""#);
        // A backslash in text would be a LaTeX command: only the escapes of special characters are text.
        assert_eq!(to_typst(r"\text{\\}"), None);
        assert_eq!(typst_of(r"\text{R\&D: 5\% \_x}"), r#""R&D: 5% _x""#);
        assert_eq!(typst_of(r"\text{--- 'a' -- ``b''}"), r#""— ’a’ – “b”""#);
        assert_eq!(typst_of(r"a < b"), "a < b");
        // Markup characters in MathML.
        assert_eq!(mathml_of(r"a < b > c"), "<mi>a</mi><mo>&lt;</mo><mi>b</mi><mo>&gt;</mo><mi>c</mi>");
        assert_eq!(mathml_of(r#"\text{R\&D <"x">}"#), "<mtext>R&amp;D &lt;&quot;x&quot;&gt;</mtext>");
        assert_eq!(mathml_of(r"\&"), "<mi>&amp;</mi>");
        assert_eq!(mathml_of(r"\text{ }"), "<mtext>&#xA0;</mtext>");
    }

    #[test]
    fn every_typst_name_in_the_tables_is_printed_as_given() {
        // Through the whole pipeline: a command gives exactly its table's name.
        for &(latex, typst_name, _, _) in SYMBOLS {
            assert_eq!(to_typst(latex).as_deref(), Some(typst_name), "{latex}");
        }
        for &(latex, typst_name, _, _) in ACCENTS {
            assert_eq!(typst_of(&format!("{latex}{{x}}")), format!("{typst_name}(x)"));
        }
        for &(latex, template, _) in FONTS {
            assert_eq!(typst_of(&format!("{latex}{{A}}")), template.replace("{}", "A"), "{latex}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflow() {
        assert_eq!(to_typst(&"{".repeat(100_000)), None);
        assert_eq!(to_typst(&format!("{}x{}", "{".repeat(10_000), "}".repeat(10_000))), None);
        assert_eq!(to_mathml(&r"\hat".repeat(10_000), false), None);
        assert_eq!(to_typst(&r"\sqrt".repeat(10_000)), None);
        assert_eq!(to_typst(&format!("{}x{}", "{".repeat(20), "}".repeat(20))), Some("x".to_string()));
    }

    /// `omml` in an element that declares the namespace, as Word's document does.
    fn in_math_namespace(omml: &str) -> String {
        format!(r#"<w xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math">{omml}</w>"#)
    }

    /// The OMML inside `<m:oMath>`, inline.
    fn omml_of(latex: &str) -> String {
        let omml = to_omml(latex, false).unwrap_or_else(|| panic!("no OMML for {latex:?}"));
        omml.strip_prefix("<m:oMath>").and_then(|m| m.strip_suffix("</m:oMath>")).unwrap().to_string()
    }

    #[test]
    fn examples_to_omml() {
        let p = r#"<m:rPr><m:sty m:val="p"/></m:rPr>"#;
        let cases = [
            (
                r"I^2 = \frac{Q - df}{Q}",
                format!("<m:sSup><m:e><m:r><m:t>I</m:t></m:r></m:e><m:sup><m:r>{p}<m:t>2</m:t></m:r></m:sup></m:sSup><m:r>{p}<m:t>=</m:t></m:r><m:f><m:num><m:r><m:t>Q</m:t></m:r><m:r>{p}<m:t>−</m:t></m:r><m:r><m:t>d</m:t></m:r><m:r><m:t>f</m:t></m:r></m:num><m:den><m:r><m:t>Q</m:t></m:r></m:den></m:f>"),
            ),
            (r"\hat{\theta}", "<m:acc><m:accPr><m:chr m:val=\"\u{302}\"/></m:accPr><m:e><m:r><m:t>θ</m:t></m:r></m:e></m:acc>".to_string()),
            (r"\overline{x}", r#"<m:bar><m:barPr><m:pos m:val="top"/></m:barPr><m:e><m:r><m:t>x</m:t></m:r></m:e></m:bar>"#.to_string()),
            (r"\sqrt{2}", format!(r#"<m:rad><m:radPr><m:degHide m:val="1"/></m:radPr><m:deg/><m:e><m:r>{p}<m:t>2</m:t></m:r></m:e></m:rad>"#)),
            (r"\sqrt[3]{x}", format!("<m:rad><m:deg><m:r>{p}<m:t>3</m:t></m:r></m:deg><m:e><m:r><m:t>x</m:t></m:r></m:e></m:rad>")),
            (r"\chi^2_{k-1}", format!("<m:sSubSup><m:e><m:r><m:t>χ</m:t></m:r></m:e><m:sub><m:r><m:t>k</m:t></m:r><m:r>{p}<m:t>−</m:t></m:r><m:r>{p}<m:t>1</m:t></m:r></m:sub><m:sup><m:r>{p}<m:t>2</m:t></m:r></m:sup></m:sSubSup>")),
            (r"x'^2", format!("<m:sSup><m:e><m:r><m:t>x</m:t></m:r></m:e><m:sup><m:r>{p}<m:t>′</m:t></m:r><m:r>{p}<m:t>2</m:t></m:r></m:sup></m:sSup>")),
            (r"\text{ if } a<b", format!(r#"<m:r><m:rPr><m:nor/></m:rPr><m:t xml:space="preserve"> if </m:t></m:r><m:r><m:t>a</m:t></m:r><m:r>{p}<m:t>&lt;</m:t></m:r><m:r><m:t>b</m:t></m:r>"#)),
            (r"\mathbb{R}", r#"<m:r><m:rPr><m:scr m:val="double-struck"/><m:sty m:val="p"/></m:rPr><m:t>R</m:t></m:r>"#.to_string()),
            (r"\log x", format!("<m:r>{p}<m:t>log</m:t></m:r><m:r><m:t>x</m:t></m:r>")),
            (r"\left( x \right.", r#"<m:d><m:dPr><m:begChr m:val="("/><m:endChr m:val=""/></m:dPr><m:e><m:r><m:t>x</m:t></m:r></m:e></m:d>"#.to_string()),
            (r"\binom{n}{k}", r#"<m:d><m:e><m:f><m:fPr><m:type m:val="noBar"/></m:fPr><m:num><m:r><m:t>n</m:t></m:r></m:num><m:den><m:r><m:t>k</m:t></m:r></m:den></m:f></m:e></m:d>"#.to_string()),
        ];
        for (latex, expected) in cases {
            assert_eq!(omml_of(latex), expected, "for {latex:?}");
        }
    }

    #[test]
    fn display_omml_is_a_paragraph_with_limits_below_and_above() {
        let p = r#"<m:rPr><m:sty m:val="p"/></m:rPr>"#;
        assert_eq!(
            to_omml(r"\sum_{i=1}^n x_i", true).unwrap(),
            format!("<m:oMathPara><m:oMath><m:limUpp><m:e><m:limLow><m:e><m:r>{p}<m:t>∑</m:t></m:r></m:e><m:lim><m:r><m:t>i</m:t></m:r><m:r>{p}<m:t>=</m:t></m:r><m:r>{p}<m:t>1</m:t></m:r></m:lim></m:limLow></m:e><m:lim><m:r><m:t>n</m:t></m:r></m:lim></m:limUpp><m:sSub><m:e><m:r><m:t>x</m:t></m:r></m:e><m:sub><m:r><m:t>i</m:t></m:r></m:sub></m:sSub></m:oMath></m:oMathPara>")
        );
        // Inline, the scripts stay at the side.
        assert!(to_omml(r"\sum_{i=1}^n x_i", false).unwrap().starts_with("<m:oMath><m:sSubSup>"));
    }

    #[test]
    fn random_input_never_panics() {
        // Fragments that reach every branch, plus raw bytes; a simple LCG makes it reproducible.
        let mut fragments: Vec<&str> =
            r#"\frac \sqrt [ ] { } ^ _ ' \left \right \middle ( ) | . \{ \text{ \mathbf \operatorname* x 1.5 \alpha \hat \limits \sum \lim & \\ \ \, ~ - " é % $"#
                .split_whitespace()
                .collect();
        fragments.push(" ");
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        let mut understood = 0;
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..next() % 12 {
                if next() % 4 == 0 {
                    bytes.push(next() as u8);
                } else {
                    bytes.extend_from_slice(fragments[next() % fragments.len()].as_bytes());
                }
            }
            let latex = String::from_utf8_lossy(&bytes);
            let typst = to_typst(&latex);
            let display = next() % 2 == 0;
            let mathml = to_mathml(&latex, display);
            assert_eq!(typst.is_some(), mathml.is_some(), "{latex:?}");
            let omml = to_omml(&latex, display);
            assert_eq!(typst.is_some(), omml.is_some(), "{latex:?}");
            if let Some(omml) = omml {
                assert!(roxmltree::Document::parse(&in_math_namespace(&omml)).is_ok(), "{latex:?}: {omml}");
            }
            understood += usize::from(typst.is_some());
        }
        assert!(understood > 100, "the generator should also produce valid formulas ({understood})");
    }
}
