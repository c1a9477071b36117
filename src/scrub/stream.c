/*
 * Streaming: text in chunks with bounded memory whatever the line length,
 * JSON lines one document at a time. Output is flushed after every chunk, so
 * a scrubber at the end of a pipe (tail -f | privault scrub) passes each line
 * on as soon as it is complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "scrub/internal.h"

typedef struct {
	pv_scrubber *s;
	FILE *in;
	FILE *out;
	int json;
	char *buf;
	size_t cap;
	size_t len;
	size_t pos;          /* first byte not yet written; buf[0..pos) is left context */
	int eof;
	int long_line;       /* JSON mode: the current line is too long; scrubbing it as text */
	int last;            /* last byte read, -1 before any */
	pv_scrub_buf ob;
} stream;

/* Read what is available (the descriptor underneath when there is one). */
static int fill(stream *st)
{
	int fd = fileno(st->in);
	size_t room = st->cap - st->len;
	ssize_t r;

	if (fd >= 0) {
		do
			r = read(fd, st->buf + st->len, room);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return pv_error_set(PV_EIO, "scrub: reading the input failed (%s)", strerror(errno));
	} else {
		r = (ssize_t)fread(st->buf + st->len, 1, room, st->in);
		if (r == 0 && ferror(st->in))
			return pv_error_set(PV_EIO, "scrub: reading the input failed");
	}
	if (r == 0) {
		st->eof = 1;
		if (st->last >= 0 && st->last != '\n')
			st->s->stats.lines++;
		return 0;
	}
	for (ssize_t k = 0; k < r; k++)
		if (st->buf[st->len + (size_t)k] == '\n')
			st->s->stats.lines++;
	st->last = (unsigned char)st->buf[st->len + (size_t)r - 1];
	st->s->stats.bytes_in += (uint64_t)r;
	st->len += (size_t)r;
	return 0;
}

static int put(stream *st, const char *p, size_t n)
{
	return pv_scrub_buf_put(&st->ob, p, n) != 0 ? PV_ENOMEM : 0;
}

/* Write the output gathered so far. */
static int flush_out(stream *st)
{
	if (st->ob.len > 0 && fwrite(st->ob.p, 1, st->ob.len, st->out) != st->ob.len)
		return pv_error_set(PV_EIO, "scrub: writing the output failed");
	st->s->stats.bytes_out += st->ob.len;
	st->ob.len = 0;
	if (fflush(st->out) != 0)
		return pv_error_set(PV_EIO, "scrub: writing the output failed");
	return 0;
}

/* Scrub buf[pos, lim) as text (lookahead up to n) and write it; pos moves to where the scan stopped. */
static int text_run(stream *st, size_t lim, size_t n)
{
	size_t copied = st->pos, i;
	int stop, err;

	i = pv_scrub_scan(st->s, st->buf, st->pos, lim, n, &st->ob, &copied, NULL, NULL, &stop, &err);
	if (err != 0 || put(st, st->buf + copied, i - copied) != 0)
		return pv_error_set(PV_ENOMEM, "scrub: out of memory");
	st->pos = i;
	return 0;
}

/* One JSON line buf[a, b) (with its newline, if any): a document, blank, or text. */
static int json_line(stream *st, size_t a, size_t b)
{
	size_t ce = b, k;
	int rc;

	while (ce > a && (st->buf[ce - 1] == '\n' || st->buf[ce - 1] == '\r'))
		ce--;
	for (k = a; k < ce && (st->buf[k] == ' ' || st->buf[k] == '\t'); k++)
		;
	if (k == ce) {
		st->pos = b;
		return put(st, st->buf + a, b - a);
	}
	rc = pv_scrub_json_doc(st->s, st->buf + a, ce - a, &st->ob);
	if (rc == PV_EINVAL) {
		st->s->stats.malformed++;
		pv_error_clear();
		return text_run(st, b, b);
	}
	if (rc != 0)
		return rc;
	st->pos = b;
	return put(st, st->buf + ce, b - ce);
}

/* Process what is in the buffer; leaves st->pos where more input is needed. */
static int process(stream *st)
{
	while (st->pos < st->len) {
		const char *nl = memchr(st->buf + st->pos, '\n', st->len - st->pos);
		size_t lim, end = nl != NULL ? (size_t)(nl - st->buf) + 1 : st->len;
		int rc;

		if (st->json && !st->long_line) {
			if (nl == NULL && !st->eof) {
				if (st->len - st->pos <= PV_SCRUB_JSON_MAX_LINE)
					return 0;   /* wait for the rest of the line */
				st->long_line = 1;
				st->s->stats.malformed++;
				continue;
			}
			rc = json_line(st, st->pos, end);
			if (rc != 0)
				return rc;
			continue;
		}
		if (st->json && nl != NULL) {
			/* the rest of a long JSON line, as text, up to its newline */
			rc = text_run(st, end, end);
			st->long_line = 0;
			if (rc != 0)
				return rc;
			continue;
		}
		if (st->eof) {
			lim = st->len;
		} else {
			/* scan up to the last newline, or to PV_SCRUB_OVERLAP bytes before the end */
			const char *last = NULL;

			for (const char *q = nl; q != NULL; q = memchr(q + 1, '\n', (size_t)(st->buf + st->len - q - 1)))
				last = q;
			lim = last != NULL ? (size_t)(last - st->buf) + 1 : 0;
			if (st->len > PV_SCRUB_OVERLAP && st->len - PV_SCRUB_OVERLAP > lim)
				lim = st->len - PV_SCRUB_OVERLAP;
			if (lim <= st->pos)
				return 0;
		}
		rc = text_run(st, lim, st->len);
		if (rc != 0)
			return rc;
		if (!st->eof && st->pos < st->len)
			return 0;
	}
	return 0;
}

/* Keep PV_SCRUB_LEFT_CONTEXT bytes before pos and what is unprocessed; make room to read. */
static int compact(stream *st)
{
	size_t keep = st->pos < PV_SCRUB_LEFT_CONTEXT ? st->pos : PV_SCRUB_LEFT_CONTEXT;
	size_t from = st->pos - keep;

	memmove(st->buf, st->buf + from, st->len - from);
	st->len -= from;
	st->pos = keep;
	if (st->cap - st->len < PV_SCRUB_CHUNK) {
		size_t cap = st->cap * 2;
		char *nb;

		if (cap > PV_SCRUB_JSON_MAX_LINE + 2 * PV_SCRUB_CHUNK + PV_SCRUB_OVERLAP)
			cap = PV_SCRUB_JSON_MAX_LINE + 2 * PV_SCRUB_CHUNK + PV_SCRUB_OVERLAP;
		if (cap <= st->cap)
			return pv_error_set(PV_ELIMIT, "scrub: line buffer limit reached");
		nb = realloc(st->buf, cap);
		if (nb == NULL)
			return pv_error_set(PV_ENOMEM, "scrub: out of memory");
		st->buf = nb;
		st->cap = cap;
	}
	return 0;
}

int pv_scrub_stream(pv_scrubber *s, FILE *in, FILE *out, int json)
{
	stream st;
	int rc = 0;

	memset(&st, 0, sizeof(st));
	st.s = s;
	st.in = in;
	st.out = out;
	st.json = json != 0;
	st.last = -1;
	st.cap = 2 * PV_SCRUB_CHUNK + PV_SCRUB_OVERLAP;
	st.buf = malloc(st.cap);
	if (st.buf == NULL)
		return pv_error_set(PV_ENOMEM, "scrub: out of memory");
	while (!st.eof) {
		rc = fill(&st);
		if (rc == 0)
			rc = process(&st);
		if (rc == 0)
			rc = flush_out(&st);
		if (rc == 0 && !st.eof)
			rc = compact(&st);
		if (rc != 0)
			goto fail;
	}
fail:
	free(st.buf);
	free(st.ob.p);
	return rc;
}
