#!/usr/bin/env bash
# Crash safety of the bulk import: `kill -9` an import of 200,000 lines with
# --batch 1000 once a few batches are committed, then reopen. Every committed
# batch must be there in full and nothing of the interrupted one: the record
# count is an exact multiple of 1000, line N's subject exists and line N+1's
# does not, the audit chain verifies, and importing the rest completes the set.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
PID=
cleanup() {
	if [ -n "$PID" ]; then kill -9 "$PID" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT
export PRIVAULT_VAULT="$T/vault"
LINES=200000
BATCH=1000

fail() { echo "FAIL: $*" >&2; exit 1; }
stat_of() { "$PRIVAULT" status | sed -n "s/^$1: //p"; }

"$PRIVAULT" init --policy "$SRCDIR/examples/policies/ixsystems-2020.yaml" >/dev/null

python3 - "$T/big.jsonl" "$LINES" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, int(sys.argv[2]) + 1):
        f.write(json.dumps({"subject": {"identifiers": {"email": "crash%d@example.com" % i}},
                            "category": "identifiers", "purpose": "account_management",
                            "source": "direct", "data": {"line": i, "name": "Crash Test %d" % i}}) + "\n")
EOF

"$PRIVAULT" import "$T/big.jsonl" --batch "$BATCH" --no-progress >"$T/import.out" 2>"$T/import.err" &
PID=$!

# wait until at least 3 batches are committed, then kill -9 at once
committed=0
for _ in $(seq 1 2000); do
	committed=$(sqlite3 -readonly "file:$PRIVAULT_VAULT/vault.db?mode=ro" "SELECT count(*) FROM records" 2>/dev/null || echo 0)
	[ "${committed:-0}" -ge $((3 * BATCH)) ] && break
	kill -0 "$PID" 2>/dev/null || break
	sleep 0.02
done
kill -0 "$PID" 2>/dev/null || fail "the import ended before it could be killed (saw $committed records); $(cat "$T/import.err")"
kill -9 "$PID"
wait "$PID" 2>/dev/null || true
PID=

N=$(stat_of records)
echo "killed with $N records committed"
[ "$N" -ge $((3 * BATCH)) ] || fail "fewer records than were seen committed: $N"
[ "$N" -lt "$LINES" ] || fail "the import finished before the kill"
[ $((N % BATCH)) -eq 0 ] || fail "record count $N is not a multiple of $BATCH: a batch was half-written"
[ "$(stat_of subjects)" -eq "$N" ] || fail "subjects $(stat_of subjects) != records $N"

# the last committed line is there in full, the first uncommitted one is not
S=$("$PRIVAULT" subject find email --value "crash$N@example.com") || fail "line $N's subject is missing"
DATA=$("$PRIVAULT" record read "$S" --purpose account_management | cut -f5-)
[ "$DATA" = "{\"line\":$N,\"name\":\"Crash Test $N\"}" ] || fail "line $N's record: $DATA"
set +e
"$PRIVAULT" subject find email --value "crash$((N + 1))@example.com" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "line $((N + 1))'s subject exists (exit $rc): part of the killed batch was kept"

"$PRIVAULT" audit verify >"$T/verify.out" || fail "audit verify after the crash: $(cat "$T/verify.out")"

# import the rest
tail -n +$((N + 1)) "$T/big.jsonl" >"$T/rest.jsonl"
"$PRIVAULT" import "$T/rest.jsonl" --batch "$BATCH" --no-progress >"$T/rest.out"
[ "$(stat_of records)" -eq "$LINES" ] || fail "records after importing the rest: $(stat_of records)"
[ "$(stat_of subjects)" -eq "$LINES" ] || fail "subjects after importing the rest"
"$PRIVAULT" audit verify >/dev/null || fail "audit verify after importing the rest"
echo "crash_import: ok"
