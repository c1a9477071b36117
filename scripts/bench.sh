#!/usr/bin/env bash
# Run the benchmarks (bench/*.c) and print their tables and BENCH lines.
#
#   scripts/bench.sh            full run: ingest 10k, 100k, 1M; 2000 reads; 2M decisions (~5-10 min on 2 cores)
#   scripts/bench.sh --quick    smaller: ingest 10k, 100k; 500 reads; 500k decisions (~1 min)
#
# Assumes `make build` ran (binaries in build/bench/); BUILD_DIR overrides the
# build directory. Scratch vaults go to $PRIVAULT_BENCH_DIR (default: $TMPDIR
# or /tmp): point it at the disk you want measured, fsync cost depends on it.
# Every vault figure is a ratio against plaintext SQLite (or the pure decision)
# measured in the same process; see docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
quick=0
for a in "$@"; do
	case $a in
	--quick) quick=1 ;;
	-h|--help) sed -n '2,11p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown argument $a (try --quick)" >&2; exit 2 ;;
	esac
done

for b in bench_ingest bench_read bench_decide; do
	if [ ! -x "$build/bench/$b" ]; then
		echo "bench.sh: $build/bench/$b missing: run 'make build' (or set BUILD_DIR)" >&2
		exit 1
	fi
done
ninja -C "$build" bench/bench_ingest bench/bench_read bench/bench_decide >/dev/null

if [ "$quick" = 1 ]; then
	ingest=(10k 100k); reads=500; decisions=500k; vdecisions=1000
else
	ingest=(10k 100k 1m); reads=2000; decisions=2m; vdecisions=2000
fi

echo "== privault benchmarks ($( [ "$quick" = 1 ] && echo quick || echo full ))"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "scratch: ${PRIVAULT_BENCH_DIR:-${TMPDIR:-/tmp}} ($(df -PT "${PRIVAULT_BENCH_DIR:-${TMPDIR:-/tmp}}" | awk 'NR==2 {print $2}'))"
echo "load:    $(cut -d" " -f1-3 /proc/loadavg) (1/5/15 min) at start"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)  build: $build ($(meson introspect "$build" --buildoptions 2>/dev/null | jq -r '.[] | select(.name=="buildtype") | .value' 2>/dev/null || echo ?))"
echo

start=$(date +%s)
"$build/bench/bench_decide" --decisions "$decisions" --vault-decisions "$vdecisions"
echo
"$build/bench/bench_read" --reads "$reads" --background 10k
echo
"$build/bench/bench_ingest" "${ingest[@]}"
echo
echo "total: $(( $(date +%s) - start )) s"
