/*
 * privault store (internal): the one storage interface. Modules above it
 * (vault, audit, import) call only these functions and never know which
 * backend runs underneath. Each backend (sqlite.c now, postgres.c later)
 * fills a pv_store_ops table; store.c dispatches on the URL scheme.
 *
 * Conventions:
 * - Every function returns 0, PV_ENOTFOUND, PV_EEXISTS (unique key taken) or
 *   PV_ESTORE with a message naming the table and operation (never values).
 * - Every table holding a subject's rows carries subject_id, and no query joins
 *   rows of two subjects (so a cluster can shard by subject_id).
 * - Transactions: pv_store_begin/commit/rollback; not nested. Outside a
 *   transaction each call is its own transaction.
 * - Visitor callbacks get borrowed rows valid only during the call; a non-zero
 *   return stops the walk and is returned by the walking function.
 */
#ifndef PV_STORE_H
#define PV_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "privault/audit.h"
#include "privault/time.h"
#include "privault/vault.h"

typedef struct pv_store pv_store;

#define PV_STORE_SCHEMA_VERSION 7

/* Open a store: "sqlite:/path/vault.db" or a plain path (SQLite); "postgres://..." / "postgresql://..."
 * (a libpq URI) or "postgres:KEY=VALUE ..." (a libpq conninfo) for PostgreSQL, whose database must
 * exist. `create`: create the file (SQLite) and the schema. */
int pv_store_open(pv_store **out, const char *url, int create);
void pv_store_close(pv_store *s);   /* accepts NULL */
const char *pv_store_backend(const pv_store *s);   /* "sqlite" or "postgres" */

int pv_store_begin(pv_store *s);
int pv_store_commit(pv_store *s);
int pv_store_rollback(pv_store *s);

/* ---- meta: small key/value settings (schema_version, vault_id, current_policy) ---- */
int pv_store_meta_get(pv_store *s, const char *key, char *out, size_t size);   /* PV_ENOTFOUND */
int pv_store_meta_set(pv_store *s, const char *key, const char *value);

/* ---- policy versions: immutable ---- */
int pv_store_policy_insert(pv_store *s, const char *hash, const char *yaml, size_t len,
			   pv_time loaded_at, pv_time effective_at);   /* existing hash: 0, no change */
int pv_store_policy_get(pv_store *s, const char *hash, char **yaml, size_t *len);   /* free(*yaml) */

/* ---- subjects ---- */
typedef struct {
	char id[PV_ID_LEN + 1];
	pv_time created_at;
	int regime;              /* pv_regime */
	int birth_year;
	int parental_consent;
	int state;               /* pv_subject_state */
	pv_time erased_at;       /* 0 unless erased */
} pv_store_subject;

int pv_store_subject_insert(pv_store *s, const pv_store_subject *subj);
int pv_store_subject_get(pv_store *s, const char *id, pv_store_subject *out);
/* Set state; on erasure also clears birth_year and parental_consent. */
int pv_store_subject_set_state(pv_store *s, const char *id, int state, pv_time at);

/* ---- identifiers: (kind, blind_index) unique; value encrypted with the subject's data key ---- */
typedef struct {
	char subject_id[PV_ID_LEN + 1];
	char kind[33];
	uint8_t blind_index[PV_BLIND_INDEX_LEN];
	uint8_t nonce[PV_NONCE_LEN];
	const uint8_t *ciphertext;   /* normalized value sealed with AD (subject, "ident:" kind, kind) */
	size_t ciphertext_len;
} pv_store_identifier;

int pv_store_identifier_insert(pv_store *s, const pv_store_identifier *id);   /* PV_EEXISTS */
int pv_store_identifier_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			     char out_subject[PV_ID_LEN + 1]);
int pv_store_identifier_each(pv_store *s, const char *subject_id,
			     int (*cb)(const pv_store_identifier *id, void *payload), void *payload);
int pv_store_identifier_delete_subject(pv_store *s, const char *subject_id);

/* ---- subject keys: the wrapped data key; erasure deletes this row first ---- */
typedef struct {
	char subject_id[PV_ID_LEN + 1];
	uint32_t kek_version;
	uint8_t wrapped[PV_WRAPPED_DEK_LEN];
} pv_store_key;

int pv_store_key_insert(pv_store *s, const pv_store_key *k);
int pv_store_key_get(pv_store *s, const char *subject_id, pv_store_key *out);
int pv_store_key_update(pv_store *s, const pv_store_key *k);
int pv_store_key_delete(pv_store *s, const char *subject_id);
/* Visit keys whose kek_version != `except_version`, at most `limit` (0 = all). */
int pv_store_key_each_other_version(pv_store *s, uint32_t except_version, size_t limit,
				    int (*cb)(const pv_store_key *k, void *payload), void *payload);

/* ---- records ---- */
typedef struct {
	char id[PV_ID_LEN + 1];
	char subject_id[PV_ID_LEN + 1];
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	char source[PV_ID_MAX_LEN + 1];
	char policy_version[PV_HASH_HEX_LEN + 1];
	pv_time collected_at;
	pv_time updated_at;
	pv_time expires_at;          /* INT64_MAX = none (stored as NULL) */
	uint8_t nonce[PV_NONCE_LEN];
	const uint8_t *ciphertext;
	size_t ciphertext_len;
	int64_t key_epoch;           /* the retention epoch it is sealed under; 0 = none (stored as NULL) */
} pv_store_record;

int pv_store_record_insert(pv_store *s, const pv_store_record *r);
int pv_store_record_update(pv_store *s, const pv_store_record *r);   /* nonce, ciphertext, updated_at, key_epoch by id+subject_id */
/* Fetch one record; the ciphertext is copied into *buf (malloc'd, caller frees). */
int pv_store_record_get(pv_store *s, const char *subject_id, const char *record_id, pv_store_record *out, uint8_t **buf);
/* Visit a subject's records (category NULL = all), oldest first. */
int pv_store_record_each(pv_store *s, const char *subject_id, const char *category,
			 int (*cb)(const pv_store_record *r, void *payload), void *payload);
int pv_store_record_delete_subject(pv_store *s, const char *subject_id, size_t *out_deleted);
/* Count by category for a subject. */
int pv_store_record_count_categories(pv_store *s, const char *subject_id,
				     int (*cb)(const char *category, size_t count, void *payload), void *payload);
/* Count all records (benchmarks, copy checks). */
int pv_store_record_count(pv_store *s, int64_t *out);

/* ---- suppression: hashed identifiers of erased subjects ---- */
int pv_store_suppression_insert(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
				const char *reason, pv_time at);   /* duplicate: 0 */
int pv_store_suppression_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN]);   /* 0 found, PV_ENOTFOUND */

/* ---- audit ---- */
int pv_store_audit_append(pv_store *s, const pv_audit_entry *e);   /* PV_EEXISTS if seq taken */
int pv_store_audit_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);   /* seq 0 and zero hash when empty */
int pv_store_audit_each(pv_store *s, int64_t from, int64_t limit,
			int (*cb)(const pv_audit_entry *e, void *payload), void *payload);
typedef struct {
	int64_t seq;
	pv_time at;
	uint8_t hash[PV_AUDIT_HASH_LEN];
	uint8_t signature[PV_SIG_LEN];
	uint8_t public_key[PV_PUBKEY_LEN];
} pv_store_checkpoint;
int pv_store_checkpoint_insert(pv_store *s, const pv_store_checkpoint *c);
int pv_store_checkpoint_each(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload), void *payload);

/* ---- schema (appended) ---- */
/* The highest applied migration (schema_migrations); PV_STORE_SCHEMA_VERSION after a successful open. */
int pv_store_schema_version(pv_store *s, int64_t *out);

/* ---- appended for the PostgreSQL backend (issue 4): several processes, one database ---- */

/* The backend of a store URL without opening it: "sqlite" or "postgres"; NULL if the URL is not one. */
const char *pv_store_url_backend(const char *url);

/*
 * A number that changes at every pv_store_begin() of this handle, 0 while no
 * transaction is open. Caches of what the database held (the audit head) are
 * valid only within the transaction they were read in: another process may
 * write between two transactions.
 */
uint64_t pv_store_tx_serial(const pv_store *s);

/*
 * Serialize audit appends across processes and read the chain head. Inside a
 * transaction the first call takes the database's audit lock (PostgreSQL: a
 * transaction-level advisory lock; SQLite: BEGIN IMMEDIATE already holds the
 * write lock), held until commit or rollback, and THEN reads the head, so no
 * other process can append until this transaction ends. Outside a
 * transaction it only reads the head.
 */
int pv_store_audit_lock_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN]);

/*
 * A named job lock for work that must not run twice at once across processes
 * (a retention sweep): inside a transaction only; *acquired = 1 if this
 * transaction now holds it (until commit or rollback), 0 if another
 * transaction does (not waited for). `name`: 1..64 bytes of [a-z0-9_.-].
 * SQLite: BEGIN IMMEDIATE already serializes every writer, so always 1.
 */
int pv_store_try_lock(pv_store *s, const char *name, int *acquired);

/* The version this handle's open found before it applied pending migrations (== version when none ran). */
int64_t pv_store_schema_version_before(const pv_store *s);

/*
 * The migrations this code knows: visit each (version, one-line description),
 * oldest first; and the time each was applied in this store (0 = pending).
 */
int pv_store_migration_each(pv_store *s,
			    int (*cb)(int64_t version, const char *description, pv_time applied_at, void *payload),
			    void *payload);

/* ---- whole tables, backend-independent (appended for `privault store copy`) ---- */
typedef enum { PV_STORE_NULL = 0, PV_STORE_INT, PV_STORE_TEXT, PV_STORE_BLOB } pv_store_type;
typedef struct {
	pv_store_type type;
	int64_t i;                  /* PV_STORE_INT */
	const uint8_t *p;           /* PV_STORE_TEXT (not NUL-terminated) and PV_STORE_BLOB; borrowed */
	size_t len;
} pv_store_value;

/* The tables of the schema (every migration's CREATE TABLE, schema_migrations excluded), in creation order. */
int pv_store_table_names(int (*cb)(const char *table, void *payload), void *payload);
int pv_store_table_count(pv_store *s, const char *table, int64_t *out);
/* Visit every row of `table` (a schema table) with its column names; values borrowed for the call. */
int pv_store_table_each(pv_store *s, const char *table,
			int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
			void *payload);
/* Insert one row given as column names and values (PV_EEXISTS when its key is taken). */
int pv_store_table_insert(pv_store *s, const char *table, const char *const *cols,
			  const pv_store_value *vals, size_t n);

/* ---- API keys (appended by the HTTP server engineer, issue 3; migration 2) ----
 * Keys presented as "Authorization: Bearer pvk_<id>_<secret>". Only BLAKE2b-256
 * of the 32-byte secret is stored, never the secret. Rows are never deleted:
 * revocation sets revoked_at. Every backend implements these four. */
typedef struct {
	char id[17];                 /* 16 lower-case hex characters, the lookup key */
	char name[129];              /* caller name (audit actor) */
	int role;                    /* pv_role */
	char grants[1024];           /* "purpose[:cat,cat] purpose ..." or "" */
	uint8_t hash[32];            /* BLAKE2b-256 of the secret */
	pv_time created_at;
	pv_time revoked_at;          /* 0 while active (stored as NULL) */
} pv_store_apikey;

int pv_store_apikey_insert(pv_store *s, const pv_store_apikey *k);   /* PV_EEXISTS if the id is taken */
int pv_store_apikey_get(pv_store *s, const char *id, pv_store_apikey *out);   /* PV_ENOTFOUND */
/* Visit every key, revoked ones included, oldest first. */
int pv_store_apikey_each(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload);
/* Set revoked_at of an active key. PV_ENOTFOUND if no such key or already revoked. */
int pv_store_apikey_revoke(pv_store *s, const char *id, pv_time at);

/* ---- retention: legal holds, expired records, anonymized tallies ----
 * (appended by the retention engineer, issue 7; tables of migration 3; every backend
 * implements these: src/store/sqlite_retention.c for SQLite). */
#define PV_STORE_HOLD_REASON_MAX 256

typedef struct {
	char id[PV_ID_LEN + 1];
	char subject_id[PV_ID_LEN + 1];    /* scope: this subject only; "" = any subject (NULL) */
	char category[PV_ID_MAX_LEN + 1];  /* scope: this category only; "" = any (NULL) */
	pv_time from;                      /* scope: collected_at >= from; 0 = open (NULL) */
	pv_time to;                        /* scope: collected_at < to; 0 = open (NULL) */
	char reason[PV_STORE_HOLD_REASON_MAX + 1];
	char created_by[129];
	pv_time created_at;
	char released_by[129];             /* "" while active */
	pv_time released_at;               /* 0 while active (NULL) */
} pv_store_hold;

int pv_store_hold_insert(pv_store *s, const pv_store_hold *h);   /* PV_EEXISTS if the id is taken */
int pv_store_hold_get(pv_store *s, const char *id, pv_store_hold *out);   /* PV_ENOTFOUND */
/* Visit holds (only active ones when active_only), oldest first. */
int pv_store_hold_each(pv_store *s, int active_only,
		       int (*cb)(const pv_store_hold *h, void *payload), void *payload);
/* Set released_by/released_at of an active hold. PV_ENOTFOUND if no such active hold. */
int pv_store_hold_release(pv_store *s, const char *id, const char *by, pv_time at);

/* An expired record's metadata (no nonce, no ciphertext). */
typedef struct {
	char id[PV_ID_LEN + 1];
	char subject_id[PV_ID_LEN + 1];
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	char source[PV_ID_MAX_LEN + 1];
	char policy_version[PV_HASH_HEX_LEN + 1];
	pv_time collected_at;
	pv_time expires_at;
	int64_t key_epoch;           /* 0 = none */
} pv_store_expired;

/*
 * Visit records with from <= expires_at <= now, earliest expiry first, at most
 * `limit` (0 = all), leaving out every record that an active legal hold covers
 * (hold subject, category and [from, to) of collected_at all match, an unset
 * one matching anything) and every record of a restricted subject (state 1).
 */
int pv_store_record_expired_each(pv_store *s, pv_time from, pv_time now, size_t limit,
				 int (*cb)(const pv_store_expired *r, void *payload), void *payload);
/* Count records with expires_at <= now (held or not). */
int pv_store_record_expired_count(pv_store *s, pv_time now, int64_t *out);

typedef struct {
	char subject_id[PV_ID_LEN + 1];
	char id[PV_ID_LEN + 1];
} pv_store_record_ref;

/* Delete the records refs[0..n) by (subject_id, id); *out_deleted = how many existed. */
int pv_store_record_delete_refs(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted);
/* counts[i] = records still held for subject ids[i], for i < n. */
int pv_store_record_count_subjects(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts);

/*
 * Freeze the legal holds for the rest of the transaction (a sweep batch, before it
 * reads the holds and walks the expired records): until commit or rollback no other
 * transaction can create or release a hold, so a hold is committed either before the
 * batch (and obeyed by its walk) or after it. Inside a transaction only.
 *   PostgreSQL: LOCK TABLE legal_holds IN SHARE MODE, which hold creation and release
 *               (ROW EXCLUSIVE) wait for. Take it before the transaction's first audit
 *               append: the lock order is legal_holds, then the audit lock (hold creation
 *               writes the hold, then its audit entry), so the two cannot deadlock.
 *   SQLite:     nothing to do: BEGIN IMMEDIATE already holds the one write lock.
 */
int pv_store_hold_lock(pv_store *s);

/*
 * A named job lock held by this HANDLE across transactions, for a job of many
 * transactions that must not run twice at once in any process (a retention
 * sweep: "retention.sweep"). Outside a transaction. *acquired = 1 if this handle
 * now holds it, 0 if another handle (this process or another) does; never waits.
 * A handle holds at most one job lock; release it with pv_store_job_unlock
 * (closing the handle or the death of the process releases it too).
 *   PostgreSQL: a session-level advisory lock on the handle's connection
 *               (pg_try_advisory_lock(hashtextextended('privault:' || name, 0)), the
 *               key pv_store_try_lock uses, so the two exclude each other). A lost
 *               connection loses the lock: the handle then refuses to reconnect
 *               until pv_store_job_unlock, so the job stops (PV_ESTORE) instead of
 *               going on unlocked.
 *   SQLite:     flock(LOCK_EX | LOCK_NB) on the file "<database>-<name>.lock"
 *               beside the database (mode 0600, created on first use, left in
 *               place); an in-memory database always grants it.
 * `name`: 1..64 bytes of [a-z0-9_.-].
 */
int pv_store_job_lock(pv_store *s, const char *name, int *acquired);
/* Release the job lock `name` of this handle (0 also when the connection that held it is gone). */
int pv_store_job_unlock(pv_store *s, const char *name);

/* Anonymized tallies: de-identified counts of removed records, no subject_id (not a subject's row). */
int pv_store_tally_add(pv_store *s, const char *category, const char *purpose, const char *source,
		       pv_time month, int64_t count);   /* adds to the row's count, creating it at 0 */
int pv_store_tally_each(pv_store *s,
			int (*cb)(const char *category, const char *purpose, const char *source,
				  pv_time month, int64_t count, void *payload),
			void *payload);   /* ordered by month, category, purpose, source */

/* ---- relaxed durability (appended by the HTTP performance engineer, issue 3) ----
 * For transactions that write nothing but audit entries (the server's batches of
 * reads). A relaxed commit is atomic and reaches the operating system before it
 * returns, so a process crash or kill -9 loses nothing; it does not wait for stable
 * storage, so an OS crash or power loss can lose it until the next durable commit or
 * pv_store_sync(), which make it (and every commit before it) durable.
 *   SQLite:     PRAGMA synchronous = NORMAL for that transaction (WAL: no fsync at
 *               commit); a later FULL commit or the sync fsyncs the WAL.
 *   PostgreSQL: SET LOCAL synchronous_commit = off; the sync commits a transaction
 *               with an id and synchronous_commit on, which flushes the WAL up to it.
 * Guard: if the transaction changed anything besides audit rows, its commit is made
 * durable anyway (SQLite: the WAL is fsynced after the commit; PostgreSQL:
 * synchronous_commit goes back on before COMMIT), and pv_store_last_commit_relaxed()
 * answers 0. A write is never left relaxed, whatever the caller asked. */

/* Begin a transaction (as pv_store_begin) whose commit may be relaxed; end it with pv_store_commit. */
int pv_store_begin_relaxed(pv_store *s);
/* 1 when this handle's last successful commit was relaxed (not yet on stable storage), else 0. */
int pv_store_last_commit_relaxed(const pv_store *s);
/* Outside a transaction: make every commit of this handle so far durable. 0 or PV_ESTORE. */
int pv_store_sync(pv_store *s);

/* ---- portable statements (appended for the consent ledger and rights, issues 5 and 6) ----
 * Modules above the store that own their tables (src/consent, src/rights) write their SQL
 * once, in the subset SQLite and PostgreSQL share, and run it through these two calls
 * instead of adding backend functions per query:
 *   - placeholders are `?` (the PostgreSQL backend renumbers them $1, $2 ...); at most
 *     PV_STORE_MAX_PARAMS; no `?` inside string literals;
 *   - types: TEXT, BIGINT and {blob} columns only (PV_STORE_TEXT / INT / BLOB / NULL);
 *     booleans are 0/1 BIGINT; times are BIGINT unix seconds;
 *   - `sql` must be a string constant (static storage): backends cache the prepared
 *     statement by its address; build no SQL from data;
 *   - the sharding rule holds: a statement reads or writes rows of one subject
 *     (WHERE subject_id = ?) or of no subject; never joins rows of two subjects;
 *   - LIMIT n, ORDER BY, COUNT/SUM/MIN/MAX, INSERT ... ON CONFLICT (...) DO NOTHING /
 *     DO UPDATE SET x = excluded.x are portable (SQLite >= 3.24); a bare `?` whose type
 *     the statement does not fix (a select list) needs CAST(? AS BIGINT).
 * After a failed statement inside a transaction, roll the transaction back: PostgreSQL
 * refuses every later statement of it.
 * Errors: PV_EEXISTS when a unique key is taken, else PV_ESTORE naming `what` (a short
 * label such as "consent_events insert", never values). */
#define PV_STORE_MAX_PARAMS 32

/* Run a statement that returns no rows; *changes (may be NULL) = rows inserted, updated or deleted. */
int pv_store_exec(pv_store *s, const char *what, const char *sql,
		  const pv_store_value *params, size_t n, int64_t *changes);
/* Run a query and visit each row (columns named as selected; values borrowed for the call; a
 * non-zero return stops the walk and is returned). Outside a transaction PostgreSQL reads
 * one consistent snapshot. */
int pv_store_query(pv_store *s, const char *what, const char *sql,
		   const pv_store_value *params, size_t n,
		   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
		   void *payload);

/* Value constructors for params (borrow their bytes). */
static inline pv_store_value pv_sv_int(int64_t i)
{
	pv_store_value v = { PV_STORE_INT, i, NULL, 0 };
	return v;
}
static inline pv_store_value pv_sv_text(const char *t)   /* NULL -> SQL NULL */
{
	pv_store_value v = { t != NULL ? PV_STORE_TEXT : PV_STORE_NULL, 0, (const uint8_t *)t,
			     t != NULL ? strlen(t) : 0 };
	return v;
}
static inline pv_store_value pv_sv_blob(const void *p, size_t len)
{
	pv_store_value v = { PV_STORE_BLOB, 0, (const uint8_t *)p, len };
	return v;
}
static inline pv_store_value pv_sv_null(void)
{
	pv_store_value v = { PV_STORE_NULL, 0, NULL, 0 };
	return v;
}
/* Read a column of a visited row: copy TEXT into out[size] ("" for NULL; -1 if too long, else 0). */
int pv_sv_get_text(const pv_store_value *v, char *out, size_t size);
/* INT value (0 for NULL). */
static inline int64_t pv_sv_get_int(const pv_store_value *v)
{
	return v->type == PV_STORE_INT ? v->i : 0;
}

#endif
