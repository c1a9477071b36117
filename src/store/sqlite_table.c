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
	for (i = 0; i < n; i++)
		cols[i] = sqlite3_column_name(st, i);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
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
				ret = pv_error_set(PV_ESTORE, "store: read %s: unexpected REAL in column %s",
						   table, cols[i]);
				goto done;
			}
		}
		if ((ret = cb(cols, vals, (size_t)n, payload)) != 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		ret = table_fail("read", table, rc);
done:
	sqlite3_finalize(st);
	return ret;
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
	for (i = 0; i < n && rc == SQLITE_OK; i++) {
		const pv_store_value *v = &vals[i];
		int c = (int)i + 1;

		if (v->len > INT_MAX)
			rc = SQLITE_TOOBIG;
		else if (v->type == PV_STORE_INT)
			rc = sqlite3_bind_int64(st, c, v->i);
		else if (v->type == PV_STORE_TEXT)
			rc = sqlite3_bind_text(st, c, v->len ? (const char *)v->p : "", (int)v->len, SQLITE_STATIC);
		else if (v->type == PV_STORE_BLOB)
			rc = sq_bind_blob(st, c, v->p, v->len);
		else
			rc = sqlite3_bind_null(st, c);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : table_fail("insert into", table, rc);
}
