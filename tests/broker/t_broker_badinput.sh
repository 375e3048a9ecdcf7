#!/bin/sh
# Bad input: malformed, non-object, mistyped, unknown members, oversized, deep, duplicate keys,
# NUL, slow clients, junk on the socket, wrong credentials, other tenants' and unknown ids. Each
# gets a clear 4xx JSON error, changes nothing, and the daemon keeps serving.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_init
benv_config "client_timeout = 2s"
benv_start || { fail "lockboxd starts"; tap_done; exit 1; }
benv_seed
field() { benv_json "j[\"$1\"]"; }
requests() { benv_sql "SELECT count(*) FROM requests"; }
# bad NAME STATUS BODY: POST /v1/requests as alice must answer STATUS with a JSON error
bad() {
    out=$(benv_api alice POST /v1/requests "$3")
    code=$(echo "$out" | benv_json 'j["error"]' 2>/dev/null)
    check "$1: $2 with a JSON error ($code)" test "$(benv_status)" = "$2" -a -n "$code"
}
before=$(requests)
bad "malformed JSON" 400 '{"host":"node-7",'
bad "not an object (array)" 400 '[1,2]'
bad "not an object (string)" 400 '"x"'
bad "trailing garbage" 400 '{"host":"node-7"} x'
bad "duration of the wrong type" 400 '{"host":"node-7","ticket":"T","reason":"r","duration":true}'
bad "ticket of the wrong type" 400 '{"host":"node-7","ticket":7,"reason":"r","duration":60}'
bad "unknown member" 400 '{"host":"node-7","ticket":"T","reason":"r","duration":60,"admin":true}'
bad "missing reason" 400 '{"host":"node-7","ticket":"T","duration":60}'
bad "both host and host_group" 400 '{"host":"node-7","host_group":"g","ticket":"T","reason":"r","duration":60}'
bad "duplicate member" 400 '{"host":"node-7","host":"node-9","ticket":"T","reason":"r","duration":60}'
bad "NUL escape in a string" 400 '{"host":"node-7","ticket":"T\u0000x","reason":"r","duration":60}'
bad "ticket with a newline" 400 '{"host":"node-7","ticket":"T\nX","reason":"r","duration":60}'
bad "negative duration" 400 '{"host":"node-7","ticket":"T","reason":"r","duration":-5}'
bad "duration text" 400 '{"host":"node-7","ticket":"T","reason":"r","duration":"forever"}'
bad "host name with a slash" 400 '{"host":"../etc","ticket":"T","reason":"r","duration":60}'
deep=$(python3 -c 'print("{\"a\":" * 40 + "1" + "}" * 40)')
bad "nesting 40 deep" 400 "$deep"
reason=$(python3 -c 'print("x" * 4097)')
bad "justification over 4 KiB" 413 "{\"host\":\"node-7\",\"ticket\":\"T\",\"reason\":\"$reason\",\"duration\":60}"
python3 -c 'print("{\"x\":\"" + "a" * 70000 + "\"}")' >"$BENV_DIR/big"
benv_api alice POST /v1/requests "$(cat "$BENV_DIR/big")" >/dev/null
check "a 70 KB body: 413" test "$(benv_status)" = 413
python3 -c 'print("{\"x\":\"" + "a" * 300000 + "\"}")' >"$BENV_DIR/huge"
# Expect: 100-continue lets the server refuse on Content-Length before the body is sent, so
# the 413 is read back deterministically instead of racing a reset of the connection.
code=$(curl -s --cacert "$BENV_DIR/certs/ca.crt" -H "Authorization: Bearer $BENV_TOKEN_alice" -H "Expect: 100-continue" \
    --data-binary @"$BENV_DIR/huge" -o /dev/null -w '%{http_code}' "$BENV_URL/v1/requests")
check "a 300 KB body is cut off by the server: 413" test "$code" = 413
check "none of it created a request" test "$(requests)" -eq "$before"

benv_api alice GET /v1/requests/LBX-999 >/dev/null
check "unknown id: 404" test "$(benv_status)" = 404
benv_api alice GET /v1/requests/nonsense >/dev/null
check "malformed id: 404" test "$(benv_status)" = 404
benv_api alice GET '/v1/requests/LBX-0' >/dev/null
check "id 0: 404" test "$(benv_status)" = 404
benv_api alice GET '/v1/requests/LBX-99999999999999999999' >/dev/null
check "id overflow: 404" test "$(benv_status)" = 404
out=$(benv_api alice GET /v1/nothing)
check "unknown endpoint: 404 JSON" test "$(benv_status)$(echo "$out" | field error)" = 404not_found
out=$(benv_api alice DELETE /v1/requests)
check "wrong method: 405 JSON" test "$(benv_status)$(echo "$out" | field error)" = 405method_not_allowed
benv_api alice GET '/v1/requests?since=yesterday' >/dev/null
check "bad query value: 400" test "$(benv_status)" = 400
benv_api alice GET '/v1/requests?status=bogus' >/dev/null
check "bad status filter: 400" test "$(benv_status)" = 400

# Credentials.
refused=$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused'")
code=$(curl -s --cacert "$BENV_DIR/certs/ca.crt" -D "$BENV_DIR/h" -o "$BENV_DIR/b" -w '%{http_code}' "$BENV_URL/v1/requests")
check "no credentials: 401" test "$code" = 401
check "with WWW-Authenticate" grep -qi '^WWW-Authenticate: Bearer' "$BENV_DIR/h"
check "and a JSON error" test "$(field error <"$BENV_DIR/b")" = unauthenticated
for h in "Bearer wrong" "Basic YWxpY2U6cHc=" "Bearer " "bearer $BENV_TOKEN_alice"; do
    code=$(curl -s --cacert "$BENV_DIR/certs/ca.crt" -H "Authorization: $h" -o /dev/null -w '%{http_code}' "$BENV_URL/v1/requests")
    check "Authorization '$(echo "$h" | cut -c1-12)...': 401" test "$code" = 401
done
check "wrong credentials are audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused'")" -ge $((refused + 3))

# Other tenants' ids.
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":60}' >/dev/null
benv_api fred GET /v1/requests/LBX-1 >/dev/null
check "another tenant's owner: 404 for our request" test "$(benv_status)" = 404
check "and it is not in their list" test "$(benv_api fred GET '/v1/requests?status=all' | benv_json 'len(j["requests"])')" = 0
benv__person tina support-tina "" engineer tenant:fabrikam
benv_api tina POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":60}' >/dev/null
check "an engineer of another tenant cannot target our host: 404" test "$(benv_status)" = 404
benv_api tina POST /v1/requests '{"host":"fab-1","ticket":"T","reason":"r","duration":60}' >/dev/null
check "but can target their own tenant's host" test "$(benv_status)" = 201
benv_api fred POST /v1/requests/LBX-1/revoke '{}' >/dev/null
check "another tenant's owner cannot revoke ours: 404" test "$(benv_status)" = 404

# Slow clients: a half-sent request is dropped after client_timeout; others are served meanwhile.
python3 - "$BENV_PORT" "$BENV_DIR/certs/ca.crt" >"$BENV_DIR/slow" 2>&1 <<'PY' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))), server_hostname="127.0.0.1")
s.sendall(b"POST /v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
t = time.time()
try:
    data = s.recv(100)
except Exception:
    data = b""
print("closed-after %.1f %r" % (time.time() - t, data[:12]))
PY
slow=$!
sleep 0.5
code=$(curl -s --cacert "$BENV_DIR/certs/ca.crt" -o /dev/null -w '%{http_code}' "$BENV_URL/v1/health")
check "served while a slow client dawdles" test "$code" = 200
wait $slow
out=$(cat "$BENV_DIR/slow")
check "the slow client is dropped after the timeout ($out)" python3 -c "import sys; w=sys.argv[1].split(); sys.exit(not (w[0]=='closed-after' and 1.5 <= float(w[1]) <= 6))" "$out"
sent=$(python3 - "$BENV_PORT" <<'PY'
import os, socket, sys
n = 0
for junk in (b"this is not TLS\r\n\r\n", os.urandom(5000), b"\x16\x03\x01\xff\xff" + os.urandom(300)):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.settimeout(3)
    s.sendall(junk)
    try:
        s.recv(100)
    except Exception:
        pass
    s.close()
    n += 1
print(n)
PY
)
check "three junk connections sent" test "$sent" = 3
code=$(curl -s --cacert "$BENV_DIR/certs/ca.crt" -o /dev/null -w '%{http_code}' "$BENV_URL/v1/health")
check "junk on the socket: still serving" test "$code" = 200
check "the daemon is alive" kill -0 "$BENV_PID"
out=$($BENV_BUILD/lockboxctl audit verify --db "$BENV_DIR/lockbox.db")
check "the audit chain is intact" test "${out#audit chain OK}" != "$out"
benv_stop
tap_done
