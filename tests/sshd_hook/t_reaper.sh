#!/bin/sh
# lockbox-reaper against real processes in real cgroups. The PAM driver plays sshd's monitor
# (pam_open_session puts it in the session cgroup and starts the reaper); processes of the
# support account then try every way out. Grants come from the real lockboxd
# (tests/support/grants.sh), which also goes away and comes back mid-session.
. tests/support/tap.sh
. tests/support/hostgate_env.sh
. tests/support/grants.sh
DRIVER=$BUILD_ABS/tests/pam_lockbox/pam_driver

hg_setup || { fail "setup"; tap_done; exit 1; }
S=lbxe2e${HG_ID}s
grants_start "$S" || { fail "broker"; tap_done; exit 1; }
hg_user "$S" support
U=$(id -u "$S")
mkdir -p "$HG/pam"
printf 'account required pam_permit.so\naccount required %s config=%s\nsession required pam_permit.so\nsession required %s config=%s\n' \
    "$BUILD_ABS/pam_lockbox.so" "$HG/host.conf" "$BUILD_ABS/pam_lockbox.so" "$HG/host.conf" >"$HG/pam/lbx"
now_ms() { echo $(($(date +%s%N) / 1000000)); }
field() { $PYTHON -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }

# start_session TTL TAG: the "monitor" (driver) in its session, which it closes (pam_close_session)
# after SESSION_MS (default 30 s); TTL "-": under the current grant; sets SID, CG, RPID, MON, EXP
start_session() {
    [ "$1" = - ] || grant_approve "$S" "$1" || return 1
    "$DRIVER" "$HG/pam" lbx "$S" account open "sleep:${SESSION_MS:-30000}" close >"$HG/driver.$2" 2>&1 &
    MON=$!
    # this monitor's record, not one a previous session is still leaving behind
    hg_wait "grep -l '\"monitor_pid\":$MON,' '$HG/run/sessions/'*.json >/dev/null 2>&1" 5 || return 1
    rec=$(grep -l "\"monitor_pid\":$MON," "$HG/run/sessions/"*.json 2>/dev/null | head -1)
    SID=$(basename "$rec" .json)
    CG="$(field "$rec" cgroup_mount)$(field "$rec" cgroup_path)"
    RPID=$(field "$rec" reaper_pid)
    EXP=$(field "$rec" exp)
    hg_wait "grep -q '0::.*$SID\|freezer.*$SID' /proc/$MON/cgroup" 3
}

# escapees: as the support user, inside the session cgroup, every way of leaving we know;
# plus one process outside the cgroup (what systemd-run --user or lingering would leave).
escapees() {
    sh -c "echo \$\$ >'$CG/cgroup.procs' || exit 1; exec setpriv --reuid=$U --regid=$U --init-groups sh -c '
        nohup sleep 1000 >/dev/null 2>&1 &
        setsid sleep 1000 &
        (sleep 1000 &) &
        sh -c \"trap \\\"\\\" HUP TERM; while :; do sleep 1; done\" &
        sleep 1000 & disown 2>/dev/null
        exec sleep 1000'" &
    setpriv --reuid="$U" --regid="$U" --init-groups sleep 1000 &
    hg_wait "[ \$(hg_uid_procs $U | wc -l) -ge 7 ]" 3
}

end_monitor() { kill "$MON" 2>/dev/null; wait "$MON" 2>/dev/null; }

for mode in v2 freezer; do
    hg_config cgroup_mode=$mode poll_interval=1s
    start_session 8s "$mode" || { fail "$mode: session did not start"; continue; }
    check "$mode: session cgroup exists" test -d "$CG"
    check "$mode: sshd's monitor inside it, the reaper outside" sh -c "grep -q '$SID' /proc/$MON/cgroup && ! grep -q '$SID' /proc/$RPID/cgroup"
    escapees
    check "$mode: escapees running ($(hg_uid_procs "$U" | wc -l) processes)" test "$(hg_uid_procs "$U" | wc -l)" -ge 7
    hg_wait "hg_no_procs $U" $((EXP - $(date +%s) + 3))
    left_at=$(now_ms)
    check "$mode: no process of the uid 1 s after exp (last gone $((left_at - EXP * 1000)) ms after)" \
        test $((left_at - EXP * 1000)) -le 1000
    check "$mode: nothing killed before the end's lead ($HG_END_LEAD_MS ms before exp)" \
        test $((left_at - EXP * 1000)) -ge -"$HG_END_LEAD_MS"
    check "$mode: sshd's monitor survived (moved out first)" test -z "$(hg_gone "$MON" && echo gone)"
    check "$mode: session cgroup removed" hg_wait "test ! -d '$CG'" 2
    check "$mode: end reported as expired" hg_wait "grant_reported $SID expired" 3
    end_monitor
    check "$mode: record removed after the monitor's close" hg_wait "test ! -e '$HG/run/sessions/$SID.json'" 6
    check "$mode: reaper gone" hg_wait "hg_gone $RPID" 6
done

# -- the clock is set mid-session. The kernel cancels TFD_TIMER_CANCEL_ON_SET timers on any
# clock_settime, even one that sets the clock to its own reading (a jump of microseconds, which
# disturbs nothing else): the reaper must re-arm, neither ending the session early nor late.
hg_config poll_interval=60s
if start_session 8s clockset; then
    escapees
    if date -s "@$(date +%s.%N)" >/dev/null 2>&1; then
        sleep 0.5
        check "clock set: session still running after the clock was set" \
            test "$(hg_uid_procs "$U" | wc -l)" -ge 7
        check "clock set: reaper still guarding it" kill -0 "$RPID"
        hg_wait "hg_no_procs $U" $((EXP - $(date +%s) + 3))
        left_at=$(now_ms)
        check "clock set: nothing killed before the end's lead" \
            test $((left_at - EXP * 1000)) -ge -"$HG_END_LEAD_MS"
        check "clock set: gone within 1 s of exp ($((left_at - EXP * 1000)) ms)" \
            test $((left_at - EXP * 1000)) -le 1000
    else
        fail "clock set: date -s refused (needs CAP_SYS_TIME)"
    fi
    end_monitor
else
    fail "clock set: session did not start"
fi

# -- revocation: gone within poll interval (1 s) + 1 s
hg_config poll_interval=1s
start_session 1h rev
escapees
t0=$(now_ms)
grant_revoke "$S"
hg_wait "hg_no_procs $U" 5
check "revoked: no process of the uid after poll interval + 1 s ($(($(now_ms) - t0)) ms)" test $(($(now_ms) - t0)) -le 2000
check "revoked: end reported as revoked" hg_wait "grant_reported $SID revoked" 3
end_monitor

# ends_reported SID: how many end reports the broker holds for session SID (any reason)
ends_reported() {
    benv_api admin GET "/v1/audit?action=session_ended" | $PYTHON -c 'import json,sys
print(sum(1 for l in sys.stdin if json.loads(json.loads(l)["body"])["detail"]["session"] == sys.argv[1]))' "$1"
}

# -- a normal logout (sshd's pam_close_session) ends the session as an expiry does: what it left
# in its cgroup and, no other session of the uid holding a grant, what runs as the uid outside it
hg_config poll_interval=1s
SESSION_MS=2500; start_session 1h logout
escapees
LOGOUT_RPID=$RPID
wait "$MON"
t0=$(now_ms)
hg_wait "hg_no_procs $U" 3
check "logout: every process of the uid gone, outside the cgroup too ($(($(now_ms) - t0)) ms)" hg_no_procs "$U"
check "logout: end reported as exited" hg_wait "grant_reported $SID exited" 5
check "logout: reported once" test "$(ends_reported "$SID")" = 1
check "logout: record, marks and cgroup removed" hg_wait "! ls '$HG/run/sessions/' | grep -q '$SID' && test ! -d '$CG'" 3
check "logout: the reaper left" hg_wait "hg_gone $LOGOUT_RPID" 3

# -- one of two sessions of the uid logs out: the other still holds a grant, so nothing of the
# uid outside the first session's cgroup is touched; the second one's end sweeps it
SESSION_MS=2500; start_session 1h first
FIRST_SID=$SID FIRST_MON=$MON FIRST_CG=$CG
SESSION_MS=30000; start_session - second
escapees
wait "$FIRST_MON"
sleep 1
check "first of two logs out: the other session and the uid's processes live on" \
    test "$(hg_uid_procs "$U" | wc -l)" -ge 7
check "first of two logs out: its own end reported" hg_wait "grant_reported $FIRST_SID exited" 5
kill -0 "$RPID" && end_monitor
check "second ends (sshd gone): every process of the uid gone" hg_wait "hg_no_procs $U" 3

# -- logout and expiry at the same moment: exactly one of them ends it, one end report
grant_approve "$S" 10s
SESSION_MS=$((GRANT_EXP * 1000 - $(now_ms) - 200)); start_session - race
escapees
wait "$MON"
check "logout racing expiry: every process of the uid gone" hg_wait "hg_no_procs $U" 3
check "logout racing expiry: one end report" hg_wait "[ \"\$(ends_reported $SID)\" = 1 ]" 5
sleep 1
check "logout racing expiry: still one" test "$(ends_reported "$SID")" = 1
SESSION_MS=30000

# -- long-poll: the broker answers the moment the grant is revoked, whatever the poll interval
hg_config poll_interval=60s long_poll=30s
start_session 1h longpoll
escapees
sleep 1
# a login between its account and session phases (its "monitor" is alive: this shell)
inflight="$HG/run/pending/$U-$$-$(cut -d' ' -f22 /proc/$$/stat).json"
echo '{"token":"x"}' >"$inflight"
t0=$(now_ms)
grant_revoke "$S"
hg_wait "hg_no_procs $U" 5
check "long-poll: revoked session gone within 1.5 s although poll_interval is 60 s ($(($(now_ms) - t0)) ms)" test $(($(now_ms) - t0)) -le 1500
check "no grant left: an in-flight login's hand-off token is removed" test ! -e "$inflight"
end_monitor

# -- broker away mid-session: the session lives to exp, never longer; the end is spooled
hg_config poll_interval=1s timeout=1s
start_session 8s away
escapees
AWAY_SID=$SID
grants_stop
sleep 1.5
check "broker away: session still running before exp" test "$(hg_uid_procs "$U" | wc -l)" -ge 7
hg_wait "hg_no_procs $U" $((EXP - $(date +%s) + 3))
check "broker away: gone within 1 s of exp" test $(($(now_ms) - EXP * 1000)) -le 1000
check "broker away: end report spooled" hg_wait "ls '$HG/spool' | grep -q end" 5
end_monitor
grants_resume
start_session 1h back
check "broker back: spooled end delivered by the next reaper" hg_wait "grant_reported $AWAY_SID expired && [ -z \"\$(ls '$HG/spool')\" ]" 15

# -- an administrator stopping the reaper ends the session (fail closed)
escapees
kill -TERM "$RPID"
check "reaper stopped: session torn down" hg_wait "hg_no_procs $U" 3
check "reaper stopped: end reported as error" hg_wait "grant_reported $SID error" 4
end_monitor

# -- sshd's monitor dying with processes left behind: torn down
start_session 1h crash
escapees
kill -KILL "$MON"
check "monitor killed: the processes it left are torn down" hg_wait "hg_no_procs $U" 4

# -- a reaper that never reaches the broker (its own empty network namespace: no start report,
# no poll ever answered): armed all the same, it ends the session at exp and spools the reports.
cat >"$HG/reaper-nonet" <<EOF
#!/bin/sh
exec unshare -n "$BUILD_ABS/lockbox-reaper" "\$@"
EOF
chmod 0755 "$HG/reaper-nonet"
rm -f "$HG/spool/"*
hg_config poll_interval=1s timeout=1s reaper_path="$HG/reaper-nonet"
if start_session 8s nonet; then
    escapees
    check "no network: reaper armed, no libcurl in it" sh -c "! grep -q libcurl /proc/$RPID/maps"
    hg_wait "hg_no_procs $U" $((EXP - $(date +%s) + 3))
    check "no network: session gone within 1 s of exp" test $(($(now_ms) - EXP * 1000)) -le 1000
    check "no network: start and end reports spooled" hg_wait "ls '$HG/spool' | grep -q start && ls '$HG/spool' | grep -q end" 5
    end_monitor
else
    fail "no network: session did not start: $(cat "$HG/driver.nonet")"
fi

# -- a record whose token does not verify: the reaper refuses to start
hg_config
rec="$HG/run/sessions/s-forged.json"
$PYTHON - "$rec" "$S" "$U" <<'EOF'
import json, sys, time
json.dump({"sid": "s-forged", "user": sys.argv[2], "uid": int(sys.argv[3]), "token": "a.b.c",
           "grant_id": "G-x", "exp": int(time.time()) + 60, "created": 0, "cgroup_kind": "v2",
           "cgroup_mount": "/sys/fs/cgroup/unified", "cgroup_path": "/nonexistent",
           "monitor_cgroup": "/", "monitor_pid": 1, "monitor_start": 0, "reaper_pid": 0,
           "reaper_start": 0, "ended_at": 0}, open(sys.argv[1], "w"))
EOF
chmod 0600 "$rec"
LOCKBOX_REAPER_STDERR=1 timeout 5 "$BUILD_ABS/lockbox-reaper" --session s-forged -- "config=$HG/host.conf" >"$HG/forged.out" 2>&1
check "forged record: reaper exits with an error" test $? -eq 1
check "forged record: says why" grep -q "malformed token" "$HG/forged.out"
# -- the module's go never comes (its socket closes first, or a wrong byte): nothing is read,
# nothing guarded, the reaper leaves at once; a good go on the same record reads it
for go in closed wrong; do
    t0=$(now_ms)
    if [ $go = closed ]; then
        LOCKBOX_REAPER_STDERR=1 timeout 5 "$BUILD_ABS/lockbox-reaper" --session s-forged --go-fd 4 -- "config=$HG/host.conf" 4</dev/null >"$HG/go.out" 2>&1
    else
        printf x | LOCKBOX_REAPER_STDERR=1 timeout 5 "$BUILD_ABS/lockbox-reaper" --session s-forged --go-fd 0 -- "config=$HG/host.conf" >"$HG/go.out" 2>&1
    fi
    rc=$?
    check "go $go: exits 1 at once ($(($(now_ms) - t0)) ms), the record not even read" \
        sh -c "[ $rc -eq 1 ] && [ $(($(now_ms) - t0)) -lt 1000 ] && grep -q 'gave no go' '$HG/go.out' && ! grep -q 'malformed token' '$HG/go.out'"
done
printf g | LOCKBOX_REAPER_STDERR=1 timeout 5 "$BUILD_ABS/lockbox-reaper" --session s-forged --go-fd 0 -- "config=$HG/host.conf" >"$HG/go.out" 2>&1
check "go given: the record is read and checked (forged: refused)" grep -q "malformed token" "$HG/go.out"
# -- sshd does not wait for the reaper to arm itself, so a reaper that cannot arm for a session
# of its own (the record names its pid and start time: the module wrote it) ends that session
# instead of leaving it unguarded. Here the token in the record does not verify.
cg=/sys/fs/cgroup/unified/lockbox-test-$HG_ID/s-armfail
mkdir -p "$cg"
sh -c "echo \$\$ >'$cg/cgroup.procs'; exec setpriv --reuid=$U --regid=$U --init-groups sleep 1000" &
victim=$!
hg_wait "grep -qx $victim '$cg/cgroup.procs'" 3
$PYTHON - "$BUILD_ABS/lockbox-reaper" "$HG" "$S" "$U" "$cg" >"$HG/armfail.out" 2>&1 <<'EOF2'
import json, os, socket, subprocess, sys, time
reaper, hg, user, uid, cg = sys.argv[1:]
mine, theirs = socket.socketpair()
p = subprocess.Popen([reaper, "--session", "s-armfail", "--go-fd", "3", "--", "config=%s/host.conf" % hg],
                     close_fds=False, env={"LOCKBOX_REAPER_STDERR": "1"},
                     preexec_fn=lambda: os.dup2(theirs.fileno(), 3))
theirs.close()
start = int(open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()[19])
rec = {"sid": "s-armfail", "user": user, "uid": int(uid), "token": "a.b.c", "grant_id": "G-x",
       "exp": int(time.time()) + 60, "created": 0, "cgroup_kind": "v2",
       "cgroup_mount": "/sys/fs/cgroup/unified", "cgroup_path": cg[len("/sys/fs/cgroup/unified"):],
       "monitor_cgroup": "/", "monitor_pid": 1, "monitor_start": 0, "reaper_pid": p.pid,
       "reaper_start": start, "ended_at": 0}
path = "%s/run/sessions/s-armfail.json" % hg
with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
    json.dump(rec, f)
mine.send(b"g")
print("exit", p.wait(timeout=20))
EOF2
check "cannot arm its own session: exits with an error, says why" sh -c "grep -q '^exit 1' '$HG/armfail.out' && grep -q 'malformed token' '$HG/armfail.out'"
check "cannot arm its own session: the session's processes are killed" hg_wait "hg_gone $victim" 3
check "cannot arm its own session: cgroup and record removed, never marked armed" \
    sh -c "[ ! -d '$cg' ] && [ ! -e '$HG/run/sessions/s-armfail.json' ] && [ ! -e '$HG/run/sessions/s-armfail.armed' ]"
check "cannot arm its own session: the end reported as an error" grep -q "s-armfail ended: error" "$HG/armfail.out"
wait $victim 2>/dev/null
check_fails "reaper: bad arguments are a usage error" sh -c "\"$BUILD_ABS/lockbox-reaper\" --session ../x 2>/dev/null"
tap_done
