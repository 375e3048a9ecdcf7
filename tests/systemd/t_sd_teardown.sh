#!/bin/sh
# The systemd lane, the end of a grant (tests/systemd/lane.sh): at expiry every process of the
# support user is gone within one second of `exp` and still gone ten seconds later; after a
# revocation at once with the default long_poll, and within poll_interval (5 s) and two seconds
# in any case; whatever the sessions started (tests/systemd/escape.sh: nohup, setsid, double
# fork, tmux, screen, systemd-run --user service and scope, a D-Bus activated user service, a
# stopped process, a fork loop), the end reported and the records removed. cron and at jobs
# planted during a grant run while it lasts, end with it, and are refused after it.
# Prints the teardown lag (median, max) over 20 sessions at expiry and 20 at revocation.
. tests/support/tap.sh
. tests/systemd/lane.sh
# Each round ends one session of every account at once: five by their grant's expiry, five by
# revocation (revoked while the first five wait for their exp).
EXP_USERS="support-e1 support-e2 support-e3 support-e4 support-e5"
REV_USERS="support-r1 support-r2 support-r3 support-r4 support-r5"
ROUNDS=${SD_ROUNDS:-4} # fewer to try a change quickly; the figures need 4 (20 sessions of each)
# Ten logins at once take several seconds on a loaded two-core machine: the grant leaves room
# for them and for the escapes to be planted before it ends.
GRANT=45
SD_LOGINS="$EXP_USERS $REV_USERS"
sd_setup
A=support-alice
for u in $A $SD_LOGINS; do sd_uid $u >"$SD_RUN/uid.$u" || sd_bail "uid of $u"; done
uid() { cat "$SD_RUN/uid.$1"; }
gone_now() { sd_wait_gone "$1" 0 >/dev/null; }
sessions=$((ROUNDS * $(echo $EXP_USERS | wc -w)))
stats() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "median %d ms, max %d ms (n=%d)", v[int((NR + 1) / 2)], v[NR], NR }'; }
journal_of() { # PATTERN SECS: the container's journal lines of the last SECS matching PATTERN
    sd_exec journalctl --no-pager -o short-precise --since "-$2s" | grep -e "$1" | tail -40 |
        sed 's/^/# journal: /'
}

# reaper_times: from the reapers' own journal lines, for the accounts' expired sessions, how
# long after exp each began its end and finished it (end reported, record removed): what the
# host took, the watcher's looks aside.
reaper_times() {
    sd_exec journalctl --no-pager -o short-unix -t lockbox-reaper | awk '
        $4 == "session" && $7 ~ /^support-e[0-9]+:$/ && / until [0-9]+,/ {
            for (i = 8; i < NF; i++) if ($i == "until") { e = $(i + 1); sub(",", "", e); due[$5] = e } }
        $4 == "session" && /: expired, ending it$/ { began[$5] = $1 }
        $4 == "session" && / ended: expired$/ { ended[$5] = $1 }
        END { for (s in began) if (s in due && s in ended)
            printf "%d %d\n", (began[s] - due[s]) * 1000, (ended[s] - due[s]) * 1000 }' \
        >"$SD_RUN/reaper.times"
    # Where the end's time went, per step (the reapers' "end took" lines), medians and maxima.
    sd_exec journalctl --no-pager -o cat -t lockbox-reaper | awk '
        / end took [0-9]+ ms: / { sub(/.* end took /, ""); gsub(/[:,]|ms/, ""); print $1, $3, $6, $9, $11, $13 }' \
        >"$SD_RUN/reaper.steps"
    for _f in 1:total 2:notice 3:sweep 4:kill 5:cgroup 6:report; do
        _steps="${_steps:-}${_f#*:} $(cut -d' ' -f"${_f%%:*}" "$SD_RUN/reaper.steps" | stats); "
    done
    diag "the reapers' ends, step by step: $_steps"
    diag "the reapers began the end $(cut -d' ' -f1 "$SD_RUN/reaper.times" | stats) after exp" \
        "and finished it (reported, record removed) $(cut -d' ' -f2 "$SD_RUN/reaper.times" | stats) after"
}

# -- cron and at: planted in a grant whose end falls 30 s after the next minute, so cron's
# next run comes while it lasts and the one after it does not; an at job for now (runs in the
# grant) and one for the minute after the end (refused).
sd_sh 'printf "* * * * * date +\\%%s >>\$HOME/cron.log; sleep 1011\n" >/opt/lane/crontab'
now=$(date +%s)
b1=$(((now / 60 + 1) * 60))
[ $((b1 - now)) -ge 15 ] || b1=$((b1 + 60))
sd_grant $A "$((b1 + 30 - now))s" || sd_bail "grant for the cron and at jobs"
cron_exp=$SD_GRANT_EXP
# The session ends once the at job runs: a logout that finds no other session of the uid holding
# a grant also drops the tokens of logins between their account and session phases, and the
# at job's would be one (lib/session_end.c, sweep_uid: the pending handoffs swept at a logout).
out=$(sd_ssh $A 'crontab /opt/lane/crontab &&
    echo "touch \$HOME/at-ran; sleep 1012" | at now 2>/dev/null &&
    echo "touch \$HOME/at-late" | at -t "$(date -d @'$((b1 + 60))' +%Y%m%d%H%M)" 2>/dev/null &&
    i=0; until pgrep -u "$USER" -x sleep >/dev/null || [ $i -ge 150 ]; do sleep 0.1; i=$((i + 1)); done
    echo planted' 2>&1 </dev/null)
check "cron and at: jobs planted by the support user" sh -c "echo '$out' | grep -qx planted"
# Watched in the background while the sessions below come and go (other accounts): which of
# the jobs run in the second half of the grant (cron's run began at its half; a look at the
# process table can take seconds on a loaded machine), and the end itself.
(while [ "$(date +%s)" -lt $((cron_exp - 15)) ]; do sleep 0.2; done
    sd_markers_running $A >"$SD_RUN/cron.before" 2>&1
    echo "looked at $(sd_now_ms) ms" >>"$SD_RUN/cron.before") &
cron_watch=$!
sd_exec /opt/lane/gone -e $SD_END_LEAD_MS 10 "$(uid $A):$((cron_exp * 1000))" >"$SD_RUN/cron.gone" 2>&1 &
cron_gone=$!
# At exit only while they run: once waited for, their pids may belong to anyone.
stop_cron_watchers() { [ -z "$cron_watch$cron_gone" ] || kill $cron_watch $cron_gone 2>/dev/null; }
tap_cleanup stop_cron_watchers

# lag_round ROUND: one session per account at once, each with every escape; EXP_USERS' end at
# their grant's exp (GRANT seconds), REV_USERS' are revoked once every escape runs. Appends the
# lags to $SD_RUN/lag.expiry and lag.revocation; the accounts whose sessions did not start,
# whose escapes did not all run, or that kept a process, to bad.expiry and bad.revocation.
lag_round() {
    rm -f "$SD_RUN"/share/at.* "$SD_RUN"/req.* "$SD_RUN"/done.*
    _watch=""
    for _u in $SD_LOGINS; do _watch="$_watch $(uid $_u):/opt/lane/share/at.$(uid $_u)"; done
    # shellcheck disable=SC2086
    sd_exec /opt/lane/gone -e $SD_END_LEAD_MS 10 $_watch >"$SD_RUN/gone.out" 2>&1 &
    _gone=$!
    # The requests first: a grant's clock starts at its approval, and from there only the login
    # stands between it and the session.
    _reqs=""
    for _u in $SD_LOGINS; do
        _dur=1h
        case " $EXP_USERS " in *" $_u "*) _dur=${GRANT}s ;; esac
        (sd_request "$_u" "$_dur" && echo "$SD_REQ" >"$SD_RUN/req.$_u") &
        _reqs="$_reqs $!"
    done
    wait $_reqs
    _approvals=""
    for _u in $SD_LOGINS; do
        [ -s "$SD_RUN/req.$_u" ] || continue
        (SD_REQ=$(cat "$SD_RUN/req.$_u") && sd_approve || exit 1
            SD_SSH_TIMEOUT=600 sd_ssh "$_u" '/opt/lane/escape.sh; sleep 1000' >"$SD_RUN/s.$_u" 2>&1 \
                </dev/null &
            case " $EXP_USERS " in
                *" $_u "*) _at=$SD_RUN/share/at.$(uid $_u)
                    _exp=$(sd_grant_exp "$SD_REQ") && echo $((_exp * 1000)) >"$_at.tmp" &&
                        mv "$_at.tmp" "$_at" ;;
            esac) &
        _approvals="$_approvals $!"
    done
    # Every escape of every session running (one look at all accounts each time), until the
    # first exp is two seconds away.
    _end=$(($(date +%s) + GRANT - 2))
    _t0=$(sd_now_ms)
    while :; do
        sd_markers_all >"$SD_RUN/markers"
        _missing=""
        for _u in $SD_LOGINS; do
            [ -e "$SD_RUN/done.$_u" ] && continue
            # shellcheck disable=SC2086
            if [ "$(awk -v u="$_u" '$1 == u { print $2 }' "$SD_RUN/markers" | tr '\n' ' ')" = \
                "$(echo 1000 $SD_ESCAPES) " ]; then touch "$SD_RUN/done.$_u"; else _missing="$_missing $_u"; fi
        done
        [ -n "$_missing" ] && [ "$(date +%s)" -lt $_end ] || break
        sleep 0.5
    done
    [ "$1" -eq 1 ] && diag "round 1: every escape of every session running $(($(sd_now_ms) - _t0)) ms after the logins began"
    for _u in $_missing; do
        case " $EXP_USERS " in *" $_u "*) _kind=expiry ;; *) _kind=revocation ;; esac
        echo "$_u (escapes: $(awk -v u="$_u" '$1 == u { print $2 }' "$SD_RUN/markers" | tr '\n' ' '))" \
            >>"$SD_RUN/bad.$_kind"
        sed 's/^/# session: /' "$SD_RUN/s.$_u"
    done
    for _u in $REV_USERS; do
        _at=$SD_RUN/share/at.$(uid $_u)
        [ -s "$SD_RUN/req.$_u" ] || continue
        sd_now_ms >"$_at.tmp" && mv "$_at.tmp" "$_at"
        SD_REQ=$(cat "$SD_RUN/req.$_u") sd_revoke
    done
    wait $_approvals
    for _u in $SD_LOGINS; do
        _at=$SD_RUN/share/at.$(uid $_u)
        [ -s "$_at" ] || echo none >"$_at" # no grant: nothing to watch
    done
    wait $_gone
    for _u in $SD_LOGINS; do
        case " $EXP_USERS " in *" $_u "*) _kind=expiry ;; *) _kind=revocation ;; esac
        _lag=$(awk -v u="$(uid $_u)" '$1 == u { print $2 }' "$SD_RUN/gone.out")
        case "$_lag" in
            '' | never | early | none)
                echo "$_u (${_lag:-not watched})" >>"$SD_RUN/bad.$_kind"
                sd_procs "$_u" | head -5 | sed "s/^/# left of $_u: /"
                ;;
            *) echo "$_lag" >>"$SD_RUN/lag.$_kind"
                awk -v u="$(uid $_u)" '$1 == u { print $3 }' "$SD_RUN/gone.out" \
                    >>"$SD_RUN/stopped.$_kind" ;;
        esac
    done
}

for kind in expiry revocation; do
    : >"$SD_RUN/lag.$kind"
    : >"$SD_RUN/stopped.$kind"
    : >"$SD_RUN/bad.$kind"
done
r=0
while [ $r -lt $ROUNDS ]; do
    r=$((r + 1))
    lag_round $r
done
last_end=$(date +%s)
for kind in expiry revocation; do
    check "$kind: $sessions sessions, every escape running in each before the end, every process gone (bad: $(tr '\n' ' ' <"$SD_RUN/bad.$kind"))" \
        test ! -s "$SD_RUN/bad.$kind" -a "$(grep -c . "$SD_RUN/lag.$kind")" -eq $sessions
done
max=$(sort -n "$SD_RUN/lag.expiry" | tail -1)
check "expiry: every process of the account gone within 1 s of exp ($(stats <"$SD_RUN/lag.expiry"))" \
    test "${max:-9999}" -le 1000
diag "teardown lag at expiry on the systemd host: $(stats <"$SD_RUN/lag.expiry");" \
    "nothing of the account able to run an instruction of its own (gone, zombie, exiting or" \
    "SIGKILL pending) after $(stats <"$SD_RUN/stopped.expiry")"
reaper_times
# long_poll (25 s by default): the broker answers the reaper's ask the moment the grant is
# revoked; without it the reaper asks every poll_interval (5 s), the bound checked here.
max=$(sort -n "$SD_RUN/lag.revocation" | tail -1)
check "revocation: every process gone within poll_interval (5 s) + 2 s ($(stats <"$SD_RUN/lag.revocation"))" \
    test "${max:-99999}" -le 7000
diag "teardown lag after revocation on the systemd host (long_poll): $(stats <"$SD_RUN/lag.revocation")"
while [ "$(date +%s)" -lt $((last_end + 10)) ]; do sleep 0.5; done
still=""
for u in $SD_LOGINS; do gone_now "$u" || still="$still $u"; done
check "expiry and revocation: still nothing of the accounts ten seconds later (${still:-none})" test -z "$still"
for u in $still; do
    sd_procs "$u" | head -10 | sed "s/^/# back for $u: /"
    journal_of "$u\|user@$(uid "$u")" 60
done

# -- the ends reported, the records gone, the system healthy
ended=$(sd_audit session_ended | grep -c '"support-[er][0-9]"')
check "every end reported: $ended of $((sessions * 2)) sessions ended in the audit chain" \
    test "$ended" -ge $((sessions * 2))
state=$(sd_exec systemctl is-system-running)
check "the system is not degraded after $((sessions * 2)) support sessions ($state)" test "$state" = running
sd_exec systemctl --failed --no-legend --plain | sed 's/^/# failed: /'

# -- cron and at, after the grant of their account ended
wait $cron_watch $cron_gone
cron_watch="" cron_gone=""
check "cron and at: their jobs were running in the grant's last 15 s ($(cat "$SD_RUN/cron.before" | tr '\n' ' ')exp $cron_exp s)" \
    sh -c "grep -q 1011 '$SD_RUN/cron.before' && grep -q 1012 '$SD_RUN/cron.before'"
lag=$(awk '{ print $2 }' "$SD_RUN/cron.gone")
check "cron and at: every process of $A gone within 1 s of exp (${lag:-no answer} ms)" \
    sh -c "[ '$lag' -le 1000 ] 2>/dev/null"
while [ "$(date +%s)" -lt $((cron_exp + 10)) ]; do sleep 0.5; done
check "cron and at: still nothing of $A ten seconds later" gone_now $A
while [ "$(date +%s)" -lt $((b1 + 66)) ]; do sleep 0.5; done
check "cron: ran while the grant lasted ($(sd_exec cat /home/$A/cron.log | tr '\n' ' '); exp $cron_exp)" \
    sd_sh "[ \$(head -1 /home/$A/cron.log) -lt $cron_exp ]"
check "cron: no run after the grant" sd_sh "awk '\$1 >= $cron_exp { late = 1 } END { exit late }' /home/$A/cron.log"
check "at: the job for now ran in the grant" sd_exec test -e /home/$A/at-ran
check "at: the job for after the grant did not run" sd_exec test ! -e /home/$A/at-late
check "cron and at: refused by pam_lockbox after the grant (journal)" \
    sd_sh "journalctl --no-pager -o cat | grep -q 'pam_lockbox(\\(cron\\|atd\\):account).*$A'"
check "cron and at: nothing of $A running" gone_now $A
check "no session record left in /run/lockbox" sd_sh 'test -z "$(ls /run/lockbox/sessions)"'
sd_exec ls /run/lockbox/sessions | sed 's/^/# record: /'
[ "$TAP_FAILED" -eq 0 ] || journal_of "$A\|$(uid $A)" 400
sd_finish
