#!/usr/bin/env bash
# Runs the examples of docs/consent.md sections whose "## " title matches the
# extended regular expression PATTERN: every "$ " line of their console blocks,
# in order, as one bash session in a scratch directory (so variables and the
# vault carry over from one example to the next), with `privault` on the PATH;
# each line's output is compared with the lines under it, up to the next "$ "
# or the end of the block.
#   docs_examples.sh NAME PATTERN [MIN]   (MIN: fewest examples expected, default 1)
# DOCS_WORKDIR: the directory to run them in, kept afterwards (default: a scratch one).
# Used by the consent suite (signal codecs) and tests/cli/consent_ledger.sh (the ledger).
set -euo pipefail
: "${PRIVAULT:?PRIVAULT must name the privault binary}"
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
name=$1 pattern=$2 min=${3:-1}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/bin"
ln -s "$PRIVAULT" "$T/bin/privault"
export PATH="$T/bin:$PATH" SRCDIR=$SRC
unset PRIVAULT_STORE PRIVAULT_KEYS

awk -v pat="$pattern" '/^## /{ on = (substr($0, 4) ~ pat) } on' "$SRC/docs/consent.md" > "$T/doc"
script="$T/script.sh"
: > "$script"
: > "$T/want"
n=0 inblock=0
while IFS= read -r line; do
	if [ "$line" = '```console' ]; then inblock=1; continue; fi
	if [ $inblock = 1 ] && [ "$line" = '```' ]; then inblock=0; continue; fi
	[ $inblock = 1 ] || continue
	if [ "${line:0:2}" = '$ ' ]; then
		n=$((n + 1))
		printf 'echo "@@ example %d"\n%s 2>&1 || true\n' "$n" "${line:2}" >> "$script"
		printf '@@ example %d\n' "$n" >> "$T/want"
	else
		printf '%s\n' "$line" >> "$T/want"
	fi
done < "$T/doc"
[ $n -ge "$min" ] || { echo "$name: $n examples found, expected at least $min" >&2; exit 1; }
(cd "${DOCS_WORKDIR:-$T}" && bash "$script") > "$T/got" 2>&1 || true
if ! diff "$T/got" "$T/want" >&2; then
	echo "$name: docs/consent.md examples differ (< got, > documented)" >&2
	exit 1
fi
echo "$name: $n documented examples"
