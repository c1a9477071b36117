/*
 * Private to the PostgreSQL backend: the handle, the statement ids, and the
 * helpers shared by postgres.c (connection, transactions, errors) and
 * postgres_rows.c (the rows).
 */
#ifndef PV_STORE_POSTGRES_INTERNAL_H
#define PV_STORE_POSTGRES_INTERNAL_H

#include <stdint.h>

#include <libpq-fe.h>

#include "store/backend.h"

enum {
	PG_META_GET, PG_META_SET,
	PG_POLICY_INSERT, PG_POLICY_GET,
	PG_SUBJECT_INSERT, PG_SUBJECT_GET, PG_SUBJECT_SET_STATE,
	PG_IDENT_INSERT, PG_IDENT_FIND, PG_IDENT_EACH, PG_IDENT_DELETE,
	PG_KEY_INSERT, PG_KEY_GET, PG_KEY_UPDATE, PG_KEY_DELETE, PG_KEY_EACH,
	PG_REC_INSERT, PG_REC_UPDATE, PG_REC_GET, PG_REC_EACH, PG_REC_EACH_CAT, PG_REC_DELETE,
	PG_REC_COUNT_CAT, PG_REC_COUNT,
	PG_SUPP_INSERT, PG_SUPP_FIND,
	PG_AUDIT_APPEND, PG_AUDIT_HEAD, PG_AUDIT_EACH, PG_AUDIT_LOCK,
	PG_CKPT_INSERT, PG_CKPT_EACH,
	PG_TRY_LOCK,
	PG_APIKEY_INSERT, PG_APIKEY_GET, PG_APIKEY_EACH, PG_APIKEY_REVOKE,
	PG_HOLD_INSERT, PG_HOLD_GET, PG_HOLD_EACH, PG_HOLD_EACH_ACTIVE, PG_HOLD_RELEASE,
	PG_EXPIRED_EACH, PG_EXPIRED_COUNT, PG_REC_DELETE_REF, PG_REC_COUNT_SUBJECT,
	PG_TALLY_ADD, PG_TALLY_EACH,
	PG_JOB_LOCK, PG_JOB_UNLOCK,
	PG__COUNT
};

typedef struct {
	struct pv_store base;      /* first: a pv_pg * is a pv_store * */
	PGconn *conn;
	int in_tx;                 /* BEGIN sent, no COMMIT/ROLLBACK yet */
	int audit_locked;          /* this transaction holds the audit advisory lock */
	uint8_t prepared[PG__COUNT];   /* prepared on this connection (cleared on reconnect) */
	int64_t xact_changes0;     /* relaxed transaction: non-audit row changes counted at its BEGIN (issue 3) */
	char job[65];              /* the job lock this session holds (pg_try_advisory_lock); "" = none */
} pv_pg;

#define PQ(s) ((pv_pg *)(s))

/* Parameters of one statement: text or binary values with their lengths. */
#define PG_MAX_PARAMS 12
typedef struct {
	int n;
	const char *val[PG_MAX_PARAMS];
	int len[PG_MAX_PARAMS];
	int fmt[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];   /* decimal text of integer parameters */
} pg_params;

void pg_p_text(pg_params *p, const char *s);              /* "" stays "" */
void pg_p_text_or_null(pg_params *p, const char *s);      /* "" becomes NULL */
void pg_p_textn(pg_params *p, const char *s, size_t n);
void pg_p_blob(pg_params *p, const void *b, size_t n);
void pg_p_int(pg_params *p, int64_t v);
void pg_p_null(pg_params *p);

/* "<operation> <table>" of statement `id`, for messages. */
const char *pg_what(int id);

/*
 * Run prepared statement `id` (prepared on this connection on first use) with
 * `p`, results in binary. *out gets the result (PQclear it) when the statement
 * succeeded; otherwise the error is set (PV_ESTORE naming the operation and
 * the SQLSTATE class, never a value; PV_EEXISTS for a unique violation) and
 * returned.
 */
int pg_run(pv_pg *q, int id, const pg_params *p, PGresult **out);
/* Same, for a statement that returns no rows; *changed (may be NULL) gets the rows affected. */
int pg_exec_id(pv_pg *q, int id, const pg_params *p, int64_t *changed);

/* A malformed value in `column` of a row read by `id`: PV_ESTORE. */
int pg_malformed(int id, const char *column);

/* Binary result accessors. */
int64_t pg_get_int(const PGresult *r, int row, int col);    /* int2/int4/int8; NULL reads 0 */
int pg_get_text(const PGresult *r, int row, int col, char *out, size_t size);   /* 0 or -1 too long */
int pg_get_blob(const PGresult *r, int row, int col, uint8_t *out, size_t len);  /* 0 or -1 wrong length */

/* The row operations of postgres_rows.c, for the ops table in postgres.c (see backend.h). */
int pg_sql(pv_store *s, const char *what, const char *sql, const pv_store_value *params, size_t n,
	   int64_t *changes,
	   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
	   void *payload);
int pg_meta_get(pv_store *s, const char *key, char *out, size_t size);
int pg_meta_set(pv_store *s, const char *key, const char *value);
int pg_policy_insert(pv_store *s, const char *hash, const char *yaml, size_t len,
		     pv_time loaded_at, pv_time effective_at);
int pg_policy_get(pv_store *s, const char *hash, char **yaml, size_t *len);
int pg_subject_insert(pv_store *s, const pv_store_subject *subj);
int pg_subject_get(pv_store *s, const char *id, pv_store_subject *out);
int pg_subject_set_state(pv_store *s, const char *id, int state, pv_time at);
int pg_identifier_insert(pv_store *s, const pv_store_identifier *id);
int pg_identifier_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
		       char out_subject[PV_ID_LEN + 1]);
int pg_identifier_each(pv_store *s, const char *subject_id,
		       int (*cb)(const pv_store_identifier *id, void *payload), void *payload);
int pg_identifier_delete_subject(pv_store *s, const char *subject_id);
int pg_key_insert(pv_store *s, const pv_store_key *k);
int pg_key_get(pv_store *s, const char *subject_id, pv_store_key *out);
int pg_key_update(pv_store *s, const pv_store_key *k);
int pg_key_delete(pv_store *s, const char *subject_id);
int pg_key_each_other_version(pv_store *s, uint32_t except_version, size_t limit,
			      int (*cb)(const pv_store_key *k, void *payload), void *payload);
int pg_record_insert(pv_store *s, const pv_store_record *r);
int pg_record_update(pv_store *s, const pv_store_record *r);
int pg_record_get(pv_store *s, const char *subject_id, const char *record_id,
		  pv_store_record *out, uint8_t **buf);
int pg_record_each(pv_store *s, const char *subject_id, const char *category,
		   int (*cb)(const pv_store_record *r, void *payload), void *payload);
int pg_record_delete_subject(pv_store *s, const char *subject_id, size_t *out_deleted);
int pg_record_count_categories(pv_store *s, const char *subject_id,
			       int (*cb)(const char *category, size_t count, void *payload), void *payload);
int pg_record_count(pv_store *s, int64_t *out);
int pg_suppression_insert(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			  const char *reason, pv_time at);
int pg_suppression_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN]);
int pg_audit_append(pv_store *s, const pv_audit_entry *e);
int pg_audit_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);
int pg_audit_lock_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);
int pg_audit_each(pv_store *s, int64_t from, int64_t limit,
		  int (*cb)(const pv_audit_entry *e, void *payload), void *payload);
int pg_checkpoint_insert(pv_store *s, const pv_store_checkpoint *c);
int pg_checkpoint_each(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload), void *payload);
int pg_try_lock(pv_store *s, const char *name, int *acquired);

/* API keys (postgres_ext.c; store functions appended by later issues). */
int pg_apikey_insert(pv_store *s, const pv_store_apikey *k);
int pg_apikey_get(pv_store *s, const char *id, pv_store_apikey *out);
int pg_apikey_each(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload);
int pg_apikey_revoke(pv_store *s, const char *id, pv_time at);
/* Retention (postgres_ext.c). */
int pg_hold_insert(pv_store *s, const pv_store_hold *h);
int pg_hold_get(pv_store *s, const char *id, pv_store_hold *out);
int pg_hold_each(pv_store *s, int active_only, int (*cb)(const pv_store_hold *h, void *payload), void *payload);
int pg_hold_release(pv_store *s, const char *id, const char *by, pv_time at);
int pg_record_expired_each(pv_store *s, pv_time from, pv_time now, size_t limit,
			   int (*cb)(const pv_store_expired *r, void *payload), void *payload);
int pg_record_expired_count(pv_store *s, pv_time now, int64_t *out);
int pg_record_delete_refs(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted);
int pg_record_count_subjects(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts);
int pg_tally_add(pv_store *s, const char *category, const char *purpose, const char *source,
		 pv_time month, int64_t count);
int pg_tally_each(pv_store *s,
		  int (*cb)(const char *category, const char *purpose, const char *source,
			    pv_time month, int64_t count, void *payload),
		  void *payload);

/* Whole tables (postgres_table.c), for `privault store copy`. */
int pg_table_count(pv_store *s, const char *table, int64_t *out);
int pg_table_each(pv_store *s, const char *table,
		  int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
		  void *payload);
int pg_table_insert(pv_store *s, const char *table, const char *const *cols, const pv_store_value *vals,
		    size_t n);

#endif
