#!/bin/sh
# Lockbox off spares the consent, never the role: an automatic grant goes only to an identity
# holding an engineer assignment on global or on the host's tenant. Everyone else with a login
# mapping (no role at all, another tenant's engineer, an owner, a removed or disabled engineer)
# is refused and gets no request. The audit event names the policy that allowed the grant.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
requests_on() { benv_sql "SELECT count(*) FROM requests WHERE host='$1'"; }
person() { # NAME LOGIN [ROLE SCOPE]
    benv_api admin POST /v1/identities "{\"name\":\"$1\",\"login\":\"$2\"}" >/dev/null
    [ -z "${3:-}" ] || benv_api admin POST /v1/roles "{\"identity\":\"$1\",\"role\":\"$3\",\"scope\":\"$4\"}" >/dev/null
}

benv_api admin PUT /v1/policies/tenant:fabrikam '{"lockbox":false,"access_duration":600}' >/dev/null
check "lockbox off for tenant fabrikam" test "$(benv_status)" = 201
person zoe support-zoe
person ivan support-ivan engineer tenant:contoso
person olga support-olga owner subscription:fab
person tess support-tess engineer tenant:fabrikam
person rita support-rita engineer tenant:fabrikam
person dan support-dan engineer tenant:fabrikam

# refused NAME LOGIN WHY: no token, the reason says so, no request made
refused() {
    out=$(benv_token fab-1 "$2")
    check "$1 ($3): 403 not_eligible" test "$(benv_status)$(echo "$out" | field error)" = 403not_eligible
    check "$1: no request made for it" test "$(benv_sql "SELECT count(*) FROM requests WHERE login='$2'")" -eq 0
}
refused zoe support-zoe "a login mapping and no role"
refused ivan support-ivan "an engineer of another tenant"
refused olga support-olga "the tenant's owner, not an engineer"
out=$(benv_token fab-1 support-zoe)
check "the refusal names the missing role" contains "$out" "no engineer role on global or tenant:fabrikam"
check "refusals are audited as token_refused/not_eligible" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='token_refused' AND json_extract(body,'\$.detail.result')='not_eligible'")" -ge 3

out=$(benv_token fab-1 support-tess)
check "an engineer of the host's tenant gets an automatic grant" test "$(benv_status)" = 200
ev=$(benv_sql "SELECT body FROM audit WHERE action='request_auto_approved' ORDER BY seq DESC LIMIT 1")
check "the audit event names the policy that allowed it" test "$(echo "$ev" | benv_json 'j["detail"]["policy"]')" = tenant:fabrikam
check "and the engineer role it used" test "$(echo "$ev" | benv_json 'j["detail"]["engineer_scope"]')" = tenant:fabrikam
out=$(benv_token fab-1 support-alice)
check "a global engineer gets one too" test "$(benv_status)" = 200
ev=$(benv_sql "SELECT body FROM audit WHERE action='request_auto_approved' ORDER BY seq DESC LIMIT 1")
check "... through the global role" test "$(echo "$ev" | benv_json 'j["detail"]["engineer_scope"]')" = global

# A subscription's own policy is named as such.
benv_api admin PUT /v1/policies/subscription:prod '{"lockbox":false}' >/dev/null
benv_token node-7 support-bob >/dev/null
check "lockbox off on subscription:prod: bob (global engineer) gets a grant" test "$(benv_status)" = 200
ev=$(benv_sql "SELECT body FROM audit WHERE action='request_auto_approved' ORDER BY seq DESC LIMIT 1")
check "the event names subscription:prod" test "$(echo "$ev" | benv_json 'j["detail"]["policy"]')" = subscription:prod
benv_token node-7 support-tess >/dev/null
check "tess, an engineer of fabrikam, gets nothing on contoso's node-7" test "$(benv_status)" = 403

# Losing the role or the identity loses the automatic grant.
rid=$(benv_sql "SELECT id FROM roles WHERE identity='rita'")
benv_api admin DELETE "/v1/roles/$rid" >/dev/null
refused rita support-rita "engineer role removed"
benv_api admin DELETE /v1/identities/dan >/dev/null
out=$(benv_token fab-1 support-dan)
check "a disabled engineer: 403 unknown_login" test "$(benv_status)$(echo "$out" | field error)" = 403unknown_login
check "the audit chain verifies" test "$(benv_audit_verify | grep -c 'audit chain OK')" -eq 1
benv_stop
tap_done
