#!/usr/bin/env bash
# privault logs anonymize | rotate, through the real binary.
# - the client column is byte-identical to anonip's (Debian package `anonip`)
#   for the same masks, on a generated log of every notation and on edge cases;
# - no line is dropped, added or reordered, and bytes outside addresses are kept;
# - X-Forwarded-For lists, --all, JSON lines, pseudonyms with daily keys;
# - rotation by size and age, gzip, a writer holding the file, retention.
set -euo pipefail
: "${PRIVAULT:?}" "${SRCDIR:?}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pv() { "$PRIVAULT" "$@"; }

if ! command -v anonip >/dev/null; then
	echo "SKIP: anonip is not installed (scripts/deps.sh test)"
	exit 77
fi

# ---- 1. client column == anonip, generated log, every preset and odd masks ----
python3 "$SRCDIR/bench/gen_access_log.py" 20000 --mix test --seed 11 > "$T/t.log"
for m in "12 84" "8 80" "8 64" "16 80" "24 104" "1 1" "32 128" "7 93"; do
	set -- $m
	anonip -4 "$1" -6 "$2" < "$T/t.log" 2>/dev/null | cut -d' ' -f1 > "$T/a.txt"
	pv logs anonymize --quiet --ipv4-bits "$1" --ipv6-bits "$2" "$T/t.log" 2>/dev/null | cut -d' ' -f1 > "$T/b.txt"
	[ "$(wc -l < "$T/a.txt")" = 20000 ] || fail "anonip did not process every line with masks $m"
	cmp -s "$T/a.txt" "$T/b.txt" || { diff "$T/a.txt" "$T/b.txt" | head >&2; fail "client column differs from anonip with masks $m"; }
done
for p in anonip:12:84 ga:8:80 matomo1:8:64 matomo2:16:80 matomo3:24:104; do
	IFS=: read -r name b4 b6 <<< "$p"
	pv logs anonymize --quiet --preset "$name" "$T/t.log" 2>/dev/null | cut -d' ' -f1 > "$T/b.txt"
	anonip -4 "$b4" -6 "$b6" < "$T/t.log" 2>/dev/null | cut -d' ' -f1 > "$T/a.txt"
	cmp -s "$T/a.txt" "$T/b.txt" || fail "preset $name differs from anonip -4 $b4 -6 $b6"
done

# ---- 2. edge cases, one per line (client column only; the rest is "x") -------
cat > "$T/edge.txt" <<'EOF'
1.2.3.4
0.0.0.0
255.255.255.255
1.2.3.4:80
1.2.3.4]
1.2.3.4:80]
user@1.2.3.4
1.2.3.4/32
1.2.3.4/
1.2.3.4?q
1.2.3.4#f
1.2.3.4:11.2.3.45
11.2.3.45
::
::1
1::
::ffff:1.2.3.4
::ffff:102:304
::1.2.3.4
64:ff9b::192.0.2.33
2001:0db8:0000:0000:0000:0000:0000:0001
2001:DB8::1
2001:db8:0:0:1:0:0:1
1:0:0:1:0:0:0:1
fe80::1%eth0
[2001:db8::1]
[2001:db8::1]:443
[2001:db8::1]]
[2001:db8::1]:443]
[::ffff:1.2.3.4]:8080
[fe80::1%eth0]:80
2001:db8::1/128
-
unix:
example.com
01.2.3.4
1.2.3
256.1.1.1
[1.2.3.4]
1.2.3.4.5
::::
1:::2
[zz]:80
[]
x[::1]:3
[::1]x:3
1.2.3.4%x
1:2:3:4:5:6:7:8:9
g::1
EOF
sed 's/$/ x/' "$T/edge.txt" > "$T/edge.log"
for m in "12 84" "8 80" "24 104" "32 128"; do
	set -- $m
	anonip -4 "$1" -6 "$2" < "$T/edge.log" 2>/dev/null > "$T/a.txt"
	pv logs anonymize --quiet --ipv4-bits "$1" --ipv6-bits "$2" < "$T/edge.log" > "$T/b.txt"  2>/dev/null
	cmp -s "$T/a.txt" "$T/b.txt" || { diff "$T/a.txt" "$T/b.txt" >&2; fail "edge cases differ from anonip with masks $m"; }
done
# and a few exact values, so the test does not only trust anonip
pv logs anonymize --quiet < "$T/edge.log" > "$T/b.txt" 2>/dev/null
grep -qx '1.2.0.0:80 x' "$T/b.txt" || fail "port kept"
grep -qx '\[2001:db8::\]:443 x' "$T/b.txt" || fail "brackets and port kept"
grep -qx '2001:db8:: x' "$T/b.txt" || fail "full notation read"
grep -qx '11.2.0.0 x' "$T/b.txt" || fail "11.2.3.45"
grep -qx '01.2.3.4 x' "$T/b.txt" || fail "leading zero: malformed, unchanged"

# ---- 3. lines kept: count, order, bytes outside the addresses --------------------
pv logs anonymize "$T/t.log" > "$T/o.log" 2> "$T/err"
[ "$(wc -l < "$T/o.log")" = "$(wc -l < "$T/t.log")" ] || fail "line count changed"
strip() { sed -E 's/^[^ ]* //; s/ "[^"]*"$//' "$1"; }
cmp -s <(strip "$T/t.log") <(strip "$T/o.log") || fail "bytes outside the client and XFF fields changed"
grep -q '20000 lines' "$T/err" || fail "summary on stderr: $(cat "$T/err")"
printf '1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5\nexample.com - - x\n-  x\n\n\x01\xff\xfe garbage\n[zz] y\n9.9.9.9 last' > "$T/m.log"
pv logs anonymize < "$T/m.log" > "$T/o.log" 2> "$T/err"
printf '1.2.0.0 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5\nexample.com - - x\n-  x\n\n\x01\xff\xfe garbage\n[zz] y\n9.9.0.0 last' > "$T/want"
cmp -s "$T/o.log" "$T/want" || fail "malformed lines not passed through unchanged, or last line changed"
grep -q '7 lines, 2 changed, 4 malformed' "$T/err" || fail "malformed count: $(cat "$T/err")"
# a line longer than the limit (1 MiB) and one of NUL bytes pass through
{ printf '1.2.3.4 '; head -c 3000000 /dev/zero | tr '\0' a; printf '\n5.6.7.8 ok\n'; head -c 1000 /dev/zero; printf '\n'; } > "$T/long.log"
pv logs anonymize --quiet < "$T/long.log" > "$T/o.log" 2>/dev/null
[ "$(head -n 1 "$T/o.log" | cut -c1-8)" = "1.2.3.4 " ] || fail "long line's address was changed, not passed through"
cmp -s <(head -n 1 "$T/o.log") <(head -n 1 "$T/long.log") || fail "long line not passed through unchanged"
[ "$(wc -c < "$T/o.log")" = "$(wc -c < "$T/long.log")" ] || fail "long input changed size"
[ "$(sed -n 2p "$T/o.log")" = "5.6.0.0 ok" ] || fail "line after a long line"

# ---- 4. X-Forwarded-For, --all, JSON lines ----------------------------------------
printf '%s\n' '10.1.2.3 - - [01/Jan/2024:00:00:00 +0000] "GET /?ip=8.8.8.8 HTTP/1.1" 200 5 "-" "curl/8" "203.0.113.9, [2001:db8::7]:443, unknown"' > "$T/x.log"
pv logs anonymize --quiet < "$T/x.log" > "$T/o.log"
[ "$(cat "$T/o.log")" = '10.1.0.0 - - [01/Jan/2024:00:00:00 +0000] "GET /?ip=8.8.8.8 HTTP/1.1" 200 5 "-" "curl/8" "203.0.112.0, [2001:db8::]:443, unknown"' ] || fail "XFF: $(cat "$T/o.log")"
# an address after "unknown" or "-" in a list is masked too
printf '%s\n' '10.1.2.3 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" "1.2.3.4, unknown, 5.6.7.8, -, 9.9.9.9"' > "$T/u.log"
pv logs anonymize --quiet < "$T/u.log" > "$T/o.log"
[ "$(cat "$T/o.log")" = '10.1.0.0 - - [01/Jan/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8" "1.2.0.0, unknown, 5.6.0.0, -, 9.9.0.0"' ] || fail "list after unknown: $(cat "$T/o.log")"
pv logs anonymize --quiet --all < "$T/x.log" > "$T/o.log"
[ "$(cat "$T/o.log")" = '10.1.0.0 - - [01/Jan/2024:00:00:00 +0000] "GET /?ip=8.8.0.0 HTTP/1.1" 200 5 "-" "curl/8" "203.0.112.0, [2001:db8::]:443, unknown"' ] || fail "--all: $(cat "$T/o.log")"
printf '%s\n' '1.2.3.4 "see 11.2.3.45, v1.2.3.4 and 1.2.3.4.5; http://9.9.9.9:8080/x ip:7.7.7.7."' | pv logs anonymize --quiet --all > "$T/o.log"
[ "$(cat "$T/o.log")" = '1.2.0.0 "see 11.2.0.0, v1.2.3.4 and 1.2.3.4.5; http://9.9.0.0:8080/x ip:7.7.0.0."' ] || fail "--all tokens: $(cat "$T/o.log")"
printf '%s\n' '{"time":"2024-01-01T00:00:00Z","remote_addr":"198.51.100.7","request":{"headers":{"X-Forwarded-For":["192.0.2.1, 2001:db8::9"]}},"status":200}' > "$T/j.log"
pv logs anonymize --quiet < "$T/j.log" > "$T/o.log"
[ "$(cat "$T/o.log")" = '{"time":"2024-01-01T00:00:00Z","remote_addr":"198.51.96.0","request":{"headers":{"X-Forwarded-For":["192.0.0.0, 2001:db8::"]}},"status":200}' ] || fail "JSON: $(cat "$T/o.log")"
printf '%s\n' '{"remote_addr":"1.2.3.4",' | pv logs anonymize 2> "$T/err" > "$T/o.log"
[ "$(cat "$T/o.log")" = '{"remote_addr":"1.2.3.4",' ] && grep -q '1 malformed' "$T/err" || fail "broken JSON must pass unchanged"
printf '1.2.3.4 x\n::ffff:1.2.3.4 y\n' | pv logs anonymize --quiet --preset ga --mapped-v4 > "$T/o.log"
[ "$(tr '\n' '|' < "$T/o.log")" = '1.2.3.0 x|::ffff:1.2.3.0 y|' ] || fail "--mapped-v4: $(cat "$T/o.log")"

# ---- 5. pseudonyms: stable within a day, unlinkable after -------------------------
K="$T/keys"
printf '1.2.3.4 a\n1.2.3.4 b\n1.2.3.5 c\n' > "$T/p.log"
PRIVAULT_NOW=2024-03-01T10:00:00Z pv logs anonymize --quiet --pseudonymize "$K" < "$T/p.log" > "$T/p1"
PRIVAULT_NOW=2024-03-01T23:00:00Z pv logs anonymize --quiet --pseudonymize "$K" < "$T/p.log" > "$T/p2"
[ -f "$K/2024-03-01.key" ] || fail "no key file for the day"
[ "$(stat -c %a "$K/2024-03-01.key")" = 600 ] || fail "key file mode"
cmp -s "$T/p1" "$T/p2" || fail "pseudonyms differ within a day"
a1=$(sed -n 1p "$T/p1" | cut -d' ' -f1); b1=$(sed -n 2p "$T/p1" | cut -d' ' -f1); c1=$(sed -n 3p "$T/p1" | cut -d' ' -f1)
[ "$a1" = "$b1" ] || fail "same address, two pseudonyms"
case "$a1" in 1.2.*) ;; *) fail "pseudonym keeps the prefix: $a1";; esac
[ "$a1" != 1.2.3.4 ] || fail "pseudonym is the address"
PRIVAULT_NOW=2024-03-02T00:00:01Z pv logs anonymize --quiet --pseudonymize "$K" < "$T/p.log" > "$T/p3"
[ ! -e "$K/2024-03-01.key" ] || fail "yesterday's key not destroyed"
[ -f "$K/2024-03-02.key" ] || fail "no key for the new day"
cmp -s "$T/p1" "$T/p3" && fail "pseudonyms linkable across days"
[ -n "$c1" ]

# ---- 6. rotation --------------------------------------------------------------------
L="$T/r/access.log"; mkdir -p "$T/r"
export PRIVAULT_NOW=2024-05-01T00:00:00Z
exec 3>>"$L"     # a writer holding the file, like nginx
printf 'line1\nline2\n' >&3
pv logs rotate "$L" --max-size 100 > "$T/out"
grep -q 'not rotated' "$T/out" || fail "rotated below the size: $(cat "$T/out")"
head -c 200 /dev/zero | tr '\0' x >&3; echo >&3
pv logs rotate "$L" --max-size 100 --no-compress > "$T/out"
grep -q 'rotated (size)' "$T/out" || fail "not rotated by size: $(cat "$T/out")"
[ ! -s "$L" ] || fail "log not truncated"
r1=$(ls "$T/r" | grep '^access.log\.2')
[ "$(head -1 "$T/r/$r1")" = line1 ] || fail "rotated copy"
echo after >&3
[ "$(cat "$L")" = after ] || fail "the writer's next line must land at the start of the truncated log"
export PRIVAULT_NOW=2024-05-02T00:00:01Z
pv logs rotate "$L" --max-age "1 day" > "$T/out"
grep -q 'rotated (age)' "$T/out" || fail "not rotated by age: $(cat "$T/out")"
ls "$T/r" | grep -q '^access.log\.20240501T000000Z-1\.gz$\|^access.log\.20240501T000000Z\.gz$' || fail "no gzip: $(ls "$T/r")"
gz=$(ls "$T/r" | grep '\.gz$' | head -1)
[ "$(gzip -dc "$T/r/$gz")" = after ] || fail "gzip content"
exec 3>&-
# retention from the Rockstor policy (14 days): everything older goes
export PRIVAULT_NOW=2024-05-30T00:00:00Z
pv logs rotate "$L" --policy "$SRCDIR/examples/policies/rockstor-2021.yaml" --dry-run > "$T/out"
grep -q 'dry run' "$T/out" && [ "$(ls "$T/r" | grep -c '^access.log\.2')" = 2 ] || fail "dry run deleted: $(cat "$T/out")"
pv logs rotate "$L" --policy "$SRCDIR/examples/policies/rockstor-2021.yaml" > "$T/out"
grep -q '2 rotated file(s) deleted past retention' "$T/out" || fail "retention: $(cat "$T/out")"
[ "$(ls "$T/r" | grep -c '^access.log\.2')" = 0 ] || fail "rotated files left past retention"
# rename mode with a postrotate command
printf 'x\n' > "$L"
pv logs rotate "$L" --max-size 1 --rename --postrotate "touch $T/reopened" --no-compress > /dev/null
[ -f "$T/reopened" ] && [ -f "$L" ] && [ ! -s "$L" ] || fail "rename mode"
pv logs rotate "$L" --rename 2>/dev/null && fail "rotate without a rule must be a usage error"
echo "logs: ok"
