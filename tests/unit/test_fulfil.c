/*
 * Fulfilment tests: the disclosure ledger and its lookback, access and
 * portability packages (contents match the stored data, HTML escaped, the
 * purpose data_subject_request required), erasure with the policy's
 * exceptions and legal holds reported per category, crypto-shredding and
 * suppression when nothing is kept, restriction, the consent-ledger effects
 * of objection and withdrawal, and the suppression journal replayed after a
 * restore (the backup-restore-resurrection case) with a tampered journal refused.
 * Each test gets a fresh vault initialized with tests/data/fulfil-policy.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vault_fixture.h"

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privault/audit.h"
#include "privault/consent.h"
#include "privault/fulfil.h"
#include "privault/outbox.h"
#include "privault/privault.h"
#include "privault/retention.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/fulfil-policy.yaml"
#define OTHER_POLICY PV_SOURCE_ROOT "/tests/data/retention-policy.yaml"
#define DAY 86400

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller SERVICE = { "test-service", PV_ROLE_SERVICE, NULL, 0 };

/* 2025-03-10T12:00:00Z */
static const pv_time T0 = 1741608000;

typedef pv_test_fixture fixture;

static int setup(void **state)
{
	return pv_test_fixture_setup(state, POLICY, "ful", T0);
}

static int teardown(void **state)
{
	return pv_test_fixture_teardown(state);
}

static void subject(pv_vault *v, const char *email, char id[PV_ID_LEN + 1])
{
	pv_identifier ident = { "email", email };
	pv_subject_spec spec = { &ident, 1, NULL, 0, 0 };

	assert_int_equal(pv_subject_create(v, &ADMIN, &spec, id), 0);
}

static void put(pv_vault *v, const char *sid, const char *cat, const char *purpose, const char *source,
		const char *data, char id[PV_ID_LEN + 1])
{
	pv_record_spec spec = { cat, purpose, source, data, strlen(data) };
	char tmp[PV_ID_LEN + 1];

	assert_int_equal(pv_record_put(v, &ADMIN, sid, &spec, id ? id : tmp), 0);
}

/* assert rc == 0, printing the error message when not */
#define assert_ok(expr)                                                                  \
	do {                                                                             \
		int rc_ = (expr);                                                        \
		if (rc_ != 0)                                                            \
			fail_msg("%s = %d: %s", #expr, rc_, pv_error_last());            \
	} while (0)

static int64_t subject_records(pv_vault *v, const char *sid)
{
	const char (*ids)[PV_ID_LEN + 1] = (const char (*)[PV_ID_LEN + 1])sid;
	int64_t n = -1;

	assert_int_equal(pv_store_record_count_subjects(pv_vault_store(v), ids, 1, &n), 0);
	return n;
}

typedef struct {
	const char *action, *sid;
	size_t n;
	char outcome[256];
} audit_find;

static int find_cb(const pv_audit_entry *e, void *payload)
{
	audit_find *a = payload;

	if (strcmp(e->action, a->action) == 0 && (!a->sid || strcmp(e->subject_id, a->sid) == 0)) {
		a->n++;
		snprintf(a->outcome, sizeof(a->outcome), "%s", e->outcome);
	}
	return 0;
}

/* Audit entries with `action` (and subject); *outcome of the last one. */
static size_t audit_count(pv_vault *v, const char *action, const char *sid, char *outcome)
{
	audit_find a = { action, sid, 0, "" };

	assert_int_equal(pv_audit_list(v, 1, 0, find_cb, &a), 0);
	if (outcome)
		strcpy(outcome, a.outcome);
	return a.n;
}

static void verify_audit(pv_vault *v)
{
	pv_audit_report r;

	assert_int_equal(pv_audit_verify(v, &r), 0);
	assert_int_equal(r.ok, 1);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* ---- disclosures ---- */

static void test_disclosure_ledger(void **state)
{
	fixture *f = *state;
	const char *cats[] = { "identifiers", "commercial" };
	const char *bad[] = { "identifiers", "nope" };
	pv_disclosure_spec d = { "payments", cats, 2, "order_fulfilment", 0, 0, 0 };
	pv_disclosure *list = NULL;
	char sid[PV_ID_LEN + 1], id[PV_ID_LEN + 1];
	size_t n = 0;

	subject(f->v, "ann@example.com", sid);
	d.at = T0 - 400 * DAY;   /* outside the 12-month lookback */
	assert_int_equal(pv_disclosure_record(f->v, &ADMIN, sid, &d, id), 0);
	d.at = T0 - 30 * DAY;
	d.sale = 1;
	assert_int_equal(pv_disclosure_record(f->v, &SERVICE, sid, &d, id), 0);
	d.at = 0;
	d.sale = 0;
	d.sharing = 1;
	assert_int_equal(pv_disclosure_record(f->v, &ADMIN, sid, &d, NULL), 0);

	assert_int_equal(pv_disclosure_list(f->v, &ADMIN, sid, 0, &list, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].id, id);
	assert_string_equal(list[0].recipient, "payments");
	assert_string_equal(list[0].categories, "identifiers,commercial");
	assert_int_equal(list[0].sale, 1);
	assert_int_equal(list[0].at, T0 - 30 * DAY);
	assert_int_equal(list[1].sharing, 1);
	assert_int_equal(list[1].at, T0);
	free(list);
	assert_int_equal(pv_disclosure_list(f->v, &ADMIN, sid, 1, &list, &n), 0);
	assert_int_equal(n, 3);
	free(list);

	/* bad input names the field, nothing written */
	d.recipient = "nobody";
	assert_int_equal(pv_disclosure_record(f->v, &ADMIN, sid, &d, NULL), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "recipient"));
	d.recipient = "payments";
	d.categories = bad;
	assert_int_equal(pv_disclosure_record(f->v, &ADMIN, sid, &d, NULL), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "categories[1]"));
	assert_int_equal(audit_count(f->v, "disclosure.record", sid, NULL), 3);
	verify_audit(f->v);
}

/* ---- packages ---- */

static void test_package_json_matches_data(void **state)
{
	fixture *f = *state;
	const char *cats[] = { "identifiers" };
	pv_disclosure_spec d = { "adnet", cats, 1, "account", 0, 1, T0 - DAY };
	pv_package_summary sum;
	char sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1], *s = NULL;
	json_t *doc, *recs, *r;
	json_error_t err;
	size_t len;

	subject(f->v, "bob@example.com", sid);
	put(f->v, sid, "contact", "account", "direct", "{\"phone\":\"+15550100\",\"city\":\"Lyon\"}", rid);
	put(f->v, sid, "commercial", "order_fulfilment", "partner", "{\"order\":42}", NULL);
	assert_int_equal(pv_disclosure_record(f->v, &ADMIN, sid, &d, NULL), 0);
	assert_int_equal(pv_consent_record_one(f->v, &ADMIN, sid, "account", PV_CONSENT_OBJECTED,
					       &(pv_consent_context){ .source = PV_CONSENT_SRC_FORM }, NULL), 0);

	assert_int_equal(pv_package_json(f->v, &ADMIN, sid, PV_PACKAGE_ACCESS, &s, &len, &sum), 0);
	assert_int_equal(sum.records, 2);
	assert_int_equal(sum.withheld, 0);
	assert_int_equal(sum.categories, 2);
	assert_int_equal(sum.disclosures, 1);
	doc = json_loadb(s, len, 0, &err);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "format")), "privault-package/1");
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "subject"), "id")), sid);
	recs = json_object_get(doc, "records");
	assert_int_equal(json_array_size(recs), 2);
	r = json_array_get(recs, 0);
	if (strcmp(json_string_value(json_object_get(r, "id")), rid) != 0)
		r = json_array_get(recs, 1);
	assert_string_equal(json_string_value(json_object_get(r, "id")), rid);
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "phone")), "+15550100");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r, "data"), "city")), "Lyon");
	r = json_array_get(recs, r == json_array_get(recs, 0) ? 1 : 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r, "data"), "order")), 42);
	/* categories with purposes, lawful bases, recipients and retention */
	json_t *c0 = json_array_get(json_object_get(doc, "categories"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "id")), "contact");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(c0, "purposes"), 0), "lawful_basis")), "contract");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(c0, "retention"), 0), "duration")), "3 years");
	json_t *disc = json_object_get(json_object_get(doc, "disclosures"), "items");
	assert_int_equal(json_array_size(disc), 1);
	assert_true(json_is_true(json_object_get(json_array_get(disc, 0), "sharing")));
	json_t *ch = json_object_get(doc, "consent_history");
	assert_int_equal(json_array_size(ch), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(ch, 0), "action")), "objected");
	assert_int_equal(json_array_size(json_object_get(doc, "recipients")), 2);
	json_decref(doc);
	free(s);

	/* portability: only what the subject provided (source direct) */
	assert_int_equal(pv_package_json(f->v, &ADMIN, sid, PV_PACKAGE_PORTABILITY, &s, &len, &sum), 0);
	assert_int_equal(sum.records, 1);
	doc = json_loadb(s, len, 0, &err);
	assert_int_equal(json_array_size(json_object_get(doc, "records")), 1);
	assert_null(json_object_get(doc, "disclosures"));
	json_decref(doc);
	free(s);

	/* a subject without records: still a valid document, records [] */
	{
		char empty[PV_ID_LEN + 1];
		subject(f->v, "nil@example.com", empty);
		assert_int_equal(pv_package_json(f->v, &ADMIN, empty, PV_PACKAGE_ACCESS, &s, &len, &sum), 0);
		doc = json_loadb(s, len, 0, &err);
		assert_non_null(doc);
		assert_int_equal(json_array_size(json_object_get(doc, "records")), 0);
		assert_int_equal(sum.records, 0);
		json_decref(doc);
		free(s);
	}
	/* service callers may not build packages */
	assert_int_equal(pv_package_json(f->v, &SERVICE, sid, PV_PACKAGE_ACCESS, &s, &len, &sum), PV_EDENIED);
	assert_int_equal(audit_count(f->v, "package.write", sid, NULL), 2);
	verify_audit(f->v);
}

static void test_package_dir_html_escaped(void **state)
{
	fixture *f = *state;
	pv_package_summary sum;
	char sid[PV_ID_LEN + 1], dir[256], path[300], *html, *csv, *js;

	subject(f->v, "eve@example.com", sid);
	put(f->v, sid, "contact", "account", "direct",
	    "{\"bio\":\"<script>alert('x')</script> & \\\"q\\\"\",\"formula\":\"=1+2\"}", NULL);
	snprintf(dir, sizeof(dir), "%s/pkg", f->root);
	assert_int_equal(pv_package_write(f->v, &ADMIN, sid, PV_PACKAGE_ACCESS, dir, &sum), 0);
	assert_int_equal(sum.records, 1);
	snprintf(path, sizeof(path), "%s/index.html", dir);
	html = slurp(path);
	assert_null(strstr(html, "<script>"));
	assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"));
	assert_non_null(strstr(html, "Payments &lt;Inc&gt; &amp; Co"));
	assert_non_null(strstr(html, "Content-Security-Policy"));
	snprintf(path, sizeof(path), "%s/records.csv", dir);
	csv = slurp(path);
	assert_non_null(strstr(csv, "\"bio\",\"<script>alert('x')</script> & \"\"q\"\"\""));
	assert_non_null(strstr(csv, "\"formula\",\"'=1+2\""));
	snprintf(path, sizeof(path), "%s/package.json", dir);
	js = slurp(path);
	assert_non_null(strstr(js, "\"format\": \"privault-package/1\""));
	snprintf(path, sizeof(path), "%s/disclosures.csv", dir);
	assert_int_equal(access(path, F_OK), 0);
	free(html);
	free(csv);
	free(js);
	/* writing again into the same directory is refused and leaves the first package */
	assert_int_equal(pv_package_write(f->v, &ADMIN, sid, PV_PACKAGE_ACCESS, dir, &sum), PV_EEXISTS);
	snprintf(path, sizeof(path), "%s/package.json", dir);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_package_needs_dsr_purpose(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], hash[PV_HASH_HEX_LEN + 1], *s = NULL;

	subject(f->v, "dan@example.com", sid);
	assert_int_equal(pv_vault_policy_add(f->v, &ADMIN, OTHER_POLICY, hash), 0);
	assert_int_equal(pv_package_json(f->v, &ADMIN, sid, PV_PACKAGE_ACCESS, &s, NULL, NULL), PV_EPOLICY);
	assert_non_null(strstr(pv_error_last(), "data_subject_request"));
	assert_null(s);
}

/* ---- erasure ---- */

static const pv_erasure_item *item(const pv_erasure_report *r, const char *cat)
{
	for (size_t i = 0; i < r->nitems; i++)
		if (strcmp(r->items[i].category, cat) == 0)
			return &r->items[i];
	fail_msg("no item for %s", cat);
	return NULL;
}

static void test_erase_with_exceptions(void **state)
{
	fixture *f = *state;
	pv_erasure_report r;
	pv_outbox_entry *ob = NULL;
	pv_subject_info info;
	char sid[PV_ID_LEN + 1], other[PV_ID_LEN + 1], outcome[256];
	size_t n;

	subject(f->v, "fay@example.com", sid);
	subject(f->v, "gus@example.com", other);
	put(f->v, sid, "contact", "account", "direct", "{\"a\":1}", NULL);
	put(f->v, sid, "identifiers", "account", "direct", "{\"b\":1}", NULL);
	put(f->v, sid, "commercial", "order_fulfilment", "direct", "{\"invoice\":1}", NULL);
	put(f->v, sid, "commercial", "order_fulfilment", "direct", "{\"invoice\":2}", NULL);
	put(f->v, sid, "contributions", "publishing", NULL, "{\"patch\":\"x\"}", NULL);
	put(f->v, other, "contact", "account", "direct", "{\"a\":2}", NULL);

	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	assert_int_equal(r.full, 0);
	assert_int_equal(r.deleted, 2);
	assert_int_equal(r.kept, 3);
	assert_int_equal(r.nitems, 4);
	assert_int_equal(item(&r, "contact")->kept, 0);
	assert_null(item(&r, "contact")->kind);
	assert_int_equal(item(&r, "commercial")->records, 2);
	assert_int_equal(item(&r, "commercial")->kept, 2);
	assert_string_equal(item(&r, "commercial")->exception, "tax_records");
	assert_string_equal(item(&r, "commercial")->kind, "required_by_law");
	assert_string_equal(item(&r, "contributions")->exception, "contributions_kept");
	assert_string_equal(item(&r, "contributions")->kind, "published");
	assert_int_equal(r.notified, 1);
	pv_erasure_report_free(&r);

	assert_int_equal(subject_records(f->v, sid), 3);
	assert_int_equal(subject_records(f->v, other), 1);
	assert_int_equal(pv_subject_get(f->v, &ADMIN, sid, &info), 0);
	assert_int_equal(info.state, PV_SUBJECT_ACTIVE);
	assert_int_equal(audit_count(f->v, "fulfil.erase", sid, outcome), 1);
	assert_string_equal(outcome, "ok:deleted=2,kept=3,full=0");
	/* the recipient's notice is queued in the same transaction */
	assert_int_equal(pv_outbox_list(f->v, &ADMIN, PV_OUTBOX_PENDING, 0, &ob, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(ob[0].topic, "erasure_notice");
	assert_string_equal(ob[0].recipient, "payments");
	assert_string_equal(ob[0].subject_id, sid);
	free(ob);

	/* eight years later the tax exception has run out; a published contribution is still kept */
	pv_clock_set(T0 + 8 * 365 * DAY);
	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	assert_int_equal(r.full, 0);
	assert_int_equal(r.deleted, 2);
	assert_int_equal(item(&r, "commercial")->kept, 0);
	assert_int_equal(item(&r, "contributions")->kept, 1);
	pv_erasure_report_free(&r);
	assert_int_equal(subject_records(f->v, sid), 1);
	verify_audit(f->v);
}

static void test_erase_full_suppresses(void **state)
{
	fixture *f = *state;
	pv_erasure_report r;
	pv_record_list *l = NULL;
	pv_subject_info info;
	char sid[PV_ID_LEN + 1], path[300], again[PV_ID_LEN + 1], *j;
	uint8_t bi[PV_BLIND_INDEX_LEN];
	size_t n = 0;

	subject(f->v, "hal@example.com", sid);
	for (int i = 0; i < 5; i++)
		put(f->v, sid, "contact", "account", "direct", "{\"a\":1}", NULL);
	/* a disclosure and a pending email to the subject */
	{
		const char *cats[] = { "identifiers" };
		pv_disclosure_spec d = { "adnet", cats, 1, "account", 0, 0, 0 };
		pv_outbox_message m = { .channel = PV_OUTBOX_EMAIL, .destination = "hal@example.com",
					.topic = "verification_code", .subject_id = sid, .body = "12345678", .len = 8 };
		assert_ok(pv_disclosure_record(f->v, &ADMIN, sid, &d, NULL));
		assert_ok(pv_outbox_enqueue(f->v, &ADMIN, &m, NULL));
	}
	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	assert_int_equal(r.full, 1);
	assert_int_equal(r.deleted, 5);
	assert_int_equal(r.kept, 0);
	pv_erasure_report_free(&r);
	assert_int_equal(pv_subject_get(f->v, &ADMIN, sid, &info), 0);
	assert_int_equal(info.state, PV_SUBJECT_ERASED);
	/* crypto-shredded at once: the rows wait for the purge, unreadable */
	assert_int_equal(subject_records(f->v, sid), 5);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, NULL) < 0, 1);
	assert_int_equal(pv_fulfil_purge(f->v, &SERVICE, 0, &n), PV_EDENIED);
	assert_ok(pv_fulfil_purge(f->v, &ADMIN, 0, &n));
	assert_int_equal(n, 5);
	assert_int_equal(subject_records(f->v, sid), 0);
	assert_int_equal(audit_count(f->v, "fulfil.purge", sid, NULL), 1);
	assert_ok(pv_fulfil_purge(f->v, &ADMIN, 0, &n));
	assert_int_equal(n, 0);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "hal@example.com", again), PV_ENOTFOUND);
	/* hashed identifier suppressed, in the store and in the journal beside it */
	assert_int_equal(pv_blind_index(pv_vault_keyring(f->v), "email", "hal@example.com", bi), 0);
	assert_int_equal(pv_store_suppression_find(pv_vault_store(f->v), "email", bi), 0);
	snprintf(path, sizeof(path), "%s/suppression.journal", f->dir);
	j = slurp(path);
	assert_int_equal(strncmp(j, "v1 email ", 9), 0);
	assert_null(strstr(j, "hal@"));
	free(j);
	assert_int_equal(pv_fulfil_erase(f->v, &ADMIN, sid, &r), PV_EERASED);
	assert_int_equal(audit_count(f->v, "subject.erase", sid, NULL), 1);
	/* the ledger rows went with the subject; the pending email was given up, its payload wiped */
	{
		const char *cats[] = { "identifiers" };
		pv_disclosure_spec d = { "adnet", cats, 1, "account", 0, 0, 0 };
		pv_disclosure *dl = NULL;
		pv_outbox_entry *ob = NULL;
		size_t k = 0, failed = 0;
		assert_int_equal(pv_disclosure_list(f->v, &ADMIN, sid, 1, &dl, &k), 0);
		assert_int_equal(k, 0);
		free(dl);
		assert_int_equal(pv_disclosure_record(f->v, &ADMIN, sid, &d, NULL), PV_EERASED);
		assert_int_equal(pv_outbox_list(f->v, &ADMIN, PV_OUTBOX_FAILED, 0, &ob, &k), 0);
		for (size_t i = 0; i < k; i++)
			if (strcmp(ob[i].topic, "verification_code") == 0 && strcmp(ob[i].last_error, "erased") == 0)
				failed++;
		assert_int_equal(failed, 1);
		free(ob);
	}
	verify_audit(f->v);
}

static void test_erase_legal_hold(void **state)
{
	fixture *f = *state;
	pv_hold_spec h = { NULL, "contact", 0, 0, "litigation 2025-17" };
	pv_erasure_report r;
	char sid[PV_ID_LEN + 1], hid[PV_ID_LEN + 1];

	subject(f->v, "ida@example.com", sid);
	put(f->v, sid, "contact", "account", "direct", "{\"a\":1}", NULL);
	put(f->v, sid, "identifiers", "account", "direct", "{\"b\":1}", NULL);
	h.subject_id = sid;
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &h, hid), 0);
	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	assert_int_equal(r.full, 0);
	assert_int_equal(item(&r, "contact")->kept, 1);
	assert_string_equal(item(&r, "contact")->exception, "legal_hold");
	assert_int_equal(item(&r, "identifiers")->kept, 0);
	pv_erasure_report_free(&r);
	/* released: the next request erases the rest, fully */
	assert_int_equal(pv_hold_release(f->v, &ADMIN, hid), 0);
	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	assert_int_equal(r.full, 1);
	pv_erasure_report_free(&r);
}

/* ---- restriction, consent effects ---- */

static void test_restrict(void **state)
{
	fixture *f = *state;
	pv_record_list *l = NULL;
	pv_decision d;
	pv_fulfil_order o = { .type = PV_POLICY_REQ_RESTRICTION };
	pv_fulfil_result res;
	char sid[PV_ID_LEN + 1];

	subject(f->v, "jo@example.com", sid);
	put(f->v, sid, "contact", "account", "direct", "{\"a\":1}", NULL);
	o.subject_id = sid;
	assert_int_equal(pv_fulfil_run(f->v, &ADMIN, &o, &res), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_RESTRICTED);
	assert_int_equal(audit_count(f->v, "subject.restrict", sid, NULL), 1);
	assert_int_equal(pv_subject_restrict(f->v, &ADMIN, sid, 0), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	pv_record_list_free(l);
	assert_int_equal(audit_count(f->v, "subject.unrestrict", sid, NULL), 1);
	assert_int_equal(pv_subject_restrict(f->v, &ADMIN, "00000000-0000-4000-8000-000000000000", 1), PV_ENOTFOUND);
}

static void test_consent_effects(void **state)
{
	fixture *f = *state;
	pv_fulfil_order o = { .type = PV_POLICY_REQ_OBJECTION };
	pv_consent_event *ev = NULL;
	char sid[PV_ID_LEN + 1];
	size_t n;

	subject(f->v, "kim@example.com", sid);
	o.subject_id = sid;
	assert_int_equal(pv_fulfil_run(f->v, &ADMIN, &o, NULL), 0);
	assert_int_equal(pv_consent_history(f->v, &ADMIN, sid, NULL, &ev, &n), 0);
	assert_int_equal(n, 1);   /* publishing is the one legitimate-interests purpose */
	assert_string_equal(ev[0].purpose, "publishing");
	assert_int_equal(ev[0].action, PV_CONSENT_OBJECTED);
	assert_int_equal(ev[0].source, PV_CONSENT_SRC_REQUEST);
	pv_consent_events_free(ev, n);
	/* no sale or sharing purpose: an opt-out has nothing to apply to, said so */
	o.type = PV_POLICY_REQ_OPT_OUT;
	assert_int_equal(pv_fulfil_run(f->v, &ADMIN, &o, NULL), PV_EPOLICY);
	o.type = PV_POLICY_REQ_LIMIT_SENSITIVE;
	assert_int_equal(pv_fulfil_run(f->v, &ADMIN, &o, NULL), 0);
	o.type = PV_POLICY_REQ_WITHDRAW_CONSENT;
	o.purpose = "account";
	assert_int_equal(pv_fulfil_run(f->v, &ADMIN, &o, NULL), 0);
	assert_int_equal(pv_consent_history(f->v, &ADMIN, sid, NULL, &ev, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(ev[1].action, PV_CONSENT_LIMITED);
	assert_string_equal(ev[2].purpose, "account");
	assert_int_equal(ev[2].action, PV_CONSENT_WITHDRAWN);
	pv_consent_events_free(ev, n);
	o.purpose = "nope";
	assert_int_equal(pv_fulfil_run(f->v, &ADMIN, &o, NULL), PV_EINVAL);
}

/* ---- backup, erase, restore, replay ---- */

static void copy_file(const char *from, const char *to)
{
	char *cmd;

	assert_true(asprintf(&cmd, "cp '%s' '%s'", from, to) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void test_restore_does_not_resurrect(void **state)
{
	fixture *f = *state;
	pv_erasure_report r;
	pv_replay_report rep;
	pv_subject_info info;
	char sid[PV_ID_LEN + 1], keep[PV_ID_LEN + 1], db[256], backup[256], found[PV_ID_LEN + 1], outcome[256];

	subject(f->v, "lea@example.com", sid);
	subject(f->v, "max@example.com", keep);
	put(f->v, sid, "contact", "account", "direct", "{\"a\":1}", NULL);
	put(f->v, keep, "contact", "account", "direct", "{\"a\":2}", NULL);
	pv_vault_close(f->v);
	snprintf(db, sizeof(db), "%s/vault.db", f->dir);
	snprintf(backup, sizeof(backup), "%s/backup.db", f->root);
	copy_file(db, backup);   /* the old backup: lea is in it */
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	assert_int_equal(r.full, 1);
	pv_erasure_report_free(&r);
	pv_vault_close(f->v);
	f->v = NULL;

	assert_int_equal(pv_fulfil_restore(backup, f->dir, &ADMIN, &rep), 0);
	assert_int_equal(rep.lines, 1);
	assert_int_equal(rep.suppressed, 1);
	assert_int_equal(rep.reerased, 1);
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	assert_int_equal(pv_subject_get(f->v, &ADMIN, sid, &info), 0);
	assert_int_equal(info.state, PV_SUBJECT_ERASED);
	assert_int_equal(subject_records(f->v, sid), 0);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "lea@example.com", found), PV_ENOTFOUND);
	/* the other subject is untouched */
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "max@example.com", found), 0);
	assert_string_equal(found, keep);
	assert_int_equal(subject_records(f->v, keep), 1);
	assert_int_equal(audit_count(f->v, "suppression.replay", sid, outcome), 1);
	assert_string_equal(outcome, "ok:reerased");
	assert_int_equal(audit_count(f->v, "vault.restore", NULL, NULL), 1);
	/* a second replay finds nothing to do */
	assert_int_equal(pv_fulfil_replay_suppressions(f->v, &ADMIN, NULL, &rep), 0);
	assert_int_equal(rep.lines, 1);
	assert_int_equal(rep.suppressed + rep.reerased, 0);
	verify_audit(f->v);
}

static void test_journal_tampered(void **state)
{
	fixture *f = *state;
	pv_erasure_report r;
	pv_replay_report rep;
	char sid[PV_ID_LEN + 1], path[300], *j;
	FILE *fp;

	subject(f->v, "ned@example.com", sid);
	assert_ok(pv_fulfil_erase(f->v, &ADMIN, sid, &r));
	pv_erasure_report_free(&r);
	snprintf(path, sizeof(path), "%s/suppression.journal", f->dir);
	j = slurp(path);
	j[10] = j[10] == 'a' ? 'b' : 'a';   /* one hex digit of the blind index */
	fp = fopen(path, "w");
	fputs(j, fp);
	fclose(fp);
	free(j);
	assert_int_equal(pv_fulfil_replay_suppressions(f->v, &ADMIN, NULL, &rep), PV_ECRYPTO);
	assert_non_null(strstr(pv_error_last(), "line 1"));
	assert_int_equal(pv_fulfil_replay_suppressions(f->v, &SERVICE, NULL, &rep), PV_EDENIED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_disclosure_ledger, setup, teardown),
		cmocka_unit_test_setup_teardown(test_package_json_matches_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_package_dir_html_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_package_needs_dsr_purpose, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_with_exceptions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_full_suppresses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_legal_hold, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restrict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consent_effects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore_does_not_resurrect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_tampered, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
