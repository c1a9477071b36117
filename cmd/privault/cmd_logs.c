/*
 * `privault logs anonymize`: the streaming access-log anonymizer (stdin or
 * files to stdout or an appended file), and `privault logs rotate`:
 * rotation by size and age, gzip, deletion past the policy's retention of
 * access logs. Library: include/privault/logs.h; behaviour: docs/logs.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "privault/logs.h"

/* --ipv4-bits / --ipv6-bits: 1..max. */
static int parse_bits(pv_cli *cli, const char *opt, const char *text, unsigned max, unsigned *out)
{
	unsigned long long v;
	int rc = pv_cli_parse_u64(cli, opt, text, &v);

	if (rc != 0)
		return rc;
	if (v < 1 || v > max)
		return pv_cli_usage_error(cli, "logs anonymize: %s: expected 1 to %u", opt, max);
	*out = (unsigned)v;
	return 0;
}

static int cmd_anonymize(pv_cli *cli, int argc, char **argv)
{
	const char *format = NULL, *preset = NULL, *v4 = NULL, *v6 = NULL, *output = NULL, *keydir = NULL;
	int all = 0, mapped = 0, quiet = 0;
	pv_cli_list keys = { { NULL }, 0 };
	const pv_cli_opt opts[] = {
		{ "--format", &format, NULL, NULL },
		{ "--preset", &preset, NULL, NULL },
		{ "--ipv4-bits", &v4, NULL, NULL },
		{ "--ipv6-bits", &v6, NULL, NULL },
		{ "--all", NULL, &all, NULL },
		{ "--mapped-v4", NULL, &mapped, NULL },
		{ "--pseudonymize", &keydir, NULL, NULL },
		{ "--json-key", NULL, NULL, &keys },
		{ "--output", &output, NULL, NULL },
		{ "-o", &output, NULL, NULL },
		{ "--quiet", NULL, &quiet, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const char *pos[PV_CLI_MAX_POS];
	pv_logs_stats st = { 0, 0, 0, 0 };
	pv_logs_options o;
	pv_logs_anon *a = NULL;
	size_t npos;
	int out_fd = STDOUT_FILENO, rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, PV_CLI_MAX_POS, &npos);

	if (rc >= 0)
		return rc;
	pv_logs_options_init(&o);
	if (format != NULL) {
		if (strcmp(format, "auto") == 0)
			o.format = PV_LOGS_AUTO;
		else if (strcmp(format, "common") == 0 || strcmp(format, "combined") == 0)
			o.format = PV_LOGS_COMMON;
		else if (strcmp(format, "json") == 0 || strcmp(format, "jsonl") == 0)
			o.format = PV_LOGS_JSON;
		else
			return pv_cli_usage_error(cli, "logs anonymize: --format: expected auto, common, combined or json");
	}
	if (preset != NULL && pv_logs_preset(&o, preset) != 0)
		return pv_cli_usage_error(cli, "logs anonymize: --preset: expected anonip, ga, matomo1, matomo2 or matomo3");
	if (v4 != NULL && (rc = parse_bits(cli, "--ipv4-bits", v4, 32, &o.v4_bits)) != 0)
		return rc;
	if (v6 != NULL && (rc = parse_bits(cli, "--ipv6-bits", v6, 128, &o.v6_bits)) != 0)
		return rc;
	o.everywhere = all;
	o.mapped_as_v4 = mapped;
	o.key_dir = keydir;
	o.json_keys = keys.v;
	o.njson_keys = keys.n;
	if ((rc = pv_logs_anon_new(&a, &o)) != 0)
		return pv_cli_fail(rc);
	if (output != NULL && strcmp(output, "-") != 0) {
		out_fd = open(output, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (out_fd < 0) {
			fprintf(stderr, "privault: logs anonymize: cannot open the output file (errno %d)\n", errno);
			rc = PV_EXIT_ERROR;
			goto done;
		}
	}
	if (npos == 0)
		pos[npos++] = "-";
	for (size_t i = 0; i < npos && rc == 0; i++) {
		int in_fd = STDIN_FILENO;

		if (strcmp(pos[i], "-") != 0 && (in_fd = open(pos[i], O_RDONLY | O_CLOEXEC)) < 0) {
			fprintf(stderr, "privault: logs anonymize: cannot open input %zu (errno %d)\n", i + 1, errno);
			rc = PV_EXIT_ERROR;
			break;
		}
		if (pv_logs_anon_fd(a, in_fd, out_fd, &st) != 0)
			rc = pv_cli_fail(pv_error_last_code());
		if (in_fd != STDIN_FILENO)
			close(in_fd);
	}
	if (!quiet || st.malformed > 0)
		fprintf(stderr, "privault logs anonymize: %" PRIu64 " lines, %" PRIu64 " changed, %" PRIu64
			" malformed (passed through unchanged), %" PRIu64 " addresses masked\n",
			st.lines, st.changed, st.malformed, st.addresses);
done:
	if (out_fd != STDOUT_FILENO)
		close(out_fd);
	pv_logs_anon_free(a);
	return rc;
}

/* "100", "10k", "5M", "1G" (powers of 1024). */
static int parse_size(pv_cli *cli, const char *text, uint64_t *out)
{
	char num[32];
	size_t n = strlen(text);
	unsigned long long v;
	unsigned shift = 0;
	int rc;

	if (n == 0 || n >= sizeof(num))
		return pv_cli_usage_error(cli, "logs rotate: --max-size: expected a size like 100M");
	memcpy(num, text, n + 1);
	switch (num[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	default: break;
	}
	if (shift)
		num[n - 1] = '\0';
	if ((rc = pv_cli_parse_u64(cli, "--max-size", num, &v)) != 0)
		return rc;
	if (v > (UINT64_MAX >> shift))
		return pv_cli_usage_error(cli, "logs rotate: --max-size: too large");
	*out = (uint64_t)v << shift;
	return 0;
}

static int cmd_rotate(pv_cli *cli, int argc, char **argv)
{
	const char *max_size = NULL, *max_age = NULL, *retention = NULL, *policy = NULL, *postrotate = NULL;
	int no_compress = 0, rename_mode = 0, dry_run = 0;
	const pv_cli_opt opts[] = {
		{ "--max-size", &max_size, NULL, NULL },
		{ "--max-age", &max_age, NULL, NULL },
		{ "--retention", &retention, NULL, NULL },
		{ "--policy", &policy, NULL, NULL },
		{ "--no-compress", NULL, &no_compress, NULL },
		{ "--rename", NULL, &rename_mode, NULL },
		{ "--postrotate", &postrotate, NULL, NULL },
		{ "--dry-run", NULL, &dry_run, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	const char *pos[PV_CLI_MAX_POS];
	pv_logs_rotate_options o;
	size_t npos;
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, PV_CLI_MAX_POS, &npos);

	if (rc >= 0)
		return rc;
	if (npos == 0)
		return pv_cli_usage_error(cli, "logs rotate: expected at least one FILE");
	rc = 0;
	pv_logs_rotate_options_init(&o);
	if (max_size != NULL && (rc = parse_size(cli, max_size, &o.max_size)) != 0)
		return rc;
	if (max_age != NULL) {
		if (pv_duration_parse(&o.max_age, max_age) != 0 || o.max_age.unit == PV_DUR_INDEFINITE ||
		    o.max_age.unit == PV_DUR_SESSION)
			return pv_cli_usage_error(cli, "logs rotate: --max-age: expected a duration like \"1 day\"");
		o.has_max_age = 1;
	}
	if (retention != NULL) {
		if (pv_duration_parse(&o.retention, retention) != 0 || o.retention.unit == PV_DUR_SESSION)
			return pv_cli_usage_error(cli, "logs rotate: --retention: expected a duration like \"14 days\"");
		o.has_retention = o.retention.unit != PV_DUR_INDEFINITE;
	} else if (policy != NULL) {
		pv_policy *p = NULL;

		if ((rc = pv_policy_load_file(&p, policy, NULL)) != 0)
			return pv_cli_fail(rc);
		o.has_retention = pv_policy_access_log_retention(p, &o.retention) &&
				  o.retention.unit != PV_DUR_INDEFINITE;
		pv_policy_free(p);
	}
	if (postrotate != NULL && !rename_mode)
		return pv_cli_usage_error(cli, "logs rotate: --postrotate needs --rename");
	o.compress = !no_compress;
	o.mode = rename_mode ? PV_LOGS_RENAME : PV_LOGS_COPYTRUNCATE;
	o.postrotate = postrotate;
	o.dry_run = dry_run;
	if (o.max_size == 0 && !o.has_max_age && !o.has_retention)
		return pv_cli_usage_error(cli, "logs rotate: nothing to do: give --max-size, --max-age, "
					  "--retention or a --policy with retention.access_logs");
	for (size_t i = 0; i < npos; i++) {
		pv_logs_rotate_result r;
		int lr = pv_logs_rotate(pos[i], &o, &r);

		if (lr != 0) {
			fprintf(stderr, "privault: logs rotate: %s: %s\n", pos[i], pv_error_last());
			rc = pv_cli_exit_code(lr);
			continue;
		}
		printf("%s%s: %s%s%s, %" PRIu64 " bytes; %zu rotated file(s) deleted past retention, %zu kept\n",
		       dry_run ? "(dry run) " : "", pos[i], r.rotated ? "rotated (" : "not rotated",
		       r.rotated ? r.reason : "", r.rotated ? ")" : "", r.bytes, r.deleted, r.kept);
	}
	return rc;
}

int pv_cmd_logs(pv_cli *cli, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;

	if (verb == NULL)
		return pv_cli_usage_error(cli, "logs: expected anonymize or rotate");
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	if (strcmp(verb, "anonymize") == 0)
		return cmd_anonymize(cli, argc, argv);
	if (strcmp(verb, "rotate") == 0)
		return cmd_rotate(cli, argc, argv);
	return pv_cli_usage_error(cli, "logs: unknown verb '%s'", verb);
}
