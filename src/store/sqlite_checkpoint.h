/*
 * Background WAL checkpoints for a long-lived SQLite store handle (the HTTP
 * server's vault, issue 3).
 *
 * By default SQLite checkpoints inside the COMMIT that takes the WAL past
 * 1000 pages: that commit copies the WAL into the database and fsyncs it, and
 * every request waiting on that commit waits for the copy too. With the
 * checkpointer started, the handle's connection never checkpoints on commit
 * (its WAL hook only records the WAL's size) and a thread of its own, on a
 * second connection to the same file, does it instead:
 *   - PASSIVE once the WAL holds passive_pages (writers are never blocked);
 *     the next transaction after a complete one restarts the WAL from its start;
 *   - TRUNCATE when no commit came for idle_ms (without waiting: a busy
 *     database is left for the next idle moment), so an idle server's WAL
 *     file goes back to 0 bytes;
 *   - if the WAL still reaches hard_pages (writes outpace the thread's
 *     checkpoints), the commit that took it there waits for the thread's
 *     checkpoint and runs a FULL one itself, as SQLite's autocheckpoint
 *     would: back-pressure, and the WAL stays bounded near hard_pages;
 *   - one TRUNCATE when the handle closes, before the thread ends.
 * Durability does not change: commits still fsync the WAL (synchronous=FULL),
 * and the checkpointer's connection runs at synchronous=FULL, so it fsyncs the
 * WAL before copying it and the database file after. journal_size_limit caps
 * what a restarted WAL file keeps on disk.
 *
 * Only for SQLite files: on PostgreSQL or an in-memory database start does
 * nothing and returns 0. The thread stops (after its last checkpoint) in
 * pv_store_close(), before the handle's connection closes.
 */
#ifndef PV_STORE_SQLITE_CHECKPOINT_H
#define PV_STORE_SQLITE_CHECKPOINT_H

#include <stdint.h>

#include "store/store.h"

typedef struct {
	unsigned interval_ms;       /* how often the WAL size is looked at (default 50) */
	int64_t passive_pages;      /* PASSIVE from this many WAL pages (default 1000, SQLite's autocheckpoint) */
	int64_t hard_pages;         /* the commit checkpoints itself from this many (default 16 x passive_pages) */
	unsigned idle_ms;           /* TRUNCATE after this long without a commit (default 1000) */
	int64_t size_limit;         /* journal_size_limit in bytes (default 64 MiB) */
} pv_store_checkpointer_options;

/* What the checkpointer did so far (tests, benchmarks). */
typedef struct {
	uint64_t passive, truncate;            /* the thread's checkpoints that completed, by mode */
	uint64_t inline_;                      /* checkpoints a commit ran itself (past hard_pages) */
	uint64_t busy;                         /* attempts that found the database busy */
	uint64_t failed;                       /* attempts that failed otherwise (I/O) */
	int64_t wal_pages;                     /* WAL pages after the last commit the hook saw */
} pv_store_checkpointer_stats;

/*
 * Turn off checkpoints on commit for `s` and start its checkpointer thread
 * (options NULL: the defaults). Returns 0 (also when `s` is not an SQLite
 * file, or already has one), PV_EINVAL, PV_ESTORE (second connection) or
 * PV_ENOMEM. Call it while no transaction is open and no other thread uses `s`.
 */
int pv_store_checkpointer_start(pv_store *s, const pv_store_checkpointer_options *o);

/* The counters of s's checkpointer; PV_ENOTFOUND if it has none. */
int pv_store_checkpointer_stats_get(pv_store *s, pv_store_checkpointer_stats *out);

/* Backend-internal (sq_close): stop the thread after its last checkpoint, close its connection, free it. */
struct sq_checkpointer;
void sq_checkpointer_stop(struct sq_checkpointer *c);

#endif
