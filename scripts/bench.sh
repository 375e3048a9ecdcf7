#!/bin/sh
# make bench: every benchmark, each measured against a baseline in the same run.
# Prints a table and writes the figures as JSON to $BUILD/bench.json.
set -eu
BUILD=${BUILD:-build}
out="$BUILD/bench.json"
results=""

add() { results="${results:+$results,
}$1"; }

echo "== 3. verify cost per token vs OpenSSL P-256 verify"
r=$("$BUILD/tests/bench/bench_verify"); echo "$r"; add "$r"

printf '[\n%s\n]\n' "$results" >"$out"
echo "figures written to $out"
