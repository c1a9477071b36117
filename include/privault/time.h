/*
 * privault time: one clock that tests can set, and durations with each
 * regime's calendar arithmetic. All times are UTC seconds since the epoch.
 */
#ifndef PRIVAULT_TIME_H
#define PRIVAULT_TIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int64_t pv_time;

typedef enum {
	PV_DUR_INDEFINITE = 0, /* never ends */
	PV_DUR_SESSION,        /* cookies only: ends with the browser session */
	PV_DUR_HOURS,
	PV_DUR_DAYS,
	PV_DUR_BUSINESS_DAYS,  /* Monday to Friday, minus holidays */
	PV_DUR_WEEKS,
	PV_DUR_MONTHS,         /* Regulation 1182/71 month arithmetic */
	PV_DUR_YEARS
} pv_duration_unit;

typedef struct {
	int64_t n;
	pv_duration_unit unit;
} pv_duration;

/* Now, from the one clock. Tests set it with pv_clock_set(); the CLI also
 * honours PRIVAULT_NOW=<ISO 8601 UTC> for scripted tests. */
pv_time pv_clock_now(void);

/* Freeze the clock at `t` (tests only); pv_clock_reset() returns to real time. */
void pv_clock_set(pv_time t);
void pv_clock_reset(void);

/*
 * Parse "<n> <unit>" ("45 days", "1 month", "10 business days", "2 years",
 * "12 hours", "3 weeks"), "indefinite" or "session". Returns 0 or PV_EINVAL
 * with a message saying what was expected.
 */
int pv_duration_parse(pv_duration *out, const char *text);

/* Write the canonical text of `d` ("45 days") into buf; returns buf. */
const char *pv_duration_format(const pv_duration *d, char *buf, size_t size);

/*
 * t + d. Months and years end on the same day of the target month, or on its
 * last day where that day does not exist (31 January + 1 month = 28 or 29
 * February). Business days skip Saturdays, Sundays and the `nholidays`
 * dates in `holidays` (each a UTC midnight). Indefinite and session return
 * INT64_MAX.
 */
pv_time pv_time_add(pv_time t, const pv_duration *d, const pv_time *holidays, size_t nholidays);

/* Format as "2026-11-25T03:52:29Z" into buf (at least 21 bytes); returns buf. */
const char *pv_time_format(pv_time t, char *buf, size_t size);

/* Parse "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDThh:mm:ssZ". 0 or PV_EINVAL. */
int pv_time_parse(pv_time *out, const char *text);

#ifdef __cplusplus
}
#endif
#endif
