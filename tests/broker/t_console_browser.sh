#!/bin/sh
# The web console end to end: the real lockboxd, a real OpenID provider (Debian's glewlwyd, on
# 127.0.0.1 with users of its own) and a real headless Chromium driven by python3-selenium.
# Sign-in through the provider's own login page, Pending / detail / Active / Recent / Audit,
# Approve and Deny (with the reason the engineer then sees), Revoke (the host's next grant
# check says revoked), escaping of hostile request text, another tenant's approver, the
# requester's own request, CSRF (no token, wrong token, foreign Origin, cross-site form),
# sign-out, idle timeout, and the console link in notifications. Screenshots of every page are
# kept in $BUILD/test-logs/console/.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
. "$(dirname "$0")/../support/console_env.sh"

SHOTS="$BENV_TOP/${BUILD:-build}/test-logs/console"
rm -rf "$SHOTS"; mkdir -p "$SHOTS"

cenv_boot 30s carol:pw-carol-1:carol@example.test frieda:pw-frieda-1:frieda@example.test \
    alice:pw-alice-1:alice@example.test mallory:pw-mallory-1:mallory@example.test \
    ada:pw-ada-1:ada@example.test gail:pw-gail-1:gail@example.test
D=$BENV_DIR
PORT=$CONSOLE_PORT
benv__person frieda "" frieda@example.test owner subscription:fab
benv__person ada "" ada@example.test auditor global
benv__person gail "" gail@example.test global-admin tenant:contoso

# Requests: hostile text in ticket and justification.
A=$(cenv_request alice node-7 INC-1 "disk full on /var")
B=$(cenv_request bob node-7 "$CENV_XSS_TICKET" "$CENV_XSS_REASON")
F=$(cenv_request alice fab-1 FAB-9 "fabrikam only")
C=$(cenv_request bob node-9 INC-3 "contoso, left pending")
check "four requests are pending ($A, $B, $F, $C)" test -n "$A" -a -n "$B" -a -n "$F" -a -n "$C"

# browse SCENARIO USER PASSWORD ARGS...: its report lines become this script's
browse() {
    _s=$1; shift
    /usr/bin/python3 "$BENV_TOP/tests/broker/console_browser.py" "$_s" "$CONSOLE" "$SHOTS" "$@" >"$D/browser-$_s.out" 2>"$D/browser-$_s.err"
    while IFS= read -r line; do
        case $line in
            "ok - "*) ok "${line#ok - }" ;;
            "not ok - "*) fail "${line#not ok - }" ;;
            *) echo "$line" ;;
        esac
    done <"$D/browser-$_s.out"
    grep -q "^ok - \|^not ok - " "$D/browser-$_s.out" || { fail "browser scenario $_s ran"; sed 's/^/# /' "$D/browser-$_s.err" | tail -5; }
}

check "the approvers' mail carries the request's console link" \
    grep -q "^$CONSOLE/#/requests/$A\$" "$D/mail/0"
check "the webhook/mail payload carries it as \"url\"" grep -q "\"url\":\"$CONSOLE/#/requests/$A\"" "$D/mail/0"

browse approve carol pw-carol-1 "$A" "$B" "[\"$(printf '%s' "$CENV_XSS_REASON" | sed 's/"/\\"/g')\", \"$(printf '%s' "$CENV_XSS_TICKET" | sed 's/"/\\"/g')\"]"
SID=$(sed -n 's/^# session-cookie //p' "$D/browser-approve.out")
CSRF=$(sed -n 's/^# csrf //p' "$D/browser-approve.out")

check "the approval is recorded as carol's" test "$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["decided_by"]')" = carol
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}' >/dev/null
check "the host now gets a grant token for alice (what her SSH login asks for)" test "$(benv_status)" = 200
check "the denial's reason is what the engineer sees" \
    test "$(benv_api bob GET "/v1/requests/$B" | benv_json 'j["comment"]')" = "$CENV_XSS_REASON"
check "the denial is carol's" test "$(benv_api admin GET "/v1/requests/$B" | benv_json 'j["status"]')" = denied

# CSRF and the session cookie from outside the page (curl as an attacker would).
cs() { curl -s -o /dev/null -w '%{http_code}' --cacert "$D/certs/ca.crt" -b "__Host-lbx_session=$SID" "$@"; }
check "GET /v1/whoami with the console session works (200)" test "$(cs "$BENV_URL/v1/whoami")" = 200
check "a state change with the right token but a foreign Origin is refused (403)" \
    test "$(cs -X POST -H "X-CSRF-Token: $CSRF" -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d '{}' "$BENV_URL/v1/requests/$F/deny")" = 403
check "one with the token and no Origin is refused (403)" \
    test "$(cs -X POST -H "X-CSRF-Token: $CSRF" -H 'Content-Type: application/json' -d '{}' "$BENV_URL/v1/requests/$F/deny")" = 403
check "a cross-site form post (no token) is refused (403)" \
    test "$(cs -X POST -H "Origin: https://localhost:$GLW_PORT" -H 'Content-Type: application/x-www-form-urlencoded' -d 'comment=x' "$BENV_URL/v1/requests/$A/revoke")" = 403
check "the refusals are audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused' AND body LIKE '%Origin%'")" -ge 2
check "a made-up session cookie is refused (401)" \
    test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$D/certs/ca.crt" -b "__Host-lbx_session=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')" "$BENV_URL/v1/whoami")" = 401
check "two session cookies (one planted) are refused (401)" \
    test "$(cs -b "__Host-lbx_session=$SID; __Host-lbx_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" "$BENV_URL/v1/whoami")" = 401
check "an unknown console path is a 404 page" test "$(cs "$BENV_URL/static/../lockboxd.conf")" = 404
check "a callback without this browser's state is refused (400)" \
    test "$(cs "$BENV_URL/auth/callback?code=x&state=$(openssl rand -hex 20)")" = 400
check "and audited as console_sign_in_refused" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='console_sign_in_refused'")" -ge 1
# The session is idle from here (the idle timeout is 30 s); checked after the other scenarios.
IDLE_FROM=$(date +%s)

browse revoke carol pw-carol-1 "$A"
check "the revocation is carol's, with her reason" \
    test "$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["revoke_comment"]')" = "incident over"
benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}' >"$D/tok"
check "the host's next token call for alice is refused as revoked" grep -q '"revoked"' "$D/tok"

# The host's recording of alice's session: hostile output (markup, an OSC title, a hyperlink
# and a clipboard write), a backspace edit and a long idle gap.
G=$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["grant_id"]')
python3 - "$G" >"$D/cast.json" <<'PY'
import json, sys
lines = [{"version": 2, "width": 80, "height": 24},
         [0.1, "o", "$ df -h /var\r\n"],
         [0.3, "o", "\x1b[1;31m<script>window.__lbx_xss=true</script><img src=x onerror=window.__lbx_xss=true>\x1b[0m\r\n"],
         [0.5, "o", "\x1b]0;owned\x07\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07\x1b]52;c;ZXZpbA==\x07\r\n"],
         [0.7, "o", "abc\b\bX\r\n"],
         [30.0, "o", "done\r\n"]]
print(json.dumps({"grant_id": sys.argv[1], "login": "support-alice", "session": "s-web-1",
                  "cast": "".join(json.dumps(l) + "\n" for l in lines)}))
PY
benv_host_api node-7 POST /v1/host/recordings "$(cat "$D/cast.json")" >/dev/null
check "node-7 sends the recording of alice's session (204)" test "$(benv_status)" = 204
browse audit ada pw-ada-1 "$A"
check "the replay is audited as ada's" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='recording_viewed' AND json_extract(body,'\$.actor')='ada'")" -ge 1
browse tenant frieda pw-frieda-1 "$F" "$C" "$A" "$B"
browse own alice pw-alice-1 "$F"
browse policies gail pw-gail-1 dave
check "the policy gail saved is contoso's, as she set it" \
    test "$(benv_api admin GET /v1/policies/tenant:contoso | benv_json 'j["stored"]')" = '{"access_duration": 5400, "approvals_required": 1, "internal_review": false, "request_ttl": 10800}'
check "fabrikam's policy is untouched" test "$(benv_api admin GET /v1/policies/tenant:fabrikam | benv_json 'j["stored"]')" = '{}'
check "her role change is audited as hers" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action IN ('role_assigned','role_removed') AND json_extract(body,'\$.actor')='gail'")" -eq 2
browse refused mallory pw-mallory-1
check "the refused sign-in is audited with its reason" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='console_sign_in_refused' AND body LIKE '%no enabled lockbox identity%'")" -ge 1
idle=$(( $(date +%s) - IDLE_FROM ))
[ "$idle" -gt 31 ] || sleep $(( 32 - idle ))
check "after the idle timeout the session is over (401)" test "$(cs "$BENV_URL/v1/whoami")" = 401
check "sign-ins are audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='console_signed_in'")" -ge 4
check "sign-out is audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='console_signed_out'")" -ge 1
check "API tokens keep working beside the console" test "$(benv_ctl carol list >/dev/null 2>&1; echo $?)" = 0
check "the audit chain verifies" sh -c "'$BENV_BUILD/lockboxctl' audit verify --db '$D/lockbox.db' >/dev/null 2>&1"
check "a screenshot of every page is kept" test "$(ls "$SHOTS" | grep -c png)" -ge 8
tap_done
