# broker_env.sh — a real lockboxd on 127.0.0.1 over real TLS, with certificates made here by the
# openssl CLI. For tests (source after tap.sh: cleanups go through tap_cleanup) and demos.
#
#   benv_boot                  benv_init + benv_start + benv_seed (a failed start is one "not ok")
#   benv_init                  BENV_DIR (mktemp), a CA, the broker's certificate, a signing key
#   benv_host_cert ID          client certificate CN=ID from the CA: $BENV_DIR/certs/ID.{crt,key}
#   benv_person_cert NAME      a person's certificate CN=NAME from a separate people CA:
#                              $BENV_DIR/certs/person-NAME.{crt,key} (see people_ca)
#   benv_ca NAME CN            a self-signed CA: $BENV_DIR/certs/NAME.{crt,key}
#   benv_config [LINE...]      writes $BENV_DIR/lockboxd.conf; extra "key = value" lines go last
#                              (log_level from BENV_LOG_LEVEL, default debug; "workers = N"
#                              from BENV_WORKERS when set; port BENV_LISTEN_PORT, default
#                              0: a free one)
#                              (benv_start calls it with no lines when no config exists yet)
#   benv_start                 starts lockboxd; sets BENV_PID, BENV_PORT, BENV_URL; waits until it
#                              serves. Extra environment for the daemon: BENV_DAEMON_ENV="A=1 B=2"
#   benv_stop                  SIGTERM by pid, waits for the exit (status in BENV_EXIT); a
#                              sanitizer report in the daemon's log is printed as "not ok"
#   benv_kill9                 SIGKILL by pid
#   benv_admin                 bootstraps identity "admin": token in BENV_TOKEN_admin
#   benv_seed                  tenant contoso with subscription prod; hosts node-7 (in prod) and
#                              node-9 (tenant level); tenant fabrikam with subscription fab, host
#                              fab-1; identities with API tokens in BENV_TOKEN_<name>:
#                                alice  engineer (login support-alice), email alice@example.test
#                                bob    engineer (login support-bob)
#                                carol  owner of subscription:prod  (carol@example.test)
#                                dave   owner of subscription:prod
#                                gina   global-admin of tenant:contoso
#                                fred   owner of subscription:fab (another tenant)
#                                mike   support-manager
#                                audrey auditor
#                              and host certificates for node-7, node-9 and fab-1.
#   benv_api NAME METHOD PATH [JSON]     curl as identity NAME (its token); body on stdout,
#                                        HTTP status in $BENV_DIR/status (benv_status prints it);
#                                        a call running in the background sets BENV_OUT to a
#                                        directory of its own for these two files
#   benv_host_api CERT METHOD PATH [JSON] the same with client certificate certs/CERT.crt
#   benv_ctl NAME ARGS...      build/lockboxctl as NAME (LOCKBOX_URL, LOCKBOX_TOKEN, LOCKBOX_CA)
#   benv_json EXPR             reads JSON on stdin, prints python3's eval of EXPR over it as `j`
#                              (e.g. benv_json 'j["status"]')
#   benv_sql SQL               sqlite3 (psql for PostgreSQL) on the broker's database
#   benv_request NAME HOST     NAME asks for access to HOST for an hour (ticket T): prints the
#                              request id (LBX-n), nothing when refused (benv_status says why)
#   benv_request_status ID     the status the store holds for request ID (LBX-n)
#   benv_token HOST LOGIN      the host asks for LOGIN's grant token (POST /v1/host/token)
#   benv_grant_poll HOST GRANT a host's reaper long-polling GRANT (wait=30), in the background
#   benv_grant_poll_end        waits for it; prints "END-EPOCH-SECONDS STATUS"
#   benv_audit_verify          lockboxctl audit verify: from the file (SQLite) or, for
#                              PostgreSQL, from the broker's API as admin; prints its output
#
# PostgreSQL instead of SQLite: BENV_DATABASE=postgresql://... in the environment makes
# benv_config point the broker at it (default: $BENV_DIR/lockbox.db). For a real server:
#   benv_pg_start              initdb + pg_ctl as user postgres in a temp dir, on a free port of
#                              127.0.0.1 (BENV_PG_PORT, BENV_PG_PID); stopped by pid and deleted
#                              on exit (benv_pg_stop)
#   benv_pg_createdb NAME      a fresh database; prints its URL. It has a json_extract(text,
#                              '$.a.b') function so that tests' SQL runs on both backends.
BENV_BUILD=${BUILD:-build}
BENV_TOP=$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)

. tests/support/pki.sh

# benv__on_exit CMD: run CMD when the script exits (through tap_cleanup under tap.sh).
BENV__EXIT=""
benv__on_exit() {
    if command -v tap_cleanup >/dev/null 2>&1; then
        tap_cleanup "$1"
    else
        BENV__EXIT="$1; $BENV__EXIT"
        trap 'eval "$BENV__EXIT"' EXIT
    fi
}

benv_init() {
    BENV_DIR=$(mktemp -d /tmp/lbx-broker.XXXXXX)
    benv__on_exit "benv_stop; rm -rf '$BENV_DIR'"
    mkdir -p "$BENV_DIR/certs"
    benv_ca ca "lockbox test CA"
    benv__sign server localhost "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth"
    "$BENV_BUILD/lockboxctl" key generate --out "$BENV_DIR/signing" >/dev/null
}

# benv_ca NAME CN: a self-signed CA in $BENV_DIR/certs/NAME.{crt,key}
benv_ca() { pki_ca "$BENV_DIR/certs" "$1" "$2"; }

# benv__sign NAME CN EXTENSIONS [CA]: CA defaults to the test CA "ca"
benv__sign() { pki_sign "$BENV_DIR/certs" "${4:-ca}" "$1" "$2" "$3"; }

benv_host_cert() { benv__sign "$1" "$1" "extendedKeyUsage=clientAuth"; }

# A person's client certificate CN=NAME from the people CA (made on first use):
# $BENV_DIR/certs/person-NAME.{crt,key}; use with benv_host_api person-NAME ... The broker
# trusts it only with the line "people_ca = $BENV_DIR/certs/people-ca.crt" (benv_config).
benv_person_cert() {
    [ -f "$BENV_DIR/certs/people-ca.crt" ] || benv_ca people-ca "lockbox test people CA"
    benv__sign "person-$1" "$1" "extendedKeyUsage=clientAuth" people-ca
}

benv_config() {
    {
        echo "# lockboxd test configuration"
        echo "listen = 127.0.0.1:${BENV_LISTEN_PORT:-0}"
        echo "ready_file = $BENV_DIR/port"
        echo "tls_cert = $BENV_DIR/certs/server.crt"
        echo "tls_key = $BENV_DIR/certs/server.key"
        echo "client_ca = $BENV_DIR/certs/ca.crt"
        echo "database = ${BENV_DATABASE:-$BENV_DIR/lockbox.db}"
        echo "signing_key = $BENV_DIR/signing/signing.key"
        echo "issuer = lockbox-test"
        echo "log_level = ${BENV_LOG_LEVEL:-debug}"
        [ -z "${BENV_WORKERS:-}" ] || echo "workers = $BENV_WORKERS"
        for line in "$@"; do echo "$line"; done
    } >"$BENV_DIR/lockboxd.conf"
}

benv_start() {
    [ -f "$BENV_DIR/lockboxd.conf" ] || benv_config
    rm -f "$BENV_DIR/port"
    # shellcheck disable=SC2086
    env $BENV_DAEMON_ENV "$BENV_BUILD/lockboxd" --config "$BENV_DIR/lockboxd.conf" \
        >>"$BENV_DIR/lockboxd.log" 2>&1 &
    BENV_PID=$!
    i=0
    while [ ! -s "$BENV_DIR/port" ] && [ $i -lt 100 ]; do
        kill -0 "$BENV_PID" 2>/dev/null || break
        sleep 0.1; i=$((i + 1))
    done
    if [ ! -s "$BENV_DIR/port" ]; then
        echo "# lockboxd did not start:"; sed 's/^/#   /' "$BENV_DIR/lockboxd.log" | tail -5
        return 1
    fi
    BENV_PORT=$(cat "$BENV_DIR/port")
    BENV_URL="https://127.0.0.1:$BENV_PORT"
}

# A broker that does not stop on SIGTERM (a deadlock, say) fails the test that ran it instead of
# hanging it: BENV_STOP_WAIT seconds (default 20), then SIGKILL. Our child stays a zombie until
# waited for, so "gone" is "no such process or state Z".
benv__running() { [ -e "/proc/$1" ] && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

benv_stop() {
    [ -n "${BENV_PID:-}" ] || return 0
    kill -TERM "$BENV_PID" 2>/dev/null
    _w=0
    while benv__running "$BENV_PID" && [ $_w -lt $((${BENV_STOP_WAIT:-20} * 10)) ]; do
        sleep 0.1
        _w=$((_w + 1))
    done
    if benv__running "$BENV_PID"; then
        echo "not ok - lockboxd (pid $BENV_PID) did not stop within ${BENV_STOP_WAIT:-20} s of SIGTERM: killed"
        kill -KILL "$BENV_PID" 2>/dev/null
    fi
    wait "$BENV_PID" 2>/dev/null
    BENV_EXIT=$?
    BENV_PID=
    benv__sanitizer_check
}

# Under `make asan` a sanitizer report in the daemon's log fails the test that ran it.
benv__sanitizer_check() {
    if grep -q "Sanitizer" "$BENV_DIR"/*.log 2>/dev/null; then
        echo "not ok - sanitizer report from lockboxd:"
        grep -h -A12 "Sanitizer" "$BENV_DIR"/*.log | head -40 | sed 's/^/#   /'
    fi
}

benv_kill9() {
    [ -n "${BENV_PID:-}" ] || return 0
    kill -KILL "$BENV_PID" 2>/dev/null
    wait "$BENV_PID" 2>/dev/null
    BENV_PID=
}

benv_admin() {
    BENV_TOKEN_admin=$("$BENV_BUILD/lockboxd" --config "$BENV_DIR/lockboxd.conf" --create-admin admin 2>>"$BENV_DIR/lockboxd.log")
}

benv_status() { cat "${BENV_OUT:-$BENV_DIR}/status"; }

benv_api() {
    _tok=$(eval echo "\${BENV_TOKEN_$1:-}")
    _m=$2; _p=$3; shift 3
    if [ $# -gt 0 ]; then
        curl -sS --max-time 70 --cacert "$BENV_DIR/certs/ca.crt" -H "Authorization: Bearer $_tok" \
            -H 'Content-Type: application/json' -X "$_m" --data-binary "$1" \
            -o "${BENV_OUT:-$BENV_DIR}/body" -w '%{http_code}' "$BENV_URL$_p" >"${BENV_OUT:-$BENV_DIR}/status" 2>/dev/null
    else
        curl -sS --max-time 70 --cacert "$BENV_DIR/certs/ca.crt" -H "Authorization: Bearer $_tok" \
            -X "$_m" -o "${BENV_OUT:-$BENV_DIR}/body" -w '%{http_code}' "$BENV_URL$_p" >"${BENV_OUT:-$BENV_DIR}/status" 2>/dev/null
    fi
    cat "${BENV_OUT:-$BENV_DIR}/body"
}

benv_host_api() {
    _h=$1; _m=$2; _p=$3; shift 3
    set -- "$@" ""
    curl -sS --max-time 70 --cacert "$BENV_DIR/certs/ca.crt" --cert "$BENV_DIR/certs/$_h.crt" \
        --key "$BENV_DIR/certs/$_h.key" -H 'Content-Type: application/json' -X "$_m" \
        ${1:+--data-binary "$1"} -o "${BENV_OUT:-$BENV_DIR}/body" -w '%{http_code}' "$BENV_URL$_p" \
        >"${BENV_OUT:-$BENV_DIR}/status" 2>/dev/null
    cat "${BENV_OUT:-$BENV_DIR}/body"
}

benv_ctl() {
    _who=$1; shift
    LOCKBOX_URL=$BENV_URL LOCKBOX_CA="$BENV_DIR/certs/ca.crt" \
        LOCKBOX_TOKEN=$(eval echo "\${BENV_TOKEN_$_who:-}") "$BENV_BUILD/lockboxctl" "$@"
}

benv_json() { python3 -c 'import json,sys; j=json.load(sys.stdin); r=eval(sys.argv[1]); print(r if not isinstance(r,(dict,list,bool)) and r is not None else json.dumps(r))' "$1"; }

benv_sql() {
    case ${BENV_DATABASE:-} in
        postgres*) psql -X -q -At -v ON_ERROR_STOP=1 -d "$BENV_DATABASE" -c "$1" ;;
        *) sqlite3 "$BENV_DIR/lockbox.db" "$1" ;;
    esac
}

benv_request() {
    benv_api "$1" POST /v1/requests "{\"host\":\"$2\",\"ticket\":\"T\",\"reason\":\"r\",\"duration\":3600}" |
        benv_json 'j.get("id", "")'
}

benv_request_status() { benv_sql "SELECT status FROM requests WHERE id=${1#LBX-}"; }

benv_token() { benv_host_api "$1" POST /v1/host/token "{\"host\":\"$1\",\"login\":\"$2\"}"; }

benv_grant_poll() {
    mkdir -p "$BENV_DIR/poll"
    (
        BENV_OUT="$BENV_DIR/poll"
        export BENV_OUT
        benv_host_api "$1" GET "/v1/host/grants/$2?wait=30" >/dev/null
        date +%s >"$BENV_DIR/poll/done"
    ) &
    BENV_POLL=$!
}

benv_grant_poll_end() {
    wait "$BENV_POLL"
    echo "$(cat "$BENV_DIR/poll/done") $(benv_json 'j.get("status")' <"$BENV_DIR/poll/body")"
}

benv_audit_verify() {
    case ${BENV_DATABASE:-} in
        postgres*) benv_ctl admin audit verify 2>&1 ;;
        *) "$BENV_BUILD/lockboxctl" audit verify --db "$BENV_DIR/lockbox.db" 2>&1 ;;
    esac
}

BENV_PG_BIN=${BENV_PG_BIN:-/usr/lib/postgresql/15/bin}

benv_pg_start() {
    BENV_PG_DIR=$(mktemp -d /tmp/lbx-pg.XXXXXX)
    benv__on_exit benv_pg_stop
    chown postgres "$BENV_PG_DIR" || return 1
    BENV_PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    runuser -u postgres -- "$BENV_PG_BIN/initdb" -D "$BENV_PG_DIR/data" -U postgres \
        --auth=trust --no-sync -E UTF8 >"$BENV_PG_DIR/initdb.log" 2>&1 || return 1
    # A throwaway server: durability off for speed; unix socket in the temp dir only.
    runuser -u postgres -- "$BENV_PG_BIN/pg_ctl" -D "$BENV_PG_DIR/data" -w -t 30 \
        -l "$BENV_PG_DIR/server.log" -o "-p $BENV_PG_PORT -k $BENV_PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null 2>&1 || { tail -5 "$BENV_PG_DIR/server.log" | sed 's/^/# /'; return 1; }
    BENV_PG_PID=$(head -1 "$BENV_PG_DIR/data/postmaster.pid")
}

benv_pg_stop() {
    if [ -n "${BENV_PG_PID:-}" ]; then
        kill -INT "$BENV_PG_PID" 2>/dev/null # fast shutdown
        i=0
        while kill -0 "$BENV_PG_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        BENV_PG_PID=
    fi
    [ -n "${BENV_PG_DIR:-}" ] && rm -rf "$BENV_PG_DIR"
    BENV_PG_DIR=
}

benv_pg_createdb() {
    _url="postgresql://postgres@127.0.0.1:$BENV_PG_PORT"
    psql -X -q -d "$_url/postgres" -c "CREATE DATABASE $1" >/dev/null || return 1
    psql -X -q -d "$_url/$1" -c "CREATE FUNCTION json_extract(doc text, path text) RETURNS text
        LANGUAGE sql IMMUTABLE AS \$\$ SELECT (doc::jsonb) #>> string_to_array(substr(path, 3), '.') \$\$" >/dev/null || return 1
    echo "$_url/$1"
}

# benv__person NAME LOGIN EMAIL ROLE SCOPE
benv__person() {
    body="{\"name\":\"$1\""
    [ -n "$2" ] && body="$body,\"login\":\"$2\""
    [ -n "$3" ] && body="$body,\"email\":\"$3\""
    benv_api admin POST /v1/identities "$body}" >/dev/null
    [ -n "$4" ] && benv_api admin POST /v1/roles "{\"identity\":\"$1\",\"role\":\"$4\",\"scope\":\"$5\"}" >/dev/null
    tok=$(benv_api admin POST /v1/api-tokens "{\"identity\":\"$1\"}" | benv_json 'j["token"]')
    eval "BENV_TOKEN_$1=\$tok"
}

benv_seed() {
    [ -n "${BENV_TOKEN_admin:-}" ] || benv_admin
    benv_api admin POST /v1/tenants '{"id":"contoso","name":"Contoso"}' >/dev/null
    benv_api admin POST /v1/subscriptions '{"id":"prod","tenant":"contoso"}' >/dev/null
    benv_api admin POST /v1/hosts '{"id":"node-7","tenant":"contoso","subscription":"prod"}' >/dev/null
    benv_api admin POST /v1/hosts '{"id":"node-9","tenant":"contoso"}' >/dev/null
    benv_api admin POST /v1/tenants '{"id":"fabrikam"}' >/dev/null
    benv_api admin POST /v1/subscriptions '{"id":"fab","tenant":"fabrikam"}' >/dev/null
    benv_api admin POST /v1/hosts '{"id":"fab-1","tenant":"fabrikam","subscription":"fab"}' >/dev/null
    benv__person alice support-alice alice@example.test engineer global
    benv__person bob support-bob "" engineer global
    benv__person carol "" carol@example.test owner subscription:prod
    benv__person dave "" "" owner subscription:prod
    benv__person gina "" "" global-admin tenant:contoso
    benv__person fred "" "" owner subscription:fab
    benv__person mike "" "" support-manager global
    benv__person audrey "" "" auditor global
    for h in node-7 node-9 fab-1; do benv_host_cert "$h"; done
}

benv_boot() {
    benv_init
    if ! benv_start; then
        echo "not ok - lockboxd starts"
        return 1
    fi
    benv_seed
}
