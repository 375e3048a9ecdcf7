#!/bin/sh
# Benchmark 5: revocation lag, from the approver's revoke call returning to the last process of
# the session gone, with the host's default settings (poll_interval, long_poll) against the
# real broker. Sessions through the PAM session phase as in benchmark 4 (real module, real
# reaper, real cgroups), with the same escape attempts.
. tests/bench/bench_env.sh

be_setup || { be_log "setup failed"; exit 1; }
be_pam_service "$HG/host.conf"
S=lbxe2e${HG_ID}r
hg_user "$S" support
U=$(id -u "$S")
be_engineer benchr "$S"
poll=5 # lib/host/host_config.c: the default poll_interval
TRIALS=$(be_n 10 2)
: >"$HG/lags"
for t in $(seq "$TRIALS"); do
    id=$(be_grant benchr) || continue
    be_session "$S" "r$t" || continue
    echo "r$t $(be_escapees "$U")" >"$HG/watch.in"
    be_watch "$HG/watch.in" $((poll + 5)) "$HG/watch.out"
    sleep 0.$(($(od -An -N1 -tu1 /dev/urandom) % 10)) # land anywhere in a poll period
    benv_api carol POST "/v1/requests/$id/revoke" '{"comment":"bench"}' >/dev/null
    t0=$(be_now_ms)
    [ "$(benv_status)" = 200 ] || be_log "revoke $id: $(benv_status)"
    wait "$BE_WATCH_PID"
    awk -v t0="$t0" '$1 != "watching" { print ($2 < 0 ? 99999 : $2 - t0) }' "$HG/watch.out" >>"$HG/lags"
    kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null
    hg_kill_uid "$U"
done
set -- $(be_stats "$HG/lags")
echo "{\"name\":\"revocation\",\"via\":\"pam session phase (pam_driver) + real reaper + real broker, host defaults\",\"sessions\":$4,\"median_ms\":$1,\"max_ms\":$3,\"poll_interval_s\":$poll,\"goal_median_ms\":1000,\"goal_max_ms\":$(((poll + 1) * 1000))}"
