#!/bin/sh
# Request lists on a real broker: the status filter runs in SQL, visibility per caller, and
# paging, so an old pending request is never hidden behind 500+ newer ones the caller cannot
# see; every listed object is exactly what GET /v1/requests/{id} shows; internal review counts
# as pending; the 500 cap keeps the newest; hostile status/since values are refused.
. "$(dirname "$0")/../support/tap.sh"
. "$(dirname "$0")/../support/broker_env.sh"
benv_boot || exit 1
field() { benv_json "j[\"$1\"]"; }
create() { benv_api "$1" POST /v1/requests "{\"host\":\"$2\",\"ticket\":\"L-1\",\"reason\":\"r\",\"duration\":600}" | field id; }
ids() { benv_api "$1" GET "/v1/requests$2" | benv_json '" ".join(r["id"] for r in j["requests"])'; }
count() { benv_api "$1" GET "/v1/requests$2" | benv_json 'len(j["requests"])'; }

# N requests by TOKEN-holder on HOST over one keep-alive connection (many, quickly).
bulk_create() {
    python3 - "$BENV_URL" "$BENV_DIR/certs/ca.crt" "$(eval echo "\$BENV_TOKEN_$1")" "$2" "$3" <<'EOF'
import http.client, json, ssl, sys, urllib.parse
url, ca, token, host, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
u = urllib.parse.urlsplit(url)
c = http.client.HTTPSConnection(u.hostname, u.port, context=ssl.create_default_context(cafile=ca))
body = json.dumps({"host": host, "ticket": "BULK", "reason": "list paging", "duration": 600})
for _ in range(n):
    c.request("POST", "/v1/requests", body, {"Authorization": "Bearer " + token,
                                            "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 201:
        sys.exit("create: %d" % r.status)
EOF
}

# An old pending request on fabrikam (fred approves), then 520 newer ones on contoso.
old=$(create alice fab-1)
check "bulk: 520 newer requests on node-7" bulk_create bob node-7 520
check "fred's pending list still has the old fabrikam request (paging past 520 newer ones)" \
    test "$(ids fred '')" = "$old"
check "carol's pending list: a page of 100 by default" test "$(count carol '')" = 100
check "  ?limit=500: 500" test "$(count carol '?limit=500')" = 500
check "  the first is the newest request" test "$(ids carol '' | cut -d' ' -f1)" = "LBX-$(benv_sql "SELECT max(id) FROM requests")"
# Walking the pages through "next" gives every one of the 520 once, newest first, none of fabrikam's.
walk() {
    _path="/v1/requests?limit=$2" _all=""
    while [ -n "$_path" ]; do
        _page=$(benv_api "$1" GET "$_path")
        _all="$_all $(echo "$_page" | benv_json '" ".join(r["id"] for r in j["requests"])')"
        _next=$(echo "$_page" | benv_json 'j["next"] or ""')
        _path=${_next:+/v1/requests?limit=$2&before=$_next}
    done
    echo $_all
}
check "walking carol's pages (limit 100): 520 distinct, newest first, not fabrikam's" python3 -c '
import sys; n = [int(i[4:]) for i in sys.argv[1].split()]
sys.exit(not (len(n) == 520 and n == sorted(set(n), reverse=True) and int(sys.argv[2][4:]) not in n))' "$(walk carol 100)" "$old"
check "  the same with pages of 7" test "$(walk carol 7)" = "$(walk carol 100)"
check "the last page says there is no next" test "$(benv_api carol GET "/v1/requests?limit=500&before=LBX-100" | benv_json 'j["next"]')" = null
check "lockboxctl list follows the pages: 520 rows" test "$(benv_ctl carol --json list | benv_json 'len(j["requests"])')" = 520
check "alice (an engineer) sees only her own, all statuses" test "$(ids alice '?status=all')" = "$old"
check "audrey (global auditor) sees a page of all" test "$(count audrey '?status=all&limit=500')" = 500

# A listed object equals the request itself: approvers and approvals attached to the right row.
benv_api admin PUT /v1/policies/subscription:fab '{"approvals_required":2}' >/dev/null
benv_api admin POST /v1/roles '{"identity":"gina","role":"owner","scope":"subscription:fab"}' >/dev/null
two=$(create alice fab-1)
benv_api fred POST "/v1/requests/$two/approve" '{"comment":"one of two"}' >/dev/null
check "one approval of two: 200" test "$(benv_status)" = 200
listed=$(benv_api fred GET /v1/requests | benv_json "[r for r in j['requests'] if r['id'] == '$two'][0]")
alone=$(benv_api fred GET "/v1/requests/$two")
check "the listed request (with its approval) is exactly GET /v1/requests/{id}" \
    python3 -c 'import json,sys; sys.exit(json.loads(sys.argv[1]) != json.loads(sys.argv[2]))' "$listed" "$alone"
check "  and it carries fred's approval" test "$(echo "$listed" | benv_json 'j["approvals"][0]["by"]')" = fred
check "fred's pending list: both fabrikam requests, newest first" test "$(ids fred '')" = "$two $old"

# Internal review is pending too; single statuses filter exactly.
benv_api admin PUT /v1/policies/subscription:fab '{"internal_review":true,"approvals_required":1}' >/dev/null
rev=$(create alice fab-1)
check "a request in internal review shows in mike's pending list" \
    sh -c "echo ' $(ids mike '') ' | grep -q ' $rev '"
check "  and in ?status=internal-review alone" test "$(ids mike '?status=internal-review')" = "$rev"
benv_api fred POST "/v1/requests/$old/deny" '{"comment":"no"}' >/dev/null
check "?status=denied: exactly the denied one" test "$(ids fred '?status=denied')" = "$old"
check "  and it left fred's pending list" test "$(ids fred '')" = "$rev $two"
check "since in the future: empty" test "$(count carol "?since=$(($(date +%s) + 60))")" = 0

# Hostile filters are refused before any query.
for s in "pending'%20OR%201=1--" "PENDING" "" "pending,denied" "%00pending"; do
    benv_api carol GET "/v1/requests?status=$s" >/dev/null
    check "status=$s is refused: 400" test "$(benv_status)" = 400
done
for q in limit=0 limit=501 limit=-1 limit=1e3 before=LBX-0 before=LBX-x before=G-5 "before=LBX-1%20OR%201"; do
    benv_api carol GET "/v1/requests?$q" >/dev/null
    check "$q is refused: 400" test "$(benv_status)" = 400
done
benv_api carol GET "/v1/requests?since=-1" >/dev/null
check "since=-1 is refused: 400" test "$(benv_status)" = 400
benv_api carol GET "/v1/requests?since=99999999999999999999" >/dev/null
check "an oversized since is refused: 400" test "$(benv_status)" = 400
tap_done
