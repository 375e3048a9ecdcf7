#!/bin/sh
# Who is a support user, through a real sshd (its own PAM service, pam_lockbox.so, the hook):
# a case variant of a support login (sshd with an NSS shim folding case, as sssd with AD does)
# and a second passwd name on a support uid are refused with a line that names the account,
# the broker is never asked for them, and the canonical login with a grant works.
. tests/support/tap.sh
. tests/support/hostgate_env.sh

hg_fake_pair || { fail "setup"; tap_done; exit 1; }
A=lbxe2e${HG_ID}a
UPPER=$(echo "$S" | tr a-z A-Z)
# The alias shares S's uid and home (so its key is S's), in no support group of its own.
useradd -o -u "$(id -u "$S")" -g "$(id -g "$N")" -d "$(getent passwd "$S" | cut -d: -f6)" -M \
    -s /bin/bash "$A" || fail "useradd $A"
tap_cleanup "userdel $A"
HG_SSHD_ENV="LD_PRELOAD=$(hg_nss_preload) LBX_NSS_FOLD=1" hg_sshd_start || fail "sshd"
hg_grant "$S" 1h
: >"$HG/broker/requests"
asked() { grep -c "\"login\":\"$1\"" "$HG/broker/requests"; }

out=$(hg_ssh "$UPPER" 'echo in' 2>&1 </dev/null)
check "control: sshd resolved $UPPER to $S's account (its key accepted)" \
    grep -q "Accepted key .* found at $(getent passwd "$S" | cut -d: -f6)/" "$HG/sshd.log"
check "case variant $UPPER of a support login: refused" sh -c "echo '$out' | grep -q 'auth: denied' && ! echo '$out' | grep -q '^in$'"
check "  ... the banner names the account to use" sh -c "echo '$out' | grep -q 'support accounts log in as $S'"
out=$(hg_ssh "$A" 'echo in' 2>&1 </dev/null)
check "second name $A on the support uid: refused" sh -c "echo '$out' | grep -q 'auth: denied' && ! echo '$out' | grep -q '^in$'"
check "  ... the banner names the account to use" sh -c "echo '$out' | grep -q 'support accounts log in as $S'"
check "the broker was asked for neither" test "$(asked "$UPPER")$(asked "$A")$(asked "$S")" = 000
check "no process of the support uid was left running" hg_no_procs "$(id -u "$S")"
out=$(hg_ssh "$S" 'echo in' 2>&1 </dev/null)
check "control: the canonical login with its grant gets in" sh -c "echo '$out' | grep -q '^in$'"
check "  ... and the broker was asked for it" test "$(asked "$S")" -ge 1
tap_done
