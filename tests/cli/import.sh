#!/usr/bin/env bash
# `privault import`: 5,000 generated JSON lines and a CSV file (quotes, embedded
# commas and newlines); counts checked through `privault status`; --check writes
# nothing; a malformed line reports its line number and field, never the value,
# and leaves the earlier batches committed.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
	local want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	set -e
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $got, expected $want"; }
}
stat_of() { "$PRIVAULT" status | sed -n "s/^$1: //p"; }

"$PRIVAULT" init --policy "$SRCDIR/examples/policies/ixsystems-2020.yaml" >/dev/null

# 5,000 lines for 2,500 subjects (each subject twice: found again by its first identifier)
python3 - "$T/people.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(5000):
        s = i % 2500
        line = {"subject": {"identifiers": {"email": "person%d@example.net" % s}, "regime": "ccpa"},
                "category": "identifiers" if i < 2500 else "commercial",
                "purpose": "transactions", "source": "direct",
                "data": {"name": "Person %d" % s, "note": "line %d, \"quoted\"" % (i + 1)}}
        f.write(json.dumps(line) + "\n")
EOF

expect 0 "$PRIVAULT" import "$T/people.jsonl" --check
grep -q "check ok: 5000 rows" "$T/out" || fail "check output: $(cat "$T/out")"
[ "$(stat_of records)" -eq 0 ] || fail "--check wrote records"

expect 0 "$PRIVAULT" import "$T/people.jsonl" --batch 500 --no-progress
grep -q "imported 5000 records from 5000 lines (2500 subjects created, 10 batches)" "$T/out" || fail "import output: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "progress or errors on stderr when it is not a terminal: $(cat "$T/err")"
[ "$(stat_of records)" -eq 5000 ] || fail "records after JSONL import: $(stat_of records)"
[ "$(stat_of subjects)" -eq 2500 ] || fail "subjects after JSONL import: $(stat_of subjects)"

S=$("$PRIVAULT" subject find email --value person1234@example.net)
"$PRIVAULT" consent grant "$S" --purpose transactions >/dev/null   # GDPR basis consent (docs/consent.md)
expect 0 "$PRIVAULT" record read "$S" --purpose transactions --json
python3 - "$T/out" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
assert sorted(r["category"] for r in recs) == ["commercial", "identifiers"], recs
notes = sorted(r["data"]["note"] for r in recs)
assert notes == ['line 1235, "quoted"', 'line 3735, "quoted"'], notes
EOF

# CSV: header, BOM, quotes, doubled quotes, embedded commas and newlines, CRLF
printf '\xef\xbb\xbfid.email,id.phone,regime,birth_year,category,purpose,source,name,address\r\n' >"$T/people.csv"
printf 'erin@example.net,+1 (415) 555-0199,gdpr,1985,identifiers,account_management,direct,"Erin, E.","1 Main St\r\nApt ""B"""\r\n' >>"$T/people.csv"
printf 'frank@example.net,,,,identifiers,account_management,direct,Frank,"2 Side St, Town"\r\n' >>"$T/people.csv"
printf 'person7@example.net,,,,identifiers,account_management,direct,Person Seven,\r\n' >>"$T/people.csv"
expect 0 "$PRIVAULT" import "$T/people.csv"
grep -q "imported 3 records from 5 lines (2 subjects created, 1 batches)" "$T/out" || fail "csv output: $(cat "$T/out")"
[ "$(stat_of records)" -eq 5003 ] || fail "records after CSV import"
[ "$(stat_of subjects)" -eq 2502 ] || fail "subjects after CSV import"
S=$("$PRIVAULT" subject find phone --value "+14155550199")
"$PRIVAULT" consent grant "$S" --purpose account_management >/dev/null   # GDPR basis consent (docs/consent.md)
expect 0 "$PRIVAULT" record read "$S" --purpose account_management --json
python3 - "$T/out" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
assert len(recs) == 1
assert recs[0]["data"] == {"name": "Erin, E.", "address": "1 Main St\r\nApt \"B\""}, recs[0]["data"]
EOF

# a malformed line: line number and field, never the value; earlier batches stay
python3 - "$T/bad.jsonl" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 251):
        cat = "identifiers" if i != 234 else "secret_category_value"
        f.write(json.dumps({"subject": {"identifiers": {"email": "bad%d@example.org" % i}},
                            "category": cat, "purpose": "transactions", "source": "direct",
                            "data": {"n": i}}) + "\n")
EOF
expect 1 "$PRIVAULT" import "$T/bad.jsonl" --batch 100 --no-progress
grep -q 'privault: line 234: field "category": unknown category' "$T/err" || fail "bad line message: $(cat "$T/err")"
grep -q "2 batch(es) committed before the error: 200 records" "$T/err" || fail "committed batches message: $(cat "$T/err")"
grep -q "secret_category_value\|bad234" "$T/err" && fail "the error shows a value"
[ "$(stat_of records)" -eq 5203 ] || fail "records after the failed import: $(stat_of records)"

# the same file with --check: the error, nothing written
expect 1 "$PRIVAULT" import "$T/bad.jsonl" --check
grep -q 'line 234: field "category"' "$T/err" || fail "check of bad file"
[ "$(stat_of records)" -eq 5203 ] || fail "--check of a bad file wrote records"

# a malformed CSV row: missing column named
printf 'id.email,category,purpose,source,name\ng@example.net,identifiers,account_management,direct\n' >"$T/short.csv"
expect 1 "$PRIVAULT" import "$T/short.csv"
grep -q 'line 2: field "name": missing column' "$T/err" || fail "short csv row: $(cat "$T/err")"

# usage errors
expect 2 "$PRIVAULT" import "$T/people.csv" --format xml
expect 2 "$PRIVAULT" import "$T/people.csv" --batch 0
expect 2 "$PRIVAULT" import
expect 1 "$PRIVAULT" import "$T/missing.jsonl"
expect 1 "$PRIVAULT" import "$T/people.csv" --batch 1000000

expect 0 "$PRIVAULT" audit verify
echo "import: ok"
