# Where the host-gate lifecycle tests get their grants (source after hostgate_env.sh):
#   grants_start               start the broker and point host.conf at it
#   grant_request USER         an engineer asks (pending)
#   grant_approve USER TTL     an approver approves; sets GRANT_ID
#   grant_exp                  the current grant's exp (epoch seconds)
#   grant_revoke USER / grant_deny USER
# FAKE mode: the fake broker is told what the real one would answer.
GRANT_N=0

grants_start() {
    diag "grants: FAKE broker (tests/support/fake_broker.py)"
    hg_fake_broker_start
}

grant_request() {
    hg_answer token 403 "{\"error\":\"pending\",\"message\":\"request LBX-7 awaits approval\",\"request_id\":\"LBX-7\",\"awaiting\":\"subscription owner\"}"
}

grant_approve() {
    GRANT_N=$((GRANT_N + 1))
    GRANT_ID=G-$HG_ID-$GRANT_N
    rm -f "$HG/broker/grant"
    hg_grant "$1" "$2" "$GRANT_ID"
    GRANT_EXP=$_exp
}

grant_exp() { echo "$GRANT_EXP"; }

grant_revoke() {
    hg_answer grant 200 "{\"grant_id\":\"$GRANT_ID\",\"status\":\"revoked\",\"access_end\":$GRANT_EXP}"
    hg_answer token 403 '{"error":"revoked","message":"grant revoked by carol"}'
}

grant_deny() {
    hg_answer token 403 '{"error":"denied","message":"request LBX-8 denied by carol"}'
}
