/*
 * IAB TCF v2 TC strings: the encoder (the same bits as @iabtechlabtcf/core's
 * SegmentEncoder, including its choice between the bitfield and the range
 * encoding of vendor vectors) and the mapping of a decoded string to consent
 * events for the ledger.
 */
#include <stdlib.h>
#include <string.h>

#include "consent/tcf_internal.h"
#include "core/error.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Append the low n (<= 57) bits of v. 0 or PV_ENOMEM. */
static int wr(pv_tcf_writer *w, uint64_t v, unsigned n)
{
	if ((w->nbits + n + 7) / 8 + 8 > w->cap) {
		size_t cap = w->cap < 256 ? 256 : w->cap * 2;
		uint8_t *nb = realloc(w->buf, cap);

		if (nb == NULL)
			return pv_error_set(PV_ENOMEM, "tcf: encode: out of memory");
		memset(nb + w->cap, 0, cap - w->cap);
		w->buf = nb;
		w->cap = cap;
	}
	for (unsigned i = n; i > 0; i--) {
		if ((v >> (i - 1)) & 1)
			w->buf[w->nbits >> 3] |= (uint8_t)(0x80u >> (w->nbits & 7));
		w->nbits++;
	}
	return 0;
}

/* Check that v fits in n bits of `field`. */
static int fits(uint64_t v, unsigned n, const char *field)
{
	if (n < 64 && (v >> n) != 0)
		return pv_error_set(PV_EINVAL, "tcf: encode: %s: %llu does not fit in %u bits",
				    field, (unsigned long long)v, n);
	return 0;
}

/* A mask with bit (id-1) = id as a fixed bitfield of n bits, first bit = id 1. */
static uint64_t mask_to_fixed(uint64_t m, unsigned n)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < n; i++)
		if (m & (1ull << i))
			v |= 1ull << (n - 1 - i);
	return v;
}

static int wr_letters(pv_tcf_writer *w, const char *s, const char *field)
{
	if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '\0')
		return pv_error_set(PV_EINVAL, "tcf: encode: %s: expected two letters A-Z", field);
	return wr(w, (uint64_t)((s[0] - 'A') << 6 | (s[1] - 'A')), 12);
}

/* Range entries of v: numEntries, then (isRange, start[, end]) for each run of consecutive ids. */
static int wr_ranges(pv_tcf_writer *w, const pv_tcf_vector *v, const char *field)
{
	unsigned n = 0;
	int rc;

	for (unsigned id = 1; id <= v->max_id; id++) {
		if (pv_tcf_vector_has(v, id)) {
			n++;
			while (id < v->max_id && pv_tcf_vector_has(v, id + 1))
				id++;
		}
	}
	if (n > 4095)
		return pv_error_set(PV_EINVAL, "tcf: encode: %s: %u ranges, more than the 4095 a string can hold", field, n);
	if ((rc = wr(w, n, 12)) != 0)
		return rc;
	for (unsigned id = 1; id <= v->max_id; id++) {
		unsigned lo = id;

		if (!pv_tcf_vector_has(v, id))
			continue;
		while (id < v->max_id && pv_tcf_vector_has(v, id + 1))
			id++;
		if ((rc = wr(w, lo != id, 1)) != 0 || (rc = wr(w, lo, 16)) != 0)
			return rc;
		if (lo != id && (rc = wr(w, id, 16)) != 0)
			return rc;
	}
	return 0;
}

/*
 * A vendor vector (maxId, encodingType, bitfield or ranges). The range
 * encoding is chosen exactly when @iabtechlabtcf/core's VendorVectorEncoder
 * chooses it: maxId > 45 and its running estimate of the range length (16
 * bits per single id, 33 per run, the final entry not counted) stays below
 * the bitfield length: 29 + estimate - 16 < 17 + maxId, i.e. estimate < maxId + 4.
 */
static int wr_vector(pv_tcf_writer *w, const pv_tcf_vector *v, const char *field)
{
	unsigned max = v->max_id, est = 0;
	int rc;

	for (unsigned id = 1; id <= max; id++) {
		unsigned lo = id;

		if (!pv_tcf_vector_has(v, id))
			continue;
		while (id < max && pv_tcf_vector_has(v, id + 1))
			id++;
		est += lo == id ? 16 : 33;
	}
	if ((rc = wr(w, max, 16)) != 0)
		return rc;
	if (max > 45 && est < max + 4) {
		if ((rc = wr(w, 1, 1)) != 0)
			return rc;
		return wr_ranges(w, v, field);
	}
	if ((rc = wr(w, 0, 1)) != 0)
		return rc;
	for (unsigned id = 1; id <= max; id += 8) {
		unsigned n = max - id + 1 < 8 ? max - id + 1 : 8;

		if ((rc = wr(w, (uint64_t)(v->bits[(id - 1) >> 3] >> (8 - n)), n)) != 0)
			return rc;
	}
	return 0;
}

static int wr_core(pv_tcf_writer *w, const pv_tcf *tc)
{
	int rc;

#define WR(val, n, name) do { \
		if ((rc = fits((uint64_t)(val), n, name)) != 0 || (rc = wr(w, (uint64_t)(val), n)) != 0) \
			return rc; \
	} while (0)
	WR(2, 6, "version");
	WR(tc->created, 36, "created");
	WR(tc->last_updated, 36, "lastUpdated");
	WR(tc->cmp_id, 12, "cmpId");
	WR(tc->cmp_version, 12, "cmpVersion");
	WR(tc->consent_screen, 6, "consentScreen");
	if ((rc = wr_letters(w, tc->consent_language, "consentLanguage")) != 0)
		return rc;
	WR(tc->vendor_list_version, 12, "vendorListVersion");
	WR(tc->policy_version, 6, "policyVersion");
	WR(tc->is_service_specific, 1, "isServiceSpecific");
	WR(tc->use_non_standard_texts, 1, "useNonStandardTexts");
	if ((rc = fits(tc->special_feature_optins, 12, "specialFeatureOptins")) != 0
	    || (rc = fits(tc->purpose_consents, 24, "purposeConsents")) != 0
	    || (rc = fits(tc->purpose_legitimate_interests, 24, "purposeLegitimateInterests")) != 0)
		return rc;
	WR(mask_to_fixed(tc->special_feature_optins, 12), 12, "specialFeatureOptins");
	WR(mask_to_fixed(tc->purpose_consents, 24), 24, "purposeConsents");
	WR(mask_to_fixed(tc->purpose_legitimate_interests, 24), 24, "purposeLegitimateInterests");
	WR(tc->purpose_one_treatment, 1, "purposeOneTreatment");
	if ((rc = wr_letters(w, tc->publisher_country_code, "publisherCountryCode")) != 0)
		return rc;
	if ((rc = wr_vector(w, &tc->vendor_consents, "vendorConsents")) != 0
	    || (rc = wr_vector(w, &tc->vendor_legitimate_interests, "vendorLegitimateInterests")) != 0)
		return rc;
	WR(tc->n_restrictions, 12, "publisherRestrictions.numRestrictions");
	for (size_t i = 0; i < tc->n_restrictions; i++) {
		const pv_tcf_restriction *r = &tc->restrictions[i];

		if (r->purpose == 0)
			return pv_error_set(PV_EINVAL, "tcf: encode: publisherRestrictions[%zu].purposeId: expected 1..63", i);
		WR(r->purpose, 6, "publisherRestrictions.purposeId");
		if ((unsigned)r->type > 2)
			return pv_error_set(PV_EINVAL, "tcf: encode: publisherRestrictions[%zu].restrictionType: expected 0..2", i);
		WR(r->type, 2, "publisherRestrictions.restrictionType");
		if ((rc = wr_ranges(w, &r->vendors, "publisherRestrictions.vendors")) != 0)
			return rc;
	}
	return 0;
}

static int wr_publisher(pv_tcf_writer *w, const pv_tcf *tc)
{
	unsigned n = tc->num_custom_purposes;
	int rc;

	WR(PV_TCF_SEG_PUBLISHER, 3, "segmentType");
	if ((rc = fits(tc->publisher_consents, 24, "publisherConsents")) != 0
	    || (rc = fits(tc->publisher_legitimate_interests, 24, "publisherLegitimateInterests")) != 0
	    || (rc = fits(n, 6, "numCustomPurposes")) != 0
	    || (rc = fits(tc->publisher_custom_consents, n, "publisherCustomConsents")) != 0
	    || (rc = fits(tc->publisher_custom_legitimate_interests, n, "publisherCustomLegitimateInterests")) != 0)
		return rc;
	WR(mask_to_fixed(tc->publisher_consents, 24), 24, "publisherConsents");
	WR(mask_to_fixed(tc->publisher_legitimate_interests, 24), 24, "publisherLegitimateInterests");
	WR(n, 6, "numCustomPurposes");
	WR(mask_to_fixed(tc->publisher_custom_consents, n), n, "publisherCustomConsents");
	WR(mask_to_fixed(tc->publisher_custom_legitimate_interests, n), n, "publisherCustomLegitimateInterests");
#undef WR
	return 0;
}

/* Append w's bits, zero-padded to a multiple of 24, as base64url to out at *o. */
static void b64_append(char *out, size_t *o, const pv_tcf_writer *w)
{
	size_t nbits = (w->nbits + 23) / 24 * 24;

	for (size_t pos = 0; pos < nbits; pos += 6) {
		const uint8_t *p = w->buf + (pos >> 3);
		unsigned v = ((unsigned)p[0] << 8 | p[1]) >> (10 - (pos & 7));

		out[(*o)++] = b64url[v & 63];
	}
}

/*
 * Encode each present segment with its own writer (the core, then disclosed
 * vendors, allowed vendors, publisher TC, the order of the reference
 * library's SegmentSequence) and join their base64url with '.'.
 */
int pv_tcf_encode(char **out, size_t *len, const pv_tcf *tc)
{
	pv_tcf_writer w[4];
	unsigned nseg = 0;
	size_t total = 0, o = 0;
	char *s = NULL;
	int rc;

	*out = NULL;
	memset(w, 0, sizeof(w));
	if (tc->version != 2) {
		rc = pv_error_set(PV_EINVAL, "tcf: encode: version: expected 2, got %u", tc->version);
		goto fail;
	}
	if ((rc = wr_core(&w[nseg++], tc)) != 0)
		goto fail;
	if (tc->has_vendors_disclosed) {
		if ((rc = wr(&w[nseg], PV_TCF_SEG_DISCLOSED, 3)) != 0
		    || (rc = wr_vector(&w[nseg], &tc->vendors_disclosed, "vendorsDisclosed")) != 0)
			goto fail;
		nseg++;
	}
	if (tc->has_vendors_allowed) {
		if ((rc = wr(&w[nseg], PV_TCF_SEG_ALLOWED, 3)) != 0
		    || (rc = wr_vector(&w[nseg], &tc->vendors_allowed, "vendorsAllowed")) != 0)
			goto fail;
		nseg++;
	}
	if (tc->has_publisher_tc) {
		if ((rc = wr_publisher(&w[nseg], tc)) != 0)
			goto fail;
		nseg++;
	}
	for (unsigned i = 0; i < nseg; i++)
		total += (w[i].nbits + 23) / 24 * 4 + 1;
	s = malloc(total + 1);
	if (s == NULL) {
		rc = pv_error_set(PV_ENOMEM, "tcf: encode: out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < nseg; i++) {
		if (i > 0)
			s[o++] = '.';
		b64_append(s, &o, &w[i]);
	}
	s[o] = '\0';
	for (unsigned i = 0; i < 4; i++)
		free(w[i].buf);
	*out = s;
	if (len != NULL)
		*len = o;
	return 0;
fail:
	for (unsigned i = 0; i < 4; i++)
		free(w[i].buf);
	return rc;
}

/* ---- events ------------------------------------------------------------- */

const char *pv_tcf_event_kind_name(pv_tcf_event_kind kind)
{
	static const char *const names[] = {
		"purpose_consent", "purpose_li", "vendor_consent", "vendor_li", "special_feature",
		"publisher_consent", "publisher_li", "custom_consent", "custom_li"
	};

	if ((unsigned)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

typedef struct {
	pv_tcf_event *v;
	size_t n, cap;
} event_list;

static int ev_add(event_list *l, pv_tcf_event_kind kind, unsigned id, bool granted)
{
	if (l->n == l->cap) {
		size_t cap = l->cap < 64 ? 64 : l->cap * 2;
		pv_tcf_event *nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL)
			return pv_error_set(PV_ENOMEM, "tcf: events: out of memory");
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].kind = kind;
	l->v[l->n].id = id;
	l->v[l->n].granted = granted;
	l->n++;
	return 0;
}

/* Events of a mask of `width` bits: ids 1..defined unless skipped, and every set bit. */
static int ev_mask(event_list *l, pv_tcf_event_kind kind, uint64_t mask, unsigned width, unsigned defined,
		   uint64_t skip)
{
	int rc;

	for (unsigned id = 1; id <= width; id++) {
		bool set = (mask >> (id - 1)) & 1;

		if (!set && (id > defined || ((skip >> (id - 1)) & 1)))
			continue;
		if ((rc = ev_add(l, kind, id, set)) != 0)
			return rc;
	}
	return 0;
}

/* Vendor events: disclosed vendors (granted or refused) and vendors set, else only vendors set. */
static int ev_vendors(event_list *l, pv_tcf_event_kind kind, const pv_tcf_vector *v, const pv_tcf *tc)
{
	unsigned max = v->max_id;
	int rc;

	if (tc->has_vendors_disclosed && tc->vendors_disclosed.max_id > max)
		max = tc->vendors_disclosed.max_id;
	for (unsigned id = 1; id <= max; id++) {
		bool set = pv_tcf_vector_has(v, id);

		if (!set && !(tc->has_vendors_disclosed && pv_tcf_vector_has(&tc->vendors_disclosed, id)))
			continue;
		if ((rc = ev_add(l, kind, id, set)) != 0)
			return rc;
	}
	return 0;
}

int pv_tcf_events(pv_tcf_event **out, size_t *n, const pv_tcf *tc)
{
	/* Purposes 1, 3, 4, 5, 6 cannot rest on legitimate interest under TCF v2.2. */
	const uint64_t no_li = (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5);
	event_list l = { NULL, 0, 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = ev_mask(&l, PV_TCF_EV_PURPOSE_CONSENT, tc->purpose_consents, 24, PV_TCF_NUM_PURPOSES, 0)) != 0
	    || (rc = ev_mask(&l, PV_TCF_EV_PURPOSE_LI, tc->purpose_legitimate_interests, 24, PV_TCF_NUM_PURPOSES,
			     no_li)) != 0
	    || (rc = ev_vendors(&l, PV_TCF_EV_VENDOR_CONSENT, &tc->vendor_consents, tc)) != 0
	    || (rc = ev_vendors(&l, PV_TCF_EV_VENDOR_LI, &tc->vendor_legitimate_interests, tc)) != 0
	    || (rc = ev_mask(&l, PV_TCF_EV_SPECIAL_FEATURE, tc->special_feature_optins, 12,
			     PV_TCF_NUM_SPECIAL_FEATURES, 0)) != 0)
		goto fail;
	if (tc->has_publisher_tc) {
		unsigned nc = tc->num_custom_purposes;

		if ((rc = ev_mask(&l, PV_TCF_EV_PUBLISHER_CONSENT, tc->publisher_consents, 24, PV_TCF_NUM_PURPOSES, 0)) != 0
		    || (rc = ev_mask(&l, PV_TCF_EV_PUBLISHER_LI, tc->publisher_legitimate_interests, 24,
				     PV_TCF_NUM_PURPOSES, no_li)) != 0
		    || (rc = ev_mask(&l, PV_TCF_EV_CUSTOM_CONSENT, tc->publisher_custom_consents, nc, nc, 0)) != 0
		    || (rc = ev_mask(&l, PV_TCF_EV_CUSTOM_LI, tc->publisher_custom_legitimate_interests, nc, nc, 0)) != 0)
			goto fail;
	}
	*out = l.v;
	*n = l.n;
	return 0;
fail:
	free(l.v);
	return rc;
}
