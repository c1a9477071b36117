#!/usr/bin/env bash
# Access-log anonymizer benchmark: one generated combined log (with a trailing
# X-Forwarded-For field), the same file for every tool, output to a file in the
# same scratch directory, in one script:
#   cat                       the floor: read and write the bytes
#   privault logs anonymize   anonip masks (12/84 bits), client + X-Forwarded-For
#   ipv6loganon (ipv6calc)    zeroize with the same masks (keeps 20/44 bits), client only
#   anonip                    its defaults (12/84 bits), client only
# Each fast side runs REPS times (best wall time kept; the VM is noisy); anonip,
# which takes a minute for 1M lines, runs once. Goals (issue 7): privault at
# least 5x ipv6loganon, at least 100x anonip, within 3x of cat.
#
# usage: bench/bench_logs.sh [LINES] (default 1000000)
#   env: PRIVAULT (default build/cmd/privault/privault), BENCH_DIR (default a
#   fresh mktemp -d), REPS (default 7), SKIP_ANONIP=1 to leave anonip out.
# The load average is printed before and after: on a shared machine, compare
# ratios of runs made at a similar load, and repeat.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-1000000}
PRIVAULT=${PRIVAULT:-$SRC/build/cmd/privault/privault}
REPS=${REPS:-7}
D=${BENCH_DIR:-$(mktemp -d)}
[ -x "$PRIVAULT" ] || { echo "bench_logs: no privault binary at $PRIVAULT" >&2; exit 1; }
for t in ipv6loganon anonip python3; do
	command -v "$t" >/dev/null || { echo "bench_logs: $t missing (scripts/deps.sh test)" >&2; exit 1; }
done

LOG="$D/access.log"
if [ ! -s "$LOG" ] || [ "$(wc -l < "$LOG")" != "$N" ]; then
	python3 "$SRC/bench/gen_access_log.py" "$N" > "$LOG"
fi
bytes=$(wc -c < "$LOG")
cat "$LOG" > /dev/null   # page cache warm for everyone

# best wall time in seconds of REPS runs of "$@" < LOG > OUT
best() {
	local reps=$1 b= s e t; shift
	for _ in $(seq "$reps"); do
		rm -f "$D/out"
		s=$(date +%s.%N)
		"$@" < "$LOG" > "$D/out" 2>/dev/null
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	printf '%.3f' "$b"
}

echo "== access-log anonymizer: $N lines, $bytes bytes, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
t_cat=$(best "$REPS" cat)
t_pv=$(best "$REPS" "$PRIVAULT" logs anonymize --quiet)
sed -n '1,3s/ .*//p' "$D/out" | sed 's/^/  privault sample: /'
t_v6=$(best "$REPS" ipv6loganon --anonymize-method zeroize --mask-ipv4 20 --mask-ipv6 44)
if [ "${SKIP_ANONIP:-0}" = 1 ]; then
	t_an=
else
	t_an=$(best 1 anonip)
fi
rate() { echo "$N / $1" | bc -l | xargs printf '%.0f'; }
ratio() { echo "$1 / $2" | bc -l | xargs printf '%.1f'; }
printf '%-34s %9s %14s\n' tool seconds lines/s
printf '%-34s %9s %14s\n' cat "$t_cat" "$(rate "$t_cat")"
printf '%-34s %9s %14s\n' "privault logs anonymize" "$t_pv" "$(rate "$t_pv")"
printf '%-34s %9s %14s\n' "ipv6loganon (zeroize 20/44)" "$t_v6" "$(rate "$t_v6")"
[ -n "$t_an" ] && printf '%-34s %9s %14s\n' "anonip (12/84)" "$t_an" "$(rate "$t_an")"
r_cat=$(ratio "$t_pv" "$t_cat"); r_v6=$(ratio "$t_v6" "$t_pv")
echo "privault / cat = ${r_cat}x (goal <= 3)   ipv6loganon / privault = ${r_v6}x (goal >= 5)"
line="BENCH logs n=$N bytes=$bytes cat_s=$t_cat privault_s=$t_pv ipv6loganon_s=$t_v6 vs_cat=$r_cat vs_ipv6loganon=$r_v6"
if [ -n "$t_an" ]; then
	r_an=$(ratio "$t_an" "$t_pv")
	echo "anonip / privault = ${r_an}x (goal >= 100)"
	line="$line anonip_s=$t_an vs_anonip=$r_an"
fi
echo "$line load_after=$(cut -d' ' -f1 /proc/loadavg)"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$D"
