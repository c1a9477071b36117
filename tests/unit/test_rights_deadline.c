/*
 * Deadline arithmetic of data-subject requests: pv_time_add month and
 * business-day edge cases (31 January, leap years, 30/31-day month ends,
 * negative months, weekends, holidays), and the request deadlines built on it
 * (src/rights/deadline.c: Regulation 1182/71 for GDPR months incl. the move
 * off weekends and holidays, CCPA 45 days and 10 business days, LGPD 15 days),
 * every deadline being the last second of its UTC day.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "privault/privault.h"
#include "rights/requests_internal.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/rights-policy.yaml"
#define DAY 86400

static pv_time at(const char *s)
{
	pv_time t = 0;

	assert_int_equal(pv_time_parse(&t, s), 0);
	return t;
}

static pv_time add(const char *from, int64_t n, pv_duration_unit u, const pv_time *h, size_t nh)
{
	pv_duration d = { n, u };
	return pv_time_add(at(from), &d, h, nh);
}

static void test_months(void **state)
{
	(void)state;
	assert_int_equal(add("2025-01-31", 1, PV_DUR_MONTHS, NULL, 0), at("2025-02-28"));
	assert_int_equal(add("2024-01-31", 1, PV_DUR_MONTHS, NULL, 0), at("2024-02-29"));   /* leap year */
	assert_int_equal(add("2100-01-31", 1, PV_DUR_MONTHS, NULL, 0), at("2100-02-28"));   /* not leap */
	assert_int_equal(add("2000-01-31", 1, PV_DUR_MONTHS, NULL, 0), at("2000-02-29"));   /* leap (400) */
	assert_int_equal(add("2025-03-31", 1, PV_DUR_MONTHS, NULL, 0), at("2025-04-30"));
	assert_int_equal(add("2025-04-30", 1, PV_DUR_MONTHS, NULL, 0), at("2025-05-30"));
	assert_int_equal(add("2025-08-31", 1, PV_DUR_MONTHS, NULL, 0), at("2025-09-30"));
	assert_int_equal(add("2025-12-31", 2, PV_DUR_MONTHS, NULL, 0), at("2026-02-28"));
	assert_int_equal(add("2025-11-30", 3, PV_DUR_MONTHS, NULL, 0), at("2026-02-28"));
	assert_int_equal(add("2024-02-29", 12, PV_DUR_MONTHS, NULL, 0), at("2025-02-28"));
	assert_int_equal(add("2024-02-29", 1, PV_DUR_YEARS, NULL, 0), at("2025-02-28"));
	assert_int_equal(add("2025-03-31", -1, PV_DUR_MONTHS, NULL, 0), at("2025-02-28"));
	assert_int_equal(add("2025-01-15", -1, PV_DUR_MONTHS, NULL, 0), at("2024-12-15"));
	/* the time of day is kept */
	assert_int_equal(add("2025-01-31T17:30:00Z", 1, PV_DUR_MONTHS, NULL, 0), at("2025-02-28T17:30:00Z"));
}

static void test_business_days(void **state)
{
	pv_time h[2];

	(void)state;
	/* Friday + 1 = Monday; Saturday + 1 = Monday; Sunday + 5 = Friday */
	assert_int_equal(add("2025-03-14", 1, PV_DUR_BUSINESS_DAYS, NULL, 0), at("2025-03-17"));
	assert_int_equal(add("2025-03-15", 1, PV_DUR_BUSINESS_DAYS, NULL, 0), at("2025-03-17"));
	assert_int_equal(add("2025-03-16", 5, PV_DUR_BUSINESS_DAYS, NULL, 0), at("2025-03-21"));
	/* 10 business days over Thanksgiving (Thursday 2025-11-27) */
	h[0] = at("2025-11-27");
	assert_int_equal(add("2025-11-20", 10, PV_DUR_BUSINESS_DAYS, h, 1), at("2025-12-05"));
	assert_int_equal(add("2025-11-20", 10, PV_DUR_BUSINESS_DAYS, NULL, 0), at("2025-12-04"));
	/* a holiday on a Monday after a weekend: Friday + 1 = Tuesday */
	h[1] = at("2025-12-29");
	assert_int_equal(add("2025-12-26", 1, PV_DUR_BUSINESS_DAYS, h, 2), at("2025-12-30"));
	/* a holiday given at a time other than midnight still names its day */
	h[0] = at("2025-11-27T15:00:00Z");
	assert_int_equal(add("2025-11-26", 1, PV_DUR_BUSINESS_DAYS, h, 1), at("2025-11-28"));
	/* zero business days: unchanged */
	assert_int_equal(add("2025-11-29", 0, PV_DUR_BUSINESS_DAYS, NULL, 0), at("2025-11-29"));
}

typedef struct {
	pv_policy *p;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	assert_int_equal(pv_policy_load_file(&f->p, POLICY, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	pv_policy_free(f->p);
	free(f);
	return 0;
}

static void due(const pv_policy *p, pv_regime r, const char *received, const char *want_due, const char *want_ack)
{
	pv_time ack = -1, d = -1;

	assert_int_equal(pv_rq_deadlines(p, r, at(received), &ack, &d), 0);
	assert_int_equal(d, at(want_due) + DAY - 1);
	if (want_ack)
		assert_int_equal(ack, at(want_ack) + DAY - 1);
	else
		assert_int_equal(ack, 0);
}

static void test_gdpr_deadlines(void **state)
{
	fx *f = *state;

	due(f->p, PV_REGIME_GDPR, "2025-01-31T09:00:00Z", "2025-02-28", NULL);   /* Friday */
	due(f->p, PV_REGIME_GDPR, "2024-01-31T09:00:00Z", "2024-02-29", NULL);   /* Thursday, leap */
	/* 2025-02-01 (Saturday) + 1 month = Saturday 2025-03-01 -> Monday 2025-03-03 (art. 3(4)) */
	due(f->p, PV_REGIME_GDPR, "2025-02-01T10:00:00Z", "2025-03-03", NULL);
	/* 2025-11-25 + 1 month = Thursday 25 December, a holiday; 26th too; weekend -> Monday 29th */
	due(f->p, PV_REGIME_GDPR, "2025-11-25T23:59:00Z", "2025-12-29", NULL);
	/* 30/31 month ends */
	due(f->p, PV_REGIME_GDPR, "2025-03-31T00:00:00Z", "2025-04-30", NULL);
	due(f->p, PV_REGIME_GDPR, "2025-07-31T00:00:00Z", "2025-09-01", NULL);   /* Sunday 31 Aug -> Monday */
}

static void test_ccpa_lgpd_deadlines(void **state)
{
	fx *f = *state;

	/* 45 calendar days (no move off weekends); ack 10 business days minus Thanksgiving */
	due(f->p, PV_REGIME_CCPA, "2025-11-20T12:00:00Z", "2026-01-04", "2025-12-05");
	due(f->p, PV_REGIME_CCPA, "2025-12-19T12:00:00Z", "2026-02-02", "2026-01-05");   /* 25 Dec a holiday */
	due(f->p, PV_REGIME_LGPD, "2025-02-20T08:00:00Z", "2025-03-07", NULL);
	/* a regime not in force */
	pv_time a, d;
	pv_policy *min;
	assert_int_equal(pv_policy_load_file(&min, PV_SOURCE_ROOT "/tests/data/policy-minimal.yaml", NULL), 0);
	assert_int_equal(pv_rq_deadlines(min, PV_REGIME_CCPA, at("2025-01-01"), &a, &d), PV_EPOLICY);
	pv_policy_free(min);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_months),
		cmocka_unit_test(test_business_days),
		cmocka_unit_test_setup_teardown(test_gdpr_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ccpa_lgpd_deadlines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
