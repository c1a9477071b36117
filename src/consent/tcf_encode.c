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

/*
 * Make room for `more` bits after w->nbits (plus the 8 spare bytes a write
 * needs). The new bytes are zero. 0 or PV_ENOMEM.
 */
static int wr_reserve(pv_tcf_writer *w, size_t more)
{
	size_t need = (w->nbits + more + 7) / 8 + 8, cap;
	uint8_t *nb;

	if (need <= w->cap)
		return 0;
	cap = w->cap < 256 ? 256 : w->cap * 2;
	while (cap < need)
		cap *= 2;
	if (w->buf == w->stack) {
		nb = malloc(cap);
		if (nb != NULL)
			memcpy(nb, w->buf, w->cap);
	} else {
		nb = realloc(w->buf, cap);
	}
	if (nb == NULL)
		return pv_error_set(PV_ENOMEM, "tcf: encode: out of memory");
	memset(nb + w->cap, 0, cap - w->cap);
	w->buf = nb;
	w->cap = cap;
	return 0;
}

/* Append the low n (<= 57) bits of v: one word load, OR and store. 0 or PV_ENOMEM. */
static inline int wr(pv_tcf_writer *w, uint64_t v, unsigned n)
{
	uint8_t *p;
	int rc;

	if (n == 0)
		return 0;
	if ((w->nbits + n + 7) / 8 + 8 > w->cap && (rc = wr_reserve(w, n)) != 0)
		return rc;
	p = w->buf + (w->nbits >> 3);
	v &= ~0ull >> (64 - n);
	pv_tcf_store_be64(p, pv_tcf_load_be64(p) | (v << (64 - n) >> (w->nbits & 7)));
	w->nbits += n;
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

/* A mask with bit (id-1) = id as a fixed bitfield of n bits, first bit = id 1 (a bit reversal). */
static inline uint64_t mask_to_fixed(uint64_t m, unsigned n)
{
	return pv_tcf_reverse(m, n);
}

static int wr_letters(pv_tcf_writer *w, const char *s, const char *field)
{
	if (s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '\0')
		return pv_error_set(PV_EINVAL, "tcf: encode: %s: expected two letters A-Z", field);
	return wr(w, (uint64_t)((s[0] - 'A') << 6 | (s[1] - 'A')), 12);
}

/*
 * The runs of consecutive ids of a vector, one 64-id word at a time: the
 * set bits of t = w ^ (w >> 1 | last bit of the previous word) are the
 * edges of the runs (a run's first id, then the id after its last), so a
 * word with no edge costs one load and compare.
 */
typedef struct {
	const pv_tcf_vector *v;
	size_t k, nwords;                   /* word k holds ids 64k+1 .. 64k+64 */
	uint64_t t;                         /* edges of word k not yet taken */
	uint64_t prev;                      /* last bit of word k */
} run_iter;

/* Word k of v with the ids above max_id cleared, and its edges. */
static inline void run_load(run_iter *it)
{
	uint64_t w = pv_tcf_vector_word(it->v, it->k);
	unsigned over = (unsigned)((it->k + 1) * 64 > it->v->max_id ? (it->k + 1) * 64 - it->v->max_id : 0);

	if (over > 0)
		w &= ~0ull << over;
	it->t = w ^ (w >> 1 | it->prev << 63);
	it->prev = w & 1;
}

static void run_start(run_iter *it, const pv_tcf_vector *v)
{
	it->v = v;
	it->k = 0;
	it->nwords = ((size_t)v->max_id + 63) / 64;
	it->t = 0;
	it->prev = 0;
	if (it->nwords > 0)
		run_load(it);
}

/* The next edge (0-based bit index), or max_id when none is left. */
static inline unsigned run_edge(run_iter *it)
{
	unsigned c;

	while (it->t == 0) {
		if (++it->k >= it->nwords)
			return it->v->max_id;
		run_load(it);
	}
	c = (unsigned)__builtin_clzll(it->t);
	it->t ^= (1ull << 63) >> c;
	return (unsigned)(it->k * 64) + c;
}

/* The next run lo..hi (ids); false after the last. */
static inline bool run_next(run_iter *it, unsigned *lo, unsigned *hi)
{
	unsigned a = run_edge(it);

	if (a >= it->v->max_id)
		return false;
	*lo = a + 1;
	*hi = run_edge(it);
	return true;
}

/*
 * One pass over the runs of v: their number and @iabtechlabtcf/core's
 * estimate of the range encoding (16 bits per single id, 33 per run of two
 * or more).
 */
static void vector_runs(const pv_tcf_vector *v, unsigned *nruns, unsigned *est)
{
	unsigned n = 0, e = 0, lo, hi;
	run_iter it;

	run_start(&it, v);
	while (run_next(&it, &lo, &hi)) {
		n++;
		e += lo == hi ? 16 : 33;
	}
	*nruns = n;
	*est = e;
}

/* Vendors id .. id+55 of v (id-1 a multiple of 8) as the low 56 bits, lowest id first; zero past v->cap. */
static inline uint64_t vector_bits56(const pv_tcf_vector *v, unsigned id)
{
	size_t at = (id - 1) >> 3;
	uint8_t tmp[8] = { 0 };

	if (at + 8 <= v->cap)
		return pv_tcf_load_be64(v->bits + at) >> 8;
	if (at < v->cap)
		memcpy(tmp, v->bits + at, v->cap - at < 7 ? v->cap - at : 7);
	return pv_tcf_load_be64(tmp) >> 8;
}

/* Range entries of v (nruns of them): numEntries, then (isRange, start[, end]) for each run. */
static int wr_ranges(pv_tcf_writer *w, const pv_tcf_vector *v, unsigned nruns, const char *field)
{
	unsigned lo, hi;
	run_iter it;
	int rc;

	if (nruns > 4095)
		return pv_error_set(PV_EINVAL, "tcf: encode: %s: %u ranges, more than the 4095 a string can hold",
				    field, nruns);
	if ((rc = wr_reserve(w, 12 + 33 * (size_t)nruns)) != 0 || (rc = wr(w, nruns, 12)) != 0)
		return rc;
	run_start(&it, v);
	while (run_next(&it, &lo, &hi)) {
		if (lo == hi)
			rc = wr(w, lo, 17);
		else
			rc = wr(w, 1ull << 32 | (uint64_t)lo << 16 | hi, 33);
		if (rc != 0)
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
 * The bitfield is copied 56 bits per write.
 */
static int wr_vector(pv_tcf_writer *w, const pv_tcf_vector *v, const char *field)
{
	unsigned max = v->max_id, nruns, est;
	int rc;

	vector_runs(v, &nruns, &est);
	if ((rc = wr(w, max, 16)) != 0)
		return rc;
	if (max > 45 && est < max + 4) {
		if ((rc = wr(w, 1, 1)) != 0)
			return rc;
		return wr_ranges(w, v, nruns, field);
	}
	if ((rc = wr_reserve(w, 1 + (size_t)max)) != 0 || (rc = wr(w, 0, 1)) != 0)
		return rc;
	for (unsigned id = 1; id <= max; id += 56) {
		unsigned n = max - id + 1 < 56 ? max - id + 1 : 56;
		if ((rc = wr(w, vector_bits56(v, id) >> (56 - n), n)) != 0)
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
		unsigned nruns, est;

		if (r->purpose == 0)
			return pv_error_set(PV_EINVAL, "tcf: encode: publisherRestrictions[%zu].purposeId: expected 1..63", i);
		WR(r->purpose, 6, "publisherRestrictions.purposeId");
		if ((unsigned)r->type > 2)
			return pv_error_set(PV_EINVAL, "tcf: encode: publisherRestrictions[%zu].restrictionType: expected 0..2", i);
		WR(r->type, 2, "publisherRestrictions.restrictionType");
		vector_runs(&r->vendors, &nruns, &est);
		if ((rc = wr_ranges(w, &r->vendors, nruns, "publisherRestrictions.vendors")) != 0)
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

/*
 * Base64url of the bytes p[0 .. 3*ngroups) into out: 4 characters per
 * 3-byte group.
 */
static void b64_groups(char *out, const uint8_t *p, size_t ngroups)
{
	for (size_t i = 0; i < ngroups; i++, p += 3, out += 4) {
		uint32_t v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];

		out[0] = b64url[v >> 18];
		out[1] = b64url[(v >> 12) & 63];
		out[2] = b64url[(v >> 6) & 63];
		out[3] = b64url[v & 63];
	}
}

/* Start the next segment: pad the writer to a multiple of 24 bits (the reference's base64 padding). */
static void wr_segment_start(pv_tcf_writer *w, size_t *start)
{
	w->nbits = (w->nbits + 23) / 24 * 24;
	*start = w->nbits;
}

/*
 * Encode each present segment (the core, then disclosed vendors, allowed
 * vendors, publisher TC, the order of the reference library's
 * SegmentSequence) into one writer, each segment starting on a 24-bit
 * boundary, and join their base64url with '.'. The writer starts on a
 * zeroed stack buffer and moves to the heap only for long vectors.
 */
int pv_tcf_encode(char **out, size_t *len, const pv_tcf *tc)
{
	uint8_t stack[1024];
	pv_tcf_writer w = { stack, sizeof(stack), 0, stack };
	size_t seg[5], total = 0, o = 0;
	unsigned nseg = 0;
	char *s = NULL;
	int rc;

	*out = NULL;
	memset(stack, 0, sizeof(stack));
	if (tc->version != 2) {
		rc = pv_error_set(PV_EINVAL, "tcf: encode: version: expected 2, got %u", tc->version);
		goto fail;
	}
	wr_segment_start(&w, &seg[nseg++]);
	if ((rc = wr_core(&w, tc)) != 0)
		goto fail;
	if (tc->has_vendors_disclosed) {
		wr_segment_start(&w, &seg[nseg++]);
		if ((rc = wr(&w, PV_TCF_SEG_DISCLOSED, 3)) != 0
		    || (rc = wr_vector(&w, &tc->vendors_disclosed, "vendorsDisclosed")) != 0)
			goto fail;
	}
	if (tc->has_vendors_allowed) {
		wr_segment_start(&w, &seg[nseg++]);
		if ((rc = wr(&w, PV_TCF_SEG_ALLOWED, 3)) != 0
		    || (rc = wr_vector(&w, &tc->vendors_allowed, "vendorsAllowed")) != 0)
			goto fail;
	}
	if (tc->has_publisher_tc) {
		wr_segment_start(&w, &seg[nseg++]);
		if ((rc = wr_publisher(&w, tc)) != 0)
			goto fail;
	}
	/* the writer's bytes past nbits are zero, so the last segment pads itself */
	seg[nseg] = (w.nbits + 23) / 24 * 24;
	total = seg[nseg] / 6 + nseg;
	s = malloc(total);
	if (s == NULL) {
		rc = pv_error_set(PV_ENOMEM, "tcf: encode: out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < nseg; i++) {
		if (i > 0)
			s[o++] = '.';
		b64_groups(s + o, w.buf + seg[i] / 8, (seg[i + 1] - seg[i]) / 24);
		o += (seg[i + 1] - seg[i]) / 6;
	}
	s[o] = '\0';
	if (w.buf != w.stack)
		free(w.buf);
	*out = s;
	if (len != NULL)
		*len = o;
	return 0;
fail:
	if (w.buf != w.stack)
		free(w.buf);
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
