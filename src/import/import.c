/*
 * Bulk import: read rows as a stream, gather them into batches, validate each
 * batch in full, then write it in one vault transaction. See
 * include/privault/import.h for the formats and the guarantees.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/error.h"
#include "import/internal.h"

typedef struct {
	pv_vault *v;
	const pv_caller *caller;
	const pv_policy *policy;
	const pv_import_options *o;
	pv_import_result *res;
	pv_import_progress prog;
	pv_import_reader rd;
	int csv;
	pv_csv_header header;
	pv_csv_record *rec;       /* CSV only */
	pv_import_buf line;       /* JSON lines only */
	pv_import_row *rows;
	size_t nrows, batch;
} pv_import_ctx;

void pv_import_options_init(pv_import_options *o)
{
	memset(o, 0, sizeof(*o));
}

static void report(pv_import_ctx *c, int done)
{
	if (c->o->progress == NULL)
		return;
	c->prog.lines = c->rd.line;
	c->prog.rows = c->res->rows;
	c->prog.batches_committed = c->res->batches_committed;
	c->prog.records = c->res->records;
	c->prog.bytes_read = c->rd.consumed;
	c->prog.done = done;
	c->o->progress(&c->prog, c->o->payload);
}

/* Record the failing row's line and field in the result. */
static int failed_at(pv_import_ctx *c, int rc, const pv_import_err *e)
{
	c->res->bad_line = e->line;
	snprintf(c->res->bad_field, sizeof(c->res->bad_field), "%s", e->field);
	return rc;
}

/*
 * Read and parse the next row into *row. 1 for a row, 0 at end of input, or
 * an error (result's bad_line and bad_field set). Blank lines are skipped.
 */
static int next_row(pv_import_ctx *c, pv_import_row *row)
{
	pv_import_err e = { 0, "" };
	int rc;

	for (;;) {
		if (c->csv) {
			rc = pv_csv_read(&c->rd, c->rec, &e.line);
			if (rc <= 0) {
				if (rc < 0)
					e.line = e.line ? e.line : c->rd.line;
				return rc < 0 ? failed_at(c, rc, &e) : 0;
			}
			if (c->rec->n == 1 && c->rec->len[0] == 0)
				continue;   /* blank line */
			row->line = e.line;
			rc = pv_import_parse_csv(&c->header, c->rec, row, &e);
		} else {
			rc = pv_import_read_line(&c->rd, &c->line, &e.line);
			if (rc <= 0) {
				if (rc < 0)
					e.line = e.line ? e.line : c->rd.line;
				return rc < 0 ? failed_at(c, rc, &e) : 0;
			}
			if (strspn(c->line.data, " \t") == c->line.len)
				continue;
			row->line = e.line;
			rc = pv_import_parse_jsonl(c->line.data, c->line.len, row, &e);
		}
		if (rc == 0)
			rc = pv_import_row_validate(c->policy, row, &e);
		if (rc != 0)
			return failed_at(c, rc, &e);
		return 1;
	}
}

/* Find the row's subject by its first identifier, else create it. */
static int resolve_subject(pv_import_ctx *c, pv_import_row *row, char out[PV_ID_LEN + 1], size_t *created)
{
	pv_identifier idv[PV_SUBJECT_MAX_IDENTS];
	pv_subject_spec spec;
	int rc;

	if (row->subject_id[0] != '\0') {
		memcpy(out, row->subject_id, PV_ID_LEN + 1);
		return 0;
	}
	rc = pv_subject_find(c->v, c->caller, row->idents[0].kind, row->idents[0].value, out);
	if (rc != PV_ENOTFOUND)
		return rc;
	for (size_t i = 0; i < row->nidents; i++) {
		idv[i].kind = row->idents[i].kind;
		idv[i].value = row->idents[i].value;
	}
	memset(&spec, 0, sizeof(spec));
	spec.identifiers = idv;
	spec.nidentifiers = row->nidents;
	spec.regime = row->regime[0] ? row->regime : NULL;
	spec.birth_year = row->birth_year;
	spec.parental_consent = row->parental_consent;
	rc = pv_subject_create(c->v, c->caller, &spec, out);
	if (rc == 0)
		(*created)++;
	return rc;
}

/*
 * Write the gathered rows in one transaction (or, with check_only, just drop
 * them). On a failed write the transaction is rolled back, so nothing of the
 * batch remains, and the error names the row's line. Rows are freed either way.
 */
static int flush(pv_import_ctx *c)
{
	size_t created = 0, i = 0;
	int rc = 0;

	if (c->nrows == 0)
		return 0;
	if (!c->o->check_only) {
		rc = pv_vault_begin(c->v);
		for (i = 0; rc == 0 && i < c->nrows; i++) {
			pv_import_row *row = &c->rows[i];
			char subject[PV_ID_LEN + 1], rid[PV_ID_LEN + 1];
			pv_record_spec spec;
			pv_import_err e = { row->line, "" };

			rc = resolve_subject(c, row, subject, &created);
			if (rc != 0) {
				snprintf(e.field, sizeof(e.field), "%s", row->subject_id[0] ? "subject_id" : "subject");
				pv_error_wrap(rc, "line %zu: field \"%s\"", row->line, e.field);
				failed_at(c, rc, &e);
				break;
			}
			spec.category = row->category;
			spec.purpose = row->purpose;
			spec.source = row->source[0] ? row->source : NULL;
			spec.data = row->data;
			spec.len = row->len;
			rc = pv_record_put(c->v, c->caller, subject, &spec, rid);
			if (rc != 0) {
				if (row->subject_id[0] != '\0' && (rc == PV_ENOTFOUND || rc == PV_EERASED)) {
					snprintf(e.field, sizeof(e.field), "subject_id");
					pv_error_wrap(rc, "line %zu: field \"subject_id\"", row->line);
				} else {
					pv_error_wrap(rc, "line %zu", row->line);
				}
				failed_at(c, rc, &e);
				break;
			}
		}
		if (rc == 0) {
			rc = pv_vault_commit(c->v);
			if (rc != 0)
				pv_error_wrap(rc, "batch ending at line %zu: commit", c->rows[c->nrows - 1].line);
		} else {
			char keep[PV_ERRMSG_MAX];
			int code = pv_error_last_code();

			/* keep the write's message through the rollback */
			snprintf(keep, sizeof(keep), "%s", pv_error_last());
			pv_vault_rollback(c->v);
			pv_error_set(code, "%s", keep);
		}
		if (rc == 0) {
			c->res->batches_committed++;
			c->res->records += c->nrows;
			c->res->subjects_created += created;
		}
	}
	for (i = 0; i < c->nrows; i++)
		pv_import_row_free(&c->rows[i]);
	c->nrows = 0;
	report(c, 0);
	return rc;
}

/* The whole import over an open reader. */
static int run(pv_import_ctx *c)
{
	int rc;

	if (c->csv) {
		pv_import_err e = { 0, "" };

		c->rec = calloc(1, sizeof(*c->rec));
		if (c->rec == NULL)
			return pv_error_set(PV_ENOMEM, "import: out of memory");
		rc = pv_csv_read(&c->rd, c->rec, &e.line);
		if (rc == 0)
			return 0;   /* empty file: nothing to import */
		if (rc < 0)
			return failed_at(c, rc, &e);
		rc = pv_csv_header_parse(&c->header, c->rec, &e);
		if (rc != 0)
			return failed_at(c, rc, &e);
	}
	c->rows = calloc(c->batch, sizeof(*c->rows));
	if (c->rows == NULL)
		return pv_error_set(PV_ENOMEM, "import: out of memory");
	for (;;) {
		rc = next_row(c, &c->rows[c->nrows]);
		if (rc < 0) {
			pv_import_row_free(&c->rows[c->nrows]);
			break;
		}
		if (rc == 0) {
			rc = flush(c);
			break;
		}
		c->nrows++;
		c->res->rows++;
		if (c->nrows == c->batch && (rc = flush(c)) != 0)
			break;
		if (c->o->progress != NULL && (c->res->rows & 4095) == 0)
			report(c, 0);
	}
	/* a failed batch: free what was gathered, nothing of it was written */
	for (size_t i = 0; i < c->nrows; i++)
		pv_import_row_free(&c->rows[i]);
	c->nrows = 0;
	return rc;
}

/* Common entry: check options, open the reader, run, clean up. */
static int import_common(pv_vault *v, const pv_caller *caller, FILE *f, const char *buf, size_t len,
			 const char *format, uint64_t total, const pv_import_options *o, pv_import_result *out)
{
	pv_import_options defaults;
	pv_import_result scratch;
	pv_import_ctx c;
	int rc;

	if (out == NULL)
		out = &scratch;
	memset(out, 0, sizeof(*out));
	if (o == NULL) {
		pv_import_options_init(&defaults);
		o = &defaults;
	}
	memset(&c, 0, sizeof(c));
	c.v = v;
	c.caller = caller;
	c.o = o;
	c.res = out;
	c.prog.bytes_total = total;
	c.policy = o->policy != NULL ? o->policy : (v != NULL ? pv_vault_policy(v) : NULL);
	if (c.policy == NULL)
		return pv_error_set(PV_EINVAL, "import: no policy to validate against");
	if (v == NULL && !o->check_only)
		return pv_error_set(PV_EINVAL, "import: a vault is needed unless check_only is set");
	if (!o->check_only && caller == NULL)
		return pv_error_set(PV_EINVAL, "import: caller: expected a caller");
	if (format == NULL || (strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0))
		return pv_error_set(PV_EINVAL, "format: expected jsonl or csv");
	c.csv = strcmp(format, "csv") == 0;
	c.batch = o->batch_size ? o->batch_size : PV_IMPORT_DEFAULT_BATCH;
	if (c.batch > PV_IMPORT_MAX_BATCH)
		return pv_error_set(PV_ELIMIT, "batch_size: at most %d", PV_IMPORT_MAX_BATCH);
	rc = pv_import_reader_init(&c.rd, f, buf, len);
	if (rc == 0)
		rc = run(&c);
	out->lines = c.rd.line;
	if (c.o->progress != NULL)
		report(&c, 1);
	free(c.rows);
	if (c.rec != NULL) {
		pv_import_buf_free(&c.rec->b);
		free(c.rec);
	}
	pv_import_buf_free(&c.line);
	pv_csv_header_free(&c.header);
	pv_import_reader_free(&c.rd);
	return rc;
}

int pv_import_file(pv_vault *v, const pv_caller *caller, const char *path,
		   const pv_import_options *o, pv_import_result *out)
{
	const char *format = o != NULL ? o->format : NULL;
	struct stat st;
	uint64_t total = 0;
	FILE *f;
	int rc;

	if (path == NULL)
		return pv_error_set(PV_EINVAL, "path: expected a file name");
	if (format == NULL) {
		size_t n = strlen(path);

		format = n >= 4 && strcasecmp(path + n - 4, ".csv") == 0 ? "csv" : "jsonl";
	}
	f = fopen(path, "rb");
	if (f == NULL) {
		if (out != NULL)
			memset(out, 0, sizeof(*out));
		return pv_error_set(PV_EIO, "import: cannot open the input file");
	}
	if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;
	rc = import_common(v, caller, f, NULL, 0, format, total, o, out);
	fclose(f);
	return rc;
}

int pv_import_buffer(pv_vault *v, const pv_caller *caller, const char *buf, size_t len,
		     const pv_import_options *o, pv_import_result *out)
{
	if (o == NULL || o->format == NULL) {
		if (out != NULL)
			memset(out, 0, sizeof(*out));
		return pv_error_set(PV_EINVAL, "format: expected jsonl or csv");
	}
	return import_common(v, caller, NULL, buf, len, o->format, len, o, out);
}
