#include "privault/time.h"
#include "core/error.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t frozen_at;
static atomic_int frozen;

pv_time pv_clock_now(void)
{
	struct timespec ts;

	if (atomic_load(&frozen))
		return atomic_load(&frozen_at);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (pv_time)ts.tv_sec;
}

void pv_clock_set(pv_time t)
{
	atomic_store(&frozen_at, t);
	atomic_store(&frozen, 1);
}

void pv_clock_reset(void)
{
	atomic_store(&frozen, 0);
}

/* Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
	static const unsigned days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static pv_time add_months(pv_time t, int64_t months)
{
	int64_t day = floor_div(t, 86400), secs = t - day * 86400, y, idx;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	idx = y * 12 + (m - 1) + months;
	y = floor_div(idx, 12);
	m = (unsigned)(idx - y * 12) + 1;
	if (d > month_days(y, m))
		d = month_days(y, m);
	return days_from_civil(y, m, d) * 86400 + secs;
}

static int is_holiday(int64_t day, const pv_time *holidays, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (floor_div(holidays[i], 86400) == day)
			return 1;
	return 0;
}

static pv_time add_business_days(pv_time t, int64_t n, const pv_time *holidays, size_t nh)
{
	int64_t day = floor_div(t, 86400), secs = t - day * 86400;

	while (n > 0) {
		day++;
		int64_t wd = ((day % 7) + 7 + 3) % 7; /* 0 = Monday; 1970-01-01 was a Thursday */
		if (wd < 5 && !is_holiday(day, holidays, nh))
			n--;
	}
	return day * 86400 + secs;
}

pv_time pv_time_add(pv_time t, const pv_duration *d, const pv_time *holidays, size_t nholidays)
{
	switch (d->unit) {
	case PV_DUR_HOURS: return t + d->n * 3600;
	case PV_DUR_DAYS: return t + d->n * 86400;
	case PV_DUR_WEEKS: return t + d->n * 7 * 86400;
	case PV_DUR_MONTHS: return add_months(t, d->n);
	case PV_DUR_YEARS: return add_months(t, d->n * 12);
	case PV_DUR_BUSINESS_DAYS: return add_business_days(t, d->n, holidays, nholidays);
	case PV_DUR_INDEFINITE:
	case PV_DUR_SESSION:
	default: return INT64_MAX;
	}
}

static const struct {
	const char *one, *many;
	pv_duration_unit unit;
} units[] = {
	{ "hour", "hours", PV_DUR_HOURS },
	{ "day", "days", PV_DUR_DAYS },
	{ "business day", "business days", PV_DUR_BUSINESS_DAYS },
	{ "week", "weeks", PV_DUR_WEEKS },
	{ "month", "months", PV_DUR_MONTHS },
	{ "year", "years", PV_DUR_YEARS },
};

#define DURATION_EXPECTED "expected \"<n> <unit>\" (unit: hours, days, business days, weeks, months, years), \"indefinite\" or \"session\""

int pv_duration_parse(pv_duration *out, const char *text)
{
	const char *p = text;
	char *end;
	long long n;

	if (!text)
		return pv_error_set(PV_EINVAL, "duration: " DURATION_EXPECTED);
	if (!strcmp(text, "indefinite")) {
		out->n = 0;
		out->unit = PV_DUR_INDEFINITE;
		return 0;
	}
	if (!strcmp(text, "session")) {
		out->n = 0;
		out->unit = PV_DUR_SESSION;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return pv_error_set(PV_EINVAL, "duration: " DURATION_EXPECTED);
	n = strtoll(p, &end, 10);
	if (n < 0 || n > 100000 || *end != ' ')
		return pv_error_set(PV_EINVAL, "duration: number must be 0..100000 followed by one space and a unit");
	p = end + 1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(p, units[i].one) || !strcmp(p, units[i].many)) {
			out->n = n;
			out->unit = units[i].unit;
			return 0;
		}
	}
	return pv_error_set(PV_EINVAL, "duration: unknown unit; " DURATION_EXPECTED);
}

const char *pv_duration_format(const pv_duration *d, char *buf, size_t size)
{
	if (d->unit == PV_DUR_INDEFINITE) {
		snprintf(buf, size, "indefinite");
		return buf;
	}
	if (d->unit == PV_DUR_SESSION) {
		snprintf(buf, size, "session");
		return buf;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (units[i].unit == d->unit)
			snprintf(buf, size, "%" PRId64 " %s", d->n, d->n == 1 ? units[i].one : units[i].many);
	return buf;
}

const char *pv_time_format(pv_time t, char *buf, size_t size)
{
	int64_t day = floor_div(t, 86400), secs = t - day * 86400, y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
		 (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	return buf;
}

int pv_time_parse(pv_time *out, const char *text)
{
	int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
	size_t len = text ? strlen(text) : 0;

	if (len == 10 && sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10) {
		/* date only */
	} else if (len == 20 && sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) == 6 && n == 20) {
		/* date and time */
	} else {
		return pv_error_set(PV_EINVAL, "time: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > (int)month_days(y, (unsigned)mo) ||
	    h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0)
		return pv_error_set(PV_EINVAL, "time: date or time out of range");
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}
