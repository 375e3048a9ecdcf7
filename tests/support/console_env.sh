# console_env.sh — the web console's harness: a real OpenID provider (Debian's glewlwyd on
# 127.0.0.1 over HTTPS, a certificate from broker_env.sh's test CA, a SQLite database of its
# own, configured through its administration API by glewlwyd_setup.py) and the broker harness's
# lockboxd with the console on. Source after tap.sh and broker_env.sh.
#
#   cenv_boot IDLE USER:PASSWORD:EMAIL...
#        checks chromium, chromedriver and glewlwyd are installed; benv_init, glewlwyd with these
#        users, lockboxd with the console (console_idle_timeout IDLE, mail through a command
#        that keeps each message in $BENV_DIR/mail/N), benv_seed. Sets CONSOLE (its origin),
#        CONSOLE_PORT, GLW_PORT, GLW_ISSUER. A failure is one "not ok" and exits.
#   cenv_request NAME HOST TICKET REASON   a 2h request as identity NAME; prints its id
#   CENV_XSS_TICKET, CENV_XSS_REASON       hostile markup for a ticket and a justification
#   glw_start REDIRECT_URI SECRET USER:PASSWORD:EMAIL...
#        glewlwyd alone: sets GLW_PID, GLW_PORT, GLW_ISSUER (https://127.0.0.1:PORT/api/oidc);
#        stopped by pid and deleted on exit
GLW_SQL=${GLW_SQL:-/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz}

. tests/support/ports.sh

CENV_XSS_TICKET='<img/src=x/onerror=window.__lbx_xss=true>'
CENV_XSS_REASON='</textarea><script>window.__lbx_xss=true;console.log("lbx-xss")</script> & "quotes" é'

cenv__fail() { fail "$1"; tap_done; exit 1; }

cenv_boot() {
    _idle=$1; shift
    for _need in /usr/bin/chromium /usr/bin/chromedriver /usr/bin/glewlwyd; do
        [ -x "$_need" ] || cenv__fail "$_need is installed (scripts/deps.sh --test)"
    done
    benv_init
    CONSOLE_PORT=$(free_port)
    CONSOLE="https://127.0.0.1:$CONSOLE_PORT"
    _secret=$(openssl rand -hex 24)
    glw_start "$CONSOLE/auth/callback" "$_secret" "$@" || cenv__fail "glewlwyd starts and is configured"
    ok "glewlwyd (the OpenID provider) runs on 127.0.0.1:$GLW_PORT with its own users"
    mkdir "$BENV_DIR/mail"
    cat >"$BENV_DIR/mail.sh" <<'SH'
#!/bin/sh
n=$(ls "$(dirname "$0")/mail" | wc -l)
{ echo "ARGS: $*"; cat; } >"$(dirname "$0")/mail/$n"
SH
    chmod 755 "$BENV_DIR/mail.sh"
    BENV_LISTEN_PORT=$CONSOLE_PORT benv_config "notify_command = $BENV_DIR/mail.sh" \
        "console_url = $CONSOLE" "console_web_dir = $BENV_TOP/broker/lockboxd/console/web" \
        "oidc_issuer = $GLW_ISSUER" "oidc_client_id = lockbox-console" \
        "oidc_client_secret = $_secret" "oidc_ca = $BENV_DIR/certs/ca.crt" \
        "console_idle_timeout = $_idle"
    benv_start || cenv__fail "lockboxd starts with the console"
    benv_seed
}

cenv_request() {
    benv_api "$1" POST /v1/requests "$(python3 -c 'import json,sys; print(json.dumps({"host": sys.argv[1], "ticket": sys.argv[2], "reason": sys.argv[3], "duration": "2h"}))' "$2" "$3" "$4")" |
        benv_json 'j["id"]'
}

glw_start() {
    GLW_DIR="$BENV_DIR/glewlwyd"
    mkdir -p "$GLW_DIR"
    benv__sign glewlwyd 127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
    GLW_PORT=$(free_port)
    # Its login pages, with the settings file they load (Debian's is a link to a directory).
    cp -rL /usr/share/glewlwyd/webapp "$GLW_DIR/webapp"
    rm -rf "$GLW_DIR/webapp/config.json"
    _cfg=/etc/glewlwyd/config-2.7.json
    [ -d "$_cfg" ] && _cfg="$_cfg/config.json"
    cp "$_cfg" "$GLW_DIR/webapp/config.json"
    zcat "$GLW_SQL" | sqlite3 "$GLW_DIR/glewlwyd.db" || return 1
    cat >"$GLW_DIR/glewlwyd.conf" <<EOF
port=$GLW_PORT
bind_address="127.0.0.1"
external_url="https://127.0.0.1:$GLW_PORT"
login_url="login.html"
api_prefix="api"
static_files_path="$GLW_DIR/webapp/"
allow_origin="https://127.0.0.1:$GLW_PORT"
log_mode="file"
log_level="WARNING"
log_file="$GLW_DIR/glewlwyd.log"
cookie_domain="127.0.0.1"
cookie_secure=1
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
user_middleware_module_path="/usr/lib/glewlwyd/user_middleware"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
use_secure_connection=true
secure_connection_key_file="$BENV_DIR/certs/glewlwyd.key"
secure_connection_pem_file="$BENV_DIR/certs/glewlwyd.crt"
hash_algorithm="SHA512"
database = { type = "sqlite3" path = "$GLW_DIR/glewlwyd.db" };
static_files_mime_types = (
  { extension = ".html" mime_type = "text/html" compress = 1 },
  { extension = ".css" mime_type = "text/css" compress = 1 },
  { extension = ".js" mime_type = "application/javascript" compress = 1 },
  { extension = ".json" mime_type = "application/json" compress = 1 },
  { extension = ".png" mime_type = "image/png" compress = 0 },
  { extension = ".ico" mime_type = "image/x-icon" compress = 0 },
  { extension = ".svg" mime_type = "image/svg+xml" compress = 1 },
  { extension = ".woff" mime_type = "font/woff" compress = 0 },
  { extension = ".woff2" mime_type = "font/woff2" compress = 0 }
)
EOF
    glewlwyd --config-file="$GLW_DIR/glewlwyd.conf" >"$GLW_DIR/stdout.log" 2>&1 &
    GLW_PID=$!
    benv__on_exit "glw_stop"
    _i=0
    until curl -s --cacert "$BENV_DIR/certs/ca.crt" -o /dev/null "https://127.0.0.1:$GLW_PORT/api/"; do
        _i=$((_i + 1))
        if [ $_i -gt 100 ] || ! kill -0 "$GLW_PID" 2>/dev/null; then
            echo "# glewlwyd did not start:"; tail -5 "$GLW_DIR"/*.log | sed 's/^/#   /'
            return 1
        fi
        sleep 0.1
    done
    GLW_ISSUER="https://127.0.0.1:$GLW_PORT/api/oidc"
    _redirect=$1; _secret=$2; shift 2
    /usr/bin/python3 "$BENV_TOP/tests/support/glewlwyd_setup.py" "https://127.0.0.1:$GLW_PORT" \
        "$BENV_DIR/certs/ca.crt" "$_redirect" "$_secret" "$@"
}

glw_stop() {
    [ -n "${GLW_PID:-}" ] || return 0
    kill -TERM "$GLW_PID" 2>/dev/null
    _w=0
    while kill -0 "$GLW_PID" 2>/dev/null && [ $_w -lt 50 ]; do sleep 0.1; _w=$((_w + 1)); done
    kill -KILL "$GLW_PID" 2>/dev/null
    wait "$GLW_PID" 2>/dev/null
    GLW_PID=
}
