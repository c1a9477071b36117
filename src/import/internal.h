/*
 * privault import (private to src/import): the streaming reader, the CSV
 * tokenizer, parsed rows and their validation. include/privault/import.h is
 * the public side.
 */
#ifndef PV_IMPORT_INTERNAL_H
#define PV_IMPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/limits.h"
#include "privault/import.h"

#define PV_IMPORT_CHUNK 65536

/* ---- the reader: a FILE or a buffer, read in chunks, never whole ---- */
typedef struct {
	FILE *f;                    /* NULL for a buffer */
	const char *p, *end;        /* unread bytes of the current chunk (or of the buffer) */
	char *chunk;                /* PV_IMPORT_CHUNK bytes when reading a FILE */
	uint64_t consumed;          /* bytes handed out */
	size_t line;                /* physical lines started so far (1 after the first byte) */
	int at_line_start;
	int io_error;
} pv_import_reader;

/* A growable byte buffer with a hard maximum; its contents are wiped when it grows or is freed. */
typedef struct {
	char *data;
	size_t len, cap;
} pv_import_buf;

/* Open a reader on `f` or on buf[0..len); skips a UTF-8 byte order mark. 0 or PV_ENOMEM. */
int pv_import_reader_init(pv_import_reader *r, FILE *f, const char *buf, size_t len);
void pv_import_reader_free(pv_import_reader *r);

int pv_import_buf_put(pv_import_buf *b, char c);
void pv_import_buf_free(pv_import_buf *b);

/*
 * Read one physical line into `b` (without "\n" or "\r\n"; NUL-terminated).
 * *start_line gets its line number. Returns 1 for a line, 0 at end of input,
 * PV_ELIMIT when it exceeds PV_IMPORT_MAX_LINE (the rest of it is skipped),
 * PV_EIO on a read error, PV_ENOMEM.
 */
int pv_import_read_line(pv_import_reader *r, pv_import_buf *b, size_t *start_line);

/* One CSV record: fields NUL-terminated in `b`, field i at b.data + off[i], len[i] bytes. */
typedef struct {
	pv_import_buf b;
	size_t off[PV_IMPORT_MAX_COLUMNS], len[PV_IMPORT_MAX_COLUMNS];
	size_t n;
} pv_csv_record;

/*
 * Read one CSV record (RFC 4180; quoted fields may span lines). *start_line
 * gets the line it starts on. Returns 1, 0 at end of input, or an error with
 * the message set (PV_EINVAL "unterminated quoted field", "unexpected quote",
 * PV_ELIMIT for too long a record or too many columns, PV_EIO, PV_ENOMEM).
 * A blank line is a record with one empty field.
 */
int pv_csv_read(pv_import_reader *r, pv_csv_record *rec, size_t *start_line);

/* ---- parsed rows ---- */
typedef struct {
	char *kind;
	char *value;                /* personal data: wiped on free */
} pv_import_ident;

typedef struct {
	size_t line;
	char subject_id[PV_ID_LEN + 1];   /* "" when identifiers are used */
	pv_import_ident *idents;
	size_t nidents;
	char regime[8];                   /* "" = the policy's default */
	int birth_year;
	int parental_consent;
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	char source[PV_ID_MAX_LEN + 1];   /* "" = none */
	char *data;                       /* compact JSON object; personal data: wiped on free */
	size_t len;
} pv_import_row;

void pv_import_row_free(pv_import_row *row);   /* frees and wipes the contents, not row itself */

/* Where a row went wrong: set by the parse and validate functions below. */
typedef struct {
	size_t line;
	char field[64];
} pv_import_err;

/*
 * Fail at e->line on `field` (may be NULL or "") with a printf message;
 * sets the thread error to "line N: field "F": MESSAGE" and returns `code`.
 */
int pv_import_fail(pv_import_err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Copy `name` into out (64 bytes) when it looks like a field name, else `fallback`. */
void pv_import_field_name(char out[64], const char *prefix, const char *name, const char *fallback);

/* Parse one JSON line into `row` (zeroed by the caller). 0 or an error via pv_import_fail. */
int pv_import_parse_jsonl(const char *line, size_t len, pv_import_row *row, pv_import_err *e);

/* The CSV header: what each column is. */
typedef enum {
	PV_COL_DATA = 0, PV_COL_SUBJECT_ID, PV_COL_IDENT, PV_COL_REGIME, PV_COL_BIRTH_YEAR,
	PV_COL_PARENTAL_CONSENT, PV_COL_CATEGORY, PV_COL_PURPOSE, PV_COL_SOURCE
} pv_csv_col_kind;

typedef struct {
	size_t n;
	pv_csv_col_kind kind[PV_IMPORT_MAX_COLUMNS];
	char *name[PV_IMPORT_MAX_COLUMNS];    /* column header; for id.<kind> the kind */
	char label[PV_IMPORT_MAX_COLUMNS][64];  /* safe name for messages */
} pv_csv_header;

/* Read the header from `rec`. 0 or an error via pv_import_fail (at e->line). */
int pv_csv_header_parse(pv_csv_header *h, const pv_csv_record *rec, pv_import_err *e);
void pv_csv_header_free(pv_csv_header *h);
/* Parse one CSV record into `row`. 0 or an error via pv_import_fail. */
int pv_import_parse_csv(const pv_csv_header *h, const pv_csv_record *rec, pv_import_row *row, pv_import_err *e);

/* Validate a parsed row against the policy (ids known, purpose covers category, ...). */
int pv_import_row_validate(const pv_policy *p, const pv_import_row *row, pv_import_err *e);

/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
int pv_import_utf8_valid(const char *s, size_t len);

#endif
