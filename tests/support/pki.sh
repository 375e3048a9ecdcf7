# Test PKI (source it): a CA, server and client certificates, an expired client certificate.
#   pki_ca DIR NAME                        -> DIR/NAME.crt, DIR/NAME.key
#   pki_cert DIR CA NAME CN [server|client] [expired] -> DIR/NAME.crt, DIR/NAME.key (0600)
pki_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$2 test CA" -keyout "$1/$2.key" -out "$1/$2.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
}

pki_cert() {
    _d=$1 _ca=$2 _n=$3 _cn=$4 _kind=${5:-client} _when=${6:-}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$_cn" \
        -keyout "$_d/$_n.key" -out "$_d/$_n.csr" 2>/dev/null || return 1
    chmod 0600 "$_d/$_n.key"
    if [ "$_kind" = server ]; then
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$_d/$_n.ext"
    else
        printf 'extendedKeyUsage=clientAuth\n' >"$_d/$_n.ext"
    fi
    mkdir -p "$_d/ca-db" && : >"$_d/ca-db/index" && echo 01 >"$_d/ca-db/serial"
    cat >"$_d/ca-db/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
database = $_d/ca-db/index
serial = $_d/ca-db/serial
new_certs_dir = $_d/ca-db
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
CNF
    if [ "$_when" = expired ]; then
        _dates="-startdate 20200101000000Z -enddate 20200102000000Z"
    else
        _dates="-days 2"
    fi
    # shellcheck disable=SC2086
    openssl ca -batch -config "$_d/ca-db/ca.cnf" -cert "$_d/$_ca.crt" -keyfile "$_d/$_ca.key" \
        -in "$_d/$_n.csr" -out "$_d/$_n.crt" -extfile "$_d/$_n.ext" $_dates -notext \
        >/dev/null 2>&1
}
