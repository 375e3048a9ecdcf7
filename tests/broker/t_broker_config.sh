#!/bin/sh
# lockboxd's configuration: --check-config names the bad line; a bad file stops the start; a
# bad file on SIGHUP is refused while the broker keeps serving with the old one. --check-config
# and the start agree on every file: what one accepts the other starts with, what one refuses
# the other refuses.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
D=$BENV_BUILD/lockboxd
benv_init
benv_config
out=$($D --check-config "$BENV_DIR/lockboxd.conf")
check "a good file checks OK" test "$out" = "$BENV_DIR/lockboxd.conf: OK"

bad="$BENV_DIR/bad.conf"
cp "$BENV_DIR/lockboxd.conf" "$bad"; echo "colour = blue" >>"$bad"
n=$(wc -l <"$bad")
out=$($D --check-config "$bad" 2>&1); rc=$?
check "unknown key: exit 1" test $rc -eq 1
check "unknown key: names file:line" test "${out#*bad.conf:$n: unknown key}" != "$out"
cp "$BENV_DIR/lockboxd.conf" "$bad"; echo "access_duration = 9h" >>"$bad"
out=$($D --check-config "$bad" 2>&1)
check "access_duration over 8 h is refused with its line" test "${out#*bad.conf:$n: access_duration}" != "$out"
cp "$BENV_DIR/lockboxd.conf" "$bad"; echo "request_ttl = soon" >>"$bad"
check_fails "a bad duration is refused" $D --check-config "$bad"
grep -v '^signing_key' "$BENV_DIR/lockboxd.conf" >"$bad"
out=$($D --check-config "$bad" 2>&1)
check "a missing required key is named" test "${out#*signing_key}" != "$out"
sed 's|^tls_key = .*|tls_key = /nonexistent/key|' "$BENV_DIR/lockboxd.conf" >"$bad"
check_fails "an unreadable TLS key fails the check" $D --check-config "$bad"
chmod 0644 "$BENV_DIR/certs/server.key"
out=$($D --check-config "$BENV_DIR/lockboxd.conf" 2>&1)
check "a world-readable server key is refused" test "$?" -ne 0
chmod 0600 "$BENV_DIR/certs/server.key"
chmod 0666 "$BENV_DIR/lockboxd.conf"
check_fails "a world-writable config file is refused" $D --check-config "$BENV_DIR/lockboxd.conf"
chmod 0644 "$BENV_DIR/lockboxd.conf"
check_fails "lockboxd without arguments is a usage error" $D
$D >/dev/null 2>&1; check "usage exits 2" test $? -eq 2

# agree DESCRIPTION LINE...: the good file with LINE(s) in place of its own keys of the same
# names; --check-config and a start must both refuse it, with the same reason.
agree_refused() {
    _d=$1; shift
    cp "$BENV_DIR/lockboxd.conf" "$BENV_DIR/keep.conf"
    for _l in "$@"; do
        _k=${_l%% *}
        grep -v "^$_k " "$BENV_DIR/lockboxd.conf" >"$BENV_DIR/edit.conf"
        echo "$_l" >>"$BENV_DIR/edit.conf"
        cp "$BENV_DIR/edit.conf" "$BENV_DIR/lockboxd.conf"
    done
    _c=$($D --check-config "$BENV_DIR/lockboxd.conf" 2>&1)
    _crc=$?
    : >"$BENV_DIR/lockboxd.log"
    if benv_start >/dev/null; then
        fail "$_d: the daemon started although --check-config said: $_c"
        benv_stop
    elif [ $_crc -eq 0 ]; then
        fail "$_d: --check-config accepted what the daemon refused"
        sed 's/^/#   /' "$BENV_DIR/lockboxd.log" | tail -3
    else
        _reason=${_c#lockboxd: }
        if grep -qF -- "$_reason" "$BENV_DIR/lockboxd.log"; then ok "$_d: both refuse ($_reason)"
        else fail "$_d: refused for other reasons: check [$_reason]"
            sed 's/^/#   daemon: /' "$BENV_DIR/lockboxd.log" | tail -3; fi
    fi
    cp "$BENV_DIR/keep.conf" "$BENV_DIR/lockboxd.conf"
}
agree_refused "listen with a word for port" "listen = 127.0.0.1:https"
agree_refused "listen without a port" "listen = 127.0.0.1"
agree_refused "listen port 65536" "listen = 127.0.0.1:65536"
agree_refused "listen port -1" "listen = 127.0.0.1:-1"
agree_refused "listen port with a blank" "listen = 127.0.0.1: 0"
agree_refused "listen on a name that does not resolve" "listen = no-such-host.invalid:0"
agree_refused "listen with a comment glued to the port" "listen = 127.0.0.1:0#note"
agree_refused "listen with a quote inside" "listen = 127.0.0.1:0\"x\""
agree_refused "listen quoted with a comment inside the quotes" "listen = \"127.0.0.1:0 # x\""
agree_refused "listen with no value (only a comment)" "listen = # later"
agree_refused "database URL of another kind" "database = mysql://db/lockbox"
agree_refused "log_level unknown" "log_level = loud # very"
agree_refused "tick with a comment glued on" "tick = 1s#fast"

# A comment after a value is a comment for both: the daemon serves on the address checked.
sed -e 's|^listen = .*|listen = 127.0.0.1:0    # any free port|' \
    -e 's|^issuer = .*|issuer = "lockbox-test" # quoted|' "$BENV_DIR/keep.conf" >"$BENV_DIR/lockboxd.conf"
check "comments after values: --check-config accepts" $D --check-config "$BENV_DIR/lockboxd.conf"
if benv_start; then
    ok "comments after values: the daemon starts and serves"
    check "  ... on the address without its comment" curl -sSf --cacert "$BENV_DIR/certs/ca.crt" \
        -o /dev/null "https://127.0.0.1:$BENV_PORT/v1/health"
    benv_stop
else
    fail "comments after values: the daemon starts and serves"
fi
cp "$BENV_DIR/keep.conf" "$BENV_DIR/lockboxd.conf"

benv_start
check "starts with the good file" test -n "$BENV_PORT"
cp "$BENV_DIR/lockboxd.conf" "$BENV_DIR/good.conf"
echo "bogus line" >>"$BENV_DIR/lockboxd.conf"
kill -HUP "$BENV_PID"; sleep 0.5
check "a bad file on SIGHUP is refused and logged" grep -q "reload refused" "$BENV_DIR/lockboxd.log"
check "and the broker keeps serving" curl -sSf --cacert "$BENV_DIR/certs/ca.crt" -o /dev/null "$BENV_URL/v1/health"
benv_stop
check "clean exit" test "$BENV_EXIT" -eq 0
check_fails "a bad file stops the start" benv_start
cp "$BENV_DIR/good.conf" "$BENV_DIR/lockboxd.conf"
tap_done
