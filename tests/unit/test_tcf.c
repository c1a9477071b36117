/*
 * Unit tests of the TCF TC string codec (src/consent/tcf*.c): published
 * strings decoded field by field, errors naming field and offset without
 * echoing the string, the vendor vector encodings, round trips, the JSON
 * form and the consent events. The field-by-field comparison with the
 * reference library is tests/consent/tcf_oracle.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "consent/tcf_internal.h"
#include "core/limits.h"
#include "privault/consent_signals.h"
#include "privault/error.h"

/* iabtcf-es TCString.test.ts: core + disclosed vendors + allowed vendors. */
static const char *str_a = "COrEAV4OrXx94ACABBENAHCIAD-AAAAAAACAAxAAAAgAIAwgAgAAAAEAgQAAAAAEAYQAQAAAACAAAABAAA"
			   ".IBAgAAAgAIAwgAgAAAAEAAAACA.QAagAQAgAIAwgA";
/* IAB CMP API example: core only. */
static const char *str_b = "COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA";

/* Bit k (0 = first) of a base64url segment. */
static int bit_at(const char *s, size_t k)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int v = (int)(strchr(b64, s[k / 6]) - b64);

	return (v >> (5 - (int)(k % 6))) & 1;
}

static pv_tcf *decode_ok(const char *s)
{
	pv_tcf *tc = NULL;

	assert_int_equal(pv_tcf_decode(&tc, s, strlen(s)), 0);
	assert_non_null(tc);
	return tc;
}

static void test_decode_published(void **state)
{
	pv_tcf *tc = decode_ok(str_a);
	char *json = NULL;

	(void)state;
	assert_int_equal(tc->version, 2);
	assert_int_equal(tc->cmp_id, 2);
	assert_int_equal(tc->cmp_version, 1);
	assert_int_equal(tc->consent_screen, 1);
	assert_int_equal(tc->policy_version, 2);
	assert_int_equal(tc->vendor_list_version, 7);
	assert_string_equal(tc->consent_language, "EN");
	assert_string_equal(tc->publisher_country_code, "AQ");
	assert_int_equal(tc->special_feature_optins, 0x1);
	/* purposes 3..9 */
	assert_int_equal(tc->purpose_consents, 0x1fcu);
	assert_true(tc->has_vendors_disclosed);
	assert_true(tc->has_vendors_allowed);
	assert_false(tc->has_publisher_tc);
	assert_int_equal(pv_tcf_to_json(&json, tc), 0);
	assert_non_null(strstr(json, "\"created\":\"2019-12-04T18:53:00.000Z\""));
	assert_non_null(strstr(json, "\"purposeConsents\":[3,4,5,6,7,8,9]"));
	free(json);
	pv_tcf_free(&tc);
	assert_null(tc);

	tc = decode_ok(str_b);
	assert_int_equal(tc->cmp_id, 675);
	assert_false(tc->has_vendors_disclosed);
	pv_tcf_free(&tc);
}

/* iabtcf-es issue 201: a purpose restriction listing a vendor several times. */
static void test_restrictions_merged(void **state)
{
	static const char *s = "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLBAQdtHGncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2GccLxln3huTPy_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__ICgKAOAAcAA4AFAAjgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQBwADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcAA4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAoAEcAPQAjABblQAQC2gFtA";
	static const unsigned want[] = { 7, 20, 71, 122, 140, 183 };
	pv_tcf *tc = decode_ok(s);
	const pv_tcf_restriction *r = NULL;

	(void)state;
	for (size_t i = 0; i < tc->n_restrictions; i++)
		if (tc->restrictions[i].purpose == 1 && tc->restrictions[i].type == PV_TCF_RESTRICT_REQUIRE_CONSENT)
			r = &tc->restrictions[i];
	assert_non_null(r);
	assert_int_equal(r->vendors.count, 6);
	for (size_t i = 0; i < 6; i++)
		assert_true(pv_tcf_vector_has(&r->vendors, want[i]));
	for (size_t i = 0; i < tc->n_restrictions; i++)
		for (size_t j = i + 1; j < tc->n_restrictions; j++)
			assert_false(tc->restrictions[i].purpose == tc->restrictions[j].purpose
				     && tc->restrictions[i].type == tc->restrictions[j].type);
	pv_tcf_free(&tc);
}

static void expect_error(const char *s, int code, const char *needle)
{
	pv_tcf *tc = (pv_tcf *)1;

	assert_int_equal(pv_tcf_decode(&tc, s, strlen(s)), code);
	assert_null(tc);
	assert_non_null(strstr(pv_error_last(), needle));
	if (strlen(s) > 8)
		assert_null(strstr(pv_error_last(), s + 4));
}

static void test_decode_errors(void **state)
{
	char *big;

	(void)state;
	expect_error("COtybn4PA_zT4KjACBEN*PCIAEBAAECAAIAAAAAAAAAA", PV_EINVAL, "character 20 (bit 120) is not base64url");
	expect_error("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAA==", PV_EINVAL, "not base64url");
	expect_error("COtybn4PA_zT4KjA", PV_EINVAL, "cmpVersion at bit 90 needs 12 bits");
	expect_error("DOtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA", PV_EINVAL, "version at bit 0: expected 2");
	expect_error("BOtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA", PV_EINVAL, "got 1");
	expect_error("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA.", PV_EINVAL, "segment 1: empty");
	/* 'o' = 101000: segment type 5 */
	expect_error("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA.oAAA", PV_EINVAL, "segmentType at bit 0: expected 1, 2 or 3");
	expect_error("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA.IAAA.IAAA", PV_EINVAL, "a second disclosed vendors segment");
	expect_error("COtybn4PA_zT4KjACBENAPCIAEBAAECAAIAAAAAAAAAA.IBAgAAAg", PV_EINVAL, "vendorsDisclosed at bit 20 needs");
	expect_error("", PV_EINVAL, "empty");
	big = malloc(PV_TCF_MAX_STRING + 2);
	assert_non_null(big);
	memset(big, 'A', PV_TCF_MAX_STRING + 1);
	big[PV_TCF_MAX_STRING + 1] = '\0';
	expect_error(big, PV_ELIMIT, "limit");
	free(big);
}

/* Round trip of a model with every segment; the string decodes to the same fields. */
static void test_roundtrip_all_segments(void **state)
{
	pv_tcf *tc = NULL, *back = NULL;
	char *s = NULL, *j1 = NULL, *j2 = NULL, *s2 = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(pv_tcf_new(&tc), 0);
	tc->created = 15800000000ull;
	tc->last_updated = 15800000123ull;
	tc->cmp_id = 300;
	tc->cmp_version = 4095;
	tc->consent_screen = 63;
	memcpy(tc->consent_language, "FR", 3);
	tc->vendor_list_version = 150;
	tc->policy_version = 5;
	tc->is_service_specific = true;
	tc->special_feature_optins = 0x3;
	tc->purpose_consents = 0x7ff;
	tc->purpose_legitimate_interests = 0x2 | 0x40;
	memcpy(tc->publisher_country_code, "DE", 3);
	for (unsigned v = 1; v <= 700; v += 7)
		assert_int_equal(pv_tcf_vector_set(&tc->vendor_consents, v), 0);
	assert_int_equal(pv_tcf_vector_set(&tc->vendor_legitimate_interests, 65535), 0);
	assert_int_equal(pv_tcf_restriction_add(tc, 2, PV_TCF_RESTRICT_NOT_ALLOWED, 8), 0);
	assert_int_equal(pv_tcf_restriction_add(tc, 2, PV_TCF_RESTRICT_NOT_ALLOWED, 9), 0);
	assert_int_equal(pv_tcf_restriction_add(tc, 7, PV_TCF_RESTRICT_REQUIRE_LI, 30), 0);
	assert_int_equal(pv_tcf_restriction_add(tc, 0, PV_TCF_RESTRICT_REQUIRE_LI, 30), PV_EINVAL);
	tc->has_vendors_disclosed = true;
	for (unsigned v = 1; v <= 1000; v++)
		assert_int_equal(pv_tcf_vector_set(&tc->vendors_disclosed, v), 0);
	tc->has_vendors_allowed = true;
	assert_int_equal(pv_tcf_vector_set(&tc->vendors_allowed, 3), 0);
	tc->has_publisher_tc = true;
	tc->publisher_consents = 0x5;
	tc->publisher_legitimate_interests = 0x2;
	tc->num_custom_purposes = 63;
	tc->publisher_custom_consents = 0x4000000000000001ull;
	tc->publisher_custom_legitimate_interests = 0x2;

	assert_int_equal(pv_tcf_encode(&s, &len, tc), 0);
	assert_int_equal(strlen(s), len);
	assert_non_null(strchr(s, '.'));
	assert_int_equal(pv_tcf_decode(&back, s, len), 0);
	assert_int_equal(pv_tcf_to_json(&j1, tc), 0);
	assert_int_equal(pv_tcf_to_json(&j2, back), 0);
	assert_string_equal(j1, j2);
	assert_true(pv_tcf_vector_has(&back->vendor_legitimate_interests, 65535));
	assert_int_equal(back->vendor_legitimate_interests.count, 1);
	assert_int_equal(back->vendors_disclosed.count, 1000);
	assert_int_equal(back->publisher_custom_consents, 0x4000000000000001ull);
	assert_int_equal(back->n_restrictions, 2);
	/* encode(decode(s)) == s */
	assert_int_equal(pv_tcf_encode(&s2, NULL, back), 0);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	free(j1);
	free(j2);
	pv_tcf_free(&back);
	pv_tcf_free(&tc);
}

/* The vector encoding: a run of 1..200 is range-encoded, a dense bitfield is not. */
static void test_vector_encodings(void **state)
{
	pv_tcf *tc = NULL, *back = NULL;
	char *s = NULL;

	(void)state;
	assert_int_equal(pv_tcf_new(&tc), 0);
	tc->cmp_id = 2;
	for (unsigned v = 1; v <= 200; v++)
		assert_int_equal(pv_tcf_vector_set(&tc->vendor_consents, v), 0);
	assert_int_equal(pv_tcf_encode(&s, NULL, tc), 0);
	/* 213 bits of fixed fields, maxId (16), then the encoding type: 1 = range.
	 * 213 + 17 + 12 + 33 (one run) + 17 (empty LI) + 12 (no restrictions) = 304 bits: 52 characters. */
	assert_int_equal(bit_at(s, 229), 1);
	assert_int_equal(strlen(s), 52);
	assert_int_equal(pv_tcf_decode(&back, s, strlen(s)), 0);
	assert_int_equal(back->vendor_consents.count, 200);
	assert_int_equal(back->vendor_consents.max_id, 200);
	free(s);
	pv_tcf_free(&back);

	/* every other vendor: 100 singles cost more than a 200-bit bitfield */
	pv_tcf_vector_clear(&tc->vendor_consents);
	for (unsigned v = 1; v <= 200; v += 2)
		assert_int_equal(pv_tcf_vector_set(&tc->vendor_consents, v), 0);
	assert_int_equal(pv_tcf_encode(&s, NULL, tc), 0);
	assert_int_equal(bit_at(s, 229), 0);
	assert_int_equal(pv_tcf_decode(&back, s, strlen(s)), 0);
	assert_int_equal(back->vendor_consents.count, 100);
	assert_true(pv_tcf_vector_has(&back->vendor_consents, 199));
	assert_false(pv_tcf_vector_has(&back->vendor_consents, 200));
	free(s);
	pv_tcf_free(&back);

	/* 45 ids or fewer: always a bitfield (the reference's rule) */
	pv_tcf_vector_clear(&tc->vendor_consents);
	assert_int_equal(pv_tcf_vector_set(&tc->vendor_consents, 45), 0);
	assert_int_equal(pv_tcf_encode(&s, NULL, tc), 0);
	assert_int_equal(bit_at(s, 229), 0);
	free(s);
	pv_tcf_free(&tc);
}

static void test_events(void **state)
{
	pv_tcf *tc = NULL;
	pv_tcf_event *ev = NULL;
	size_t n = 0, nvc = 0, npli = 0;
	bool seen_v1 = false, seen_v2 = false;

	(void)state;
	assert_int_equal(pv_tcf_new(&tc), 0);
	tc->purpose_consents = 0x1;                  /* purpose 1 */
	tc->purpose_legitimate_interests = 0x2;      /* purpose 2 */
	tc->special_feature_optins = 0x2;            /* feature 2 */
	tc->has_vendors_disclosed = true;
	assert_int_equal(pv_tcf_vector_set(&tc->vendors_disclosed, 1), 0);
	assert_int_equal(pv_tcf_vector_set(&tc->vendors_disclosed, 2), 0);
	assert_int_equal(pv_tcf_vector_set(&tc->vendor_consents, 1), 0);
	assert_int_equal(pv_tcf_events(&ev, &n, tc), 0);
	for (size_t i = 0; i < n; i++) {
		if (ev[i].kind == PV_TCF_EV_PURPOSE_CONSENT)
			assert_int_equal(ev[i].granted, ev[i].id == 1);
		if (ev[i].kind == PV_TCF_EV_PURPOSE_LI) {
			npli++;
			assert_true(ev[i].id == 2 || ev[i].id >= 7);
			assert_int_equal(ev[i].granted, ev[i].id == 2);
		}
		if (ev[i].kind == PV_TCF_EV_SPECIAL_FEATURE)
			assert_int_equal(ev[i].granted, ev[i].id == 2);
		if (ev[i].kind == PV_TCF_EV_VENDOR_CONSENT) {
			nvc++;
			if (ev[i].id == 1) { seen_v1 = true; assert_true(ev[i].granted); }
			if (ev[i].id == 2) { seen_v2 = true; assert_false(ev[i].granted); }
		}
		assert_true(ev[i].kind != PV_TCF_EV_PUBLISHER_CONSENT);
	}
	/* 11 purposes, 6 LI purposes (2, 7..11), 2 disclosed vendors for consent and for LI, 2 features */
	assert_int_equal(n, 11 + 6 + 2 + 2 + 2);
	assert_int_equal(npli, 6);
	assert_int_equal(nvc, 2);
	assert_true(seen_v1 && seen_v2);
	assert_string_equal(pv_tcf_event_kind_name(PV_TCF_EV_VENDOR_LI), "vendor_li");
	free(ev);
	pv_tcf_free(&tc);
}

static void test_json_errors(void **state)
{
	pv_tcf *tc = NULL;
	const char *bad[][2] = {
		{ "{\"cmpId\": 5000}", "cmpId" },
		{ "{\"cmpid\": 5}", "unknown key" },
		{ "{\"consentLanguage\": \"english\"}", "consentLanguage" },
		{ "{\"created\": \"yesterday\"}", "created" },
		{ "{\"purposeConsents\": [25]}", "purposeConsents[0]" },
		{ "{\"vendorConsents\": [0]}", "vendorConsents[0]" },
		{ "{\"publisherRestrictions\": [{\"purposeId\": 1, \"restrictionType\": 3, \"vendors\": [1]}]}",
		  "publisherRestrictions[0]" },
		{ "{\"publisherTC\": {\"numCustomPurposes\": 2, \"publisherCustomConsents\": [3]}}",
		  "publisherCustomConsents[0]" },
		{ "[1", "not valid JSON" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(pv_tcf_from_json(&tc, bad[i][0], strlen(bad[i][0])), PV_EINVAL);
		assert_null(tc);
		assert_non_null(strstr(pv_error_last(), bad[i][1]));
	}
	{
		const char *j = "{\"created\": \"2020-01-26T17:01:00.050Z\"}";

		assert_int_equal(pv_tcf_from_json(&tc, j, strlen(j)), 0);
	}
	/* .050 s rounds up to one decisecond, as Math.round(ms / 100) does */
	assert_int_equal(tc->created, 15800580601ull);
	pv_tcf_free(&tc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_published),
		cmocka_unit_test(test_restrictions_merged),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_roundtrip_all_segments),
		cmocka_unit_test(test_vector_encodings),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_json_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
