#!/usr/bin/env bash
# `privault sweep` and the purge of destroyed records (docs/retention.md,
# "privault sweep"): with --purge 0 the sweep destroys the expired records'
# epoch keys, so every reader stops seeing them at once (record read, rectify,
# status), while their rows are still in the database and the report says
# destroyed N, purged 0; a later sweep with nothing new to remove purges them
# (--purge 2 exactly two, then the default all the rest: purged adds up to the
# number destroyed), each purge audited "retention.purge" without a subject;
# --purge with a bad value, or with --dry-run, is a usage error naming the
# option (exit 2). The same over HTTP: POST /v1/retention/sweep {"purge": 0}
# destroys without purging, {} then purges (default 10,000 rows), and purge
# with dry_run is a 400 naming /purge. The server's schedule purges at most
# 10 x --sweep-batch rows per run and logs them. Runs on SQLite, or on PostgreSQL with
# PRIVAULT_STORE (row counts through psql).
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
SP=
cleanup() {
	[ -n "$SP" ] && kill -KILL "$SP" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
unset PRIVAULT_KEYS PRIVAULT_CONFIG
export PRIVAULT_VAULT="$T/vault"
P="$PRIVAULT"

fail() { echo "FAIL: $*" >&2; exit 1; }
stat_of() { "$P" status | sed -n "s/^$1: //p"; }
# expect CODE CMD...: run CMD (stdout in $T/out, stderr in $T/err), check its exit code
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}
# rows: every row of the records table, readable or not (the store itself, not the vault)
rows() {
	if [ -n "${PRIVAULT_STORE:-}" ]; then
		psql -XAtq "$PRIVAULT_STORE" -c "SELECT COUNT(*) FROM records"
	else
		sqlite3 "$PRIVAULT_VAULT/vault.db" "SELECT COUNT(*) FROM records"
	fi
}
# field NAME: one number of the JSON report in $T/out
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/out" "$1"; }

# ---- 2025-03-10: six subjects (tests/data/retention-policy.yaml: orders go after 1 month,
# newsletter contacts are anonymized after 30 days, account data never expires)
export PRIVAULT_NOW=2025-03-10T12:00:00Z
"$P" init --policy "$SRCDIR/tests/data/retention-policy.yaml" >/dev/null
A=$("$P" subject create --id email=ann@example.org)      # account data stays, one order goes
B=$("$P" subject create --id email=ben@example.org)      # one order: left with nothing, erased
C=$("$P" subject create --id email=cid@example.org)      # newsletter contact: anonymized, erased
D=$("$P" subject create --id email=dee@example.org)      # two orders, the later one still current
H=$("$P" subject create --id email=hal@example.org)      # an order under a legal hold: kept
"$P" record put "$A" --category contact --purpose account --data '{"city":"Lyon"}' >/dev/null
RA=$("$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"A-1"}')
"$P" record put "$B" --category commercial --purpose order_fulfilment --data '{"order":"B-1"}' >/dev/null
"$P" record put "$C" --category contact --purpose marketing --source direct --data '{"news":"weekly"}' >/dev/null
"$P" record put "$D" --category commercial --purpose order_fulfilment --data '{"order":"D-1"}' >/dev/null
"$P" record put "$H" --category commercial --purpose order_fulfilment --data '{"order":"H-1"}' >/dev/null
"$P" hold create --subject "$H" --reason "Case 2025-9" >/dev/null
export PRIVAULT_NOW=2025-04-20T09:00:00Z
"$P" record put "$D" --category commercial --purpose order_fulfilment --data '{"order":"D-2"}' >/dev/null
[ "$(rows)" = 7 ] || fail "set-up: $(rows) rows"

# ---- usage errors: exit 2, naming --purge, before anything is done
export PRIVAULT_NOW=2025-05-01T00:00:00Z
for bad in x -1 1.5 "" 2k 99999999999999999999999; do
	expect 2 "$P" sweep --purge "$bad"
	grep -q -- "--purge" "$T/err" || fail "--purge '$bad': $(head -1 "$T/err")"
done
expect 2 "$P" sweep --purge
grep -q -- "--purge" "$T/err" || fail "--purge without a value: $(head -1 "$T/err")"
expect 2 "$P" sweep --dry-run --purge 5
grep -q -- "--purge: a dry run purges nothing" "$T/err" || fail "--dry-run --purge: $(head -1 "$T/err")"
expect 2 "$P" sweep --purge 0 --dry-run
expect 4 "$P" --role service sweep --purge 0
[ "$(rows)" = 7 ] && [ "$(stat_of records)" = 7 ] || fail "a refused sweep changed something"

# ---- what would go: four records (A-1, B-1, C's contact, D-1), H-1 kept
expect 0 "$P" sweep --dry-run --json
[ "$(field destroyed)" = 4 ] && [ "$(field purged)" = 0 ] && [ "$(field kept)" = 1 ] ||
	fail "dry run: $(cat "$T/out")"

# ---- --purge 0: destroyed, gone for every reader, the rows still there
AUDIT0=$(stat_of "audit entries")
expect 0 "$P" sweep --purge 0 --json
python3 - "$T/out" <<'EOF' || fail "sweep --purge 0: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert not r["dry_run"] and r["deleted"] == 3 and r["anonymized"] == 1 and r["kept"] == 1, r
assert r["destroyed"] == 4 and r["purged"] == 0 and r["subjects_erased"] == 2, r
EOF
[ "$(rows)" = 7 ] || fail "--purge 0 deleted rows: $(rows) left"
[ "$(stat_of records)" = 3 ] || fail "status still counts destroyed records: $(stat_of records)"
"$P" record read "$D" --purpose order_fulfilment --json >"$T/read"
grep -q '"D-2"' "$T/read" || fail "D's current order is gone: $(cat "$T/read")"
grep -q '"D-1"' "$T/read" && fail "D's expired order is still readable"
expect 3 "$P" record rectify "$A" "$RA" --data '{"order":"A-1b"}'   # no such record any more
"$P" record read "$A" --purpose account --json | grep -q Lyon || fail "A's account data is gone"
"$P" record read "$H" --purpose order_fulfilment --json | grep -q '"H-1"' || fail "the held order is gone"
[ "$("$P" subject show "$B" | sed -n 's/^state: //p')" = erased ] || fail "B (nothing left) not erased"
"$P" audit list --from "$((AUDIT0 + 1))" >"$T/audit"
grep -q "	retention.purge	" "$T/audit" && fail "--purge 0 audited a purge"

# ---- a later sweep with nothing new to remove purges: --purge 2 exactly two ...
expect 0 "$P" sweep --purge 2
grep -q "^sweep at 2025-05-01T00:00:00Z: deleted 0, anonymized 0, kept 1 (held or restricted), subjects erased 0, batches 0, destroyed 0, purged 2$" "$T/out" ||
	fail "sweep --purge 2: $(cat "$T/out")"
[ "$(rows)" = 5 ] || fail "--purge 2 left $(rows) rows"
# ... and by default all the rest: purged adds up to the number destroyed
expect 0 "$P" sweep --json
[ "$(field destroyed)" = 0 ] && [ "$(field purged)" = 2 ] || fail "sweep after --purge 2: $(cat "$T/out")"
[ "$(rows)" = 3 ] && [ "$(stat_of records)" = 3 ] || fail "after the purge: $(rows) rows, $(stat_of records) records"
expect 0 "$P" sweep --json
[ "$(field purged)" = 0 ] || fail "a purge with nothing left: $(cat "$T/out")"
"$P" record read "$D" --purpose order_fulfilment --json | grep -q '"D-2"' || fail "the purge took D's current order"

# ---- audit: one retention.purge entry per purge, rows counted, no subject; chain verifies
"$P" audit list >"$T/audit"
[ "$(awk -F'\t' '$4 == "retention.purge" { print $5 "|" $6 "|" $7 "|" $8 }' "$T/audit" | tr '\n' ' ')" = \
	"-|-|-|ok:rows=2 -|-|-|ok:rows=2 " ] || fail "purge audit entries: $(grep retention.purge "$T/audit")"
grep -qi -e "example.org" -e "Case 2025" "$T/audit" && fail "personal data or a hold reason in the audit"
"$P" audit verify >/dev/null || fail "audit does not verify"

# ---- a default sweep purges at once what it destroys (two more orders, D-2 and H-1 once released)
"$P" hold release "$("$P" hold list | cut -f1)" >/dev/null
export PRIVAULT_NOW=2025-06-01T00:00:00Z
expect 0 "$P" sweep --json
python3 - "$T/out" <<'EOF' || fail "default sweep: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
# D-2 goes by its epoch key (destroyed, purged); H-1 was re-sealed for the hold, so it is
# deleted in a batch instead (not destroyed)
assert r["deleted"] == 2 and r["destroyed"] == 1 and r["purged"] == 1 and r["kept"] == 0, r
EOF
[ "$(rows)" = 1 ] || fail "after the default sweep: $(rows) rows"

# ---- over HTTP: {"purge": 0} destroys and keeps the rows, {} purges them (default 10,000)
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"A-2"}' >/dev/null
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"A-3"}' >/dev/null
export PRIVAULT_NOW=2025-07-15T00:00:00Z
ADMIN=$("$P" apikey create admin1 --role admin 2>/dev/null)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$P" serve --port "$PORT" --sweep-every 0 >"$T/server.log" 2>&1 &
SP=$!
URL="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$URL/healthz" >/dev/null 2>&1 && break; sleep 0.05; done
post() { curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
	-H "Content-Type: application/json" -d "$1" "$URL/v1/retention/sweep"; }
[ "$(post '{"dry_run": true, "purge": 1}')" = 400 ] && grep -q '"pointer":"/purge"' "$T/out" ||
	fail "HTTP purge with dry_run: $(cat "$T/out")"
[ "$(post '{"purge": -1}')" = 400 ] && grep -q '"pointer":"/purge"' "$T/out" || fail "HTTP purge -1: $(cat "$T/out")"
[ "$(rows)" = 3 ] || fail "a refused HTTP sweep changed rows: $(rows)"
[ "$(post '{"purge": 0}')" = 200 ] || fail "HTTP sweep purge 0: $(cat "$T/out")"
[ "$(field destroyed)" = 2 ] && [ "$(field purged)" = 0 ] && [ "$(field deleted)" = 2 ] ||
	fail "HTTP sweep purge 0: $(cat "$T/out")"
[ "$(rows)" = 3 ] || fail "HTTP purge 0 deleted rows: $(rows) left"
[ "$(post '{}')" = 200 ] || fail "HTTP sweep: $(cat "$T/out")"
[ "$(field destroyed)" = 0 ] && [ "$(field purged)" = 2 ] || fail "HTTP sweep default purge: $(cat "$T/out")"
[ "$(rows)" = 1 ] || fail "after the HTTP purge: $(rows) rows"
kill -TERM "$SP"
wait "$SP" || fail "serve exited $?"
SP=

# ---- the server's schedule: 25 more destroyed at once, purged at most 10 x batch (1) per run
python3 - "$T/more.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as out:
    for i in range(25):
        out.write(json.dumps({"subject": {"identifiers": {"email": "more%d@example.org" % i}},
                              "category": "commercial", "purpose": "order_fulfilment",
                              "data": {"n": i}}) + "\n")
PY
"$P" import "$T/more.jsonl" --no-progress >/dev/null
[ "$(rows)" = 26 ] || fail "after the import: $(rows) rows"
export PRIVAULT_NOW=2025-09-01T00:00:00Z
"$P" serve --port "$PORT" --sweep-every 1s --sweep-batch 1 >"$T/server.log" 2>&1 &
SP=$!
for _ in $(seq 150); do [ "$(rows)" = 1 ] && break; sleep 0.1; done
[ "$(rows)" = 1 ] || fail "the schedule left $(rows) rows"
kill -TERM "$SP"
wait "$SP" || fail "serve exited $?"
SP=
grep "retention sweep" "$T/server.log" >"$T/log" || true
want="privault serve: retention sweep: deleted 25, anonymized 0, kept 0, subjects erased 25, purged 10
privault serve: retention sweep: deleted 0, anonymized 0, kept 0, subjects erased 0, purged 10
privault serve: retention sweep: deleted 0, anonymized 0, kept 0, subjects erased 0, purged 5"
[ "$(cat "$T/log")" = "$want" ] || fail "the schedule's log lines: $(cat "$T/log")"
"$P" audit verify >/dev/null || fail "audit does not verify at the end"
echo "ok: sweep --purge: destroyed records unreadable at once, rows purged later (2 + 2 = 4 destroyed), usage errors; the same over HTTP; the schedule purges 10 x batch per run"
