/*
 * Policy module: loading every field, each class of error with its position
 * and path, suggestions, references, retention specificity, lookups, the
 * content hash, limits, and the committed JSON Schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "privault/error.h"
#include "privault/policy.h"
#include "core/limits.h"
#include "policy/internal.h"

#ifndef PV_SOURCE_ROOT
#define PV_SOURCE_ROOT "."
#endif

/* Lines 1-9 of most cases; purposes start at line 10. */
#define HEAD                                              \
	"privault: 1\n"                                   \
	"version: v1\n"                                   \
	"effective: 2024-01-01\n"                         \
	"controller: {name: X, contact: x@example.com}\n" \
	"regimes: {gdpr: {}}\n"                           \
	"categories:\n"                                   \
	"  - {id: contact, title: Contact}\n"             \
	"sources:\n"                                      \
	"  - {id: direct, title: Direct}\n"
/* Lines 10-16. */
#define PURPOSES                         \
	"purposes:\n"                    \
	"  - id: support\n"              \
	"    title: Support\n"           \
	"    lawful_basis: {gdpr: contract}\n" \
	"    categories: [contact]\n"    \
	"    sources: [direct]\n"        \
	"    consent: notice_only\n"

static char *read_file(const char *rel, size_t *len)
{
	char path[1024];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", PV_SOURCE_ROOT, rel);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static pv_policy *load_ok(const char *text)
{
	pv_policy *p = NULL;
	pv_policy_diags *d = NULL;
	int rc;

	assert_int_equal(pv_policy_diags_new(&d), 0);
	rc = pv_policy_load_buffer(&p, "t.yaml", text, strlen(text), d);
	for (size_t i = 0; i < pv_policy_diags_count(d); i++) {
		char line[1024];
		print_message("%s\n", pv_policy_diag_format(pv_policy_diags_at(d, i), line, sizeof(line)));
	}
	assert_int_equal(rc, 0);
	assert_int_equal(pv_policy_diags_count(d), 0);
	pv_policy_diags_free(d);
	return p;
}

static pv_policy *load_full(void)
{
	size_t len;
	char *text = read_file("tests/data/policy-full.yaml", &len);
	pv_policy *p = NULL;

	assert_int_equal(pv_policy_load_buffer(&p, "full", text, len, NULL), 0);
	free(text);
	return p;
}

/* Load text that must fail; returns its diagnostics (caller frees). */
static pv_policy_diags *load_bad(const char *text, size_t len)
{
	pv_policy *p = (pv_policy *)1;
	pv_policy_diags *d = NULL;

	assert_int_equal(pv_policy_diags_new(&d), 0);
	assert_int_equal(pv_policy_load_buffer(&p, "t.yaml", text, len, d), PV_EPOLICY);
	assert_null(p);
	assert_true(pv_policy_diags_count(d) > 0);
	return d;
}

/* Some diagnostic has this position, path and message fragment. */
static void expect_diag(const pv_policy_diags *d, int line, int col, const char *path, const char *msg)
{
	for (size_t i = 0; i < pv_policy_diags_count(d); i++) {
		const pv_policy_diag *x = pv_policy_diags_at(d, i);
		if (x->line == line && x->column == col && !strcmp(x->path, path) && strstr(x->message, msg))
			return;
	}
	for (size_t i = 0; i < pv_policy_diags_count(d); i++) {
		char line_buf[1024];
		print_message("got: %s\n", pv_policy_diag_format(pv_policy_diags_at(d, i), line_buf, sizeof(line_buf)));
	}
	fail_msg("no diagnostic %d:%d %s: %s", line, col, path, msg);
}

static void check_one(const char *text, int line, int col, const char *path, const char *msg)
{
	pv_policy_diags *d = load_bad(text, strlen(text));
	expect_diag(d, line, col, path, msg);
	pv_policy_diags_free(d);
}

/* ---- valid policies ---- */

static void test_full_every_field(void **state)
{
	pv_policy *p = load_full();
	const pv_policy_controller *ctl = pv_policy_controller_get(p);
	const pv_policy_category *c;
	const pv_policy_purpose *pu;
	const pv_policy_recipient *r;
	const pv_policy_cookie *ck;
	const pv_policy_exception *ex;
	const pv_policy_rights *rt;
	const pv_policy_regime_settings *rs;
	pv_duration dur;
	pv_time t;
	(void)state;

	assert_string_equal(pv_policy_version_label(p), "2026-01");
	assert_int_equal(pv_time_parse(&t, "2026-01-15"), 0);
	assert_true(pv_policy_effective(p) == t);
	assert_string_equal(pv_policy_title(p), "Example Shop Privacy Policy");
	assert_string_equal(pv_policy_url(p), "https://shop.example.com/privacy");
	assert_string_equal(ctl->name, "Example Shop, Inc.");
	assert_string_equal(ctl->address, "1 Main Street, San Jose, CA 95131");
	assert_true(ctl->representative.present);
	assert_string_equal(ctl->representative.contact, "rep@example.eu");
	assert_true(ctl->dpo.present);
	assert_null(ctl->dpo.address);

	assert_true(pv_policy_regime_enabled(p, PV_REGIME_GDPR));
	assert_true(pv_policy_regime_enabled(p, PV_REGIME_CCPA));
	assert_false(pv_policy_regime_enabled(p, PV_REGIME_LGPD));
	assert_int_equal(pv_policy_default_regime(p), PV_REGIME_GDPR);
	rs = pv_policy_regime_get(p, PV_REGIME_GDPR);
	assert_int_equal(rs->consent_age, 15);
	assert_string_equal(rs->authority, "Irish Data Protection Commission");
	rs = pv_policy_regime_get(p, PV_REGIME_CCPA);
	assert_int_equal(rs->sale_opt_in_age, 16);
	assert_int_equal(rs->lookback_months, 12);

	assert_int_equal(pv_policy_category_count(p), 4);
	c = pv_policy_category_find(p, "identifiers");
	assert_non_null(c);
	assert_int_equal(c->ccpa, 'A');
	assert_false(c->sensitive);
	assert_true(c->collected);
	assert_string_equal(c->description, "name, email address, IP address");
	assert_int_equal(c->index, 0);
	c = pv_policy_category_find(p, "health");
	assert_int_equal(c->ccpa, 0);
	assert_true(c->sensitive);
	assert_false(pv_policy_category_find(p, "biometric")->collected);
	assert_int_equal(pv_policy_source_count(p), 2);
	assert_string_equal(pv_policy_source_find(p, "direct")->description, "forms you complete");

	pu = pv_policy_purpose_find(p, "marketing");
	assert_non_null(pu);
	assert_string_equal(pu->lawful_basis[PV_REGIME_GDPR], "consent");
	assert_string_equal(pu->lawful_basis[PV_REGIME_CCPA], "commercial_purpose");
	assert_null(pu->lawful_basis[PV_REGIME_LGPD]);
	assert_int_equal(pu->consent, PV_CONSENT_OPT_IN);
	assert_true(pu->marketing && pu->sale && pu->sharing && pu->fresh_consent_on_change);
	assert_false(pu->administrative);
	assert_true(pu->has_opt_out_window);
	assert_int_equal(pu->opt_out_window.n, 10);
	assert_int_equal(pu->opt_out_window.unit, PV_DUR_BUSINESS_DAYS);
	assert_int_equal(pu->nsources, 2);
	assert_string_equal(pu->sources[1], "partner");
	pu = pv_policy_purpose_find(p, "order_fulfilment");
	assert_true(pu->administrative);
	assert_int_equal(pu->consent, PV_CONSENT_NOTICE_ONLY);
	assert_true(pu->has_retention);
	assert_int_equal(pu->retention.unit, PV_DUR_YEARS);
	assert_false(pu->has_opt_out_window);
	assert_int_equal(pv_policy_purpose_find(p, "health_support")->consent, PV_CONSENT_OPT_OUT);

	assert_int_equal(pv_policy_recipient_count(p), 2);
	r = pv_policy_recipient_find(p, "stripe");
	assert_int_equal(r->type, PV_RECIPIENT_PROCESSOR);
	assert_string_equal(r->country, "US");
	assert_string_equal(r->transfer_safeguard, "scc");
	assert_string_equal(r->erasure_webhook, "https://example.com/privault/erasure");
	assert_int_equal(r->ncategories, 2);
	assert_null(pv_policy_recipient_find(p, "adnet")->country);

	assert_int_equal(pv_policy_cookie_count(p), 2);
	ck = pv_policy_cookie_at(p, 0);
	assert_int_equal(ck->lifetime.unit, PV_DUR_SESSION);
	assert_int_equal(ck->cls, PV_COOKIE_STRICTLY_NECESSARY);
	assert_null(ck->purpose);
	ck = pv_policy_cookie_at(p, 1);
	assert_int_equal(ck->party, PV_COOKIE_THIRD);
	assert_string_equal(ck->purpose, "marketing");
	assert_null(pv_policy_cookie_at(p, 2));

	assert_int_equal(pv_policy_access_log_retention(p, &dur), 1);
	assert_int_equal(dur.n, 30);
	assert_int_equal(pv_policy_retention_rule_count(p), 4);
	assert_int_equal(pv_policy_retention_rule_at(p, 0)->action, PV_RETAIN_ANONYMIZE);
	assert_int_equal(pv_policy_retention_rule_at(p, 1)->action, PV_RETAIN_DELETE);
	assert_int_equal(pv_policy_exception_count(p), 2);
	ex = pv_policy_exception_find(p, "tax_records");
	assert_int_equal(ex->kind, PV_EXCEPTION_REQUIRED_BY_LAW);
	assert_true(ex->has_duration);
	ex = pv_policy_exception_find(p, "claims");
	assert_int_equal(ex->npurposes, 1);
	assert_string_equal(ex->purposes[0], "*");   /* default: all */
	assert_false(ex->has_duration);

	rt = pv_policy_rights_get(p, PV_REGIME_CCPA);
	assert_true(rt->enabled);
	assert_int_equal(rt->deadline.n, 45);
	assert_int_equal(rt->verification[PV_POLICY_REQ_DELETION], PV_VERIFY_STRONG);
	assert_int_equal(rt->verification[PV_POLICY_REQ_OPT_OUT], PV_VERIFY_NONE);
	assert_int_equal(rt->verification[PV_POLICY_REQ_RECTIFICATION], PV_VERIFY_STANDARD);
	assert_int_equal(rt->nholidays, 2);
	assert_int_equal(pv_time_parse(&t, "2026-12-25"), 0);
	assert_true(rt->holidays[0] == t);
	assert_int_equal(rt->nchannels, 2);
	rt = pv_policy_rights_get(p, PV_REGIME_GDPR);
	assert_int_equal(rt->fee, PV_FEE_WHEN_EXCESSIVE);
	assert_int_equal(rt->excessive, PV_EXCESSIVE_CHARGE);
	assert_false(pv_policy_rights_get(p, PV_REGIME_LGPD)->enabled);

	assert_true(pv_policy_children_get(p)->has_minimum_age);
	assert_int_equal(pv_policy_children_get(p)->minimum_age, 13);
	assert_int_equal(pv_policy_children_get(p)->parental_consent_below, 16);
	assert_int_equal(pv_policy_changes_get(p)->nchannels, 2);
	assert_true(pv_policy_changes_get(p)->has_reminder);
	pv_policy_free(p);
}

static void test_defaults(void **state)
{
	pv_policy *p;
	const pv_policy_rights *rt;
	const pv_policy_category *c;
	(void)state;

	p = load_ok(HEAD PURPOSES);
	rt = pv_policy_rights_get(p, PV_REGIME_GDPR);
	assert_true(rt->enabled);
	assert_int_equal(rt->deadline.n, 1);
	assert_int_equal(rt->deadline.unit, PV_DUR_MONTHS);
	assert_true(rt->has_extension);
	assert_int_equal(rt->extension.n, 2);
	assert_false(rt->has_acknowledge);
	assert_false(rt->quota[PV_POLICY_REQ_ACCESS].present);
	assert_int_equal(rt->fee, PV_FEE_NONE);
	assert_int_equal(rt->excessive, PV_EXCESSIVE_REFUSE);
	assert_int_equal(pv_policy_regime_get(p, PV_REGIME_GDPR)->consent_age, 16);
	assert_int_equal(pv_policy_regime_get(p, PV_REGIME_GDPR)->breach_notice_hours, 72);
	assert_true(pv_policy_regime_get(p, PV_REGIME_GDPR)->is_default);
	assert_int_equal(pv_policy_children_get(p)->parental_consent_below, 16);
	assert_false(pv_policy_children_get(p)->has_minimum_age);
	assert_true(pv_policy_changes_get(p)->notice_on_material_change);
	assert_int_equal(pv_policy_changes_get(p)->notice_days, 30);
	c = pv_policy_category_find(p, "contact");
	assert_true(c->collected);
	assert_false(c->sensitive);
	assert_null(pv_policy_title(p));
	assert_false(pv_policy_access_log_retention(p, NULL));
	pv_policy_free(p);

	p = load_ok("privault: 1\nversion: v1\neffective: 2024-01-01\n"
		    "controller: {name: X, contact: x@example.com}\n"
		    "regimes: {lgpd: {}, ccpa: {}}\n"
		    "categories: [{id: contact, title: Contact}]\nsources: []\n"
		    "purposes:\n  - {id: support, title: S, lawful_basis: {ccpa: business_purpose, lgpd: contract},"
		    " categories: [contact], consent: opt_out}\n");
	assert_int_equal(pv_policy_default_regime(p), PV_REGIME_LGPD);   /* the first listed */
	rt = pv_policy_rights_get(p, PV_REGIME_CCPA);
	assert_int_equal(rt->deadline.n, 45);
	assert_int_equal(rt->deadline.unit, PV_DUR_DAYS);
	assert_true(rt->has_acknowledge);
	assert_int_equal(rt->acknowledge.n, 10);
	assert_int_equal(rt->acknowledge.unit, PV_DUR_BUSINESS_DAYS);
	assert_int_equal(rt->extension.n, 45);
	assert_true(rt->quota[PV_POLICY_REQ_ACCESS].present);
	assert_int_equal(rt->quota[PV_POLICY_REQ_ACCESS].max, 2);
	assert_int_equal(rt->quota[PV_POLICY_REQ_PORTABILITY].period.n, 12);
	assert_int_equal(rt->quota[PV_POLICY_REQ_PORTABILITY].period.unit, PV_DUR_MONTHS);
	assert_false(rt->quota[PV_POLICY_REQ_DELETION].present);
	assert_int_equal(pv_policy_regime_get(p, PV_REGIME_CCPA)->parent_opt_in_age, 13);
	assert_int_equal(pv_policy_regime_get(p, PV_REGIME_CCPA)->sale_opt_in_age, 16);
	rt = pv_policy_rights_get(p, PV_REGIME_LGPD);
	assert_int_equal(rt->deadline.n, 15);
	assert_false(rt->has_extension);
	assert_int_equal(pv_policy_children_get(p)->parental_consent_below, 13);
	assert_false(pv_policy_regime_enabled(p, PV_REGIME_GDPR));
	pv_policy_free(p);
}

static void test_minimal_file_and_examples(void **state)
{
	static const char *const files[] = {
		"tests/data/policy-minimal.yaml", "tests/data/policy-full.yaml",
	};
	(void)state;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[1024];
		pv_policy *p = NULL;

		snprintf(path, sizeof(path), "%s/%s", PV_SOURCE_ROOT, files[i]);
		assert_int_equal(pv_policy_load_file(&p, path, NULL), 0);
		pv_policy_free(p);
	}
	pv_policy_free(NULL);
}

/* ---- errors ---- */

static void test_error_classes(void **state)
{
	(void)state;
	/* unknown key, with and without a suggestion */
	check_one(HEAD PURPOSES "cookie: []\n", 17, 1, "cookie", "unknown key \"cookie\"; did you mean \"cookies\"?");
	check_one(HEAD PURPOSES "zzzzzz: 1\n", 17, 1, "zzzzzz", "unknown key \"zzzzzz\"");
	check_one(HEAD PURPOSES "    purpse: x\n", 17, 5, "purposes[0].purpse", "unknown key \"purpse\"");
	check_one(HEAD PURPOSES "    sharng: true\n", 17, 5, "purposes[0].sharng", "did you mean \"sharing\"?");
	/* types */
	check_one(HEAD PURPOSES "title: [a]\n", 17, 8, "title", "expected a string, got a list");
	check_one(HEAD PURPOSES "    marketing: \"yes\"\n", 17, 16, "purposes[0].marketing", "expected true or false, got a string");
	check_one(HEAD PURPOSES "children: {minimum_age: ten}\n", 17, 25, "children.minimum_age", "expected an integer in 0..21");
	check_one(HEAD PURPOSES "children: {minimum_age: 30}\n", 17, 25, "children.minimum_age", "expected an integer in 0..21, got 30");
	check_one(HEAD PURPOSES "changes: [a]\n", 17, 10, "changes", "expected a map, got a list");
	check_one(HEAD PURPOSES "recipients: {a: b}\n", 17, 13, "recipients", "expected a list, got a map");
	check_one(HEAD PURPOSES "url:\n", 17, 5, "url", "expected a string, got null");
	check_one(HEAD PURPOSES "changes:\n", 17, 9, "changes", "write {} for an empty map");
	/* enum values are listed, with a suggestion */
	check_one(HEAD "purposes:\n  - {id: s, title: S, lawful_basis: {gdpr: consent}, categories: [contact], consent: optin}\n",
		  11, 86, "purposes[0].consent",
		  "invalid value \"optin\"; did you mean \"opt_in\"? expected one of: opt_in, opt_out, notice_only");
	/* durations, dates, ids */
	check_one(HEAD PURPOSES "    retention: 3 yrs\n", 17, 16, "purposes[0].retention", "expected a duration");
	check_one(HEAD PURPOSES "    opt_out_window: indefinite\n", 17, 21, "purposes[0].opt_out_window",
		  "\"indefinite\" is not allowed here");
	check_one(HEAD PURPOSES "changes: {reminder: session}\n", 17, 21, "changes.reminder", "\"session\" is not allowed here");
	check_one("privault: 1\nversion: v1\neffective: 2024-02-30\n", 3, 12, "effective", "expected a date YYYY-MM-DD");
	check_one(HEAD PURPOSES "  - {id: Bad-Id, title: B, lawful_basis: {gdpr: consent}, categories: [contact], consent: opt_in}\n",
		  17, 10, "purposes[1].id", "expected an id matching");
	check_one(HEAD PURPOSES "recipients:\n  - {id: r, name: R, type: processor, purposes: [support], categories: [contact], country: usa}\n",
		  18, 92, "recipients[0].country", "ISO 3166-1");
	check_one(HEAD PURPOSES "recipients:\n  - {id: r, name: R, type: processor, purposes: [support], categories: [contact], erasure_webhook: http://x}\n",
		  18, 100, "recipients[0].erasure_webhook", "https://");
	/* duplicates */
	check_one(HEAD PURPOSES "  - {id: support, title: B, lawful_basis: {gdpr: consent}, categories: [contact], consent: opt_in}\n",
		  17, 10, "purposes[1].id", "duplicate purpose id \"support\" (first at line 11)");
	check_one(HEAD PURPOSES "    title: Again\n", 17, 5, "purposes[0].title", "duplicate key \"title\" (first at line 12)");
	/* required keys are reported at the map */
	check_one(HEAD "purposes:\n  - id: support\n    title: S\n    lawful_basis: {gdpr: contract}\n    consent: opt_in\n",
		  11, 5, "purposes[0]", "missing required key \"categories\"");
	check_one("privault: 1\n", 1, 1, "", "missing required key \"controller\"");
	check_one(HEAD PURPOSES "    categories: []\n", 17, 5, "purposes[0].categories", "duplicate key \"categories\" (first at line 14)");
	check_one(HEAD "purposes:\n  - {id: s, title: S, lawful_basis: {gdpr: consent}, categories: [], consent: opt_in}\n",
		  11, 66, "purposes[0].categories", "expected at least one item");
	check_one("privault: 1\nversion: v1\n", 1, 1, "", "missing required key \"effective\"");
	check_one("- a\n- b\n", 1, 1, "", "expected a map, got a list");
}

static void test_references_and_regimes(void **state)
{
	(void)state;
	check_one(HEAD "purposes:\n  - {id: s, title: S, lawful_basis: {gdpr: consent}, categories: [contatc], consent: opt_in}\n",
		  11, 67, "purposes[0].categories[0]", "unknown category \"contatc\"; did you mean \"contact\"?");
	check_one(HEAD "purposes:\n  - {id: s, title: S, lawful_basis: {gdpr: consent}, categories: [contact], sources: [web], consent: opt_in}\n",
		  11, 87, "purposes[0].sources[0]", "unknown source \"web\"; expected an id declared in sources");
	check_one(HEAD PURPOSES "recipients:\n  - {id: r, name: R, type: processor, purposes: [suport], categories: [contact]}\n",
		  18, 50, "recipients[0].purposes[0]", "unknown purpose \"suport\"; did you mean \"support\"?");
	check_one(HEAD PURPOSES "cookies:\n  - {name: c, provider: P, party: first, class: functional, lifetime: 1 day, purpose: nope}\n",
		  18, 87, "cookies[0].purpose", "unknown purpose \"nope\"");
	check_one(HEAD PURPOSES "retention:\n  rules:\n    - {category: \"*\", purpose: sport, duration: 1 year}\n",
		  19, 32, "retention.rules[0].purpose", "did you mean \"support\"?");
	check_one(HEAD PURPOSES "retention:\n  exceptions:\n    - {id: e, kind: published, categories: [x], reason: R}\n",
		  19, 45, "retention.exceptions[0].categories[0]", "unknown category \"x\"");
	check_one(HEAD PURPOSES "retention:\n  rules:\n    - {category: \"*\", purpose: support, duration: 1 year}\n"
		  "    - {category: \"*\", purpose: support, duration: 2 years}\n",
		  20, 7, "retention.rules[1]", "a second rule for (*, support)");
	/* a reference when nothing of its kind is declared */
	check_one("privault: 1\nretention: {rules: [{category: x, purpose: y, duration: 1 day}]}\n", 2, 32, "retention.rules[0].category",
		  "unknown category \"x\"; expected an id declared in categories or \"*\"");
	/* lawful basis per regime in force */
	check_one(HEAD "purposes:\n  - {id: s, title: S, lawful_basis: {ccpa: business_purpose}, categories: [contact], consent: opt_in}\n",
		  11, 37, "purposes[0].lawful_basis", "missing lawful basis for gdpr, which is in force");
	check_one(HEAD "purposes:\n  - {id: s, title: S, lawful_basis: {gdpr: consent, ccpa: business_purpose}, categories: [contact], consent: opt_in}\n",
		  11, 59, "purposes[0].lawful_basis.ccpa", "ccpa is not in force");
	check_one(HEAD PURPOSES "rights: {lgpd: {}}\n", 17, 16, "rights.lgpd", "lgpd is not in force");
	check_one("privault: 1\nregimes: {gdpr: {default: true}, ccpa: {default: true}}\n", 2, 50,
		  "regimes.ccpa.default", "only one regime may be the default; gdpr already is");
	check_one("privault: 1\nregimes: {}\n", 2, 10, "regimes", "expected at least one regime in force");
	check_one("privault: 1\nregimes: {gpdr: {}}\n", 2, 11, "regimes.gpdr", "did you mean \"gdpr\"?");
}

static void test_all_errors_collected(void **state)
{
	pv_policy_diags *d;
	const char *text = "privault: 2\nversion: [x]\neffective: soon\ncontroller: {name: X}\nregimes: {gdpr: {}}\n"
			   "categories: []\nsources: []\npurposes: []\nbogus: 1\n";
	char buf[256];
	(void)state;

	d = load_bad(text, strlen(text));
	assert_true(pv_policy_diags_count(d) >= 5);
	expect_diag(d, 1, 11, "privault", "expected an integer in 1..1, got 2");
	expect_diag(d, 2, 10, "version", "expected a string, got a list");
	expect_diag(d, 3, 12, "effective", "expected a date");
	expect_diag(d, 4, 13, "controller", "missing required key \"contact\"");
	expect_diag(d, 9, 1, "bogus", "unknown key");
	/* sorted by position */
	for (size_t i = 1; i < pv_policy_diags_count(d); i++)
		assert_true(pv_policy_diags_at(d, i - 1)->line <= pv_policy_diags_at(d, i)->line);
	assert_string_equal(pv_policy_diag_format(pv_policy_diags_at(d, 0), buf, sizeof(buf)),
			    "t.yaml:1:11: error: privault: expected an integer in 1..1, got 2");
	assert_null(pv_policy_diags_at(d, 9999));
	pv_policy_diags_free(d);
	/* NULL diags still fails and sets the message */
	{
		pv_policy *p = NULL;
		assert_int_equal(pv_policy_load_buffer(&p, "t.yaml", text, strlen(text), NULL), PV_EPOLICY);
		assert_null(p);
		assert_non_null(strstr(pv_error_last(), "invalid policy"));
	}
}

static void test_yaml_hazards(void **state)
{
	pv_policy_diags *d;
	static const char bad_utf8[] = "privault: 1\ntitle: \"caf\xc3\x28\"\n";
	(void)state;

	check_one(HEAD PURPOSES "title: &t hello\nurl: *t\n", 17, 8, "", "anchors are not allowed");
	check_one(HEAD PURPOSES "title: &t hello\nurl: *t\n", 18, 6, "", "aliases are not allowed");
	check_one("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n", 2, 8, "", "aliases are not allowed");
	check_one(HEAD PURPOSES "---\nprivault: 1\n", 17, 1, "", "one YAML document");
	check_one("privault: 1\nversion: [unclosed\n", 3, 1, "", "invalid YAML");
	check_one("privault: 1\n  version: x\n", 2, 10, "", "invalid YAML");
	check_one("", 1, 1, "", "the policy is empty");
	check_one("# only a comment\n", 1, 1, "", "the policy is empty");
	check_one("privault: \"1\\0\"\n", 1, 11, "", "NUL character");
	d = load_bad(bad_utf8, sizeof(bad_utf8) - 1);
	expect_diag(d, 2, 13, "", "invalid input: invalid trailing UTF-8 octet");
	pv_policy_diags_free(d);
	check_one("? [a, b]\n: c\n", 1, 3, "", "map keys must be strings");
}

static void test_limits(void **state)
{
	char *text;
	size_t n = 0, cap;
	pv_policy_diags *d;
	(void)state;

	/* depth */
	cap = 4 * PV_POLICY_MAX_DEPTH + 64;
	text = malloc(cap);
	n = (size_t)snprintf(text, cap, "privault: ");
	for (int i = 0; i < PV_POLICY_MAX_DEPTH + 5; i++)
		text[n++] = '[';
	for (int i = 0; i < PV_POLICY_MAX_DEPTH + 5; i++)
		text[n++] = ']';
	text[n] = '\0';
	d = load_bad(text, n);
	expect_diag(d, 1, 10 + PV_POLICY_MAX_DEPTH, "", "nesting deeper than 32 levels");
	pv_policy_diags_free(d);
	free(text);

	/* items */
	cap = 4 * (PV_POLICY_MAX_ITEMS + 10) + 64;
	text = malloc(cap);
	n = (size_t)snprintf(text, cap, "privault: 1\nchannels: [");
	for (int i = 0; i < PV_POLICY_MAX_ITEMS + 1; i++)
		n += (size_t)snprintf(text + n, cap - n, "a,");
	n += (size_t)snprintf(text + n, cap - n, "]\n");
	d = load_bad(text, n);
	expect_diag(d, 2, 12 + 2 * PV_POLICY_MAX_ITEMS, "", "more than 4096 items in one list");
	pv_policy_diags_free(d);
	free(text);

	/* scalar */
	cap = PV_POLICY_MAX_SCALAR + 64;
	text = malloc(cap);
	n = (size_t)snprintf(text, cap, "privault: 1\ntitle: ");
	memset(text + n, 'x', PV_POLICY_MAX_SCALAR + 1);
	n += PV_POLICY_MAX_SCALAR + 1;
	text[n++] = '\n';
	d = load_bad(text, n);
	expect_diag(d, 2, 8, "", "exceeds the limit of 65536 bytes");
	pv_policy_diags_free(d);
	free(text);

	/* bytes */
	n = PV_POLICY_MAX_BYTES + 1;
	text = calloc(1, n);
	memset(text, '#', n);
	d = load_bad(text, n);
	expect_diag(d, 1, 1, "", "the limit is 4194304 bytes");
	pv_policy_diags_free(d);
	free(text);

	/* diagnostics are capped */
	cap = 16 * (PV_POLICY_MAX_DIAGS + 50) + 64;
	text = malloc(cap);
	n = 0;
	for (int i = 0; i < PV_POLICY_MAX_DIAGS + 50; i++)
		n += (size_t)snprintf(text + n, cap - n, "zz%d: 1\n", i);
	d = load_bad(text, n);
	assert_int_equal(pv_policy_diags_count(d), PV_POLICY_MAX_DIAGS + 1);
	pv_policy_diags_free(d);
	free(text);
}

static void test_suggest(void **state)
{
	static const char *const keys[] = { "purpose", "purposes", "categories", "sources" };
	(void)state;

	assert_int_equal(pv_edit_distance("purpse", "purpose"), 1);
	assert_int_equal(pv_edit_distance("prupose", "purpose"), 1);   /* transposition */
	assert_int_equal(pv_edit_distance("", "abc"), 3);
	assert_string_equal(pv_suggest("purpse", keys, 4), "purpose");
	assert_string_equal(pv_suggest("catgories", keys, 4), "categories");
	assert_null(pv_suggest("xyz", keys, 4));
	assert_null(pv_suggest("a", keys, 4));
}

/* ---- queries ---- */

static void test_retention_specificity(void **state)
{
	pv_policy *p = load_full();
	pv_duration d;
	pv_retention_action a;
	(void)state;

	/* (identifiers, marketing) exact pair: 1 year, anonymize */
	assert_int_equal(pv_policy_retention_for(p, "identifiers", "marketing", &d, &a), 1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.unit, PV_DUR_YEARS);
	assert_int_equal(a, PV_RETAIN_ANONYMIZE);
	/* (identifiers, *) beats (*, order_fulfilment) and the purpose's 3 years */
	assert_int_equal(pv_policy_retention_for(p, "identifiers", "order_fulfilment", &d, &a), 1);
	assert_int_equal(d.n, 5);
	assert_int_equal(a, PV_RETAIN_DELETE);
	/* (*, order_fulfilment) beats the purpose's own 3 years */
	assert_int_equal(pv_policy_retention_for(p, "commercial", "order_fulfilment", &d, NULL), 1);
	assert_int_equal(d.n, 7);
	/* the purpose's own retention beats (*, *) */
	assert_int_equal(pv_policy_retention_for(p, "health", "marketing", &d, NULL), 1);
	assert_int_equal(d.n, 2);
	/* only (*, *): indefinite */
	assert_int_equal(pv_policy_retention_for(p, "health", "health_support", &d, NULL), 1);
	assert_int_equal(d.unit, PV_DUR_INDEFINITE);
	pv_policy_free(p);

	p = load_ok(HEAD PURPOSES);
	assert_int_equal(pv_policy_retention_for(p, "contact", "support", &d, &a), 0);
	pv_policy_free(p);
}

static void test_lookups(void **state)
{
	pv_policy *p = load_full();
	const pv_policy_purpose *pu = pv_policy_purpose_find(p, "order_fulfilment");
	(void)state;

	for (size_t i = 0; i < pv_policy_category_count(p); i++) {
		const pv_policy_category *c = pv_policy_category_at(p, i);
		assert_ptr_equal(pv_policy_category_find(p, c->id), c);
		assert_int_equal(c->index, i);
	}
	for (size_t i = 0; i < pv_policy_purpose_count(p); i++)
		assert_ptr_equal(pv_policy_purpose_find(p, pv_policy_purpose_at(p, i)->id), pv_policy_purpose_at(p, i));
	assert_null(pv_policy_category_find(p, "nope"));
	assert_null(pv_policy_category_find(p, NULL));
	assert_null(pv_policy_purpose_find(p, "zzz"));
	assert_null(pv_policy_purpose_find(p, ""));
	assert_null(pv_policy_category_at(p, 99));
	assert_true(pv_policy_purpose_has_category(pu, pv_policy_category_find(p, "identifiers")));
	assert_true(pv_policy_purpose_has_category(pu, pv_policy_category_find(p, "commercial")));
	assert_false(pv_policy_purpose_has_category(pu, pv_policy_category_find(p, "health")));
	assert_false(pv_policy_purpose_has_category(pu, NULL));
	assert_false(pv_policy_purpose_has_category(NULL, pv_policy_category_find(p, "health")));
	assert_non_null(pv_policy_source_find(p, "partner"));
	assert_null(pv_policy_exception_find(p, "nope"));

	assert_string_equal(pv_regime_name(PV_REGIME_CCPA), "ccpa");
	assert_string_equal(pv_regime_name(PV_REGIME_COUNT), "?");
	{
		pv_regime r;
		assert_int_equal(pv_regime_parse(&r, "lgpd"), 0);
		assert_int_equal(r, PV_REGIME_LGPD);
		assert_int_equal(pv_regime_parse(&r, "hipaa"), PV_EINVAL);
	}
	assert_string_equal(pv_policy_request_name(PV_POLICY_REQ_WITHDRAW_CONSENT), "withdraw_consent");
	pv_policy_free(p);
}

static void test_hash(void **state)
{
	const char *text = HEAD PURPOSES;
	char *changed = strdup(text);
	pv_policy *a = load_ok(text), *b = load_ok(text), *c;
	size_t len;
	const char *src;
	(void)state;

	assert_int_equal(strlen(pv_policy_hash(a)), 64);
	assert_string_equal(pv_policy_hash(a), pv_policy_hash(b));
	src = pv_policy_source(a, &len);
	assert_int_equal(len, strlen(text));
	assert_memory_equal(src, text, len);
	changed[strlen(changed) - 1] = ' ';   /* trailing newline -> space: same model, other bytes */
	c = load_ok(changed);
	assert_string_not_equal(pv_policy_hash(a), pv_policy_hash(c));
	for (const char *h = pv_policy_hash(a); *h; h++)
		assert_true((*h >= '0' && *h <= '9') || (*h >= 'a' && *h <= 'f'));
	pv_policy_free(a);
	pv_policy_free(b);
	pv_policy_free(c);
	free(changed);

	/* known value: b2sum -l 256 tests/data/policy-minimal.yaml */
	{
		char path[1024];
		pv_policy *m = NULL;
		snprintf(path, sizeof(path), "%s/tests/data/policy-minimal.yaml", PV_SOURCE_ROOT);
		assert_int_equal(pv_policy_load_file(&m, path, NULL), 0);
		assert_string_equal(pv_policy_hash(m), "2465b8faca0e5baa975d062d520e3cec4005f2d35ac1b74bc967815e7b4428b3");
		pv_policy_free(m);
	}
}

static void test_load_file_errors(void **state)
{
	pv_policy *p = (pv_policy *)1;
	pv_policy_diags *d = NULL;
	(void)state;

	assert_int_equal(pv_policy_diags_new(&d), 0);
	assert_int_equal(pv_policy_load_file(&p, "/nonexistent/policy.yaml", d), PV_EIO);
	assert_null(p);
	assert_int_equal(pv_policy_diags_count(d), 1);
	assert_int_equal(pv_policy_diags_at(d, 0)->line, 0);
	assert_string_equal(pv_policy_diags_at(d, 0)->file, "/nonexistent/policy.yaml");
	pv_policy_diags_free(d);
	assert_int_equal(pv_policy_load_buffer(NULL, "x", "", 0, NULL), PV_EINVAL);
}

static void test_json(void **state)
{
	pv_policy *p = load_full();
	char *json = NULL;
	(void)state;

	assert_int_equal(pv_policy_to_json(&json, p), 0);
	assert_non_null(strstr(json, pv_policy_hash(p)));
	assert_non_null(strstr(json, "\"default_regime\": \"gdpr\""));
	assert_non_null(strstr(json, "\"opt_out_window\": \"10 business days\""));
	assert_non_null(strstr(json, "\"effective\": \"2026-01-15\""));
	assert_non_null(strstr(json, "\"ccpa\": \"A\""));
	assert_null(strstr(json, "\"lgpd\": {"));   /* not in force: left out */
	free(json);
	pv_policy_free(p);
}

/* The committed schema file is exactly what `privault policy schema` prints. */
static void test_schema_committed(void **state)
{
	char *gen = NULL, *file;
	size_t len;
	(void)state;

	assert_int_equal(pv_policy_schema_json(&gen), 0);
	file = read_file("schema/privault-policy.schema.json", &len);
	if (strcmp(gen, file))
		fail_msg("schema/privault-policy.schema.json is stale: regenerate it with "
			 "`privault policy schema > schema/privault-policy.schema.json`");
	assert_non_null(strstr(gen, "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\""));
	assert_non_null(strstr(gen, "\"additionalProperties\": false"));
	free(gen);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_every_field),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_minimal_file_and_examples),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_references_and_regimes),
		cmocka_unit_test(test_all_errors_collected),
		cmocka_unit_test(test_yaml_hazards),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_retention_specificity),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_schema_committed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
