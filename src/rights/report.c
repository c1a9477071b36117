/*
 * `privault report requests --year N` (issue 6, requests part): the CCPA
 * metrics (Cal. Code Regs. tit. 11 § 7102) per request type over requests
 * received in calendar year N (UTC): received, complied with in whole,
 * in part, denied, still open, and the mean and median days from receipt to
 * the final answer of the closed ones (withdrawn and expired requests count
 * as received only).
 */
#include "rights/requests_internal.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

typedef struct {
	pv_request_metrics *m;
	double *days[PV_POLICY_REQ_COUNT];
	size_t ndays[PV_POLICY_REQ_COUNT], cap[PV_POLICY_REQ_COUNT];
} rep_acc;

static int rep_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	rep_acc *a = payload;
	int64_t type, state, received, closed;

	if (n < 4)
		return 0;
	type = pv_sv_get_int(&vals[0]);
	state = pv_sv_get_int(&vals[1]);
	received = pv_sv_get_int(&vals[2]);
	closed = pv_sv_get_int(&vals[3]);
	if (type < 0 || type >= PV_POLICY_REQ_COUNT)
		return 0;
	pv_request_metrics *m = &a->m[type];
	m->received++;
	switch (state) {
	case PV_REQ_COMPLETED: m->complied++; break;
	case PV_REQ_PARTIAL: m->partial++; break;
	case PV_REQ_REFUSED: m->denied++; break;
	case PV_REQ_WITHDRAWN: case PV_REQ_EXPIRED: return 0;
	default: m->open++; return 0;
	}
	if (a->ndays[type] == a->cap[type]) {
		size_t cap = a->cap[type] ? a->cap[type] * 2 : 64;
		double *p = realloc(a->days[type], cap * sizeof(*p));
		if (!p)
			return pv_error_set(PV_ENOMEM, "report: out of memory");
		a->days[type] = p;
		a->cap[type] = cap;
	}
	a->days[type][a->ndays[type]++] = (double)(closed - received) / 86400.0;
	return 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* Unix time of 1 January `year`, 00:00 UTC. */
static pv_time year_start(int year)
{
	char buf[16];
	pv_time t = 0;

	snprintf(buf, sizeof(buf), "%04d-01-01", year);
	pv_time_parse(&t, buf);
	return t;
}

int pv_request_report(pv_vault *v, const pv_caller *caller, int year, pv_request_metrics out[PV_POLICY_REQ_COUNT])
{
	static const char sql[] = "SELECT type, state, received_at, closed_at FROM rights_requests "
		"WHERE received_at >= ? AND received_at < ?";
	rep_acc a;
	pv_store_value p[2];
	int rc;

	memset(out, 0, sizeof(pv_request_metrics) * PV_POLICY_REQ_COUNT);
	if (!v || (rc = pv_rq_caller(caller, 0, "report")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "report: expected a vault");
	if (year < 1970 || year > 9998)
		return pv_error_set(PV_EINVAL, "year: expected 1970-9998");
	memset(&a, 0, sizeof(a));
	a.m = out;
	p[0] = pv_sv_int(year_start(year));
	p[1] = pv_sv_int(year_start(year + 1));
	rc = pv_store_query(pv_vault_store(v), "rights_requests report", sql, p, 2, rep_cb, &a);
	for (int t = 0; t < PV_POLICY_REQ_COUNT; t++) {
		size_t k = a.ndays[t];
		if (rc == 0 && k > 0) {
			double sum = 0;
			qsort(a.days[t], k, sizeof(double), cmp_double);
			for (size_t i = 0; i < k; i++)
				sum += a.days[t][i];
			out[t].mean_days = sum / (double)k;
			out[t].median_days = k % 2 ? a.days[t][k / 2] : (a.days[t][k / 2 - 1] + a.days[t][k / 2]) / 2.0;
		}
		free(a.days[t]);
	}
	if (rc == 0)
		rc = pv_vault_audit_action(v, caller, "request.report", "ok");
	return rc;
}
