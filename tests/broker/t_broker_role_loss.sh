#!/bin/sh
# An engineer taken off a tenant loses the access that role alone allowed, in the removal's own
# transaction: DELETE /v1/roles/ID of an engineer assignment revokes the identity's active
# grants and cancels its open requests on every tenant that no remaining engineer assignment
# (global or that tenant) reaches, audited (reason role_removed) and notified; a host's reaper
# long-polling such a grant sees "revoked" at once. What another assignment still covers stays.
# Lockbox-off grants go the same way. Token issue refuses an approved grant whose requester no
# longer holds such a role, whatever left it active. Racing removals are counted once; a token
# or a request racing the removal never outlives its 204.
# Runs on PostgreSQL too (t_broker_pg.sh).
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }
role_id() { benv_sql "SELECT id FROM roles WHERE identity='$1' AND role='engineer' AND scope='$2' AND removed IS NULL"; }
assign() { benv_api admin POST /v1/roles "{\"identity\":\"$1\",\"role\":\"engineer\",\"scope\":\"$2\"}" >/dev/null; }
events() { # ACTION REQUEST-ID [REASON]
    _why=""
    [ -z "${3:-}" ] || _why=" AND json_extract(body,'\$.detail.reason')='$3'"
    benv_sql "SELECT count(*) FROM audit WHERE action='$1' AND json_extract(body,'\$.request_id')='$2'$_why"
}
withdrawn_by_role() { benv_sql "SELECT json_extract(body,'\$.detail.withdrawn') FROM audit WHERE action='role_removed' AND CAST(json_extract(body,'\$.detail.id') AS INTEGER)=$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# A notification receiver that never answers: the outbox shows what would be sent.
benv_api admin PUT /v1/policies/tenant:contoso '{"notify_webhook":"https://127.0.0.1:9/hook"}' >/dev/null
benv__person eve support-eve "" engineer tenant:contoso
assign eve tenant:fabrikam

# --- an engineer taken off tenant contoso ------------------------------------------------------
ga=$(benv_request eve node-7)
benv_api carol POST "/v1/requests/$ga/approve" '{}' >/dev/null
pa=$(benv_request eve node-9)
gb=$(benv_request eve fab-1)
benv_api fred POST "/v1/requests/$gb/approve" '{}' >/dev/null
tok_a=$(benv_token node-7 support-eve | field grant_id)
check "eve's grant $ga on contoso issues a token" test -n "$tok_a" -a "$(benv_status)" = 200
benv_token fab-1 support-eve >/dev/null
check "eve's grant $gb on fabrikam issues a token" test "$(benv_status)" = 200
check "eve's request $pa on contoso is pending" test "$(benv_request_status "$pa")" = pending
benv_grant_poll node-7 "$tok_a"
sleep 1
r_a=$(role_id eve tenant:contoso)
t0=$(date +%s)
benv_api admin DELETE "/v1/roles/$r_a" >/dev/null
check "removing eve's engineer role on tenant:contoso: 204" test "$(benv_status)" = 204
set -- $(benv_grant_poll_end)
check "the reaper's long-poll on $tok_a ended within 3 s, reading revoked" test $(($1 - t0)) -le 3 -a "$2" = revoked
check "the contoso grant $ga is revoked" test "$(benv_request_status "$ga")" = revoked
check "the contoso request $pa is cancelled" test "$(benv_request_status "$pa")" = cancelled
check "the fabrikam grant $gb is untouched" test "$(benv_request_status "$gb")" = approved
check "revoked by the admin, saying which role went" \
    test "$(benv_sql "SELECT revoked_by || '|' || revoke_comment FROM requests WHERE id=${ga#LBX-}")" = "admin|engineer role on tenant:contoso removed"
check "cancelled by the admin, saying which role went" \
    test "$(benv_sql "SELECT decided_by || '|' || comment FROM requests WHERE id=${pa#LBX-}")" = "admin|engineer role on tenant:contoso removed"
check "audited: grant_revoked for $ga, reason role_removed" test "$(events grant_revoked "$ga" role_removed)" -eq 1
check "... naming the scope removed" \
    test "$(benv_sql "SELECT json_extract(body,'\$.detail.scope') FROM audit WHERE action='grant_revoked' AND json_extract(body,'\$.request_id')='$ga'")" = tenant:contoso
check "audited: request_cancelled for $pa, reason role_removed" test "$(events request_cancelled "$pa" role_removed)" -eq 1
check "audited: role_removed, withdrawing 2" test "$(withdrawn_by_role "$r_a")" = 2
check "nothing audited against $gb" test "$(events grant_revoked "$gb")" -eq 0
check "notified: grant_revoked for $ga" \
    test "$(benv_sql "SELECT count(*) FROM outbox WHERE event='grant_revoked' AND request=${ga#LBX-}")" -eq 1
check "notified: request_cancelled for $pa" \
    test "$(benv_sql "SELECT count(*) FROM outbox WHERE event='request_cancelled' AND request=${pa#LBX-}")" -eq 1
out=$(benv_token node-7 support-eve)
check "no token on node-7 any more: 403 revoked" test "$(benv_status)$(echo "$out" | field error)" = 403revoked
out=$(benv_token node-9 support-eve)
check "node-9: 403 cancelled" test "$(benv_status)$(echo "$out" | field error)" = 403cancelled
check "... saying who cancelled it and why" contains "$out" "was cancelled by admin: engineer role on tenant:contoso removed"
benv_token fab-1 support-eve >/dev/null
check "fab-1 still issues eve's token" test "$(benv_status)" = 200
benv_api gina POST "/v1/requests/$pa/approve" '{}' >/dev/null
check "the cancelled request cannot be approved: 409" test "$(benv_status)" = 409
benv_api eve POST /v1/requests '{"host":"node-7","ticket":"T","reason":"r","duration":600}' >/dev/null
check "eve cannot ask for contoso's node-7 any more: 404" test "$(benv_status)" = 404

# Removing it again: 404, nothing withdrawn twice.
before=$(benv_sql "SELECT count(*) FROM audit")
benv_api admin DELETE "/v1/roles/$r_a" >/dev/null
check "removing the same role twice: 404" test "$(benv_status)" = 404
check "... and nothing audited for it" test "$(benv_sql "SELECT count(*) FROM audit")" -eq "$before"
for bad in 0 -1 x 99999999 '1%20OR%201=1' 184467440737095516160; do
    benv_api admin DELETE "/v1/roles/$bad" >/dev/null
    check "DELETE /v1/roles/$bad: 404" test "$(benv_status)" = 404
done
benv_api eve DELETE "/v1/roles/$(role_id eve tenant:fabrikam)" >/dev/null
check "eve cannot remove her own role: 403" test "$(benv_status)" = 403
check "... and keeps it" test -n "$(role_id eve tenant:fabrikam)"

# --- a global role removed while a tenant role still covers -------------------------------------
pb=$(benv_request eve fab-1)
assign eve global
r_g=$(role_id eve global)
benv_api admin DELETE "/v1/roles/$r_g" >/dev/null
check "removing eve's global role (tenant:fabrikam remains): 204" test "$(benv_status)" = 204
check "... withdraws nothing" test "$(withdrawn_by_role "$r_g")" = 0
check "the fabrikam grant $gb stays approved" test "$(benv_request_status "$gb")" = approved
check "the fabrikam request $pb stays pending" test "$(benv_request_status "$pb")" = pending
benv_token fab-1 support-eve >/dev/null
check "fab-1 still issues eve's token" test "$(benv_status)" = 200
# ... but what only the global role reached goes with it.
assign eve global
pc=$(benv_request eve node-9)
r_g=$(role_id eve global)
benv_api admin DELETE "/v1/roles/$r_g" >/dev/null
check "removing the global role again: $pc (contoso, reached through global only) is cancelled" \
    test "$(benv_request_status "$pc")" = cancelled
check "... $gb and $pb (fabrikam) stay" test "$(benv_request_status "$gb")/$(benv_request_status "$pb")" = approved/pending
check "... role_removed withdrew 1" test "$(withdrawn_by_role "$r_g")" = 1
# Other roles withdraw nothing: an approver only decides while holding the role.
r_o=$(benv_sql "SELECT id FROM roles WHERE identity='fred' AND role='owner' AND removed IS NULL")
benv_api admin DELETE "/v1/roles/$r_o" >/dev/null
check "removing fred's owner role: 204, withdrawing nothing" \
    test "$(benv_status)/$(withdrawn_by_role "$r_o")/$(benv_request_status "$pb")" = 204/0/pending

# --- token issue re-checks the role ---------------------------------------------------------------
# A grant left active although its requester holds no engineer role any more (here: the role
# removed behind the broker's back) issues no token.
r_f=$(role_id eve tenant:fabrikam)
benv_sql "UPDATE roles SET removed = $(date +%s) WHERE id = $r_f"
out=$(benv_token fab-1 support-eve)
check "an active grant without the role: 403 not_eligible" test "$(benv_status)$(echo "$out" | field error)" = 403not_eligible
check "... saying why" contains "$out" "is approved, but eve holds no engineer role on global or tenant:fabrikam"
check "... audited token_refused/not_eligible for $gb" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='token_refused' AND json_extract(body,'\$.request_id')='$gb' AND json_extract(body,'\$.detail.result')='not_eligible'")" -eq 1
benv_sql "UPDATE roles SET removed = NULL WHERE id = $r_f"
benv_token fab-1 support-eve >/dev/null
check "the role back: the token again" test "$(benv_status)" = 200

# --- lockbox off: the automatic grant goes with the role ---------------------------------------
benv_api admin PUT /v1/policies/tenant:fabrikam '{"lockbox":false,"access_duration":600}' >/dev/null
benv__person lou support-lou "" engineer tenant:fabrikam
out=$(benv_token fab-1 support-lou)
check "lockbox off: lou gets an automatic grant" test "$(benv_status)" = 200
g_lou=$(echo "$out" | field request_id)
check "... $g_lou, approved by policy" test "$(benv_sql "SELECT status || '|' || lockbox_off FROM requests WHERE id=${g_lou#LBX-}")" = "approved|1"
benv_api admin DELETE "/v1/roles/$(role_id lou tenant:fabrikam)" >/dev/null
check "removing lou's role: 204" test "$(benv_status)" = 204
check "the automatic grant $g_lou is revoked" test "$(benv_request_status "$g_lou")" = revoked
out=$(benv_host_api fab-1 GET "/v1/host/grants/$(echo "$out" | field grant_id)")
check "... and reads revoked for the host's reaper" test "$(echo "$out" | field status)" = revoked
out=$(benv_token fab-1 support-lou)
check "no new automatic grant for lou: 403 not_eligible" test "$(benv_status)$(echo "$out" | field error)" = 403not_eligible
benv_api admin PUT /v1/policies/tenant:fabrikam '{}' >/dev/null

# --- races ----------------------------------------------------------------------------------------
# Two removals of one role at once: exactly one 204, one 404, one withdrawal.
benv__person rex support-rex "" engineer tenant:contoso
gr=$(benv_request rex node-7)
benv_api dave POST "/v1/requests/$gr/approve" '{}' >/dev/null
r_x=$(role_id rex tenant:contoso)
mkdir -p "$BENV_DIR/d1" "$BENV_DIR/d2"
( BENV_OUT="$BENV_DIR/d1" benv_api admin DELETE "/v1/roles/$r_x" >/dev/null ) &
D1=$!
( BENV_OUT="$BENV_DIR/d2" benv_api admin DELETE "/v1/roles/$r_x" >/dev/null ) &
D2=$!
wait "$D1" "$D2"
check "two removals at once: one 204, one 404" \
    test "$(sort "$BENV_DIR/d1/status" "$BENV_DIR/d2/status" | tr '\n' ' ')" = "204 404 "
check "... one role_removed event" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='role_removed' AND CAST(json_extract(body,'\$.detail.id') AS INTEGER)=$r_x")" -eq 1
check "... one revocation of $gr" test "$(events grant_revoked "$gr")" -eq 1

# A removal while the host asks for tokens and the engineer asks for access, over and over: once
# the removal's 204 is in, no token is issued for the grant and no request made under the role
# is left open. Each client logs "START_MS STATUS" per call.
benv__person sam support-sam "" engineer tenant:contoso
gs=$(benv_request sam node-7)
benv_api carol POST "/v1/requests/$gs/approve" '{}' >/dev/null
hammer() { # NAME COMMAND...
    _d="$BENV_DIR/h-$1"; shift
    mkdir -p "$_d"
    while [ ! -f "$BENV_DIR/stop" ]; do
        _t=$(now_ms)
        BENV_OUT=$_d "$@" >/dev/null 2>&1
        echo "$_t $(cat "$_d/status")" >>"$_d/log"
    done
}
hammer tok1 benv_token node-7 support-sam &
H1=$!
hammer tok2 benv_token node-7 support-sam &
H2=$!
hammer ask benv_request sam node-9 &
H3=$!
tap_cleanup "touch '$BENV_DIR/stop'; kill $H1 $H2 $H3 2>/dev/null"
sleep 2
benv_api admin DELETE "/v1/roles/$(role_id sam tenant:contoso)" >/dev/null
t204=$(now_ms)
check "removing sam's role under load: 204" test "$(benv_status)" = 204
sleep 2
touch "$BENV_DIR/stop"
wait "$H1" "$H2" "$H3"
cat "$BENV_DIR/h-tok1/log" "$BENV_DIR/h-tok2/log" >"$BENV_DIR/h-tok.log"
check "tokens were issued before the removal (the race was run)" \
    test "$(awk -v t="$t204" '$1 < t && $2 == 200' "$BENV_DIR/h-tok.log" | wc -l)" -gt 0
check "and refused after it" test "$(awk -v t="$t204" '$1 > t && $2 == 403' "$BENV_DIR/h-tok.log" | wc -l)" -gt 0
check "no token asked for after the 204 was issued" \
    test "$(awk -v t="$t204" '$1 > t && $2 == 200' "$BENV_DIR/h-tok.log" | wc -l)" -eq 0
check "in the audit chain every token_issued for $gs precedes its revocation" \
    test "$(benv_sql "SELECT count(*) FROM audit WHERE action='token_issued' AND json_extract(body,'\$.request_id')='$gs' AND seq > (SELECT seq FROM audit WHERE action='grant_revoked' AND json_extract(body,'\$.request_id')='$gs')")" -eq 0
check "every 200 the hosts got is one token_issued on record" \
    test "$(grep -c ' 200$' "$BENV_DIR/h-tok.log")" -eq "$(benv_sql "SELECT count(*) FROM audit WHERE action='token_issued' AND json_extract(body,'\$.request_id')='$gs'")"
check "requests were made under the role (the race was run)" \
    test "$(grep -c ' 201$' "$BENV_DIR/h-ask/log")" -gt 0
check "no request of sam's is left open" \
    test "$(benv_sql "SELECT count(*) FROM requests WHERE requester='sam' AND status IN ('pending','internal-review','approved')")" -eq 0
check "none asked for after the 204 was made" \
    test "$(awk -v t="$t204" '$1 > t && $2 == 201' "$BENV_DIR/h-ask/log" | wc -l)" -eq 0

check "the audit chain verifies" test "$(benv_audit_verify | grep -c 'audit chain OK')" -eq 1
benv_stop
tap_done
