/*
 * Background WAL checkpoints for an SQLite store handle: see
 * store/sqlite_checkpoint.h for what runs when and why durability is unchanged.
 *
 * Threads: the handle's connection (the vault's owner, e.g. the HTTP
 * executor) calls wal_hook() after each commit; it only stores the WAL size
 * and the commit count (atomics) and wakes the checkpointer when the size
 * crosses passive_pages (and checkpoints itself past hard_pages). The checkpointer thread owns its own connection; the
 * mutex and condition variable guard `stopping` and the wake-ups.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "store/sqlite_checkpoint.h"
#include "store/sqlite_internal.h"

struct sq_checkpointer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int stopping;                    /* under mu */
	sqlite3 *db;                     /* the checkpointer's own connection (its thread only) */
	pv_store_checkpointer_options o;
	/* written by wal_hook on the committing thread, read by the checkpointer */
	int64_t wal_pages;
	uint64_t commits;
	int woken;                       /* a wake-up for passive_pages is pending */
	/* counters (atomics) */
	uint64_t n_passive, n_inline, n_truncate, n_busy, n_failed;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void count(uint64_t *n)
{
	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

/*
 * The WAL hook of the handle's connection, called after every commit with the
 * WAL's size in pages. Replaces SQLite's autocheckpoint (which is this hook's
 * default): no checkpoint on the committing thread. Always SQLITE_OK.
 */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct sq_checkpointer *c = arg;

	__atomic_add_fetch(&c->commits, 1, __ATOMIC_RELAXED);
	if (pages >= c->o.hard_pages) {
		/* the thread has fallen behind (writes come faster than its checkpoints can fsync): this
		 * commit waits for the thread's checkpoint in progress (the connection's busy timeout)
		 * and copies the rest of the WAL itself (FULL: every frame, not waiting for readers),
		 * so the next transaction restarts the WAL; back-pressure, as SQLite's autocheckpoint */
		int rc, tries;

		/* SQLite does not wait for another connection's checkpoint (SQLITE_BUSY at once): retry
		 * every millisecond, for up to 5 s */
		for (tries = 0; (rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_FULL, NULL, NULL)) ==
				SQLITE_BUSY && tries < 5000; tries++) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}

		count(rc == SQLITE_OK ? &c->n_inline : rc == SQLITE_BUSY ? &c->n_busy : &c->n_failed);
	}
	__atomic_store_n(&c->wal_pages, (int64_t)pages, __ATOMIC_RELAXED);
	if (pages >= c->o.passive_pages && !__atomic_exchange_n(&c->woken, 1, __ATOMIC_ACQ_REL)) {
		pthread_mutex_lock(&c->mu);
		pthread_cond_signal(&c->cv);
		pthread_mutex_unlock(&c->mu);
	}
	return SQLITE_OK;
}

/*
 * One checkpoint of `mode` on the checkpointer's connection, waiting at most
 * `wait_ms` for locks (0: not at all). Counts the outcome; returns 1 when the
 * whole WAL was copied into the database, else 0.
 */
static int checkpoint(struct sq_checkpointer *c, int mode, unsigned wait_ms)
{
	int log = -1, done = -1, rc;

	sqlite3_busy_timeout(c->db, (int)wait_ms);
	rc = sqlite3_wal_checkpoint_v2(c->db, "main", mode, &log, &done);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
		count(&c->n_busy);
		return 0;
	}
	if (rc != SQLITE_OK) {
		count(&c->n_failed);
		return 0;
	}
	count(mode == SQLITE_CHECKPOINT_PASSIVE ? &c->n_passive : &c->n_truncate);
	return log == done;
}

/* Wait on the condition variable until `ms` from now, a wake-up or stop; returns `stopping`. */
static int wait_ms(struct sq_checkpointer *c, unsigned ms)
{
	struct timespec ts;
	int stopping;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&c->mu);
	if (!c->stopping && !__atomic_load_n(&c->woken, __ATOMIC_ACQUIRE))
		pthread_cond_timedwait(&c->cv, &c->mu, &ts);
	stopping = c->stopping;
	pthread_mutex_unlock(&c->mu);
	return stopping;
}

/*
 * The checkpointer thread: every interval_ms (or when woken at passive_pages)
 * look at the WAL size and the commit count and checkpoint as the header
 * says. After a PASSIVE that could not copy everything (a commit came during
 * it) try again 1 ms later, up to 8 times, so the next transaction finds the
 * WAL fully copied and restarts it from the beginning.
 */
static void *run(void *arg)
{
	struct sq_checkpointer *c = arg;
	uint64_t last_commits = __atomic_load_n(&c->commits, __ATOMIC_RELAXED), last_change = mono_ms();
	uint64_t commits, now, copied = 0;
	int64_t pages;
	int dirty = 0, retry, complete;

	while (!wait_ms(c, c->o.interval_ms)) {
		__atomic_store_n(&c->woken, 0, __ATOMIC_RELEASE);
		pages = __atomic_load_n(&c->wal_pages, __ATOMIC_RELAXED);
		commits = __atomic_load_n(&c->commits, __ATOMIC_RELAXED);
		now = mono_ms();
		if (commits != last_commits) {
			last_commits = commits;
			last_change = now;
			dirty = 1;
		}
		if (dirty && now - last_change >= c->o.idle_ms) {
			/* idle: copy what is left and give the WAL file back to the file system */
			if (checkpoint(c, SQLITE_CHECKPOINT_TRUNCATE, 0))
				dirty = 0;
		} else if (pages >= c->o.passive_pages && commits != copied) {
			for (retry = 0; !(complete = checkpoint(c, SQLITE_CHECKPOINT_PASSIVE, 0)) && retry < 8;
			     retry++) {
				struct timespec ts = { 0, 1000000 };

				nanosleep(&ts, NULL);
			}
			if (complete)
				copied = commits;   /* nothing to copy until the next commit */
		}
	}
	/* closing: whatever is in the WAL goes into the database (the handle's close checkpoints too,
	 * but only if it gets the database to itself) */
	checkpoint(c, SQLITE_CHECKPOINT_TRUNCATE, 1000);
	return NULL;
}

static void free_checkpointer(struct sq_checkpointer *c)
{
	if (c == NULL)
		return;
	sqlite3_close(c->db);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Stop and join the thread (it checkpoints once more first), close its connection, free it. */
void sq_checkpointer_stop(struct sq_checkpointer *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	free_checkpointer(c);
}

/* Set one pragma on `db`; PV_ESTORE naming it. */
static int pragma(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return pv_error_set(PV_ESTORE, "store: checkpointer: %s: %s", sql + 7, sqlite3_errstr(rc));
	return 0;
}

int pv_store_checkpointer_start(pv_store *s, const pv_store_checkpointer_options *o)
{
	struct sq_checkpointer *c = NULL;
	pv_sqlite *q;
	pthread_condattr_t ca;
	const char *path;
	char sql[64];
	int rc;

	if (s == NULL)
		return pv_error_set(PV_EINVAL, "store: checkpointer: expected a store handle");
	if (s->ops != &pv_store_sqlite_ops)
		return 0;
	q = Q(s);
	path = sqlite3_db_filename(q->db, "main");
	if (q->ckpt != NULL || path == NULL || path[0] == '\0')
		return 0;   /* already running, or an in-memory / temporary database */
	if (!sqlite3_get_autocommit(q->db))
		return pv_error_set(PV_EINVAL, "store: checkpointer: a transaction is open");
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return pv_error_set(PV_ENOMEM, "store: checkpointer: out of memory");
	if (o != NULL)
		c->o = *o;
	if (c->o.interval_ms == 0)
		c->o.interval_ms = 50;
	if (c->o.passive_pages <= 0)
		c->o.passive_pages = 1000;
	if (c->o.hard_pages <= c->o.passive_pages)
		c->o.hard_pages = 16 * c->o.passive_pages;
	if (c->o.idle_ms == 0)
		c->o.idle_ms = 1000;
	if (c->o.size_limit <= 0)
		c->o.size_limit = 64ll << 20;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);

	rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE, NULL);
	if (rc != SQLITE_OK) {
		rc = pv_error_set(PV_ESTORE, "store: checkpointer: open: %s", sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(c->db, 1);
	snprintf(sql, sizeof(sql), "PRAGMA journal_size_limit = %lld", (long long)c->o.size_limit);
	/* FULL: a checkpoint fsyncs the WAL before copying it and the database after */
	if ((rc = pragma(c->db, "PRAGMA synchronous = FULL")) != 0 || (rc = pragma(c->db, sql)) != 0 ||
	    (rc = pragma(q->db, sql)) != 0)
		goto fail;
	/* the hook replaces SQLite's autocheckpoint on the handle's connection */
	sqlite3_wal_hook(q->db, wal_hook, c);
	if ((rc = pthread_create(&c->thread, NULL, run, c)) != 0) {
		sqlite3_wal_autocheckpoint(q->db, 1000);   /* back to SQLite's own hook */
		rc = pv_error_set(PV_ENOMEM, "store: checkpointer: cannot start its thread: %s", strerror(rc));
		goto fail;
	}
	q->ckpt = c;
	return 0;
fail:
	free_checkpointer(c);
	return rc;
}

int pv_store_checkpointer_stats_get(pv_store *s, pv_store_checkpointer_stats *out)
{
	struct sq_checkpointer *c;

	if (s == NULL || out == NULL)
		return pv_error_set(PV_EINVAL, "store: checkpointer: expected a store handle and an output");
	if (s->ops != &pv_store_sqlite_ops || (c = Q(s)->ckpt) == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: checkpointer: none running on this handle");
	out->passive = __atomic_load_n(&c->n_passive, __ATOMIC_RELAXED);
	out->inline_ = __atomic_load_n(&c->n_inline, __ATOMIC_RELAXED);
	out->truncate = __atomic_load_n(&c->n_truncate, __ATOMIC_RELAXED);
	out->busy = __atomic_load_n(&c->n_busy, __ATOMIC_RELAXED);
	out->failed = __atomic_load_n(&c->n_failed, __ATOMIC_RELAXED);
	out->wal_pages = __atomic_load_n(&c->wal_pages, __ATOMIC_RELAXED);
	return 0;
}
