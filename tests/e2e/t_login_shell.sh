#!/bin/sh
# A support account whose login shell is lockbox-session itself (usermod -s, as
# docs/install.md tells administrators): sshd starts the hook directly as
# `lockbox-session -c <ForceCommand>`, no shell and no ~/.bashrc runs before it, and the user's
# shell and commands run under host.conf's session_shell. Real sshd, PAM, broker and hook.
. tests/support/tap.sh
. tests/support/hostgate_env.sh
. tests/support/grants.sh

hg_setup || { fail "setup"; tap_done; exit 1; }
S=lbxe2e${HG_ID}s
P=lbxe2e${HG_ID}p
grants_start "$S" || { fail "broker"; tap_done; exit 1; }
hg_config poll_interval=1s
hg_user "$S" support && hg_user "$P" || { fail "accounts"; tap_done; exit 1; }
HOOK=$HG/bin/lockbox-session
usermod -s "$HOOK" "$S" && usermod -s "$HOOK" "$P"
hg_sshd_start || { fail "sshd did not start"; tap_done; exit 1; }
SSHO="-i $HG/id_user -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
-o BatchMode=yes -o LogLevel=ERROR -o ConnectTimeout=5"
home=$(getent passwd "$S" | cut -d: -f6)
# Every run of ~/.bashrc leaves a line naming the program that started its shell (sshd's name
# is that of its link here, sshd-lbx-ID).
printf 'echo "parent=$(cat /proc/$PPID/comm)" >>"$HOME/bashrc.log"\n' >"$home/.bashrc"
chown "$S:" "$home/.bashrc"
bashrc_parents() { sort -u "$home/bashrc.log" 2>/dev/null | tr '\n' ' '; }
cmd_logged() { grep -lF "\"command\":\"$1\"" "$HG/rec/"*.json >/dev/null 2>&1; }
bash_real=$(readlink -f /bin/bash)
dash_real=$(readlink -f /bin/dash)

grant_approve "$S" 1h
# -- commands: one process between sshd and the command's shell, and that is the hook
out=$(hg_ssh "$S" 'echo in; id -un; readlink /proc/$$/exe; cat /proc/$PPID/comm; ps -o comm= -p $(ps -o ppid= -p $PPID)' 2>&1 </dev/null)
rc=$?
check "command login: runs (exit $rc)" sh -c "[ $rc -eq 0 ] && echo '$out' | grep -qx in && echo '$out' | grep -qx '$S'"
check "command login: the command's shell is session_shell's default ($bash_real)" sh -c "echo '$out' | grep -qx '$bash_real'"
check "command login: its parent is the hook, and the hook's parent sshd (no shell before it)" \
    sh -c "echo '$out' | grep -qx lockbox-session && echo '$out' | grep -qx 'sshd[-a-z0-9]*'"
check "command login: recorded in the command log" cmd_logged 'echo in; id -un; readlink /proc/$$/exe; cat /proc/$PPID/comm; ps -o comm= -p $(ps -o ppid= -p $PPID)'
hg_ssh "$S" 'exit 7' >/dev/null 2>&1 </dev/null
check "command login: exit status comes back (7)" test $? -eq 7
check "command login: nothing of lockbox on stdout" test "$(hg_ssh "$S" 'echo only' 2>/dev/null </dev/null)" = only

# -- interactive: banner, a login shell under the hook, recorded, exit status back
out=$(printf 'echo MARK-$((6*7)) $0\nexit 5\n' | hg_ssh "$S" -t 2>&1)
rc=$?
check "pty: exit status of the shell comes back (5)" test "$rc" -eq 5
check "pty: banner shows the grant" sh -c "echo '$out' | grep -q 'under grant $GRANT_ID'"
check "pty: a login shell of session_shell ran the typed commands" sh -c "echo '$out' | grep -q 'MARK-42 -bash'"
cast=$(ls -t "$HG/rec/"*.cast 2>/dev/null | head -1)
check "pty: recorded (asciicast with the output)" sh -c "[ -s '$cast' ] && grep -q MARK-42 '$cast'"
check "~/.bashrc ran only under the hook, never before it (parents: $(bashrc_parents))" \
    test "$(bashrc_parents)" = "parent=lockbox-session "

# -- session_shell chooses the shell
hg_config poll_interval=1s session_shell=/bin/dash
out=$(hg_ssh "$S" 'readlink /proc/$$/exe' 2>&1 </dev/null)
check "session_shell = /bin/dash: the command runs under it" sh -c "echo '$out' | grep -qx '$dash_real'"
out=$(printf 'echo MARK-$((6*7)) $0\nexit 3\n' | hg_ssh "$S" -t 2>&1)
rc=$?
check "session_shell = /bin/dash: the pty shell is a dash login shell, exit 3 ($rc)" sh -c "[ $rc -eq 3 ] && echo '$out' | grep -q 'MARK-42 -dash'"

# -- file transfer: through the hook as ever
head -c 200000 /dev/urandom >"$HG/blob"
printf 'put %s up.bin\nget up.bin %s\n' "$HG/blob" "$HG/blob.back" >"$HG/sftp.batch"
sftp $SSHO -P "$HG_PORT" -b "$HG/sftp.batch" "$S@127.0.0.1" >"$HG/sftp.out" 2>&1
check "sftp: works under a grant" cmp -s "$HG/blob" "$HG/blob.back"
hg_config poll_interval=1s allow_file_transfer=no
rm -f "$HG/blob.back"
sftp $SSHO -P "$HG_PORT" -b "$HG/sftp.batch" "$S@127.0.0.1" >"$HG/sftp.out" 2>&1
check "allow_file_transfer = no: sftp refused" sh -c "[ $? -ne 0 ] && [ ! -e '$HG/blob.back' ]"
scp $SSHO -P "$HG_PORT" "$HG/blob" "$S@127.0.0.1:scp.bin" >"$HG/scp.out" 2>&1
check "allow_file_transfer = no: scp refused" sh -c "[ $? -ne 0 ] && [ ! -e '$home/scp.bin' ]"
scp -O $SSHO -P "$HG_PORT" "$HG/blob" "$S@127.0.0.1:scp.bin" >"$HG/scp.out" 2>&1
check "allow_file_transfer = no: scp -O (scp -t) refused with the reason" sh -c "[ $? -ne 0 ] && [ ! -e '$home/scp.bin' ] && grep -q 'file transfer is not allowed' '$HG/scp.out'"
out=$(hg_ssh "$S" 'echo still-ok' 2>&1 </dev/null)
check "allow_file_transfer = no: commands still run" sh -c "echo '$out' | grep -qx still-ok"

# -- a session_shell the configuration parser refuses: every support login is refused
cp /bin/bash "$home/sh" && chown "$S:" "$home/sh" && chmod 0755 "$home/sh"
for bad in "$home/sh" bash "$HOOK" /etc/passwd; do
    hg_config poll_interval=1s session_shell="$bad"
    out=$(hg_ssh "$S" 'echo ran' 2>&1 </dev/null)
    check "session_shell = $bad: login refused, the command never runs" \
        sh -c "! echo '$out' | grep -qx ran && echo '$out' | grep -q 'host configuration error'"
done
hg_config poll_interval=1s

# -- somebody outside the support group with the hook as login shell: no ForceCommand applies,
# so sshd hands the hook the user's own command, or nothing; both are refused
out=$(hg_ssh "$P" 'echo ran' 2>&1 </dev/null)
rc=$?
check "non-support user, command: refused as an argument ($rc)" sh -c "[ $rc -ne 0 ] && ! echo '$out' | grep -qx ran && echo '$out' | grep -q 'takes no arguments'"
out=$(printf 'echo ran-$((1+1))\nexit\n' | hg_ssh "$P" -t 2>&1)
check "non-support user, pty: refused (no lockbox session)" sh -c "! echo '$out' | grep -q ran-2 && echo '$out' | grep -q 'not guarded by lockbox'"

# -- the user cannot leave the hook: it is not in /etc/shells, so chsh refuses
check "the hook is not listed in /etc/shells" sh -c "! grep -qxF '$HOOK' /etc/shells"
U=$(id -u "$S")
setpriv --reuid="$U" --regid="$(id -g "$S")" --init-groups chsh -s /bin/bash </dev/null >"$HG/chsh.out" 2>&1
check "chsh by the user: refused" sh -c "[ $? -ne 0 ] && [ \"\$(getent passwd '$S' | cut -d: -f7)\" = '$HOOK' ]"
# -- a logout ends what its session left behind (no other session of the user holds a grant),
# and never a login of the same user that begins while that end runs: twenty logins back to back
# (the benchmark's client), each leaving a nohup process for the next one's logout to sweep
out=$(hg_ssh "$S" 'nohup sleep 1077 >/dev/null 2>&1 & echo planted' 2>&1 </dev/null)
check "logout: a leftover planted" sh -c "echo '$out' | grep -qx planted"
check "logout: the leftover ended with its session" hg_wait "! pgrep -u '$U' -f 'sleep 1077' >/dev/null" 3
"$BUILD_ABS/tests/bench/bench_login" -p "$HG_PORT" -i "$HG/id_user" -n 20 -s "$HG/b2b.ms" "$S" \
    >"$HG/b2b.out" 2>&1
check "back-to-back logins: all 20 let in while the previous logout's end runs ($(grep -c . "$HG/b2b.ms" 2>/dev/null) ran)" \
    test "$(grep -c . "$HG/b2b.ms" 2>/dev/null)" -eq 20
sed 's/^/# bench_login: /' "$HG/b2b.out" | grep -v '^# bench_login: *$' | head -5

# -- an account whose shell went back to bash still meets the hook through ForceCommand, and
# there ~/.bashrc runs before it (what the login shell above avoids; the marker sees it)
usermod -s /bin/bash "$S"
out=$(hg_ssh "$S" 'echo via-bash; cat /proc/$PPID/comm' 2>&1 </dev/null)
check "shell set back to bash: the command runs under the hook" sh -c "echo '$out' | grep -qx via-bash && echo '$out' | grep -qx lockbox-session"
check "shell set back to bash: recorded" cmd_logged 'echo via-bash; cat /proc/$PPID/comm'
check "shell set back to bash: ~/.bashrc ran before the hook, started by sshd (the marker can tell)" \
    grep -qx 'parent=sshd[-a-z0-9]*' "$home/bashrc.log"
hg_kill_uid "$U"
tap_done
