/*
 * bench_requests (rights requests, issue 6): intake of N data-subject
 * requests (default 100k) through pv_request_submit, in batches, beside two
 * baselines measured in the same process:
 *   - a plain SQLite INSERT of the same request rows (the columns of
 *     rights_requests, the identifier in clear, no history, no audit), same
 *     durability (WAL, synchronous=FULL), same batch size;
 *   - pv_subject_create of the subjects the requests are about.
 * Requests: opt-outs (verified at intake) by e-mail, 9 of 10 about one of S
 * known subjects and 1 of 10 about an unknown address; then N/10 access
 * requests whose one-time code is queued through the outbox (sealed).
 * Policy: tests/data/rights-policy.yaml.
 *
 * usage: bench_requests [N] [--batch B] [--subjects S]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "bench_util.h"
#include "privault/rights.h"
#include "privault/vault.h"

static const pv_caller SERVICE = { "bench-intake", PV_ROLE_SERVICE, NULL, 0 };
static const pv_caller ADMIN = { "bench-admin", PV_ROLE_ADMIN, NULL, 0 };

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

static void sq(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", err ? err : "?");
		exit(1);
	}
}

/* The baseline: N request rows into a plain table, batch by batch. */
static double baseline(const char *dir, uint64_t n, uint64_t batch, uint64_t nsubj)
{
	char path[600], email[64], id[64];
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t t0, t1;

	snprintf(path, sizeof(path), "%s/plain.db", dir);
	if (sqlite3_open(path, &db) != SQLITE_OK)
		exit(1);
	sq(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
	sq(db, "CREATE TABLE requests (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, email TEXT NOT NULL, "
	       "type INTEGER, regime INTEGER, requester INTEGER, state INTEGER, received_at INTEGER, "
	       "due_at INTEGER, closed_at INTEGER, reason TEXT);"
	       "CREATE INDEX requests_subject ON requests (subject_id, type, received_at);"
	       "CREATE INDEX requests_open ON requests (state, due_at);");
	if (sqlite3_prepare_v2(db, "INSERT INTO requests VALUES (?, ?, ?, 6, 0, 0, 2, ?, ?, 0, '')", -1, &st,
			       NULL) != SQLITE_OK)
		exit(1);
	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		if (i % batch == 0)
			sq(db, "BEGIN");
		pv_bench_email(email, sizeof(email), i % 10 == 9 ? nsubj + i : i % nsubj);
		snprintf(id, sizeof(id), "%08" PRIx64 "-0000-4000-8000-000000000000", i & 0xffffffffu);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, "00000000-0000-4000-8000-000000000001", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, email, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, 1741608000 + (int64_t)i);
		sqlite3_bind_int64(st, 5, 1741608000 + (int64_t)i + 31 * 86400);
		if (sqlite3_step(st) != SQLITE_DONE)
			exit(1);
		sqlite3_reset(st);
		if (i % batch == batch - 1 || i == n - 1)
			sq(db, "COMMIT");
	}
	t1 = pv_bench_now_ns();
	sqlite3_finalize(st);
	sqlite3_close(db);
	return secs(t0, t1);
}

int main(int argc, char **argv)
{
	uint64_t n = 100000, batch = 1000, nsubj = 10000, t0, t1;
	char dir[512], email[64], sid[PV_ID_LEN + 1];
	pv_vault *v;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
			batch = pv_bench_parse_count(argv[++i]);
		else if (strcmp(argv[i], "--subjects") == 0 && i + 1 < argc)
			nsubj = pv_bench_parse_count(argv[++i]);
		else
			n = pv_bench_parse_count(argv[i]);
	}
	if (!n || !batch || !nsubj) {
		fprintf(stderr, "usage: bench_requests [N] [--batch B] [--subjects S]\n");
		return 2;
	}
	setenv("PRIVAULT_BENCH_POLICY", PV_SOURCE_ROOT "/tests/data/rights-policy.yaml", 0);
	pv_clock_set(1741608000);   /* 2025-03-10T12:00:00Z: deadlines computed against one fixed day */
	pv_bench_tmpdir(dir, sizeof(dir), "requests");
	v = pv_bench_vault_new(dir);

	/* subjects (also a baseline: a plain vault write per row) */
	t0 = pv_bench_now_ns();
	for (uint64_t s = 0; s < nsubj; s++) {
		pv_identifier id = { "email", email };
		pv_subject_spec spec = { &id, 1, NULL, 0, 0 };
		if (s % batch == 0 && (rc = pv_vault_begin(v)) < 0)
			pv_bench_die("begin", rc);
		pv_bench_email(email, sizeof(email), s);
		if ((rc = pv_subject_create(v, &ADMIN, &spec, sid)) < 0)
			pv_bench_die("pv_subject_create", rc);
		if ((s % batch == batch - 1 || s == nsubj - 1) && (rc = pv_vault_commit(v)) < 0)
			pv_bench_die("commit", rc);
	}
	t1 = pv_bench_now_ns();
	double t_subj = secs(t0, t1);

	/* opt-outs: verified at intake */
	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		pv_request_spec s;
		memset(&s, 0, sizeof(s));
		s.type = PV_POLICY_REQ_OPT_OUT;
		s.id_kind = "email";
		s.id_value = email;
		pv_bench_email(email, sizeof(email), i % 10 == 9 ? nsubj + i : i % nsubj);
		if (i % batch == 0 && (rc = pv_vault_begin(v)) < 0)
			pv_bench_die("begin", rc);
		if ((rc = pv_request_submit(v, &SERVICE, &s, NULL)) < 0)
			pv_bench_die("pv_request_submit", rc);
		if ((i % batch == batch - 1 || i == n - 1) && (rc = pv_vault_commit(v)) < 0)
			pv_bench_die("commit", rc);
	}
	t1 = pv_bench_now_ns();
	double t_opt = secs(t0, t1);

	/* access requests: a code through the outbox each */
	uint64_t na = n / 10 ? n / 10 : 1;
	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < na; i++) {
		pv_request_spec s;
		memset(&s, 0, sizeof(s));
		s.type = PV_POLICY_REQ_ACCESS;
		s.id_kind = "email";
		s.id_value = email;
		pv_bench_email(email, sizeof(email), i % nsubj);
		if (i % batch == 0 && (rc = pv_vault_begin(v)) < 0)
			pv_bench_die("begin", rc);
		if ((rc = pv_request_submit(v, &SERVICE, &s, NULL)) < 0)
			pv_bench_die("pv_request_submit (access)", rc);
		if ((i % batch == batch - 1 || i == na - 1) && (rc = pv_vault_commit(v)) < 0)
			pv_bench_die("commit", rc);
	}
	t1 = pv_bench_now_ns();
	double t_acc = secs(t0, t1);

	/* due list over everything open */
	pv_request *l;
	size_t nl;
	pv_clock_set(1741608000 + 60 * 86400);
	t0 = pv_bench_now_ns();
	if ((rc = pv_request_due(v, &ADMIN, 0, &l, &nl)) < 0)
		pv_bench_die("pv_request_due", rc);
	t1 = pv_bench_now_ns();
	pv_request_list_free(l, nl);
	double t_due = secs(t0, t1);
	pv_vault_close(v);

	double t_base = baseline(dir, n, batch, nsubj);
	pv_bench_rmtree(dir);

	printf("subjects:   %" PRIu64 " pv_subject_create in %.2f s = %.0f /s\n", nsubj, t_subj, (double)nsubj / t_subj);
	printf("intake:     %" PRIu64 " opt-out requests (batch %" PRIu64 ") in %.2f s = %.0f requests/s\n", n, batch,
	       t_opt, (double)n / t_opt);
	printf("  with code:%" PRIu64 " access requests, code queued through the outbox, in %.2f s = %.0f requests/s\n",
	       na, t_acc, (double)na / t_acc);
	printf("baseline:   %" PRIu64 " plain SQLite inserts of the same rows in %.2f s = %.0f rows/s\n", n, t_base,
	       (double)n / t_base);
	printf("ratio:      intake / plain insert = %.3f (%.1fx slower); intake / subject creation = %.2f\n",
	       t_base / t_opt, t_opt / t_base, ((double)n / t_opt) / ((double)nsubj / t_subj));
	printf("due list:   %zu overdue of %" PRIu64 " open in %.1f ms\n", nl, n + na, t_due * 1e3);
	return 0;
}
