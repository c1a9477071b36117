#!/usr/bin/env bash
# Run the whole test suite: the normal build, then (unless PRIVAULT_FAST=1) the
# same suite under AddressSanitizer + UndefinedBehaviorSanitizer. Ends with one
# summary line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
failed_names=()

# run_suite BUILDDIR LABEL [meson setup options...]
run_suite() {
	local dir=$1 label=$2
	shift 2
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@" >/dev/null || { echo "$label: meson setup failed"; failed=$((failed + 1)); failed_names+=("$label:setup"); return; }
	fi
	if ! ninja -C "$dir" >"$dir.ninja.log" 2>&1; then
		cat "$dir.ninja.log"
		echo "$label: build failed"
		failed=$((failed + 1)); failed_names+=("$label:build")
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 >"$dir.test.log" 2>&1
	cat "$dir.test.log" | grep -E '^ *[0-9]+/[0-9]+ ' || true
	local log="$dir/meson-logs/testlog.json"
	local p f
	p=$(jq -s '[.[] | select(.result == "OK" or .result == "EXPECTEDFAIL")] | length' "$log")
	f=$(jq -s '[.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP")] | length' "$log")
	passed=$((passed + p)); failed=$((failed + f))
	while IFS= read -r n; do
		[ -n "$n" ] && failed_names+=("$label:$n")
	done < <(jq -r -s '.[] | select(.result != "OK" and .result != "EXPECTEDFAIL" and .result != "SKIP") | .name' "$log")
	if [ "$f" -gt 0 ]; then
		echo "---- $label: failure logs"
		grep -v -E '^ *[0-9]+/[0-9]+ .* OK ' "$dir.test.log" | tail -200
	fi
}

run_suite build "release" --buildtype=debugoptimized
if [ "${PRIVAULT_FAST:-0}" != 1 ]; then
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	run_suite build-asan "asan+ubsan" -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false --buildtype=debug
fi

for n in "${failed_names[@]}"; do echo "FAILED: $n"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
