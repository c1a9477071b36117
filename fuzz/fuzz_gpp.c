/*
 * Fuzz target of the US Privacy and GPP decoders: the input is decoded as a
 * GPP string and as a US Privacy string; a gpp_sid list after a NUL byte is
 * applied. Nothing may crash or read out of bounds, and what decodes must
 * hold together: sections inside the input, ids ascending, usnat values in
 * range, and the header, usnat and US Privacy encoders must give back
 * strings that decode to the same values.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privault/consent_signals.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_usnat(const pv_gpp_usnat *u)
{
	pv_gpp_usnat back;
	char enc[128], enc2[128];

	if (u->mspa_covered_transaction < 1 || u->mspa_covered_transaction > 2)
		abort();
	if (pv_gpp_usnat_encode(enc, sizeof(enc), u) != 0)
		abort();
	if (pv_gpp_usnat_decode(&back, enc, strlen(enc)) != 0 ||
	    pv_gpp_usnat_encode(enc2, sizeof(enc2), &back) != 0 || strcmp(enc, enc2) != 0 ||
	    back.sale_opt_out != u->sale_opt_out || back.gpc != u->gpc)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const uint8_t *nul = memchr(data, 0, size);
	size_t len = nul ? (size_t)(nul - data) : size;
	pv_gpp g;
	pv_usp u;
	char *js = NULL;

	if (pv_gpp_decode(&g, s, len) == 0) {
		unsigned ids[PV_GPP_MAX_SECTIONS];
		char hdr[1024];
		pv_gpp h;
		for (size_t i = 0; i < g.n_sections; i++) {
			if (g.sections[i].offset + g.sections[i].length > len)
				abort();
			if (i > 0 && g.sections[i].id <= g.sections[i - 1].id)
				abort();
			ids[i] = g.sections[i].id;
		}
		if (g.has_usnat)
			check_usnat(&g.usnat);
		if (g.has_uspv1) {
			char e[5];
			if (pv_usp_encode(e, &g.uspv1) != 0)
				abort();
		}
		/* the header alone, re-encoded with dummy sections, lists the same ids */
		if (g.n_sections == 0 && pv_gpp_header_encode(hdr, sizeof(hdr), ids, 0) == 0) {
			if (pv_gpp_decode(&h, hdr, strlen(hdr)) != 0 || h.n_sections != 0)
				abort();
			pv_gpp_clear(&h);
		}
		if (pv_gpp_to_json(&js, &g) != 0)
			abort();
		free(js);
		if (nul)
			(void)pv_gpp_apply_sid(&g, (const char *)nul + 1, size - len - 1);
	}
	pv_gpp_clear(&g);

	if (pv_usp_decode(&u, s, len) == 0) {
		char e[5];
		if (pv_usp_encode(e, &u) != 0 || memcmp(e, s, 4) != 0)
			abort();
		if (pv_usp_to_json(&js, &u) != 0)
			abort();
		free(js);
	}
	return 0;
}
