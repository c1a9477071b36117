#!/usr/bin/env bash
# `privault key rotate`: a new master key version, every data key rewrapped
# (records untouched), reads still return the exact data, the key file keeps
# mode 0600, erasure still works, and the audit chain verifies.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
KEYFILE="$PRIVAULT_VAULT/privault.key"
DB="$PRIVAULT_VAULT/vault.db"

fail() { echo "FAIL: $*" >&2; exit 1; }
stat_of() { "$PRIVAULT" status | sed -n "s/^$1: //p"; }
mode() { stat -c %a "$1"; }

"$PRIVAULT" init --policy "$SRCDIR/examples/policies/ixsystems-2020.yaml" >/dev/null
[ "$(mode "$KEYFILE")" = "600" ] || fail "key file mode after init: $(mode "$KEYFILE")"
[ "$(stat_of "key version")" = "1" ] || fail "key version 1 after init"

declare -a SUBJ REC
for i in 1 2 3; do
	SUBJ[$i]=$("$PRIVAULT" subject create --id "email=rotate$i@example.com")
	REC[$i]=$("$PRIVAULT" record put "${SUBJ[$i]}" --category identifiers --purpose account_management \
		--source direct --data "{\"name\":\"Rotate $i\"}")
done
if [ -z "${PRIVAULT_STORE:-}" ] && command -v sqlite3 >/dev/null; then
	CT_BEFORE=$(sqlite3 "$DB" "SELECT hex(ciphertext) FROM records ORDER BY id")
	WRAP_BEFORE=$(sqlite3 "$DB" "SELECT hex(wrapped) FROM subject_keys ORDER BY subject_id")
fi

"$PRIVAULT" key rotate >"$T/out"
grep -q "^key version 2, 3 data keys rewrapped$" "$T/out" || fail "rotate output: $(cat "$T/out")"
[ "$(mode "$KEYFILE")" = "600" ] || fail "key file mode after rotation: $(mode "$KEYFILE")"
[ "$(stat_of "key version")" = "2" ] || fail "key version after rotation"
grep -q "^kek 1 " "$KEYFILE" || fail "old key version dropped from the key file"
grep -q "^kek 2 " "$KEYFILE" || fail "no new key version in the key file"

if [ -z "${PRIVAULT_STORE:-}" ] && command -v sqlite3 >/dev/null; then
	[ "$(sqlite3 "$DB" "SELECT hex(ciphertext) FROM records ORDER BY id")" = "$CT_BEFORE" ] ||
		fail "rotation rewrote records"
	[ "$(sqlite3 "$DB" "SELECT hex(wrapped) FROM subject_keys ORDER BY subject_id")" != "$WRAP_BEFORE" ] ||
		fail "rotation did not rewrap the data keys"
	[ "$(sqlite3 "$DB" "SELECT count(*) FROM subject_keys WHERE kek_version = 2")" = "3" ] ||
		fail "not every data key is under version 2"
fi

for i in 1 2 3; do
	got=$("$PRIVAULT" record read "${SUBJ[$i]}" --purpose account_management | cut -f5-)
	[ "$got" = "{\"name\":\"Rotate $i\"}" ] || fail "read after rotation of subject $i: $got"
done

# new subjects after rotation, a second rotation, erasure under the new key
S4=$("$PRIVAULT" subject create --id email=rotate4@example.com)
"$PRIVAULT" record put "$S4" --category identifiers --purpose account_management --source direct --data '{"name":"Rotate 4"}' >/dev/null
"$PRIVAULT" key rotate >"$T/out"
grep -q "^key version 3, 4 data keys rewrapped$" "$T/out" || fail "second rotate: $(cat "$T/out")"
[ "$(mode "$KEYFILE")" = "600" ] || fail "key file mode after the second rotation"
got=$("$PRIVAULT" record read "$S4" --purpose account_management | cut -f5-)
[ "$got" = '{"name":"Rotate 4"}' ] || fail "read of a subject created between rotations"
"$PRIVAULT" subject erase "${SUBJ[1]}" >/dev/null
set +e
"$PRIVAULT" subject find email --value rotate1@example.com >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "erased subject still found after rotation (exit $rc)"
[ "$(stat_of subjects)" = "3" ] || fail "subjects after erasure"

# a key file readable by others is refused
chmod 0644 "$KEYFILE"
set +e
"$PRIVAULT" status >/dev/null 2>"$T/err"
rc=$?
set -e
chmod 0600 "$KEYFILE"
[ "$rc" -ne 0 ] || fail "a group/world-readable key file was accepted"

"$PRIVAULT" audit verify >"$T/out" || fail "audit verify after rotation: $(cat "$T/out")"
"$PRIVAULT" audit list | grep -q "key.rotate\|key_rotate\|rotate" || fail "no audit entry for the rotation"
echo "key_rotate: ok"
