/*
 * The GPP usnat section (id 7, the US national privacy section): a core
 * segment (version 1 or 2) and an optional GPC sub-section, '.'-separated.
 *
 * Core, version 2 (70 bits): Version 6, then 2 bits each: SharingNotice,
 * SaleOptOutNotice, SharingOptOutNotice, TargetedAdvertisingOptOutNotice,
 * SensitiveDataProcessingOptOutNotice, SensitiveDataLimitUseNotice,
 * SaleOptOut, SharingOptOut, TargetedAdvertisingOptOut,
 * SensitiveDataProcessing (16 x 2), KnownChildSensitiveDataConsents (3 x 2),
 * PersonalDataConsents, MspaCoveredTransaction, MspaOptOutOptionMode,
 * MspaServiceProviderMode. Version 1 (60 bits) is the same with 12
 * SensitiveDataProcessing and 2 KnownChildSensitiveDataConsents entries.
 * GPC sub-section: SubsectionType 2 (= 1), Gpc 1.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "consent/gpp_internal.h"
#include "core/error.h"

size_t pv_gpp_usnat_sensitive_count(unsigned version)
{
	return version == 1 ? 12 : PV_GPP_USNAT_SENSITIVE_MAX;
}

size_t pv_gpp_usnat_child_count(unsigned version)
{
	return version == 1 ? 2 : PV_GPP_USNAT_CHILD_MAX;
}

/* The 2-bit scalar fields in order, with their names. */
#define USNAT_SCALAR_HEAD 9
static const struct {
	const char *name;
	size_t off;
} usnat_head[USNAT_SCALAR_HEAD] = {
	{ "sharing_notice", offsetof(pv_gpp_usnat, sharing_notice) },
	{ "sale_opt_out_notice", offsetof(pv_gpp_usnat, sale_opt_out_notice) },
	{ "sharing_opt_out_notice", offsetof(pv_gpp_usnat, sharing_opt_out_notice) },
	{ "targeted_advertising_opt_out_notice", offsetof(pv_gpp_usnat, targeted_advertising_opt_out_notice) },
	{ "sensitive_data_processing_opt_out_notice", offsetof(pv_gpp_usnat, sensitive_data_processing_opt_out_notice) },
	{ "sensitive_data_limit_use_notice", offsetof(pv_gpp_usnat, sensitive_data_limit_use_notice) },
	{ "sale_opt_out", offsetof(pv_gpp_usnat, sale_opt_out) },
	{ "sharing_opt_out", offsetof(pv_gpp_usnat, sharing_opt_out) },
	{ "targeted_advertising_opt_out", offsetof(pv_gpp_usnat, targeted_advertising_opt_out) },
};
#define USNAT_SCALAR_TAIL 4
static const struct {
	const char *name;
	size_t off;
	unsigned min;
} usnat_tail[USNAT_SCALAR_TAIL] = {
	{ "personal_data_consents", offsetof(pv_gpp_usnat, personal_data_consents), 0 },
	{ "mspa_covered_transaction", offsetof(pv_gpp_usnat, mspa_covered_transaction), 1 },
	{ "mspa_opt_out_option_mode", offsetof(pv_gpp_usnat, mspa_opt_out_option_mode), 0 },
	{ "mspa_service_provider_mode", offsetof(pv_gpp_usnat, mspa_service_provider_mode), 0 },
};

/* Read one 2-bit value in [min, 2]; messages name the field (and index) and the bit. */
static int read_2bit(pv_gpp_reader *r, const char *field, int index, unsigned min, uint8_t *out)
{
	char name[64];
	size_t at = r->pos;
	uint32_t v;
	int rc;

	if (index >= 0)
		snprintf(name, sizeof(name), "%s[%d]", field, index);
	else
		snprintf(name, sizeof(name), "%s", field);
	if ((rc = pv_gpp_read_int(r, 2, name, &v)) < 0)
		return rc;
	if (v < min || v > 2)
		return pv_error_set(PV_EINVAL, "usnat.%s: value %u at bit %zu is not %u..2", name, v, at, min);
	*out = (uint8_t)v;
	return 0;
}

static int usnat_core_decode(pv_gpp_usnat *u, const char *s, size_t len)
{
	pv_gpp_reader r;
	uint32_t version;
	size_t i;
	int rc;

	if ((rc = pv_gpp_reader_init(&r, s, len, "usnat", "core")) < 0)
		goto fail;
	if ((rc = pv_gpp_read_int(&r, 6, "version", &version)) < 0)
		goto fail;
	if (version != 1 && version != 2) {
		rc = pv_error_set(PV_EINVAL, "usnat.version: %u at bit 0 is not a known version (1, 2)", version);
		goto fail;
	}
	u->version = version;
	for (i = 0; i < USNAT_SCALAR_HEAD; i++)
		if ((rc = read_2bit(&r, usnat_head[i].name, -1, 0, (uint8_t *)u + usnat_head[i].off)) < 0)
			goto fail;
	for (i = 0; i < pv_gpp_usnat_sensitive_count(version); i++)
		if ((rc = read_2bit(&r, "sensitive_data_processing", (int)i, 0,
				    &u->sensitive_data_processing[i])) < 0)
			goto fail;
	for (i = 0; i < pv_gpp_usnat_child_count(version); i++)
		if ((rc = read_2bit(&r, "known_child_sensitive_data_consents", (int)i, 0,
				    &u->known_child_sensitive_data_consents[i])) < 0)
			goto fail;
	for (i = 0; i < USNAT_SCALAR_TAIL; i++)
		if ((rc = read_2bit(&r, usnat_tail[i].name, -1, usnat_tail[i].min,
				    (uint8_t *)u + usnat_tail[i].off)) < 0)
			goto fail;
	rc = 0;
fail:
	pv_gpp_reader_free(&r);
	return rc;
}

static int usnat_gpc_decode(pv_gpp_usnat *u, const char *s, size_t len)
{
	pv_gpp_reader r;
	uint32_t type, gpc;
	int rc;

	if ((rc = pv_gpp_reader_init(&r, s, len, "usnat", "gpc")) < 0)
		goto fail;
	if ((rc = pv_gpp_read_int(&r, 2, "gpc_segment_type", &type)) < 0)
		goto fail;
	if (type != 1) {
		rc = pv_error_set(PV_EINVAL, "usnat.gpc_segment_type: %u at bit 0 of the second segment is not 1 (GPC)",
				  type);
		goto fail;
	}
	if ((rc = pv_gpp_read_int(&r, 1, "gpc", &gpc)) < 0)
		goto fail;
	u->gpc_segment_included = 1;
	u->gpc = (int)gpc;
	rc = 0;
fail:
	pv_gpp_reader_free(&r);
	return rc;
}

/*
 * Decode a usnat section ("core" or "core.gpc"). Returns 0, or PV_EINVAL
 * naming the field and bit offset. Bits after the last field (padding) are
 * ignored, as the IAB's reference decoder does.
 */
int pv_gpp_usnat_decode(pv_gpp_usnat *out, const char *s, size_t len)
{
	const char *dot = memchr(s, '.', len);
	size_t core_len = dot ? (size_t)(dot - s) : len;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = usnat_core_decode(out, s, core_len)) < 0)
		return rc;
	if (!dot)
		return 0;
	const char *gpc = dot + 1;
	size_t gpc_len = len - core_len - 1;
	if (memchr(gpc, '.', gpc_len))
		return pv_error_set(PV_EINVAL, "usnat: more than two segments");
	return usnat_gpc_decode(out, gpc, gpc_len);
}

static int check_2bit(const char *field, int index, unsigned v, unsigned min)
{
	if (v >= min && v <= 2)
		return 0;
	if (index >= 0)
		return pv_error_set(PV_EINVAL, "usnat.%s[%d]: must be %u..2", field, index, min);
	return pv_error_set(PV_EINVAL, "usnat.%s: must be %u..2", field, min);
}

/* Encode *u (its version's layout; the GPC sub-section when included). */
int pv_gpp_usnat_encode(char *out, size_t cap, const pv_gpp_usnat *u)
{
	pv_gpp_writer w;
	size_t i, used = 0;
	int rc;

	if (u->version != 1 && u->version != 2)
		return pv_error_set(PV_EINVAL, "usnat.version: must be 1 or 2");
	memset(&w, 0, sizeof(w));
	pv_gpp_write_int(&w, u->version, 6);
	for (i = 0; i < USNAT_SCALAR_HEAD; i++) {
		uint8_t v = *((const uint8_t *)u + usnat_head[i].off);
		if ((rc = check_2bit(usnat_head[i].name, -1, v, 0)) < 0)
			return rc;
		pv_gpp_write_int(&w, v, 2);
	}
	for (i = 0; i < pv_gpp_usnat_sensitive_count(u->version); i++) {
		if ((rc = check_2bit("sensitive_data_processing", (int)i, u->sensitive_data_processing[i], 0)) < 0)
			return rc;
		pv_gpp_write_int(&w, u->sensitive_data_processing[i], 2);
	}
	for (i = 0; i < pv_gpp_usnat_child_count(u->version); i++) {
		if ((rc = check_2bit("known_child_sensitive_data_consents", (int)i,
				     u->known_child_sensitive_data_consents[i], 0)) < 0)
			return rc;
		pv_gpp_write_int(&w, u->known_child_sensitive_data_consents[i], 2);
	}
	for (i = 0; i < USNAT_SCALAR_TAIL; i++) {
		uint8_t v = *((const uint8_t *)u + usnat_tail[i].off);
		if ((rc = check_2bit(usnat_tail[i].name, -1, v, usnat_tail[i].min)) < 0)
			return rc;
		pv_gpp_write_int(&w, v, 2);
	}
	if ((rc = pv_gpp_writer_text(out, cap, &used, &w)) < 0)
		return rc;
	if (!u->gpc_segment_included)
		return 0;
	memset(&w, 0, sizeof(w));
	pv_gpp_write_int(&w, 1, 2);
	pv_gpp_write_int(&w, u->gpc ? 1 : 0, 1);
	if (used + 2 > cap)
		return pv_error_set(PV_ELIMIT, "usnat: output buffer of %zu bytes too small", cap);
	out[used] = '.';
	return pv_gpp_writer_text(out + used + 1, cap - used - 1, NULL, &w);
}
