/* Core: errors, the clock, durations and calendar arithmetic, ids, hex. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/error.h"
#include "core/util.h"
#include "privault/time.h"

static pv_time T(const char *s)
{
	pv_time t;
	assert_int_equal(pv_time_parse(&t, s), 0);
	return t;
}

static void assert_time(pv_time t, const char *want)
{
	char buf[32];
	assert_string_equal(pv_time_format(t, buf, sizeof(buf)), want);
}

static pv_duration D(const char *s)
{
	pv_duration d;
	assert_int_equal(pv_duration_parse(&d, s), 0);
	return d;
}

static void test_time_parse_format(void **state)
{
	pv_time t;
	(void)state;
	assert_time(T("1970-01-01"), "1970-01-01T00:00:00Z");
	assert_time(T("2026-11-25T03:52:29Z"), "2026-11-25T03:52:29Z");
	assert_int_equal(T("2000-03-01") - T("2000-02-28"), 2 * 86400);  /* 2000 is a leap year */
	assert_int_equal(pv_time_parse(&t, "2026-02-29"), PV_EINVAL);
	assert_int_equal(pv_time_parse(&t, "2026-13-01"), PV_EINVAL);
	assert_int_equal(pv_time_parse(&t, "2026-1-01"), PV_EINVAL);
	assert_int_equal(pv_time_parse(&t, "2026-01-01T25:00:00Z"), PV_EINVAL);
	assert_int_equal(pv_time_parse(&t, "2026-01-01 00:00:00"), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "YYYY-MM-DD"));
}

static void test_duration_parse(void **state)
{
	pv_duration d;
	char buf[64];
	(void)state;
	d = D("45 days");
	assert_int_equal(d.unit, PV_DUR_DAYS);
	assert_int_equal(d.n, 45);
	d = D("1 month");
	assert_int_equal(d.unit, PV_DUR_MONTHS);
	d = D("10 business days");
	assert_int_equal(d.unit, PV_DUR_BUSINESS_DAYS);
	assert_int_equal(d.n, 10);
	assert_string_equal(pv_duration_format(&d, buf, sizeof(buf)), "10 business days");
	d = D("1 year");
	assert_string_equal(pv_duration_format(&d, buf, sizeof(buf)), "1 year");
	assert_int_equal(D("indefinite").unit, PV_DUR_INDEFINITE);
	assert_int_equal(D("session").unit, PV_DUR_SESSION);
	assert_int_equal(pv_duration_parse(&d, "45days"), PV_EINVAL);
	assert_int_equal(pv_duration_parse(&d, "45 fortnights"), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "unknown unit"));
	assert_int_equal(pv_duration_parse(&d, "-1 days"), PV_EINVAL);
	assert_int_equal(pv_duration_parse(&d, ""), PV_EINVAL);
	assert_int_equal(pv_duration_parse(&d, NULL), PV_EINVAL);
}

/* Regulation 1182/71: a month ends on the same date, or the month's last day. */
static void test_month_arithmetic(void **state)
{
	pv_duration m1 = D("1 month"), m2 = D("2 months"), y1 = D("1 year"), m13 = D("13 months");
	(void)state;
	assert_time(pv_time_add(T("2026-01-31"), &m1, NULL, 0), "2026-02-28T00:00:00Z");
	assert_time(pv_time_add(T("2028-01-31"), &m1, NULL, 0), "2028-02-29T00:00:00Z");
	assert_time(pv_time_add(T("2026-01-15T10:20:30Z"), &m1, NULL, 0), "2026-02-15T10:20:30Z");
	assert_time(pv_time_add(T("2026-03-31"), &m1, NULL, 0), "2026-04-30T00:00:00Z");
	assert_time(pv_time_add(T("2026-12-31"), &m2, NULL, 0), "2027-02-28T00:00:00Z");
	assert_time(pv_time_add(T("2028-02-29"), &y1, NULL, 0), "2029-02-28T00:00:00Z");
	assert_time(pv_time_add(T("2026-11-30"), &m13, NULL, 0), "2027-12-30T00:00:00Z");
}

static void test_days_and_business_days(void **state)
{
	pv_duration d45 = D("45 days"), b10 = D("10 business days"), b1 = D("1 business day"),
		    h72 = D("72 hours"), w2 = D("2 weeks"), inf = D("indefinite");
	pv_time holidays[2];
	(void)state;
	assert_time(pv_time_add(T("2026-11-25"), &d45, NULL, 0), "2027-01-09T00:00:00Z");
	/* Wednesday 2026-11-25 + 10 business days = Wednesday 2026-12-09 */
	assert_time(pv_time_add(T("2026-11-25"), &b10, NULL, 0), "2026-12-09T00:00:00Z");
	/* Friday + 1 business day = Monday */
	assert_time(pv_time_add(T("2026-11-27T12:00:00Z"), &b1, NULL, 0), "2026-11-30T12:00:00Z");
	/* Thanksgiving 2026-11-26 and 2026-12-25 as holidays push it by one day */
	holidays[0] = T("2026-11-26");
	holidays[1] = T("2026-12-25");
	assert_time(pv_time_add(T("2026-11-25"), &b10, holidays, 2), "2026-12-10T00:00:00Z");
	assert_time(pv_time_add(T("2026-11-25"), &h72, NULL, 0), "2026-11-28T00:00:00Z");
	assert_time(pv_time_add(T("2026-11-25"), &w2, NULL, 0), "2026-12-09T00:00:00Z");
	assert_int_equal(pv_time_add(T("2026-11-25"), &inf, NULL, 0), INT64_MAX);
}

static void test_clock(void **state)
{
	(void)state;
	pv_clock_set(T("2030-01-01"));
	assert_time(pv_clock_now(), "2030-01-01T00:00:00Z");
	pv_clock_reset();
	assert_true(pv_clock_now() > T("2024-01-01"));
}

static void test_errors(void **state)
{
	(void)state;
	pv_error_clear();
	assert_int_equal(pv_error_last_code(), PV_OK);
	assert_int_equal(pv_error_set(PV_EINVAL, "field %s: expected %d", "x", 3), PV_EINVAL);
	assert_string_equal(pv_error_last(), "field x: expected 3");
	assert_int_equal(pv_error_wrap(PV_EINVAL, "line %d", 7), PV_EINVAL);
	assert_string_equal(pv_error_last(), "line 7: field x: expected 3");
	assert_string_equal(pv_error_name(PV_ENOTFOUND), "PV_ENOTFOUND");
}

static void test_ids_and_hex(void **state)
{
	char id[PV_UUID_LEN + 1], id2[PV_UUID_LEN + 1], hex[9];
	uint8_t b[4] = { 0xde, 0xad, 0xbe, 0xef }, back[4];
	(void)state;
	assert_true(sodium_init() >= 0);
	pv_uuid_new(id);
	pv_uuid_new(id2);
	assert_true(pv_uuid_valid(id));
	assert_string_not_equal(id, id2);
	assert_int_equal(id[14], '4');
	assert_false(pv_uuid_valid("not-a-uuid"));
	assert_false(pv_uuid_valid("0123456789ab-cdef-0123-4567-89abcdef0123"));
	assert_string_equal(pv_hex_encode(hex, b, 4), "deadbeef");
	assert_int_equal(pv_hex_decode(back, 4, "DEADbeef"), 0);
	assert_memory_equal(back, b, 4);
	assert_int_equal(pv_hex_decode(back, 4, "deadbee"), PV_EINVAL);
	assert_int_equal(pv_hex_decode(back, 4, "deadbeeg"), PV_EINVAL);
	assert_true(pv_id_valid("order_fulfilment", 64));
	assert_false(pv_id_valid("Order", 64));
	assert_false(pv_id_valid("1abc", 64));
	assert_false(pv_id_valid("a-b", 64));
	assert_false(pv_id_valid("abcdef", 5));
	assert_false(pv_id_valid("", 64));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse_format),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_month_arithmetic),
		cmocka_unit_test(test_days_and_business_days),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_ids_and_hex),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
