/*
 * The sweep's first step: destroy the retention epochs that have ended, and
 * the purge that deletes their rows later (docs/retention.md, "Sweeping by
 * key destruction").
 *
 * A record with an expiry is sealed under its expiry minute's epoch key
 * (src/vault/epochs.c). At the sweep's now, every epoch e with (e + 1) minutes
 * <= now has ended: all its records have expired. In one transaction the
 * step reads those records' metadata once (no decryption) to count them per
 * category x purpose x action and tally the anonymized ones, re-seals under
 * the data key alone the few that a legal hold or a restriction keeps, writes
 * one audit entry per category x purpose x action, moves the epoch watermark
 * past them (their keys are gone: the rows are unreadable and every read
 * leaves them out) and erases the subjects this left with nothing. The rows
 * themselves are deleted afterwards by pv_retention_purge, in batches, as
 * rows of erased subjects are (pv_fulfil_purge).
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/error.h"
#include "core/util.h"
#include "retention/internal.h"
#include "vault/vault_internal.h"

/* Records for one category x purpose x action (the audit entries) or one tally group. */
typedef struct {
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	char source[PV_ID_MAX_LEN + 1];   /* tally groups only */
	pv_time month;                    /* tally groups only */
	pv_retention_action action;       /* lines only */
	int64_t n;
} group;

typedef struct {
	group *v;
	size_t n, cap, last;
} group_list;

typedef struct {
	pv_sweep_ctx *sw;
	pv_store_hold *holds;
	size_t nholds, capholds;
	subject_id_t *restricted;         /* sorted */
	size_t nrestricted, caprestricted;
	pv_store_record_ref *kept;        /* records a hold or a restriction keeps */
	size_t nkept, capkept;
	group_list lines, tallies;
	int64_t destroyed;
} shred_ctx;

static int hold_cb(const pv_store_hold *h, void *payload)
{
	shred_ctx *c = payload;
	pv_sweep_ctx *sw = c->sw;
	int rc;

	if ((rc = pv_grow((void **)&c->holds, &c->capholds, c->nholds + 1, sizeof(*c->holds))) < 0)
		return rc;
	c->holds[c->nholds++] = *h;
	if (h->subject_id[0] == '\0')
		return 0;
	/* and the subjects holds name, which the erasures skip (pv_ret_is_held) */
	if ((rc = pv_grow((void **)&sw->held, &sw->capheld, sw->nheld + 1, sizeof(*sw->held))) < 0)
		return rc;
	memcpy(sw->held[sw->nheld++], h->subject_id, PV_ID_LEN + 1);
	return 0;
}

static int restricted_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	shred_ctx *c = payload;
	int rc;

	(void)cols;
	if (n != 1)
		return pv_error_set(PV_ESTORE, "sweep: subjects: unexpected columns");
	if ((rc = pv_grow((void **)&c->restricted, &c->caprestricted, c->nrestricted + 1,
			      sizeof(*c->restricted))) < 0)
		return rc;
	if (pv_sv_get_text(&vals[0], c->restricted[c->nrestricted], PV_ID_LEN + 1) < 0)
		return pv_error_set(PV_ESTORE, "sweep: subjects: malformed id");
	c->nrestricted++;
	return 0;
}

/* 1 when an active hold covers r (every scope part it sets matches) or r's subject is restricted. */
static int kept(const shred_ctx *c, const pv_store_expired *r)
{
	for (size_t i = 0; i < c->nholds; i++) {
		const pv_store_hold *h = &c->holds[i];

		if ((h->subject_id[0] == '\0' || strcmp(h->subject_id, r->subject_id) == 0) &&
		    (h->category[0] == '\0' || strcmp(h->category, r->category) == 0) &&
		    (h->from == 0 || r->collected_at >= h->from) && (h->to == 0 || r->collected_at < h->to))
			return 1;
	}
	return c->nrestricted > 0 &&
	       bsearch(r->subject_id, c->restricted, c->nrestricted, sizeof(*c->restricted), pv_ret_cmp_sid) != NULL;
}

/* Add one to the group matching the key (the last one hit is tried first). */
static int group_add(group_list *l, const char *category, const char *purpose, const char *source, pv_time month,
		     pv_retention_action a)
{
	group *g = l->n > 0 ? &l->v[l->last] : NULL;
	int rc;

	if (g == NULL || g->action != a || g->month != month || strcmp(g->category, category) != 0 ||
	    strcmp(g->purpose, purpose) != 0 || strcmp(g->source, source) != 0) {
		for (g = NULL, l->last = 0; l->last < l->n; l->last++) {
			group *x = &l->v[l->last];

			if (x->action == a && x->month == month && strcmp(x->category, category) == 0 &&
			    strcmp(x->purpose, purpose) == 0 && strcmp(x->source, source) == 0) {
				g = x;
				break;
			}
		}
	}
	if (g == NULL) {
		if ((rc = pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v))) < 0)
			return rc;
		l->last = l->n++;
		g = &l->v[l->last];
		memset(g, 0, sizeof(*g));
		snprintf(g->category, sizeof(g->category), "%s", category);
		snprintf(g->purpose, sizeof(g->purpose), "%s", purpose);
		snprintf(g->source, sizeof(g->source), "%s", source);
		g->month = month;
		g->action = a;
	}
	g->n++;
	return 0;
}

/* One record of an ended epoch: kept, or counted (and, in a dry run, its subject noted). */
static int row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	shred_ctx *c = payload;
	pv_sweep_ctx *sw = c->sw;
	pv_store_expired r;
	pv_retention_action a;
	int rc;

	(void)cols;
	memset(&r, 0, sizeof(r));
	if (n != 7 || pv_sv_get_text(&vals[0], r.subject_id, sizeof(r.subject_id)) < 0 ||
	    pv_sv_get_text(&vals[1], r.id, sizeof(r.id)) < 0 ||
	    pv_sv_get_text(&vals[2], r.policy_version, sizeof(r.policy_version)) < 0 ||
	    pv_sv_get_text(&vals[3], r.category, sizeof(r.category)) < 0 ||
	    pv_sv_get_text(&vals[4], r.purpose, sizeof(r.purpose)) < 0 ||
	    pv_sv_get_text(&vals[5], r.source, sizeof(r.source)) < 0)
		return pv_error_set(PV_ESTORE, "sweep: records: malformed row");
	r.collected_at = pv_sv_get_int(&vals[6]);
	if (kept(c, &r)) {
		if ((rc = pv_grow((void **)&c->kept, &c->capkept, c->nkept + 1, sizeof(*c->kept))) < 0)
			return rc;
		memcpy(c->kept[c->nkept].subject_id, r.subject_id, sizeof(r.subject_id));
		memcpy(c->kept[c->nkept].id, r.id, sizeof(r.id));
		c->nkept++;
		return 0;
	}
	if ((rc = pv_ret_action_for(sw, &r, &a)) < 0 ||
	    (rc = group_add(&c->lines, r.category, r.purpose, "", 0, a)) < 0)
		return rc;
	if (a == PV_RETAIN_ANONYMIZE &&
	    (rc = group_add(&c->tallies, r.category, r.purpose, r.source, pv_ret_month_of(r.collected_at), a)) < 0)
		return rc;
	c->destroyed++;
	if (sw->rep->dry_run) {   /* the dry run's erasure check counts every record that would go */
		if ((rc = pv_grow((void **)&sw->subjects, &sw->capsubjects, sw->nsubjects + 1,
				      sizeof(*sw->subjects))) < 0)
			return rc;
		memcpy(sw->subjects[sw->nsubjects++], r.subject_id, PV_ID_LEN + 1);
	}
	return 0;
}

/* Read the holds, the restricted subjects and the records of epochs [w_old, w_new). */
static int shred_read(shred_ctx *c, int64_t w_old)
{
	static const char restricted[] = "SELECT id FROM subjects WHERE state = 1";
	static const char rows[] = "SELECT subject_id, id, policy_version, category, purpose, source, collected_at"
				   " FROM records WHERE expires_at >= ? AND expires_at < ? AND key_epoch IS NOT NULL";
	pv_store *s = pv_vault_store(c->sw->v);
	pv_store_value p[] = { pv_sv_int(w_old * PV_EPOCH_SECONDS), pv_sv_int(c->sw->w_new * PV_EPOCH_SECONDS) };
	int rc;

	c->sw->nheld = 0;
	if ((rc = pv_store_hold_each(s, 1, hold_cb, c)) < 0 ||
	    (rc = pv_store_query(s, "subjects restricted", restricted, NULL, 0, restricted_cb, c)) < 0)
		return rc;
	if (c->sw->nheld > 1)
		qsort(c->sw->held, c->sw->nheld, sizeof(*c->sw->held), pv_ret_cmp_sid);
	if (c->nrestricted > 1)
		qsort(c->restricted, c->nrestricted, sizeof(*c->restricted), pv_ret_cmp_sid);
	return pv_store_query(s, "records of ended epochs", rows, p, 2, row_cb, c);
}

typedef struct {
	subject_id_t *v;
	size_t n, cap;
} id_list;

static int id_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	id_list *l = payload;
	int rc;

	(void)cols;
	if (n < 1)
		return pv_error_set(PV_ESTORE, "sweep: subjects: unexpected columns");
	if ((rc = pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v))) < 0)
		return rc;
	if (pv_sv_get_text(&vals[0], l->v[l->n], PV_ID_LEN + 1) < 0)
		return pv_error_set(PV_ESTORE, "sweep: subjects: malformed id");
	l->n++;
	return 0;
}

/*
 * Erase the subjects whose latest record expiry (records_until) fell in the
 * destroyed epochs, when no record of theirs is left and no hold names them.
 * Such a subject's records all expired before the new watermark, so the only
 * ones left are those without an epoch (re-sealed just now for a hold or a
 * restriction, stored before epochs existed, or stored within two minutes of
 * their expiry): one query over the expiry index lists their subjects.
 */
static int shred_erasures(shred_ctx *c, int64_t w_old)
{
	static const char cand[] = "SELECT id FROM subjects WHERE records_until >= ? AND records_until < ?"
				   " AND state <> 2";
	/* no DISTINCT: SQLite would then walk every record by the subject index instead of the
	 * expiry range (a 10x slower sweep at 10M records); duplicates do not hurt bsearch */
	static const char left[] = "SELECT subject_id FROM records WHERE expires_at < ? AND key_epoch IS NULL";
	pv_sweep_ctx *sw = c->sw;
	pv_store *s = pv_vault_store(sw->v);
	pv_store_value p[] = { pv_sv_int(w_old * PV_EPOCH_SECONDS), pv_sv_int(sw->w_new * PV_EPOCH_SECONDS) };
	id_list l = { 0 }, keep = { 0 };
	int rc;

	rc = pv_store_query(s, "subjects emptied", cand, p, 2, id_cb, &l);
	if (rc == 0 && l.n > 0)
		rc = pv_store_query(s, "records left", left, &p[1], 1, id_cb, &keep);
	/* sorted here, not by ORDER BY: PostgreSQL orders text by its collation, bsearch by strcmp */
	if (rc == 0 && keep.n > 1)
		qsort(keep.v, keep.n, sizeof(*keep.v), pv_ret_cmp_sid);
	for (size_t i = 0; rc == 0 && i < l.n; i++) {
		if (pv_ret_is_held(sw, l.v[i]) ||
		    (keep.n > 0 && bsearch(l.v[i], keep.v, keep.n, sizeof(*keep.v), pv_ret_cmp_sid) != NULL))
			continue;
		if ((rc = pv_vault_subject_erase(sw->v, sw->caller, l.v[i], 0)) == 0)
			rc = pv_ret_erased_add(sw->rep, l.v[i]);
	}
	free(l.v);
	free(keep.v);
	return rc;
}

/* The writes of a real shred, inside its transaction. */
static int shred_write(shred_ctx *c, int64_t w_old)
{
	pv_sweep_ctx *sw = c->sw;
	char outcome[96];
	size_t i;
	int rc = 0;

	for (i = 0; rc == 0 && i < c->nkept; i++)
		rc = pv_vault_record_reseal(sw->v, c->kept[i].subject_id, c->kept[i].id);
	for (i = 0; rc == 0 && i < c->tallies.n; i++) {
		const group *g = &c->tallies.v[i];

		rc = pv_store_tally_add(pv_vault_store(sw->v), g->category, g->purpose, g->source, g->month, g->n);
	}
	for (i = 0; rc == 0 && i < c->lines.n; i++) {
		const group *g = &c->lines.v[i];

		snprintf(outcome, sizeof(outcome), "ok:records=%lld,epochs=%lld-%lld", (long long)g->n,
			 (long long)w_old, (long long)sw->w_new - 1);
		rc = pv_audit_append(pv_vault_audit(sw->v), sw->caller->name,
				     g->action == PV_RETAIN_ANONYMIZE ? "retention.anonymize" : "retention.delete",
				     NULL, g->purpose, g->category, outcome);
	}
	if (rc == 0)
		rc = pv_vault_epochs_advance(sw->v, sw->w_new);
	if (rc == 0)
		rc = shred_erasures(c, w_old);
	return rc;
}

int pv_retention_shred(pv_sweep_ctx *sw)
{
	shred_ctx c;
	int64_t w_old;
	int dry = sw->rep->dry_run, rc;

	memset(&c, 0, sizeof(c));
	c.sw = sw;
	sw->w_new = sw->now / PV_EPOCH_SECONDS;
	if (!dry && (rc = pv_vault_begin(sw->v)) < 0)
		return rc;
	/* holds frozen as in a batch; on PostgreSQL restrictions too (pv_store_hold_lock) */
	rc = dry ? 0 : pv_store_hold_lock(pv_vault_store(sw->v));
	if (rc == 0)   /* a vault without a frontier has nothing sealed under an epoch (and gets none here) */
		rc = pv_vault_epochs_read(sw->v, 0);
	w_old = pv_vault_epochs_watermark(sw->v);
	if (rc == 0 && w_old >= 0 && sw->w_new > w_old) {
		rc = shred_read(&c, w_old);
		if (rc == 0 && !dry)
			rc = shred_write(&c, w_old);
	} else if (w_old >= 0 && sw->w_new < w_old) {
		sw->w_new = w_old;   /* a look behind the watermark: those epochs are gone already */
	}
	if (!dry)
		rc = pv_ret_end(sw->v, rc);
	for (size_t i = 0; rc == 0 && i < c.lines.n; i++)
		rc = pv_ret_count_add(sw->rep, c.lines.v[i].category, c.lines.v[i].purpose, c.lines.v[i].action,
				      c.lines.v[i].n);
	if (rc == 0) {
		sw->rep->destroyed = c.destroyed;
		if (!dry && c.lines.n > 0)
			sw->rep->batches++;
	}
	free(c.holds);
	free(c.restricted);
	free(c.kept);
	free(c.lines.v);
	free(c.tallies.v);
	return rc;
}

/* ---- purge ------------------------------------------------------------------------------------ */

static int ref_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	struct {
		pv_store_record_ref *v;
		size_t n;
	} *l = payload;

	(void)cols;
	if (n != 2 || pv_sv_get_text(&vals[0], l->v[l->n].subject_id, PV_ID_LEN + 1) < 0 ||
	    pv_sv_get_text(&vals[1], l->v[l->n].id, PV_ID_LEN + 1) < 0)
		return pv_error_set(PV_ESTORE, "purge: records: malformed row");
	l->n++;
	return 0;
}

/*
 * Delete the rows of records sealed under destroyed epochs (admin), at most
 * `limit` (0 = all), in transactions of PV_SWEEP_PURGE_CHUNK rows, each
 * audited "retention.purge" with "ok:rows=<n>" (no subject: these records
 * were counted and audited when their epoch was destroyed). *out_rows (may
 * be NULL) = rows deleted.
 */
int pv_retention_purge(pv_vault *v, const pv_caller *caller, size_t limit, size_t *out_rows)
{
	static const char sel[] = "SELECT subject_id, id FROM records WHERE expires_at < ? AND key_epoch IS NOT NULL"
				  " AND key_epoch < ? ORDER BY expires_at LIMIT ?";
	struct {
		pv_store_record_ref *v;
		size_t n;
	} l = { NULL, 0 };
	size_t total = 0, deleted, want;
	char outcome[64];
	int64_t w;
	int rc;

	if (out_rows)
		*out_rows = 0;
	if (v == NULL)
		return pv_error_set(PV_EINVAL, "purge: expected a vault");
	if ((rc = pv_retention_caller_check(caller, 0, "purge")) < 0)
		return rc;
	if ((l.v = malloc(PV_SWEEP_PURGE_CHUNK * sizeof(*l.v))) == NULL)
		return pv_error_set(PV_ENOMEM, "purge: out of memory");
	for (;;) {
		want = limit == 0 || limit - total > PV_SWEEP_PURGE_CHUNK ? PV_SWEEP_PURGE_CHUNK : limit - total;
		if (want == 0 || (rc = pv_vault_begin(v)) < 0)
			break;
		l.n = 0;
		deleted = 0;
		rc = pv_vault_epochs_read(v, 0);
		w = pv_vault_epochs_watermark(v);
		if (rc == 0 && w > 0) {
			pv_store_value p[] = { pv_sv_int(w * PV_EPOCH_SECONDS), pv_sv_int(w), pv_sv_int((int64_t)want) };

			rc = pv_store_query(pv_vault_store(v), "records destroyed", sel, p, 3, ref_cb, &l);
		}
		if (rc == 0 && l.n > 0)
			rc = pv_store_record_delete_refs(pv_vault_store(v), l.v, l.n, &deleted);
		snprintf(outcome, sizeof(outcome), "ok:rows=%zu", deleted);
		if (rc == 0 && deleted > 0)
			rc = pv_audit_append(pv_vault_audit(v), caller->name, "retention.purge", NULL, NULL, NULL, outcome);
		if ((rc = pv_ret_end(v, rc)) < 0)
			break;
		total += deleted;
		if (l.n < want)
			break;
	}
	free(l.v);
	if (out_rows)
		*out_rows = total;
	return rc;
}
