#!/bin/sh
# People who lose their role or identity lose their access:
#  - an approver whose role was removed after the request was made can no longer approve or
#    deny it (snapshot ∩ current holders), nor can a disabled one;
#  - disabling an identity revokes its active grants (a host's reaper long-polling the grant
#    sees "revoked" at once) and cancels its open requests, all audited, in one transaction;
#  - API tokens expire (default 90 days, settable at creation, listed with their last use),
#    an expired one is a 401 that says so and is audited; a store from before expiries
#    existed is migrated (its tokens get 90 days from the upgrade).
# Runs on PostgreSQL too (t_broker_pg.sh).
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
role_id() { benv_sql "SELECT id FROM roles WHERE identity='$1' AND role='$2' AND removed IS NULL"; }
now() { date +%s; }

# --- 4a: snapshot ∩ current holders ---------------------------------------------------------
id=$(benv_request alice node-7)
check "carol and dave are snapshotted approvers of $id" \
    test "$(benv_api alice GET "/v1/requests/$id" | benv_json '",".join(j["approvers"])')" = carol,dave
benv_api admin DELETE "/v1/roles/$(role_id carol owner)" >/dev/null
check "carol's owner role is removed" test "$(benv_status)" = 204
out=$(benv_api carol POST "/v1/requests/$id/approve" '{}')
check "carol (role removed) can no longer approve: 403" test "$(benv_status)" = 403
check "... told why" contains "$out" "no longer holds the owner role on subscription:prod"
benv_api carol POST "/v1/requests/$id/deny" '{}' >/dev/null
check "... nor deny: 403" test "$(benv_status)" = 403
check "$id is still pending, with no approval recorded" \
    test "$(benv_request_status "$id")/$(benv_sql "SELECT count(*) FROM approvals WHERE request=${id#LBX-}")" = pending/0
check "the refusal is audited" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='decision_refused' AND json_extract(body,'\$.actor')='carol'")" -ge 2
benv_api admin POST /v1/roles '{"identity":"carol","role":"owner","scope":"subscription:prod"}' >/dev/null
benv_api dave POST "/v1/requests/$id/approve" '{}' >/dev/null
check "dave, still an owner, approves: 200" test "$(benv_status)" = 200
check "$id is approved" test "$(benv_request_status "$id")" = approved

# Internal review: a support manager who lost the role decides nothing either.
benv_api admin PUT /v1/policies/tenant:contoso '{"internal_review":true}' >/dev/null
benv_api admin POST /v1/identities '{"name":"max"}' >/dev/null
benv_api admin POST /v1/roles '{"identity":"max","role":"support-manager","scope":"global"}' >/dev/null
BENV_TOKEN_max=$(benv_api admin POST /v1/api-tokens '{"identity":"max"}' | field token)
rid=$(benv_request alice node-9)
check "$rid is in internal review" test "$(benv_request_status "$rid")" = internal-review
benv_api admin DELETE "/v1/roles/$(role_id max support-manager)" >/dev/null
benv_api max POST "/v1/requests/$rid/approve" '{}' >/dev/null
check "a support manager whose role was removed cannot pass the review: 403" test "$(benv_status)" = 403
benv_api mike POST "/v1/requests/$rid/approve" '{}' >/dev/null
check "mike, still a support manager, can: 200" test "$(benv_status)" = 200
benv_api admin PUT /v1/policies/tenant:contoso '{}' >/dev/null

# --- 4b: disabling an identity withdraws its access ------------------------------------------
g=$(benv_request bob node-7)
benv_api dave POST "/v1/requests/$g/approve" '{}' >/dev/null
p=$(benv_request bob node-9)
tok=$(benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-bob"}' | field grant_id)
check "bob's grant $tok is active and issues a token" test -n "$tok" -a "$(benv_status)" = 200
# The host's reaper long-polls its grant; the disabling must end that wait with "revoked".
benv_grant_poll node-7 "$tok"
sleep 1
t0=$(now)
benv_api admin DELETE /v1/identities/bob >/dev/null
check "disabling bob: 204" test "$(benv_status)" = 204
set -- $(benv_grant_poll_end)
check "the reaper's long-poll returned within 3 s" test $(($1 - t0)) -le 3
check "... with status revoked" test "$2" = revoked
check "bob's grant ($g) is revoked" test "$(benv_request_status "$g")" = revoked
check "bob's pending request ($p) is cancelled" test "$(benv_request_status "$p")" = cancelled
check "revoked by the admin who disabled bob, saying why" \
    test "$(benv_sql "SELECT revoked_by || '|' || revoke_comment FROM requests WHERE id=${g#LBX-}")" = "admin|identity bob disabled"
check "audited: grant_revoked for $g" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='grant_revoked' AND json_extract(body,'\$.request_id')='$g' AND json_extract(body,'\$.detail.reason')='identity_disabled'")" -eq 1
check "audited: request_cancelled for $p" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='request_cancelled' AND json_extract(body,'\$.request_id')='$p'")" -eq 1
check "audited: identity_disabled, withdrawing 2" \
    test "$(benv_sql "SELECT json_extract(body,'\$.detail.withdrawn') FROM audit WHERE action='identity_disabled' AND json_extract(body,'\$.detail.identity')='bob'")" = 2
out=$(benv_host_api node-7 GET "/v1/host/grants/$tok")
check "the grant reads revoked" test "$(echo "$out" | field status)" = revoked
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-bob"}' >/dev/null
check "no token for bob any more: 403" test "$(benv_status)" = 403
benv_api bob GET /v1/whoami >/dev/null
check "bob's API token: 401" test "$(benv_status)" = 401
benv_api gina POST "/v1/requests/$p/approve" '{}' >/dev/null
check "the cancelled request cannot be approved: 409" test "$(benv_status)" = 409
benv_api admin DELETE /v1/identities/bob >/dev/null
check "disabling twice: 404" test "$(benv_status)" = 404
check "alice's grant ($id) is untouched" test "$(benv_request_status "$id")" = approved

# --- 4c: API tokens expire -------------------------------------------------------------------
out=$(benv_api admin POST /v1/api-tokens '{"identity":"alice","label":"default"}')
t_def=$(echo "$out" | field id)
check "a token's default lifetime is 90 days" \
    test "$(benv_sql "SELECT expires - created FROM api_tokens WHERE id='$t_def'")" -eq 7776000
check "... and the answer says when it expires" test "$(echo "$out" | field expires)" -gt "$(($(now) + 7775000))"
out=$(benv_api admin POST /v1/api-tokens '{"identity":"alice","expires_in":"2h"}')
BENV_TOKEN_short=$(echo "$out" | field token)
t_short=$(echo "$out" | field id)
check "a lifetime given at creation (2h)" test "$(benv_sql "SELECT expires - created FROM api_tokens WHERE id='$t_short'")" -eq 7200
for bad in 0 59 -5 '"forever"' '"367d"' 31708801 true '"2h "'; do
    benv_api admin POST /v1/api-tokens "{\"identity\":\"alice\",\"expires_in\":$bad}" >/dev/null
    check "expires_in $bad: 400" test "$(benv_status)" = 400
done
benv_api short GET /v1/whoami >/dev/null
check "the 2h token works" test "$(benv_status)" = 200
check "its last use is recorded" test "$(benv_sql "SELECT last_used FROM api_tokens WHERE id='$t_short'")" -ge "$(($(now) - 5))"
benv_sql "UPDATE api_tokens SET expires = $(($(now) - 1)) WHERE id='$t_short'"
out=$(benv_api short GET /v1/whoami)
check "an expired token: 401" test "$(benv_status)" = 401
check "... that says it expired" contains "$out" "expired"
check "... audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused' AND json_extract(body,'\$.detail.reason')='API token $t_short has expired'")" -ge 1
out=$(benv_ctl admin api-token list)
check "api-token list shows expiry and last use" contains "$(echo "$out" | head -1)" "expires             last_used"
check "... with a date for a used token" test "$(echo "$out" | grep "^$t_short" | awk '{print $6}')" != "-"
out=$(benv_ctl admin api-token create alice --expires-in 1d 2>&1 >/dev/null)
check "lockboxctl api-token create --expires-in 1d says when" contains "$out" "expires 20"
check "... and the broker stored 1 day" \
    test "$(benv_sql "SELECT expires - created FROM api_tokens ORDER BY created DESC, id LIMIT 1" | sort -u | head -1)" -eq 86400
benv_ctl admin api-token create alice --expires-in 500d >/dev/null 2>&1
check "lockboxctl api-token create --expires-in 500d: refused" test $? -ne 0

# A store from before token expiry (schema 2): the upgrade gives its tokens 90 days.
benv_stop
benv_sql "DROP TABLE recordings"
benv_sql "ALTER TABLE api_tokens DROP COLUMN last_used"
benv_sql "ALTER TABLE api_tokens DROP COLUMN expires"
case ${BENV_DATABASE:-} in
    postgres*) benv_sql "DELETE FROM lockbox_schema WHERE version >= 3" ;;
    *) benv_sql "PRAGMA user_version = 2" ;;
esac
benv_start || fail "lockboxd starts on a schema-2 store"
benv_api alice GET /v1/whoami >/dev/null
check "after the migration an old token still works" test "$(benv_status)" = 200
check "... and expires 90 days from the upgrade" \
    test "$(benv_sql "SELECT min(expires) FROM api_tokens WHERE revoked IS NULL")" -ge "$(($(now) + 7775000))"
check "the audit chain verifies" test "$(benv_audit_verify | grep -c 'audit chain OK')" -eq 1
benv_stop
tap_done
