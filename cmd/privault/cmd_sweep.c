/*
 * `privault sweep [--dry-run] [--now T] [--batch N] [--purge N] [--json] [--subjects]`:
 * remove the records whose retention has ended (delete or anonymize, per the
 * policy), keep what legal holds cover, erase the subjects left with nothing,
 * then purge the rows of records whose epoch key is destroyed (all of them by
 * default, at most N with --purge N, none with --purge 0; rows left by earlier
 * sweeps too, so a sweep with nothing new to remove still purges). --purge
 * with --dry-run is a usage error: a dry run writes nothing.
 * Meant for cron. Exit codes (docs/retention.md): 0 done (also when nothing
 * had expired), 1 error (batches before the failing one stay committed; the
 * summary says how far it got), 2 usage, 3 no vault, 4 the caller is not admin,
 * 5 skipped: another sweep is running on this vault (it holds the sweep lock).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "privault/retention.h"

/* Exit code when another sweep holds the sweep lock: nothing was done (not a failure). */
#define PV_EXIT_SWEEP_SKIPPED 5

/* The report as one JSON object on stdout. 0, or 1 when it cannot be formatted. */
static int print_json(const pv_sweep_report *r, int subjects)
{
	json_t *o, *lines, *erased = NULL;
	char when[32];
	char *text;
	size_t i;

	lines = json_array();
	for (i = 0; lines != NULL && i < r->ncounts; i++)
		json_array_append_new(lines, json_pack("{s:s,s:s,s:s,s:I}",
						       "category", r->counts[i].category,
						       "purpose", r->counts[i].purpose,
						       "action", pv_retention_action_name(r->counts[i].action),
						       "records", (json_int_t)r->counts[i].records));
	if (subjects || r->dry_run) {
		erased = json_array();
		for (i = 0; erased != NULL && i < r->nerased; i++)
			json_array_append_new(erased, json_string(r->erased[i]));
	}
	o = json_pack("{s:b,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
		      "dry_run", r->dry_run, "now", pv_time_format(r->now, when, sizeof(when)),
		      "deleted", (json_int_t)r->deleted, "anonymized", (json_int_t)r->anonymized,
		      "kept", (json_int_t)r->kept, "subjects_erased", (json_int_t)r->subjects_erased,
		      "batches", (json_int_t)r->batches, "destroyed", (json_int_t)r->destroyed,
		      "purged", (json_int_t)r->purged, "counts", lines);
	if (o != NULL && erased != NULL)
		json_object_set_new(o, "erased", erased);
	else
		json_decref(erased);
	text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text == NULL)
		return 1;
	puts(text);
	free(text);
	return 0;
}

/*
 * The report as text: one tab-separated line per category x purpose x action
 * ("delete<TAB>commercial<TAB>order_fulfilment<TAB>2"), "erase<TAB>ID" per
 * subject (always in a dry run, with --subjects otherwise), then a summary
 * ending in the records whose epoch key went ("destroyed", of those deleted
 * and anonymized) and the destroyed rows purged (0 in a dry run).
 */
static void print_text(const pv_sweep_report *r, int subjects)
{
	char when[32];
	size_t i;

	for (i = 0; i < r->ncounts; i++)
		printf("%s\t%s\t%s\t%" PRId64 "\n", pv_retention_action_name(r->counts[i].action),
		       r->counts[i].category, r->counts[i].purpose, r->counts[i].records);
	if (subjects || r->dry_run)
		for (i = 0; i < r->nerased; i++)
			printf("erase\t%s\n", r->erased[i]);
	printf("%s at %s: %s %" PRId64 ", %s %" PRId64 ", kept %" PRId64 " (held or restricted), "
	       "subjects %s %" PRId64 ", batches %" PRId64 ", %s %" PRId64 ", purged %" PRId64 "\n",
	       r->dry_run ? "dry run" : "sweep", pv_time_format(r->now, when, sizeof(when)),
	       r->dry_run ? "would delete" : "deleted", r->deleted,
	       r->dry_run ? "would anonymize" : "anonymized", r->anonymized, r->kept,
	       r->dry_run ? "to erase" : "erased", r->subjects_erased, r->batches,
	       r->dry_run ? "would destroy" : "destroyed", r->destroyed, r->purged);
}

int pv_cmd_sweep(pv_cli *cli, int argc, char **argv)
{
	const char *now = NULL, *batch = NULL, *purge = NULL;
	int dry = 0, json = 0, subjects = 0;
	const pv_cli_opt opts[] = {
		{ "--dry-run", NULL, &dry, NULL },
		{ "--now", &now, NULL, NULL },
		{ "--batch", &batch, NULL, NULL },
		{ "--purge", &purge, NULL, NULL },
		{ "--json", NULL, &json, NULL },
		{ "--subjects", NULL, &subjects, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	pv_sweep_options o = { 0 };
	pv_sweep_report *r = NULL;
	const pv_caller *caller;
	unsigned long long n;
	const char *pos[1];
	size_t npos;
	pv_vault *v;
	int rc, code;

	rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 0, &npos);
	if (rc >= 0)
		return rc;
	o.dry_run = dry;
	if (now != NULL && pv_time_parse(&o.now, now) != 0)
		return pv_cli_usage_error(cli, "sweep: --now expects YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	if (batch != NULL) {
		if ((rc = pv_cli_parse_u64(cli, "--batch", batch, &n)) != 0)
			return rc;
		if (n == 0 || n > PV_SWEEP_MAX_BATCH)
			return pv_cli_usage_error(cli, "sweep: --batch expects 1..%d", PV_SWEEP_MAX_BATCH);
		o.batch = (size_t)n;
	}
	/* by default every destroyed row goes; a dry run writes nothing, so a limit there is a mistake */
	o.purge = dry ? 0 : PV_SWEEP_PURGE_ALL;
	if (purge != NULL) {
		if ((rc = pv_cli_parse_u64(cli, "--purge", purge, &n)) != 0)
			return rc;
		if (dry)
			return pv_cli_usage_error(cli, "sweep: --purge: a dry run purges nothing; drop --purge "
						  "or --dry-run");
		if (n >= (unsigned long long)PV_SWEEP_PURGE_ALL)
			return pv_cli_usage_error(cli, "sweep: --purge expects 0..%zu", PV_SWEEP_PURGE_ALL - 1);
		o.purge = (size_t)n;
	}
	if ((rc = pv_cli_caller(cli, &caller)) != 0)
		return rc;
	if ((rc = pv_cli_open(cli, &v)) != 0)
		return rc;
	code = pv_retention_sweep(v, caller, &o, &r);
	if (code == PV_SWEEP_SKIPPED) {
		/* not a failure: the sweep that holds the lock does the work */
		fprintf(stderr, "privault: sweep: another sweep is running on this vault; skipped\n");
		pv_sweep_report_free(r);
		pv_vault_close(v);
		return PV_EXIT_SWEEP_SKIPPED;
	}
	if (code != 0)
		rc = pv_cli_fail(code);
	/* after a failure, say how far the committed batches (and the purge) got */
	if (r != NULL && (code == 0 || r->batches > 0 || r->purged > 0)) {
		if (!json) {
			print_text(r, subjects);
		} else if (print_json(r, subjects) != 0) {
			fprintf(stderr, "privault: sweep: could not format the report\n");
			rc = PV_EXIT_ERROR;
		}
	}
	pv_sweep_report_free(r);
	pv_vault_close(v);
	return rc;
}
