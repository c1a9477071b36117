/*
 * Erasure for a deletion request: the policy's exceptions and the active
 * legal holds are evaluated per record and reported per category; when
 * nothing is kept the subject is crypto-shredded (pv_subject_erase) and its
 * hashed identifiers go to the suppression journal; otherwise only the
 * records nothing keeps are deleted. Recipients with an erasure_webhook are
 * notified through the outbox in the same transaction.
 */
#include "rights/internal.h"

#include "core/error.h"
#include "core/util.h"
#include "privault/consent.h"

#include <stdlib.h>
#include <string.h>

/* One record's metadata and what keeps it. */
typedef struct {
	pv_store_record_ref ref;
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	pv_time collected_at;
	const char *keep_id;       /* exception id or "legal_hold"; NULL = erase */
	const char *keep_kind;
} rec_meta;

typedef struct {
	rec_meta *v;
	size_t n, cap;
} rec_list;

typedef struct {
	pv_store_hold *v;
	size_t n, cap;
} hold_list;

static int rec_cb(const pv_store_record *r, void *payload)
{
	rec_list *l = payload;
	rec_meta *m;

	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	m = &l->v[l->n++];
	memset(m, 0, sizeof(*m));
	memcpy(m->ref.subject_id, r->subject_id, sizeof(m->ref.subject_id));
	memcpy(m->ref.id, r->id, sizeof(m->ref.id));
	memcpy(m->category, r->category, sizeof(m->category));
	memcpy(m->purpose, r->purpose, sizeof(m->purpose));
	m->collected_at = r->collected_at;
	return 0;
}

static int hold_cb(const pv_store_hold *h, void *payload)
{
	hold_list *l = payload;

	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	l->v[l->n++] = *h;
	return 0;
}

static int ident_cb(const pv_store_identifier *id, void *payload)
{
	struct {
		pv_fulfil_ident *v;
		size_t n, cap;
	} *l = payload;

	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	snprintf(l->v[l->n].kind, sizeof(l->v[0].kind), "%s", id->kind);
	memcpy(l->v[l->n].bi, id->blind_index, sizeof(l->v[0].bi));
	l->n++;
	return 0;
}

static const char *exception_kind_name(pv_exception_kind k)
{
	switch (k) {
	case PV_EXCEPTION_REQUIRED_BY_LAW: return "required_by_law";
	case PV_EXCEPTION_OPEN_CONTRACT: return "open_contract";
	case PV_EXCEPTION_LEGAL_CLAIMS: return "legal_claims";
	case PV_EXCEPTION_PUBLISHED: return "published";
	case PV_EXCEPTION_DOCUMENTATION: return "documentation";
	}
	return "?";
}

static int list_has(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], "*") == 0 || strcmp(l[i], s) == 0)
			return 1;
	return 0;
}

/* Decide what keeps record m: an active hold first, then the first matching exception. */
static void record_judge(const pv_policy *p, const hold_list *holds, rec_meta *m, pv_time now)
{
	for (size_t i = 0; i < holds->n; i++) {
		const pv_store_hold *h = &holds->v[i];
		if ((h->subject_id[0] && strcmp(h->subject_id, m->ref.subject_id) != 0) ||
		    (h->category[0] && strcmp(h->category, m->category) != 0) ||
		    (h->from && m->collected_at < h->from) || (h->to && m->collected_at >= h->to))
			continue;
		m->keep_id = "legal_hold";
		m->keep_kind = "legal_hold";
		return;
	}
	for (size_t i = 0; i < pv_policy_exception_count(p); i++) {
		const pv_policy_exception *e = pv_policy_exception_at(p, i);
		if (!list_has(e->categories, e->ncategories, m->category) ||
		    (e->npurposes && !list_has(e->purposes, e->npurposes, m->purpose)))
			continue;
		if (e->has_duration && pv_time_add(m->collected_at, &e->duration, NULL, 0) <= now)
			continue;
		m->keep_id = e->id;
		m->keep_kind = exception_kind_name(e->kind);
		return;
	}
}

/* Sum the judged records into one item per category (order of first appearance). */
static int report_build(const rec_list *l, pv_erasure_report *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const rec_meta *m = &l->v[i];
		pv_erasure_item *it = NULL;
		for (size_t j = 0; j < out->nitems; j++)
			if (strcmp(out->items[j].category, m->category) == 0)
				it = &out->items[j];
		if (!it) {
			pv_erasure_item *nv = realloc(out->items, (out->nitems + 1) * sizeof(*nv));
			if (!nv)
				return pv_error_set(PV_ENOMEM, "erase: out of memory");
			out->items = nv;
			it = &out->items[out->nitems++];
			memset(it, 0, sizeof(*it));
			memcpy(it->category, m->category, sizeof(it->category));
		}
		it->records++;
		if (m->keep_id) {
			it->kept++;
			out->kept++;
			if (!it->exception[0]) {
				snprintf(it->exception, sizeof(it->exception), "%s", m->keep_id);
				it->kind = m->keep_kind;
			}
		}
	}
	return 0;
}

/* Delete the records nothing keeps, in batches of 500 refs (inside the open transaction). */
static int delete_unkept(pv_vault *v, const rec_list *l, size_t *deleted)
{
	pv_store_record_ref refs[500];
	size_t n = 0, d;
	int rc;

	*deleted = 0;
	for (size_t i = 0; i <= l->n; i++) {
		if (i < l->n && !l->v[i].keep_id)
			refs[n++] = l->v[i].ref;
		if (n && (n == 500 || i == l->n)) {
			if ((rc = pv_store_record_delete_refs(pv_vault_store(v), refs, n, &d)) < 0)
				return rc;
			*deleted += d;
			n = 0;
		}
	}
	return 0;
}

void pv_erasure_report_free(pv_erasure_report *r)
{
	if (!r)
		return;
	free(r->items);
	r->items = NULL;
	r->nitems = 0;
}

typedef struct {
	pv_category_count *v;
	size_t n, cap;
} cat_list;

static int cat_cb(const char *category, size_t count, void *payload)
{
	cat_list *l = payload;

	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	snprintf(l->v[l->n].category, sizeof(l->v[0].category), "%s", category);
	l->v[l->n].count = count;
	l->n++;
	return 0;
}

/* 1 when an active hold or an exception of the policy could keep some record of `category`. */
static int category_may_be_kept(const pv_policy *p, const hold_list *holds, const char *subject_id,
				const char *category)
{
	for (size_t i = 0; i < holds->n; i++)
		if ((!holds->v[i].subject_id[0] || strcmp(holds->v[i].subject_id, subject_id) == 0) &&
		    (!holds->v[i].category[0] || strcmp(holds->v[i].category, category) == 0))
			return 1;
	for (size_t i = 0; i < pv_policy_exception_count(p); i++) {
		const pv_policy_exception *e = pv_policy_exception_at(p, i);
		if (list_has(e->categories, e->ncategories, category))
			return 1;
	}
	return 0;
}

/*
 * Crypto-shred subject_id inside the open batch: consent rows, the data key,
 * identifiers (their blind indexes go to *ids and to the suppression table),
 * state ERASED, its disclosure-ledger rows, its pending emails (given up:
 * status failed, last_error "erased", payload wiped), and the subject queued
 * in erasure_purges: its record rows,
 * unreadable from here on, are deleted later by pv_fulfil_purge, so the
 * erasure takes the same time whatever the number of records.
 */
static int shred(pv_vault *v, const pv_caller *caller, const char *subject_id, size_t records, void *ids_list,
		 pv_time now)
{
	static const char q[] = "INSERT INTO erasure_purges (subject_id, queued_at) VALUES (?, ?)"
				" ON CONFLICT (subject_id) DO NOTHING";
	static const char del_disc[] = "DELETE FROM disclosures WHERE subject_id = ?";
	static const char drop_mail[] = "UPDATE outbox SET status = 2, last_error = 'erased', nonce = NULL, payload = NULL"
					" WHERE subject_id = ? AND status = 0 AND channel = 0";
	struct {
		pv_fulfil_ident *v;
		size_t n, cap;
	} *ids = ids_list;
	pv_store *s = pv_vault_store(v);
	pv_store_value p[] = { pv_sv_text(subject_id), pv_sv_int(now) };
	char outcome[64];
	int rc;

	pv_vault_put_cache_wipe(v);
	rc = pv_consent_erase(v, caller, subject_id, NULL);
	if (rc == 0) {
		rc = pv_store_key_delete(s, subject_id);
		if (rc == PV_ENOTFOUND)
			rc = 0;
	}
	if (rc == 0)
		rc = pv_store_identifier_each(s, subject_id, ident_cb, ids);
	if (rc == 0)
		rc = pv_store_identifier_delete_subject(s, subject_id);
	for (size_t i = 0; rc == 0 && i < ids->n; i++)
		rc = pv_store_suppression_insert(s, ids->v[i].kind, ids->v[i].bi, "erasure", now);
	if (rc == 0)
		rc = pv_store_subject_set_state(s, subject_id, PV_SUBJECT_ERASED, now);
	if (rc == 0 && records)
		rc = pv_store_exec(s, "erasure_purges insert", q, p, 2, NULL);
	/* the ledger rows go with the subject; queued emails to it (they hold its address) are given up */
	if (rc == 0)
		rc = pv_store_exec(s, "disclosures delete", del_disc, p, 1, NULL);
	if (rc == 0)
		rc = pv_store_exec(s, "outbox give up", drop_mail, p, 1, NULL);
	snprintf(outcome, sizeof(outcome), "ok:records=%zu,deferred", records);
	if (rc == 0)
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "subject.erase", subject_id, NULL, NULL, outcome);
	return rc;
}

/* Judge the records of `category` (appended to recs). */
static int judge_category(pv_vault *v, const char *subject_id, const char *category, const hold_list *holds,
			  rec_list *recs, pv_time now)
{
	size_t from = recs->n;
	int rc = pv_store_record_each(pv_vault_store(v), subject_id, category, rec_cb, recs);

	for (size_t i = from; rc == 0 && i < recs->n; i++)
		record_judge(pv_vault_policy(v), holds, &recs->v[i], now);
	return rc;
}

/* Shared by pv_fulfil_erase and pv_fulfil_run (request id for the notices). */
int pv_fulfil_erase_request(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *request_id,
			    pv_erasure_report *out);
int pv_fulfil_erase_request(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *request_id,
			    pv_erasure_report *out)
{
	struct {
		pv_fulfil_ident *v;
		size_t n, cap;
	} ids = { 0 };
	pv_subject_info info;
	rec_list recs = { 0 };
	hold_list holds = { 0 };
	cat_list cats = { 0 };
	unsigned char *judged = NULL;
	size_t total = 0;
	pv_time now = pv_clock_now();
	char outcome[96];
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "erase: expected a vault and a report");
	memset(out, 0, sizeof(*out));
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_fulfil_need_admin(caller, "erase")) < 0)
		return rc;
	if ((rc = pv_vault_subject_load(v, subject_id, &info)) < 0)
		return rc;
	if (info.state == PV_SUBJECT_ERASED)
		return pv_error_set(PV_EERASED, "subject %s: already erased", subject_id);
	if ((rc = pv_vault_begin(v)) < 0)
		return rc;
	rc = pv_store_hold_lock(pv_vault_store(v));
	if (rc == 0)
		rc = pv_store_hold_each(pv_vault_store(v), 1, hold_cb, &holds);
	if (rc == 0)
		rc = pv_store_record_count_categories(pv_vault_store(v), subject_id, cat_cb, &cats);
	if (rc == 0 && !(judged = calloc(cats.n + 1, 1)))
		rc = pv_error_set(PV_ENOMEM, "erase: out of memory");
	/* records are read only for categories an exception or a hold could keep */
	for (size_t i = 0; rc == 0 && i < cats.n; i++) {
		total += cats.v[i].count;
		if (category_may_be_kept(pv_vault_policy(v), &holds, subject_id, cats.v[i].category)) {
			judged[i] = 1;
			rc = judge_category(v, subject_id, cats.v[i].category, &holds, &recs, now);
		}
	}
	if (rc == 0)
		rc = report_build(&recs, out);
	if (rc == 0 && out->kept) {
		/* partial: read the other categories too and delete every record nothing keeps */
		for (size_t i = 0; rc == 0 && i < cats.n; i++)
			if (!judged[i])
				rc = judge_category(v, subject_id, cats.v[i].category, &holds, &recs, now);
		pv_erasure_report_free(out);
		memset(out, 0, sizeof(*out));
		if (rc == 0)
			rc = report_build(&recs, out);
		if (rc == 0)
			rc = delete_unkept(v, &recs, &out->deleted);
	} else if (rc == 0) {
		/* nothing kept: one item per category from the counts, then crypto-shredding */
		pv_erasure_report_free(out);
		memset(out, 0, sizeof(*out));
		out->items = calloc(cats.n + 1, sizeof(*out->items));
		if (!out->items)
			rc = pv_error_set(PV_ENOMEM, "erase: out of memory");
		for (size_t i = 0; rc == 0 && i < cats.n; i++) {
			memcpy(out->items[i].category, cats.v[i].category, sizeof(out->items[i].category));
			out->items[i].records = cats.v[i].count;
		}
		out->nitems = cats.n;
		out->full = 1;
		out->deleted = total;
		if (rc == 0)
			rc = shred(v, caller, subject_id, total, &ids, now);
	}
	if (rc == 0)
		rc = pv_fulfil_notify_erasure(v, caller, subject_id, request_id, &out->notified);
	snprintf(outcome, sizeof(outcome), "ok:deleted=%zu,kept=%zu,full=%d", out->deleted, out->kept, out->full);
	if (rc == 0)
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "fulfil.erase", subject_id, NULL, NULL, outcome);
	/* the journal is written before the commit: a journal line without its commit only erases again
	 * someone whose erasure was requested; a commit without its line could be resurrected */
	if (rc == 0 && out->full && ids.n)
		rc = pv_fulfil_journal_append(v, ids.v, ids.n, now);
	if (rc == 0)
		rc = pv_vault_commit(v);
	else
		pv_vault_rollback(v);
	free(recs.v);
	free(holds.v);
	free(cats.v);
	free(judged);
	if (ids.v)
		memset(ids.v, 0, ids.cap * sizeof(*ids.v));
	free(ids.v);
	if (rc < 0)
		pv_erasure_report_free(out);
	return rc;
}

typedef struct {
	char (*v)[PV_ID_LEN + 1];
	size_t n, cap;
} id_list;

static int purge_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	id_list *l = payload;

	(void)cols;
	(void)n;
	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	pv_sv_get_text(&vals[0], l->v[l->n++], PV_ID_LEN + 1);
	return 0;
}

/*
 * Delete the record rows of up to `limit` (0 = 100) crypto-shredded subjects
 * queued by pv_fulfil_erase, one transaction and one audit entry
 * ("fulfil.purge", "ok:records=N") per subject. *out_records (may be NULL) =
 * rows deleted. Admin callers.
 */
int pv_fulfil_purge(pv_vault *v, const pv_caller *caller, size_t limit, size_t *out_records)
{
	static const char sel[] = "SELECT subject_id FROM erasure_purges ORDER BY queued_at, subject_id LIMIT ?";
	static const char del[] = "DELETE FROM erasure_purges WHERE subject_id = ?";
	pv_store_value lim = pv_sv_int(limit ? (int64_t)limit : 100);
	id_list l = { 0 };
	size_t total = 0;
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "purge: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_fulfil_need_admin(caller, "purge")) < 0)
		return rc;
	if ((rc = pv_store_query(pv_vault_store(v), "erasure_purges list", sel, &lim, 1, purge_cb, &l)) < 0)
		goto done;
	for (size_t i = 0; i < l.n; i++) {
		pv_store_value p = pv_sv_text(l.v[i]);
		char outcome[48];
		size_t d = 0;

		if ((rc = pv_vault_tx_begin(v)) < 0)
			goto done;
		rc = pv_store_record_delete_subject(pv_vault_store(v), l.v[i], &d);
		if (rc == 0)
			rc = pv_store_exec(pv_vault_store(v), "erasure_purges delete", del, &p, 1, NULL);
		snprintf(outcome, sizeof(outcome), "ok:records=%zu", d);
		if (rc == 0)
			rc = pv_audit_append(pv_vault_audit(v), caller->name, "fulfil.purge", l.v[i], NULL, NULL, outcome);
		if ((rc = pv_vault_tx_end(v, rc)) < 0)
			goto done;
		total += d;
	}
	rc = 0;
done:
	free(l.v);
	if (out_records)
		*out_records = total;
	return rc;
}

int pv_fulfil_erase(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_erasure_report *out)
{
	return pv_fulfil_erase_request(v, caller, subject_id, NULL, out);
}
