#!/bin/sh
# TLS session resumption (stateless tickets, tls_session_lifetime): a host resumes and gets its
# token over the resumed connection (one process, and across two workers); a resumed person
# stays a person and a resumed host a host; the store is asked afresh on every request (a host
# removed, a person disabled: refused); a certificate that expires ends its sessions; the
# lifetime counts from the full handshake (chained TLS 1.3 renewals included); lifetime 0 sends
# no ticket; a reload with the same CAs keeps tickets, with other CAs or a restart drops them; a
# tampered or garbage ticket gives a full handshake and nothing from the ticket.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
. "$(dirname "$0")/../support/pki.sh"
benv_init
C=$BENV_DIR/certs
S=$BENV_DIR/sess
mkdir -p "$S"
benv_person_cert carol
benv_person_cert dave
benv_config "people_ca = $C/people-ca.crt"
if ! benv_start; then
    echo "not ok - lockboxd starts"
    exit 1
fi
benv_seed
field() { benv_json "j[\"$1\"]"; }
LOGIN='{"host":"node-7","login":"support-alice"}'

# tls CERT METHOD PATH [BODY [s_client options...]]: one HTTPS request on a connection of its
# own, with client certificate certs/CERT ("-": none). Prints "New STATUS" or "Reused STATUS"
# (STATUS 000 when no answer came); the body's JSON line in $S/body, the transcript in $S/out.
tls() {
    _cert=$1 _m=$2 _p=$3 _b=${4:-}
    shift 3; [ $# -gt 0 ] && shift
    set -- -connect "127.0.0.1:$BENV_PORT" -servername localhost -CAfile "$C/ca.crt" -ign_eof "$@"
    [ "$_cert" = - ] || set -- -cert "$C/$_cert.crt" -key "$C/$_cert.key" "$@"
    printf '%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' \
        "$_m" "$_p" "${#_b}" "$_b" | timeout 10 openssl s_client "$@" >"$S/out" 2>&1
    tls_result "$S/out"
    grep -m1 '^{' "$S/out" >"$S/body"
}
# tls_result FILE: "New|Reused|none STATUS..." from an s_client transcript (every answer's status)
tls_result() {
    _mode=$(grep -m1 -oE '^(New|Reused), TLSv1\.[23]' "$1" | cut -d, -f1)
    _st=$(grep '^HTTP/1.1 ' "$1" | cut -d' ' -f2 | tr '\n' ' ' | sed 's/ $//')
    echo "${_mode:-none} ${_st:-000}"
}
# aud_of: the audience of the token in $S/body
aud_of() { field token <"$S/body" | cut -d. -f2 | python3 -c 'import sys,base64,json; s=sys.stdin.read().strip(); print(json.loads(base64.urlsafe_b64decode(s+"="*(-len(s)%4)))["aud"])'; }
reloads() { grep -c 'configuration reloaded' "$BENV_DIR/lockboxd.log"; }
# hup N: SIGHUP, then wait for N more "configuration reloaded" lines (the parent and each worker)
hup() {
    _want=$(($(reloads) + $1)); kill -HUP "$BENV_PID"; _i=0
    while [ "$(reloads)" -lt $_want ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
    [ "$(reloads)" -ge $_want ]
}
# ten_times RESULT SESSION: ten connections without a certificate offering SESSION, each RESULT
ten_times() {
    for _n in 1 2 3 4 5 6 7 8 9 10; do
        _r=$(tls - GET /v1/host/grants/none "" -sess_in "$2")
        [ "$_r" = "$1" ] || { diag "attempt $_n: $_r"; return 1; }
    done
}
# ticket_edit IN OUT flip|garbage: a copy of a saved session whose ticket has one bit flipped, or
# is random bytes of the same length
ticket_edit() {
    python3 - "$@" <<'PY'
import base64, os, sys
src, dst, how = sys.argv[1:4]
der = bytearray(base64.b64decode(''.join(l for l in open(src).read().splitlines() if not l.startswith('-----'))))
def tlv(i):
    tag, n, i = der[i], der[i + 1], i + 2
    if n & 0x80:
        k = n & 0x7f
        n, i = int.from_bytes(der[i:i + k], 'big'), i + k
    return tag, i, n
_, i, n = tlv(0)
end = i + n
while i < end:
    tag, j, n = tlv(i)
    if tag == 0xaa:  # [10] the ticket, an OCTET STRING
        _, k, m = tlv(j)
        if how == 'flip':
            der[k + m // 2] ^= 1
        else:
            der[k:k + m] = os.urandom(m)
        break
    i = j + n
else:
    sys.exit('no ticket in ' + src)
b = base64.b64encode(bytes(der)).decode()
with open(dst, 'w') as f:
    f.write('-----BEGIN SSL SESSION PARAMETERS-----\n')
    f.write(''.join(b[x:x + 64] + '\n' for x in range(0, len(b), 64)))
    f.write('-----END SSL SESSION PARAMETERS-----\n')
PY
}

id=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-R","reason":"resume","duration":"4h"}' | field id)
benv_api carol POST "/v1/requests/$id/approve" '{}' >/dev/null

# -- one process: a host resumes, over TLS 1.3 and 1.2
check "node-7, full handshake: token 200" test "$(tls node-7 POST /v1/host/token "$LOGIN" -sess_out "$S/n7")" = "New 200"
check "node-7 resumes (TLS 1.3): token 200 over the resumed connection" \
    test "$(tls node-7 POST /v1/host/token "$LOGIN" -sess_in "$S/n7" -sess_out "$S/n7b")" = "Reused 200"
check "  the token is node-7's" test "$(aud_of)" = node-7
check "the renewed ticket of a resumed connection resumes too" \
    test "$(tls node-7 POST /v1/host/token "$LOGIN" -sess_in "$S/n7b")" = "Reused 200"
check "resumed without presenting a certificate: still node-7" \
    test "$(tls - POST /v1/host/token "$LOGIN" -sess_in "$S/n7")" = "Reused 200"
tls node-7 GET /v1/host/grants/none "" -tls1_2 -sess_out "$S/n7-12" >/dev/null
check "node-7 resumes (TLS 1.2): token 200" test "$(tls node-7 POST /v1/host/token "$LOGIN" -tls1_2 -sess_in "$S/n7-12")" = "Reused 200"
check "  the token is node-7's" test "$(aud_of)" = node-7
check "a resumed host is no person (/v1/whoami 401)" test "$(tls - GET /v1/whoami "" -sess_in "$S/n7")" = "Reused 401"

# -- people: a resumed person stays that person, never a host
out=$(tls person-carol GET /v1/whoami "" -sess_out "$S/carol")
check "carol's person certificate, full handshake: whoami 200" test "$out" = "New 200"
check "carol resumes: whoami 200" test "$(tls - GET /v1/whoami "" -sess_in "$S/carol")" = "Reused 200"
check "  as carol" test "$(field name <"$S/body")" = carol
check "a resumed person is no host (token 401)" \
    test "$(tls - POST /v1/host/token '{"host":"carol","login":"support-alice"}' -sess_in "$S/carol")" = "Reused 401"

# -- the store is asked on every request: a host removed, a person disabled after the ticket
benv_api admin POST /v1/hosts '{"id":"rs-gone","tenant":"contoso"}' >/dev/null
benv_host_cert rs-gone
check "host rs-gone, full handshake: authenticated (404 for no grant)" \
    test "$(tls rs-gone GET /v1/host/grants/none "" -sess_out "$S/gone")" = "New 404"
benv_sql "DELETE FROM hosts WHERE id='rs-gone'"
check "rs-gone removed from the store: refused over a resumed connection (403)" \
    test "$(tls rs-gone GET /v1/host/grants/none "" -sess_in "$S/gone")" = "Reused 403"
tls person-dave GET /v1/whoami "" -sess_out "$S/dave" >/dev/null
benv_api admin DELETE /v1/identities/dave >/dev/null
check "dave disabled: refused over a resumed connection (401)" test "$(tls - GET /v1/whoami "" -sess_in "$S/dave")" = "Reused 401"

# -- tampered tickets: a full handshake, nothing taken from the ticket
ticket_edit "$S/n7" "$S/flip" flip && ticket_edit "$S/n7" "$S/garbage" garbage
check "a ticket with one bit flipped: full handshake, no host without a certificate (401)" \
    test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/flip")" = "New 401"
check "  with node-7's certificate: a full handshake that works (404)" \
    test "$(tls node-7 GET /v1/host/grants/none "" -sess_in "$S/flip")" = "New 404"
check "a garbage ticket: full handshake, nothing from it (401)" \
    test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/garbage")" = "New 401"
check "the broker still serves resumptions" test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/n7")" = "Reused 404"

# -- a certificate that expires: neither a resumption nor a kept connection outlives it
benv_api admin POST /v1/hosts '{"id":"rs-exp","tenant":"contoso"}' >/dev/null
until=$(date -u -d "@$(($(date +%s) + 4))" +%Y%m%d%H%M%SZ)
pki_cert "$C" ca rs-exp rs-exp client "until:$until"
check "rs-exp's certificate ends within seconds" \
    sh -c "openssl x509 -in '$C/rs-exp.crt' -noout -checkend 3600 >/dev/null; [ \$? = 1 ]"
check "rs-exp, full handshake before notAfter: 404" test "$(tls rs-exp GET /v1/host/grants/none "" -sess_out "$S/exp")" = "New 404"
req() { printf 'GET /v1/host/grants/none HTTP/1.1\r\nHost: localhost\r\nConnection: %s\r\n\r\n' "$1"; }
kept() { # kept OUT s_client-options...: two requests on one connection, the second after notAfter
    _o=$1; shift
    { req keep-alive; sleep 5; req close; } | timeout 15 openssl s_client -connect "127.0.0.1:$BENV_PORT" \
        -servername localhost -CAfile "$C/ca.crt" -ign_eof "$@" >"$_o" 2>&1
}
kept "$S/kept-full" -cert "$C/rs-exp.crt" -key "$C/rs-exp.key" &
k1=$!
kept "$S/kept-resumed" -sess_in "$S/exp" &
k2=$!
tap_cleanup "kill $k1 $k2 2>/dev/null"
wait $k1 $k2
check "a full-handshake connection kept past notAfter: 404, then 401" test "$(tls_result "$S/kept-full")" = "New 404 401"
check "a resumed connection kept past notAfter: 404, then 401" test "$(tls_result "$S/kept-resumed")" = "Reused 404 401"
r=$(tls - GET /v1/host/grants/none "" -sess_in "$S/exp")
check "resuming after notAfter: not resumed, refused ($r)" test "$r" = "New 401"

# -- reload: the same CAs keep tickets, other CAs drop them
tls node-7 GET /v1/host/grants/none "" -sess_out "$S/pre" >/dev/null
check "SIGHUP with the same files: reloaded" hup 1
check "  a ticket from before resumes" test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/pre")" = "Reused 404"
benv_ca other "another lockbox host CA"
cat "$C/ca.crt" "$C/other.crt" >"$C/bundle.crt"
sed -i "s|^client_ca = .*|client_ca = $C/bundle.crt|" "$BENV_DIR/lockboxd.conf"
check "SIGHUP with another client_ca: reloaded" hup 1
check "  a ticket from before: full handshake (401 without a certificate)" \
    test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/pre")" = "New 401"
check "  node-7's full handshake still works" test "$(tls node-7 GET /v1/host/grants/none "" -sess_out "$S/post")" = "New 404"

# -- restart: a new secret, no old ticket resumes
benv_stop
benv_start
check "after a restart, a ticket from before: full handshake (401)" \
    test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/post")" = "New 401"

# -- the lifetime counts from the full handshake, renewals included
benv_stop
echo "tls_session_lifetime = 3s" >>"$BENV_DIR/lockboxd.conf"
benv_start
tls node-7 GET /v1/host/grants/none "" -sess_out "$S/l1" >/dev/null
sleep 1.5
check "lifetime 3s: resumed after 1.5 s" test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/l1" -sess_out "$S/l2")" = "Reused 404"
sleep 2
check "  its renewed ticket 3.5 s after the full handshake: full handshake" \
    test "$(tls - GET /v1/host/grants/none "" -sess_in "$S/l2")" = "New 401"

# -- lifetime 0: no ticket at all (TLS 1.3 and 1.2), a saved session is not reused
benv_stop
sed -i 's/^tls_session_lifetime = .*/tls_session_lifetime = 0/' "$BENV_DIR/lockboxd.conf"
benv_start
no_ticket() { grep -q 'Verify return code: 0' "$S/out" && ! grep -q NewSessionTicket "$S/out"; }
tls node-7 GET /v1/host/grants/none "" -msg -sess_out "$S/z13" >/dev/null
check "lifetime 0, TLS 1.3: no NewSessionTicket" no_ticket
tls node-7 GET /v1/host/grants/none "" -tls1_2 -msg -sess_out "$S/z12" >/dev/null
check "lifetime 0, TLS 1.2: no NewSessionTicket" no_ticket
check "lifetime 0: no session saved by the client, nothing to resume" test ! -s "$S/z13" -a ! -s "$S/z12"

# -- two workers: tickets of one are resumed by the other
benv_stop
sed -i '/^tls_session_lifetime/d' "$BENV_DIR/lockboxd.conf"
echo "workers = 2" >>"$BENV_DIR/lockboxd.conf"
: >"$BENV_DIR/lockboxd.log"
benv_start
check "workers = 2: full handshake, token 200" test "$(tls node-7 POST /v1/host/token "$LOGIN" -sess_out "$S/w")" = "New 200"
bad=0
for i in $(seq 20); do
    r=$(tls - POST /v1/host/token "$LOGIN" -sess_in "$S/w")
    [ "$r" = "Reused 200" ] && [ "$(aud_of)" = node-7 ] || { bad=$((bad + 1)); diag "resumption $i: $r"; }
done
check "20 resumptions without a certificate: all resumed, each a token for node-7" test $bad -eq 0
pids=$(grep -o 'resumed a host session (pid [0-9]*' "$BENV_DIR/lockboxd.log" | sort -u | wc -l)
check "  served by both workers ($pids processes resumed)" test "$pids" -eq 2
check "SIGHUP with the same files: the parent and both workers reloaded" hup 3
check "  10 resumptions of a ticket from before: all resumed" ten_times "Reused 404" "$S/w"
sed -i "s|^client_ca = .*|client_ca = $C/ca.crt|" "$BENV_DIR/lockboxd.conf"
check "SIGHUP with another client_ca: reloaded everywhere" hup 3
check "  10 attempts with a ticket from before: none resumed" ten_times "New 401" "$S/w"

# -- configuration
bad=$BENV_DIR/bad.conf
cp "$BENV_DIR/lockboxd.conf" "$bad"
echo "tls_session_lifetime = 9h" >>"$bad"
check "tls_session_lifetime over 8h is refused with file:line" \
    sh -c "'$BENV_BUILD/lockboxd' --check-config '$bad' 2>&1 | grep -q 'bad.conf:[0-9]*:.*tls_session_lifetime'"
benv_stop
check "lockboxd stopped cleanly" test "$BENV_EXIT" = 0
tap_done
