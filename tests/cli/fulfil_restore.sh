#!/usr/bin/env bash
# Backup-restore-resurrection: a backup taken while a person was in the vault,
# then their deletion request (crypto-shredded, suppressed, written to the
# signed journal), then the old backup restored with `privault restore`: the
# replay erases them again, the other subject is untouched, the audit says so
# and verifies. A tampered journal is refused (exit 5) and changes nothing.
# Also: disclosures, an access package on disk, erasure with exceptions kept
# per category, restriction, through the CLI.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
export PRIVAULT_NOW=2025-03-10T12:00:00Z
P="$PRIVAULT"

fail() { echo "FAIL: $*" >&2; exit 1; }
state_of() { "$P" subject show "$1" | sed -n 's/^state: //p'; }
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}

"$P" init --policy "$SRCDIR/tests/data/fulfil-policy.yaml" >/dev/null
A=$("$P" subject create --id email=ann@example.com)
B=$("$P" subject create --id email=ben@example.com)
"$P" record put "$A" --category contact --purpose account --source direct --data '{"city":"<b>Lyon</b>"}' >/dev/null
"$P" record put "$B" --category contact --purpose account --source direct --data '{"city":"Oslo"}' >/dev/null
"$P" record put "$B" --category commercial --purpose order_fulfilment --data '{"invoice":"B-1"}' >/dev/null

# ---- disclosures and an access package
expect 0 "$P" disclosure record "$A" --recipient adnet --purpose account --category identifiers --sharing
expect 2 "$P" disclosure record "$A" --recipient adnet --purpose account
expect 1 "$P" disclosure record "$A" --recipient nobody --purpose account --category identifiers
grep -q "recipient" "$T/err" || fail "the error names the field: $(cat "$T/err")"
"$P" disclosure list "$A" --json | jq -e 'length == 1 and .[0].sharing == true and .[0].recipient == "adnet"' >/dev/null \
	|| fail "disclosure list"
expect 0 "$P" package access "$A" --out "$T/pkg"
grep -q "records=1" "$T/out" || fail "package summary: $(cat "$T/out")"
for f in package.json records.csv disclosures.csv index.html; do [ -f "$T/pkg/$f" ] || fail "package lacks $f"; done
jq -e '.records[0].data.city == "<b>Lyon</b>" and (.disclosures.items | length) == 1' "$T/pkg/package.json" >/dev/null \
	|| fail "package.json content"
grep -q '&lt;b&gt;Lyon&lt;/b&gt;' "$T/pkg/index.html" || fail "index.html escapes the data"
! grep -q '<b>Lyon' "$T/pkg/index.html" || fail "index.html holds raw markup"
[ "$(stat -c %a "$T/pkg")" = 700 ] || fail "package directory mode"

# ---- restriction
expect 0 "$P" fulfil restrict "$B"
[ "$(state_of "$B")" = restricted ] || fail "B restricted"
expect 4 "$P" record read "$B" --purpose account
expect 0 "$P" fulfil unrestrict "$B"
[ "$(state_of "$B")" = active ] || fail "B active again"

# ---- the backup, taken while A is present
cp "$PRIVAULT_VAULT/vault.db" "$T/backup.db"

# ---- A asks for deletion: nothing is excepted, A is crypto-shredded
"$P" fulfil erase "$A" --json > "$T/erase.json"
jq -e '.full == true and .deleted == 1 and .kept == 0 and .notified == 1' "$T/erase.json" >/dev/null \
	|| fail "erase report: $(cat "$T/erase.json")"
[ "$(state_of "$A")" = erased ] || fail "A erased"
expect 3 "$P" subject find email --value ann@example.com
grep -q '^v1 email [0-9a-f]\{64\} ' "$PRIVAULT_VAULT/suppression.journal" || fail "journal line"
! grep -q 'ann@' "$PRIVAULT_VAULT/suppression.journal" || fail "journal holds the address"
# the erasure notice for the payments recipient is queued
"$P" outbox list --status pending --json | jq -e 'length == 1 and .[0].topic == "erasure_notice" and .[0].recipient == "payments"' >/dev/null \
	|| fail "erasure notice queued"

# ---- B asks for deletion: invoices are kept under the tax exception
"$P" fulfil erase "$B" > "$T/eraseB"
grep -q '^partially erased	deleted=1	kept=1' "$T/eraseB" || fail "B partial: $(cat "$T/eraseB")"
grep -q '^commercial	1	kept	tax_records$' "$T/eraseB" || fail "B commercial kept: $(cat "$T/eraseB")"
grep -q '^contact	1	erased	-$' "$T/eraseB" || fail "B contact erased: $(cat "$T/eraseB")"

# ---- restore the old backup: A would be back, the replay erases A again
expect 0 "$P" restore "$T/backup.db"
grep -q 'journal_lines=1	suppressed=1	reerased=1	reregistered=0' "$T/out" || fail "restore report: $(cat "$T/out")"
[ "$(state_of "$A")" = erased ] || fail "A resurrected by the restore"
expect 3 "$P" subject find email --value ann@example.com
expect 3 "$P" record read "$A" --purpose account
# B came back as in the backup (its erasure was after it and is not in the journal: partial erasures keep the person)
[ "$(state_of "$B")" = active ] || fail "B state after restore"
"$P" audit list --json > "$T/audit.json" 2>/dev/null || "$P" audit list > "$T/audit.json"
grep -q 'suppression.replay' "$T/audit.json" || fail "the audit records the replay"
grep -q 'vault.restore' "$T/audit.json" || fail "the audit records the restore"
expect 0 "$P" audit verify

# a second replay has nothing to do
expect 0 "$P" restore --replay-only
grep -q 'journal_lines=1	suppressed=0	reerased=0' "$T/out" || fail "second replay: $(cat "$T/out")"

# ---- Ann signs up again a day later: a new subject, which a replay leaves alone
A2=$(PRIVAULT_NOW=2025-03-11T12:00:00Z "$P" subject create --id email=ann@example.com)
[ "$A2" != "$A" ] || fail "a new subject id for the new registration"
expect 0 "$P" restore --replay-only
grep -q 'journal_lines=1	suppressed=0	reerased=0	reregistered=1' "$T/out" || fail "replay after re-registration: $(cat "$T/out")"
[ "$(state_of "$A2")" = active ] || fail "the new registration was erased by the replay"

# ---- a tampered journal is refused
sed -i 's/ \([0-9]\{10\}\) / 1\1 /' "$PRIVAULT_VAULT/suppression.journal"   # the time of line 1
expect 5 "$P" restore --replay-only
grep -q 'line 1' "$T/err" || fail "tamper message names the line: $(cat "$T/err")"
echo ok
