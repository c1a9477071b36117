/*
 * Vault commands: init, status, policy add|current, subject ..., record ...,
 * decide. Personal data goes to stdout only when the command's purpose is to
 * show it (record read); never into an error message.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"

#define POS(n) const char *pos[n]; size_t npos

/* Open the vault and build the caller; on failure return the exit code. */
#define OPEN_OR_RETURN(cli, v, caller)                          \
	do {                                                    \
		int _rc = pv_cli_caller((cli), &(caller));      \
		if (_rc != 0)                                   \
			return _rc;                             \
		_rc = pv_cli_open((cli), &(v));                 \
		if (_rc != 0)                                   \
			return _rc;                             \
	} while (0)

int pv_cmd_init(pv_cli *cli, int argc, char **argv)
{
	const char *policy = NULL, *dir;
	const pv_cli_opt opts[] = { { "--policy", &policy, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (policy == NULL)
		return pv_cli_usage_error(cli, "init: --policy FILE is required");
	dir = npos > 0 ? pos[0] : cli->vault_dir;
	{
		pv_vault_options vo = { .store = cli->store };

		rc = pv_vault_init(dir, policy, cli->store != NULL ? &vo : NULL);
	}
	if (rc != 0)
		return pv_cli_fail(rc);
	printf("initialized vault in %s\n", dir);
	return PV_EXIT_OK;
}

int pv_cmd_status(pv_cli *cli, int argc, char **argv)
{
	const pv_caller *caller;
	pv_vault *v;
	pv_vault_stats st;
	const pv_policy *p;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 1, NULL, pos, 0, &npos);

	if (rc >= 0)
		return rc;
	OPEN_OR_RETURN(cli, v, caller);
	(void)caller;
	rc = pv_vault_stats_get(v, &st);
	if (rc != 0) {
		rc = pv_cli_fail(rc);
		goto out;
	}
	p = pv_vault_policy(v);
	printf("vault: %s\n", st.vault_id);
	printf("store: %s\n", st.backend);
	printf("policy: %s (%s)\n", p != NULL ? pv_policy_hash(p) : "-",
	       p != NULL ? pv_policy_version_label(p) : "-");
	printf("subjects: %" PRId64 "\n", st.subjects);
	printf("records: %" PRId64 "\n", st.records);
	printf("audit entries: %" PRId64 "\n", st.audit_entries);
	printf("key version: %u\n", (unsigned)st.key_version);
	rc = PV_EXIT_OK;
out:
	pv_vault_close(v);
	return rc;
}

int pv_cmd_policy_vault(pv_cli *cli, int argc, char **argv)
{
	const pv_caller *caller;
	pv_vault *v;
	POS(1);
	int add = strcmp(argv[1], "add") == 0;
	int rc = pv_cli_parse(cli, argc, argv, 2, NULL, pos, add ? 1 : 0, &npos);

	if (rc >= 0)
		return rc;
	if (add && npos != 1)
		return pv_cli_usage_error(cli, "policy add: expected FILE");
	OPEN_OR_RETURN(cli, v, caller);
	if (add) {
		char hash[PV_HASH_HEX_LEN + 1];

		rc = pv_vault_policy_add(v, caller, pos[0], hash);
		if (rc != 0)
			rc = pv_cli_fail(rc);
		else
			printf("%s\n", hash);
	} else {
		const pv_policy *p = pv_vault_policy(v);
		char when[32];

		if (p == NULL) {
			fprintf(stderr, "privault: the vault has no current policy\n");
			rc = PV_EXIT_ERROR;
		} else {
			printf("hash: %s\n", pv_policy_hash(p));
			printf("version: %s\n", pv_policy_version_label(p));
			printf("effective: %s\n", pv_time_format(pv_policy_effective(p), when, sizeof(when)));
			rc = PV_EXIT_OK;
		}
	}
	pv_vault_close(v);
	return rc;
}

/* ---- subject ---- */

static int subject_create(pv_cli *cli, int argc, char **argv)
{
	pv_cli_list ids = { .n = 0 };
	const char *regime = NULL, *birth = NULL;
	int parental = 0;
	const pv_cli_opt opts[] = {
		{ "--id", NULL, NULL, &ids },
		{ "--regime", &regime, NULL, NULL },
		{ "--birth-year", &birth, NULL, NULL },
		{ "--parental-consent", NULL, &parental, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	pv_identifier idv[PV_CLI_MAX_MULTI];
	char *kinds[PV_CLI_MAX_MULTI] = { NULL };
	pv_subject_spec spec = { 0 };
	const pv_caller *caller;
	char id[PV_ID_LEN + 1];
	unsigned long long year = 0;
	pv_vault *v;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 0, &npos);

	if (rc >= 0)
		return rc;
	if (ids.n == 0)
		return pv_cli_usage_error(cli, "subject create: at least one --id KIND=VALUE is required");
	if (birth != NULL && (rc = pv_cli_parse_u64(cli, "--birth-year", birth, &year)) != 0)
		return rc;
	if (year > 9999)
		return pv_cli_usage_error(cli, "subject create: --birth-year: expected a year");
	for (size_t i = 0; i < ids.n; i++) {
		const char *eq = strchr(ids.v[i], '=');

		if (eq == NULL || eq == ids.v[i]) {
			rc = pv_cli_usage_error(cli, "subject create: --id: expected KIND=VALUE (option %zu)", i + 1);
			goto out_kinds;
		}
		kinds[i] = strndup(ids.v[i], (size_t)(eq - ids.v[i]));
		if (kinds[i] == NULL) {
			fprintf(stderr, "privault: out of memory\n");
			rc = PV_EXIT_ERROR;
			goto out_kinds;
		}
		idv[i].kind = kinds[i];
		idv[i].value = eq + 1;
	}
	spec.identifiers = idv;
	spec.nidentifiers = ids.n;
	spec.regime = regime;
	spec.birth_year = (int)year;
	spec.parental_consent = parental;
	rc = pv_cli_caller(cli, &caller);
	if (rc != 0)
		goto out_kinds;
	rc = pv_cli_open(cli, &v);
	if (rc != 0)
		goto out_kinds;
	rc = pv_subject_create(v, caller, &spec, id);
	if (rc != 0)
		rc = pv_cli_fail(rc);
	else
		printf("%s\n", id);
	pv_vault_close(v);
out_kinds:
	for (size_t i = 0; i < ids.n; i++)
		free(kinds[i]);
	return rc;
}

static int subject_find(pv_cli *cli, int argc, char **argv)
{
	const char *value = NULL;
	const pv_cli_opt opts[] = { { "--value", &value, NULL, NULL }, { NULL, NULL, NULL, NULL } };
	const pv_caller *caller;
	char id[PV_ID_LEN + 1], *buf = NULL;
	size_t len = 0;
	pv_vault *v;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "subject find: expected KIND");
	if (value == NULL) {
		rc = pv_cli_read_stdin_line(&buf, &len);
		if (rc != 0)
			return rc;
		value = buf;
	}
	rc = pv_cli_caller(cli, &caller);
	if (rc == 0)
		rc = pv_cli_open(cli, &v);
	if (rc != 0)
		goto out;
	rc = pv_subject_find(v, caller, pos[0], value, id);
	if (rc != 0)
		rc = pv_cli_fail(rc);
	else
		printf("%s\n", id);
	pv_vault_close(v);
out:
	pv_cli_wipe_free(buf, len);
	return rc;
}

static const char *state_name(pv_subject_state s)
{
	switch (s) {
	case PV_SUBJECT_ACTIVE: return "active";
	case PV_SUBJECT_RESTRICTED: return "restricted";
	case PV_SUBJECT_ERASED: return "erased";
	}
	return "?";
}

/* subject show | categories | erase: one ID each. */
static int subject_by_id(pv_cli *cli, int argc, char **argv, const char *verb)
{
	const pv_caller *caller;
	pv_vault *v;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 2, NULL, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "subject %s: expected ID", verb);
	OPEN_OR_RETURN(cli, v, caller);
	if (strcmp(verb, "show") == 0) {
		pv_subject_info info;
		char when[32];

		rc = pv_subject_get(v, caller, pos[0], &info);
		if (rc == 0) {
			printf("id: %s\n", info.id);
			printf("created: %s\n", pv_time_format(info.created_at, when, sizeof(when)));
			printf("regime: %s\n", pv_regime_name(info.regime));
			if (info.birth_year != 0)
				printf("birth_year: %d\n", info.birth_year);
			else
				printf("birth_year: unknown\n");
			printf("parental_consent: %s\n", info.parental_consent ? "yes" : "no");
			printf("state: %s\n", state_name(info.state));
		}
	} else if (strcmp(verb, "categories") == 0) {
		pv_category_count *cats = NULL;
		size_t n = 0;

		rc = pv_subject_categories(v, caller, pos[0], &cats, &n);
		if (rc == 0)
			for (size_t i = 0; i < n; i++)
				printf("%s\t%zu\n", cats[i].category, cats[i].count);
		free(cats);
	} else {
		rc = pv_subject_erase(v, caller, pos[0]);
		if (rc == 0)
			printf("erased %s\n", pos[0]);
	}
	if (rc != 0)
		rc = pv_cli_fail(rc);
	pv_vault_close(v);
	return rc;
}

int pv_cmd_subject(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;

	if (verb == NULL)
		return pv_cli_usage_error(cli, "subject: expected a verb");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(verb, "create") == 0)
		return subject_create(cli, argc, argv);
	if (strcmp(verb, "find") == 0)
		return subject_find(cli, argc, argv);
	if (strcmp(verb, "show") == 0 || strcmp(verb, "categories") == 0 || strcmp(verb, "erase") == 0)
		return subject_by_id(cli, argc, argv, verb);
	return pv_cli_usage_error(cli, "subject: unknown verb '%s'", verb);
}

/* ---- record ---- */

static int record_put(pv_cli *cli, int argc, char **argv)
{
	const char *category = NULL, *purpose = NULL, *source = NULL, *data = NULL, *file = NULL;
	const pv_cli_opt opts[] = {
		{ "--category", &category, NULL, NULL },
		{ "--purpose", &purpose, NULL, NULL },
		{ "--source", &source, NULL, NULL },
		{ "--data", &data, NULL, NULL },
		{ "--data-file", &file, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_caller *caller;
	pv_record_spec spec = { 0 };
	char id[PV_ID_LEN + 1], *buf = NULL;
	size_t len = 0;
	pv_vault *v;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "record put: expected SUBJECT");
	if (category == NULL || purpose == NULL)
		return pv_cli_usage_error(cli, "record put: --category and --purpose are required");
	if (data != NULL && file != NULL)
		return pv_cli_usage_error(cli, "record put: give --data or --data-file, not both");
	rc = pv_cli_caller(cli, &caller);
	if (rc != 0)
		return rc;
	rc = pv_cli_read_data(data, file, &buf, &len);
	if (rc != 0)
		return rc;
	rc = pv_cli_open(cli, &v);
	if (rc != 0)
		goto out;
	spec.category = category;
	spec.purpose = purpose;
	spec.source = source;
	spec.data = buf;
	spec.len = len;
	rc = pv_record_put(v, caller, pos[0], &spec, id);
	if (rc != 0)
		rc = pv_cli_fail(rc);
	else
		printf("%s\n", id);
	pv_vault_close(v);
out:
	pv_cli_wipe_free(buf, len);
	return rc;
}

/* Print the records of `l` as a JSON array (--json). 0 or an exit code. */
static int print_records_json(const pv_record_list *l)
{
	json_t *arr = json_array();
	char when[32], *text;
	int rc = PV_EXIT_ERROR;

	if (arr == NULL)
		goto fail;
	for (size_t i = 0; i < pv_record_list_count(l); i++) {
		const pv_record *r = pv_record_list_at(l, i);
		json_t *data = json_loadb(r->data, r->len, 0, NULL);
		json_t *o = json_object();

		if (o == NULL || data == NULL) {
			json_decref(o);
			json_decref(data);
			goto fail;
		}
		json_object_set_new(o, "id", json_string(r->id));
		json_object_set_new(o, "subject_id", json_string(r->subject_id));
		json_object_set_new(o, "category", json_string(r->category));
		json_object_set_new(o, "purpose", json_string(r->purpose));
		json_object_set_new(o, "source", r->source[0] ? json_string(r->source) : json_null());
		json_object_set_new(o, "policy_version", json_string(r->policy_version));
		json_object_set_new(o, "collected_at", json_string(pv_time_format(r->collected_at, when, sizeof(when))));
		json_object_set_new(o, "updated_at", json_string(pv_time_format(r->updated_at, when, sizeof(when))));
		json_object_set_new(o, "expires_at", r->expires_at == INT64_MAX ? json_null()
				    : json_string(pv_time_format(r->expires_at, when, sizeof(when))));
		json_object_set_new(o, "data", data);
		json_array_append_new(arr, o);
	}
	text = json_dumps(arr, JSON_INDENT(2));
	if (text == NULL)
		goto fail;
	puts(text);
	explicit_bzero(text, strlen(text));
	free(text);
	rc = PV_EXIT_OK;
fail:
	if (rc != PV_EXIT_OK)
		fprintf(stderr, "privault: record read: could not format the records as JSON\n");
	json_decref(arr);
	return rc;
}

static int record_read(pv_cli *cli, int argc, char **argv)
{
	const char *purpose = NULL, *category = NULL;
	int as_json = 0;
	const pv_cli_opt opts[] = {
		{ "--purpose", &purpose, NULL, NULL },
		{ "--category", &category, NULL, NULL },
		{ "--json", NULL, &as_json, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_caller *caller;
	pv_record_list *l = NULL;
	pv_decision denied = { 0, PV_REASON_ALLOWED };
	pv_vault *v;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "record read: expected SUBJECT");
	if (purpose == NULL)
		return pv_cli_usage_error(cli, "record read: --purpose is required");
	OPEN_OR_RETURN(cli, v, caller);
	rc = pv_record_read(v, caller, pos[0], purpose, category, &l, &denied);
	if (rc == PV_EDENIED) {
		fprintf(stderr, "privault: denied: %s\n", pv_reason_name(denied.reason));
		rc = PV_EXIT_DENIED;
		goto out;
	}
	if (rc != 0) {
		rc = pv_cli_fail(rc);
		goto out;
	}
	if (as_json) {
		rc = print_records_json(l);
	} else {
		for (size_t i = 0; i < pv_record_list_count(l); i++) {
			const pv_record *r = pv_record_list_at(l, i);
			char c[32], e[32];

			printf("%s\t%s\t%s\t%s\t%.*s\n", r->id, r->category,
			       pv_time_format(r->collected_at, c, sizeof(c)),
			       r->expires_at == INT64_MAX ? "-" : pv_time_format(r->expires_at, e, sizeof(e)),
			       (int)r->len, r->data);
		}
		rc = PV_EXIT_OK;
	}
	if (pv_record_list_denied(l) > 0)
		fprintf(stderr, "privault: %zu record(s) withheld by the access decision\n", pv_record_list_denied(l));
out:
	pv_record_list_free(l);
	pv_vault_close(v);
	return rc;
}

static int record_rectify(pv_cli *cli, int argc, char **argv)
{
	const char *data = NULL, *file = NULL;
	const pv_cli_opt opts[] = {
		{ "--data", &data, NULL, NULL },
		{ "--data-file", &file, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_caller *caller;
	char *buf = NULL;
	size_t len = 0;
	pv_vault *v;
	POS(2);
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 2, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 2)
		return pv_cli_usage_error(cli, "record rectify: expected SUBJECT RECORD");
	if (data != NULL && file != NULL)
		return pv_cli_usage_error(cli, "record rectify: give --data or --data-file, not both");
	rc = pv_cli_caller(cli, &caller);
	if (rc != 0)
		return rc;
	rc = pv_cli_read_data(data, file, &buf, &len);
	if (rc != 0)
		return rc;
	rc = pv_cli_open(cli, &v);
	if (rc != 0)
		goto out;
	rc = pv_record_rectify(v, caller, pos[0], pos[1], buf, len);
	if (rc != 0)
		rc = pv_cli_fail(rc);
	else
		printf("rectified %s\n", pos[1]);
	pv_vault_close(v);
out:
	pv_cli_wipe_free(buf, len);
	return rc;
}

int pv_cmd_record(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;

	if (verb == NULL)
		return pv_cli_usage_error(cli, "record: expected a verb");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(verb, "put") == 0)
		return record_put(cli, argc, argv);
	if (strcmp(verb, "read") == 0)
		return record_read(cli, argc, argv);
	if (strcmp(verb, "rectify") == 0)
		return record_rectify(cli, argc, argv);
	return pv_cli_usage_error(cli, "record: unknown verb '%s'", verb);
}

/* ---- decide ---- */

int pv_cmd_decide(pv_cli *cli, int argc, char **argv)
{
	const char *purpose = NULL, *category = NULL;
	const pv_cli_opt opts[] = {
		{ "--purpose", &purpose, NULL, NULL },
		{ "--category", &category, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_caller *caller;
	pv_decision d;
	pv_vault *v;
	POS(1);
	int rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "decide: expected SUBJECT");
	if (purpose == NULL || category == NULL)
		return pv_cli_usage_error(cli, "decide: --category and --purpose are required");
	OPEN_OR_RETURN(cli, v, caller);
	rc = pv_vault_decide(v, caller, pos[0], category, purpose, &d);
	if (rc != 0) {
		rc = pv_cli_fail(rc);
	} else if (d.allow) {
		printf("allow\n");
		rc = PV_EXIT_OK;
	} else {
		printf("deny %s\n", pv_reason_name(d.reason));
		rc = PV_EXIT_DENIED;
	}
	pv_vault_close(v);
	return rc;
}
