#!/bin/sh
# lockbox-host-setup favordynmods: the administrator's explicit switch for the cgroup2 mount
# option (see docs/performance.md). Status and every refusal are checked on any host. Turning
# it on and off again changes the whole host (on Linux 6.18 "on" keeps migrations fast until
# reboot, whatever the flag says later), so that round trip runs only when asked for:
# LOCKBOX_TEST_FAVORDYNMODS=1 (the login benchmark runs the same commands every time).
. tests/support/tap.sh
SETUP="sh packaging/lockbox-host-setup.in"
mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
opts() { awk -v m="$mnt" '$3 == "cgroup2" && $2 == m { print $4; exit }' /proc/mounts; }

if [ -z "$mnt" ]; then
    check "no cgroup2 hierarchy: status refuses" sh -c "! $SETUP favordynmods status 2>/dev/null"
    tap_done
    exit
fi
before=$(opts)
case ",$before," in *,favordynmods,*) want=on ;; *) want=off ;; esac
check "status says what /proc/mounts says ($want)" test "$($SETUP favordynmods status 2>/dev/null)" = "$want"
check "status is the default" test "$($SETUP favordynmods 2>/dev/null)" = "$want"
for bad in yes 1 ON "on off" " " ";reboot" "--help"; do
    check_fails "refused: favordynmods '$bad'" sh -c "$SETUP favordynmods '$bad' >/dev/null 2>&1"
done
check "refused words left the mount as it was" test "$(opts)" = "$before"
check "refused for a user who is not root" sh -c "setpriv --reuid=65534 --regid=65534 --clear-groups \
    $SETUP favordynmods on 2>&1 | grep -q 'must run as root'"
check "the usage names the command" sh -c "$SETUP bogus 2>&1 | grep -q 'favordynmods on|off|status'"

if [ "${LOCKBOX_TEST_FAVORDYNMODS:-0}" = 1 ] && grep -qw favordynmods /sys/kernel/cgroup/features; then
    other=$([ "$want" = on ] && echo off || echo on)
    tap_cleanup "$SETUP favordynmods $want"
    check "switched $other" sh -c "$SETUP favordynmods $other 2>/dev/null"
    check "status follows ($other)" test "$($SETUP favordynmods status 2>/dev/null)" = "$other"
    check "only favordynmods changed" test "$(opts | tr ',' '\n' | grep -vx favordynmods | paste -sd, -)" = \
        "$(echo "$before" | tr ',' '\n' | grep -vx favordynmods | paste -sd, -)"
    check "switched back ($want)" sh -c "$SETUP favordynmods $want 2>/dev/null"
    check "the mount options are exactly as found" test "$(opts)" = "$before"
else
    diag "on/off round trip not run (host-wide; LOCKBOX_TEST_FAVORDYNMODS=1 runs it)"
fi
tap_done
