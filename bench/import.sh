#!/usr/bin/env bash
# Import + cold build of a large RevMan review (BENCHMARKS.md, "Importing a RevMan review").
# Makes a 113-analysis RevMan file from the real sore-throat review (bench/revman_large.py
# --whole: the comparisons and, per copy, the studies with their references and judgements),
# then times `metabook import` and a cold `metabook build` of the imported book with the
# release binary, RUNS times each (default 5), and prints the median and the peak memory.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
N=${N:-113}
cargo build --release --quiet
bin=target/release/metabook
work=target/bench-import
rm -rf "$work" && mkdir -p "$work"
python3 bench/revman_large.py ../shared/revman/antibiotics-for-sore-throat.rm5 "$work/large.rm5" "$N" --whole
for i in $(seq "$RUNS"); do
  rm -rf "$work/book"
  /usr/bin/time -f "%e %M" -o "$work/time-import.$i" "$bin" import "$work/large.rm5" --into "$work/book" >/dev/null 2>&1
  /usr/bin/time -f "%e %M" -o "$work/time-build.$i" "$bin" build --book "$work/book" > "$work/build.out.$i" 2>&1
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
imp=$(cat "$work"/time-import.* | cut -d' ' -f1 | median)
bld=$(cat "$work"/time-build.* | cut -d" " -f1 | median)
sum=$(for i in $(seq "$RUNS"); do echo "$(cut -d" " -f1 "$work/time-import.$i") + $(cut -d" " -f1 "$work/time-build.$i")" | bc; done | median)
rss=$(cat "$work"/time-build.* | cut -d" " -f2 | sort -n | tail -1)
echo "file: $(du -k "$work/large.rm5" | cut -f1) KB, $N analyses; runs: $RUNS; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "import: median $imp s; cold build: median $bld s (peak RSS $((rss / 1024)) MB); import + build: median $sum s"
tail -3 "$work/build.out.1"
