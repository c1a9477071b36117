#!/usr/bin/env bash
# Connection loss: the PostgreSQL server is killed (SIGKILL, as in a crash)
# while privault writes.
#  1. A long `privault import` (batches of 500, one transaction each): it stops
#     with exit 1 and "PostgreSQL unavailable"; after the restart every batch
#     seen committed before the kill is there (whole batches only), the audit
#     chain verifies, and a new import works.
#  2. One long-lived vault handle (reconnect.c): writes fail with PV_ESTORE
#     while the server is down and succeed again on the same handle once it is
#     back, without reopening; acknowledged writes are all kept.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
: "${BUILDDIR:?BUILDDIR must name the build root}"
source "$SRCDIR/tests/pg/pg_server.sh"
pg_start
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; pg_stop' EXIT
POLICY="$SRCDIR/examples/policies/ixsystems-2020.yaml"
LINES=40000
BATCH=500

fail() { echo "FAIL: $*" >&2; exit 1; }
count() { pg_psql "$1" -t -A -c "SELECT count(*) FROM records" 2>/dev/null || echo 0; }

# ---- 1. an import killed by the server's crash
export PRIVAULT_VAULT="$T/vault"
PRIVAULT_STORE=$(pg_new_db conn_loss)
export PRIVAULT_STORE
"$PRIVAULT" init --policy "$POLICY" >/dev/null
python3 - "$T/big.jsonl" "$LINES" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, int(sys.argv[2]) + 1):
        f.write(json.dumps({"subject": {"identifiers": {"email": "loss%d@example.com" % i}},
                            "category": "identifiers", "purpose": "account_management",
                            "source": "direct", "data": {"line": i}}) + "\n")
PY
"$PRIVAULT" import "$T/big.jsonl" --batch "$BATCH" --no-progress >"$T/import.out" 2>"$T/import.err" &
PID=$!
seen=0
for _ in $(seq 1 3000); do
	seen=$(count conn_loss)
	[ "${seen:-0}" -ge $((3 * BATCH)) ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.02
done
kill -0 "$PID" 2>/dev/null || fail "the import ended before the server could be killed (saw $seen)"
pg_kill_server
set +e
wait "$PID"
rc=$?
set -e
PID=
[ "$rc" -eq 1 ] || fail "import exit $rc while the server is down, expected 1: $(cat "$T/import.err")"
grep -q "PostgreSQL unavailable" "$T/import.err" || fail "no clear message: $(cat "$T/import.err")"
grep -q "loss[0-9]*@" "$T/import.err" && fail "the message holds a value"
echo "import stopped: $(cat "$T/import.err")"

# the server is down: a command says so and fails (no hang, no crash)
set +e
"$PRIVAULT" status >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "status with the server down: exit $rc"
grep -q "cannot connect to PostgreSQL" "$T/err" || fail "status message: $(cat "$T/err")"

pg_restart_server
N=$("$PRIVAULT" status | sed -n 's/^records: //p')
echo "after restart: $N records (saw $seen committed before the kill)"
[ "$N" -ge "$seen" ] || fail "acknowledged batches lost: $N < $seen"
[ $((N % BATCH)) -eq 0 ] || fail "$N records: a batch was half-written"
[ "$("$PRIVAULT" status | sed -n 's/^subjects: //p')" -eq "$N" ] || fail "subjects != records"
"$PRIVAULT" audit verify >/dev/null || fail "audit after the crash"
head -n 100 "$T/big.jsonl" | sed 's/loss/again/' >"$T/small.jsonl"
"$PRIVAULT" import "$T/small.jsonl" --no-progress >/dev/null || fail "import after the restart"
[ "$("$PRIVAULT" status | sed -n 's/^records: //p')" -eq $((N + 100)) ] || fail "records after the new import"

# ---- 2. one handle across the crash
export PRIVAULT_VAULT="$T/vault2"
PRIVAULT_STORE=$(pg_new_db conn_loss2)
export PRIVAULT_STORE
"$PRIVAULT" init --policy "$POLICY" >/dev/null
export PV_PG_KILL="bash -c 'source $SRCDIR/tests/pg/pg_server.sh; PG_DIR=$PG_DIR; pg_kill_server'"
export PV_PG_START="bash -c 'source $SRCDIR/tests/pg/pg_server.sh; PG_DIR=$PG_DIR PG_BIN=$PG_BIN PG_USER=$PG_USER; pg_restart_server'"
"$BUILDDIR/tests/pg/reconnect" "$PRIVAULT_VAULT" || fail "reconnect"
echo "conn_loss: ok"
