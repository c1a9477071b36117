/*
 * The PostgreSQL backend's whole-table operations, for `privault store copy`:
 * count, visit every row through a binary cursor (pages of PG_TABLE_PAGE
 * rows, so a large table is never held in memory), insert one row given as
 * names and values. Table and column names were checked by store.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/postgres_internal.h"

#define PG_TABLE_PAGE 1000

/* Type oids of the columns the schema uses. */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_VARCHAR 1043

/* Run `sql` (no parameters, binary results unless it is a FETCH of a binary cursor anyway). */
static int run(pv_pg *q, const char *sql, const char *what, const char *table, PGresult **out)
{
	PGresult *r = PQexecParams(q->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
	ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
		if (out != NULL)
			*out = r;
		else
			PQclear(r);
		return 0;
	}
	PQclear(r);
	if (out != NULL)
		*out = NULL;
	if (PQstatus(q->conn) != CONNECTION_OK || state == NULL)
		return pv_error_set(PV_ESTORE, "store: %s %s: PostgreSQL unavailable (connection lost)", what, table);
	return pv_error_set(strcmp(state, "23505") == 0 ? PV_EEXISTS : PV_ESTORE, "store: %s %s: SQLSTATE %s",
			    what, table, state);
}

int pg_table_count(pv_store *s, const char *table, int64_t *out)
{
	char sql[128];
	PGresult *r;
	int rc;

	if (PQstatus(PQ(s)->conn) != CONNECTION_OK && !PQ(s)->in_tx)
		PQreset(PQ(s)->conn);
	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	if ((rc = run(PQ(s), sql, "count", table, &r)) != 0)
		return rc;
	*out = PQntuples(r) == 1 ? pg_get_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

/* Convert row `i` of a FETCH result into values; PV_ESTORE on a column type the schema does not use. */
static int row_values(const PGresult *r, int i, int n, pv_store_value *vals, const char *table)
{
	int c;

	for (c = 0; c < n; c++) {
		pv_store_value *v = &vals[c];

		memset(v, 0, sizeof(*v));
		if (PQgetisnull(r, i, c))
			continue;
		switch (PQftype(r, c)) {
		case OID_BOOL:
		case OID_INT2:
		case OID_INT4:
		case OID_INT8:
			v->type = PV_STORE_INT;
			v->i = pg_get_int(r, i, c);
			break;
		case OID_TEXT:
		case OID_VARCHAR:
			v->type = PV_STORE_TEXT;
			v->p = (const uint8_t *)PQgetvalue(r, i, c);
			v->len = (size_t)PQgetlength(r, i, c);
			break;
		case OID_BYTEA:
			v->type = PV_STORE_BLOB;
			v->p = (const uint8_t *)PQgetvalue(r, i, c);
			v->len = (size_t)PQgetlength(r, i, c);
			break;
		default:
			return pv_error_set(PV_ESTORE, "store: read %s: column %s has a type the schema does not use",
					    table, PQfname(r, c));
		}
	}
	return 0;
}

/*
 * Visit every row through a binary cursor. Outside a transaction the walk is
 * its own read-only transaction (one consistent snapshot); inside one it
 * uses the caller's.
 */
int pg_table_each(pv_store *s, const char *table,
		  int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
		  void *payload)
{
	pv_pg *q = PQ(s);
	const char *cols[PV_STORE_MAX_COLS];
	pv_store_value vals[PV_STORE_MAX_COLS];
	int own_tx = !q->in_tx, rc, i, c, n;
	char sql[192];
	PGresult *r = NULL;

	if (own_tx && PQstatus(q->conn) != CONNECTION_OK)
		PQreset(q->conn);
	if (own_tx && (rc = run(q, "BEGIN READ ONLY", "read", table, NULL)) != 0)
		return rc;
	snprintf(sql, sizeof(sql), "DECLARE pv_table_cursor BINARY NO SCROLL CURSOR FOR SELECT * FROM %s", table);
	if ((rc = run(q, sql, "read", table, NULL)) != 0)
		goto done;
	for (;;) {
		snprintf(sql, sizeof(sql), "FETCH FORWARD %d FROM pv_table_cursor", PG_TABLE_PAGE);
		if ((rc = run(q, sql, "read", table, &r)) != 0)
			break;
		n = PQnfields(r);
		if (n > PV_STORE_MAX_COLS) {
			rc = pv_error_set(PV_ESTORE, "store: read %s: more than %d columns", table, PV_STORE_MAX_COLS);
			break;
		}
		for (c = 0; c < n; c++)
			cols[c] = PQfname(r, c);
		for (i = 0; i < PQntuples(r) && rc == 0; i++) {
			rc = row_values(r, i, n, vals, table);
			if (rc == 0)
				rc = cb(cols, vals, (size_t)n, payload);
		}
		if (rc != 0 || PQntuples(r) < PG_TABLE_PAGE)
			break;
		PQclear(r);
		r = NULL;
	}
	PQclear(r);
	if (rc == 0)
		rc = run(q, "CLOSE pv_table_cursor", "read", table, NULL);
done:
	if (own_tx) {
		if (rc == 0)
			rc = run(q, "COMMIT", "read", table, NULL);
		else
			PQclear(PQexec(q->conn, "ROLLBACK"));
	}
	return rc;
}

/*
 * libpq parameters of values[0..n): integers as decimal text, text and byte
 * strings as binary (their bytes), NULL as NULL. Returns -1, or the index of
 * the first value over 2 GiB (none is sent then).
 */
static long pg_values(const pv_store_value *vals, size_t n, const char **pv, int *len, int *fmt, char (*num)[24])
{
	size_t i;

	for (i = 0; i < n; i++) {
		const pv_store_value *v = &vals[i];

		if (v->len > INT32_MAX)
			return (long)i;
		len[i] = (int)v->len;
		fmt[i] = 1;
		if (v->type == PV_STORE_INT) {
			snprintf(num[i], sizeof(num[i]), "%lld", (long long)v->i);
			pv[i] = num[i];
			fmt[i] = 0;
		} else if (v->type == PV_STORE_NULL) {
			pv[i] = NULL;
		} else {
			pv[i] = v->len > 0 ? (const char *)v->p : "";
		}
	}
	return -1;
}

int pg_table_insert(pv_store *s, const char *table, const char *const *cols, const pv_store_value *vals,
		    size_t n)
{
	pv_pg *q = PQ(s);
	char sql[PV_STORE_MAX_COLS * 72 + 128], num[PV_STORE_MAX_COLS][24];
	const char *pv[PV_STORE_MAX_COLS];
	int len[PV_STORE_MAX_COLS], fmt[PV_STORE_MAX_COLS];
	size_t i, off;
	long big;
	PGresult *r;
	ExecStatusType st;
	const char *state;

	off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", table);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s%s", i ? ", " : "", cols[i]);
	off += (size_t)snprintf(sql + off, sizeof(sql) - off, ") VALUES (");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s$%zu", i ? ", " : "", i + 1);
	snprintf(sql + off, sizeof(sql) - off, ")");
	if ((big = pg_values(vals, n, pv, len, fmt, num)) >= 0)
		return pv_error_set(PV_ELIMIT, "store: insert into %s: value of %s larger than 2 GiB",
				    table, cols[big]);
	if (PQstatus(q->conn) != CONNECTION_OK && !q->in_tx)
		PQreset(q->conn);
	r = PQexecParams(q->conn, sql, (int)n, NULL, pv, len, fmt, 1);
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (st == PGRES_COMMAND_OK) {
		PQclear(r);
		return 0;
	}
	i = state != NULL && strcmp(state, "23505") == 0;
	PQclear(r);
	if (i)
		return pv_error_set(PV_EEXISTS, "store: insert into %s: key already exists", table);
	if (state == NULL || PQstatus(q->conn) != CONNECTION_OK)
		return pv_error_set(PV_ESTORE, "store: insert into %s: PostgreSQL unavailable (connection lost)",
				    table);
	return pv_error_set(PV_ESTORE, "store: insert into %s: SQLSTATE %s", table, state);
}

/* ---- portable statements (store.h pv_store_exec / pv_store_query) ---- */

/* `sql` with each `?` outside string literals renumbered $1, $2 ...; malloc'd, or NULL. */
static char *renumber(const char *sql, size_t *nparams)
{
	size_t len = strlen(sql), n = 0, o = 0;
	char *out = malloc(len * 4 + 1);   /* "?" -> "$32" at most */
	int quoted = 0;

	if (out == NULL)
		return NULL;
	for (; *sql != '\0'; sql++) {
		if (*sql == '\'')
			quoted = !quoted;
		if (*sql == '?' && !quoted)
			o += (size_t)sprintf(out + o, "$%zu", ++n);
		else
			out[o++] = *sql;
	}
	out[o] = '\0';
	*nparams = n;
	return out;
}

int pg_sql(pv_store *s, const char *what, const char *sql, const pv_store_value *params, size_t n,
	   int64_t *changes,
	   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
	   void *payload)
{
	pv_pg *q = PQ(s);
	char num[PV_STORE_MAX_PARAMS][24];
	const char *pv[PV_STORE_MAX_PARAMS];
	int len[PV_STORE_MAX_PARAMS], fmt[PV_STORE_MAX_PARAMS];
	const char *cols[PV_STORE_MAX_COLS];
	pv_store_value vals[PV_STORE_MAX_COLS];
	size_t want = 0;
	long big;
	char *text = renumber(sql, &want);
	PGresult *r = NULL;
	int rc = 0, ncols, c;

	if (text == NULL)
		return pv_error_set(PV_ENOMEM, "store: %s: out of memory", what);
	if (want != n) {
		free(text);
		return pv_error_set(PV_EINVAL, "store: %s: %zu placeholders, %zu values", what, want, n);
	}
	if ((big = pg_values(params, n, pv, len, fmt, num)) >= 0) {
		free(text);
		return pv_error_set(PV_ELIMIT, "store: %s: value %ld larger than 2 GiB", what, big + 1);
	}
	if (PQstatus(q->conn) != CONNECTION_OK && !q->in_tx)
		PQreset(q->conn);
	r = PQexecParams(q->conn, text, (int)n, NULL, pv, len, fmt, 1);
	free(text);
	{
		ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
		const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

		if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
			if (state != NULL && strcmp(state, "23505") == 0)
				rc = pv_error_set(PV_EEXISTS, "store: %s: key already exists", what);
			else if (state == NULL || PQstatus(q->conn) != CONNECTION_OK)
				rc = pv_error_set(PV_ESTORE, "store: %s: PostgreSQL unavailable (connection lost)", what);
			else
				rc = pv_error_set(PV_ESTORE, "store: %s: SQLSTATE %s", what, state);
			PQclear(r);
			return rc;
		}
	}
	if (changes != NULL) {
		const char *t = PQcmdTuples(r);

		*changes = PQnfields(r) == 0 && t != NULL && t[0] != '\0' ? strtoll(t, NULL, 10) : 0;
	}
	ncols = PQnfields(r);
	if (ncols > PV_STORE_MAX_COLS) {
		PQclear(r);
		return pv_error_set(PV_ESTORE, "store: %s: more than %d columns", what, PV_STORE_MAX_COLS);
	}
	for (c = 0; c < ncols; c++)
		cols[c] = PQfname(r, c);
	for (c = 0; cb != NULL && c < PQntuples(r) && rc == 0; c++) {
		rc = row_values(r, c, ncols, vals, what);
		if (rc == 0)
			rc = cb(cols, vals, (size_t)ncols, payload);
	}
	PQclear(r);
	return rc;
}
