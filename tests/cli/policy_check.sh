#!/usr/bin/env bash
# `privault policy check|show|hash|schema`: exit codes and output lines of the real binary.
# Env: PRIVAULT (the binary), SRCDIR (the source root).
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
work=$(mktemp -d "${TMPDIR:-/tmp}/policy_check.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect CODE CMD...: run CMD, stdout to $work/out, stderr to $work/err, and check its exit code
expect() {
	local want=$1 got=0
	shift
	"$@" >"$work/out" 2>"$work/err" || got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"
		fail "exit $got, expected $want: $*"
	fi
}

minimal=$SRCDIR/tests/data/policy-minimal.yaml
full=$SRCDIR/tests/data/policy-full.yaml
hash_min=$(b2sum -l 256 "$minimal" | cut -d' ' -f1)

# valid files: one "ok" line each, exit 0
expect 0 "$PRIVAULT" policy check "$minimal" "$full"
grep -qx "$minimal: ok (version min-1, hash $hash_min)" "$work/out" || fail "ok line of the minimal policy"
grep -q "^$full: ok (version 2026-01, hash [0-9a-f]\{64\})\$" "$work/out" || fail "ok line of the full policy"
[ ! -s "$work/err" ] || fail "stderr not empty for valid policies"

# hash: BLAKE2b-256 of the exact bytes
expect 0 "$PRIVAULT" policy hash "$minimal"
[ "$(cat "$work/out")" = "$hash_min" ] || fail "hash differs from b2sum -l 256"

# an invalid policy: one diagnostic per line, FILE:LINE:COL: error: PATH: MESSAGE, exit 1
sed -e 's/consent: notice_only/consent: notice_onyl/' -e 's/    categories: \[contact\]/    categories: [contcat]/' \
	-e 's/^sources:/source:/' "$minimal" >"$work/bad.yaml"
expect 1 "$PRIVAULT" policy check "$work/bad.yaml"
grep -qx "$work/bad.yaml:13:1: error: source: unknown key \"source\"; did you mean \"sources\"?" "$work/err" \
	|| fail "unknown key diagnostic"
grep -qx "$work/bad.yaml:2:1: error: missing required key \"sources\"" "$work/err" || fail "missing key diagnostic"
grep -q "^$work/bad.yaml:21:18: error: purposes\[0\].categories\[0\]: unknown category \"contcat\"; did you mean \"contact\"?\$" \
	"$work/err" || fail "reference diagnostic"
grep -q "^$work/bad.yaml:23:14: error: purposes\[0\].consent: invalid value \"notice_onyl\"; did you mean \"notice_only\"? expected one of: opt_in, opt_out, notice_only\$" \
	"$work/err" || fail "enum diagnostic"
grep -q "source" "$work/out" && fail "diagnostics went to stdout"

# valid and invalid together: 1, the valid one still says ok
expect 1 "$PRIVAULT" policy check "$minimal" "$work/bad.yaml"
grep -q "^$minimal: ok" "$work/out" || fail "ok line next to an invalid file"

# unreadable file: 2, even next to an invalid one
expect 2 "$PRIVAULT" policy check "$work/missing.yaml"
grep -q "^$work/missing.yaml:0:0: error: cannot open the file" "$work/err" || fail "unreadable file diagnostic"
expect 2 "$PRIVAULT" policy check "$work/bad.yaml" "$work/missing.yaml"

# usage errors: 2
expect 2 "$PRIVAULT" policy check
expect 2 "$PRIVAULT" policy frobnicate
expect 2 "$PRIVAULT" policy show
expect 2 "$PRIVAULT" policy schema extra
expect 0 "$PRIVAULT" policy check --help
grep -q "exit codes" "$work/out" || fail "help text"

# anchors and aliases are refused
printf 'privault: 1\ntitle: &a x\nurl: *a\n' >"$work/alias.yaml"
expect 1 "$PRIVAULT" policy check "$work/alias.yaml"
grep -q "aliases are not allowed" "$work/err" || fail "alias diagnostic"

# show: the normalized model with defaults filled in
expect 0 "$PRIVAULT" policy show "$minimal"
if command -v jq >/dev/null; then
	[ "$(jq -r .hash "$work/out")" = "$hash_min" ] || fail "show: hash"
	[ "$(jq -r .rights.gdpr.deadline "$work/out")" = "1 month" ] || fail "show: GDPR deadline default"
	[ "$(jq -r .rights.gdpr.extension "$work/out")" = "2 months" ] || fail "show: GDPR extension default"
	[ "$(jq -r .regimes.gdpr.consent_age "$work/out")" = "16" ] || fail "show: GDPR consent age default"
	[ "$(jq -r '.purposes[0].lawful_basis.gdpr' "$work/out")" = "contract" ] || fail "show: lawful basis"
	[ "$(jq -r '.categories[0].collected' "$work/out")" = "true" ] || fail "show: collected default"
	expect 0 "$PRIVAULT" policy show "$full"
	[ "$(jq -r .rights.ccpa.quota.access.max "$work/out")" = "2" ] || fail "show: CCPA quota"
	[ "$(jq -r '.retention.rules[0].action' "$work/out")" = "anonymize" ] || fail "show: rule action"
	[ "$(jq -r '.cookies[0].lifetime' "$work/out")" = "session" ] || fail "show: cookie lifetime"
else
	grep -q "\"hash\": \"$hash_min\"" "$work/out" || fail "show: hash"
fi
expect 1 "$PRIVAULT" policy show "$work/bad.yaml"
[ ! -s "$work/out" ] || fail "show printed a model for an invalid policy"

# schema: the committed file is the generated one
expect 0 "$PRIVAULT" policy schema
cmp -s "$work/out" "$SRCDIR/schema/privault-policy.schema.json" \
	|| fail "schema/privault-policy.schema.json is stale; regenerate with: privault policy schema > schema/privault-policy.schema.json"

echo "policy_check: ok"
