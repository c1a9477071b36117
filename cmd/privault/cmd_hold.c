/*
 * `privault hold create|list|show|release`: legal holds, which keep the
 * records they cover from every retention sweep until released.
 *
 *   hold create --reason TEXT [--subject ID] [--category C] [--from T] [--to T]
 *   hold list [--all] [--json]
 *   hold show ID [--json]
 *   hold release ID
 *
 * T is YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ and bounds the records' collection
 * time: from <= collected_at < to. Exit codes: 0 ok, 1 error, 2 usage,
 * 3 no such hold or subject (or erased subject), 4 not allowed to the caller.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "privault/retention.h"

static json_t *hold_json(const pv_hold *h)
{
	char created[32], released[32], from[32], to[32];

	return json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:s,s:s,s:s,s:s?,s:s?,s:b}",
			 "id", h->id,
			 "subject_id", h->subject_id[0] ? h->subject_id : NULL,
			 "category", h->category[0] ? h->category : NULL,
			 "from", h->from ? pv_time_format(h->from, from, sizeof(from)) : NULL,
			 "to", h->to ? pv_time_format(h->to, to, sizeof(to)) : NULL,
			 "reason", h->reason,
			 "created_by", h->created_by,
			 "created_at", pv_time_format(h->created_at, created, sizeof(created)),
			 "released_by", h->released_by[0] ? h->released_by : NULL,
			 "released_at", h->released_at ? pv_time_format(h->released_at, released, sizeof(released)) : NULL,
			 "active", h->released_at == 0);
}

/* Print one JSON value and free it; 0, or 1 when it could not be formatted. */
static int put_json(json_t *j)
{
	char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	if (text == NULL) {
		fprintf(stderr, "privault: hold: could not format the output\n");
		return PV_EXIT_ERROR;
	}
	puts(text);
	free(text);
	return PV_EXIT_OK;
}

/* One tab-separated line: id, state, subject, category, from, to, created, reason ("-" for unset). */
static void hold_line(const pv_hold *h)
{
	char created[32], from[32], to[32];

	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h->id, h->released_at ? "released" : "active",
	       h->subject_id[0] ? h->subject_id : "-", h->category[0] ? h->category : "-",
	       h->from ? pv_time_format(h->from, from, sizeof(from)) : "-",
	       h->to ? pv_time_format(h->to, to, sizeof(to)) : "-",
	       pv_time_format(h->created_at, created, sizeof(created)), h->reason);
}

static int parse_time(pv_cli *cli, const char *opt, const char *text, pv_time *out)
{
	if (text == NULL)
		return 0;
	if (pv_time_parse(out, text) != 0)
		return pv_cli_usage_error(cli, "hold create: %s expects YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ", opt);
	return 0;
}

int pv_cmd_hold(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;
	const char *reason = NULL, *subject = NULL, *category = NULL, *from = NULL, *to = NULL;
	int all = 0, json = 0;
	const pv_cli_opt create_opts[] = {
		{ "--reason", &reason, NULL, NULL },
		{ "--subject", &subject, NULL, NULL },
		{ "--category", &category, NULL, NULL },
		{ "--from", &from, NULL, NULL },
		{ "--to", &to, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_cli_opt list_opts[] = {
		{ "--all", NULL, &all, NULL },
		{ "--json", NULL, &json, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_cli_opt show_opts[] = {
		{ "--json", NULL, &json, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_cli_opt *opts;
	const pv_caller *caller;
	pv_hold_spec spec = { 0 };
	const char *pos[1];
	size_t npos = 0, want;
	pv_vault *v;
	int rc;

	if (verb == NULL)
		return pv_cli_usage_error(cli, "hold: expected a verb");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(verb, "create") == 0) {
		opts = create_opts;
		want = 0;
	} else if (strcmp(verb, "list") == 0) {
		opts = list_opts;
		want = 0;
	} else if (strcmp(verb, "show") == 0) {
		opts = show_opts;
		want = 1;
	} else if (strcmp(verb, "release") == 0) {
		opts = NULL;
		want = 1;
	} else {
		return pv_cli_usage_error(cli, "hold: unknown verb '%s'", verb);
	}
	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, want, &npos);
	if (rc >= 0)
		return rc;
	if (npos != want)
		return pv_cli_usage_error(cli, "hold %s: expected %s", verb, want ? "a hold id" : "no arguments");
	if (strcmp(verb, "create") == 0) {
		if (reason == NULL)
			return pv_cli_usage_error(cli, "hold create: --reason is required");
		if ((rc = parse_time(cli, "--from", from, &spec.from)) != 0 ||
		    (rc = parse_time(cli, "--to", to, &spec.to)) != 0)
			return rc;
		spec.reason = reason;
		spec.subject_id = subject;
		spec.category = category;
	}
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;

	if (strcmp(verb, "create") == 0) {
		char id[PV_ID_LEN + 1];

		rc = pv_hold_create(v, caller, &spec, id);
		if (rc != 0)
			rc = pv_cli_fail(rc);
		else
			printf("%s\n", id);
	} else if (strcmp(verb, "release") == 0) {
		rc = pv_hold_release(v, caller, pos[0]);
		if (rc != 0)
			rc = pv_cli_fail(rc);
		else
			printf("released %s\n", pos[0]);
	} else if (strcmp(verb, "show") == 0) {
		pv_hold h;

		rc = pv_hold_get(v, caller, pos[0], &h);
		if (rc != 0)
			rc = pv_cli_fail(rc);
		else if (json)
			rc = put_json(hold_json(&h));
		else
			hold_line(&h);
	} else {
		pv_hold *list = NULL;
		size_t n = 0, i;

		rc = pv_hold_list(v, caller, all, &list, &n);
		if (rc != 0) {
			rc = pv_cli_fail(rc);
		} else if (json) {
			json_t *a = json_array();

			for (i = 0; a != NULL && i < n; i++)
				json_array_append_new(a, hold_json(&list[i]));
			rc = put_json(a);
		} else {
			for (i = 0; i < n; i++)
				hold_line(&list[i]);
		}
		free(list);
	}
	pv_vault_close(v);
	return rc;
}
