//! Dictionaries of interesting tokens: values that have broken or could break metabook (issue
//! 11's list among them), grouped by where they go. A mutation draws from these far more often
//! than it makes random bytes, because a book that does not parse tests little.

/// Numeric CSV cells and flag values: edge numbers, non-finite spellings, numbers with a
/// multi-byte character (a table cell like `10–20%` once panicked), locale spellings.
pub const NUMBERS: &[&str] = &[
    "0", "-0", "-1", "1", "2", "0.5", "1e-160", "1e-300", "5e-324", "1e300", "1e308", "1.8e308",
    "NaN", "nan", "inf", "-inf", "Infinity", "", " ", "1,5", "1e", "0x10", "+3", " 3", "−1",
    "10–20%", "1.00 [0.00, ∞]", "≈5", "3½", "１２", "5 µg", "18446744073709551616",
    "0.0000000001", "99999999999", "1e-8",
];

/// Text cells, labels, captions and prose: markup that must stay text, active content that must
/// never reach a page, template syntax that must not run, characters that are awkward to slice.
pub const TEXT: &[&str] = &[
    "10–20%",
    "1.00 [0.00, ∞]",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://example.org\"></iframe>",
    "*Smith* & <Jones>",
    "$x^2$",
    "[@nope]",
    "@fig-nope",
    "{{ 1 + 1 }}",
    "{% for i in range(3) %}x{% endfor %}",
    "Rémy-Néris",
    "\u{202e}evil",
    "a \"quoted\" b",
    "back\\slash",
    "😀 emoji",
    "NaN",
    "",
    "   ",
    "—",
    "# heading",
    "1. list",
    "| a | b |",
    "x\ty",
    "line\nbreak",
    "`code`",
    "**bold** _em_",
    "[x]()",
];

/// Whole lines inserted into a chapter's Markdown.
pub const MARKDOWN_LINES: &[&str] = &[
    "# Heading {onclick=alert(1)}",
    "## Heading {#id .class onclick=\"alert(1)\"}",
    "### Heading {onmouseover=alert(1) #x}",
    "<script>alert(1)</script>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<svg><script>alert(1)</script></svg>",
    "[a link](javascript:alert(1))",
    "[a link](JaVaScRiPt:alert(1))",
    "[ref link][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "[x]()",
    "[empty]( )",
    "![]()",
    "![alt](missing.png)",
    "![alt](/etc/hostname)",
    "![alt](../book.toml)",
    "> > > > > > > > > > > > > > > > > > > > nested quote",
    "> quote\n>\n> > inner",
    "- [ ] task\n  - nested\n    1. deep",
    "| a | b |\n|---|---|\n| 1 | 2 | 3 |",
    "| a |\n|---|\n| <script>x</script> |",
    "$$\\begin{x}$$",
    "$\\frac{1}{0}$ and $x_{_{_{}}}$",
    "$$\\sum_{i=1}^{k} w_i \\left( y_i - \\hat\\theta \\right)^2$$",
    "$\\text{<b>\\&]]>}$ in a note[^math].\n\n[^math]: With $\\sqrt[3]{x'^2}$ and \u{FDD4}0\u{FDD5}.",
    "$$",
    "Footnote[^nope].",
    "[^dup]: one\n\n[^dup]: two",
    "Cite [@nope] and [@] and [@x; ] here.",
    "See @fig-nope and @tbl-",
    "{{ nope }}",
    "{{ range(10) }}",
    "{{ \"a\" * 100000000 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
    "{% for i in range(100000) %}{{ i }}{% endfor %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% include \"page.html\" %}",
    "{%",
    "{{",
    "{#",
    "```",
    "```metabook",
    "```metabook nope\nx = 1\n```",
    "```metabook analysis\n```",
    "<!-- unclosed comment",
    "<details><summary>x</summary>y</details>",
    "\u{0}",
    "\u{feff}BOM in the middle",
    "***\n---\n___",
    "Hard  \nbreak\\\nhere",
    "<https://example.org/a?b=<c>>",
    "&amp; &#0; &#x110000; &nonexistent;",
];

/// Minijinja expressions for chapters' inline values and the plain-language summary's template.
/// (No division by zero: an infinity the book computes itself is not metabook's to refuse.)
pub const EXPRESSIONS: &[&str] = &[
    "{{ nope }}",
    "{{ nope.k }}",
    "{{ x.k }}",
    "{{ x | effect }}",
    "{{ x.p | pval }}",
    "{{ x.i2 | pct }}",
    "{{ x.tau2 | num(3) }}",
    "{{ x.tau2 | num(400) }}",
    "{{ x.tau2 | num(-1) }}",
    "{{ x.studies[0].study }}",
    "{{ x.studies[99].study }}",
    "{{ x.notes }}",
    "{{ x.subgroups }}",
    "{{ x | safe }}",
    "{{ x.k | effect }}",
    "{{ 1 | pval }}",
    "{{ \"<script>\" }}",
    "{{ \"a\" * 100000000 }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{% for s in x.studies %}{{ s.study }} {{ s.yi | num(2) }}; {% endfor %}",
    "{% set y = x %}{{ y.k }}",
    "{% if x.k > 1 %}many{% else %}one{% endif %}",
    "{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}",
    "{% raw %}{{ x }}{% endraw %}",
    "{{ x.k",
    "{% for %}",
    "{{ analyses }}",
    "{{ analyses.x | effect }}",
    "{{ outcomes[0].effect }}",
];

/// Lines inserted into `templates/page.html`. The page template is the book author's own HTML,
/// trusted to hold scripts, so nothing here adds active content: only template logic.
pub const PAGE_TEMPLATE_LINES: &[&str] = &[
    "{{ nope }}",
    "{{ nav[99].title }}",
    "{{ book_title }}",
    "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "{{ \"a\" * 100000000 }}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{% include \"page.html\" %}",
    "{% extends \"page.html\" %}",
    "{% import \"nope.html\" as x %}",
    "{{ content }}",
    "{%",
    "{% for item in nav %}{{ item.href }}{% endfor %}",
    "{{ prev.href }}{{ next.href }}",
    "{{ downloads | length }}",
];

/// Directory values for book.toml's `[build]` paths. `{ROOT}` becomes the fuzzer's own temporary
/// folder, so an absolute path can be tried without pointing anywhere real.
pub const BUILD_PATHS: &[&str] = &[
    "book", "report", "data", "templates", "..", "../outside", "../canary", "../canary/report",
    "../canary/data", "../canary/templates", ".", "", "/", "book/html", "x/../../outside",
    "{ROOT}/absolute-outside", "./book/../book", "out", "report/sub", "book.toml",
];

/// Languages for `[book] language`: typst accepts two or three letters only.
pub const LANGUAGES: &[&str] = &["en", "en-GB", "en_US", "EN", "es", "es-MX", "ko", "de", "fr", "zh-Hans", "", "e", "english", "xx", "<b>"];

pub const MEASURES: &[&str] = &["MD", "SMD", "SMCR", "ROM", "OR", "RR", "RD", "ZCOR", "GEN", "smd", "XX", ""];
pub const METHODS: &[&str] = &["FE", "MH", "PETO", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "dl", "RE", ""];
pub const TESTS: &[&str] = &["z", "knha", "KNHA", "t", ""];
pub const CONVENTIONS: &[&str] = &["metafor", "revman5", "RevMan", ""];

/// BibTeX entries appended to a bibliography; `{KEY}` becomes a fresh key that a chapter then
/// cites. Crossref cycles once overflowed the stack.
pub const BIB_ENTRIES: &[&str] = &[
    "@book{{KEY}, title = {A}, crossref = {{KEY}b}}\n@book{{KEY}b, title = {B}, crossref = {{KEY}}}",
    "@book{{KEY}, title = {Self}, crossref = {{KEY}}}",
    "@inbook{{KEY}, title = {Chain}, crossref = {{KEY}b}}\n@inbook{{KEY}b, crossref = {{KEY}c}}\n@inbook{{KEY}c, crossref = {{KEY}b}}",
    "@article{{KEY}, author = {<script>alert(1)</script>}, title = {<img src=x onerror=alert(1)>}, journal = {J}, year = {2020}}",
    "@misc{{KEY}, title = {Link}, url = {javascript:alert(1)}, year = {2020}}",
    "@misc{{KEY}, title = {Doi}, doi = {10.1/\"><script>alert(1)</script>}, year = {2020}}",
    "@article{{KEY}, title = {Broken, year = {2020}",
    "@article{{KEY}, author = {and and}, title = {{{{{{{{{{{{Deep}}}}}}}}}}}}, year = {-1}, pages = {--}}",
    "@string{s = \"x\"}\n@article{{KEY}, title = s # s # {y}, year = 2020}",
    "@article{{KEY}, title = {Ünïcödé – ∞}, author = {Rémy-Néris, O.}, year = {2003}, month = {13}}",
    "@article{{KEY}, title = {Math $\\frac{1}{0}$ and \\textbf{bold}}, year = {2020}}",
    "@article{{KEY}, title = {Dup}}\n@article{{KEY}, title = {Dup again}}",
];

/// Values of the GRADE file's keys.
pub const GRADE_RATINGS: &[&str] = &[
    "{ rating = \"not serious\" }",
    "{ rating = \"serious\", reason = \"<script>alert(1)</script>\" }",
    "{ rating = \"very serious\", reason = \"10–20% lost\" }",
    "{ rating = \"not reported\" }",
    "{ rating = \"bogus\" }",
    "{ rating = \"serious\" }",
    "{ }",
    "\"serious\"",
];
