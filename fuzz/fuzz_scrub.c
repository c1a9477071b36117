/*
 * Fuzz target of the scrubber: every input is scrubbed as text (placeholders
 * and keyed pseudonyms), as one JSON document and as a stream of text and of
 * JSON lines. Nothing may crash, leak or read out of bounds, and the results
 * must be consistent: matches in order, inside the input, never overlapping,
 * never longer than PV_SCRUB_MAX_MATCH; the text and stream outputs equal;
 * input without matches passes unchanged; JSON output parses, with the same
 * keys and the same shape as the input.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privault/error.h"
#include "privault/scrub.h"
#include "scrub/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
	size_t last_end, count, size;
} order;

static int check_match(const pv_scrub_match *m, void *payload)
{
	order *o = payload;

	if (m->start < o->last_end || m->end <= m->start || m->end > o->size || m->end - m->start > PV_SCRUB_MAX_MATCH
	    || (unsigned)m->type >= PV_SCRUB_NTYPES)
		abort();
	o->last_end = m->end;
	o->count++;
	return 0;
}

/* Same keys and same shape (types, array lengths) in both trees. */
static int same_shape(json_t *a, json_t *b)
{
	const char *key;
	json_t *va;
	size_t i;

	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT:
		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach(a, key, va) {
			json_t *vb = json_object_get(b, key);

			if (vb == NULL || !same_shape(va, vb))
				return 0;
		}
		return 1;
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		json_array_foreach(a, i, va)
			if (!same_shape(va, json_array_get(b, i)))
				return 0;
		return 1;
	default:
		return 1;
	}
}

static void run_stream(pv_scrubber *s, const uint8_t *data, size_t size, int json, const char *want, size_t want_len)
{
	FILE *in = fmemopen((void *)data, size, "rb"), *out;
	char *buf = NULL;
	size_t len = 0;

	if (size == 0 || in == NULL) {
		if (in != NULL)
			fclose(in);
		return;
	}
	out = open_memstream(&buf, &len);
	if (out == NULL)
		abort();
	if (pv_scrub_stream(s, in, out, json) != 0)
		abort();
	fclose(in);
	fclose(out);
	if (want != NULL && (len != want_len || memcmp(buf, want, len) != 0))
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[PV_SCRUB_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	pv_scrubber *s = NULL, *k = NULL;
	order o = { 0, 0, size };
	char *out = NULL, *jout = NULL;
	size_t len = 0, jlen = 0;

	if (pv_scrubber_new(&s, 0) != 0 || pv_scrubber_new(&k, size > 0 ? data[0] & PV_SCRUB_ALL : 0) != 0)
		abort();
	if (pv_scrubber_set_key(k, key) != 0)
		abort();
	pv_scrub_find(s, (const char *)data, size, check_match, &o);
	if (pv_scrub_text(s, (const char *)data, size, &out, &len) != 0)
		abort();
	if (o.count == 0 && (len != size || memcmp(out, data, size) != 0))
		abort();
	run_stream(s, data, size, 0, out, len);
	free(out);
	if (pv_scrub_text(k, (const char *)data, size, &out, &len) != 0)
		abort();
	free(out);
	if (pv_scrub_json(s, (const char *)data, size, &jout, &jlen) == 0) {
		json_t *a = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		json_t *b = json_loadb(jout, jlen, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

		if (a == NULL || b == NULL || !same_shape(a, b))
			abort();
		json_decref(a);
		json_decref(b);
		free(jout);
	} else if (jout != NULL || pv_error_last()[0] == '\0') {
		abort();
	}
	run_stream(k, data, size, 1, NULL, 0);
	pv_scrubber_free(&s);
	pv_scrubber_free(&k);
	return 0;
}
