/*
 * privault import: bulk loading of subjects and records from JSON lines or CSV.
 *
 * Formats (docs/cli.md has the full description):
 *
 *   JSON lines, one object per line:
 *     {"subject": {"identifiers": {"email": "...", "phone": "..."},
 *                  "regime": "gdpr", "birth_year": 1990, "parental_consent": false},
 *      "category": "identifiers", "purpose": "account_management",
 *      "source": "direct", "data": {...}}
 *   or "subject_id": "<uuid>" instead of "subject". The subject is found by its
 *   first identifier, else created with all of them.
 *
 *   CSV (RFC 4180: quoted fields, doubled quotes, embedded commas and newlines,
 *   CRLF or LF), header row required. Reserved columns: subject_id, id.<kind>
 *   (e.g. id.email), regime, birth_year, parental_consent, category, purpose,
 *   source. Every other column becomes a string field of the record's data.
 *
 *   A UTF-8 byte order mark at the start of the file is skipped; blank lines
 *   are skipped.
 *
 * Semantics: the input is read as a stream (never whole into memory). Rows are
 * gathered into batches of `batch_size`; each batch is first parsed and
 * validated in full (against the vault's current policy), then written in ONE
 * vault transaction. The first bad row stops the import: earlier batches stay
 * committed, nothing of the bad row's batch is written, and the error message
 * (pv_error_last) names the line number and the field, never the value:
 *     line 1234: field "category": unknown category
 * With `check_only` the whole input is validated and nothing is written (not
 * even an audit entry).
 */
#ifndef PRIVAULT_IMPORT_H
#define PRIVAULT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "privault/policy.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where an import stands; handed to the progress callback. */
typedef struct {
	size_t lines;               /* physical lines read so far */
	size_t rows;                /* data rows parsed so far */
	size_t records;             /* records written (committed or in the batch being written) */
	size_t batches_committed;
	uint64_t bytes_read;        /* input bytes consumed */
	uint64_t bytes_total;       /* input size, 0 when unknown (pipes) */
	int done;                   /* 1 on the last call */
} pv_import_progress;

typedef struct {
	const char *format;         /* "jsonl" or "csv"; NULL = from the file extension
				       (.csv -> csv, anything else -> jsonl) */
	size_t batch_size;          /* rows per transaction; 0 = PV_IMPORT_DEFAULT_BATCH,
				       at most PV_IMPORT_MAX_BATCH */
	int check_only;             /* validate everything, write nothing */
	/* Called after every batch and every few thousand rows; may be NULL. */
	void (*progress)(const pv_import_progress *p, void *payload);
	void *payload;
	/* Validate against this policy instead of the vault's current one; with
	 * v == NULL and check_only set, pv_import_buffer/stream need no vault
	 * at all (used by the fuzz target). NULL = the vault's current policy. */
	const pv_policy *policy;
} pv_import_options;

typedef struct {
	size_t lines;               /* physical lines read */
	size_t rows;                /* data rows parsed (and validated) */
	size_t records;             /* records written and committed */
	size_t subjects_created;    /* subjects created by committed batches */
	size_t batches_committed;
	size_t bad_line;            /* line of the first bad row (where it starts); 0 when none */
	char bad_field[64];         /* its field ("category", "subject.identifiers.email",
				       "data.name"), "" when the row as a whole was bad */
} pv_import_result;

/* Initialize options to the defaults (format by extension, default batch, no callback). */
void pv_import_options_init(pv_import_options *o);

/*
 * Import the file at `path` into `v` as `caller`. `o` may be NULL (defaults).
 * Returns 0 when every row was imported (or validated, with check_only);
 * PV_EINVAL / PV_ELIMIT for a bad row (out->bad_line, out->bad_field set,
 * message "line N: field "F": what was wrong"); PV_EIO when the file cannot be
 * read; a vault error code (PV_EDENIED, PV_EEXISTS, PV_ENOTFOUND, PV_ESTORE, ...)
 * prefixed with the line number when a write failed. `out` is always filled
 * (counts of what was done before the failure) and may be NULL.
 */
int pv_import_file(pv_vault *v, const pv_caller *caller, const char *path,
		   const pv_import_options *o, pv_import_result *out);

/*
 * The same on an in-memory buffer; `o->format` must be set ("jsonl" or "csv").
 * With v == NULL, `o->check_only` and `o->policy` must be set.
 */
int pv_import_buffer(pv_vault *v, const pv_caller *caller, const char *buf, size_t len,
		     const pv_import_options *o, pv_import_result *out);

#ifdef __cplusplus
}
#endif
#endif
