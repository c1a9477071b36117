/*
 * Data-subject request tests (issue 6, requests part): intake by subject,
 * agent and parent; unknown identities accepted like known ones; one-time
 * codes through the outbox (file sink): wrong, expired, exhausted, resent,
 * single use; verification levels none/basic/standard/strong; the state
 * machine and its history and audit (no personal data); CCPA quota refusal
 * with the date it becomes possible; excessive requests refused or charged;
 * one extension with notice, only before the deadline; overdue and nearly-due
 * lists; expiry of unverified requests; the CCPA report.
 * Each test gets a fresh vault initialized with tests/data/rights-policy.yaml.
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
#include "privault/outbox.h"
#include "privault/rights.h"
#include "vault/vault_internal.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/rights-policy.yaml"
#define DAY 86400

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller SERVICE = { "test-service", PV_ROLE_SERVICE, NULL, 0 };
static const pv_caller AUDITOR = { "test-auditor", PV_ROLE_AUDITOR, NULL, 0 };

/* 2025-03-10T12:00:00Z (a Monday) */
static const pv_time T0 = 1741608000;

typedef struct {
	char root[64];
	char dir[128];
	char mail[160];
	pv_vault *v;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	pv_test_vault_setup(f->root, f->dir, &f->v, POLICY, "rights", T0);
	snprintf(f->mail, sizeof(f->mail), "%s/mail.txt", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	pv_test_vault_teardown(f->root, f->v);
	free(f);
	return 0;
}

/* A subject with an email (and a login), regime and birth year. */
static void subject(fixture *f, const char *email, const char *login, const char *regime, int birth_year,
		    char id[PV_ID_LEN + 1])
{
	pv_identifier ids[2] = { { "email", email }, { "login", login } };
	pv_subject_spec s = { ids, login ? 2 : 1, regime, birth_year, 0 };

	assert_int_equal(pv_subject_create(f->v, &ADMIN, &s, id), 0);
}

static int submit(fixture *f, pv_policy_request type, const char *email, const char *regime, pv_request *out)
{
	pv_request_spec s;

	memset(&s, 0, sizeof(s));
	s.type = type;
	s.id_kind = "email";
	s.id_value = email;
	s.regime = regime;
	int rc = pv_request_submit(f->v, &SERVICE, &s, out);
	if (rc < 0)
		print_message("submit: %s\n", pv_error_last());
	return rc;
}

/* Deliver the outbox to the mail file and return the last code sent for request id. */
static void last_code(fixture *f, const char *id, char code[PV_REQUEST_CODE_LEN + 1])
{
	pv_outbox_config cfg;
	pv_outbox_report rep;
	char buf[65536], key[128], *p, *last = NULL;
	size_t n;
	FILE *fp;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mail = NULL;
	char spec[200];
	snprintf(spec, sizeof(spec), "file:%s", f->mail);
	cfg.mail = spec;
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, 0, 0, &cfg, &rep), 0);
	fp = fopen(f->mail, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	snprintf(key, sizeof(key), "request %s is: ", id);
	for (p = strstr(buf, key); p; p = strstr(p + 1, key))
		last = p;
	assert_non_null(last);
	memcpy(code, last + strlen(key), PV_REQUEST_CODE_LEN);
	code[PV_REQUEST_CODE_LEN] = '\0';
	assert_int_equal(strspn(code, "0123456789"), PV_REQUEST_CODE_LEN);
}

typedef struct {
	const char *needle;
	size_t hits, entries;
	size_t count_action;
	const char *action;
} audit_scan;

static int scan_cb(const pv_audit_entry *e, void *payload)
{
	audit_scan *s = payload;

	s->entries++;
	if (strstr(e->outcome, s->needle) || strstr(e->actor, s->needle) || strstr(e->subject_id, s->needle))
		s->hits++;
	if (s->action && strcmp(e->action, s->action) == 0)
		s->count_action++;
	return 0;
}

static size_t audit_actions(fixture *f, const char *action, const char *needle, size_t *hits)
{
	audit_scan s = { needle ? needle : "\x01", 0, 0, 0, action };

	assert_int_equal(pv_audit_list(f->v, 1, 0, scan_cb, &s), 0);
	if (hits)
		*hits = s.hits;
	return s.count_action;
}

/* ---- tests ----------------------------------------------------------- */

/* Access under GDPR: verifying, code by mail, wrong code counted, right code verifies; history and audit. */
static void test_access_basic_code(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], code[9], wrong[16];
	pv_request r, g;
	pv_request_event *h;
	size_t nh, hits;

	subject(f, "ann@example.com", NULL, NULL, 0, sid);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "Ann@Example.com", NULL, &r), 0);
	assert_int_equal(r.state, PV_REQ_VERIFYING);
	assert_string_equal(r.subject_id, sid);
	assert_int_equal(r.regime, PV_REGIME_GDPR);
	assert_int_equal(r.needed, PV_VERIFY_BASIC);
	/* received Monday 2025-03-10 12:00 -> one month: Thursday 2025-04-10, end of day */
	assert_int_equal(r.due_at, 1744243200 + DAY - 1);
	assert_int_equal(r.ack_due, 0);
	last_code(f, r.id, code);
	snprintf(wrong, sizeof(wrong), "%08d", (atoi(code) + 1) % 100000000);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, wrong, NULL, NULL), PV_EDENIED);
	assert_non_null(strstr(pv_error_last(), "1 of 5"));
	assert_null(strstr(pv_error_last(), wrong));
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, "12ab", NULL, NULL), PV_EINVAL);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), 0);
	assert_int_equal(pv_request_get(f->v, &AUDITOR, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_VERIFIED);
	assert_int_equal(g.reached, PV_VERIFY_BASIC);
	/* single use */
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), PV_EINVAL);
	assert_int_equal(pv_request_history(f->v, &AUDITOR, r.id, &h, &nh), 0);
	/* received, verifying, code_sent, code_failed, verified */
	assert_int_equal(nh, 5);
	assert_int_equal(h[0].to, PV_REQ_RECEIVED);
	assert_int_equal(h[1].to, PV_REQ_VERIFYING);
	assert_int_equal(h[4].from, PV_REQ_VERIFYING);
	assert_int_equal(h[4].to, PV_REQ_VERIFIED);
	assert_string_equal(h[4].reason, "code_verified");
	free(h);
	assert_int_equal(audit_actions(f, "request.verified", "example.com", &hits), 1);
	assert_int_equal(hits, 0);
	assert_int_equal(audit_actions(f, "request.code_failed", code, &hits), 1);
	assert_int_equal(hits, 0);
	/* auditors may not change requests */
	assert_int_equal(pv_request_transition(f->v, &AUDITOR, r.id, PV_REQ_IN_PROGRESS, NULL), PV_EDENIED);
}

/* Expired code, exhausted attempts, resend to the intake address only. */
static void test_code_expiry_attempts(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], code[9], wrong[16];
	pv_request r, g;

	subject(f, "bob@example.com", NULL, NULL, 0, sid);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "bob@example.com", NULL, &r), 0);
	last_code(f, r.id, code);
	pv_clock_set(T0 + PV_REQUEST_CODE_TTL + 1);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), PV_EDENIED);
	assert_non_null(strstr(pv_error_last(), "expired"));
	assert_int_equal(pv_request_code_send(f->v, &SERVICE, r.id, "email", "mallory@example.com"), PV_EDENIED);
	assert_int_equal(pv_request_code_send(f->v, &SERVICE, r.id, "email", "BOB@example.com"), 0);
	last_code(f, r.id, code);
	snprintf(wrong, sizeof(wrong), "%08d", (atoi(code) + 7) % 100000000);
	for (int i = 0; i < PV_REQUEST_CODE_ATTEMPTS; i++)
		assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, wrong, NULL, NULL), PV_EDENIED);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), PV_EDENIED);
	assert_non_null(strstr(pv_error_last(), "too many"));
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_VERIFYING);
	assert_int_equal(pv_request_code_send(f->v, &SERVICE, r.id, "email", "bob@example.com"), 0);
	last_code(f, r.id, code);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), 0);
}

/* Unknown identity: same answer as a known one; verified with the code, nothing to count. */
static void test_unknown_identity(void **state)
{
	fixture *f = *state;
	char code[9];
	pv_request r, g;

	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "nobody@example.com", NULL, &r), 0);
	assert_int_equal(r.state, PV_REQ_VERIFYING);
	assert_string_equal(r.subject_id, "");
	last_code(f, r.id, code);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_VERIFIED);
}

/* Opt-out needs none: verified at intake; no code queued. */
static void test_opt_out_none(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_request r;
	pv_outbox_entry *e;
	size_t n;

	subject(f, "cy@example.com", NULL, "ccpa", 0, sid);
	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "cy@example.com", NULL, &r), 0);
	assert_int_equal(r.state, PV_REQ_VERIFIED);
	assert_int_equal(r.regime, PV_REGIME_CCPA);
	/* no code; only the CCPA acknowledgement of receipt */
	assert_int_equal(pv_outbox_list(f->v, &ADMIN, -1, 0, &e, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].topic, "request_acknowledgement");
	free(e);
	assert_int_equal(audit_actions(f, "request.acknowledged", NULL, NULL), 1);
	/* GDPR has no acknowledgement step: nothing queued */
	char sid2[PV_ID_LEN + 1];
	subject(f, "dot@example.com", NULL, "gdpr", 0, sid2);
	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "dot@example.com", NULL, &r), 0);
	assert_int_equal(pv_outbox_list(f->v, &ADMIN, -1, 0, &e, &n), 0);
	assert_int_equal(n, 1);
	free(e);
}

/* Standard (GDPR deletion): code plus a second identifier of the same person; strong: + admin confirm. */
static void test_standard_strong(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], other[PV_ID_LEN + 1], code[9];
	pv_request r, g;

	subject(f, "dee@example.com", "dee", NULL, 0, sid);
	subject(f, "eve@example.com", "eve", NULL, 0, other);
	assert_int_equal(submit(f, PV_POLICY_REQ_DELETION, "dee@example.com", NULL, &r), 0);
	assert_int_equal(r.needed, PV_VERIFY_STANDARD);
	last_code(f, r.id, code);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, NULL, NULL), PV_EDENIED);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, "login", "eve"), PV_EDENIED);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, "login", "dee"), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_VERIFIED);
	assert_int_equal(g.reached, PV_VERIFY_STANDARD);

	assert_int_equal(submit(f, PV_POLICY_REQ_RECTIFICATION, "dee@example.com", NULL, &r), 0);
	assert_int_equal(r.needed, PV_VERIFY_STRONG);
	last_code(f, r.id, code);
	assert_int_equal(pv_request_confirm(f->v, &ADMIN, r.id), PV_EINVAL);   /* standard not reached */
	assert_int_equal(pv_request_verify(f->v, &SERVICE, r.id, code, "login", "dee"), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_VERIFYING);
	assert_int_equal(g.reached, PV_VERIFY_STANDARD);
	assert_int_equal(pv_request_confirm(f->v, &SERVICE, r.id), PV_EDENIED);
	assert_int_equal(pv_request_confirm(f->v, &ADMIN, r.id), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_VERIFIED);
	assert_int_equal(g.reached, PV_VERIFY_STRONG);
}

/* Verify and complete one CCPA access request received at `at`. */
static void access_done(fixture *f, const char *email, pv_time at, pv_request *out)
{
	char code[9];

	pv_clock_set(at);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, email, NULL, out), 0);
	last_code(f, out->id, code);
	assert_int_equal(pv_request_verify(f->v, &SERVICE, out->id, code, NULL, NULL), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, out->id, out), 0);
	if (out->state == PV_REQ_VERIFIED) {
		assert_int_equal(pv_request_transition(f->v, &SERVICE, out->id, PV_REQ_IN_PROGRESS, NULL), 0);
		assert_int_equal(pv_request_transition(f->v, &SERVICE, out->id, PV_REQ_COMPLETED, NULL), 0);
		assert_int_equal(pv_request_get(f->v, &ADMIN, out->id, out), 0);
	}
}

/* CCPA: the third access request within 12 months is refused with the date it becomes possible. */
static void test_ccpa_quota(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_request a, b, c, d;

	subject(f, "fay@example.com", NULL, "ccpa", 0, sid);
	access_done(f, "fay@example.com", T0, &a);
	assert_int_equal(a.state, PV_REQ_COMPLETED);
	/* received Monday 2025-03-10: 45 days -> 2025-04-24; 10 business days -> 2025-03-24 */
	assert_int_equal(a.due_at, 1745452800 + DAY - 1);
	assert_int_equal(a.ack_due, 1742774400 + DAY - 1);
	access_done(f, "fay@example.com", T0 + 30 * DAY, &b);
	assert_int_equal(b.state, PV_REQ_COMPLETED);
	access_done(f, "fay@example.com", T0 + 100 * DAY, &c);
	assert_int_equal(c.state, PV_REQ_REFUSED);
	assert_string_equal(c.reason, "quota_exceeded");
	assert_int_equal(c.available_at, 1773144000);   /* 2026-03-10T12:00:00Z: a + 12 months */
	assert_true(c.closed_at > 0);
	/* a year after the first, one slot is free again */
	access_done(f, "fay@example.com", 1773144000 + 1, &d);
	assert_int_equal(d.state, PV_REQ_COMPLETED);
}

/* Agent needs an authorization reference (stored hashed); parent only for a child. */
static void test_agent_parent(void **state)
{
	fixture *f = *state;
	char kid[PV_ID_LEN + 1], adult[PV_ID_LEN + 1];
	pv_request_spec s;
	pv_request r;

	subject(f, "kid@example.com", NULL, "ccpa", 2015, kid);
	subject(f, "adult@example.com", NULL, "ccpa", 1980, adult);
	memset(&s, 0, sizeof(s));
	s.type = PV_POLICY_REQ_OPT_OUT;
	s.id_kind = "email";
	s.id_value = "kid@example.com";
	s.requester = PV_REQUESTER_AGENT;
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "authorization"));
	s.authorization = "poa-2025-0042.pdf";
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), 0);
	assert_int_equal(r.requester, PV_REQUESTER_AGENT);
	assert_int_equal(strlen(r.authorization), 64);
	assert_null(strstr(r.authorization, "poa"));
	s.requester = PV_REQUESTER_PARENT;
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), 0);
	assert_int_equal(r.state, PV_REQ_VERIFIED);
	s.id_value = "adult@example.com";
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), 0);
	assert_int_equal(r.state, PV_REQ_REFUSED);
	assert_string_equal(r.reason, "requester_not_authorized");
}

/* One extension before the first deadline, with a notice; never twice, never late. */
static void test_extension(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_request r, g;
	pv_outbox_entry *e;
	size_t n, i, notices = 0;

	subject(f, "gus@example.com", NULL, NULL, 0, sid);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "gus@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_extend(f->v, &ADMIN, r.id, "complex", "email", "other@example.com"), PV_EDENIED);
	assert_int_equal(pv_request_extend(f->v, &ADMIN, r.id, "Bad Reason", "email", "gus@example.com"), PV_EINVAL);
	assert_int_equal(pv_request_extend(f->v, &ADMIN, r.id, "complex_request", "email", "gus@example.com"), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	/* due Thursday 2025-04-10 + 2 months = Tuesday 2025-06-10 */
	assert_int_equal(g.extended_due, 1749513600 + DAY - 1);
	assert_int_equal(pv_request_deadline(&g), g.extended_due);
	assert_string_equal(g.reason, "complex_request");
	assert_int_equal(pv_request_extend(f->v, &ADMIN, r.id, "complex_request", "email", "gus@example.com"), PV_EINVAL);
	assert_int_equal(pv_outbox_list(f->v, &ADMIN, -1, 0, &e, &n), 0);
	for (i = 0; i < n; i++)
		notices += strcmp(e[i].topic, "request_extension") == 0;
	free(e);
	assert_int_equal(notices, 1);
	assert_int_equal(audit_actions(f, "request.extended", NULL, NULL), 1);

	/* after the first deadline: too late */
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "gus@example.com", NULL, &r), 0);
	pv_clock_set(r.due_at + 1);
	assert_int_equal(pv_request_extend(f->v, &ADMIN, r.id, "complex_request", "email", "gus@example.com"), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "passed"));
}

/* Excessive: GDPR policy charges a fee (work waits for it), CCPA refuses. Complaint route. */
static void test_excessive(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], sid2[PV_ID_LEN + 1];
	pv_request r, g;

	subject(f, "hal@example.com", NULL, NULL, 0, sid);
	subject(f, "ida@example.com", NULL, "ccpa", 0, sid2);
	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "hal@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_excessive(f->v, &ADMIN, r.id, "excessive"), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.fee_due, 1);
	assert_int_equal(g.state, PV_REQ_VERIFIED);
	assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, PV_REQ_IN_PROGRESS, NULL), PV_EINVAL);
	assert_int_equal(pv_request_fee_paid(f->v, &ADMIN, r.id), 0);
	assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, PV_REQ_IN_PROGRESS, NULL), 0);

	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "ida@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_excessive(f->v, &ADMIN, r.id, "manifestly_unfounded"), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_REFUSED);
	assert_string_equal(g.reason, "manifestly_unfounded");
	assert_string_equal(pv_request_complaint_route(pv_vault_policy(f->v), PV_REGIME_GDPR),
			    "Irish Data Protection Commission");
	assert_non_null(strstr(pv_request_complaint_route(pv_vault_policy(f->v), PV_REGIME_CCPA),
			       "California Privacy Protection Agency"));
}

/* The state machine refuses edges it does not have; final states stay final. */
static void test_state_machine(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_request r, g;

	assert_true(pv_request_transition_allowed(PV_REQ_RECEIVED, PV_REQ_VERIFYING));
	assert_true(pv_request_transition_allowed(PV_REQ_IN_PROGRESS, PV_REQ_PARTIAL));
	assert_false(pv_request_transition_allowed(PV_REQ_VERIFYING, PV_REQ_IN_PROGRESS));
	assert_false(pv_request_transition_allowed(PV_REQ_COMPLETED, PV_REQ_REFUSED));
	assert_false(pv_request_transition_allowed(PV_REQ_VERIFIED, PV_REQ_EXPIRED));
	subject(f, "jo@example.com", NULL, NULL, 0, sid);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "jo@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, PV_REQ_IN_PROGRESS, NULL), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "verifying to in_progress"));
	assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, PV_REQ_REFUSED, NULL), PV_EINVAL);
	assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, PV_REQ_WITHDRAWN, "subject_withdrew"), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_WITHDRAWN);
	assert_int_equal(g.closed_at, T0);
	assert_int_equal(pv_request_refuse(f->v, &ADMIN, g.id, "excessive"), PV_EINVAL);
	assert_int_equal(audit_actions(f, "request.withdrawn", NULL, NULL), 1);
	/* the longest reason code on the longest type name still fits the audit outcome */
	char longreason[PV_REQUEST_REASON_MAX + 1];
	memset(longreason, 'r', PV_REQUEST_REASON_MAX);
	longreason[PV_REQUEST_REASON_MAX] = '\0';
	assert_int_equal(submit(f, PV_POLICY_REQ_WITHDRAW_CONSENT, "jo@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_refuse(f->v, &ADMIN, r.id, longreason), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_string_equal(g.reason, longreason);
	/* details: ids only */
	pv_request_spec s;
	memset(&s, 0, sizeof(s));
	s.type = PV_POLICY_REQ_OBJECTION;
	s.id_kind = "email";
	s.id_value = "jo@example.com";
	s.details = "{\"purposes\":[\"support\"],\"note\":\"my phone is 555\"}";
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "note"));
	assert_null(strstr(pv_error_last(), "555"));
	s.details = "{\"purposes\":[\"support\"]}";
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), 0);
	assert_string_equal(r.details, "{\"purposes\":[\"support\"]}");
	pv_request_clear(&r);
}

/* Overdue and nearly-due lists; unverified requests expire after their deadline. */
static void test_due_and_expiry(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_request a, b, c, *l;
	size_t n, ex;

	subject(f, "kim@example.com", NULL, "lgpd", 0, sid);
	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "kim@example.com", NULL, &a), 0);   /* LGPD 15 days */
	assert_int_equal(a.due_at, T0 - 12 * 3600 + 15 * DAY + DAY - 1);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "kim@example.com", "gdpr", &b), 0);  /* GDPR month */
	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "kim@example.com", NULL, &c), 0);
	assert_int_equal(pv_request_transition(f->v, &ADMIN, c.id, PV_REQ_IN_PROGRESS, NULL), 0);
	assert_int_equal(pv_request_transition(f->v, &ADMIN, c.id, PV_REQ_COMPLETED, NULL), 0);
	pv_clock_set(T0 + 10 * DAY);
	assert_int_equal(pv_request_due(f->v, &AUDITOR, 0, &l, &n), 0);
	assert_int_equal(n, 0);
	pv_request_list_free(l, n);
	assert_int_equal(pv_request_due(f->v, &AUDITOR, 7 * DAY, &l, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].id, a.id);
	pv_request_list_free(l, n);
	pv_clock_set(T0 + 40 * DAY);
	assert_int_equal(pv_request_due(f->v, &AUDITOR, 0, &l, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].id, a.id);   /* earliest deadline first */
	assert_string_equal(l[1].id, b.id);
	pv_request_list_free(l, n);
	assert_int_equal(pv_request_expire_stale(f->v, &ADMIN, &ex), 0);
	assert_int_equal(ex, 1);   /* b was verifying; a was verified (work overdue, not expired) */
	assert_int_equal(pv_request_get(f->v, &ADMIN, b.id, &b), 0);
	assert_int_equal(b.state, PV_REQ_EXPIRED);
	assert_int_equal(pv_request_list_subject(f->v, &AUDITOR, sid, &l, &n), 0);
	assert_int_equal(n, 3);
	pv_request_list_free(l, n);
}

/* The CCPA report: per type received, complied, partial, denied, mean and median days. */
static void test_report(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1];
	pv_request r;
	pv_request_metrics m[PV_POLICY_REQ_COUNT];

	subject(f, "lee@example.com", NULL, "ccpa", 0, sid);
	/* opt-outs: completed after 2 days, after 4 days, partially after 9 days; one refused after 1 day */
	int days[] = { 2, 4, 9, 1 };
	for (int i = 0; i < 4; i++) {
		pv_clock_set(T0 + i * 20 * DAY);
		assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "lee@example.com", NULL, &r), 0);
		pv_clock_set(T0 + i * 20 * DAY + days[i] * DAY);
		if (i == 3) {
			assert_int_equal(pv_request_refuse(f->v, &ADMIN, r.id, "manifestly_unfounded"), 0);
			continue;
		}
		assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, PV_REQ_IN_PROGRESS, NULL), 0);
		assert_int_equal(pv_request_transition(f->v, &ADMIN, r.id, i == 2 ? PV_REQ_PARTIAL : PV_REQ_COMPLETED,
							NULL), 0);
	}
	pv_clock_set(T0 + 100 * DAY);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "lee@example.com", NULL, &r), 0);   /* open */
	pv_clock_set(1767225600 + DAY);   /* 2026-01-02: another year */
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "lee@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_report(f->v, &AUDITOR, 2025, m), 0);
	assert_int_equal(m[PV_POLICY_REQ_OPT_OUT].received, 4);
	assert_int_equal(m[PV_POLICY_REQ_OPT_OUT].complied, 2);
	assert_int_equal(m[PV_POLICY_REQ_OPT_OUT].partial, 1);
	assert_int_equal(m[PV_POLICY_REQ_OPT_OUT].denied, 1);
	assert_int_equal(m[PV_POLICY_REQ_OPT_OUT].open, 0);
	assert_true(m[PV_POLICY_REQ_OPT_OUT].mean_days > 3.99 && m[PV_POLICY_REQ_OPT_OUT].mean_days < 4.01);
	assert_true(m[PV_POLICY_REQ_OPT_OUT].median_days > 2.99 && m[PV_POLICY_REQ_OPT_OUT].median_days < 3.01);
	assert_int_equal(m[PV_POLICY_REQ_ACCESS].received, 1);
	assert_int_equal(m[PV_POLICY_REQ_ACCESS].open, 1);
	assert_int_equal(pv_request_report(f->v, &AUDITOR, 2026, m), 0);
	assert_int_equal(m[PV_POLICY_REQ_ACCESS].received, 1);
	assert_int_equal(m[PV_POLICY_REQ_OPT_OUT].received, 0);
}

/* Nothing half-written: a bad regime or type leaves no row and no audit entry. */
static void test_bad_input(void **state)
{
	fixture *f = *state;
	pv_request r;
	pv_request_spec s;
	size_t before, after;

	before = audit_actions(f, "request.received", NULL, NULL);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "x@example.com", "hipaa", &r), PV_EINVAL);
	assert_int_equal(submit(f, PV_POLICY_REQ_COUNT, "x@example.com", NULL, &r), PV_EINVAL);
	assert_int_equal(submit(f, PV_POLICY_REQ_ACCESS, "", NULL, &r), PV_EINVAL);
	memset(&s, 0, sizeof(s));
	s.type = PV_POLICY_REQ_ACCESS;
	s.id_kind = "login";
	s.id_value = "x";
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), PV_EINVAL);   /* code needs an email */
	s.subject_id = "00000000-0000-4000-8000-000000000000";
	assert_int_equal(pv_request_submit(f->v, &SERVICE, &s, &r), PV_EDENIED);
	after = audit_actions(f, "request.received", NULL, NULL);
	assert_int_equal(before, after);
	assert_int_equal(pv_request_get(f->v, &ADMIN, "not-a-uuid", &r), PV_EINVAL);
	assert_int_equal(pv_request_get(f->v, &ADMIN, "00000000-0000-4000-8000-000000000000", &r), PV_ENOTFOUND);
}

/* Fulfilment through pv_fulfil_run: deletion erases, restriction restricts, unknown identity: no_data. */
static void test_fulfil(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], sid2[PV_ID_LEN + 1];
	pv_request_spec s;
	pv_request r, g;
	pv_subject_info info;
	pv_fulfil_result res;

	subject(f, "max@example.com", NULL, NULL, 0, sid);
	subject(f, "ned@example.com", NULL, NULL, 0, sid2);
	memset(&s, 0, sizeof(s));
	s.type = PV_POLICY_REQ_DELETION;
	s.subject_id = sid;
	assert_int_equal(pv_request_submit(f->v, &ADMIN, &s, &r), 0);   /* admin intake: verified, strong */
	assert_int_equal(r.state, PV_REQ_VERIFIED);
	assert_int_equal(r.reached, PV_VERIFY_STRONG);
	assert_int_equal(pv_request_fulfil(f->v, &SERVICE, r.id, NULL, NULL, 0, NULL), PV_EDENIED);
	assert_int_equal(pv_request_fulfil(f->v, &ADMIN, r.id, NULL, NULL, 0, &res), 0);
	assert_int_equal(res.erasure.full, 1);
	pv_fulfil_result_free(&res);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_COMPLETED);
	assert_string_equal(g.reason, "fulfilled");
	assert_int_equal(pv_subject_get(f->v, &ADMIN, sid, &info), 0);
	assert_int_equal(info.state, PV_SUBJECT_ERASED);
	assert_int_equal(pv_request_fulfil(f->v, &ADMIN, r.id, NULL, NULL, 0, NULL), PV_EINVAL);   /* closed */

	s.type = PV_POLICY_REQ_RESTRICTION;
	s.subject_id = sid2;
	assert_int_equal(pv_request_submit(f->v, &ADMIN, &s, &r), 0);
	assert_int_equal(pv_request_excessive(f->v, &ADMIN, r.id, "excessive"), 0);   /* GDPR: fee */
	assert_int_equal(pv_request_fulfil(f->v, &ADMIN, r.id, NULL, NULL, 0, NULL), PV_EINVAL);
	assert_int_equal(pv_request_fee_paid(f->v, &ADMIN, r.id), 0);
	assert_int_equal(pv_request_fulfil(f->v, &ADMIN, r.id, NULL, NULL, 0, NULL), 0);
	assert_int_equal(pv_subject_get(f->v, &ADMIN, sid2, &info), 0);
	assert_int_equal(info.state, PV_SUBJECT_RESTRICTED);

	assert_int_equal(submit(f, PV_POLICY_REQ_OPT_OUT, "ghost@example.com", NULL, &r), 0);
	assert_int_equal(pv_request_fulfil(f->v, &ADMIN, r.id, NULL, NULL, 0, NULL), 0);
	assert_int_equal(pv_request_get(f->v, &ADMIN, r.id, &g), 0);
	assert_int_equal(g.state, PV_REQ_COMPLETED);
	assert_string_equal(g.reason, "no_data");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_access_basic_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_code_expiry_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opt_out_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_standard_strong, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ccpa_quota, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extension, setup, teardown),
		cmocka_unit_test_setup_teardown(test_excessive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_machine, setup, teardown),
		cmocka_unit_test_setup_teardown(test_due_and_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fulfil, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
