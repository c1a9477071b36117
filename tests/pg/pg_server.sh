#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the tests, and stop it again.
#
# Source this file, then call `pg_start`: it runs initdb into a fresh mktemp
# folder, starts postgres listening ONLY on a unix socket in that folder
# (listen_addresses=''), creates the database "privault" and exports
#   PG_URL    postgresql:///privault?host=DIR&user=USER   (the store URL)
#   PG_DIR    the folder (data in $PG_DIR/data, socket and log beside it)
#   PG_BIN    the server's bin folder
# An EXIT trap stops the server and removes the folder. initdb and postgres
# refuse to run as root: as root they run as the unprivileged user
# $PV_PG_USER (default "postgres", the Debian package's system user; created
# as "privault-pg" with useradd when neither exists), with the folder chown'ed
# to it.
#
# When PostgreSQL cannot be started the test says so loudly on stderr and
# exits 77 (meson: skipped), or 1 (failed) when CI=true: CI must not pass
# without having run the PostgreSQL suite.

pg_fail_start() {
	echo "##########################################################################" >&2
	echo "## PostgreSQL COULD NOT BE STARTED: $*" >&2
	echo "## The PostgreSQL suite did NOT run. Install postgresql (scripts/deps.sh)." >&2
	echo "##########################################################################" >&2
	if [ "${CI:-}" = true ]; then
		exit 1
	fi
	exit 77
}

# Run a command as the server's user (ourselves unless we are root).
pg_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$PG_USER" -- "$@"
	else
		"$@"
	fi
}

pg_stop() {
	if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
		if [ -f "$PG_DIR/data/postmaster.pid" ]; then
			pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
		fi
		rm -rf "$PG_DIR"
	fi
}

# Start (again) the server of an existing $PG_DIR, e.g. after a test killed it.
pg_restart_server() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
		-o "-c listen_addresses='' -k $PG_DIR -c fsync=on" start >/dev/null
}

# Kill the server hard (SIGKILL to the postmaster and its children), as a crash would.
pg_kill_server() {
	local pid
	pid=$(head -1 "$PG_DIR/data/postmaster.pid" 2>/dev/null) || return 0
	pkill -KILL -P "$pid" 2>/dev/null || true
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	rm -f "$PG_DIR/data/postmaster.pid"
}

pg_start() {
	local bin
	PG_BIN=
	for bin in /usr/lib/postgresql/*/bin; do
		[ -x "$bin/initdb" ] && PG_BIN=$bin
	done
	[ -n "$PG_BIN" ] || pg_fail_start "no initdb under /usr/lib/postgresql/*/bin"
	if [ "$(id -u)" = 0 ]; then
		PG_USER=${PV_PG_USER:-postgres}
		if ! id "$PG_USER" >/dev/null 2>&1; then
			PG_USER=privault-pg
			id "$PG_USER" >/dev/null 2>&1 ||
				useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER" ||
				pg_fail_start "cannot create the unprivileged user $PG_USER"
		fi
	else
		PG_USER=$(id -un)
	fi
	PG_DIR=$(mktemp -d /tmp/pv-pg.XXXXXX) || pg_fail_start "mktemp failed"
	trap pg_stop EXIT
	chmod 0755 "$PG_DIR"
	[ "$(id -u)" = 0 ] && chown "$PG_USER" "$PG_DIR"
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U "$PG_USER" -A trust -E UTF8 --no-locale \
		>"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; pg_fail_start "initdb failed"; }
	pg_restart_server || { cat "$PG_DIR/server.log" >&2; pg_fail_start "pg_ctl start failed"; }
	pg_as "$PG_BIN/createdb" -h "$PG_DIR" -U "$PG_USER" privault ||
		pg_fail_start "createdb failed"
	PG_URL="postgresql:///privault?host=$PG_DIR&user=$PG_USER"
	export PG_URL PG_DIR PG_BIN PG_USER
}

# A further empty database; prints its store URL.
pg_new_db() {
	pg_as "$PG_BIN/createdb" -h "$PG_DIR" -U "$PG_USER" "$1" >&2 || return 1
	echo "postgresql:///$1?host=$PG_DIR&user=$PG_USER"
}

# psql on the test database: pg_psql DB -c "SQL"
pg_psql() {
	local db=$1
	shift
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -U "$PG_USER" -d "$db" "$@"
}
