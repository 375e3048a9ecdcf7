#!/bin/sh
# Benchmark 4: teardown lag, from the grant's exp to the last process of the session gone, over
# sessions whose processes try to escape (nohup, setsid, double fork, a loop ignoring TERM and
# HUP, disown). Sessions are opened through the PAM session phase with the PAM driver playing
# sshd's monitor: the real pam_lockbox.so makes the real cgroup and starts the real
# lockbox-reaper, which does the teardown. Tokens come from the fake broker (tests/support),
# minted here with an exp a few seconds ahead; the broker plays no part in an expiry.
# Batches of sessions share one exp, so the reapers also race each other.
. tests/bench/bench_env.sh

hg_setup || { be_log "setup failed"; exit 1; }
hg_fake_broker_start
hg_config
be_pam_service "$HG/host.conf"
S=lbxe2e${HG_ID}t
hg_user "$S" support
U=$(id -u "$S")
BATCHES=$(be_n 5 1)
PER=$(be_n 10 2)
: >"$HG/lags"
for b in $(seq "$BATCHES"); do
    hg_grant "$S" 4s "G-td-$b"
    exp=$($CTL token verify --keys "$HG/keys" --iss lockbox --aud "$HG_HOST" --sub "$S" \
        "$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$HG/broker/token")" |
        $PYTHON -c 'import json,sys; print(json.load(sys.stdin)["exp"])')
    : >"$HG/watch.in"
    mons=""
    for i in $(seq "$PER"); do
        be_session "$S" "$b-$i" || continue
        mons="$mons $MON"
        echo "s$b-$i $(be_escapees "$U")" >>"$HG/watch.in"
    done
    be_watch "$HG/watch.in" $((exp - $(date +%s) + 5)) "$HG/watch.out"
    wait "$BE_WATCH_PID"
    awk -v e=$((exp * 1000)) '$1 != "watching" { print ($2 < 0 ? 99999 : $2 - e) }' \
        "$HG/watch.out" >>"$HG/lags"
    for m in $mons; do kill "$m" 2>/dev/null; wait "$m" 2>/dev/null; done
    hg_kill_uid "$U"
    procs=$(awk '{ n += NF - 1 } END { print int(n / NR) }' "$HG/watch.in")
done
set -- $(be_stats "$HG/lags")
early=$(awk '$1 < 0' "$HG/lags" | wc -l)
echo "{\"name\":\"teardown\",\"via\":\"pam session phase (pam_driver) + real reaper + real cgroups\",\"sessions\":$4,\"processes_per_session\":7,\"median_ms\":$1,\"max_ms\":$3,\"killed_before_exp\":$early,\"goal_median_ms\":200,\"goal_max_ms\":1000}"
