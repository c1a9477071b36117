/*
 * `privault policy check|show|hash|schema`: policy files, no vault needed.
 * Uses only the public API of include/privault/policy.h.
 *
 * Exit codes (docs/policy-format.md): 0 all valid, 1 some policy invalid,
 * 2 usage error or unreadable file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char policy_usage[] =
	"usage: privault policy check FILE...   validate; print FILE: ok (version LABEL, hash HASH)\n"
	"                                       or one line per error: FILE:LINE:COL: error: PATH: MESSAGE\n"
	"       privault policy show FILE       the normalized model as JSON, defaults filled in\n"
	"       privault policy hash FILE       the version hash (BLAKE2b-256 of the file's bytes)\n"
	"       privault policy schema          the JSON Schema of the policy format\n"
	"exit codes: 0 valid, 1 invalid policy, 2 usage error or unreadable file\n";

static int usage_error(const char *msg)
{
	fprintf(stderr, "privault policy: %s\n%s", msg, policy_usage);
	return 2;
}

/*
 * Load one file, printing its diagnostics on stderr. Returns 0 with *out set,
 * 1 when the policy is invalid, 2 when the file cannot be read.
 */
static int load(pv_policy **out, const char *path)
{
	pv_policy_diags *d = NULL;
	int rc;

	if (pv_policy_diags_new(&d)) {
		fprintf(stderr, "privault: %s\n", pv_error_last());
		return 2;
	}
	rc = pv_policy_load_file(out, path, d);
	for (size_t i = 0; i < pv_policy_diags_count(d); i++) {
		char line[1536];
		fprintf(stderr, "%s\n", pv_policy_diag_format(pv_policy_diags_at(d, i), line, sizeof(line)));
	}
	pv_policy_diags_free(d);
	if (rc == 0)
		return 0;
	if (rc == PV_EPOLICY)
		return 1;
	if (rc != PV_EIO)   /* EIO was printed as a diagnostic */
		fprintf(stderr, "privault: %s\n", pv_error_last());
	return 2;
}

static int cmd_check(int argc, char **argv)
{
	int worst = 0;

	if (argc < 3)
		return usage_error("check needs at least one FILE");
	for (int i = 2; i < argc; i++) {
		pv_policy *p = NULL;
		int rc = load(&p, argv[i]);

		if (rc == 0)
			printf("%s: ok (version %s, hash %s)\n", argv[i], pv_policy_version_label(p),
			       pv_policy_hash(p));
		else if (rc > worst)
			worst = rc;
		pv_policy_free(p);
	}
	return worst;
}

static int cmd_show_or_hash(int argc, char **argv, int show)
{
	pv_policy *p = NULL;
	char *json = NULL;
	int rc;

	if (argc != 3)
		return usage_error(show ? "show needs exactly one FILE" : "hash needs exactly one FILE");
	rc = load(&p, argv[2]);
	if (rc)
		return rc;
	if (!show) {
		printf("%s\n", pv_policy_hash(p));
	} else if (pv_policy_to_json(&json, p)) {
		fprintf(stderr, "privault: %s\n", pv_error_last());
		rc = 1;
	} else {
		fputs(json, stdout);
	}
	free(json);
	pv_policy_free(p);
	return rc;
}

static int cmd_schema(int argc)
{
	char *json = NULL;

	if (argc != 2)
		return usage_error("schema takes no arguments");
	if (pv_policy_schema_json(&json)) {
		fprintf(stderr, "privault: %s\n", pv_error_last());
		return 1;
	}
	fputs(json, stdout);
	free(json);
	return 0;
}

/* argv[0] is "policy", argv[1] the verb. Returns the process exit code. */
int pv_cli_policy(int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;

	if (!verb)
		return usage_error("missing verb");
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) {
		fputs(policy_usage, stdout);
		return 0;
	}
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(policy_usage, stdout);
			return 0;
		}
	if (!strcmp(verb, "check"))
		return cmd_check(argc, argv);
	if (!strcmp(verb, "show"))
		return cmd_show_or_hash(argc, argv, 1);
	if (!strcmp(verb, "hash"))
		return cmd_show_or_hash(argc, argv, 0);
	if (!strcmp(verb, "schema"))
		return cmd_schema(argc);
	return usage_error("unknown verb; expected check, show, hash or schema");
}
