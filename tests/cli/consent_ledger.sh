#!/usr/bin/env bash
# The consent ledger on the command line: runs every example of docs/consent.md's
# "Ledger: ..." sections (tests/consent/docs_examples.sh: one bash session, so
# variables carry over; each "$ " line's output compared with the lines under it), then
# checks what the examples cannot show: exit codes, bad input, what the audit
# holds (never the user agent, address or signal string), erasure.
set -euo pipefail
: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
mkdir -p "$T/bin"
ln -s "$PRIVAULT" "$T/bin/privault"
export PATH="$T/bin:$PATH" SRCDIR
unset PRIVAULT_STORE PRIVAULT_KEYS

# ---- the documented examples ----
# (run in $T: the checks below go on with the vault the examples made)
DOCS_WORKDIR=$T bash "$SRCDIR/tests/consent/docs_examples.sh" consent_ledger '^Ledger: ' 11 ||
	fail "docs/consent.md ledger examples"

# ---- beyond the examples ----
export PRIVAULT_VAULT="$T/vault" PRIVAULT_NOW=2026-12-18T10:00:00Z
S=$(privault subject find email --value ann@example.com)
expect() {
	local want=$1; shift
	set +e; "$@" >"$T/out" 2>"$T/err"; local got=$?; set -e
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $got, expected $want"; }
}
expect 2 privault consent grant "$S"                                  # no --purpose
grep -q -- "--purpose is required" "$T/err" || fail "missing purpose message"
expect 1 privault consent grant "$S" --purpose nope
grep -q "items\[0\].purpose: expected a purpose of the policy" "$T/err" || fail "bad purpose message: $(cat "$T/err")"
expect 1 privault consent grant "not-a-subject" --purpose newsletter
expect 3 privault consent grant 00000000-0000-4000-8000-000000000000 --purpose newsletter
expect 1 privault consent grant "$S" --purpose newsletter --client 999.1.1.1
grep -q "client_ip: expected an IPv4 or IPv6 address" "$T/err" || fail "bad client message"
expect 1 privault consent record-usp "$S" 1yNN
expect 4 privault --role auditor --as aud consent grant "$S" --purpose newsletter
expect 0 privault --role auditor --as aud consent export --from 2026-01-01 --to 2027-01-01
expect 4 privault --role service --as svc consent export
expect 4 privault consent covered "$S" --purpose newsletter --category contact --at 2026-12-21T00:00:00Z
grep -q "^consent_withdrawn$" "$T/out" || fail "covered after the withdrawal"

# the audit names the consent writes, never the proof
expect 0 privault audit list
grep -q "consent.record" "$T/out" || fail "consent writes not audited"
grep -q "granted:form" "$T/out" || fail "audit outcome action:source"
! grep -q "203.0.113\|Mozilla\|CP3tAUAP" "$T/out" || fail "the audit holds proof it must not"
expect 0 privault audit verify

# a damaged derived row is found (exit 5) and rebuilt from the events
sqlite3 "$T/vault/vault.db" "UPDATE consent_state SET consent = 1 WHERE subject_id = '$S'"
expect 0 privault decide "$S" --category contact --purpose newsletter   # the damage shows
expect 5 privault consent rebuild --verify
grep -q "^mismatches 1$" "$T/out" || fail "verify count"
expect 0 privault consent rebuild
expect 4 privault decide "$S" --category contact --purpose newsletter
expect 0 privault consent rebuild --verify

# erasure removes every consent row of the subject
expect 0 privault consent erase "$S"
grep -q "^erased 2 events$" "$T/out" || fail "erase count: $(cat "$T/out")"
expect 0 privault consent history "$S"
[ ! -s "$T/out" ] || fail "history after erasure"
[ "$(sqlite3 "$T/vault/vault.db" "SELECT COUNT(*) FROM consent_events WHERE subject_id = '$S'")" = 0 ] || fail "rows left"
echo "ok: consent ledger CLI"
