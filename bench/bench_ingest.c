/*
 * bench_ingest: ingest N records through the vault's C API and the same rows
 * as plaintext SQLite inserts, in the same process, and print the ratio.
 *
 *   bench_ingest [--batch B] N [N ...]      (N like 10000, 100k, 1m)
 *
 * "The same rows": record i belongs to subject i/10 (10 records per subject);
 * subject s is created, with its e-mail address as identifier, just before its
 * first record; data is a ~200-byte JSON object (bench_util.c). The vault path
 * is pv_subject_create + pv_record_put inside pv_vault_begin/commit, B records
 * per batch (default 1000). The baseline path is INSERT INTO subjects +
 * INSERT INTO records with prepared statements inside BEGIN/COMMIT, B records
 * per batch, WAL and synchronous=FULL (bench_util.h has the schema).
 * Each batch's rows are generated once, outside the timed sections, then
 * written by both sides; the side that goes first alternates every batch so
 * that both see the same machine noise and cache state.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "privault/error.h"
#include "privault/vault.h"

static uint64_t du_total;

static int du_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		du_total += (uint64_t)st->st_size;
	return 0;
}

/* Bytes of the regular files under dir. */
static uint64_t dir_bytes(const char *dir)
{
	du_total = 0;
	nftw(dir, du_entry, 16, FTW_PHYS);
	return du_total;
}

typedef struct {
	uint64_t n;
	double vault_s, sqlite_s;
	double vault_user, vault_sys, sqlite_user, sqlite_sys;   /* CPU seconds (getrusage) */
	uint64_t vault_bytes, sqlite_bytes;
} ingest_result;

/* The process's user and system CPU time in seconds so far. */
static void cpu_now(double *user, double *sys)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	*user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	*sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Write rows [first, first+count) of `rows` into the vault in one batch. */
static void vault_batch(pv_vault *v, const pv_bench_row *rows, uint64_t first, size_t count,
			char subject[PV_ID_LEN + 1])
{
	const pv_caller *caller = pv_bench_service();
	char rid[PV_ID_LEN + 1];
	size_t k;
	int rc;

	if ((rc = pv_vault_begin(v)) != 0)
		pv_bench_die("pv_vault_begin", rc);
	for (k = 0; k < count; k++) {
		uint64_t i = first + k;
		pv_record_spec spec;

		if (i % PV_BENCH_RECORDS_PER_SUBJECT == 0) {
			char email[64];
			pv_identifier ident = { "email", email };
			pv_subject_spec ss = { &ident, 1, NULL, 0, 0 };

			pv_bench_email(email, sizeof(email), i / PV_BENCH_RECORDS_PER_SUBJECT);
			if ((rc = pv_subject_create(v, caller, &ss, subject)) != 0)
				pv_bench_die("pv_subject_create", rc);
		}
		spec.category = rows[k].category;
		spec.purpose = rows[k].purpose;
		spec.source = rows[k].source;
		spec.data = rows[k].data;
		spec.len = rows[k].len;
		if ((rc = pv_record_put(v, caller, subject, &spec, rid)) != 0)
			pv_bench_die("pv_record_put", rc);
	}
	if ((rc = pv_vault_commit(v)) != 0)
		pv_bench_die("pv_vault_commit", rc);
}

/* The same rows into the plaintext baseline. */
static void sqlite_batch(pv_bench_sqlite *b, const pv_bench_row *rows, uint64_t first, size_t count,
			 char subject[PV_ID_LEN + 1])
{
	size_t k;

	pv_bench_sqlite_begin(b);
	for (k = 0; k < count; k++) {
		uint64_t i = first + k;

		if (i % PV_BENCH_RECORDS_PER_SUBJECT == 0) {
			char email[64];

			pv_bench_email(email, sizeof(email), i / PV_BENCH_RECORDS_PER_SUBJECT);
			pv_bench_sqlite_subject(b, email, subject);
		}
		pv_bench_sqlite_record(b, subject, &rows[k]);
	}
	pv_bench_sqlite_commit(b);
}

/* One ingest of n records on both sides; fills *out. */
static void run(uint64_t n, size_t batch, ingest_result *out)
{
	char vdir[4096], sdir[4096], spath[4200];
	char vsubject[PV_ID_LEN + 1] = "", ssubject[PV_ID_LEN + 1] = "";
	pv_bench_row *rows;
	pv_bench_sqlite b;
	pv_vault *v;
	uint64_t first, tv = 0, ts = 0, nb = 0, bytes = 0;

	rows = calloc(batch, sizeof(*rows));
	if (rows == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	pv_bench_tmpdir(vdir, sizeof(vdir), "ingest-vault");
	pv_bench_tmpdir(sdir, sizeof(sdir), "ingest-sqlite");
	snprintf(spath, sizeof(spath), "%s/plain.db", sdir);
	v = pv_bench_vault_new(vdir);
	pv_bench_sqlite_open(&b, spath);

	for (first = 0; first < n; first += batch, nb++) {
		size_t count = n - first < batch ? (size_t)(n - first) : batch;
		size_t k;

		for (k = 0; k < count; k++) {
			pv_bench_row_make(&rows[k], first + k);
			bytes += rows[k].len;
		}
		for (int side = 0; side < 2; side++) {
			/* even batches: vault first; odd batches: SQLite first */
			int vault_side = (side == 0) == (nb % 2 == 0);
			double u0, s0, u1, s1;
			uint64_t t0, t1;

			cpu_now(&u0, &s0);
			t0 = pv_bench_now_ns();
			if (vault_side)
				vault_batch(v, rows, first, count, vsubject);
			else
				sqlite_batch(&b, rows, first, count, ssubject);
			t1 = pv_bench_now_ns();
			cpu_now(&u1, &s1);
			if (vault_side) {
				tv += t1 - t0;
				out->vault_user += u1 - u0;
				out->vault_sys += s1 - s0;
			} else {
				ts += t1 - t0;
				out->sqlite_user += u1 - u0;
				out->sqlite_sys += s1 - s0;
			}
		}
	}
	pv_vault_close(v);
	pv_bench_sqlite_close(&b);

	out->n = n;
	out->vault_s = (double)tv / 1e9;
	out->sqlite_s = (double)ts / 1e9;
	out->vault_bytes = dir_bytes(vdir);
	out->sqlite_bytes = dir_bytes(sdir);
	fprintf(stderr, "bench: ingest n=%" PRIu64 ": mean record data %.0f bytes, %" PRIu64 " subjects\n",
		n, n ? (double)bytes / (double)n : 0.0, (n + PV_BENCH_RECORDS_PER_SUBJECT - 1) / PV_BENCH_RECORDS_PER_SUBJECT);
	pv_bench_rmtree(vdir);
	pv_bench_rmtree(sdir);
	free(rows);
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_ingest [--batch B] N [N ...]   (N: 10000, 100k, 1m)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	ingest_result *res;
	size_t batch = 1000, nres = 0;
	int i;

	if (sodium_init() < 0)
		return 1;
	res = calloc((size_t)argc, sizeof(*res));
	if (res == NULL)
		return 1;
	for (i = 1; i < argc; i++) {
		uint64_t n;

		if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
			batch = (size_t)pv_bench_parse_count(argv[++i]);
			if (batch == 0)
				usage();
			continue;
		}
		n = pv_bench_parse_count(argv[i]);
		if (n == 0)
			usage();
		run(n, batch, &res[nres]);
		nres++;
	}
	if (nres == 0)
		usage();

	printf("ingest: %zu records per batch, 10 records per subject, ~200-byte JSON records\n", batch);
	printf("%10s %12s %12s %9s %15s %15s %9s %9s  %s\n", "records", "vault rec/s", "sqlite rec/s", "slowdown",
	       "vault cpu u+s", "sqlite cpu u+s", "vault MB", "sqlite MB", "goal (slowdown <= 2)");
	for (size_t k = 0; k < nres; k++) {
		double vr = (double)res[k].n / res[k].vault_s, sr = (double)res[k].n / res[k].sqlite_s;
		double ratio = sr / vr;

		printf("%10" PRIu64 " %12.0f %12.0f %8.2fx %7.2f+%5.2fs %7.2f+%5.2fs %9.1f %9.1f  %s\n", res[k].n, vr, sr,
		       ratio, res[k].vault_user, res[k].vault_sys, res[k].sqlite_user, res[k].sqlite_sys,
		       (double)res[k].vault_bytes / 1e6, (double)res[k].sqlite_bytes / 1e6, ratio <= 2.0 ? "met" : "MISSED");
	}
	for (size_t k = 0; k < nres; k++) {
		double vr = (double)res[k].n / res[k].vault_s, sr = (double)res[k].n / res[k].sqlite_s;

		printf("BENCH ingest n=%" PRIu64 " batch=%zu vault_rps=%.0f sqlite_rps=%.0f ratio=%.3f"
		       " vault_s=%.3f sqlite_s=%.3f vault_user_s=%.3f vault_sys_s=%.3f sqlite_user_s=%.3f sqlite_sys_s=%.3f"
		       " vault_bytes=%" PRIu64 " sqlite_bytes=%" PRIu64 " goal=2 met=%d\n",
		       res[k].n, batch, vr, sr, sr / vr, res[k].vault_s, res[k].sqlite_s, res[k].vault_user, res[k].vault_sys,
		       res[k].sqlite_user, res[k].sqlite_sys, res[k].vault_bytes, res[k].sqlite_bytes, sr / vr <= 2.0);
	}
	free(res);
	return 0;
}
