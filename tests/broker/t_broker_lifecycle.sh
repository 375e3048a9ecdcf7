#!/bin/sh
# The request lifecycle against a real broker: approver snapshot, self-approval, N approvals,
# internal review, deny is final, revoke, management-group refusal, no eligible approver,
# expiry and access end driven by the broker's timers (audited), lockbox off.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
create() { benv_api "$1" POST /v1/requests "{\"host\":\"$2\",\"ticket\":\"T-1\",\"reason\":\"r\",\"duration\":${3:-3600}}" | field id; }
act() { benv_api "$1" POST "/v1/requests/$2/$3" '{"comment":"c"}' >/dev/null; benv_status; }
status() { benv_api admin GET "/v1/requests/$1" | field status; }
policy() { benv_api admin PUT "/v1/policies/$1" "$2" >/dev/null; benv_status; }
token_code() { benv_host_api "$1" POST /v1/host/token "{\"host\":\"$1\",\"login\":\"$2\"}" | field error; }
events() { benv_sql "SELECT count(*) FROM audit WHERE action='$1' AND json_extract(body,'\$.request_id')='$2'"; }

# Olga is an engineer and an owner of prod: she is left out of her own request's approvers.
benv__person olga support-olga "" engineer global
benv_api admin POST /v1/roles '{"identity":"olga","role":"owner","scope":"subscription:prod"}' >/dev/null
id=$(create olga node-7)
out=$(benv_api admin GET "/v1/requests/$id")
check "the requester is not among the snapshotted approvers" test "$(echo "$out" | benv_json 'j["approvers"]')" = '["carol", "dave"]'
check "self-approval is refused: 403" test "$(act olga "$id" approve)" = 403
check "self-approval is audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='decision_refused'")" -eq 1
benv__person paul "" "" owner subscription:prod
check "an owner assigned after creation cannot approve" test "$(act paul "$id" approve)" = 403
check "another tenant's owner does not even see it: 404" test "$(act fred "$id" approve)" = 404
check "an engineer cannot approve" test "$(act bob "$id" approve)" = 404
check "an approver denies: 200" test "$(act carol "$id" deny)" = 200
check "deny is final: approve after deny is 409" test "$(act dave "$id" approve)" = 409
check "deny is final: status denied" test "$(status "$id")" = denied
check "the host is told: denied" test "$(token_code node-7 support-olga)" = denied
check "the denial is audited once" test "$(events request_denied "$id")" -eq 1
check "the host is told the approver's reason, for the engineer's screen" \
    test "$(benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-olga"}' | field message)" = "$id was denied by carol: c"
# A reason longer than the host's message: cut at a whole character wherever the cut falls (one
# engineer's message ends on an odd byte, the other's on an even one).
for who in quinn rita; do
    benv__person "$who" "support-$who" "" engineer global
    [ "$who" = quinn ] && pad="" || pad=x
    rid=$(create "$who" node-7)
    benv_api carol POST "/v1/requests/$rid/deny" "{\"comment\":\"$pad$(python3 -c 'print("\u00e9" * 500)')\"}" >/dev/null
    benv_host_api node-7 POST /v1/host/token "{\"host\":\"node-7\",\"login\":\"support-$who\"}" >"$BENV_DIR/deny-$who.json"
    check "a long reason in two-byte characters (prefix '$pad'): the refusal reads it in whole characters, within what a host keeps (255 bytes)" \
        python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["message"]
assert m.startswith(sys.argv[2] + " was denied by carol: " + sys.argv[3] + "\u00e9") and set(m.split(": ", 1)[1].lstrip("x")) == {"\u00e9"} and len(m.encode()) < 256, m' \
        "$BENV_DIR/deny-$who.json" "$rid" "$pad"
done

# N distinct approvals.
check "policy: 2 approvals on prod" test "$(policy subscription:prod '{"approvals_required":2}')" = 201
id=$(create alice node-7)
check "first approval: 200" test "$(act carol "$id" approve)" = 200
check "after one of two approvals: still pending" test "$(status "$id")" = pending
check "the same approver twice: 409" test "$(act carol "$id" approve)" = 409
check "a partial approval is audited" test "$(events approval_recorded "$id")" -eq 1
check "the host still waits" test "$(token_code node-7 support-alice)" = pending
check "second distinct approval: 200" test "$(act dave "$id" approve)" = 200
check "two approvals: approved" test "$(status "$id")" = approved
out=$(benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}')
check "the host gets a token" test "$(benv_status)" = 200
check "revoke by the other approver: 200" test "$(act dave "$id" revoke)" = 200
check "revoked: the host is told" test "$(token_code node-7 support-alice)" = revoked
check "revoke twice: 409" test "$(act carol "$id" revoke)" = 409
check "revocation audited once" test "$(events grant_revoked "$id")" -eq 1
check "policy: 5 approvals but only 4 owners" test "$(policy subscription:prod '{"approvals_required":5}')" = 201
benv_api bob POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":60}' >/dev/null
check "more approvals required than approvers exist: 403" test "$(benv_status)" = 403

# Internal review: a support manager first, then the customer.
policy subscription:prod '{"internal_review":true}' >/dev/null
id=$(create alice node-7)
check "internal review first" test "$(status "$id")" = internal-review
out=$(benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}')
check "the host is told a support manager must approve" test "$(echo "$out" | field awaiting)" = "support manager (mike)"
check "an owner cannot pass the internal review" test "$(act carol "$id" approve)" = 403
check "the support manager passes it" test "$(act mike "$id" approve)" = 200
check "then pending for the customer" test "$(status "$id")" = pending
check "the review is audited" test "$(events internal_review_approved "$id")" -eq 1
check "the manager cannot also approve for the customer" test "$(act mike "$id" approve)" = 403
check "the owner approves" test "$(act carol "$id" approve)" = 200
check "approved after review and consent" test "$(status "$id")" = approved
policy subscription:prod '{}' >/dev/null

# Tenant scope: a host outside any subscription is approved by the tenant's global admins.
id=$(create alice node-9)
out=$(benv_api admin GET "/v1/requests/$id")
check "tenant scope: the approvers are the global administrators" test "$(echo "$out" | benv_json 'j["approvers"]')" = '["gina"]'
check "a subscription owner does not see tenant scope: 404" test "$(act carol "$id" approve)" = 404
check "the global admin approves" test "$(act gina "$id" approve)" = 200

# Role assignments scoped to management groups are refused, as in the seeds.
out=$(benv_api admin POST /v1/roles '{"identity":"carol","role":"owner","scope":"management-group:mg1"}')
check "management-group assignment: 400" test "$(benv_status)" = 400
check "management-group assignment: clear message" test "${out#*management groups are not supported}" != "$out"
check "the refusal is audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='role_refused'")" -eq 1
benv_api admin POST /v1/roles '{"identity":"carol","role":"owner","scope":"tenant:contoso"}' >/dev/null
check "owner on a tenant is refused" test "$(benv_status)" = 400

# No eligible approver.
benv_api admin POST /v1/tenants '{"id":"lonely"}' >/dev/null
benv_api admin POST /v1/hosts '{"id":"lone-1","tenant":"lonely"}' >/dev/null
out=$(benv_api alice POST /v1/requests '{"host":"lone-1","ticket":"T","reason":"r","duration":60}')
check "no eligible approver: 403" test "$(benv_status)" = 403
check "no eligible approver: said clearly" test "${out#*no eligible approver}" != "$out"
check "and audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='request_refused'")" -ge 1
check "nothing was created" test "$(benv_sql "SELECT count(*) FROM requests WHERE host='lone-1'")" -eq 0

# Durations are capped by policy and by the 8 h hard cap.
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":"8h1s"}' >/dev/null
check "a duration over 8 h: 400" test "$(benv_status)" = 400
policy subscription:prod '{"access_duration":3600}' >/dev/null
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":"2h"}' >/dev/null
check "a duration over the policy's maximum: 400" test "$(benv_status)" = 400
check "a policy over 8 h is refused" test "$(policy subscription:prod '{"access_duration":28801}')" = 400

# Timers: unanswered requests expire, grants end — as audited transitions.
policy subscription:prod '{"request_ttl":2}' >/dev/null
exp_id=$(create bob node-7)
end_id=$(create olga node-7 2)
act carol "$end_id" approve >/dev/null
sleep 4
check "an unanswered request expires on the broker's clock" test "$(benv_sql "SELECT status FROM requests WHERE id=${exp_id#LBX-}")" = expired
check "the expiry is audited, by the broker" test "$(benv_sql "SELECT json_extract(body,'\$.actor') FROM audit WHERE action='request_expired' AND json_extract(body,'\$.request_id')='$exp_id'")" = broker
check "approving an expired request: 409" test "$(act carol "$exp_id" approve)" = 409
check "the host is told: expired" test "$(token_code node-7 support-bob)" = expired
check "a grant past its access end is ended in the store" test "$(benv_sql "SELECT status FROM requests WHERE id=${end_id#LBX-}")" = ended
check "the end is audited once" test "$(events access_ended "$end_id")" -eq 1
out=$(benv_host_api node-7 GET "/v1/host/grants/G-${end_id#LBX-}")
check "grant status: ended" test "$(echo "$out" | field status)" = ended
check "the host is told: ended" test "$(token_code node-7 support-olga)" = ended
ttl=$(benv_sql "SELECT request_expiry - created FROM requests WHERE id=${exp_id#LBX-}")
check "request_expiry = created + policy TTL" test "$ttl" -eq 2
policy subscription:prod '{}' >/dev/null
id=$(create alice node-7)
ttl=$(benv_sql "SELECT request_expiry - created FROM requests WHERE id=${id#LBX-}")
check "default request TTL is 4 days" test "$ttl" -eq 345600

# Lockbox off: no consent needed, but a capped grant, audited.
check "policy: lockbox off on fabrikam" test "$(policy tenant:fabrikam '{"lockbox":false,"access_duration":600}')" = 201
out=$(benv_host_api fab-1 POST /v1/host/token '{"host":"fab-1","login":"support-alice"}')
check "lockbox off: a token without a request" test "$(benv_status)" = 200
tok=$(echo "$out" | field token)
claims=$($BENV_BUILD/lockboxctl token verify --key "$BENV_DIR/signing/signing.pub" --iss lockbox-test --aud fab-1 --sub support-alice "$tok")
check "lockbox off: the grant is capped by the policy (600 s)" test "$(echo "$claims" | benv_json 'j["exp"]-j["iat"]')" -le 600
check "lockbox off: audited as auto-approved" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='request_auto_approved'")" -eq 1
benv_host_api fab-1 POST /v1/host/token '{"host":"fab-1","login":"support-alice"}' >/dev/null
check "lockbox off: the next login reuses the active grant" test "$(benv_sql "SELECT count(*) FROM requests WHERE host='fab-1'")" -eq 1
check "every token issue is audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='token_issued' AND json_extract(body,'\$.host')='fab-1'")" -eq 2
benv_stop
tap_done
