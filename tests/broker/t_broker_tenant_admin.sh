#!/bin/sh
# A tenant's global admin manages their own tenant's policy (tenant and its subscriptions) and
# its customer roles (owner, global-admin, auditor) through the API and lockboxctl — and nothing
# else: not another tenant's, not the provider's roles, not global scopes. Approvers, engineers
# and another tenant's people are refused (403, audited), and an unknown scope of another
# tenant is refused the same way as an existing one (no probing for names).
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
benv__person fiona "" "" global-admin tenant:fabrikam

# st WHO METHOD PATH [JSON] -> the HTTP status
st() { benv_api "$@" >/dev/null; benv_status; }
refused_before=$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused'")

# Policies: gina is global admin of contoso.
check "gina reads contoso's policy (200)" test "$(st gina GET /v1/policies/tenant:contoso)" = 200
check "gina sets contoso's policy (201)" \
    test "$(st gina PUT /v1/policies/tenant:contoso '{"request_ttl":7200,"approvals_required":1,"notify_email":false}')" = 201
check "gina sets a policy on contoso's subscription prod (201)" \
    test "$(st gina PUT /v1/policies/subscription:prod '{"access_duration":3600,"internal_review":false}')" = 201
check "the effective policy of prod is what she set" \
    test "$(benv_api admin GET /v1/policies/subscription:prod | benv_json '[j["effective"][k] for k in ("request_ttl","access_duration")]')" = "[7200, 3600]"
r=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-1","reason":"check","duration":"30m"}')
check "a new request on prod expires after her request TTL" \
    test "$(echo "$r" | benv_json 'j["request_expiry"]-j["created"]')" -eq 7200
check "a duration over her access duration is refused (400)" \
    test "$(st alice POST /v1/requests '{"host":"node-7","ticket":"T-2","reason":"long","duration":"2h"}')" = 400
check "the change is audited as hers, under contoso" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='policy_changed' AND json_extract(body,'\$.actor')='gina' AND json_extract(body,'\$.tenant')='contoso'")" -eq 2
check "the 8 h cap holds for her too (400)" \
    test "$(st gina PUT /v1/policies/tenant:contoso '{"access_duration":28801}')" = 400
check "a plain-http webhook is refused (400)" \
    test "$(st gina PUT /v1/policies/tenant:contoso '{"notify_webhook":"http://10.0.0.1/x"}')" = 400
check "unknown policy keys are refused (400)" \
    test "$(st gina PUT /v1/policies/tenant:contoso '{"tenant":"fabrikam"}')" = 400

benv_api admin PUT /v1/policies/tenant:fabrikam '{"request_ttl":600}' >/dev/null
for case in "GET /v1/policies/tenant:fabrikam" "PUT /v1/policies/tenant:fabrikam" \
    "PUT /v1/policies/subscription:fab" "GET /v1/policies/subscription:fab" \
    "PUT /v1/policies/tenant:no-such-tenant" "PUT /v1/policies/subscription:no-such-sub"; do
    set -- $case
    check "gina: $1 $2 -> 403 (another tenant's, or unknown: not told)" \
        test "$(st gina "$1" "$2" '{"lockbox":false}')" = 403
done
check "fabrikam's policy is unchanged" \
    test "$(benv_api admin GET /v1/policies/tenant:fabrikam | benv_json 'j["stored"]')" = '{"request_ttl": 600}'
check "a scope that is neither tenant nor subscription: 400" test "$(st gina PUT /v1/policies/global '{}')" = 400
for s in 'tenant:contoso/../fabrikam' 'tenant:contoso%00' 'tenant:' "tenant:$(printf 'x%.0s' $(seq 1 300))"; do
    got=$(st gina PUT "/v1/policies/$s" '{"lockbox":false}')
    case $got in 400|403|404) ok "gina PUT /v1/policies/$(printf '%.40s' "$s") -> $got, not applied" ;;
        *) fail "gina PUT /v1/policies/$s -> $got" ;; esac
done
check "fabrikam's policy is still unchanged" \
    test "$(benv_api admin GET /v1/policies/tenant:fabrikam | benv_json 'j["stored"]')" = '{"request_ttl": 600}'
list=$(benv_api gina GET /v1/policies | benv_json '[p["scope"] for p in j["policies"]]')
check "gina's policy list holds contoso's scopes only ($list)" \
    test "$list" = '["subscription:prod", "tenant:contoso"]'
check "fiona (fabrikam's global admin) sets fabrikam's policy (201)" \
    test "$(st fiona PUT /v1/policies/tenant:fabrikam '{"request_ttl":900}')" = 201
check "and not contoso's (403)" test "$(st fiona PUT /v1/policies/tenant:contoso '{"lockbox":false}')" = 403

# Everyone else: approvers, engineers, support managers, auditors, another tenant's owner.
for who in carol dave alice mike audrey fred; do
    check "$who: PUT contoso's policy -> 403" test "$(st "$who" PUT /v1/policies/tenant:contoso '{"lockbox":false}')" = 403
    check "$who: PUT prod's policy -> 403" test "$(st "$who" PUT /v1/policies/subscription:prod '{"lockbox":false}')" = 403
    check "$who: GET /v1/policies -> 403" test "$(st "$who" GET /v1/policies)" = 403
    check "$who: POST /v1/roles -> 403" \
        test "$(st "$who" POST /v1/roles "{\"identity\":\"$who\",\"role\":\"global-admin\",\"scope\":\"tenant:contoso\"}")" = 403
done
check "lockbox is still on for contoso" \
    test "$(benv_api admin GET /v1/policies/tenant:contoso | benv_json 'j["effective"]["lockbox"]')" = true

# Roles: the customer's roles on contoso's scopes.
benv__person olga "" "" "" ""
assign() { st gina POST /v1/roles "{\"identity\":\"$1\",\"role\":\"$2\",\"scope\":\"$3\"}"; }
check "gina makes olga an owner of prod (201)" test "$(assign olga owner subscription:prod)" = 201
check "and a global admin of contoso (201)" test "$(assign olga global-admin tenant:contoso)" = 201
check "and contoso's auditor (201)" test "$(assign olga auditor tenant:contoso)" = 201
for bad in "olga engineer tenant:contoso" "olga engineer global" "olga support-manager global" \
    "olga admin global" "gina admin global" "olga auditor global" "olga owner subscription:fab" \
    "olga global-admin tenant:fabrikam" "olga auditor tenant:fabrikam" \
    "olga owner subscription:no-such-sub" "olga global-admin tenant:no-such-tenant"; do
    set -- $bad
    check "gina may not assign $2 on $3 to $1 (403)" test "$(assign "$1" "$2" "$3")" = 403
done
check "none of those was stored" \
    test "$(benv_sql "SELECT count(*) FROM roles WHERE identity IN ('olga','gina') AND removed IS NULL AND (role IN ('engineer','support-manager','admin') OR scope='global' OR scope LIKE '%fab%')")" -eq 0
check "a role on a management group is refused as before (400)" \
    test "$(assign olga owner management-group:mg1)" = 400
scopes=$(benv_api gina GET /v1/roles | benv_json 'sorted(set(r["scope"] for r in j["roles"]))')
check "gina's role list holds contoso's scopes only ($scopes)" \
    test "$scopes" = '["subscription:prod", "tenant:contoso"]'
fab_role=$(benv_sql "SELECT id FROM roles WHERE identity='fred' AND removed IS NULL")
eng_role=$(benv_sql "SELECT id FROM roles WHERE identity='alice' AND removed IS NULL")
olga_owner=$(benv_sql "SELECT id FROM roles WHERE identity='olga' AND role='owner' AND removed IS NULL")
check "gina may not remove fred's fabrikam role (403)" test "$(st gina DELETE "/v1/roles/$fab_role")" = 403
check "nor alice's engineer role (403)" test "$(st gina DELETE "/v1/roles/$eng_role")" = 403
check "both are still in force" \
    test "$(benv_sql "SELECT count(*) FROM roles WHERE id IN ($fab_role,$eng_role) AND removed IS NULL")" -eq 2
check "she removes olga's owner role on prod (204)" test "$(st gina DELETE "/v1/roles/$olga_owner")" = 204
check "the assignments and the removal are audited as hers" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE json_extract(body,'\$.actor')='gina' AND action IN ('role_assigned','role_removed')")" -eq 4

# lockboxctl as gina: the same rules.
check "lockboxctl policy set tenant:contoso as gina" benv_ctl gina policy set tenant:contoso --approvals 1 --request-ttl 3h
out=$(benv_ctl gina policy get tenant:contoso 2>&1)
check "lockboxctl policy get as gina shows her TTL" sh -c 'echo "$1" | grep -q "^request ttl  *10800 s"' - "$out"
check_fails "lockboxctl policy set tenant:fabrikam as gina fails" benv_ctl gina policy set tenant:fabrikam --lockbox off
check "lockboxctl role assign olga owner subscription:prod as gina" benv_ctl gina role assign olga owner subscription:prod
check_fails "lockboxctl role assign olga owner subscription:fab as gina fails" benv_ctl gina role assign olga owner subscription:fab
out=$(benv_ctl gina role list 2>&1)
check "lockboxctl role list as gina shows olga and no fabrikam or global role" \
    sh -c 'echo "$1" | grep -q olga && ! echo "$1" | grep -qE "fab| global "' - "$out"

# A removed global-admin role ends the power at once.
gina_role=$(benv_sql "SELECT id FROM roles WHERE identity='gina' AND role='global-admin' AND removed IS NULL")
benv_api admin DELETE "/v1/roles/$gina_role" >/dev/null
check "without her role gina is refused (403)" test "$(st gina PUT /v1/policies/tenant:contoso '{"lockbox":false}')" = 403
check "olga, made contoso's global admin by her, keeps hers (201)" \
    test "$(st olga PUT /v1/policies/tenant:contoso '{"approvals_required":1}')" = 201
check "every refusal here is audited" \
    test "$(( $(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused'") - refused_before ))" -ge 45
check "the audit chain verifies" sh -c "'$BENV_BUILD/lockboxctl' audit verify --db '$BENV_DIR/lockbox.db' >/dev/null 2>&1"
tap_done
