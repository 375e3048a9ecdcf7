#!/bin/sh
# Runs lockbox's tests and prints one summary line: "N passed, N failed".
#   unit tests: every compiled $BUILD/tests/<area>/test_* program (cmocka, TAP output)
#   integration / end-to-end: every executable tests/<area>/t_*.sh script (TAP output)
# A program that crashes or exits non-zero without reporting a failure counts as one failure.
# Usage: tests/run.sh [--unit|--e2e] [name-filter]
set -u
BUILD=${BUILD:-build}
export BUILD
mode=all
case "${1:-}" in
    --unit) mode=unit; shift ;;
    --e2e) mode=e2e; shift ;;
esac
filter=${1:-}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

passed=0
failed=0

run_one() {
    name=$1; shift
    log="$log_dir/$(echo "$name" | tr '/' '_').log"
    start=$(date +%s)
    CMOCKA_MESSAGE_OUTPUT=TAP "$@" >"$log" 2>&1
    rc=$?
    p=$(grep -c '^ok ' "$log")
    f=$(grep '^not ok ' "$log" | grep -vc '# TODO')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name exited with status $rc" >>"$log"
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    status=PASS
    [ "$f" -gt 0 ] && status=FAIL
    printf '%-4s %-44s %4d passed %3d failed  (%ss)\n' "$status" "$name" "$p" "$f" "$(( $(date +%s) - start ))"
    if [ "$f" -gt 0 ]; then
        grep -E '^not ok|^#|ERROR|Assert|error' "$log" | head -40 | sed 's/^/    /'
    fi
}

if [ "$mode" != e2e ]; then
    for t in $(find "$BUILD/tests" -type f -name 'test_*' -perm -u+x 2>/dev/null | sort); do
        case "$t" in *"$filter"*) ;; *) continue ;; esac
        run_one "${t#"$BUILD"/tests/}" "$t"
    done
fi
if [ "$mode" != unit ]; then
    for t in $(find tests -type f -name 't_*.sh' -perm -u+x | sort); do
        case "$t" in *"$filter"*) ;; *) continue ;; esac
        run_one "${t#tests/}" sh "$t"
    done
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
