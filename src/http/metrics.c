/*
 * Prometheus metrics, kept with relaxed atomic counters (no lock on the
 * request path) and rendered in the text exposition format 0.0.4.
 *
 * Labels are route patterns ("/v1/subjects/{id}"), methods, statuses and
 * decision reasons: never a concrete path, id, address or value, so the
 * metrics carry no personal data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

static const int statuses[] = { 200, 201, 202, 204, 304, 400, 401, 403, 404, 405, 406, 409, 410,
				413, 414, 415, 422, 429, 500, 501, 503 };
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)   /* + "other" */

/* Latency buckets, seconds (upper bounds; +Inf is the count). */
static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10 };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

typedef struct {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t bucket[NBOUNDS];
} series;

struct pv_http_metrics {
	size_t nroutes;
	const pv_http_route **routes;   /* borrowed */
	series *s;                      /* (nroutes + 1) * NSTATUS */
	uint64_t allowed;
	uint64_t denied[PV_REASON_COUNT];
	uint64_t auth_failures, rate_limited;
	uint64_t batches, batch_requests, commit_failures;
	uint64_t commits_full, commits_relaxed, syncs;   /* durability of group commits (issue 3) */
	int64_t audit_entries;
	int64_t inflight;
};

#define ADD(p, n) __atomic_fetch_add((p), (n), __ATOMIC_RELAXED)
#define LOAD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

int pv_http_metrics_new(pv_http_metrics **out, const pv_http_route *const *routes, size_t nroutes)
{
	pv_http_metrics *m = calloc(1, sizeof(*m));

	*out = NULL;
	if (m == NULL)
		return -1;
	m->nroutes = nroutes;
	m->routes = calloc(nroutes + 1, sizeof(*m->routes));
	m->s = calloc((nroutes + 1) * NSTATUS, sizeof(series));
	if (m->routes == NULL || m->s == NULL) {
		pv_http_metrics_free(m);
		return -1;
	}
	for (size_t i = 0; i < nroutes; i++)
		m->routes[i] = routes[i];
	*out = m;
	return 0;
}

void pv_http_metrics_free(pv_http_metrics *m)
{
	if (m == NULL)
		return;
	free(m->routes);
	free(m->s);
	free(m);
}

static size_t status_index(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (statuses[i] == status)
			return i;
	return NSTATUS - 1;
}

void pv_http_metrics_observe(pv_http_metrics *m, size_t route, int status, uint64_t ns)
{
	series *s;
	double secs = (double)ns / 1e9;

	if (m == NULL)
		return;
	if (route > m->nroutes)
		route = m->nroutes;
	s = &m->s[route * NSTATUS + status_index(status)];
	ADD(&s->count, 1);
	ADD(&s->sum_ns, ns);
	for (size_t i = 0; i < NBOUNDS; i++)
		if (secs <= bounds[i]) {
			ADD(&s->bucket[i], 1);   /* cumulated when rendered */
			break;
		}
}

void pv_http_metrics_decision(pv_http_metrics *m, int reason)
{
	if (m == NULL || reason < 0 || reason >= PV_REASON_COUNT)
		return;
	if (reason == PV_REASON_ALLOWED)
		ADD(&m->allowed, 1);
	else
		ADD(&m->denied[reason], 1);
}

void pv_http_metrics_auth_failure(pv_http_metrics *m, int rate_limited)
{
	if (m == NULL)
		return;
	if (rate_limited)
		ADD(&m->rate_limited, 1);
	else
		ADD(&m->auth_failures, 1);
}

void pv_http_metrics_batch(pv_http_metrics *m, size_t requests, int commit_failed)
{
	if (m == NULL)
		return;
	ADD(&m->batches, 1);
	ADD(&m->batch_requests, requests);
	if (commit_failed)
		ADD(&m->commit_failures, 1);
}

void pv_http_metrics_commit(pv_http_metrics *m, int relaxed)
{
	if (m != NULL)
		ADD(relaxed ? &m->commits_relaxed : &m->commits_full, 1);
}

void pv_http_metrics_sync(pv_http_metrics *m)
{
	if (m != NULL)
		ADD(&m->syncs, 1);
}

void pv_http_metrics_set_audit(pv_http_metrics *m, int64_t entries)
{
	if (m != NULL)
		__atomic_store_n(&m->audit_entries, entries, __ATOMIC_RELAXED);
}

void pv_http_metrics_inflight(pv_http_metrics *m, int delta)
{
	if (m != NULL)
		ADD(&m->inflight, delta);
}

/* A growable text buffer. */
typedef struct {
	char *p;
	size_t len, cap;
	int failed;
} buf;

static void bprintf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap * 2 + (size_t)n;
			char *p = realloc(b->p, cap);

			if (p == NULL) {
				b->failed = 1;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

/* A label value with \, " and newline escaped (route patterns are ours, but be exact). */
static const char *esc(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			out[n++] = '\\';
			out[n++] = *s;
		} else if (*s == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return out;
}

/* The labels of one series: method, route, status. */
static void labels(const pv_http_metrics *m, size_t r, size_t si, char *out, size_t size)
{
	char pat[512], st[16];

	if (si < NSTATUS - 1)
		snprintf(st, sizeof(st), "%d", statuses[si]);
	else
		snprintf(st, sizeof(st), "other");
	if (r < m->nroutes)
		snprintf(out, size, "method=\"%s\",route=\"%s\",status=\"%s\"", m->routes[r]->method,
			 esc(m->routes[r]->pattern, pat, sizeof(pat)), st);
	else
		snprintf(out, size, "method=\"\",route=\"unmatched\",status=\"%s\"", st);
}

int pv_http_metrics_render(pv_http_metrics *m, char **out, size_t *len)
{
	buf b = { malloc(16384), 0, 16384, 0 };
	char lab[700];
	size_t r, si, i;

	*out = NULL;
	*len = 0;
	if (b.p == NULL)
		return -1;
	bprintf(&b, "# HELP privault_http_requests_total HTTP requests by method, route pattern and status.\n"
		"# TYPE privault_http_requests_total counter\n");
	for (r = 0; r <= m->nroutes; r++)
		for (si = 0; si < NSTATUS; si++) {
			series *s = &m->s[r * NSTATUS + si];
			uint64_t c = LOAD(&s->count);

			if (c == 0)
				continue;
			labels(m, r, si, lab, sizeof(lab));
			bprintf(&b, "privault_http_requests_total{%s} %llu\n", lab, (unsigned long long)c);
		}
	bprintf(&b, "# HELP privault_http_request_duration_seconds Time from the request's headers to its "
		"response, by method, route pattern and status.\n"
		"# TYPE privault_http_request_duration_seconds histogram\n");
	for (r = 0; r <= m->nroutes; r++)
		for (si = 0; si < NSTATUS; si++) {
			series *s = &m->s[r * NSTATUS + si];
			uint64_t c = LOAD(&s->count), cum = 0;

			if (c == 0)
				continue;
			labels(m, r, si, lab, sizeof(lab));
			for (i = 0; i < NBOUNDS; i++) {
				cum += LOAD(&s->bucket[i]);
				bprintf(&b, "privault_http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", lab,
					bounds[i], (unsigned long long)cum);
			}
			bprintf(&b, "privault_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lab,
				(unsigned long long)c);
			bprintf(&b, "privault_http_request_duration_seconds_sum{%s} %.9f\n", lab,
				(double)LOAD(&s->sum_ns) / 1e9);
			bprintf(&b, "privault_http_request_duration_seconds_count{%s} %llu\n", lab,
				(unsigned long long)c);
		}
	bprintf(&b, "# HELP privault_access_decisions_total Access decisions by outcome and reason.\n"
		"# TYPE privault_access_decisions_total counter\n");
	bprintf(&b, "privault_access_decisions_total{decision=\"allow\",reason=\"allowed\"} %llu\n",
		(unsigned long long)LOAD(&m->allowed));
	for (i = 1; i < PV_REASON_COUNT; i++)
		bprintf(&b, "privault_access_decisions_total{decision=\"deny\",reason=\"%s\"} %llu\n",
			pv_reason_name((pv_reason)i), (unsigned long long)LOAD(&m->denied[i]));
	bprintf(&b, "# HELP privault_audit_entries Length of the audit chain (last sequence number).\n"
		"# TYPE privault_audit_entries gauge\n"
		"privault_audit_entries %lld\n", (long long)LOAD(&m->audit_entries));
	bprintf(&b, "# HELP privault_auth_failures_total Requests refused for a missing, unknown or revoked key.\n"
		"# TYPE privault_auth_failures_total counter\n"
		"privault_auth_failures_total %llu\n", (unsigned long long)LOAD(&m->auth_failures));
	bprintf(&b, "# HELP privault_auth_rate_limited_total Requests refused 429 after repeated failed "
		"authentication.\n"
		"# TYPE privault_auth_rate_limited_total counter\n"
		"privault_auth_rate_limited_total %llu\n", (unsigned long long)LOAD(&m->rate_limited));
	bprintf(&b, "# HELP privault_batches_total Group commits run by the executor.\n"
		"# TYPE privault_batches_total counter\n"
		"privault_batches_total %llu\n", (unsigned long long)LOAD(&m->batches));
	bprintf(&b, "# HELP privault_batch_requests_total Requests run inside group commits.\n"
		"# TYPE privault_batch_requests_total counter\n"
		"privault_batch_requests_total %llu\n", (unsigned long long)LOAD(&m->batch_requests));
	bprintf(&b, "# HELP privault_batch_commit_failures_total Group commits that failed (their requests "
		"were answered 503).\n"
		"# TYPE privault_batch_commit_failures_total counter\n"
		"privault_batch_commit_failures_total %llu\n", (unsigned long long)LOAD(&m->commit_failures));
	bprintf(&b, "# HELP privault_commits_total Successful executor commits by durability: full (on stable "
		"storage when answered) or relaxed (batches of reads only; durable within read_sync_ms).\n"
		"# TYPE privault_commits_total counter\n"
		"privault_commits_total{durability=\"full\"} %llu\n"
		"privault_commits_total{durability=\"relaxed\"} %llu\n",
		(unsigned long long)LOAD(&m->commits_full), (unsigned long long)LOAD(&m->commits_relaxed));
	bprintf(&b, "# HELP privault_durability_syncs_total Syncs that made relaxed commits durable when no full "
		"commit came within read_sync_ms.\n"
		"# TYPE privault_durability_syncs_total counter\n"
		"privault_durability_syncs_total %llu\n", (unsigned long long)LOAD(&m->syncs));
	bprintf(&b, "# HELP privault_http_requests_in_flight Requests received and not yet answered.\n"
		"# TYPE privault_http_requests_in_flight gauge\n"
		"privault_http_requests_in_flight %lld\n", (long long)LOAD(&m->inflight));
	if (b.failed) {
		free(b.p);
		return -1;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}
