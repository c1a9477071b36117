#!/usr/bin/env bash
# TCF oracle test: privault's TC string codec against the IAB's reference
# library @iabtechlabtcf/core under node, field by field:
#   1. the published strings of tcf_vectors.txt: both decoders accept the
#      "ok" ones with equal fields, both reject the "error" ones;
#   2. N generated models (TCF_ORACLE_N, default 3000): our encode then their
#      decode, their encode then our decode, and our encoding byte for byte
#      equal to theirs (the bitfield / range choice included).
# Needs node and npm (scripts/deps.sh test); the library is installed into
# $BUILDDIR/oracle. Without node, npm or the registry: exit 77 (skip), or
# fail when CI=true.
set -euo pipefail
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILDDIR:-$SRC/build}
BATCH=${TCF_BATCH:-$BUILD/tests/consent/tcf_batch}
N=${TCF_ORACLE_N:-3000}
PKG=@iabtechlabtcf/core
VER=1.5.21
ORACLE=$BUILD/oracle
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

source "$SRC/scripts/npm_package.sh"
pv_npm_package tcf_oracle "$ORACLE" "$PKG" "$VER"
node_oracle() { node "$SRC/tests/consent/tcf_oracle.cjs" "$@"; }
fail=0

# 1. published strings
grep -v '^#' "$SRC/tests/consent/tcf_vectors.txt" | grep -v '^$' > "$T/vectors"
cut -d' ' -f2 "$T/vectors" > "$T/strings"
node_oracle decode < "$T/strings" > "$T/theirs.jsonl"
"$BATCH" decode < "$T/strings" > "$T/ours.jsonl"
i=0
while read -r kind str; do
	i=$((i + 1))
	theirs=$(sed -n "${i}p" "$T/theirs.jsonl")
	ours=$(sed -n "${i}p" "$T/ours.jsonl")
	case $kind in
	ok)
		printf '%s\n' "$theirs" > "$T/a"; printf '%s\n' "$ours" > "$T/b"
		if ! node_oracle compare "$T/a" "$T/b"; then
			echo "tcf_oracle: vector $i: fields differ" >&2; fail=1
		fi ;;
	error)
		case $theirs in '{"error"'*) ;; *) echo "tcf_oracle: vector $i: the reference accepts it" >&2; fail=1 ;; esac
		case $ours in '{"error"'*) ;; *) echo "tcf_oracle: vector $i: privault accepts it" >&2; fail=1 ;; esac ;;
	v1)
		case $ours in *'version at bit 0: expected 2'*) ;; *) echo "tcf_oracle: vector $i: v1 not rejected by version" >&2; fail=1 ;; esac
		case $theirs in *'"version":1'*) ;; *) echo "tcf_oracle: vector $i: the reference no longer reads v1" >&2; fail=1 ;; esac ;;
	esac
	case $ours in *"$str"*) echo "tcf_oracle: vector $i: the message echoes the string" >&2; fail=1 ;; esac
done < "$T/vectors"
echo "tcf_oracle: $i published strings checked"

# 2. generated models, both directions
node_oracle gen "$N" "${TCF_ORACLE_SEED:-20240605}" > "$T/models.jsonl"
"$BATCH" encode < "$T/models.jsonl" > "$T/ours.txt"
node_oracle encode < "$T/models.jsonl" > "$T/theirs.txt"
node_oracle decode < "$T/ours.txt" > "$T/their_decode.jsonl"
node_oracle compare "$T/models.jsonl" "$T/their_decode.jsonl" || { echo "tcf_oracle: our encode, their decode: differ" >&2; fail=1; }
"$BATCH" decode < "$T/theirs.txt" > "$T/our_decode.jsonl"
node_oracle compare "$T/models.jsonl" "$T/our_decode.jsonl" || { echo "tcf_oracle: their encode, our decode: differ" >&2; fail=1; }
if ! cmp -s "$T/ours.txt" "$T/theirs.txt"; then
	echo "tcf_oracle: encodings differ on $(diff "$T/ours.txt" "$T/theirs.txt" | grep -c '^<') of $N strings" >&2
	fail=1
fi
ranges=$(node -e '
const B="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
let n=0; for (const l of require("fs").readFileSync(process.argv[1],"utf8").split("\n")) { if (!l) continue;
const s=l.split(".")[0]; let b=""; for (const c of s) b+=B.indexOf(c).toString(2).padStart(6,"0");
if (b[229+16]==="1") n++; } console.log(n)' "$T/ours.txt")
echo "tcf_oracle: $N generated strings: both directions equal, encodings identical ($ranges with range-encoded vendor consents)"
exit $fail
