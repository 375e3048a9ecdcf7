#!/bin/sh
# A real sshd (own port, own PAM service, hardened Match block) whose broker is broken or
# hostile — the FAKE broker of tests/support/fake_broker.py, since no real broker misbehaves on
# cue. Every support login must be refused within the deadline (1 s here) plus half a second,
# with a reason in the banner; users outside the support group must not notice anything.
. tests/support/tap.sh
. tests/support/hostgate_env.sh
FORGE=$BUILD_ABS/tests/tools/forge_token

hg_setup || { fail "setup"; tap_done; exit 1; }
hg_fake_broker_start
hg_config timeout=1s
S=lbxe2e${HG_ID}s
N=lbxe2e${HG_ID}n
hg_user "$S" support
hg_user "$N"
hg_sshd_start || { fail "sshd did not start"; tap_done; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# login USER ARGS...: runs the client, sets OUT (its stderr+stdout), RC and MS (wall time)
login() {
    _t0=$(now_ms)
    OUT=$(hg_ssh "$@" 2>&1 </dev/null)
    RC=$?
    MS=$(($(now_ms) - _t0))
}

# Baseline: an immediate refusal, to know what sshd + key exchange cost by themselves.
login "$S" true
base=$MS
check "no request: refused" test "$RC" -eq 3
check "no request: reason in the SSH banner" sh -c "echo '$OUT' | grep -q '^banner: lockbox: no approved grant for $S on $HG_HOST'"
diag "baseline refusal: $base ms"

within() { # within NAME: refused, reason shown, and no later than deadline + 0.5 s over baseline
    check "$1: refused" test "$RC" -eq 3
    check "$1: refused within 1 s + 0.5 s ($((MS - base)) ms over baseline)" test $((MS - base)) -lt 1500
    check "$1: a lockbox reason in the banner" sh -c "echo '$OUT' | grep -q '^banner: lockbox: '"
}

echo 5 >"$HG/broker/delay"
login "$S" true
within "broker slower than the deadline"
rm -f "$HG/broker/delay"

hg_fake_broker_stop
login "$S" true
within "broker stopped"
login "$N" 'echo plain-user-ok'
check "broker stopped: a non-support user logs in and runs a command" sh -c "echo '$OUT' | grep -q plain-user-ok"
check "broker stopped: no lockbox banner for the non-support user" sh -c "! echo '$OUT' | grep -q lockbox"

hg_fake_broker_start other-broker
hg_config timeout=1s
login "$S" true
within "broker with a certificate from another CA"
check "another CA: told it is a TLS failure" sh -c "echo '$OUT' | grep -q 'tls failure'"
hg_fake_broker_stop

hg_fake_broker_start
hg_config timeout=1s
sed -i "s|pki/host.crt|pki/expired.crt|; s|pki/host.key|pki/expired.key|" "$HG/host.conf"
login "$S" true
within "expired host certificate"
hg_config timeout=1s

kid=$(hg_mint "$S" 1h | cut -d. -f1 | tr '_-' '/+' | base64 -d 2>/dev/null | sed 's/.*"kid":"\([^"]*\)".*/\1/')
now=$(date +%s)
claims="{\"iss\":\"lockbox\",\"sub\":\"$S\",\"aud\":\"$HG_HOST\",\"jti\":\"G-h\",\"iat\":$now,\"nbf\":$now,\"exp\":$((now + 3600))}"
hostile() { # hostile NAME TOKEN
    hg_answer token 200 "{\"token\":\"$2\",\"grant_id\":\"G-h\",\"access_end\":$((now + 3600))}"
    login "$S" 'echo got-in'
    within "hostile broker: $1"
    check "hostile broker: $1: no command ran" sh -c "! echo '$OUT' | grep -q got-in"
}
hostile "alg none" "$($FORGE none "$kid" "$claims")"
hostile "HS256 over the public key" "$($FORGE hs256 "$HG/keys/signing.pub" "$kid" "$claims")"
hostile "token for another host" "$($FORGE es256 "$HG/keys/signing.key" "$kid" '{}' "$(echo "$claims" | sed "s/$HG_HOST/node-other/")")"
hostile "token for another login" "$($FORGE es256 "$HG/keys/signing.key" "$kid" '{}' "$(echo "$claims" | sed "s/\"sub\":\"$S\"/\"sub\":\"$N\"/")")"
hostile "9 h grant" "$($FORGE es256 "$HG/keys/signing.key" "$kid" '{}' "$(echo "$claims" | sed "s/\"exp\":[0-9]*/\"exp\":$((now + 9 * 3600))/")")"
printf '200\n{"token":"%s"' "$(head -c 100000 /dev/zero | tr '\0' a)" >"$HG/broker/token"
login "$S" true
within "hostile broker: truncated oversized answer"
# control: the same forged-signature path with correct claims does let the engineer in
hg_answer token 200 "{\"token\":\"$($FORGE es256 "$HG/keys/signing.key" "$kid" '{}' "$claims")\",\"grant_id\":\"G-h\",\"access_end\":$((now + 3600))}"
login "$S" 'echo got-in'
check "control: a correct token from the same forge logs in" sh -c "echo '$OUT' | grep -q got-in"

# keyboard-interactive and password logins carry the same refusal
hg_answer token 403 '{"error":"pending","message":"awaiting approval","request_id":"LBX-42","awaiting":"subscription owner"}'
OUT=$("$SSH_CLIENT" -p "$HG_PORT" -k "pw-$S" "$S" true 2>&1 </dev/null)
check "keyboard-interactive: refused with the pending reason shown" sh -c "echo '$OUT' | grep -q 'request LBX-42 awaits approval by the subscription owner' && echo '$OUT' | grep -q 'auth: denied'"
OUT=$("$SSH_CLIENT" -p "$HG_PORT" -P "pw-$S" "$S" true 2>&1 </dev/null)
check "password: refused with the pending reason shown" sh -c "echo '$OUT' | grep -q 'request LBX-42 awaits approval' && echo '$OUT' | grep -q 'auth: denied'"
OUT=$("$SSH_CLIENT" -p "$HG_PORT" -k "pw-$N" "$N" 'echo kbd-ok' 2>&1 </dev/null)
check "keyboard-interactive: non-support user unaffected" sh -c "echo '$OUT' | grep -q kbd-ok"
tap_done
