#!/usr/bin/env bash
# Sourced by tests/cli/sweep_lock.sh (SQLite) and tests/pg/sweep_lock.sh
# (PostgreSQL): fill a vault with records that expire, then start two
# `privault sweep` processes at the same instant and check that exactly one
# sweeps and the other skips (exit 5, "another sweep is running"), that the
# records swept equal the expired count, and that the audit chain verifies
# with retention entries adding up to the records swept.
# Needs: P (the binary), T (a scratch folder), PRIVAULT_VAULT (and
# PRIVAULT_STORE for PostgreSQL) set, SRCDIR, and fail().

RACE_RECORDS=${RACE_RECORDS:-1500}

# race_fill: a fresh vault with RACE_RECORDS subjects of one record each, half of them
# orders (deleted after 1 month), half newsletter contacts (anonymized after 30 days),
# plus 20 account records that never expire, all collected on 2025-03-10.
race_fill() {
	export PRIVAULT_NOW=2025-03-10T12:00:00Z
	"$P" init --policy "$SRCDIR/tests/data/retention-policy.yaml" >/dev/null
	python3 - "$T/race.jsonl" "$RACE_RECORDS" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    n = int(sys.argv[2])
    for i in range(n + 20):
        if i >= n:
            cat, purpose = "contact", "account"
        elif i % 2:
            cat, purpose = "commercial", "order_fulfilment"
        else:
            cat, purpose = "contact", "marketing"
        out.write(json.dumps({"subject": {"identifiers": {"email": "race%d@example.org" % i}},
                              "category": cat, "purpose": purpose, "source": "direct",
                              "data": {"n": i}}) + "\n")
PY
	"$P" import "$T/race.jsonl" --batch 500 --no-progress >/dev/null
}

# race_run LABEL: two sweeps released at once (both wait for one file to appear).
race_run() {
	local label=$1 w pids=() ok=0 skip=0 winner= loser= expired before_records
	export PRIVAULT_NOW=2025-06-01T00:00:00Z
	"$P" sweep --dry-run --json >"$T/dry.json"
	expired=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["deleted"]+r["anonymized"])' "$T/dry.json")
	[ "$expired" = "$RACE_RECORDS" ] || fail "$label: dry run expects $expired expired records, not $RACE_RECORDS"
	before_records=$("$P" status | sed -n 's/^records: //p')
	rm -f "$T/go"
	for w in 1 2; do
		(
			while [ ! -e "$T/go" ]; do sleep 0.005; done
			rc=0
			"$P" sweep --batch 2 --json >"$T/sweep$w.out" 2>"$T/sweep$w.err" || rc=$?
			echo "$rc" >"$T/sweep$w.rc"
		) &
		pids+=($!)
	done
	sleep 0.2
	touch "$T/go"
	for w in "${pids[@]}"; do wait "$w"; done
	for w in 1 2; do
		case $(cat "$T/sweep$w.rc") in
		0) ok=$((ok + 1)); winner=$w ;;
		5) skip=$((skip + 1)); loser=$w ;;
		*) cat "$T/sweep$w.err" >&2; fail "$label: sweep $w exited $(cat "$T/sweep$w.rc")" ;;
		esac
	done
	[ "$ok" = 1 ] && [ "$skip" = 1 ] || fail "$label: expected one sweep and one skip, got $ok sweeps, $skip skips"
	grep -q "another sweep is running" "$T/sweep$loser.err" || fail "$label: skip message: $(cat "$T/sweep$loser.err")"
	[ ! -s "$T/sweep$loser.out" ] || fail "$label: the skipped sweep printed a report"
	python3 - "$T/sweep$winner.out" "$expired" <<'PY' || fail "$label: sweep report: $(cat "$T/sweep$winner.out")"
import json, sys
r = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert r["deleted"] + r["anonymized"] == n, r
assert r["deleted"] == n // 2 and r["anonymized"] == n - n // 2, r
# every record is sealed under its expiry minute's epoch: one transaction destroys them all
assert r["subjects_erased"] == n and r["kept"] == 0 and r["batches"] == 1 and r["destroyed"] == n, r
PY
	[ "$("$P" status | sed -n 's/^records: //p')" = "$((before_records - expired))" ] || fail "$label: records left"
	"$P" audit verify >"$T/verify" 2>&1 || { cat "$T/verify" >&2; fail "$label: the audit chain does not verify"; }
	# the retention entries (one per category x purpose x action) add up to the records swept, once
	"$P" audit list >"$T/audit"
	[ "$(awk -F'\t' '$4 ~ /^retention\./ { sub(/^ok:records=/, "", $8); s += $8 } END { print s + 0 }' "$T/audit")" = "$expired" ] ||
		fail "$label: retention audit entries do not add up to $expired"
	[ "$(awk -F'\t' '$4 == "subject.erase"' "$T/audit" | wc -l)" = "$expired" ] || fail "$label: subject.erase entries"
	echo "ok: $label: two sweeps at once: sweep $winner removed $expired records, sweep $loser skipped (exit 5); audit verifies"
}
