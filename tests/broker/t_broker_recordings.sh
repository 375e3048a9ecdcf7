#!/bin/sh
# Session recordings at the broker: a host sends a session's asciicast v2 for a grant of its
# own (POST /v1/host/recordings with its client certificate); the broker checks its shape line
# by line and stores it with an audit event; the request's reviewers list and fetch it (each
# fetch audited), the engineer who ran the session and anyone outside the request's scope get
# 404. Malformed, oversized, misdirected and replayed uploads are refused and store nothing.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1

A=$(benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-1","reason":"disk","duration":"1h"}' | benv_json 'j["id"]')
benv_api carol POST "/v1/requests/$A/approve" '{}' >/dev/null
G=$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["grant_id"]')
P=$(benv_api bob POST /v1/requests '{"host":"node-7","ticket":"T-2","reason":"pending","duration":"1h"}' | benv_json 'j["id"]')
check "a granted request ($A, $G) and a pending one ($P)" test -n "$G" -a -n "$P"

# upload CERT JSON-BODY -> status
upload() { benv_host_api "$1" POST /v1/host/recordings "$2" >/dev/null; benv_status; }
# body GRANT LOGIN SESSION CAST-TEXT -> the JSON of an upload
body() { python3 -c 'import json,sys; print(json.dumps({"grant_id": sys.argv[1], "login": sys.argv[2], "session": sys.argv[3], "cast": sys.argv[4]}))' "$@"; }
NL='
'
HDR='{"version": 2, "width": 80, "height": 24, "timestamp": 1796000000}'
CAST="$HDR$NL"'[0.1, "o", "$ df -h /var\r\n"]'"$NL"'[0.5, "o", "\u001b[1;31m<script>alert(1)</script>\u001b[0m\r\n"]'"$NL"'[0.7, "i", "q"]'"$NL"'[0.9, "o", "\u001b]0;owned\u0007\u001b]52;c;ZXZpbA==\u0007done\r\n"]'"$NL"
stored() { benv_sql "SELECT count(*) FROM recordings"; }

check "node-7 sends the recording of alice's session (204)" \
    test "$(upload node-7 "$(body "$G" support-alice s-1 "$CAST")")" = 204
check "it is stored once, byte for byte" \
    test "$(benv_sql "SELECT cast_text FROM recordings WHERE session='s-1'")$NL" = "$CAST"
check "the same session again is refused (409)" test "$(upload node-7 "$(body "$G" support-alice s-1 "$CAST")")" = 409
check "another host's certificate: 404 (not its grant)" test "$(upload node-9 "$(body "$G" support-alice s-2 "$CAST")")" = 404
check "another tenant's host: 404" test "$(upload fab-1 "$(body "$G" support-alice s-3 "$CAST")")" = 404
check "a pending request has no grant: 404" test "$(upload node-7 "$(body "G-${P#LBX-}" support-bob s-4 "$CAST")")" = 404
check "a login the grant is not for: 400" test "$(upload node-7 "$(body "$G" support-bob s-5 "$CAST")")" = 400
check "a made-up grant: 404" test "$(upload node-7 "$(body G-99999 support-alice s-6 "$CAST")")" = 404
check "a person's token on the host endpoint: 401" \
    test "$(benv_api carol POST /v1/host/recordings "$(body "$G" support-alice s-7 "$CAST")" >/dev/null; benv_status)" = 401

n=0
while IFS='|' read -r what cast; do
    [ -n "$what" ] || continue
    n=$((n + 1))
    text=$(printf '%b' "$cast")
    check "malformed: $what -> 400" test "$(upload node-7 "$(body "$G" support-alice "bad-$n" "$text")")" = 400
done <<'BAD'
an empty cast|
a version 1 header|{"version": 1, "width": 80, "height": 24}\n
no width|{"version": 2, "height": 24}\n
a width of 0|{"version": 2, "width": 0, "height": 24}\n
a height of 100000|{"version": 2, "width": 80, "height": 100000}\n
a header that is an array|[2, 80, 24]\n
an event that is an object|{"version": 2, "width": 80, "height": 24}\n{"t": 1}\n
an event of two members|{"version": 2, "width": 80, "height": 24}\n[1.0, "o"]\n
an event with an unknown code|{"version": 2, "width": 80, "height": 24}\n[1.0, "x", "a"]\n
an event with a string time|{"version": 2, "width": 80, "height": 24}\n["1", "o", "a"]\n
time running backwards|{"version": 2, "width": 80, "height": 24}\n[2.0, "o", "a"]\n[1.0, "o", "b"]\n
a negative time|{"version": 2, "width": 80, "height": 24}\n[-1.0, "o", "a"]\n
data that is not a string|{"version": 2, "width": 80, "height": 24}\n[1.0, "o", {"a": 1}]\n
trailing garbage on a line|{"version": 2, "width": 80, "height": 24}\n[1.0, "o", "a"] x\n
a NUL escape in the data|{"version": 2, "width": 80, "height": 24}\n[1.0, "o", "a\\u0000b"]\n
a duplicate header member|{"version": 2, "version": 2, "width": 80, "height": 24}\n
deep nesting|{"version": 2, "width": 80, "height": 24, "env": {"a": {"b": {"c": {"d": {"e": 1}}}}}}\n
BAD
check "an unknown member in the upload: 400" \
    test "$(upload node-7 "{\"grant_id\":\"$G\",\"login\":\"support-alice\",\"session\":\"u\",\"cast\":\"x\",\"path\":\"/etc/passwd\"}")" = 400
big=$(python3 -c 'import json; print(json.dumps({"grant_id": "'"$G"'", "login": "support-alice", "session": "big", "cast": "{\"version\": 2, \"width\": 80, \"height\": 24}\n" + "[1.0, \"o\", \"%s\"]\n" % ("x" * 70000)}))')
check "a recording over max_body: 413" test "$(upload node-7 "$big")" = 413
check "none of the refused uploads was stored" test "$(stored)" -eq 1

# Reviewing: who may list and fetch.
R=$(benv_sql "SELECT id FROM recordings WHERE session='s-1'")
for who in carol dave admin audrey mike gina; do
    check "$who lists $A's recordings (200, one)" \
        test "$(benv_api "$who" GET "/v1/requests/$A/recordings" | benv_json 'len(j["recordings"])')" = 1
done
for who in alice bob fred; do
    benv_api "$who" GET "/v1/requests/$A/recordings" >/dev/null
    check "$who may not list them (404)" test "$(benv_status)" = 404
    benv_api "$who" GET "/v1/recordings/$R" >/dev/null
    check "$who may not fetch it (404)" test "$(benv_status)" = 404
done
check "carol fetches the recording: the text as stored" \
    test "$(benv_api carol GET "/v1/recordings/$R" | benv_json 'j["cast_text"]')$NL" = "$CAST"
check "listing carries no text" \
    test "$(benv_api carol GET "/v1/requests/$A/recordings" | benv_json '"cast_text" in j["recordings"][0]')" = false
for bad in 99999 abc -1 "$R.0" "%2e%2e"; do
    benv_api carol GET "/v1/recordings/$bad" >/dev/null
    check "recording '$bad': 404" test "$(benv_status)" = 404
done
benv_api carol GET "/v1/requests/LBX-99999/recordings" >/dev/null
check "recordings of an unknown request: 404" test "$(benv_status)" = 404
check "the upload is audited as the host's, for $A" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='recording_stored' AND json_extract(body,'\$.actor')='host:node-7' AND json_extract(body,'\$.request_id')='$A'")" -eq 1
check "each replay is audited with who watched" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='recording_viewed' AND json_extract(body,'\$.actor')='carol'")" -eq 1

# Whatever a session printed is in its recording: bidirectional marks and C1 characters as
# UTF-8 in an event's text are stored as sent (the player draws them as text); a raw control
# byte is not JSON and is refused. Elsewhere a "cast" member is plain text like any other.
RAW="$(printf '%s\n[0.1, "o", "\342\200\256evil\302\233 ok"]' "$HDR")$NL"
check "a cast with raw bidi and C1 characters in its output is stored (204)" \
    test "$(upload node-7 "$(body "$G" support-alice s-raw "$RAW")")" = 204
check "... byte for byte" \
    test "$(benv_sql "SELECT cast_text FROM recordings WHERE session='s-raw'")$NL" = "$RAW"
check "a cast with a raw ESC byte in an event: 400" \
    test "$(upload node-7 "$(body "$G" support-alice s-esc "$(printf '%s\n[0.1, "o", "\033[31m"]' "$HDR")$NL")")" = 400
benv_api alice POST /v1/requests "$(printf '{"host":"node-7","ticket":"T-3","reason":"r","duration":"1h","cast":"\\u202e"}')" >"$BENV_DIR/other"
check "a \"cast\" member on another endpoint is refused as control text (400)" \
    sh -c "test '$(benv_status)' = 400 && grep -q 'control character' '$BENV_DIR/other'"
check "the audit chain verifies" test "$(benv_audit_verify | grep -c 'audit chain OK')" -eq 1
tap_done
