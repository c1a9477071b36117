#!/usr/bin/env bash
# A whole vault session through the privault binary: init, subjects, records,
# reads for a purpose, a denied read, decide, categories, rectify, erase, audit;
# and a look at the raw database file to show no identifier or record plaintext
# is stored in clear.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
export PRIVAULT_NOW=2026-03-01T12:00:00Z
POLICY="$SRCDIR/examples/policies/ixsystems-2020.yaml"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE CMD...: run CMD, capture stdout/stderr in $T/out/$T/err, check the exit code
expect() {
	local want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	set -e
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $got, expected $want"; }
}

# usage and help
expect 0 "$PRIVAULT" help
grep -q "subject" "$T/out" || fail "help lists no subject command"
expect 0 "$PRIVAULT" record --help
grep -q "record read SUBJECT" "$T/out" || fail "record --help"
expect 2 "$PRIVAULT" frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command not named"
expect 2 "$PRIVAULT" status --frob
grep -q "unknown option '--frob'" "$T/err" || fail "unknown option not named"

expect 0 "$PRIVAULT" init --policy "$POLICY"
[ -n "${PRIVAULT_STORE:-}" ] || [ -f "$PRIVAULT_VAULT/vault.db" ] || fail "no vault.db"
expect 1 "$PRIVAULT" init --policy "$POLICY"   # already there
if [ -z "${PRIVAULT_STORE:-}" ]; then
	# missing parents are created (0700, like mkdir -p); a failure removes every directory it made
	expect 0 env -u PRIVAULT_VAULT "$PRIVAULT" init "$T/deep/er/vault" --policy "$POLICY"
	[ -f "$T/deep/er/vault/vault.db" ] || fail "init with missing parents"
	[ "$(stat -c %a "$T/deep")" = 700 ] || fail "created parent mode"
	long=$(printf 'x%.0s' $(seq 300))
	expect 1 env -u PRIVAULT_VAULT "$PRIVAULT" init "$T/gone/a/$long/vault" --policy "$POLICY"
	grep -q "dir: cannot create" "$T/err" || fail "init failure message: $(cat "$T/err")"
	[ ! -e "$T/gone" ] || fail "a failed init left directories behind"
fi

expect 0 "$PRIVAULT" status
grep -q "^subjects: 0$" "$T/out" || fail "status subjects"
grep -q "^policy: [0-9a-f]\{64\} (2020-02-08)$" "$T/out" || fail "status policy"
grep -q "^key version: 1$" "$T/out" || fail "status key version"

# create and find (the value through stdin)
expect 0 "$PRIVAULT" subject create --id email=Alice.Liddell@Example.org --id phone="+44 20 7946 0958" \
	--regime gdpr --birth-year 1990
SUBJ=$(cat "$T/out")
[[ "$SUBJ" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] || fail "subject id '$SUBJ'"
printf 'alice.liddell@example.org\n' >"$T/in"
expect 0 "$PRIVAULT" subject find email <"$T/in"
[ "$(cat "$T/out")" = "$SUBJ" ] || fail "find by email"
expect 0 "$PRIVAULT" subject find phone --value "+442079460958"
[ "$(cat "$T/out")" = "$SUBJ" ] || fail "find by phone"
printf 'nobody@example.org\n' | { expect 3 "$PRIVAULT" subject find email; }
expect 1 "$PRIVAULT" subject create --id email=ALICE.LIDDELL@example.org   # identifier taken
grep -q "Alice\|ALICE\|alice" "$T/err" && fail "an error message shows the identifier"
expect 0 "$PRIVAULT" subject show "$SUBJ"
grep -q "^regime: gdpr$" "$T/out" || fail "show regime"
grep -q "^birth_year: 1990$" "$T/out" || fail "show birth year"
grep -q "^state: active$" "$T/out" || fail "show state"

# records: --data, --data-file, stdin
NAME='{"name":"Alice Liddell","street":"Wonderland Lane 7"}'
expect 0 "$PRIVAULT" record put "$SUBJ" --category identifiers --purpose account_management --source direct --data "$NAME"
REC1=$(cat "$T/out")
printf '{"order":"A-1001","total":"42.00 EUR"}' >"$T/order.json"
expect 0 "$PRIVAULT" record put "$SUBJ" --category commercial --purpose transactions --source direct --data-file "$T/order.json"
REC2=$(cat "$T/out")
printf '{"pages":["/pricing","/docs"]}' | { expect 0 "$PRIVAULT" record put "$SUBJ" --category internet_activity \
	--purpose provide_services --source indirect; }
expect 1 "$PRIVAULT" record put "$SUBJ" --category biometric --purpose account_management --source direct --data "{}"
grep -q "does not cover" "$T/err" || fail "put outside the purpose: $(cat "$T/err")"
expect 1 "$PRIVAULT" record put "$SUBJ" --category identifiers --purpose account_management --source direct --data '{"broken'

# the policy's purposes are consent-based under GDPR: no read before a grant (docs/consent.md)
expect 4 "$PRIVAULT" record read "$SUBJ" --purpose account_management --category identifiers
grep -q "denied: consent_missing" "$T/err" || fail "read before consent: $(cat "$T/err")"
expect 0 "$PRIVAULT" consent grant "$SUBJ" --purpose account_management --purpose transactions --purpose provide_services

# read for a purpose: the exact data comes back
expect 0 "$PRIVAULT" record read "$SUBJ" --purpose account_management
[ "$(wc -l <"$T/out")" -eq 1 ] || fail "account_management should see one record"
[ "$(cut -f1 "$T/out")" = "$REC1" ] || fail "record id"
[ "$(cut -f2 "$T/out")" = "identifiers" ] || fail "record category"
[ "$(cut -f3 "$T/out")" = "2026-03-01T12:00:00Z" ] || fail "collected time from PRIVAULT_NOW"
[ "$(cut -f5- "$T/out")" = "$NAME" ] || fail "data did not come back exactly: $(cut -f5- "$T/out")"
expect 0 "$PRIVAULT" record read "$SUBJ" --purpose transactions --category commercial --json
python3 - "$T/out" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
assert len(recs) == 1, recs
assert recs[0]["category"] == "commercial"
assert recs[0]["data"] == {"order": "A-1001", "total": "42.00 EUR"}, recs[0]["data"]
EOF

# denied reads: exit 4 with the reason
expect 4 "$PRIVAULT" record read "$SUBJ" --purpose selling_everything
grep -q "denied: purpose_undeclared" "$T/err" || fail "denied reason: $(cat "$T/err")"
expect 4 "$PRIVAULT" --role auditor --as auditor1 record read "$SUBJ" --purpose account_management --category identifiers
grep -q "denied: role_forbidden" "$T/err" || fail "auditor reason: $(cat "$T/err")"
expect 4 "$PRIVAULT" --role service --as shop --grant transactions:commercial record read "$SUBJ" --purpose account_management --category identifiers
grep -q "denied: no_grant" "$T/err" || fail "service without grant: $(cat "$T/err")"
expect 0 "$PRIVAULT" record read "$SUBJ" --purpose transactions --role service --as shop --grant transactions:commercial
[ "$(cut -f1 "$T/out")" = "$REC2" ] || fail "granted service read"

# decide
expect 0 "$PRIVAULT" decide "$SUBJ" --category identifiers --purpose account_management
[ "$(cat "$T/out")" = "allow" ] || fail "decide allow"
expect 4 "$PRIVAULT" decide "$SUBJ" --category internet_activity --purpose account_management
[ "$(cat "$T/out")" = "deny category_not_in_purpose" ] || fail "decide deny: $(cat "$T/out")"

# categories
expect 0 "$PRIVAULT" subject categories "$SUBJ"
grep -q "^identifiers	1$" "$T/out" || fail "categories identifiers"
grep -q "^commercial	1$" "$T/out" || fail "categories commercial"
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "three categories"

# rectify
NEWNAME='{"name":"Alice P. Liddell","street":"Looking-Glass Road 1"}'
printf '%s' "$NEWNAME" | { expect 0 "$PRIVAULT" record rectify "$SUBJ" "$REC1"; }
expect 0 "$PRIVAULT" record read "$SUBJ" --purpose account_management
[ "$(cut -f5- "$T/out")" = "$NEWNAME" ] || fail "rectified data"
expect 3 "$PRIVAULT" record rectify "$SUBJ" 00000000-0000-4000-8000-000000000000 --data '{}'

# nothing personal in clear in the database (close every handle first: no WAL left behind)
# positive control: the search does see what is stored in clear (subject ids are).
# With PRIVAULT_STORE (another backend), PV_DB_DUMP prints that database as text.
raw_db() {
	if [ -n "${PRIVAULT_STORE:-}" ]; then
		[ -n "${PV_DB_DUMP:-}" ] || fail "PRIVAULT_STORE set without PV_DB_DUMP: cannot inspect the database"
		$PV_DB_DUMP
	else
		cat "$PRIVAULT_VAULT"/vault.db*
	fi
}
n=$(raw_db | grep -c -a -- "$SUBJ" || true)
[ "$n" -gt 0 ] || fail "the raw search cannot see the subject id: the check below would prove nothing"
# (needles are not strings of hex digits alone: ciphertexts and hashes are dumped as hex, where a
# 4-digit number turns up by chance; the phone number is searched as its 10 national digits)
for needle in "Alice" "alice.liddell" "Liddell" "2079460958" "Wonderland" "A-1001" "/pricing" "Looking-Glass"; do
	n=$(raw_db | grep -c -a -- "$needle" || true)
	[ "$n" -eq 0 ] || fail "'$needle' found $n time(s) in clear in vault.db"
done

# erase: the subject is gone, its data unreadable, the audit verifies
expect 0 "$PRIVAULT" subject erase "$SUBJ"
expect 3 "$PRIVAULT" subject find email --value alice.liddell@example.org
expect 0 "$PRIVAULT" subject show "$SUBJ"
grep -q "^state: erased$" "$T/out" || fail "erased state"
set +e
"$PRIVAULT" record read "$SUBJ" --purpose account_management >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "read after erase succeeded"
[ ! -s "$T/out" ] || fail "read after erase printed data"

expect 0 "$PRIVAULT" audit verify
grep -q "^ok: " "$T/out" || fail "audit verify output"
expect 0 "$PRIVAULT" audit list --json
python3 - "$T/out" "$SUBJ" <<'EOF'
import json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
actions = {e["action"] for e in entries}
for a in ("record.put", "record.read", "subject.erase"):
    assert a in actions, (a, actions)
text = open(sys.argv[1]).read()
for needle in ("Alice", "liddell", "2079460958", "A-1001"):
    assert needle not in text, needle
EOF
expect 0 "$PRIVAULT" audit list --from 2 --limit 3
[ "$(wc -l <"$T/out")" -eq 3 ] || fail "audit list --limit"
[ "$(head -1 "$T/out" | cut -f1)" = "2" ] || fail "audit list --from"
expect 0 "$PRIVAULT" audit checkpoint
grep -q "^checkpoint at seq [0-9]*$" "$T/out" || fail "checkpoint"
expect 0 "$PRIVAULT" audit pubkey
grep -q "^[0-9a-f]\{64\}$" "$T/out" || fail "pubkey"
expect 0 "$PRIVAULT" audit verify

# policy versions
expect 0 "$PRIVAULT" policy current
grep -q "^version: 2020-02-08$" "$T/out" || fail "policy current"
expect 0 "$PRIVAULT" policy add "$SRCDIR/examples/policies/freenas-2018.yaml"
NEWHASH=$(cat "$T/out")
expect 0 "$PRIVAULT" policy current
grep -q "^hash: $NEWHASH$" "$T/out" || fail "policy add did not become current"
echo "vault_session: ok"
