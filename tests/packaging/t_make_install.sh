#!/bin/sh
# make install: DESTDIR and PREFIX are honoured, every built program lands where the rest of
# the system looks for it (PAM modules in the multiarch PAM directory whatever PREFIX is), the
# paths baked into the snippet, unit, setup script and host.conf follow PREFIX, and an
# existing configuration file is never overwritten on a live system.
. tests/support/tap.sh
BUILD=${BUILD:-build}
MAKE="make --no-print-directory -s BUILD=$BUILD"
MULTIARCH=$(cc -print-multiarch)

work=$(mktemp -d /tmp/lbxpkg-install.XXXXXX)
tap_cleanup "rm -rf $work; $MAKE packaging-files >/dev/null 2>&1"

# --- PREFIX=/usr into a DESTDIR (what the Debian build does) ------------------------------
root=$work/usr-root
check "make install DESTDIR PREFIX=/usr" sh -c "$MAKE install DESTDIR=$root PREFIX=/usr >$work/log1 2>&1"
has() { [ -f "$root$1" ] && [ "$(stat -c %a "$root$1")" = "$2" ]; }
for f in /usr/sbin/lockbox-host-setup:755 /usr/share/lockbox/sshd-lockbox.conf:644 \
    /usr/share/pam-configs/lockbox:644 /lib/systemd/system/lockboxd.service:644 \
    /etc/lockbox/host.conf:644; do
    check "installed ${f%:*} (mode ${f#*:})" has "${f%:*}" "${f#*:}"
done
check "/etc/lockbox/keys created" test -d "$root/etc/lockbox/keys"
# Every program that is built is installed, in its place; none that is not.
for p in lockboxctl:/usr/bin lockboxd:/usr/sbin lockbox-session:/usr/libexec/lockbox \
    lockbox-reaper:/usr/libexec/lockbox lockbox-host-check:/usr/libexec/lockbox \
    pam_lockbox.so:/lib/$MULTIARCH/security; do
    name=${p%%:*}; dir=${p#*:}
    if [ -f "$BUILD/$name" ]; then
        check "$name installed in $dir" cmp -s "$BUILD/$name" "$root$dir/$name"
    else
        check "$name (not built) not installed" test ! -e "$root$dir/$name"
    fi
done
for m in packaging/man/*.[1-8]; do
    check "man page ${m##*/} installed" test -f "$root/usr/share/man/man${m##*.}/${m##*/}"
done
check "no @PLACEHOLDER@ left in generated files" sh -c "! grep -rq '@[A-Z]*@' \
    $root/usr/sbin/lockbox-host-setup $root/usr/share/lockbox $root/lib/systemd $root/etc/lockbox"
check "snippet ForceCommand is /usr/libexec/lockbox/lockbox-session" \
    grep -q "ForceCommand /usr/libexec/lockbox/lockbox-session$" "$root/usr/share/lockbox/sshd-lockbox.conf"
check "unit runs /usr/sbin/lockboxd" grep -q "^ExecStart=/usr/sbin/lockboxd " "$root/lib/systemd/system/lockboxd.service"
check "host.conf reaper_path follows PREFIX" \
    grep -qx "reaper_path = /usr/libexec/lockbox/lockbox-reaper" "$root/etc/lockbox/host.conf"
check "setup script is valid sh" sh -n "$root/usr/sbin/lockbox-host-setup"
chmod 755 "$work"
check "setup script refuses to run as non-root" sh -c "setpriv --reuid=65534 --regid=65534 \
    --clear-groups sh $root/usr/sbin/lockbox-host-setup check 2>&1 | grep -q 'must run as root'"

# --- PREFIX=/usr/local: everything moves except what the system only looks for in one place
root=$work/local-root
check "make install DESTDIR PREFIX=/usr/local" sh -c "$MAKE install DESTDIR=$root PREFIX=/usr/local >/dev/null 2>&1"
check "snippet points into /usr/local" \
    grep -q "ForceCommand /usr/local/libexec/lockbox/lockbox-session$" "$root/usr/local/share/lockbox/sshd-lockbox.conf"
check "setup script reads the snippet from /usr/local" \
    grep -q "^DATADIR=/usr/local/share$" "$root/usr/local/sbin/lockbox-host-setup"
check "unit under /usr/local/lib/systemd/system" \
    grep -q "^ExecStart=/usr/local/sbin/lockboxd " "$root/usr/local/lib/systemd/system/lockboxd.service"
check "pam-auth-update profile still in /usr/share/pam-configs" test -f "$root/usr/share/pam-configs/lockbox"
check "configuration still in /etc/lockbox" test -f "$root/etc/lockbox/host.conf"

# --- a live install (no DESTDIR), redirected into a scratch tree: config is kept ----------
live=$work/live
vars="PREFIX=$live/usr SYSCONFDIR=$live/etc PAMDIR=$live/pam PAMCONFDIR=$live/pam-configs UNITDIR=$live/unit"
check "live install" sh -c "$MAKE install $vars >/dev/null 2>&1"
echo "broker_url = https://broker.test:8443" >>"$live/etc/lockbox/host.conf"
cp "$live/etc/lockbox/host.conf" "$work/edited"
check "second live install succeeds" sh -c "$MAKE install $vars >$work/log2 2>&1"
check "edited host.conf kept" cmp -s "$work/edited" "$live/etc/lockbox/host.conf"
check "new defaults written next to it as host.conf.dist" test -f "$live/etc/lockbox/host.conf.dist"
check "the kept file is reported" grep -q "host.conf kept" "$work/log2"

tap_done
