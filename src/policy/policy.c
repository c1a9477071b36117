/*
 * Loading a policy: bytes -> tree -> table-driven validation -> cross checks
 * (duplicate ids, references, regime rules) -> defaults and lookup indexes.
 */
#include "policy/internal.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[PV_REF_COUNT] = {
	[PV_REF_CATEGORY] = "category", [PV_REF_SOURCE] = "source", [PV_REF_PURPOSE] = "purpose",
	[PV_REF_RECIPIENT] = "recipient", [PV_REF_EXCEPTION] = "exception",
};
static const char *const kind_lists[PV_REF_COUNT] = {
	[PV_REF_CATEGORY] = "categories", [PV_REF_SOURCE] = "sources", [PV_REF_PURPOSE] = "purposes",
	[PV_REF_RECIPIENT] = "recipients", [PV_REF_EXCEPTION] = "retention.exceptions",
};

/* Defaults from REGULATIONS.md for what a policy leaves out, per regime. */
static const struct {
	int consent_age, breach_notice_hours, sale_opt_in_age, parent_opt_in_age, lookback_months;
	const char *deadline, *acknowledge, *extension;
	int quota_max;          /* access and portability requests per quota_period; 0: none */
	const char *quota_period;
} regime_defaults[PV_REGIME_COUNT] = {
	[PV_REGIME_GDPR] = { 16, 72, 0, 0, 0, "1 month", NULL, "2 months", 0, NULL },
	[PV_REGIME_CCPA] = { 0, 0, 16, 13, 12, "45 days", "10 business days", "45 days", 2, "12 months" },
	[PV_REGIME_LGPD] = { 0, 0, 0, 0, 0, "15 days", NULL, NULL, 0, NULL },
};

const char *pv_regime_name(pv_regime r)
{
	return (unsigned)r < PV_REGIME_COUNT ? pv_regime_names[r] : "?";
}

int pv_regime_parse(pv_regime *out, const char *s)
{
	for (int r = 0; s && r < PV_REGIME_COUNT; r++) {
		if (!strcmp(s, pv_regime_names[r])) {
			*out = (pv_regime)r;
			return 0;
		}
	}
	return pv_error_set(PV_EINVAL, "regime: expected one of gdpr, ccpa, lgpd");
}

const char *pv_policy_request_name(pv_policy_request t)
{
	return (unsigned)t < PV_POLICY_REQ_COUNT ? pv_request_names[t] : "?";
}

/* ---- spec hooks ---- */

/* regimes: at least one in force, at most one default; pick the default regime. */
void pv_policy_check_regimes(pv_pctx *c, const pv_node *m, void *item)
{
	pv_policy_regime_settings *rs = item;
	int enabled = 0, def = -1, first = -1;

	for (const pv_node *k = m->first; k && k->next; k = k->next->next) {
		pv_regime r;

		if (k->kind != PV_NODE_SCALAR || pv_regime_parse(&r, k->str) || !rs[r].enabled)
			continue;
		enabled++;
		if (first < 0)
			first = (int)r;
		if (!rs[r].is_default)
			continue;
		if (def >= 0) {
			size_t old = pv_pctx_push_key(c, k->str);
			const pv_node *d = pv_node_get(k->next, "default");
			pv_pctx_push_key(c, "default");
			pv_pctx_error(c, d ? d->line : k->line, d ? d->column : k->column,
				      "only one regime may be the default; %s already is", pv_regime_names[def]);
			pv_pctx_pop(c, old);
			continue;
		}
		def = (int)r;
	}
	if (!enabled)
		pv_pctx_error(c, m->line, m->column, "expected at least one regime in force: gdpr, ccpa or lgpd");
	c->policy->default_regime = (pv_regime)(def >= 0 ? def : first >= 0 ? first : 0);
}

/* lawful_basis: one entry for each regime in force and none for the others. */
void pv_policy_check_lawful_basis(pv_pctx *c, const pv_node *m, void *item)
{
	const char **lb = item;

	for (int r = 0; r < PV_REGIME_COUNT; r++) {
		const pv_node *v = pv_node_get(m, pv_regime_names[r]);

		if (c->policy->regimes[r].enabled && !v) {
			pv_pctx_error(c, m->line, m->column, "missing lawful basis for %s, which is in force",
				      pv_regime_names[r]);
		} else if (!c->policy->regimes[r].enabled && v) {
			size_t old = pv_pctx_push_key(c, pv_regime_names[r]);
			pv_pctx_error(c, v->line, v->column, "%s is not in force (add it under regimes or remove this)",
				      pv_regime_names[r]);
			pv_pctx_pop(c, old);
			lb[r] = NULL;
		}
	}
}

/* rights: only for regimes in force. */
void pv_policy_check_rights(pv_pctx *c, const pv_node *m, void *item)
{
	(void)item;
	for (int r = 0; r < PV_REGIME_COUNT; r++) {
		const pv_node *v = pv_node_get(m, pv_regime_names[r]);

		if (v && !c->policy->regimes[r].enabled) {
			size_t old = pv_pctx_push_key(c, pv_regime_names[r]);
			pv_pctx_error(c, v->line, v->column, "%s is not in force (add it under regimes or remove this)",
				      pv_regime_names[r]);
			pv_pctx_pop(c, old);
		}
	}
}

/* retention: no two rules for the same (category, purpose). */
void pv_policy_check_retention(pv_pctx *c, const pv_node *m, void *item)
{
	struct pv_policy *p = item;
	const pv_node *rules = pv_node_get(m, "rules"), *nj;
	size_t j = 0;

	if (!rules || rules->kind != PV_NODE_SEQ || rules->n != p->nrules)
		return;
	for (nj = rules->first; nj; nj = nj->next, j++) {
		const pv_policy_retention_rule *b = &p->rules[j];

		if (!b->category || !b->purpose)
			continue;
		for (size_t i = 0; i < j; i++) {
			const pv_policy_retention_rule *a = &p->rules[i];
			char path[64];

			if (!a->category || !a->purpose || strcmp(a->category, b->category) ||
			    strcmp(a->purpose, b->purpose))
				continue;
			snprintf(path, sizeof(path), "retention.rules[%zu]", j);
			pv_pctx_error_at(c, nj->line, nj->column, path,
					 "a second rule for (%s, %s); the first is retention.rules[%zu]",
					 b->category, b->purpose, i);
			break;
		}
	}
}

/* ---- ids and references ---- */

static int cmp_entry(const void *a, const void *b)
{
	const pv_id_entry *x = a, *y = b;
	int d = strcmp(x->id, y->id);

	if (d)
		return d;
	return x->line != y->line ? (x->line < y->line ? -1 : 1) : (x->column < y->column ? -1 : x->column > y->column);
}

/* Sort each kind's declared ids and report duplicates (at the later one). */
static void check_ids(pv_pctx *c)
{
	for (int k = 1; k < PV_REF_COUNT; k++) {
		pv_id_list *l = &c->ids[k];

		if (l->n > 1)
			qsort(l->v, l->n, sizeof(*l->v), cmp_entry);
		for (size_t i = 1; i < l->n; i++)
			if (!strcmp(l->v[i].id, l->v[i - 1].id))
				pv_pctx_error_at(c, l->v[i].line, l->v[i].column, l->v[i].path,
						 "duplicate %s id \"%s\" (first at line %d)", kind_names[k],
						 l->v[i].id, l->v[i - 1].line);
	}
}

static int cmp_key_entry(const void *key, const void *e)
{
	return strcmp(key, ((const pv_id_entry *)e)->id);
}

/* Every reference names a declared id; suggest the nearest one when it does not. */
static void check_refs(pv_pctx *c)
{
	for (size_t i = 0; i < c->nrefs; i++) {
		const pv_pending_ref *r = &c->refs[i];
		const pv_id_list *l = &c->ids[r->kind];
		const char *near = NULL;
		unsigned best = 3;

		if (l->n && bsearch(r->id, l->v, l->n, sizeof(*l->v), cmp_key_entry))
			continue;
		for (size_t j = 0; j < l->n; j++) {
			unsigned d = pv_edit_distance(r->id, l->v[j].id);
			if (d < best && d < strlen(r->id)) {
				best = d;
				near = l->v[j].id;
			}
		}
		if (near)
			pv_pctx_error_at(c, r->line, r->column, r->path, "unknown %s \"%s\"; did you mean \"%s\"?",
					 kind_names[r->kind], r->id, near);
		else
			pv_pctx_error_at(c, r->line, r->column, r->path, "unknown %s \"%s\"; expected an id declared in %s%s",
					 kind_names[r->kind], r->id, kind_lists[r->kind], r->star_ok ? " or \"*\"" : "");
	}
}

/* ---- defaults and indexes of a valid policy ---- */

static void set_duration(pv_duration *d, const char *text)
{
	if (pv_duration_parse(d, text))
		abort();   /* the table above is wrong: a bug, not input */
}

static void fill_regime_defaults(struct pv_policy *p)
{
	for (int r = 0; r < PV_REGIME_COUNT; r++) {
		pv_policy_regime_settings *s = &p->regimes[r];
		pv_policy_rights *rt = &p->rights[r];

		rt->enabled = s->enabled;
		s->is_default = s->enabled && (pv_regime)r == p->default_regime;
		if (!s->enabled)
			continue;
		if (!s->consent_age)
			s->consent_age = regime_defaults[r].consent_age;
		if (!s->breach_notice_hours)
			s->breach_notice_hours = regime_defaults[r].breach_notice_hours;
		if (!s->sale_opt_in_age)
			s->sale_opt_in_age = regime_defaults[r].sale_opt_in_age;
		if (!s->parent_opt_in_age)
			s->parent_opt_in_age = regime_defaults[r].parent_opt_in_age;
		if (!s->lookback_months)
			s->lookback_months = regime_defaults[r].lookback_months;
		/* a zero "n" with unit indefinite is the zeroed, unstated deadline */
		if (rt->deadline.unit == PV_DUR_INDEFINITE && rt->deadline.n == 0)
			set_duration(&rt->deadline, regime_defaults[r].deadline);
		if (!rt->has_acknowledge && regime_defaults[r].acknowledge) {
			set_duration(&rt->acknowledge, regime_defaults[r].acknowledge);
			rt->has_acknowledge = 1;
		}
		if (!rt->has_extension && regime_defaults[r].extension) {
			set_duration(&rt->extension, regime_defaults[r].extension);
			rt->has_extension = 1;
		}
		if (regime_defaults[r].quota_max) {
			static const pv_policy_request q[] = { PV_POLICY_REQ_ACCESS, PV_POLICY_REQ_PORTABILITY };
			for (size_t i = 0; i < 2; i++) {
				if (rt->quota[q[i]].present)
					continue;
				rt->quota[q[i]].present = 1;
				rt->quota[q[i]].max = regime_defaults[r].quota_max;
				set_duration(&rt->quota[q[i]].period, regime_defaults[r].quota_period);
			}
		}
	}
	if (!p->children.parental_consent_below) {
		if (p->regimes[PV_REGIME_GDPR].enabled)
			p->children.parental_consent_below = p->regimes[PV_REGIME_GDPR].consent_age;
		else if (p->regimes[PV_REGIME_CCPA].enabled)
			p->children.parental_consent_below = p->regimes[PV_REGIME_CCPA].parent_opt_in_age;
		else
			p->children.parental_consent_below = 16;
	}
}

/* Every model struct with an id has it as its first member. */
static int cmp_by_id(const void *a, const void *b)
{
	return strcmp(**(const char *const *const *)a, **(const char *const *const *)b);
}

static const void **sorted_index(pv_arena *a, const void *items, size_t n, size_t size)
{
	const void **v = pv_arena_alloc(a, (n ? n : 1) * sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = (const char *)items + i * size;
	qsort(v, n, sizeof(*v), cmp_by_id);
	return v;
}

static const void *find_sorted(const void *const *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	if (!id)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(id, *(const char *const *)v[mid]);

		if (!d)
			return v[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int build_indexes(struct pv_policy *p)
{
	size_t words = (p->ncategories + 63) / 64;

	p->cat_sorted = (const pv_policy_category **)sorted_index(&p->arena, p->categories, p->ncategories,
								  sizeof(*p->categories));
	p->pur_sorted = (const pv_policy_purpose **)sorted_index(&p->arena, p->purposes, p->npurposes,
								 sizeof(*p->purposes));
	p->src_sorted = (const pv_policy_source_def **)sorted_index(&p->arena, p->sources, p->nsources,
								    sizeof(*p->sources));
	p->rec_sorted = (const pv_policy_recipient **)sorted_index(&p->arena, p->recipients, p->nrecipients,
								   sizeof(*p->recipients));
	p->exc_sorted = (const pv_policy_exception **)sorted_index(&p->arena, p->exceptions, p->nexceptions,
								   sizeof(*p->exceptions));
	if (!p->cat_sorted || !p->pur_sorted || !p->src_sorted || !p->rec_sorted || !p->exc_sorted)
		return -1;
	for (size_t i = 0; i < p->npurposes; i++) {
		pv_policy_purpose *pu = &p->purposes[i];
		uint64_t *bits = pv_arena_alloc(&p->arena, (words ? words : 1) * sizeof(*bits));

		if (!bits)
			return -1;
		for (size_t j = 0; j < pu->ncategories; j++) {
			const pv_policy_category *c = pv_policy_category_find(p, pu->categories[j]);
			if (c)
				bits[c->index / 64] |= UINT64_C(1) << (c->index % 64);
		}
		pu->category_bits = bits;
	}
	return 0;
}

/* ---- loading ---- */

static void ctx_release(pv_pctx *c)
{
	for (int k = 0; k < PV_REF_COUNT; k++)
		free(c->ids[k].v);
	free(c->refs);
}

int pv_policy_load_buffer(pv_policy **out, const char *name, const char *buf, size_t len,
			  pv_policy_diags *diags)
{
	struct pv_policy *p = NULL;
	pv_pctx c;
	pv_node *root;
	uint8_t h[crypto_generichash_BYTES];
	size_t first_diag;
	int rc;

	if (!out || (!buf && len))
		return pv_error_set(PV_EINVAL, "policy: no output or no buffer");
	*out = NULL;
	name = name ? name : "<policy>";
	memset(&c, 0, sizeof(c));
	c.file = name;
	c.diags = diags;
	first_diag = pv_policy_diags_count(diags);
	if (len > PV_POLICY_MAX_BYTES) {
		pv_pctx_error(&c, 1, 1, "the policy is %zu bytes; the limit is %u bytes", len, PV_POLICY_MAX_BYTES);
		return pv_error_set(PV_EPOLICY, "%s: policy exceeds %u bytes", name, PV_POLICY_MAX_BYTES);
	}
	if (sodium_init() < 0)
		return pv_error_set(PV_ERROR, "policy: libsodium failed to initialize");
	p = calloc(1, sizeof(*p));
	if (!p || !(p->source = malloc(len + 1))) {
		rc = pv_error_set(PV_ENOMEM, "policy: out of memory");
		goto fail;
	}
	if (len)
		memcpy(p->source, buf, len);
	p->source[len] = '\0';
	p->source_len = len;
	crypto_generichash(h, sizeof(h), (const unsigned char *)p->source, len, NULL, 0);
	pv_hex_encode(p->hash, h, sizeof(h));

	c.arena = &p->arena;
	c.policy = p;
	root = pv_tree_parse(&c, p->source, len);
	if (root && !c.nomem) {
		pv_validate_map(&c, root, &pv_policy_spec_root, p);
		if (!c.nomem) {
			check_ids(&c);
			check_refs(&c);
		}
	}
	if (c.nomem) {
		rc = pv_error_set(PV_ENOMEM, "policy: out of memory");
		goto fail;
	}
	if (c.errors) {
		pv_policy_diags_sort_from(diags, first_diag);
		rc = pv_error_set(PV_EPOLICY, "%s: invalid policy (%zu error%s)", name, c.errors,
				  c.errors == 1 ? "" : "s");
		goto fail;
	}
	fill_regime_defaults(p);
	if (build_indexes(p)) {
		rc = pv_error_set(PV_ENOMEM, "policy: out of memory");
		goto fail;
	}
	ctx_release(&c);
	*out = p;
	return 0;
fail:
	ctx_release(&c);
	pv_policy_free(p);
	return rc;
}

int pv_policy_load_file(pv_policy **out, const char *path, pv_policy_diags *diags)
{
	pv_pctx c;
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int rc;

	if (!out || !path)
		return pv_error_set(PV_EINVAL, "policy: no output or no path");
	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.file = path;
	c.diags = diags;
	f = fopen(path, "rb");
	if (!f) {
		pv_pctx_error(&c, 0, 0, "cannot open the file");
		return pv_error_set(PV_EIO, "%s: cannot open the policy file", path);
	}
	/* read at most one byte past the limit, so an oversized file is reported as such */
	while (len <= PV_POLICY_MAX_BYTES) {
		size_t n;

		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > PV_POLICY_MAX_BYTES + 1)
				cap = PV_POLICY_MAX_BYTES + 1;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = pv_error_set(PV_ENOMEM, "policy: out of memory");
				goto fail;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		pv_pctx_error(&c, 0, 0, "cannot read the file");
		rc = pv_error_set(PV_EIO, "%s: cannot read the policy file", path);
		goto fail;
	}
	rc = pv_policy_load_buffer(out, path, buf, len, diags);
fail:
	fclose(f);
	free(buf);
	return rc;
}

void pv_policy_free(pv_policy *p)
{
	if (!p)
		return;
	pv_arena_free(&p->arena);
	free(p->source);
	free(p);
}

/* ---- queries ---- */

const char *pv_policy_hash(const pv_policy *p) { return p->hash; }
const char *pv_policy_version_label(const pv_policy *p) { return p->version; }
pv_time pv_policy_effective(const pv_policy *p) { return p->effective; }
const char *pv_policy_title(const pv_policy *p) { return p->title; }
const char *pv_policy_url(const pv_policy *p) { return p->url; }
const pv_policy_controller *pv_policy_controller_get(const pv_policy *p) { return &p->controller; }
pv_regime pv_policy_default_regime(const pv_policy *p) { return p->default_regime; }
const pv_policy_children *pv_policy_children_get(const pv_policy *p) { return &p->children; }
const pv_policy_changes *pv_policy_changes_get(const pv_policy *p) { return &p->changes; }

const char *pv_policy_source(const pv_policy *p, size_t *len)
{
	if (len)
		*len = p->source_len;
	return p->source;
}

int pv_policy_regime_enabled(const pv_policy *p, pv_regime r)
{
	return (unsigned)r < PV_REGIME_COUNT && p->regimes[r].enabled;
}

const pv_policy_regime_settings *pv_policy_regime_get(const pv_policy *p, pv_regime r)
{
	return (unsigned)r < PV_REGIME_COUNT ? &p->regimes[r] : NULL;
}

const pv_policy_rights *pv_policy_rights_get(const pv_policy *p, pv_regime r)
{
	return (unsigned)r < PV_REGIME_COUNT ? &p->rights[r] : NULL;
}

#define LIST_ACCESSORS(T, name, field, nfield)                          \
	size_t pv_policy_##name##_count(const pv_policy *p)             \
	{                                                               \
		return p->nfield;                                       \
	}                                                               \
	const T *pv_policy_##name##_at(const pv_policy *p, size_t i)    \
	{                                                               \
		return i < p->nfield ? &p->field[i] : NULL;             \
	}

LIST_ACCESSORS(pv_policy_category, category, categories, ncategories)
LIST_ACCESSORS(pv_policy_source_def, source, sources, nsources)
LIST_ACCESSORS(pv_policy_purpose, purpose, purposes, npurposes)
LIST_ACCESSORS(pv_policy_recipient, recipient, recipients, nrecipients)
LIST_ACCESSORS(pv_policy_cookie, cookie, cookies, ncookies)
LIST_ACCESSORS(pv_policy_retention_rule, retention_rule, rules, nrules)
LIST_ACCESSORS(pv_policy_exception, exception, exceptions, nexceptions)
#undef LIST_ACCESSORS

const pv_policy_category *pv_policy_category_find(const pv_policy *p, const char *id)
{
	return find_sorted((const void *const *)p->cat_sorted, p->ncategories, id);
}

const pv_policy_purpose *pv_policy_purpose_find(const pv_policy *p, const char *id)
{
	return find_sorted((const void *const *)p->pur_sorted, p->npurposes, id);
}

const pv_policy_source_def *pv_policy_source_find(const pv_policy *p, const char *id)
{
	return find_sorted((const void *const *)p->src_sorted, p->nsources, id);
}

const pv_policy_recipient *pv_policy_recipient_find(const pv_policy *p, const char *id)
{
	return find_sorted((const void *const *)p->rec_sorted, p->nrecipients, id);
}

const pv_policy_exception *pv_policy_exception_find(const pv_policy *p, const char *id)
{
	return find_sorted((const void *const *)p->exc_sorted, p->nexceptions, id);
}

int pv_policy_purpose_has_category(const pv_policy_purpose *pu, const pv_policy_category *c)
{
	if (!pu || !c || !pu->category_bits)
		return 0;
	return (int)((pu->category_bits[c->index / 64] >> (c->index % 64)) & 1);
}

int pv_policy_access_log_retention(const pv_policy *p, pv_duration *out)
{
	if (p->has_access_logs && out)
		*out = p->access_logs;
	return p->has_access_logs;
}

/*
 * Specificity of a rule for (category, purpose): 5 exact pair, 4 (category, *),
 * 3 (*, purpose), 1 (*, *); 0 when it does not apply. The purpose's own
 * retention ranks 2: above the catch-all, below any rule naming the data.
 */
static int rule_score(const pv_policy_retention_rule *r, const char *category, const char *purpose)
{
	int cm = !strcmp(r->category, category), cs = !strcmp(r->category, "*");
	int pm = !strcmp(r->purpose, purpose), ps = !strcmp(r->purpose, "*");

	if (cm && pm)
		return 5;
	if (cm && ps)
		return 4;
	if (cs && pm)
		return 3;
	return cs && ps ? 1 : 0;
}

int pv_policy_retention_for(const pv_policy *p, const char *category, const char *purpose,
			    pv_duration *out, pv_retention_action *action)
{
	const pv_policy_retention_rule *best = NULL;
	const pv_policy_purpose *pu;
	int score = 0;

	if (!p || !category || !purpose)
		return 0;
	for (size_t i = 0; i < p->nrules; i++) {
		int s = rule_score(&p->rules[i], category, purpose);
		if (s > score) {
			score = s;
			best = &p->rules[i];
		}
	}
	pu = pv_policy_purpose_find(p, purpose);
	if (score < 2 && pu && pu->has_retention) {
		if (out)
			*out = pu->retention;
		if (action)
			*action = PV_RETAIN_DELETE;
		return 1;
	}
	if (!best)
		return 0;
	if (out)
		*out = best->duration;
	if (action)
		*action = best->action;
	return 1;
}
