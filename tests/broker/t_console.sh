#!/bin/sh
# The web console end to end: the real lockboxd, a real OpenID provider (Debian's glewlwyd, on
# 127.0.0.1 with users of its own) and a real headless Chromium driven by python3-selenium.
# Here without a browser: the pages and their headers, the sign-in redirect to the provider
# (PKCE, state, nonce, its cookie), the code exchange at the provider's token endpoint (a
# made-up code refused), state reuse, made-up session cookies, the console link in
# notifications. t_console_browser.sh drives the same set-up in headless Chromium.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
. "$(dirname "$0")/../support/console_env.sh"

cenv_boot 10s carol:pw-carol-1:carol@example.test frieda:pw-frieda-1:frieda@example.test \
    alice:pw-alice-1:alice@example.test mallory:pw-mallory-1:mallory@example.test
D=$BENV_DIR
PORT=$CONSOLE_PORT
benv__person frieda "" frieda@example.test owner subscription:fab

# Requests: hostile text in ticket and justification.
A=$(cenv_request alice node-7 INC-1 "disk full on /var")
B=$(cenv_request bob node-7 "$CENV_XSS_TICKET" "$CENV_XSS_REASON")
F=$(cenv_request alice fab-1 FAB-9 "fabrikam only")
check "three requests are pending ($A, $B, $F)" test -n "$A" -a -n "$B" -a -n "$F"

CURL="curl -s --cacert $D/certs/ca.crt"
$CURL -D "$D/h-root" -o "$D/root.html" "$BENV_URL/"
check "/ serves the console page" grep -q 'src="/static/app.js"' "$D/root.html"
for h in "Content-Security-Policy: default-src 'none'; script-src 'self'" "frame-ancestors 'none'" \
    "Strict-Transport-Security: max-age=" "X-Content-Type-Options: nosniff"; do
    check "its answer carries $h" grep -qi "$h" "$D/h-root"
done
check "the page has no inline script" sh -c "! grep -q '<script>' '$D/root.html' && ! grep -qi ' on[a-z]*=' '$D/root.html'"
check "/v1/ stays the API" test "$($CURL -o /dev/null -w '%{http_code}' "$BENV_URL/v1/health")" = 200

$CURL -D "$D/h-login" -o /dev/null "$BENV_URL/auth/login"
LOC=$(sed -n 's/^Location: //p' "$D/h-login" | tr -d '\r')
check "sign-in redirects to the provider's authorization endpoint (from its discovery)" \
    sh -c "case '$LOC' in https://127.0.0.1:$GLW_PORT/api/oidc/auth\?*) ;; *) exit 1 ;; esac"
for p in response_type=code client_id=lockbox-console code_challenge_method=S256 code_challenge= state= nonce= \
    "redirect_uri=https%3A%2F%2F127.0.0.1%3A$PORT%2Fauth%2Fcallback"; do
    check "with $p" sh -c "printf '%s' '$LOC' | grep -q '[?&]$p'"
done
STATE=$(printf '%s' "$LOC" | sed 's/.*[?&]state=\([^&]*\).*/\1/')
check "the state is bound to this browser by a SameSite=Lax, HttpOnly, Secure cookie" \
    grep -q "^Set-Cookie: __Host-lbx_login=$STATE; Path=/; Secure; HttpOnly; SameSite=Lax" "$D/h-login"
check "the real provider accepts the authorization request (redirects to its login page)" \
    sh -c "$CURL -o /dev/null -w '%{redirect_url}' '$LOC' | grep -q '/login.html?client_id=lockbox-console'"
check "the approvers' mail carries the request's console link" grep -q "^$CONSOLE/#/requests/$A\$" "$D/mail/0"
check "the notification payload carries it as \"url\"" grep -q "\"url\":\"$CONSOLE/#/requests/$A\"" "$D/mail/0"
code=$($CURL -o /dev/null -w '%{http_code}' -b "__Host-lbx_login=$STATE" "$BENV_URL/auth/callback?code=made-up-code&state=$STATE")
check "a made-up code is refused at the provider's token endpoint: sign-in refused (403, got $code)" test "$code" = 403
check "that refusal is audited" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='console_sign_in_refused' AND body LIKE '%HTTP 4%'")" -ge 1
code=$($CURL -o /dev/null -w '%{http_code}' -b "__Host-lbx_login=$STATE" "$BENV_URL/auth/callback?code=x&state=$STATE")
check "the state works once only (400, got $code)" test "$code" = 400
check "a callback without this browser's state is refused (400)" \
    test "$($CURL -o /dev/null -w '%{http_code}' "$BENV_URL/auth/callback?code=x&state=$(openssl rand -hex 20)")" = 400
check "a made-up session cookie is refused on the API (401)" \
    test "$($CURL -o /dev/null -w '%{http_code}' -b "__Host-lbx_session=$(openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')" "$BENV_URL/v1/whoami")" = 401
check "and audited as access_refused" test "$(benv_sql "SELECT count(*) FROM audit WHERE action='access_refused' AND body LIKE '%console session%'")" -ge 1
check "/auth/session without a session is 401" test "$($CURL -o /dev/null -w '%{http_code}' "$BENV_URL/auth/session")" = 401
check "sign-out without a session is 401" test "$($CURL -o /dev/null -w '%{http_code}' -X POST "$BENV_URL/auth/logout")" = 401
check "no path leaves the web folder (404)" test "$($CURL -o /dev/null -w '%{http_code}' --path-as-is "$BENV_URL/static/../lockboxd.conf")" = 404
check "an unknown console path is a 404 page" test "$($CURL -o /dev/null -w '%{http_code}' "$BENV_URL/nope")" = 404
check "API tokens keep working beside the console" sh -c "LOCKBOX_URL=$BENV_URL LOCKBOX_CA=$D/certs/ca.crt LOCKBOX_TOKEN=$BENV_TOKEN_carol '$BENV_BUILD/lockboxctl' list >/dev/null"
check "the audit chain verifies" sh -c "'$BENV_BUILD/lockboxctl' audit verify --db '$D/lockbox.db' >/dev/null 2>&1"
tap_done
