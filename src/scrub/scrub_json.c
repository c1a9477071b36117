/*
 * JSON mode: string values are scrubbed, object keys never; numbers,
 * literals, whitespace and key order are kept byte for byte. The document is
 * validated by jansson first, so the token pass below only ever walks valid
 * JSON: every '"' outside a string opens one, and a string is a key exactly
 * when the next non-blank byte after it is ':'.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "scrub/internal.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 0;
}

static unsigned u4(const char *p)
{
	return (unsigned)(hexval(p[0]) << 12 | hexval(p[1]) << 8 | hexval(p[2]) << 4 | hexval(p[3]));
}

/* UTF-8 of code point cp into out; its length. */
static size_t utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Decode the body of a (validated) JSON string, p[0..len) between the quotes,
 * into out (at least len bytes: decoding never grows). Returns the length.
 */
static size_t decode(const char *p, size_t len, char *out)
{
	size_t n = 0;

	for (size_t k = 0; k < len; k++) {
		if (p[k] != '\\') {
			out[n++] = p[k];
			continue;
		}
		k++;
		switch (p[k]) {
		case 'b': out[n++] = '\b'; break;
		case 'f': out[n++] = '\f'; break;
		case 'n': out[n++] = '\n'; break;
		case 'r': out[n++] = '\r'; break;
		case 't': out[n++] = '\t'; break;
		case 'u': {
			unsigned cp = k + 4 < len ? u4(p + k + 1) : 0xfffd;

			k += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && k + 6 < len && p[k + 1] == '\\' && p[k + 2] == 'u') {
				unsigned lo = u4(p + k + 3);

				if (lo >= 0xdc00 && lo <= 0xdfff) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					k += 6;
				}
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			n += utf8(out + n, cp);
			break;
		}
		default: out[n++] = p[k]; break;   /* '"', '\\', '/' */
		}
	}
	return n;
}

/* Append p[0..len) to out as a JSON string with its quotes. */
static int encode(pv_scrub_buf *out, const char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	if (pv_scrub_buf_put(out, "\"", 1) != 0)
		return PV_ENOMEM;
	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)p[k];
		char esc[6];
		size_t el = 0;

		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c, el = 2;
		} else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f';
			el = 2;
		} else if (c < 0x20 || c == 0x7f) {
			esc[0] = '\\', esc[1] = 'u', esc[2] = '0', esc[3] = '0';
			esc[4] = hex[c >> 4], esc[5] = hex[c & 15], el = 6;
		} else {
			continue;
		}
		if (pv_scrub_buf_put(out, p + run, k - run) != 0 || pv_scrub_buf_put(out, esc, el) != 0)
			return PV_ENOMEM;
		run = k + 1;
	}
	if (pv_scrub_buf_put(out, p + run, len - run) != 0 || pv_scrub_buf_put(out, "\"", 1) != 0)
		return PV_ENOMEM;
	return 0;
}

/* Scrub one string value p[0..len) (the body between quotes) into out. */
static int scrub_value(pv_scrubber *s, const char *p, size_t len, pv_scrub_buf *out, char **dec, size_t *dec_cap)
{
	pv_scrub_buf tmp = { NULL, 0, 0 };
	uint64_t before = 0, after = 0;
	size_t n, copied = 0;
	int stop, err, rc;

	if (len > *dec_cap) {
		char *nd = realloc(*dec, len);

		if (nd == NULL)
			return pv_error_set(PV_ENOMEM, "scrub: out of memory");
		*dec = nd;
		*dec_cap = len;
	}
	n = decode(p, len, *dec);
	for (int t = 0; t < PV_SCRUB_NTYPES; t++)
		before += s->stats.found[t];
	pv_scrub_scan(s, *dec, 0, n, n, &tmp, &copied, NULL, NULL, &stop, &err);
	for (int t = 0; t < PV_SCRUB_NTYPES; t++)
		after += s->stats.found[t];
	if (err != 0) {
		free(tmp.p);
		return pv_error_set(PV_ENOMEM, "scrub: out of memory");
	}
	if (after == before) {   /* nothing found: the original bytes, escapes and all */
		free(tmp.p);
		if (pv_scrub_buf_put(out, "\"", 1) != 0 || pv_scrub_buf_put(out, p, len) != 0
		    || pv_scrub_buf_put(out, "\"", 1) != 0)
			return PV_ENOMEM;
		return 0;
	}
	rc = pv_scrub_buf_put(&tmp, *dec + copied, n - copied);
	if (rc == 0)
		rc = encode(out, tmp.p, tmp.len);
	free(tmp.p);
	return rc;
}

int pv_scrub_json_doc(pv_scrubber *s, const char *in, size_t len, pv_scrub_buf *out)
{
	json_error_t jerr;
	json_t *j;
	char *dec = NULL;
	size_t dec_cap = 0, i = 0, copied = 0, start_len = out->len;
	int rc = 0;

	j = json_loadb(in, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (j == NULL)
		return pv_error_set(PV_EINVAL, "json: not a JSON document (line %d, column %d)", jerr.line, jerr.column);
	json_decref(j);
	while (i < len) {
		size_t e, k;

		if (in[i] != '"') {
			i++;
			continue;
		}
		for (e = i + 1; e < len && in[e] != '"'; e++)
			if (in[e] == '\\')
				e++;
		for (k = e + 1; k < len && (in[k] == ' ' || in[k] == '\t' || in[k] == '\n' || in[k] == '\r'); k++)
			;
		if (k < len && in[k] == ':') {   /* an object key: kept as it is */
			i = e + 1;
			continue;
		}
		if (pv_scrub_buf_put(out, in + copied, i - copied) != 0) {
			rc = PV_ENOMEM;
			goto fail;
		}
		rc = scrub_value(s, in + i + 1, e - i - 1, out, &dec, &dec_cap);
		if (rc != 0)
			goto fail;
		copied = i = e + 1;
	}
	if (pv_scrub_buf_put(out, in + copied, len - copied) != 0)
		rc = PV_ENOMEM;
fail:
	free(dec);
	if (rc != 0) {
		out->len = start_len;
		return pv_error_set(PV_ENOMEM, "scrub: out of memory");
	}
	return 0;
}

int pv_scrub_json(pv_scrubber *s, const char *in, size_t len, char **out, size_t *out_len)
{
	pv_scrub_buf b = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	*out_len = 0;
	rc = pv_scrub_json_doc(s, in, len, &b);
	if (rc == 0 && pv_scrub_buf_put(&b, "", 0) != 0)
		rc = PV_ENOMEM;
	if (rc != 0) {
		free(b.p);
		return rc;
	}
	b.p[b.len] = '\0';
	s->stats.bytes_in += len;
	s->stats.bytes_out += b.len;
	*out = b.p;
	*out_len = b.len;
	return 0;
}

int pv_scrub_json_tree(pv_scrubber *s, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *child;

		json_object_foreach(v, key, child) {
			int rc = pv_scrub_json_tree(s, child);

			if (rc != 0)
				return rc;
		}
		return 0;
	}
	case JSON_ARRAY: {
		size_t idx;
		json_t *child;

		json_array_foreach(v, idx, child) {
			int rc = pv_scrub_json_tree(s, child);

			if (rc != 0)
				return rc;
		}
		return 0;
	}
	case JSON_STRING: {
		pv_scrub_buf b = { NULL, 0, 0 };
		const char *str = json_string_value(v);
		size_t len = json_string_length(v), copied = 0;
		int stop, err, rc = 0;

		pv_scrub_scan(s, str, 0, len, len, &b, &copied, NULL, NULL, &stop, &err);
		if (err == 0 && copied > 0)
			err = pv_scrub_buf_put(&b, str + copied, len - copied);
		if (err == 0 && copied > 0 && json_string_setn(v, b.p, b.len) != 0)
			err = PV_ENOMEM;
		if (err != 0)
			rc = pv_error_set(PV_ENOMEM, "scrub: out of memory");
		free(b.p);
		return rc;
	}
	default:
		return 0;
	}
}
