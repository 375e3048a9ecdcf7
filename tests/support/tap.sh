# TAP helpers for integration scripts: source it, call ok/fail/check, end with tap_done.
# Every script cleans up after itself through `tap_cleanup CMD` (run on exit, also on failure).
TAP_N=0
TAP_FAILED=0
TAP_CLEANUPS=""

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
fail() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
# check "description" command args...: ok when the command succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# check_todo "why" "description" command args...: a known gap (TAP TODO): reported, visible in
# the log either way, not counted as a failure until the product meets it
check_todo() {
    _why=$1 d=$2; shift 2; TAP_N=$((TAP_N + 1))
    if "$@"; then echo "ok $TAP_N - $d # TODO $_why"; else echo "not ok $TAP_N - $d # TODO $_why"; fi
}
# check_fails "description" command args...: ok when the command fails
check_fails() { d=$1; shift; if "$@"; then fail "$d"; else ok "$d"; fi; }
diag() { echo "# $*"; }

tap_cleanup() { TAP_CLEANUPS="$*; $TAP_CLEANUPS"; }
# tap_privsep_dir: sshd's privilege-separation directory, which sshd insists on. Made for this
# test when the host has none, and removed at exit after every other cleanup (the sshds stopped).
tap_privsep_dir() {
    [ -d /run/sshd ] || { mkdir -m 0755 /run/sshd && TAP_CLEANUPS="$TAP_CLEANUPS rmdir /run/sshd;"; }
}
tap_run_cleanups() { eval "$TAP_CLEANUPS" >/dev/null 2>&1; TAP_CLEANUPS=""; }
trap 'tap_run_cleanups' EXIT
trap 'tap_run_cleanups; exit 130' INT TERM

tap_done() { echo "1..$TAP_N"; [ "$TAP_FAILED" -eq 0 ]; }
