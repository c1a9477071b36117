/*
 * Private to the SQLite backend: the handle, the statement ids and the helpers
 * shared by sqlite.c (connection, transactions) and sqlite_rows.c (the rows).
 */
#ifndef PV_STORE_SQLITE_INTERNAL_H
#define PV_STORE_SQLITE_INTERNAL_H

#include <limits.h>
#include <string.h>

#include <sqlite3.h>

#include "store/backend.h"

enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_META_GET, ST_META_SET,
	ST_POLICY_INSERT, ST_POLICY_GET,
	ST_SUBJECT_INSERT, ST_SUBJECT_GET, ST_SUBJECT_SET_STATE,
	ST_IDENT_INSERT, ST_IDENT_FIND, ST_IDENT_EACH, ST_IDENT_DELETE,
	ST_KEY_INSERT, ST_KEY_GET, ST_KEY_UPDATE, ST_KEY_DELETE, ST_KEY_EACH,
	ST_REC_INSERT, ST_REC_UPDATE, ST_REC_GET, ST_REC_EACH, ST_REC_EACH_CAT, ST_REC_DELETE,
	ST_REC_COUNT_CAT, ST_REC_COUNT,
	ST_SUPP_INSERT, ST_SUPP_FIND,
	ST_AUDIT_APPEND, ST_AUDIT_HEAD, ST_AUDIT_EACH,
	ST_CKPT_INSERT, ST_CKPT_EACH,
	ST__COUNT
};

typedef struct {
	struct pv_store base;   /* first: a pv_sqlite * is a pv_store * */
	sqlite3 *db;
	sqlite3_stmt *st[ST__COUNT];
	/* relaxed durability (issue 3): synchronous is NORMAL for the open transaction, and
	 * sqlite3_total_changes64() when it began */
	int sync_normal;
	int64_t changes0;
	/* the job lock this handle holds (pv_store_job_lock): its name ("" = none) and the
	 * descriptor of the flock'ed file beside the database */
	char job[65];
	int job_fd;
	/* pv_store_query/exec (portable statements): prepared statements cached by the address of
	 * their SQL text (a string constant), filled in order, finalized at close */
	struct {
		const char *sql;
		sqlite3_stmt *st;
		int busy;   /* stepping now (a nested use of the same SQL prepares a one-off) */
	} qcache[64];
	/* the background WAL checkpointer (sqlite_checkpoint.c), NULL when not started */
	struct sq_checkpointer *ckpt;
} pv_sqlite;

#define Q(s) ((pv_sqlite *)(s))

/* sqlite_table.c: portable statements (store.h pv_store_query / pv_store_exec). */
int sq_sql(pv_store *s, const char *what, const char *sql, const pv_store_value *params, size_t n,
	   int64_t *changes,
	   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
	   void *payload);
void sq_sql_finalize(pv_sqlite *q);

/* Map an SQLite result code for statement `id` to PV_EEXISTS (unique key taken) or PV_ESTORE. */
int sq_fail(int id, int rc);
/* A row read by statement `id` has a wrong-sized or over-long value in `column`: PV_ESTORE. */
int sq_malformed(int id, const char *column);
/* "<operation> <table>" of statement `id`, for messages. */
const char *sq_what(int id);
/* The statement for `id` (cached, or a one-off while the cached one is stepping); release with sq_put. */
int sq_get(pv_sqlite *q, int id, sqlite3_stmt **out);
void sq_put(pv_sqlite *q, int id, sqlite3_stmt *st);
/* Step a statement that returns no rows, then release it. */
int sq_run(pv_sqlite *q, int id, sqlite3_stmt *st);
/* A bind failed: release and report. */
int sq_bind_failed(pv_sqlite *q, int id, sqlite3_stmt *st, int rc);

static inline int sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* "" is stored as NULL (audit rows without a subject, purpose or category). */
static inline int sq_bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	return v[0] == '\0' ? sqlite3_bind_null(st, i) : sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static inline int sq_bind_blob(sqlite3_stmt *st, int i, const void *v, size_t n)
{
	if (n > INT_MAX)
		return SQLITE_TOOBIG;
	return sqlite3_bind_blob(st, i, n > 0 ? v : (const void *)"", (int)n, SQLITE_STATIC);
}

/* Copy a text column into out[size]; NULL reads as "". 0, or -1 if it does not fit. */
static inline int sq_col_text(sqlite3_stmt *st, int c, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, c);
	size_t n = (size_t)sqlite3_column_bytes(st, c);

	if (t == NULL)
		n = 0;
	if (n >= size)
		return -1;
	if (n > 0)
		memcpy(out, t, n);
	out[n] = '\0';
	return 0;
}

/* Copy a blob column of exactly `len` bytes. 0, or -1 on any other length. */
static inline int sq_col_blob(sqlite3_stmt *st, int c, uint8_t *out, size_t len)
{
	const void *b = sqlite3_column_blob(st, c);

	if ((size_t)sqlite3_column_bytes(st, c) != len || (b == NULL && len > 0))
		return -1;
	memcpy(out, b, len);
	return 0;
}

/* The row operations of sqlite_rows.c, for the ops table in sqlite.c (see backend.h). */
int sq_meta_get(pv_store *s, const char *key, char *out, size_t size);
int sq_meta_set(pv_store *s, const char *key, const char *value);
int sq_policy_insert(pv_store *s, const char *hash, const char *yaml, size_t len,
		     pv_time loaded_at, pv_time effective_at);
int sq_policy_get(pv_store *s, const char *hash, char **yaml, size_t *len);
int sq_subject_insert(pv_store *s, const pv_store_subject *subj);
int sq_subject_get(pv_store *s, const char *id, pv_store_subject *out);
int sq_subject_set_state(pv_store *s, const char *id, int state, pv_time at);
int sq_identifier_insert(pv_store *s, const pv_store_identifier *id);
int sq_identifier_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
		       char out_subject[PV_ID_LEN + 1]);
int sq_identifier_each(pv_store *s, const char *subject_id,
		       int (*cb)(const pv_store_identifier *id, void *payload), void *payload);
int sq_identifier_delete_subject(pv_store *s, const char *subject_id);
int sq_key_insert(pv_store *s, const pv_store_key *k);
int sq_key_get(pv_store *s, const char *subject_id, pv_store_key *out);
int sq_key_update(pv_store *s, const pv_store_key *k);
int sq_key_delete(pv_store *s, const char *subject_id);
int sq_key_each_other_version(pv_store *s, uint32_t except_version, size_t limit,
			      int (*cb)(const pv_store_key *k, void *payload), void *payload);
int sq_record_insert(pv_store *s, const pv_store_record *r);
int sq_record_update(pv_store *s, const pv_store_record *r);
int sq_record_get(pv_store *s, const char *subject_id, const char *record_id,
		  pv_store_record *out, uint8_t **buf);
int sq_record_each(pv_store *s, const char *subject_id, const char *category,
		   int (*cb)(const pv_store_record *r, void *payload), void *payload);
int sq_record_delete_subject(pv_store *s, const char *subject_id, size_t *out_deleted);
int sq_record_count_categories(pv_store *s, const char *subject_id,
			       int (*cb)(const char *category, size_t count, void *payload), void *payload);
int sq_record_count(pv_store *s, int64_t *out);
int sq_suppression_insert(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			  const char *reason, pv_time at);
int sq_suppression_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN]);
int sq_audit_append(pv_store *s, const pv_audit_entry *e);
int sq_audit_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);
int sq_audit_each(pv_store *s, int64_t from, int64_t limit,
		  int (*cb)(const pv_audit_entry *e, void *payload), void *payload);
int sq_checkpoint_insert(pv_store *s, const pv_store_checkpoint *c);
int sq_checkpoint_each(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload), void *payload);

/* sqlite_table.c: the multi-process calls and whole tables (see store.h). */
int sq_audit_lock_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);
int sq_try_lock(pv_store *s, const char *name, int *acquired);
int sq_table_count(pv_store *s, const char *table, int64_t *out);
int sq_table_each(pv_store *s, const char *table,
		  int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
		  void *payload);
int sq_table_insert(pv_store *s, const char *table, const char *const *cols, const pv_store_value *vals,
		    size_t n);

/* API keys (sqlite_rows.c; appended by the HTTP server engineer). */
int sq_apikey_insert(pv_store *s, const pv_store_apikey *k);
int sq_apikey_get(pv_store *s, const char *id, pv_store_apikey *out);
int sq_apikey_each(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload);
int sq_apikey_revoke(pv_store *s, const char *id, pv_time at);

/* The retention operations of sqlite_retention.c (store.h, "retention"; issue 7). */
int sq_hold_insert(pv_store *s, const pv_store_hold *h);
int sq_hold_get(pv_store *s, const char *id, pv_store_hold *out);
int sq_hold_each(pv_store *s, int active_only, int (*cb)(const pv_store_hold *h, void *payload), void *payload);
int sq_hold_release(pv_store *s, const char *id, const char *by, pv_time at);
int sq_record_expired_each(pv_store *s, pv_time from, pv_time now, size_t limit,
			   int (*cb)(const pv_store_expired *r, void *payload), void *payload);
int sq_record_expired_count(pv_store *s, pv_time now, int64_t *out);
int sq_record_delete_refs(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted);
int sq_record_count_subjects(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts);
int sq_tally_add(pv_store *s, const char *category, const char *purpose, const char *source,
		 pv_time month, int64_t count);
/* Sweep locks (sqlite_retention.c): holds need no lock under BEGIN IMMEDIATE; job locks are flocks. */
int sq_hold_lock(pv_store *s);
int sq_job_lock(pv_store *s, const char *name, int *acquired);
int sq_job_unlock(pv_store *s, const char *name);
int sq_tally_each(pv_store *s,
		  int (*cb)(const char *category, const char *purpose, const char *source,
			    pv_time month, int64_t count, void *payload),
		  void *payload);

#endif
