/*
 * Fuzz target of the TCF codec: every input is decoded as a TC string and
 * read as the JSON form. Nothing may crash, leak or read out of bounds, and
 * a decoded string must survive its round trip: it encodes (or fails with
 * PV_EINVAL, e.g. more ranges than a string can hold after merging), the
 * encoding decodes to the same fields (same JSON), and encoding that again
 * gives the same string. A failure always leaves a message, and the
 * message never contains the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privault/consent_signals.h"
#include "privault/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const pv_tcf *tc)
{
	pv_tcf *back = NULL;
	char *s = NULL, *s2 = NULL, *j1 = NULL, *j2 = NULL;
	pv_tcf_event *ev = NULL;
	size_t len = 0, n = 0;
	int rc;

	if (pv_tcf_events(&ev, &n, tc) != 0)
		abort();
	free(ev);
	rc = pv_tcf_encode(&s, &len, tc);
	if (rc != 0) {
		if (rc != PV_EINVAL || s != NULL || pv_error_last()[0] == '\0')
			abort();
		return;
	}
	if (pv_tcf_decode(&back, s, len) != 0)
		abort();
	if (pv_tcf_to_json(&j1, tc) != 0 || pv_tcf_to_json(&j2, back) != 0 || strcmp(j1, j2) != 0)
		abort();
	if (pv_tcf_encode(&s2, NULL, back) != 0 || strcmp(s, s2) != 0)
		abort();
	free(s);
	free(s2);
	free(j1);
	free(j2);
	pv_tcf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pv_tcf *tc = NULL;

	if (pv_tcf_decode(&tc, (const char *)data, size) == 0) {
		roundtrip(tc);
		pv_tcf_free(&tc);
	} else {
		const char *m = pv_error_last();

		if (tc != NULL || m[0] == '\0')
			abort();
		if (size >= 12 && memmem(m, strlen(m), data, size) != NULL)
			abort();
	}
	if (pv_tcf_from_json(&tc, (const char *)data, size) == 0) {
		roundtrip(tc);
		pv_tcf_free(&tc);
	} else if (tc != NULL) {
		abort();
	}
	return 0;
}
