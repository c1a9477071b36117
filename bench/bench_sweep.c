/*
 * bench_sweep: the retention sweeper removing M expired records among N,
 * beside a plain SQLite DELETE of the same rows, in the same process.
 *
 *   bench_sweep [--records N] [--expired M] [--per-subject K] [--mode spread|cohort] [--batch B]
 *
 * Defaults: N = 10m records, M = 1m expired, K = 10 records per subject,
 * mode spread, batch 50000 (PV_SWEEP_DEFAULT_BATCH).
 *
 * The rows are generated fast, straight into the vault's SQLite file with one
 * INSERT ... SELECT over a counter (random-UUID-shaped ids, 24-byte nonces,
 * 200-byte random "ciphertexts", the vault's own policy version), not through
 * the 20k/s encrypting ingest: a sweep never decrypts, so the blobs only need
 * their size. Subjects get a row and a (random) wrapped key, so erasure does
 * its real work.
 *   spread: subject s has one expired record when s < M (one record per
 *           subject; no subject is left empty; one audit entry per record)
 *   cohort: the first M / K subjects have all K records expired (every one of
 *           them is erased; one audit entry per subject plus its erasure)
 * Records are collected in order over one day, 400 days ago, and the expired
 * ones expire in that same order over the day before "now" (one retention
 * period for all): rows expire in the order they were written, as they do in
 * a vault, so the walk reads the table in order; the keys of the
 * (subject_id, id) and category indexes stay random either way. (An expiry
 * order unrelated to the row order turns every row of the walk into a random
 * read of a 6.6 GB file: 10x slower on this machine, for both sides.)
 * One in five expired records is contact x marketing (anonymize: a tally), the
 * rest commercial x order_fulfilment (delete); the others are contact x
 * account, which never expires. Policy: tests/data/retention-policy.yaml.
 *
 * The file is then copied, and the copy gets the baseline: one
 * DELETE FROM records WHERE expires_at <= now under the vault's own pragmas
 * (WAL, synchronous=FULL, secure_delete=ON, 64 MiB cache), without hold or
 * restriction checks, tallies, audit or erasure. Then pv_retention_sweep runs
 * on the vault (a dry run first, timed too). Printed: records/s of each, the
 * ratio, and the counts, which are checked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bench_util.h"
#include "crypto/crypto.h"   /* PV_EPOCH_SECONDS: the generator seals nothing but sets key_epoch as record put does */
#include "vault/vault_internal.h"   /* pv_vault_epochs_read: the frontier a first put would create */
#include "privault/error.h"
#include "privault/retention.h"
#include "privault/vault.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/retention-policy.yaml"

/* The sweep's "now": 2026-01-01; records were collected 400 days before. */
static const pv_time NOW = 1767225600;

static const pv_caller ADMIN = { "bench-sweeper", PV_ROLE_ADMIN, NULL, 0 };

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "bench_sweep: %.60s...: %s\n", sql, err ? err : "?");
		exit(1);
	}
}

static int64_t one_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_sweep: %s: %s\n", sql, sqlite3_errmsg(db));
		exit(1);
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;

	if (sqlite3_open(path, &db) != SQLITE_OK) {
		fprintf(stderr, "bench_sweep: cannot open %s\n", path);
		exit(1);
	}
	return db;
}

/*
 * Generate the subjects (with keys) and records into the vault file at `db_path`.
 * Generation is not timed against anything: synchronous=OFF and a big cache.
 */
static void generate(const char *db_path, uint64_t n, uint64_t m, uint64_t k, int cohort)
{
	sqlite3 *db = open_db(db_path);
	char hash[PV_HASH_HEX_LEN + 1], sql[2048], expired[160];
	const unsigned char *t;
	sqlite3_stmt *st;
	uint64_t subjects = (n + k - 1) / k;
	uint64_t t0 = pv_bench_now_ns();

	exec(db, "PRAGMA journal_mode = WAL");
	exec(db, "PRAGMA synchronous = OFF");
	exec(db, "PRAGMA cache_size = -1048576");
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'current_policy'", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW || (t = sqlite3_column_text(st, 0)) == NULL ||
	    strlen((const char *)t) != PV_HASH_HEX_LEN) {
		fprintf(stderr, "bench_sweep: no current policy in the vault\n");
		exit(1);
	}
	memcpy(hash, t, sizeof(hash));
	sqlite3_finalize(st);

	exec(db, "BEGIN");
	/* ids: a multiplicative hash in front spreads them like random UUIDs */
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE c(s) AS (SELECT 0 UNION ALL SELECT s + 1 FROM c WHERE s + 1 < %" PRIu64 ") "
		 "INSERT INTO subjects (id, created_at, regime, birth_year, parental_consent, state) "
		 "SELECT printf('%%08x-0000-4000-8000-%%012x', (s * 2654435761) %% 4294967296, s), "
		 "%" PRId64 ", 0, 0, 0, 0 FROM c", subjects, (int64_t)(NOW - 500 * 86400));
	exec(db, sql);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO subject_keys (subject_id, kek_version, wrapped) "
		 "SELECT id, 1, randomblob(72) FROM subjects");
	exec(db, sql);
	/* expired(i): spread: i % k == 0 and i / k < m; cohort: i < m */
	if (cohort)
		snprintf(expired, sizeof(expired), "i < %" PRIu64, m);
	else
		snprintf(expired, sizeof(expired), "(i %% %" PRIu64 " = 0 AND i / %" PRIu64 " < %" PRIu64 ")",
			 k, k, m);
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < %" PRIu64 "), "
		 "r(i, s, e) AS (SELECT i, i / %" PRIu64 ", %s FROM c) "
		 "INSERT INTO records (subject_id, id, category, purpose, source, policy_version, "
		 "collected_at, updated_at, expires_at, nonce, ciphertext, key_epoch) "
		 "SELECT printf('%%08x-0000-4000-8000-%%012x', (s * 2654435761) %% 4294967296, s), "
		 "printf('%%08x-%%04x-4000-8000-%%012x', (i * 2246822519) %% 4294967296, i %% 65536, i), "
		 "CASE WHEN e AND (i + s) %% 5 = 0 THEN 'contact' WHEN e THEN 'commercial' ELSE 'contact' END, "
		 "CASE WHEN e AND (i + s) %% 5 = 0 THEN 'marketing' WHEN e THEN 'order_fulfilment' ELSE 'account' END, "
		 "'direct', '%s', %" PRId64 " + i * 86400 / %" PRIu64 ", %" PRId64 " + i * 86400 / %" PRIu64 ", "
		 "CASE WHEN e THEN %" PRId64 " + i * 86400 / %" PRIu64 " ELSE NULL END, randomblob(24), randomblob(200), "
		 "CASE WHEN e THEN (%" PRId64 " + i * 86400 / %" PRIu64 ") / %d ELSE NULL END "
		 "FROM r",
		 n, k, expired, hash, (int64_t)(NOW - 400 * 86400), n, (int64_t)(NOW - 400 * 86400), n,
		 (int64_t)(NOW - 2 * 86400), n, (int64_t)(NOW - 2 * 86400), n, PV_EPOCH_SECONDS);
	exec(db, sql);
	/* what record put maintains: the latest expiry of each subject's records (never: INT64_MAX) */
	exec(db, "UPDATE subjects SET records_until = (SELECT MAX(COALESCE(r.expires_at, 9223372036854775807)) "
		 "FROM records r WHERE r.subject_id = subjects.id)");
	exec(db, "COMMIT");
	exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
	printf("generated %" PRIu64 " records of %" PRIu64 " subjects in %.1f s (%" PRId64 " expired)\n",
	       n, subjects, (double)(pv_bench_now_ns() - t0) / 1e9,
	       one_int(db, "SELECT COUNT(*) FROM records WHERE expires_at IS NOT NULL"));
	sqlite3_close(db);
}

static void copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	struct stat sb;
	off_t left;

	if (in < 0 || out < 0 || fstat(in, &sb) != 0) {
		fprintf(stderr, "bench_sweep: copy: %s\n", strerror(errno));
		exit(1);
	}
	for (left = sb.st_size; left > 0;) {
		ssize_t k = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);

		if (k <= 0) {
			fprintf(stderr, "bench_sweep: copy: %s\n", strerror(errno));
			exit(1);
		}
		left -= k;
	}
	close(in);
	close(out);
}

/* The baseline: one plain DELETE of the expired rows under the vault's pragmas. Returns seconds. */
static double baseline(const char *path, int64_t *deleted)
{
	sqlite3 *db = open_db(path);
	char sql[128];
	uint64_t t0;
	double s;

	exec(db, "PRAGMA journal_mode = WAL");
	exec(db, "PRAGMA synchronous = FULL");
	exec(db, "PRAGMA secure_delete = ON");
	exec(db, "PRAGMA cache_size = -65536");
	snprintf(sql, sizeof(sql), "DELETE FROM records WHERE expires_at <= %" PRId64, (int64_t)NOW);
	t0 = pv_bench_now_ns();
	exec(db, sql);
	s = (double)(pv_bench_now_ns() - t0) / 1e9;
	*deleted = sqlite3_changes64(db);
	sqlite3_close(db);
	return s;
}

static uint64_t opt_count(int argc, char **argv, int *i, const char *name)
{
	uint64_t v;

	if (*i + 1 >= argc || (v = pv_bench_parse_count(argv[*i + 1])) == 0) {
		fprintf(stderr, "bench_sweep: %s expects a count (e.g. 1m)\n", name);
		exit(2);
	}
	(*i)++;
	return v;
}

int main(int argc, char **argv)
{
	uint64_t n = 10000000, m = 1000000, k = 10, batch = PV_SWEEP_DEFAULT_BATCH, t0;
	char dir[512], vdir[600], db[700], copy[700];
	pv_sweep_options o = { 0 };
	pv_sweep_report *r = NULL;
	int64_t base_deleted = 0, left = -1;
	double base_s, dry_s, sweep_s, purge_s;
	size_t purged = 0;
	int cohort = 0, i, rc;
	pv_vault *v;
	sqlite3 *check;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--records") == 0)
			n = opt_count(argc, argv, &i, "--records");
		else if (strcmp(argv[i], "--expired") == 0)
			m = opt_count(argc, argv, &i, "--expired");
		else if (strcmp(argv[i], "--per-subject") == 0)
			k = opt_count(argc, argv, &i, "--per-subject");
		else if (strcmp(argv[i], "--batch") == 0)
			batch = opt_count(argc, argv, &i, "--batch");
		else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc)
			cohort = strcmp(argv[++i], "cohort") == 0;
		else {
			fprintf(stderr, "usage: bench_sweep [--records N] [--expired M] [--per-subject K] "
				"[--mode spread|cohort] [--batch B]\n");
			return 2;
		}
	}
	if (m > n || (!cohort && m > n / k) || (cohort && m % k != 0) || batch > PV_SWEEP_MAX_BATCH) {
		fprintf(stderr, "bench_sweep: spread needs M <= N / K, cohort M a multiple of K, batch <= %d\n",
			PV_SWEEP_MAX_BATCH);
		return 2;
	}

	pv_bench_tmpdir(dir, sizeof(dir), "sweep");
	snprintf(vdir, sizeof(vdir), "%s/vault", dir);
	snprintf(db, sizeof(db), "%s/vault.db", vdir);
	snprintf(copy, sizeof(copy), "%s/baseline.db", dir);
	pv_clock_set(NOW - 500 * 86400);
	if ((rc = pv_vault_init(vdir, POLICY, NULL)) != 0)
		pv_bench_die("pv_vault_init", rc);
	/* the epoch key frontier, as the vault's first record put with an expiry creates it */
	if ((rc = pv_vault_open(&v, vdir, NULL)) != 0 || (rc = pv_vault_epochs_read(v, 1)) != 0)
		pv_bench_die("epoch frontier", rc);
	pv_vault_close(v);
	v = NULL;
	printf("bench_sweep: %" PRIu64 " records, %" PRIu64 " expired, %" PRIu64 " per subject, mode %s, batch %" PRIu64 "\n",
	       n, m, k, cohort ? "cohort" : "spread", batch);
	generate(db, n, m, k, cohort);
	copy_file(db, copy);

	base_s = baseline(copy, &base_deleted);
	printf("baseline  DELETE ... WHERE expires_at <= now: %" PRId64 " rows in %.2f s = %.0f rows/s\n",
	       base_deleted, base_s, (double)base_deleted / base_s);
	unlink(copy);

	pv_clock_set(NOW);
	if ((rc = pv_vault_open(&v, vdir, NULL)) != 0)
		pv_bench_die("pv_vault_open", rc);
	o.dry_run = 1;
	t0 = pv_bench_now_ns();
	if ((rc = pv_retention_sweep(v, &ADMIN, &o, &r)) != 0)
		pv_bench_die("dry run", rc);
	dry_s = (double)(pv_bench_now_ns() - t0) / 1e9;
	printf("dry run   %" PRId64 " records, %" PRId64 " subjects to erase in %.2f s = %.0f records/s\n",
	       r->deleted + r->anonymized, r->subjects_erased, dry_s, (double)(r->deleted + r->anonymized) / dry_s);
	pv_sweep_report_free(r);
	r = NULL;

	o.dry_run = 0;
	o.batch = (size_t)batch;
	o.purge = 0;   /* timed on its own below */
	t0 = pv_bench_now_ns();
	if ((rc = pv_retention_sweep(v, &ADMIN, &o, &r)) != 0)
		pv_bench_die("sweep", rc);
	sweep_s = (double)(pv_bench_now_ns() - t0) / 1e9;
	printf("sweep     %" PRId64 " deleted + %" PRId64 " anonymized, %" PRId64 " subjects erased, %" PRId64
	       " batches in %.2f s = %.0f records/s (goal 500000: %s)\n",
	       r->deleted, r->anonymized, r->subjects_erased, r->batches, sweep_s,
	       (double)(r->deleted + r->anonymized) / sweep_s,
	       (double)(r->deleted + r->anonymized) / sweep_s >= 500000 ? "met" : "missed");
	printf("ratio     sweep / baseline = %.2f (the baseline checks no hold and writes no audit, tally or erasure)\n",
	       ((double)(r->deleted + r->anonymized) / sweep_s) / ((double)base_deleted / base_s));
	if ((uint64_t)(r->deleted + r->anonymized) != m || base_deleted != (int64_t)m ||
	    r->subjects_erased != (cohort ? (int64_t)(m / k) : 0)) {
		fprintf(stderr, "bench_sweep: counts differ from the generated data\n");
		return 1;
	}
	pv_sweep_report_free(r);
	t0 = pv_bench_now_ns();
	if ((rc = pv_retention_purge(v, &ADMIN, 0, &purged)) != 0)
		pv_bench_die("purge", rc);
	purge_s = (double)(pv_bench_now_ns() - t0) / 1e9;
	printf("purge     %zu rows of destroyed records deleted afterwards in %.2f s = %.0f rows/s "
	       "(purge / baseline = %.2f)\n", purged, purge_s, (double)purged / purge_s,
	       ((double)purged / purge_s) / ((double)base_deleted / base_s));
	pv_vault_close(v);
	if (purged != m) {
		fprintf(stderr, "bench_sweep: purged %zu rows, expected %" PRIu64 "\n", purged, m);
		return 1;
	}
	check = open_db(db);
	left = one_int(check, "SELECT COUNT(*) FROM records");
	sqlite3_close(check);
	if (left != (int64_t)(n - m)) {
		fprintf(stderr, "bench_sweep: %" PRId64 " records left, expected %" PRIu64 "\n", left, n - m);
		return 1;
	}
	pv_bench_rmtree(dir);
	return 0;
}
