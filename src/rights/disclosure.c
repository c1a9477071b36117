/*
 * The disclosure ledger: each disclosure of a subject's data to a policy
 * recipient, recorded with its categories, purpose, sale/sharing flags and
 * time; listed per subject over the regime's lookback (fulfil.h).
 */
#include "rights/internal.h"

#include "core/error.h"
#include "core/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Check a disclosure against the current policy; fills cats (comma-separated). */
static int spec_check(const pv_policy *p, const pv_disclosure_spec *s, char *cats, size_t size)
{
	const pv_policy_recipient *r;
	size_t off = 0;

	if (!s->recipient || !(r = pv_policy_recipient_find(p, s->recipient)))
		return pv_error_set(PV_EINVAL, "recipient: expected a recipient id of the current policy");
	if (!s->purpose || !pv_policy_purpose_find(p, s->purpose))
		return pv_error_set(PV_EINVAL, "purpose: expected a purpose id of the current policy");
	if (s->ncategories == 0 || s->ncategories > PV_FULFIL_MAX_CATEGORIES || !s->categories)
		return pv_error_set(PV_EINVAL, "categories: expected 1..%d category ids", PV_FULFIL_MAX_CATEGORIES);
	if ((s->sale != 0 && s->sale != 1) || (s->sharing != 0 && s->sharing != 1))
		return pv_error_set(PV_EINVAL, "sale, sharing: expected 0 or 1");
	if (s->at < 0 || s->at > pv_clock_now() + 86400)
		return pv_error_set(PV_EINVAL, "at: expected a time not in the future");
	cats[0] = 0;
	for (size_t i = 0; i < s->ncategories; i++) {
		const char *c = s->categories[i];
		if (!c || !pv_policy_category_find(p, c))
			return pv_error_set(PV_EINVAL, "categories[%zu]: expected a category id of the current policy", i);
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->categories[j], c) == 0)
				return pv_error_set(PV_EINVAL, "categories[%zu]: listed twice", i);
		if (off + strlen(c) + 2 > size)
			return pv_error_set(PV_ELIMIT, "categories: too long together");
		off += (size_t)snprintf(cats + off, size - off, "%s%s", i ? "," : "", c);
	}
	return 0;
}

int pv_disclosure_record(pv_vault *v, const pv_caller *caller, const char *subject_id,
			 const pv_disclosure_spec *spec, char out_id[PV_ID_LEN + 1])
{
	static const char sql[] =
		"INSERT INTO disclosures (id, subject_id, recipient, purpose, categories, sale, sharing,"
		" disclosed_at, recorded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
	pv_subject_info info;
	char cats[sizeof(((pv_disclosure *)0)->categories)], id[PV_ID_LEN + 1];
	pv_time at;
	int rc;

	if (!v || !spec)
		return pv_error_set(PV_EINVAL, "disclosure: expected a vault and a disclosure");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if ((rc = pv_vault_subject_load(v, subject_id, &info)) < 0)
		return rc;
	if (info.state == PV_SUBJECT_ERASED)
		return pv_error_set(PV_EERASED, "subject %s: erased", subject_id);
	if ((rc = spec_check(pv_vault_policy(v), spec, cats, sizeof(cats))) < 0)
		return rc;
	at = spec->at ? spec->at : pv_clock_now();
	pv_uuid_new(id);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	{
		pv_store_value p[] = { pv_sv_text(id), pv_sv_text(subject_id), pv_sv_text(spec->recipient),
				       pv_sv_text(spec->purpose), pv_sv_text(cats), pv_sv_int(spec->sale),
				       pv_sv_int(spec->sharing), pv_sv_int(at), pv_sv_text(caller->name) };
		rc = pv_store_exec(pv_vault_store(v), "disclosures insert", sql, p, 9, NULL);
	}
	if (rc == 0)
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "disclosure.record", subject_id,
				     spec->purpose, NULL, spec->recipient);
	if ((rc = pv_vault_tx_end(v, rc)) == 0 && out_id)
		memcpy(out_id, id, sizeof(id));
	return rc;
}

typedef struct {
	pv_disclosure *v;
	size_t n, cap;
} dlist;

static int row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	dlist *l = payload;
	pv_disclosure *d;

	(void)cols;
	(void)n;
	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	d = &l->v[l->n++];
	memset(d, 0, sizeof(*d));
	pv_sv_get_text(&vals[0], d->id, sizeof(d->id));
	pv_sv_get_text(&vals[1], d->recipient, sizeof(d->recipient));
	pv_sv_get_text(&vals[2], d->purpose, sizeof(d->purpose));
	pv_sv_get_text(&vals[3], d->categories, sizeof(d->categories));
	d->sale = (int)pv_sv_get_int(&vals[4]);
	d->sharing = (int)pv_sv_get_int(&vals[5]);
	d->at = pv_sv_get_int(&vals[6]);
	return 0;
}

/* `months` calendar months before now (day clamped to the month's length), at the same time of day. */
static pv_time months_before(pv_time now, int months)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	time_t t = (time_t)now;
	struct tm tm;
	int y, m, last;

	gmtime_r(&t, &tm);
	y = tm.tm_year + 1900;
	m = tm.tm_mon - months;
	while (m < 0) {
		m += 12;
		y--;
	}
	last = mdays[m] + (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (tm.tm_mday > last)
		tm.tm_mday = last;
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	return (pv_time)timegm(&tm);
}

/* The lookback start for a subject of `regime` under policy p at now. */

pv_time pv_fulfil_lookback_start(const pv_policy *p, pv_regime regime, pv_time now)
{
	const pv_policy_regime_settings *s = pv_policy_regime_get(p, regime);
	int months = s && s->lookback_months > 0 ? s->lookback_months : 12;

	return months_before(now, months);
}

int pv_disclosure_list(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_time since,
		       pv_disclosure **out, size_t *count)
{
	static const char sql[] =
		"SELECT id, recipient, purpose, categories, sale, sharing, disclosed_at FROM disclosures"
		" WHERE subject_id = ? AND disclosed_at >= ? ORDER BY disclosed_at, id";
	pv_subject_info info;
	dlist l = { 0 };
	int rc;

	if (!v || !out || !count)
		return pv_error_set(PV_EINVAL, "disclosures: expected a vault and outputs");
	*out = NULL;
	*count = 0;
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if ((rc = pv_vault_subject_load(v, subject_id, &info)) < 0)
		return rc;
	if (since <= 0)
		since = pv_fulfil_lookback_start(pv_vault_policy(v), info.regime, pv_clock_now());
	{
		pv_store_value p[] = { pv_sv_text(subject_id), pv_sv_int(since) };
		rc = pv_store_query(pv_vault_store(v), "disclosures list", sql, p, 2, row_cb, &l);
	}
	if (rc == 0 && (rc = pv_vault_tx_begin(v)) == 0) {
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "disclosure.list", subject_id, NULL, NULL, "ok");
		rc = pv_vault_tx_end(v, rc);
	}
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	*out = l.v;
	*count = l.n;
	return 0;
}
