#!/bin/sh
# lockboxctl key generate / token mint / token verify, as an operator would run them.
. "$(dirname "$0")/../support/tap.sh"
CTL=${BUILD:-build}/lockboxctl
dir=$(mktemp -d /tmp/lbx-ctl.XXXXXX)
tap_cleanup "rm -rf '$dir'"

kid=$($CTL key generate --out "$dir/k1")
check "key generate prints a 43-character kid" test "${#kid}" -eq 43
check "private key is 0600" test "$(stat -c %a "$dir/k1/signing.key")" = 600
check_fails "key generate refuses to overwrite" $CTL key generate --out "$dir/k1"
$CTL key generate --out "$dir/k2" >/dev/null

tok=$($CTL token mint --key "$dir/k1/signing.key" --iss lbx --aud node-7 --sub support-alice \
    --ttl 4h --req LBX-42 --ticket 123)
check "mint prints a three-segment token" test "$(echo "$tok" | tr -cd . | wc -c)" -eq 2
out=$($CTL token verify --key "$dir/k1/signing.pub" --iss lbx --aud node-7 --sub support-alice "$tok")
check "verify exits 0 and prints the claims" test "$(echo "$out" | grep -c '"lbx_req":"LBX-42"')" -eq 1
check "verify reads the token from stdin" sh -c "echo '$tok' | $CTL token verify --keys '$dir/k1' --iss lbx --aud node-7 --sub support-alice - >/dev/null"

reason() { $CTL token verify "$@" 2>&1 >/dev/null; }
r=$(reason --key "$dir/k1/signing.pub" --iss lbx --aud node-8 --sub support-alice "$tok")
check "wrong audience is named on stderr" test "${r#lockboxctl: wrong audience}" != "$r"
r=$(reason --key "$dir/k2/signing.pub" --iss lbx --aud node-7 --sub support-alice "$tok")
check "another key's kid is unknown" test "${r#lockboxctl: unknown key id}" != "$r"
r=$(reason --key "$dir/k1/signing.pub" --iss lbx --aud node-7 --sub support-alice \
    --now $(( $(date +%s) + 5 * 3600 )) "$tok")
check "expired token is refused as expired" test "${r#lockboxctl: expired}" != "$r"
mkdir "$dir/ring" && cp "$dir/k1/signing.pub" "$dir/ring/a.pub" && cp "$dir/k2/signing.pub" "$dir/ring/b.pub"
check "a key directory holds several trusted keys" $CTL token verify --keys "$dir/ring" --iss lbx --aud node-7 --sub support-alice "$tok"

check "verify accepts a CRLF-terminated token on stdin" sh -c "printf '%s\r\n' '$tok' | $CTL token verify --keys '$dir/k1' --iss lbx --aud node-7 --sub support-alice - >/dev/null"
check_fails "verify refuses two line endings on stdin" sh -c "printf '%s\n\n' '$tok' | $CTL token verify --keys '$dir/k1' --iss lbx --aud node-7 --sub support-alice - >/dev/null 2>&1"

check_fails "mint refuses a ttl over 8 h" $CTL token mint --key "$dir/k1/signing.key" --iss lbx --aud n --sub u --ttl 8h1s
chmod 0640 "$dir/k1/signing.key"
r=$($CTL token mint --key "$dir/k1/signing.key" --iss lbx --aud n --sub u --ttl 1h 2>&1)
check "mint refuses a group-readable private key" test "${r#*accessible by group}" != "$r"
chmod 0600 "$dir/k1/signing.key"
chmod 0666 "$dir/ring/a.pub"
check_fails "verify refuses a world-writable trusted key" $CTL token verify --keys "$dir/ring" --iss lbx --aud node-7 --sub support-alice "$tok"
check_fails "verify without arguments is a usage error" $CTL token verify
$CTL token verify >/dev/null 2>&1; check "usage errors exit 2" test $? -eq 2
tap_done
