/*
 * `privault request ...` and `privault report requests --year N`:
 * data-subject requests (include/privault/rights.h, docs/rights.md).
 *
 *   request submit --type T (--id KIND=VALUE | --subject ID) [--regime R]
 *                  [--requester subject|agent|parent --authorization REF] [--details JSON] [--json]
 *   request send-code ID --id email=ADDR
 *   request verify ID --code DIGITS [--id2 KIND=VALUE]
 *   request confirm ID
 *   request start|complete|partial|withdraw ID [--reason R]
 *   request refuse|excessive ID --reason R
 *   request fee-paid ID
 *   request fulfil ID [--out DIR] [--data JSON]   (admin: pv_fulfil_run, then completed)
 *   request extend ID --reason R --id email=ADDR
 *   request show ID [--json]          (with history)
 *   request list --subject ID [--json]
 *   request due [--within DAYS] [--json]   (0 / absent: overdue only)
 *   request expire
 *   report requests --year N [--json]
 *
 * Exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 denied (wrong code, role).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "privault/rights.h"

static const char *tstr(pv_time t, char *buf, size_t size)
{
	return t ? pv_time_format(t, buf, size) : NULL;
}

static const char *verify_name(pv_verification l)
{
	static const char *const n[] = { "none", "basic", "standard", "strong" };
	return (unsigned)l <= PV_VERIFY_STRONG ? n[l] : "?";
}

static json_t *request_json(pv_vault *v, const pv_request *r)
{
	char rec[32], ack[32], due[32], ext[32], closed[32], avail[32];
	json_t *j = json_pack("{s:s,s:s?,s:s,s:s,s:s,s:s?,s:s,s:s,s:s,s:s,s:s?,s:s,s:s?,s:s?,s:s?,s:s?,s:b}",
			      "id", r->id,
			      "subject_id", r->subject_id[0] ? r->subject_id : NULL,
			      "type", pv_policy_request_name(r->type),
			      "regime", pv_regime_name(r->regime),
			      "requester", pv_requester_name(r->requester),
			      "authorization_hash", r->authorization[0] ? r->authorization : NULL,
			      "state", pv_request_state_name(r->state),
			      "verification_needed", verify_name(r->needed),
			      "verification_reached", verify_name(r->reached),
			      "received_at", pv_time_format(r->received_at, rec, sizeof(rec)),
			      "acknowledge_by", tstr(r->ack_due, ack, sizeof(ack)),
			      "due_at", pv_time_format(r->due_at, due, sizeof(due)),
			      "extended_due", tstr(r->extended_due, ext, sizeof(ext)),
			      "closed_at", tstr(r->closed_at, closed, sizeof(closed)),
			      "reason", r->reason[0] ? r->reason : NULL,
			      "available_at", tstr(r->available_at, avail, sizeof(avail)),
			      "fee_due", r->fee_due);
	if (j && r->state == PV_REQ_REFUSED)
		json_object_set_new(j, "complaint_route",
				    json_string(pv_request_complaint_route(pv_vault_policy(v), r->regime)));
	if (j && r->details) {
		json_t *d = json_loads(r->details, 0, NULL);
		if (d)
			json_object_set_new(j, "details", d);
	}
	return j;
}

static int put_json(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (!text) {
		fprintf(stderr, "privault: request: could not format the output\n");
		return PV_EXIT_ERROR;
	}
	puts(text);
	free(text);
	return PV_EXIT_OK;
}

static void request_line(const pv_request *r)
{
	char due[32];

	printf("%s\t%s\t%s\t%s\t%s\t%s\n", r->id, pv_policy_request_name(r->type), pv_regime_name(r->regime),
	       pv_request_state_name(r->state), pv_time_format(pv_request_deadline(r), due, sizeof(due)),
	       r->reason[0] ? r->reason : "-");
}

/* Split KIND=VALUE into kind (malloc'd) and value (borrowed). */
static int split_id(pv_cli *cli, const char *opt, const char *text, char **kind, const char **value)
{
	const char *eq = text ? strchr(text, '=') : NULL;

	if (!eq || eq == text || !eq[1])
		return pv_cli_usage_error(cli, "%s: expected KIND=VALUE", opt);
	*kind = strndup(text, (size_t)(eq - text));
	*value = eq + 1;
	if (!*kind) {
		fprintf(stderr, "privault: out of memory\n");
		return PV_EXIT_ERROR;
	}
	return 0;
}

static int show(pv_vault *v, const pv_caller *caller, const char *id, int json)
{
	pv_request r;
	pv_request_event *h = NULL;
	size_t n = 0;
	int rc;

	if ((rc = pv_request_get(v, caller, id, &r)) != 0)
		return pv_cli_fail(rc);
	if ((rc = pv_request_history(v, caller, id, &h, &n)) != 0) {
		pv_request_clear(&r);
		return pv_cli_fail(rc);
	}
	if (json) {
		json_t *j = request_json(v, &r), *arr = json_array();
		char at[32];
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "from",
							     pv_request_state_name(h[i].from), "to",
							     pv_request_state_name(h[i].to), "at",
							     pv_time_format(h[i].at, at, sizeof(at)), "actor", h[i].actor,
							     "reason", h[i].reason));
		if (j)
			json_object_set_new(j, "history", arr);
		else
			json_decref(arr);
		rc = put_json(j);
	} else {
		char at[32];
		request_line(&r);
		if (r.state == PV_REQ_REFUSED)
			printf("complaint: %s\n", pv_request_complaint_route(pv_vault_policy(v), r.regime));
		for (size_t i = 0; i < n; i++)
			printf("  %s\t%s -> %s\t%s\t%s\n", pv_time_format(h[i].at, at, sizeof(at)),
			       pv_request_state_name(h[i].from), pv_request_state_name(h[i].to), h[i].actor,
			       h[i].reason[0] ? h[i].reason : "-");
	}
	free(h);
	pv_request_clear(&r);
	return rc;
}

static int print_list(pv_vault *v, pv_request *l, size_t n, int json)
{
	int rc = 0;

	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, request_json(v, &l[i]));
		rc = put_json(arr);
	} else {
		for (size_t i = 0; i < n; i++)
			request_line(&l[i]);
	}
	pv_request_list_free(l, n);
	return rc;
}

int pv_cmd_request(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;
	const char *type = NULL, *idopt = NULL, *subject = NULL, *regime = NULL, *requester = NULL;
	const char *auth = NULL, *details = NULL, *code = NULL, *id2 = NULL, *reason = NULL, *within = NULL;
	const char *outdir = NULL, *data = NULL;
	int json = 0;
	const pv_cli_opt opts[] = {
		{ "--type", &type, NULL, NULL }, { "--id", &idopt, NULL, NULL },
		{ "--subject", &subject, NULL, NULL }, { "--regime", &regime, NULL, NULL },
		{ "--requester", &requester, NULL, NULL }, { "--authorization", &auth, NULL, NULL },
		{ "--details", &details, NULL, NULL }, { "--code", &code, NULL, NULL },
		{ "--id2", &id2, NULL, NULL }, { "--reason", &reason, NULL, NULL },
		{ "--within", &within, NULL, NULL }, { "--json", NULL, &json, NULL },
		{ "--out", &outdir, NULL, NULL }, { "--data", &data, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const char *pos[1];
	size_t npos = 0;
	const pv_caller *caller;
	pv_vault *v = NULL;
	char *kind = NULL, *kind2 = NULL;
	const char *value = NULL, *value2 = NULL;
	int rc, need_id;

	if (!verb)
		return pv_cli_usage_error(cli, "request: expected a verb");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	need_id = !(strcmp(verb, "submit") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "due") == 0 ||
		    strcmp(verb, "expire") == 0);
	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != (size_t)need_id)
		return pv_cli_usage_error(cli, "request %s: expected %s", verb, need_id ? "a request id" : "no arguments");
	if (idopt && (rc = split_id(cli, "--id", idopt, &kind, &value)) != 0)
		return rc;
	if (id2 && (rc = split_id(cli, "--id2", id2, &kind2, &value2)) != 0)
		goto out;
	if ((rc = pv_cli_caller(cli, &caller)) != 0 || (rc = pv_cli_open(cli, &v)) != 0)
		goto out;

	if (strcmp(verb, "submit") == 0) {
		pv_request_spec s = { 0 };
		pv_request r;
		if (!type || (!kind && !subject)) {
			rc = pv_cli_usage_error(cli, "request submit: --type and --id KIND=VALUE (or --subject ID) are required");
			goto out;
		}
		if (pv_request_type_parse(&s.type, type) != 0 ||
		    (requester && pv_requester_parse(&s.requester, requester) != 0)) {
			rc = pv_cli_fail(PV_EINVAL);
			goto out;
		}
		s.id_kind = kind;
		s.id_value = value;
		s.subject_id = subject;
		s.regime = regime;
		s.authorization = auth;
		s.details = details;
		if ((rc = pv_request_submit(v, caller, &s, &r)) != 0) {
			rc = pv_cli_fail(rc);
			goto out;
		}
		if (json) {
			/* the intake answer does not say whether the person is known */
			json_t *j = request_json(v, &r);
			json_object_del(j, "subject_id");
			rc = put_json(j);
		} else {
			printf("%s\t%s\n", r.id, pv_request_state_name(r.state));
		}
		pv_request_clear(&r);
	} else if (strcmp(verb, "send-code") == 0) {
		rc = kind ? pv_request_code_send(v, caller, pos[0], kind, value)
			  : pv_cli_usage_error(cli, "request send-code: --id email=ADDR is required");
		if (rc < 0)
			rc = pv_cli_fail(rc);
	} else if (strcmp(verb, "verify") == 0) {
		if (!code) {
			rc = pv_cli_usage_error(cli, "request verify: --code is required");
			goto out;
		}
		rc = pv_request_verify(v, caller, pos[0], code, kind2, value2);
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "confirm") == 0) {
		rc = pv_request_confirm(v, caller, pos[0]);
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "start") == 0 || strcmp(verb, "complete") == 0 || strcmp(verb, "partial") == 0 ||
		   strcmp(verb, "withdraw") == 0) {
		pv_request_state to = verb[0] == 's' ? PV_REQ_IN_PROGRESS : verb[0] == 'c' ? PV_REQ_COMPLETED :
				      verb[0] == 'p' ? PV_REQ_PARTIAL : PV_REQ_WITHDRAWN;
		rc = pv_request_transition(v, caller, pos[0], to, reason);
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "refuse") == 0 || strcmp(verb, "excessive") == 0) {
		rc = verb[0] == 'r' ? pv_request_refuse(v, caller, pos[0], reason)
				    : pv_request_excessive(v, caller, pos[0], reason);
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "fee-paid") == 0) {
		rc = pv_request_fee_paid(v, caller, pos[0]);
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "fulfil") == 0) {
		pv_fulfil_result fr;
		rc = pv_request_fulfil(v, caller, pos[0], outdir, data, data ? strlen(data) : 0, &fr);
		if (rc == 0) {
			if (!json)
				printf("records %zu, deleted %zu, kept %zu%s\n", fr.package.records, fr.erasure.deleted,
				       fr.erasure.kept, fr.partial ? " (partial)" : "");
			pv_fulfil_result_free(&fr);
		}
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "extend") == 0) {
		rc = pv_request_extend(v, caller, pos[0], reason, kind, value);
		rc = rc ? pv_cli_fail(rc) : show(v, caller, pos[0], json);
	} else if (strcmp(verb, "show") == 0) {
		rc = show(v, caller, pos[0], json);
	} else if (strcmp(verb, "list") == 0) {
		pv_request *l;
		size_t n;
		if (!subject) {
			rc = pv_cli_usage_error(cli, "request list: --subject ID is required");
			goto out;
		}
		rc = pv_request_list_subject(v, caller, subject, &l, &n);
		rc = rc ? pv_cli_fail(rc) : print_list(v, l, n, json);
	} else if (strcmp(verb, "due") == 0) {
		unsigned long long days = 0;
		pv_request *l;
		size_t n;
		if (within && (rc = pv_cli_parse_u64(cli, "--within", within, &days)) != 0)
			goto out;
		if (days > 3650) {
			rc = pv_cli_usage_error(cli, "request due: --within: expected at most 3650 days");
			goto out;
		}
		rc = pv_request_due(v, caller, (int64_t)days * 86400, &l, &n);
		rc = rc ? pv_cli_fail(rc) : print_list(v, l, n, json);
	} else if (strcmp(verb, "expire") == 0) {
		size_t n = 0;
		rc = pv_request_expire_stale(v, caller, &n);
		if (rc)
			rc = pv_cli_fail(rc);
		else
			printf("expired %zu\n", n);
	} else {
		rc = pv_cli_usage_error(cli, "request: unknown verb '%s'", verb);
	}
out:
	pv_vault_close(v);
	free(kind);
	free(kind2);
	return rc;
}

int pv_cmd_report(pv_cli *cli, int argc, char **argv)
{
	const char *what = argc >= 2 ? argv[1] : NULL, *year = NULL;
	int json = 0;
	const pv_cli_opt opts[] = {
		{ "--year", &year, NULL, NULL }, { "--json", NULL, &json, NULL }, { NULL, NULL, NULL, NULL }
	};
	const char *pos[1];
	size_t npos = 0;
	unsigned long long y = 0;
	pv_request_metrics m[PV_POLICY_REQ_COUNT];
	const pv_caller *caller;
	pv_vault *v = NULL;
	int rc;

	if (!what || strcmp(what, "-h") == 0 || strcmp(what, "--help") == 0) {
		if (!what)
			return pv_cli_usage_error(cli, "report: expected 'requests'");
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(what, "requests") != 0)
		return pv_cli_usage_error(cli, "report: unknown report '%s' (expected requests)", what);
	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	if (!year)
		return pv_cli_usage_error(cli, "report requests: --year N is required");
	if ((rc = pv_cli_parse_u64(cli, "--year", year, &y)) != 0)
		return rc;
	if ((rc = pv_cli_caller(cli, &caller)) != 0 || (rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	rc = pv_request_report(v, caller, y > 9998 ? 0 : (int)y, m);
	if (rc) {
		rc = pv_cli_fail(rc);
	} else if (json) {
		json_t *o = json_object();
		for (int t = 0; t < PV_POLICY_REQ_COUNT; t++)
			json_object_set_new(o, pv_policy_request_name((pv_policy_request)t),
					    json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "received", (json_int_t)m[t].received,
						      "complied", (json_int_t)m[t].complied, "partial",
						      (json_int_t)m[t].partial, "denied", (json_int_t)m[t].denied, "open",
						      (json_int_t)m[t].open, "mean_days", m[t].mean_days, "median_days",
						      m[t].median_days));
		rc = put_json(json_pack("{s:I,s:o}", "year", (json_int_t)y, "requests", o));
	} else {
		printf("%-18s %9s %9s %9s %9s %6s %10s %12s\n", "type", "received", "complied", "partial", "denied",
		       "open", "mean_days", "median_days");
		for (int t = 0; t < PV_POLICY_REQ_COUNT; t++)
			printf("%-18s %9zu %9zu %9zu %9zu %6zu %10.1f %12.1f\n", pv_policy_request_name((pv_policy_request)t),
			       m[t].received, m[t].complied, m[t].partial, m[t].denied, m[t].open, m[t].mean_days,
			       m[t].median_days);
	}
	pv_vault_close(v);
	return rc;
}
