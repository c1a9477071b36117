/*
 * The import's streaming reader: chunks of a FILE (or a buffer), physical
 * lines with CRLF handling, and the RFC 4180 CSV tokenizer. Line numbers are
 * counted here so every error can name the line it happened on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "import/internal.h"

int pv_import_reader_init(pv_import_reader *r, FILE *f, const char *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->at_line_start = 1;
	if (f != NULL) {
		size_t n;

		r->chunk = malloc(PV_IMPORT_CHUNK);
		if (r->chunk == NULL)
			return pv_error_set(PV_ENOMEM, "import: out of memory");
		n = fread(r->chunk, 1, PV_IMPORT_CHUNK, f);
		if (n == 0 && ferror(f))
			r->io_error = 1;
		r->p = r->chunk;
		r->end = r->chunk + n;
	} else {
		r->p = buf != NULL ? buf : "";
		r->end = r->p + (buf != NULL ? len : 0);
	}
	if (r->end - r->p >= 3 && memcmp(r->p, "\xef\xbb\xbf", 3) == 0) {
		r->p += 3;
		r->consumed = 3;
	}
	return 0;
}

void pv_import_reader_free(pv_import_reader *r)
{
	if (r->chunk != NULL) {
		sodium_memzero(r->chunk, PV_IMPORT_CHUNK);
		free(r->chunk);
	}
	r->chunk = NULL;
}

/* Refill from the FILE. 1 when bytes are available, 0 at end (or error, flagged). */
static int refill(pv_import_reader *r)
{
	size_t n;

	if (r->f == NULL || r->io_error)
		return 0;
	sodium_memzero(r->chunk, PV_IMPORT_CHUNK);
	n = fread(r->chunk, 1, PV_IMPORT_CHUNK, r->f);
	if (n == 0 && ferror(r->f))
		r->io_error = 1;
	r->p = r->chunk;
	r->end = r->chunk + n;
	return n > 0;
}

/* The next byte, or -1 at end of input. Counts lines as they start. */
static inline int next(pv_import_reader *r)
{
	int c;

	if (r->p == r->end && !refill(r))
		return -1;
	c = (unsigned char)*r->p++;
	r->consumed++;
	if (r->at_line_start) {
		r->line++;
		r->at_line_start = 0;
	}
	if (c == '\n')
		r->at_line_start = 1;
	return c;
}

/* Peek at the next byte without consuming it; -1 at end. */
static inline int peek(pv_import_reader *r)
{
	if (r->p == r->end && !refill(r))
		return -1;
	return (unsigned char)*r->p;
}

int pv_import_buf_put(pv_import_buf *b, char c)
{
	if (b->len + 1 >= b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 256;
		char *nd;

		if (ncap > PV_IMPORT_MAX_LINE + 2)
			ncap = PV_IMPORT_MAX_LINE + 2;
		if (b->len + 1 >= ncap)
			return PV_ELIMIT;
		nd = malloc(ncap);
		if (nd == NULL)
			return pv_error_set(PV_ENOMEM, "import: out of memory");
		if (b->data != NULL) {
			memcpy(nd, b->data, b->len);
			sodium_memzero(b->data, b->cap);
			free(b->data);
		}
		b->data = nd;
		b->cap = ncap;
	}
	b->data[b->len++] = c;
	return 0;
}

void pv_import_buf_free(pv_import_buf *b)
{
	if (b->data != NULL) {
		sodium_memzero(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

int pv_import_read_line(pv_import_reader *r, pv_import_buf *b, size_t *start_line)
{
	int c, too_long = 0, rc;

	b->len = 0;
	c = next(r);
	if (c < 0)
		return r->io_error ? pv_error_set(PV_EIO, "import: read failed") : 0;
	*start_line = r->line;
	for (; c >= 0 && c != '\n'; c = next(r)) {
		if (too_long)
			continue;
		if (b->len >= PV_IMPORT_MAX_LINE) {
			too_long = 1;
			continue;
		}
		rc = pv_import_buf_put(b, (char)c);
		if (rc == PV_ELIMIT) {
			too_long = 1;
			continue;
		}
		if (rc != 0)
			return rc;
	}
	if (r->io_error)
		return pv_error_set(PV_EIO, "import: read failed");
	if (too_long)
		return pv_error_set(PV_ELIMIT, "line %zu: longer than %u bytes", *start_line, PV_IMPORT_MAX_LINE);
	if (b->len > 0 && b->data[b->len - 1] == '\r')
		b->len--;
	if ((rc = pv_import_buf_put(b, '\0')) != 0)
		return rc == PV_ELIMIT ? pv_error_set(PV_ELIMIT, "line %zu: too long", *start_line) : rc;
	b->len--;
	return 1;
}

/* End the current field: NUL-terminate it and record its offset and length. */
static int end_field(pv_csv_record *rec, size_t start, size_t line)
{
	int rc;

	if (rec->n >= PV_IMPORT_MAX_COLUMNS)
		return pv_error_set(PV_ELIMIT, "line %zu: more than %d columns", line, PV_IMPORT_MAX_COLUMNS);
	rec->off[rec->n] = start;
	rec->len[rec->n] = rec->b.len - start;
	rec->n++;
	rc = pv_import_buf_put(&rec->b, '\0');
	if (rc == PV_ELIMIT)
		return pv_error_set(PV_ELIMIT, "line %zu: record longer than %u bytes", line, PV_IMPORT_MAX_LINE);
	return rc;
}

/*
 * The RFC 4180 state machine. A field is quoted when its first byte is '"';
 * inside, "" is a quote and newlines and commas are data. After the closing
 * quote only ',', a line end or the end of input may follow. Unquoted fields
 * may not contain quotes. A record ends at an unquoted "\n" or "\r\n".
 */
int pv_csv_read(pv_import_reader *r, pv_csv_record *rec, size_t *start_line)
{
	size_t start = 0;
	int c, rc;

	rec->b.len = 0;
	rec->n = 0;
	c = next(r);
	if (c < 0)
		return r->io_error ? pv_error_set(PV_EIO, "import: read failed") : 0;
	*start_line = r->line;
	for (;;) {
		/* at the start of a field, c is its first byte (or -1, '\n', ',') */
		if (c == '"') {
			for (;;) {
				c = next(r);
				if (c < 0) {
					if (r->io_error)
						return pv_error_set(PV_EIO, "import: read failed");
					return pv_error_set(PV_EINVAL, "line %zu: column %zu: unterminated quoted field",
							    *start_line, rec->n + 1);
				}
				if (c == '"') {
					if (peek(r) == '"') {
						next(r);
					} else {
						break;
					}
				}
				if ((rc = pv_import_buf_put(&rec->b, (char)c)) != 0)
					goto put_failed;
			}
			c = next(r);
			if (c == '\r' && peek(r) == '\n')
				c = next(r);
			if (c >= 0 && c != ',' && c != '\n')
				return pv_error_set(PV_EINVAL, "line %zu: column %zu: unexpected character after a closing quote",
						    r->line, rec->n + 1);
		} else {
			while (c >= 0 && c != ',' && c != '\n') {
				if (c == '\r' && peek(r) == '\n') {
					c = next(r);
					break;
				}
				if (c == '"')
					return pv_error_set(PV_EINVAL, "line %zu: column %zu: quote inside an unquoted field",
							    r->line, rec->n + 1);
				if ((rc = pv_import_buf_put(&rec->b, (char)c)) != 0)
					goto put_failed;
				c = next(r);
			}
		}
		if (r->io_error)
			return pv_error_set(PV_EIO, "import: read failed");
		if ((rc = end_field(rec, start, *start_line)) != 0)
			return rc;
		start = rec->b.len;
		if (c != ',')
			return 1;   /* '\n' or end of input */
		c = next(r);
	}
put_failed:
	if (rc == PV_ELIMIT)
		return pv_error_set(PV_ELIMIT, "line %zu: record longer than %u bytes", *start_line, PV_IMPORT_MAX_LINE);
	return rc;
}

int pv_import_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;

	while (p < e) {
		unsigned c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if ((size_t)(e - p) <= n)
			return 0;
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += n + 1;
	}
	return 1;
}
