#!/bin/sh
# Support sessions end to end: a real sshd with the hardened Match block, real accounts, the
# libssh client and OpenSSH's own ssh/sftp, pam_lockbox.so, lockbox-session and the reaper.
# Grants come from the broker through tests/support/grants.sh (the real lockboxd when it is
# built in this tree, otherwise the fake broker, said in a diag line).
. tests/support/tap.sh
. tests/support/hostgate_env.sh
. tests/support/grants.sh

hg_setup || { fail "setup"; tap_done; exit 1; }
S=lbxe2e${HG_ID}s
grants_start "$S" || { fail "broker"; tap_done; exit 1; }
hg_config poll_interval=1s
hg_user "$S" support
U=$(id -u "$S")
hg_sshd_start || { fail "sshd did not start"; tap_done; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
SSHO="-i $HG/id_user -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5"
home=$(getent passwd "$S" | cut -d: -f6)

# -- what every support login execs: the hook loads no OpenSSL, and nothing loads libcurl (its
# ~30 libraries cost ~5 ms per process; the broker client is libssl directly)
check "the hook links neither libcrypto nor libcurl" sh -c "! ldd '$BUILD_ABS/lockbox-session' | grep -q 'libcrypto\|libcurl'"
check "the reaper does not link libcurl" sh -c "! ldd '$BUILD_ABS/lockbox-reaper' | grep -q libcurl"
# libsystemd (and its chain of compression and crypto libraries) is opened only on a host booted
# with systemd, at the first bus call (lib/host/systemd_unit.c)
check "the reaper and the module do not link libsystemd" \
    sh -c "! ldd '$BUILD_ABS/lockbox-reaper' '$BUILD_ABS/pam_lockbox.so' | grep -q libsystemd"

# -- the request lifecycle as the engineer sees it at the door
grant_request "$S"
out=$(hg_ssh "$S" 'echo in' 2>&1 </dev/null)
check "pending: refused" sh -c "echo '$out' | grep -q 'auth: denied'"
check "pending: the banner names the request awaiting approval" sh -c "echo '$out' | grep -q '^banner: lockbox: no approved grant for $S on $HG_HOST .* awaits approval'"
grant_approve "$S" 1h
out=$(hg_ssh "$S" 'echo in; id -un' 2>&1 </dev/null)
check "approved: the command runs" sh -c "echo '$out' | grep -qx in && echo '$out' | grep -qx '$S'"
# -- the host resumes its TLS session with the broker: each login's three calls (token, the
# reaper's start report and watch, session close's end report) come from three new processes
check "resumption: the host keeps the broker's TLS session, root-only" \
    test "$(stat -c %U:%a "$HG/run/broker.tls-session" 2>/dev/null)" = root:600
if [ "$GRANTS" = real ]; then
    resumed() { grep -c 'resumed a host session' "$BENV_DIR/lockboxd.log"; }
    n0=$(resumed)
    out=$(hg_ssh "$S" 'echo again' 2>&1 </dev/null)
    check "resumption: a login's token call, start report and end report all resume it" \
        hg_wait "[ \$(resumed) -ge $((n0 + 3)) ]" 3
    check "resumption: ... and the login works" sh -c "echo '$out' | grep -qx again"
    printf 'lockbox-tls-session 1 %s\n-----BEGIN SSL SESSION PARAMETERS-----\nAAAA\n' "$(head -1 "$HG/run/broker.tls-session" | cut -d' ' -f3-)" >"$HG/run/broker.tls-session"
    out=$(hg_ssh "$S" 'echo still' 2>&1 </dev/null)
    check "resumption: a corrupt session file: the login works (a full handshake)" sh -c "echo '$out' | grep -qx still"
    check "resumption: ... and a good session is kept again" hg_wait \
        "grep -q 'BEGIN SSL SESSION PARAMETERS' '$HG/run/broker.tls-session' && [ \$(wc -l <'$HG/run/broker.tls-session') -gt 4 ]" 3
fi
check "approved: nothing of lockbox on a command's stdout" test "$(hg_ssh "$S" 'echo only' 2>/dev/null </dev/null)" = only

out=$(printf 'echo MARK-$((6*7))\nexit 5\n' | hg_ssh "$S" -t 2>&1)
rc=$?
check "pty: exit status of the shell comes back" test "$rc" -eq 5
check "pty: banner shows grant, ticket, approver, expiry, time left" sh -c "echo '$out' | grep -q 'under grant $GRANT_ID' && echo '$out' | grep -q 'ticket T-123, approved by' && echo '$out' | grep -q 'access ends .* UTC (.* left)'"
check "pty: the shell ran the typed commands" sh -c "echo '$out' | grep -q MARK-42"

# -- recording: where the user cannot reach it, and it replays the session's output
cast=$(ls -t "$HG/rec/"*.cast | head -1)
check "recording: asciicast written" test -s "$cast"
check "recording: mode 0640, group $HG_RECGROUP (the recording group reads it)" test "$(stat -c '%a %G' "$cast")" = "640 $HG_RECGROUP"
AUD=lbxe2e${HG_ID}aud
hg_user "$AUD" && usermod -aG "$HG_RECGROUP" "$AUD"
check "recording: a member of the recording group reads it" sh -c "setpriv --reuid=$(id -u "$AUD") --regid=$(id -g "$AUD") --init-groups cat '$cast' >/dev/null"
check "recording: replays the output" sh -c "$PYTHON -c 'import json,sys; l=open(sys.argv[1]).read().splitlines(); h=json.loads(l[0]); assert h[\"version\"]==2; print(\"\".join(e[2] for e in map(json.loads,l[1:]) if e[1]==\"o\"))' '$cast' 2>/dev/null | grep -q MARK-42"
check_fails "recording: the user cannot list the recordings" sh -c "setpriv --reuid=$U --regid=$U --init-groups ls $HG/rec 2>/dev/null"
check_fails "recording: the user cannot open its own recording" sh -c "setpriv --reuid=$U --regid=$U --init-groups cat $cast 2>/dev/null"
log=$(ls -t "$HG/rec/"*.json | head -1)
check "command log: mode 0640, group $HG_RECGROUP" test "$(stat -c '%a %G' "$log")" = "640 $HG_RECGROUP"
check "command log: command line and byte counts recorded" sh -c "grep -q '\"command\":\"echo only\"' '$log' && grep -q '\"stdout_bytes\":5' '$log'"
# -- a command without a terminal: the hook's recording group (setgid) reaches none of its ids,
# and SIGPIPE, which the hook ignores, is the command's again
ids=$(hg_ssh "$S" 'grep -E "^(Gid|Groups):" /proc/self/status' 2>/dev/null </dev/null | tr -s ' \t' ' ')
g=$(id -g "$S")
check "no pty: real, effective, saved and fs gid are the user's own" \
    sh -c "echo '$ids' | grep -qx 'Gid: $g $g $g $g'"
check "no pty: the recording group is not among its groups" \
    sh -c "! echo '$ids' | grep '^Groups:' | grep -qw '$(getent group "$HG_RECGROUP" | cut -d: -f3)'"
ign=$(hg_ssh "$S" 'grep "^SigIgn:" /proc/self/status' 2>/dev/null </dev/null | awk '{ print $2 }')
check "no pty: SIGPIPE is not ignored in the command (SigIgn ${ign:-none})" \
    sh -c "[ -n '$ign' ] && [ \$(( 0x$ign & 0x1000 )) -eq 0 ]"
out=$(hg_ssh "$S" 'exit 7' 2>&1 </dev/null)
check "no pty: the command's exit status comes back" test $? -eq 7

# -- sftp works and its bytes are untouched; tunnels do not
head -c 300000 /dev/urandom >"$HG/blob"
printf 'put %s up.bin\nget up.bin %s\n' "$HG/blob" "$HG/blob.back" >"$HG/sftp.batch"
sftp $SSHO -P "$HG_PORT" -b "$HG/sftp.batch" "$S@127.0.0.1" >"$HG/sftp.out" 2>&1
check "sftp: upload and download under a grant" cmp -s "$HG/blob" "$HG/blob.back"
check "sftp: recorded with byte counts" sh -c "grep -l 'sftp-server' '$HG/rec/'*.json | xargs grep -q '\"stdin_bytes\":[1-9][0-9]\{5\}'"
lport=$(free_port)
ssh $SSHO -p "$HG_PORT" -N -L "$lport:127.0.0.1:$HG_PORT" "$S@127.0.0.1" 2>/dev/null &
fwd=$!
sleep 1
banner=$($PYTHON -c "
import socket
try:
    s = socket.create_connection(('127.0.0.1', $lport), 2); s.settimeout(2); print(s.recv(64))
except Exception as e:
    print('no', e)")
kill "$fwd" 2>/dev/null
wait "$fwd" 2>/dev/null
check "ssh -N -L: nothing comes through the forward" sh -c "! echo '$banner' | grep -q SSH-2.0"
check "ssh -N -L: sshd refused the forwarding" grep -q "refused local port forward\|forwarding disabled\|open failed" "$HG/sshd.log"
hg_kill_uid "$U"

# -- file transfer can be refused by policy
hg_config poll_interval=1s allow_file_transfer=no
sftp $SSHO -P "$HG_PORT" -b "$HG/sftp.batch" "$S@127.0.0.1" >"$HG/sftp.out" 2>&1
check "allow_file_transfer = no: sftp refused" test $? -ne 0
out=$(hg_ssh "$S" 'echo shell-still-ok' 2>&1 </dev/null)
check "allow_file_transfer = no: commands still run" sh -c "echo '$out' | grep -qx shell-still-ok"

# -- a session whose PAM session phase failed is not usable, whatever the environment says
printf 'LOCKBOX_SESSION DEFAULT=s-forged\nLOCKBOX_GRANT DEFAULT=G-forged\nLOCKBOX_REAPER DEFAULT=1\n' >"$home/.pam_environment"
chown "$S:" "$home/.pam_environment"
# (a reaper that is not a program: posix_spawn fails, so the module's session open does)
printf 'not a program\n' >"$HG/not-a-program" && chmod 0755 "$HG/not-a-program"
hg_config poll_interval=1s reaper_path="$HG/not-a-program"
out=$(hg_ssh "$S" 'echo ran-anyway; nohup sleep 1000 >/dev/null 2>&1 &' 2>&1 </dev/null)
rc=$?
check "failed session open: the command does not run" sh -c "! echo '$out' | grep -q ran-anyway"
check "failed session open: non-zero exit ($rc)" test "$rc" -ne 0
check "failed session open: the engineer is told why" sh -c "echo '$out' | grep -q 'lockbox: session for $S refused'"
out=$(printf 'echo ran-anyway\n' | hg_ssh "$S" -t 2>&1)
check "failed session open: no shell on a pty either" sh -c "! echo '$out' | grep -q '^ran-anyway'"
check "failed session open: nothing of the user left running" hg_wait "hg_no_procs $U" 2
# -- sshd does not wait for the reaper to arm itself; lockbox-session does. A reaper that starts
# and dies without arming (here after 0.3 s): the command never runs, the engineer is told why,
# nothing is left, and the broker hears the session ended in error.
printf '#!/bin/sh\nsleep 0.3\nexit 1\n' >"$HG/late-false" && chmod 0755 "$HG/late-false"
hg_config poll_interval=1s reaper_path="$HG/late-false"
out=$(hg_ssh "$S" 'echo ran-anyway' 2>&1 </dev/null)
check "reaper that never arms: the command does not run, the engineer is told why" \
    sh -c "! echo '$out' | grep -q ran-anyway && echo '$out' | grep -q 'no reaper guards this session'"
check "reaper that never arms: nothing of the user left running" hg_wait "hg_no_procs $U" 2
hg_config poll_interval=1s
out=$(hg_ssh "$S" 'echo env-$LOCKBOX_SESSION' 2>&1 </dev/null)
check "forged ~/.pam_environment: reaches the user's shell only" sh -c "echo '$out' | grep -q env-s-forged"
rm -f "$home/.pam_environment"

# -- the hook on its own: outside a guarded session, or with its reaper gone, it refuses
as_user() { setpriv --reuid="$U" --regid="$U" --init-groups "$@"; }
out=$(LOCKBOX_SESSION=s-forged SSH_ORIGINAL_COMMAND='echo ran' as_user "$HG/bin/lockbox-session" 2>&1)
check "hook outside any session (forged env): refuses" sh -c "echo '$out' | grep -q 'not guarded' && ! echo '$out' | grep -qx ran"
hg_ssh "$S" 'echo up; sleep 1000' >"$HG/k.out" 2>&1 </dev/null &
c1=$!
hg_wait "grep -q up '$HG/k.out'" 5
rec=$(ls "$HG/run/sessions/"*.json | head -1)
cg="$($PYTHON -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['cgroup_mount'] + r['cgroup_path'])" "$rec")"
rp=$($PYTHON -c "import json,sys; print(json.load(open(sys.argv[1]))['reaper_pid'])" "$rec")
out=$(SSH_ORIGINAL_COMMAND='echo ran' sh -c "echo \$\$ >'$cg/cgroup.procs'; exec setpriv --reuid=$U --regid=$U --init-groups '$HG/bin/lockbox-session'" 2>&1)
check "hook inside a live session: runs the command" sh -c "echo '$out' | grep -qx ran"
kill -KILL "$rp"
hg_wait "hg_gone $rp" 2
out=$(SSH_ORIGINAL_COMMAND='echo ran' sh -c "echo \$\$ >'$cg/cgroup.procs'; exec setpriv --reuid=$U --regid=$U --init-groups '$HG/bin/lockbox-session'" 2>&1)
check "hook in a session whose reaper died: refuses" sh -c "echo '$out' | grep -q 'no reaper guards this session' && ! echo '$out' | grep -qx ran"
kill "$c1" 2>/dev/null
hg_kill_uid "$U"
hg_wait "hg_gone $c1" 3

# -- teardown at expiry: every way of staying behind, several sessions under one grant
grant_approve "$S" 14s
sessions() {
    # 1: a command that daemonizes in every way we know, then waits
    hg_ssh "$S" 'nohup sleep 1001 >/dev/null 2>&1 &
        setsid sleep 1002 >/dev/null 2>&1 < /dev/null &
        (sleep 1003 >/dev/null 2>&1 &) &
        sh -c "trap \"\" HUP TERM; while :; do sleep 1; done" >/dev/null 2>&1 &
        sleep 1004 >/dev/null 2>&1 & disown 2>/dev/null
        command -v tmux >/dev/null && tmux -L lbx new-session -d "sleep 1005"
        command -v screen >/dev/null && screen -dmS lbx sleep 1006
        echo started; sleep 1000' >"$HG/s1.out" 2>&1 </dev/null &
    c1=$!
    # 2-4: interactive sessions; one hook gets SIGSTOPped, one is killed, one is left alone
    (echo 'echo two; sleep 1000'; sleep 30) | hg_ssh "$S" -t >"$HG/s2.out" 2>&1 &
    c2=$!
    (echo 'echo three; sleep 1000'; sleep 30) | hg_ssh "$S" -t >"$HG/s3.out" 2>&1 &
    c3=$!
    (echo 'echo four; sleep 1000'; sleep 30) | hg_ssh "$S" -t >"$HG/s4.out" 2>&1 &
    c4=$!
    hg_wait "grep -q started '$HG/s1.out' && grep -q two '$HG/s2.out' && grep -q three '$HG/s3.out' && grep -q four '$HG/s4.out'" 8
}
sessions
pty_hooks=$(ps -u "$S" -o pid=,tty=,comm= | awk '$3 == "lockbox-session" && $2 != "?" {print $1}')
check "expiry: four sessions, three interactive hooks running" test "$(echo $pty_hooks | wc -w)" -eq 3
kill -STOP "$(echo $pty_hooks | cut -d' ' -f1)"
kill -KILL "$(echo $pty_hooks | cut -d' ' -f2)"
hg_wait "[ \$(hg_uid_procs $U | wc -l) -ge 20 ]" 5
diag "processes of the support user before expiry: $(hg_uid_procs "$U" | wc -l)"
check "expiry: tmux/screen/daemons running before the end" test "$(hg_uid_procs "$U" | wc -l)" -ge 16
exp=$(grant_exp)
hg_wait "hg_no_procs $U" $((exp - $(date +%s) + 3))
late=$(($(now_ms) - exp * 1000))
check "expiry: no process of the support user 1 s after exp (last gone ${late} ms after)" test "$late" -le 1000
check "expiry: nothing ended before the end's lead ($HG_END_LEAD_MS ms before exp)" \
    test "$late" -ge -"$HG_END_LEAD_MS"
hg_uid_procs "$U" | sed 's/^/# left: /'
check "expiry: the untouched interactive client saw the last line" hg_wait "grep -q 'lockbox: grant .* expired' '$HG/s2.out' '$HG/s3.out' '$HG/s4.out'" 3
check "expiry: connections closed" hg_wait "hg_gone $c1 && hg_gone $c2 && hg_gone $c3 && hg_gone $c4" 5
check "expiry: no session cgroup left" \
    hg_wait "test -z \"\$(ls -d /sys/fs/cgroup/unified/lockbox-test-$HG_ID/s-* 2>/dev/null)\"" 2
# The end began before exp (the reaper's lead): the login comes after exp itself.
while [ "$(date +%s)" -lt "$exp" ]; do sleep 0.1; done
out=$(hg_ssh "$S" true 2>&1 </dev/null)
check "after expiry: refused" sh -c "echo '$out' | grep -q 'auth: denied'"

# -- a login shortly before the end runs until the end, and not past it
grant_approve "$S" 5s
exp=$(grant_exp)
while [ $(($(now_ms) + HG_END_LEAD_MS + 1500)) -lt $((exp * 1000)) ]; do sleep 0.05; done
out=$(hg_ssh "$S" 'echo up; sleep 100' 2>&1 </dev/null)
end=$(($(now_ms) - exp * 1000))
check "late login: it ran" sh -c "echo '$out' | grep -qx up"
check "late login: ended at the grant's end ($end ms after exp; the end begins $HG_END_LEAD_MS ms before)" \
    sh -c "[ $end -le 1000 ] && [ $end -ge -$HG_END_LEAD_MS ]"

# -- revocation: nothing left after the poll interval (1 s) + 1 s
grant_approve "$S" 1h
hg_ssh "$S" 'nohup sleep 1000 >/dev/null 2>&1 & setsid sleep 1001 >/dev/null 2>&1 < /dev/null & echo up; sleep 1000' >"$HG/r.out" 2>&1 </dev/null &
c1=$!
hg_wait "grep -q up '$HG/r.out'" 5
t0=$(now_ms)
grant_revoke "$S"
hg_wait "hg_no_procs $U" 5
check "revoked: no process of the support user after poll interval + 1 s ($(($(now_ms) - t0)) ms)" test $(($(now_ms) - t0)) -le 2000
hg_wait "hg_gone $c1" 3
out=$(hg_ssh "$S" true 2>&1 </dev/null)
check "after revocation: refused" sh -c "echo '$out' | grep -q 'auth: denied'"
grant_deny "$S"
out=$(hg_ssh "$S" true 2>&1 </dev/null)
check "after a denial: refused with the reason" sh -c "echo '$out' | grep -q 'auth: denied' && echo '$out' | grep -q '^banner: lockbox: '"
if [ "$GRANTS" = real ]; then
    benv_api admin GET "/v1/audit?action=session_ended" >"$HG/audit.json"
    reasons=$($PYTHON -c 'import json,sys
for l in open(sys.argv[1]):
    print(json.loads(json.loads(l)["body"])["detail"]["reason"])' "$HG/audit.json" | sort -u | tr '\n' ' ')
    check "broker audit: sessions ended by exit, expiry, revocation and the never-armed one's error ($reasons)" \
        test "$reasons" = "error exited expired revoked "
    benv_api admin GET "/v1/audit?action=session_started" >"$HG/audit.json"
    check "broker audit: session starts from this host" grep -q "$HG_HOST" "$HG/audit.json"
fi
tap_done
