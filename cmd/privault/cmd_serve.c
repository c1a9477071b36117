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

#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "cli.h"
#include "privault/fulfil.h"
#include "privault/outbox.h"
#include "privault/retention.h"
#include "privault/server.h"

#define DRAIN_MS 30000

/*
 * A job run on a timer by `privault serve` in a thread of its own with its own
 * vault handle, opened for each run: the first run `every_s` seconds after the
 * start, then every `every_s` seconds; stopping lets a run in progress finish.
 */
typedef struct schedule {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stop, started;
	unsigned long every_s;
	const char *vault_dir;
	pv_vault_options vopts;
	void (*run)(struct schedule *sc, pv_vault *v);   /* the job; reports on stderr itself */
	const char *what;                               /* for messages: "retention sweep" */
	/* job settings */
	size_t batch;
	const char *mail;
} schedule;

static void *schedule_main(void *arg)
{
	schedule *sc = arg;
	struct timespec until;
	int stop = 0;

	while (!stop) {
		pv_vault *v = NULL;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)sc->every_s;
		pthread_mutex_lock(&sc->lock);
		while (!sc->stop && pthread_cond_timedwait(&sc->wake, &sc->lock, &until) != ETIMEDOUT)
			;
		stop = sc->stop;
		pthread_mutex_unlock(&sc->lock);
		if (stop)
			break;
		if (pv_vault_open(&v, sc->vault_dir, &sc->vopts) < 0)
			fprintf(stderr, "privault serve: %s failed: %s\n", sc->what, pv_error_last());
		else
			sc->run(sc, v);
		pv_vault_close(v);
	}
	return NULL;
}

/* Start `sc` (every_s > 0) on the server's vault; a failure to start is reported, not fatal. */
static void schedule_start(schedule *sc, const pv_server_config *cfg)
{
	sc->vault_dir = cfg->vault_dir;
	sc->vopts.store = cfg->store[0] ? cfg->store : NULL;
	pthread_mutex_init(&sc->lock, NULL);
	pthread_cond_init(&sc->wake, NULL);
	sc->started = pthread_create(&sc->thread, NULL, schedule_main, sc) == 0;
	if (!sc->started)
		fprintf(stderr, "privault serve: cannot start the %s schedule\n", sc->what);
}

/* Stop a started schedule: a run in progress finishes first. */
static void schedule_stop(schedule *sc)
{
	if (!sc->started)
		return;
	pthread_mutex_lock(&sc->lock);
	sc->stop = 1;
	pthread_cond_signal(&sc->wake);
	pthread_mutex_unlock(&sc->lock);
	pthread_join(sc->thread, NULL);
}

/*
 * The retention schedule (docs/retention.md): pv_retention_sweep every
 * --sweep-every MIN or Ns (PRIVAULT_SWEEP_EVERY, default 60 minutes; 0 = off) as caller
 * "retention-schedule" (admin), in batches of --sweep-batch N
 * (PRIVAULT_SWEEP_BATCH, default 10000) so that each write transaction stays
 * short beside the server's, then purging at most 10 x that many rows of
 * destroyed records (a backlog goes over several runs: each run's work stays
 * bounded). A run that finds another sweep holding the
 * store's sweep lock (another server, a cron job) skips quietly: that sweep
 * does the work.
 */
static void sweep_run(schedule *sc, pv_vault *v)
{
	static const pv_caller caller = { "retention-schedule", PV_ROLE_ADMIN, NULL, 0 };
	pv_sweep_options o = { 0 };
	pv_sweep_report *r = NULL;

	o.batch = sc->batch;
	o.purge = 10 * sc->batch;
	/* PV_SWEEP_SKIPPED: another process's sweep holds the lock and does the work; say nothing */
	if (pv_retention_sweep(v, &caller, &o, &r) < 0)
		fprintf(stderr, "privault serve: retention sweep failed: %s\n", pv_error_last());
	if (r != NULL && (r->deleted || r->anonymized || r->subjects_erased || r->purged)) {
		char purged[48] = "";

		if (r->purged)
			snprintf(purged, sizeof(purged), ", purged %lld", (long long)r->purged);
		fprintf(stderr, "privault serve: retention sweep: deleted %lld, anonymized %lld, kept %lld, "
			"subjects erased %lld%s\n", (long long)r->deleted, (long long)r->anonymized,
			(long long)r->kept, (long long)r->subjects_erased, purged);
	}
	pv_sweep_report_free(r);
}

/*
 * The outbox schedule (docs/operations.md, "Outbox delivery"): pv_outbox_deliver
 * (the mail sink from --outbox-mail or PRIVAULT_OUTBOX_MAIL, as `privault
 * outbox deliver`) then pv_fulfil_purge, every --outbox-every SECONDS
 * (PRIVAULT_OUTBOX_EVERY, default 60; 0 = off), as caller "outbox-schedule"
 * (admin). Failures are reported by class on stderr; the messages stay queued
 * for the next run.
 */
static void outbox_run(schedule *sc, pv_vault *v)
{
	static const pv_caller caller = { "outbox-schedule", PV_ROLE_ADMIN, NULL, 0 };
	pv_outbox_config cfg = { 0 };
	pv_outbox_report r = { 0 };
	size_t purged = 0;

	cfg.mail = sc->mail;
	if (pv_outbox_deliver(v, &caller, 0, 0, &cfg, &r) < 0)
		fprintf(stderr, "privault serve: outbox delivery failed: %s\n", pv_error_last());
	else if (r.attempted)
		fprintf(stderr, "privault serve: outbox: attempted %zu, delivered %zu, retrying %zu, failed %zu\n",
			r.attempted, r.delivered, r.retrying, r.failed);
	if (pv_fulfil_purge(v, &caller, 0, &purged) < 0)
		fprintf(stderr, "privault serve: erasure purge failed: %s\n", pv_error_last());
	else if (purged)
		fprintf(stderr, "privault serve: erasure purge: %zu record rows deleted\n", purged);
}

/* Read an unsigned option, else its variable, else `def`. 0, or an exit code after printing. */
static int sweep_setting(pv_cli *cli, const char *opt, const char *value, const char *var,
			 unsigned long long def, unsigned long long *out)
{
	if (value == NULL)
		value = getenv(var);
	*out = def;
	return value == NULL ? 0 : pv_cli_parse_u64(cli, opt, value, out);
}

#define SWEEP_MAX_MINUTES 525600ULL    /* a year */
#define SWEEP_MAX_SECONDS 31536000ULL  /* a year */

/*
 * The retention schedule's period from --sweep-every, else PRIVAULT_SWEEP_EVERY,
 * else 60 minutes: MIN, a number of minutes (0..525600, 0 = off), or Ns, a
 * number of seconds (1..31536000; for tests and small vaults). Sets *every_s
 * to the period in seconds (0 = off). Returns 0, or the usage exit code after
 * printing an error naming --sweep-every (and the variable when it gave the value).
 */
static int sweep_period(pv_cli *cli, const char *value, unsigned long *every_s)
{
	const char *from = "";
	unsigned long long n = 0;
	char *end = NULL;
	int secs = 0, ok = 0;

	if (value == NULL && (value = getenv("PRIVAULT_SWEEP_EVERY")) != NULL)
		from = " ($PRIVAULT_SWEEP_EVERY)";
	*every_s = 60 * 60;
	if (value == NULL)
		return 0;
	/* digits only (strtoull alone would take spaces and signs), then nothing or "s" */
	if (value[0] >= '0' && value[0] <= '9') {
		errno = 0;
		n = strtoull(value, &end, 10);
		secs = strcmp(end, "s") == 0;
		ok = errno == 0 && (end[0] == '\0' || secs) &&
		     (secs ? n >= 1 && n <= SWEEP_MAX_SECONDS : n <= SWEEP_MAX_MINUTES);
	}
	if (!ok)
		return pv_cli_usage_error(cli, "serve: --sweep-every%s expects MIN, minutes 0..%llu (0 = off), "
					  "or Ns, seconds 1..%llu (e.g. 30s)", from, SWEEP_MAX_MINUTES,
					  SWEEP_MAX_SECONDS);
	*every_s = (unsigned long)(secs ? n : n * 60);
	return 0;
}

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
	const char *values[NFLAGS] = { 0 }, *sweep_every = NULL, *sweep_batch = NULL, *outbox_every = NULL,
		   *outbox_mail = NULL;
	char names[NFLAGS][32];
	pv_cli_opt opts[NFLAGS + 5];
	schedule sweep = { .run = sweep_run, .what = "retention sweep" };
	schedule outbox = { .run = outbox_run, .what = "outbox delivery" };
	unsigned long long batch = 0, oevery = 0;
	unsigned long every = 0;
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
	opts[NFLAGS] = (pv_cli_opt){ "--sweep-every", &sweep_every, NULL, NULL };
	opts[NFLAGS + 1] = (pv_cli_opt){ "--sweep-batch", &sweep_batch, NULL, NULL };
	opts[NFLAGS + 2] = (pv_cli_opt){ "--outbox-every", &outbox_every, NULL, NULL };
	opts[NFLAGS + 3] = (pv_cli_opt){ "--outbox-mail", &outbox_mail, NULL, NULL };
	opts[NFLAGS + 4] = (pv_cli_opt){ NULL, NULL, NULL, NULL };
	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	if ((rc = sweep_period(cli, sweep_every, &every)) != 0 ||
	    (rc = sweep_setting(cli, "--sweep-batch", sweep_batch, "PRIVAULT_SWEEP_BATCH", 10000, &batch)) != 0 ||
	    (rc = sweep_setting(cli, "--outbox-every", outbox_every, "PRIVAULT_OUTBOX_EVERY", 60, &oevery)) != 0)
		return rc;
	if (oevery > 86400)
		return pv_cli_usage_error(cli, "serve: --outbox-every expects 0..86400 seconds");
	if (batch == 0 || batch > PV_SWEEP_MAX_BATCH)
		return pv_cli_usage_error(cli, "serve: --sweep-batch expects 1..%d", PV_SWEEP_MAX_BATCH);
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
	if (every > 0) {
		sweep.every_s = every;
		sweep.batch = (size_t)batch;
		schedule_start(&sweep, &cfg);
	}
	if (oevery > 0) {
		outbox.every_s = (unsigned long)oevery;
		outbox.mail = outbox_mail;
		schedule_start(&outbox, &cfg);
	}
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
	/* a sweep or a delivery in progress finishes first */
	schedule_stop(&sweep);
	schedule_stop(&outbox);
	left = pv_server_stop(srv, DRAIN_MS);
	if (left > 0)
		fprintf(stderr, "privault serve: %d requests did not finish within %d s\n", left, DRAIN_MS / 1000);
	fprintf(stderr, "privault serve: stopped\n");
	return PV_EXIT_OK;
}
