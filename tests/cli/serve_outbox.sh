#!/usr/bin/env bash
# privault serve delivers the outbox on its own timer (--outbox-every SECONDS,
# PRIVAULT_OUTBOX_EVERY): a verification code queued by an HTTP request while
# the server runs reaches the file mail sink without `privault outbox deliver`;
# with the timer off (0) it stays pending.
set -euo pipefail

: "${PRIVAULT:?}" "${SRCDIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-serve-outbox-XXXXXX")
SP=
cleanup() {
	[ -n "$SP" ] && kill -KILL "$SP" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/server.log" ] && sed 's/^/  server: /' "$T/server.log" >&2; exit 1; }

unset PRIVAULT_KEYS PRIVAULT_STORE PRIVAULT_CONFIG PRIVAULT_OUTBOX_MAIL PRIVAULT_NOW
export PRIVAULT_VAULT="$T/vault"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
"$PRIVAULT" init "$PRIVAULT_VAULT" --policy "$SRCDIR/tests/data/vault-policy.yaml" >/dev/null
ADMIN=$("$PRIVAULT" apikey create admin1 --role admin 2>/dev/null)

# start the server with outbox-every $1; submit an access request (basic verification: a code by email)
serve_and_submit() {
	PORT=$(free_port)
	PRIVAULT_OUTBOX_MAIL="file:$T/mail" "$PRIVAULT" serve --port "$PORT" --outbox-every "$1" >"$T/server.log" 2>&1 &
	SP=$!
	URL="http://127.0.0.1:$PORT"
	for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
	st=$(curl -s -o "$T/body" -w '%{http_code}' -X POST "$URL/v1/requests" -H "Authorization: Bearer $ADMIN" \
		-H 'Content-Type: application/json' -d "{\"type\": \"access\", \"id_kind\": \"email\", \"id_value\": \"$2\"}")
	[ "$st" = 201 ] || fail "submit: status $st: $(cat "$T/body")"
	jq -e '.state == "verifying"' "$T/body" >/dev/null || fail "submit: not waiting for verification: $(cat "$T/body")"
}
stop() { kill -TERM "$SP"; wait "$SP" || fail "server exit status $?"; SP=; }

# timer off: the code stays queued
serve_and_submit 0 off.pii@example.com
sleep 2
stop
[ ! -e "$T/mail" ] || fail "delivered with --outbox-every 0"
[ "$("$PRIVAULT" outbox list --status pending | grep -c verification_code)" = 1 ] || fail "not pending with the timer off"

# timer on (1 s): both codes are delivered by the server itself
serve_and_submit 1 on.pii@example.com
for _ in $(seq 80); do [ -s "$T/mail" ] && grep -q "on.pii@example.com" "$T/mail" && break; sleep 0.1; done
grep -q "on.pii@example.com" "$T/mail" || fail "the code queued while the server runs was not delivered"
grep -q "off.pii@example.com" "$T/mail" || fail "the code queued earlier was not delivered"
grep -q "outbox: attempted" "$T/server.log" || fail "no delivery line in the server log"
stop
[ "$("$PRIVAULT" outbox list --status pending | grep -c verification_code || true)" = 0 ] || fail "still pending"
[ "$("$PRIVAULT" outbox list --status delivered | grep -c verification_code)" = 2 ] || fail "not delivered twice"
# the outbox-schedule caller is audited
"$PRIVAULT" audit list 2>/dev/null | grep -q "outbox-schedule" || \
	"$PRIVAULT" audit export 2>/dev/null | grep -q "outbox-schedule" || fail "no outbox.deliver audit entry by outbox-schedule"
echo ok
