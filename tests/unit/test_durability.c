/*
 * Relaxed durability of read batches (issue 3), at each layer:
 *
 * - store: pv_store_begin_relaxed + commit leaves the commit relaxed only when
 *   the transaction wrote nothing but audit rows (the guard makes any other
 *   write durable), pv_store_sync and full transactions clear it, a rollback
 *   leaves the next transaction full. Runs on PRIVAULT_TEST_STORE when set
 *   (PostgreSQL), else on a fresh SQLite file.
 * - vault: pv_vault_begin_ex(PV_TX_RELAXED) with an audited decision is
 *   relaxed, with a subject created in it is durable; flags and sync checked.
 * - executor: a batch of read_only routes commits relaxed, a batch holding one
 *   write (or one read_only route that writes anyway) commits full, as counted
 *   by privault_commits_total{durability=...} in /metrics; an idle executor
 *   syncs within read_sync_ms; durable_reads = 1 makes read batches full.
 *   The executor starts the store's background WAL checkpointer.
 * - checkpointer (SQLite): with checkpoints off the commit path, a long run of
 *   commits (over 6x the bound in WAL frames, written faster than a
 *   checkpoint can fsync) keeps the -wal file under 3 MiB, checkpoints ran, an idle moment truncates the WAL to 0
 *   bytes, closing stops the thread and leaves every row in the database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http/internal.h"
#include "privault/error.h"
#include "store/sqlite_checkpoint.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define POLICY PV_SOURCE_ROOT "/bench/bench-policy.yaml"

static char root[64];

static void rm_tree(const char *dir)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- store ------------------------------------------------------------- */

/* Append one audit row at the head (the store checks shape, not the chain). */
static void append_audit(pv_store *s)
{
	pv_audit_entry e;
	int64_t seq = 0;

	memset(&e, 0, sizeof(e));
	assert_int_equal(pv_store_audit_lock_head(s, &seq, e.prev_hash), 0);
	e.seq = seq + 1;
	e.at = 1700000000000000LL;
	snprintf(e.actor, sizeof(e.actor), "test");
	snprintf(e.action, sizeof(e.action), "record.read");
	snprintf(e.outcome, sizeof(e.outcome), "allowed");
	memset(e.hash, (int)(e.seq & 0xff), sizeof(e.hash));
	assert_int_equal(pv_store_audit_append(s, &e), 0);
}

static void test_store_relaxed(void **state)
{
	const char *env = getenv("PRIVAULT_TEST_STORE");
	char url[700], value[64];
	pv_store *s = NULL;

	(void)state;
	if (env != NULL && env[0] != '\0') {
		snprintf(url, sizeof(url), "%s", env);
	} else {
		snprintf(url, sizeof(url), "sqlite:%s/store.db", root);
	}
	assert_int_equal(pv_store_open(&s, url, 1), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 0);

	/* audit rows only: relaxed */
	assert_int_equal(pv_store_begin_relaxed(s), 0);
	append_audit(s);
	append_audit(s);
	assert_int_equal(pv_store_commit(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 1);
	/* the sync makes it durable */
	assert_int_equal(pv_store_sync(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 0);

	/* a relaxed transaction that writes something else commits durably after all */
	assert_int_equal(pv_store_begin_relaxed(s), 0);
	append_audit(s);
	assert_int_equal(pv_store_meta_set(s, "durability_test", "written"), 0);
	assert_int_equal(pv_store_commit(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 0);
	assert_int_equal(pv_store_meta_get(s, "durability_test", value, sizeof(value)), 0);
	assert_string_equal(value, "written");

	/* a write alone, no audit: durable */
	assert_int_equal(pv_store_begin_relaxed(s), 0);
	assert_int_equal(pv_store_meta_set(s, "durability_test", "again"), 0);
	assert_int_equal(pv_store_commit(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 0);

	/* relaxed, then a full transaction: the full one is not relaxed */
	assert_int_equal(pv_store_begin_relaxed(s), 0);
	append_audit(s);
	assert_int_equal(pv_store_commit(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 1);
	assert_int_equal(pv_store_begin(s), 0);
	append_audit(s);
	assert_int_equal(pv_store_commit(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 0);

	/* a rolled-back relaxed transaction leaves nothing and the next one full */
	assert_int_equal(pv_store_begin_relaxed(s), 0);
	assert_int_equal(pv_store_meta_set(s, "durability_test", "rolled back"), 0);
	assert_int_equal(pv_store_rollback(s), 0);
	assert_int_equal(pv_store_meta_get(s, "durability_test", value, sizeof(value)), 0);
	assert_string_equal(value, "again");
	assert_int_equal(pv_store_begin(s), 0);
	append_audit(s);
	assert_int_equal(pv_store_commit(s), 0);
	assert_int_equal(pv_store_last_commit_relaxed(s), 0);

	/* sync refuses inside a transaction; begin_relaxed does not nest */
	assert_int_equal(pv_store_begin_relaxed(s), 0);
	assert_int_equal(pv_store_sync(s), PV_EINVAL);
	assert_int_equal(pv_store_begin_relaxed(s), PV_EINVAL);
	assert_int_equal(pv_store_rollback(s), 0);
	pv_store_close(s);
}

/* ---- vault ------------------------------------------------------------- */

static pv_vault *vault_new(const char *name)
{
	char dir[128];
	pv_vault *v = NULL;

	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	assert_int_equal(pv_vault_init(dir, POLICY, NULL), 0);
	assert_int_equal(pv_vault_open(&v, dir, NULL), 0);
	return v;
}

static const pv_caller admin = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };

static void test_vault_relaxed(void **state)
{
	pv_vault *v = vault_new("vault");
	pv_decision d;
	pv_identifier id = { "email", "ann@example.com" };
	pv_subject_spec spec;
	char sid[PV_ID_LEN + 1];
	int relaxed = -1;

	(void)state;
	memset(&spec, 0, sizeof(spec));
	spec.identifiers = &id;
	spec.nidentifiers = 1;
	assert_int_equal(pv_subject_create(v, &admin, &spec, sid), 0);

	/* an audited decision only: relaxed */
	assert_int_equal(pv_vault_begin_ex(v, PV_TX_RELAXED), 0);
	assert_int_equal(pv_vault_decide(v, &admin, sid, "identifiers", "account", &d), 0);
	assert_int_equal(pv_vault_commit_ex(v, &relaxed), 0);
	assert_int_equal(relaxed, 1);
	assert_int_equal(pv_vault_sync(v), 0);

	/* a subject created inside a relaxed batch: durable */
	id.value = "bob@example.com";
	assert_int_equal(pv_vault_begin_ex(v, PV_TX_RELAXED), 0);
	assert_int_equal(pv_vault_decide(v, &admin, sid, "identifiers", "account", &d), 0);
	assert_int_equal(pv_subject_create(v, &admin, &spec, sid), 0);
	assert_int_equal(pv_vault_commit_ex(v, &relaxed), 0);
	assert_int_equal(relaxed, 0);

	/* a full batch */
	assert_int_equal(pv_vault_begin_ex(v, 0), 0);
	assert_int_equal(pv_vault_decide(v, &admin, sid, "identifiers", "account", &d), 0);
	assert_int_equal(pv_vault_commit_ex(v, &relaxed), 0);
	assert_int_equal(relaxed, 0);

	/* bad flags, sync inside a batch */
	assert_int_equal(pv_vault_begin_ex(v, 0x80), PV_EINVAL);
	assert_int_equal(pv_vault_begin_ex(v, PV_TX_RELAXED), 0);
	assert_int_equal(pv_vault_sync(v), PV_EINVAL);
	assert_int_equal(pv_vault_rollback(v), 0);
	pv_vault_close(v);
}

/* ---- executor ---------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ndone;

static void on_done(pv_http_job *job)
{
	(void)job;
	pthread_mutex_lock(&mu);
	ndone++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

/* A read: one audit entry. */
static int h_read(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int rc = pv_vault_audit_action(v, req->caller, "test.read", "ok");

	return rc < 0 ? rc : pv_http_json(res, 200, json_object());
}

/* A route that claims read_only but writes a meta row: the store's guard must catch it. */
static int h_liar(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int rc = pv_vault_audit_action(v, req->caller, "test.read", "ok");

	if (rc == 0)
		rc = pv_store_meta_set(pv_vault_store(v), "durability_liar", "x");
	return rc < 0 ? rc : pv_http_json(res, 200, json_object());
}

/* A read that takes 20 ms. */
static int h_slow(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	nanosleep(&(struct timespec){ 0, 20 * 1000000 }, NULL);
	return h_read(v, req, res);
}

static const pv_http_route r_slow = { .method = "GET", .pattern = "/s", .handler = h_slow, .executor = 1,
				      .read_only = 1 };
static const pv_http_route r_read = { .method = "GET", .pattern = "/r", .handler = h_read, .executor = 1,
				      .read_only = 1 };
static const pv_http_route r_write = { .method = "POST", .pattern = "/w", .handler = h_read, .executor = 1 };
static const pv_http_route r_liar = { .method = "GET", .pattern = "/l", .handler = h_liar, .executor = 1,
				      .read_only = 1 };

/* Submit jobs for `routes` (submitted together) and wait until all are done. */
static void run_jobs(pv_http_exec *e, const pv_http_route *const *routes, size_t n)
{
	pv_http_request req[4];
	pv_http_response res[4];
	pv_http_job job[4];

	assert_true(n <= 4);
	pthread_mutex_lock(&mu);
	ndone = 0;
	pthread_mutex_unlock(&mu);
	for (size_t i = 0; i < n; i++) {
		memset(&req[i], 0, sizeof(req[i]));
		memset(&res[i], 0, sizeof(res[i]));
		memset(&job[i], 0, sizeof(job[i]));
		req[i].caller = &admin;
		res[i].decision = -1;
		job[i].route = routes[i];
		job[i].req = &req[i];
		job[i].res = &res[i];
		job[i].done = on_done;
		assert_int_equal(pv_http_exec_submit(e, &job[i]), 0);
	}
	pthread_mutex_lock(&mu);
	while (ndone < (int)n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(res[i].status, 200);
		pv_http_response_reset(&res[i]);
	}
}

/* The value of one metrics line ("name{labels}"), or -1. */
static long long metric(pv_http_metrics *m, const char *series)
{
	char *text = NULL, *p;
	size_t len, n = strlen(series);
	long long v = -1;

	assert_int_equal(pv_http_metrics_render(m, &text, &len), 0);
	for (p = text; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ') {
			v = atoll(p + n + 1);
			break;
		}
	free(text);
	return v;
}

#define FULL "privault_commits_total{durability=\"full\"}"
#define RELAXED "privault_commits_total{durability=\"relaxed\"}"
#define SYNCS "privault_durability_syncs_total"

static void test_executor(void **state)
{
	pv_vault *v = vault_new("exec");
	pv_http_metrics *m = NULL;
	pv_http_exec *e = NULL;
	/* a window long enough that two jobs submitted together always share one batch */
	pv_http_exec_tuning t = { .group_commit_us = 300000, .max_batch = 1, .durable_reads = 0,
				  .read_sync_ms = 10000 };
	const pv_http_route *read1[] = { &r_read }, *write1[] = { &r_write }, *liar1[] = { &r_liar };
	const pv_http_route *mixed[] = { &r_read, &r_write }, *reads[] = { &r_read, &r_read };
	const pv_http_route *slow3[] = { &r_slow, &r_slow, &r_read };
	struct timespec ts = { 0, 150 * 1000000 };

	(void)state;
	assert_int_equal(pv_http_metrics_new(&m, NULL, 0), 0);
	assert_int_equal(pv_http_exec_start(&e, v, &t, m, NULL, NULL), 0);
	{
		pv_store_checkpointer_stats st;

		assert_int_equal(pv_store_checkpointer_stats_get(pv_vault_store(v), &st), 0);
	}

	run_jobs(e, read1, 1);
	assert_int_equal(metric(m, RELAXED), 1);
	assert_int_equal(metric(m, FULL), 0);
	run_jobs(e, write1, 1);
	assert_int_equal(metric(m, RELAXED), 1);
	assert_int_equal(metric(m, FULL), 1);
	run_jobs(e, liar1, 1);   /* flagged read_only, but it wrote: full */
	assert_int_equal(metric(m, RELAXED), 1);
	assert_int_equal(metric(m, FULL), 2);

	/* two per batch: two reads relaxed, a read with a write full */
	t.max_batch = 2;
	pv_http_exec_tune(e, &t);
	run_jobs(e, reads, 2);
	assert_int_equal(metric(m, RELAXED), 2);
	assert_int_equal(metric(m, FULL), 2);
	run_jobs(e, mixed, 2);
	assert_int_equal(metric(m, RELAXED), 2);
	assert_int_equal(metric(m, FULL), 3);
	assert_int_equal(metric(m, "privault_batches_total"), 5);
	assert_int_equal(metric(m, SYNCS), 0);   /* every relaxed commit so far was followed by a full one */

	/* idle after a relaxed commit: synced within read_sync_ms (20 ms; we wait 150) */
	t.max_batch = 1;
	t.group_commit_us = 0;
	t.read_sync_ms = 20;
	pv_http_exec_tune(e, &t);
	run_jobs(e, read1, 1);
	assert_int_equal(metric(m, RELAXED), 3);
	nanosleep(&ts, NULL);
	assert_int_equal(metric(m, SYNCS), 1);

	/* under steady reads, a relaxed commit older than read_sync_ms makes the next batch full:
	 * slow read A (20 ms) commits relaxed; B, queued meanwhile, begins at once (relaxed: the
	 * pending commit is young), takes 20 ms; C begins with A's commit 20 ms old > 10 ms: full */
	t.read_sync_ms = 10;
	pv_http_exec_tune(e, &t);
	run_jobs(e, slow3, 3);
	assert_int_equal(metric(m, RELAXED), 5);
	assert_int_equal(metric(m, FULL), 4);
	assert_int_equal(metric(m, SYNCS), 1);

	/* durable_reads = 1: reads commit full */
	t.read_sync_ms = 10000;
	t.durable_reads = 1;
	pv_http_exec_tune(e, &t);
	run_jobs(e, read1, 1);
	assert_int_equal(metric(m, FULL), 5);
	assert_int_equal(metric(m, RELAXED), 5);

	pv_http_exec_stop(e);   /* closes the vault */
	pv_http_metrics_free(m);
}

/* Size of a file in bytes, 0 if it does not exist. */
static int64_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

static void test_checkpointer(void **state)
{
	pv_store_checkpointer_options o = { .interval_ms = 10, .passive_pages = 100, .hard_pages = 400,
					    .idle_ms = 200, .size_limit = 1 << 20 };
	pv_store_checkpointer_stats st;
	char db[128], wal[140];
	int64_t max_wal = 0, n = 0, size, frames = 0, last = 0;
	pv_store *s = NULL;
	int i, j, waited;

	(void)state;
	snprintf(db, sizeof(db), "%s/ckpt.db", root);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	assert_int_equal(pv_store_open(&s, db, 1), 0);
	assert_int_equal(pv_store_checkpointer_stats_get(s, &st), PV_ENOTFOUND);
	assert_int_equal(pv_store_checkpointer_start(s, &o), 0);
	assert_int_equal(pv_store_checkpointer_start(s, &o), 0);   /* a second start: nothing more */
	assert_int_equal(pv_store_checkpointer_stats_get(s, &st), 0);

	/* 600 relaxed transactions of 200 audit rows (the read path's commits, back to back) */
	for (i = 0; i < 600; i++) {
		assert_int_equal(pv_store_begin_relaxed(s), 0);
		for (j = 0; j < 200; j++, n++)
			append_audit(s);
		assert_int_equal(pv_store_commit(s), 0);
		size = file_size(wal);
		if (size > max_wal)
			max_wal = size;
		assert_int_equal(pv_store_checkpointer_stats_get(s, &st), 0);
		frames += st.wal_pages >= last ? st.wal_pages - last : st.wal_pages;
		last = st.wal_pages;
	}
	assert_int_equal(pv_store_checkpointer_stats_get(s, &st), 0);
	if (getenv("CKDBG") != NULL)
		fprintf(stderr, "wal max %lld frames %lld passive %llu inline %llu busy %llu\n", (long long)max_wal,
			(long long)frames, (unsigned long long)st.passive, (unsigned long long)st.inline_,
			(unsigned long long)st.busy);
	assert_true(st.passive + st.inline_ > 0);
	assert_int_equal(st.failed, 0);
	assert_true(max_wal < 3 << 20);
	assert_true(frames > 6 * (3 << 20) / 4096);   /* over 6x the bound went through the WAL */

	/* idle: the WAL file is truncated to 0 bytes (the count goes up just after the truncation) */
	for (waited = 0; waited < 3000; waited += 20) {
		struct timespec ts = { 0, 20 * 1000000 };

		assert_int_equal(pv_store_checkpointer_stats_get(s, &st), 0);
		if (file_size(wal) == 0 && st.truncate >= 1)
			break;
		nanosleep(&ts, NULL);
	}
	assert_int_equal(file_size(wal), 0);
	assert_true(st.truncate >= 1);

	/* a commit after the truncation, then close: the thread stops and the rows are all there */
	assert_int_equal(pv_store_begin(s), 0);
	append_audit(s);
	n++;
	assert_int_equal(pv_store_commit(s), 0);
	assert_true(file_size(wal) > 0);
	pv_store_close(s);
	assert_int_equal(file_size(wal), 0);
	s = NULL;
	assert_int_equal(pv_store_open(&s, db, 0), 0);
	{
		uint8_t h[PV_AUDIT_HASH_LEN];
		int64_t seq = 0;

		assert_int_equal(pv_store_audit_head(s, &seq, h), 0);
		assert_int_equal(seq, n);
	}
	assert_int_equal(pv_store_checkpointer_stats_get(s, &st), PV_ENOTFOUND);
	pv_store_close(s);
}

static void test_config_keys(void **state)
{
	pv_server_config c;
	char out[32];

	(void)state;
	pv_server_config_defaults(&c);
	assert_int_equal(c.durable_reads, 0);
	assert_int_equal(c.read_sync_ms, 50);
	assert_int_equal(pv_server_config_set(&c, "durable_reads", "1"), 0);
	assert_int_equal(c.durable_reads, 1);
	assert_int_equal(pv_server_config_set(&c, "durable_reads", "2"), PV_EINVAL);
	assert_int_equal(pv_server_config_set(&c, "read_sync_ms", "0"), PV_EINVAL);
	assert_int_equal(pv_server_config_set(&c, "read_sync_ms", "200"), 0);
	assert_int_equal(pv_server_config_get(&c, "read_sync_ms", out, sizeof(out)), 0);
	assert_string_equal(out, "200");
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/pv-test-durability-XXXXXX");
	return mkdtemp(root) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	rm_tree(root);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_relaxed),
		cmocka_unit_test(test_vault_relaxed),
		cmocka_unit_test(test_executor),
		cmocka_unit_test(test_checkpointer),
		cmocka_unit_test(test_config_keys),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
