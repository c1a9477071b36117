/*
 * `privault serve`: the HTTP/JSON server in the foreground.
 *
 * Configuration: defaults < file (--config or PRIVAULT_CONFIG) < PRIVAULT_*
 * variables < flags (docs/operations.md, "Running the server"). Signals are
 * handled on the main thread with sigwait: SIGHUP reloads the configuration
 * (same file, environment and flags) and the API keys; SIGTERM or SIGINT stop
 * accepting, let requests in flight finish (up to 30 s), and exit 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "privault/server.h"

#define DRAIN_MS 30000

/* Flags by configuration key: one --opt per key ("tls_cert" is --tls-cert). */
static const char *const flag_keys[] = {
	"config", "store", "listen", "port", "tls_cert", "tls_key", "threads", "max_body", "access_log",
	"auth_fail_burst", "auth_fail_per_minute", "group_commit_us", "max_batch", NULL
};
#define NFLAGS (sizeof(flag_keys) / sizeof(flag_keys[0]) - 1)

typedef struct {
	pv_server_setting v[NFLAGS + 2];
	size_t n;
} settings;

/* The settings given on the command line, in a fixed order; --vault only when it was given. */
static void collect(const pv_cli *cli, const char *const *values, settings *s)
{
	const char *env = getenv("PRIVAULT_VAULT");

	s->n = 0;
	for (size_t i = 0; i < NFLAGS; i++)
		if (values[i] != NULL) {
			s->v[s->n].key = flag_keys[i];
			s->v[s->n].value = values[i];
			s->n++;
		}
	if (cli->store != NULL) {
		s->v[s->n].key = "store";
		s->v[s->n].value = cli->store;
		s->n++;
	}
	/* main() defaults --vault to $PRIVAULT_VAULT or ./var/vault: only a different value is a flag */
	if (cli->vault_dir != NULL && strcmp(cli->vault_dir, "./var/vault") != 0 &&
	    (env == NULL || strcmp(env, cli->vault_dir) != 0)) {
		s->v[s->n].key = "vault";
		s->v[s->n].value = cli->vault_dir;
		s->n++;
	}
}

int pv_cmd_serve(pv_cli *cli, int argc, char **argv)
{
	const char *values[NFLAGS] = { 0 };
	char names[NFLAGS][32];
	pv_cli_opt opts[NFLAGS + 1];
	const char *pos[1];
	pv_server_config cfg;
	pv_server *srv = NULL;
	settings set;
	sigset_t mask;
	size_t npos, i;
	int rc, sig, left;

	for (i = 0; i < NFLAGS; i++) {
		size_t k;

		snprintf(names[i], sizeof(names[i]), "--%s", flag_keys[i]);
		for (k = 2; names[i][k]; k++)
			if (names[i][k] == '_')
				names[i][k] = '-';
		opts[i] = (pv_cli_opt){ names[i], &values[i], NULL, NULL };
	}
	opts[NFLAGS] = (pv_cli_opt){ NULL, NULL, NULL, NULL };
	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	collect(cli, values, &set);
	if ((rc = pv_server_config_resolve(&cfg, NULL, NULL, set.v, set.n)) < 0)
		return pv_cli_fail(rc);

	/* every thread inherits this mask; the signals are taken here, by sigwait */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = pv_server_start(&srv, &cfg)) < 0)
		return pv_cli_fail(rc);
	printf("privault serve: listening on %s://%s%s%s:%d (vault %s%s%s)\n", pv_server_tls(srv) ? "https" : "http",
	       strchr(cfg.listen, ':') ? "[" : "", cfg.listen, strchr(cfg.listen, ':') ? "]" : "",
	       pv_server_port(srv), cfg.vault_dir, cfg.config_file[0] ? ", config " : "", cfg.config_file);
	fflush(stdout);

	for (;;) {
		if (sigwait(&mask, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			pv_server_config next;

			fprintf(stderr, "privault serve: SIGHUP: reloading the configuration\n");
			if (pv_server_config_resolve(&next, NULL, NULL, set.v, set.n) < 0)
				fprintf(stderr, "privault serve: reload refused: %s; keeping the running "
					"configuration\n", pv_error_last());
			else
				pv_server_reload(srv, &next);
			continue;
		}
		fprintf(stderr, "privault serve: %s: stopping; letting requests in flight finish\n",
			sig == SIGTERM ? "SIGTERM" : "SIGINT");
		break;
	}
	left = pv_server_stop(srv, DRAIN_MS);
	if (left > 0)
		fprintf(stderr, "privault serve: %d requests did not finish within %d s\n", left, DRAIN_MS / 1000);
	fprintf(stderr, "privault serve: stopped\n");
	return PV_EXIT_OK;
}
