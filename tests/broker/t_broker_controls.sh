#!/bin/sh
# No control character reaches anyone's terminal. The broker refuses C0 and C1 controls, DEL,
# bidirectional overrides and invalid UTF-8 in every string it is given — each body member of
# every endpoint, member names, query parameters, the path — with 400 and a clear message
# (tab and newline only in a reason or comment), and stores none of it. lockboxctl cleans
# everything it prints from a broker: data an older broker stored, and answers of a hostile
# broker (values and member names), in tables, `show`, --json and the audit export.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
HERE=$(dirname "$0")
benv_boot || exit 1
clean() { python3 "$HERE/../support/no_controls.py" "$@"; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
benv_api alice POST /v1/requests '{"host":"node-7","ticket":"T-1","reason":"r","duration":600}' >/dev/null
benv_api bob POST /v1/requests '{"host":"node-7","ticket":"T-2","reason":"r","duration":600}' >/dev/null
benv_api admin POST /v1/host-groups '{"id":"grp","tenant":"contoso"}' >/dev/null
snapshot() { benv_sql "SELECT (SELECT count(*) FROM requests) || '/' || (SELECT count(*) FROM tenants) || '/' || (SELECT count(*) FROM identities) || '/' || (SELECT count(*) FROM roles) || '/' || (SELECT count(*) FROM api_tokens) || '/' || (SELECT count(*) FROM policies) || '/' || (SELECT count(*) FROM approvals)"; }
before=$(snapshot)

# JSON escapes of what must never be stored: ESC (a CSI sequence), CSI as one C1 character,
# NEL, DEL, CR, BEL, an OSC title, RIGHT-TO-LEFT OVERRIDE, LINE SEPARATOR.
HOSTILE='\u001b[2J \u009b31m \u0085 \u007f \r \u0007 \u001b]0;x\u0007 \u202e \u2028'
# refused WHO METHOD PATH BODY-WITH-@ : the body once per hostile text (@ replaced), each 400
refused() {
    d=$(printf '%s' "$4" | tr '\\' '~') # dash's echo would act on a backslash
    for h in $HOSTILE; do
        body=$(printf '%s' "$4" | sed "s|@|$(printf '%s' "$h" | sed 's/\\/\\\\/g')|g")
        case $1 in
            host:*) out=$(benv_host_api "${1#host:}" "$2" "$3" "$body") ;;
            *) out=$(benv_api "$1" "$2" "$3" "$body") ;;
        esac
        if [ "$(benv_status)" != 400 ] || ! contains "$out" "control character"; then
            fail "$2 $3 $d with $(printf '%s' "$h" | tr '\\' '~'): 400 naming the control character (got $(benv_status))"
            return
        fi
    done
    ok "$2 $3 $d: every hostile text refused with 400"
}
refused alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r@","duration":600}'
refused alice POST /v1/requests '{"host":"node-7","ticket":"T@","reason":"r","duration":600}'
refused alice POST /v1/requests '{"host":"node-7@","ticket":"T","reason":"r","duration":600}'
refused alice POST /v1/requests '{"host_group":"grp@","ticket":"T","reason":"r","duration":600}'
refused carol POST /v1/requests/LBX-1/approve '{"comment":"ok@"}'
refused carol POST /v1/requests/LBX-1/deny '{"comment":"no@"}'
refused alice POST /v1/requests/LBX-1/revoke '{"comment":"x@"}'
refused admin POST /v1/tenants '{"id":"t1","name":"Evil@"}'
refused admin POST /v1/tenants '{"id":"t1@"}'
refused admin POST /v1/subscriptions '{"id":"s1","tenant":"contoso","name":"Evil@"}'
refused admin POST /v1/subscriptions '{"id":"s1","tenant":"contoso@"}'
refused admin POST /v1/hosts '{"id":"h1@","tenant":"contoso"}'
refused admin POST /v1/hosts '{"id":"h1","tenant":"contoso","subscription":"prod@"}'
refused admin POST /v1/host-groups '{"id":"g1@","tenant":"contoso"}'
refused admin POST /v1/host-groups/grp/members '{"host":"node-7@"}'
refused admin POST /v1/identities '{"name":"eve@"}'
refused admin POST /v1/identities '{"name":"eve","login":"support-eve@"}'
refused admin POST /v1/identities '{"name":"eve","email":"eve@example.test@"}'
refused admin POST /v1/roles '{"identity":"alice@","role":"engineer","scope":"global"}'
refused admin POST /v1/roles '{"identity":"alice","role":"engineer@","scope":"global"}'
refused admin POST /v1/roles '{"identity":"alice","role":"engineer","scope":"tenant:contoso@"}'
refused admin POST /v1/api-tokens '{"identity":"alice","label":"ci@"}'
refused admin POST /v1/api-tokens '{"identity":"alice@"}'
refused admin POST /v1/api-tokens '{"identity":"alice","expires_in":"30d@"}'
refused admin PUT /v1/policies/tenant:contoso '{"notify_webhook":"https://hooks.example.test/@"}'
refused admin PUT /v1/policies/tenant:contoso '{"lockbox":true,"x@":1}'
refused host:node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice@"}'
refused host:node-7 POST /v1/host/token '{"host":"node-7@","login":"support-alice"}'
refused host:node-7 POST /v1/host/sessions '{"grant_id":"G-1","login":"support-alice","session":"s@","event":"start","time":1}'
refused alice POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":"4h@"}'
refused alice POST /v1/requests '{"reason@":"r"}'

# Query parameters and the path, as bytes on the wire.
for q in '/v1/requests?status=pending%1B%5B2J' '/v1/audit?action=x%C2%9B' '/v1/requests?since=%0D1'; do
    out=$(benv_api admin GET "$q")
    check "GET $q: 400 naming the control character" test "$(benv_status)" = 400 -a -n "$(contains "$out" "control character" && echo y)"
done
raw_path() {
    python3 - "$BENV_PORT" "$BENV_DIR/certs/ca.crt" "$BENV_TOKEN_admin" "$1" <<'PY'
import socket, ssl, sys
port, ca, tok, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4].encode("latin-1")
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="127.0.0.1")
s.sendall(b"DELETE " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok.encode() + b"\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    data += b
print(data.split(b" ", 2)[1].decode())
PY
}
check "a path with a raw ESC is refused (4xx)" test "$(raw_path "/v1/identities/bob$(printf '\033')[2J" | cut -c1)" = 4
check "a path with raw C1 bytes is refused (4xx)" test "$(raw_path "/v1/identities/bob$(printf '\302\233')2J" | cut -c1)" = 4
check "bob was not disabled by either" test "$(benv_sql "SELECT disabled FROM identities WHERE name='bob'")" = 0
printf '{"host":"node-7","ticket":"T","reason":"r\377","duration":600}' >"$BENV_DIR/invalid"
benv_api alice POST /v1/requests "$(cat "$BENV_DIR/invalid")" >/dev/null
check "invalid UTF-8 in a body: 400" test "$(benv_status)" = 400
check "nothing of it was stored" test "$(snapshot)" = "$before"

# Tab and newline only where a field spans lines.
out=$(benv_api alice POST /v1/requests '{"host":"node-9","ticket":"T-3","reason":"line one\nline two\tend","duration":600}')
check "a reason with a newline and a tab: 201" test "$(benv_status)" = 201
benv_api carol POST /v1/requests/LBX-1/approve '{"comment":"fine\nby me"}' >/dev/null
check "a comment with a newline: 200" test "$(benv_status)" = 200
refused admin POST /v1/tenants '{"id":"t2","name":"two\nlines@"}'
benv_api admin POST /v1/tenants '{"id":"t3","name":"tab\there"}' >/dev/null
check "a tab in a one-line field (a tenant's name): 400" test "$(benv_status)" = 400

# Nothing unsafe anywhere in the store: every text column, every string of every audit event.
check "the store holds no control character (tab and newline aside)" python3 - "$BENV_DIR/lockbox.db" <<'PY'
import json, sqlite3, sys
BAD = lambda s: any((ord(c) < 0x20 and c not in "\t\n") or 0x7f <= ord(c) <= 0x9f or ord(c) in (0x202e, 0x2028) for c in s)
def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)
db = sqlite3.connect(sys.argv[1])
db.text_factory = lambda b: b.decode("utf-8", "strict")
for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
    for row in db.execute("SELECT * FROM " + t):
        for v in row:
            if isinstance(v, str) and (BAD(v) or (t == "audit" and v.startswith("{") and any(BAD(s) for s in strings(json.loads(v))))):
                sys.exit(1)
PY

# What an older broker stored before these checks: lockboxctl must not pass it on.
benv_sql "UPDATE requests SET reason = 'fine' || char(10) || 'approvers       mallory' || char(27) || '[2J' || char(155) || '31m' || char(8238) || 'txet',
    ticket = 'T' || char(27) || ']0;owned' || char(7), comment = 'ok' || char(13) || char(127) || char(133) WHERE id = 1"
benv_sql "UPDATE approvals SET comment = 'yes' || char(27) || '[1A' WHERE request = 1"
benv_sql "UPDATE tenants SET name = 'Contoso' || char(27) || '[31m' || char(155) || '1;1H' WHERE id = 'contoso'"
benv_sql "UPDATE identities SET email = 'x' || char(27) || '[8m@example.test' WHERE name = 'carol'"
benv_sql "UPDATE api_tokens SET label = 'lbl' || char(155) || '2J' || char(8232) WHERE identity = 'bob'"
benv_sql "UPDATE roles SET scope = 'global' || char(27) || '[H' WHERE identity = 'mike'"
# ctl_clean ARGS...: lockboxctl as admin, its stdout and stderr free of controls
# (under `make asan` a sanitizer report fails it too)
ctl_clean() { _o=$(benv_ctl admin "$@" 2>&1); ! contains "$_o" Sanitizer && printf '%s\n' "$_o" | clean; }
ctl_output() { benv_ctl "$@" 2>&1; }
for args in "show LBX-1" "list --all" "--json show LBX-1" "--json list --all" "tenant list" \
    "identity list" "api-token list" "role list" "--json role list" "request status LBX-1"; do
    # shellcheck disable=SC2086
    check "lockboxctl $args: no control character from the stored data" ctl_clean $args
done
out=$(ctl_output admin show LBX-1)
check "show prints the text around the controls" contains "$out" "owned"
check "a reason's second line is indented, never a field of its own" test "$(echo "$out" | grep -c '^approvers')" -eq 1
check "... and is shown under the reason" test "$(echo "$out" | grep -c '^                approvers       mallory')" -eq 1
# An event an older broker wrote with escapes in it (appended after the chain: export only).
benv_sql "INSERT INTO audit (seq, event_id, time, action, body, hash) SELECT max(seq) + 1, 'evil', 1, 'evil',
    '{\"action\":\"evil\",\"actor\":\"x\\u001b[2J' || char(155) || '\",\"justification\":\"a' || char(27) || 'b\",\"time\":1}', 'x' FROM audit"
for args in "audit export" "audit export --format csv" "audit export --db $BENV_DIR/lockbox.db" \
    "audit export --format csv --db $BENV_DIR/lockbox.db"; do
    # shellcheck disable=SC2086
    check "lockboxctl $args: no control character" ctl_clean $args
done

# A hostile broker: escapes in values and in member names, in a success and in an error.
H="$BENV_DIR/hostile"
mkdir -p "$H"
python3 "$HERE/../support/hostile_broker.py" "$H" "$BENV_DIR/certs/server.crt" "$BENV_DIR/certs/server.key" >"$H/log" 2>&1 &
HPID=$!
tap_cleanup "kill $HPID 2>/dev/null"
i=0; while [ ! -s "$H/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
hostile() { # STATUS BODY ARGS...: lockboxctl against it, output checked
    printf '%s\n%s' "$1" "$2" >"$H/answer"; shift 2
    _o=$(LOCKBOX_URL="https://127.0.0.1:$(cat "$H/port")" LOCKBOX_CA="$BENV_DIR/certs/ca.crt" LOCKBOX_TOKEN=x \
        "$BENV_BUILD/lockboxctl" "$@" 2>&1)
    ! contains "$_o" Sanitizer && printf '%s\n' "$_o" | clean
}
E='\u001b[2J\u009b1;1H\u202e'
REQ="{\"id\":\"LBX-1$E\",\"status\":\"pending$E\",\"requester\":\"m$E\",\"login\":\"l\",\"host\":\"h$E\",\"scope\":{\"tenant\":\"t$E\"},\"ticket\":\"T$E\",\"reason\":\"r$E\",\"approvers\":[\"a$E\"],\"approvals\":[{\"by\":\"b$E\",\"comment\":\"c$E\"}],\"x$E\":\"k\",\"grant_id\":\"G$E\",\"comment\":\"c$E\"}"
check "hostile broker: show" hostile 200 "$REQ" show LBX-1
check "hostile broker: --json show (member names too)" hostile 200 "$REQ" --json show LBX-1
check "hostile broker: list" hostile 200 "{\"requests\":[$REQ],\"next\":null}" list
check "hostile broker: whoami" hostile 200 "{\"name\":\"n$E\",\"login\":\"l$E\",\"roles\":[{\"role\":\"r$E\",\"scope\":\"s$E\"}]}" whoami
check "hostile broker: a table" hostile 200 "{\"tenants\":[{\"id\":\"i$E\",\"name\":\"n$E\",\"created\":1}]}" tenant list
check "hostile broker: an error message" hostile 403 "{\"error\":\"e$E\",\"message\":\"m$E\"}" show LBX-1
check "hostile broker: a new API token's answer" hostile 201 "{\"id\":\"T$E\",\"token\":\"s$E\",\"expires\":1}" api-token create alice
check "hostile broker: audit export" hostile 200 "{\"seq\":1,\"hash\":\"h\",\"body\":\"{\\\"action\\\":\\\"a\\u001b[2J\\u009b\\\"}\"}" audit export
benv_stop
tap_done
