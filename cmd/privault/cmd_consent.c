/*
 * `privault consent SIGNAL VERB ...`: the consent signal codecs of
 * include/privault/consent_signals.h on the command line (docs/consent.md).
 * No vault is needed for them. `privault consent VERB SUBJECT ...`: the
 * consent ledger of include/privault/consent.h (ledger_cmd below). Each signal x verb is one row of `verbs` below; a new
 * codec adds its rows and its functions, nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "privault/consent.h"
#include "privault/consent_signals.h"

typedef struct {
	const char *signal;                 /* "tcf" */
	const char *verb;                   /* "decode" */
	int (*run)(pv_cli *cli, int argc, char **argv);   /* argv[0] is the verb */
	const char *usage;                  /* one line, without "usage: " */
} consent_verb;

/* The argument, or the whole of stdin when it is "-" or missing. *out is the caller's (free). */
static int read_arg(const char *arg, char **out, size_t *len)
{
	if (arg != NULL && strcmp(arg, "-") != 0) {
		*out = strdup(arg);
		*len = strlen(arg);
		if (*out == NULL) {
			fprintf(stderr, "privault: out of memory\n");
			return PV_EXIT_ERROR;
		}
		return 0;
	}
	return pv_cli_read_data(NULL, "-", out, len);
}

/* Strip trailing white space (a TC string piped with echo ends in a newline). */
static void trim(char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' ' || s[*len - 1] == '\t'))
		s[--*len] = '\0';
}

/* `consent tcf decode [STRING|-] [--events]`: the JSON form, or one event per line. */
static int tcf_decode(pv_cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos = 0, len = 0, n = 0;
	int events = 0, rc, code = PV_EXIT_OK;
	pv_tcf *tc = NULL;
	pv_tcf_event *ev = NULL;
	char *s = NULL, *json = NULL;
	const pv_cli_opt opts[] = {
		{ "--events", NULL, &events, NULL },
		{ NULL, NULL, NULL, NULL }
	};

	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = read_arg(npos > 0 ? pos[0] : NULL, &s, &len)) != 0)
		return rc;
	trim(s, &len);
	if ((rc = pv_tcf_decode(&tc, s, len)) != 0) {
		code = pv_cli_fail(rc);
		goto done;
	}
	if (events) {
		if ((rc = pv_tcf_events(&ev, &n, tc)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			printf("%s %u %s\n", pv_tcf_event_kind_name(ev[i].kind), ev[i].id,
			       ev[i].granted ? "granted" : "refused");
	} else {
		if ((rc = pv_tcf_to_json(&json, tc)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		printf("%s\n", json);
	}
done:
	free(ev);
	free(json);
	free(s);
	pv_tcf_free(&tc);
	return code;
}

/* `consent tcf encode [JSON|-]`: the TC string of a JSON form. */
static int tcf_encode(pv_cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos = 0, len = 0;
	int rc, code = PV_EXIT_OK;
	pv_tcf *tc = NULL;
	char *j = NULL, *s = NULL;
	const pv_cli_opt opts[] = { { NULL, NULL, NULL, NULL } };

	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = read_arg(npos > 0 ? pos[0] : NULL, &j, &len)) != 0)
		return rc;
	if ((rc = pv_tcf_from_json(&tc, j, len)) != 0 || (rc = pv_tcf_encode(&s, NULL, tc)) != 0) {
		code = pv_cli_fail(rc);
		goto done;
	}
	printf("%s\n", s);
done:
	free(s);
	free(j);
	pv_tcf_free(&tc);
	return code;
}

/* `consent usp decode [STRING|-]`: the JSON form of a US Privacy string ("1YNN"). */
static int usp_decode(pv_cli *cli, int argc, char **argv)
{
	const char *pos[1];
	size_t npos = 0, len = 0;
	int rc, code = PV_EXIT_OK;
	pv_usp u;
	char *s = NULL, *json = NULL;
	const pv_cli_opt opts[] = { { NULL, NULL, NULL, NULL } };

	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = read_arg(npos > 0 ? pos[0] : NULL, &s, &len)) != 0)
		return rc;
	trim(s, &len);
	if ((rc = pv_usp_decode(&u, s, len)) != 0 || (rc = pv_usp_to_json(&json, &u)) != 0) {
		code = pv_cli_fail(rc);
		goto done;
	}
	printf("%s\n", json);
done:
	free(json);
	free(s);
	return code;
}

/* `consent gpp decode [STRING|-] [--sid LIST]`: the JSON form of a GPP string;
 * --sid takes the gpp_sid list sent with it and marks the applicable sections. */
static int gpp_decode(pv_cli *cli, int argc, char **argv)
{
	const char *pos[1], *sid = NULL;
	size_t npos = 0, len = 0;
	int rc, code = PV_EXIT_OK;
	pv_gpp g;
	char *s = NULL, *json = NULL;
	const pv_cli_opt opts[] = {
		{ "--sid", &sid, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};

	memset(&g, 0, sizeof(g));
	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = read_arg(npos > 0 ? pos[0] : NULL, &s, &len)) != 0)
		return rc;
	trim(s, &len);
	if ((rc = pv_gpp_decode(&g, s, len)) != 0 ||
	    (sid && (rc = pv_gpp_apply_sid(&g, sid, strlen(sid))) != 0) ||
	    (rc = pv_gpp_to_json(&json, &g)) != 0) {
		code = pv_cli_fail(rc);
		goto done;
	}
	printf("%s\n", json);
done:
	free(json);
	free(s);
	pv_gpp_clear(&g);
	return code;
}


/* ---- the consent ledger (include/privault/consent.h): `privault consent VERB SUBJECT ...` ---- */

/* A time option: ISO 8601 UTC or YYYY-MM-DD. 0 or an exit code after printing. */
static int opt_time(pv_cli *cli, const char *name, const char *text, pv_time *out)
{
	if (text == NULL)
		return 0;
	if (pv_time_parse(out, text) != 0)
		return pv_cli_usage_error(cli, "%s: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ", name);
	return 0;
}

static void print_result(const pv_consent_result *r)
{
	printf("receipt %s events %zu conflicts %zu deadlines %zu\n", r->receipt_id, r->events, r->conflicts,
	       r->deadlines);
}

/* One event as a line: seq at action purpose vendor source notice conflict receipt
 * (conflict: "conflict:REASON" or "-"). */
static void print_event(const pv_consent_event *e)
{
	char at[32];

	printf("%lld %s %s %s %u %s %s %s%s %s\n", (long long)e->seq, pv_time_format(e->at, at, sizeof(at)),
	       pv_consent_action_name(e->action), e->purpose, e->vendor, pv_consent_source_name(e->source),
	       e->notice_version, e->conflict ? "conflict:" : "-", e->conflict ? e->conflict_reason : "",
	       e->receipt_id);
}

static int export_write(const char *buf, size_t len, void *payload)
{
	(void)payload;
	return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
}

/* The ledger verbs: each maps to one call of consent.h. */
static const char *const ledger_actions[][2] = {
	{ "grant", "granted" }, { "refuse", "refused" }, { "withdraw", "withdrawn" }, { "opt-out", "opted_out" },
	{ "opt-in", "opted_in" }, { "object", "objected" }, { "limit", "limited" }
};

static const char ledger_usage[] =
	"usage: privault consent grant|refuse|withdraw|opt-out|opt-in|object|limit SUBJECT --purpose P [--purpose P ...]\n"
	"                [--vendor N] [--source S] [--notice V] [--user-agent UA] [--client IP] [--gpc]\n"
	"       privault consent gpc SUBJECT [--user-agent UA] [--client IP]\n"
	"       privault consent record-tcf|record-usp|record-gpp SUBJECT [STRING|-] [--user-agent UA] [--client IP] [--gpc]\n"
	"       privault consent state SUBJECT\n"
	"       privault consent history SUBJECT [--purpose P]\n"
	"       privault consent covered SUBJECT --purpose P --category C --at TIME\n"
	"       privault consent receipt SUBJECT [--csv]\n"
	"       privault consent export --from TIME --to TIME [--csv]\n"
	"       privault consent deadlines [--overdue|--all]\n"
	"       privault consent deadline-done EVENT_ID\n"
	"       privault consent rebuild [SUBJECT] [--verify]\n"
	"       privault consent erase SUBJECT\n";

/*
 * `privault consent VERB ...` for the ledger verbs; returns -1 when argv[1]
 * is not one (the signal codecs' table then answers).
 */
static int ledger_cmd(pv_cli *cli, int argc, char **argv)
{
	static const char *const verbs_list[] = { "gpc", "record-tcf", "record-usp", "record-gpp", "state", "history",
						  "covered", "receipt", "export", "deadlines", "deadline-done",
						  "rebuild", "erase", NULL };
	const char *verb = argv[1], *pos[2] = { NULL, NULL };
	const char *source = NULL, *notice = NULL, *ua = NULL, *client = NULL, *vendor = NULL, *purpose1 = NULL;
	const char *category = NULL, *at = NULL, *from = NULL, *to = NULL;
	int gpc = 0, csv = 0, overdue = 0, all = 0, verify = 0, known = 0, rc, code = PV_EXIT_OK;
	pv_consent_action action = PV_CONSENT_GRANTED;
	pv_cli_list purposes = { { NULL }, 0 };
	const pv_caller *caller;
	pv_vault *v = NULL;
	size_t npos = 0;
	const pv_cli_opt opts[] = {
		{ "--purpose", NULL, NULL, &purposes }, { "--vendor", &vendor, NULL, NULL },
		{ "--source", &source, NULL, NULL }, { "--notice", &notice, NULL, NULL },
		{ "--user-agent", &ua, NULL, NULL }, { "--client", &client, NULL, NULL }, { "--gpc", NULL, &gpc, NULL },
		{ "--category", &category, NULL, NULL }, { "--at", &at, NULL, NULL }, { "--from", &from, NULL, NULL },
		{ "--to", &to, NULL, NULL }, { "--csv", NULL, &csv, NULL }, { "--overdue", NULL, &overdue, NULL },
		{ "--all", NULL, &all, NULL }, { "--verify", NULL, &verify, NULL }, { NULL, NULL, NULL, NULL }
	};
	int is_action = 0;

	for (size_t i = 0; i < sizeof(ledger_actions) / sizeof(ledger_actions[0]); i++)
		if (strcmp(verb, ledger_actions[i][0]) == 0) {
			is_action = known = 1;
			pv_consent_action_parse(&action, ledger_actions[i][1]);
		}
	for (size_t i = 0; verbs_list[i]; i++)
		known |= strcmp(verb, verbs_list[i]) == 0;
	if (!known)
		return -1;
	cli->command = "consent";
	cli->usage = ledger_usage;
	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 2, &npos);
	if (rc >= 0)
		return rc;
	{
		int needs_subject = strcmp(verb, "export") != 0 && strcmp(verb, "deadlines") != 0 &&
				    strcmp(verb, "rebuild") != 0;
		if (needs_subject && npos < 1)
			return pv_cli_usage_error(cli, "consent %s: expected a subject id or device id%s", verb,
						  strcmp(verb, "deadline-done") == 0 ? " (here: the opt-out event id)" : "");
	}
	if (purposes.n)
		purpose1 = purposes.v[0];
	if ((is_action || strcmp(verb, "covered") == 0) && purposes.n == 0)
		return pv_cli_usage_error(cli, "consent %s: --purpose is required", verb);
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;

	if (is_action || strcmp(verb, "gpc") == 0 || strncmp(verb, "record-", 7) == 0) {
		pv_consent_context ctx = { PV_CONSENT_SRC_API, notice, NULL, ua, client, gpc };
		pv_consent_item items[PV_CLI_MAX_MULTI];
		pv_consent_result r;
		unsigned long long vid = 0;

		if (source && (rc = pv_consent_source_parse(&ctx.source, source)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		if (vendor && (code = pv_cli_parse_u64(cli, "--vendor", vendor, &vid)) != 0)
			goto done;
		if (is_action) {
			for (size_t i = 0; i < purposes.n; i++) {
				items[i].purpose = purposes.v[i];
				items[i].vendor = (uint32_t)vid;
				items[i].action = action;
			}
			rc = pv_consent_record(v, caller, pos[0], items, purposes.n, &ctx, &r);
		} else if (strcmp(verb, "gpc") == 0) {
			rc = pv_consent_gpc(v, caller, pos[0], &ctx, &r);
		} else {
			char *s = NULL;
			size_t len = 0;
			if ((code = read_arg(npos > 1 ? pos[1] : NULL, &s, &len)) != 0)
				goto done;
			trim(s, &len);
			if (strcmp(verb, "record-tcf") == 0)
				rc = pv_consent_record_tcf(v, caller, pos[0], s, len, &ctx, &r);
			else if (strcmp(verb, "record-usp") == 0)
				rc = pv_consent_record_usp(v, caller, pos[0], s, len, &ctx, &r);
			else
				rc = pv_consent_record_gpp(v, caller, pos[0], s, len, &ctx, &r);
			free(s);
		}
		if (rc != 0)
			code = pv_cli_fail(rc);
		else
			print_result(&r);
	} else if (strcmp(verb, "state") == 0) {
		pv_consent_state *st = NULL;
		size_t n = 0;
		if ((rc = pv_consent_state_list(v, caller, pos[0], &st, &n)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			printf("%s %u consent=%s notice=%s opted_out=%d gpc=%d objected=%d limited=%d\n", st[i].purpose,
			       st[i].vendor, pv_consent_status_name(st[i].consent),
			       st[i].notice_version[0] ? st[i].notice_version : "-", st[i].opted_out, st[i].gpc,
			       st[i].objected, st[i].limited);
		free(st);
	} else if (strcmp(verb, "history") == 0) {
		pv_consent_event *ev = NULL;
		size_t n = 0;
		if ((rc = pv_consent_history(v, caller, pos[0], purpose1, &ev, &n)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			print_event(&ev[i]);
		pv_consent_events_free(ev, n);
	} else if (strcmp(verb, "covered") == 0) {
		pv_time t = pv_clock_now();
		pv_decision d;
		if ((code = opt_time(cli, "--at", at, &t)) != 0)
			goto done;
		if ((rc = pv_consent_covered(v, caller, pos[0], category, purpose1, t, &d)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		printf("%s\n", d.allow ? "covered" : pv_reason_name(d.reason));
		code = d.allow ? PV_EXIT_OK : PV_EXIT_DENIED;
	} else if (strcmp(verb, "receipt") == 0) {
		char *out = NULL;
		rc = csv ? pv_consent_receipt_csv(v, caller, pos[0], &out) : pv_consent_receipt_json(v, caller, pos[0], &out);
		if (rc != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		fputs(out, stdout);
		if (!csv)
			putchar('\n');
		free(out);
	} else if (strcmp(verb, "export") == 0) {
		pv_time f = 0, t = INT64_MAX;
		size_t n = 0;
		if ((code = opt_time(cli, "--from", from, &f)) != 0 || (code = opt_time(cli, "--to", to, &t)) != 0)
			goto done;
		rc = pv_consent_export(v, caller, f, t, csv ? PV_CONSENT_EXPORT_CSV : PV_CONSENT_EXPORT_JSONL,
				       export_write, NULL, &n);
		if (rc != 0)
			code = pv_cli_fail(rc);
		else
			fprintf(stderr, "privault: exported %zu events\n", n);
	} else if (strcmp(verb, "deadlines") == 0) {
		pv_consent_deadline *dl = NULL;
		size_t n = 0;
		char a[32], d[32];
		rc = pv_consent_deadlines(v, caller, all ? PV_CONSENT_DEADLINES_ALL
						       : overdue ? PV_CONSENT_DEADLINES_OVERDUE : PV_CONSENT_DEADLINES_PENDING,
					  &dl, &n);
		if (rc != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			printf("%s %s %s opted_out %s due %s %s\n", dl[i].event_id, dl[i].subject, dl[i].purpose,
			       pv_time_format(dl[i].at, a, sizeof(a)), pv_time_format(dl[i].due, d, sizeof(d)),
			       dl[i].done_at ? "done" : dl[i].overdue ? "overdue" : "pending");
		free(dl);
	} else if (strcmp(verb, "deadline-done") == 0) {
		if ((rc = pv_consent_deadline_done(v, caller, pos[0])) != 0)
			code = pv_cli_fail(rc);
		else
			printf("done %s\n", pos[0]);
	} else if (strcmp(verb, "rebuild") == 0) {
		size_t bad = 0;
		if ((rc = pv_consent_rebuild(v, caller, npos ? pos[0] : NULL, verify, &bad)) != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
		if (verify) {
			printf("mismatches %zu\n", bad);
			code = bad ? PV_EXIT_TAMPER : PV_EXIT_OK;
		} else
			printf("rebuilt\n");
	} else if (strcmp(verb, "erase") == 0) {
		size_t n = 0;
		if ((rc = pv_consent_erase(v, caller, pos[0], &n)) != 0)
			code = pv_cli_fail(rc);
		else
			printf("erased %zu events\n", n);
	}
done:
	pv_vault_close(v);
	return code;
}

static const consent_verb verbs[] = {
	{ "tcf", "decode", tcf_decode, "privault consent tcf decode [STRING|-] [--events]" },
	{ "tcf", "encode", tcf_encode, "privault consent tcf encode [JSON|-]" },
	{ "usp", "decode", usp_decode, "privault consent usp decode [STRING|-]" },
	{ "gpp", "decode", gpp_decode, "privault consent gpp decode [STRING|-] [--sid LIST]" },
	{ NULL, NULL, NULL, NULL }
};

static void usage(FILE *f)
{
	for (const consent_verb *v = verbs; v->signal != NULL; v++)
		fprintf(f, "%s %s\n", v == verbs ? "usage:" : "      ", v->usage);
	fprintf(f, "      %s", ledger_usage + strlen("usage: "));
}

int pv_cmd_consent(pv_cli *cli, int argc, char **argv)
{
	int rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
	}
	if ((rc = ledger_cmd(cli, argc, argv)) >= 0)
		return rc;
	for (const consent_verb *v = verbs; v->signal != NULL; v++) {
		if (argc >= 3 && strcmp(v->signal, argv[1]) == 0 && strcmp(v->verb, argv[2]) == 0) {
			cli->command = "consent";
			return v->run(cli, argc - 2, argv + 2);
		}
	}
	fprintf(stderr, "privault: consent: unknown signal or verb\n");
	usage(stderr);
	return PV_EXIT_USAGE;
}
