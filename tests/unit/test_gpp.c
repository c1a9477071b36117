/*
 * US Privacy and GPP decoders (src/consent/usp.c, gpp*.c). Expected values
 * come from the IAB's reference library (@iabgpp/cmpapi 3.2.0), which wrote
 * every GPP string below; tests/consent/ compares with it on thousands more.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "consent/gpp_internal.h"
#include "privault/error.h"

/* A bit string ("0101...") as compressed base64url, for hand-made segments. */
static void bits_to_b64(char *out, size_t cap, const char *bits)
{
	pv_gpp_writer w;
	memset(&w, 0, sizeof(w));
	for (const char *p = bits; *p; p++)
		if (*p == '0' || *p == '1')
			pv_gpp_write_int(&w, (uint32_t)(*p - '0'), 1);
	assert_int_equal(pv_gpp_writer_text(out, cap, NULL, &w), 0);
}

static int decode(pv_gpp *g, const char *s)
{
	return pv_gpp_decode(g, s, strlen(s));
}

/* The last error message names a field and never holds the input. */
static void assert_error(int rc, int code, const char *needle, const char *input)
{
	assert_int_equal(rc, code);
	const char *m = pv_error_last();
	if (!strstr(m, needle))
		fail_msg("message '%s' does not name '%s'", m, needle);
	if (input && strlen(input) >= 4 && strstr(m, input))
		fail_msg("message '%s' echoes the input", m);
}

static void test_usp_decode(void **state)
{
	pv_usp u;
	(void)state;
	assert_int_equal(pv_usp_decode(&u, "1YNN", 4), 0);
	assert_int_equal(u.version, 1);
	assert_int_equal(u.notice, PV_USP_YES);
	assert_int_equal(u.opt_out_sale, PV_USP_NO);
	assert_int_equal(u.lspa_covered, PV_USP_NO);
	assert_int_equal(pv_usp_opted_out(&u), 0);

	assert_int_equal(pv_usp_decode(&u, "1YYY", 4), 0);
	assert_int_equal(pv_usp_opted_out(&u), 1);

	assert_int_equal(pv_usp_decode(&u, "1---", 4), 0);
	assert_int_equal(u.notice, PV_USP_NA);
	assert_int_equal(u.opt_out_sale, PV_USP_NA);
	assert_int_equal(u.lspa_covered, PV_USP_NA);

	assert_error(pv_usp_decode(&u, "1YN", 3), PV_EINVAL, "4 characters", NULL);
	assert_error(pv_usp_decode(&u, "1YNNN", 5), PV_EINVAL, "4 characters", NULL);
	assert_error(pv_usp_decode(&u, "2YNN", 4), PV_EINVAL, "usp.version", "2YNN");
	assert_error(pv_usp_decode(&u, "1yNN", 4), PV_EINVAL, "usp.notice: position 1", "1yNN");
	assert_error(pv_usp_decode(&u, "1YXN", 4), PV_EINVAL, "usp.opt_out_sale: position 2", "1YXN");
	assert_error(pv_usp_decode(&u, "1YN\0", 4), PV_EINVAL, "usp.lspa_covered", NULL);
	assert_error(pv_usp_decode(&u, NULL, 4), PV_EINVAL, "usp", NULL);
}

static void test_usp_encode(void **state)
{
	pv_usp u = { 1, PV_USP_NA, PV_USP_YES, PV_USP_NO };
	char s[5];
	(void)state;
	assert_int_equal(pv_usp_encode(s, &u), 0);
	assert_string_equal(s, "1-YN");
	u.notice = (pv_usp_flag)'y';
	assert_error(pv_usp_encode(s, &u), PV_EINVAL, "usp.notice", NULL);
	u.notice = PV_USP_YES;
	u.version = 2;
	assert_error(pv_usp_encode(s, &u), PV_EINVAL, "usp.version", NULL);
}

static void test_gpp_uspv1_only(void **state)
{
	pv_gpp g;
	(void)state;
	assert_int_equal(decode(&g, "DBABTA~1YNN"), 0);
	assert_int_equal(g.type, 3);
	assert_int_equal(g.version, 1);
	assert_int_equal(g.n_sections, 1);
	assert_int_equal(g.sections[0].id, 6);
	assert_string_equal(g.sections[0].name, "uspv1");
	assert_true(g.sections[0].decoded);
	assert_int_equal(g.sections[0].offset, 7);
	assert_int_equal(g.sections[0].length, 4);
	assert_true(g.has_uspv1);
	assert_false(g.has_usnat);
	assert_int_equal(g.uspv1.notice, PV_USP_YES);
	assert_int_equal(g.uspv1.opt_out_sale, PV_USP_NO);
	pv_gpp_clear(&g);

	assert_int_equal(decode(&g, "DBAA"), 0);  /* header only, no section */
	assert_int_equal(g.n_sections, 0);
	pv_gpp_clear(&g);
}

static void test_gpp_usnat_v2_gpc(void **state)
{
	static const uint8_t sdp[16] = { 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 2 };
	static const uint8_t kc[3] = { 1, 2, 0 };
	pv_gpp g;
	(void)state;
	assert_int_equal(decode(&g, "DBABLA~CUAQGGGGGmCA.YA"), 0);
	assert_int_equal(g.n_sections, 1);
	assert_int_equal(g.sections[0].id, 7);
	assert_true(g.has_usnat);
	const pv_gpp_usnat *u = &g.usnat;
	assert_int_equal(u->version, 2);
	assert_int_equal(u->sharing_notice, 1);
	assert_int_equal(u->sale_opt_out_notice, 1);
	assert_int_equal(u->sharing_opt_out_notice, 0);
	assert_int_equal(u->targeted_advertising_opt_out_notice, 0);
	assert_int_equal(u->sale_opt_out, 1);
	assert_int_equal(u->sharing_opt_out, 0);
	assert_memory_equal(u->sensitive_data_processing, sdp, 16);
	assert_memory_equal(u->known_child_sensitive_data_consents, kc, 3);
	assert_int_equal(u->personal_data_consents, 0);
	assert_int_equal(u->mspa_covered_transaction, 2);
	assert_int_equal(u->mspa_opt_out_option_mode, 0);
	assert_true(u->gpc_segment_included);
	assert_true(u->gpc);

	/* and back: the reference library's exact section */
	char out[64];
	assert_int_equal(pv_gpp_usnat_encode(out, sizeof(out), u), 0);
	assert_string_equal(out, "CUAQGGGGGmCA.YA");
	pv_gpp_clear(&g);
}

static void test_gpp_usnat_v1(void **state)
{
	static const uint8_t sdp[12] = { 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1 };
	pv_gpp g;
	char out[64];
	(void)state;
	assert_int_equal(decode(&g, "DBABLA~BAAgmZmZkQA"), 0);
	assert_int_equal(g.usnat.version, 1);
	assert_int_equal(g.usnat.sale_opt_out, 2);
	assert_int_equal(pv_gpp_usnat_sensitive_count(1), 12);
	assert_int_equal(pv_gpp_usnat_child_count(1), 2);
	assert_memory_equal(g.usnat.sensitive_data_processing, sdp, 12);
	assert_int_equal(g.usnat.known_child_sensitive_data_consents[0], 2);
	assert_int_equal(g.usnat.known_child_sensitive_data_consents[1], 1);
	assert_int_equal(g.usnat.mspa_covered_transaction, 1);
	assert_false(g.usnat.gpc_segment_included);
	assert_int_equal(pv_gpp_usnat_encode(out, sizeof(out), &g.usnat), 0);
	assert_string_equal(out, "BAAgmZmZkQA");
	pv_gpp_clear(&g);
}

static void test_gpp_range_header_and_sid(void **state)
{
	pv_gpp g;
	(void)state;
	/* ids 6 and 7 written as one range */
	assert_int_equal(decode(&g, "DBABzw~1YY-~CUAQGGGGGmCA.YA"), 0);
	assert_int_equal(g.n_sections, 2);
	assert_int_equal(g.sections[0].id, 6);
	assert_int_equal(g.sections[1].id, 7);
	assert_int_equal(g.uspv1.opt_out_sale, PV_USP_YES);
	assert_int_equal(g.uspv1.lspa_covered, PV_USP_NA);
	assert_true(g.usnat.gpc);
	assert_true(g.sections[0].applicable && g.sections[1].applicable);

	assert_int_equal(pv_gpp_apply_sid(&g, "7", 1), 0);
	assert_false(g.sections[0].applicable);
	assert_true(g.sections[1].applicable);
	assert_int_equal(pv_gpp_apply_sid(&g, "2,6,7", 5), 0);
	assert_true(g.sections[0].applicable && g.sections[1].applicable);
	assert_int_equal(pv_gpp_apply_sid(&g, "-1", 2), 0);
	assert_false(g.sections[0].applicable || g.sections[1].applicable);
	assert_error(pv_gpp_apply_sid(&g, "2,,6", 4), PV_EINVAL, "position 2", NULL);
	assert_error(pv_gpp_apply_sid(&g, "6,", 2), PV_EINVAL, "gpp_sid", NULL);
	assert_error(pv_gpp_apply_sid(&g, "x", 1), PV_EINVAL, "position 0", NULL);
	assert_error(pv_gpp_apply_sid(&g, "99999", 5), PV_EINVAL, "gpp_sid", NULL);
	assert_false(g.sections[0].applicable);  /* unchanged by the failures */

	const pv_gpp_section *s = pv_gpp_section_find(&g, 7);
	assert_non_null(s);
	assert_string_equal(s->name, "usnat");
	assert_null(pv_gpp_section_find(&g, 2));
	assert_string_equal(pv_gpp_section_name(27), "usri");
	assert_string_equal(pv_gpp_section_name(28), "unknown");
	pv_gpp_clear(&g);
}

static void test_gpp_header_encode(void **state)
{
	static const unsigned ids1[] = { 2, 5, 6, 7, 8, 9, 10, 20, 27 };
	static const unsigned ids2[] = { 6, 7, 8, 9, 10, 20, 27 };
	static const unsigned ids3[] = { 1000, 1001, 1002, 4000 };
	static const unsigned bad[] = { 6, 6 };
	char out[64];
	pv_gpp g;
	(void)state;
	assert_int_equal(pv_gpp_header_encode(out, sizeof(out), ids1, 9), 0);
	assert_string_equal(out, "DBAEOYyZYA");
	assert_int_equal(pv_gpp_header_encode(out, sizeof(out), ids2, 7), 0);
	assert_string_equal(out, "DBADzsmW");
	assert_int_equal(pv_gpp_header_encode(out, sizeof(out), ids3, 4), 0);
	assert_string_equal(out, "DBACggGxCEY");
	assert_int_equal(pv_gpp_header_encode(out, sizeof(out), NULL, 0), 0);
	assert_string_equal(out, "DBAA");
	assert_error(pv_gpp_header_encode(out, sizeof(out), bad, 2), PV_EINVAL, "section_ids", NULL);
	assert_error(pv_gpp_header_encode(out, 4, ids1, 9), PV_ELIMIT, "too small", NULL);

	/* unregistered and undecoded sections are listed, not decoded */
	const char *secs[] = { "1YNN", "BAAgmZmZkQA", "a", "b", "c", "d", "e" };
	char full[256];
	assert_int_equal(pv_gpp_encode(full, sizeof(full), ids2, secs, 7), 0);
	assert_string_equal(full, "DBADzsmW~1YNN~BAAgmZmZkQA~a~b~c~d~e");
	assert_int_equal(decode(&g, full), 0);
	assert_int_equal(g.n_sections, 7);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(g.sections[i].id, ids2[i]);
	assert_true(g.sections[1].decoded);
	assert_false(g.sections[2].decoded);
	assert_string_equal(g.sections[6].name, "usri");
	pv_gpp_clear(&g);
}

static void test_gpp_tcfeuv2(void **state)
{
	pv_gpp g;
	(void)state;
	/* the GPP specification's example: tcfeuv2 and uspv1 */
	assert_int_equal(decode(&g, "DBACNYA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA~1YNN"), 0);
	assert_int_equal(g.n_sections, 2);
	assert_int_equal(g.sections[0].id, 2);
	assert_true(g.sections[0].decoded);
	assert_true(g.has_tcfeuv2);
	assert_non_null(g.tcfeuv2);
	assert_int_equal(g.tcfeuv2->cmp_id, 31);
	assert_int_equal(g.tcfeuv2->cmp_version, 640);
	assert_int_equal(g.tcfeuv2->vendor_list_version, 126);
	assert_true(g.has_uspv1);
	pv_gpp_clear(&g);
	assert_null(g.tcfeuv2);

	/* a broken TC string is reported as the tcfeuv2 section's error */
	assert_error(decode(&g, "DBABMA~CPX"), PV_EINVAL, "tcfeuv2", "CPX");
	pv_gpp_clear(&g);
}

static void test_gpp_errors(void **state)
{
	pv_gpp g;
	char s[520], hdr[sizeof(s) + 8], two[sizeof(hdr) + 4];
	(void)state;
	assert_error(decode(&g, ""), PV_EINVAL, "empty", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "CBAA"), PV_EINVAL, "header.type", "CBAA");
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DCAA"), PV_EINVAL, "header.version", "DCAA");
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DB*A~1YNN"), PV_EINVAL, "character 2", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DBABTA"), PV_EINVAL, "lists 1 sections, the string has 0", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DBABTA~1YNN~1YNN"), PV_EINVAL, "the string has 2", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DBABTA~"), PV_EINVAL, "is empty", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DBABTA~1YXN"), PV_EINVAL, "uspv1: usp.opt_out_sale", "1YXN");
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DB.AA"), PV_EINVAL, "header", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DB"), PV_EINVAL, "header.section_ids: needs 12 bits at bit 12", NULL);
	pv_gpp_clear(&g);

	/* usnat cut short: names the field and its bit */
	assert_error(decode(&g, "DBABLA~CUAQGG"), PV_EINVAL, "usnat.sensitive_data_processing[", "CUAQGG");
	pv_gpp_clear(&g);
	/* usnat version 3 */
	bits_to_b64(s, sizeof(s), "000011");
	snprintf(hdr, sizeof(hdr), "DBABLA~%s", s);
	assert_error(decode(&g, hdr), PV_EINVAL, "usnat.version: 3 at bit 0", NULL);
	pv_gpp_clear(&g);
	/* usnat value 3 in sale_opt_out (bits 18..19) */
	bits_to_b64(s, sizeof(s), "000010 000000000000 11 00 00 "
			 "00000000000000000000000000000000 000000 00 01 00 00");
	snprintf(hdr, sizeof(hdr), "DBABLA~%s", s);
	assert_error(decode(&g, hdr), PV_EINVAL, "usnat.sale_opt_out: value 3 at bit 18", NULL);
	pv_gpp_clear(&g);
	/* MSPA covered transaction 0 */
	bits_to_b64(s, sizeof(s), "000010 000000000000 00 00 00 "
			 "00000000000000000000000000000000 000000 00 00 00 00");
	snprintf(hdr, sizeof(hdr), "DBABLA~%s", s);
	assert_error(decode(&g, hdr), PV_EINVAL, "usnat.mspa_covered_transaction: value 0 at bit 64", NULL);
	pv_gpp_clear(&g);
	/* GPC sub-section of the wrong type, and a third segment */
	assert_error(decode(&g, "DBABLA~CUAQGGGGGmCA.oA"), PV_EINVAL, "usnat.gpc_segment_type", NULL);
	pv_gpp_clear(&g);
	assert_error(decode(&g, "DBABLA~CUAQGGGGGmCA.YA.YA"), PV_EINVAL, "more than two segments", NULL);
	pv_gpp_clear(&g);

	/* header: a Fibonacci code never ended by 11 */
	bits_to_b64(hdr, sizeof(hdr), "000011 000001 000000000001 0 0101010101");
	assert_error(decode(&g, hdr), PV_EINVAL, "section_ids.offset: Fibonacci code at bit 25", NULL);
	pv_gpp_clear(&g);
	/* header: a range reaching 100 sections */
	bits_to_b64(hdr, sizeof(hdr), "000011 000001 000000000001 1 11 " "00000100011");  /* ids 1..103 */
	assert_error(decode(&g, hdr), PV_ELIMIT, "more than 64 sections", NULL);
	pv_gpp_clear(&g);
	/* header: id over the limit */
	static const unsigned big[] = { 4095 };
	assert_int_equal(pv_gpp_header_encode(hdr, sizeof(hdr), big, 1), 0);
	snprintf(two, sizeof(two), "%s~x", hdr);
	assert_int_equal(decode(&g, two), 0);
	assert_string_equal(g.sections[0].name, "unknown");
	pv_gpp_clear(&g);
	bits_to_b64(hdr, sizeof(hdr), "000011 000001 000000000001 0 00000000000000000011");  /* id 6765 */
	snprintf(two, sizeof(two), "%s~x", hdr);
	assert_error(decode(&g, two), PV_ELIMIT, "over 4095", NULL);
	pv_gpp_clear(&g);

	/* too long */
	char *big_s = malloc(PV_GPP_MAX_BYTES + 2);
	assert_non_null(big_s);
	memset(big_s, 'A', PV_GPP_MAX_BYTES + 1);
	big_s[PV_GPP_MAX_BYTES + 1] = '\0';
	assert_error(decode(&g, big_s), PV_ELIMIT, "longer than", NULL);
	pv_gpp_clear(&g);
	free(big_s);
	pv_gpp_clear(NULL);
}

static void test_fibonacci(void **state)
{
	(void)state;
	/* every value written reads back, with the codes of the GPP specification */
	static const struct {
		uint32_t v;
		const char *code;
	} known[] = { { 1, "11" }, { 2, "011" }, { 3, "0011" }, { 4, "1011" }, { 5, "00011" },
		      { 6, "10011" }, { 7, "01011" }, { 12, "101011" } };
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		pv_gpp_writer w;
		memset(&w, 0, sizeof(w));
		pv_gpp_write_fib(&w, known[i].v);
		char got[64];
		for (size_t k = 0; k < w.n; k++)
			got[k] = (char)('0' + w.bit[k]);
		got[w.n] = '\0';
		assert_string_equal(got, known[i].code);
	}
	for (uint32_t v = 1; v < 200000; v = v * 3 + 1) {
		pv_gpp_writer w;
		char text[64];
		pv_gpp_reader r;
		uint32_t back;
		memset(&w, 0, sizeof(w));
		pv_gpp_write_fib(&w, v);
		assert_int_equal(pv_gpp_writer_text(text, sizeof(text), NULL, &w), 0);
		assert_int_equal(pv_gpp_reader_init(&r, text, strlen(text), "t", "core"), 0);
		assert_int_equal(pv_gpp_read_fib(&r, "f", &back), 0);
		assert_int_equal(back, v);
		pv_gpp_reader_free(&r);
	}
}

static void test_json(void **state)
{
	pv_gpp g;
	char *js = NULL;
	json_error_t err;
	(void)state;
	assert_int_equal(decode(&g, "DBABzw~1YY-~CUAQGGGGGmCA.YA"), 0);
	assert_int_equal(pv_gpp_to_json(&js, &g), 0);
	json_t *o = json_loads(js, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "type")), 3);
	assert_int_equal(json_array_size(json_object_get(o, "section_ids")), 2);
	json_t *usp = json_object_get(o, "uspv1");
	assert_string_equal(json_string_value(json_object_get(usp, "opt_out_sale")), "Y");
	assert_true(json_is_true(json_object_get(usp, "opted_out")));
	json_t *un = json_object_get(o, "usnat");
	assert_int_equal(json_integer_value(json_object_get(un, "mspa_covered_transaction")), 2);
	assert_int_equal(json_array_size(json_object_get(un, "sensitive_data_processing")), 16);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(un, "sensitive_data_processing"), 2)), 2);
	assert_true(json_is_true(json_object_get(un, "gpc")));
	assert_null(json_object_get(o, "tcfeuv2"));
	json_decref(o);
	free(js);
	pv_gpp_clear(&g);

	pv_usp u;
	assert_int_equal(pv_usp_decode(&u, "1NN-", 4), 0);
	assert_int_equal(pv_usp_to_json(&js, &u), 0);
	o = json_loads(js, 0, &err);
	assert_string_equal(json_string_value(json_object_get(o, "lspa_covered")), "-");
	assert_true(json_is_false(json_object_get(o, "opted_out")));
	json_decref(o);
	free(js);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usp_decode),
		cmocka_unit_test(test_usp_encode),
		cmocka_unit_test(test_gpp_uspv1_only),
		cmocka_unit_test(test_gpp_usnat_v2_gpc),
		cmocka_unit_test(test_gpp_usnat_v1),
		cmocka_unit_test(test_gpp_range_header_and_sid),
		cmocka_unit_test(test_gpp_header_encode),
		cmocka_unit_test(test_gpp_tcfeuv2),
		cmocka_unit_test(test_gpp_errors),
		cmocka_unit_test(test_fibonacci),
		cmocka_unit_test(test_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
