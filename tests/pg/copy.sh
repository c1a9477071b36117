#!/usr/bin/env bash
# `privault store copy` SQLite -> PostgreSQL -> SQLite: every table copied,
# verified (counts, every record and identifier decrypted, the audit chain),
# the same answers from every copy (reads, status, audit); `privault migrate`
# on both backends; a copy into a store that holds a vault is refused; a
# ciphertext altered in PostgreSQL makes the next copy fail its verification.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
source "$SRCDIR/tests/pg/pg_server.sh"
pg_start
T=$(mktemp -d)
trap 'rm -rf "$T"; pg_stop' EXIT
export PRIVAULT_VAULT="$T/vault"
export PRIVAULT_NOW=2026-03-01T12:00:00Z
unset PRIVAULT_STORE
POLICY="$SRCDIR/examples/policies/ixsystems-2020.yaml"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
	local want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	set -e
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $got, expected $want"; }
}

# a vault with subjects, records, an erased subject, a rotated key and checkpoints
"$PRIVAULT" init --policy "$POLICY" >/dev/null
S1=$("$PRIVAULT" subject create --id email=ada@example.org --id phone=+442079460958 --regime gdpr)
S2=$("$PRIVAULT" subject create --id email=bob@example.org)
S3=$("$PRIVAULT" subject create --id email=eve@example.org)
"$PRIVAULT" record put "$S1" --category identifiers --purpose account_management --source direct \
	--data '{"name":"Ada","note":"caf\u00e9 \"quoted\""}' >/dev/null
"$PRIVAULT" record put "$S1" --category commercial --purpose transactions --source direct --data '{"order":"A-1"}' >/dev/null
"$PRIVAULT" record put "$S2" --category identifiers --purpose account_management --data '{"name":"Bob"}' >/dev/null
"$PRIVAULT" record put "$S3" --category identifiers --purpose account_management --data '{"name":"Eve"}' >/dev/null
"$PRIVAULT" subject erase "$S3" >/dev/null
# the policy's purposes are GDPR consent-based: grants, which the copy must carry (consent tables)
"$PRIVAULT" consent grant "$S1" --purpose account_management --purpose transactions --client 203.0.113.5 >/dev/null
"$PRIVAULT" consent grant "$S2" --purpose account_management >/dev/null
"$PRIVAULT" key rotate >/dev/null
"$PRIVAULT" audit checkpoint >/dev/null

# What a user sees of the vault, store-independent: the first $N audit entries (the reads
# below append more), the status, the reads.
N=$("$PRIVAULT" status | sed -n 's/^audit entries: //p')
snapshot() {
	"$PRIVAULT" audit list --limit "$N" | cut -f1-8
	"$PRIVAULT" status | grep -v '^store:\|^audit entries:'
	"$PRIVAULT" record read "$S1" --purpose account_management
	"$PRIVAULT" record read "$S1" --purpose transactions --json
	"$PRIVAULT" record read "$S2" --purpose account_management
	"$PRIVAULT" subject show "$S3"
	"$PRIVAULT" subject find email --value ada@example.org
}
snapshot >"$T/snap.sqlite" 2>&1
[ "$(wc -l <"$T/snap.sqlite")" -gt "$N" ] || fail "snapshot too short"
expect 0 "$PRIVAULT" migrate
grep -q "schema version [0-9]*: up to date" "$T/out" || fail "migrate on SQLite: $(cat "$T/out")"

PG=$(pg_new_db copy_pg)
expect 0 "$PRIVAULT" store copy --to "$PG"
cat "$T/out"
grep -q "^copy verified$" "$T/out" || fail "copy to PostgreSQL not verified"
grep -q "^records decrypted: 3$" "$T/out" || fail "records decrypted (3: the erased subject's record is deleted)"
! grep -q "MISMATCH" "$T/out" || fail "count mismatch"
grep -q "$PG_DIR" "$T/out" "$T/err" && fail "the store URL is printed"
# the source is unchanged (nothing audited by the copy) and the copy says the same
expect 0 "$PRIVAULT" --store "$PG" migrate
grep -q "^store: postgres$" "$T/out" || fail "migrate on PostgreSQL: $(cat "$T/out")"
grep -q "up to date" "$T/out" || fail "migrate on PostgreSQL: $(cat "$T/out")"
PRIVAULT_STORE=$PG snapshot >"$T/snap.pg" 2>&1
diff "$T/snap.pg" "$T/snap.sqlite" >&2 || fail "the PostgreSQL copy answers differently"

# back to a new SQLite file, from PostgreSQL
expect 0 "$PRIVAULT" store copy --from "$PG" --to "sqlite:$T/back.db"
grep -q "^copy verified$" "$T/out" || fail "copy back to SQLite not verified"
[ "$(stat -c %a "$T/back.db")" = 600 ] || fail "copied SQLite file mode"
PRIVAULT_STORE="sqlite:$T/back.db" snapshot >"$T/snap.back" 2>&1
diff "$T/snap.back" "$T/snap.pg" >&2 || fail "the round-tripped copy answers differently"
PRIVAULT_STORE="sqlite:$T/back.db" "$PRIVAULT" audit verify >/dev/null || fail "audit of the round trip"

# refused: into a store that holds a vault, onto itself, without --to
expect 1 "$PRIVAULT" store copy --to "$PG"
grep -q "already holds a vault" "$T/err" || fail "copy over a vault: $(cat "$T/err")"
expect 1 "$PRIVAULT" store copy --from "$PG" --to "$PG"
expect 2 "$PRIVAULT" store copy

# a ciphertext altered in PostgreSQL: the next copy's decrypt check fails, exit 5, nothing of it in clear
pg_psql copy_pg -c "UPDATE records SET ciphertext = set_byte(ciphertext, 0, get_byte(ciphertext, 0) # 1)
	WHERE subject_id = '$S2'"
expect 5 "$PRIVAULT" store copy --from "$PG" --to "sqlite:$T/bad.db"
grep -q "does not open" "$T/err" || fail "tampered copy: $(cat "$T/err")"
grep -q "Bob" "$T/out" "$T/err" && fail "plaintext in the output"
echo "copy: ok"
