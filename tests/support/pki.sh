# The test PKI (source it): every CA and certificate the tests make, P-256, valid two days.
#   pki_ca DIR NAME [CN]                    -> DIR/NAME.crt, DIR/NAME.key (0600); CN defaults
#                                              to "NAME test CA"
#   pki_sign DIR CA NAME CN EXTENSIONS [expired]
#                                           -> DIR/NAME.crt, DIR/NAME.key (0600), signed by
#                                              DIR/CA.*, with EXTENSIONS (openssl extension
#                                              lines); "expired": valid in 2020 only,
#                                              "until:YYYYMMDDHHMMSSZ": valid from now to then
#   pki_cert DIR CA NAME CN [server|client] [expired]
#                                           -> pki_sign with a server's (127.0.0.1, localhost)
#                                              or a client's extensions
pki_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=${3:-$2 test CA}" -keyout "$1/$2.key" -out "$1/$2.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null && chmod 0600 "$1/$2.key"
}

pki_sign() {
    _d=$1 _ca=$2 _n=$3 _cn=$4 _ext=$5 _when=${6:-}
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$_cn" \
        -keyout "$_d/$_n.key" -out "$_d/$_n.csr" 2>/dev/null || return 1
    chmod 0600 "$_d/$_n.key"
    printf '%s\n' "$_ext" >"$_d/$_n.ext"
    # One database per directory: every certificate it signs gets a serial of its own.
    mkdir -p "$_d/ca-db"
    [ -f "$_d/ca-db/index" ] || : >"$_d/ca-db/index"
    [ -f "$_d/ca-db/serial" ] || echo 01 >"$_d/ca-db/serial"
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
    case "$_when" in
        expired) _dates="-startdate 20200101000000Z -enddate 20200102000000Z" ;;
        until:*) _dates="-enddate ${_when#until:}" ;;
        *) _dates="-days 2" ;;
    esac
    # shellcheck disable=SC2086
    openssl ca -batch -config "$_d/ca-db/ca.cnf" -cert "$_d/$_ca.crt" -keyfile "$_d/$_ca.key" \
        -in "$_d/$_n.csr" -out "$_d/$_n.crt" -extfile "$_d/$_n.ext" $_dates -notext \
        >/dev/null 2>&1
}

pki_cert() {
    if [ "${5:-client}" = server ]; then
        pki_sign "$1" "$2" "$3" "$4" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth" "${6:-}"
    else
        pki_sign "$1" "$2" "$3" "$4" "extendedKeyUsage=clientAuth" "${6:-}"
    fi
}
