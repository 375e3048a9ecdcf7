#!/bin/sh
# Authorization matrix: every role (anonymous, a wrong token, a host certificate, admin,
# engineer, owner, global admin, support manager, auditor) against every endpoint.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":600}' >/dev/null
benv_api carol POST /v1/requests/LBX-1/approve '{}' >/dev/null
BENV_TOKEN_bad=lbx_0123456789abcdef0123456789abcdef0123456789a
ROLES="anon bad host admin alice carol gina mike audrey"

# call ROLE METHOD PATH BODY -> HTTP status
call() {
    set -- "$1" "$2" "$3" "$4"
    case $1 in
        anon) curl -s --max-time 10 --cacert "$BENV_DIR/certs/ca.crt" -X "$2" ${4:+--data-binary "$4"} \
                  -o /dev/null -w '%{http_code}' "$BENV_URL$3" ;;
        host) benv_host_api node-7 "$2" "$3" "$4" >/dev/null; benv_status ;;
        *) if [ -n "$4" ]; then benv_api "$1" "$2" "$3" "$4" >/dev/null; else benv_api "$1" "$2" "$3" >/dev/null; fi
           benv_status ;;
    esac
}

S='{"grant_id":"G-1","login":"support-alice","session":"s","event":"start","time":1}'
R='{"host":"node-7","ticket":"T","reason":"r","duration":60}'
H='{"host":"node-7","login":"support-alice"}'
# METHOD PATH BODY | expected status for: anon bad host admin alice carol gina mike audrey
while IFS='|' read -r method path body expected; do
    [ -n "$method" ] || continue
    set -- $expected
    for role in $ROLES; do
        got=$(call "$role" "$method" "$path" "$(eval echo "$body")")
        check "$role $method $path -> $1" test "$got" = "$1"
        shift
    done
done <<'MATRIX'
GET|/v1/health||200 200 200 200 200 200 200 200 200
GET|/v1/whoami||401 401 401 200 200 200 200 200 200
POST|/v1/host/token|$H|401 401 200 401 401 401 401 401 401
GET|/v1/host/grants/G-1||401 401 200 401 401 401 401 401 401
POST|/v1/host/sessions|$S|401 401 204 401 401 401 401 401 401
POST|/v1/requests|$R|401 401 401 403 201 403 403 403 403
GET|/v1/requests||401 401 401 200 200 200 200 200 200
GET|/v1/requests/LBX-1||401 401 401 200 200 200 200 200 200
POST|/v1/requests/LBX-999/approve|{}|401 401 401 404 404 404 404 404 404
POST|/v1/requests/LBX-1/deny|{}|401 401 401 409 409 409 409 409 409
GET|/v1/tenants||401 401 401 200 403 403 403 403 403
POST|/v1/tenants|{}|401 401 401 400 403 403 403 403 403
GET|/v1/subscriptions||401 401 401 200 403 403 403 403 403
POST|/v1/subscriptions|{}|401 401 401 400 403 403 403 403 403
GET|/v1/hosts||401 401 401 200 403 403 403 403 403
POST|/v1/hosts|{}|401 401 401 400 403 403 403 403 403
GET|/v1/host-groups||401 401 401 200 403 403 403 403 403
POST|/v1/host-groups|{}|401 401 401 400 403 403 403 403 403
POST|/v1/host-groups/g1/members|{}|401 401 401 400 403 403 403 403 403
GET|/v1/identities||401 401 401 200 403 403 403 403 403
POST|/v1/identities|{}|401 401 401 400 403 403 403 403 403
DELETE|/v1/identities/nobody||401 401 401 404 403 403 403 403 403
GET|/v1/roles||401 401 401 200 403 403 200 403 403
POST|/v1/roles|{}|401 401 401 400 403 403 400 403 403
DELETE|/v1/roles/999||401 401 401 404 403 403 404 403 403
GET|/v1/policies||401 401 401 200 403 403 200 403 403
GET|/v1/policies/tenant:contoso||401 401 401 200 403 403 200 403 403
PUT|/v1/policies/tenant:contoso|{}|401 401 401 201 403 403 201 403 403
GET|/v1/api-tokens||401 401 401 200 403 403 403 403 403
POST|/v1/api-tokens|{}|401 401 401 400 403 403 403 403 403
DELETE|/v1/api-tokens/T-none||401 401 401 404 403 403 403 403 403
GET|/v1/audit||401 401 401 200 403 403 403 403 200
MATRIX

# The deny row above must have changed nothing; revoke is open to the requester and approvers.
check "the matrix changed no decision" test "$(benv_sql "SELECT status FROM requests WHERE id=1")" = approved
check "refusals are audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused'")" -ge 60
benv_host_cert carol
benv_host_api carol GET /v1/whoami >/dev/null
check "a host certificate CN=carol is not carol: 401 (tests/broker/t_broker_certs.sh)" test "$(benv_status)" = 401
tid=$(benv_sql "SELECT id FROM api_tokens WHERE identity='carol'")
benv_api admin DELETE "/v1/api-tokens/$tid" >/dev/null
benv_api carol GET /v1/whoami >/dev/null
check "revoked token: 401" test "$(benv_status)" = 401
benv_api admin DELETE /v1/identities/dave >/dev/null
benv_api dave GET /v1/whoami >/dev/null
check "a disabled identity's token: 401" test "$(benv_status)" = 401
benv_stop
tap_done
