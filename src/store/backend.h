/*
 * privault store (private to src/store): the backend function table.
 *
 * store.c validates arguments and dispatches every pv_store_* call through
 * s->ops; a backend (sqlite.c now, postgres.c later) embeds `struct pv_store`
 * as the first member of its own handle and fills one static pv_store_ops.
 * Backends get arguments already checked for NULL and for the obvious shape
 * (ids fit their buffers); they do the SQL, the error mapping and the
 * transaction bookkeeping.
 *
 * The schema (DDL) and the migration runner are shared: schema.c holds the
 * migrations as SQL templates, and each backend supplies a pv_store_dialect
 * saying how the few non-portable pieces are spelled.
 */
#ifndef PV_STORE_BACKEND_H
#define PV_STORE_BACKEND_H

#include "store/store.h"

/*
 * A record row is live unless it is sealed under a retention epoch below the
 * watermark (its key destroyed by a sweep; the row waits for the purge). Every
 * read of records ANDs this in, so a destroyed record is gone for every reader
 * in the same statement that reads the watermark. `a` is the table alias with
 * its dot, or "".
 */
#define PV_REC_LIVE(a) "(" a "key_epoch IS NULL OR " a "key_epoch >= " \
	"(SELECT watermark FROM retention_keys WHERE id = 1))"

typedef struct pv_store_ops pv_store_ops;

struct pv_store {
	const pv_store_ops *ops;
	/* kept by store.c and schema.c, not by the backends */
	uint64_t tx_serial;        /* changes at every begin */
	int in_tx;
	int64_t schema_before;     /* schema version found by open, before its migrations */
	/* Relaxed durability (issue 3, appended by the HTTP performance engineer). store.c sets
	 * `relaxed` at pv_store_begin_relaxed and counts the audit rows of the open transaction in
	 * `tx_audits`; a backend's commit CLEARS `relaxed` when it made that commit durable after
	 * all (the transaction wrote more than audit rows). `last_relaxed` is store.c's. */
	int relaxed;
	int64_t tx_audits;
	int last_relaxed;
};

/* How a backend spells the non-portable parts of the shared DDL templates. */
typedef struct {
	const char *blob;      /* {blob}: "BLOB" (SQLite), "BYTEA" (PostgreSQL) */
	const char *int64_pk;  /* {int64_pk}: a 64-bit integer primary key ("INTEGER PRIMARY KEY" in
				* SQLite so it is the rowid; "BIGINT PRIMARY KEY" in PostgreSQL) */
} pv_store_dialect;

struct pv_store_ops {
	const char *name;   /* "sqlite" */

	/* `target` is the URL with the scheme removed (a path for SQLite). */
	int (*open)(pv_store **out, const char *target, int create);
	void (*close)(pv_store *s);

	/* Schema support for schema.c: run one DDL/DML statement with no parameters and no
	 * results; read the highest applied migration (0 when schema_migrations is absent). */
	int (*exec)(pv_store *s, const char *sql);
	int (*schema_version)(pv_store *s, int64_t *out);

	int (*begin)(pv_store *s);
	int (*commit)(pv_store *s);
	int (*rollback)(pv_store *s);
	/* Relaxed durability (store.h, appended for issue 3): begin a transaction whose commit does
	 * not wait for stable storage; make every commit so far durable (outside a transaction). */
	int (*begin_relaxed)(pv_store *s);
	int (*sync)(pv_store *s);

	int (*meta_get)(pv_store *s, const char *key, char *out, size_t size);
	int (*meta_set)(pv_store *s, const char *key, const char *value);

	int (*policy_insert)(pv_store *s, const char *hash, const char *yaml, size_t len,
			     pv_time loaded_at, pv_time effective_at);
	int (*policy_get)(pv_store *s, const char *hash, char **yaml, size_t *len);

	int (*subject_insert)(pv_store *s, const pv_store_subject *subj);
	int (*subject_get)(pv_store *s, const char *id, pv_store_subject *out);
	int (*subject_set_state)(pv_store *s, const char *id, int state, pv_time at);

	int (*identifier_insert)(pv_store *s, const pv_store_identifier *id);
	int (*identifier_find)(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			       char out_subject[PV_ID_LEN + 1]);
	int (*identifier_each)(pv_store *s, const char *subject_id,
			       int (*cb)(const pv_store_identifier *id, void *payload), void *payload);
	int (*identifier_delete_subject)(pv_store *s, const char *subject_id);

	int (*key_insert)(pv_store *s, const pv_store_key *k);
	int (*key_get)(pv_store *s, const char *subject_id, pv_store_key *out);
	int (*key_update)(pv_store *s, const pv_store_key *k);
	int (*key_delete)(pv_store *s, const char *subject_id);
	int (*key_each_other_version)(pv_store *s, uint32_t except_version, size_t limit,
				      int (*cb)(const pv_store_key *k, void *payload), void *payload);

	int (*record_insert)(pv_store *s, const pv_store_record *r);
	int (*record_update)(pv_store *s, const pv_store_record *r);
	int (*record_get)(pv_store *s, const char *subject_id, const char *record_id,
			  pv_store_record *out, uint8_t **buf);
	int (*record_each)(pv_store *s, const char *subject_id, const char *category,
			   int (*cb)(const pv_store_record *r, void *payload), void *payload);
	int (*record_delete_subject)(pv_store *s, const char *subject_id, size_t *out_deleted);
	int (*record_count_categories)(pv_store *s, const char *subject_id,
				       int (*cb)(const char *category, size_t count, void *payload),
				       void *payload);
	int (*record_count)(pv_store *s, int64_t *out);

	int (*suppression_insert)(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
				  const char *reason, pv_time at);
	int (*suppression_find)(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN]);

	int (*audit_append)(pv_store *s, const pv_audit_entry *e);
	int (*audit_head)(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);
	int (*audit_each)(pv_store *s, int64_t from, int64_t limit,
			  int (*cb)(const pv_audit_entry *e, void *payload), void *payload);
	int (*checkpoint_insert)(pv_store *s, const pv_store_checkpoint *c);
	int (*checkpoint_each)(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload),
			       void *payload);

	/* Several processes on one database (see store.h). */
	int (*audit_lock_head)(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);
	int (*try_lock)(pv_store *s, const char *name, int *acquired);

	/* Whole tables; `table` is a schema table and column names are checked by store.c. */
	int (*table_count)(pv_store *s, const char *table, int64_t *out);
	int (*table_each)(pv_store *s, const char *table,
			  int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
			  void *payload);
	int (*table_insert)(pv_store *s, const char *table, const char *const *cols,
			    const pv_store_value *vals, size_t n);
	/* Portable statements (store.h pv_store_exec / pv_store_query): cb NULL = no rows expected;
	 * *changes (may be NULL) = rows changed. Arguments checked by store.c. */
	int (*sql)(pv_store *s, const char *what, const char *sql, const pv_store_value *params, size_t n,
		   int64_t *changes,
		   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
		   void *payload);
	/* API keys (store.h; appended by the HTTP server engineer, issue 3). */
	int (*apikey_insert)(pv_store *s, const pv_store_apikey *k);
	int (*apikey_get)(pv_store *s, const char *id, pv_store_apikey *out);
	int (*apikey_each)(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload);
	int (*apikey_revoke)(pv_store *s, const char *id, pv_time at);
	/* Retention (store.h; appended by the retention engineer, issue 7). */
	int (*hold_insert)(pv_store *s, const pv_store_hold *h);
	int (*hold_get)(pv_store *s, const char *id, pv_store_hold *out);
	int (*hold_each)(pv_store *s, int active_only,
			 int (*cb)(const pv_store_hold *h, void *payload), void *payload);
	int (*hold_release)(pv_store *s, const char *id, const char *by, pv_time at);
	int (*record_expired_each)(pv_store *s, pv_time from, pv_time now, size_t limit,
				   int (*cb)(const pv_store_expired *r, void *payload), void *payload);
	int (*record_expired_count)(pv_store *s, pv_time now, int64_t *out);
	int (*record_delete_refs)(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted);
	int (*record_count_subjects)(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts);
	/* Sweep locks (store.h; appended for the sweep lock, issue 4/7): freeze the holds in a
	 * transaction; a job lock held by the handle across transactions. */
	int (*hold_lock)(pv_store *s);
	int (*job_lock)(pv_store *s, const char *name, int *acquired);
	int (*job_unlock)(pv_store *s, const char *name);
	int (*tally_add)(pv_store *s, const char *category, const char *purpose, const char *source,
			 pv_time month, int64_t count);
	int (*tally_each)(pv_store *s,
			  int (*cb)(const char *category, const char *purpose, const char *source,
				    pv_time month, int64_t count, void *payload),
			  void *payload);
};

/* The SQLite backend (sqlite.c). */
extern const pv_store_ops pv_store_sqlite_ops;
/* The PostgreSQL backend (postgres.c). */
extern const pv_store_ops pv_store_postgres_ops;

/* Upper bound of columns in a schema table (whole-table copies). */
#define PV_STORE_MAX_COLS 32

/*
 * schema.c: bring the schema of an open store up to PV_STORE_SCHEMA_VERSION.
 * Refuses (PV_ESTORE) a schema newer than this code; with create == 0 refuses
 * (PV_ENOTFOUND) a database holding no privault schema at all. Pending
 * migrations run in one transaction and are recorded in schema_migrations.
 */
int pv_store_schema_migrate(pv_store *s, const pv_store_dialect *d, int create);

/* schema.c: 1 if `table` is a table of the schema (pv_store_table_names), else 0. */
int pv_store_schema_has_table(const char *table);

#endif
