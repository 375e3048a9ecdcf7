# Where the host-gate lifecycle tests get their grants (source after hostgate_env.sh):
#   grants_start LOGIN         the REAL lockboxd (tests/support/broker_env.sh) with a tenant,
#                              subscription and this test's host, an engineer "eng" whose host
#                              login is LOGIN and an approver "appr"; host.conf points at it
#   grant_request LOGIN [TTL]  the engineer asks (pending)
#   grant_approve LOGIN TTL    approves the pending request (or a new one of TTL); sets
#                              GRANT_ID, GRANT_EXP; an older grant still active is revoked first
#   grant_exp                  GRANT_EXP
#   grant_revoke LOGIN         the approver revokes the current grant
#   grant_deny LOGIN           a new request, denied
#   grants_enroll_host T SUB   HG_HOST in a running real lockboxd (tenant T, subscription SUB),
#                              host.conf settings for it (also for tests with a broker of their own)
#   grants_stop / grants_resume  the broker goes away / comes back on the same port
#   grant_reported SID REASON  the broker recorded the end of session SID for REASON
# Only when lockboxd is not built (or LBX_FAKE_GRANTS=1) the fake broker plays its part.
GRANT_N=0
REQ_PENDING=""
REQ_ACTIVE=""

grants_start() {
    if [ "${LBX_FAKE_GRANTS:-}" != 1 ] && [ -x "$BUILD_ABS/lockboxd" ] &&
        [ -f tests/support/broker_env.sh ]; then
        GRANTS=real
        . tests/support/broker_env.sh
        BENV_BUILD=$BUILD_ABS
        _t=t-$HG_ID _sub=sub-$HG_ID
        benv_init && benv_config && benv_start && benv_admin || return 1
        benv_api admin POST /v1/tenants "{\"id\":\"$_t\"}" >/dev/null
        benv_api admin POST /v1/subscriptions "{\"id\":\"$_sub\",\"tenant\":\"$_t\"}" >/dev/null
        grants_enroll_host "$_t" "$_sub"
        benv__person eng "$1" "" engineer global
        benv__person appr "" "" owner "subscription:$_sub"
        diag "grants: real lockboxd at $BENV_URL"
    else
        GRANTS=fake
        diag "grants: FAKE broker (lockboxd not built here)"
        hg_fake_broker_start
    fi
}

# grants_enroll_host TENANT SUBSCRIPTION: this test's host (HG_HOST) in the running real
# lockboxd, with a client certificate from its CA; hg_config then points host.conf at it (its
# URL, CA, the host's certificate, its issuer and signing key).
grants_enroll_host() {
    benv_api admin POST /v1/hosts "{\"id\":\"$HG_HOST\",\"tenant\":\"$1\",\"subscription\":\"$2\"}" >/dev/null
    [ "$(benv_status)" = 201 ] || [ "$(benv_status)" = 200 ] || return 1
    benv_host_cert "$HG_HOST"
    HG_BROKER_URL=$BENV_URL
    HG_CA=$BENV_DIR/certs/ca.crt
    HG_CERT=$BENV_DIR/certs/$HG_HOST.crt
    HG_KEY=$BENV_DIR/certs/$HG_HOST.key
    HG_ISSUER=lockbox-test
    HG_KEYS=$BENV_DIR/signing/signing.pub
}

grants_stop() {
    if [ "$GRANTS" = real ]; then benv_stop; else hg_fake_broker_stop; fi
}

grants_resume() {
    if [ "$GRANTS" = real ]; then
        sed -i "s/^listen = .*/listen = 127.0.0.1:$BENV_PORT/" "$BENV_DIR/lockboxd.conf" && benv_start
    else
        hg_fake_broker_start broker "$(cat "$HG/broker/port")"
    fi
}

_req_create() { # TTL -> request id
    benv_ctl eng request create --host "$HG_HOST" --ticket T-123 --reason "lockbox e2e" \
        --duration "$1" | awk 'NR == 1 {print $1}'
}

_req_field() { benv_ctl appr --json show "$1" | benv_json "j[\"$2\"]"; }

grant_request() {
    if [ "$GRANTS" = fake ]; then
        hg_answer token 403 "{\"error\":\"pending\",\"message\":\"LBX-7 awaits approval\",\"request_id\":\"LBX-7\",\"awaiting\":\"subscription owner (carol)\"}"
        return
    fi
    REQ_TTL=${2:-1h}
    REQ_PENDING=$(_req_create "$REQ_TTL")
}

grant_approve() {
    GRANT_N=$((GRANT_N + 1))
    if [ "$GRANTS" = fake ]; then
        GRANT_ID=G-$HG_ID-$GRANT_N
        rm -f "$HG/broker/grant"
        hg_grant "$1" "$2" "$GRANT_ID"
        GRANT_EXP=$_exp
        return
    fi
    [ -n "$REQ_ACTIVE" ] && benv_ctl appr revoke "$REQ_ACTIVE" >/dev/null 2>&1
    if [ -z "$REQ_PENDING" ] || [ "$REQ_TTL" != "$2" ]; then
        REQ_PENDING=$(_req_create "$2")
    fi
    benv_ctl appr approve "$REQ_PENDING" --comment "e2e" >/dev/null || return 1
    REQ_ACTIVE=$REQ_PENDING
    REQ_PENDING=""
    GRANT_ID=$(_req_field "$REQ_ACTIVE" grant_id)
    GRANT_EXP=$(_req_field "$REQ_ACTIVE" access_end)
}

grant_exp() { echo "$GRANT_EXP"; }

grant_revoke() {
    if [ "$GRANTS" = fake ]; then
        hg_answer grant 200 "{\"grant_id\":\"$GRANT_ID\",\"status\":\"revoked\",\"access_end\":$GRANT_EXP}"
        hg_answer token 403 '{"error":"revoked","message":"grant revoked by carol"}'
        return
    fi
    benv_ctl appr revoke "$REQ_ACTIVE" --comment "e2e" >/dev/null
    REQ_ACTIVE=""
}

grant_deny() {
    if [ "$GRANTS" = fake ]; then
        hg_answer token 403 '{"error":"denied","message":"LBX-8 denied by carol"}'
        return
    fi
    _r=$(_req_create 1h)
    benv_ctl appr deny "$_r" --comment "not now" >/dev/null
}

grant_reported() {
    if [ "$GRANTS" = fake ]; then
        grep -q "\"event\":\"end\".*\"reason\":\"$2\".*\"session\":\"$1\"" "$HG/broker/requests"
        return
    fi
    benv_api admin GET "/v1/audit?action=session_ended" | $PYTHON -c 'import json,sys
for l in sys.stdin:
    d = json.loads(json.loads(l)["body"])["detail"]
    if d["session"] == sys.argv[1] and d["reason"] == sys.argv[2]:
        sys.exit(0)
sys.exit(1)' "$1" "$2"
}
