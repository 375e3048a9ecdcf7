#!/bin/sh
# Smoke run of the libFuzzer harnesses (fuzz/): builds them with clang and runs each for a few
# thousand inputs from the seed corpus, so a harness that no longer builds or crashes at once
# is caught by `make check`. Long runs: `make fuzz FUZZ_SECONDS=600`.
. "$(dirname "$0")/../support/tap.sh"
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
work=$(mktemp -d /tmp/lbx-fuzz-smoke.XXXXXX)
tap_cleanup "rm -rf '$work'"

if ! command -v clang >/dev/null 2>&1; then
    fail "clang is not installed (scripts/deps.sh installs it)"
    tap_done
    exit
fi
check "fuzz harnesses build (make fuzz-build)" \
    sh -c "make --no-print-directory fuzz-build FUZZ_BUILD='$FUZZ_BUILD' >'$work/build.log' 2>&1"
for t in token_verify json config b64url http_answer; do
    mkdir -p "$work/$t"
    if "$FUZZ_BUILD/fuzz_$t" -runs=3000 -max_total_time=5 -artifact_prefix="$work/crash-$t-" \
        "$work/$t" "fuzz/corpus/$t" >"$work/$t.log" 2>&1; then
        ok "fuzz_$t: $(grep -o 'Done [0-9]* runs' "$work/$t.log")"
    else
        fail "fuzz_$t crashed or failed"
        tail -30 "$work/$t.log" | sed 's/^/# /'
    fi
done
tap_done
