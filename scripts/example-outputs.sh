#!/usr/bin/env bash
# Runs every graph in example-graphs/ headless with BIN and writes its outputs, normalised for
# comparison, into OUTDIR: every csv_sink's rows (sorted: partitions interleave rows), every
# trainer's metrics (without the wall-clock `samples_per_s` column) and the per-node counts of the
# run summary (without rates and seconds). Two builds behave the same when
# `diff -r BEFORE AFTER` is empty:
#   scripts/example-outputs.sh OLD_BIN /tmp/before && scripts/example-outputs.sh target/release/flowbook /tmp/after
#   diff -r /tmp/before /tmp/after && echo "all example outputs identical"
# Run from the project's root. Sink paths are overridden with absolute ones, so the result does not
# depend on how relative paths resolve.
set -u
bin=${1:?usage: example-outputs.sh BIN OUTDIR}
out=${2:?usage: example-outputs.sh BIN OUTDIR}
mkdir -p "$out"
status=0

# Endless examples run bounded, so that their output is a pure function of the graph.
extra_args() {
    case "$1" in
        regression-stream) echo "--set source.bounded=true --set source.count=20000" ;;
    esac
}

# Drops the CSV column named $1 (by header) from stdin.
drop_column() {
    awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) skip = i }
        { line = ""; for (i = 1; i <= NF; i++) if (i != skip) line = line (line == "" ? "" : ",") $i; print line }'
}

for graph in example-graphs/*.ron; do
    name=$(basename "$graph" .ron)
    raw=$(mktemp -d)
    sets=()
    # Every csv_sink (its `name:` is the line before `kind:`) writes into the scratch folder.
    for sink in $(grep -B1 'kind: "csv_sink"' "$graph" | sed -n 's/.*name: "\(.*\)",/\1/p'); do
        sets+=(--set "$sink.path=$raw/$sink.csv")
    done
    # shellcheck disable=SC2046
    if "$bin" run "$graph" -q "${sets[@]}" $(extra_args "$name") --metrics "$raw/metrics.csv" \
        >"$raw/summary.txt" 2>"$raw/stderr.txt"; then
        echo "ran  $name"
    else
        echo "FAIL $name: $(tail -1 "$raw/stderr.txt")"
        status=1
    fi
    for csv in "$raw"/*.csv; do
        [ -e "$csv" ] || continue
        base=$(basename "$csv" .csv)
        if [ "$base" = metrics ]; then
            drop_column samples_per_s <"$csv" >"$out/$name.metrics.csv"
        else
            { head -1 "$csv"; tail -n +2 "$csv" | LC_ALL=C sort; } >"$out/$name.$base.csv"
        fi
    done
    # The summary table: node, kind, in, out, late, skipped, watermark (no rates, no seconds).
    awk 'NF == 8 && $1 != "node" { print $1, $2, $3, $4, $6, $7, $8 }' "$raw/summary.txt" \
        >"$out/$name.nodes.txt"
    rm -rf "$raw"
done
exit $status
