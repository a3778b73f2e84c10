#!/usr/bin/env bash
# Endless generator into a deliberately slow sink: prints the process's resident memory every
# 5 s. Bounded channels must hold it flat (back-pressure slows the source instead).
# usage: scripts/bench-memory.sh [SECONDS] [DELAY_US_PER_RECORD]   (after cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
delay=${2:-10}
bin=target/release/flowbook
[ -x "$bin" ] || { echo "build first: cargo build --release" >&2; exit 2; }
"$bin" run example-graphs/bench-window.ron --quiet --max-seconds "$seconds" \
  --set source.bounded=false --set sink.delay_us="$delay" > /tmp/flowbook-bench-memory.log &
pid=$!
echo "seconds  rss_kB"
for ((t = 0; t <= seconds; t += 5)); do
  rss=$(awk '/^VmRSS:/ {print $2}' /proc/$pid/status 2>/dev/null || echo "-")
  printf "%7d  %s\n" "$t" "$rss"
  sleep 5
done
wait $pid || true
tail -1 /tmp/flowbook-bench-memory.log
