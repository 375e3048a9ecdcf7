#!/bin/sh
# Benchmark 4: teardown lag, from the grant's exp to the last process of the session gone (and
# from the moment the reaper begins the end, HG_END_LEAD_MS before exp), over
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
# A batch's sessions and their escapees must all be in place before the grant's exp, or the
# benchmark would time its own setup (escapees started after the teardown) as lag. The grant
# outlasts the slowest setup seen so far by 2 s; a batch whose setup still ran into the last
# half second before the end begins is not measured, and is run again with a longer grant.
TTL=4
: >"$HG/setup"
: >"$HG/sessions.json"
late=0
b=0
while [ "$b" -lt "$BATCHES" ]; do
    b=$((b + 1))
    hg_grant "$S" "${TTL}s" "G-td-$b"
    exp=$_exp
    : >"$HG/watch.in"
    mons=""
    started=$(be_now_ms)
    for i in $(seq "$PER"); do
        be_session "$S" "$b-$i" || continue
        mons="$mons $MON"
        pids=$(be_escapees "$U") && echo "s$b-$i $pids" >>"$HG/watch.in"
    done
    ready=$(be_now_ms)
    setup=$((ready - started))
    echo "$setup" >>"$HG/setup"
    if [ "$ready" -ge $((exp * 1000 - HG_END_LEAD_MS - 500)) ] || [ "$(wc -l <"$HG/watch.in")" -lt "$PER" ]; then
        be_log "batch $b: set up in $setup ms with a ${TTL}s grant: not measured, again longer"
        late=$((late + 1))
        b=$((b - 1))
        TTL=$((setup / 1000 + 3))
        for m in $mons; do kill "$m" 2>/dev/null; wait "$m" 2>/dev/null; done
        hg_kill_uid "$U"
        hg_wait "[ -z \"\$(ls '$HG/run/sessions/')\" ]" 10
        [ "$late" -ge 5 ] && { be_log "setup never fits a grant"; break; }
        continue
    fi
    [ $((setup / 1000 + 3)) -gt "$TTL" ] && TTL=$((setup / 1000 + 3))
    be_watch "$HG/watch.in" $((exp - $(date +%s) + 5)) "$HG/watch.out"
    wait "$BE_WATCH_PID"
    awk -v e=$((exp * 1000)) -v b="$b" -v s="$setup" '$1 != "watching" {
        lag = $2 < 0 ? 99999 : $2 - e; print lag > "/dev/stderr"
        printf "{\"session\":\"%s\",\"batch\":%d,\"batch_setup_ms\":%d,\"lag_ms\":%d}\n", $1, b, s, lag }' \
        "$HG/watch.out" >>"$HG/sessions.json" 2>>"$HG/lags"
    for m in $mons; do kill "$m" 2>/dev/null; wait "$m" 2>/dev/null; done
    hg_kill_uid "$U"
done
awk -v l="$HG_END_LEAD_MS" '{ print $1 + l }' "$HG/lags" >"$HG/from_start"
set -- $(be_stats "$HG/from_start")
from_start_median=$1 from_start_max=$3
set -- $(be_stats "$HG/lags")
early=$(awk -v l="$HG_END_LEAD_MS" '$1 < -l' "$HG/lags" | wc -l)
setup_max=$(sort -n "$HG/setup" | tail -1)
each=$(paste -sd, "$HG/sessions.json")
echo "{\"name\":\"teardown\",\"via\":\"pam session phase (pam_driver) + real reaper + real cgroups\",\"sessions\":$4,\"processes_per_session\":7,\"median_ms\":$1,\"max_ms\":$3,\"end_lead_ms\":$HG_END_LEAD_MS,\"from_end_start_median_ms\":$from_start_median,\"from_end_start_max_ms\":$from_start_max,\"killed_before_end_start\":$early,\"batches_set_up_too_late\":$late,\"batch_setup_max_ms\":${setup_max:-0},\"grant_ttl_s\":$TTL,\"each\":[$each],\"goal_median_ms\":200,\"goal_max_ms\":1000}"
