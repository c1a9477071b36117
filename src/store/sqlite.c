/*
 * The SQLite backend of the store.
 *
 * One connection per handle, WAL with synchronous=FULL (an acknowledged commit
 * survives power loss), secure_delete (erased keys and rows are overwritten,
 * not left in free pages), a 5 s busy timeout, files created 0600. A relaxed
 * transaction (pv_store_begin_relaxed, only audit rows) commits at
 * synchronous=NORMAL: no fsync, durable at the next FULL commit or sync.
 *
 * Every statement is prepared once per handle, on first use, and reused
 * (sqlite3_reset + sqlite3_clear_bindings): the insert paths do no prepare and
 * no allocation of their own. Values are bound SQLITE_STATIC (they only need
 * to live for the call). A statement still stepping when the same operation is
 * asked for again (a visitor callback walking the same table) gets a private
 * one-off statement instead of the cached one.
 *
 * Error messages name the operation and the table and carry sqlite3_errstr()
 * of the code, never sqlite3_errmsg() and never a bound value.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "store/sqlite_checkpoint.h"
#include "store/sqlite_internal.h"

#define REC_COLS "subject_id, id, category, purpose, source, policy_version, collected_at, " \
		 "updated_at, expires_at, nonce, ciphertext, key_epoch"
#define AUDIT_COLS "seq, at, actor, action, subject_id, purpose, category, outcome, prev_hash, hash"

static const struct {
	const char *sql;
	const char *what;   /* "<operation> <table>" for error messages */
} stmts[ST__COUNT] = {
	[ST_BEGIN] = { "BEGIN IMMEDIATE", "begin transaction" },
	[ST_COMMIT] = { "COMMIT", "commit transaction" },
	[ST_ROLLBACK] = { "ROLLBACK", "roll back transaction" },
	[ST_META_GET] = { "SELECT value FROM meta WHERE key = ?1", "read meta" },
	[ST_META_SET] = { "INSERT INTO meta (key, value) VALUES (?1, ?2) "
			  "ON CONFLICT (key) DO UPDATE SET value = excluded.value", "write meta" },
	[ST_POLICY_INSERT] = { "INSERT INTO policy_versions (hash, yaml, loaded_at, effective_at) "
			       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (hash) DO NOTHING",
			       "insert into policy_versions" },
	[ST_POLICY_GET] = { "SELECT yaml FROM policy_versions WHERE hash = ?1", "read policy_versions" },
	[ST_SUBJECT_INSERT] = { "INSERT INTO subjects (id, created_at, regime, birth_year, "
				"parental_consent, state, erased_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
				"insert into subjects" },
	[ST_SUBJECT_GET] = { "SELECT id, created_at, regime, birth_year, parental_consent, state, "
			     "erased_at FROM subjects WHERE id = ?1", "read subjects" },
	[ST_SUBJECT_SET_STATE] = { "UPDATE subjects SET state = ?2, "
				   "erased_at = CASE WHEN ?4 THEN ?3 ELSE erased_at END, "
				   "birth_year = CASE WHEN ?4 THEN 0 ELSE birth_year END, "
				   "parental_consent = CASE WHEN ?4 THEN 0 ELSE parental_consent END "
				   "WHERE id = ?1", "update subjects" },
	[ST_IDENT_INSERT] = { "INSERT INTO identifiers (kind, blind_index, subject_id, nonce, ciphertext) "
			      "VALUES (?1, ?2, ?3, ?4, ?5)", "insert into identifiers" },
	[ST_IDENT_FIND] = { "SELECT subject_id FROM identifiers WHERE kind = ?1 AND blind_index = ?2",
			    "read identifiers" },
	[ST_IDENT_EACH] = { "SELECT kind, blind_index, nonce, ciphertext FROM identifiers "
			    "WHERE subject_id = ?1 ORDER BY kind, blind_index", "read identifiers" },
	[ST_IDENT_DELETE] = { "DELETE FROM identifiers WHERE subject_id = ?1", "delete from identifiers" },
	[ST_KEY_INSERT] = { "INSERT INTO subject_keys (subject_id, kek_version, wrapped) VALUES (?1, ?2, ?3)",
			    "insert into subject_keys" },
	[ST_KEY_GET] = { "SELECT kek_version, wrapped FROM subject_keys WHERE subject_id = ?1",
			 "read subject_keys" },
	[ST_KEY_UPDATE] = { "UPDATE subject_keys SET kek_version = ?2, wrapped = ?3 WHERE subject_id = ?1",
			    "update subject_keys" },
	[ST_KEY_DELETE] = { "DELETE FROM subject_keys WHERE subject_id = ?1", "delete from subject_keys" },
	[ST_KEY_EACH] = { "SELECT subject_id, kek_version, wrapped FROM subject_keys "
			  "WHERE kek_version <> ?1 ORDER BY subject_id LIMIT ?2", "read subject_keys" },
	[ST_REC_INSERT] = { "INSERT INTO records (" REC_COLS ") "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", "insert into records" },
	[ST_REC_UPDATE] = { "UPDATE records SET nonce = ?3, ciphertext = ?4, updated_at = ?5, key_epoch = ?6 "
			    "WHERE subject_id = ?1 AND id = ?2", "update records" },
	[ST_REC_GET] = { "SELECT " REC_COLS " FROM records WHERE subject_id = ?1 AND id = ?2 "
			 "AND " PV_REC_LIVE(""),
			 "read records" },
	[ST_REC_EACH] = { "SELECT " REC_COLS " FROM records WHERE subject_id = ?1 "
			  "AND " PV_REC_LIVE("") " ORDER BY collected_at, id", "read records" },
	[ST_REC_EACH_CAT] = { "SELECT " REC_COLS " FROM records WHERE subject_id = ?1 AND category = ?2 "
			      "AND " PV_REC_LIVE("") " ORDER BY collected_at, id", "read records" },
	[ST_REC_DELETE] = { "DELETE FROM records WHERE subject_id = ?1", "delete from records" },
	[ST_REC_COUNT_CAT] = { "SELECT category, COUNT(*) FROM records WHERE subject_id = ?1 "
			       "AND " PV_REC_LIVE("") " GROUP BY category ORDER BY category", "count records" },
	[ST_REC_COUNT] = { "SELECT COUNT(*) FROM records WHERE " PV_REC_LIVE(""), "count records" },
	[ST_SUPP_INSERT] = { "INSERT INTO suppression (kind, blind_index, reason, at) VALUES (?1, ?2, ?3, ?4) "
			     "ON CONFLICT (kind, blind_index) DO NOTHING", "insert into suppression" },
	[ST_SUPP_FIND] = { "SELECT 1 FROM suppression WHERE kind = ?1 AND blind_index = ?2",
			   "read suppression" },
	[ST_AUDIT_APPEND] = { "INSERT INTO audit (" AUDIT_COLS ") "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", "insert into audit" },
	[ST_AUDIT_HEAD] = { "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "read audit" },
	[ST_AUDIT_EACH] = { "SELECT " AUDIT_COLS " FROM audit WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
			    "read audit" },
	[ST_CKPT_INSERT] = { "INSERT INTO audit_checkpoints (seq, at, hash, signature, public_key) "
			     "VALUES (?1, ?2, ?3, ?4, ?5)", "insert into audit_checkpoints" },
	[ST_CKPT_EACH] = { "SELECT seq, at, hash, signature, public_key FROM audit_checkpoints "
			   "ORDER BY seq", "read audit_checkpoints" },
};

static const pv_store_dialect sqlite_dialect = {
	.blob = "BLOB",
	.int64_pk = "INTEGER PRIMARY KEY",
};


/* Map an SQLite result code to PV_EEXISTS (unique key taken) or PV_ESTORE. */
int sq_fail(int id, int rc)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return pv_error_set(PV_EEXISTS, "store: %s: key already exists", stmts[id].what);
	return pv_error_set(PV_ESTORE, "store: %s: %s", stmts[id].what, sqlite3_errstr(rc));
}

const char *sq_what(int id)
{
	return stmts[id].what;
}

int sq_malformed(int id, const char *column)
{
	return pv_error_set(PV_ESTORE, "store: %s: malformed value in column %s", stmts[id].what, column);
}

/*
 * The statement for operation `id`: the cached one, prepared on first use, or a
 * one-off when the cached one is still stepping (a walk calling back into the
 * same operation). Release it with sq_put().
 */
int sq_get(pv_sqlite *q, int id, sqlite3_stmt **out)
{
	sqlite3_stmt *st = q->st[id];
	int rc;

	if (st != NULL && !sqlite3_stmt_busy(st)) {
		*out = st;
		return 0;
	}
	rc = sqlite3_prepare_v3(q->db, stmts[id].sql, -1, st == NULL ? SQLITE_PREPARE_PERSISTENT : 0,
				out, NULL);
	if (rc != SQLITE_OK) {
		*out = NULL;
		return sq_fail(id, rc);
	}
	if (st == NULL)
		q->st[id] = *out;
	return 0;
}

void sq_put(pv_sqlite *q, int id, sqlite3_stmt *st)
{
	if (st == q->st[id]) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

/* Step a statement that returns no rows; release it. */
int sq_run(pv_sqlite *q, int id, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sq_put(q, id, st);
	return rc == SQLITE_DONE ? 0 : sq_fail(id, rc);
}

/* A bind failed (SQLITE_TOOBIG, SQLITE_NOMEM): release and report. */
int sq_bind_failed(pv_sqlite *q, int id, sqlite3_stmt *st, int rc)
{
	sq_put(q, id, st);
	return sq_fail(id, rc);
}

/* ---- connection ----------------------------------------------------------------------------- */

static void sq_close(pv_store *s)
{
	pv_sqlite *q = Q(s);
	size_t i;

	if (q->ckpt != NULL) {
		/* first: its last checkpoint runs while this connection is idle */
		sqlite3_wal_hook(q->db, NULL, NULL);
		sq_checkpointer_stop(q->ckpt);
		q->ckpt = NULL;
	}
	for (i = 0; i < ST__COUNT; i++)
		sqlite3_finalize(q->st[i]);
	sq_sql_finalize(q);
	sqlite3_close(q->db);
	if (q->job[0] != '\0' && q->job_fd >= 0)
		close(q->job_fd);   /* releases the job's flock */
	free(q);
}

/* Run one parameterless statement (DDL, pragmas, migration bookkeeping). */
static int sq_exec(pv_store *s, const char *sql)
{
	int rc = sqlite3_exec(Q(s)->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return pv_error_set(PV_ESTORE, "store: schema statement: %s", sqlite3_errstr(rc));
	return 0;
}

/* One integer from a parameterless query; 0 if it returns no row. */
static int query_int(pv_sqlite *q, const char *sql, const char *what, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);

	*out = 0;
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*out = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return pv_error_set(PV_ESTORE, "store: %s: %s", what, sqlite3_errstr(rc));
	return 0;
}

static int sq_schema_version(pv_store *s, int64_t *out)
{
	int64_t n;
	int rc;

	rc = query_int(Q(s), "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
		       "AND name = 'schema_migrations'", "read sqlite_master", &n);
	if (rc != 0)
		return rc;
	if (n == 0) {
		*out = 0;
		return 0;
	}
	return query_int(Q(s), "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
			 "read schema_migrations", out);
}

/* Connection settings; journal_mode must really become WAL. */
static int configure(pv_sqlite *q)
{
	static const char *const pragmas[] = {
		"PRAGMA synchronous = FULL",
		"PRAGMA secure_delete = ON",
		"PRAGMA foreign_keys = OFF",
		/* 64 MiB of page cache (the default is 2 MiB): random-UUID keys spread inserts over every
		 * page of the records, identifiers and audit indexes, and a small cache rereads them from
		 * the OS on every batch. Pages are allocated only as they are used. */
		"PRAGMA cache_size = -65536",
	};
	sqlite3_stmt *st = NULL;
	const unsigned char *mode = NULL;
	int rc, wal = 0;
	size_t i;

	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, 5000);
	rc = sqlite3_prepare_v2(q->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			mode = sqlite3_column_text(st, 0);
			wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return pv_error_set(PV_ESTORE, "store: open: set journal_mode: %s", sqlite3_errstr(rc));
	if (!wal)
		return pv_error_set(PV_ESTORE, "store: open: the database cannot use WAL journal mode");
	for (i = 0; i < sizeof(pragmas) / sizeof(pragmas[0]); i++) {
		rc = sqlite3_exec(q->db, pragmas[i], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			return pv_error_set(PV_ESTORE, "store: open: %s: %s", pragmas[i] + 7,
					    sqlite3_errstr(rc));
	}
	return 0;
}

/*
 * Open (with `create`, create) the database at `path` and bring its schema up
 * to date. The umask is 077 for the whole open, so the database and the -wal
 * and -shm files SQLite creates alongside it are 0600 (SQLite also gives those
 * the database file's mode). The umask is per process: another thread
 * creating files during an open gets 0600 files too, never looser ones.
 */
static int sq_open(pv_store **out, const char *path, int create)
{
	pv_sqlite *q;
	struct stat sb;
	mode_t old;
	int rc, fd;

	if (!create && stat(path, &sb) != 0 && errno == ENOENT)
		return pv_error_set(PV_ENOTFOUND, "store: open: no database file at the store path");
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return pv_error_set(PV_ENOMEM, "store: open: out of memory");
	q->base.ops = &pv_store_sqlite_ops;

	old = umask(077);
	if (create) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			rc = pv_error_set(PV_EIO, "store: open: cannot create the database file: %s",
					  strerror(errno));
			goto fail;
		}
		close(fd);
	}
	rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = pv_error_set(PV_ESTORE, "store: open: %s", sqlite3_errstr(rc));
		goto fail;
	}
	rc = configure(q);
	if (rc == 0)
		rc = pv_store_schema_migrate(&q->base, &sqlite_dialect, create);
	if (rc != 0)
		goto fail;
	umask(old);
	*out = &q->base;
	return 0;
fail:
	umask(old);
	sq_close(&q->base);
	return rc;
}

/* ---- transactions --------------------------------------------------------------------------- */

static int tx(pv_store *s, int id)
{
	sqlite3_stmt *st;
	int rc = sq_get(Q(s), id, &st);

	return rc != 0 ? rc : sq_run(Q(s), id, st);
}

/* Set the connection's synchronous level (outside a transaction only): NORMAL when `normal`, else FULL. */
static int sq_synchronous(pv_sqlite *q, int normal)
{
	int rc = sqlite3_exec(q->db, normal ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL", NULL,
			      NULL, NULL);

	if (rc != SQLITE_OK)
		return pv_error_set(PV_ESTORE, "store: set synchronous: %s", sqlite3_errstr(rc));
	q->sync_normal = normal;
	return 0;
}

static int sq_begin(pv_store *s)
{
	pv_sqlite *q = Q(s);
	int rc;

	if (!sqlite3_get_autocommit(q->db))
		return pv_error_set(PV_EINVAL, "store: begin: a transaction is already open");
	/* a durable transaction never runs at NORMAL, even if restoring FULL failed earlier */
	if (q->sync_normal && (rc = sq_synchronous(q, 0)) != 0)
		return rc;
	return tx(s, ST_BEGIN);
}

/*
 * A transaction whose commit does not fsync (WAL + synchronous NORMAL): the
 * commit reaches the OS (a process crash loses nothing), stable storage only
 * at the next FULL commit, sync or checkpoint. The level goes back to FULL
 * when the transaction ends.
 */
static int sq_begin_relaxed(pv_store *s)
{
	pv_sqlite *q = Q(s);
	int rc;

	if (!sqlite3_get_autocommit(q->db))
		return pv_error_set(PV_EINVAL, "store: begin: a transaction is already open");
	if ((rc = sq_synchronous(q, 1)) != 0)
		return rc;
	rc = tx(s, ST_BEGIN);
	if (rc != 0) {
		sq_synchronous(q, 0);
		return rc;
	}
	q->changes0 = sqlite3_total_changes64(q->db);
	return 0;
}

/*
 * fsync the WAL (every commit so far becomes durable): the WAL's file through
 * SQLITE_FCNTL_JOURNAL_POINTER, else a passive checkpoint (which syncs the WAL
 * before copying it).
 */
static int sq_sync(pv_store *s)
{
	pv_sqlite *q = Q(s);
	sqlite3_file *f = NULL;
	int rc;

	rc = sqlite3_file_control(q->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);
	if (rc == SQLITE_OK && f != NULL && f->pMethods != NULL)
		rc = f->pMethods->xSync(f, SQLITE_SYNC_FULL);
	else
		rc = sqlite3_wal_checkpoint_v2(q->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	if (rc != SQLITE_OK)
		return pv_error_set(PV_ESTORE, "store: sync: %s", sqlite3_errstr(rc));
	return 0;
}

/*
 * COMMIT. A relaxed transaction that changed more rows than the audit rows
 * it appended wrote something else: its commit is made durable at once (the
 * WAL fsynced before returning) and s->relaxed cleared. Back to FULL after.
 */
static int sq_commit(pv_store *s)
{
	pv_sqlite *q = Q(s);
	int relaxed = q->sync_normal, rc;
	int64_t changed;

	if (sqlite3_get_autocommit(q->db))
		return pv_error_set(PV_EINVAL, "store: commit: no transaction is open");
	changed = relaxed ? sqlite3_total_changes64(q->db) - q->changes0 : 0;
	rc = tx(s, ST_COMMIT);
	if (!relaxed || !sqlite3_get_autocommit(q->db))
		return rc;   /* a failed COMMIT may leave the transaction open: rollback restores FULL */
	if (rc == 0 && changed != s->tx_audits) {
		s->relaxed = 0;
		rc = sq_sync(s);
	}
	if (sq_synchronous(q, 0) != 0 && rc == 0)
		rc = PV_ESTORE;
	return rc;
}

/* Rolling back with no transaction open is a no-op (SQLite may already have rolled back on error). */
static int sq_rollback(pv_store *s)
{
	pv_sqlite *q = Q(s);
	int rc = 0;

	if (!sqlite3_get_autocommit(q->db))
		rc = tx(s, ST_ROLLBACK);
	if (q->sync_normal && sqlite3_get_autocommit(q->db))
		sq_synchronous(q, 0);
	return rc;
}


const pv_store_ops pv_store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.exec = sq_exec,
	.schema_version = sq_schema_version,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.begin_relaxed = sq_begin_relaxed,
	.sync = sq_sync,
	.meta_get = sq_meta_get,
	.meta_set = sq_meta_set,
	.policy_insert = sq_policy_insert,
	.policy_get = sq_policy_get,
	.subject_insert = sq_subject_insert,
	.subject_get = sq_subject_get,
	.subject_set_state = sq_subject_set_state,
	.identifier_insert = sq_identifier_insert,
	.identifier_find = sq_identifier_find,
	.identifier_each = sq_identifier_each,
	.identifier_delete_subject = sq_identifier_delete_subject,
	.key_insert = sq_key_insert,
	.key_get = sq_key_get,
	.key_update = sq_key_update,
	.key_delete = sq_key_delete,
	.key_each_other_version = sq_key_each_other_version,
	.record_insert = sq_record_insert,
	.record_update = sq_record_update,
	.record_get = sq_record_get,
	.record_each = sq_record_each,
	.record_delete_subject = sq_record_delete_subject,
	.record_count_categories = sq_record_count_categories,
	.record_count = sq_record_count,
	.suppression_insert = sq_suppression_insert,
	.suppression_find = sq_suppression_find,
	.audit_append = sq_audit_append,
	.audit_head = sq_audit_head,
	.audit_each = sq_audit_each,
	.checkpoint_insert = sq_checkpoint_insert,
	.checkpoint_each = sq_checkpoint_each,
	.audit_lock_head = sq_audit_lock_head,
	.try_lock = sq_try_lock,
	.table_count = sq_table_count,
	.table_each = sq_table_each,
	.table_insert = sq_table_insert,
	.sql = sq_sql,
	.apikey_insert = sq_apikey_insert,
	.apikey_get = sq_apikey_get,
	.apikey_each = sq_apikey_each,
	.apikey_revoke = sq_apikey_revoke,
	.hold_insert = sq_hold_insert,
	.hold_get = sq_hold_get,
	.hold_each = sq_hold_each,
	.hold_release = sq_hold_release,
	.record_expired_each = sq_record_expired_each,
	.record_expired_count = sq_record_expired_count,
	.record_delete_refs = sq_record_delete_refs,
	.record_count_subjects = sq_record_count_subjects,
	.tally_add = sq_tally_add,
	.tally_each = sq_tally_each,
	.hold_lock = sq_hold_lock,
	.job_lock = sq_job_lock,
	.job_unlock = sq_job_unlock,
};
