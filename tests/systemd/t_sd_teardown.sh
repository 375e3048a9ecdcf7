#!/bin/sh
# The systemd lane, the end of a grant (tests/systemd/lane.sh): at expiry every process of the
# support user is gone within one second of `exp` and still gone ten seconds later; after a
# revocation within a few seconds (the reaper asks the broker every poll_interval, 5 s by
# default); whatever the sessions started (tests/systemd/escape.sh: nohup, setsid, double
# fork, tmux, screen, systemd-run --user service and scope, a D-Bus activated user service, a
# stopped process, a fork loop), the end reported and the records removed. cron and at jobs
# planted during a grant run while it lasts, end with it, and are refused after it.
# Prints the teardown lag (median, max) over 20 sessions at expiry and 20 at revocation.
. tests/support/tap.sh
. tests/systemd/lane.sh
LAG_USERS="support-s1 support-s2 support-s3 support-s4 support-s5"
ROUNDS=4
SD_LOGINS=$LAG_USERS
sd_setup
A=support-alice

# -- cron and at: planted in a grant whose end falls 30 s after the next minute, so cron's
# next run comes while it lasts and the one after it does not; an at job for now (runs in the
# grant) and one for the minute after the end (refused).
sd_sh 'printf "* * * * * date +\\%%s >>\$HOME/cron.log; sleep 1011\n" >/opt/lane/crontab'
now=$(date +%s)
b1=$(( (now / 60 + 1) * 60 ))
[ $((b1 - now)) -ge 10 ] || b1=$((b1 + 60))
sd_grant $A "$((b1 + 30 - now))s" || sd_bail "grant for the cron and at jobs"
cron_exp=$SD_GRANT_EXP
out=$(sd_ssh $A 'crontab /opt/lane/crontab &&
    echo "touch \$HOME/at-ran; sleep 1012" | at now 2>/dev/null &&
    echo "touch \$HOME/at-late" | at -t "$(date -d @'$((b1 + 60))' +%Y%m%d%H%M)" 2>/dev/null &&
    /opt/lane/escape.sh' 2>&1 </dev/null)
check "cron and at: jobs planted by the support user" sh -c "echo '$out' | grep -qx escaped"
# Watched in the background while the sessions below come and go (other accounts).
sd_sh "while [ \$(date +%s) -lt $((cron_exp - 1)) ]; do sleep 0.2; done
    ps -u $A -o args= | grep -c 'sleep 10'" >"$SD_RUN/cron.before" 2>&1 &
cron_watch=$!
(while [ "$(date +%s)" -lt "$cron_exp" ]; do sleep 0.05; done; sd_wait_gone $A 10 >"$SD_RUN/cron.gone") &
cron_gone=$!
tap_cleanup "kill $cron_watch $cron_gone 2>/dev/null"

# -- expiry: ROUNDS rounds of one session per account, each with every escape
stats() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "median %d ms, max %d ms (n=%d)", v[int((NR + 1) / 2)], v[NR], NR }'; }
: >"$SD_RUN/lag.expiry"
early=0
left_behind=""
r=0
while [ $r -lt $ROUNDS ]; do
    r=$((r + 1))
    # The accounts' grants are asked for and approved at once, their sessions started at once.
    rm -f "$SD_RUN"/exp.*
    for u in $LAG_USERS; do
        (sd_grant "$u" 30s && echo "$SD_GRANT_EXP" >"$SD_RUN/exp.$u" &&
            sd_ssh "$u" '/opt/lane/escape.sh; sleep 1000' >"$SD_RUN/s.$u" 2>&1 </dev/null) &
    done
    lags=""
    for u in $LAG_USERS; do
        (while [ ! -s "$SD_RUN/exp.$u" ]; do sleep 0.1; done
            exp=$(cat "$SD_RUN/exp.$u")
            while [ "$(date +%s)" -lt "$exp" ]; do sleep 0.05; done
            g=$(sd_wait_gone "$u" 10) && echo $((g - exp * 1000)) || echo never) >"$SD_RUN/lag.$u" &
        lags="$lags $!"
    done
    for u in $LAG_USERS; do
        sd_sh "until [ \$(ps -u $u -o args= | grep -c 'sleep 10') -ge 8 ]; do sleep 0.1; done" &
        _w=$!
        (sleep 10; kill $_w 2>/dev/null) &
        wait $_w 2>/dev/null
        [ $r -eq 1 ] && diag "escapes of $u running before the end: $(sd_escapes_running $u)"
    done
    wait $lags
    for u in $LAG_USERS; do
        lag=$(cat "$SD_RUN/lag.$u")
        if [ "$lag" = never ]; then left_behind="$left_behind $u"; sd_procs "$u" | head -5 | sed 's/^/# left: /'
        else echo "$lag" >>"$SD_RUN/lag.expiry"; fi
    done
done
for u in $LAG_USERS; do sd_wait_gone "$u" 0 >/dev/null || left_behind="$left_behind $u"; done
check "expiry: every process of every account gone after $((ROUNDS * 5)) sessions (left:${left_behind:- none})" test -z "$left_behind"
max=$(sort -n "$SD_RUN/lag.expiry" | tail -1)
check "expiry: gone within 1 s of exp in every session ($(stats <"$SD_RUN/lag.expiry"))" \
    test "$(grep -c . "$SD_RUN/lag.expiry")" -eq $((ROUNDS * 5)) -a "${max:-9999}" -le 1000
check "expiry: nothing ended before exp" sh -c "! grep -q '^-' '$SD_RUN/lag.expiry'"
diag "teardown lag at expiry on the systemd host: $(stats <"$SD_RUN/lag.expiry")"
sleep 10
still=""
for u in $LAG_USERS; do sd_wait_gone "$u" 0 >/dev/null || still="$still $u"; done
check "expiry: still nothing of them ten seconds later (${still:-none})" test -z "$still"

# -- revocation: ROUNDS rounds again, long grants revoked one after the other
: >"$SD_RUN/lag.revoke"
left_behind=""
r=0
while [ $r -lt $ROUNDS ]; do
    r=$((r + 1))
    for u in $LAG_USERS; do
        (sd_grant "$u" 1h && echo "$SD_REQ" >"$SD_RUN/req.$u" &&
            sd_ssh "$u" '/opt/lane/escape.sh; sleep 1000' >"$SD_RUN/s.$u" 2>&1 </dev/null) &
    done
    sd_sh "sleep 4"
    for u in $LAG_USERS; do
        sd_sh "i=0; until [ \$(ps -u $u -o args= | grep -c 'sleep 10') -ge 8 ] || [ \$i -ge 100 ]; do sleep 0.1; i=\$((i+1)); done"
    done
    lags=""
    for u in $LAG_USERS; do
        t0=$(sd_now_ms)
        SD_REQ=$(cat "$SD_RUN/req.$u") sd_revoke
        (g=$(sd_wait_gone "$u" 15) && echo $((g - t0)) || echo never) >"$SD_RUN/lag.$u" &
        lags="$lags $!"
    done
    wait $lags
    for u in $LAG_USERS; do
        lag=$(cat "$SD_RUN/lag.$u")
        if [ "$lag" = never ]; then left_behind="$left_behind $u"; sd_procs "$u" | head -5 | sed 's/^/# left: /'
        else echo "$lag" >>"$SD_RUN/lag.revoke"; fi
    done
done
check "revocation: every process of every account gone (left:${left_behind:- none})" test -z "$left_behind"
max=$(sort -n "$SD_RUN/lag.revoke" | tail -1)
check "revocation: gone within poll_interval (5 s) + 2 s in every session ($(stats <"$SD_RUN/lag.revoke"))" \
    test "$(grep -c . "$SD_RUN/lag.revoke")" -eq $((ROUNDS * 5)) -a "${max:-99999}" -le 7000
diag "teardown lag after revocation on the systemd host (poll_interval 5 s): $(stats <"$SD_RUN/lag.revoke")"

# -- the ends reported, the records gone, the system healthy
check "every end reported: $((ROUNDS * 10)) sessions ended in the audit chain for the accounts" \
    test "$(sd_audit session_ended | grep -c '"support-s[0-9]"')" -ge $((ROUNDS * 10))
check "no session record left in /run/lockbox" sd_sh 'test -z "$(ls /run/lockbox/sessions)"'
state=$(sd_exec systemctl is-system-running)
check "the system is not degraded after $((ROUNDS * 10)) support sessions ($state)" test "$state" = running

# -- cron and at, after the grant of their account ended
wait $cron_watch $cron_gone
check "cron and at: their jobs were running when the grant ended ($(cat "$SD_RUN/cron.before") processes)" \
    test "$(cat "$SD_RUN/cron.before")" -ge 2
gone=$(cat "$SD_RUN/cron.gone")
check "cron and at: every process of $A gone within 1 s of exp (${gone:+$((gone - cron_exp * 1000)) ms})" \
    test -n "$gone" -a $((${gone:-0} - cron_exp * 1000)) -le 1000
while [ "$(date +%s)" -lt $((b1 + 66)) ]; do sleep 0.5; done
check "cron: ran while the grant lasted" sd_sh "test -s /home/$A/cron.log && [ \$(head -1 /home/$A/cron.log) -lt $cron_exp ]"
check "cron: refused after it (no run after exp)" sd_sh "! awk '\$1 >= $cron_exp { exit 1 }' /home/$A/cron.log || false"
check "at: the job for now ran in the grant" sd_exec test -e /home/$A/at-ran
check "at: the job for after the grant did not run" sd_exec test ! -e /home/$A/at-late
check "cron and at: refused by pam_lockbox after the grant (journal)" \
    sd_sh "journalctl --no-pager -o cat | grep -q 'pam_lockbox(\\(cron\\|atd\\):account).*$A'"
check "cron and at: nothing of $A running" sd_sh "[ -z \"\$(ps -u $A -o stat= | grep -v Z)\" ]"
tap_done
