/*
 * Unit tests of the consent ledger (src/consent/ledger*.c, receipt.c) and of
 * the consent rules of the access decision (src/vault/decide.c): state
 * derivation, withdrawal forward with history coverage, fresh consent after a
 * material change, opt-outs at once with administrative purposes exempt,
 * deadlines in business days, GPC conflicts, TCF/USP/GPP mapping, receipts,
 * exports, rebuild/verify and erasure.
 *
 * One vault for the whole suite (tests use fresh subjects), so the same file
 * runs on PostgreSQL: PRIVAULT_TEST_STORE=<url of an empty database>
 * (tests/pg/store_suite.sh). The test that changes the policy runs last.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "privault/privault.h"
#include "privault/consent.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define POLICY_N1 PV_SOURCE_ROOT "/tests/data/consent-policy.yaml"
#define POLICY_N2 PV_SOURCE_ROOT "/tests/data/consent-policy-n2.yaml"

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller AUDITOR = { "test-auditor", PV_ROLE_AUDITOR, NULL, 0 };

static char root[64];
static pv_vault *V;

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	pv_vault_options o = { getenv("PRIVAULT_TEST_STORE"), NULL, 0 };
	char dir[128];

	(void)state;
	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	snprintf(root, sizeof(root), "/tmp/pv-test-consent-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(dir, sizeof(dir), "%s/v", root);
	if (pv_vault_init(dir, POLICY_N1, &o) != 0 || pv_vault_open(&V, dir, &o) != 0) {
		fprintf(stderr, "vault: %s\n", pv_error_last());
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pv_vault_close(V);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	pv_clock_reset();
	return 0;
}

/* A new subject of `regime`. */
static void subject(const char *regime, char id[PV_ID_LEN + 1])
{
	pv_subject_spec s = { NULL, 0, regime, 0, 0 };
	assert_int_equal(pv_subject_create(V, &ADMIN, &s, id), 0);
}

static pv_reason decide(const char *sid, const char *category, const char *purpose)
{
	pv_decision d;
	assert_int_equal(pv_vault_decide(V, &ADMIN, sid, category, purpose, &d), 0);
	return d.reason;
}

static int rec(const char *sid, const char *purpose, pv_consent_action a, pv_consent_source src)
{
	pv_consent_context c = { src, NULL, NULL, "Mozilla/5.0 test", "203.0.113.77", 0 };
	return pv_consent_record_one(V, &ADMIN, sid, purpose, a, &c, NULL);
}

static pv_time T(const char *iso)
{
	pv_time t;
	assert_int_equal(pv_time_parse(&t, iso), 0);
	return t;
}

/* ---- refs and names ---------------------------------------------------------- */

static void test_refs(void **state)
{
	char out[PV_CONSENT_CLIENT_MAX + 1];
	pv_consent_action a;

	(void)state;
	assert_true(pv_consent_ref_valid("0f8fad5b-d9cb-469f-a165-70867728950e"));
	assert_true(pv_consent_ref_is_device("dev_abcdefghijklmnopqrstuvwxyz"));
	assert_true(pv_consent_ref_is_device("dev_234567abcdefghijklmnopqrst"));
	assert_false(pv_consent_ref_is_device("dev_abcdefghijklmnopqrstuvwxy"));    /* 25 characters */
	assert_false(pv_consent_ref_is_device("dev_ABCDEFGHIJKLMNOPQRSTUVWXYZ"));   /* upper case */
	assert_false(pv_consent_ref_is_device("dev_abcdefghijklmnopqrstuvwx18"));   /* 1 and 8 are not base32 */
	assert_false(pv_consent_ref_valid("someone@example.com"));
	assert_int_equal(pv_consent_client_truncate("203.0.113.77", out), 0);
	assert_string_equal(out, "203.0.113.0/24");
	assert_int_equal(pv_consent_client_truncate("2001:db8:1:2:3:4:5:6", out), 0);
	assert_string_equal(out, "2001:db8:1::/48");
	assert_int_equal(pv_consent_client_truncate("::ffff:198.51.100.9", out), 0);
	assert_string_equal(out, "198.51.100.0/24");
	assert_int_equal(pv_consent_client_truncate("nope", out), PV_EINVAL);
	assert_int_equal(pv_consent_action_parse(&a, "opted_out"), 0);
	assert_int_equal(a, PV_CONSENT_OPTED_OUT);
	assert_int_equal(pv_consent_action_parse(&a, "maybe"), PV_EINVAL);
	assert_string_equal(pv_reason_name(PV_REASON_CONSENT_WITHDRAWN), "consent_withdrawn");
	assert_string_equal(pv_reason_name(PV_REASON_OPTED_OUT), "opted_out");
}

/* ---- state, withdrawal forward, coverage from history, rebuild --------------------- */

static void test_withdraw_forward(void **state)
{
	char sid[PV_ID_LEN + 1];
	pv_consent_state *st = NULL;
	pv_consent_event *ev = NULL;
	pv_decision d;
	size_t n = 0, bad = 99;
	pv_consent_result r;
	pv_consent_context c = { PV_CONSENT_SRC_FORM, NULL, NULL, "UA/1", "198.51.100.20", 0 };

	(void)state;
	subject("gdpr", sid);
	pv_clock_set(T("2026-03-02T09:00:00Z"));
	/* newsletter: GDPR basis consent: nothing before a grant */
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_CONSENT_MISSING);
	pv_clock_set(T("2026-03-02T10:00:00Z"));
	assert_int_equal(pv_consent_record_one(V, &ADMIN, sid, "newsletter", PV_CONSENT_GRANTED, &c, &r), 0);
	assert_int_equal(r.events, 1);
	assert_int_equal(r.conflicts, 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);
	/* account is a contract purpose: no consent needed */
	assert_int_equal(decide(sid, "contact", "account"), PV_REASON_ALLOWED);

	pv_clock_set(T("2026-03-05T10:00:00Z"));
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_WITHDRAWN, PV_CONSENT_SRC_API), 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_CONSENT_WITHDRAWN);

	/* the history answers for the past: covered between grant and withdrawal, not before or after */
	assert_int_equal(pv_consent_covered(V, &ADMIN, sid, "contact", "newsletter", T("2026-03-03T00:00:00Z"), &d), 0);
	assert_int_equal(d.allow, 1);
	assert_int_equal(pv_consent_covered(V, &ADMIN, sid, "contact", "newsletter", T("2026-03-02T09:59:59Z"), &d), 0);
	assert_int_equal(d.reason, PV_REASON_CONSENT_MISSING);
	assert_int_equal(pv_consent_covered(V, &ADMIN, sid, "contact", "newsletter", T("2026-03-06T00:00:00Z"), &d), 0);
	assert_int_equal(d.reason, PV_REASON_CONSENT_WITHDRAWN);

	/* derived state */
	assert_int_equal(pv_consent_state_list(V, &ADMIN, sid, &st, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(st[0].purpose, "newsletter");
	assert_int_equal(st[0].consent, PV_CONSENT_IS_WITHDRAWN);
	assert_int_equal(st[0].consent_at, T("2026-03-05T10:00:00Z"));
	assert_int_equal(st[0].last_seq, 2);
	free(st);

	/* history with its proof */
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, NULL, &ev, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].action, PV_CONSENT_GRANTED);
	assert_int_equal(ev[0].source, PV_CONSENT_SRC_FORM);
	assert_int_equal(ev[0].has_mechanism, 1);
	assert_int_equal(ev[0].mechanism, PV_CONSENT_OPT_IN);
	assert_string_equal(ev[0].notice_version, "n1");
	assert_string_equal(ev[0].policy_version, pv_policy_hash(pv_vault_policy(V)));
	assert_string_equal(ev[0].client, "198.51.100.0/24");
	assert_int_equal(strlen(ev[0].ua_hash), 64);
	assert_string_equal(ev[0].receipt_id, r.receipt_id);
	assert_null(ev[0].signal);
	assert_int_equal(ev[1].action, PV_CONSENT_WITHDRAWN);
	assert_int_equal(ev[1].seq, 2);
	pv_consent_events_free(ev, n);

	/* the derived table agrees with the events; a damaged row is found and rebuilt */
	assert_int_equal(pv_consent_rebuild(V, &ADMIN, sid, 1, &bad), 0);
	assert_int_equal(bad, 0);
	{
		static const char sql[] = "UPDATE consent_state SET consent = 1 WHERE subject_id = ?";
		pv_store_value p[1] = { pv_sv_text(sid) };
		assert_int_equal(pv_store_exec(pv_vault_store(V), "test", sql, p, 1, NULL), 0);
	}
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);   /* the damage shows */
	assert_int_equal(pv_consent_rebuild(V, &ADMIN, NULL, 1, &bad), 0);
	assert_int_equal(bad, 1);
	assert_int_equal(pv_consent_rebuild(V, &ADMIN, NULL, 0, NULL), 0);
	assert_int_equal(pv_consent_rebuild(V, &ADMIN, sid, 1, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_CONSENT_WITHDRAWN);   /* repaired */
	/* auditors neither write nor read a subject's ledger */
	assert_int_equal(pv_consent_record_one(V, &AUDITOR, sid, "newsletter", PV_CONSENT_GRANTED, NULL, NULL), PV_EDENIED);
	assert_int_equal(pv_consent_history(V, &AUDITOR, sid, NULL, &ev, &n), PV_EDENIED);
	/* refused is not a grant either */
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_REFUSED, PV_CONSENT_SRC_BANNER), 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_CONSENT_REFUSED);
}

/* Bad input: nothing half-written. */
static void test_bad_input(void **state)
{
	char sid[PV_ID_LEN + 1];
	pv_consent_item items[2] = { { "newsletter", 0, PV_CONSENT_GRANTED }, { "nope", 0, PV_CONSENT_GRANTED } };
	pv_consent_event *ev = NULL;
	size_t n = 7;

	(void)state;
	subject("gdpr", sid);
	assert_int_equal(pv_consent_record(V, &ADMIN, sid, items, 2, NULL, NULL), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "items[1].purpose"));
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, NULL, &ev, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rec("not-a-ref", "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_API), PV_EINVAL);
	assert_int_equal(rec("0f8fad5b-d9cb-469f-a165-70867728950e", "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_API),
			 PV_ENOTFOUND);
	{
		pv_consent_context c = { PV_CONSENT_SRC_API, NULL, NULL, NULL, "300.1.2.3", 0 };
		assert_int_equal(pv_consent_record_one(V, &ADMIN, sid, "newsletter", PV_CONSENT_GRANTED, &c, NULL), PV_EINVAL);
	}
}

/* ---- opt-outs, administrative purposes, deadlines ----------------------------------- */

static void test_opt_out_and_deadlines(void **state)
{
	char sid[PV_ID_LEN + 1];
	pv_consent_deadline *dl = NULL;
	pv_consent_event *ev = NULL;
	pv_consent_result r;
	size_t n = 0, mine = 0;
	char due_ads[32] = "", due_news[32] = "", news_event[PV_ID_LEN + 1] = "";

	(void)state;
	subject("ccpa", sid);
	pv_clock_set(T("2026-12-18T10:00:00Z"));   /* a Friday; 2026-12-25 is a holiday of the policy */
	/* CCPA: ads (commercial purpose, sale) is allowed until an opt-out; so is the newsletter */
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_ALLOWED);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);
	assert_int_equal(decide(sid, "contact", "service_messages"), PV_REASON_ALLOWED);

	assert_int_equal(pv_consent_record_one(V, &ADMIN, sid, "ads", PV_CONSENT_OPTED_OUT, NULL, &r), 0);
	assert_int_equal(r.deadlines, 1);
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_OPTED_OUT);   /* at once */
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_OPTED_OUT, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_OPTED_OUT);
	/* administrative messages stay allowed, even when an opt-out names them */
	assert_int_equal(rec(sid, "service_messages", PV_CONSENT_OPTED_OUT, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(decide(sid, "contact", "service_messages"), PV_REASON_ALLOWED);

	assert_int_equal(pv_consent_deadlines(V, &ADMIN, PV_CONSENT_DEADLINES_PENDING, &dl, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(dl[i].subject, sid) != 0)
			continue;
		mine++;
		if (strcmp(dl[i].purpose, "ads") == 0)
			pv_time_format(dl[i].due, due_ads, sizeof(due_ads));
		if (strcmp(dl[i].purpose, "newsletter") == 0) {
			pv_time_format(dl[i].due, due_news, sizeof(due_news));
			memcpy(news_event, dl[i].event_id, sizeof(news_event));
		}
	}
	free(dl);
	assert_int_equal(mine, 2);   /* service_messages has no window */
	assert_string_equal(due_ads, "2026-12-28T10:00:00Z");    /* "10 days" */
	/* "10 business days": Dec 21-24, 28-31, Jan 1, Jan 4 (the 25th is a holiday) */
	assert_string_equal(due_news, "2027-01-04T10:00:00Z");

	pv_clock_set(T("2026-12-30T00:00:00Z"));   /* the ads deadline passed */
	assert_int_equal(pv_consent_deadlines(V, &ADMIN, PV_CONSENT_DEADLINES_OVERDUE, &dl, &n), 0);
	mine = 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(dl[i].subject, sid) == 0) {
			mine++;
			assert_string_equal(dl[i].purpose, "ads");
			assert_int_equal(dl[i].overdue, 1);
		}
	free(dl);
	assert_int_equal(mine, 1);
	assert_int_equal(pv_consent_deadline_done(V, &ADMIN, news_event), 0);
	assert_int_equal(pv_consent_deadline_done(V, &ADMIN, news_event), PV_ENOTFOUND);
	assert_int_equal(pv_consent_deadlines(V, &ADMIN, PV_CONSENT_DEADLINES_PENDING, &dl, &n), 0);
	for (size_t i = 0; i < n; i++)
		assert_string_not_equal(dl[i].subject, sid);
	free(dl);

	/* an explicit opt-in lifts an opt-out that did not come from GPC */
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_OPTED_IN, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, "newsletter", &ev, &n), 0);
	assert_int_equal(n, 2);
	pv_consent_events_free(ev, n);
}

/* ---- GPC: opt-outs of sale/sharing, conflicts recorded, GPC wins ------------------------ */

static void test_gpc_conflict(void **state)
{
	char sid[PV_ID_LEN + 1];
	pv_consent_event *ev = NULL;
	pv_consent_state *st = NULL;
	pv_consent_result r;
	size_t n = 0;
	int seen_adv = 0;

	(void)state;
	subject("ccpa", sid);
	pv_clock_set(T("2026-04-01T12:00:00Z"));
	assert_int_equal(pv_consent_gpc(V, &ADMIN, sid, NULL, &r), 0);
	assert_int_equal(r.events, 2);   /* ads (sale, sharing) and the cookie class advertising */
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_OPTED_OUT);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);   /* neither sale nor sharing */

	/* an explicit opt-in under GPC: recorded as a conflict, the opt-out stays */
	assert_int_equal(pv_consent_record_one(V, &ADMIN, sid, "ads", PV_CONSENT_OPTED_IN, NULL, &r), 0);
	assert_int_equal(r.conflicts, 1);
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_OPTED_OUT);
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, "ads", &ev, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(ev[0].source, PV_CONSENT_SRC_GPC);
	assert_int_equal(ev[0].conflict, 0);
	assert_int_equal(ev[1].action, PV_CONSENT_OPTED_IN);
	assert_int_equal(ev[1].conflict, 1);
	assert_string_equal(ev[1].conflict_reason, "gpc");
	pv_consent_events_free(ev, n);

	assert_int_equal(pv_consent_state_list(V, &ADMIN, sid, &st, &n), 0);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(st[i].purpose, "advertising") == 0)
			seen_adv = st[i].opted_out && st[i].gpc;
		if (strcmp(st[i].purpose, "ads") == 0) {
			assert_int_equal(st[i].opted_out, 1);
			assert_int_equal(st[i].gpc, 1);
		}
	}
	free(st);
	assert_true(seen_adv);

	/* a banner choice arriving with Sec-GPC: 1: GPC first, then the choice, in one receipt */
	{
		char dev[] = "dev_abcdefghijklmnopqrstuvwxyz234567";
		pv_consent_item items[2] = { { "analytics", 0, PV_CONSENT_GRANTED }, { "advertising", 0, PV_CONSENT_GRANTED } };
		pv_consent_context c = { PV_CONSENT_SRC_BANNER, NULL, NULL, "UA", "192.0.2.55", 1 };
		assert_int_equal(pv_consent_record(V, &ADMIN, dev, items, 2, &c, &r), 0);
		assert_int_equal(r.events, 4);
		assert_int_equal(r.conflicts, 1);   /* advertising granted under GPC */
		assert_int_equal(pv_consent_history(V, &ADMIN, dev, NULL, &ev, &n), 0);
		assert_int_equal(n, 4);
		for (size_t i = 0; i < n; i++)
			assert_string_equal(ev[i].receipt_id, r.receipt_id);
		assert_int_equal(ev[3].conflict, 1);
		assert_string_equal(ev[3].purpose, "advertising");
		assert_string_equal(ev[3].client, "192.0.2.0/24");
		pv_consent_events_free(ev, n);
	}
}

/* ---- signals ------------------------------------------------------------------------------ */

static void test_signals(void **state)
{
	static const char tc[] = "CP3tAUAP3tAUAACAAAENAAAAAMAAAAAAAAAAF5wAQF5gAAAA.IF5wAQF5gAAA";
	static const char gpp[] = "DBABzw~1YY-~CUAQGGGGGmCA.YA";
	char sid[PV_ID_LEN + 1], dev[] = "dev_tcfvisitorabcdefghijklmnop";
	pv_consent_event *ev = NULL;
	pv_consent_result r;
	size_t n = 0, vend = 0, p1 = 0, p3 = 0;

	(void)state;
	pv_clock_set(T("2026-05-01T08:00:00Z"));
	assert_int_equal(pv_consent_record_tcf(V, &ADMIN, dev, tc, strlen(tc), NULL, &r), 0);
	assert_int_equal(r.events, 21);   /* as pv_tcf_events lists them (privault consent tcf decode --events) */
	assert_int_equal(pv_consent_history(V, &ADMIN, dev, NULL, &ev, &n), 0);
	assert_int_equal(n, 21);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ev[i].source, PV_CONSENT_SRC_TCF);
		assert_non_null(ev[i].signal);
		assert_string_equal(ev[i].signal, tc);   /* the exact string, kept once per receipt */
		if (strcmp(ev[i].purpose, "tcf-vendor") == 0 && ev[i].vendor == 755 && ev[i].action == PV_CONSENT_GRANTED)
			vend++;
		if (strcmp(ev[i].purpose, "tcf:1") == 0 && ev[i].action == PV_CONSENT_GRANTED)
			p1++;
		if (strcmp(ev[i].purpose, "tcf:3") == 0 && ev[i].action == PV_CONSENT_REFUSED)
			p3++;
	}
	pv_consent_events_free(ev, n);
	assert_int_equal(vend, 1);
	assert_int_equal(p1, 1);
	assert_int_equal(p3, 1);
	assert_int_equal(pv_consent_record_tcf(V, &ADMIN, dev, "COtybn4PA_zT4KjA", 16, NULL, &r), PV_EINVAL);

	/* US Privacy: opt-out of sale */
	subject("ccpa", sid);
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "1YYN", 4, NULL, &r), 0);
	assert_int_equal(r.events, 2);   /* ads (a sale and sharing purpose) and advertising */
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_OPTED_OUT);
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "1YNN", 4, NULL, &r), 0);
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_ALLOWED);
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "1Y-N", 4, NULL, &r), 0);
	assert_int_equal(r.events, 0);   /* not applicable: nothing */
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "2YYN", 4, NULL, &r), PV_EINVAL);

	/* GPP: usnat sale opt-out with its Gpc bit, uspv1 opt-out */
	subject("ccpa", sid);
	assert_int_equal(pv_consent_record_gpp(V, &ADMIN, sid, gpp, strlen(gpp), NULL, &r), 0);
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_OPTED_OUT);
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, "ads", &ev, &n), 0);
	assert_true(n >= 2);
	assert_int_equal(ev[0].source, PV_CONSENT_SRC_GPC);   /* the Gpc bit's opt-outs come first */
	assert_int_equal(ev[n - 1].source, PV_CONSENT_SRC_GPP);
	assert_string_equal(ev[n - 1].signal, gpp);
	pv_consent_events_free(ev, n);
	{
		pv_consent_state *st = NULL;
		assert_int_equal(pv_consent_state_list(V, &ADMIN, sid, &st, &n), 0);
		for (size_t i = 0; i < n; i++)
			if (strcmp(st[i].purpose, "ads") == 0)
				assert_int_equal(st[i].gpc, 1);
		free(st);
	}
}

/* ---- objection, limitation of sensitive PI -------------------------------------------------- */

static void test_objection_limit(void **state)
{
	char sid[PV_ID_LEN + 1];

	(void)state;
	subject("gdpr", sid);
	assert_int_equal(decide(sid, "health", "research"), PV_REASON_ALLOWED);
	assert_int_equal(rec(sid, "*", PV_CONSENT_LIMITED, PV_CONSENT_SRC_REQUEST), 0);
	assert_int_equal(decide(sid, "health", "research"), PV_REASON_SENSITIVE_LIMITED);
	assert_int_equal(decide(sid, "usage", "research"), PV_REASON_ALLOWED);    /* not sensitive */
	assert_int_equal(decide(sid, "health", "account"), PV_REASON_ALLOWED);    /* contract: necessary */
	assert_int_equal(rec(sid, "research", PV_CONSENT_OBJECTED, PV_CONSENT_SRC_REQUEST), 0);
	assert_int_equal(decide(sid, "usage", "research"), PV_REASON_OBJECTED);
	assert_int_equal(rec(sid, "*", PV_CONSENT_GRANTED, PV_CONSENT_SRC_API), PV_EINVAL);   /* "*" only limits */
}

/* ---- the pure decision with a view -------------------------------------------------------- */

static void test_pure_decide(void **state)
{
	char sid[PV_ID_LEN + 1];
	pv_consent_view *view = NULL;
	pv_subject_info s;
	pv_decision d;

	(void)state;
	subject("gdpr", sid);
	assert_int_equal(pv_subject_get(V, &ADMIN, sid, &s), 0);
	s.consent = NULL;
	assert_int_equal(pv_access_decide(pv_vault_policy(V), &ADMIN, &s, "contact", "newsletter", &d), 0);
	assert_int_equal(d.reason, PV_REASON_CONSENT_MISSING);
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_API), 0);
	assert_int_equal(pv_consent_view_load(V, sid, &view), 0);
	assert_int_equal(pv_consent_view_count(view), 1);
	s.consent = view;
	assert_int_equal(pv_access_decide(pv_vault_policy(V), &ADMIN, &s, "contact", "newsletter", &d), 0);
	assert_int_equal(d.allow, 1);
	/* the grant of a GDPR subject does not make a CCPA-only opt-out matter, nor the reverse */
	assert_int_equal(pv_access_decide(pv_vault_policy(V), &ADMIN, &s, "usage", "ads", &d), 0);
	assert_int_equal(d.reason, PV_REASON_CONSENT_MISSING);   /* ads: GDPR basis consent */
	pv_consent_view_free(view);
}

/* ---- receipts and exports ------------------------------------------------------------------ */

typedef struct {
	char buf[1 << 16];
	size_t n;
} sink;

static int sink_write(const char *b, size_t len, void *payload)
{
	sink *s = payload;
	if (s->n + len >= sizeof(s->buf))
		return -1;
	memcpy(s->buf + s->n, b, len);
	s->n += len;
	s->buf[s->n] = 0;
	return 0;
}

static void test_receipt_export(void **state)
{
	char sid[PV_ID_LEN + 1], *json = NULL, *csv = NULL;
	static sink s;
	size_t count = 0;
	pv_consent_result r;

	(void)state;
	subject("gdpr", sid);
	pv_clock_set(T("2031-07-01T10:00:00Z"));   /* a range no other test writes in */
	assert_int_equal(pv_consent_record_one(V, &ADMIN, sid, "newsletter", PV_CONSENT_GRANTED, NULL, &r), 0);
	pv_clock_set(T("2031-07-02T10:00:00Z"));
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "1YYN", 4, NULL, NULL), 0);
	pv_clock_set(T("2031-07-03T10:00:00Z"));
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_WITHDRAWN, PV_CONSENT_SRC_API), 0);

	assert_int_equal(pv_consent_receipt_json(V, &ADMIN, sid, &json), 0);
	assert_non_null(strstr(json, "\"version\": \"KI-CR-v1.1.0\""));
	assert_non_null(strstr(json, "\"jurisdiction\": \"EU\""));
	assert_non_null(strstr(json, "\"consentTimestamp\": "));
	assert_non_null(strstr(json, "\"collectionMethod\": \"api\""));
	assert_non_null(strstr(json, "\"consentReceiptID\": \""));
	assert_non_null(strstr(json, "\"piiController\": \"Example Shop\""));
	assert_non_null(strstr(json, "\"policyUrl\": \"https://shop.example.com/privacy\""));
	assert_non_null(strstr(json, "\"purposeId\": \"newsletter\""));
	assert_non_null(strstr(json, "\"consentType\": \"EXPLICIT\""));
	assert_non_null(strstr(json, "\"purposeCategory\": [\n"));
	assert_non_null(strstr(json, "\"thirdPartyName\": [\n            \"Ad Network Inc.\""));
	assert_non_null(strstr(json, "\"state\": \"withdrawn\""));
	assert_non_null(strstr(json, "\"signal\": \"1YYN\""));
	assert_non_null(strstr(json, "\"spiCat\": [\n    \"health\""));
	free(json);

	assert_int_equal(pv_consent_receipt_csv(V, &ADMIN, sid, &csv), 0);
	assert_int_equal(strncmp(csv, "id,receipt_id,subject,seq,at,purpose,vendor,action,", 51), 0);
	assert_non_null(strstr(csv, ",2031-07-03T10:00:00Z,newsletter,0,withdrawn,opt_in,api,n1,"));
	free(csv);

	/* the regulators' export: [from, to) */
	s.n = 0;
	assert_int_equal(pv_consent_export(V, &AUDITOR, T("2031-07-02T00:00:00Z"), T("2031-07-03T10:00:00Z"),
					   PV_CONSENT_EXPORT_JSONL, sink_write, &s, &count), 0);
	assert_int_equal(count, 2);   /* the USP string's two opt-outs; the grant and withdrawal are outside */
	assert_non_null(strstr(s.buf, "\"action\":\"opted_out\""));
	assert_null(strstr(s.buf, "withdrawn"));
	assert_non_null(strstr(s.buf, "\"signal\":\"1YYN\""));
	s.n = 0;
	assert_int_equal(pv_consent_export(V, &ADMIN, T("2031-07-01T00:00:00Z"), T("2031-08-01T00:00:00Z"),
					   PV_CONSENT_EXPORT_CSV, sink_write, &s, &count), 0);
	assert_int_equal(count, 4);
	{
		size_t lines = 0;
		for (size_t i = 0; i < s.n; i++)
			lines += s.buf[i] == '\n';
		assert_int_equal(lines, 5);   /* header and four events */
	}
	{
		static const pv_caller svc = { "svc", PV_ROLE_SERVICE, NULL, 0 };
		assert_int_equal(pv_consent_export(V, &svc, 0, 1, PV_CONSENT_EXPORT_CSV, sink_write, &s, NULL), PV_EDENIED);
	}
}

/* ---- erasure -------------------------------------------------------------------------------- */

static void test_erase(void **state)
{
	char sid[PV_ID_LEN + 1];
	pv_consent_event *ev = NULL;
	pv_consent_state *st = NULL;
	size_t n = 0, removed = 0;

	(void)state;
	subject("ccpa", sid);
	assert_int_equal(rec(sid, "ads", PV_CONSENT_OPTED_OUT, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "1YYN", 4, NULL, NULL), 0);
	assert_int_equal(pv_consent_erase(V, &ADMIN, sid, &removed), 0);
	assert_int_equal(removed, 3);
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, NULL, &ev, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pv_consent_state_list(V, &ADMIN, sid, &st, &n), 0);
	assert_int_equal(n, 0);

	/* erasing the subject removes its consent rows in the same transaction */
	subject("gdpr", sid);
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(pv_consent_record_usp(V, &ADMIN, sid, "1YYN", 4, NULL, NULL), 0);
	assert_int_equal(pv_subject_erase(V, &ADMIN, sid), 0);
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, NULL, &ev, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(pv_consent_state_list(V, &ADMIN, sid, &st, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_FORM), PV_EERASED);
}

/* ---- fresh consent after a material change (runs last: it changes the policy) ----------------- */

static void test_fresh_consent(void **state)
{
	char sid[PV_ID_LEN + 1], hash[PV_HASH_HEX_LEN + 1];
	pv_consent_event *ev = NULL;
	size_t n = 0;

	(void)state;
	subject("gdpr", sid);
	pv_clock_set(T("2026-06-01T10:00:00Z"));
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(rec(sid, "ads", PV_CONSENT_GRANTED, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);
	/* notice n2: a material change; the newsletter asks for fresh consent, ads does not */
	assert_int_equal(pv_vault_policy_add(V, &ADMIN, POLICY_N2, hash), 0);
	assert_string_equal(pv_policy_version_label(pv_vault_policy(V)), "n2");
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_CONSENT_STALE);
	assert_int_equal(decide(sid, "usage", "ads"), PV_REASON_ALLOWED);
	pv_clock_set(T("2026-06-02T10:00:00Z"));
	assert_int_equal(rec(sid, "newsletter", PV_CONSENT_GRANTED, PV_CONSENT_SRC_FORM), 0);
	assert_int_equal(decide(sid, "contact", "newsletter"), PV_REASON_ALLOWED);
	assert_int_equal(pv_consent_history(V, &ADMIN, sid, "newsletter", &ev, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].notice_version, "n1");
	assert_string_equal(ev[1].notice_version, "n2");
	assert_string_equal(ev[1].policy_version, hash);
	pv_consent_events_free(ev, n);
	/* history: between the change and the new grant, processing was not covered (stale: the n1
	 * grant against n2, the policy in force then); after the new grant it was */
	{
		pv_decision d;
		assert_int_equal(pv_consent_covered(V, &ADMIN, sid, "contact", "newsletter", T("2026-06-01T12:00:00Z"), &d), 0);
		assert_int_equal(d.reason, PV_REASON_CONSENT_STALE);
		assert_int_equal(pv_consent_covered(V, &ADMIN, sid, "contact", "newsletter", T("2026-06-03T00:00:00Z"), &d), 0);
		assert_int_equal(d.allow, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_withdraw_forward),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_opt_out_and_deadlines),
		cmocka_unit_test(test_gpc_conflict),
		cmocka_unit_test(test_signals),
		cmocka_unit_test(test_objection_limit),
		cmocka_unit_test(test_pure_decide),
		cmocka_unit_test(test_receipt_export),
		cmocka_unit_test(test_erase),
		cmocka_unit_test(test_fresh_consent),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
