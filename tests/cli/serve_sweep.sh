#!/usr/bin/env bash
# privault serve sweeps retention on its own timer (--sweep-every MIN or Ns,
# PRIVAULT_SWEEP_EVERY): records whose retention ended before the server
# started stop being returned over HTTP without any `privault sweep`, a record
# under a legal hold is still returned, a subject left with nothing is erased,
# and the audit names the caller "retention-schedule". With the timer off (0,
# which also beats the variable) the same records stay for the same time.
# Bad periods are usage errors naming --sweep-every. Everything is checked
# through HTTP and the CLI only (the sweep's storage internals may change).
set -euo pipefail

: "${PRIVAULT:?}" "${SRCDIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-serve-sweep-XXXXXX")
P="$PRIVAULT"
SP=
cleanup() {
	[ -n "$SP" ] && kill -KILL "$SP" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/server.log" ] && sed 's/^/  server: /' "$T/server.log" >&2; exit 1; }

unset PRIVAULT_KEYS PRIVAULT_STORE PRIVAULT_CONFIG PRIVAULT_NOW PRIVAULT_SWEEP_EVERY PRIVAULT_SWEEP_BATCH
export PRIVAULT_VAULT="$T/vault"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- bad periods: usage errors (exit 2) naming the option, before anything starts
for v in 0s 5x s 1.5 -1 " 5" "" 2m 31536001s 525601 99999999999999999999 1s0; do
	rc=0
	"$P" serve --sweep-every "$v" >/dev/null 2>"$T/err" || rc=$?
	[ "$rc" = 2 ] || fail "--sweep-every '$v' exited $rc, expected 2: $(cat "$T/err")"
	grep -q -- "--sweep-every expects MIN, minutes 0..525600 (0 = off), or Ns, seconds 1..31536000" "$T/err" ||
		fail "--sweep-every '$v': $(head -1 "$T/err")"
done
rc=0
PRIVAULT_SWEEP_EVERY=10x "$P" serve >/dev/null 2>"$T/err" || rc=$?
[ "$rc" = 2 ] && grep -q -- '--sweep-every ($PRIVAULT_SWEEP_EVERY) expects' "$T/err" ||
	fail "PRIVAULT_SWEEP_EVERY=10x exited $rc: $(head -1 "$T/err")"
"$P" serve --help | grep -q -- "--sweep-every MIN|Ns" || fail "serve --help does not show the Ns form"

# ---- a vault as of 2020-01-15: orders are kept one month (vault-policy.yaml), so by the
# real clock they expired long ago; account data has no retention rule
export PRIVAULT_NOW=2020-01-15T12:00:00Z
"$P" init "$PRIVAULT_VAULT" --policy "$SRCDIR/tests/data/vault-policy.yaml" >/dev/null
ADMIN=$("$P" apikey create admin1 --role admin 2>/dev/null)
A=$("$P" subject create --id email=a.pii@example.com)   # account data stays, two orders go
B=$("$P" subject create --id email=b.pii@example.com)   # one order: left with nothing, erased
H=$("$P" subject create --id email=h.pii@example.com)   # one order under a legal hold: kept
"$P" record put "$A" --category contact --purpose account --data '{"city":"Lyon"}' >/dev/null
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"A-1"}' >/dev/null
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"A-2"}' >/dev/null
"$P" record put "$B" --category commercial --purpose order_fulfilment --data '{"order":"B-1"}' >/dev/null
"$P" record put "$H" --category commercial --purpose order_fulfilment --data '{"order":"H-1"}' >/dev/null
"$P" hold create --subject "$H" --reason "Case 2020-7" >/dev/null
unset PRIVAULT_NOW

# what a sweep now would do: the three orders go, the held one stays, B is erased
"$P" sweep --dry-run --json >"$T/dry"
jq -e '.deleted == 3 and .kept == 1' "$T/dry" >/dev/null || fail "the set-up is not what the test expects: $(cat "$T/dry")"

start() {
	PORT=$(free_port)
	"$P" serve --port "$PORT" "$@" >"$T/server.log" 2>&1 &
	SP=$!
	URL="http://127.0.0.1:$PORT"
	for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
	curl -sf "$URL/healthz" >/dev/null || fail "the server did not start"
}
stop() { kill -TERM "$SP"; wait "$SP" || fail "server exit status $?"; SP=; }
# get PATH [PURPOSE]: the HTTP status; the body in $T/body
get() {
	curl -s -o "$T/body" -w '%{http_code}' "$URL$1" -H "Authorization: Bearer $ADMIN" ${2:+-H "X-Purpose: $2"}
}
# orders SUBJECT: how many of the subject's orders are returned ("gone" if the subject is erased)
orders() {
	local st
	st=$(get "/v1/subjects/$1/records?category=commercial" order_fulfilment)
	case "$st" in
	200) jq '.records | length' "$T/body" ;;
	410) echo gone ;;
	*) fail "read of $1's orders: status $st: $(cat "$T/body")" ;;
	esac
}
state_of() { [ "$(get "/v1/subjects/$1")" = 200 ] || fail "subject $1: $(cat "$T/body")"; jq -r .state "$T/body"; }
# schedule_entries: the audit entries written by the server's own sweeps
schedule_entries() { "$P" audit list --json | jq -c 'select(.actor == "retention-schedule")'; }

# ---- (e) timer off: the flag's 0 beats the variable's 1s; 3 s later nothing has gone
PRIVAULT_SWEEP_EVERY=1s start --sweep-every 0
sleep 3
[ "$(orders "$A")" = 2 ] || fail "timer off: A's orders: $(orders "$A")"
[ "$(orders "$B")" = 1 ] || fail "timer off: B's order: $(orders "$B")"
[ "$(orders "$H")" = 1 ] || fail "timer off: H's order: $(orders "$H")"
[ "$(state_of "$B")" = active ] || fail "timer off: B was erased"
stop
[ -z "$(schedule_entries)" ] || fail "timer off: the schedule wrote audit entries: $(schedule_entries)"
grep -q "retention sweep" "$T/server.log" && fail "timer off: the server logged a sweep"

# ---- timer on, every second: the server sweeps by itself
T0=$(date +%s)
start --sweep-every 1s
for _ in $(seq 100); do [ "$(orders "$A")" = 0 ] && break; sleep 0.1; done
# (a) the expired orders are no longer returned, without any `privault sweep`
[ "$(orders "$A")" = 0 ] || fail "A's expired orders are still returned after 10 s: $(orders "$A")"
# the sweep takes only what expired: A's account data is still there
[ "$(get "/v1/subjects/$A/records?category=contact" account)" = 200 ] &&
	jq -e '.records | length == 1 and .[0].data.city == "Lyon"' "$T/body" >/dev/null ||
	fail "A's account data: $(cat "$T/body")"
[ "$(state_of "$A")" = active ] || fail "A (account data left) was erased"
# (b) the order under the hold created before the server started is still returned
[ "$(orders "$H")" = 1 ] || fail "the held order: $(orders "$H")"
jq -e '.records[0].data.order == "H-1"' "$T/body" >/dev/null || fail "the held order: $(cat "$T/body")"
[ "$(state_of "$H")" = active ] || fail "H (held) was erased"
# (c) B, left with no record and no hold, is erased (its records answer 410)
[ "$(state_of "$B")" = erased ] || fail "B was not erased: $(cat "$T/body")"
[ "$(orders "$B")" = gone ] || fail "B's records after its erasure: $(orders "$B")"
stop
echo "swept by the schedule within $(($(date +%s) - T0)) s"
grep -q "retention sweep: deleted [1-9]" "$T/server.log" || fail "no sweep line in the server log"
"$P" subject find email --value b.pii@example.com >/dev/null 2>&1 && fail "B is still found by its email"
# (d) the audit: the schedule's retention actions and B's erasure, by "retention-schedule"
schedule_entries >"$T/audit"
jq -e -s 'any(.action | startswith("retention."))' "$T/audit" >/dev/null ||
	fail "no retention.* entry by retention-schedule: $(cat "$T/audit")"
jq -e -s --arg b "$B" 'any(.action == "subject.erase" and .subject_id == $b and (.outcome | startswith("ok")))' "$T/audit" >/dev/null ||
	fail "no subject.erase of B by retention-schedule: $(cat "$T/audit")"
jq -e -s --arg a "$A" --arg h "$H" 'all(.action != "subject.erase" or (.subject_id != $a and .subject_id != $h))' \
	"$T/audit" >/dev/null || fail "A or H erased by the schedule: $(cat "$T/audit")"
grep -q "pii@example.com" "$T/audit" "$T/server.log" && fail "personal data in the audit or the log"
"$P" audit verify >/dev/null || fail "the audit chain does not verify"
# nothing is left for a sweep to do but the held order
"$P" sweep --dry-run --json >"$T/dry"
jq -e '.deleted == 0 and .kept == 1' "$T/dry" >/dev/null || fail "left after the schedule: $(cat "$T/dry")"
echo ok
