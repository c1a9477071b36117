/*
 * bench_http_inproc: the in-process rate of the three operations that
 * bench/http_bench.sh drives over HTTP with wrk, so each HTTP figure is
 * printed beside the same vault call in a loop, measured by the same script:
 *
 *   read    pv_record_read of one subject's records for purpose account
 *           (the subject holds RECORDS records, identifiers and contact)
 *   write   pv_record_put of one ~200-byte record (round robin over SUBJECTS)
 *   lookup  pv_subject_find by e-mail (round robin over SUBJECTS)
 *
 *   bench_http_inproc [--seconds S] [--subjects N] [--records R] [--batch B] [--relaxed]
 *
 * Every call is audited and durable like over HTTP. With --batch 1 (the
 * default) each call is its own transaction (one fsync'd commit per call);
 * with --batch B, B calls share one transaction, as the server's group commit
 * does. --relaxed (with --batch B > 1) opens the batches of reads and lookups
 * with pv_vault_begin_ex(PV_TX_RELAXED), as the server's executor does for
 * batches of read-only routes (writes stay durable). Prints one line per operation:
 *   BENCH op=read mode=inproc batch=1 [durability=relaxed] ops=N seconds=S rate=R p99_us=L
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "privault/error.h"
#include "privault/vault.h"

typedef struct {
	pv_vault *v;
	char (*ids)[PV_ID_LEN + 1];
	uint64_t nsubjects;
	uint64_t batch;
	uint64_t seq;
	int relaxed;   /* --relaxed */
} ctx;

typedef void (*op_fn)(ctx *c, uint64_t i);

static void op_read(ctx *c, uint64_t i)
{
	pv_record_list *l = NULL;
	int rc = pv_record_read(c->v, pv_bench_service(), c->ids[i % c->nsubjects], "account", NULL, &l, NULL);

	if (rc != 0 || pv_record_list_count(l) == 0)
		pv_bench_die("pv_record_read", rc);
	pv_record_list_free(l);
}

static void op_write(ctx *c, uint64_t i)
{
	char rid[PV_ID_LEN + 1];
	pv_bench_row row;
	pv_record_spec spec;
	int rc;

	pv_bench_row_make_for(&row, 1000000 + c->seq++, "contact", "account", "direct");
	spec = (pv_record_spec){ row.category, row.purpose, row.source, row.data, row.len };
	if ((rc = pv_record_put(c->v, pv_bench_service(), c->ids[i % c->nsubjects], &spec, rid)) != 0)
		pv_bench_die("pv_record_put", rc);
}

static void op_lookup(ctx *c, uint64_t i)
{
	char email[64], id[PV_ID_LEN + 1];
	int rc;

	pv_bench_email(email, sizeof(email), i % c->nsubjects);
	if ((rc = pv_subject_find(c->v, pv_bench_service(), "email", email, id)) != 0)
		pv_bench_die("pv_subject_find", rc);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * Run `fn` for `seconds`, `batch` calls per transaction; print the BENCH line.
 * Latency is per call; with batches the commit's cost lands on the batch's
 * last call, as a request waiting for a group commit sees it.
 */
static void run(ctx *c, const char *name, op_fn fn, double seconds, int read_only)
{
	unsigned flags = c->relaxed && read_only ? PV_TX_RELAXED : 0;
	size_t cap = 1u << 20, n = 0;
	double *lat = malloc(cap * sizeof(double));
	uint64_t start = pv_bench_now_ns(), end = start + (uint64_t)(seconds * 1e9), now = start;
	int rc;

	if (!lat)
		pv_bench_die("malloc", PV_ENOMEM);
	while (now < end) {
		if (c->batch > 1 && (rc = pv_vault_begin_ex(c->v, flags)) != 0)
			pv_bench_die("pv_vault_begin", rc);
		for (uint64_t b = 0; b < c->batch; b++) {
			uint64_t t0 = pv_bench_now_ns();
			fn(c, n);
			if (b + 1 == c->batch && c->batch > 1 && (rc = pv_vault_commit(c->v)) != 0)
				pv_bench_die("pv_vault_commit", rc);
			now = pv_bench_now_ns();
			if (n == cap) {
				double *m = realloc(lat, (cap *= 2) * sizeof(double));
				if (!m)
					pv_bench_die("realloc", PV_ENOMEM);
				lat = m;
			}
			lat[n++] = (double)(now - t0) / 1e3;
		}
	}
	qsort(lat, n, sizeof(double), cmp_double);
	printf("BENCH op=%s mode=inproc batch=%" PRIu64 "%s ops=%zu seconds=%.2f rate=%.0f p99_us=%.0f\n", name,
	       c->batch, flags ? " durability=relaxed" : "", n, (double)(now - start) / 1e9, (double)n / ((double)(now - start) / 1e9),
	       lat[(size_t)((double)(n - 1) * 0.99)]);
	fflush(stdout);
	free(lat);
}

int main(int argc, char **argv)
{
	char dir[4096], email[64];
	pv_identifier ident = { "email", email };
	pv_subject_spec subj = { &ident, 1, NULL, 0, 0 };
	uint64_t nsubjects = 1000, records = 4, batch = 1;
	double seconds = 5;
	int relaxed = 0;
	ctx c;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--seconds") == 0 && val)
			seconds = atof(argv[++i]);
		else if (strcmp(a, "--subjects") == 0 && val)
			nsubjects = pv_bench_parse_count(argv[++i]);
		else if (strcmp(a, "--records") == 0 && val)
			records = pv_bench_parse_count(argv[++i]);
		else if (strcmp(a, "--batch") == 0 && val)
			batch = pv_bench_parse_count(argv[++i]);
		else if (strcmp(a, "--relaxed") == 0)
			relaxed = 1;
		else {
			fprintf(stderr, "usage: bench_http_inproc [--seconds S] [--subjects N] [--records R] [--batch B] "
				"[--relaxed]\n");
			return 2;
		}
	}
	if (nsubjects == 0 || records == 0 || batch == 0 || seconds <= 0) {
		fprintf(stderr, "bench_http_inproc: counts must be positive\n");
		return 2;
	}

	pv_bench_tmpdir(dir, sizeof(dir), "http-inproc");
	memset(&c, 0, sizeof(c));
	c.v = pv_bench_vault_new(dir);
	c.nsubjects = nsubjects;
	c.batch = batch;
	c.relaxed = relaxed;
	c.ids = calloc(nsubjects, sizeof(*c.ids));
	if (!c.ids)
		pv_bench_die("calloc", PV_ENOMEM);

	/* Subjects with `records` records each (identifiers and contact, purpose account), in batches. */
	if ((rc = pv_vault_begin(c.v)) != 0)
		pv_bench_die("pv_vault_begin", rc);
	for (uint64_t s = 0; s < nsubjects; s++) {
		pv_bench_email(email, sizeof(email), s);
		if ((rc = pv_subject_create(c.v, pv_bench_service(), &subj, c.ids[s])) != 0)
			pv_bench_die("pv_subject_create", rc);
		for (uint64_t r = 0; r < records; r++) {
			char rid[PV_ID_LEN + 1];
			pv_bench_row row;
			pv_record_spec spec;
			pv_bench_row_make_for(&row, s * PV_BENCH_RECORDS_PER_SUBJECT + r,
					      r % 2 ? "contact" : "identifiers", "account", "direct");
			spec = (pv_record_spec){ row.category, row.purpose, row.source, row.data, row.len };
			if ((rc = pv_record_put(c.v, pv_bench_service(), c.ids[s], &spec, rid)) != 0)
				pv_bench_die("pv_record_put", rc);
		}
		if (s % 500 == 499) {
			if ((rc = pv_vault_commit(c.v)) != 0 || (rc = pv_vault_begin(c.v)) != 0)
				pv_bench_die("pv_vault_commit", rc);
		}
	}
	if ((rc = pv_vault_commit(c.v)) != 0)
		pv_bench_die("pv_vault_commit", rc);

	run(&c, "read", op_read, seconds, 1);
	run(&c, "write", op_write, seconds, 0);
	run(&c, "lookup", op_lookup, seconds, 1);

	free(c.ids);
	pv_vault_close(c.v);
	pv_bench_rmtree(dir);
	return 0;
}
