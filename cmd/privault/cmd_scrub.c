/*
 * `privault scrub`: removes personal data from telemetry and free text
 * (include/privault/scrub.h, docs/scrub.md). stdin or FILE to stdout, line by
 * line; no vault is needed unless pseudonyms are asked for without a key file.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "privault/scrub.h"

int pv_cmd_scrub(pv_cli *cli, int argc, char **argv)
{
	const char *types_opt = NULL, *key_file = NULL, *pos[1];
	int json = 0, pseudo = 0, stats = 0, rc, code = PV_EXIT_OK;
	pv_scrubber *s = NULL;
	pv_scrub_stats st;
	unsigned types = PV_SCRUB_ALL;
	size_t npos = 0;
	FILE *in = stdin;
	const pv_cli_opt opts[] = {
		{ "--json", NULL, &json, NULL },
		{ "--pseudonymize", NULL, &pseudo, NULL },
		{ "--key-file", &key_file, NULL, NULL },
		{ "--types", &types_opt, NULL, NULL },
		{ "--stats", NULL, &stats, NULL },
		{ NULL, NULL, NULL, NULL }
	};

	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);
	if (rc >= 0)
		return rc;
	if (key_file != NULL && !pseudo)
		return pv_cli_usage_error(cli, "scrub: --key-file needs --pseudonymize");
	if (types_opt != NULL && pv_scrub_types_parse(&types, types_opt) != 0)
		return pv_cli_usage_error(cli, "scrub: --%s", pv_error_last());
	if (pv_scrubber_new(&s, types) != 0)
		return pv_cli_fail(pv_error_last_code());
	if (pseudo) {
		char path[4096];

		if (key_file != NULL) {
			rc = pv_scrubber_load_key_file(s, key_file);
		} else {
			if ((size_t)snprintf(path, sizeof(path), "%s/privault.key", cli->vault_dir) >= sizeof(path)) {
				pv_scrubber_free(&s);
				return pv_cli_usage_error(cli, "scrub: --vault path too long");
			}
			rc = pv_scrubber_key_from_vault_keys(s, path);
		}
		if (rc != 0) {
			code = pv_cli_fail(rc);
			goto done;
		}
	}
	if (npos == 1 && strcmp(pos[0], "-") != 0) {
		in = fopen(pos[0], "rb");
		if (in == NULL) {
			fprintf(stderr, "privault: scrub: cannot open %s (%s)\n", pos[0], strerror(errno));
			code = PV_EXIT_ERROR;
			goto done;
		}
	}
	rc = pv_scrub_stream(s, in, stdout, json);
	if (rc != 0) {
		code = pv_cli_fail(rc);
		goto done;
	}
	pv_scrubber_stats(s, &st);
	if (json && st.malformed > 0)
		fprintf(stderr, "privault: scrub: %llu lines were not JSON and were scrubbed as text\n",
			(unsigned long long)st.malformed);
	if (stats) {
		fprintf(stderr, "lines: %llu\n", (unsigned long long)st.lines);
		for (int t = 0; t < PV_SCRUB_NTYPES; t++)
			fprintf(stderr, "%s: %llu\n", pv_scrub_type_name((pv_scrub_type)t),
				(unsigned long long)st.found[t]);
	}
done:
	if (in != stdin && in != NULL)
		fclose(in);
	pv_scrubber_free(&s);
	return code;
}
