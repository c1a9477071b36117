/*
 * The executor: one thread that owns the pv_vault handle and runs every
 * handler that touches the vault, with group commit.
 *
 * Connection threads queue jobs and suspend their connection. The executor
 * takes everything queued (up to max_batch), optionally waits group_commit_us
 * for more, and runs the batch's handlers inside one pv_vault_begin /
 * pv_vault_commit: one durable commit (one fsync) for many requests, reads
 * included (every read appends an audit entry). The vault checks input and
 * does its reads before joining a batch, so a request that fails on its own
 * (validation, not found, denied) leaves the batch intact; if the commit
 * itself fails, every request of the batch is answered 503. Exclusive routes
 * (key rotation, policy upload) run alone, between batches, with no batch open.
 * Jobs complete (job->done) only after their batch's commit.
 *
 * Durability per batch (issue 3): a batch whose routes are all read_only
 * (their only writes are audit entries) commits relaxed (pv_vault_begin_ex
 * PV_TX_RELAXED: no fsync; a process crash loses nothing, an OS crash can lose
 * those read-audit entries). Any other request in the batch makes it fully
 * durable. Relaxed commits become durable within read_sync_ms: the next batch
 * after that time commits fully, and an idle executor wakes up at that time
 * to pv_vault_sync(). durable_reads = 1 turns relaxed commits off.
 *
 * WAL checkpoints (SQLite): pv_http_exec_start starts the store's background
 * checkpointer (store/sqlite_checkpoint.h), so no commit of this thread copies
 * the WAL into the database; before, the commit that took the WAL past 1000
 * pages did, and every request of its batch waited for that copy and fsync.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "http/internal.h"
#include "store/sqlite_checkpoint.h"
#include "vault/vault_internal.h"

#define READ_SYNC_MS_DEFAULT 50

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct pv_http_exec {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	pv_http_job *head, *tail;
	size_t queued;
	int stopping;
	int poked;
	pv_http_exec_tuning tune;
	pv_vault *v;
	int pending;               /* relaxed commits not yet durable (executor thread only) */
	uint64_t pending_since;    /* monotonic ns of the first of them */
	pv_http_metrics *metrics;
	void (*tick)(pv_vault *v, void *payload);
	void *payload;
};

/* Run one handler; a failure without a status, or no status at all, becomes a 500 problem. */
static void run_one(pv_http_exec *e, pv_http_job *j)
{
	int rc;

	pv_error_clear();
	rc = j->route->handler(e->v, j->req, j->res);
	if (j->res->status == 0) {
		if (rc != 0)
			pv_http_problem_from_error(j->res, rc);
		else
			pv_http_problem(j->res, 500, "internal", "Internal error", "the handler set no response");
	}
}

/* Answer every job of a failed batch 503 (nothing of it was written). */
static void fail_batch(pv_http_job *list, int code)
{
	for (pv_http_job *j = list; j != NULL; j = j->next) {
		pv_http_response_reset(j->res);
		pv_http_problem(j->res, 503, "commit-failed", "Commit failed",
				"the group commit holding this request failed (%s); nothing of it was written; "
				"retry", code != 0 ? pv_error_name(code) : "store");
	}
}

static void complete(pv_http_job *list)
{
	pv_http_job *next;

	for (pv_http_job *j = list; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		j->done(j);
	}
}

/*
 * Run `list` (non-exclusive jobs) as one group commit: relaxed when every job
 * is read_only, reads may be relaxed (t->durable_reads 0) and no relaxed
 * commit has waited read_sync_ms for durability yet (then this one commits
 * fully and makes them durable too).
 */
static void run_batch(pv_http_exec *e, const pv_http_exec_tuning *t, pv_http_job *list, size_t n, int read_only)
{
	uint64_t sync_ns = (uint64_t)t->read_sync_ms * 1000000ull;
	int relaxed = read_only && !t->durable_reads && !(e->pending && mono_ns() - e->pending_since >= sync_ns);
	int rc = pv_vault_begin_ex(e->v, relaxed ? PV_TX_RELAXED : 0), was_relaxed = 0;

	if (rc == 0) {
		for (pv_http_job *j = list; j != NULL; j = j->next)
			run_one(e, j);
		rc = pv_vault_commit_ex(e->v, &was_relaxed);
	}
	if (rc != 0) {
		fail_batch(list, rc);
	} else {
		pv_http_metrics_commit(e->metrics, was_relaxed);
		if (!was_relaxed) {
			e->pending = 0;   /* a full commit syncs everything before it */
		} else if (!e->pending) {
			e->pending = 1;
			e->pending_since = mono_ns();
		}
		for (pv_http_job *j = list; j != NULL; j = j->next)
			if (j->res->decision >= 0)
				pv_http_metrics_decision(e->metrics, j->res->decision);
	}
	pv_http_metrics_batch(e->metrics, n, rc != 0);
	complete(list);
}

/* Make relaxed commits durable when they have waited `sync_ns` (or `force`). */
static void sync_pending(pv_http_exec *e, uint64_t sync_ns, int force)
{
	if (!e->pending || (!force && mono_ns() - e->pending_since < sync_ns))
		return;
	if (pv_vault_sync(e->v) == 0) {
		e->pending = 0;
		pv_http_metrics_sync(e->metrics);
	} else {
		e->pending_since = mono_ns();   /* still pending: retried one read_sync_ms later, not in a loop */
	}
}

static void deadline_in(struct timespec *ts, long us)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += (us % 1000000) * 1000;
	ts->tv_sec += us / 1000000 + ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

/* Take up to `max` queued jobs (called locked). */
static pv_http_job *take(pv_http_exec *e, size_t max, size_t *n)
{
	pv_http_job *first = e->head, *last = NULL, *j = e->head;
	size_t k = 0;

	while (j != NULL && k < max) {
		last = j;
		j = j->next;
		k++;
	}
	if (last != NULL)
		last->next = NULL;
	e->head = j;
	if (j == NULL)
		e->tail = NULL;
	e->queued -= k;
	*n = k;
	return k > 0 ? first : NULL;
}

static void *exec_main(void *arg)
{
	pv_http_exec *e = arg;
	for (;;) {
		pv_http_job *list, *batch = NULL, **bt = &batch, *j, *next;
		pv_http_exec_tuning t;
		size_t n = 0, nb = 0;
		struct timespec ts;
		uint64_t sync_ns;
		int stop, ro = 1;

		pthread_mutex_lock(&e->mu);
		while (e->head == NULL && !e->stopping && !e->poked) {
			long wait_us = 1000000;

			if (e->pending) {   /* wake up when relaxed commits are due to become durable */
				uint64_t age = mono_ns() - e->pending_since;

				sync_ns = (uint64_t)e->tune.read_sync_ms * 1000000ull;
				if (age >= sync_ns)
					break;
				if ((sync_ns - age) / 1000 + 1 < (uint64_t)wait_us)
					wait_us = (long)((sync_ns - age) / 1000) + 1;
			}
			deadline_in(&ts, wait_us);
			if (pthread_cond_timedwait(&e->cv, &e->mu, &ts) == ETIMEDOUT)
				break;
		}
		if (e->head != NULL && e->tune.group_commit_us > 0 && e->queued < (size_t)e->tune.max_batch &&
		    !e->stopping) {
			deadline_in(&ts, e->tune.group_commit_us);
			while (e->queued < (size_t)e->tune.max_batch && !e->stopping &&
			       pthread_cond_timedwait(&e->cv, &e->mu, &ts) != ETIMEDOUT)
				;
		}
		t = e->tune;   /* this round's settings, read after the waits (a reload may have changed them) */
		sync_ns = (uint64_t)t.read_sync_ms * 1000000ull;
		list = take(e, (size_t)t.max_batch, &n);
		stop = e->stopping && list == NULL;
		e->poked = 0;
		pthread_mutex_unlock(&e->mu);

		/* exclusive jobs alone, in order; the rest as one batch */
		for (j = list; j != NULL; j = next) {
			next = j->next;
			j->next = NULL;
			if (j->route->exclusive || j->route->executor == 2) {
				if (batch != NULL) {
					run_batch(e, &t, batch, nb, ro);
					batch = NULL;
					bt = &batch;
					nb = 0;
					ro = 1;
				}
				run_one(e, j);
				if (j->res->decision >= 0)
					pv_http_metrics_decision(e->metrics, j->res->decision);
				complete(j);
			} else {
				*bt = j;
				bt = &j->next;
				nb++;
				ro &= j->route->read_only != 0;
			}
		}
		if (batch != NULL)
			run_batch(e, &t, batch, nb, ro);
		if (list == NULL || stop)   /* idle (under load the next batch commits fully instead) */
			sync_pending(e, sync_ns, stop);

		if (e->tick != NULL)
			e->tick(e->v, e->payload);   /* decides itself whether there is anything to do */
		if (stop)
			break;
	}
	return NULL;
}

int pv_http_exec_start(pv_http_exec **out, pv_vault *v, const pv_http_exec_tuning *t,
		       pv_http_metrics *metrics, void (*tick)(pv_vault *v, void *payload), void *payload)
{
	pv_http_exec *e;
	int rc;

	*out = NULL;
	/* WAL checkpoints run on a thread of their own, never inside this executor's commits (SQLite
	 * files only; stopped by pv_vault_close) */
	if ((rc = pv_store_checkpointer_start(pv_vault_store(v), NULL)) < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return pv_error_set(PV_ENOMEM, "executor: out of memory");
	pthread_mutex_init(&e->mu, NULL);
	pthread_cond_init(&e->cv, NULL);
	e->v = v;
	e->metrics = metrics;
	e->tick = tick;
	e->payload = payload;
	pv_http_exec_tune(e, t);
	if (pthread_create(&e->thread, NULL, exec_main, e) != 0) {
		pthread_cond_destroy(&e->cv);
		pthread_mutex_destroy(&e->mu);
		free(e);
		return pv_error_set(PV_ERROR, "executor: cannot start its thread");
	}
	*out = e;
	return 0;
}

void pv_http_exec_tune(pv_http_exec *e, const pv_http_exec_tuning *t)
{
	pthread_mutex_lock(&e->mu);
	e->tune.group_commit_us = t != NULL && t->group_commit_us > 0 ? t->group_commit_us : 0;
	e->tune.max_batch = t != NULL && t->max_batch > 0 ? t->max_batch : 512;
	e->tune.durable_reads = t != NULL && t->durable_reads != 0;
	e->tune.read_sync_ms = t != NULL && t->read_sync_ms > 0 ? t->read_sync_ms : READ_SYNC_MS_DEFAULT;
	pthread_mutex_unlock(&e->mu);
}

int pv_http_exec_submit(pv_http_exec *e, pv_http_job *job)
{
	pthread_mutex_lock(&e->mu);
	if (e->stopping || e->queued >= PV_HTTP_QUEUE_MAX) {
		pthread_mutex_unlock(&e->mu);
		return -1;
	}
	job->next = NULL;
	if (e->tail != NULL)
		e->tail->next = job;
	else
		e->head = job;
	e->tail = job;
	e->queued++;
	/* wake the executor on the first job, or when a waited-for batch is full */
	if (e->queued == 1 || e->queued >= (size_t)e->tune.max_batch)
		pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	return 0;
}

void pv_http_exec_poke(pv_http_exec *e)
{
	pthread_mutex_lock(&e->mu);
	e->poked = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
}

void pv_http_exec_stop(pv_http_exec *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->stopping = 1;
	pthread_cond_signal(&e->cv);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	pv_vault_close(e->v);
	pthread_cond_destroy(&e->cv);
	pthread_mutex_destroy(&e->mu);
	free(e);
}
