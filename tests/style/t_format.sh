#!/bin/sh
# Every C file git tracks is formatted as .clang-format says (clang-format --dry-run --Werror):
# `make format` rewrites them, `make format-check` runs this check alone.
# ENABLED=0 would report the unformatted files without failing (TAP SKIP).
ENABLED=1
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
if ! command -v clang-format >/dev/null 2>&1; then
    echo "1..1"
    echo "not ok 1 - clang-format is not installed (scripts/deps.sh --test installs it)"
    exit 1
fi
bad=""
n=0
for f in $(git ls-files '*.c' '*.h'); do
    n=$((n + 1))
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
echo "1..1"
if [ -z "$bad" ]; then
    echo "ok 1 - $n C files formatted as .clang-format says"
elif [ "$ENABLED" -eq 0 ]; then
    echo "ok 1 # SKIP format check disabled; $(echo $bad | wc -w) of $n files differ"
    for f in $bad; do echo "# unformatted: $f"; done
else
    echo "not ok 1 - $(echo $bad | wc -w) of $n files differ from .clang-format (make format)"
    for f in $bad; do echo "# unformatted: $f"; done
    exit 1
fi
