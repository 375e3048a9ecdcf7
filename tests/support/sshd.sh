# Starting a test sshd (source it): the one way the tests bring one up and know it listens.
#   sshd_start LOG CMD...  runs CMD in the background: an sshd with -D and -E LOG among its
#                          arguments, behind `env` or a link named for its PAM service as the
#                          caller needs. Waits up to 5 s for "Server listening" in what it
#                          appends to LOG. Sets SSHD_PID. Returns 0 when it listens; 2 when its
#                          port was taken meanwhile (pick another and retry: other checkouts
#                          run tests here too); 1 when it did not come up otherwise (stopped).
sshd_start() {
    _sl=$1
    shift
    [ -f "$_sl" ] || : >"$_sl"
    _sfrom=$(($(wc -l <"$_sl") + 1))
    "$@" &
    SSHD_PID=$!
    for _si in $(seq 50); do
        tail -n "+$_sfrom" "$_sl" | grep -q "Server listening" && return 0
        kill -0 "$SSHD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill "$SSHD_PID" 2>/dev/null
    wait "$SSHD_PID" 2>/dev/null
    SSHD_PID=
    tail -n "+$_sfrom" "$_sl" | grep -q "Address already in use" && return 2
    return 1
}
