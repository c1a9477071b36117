#!/usr/bin/env bash
# `privault scrub`: placeholders on stdin and FILE, --types, --json (keys kept,
# valid JSON, malformed lines scrubbed as text and counted), --pseudonymize
# with a --key-file (stable, key-dependent, 0600 enforced) and with the vault's
# keys, --stats, usage errors and exit codes; a 1 MiB line without newline;
# output flushed line by line on a pipe.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
unset PRIVAULT_KEYS

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
	local want=$1; shift
	set +e
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	set -e
	[ "$got" -eq "$want" ] || { cat "$T/out" "$T/err" >&2; fail "$* exited $got, expected $want"; }
}

cat >"$T/ticket.txt" <<'EOF'
From: jane.doe@example.com, phone (415) 555-0199, IP 203.0.113.7
card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, [2001:db8::1]:443
order #4111111111111111 version 1.2.3.4 at 12:30:45 uuid 123e4567-e89b-12d3-a456-426614174000
EOF
cat >"$T/want.txt" <<'EOF'
From: [EMAIL], phone [PHONE], IP [IPV4]
card [CARD], IBAN [IBAN], SSN [SSN], [[IPV6]]:443
order #4111111111111111 version 1.2.3.4 at 12:30:45 uuid 123e4567-e89b-12d3-a456-426614174000
EOF

# FILE and stdin give the same, exact output
expect 0 "$PRIVAULT" scrub "$T/ticket.txt"
cmp "$T/out" "$T/want.txt" || fail "scrub FILE output: $(cat "$T/out")"
[ ! -s "$T/err" ] || fail "stderr not empty: $(cat "$T/err")"
"$PRIVAULT" scrub <"$T/ticket.txt" >"$T/out2"
cmp "$T/out2" "$T/want.txt" || fail "scrub stdin output"
"$PRIVAULT" scrub - <"$T/ticket.txt" | cmp - "$T/want.txt" || fail "scrub - output"

# --types and --stats
expect 0 "$PRIVAULT" scrub --types ipv4,ssn --stats "$T/ticket.txt"
grep -q "^From: jane.doe@example.com, phone (415) 555-0199, IP \[IPV4\]$" "$T/out" || fail "--types: $(cat "$T/out")"
grep -q "SSN \[SSN\]" "$T/out" || fail "--types ssn"
grep -q "^ipv4: 1$" "$T/err" && grep -q "^ssn: 1$" "$T/err" && grep -q "^email: 0$" "$T/err" && grep -q "^lines: 3$" "$T/err" \
	|| fail "--stats: $(cat "$T/err")"

# usage errors (exit 2): unknown type (named by position, the list not echoed), --key-file alone, two files
expect 2 "$PRIVAULT" scrub --types email,passport "$T/ticket.txt"
grep -q "entry 2" "$T/err" || fail "unknown type message: $(cat "$T/err")"
expect 2 "$PRIVAULT" scrub --key-file "$T/k" "$T/ticket.txt"
expect 2 "$PRIVAULT" scrub "$T/ticket.txt" "$T/ticket.txt"
expect 1 "$PRIVAULT" scrub "$T/missing.txt"
expect 0 "$PRIVAULT" scrub --help
grep -q "usage: privault scrub" "$T/out" || fail "--help"

# JSON lines: values scrubbed, keys kept, valid JSON; a malformed line is scrubbed as text and counted
printf '%s\n' '{"user": "joe@example.com", "joe@example.com": {"ip": "10.0.0.1", "n": 1.50}, "tags": ["+44 20 7946 0958", true]}' \
	'this is not json joe@example.com' '' '{"note": "mail jane\u0040example.org"}' >"$T/events.jsonl"
expect 0 "$PRIVAULT" scrub --json "$T/events.jsonl"
grep -q "1 lines were not JSON and were scrubbed as text" "$T/err" || fail "malformed count: $(cat "$T/err")"
python3 - "$T/out" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[0] == '{"user": "[EMAIL]", "joe@example.com": {"ip": "[IPV4]", "n": 1.50}, "tags": ["[PHONE]", true]}', lines[0]
json.loads(lines[0])
assert lines[1] == "this is not json [EMAIL]", lines[1]
assert lines[2] == "", lines[2]
assert json.loads(lines[3]) == {"note": "mail [EMAIL]"}, lines[3]
assert lines[4] == "" and len(lines) == 5, lines
EOF

# pseudonyms with a key file: 0600 enforced, stable, normalized, key-dependent, key never printed
KEY=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
printf 'scrub %s\n' "$KEY" >"$T/scrub.key"
chmod 644 "$T/scrub.key"
expect 1 "$PRIVAULT" scrub --pseudonymize --key-file "$T/scrub.key" "$T/ticket.txt"
grep -q "chmod 600" "$T/err" || fail "open key file message: $(cat "$T/err")"
grep -q "$KEY" "$T/err" && fail "key material in a message"
chmod 600 "$T/scrub.key"
printf 'Joe@Example.com 10.0.0.1\njoe@example.com ::ffff:10.0.0.1\n' >"$T/p.txt"
expect 0 "$PRIVAULT" scrub --pseudonymize --key-file "$T/scrub.key" "$T/p.txt"
cp "$T/out" "$T/p1"
grep -Eq '^\[EMAIL:[0-9a-f]{12}\] \[IPV4:[0-9a-f]{12}\]$' <(head -1 "$T/p1") || fail "pseudonym shape: $(cat "$T/p1")"
e1=$(sed -n '1s/^\[EMAIL:\([0-9a-f]*\)\] \[IPV4:\([0-9a-f]*\)\]$/\1 \2/p' "$T/p1")
e2=$(sed -n '2s/^\[EMAIL:\([0-9a-f]*\)\] \[IPV6:\([0-9a-f]*\)\]$/\1 \2/p' "$T/p1")
[ -n "$e1" ] && [ "$e1" = "$e2" ] || fail "pseudonyms not normalized: $(cat "$T/p1")"
"$PRIVAULT" scrub --pseudonymize --key-file "$T/scrub.key" "$T/p.txt" | cmp - "$T/p1" || fail "pseudonyms not stable"
printf 'scrub %s\n' "ff${KEY:2}" >"$T/other.key"
chmod 600 "$T/other.key"
"$PRIVAULT" scrub --pseudonymize --key-file "$T/other.key" "$T/p.txt" >"$T/p2"
grep -q "${e1%% *}" "$T/p2" && fail "another key gave the same pseudonym"

# pseudonyms from the vault's keys: no vault -> error; with a vault -> stable and not the key file's
expect 1 "$PRIVAULT" scrub --pseudonymize "$T/p.txt"
"$PRIVAULT" init --policy "$SRCDIR/examples/policies/ixsystems-2020.yaml" >/dev/null
expect 0 "$PRIVAULT" scrub --pseudonymize "$T/p.txt"
cp "$T/out" "$T/v1"
grep -Eq '^\[EMAIL:[0-9a-f]{12}\]' "$T/v1" || fail "vault pseudonyms: $(cat "$T/v1")"
"$PRIVAULT" scrub --pseudonymize "$T/p.txt" | cmp - "$T/v1" || fail "vault pseudonyms not stable"
cmp -s "$T/v1" "$T/p1" && fail "vault key and key file gave the same pseudonyms"

# a 1 MiB line without a newline, values everywhere: nothing left, length as expected
python3 - "$T/long.txt" <<'EOF'
import sys
open(sys.argv[1], "w").write(" ".join(["joe@example.com 10.0.0.1 xxxxxxxx"] * 32000))
EOF
"$PRIVAULT" scrub "$T/long.txt" >"$T/long.out"
grep -q "example.com\|10\.0\.0\.1" "$T/long.out" && fail "values left in the long line"
[ "$(grep -o '\[EMAIL\]' "$T/long.out" | wc -l)" -eq 32000 ] || fail "long line: emails replaced"
[ "$(wc -l <"$T/long.out")" -eq 0 ] || fail "long line: a newline was added"

# line by line on a pipe: the first line comes out before the input ends
mkfifo "$T/fifo"
( printf 'first 10.0.0.1\n'; sleep 5; printf 'second\n' ) >"$T/fifo" &
writer=$!
"$PRIVAULT" scrub <"$T/fifo" >"$T/piped" &
reader=$!
for _ in $(seq 1 40); do
	grep -q "first \[IPV4\]" "$T/piped" 2>/dev/null && break
	sleep 0.1
done
grep -q "first \[IPV4\]" "$T/piped" || fail "first line not flushed while the input is open"
grep -q second "$T/piped" && fail "read ahead of the writer?"
wait "$writer" "$reader"
grep -q "^second$" "$T/piped" || fail "second line"

echo "scrub CLI ok"
