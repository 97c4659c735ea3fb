#!/usr/bin/env bash
# Cold build of the example review (book.toml, report/, data/ at the repository root):
# `metabook build` (HTML site + typeset PDF) against R Markdown + metafor rendering the same
# review to HTML only (bench/review.Rmd), in one run.
#
#   METABOOK=path/to/release/metabook bench/book.sh [--write] [REPS]
#
# REPS (default 10) timed builds of each tool, interleaved (metabook, R, R, metabook, ...) so that
# drifting machine load hits both alike. Every build starts cold: a fresh process in a fresh
# temporary folder holding a fresh copy of the inputs, no book/ from a previous build, no knitr
# cache. One untimed build of each comes first (checking that both work and leaving the
# binaries in the OS file cache for both alike). Also timed, for context: R starting and loading
# metafor + rmarkdown without rendering anything.
#
# METABOOK defaults to target/release/metabook (build it with `cargo build --release`);
# METABOOK_COMMIT, if set, names the commit it was built from (for the report). Prints a
# Markdown section for BENCHMARKS.md; with --write it also replaces that section in BENCHMARKS.md
# (from "## Cold build of the example review" to the line "<!-- end of bench/book.sh output -->",
# keeping the hand-written notes after it), or appends it with that line.
# Raw times and outputs stay in BENCH_OUT (default: a new folder under /tmp; its path is printed).
# Skips (exit 0, with a message) if R, metafor, rmarkdown, pandoc or the Vancouver CSL style
# (Debian's citation-style-language-styles) is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export LC_ALL=C.UTF-8

write=0
reps=10
for arg in "$@"; do
  case $arg in
    --write) write=1 ;;
    ''|*[!0-9]*) echo "usage: bench/book.sh [--write] [REPS]" >&2; exit 2 ;;
    *) reps=$arg ;;
  esac
done
((reps >= 1)) || { echo "bench/book.sh: REPS must be at least 1" >&2; exit 2; }
die() { echo "bench/book.sh: $*" >&2; exit 1; }
skip() { echo "bench/book.sh: skipped: $*" >&2; exit 0; }

# ------------------------------------------------------------------------- what is needed
command -v Rscript >/dev/null 2>&1 ||
  skip "R is not installed (no Rscript on PATH). On Debian: apt-get install r-base-core r-cran-metafor r-cran-rmarkdown pandoc citation-style-language-styles"
for pkg in metafor rmarkdown knitr; do
  Rscript -e "quit(status = if (requireNamespace('$pkg', quietly = TRUE)) 0 else 1)" >/dev/null 2>&1 ||
    skip "the R package $pkg is not installed (Debian: r-cran-$pkg)"
done
Rscript -e 'quit(status = if (rmarkdown::pandoc_available()) 0 else 1)' >/dev/null 2>&1 ||
  skip "pandoc is not installed (Debian: pandoc)"
csl=$(awk '/^csl:/ { print $2; exit }' bench/review.Rmd)
[[ -z $csl || -f $csl ]] || skip "the citation style $csl that bench/review.Rmd uses is missing (Debian: citation-style-language-styles)"
metabook=${METABOOK:-target/release/metabook}
[[ -x $metabook ]] || die "no metabook binary at $metabook: build one with 'cargo build --release' or set METABOOK"
metabook=$(cd "$(dirname "$metabook")" && pwd)/$(basename "$metabook")
[[ -f book.toml && -d report && -d data && -f bench/review.Rmd ]] || die "run from a metabook checkout (book.toml, report/, data/, bench/review.Rmd)"

# ------------------------------------------------------------------------- machine, versions
run_date=$(date -u '+%Y-%m-%d %H:%M UTC')
cpus=$(nproc)
cpu_model=$(awk -F: '/^model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }' /proc/cpuinfo)
[[ -n $cpu_model ]] || cpu_model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(uname -sr)
load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- book.toml report data templates 2>/dev/null) ]]; then
  commit="$commit (the book's files with uncommitted changes)"
fi
metabook_version=$("$metabook" --version 2>/dev/null || echo "metabook (version unknown)")
# The binary may come from another checkout (e.g. a worktree): METABOOK_COMMIT names its commit.
[[ -z ${METABOOK_COMMIT:-} ]] || metabook_version="$metabook_version built from commit $METABOOK_COMMIT"
r_version=$(Rscript -e 'cat(R.version.string)')
r_pkgs=$(Rscript -e 'cat(sprintf("metafor %s, rmarkdown %s, knitr %s", packageVersion("metafor"), packageVersion("rmarkdown"), packageVersion("knitr")))')
pandoc_version=$(Rscript -e 'cat(as.character(rmarkdown::pandoc_version()))')

# ------------------------------------------------------------------------- inputs, snapshotted
out=${BENCH_OUT:-$(mktemp -d /tmp/metabook-book-bench.XXXXXX)}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One copy of the inputs for the whole run, so that edits made meanwhile change no repetition.
mkdir -p "$work/book-src" "$work/rmd-src"
cp -r book.toml report data "$work/book-src/"
[[ -d templates ]] && cp -r templates "$work/book-src/"
# The site and the PDFs, the outputs this comparison has always timed; the Word file (whose
# figures are drawn at 300 dpi) has its own section in BENCHMARKS.md.
sed -i '/^\[output\.docx\]$/d' "$work/book-src/book.toml"
cp bench/review.Rmd "$work/rmd-src/"
cp -r data "$work/rmd-src/"
title=$(awk -F'"' '/^title *=/ { print $2; exit }' book.toml)

now() { date +%s%N; }
# Each build: fresh folder with fresh inputs (copying not timed), then the timed command.
build_metabook() { # $1 = folder to create
  cp -r "$work/book-src" "$1"
  local t0 t1
  t0=$(now)
  "$metabook" build --book "$1" >"$1.log" 2>&1 || { cat "$1.log" >&2; die "metabook build failed in $1"; }
  t1=$(now)
  [[ -n $(find "$1/book" -name index.html) && -n $(find "$1/book" -name '*.pdf') ]] || die "metabook wrote no index.html or no PDF under $1/book"
  echo $(((t1 - t0) / 1000))
}
build_r() { # $1 = folder to create
  cp -r "$work/rmd-src" "$1"
  local t0 t1
  t0=$(now)
  (cd "$1" && Rscript -e 'rmarkdown::render("review.Rmd", output_format = "html_document", quiet = TRUE)') >"$1.log" 2>&1 ||
    { cat "$1.log" >&2; die "R Markdown render failed in $1"; }
  t1=$(now)
  [[ -s $1/review.html ]] || die "R Markdown wrote no review.html in $1"
  echo $(((t1 - t0) / 1000))
}
r_start() {
  local t0 t1
  t0=$(now)
  Rscript -e 'suppressPackageStartupMessages({ library(metafor); library(rmarkdown) })' >/dev/null 2>&1
  t1=$(now)
  echo $(((t1 - t0) / 1000))
}

echo "== warm-up (untimed): one build of each" >&2
build_metabook "$work/mb-warm" >/dev/null
build_r "$work/r-warm" >/dev/null
r_start >/dev/null

: >"$out/times.tsv"
echo -e "tool\trep\tmicroseconds" >"$out/times.tsv"
t_start=$(date +%s)
for ((i = 1; i <= reps; i++)); do
  if ((i % 2)); then order=(metabook r); else order=(r metabook); fi
  for tool in "${order[@]}"; do
    if [[ $tool == metabook ]]; then us=$(build_metabook "$work/mb-$i"); else us=$(build_r "$work/r-$i"); fi
    echo -e "$tool\t$i\t$us" >>"$out/times.tsv"
    echo "== rep $i/$reps: $tool $((us / 1000)) ms" >&2
  done
  echo -e "r-start\t$i\t$(r_start)" >>"$out/times.tsv"
done
t_total=$(($(date +%s) - t_start))
# Keep the last outputs for inspection.
rm -rf "$out/metabook-book" "$out/review.html"
cp -r "$work/mb-$reps/book" "$out/metabook-book"
cp "$work/r-$reps/review.html" "$out/review.html"

# ------------------------------------------------------------------------- statistics
stat() { # $1 = tool, $2 = min|median; milliseconds with 1 decimal
  awk -F'\t' -v t="$1" -v w="$2" '$1 == t { v[++n] = $3 }
    END {
      if (!n) exit 1
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
      r = (w == "min") ? v[1] : (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2)
      printf "%.1f", r / 1000
    }' "$out/times.tsv"
}
mb_min=$(stat metabook min); mb_med=$(stat metabook median)
r_min=$(stat r min); r_med=$(stat r median)
rs_min=$(stat r-start min); rs_med=$(stat r-start median)
ratio_med=$(awk -v a="$r_med" -v b="$mb_med" 'BEGIN { printf "%.1f", a / b }')
ratio_min=$(awk -v a="$r_min" -v b="$mb_min" 'BEGIN { printf "%.1f", a / b }')
met=$(awk -v a="$r_med" -v b="$mb_med" 'BEGIN { print (20 * b <= a) ? "met" : "not met" }')
budget=$(awk -v a="$r_med" 'BEGIN { printf "%.0f", a / 20 }')
ms() { awk -v x="$1" 'BEGIN { if (x >= 1000) printf "%.2f s", x / 1000; else printf "%.0f ms", x }'; }
sizes_mb=$(du -sk "$out/metabook-book" | cut -f1)
pdf_kb=$(find "$out/metabook-book" -name '*.pdf' ! -name '*-plain-language-summary.pdf' -exec du -k {} + | cut -f1 | head -1)
pls_kb=$(find "$out/metabook-book" -name '*-plain-language-summary.pdf' -exec du -k {} + | cut -f1 | head -1)
html_kb=$(du -k "$out/review.html" | cut -f1)
pages=$(find "$out/metabook-book" -name '*.html' | wc -l)

# ------------------------------------------------------------------------- same numbers?
# What both print as text, extracted from both outputs (tags stripped, table cells kept apart, entities and pandoc's
# curly apostrophes undone, white space collapsed) and compared: the pooled effects as both write
# them in prose ("SMD 1.52 (95% CI 1.09 to 1.96)", trim-and-fill's adjusted estimate included),
# the tests for small-study effects under the funnel plot, the leave-one-out rows, the GRADE
# statements of the summary-of-findings table, and the plain-language summary's findings and
# numbers (studies, participants). The figures' own text (forest-plot footers, PRISMA counts) is
# in metabook's SVGs and R's PNGs and is not compared here.
plain() { sed -e 's/<t[dh][^>]*>/ | /g; s/<\/t[dh]>/ | /g' -e 's/<[^>]*>//g' -e "s/&#39;/'/g; s/&#x27;/'/g; s/’/'/g; s/&amp;/\&/g; s/&quot;/\"/g" "$@" | tr '\n' ' ' | tr -s ' '; }
checks=(
  "pooled effects|SMD [^ ]* \(95% CI [^ ]* to [^ )]*\)"
  "tests for small-study effects|(Egger's test|Begg's test|trim-and-fill): [^;]*"
  "leave-one-out rows|\| [−0-9.]+ \[[−0-9.]+, [−0-9.]+\] \|"
  "GRADE statements|(Intrathecal baclofen (results|likely results|may result) in|The evidence is very uncertain about) [^.]*\."
  "plain-language findings|\([^()]*\)\. [^.]*\.( The change is [a-z]+\.)? (We|Our) [^.]*\."
  "plain-language numbers|(come from [a-z0-9]+ studies with [0-9,]+ people|[A-Z][a-z]* [a-z]*: SMD [^,]*, [0-9]+ studies, [0-9,]+ people)"
)
mb_text=$(find "$out/metabook-book" -name '*.html' -exec cat {} + | plain)
r_text=$(plain "$out/review.html")
same=() differ=() effects=""
for check in "${checks[@]}"; do
  name=${check%%|*} re=${check#*|}
  a=$(grep -oE "$re" <<<"$mb_text" | sort -u || true)
  b=$(grep -oE "$re" <<<"$r_text" | sort -u || true)
  [[ $name == "pooled effects" ]] && effects=$(echo "$a" | paste -sd ';' | sed 's/;/; /g')
  if [[ -n $a && $a == "$b" ]]; then
    same+=("$name ($(grep -c . <<<"$a"))")
  else
    differ+=("$name — metabook: $(echo "$a" | paste -sd ';' | sed 's/;/; /g'); R: $(echo "$b" | paste -sd ';' | sed 's/;/; /g')")
  fi
done
if ((${#differ[@]} == 0)); then
  parity="identical in both outputs: the pooled effects ($effects) and the $(IFS=,; echo "${same[*]:1}" | sed 's/,/, /g') (distinct strings compared)"
else
  parity="DIFFER: $(printf '%s. ' "${differ[@]}")(identical: $(IFS=,; echo "${same[*]}" | sed 's/,/, /g'))"
fi
echo "== $parity" >&2

# ------------------------------------------------------------------------- report
section=$(cat <<EOF
## Cold build of the example review: metabook against R Markdown + metafor

The example review (\`book.toml\`, \`report/\`, \`data/\`) built from scratch by \`metabook build\`
(the HTML site and the typeset PDF), and the same review written as R Markdown
(\`bench/review.Rmd\`) rendered by R to HTML only, in the same run.

- Date: $run_date; the book at commit $commit; $metabook_version (release build)
- Machine: $cpus CPUs ($cpu_model), $mem memory, $os; load average before the run: $load
- R: $r_version; $r_pkgs; pandoc $pandoc_version
- Repetitions: $reps of each, interleaved; duration of the timed part: $((t_total / 60)) min $(printf '%02d' $((t_total % 60))) s

| build | output | min | median |
|---|---|---|---|
| metabook \`build\` | HTML site ($pages pages, ${sizes_mb} KiB with the PDFs) + PDF (${pdf_kb} KiB) + summary PDF (${pls_kb:-0} KiB) | $(ms "$mb_min") | $(ms "$mb_med") |
| R Markdown + metafor, \`rmarkdown::render\` | one self-contained HTML file (${html_kb} KiB) | $(ms "$r_min") | $(ms "$r_med") |
| (R starting and loading metafor + rmarkdown, nothing rendered) | — | $(ms "$rs_min") | $(ms "$rs_med") |

Ratio (R Markdown ÷ metabook): **${ratio_med}×** on the medians (${ratio_min}× on the minima).
Target (from the issue that introduced the benchmark): metabook's full build (HTML + PDF) in
≤ 1/20 of R Markdown's HTML-only time, i.e. ≤ $(ms "$budget") here: **$met**.

Numbers: $parity.
EOF
)
printf '%s\n' "$section" >"$out/section.md"
printf '%s\n' "$section"
echo "== raw times and the last outputs: $out" >&2

if ((write)); then
  tmp=$(mktemp BENCHMARKS.md.XXXXXX)
  # The generated part above plus the hand-written notes that follow it in BENCHMARKS.md
  # (everything after the line "<!-- end of bench/book.sh output -->") are kept.
  awk -v new="$out/section.md" '
    BEGIN { while ((getline line < new) > 0) sec = sec line "\n" }
    /^## Cold build of the example review/ { printf "%s\n", sec; skipping = 1; done = 1; next }
    skipping && /^<!-- end of bench\/book.sh output -->/ { skipping = 0 }
    skipping && /^## / { skipping = 0 }
    !skipping { print }
    END { if (!done) printf "\n%s\n<!-- end of bench/book.sh output -->\n", sec }' BENCHMARKS.md >"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" BENCHMARKS.md
  echo "== updated BENCHMARKS.md" >&2
fi
