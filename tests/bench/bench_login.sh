#!/bin/sh
# Benchmark 1: what lockbox costs every login. One real sshd, three PAM stacks swapped between
# rounds (sshd re-reads its PAM service for every connection), logins interleaved in rounds so
# machine noise hits all three alike:
#   none     pam_unix only, a plain user: the baseline
#   lockbox  pam_lockbox in account + session against the real broker (grant approved), a
#            support user: token call + verify, cgroup, reaper, and the ForceCommand hook
#   script   pam_exec + curl making the same broker call (what an administrator would write by
#            hand; it does not even verify the token), a plain user
# Each login is a full libssh publickey login running `true` (tests/bench/bench_login.c).
# Prints one JSON object per configuration and run, with the median of each phase as the client
# sees it (the same driver for all three): kex (TCP, sshd's start, key exchange), auth (publickey
# accepted: the PAM account phase), open (session channel: the PAM session phase and sshd's
# fork of the user's side), exec (the command's exit status: the ForceCommand hook, the shell).
. tests/bench/bench_env.sh

be_setup || { be_log "setup failed"; exit 1; }
HG_SSHD_EXTRA="MaxStartups 100:30:200"
S=lbxe2e${HG_ID}s
P=lbxe2e${HG_ID}p
hg_user "$S" support && hg_user "$P" || exit 1
be_engineer "benchs" "$S" && be_engineer "benchp" "$P"
be_grant benchs >/dev/null && be_grant benchp >/dev/null || exit 1
hg_sshd_start || { be_log "sshd did not start"; exit 1; }

cat >"$HG/broker-call.sh" <<EOF
#!/bin/sh
# pam_exec: ask the broker for a token for \$PAM_USER; any failure refuses the login.
exec curl -sf --max-time 3 --cacert $BENV_DIR/certs/ca.crt --cert $BENV_DIR/certs/node-7.crt \\
    --key $BENV_DIR/certs/node-7.key -H 'Content-Type: application/json' \\
    -d "{\"host\":\"node-7\",\"login\":\"\$PAM_USER\"}" -o /dev/null $BENV_URL/v1/host/token
EOF
chmod 0755 "$HG/broker-call.sh"

user_for() { [ "$1" = lockbox ] && echo "$S" || echo "$P"; }

# check each stack once: it must let its user in (and the script must really call the broker)
for c in none script lockbox; do
    be_use_pam $c
    "$BENCH/bench_login" -p "$HG_PORT" -i "$HG/id_user" -n 1 "$(user_for $c)" >/dev/null ||
        { be_log "$c: login failed"; tail -5 "$HG/sshd.log" >&2; exit 1; }
done

ROUNDS=4
PER=$(be_n 50 2)
for r in $(seq $ROUNDS); do
    for c in none lockbox script; do
        be_use_pam $c
        "$BENCH/bench_login" -p "$HG_PORT" -i "$HG/id_user" -n "$PER" -s "$HG/seq.$c" \
            -t "$HG/seq.$c.phases" "$(user_for $c)" >/dev/null || be_log "$c round $r: some logins failed"
    done
done
CPER=$(be_n 4 1)
for c in none lockbox script; do
    be_use_pam $c
    "$BENCH/bench_login" -p "$HG_PORT" -i "$HG/id_user" -n "$CPER" -c 16 -s "$HG/c16.$c" \
        -t "$HG/c16.$c.phases" "$(user_for $c)" >/dev/null || be_log "$c concurrent: some logins failed"
done

# phase_medians FILE: "kex_ms":..,"auth_ms":..,"open_ms":..,"exec_ms":.. (medians per column)
phase_medians() {
    $PYTHON -c '
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
print(",".join("\"%s_ms\":%.1f" % (k, statistics.median(float(r[i]) for r in rows) if rows else -1)
               for i, k in enumerate(("kex", "auth", "open", "exec"))))' "$1"
}

for mode in seq c16; do
    set -- $(be_stats "$HG/$mode.none")
    base=$1
    for c in none lockbox script; do
        set -- $(be_stats "$HG/$mode.$c")
        echo "{\"name\":\"login\",\"mode\":\"$mode\",\"stack\":\"$c\",\"logins\":$4,\"median_ms\":$1,\"p99_ms\":$2,\"ratio_vs_none\":$($PYTHON -c "print(round($1 / $base, 3))"),$(phase_medians "$HG/$mode.$c.phases")}"
    done
done
