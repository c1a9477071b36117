#!/usr/bin/env bash
# The whole store unit suite (tests/unit/test_store.c) and the vault-level CLI
# tests that accept a store (PRIVAULT_STORE), run against a real PostgreSQL
# server started for this test (tests/pg/pg_server.sh). The store suite runs
# twice on the same database: its tests use fresh ids and relative counts, so
# a second run on a used database must pass too.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
: "${BUILDDIR:?BUILDDIR must name the build root}"
source "$SRCDIR/tests/pg/pg_server.sh"
pg_start

fail() { echo "FAIL: $*" >&2; exit 1; }

echo "== store unit suite on PostgreSQL ($PG_BIN)"
PRIVAULT_TEST_STORE=$PG_URL "$BUILDDIR/tests/unit/test_store" || fail "test_store on PostgreSQL"
PRIVAULT_TEST_STORE=$PG_URL "$BUILDDIR/tests/unit/test_store" || fail "test_store on PostgreSQL, second run"

echo "== consent ledger unit suite on PostgreSQL"
PRIVAULT_TEST_STORE=$(pg_new_db consent_ledger) "$BUILDDIR/tests/unit/test_consent_ledger" || fail "test_consent_ledger on PostgreSQL"

# The CLI tests, each against a database of its own (they create one vault each).
# PV_DB_DUMP prints the database as text, for the "nothing in clear" checks.
for t in vault_session import key_rotate sweep_purge; do
	url=$(pg_new_db "cli_$t")
	echo "== tests/cli/$t.sh on PostgreSQL"
	PRIVAULT_STORE=$url PV_DB_DUMP="$PG_BIN/pg_dump -h $PG_DIR -U $PG_USER -d cli_$t" \
		bash "$SRCDIR/tests/cli/$t.sh" || fail "tests/cli/$t.sh on PostgreSQL"
done
echo "ok: store suite and CLI tests on PostgreSQL"
