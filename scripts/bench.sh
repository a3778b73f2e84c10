#!/usr/bin/env bash
# The benchmark table of README "Benchmarks": whole-process timings of `flowbook run` (start-up,
# planning, the run, shutdown), RUNS runs per row, the rows interleaved (p=1, p=2, p=1, ...) so
# that a change in the machine's load hits every row alike; prints the median and the range of
# each row, the throughput from the median, the speed-up of a p=2 / 2-replica row over the row
# before it, and the largest resident memory of any run.
#
# usage: scripts/bench.sh [COUNT]          (after `cargo build --release`)
#   COUNT  events per stream run (default 20000000)
#   RUNS=3 BIN=target/release/flowbook     environment overrides
#   EPOCHS=800                             epochs of the training rows (12 steps of 128 each)
#   TRAIN=0 / STREAM=0                     skip the training / the stream rows
# Numbers mean something only on a quiet machine: the script prints `uptime`'s load before and
# after; with other work on the cores, two threads that wait for each other lose the most.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000000}
runs=${RUNS:-3}
epochs=${EPOCHS:-800}
bin=${BIN:-target/release/flowbook}
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 2; }
command -v taskset >/dev/null || { echo "needs taskset: apt-get install -y util-linux" >&2; exit 2; }
# The first CPU this process may run on (a container need not have CPU 0).
first_cpu=$(awk '/^Cpus_allowed_list:/ { split($2, a, /[-,]/); print a[1] }' /proc/self/status)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# row name | graph | unit (events: COUNT events per run; steps: the trainer's steps) | --set arguments
# [| a command the run is started under: `taskset -c N` confines it to one core, where the executor
# lays the graph out for one core (the windows share the source's thread)]
rows=()
if [ "${STREAM:-1}" != 0 ]; then
  rows+=(
    "window p=1, 1 core|example-graphs/bench-window.ron|events|source.count=$count partition.parallelism=1|taskset -c $first_cpu"
    "window p=1|example-graphs/bench-window.ron|events|source.count=$count partition.parallelism=1"
    "window p=2|example-graphs/bench-window.ron|events|source.count=$count partition.parallelism=2"
    "dense p=1|example-graphs/bench-window-dense.ron|events|source.count=$count partition.parallelism=1"
    "dense p=2|example-graphs/bench-window-dense.ron|events|source.count=$count partition.parallelism=2"
  )
fi
if [ "${TRAIN:-1}" != 0 ]; then
  rows+=(
    "train 1 replica|example-graphs/bench-train.ron|steps|trainer.epochs=$epochs shard.replicas=1"
    "train 2 replicas|example-graphs/bench-train.ron|steps|trainer.epochs=$epochs shard.replicas=2"
  )
fi

# One run: appends "seconds rss_kB work" to the row's file.
run_once() {
  local index=$1 graph=$2 unit=$3 sets=$4 wrapper=$5 args=() s
  for s in $sets; do args+=(--set "$s"); done
  # shellcheck disable=SC2086 # the wrapper is words: `taskset -c 0`
  /usr/bin/time -v $wrapper "$bin" run "$graph" --quiet "${args[@]}" \
    > "$tmp/out" 2> "$tmp/time" || { echo "run failed: $graph $sets" >&2; cat "$tmp/out" "$tmp/time" >&2; exit 1; }
  local wall rss work
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$tmp/time" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
  if [ "$unit" = steps ]; then
    work=$(grep -o 'steps=[0-9]*' "$tmp/out" | head -1 | cut -d= -f2)
  else
    work=$count
  fi
  echo "$wall $rss $work" >> "$tmp/row$index"
}

echo "flowbook bench: $count events per stream run, $epochs epochs per training run, $runs runs per row, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 0; r < runs; r++)); do
  for i in "${!rows[@]}"; do
    IFS='|' read -r _ graph unit sets wrapper <<< "${rows[$i]}"
    run_once "$i" "$graph" "$unit" "$sets" "$wrapper"
  done
done

previous=""
for i in "${!rows[@]}"; do
  IFS='|' read -r name graph unit _ <<< "${rows[$i]}"
  median=$(sort -n -k1,1 "$tmp/row$i" | awk '{ t[NR] = $1 } END { print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
  # A p=2 / 2-replica row is compared with the row before it.
  versus=""
  case "$name" in
    *p=2*|*"2 replicas"*) [ -n "$previous" ] && versus=$(awk -v a="$previous" -v b="$median" 'BEGIN { printf "  %.2fx the row before", a / b }') ;;
  esac
  sort -n -k1,1 "$tmp/row$i" | awk -v name="$name" -v graph="$(basename "$graph")" -v unit="$unit" -v median="$median" -v versus="$versus" '
    { t[NR] = $1; if ($2 > rss) rss = $2; work = $3 }
    END {
      rate = (unit == "steps") ? sprintf("%6.1f k steps/s ", work / median / 1e3) : sprintf("%6.2f M events/s", work / median / 1e6)
      printf "%-26s %-18s median %6.2f s (%.2f–%.2f)  %s  max RSS %4.0f MB%s\n",
        graph, name, median, t[1], t[NR], rate, rss / 1024, versus
    }'
  previous=$median
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
