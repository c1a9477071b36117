/*
 * bench_decide: the access decision.
 *
 *   bench_decide [--decisions N] [--vault-decisions M]
 *
 * 1. pv_access_decide in process (pure function, no store, no audit): N
 *    decisions (default 2,000,000) cycling over 13 cases, 4 allowed and 9
 *    denied for as many different reasons (consent_missing since the consent
 *    ledger: bench_consent measures decisions with a consent view); 5 runs, the median run reported.
 *    Goal: at least 1,000,000 decisions/s.
 * 2. pv_vault_decide (subject loaded from the store, current policy, one audit
 *    entry appended): M decisions (default 2000) over the cases a vault can
 *    hold, (a) each in its own transaction, as an application calls it, and
 *    (b) inside pv_vault_begin/commit batches of 1000.
 * The ratio printed is pure decisions/s over vault decisions/s, same process.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "privault/error.h"
#include "privault/policy.h"
#include "privault/vault.h"

#define RUNS 5

static const char *const only_identifiers[] = { "identifiers" };
static const pv_grant narrow_grants[] = { { "account", only_identifiers, 1 } };
static const pv_caller narrow = { "bench-narrow", PV_ROLE_SERVICE, narrow_grants, 1 };
static const pv_caller admin = { "bench-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller auditor = { "bench-auditor", PV_ROLE_AUDITOR, NULL, 0 };

enum { SUBJ_ACTIVE, SUBJ_CCPA, SUBJ_ERASED, SUBJ_RESTRICTED, SUBJ_COUNT };

typedef struct {
	const pv_caller *caller;   /* NULL = the bench service */
	int subject;
	const char *category, *purpose;
	int allow;                 /* expected */
	int in_vault;              /* the vault benchmark can hold this case */
} decide_case;

static const decide_case cases[] = {
	{ NULL, SUBJ_ACTIVE, "identifiers", "account", 1, 1 },
	{ NULL, SUBJ_CCPA, "contact", "account", 1, 1 },
	{ NULL, SUBJ_ACTIVE, "commercial", "order_fulfilment", 1, 1 },
	{ &admin, SUBJ_ACTIVE, "contact", "marketing", 0, 1 },         /* consent_missing: GDPR basis consent, no grant */
	{ &narrow, SUBJ_ACTIVE, "identifiers", "account", 1, 1 },
	{ NULL, SUBJ_ACTIVE, "contact", "marketing", 0, 1 },          /* no grant */
	{ NULL, SUBJ_ACTIVE, "commercial", "account", 0, 1 },         /* category not in purpose */
	{ NULL, SUBJ_ACTIVE, "identifiers", "analytics", 0, 1 },      /* purpose undeclared */
	{ NULL, SUBJ_ACTIVE, "biometrics", "account", 0, 1 },         /* category undeclared */
	{ &auditor, SUBJ_ACTIVE, "identifiers", "account", 0, 1 },    /* role forbidden */
	{ &narrow, SUBJ_ACTIVE, "contact", "account", 0, 1 },         /* grant is narrower */
	{ NULL, SUBJ_ERASED, "identifiers", "account", 0, 1 },        /* subject erased */
	{ NULL, SUBJ_RESTRICTED, "identifiers", "account", 0, 0 },    /* restricted: no public setter */
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const pv_caller *case_caller(const decide_case *c)
{
	return c->caller != NULL ? c->caller : pv_bench_service();
}

/* Run n pure decisions; returns seconds, adds allowed decisions to *allowed. */
static double pure_run(const pv_policy *p, const pv_subject_info *subjects, uint64_t n, uint64_t *allowed)
{
	uint64_t t0, t1, i, yes = 0;
	size_t k = 0;

	t0 = pv_bench_now_ns();
	for (i = 0; i < n; i++) {
		const decide_case *c = &cases[k];
		pv_decision d;

		pv_access_decide(p, case_caller(c), &subjects[c->subject], c->category, c->purpose, &d);
		yes += (uint64_t)d.allow;
		if (++k == NCASES)
			k = 0;
	}
	t1 = pv_bench_now_ns();
	*allowed += yes;
	return (double)(t1 - t0) / 1e9;
}

/* Run m vault decisions over the cases it can hold; batch 0 = own transaction each. Returns seconds. */
static double vault_run(pv_vault *v, char ids[SUBJ_COUNT][PV_ID_LEN + 1], uint64_t m, size_t batch)
{
	uint64_t t0, t1, i;
	size_t k = 0;
	int rc;

	t0 = pv_bench_now_ns();
	for (i = 0; i < m; i++) {
		pv_decision d;

		while (!cases[k].in_vault)
			k = (k + 1) % NCASES;
		if (batch > 0 && i % batch == 0 && (rc = pv_vault_begin(v)) != 0)
			pv_bench_die("pv_vault_begin", rc);
		rc = pv_vault_decide(v, case_caller(&cases[k]), ids[cases[k].subject], cases[k].category,
				     cases[k].purpose, &d);
		if (rc != 0)
			pv_bench_die("pv_vault_decide", rc);
		if (d.allow != cases[k].allow) {
			fprintf(stderr, "bench: vault case %zu: allow=%d (%s), expected %d\n", k, d.allow,
				pv_reason_name(d.reason), cases[k].allow);
			exit(1);
		}
		if (batch > 0 && (i % batch == batch - 1 || i == m - 1) && (rc = pv_vault_commit(v)) != 0)
			pv_bench_die("pv_vault_commit", rc);
		k = (k + 1) % NCASES;
	}
	t1 = pv_bench_now_ns();
	return (double)(t1 - t0) / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = 2000000, m = 2000, allowed = 0;
	pv_subject_info subjects[SUBJ_COUNT];
	char ids[SUBJ_COUNT][PV_ID_LEN + 1];
	double t[RUNS], pure_s, vault1_s, vaultb_s, pure_rate, v1_rate, vb_rate;
	char vdir[4096];
	pv_policy *p = NULL;
	pv_vault *v;
	size_t k;
	int i, rc;

	if (sodium_init() < 0)
		return 1;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--decisions") == 0 && i + 1 < argc)
			n = pv_bench_parse_count(argv[++i]);
		else if (strcmp(argv[i], "--vault-decisions") == 0 && i + 1 < argc)
			m = pv_bench_parse_count(argv[++i]);
		else
			n = 0;
		if (n == 0 || m == 0) {
			fprintf(stderr, "usage: bench_decide [--decisions N] [--vault-decisions M]\n");
			return 2;
		}
	}

	/* ---- pure decision ---- */
	if ((rc = pv_policy_load_file(&p, pv_bench_policy_path(), NULL)) != 0)
		pv_bench_die("pv_policy_load_file", rc);
	memset(subjects, 0, sizeof(subjects));
	for (k = 0; k < SUBJ_COUNT; k++) {
		snprintf(subjects[k].id, sizeof(subjects[k].id), "00000000-0000-4000-8000-00000000000%zu", k);
		subjects[k].created_at = 0;
		subjects[k].regime = k == SUBJ_CCPA ? PV_REGIME_CCPA : PV_REGIME_GDPR;
		subjects[k].state = k == SUBJ_ERASED ? PV_SUBJECT_ERASED
				    : k == SUBJ_RESTRICTED ? PV_SUBJECT_RESTRICTED : PV_SUBJECT_ACTIVE;
	}
	for (k = 0; k < NCASES; k++) {
		pv_decision d;

		pv_access_decide(p, case_caller(&cases[k]), &subjects[cases[k].subject], cases[k].category,
				 cases[k].purpose, &d);
		if (d.allow != cases[k].allow) {
			fprintf(stderr, "bench: case %zu: allow=%d (%s), expected %d\n", k, d.allow,
				pv_reason_name(d.reason), cases[k].allow);
			return 1;
		}
	}
	pure_run(p, subjects, n / 10 + 1, &allowed);   /* warm-up */
	for (i = 0; i < RUNS; i++)
		t[i] = pure_run(p, subjects, n, &allowed);
	pure_s = pv_bench_quantile(t, RUNS, 0.5);
	pure_rate = (double)n / pure_s;

	/* ---- vault decision ---- */
	pv_bench_tmpdir(vdir, sizeof(vdir), "decide-vault");
	v = pv_bench_vault_new(vdir);
	for (k = 0; k < SUBJ_COUNT; k++) {
		char email[64];
		pv_identifier ident = { "email", email };
		pv_subject_spec spec = { &ident, 1, k == SUBJ_CCPA ? "ccpa" : NULL, 0, 0 };

		if (k == SUBJ_RESTRICTED) {
			ids[k][0] = '\0';
			continue;
		}
		pv_bench_email(email, sizeof(email), k);
		if ((rc = pv_subject_create(v, &admin, &spec, ids[k])) != 0)
			pv_bench_die("pv_subject_create", rc);
	}
	if ((rc = pv_subject_erase(v, &admin, ids[SUBJ_ERASED])) != 0)
		pv_bench_die("pv_subject_erase", rc);
	vault_run(v, ids, 50, 0);   /* warm-up */
	vault1_s = vault_run(v, ids, m, 0);
	vaultb_s = vault_run(v, ids, m, 1000);
	pv_vault_close(v);
	pv_bench_rmtree(vdir);
	v1_rate = (double)m / vault1_s;
	vb_rate = (double)m / vaultb_s;

	printf("decide: %zu cases (5 allowed, 8 denied), pure: %" PRIu64 " decisions x %d runs (median); vault: %" PRIu64
	       " decisions\n", NCASES, n, RUNS, m);
	printf("%-44s %14s %12s\n", "", "decisions/s", "us/decision");
	printf("%-44s %14.0f %12.3f  goal >= 1000000: %s\n", "pv_access_decide (pure, in process)", pure_rate,
	       1e6 / pure_rate, pure_rate >= 1e6 ? "met" : "MISSED");
	printf("%-44s %14.0f %12.3f  (%.0fx slower than pure)\n", "pv_vault_decide (store + audit, own tx each)",
	       v1_rate, 1e6 / v1_rate, pure_rate / v1_rate);
	printf("%-44s %14.0f %12.3f  (%.0fx slower than pure)\n", "pv_vault_decide (store + audit, batch 1000)",
	       vb_rate, 1e6 / vb_rate, pure_rate / vb_rate);
	printf("BENCH decide kind=pure n=%" PRIu64 " dps=%.0f ns_per_decision=%.1f goal=1000000 met=%d allowed=%" PRIu64 "\n",
	       n, pure_rate, 1e9 / pure_rate, pure_rate >= 1e6, allowed);
	printf("BENCH decide kind=vault_tx n=%" PRIu64 " dps=%.0f us_per_decision=%.1f ratio_pure=%.1f\n", m, v1_rate,
	       1e6 / v1_rate, pure_rate / v1_rate);
	printf("BENCH decide kind=vault_batch1000 n=%" PRIu64 " dps=%.0f us_per_decision=%.1f ratio_pure=%.1f\n", m,
	       vb_rate, 1e6 / vb_rate, pure_rate / vb_rate);
	pv_policy_free(p);
	return 0;
}
