#!/bin/sh
# bench_http, the load generator of benchmarks 2 and 6, counts only what it should: against the
# real broker, good answers with keep-alive and fresh TLS, and every wrong expectation (status,
# text, missing bearer, a CA or name the broker's certificate does not match) as errors; against
# a tiny TLS server of our own that misbehaves on cue, every transport failure (dropped
# connection, truncated body, unframed or chunked answer, an answer that never comes) as an
# error, while the same server answering properly (also with Connection: close) gives none.
. tests/support/tap.sh
. tests/support/broker_env.sh
BH=${BENCH_HTTP:-$BENV_BUILD/tests/bench/bench_http}
make -s BUILD="$BENV_BUILD" "$BH" >/dev/null 2>&1
benv_boot || { tap_done; exit 1; }
field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# run ARGS...: bench_http; sets OUT (its JSON), RC, REQ and ERR
run() {
    OUT=$("$BH" --ca "$BENV_DIR/certs/ca.crt" "$@" 2>"$BENV_DIR/bh.err")
    RC=$?
    REQ=$(echo "$OUT" | field requests 2>/dev/null)
    ERR=$(echo "$OUT" | field errors 2>/dev/null)
}
token() { # token ARGS...: POST /v1/host/token as node-7
    run --url "${URL:-$BENV_URL}/v1/host/token" --cert "$BENV_DIR/certs/node-7.crt" \
        --key "$BENV_DIR/certs/node-7.key" -d '{"host":"node-7","login":"support-alice"}' "$@"
}
id=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-1","reason":"bench","duration":"4h"}' | benv_json 'j["id"]')
benv_api carol POST "/v1/requests/$id/approve" '{}' >/dev/null

token -c 4 -n 50 --expect-text '"token":"ey' --samples "$BENV_DIR/samples"
check "keep-alive, 4 clients x 50: 200 tokens, no error, exit 0" test "$REQ $ERR $RC" = "200 0 0"
check "--samples: one latency per answered request" test "$(wc -l <"$BENV_DIR/samples")" -eq 200
check "the JSON keeps its fields" python3 -c 'import json,sys; j=json.loads(sys.argv[1]); sys.exit(set(j) != {"name","clients","fresh","requests","errors","rps","p50_ms","p99_ms"} or not 0 < j["p50_ms"] <= j["p99_ms"])' "$OUT"
token -c 2 -n 10 --fresh --expect-text '"token":"ey'
check "fresh TLS, 2 clients x 10: 20 tokens, no error" test "$REQ $ERR $RC $(echo "$OUT" | field fresh)" = "20 0 0 1"
token -c 2 -t 0.5
check "-t 0.5: tokens answered, no error" test "$ERR $RC" = "0 0" -a "${REQ:-0}" -gt 10
token -c 2 -n 10 --expect 201
check "wrong --expect status: every answer an error, exit 1" test "$REQ $ERR $RC" = "0 20 1"
token -c 2 -n 10 --expect-text '"token":"nope'
check "body without --expect-text: every answer an error" test "$REQ $ERR $RC" = "0 20 1"
token -c 1 -n 5 --fresh --expect-text 'absent'
check "fresh TLS, body without --expect-text: errors" test "$REQ $ERR $RC" = "0 5 1"
run --url "$BENV_URL/v1/requests?status=pending" -X GET --bearer "$BENV_TOKEN_carol" -n 10 --expect-text '"requests"'
check "GET with --bearer: answered" test "$REQ $ERR $RC" = "10 0 0"
run --url "$BENV_URL/v1/requests?status=pending" -X GET -n 10
check "GET without the bearer: 401s are errors" test "$REQ $ERR $RC" = "0 10 1"
run --url "$BENV_URL/v1/requests" --bearer "$BENV_TOKEN_alice" --expect 201 -n 5 \
    -d '{"host":"node-7","ticket":"T-2","reason":"bench","duration":"1h"}'
check "POST --expect 201: requests created" test "$REQ $ERR $RC" = "5 0 0"
benv_ca other "another CA"
OUT=$("$BH" --ca "$BENV_DIR/certs/other.crt" --url "$BENV_URL/v1/host/token" -n 3 2>/dev/null)
check "a CA that did not sign the broker's certificate: every request an error" \
    test "$(echo "$OUT" | field requests) $(echo "$OUT" | field errors)" = "0 3"
check_fails "usage error: -t and -n together" "$BH" --url "$BENV_URL" --ca "$BENV_DIR/certs/ca.crt" -t 1 -n 1
"$BH" --url "http://127.0.0.1:$BENV_PORT/" --ca "$BENV_DIR/certs/ca.crt" -n 1 >/dev/null 2>&1
check "a plain http URL is refused (exit 2)" test $? -eq 2

# A TLS server that answers MODE (argv[1]) to every request, port in $BENV_DIR/srv.port.
cat >"$BENV_DIR/srv.py" <<'EOF'
import socket, ssl, sys, threading, time
mode = sys.argv[1]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[2], sys.argv[3])
ls = socket.socket(); ls.bind((sys.argv[5], 0)); ls.listen(64)
open(sys.argv[4], "w").write(str(ls.getsockname()[1]))
body = b'{"token":"ey.x"}'
def answer():
    if mode == "truncated": return b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + body, True
    if mode == "chunked": return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + body + b"\r\n0\r\n\r\n", True
    if mode == "unframed": return b"HTTP/1.1 200 OK\r\n\r\n" + body, True
    if mode == "close": return b"HTTP/1.1 200 OK\r\nconnection: Close\r\nContent-Length: 16\r\n\r\n" + body, True
    return b"HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n" + body, False
def serve(raw):
    try:
        s = ctx.wrap_socket(raw, server_side=True)
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                d = s.recv(4096)
                if not d: return
                buf += d
            head, _, buf = buf.partition(b"\r\n\r\n")
            n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
            while len(buf) < (n[0] if n else 0): buf += s.recv(4096)
            buf = buf[n[0] if n else 0:]
            if mode == "drop": return
            if mode == "silent": time.sleep(30); return
            data, close = answer()
            s.sendall(data)
            if close: return
    except Exception:
        pass
    finally:
        raw.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
# against MODE ARGS...: bench_http at a fresh server in MODE
against() {
    _m=$1
    shift
    rm -f "$BENV_DIR/srv.port"
    python3 "$BENV_DIR/srv.py" "$_m" "$BENV_DIR/certs/server.crt" "$BENV_DIR/certs/server.key" "$BENV_DIR/srv.port" "${ADDR:-127.0.0.1}" &
    SRV=$!
    i=0
    while [ ! -s "$BENV_DIR/srv.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    URL="https://${ADDR:-127.0.0.1}:$(cat "$BENV_DIR/srv.port")" token --expect-text '"token":"ey' "$@"
    kill "$SRV" 2>/dev/null
    wait "$SRV" 2>/dev/null
}
tap_cleanup '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null'
against good -c 2 -n 20
check "own server, proper answers with keep-alive: 40 answered, no error" test "$REQ $ERR $RC" = "40 0 0"
against close -c 2 -n 20
check "own server, Connection: close after each answer: reconnects, no error" test "$REQ $ERR $RC" = "40 0 0"
against good -c 2 -n 10 --fresh
check "own server, fresh TLS: no error" test "$REQ $ERR $RC" = "20 0 0"
ADDR=127.0.0.2 against good -n 3
check "own server at an address its certificate does not name: every request an error" \
    test "$REQ $ERR $RC" = "0 3 1"
for m in drop truncated chunked unframed; do
    against "$m" -c 2 -n 5
    check "own server, $m: every request an error, exit 1" test "$REQ $ERR $RC" = "0 10 1"
done
against silent -n 2 --timeout 0.5
check "own server, no answer: an error after the timeout" test "$REQ $ERR $RC" = "0 2 1"
tap_done
