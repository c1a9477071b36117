#!/usr/bin/env bash
# Tampering with the database behind privault's back, with the sqlite3 CLI:
# one flipped byte of a ciphertext, a ciphertext moved to another row (same
# subject and another subject), an edited audit row, a deleted audit row and
# entries cut off the end of the chain. Each must be detected: `record read`
# exits non-zero naming the record id; `audit verify` exits 5 naming the first
# bad seq. Each tampering is undone before the next, and the undo must make
# everything verify again (so the test proves the detection is of that change).
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
command -v sqlite3 >/dev/null || { echo "FAIL: the sqlite3 CLI is needed (Debian package sqlite3)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
DB="$PRIVAULT_VAULT/vault.db"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
	local want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	set -e
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $got, expected $want"; }
}
sql() { sqlite3 "$DB" "$@"; }

"$PRIVAULT" init --policy "$SRCDIR/examples/policies/ixsystems-2020.yaml" >/dev/null
A=$("$PRIVAULT" subject create --id email=tamper-a@example.com)
B=$("$PRIVAULT" subject create --id email=tamper-b@example.com)
R1=$("$PRIVAULT" record put "$A" --category identifiers --purpose account_management --source direct --data '{"name":"A one"}')
R2=$("$PRIVAULT" record put "$A" --category customer_records --purpose account_management --source direct --data '{"phone":"A two"}')
R3=$("$PRIVAULT" record put "$B" --category identifiers --purpose account_management --source direct --data '{"name":"B one"}')
expect 0 "$PRIVAULT" record read "$A" --purpose account_management
[ "$(wc -l <"$T/out")" -eq 2 ] || fail "setup: two records of A"

ORIG=$(sql "SELECT hex(ciphertext) FROM records WHERE id='$R1'")
ORIG_NONCE=$(sql "SELECT hex(nonce) FROM records WHERE id='$R1'")
[ -n "$ORIG" ] || fail "no ciphertext for $R1"
restore_r1() {
	sql "UPDATE records SET ciphertext = X'$ORIG', nonce = X'$ORIG_NONCE' WHERE id='$R1'"
	expect 0 "$PRIVAULT" record read "$A" --purpose account_management
	[ "$(wc -l <"$T/out")" -eq 2 ] || fail "after undo: both records of A readable again"
}

# 1. one flipped byte (one hex digit changed) in the middle of R1's ciphertext
pos=$(( ${#ORIG} / 2 ))
digit=${ORIG:$pos:1}
if [ "$digit" = "0" ]; then new=1; else new=0; fi
FLIPPED="${ORIG:0:$pos}$new${ORIG:$((pos + 1))}"
[ "$FLIPPED" != "$ORIG" ] && [ ${#FLIPPED} -eq ${#ORIG} ] || fail "flip"
sql "UPDATE records SET ciphertext = X'$FLIPPED' WHERE id='$R1'"
set +e
"$PRIVAULT" record read "$A" --purpose account_management >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 5 ] || fail "a flipped ciphertext byte was not detected (exit $rc, expected 5)"
grep -q "$R1" "$T/err" || fail "the error does not name record $R1: $(cat "$T/err")"
grep -q "A one" "$T/out" "$T/err" && fail "tampered plaintext shown"
echo "flipped byte: exit $rc: $(cat "$T/err")"
restore_r1

# 2a. another subject's ciphertext (and nonce) moved into R1's row
sql "UPDATE records SET ciphertext = (SELECT ciphertext FROM records WHERE id='$R3'),
	nonce = (SELECT nonce FROM records WHERE id='$R3') WHERE id='$R1'"
set +e
"$PRIVAULT" record read "$A" --purpose account_management >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 5 ] || fail "a ciphertext moved from another subject was not detected (exit $rc, expected 5)"
grep -q "$R1" "$T/err" || fail "moved ciphertext: the error does not name $R1: $(cat "$T/err")"
grep -q "B one" "$T/out" && fail "the moved plaintext was shown"
echo "moved (other subject): exit $rc: $(cat "$T/err")"
restore_r1

# 2b. the same subject's other record moved into R1's row (same data key, other record id and category)
sql "UPDATE records SET ciphertext = (SELECT ciphertext FROM records WHERE id='$R2'),
	nonce = (SELECT nonce FROM records WHERE id='$R2') WHERE id='$R1'"
set +e
"$PRIVAULT" record read "$A" --purpose account_management >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 5 ] || fail "a ciphertext moved within the subject was not detected (exit $rc, expected 5)"
grep -q "$R1" "$T/err" || fail "moved ciphertext: the error does not name $R1: $(cat "$T/err")"
echo "moved (same subject): exit $rc: $(cat "$T/err")"
restore_r1

# the audit chain as it stands verifies
expect 0 "$PRIVAULT" audit verify
HEAD=$(sql "SELECT max(seq) FROM audit")
[ "$HEAD" -ge 8 ] || fail "expected at least 8 audit entries, got $HEAD"

# 3. an edited audit row: a denied read rewritten as allowed
OUTCOME=$(sql "SELECT outcome FROM audit WHERE seq=5")
sql "UPDATE audit SET outcome = 'allow' || outcome WHERE seq=5"
expect 5 "$PRIVAULT" audit verify
grep -q "first bad seq 5:" "$T/out" || fail "edited row: $(cat "$T/out")"
echo "edited row: $(cat "$T/out")"
sql "UPDATE audit SET outcome = '$OUTCOME' WHERE seq=5"
expect 0 "$PRIVAULT" audit verify

# also an edited actor
ACTOR=$(sql "SELECT actor FROM audit WHERE seq=3")
sql "UPDATE audit SET actor = 'someone-else' WHERE seq=3"
expect 5 "$PRIVAULT" audit verify
grep -q "first bad seq 3:" "$T/out" || fail "edited actor: $(cat "$T/out")"
sql "UPDATE audit SET actor = '$ACTOR' WHERE seq=3"
expect 0 "$PRIVAULT" audit verify

# 4. a deleted audit row
sql "CREATE TABLE saved AS SELECT * FROM audit WHERE seq=6"
sql "DELETE FROM audit WHERE seq=6"
expect 5 "$PRIVAULT" audit verify
grep -Eq "first bad seq (6|7):" "$T/out" || fail "deleted row: $(cat "$T/out")"
echo "deleted row: $(cat "$T/out")"
sql "INSERT INTO audit SELECT * FROM saved; DROP TABLE saved"
expect 0 "$PRIVAULT" audit verify

# 5. entries cut off the end after a signed checkpoint
expect 0 "$PRIVAULT" audit checkpoint
CP=$(sed -n 's/^checkpoint at seq //p' "$T/out")
[ "$CP" -ge "$HEAD" ] || fail "checkpoint seq $CP"
sql "DELETE FROM audit WHERE seq >= $((CP - 1))"
expect 5 "$PRIVAULT" audit verify
grep -q "first bad seq" "$T/out" || fail "cut chain: $(cat "$T/out")"
echo "cut off the end: $(cat "$T/out")"

echo "tamper: ok"
