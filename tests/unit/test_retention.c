/*
 * Retention tests: legal holds (create, scope checks, roles, release, audit),
 * the sweeper (delete and anonymize per the rule of the record's policy
 * version, tallies, erasure of subjects left with nothing, one audit entry
 * per subject and action), dry runs that write nothing, holds by subject,
 * category and time range, restricted subjects, batches, one sweep at a time
 * (the sweep lock), and store rows.
 * Each test gets a fresh vault initialized with tests/data/retention-policy.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vault_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privault/privault.h"
#include "privault/retention.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/retention-policy.yaml"
#define DAY 86400

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller AUDITOR = { "test-auditor", PV_ROLE_AUDITOR, NULL, 0 };
static const pv_caller SERVICE = { "test-service", PV_ROLE_SERVICE, NULL, 0 };

/* 2025-03-10T12:00:00Z: records are collected from here on. */
static const pv_time T0 = 1741608000;

typedef pv_test_fixture fixture;

static int setup(void **state)
{
	return pv_test_fixture_setup(state, POLICY, "ret", T0);
}

static int teardown(void **state)
{
	return pv_test_fixture_teardown(state);
}

/* A subject with one e-mail identifier (unique per n). */
static void subject(pv_vault *v, int n, char id[PV_ID_LEN + 1])
{
	char email[64];
	pv_identifier ident = { "email", email };
	pv_subject_spec spec = { &ident, 1, NULL, 0, 0 };

	snprintf(email, sizeof(email), "person%d@example.com", n);
	assert_int_equal(pv_subject_create(v, &ADMIN, &spec, id), 0);
}

static void put(pv_vault *v, const char *sid, const char *cat, const char *purpose, const char *source,
		char id[PV_ID_LEN + 1])
{
	static const char data[] = "{\"note\":\"x\"}";
	pv_record_spec spec = { cat, purpose, source, data, sizeof(data) - 1 };
	char tmp[PV_ID_LEN + 1];

	assert_int_equal(pv_record_put(v, &ADMIN, sid, &spec, id ? id : tmp), 0);
}

static int64_t records(pv_vault *v)
{
	int64_t n = -1;

	assert_int_equal(pv_store_record_count(pv_vault_store(v), &n), 0);
	return n;
}

static int64_t subject_records(pv_vault *v, const char *sid)
{
	const char (*ids)[PV_ID_LEN + 1] = (const char (*)[PV_ID_LEN + 1])sid;
	int64_t n = -1;

	assert_int_equal(pv_store_record_count_subjects(pv_vault_store(v), ids, 1, &n), 0);
	return n;
}

/*
 * Take every record out of its retention epoch, as if stored before epochs
 * existed (migration 7): they then go through the sweep's batches. Their
 * ciphertexts stay sealed under the epoch key, which a sweep never needs.
 */
static void without_epochs(pv_vault *v)
{
	static const char q[] = "UPDATE records SET key_epoch = NULL";

	assert_int_equal(pv_store_exec(pv_vault_store(v), "test", q, NULL, 0, NULL), 0);
}

static int state_of(pv_vault *v, const char *sid)
{
	pv_store_subject s;

	assert_int_equal(pv_store_subject_get(pv_vault_store(v), sid, &s), 0);
	return s.state;
}

/* Audit entries, copied. */
typedef struct {
	pv_audit_entry e[256];
	size_t n;
} audit_dump;

static int dump_cb(const pv_audit_entry *e, void *payload)
{
	audit_dump *d = payload;

	if (d->n < sizeof(d->e) / sizeof(d->e[0]))
		d->e[d->n++] = *e;
	return 0;
}

/* The number of audit entries with `action` (and subject, when not NULL); *last = the last one. */
static size_t audit_count(pv_vault *v, const char *action, const char *sid, pv_audit_entry *last)
{
	static audit_dump d;
	size_t i, n = 0;

	d.n = 0;
	assert_int_equal(pv_audit_list(v, 1, 0, dump_cb, &d), 0);
	for (i = 0; i < d.n; i++)
		if (strcmp(d.e[i].action, action) == 0 && (sid == NULL || strcmp(d.e[i].subject_id, sid) == 0)) {
			n++;
			if (last)
				*last = d.e[i];
		}
	return n;
}

static int64_t audit_len(pv_vault *v)
{
	pv_vault_stats st;

	assert_int_equal(pv_vault_stats_get(v, &st), 0);
	return st.audit_entries;
}

static void verify_audit(pv_vault *v)
{
	pv_audit_report r;

	assert_int_equal(pv_audit_verify(v, &r), 0);
	assert_int_equal(r.ok, 1);
}

static const pv_sweep_count *line(const pv_sweep_report *r, const char *cat, const char *purpose)
{
	for (size_t i = 0; i < r->ncounts; i++)
		if (strcmp(r->counts[i].category, cat) == 0 && strcmp(r->counts[i].purpose, purpose) == 0)
			return &r->counts[i];
	return NULL;
}

static int has_erased(const pv_sweep_report *r, const char *sid)
{
	for (size_t i = 0; i < r->nerased; i++)
		if (strcmp(r->erased[i], sid) == 0)
			return 1;
	return 0;
}

/* Sweep as of `now` (0: the clock), moving the clock there first unless it is a dry run. */
static pv_sweep_report *sweep(pv_vault *v, int dry, pv_time now, size_t batch)
{
	pv_sweep_options o = { dry, now, batch, PV_SWEEP_PURGE_ALL };
	pv_sweep_report *r = NULL;

	if (!dry && now != 0)
		pv_clock_set(now);

	assert_int_equal(pv_retention_sweep(v, &ADMIN, &o, &r), 0);
	assert_non_null(r);
	return r;
}

/* ---- holds ---------------------------------------------------------------------------------- */

static void test_hold_lifecycle(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], h1[PV_ID_LEN + 1], h2[PV_ID_LEN + 1];
	pv_hold_spec s1 = { 0 }, s2 = { 0 };
	pv_audit_entry e;
	pv_hold *list = NULL, got;
	size_t n = 0;
	char want[64];

	subject(f->v, 1, a);
	s1.subject_id = a;
	s1.reason = "Case 2025-CV-118";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s1, h1), 0);
	s2.category = "commercial";
	s2.from = T0 - 10 * DAY;
	s2.to = T0 + 10 * DAY;
	s2.reason = "Tax audit FY2025";
	pv_clock_set(T0 + 60);
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s2, h2), 0);
	assert_string_not_equal(h1, h2);

	assert_int_equal(pv_hold_get(f->v, &AUDITOR, h2, &got), 0);
	assert_string_equal(got.category, "commercial");
	assert_string_equal(got.subject_id, "");
	assert_true(got.from == T0 - 10 * DAY && got.to == T0 + 10 * DAY);
	assert_string_equal(got.reason, "Tax audit FY2025");
	assert_string_equal(got.created_by, "test-admin");
	assert_true(got.created_at == T0 + 60 && got.released_at == 0);

	assert_int_equal(pv_hold_list(f->v, &AUDITOR, 0, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, h1);   /* oldest first */
	assert_string_equal(list[0].subject_id, a);
	free(list);

	/* audited with the hold id, the subject and the category; no reason text */
	assert_int_equal(audit_count(f->v, "hold.create", NULL, &e), 2);
	snprintf(want, sizeof(want), "ok:hold=%s", h2);
	assert_string_equal(e.outcome, want);
	assert_string_equal(e.category, "commercial");
	assert_int_equal(audit_count(f->v, "hold.create", a, NULL), 1);

	pv_clock_set(T0 + 120);
	assert_int_equal(pv_hold_release(f->v, &ADMIN, h1), 0);
	assert_int_equal(pv_hold_release(f->v, &ADMIN, h1), PV_ENOTFOUND);
	assert_int_equal(pv_hold_get(f->v, &ADMIN, h1, &got), 0);
	assert_true(got.released_at == T0 + 120);
	assert_string_equal(got.released_by, "test-admin");
	assert_int_equal(audit_count(f->v, "hold.release", a, &e), 1);

	assert_int_equal(pv_hold_list(f->v, &ADMIN, 0, &list, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].id, h2);
	free(list);
	assert_int_equal(pv_hold_list(f->v, &ADMIN, 1, &list, &n), 0);
	assert_int_equal(n, 2);
	free(list);
	verify_audit(f->v);
}

static void test_hold_invalid(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], h[PV_ID_LEN + 1], gone[PV_ID_LEN + 1];
	pv_hold_spec s = { 0 };
	char longreason[PV_HOLD_REASON_MAX + 2];
	pv_hold got;
	int64_t before;

	subject(f->v, 1, a);
	subject(f->v, 2, gone);
	assert_int_equal(pv_subject_erase(f->v, &ADMIN, gone), 0);
	before = audit_len(f->v);

	s.reason = "Case 1";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);          /* no scope */
	assert_non_null(strstr(pv_error_last(), "scope"));
	s.subject_id = a;
	s.reason = NULL;
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);          /* no reason */
	s.reason = "call jane@example.com";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);          /* personal data */
	assert_null(strstr(pv_error_last(), "jane"));
	s.reason = "line\nbreak";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);
	memset(longreason, 'x', sizeof(longreason) - 1);
	longreason[sizeof(longreason) - 1] = '\0';
	s.reason = longreason;
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);
	s.reason = "Case 1";
	s.from = T0;
	s.to = T0;
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);          /* empty range */
	s.from = s.to = 0;
	s.subject_id = "00000000-0000-4000-8000-000000000000";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_ENOTFOUND);
	s.subject_id = gone;
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EERASED);
	s.subject_id = "not-a-uuid";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);
	s.subject_id = NULL;
	s.category = "health";   /* not declared by this policy */
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), PV_EINVAL);
	s.category = "contact";
	assert_int_equal(pv_hold_create(f->v, &SERVICE, &s, h), PV_EDENIED);
	assert_int_equal(pv_hold_create(f->v, &AUDITOR, &s, h), PV_EDENIED);
	assert_int_equal(audit_len(f->v), before);   /* nothing written */

	assert_int_equal(pv_hold_create(f->v, &ADMIN, &s, h), 0);
	assert_int_equal(pv_hold_release(f->v, &AUDITOR, h), PV_EDENIED);
	assert_int_equal(pv_hold_get(f->v, &SERVICE, h, &got), PV_EDENIED);
	assert_int_equal(pv_hold_get(f->v, &ADMIN, "00000000-0000-4000-8000-000000000000", &got), PV_ENOTFOUND);
	assert_int_equal(pv_hold_release(f->v, &ADMIN, "x"), PV_EINVAL);
}

/* ---- the sweeper ---------------------------------------------------------------------------- */

/*
 * A: account contact (no expiry) + an order (1 month, delete)
 * B: an order only
 * C: a newsletter contact (30 days, anonymize), source direct
 * D: identifiers for orders (2 years)
 */
typedef struct {
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1], c[PV_ID_LEN + 1], d[PV_ID_LEN + 1];
	char a_order[PV_ID_LEN + 1], b_order[PV_ID_LEN + 1];
} people;

static void populate(pv_vault *v, people *p)
{
	subject(v, 1, p->a);
	subject(v, 2, p->b);
	subject(v, 3, p->c);
	subject(v, 4, p->d);
	put(v, p->a, "contact", "account", NULL, NULL);
	put(v, p->a, "commercial", "order_fulfilment", NULL, p->a_order);
	put(v, p->b, "commercial", "order_fulfilment", "partner", p->b_order);
	put(v, p->c, "contact", "marketing", "direct", NULL);
	put(v, p->d, "identifiers", "order_fulfilment", NULL, NULL);
}

static void test_sweep_nothing_expired(void **state)
{
	fixture *f = *state;
	people p;
	pv_sweep_report *r;
	int64_t audit_before;

	populate(f->v, &p);
	audit_before = audit_len(f->v);
	pv_clock_set(T0 + 10 * DAY);
	r = sweep(f->v, 0, 0, 0);
	assert_true(r->deleted == 0 && r->anonymized == 0 && r->subjects_erased == 0 && r->kept == 0);
	assert_int_equal(r->batches, 0);
	assert_int_equal(r->ncounts, 0);
	assert_true(r->now == T0 + 10 * DAY);
	pv_sweep_report_free(r);
	assert_int_equal(records(f->v), 5);
	assert_int_equal(audit_len(f->v), audit_before);
}

static int tally_cb(const char *category, const char *purpose, const char *source, pv_time month,
		    int64_t count, void *payload)
{
	char *out = payload;
	size_t n = strlen(out);

	snprintf(out + n, 512 - n, "%s/%s/%s/%lld/%lld;", category, purpose, source, (long long)month,
		 (long long)count);
	return 0;
}

static void test_sweep_dry_run_then_run(void **state)
{
	fixture *f = *state;
	people p;
	pv_sweep_report *r;
	pv_audit_entry e;
	int64_t audit_before;
	char tallies[512] = "", want[512];
	pv_category_count *cats = NULL;
	size_t ncats = 0;

	populate(f->v, &p);
	audit_before = audit_len(f->v);

	/* 40 days later: the orders (1 month) and the newsletter contact (30 days) have expired */
	pv_clock_set(T0 + 40 * DAY);
	r = sweep(f->v, 1, 0, 0);
	assert_int_equal(r->dry_run, 1);
	assert_int_equal(r->deleted, 2);
	assert_int_equal(r->anonymized, 1);
	assert_int_equal(r->kept, 0);
	assert_int_equal(r->ncounts, 2);
	assert_int_equal(line(r, "commercial", "order_fulfilment")->records, 2);
	assert_int_equal(line(r, "commercial", "order_fulfilment")->action, PV_RETAIN_DELETE);
	assert_int_equal(line(r, "contact", "marketing")->records, 1);
	assert_int_equal(line(r, "contact", "marketing")->action, PV_RETAIN_ANONYMIZE);
	assert_int_equal(r->subjects_erased, 2);   /* B and C would have nothing left */
	assert_true(has_erased(r, p.b) && has_erased(r, p.c) && !has_erased(r, p.a));
	assert_int_equal(r->batches, 0);
	pv_sweep_report_free(r);
	/* a dry run writes nothing, not even an audit entry */
	assert_int_equal(records(f->v), 5);
	assert_int_equal(audit_len(f->v), audit_before);
	assert_int_equal(state_of(f->v, p.b), PV_SUBJECT_ACTIVE);

	r = sweep(f->v, 0, 0, 0);
	assert_int_equal(r->dry_run, 0);
	assert_int_equal(r->deleted, 2);
	assert_int_equal(r->anonymized, 1);
	assert_int_equal(r->subjects_erased, 2);
	assert_true(has_erased(r, p.b) && has_erased(r, p.c));
	assert_int_equal(r->batches, 1);
	pv_sweep_report_free(r);

	assert_int_equal(records(f->v), 2);   /* A's account contact, D's identifiers */
	assert_int_equal(subject_records(f->v, p.a), 1);
	assert_int_equal(pv_subject_categories(f->v, &ADMIN, p.a, &cats, &ncats), 0);
	assert_int_equal(ncats, 1);
	assert_string_equal(cats[0].category, "contact");
	free(cats);
	assert_int_equal(state_of(f->v, p.a), PV_SUBJECT_ACTIVE);
	assert_int_equal(state_of(f->v, p.b), PV_SUBJECT_ERASED);
	assert_int_equal(state_of(f->v, p.c), PV_SUBJECT_ERASED);
	assert_int_equal(state_of(f->v, p.d), PV_SUBJECT_ACTIVE);

	/* the anonymized record left only a count: category, purpose, source, month (2025-03-01) */
	assert_int_equal(pv_retention_tally_each(f->v, &AUDITOR, tally_cb, tallies), 0);
	snprintf(want, sizeof(want), "contact/marketing/direct/%lld/1;", (long long)1740787200);
	assert_string_equal(tallies, want);

	/* audit: one entry per category x purpose x action of the destroyed epochs (no subject),
	 * the erasures, and the chain verifies */
	assert_int_equal(audit_count(f->v, "retention.delete", NULL, &e), 1);
	assert_true(strncmp(e.outcome, "ok:records=2,epochs=", 20) == 0);
	assert_string_equal(e.category, "commercial");
	assert_string_equal(e.purpose, "order_fulfilment");
	assert_string_equal(e.subject_id, "");
	assert_string_equal(e.actor, "test-admin");
	assert_int_equal(audit_count(f->v, "retention.anonymize", NULL, &e), 1);
	assert_true(strncmp(e.outcome, "ok:records=1,epochs=", 20) == 0);
	assert_int_equal(audit_count(f->v, "subject.erase", NULL, NULL), 2);
	assert_int_equal(audit_count(f->v, "subject.erase", p.a, NULL), 0);
	verify_audit(f->v);

	/* an erased subject's identifier stays suppressed; a second sweep finds nothing */
	r = sweep(f->v, 0, 0, 0);
	assert_true(r->deleted == 0 && r->anonymized == 0 && r->subjects_erased == 0);
	pv_sweep_report_free(r);

	/* two years on, D's identifiers expire (the purpose's own retention) and D is erased */
	r = sweep(f->v, 0, T0 + 2 * 366 * DAY, 0);
	assert_int_equal(r->deleted, 1);
	assert_true(has_erased(r, p.d));
	pv_sweep_report_free(r);
	assert_int_equal(state_of(f->v, p.d), PV_SUBJECT_ERASED);
	assert_int_equal(records(f->v), 1);
}

static void test_sweep_holds(void **state)
{
	fixture *f = *state;
	people p;
	pv_sweep_report *r;
	pv_hold_spec hs = { 0 }, hc = { 0 };
	char hb[PV_ID_LEN + 1], hcat[PV_ID_LEN + 1], late[PV_ID_LEN + 1];

	populate(f->v, &p);
	/* a later order of A, collected 5 days after the others */
	pv_clock_set(T0 + 5 * DAY);
	put(f->v, p.a, "commercial", "order_fulfilment", NULL, late);

	hs.subject_id = p.b;
	hs.reason = "Litigation 42";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &hs, hb), 0);
	/* orders collected in the first two days are held */
	hc.category = "commercial";
	hc.from = T0 - DAY;
	hc.to = T0 + 2 * DAY;
	hc.reason = "Tax audit 2025";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &hc, hcat), 0);

	pv_clock_set(T0 + 60 * DAY);
	r = sweep(f->v, 1, 0, 0);
	assert_int_equal(r->deleted, 1);   /* only A's late order */
	assert_int_equal(r->anonymized, 1);   /* C */
	assert_int_equal(r->kept, 2);     /* A's and B's first orders */
	assert_int_equal(r->subjects_erased, 1);
	assert_true(has_erased(r, p.c));
	pv_sweep_report_free(r);

	r = sweep(f->v, 0, 0, 0);
	assert_int_equal(r->deleted, 1);
	assert_int_equal(r->kept, 2);
	assert_int_equal(r->subjects_erased, 1);
	pv_sweep_report_free(r);
	assert_int_equal(subject_records(f->v, p.a), 2);   /* account contact + held first order */
	assert_int_equal(subject_records(f->v, p.b), 1);

	/* releasing the range hold frees A's first order; B stays under its own hold */
	assert_int_equal(pv_hold_release(f->v, &ADMIN, hcat), 0);
	r = sweep(f->v, 0, 0, 0);
	assert_int_equal(r->deleted, 1);
	assert_int_equal(r->kept, 1);
	assert_int_equal(r->subjects_erased, 0);
	pv_sweep_report_free(r);
	assert_int_equal(subject_records(f->v, p.a), 1);

	/* releasing B's hold lets the sweep delete B's order and erase B */
	assert_int_equal(pv_hold_release(f->v, &ADMIN, hb), 0);
	r = sweep(f->v, 0, 0, 0);
	assert_int_equal(r->deleted, 1);
	assert_int_equal(r->kept, 0);
	assert_int_equal(r->subjects_erased, 1);
	assert_true(has_erased(r, p.b));
	pv_sweep_report_free(r);
	assert_int_equal(state_of(f->v, p.b), PV_SUBJECT_ERASED);
	verify_audit(f->v);
}

/* A hold naming a subject keeps the subject from erasure even when none of its records is in scope. */
static void test_sweep_hold_keeps_subject(void **state)
{
	fixture *f = *state;
	people p;
	pv_sweep_report *r;
	pv_hold_spec hs = { 0 };
	char h[PV_ID_LEN + 1];

	populate(f->v, &p);
	hs.subject_id = p.b;
	hs.category = "contact";   /* B has no contact records: the order is not held */
	hs.reason = "Matter 7";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &hs, h), 0);
	r = sweep(f->v, 0, T0 + 40 * DAY, 0);
	assert_int_equal(r->deleted, 2);
	assert_false(has_erased(r, p.b));
	assert_true(has_erased(r, p.c));
	pv_sweep_report_free(r);
	assert_int_equal(subject_records(f->v, p.b), 0);
	assert_int_equal(state_of(f->v, p.b), PV_SUBJECT_ACTIVE);
}

static void test_sweep_restricted(void **state)
{
	fixture *f = *state;
	people p;
	pv_sweep_report *r;

	populate(f->v, &p);
	assert_int_equal(pv_store_subject_set_state(pv_vault_store(f->v), p.b, PV_SUBJECT_RESTRICTED, T0), 0);
	r = sweep(f->v, 0, T0 + 40 * DAY, 0);
	assert_int_equal(r->deleted, 1);   /* A's order; B is restricted */
	assert_int_equal(r->kept, 1);
	assert_false(has_erased(r, p.b));
	pv_sweep_report_free(r);
	assert_int_equal(subject_records(f->v, p.b), 1);
}

static void test_sweep_batches(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_sweep_report *r;
	int i;

	for (i = 0; i < 25; i++) {
		pv_clock_set(T0 + i * 60);
		subject(f->v, 100 + i, sid);
		put(f->v, sid, "commercial", "order_fulfilment", NULL, NULL);
		put(f->v, sid, "contact", "marketing", NULL, NULL);
	}
	without_epochs(f->v);
	r = sweep(f->v, 0, T0 + 40 * DAY, 7);
	assert_int_equal(r->deleted, 25);
	assert_int_equal(r->anonymized, 25);
	assert_int_equal(r->batches, 8);   /* 50 records, 7 per batch */
	assert_int_equal(r->subjects_erased, 25);
	pv_sweep_report_free(r);
	assert_int_equal(records(f->v), 0);
	verify_audit(f->v);
}

/* Records sharing one expiry across batch boundaries, some held: each swept once, held ones kept. */
static void test_sweep_same_expiry(void **state)
{
	fixture *f = *state;
	char sid[20][PV_ID_LEN + 1], h[PV_ID_LEN + 1];
	pv_hold_spec hs = { 0 };
	pv_sweep_report *r;
	int i;

	for (i = 0; i < 20; i++) {
		subject(f->v, 200 + i, sid[i]);
		put(f->v, sid[i], "commercial", "order_fulfilment", NULL, NULL);
	}
	hs.reason = "Matter 11";
	for (i = 0; i < 20; i += 4) {   /* 5 held subjects, spread over the batches */
		hs.subject_id = sid[i];
		assert_int_equal(pv_hold_create(f->v, &ADMIN, &hs, h), 0);
	}
	without_epochs(f->v);
	r = sweep(f->v, 0, T0 + 40 * DAY, 3);
	assert_int_equal(r->deleted, 15);
	assert_int_equal(r->kept, 5);
	assert_int_equal(r->subjects_erased, 15);
	assert_int_equal(r->batches, 5);
	pv_sweep_report_free(r);
	for (i = 0; i < 20; i++)
		assert_int_equal(subject_records(f->v, sid[i]), i % 4 == 0 ? 1 : 0);
	assert_int_equal(audit_count(f->v, "retention.delete", NULL, NULL), 15);
	verify_audit(f->v);
}

static void test_sweep_args(void **state)
{
	fixture *f = *state;
	pv_sweep_options o = { 0, 0, PV_SWEEP_MAX_BATCH + 1, 0 };
	pv_sweep_report *r = NULL;

	assert_int_equal(pv_retention_sweep(f->v, &SERVICE, NULL, &r), PV_EDENIED);
	assert_null(r);
	assert_int_equal(pv_retention_sweep(f->v, &AUDITOR, NULL, &r), PV_EDENIED);
	assert_int_equal(pv_retention_sweep(f->v, &ADMIN, &o, &r), PV_ELIMIT);
	assert_int_equal(pv_retention_sweep(NULL, &ADMIN, NULL, &r), PV_EINVAL);
	/* a real sweep never runs ahead of the clock; a dry run may look ahead */
	o.batch = 0;
	o.now = T0 + DAY;
	assert_int_equal(pv_retention_sweep(f->v, &ADMIN, &o, &r), PV_EINVAL);
	assert_null(r);
	o.dry_run = 1;
	assert_int_equal(pv_retention_sweep(f->v, &ADMIN, &o, &r), 0);
	assert_true(r->now == T0 + DAY);
	pv_sweep_report_free(r);
	pv_sweep_report_free(NULL);
	assert_string_equal(pv_retention_action_name(PV_RETAIN_ANONYMIZE), "anonymize");
	assert_string_equal(pv_retention_action_name(PV_RETAIN_DELETE), "delete");
}

/*
 * One sweep at a time: while another handle (here a second vault handle on the
 * same vault.db, as another process would) holds the sweep lock, a real sweep
 * returns PV_SWEEP_SKIPPED having done nothing (no record gone, no audit entry);
 * a dry run takes no lock; once the holder releases it, or closes its handle,
 * the sweep runs, and it releases the lock at its end.
 */
static void test_sweep_lock(void **state)
{
	fixture *f = *state;
	pv_sweep_options o = { 0, 0, 0, 0 };
	pv_sweep_report *r = NULL;
	pv_vault *other = NULL;
	pv_store *s;
	people p;
	int64_t before;
	int got = -1;

	populate(f->v, &p);
	pv_clock_set(T0 + 40 * DAY);
	assert_int_equal(pv_vault_open(&other, f->dir, NULL), 0);
	s = pv_vault_store(other);
	assert_int_equal(pv_store_job_lock(s, "retention.sweep", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(pv_store_job_lock(s, "retention.sweep", &got), PV_EINVAL);   /* one per handle */
	assert_int_equal(pv_store_job_lock(s, "Bad/Name", &got), PV_EINVAL);
	assert_int_equal(pv_store_job_unlock(s, "another.job"), PV_EINVAL);           /* not held */

	before = audit_len(f->v);
	assert_int_equal(pv_retention_sweep(f->v, &ADMIN, &o, &r), PV_SWEEP_SKIPPED);
	assert_non_null(r);
	assert_int_equal(r->skipped, 1);
	assert_int_equal(r->deleted + r->anonymized + r->subjects_erased + r->batches, 0);
	pv_sweep_report_free(r);
	assert_int_equal(records(f->v), 5);
	assert_int_equal(audit_len(f->v), before);
	/* the holder's own handle finds it taken too (a second flock on another descriptor) */
	assert_int_equal(pv_store_job_lock(pv_vault_store(f->v), "retention.sweep", &got), 0);
	assert_int_equal(got, 0);
	/* a dry run reads only: no lock */
	r = sweep(f->v, 1, 0, 0);
	assert_int_equal(r->skipped, 0);
	assert_int_equal(r->deleted + r->anonymized, 3);
	pv_sweep_report_free(r);

	assert_int_equal(pv_store_job_unlock(s, "retention.sweep"), 0);
	r = sweep(f->v, 0, 0, 0);
	assert_int_equal(r->skipped, 0);
	assert_int_equal(r->deleted + r->anonymized, 3);
	pv_sweep_report_free(r);
	assert_int_equal(records(f->v), 2);

	/* the sweep released it; a handle closed while holding it releases it too */
	assert_int_equal(pv_store_job_lock(s, "retention.sweep", &got), 0);
	assert_int_equal(got, 1);
	pv_vault_close(other);
	r = sweep(f->v, 0, 0, 0);
	assert_int_equal(r->skipped, 0);
	pv_sweep_report_free(r);
	verify_audit(f->v);

	/* freezing the holds is for a transaction only */
	assert_int_equal(pv_store_hold_lock(pv_vault_store(f->v)), PV_EINVAL);
	assert_int_equal(pv_store_begin(pv_vault_store(f->v)), 0);
	assert_int_equal(pv_store_hold_lock(pv_vault_store(f->v)), 0);
	assert_int_equal(pv_store_job_lock(pv_vault_store(f->v), "retention.sweep", &got), PV_EINVAL);
	assert_int_equal(pv_store_rollback(pv_vault_store(f->v)), 0);
}

/* The store's expired walk: order, range, limit; delete_refs counts what existed. */
static void test_store_expired(void **state)
{
	fixture *f = *state;
	people p;
	pv_store *s = pv_vault_store(f->v);
	pv_store_record_ref ref;
	size_t deleted = 99;
	int64_t n = 0;

	populate(f->v, &p);
	assert_int_equal(pv_store_record_expired_count(s, T0 + 40 * DAY, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(pv_store_record_expired_count(s, T0, &n), 0);
	assert_int_equal(n, 0);
	memcpy(ref.subject_id, p.b, sizeof(ref.subject_id));
	memcpy(ref.id, p.b_order, sizeof(ref.id));
	assert_int_equal(pv_store_record_delete_refs(s, &ref, 1, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(pv_store_record_delete_refs(s, &ref, 1, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(pv_store_tally_add(s, "contact", "marketing", "", T0, 2), 0);
	assert_int_equal(pv_store_tally_add(s, "contact", "marketing", "", T0, 3), 0);
	{
		char out[512] = "", want[128];

		assert_int_equal(pv_store_tally_each(s, tally_cb, out), 0);
		snprintf(want, sizeof(want), "contact/marketing//%lld/5;", (long long)T0);
		assert_string_equal(out, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hold_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hold_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_nothing_expired, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_dry_run_then_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_holds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_hold_keeps_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_restricted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_same_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_expired, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
