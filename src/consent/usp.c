/*
 * The IAB US Privacy string (CCPA Compliance Framework, version 1):
 * four characters, "1" then notice, opt-out of sale and LSPA coverage, each
 * 'Y', 'N' or '-' (not applicable). "1---" says the law does not apply.
 */
#include <stdio.h>
#include <string.h>

#include "consent/gpp_internal.h"
#include "core/error.h"

static const char *const usp_field[4] = { "version", "notice", "opt_out_sale", "lspa_covered" };

static int usp_flag_ok(int c)
{
	return c == PV_USP_YES || c == PV_USP_NO || c == PV_USP_NA;
}

/*
 * Decode "1YNN". Returns 0 and fills *out, or PV_EINVAL naming the length or
 * the first bad position (never the characters found).
 */
int pv_usp_decode(pv_usp *out, const char *s, size_t len)
{
	memset(out, 0, sizeof(*out));
	if (!s || len != 4)
		return pv_error_set(PV_EINVAL, "usp: expected 4 characters, got %zu", s ? len : 0);
	if (s[0] != '1')
		return pv_error_set(PV_EINVAL, "usp.version: position 0 must be '1'");
	for (size_t i = 1; i < 4; i++)
		if (!usp_flag_ok((unsigned char)s[i]))
			return pv_error_set(PV_EINVAL, "usp.%s: position %zu must be 'Y', 'N' or '-'",
					    usp_field[i], i);
	out->version = 1;
	out->notice = (pv_usp_flag)s[1];
	out->opt_out_sale = (pv_usp_flag)s[2];
	out->lspa_covered = (pv_usp_flag)s[3];
	return 0;
}

/* Encode *in as four characters and a NUL. PV_EINVAL names a bad field. */
int pv_usp_encode(char out[5], const pv_usp *in)
{
	if (in->version != 1)
		return pv_error_set(PV_EINVAL, "usp.version: must be 1");
	if (!usp_flag_ok(in->notice))
		return pv_error_set(PV_EINVAL, "usp.notice: must be 'Y', 'N' or '-'");
	if (!usp_flag_ok(in->opt_out_sale))
		return pv_error_set(PV_EINVAL, "usp.opt_out_sale: must be 'Y', 'N' or '-'");
	if (!usp_flag_ok(in->lspa_covered))
		return pv_error_set(PV_EINVAL, "usp.lspa_covered: must be 'Y', 'N' or '-'");
	out[0] = '1';
	out[1] = (char)in->notice;
	out[2] = (char)in->opt_out_sale;
	out[3] = (char)in->lspa_covered;
	out[4] = '\0';
	return 0;
}

int pv_usp_opted_out(const pv_usp *u)
{
	return u && u->opt_out_sale == PV_USP_YES;
}
