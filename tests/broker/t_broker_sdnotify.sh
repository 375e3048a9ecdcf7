#!/bin/sh
# lockboxd tells systemd it is ready (sd_notify READY=1, the unit is Type=notify) only once it
# serves: a listener on a NOTIFY_SOCKET of our own receives READY=1 and, at that moment, the
# broker answers TLS on the port it names, with one process and with `workers = 2` (the
# supervising parent, systemd's main PID, says it). Without a NOTIFY_SOCKET, or with one that
# is missing, relative or too long, it runs all the same: readiness is systemd's business.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_init

# notify_listener SOCK OUT: receives datagrams on SOCK; on READY=1 connects at once to the port
# of "STATUS=serving on port N" and records whether a TLS handshake succeeds there.
notify_listener() {
    python3 - "$1" "$2" "$BENV_DIR/certs/ca.crt" <<'EOF' &
import re, socket, ssl, sys, time
path, out, ca = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(30)
with open(out, "w") as f:
    try:
        while True:
            msg = s.recv(4096).decode(errors="replace")
            f.write("msg %r\n" % msg)
            f.flush()
            if "READY=1" not in msg.split("\n"):
                continue
            m = re.search(r"STATUS=serving on port (\d+)", msg)
            ctx = ssl.create_default_context(cafile=ca)
            ctx.check_hostname = False
            try:
                with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=2) as c:
                    with ctx.wrap_socket(c) as t:
                        f.write("ready and serving %s\n" % t.version())
            except Exception as e:
                f.write("ready but not serving: %s\n" % e)
            s.settimeout(1)  # anything said after READY=1 within a second is recorded too
    except socket.timeout:
        if "READY=1" not in open(out).read():
            f.write("no READY=1 within 30 s\n")
EOF
}

# started_with MODE: a broker with NOTIFY_SOCKET, one process or two workers.
started_with() {
    sock=$BENV_DIR/notify-$1.sock
    rm -f "$sock" "$BENV_DIR/lockboxd.conf"
    if [ "$1" = workers ]; then BENV_WORKERS=2; else BENV_WORKERS=""; fi
    notify_listener "$sock" "$BENV_DIR/notify-$1.out"
    listener=$!
    tap_cleanup "kill $listener 2>/dev/null"
    i=0
    while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    BENV_DAEMON_ENV="NOTIFY_SOCKET=$sock" benv_start || return 1
    wait "$listener"
    sed 's/^/# /' "$BENV_DIR/notify-$1.out"
    grep -qx "ready and serving TLSv1.[23]" "$BENV_DIR/notify-$1.out"
}
check "one process: READY=1 when the port serves TLS" started_with single
benv_stop
check "workers = 2: READY=1 from the parent when every worker serves" started_with workers
check "workers = 2: READY=1 sent once" test "$(grep -c 'READY=1' "$BENV_DIR/notify-workers.out")" -eq 1
benv_stop

# runs_with VALUE: a broker started with NOTIFY_SOCKET=VALUE (empty: unset) serves requests.
runs_with() {
    rm -f "$BENV_DIR/lockboxd.conf"
    BENV_WORKERS=""
    if [ -n "$1" ]; then BENV_DAEMON_ENV="NOTIFY_SOCKET=$1"; else BENV_DAEMON_ENV="-u NOTIFY_SOCKET"; fi
    benv_start || return 1
    curl -fsS --max-time 5 --cacert "$BENV_DIR/certs/ca.crt" "$BENV_URL/v1/health" >/dev/null
    rc=$?
    benv_stop
    return $rc
}
check "no NOTIFY_SOCKET: serves" runs_with ""
check "NOTIFY_SOCKET naming no socket: serves" runs_with "$BENV_DIR/absent.sock"
check "NOTIFY_SOCKET relative: serves" runs_with "relative/notify.sock"
check "NOTIFY_SOCKET longer than a socket path: serves" runs_with "/$(printf 'x%.0s' $(seq 1 200))"
check "a failed notification is logged" grep -q "readiness notification failed" "$BENV_DIR/lockboxd.log"
tap_done
