#!/bin/sh
# Who is a support user, through real libpam (pam_driver) and pam_lockbox.so: decided on the
# account NSS resolves (its canonical name and uid), never on the name as typed, and refused
# whenever NSS cannot tell — a group too large for a fixed buffer, a directory that times out,
# a case variant of a support login, a second name on a support uid. Root is never touched.
. tests/support/tap.sh
. tests/support/hostgate_env.sh
DRIVER=$BUILD_ABS/tests/pam_lockbox/pam_driver

hg_fake_pair || { fail "setup"; tap_done; exit 1; }
A=lbxe2e${HG_ID}a
BIG=lbxe2e${HG_ID}big
SU=$(id -u "$S")
UPPER=$(echo "$S" | tr a-z A-Z)
hg_pam_service lbx
pam() { $DRIVER "$HG/pam" "$@" 2>&1; }
# nss ENV... -- ARGS: the driver with the NSS shim and its settings
nss() {
    _env=""
    while [ "$1" != -- ]; do _env="$_env $1"; shift; done
    shift
    # shellcheck disable=SC2086
    env LD_PRELOAD="$(hg_nss_preload)" $_env $DRIVER "$HG/pam" "$@" 2>&1
}
result() { echo "$1" | sed -n "s/^$2: \([A-Z_]*\) .*/\1/p" | head -1; }
asked() { grep -c "\"login\":\"$1\"" "$HG/broker/requests" 2>/dev/null; }

# -- controls: without a grant a support user is refused, everyone else passes
out=$(pam lbx "$S" account)
check "control: support user without a grant refused" test "$(result "$out" account)" = PAM_PERM_DENIED
out=$(pam lbx "$N" account open close)
check "control: other user passes untouched" test "$(result "$out" account)$(result "$out" open)" = PAM_SUCCESSPAM_SUCCESS
out=$(nss -- lbx "$S" account)
check "control: the NSS shim alone changes nothing" test "$(result "$out" account)" = PAM_PERM_DENIED

# -- a support group of 2,000 members (an entry far beyond 16 KiB)
groupadd "$BIG" || fail "groupadd $BIG"
tap_cleanup "usermod -g $N $N; groupdel $BIG"
usermod -aG "$BIG" "$S"
hg_group_fill "$BIG" 2000
check "the big group has 2001 members and a $(getent group "$BIG" | wc -c)-byte entry" \
    test "$(getent group "$BIG" | cut -d: -f4 | tr ',' '\n' | wc -l)" -eq 2001 -a "$(getent group "$BIG" | wc -c)" -gt 32768
hg_pam_service big support_group="$BIG"
out=$(pam big "$S" account)
check "2,000-member support group: its member refused without a grant" test "$(result "$out" account)" = PAM_PERM_DENIED
check "  ... with the broker's reason" sh -c "echo '$out' | grep -q 'no approved grant for $S'"
out=$(pam big "$N" account)
check "2,000-member support group: a non-member passes" test "$(result "$out" account)" = PAM_SUCCESS
hg_grant "$S" 1h
out=$(pam big "$S" account)
check "2,000-member support group: its member passes with a grant" test "$(result "$out" account)" = PAM_SUCCESS
hg_answer token 403 '{"error":"no_request","message":"no request"}'
# membership through the primary group of a big group
usermod -g "$BIG" "$N"
out=$(pam big "$N" account)
check "2,000-member support group: a member by primary group refused" test "$(result "$out" account)" = PAM_PERM_DENIED
usermod -g "$N" "$N"

# -- NSS cannot answer (an LDAP or sssd timeout): nobody but root passes unchecked
for err in 5:EIO 110:ETIMEDOUT 11:EAGAIN; do
    code=${err%%:*} name=${err#*:}
    out=$(nss LBX_NSS_FAIL="$HG_SUPPORT" LBX_NSS_ERRNO=$code -- lbx "$S" account)
    check "support group lookup fails ($name): support user refused" test "$(result "$out" account)" = PAM_PERM_DENIED
    out=$(nss LBX_NSS_FAIL="$HG_SUPPORT" LBX_NSS_ERRNO=$code -- lbx "$N" account)
    check "support group lookup fails ($name): other user refused (membership unknown)" test "$(result "$out" account)" = PAM_PERM_DENIED
    check "  ... told it is a lookup failure" sh -c "echo '$out' | grep -q 'cannot look up the account'"
    out=$(nss LBX_NSS_FAIL="$HG_SUPPORT" LBX_NSS_ERRNO=$code -- lbx root account open close)
    check "support group lookup fails ($name): root untouched" test "$(result "$out" account)$(result "$out" open)$(result "$out" close)" = PAM_SUCCESSPAM_SUCCESSPAM_SUCCESS
done
out=$(nss LBX_NSS_FAIL="$N" -- lbx "$N" account)
check "account lookup fails: refused" test "$(result "$out" account)" = PAM_PERM_DENIED
out=$(nss LBX_NSS_FAIL="$(id -u "$N")" -- lbx "$N" account)
check "uid lookup fails: refused" test "$(result "$out" account)" = PAM_PERM_DENIED
out=$(nss LBX_NSS_FAIL=root -- lbx root account)
check "root's own lookup fails: root untouched" test "$(result "$out" account)" = PAM_SUCCESS
out=$(nss LBX_NSS_FAIL="$HG_SUPPORT" -- lbx "$S" open)
check "support group lookup fails in the session phase: session error" test "$(result "$out" open)" = PAM_SESSION_ERR
# a broken configuration: the fallback groups are looked up the same way
chmod 0666 "$HG/host.conf"
out=$(nss LBX_NSS_FAIL="$HG_SUPPORT" -- lbx "$N" account)
check "unsafe config and a failing lookup: other user refused" test "$(result "$out" account)" = PAM_PERM_DENIED
out=$(pam lbx "$N" account)
check "unsafe config, lookups fine: other user untouched" test "$(result "$out" account)" = PAM_SUCCESS
chmod 0644 "$HG/host.conf"

# -- a case variant of a support login (case-insensitive directory: UPPER resolves to S)
: >"$HG/broker/requests"
hg_grant "$S" 1h
out=$(nss LBX_NSS_FOLD=1 -- lbx "$UPPER" account)
check "case variant $UPPER of a support login: refused" test "$(result "$out" account)" = PAM_PERM_DENIED
check "  ... told which name to use" sh -c "echo '$out' | grep -q 'support accounts log in as $S'"
check "  ... and the broker is not asked for either name" test "$(asked "$UPPER")$(asked "$S")" = 00
out=$(nss LBX_NSS_FOLD=1 -- lbx "$UPPER" open)
check "case variant: session refused" test "$(result "$out" open)" = PAM_SESSION_ERR
out=$(nss LBX_NSS_FOLD=1 -- lbx "$(echo "$N" | tr a-z A-Z)" account)
check "case variant of another login: untouched" test "$(result "$out" account)" = PAM_SUCCESS
out=$(nss LBX_NSS_FOLD=1 -- lbx "$S" account)
check "control: the canonical name with a grant passes, and the broker is asked for it" test "$(result "$out" account)$(asked "$S")" = PAM_SUCCESS1

# -- a second passwd name on the support uid (useradd -o), in no support group itself
useradd -o -u "$SU" -g "$(id -g "$N")" -M -s /bin/bash "$A" || fail "useradd $A"
tap_cleanup "userdel $A"
: >"$HG/broker/requests"
out=$(pam lbx "$A" account)
check "uid alias of a support account: refused" test "$(result "$out" account)" = PAM_PERM_DENIED
check "  ... told which name to use" sh -c "echo '$out' | grep -q 'support accounts log in as $S'"
check "  ... and the broker is not asked" test "$(asked "$A")$(asked "$S")" = 00
out=$(pam lbx "$A" open)
check "uid alias: session refused" test "$(result "$out" open)" = PAM_SESSION_ERR
out=$(pam lbx "$S" account)
check "control: the support account itself still passes with its grant" test "$(result "$out" account)" = PAM_SUCCESS
userdel "$A"

# -- leaks and memory errors on the grown buffers and the refusals
if [ -z "$HG_ASAN" ] && command -v valgrind >/dev/null; then
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
        "$DRIVER" "$HG/pam" big "$S" account account >"$HG/vg.out" 2>&1
    check "valgrind: 2,000-member group lookups clean" test $? -eq 0
    valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
        "$DRIVER" "$HG/pam" lbx "$UPPER" account >"$HG/vg.out" 2>&1
    check "valgrind: refusal path clean" test $? -eq 0
fi
tap_done
