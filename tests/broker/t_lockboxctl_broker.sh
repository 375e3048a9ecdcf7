#!/bin/sh
# lockboxctl against a real broker: settings from a config file or the environment, human
# tables and --json, exit codes, the whole engineer/approver/admin flow.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
CTL=$BENV_BUILD/lockboxctl
benv_init
benv_start || { fail "lockboxd starts"; tap_done; exit 1; }
benv_admin
A() { benv_ctl admin "$@"; }
check "admin: tenant create" A tenant create contoso --name Contoso
check "admin: subscription create" A subscription create prod --tenant contoso
check "admin: host create" A host create node-7 --tenant contoso --subscription prod
check "admin: host create (second)" A host create node-8 --tenant contoso --subscription prod
check "admin: group create" A group create web --tenant contoso --subscription prod
check "admin: group add" A group add web node-8
check "admin: identity create with login and email" A identity create alice --login support-alice --email alice@example.test
check "admin: identity create" A identity create carol
check "admin: role assign engineer" A role assign alice engineer global
check "admin: role assign owner" A role assign carol owner subscription:prod
A role assign carol owner management-group:mg1 2>"$BENV_DIR/err"; rc=$?
check "management group: exit 1 with the seeds' message" test $rc -eq 1 -a -n "$(grep 'management groups are not supported' "$BENV_DIR/err")"
BENV_TOKEN_alice=$(A api-token create alice --label laptop 2>/dev/null)
BENV_TOKEN_carol=$(A api-token create carol 2>/dev/null)
check "api-token create prints the secret once" test "${#BENV_TOKEN_alice}" -eq 47
check "tenant list shows the tenant" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_admin $CTL tenant list | grep -q '^contoso  *Contoso'"
check "--json gives the broker's JSON" test "$(A --json host list | benv_json 'len(j["hosts"])')" = 2
check "policy set" A policy set subscription:prod --request-ttl 12h --approvals 1
check "policy get shows it" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_admin $CTL policy get subscription:prod | grep -q '^request ttl  *43200 s'"
A policy set subscription:prod --access-duration 9h 2>/dev/null
check "policy over 8 h: refused with exit 1" test $? -eq 1

out=$(benv_ctl alice request create --host node-7 --ticket INC-1 --reason "disk full" --duration 2h)
check "request create prints the id" test "${out%% *}" = LBX-1
benv_ctl alice request create --group web --ticket INC-2 --reason r --duration 1h >/dev/null
check "request create for a host group" test $? -eq 0
benv_ctl alice request create --host node-7 --ticket INC-1 --reason r --duration 9h 2>/dev/null
check "a duration over 8 h: exit 1" test $? -eq 1
benv_ctl alice request create --host node-7 2>/dev/null
check "missing options: exit 2" test $? -eq 2
benv_ctl alice request wait LBX-1 --timeout 1s >/dev/null
check "request wait on a pending request: exit 7" test $? -eq 7
check "approver list shows pending requests" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_carol $CTL list | grep -c '^LBX-' | grep -qx 2"
check "show has the reason" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_carol $CTL show LBX-1 | grep -q '^reason  *disk full'"
( sleep 1; benv_ctl carol approve LBX-1 --comment "go" >/dev/null ) &
ap=$!
out=$(benv_ctl alice request wait LBX-1 --timeout 20s); rc=$?
wait $ap
check "request wait returns when approved: exit 0" test $rc -eq 0 -a "$out" = "LBX-1 approved"
benv_ctl carol approve LBX-1 2>/dev/null
check "approving twice: exit 6 (conflict)" test $? -eq 6
benv_ctl alice approve LBX-2 2>/dev/null
check "the requester approving: exit 4 (not allowed)" test $? -eq 4
benv_ctl carol show LBX-77 2>/dev/null
check "unknown id: exit 5" test $? -eq 5
check "deny" benv_ctl carol deny LBX-2 --comment "not now"
check "revoke" benv_ctl carol revoke LBX-1 --comment done
check "list --all shows the last 28 days" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_carol $CTL list --all | grep -c '^LBX-' | grep -qx 2"
check "list (pending) is empty now" test "$(benv_ctl carol --json list | benv_json 'len(j["requests"])')" = 0
check "request status --json" test "$(benv_ctl alice --json request status LBX-1 | benv_json 'j["status"]')" = revoked

# Settings from a private config file instead of the environment.
printf 'url = %s\nca = %s\ntoken = %s\n' "$BENV_URL" "$BENV_DIR/certs/ca.crt" "$BENV_TOKEN_carol" >"$BENV_DIR/ctl.conf"
chmod 600 "$BENV_DIR/ctl.conf"
out=$(env -u LOCKBOX_URL -u LOCKBOX_TOKEN -u LOCKBOX_CA $CTL --config "$BENV_DIR/ctl.conf" whoami)
check "config file: whoami" test "${out%% *}" = carol
chmod 644 "$BENV_DIR/ctl.conf"
env -u LOCKBOX_TOKEN $CTL --config "$BENV_DIR/ctl.conf" whoami 2>/dev/null
check "a readable config file holding a token is refused: exit 2" test $? -eq 2
LOCKBOX_URL=https://127.0.0.1:1 LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=x $CTL whoami 2>/dev/null
check "broker unreachable: exit 3" test $? -eq 3
LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$BENV_DIR/certs/ca.crt LOCKBOX_TOKEN=wrong $CTL whoami 2>/dev/null
check "wrong token: exit 4" test $? -eq 4
LOCKBOX_URL=http://127.0.0.1:$BENV_PORT LOCKBOX_CA=$BENV_DIR/certs/ca.crt $CTL whoami 2>/dev/null
check "plain http is refused: exit 2" test $? -eq 2
env -u LOCKBOX_URL -u LOCKBOX_CA HOME=$BENV_DIR $CTL whoami 2>/dev/null
check "no settings at all: exit 2" test $? -eq 2
check "role list" A role list
check "role remove" A role remove 2
check "identity disable" A identity disable alice
benv_ctl alice whoami 2>/dev/null
check "a disabled identity: exit 4" test $? -eq 4
tid=$(A --json api-token list | benv_json '[t["id"] for t in j["api_tokens"] if t["identity"]=="carol"][0]')
check "api-token revoke" A api-token revoke "$tid"
benv_ctl carol whoami 2>/dev/null
check "a revoked token: exit 4" test $? -eq 4
benv_stop
tap_done
