# A free TCP port on 127.0.0.1 (source it): free_port prints one no socket listens on now.
# Several checkouts run tests on this machine at once: a caller whose bind still fails retries
# with another.
free_port() {
    while :; do
        _fp=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000))
        ss -Htln "sport = :$_fp" | grep -q . || { echo "$_fp"; return; }
    done
}
