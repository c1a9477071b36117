/*
 * bench_read: latency of reading one subject's 100 records for a purpose,
 * pv_record_read (decide each record, decrypt, audit) beside the plaintext
 * SQLite SELECT of the same 100 rows, in the same process.
 *
 *   bench_read [--reads R] [--background N]
 *
 * Both stores first get N background records (default 10000: 1000 other
 * subjects, the ingest benchmark's rows) and then the target subject with 100
 * records, all for purpose "account" (identifiers and contact alternating).
 * Then R reads (default 2000) of the target for "account", after 50 untimed
 * warm-up reads; vault and SQLite reads alternate (and which goes first
 * alternates), each timed on its own, including freeing the result (the
 * baseline copies each row's data into malloc'd memory, as the vault does).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "privault/error.h"
#include "privault/vault.h"

#define TARGET_RECORDS 100
#define WARMUP 50

/* Fill both stores: `background` records of other subjects, then the target; ids into vt/st. */
static void fill(pv_vault *v, pv_bench_sqlite *b, uint64_t background, char vt[PV_ID_LEN + 1],
		 char st[PV_ID_LEN + 1])
{
	const pv_caller *caller = pv_bench_service();
	char vs[PV_ID_LEN + 1] = "", ss[PV_ID_LEN + 1] = "", rid[PV_ID_LEN + 1], email[64];
	pv_identifier ident = { "email", email };
	pv_subject_spec subj = { &ident, 1, NULL, 0, 0 };
	pv_record_spec spec;
	pv_bench_row row;
	uint64_t i;
	int rc;

	for (i = 0; i < background; i++) {
		if (i % 1000 == 0) {
			if (i > 0 && ((rc = pv_vault_commit(v)) != 0))
				pv_bench_die("pv_vault_commit", rc);
			if (i > 0)
				pv_bench_sqlite_commit(b);
			if ((rc = pv_vault_begin(v)) != 0)
				pv_bench_die("pv_vault_begin", rc);
			pv_bench_sqlite_begin(b);
		}
		pv_bench_row_make(&row, i);
		if (i % PV_BENCH_RECORDS_PER_SUBJECT == 0) {
			pv_bench_email(email, sizeof(email), i / PV_BENCH_RECORDS_PER_SUBJECT);
			if ((rc = pv_subject_create(v, caller, &subj, vs)) != 0)
				pv_bench_die("pv_subject_create", rc);
			pv_bench_sqlite_subject(b, email, ss);
		}
		spec = (pv_record_spec){ row.category, row.purpose, row.source, row.data, row.len };
		if ((rc = pv_record_put(v, caller, vs, &spec, rid)) != 0)
			pv_bench_die("pv_record_put", rc);
		pv_bench_sqlite_record(b, ss, &row);
	}
	if (background > 0) {
		if ((rc = pv_vault_commit(v)) != 0)
			pv_bench_die("pv_vault_commit", rc);
		pv_bench_sqlite_commit(b);
	}

	/* The target subject: 100 records for "account". */
	if ((rc = pv_vault_begin(v)) != 0)
		pv_bench_die("pv_vault_begin", rc);
	pv_bench_sqlite_begin(b);
	snprintf(email, sizeof(email), "target@example.com");
	if ((rc = pv_subject_create(v, caller, &subj, vt)) != 0)
		pv_bench_die("pv_subject_create", rc);
	pv_bench_sqlite_subject(b, email, st);
	for (i = 0; i < TARGET_RECORDS; i++) {
		pv_bench_row_make_for(&row, 90000000 + i, i % 2 ? "contact" : "identifiers", "account", "direct");
		spec = (pv_record_spec){ row.category, row.purpose, row.source, row.data, row.len };
		if ((rc = pv_record_put(v, caller, vt, &spec, rid)) != 0)
			pv_bench_die("pv_record_put", rc);
		pv_bench_sqlite_record(b, st, &row);
	}
	if ((rc = pv_vault_commit(v)) != 0)
		pv_bench_die("pv_vault_commit", rc);
	pv_bench_sqlite_commit(b);
}

/* One vault read of the target; returns its duration in ns and checks the count. */
static uint64_t vault_read(pv_vault *v, const char *subject)
{
	pv_record_list *l = NULL;
	pv_decision denied;
	uint64_t t0, t1;
	int rc;

	t0 = pv_bench_now_ns();
	rc = pv_record_read(v, pv_bench_service(), subject, "account", NULL, &l, &denied);
	if (rc != 0)
		pv_bench_die("pv_record_read", rc);
	if (pv_record_list_count(l) != TARGET_RECORDS) {
		fprintf(stderr, "bench: pv_record_read returned %zu records, expected %d\n",
			pv_record_list_count(l), TARGET_RECORDS);
		exit(1);
	}
	pv_record_list_free(l);
	t1 = pv_bench_now_ns();
	return t1 - t0;
}

static uint64_t sqlite_read(pv_bench_sqlite *b, const char *subject)
{
	uint64_t t0, t1;
	size_t n;

	t0 = pv_bench_now_ns();
	n = pv_bench_sqlite_read(b, subject, "account");
	t1 = pv_bench_now_ns();
	if (n != TARGET_RECORDS) {
		fprintf(stderr, "bench: sqlite select returned %zu rows, expected %d\n", n, TARGET_RECORDS);
		exit(1);
	}
	return t1 - t0;
}

int main(int argc, char **argv)
{
	char vdir[4096], sdir[4096], spath[4200], vt[PV_ID_LEN + 1], st[PV_ID_LEN + 1];
	uint64_t reads = 2000, background = 10000, r;
	double *lv, *ls, vmed, vp99, smed, sp99;
	pv_bench_sqlite b;
	pv_vault *v;
	int i;

	if (sodium_init() < 0)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--reads") == 0 && i + 1 < argc)
			reads = pv_bench_parse_count(argv[++i]);
		else if (strcmp(argv[i], "--background") == 0 && i + 1 < argc)
			background = pv_bench_parse_count(argv[++i]);
		else
			reads = 0;
		if (reads == 0) {
			fprintf(stderr, "usage: bench_read [--reads R] [--background N]\n");
			return 2;
		}
	}
	lv = calloc(reads, sizeof(*lv));
	ls = calloc(reads, sizeof(*ls));
	if (lv == NULL || ls == NULL)
		return 1;

	pv_bench_tmpdir(vdir, sizeof(vdir), "read-vault");
	pv_bench_tmpdir(sdir, sizeof(sdir), "read-sqlite");
	snprintf(spath, sizeof(spath), "%s/plain.db", sdir);
	v = pv_bench_vault_new(vdir);
	pv_bench_sqlite_open(&b, spath);
	fill(v, &b, background, vt, st);

	for (r = 0; r < WARMUP; r++) {
		vault_read(v, vt);
		sqlite_read(&b, st);
	}
	for (r = 0; r < reads; r++) {
		if (r % 2 == 0) {
			lv[r] = (double)vault_read(v, vt) / 1e3;
			ls[r] = (double)sqlite_read(&b, st) / 1e3;
		} else {
			ls[r] = (double)sqlite_read(&b, st) / 1e3;
			lv[r] = (double)vault_read(v, vt) / 1e3;
		}
	}
	pv_vault_close(v);
	pv_bench_sqlite_close(&b);
	pv_bench_rmtree(vdir);
	pv_bench_rmtree(sdir);

	vmed = pv_bench_quantile(lv, reads, 0.5);
	vp99 = pv_bench_quantile(lv, reads, 0.99);
	smed = pv_bench_quantile(ls, reads, 0.5);
	sp99 = pv_bench_quantile(ls, reads, 0.99);
	printf("read: one subject's %d records for a purpose, %" PRIu64 " reads, %" PRIu64 " background records\n",
	       TARGET_RECORDS, reads, background);
	printf("%-22s %12s %12s\n", "", "median us", "p99 us");
	printf("%-22s %12.1f %12.1f\n", "vault pv_record_read", vmed, vp99);
	printf("%-22s %12.1f %12.1f\n", "sqlite SELECT", smed, sp99);
	printf("%-22s %11.2fx %11.2fx\n", "ratio (vault/sqlite)", vmed / smed, vp99 / sp99);
	printf("BENCH read records=%d reads=%" PRIu64 " background=%" PRIu64 " vault_median_us=%.1f vault_p99_us=%.1f"
	       " sqlite_median_us=%.1f sqlite_p99_us=%.1f ratio_median=%.3f ratio_p99=%.3f\n",
	       TARGET_RECORDS, reads, background, vmed, vp99, smed, sp99, vmed / smed, vp99 / sp99);
	free(lv);
	free(ls);
	return 0;
}
