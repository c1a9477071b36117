#!/usr/bin/env bash
# The ingest and read benchmarks of bench/ on both backends, in one run:
# the same bench_ingest and bench_read binaries, once on SQLite (the vault's
# default vault.db) and once on a throw-away PostgreSQL server started here
# (tests/pg/pg_server.sh: unix socket only, fsync on, synchronous_commit on,
# a fresh database per run, given to the benchmarks as PRIVAULT_BENCH_STORE),
# then the PostgreSQL/SQLite ratio of each figure.
#
# usage: scripts/bench_pg.sh [--quick]    (BUILD_DIR: default ./build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
quick=0
[ "${1:-}" = --quick ] && quick=1
if [ "$quick" = 1 ]; then ingest=(10k 100k); reads=500; else ingest=(10k 100k 1m); reads=2000; fi
ninja -C "$build" bench/bench_ingest bench/bench_read >/dev/null

source tests/pg/pg_server.sh
pg_start
unset PRIVAULT_STORE
out=$(mktemp -d)
trap 'rm -rf "$out"; pg_stop' EXIT

echo "== privault on SQLite and on PostgreSQL ($(basename "$(dirname "$PG_BIN")")), same binaries"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
db=0
run() {   # run BACKEND CMD...: the BENCH lines of CMD on that backend, into $out/bench
	local backend=$1 url=
	shift
	if [ "$backend" = postgres ]; then
		db=$((db + 1))
		url=$(pg_new_db "bench$db")
	fi
	PRIVAULT_BENCH_STORE=$url "$@" >"$out/run.log" 2>&1 || { cat "$out/run.log" >&2; exit 1; }
	grep '^BENCH' "$out/run.log" | sed "s/^BENCH /BENCH backend=$backend /" >>"$out/bench"
}
for n in "${ingest[@]}"; do
	for b in sqlite postgres; do run "$b" "$build/bench/bench_ingest" "$n"; done
done
for b in sqlite postgres; do run "$b" "$build/bench/bench_read" --reads "$reads" --background 10k; done

python3 - "$out/bench" <<'PY'
import sys
rows = []
for line in open(sys.argv[1]):
    kv = dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)
    rows.append(kv)
def pick(kind, backend, **match):
    for r in rows:
        if r.get("backend") == backend and line_kind(r) == kind and all(r.get(k) == v for k, v in match.items()):
            return r
def line_kind(r):
    return "ingest" if "vault_rps" in r else "read"
print()
print("ingest (records/s through the vault, batches of 1000, every record audited)")
print("%10s %14s %14s %10s" % ("records", "sqlite", "postgres", "pg/sqlite"))
for n in sorted({r["n"] for r in rows if "n" in r}, key=int):
    s, p = pick("ingest", "sqlite", n=n), pick("ingest", "postgres", n=n)
    if s and p:
        a, b = float(s["vault_rps"]), float(p["vault_rps"])
        print("%10s %14.0f %14.0f %9.2fx" % (n, a, b, b / a))
print()
print("read (pv_record_read of one subject's 100 records for a purpose, audited)")
print("%10s %14s %14s %10s" % ("", "sqlite us", "postgres us", "pg/sqlite"))
s, p = pick("read", "sqlite"), pick("read", "postgres")
if s and p:
    for f, label in (("vault_median_us", "median"), ("vault_p99_us", "p99")):
        a, b = float(s[f]), float(p[f])
        print("%10s %14.1f %14.1f %9.2fx" % (label, a, b, b / a))
print()
for r in rows:
    print("BENCH " + " ".join("%s=%s" % kv for kv in r.items()))
PY
