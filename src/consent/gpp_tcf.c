/*
 * The GPP tcfeuv2 section (id 2): a TC string, decoded by the TCF codec
 * (pv_tcf_decode in src/consent/tcf*.c). Kept in its own file so that the
 * GPP decoder depends on the TC string decoder in one place.
 */
#include "consent/gpp_internal.h"
#include "core/error.h"

/* Returns 1 with g->tcfeuv2 set, or the TC decoder's error wrapped with "tcfeuv2". */
int pv_gpp_tcfeuv2_decode(pv_gpp *g, const char *s, size_t len)
{
	pv_tcf *tc = NULL;
	int rc = pv_tcf_decode(&tc, s, len);

	if (rc < 0) {
		pv_tcf_free(&tc);
		return pv_error_wrap(rc, "tcfeuv2");
	}
	pv_tcf_free(&g->tcfeuv2);
	g->tcfeuv2 = tc;
	g->has_tcfeuv2 = 1;
	return 1;
}

void pv_gpp_tcfeuv2_free(pv_gpp *g)
{
	pv_tcf_free(&g->tcfeuv2);
	g->has_tcfeuv2 = 0;
}
