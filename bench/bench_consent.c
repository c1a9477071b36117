/*
 * bench_consent: the consent ledger.
 *
 *   bench_consent [--events N] [--decisions M]
 *
 * 1. Ingest: N consent events (default 100,000) over 1000 subjects through
 *    pv_consent_record_one (validation, derived state read and rewritten,
 *    event row, audit entry, deadlines for new opt-outs), in pv_vault_begin /
 *    pv_vault_commit batches of 1000, beside a plain SQLite INSERT of the same
 *    rows (same columns, same WAL + synchronous=FULL, same batches) in the
 *    same process. Also TC strings (21 events each) through
 *    pv_consent_record_tcf, in batches of 50 strings.
 * 2. Decisions: M pure pv_access_decide calls (default 5,000,000), cycling
 *    over cases that each go through the consent rules with a consent view
 *    loaded from the vault (grant in force, withdrawn, opted out, objected,
 *    administrative after an opt-out, a purpose without consent), and the same
 *    calls with no view (consent NULL). Goal: at least 500,000/s with views.
 * Uses tests/data/consent-policy.yaml; prints BENCH lines for scripts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "privault/consent.h"
#include "privault/error.h"
#include "privault/vault.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/consent-policy.yaml"
#define NSUBJ 1000
#define BATCH 1000
#define RUNS 5

static const pv_caller admin = { "bench-admin", PV_ROLE_ADMIN, NULL, 0 };

/* The i-th event: purpose and action (a realistic mix of grants, withdrawals and opt-outs). */
static void event_of(uint64_t i, const char **purpose, pv_consent_action *a)
{
	static const char *const purposes[] = { "newsletter", "ads", "analytics", "service_messages" };
	static const pv_consent_action acts[] = { PV_CONSENT_GRANTED, PV_CONSENT_OPTED_OUT, PV_CONSENT_GRANTED,
						  PV_CONSENT_OPTED_OUT, PV_CONSENT_WITHDRAWN, PV_CONSENT_OPTED_IN,
						  PV_CONSENT_REFUSED, PV_CONSENT_OPTED_IN };
	*purpose = purposes[(i / NSUBJ) % 4];
	*a = acts[(i / NSUBJ / 4) % 8];
}

/* A random UUID-shaped id (the ledger's ids are UUIDs too). */
static void bench_uuid(char out[PV_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];

	randombytes_buf(r, sizeof(r));
	for (size_t i = 0, j = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[r[i] >> 4];
		out[j++] = hex[r[i] & 15];
	}
	out[PV_ID_LEN] = 0;
}

/* The plain baseline: the same rows into a table of the same shape. Returns seconds. */
static double sqlite_ingest(const char *path, uint64_t n, char ids[NSUBJ][PV_ID_LEN + 1])
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint64_t t0, t1;
	char id[PV_ID_LEN + 1], rid[PV_ID_LEN + 1];

	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE consent_events (id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, seq BIGINT NOT NULL,"
			 " receipt_id TEXT NOT NULL, purpose TEXT NOT NULL, vendor BIGINT NOT NULL, action TEXT NOT NULL,"
			 " mechanism TEXT, source TEXT NOT NULL, notice_version TEXT NOT NULL, policy_version TEXT NOT NULL,"
			 " at BIGINT NOT NULL, ua_hash TEXT, client TEXT, conflict BIGINT NOT NULL, conflict_reason TEXT);"
			 "CREATE UNIQUE INDEX consent_events_subject ON consent_events (subject_id, seq);"
			 "CREATE INDEX consent_events_at ON consent_events (at);",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO consent_events VALUES (?,?,?,?,?,0,?,'opt_in','api','n1',"
			       "'b977bd502a4108c156b4d4ad73b8bb2cc4bf5b6d7d8f371a1725737d54acff4a',?,NULL,NULL,0,NULL)",
			       -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: sqlite: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		const char *purpose;
		pv_consent_action a;

		if (i % BATCH == 0)
			sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
		event_of(i, &purpose, &a);
		bench_uuid(id);
		bench_uuid(rid);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, ids[i % NSUBJ], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)(i / NSUBJ + 1));
		sqlite3_bind_text(st, 4, rid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, purpose, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, pv_consent_action_name(a), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 7, (sqlite3_int64)(1795000000 + i));
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench: sqlite insert: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
		sqlite3_reset(st);
		if (i % BATCH == BATCH - 1 || i == n - 1)
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	t1 = pv_bench_now_ns();
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (double)(t1 - t0) / 1e9;
}

/* The ledger: the same events through pv_consent_record_one. Returns seconds. */
static double ledger_ingest(pv_vault *v, uint64_t n, char ids[NSUBJ][PV_ID_LEN + 1])
{
	uint64_t t0, t1;
	int rc;

	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		const char *purpose;
		pv_consent_action a;

		if (i % BATCH == 0 && (rc = pv_vault_begin(v)) != 0)
			pv_bench_die("pv_vault_begin", rc);
		event_of(i, &purpose, &a);
		if ((rc = pv_consent_record_one(v, &admin, ids[i % NSUBJ], purpose, a, NULL, NULL)) != 0)
			pv_bench_die("pv_consent_record_one", rc);
		if ((i % BATCH == BATCH - 1 || i == n - 1) && (rc = pv_vault_commit(v)) != 0)
			pv_bench_die("pv_vault_commit", rc);
	}
	t1 = pv_bench_now_ns();
	return (double)(t1 - t0) / 1e9;
}

/* TC strings for devices; returns seconds, *events the events appended. */
static double tcf_ingest(pv_vault *v, uint64_t strings, uint64_t *events)
{
	static const char tc[] = "CP3tAUAP3tAUAACAAAENAAAAAMAAAAAAAAAAF5wAQF5gAAAA.IF5wAQF5gAAA";
	uint64_t t0, t1;
	int rc;

	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < strings; i++) {
		char dev[40];
		pv_consent_result r;
		unsigned char raw[20];

		randombytes_buf(raw, sizeof(raw));
		memcpy(dev, "dev_", 4);
		for (size_t j = 0; j < 32; j++)
			dev[4 + j] = "abcdefghijklmnopqrstuvwxyz234567"[raw[j % 20] >> (j & 1 ? 3 : 0) & 31];
		dev[36] = 0;
		if (i % 50 == 0 && (rc = pv_vault_begin(v)) != 0)
			pv_bench_die("pv_vault_begin", rc);
		if ((rc = pv_consent_record_tcf(v, &admin, dev, tc, sizeof(tc) - 1, NULL, &r)) != 0)
			pv_bench_die("pv_consent_record_tcf", rc);
		*events += r.events;
		if ((i % 50 == 49 || i == strings - 1) && (rc = pv_vault_commit(v)) != 0)
			pv_bench_die("pv_vault_commit", rc);
	}
	t1 = pv_bench_now_ns();
	return (double)(t1 - t0) / 1e9;
}

typedef struct {
	int subject;
	const char *category, *purpose;
	pv_reason want;
} dcase;

enum { S_GRANTED, S_WITHDRAWN, S_CCPA_OUT, S_OBJECTED, S_NONE, S_COUNT };

static const dcase dcases[] = {
	{ S_GRANTED, "contact", "newsletter", PV_REASON_ALLOWED },
	{ S_WITHDRAWN, "contact", "newsletter", PV_REASON_CONSENT_WITHDRAWN },
	{ S_CCPA_OUT, "usage", "ads", PV_REASON_OPTED_OUT },
	{ S_CCPA_OUT, "contact", "service_messages", PV_REASON_ALLOWED },   /* administrative */
	{ S_CCPA_OUT, "contact", "newsletter", PV_REASON_ALLOWED },         /* CCPA: allowed until opt-out */
	{ S_OBJECTED, "usage", "research", PV_REASON_OBJECTED },
	{ S_GRANTED, "usage", "research", PV_REASON_ALLOWED },
	{ S_NONE, "contact", "newsletter", PV_REASON_CONSENT_MISSING },
	{ S_GRANTED, "contact", "account", PV_REASON_ALLOWED },
};
#define NDCASES (sizeof(dcases) / sizeof(dcases[0]))

static double decide_run(const pv_policy *p, const pv_subject_info *subj, uint64_t n, uint64_t *allowed)
{
	uint64_t t0, t1, yes = 0;
	size_t k = 0;

	t0 = pv_bench_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		pv_decision d;
		pv_access_decide(p, &admin, &subj[dcases[k].subject], dcases[k].category, dcases[k].purpose, &d);
		yes += (uint64_t)d.allow;
		k = k + 1 == NDCASES ? 0 : k + 1;
	}
	t1 = pv_bench_now_ns();
	*allowed += yes;
	return (double)(t1 - t0) / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = 100000, m = 5000000, allowed = 0, tcf_events = 0, tcf_strings;
	char (*ids)[PV_ID_LEN + 1] = calloc(NSUBJ, sizeof(*ids));
	char vdir[4096], sdir[4096], sdb[4200];
	double plain_s, ledger_s, tcf_s, t[RUNS], with_s, without_s;
	pv_subject_info subj[S_COUNT], bare[S_COUNT];
	pv_consent_view *views[S_COUNT] = { NULL };
	pv_vault_options o = { NULL, NULL, 0 };
	pv_vault *v = NULL;
	int rc;

	if (sodium_init() < 0 || !ids)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--events") == 0 && i + 1 < argc)
			n = pv_bench_parse_count(argv[++i]);
		else if (strcmp(argv[i], "--decisions") == 0 && i + 1 < argc)
			m = pv_bench_parse_count(argv[++i]);
		else
			n = 0;
		if (n == 0 || m == 0) {
			fprintf(stderr, "usage: bench_consent [--events N] [--decisions M]\n");
			return 2;
		}
	}
	tcf_strings = n / 21 + 1;
	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	pv_bench_tmpdir(vdir, sizeof(vdir), "consent-vault");
	pv_bench_tmpdir(sdir, sizeof(sdir), "consent-sqlite");
	snprintf(sdb, sizeof(sdb), "%s/plain.db", sdir);
	if ((rc = pv_vault_init(vdir, POLICY, &o)) != 0 || (rc = pv_vault_open(&v, vdir, &o)) != 0)
		pv_bench_die("vault", rc);

	/* ---- ingest ---- */
	if ((rc = pv_vault_begin(v)) != 0)
		pv_bench_die("pv_vault_begin", rc);
	for (size_t i = 0; i < NSUBJ; i++) {
		pv_subject_spec spec = { NULL, 0, i % 2 ? "ccpa" : "gdpr", 0, 0 };
		if ((rc = pv_subject_create(v, &admin, &spec, ids[i])) != 0)
			pv_bench_die("pv_subject_create", rc);
	}
	if ((rc = pv_vault_commit(v)) != 0)
		pv_bench_die("pv_vault_commit", rc);
	plain_s = sqlite_ingest(sdb, n, ids);
	ledger_s = ledger_ingest(v, n, ids);
	tcf_s = tcf_ingest(v, tcf_strings, &tcf_events);
	{
		size_t bad = 1;
		if ((rc = pv_consent_rebuild(v, &admin, ids[0], 1, &bad)) != 0 || bad != 0) {
			fprintf(stderr, "bench: derived state differs from the events after ingest\n");
			return 1;
		}
	}
	printf("%-52s %12s %10s\n", "consent ingest", "events/s", "us/event");
	printf("%-52s %12.0f %10.2f\n", "plain SQLite INSERT (same rows, batches of 1000)", n / plain_s, plain_s * 1e6 / n);
	printf("%-52s %12.0f %10.2f  (%.2fx the plain insert's time)\n", "pv_consent_record_one (batches of 1000)",
	       n / ledger_s, ledger_s * 1e6 / n, ledger_s / plain_s);
	printf("%-52s %12.0f %10.2f  (%.0f strings/s)\n", "pv_consent_record_tcf (21 events/string, 50/batch)",
	       tcf_events / tcf_s, tcf_s * 1e6 / (double)tcf_events, tcf_strings / tcf_s);
	printf("BENCH consent kind=ingest n=%" PRIu64 " plain_eps=%.0f ledger_eps=%.0f ratio=%.2f tcf_eps=%.0f\n", n,
	       n / plain_s, n / ledger_s, ledger_s / plain_s, tcf_events / tcf_s);

	/* ---- decisions ---- */
	{
		const char *regimes[S_COUNT] = { "gdpr", "gdpr", "ccpa", "gdpr", "gdpr" };
		for (int k = 0; k < S_COUNT; k++) {
			char id[PV_ID_LEN + 1];
			pv_subject_spec spec = { NULL, 0, regimes[k], 0, 0 };
			if ((rc = pv_subject_create(v, &admin, &spec, id)) != 0)
				pv_bench_die("pv_subject_create", rc);
			if (k == S_GRANTED || k == S_WITHDRAWN)
				rc = pv_consent_record_one(v, &admin, id, "newsletter", PV_CONSENT_GRANTED, NULL, NULL);
			if (rc == 0 && k == S_WITHDRAWN)
				rc = pv_consent_record_one(v, &admin, id, "newsletter", PV_CONSENT_WITHDRAWN, NULL, NULL);
			if (rc == 0 && k == S_CCPA_OUT) {
				pv_consent_item it[2] = { { "ads", 0, PV_CONSENT_OPTED_OUT },
							  { "service_messages", 0, PV_CONSENT_OPTED_OUT } };
				rc = pv_consent_record(v, &admin, id, it, 2, NULL, NULL);
			}
			if (rc == 0 && k == S_OBJECTED)
				rc = pv_consent_record_one(v, &admin, id, "research", PV_CONSENT_OBJECTED, NULL, NULL);
			if (rc != 0)
				pv_bench_die("pv_consent_record", rc);
			if ((rc = pv_subject_get(v, &admin, id, &subj[k])) != 0 ||
			    (rc = pv_consent_view_load(v, id, &views[k])) != 0)
				pv_bench_die("load", rc);
			subj[k].consent = views[k];
			bare[k] = subj[k];
			bare[k].consent = NULL;
		}
	}
	for (size_t k = 0; k < NDCASES; k++) {
		pv_decision d;
		pv_access_decide(pv_vault_policy(v), &admin, &subj[dcases[k].subject], dcases[k].category,
				 dcases[k].purpose, &d);
		if (d.reason != dcases[k].want) {
			fprintf(stderr, "bench: case %zu: %s, expected %s\n", k, pv_reason_name(d.reason),
				pv_reason_name(dcases[k].want));
			return 1;
		}
	}
	decide_run(pv_vault_policy(v), subj, m / 10 + 1, &allowed);   /* warm-up */
	for (int i = 0; i < RUNS; i++)
		t[i] = decide_run(pv_vault_policy(v), subj, m, &allowed);
	with_s = pv_bench_quantile(t, RUNS, 0.5);
	for (int i = 0; i < RUNS; i++)
		t[i] = decide_run(pv_vault_policy(v), bare, m, &allowed);
	without_s = pv_bench_quantile(t, RUNS, 0.5);
	printf("%-52s %12s %10s\n", "access decisions (pure, in process, median of 5)", "decisions/s", "ns/dec");
	printf("%-52s %12.0f %10.1f  goal >= 500000: %s\n", "pv_access_decide with consent views", m / with_s,
	       with_s * 1e9 / m, m / with_s >= 500000 ? "met" : "MISSED");
	printf("%-52s %12.0f %10.1f\n", "pv_access_decide, same calls, no view (consent NULL)", m / without_s,
	       without_s * 1e9 / m);
	printf("BENCH consent kind=decide n=%" PRIu64 " with_dps=%.0f without_dps=%.0f goal=500000 met=%d allowed=%" PRIu64
	       "\n", m, m / with_s, m / without_s, m / with_s >= 500000, allowed);
	for (int k = 0; k < S_COUNT; k++)
		pv_consent_view_free(views[k]);
	pv_vault_close(v);
	pv_bench_rmtree(vdir);
	pv_bench_rmtree(sdir);
	free(ids);
	return 0;
}
