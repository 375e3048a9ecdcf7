#!/bin/sh
# People's and hosts' client certificates are told apart by their CA: client_ca issues host
# certificates, people_ca (optional) people's. A host certificate named like an identity never
# acts as that person, a person's certificate never as a host, each works where it belongs.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
C=$BENV_DIR/certs
field() { benv_json "j[\"$1\"]"; }
# as CERT METHOD PATH [JSON]: HTTP status only (000 when the TLS handshake fails)
as() { benv_host_api "$@" >/dev/null; benv_status; }
refusals() { benv_sql "SELECT count(*) FROM audit WHERE action='access_refused' AND json_extract(body,'\$.detail.reason')='$1' AND json_extract(body,'\$.actor')='$2'"; }
status_of() { benv_sql "SELECT status FROM requests WHERE id=${1#LBX-}"; }

id=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T1","reason":"r","duration":3600}' | field id)
benv_host_cert carol
benv_person_cert carol
benv_person_cert node-7

# Default: no people_ca, people by API token only.
check "default: a host certificate CN=carol on /v1/whoami is 401" test "$(as carol GET /v1/whoami)" = 401
check "default: a host certificate CN=carol cannot approve (401)" test "$(as carol POST "/v1/requests/$id/approve" '{}')" = 401
check "default: the request is still pending" test "$(status_of "$id")" = pending
check "the refusal is audited as a host trying to be a person" test "$(refusals 'a host certificate cannot authenticate a person' host:carol)" -ge 2
check "default: a people-CA certificate fails the TLS handshake" test "$(as person-carol GET /v1/whoami)" = 000
benv_api carol GET /v1/whoami >/dev/null
check "default: carol's API token still works" test "$(benv_status)" = 200

# people_ca configured: a separate CA for people.
benv_stop
benv_config "people_ca = $C/people-ca.crt"
benv_start
out=$(benv_host_api person-carol GET /v1/whoami)
check "people_ca: carol's person certificate is carol" test "$(echo "$out" | field name)" = carol
check "people_ca: a host certificate CN=carol is still not carol (401)" test "$(as carol GET /v1/whoami)" = 401
check "people_ca: the host certificate CN=carol still cannot approve" test "$(as carol POST "/v1/requests/$id/approve" '{}')$(status_of "$id")" = 401pending
check "people_ca: carol's person certificate approves (200)" test "$(as person-carol POST "/v1/requests/$id/approve" '{"comment":"by cert"}')" = 200
check "the approval is carol's" test "$(benv_sql "SELECT decided_by FROM requests WHERE id=${id#LBX-}")" = carol
login='{"host":"node-7","login":"support-alice"}'
check "a person certificate CN=node-7 cannot ask for node-7's token (401)" test "$(as person-node-7 POST /v1/host/token "$login")" = 401
check "the refusal is audited as a person trying to be a host" test "$(refusals "a person certificate cannot authenticate a host" node-7)" -eq 1
check "carol's person certificate on a host endpoint: 401" test "$(as person-carol POST /v1/host/token "$login")" = 401
out=$(benv_host_api node-7 POST /v1/host/token "$login")
check "node-7's host certificate gets the token (200)" test "$(benv_status)" = 200
check "  for the approved request" test "$(echo "$out" | field request_id)" = "$id"
check "node-7's host certificate on a people endpoint: 401" test "$(as node-7 GET /v1/requests)" = 401
benv_person_cert zed
check "a person certificate naming no identity: 401" test "$(as person-zed GET /v1/whoami)" = 401
check "  audited" test "$(refusals 'certificate names an unknown or disabled identity' zed)" -eq 1
benv_person_cert dave
check "dave's person certificate works" test "$(as person-dave GET /v1/whoami)" = 200
benv_api admin DELETE /v1/identities/dave >/dev/null
check "once dave is disabled, his certificate does not (401)" test "$(as person-dave GET /v1/whoami)" = 401
benv_ca rogue "lockbox test people CA"
benv__sign rogue-carol carol "extendedKeyUsage=clientAuth" rogue
check "a certificate from another CA with the people CA's name fails the handshake" test "$(as rogue-carol GET /v1/whoami)" = 000
benv__sign person-server-eku carol "extendedKeyUsage=serverAuth" people-ca
check "a people-CA certificate without clientAuth usage is refused" test "$(as person-server-eku GET /v1/whoami)" = 000

# SIGHUP without people_ca: people's certificates stop working for new connections.
cp "$BENV_DIR/lockboxd.conf" "$BENV_DIR/with-people.conf"
benv_config
kill -HUP "$BENV_PID"; sleep 0.5
check "after a reload without people_ca, carol's certificate fails the handshake" test "$(as person-carol GET /v1/whoami)" = 000
check "  and node-7's host certificate still works" test "$(as node-7 GET /v1/host/grants/none)" = 404
benv_stop

# Configuration: the two CAs must be separate hierarchies.
bad=$BENV_DIR/bad.conf
sed "s|^people_ca = .*|people_ca = $C/ca.crt|" "$BENV_DIR/with-people.conf" >"$bad"
out=$($BENV_BUILD/lockboxd --check-config "$bad" 2>&1)
check "people_ca = client_ca is refused" test "${out#*must be separate}" != "$out"
benv__sign sub-ca "lockbox test sub CA" "basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
sed "s|^people_ca = .*|people_ca = $C/sub-ca.crt|" "$BENV_DIR/with-people.conf" >"$bad"
out=$($BENV_BUILD/lockboxd --check-config "$bad" 2>&1)
check "a people_ca issued by client_ca is refused" test "${out#*must be separate}" != "$out"
sed "s|^people_ca = .*|people_ca = $BENV_DIR/none.crt|" "$BENV_DIR/with-people.conf" >"$bad"
check_fails "a missing people_ca file is refused" sh -c "$BENV_BUILD/lockboxd --check-config $bad 2>/dev/null"
: >"$BENV_DIR/empty.crt"
sed "s|^people_ca = .*|people_ca = $BENV_DIR/empty.crt|" "$BENV_DIR/with-people.conf" >"$bad"
check_fails "an empty people_ca file is refused" sh -c "$BENV_BUILD/lockboxd --check-config $bad 2>/dev/null"
check "the good file with people_ca checks OK" sh -c "$BENV_BUILD/lockboxd --check-config $BENV_DIR/with-people.conf >/dev/null"

tap_done
