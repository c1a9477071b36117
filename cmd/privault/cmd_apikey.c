/*
 * `privault apikey create|list|revoke`: the API keys HTTP callers present as
 * Bearer tokens. `create` prints the key once, on stdout; only a hash of its
 * secret is stored. The acting caller (global --as/--role, admin by default)
 * must be an admin to create or revoke; here --role and --grant describe the
 * NEW key (put a global --role before the command to act as another role).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "privault/server.h"

static void print_time(pv_time t, char *out, size_t size)
{
	if (t == 0)
		snprintf(out, size, "-");
	else
		pv_time_format(t, out, size);
}

static int apikey_create(pv_cli *cli, int argc, char **argv)
{
	const char *name = NULL, *role_text = NULL, *pos[1];
	pv_cli_list grants = { { 0 }, 0 };
	const pv_cli_opt opts[] = {
		{ "--name", &name, NULL, NULL },
		{ "--role", &role_text, NULL, NULL },
		{ "--grant", NULL, NULL, &grants },
		{ NULL, NULL, NULL, NULL }
	};
	const pv_caller *caller;
	pv_apikey_info info;
	pv_vault *v = NULL;
	pv_role role;
	char *key = NULL;
	size_t npos;
	int rc;

	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos == 1 && name == NULL)
		name = pos[0];
	if (name == NULL)
		return pv_cli_usage_error(cli, "apikey create: expected a name (NAME or --name NAME)");
	if (role_text == NULL)
		return pv_cli_usage_error(cli, "apikey create: expected --role admin|service|auditor");
	if (pv_role_parse(role_text, &role) < 0)
		return pv_cli_usage_error(cli, "apikey create: --role: expected admin, service or auditor");
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	rc = pv_apikey_create(v, caller, name, role, grants.v, grants.n, &key, &info);
	pv_vault_close(v);
	if (rc < 0)
		return pv_cli_fail(rc);
	printf("%s\n", key);
	pv_apikey_secret_free(key);
	fprintf(stderr, "privault: API key %s (%s, %s%s%s) created; it is shown only this once\n", info.id,
		info.name, pv_role_name(info.role), info.grants[0] ? ", grants " : "", info.grants);
	return PV_EXIT_OK;
}

static int apikey_list(pv_cli *cli, int argc, char **argv)
{
	int json = 0;
	const pv_cli_opt opts[] = { { "--json", NULL, &json, NULL }, { NULL, NULL, NULL, NULL } };
	const char *pos[1];
	const pv_caller *caller;
	pv_apikey_info *l = NULL;
	pv_vault *v = NULL;
	size_t n = 0, npos;
	char created[40], revoked[40];
	int rc;

	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	rc = pv_apikey_list(v, caller, &l, &n);
	pv_vault_close(v);
	if (rc < 0)
		return pv_cli_fail(rc);
	if (!json)
		printf("%-16s  %-8s  %-20s  %-20s  %-20s  %s\n", "ID", "ROLE", "NAME", "CREATED", "REVOKED", "GRANTS");
	for (size_t i = 0; i < n; i++) {
		print_time(l[i].created_at, created, sizeof(created));
		print_time(l[i].revoked_at, revoked, sizeof(revoked));
		if (json)
			printf("{\"id\":\"%s\",\"name\":\"%s\",\"role\":\"%s\",\"grants\":\"%s\",\"created_at\":\"%s\","
			       "\"revoked_at\":%s%s%s}\n", l[i].id, l[i].name, pv_role_name(l[i].role), l[i].grants,
			       created, l[i].revoked_at ? "\"" : "", l[i].revoked_at ? revoked : "null",
			       l[i].revoked_at ? "\"" : "");
		else
			printf("%-16s  %-8s  %-20s  %-20s  %-20s  %s\n", l[i].id, pv_role_name(l[i].role), l[i].name,
			       created, revoked, l[i].grants[0] ? l[i].grants : "-");
	}
	free(l);
	return PV_EXIT_OK;
}

static int apikey_revoke(pv_cli *cli, int argc, char **argv)
{
	const pv_cli_opt opts[] = { { NULL, NULL, NULL, NULL } };
	const char *pos[1];
	const pv_caller *caller;
	pv_vault *v = NULL;
	size_t npos;
	int rc;

	rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "apikey revoke: expected the key's ID");
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	rc = pv_apikey_revoke(v, caller, pos[0]);
	pv_vault_close(v);
	if (rc < 0)
		return pv_cli_fail(rc);
	printf("revoked %s\n", pos[0]);
	return PV_EXIT_OK;
}

int pv_cmd_apikey(pv_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "create") == 0)
		return apikey_create(cli, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return apikey_list(cli, argc, argv);
	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return apikey_revoke(cli, argc, argv);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	return pv_cli_usage_error(cli, "apikey: expected create, list or revoke");
}
