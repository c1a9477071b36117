#!/usr/bin/env bash
# One retention sweep at a time on PostgreSQL, and holds against a sweep batch
# (docs/retention.md, "One sweep at a time" and "Concurrency"):
# 1. two `privault sweep` processes started at once on one database: exactly
#    one sweeps, the other skips with exit 5; records swept = records expired;
#    the audit verifies (tests/cli/sweep_race.sh);
# 2. while another session holds the sweep's advisory lock, `privault sweep`
#    exits 5 and changes nothing;
# 3. a sweep batch holds SHARE on legal_holds from before its walk to its
#    commit: paused inside a batch (a psql session holds the audit lock the
#    batch needs next), a `privault hold create` waits for the batch
#    (RowExclusiveLock not granted) and commits only after it;
# 4. a restriction takes the same lock: set during a paused batch, it waits
#    for the batch and is obeyed by the next one, never half-way through.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
source "$SRCDIR/tests/pg/pg_server.sh"
pg_start
T=$(mktemp -d)
BG=()
cleanup() {
	local p
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
	pg_stop
}
trap cleanup EXIT
P="$PRIVAULT"
unset PRIVAULT_KEYS PRIVAULT_CONFIG
export PRIVAULT_VAULT="$T/vault"
PRIVAULT_STORE=$(pg_new_db sweeplock)
export PRIVAULT_STORE

fail() { echo "FAIL: $*" >&2; exit 1; }
q() { pg_psql sweeplock -At -c "$1"; }
# wait_for SQL: until the query answers a non-empty "t" (10 s at most)
wait_for() {
	local i
	for i in $(seq 200); do
		[ "$(q "$1")" = t ] && return 0
		sleep 0.05
	done
	return 1
}
source "$SRCDIR/tests/cli/sweep_race.sh"

# ---- 1. two sweeps at once
race_fill
race_run postgres

# ---- 2. another session holds the sweep lock
export PRIVAULT_NOW=2025-03-10T12:00:00Z
A=$("$P" subject create --id email=late@example.org)
"$P" record put "$A" --category commercial --purpose order_fulfilment --data '{"order":"L-1"}' >/dev/null
export PRIVAULT_NOW=2025-06-01T00:00:00Z
pg_psql sweeplock -c "SET application_name = 'holder'" \
	-c "SELECT pg_advisory_lock(hashtextextended('privault:retention.sweep', 0))" -c "SELECT pg_sleep(60)" \
	>/dev/null 2>&1 &
BG+=($!)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'holder')" ||
	fail "the psql session did not take the sweep lock"
AUDIT=$("$P" status | sed -n 's/^audit entries: //p')
rc=0
"$P" sweep >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" = 5 ] || fail "sweep under a held lock exited $rc: $(cat "$T/err")"
grep -q "another sweep is running" "$T/err" || fail "skip message: $(cat "$T/err")"
[ "$("$P" status | sed -n 's/^audit entries: //p')" = "$AUDIT" ] || fail "a skipped sweep wrote audit entries"
[ "$(q "SELECT COUNT(*) FROM records WHERE subject_id = '$A'")" = 1 ] || fail "a skipped sweep removed a record"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'holder'" >/dev/null
wait_for "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'holder')" || fail "holder still there"
echo "ok: postgres: a sweep lock held by another session -> exit 5, nothing changed"

# ---- 3. a hold created while a batch runs waits for the batch
# pause the next sweep inside its batch: it takes SHARE on legal_holds, walks, deletes,
# then waits for the audit lock this session holds
pg_psql sweeplock -c "SET application_name = 'pauser'" -c "SELECT pg_advisory_lock(31637185665230964)" \
	-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
BG+=($!)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'pauser')" ||
	fail "the psql session did not take the audit lock"
"$P" sweep --json >"$T/sweep.out" 2>"$T/sweep.err" &
SW=$!
BG+=($SW)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.relation = 'legal_holds'::regclass AND l.mode = 'ShareLock' AND l.granted AND a.application_name = 'privault')" ||
	fail "the sweep batch holds no SHARE lock on legal_holds"
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'privault')" ||
	fail "the sweep batch is not waiting for the audit lock"
"$P" hold create --category commercial --reason "Matter 77" >"$T/hold.out" 2>"$T/hold.err" &
HC=$!
BG+=($HC)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.relation = 'legal_holds'::regclass AND l.mode = 'RowExclusiveLock' AND NOT l.granted AND a.application_name = 'privault')" ||
	fail "hold creation does not wait for the sweep batch's lock"
kill -0 "$HC" 2>/dev/null || fail "hold create finished while the batch ran: $(cat "$T/hold.err")"
[ "$(q "SELECT COUNT(*) FROM legal_holds")" = 0 ] || fail "a hold was committed during the batch"
# let the batch go: it commits (the hold was not there when it walked), then the hold commits
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pauser'" >/dev/null
wait "$SW" || fail "the paused sweep failed: $(cat "$T/sweep.err")"
wait "$HC" || fail "hold create failed: $(cat "$T/hold.err")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["deleted"]==1 and r["subjects_erased"]==1, r' \
	"$T/sweep.out" || fail "paused sweep report: $(cat "$T/sweep.out")"
[ "$(q "SELECT COUNT(*) FROM legal_holds WHERE released_at IS NULL")" = 1 ] || fail "the hold is missing"
"$P" audit list >"$T/audit"
# the batch's entries come before hold.create in the chain: the hold committed after the batch
[ "$(awk -F'\t' '$4 == "hold.create" { h = $1 } $4 == "retention.delete" { d = $1 } END { print (d > 0 && d < h) }' "$T/audit")" = 1 ] ||
	fail "hold.create is not after the batch in the audit"
"$P" audit verify >/dev/null || fail "audit does not verify"
echo "ok: postgres: a hold created during a sweep batch waited for it (SHARE lock on legal_holds)"

# ---- 4. a restriction set while a batch runs waits for the batch (the lock hold creation takes)
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pauser'" >/dev/null || true
"$P" hold release "$(q "SELECT id FROM legal_holds WHERE released_at IS NULL")" >/dev/null
export PRIVAULT_NOW=2025-06-05T00:00:00Z
B=$("$P" subject create --id email=restrict-me@example.org)
"$P" record put "$B" --category contact --purpose account --data '{"name":"kept"}' >/dev/null
"$P" record put "$B" --category commercial --purpose order_fulfilment --data '{"order":"R-1"}' >/dev/null
export PRIVAULT_NOW=2025-07-05T00:00:00Z
"$P" record put "$B" --category commercial --purpose order_fulfilment --data '{"order":"R-2"}' >/dev/null
export PRIVAULT_NOW=2025-07-20T00:00:00Z   # the first order expired; the second expires in August
pg_psql sweeplock -c "SET application_name = 'pauser'" -c "SELECT pg_advisory_lock(31637185665230964)" \
	-c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
BG+=($!)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'pauser')" ||
	fail "the psql session did not take the audit lock (4)"
"$P" sweep --json >"$T/sweep4.out" 2>"$T/sweep4.err" &
SW=$!
BG+=($SW)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = 'privault')" ||
	fail "the sweep is not waiting for the audit lock (4)"
"$P" fulfil restrict "$B" >"$T/restrict.out" 2>"$T/restrict.err" &
RS=$!
BG+=($RS)
wait_for "SELECT EXISTS (SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.relation = 'legal_holds'::regclass AND l.mode = 'RowExclusiveLock' AND NOT l.granted AND a.application_name = 'privault')" ||
	fail "the restriction does not wait for the sweep's lock"
[ "$(q "SELECT state FROM subjects WHERE id = '$B'")" = 0 ] || fail "the restriction committed during the sweep"
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pauser'" >/dev/null
wait "$SW" || fail "the paused sweep failed: $(cat "$T/sweep4.err")"
wait "$RS" || fail "restrict failed: $(cat "$T/restrict.err")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["deleted"]==1 and r["subjects_erased"]==0, r' \
	"$T/sweep4.out" || fail "paused sweep report (4): $(cat "$T/sweep4.out")"
[ "$(q "SELECT state FROM subjects WHERE id = '$B'")" = 1 ] || fail "the subject is not restricted after the sweep"
# the next sweep, a month on, keeps the restricted subject's second order
export PRIVAULT_NOW=2025-08-20T00:00:00Z
"$P" sweep --json >"$T/sweep5.out" || fail "sweep after the restriction failed"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["deleted"]==0 and r["kept"]==1, r' \
	"$T/sweep5.out" || fail "sweep after the restriction: $(cat "$T/sweep5.out")"
"$P" audit verify >/dev/null || fail "audit does not verify (4)"
echo "ok: postgres: a restriction set during a sweep batch waited for it and binds the next sweep"
