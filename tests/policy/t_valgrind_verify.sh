#!/bin/sh
# `lockboxctl token mint` and `token verify` (valid, refused, from stdin, key directory) under
# valgrind: any memory error or definite/indirect leak fails. The PAM module and the reaper
# call the same verifier many times in long-lived processes.
. "$(dirname "$0")/../support/tap.sh"
CTL=${BUILD:-build}/lockboxctl
dir=$(mktemp -d /tmp/lbx-vg.XXXXXX)
tap_cleanup "rm -rf '$dir'"

if ldd "$CTL" | grep -q libasan; then
    ok "# SKIP $CTL is an AddressSanitizer build (valgrind cannot run it)"
    tap_done
    exit
fi
VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"
# vg DESCRIPTION EXPECTED-EXIT command...: runs under valgrind, checks exit code and report
vg() {
    d=$1 want=$2
    shift 2
    $VG "$@" >"$dir/out" 2>"$dir/err"
    rc=$?
    if [ "$rc" -eq "$want" ] && ! grep -q '^==[0-9]*==' "$dir/err"; then
        ok "$d (exit $rc, valgrind clean)"
    else
        fail "$d: exit $rc, want $want"
        sed 's/^/# /' "$dir/err" | head -30
    fi
}

$CTL key generate --out "$dir/k" >/dev/null
$CTL key generate --out "$dir/other" >/dev/null
now=$(date +%s)
vg "token mint" 0 $CTL token mint --key "$dir/k/signing.key" --iss lbx --aud node-7 \
    --sub support-alice --ttl 1h --req LBX-1 --ticket T-1 --now "$now"
tok=$(cat "$dir/out")
V="token verify --iss lbx --aud node-7 --sub support-alice --now $((now + 5))"
vg "verify a valid token" 0 $CTL $V --key "$dir/k/signing.pub" "$tok"
vg "verify a valid token from a key directory" 0 $CTL $V --keys "$dir/k" "$tok"
vg "verify refuses a wrong audience" 1 $CTL token verify --iss lbx --aud node-8 \
    --sub support-alice --key "$dir/k/signing.pub" "$tok"
vg "verify refuses another key's token" 1 $CTL $V --key "$dir/other/signing.pub" "$tok"
vg "verify refuses a malformed token" 1 $CTL $V --key "$dir/k/signing.pub" "$tok=="
vg "verify refuses an expired token" 1 $CTL token verify --iss lbx --aud node-7 \
    --sub support-alice --now $((now + 7200)) --key "$dir/k/signing.pub" "$tok"
echo "$tok" >"$dir/tok"
$VG $CTL $V --key "$dir/k/signing.pub" - <"$dir/tok" >/dev/null 2>"$dir/err"
check "verify from stdin is valgrind clean" test $? -eq 0
head -c 20000 /dev/zero | tr '\0' 'A' >"$dir/big"
$VG $CTL $V --key "$dir/k/signing.pub" - <"$dir/big" >/dev/null 2>"$dir/err"
check "an oversized stdin token is refused cleanly (exit 1)" test $? -eq 1
tap_done
