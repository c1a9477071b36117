/*
 * `privault consent SIGNAL VERB ...`: the consent signal codecs of
 * include/privault/consent_signals.h on the command line (docs/consent.md).
 * No vault is needed. Each signal x verb is one row of `verbs` below; a new
 * codec adds its rows and its functions, nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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
}

int pv_cmd_consent(pv_cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? PV_EXIT_USAGE : PV_EXIT_OK;
	}
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
