#!/usr/bin/env bash
# The benchmark table of README "Benchmarks": whole-process timings of `flowbook run` (start-up,
# planning, the run, shutdown), RUNS runs per row, the rows interleaved (p=1, p=2, p=1, ...) so
# that a change in the machine's load hits every row alike; prints the median and the range of
# each row, events/s from the median, and the largest resident memory of any run.
#
# usage: scripts/bench.sh [COUNT]          (after `cargo build --release`)
#   COUNT  events per stream run (default 20000000)
#   RUNS=3 BIN=target/release/flowbook     environment overrides
#   TRAIN=0                                skip the training rows
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000000}
runs=${RUNS:-3}
bin=${BIN:-target/release/flowbook}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# row name | graph | extra --set arguments
rows=(
  "window p=1|example-graphs/bench-window.ron|--set partition.parallelism=1"
  "window p=2|example-graphs/bench-window.ron|--set partition.parallelism=2"
  "dense p=1|example-graphs/bench-window-dense.ron|--set partition.parallelism=1"
  "dense p=2|example-graphs/bench-window-dense.ron|--set partition.parallelism=2"
)

# One run: appends "seconds rss_kB" to the row's file.
run_once() {
  local index=$1 graph=$2 extra=$3
  # shellcheck disable=SC2086
  /usr/bin/time -v "$bin" run "$graph" --quiet --set source.count="$count" $extra \
    > "$tmp/out" 2> "$tmp/time" || { echo "run failed: $graph $extra" >&2; cat "$tmp/out" "$tmp/time" >&2; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
  echo "$wall $rss" >> "$tmp/row$index"
}

echo "flowbook bench: $count events per run, $runs runs per row, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < runs; r++)); do
  for i in "${!rows[@]}"; do
    IFS='|' read -r _ graph extra <<< "${rows[$i]}"
    run_once "$i" "$graph" "$extra"
  done
done

for i in "${!rows[@]}"; do
  IFS='|' read -r name graph _ <<< "${rows[$i]}"
  sort -n -k1,1 "$tmp/row$i" | awk -v name="$name" -v graph="$(basename "$graph")" -v count="$count" '
    { t[NR] = $1; if ($2 > rss) rss = $2 }
    END {
      median = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
      printf "%-26s %-11s median %6.2f s (%.2f–%.2f)  %6.2f M events/s  max RSS %4.0f MB\n",
        graph, name, median, t[1], t[NR], count / median / 1e6, rss / 1024
    }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
