/*
 * Shared helpers of the privault command line: option parsing, the caller
 * from --as/--role/--grant, opening the vault, reading record data from a
 * file or stdin, and the one mapping from PV_E* codes to exit codes.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pv_cli_exit_code(int code)
{
	switch (code) {
	case PV_OK:
		return PV_EXIT_OK;
	case PV_ENOTFOUND:
	case PV_EERASED:
		return PV_EXIT_NOTFOUND;
	case PV_EDENIED:
		return PV_EXIT_DENIED;
	case PV_ETAMPER:
	case PV_ECRYPTO:
		return PV_EXIT_TAMPER;
	default:
		return PV_EXIT_ERROR;
	}
}

int pv_cli_fail(int code)
{
	const char *msg = pv_error_last();

	if (msg == NULL || msg[0] == '\0')
		msg = pv_error_name(code);
	fprintf(stderr, "privault: %s\n", msg);
	return pv_cli_exit_code(code);
}

void pv_cli_usage(const pv_cli *cli, FILE *f)
{
	if (cli->usage != NULL)
		fputs(cli->usage, f);
	fprintf(f, "global options: --vault DIR, --store URL, --as NAME, --role admin|service|auditor, --grant P[:C,C]\n");
}

int pv_cli_usage_error(pv_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fputs("privault: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pv_cli_usage(cli, stderr);
	return PV_EXIT_USAGE;
}

/* The option of `opts` (or the global table) named by `a` up to `len` bytes. */
static const pv_cli_opt *find_opt(const pv_cli_opt *opts, const char *a, size_t len)
{
	for (const pv_cli_opt *o = opts; o != NULL && o->name != NULL; o++)
		if (strlen(o->name) == len && strncmp(o->name, a, len) == 0)
			return o;
	return NULL;
}

int pv_cli_parse(pv_cli *cli, int argc, char **argv, int first, const pv_cli_opt *opts,
		 const char **pos, size_t maxpos, size_t *npos)
{
	const pv_cli_opt globals[] = {
		{ "--vault", &cli->vault_dir, NULL, NULL },
		{ "--store", &cli->store, NULL, NULL },
		{ "--as", &cli->as_name, NULL, NULL },
		{ "--role", &cli->role, NULL, NULL },
		{ "--grant", NULL, NULL, &cli->grants },
		{ NULL, NULL, NULL, NULL }
	};
	int only_pos = 0;

	*npos = 0;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;
		const pv_cli_opt *o;
		size_t len;

		if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
			if (*npos >= maxpos)
				return pv_cli_usage_error(cli, "%s: unexpected argument '%s'", cli->command, a);
			pos[(*npos)++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			pv_cli_usage(cli, stdout);
			return PV_EXIT_OK;
		}
		eq = strchr(a, '=');
		len = eq != NULL ? (size_t)(eq - a) : strlen(a);
		o = find_opt(opts, a, len);
		if (o == NULL)
			o = find_opt(globals, a, len);
		if (o == NULL)
			return pv_cli_usage_error(cli, "%s: unknown option '%.*s'", cli->command, (int)len, a);
		if (o->flag != NULL) {
			if (eq != NULL)
				return pv_cli_usage_error(cli, "%s: option '%s' takes no value", cli->command, o->name);
			*o->flag = 1;
			continue;
		}
		if (eq != NULL) {
			val = eq + 1;
		} else {
			if (i + 1 >= argc)
				return pv_cli_usage_error(cli, "%s: option '%s' needs a value", cli->command, o->name);
			val = argv[++i];
		}
		if (o->value != NULL) {
			*o->value = val;
		} else {
			if (o->list->n >= PV_CLI_MAX_MULTI)
				return pv_cli_usage_error(cli, "%s: option '%s' given more than %d times",
							  cli->command, o->name, PV_CLI_MAX_MULTI);
			o->list->v[o->list->n++] = val;
		}
	}
	return -1;
}

int pv_cli_parse_u64(pv_cli *cli, const char *opt, const char *text, unsigned long long *out)
{
	char *end;

	errno = 0;
	if (text == NULL || text[0] < '0' || text[0] > '9')
		return pv_cli_usage_error(cli, "%s: option '%s' expects a non-negative number", cli->command, opt);
	*out = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return pv_cli_usage_error(cli, "%s: option '%s' expects a non-negative number", cli->command, opt);
	return 0;
}

/*
 * Build the caller from --as, --role and --grant. Grant texts are copied and
 * split in place ("purpose:cat1,cat2"); the copies are freed by
 * pv_cli_caller_free(). Returns 0, or an exit code after printing the error.
 */
int pv_cli_caller(pv_cli *cli, const pv_caller **out)
{
	pv_caller *c = &cli->caller;

	if (cli->as_name == NULL || cli->as_name[0] == '\0')
		return pv_cli_usage_error(cli, "--as: expected a non-empty caller name");
	c->name = cli->as_name;
	if (strcmp(cli->role, "admin") == 0)
		c->role = PV_ROLE_ADMIN;
	else if (strcmp(cli->role, "service") == 0)
		c->role = PV_ROLE_SERVICE;
	else if (strcmp(cli->role, "auditor") == 0)
		c->role = PV_ROLE_AUDITOR;
	else
		return pv_cli_usage_error(cli, "--role: expected admin, service or auditor");
	for (size_t i = 0; i < cli->grants.n; i++) {
		pv_grant *g = &cli->grant_buf[i];
		char *t, *colon, *save = NULL, *tok;
		size_t nc = 0;

		if (cli->grant_text[i] == NULL) {
			cli->grant_text[i] = strdup(cli->grants.v[i]);
			if (cli->grant_text[i] == NULL) {
				fprintf(stderr, "privault: out of memory\n");
				return PV_EXIT_ERROR;
			}
		}
		t = cli->grant_text[i];
		colon = strchr(t, ':');
		if (colon != NULL) {
			*colon = '\0';
			for (tok = strtok_r(colon + 1, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
				if (nc >= PV_CLI_MAX_MULTI)
					return pv_cli_usage_error(cli, "--grant: at most %d categories", PV_CLI_MAX_MULTI);
				cli->cat_buf[i][nc++] = tok;
			}
			if (nc == 0)
				return pv_cli_usage_error(cli, "--grant: expected PURPOSE[:CATEGORY,CATEGORY]");
		}
		if (t[0] == '\0')
			return pv_cli_usage_error(cli, "--grant: expected PURPOSE[:CATEGORY,CATEGORY]");
		g->purpose = t;
		g->categories = nc > 0 ? cli->cat_buf[i] : NULL;
		g->ncategories = nc;
	}
	c->grants = cli->grants.n > 0 ? cli->grant_buf : NULL;
	c->ngrants = cli->grants.n;
	*out = c;
	return 0;
}

void pv_cli_caller_free(pv_cli *cli)
{
	for (size_t i = 0; i < PV_CLI_MAX_MULTI; i++) {
		free(cli->grant_text[i]);
		cli->grant_text[i] = NULL;
	}
}

int pv_cli_open(pv_cli *cli, pv_vault **out)
{
	pv_vault_options opts = { .store = cli->store };
	int rc = pv_vault_open(out, cli->vault_dir, cli->store != NULL ? &opts : NULL);

	if (rc != 0)
		return pv_cli_fail(rc);
	return 0;
}

void pv_cli_wipe_free(char *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

/*
 * Read all of `f` (at most PV_CLI_MAX_INPUT bytes) into a malloc'd,
 * NUL-terminated buffer. Every intermediate buffer is wiped before it is
 * freed: the input is personal data. 0 or an exit code after printing.
 */
static int read_all(FILE *f, const char *what, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (buf == NULL)
		goto nomem;
	for (;;) {
		size_t got;

		if (n + 1 >= cap) {
			char *nb;

			if (cap >= PV_CLI_MAX_INPUT + 1) {
				pv_cli_wipe_free(buf, cap);
				fprintf(stderr, "privault: %s: larger than %u bytes\n", what, PV_CLI_MAX_INPUT);
				return PV_EXIT_ERROR;
			}
			nb = malloc(cap * 2 > PV_CLI_MAX_INPUT + 1 ? PV_CLI_MAX_INPUT + 1 : cap * 2);
			if (nb == NULL)
				goto nomem;
			memcpy(nb, buf, n);
			pv_cli_wipe_free(buf, cap);
			buf = nb;
			cap = cap * 2 > PV_CLI_MAX_INPUT + 1 ? PV_CLI_MAX_INPUT + 1 : cap * 2;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0) {
			if (ferror(f)) {
				pv_cli_wipe_free(buf, cap);
				fprintf(stderr, "privault: %s: read failed\n", what);
				return PV_EXIT_ERROR;
			}
			break;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
nomem:
	pv_cli_wipe_free(buf, cap);
	fprintf(stderr, "privault: out of memory\n");
	return PV_EXIT_ERROR;
}

int pv_cli_read_data(const char *data, const char *file, char **out, size_t *len)
{
	FILE *f;
	int rc;

	if (data != NULL) {
		*len = strlen(data);
		*out = strdup(data);
		if (*out == NULL) {
			fprintf(stderr, "privault: out of memory\n");
			return PV_EXIT_ERROR;
		}
		return 0;
	}
	if (file == NULL || strcmp(file, "-") == 0)
		return read_all(stdin, "stdin", out, len);
	f = fopen(file, "rb");
	if (f == NULL) {
		fprintf(stderr, "privault: --data-file: cannot open the file: %s\n", strerror(errno));
		return PV_EXIT_ERROR;
	}
	rc = read_all(f, "--data-file", out, len);
	fclose(f);
	return rc;
}

int pv_cli_read_stdin_line(char **out, size_t *len)
{
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;

	if (isatty(STDIN_FILENO))
		fprintf(stderr, "value: ");
	n = getline(&buf, &cap, stdin);
	if (n < 0) {
		pv_cli_wipe_free(buf, cap);
		fprintf(stderr, "privault: expected the value on stdin\n");
		return PV_EXIT_USAGE;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* Keep the buffer's full capacity for wiping: copy into an exact-size one. */
	*out = strdup(buf);
	*len = (size_t)n;
	pv_cli_wipe_free(buf, cap);
	if (*out == NULL) {
		fprintf(stderr, "privault: out of memory\n");
		return PV_EXIT_ERROR;
	}
	return 0;
}
