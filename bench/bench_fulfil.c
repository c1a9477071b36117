/*
 * bench_fulfil (issue 6): the access package of a subject with N records
 * (default 10,000; goal under 100 ms) beside a plain read of the same records
 * through the vault, and erasing a subject (goal under 5 ms whatever its
 * record count) with 10 and with N records beside pv_subject_erase of a
 * subject of the same size (crypto-shredding alone, no exception evaluation).
 * Each figure is the median of ROUNDS runs on fresh subjects; the ratios are
 * against the baseline measured in the same process. The WAL is checkpointed
 * before each timed operation (the setup's inserts are not charged to it);
 * every timed operation ends with its durable commit (fsync).
 *
 *   bench_fulfil [N] [ROUNDS]      (tests/data/fulfil-policy.yaml unless PRIVAULT_BENCH_POLICY)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_util.h"
#include "privault/fulfil.h"

static const pv_caller admin = { "bench-admin", PV_ROLE_ADMIN, NULL, 0 };

/* A subject with n contact records (about 200 bytes of JSON each), in one batch. */
static void make_subject(pv_vault *v, uint64_t tag, size_t n, char id[PV_ID_LEN + 1])
{
	char email[64];
	pv_identifier ident = { "email", email };
	pv_subject_spec spec = { &ident, 1, NULL, 0, 0 };
	pv_bench_row row;
	char rid[PV_ID_LEN + 1];
	int rc;

	pv_bench_email(email, sizeof(email), tag);
	if ((rc = pv_vault_begin(v)) != 0)
		pv_bench_die("begin", rc);
	if ((rc = pv_subject_create(v, &admin, &spec, id)) != 0)
		pv_bench_die("pv_subject_create", rc);
	for (size_t i = 0; i < n; i++) {
		pv_bench_row_make_for(&row, tag * 100000 + i, "contact", "account", "direct");
		pv_record_spec r = { row.category, row.purpose, row.source, row.data, row.len };
		if ((rc = pv_record_put(v, &admin, id, &r, rid)) != 0)
			pv_bench_die("pv_record_put", rc);
	}
	if ((rc = pv_vault_commit(v)) != 0)
		pv_bench_die("commit", rc);
}

/*
 * Checkpoint the vault's WAL from a connection of our own, so that the
 * checkpoint of the setup's inserts (SQLite runs it inside the next commit
 * once the WAL passes 1000 pages) is not charged to the operation timed next.
 */
static void checkpoint(const char *vault_dir)
{
	char path[700];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/vault.db", vault_dir);
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		fprintf(stderr, "bench_fulfil: checkpoint failed (timings include it)\n");
	sqlite3_close(db);
}

static double ms_since(uint64_t t0)
{
	return (double)(pv_bench_now_ns() - t0) / 1e6;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)pv_bench_parse_count(argv[1]) : 10000;
	int rounds = argc > 2 ? atoi(argv[2]) : 5;
	double *purge_ms, *read_ms, *json_ms, *dir_ms, *er_small, *er_big, *base_small, *base_big;
	char dir[512], vdir[600], pkg[600], sid[PV_ID_LEN + 1];
	uint64_t tag = 1, t0;
	pv_vault *v;
	int rc;

	if (n == 0 || rounds <= 0) {
		fprintf(stderr, "usage: bench_fulfil [N] [ROUNDS]\n");
		return 2;
	}
	if (!getenv("PRIVAULT_BENCH_POLICY"))
		setenv("PRIVAULT_BENCH_POLICY", PV_SOURCE_ROOT "/tests/data/fulfil-policy.yaml", 1);
	purge_ms = calloc((size_t)rounds, sizeof(double));
	read_ms = calloc((size_t)rounds, sizeof(double));
	json_ms = calloc((size_t)rounds, sizeof(double));
	dir_ms = calloc((size_t)rounds, sizeof(double));
	er_small = calloc((size_t)rounds, sizeof(double));
	er_big = calloc((size_t)rounds, sizeof(double));
	base_small = calloc((size_t)rounds, sizeof(double));
	base_big = calloc((size_t)rounds, sizeof(double));
	pv_bench_tmpdir(dir, sizeof(dir), "fulfil");
	snprintf(vdir, sizeof(vdir), "%s/vault", dir);
	v = pv_bench_vault_new(vdir);

	/* ---- access package of one subject with n records, beside a plain read of them */
	make_subject(v, tag++, n, sid);
	checkpoint(vdir);
	for (int r = 0; r < rounds; r++) {
		pv_record_list *l = NULL;
		pv_package_summary sum;
		char *s = NULL;
		size_t len = 0;

		t0 = pv_bench_now_ns();
		if ((rc = pv_record_read(v, &admin, sid, "account", NULL, &l, NULL)) != 0)
			pv_bench_die("pv_record_read", rc);
		if (pv_record_list_count(l) != n)
			pv_bench_die("read count", -1);
		pv_record_list_free(l);
		read_ms[r] = ms_since(t0);

		t0 = pv_bench_now_ns();
		if ((rc = pv_package_json(v, &admin, sid, PV_PACKAGE_ACCESS, &s, &len, &sum)) != 0)
			pv_bench_die("pv_package_json", rc);
		json_ms[r] = ms_since(t0);
		if (sum.records != n)
			pv_bench_die("package count", -1);
		memset(s, 0, len);
		free(s);

		snprintf(pkg, sizeof(pkg), "%s/pkg%d", dir, r);
		t0 = pv_bench_now_ns();
		if ((rc = pv_package_write(v, &admin, sid, PV_PACKAGE_ACCESS, pkg, &sum)) != 0)
			pv_bench_die("pv_package_write", rc);
		dir_ms[r] = ms_since(t0);
	}

	/* ---- erasure of subjects with 10 and n records, beside pv_subject_erase of the same sizes */
	for (int r = 0; r < rounds; r++) {
		pv_erasure_report rep;
		char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1], c[PV_ID_LEN + 1], d[PV_ID_LEN + 1];
		size_t purged = 0;

		make_subject(v, tag++, 10, a);
		make_subject(v, tag++, 10, b);
		make_subject(v, tag++, n, c);
		make_subject(v, tag++, n, d);
		checkpoint(vdir);
		t0 = pv_bench_now_ns();
		if ((rc = pv_subject_erase(v, &admin, a)) != 0)
			pv_bench_die("pv_subject_erase", rc);
		base_small[r] = ms_since(t0);
		checkpoint(vdir);
		t0 = pv_bench_now_ns();
		if ((rc = pv_fulfil_erase(v, &admin, b, &rep)) != 0 || !rep.full)
			pv_bench_die("pv_fulfil_erase", rc);
		er_small[r] = ms_since(t0);
		pv_erasure_report_free(&rep);
		checkpoint(vdir);
		t0 = pv_bench_now_ns();
		if ((rc = pv_subject_erase(v, &admin, c)) != 0)
			pv_bench_die("pv_subject_erase", rc);
		base_big[r] = ms_since(t0);
		checkpoint(vdir);
		t0 = pv_bench_now_ns();
		if ((rc = pv_fulfil_erase(v, &admin, d, &rep)) != 0 || !rep.full)
			pv_bench_die("pv_fulfil_erase", rc);
		er_big[r] = ms_since(t0);
		pv_erasure_report_free(&rep);
		t0 = pv_bench_now_ns();
		if ((rc = pv_fulfil_purge(v, &admin, 0, &purged)) != 0 || purged != n + 10)
			pv_bench_die("pv_fulfil_purge", rc);
		purge_ms[r] = ms_since(t0);
	}

	double rd = pv_bench_quantile(read_ms, (size_t)rounds, 0.5), js = pv_bench_quantile(json_ms, (size_t)rounds, 0.5);
	double dr = pv_bench_quantile(dir_ms, (size_t)rounds, 0.5);
	double bs = pv_bench_quantile(base_small, (size_t)rounds, 0.5), es = pv_bench_quantile(er_small, (size_t)rounds, 0.5);
	double bb = pv_bench_quantile(base_big, (size_t)rounds, 0.5), eb = pv_bench_quantile(er_big, (size_t)rounds, 0.5);
	printf("records per subject: %zu, rounds: %d (medians)\n", n, rounds);
	printf("baseline plain read (pv_record_read)     %9.2f ms\n", rd);
	printf("access package JSON (pv_package_json)    %9.2f ms   %.2fx the read   goal < 100 ms: %s\n", js, js / rd,
	       js < 100 ? "met" : "missed");
	printf("access package dir (json, csv, html)     %9.2f ms   %.2fx the read\n", dr, dr / rd);
	printf("baseline pv_subject_erase, 10 records    %9.2f ms\n", bs);
	printf("pv_fulfil_erase, 10 records              %9.2f ms   %.2fx   goal < 5 ms: %s\n", es, es / bs,
	       es < 5 ? "met" : "missed");
	printf("baseline pv_subject_erase, %zu records %9.2f ms\n", n, bb);
	printf("pv_fulfil_erase, %zu records           %9.2f ms   %.2fx   goal < 5 ms: %s\n", n, eb, eb / bb,
	       eb < 5 ? "met" : "missed");
	printf("pv_fulfil_purge afterwards (%zu + 10 rows) %9.2f ms   (not part of the erasure)\n", n,
	       pv_bench_quantile(purge_ms, (size_t)rounds, 0.5));
	pv_vault_close(v);
	pv_bench_rmtree(dir);
	free(purge_ms);
	free(read_ms), free(json_ms), free(dir_ms), free(er_small), free(er_big), free(base_small), free(base_big);
	return 0;
}
