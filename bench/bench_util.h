/*
 * Helpers shared by the benchmarks (bench/bench_*.c): a monotonic clock,
 * scratch directories, the benchmark rows and the plaintext SQLite baseline
 * that every vault figure is compared with in the same process.
 *
 * Not part of the library: these files link against privault_dep like any
 * application would, and use only the public headers.
 */
#ifndef PV_BENCH_UTIL_H
#define PV_BENCH_UTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "privault/vault.h"

/* Nanoseconds from CLOCK_MONOTONIC. */
uint64_t pv_bench_now_ns(void);

/* Print a message and the library's last error to stderr, then exit(1). */
void pv_bench_die(const char *what, int rc) __attribute__((noreturn));

/*
 * Create a fresh scratch directory under $PRIVAULT_BENCH_DIR (default: the
 * system temporary directory) into `out` (size bytes). Exits on failure.
 */
void pv_bench_tmpdir(char *out, size_t size, const char *tag);
/* Remove a directory tree made by pv_bench_tmpdir (unless PRIVAULT_BENCH_KEEP=1). */
void pv_bench_rmtree(const char *dir);

/* The benchmark policy: $PRIVAULT_BENCH_POLICY or bench/bench-policy.yaml of the source tree. */
const char *pv_bench_policy_path(void);

/* Create and open a vault in `dir` (fresh key file, bench policy). Exits on failure. */
pv_vault *pv_bench_vault_new(const char *dir);

/* The callers: a service with grants for account and order_fulfilment (every category). */
const pv_caller *pv_bench_service(void);

/*
 * One benchmark row: record `i` (global index) of subject `i / 10`. Categories
 * cycle identifiers x4, contact x3 (purpose account, source direct) and
 * commercial x3 (purpose order_fulfilment, source partner). `data` is a JSON
 * object of about 200 bytes that differs for every i.
 */
typedef struct {
	const char *category, *purpose, *source;
	char data[320];
	size_t len;
} pv_bench_row;

#define PV_BENCH_RECORDS_PER_SUBJECT 10

void pv_bench_row_make(pv_bench_row *out, uint64_t i);
/* Same data, but always category `category` and purpose `purpose` (for the read benchmark). */
void pv_bench_row_make_for(pv_bench_row *out, uint64_t i, const char *category, const char *purpose,
			   const char *source);
/* The e-mail address of subject `s` (its identifier). out: 64 bytes. */
void pv_bench_email(char *out, size_t size, uint64_t s);

/*
 * The plaintext baseline: what an application would store without privault.
 * subjects(id TEXT PRIMARY KEY, email TEXT UNIQUE, regime, created_at) and
 * records(subject_id, id, category, purpose, source, collected_at, data TEXT,
 * PRIMARY KEY (subject_id, id)) with an index (subject_id, category,
 * collected_at): the vault's own keys, without encryption, keys table,
 * blind index, expiry index or audit. journal_mode=WAL, synchronous=FULL,
 * like the vault. Prepared statements are kept on the handle.
 */
typedef struct {
	sqlite3 *db;
	sqlite3_stmt *ins_subject, *ins_record, *sel_records, *begin, *commit;
} pv_bench_sqlite;

void pv_bench_sqlite_open(pv_bench_sqlite *out, const char *path);
void pv_bench_sqlite_close(pv_bench_sqlite *b);
void pv_bench_sqlite_begin(pv_bench_sqlite *b);
void pv_bench_sqlite_commit(pv_bench_sqlite *b);
/* Insert a subject with a fresh random UUID (into out_id) and its e-mail. */
void pv_bench_sqlite_subject(pv_bench_sqlite *b, const char *email, char out_id[PV_ID_LEN + 1]);
/* Insert a record with a fresh random UUID. */
void pv_bench_sqlite_record(pv_bench_sqlite *b, const char *subject_id, const pv_bench_row *row);
/*
 * SELECT a subject's records for a purpose and copy each row's data into a
 * malloc'd buffer (as the vault hands out copies), then free them. Returns the
 * number of rows.
 */
size_t pv_bench_sqlite_read(pv_bench_sqlite *b, const char *subject_id, const char *purpose);

/* Sort `v` in place and return the value at quantile q (0..1), nearest rank. */
double pv_bench_quantile(double *v, size_t n, double q);

/* Parse a count such as "100000", "100k" or "1m". 0 on error. */
uint64_t pv_bench_parse_count(const char *s);

#endif
