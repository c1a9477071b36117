#!/usr/bin/env bash
# Runs the examples of docs/consent.md's "Signals: US Privacy" and "Signals: GPP" sections: each "$ "
# line of a console block is run with bash (privault = $PRIVAULT) and its
# output compared with the lines that follow it, up to the next "$ " or the
# end of the block.
set -euo pipefail
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${PRIVAULT:?set PRIVAULT to the privault binary}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
awk '/^## /{ on = ($0 == "## Signals: US Privacy" || $0 == "## Signals: GPP") } on' "$SRC/docs/consent.md" > "$T/section"
n=0 fail=0 inblock=0 cmd=
run() {
	[ -n "$cmd" ] || return 0
	n=$((n + 1))
	got=$(cd "$T" && PRIVAULT="$PRIVAULT" bash -c "privault() { \"\$PRIVAULT\" \"\$@\"; }; $cmd" 2>&1 || true)
	if [ "$got" != "$(cat "$T/want")" ]; then
		echo "docs_gpp: example $n differs: $cmd" >&2
		diff <(printf '%s\n' "$got") "$T/want" >&2 || true
		fail=1
	fi
	cmd=
}
while IFS= read -r line; do
	if [ "$line" = '```console' ]; then inblock=1; continue; fi
	if [ $inblock = 1 ] && [ "$line" = '```' ]; then run; inblock=0; continue; fi
	[ $inblock = 1 ] || continue
	if [ "${line:0:2}" = '$ ' ]; then
		run
		cmd=${line:2}
		: > "$T/want"
	else
		printf '%s\n' "$line" >> "$T/want"
	fi
done < "$T/section"
[ $n -gt 0 ] || { echo "docs_gpp: no examples found" >&2; exit 1; }
echo "docs_gpp: $n examples"
exit $fail
