#!/usr/bin/env bash
# privault serve, end to end on loopback with a fresh vault: health, readiness,
# metrics, OpenAPI, authentication failures (401, then 429 with Retry-After),
# the access log (route patterns, truncated addresses, no ids or query strings),
# SIGHUP reloading the configuration and API keys, SIGTERM letting a request in
# flight finish (exit 0), and TLS checked with curl --cacert.
set -euo pipefail

: "${PRIVAULT:?}" "${SRCDIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-serve-XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/server.log" ] && sed 's/^/  server: /' "$T/server.log" >&2; exit 1; }

unset PRIVAULT_KEYS PRIVAULT_STORE PRIVAULT_CONFIG
export PRIVAULT_VAULT="$T/vault"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$PRIVAULT" init "$PRIVAULT_VAULT" --policy "$SRCDIR/tests/data/vault-policy.yaml" >/dev/null
ADMIN=$("$PRIVAULT" apikey create admin1 --role admin 2>/dev/null)
SVC=$("$PRIVAULT" apikey create shop --role service --grant account:identifiers 2>/dev/null)
AUD=$("$PRIVAULT" apikey create audit1 --role auditor 2>/dev/null)
[[ "$ADMIN" =~ ^pvk_[0-9a-f]{16}_[0-9a-f]{64}$ ]] || fail "apikey create printed '$ADMIN'"
"$PRIVAULT" apikey list | grep -q "shop" || fail "apikey list"
"$PRIVAULT" apikey list | grep -q "${ADMIN:4:16}" || fail "apikey list shows ids"
! "$PRIVAULT" apikey list | grep -q "${ADMIN:21}" || fail "apikey list shows a secret"
! sqlite3 "$PRIVAULT_VAULT/vault.db" .dump | grep -q "${ADMIN:21}" || fail "the key secret is in the database"

PORT=$(free_port)
cat > "$T/privault.conf" <<EOF
# test configuration
port = $PORT
max_body = 100000
access_log = $T/access.log
auth_fail_burst = 3
auth_fail_per_minute = 6
EOF
export PRIVAULT_CONFIG="$T/privault.conf"
"$PRIVAULT" serve >"$T/server.log" 2>&1 &
SP=$!
PIDS+=("$SP")
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
grep -q "listening on http://127.0.0.1:$PORT" "$T/server.log" || fail "no listening line"

code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
A=(-H "Authorization: Bearer $ADMIN")
J=(-H "Content-Type: application/json")

# ---- system routes
[ "$(code "$URL/healthz")" = 200 ] && grep -q '"status":"ok"' "$T/body" || fail healthz
[ "$(code "$URL/readyz")" = 200 ] && grep -q '"store":"sqlite"' "$T/body" || fail readyz
[ "$(code "$URL/v1/openapi.json")" = 200 ] || fail openapi
python3 - "$T/body" <<'EOF' || fail "openapi document"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["openapi"] == "3.1.0"
assert "/v1/subjects" in d["paths"] and "/metrics" in d["paths"]
assert d["paths"]["/v1/apikeys"]["post"]["x-roles"] == ["admin"]
EOF

# ---- a real session: subject, record, allowed and denied reads
[ "$(code "${A[@]}" "${J[@]}" -d '{"identifiers":{"email":"ada@example.com"}}' "$URL/v1/subjects")" = 201 ] ||
	fail "subject create: $(cat "$T/body")"
SID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body")
[ "$(code "${A[@]}" "${J[@]}" -d '{"category":"identifiers","purpose":"account","data":{"name":"Ada"}}' \
	"$URL/v1/subjects/$SID/records")" = 201 ] || fail "record put: $(cat "$T/body")"
[ "$(code -H "Authorization: Bearer $SVC" -H "X-Purpose: account" "$URL/v1/subjects/$SID/records?secret=q1")" = 200 ] ||
	fail "allowed read: $(cat "$T/body")"
grep -q '"name":"Ada"' "$T/body" || fail "read data"
[ "$(code -H "Authorization: Bearer $AUD" -H "X-Purpose: account" "$URL/v1/subjects/$SID/records")" = 403 ] ||
	fail "auditor read"
[ "$(code -H "Authorization: Bearer $SVC" "$URL/v1/apikeys")" = 403 ] || fail "service lists keys"
grep -q 'role-forbidden' "$T/body" || fail "role-forbidden problem"
[ "$(code -H "Authorization: Bearer $AUD" "$URL/v1/apikeys")" = 200 ] || fail "auditor lists keys"
[ "$(code "${A[@]}" "${J[@]}" -d '{"identifiers":{"email":5}}' "$URL/v1/subjects")" = 400 ] || fail "bad body"
grep -q '"pointer":"/identifiers/email"' "$T/body" || fail "bad body pointer"
[ "$(code "${A[@]}" -H "Content-Type: text/plain" -d 'x' "$URL/v1/subjects")" = 415 ] || fail 415
[ "$(code -X PUT "$URL/healthz")" = 405 ] || fail 405
[ "$(code "$URL/nope")" = 404 ] && grep -q 'application/problem+json\|"status":404' "$T/body" || fail 404

# ---- metrics: by route pattern, decisions, audit length; no ids
curl -s "$URL/metrics" >"$T/metrics"
grep -q 'privault_http_requests_total{method="GET",route="/v1/subjects/{id}/records",status="200"} 1' "$T/metrics" ||
	fail "metrics by route"
grep -q 'privault_access_decisions_total{decision="allow",reason="allowed"} 1' "$T/metrics" || fail "metrics allow"
grep -Eq 'privault_audit_entries [1-9][0-9]*' "$T/metrics" || fail "metrics audit length"
grep -q 'privault_http_request_duration_seconds_bucket' "$T/metrics" || fail "histogram"
! grep -q "$SID" "$T/metrics" || fail "a subject id in the metrics"

# ---- access log: patterns and truncated addresses only
sleep 1.5
grep -q ' 127.0.0.0/24 GET /v1/subjects/{id}/records 200 ' "$T/access.log" || fail "access log line"
! grep -q "$SID" "$T/access.log" || fail "a subject id in the access log"
! grep -q 'secret=q1\|127.0.0.1 ' "$T/access.log" || fail "query string or full address in the access log"

# ---- SIGHUP: a smaller body limit applies, a revoked key stops working
"$PRIVAULT" apikey revoke "${SVC:4:16}" >/dev/null
sed -i 's/^max_body = 100000/max_body = 2000/' "$T/privault.conf"
kill -HUP "$SP"
for _ in $(seq 50); do grep -q 'reload: configuration applied' "$T/server.log" && break; sleep 0.1; done
grep -q 'reload: max_body changed from "100000" to "2000" (applied)' "$T/server.log" || fail "reload log"
big=$(python3 -c 'print("{\"identifiers\":{\"email\":\"" + "a"*3000 + "@example.com\"}}")')
[ "$(code "${A[@]}" "${J[@]}" -d "$big" "$URL/v1/subjects")" = 413 ] || fail "413 after reload"
[ "$(code -H "Authorization: Bearer $SVC" -H "X-Purpose: account" "$URL/v1/subjects/$SID/records")" = 401 ] ||
	fail "revoked key still works"
# a key created over HTTP works at once, and is shown once
[ "$(code "${A[@]}" "${J[@]}" -d '{"name":"http1","role":"auditor"}' "$URL/v1/apikeys")" = 201 ] || fail "POST apikeys"
K2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$T/body")
[ "$(code -H "Authorization: Bearer $K2" "$URL/v1/apikeys")" = 200 ] || fail "new HTTP key"
! grep -q "${K2:21}" "$T/body" || fail "a secret in the key list"

# ---- SIGTERM: a request in flight finishes, then exit 0
sed -i 's/^max_body = 2000/max_body = 100000\ngroup_commit_us = 1000000\nmax_batch = 1000/' "$T/privault.conf"
kill -HUP "$SP"
for _ in $(seq 50); do [ "$(grep -c 'reload: configuration applied' "$T/server.log")" -ge 2 ] && break; sleep 0.1; done
curl -s -o "$T/inflight" -w '%{http_code}' "${A[@]}" "${J[@]}" -d '{"identifiers":{"email":"late@example.com"}}' \
	"$URL/v1/subjects" >"$T/inflight.code" &
CP=$!
sleep 0.3
kill -TERM "$SP"
wait "$CP" || true
[ "$(cat "$T/inflight.code")" = 201 ] || fail "the request in flight got $(cat "$T/inflight.code")"
rc=0
wait "$SP" || rc=$?
[ "$rc" = 0 ] || fail "serve exited $rc after SIGTERM"
grep -q 'SIGTERM: stopping' "$T/server.log" || fail "no stop message"
echo late@example.com | "$PRIVAULT" subject find email >/dev/null || fail "the acknowledged write is missing"
"$PRIVAULT" audit verify >/dev/null || fail "audit verify after stop"

# ---- TLS with a self-signed certificate
unset PRIVAULT_CONFIG
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
PORT2=$(free_port)
"$PRIVAULT" serve --port "$PORT2" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" --access-log off --auth-fail-burst 3 \
	>"$T/server.log" 2>&1 &
SP2=$!
PIDS+=("$SP2")
for _ in $(seq 100); do curl -sf --cacert "$T/cert.pem" "https://127.0.0.1:$PORT2/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
grep -q "listening on https://127.0.0.1:$PORT2" "$T/server.log" || fail "TLS listening line"
[ "$(code --cacert "$T/cert.pem" "https://127.0.0.1:$PORT2/readyz")" = 200 ] || fail "TLS readyz"
[ "$(code --cacert "$T/cert.pem" "${A[@]}" "https://127.0.0.1:$PORT2/v1/apikeys")" = 200 ] || fail "TLS auth"
! curl -s "http://127.0.0.1:$PORT2/healthz" 2>/dev/null | grep -q ok || fail "plain HTTP answered on the TLS port"
# ---- authentication failures (on the TLS server): 401, then 429 with Retry-After after the burst (3)
U2="https://127.0.0.1:$PORT2"
[ "$(code --cacert "$T/cert.pem" "$U2/v1/apikeys")" = 401 ] || fail "no key"
[ "$(code --cacert "$T/cert.pem" -H "Authorization: Bearer pvk_0000000000000000_$(printf '%064d' 0)" "$U2/v1/apikeys")" = 401 ] ||
	fail "unknown key"
[ "$(code --cacert "$T/cert.pem" -H "Authorization: Bearer garbage" "$U2/v1/apikeys")" = 401 ] || fail "malformed key"
curl -s --cacert "$T/cert.pem" -D "$T/headers" -o "$T/body" -H "Authorization: Bearer garbage" "$U2/v1/apikeys"
grep -q '^HTTP/1.1 429' "$T/headers" || fail "no 429 after 3 failures: $(head -1 "$T/headers")"
grep -qi '^Retry-After: [0-9]' "$T/headers" || fail "no Retry-After"
grep -q 'too-many-failures' "$T/body" || fail "429 problem"

kill -TERM "$SP2"
wait "$SP2" || fail "TLS server exit"

# ---- configuration errors are refused with the key named
if "$PRIVAULT" serve --port 99999 >"$T/err" 2>&1; then fail "port 99999 accepted"; fi
grep -q 'port' "$T/err" || fail "error names the key"
echo "serve: ok"
