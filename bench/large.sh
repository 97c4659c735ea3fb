#!/usr/bin/env bash
# Large reviews (BENCHMARKS.md, "Large reviews", issue 13): cold builds of synthetic books of N
# analyses (k = 10 studies each, a forest plot each, ten analyses to a chapter) and of one
# analysis of k studies (a forest and a funnel plot), made by the tests' own generator
# (tests/common/large.rs, through examples/large_book.rs); the example review's cold build;
# and `metabook pool` on one analysis of k studies.
#
#   bench/large.sh            # RUNS=3 runs of each (RUNS=5 bench/large.sh for more)
#
# Every build is cold: a new process, no book/ and no build cache. Prints the median wall time
# and the largest peak resident memory (GNU time's %M) of each case.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
cargo build --release --quiet
cargo build --release --quiet --example large_book
bin=$PWD/target/release/metabook
gen=$PWD/target/release/examples/large_book
work=$PWD/target/bench-large
rm -rf "$work" && mkdir -p "$work"

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# time_case NAME COMMAND...: RUNS runs (before each, the book's output and cache removed).
time_case() {
  local name=$1 book=$2
  shift 2
  for i in $(seq "$RUNS"); do
    [[ -n $book ]] && rm -rf "$book/book"
    /usr/bin/time -f "%e %M" -o "$work/$name.time.$i" "$@" > "$work/$name.out" 2>&1 || { cat "$work/$name.out"; exit 1; }
  done
  local t rss
  t=$(cat "$work/$name".time.* | cut -d' ' -f1 | median)
  rss=$(cat "$work/$name".time.* | cut -d' ' -f2 | sort -n | tail -1)
  printf '| %s | %s s | %s MB |\n' "$name" "$t" "$((rss / 1024))"
}

echo "runs: $RUNS; $(nproc) CPUs; load before: $(cut -d' ' -f1-3 /proc/loadavg); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
echo
echo "| case | cold build: median | peak RSS |"
echo "|---|---|---|"
for n in 50 200 400; do
  "$gen" "$work/n$n" --analyses "$n"
  time_case "N = $n analyses" "$work/n$n" "$bin" build --book "$work/n$n"
done
for k in 1000 10000; do
  "$gen" "$work/k$k" --studies "$k"
  time_case "k = $k studies" "$work/k$k" "$bin" build --book "$work/k$k"
done
mkdir -p "$work/example"
cp -r book.toml report data templates "$work/example/"
time_case "the example review" "$work/example" "$bin" build --book "$work/example"
for k in 20000 100000; do
  "$gen" "$work/pool$k" --studies "$k"
  time_case "pool, k = $k (RR, REML)" "" "$bin" pool --data "$work/pool$k/data/a0001.csv" --measure RR
done
