#!/bin/sh
# make demo (scripts/demo.sh): it exits 0 having shown every step of the story, leaves nothing
# behind, and exits non-zero, still cleaning up, when a step misbehaves (here: a hook that
# does not run the engineer's command).
. tests/support/tap.sh
BUILD=${BUILD:-build}

work=$(mktemp -d /tmp/lbxpkg-demo.XXXXXX)
tap_cleanup "rm -rf $work"

# leftovers LOG: anything of the demo run that wrote LOG still on the machine.
leftovers() {
    id=$(sed -n 's/.*host node-\([0-9a-f]*\).*/\1/p' "$1" | head -1)
    [ -n "$id" ] || return 0
    getent passwd "lbxe2e${id}alice" >/dev/null && echo "user lbxe2e${id}alice"
    getent group "lbxe2e${id}sup" >/dev/null && echo "group lbxe2e${id}sup"
    [ -e "/etc/pam.d/sshd-lbx-$id" ] && echo "/etc/pam.d/sshd-lbx-$id"
    ls -d /tmp/lbx-hg."$id".* 2>/dev/null
    for p in $(pgrep -f "lbx-hg.$id" 2>/dev/null); do echo "process $p: $(ps -o args= -p "$p")"; done
    for m in /sys/fs/cgroup/unified /sys/fs/cgroup/freezer /sys/fs/cgroup; do
        [ -d "$m/lockbox-test-$id" ] && echo "cgroup $m/lockbox-test-$id"
    done
    broker=$(sed -n 's/.*store \(\/tmp\/lbx-broker\.[^/]*\)\/lockbox.db.*/\1/p' "$1" | head -1)
    [ -n "$broker" ] && [ -e "$broker" ] && echo "$broker"
    return 0
}

start=$(date +%s)
BUILD=$BUILD sh scripts/demo.sh >"$work/demo.log" 2>&1
rc=$?
took=$(($(date +%s) - start))
check "demo exits 0" test "$rc" -eq 0
[ "$rc" -eq 0 ] || tail -15 "$work/demo.log" | sed 's/^/#   /'
diag "demo took ${took}s"
check "demo takes about a minute at most" test "$took" -le 90
for line in "lockboxd on https://127.0.0.1:" "ok: request LBX-1 is pending, carol is asked" \
    "awaits approval by the subscription owner (carol)" "ok: login refused" "LBX-1 approved" \
    "ok: the command ran as" "under grant G-1" "ticket T-4711, approved by carol" "typed-42" \
    "grant G-1 expired" "ok: no process of .* is left" "ok: and a new login is refused again" \
    "session_ended" "audit chain OK" "all 9 steps behaved"; do
    check "demo shows: $line" grep -q -- "$line" "$work/demo.log"
done
check "demo left nothing behind" test -z "$(leftovers "$work/demo.log")"
leftovers "$work/demo.log" | sed 's/^/#   left: /'

# A hook that does not run the engineer's command: the demo must notice and stop.
mkdir -p "$work/build/tests/e2e"
for p in lockboxd lockboxctl pam_lockbox.so lockbox-reaper tests/e2e/ssh_client; do
    cp "$BUILD/$p" "$work/build/$p"
done
printf '#!/bin/sh\nexit 0\n' >"$work/build/lockbox-session"
chmod 755 "$work/build/lockbox-session"
BUILD=$work/build sh scripts/demo.sh >"$work/bad.log" 2>&1
rc=$?
check "a misbehaving step: demo exits non-zero" test "$rc" -ne 0
check "  ... naming the step" grep -q "demo: FAILED at step 6: the command ran as" "$work/bad.log"
check "  ... and still leaves nothing behind" test -z "$(leftovers "$work/bad.log")"
leftovers "$work/bad.log" | sed "s/^/#   left: /"

tap_done
