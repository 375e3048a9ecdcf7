# token_load.sh — token issue under load against the broker of broker_env.sh (source after it):
#   issued                 the number of token_issued events
#   ask                    one token request as node-7 for support-alice (benv_host_api)
#   load ARGS...           bench_http against the token endpoint as node-7; JSON figures on stdout
#   chain_ok               lockboxctl audit verify passes (its output as a diag line if not)
#   tload_concurrent       16 keep-alive x 25 + 8 fresh-TLS x 5 clients: three checks (440
#                          tokens, one event per token, the chain verifies)
#   tload_kill LABEL DELAY COMMAND...
#                          16 keep-alive clients for 4 s, COMMAND (a kill) after DELAY seconds:
#                          two checks (tokens were answered; none without its event)
make -s BUILD="$BENV_BUILD" "$BENV_BUILD/tests/bench/bench_http" >/dev/null 2>&1
issued() { benv_sql "SELECT count(*) FROM audit WHERE action='token_issued'"; }
ask() { benv_host_api node-7 POST /v1/host/token '{"host":"node-7","login":"support-alice"}'; }
load() {
    "$BENV_BUILD/tests/bench/bench_http" --url "$BENV_URL/v1/host/token" \
        --ca "$BENV_DIR/certs/ca.crt" --cert "$BENV_DIR/certs/node-7.crt" \
        --key "$BENV_DIR/certs/node-7.key" -d '{"host":"node-7","login":"support-alice"}' \
        --expect-text '"token":"ey' "$@"
}
chain_ok() { out=$(benv_audit_verify); [ "${out#audit chain OK}" != "$out" ] || { diag "$out"; return 1; }; }
tload_concurrent() {
    _before=$(issued)
    _ka=$(load -c 16 -n 25 --name keepalive)
    _fresh=$(load -c 8 -n 5 --fresh --name fresh)
    _answered=$(( $(echo "$_ka" | benv_json 'j["requests"]') + $(echo "$_fresh" | benv_json 'j["requests"]') ))
    check "16 keep-alive + 8 fresh-TLS clients: 440 tokens, no failure" \
        test "$_answered $(echo "$_ka" | benv_json 'j["errors"]') $(echo "$_fresh" | benv_json 'j["errors"]')" = "440 0 0"
    check "one token_issued event per token answered ($_answered)" test $(( $(issued) - _before )) -eq "$_answered"
    check "the audit chain verifies after concurrent issue" chain_ok
}
tload_kill() {
    _label=$1 _delay=$2
    shift 2
    _before=$(issued)
    load -c 16 -t 4 --name killed >"$BENV_DIR/killed.json" 2>/dev/null &
    _lp=$!
    sleep "$_delay"
    "$@"
    wait $_lp
    _answered=$(benv_json 'j["requests"]' <"$BENV_DIR/killed.json")
    _recorded=$(( $(issued) - _before ))
    diag "$_label: $_answered tokens answered, $_recorded events recorded"
    check "$_label: tokens were answered around the kill" test "$_answered" -gt 0
    check "$_label: no token answered without its event" test "$_answered" -le "$_recorded"
}
