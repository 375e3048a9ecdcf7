# glewlwyd_env.sh — a real OpenID provider for the console's tests: Debian's glewlwyd on
# 127.0.0.1 over HTTPS (a certificate from broker_env.sh's test CA), a SQLite database of its
# own, configured through its administration API (glewlwyd_setup.py). Source after
# broker_env.sh and benv_init.
#
#   glw_start REDIRECT_URI SECRET USER:PASSWORD:EMAIL...
#        sets GLW_PID, GLW_PORT, GLW_ISSUER (https://127.0.0.1:PORT/api/oidc); stopped by pid
#        and deleted on exit
GLW_SQL=${GLW_SQL:-/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz}

glw__free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

glw_start() {
    GLW_DIR="$BENV_DIR/glewlwyd"
    mkdir -p "$GLW_DIR"
    benv__sign glewlwyd 127.0.0.1 "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
    GLW_PORT=$(glw__free_port)
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
