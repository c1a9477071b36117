/*
 * The JSON form of a TC string (docs/consent.md, "Signals: TCF"): the field
 * names of @iabtechlabtcf/core, id lists as arrays, times as ISO 8601 UTC
 * with milliseconds. Used by the CLI (`privault consent tcf decode|encode`)
 * and by the oracle test, whose node side writes the same form.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consent/tcf_internal.h"
#include "core/error.h"

/*
 * "YYYY-MM-DDThh:mm:ss[.f...]Z" to deciseconds since the epoch, rounding the
 * milliseconds as the reference does (Math.round(ms / 100)). 0 or PV_EINVAL.
 */
int pv_tcf_time_parse(uint64_t *out, const char *text)
{
	struct tm tm;
	int y, mo, d, h, mi, s, n = 0;
	unsigned ms = 0, digits = 0;
	const char *p;
	time_t t;

	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
		return PV_EINVAL;
	p = text + n;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (unsigned)(*p - '0');
		if (digits == 0)
			return PV_EINVAL;
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
		return PV_EINVAL;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t < 0 || tm.tm_mday != d)
		return PV_EINVAL;
	*out = ((uint64_t)t * 1000 + ms + 50) / 100;
	return 0;
}

void pv_tcf_time_format(uint64_t ds, char buf[64])
{
	time_t t = (time_t)(ds / 10);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ds % 10) * 100);
}

/* ---- to JSON ------------------------------------------------------------ */

static json_t *mask_json(uint64_t m, unsigned width)
{
	json_t *a = json_array();

	for (unsigned i = 0; a != NULL && i < width; i++)
		if ((m >> i) & 1)
			json_array_append_new(a, json_integer(i + 1));
	return a;
}

static json_t *vector_json(const pv_tcf_vector *v)
{
	json_t *a = json_array();

	for (unsigned id = 1; a != NULL && id <= v->max_id; id++)
		if (pv_tcf_vector_has(v, id))
			json_array_append_new(a, json_integer(id));
	return a;
}

int pv_tcf_to_json(char **out, const pv_tcf *tc)
{
	json_t *o = json_object(), *rs, *pub;
	char created[64], updated[64];
	int bad = 0;

	*out = NULL;
	if (o == NULL)
		return pv_error_set(PV_ENOMEM, "tcf: json: out of memory");
	pv_tcf_time_format(tc->created, created);
	pv_tcf_time_format(tc->last_updated, updated);
	bad |= json_object_set_new(o, "version", json_integer(tc->version));
	bad |= json_object_set_new(o, "created", json_string(created));
	bad |= json_object_set_new(o, "lastUpdated", json_string(updated));
	bad |= json_object_set_new(o, "cmpId", json_integer(tc->cmp_id));
	bad |= json_object_set_new(o, "cmpVersion", json_integer(tc->cmp_version));
	bad |= json_object_set_new(o, "consentScreen", json_integer(tc->consent_screen));
	bad |= json_object_set_new(o, "consentLanguage", json_string(tc->consent_language));
	bad |= json_object_set_new(o, "vendorListVersion", json_integer(tc->vendor_list_version));
	bad |= json_object_set_new(o, "policyVersion", json_integer(tc->policy_version));
	bad |= json_object_set_new(o, "isServiceSpecific", json_boolean(tc->is_service_specific));
	bad |= json_object_set_new(o, "useNonStandardTexts", json_boolean(tc->use_non_standard_texts));
	bad |= json_object_set_new(o, "specialFeatureOptins", mask_json(tc->special_feature_optins, 12));
	bad |= json_object_set_new(o, "purposeConsents", mask_json(tc->purpose_consents, 24));
	bad |= json_object_set_new(o, "purposeLegitimateInterests", mask_json(tc->purpose_legitimate_interests, 24));
	bad |= json_object_set_new(o, "purposeOneTreatment", json_boolean(tc->purpose_one_treatment));
	bad |= json_object_set_new(o, "publisherCountryCode", json_string(tc->publisher_country_code));
	bad |= json_object_set_new(o, "vendorConsents", vector_json(&tc->vendor_consents));
	bad |= json_object_set_new(o, "vendorLegitimateInterests", vector_json(&tc->vendor_legitimate_interests));
	rs = json_array();
	bad |= json_object_set_new(o, "publisherRestrictions", rs);
	for (size_t i = 0; rs != NULL && i < tc->n_restrictions; i++)
		bad |= json_array_append_new(rs, json_pack("{s:I, s:I, s:o*}",
							   "purposeId", (json_int_t)tc->restrictions[i].purpose,
							   "restrictionType", (json_int_t)tc->restrictions[i].type,
							   "vendors", vector_json(&tc->restrictions[i].vendors)));
	if (tc->has_vendors_disclosed)
		bad |= json_object_set_new(o, "vendorsDisclosed", vector_json(&tc->vendors_disclosed));
	if (tc->has_vendors_allowed)
		bad |= json_object_set_new(o, "vendorsAllowed", vector_json(&tc->vendors_allowed));
	if (tc->has_publisher_tc) {
		pub = json_object();
		bad |= json_object_set_new(o, "publisherTC", pub);
		if (pub != NULL) {
			unsigned n = tc->num_custom_purposes;

			bad |= json_object_set_new(pub, "publisherConsents", mask_json(tc->publisher_consents, 24));
			bad |= json_object_set_new(pub, "publisherLegitimateInterests",
						   mask_json(tc->publisher_legitimate_interests, 24));
			bad |= json_object_set_new(pub, "numCustomPurposes", json_integer(n));
			bad |= json_object_set_new(pub, "publisherCustomConsents", mask_json(tc->publisher_custom_consents, n));
			bad |= json_object_set_new(pub, "publisherCustomLegitimateInterests",
						   mask_json(tc->publisher_custom_legitimate_interests, n));
		}
	}
	if (!bad)
		*out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (*out == NULL)
		return pv_error_set(PV_ENOMEM, "tcf: json: out of memory");
	return 0;
}

/* ---- from JSON ---------------------------------------------------------- */

static int get_uint(json_t *o, const char *key, unsigned bits, uint64_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	if (v == NULL)
		return 0;
	if (!json_is_integer(v))
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected an integer", key);
	i = json_integer_value(v);
	if (i < 0 || (bits < 63 && (uint64_t)i >> bits != 0))
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected 0..%llu", key,
				    (unsigned long long)((1ull << bits) - 1));
	*out = (uint64_t)i;
	return 0;
}

static int get_bool(json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_letters(json_t *o, const char *key, char out[3])
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (v == NULL)
		return 0;
	s = json_string_value(v);
	if (s == NULL || strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected two upper-case letters", key);
	memcpy(out, s, 3);
	return 0;
}

static int get_time(json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || pv_tcf_time_parse(out, json_string_value(v)) != 0 || (*out >> 36) != 0)
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected YYYY-MM-DDThh:mm:ss[.sss]Z (1970 to 2187)", key);
	return 0;
}

/* An array of ids 1..width into a mask. */
static int get_mask(json_t *o, const char *key, unsigned width, uint64_t *out)
{
	json_t *a = json_object_get(o, key), *v;
	size_t i;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected an array of ids", key);
	*out = 0;
	json_array_foreach(a, i, v) {
		json_int_t id = json_integer_value(v);

		if (!json_is_integer(v) || id < 1 || id > (json_int_t)width)
			return pv_error_set(PV_EINVAL, "tcf: json: %s[%zu]: expected an id 1..%u", key, i, width);
		*out |= 1ull << (id - 1);
	}
	return 0;
}

/* An array of vendor ids into a vector. */
static int get_vector(json_t *a, const char *key, pv_tcf_vector *out)
{
	json_t *v;
	size_t i;
	int rc;

	if (!json_is_array(a))
		return pv_error_set(PV_EINVAL, "tcf: json: %s: expected an array of vendor ids", key);
	json_array_foreach(a, i, v) {
		json_int_t id = json_integer_value(v);

		if (!json_is_integer(v) || id < 1 || id > PV_TCF_MAX_VENDOR)
			return pv_error_set(PV_EINVAL, "tcf: json: %s[%zu]: expected a vendor id 1..%u", key, i,
					    PV_TCF_MAX_VENDOR);
		if ((rc = pv_tcf_vector_set(out, (unsigned)id)) != 0)
			return rc;
	}
	return 0;
}

static int check_keys(json_t *o, const char *const *known, const char *where)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		size_t i;

		for (i = 0; known[i] != NULL && strcmp(known[i], key) != 0; i++)
			;
		if (known[i] == NULL)
			return pv_error_set(PV_EINVAL, "tcf: json: %s: unknown key (see docs/consent.md)", where);
	}
	return 0;
}

static int from_publisher(pv_tcf *tc, json_t *p)
{
	static const char *const known[] = { "publisherConsents", "publisherLegitimateInterests", "numCustomPurposes",
		"publisherCustomConsents", "publisherCustomLegitimateInterests", NULL };
	uint64_t u = 0, m = 0;
	int rc;

	if (!json_is_object(p))
		return pv_error_set(PV_EINVAL, "tcf: json: publisherTC: expected an object");
	if ((rc = check_keys(p, known, "publisherTC")) != 0)
		return rc;
	tc->has_publisher_tc = true;
	if ((rc = get_mask(p, "publisherConsents", 24, &m)) != 0)
		return rc;
	tc->publisher_consents = (uint32_t)m;
	m = 0;
	if ((rc = get_mask(p, "publisherLegitimateInterests", 24, &m)) != 0)
		return rc;
	tc->publisher_legitimate_interests = (uint32_t)m;
	if ((rc = get_uint(p, "numCustomPurposes", 6, &u)) != 0)
		return rc;
	tc->num_custom_purposes = (unsigned)u;
	if ((rc = get_mask(p, "publisherCustomConsents", tc->num_custom_purposes, &tc->publisher_custom_consents)) != 0)
		return rc;
	return get_mask(p, "publisherCustomLegitimateInterests", tc->num_custom_purposes,
			&tc->publisher_custom_legitimate_interests);
}

static int from_json(pv_tcf *tc, json_t *o)
{
	static const char *const known[] = { "version", "created", "lastUpdated", "cmpId", "cmpVersion", "consentScreen",
		"consentLanguage", "vendorListVersion", "policyVersion", "isServiceSpecific", "useNonStandardTexts",
		"specialFeatureOptins", "purposeConsents", "purposeLegitimateInterests", "purposeOneTreatment",
		"publisherCountryCode", "vendorConsents", "vendorLegitimateInterests", "publisherRestrictions",
		"vendorsDisclosed", "vendorsAllowed", "publisherTC", NULL };
	uint64_t u;
	json_t *a, *r;
	size_t i;
	int rc;

	if (!json_is_object(o))
		return pv_error_set(PV_EINVAL, "tcf: json: expected an object");
	if ((rc = check_keys(o, known, "top level")) != 0)
		return rc;
	u = 2;
	if ((rc = get_uint(o, "version", 6, &u)) != 0)
		return rc;
	if (u != 2)
		return pv_error_set(PV_EINVAL, "tcf: json: version: expected 2");
#define UINT(key, bits, dst) do { u = dst; if ((rc = get_uint(o, key, bits, &u)) != 0) return rc; dst = (unsigned)u; } while (0)
	UINT("cmpId", 12, tc->cmp_id);
	UINT("cmpVersion", 12, tc->cmp_version);
	UINT("consentScreen", 6, tc->consent_screen);
	UINT("vendorListVersion", 12, tc->vendor_list_version);
	UINT("policyVersion", 6, tc->policy_version);
#undef UINT
	if ((rc = get_time(o, "created", &tc->created)) != 0 || (rc = get_time(o, "lastUpdated", &tc->last_updated)) != 0
	    || (rc = get_letters(o, "consentLanguage", tc->consent_language)) != 0
	    || (rc = get_letters(o, "publisherCountryCode", tc->publisher_country_code)) != 0
	    || (rc = get_bool(o, "isServiceSpecific", &tc->is_service_specific)) != 0
	    || (rc = get_bool(o, "useNonStandardTexts", &tc->use_non_standard_texts)) != 0
	    || (rc = get_bool(o, "purposeOneTreatment", &tc->purpose_one_treatment)) != 0)
		return rc;
	u = 0;
	if ((rc = get_mask(o, "specialFeatureOptins", 12, &u)) != 0)
		return rc;
	tc->special_feature_optins = (uint32_t)u;
	u = 0;
	if ((rc = get_mask(o, "purposeConsents", 24, &u)) != 0)
		return rc;
	tc->purpose_consents = (uint32_t)u;
	u = 0;
	if ((rc = get_mask(o, "purposeLegitimateInterests", 24, &u)) != 0)
		return rc;
	tc->purpose_legitimate_interests = (uint32_t)u;
	if ((a = json_object_get(o, "vendorConsents")) != NULL
	    && (rc = get_vector(a, "vendorConsents", &tc->vendor_consents)) != 0)
		return rc;
	if ((a = json_object_get(o, "vendorLegitimateInterests")) != NULL
	    && (rc = get_vector(a, "vendorLegitimateInterests", &tc->vendor_legitimate_interests)) != 0)
		return rc;
	if ((a = json_object_get(o, "vendorsDisclosed")) != NULL) {
		tc->has_vendors_disclosed = true;
		if ((rc = get_vector(a, "vendorsDisclosed", &tc->vendors_disclosed)) != 0)
			return rc;
	}
	if ((a = json_object_get(o, "vendorsAllowed")) != NULL) {
		tc->has_vendors_allowed = true;
		if ((rc = get_vector(a, "vendorsAllowed", &tc->vendors_allowed)) != 0)
			return rc;
	}
	if ((a = json_object_get(o, "publisherTC")) != NULL && (rc = from_publisher(tc, a)) != 0)
		return rc;
	a = json_object_get(o, "publisherRestrictions");
	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return pv_error_set(PV_EINVAL, "tcf: json: publisherRestrictions: expected an array");
	json_array_foreach(a, i, r) {
		json_t *p = json_object_get(r, "purposeId"), *t = json_object_get(r, "restrictionType");
		json_t *vs = json_object_get(r, "vendors"), *v;
		size_t j;

		if (!json_is_integer(p) || !json_is_integer(t) || !json_is_array(vs)
		    || json_integer_value(p) < 1 || json_integer_value(p) > 63
		    || json_integer_value(t) < 0 || json_integer_value(t) > 2)
			return pv_error_set(PV_EINVAL, "tcf: json: publisherRestrictions[%zu]: expected "
					    "{purposeId: 1..63, restrictionType: 0..2, vendors: [ids]}", i);
		json_array_foreach(vs, j, v) {
			json_int_t id = json_integer_value(v);

			if (!json_is_integer(v) || id < 1 || id > PV_TCF_MAX_VENDOR)
				return pv_error_set(PV_EINVAL, "tcf: json: publisherRestrictions[%zu].vendors[%zu]: "
						    "expected a vendor id", i, j);
			if ((rc = pv_tcf_restriction_add(tc, (unsigned)json_integer_value(p),
							 (pv_tcf_restriction_type)json_integer_value(t), (unsigned)id)) != 0)
				return rc;
		}
	}
	return 0;
}

int pv_tcf_from_json(pv_tcf **out, const char *json, size_t len)
{
	json_error_t err;
	json_t *o;
	pv_tcf *tc = NULL;
	int rc;

	*out = NULL;
	o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &err);
	if (o == NULL)
		return pv_error_set(PV_EINVAL, "tcf: json: not valid JSON (line %d, column %d)", err.line, err.column);
	if ((rc = pv_tcf_new(&tc)) != 0)
		goto done;
	if ((rc = from_json(tc, o)) != 0)
		pv_tcf_free(&tc);
done:
	json_decref(o);
	*out = tc;
	return rc;
}
