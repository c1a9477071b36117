/*
 * `privault audit verify|list|checkpoint|pubkey`: the tamper-evident chain.
 * The audit holds no personal data (subject ids are random UUIDs), so it may
 * be listed in full.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

static int audit_verify(pv_cli *cli, pv_vault *v)
{
	pv_audit_report r;
	int rc;

	(void)cli;
	memset(&r, 0, sizeof(r));
	rc = pv_audit_verify(v, &r);
	if (rc == 0 && r.ok) {
		printf("ok: %" PRId64 " entries, %" PRId64 " checkpoints verified\n", r.entries, r.checkpoints);
		return PV_EXIT_OK;
	}
	if (rc == PV_ETAMPER || (rc == 0 && !r.ok)) {
		printf("tampered: first bad seq %" PRId64 ": %s\n", r.first_bad_seq, r.reason);
		fprintf(stderr, "privault: audit verification failed at seq %" PRId64 ": %s\n",
			r.first_bad_seq, r.reason);
		return PV_EXIT_TAMPER;
	}
	return pv_cli_fail(rc);
}

typedef struct {
	int json;
} list_state;

static void hex(char *out, const uint8_t *in, size_t len)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Print one entry: tab-separated text, or one JSON object per line. */
static int print_entry(const pv_audit_entry *e, void *payload)
{
	const list_state *st = payload;
	char when[32], h[2 * PV_AUDIT_HASH_LEN + 1], ph[2 * PV_AUDIT_HASH_LEN + 1];

	pv_time_format(e->at, when, sizeof(when));
	if (!st->json) {
		printf("%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e->seq, when, e->actor, e->action,
		       e->subject_id[0] ? e->subject_id : "-", e->purpose[0] ? e->purpose : "-",
		       e->category[0] ? e->category : "-", e->outcome);
		return 0;
	}
	hex(h, e->hash, PV_AUDIT_HASH_LEN);
	hex(ph, e->prev_hash, PV_AUDIT_HASH_LEN);
	{
		json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:s}",
				      "seq", (json_int_t)e->seq, "at", when, "actor", e->actor,
				      "action", e->action,
				      "subject_id", e->subject_id[0] ? e->subject_id : NULL,
				      "purpose", e->purpose[0] ? e->purpose : NULL,
				      "category", e->category[0] ? e->category : NULL,
				      "outcome", e->outcome, "prev_hash", ph, "hash", h);
		char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

		json_decref(o);
		if (text == NULL)
			return 1;
		puts(text);
		free(text);
	}
	return 0;
}

static int audit_list(pv_cli *cli, pv_vault *v, const char *from, const char *limit, int json)
{
	unsigned long long f = 1, l = 0;
	list_state st = { json };
	int rc;

	if (from != NULL && (rc = pv_cli_parse_u64(cli, "--from", from, &f)) != 0)
		return rc;
	if (limit != NULL && (rc = pv_cli_parse_u64(cli, "--limit", limit, &l)) != 0)
		return rc;
	if (f > INT64_MAX || l > INT64_MAX)
		return pv_cli_usage_error(cli, "audit list: number too large");
	rc = pv_audit_list(v, (int64_t)f, (int64_t)l, print_entry, &st);
	if (rc > 0) {
		fprintf(stderr, "privault: audit list: could not format an entry\n");
		return PV_EXIT_ERROR;
	}
	if (rc != 0)
		return pv_cli_fail(rc);
	return PV_EXIT_OK;
}

int pv_cmd_audit(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL, *from = NULL, *limit = NULL;
	int json = 0;
	const pv_cli_opt list_opts[] = {
		{ "--from", &from, NULL, NULL },
		{ "--limit", &limit, NULL, NULL },
		{ "--json", NULL, &json, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_caller *caller;
	const char *pos[1];
	size_t npos;
	pv_vault *v;
	int rc;

	if (verb == NULL)
		return pv_cli_usage_error(cli, "audit: expected a verb");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(verb, "verify") != 0 && strcmp(verb, "list") != 0 &&
	    strcmp(verb, "checkpoint") != 0 && strcmp(verb, "pubkey") != 0)
		return pv_cli_usage_error(cli, "audit: unknown verb '%s'", verb);
	rc = pv_cli_parse(cli, argc, argv, 2, strcmp(verb, "list") == 0 ? list_opts : NULL, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	if (strcmp(verb, "verify") == 0) {
		rc = audit_verify(cli, v);
	} else if (strcmp(verb, "list") == 0) {
		rc = audit_list(cli, v, from, limit, json);
	} else if (strcmp(verb, "checkpoint") == 0) {
		int64_t seq = 0;

		rc = pv_audit_checkpoint(v, caller, &seq);
		if (rc != 0)
			rc = pv_cli_fail(rc);
		else
			printf("checkpoint at seq %" PRId64 "\n", seq);
	} else {
		char pk[65];

		rc = pv_audit_public_key(v, pk);
		if (rc != 0)
			rc = pv_cli_fail(rc);
		else
			printf("%s\n", pk);
	}
	pv_vault_close(v);
	return rc;
}
