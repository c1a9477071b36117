#!/usr/bin/env bash
# Several processes on one database: two `privault import` processes and two
# loops of single `subject create` commands run at the same time on one vault,
# first on PostgreSQL, then on SQLite (one vault.db). Afterwards the audit
# chain must be one valid chain (no duplicate or missing seq, every link
# right: `privault audit verify`), its length exactly what the operations
# wrote, and the subject and record counts exact.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
source "$SRCDIR/tests/pg/pg_server.sh"
pg_start
T=$(mktemp -d)
trap 'rm -rf "$T"; pg_stop' EXIT
POLICY="$SRCDIR/examples/policies/ixsystems-2020.yaml"
LINES=3000
LOOP=40

fail() { echo "FAIL: $*" >&2; exit 1; }

for f in a b; do
	python3 - "$T/$f.jsonl" "$f" "$LINES" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    for i in range(int(sys.argv[3])):
        out.write(json.dumps({"subject": {"identifiers": {"email": "%s%d@example.org" % (sys.argv[2], i)}},
                              "category": "identifiers", "purpose": "account_management",
                              "source": "direct", "data": {"n": i}}) + "\n")
PY
done

# run_case LABEL: the vault is $PRIVAULT_VAULT (and $PRIVAULT_STORE when set)
run_case() {
	local label=$1 pids=() rc=0 p
	"$PRIVAULT" init --policy "$POLICY" >/dev/null
	local before
	before=$("$PRIVAULT" status | sed -n 's/^audit entries: //p')
	"$PRIVAULT" import "$T/a.jsonl" --batch 50 --no-progress >"$T/$label.a.out" 2>&1 & pids+=($!)
	"$PRIVAULT" import "$T/b.jsonl" --batch 50 --no-progress >"$T/$label.b.out" 2>&1 & pids+=($!)
	for w in x y; do
		( for i in $(seq 1 $LOOP); do
			"$PRIVAULT" subject create --id "email=$w$i@loop.example.org" >/dev/null || exit 1
		done ) >"$T/$label.$w.out" 2>&1 & pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || rc=1
	done
	[ "$rc" -eq 0 ] || { cat "$T/$label".*.out >&2; fail "$label: a writer failed"; }
	"$PRIVAULT" audit verify >"$T/verify" 2>&1 || { cat "$T/verify" >&2; fail "$label: the audit chain does not verify"; }
	local subjects records entries want
	subjects=$("$PRIVAULT" status | sed -n 's/^subjects: //p')
	records=$("$PRIVAULT" status | sed -n 's/^records: //p')
	entries=$("$PRIVAULT" status | sed -n 's/^audit entries: //p')
	[ "$subjects" -eq $((2 * LINES + 2 * LOOP)) ] || fail "$label: subjects $subjects"
	[ "$records" -eq $((2 * LINES)) ] || fail "$label: records $records"
	# every import line writes subject.find + subject.create + record.put, every loop command subject.create
	want=$((before + 6 * LINES + 2 * LOOP))
	grep -q "ok: $want entries" "$T/verify" || fail "$label: expected $want chain entries: $(cat "$T/verify")"
	echo "ok: $label: 4 writers at once, $subjects subjects, $records records, one chain of $entries entries"
}

export PRIVAULT_VAULT="$T/pg-vault"
PRIVAULT_STORE=$(pg_new_db concurrent)
export PRIVAULT_STORE
run_case postgres
unset PRIVAULT_STORE
export PRIVAULT_VAULT="$T/sqlite-vault"
run_case sqlite
