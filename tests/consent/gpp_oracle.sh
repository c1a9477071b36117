#!/usr/bin/env bash
# GPP oracle test: privault's US Privacy / GPP codecs against the IAB's
# reference library @iabgpp/cmpapi under node, field by field:
#   1. the strings of gpp_vectors.txt: both decoders accept the "ok" ones
#      with equal fields, both reject the "error" ones, and no privault
#      message echoes the string;
#   2. N generated models (GPP_ORACLE_N, default 3000) with uspv1 and usnat
#      (versions 1 and 2, with and without the GPC sub-section): their encode
#      then our decode, our encode then their decode, both encodings equal;
#   3. N generated section id lists: headers (Fibonacci ranges) encoded
#      byte for byte alike and decoded alike both ways.
# Needs node and npm (scripts/deps.sh test); the library is installed into
# $BUILDDIR/oracle. Without node, npm or the registry: exit 77 (skip), or
# fail when CI=true.
set -euo pipefail
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILDDIR:-$SRC/build}
BATCH=${GPP_BATCH:-$BUILD/tests/consent/gpp_batch}
N=${GPP_ORACLE_N:-3000}
SEED=${GPP_ORACLE_SEED:-20250301}
PKG=@iabgpp/cmpapi
VER=3.2.0
ORACLE=$BUILD/oracle
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

source "$SRC/scripts/npm_package.sh"
pv_npm_package gpp_oracle "$ORACLE" "$PKG" "$VER"
oracle() { node "$SRC/tests/consent/gpp_oracle.cjs" "$@"; }
fail=0

# 1. published and hand-made strings
grep -v '^#' "$SRC/tests/consent/gpp_vectors.txt" | grep -v '^$' > "$T/vectors"
cut -d' ' -f2 "$T/vectors" > "$T/strings"
oracle decode < "$T/strings" > "$T/theirs.jsonl"
"$BATCH" decode < "$T/strings" > "$T/ours.jsonl"
i=0
while read -r kind str; do
	i=$((i + 1))
	theirs=$(sed -n "${i}p" "$T/theirs.jsonl")
	ours=$(sed -n "${i}p" "$T/ours.jsonl")
	case $kind in
	ok)
		printf '%s\n' "$theirs" > "$T/a"; printf '%s\n' "$ours" > "$T/b"
		oracle compare "$T/a" "$T/b" || { echo "gpp_oracle: vector $i: fields differ" >&2; fail=1; } ;;
	error)
		case $theirs in '{"error"'*) ;; *) echo "gpp_oracle: vector $i: the reference accepts it" >&2; fail=1 ;; esac
		case $ours in '{"error"'*) ;; *) echo "gpp_oracle: vector $i: privault accepts it" >&2; fail=1 ;; esac
		case $ours in *"$str"*) echo "gpp_oracle: vector $i: the message echoes the string" >&2; fail=1 ;; esac ;;
	esac
done < "$T/vectors"
echo "gpp_oracle: $i strings of gpp_vectors.txt checked"

# 2. generated models, both directions
oracle gen "$N" "$SEED" > "$T/models.jsonl"
oracle encode < "$T/models.jsonl" > "$T/theirs.txt"
"$BATCH" encode < "$T/models.jsonl" > "$T/ours.txt"
"$BATCH" decode < "$T/theirs.txt" > "$T/our_decode.jsonl"
oracle compare "$T/models.jsonl" "$T/our_decode.jsonl" || { echo "gpp_oracle: their encode, our decode: differ" >&2; fail=1; }
oracle decode < "$T/ours.txt" > "$T/their_decode.jsonl"
oracle compare "$T/models.jsonl" "$T/their_decode.jsonl" || { echo "gpp_oracle: our encode, their decode: differ" >&2; fail=1; }
if ! cmp -s "$T/ours.txt" "$T/theirs.txt"; then
	echo "gpp_oracle: encodings differ on $(diff "$T/ours.txt" "$T/theirs.txt" | grep -c '^<') of $N strings" >&2
	fail=1
fi
v1=$(grep -c '"version":1,"sharing' "$T/models.jsonl" || true)
gpc=$(grep -c '"gpc_segment_included":true' "$T/models.jsonl" || true)
echo "gpp_oracle: $N generated strings equal both ways ($v1 usnat version 1, $gpc with a GPC sub-section)"

# 3. headers: section id lists with Fibonacci ranges
oracle headers "$N" "$SEED" > "$T/ids.jsonl"
oracle header-encode < "$T/ids.jsonl" > "$T/h_theirs.txt"
"$BATCH" header-encode < "$T/ids.jsonl" > "$T/h_ours.txt"
cmp -s "$T/h_ours.txt" "$T/h_theirs.txt" || { echo "gpp_oracle: header encodings differ" >&2; fail=1; }
"$BATCH" header-decode < "$T/h_theirs.txt" > "$T/h_our_decode.jsonl"
cmp -s "$T/ids.jsonl" "$T/h_our_decode.jsonl" || { echo "gpp_oracle: their header, our decode: differ" >&2; diff "$T/ids.jsonl" "$T/h_our_decode.jsonl" | head -5 >&2; fail=1; }
oracle header-decode < "$T/h_ours.txt" > "$T/h_their_decode.jsonl"
cmp -s "$T/ids.jsonl" "$T/h_their_decode.jsonl" || { echo "gpp_oracle: our header, their decode: differ" >&2; fail=1; }
echo "gpp_oracle: $N section id lists: headers equal both ways"
exit $fail
