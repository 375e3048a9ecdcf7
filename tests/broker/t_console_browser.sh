#!/bin/sh
# The web console end to end: the real lockboxd, a real OpenID provider (Debian's glewlwyd, on
# 127.0.0.1 with users of its own) and a real headless Chromium driven by python3-selenium.
# Sign-in through the provider's own login page, Pending / detail / Active / Recent / Audit,
# Approve and Deny, Revoke, with the engineers at the door of a real host (the host-gate
# harness: sshd, pam_lockbox, the hook and the reaper asking this lockboxd): refused before the
# approval, let in after it, a denial's reason on the engineer's screen, and a live session ended
# by Revoke within the revocation lag. Escaping of hostile request text, another tenant's
# approver, the requester's own request, CSRF (no token, wrong token, foreign Origin,
# cross-site form), sign-out, idle timeout, and the console link in notifications. Screenshots of every page are
# kept in $BUILD/test-logs/console/.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
. "$(dirname "$0")/../support/console_env.sh"
. "$(dirname "$0")/../support/hostgate_env.sh"
. "$(dirname "$0")/../support/grants.sh"

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

# The engineers' host, in contoso's subscription prod (carol approves), its grants checked
# every second: erin's request is approved and then revoked, drew's denied.
hg_setup && grants_enroll_host contoso prod || cenv__fail "the host-gate harness is set up, its host enrolled"
hg_config poll_interval=1s
E=lbxe2e${HG_ID}s
N=lbxe2e${HG_ID}d
benv__person erin "$E" "" engineer global
benv__person drew "$N" "" engineer global
hg_user "$E" support && hg_user "$N" support || cenv__fail "the engineers' support accounts exist"
EU=$(id -u "$E")
hg_sshd_start || cenv__fail "sshd starts"
ok "sshd on 127.0.0.1:$HG_PORT gates $HG_HOST's support logins through this lockboxd"
# login USER COMMAND: the engineer's SSH login, what their screen shows in $out
login() { out=$(hg_ssh "$1" "$2" 2>&1 </dev/null); }
saw() { printf '%s\n' "$out" | grep -q "$@"; }
refused() { saw 'auth: denied' && ! saw -x in; }
let_in() { saw -x in && saw -x "$1"; }

# Requests: hostile text in ticket and justification.
A=$(cenv_request erin "$HG_HOST" INC-1 "disk full on /var")
B=$(cenv_request drew "$HG_HOST" "$CENV_XSS_TICKET" "$CENV_XSS_REASON")
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

login "$E" 'echo in; id -un'
check "before approval erin's SSH login is refused" refused
check "... her screen says $A awaits approval" saw "^banner: lockbox: no approved grant for $E on $HG_HOST .* request $A awaits approval"

browse approve carol pw-carol-1 "$A" "$B" "[\"$(printf '%s' "$CENV_XSS_REASON" | sed 's/"/\\"/g')\", \"$(printf '%s' "$CENV_XSS_TICKET" | sed 's/"/\\"/g')\"]"
SID=$(sed -n 's/^# session-cookie //p' "$D/browser-approve.out")
CSRF=$(sed -n 's/^# csrf //p' "$D/browser-approve.out")

check "the approval is recorded as carol's" test "$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["decided_by"]')" = carol
login "$E" 'echo in; id -un'
check "after the approval in the browser erin's SSH login is allowed (her command runs as $E)" let_in "$E"
check "the denial's reason is what the engineer sees in the API" \
    test "$(benv_api drew GET "/v1/requests/$B" | benv_json 'j["comment"]')" = "$CENV_XSS_REASON"
login "$N" 'echo in'
check "drew's SSH login after the denial is refused" refused
check "... his screen shows carol's reason as plain text" saw -F "was denied by carol: $CENV_XSS_REASON"
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

# A live session of erin's, with a nohup'd and a setsid'd process, for Revoke to end; when the
# connection closes and when the last process of hers is gone are written down as they happen.
(
    hg_ssh "$E" 'nohup sleep 1000 >/dev/null 2>&1 & setsid sleep 1001 >/dev/null 2>&1 </dev/null & echo up; sleep 1000' >"$D/live.out" 2>&1 </dev/null
    date +%s%3N >"$D/live.end"
) &
LIVE=$!
tap_cleanup "kill $LIVE"
hg_wait "grep -qx up '$D/live.out'" 10
check "erin's live SSH session runs under the grant" grep -qx up "$D/live.out"
(
    hg_wait "hg_no_procs $EU" 180
    date +%s%3N >"$D/procs.end"
) &
WATCH=$!
tap_cleanup "kill $WATCH"
browse revoke carol pw-carol-1 "$A"
check "the revocation is carol's, with her reason" \
    test "$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["revoke_comment"]')" = "incident over"
# The revocation lag: the reaper hears of it at its next grant check (1 s here), ends the
# session's cgroup at once; one more second for the browser's call and the teardown.
LAG=3000
t0=$(sed -n 's/^# revoke-confirmed-ms //p' "$D/browser-revoke.out")
hg_wait "[ -s '$D/live.end' ] && [ -s '$D/procs.end' ]" 10
lag_ssh=$(($(cat "$D/live.end" 2>/dev/null || echo 0) - ${t0:-0}))
lag_procs=$(($(cat "$D/procs.end" 2>/dev/null || echo 0) - ${t0:-0}))
check "Revoke on Active sessions ends erin's live SSH session within the revocation lag ($lag_ssh ms after carol confirmed, at most $LAG)" \
    test -n "$t0" -a "$lag_ssh" -ge 0 -a "$lag_ssh" -le "$LAG"
check "... and no process of $E remains ($lag_procs ms after, at most $LAG)" \
    test -n "$t0" -a "$lag_procs" -ge 0 -a "$lag_procs" -le "$LAG"
hg_uid_procs "$EU" | sed 's/^/# left: /'
check "... none the moment it is checked either" hg_no_procs "$EU"
login "$E" 'echo in'
check "after Revoke erin's SSH login is refused" refused
check "... her screen says who revoked it" saw "^banner: lockbox: .*$A was revoked by carol"

# The host's recording of erin's session: hostile output (markup, an OSC title, a hyperlink
# and a clipboard write), a backspace edit and a long idle gap.
G=$(benv_api admin GET "/v1/requests/$A" | benv_json 'j["grant_id"]')
python3 - "$G" "$E" >"$D/cast.json" <<'PY'
import json, sys
lines = [{"version": 2, "width": 80, "height": 24},
         [0.1, "o", "$ df -h /var\r\n"],
         [0.3, "o", "\x1b[1;31m<script>window.__lbx_xss=true</script><img src=x onerror=window.__lbx_xss=true>\x1b[0m\r\n"],
         [0.5, "o", "\x1b]0;owned\x07\x1b]8;;https://evil.example/\x07link\x1b]8;;\x07\x1b]52;c;ZXZpbA==\x07\r\n"],
         [0.7, "o", "abc\b\bX\r\n"],
         [30.0, "o", "done\r\n"]]
print(json.dumps({"grant_id": sys.argv[1], "login": sys.argv[2], "session": "s-web-1",
                  "cast": "".join(json.dumps(l) + "\n" for l in lines)}))
PY
benv_host_api "$HG_HOST" POST /v1/host/recordings "$(cat "$D/cast.json")" >/dev/null
check "$HG_HOST sends the recording of erin's session (204)" test "$(benv_status)" = 204
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
