#!/usr/bin/env bash
# Benchmark metabook (criterion, benches/pool.rs) and metafor (bench/metafor.R) on the same
# synthetic data in one run, and write BENCHMARKS.md at the repository root.
#
#   bench/run.sh
#
# Takes 1-2 minutes for criterion and about 15 minutes for metafor (most of it the one capped
# attempt at k = 10^4 and the 10^4 small analyses). Raw outputs are kept in target/bench-run/.
# Environment (passed to bench/metafor.R): METAFOR_REPS_SMALL (default 200),
# METAFOR_REPS_MANY (default 3), METAFOR_TIMEOUT (cap in seconds for k = 10^4, default 600).
# Exits non-zero, without touching BENCHMARKS.md, if a run fails or its output cannot be parsed.
set -euo pipefail
cd "$(dirname "$0")/.."

export LC_ALL=C.UTF-8 CARGO_TERM_COLOR=never
out_dir=target/bench-run
mkdir -p "$out_dir"
crit_log=$out_dir/criterion.log
crit_err=$out_dir/criterion.stderr
r_tsv=$out_dir/metafor.tsv
r_err=$out_dir/metafor.stderr

tmp=""
trap '[[ -z $tmp ]] || rm -f "$tmp"' EXIT
die() { echo "bench/run.sh: $*" >&2; exit 1; }
duration() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

# The four cases, as criterion names them (group/id); bench/metafor.R uses the same names.
cases=("reml/10" "reml/10000" "reml/1000000" "many/10000 analyses of k=10")
declare -A label=(
  ["reml/10"]="REML, k = 10"
  ["reml/10000"]="REML, k = 10⁴"
  ["reml/1000000"]="REML, k = 10⁶"
  ["many/10000 analyses of k=10"]="10⁴ analyses of k = 10"
)
declare -A target=(["reml/1000000"]=0.05 ["many/10000 analyses of k=10"]=0.05)

# ---------------------------------------------------------------------------------- machine
run_date=$(date -u '+%Y-%m-%d %H:%M UTC')
cpus=$(nproc)
cpu_model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
[[ -n $cpu_model ]] || cpu_model=$(awk -F: '/^model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(uname -sr)
load=$(cut -d' ' -f1-3 /proc/loadavg)
rustc_version=$(rustc --version)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain 2>/dev/null) ]]; then commit="$commit (with uncommitted changes)"; fi

# ---------------------------------------------------------------------------------- R
declare -A mf mf_note
r_version="R not installed"
metafor_version=""
blas=""
r_secs=0
have_r=0
if command -v Rscript >/dev/null 2>&1; then
  r_version=$(Rscript -e 'cat(R.version.string)')
  if Rscript -e 'quit(status = if (requireNamespace("metafor", quietly = TRUE)) 0 else 1)' >/dev/null 2>&1; then
    have_r=1
    metafor_version=$(Rscript -e 'cat(as.character(packageVersion("metafor")))')
    blas=$(Rscript -e 'cat(basename(sessionInfo()$BLAS))')
  else
    r_version="$r_version (metafor not installed)"
  fi
fi

# ------------------------------------------------------------------- same data in both tools
# The workload shape of benches/pool.rs that bench/metafor.R mirrors.
grep -q 'for k in \[10usize, 10_000, 1_000_000\]' benches/pool.rs &&
  grep -q 'studies(k, 0)' benches/pool.rs &&
  grep -q '(0\.\.10_000)\.map(|j| studies(10, 10 \* j))' benches/pool.rs ||
  die "the cases in benches/pool.rs changed; update bench/metafor.R and this script"

# Compile benches/pool.rs's own studies() standalone and compare the bits of all 10^6 studies
# (which include every study of the 10^4 small analyses) with bench/metafor.R's generator.
data_check="not run (no R)"
if ((have_r)); then
  echo "== checking that bench/metafor.R generates the data of benches/pool.rs bit for bit" >&2
  gen_dir=$(mktemp -d)
  awk '/^pub fn studies\(/ { p = 1 } p { print } p && /^}/ { exit }' benches/pool.rs >"$gen_dir/studies.rs"
  [[ -s $gen_dir/studies.rs ]] || die "no 'pub fn studies(' in benches/pool.rs"
  cat >"$gen_dir/main.rs" <<'RUST'
#![allow(dead_code)]
enum StudyData { Generic { yi: f64, vi: f64 } }
include!("studies.rs");
fn main() {
    let a: Vec<usize> = std::env::args().skip(1).map(|s| s.parse().unwrap()).collect();
    let mut out = String::new();
    for s in studies(a[0], a[1]) {
        match s {
            StudyData::Generic { yi, vi } => out.push_str(&format!("{:016x} {:016x}\n", yi.to_bits(), vi.to_bits())),
        }
    }
    print!("{out}");
}
RUST
  rustc --edition 2021 -O -o "$gen_dir/gen" "$gen_dir/main.rs" 2>"$gen_dir/rustc.err" ||
    { cat "$gen_dir/rustc.err" >&2; die "could not compile studies() of benches/pool.rs on its own (see above)"; }
  "$gen_dir/gen" 1000000 0 >"$gen_dir/rust.txt"
  Rscript bench/metafor.R --bits 1000000 0 >"$gen_dir/r.txt"
  [[ $(wc -l <"$gen_dir/rust.txt") -eq 1000000 ]] || die "the Rust generator did not print 10^6 studies"
  if ! cmp -s "$gen_dir/rust.txt" "$gen_dir/r.txt"; then
    diff "$gen_dir/rust.txt" "$gen_dir/r.txt" | head -n 6 >&2
    die "bench/metafor.R's studies() differs from benches/pool.rs (first differences above; files in $gen_dir)"
  fi
  rm -rf "$gen_dir"
  data_check="identical to the last bit for all 10⁶ studies (checked in this run)"
fi

# --------------------------------------------------------------------------------- metabook
echo "== cargo bench --bench pool (criterion, 1-2 minutes)" >&2
start=$SECONDS
if ! cargo bench --bench pool 2>"$crit_err" | tee "$crit_log"; then
  tail -n 40 "$crit_err" >&2
  die "cargo bench failed (stderr in $crit_err)"
fi
crit_secs=$((SECONDS - start))

# Criterion prints `ID  time:   [low mid high]`, or the ID alone on the line before when it is
# long. Output: ID<TAB>mid in seconds, for every result; unknown units are an error.
parsed=$(awk '
  function secs(v, u) {
    if (u == "ps") return v * 1e-12
    if (u == "ns") return v * 1e-9
    if (u == "µs" || u == "μs" || u == "us") return v * 1e-6
    if (u == "ms") return v * 1e-3
    if (u == "s") return v
    bad = 1; return -1
  }
  /time:[ \t]+\[/ {
    id = $0; sub(/[ \t]*time:.*/, "", id); sub(/^[ \t]+/, "", id)
    if (id == "") id = prev
    vals = $0; sub(/.*time:[ \t]+\[/, "", vals); sub(/\].*/, "", vals)
    n = split(vals, f, /[ \t]+/)
    if (n != 6 || f[3] !~ /^[0-9.]+$/) { bad = 1; next }
    printf "%s\t%.6e\n", id, secs(f[3], f[4])
    next
  }
  NF { prev = $0; sub(/^[ \t]+/, "", prev); sub(/[ \t]+$/, "", prev) }
  END { if (bad) exit 1 }
' "$crit_log") || die "could not parse criterion output ($crit_log)"

declare -A mb
for c in "${cases[@]}"; do
  v=$(awk -F'\t' -v c="$c" '$1 == c { print $2 }' <<<"$parsed")
  [[ $(wc -l <<<"$v") -eq 1 && $v =~ ^[0-9.]+e[-+][0-9]+$ ]] ||
    die "no single criterion time for '$c' in $crit_log"
  mb[$c]=$v
done

if ((have_r)); then
  echo "== Rscript bench/metafor.R (about 15 minutes)" >&2
  start=$SECONDS
  # stdout (the TSV) to the file, progress on stderr to the terminal and a file.
  if ! { Rscript bench/metafor.R 2>&1 1>&3 | tee "$r_err" >&2; } 3>"$r_tsv"; then
    die "bench/metafor.R failed (stderr in $r_err)"
  fi
  r_secs=$((SECONDS - start))
  [[ $(head -n 1 "$r_tsv") == $'case\tseconds\tnote' ]] || die "unexpected header in $r_tsv"
  for c in "${cases[@]}"; do
    line=$(awk -F'\t' -v c="$c" '$1 == c' "$r_tsv")
    [[ -n $line && $(wc -l <<<"$line") -eq 1 ]] || die "no single row for '$c' in $r_tsv"
    IFS=$'\t' read -r _ secs note <<<"$line"
    [[ $secs == NA || $secs =~ ^[0-9.]+(e[-+]?[0-9]+)?$ ]] || die "bad seconds '$secs' for '$c' in $r_tsv"
    mf[$c]=$secs
    mf_note[$c]=${note:-}
  done
fi

# --------------------------------------------------------------------------------- the table
fmt() { # seconds -> "12.3 ms"
  awk -v s="$1" 'BEGIN {
    if (s < 1e-6) { v = s * 1e9; u = "ns" } else if (s < 1e-3) { v = s * 1e6; u = "µs" }
    else if (s < 1) { v = s * 1e3; u = "ms" } else { v = s; u = "s" }
    printf(v >= 100 ? "%.0f %s" : (v >= 10 ? "%.1f %s" : "%.2f %s"), v, u)
  }'
}
ratio() { # a / b -> "4,690×" (3 significant digits)
  awk -v a="$1" -v b="$2" 'BEGIN {
    r = a / b
    if (r < 100) { printf(r >= 10 ? "%.1f×" : "%.2f×", r); exit }
    e = int(log(r) / log(10)) - 2; r = int(r / 10 ^ e + 0.5) * 10 ^ e
    s = sprintf("%.0f", r); out = ""
    while (length(s) > 3) { out = "," substr(s, length(s) - 2) out; s = substr(s, 1, length(s) - 3) }
    printf "%s%s×", s, out
  }'
}

rows=""
notes=""
n=0
for c in "${cases[@]}"; do
  t_mb=$(fmt "${mb[$c]}")
  if [[ -n ${target[$c]:-} ]]; then
    met=$(awk -v t="${mb[$c]}" -v g="${target[$c]}" 'BEGIN { print (t <= g) ? "met" : "missed" }')
    t_target="≤ $(awk -v g="${target[$c]}" 'BEGIN { printf "%g", g * 1000 }') ms ($met)"
  else
    t_target="—"
  fi
  if ((!have_r)); then
    t_mf="R not installed"; t_ratio="—"
  elif [[ ${mf[$c]} != NA ]]; then
    t_mf=$(fmt "${mf[$c]}"); t_ratio=$(ratio "${mf[$c]}" "${mb[$c]}")
  elif [[ ${mf_note[$c]} =~ ^did\ not\ finish\ within\ the\ ([0-9.]+)\ s\ cap ]]; then
    cap=${BASH_REMATCH[1]}
    t_mf="> $(fmt "$cap") (stopped)"; t_ratio="> $(ratio "$cap" "${mb[$c]}")"
  elif [[ ${mf_note[$c]} == not\ feasible* ]]; then
    t_mf="not feasible"; t_ratio="—"
  else
    t_mf="not measured"; t_ratio="—"
  fi
  if ((have_r)) && [[ -n ${mf_note[$c]} ]]; then
    n=$((n + 1))
    t_mf="$t_mf [$n]"
    notes+="$n. ${label[$c]}: ${mf_note[$c]}."$'\n'
  fi
  rows+="| ${label[$c]} | $t_mb | $t_mf | $t_target | $t_ratio |"$'\n'
done

if ((have_r)); then
  r_line="$r_version, metafor $metafor_version, BLAS: $blas"
  r_timing="; metafor $(duration "$r_secs")"
else
  r_line="$r_version"
  r_timing="; metafor not run"
fi

tmp=$(mktemp BENCHMARKS.md.XXXXXX)
cat >"$tmp" <<EOF
# Benchmarks

metabook's pooling core against R's metafor, on the same synthetic data, in the same run.

- Date: $run_date; metabook commit $commit
- Machine: $cpus CPUs ($cpu_model), $mem memory, $os; load average before the run: $load
- Rust: $rustc_version
- R: $r_line
- Duration of this run: criterion $(duration "$crit_secs")$r_timing

| case | metabook | metafor | target | ratio (metafor ÷ metabook) |
|---|---|---|---|---|
$rows
Targets (from the issue that introduced the benchmark): REML at k = 10⁶ in ≤ 50 ms, and
10⁴ analyses of k = 10 in ≤ 50 ms, for metabook.

${notes:+Notes on the metafor column:

$notes}
## What is measured

- **Data.** \`studies(k, first)\` in \`benches/pool.rs\` (deterministic Weyl sequences
  frac(i·α); its doc comment gives the formula). The k-study cases use studies 1…k; analysis j
  of the 10⁴ small analyses uses studies 10j+1…10j+10. Data are built before timing in both
  tools. \`bench/metafor.R\` generates the same values: $data_check.
- **metabook**: one call of \`meta_analysis(data, spec)\` with REML (generic effect sizes): τ²
  by REML (metabook's default tolerance, 10⁻¹²), the pooled estimate with its z test and CI, Q,
  I², H², the prediction interval, and the Q-profile confidence intervals for τ² and I² —
  everything \`metabook pool\` reports. For large k the weighted sums are spread over the
  available cores ($cpus here); small analyses run on one. The number is criterion's point
  estimate (the middle value of its \`time:\` line; 20 samples).
- **metafor**: \`rma(yi, vi, method = "REML")\` (τ², estimate, test, CI, Q, I², H²) +
  \`confint()\` (Q-profile CIs for τ², I², H²) + \`predict()\` (prediction interval), at metafor's
  default tolerances (Fisher scoring threshold 10⁻⁵, \`uniroot\` for the Q-profile), so metafor
  does somewhat less precise work. When Fisher scoring does not converge with its defaults the
  analysis is refitted with \`control = list(stepadj = 0.5)\`, the remedy \`help(rma)\` suggests,
  and both attempts are timed. The number is the median wall-clock time over repeated runs.
  R runs on one core. metafor's \`rma.uni\` works with dense k × k matrices, so its time grows
  as k³ and its memory as k².

Raw outputs of this run: \`target/bench-run/\` (criterion log, metafor TSV and progress).

## Rerun

\`\`\`sh
bench/run.sh
\`\`\`

It runs \`cargo bench --bench pool\` and, if R with metafor is installed, \`Rscript bench/metafor.R\`,
then rewrites this file. \`METAFOR_REPS_SMALL\`, \`METAFOR_REPS_MANY\` and \`METAFOR_TIMEOUT\`
(seconds allowed for the single k = 10⁴ attempt) adjust the metafor side.
EOF
# Keep the section bench/book.sh writes (the cold build of the example review), with its notes.
if [[ -f BENCHMARKS.md ]] && grep -q '^## Cold build of the example review' BENCHMARKS.md; then
  echo >>"$tmp"
  awk '/^## Cold build of the example review/ { keep = 1 } keep' BENCHMARKS.md >>"$tmp"
fi
mv "$tmp" BENCHMARKS.md
tmp=""
echo "== wrote BENCHMARKS.md" >&2
cat BENCHMARKS.md
