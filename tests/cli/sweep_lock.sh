#!/usr/bin/env bash
# One retention sweep at a time on SQLite (docs/retention.md, "One sweep at a
# time"): two `privault sweep` processes started at once on one vault, exactly
# one sweeps and the other skips with exit 5 (tests/cli/sweep_race.sh); while
# another process holds the sweep lock (the flock on vault.db-retention.sweep.lock)
# `privault sweep` exits 5 having changed nothing and POST /v1/retention/sweep
# answers 409 sweep-running; once the holder is gone both work again.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
HOLDER=
SP=
cleanup() {
	[ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
	[ -n "$SP" ] && kill -KILL "$SP" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset PRIVAULT_STORE PRIVAULT_KEYS PRIVAULT_CONFIG
export PRIVAULT_VAULT="$T/vault"
P="$PRIVAULT"
LOCK="$PRIVAULT_VAULT/vault.db-retention.sweep.lock"

fail() { echo "FAIL: $*" >&2; [ -f "$T/server.log" ] && sed 's/^/  server: /' "$T/server.log" >&2; exit 1; }
source "$SRCDIR/tests/cli/sweep_race.sh"

race_fill
race_run sqlite
[ -f "$LOCK" ] || fail "no lock file beside the database"
[ "$(stat -c %a "$LOCK")" = 600 ] || fail "lock file mode $(stat -c %a "$LOCK")"

# ---- another process holds the lock: the CLI skips, the HTTP route answers 409
export PRIVAULT_NOW=2025-03-10T12:00:00Z
A=$("$P" subject create --id email=late@example.org)
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"L-1"}' >/dev/null
export PRIVAULT_NOW=2025-06-01T00:00:00Z
python3 - "$LOCK" "$T/locked" <<'PY' &
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(120)
PY
HOLDER=$!
for _ in $(seq 200); do [ -e "$T/locked" ] && break; sleep 0.05; done
[ -e "$T/locked" ] || fail "the lock holder did not start"
RECORDS=$("$P" status | sed -n 's/^records: //p')
AUDIT=$("$P" status | sed -n 's/^audit entries: //p')
rc=0
"$P" sweep >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 5 ] || fail "sweep under a held lock exited $rc: $(cat "$T/err")"
grep -q "another sweep is running" "$T/err" || fail "skip message: $(cat "$T/err")"
"$P" sweep --dry-run | grep -q "would delete 1" || fail "a dry run takes no lock"
[ "$("$P" status | sed -n 's/^records: //p')" = "$RECORDS" ] || fail "a skipped sweep removed records"
[ "$("$P" status | sed -n 's/^audit entries: //p')" = "$AUDIT" ] || fail "a skipped sweep wrote audit entries"

ADMIN=$("$P" apikey create admin1 --role admin 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'port = %s\n' "$PORT" >"$T/privault.conf"
PRIVAULT_CONFIG="$T/privault.conf" "$P" serve --sweep-every 0 >"$T/server.log" 2>&1 &
SP=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
post() { curl -s -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
	-H "Content-Type: application/json" -d "$1" "$URL/v1/retention/sweep"; }
[ "$(post '{}')" = 409 ] || fail "POST sweep under a held lock: $(cat "$T/body")"
grep -q '"type":"[^"]*sweep-running"' "$T/body" || fail "409 problem: $(cat "$T/body")"
[ "$(post '{"dry_run":true}')" = 200 ] || fail "dry run over HTTP under a held lock: $(cat "$T/body")"

# ---- the holder is gone (its process died): everything runs again
kill "$HOLDER"
wait "$HOLDER" 2>/dev/null || true
HOLDER=
[ "$(post '{}')" = 200 ] || fail "POST sweep after the holder left: $(cat "$T/body")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["deleted"]==1 and r["subjects_erased"]==1, r' \
	"$T/body" || fail "HTTP sweep report: $(cat "$T/body")"
"$P" sweep >"$T/out" 2>"$T/err" || fail "sweep after the holder left: $(cat "$T/err")"
kill -TERM "$SP"
wait "$SP" || fail "serve exited $?"
SP=
"$P" audit verify >/dev/null || fail "audit does not verify"
echo "ok: sweep lock on SQLite: held lock -> exit 5 and 409, nothing changed; released -> swept"
