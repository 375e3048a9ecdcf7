#!/bin/sh
# The packaged sshd snippet, PAM profile and systemd unit, checked against the real sshd, the
# real Linux-PAM (through pam_wrapper, so the system PAM stack is never touched) and systemd's
# own analyzer. Nothing is installed: the snippet and profile are read from build/packaging.
#   - the snippet gives support users every hardened setting and leaves everyone else's
#     effective sshd configuration byte-for-byte unchanged;
#   - the PAM profile skips the lockbox module for non-support users, so a missing or failing
#     module can never refuse them, and fails closed for support users.
. tests/support/tap.sh
BUILD=${BUILD:-build}
GEN=$BUILD/packaging
SSHD=/usr/sbin/sshd
PWRAP=/usr/lib/$(cc -print-multiarch)/libpam_wrapper.so

work=$(mktemp -d /tmp/lbxpkg-cfg.XXXXXX)
tap_cleanup "rm -rf $work"
tap_privsep_dir # sshd -t/-T insist on it

grp=lbxpkgc$$
sup=lbxpkgcs$$
adm=lbxpkgca$$
tap_cleanup "userdel $sup; userdel $adm; groupdel $grp"
groupadd "$grp" && useradd -M -s /bin/sh -G "$grp" "$sup" && useradd -M -s /bin/sh "$adm" ||
    { fail "test users"; tap_done; exit 1; }

# --- sshd snippet ------------------------------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
sed "s/lockbox-support/$grp/" "$GEN/sshd-lockbox.conf" >"$work/snippet.conf"
printf 'HostKey %s\nListenAddress 127.0.0.1:22\nUsePAM yes\n' "$work/hostkey" >"$work/base"
cp "$work/base" "$work/with"
echo "Include $work/snippet.conf" >>"$work/with"

check "sshd -t accepts the snippet" $SSHD -t -f "$work/with"
effective() { $SSHD -T -f "$1" -C "user=$2,host=localhost,addr=127.0.0.1" 2>&1; }
effective "$work/with" "$sup" >"$work/sup.T"
for setting in "forcecommand /usr/.*/lockbox/lockbox-session" "disableforwarding yes" \
    "allowtcpforwarding no" "allowstreamlocalforwarding no" "allowagentforwarding no" \
    "x11forwarding no" "permittunnel no" "permituserrc no" "permitlisten none" \
    "permitopen none" "unusedconnectiontimeout 300" "clientaliveinterval 15"; do
    check "support user gets '$setting'" grep -qx "$setting" "$work/sup.T"
done
effective "$work/base" "$adm" >"$work/adm.base"
effective "$work/with" "$adm" >"$work/adm.with"
check "admin's effective sshd config is unchanged by the snippet" cmp -s "$work/adm.base" "$work/adm.with"
check "admin gets no ForceCommand" grep -qx "forcecommand none" "$work/adm.with"

# PermitUserEnvironment is why the snippet cannot carry every DESIGN setting inside Match.
cp "$work/snippet.conf" "$work/pue.conf"
echo "    PermitUserEnvironment no" >>"$work/pue.conf"
sed "s|$work/snippet.conf|$work/pue.conf|" "$work/with" >"$work/with-pue"
check_fails "sshd refuses PermitUserEnvironment inside Match (so it is not there)" \
    $SSHD -t -f "$work/with-pue"
sshd_T_has() { $SSHD -T -f "$1" 2>/dev/null | grep -qx "$2"; }
check "the global default is PermitUserEnvironment no" \
    sshd_T_has "$work/with" "permituserenvironment no"

echo "garbage-directive yes" >>"$work/snippet.conf"
check_fails "sshd -t notices a broken snippet (what lockbox-host-setup relies on)" \
    $SSHD -t -f "$work/with"

# --- PAM profile -------------------------------------------------------------------------
# The Account: and Session: lines of the profile, with the group renamed and pam_lockbox.so
# replaced by a stand-in: pam_deny.so (a module that refuses) or a module that does not exist.
profile_stack() { # type stand-in
    awk -v sect="$1:" '/^[A-Z]/ { on = ($0 == sect); next } on && NF { sub(/^\t/, ""); print }' \
        packaging/pam/lockbox |
        sed -e "s/lockbox-support/$grp/" -e "s/pam_lockbox.so/$2/" -e "s/^/$(echo "$1" |
            tr 'A-Z' 'a-z') /"
}
pam_try() { # service user operation
    LD_PRELOAD=$PWRAP PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$work/pam pamtester "$1" "$2" "$3" \
        >/dev/null 2>&1
}
mkdir -p "$work/pam"
for standin in pam_deny.so pam_lbxpkg_missing.so; do
    { profile_stack Account "$standin"; echo "account required pam_permit.so"
      profile_stack Session "$standin"; echo "session required pam_permit.so"; } >"$work/pam/svc"
    check "profile: $standin is the module line" grep -q "required[[:space:]]*$standin" "$work/pam/svc"
    check "account: non-support user passes ($standin)" pam_try svc "$adm" acct_mgmt
    check_fails "account: support user refused ($standin)" pam_try svc "$sup" acct_mgmt
    check "session: non-support user opens ($standin)" pam_try svc "$adm" open_session
    check_fails "session: support user refused ($standin)" pam_try svc "$sup" open_session
done

# --- systemd unit ------------------------------------------------------------------------
cp "$GEN/lockboxd.service" "$work/lockboxd.service"
exposure=$(systemd-analyze security --offline=yes "$work/lockboxd.service" 2>/dev/null |
    sed -n 's/.*Overall exposure level for lockboxd.service: \([0-9.]*\).*/\1/p')
diag "systemd-analyze exposure: $exposure"
check "unit exposure level below 2.0 (systemd-analyze security)" \
    awk -v e="$exposure" 'BEGIN { exit !(e != "" && e < 2.0) }'
for directive in "User=lockbox" "NoNewPrivileges=yes" "ProtectSystem=strict" "PrivateTmp=yes" \
    "ProtectHome=yes" "CapabilityBoundingSet=" "SystemCallFilter=@system-service" \
    "StateDirectory=lockbox"; do
    check "unit has $directive" grep -qx "$directive" "$work/lockboxd.service"
done

tap_done
