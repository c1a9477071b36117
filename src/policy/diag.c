/*
 * Diagnostics of a policy load: the public list, the context helpers that add
 * to it with the current field path, and "did you mean" suggestions.
 */
#include "policy/internal.h"
#include "core/error.h"
#include "core/limits.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pv_policy_diags {
	pv_policy_diag *v;
	size_t n, cap;
};

int pv_policy_diags_new(pv_policy_diags **out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return pv_error_set(PV_ENOMEM, "policy diagnostics: out of memory");
	return 0;
}

void pv_policy_diags_free(pv_policy_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free((char *)d->v[i].file);
		free((char *)d->v[i].path);
		free((char *)d->v[i].message);
	}
	free(d->v);
	free(d);
}

size_t pv_policy_diags_count(const pv_policy_diags *d)
{
	return d ? d->n : 0;
}

const pv_policy_diag *pv_policy_diags_at(const pv_policy_diags *d, size_t i)
{
	return d && i < d->n ? &d->v[i] : NULL;
}

const char *pv_policy_diag_format(const pv_policy_diag *d, char *buf, size_t size)
{
	if (d->path && d->path[0])
		snprintf(buf, size, "%s:%d:%d: error: %s: %s", d->file, d->line, d->column, d->path,
			 d->message);
	else
		snprintf(buf, size, "%s:%d:%d: error: %s", d->file, d->line, d->column, d->message);
	return buf;
}

static int cmp_diag(const void *a, const void *b)
{
	const pv_policy_diag *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x < y ? -1 : x > y;   /* qsort is not stable: fall back on the order of discovery */
}

/* Sort the diagnostics from index `from` on by line and column. */
void pv_policy_diags_sort_from(pv_policy_diags *d, size_t from)
{
	if (d && d->n > from + 1)
		qsort(d->v + from, d->n - from, sizeof(*d->v), cmp_diag);
}

/* Append one diagnostic (copies of the strings). Returns 0 or -1 when out of memory. */
static int diags_add(pv_policy_diags *d, const char *file, int line, int col, const char *path,
		     const char *msg)
{
	pv_policy_diag *x;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		pv_policy_diag *v = realloc(d->v, cap * sizeof(*v));
		if (!v)
			return -1;
		d->v = v;
		d->cap = cap;
	}
	x = &d->v[d->n];
	x->file = strdup(file ? file : "");
	x->path = strdup(path ? path : "");
	x->message = strdup(msg);
	x->line = line;
	x->column = col;
	if (!x->file || !x->path || !x->message) {
		free((char *)x->file);
		free((char *)x->path);
		free((char *)x->message);
		return -1;
	}
	d->n++;
	return 0;
}

static void pctx_verror(pv_pctx *c, int line, int col, const char *path, const char *fmt, va_list ap)
{
	char msg[PV_ERRMSG_MAX];

	c->errors++;
	if (!c->diags)
		return;
	if (c->errors > PV_POLICY_MAX_DIAGS) {
		if (c->errors == PV_POLICY_MAX_DIAGS + 1 &&
		    diags_add(c->diags, c->file, line, col, "", "too many errors; stopped reporting"))
			c->nomem = 1;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (diags_add(c->diags, c->file, line, col, path, msg))
		c->nomem = 1;
}

void pv_pctx_error(pv_pctx *c, int line, int column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_verror(c, line, column, c->path, fmt, ap);
	va_end(ap);
}

void pv_pctx_error_at(pv_pctx *c, int line, int column, const char *path, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pctx_verror(c, line, column, path, fmt, ap);
	va_end(ap);
}

size_t pv_pctx_push_key(pv_pctx *c, const char *key)
{
	size_t old = c->pathlen;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", key);

	if (n > 0)
		c->pathlen = old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

size_t pv_pctx_push_index(pv_pctx *c, size_t i)
{
	size_t old = c->pathlen;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i);

	if (n > 0)
		c->pathlen = old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

void pv_pctx_pop(pv_pctx *c, size_t oldlen)
{
	c->pathlen = oldlen;
	c->path[oldlen] = '\0';
}

/*
 * Optimal string alignment distance (Levenshtein plus transposition of two
 * neighbours). Words longer than 64 bytes are too far from anything we
 * suggest: 255 is returned.
 */
unsigned pv_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[65][65];

	if (la > 64 || lb > 64)
		return 255;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = a[i - 1] != b[j - 1];
			unsigned v = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb] > 255 ? 255 : d[la][lb];
}

const char *pv_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned bestd = 3;
	size_t wl = strlen(word);

	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!cands[i])
			continue;
		d = pv_edit_distance(word, cands[i]);
		if (d < bestd && d < wl) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}
