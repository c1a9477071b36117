/*
 * The table-driven validator: walks the YAML tree against the pv_pspec rows
 * of spec.c, reports every problem with its mark and path, and stores each
 * value at the offset its row names. Nothing here knows a field by name.
 */
#include "policy/internal.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* What each type expects, for messages, and the size of one stored value. */
static const struct {
	const char *expect;
	size_t size;
} types[PV_T_COUNT] = {
	[PV_T_STRING] = { "a string", sizeof(char *) },
	[PV_T_ID] = { "an id matching ^[a-z][a-z0-9_]{0,63}$", sizeof(char *) },
	[PV_T_REF] = { "an id matching ^[a-z][a-z0-9_]{0,63}$", sizeof(char *) },
	[PV_T_INT] = { "an integer", sizeof(int) },
	[PV_T_BOOL] = { "true or false", sizeof(int) },
	[PV_T_DATE] = { "a date YYYY-MM-DD", sizeof(pv_time) },
	[PV_T_DURATION] = { "a duration \"<n> <unit>\" with unit hour(s), day(s), business day(s), week(s), month(s) or year(s)",
			    sizeof(pv_duration) },
	[PV_T_ENUM] = { "one of the listed values", sizeof(int) },
	[PV_T_COUNTRY] = { "an ISO 3166-1 alpha-2 country code such as \"US\"", sizeof(char *) },
	[PV_T_HTTPS] = { "an https:// URL", sizeof(char *) },
	[PV_T_MAP] = { "a map", 0 },
	[PV_T_LIST] = { "a list", sizeof(void *) },
};

static int is_null(const pv_node *n)
{
	return n->kind == PV_NODE_SCALAR && n->plain &&
	       (n->len == 0 || !strcmp(n->str, "~") || !strcmp(n->str, "null") ||
		!strcmp(n->str, "Null") || !strcmp(n->str, "NULL"));
}

/* What a node is, in the words of a message: "a map", "null", "a string" ... */
static const char *node_what(const pv_node *n)
{
	if (n->kind == PV_NODE_MAP)
		return "a map";
	if (n->kind == PV_NODE_SEQ)
		return "a list";
	if (is_null(n))
		return "null";
	if (n->plain && (!strcmp(n->str, "true") || !strcmp(n->str, "false")))
		return "a boolean";
	return n->plain && n->len && strspn(n->str, "-0123456789") == n->len ? "an integer" : "a string";
}

static void *at(void *base, size_t off)
{
	return (char *)base + off;
}

static void set_flag(void *base, size_t has)
{
	if (has) {
		int one = 1;
		memcpy(at(base, has - 1), &one, sizeof(one));
	}
}

/* Append to a growable array of `size`-byte elements. 0 or -1 (c->nomem). */
static int grow(pv_pctx *c, void **v, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		void *nv = realloc(*v, ncap * size);

		if (!nv) {
			c->nomem = 1;
			return -1;
		}
		*v = nv;
		*cap = ncap;
	}
	return 0;
}

static void add_ref(pv_pctx *c, const pv_pkey *k, const pv_node *n)
{
	pv_pending_ref *r;

	if (grow(c, (void **)&c->refs, &c->nrefs, &c->capref, sizeof(*c->refs)))
		return;
	r = &c->refs[c->nrefs];
	r->kind = k->ref;
	r->star_ok = !!(k->flags & PV_K_STAR);
	r->id = n->str;
	r->line = n->line;
	r->column = n->column;
	r->path = pv_arena_strndup(c->arena, c->path, c->pathlen);
	if (!r->path) {
		c->nomem = 1;
		return;
	}
	c->nrefs++;
}

static void add_id(pv_pctx *c, pv_ref_kind kind, const pv_node *n)
{
	pv_id_list *l = &c->ids[kind];
	pv_id_entry *e;

	if (grow(c, (void **)&l->v, &l->n, &l->cap, sizeof(*l->v)))
		return;
	e = &l->v[l->n];
	e->id = n->str;
	e->line = n->line;
	e->column = n->column;
	e->path = pv_arena_strndup(c->arena, c->path, c->pathlen);
	if (!e->path) {
		c->nomem = 1;
		return;
	}
	l->n++;
}

static void enum_error(pv_pctx *c, const pv_pkey *k, const pv_node *n)
{
	char list[512];
	size_t len = 0, nv = 0;
	const char *near;

	list[0] = '\0';
	for (; k->values[nv]; nv++) {
		size_t w = strlen(k->values[nv]);
		if (len + w + 3 >= sizeof(list))
			break;
		memcpy(list + len, nv ? ", " : "", nv ? 2 : 0);
		len += nv ? 2 : 0;
		memcpy(list + len, k->values[nv], w + 1);
		len += w;
	}
	near = pv_suggest(n->str, k->values, nv);
	if (near)
		pv_pctx_error(c, n->line, n->column, "invalid value \"%.64s\"; did you mean \"%s\"? expected one of: %s",
			      n->str, near, list);
	else
		pv_pctx_error(c, n->line, n->column, "invalid value \"%.64s\"; expected one of: %s", n->str, list);
}

static int parse_int(const pv_node *n, long *out)
{
	char *end;

	if (!n->plain || !n->len)
		return -1;
	errno = 0;
	*out = strtol(n->str, &end, 10);
	return errno || *end ? -1 : 0;
}

/*
 * Check scalar node `n` as type `t` (the row's type, or its item type in a
 * list) and store it at `dst`. Reports at n's mark with the current path.
 * Returns 0, or -1 after reporting.
 */
int pv_validate_scalar(pv_pctx *c, const pv_pkey *k, pv_ptype t, const pv_node *n, void *dst)
{
	const char *s = n->str;
	long l;
	int iv;

	if (n->alias)
		return -1;   /* reported by the parser */
	if (n->kind != PV_NODE_SCALAR || is_null(n)) {
		pv_pctx_error(c, n->line, n->column, "expected %s, got %s", types[t].expect, node_what(n));
		return -1;
	}
	switch (t) {
	case PV_T_STRING:
		if (!n->len) {
			pv_pctx_error(c, n->line, n->column, "expected a non-empty string");
			return -1;
		}
		memcpy(dst, &s, sizeof(s));
		return 0;
	case PV_T_ID:
	case PV_T_REF:
		if (t == PV_T_REF && (k->flags & PV_K_STAR) && !strcmp(s, "*")) {
			memcpy(dst, &s, sizeof(s));
			return 0;
		}
		if (!pv_id_valid(s, PV_ID_MAX)) {
			pv_pctx_error(c, n->line, n->column, "expected %s%s, got \"%.64s\"", types[t].expect,
				      k->flags & PV_K_STAR ? " or \"*\"" : "", s);
			return -1;
		}
		if (t == PV_T_REF)
			add_ref(c, k, n);
		memcpy(dst, &s, sizeof(s));
		return 0;
	case PV_T_INT:
		if (parse_int(n, &l) || l < k->min || l > k->max) {
			pv_pctx_error(c, n->line, n->column, "expected an integer in %d..%d, got %s%.64s%s",
				      k->min, k->max, n->plain ? "" : "\"", s, n->plain ? "" : "\"");
			return -1;
		}
		iv = (int)l;
		memcpy(dst, &iv, sizeof(iv));
		return 0;
	case PV_T_BOOL:
		if (!n->plain || (strcmp(s, "true") && strcmp(s, "false"))) {
			pv_pctx_error(c, n->line, n->column, "expected true or false, got %s", node_what(n));
			return -1;
		}
		iv = s[0] == 't';
		memcpy(dst, &iv, sizeof(iv));
		return 0;
	case PV_T_DATE: {
		pv_time tm;

		if (n->len != 10 || pv_time_parse(&tm, s)) {
			pv_pctx_error(c, n->line, n->column, "expected a date YYYY-MM-DD, got \"%.64s\"", s);
			return -1;
		}
		memcpy(dst, &tm, sizeof(tm));
		return 0;
	}
	case PV_T_DURATION: {
		pv_duration d;

		if (pv_duration_parse(&d, s)) {
			pv_pctx_error(c, n->line, n->column, "expected %s%s%s, got \"%.64s\"", types[t].expect,
				      k->flags & PV_K_SESSION ? ", or \"session\"" : "",
				      k->flags & PV_K_INDEFINITE ? ", or \"indefinite\"" : "", s);
			return -1;
		}
		if ((d.unit == PV_DUR_SESSION && !(k->flags & PV_K_SESSION)) ||
		    (d.unit == PV_DUR_INDEFINITE && !(k->flags & PV_K_INDEFINITE))) {
			pv_pctx_error(c, n->line, n->column, "\"%s\" is not allowed here; expected %s", s,
				      types[t].expect);
			return -1;
		}
		memcpy(dst, &d, sizeof(d));
		return 0;
	}
	case PV_T_ENUM:
		for (int i = 0; k->values[i]; i++) {
			if (strcmp(s, k->values[i]))
				continue;
			if (k->flags & PV_K_ESTR)
				memcpy(dst, &k->values[i], sizeof(char *));
			else if (k->flags & PV_K_ECHAR)
				*(char *)dst = k->values[i][0];
			else
				memcpy(dst, &i, sizeof(i));
			return 0;
		}
		enum_error(c, k, n);
		return -1;
	case PV_T_COUNTRY:
		if (n->len != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z') {
			pv_pctx_error(c, n->line, n->column, "expected %s, got \"%.64s\"", types[t].expect, s);
			return -1;
		}
		memcpy(dst, &s, sizeof(s));
		return 0;
	case PV_T_HTTPS:
		if (strncmp(s, "https://", 8) || n->len <= 8 || strpbrk(s, " \t\r\n")) {
			pv_pctx_error(c, n->line, n->column, "expected %s, got \"%.64s\"", types[t].expect, s);
			return -1;
		}
		memcpy(dst, &s, sizeof(s));
		return 0;
	default:
		pv_pctx_error(c, n->line, n->column, "expected %s, got %s", types[t].expect, node_what(n));
		return -1;
	}
}

static size_t item_size(const pv_pkey *k)
{
	if (k->item == PV_T_MAP)
		return k->child->size;
	return types[k->item].size;
}

/* A list value: check each item, store an arena array and its count. */
static void fill_list(pv_pctx *c, const pv_pkey *k, const pv_node *v, void *base)
{
	size_t size = item_size(k), i = 0;
	char *arr;
	void *ptr;

	if (v->kind != PV_NODE_SEQ) {
		pv_pctx_error(c, v->line, v->column, "expected a list, got %s", node_what(v));
		return;
	}
	if ((k->flags & PV_K_NONEMPTY) && !v->first)
		pv_pctx_error(c, v->line, v->column, "expected at least one item");
	arr = pv_arena_alloc(c->arena, size * (v->n ? v->n : 1));
	if (!arr) {
		c->nomem = 1;
		return;
	}
	for (const pv_node *it = v->first; it; it = it->next, i++) {
		size_t old = pv_pctx_push_index(c, i);
		void *dst = arr + i * size;

		if (k->item == PV_T_MAP) {
			pv_validate_map(c, it, k->child, dst);
			if (k->child->index_off)
				memcpy(at(dst, k->child->index_off - 1), &i, sizeof(i));
		} else {
			pv_validate_scalar(c, k, k->item, it, dst);
		}
		pv_pctx_pop(c, old);
	}
	ptr = arr;
	memcpy(at(base, k->off), &ptr, sizeof(ptr));
	memcpy(at(base, k->cnt), &i, sizeof(i));
	set_flag(base, k->has);
}

/* The default of an absent key: a map's own defaults, or the row's `def` text. */
static void fill_default(pv_pctx *c, const pv_pkey *k, void *base)
{
	pv_node n;

	if (k->type == PV_T_MAP) {
		pv_validate_map(c, NULL, k->child, at(base, k->off));
		return;
	}
	if (!k->def)
		return;
	memset(&n, 0, sizeof(n));
	n.kind = PV_NODE_SCALAR;
	n.plain = 1;
	n.str = k->def;
	n.len = strlen(k->def);
	if (k->type == PV_T_LIST) {
		/* a list default is one item, e.g. purposes: ["*"] */
		pv_node seq = { .kind = PV_NODE_SEQ, .first = &n, .last = &n, .n = 1 };
		fill_list(c, k, &seq, base);
		return;
	}
	pv_validate_scalar(c, k, k->type, &n, at(base, k->off));
}

/* One present key: dispatch on its row's type. */
static void fill_value(pv_pctx *c, const pv_pspec *spec, const pv_pkey *k, const pv_node *v, void *base)
{
	if (v->alias)
		return;   /* reported by the parser */
	switch (k->type) {
	case PV_T_MAP:
		if (v->kind != PV_NODE_MAP) {
			pv_pctx_error(c, v->line, v->column, "expected a map, got %s%s", node_what(v),
				      is_null(v) ? " (write {} for an empty map)" : "");
			pv_validate_map(c, NULL, k->child, at(base, k->off));
			return;
		}
		set_flag(base, k->has);
		pv_validate_map(c, v, k->child, at(base, k->off));
		return;
	case PV_T_LIST:
		fill_list(c, k, v, base);
		return;
	default:
		if (pv_validate_scalar(c, k, k->type, v, at(base, k->off)))
			return;
		set_flag(base, k->has);
		if (k->type == PV_T_ID && spec->kind != PV_REF_NONE)
			add_id(c, spec->kind, v);
		return;
	}
}

static const pv_pkey *find_row(const pv_pspec *spec, const char *name)
{
	for (size_t i = 0; i < spec->nkeys; i++)
		if (!strcmp(spec->keys[i].name, name))
			return &spec->keys[i];
	return NULL;
}

/* Unknown keys, keys that are not strings, and duplicate keys of map `m`. */
static void check_keys(pv_pctx *c, const pv_node *m, const pv_pspec *spec)
{
	const char *names[64];
	size_t nn = spec->nkeys < 64 ? spec->nkeys : 64;

	for (size_t i = 0; i < nn; i++)
		names[i] = spec->keys[i].name;
	for (const pv_node *k = m->first; k && k->next; k = k->next->next) {
		const pv_pkey *row;

		if (k->kind != PV_NODE_SCALAR) {
			pv_pctx_error(c, k->line, k->column, "map keys must be strings, got %s", node_what(k));
			continue;
		}
		row = find_row(spec, k->str);
		if (!row) {
			size_t old = pv_pctx_push_key(c, k->str);
			const char *near = pv_suggest(k->str, names, nn);

			if (near)
				pv_pctx_error(c, k->line, k->column, "unknown key \"%.64s\"; did you mean \"%s\"?",
					      k->str, near);
			else
				pv_pctx_error(c, k->line, k->column, "unknown key \"%.64s\"", k->str);
			pv_pctx_pop(c, old);
			continue;
		}
		for (const pv_node *p = m->first; p != k; p = p->next->next) {
			if (p->kind == PV_NODE_SCALAR && !strcmp(p->str, k->str)) {
				size_t old = pv_pctx_push_key(c, k->str);
				pv_pctx_error(c, k->line, k->column, "duplicate key \"%s\" (first at line %d)",
					      k->str, p->line);
				pv_pctx_pop(c, old);
				break;
			}
		}
	}
}

/*
 * Validate map node `m` (NULL: the map is absent, fill defaults only)
 * against `spec` and fill the struct at `base`: unknown and duplicate keys,
 * then every row in table order (so later rows may rely on earlier ones,
 * e.g. purposes on regimes), then the spec's own cross-field check.
 */
void pv_validate_map(pv_pctx *c, const pv_node *m, const pv_pspec *spec, void *base)
{
	if (m && m->kind != PV_NODE_MAP) {
		pv_pctx_error(c, m->line, m->column, "expected a map, got %s", node_what(m));
		m = NULL;
	}
	if (m)
		check_keys(c, m, spec);
	for (size_t i = 0; i < spec->nkeys && !c->nomem; i++) {
		const pv_pkey *k = &spec->keys[i];
		const pv_node *v = m ? pv_node_get(m, k->name) : NULL;
		size_t old;

		if (!v) {
			if (m && (k->flags & PV_K_REQUIRED))
				pv_pctx_error(c, m->line, m->column, "missing required key \"%s\"", k->name);
			fill_default(c, k, base);
			continue;
		}
		old = pv_pctx_push_key(c, k->name);
		fill_value(c, spec, k, v, base);
		pv_pctx_pop(c, old);
	}
	if (m && spec->check && !c->nomem)
		spec->check(c, m, base);
}
