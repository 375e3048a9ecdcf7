#!/bin/sh
# The host path end to end against a real lockboxd over real TLS: token refusal reasons, a
# request approved into a verifiable ES256 token, grant status with long-poll, session reports,
# and what a host may not do (other host ids, no or foreign certificates).
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
CTL=$BENV_BUILD/lockboxctl
benv_boot || exit 1
ask() { benv_host_api "$1" POST /v1/host/token "{\"host\":\"$2\",\"login\":\"$3\"}"; }

out=$(curl -sS --cacert "$BENV_DIR/certs/ca.crt" "$BENV_URL/v1/health")
check "health answers anonymously" test "$out" = '{"status":"ok"}'
out=$(ask node-7 node-7 support-alice)
check "no request: 403" test "$(benv_status)" = 403
check "no request: code no_request" test "$(echo "$out" | benv_json 'j["error"]')" = no_request
out=$(ask node-7 node-7 support-nobody)
check "unknown login: code unknown_login" test "$(echo "$out" | benv_json 'j["error"]')" = unknown_login
out=$(ask node-9 node-7 support-alice)
check "a host asking for another host id gets wrong_host" test "$(echo "$out" | benv_json 'j["error"]')" = wrong_host
code=$(curl -sS --cacert "$BENV_DIR/certs/ca.crt" -o /dev/null -w '%{http_code}' -X POST \
    --data '{"host":"node-7","login":"support-alice"}' "$BENV_URL/v1/host/token")
check "no client certificate: 401" test "$code" = 401
benv_host_cert node-404
ask node-404 node-404 support-alice >/dev/null
check "a certificate naming a host outside the directory: 403" test "$(benv_status)" = 403

# A certificate from another CA never gets through the handshake.
mkdir "$BENV_DIR/evil"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$BENV_DIR/evil/k" \
    -out "$BENV_DIR/evil/c" -subj /CN=node-7 -days 1 2>/dev/null
check_fails "a self-made certificate for node-7 is refused" curl -s --cacert "$BENV_DIR/certs/ca.crt" \
    --cert "$BENV_DIR/evil/c" --key "$BENV_DIR/evil/k" -o /dev/null -X POST \
    --data '{"host":"node-7","login":"support-alice"}' "$BENV_URL/v1/host/token"

benv_api alice POST /v1/requests '{"host":"node-7","ticket":"123","reason":"disk full","duration":"4h"}' >/dev/null
check "engineer creates a request: 201" test "$(benv_status)" = 201
out=$(ask node-7 node-7 support-alice)
check "pending: code pending" test "$(echo "$out" | benv_json 'j["error"]')" = pending
check "pending: request_id set" test "$(echo "$out" | benv_json 'j["request_id"]')" = LBX-1
check "pending: awaiting names the subscription owners" test \
    "$(echo "$out" | benv_json 'j["awaiting"]')" = "subscription owner (carol, dave)"

benv_api carol POST /v1/requests/LBX-1/approve '{"comment":"go ahead"}' >/dev/null
check "owner approves: 200" test "$(benv_status)" = 200
out=$(ask node-7 node-7 support-alice)
check "approved: 200 with a token" test "$(benv_status)" = 200
tok=$(echo "$out" | benv_json 'j["token"]')
end=$(echo "$out" | benv_json 'j["access_end"]')
claims=$($CTL token verify --key "$BENV_DIR/signing/signing.pub" --iss lockbox-test --aud node-7 \
    --sub support-alice "$tok")
check "the token verifies for node-7 / support-alice" test -n "$claims"
check "exp = access_end" test "$(echo "$claims" | benv_json 'j["exp"]')" = "$end"
# access_end was set at the approval, iat at the ask: a second boundary may fall in between.
life=$(echo "$claims" | benv_json 'j["exp"]-j["iat"]')
check "exp - iat is 4 h (less a second boundary at most: $life)" test "$life" -ge 14399 -a "$life" -le 14400
check "jti is the grant id" test "$(echo "$claims" | benv_json 'j["jti"]')" = G-1
check_fails "the token does not verify for node-9" sh -c "\"\$0\" \"\$@\" 2>/dev/null" $CTL token verify --key "$BENV_DIR/signing/signing.pub" \
    --iss lockbox-test --aud node-9 --sub support-alice "$tok"
check "approved_by names carol" test "$(echo "$out" | benv_json 'j["approved_by"]')" = carol

out=$(benv_host_api node-7 GET /v1/host/grants/G-1)
check "grant status: active" test "$(echo "$out" | benv_json 'j["status"]')" = active
benv_host_api node-9 GET /v1/host/grants/G-1 >/dev/null
check "another host cannot read the grant: 404" test "$(benv_status)" = 404
benv_host_api node-7 GET '/v1/host/grants/G-1?wait=61' >/dev/null
check "wait over 60 is a 400" test "$(benv_status)" = 400

s='{"grant_id":"G-1","login":"support-alice","session":"s1","event":"start","time":1795477754}'
benv_host_api node-7 POST /v1/host/sessions "$s" >/dev/null
check "session start: 204" test "$(benv_status)" = 204
benv_host_api node-9 POST /v1/host/sessions "$s" >/dev/null
check "session report for another host's grant: 404" test "$(benv_status)" = 404
benv_host_api node-7 POST /v1/host/sessions '{"grant_id":"G-1","login":"support-bob","session":"s1","event":"start","time":1}' >/dev/null
check "session report for another login: 400" test "$(benv_status)" = 400

# Long-poll: a revocation reaches a waiting reaper within seconds.
t0=$(date +%s)
( sleep 2; BENV_OUT=$(mktemp -d "$BENV_DIR/out.XXXXXX"); benv_api carol POST /v1/requests/LBX-1/revoke '{"comment":"done"}' >/dev/null ) &
rev=$!
out=$(benv_host_api node-7 GET '/v1/host/grants/G-1?wait=30')
t1=$(date +%s)
wait $rev
check "long-poll answers revoked" test "$(echo "$out" | benv_json 'j["status"]')" = revoked
check "long-poll answered within 5 s of the call" test $((t1 - t0)) -le 5
out=$(ask node-7 node-7 support-alice)
check "revoked: code revoked" test "$(echo "$out" | benv_json 'j["error"]')" = revoked
benv_host_api node-7 POST /v1/host/sessions '{"grant_id":"G-1","login":"support-alice","session":"s1","event":"end","reason":"revoked","time":1795477755}' >/dev/null
check "session end: 204" test "$(benv_status)" = 204

n=$(benv_sql "SELECT count(*) FROM audit WHERE action IN ('token_issued','token_refused','session_started','session_ended')")
check "token decisions and sessions are audited ($n events)" test "$n" -eq 8
n=$(benv_sql "SELECT count(*) FROM audit WHERE action='token_refused' AND body LIKE '%wrong_host%'")
check "wrong_host is audited" test "$n" -eq 1

check "the database is not readable by others" test "$(stat -c %a "$BENV_DIR/lockbox.db")" = 640
kill -HUP "$BENV_PID"; sleep 0.5
curl -sS --cacert "$BENV_DIR/certs/ca.crt" "$BENV_URL/v1/health" >/dev/null
check "still serving after SIGHUP" test $? -eq 0
check "reload is logged" grep -q "configuration reloaded" "$BENV_DIR/lockboxd.log"
benv_stop
check "SIGTERM: clean exit 0" test "$BENV_EXIT" -eq 0
tap_done
