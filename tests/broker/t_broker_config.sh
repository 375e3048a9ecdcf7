#!/bin/sh
# lockboxd's configuration: --check-config names the bad line; a bad file stops the start; a
# bad file on SIGHUP is refused while the broker keeps serving with the old one.
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
