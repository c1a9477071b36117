#!/usr/bin/env bash
# The HTTP tests (tests/http: the cases as data, the role x route matrix, the
# OpenAPI check, 8 concurrent clients; and the seed scenarios of tests/rights)
# against `privault serve` on
# PostgreSQL: every Server of tests/http/pvtest.py gets a fresh database of a
# throw-away server (PV_TEST_NEW_STORE). Then tests/pg/http_pg.py: two servers
# on one database driven at once, and 503 while PostgreSQL is down.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
: "${BUILDDIR:?BUILDDIR must name the build root}"
source "$SRCDIR/tests/pg/pg_server.sh"
pg_start
export ROUTES_DUMP="$BUILDDIR/tests/http/routes_dump"
export PV_TEST_NEW_STORE="bash -c 'source $SRCDIR/tests/pg/pg_server.sh; PG_DIR=$PG_DIR PG_BIN=$PG_BIN PG_USER=$PG_USER; pg_new_db http_\$\$_\$RANDOM'"

fail() { echo "FAIL: $*" >&2; exit 1; }
for t in run matrix openapi_check concurrency; do
	[ -f "$SRCDIR/tests/http/$t.py" ] || continue
	echo "== tests/http/$t.py on PostgreSQL"
	python3 "$SRCDIR/tests/http/$t.py" || fail "tests/http/$t.py on PostgreSQL"
done
echo "== tests/rights/scenarios.py on PostgreSQL"
python3 "$SRCDIR/tests/rights/scenarios.py" || fail "tests/rights/scenarios.py on PostgreSQL"
unset PV_TEST_NEW_STORE
echo "== two servers on one database, and PostgreSQL down"
python3 "$SRCDIR/tests/pg/http_pg.py" || fail "tests/pg/http_pg.py"
echo "ok: HTTP tests on PostgreSQL"
