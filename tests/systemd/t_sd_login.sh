#!/bin/sh
# The systemd lane, logins: a Debian 12 host booted with systemd (logind, user managers, dbus,
# polkit), lockbox installed from its .deb packages and set up as docs/install.md says
# (tests/systemd/lane.sh). A support login is refused without a grant and works with one; it
# leaves the host's systemd healthy (no failed user manager, not "degraded") and is audited as
# exactly one session start; a normal logout ends every process of the support user, however
# it left the session (tests/systemd/escape.sh), reports the end and removes the record.
# Also measured: a support login against the same host's login of an ordinary account.
. tests/support/tap.sh
. tests/systemd/lane.sh
sd_setup
U=support-alice
uid=$(sd_uid $U)

# -- refused without a grant, the reason on the engineer's screen
out=$(sd_ssh $U 'echo in' 2>&1 </dev/null)
check "no grant: refused" sh -c "echo '$out' | grep -q 'auth: denied' && ! echo '$out' | grep -qx in"
check "no grant: the banner says why" sh -c "echo '$out' | grep -q '^banner: lockbox: no approved grant for $U on $SD_HOST'"
sd_ctl "eng-$U" request create --host "$SD_HOST" --ticket T-1 --reason lane --duration 1h \
    >"$SD_RUN/req" 2>&1
req=$(awk 'NR == 1 { print $1 }' "$SD_RUN/req")
out=$(sd_ssh $U 'echo in' 2>&1 </dev/null)
check "pending: refused, the banner names the request awaiting approval" \
    sh -c "echo '$out' | grep -q '^banner: lockbox: .*$req awaits approval'"

# -- granted: the command runs, in logind's session scope
starts_before=$(sd_audit session_started | grep -c .)
sd_ctl appr approve "$req" >/dev/null
SD_REQ=$req
out=$(sd_ssh $U 'echo in; cat /proc/self/cgroup' 2>&1 </dev/null)
check "granted: the command runs" sh -c "echo '$out' | grep -qx in"
check "granted: in logind's session scope" sh -c "echo '$out' | grep -q '^0::/user.slice/user-$uid.slice/session-[0-9]*.scope$'"
# (e) exactly one session start per login: the sshd session, not the user manager's too
check "one login, exactly one session_started audited ($((
    $(sd_audit session_started | grep -c .) - starts_before)))" \
    test "$(($(sd_audit session_started | grep -c .) - starts_before))" -eq 1
# (d) the host's systemd is healthy after a support login
sleep 1
state=$(sd_exec systemctl is-system-running)
check "after a support login: the system is not degraded ($state)" test "$state" = running
ustate=$(sd_exec systemctl is-failed "user@$uid.service")
check "after a support login: user@$uid.service has not failed ($ustate)" test "$ustate" != failed
sd_exec systemctl --failed --no-legend --plain | sed 's/^/# failed: /'

# -- (a) a normal logout ends every process of the support user, however it escaped
sessions_before=$(sd_audit session_ended | grep -c .)
out=$(sd_ssh $U '/opt/lane/escape.sh; loginctl --no-ask-password enable-linger 2>&1;
    echo linger=$?; systemctl --user is-system-running 2>&1' 2>&1 </dev/null)
check "logout: the escapes were planted" sh -c "echo '$out' | grep -qx escaped"
check "logout: the user manager answers in the session" sh -c "echo '$out' | grep -qx 'running\|degraded'"
if echo "$out" | grep -qx 'linger=0'; then
    diag "loginctl enable-linger: allowed to the support user here"
else
    ok "loginctl enable-linger: polkit refuses it to a support user over ssh"
fi
t0=$(sd_now_ms)
gone=$(sd_wait_gone $U 5)
check "logout: no process of $U left ($(sd_procs $U | wc -l) left after $(( ${gone:-$(sd_now_ms)} - t0)) ms)" test -n "$gone"
sd_procs $U | sed 's/^/# left: /' | head -15
check "logout: the end is in the broker's audit chain" \
    test "$(sd_audit session_ended | grep -c .)" -gt "$sessions_before"
check "logout: no session record left in /run/lockbox" \
    sd_sh "test -z \"\$(ls /run/lockbox/sessions)\""
sd_exec ls /run/lockbox/sessions | sed 's/^/# record: /'
state=$(sd_exec systemctl is-system-running)
check "after the logout: the system is not degraded ($state)" test "$state" = running
sd_exec loginctl disable-linger $U 2>/dev/null

# -- a support login's time against an ordinary login on the same host (median of 15 each)
sd_user lane-plain
# login_ms USER [fresh]: median ms of 15 logins running `true` (empty when one fails), by the
# benchmark's own client, whose phases (kex, auth = the account phase, open = the session
# phase and sshd's fork, exec = the hook and the command) go to $SD_RUN/phases.USER[.fresh];
# "fresh" stops USER's user manager before each, as the end of a support session does (its
# sweep), so that every login starts one.
BENCH_LOGIN=$BUILD_ABS/tests/bench/bench_login
login_ms() {
    _ph=$SD_RUN/phases.$1${2:+.$2}
    : >"$_ph"
    for _i in $(seq 15); do
        [ "${2:-}" = fresh ] && sd_exec systemctl stop "user@$(sd_uid "$1").service"
        if [ -x "$BENCH_LOGIN" ]; then
            timeout 20 "$BENCH_LOGIN" -p "$SD_SSH_PORT" -i "$SD_RUN/id_user" -n 1 -t "$_ph" "$1" \
                >"$SD_RUN/bl.out" 2>&1 || return
            sed -n 's/.*"median_ms":\([0-9.]*\).*/\1/p' "$SD_RUN/bl.out" | cut -d. -f1
        else
            _t=$(sd_now_ms)
            SD_SSH_TIMEOUT=10 sd_ssh "$1" 'echo ran' 2>/dev/null </dev/null | grep -qx ran || return
            echo $(($(sd_now_ms) - _t))
        fi
    done >"$SD_RUN/login.$1"
    sort -n "$SD_RUN/login.$1" | sed -n 8p
}
# phases FILE: "kex K, auth A, open O, exec E" (medians, ms)
phases() {
    [ -s "$1" ] || { echo "no breakdown (tests/bench/bench_login not built)"; return; }
    for _c in 1:kex 2:auth 3:open 4:exec; do
        printf '%s %s' "${_c#*:}" "$(cut -d' ' -f"${_c%%:*}" "$1" | sort -n | sed -n 8p)"
        [ "${_c#*:}" = exec ] || printf ', '
    done
}
plain=$(login_ms lane-plain)
fresh=$(login_ms lane-plain fresh)
support=$(login_ms $U)
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2 }'; }
diag "login time on the systemd host, median of 15: support $support ms, ordinary $plain ms" \
    "($(ratio "$support" "$plain")x), ordinary with a user manager to start $fresh ms" \
    "($(ratio "$support" "$fresh")x)"
diag "where it goes (medians, ms): support: $(phases "$SD_RUN/phases.$U");" \
    "ordinary: $(phases "$SD_RUN/phases.lane-plain");" \
    "ordinary with a user manager to start: $(phases "$SD_RUN/phases.lane-plain.fresh")"
check "the support logins ran" test -n "$support" -a -n "$plain" -a -n "$fresh"
check "audit chain verifies" sh -c "$(command -v nsenter) -t $SD_PID1 -a lockboxctl --config /root/lane/admin.conf audit verify >/dev/null"
sd_finish
