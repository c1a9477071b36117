/*
 * Fulfilment commands (issue 6): the disclosure ledger, access and
 * portability packages, erasure with exceptions and restriction, the outbox,
 * and restore with the suppression replay. One entry point, pv_cmd_fulfil,
 * serves the table rows disclosure, package, fulfil, outbox and restore
 * (dispatching on argv[0]).
 *
 *   disclosure record SUBJECT --recipient R --category C [--category C ...] --purpose P
 *                     [--sale] [--sharing] [--at T]
 *   disclosure list SUBJECT [--since T] [--json]
 *   package access|portability SUBJECT (--out DIR | --json)
 *   fulfil erase SUBJECT [--json]     fulfil restrict|unrestrict SUBJECT     fulfil purge [--limit N]
 *   outbox deliver [--limit N] [--mail SPEC] [--max-attempts N] [--backoff SECONDS]
 *   outbox list [--status pending|delivered|failed] [--json]
 *   outbox secret RECIPIENT
 *   restore BACKUP | restore --replay-only [--journal FILE]
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "privault/fulfil.h"
#include "privault/outbox.h"

/* Print one JSON value compactly and free it. */
static int put_json(json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text == NULL) {
		fprintf(stderr, "privault: could not format the output\n");
		return PV_EXIT_ERROR;
	}
	puts(text);
	free(text);
	return PV_EXIT_OK;
}

static int parse_time(pv_cli *cli, const char *opt, const char *text, pv_time *out)
{
	if (text == NULL)
		return 0;
	if (pv_time_parse(out, text) != 0)
		return pv_cli_usage_error(cli, "%s expects YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ", opt);
	return 0;
}

/* ---- disclosure ---- */

static int cmd_disclosure(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "", *recipient = NULL, *purpose = NULL, *at = NULL, *since = NULL;
	int sale = 0, sharing = 0, json = 0;
	pv_cli_list cats = { { 0 }, 0 };
	const pv_cli_opt ropts[] = { { "--recipient", &recipient, NULL, NULL }, { "--purpose", &purpose, NULL, NULL },
				     { "--category", NULL, NULL, &cats }, { "--sale", NULL, &sale, NULL },
				     { "--sharing", NULL, &sharing, NULL }, { "--at", &at, NULL, NULL },
				     { NULL, NULL, NULL, NULL } };
	const pv_cli_opt lopts[] = { { "--since", &since, NULL, NULL }, { "--json", NULL, &json, NULL },
				     { NULL, NULL, NULL, NULL } };
	const pv_caller *caller;
	const char *pos[1];
	size_t npos = 0;
	pv_vault *v;
	int rc, record = strcmp(verb, "record") == 0;

	if (!record && strcmp(verb, "list") != 0)
		return pv_cli_usage_error(cli, "disclosure: expected record or list");
	if ((rc = pv_cli_parse(cli, argc, argv, 2, record ? ropts : lopts, pos, 1, &npos)) >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "disclosure %s: expected a subject id", verb);
	if (record && (!recipient || !purpose || cats.n == 0))
		return pv_cli_usage_error(cli, "disclosure record: --recipient, --purpose and --category are required");
	pv_disclosure_spec spec = { recipient, cats.v, cats.n, purpose, sale, sharing, 0 };
	pv_time from = 0;
	if ((rc = parse_time(cli, "--at", at, &spec.at)) != 0 || (rc = parse_time(cli, "--since", since, &from)) != 0)
		return rc;
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	if (record) {
		char id[PV_ID_LEN + 1];
		if ((rc = pv_disclosure_record(v, caller, pos[0], &spec, id)) != 0)
			rc = pv_cli_fail(rc);
		else
			printf("%s\n", id);
	} else {
		pv_disclosure *d = NULL;
		size_t n = 0;
		char t[32];
		if ((rc = pv_disclosure_list(v, caller, pos[0], from, &d, &n)) != 0) {
			rc = pv_cli_fail(rc);
		} else if (json) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:b,s:b,s:s}", "id", d[i].id,
								   "recipient", d[i].recipient, "purpose", d[i].purpose,
								   "categories", d[i].categories, "sale", d[i].sale,
								   "sharing", d[i].sharing, "at",
								   pv_time_format(d[i].at, t, sizeof(t))));
			rc = put_json(a);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\t%s\t%s\t%s\t%s%s\n", pv_time_format(d[i].at, t, sizeof(t)), d[i].id,
				       d[i].recipient, d[i].purpose, d[i].categories, d[i].sale ? "sale" : "-",
				       d[i].sharing ? ",sharing" : "");
		}
		free(d);
	}
	pv_vault_close(v);
	return rc;
}

/* ---- package ---- */

static int cmd_package(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "", *out = NULL;
	int json = 0;
	const pv_cli_opt opts[] = { { "--out", &out, NULL, NULL }, { "--json", NULL, &json, NULL },
				    { NULL, NULL, NULL, NULL } };
	pv_package_kind kind;
	pv_package_summary sum;
	const pv_caller *caller;
	const char *pos[1];
	size_t npos = 0;
	pv_vault *v;
	int rc;

	if (strcmp(verb, "access") == 0)
		kind = PV_PACKAGE_ACCESS;
	else if (strcmp(verb, "portability") == 0)
		kind = PV_PACKAGE_PORTABILITY;
	else
		return pv_cli_usage_error(cli, "package: expected access or portability");
	if ((rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos)) >= 0)
		return rc;
	if (npos != 1 || (!out) == (!json))
		return pv_cli_usage_error(cli, "package %s: expected a subject id and one of --out DIR or --json", verb);
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	if (out) {
		if ((rc = pv_package_write(v, caller, pos[0], kind, out, &sum)) != 0)
			rc = pv_cli_fail(rc);
		else
			printf("%s\trecords=%zu\twithheld=%zu\tcategories=%zu\tdisclosures=%zu\n", out, sum.records,
			       sum.withheld, sum.categories, sum.disclosures);
	} else {
		char *s = NULL;
		size_t len = 0;
		if ((rc = pv_package_json(v, caller, pos[0], kind, &s, &len, &sum)) != 0)
			rc = pv_cli_fail(rc);
		else
			puts(s);
		pv_cli_wipe_free(s, len);
	}
	pv_vault_close(v);
	return rc;
}

/* ---- fulfil erase | restrict | unrestrict ---- */

static int cmd_fulfil_verb(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "", *limit = NULL;
	int json = 0, purge = strcmp(verb, "purge") == 0;
	const pv_cli_opt opts[] = { { "--json", NULL, &json, NULL }, { NULL, NULL, NULL, NULL } };
	const pv_cli_opt popts[] = { { "--limit", &limit, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	unsigned long long n_limit = 0;
	const pv_caller *caller;
	const char *pos[1];
	size_t npos = 0, purged = 0;
	pv_vault *v;
	int rc;

	if (strcmp(verb, "erase") != 0 && strcmp(verb, "restrict") != 0 && strcmp(verb, "unrestrict") != 0 && !purge)
		return pv_cli_usage_error(cli, "fulfil: expected erase, restrict, unrestrict or purge");
	if ((rc = pv_cli_parse(cli, argc, argv, 2, purge ? popts : opts, pos, 1, &npos)) >= 0)
		return rc;
	if (npos != (purge ? 0u : 1u))
		return pv_cli_usage_error(cli, "fulfil %s: expected %s", verb, purge ? "no arguments" : "a subject id");
	if (limit && (rc = pv_cli_parse_u64(cli, "--limit", limit, &n_limit)) != 0)
		return rc;
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	if (purge) {
		if ((rc = pv_fulfil_purge(v, caller, (size_t)n_limit, &purged)) != 0)
			rc = pv_cli_fail(rc);
		else
			printf("purged records=%zu\n", purged);
	} else if (strcmp(verb, "erase") == 0) {
		pv_erasure_report r;
		/* the erasure crypto-shreds at once; the unreadable rows are deleted right after */
		if ((rc = pv_fulfil_erase(v, caller, pos[0], &r)) == 0 && r.full)
			rc = pv_fulfil_purge(v, caller, 0, &purged);
		if (rc != 0) {
			rc = pv_cli_fail(rc);
		} else if (json) {
			json_t *items = json_array();
			for (size_t i = 0; i < r.nitems; i++)
				json_array_append_new(items, json_pack("{s:s,s:I,s:I,s:s?,s:s?}", "category",
								       r.items[i].category, "records",
								       (json_int_t)r.items[i].records, "kept",
								       (json_int_t)r.items[i].kept, "exception",
								       r.items[i].exception[0] ? r.items[i].exception : NULL,
								       "kind", r.items[i].kind));
			rc = put_json(json_pack("{s:b,s:I,s:I,s:I,s:o}", "full", r.full, "deleted", (json_int_t)r.deleted,
						"kept", (json_int_t)r.kept, "notified", (json_int_t)r.notified, "categories",
						items));
		} else {
			printf("%s\tdeleted=%zu\tkept=%zu\tnotified=%zu\n", r.full ? "erased" : "partially erased",
			       r.deleted, r.kept, r.notified);
			for (size_t i = 0; i < r.nitems; i++)
				printf("%s\t%zu\t%s\t%s\n", r.items[i].category, r.items[i].records,
				       r.items[i].kept ? "kept" : "erased", r.items[i].kept ? r.items[i].exception : "-");
		}
		pv_erasure_report_free(&r);
	} else {
		int on = strcmp(verb, "restrict") == 0;
		if ((rc = pv_subject_restrict(v, caller, pos[0], on)) != 0)
			rc = pv_cli_fail(rc);
		else
			printf("%s %s\n", on ? "restricted" : "unrestricted", pos[0]);
	}
	pv_vault_close(v);
	return rc;
}

/* ---- outbox ---- */

static int cmd_outbox(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : "", *limit = NULL, *mail = NULL, *attempts = NULL, *backoff = NULL;
	const char *status = NULL;
	int json = 0;
	const pv_cli_opt dopts[] = { { "--limit", &limit, NULL, NULL }, { "--mail", &mail, NULL, NULL },
				     { "--max-attempts", &attempts, NULL, NULL }, { "--backoff", &backoff, NULL, NULL },
				     { NULL, NULL, NULL, NULL } };
	const pv_cli_opt lopts[] = { { "--status", &status, NULL, NULL }, { "--json", NULL, &json, NULL },
				     { NULL, NULL, NULL, NULL } };
	const pv_cli_opt *opts;
	pv_outbox_config cfg = { 0 };
	unsigned long long n_limit = 0, n_att = 0, n_back = 0;
	const pv_caller *caller;
	const char *pos[1];
	size_t npos = 0, want;
	int rc, st = -1;
	pv_vault *v;

	if (strcmp(verb, "deliver") == 0)
		opts = dopts, want = 0;
	else if (strcmp(verb, "list") == 0)
		opts = lopts, want = 0;
	else if (strcmp(verb, "secret") == 0)
		opts = NULL, want = 1;
	else
		return pv_cli_usage_error(cli, "outbox: expected deliver, list or secret");
	if ((rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos)) >= 0)
		return rc;
	if (npos != want)
		return pv_cli_usage_error(cli, "outbox %s: expected %s", verb, want ? "a recipient id" : "no arguments");
	if ((limit && (rc = pv_cli_parse_u64(cli, "--limit", limit, &n_limit)) != 0) ||
	    (attempts && (rc = pv_cli_parse_u64(cli, "--max-attempts", attempts, &n_att)) != 0) ||
	    (backoff && (rc = pv_cli_parse_u64(cli, "--backoff", backoff, &n_back)) != 0))
		return rc;
	if (status) {
		if (strcmp(status, "pending") == 0)
			st = PV_OUTBOX_PENDING;
		else if (strcmp(status, "delivered") == 0)
			st = PV_OUTBOX_DELIVERED;
		else if (strcmp(status, "failed") == 0)
			st = PV_OUTBOX_FAILED;
		else
			return pv_cli_usage_error(cli, "outbox list: --status expects pending, delivered or failed");
	}
	cfg.mail = mail;
	cfg.max_attempts = (int)(n_att > 1000 ? 1000 : n_att);
	cfg.backoff_base = (int64_t)n_back;
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	if (strcmp(verb, "deliver") == 0) {
		pv_outbox_report r;
		size_t purged = 0;
		if ((rc = pv_outbox_deliver(v, caller, 0, (size_t)n_limit, &cfg, &r)) != 0 ||
		    (rc = pv_fulfil_purge(v, caller, 0, &purged)) != 0)   /* the periodic job also purges */
			rc = pv_cli_fail(rc);
		else
			printf("attempted=%zu\tdelivered=%zu\tretrying=%zu\tfailed=%zu\tskipped=%zu\n", r.attempted,
			       r.delivered, r.retrying, r.failed, r.skipped);
	} else if (strcmp(verb, "list") == 0) {
		pv_outbox_entry *l = NULL;
		size_t n = 0;
		char a[32], b[32];
		if ((rc = pv_outbox_list(v, caller, st, 0, &l, &n)) != 0) {
			rc = pv_cli_fail(rc);
		} else if (json) {
			json_t *arr = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s,s:i,s:s,s:s,s:s?}", "id",
								     l[i].id, "channel", pv_outbox_channel_name(l[i].channel),
								     "topic", l[i].topic, "subject_id",
								     l[i].subject_id[0] ? l[i].subject_id : NULL, "recipient",
								     l[i].recipient[0] ? l[i].recipient : NULL, "status",
								     pv_outbox_status_name(l[i].status), "attempts",
								     l[i].attempts, "created_at",
								     pv_time_format(l[i].created_at, a, sizeof(a)),
								     "next_attempt_at",
								     pv_time_format(l[i].next_attempt_at, b, sizeof(b)),
								     "last_error", l[i].last_error[0] ? l[i].last_error : NULL));
			rc = put_json(arr);
		} else {
			for (size_t i = 0; i < n; i++)
				printf("%s\t%s\t%s\t%s\t%d\t%s\n", l[i].id, pv_outbox_status_name(l[i].status),
				       pv_outbox_channel_name(l[i].channel), l[i].topic, l[i].attempts,
				       l[i].last_error[0] ? l[i].last_error : "-");
		}
		free(l);
	} else {
		uint8_t secret[PV_OUTBOX_SECRET_LEN];
		if ((rc = pv_outbox_webhook_secret(v, caller, pos[0], secret)) != 0) {
			rc = pv_cli_fail(rc);
		} else {
			for (size_t i = 0; i < sizeof(secret); i++)
				printf("%02x", secret[i]);
			putchar('\n');
		}
		memset(secret, 0, sizeof(secret));
	}
	pv_vault_close(v);
	return rc;
}

/* ---- restore ---- */

static int cmd_restore(pv_cli *cli, int argc, char **argv)
{
	const char *journal = NULL;
	int replay_only = 0;
	const pv_cli_opt opts[] = { { "--replay-only", NULL, &replay_only, NULL }, { "--journal", &journal, NULL, NULL },
				    { NULL, NULL, NULL, NULL } };
	const pv_caller *caller;
	pv_replay_report r;
	const char *pos[1];
	size_t npos = 0;
	pv_vault *v;
	int rc;

	if ((rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos)) >= 0)
		return rc;
	if (replay_only ? npos != 0 : npos != 1)
		return pv_cli_usage_error(cli, "restore: expected BACKUP, or --replay-only");
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if (replay_only) {
		if ((rc = pv_cli_open(cli, &v)) != 0)
			return rc;
		rc = pv_fulfil_replay_suppressions(v, caller, journal, &r);
		pv_vault_close(v);
	} else {
		if (cli->store)
			return pv_cli_usage_error(cli, "restore: BACKUP is an SQLite file; with --store restore the "
						  "database with its own tools, then run restore --replay-only");
		rc = pv_fulfil_restore(pos[0], cli->vault_dir, caller, &r);
	}
	if (rc != 0)
		return pv_cli_fail(rc);
	printf("journal_lines=%zu\tsuppressed=%zu\treerased=%zu\treregistered=%zu\n", r.lines, r.suppressed,
	       r.reerased, r.reregistered);
	return PV_EXIT_OK;
}

int pv_cmd_fulfil(pv_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(argv[0], "disclosure") == 0)
		return cmd_disclosure(cli, argc, argv);
	if (strcmp(argv[0], "package") == 0)
		return cmd_package(cli, argc, argv);
	if (strcmp(argv[0], "outbox") == 0)
		return cmd_outbox(cli, argc, argv);
	if (strcmp(argv[0], "restore") == 0)
		return cmd_restore(cli, argc, argv);
	return cmd_fulfil_verb(cli, argc, argv);
}
