/*
 * The retention sweeper.
 *
 * A sweep first destroys the retention epochs that have ended (shred.c: the
 * records sealed under them become unreadable and invisible in one
 * transaction, their rows are purged afterwards). Then it walks the expired
 * records without an epoch (the store leaves out those a legal hold covers
 * and those of restricted subjects), earliest expiry first, in batches. For
 * each record the retention rule of the policy version it was collected under
 * gives the action: delete, or anonymize (delete the ciphertext, add one to a
 * de-identified tally of category x purpose x source x month of collection).
 * Each batch is one transaction holding the deletions, the tallies, one audit
 * entry per subject and action, and the erasure (pv_subject_erase) of every
 * subject the batch left with no record and no hold naming it. A real sweep
 * runs under the store's job lock "retention.sweep" (one sweep at a time
 * across every process; the others skip) and may end with a purge. A dry run
 * makes the same reads, writes nothing and takes no lock. docs/retention.md
 * explains the choices.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "core/error.h"
#include "core/util.h"
#include "retention/internal.h"
#include "store/store.h"
#include "vault/vault_internal.h"

const char *pv_retention_action_name(pv_retention_action a)
{
	return a == PV_RETAIN_ANONYMIZE ? "anonymize" : "delete";
}

/*
 * The action for a record: its policy version's rule for category x purpose
 * (pv_policy_retention_for, most specific rule first). A record with an
 * expiry but no rule left to say how (or a version that cannot be loaded) is
 * deleted: deletion is what an expiry promises.
 */
int pv_ret_action_for(pv_sweep_ctx *sw, const pv_store_expired *r, pv_retention_action *out)
{
	const pv_policy *pol;
	rule_slot *slot;
	size_t i;
	int rc;

	for (i = 0; i < sw->nrules; i++) {
		slot = &sw->rules[i];
		if (strcmp(slot->category, r->category) == 0 && strcmp(slot->purpose, r->purpose) == 0 &&
		    strcmp(slot->policy_version, r->policy_version) == 0) {
			*out = slot->action;
			return 0;
		}
	}
	if ((rc = pv_grow((void **)&sw->rules, &sw->caprules, sw->nrules + 1, sizeof(*sw->rules))) < 0)
		return rc;
	slot = &sw->rules[sw->nrules++];
	memcpy(slot->policy_version, r->policy_version, sizeof(slot->policy_version));
	memcpy(slot->category, r->category, sizeof(slot->category));
	memcpy(slot->purpose, r->purpose, sizeof(slot->purpose));
	slot->action = PV_RETAIN_DELETE;
	if (pv_vault_policy_get(sw->v, r->policy_version, &pol) == 0 &&
	    !pv_policy_retention_for(pol, r->category, r->purpose, NULL, &slot->action))
		slot->action = PV_RETAIN_DELETE;
	pv_error_clear();
	*out = slot->action;
	return 0;
}

/* Add n records to the report's line for category x purpose x action, and to its totals. */
int pv_ret_count_add(pv_sweep_report *rep, const char *category, const char *purpose,
		     pv_retention_action a, int64_t n)
{
	pv_sweep_count *c = NULL;
	size_t i, cap = rep->ncounts;
	int rc;

	for (i = 0; i < rep->ncounts && c == NULL; i++)
		if (rep->counts[i].action == a && strcmp(rep->counts[i].category, category) == 0 &&
		    strcmp(rep->counts[i].purpose, purpose) == 0)
			c = &rep->counts[i];
	if (c == NULL) {
		/* the report keeps no capacity: lines are few, grow one at a time */
		if ((rc = pv_grow((void **)&rep->counts, &cap, rep->ncounts + 1, sizeof(*rep->counts))) < 0)
			return rc;
		c = &rep->counts[rep->ncounts++];
		memset(c, 0, sizeof(*c));
		snprintf(c->category, sizeof(c->category), "%s", category);
		snprintf(c->purpose, sizeof(c->purpose), "%s", purpose);
		c->action = a;
	}
	c->records += n;
	if (a == PV_RETAIN_ANONYMIZE)
		rep->anonymized += n;
	else
		rep->deleted += n;
	return 0;
}

/* Append an erased subject; the array grows to the next power of two when full. */
int pv_ret_erased_add(pv_sweep_report *rep, const char *subject_id)
{
	size_t n = rep->nerased;

	if (n == 0 || (n & (n - 1)) == 0) {
		void *p = realloc(rep->erased, (n == 0 ? 1 : n * 2) * sizeof(*rep->erased));

		if (p == NULL)
			return pv_error_set(PV_ENOMEM, "sweep: out of memory");
		rep->erased = p;
	}
	memcpy(rep->erased[rep->nerased++], subject_id, PV_ID_LEN + 1);
	return 0;
}

int pv_ret_cmp_sid(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int held_cb(const pv_store_hold *h, void *payload)
{
	pv_sweep_ctx *sw = payload;
	int rc;

	if (h->subject_id[0] == '\0')
		return 0;
	if ((rc = pv_grow((void **)&sw->held, &sw->capheld, sw->nheld + 1, sizeof(*sw->held))) < 0)
		return rc;
	memcpy(sw->held[sw->nheld++], h->subject_id, PV_ID_LEN + 1);
	return 0;
}

/* Load the subjects that active holds name (a subject so named is never erased by a sweep). */
int pv_ret_held_load(pv_sweep_ctx *sw)
{
	int rc = pv_store_hold_each(pv_vault_store(sw->v), 1, held_cb, sw);

	if (rc == 0 && sw->nheld > 1)
		qsort(sw->held, sw->nheld, sizeof(*sw->held), pv_ret_cmp_sid);
	return rc;
}

int pv_ret_is_held(const pv_sweep_ctx *sw, const char *subject_id)
{
	return sw->nheld > 0 &&
	       bsearch(subject_id, sw->held, sw->nheld, sizeof(*sw->held), pv_ret_cmp_sid) != NULL;
}

/* The UTC midnight of the 1st of collected_at's month (the tally's coarse time). */
pv_time pv_ret_month_of(pv_time t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		return 0;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (pv_time)timegm(&tm);
}

/* Commit the caller's pv_vault_begin() batch when rc == 0, else roll it back keeping the message. */
int pv_ret_end(pv_vault *v, int rc)
{
	char msg[PV_ERRMSG_MAX];

	if (rc == 0)
		return pv_vault_commit(v);
	snprintf(msg, sizeof(msg), "%s", pv_error_last());
	pv_vault_rollback(v);
	return pv_error_set(rc, "%s", msg);
}

/* ---- dry run ---------------------------------------------------------------------------------- */

static int dry_cb(const pv_store_expired *r, void *payload)
{
	pv_sweep_ctx *sw = payload;
	pv_retention_action a;
	int rc;

	if (r->key_epoch != 0 && r->key_epoch < sw->w_new)
		return 0;   /* in an epoch the shred step destroys: counted there */
	if ((rc = pv_ret_action_for(sw, r, &a)) < 0 ||
	    (rc = pv_ret_count_add(sw->rep, r->category, r->purpose, a, 1)) < 0)
		return rc;
	if ((rc = pv_grow((void **)&sw->subjects, &sw->capsubjects, sw->nsubjects + 1,
			      sizeof(*sw->subjects))) < 0)
		return rc;
	memcpy(sw->subjects[sw->nsubjects++], r->subject_id, PV_ID_LEN + 1);
	return 0;
}

/*
 * Which subjects would be erased: those whose every record would go (the
 * number that would go equals the number they hold) and whom no hold names.
 * Counted in chunks, one store call each.
 */
static int dry_erasures(pv_sweep_ctx *sw)
{
	enum { CHUNK = 4096 };
	subject_id_t *ids = NULL;
	int64_t *going = NULL, *held_now = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (sw->nsubjects == 0)
		return 0;
	qsort(sw->subjects, sw->nsubjects, sizeof(*sw->subjects), pv_ret_cmp_sid);
	ids = malloc(CHUNK * sizeof(*ids));
	going = malloc(CHUNK * sizeof(*going));
	held_now = malloc(CHUNK * sizeof(*held_now));
	if (ids == NULL || going == NULL || held_now == NULL) {
		rc = pv_error_set(PV_ENOMEM, "sweep: out of memory");
		goto done;
	}
	for (i = 0; i <= sw->nsubjects && rc == 0; i++) {
		if (i < sw->nsubjects && n > 0 && strcmp(ids[n - 1], sw->subjects[i]) == 0) {
			going[n - 1]++;
			continue;
		}
		if (n == CHUNK || (i == sw->nsubjects && n > 0)) {
			rc = pv_store_record_count_subjects(pv_vault_store(sw->v), (const subject_id_t *)ids, n,
							    held_now);
			for (size_t k = 0; rc == 0 && k < n; k++)
				if (held_now[k] == going[k] && !pv_ret_is_held(sw, ids[k]))
					rc = pv_ret_erased_add(sw->rep, ids[k]);
			n = 0;
		}
		if (i < sw->nsubjects) {
			memcpy(ids[n], sw->subjects[i], PV_ID_LEN + 1);
			going[n++] = 1;
		}
	}
done:
	free(ids);
	free(going);
	free(held_now);
	return rc;
}

/* ---- one batch -------------------------------------------------------------------------------- */

static int batch_cb(const pv_store_expired *r, void *payload)
{
	pv_sweep_ctx *sw = payload;

	memcpy(&sw->rows[sw->n++], r, sizeof(*r));
	return 0;
}

/* Order row indexes by subject, then action (grouping for the audit and erasure checks). */
static int cmp_order(const void *a, const void *b, void *arg)
{
	const pv_sweep_ctx *sw = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(sw->rows[x].subject_id, sw->rows[y].subject_id);

	if (c != 0)
		return c;
	return (int)sw->actions[x] - (int)sw->actions[y];
}

/* Order anonymized row indexes by category, purpose, source, month (sw->months, per row). */
static int cmp_tally(const void *a, const void *b, void *arg)
{
	const pv_sweep_ctx *sw = arg;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	const pv_store_expired *x = &sw->rows[i], *y = &sw->rows[j];
	int c;

	if ((c = strcmp(x->category, y->category)) != 0 || (c = strcmp(x->purpose, y->purpose)) != 0 ||
	    (c = strcmp(x->source, y->source)) != 0)
		return c;
	return sw->months[i] < sw->months[j] ? -1 : sw->months[i] > sw->months[j];
}

/* Tallies for the anonymized rows idx[0..m) of the batch: one upsert per category x purpose x source x month. */
static int batch_tallies(pv_sweep_ctx *sw, size_t *idx, size_t m)
{
	pv_store *s = pv_vault_store(sw->v);
	size_t i, j;
	int rc = 0;

	if (m == 0)
		return 0;
	for (i = 0; i < m; i++)
		sw->months[idx[i]] = pv_ret_month_of(sw->rows[idx[i]].collected_at);
	qsort_r(idx, m, sizeof(*idx), cmp_tally, sw);
	for (i = 0; i < m && rc == 0; i = j) {
		const pv_store_expired *a = &sw->rows[idx[i]];

		for (j = i + 1; j < m && cmp_tally(&idx[i], &idx[j], sw) == 0; j++)
			;
		rc = pv_store_tally_add(s, a->category, a->purpose, a->source, sw->months[idx[i]],
					(int64_t)(j - i));
	}
	return rc;
}

/* Audit one group (rows order[i..j): one subject, one action) and count it in the report. */
static int batch_audit(pv_sweep_ctx *sw, size_t i, size_t j)
{
	const pv_store_expired *first = &sw->rows[sw->order[i]];
	pv_retention_action a = sw->actions[sw->order[i]];
	char outcome[64];
	int same = 1;
	size_t k;

	for (k = i; k < j; k++) {
		const pv_store_expired *r = &sw->rows[sw->order[k]];

		if (strcmp(r->category, first->category) != 0 || strcmp(r->purpose, first->purpose) != 0)
			same = 0;
	}
	snprintf(outcome, sizeof(outcome), "ok:records=%zu", j - i);
	return pv_audit_append(pv_vault_audit(sw->v), sw->caller->name,
			       a == PV_RETAIN_ANONYMIZE ? "retention.anonymize" : "retention.delete",
			       first->subject_id, same ? first->purpose : NULL, same ? first->category : NULL,
			       outcome);
}

/*
 * Erase the subjects of the batch left with no record and no hold naming them.
 * `subjects` lists the batch's distinct subjects.
 */
static int batch_erasures(pv_sweep_ctx *sw, subject_id_t *subjects, size_t n, int64_t *counts)
{
	pv_store_subject subj;
	size_t i;
	int rc;

	if ((rc = pv_store_record_count_subjects(pv_vault_store(sw->v), (const subject_id_t *)subjects, n,
						 counts)) < 0)
		return rc;
	for (i = 0; i < n; i++) {
		if (counts[i] != 0 || pv_ret_is_held(sw, subjects[i]))
			continue;
		rc = pv_store_subject_get(pv_vault_store(sw->v), subjects[i], &subj);
		if (rc == PV_ENOTFOUND || (rc == 0 && subj.state == PV_SUBJECT_ERASED))
			continue;   /* records of an unknown subject: nothing to erase */
		if (rc == 0)
			rc = pv_subject_erase(sw->v, sw->caller, subjects[i]);
		if (rc == 0)
			rc = pv_ret_erased_add(sw->rep, subjects[i]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * Write the batch in sw->rows[0..n) inside the caller's transaction (the one
 * its walk ran in): deletions in subject order, tallies, audit entries,
 * erasures. 0 or a PV_E* code (the caller rolls back).
 */
static int batch_write(pv_sweep_ctx *sw)
{
	subject_id_t *subjects = NULL;
	int64_t *counts = NULL;
	size_t *anon = NULL;
	size_t i, j, nsubj = 0, nanon = 0, deleted = 0;
	int rc = 0;

	for (i = 0; i < sw->n && rc == 0; i++) {
		rc = pv_ret_action_for(sw, &sw->rows[i], &sw->actions[i]);
		sw->order[i] = i;
	}
	if (rc < 0)
		return rc;
	qsort_r(sw->order, sw->n, sizeof(*sw->order), cmp_order, sw);
	/* delete in subject order: neighbouring keys of the (subject_id, id) index share pages */
	for (i = 0; i < sw->n; i++) {
		memcpy(sw->refs[i].subject_id, sw->rows[sw->order[i]].subject_id, PV_ID_LEN + 1);
		memcpy(sw->refs[i].id, sw->rows[sw->order[i]].id, PV_ID_LEN + 1);
	}
	subjects = malloc(sw->n * sizeof(*subjects));
	counts = malloc(sw->n * sizeof(*counts));
	anon = malloc(sw->n * sizeof(*anon));
	if (subjects == NULL || counts == NULL || anon == NULL) {
		rc = pv_error_set(PV_ENOMEM, "sweep: out of memory");
		goto done;
	}
	for (i = 0; i < sw->n; i++) {
		size_t r = sw->order[i];

		if (nsubj == 0 || strcmp(subjects[nsubj - 1], sw->rows[r].subject_id) != 0)
			memcpy(subjects[nsubj++], sw->rows[r].subject_id, PV_ID_LEN + 1);
		if (sw->actions[r] == PV_RETAIN_ANONYMIZE)
			anon[nanon++] = r;
	}

	rc = pv_store_record_delete_refs(pv_vault_store(sw->v), sw->refs, sw->n, &deleted);
	if (rc == 0 && deleted != sw->n)
		rc = pv_error_set(PV_ESTORE, "sweep: %zu of %zu records vanished during the batch",
				  sw->n - deleted, sw->n);
	if (rc == 0)
		rc = batch_tallies(sw, anon, nanon);
	for (i = 0; i < sw->n && rc == 0; i = j) {
		size_t r = sw->order[i];

		for (j = i + 1; j < sw->n; j++) {
			size_t q = sw->order[j];

			if (sw->actions[q] != sw->actions[r] ||
			    strcmp(sw->rows[q].subject_id, sw->rows[r].subject_id) != 0)
				break;
		}
		rc = batch_audit(sw, i, j);
	}
	if (rc == 0)
		rc = batch_erasures(sw, subjects, nsubj, counts);
done:
	free(subjects);
	free(counts);
	free(anon);
	return rc;
}

/*
 * One batch in one transaction: the holds, the walk (at most `batch` rows
 * expiring at or after `from`) and the writes all see the same state, so a
 * hold committed meanwhile either comes before the batch (and is obeyed) or
 * after it: the batch first freezes the holds (pv_store_hold_lock; on SQLite
 * BEGIN IMMEDIATE already does, on PostgreSQL a SHARE lock on legal_holds that
 * hold creation and release wait for). 0 with sw->n rows done, or a PV_E* code with
 * the batch rolled back.
 */
static int batch_run(pv_sweep_ctx *sw, pv_time from, size_t batch)
{
	size_t i;
	int rc;

	sw->n = 0;
	sw->nheld = 0;
	if ((rc = pv_vault_begin(sw->v)) < 0)
		return rc;
	/* no hold can be created or released until this batch ends (PostgreSQL: READ COMMITTED
	 * would otherwise let one commit between the walk and the deletes) */
	rc = pv_store_hold_lock(pv_vault_store(sw->v));
	if (rc == 0)
		rc = pv_ret_held_load(sw);
	if (rc == 0)
		rc = pv_store_record_expired_each(pv_vault_store(sw->v), from, sw->now, batch, batch_cb, sw);
	if (rc == 0 && sw->n > 0)
		rc = batch_write(sw);
	rc = pv_ret_end(sw->v, rc);
	if (rc == 0 && sw->n > 0) {
		sw->rep->batches++;
		for (i = 0; i < sw->n && rc == 0; i++)
			rc = pv_ret_count_add(sw->rep, sw->rows[i].category, sw->rows[i].purpose, sw->actions[i], 1);
	}
	return rc;
}

/* ---- the sweep -------------------------------------------------------------------------------- */

/* Sort the report's lines and erased subjects so output is stable. */
static int cmp_count(const void *a, const void *b)
{
	const pv_sweep_count *x = a, *y = b;
	int c;

	if ((c = strcmp(x->category, y->category)) != 0 || (c = strcmp(x->purpose, y->purpose)) != 0)
		return c;
	return (int)x->action - (int)y->action;
}

static void report_finish(pv_sweep_report *rep)
{
	if (rep->ncounts > 1)
		qsort(rep->counts, rep->ncounts, sizeof(*rep->counts), cmp_count);
	if (rep->nerased > 1)
		qsort(rep->erased, rep->nerased, sizeof(*rep->erased), pv_ret_cmp_sid);
	rep->subjects_erased = (int64_t)rep->nerased;
}

static int sweep_run(pv_sweep_ctx *sw, size_t batch)
{
	pv_store *s = pv_vault_store(sw->v);
	pv_sweep_report *rep = sw->rep;
	int64_t expired = 0;
	pv_time from = INT64_MIN;
	int rc;

	if ((rc = pv_retention_shred(sw)) < 0)
		return rc;
	if (rep->dry_run) {
		sw->nheld = 0;
		if ((rc = pv_ret_held_load(sw)) < 0)
			return rc;
		if ((rc = pv_store_record_expired_each(s, from, sw->now, 0, dry_cb, sw)) < 0 ||
		    (rc = dry_erasures(sw)) < 0 ||
		    (rc = pv_store_record_expired_count(s, sw->now, &expired)) < 0)
			return rc;
		rep->kept = expired - rep->deleted - rep->anonymized;
		return 0;
	}
	sw->rows = malloc(batch * sizeof(*sw->rows));
	sw->actions = malloc(batch * sizeof(*sw->actions));
	sw->order = malloc(batch * sizeof(*sw->order));
	sw->months = malloc(batch * sizeof(*sw->months));
	sw->refs = malloc(batch * sizeof(*sw->refs));
	if (sw->rows == NULL || sw->actions == NULL || sw->order == NULL || sw->months == NULL ||
	    sw->refs == NULL)
		return pv_error_set(PV_ENOMEM, "sweep: out of memory");
	for (;;) {
		/* rows of earlier batches are gone; `from` only skips kept rows that expired earlier */
		if ((rc = batch_run(sw, from, batch)) < 0)
			return rc;
		if (sw->n < batch)
			break;
		from = sw->rows[sw->n - 1].expires_at;
	}
	if ((rc = pv_store_record_expired_count(s, sw->now, &expired)) < 0)
		return rc;
	rep->kept = expired;
	if (sw->purge > 0) {
		size_t purged = 0;

		rc = pv_retention_purge(sw->v, sw->caller, sw->purge == PV_SWEEP_PURGE_ALL ? 0 : sw->purge, &purged);
		rep->purged = (int64_t)purged;
	}
	return rc;
}

/*
 * A real sweep, under the store's job lock SWEEP_LOCK for its whole run, so no
 * two sweeps (processes, servers, the schedule and a cron job) ever run at once:
 * the one that finds it taken returns PV_SWEEP_SKIPPED without touching anything.
 * The lock is released at the end whatever happened; a failure to release it
 * (the connection that held it is gone, and the lock with it) does not change
 * the sweep's result.
 */
#define SWEEP_LOCK "retention.sweep"

static int sweep_locked(pv_sweep_ctx *sw, size_t batch)
{
	pv_store *s = pv_vault_store(sw->v);
	char msg[PV_ERRMSG_MAX];
	int got = 0, rc;

	if ((rc = pv_store_job_lock(s, SWEEP_LOCK, &got)) < 0)
		return rc;
	if (!got) {
		sw->rep->skipped = 1;
		return PV_SWEEP_SKIPPED;
	}
	rc = sweep_run(sw, batch);
	snprintf(msg, sizeof(msg), "%s", pv_error_last());
	pv_store_job_unlock(s, SWEEP_LOCK);
	if (rc < 0)
		pv_error_set(rc, "%s", msg);
	else
		pv_error_clear();
	return rc;
}

int pv_retention_sweep(pv_vault *v, const pv_caller *caller, const pv_sweep_options *opts,
		       pv_sweep_report **out)
{
	pv_sweep_options o = { 0 };
	pv_sweep_ctx sw;
	int rc;

	if (v == NULL || out == NULL)
		return pv_error_set(PV_EINVAL, "sweep: expected a vault and an output report");
	*out = NULL;
	if ((rc = pv_retention_caller_check(caller, 0, "sweep")) < 0)
		return rc;
	if (opts != NULL)
		o = *opts;
	if (o.batch == 0)
		o.batch = PV_SWEEP_DEFAULT_BATCH;
	if (o.batch > PV_SWEEP_MAX_BATCH)
		return pv_error_set(PV_ELIMIT, "batch: at most %d records", PV_SWEEP_MAX_BATCH);
	if (o.now < 0)
		return pv_error_set(PV_EINVAL, "now: expected a time after 1970");
	/* deleting data before its time cannot be undone: only a dry run may look ahead */
	if (!o.dry_run && o.now > pv_clock_now())
		return pv_error_set(PV_EINVAL, "now: a sweep cannot run ahead of the clock "
				    "(a dry run can look ahead)");

	memset(&sw, 0, sizeof(sw));
	sw.v = v;
	sw.caller = caller;
	sw.now = o.now != 0 ? o.now : pv_clock_now();
	sw.purge = o.purge;
	sw.rep = calloc(1, sizeof(*sw.rep));
	if (sw.rep == NULL)
		return pv_error_set(PV_ENOMEM, "sweep: out of memory");
	sw.rep->dry_run = o.dry_run != 0;
	sw.rep->now = sw.now;

	rc = o.dry_run ? sweep_run(&sw, o.batch) : sweep_locked(&sw, o.batch);
	report_finish(sw.rep);
	*out = sw.rep;
	free(sw.rules);
	free(sw.held);
	free(sw.rows);
	free(sw.actions);
	free(sw.order);
	free(sw.months);
	free(sw.refs);
	free(sw.subjects);
	return rc;
}

void pv_sweep_report_free(pv_sweep_report *r)
{
	if (r == NULL)
		return;
	free(r->counts);
	free(r->erased);
	free(r);
}

int pv_retention_tally_each(pv_vault *v, const pv_caller *caller,
			    int (*cb)(const char *category, const char *purpose, const char *source,
				      pv_time month, int64_t count, void *payload),
			    void *payload)
{
	int rc;

	if (v == NULL || cb == NULL)
		return pv_error_set(PV_EINVAL, "tally: expected a vault and a callback");
	if ((rc = pv_retention_caller_check(caller, 1, "tally")) < 0)
		return rc;
	return pv_store_tally_each(pv_vault_store(v), cb, payload);
}
