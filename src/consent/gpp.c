/*
 * The IAB Global Privacy Platform string, version 1: a header section
 * (type 3, version 1, the ids of the sections that follow as a
 * Fibonacci-coded range list), then one '~'-separated section per id.
 * Decoded here: the header, uspv1 (id 6) and usnat (id 7, gpp_usnat.c);
 * tcfeuv2 (id 2) goes to the TC string decoder (src/consent/tcf*.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consent/gpp_internal.h"
#include "core/error.h"

static const char *const section_names[] = {
	NULL, "tcfeuv1", "tcfeuv2", "header", "signalintegrity", "tcfcav1", "uspv1", "usnat",
	"usca", "usva", "usco", "usut", "usct", "usfl", "usmt", "usor", "ustx", "usde", "usia",
	"usne", "usnh", "usnj", "ustn", "usmn", "usmd", "usin", "usky", "usri",
};

const char *pv_gpp_section_name(unsigned id)
{
	if (id >= 1 && id < sizeof(section_names) / sizeof(section_names[0]))
		return section_names[id];
	return "unknown";
}

/*
 * Decode the header segment: type and version into g, the section id list
 * into ids[0..*n) (room for PV_GPP_MAX_SECTIONS). Ids come out strictly ascending (every offset is >= 1).
 * Returns 0 or PV_EINVAL / PV_ELIMIT naming the field and bit offset.
 */
int pv_gpp_header_decode(pv_gpp *g, unsigned *ids, size_t *n, const char *s, size_t len)
{
	pv_gpp_reader r;
	uint32_t type, version, count, is_range, off, span;
	uint64_t last = 0;
	int rc;

	*n = 0;
	if ((rc = pv_gpp_reader_init(&r, s, len, "header", "core")) < 0)
		goto fail;
	if ((rc = pv_gpp_read_int(&r, 6, "type", &type)) < 0)
		goto fail;
	if (type != PV_GPP_SID_HEADER) {
		rc = pv_error_set(PV_EINVAL, "header.type: %u at bit 0 is not 3 (a GPP header)", type);
		goto fail;
	}
	if ((rc = pv_gpp_read_int(&r, 6, "version", &version)) < 0)
		goto fail;
	if (version != 1) {
		rc = pv_error_set(PV_EINVAL, "header.version: %u at bit 6 is not a known GPP version (1)",
				  version);
		goto fail;
	}
	g->type = type;
	g->version = version;
	if ((rc = pv_gpp_read_int(&r, 12, "section_ids", &count)) < 0)
		goto fail;
	for (uint32_t e = 0; e < count; e++) {
		size_t at = r.pos;
		if ((rc = pv_gpp_read_int(&r, 1, "section_ids.is_range", &is_range)) < 0)
			goto fail;
		if ((rc = pv_gpp_read_fib(&r, "section_ids.offset", &off)) < 0)
			goto fail;
		uint64_t start = last + off, end = start;
		if (is_range) {
			if ((rc = pv_gpp_read_fib(&r, "section_ids.range_end", &span)) < 0)
				goto fail;
			end = start + span;
		}
		if (end > PV_GPP_MAX_SECTION_ID) {
			rc = pv_error_set(PV_ELIMIT, "header.section_ids: entry at bit %zu reaches an id over %d",
					  at, PV_GPP_MAX_SECTION_ID);
			goto fail;
		}
		if (end - start + 1 > PV_GPP_MAX_SECTIONS - *n) {
			rc = pv_error_set(PV_ELIMIT, "header.section_ids: more than %d sections (entry at bit %zu)",
					  PV_GPP_MAX_SECTIONS, at);
			goto fail;
		}
		for (uint64_t id = start; id <= end; id++)
			ids[(*n)++] = (unsigned)id;
		last = end;
	}
	rc = 0;
fail:
	pv_gpp_reader_free(&r);
	return rc;
}

/* uspv1 inside GPP: the four characters of a US Privacy string. */
static int uspv1_decode(pv_gpp *g, const char *s, size_t len)
{
	int rc = pv_usp_decode(&g->uspv1, s, len);
	if (rc < 0)
		return pv_error_wrap(rc, "uspv1");
	g->has_uspv1 = 1;
	return 0;
}

/*
 * Decode one section by id. Unregistered or not-yet-decoded ids are kept as
 * listed (decoded = 0). Returns 0 or the section decoder's error.
 */
static int section_decode(pv_gpp *g, pv_gpp_section *sec, const char *s, size_t len)
{
	int rc;

	switch (sec->id) {
	case PV_GPP_SID_USPV1:
		if ((rc = uspv1_decode(g, s, len)) < 0)
			return rc;
		sec->decoded = 1;
		return 0;
	case PV_GPP_SID_USNAT:
		if ((rc = pv_gpp_usnat_decode(&g->usnat, s, len)) < 0)
			return rc;
		g->has_usnat = 1;
		sec->decoded = 1;
		return 0;
	case PV_GPP_SID_TCFEUV2:
		if ((rc = pv_gpp_tcfeuv2_decode(g, s, len)) < 0)
			return rc;
		sec->decoded = rc > 0;
		return 0;
	default:
		return 0;
	}
}

/*
 * Decode a whole GPP string. See consent_signals.h. On failure *out holds
 * what was decoded before the error; pv_gpp_clear releases it either way.
 */
int pv_gpp_decode(pv_gpp *out, const char *s, size_t len)
{
	unsigned ids[PV_GPP_MAX_SECTIONS];
	size_t nids = 0, part_start[PV_GPP_MAX_SECTIONS + 1], part_len[PV_GPP_MAX_SECTIONS + 1];
	size_t nparts = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!s || len == 0)
		return pv_error_set(PV_EINVAL, "gpp: empty string");
	if (len > PV_GPP_MAX_BYTES)
		return pv_error_set(PV_ELIMIT, "gpp: longer than %u bytes", (unsigned)PV_GPP_MAX_BYTES);
	if (memchr(s, '\0', len))
		return pv_error_set(PV_EINVAL, "gpp: contains a NUL byte");

	/* split on '~' */
	size_t start = 0;
	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != '~')
			continue;
		if (nparts == PV_GPP_MAX_SECTIONS + 1)
			return pv_error_set(PV_ELIMIT, "gpp: more than %d sections", PV_GPP_MAX_SECTIONS);
		part_start[nparts] = start;
		part_len[nparts] = i - start;
		nparts++;
		start = i + 1;
	}
	if (memchr(s, '.', part_len[0]))
		return pv_error_set(PV_EINVAL, "header: has more than one segment ('.' in the header)");
	if ((rc = pv_gpp_header_decode(out, ids, &nids, s, part_len[0])) < 0)
		return rc;
	if (nids != nparts - 1)
		return pv_error_set(PV_EINVAL, "gpp: the header lists %zu sections, the string has %zu",
				    nids, nparts - 1);
	for (i = 0; i < nids; i++) {
		pv_gpp_section *sec = &out->sections[i];
		sec->id = ids[i];
		sec->name = pv_gpp_section_name(ids[i]);
		sec->applicable = 1;
		sec->offset = part_start[i + 1];
		sec->length = part_len[i + 1];
		out->n_sections = i + 1;
		if (sec->length == 0)
			return pv_error_set(PV_EINVAL, "gpp: section %zu (id %u, %s) is empty", i + 1, sec->id,
					    sec->name);
		if (ids[i] == PV_GPP_SID_HEADER)
			return pv_error_set(PV_EINVAL, "gpp: section %zu has the header's id 3", i + 1);
		if ((rc = section_decode(out, sec, s + sec->offset, sec->length)) < 0)
			return rc;
	}
	return 0;
}

void pv_gpp_clear(pv_gpp *g)
{
	if (!g)
		return;
	pv_gpp_tcfeuv2_free(g);
	memset(g, 0, sizeof(*g));
}

const pv_gpp_section *pv_gpp_section_find(const pv_gpp *g, unsigned id)
{
	for (size_t i = 0; i < g->n_sections; i++)
		if (g->sections[i].id == id)
			return &g->sections[i];
	return NULL;
}

/*
 * Parse a gpp_sid list ("2,6"; "-1" for none) and mark sections applicable.
 * Returns 0 or PV_EINVAL naming the position of the bad item; on failure g
 * is unchanged.
 */
int pv_gpp_apply_sid(pv_gpp *g, const char *sid, size_t len)
{
	int mark[PV_GPP_MAX_SECTIONS] = { 0 };

	if (!sid || len == 0)
		return pv_error_set(PV_EINVAL, "gpp_sid: empty list");
	if (len == 2 && sid[0] == '-' && sid[1] == '1')
		goto apply;
	for (size_t i = 0; i < len;) {
		size_t at = i;
		unsigned long v = 0;
		if (sid[i] < '0' || sid[i] > '9')
			return pv_error_set(PV_EINVAL, "gpp_sid: item at position %zu is not a section id", at);
		while (i < len && sid[i] >= '0' && sid[i] <= '9') {
			v = v * 10 + (unsigned long)(sid[i] - '0');
			if (v > PV_GPP_MAX_SECTION_ID)
				return pv_error_set(PV_EINVAL, "gpp_sid: item at position %zu is over %d", at,
						    PV_GPP_MAX_SECTION_ID);
			i++;
		}
		if (i < len) {
			if (sid[i] != ',' || i + 1 == len)
				return pv_error_set(PV_EINVAL, "gpp_sid: expected ',' and an id at position %zu", i);
			i++;
		}
		for (size_t k = 0; k < g->n_sections; k++)
			if (g->sections[k].id == v)
				mark[k] = 1;
	}
apply:
	for (size_t k = 0; k < g->n_sections; k++)
		g->sections[k].applicable = mark[k];
	return 0;
}

/* Encode the header for ids (ascending, 1..PV_GPP_MAX_SECTION_ID), grouping consecutive ids in ranges. */
int pv_gpp_header_encode(char *out, size_t cap, const unsigned *ids, size_t n)
{
	pv_gpp_writer w;
	size_t entries = 0, i;

	if (n > PV_GPP_MAX_SECTIONS)
		return pv_error_set(PV_ELIMIT, "header.section_ids: more than %d sections", PV_GPP_MAX_SECTIONS);
	for (i = 0; i < n; i++) {
		if (ids[i] == 0 || ids[i] > PV_GPP_MAX_SECTION_ID || (i > 0 && ids[i] <= ids[i - 1]))
			return pv_error_set(PV_EINVAL, "header.section_ids: id %zu is not ascending within 1..%d",
					    i, PV_GPP_MAX_SECTION_ID);
		if (i == 0 || ids[i] != ids[i - 1] + 1)
			entries++;
	}
	memset(&w, 0, sizeof(w));
	pv_gpp_write_int(&w, PV_GPP_SID_HEADER, 6);
	pv_gpp_write_int(&w, 1, 6);
	pv_gpp_write_int(&w, (uint32_t)entries, 12);
	unsigned last = 0;
	for (i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && ids[j + 1] == ids[j] + 1)
			j++;
		if (j == i) {
			pv_gpp_write_int(&w, 0, 1);
			pv_gpp_write_fib(&w, ids[i] - last);
		} else {
			pv_gpp_write_int(&w, 1, 1);
			pv_gpp_write_fib(&w, ids[i] - last);
			pv_gpp_write_fib(&w, ids[j] - ids[i]);
		}
		last = ids[j];
		i = j + 1;
	}
	return pv_gpp_writer_text(out, cap, NULL, &w);
}

/* Header, then '~' and each encoded section. Returns 0, PV_EINVAL or PV_ELIMIT. */
int pv_gpp_encode(char *out, size_t cap, const unsigned *ids, const char *const *sections, size_t n)
{
	int rc;

	if ((rc = pv_gpp_header_encode(out, cap, ids, n)) < 0)
		return rc;
	size_t used = strlen(out);
	for (size_t i = 0; i < n; i++) {
		size_t l = sections[i] ? strlen(sections[i]) : 0;
		if (l == 0 || memchr(sections[i], '~', l))
			return pv_error_set(PV_EINVAL, "gpp: section %zu is empty or holds '~'", i + 1);
		if (used + 1 + l + 1 > cap)
			return pv_error_set(PV_ELIMIT, "gpp: output buffer of %zu bytes too small", cap);
		out[used++] = '~';
		memcpy(out + used, sections[i], l);
		used += l;
		out[used] = '\0';
	}
	return 0;
}
