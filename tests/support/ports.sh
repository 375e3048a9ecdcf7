# A free TCP port on 127.0.0.1 (source it): free_port prints one that no socket uses now.
# It is taken below the kernel's ephemeral range (net.ipv4.ip_local_port_range): a port inside
# it can be given to any outgoing connection (a benchmark makes thousands) between the moment
# it is chosen and the moment a server binds it. Several checkouts run tests on this machine at
# once: a caller whose bind still fails retries with another.
free_port() {
    _fp_lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
    [ "${_fp_lo:-0}" -gt 12000 ] 2>/dev/null || _fp_lo=32768
    while :; do
        _fp=$((10000 + $(od -An -N2 -tu2 /dev/urandom) % (_fp_lo - 10000)))
        ss -Htan "sport = :$_fp" | grep -q . || { echo "$_fp"; return; }
    done
}
