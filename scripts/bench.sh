#!/bin/sh
# make bench: every benchmark, each measured against a baseline in the same run (ratios and
# medians: these machines are noisy). Loopback only, fixed inputs. Prints a table and writes
# the figures as JSON to $BUILD/bench.json.
#   BENCH_ONLY="login broker"  run only these (names: verify login broker teardown revoke
#                              scale refusal memory console)
#   BENCH_ITER=0.1             scale every iteration count (the smoke test runs tiny ones)
#   BENCH_SCALE=1              fraction of benchmark 6's 1 M requests and 10 M audit events
#                              (default 0.2: the full size alone takes ~6 min on 2 cores);
#                              of the console benchmark's 1 M requests, 10 k pending (default 1)
#   BENCH_OUT=FILE             where the JSON goes (default $BUILD/bench.json)
set -u
BUILD=${BUILD:-build}
export BUILD
out=${BENCH_OUT:-$BUILD/bench.json}
ONLY=${BENCH_ONLY:-verify login broker teardown revoke scale refusal memory console}
: >"$out.lines"
failed=0

run() { # run NAME TITLE COMMAND...: its JSON lines (stdout) are the figures
    _name=$1 _title=$2
    shift 2
    case " $ONLY " in *" $_name "*) ;; *) return 0 ;; esac
    echo "== $_title" >&2
    _t0=$(date +%s)
    if ! "$@" >"$out.part"; then
        echo "   $_name FAILED" >&2
        failed=$((failed + 1))
    fi
    grep '^{' "$out.part" >>"$out.lines"
    echo "   ($(($(date +%s) - _t0)) s)" >&2
}

run verify "3. verify cost per token vs OpenSSL P-256 verify" "$BUILD/tests/bench/bench_verify"
run login "1. login overhead (sshd + libssh, none / pam_lockbox / pam_exec+curl)" sh tests/bench/bench_login.sh
run broker "2. broker token issue rate (lockboxd workers = ${BENCH_WORKERS:-2}) vs openssl speed ecdsap256" sh tests/bench/bench_broker.sh
run teardown "4. teardown lag at exp" sh tests/bench/bench_teardown.sh
run revoke "5. revocation lag (host defaults)" sh tests/bench/bench_revoke.sh
run scale "6. scale: 1 M requests, 10 M audit events" sh tests/bench/bench_scale.sh
run refusal "7. refusal time with the broker away" sh tests/bench/bench_refusal.sh
run memory "8. memory (RSS)" sh tests/bench/bench_memory.sh
run console "9. console: Pending/Recent API calls vs lockboxctl, Pending page in Chromium" sh tests/bench/bench_console.sh

python3 - "$out.lines" "$out" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
json.dump({"machine": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")
           if "model name" in open("/proc/cpuinfo").read() else "?",
           "cores": __import__("os").cpu_count(), "results": rows}, open(sys.argv[2], "w"), indent=1)
print("%-14s %-44s %s" % ("benchmark", "case", "figures"))
for r in rows:
    name = r.pop("name")
    case = " ".join(str(r.pop(k)) for k in ("mode", "stack", "cgroup", "broker", "clients") if k in r)
    if "fresh" in r:
        case += " fresh-tls" if r.pop("fresh") else " keep-alive"
    r.pop("via", None)
    figs = ", ".join("%s=%s" % (k, v) for k, v in r.items())
    print("%-14s %-44s %s" % (name, case, figs))
EOF
rm -f "$out.lines" "$out.part"
echo "figures written to $out"
[ "$failed" -eq 0 ]
