/*
 * `privault key rotate`: add a master key version and rewrap every data key
 * with it. Records are not rewritten.
 */
#include <string.h>

#include "cli.h"

int pv_cmd_key(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;
	const pv_caller *caller;
	const char *pos[1];
	size_t npos, rewrapped = 0;
	uint32_t version = 0;
	pv_vault *v;
	int rc;

	if (verb == NULL)
		return pv_cli_usage_error(cli, "key: expected a verb");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(verb, "rotate") != 0)
		return pv_cli_usage_error(cli, "key: unknown verb '%s'", verb);
	rc = pv_cli_parse(cli, argc, argv, 2, NULL, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	rc = pv_vault_key_rotate(v, caller, &version, &rewrapped);
	if (rc != 0)
		rc = pv_cli_fail(rc);
	else
		printf("key version %u, %zu data keys rewrapped\n", (unsigned)version, rewrapped);
	pv_vault_close(v);
	return rc;
}
