/*
 * `privault import FILE`: bulk import through pv_import_file, with a progress
 * line on stderr when stderr is a terminal (throttled to ~10 updates a second).
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

typedef struct {
	struct timespec last;
	int drawn;
} progress_state;

/* Draw "\rimport: N lines, M records, B batches [P%]" at most every 100 ms. */
static void progress(const pv_import_progress *p, void *payload)
{
	progress_state *st = payload;
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - st->last.tv_sec) * 1000 + (now.tv_nsec - st->last.tv_nsec) / 1000000;
	if (!p->done && st->drawn && ms < 100)
		return;
	st->last = now;
	st->drawn = 1;
	fprintf(stderr, "\rimport: %zu lines, %zu records, %zu batches", p->lines, p->records,
		p->batches_committed);
	if (p->bytes_total > 0)
		fprintf(stderr, " [%3u%%]", (unsigned)(p->bytes_read * 100 / p->bytes_total));
	if (p->done)
		fputc('\n', stderr);
	fflush(stderr);
}

int pv_cmd_import(pv_cli *cli, int argc, char **argv)
{
	const char *format = NULL, *batch = NULL;
	int check = 0, no_progress = 0;
	const pv_cli_opt opts[] = {
		{ "--format", &format, NULL, NULL },
		{ "--batch", &batch, NULL, NULL },
		{ "--check", NULL, &check, NULL },
		{ "--no-progress", NULL, &no_progress, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	progress_state st = { { 0, 0 }, 0 };
	pv_import_options o;
	pv_import_result r;
	const pv_caller *caller;
	const char *pos[1];
	unsigned long long n = 0;
	size_t npos;
	pv_vault *v;
	int rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 1, &npos);

	if (rc >= 0)
		return rc;
	if (npos != 1)
		return pv_cli_usage_error(cli, "import: expected FILE");
	if (format != NULL && strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0)
		return pv_cli_usage_error(cli, "import: --format: expected jsonl or csv");
	if (batch != NULL) {
		if ((rc = pv_cli_parse_u64(cli, "--batch", batch, &n)) != 0)
			return rc;
		if (n == 0)
			return pv_cli_usage_error(cli, "import: --batch: expected at least 1");
	}
	pv_import_options_init(&o);
	o.format = format;
	o.batch_size = (size_t)n;
	o.check_only = check;
	if (!no_progress && isatty(STDERR_FILENO)) {
		o.progress = progress;
		o.payload = &st;
	}
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	rc = pv_import_file(v, caller, pos[0], &o, &r);
	if (st.drawn && rc != 0)
		fputc('\n', stderr);
	if (rc != 0) {
		rc = pv_cli_fail(rc);
		if (!check && r.batches_committed > 0)
			fprintf(stderr, "privault: %zu batch(es) committed before the error: %zu records, "
				"%zu subjects created; the rest of the file was not imported\n",
				r.batches_committed, r.records, r.subjects_created);
	} else if (check) {
		printf("check ok: %zu rows in %zu lines are valid; nothing written\n", r.rows, r.lines);
	} else {
		printf("imported %zu records from %zu lines (%zu subjects created, %zu batches)\n",
		       r.records, r.lines, r.subjects_created, r.batches_committed);
	}
	pv_vault_close(v);
	return rc;
}
