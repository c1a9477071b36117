/*
 * The SQLite backend's retention operations (store.h, "retention"): legal
 * holds, the walk over expired records, deletion by reference, per-subject
 * counts and the anonymized tallies; and the sweep's locks (at the end).
 *
 * These statements are prepared per call rather than cached on the handle:
 * every one of them runs once per sweep batch (thousands of rows) or per
 * administrative action, so a prepare (tens of microseconds) is noise, and the
 * statement table of sqlite.c stays the core's. Loops inside one call
 * (delete_refs, count_subjects) reuse their one statement.
 *
 * Messages name the operation and the table, never a bound value.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/error.h"
#include "store/sqlite_internal.h"

#define HOLD_COLS "id, subject_id, category, from_at, to_at, reason, created_by, created_at, " \
		  "released_by, released_at"
#define EXPIRED_COLS "r.id, r.subject_id, r.category, r.purpose, r.source, r.policy_version, " \
		     "r.collected_at, r.expires_at, r.key_epoch"

/*
 * A record is kept when an active hold covers it (every scope field that is
 * set matches) or its subject is restricted (state 1, PV_SUBJECT_RESTRICTED).
 */
#define KEPT_BY_HOLD \
	"EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL" \
	" AND (h.subject_id IS NULL OR h.subject_id = r.subject_id)" \
	" AND (h.category IS NULL OR h.category = r.category)" \
	" AND (h.from_at IS NULL OR r.collected_at >= h.from_at)" \
	" AND (h.to_at IS NULL OR r.collected_at < h.to_at))"
#define KEPT_RESTRICTED \
	"EXISTS (SELECT 1 FROM subjects su WHERE su.id = r.subject_id AND su.state = 1)"

/* Bind helper: evaluate binds in order, stop at the first failure. */
#define BIND(expr) \
	do { \
		if (b == SQLITE_OK) \
			b = (expr); \
	} while (0)

/* Map an SQLite code to PV_EEXISTS (unique key) or PV_ESTORE, naming `what`. */
static int fail(const char *what, int rc)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return pv_error_set(PV_EEXISTS, "store: %s: key already exists", what);
	return pv_error_set(PV_ESTORE, "store: %s: %s", what, sqlite3_errstr(rc));
}

/* Prepare `sql` on the handle's connection; PV_ESTORE naming `what` on failure. */
static int prepare(pv_sqlite *q, const char *sql, const char *what, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(q->db, sql, -1, out, NULL);

	if (rc != SQLITE_OK) {
		sqlite3_finalize(*out);
		*out = NULL;
		return fail(what, rc);
	}
	return 0;
}

/* Bind "" as NULL, anything else as text. */
static int bind_opt_text(sqlite3_stmt *st, int i, const char *v)
{
	return v[0] == '\0' ? sqlite3_bind_null(st, i) : sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

/* Bind 0 as NULL, anything else as an integer. */
static int bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
	return v == 0 ? sqlite3_bind_null(st, i) : sqlite3_bind_int64(st, i, v);
}

/* ---- legal holds ---------------------------------------------------------------------------- */

int sq_hold_insert(pv_store *s, const pv_store_hold *h)
{
	static const char what[] = "insert into legal_holds";
	sqlite3_stmt *st;
	int rc, b = SQLITE_OK;

	rc = prepare(Q(s), "INSERT INTO legal_holds (" HOLD_COLS ") "
		     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", what, &st);
	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, h->id));
	BIND(bind_opt_text(st, 2, h->subject_id));
	BIND(bind_opt_text(st, 3, h->category));
	BIND(bind_opt_int(st, 4, h->from));
	BIND(bind_opt_int(st, 5, h->to));
	BIND(sq_bind_text(st, 6, h->reason));
	BIND(sq_bind_text(st, 7, h->created_by));
	BIND(sqlite3_bind_int64(st, 8, h->created_at));
	BIND(bind_opt_text(st, 9, h->released_by));
	BIND(bind_opt_int(st, 10, h->released_at));
	rc = b != SQLITE_OK ? b : sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(what, rc);
}

/* Copy the current row of a HOLD_COLS statement into *h; 0 or PV_ESTORE. */
static int hold_row(sqlite3_stmt *st, pv_store_hold *h, const char *what)
{
	memset(h, 0, sizeof(*h));
	if (sq_col_text(st, 0, h->id, sizeof(h->id)) != 0 ||
	    sq_col_text(st, 1, h->subject_id, sizeof(h->subject_id)) != 0 ||
	    sq_col_text(st, 2, h->category, sizeof(h->category)) != 0 ||
	    sq_col_text(st, 5, h->reason, sizeof(h->reason)) != 0 ||
	    sq_col_text(st, 6, h->created_by, sizeof(h->created_by)) != 0 ||
	    sq_col_text(st, 8, h->released_by, sizeof(h->released_by)) != 0)
		return pv_error_set(PV_ESTORE, "store: %s: malformed text column", what);
	h->from = sqlite3_column_int64(st, 3);   /* NULL reads as 0 */
	h->to = sqlite3_column_int64(st, 4);
	h->created_at = sqlite3_column_int64(st, 7);
	h->released_at = sqlite3_column_int64(st, 9);
	return 0;
}

int sq_hold_get(pv_store *s, const char *id, pv_store_hold *out)
{
	static const char what[] = "read legal_holds";
	sqlite3_stmt *st;
	int rc;

	rc = prepare(Q(s), "SELECT " HOLD_COLS " FROM legal_holds WHERE id = ?1", what, &st);
	if (rc != 0)
		return rc;
	rc = sq_bind_text(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = hold_row(st, out, what);
	else if (rc == SQLITE_DONE)
		rc = pv_error_set(PV_ENOTFOUND, "store: %s: no hold %s", what, id);
	else
		rc = fail(what, rc);
	sqlite3_finalize(st);
	return rc;
}

int sq_hold_each(pv_store *s, int active_only,
		 int (*cb)(const pv_store_hold *h, void *payload), void *payload)
{
	static const char what[] = "read legal_holds";
	pv_store_hold h;
	sqlite3_stmt *st;
	int rc, ret = 0;

	rc = prepare(Q(s), active_only ?
		     "SELECT " HOLD_COLS " FROM legal_holds WHERE released_at IS NULL ORDER BY created_at, id" :
		     "SELECT " HOLD_COLS " FROM legal_holds ORDER BY created_at, id", what, &st);
	if (rc != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = hold_row(st, &h, what)) != 0 || (ret = cb(&h, payload)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(what, rc);
	sqlite3_finalize(st);
	return ret;
}

int sq_hold_release(pv_store *s, const char *id, const char *by, pv_time at)
{
	static const char what[] = "update legal_holds";
	sqlite3_stmt *st;
	int rc, b = SQLITE_OK;

	rc = prepare(Q(s), "UPDATE legal_holds SET released_by = ?2, released_at = ?3 "
		     "WHERE id = ?1 AND released_at IS NULL", what, &st);
	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, id));
	BIND(sq_bind_text(st, 2, by));
	BIND(sqlite3_bind_int64(st, 3, at > 0 ? at : 1));
	rc = b != SQLITE_OK ? b : sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(what, rc);
	if (sqlite3_changes(Q(s)->db) == 0)
		return pv_error_set(PV_ENOTFOUND, "store: %s: no active hold %s", what, id);
	return 0;
}

/* ---- expired records ------------------------------------------------------------------------ */

/*
 * The walk uses the records_expires_at index (range from..now, in order) and
 * checks each row against the holds (a handful of rows, usually none) and its
 * subject's state (one primary-key lookup in the same subject's row).
 */
int sq_record_expired_each(pv_store *s, pv_time from, pv_time now, size_t limit,
			   int (*cb)(const pv_store_expired *r, void *payload), void *payload)
{
	static const char what[] = "read records";
	pv_store_expired r;
	sqlite3_stmt *st;
	int rc, b = SQLITE_OK, ret = 0;

	rc = prepare(Q(s), "SELECT " EXPIRED_COLS " FROM records r "
		     "WHERE r.expires_at >= ?1 AND r.expires_at <= ?2 AND " PV_REC_LIVE("r.") " "
		     "AND NOT " KEPT_BY_HOLD " AND NOT " KEPT_RESTRICTED " "
		     "ORDER BY r.expires_at LIMIT ?3", what, &st);
	if (rc != 0)
		return rc;
	BIND(sqlite3_bind_int64(st, 1, from));
	BIND(sqlite3_bind_int64(st, 2, now));
	BIND(sqlite3_bind_int64(st, 3, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit));
	if (b != SQLITE_OK) {
		sqlite3_finalize(st);
		return fail(what, b);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_col_text(st, 0, r.id, sizeof(r.id)) != 0 ||
		    sq_col_text(st, 1, r.subject_id, sizeof(r.subject_id)) != 0 ||
		    sq_col_text(st, 2, r.category, sizeof(r.category)) != 0 ||
		    sq_col_text(st, 3, r.purpose, sizeof(r.purpose)) != 0 ||
		    sq_col_text(st, 4, r.source, sizeof(r.source)) != 0 ||
		    sq_col_text(st, 5, r.policy_version, sizeof(r.policy_version)) != 0) {
			ret = pv_error_set(PV_ESTORE, "store: %s: malformed text column", what);
			break;
		}
		r.collected_at = sqlite3_column_int64(st, 6);
		r.expires_at = sqlite3_column_int64(st, 7);
		r.key_epoch = sqlite3_column_type(st, 8) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 8);
		if ((ret = cb(&r, payload)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(what, rc);
	sqlite3_finalize(st);
	return ret;
}

int sq_record_expired_count(pv_store *s, pv_time now, int64_t *out)
{
	static const char what[] = "count records";
	sqlite3_stmt *st;
	int rc;

	rc = prepare(Q(s), "SELECT COUNT(*) FROM records WHERE expires_at <= ?1 AND " PV_REC_LIVE(""), what, &st);
	if (rc != 0)
		return rc;
	rc = sqlite3_bind_int64(st, 1, now);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = fail(what, rc);
	}
	sqlite3_finalize(st);
	return rc;
}

int sq_record_delete_refs(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted)
{
	static const char what[] = "delete from records";
	sqlite3_stmt *st;
	size_t i, deleted = 0;
	int rc;

	if (out_deleted != NULL)
		*out_deleted = 0;
	if (n == 0)
		return 0;
	rc = prepare(Q(s), "DELETE FROM records WHERE subject_id = ?1 AND id = ?2", what, &st);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = sq_bind_text(st, 1, refs[i].subject_id);
		if (rc == SQLITE_OK)
			rc = sq_bind_text(st, 2, refs[i].id);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc != SQLITE_DONE)
			break;
		deleted += (size_t)sqlite3_changes(Q(s)->db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (i < n)
		return fail(what, rc);
	if (out_deleted != NULL)
		*out_deleted = deleted;
	return 0;
}

int sq_record_count_subjects(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts)
{
	static const char what[] = "count records";
	sqlite3_stmt *st;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	rc = prepare(Q(s), "SELECT COUNT(*) FROM records WHERE subject_id = ?1 AND " PV_REC_LIVE(""), what, &st);
	if (rc != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = sq_bind_text(st, 1, ids[i]);
		if (rc == SQLITE_OK)
			rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		counts[i] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return i < n ? fail(what, rc) : 0;
}

/* ---- anonymized tallies --------------------------------------------------------------------- */

int sq_tally_add(pv_store *s, const char *category, const char *purpose, const char *source,
		 pv_time month, int64_t count)
{
	static const char what[] = "insert into retention_tally";
	sqlite3_stmt *st;
	int rc, b = SQLITE_OK;

	rc = prepare(Q(s), "INSERT INTO retention_tally (category, purpose, source, month, count) "
		     "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (category, purpose, source, month) "
		     "DO UPDATE SET count = retention_tally.count + excluded.count", what, &st);
	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, category));
	BIND(sq_bind_text(st, 2, purpose));
	BIND(sq_bind_text(st, 3, source));
	BIND(sqlite3_bind_int64(st, 4, month));
	BIND(sqlite3_bind_int64(st, 5, count));
	rc = b != SQLITE_OK ? b : sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(what, rc);
}

int sq_tally_each(pv_store *s,
		  int (*cb)(const char *category, const char *purpose, const char *source,
			    pv_time month, int64_t count, void *payload),
		  void *payload)
{
	static const char what[] = "read retention_tally";
	char category[PV_ID_MAX_LEN + 1], purpose[PV_ID_MAX_LEN + 1], source[PV_ID_MAX_LEN + 1];
	sqlite3_stmt *st;
	int rc, ret = 0;

	rc = prepare(Q(s), "SELECT category, purpose, source, month, count FROM retention_tally "
		     "ORDER BY month, category, purpose, source", what, &st);
	if (rc != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_col_text(st, 0, category, sizeof(category)) != 0 ||
		    sq_col_text(st, 1, purpose, sizeof(purpose)) != 0 ||
		    sq_col_text(st, 2, source, sizeof(source)) != 0) {
			ret = pv_error_set(PV_ESTORE, "store: %s: malformed text column", what);
			break;
		}
		ret = cb(category, purpose, source, sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4),
			 payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = fail(what, rc);
	sqlite3_finalize(st);
	return ret;
}

/* ---- sweep locks -------------------------------------------------------------------------- */

/* BEGIN IMMEDIATE holds the database's one write lock: no hold can be created or released meanwhile. */
int sq_hold_lock(pv_store *s)
{
	(void)s;
	return 0;
}

/*
 * A job lock across transactions: flock(LOCK_EX | LOCK_NB) on "<database>-<name>.lock"
 * beside the database file. Chosen over a lease row in meta: the kernel releases
 * an flock when its holder dies (kill -9, a crash), so there is no stale lease to
 * wait out and no clock involved, and taking it writes nothing to the database.
 * flock belongs to the open file description, so two handles of one process
 * exclude each other as two processes do. The file is created 0600 (O_NOFOLLOW)
 * and left in place: deleting it while a sweep holds it would let a second one in.
 * An in-memory or temporary database (no file name) has no other user: granted.
 */
int sq_job_lock(pv_store *s, const char *name, int *acquired)
{
	pv_sqlite *q = Q(s);
	const char *db = sqlite3_db_filename(q->db, "main");
	char path[4096];
	int fd, n;

	*acquired = 0;
	if (q->job[0] != '\0')
		return pv_error_set(PV_EINVAL, "store: lock job: this handle already holds a job lock");
	if (db == NULL || db[0] == '\0') {
		q->job_fd = -1;
		snprintf(q->job, sizeof(q->job), "%s", name);
		*acquired = 1;
		return 0;
	}
	n = snprintf(path, sizeof(path), "%s-%s.lock", db, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return pv_error_set(PV_ELIMIT, "store: lock job: the database path is too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return pv_error_set(PV_EIO, "store: lock job: cannot open the lock file beside the database: %s",
				    strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return 0;   /* another handle holds it */
		return pv_error_set(PV_EIO, "store: lock job: flock: %s", strerror(e));
	}
	q->job_fd = fd;
	snprintf(q->job, sizeof(q->job), "%s", name);
	*acquired = 1;
	return 0;
}

/* Closing the descriptor releases the flock (nothing else refers to its open file description). */
int sq_job_unlock(pv_store *s, const char *name)
{
	pv_sqlite *q = Q(s);

	if (q->job[0] == '\0' || strcmp(q->job, name) != 0)
		return pv_error_set(PV_EINVAL, "store: unlock job: this handle does not hold that lock");
	if (q->job_fd >= 0)
		close(q->job_fd);
	q->job_fd = -1;
	q->job[0] = '\0';
	return 0;
}
