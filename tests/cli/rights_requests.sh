#!/usr/bin/env bash
# `privault request` and `privault report requests`: intake (the answer never
# says whether the person is known), a code delivered by `privault outbox
# deliver` to a file sink and entered back, a wrong code refused with exit 4,
# the CCPA quota refusing the third access request in 12 months with the date
# it becomes possible and the complaint route, one extension only, overdue
# lists through the test clock, the CCPA report, exit codes, no identifier in
# the audit, and the audit chain verifying.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
export PRIVAULT_NOW=2025-03-10T12:00:00Z
export PRIVAULT_OUTBOX_MAIL="file:$T/mail.txt"
P="$PRIVAULT"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}
# code ID: deliver the outbox and print the last code sent for request ID
code() {
	"$P" outbox deliver >/dev/null
	grep -o "request $1 is: [0-9]*" "$T/mail.txt" | tail -1 | sed 's/.*: //'
}
field() { jq -r ".$1" "$T/out"; }

"$P" init --policy "$SRCDIR/tests/data/rights-policy.yaml" >/dev/null
A=$("$P" subject create --id email=amy@example.com --regime ccpa)

# ---- intake: known and unknown look the same
expect 0 "$P" request submit --type access --id email=amy@example.com --json
R1=$(field id); [ "$(field state)" = verifying ] || fail "known: $(cat "$T/out")"
[ "$(field subject_id)" = null ] || fail "intake answer names the subject"
[ "$(field due_at)" = 2025-04-24T23:59:59Z ] || fail "CCPA due: $(field due_at)"
[ "$(field acknowledge_by)" = 2025-03-24T23:59:59Z ] || fail "CCPA ack: $(field acknowledge_by)"
expect 0 "$P" request submit --type access --id email=nobody@example.com --json
U=$(field id); [ "$(field state)" = verifying ] || fail "unknown: $(cat "$T/out")"

# ---- usage and input errors
expect 2 "$P" request submit --id email=amy@example.com
expect 2 "$P" request verify "$R1"
expect 1 "$P" request submit --type teleport --id email=amy@example.com
grep -q "type: expected access" "$T/err" || fail "type error: $(cat "$T/err")"
expect 1 "$P" request submit --type access --id email=amy@example.com --requester agent
grep -q "authorization" "$T/err" || fail "agent error: $(cat "$T/err")"
expect 3 "$P" request show 00000000-0000-4000-8000-000000000000

# ---- a wrong code (exit 4), then the right one
C=$(code "$R1"); [ ${#C} = 8 ] || fail "no code in the mail file"
W=$(printf '%08d' $(( (10#$C + 1) % 100000000 )))
expect 4 "$P" request verify "$R1" --code "$W"
grep -q "1 of 5" "$T/err" || fail "attempts: $(cat "$T/err")"
expect 0 "$P" request verify "$R1" --code "$C" --json
[ "$(field state)" = verified ] || fail "verify: $(cat "$T/out")"
expect 0 "$P" request start "$R1"
expect 0 "$P" request complete "$R1" --json
[ "$(field state)" = completed ] || fail "complete"
[ "$(jq '.history | length' "$T/out")" = 8 ] || fail "history: $(jq -c .history "$T/out")"
[ "$(jq -r '[.history[].reason] | join(",")' "$T/out")" = subject,code_sent,code_sent,acknowledged,code_failed:wrong_code,code_verified,, ] \
	|| fail "history reasons: $(jq -c '[.history[].reason]' "$T/out")"

# ---- second access one month later, third refused by the quota
export PRIVAULT_NOW=2025-04-10T12:00:00Z
expect 0 "$P" request submit --type access --id email=amy@example.com --json; R2=$(field id)
expect 0 "$P" request verify "$R2" --code "$(code "$R2")"
# extension: once, with a notice, before the first deadline (2025-05-25)
expect 0 "$P" request extend "$R2" --reason complex_request --id email=amy@example.com --json
[ "$(field extended_due)" = 2025-07-09T23:59:59Z ] || fail "extended: $(field extended_due)"
expect 1 "$P" request extend "$R2" --reason complex_request --id email=amy@example.com
grep -q "already extended" "$T/err" || fail "second extension: $(cat "$T/err")"
export PRIVAULT_NOW=2025-06-10T12:00:00Z
expect 0 "$P" request submit --type access --id email=amy@example.com --json; R3=$(field id)
expect 0 "$P" request verify "$R3" --code "$(code "$R3")" --json
[ "$(field state)" = refused ] || fail "quota: $(cat "$T/out")"
[ "$(field reason)" = quota_exceeded ] || fail "quota reason"
[ "$(field available_at)" = 2026-03-10T12:00:00Z ] || fail "available_at: $(field available_at)"
field complaint_route | grep -q "California" || fail "complaint route"


# ---- due lists by the test clock
expect 0 "$P" request due
grep -q "^$U" "$T/out" || fail "overdue list misses the unverified request: $(cat "$T/out")"
grep -q "^$R2" "$T/out" && fail "R2 is not overdue yet"
expect 0 "$P" request due --within 40 --json
[ "$(jq -r '.[].id' "$T/out" | sort | tr '\n' ' ')" = "$(printf '%s\n' "$U" "$R2" | sort | tr '\n' ' ')" ] \
	|| fail "due within 40 days: $(jq -c '[.[].id]' "$T/out")"
expect 0 "$P" request expire
grep -q "^expired 1$" "$T/out" || fail "expire: $(cat "$T/out")"
expect 0 "$P" --role auditor request show "$U" --json
[ "$(field state)" = expired ] || fail "U not expired"
expect 4 "$P" --role auditor request refuse "$R2" --reason excessive

# ---- report
expect 0 "$P" --role auditor report requests --year 2025 --json
[ "$(jq '.requests.access.received' "$T/out")" = 4 ] || fail "report: $(cat "$T/out")"
[ "$(jq '.requests.access.complied' "$T/out")" = 1 ] || fail "report complied"
[ "$(jq '.requests.access.denied' "$T/out")" = 1 ] || fail "report denied"
[ "$(jq '.requests.access.open' "$T/out")" = 1 ] || fail "report open"
expect 0 "$P" report requests --year 2025
grep -q "^access .* 4 " "$T/out" || fail "report text: $(cat "$T/out")"
expect 2 "$P" report requests

# ---- fulfilment: an admin's deletion request (identity checked outside) erases the subject
B=$("$P" subject create --id email=bea@example.com)
expect 0 "$P" request submit --type deletion --subject "$B" --json; RD=$(field id)
[ "$(field state)" = verified ] || fail "admin intake: $(cat "$T/out")"
expect 4 "$P" --role service request fulfil "$RD"
expect 0 "$P" request fulfil "$RD" --json
[ "$(field state)" = completed ] || fail "fulfil: $(cat "$T/out")"
"$P" subject show "$B" | grep -q "^state: erased" || fail "subject not erased"

# ---- the audit holds no identifier and verifies
"$P" audit list --json >"$T/audit"
grep -q "example.com" "$T/audit" && fail "an identifier reached the audit"
grep -q "request.verified" "$T/audit" || fail "no request.verified entry"
"$P" audit verify >/dev/null || fail "audit chain"
echo ok
