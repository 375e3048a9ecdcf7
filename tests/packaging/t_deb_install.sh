#!/bin/sh
# The Debian packages on this very machine: built with `make deb`, installed with dpkg, used
# through the installed files (a real sshd started from /etc/ssh/sshd_config with the installed
# snippet, the system PAM stack with the installed profile), then removed and purged.
#
# The lockout cases, each one a test: unpacked but not configured; an sshd that refuses the
# snippet; a postinst failing midway; the broker down; a broken host.conf; a missing host key;
# removed; purged. In every one: `sshd -t` passes, a fresh sshd starts, root and an ordinary
# admin log in, and a support user is refused. At the end the machine is exactly as before:
# /etc/pam.d/common-* and /var/lib/pam byte-for-byte, no users, groups or directories left.
. tests/support/tap.sh
. tests/packaging/pkg_env.sh
BUILD=${BUILD:-build}

skip_all() { ok "# SKIP $*"; tap_done; exit 0; }
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
for p in lockboxctl lockboxd pam_lockbox.so lockbox-session lockbox-reaper; do
    [ -f "$BUILD/$p" ] || skip_all "$p is not built yet: the packages need it"
done
# One package test at a time on this machine (several checkouts may run `make check` at once):
# the lock is on /etc/pam.d itself, so nothing is created for it.
exec 9</etc/pam.d
flock -w 600 9 || skip_all "another package test kept the lock for 10 minutes"
# Never touch an installation this test did not make; say so loudly (it may be the leftover of
# a run that was killed before its cleanup).
for p in $PKG_NAMES; do
    if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv 'not-installed'; then
        fail "$p is already on this machine: not touching it (a killed test run? dpkg --purge $p)"
        tap_done
        exit 1
    fi
done

# A PAM stack that already names pam_lockbox without the package is the leftover of a killed
# run: snapshotting it would make this test "restore" the damage. Refuse, and say how to mend it.
if grep -qs pam_lockbox /etc/pam.d/common-*; then
    fail "/etc/pam.d/common-* already name pam_lockbox without the package: remove 'lockbox' from /var/lib/pam/seen and run pam-auth-update --package"
    tap_done
    exit 1
fi

# /run, not /tmp: sshd's StrictModes refuses authorized keys below a world-writable directory.
work=$(mktemp -d /run/lbxpkg-deb.XXXXXX)
snap=$work/snapshot
adm=lbxpkga$$
sup=lbxpkgs$$
# The installed module confines sessions under its default cgroup name "lockbox": remove that
# parent last of all wherever this test made it (rmdir only succeeds once it is empty).
for root in $(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); o = $(i + 3) } }
    t == "cgroup2" || (t == "cgroup" && o ~ /(^|,)freezer(,|$)/) { print $5 }' /proc/self/mountinfo); do
    [ -d "$root/lockbox" ] || tap_cleanup "rmdir '$root/lockbox'"
done
tap_cleanup "rm -rf $work"
tap_cleanup "pkg_restore $snap"
tap_cleanup "userdel $adm; userdel $sup"
tap_cleanup "pkg_sshd_stop; pkg_broker_stop"

if make --no-print-directory -s deb BUILD="$BUILD" >"$work/deb.log" 2>&1; then ok "make deb"; else
    fail "make deb"; tail -20 "$work/deb.log" | sed 's/^/# /'; tap_done; exit 1; fi
debs=$BUILD/deb
for p in $PKG_NAMES; do
    check "built $p" test -f "$debs/${p}_"*"_$(dpkg --print-architecture).deb"
done
# libpam loads every module of a stack when the stack is read, before pam_succeed_if can skip
# one: a module that aborts on load (e.g. built with ASan) would refuse everyone.
mkdir -p "$work/deb-host"
dpkg-deb -x "$debs/lockbox-host_"*"_$(dpkg --print-architecture).deb" "$work/deb-host"
check "packaged pam_lockbox.so is a plain build (no sanitizer runtime)" sh -c \
    "! readelf -d $work/deb-host/lib/*/security/pam_lockbox.so | grep -qi 'asan\|ubsan'"
mkdir -p "$work/pamsvc"
printf 'account required %s\naccount required pam_permit.so\n' \
    "$(echo "$work"/deb-host/lib/*/security/pam_lockbox.so)" >"$work/pamsvc/lbxload"
check "packaged pam_lockbox.so loads into libpam and ignores a non-support user" \
    quiet env LD_PRELOAD="/usr/lib/$(cc -print-multiarch)/libpam_wrapper.so" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$work/pamsvc" pamtester lbxload root acct_mgmt
check "lintian: no error or warning left (each fixed or overridden with a reason)" \
    sh -c "! grep -q '^[EW]:' $debs/lintian.log"
grep '^[EW]:' "$debs/lintian.log" | sed 's/^/# /'

# --- the machine as it was -------------------------------------------------------------
pkg_snapshot "$snap"
useradd -M -s /bin/sh -G adm "$adm"
for u in root "$adm"; do pkg_user_key "$work" "$u"; done

# lockout_safe NAME: sshd -t passes, a fresh sshd starts, root and the admin log in by ssh,
# and the admin passes PAM's account phase for su and the console.
lockout_safe() {
    check "$1: sshd -t passes" $PKG_SSHD -t
    if pkg_sshd_start "$work"; then ok "$1: a fresh sshd starts"; else
        fail "$1: a fresh sshd starts"; tail -5 "$work/sshd.log" | sed 's/^/# /'; fi
    for _who in root "$adm"; do
        if pkg_logs_in "$work" "$_who"; then ok "$1: $_who logs in"; else
            fail "$1: $_who logs in"
            sed 's/^/#   client: /' "$work/ssh.out"; tail -5 "$work/sshd.log" | sed 's/^/#   sshd: /'
        fi
    done
    check "$1: admin passes su and login account checks" \
        quiet sh -c "pamtester su $adm acct_mgmt && pamtester login $adm acct_mgmt"
    pkg_sshd_stop
}
# support_refused NAME: by ssh, su and console alike.
support_refused() {
    pkg_sshd_start "$work"
    check_fails "$1: support user refused by ssh" pkg_logs_in "$work" "$sup"
    check "$1: ... with lockbox's reason in the banner" grep -q "lockbox" "$work/ssh.out"
    sed 's/^/#   /' "$work/ssh.out" | head -3
    check_fails "$1: support user refused by su and login" \
        quiet sh -c "pamtester su $sup acct_mgmt || pamtester login $sup acct_mgmt"
    pkg_sshd_stop
}
arch=$(dpkg --print-architecture)
deb() { echo "$debs/$1_"*"_$arch.deb"; }

# --- unpacked only: files in place, nothing activated --------------------------------------
check "dpkg --unpack" quiet dpkg --unpack "$(deb lockbox-client)" "$(deb lockbox-broker)" \
    "$(deb lockbox-host)"
check "unpacked: PAM untouched" pkg_pam_unchanged "$snap"
lockout_safe "unpacked"

# --- an sshd that refuses the snippet (UnusedConnectionTimeout is new in OpenSSH 9.2) -------
cat >"$work/old-sshd" <<EOF
#!/bin/sh
if grep -qs UnusedConnectionTimeout /etc/ssh/sshd_config.d/lockbox.conf; then
    echo "/etc/ssh/sshd_config.d/lockbox.conf: Bad configuration option: UnusedConnectionTimeout" >&2
    exit 255
fi
exec $PKG_SSHD "\$@"
EOF
chmod 755 "$work/old-sshd"
check "configure client and broker" quiet dpkg --configure lockbox-client lockbox-broker
check_fails "sshd refusing the snippet: postinst fails" sh -c \
    "LOCKBOX_SSHD=$work/old-sshd dpkg --configure lockbox-host >$work/dpkg.log 2>&1"
check "  ... and says why" grep -q "sshd -t refused the lockbox snippet" "$work/dpkg.log"
check "  ... snippet taken out again" test ! -e /etc/ssh/sshd_config.d/lockbox.conf
check "  ... PAM untouched" pkg_pam_unchanged "$snap"
lockout_safe "snippet refused"

# --- postinst failing midway: snippet in place, PAM step fails ------------------------------
mkdir -p "$work/shim"
printf '#!/bin/sh\necho "pam-auth-update: simulated failure" >&2\nexit 1\n' >"$work/shim/pam-auth-update"
chmod 755 "$work/shim/pam-auth-update"
check_fails "postinst failing midway (pam-auth-update fails)" \
    quiet env PATH="$work/shim:$PATH" dpkg --configure lockbox-host
check "  ... package left half-configured" \
    sh -c "dpkg-query -W -f='\${Status}' lockbox-host | grep -q half-configured"
check "  ... PAM untouched" pkg_pam_unchanged "$snap"
lockout_safe "half-configured"

# --- configured ---------------------------------------------------------------------------
check "dpkg --configure -a completes" quiet dpkg --configure -a
check "installed: snippet active" test -f /etc/ssh/sshd_config.d/lockbox.conf
check "installed: pam_lockbox in the account and session stacks" \
    sh -c "grep -q pam_lockbox.so /etc/pam.d/common-account && grep -q pam_lockbox.so /etc/pam.d/common-session"
check "installed: groups lockbox-support and lockbox-rec" \
    quiet sh -c "getent group lockbox-support && getent group lockbox-rec"
check "installed: lockbox-session setgid lockbox-rec (statoverride)" \
    sh -c "[ \"\$(stat -c '%a %U %G' /usr/libexec/lockbox/lockbox-session)\" = '2755 root lockbox-rec' ] &&
        dpkg-statoverride --list /usr/libexec/lockbox/lockbox-session >/dev/null"
check "installed: /var/log/lockbox/sessions is root:lockbox-rec 2770" \
    test "$(stat -c '%U:%G %a' /var/log/lockbox/sessions)" = "root:lockbox-rec 2770"
check "installed: service user lockbox owns /var/lib/lockbox" \
    sh -c "[ \"\$(stat -c '%U %a' /var/lib/lockbox)\" = 'lockbox 750' ]"
# host_check NAME PATTERN: `lockbox-host-setup check` fails with exactly one problem line,
# matching PATTERN; with PATTERN "", it passes with only ok lines. Output in $work/check.out.
host_check() {
    lockbox-host-setup check >"$work/check.out" 2>"$work/check.err"
    _rc=$?
    _n=$(grep -c '^problem: ' "$work/check.out")
    if [ -z "$2" ]; then
        if [ $_rc -eq 0 ] && [ "$_n" -eq 0 ] && ! grep -qv '^ok: ' "$work/check.out"; then
            ok "$1: lockbox-host-setup check passes"; else fail "$1: lockbox-host-setup check passes"
            sed 's/^/#   /' "$work/check.out" "$work/check.err"; fi
    elif [ $_rc -eq 1 ] && [ "$_n" -eq 1 ] && grep -Eq "^problem: .*$2" "$work/check.out"; then
        ok "$1: check names it: $(grep '^problem: ' "$work/check.out" | cut -c1-140)"
    else
        fail "$1: check names it in one problem line (exit $_rc)"
        sed 's/^/#   /' "$work/check.out" "$work/check.err"
    fi
}
host_check "installed, not enrolled" "/etc/lockbox/host.conf: this host is not enrolled"
check "  ... sshd and PAM found active" sh -c "grep -q '^ok: sshd accepts the snippet' $work/check.out &&
    grep -q '^ok: PAM: .*pam_lockbox.so in common-account and common-session' $work/check.out"
check "  ... the confinement tried" grep -q "^ok: confinement " "$work/check.out"
useradd -M -s /bin/sh -G lockbox-support "$sup"
pkg_user_key "$work" "$sup"
check "installed: support user gets the ForceCommand" sh -c "$PKG_SSHD -T -C user=$sup,host=l,addr=127.0.0.1 |
    grep -qx 'forcecommand /usr/libexec/lockbox/lockbox-session'"
check "installed: the admin does not" sh -c "$PKG_SSHD -T -C user=$adm,host=l,addr=127.0.0.1 |
    grep -qx 'forcecommand none'"

# --- a support login through the installed files, against the installed broker -----------
# The broker set up as lockboxd(8) says and run from the unit's own command lines.
broker_up=no
if pkg_broker_setup "$work" && pkg_broker_start "$work"; then
    ok "broker runs from the unit's ExecStartPre/ExecStart"
    broker_up=yes
else
    fail "broker runs from the unit's ExecStartPre/ExecStart"
    tail -5 "$work/lockboxd.log" | sed 's/^/#   /'
fi
if [ $broker_up = yes ]; then
    check "  ... as user lockbox" sh -c "[ \"\$(ps -o user= -p $PKG_BROKER_PID)\" = lockbox ]"
    admin_tok=$(runuser -u lockbox -- lockboxd --config /etc/lockbox/lockboxd.conf \
        --create-admin admin 2>>"$work/lockboxd.log")
    for cmd in "tenant create t1" "subscription create s1 --tenant t1" \
        "host create lbxpkg-node --tenant t1 --subscription s1" "identity create eng --login $sup" \
        "role assign eng engineer global" "identity create appr" "role assign appr owner subscription:s1"; do
        # shellcheck disable=SC2086
        pkg_ctl "$admin_tok" $cmd >>"$work/ctl.log" 2>&1 || fail "lockboxctl $cmd"
    done
    eng_tok=$(pkg_ctl "$admin_tok" api-token create eng 2>/dev/null | tail -1)
    appr_tok=$(pkg_ctl "$admin_tok" api-token create appr 2>/dev/null | tail -1)
fi
# The broker's public key travels to wherever the CA key is (a key file must be owned by root
# or the caller to be trusted; this one belongs to lockbox).
install -m 0644 /var/lib/lockbox/keys/signing.pub "$work/broker-signing.pub"
check "installed lockboxctl enrolls the host" sh -c "lockboxctl host enroll --ca-cert $work/pki/ca.crt \
    --ca-key $work/pki/ca.key --host lbxpkg-node --out /etc/lockbox \
    --broker-keys $work/broker-signing.pub >$work/enroll.conf 2>$work/enroll.err"
sed 's/^/#   /' "$work/enroll.err"
{ echo "broker_url = $PKG_BROKER_URL"; cat "$work/enroll.conf"; } >>/etc/lockbox/host.conf
cp /etc/lockbox/host.conf "$work/host.conf.good"

if [ $broker_up = yes ]; then
    req=$(pkg_ctl "$eng_tok" request create --host lbxpkg-node --ticket T-1 --reason "package test" \
        --duration 2m | awk 'NR == 1 { print $1 }')
    check "engineer's request created ($req)" test -n "$req"
    pkg_sshd_start "$work"
    check_fails "before approval: support user refused" pkg_logs_in "$work" "$sup"
    check "  ... told the request awaits approval" grep -q "request $req awaits approval" "$work/ssh.out"
    sed 's/^/#   /' "$work/ssh.out" | head -2
    check "approver approves" quiet pkg_ctl "$appr_tok" approve "$req"
    if pkg_logs_in "$work" "$sup"; then ok "after approval: support user's command runs"; else
        fail "after approval: support user's command runs"; sed 's/^/#   /' "$work/ssh.out"; fi
    check "  ... recorded by the setgid hook in /var/log/lockbox/sessions" \
        sh -c "ls /var/log/lockbox/sessions | grep -q -- '-$sup-'"
    check "  ... recordings 0640, group lockbox-rec" sh -c "[ -n \"\$(ls /var/log/lockbox/sessions | grep -- '-$sup-')\" ] &&
        [ -z \"\$(find /var/log/lockbox/sessions -name '*-$sup-*' ! -perm 0640)\" ] &&
        [ -z \"\$(find /var/log/lockbox/sessions -name '*-$sup-*' ! -group lockbox-rec)\" ]"
    check "root logs in alongside" pkg_logs_in "$work" root
    pkg_sshd_stop
    check "audit log verifies" quiet pkg_ctl "$admin_tok" audit verify
    host_check "enrolled, broker up"
    check "  ... the broker accepts the host" grep -q "^ok: broker $PKG_BROKER_URL accepts this host's certificate as host lbxpkg-node$" "$work/check.out"
    check "  ... the broker's key is trusted" grep -q "^ok: trusted_keys /etc/lockbox/keys: 1 key(s), the broker's signing key .* among them$" "$work/check.out"
    check "  ... sshd's Match tried with the support user" grep -q "^ok: sshd: support user $sup gets ForceCommand /usr/libexec/lockbox/lockbox-session, forwarding off$" "$work/check.out"
    # An earlier file's Match for the group takes ForceCommand first (sshd keeps the first value).
    tap_cleanup "rm -f /etc/ssh/sshd_config.d/00-lbxtest.conf"
    printf 'Match Group lockbox-support\n    ForceCommand /bin/true\n' >/etc/ssh/sshd_config.d/00-lbxtest.conf
    host_check "Match block shadowed by an earlier one" "sshd does not apply the lockbox Match block to $sup"
    rm -f /etc/ssh/sshd_config.d/00-lbxtest.conf
    quiet pam-auth-update --disable lockbox
    host_check "PAM profile disabled" "PAM profile lockbox not enabled in common-account common-session"
    quiet pam-auth-update --enable lockbox
    mv /etc/lockbox/keys "$work/keys.moved" && mkdir -m 755 /etc/lockbox/keys
    host_check "trusted keys empty" "trusted_keys /etc/lockbox/keys: .*no trusted keys"
    rmdir /etc/lockbox/keys && mv "$work/keys.moved" /etc/lockbox/keys
    pkg_broker_stop
    host_check "broker down" "broker $PKG_BROKER_URL: broker unreachable"
fi

lockout_safe "broker down"
support_refused "broker down"

echo "no_such_option = 1" >>/etc/lockbox/host.conf
host_check "broken host.conf" "host.conf:[0-9]+: unknown key 'no_such_option'"
lockout_safe "broken host.conf"
support_refused "broken host.conf"
cp "$work/host.conf.good" /etc/lockbox/host.conf

mv /etc/lockbox/host.key "$work/host.key.moved"
lockout_safe "host key missing"
support_refused "host key missing"
mv "$work/host.key.moved" /etc/lockbox/host.key

# --- removed, then purged -----------------------------------------------------------------
check "dpkg -r lockbox-host" quiet dpkg -r lockbox-host
check "removed: PAM files byte-for-byte as before" pkg_pam_unchanged "$snap"
check "removed: snippet gone" test ! -e /etc/ssh/sshd_config.d/lockbox.conf
lockout_safe "removed"
check "dpkg --purge all three" quiet dpkg --purge $PKG_NAMES
check "purged: statoverride gone" sh -c "! dpkg-statoverride --list /usr/libexec/lockbox/lockbox-session"
check "purged: PAM files byte-for-byte as before" pkg_pam_unchanged "$snap"
lockout_safe "purged"

# --- and the machine restored --------------------------------------------------------------
userdel "$sup"
pkg_restore "$snap"
check "restored: /var/lib/pam byte-for-byte" sh -c "for f in $snap/varlibpam/*; do
    cmp -s \$f /var/lib/pam/\${f##*/} || exit 1; done"
check "restored: sshd_config.d as before" sh -c "ls /etc/ssh/sshd_config.d | cmp -s - $snap/snippets"
check "restored: no lockbox group, user or directory the test made" quiet sh -c "while read -r w n; do
    case \$w in user) ! getent passwd \$n ;; group) ! getent group \$n ;; *) [ ! -e \$w ] ;; esac ||
    exit 1; done <$snap/absent"
check "restored: statoverrides as before" sh -c "dpkg-statoverride --list | cmp -s - $snap/statoverride"

tap_done
