#!/usr/bin/env bash
# `privault sweep` and `privault hold`: nothing goes before its time; a dry run
# lists what would go and writes nothing; a sweep deletes (orders) and
# anonymizes (newsletter contact, leaving a de-identified tally), keeps what a
# legal hold covers, erases subjects left with nothing (their identifiers stay
# suppressed); releasing the hold lets the next sweep finish; exit codes; every
# action audited and the chain verifies.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
export PRIVAULT_NOW=2025-03-10T12:00:00Z
DB="$PRIVAULT_VAULT/vault.db"
P="$PRIVAULT"

fail() { echo "FAIL: $*" >&2; exit 1; }
stat_of() { "$P" status | sed -n "s/^$1: //p"; }
state_of() { "$P" subject show "$1" | sed -n 's/^state: //p'; }
# expect CODE CMD...: run CMD, check its exit code
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}

"$P" init --policy "$SRCDIR/tests/data/retention-policy.yaml" >/dev/null
A=$("$P" subject create --id email=alice@example.com)
B=$("$P" subject create --id email=bob@example.com)
C=$("$P" subject create --id email=carol@example.com)
"$P" record put "$A" --category contact --purpose account --data '{"city":"Lyon"}' >/dev/null
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"A-1"}' >/dev/null
"$P" record put "$B" --category commercial --purpose order_fulfilment --source partner --data '{"order":"B-1"}' >/dev/null
"$P" record put "$C" --category contact --purpose marketing --source direct --data '{"news":"weekly"}' >/dev/null

# ---- nothing has expired yet
expect 0 "$P" sweep
grep -q "^sweep at 2025-03-10T12:00:00Z: deleted 0, anonymized 0, kept 0 (held or restricted), subjects erased 0, batches 0, destroyed 0, purged 0$" "$T/out" \
	|| fail "early sweep: $(cat "$T/out")"
[ "$(stat_of records)" = "4" ] || fail "early sweep removed records"

# ---- holds: usage, scope and role errors
expect 2 "$P" hold create --subject "$B"                                 # no --reason
expect 1 "$P" hold create --subject "$B" --reason "ask bob@example.com"  # personal data in the reason
grep -q "'@'" "$T/err" || fail "reason error: $(cat "$T/err")"
grep -q "bob" "$T/err" && fail "the error message repeats the reason"
expect 1 "$P" hold create --reason "Case 1"                              # no scope
expect 3 "$P" hold create --subject 00000000-0000-4000-8000-000000000000 --reason "Case 1"
expect 4 "$P" --role service hold create --subject "$B" --reason "Case 1"
expect 2 "$P" hold create --subject "$B" --reason "Case 1" --from yesterday
expect 0 "$P" hold create --subject "$B" --reason "Litigation 2025-118"
HB=$(cat "$T/out")
expect 0 "$P" hold list
[ "$(wc -l <"$T/out")" = "1" ] || fail "hold list: $(cat "$T/out")"
grep -q "^$HB	active	$B	-	-	-	2025-03-10T12:00:00Z	Litigation 2025-118$" "$T/out" || fail "hold list line: $(cat "$T/out")"
expect 0 "$P" --role auditor hold show "$HB" --json
python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); assert h["active"] and h["subject_id"]==sys.argv[2] and h["category"] is None, h' \
	"$T/out" "$B" || fail "hold show --json: $(cat "$T/out")"

# ---- 2025-05-01: orders (1 month) and the newsletter contact (30 days) have expired
export PRIVAULT_NOW=2025-05-01T00:00:00Z
AUDIT_BEFORE=$(stat_of "audit entries")
expect 0 "$P" sweep --dry-run
cat >"$T/want" <<EOF
delete	commercial	order_fulfilment	1
anonymize	contact	marketing	1
erase	$C
dry run at 2025-05-01T00:00:00Z: would delete 1, would anonymize 1, kept 1 (held or restricted), subjects to erase 1, batches 0, would destroy 2, purged 0
EOF
diff -u "$T/want" "$T/out" || fail "dry run output"
[ "$(stat_of records)" = "4" ] || fail "dry run removed records"
[ "$(stat_of "audit entries")" = "$AUDIT_BEFORE" ] || fail "dry run wrote audit entries"
[ "$(state_of "$C")" = "active" ] || fail "dry run erased a subject"

# a real sweep never runs ahead of the clock; a dry run may look ahead
expect 1 "$P" sweep --now 2026-01-01
expect 0 "$P" sweep --dry-run --now 2027-06-01 --json
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["dry_run"] and r["deleted"]==1 and r["anonymized"]==1 and r["kept"]==1, r' \
	"$T/out" || fail "look-ahead dry run: $(cat "$T/out")"

expect 0 "$P" sweep --json
python3 - "$T/out" "$C" <<'EOF' || fail "sweep --json: $(cat "$T/out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert not r["dry_run"] and r["deleted"] == 1 and r["anonymized"] == 1, r
assert r["kept"] == 1 and r["subjects_erased"] == 1 and r["batches"] == 1, r
assert {(c["category"], c["purpose"], c["action"], c["records"]) for c in r["counts"]} == \
	{("commercial", "order_fulfilment", "delete", 1), ("contact", "marketing", "anonymize", 1)}, r
assert "erased" not in r, r   # listed only with --subjects after a real sweep
EOF
[ "$(stat_of records)" = "2" ] || fail "records after the sweep: $(stat_of records)"
[ "$(state_of "$A")" = "active" ] || fail "A (account data left) was erased"
[ "$(state_of "$B")" = "active" ] || fail "B (held) was erased"
[ "$(state_of "$C")" = "erased" ] || fail "C (nothing left) was not erased"
expect 3 "$P" subject find email --value carol@example.com
"$P" record read "$A" --purpose account --json >"$T/out"
grep -q Lyon "$T/out" || fail "A's account data is gone"
expect 4 "$P" record read "$A" --purpose order_fulfilment

if [ -z "${PRIVAULT_STORE:-}" ] && command -v sqlite3 >/dev/null; then
	[ "$(sqlite3 "$DB" "SELECT category||'/'||purpose||'/'||source||'/'||month||'/'||count FROM retention_tally")" = \
		"contact/marketing/direct/1740787200/1" ] || fail "tally: $(sqlite3 "$DB" 'SELECT * FROM retention_tally')"
	[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM records WHERE subject_id = '$C'")" = "0" ] || fail "C's ciphertext kept"
fi

# a second sweep has nothing left to do but the held order
expect 0 "$P" sweep
grep -q "deleted 0, anonymized 0, kept 1" "$T/out" || fail "second sweep: $(cat "$T/out")"

# ---- release the hold: the next sweep deletes B's order and erases B
expect 4 "$P" --role auditor hold release "$HB"
expect 0 "$P" hold release "$HB"
expect 3 "$P" hold release "$HB"
expect 0 "$P" hold list
[ ! -s "$T/out" ] || fail "released hold still listed as active"
expect 0 "$P" hold list --all
grep -q "^$HB	released	" "$T/out" || fail "hold list --all: $(cat "$T/out")"
expect 0 "$P" sweep --subjects
grep -q "^erase	$B$" "$T/out" || fail "sweep --subjects: $(cat "$T/out")"
grep -q "deleted 1, anonymized 0, kept 0 (held or restricted), subjects erased 1, batches 1, destroyed 0, purged 0$" "$T/out" \
	|| fail "sweep after release: $(cat "$T/out")"
[ "$(state_of "$B")" = "erased" ] || fail "B not erased after the release"

# ---- usage errors and roles
expect 2 "$P" sweep --batch 0
expect 2 "$P" sweep --now someday
expect 2 "$P" sweep extra
expect 4 "$P" --role service sweep
expect 4 "$P" --role auditor sweep --dry-run

# ---- audit: every action, nothing personal, chain verifies
"$P" audit list >"$T/audit"
for a in hold.create hold.release retention.delete retention.anonymize subject.erase; do
	grep -q "	$a	" "$T/audit" || fail "no $a audit entry"
done
[ "$(grep -c "	retention.delete	" "$T/audit")" = "2" ] || fail "retention.delete entries"
# the epoch destruction's entries name no subject: one per category x purpose x action
grep -q "	retention.anonymize	-	marketing	contact	ok:records=1,epochs=[0-9]*-[0-9]*$" "$T/audit" || fail "anonymize entry"
grep -q "	retention.purge	-	-	-	ok:rows=2$" "$T/audit" || fail "purge entry"
grep -qi -e "litigation" -e "example.com" "$T/audit" && fail "reason or identifier in the audit"
expect 0 "$P" audit verify
echo "ok: retention CLI"
