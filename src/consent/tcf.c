/*
 * IAB TCF v2 TC strings: vendor vectors, decode and encode of the core,
 * disclosed vendors, allowed vendors and publisher TC segments. The field
 * order and widths are those of the IAB's "Consent string and vendor list
 * formats v2" and of @iabtechlabtcf/core, which the oracle test
 * (tests/consent/) compares against field by field.
 */
#include <stdlib.h>
#include <string.h>

#include "consent/tcf_internal.h"
#include "core/error.h"
#include "core/limits.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for a base64url character, 0xff otherwise. */
static const uint8_t *b64_rev(void)
{
	static uint8_t rev[256];
	static int ready;

	if (!ready) {
		memset(rev, 0xff, sizeof(rev));
		for (int i = 0; i < 64; i++)
			rev[(unsigned char)b64url[i]] = (uint8_t)i;
		__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	}
	return rev;
}

const char *pv_tcf_segment_name(unsigned type)
{
	switch (type) {
	case PV_TCF_SEG_CORE: return "core";
	case PV_TCF_SEG_DISCLOSED: return "disclosed vendors";
	case PV_TCF_SEG_ALLOWED: return "allowed vendors";
	case PV_TCF_SEG_PUBLISHER: return "publisher TC";
	default: return "unknown";
	}
}

/* ---- vendor vectors ---------------------------------------------------- */

bool pv_tcf_vector_has(const pv_tcf_vector *v, unsigned id)
{
	if (id == 0 || id > v->max_id)
		return false;
	return (v->bits[(id - 1) >> 3] & (0x80u >> ((id - 1) & 7))) != 0;
}

/* Make room for ids up to `id`. 0 or PV_ENOMEM. */
static int vector_grow(pv_tcf_vector *v, unsigned id)
{
	size_t need = ((size_t)id + 7) / 8, cap;
	uint8_t *nb;

	if (need <= v->cap)
		return 0;
	cap = v->cap < 32 ? 32 : v->cap;
	while (cap < need)
		cap *= 2;
	if (cap > (PV_TCF_MAX_VENDOR + 7) / 8 + 1)
		cap = (PV_TCF_MAX_VENDOR + 7) / 8 + 1;
	nb = realloc(v->bits, cap);
	if (nb == NULL)
		return pv_error_set(PV_ENOMEM, "tcf: vendor vector: out of memory");
	memset(nb + v->cap, 0, cap - v->cap);
	v->bits = nb;
	v->cap = cap;
	return 0;
}

int pv_tcf_vector_set(pv_tcf_vector *v, unsigned id)
{
	uint8_t m;
	int rc;

	if (id == 0 || id > PV_TCF_MAX_VENDOR)
		return pv_error_set(PV_EINVAL, "tcf: vendor id %u: expected 1..%u", id, PV_TCF_MAX_VENDOR);
	if ((rc = vector_grow(v, id)) != 0)
		return rc;
	m = (uint8_t)(0x80u >> ((id - 1) & 7));
	if (!(v->bits[(id - 1) >> 3] & m)) {
		v->bits[(id - 1) >> 3] |= m;
		v->count++;
	}
	if (id > v->max_id)
		v->max_id = id;
	return 0;
}

/* Bits of p[0..n) that are set, 8 bytes per step. */
static unsigned popcount_bytes(const uint8_t *p, size_t n)
{
	unsigned c = 0;
	uint64_t w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		c += pv_tcf_popcount64(w);
	}
	while (n-- > 0)
		c += pv_tcf_popcount64(*p++);
	return c;
}

/* Set the bits of mask m in byte *b, counting the new ones into v->count. */
static inline void set_masked(pv_tcf_vector *v, uint8_t *b, unsigned m)
{
	v->count += pv_tcf_popcount64(m & ~(unsigned)*b & 0xffu);
	*b |= (uint8_t)m;
}

/*
 * Set vendors lo..hi: masks for the first and last byte, memset between
 * (the bytes already set there counted first, so `count` stays exact).
 */
int pv_tcf_vector_set_range(pv_tcf_vector *v, unsigned lo, unsigned hi)
{
	size_t a = lo - 1, b = hi - 1, ba = a >> 3, bb = b >> 3;
	unsigned mlo = 0xffu >> (a & 7), mhi = (0xff00u >> ((b & 7) + 1)) & 0xffu;
	int rc;

	if ((rc = vector_grow(v, hi)) != 0)
		return rc;
	if (ba == bb) {
		set_masked(v, &v->bits[ba], mlo & mhi);
	} else {
		set_masked(v, &v->bits[ba], mlo);
		if (bb - ba > 1) {
			v->count += (unsigned)(bb - ba - 1) * 8 - popcount_bytes(v->bits + ba + 1, bb - ba - 1);
			memset(v->bits + ba + 1, 0xff, bb - ba - 1);
		}
		set_masked(v, &v->bits[bb], mhi);
	}
	if (hi > v->max_id)
		v->max_id = hi;
	return 0;
}

void pv_tcf_vector_clear(pv_tcf_vector *v)
{
	free(v->bits);
	memset(v, 0, sizeof(*v));
}

/* ---- the model --------------------------------------------------------- */

int pv_tcf_new(pv_tcf **out)
{
	pv_tcf *tc = calloc(1, sizeof(*tc));

	*out = NULL;
	if (tc == NULL)
		return pv_error_set(PV_ENOMEM, "tcf: out of memory");
	tc->version = 2;
	memcpy(tc->consent_language, "EN", 3);
	memcpy(tc->publisher_country_code, "AA", 3);
	*out = tc;
	return 0;
}

void pv_tcf_free(pv_tcf **tcp)
{
	pv_tcf *tc;

	if (tcp == NULL || *tcp == NULL)
		return;
	tc = *tcp;
	pv_tcf_vector_clear(&tc->vendor_consents);
	pv_tcf_vector_clear(&tc->vendor_legitimate_interests);
	pv_tcf_vector_clear(&tc->vendors_disclosed);
	pv_tcf_vector_clear(&tc->vendors_allowed);
	for (size_t i = 0; i < tc->n_restrictions; i++)
		pv_tcf_vector_clear(&tc->restrictions[i].vendors);
	free(tc->restrictions);
	free(tc);
	*tcp = NULL;
}

/* The restriction purpose x type, created if missing. 0, PV_EINVAL, PV_ENOMEM. */
static int restriction_get(pv_tcf_restriction **out, pv_tcf *tc, unsigned purpose, unsigned type)
{
	pv_tcf_restriction *nr;

	if (purpose == 0 || purpose > 63)
		return pv_error_set(PV_EINVAL, "tcf: publisher restriction purpose %u: expected 1..63", purpose);
	if (type > PV_TCF_RESTRICT_REQUIRE_LI)
		return pv_error_set(PV_EINVAL, "tcf: publisher restriction type %u: expected 0, 1 or 2", type);
	for (size_t i = 0; i < tc->n_restrictions; i++) {
		if (tc->restrictions[i].purpose == purpose && tc->restrictions[i].type == type) {
			*out = &tc->restrictions[i];
			return 0;
		}
	}
	nr = realloc(tc->restrictions, (tc->n_restrictions + 1) * sizeof(*nr));
	if (nr == NULL)
		return pv_error_set(PV_ENOMEM, "tcf: publisher restrictions: out of memory");
	tc->restrictions = nr;
	nr = &tc->restrictions[tc->n_restrictions++];
	memset(nr, 0, sizeof(*nr));
	nr->purpose = purpose;
	nr->type = (pv_tcf_restriction_type)type;
	*out = nr;
	return 0;
}

int pv_tcf_restriction_add(pv_tcf *tc, unsigned purpose, pv_tcf_restriction_type type, unsigned vendor)
{
	pv_tcf_restriction *r;
	int rc;

	if ((rc = restriction_get(&r, tc, purpose, (unsigned)type)) != 0)
		return rc;
	return pv_tcf_vector_set(&r->vendors, vendor);
}

/* ---- reading ----------------------------------------------------------- */

/* The message of a read past the end of a segment. Returns PV_EINVAL. */
static __attribute__((noinline, cold)) int rd_short(const pv_tcf_reader *r, unsigned n, const char *field)
{
	return pv_error_set(PV_EINVAL, "TC string %s segment: %s at bit %zu needs %u bits, the segment has %zu",
			    r->seg, field, r->pos, n, r->nbits);
}

/* The next n (1..57) bits, unchecked: the caller knows they are there. One word load. */
static inline uint64_t rd_raw(pv_tcf_reader *r, unsigned n)
{
	uint64_t w = pv_tcf_load_be64(r->buf + (r->pos >> 3)) << (r->pos & 7);

	r->pos += n;
	return w >> (64 - n);
}

/* Read n (<= 64) bits of `field` into *v; PV_EINVAL naming field and offset when too short. */
static inline int rd(pv_tcf_reader *r, unsigned n, const char *field, uint64_t *v)
{
	if (r->pos > r->nbits || r->nbits - r->pos < n) {
		*v = 0;
		return rd_short(r, n, field);
	}
	if (n == 0) {
		*v = 0;
	} else if (n > 57) {
		uint64_t hi = rd_raw(r, n - 32);

		*v = hi << 32 | rd_raw(r, 32);
	} else {
		*v = rd_raw(r, n);
	}
	return 0;
}

/* A fixed bitfield of n bits (first bit = id 1) as a mask with bit (id-1) = id. */
static inline uint64_t fixed_to_mask(uint64_t v, unsigned n)
{
	return pv_tcf_reverse(v, n);
}

/* Two letters, 6 bits each (0 = 'A'). */
static int rd_letters(pv_tcf_reader *r, const char *field, char out[3])
{
	size_t at = r->pos;
	uint64_t v;
	int rc;

	if ((rc = rd(r, 12, field, &v)) != 0)
		return rc;
	if ((v >> 6) > 25 || (v & 63) > 25)
		return pv_error_set(PV_EINVAL, "TC string %s segment: %s at bit %zu: expected two letters A-Z",
				    r->seg, field, at);
	out[0] = (char)('A' + (v >> 6));
	out[1] = (char)('A' + (v & 63));
	out[2] = '\0';
	return 0;
}

/* Range entries (numEntries 12, then isRange 1, start 16 [, end 16]) into v; max 0 = no bound. */
static int rd_ranges(pv_tcf_reader *r, const char *field, pv_tcf_vector *v, unsigned max)
{
	uint64_t n, is_range, lo, hi;
	int rc;

	if ((rc = rd(r, 12, field, &n)) != 0)
		return rc;
	for (uint64_t i = 0; i < n; i++) {
		size_t at = r->pos;

		if ((rc = rd(r, 1, field, &is_range)) != 0 || (rc = rd(r, 16, field, &lo)) != 0)
			return rc;
		hi = lo;
		if (is_range && (rc = rd(r, 16, field, &hi)) != 0)
			return rc;
		if (lo == 0 || hi < lo || (max != 0 && hi > max))
			return pv_error_set(PV_EINVAL, "TC string %s segment: %s: range entry %llu at bit %zu: "
					    "expected vendor ids 1 <= start <= end <= %u",
					    r->seg, field, (unsigned long long)i, at, max != 0 ? max : PV_TCF_MAX_VENDOR);
		if ((rc = pv_tcf_vector_set_range(v, (unsigned)lo, (unsigned)hi)) != 0)
			return rc;
	}
	return 0;
}

/*
 * A vendor vector: maxId 16, encodingType 1, then a bitfield of maxId bits
 * (copied 56 bits per read, counted by popcount) or range entries (the
 * vector sized for maxId first, so ranges never reallocate).
 */
static int rd_vector(pv_tcf_reader *r, const char *field, pv_tcf_vector *v)
{
	uint64_t max, type;
	size_t last;
	int rc;

	if ((rc = rd(r, 16, field, &max)) != 0 || (rc = rd(r, 1, field, &type)) != 0)
		return rc;
	if (max > 0 && (rc = vector_grow(v, (unsigned)max)) != 0)
		return rc;
	if (type == 1)
		return rd_ranges(r, field, v, (unsigned)max);
	if (r->nbits - r->pos < max)
		return pv_error_set(PV_EINVAL, "TC string %s segment: %s at bit %zu needs %llu bits, the segment has %zu",
				    r->seg, field, r->pos, (unsigned long long)max, r->nbits);
	if (max == 0)
		return 0;
	for (unsigned id = 1; id <= max; id += 56) {
		unsigned n = max - id + 1 < 56 ? (unsigned)max - id + 1 : 56;
		uint64_t b = rd_raw(r, n) << (56 - n);
		uint8_t *p = v->bits + ((id - 1) >> 3);

		for (unsigned k = 0; k < (n + 7) / 8; k++)
			p[k] = (uint8_t)(b >> (48 - 8 * k));
		v->count += pv_tcf_popcount64(b);
	}
	/* the highest id set: the last nonzero byte, then its lowest set bit */
	for (last = (((size_t)max - 1) >> 3) + 1; last > 0 && v->bits[last - 1] == 0; last--)
		;
	if (last > 0)
		v->max_id = (unsigned)((last - 1) * 8 + 8 - (unsigned)__builtin_ctz(v->bits[last - 1]));
	return 0;
}

static int rd_core(pv_tcf_reader *r, pv_tcf *tc)
{
	uint64_t v;
	int rc;

	if ((rc = rd(r, 6, "version", &v)) != 0)
		return rc;
	if (v != 2)
		return pv_error_set(PV_EINVAL, "TC string core segment: version at bit 0: expected 2 (TCF v2.2/v2.3), got %llu",
				    (unsigned long long)v);
	tc->version = 2;
#define RD(n, name, dst) do { if ((rc = rd(r, n, name, &v)) != 0) return rc; dst = v; } while (0)
	RD(36, "created", tc->created);
	RD(36, "lastUpdated", tc->last_updated);
	RD(12, "cmpId", tc->cmp_id);
	RD(12, "cmpVersion", tc->cmp_version);
	RD(6, "consentScreen", tc->consent_screen);
	if ((rc = rd_letters(r, "consentLanguage", tc->consent_language)) != 0)
		return rc;
	RD(12, "vendorListVersion", tc->vendor_list_version);
	RD(6, "policyVersion", tc->policy_version);
	RD(1, "isServiceSpecific", tc->is_service_specific);
	RD(1, "useNonStandardTexts", tc->use_non_standard_texts);
	RD(12, "specialFeatureOptins", tc->special_feature_optins);
	tc->special_feature_optins = (uint32_t)fixed_to_mask(tc->special_feature_optins, 12);
	RD(24, "purposeConsents", tc->purpose_consents);
	tc->purpose_consents = (uint32_t)fixed_to_mask(tc->purpose_consents, 24);
	RD(24, "purposeLegitimateInterests", tc->purpose_legitimate_interests);
	tc->purpose_legitimate_interests = (uint32_t)fixed_to_mask(tc->purpose_legitimate_interests, 24);
	RD(1, "purposeOneTreatment", tc->purpose_one_treatment);
#undef RD
	if ((rc = rd_letters(r, "publisherCountryCode", tc->publisher_country_code)) != 0)
		return rc;
	if ((rc = rd_vector(r, "vendorConsents", &tc->vendor_consents)) != 0)
		return rc;
	if ((rc = rd_vector(r, "vendorLegitimateInterests", &tc->vendor_legitimate_interests)) != 0)
		return rc;
	if ((rc = rd(r, 12, "publisherRestrictions.numRestrictions", &v)) != 0)
		return rc;
	for (uint64_t i = 0, n = v; i < n; i++) {
		pv_tcf_restriction *pr;
		uint64_t purpose, type;
		size_t at = r->pos;

		if ((rc = rd(r, 6, "publisherRestrictions.purposeId", &purpose)) != 0
		    || (rc = rd(r, 2, "publisherRestrictions.restrictionType", &type)) != 0)
			return rc;
		if (purpose == 0 || type > 2)
			return pv_error_set(PV_EINVAL, "TC string core segment: publisherRestrictions entry %llu at bit %zu: "
					    "expected purpose 1..63 and restriction type 0..2", (unsigned long long)i, at);
		if ((rc = restriction_get(&pr, tc, (unsigned)purpose, (unsigned)type)) != 0)
			return rc;
		if ((rc = rd_ranges(r, "publisherRestrictions.vendors", &pr->vendors, 0)) != 0)
			return rc;
		if (pr->vendors.count == 0) {
			/* no vendor: nothing restricted (a restriction seen before has vendors, so this one is last) */
			pv_tcf_vector_clear(&pr->vendors);
			tc->n_restrictions--;
		}
	}
	return 0;
}

static int rd_publisher(pv_tcf_reader *r, pv_tcf *tc)
{
	uint64_t v;
	int rc;

	if ((rc = rd(r, 24, "publisherConsents", &v)) != 0)
		return rc;
	tc->publisher_consents = (uint32_t)fixed_to_mask(v, 24);
	if ((rc = rd(r, 24, "publisherLegitimateInterests", &v)) != 0)
		return rc;
	tc->publisher_legitimate_interests = (uint32_t)fixed_to_mask(v, 24);
	if ((rc = rd(r, 6, "numCustomPurposes", &v)) != 0)
		return rc;
	tc->num_custom_purposes = (unsigned)v;
	if ((rc = rd(r, tc->num_custom_purposes, "publisherCustomConsents", &v)) != 0)
		return rc;
	tc->publisher_custom_consents = fixed_to_mask(v, tc->num_custom_purposes);
	if ((rc = rd(r, tc->num_custom_purposes, "publisherCustomLegitimateInterests", &v)) != 0)
		return rc;
	tc->publisher_custom_legitimate_interests = fixed_to_mask(v, tc->num_custom_purposes);
	return 0;
}

/* The message for the first character of s[0..len) that is not base64url. Returns (size_t)-1. */
static __attribute__((noinline, cold)) size_t b64_bad(const char *s, size_t len, size_t from, unsigned segno)
{
	const uint8_t *rev = b64_rev();
	size_t i = from;

	while (i < len && rev[(unsigned char)s[i]] != 0xff)
		i++;
	pv_error_set(PV_EINVAL, "TC string segment %u: character %zu (bit %zu) is not base64url (A-Z a-z 0-9 - _)",
		     segno, i, i * 6);
	return (size_t)-1;
}

/*
 * Decode base64url s[0..len) into buf (8 zero bytes after the data), four
 * characters to three bytes per step. Returns the number of bits, or sets
 * PV_EINVAL naming the segment and the character position and returns
 * (size_t)-1.
 */
static size_t b64_decode(uint8_t *buf, const char *s, size_t len, unsigned segno)
{
	const uint8_t *rev = b64_rev();
	const unsigned char *u = (const unsigned char *)s;
	size_t nbytes = (len * 6 + 7) / 8, o = 0, i = 0;
	uint32_t acc = 0;
	unsigned nacc = 0;

	for (; i + 4 <= len; i += 4, o += 3) {
		uint32_t a = rev[u[i]], b = rev[u[i + 1]], c = rev[u[i + 2]], d = rev[u[i + 3]];

		if ((a | b | c | d) & 0x80)
			return b64_bad(s, len, i, segno);
		acc = a << 18 | b << 12 | c << 6 | d;
		buf[o] = (uint8_t)(acc >> 16);
		buf[o + 1] = (uint8_t)(acc >> 8);
		buf[o + 2] = (uint8_t)acc;
	}
	acc = 0;
	for (; i < len; i++) {
		uint8_t c = rev[u[i]];

		if (c == 0xff)
			return b64_bad(s, len, i, segno);
		acc = (acc << 6) | c;
		nacc += 6;
		if (nacc >= 8) {
			nacc -= 8;
			buf[o++] = (uint8_t)(acc >> nacc);
		}
	}
	if (nacc > 0)
		buf[o] = (uint8_t)(acc << (8 - nacc));
	memset(buf + nbytes, 0, 8);
	return len * 6;
}

/*
 * Decode a TC string: split on '.', decode each segment's base64url, read the
 * core segment, then each optional segment by its 3-bit type. Segments must
 * not repeat; bits after a segment's last field (padding) are ignored.
 */
int pv_tcf_decode(pv_tcf **out, const char *s, size_t len)
{
	uint8_t stack[1544];
	pv_tcf *tc = NULL;
	uint8_t *buf = stack;
	unsigned segno = 0, seen = 0;
	size_t start = 0;
	int rc;

	*out = NULL;
	if (s == NULL || len == 0)
		return pv_error_set(PV_EINVAL, "TC string: empty");
	if (len > PV_TCF_MAX_STRING)
		return pv_error_set(PV_ELIMIT, "TC string: %zu characters, more than the limit of %u", len, PV_TCF_MAX_STRING);
	if ((rc = pv_tcf_new(&tc)) != 0)
		return rc;
	if ((len * 6 + 7) / 8 + 8 > sizeof(stack) && (buf = malloc((len * 6 + 7) / 8 + 8)) == NULL) {
		rc = pv_error_set(PV_ENOMEM, "TC string: out of memory");
		goto fail;
	}
	while (start <= len) {
		const char *dot = memchr(s + start, '.', len - start);
		size_t seglen = (dot != NULL ? (size_t)(dot - s) : len) - start;
		pv_tcf_reader r = { buf, 0, 0, "core" };
		uint64_t type = PV_TCF_SEG_CORE;

		if (seglen == 0) {
			rc = pv_error_set(PV_EINVAL, "TC string segment %u: empty", segno);
			goto fail;
		}
		r.nbits = b64_decode(buf, s + start, seglen, segno);
		if (r.nbits == (size_t)-1) {
			rc = PV_EINVAL;
			goto fail;
		}
		if (segno > 0) {
			r.seg = "optional";
			if ((rc = rd(&r, 3, "segmentType", &type)) != 0)
				goto fail;
			if (type == PV_TCF_SEG_CORE || type > PV_TCF_SEG_PUBLISHER) {
				rc = pv_error_set(PV_EINVAL, "TC string segment %u: segmentType at bit 0: expected 1, 2 or 3, got %llu",
						  segno, (unsigned long long)type);
				goto fail;
			}
			if (seen & (1u << type)) {
				rc = pv_error_set(PV_EINVAL, "TC string segment %u: a second %s segment", segno,
						  pv_tcf_segment_name((unsigned)type));
				goto fail;
			}
			r.seg = pv_tcf_segment_name((unsigned)type);
		}
		seen |= 1u << type;
		switch (type) {
		case PV_TCF_SEG_CORE:
			rc = rd_core(&r, tc);
			break;
		case PV_TCF_SEG_DISCLOSED:
			tc->has_vendors_disclosed = true;
			rc = rd_vector(&r, "vendorsDisclosed", &tc->vendors_disclosed);
			break;
		case PV_TCF_SEG_ALLOWED:
			tc->has_vendors_allowed = true;
			rc = rd_vector(&r, "vendorsAllowed", &tc->vendors_allowed);
			break;
		default:
			tc->has_publisher_tc = true;
			rc = rd_publisher(&r, tc);
			break;
		}
		if (rc != 0)
			goto fail;
		segno++;
		if (dot == NULL)
			break;
		start += seglen + 1;
	}
	if (buf != stack)
		free(buf);
	*out = tc;
	return 0;
fail:
	if (buf != stack)
		free(buf);
	pv_tcf_free(&tc);
	return rc;
}
