#!/bin/sh
# lockboxctl host enroll: a host certificate from the customer's CA that really works for
# mutual TLS (checked against openssl s_server demanding client certificates), the broker's
# keys copied under their kid, every bad input refused without writing a host key, and no
# existing file (another CA's ca.pem, a host.crt, a key, a symlink) given other content
# without --force.
. tests/support/tap.sh
BUILD=${BUILD:-build}
CTL=$(cd "$BUILD" && pwd)/lockboxctl

work=$(mktemp -d /tmp/lbxpkg-enroll.XXXXXX)
tap_cleanup "rm -rf $work"
cd "$work" || exit 1

mkca() { # name: a P-256 CA, key 0600
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
        -out "$1.pem" -days 30 -subj "/CN=$1" 2>/dev/null && chmod 600 "$1.key"
}
mkca ca && mkca otherca || { fail "openssl CA"; tap_done; exit 1; }
mkdir keys out && "$CTL" key generate --out keys >kid.txt 2>/dev/null
kid=$(cat kid.txt)

enroll() { "$CTL" host enroll --ca-cert ca.pem --ca-key ca.key "$@"; }

check "enroll node-7" sh -c "'$CTL' host enroll --ca-cert ca.pem --ca-key ca.key --host node-7 \
    --out out --days 20 --broker-keys keys >conf.txt 2>err.txt"
check "certificate chains to the CA for client auth" \
    sh -c "openssl verify -CAfile ca.pem -purpose sslclient out/host.crt >/dev/null"
check "subject CN is the host id" sh -c "openssl x509 -in out/host.crt -noout -subject |
    grep -qx 'subject=CN = node-7'"
check "not a CA, client auth only" sh -c "openssl x509 -in out/host.crt -noout -text |
    grep -q 'CA:FALSE' && openssl x509 -in out/host.crt -noout -ext extendedKeyUsage |
    grep -qx '    TLS Web Client Authentication'"
check "private key matches the certificate" sh -c "[ \"\$(openssl x509 -in out/host.crt -noout \
    -pubkey)\" = \"\$(openssl pkey -in out/host.key -pubout)\" ]"
check "host.key is 0600" sh -c "[ \$(stat -c %a out/host.key) = 600 ]"
check "host.crt and ca.pem are 0644" sh -c "[ \$(stat -c %a out/host.crt) = 644 ] &&
    [ \$(stat -c %a out/ca.pem) = 644 ]"
check "ca.pem is the CA (no --broker-ca)" cmp -s ca.pem out/ca.pem
check "broker key stored under its kid" cmp -s keys/signing.pub "out/keys/$kid.pub"
check "trusted key verifies a token" sh -c "tok=\$('$CTL' token mint --key keys/signing.key \
    --iss lockbox --aud node-7 --sub s --ttl 1m) && '$CTL' token verify --keys out/keys \
    --iss lockbox --aud node-7 --sub s \"\$tok\" >/dev/null"
check "host.conf lines printed with absolute paths" sh -c "grep -qx 'host_id = node-7' conf.txt &&
    grep -qx 'key_file = $work/out/host.key' conf.txt &&
    grep -qx 'trusted_keys = $work/out/keys' conf.txt"

# --- mutual TLS with the issued certificate --------------------------------------------
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
    -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' >srv.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 5 \
    -extfile srv.ext -out srv.crt 2>/dev/null
port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
openssl s_server -accept "127.0.0.1:$port" -cert srv.crt -key srv.key -CAfile ca.pem \
    -Verify 2 -verify_return_error -www >srv.log 2>&1 &
srv=$!
tap_cleanup "kill $srv"
i=0
while [ $i -lt 50 ] && ! ss -ltn "sport = :$port" | grep -q LISTEN; do sleep 0.1; i=$((i + 1)); done
get() { curl -sS --max-time 5 --resolve "localhost:$port:127.0.0.1" --cacert out/ca.pem "$@" \
    "https://localhost:$port/" >/dev/null 2>&1; }
check "mTLS handshake with the enrolled host certificate" get --cert out/host.crt --key out/host.key
check_fails "no client certificate: refused" get
mkdir other && "$CTL" host enroll --ca-cert otherca.pem --ca-key otherca.key --host node-7 \
    --out other >/dev/null 2>&1
check_fails "certificate from another CA: refused" get --cert other/host.crt --key other/host.key
kill "$srv" 2>/dev/null

# --- refusals: nothing written ----------------------------------------------------------
refused() { # expected-exit description args...: exit code matches and no new host.key
    want=$1; d=$2; shift 2
    rm -rf r && mkdir r
    "$@" >/dev/null 2>r.err
    rc=$?
    if [ "$rc" -eq "$want" ] && [ ! -e r/host.key ] && [ -s r.err ]; then ok "$d"; else
        fail "$d (exit $rc)"; fi
}
for bad in "" "-node" "../etc" "a b" "node/7" ".hidden" "nodé" \
    "$(printf 'n%.0s' $(seq 1 65))"; do
    refused 2 "host id '$bad' refused" enroll --host "$bad" --out r
done
for days in 0 -1 99999 abc 12x; do
    refused 2 "--days $days refused" enroll --host n1 --out r --days "$days"
done
refused 1 "certificate outliving the CA refused" enroll --host n1 --out r --days 31
refused 2 "missing --ca-key refused" "$CTL" host enroll --ca-cert ca.pem --host n1 --out r
refused 2 "unknown option refused" enroll --host n1 --out r --bogus
chmod 640 ca.key
refused 1 "group-readable CA key refused" enroll --host n1 --out r
chmod 600 ca.key
refused 1 "CA key of another CA refused" "$CTL" host enroll --ca-cert ca.pem --ca-key otherca.key \
    --host n1 --out r
cp out/host.key leaf.key
refused 1 "a non-CA certificate as CA refused" "$CTL" host enroll --ca-cert out/host.crt \
    --ca-key leaf.key --host n1 --out r
head -c 300 /dev/urandom >garbage.pem
refused 1 "garbage CA certificate refused" "$CTL" host enroll --ca-cert garbage.pem \
    --ca-key ca.key --host n1 --out r
refused 1 "garbage broker CA refused" enroll --host n1 --out r --broker-ca garbage.pem
refused 1 "output that is not a directory refused" enroll --host n1 --out r/nowhere
mkdir emptykeys badkeys && cp keys/signing.pub badkeys/ && chmod 666 badkeys/signing.pub
refused 1 "broker key dir without keys refused" enroll --host n1 --out r --broker-keys emptykeys
refused 1 "world-writable broker key refused" enroll --host n1 --out r --broker-keys badkeys
refused 1 "private key as broker key refused" enroll --host n1 --out r \
    --broker-keys keys/signing.key

cp out/host.key before.key
check_fails "existing host.key kept without --force" sh -c "'$CTL' host enroll --ca-cert ca.pem \
    --ca-key ca.key --host node-7 --out out 2>/dev/null"
check "host.key unchanged" cmp -s before.key out/host.key
check "--force re-enrolls" sh -c "'$CTL' host enroll --ca-cert ca.pem --ca-key ca.key \
    --host node-7 --out out --force >/dev/null 2>&1 && ! cmp -s before.key out/host.key"
# --- existing files: none gets other content without --force (the broker's own ca.pem) -------
# exists_refused DIR DESCRIPTION: enroll into DIR fails naming the file, and changes nothing.
exists_refused() {
    find "$1" -type f -exec sha256sum {} + | sort >before.sum
    "$CTL" host enroll --ca-cert ca.pem --ca-key ca.key --host node-7 --out "$1" \
        --broker-keys keys >/dev/null 2>refused.err
    rc=$?
    find "$1" -type f -exec sha256sum {} + | sort >after.sum
    if [ $rc -eq 1 ] && grep -q "$3 exists with other content; nothing written (--force" refused.err &&
        cmp -s before.sum after.sum; then ok "$2"; else
        fail "$2 (exit $rc: $(cat refused.err))"; fi
}
mkdir broker-etc && cp otherca.pem broker-etc/ca.pem
exists_refused broker-etc "another CA's ca.pem (the broker's client_ca) refused, nothing written" \
    "$work/broker-etc/ca.pem"
check "no keys directory made by the refused run" test ! -e broker-etc/keys
mkdir crt-only && touch crt-only/host.crt
exists_refused crt-only "an existing host.crt refused" "$work/crt-only/host.crt"
mkdir badkid && mkdir badkid/keys && cp ca.pem "badkid/keys/$kid.pub"
exists_refused badkid "a broker key file of that kid with other content refused" \
    "$work/badkid/keys/$kid.pub"
mkdir link && ln -s /etc/hostname link/ca.pem
exists_refused link "a symlink where ca.pem goes refused" "$work/link/ca.pem"
check "the symlink's target untouched" test -L link/ca.pem
mkdir same && cp ca.pem same/ca.pem && mkdir same/keys && cp "out/keys/$kid.pub" same/keys/
check "the same ca.pem and key already there: enrolled" sh -c "'$CTL' host enroll \
    --ca-cert ca.pem --ca-key ca.key --host node-7 --out same --broker-keys keys >/dev/null 2>&1 &&
    test -s same/host.key && cmp -s ca.pem same/ca.pem"
check "--force replaces another CA's ca.pem" sh -c "'$CTL' host enroll --ca-cert ca.pem \
    --ca-key ca.key --host node-7 --out broker-etc --force >/dev/null 2>&1 &&
    cmp -s ca.pem broker-etc/ca.pem"
enddate() { date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
check "without --days the certificate ends no later than the CA" \
    test "$(enddate out/host.crt)" -le "$(enddate ca.pem)"

tap_done
