/*
 * Deadlines of data-subject requests (issue 6, requests part): the first
 * deadline and acknowledgement from the regime's rights settings, one
 * extension with its notice, and the complaint route of refusals.
 *
 * Month periods (GDPR) follow Regulation 1182/71: the period runs from the
 * day after receipt (art. 3(1)), ends with the last hour of the same date in
 * the last month, or of that month's last day when it has no such date
 * (art. 3(2)(c): 31 January -> 28/29 February), and when that day is a
 * Saturday, Sunday or a holiday of the policy it ends with the following
 * working day (art. 3(4)). Day periods (CCPA 45 days, LGPD 15 days) are
 * calendar days, business-day periods skip weekends and the policy's
 * holidays. Every deadline is the last second of its UTC day.
 */
#include "rights/requests_internal.h"

#include <sodium.h>
#include <string.h>

#include "core/error.h"

static int is_rest_day(int64_t day, const pv_time *holidays, size_t nh)
{
	int64_t wd = ((day % 7) + 7 + 3) % 7;   /* 0 = Monday; 1970-01-01 was a Thursday */

	if (wd >= 5)
		return 1;
	for (size_t i = 0; i < nh; i++)
		if (holidays[i] / 86400 == day)
			return 1;
	return 0;
}

static int64_t day_of(pv_time t)
{
	return t / 86400 - (t % 86400 < 0);
}

/* End of the period `d` from `at` under the rules above; INT64_MAX for indefinite. */
static pv_time period_end(pv_time at, const pv_duration *d, const pv_time *holidays, size_t nh)
{
	pv_time end = pv_time_add(at, d, holidays, nh);
	int64_t day;

	if (end == INT64_MAX)
		return end;
	day = day_of(end);
	if (d->unit == PV_DUR_MONTHS || d->unit == PV_DUR_YEARS)
		while (is_rest_day(day, holidays, nh))
			day++;
	return day * 86400 + 86399;
}

int pv_rq_deadlines(const pv_policy *p, pv_regime r, pv_time at, pv_time *ack_due, pv_time *due_at)
{
	const pv_policy_rights *rt = pv_policy_rights_get(p, r);

	if (!rt || !rt->enabled)
		return pv_error_set(PV_EPOLICY, "regime: %s is not in force in the policy", pv_regime_name(r));
	*due_at = period_end(at, &rt->deadline, rt->holidays, rt->nholidays);
	*ack_due = rt->has_acknowledge ? period_end(at, &rt->acknowledge, rt->holidays, rt->nholidays) : 0;
	return 0;
}


const char *pv_request_complaint_route(const pv_policy *p, pv_regime r)
{
	const pv_policy_regime_settings *rs = p ? pv_policy_regime_get(p, r) : NULL;

	if (rs && rs->authority && *rs->authority)
		return rs->authority;
	switch (r) {
	case PV_REGIME_GDPR: return "the data protection supervisory authority of your EU/EEA member state (GDPR art. 77)";
	case PV_REGIME_CCPA: return "California Privacy Protection Agency (cppa.ca.gov) or the California Attorney General";
	case PV_REGIME_LGPD: return "Autoridade Nacional de Protecao de Dados (ANPD, gov.br/anpd)";
	default: return "the competent data protection authority";
	}
}

/*
 * Extend request `id` once (rights.h). Checks: open, not yet extended, the
 * first deadline not passed, the regime allows an extension, the contact is
 * the intake identifier. One batch: the row, the history/audit entry
 * ("request.extended" with the reason code) and the notice in the outbox.
 */
int pv_request_extend(pv_vault *v, const pv_caller *caller, const char *id, const char *reason,
		      const char *contact_kind, const char *contact)
{
	const pv_policy_rights *rt;
	pv_rq_row row;
	char due[32], body[768];
	int rc, own;

	if (!v || (rc = pv_rq_caller(caller, 1, "extend")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "extend: expected a vault");
	if (!pv_rq_reason_valid(reason))
		return pv_error_set(PV_EINVAL, "reason: expected a reason code ^[a-z][a-z0-9_]{0,63}$");
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (pv_rq_final(row.r.state))
		return pv_error_set(PV_EINVAL, "state: request %s is %s; only open requests can be extended", id,
				    pv_request_state_name(row.r.state));
	if (row.r.extended_due)
		return pv_error_set(PV_EINVAL, "extension: request %s was already extended once", id);
	if (pv_clock_now() > row.r.due_at)
		return pv_error_set(PV_EINVAL, "extension: the first deadline of request %s has passed", id);
	rt = pv_policy_rights_get(pv_vault_policy(v), row.r.regime);
	if (!rt || !rt->enabled || !rt->has_extension)
		return pv_error_set(PV_EPOLICY, "extension: the %s settings allow none", pv_regime_name(row.r.regime));
	if (!contact_kind || strcmp(contact_kind, "email") != 0 || !row.has_bi)
		return pv_error_set(PV_EINVAL, "contact_kind: expected email, the identifier given at intake");
	if ((rc = pv_rq_intake_matches(v, &row, contact_kind, contact)) < 0)
		return rc;
	if (rc == 0)
		return pv_error_set(PV_EDENIED, "contact: not the identifier given at intake of request %s", id);
	row.r.extended_due = period_end(row.r.due_at, &rt->extension, rt->holidays, rt->nholidays);
	snprintf(row.r.reason, sizeof(row.r.reason), "%s", reason);
	pv_time_format(row.r.extended_due, due, sizeof(due));
	snprintf(body, sizeof(body),
		 "We need more time to answer your privacy request %s (%s).\n"
		 "Reason: %s.\nNew deadline: %s.\n"
		 "If you are not satisfied you may complain to: %s\n",
		 row.r.id, pv_policy_request_name(row.r.type), reason, due,
		 pv_request_complaint_route(pv_vault_policy(v), row.r.regime));
	if ((rc = pv_rq_batch_begin(v, &own)) < 0)
		return rc;
	rc = pv_rq_mail(v, caller, &row, contact, "request_extension", "Your privacy request: deadline extended", body);
	if (rc == 0)
		rc = pv_rq_event(v, caller, &row, "extended", reason);
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	return pv_rq_batch_end(v, own, rc);
}
