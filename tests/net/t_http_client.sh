#!/bin/sh
# The one HTTP client (lib/net/http_client.c, lib/net/tls_conn.c) against a TLS server of our own that
# misbehaves on cue: every failure is an error with its reason within the deadline, never an
# answer, never a hang, never a signal; kept connections survive a peer that closes them.
. tests/support/tap.sh
. tests/support/broker_env.sh
PROBE=$BENV_BUILD/tests/net/http_probe
make -s BUILD="$BENV_BUILD" "$PROBE" >/dev/null 2>&1
benv_init
benv_host_cert node-7
benv_ca other "another CA"
benv__sign elsewhere elsewhere "subjectAltName=IP:127.0.0.9,DNS:elsewhere.invalid
extendedKeyUsage=serverAuth"
D=$BENV_DIR

# A TLS server doing MODE to every connection (TLS 1.2 at most with SRV_TLS12=1); port in
# $D/srv.port, one line per accepted connection in $D/srv.conns, and in $D/srv.events one line
# per step with its CLOCK_MONOTONIC time: accept, hello (the ClientHello came), fail (the
# handshake did not complete), req (a request came); in $D/srv.events.tls "full" or "resumed"
# for each handshake. SRV_PORT: that port rather than any free one.
cat >"$D/srv.py" <<'EOF'
import os, socket, ssl, struct, sys, threading, time
mode, crt, key, portfile, conns, ca, events = sys.argv[1:8]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(crt, key)
if os.environ.get("SRV_TLS12") == "1":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
if mode == "need-cert":
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(ca)
def event(what): open(events, "a").write("%s %.6f\n" % (what, time.monotonic()))
ctx.sni_callback = lambda s, name, c: event("hello")
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(os.environ.get("SRV_PORT", "0")))); ls.listen(64)
body = b'{"ok":true}'
ok = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
def read_request(s, buf):
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d: return None, b""
        buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    event("req")
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    while len(buf) < (n[0] if n else 0): buf += s.recv(65536)
    return head, buf[n[0] if n else 0:]
def serve(raw):
    try:
        if mode == "tcp-close": return
        if mode == "silent-tls": time.sleep(10); return
        if mode == "silent-hello":
            if raw.recv(5)[:1] == b"\x16": event("hello")
            time.sleep(10); return
        try: s = ctx.wrap_socket(raw, server_side=True)
        except Exception: event("fail"); return
        open(events + ".tls", "a").write("resumed\n" if s.session_reused else "full\n")
        if mode == "rst":
            s.recv(100)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        buf, served = b"", 0
        while True:
            head, buf = read_request(s, buf)
            if head is None: return
            if mode == "late-close" and served == 1: return
            served += 1
            if mode in ("ok", "need-cert", "late-close", "idle-close"): s.sendall(ok)
            elif mode == "chunked-split":
                for piece in (b"HTTP/1.1 200 OK\r\nTransfer-", b"Encoding: chunked\r\n\r\n4\r\n{\"ok", b"\r\n7\r\n\":true}\r\n0\r\n", b"\r\n"):
                    s.sendall(piece); time.sleep(0.05)
            elif mode == "drip":
                for b in ok: s.sendall(bytes([b])); time.sleep(0.1)
            elif mode == "close-mid": s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ok\""); s.unwrap(); return
            elif mode == "endless-headers":
                s.sendall(b"HTTP/1.1 200 OK\r\n")
                while True: s.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")
            elif mode == "huge-body": s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10485760\r\n\r\n"); time.sleep(5)
            elif mode == "smuggle": s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 11\r\n\r\n" + body)
            if mode == "idle-close": return
    except Exception:
        pass
    finally:
        raw.close()
open(portfile, "w").write(str(ls.getsockname()[1]))
while True:
    c, _ = ls.accept()
    open(conns, "a").write("conn\n")
    event("accept")
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
SRV=
tap_cleanup '[ -n "$SRV" ] && kill "$SRV" 2>/dev/null'
serve() { # serve MODE [CERT]: a fresh server (certificate CERT, default "server"); sets URL
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
    rm -f "$D/srv.port" "$D/srv.conns" "$D/srv.events" "$D/srv.events.tls"
    python3 "$D/srv.py" "$1" "$D/certs/${2:-server}.crt" "$D/certs/${2:-server}.key" "$D/srv.port" "$D/srv.conns" "$D/certs/ca.crt" "$D/srv.events" &
    SRV=$!
    i=0
    while [ ! -s "$D/srv.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    URL="https://127.0.0.1:$(cat "$D/srv.port")/v1/x"
}
serve_again() { # serve_again MODE [CERT]: the same, on the port the last server had
    SRV_PORT=$(cat "$D/srv.port")
    export SRV_PORT
    serve "$@"
    unset SRV_PORT
}
probe() { OUT=$("$PROBE" --ca "$D/certs/ca.crt" --timeout "${T:-1000}" "$@" 2>&1); RC=$?; }
conns() { wc -l <"$D/srv.conns" 2>/dev/null || echo 0; }
ms() { echo "$OUT" | sed -n 's/.* ms=\([0-9]*\)$/\1/p' | tail -1; }
has() { echo "$OUT" | grep -q "$1"; }
# saw EVENT...: the server's events of its one connection, in this order (and no other);
# waits a moment for the server to note the end of a handshake
saw() {
    i=0
    while [ "$(cut -d' ' -f1 "$D/srv.events" 2>/dev/null | tr '\n' ' ')" != "$* " ] && [ $i -lt 20 ]; do
        sleep 0.05; i=$((i + 1))
    done
    [ "$(cut -d' ' -f1 "$D/srv.events" 2>/dev/null | tr '\n' ' ')" = "$* " ]
}
# since A B: milliseconds from the server's event A to its event B
since() { awk -v a="$1" -v b="$2" '$1 == a && !ta { ta = $2 } $1 == b && !tb { tb = $2 } END { printf "%d", (tb - ta) * 1000 }' "$D/srv.events"; }

serve ok
probe --keep --count 5 POST "$URL" '{"a":1}'
check "keep-alive: 5 answers" test "$(echo "$OUT" | grep -c 'status=200 len=11 body={"ok":true}')" = 5 -a "$RC" = 0
check "keep-alive: on one connection" test "$(conns)" = 1
probe --count 3 GET "$URL"
check "without a kept connection: one connection per request" test "$(conns)" = 4 -a "$RC" = 0

serve late-close
probe --keep --count 4 POST "$URL" '{}'
check "peer closes a kept connection when the next request comes: sent again, all answered" \
    test "$(echo "$OUT" | grep -c 'status=200')" = 4 -a "$RC" = 0
serve idle-close
probe --keep --count 3 GET "$URL"
check "peer closes each connection after its answer: all answered" test "$(echo "$OUT" | grep -c 'status=200')" = 3 -a "$(conns)" = 3

serve chunked-split
probe GET "$URL"
check "chunked answer in pieces: one body" has 'status=200 len=11 body={"ok":true}'

serve drip
T=1000 probe GET "$URL"
check "an answer that drips past the deadline: timed out" has 'error=broker timed out'
check "... at the deadline (1000 ms, $(ms) ms)" test "$(ms)" -ge 990 -a "$(ms)" -le 1300
serve silent-tls
T=700 probe GET "$URL"
check "a peer that never does TLS: timed out at the deadline ($(ms) ms)" sh -c "echo '$OUT' | grep -q 'error=broker timed out.*handshake' && [ $(ms) -le 1000 ]"
serve silent-hello
rm -f "$D/srv.events"
T=700 probe --cert "$D/certs/node-7.crt" --key "$D/certs/node-7.key" GET "$URL"
check "a peer that takes the ClientHello and never answers: timed out at the deadline ($(ms) ms)" \
    sh -c "echo '$OUT' | grep -q 'error=broker timed out.*handshake' && [ $(ms) -ge 690 ] && [ $(ms) -le 1000 ]"
check "... it had the ClientHello" saw accept hello
serve tcp-close
probe GET "$URL"
check "a peer that closes before TLS: tls failure" has 'error=tls failure'
serve close-mid
probe GET "$URL"
check "an answer cut inside its body: no answer" sh -c "echo '$OUT' | grep -q '^error=' && ! echo '$OUT' | grep -q status="
serve endless-headers
T=5000 probe GET "$URL"
check "endless headers: refused as too large, long before the deadline ($(ms) ms)" sh -c "echo '$OUT' | grep -q 'error=input too large' && [ $(ms) -lt 2000 ]"
serve huge-body
T=5000 probe --max 65536 GET "$URL"
check "a length over the limit: refused at once ($(ms) ms)" sh -c "echo '$OUT' | grep -q 'error=input too large' && [ $(ms) -lt 2000 ]"
serve smuggle
probe GET "$URL"
check "two different lengths: unexpected broker response" has 'error=unexpected broker response'
serve rst
{ printf '{"a":"'; head -c 4000000 /dev/zero | tr '\0' a; printf '"}'; } >"$D/big.json"
probe POST "$URL" "@$D/big.json"
check "reset while sending a large body: an error, no answer, the process lives (exit 1)" \
    sh -c "[ $RC = 1 ] && echo '$OUT' | grep -q '^error=broker unreachable'"

# The ClientHello leaves before the CA file, the certificate and the key are loaded (they load
# while the server computes its answer): a file that turns out bad still fails the connection,
# named as before, with the handshake cut and no request sent.
mtls() { # mtls LABEL: a server wanting a client certificate, as the broker does
    serve need-cert
    probe GET "$URL"
    check "$1: a server that wants a client certificate, none given: refused" sh -c "echo '$OUT' | grep -q '^error='"
    probe --cert "$D/certs/node-7.crt" --key "$D/certs/node-7.key" GET "$URL"
    check "$1: ... with the host's certificate: answered" has 'status=200'
    rm -f "$D/srv.events"
    probe --cert "$D/certs/node-7.crt" --key "$D/certs/other.key" GET "$URL"
    check "$1: a key that is not the certificate's: tls failure, said so" has 'error=tls failure detail=client certificate or key'
    check "$1: ... found after the ClientHello left: handshake cut, no request" saw accept hello fail
    for bad in "$D/certs/nonexistent.key" "$D/garbage.pem"; do
        rm -f "$D/srv.events"
        probe --cert "$D/certs/node-7.crt" --key "$bad" GET "$URL"
        check "$1: a key file that cannot be read or decoded ($(basename "$bad")): tls failure naming the certificate" \
            has "error=tls failure detail=client certificate or key $D/certs/node-7.crt"
        check "$1: ... handshake cut after the ClientHello, no request" saw accept hello fail
    done
    probe --ca "$D/ca+inter.crt" --cert "$D/certs/node-i.crt" --key "$D/certs/node-i.key" GET "$URL"
    check "$1: a certificate from an intermediate CA that only the CA file holds: sent with it, answered" has 'status=200'
    probe --cert "$D/certs/node-i.crt" --key "$D/certs/node-i.key" GET "$URL"
    check "$1: ... the CA file without the intermediate: refused by the server" sh -c "echo '$OUT' | grep -q '^error='"
    probe --ca "$D/certs/other.crt" --cert "$D/certs/node-7.crt" --key "$D/certs/node-7.key" GET "$URL"
    check "$1: a CA that did not sign the server: certificate refused" has 'error=tls failure detail=peer certificate refused'
}
# Resumption (lib/net/tls_resume.c): the session kept in a root-only file is offered to the same
# server with the same files; a server that declines it (restarted on its port: new ticket keys)
# gets a full handshake with the files loaded late, and is checked exactly as before.
resume() { # resume LABEL
    S=$D/session
    rm -f "$S"
    serve need-cert
    node7="--cert $D/certs/node-7.crt --key $D/certs/node-7.key --session $S"
    probe $node7 GET "$URL"
    check "$1 resume: the first call, a full handshake" has 'status=200 .*resumed=0'
    check "$1 resume: ... its session kept, root-only, named for its server" sh -c \
        "[ \"\$(stat -c %a:%U '$S')\" = 600:root ] && head -1 '$S' | grep -q '^lockbox-tls-session 1 127.0.0.1 $(cat "$D/srv.port") '"
    probe $node7 --count 3 GET "$URL"
    check "$1 resume: the next calls resume it" test "$(echo "$OUT" | grep -c 'status=200 .*resumed=1')" = 3
    check "$1 resume: ... as the server saw" test "$(awk '{ n[$1]++ } END { print n["full"] + 0, n["resumed"] + 0 }' "$D/srv.events.tls")" = "1 3"
    serve_again need-cert
    probe $node7 --count 2 GET "$URL"
    check "$1 resume: a restarted server declines it: a full handshake, the certificate sent late, answered" \
        test "$(echo "$OUT" | grep -c 'status=200 .*resumed=0')" = 1 -a "$(tr '\n' ' ' <"$D/srv.events.tls")" = "full resumed "
    cp "$S" "$D/session.kept"
    serve_again need-cert elsewhere
    probe $node7 GET "$URL"
    check "$1 resume: declined by a server with a certificate for another address: refused as ever" \
        has 'error=tls failure detail=peer certificate refused'
    serve_again need-cert
    cp "$D/session.kept" "$S"
    chmod 644 "$S"
    probe $node7 GET "$URL"
    check "$1 resume: a session file others can read is not offered: a full handshake" has 'status=200 .*resumed=0'
    check "$1 resume: ... and it is replaced by a root-only one" test "$(stat -c %a "$S")" = 600
    printf 'lockbox-tls-session 1 nonsense\n' >"$S"
    probe $node7 --count 2 GET "$URL"
    check "$1 resume: a malformed session file: a full handshake, then resumed" \
        test "$(echo "$OUT" | sed -n 's/.*resumed=\([01]\).*/\1/p' | tr -d '\n')" = 01
    touch "$D/certs/node-7.crt"
    probe $node7 GET "$URL"
    check "$1 resume: the certificate file changed: not offered, a full handshake" has 'status=200 .*resumed=0'
    rm -f "$D/srv.events"
    probe --cert "$D/certs/node-7.crt" --key "$D/certs/other.key" --session "$S" GET "$URL"
    check "$1 resume: another key: not offered, and it is the error, as ever" has 'error=tls failure detail=client certificate or key'
}
resume "TLS 1.3"
export SRV_TLS12=1
resume "TLS 1.2"
unset SRV_TLS12

benv__sign inter "lockbox test intermediate CA" "basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
benv__sign node-i node-i "extendedKeyUsage=clientAuth" inter
cat "$D/certs/ca.crt" "$D/certs/inter.crt" >"$D/ca+inter.crt"
printf 'not a PEM file\n' >"$D/garbage.pem"
mtls "TLS 1.3"
export SRV_TLS12=1
mtls "TLS 1.2"
unset SRV_TLS12

serve ok
OUT=$("$PROBE" --ca "$D/certs/other.crt" GET "$URL" 2>&1)
check "a CA that did not sign the server: tls failure, certificate refused" has 'error=tls failure detail=peer certificate refused'
probe GET "https://localhost:$(cat "$D/srv.port")/v1/x"
check "a name (resolved, checked against the certificate): answered" has 'status=200'
for bad in "$D/certs/nonexistent.crt" "$D/garbage.pem"; do
    rm -f "$D/srv.events"
    OUT=$("$PROBE" --ca "$bad" GET "$URL" 2>&1)
    check "a CA file that cannot be read or holds no certificate ($(basename "$bad")): tls failure naming it" has "error=tls failure detail=CA file $bad"
    check "... found after the ClientHello left: handshake cut, no request" saw accept hello fail
done
# A CA file of 1001 certificates takes the client some 100 ms: the server's answer is there long
# before, and must wait for it, not be checked against an empty store.
awk '{ l[NR] = $0 } END { for (i = 0; i < 1000; i++) for (j = 1; j <= NR; j++) print l[j] }' \
    "$D/certs/other.crt" >"$D/many.crt"
cat "$D/many.crt" "$D/certs/ca.crt" >"$D/many+ca.crt"
rm -f "$D/srv.events"
probe --ca "$D/many+ca.crt" GET "$URL"
check "a CA file of 1001 certificates, the server's CA last: answered" has 'status=200'
check "... the ClientHello left before it was loaded (hello +$(since accept hello) ms, request +$(since accept req) ms)" \
    test "$(($(since accept hello) * 3))" -lt "$(since hello req)"
probe --ca "$D/many.crt" GET "$URL"
check "... the same without the server's CA: certificate refused" has 'error=tls failure detail=peer certificate refused'
probe GET "http://127.0.0.1:$(cat "$D/srv.port")/v1/x"
check "a plain http URL: configuration error" has 'error=configuration error'
serve ok elsewhere
probe GET "$URL"
check "a certificate for another address: tls failure" has 'error=tls failure detail=peer certificate refused'
probe GET "https://localhost:$(cat "$D/srv.port")/v1/x"
check "a certificate for another name: tls failure" has 'error=tls failure detail=peer certificate refused'
rm -f "$D/srv.conns"
probe --bearer "$(printf 'a\r\nX-Evil: 1')" GET "$URL"
check "a token that would make a header line: refused before sending" has 'error=invalid argument'
check "... and nothing was sent" test "$(conns)" = 0
kill "$SRV" 2>/dev/null
wait "$SRV" 2>/dev/null
probe GET "$URL"
check "nobody listening: broker unreachable, connection refused" has 'error=broker unreachable.*refused'
OUT=$("$PROBE" --ca "$D/certs/nonexistent.crt" GET "$URL" 2>&1)
check "nobody listening and a CA file that cannot be read: the CA file is the error, as ever" has 'error=tls failure detail=CA file'
T=600 probe GET "https://lockbox-no-such-host.invalid/v1/x"
check "a name that does not resolve: unreachable or timed out, within the deadline ($(ms) ms)" sh -c "echo '$OUT' | grep -q '^error=broker' && [ $(ms) -le 900 ]"
tap_done
