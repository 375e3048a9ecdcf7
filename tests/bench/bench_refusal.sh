#!/bin/sh
# Benchmark 7: refusal time with the broker away. The account phase (real pam_lockbox.so via the
# PAM driver) against a refused port, a silent port (accepts, never answers) and a slow
# responder (the fake broker, TLS done, answer 5 s late), deadline timeout=1s: every refusal
# must come within the deadline + 50 ms. Then through a real sshd: a support login against the
# silent broker is refused in time while a plain user's login on the same sshd is not held up.
. tests/bench/bench_env.sh

hg_setup || { be_log "setup failed"; exit 1; }
S=lbxe2e${HG_ID}s
P=lbxe2e${HG_ID}p
hg_user "$S" support && hg_user "$P" || exit 1
DEADLINE_MS=1000
TRIALS=$(be_n 5 1)

$PYTHON -c '
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(128)
print(s.getsockname()[1], flush=True)
held = []
while True:
    held.append(s.accept()[0])' >"$HG/silent.port" &
SILENT_PID=$!
tap_cleanup "kill $SILENT_PID"
hg_wait "test -s '$HG/silent.port'" 5
hg_fake_broker_start
echo 5 >"$HG/broker/delay"
REFUSED=$(free_port)

# account_ms URL: one account phase, prints its milliseconds (the driver's own measure)
account_ms() {
    HG_BROKER_URL=$1 hg_config timeout=1s
    be_pam_service "$HG/host.conf"
    "$DRIVER" "$HG/pam" lbx "$S" account | awk '/^account:/ { print ($2 == "PAM_SUCCESS" ? -1 : $3) }'
}

for case in refused silent slow; do
    case $case in
    refused) url=https://127.0.0.1:$REFUSED ;;
    silent) url=https://127.0.0.1:$(cat "$HG/silent.port") ;;
    slow) url=$HG_BROKER_URL ;;
    esac
    : >"$HG/ms.$case"
    for i in $(seq "$TRIALS"); do account_ms "$url" >>"$HG/ms.$case"; done
    set -- $(be_stats "$HG/ms.$case")
    allowed=$(grep -c '^-1$' "$HG/ms.$case")
    echo "{\"name\":\"refusal\",\"broker\":\"$case\",\"trials\":$4,\"median_ms\":$1,\"max_ms\":$3,\"deadline_ms\":$DEADLINE_MS,\"allowed\":$allowed,\"goal_max_ms\":$((DEADLINE_MS + 50))}"
done

# through sshd, silent broker: the support login is refused in time, a plain login meanwhile
HG_BROKER_URL=https://127.0.0.1:$(cat "$HG/silent.port") hg_config timeout=1s
hg_sshd_start || { be_log "sshd did not start"; exit 1; }
t0=$(be_now_ms)
hg_ssh "$P" true >/dev/null 2>&1
base=$(($(be_now_ms) - t0))
t0=$(be_now_ms)
(hg_ssh "$S" true >/dev/null 2>&1; echo "$? $(($(be_now_ms) - t0))" >"$HG/support.out") &
sleep 0.1
t1=$(be_now_ms)
hg_ssh "$P" true >/dev/null 2>&1
prc=$?
plain=$(($(be_now_ms) - t1))
hg_wait "test -s '$HG/support.out'" 10
set -- $(cat "$HG/support.out")
echo "{\"name\":\"refusal-sshd\",\"broker\":\"silent\",\"support_login_rc\":$1,\"support_login_ms\":$2,\"plain_login_ms\":$base,\"plain_login_during_ms\":$plain,\"plain_login_rc\":$prc,\"goal_max_ms\":$((DEADLINE_MS + 50 + base))}"
