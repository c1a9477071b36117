/*
 * The SQLite backend's whole-table operations (for `privault store copy`) and
 * its answers to the multi-process calls of store.h: BEGIN IMMEDIATE already
 * holds the database's one write lock for the whole transaction, so the audit
 * head read inside it cannot move, and a job lock is always granted.
 * Table and column names were checked by store.c (schema tables, [a-z0-9_]).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/sqlite_internal.h"

int sq_audit_lock_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN])
{
	return sq_audit_head(s, seq, hash);
}

int sq_try_lock(pv_store *s, const char *name, int *acquired)
{
	(void)name;
	if (sqlite3_get_autocommit(Q(s)->db))
		return pv_error_set(PV_EINVAL, "store: lock job: only inside a transaction");
	*acquired = 1;
	return 0;
}

static int table_fail(const char *what, const char *table, int rc)
{
	return pv_error_set(rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? PV_EEXISTS :
			    PV_ESTORE, "store: %s %s: %s", what, table, sqlite3_errstr(rc));
}

int sq_table_count(pv_store *s, const char *table, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	char sql[128];
	int rc;

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	rc = sqlite3_prepare_v2(Q(s)->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : table_fail("count", table, rc);
}

/* The values of the current row of `st` (n columns); PV_ESTORE on a REAL (the schema has none). */
static int row_values(sqlite3_stmt *st, int n, pv_store_value *vals, const char *what)
{
	int i;

	for (i = 0; i < n; i++) {
		pv_store_value *v = &vals[i];

		memset(v, 0, sizeof(*v));
		switch (sqlite3_column_type(st, i)) {
		case SQLITE_INTEGER:
			v->type = PV_STORE_INT;
			v->i = sqlite3_column_int64(st, i);
			break;
		case SQLITE_TEXT:
			v->type = PV_STORE_TEXT;
			v->p = sqlite3_column_text(st, i);
			v->len = (size_t)sqlite3_column_bytes(st, i);
			break;
		case SQLITE_BLOB:
			v->type = PV_STORE_BLOB;
			v->p = sqlite3_column_blob(st, i);
			v->len = (size_t)sqlite3_column_bytes(st, i);
			if (v->p == NULL)
				v->p = (const uint8_t *)"";
			break;
		case SQLITE_NULL:
			break;
		default:
			return pv_error_set(PV_ESTORE, "store: %s: unexpected REAL in column %s", what,
					    sqlite3_column_name(st, i));
		}
	}
	return 0;
}

int sq_table_each(pv_store *s, const char *table,
		  int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
		  void *payload)
{
	const char *cols[PV_STORE_MAX_COLS];
	pv_store_value vals[PV_STORE_MAX_COLS];
	sqlite3_stmt *st = NULL;
	char sql[128];
	int rc, ret = 0, n, i;

	snprintf(sql, sizeof(sql), "SELECT * FROM %s", table);
	rc = sqlite3_prepare_v2(Q(s)->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return table_fail("read", table, rc);
	n = sqlite3_column_count(st);
	if (n > PV_STORE_MAX_COLS) {
		sqlite3_finalize(st);
		return pv_error_set(PV_ESTORE, "store: read %s: more than %d columns", table, PV_STORE_MAX_COLS);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		/* names after the step: a step may prepare the statement again, freeing the old names */
		for (i = 0; i < n; i++)
			cols[i] = sqlite3_column_name(st, i);
		if ((ret = row_values(st, n, vals, table)) != 0 || (ret = cb(cols, vals, (size_t)n, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		ret = table_fail("read", table, rc);
done:
	sqlite3_finalize(st);
	return ret;
}

/* Bind value `v` as parameter c (1-based). */
static int bind_value(sqlite3_stmt *st, int c, const pv_store_value *v)
{
	if (v->len > INT_MAX)
		return SQLITE_TOOBIG;
	if (v->type == PV_STORE_INT)
		return sqlite3_bind_int64(st, c, v->i);
	if (v->type == PV_STORE_TEXT)
		return sqlite3_bind_text(st, c, v->len ? (const char *)v->p : "", (int)v->len, SQLITE_STATIC);
	if (v->type == PV_STORE_BLOB)
		return sq_bind_blob(st, c, v->p, v->len);
	return sqlite3_bind_null(st, c);
}

int sq_table_insert(pv_store *s, const char *table, const char *const *cols, const pv_store_value *vals,
		    size_t n)
{
	char sql[PV_STORE_MAX_COLS * 72 + 128];
	sqlite3_stmt *st = NULL;
	size_t i, off;
	int rc = SQLITE_OK;

	off = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO %s (", table);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s%s", i ? ", " : "", cols[i]);
	off += (size_t)snprintf(sql + off, sizeof(sql) - off, ") VALUES (");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(sql + off, sizeof(sql) - off, "%s?", i ? ", " : "");
	snprintf(sql + off, sizeof(sql) - off, ")");
	rc = sqlite3_prepare_v2(Q(s)->db, sql, -1, &st, NULL);
	for (i = 0; i < n && rc == SQLITE_OK; i++)
		rc = bind_value(st, (int)i + 1, &vals[i]);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : table_fail("insert into", table, rc);
}

/* ---- portable statements (store.h pv_store_exec / pv_store_query) ---- */

#define QCACHE_N (sizeof(((pv_sqlite *)0)->qcache) / sizeof(((pv_sqlite *)0)->qcache[0]))

void sq_sql_finalize(pv_sqlite *q)
{
	size_t i;

	for (i = 0; i < QCACHE_N && q->qcache[i].sql != NULL; i++)
		sqlite3_finalize(q->qcache[i].st);
}

static int sql_fail(const char *what, int rc)
{
	return pv_error_set(rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ? PV_EEXISTS :
			    PV_ESTORE, "store: %s: %s", what, sqlite3_errstr(rc));
}

int sq_sql(pv_store *s, const char *what, const char *sql, const pv_store_value *params, size_t n,
	   int64_t *changes,
	   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
	   void *payload)
{
	pv_sqlite *q = Q(s);
	const char *cols[PV_STORE_MAX_COLS];
	pv_store_value vals[PV_STORE_MAX_COLS];
	sqlite3_stmt *st = NULL;
	size_t slot = QCACHE_N, i;
	int rc = SQLITE_OK, ret = 0, ncols = 0, c;

	for (i = 0; i < QCACHE_N && q->qcache[i].sql != NULL; i++)
		if (q->qcache[i].sql == sql)
			break;
	if (i < QCACHE_N && q->qcache[i].sql == sql && !q->qcache[i].busy) {
		slot = i;
		st = q->qcache[i].st;
	} else {
		rc = sqlite3_prepare_v3(q->db, sql, -1, i < QCACHE_N && q->qcache[i].sql == NULL ?
					SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
		if (rc != SQLITE_OK)
			return pv_error_set(PV_ESTORE, "store: %s: %s", what, sqlite3_errmsg(q->db));
		if (i < QCACHE_N && q->qcache[i].sql == NULL) {
			q->qcache[i].sql = sql;
			q->qcache[i].st = st;
			slot = i;
		}
	}
	if (slot < QCACHE_N)
		q->qcache[slot].busy = 1;
	if ((size_t)sqlite3_bind_parameter_count(st) != n) {
		ret = pv_error_set(PV_EINVAL, "store: %s: %d placeholders, %zu values", what,
				   sqlite3_bind_parameter_count(st), n);
		goto done;
	}
	for (i = 0; i < n && rc == SQLITE_OK; i++)
		rc = bind_value(st, (int)i + 1, &params[i]);
	if (rc != SQLITE_OK) {
		ret = sql_fail(what, rc);
		goto done;
	}
	ncols = sqlite3_column_count(st);
	if (ncols > PV_STORE_MAX_COLS) {
		ret = pv_error_set(PV_ESTORE, "store: %s: more than %d columns", what, PV_STORE_MAX_COLS);
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cb == NULL)
			continue;
		/* names after the step: a step may prepare the statement again (schema change) */
		for (c = 0; c < ncols; c++)
			cols[c] = sqlite3_column_name(st, c);
		if ((ret = row_values(st, ncols, vals, what)) != 0 ||
		    (ret = cb(cols, vals, (size_t)ncols, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		ret = sql_fail(what, rc);
	else if (changes != NULL)
		*changes = ncols == 0 ? sqlite3_changes64(q->db) : 0;
done:
	if (slot < QCACHE_N) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		q->qcache[slot].busy = 0;
	} else {
		sqlite3_finalize(st);
	}
	return ret;
}
