/*
 * The record-data JSON validator (src/vault/json_check.c): accepted and
 * refused documents with the exact code, byte offset and expectation, UTF-8
 * edge cases, escapes and surrogates, number ranges, depth and size limits,
 * duplicate keys at every depth (also past the fixed key table), messages
 * without content, and a differential test: many generated and mutated
 * documents must be accepted or refused exactly as jansson
 * (json_loadb with JSON_REJECT_DUPLICATES, a top-level object, the depth
 * limit, no NUL byte) accepts or refuses them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "privault/error.h"
#include "vault/json_check.h"

/* ---- the reference: what the record path accepted before the validator ---- */

static int ref_depth_ok(json_t *j, unsigned depth, unsigned max)
{
	json_t *child;
	const char *key;
	size_t i;

	if (depth > max)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach(j, key, child)
			if ((json_is_object(child) || json_is_array(child)) && !ref_depth_ok(child, depth + 1, max))
				return 0;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, child)
			if ((json_is_object(child) || json_is_array(child)) && !ref_depth_ok(child, depth + 1, max))
				return 0;
	}
	return 1;
}

/* 1 when jansson's reading of the record rules accepts the document. */
static int ref_accepts(const char *s, size_t len, unsigned max_depth)
{
	json_t *j;
	int ok;

	if (len == 0 || len > PV_RECORD_MAX_BYTES || memchr(s, '\0', len))
		return 0;
	j = json_loadb(s, len, JSON_REJECT_DUPLICATES, NULL);
	ok = j && json_is_object(j) && ref_depth_ok(j, 1, max_depth);
	json_decref(j);
	return ok;
}

static int check(const char *s, size_t len, pv_json_problem *pr)
{
	return pv_json_check_object(s, len, PV_RECORD_MAX_BYTES, PV_RECORD_MAX_DEPTH, pr);
}

static int check_str(const char *s, pv_json_problem *pr)
{
	return check(s, strlen(s), pr);
}

/* ---- fixed cases ------------------------------------------------------- */

typedef struct {
	const char *doc;
	int code;              /* 0, PV_EINVAL, PV_ELIMIT */
	size_t offset;         /* of the problem, when code != 0 */
	const char *expected;  /* a piece of the expectation, when code != 0 */
} json_case;

static void run_cases(const json_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		pv_json_problem pr = { 0, 0, NULL };
		int rc = check_str(cases[i].doc, &pr);

		if (rc != cases[i].code)
			fail_msg("case %zu: got %d, expected %d", i, rc, cases[i].code);
		if (cases[i].code == 0)
			continue;
		if (pr.code != cases[i].code || pr.offset != cases[i].offset)
			fail_msg("case %zu: problem code %d at byte %zu, expected %d at byte %zu (%s)", i, pr.code,
				 pr.offset, cases[i].code, cases[i].offset, pr.expected ? pr.expected : "-");
		assert_non_null(pr.expected);
		if (!strstr(pr.expected, cases[i].expected))
			fail_msg("case %zu: expectation \"%s\" does not mention \"%s\"", i, pr.expected, cases[i].expected);
		/* the reference agrees */
		assert_false(ref_accepts(cases[i].doc, strlen(cases[i].doc), PV_RECORD_MAX_DEPTH));
	}
}

static void test_syntax(void **state)
{
	static const json_case cases[] = {
		{ "{}", 0, 0, NULL },
		{ " \t\r\n{ } \n", 0, 0, NULL },
		{ "{\"a\":1}", 0, 0, NULL },
		{ "{\"a\":[1,2.5,-3e-7,true,false,null,\"x\",{},[]],\"b\":{\"c\":{}}}", 0, 0, NULL },
		{ "{\"\":\"\"}", 0, 0, NULL },
		{ "{\"a\" : [ ] , \"b\" : [ 1 , [ ] ] }", 0, 0, NULL },
		{ "", PV_EINVAL, 0, "a JSON object" },
		{ "   ", PV_EINVAL, 3, "a JSON object" },
		{ "[1,2]", PV_EINVAL, 0, "'{'" },
		{ "\"a\"", PV_EINVAL, 0, "'{'" },
		{ "1", PV_EINVAL, 0, "'{'" },
		{ "\xEF\xBB\xBF{}", PV_EINVAL, 0, "'{'" },   /* a BOM is not whitespace */
		{ "{", PV_EINVAL, 1, "'\"' to start a key" },
		{ "{\"a\"}", PV_EINVAL, 4, "':' after a key" },
		{ "{\"a\":}", PV_EINVAL, 5, "a value" },
		{ "{\"a\":1,}", PV_EINVAL, 7, "'\"' to start a key" },
		{ "{,}", PV_EINVAL, 1, "'\"' to start a key" },
		{ "{a:1}", PV_EINVAL, 1, "'\"' to start a key" },
		{ "{'a':1}", PV_EINVAL, 1, "'\"' to start a key" },
		{ "{\"a\":1 \"b\":2}", PV_EINVAL, 7, "',' or '}'" },
		{ "{\"a\":[1 2]}", PV_EINVAL, 8, "',' or ']'" },
		{ "{\"a\":[1,]}", PV_EINVAL, 8, "a value" },
		{ "{\"a\":[}", PV_EINVAL, 6, "a value" },
		{ "{\"a\":[", PV_EINVAL, 6, "a value or ']'" },
		{ "{\"a\":1", PV_EINVAL, 6, "',' or '}'" },
		{ "{\"a\":1}}", PV_EINVAL, 7, "nothing after" },
		{ "{} {}", PV_EINVAL, 3, "nothing after" },
		{ "{}x", PV_EINVAL, 2, "nothing after" },
		{ "{\"a\":tru}", PV_EINVAL, 5, "true" },
		{ "{\"a\":nul}", PV_EINVAL, 5, "null" },
		{ "{\"a\":fals}", PV_EINVAL, 5, "false" },
		{ "{\"a\":truex}", PV_EINVAL, 9, "',' or '}'" },
		{ "{\"a\":True}", PV_EINVAL, 5, "a value" },
		{ "{\"a\":undefined}", PV_EINVAL, 5, "a value" },
		{ "{\"a\":NaN}", PV_EINVAL, 5, "a value" },
		{ "{\"a\":\v1}", PV_EINVAL, 5, "a value" },          /* vertical tab is not whitespace */
		{ "{\"a\":\"x}", PV_EINVAL, 8, "'\"' to close" },
		{ "{\"a", PV_EINVAL, 3, "'\"' to close" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_numbers(void **state)
{
	static const json_case cases[] = {
		{ "{\"n\":0}", 0, 0, NULL },
		{ "{\"n\":-0}", 0, 0, NULL },
		{ "{\"n\":-0.0e-0}", 0, 0, NULL },
		{ "{\"n\":1E+2}", 0, 0, NULL },
		{ "{\"n\":9223372036854775807}", 0, 0, NULL },
		{ "{\"n\":-9223372036854775808}", 0, 0, NULL },
		{ "{\"n\":9223372036854775808}", PV_EINVAL, 5, "integer within" },
		{ "{\"n\":-9223372036854775809}", PV_EINVAL, 5, "integer within" },
		{ "{\"n\":12345678901234567890123}", PV_EINVAL, 5, "integer within" },
		{ "{\"n\":12345678901234567890123.0}", 0, 0, NULL },   /* a real: fits a double */
		{ "{\"n\":1e308}", 0, 0, NULL },
		{ "{\"n\":1.7976931348623157e308}", 0, 0, NULL },       /* DBL_MAX */
		{ "{\"n\":1.7976931348623159e308}", PV_EINVAL, 5, "range of a double" },
		{ "{\"n\":-1e309}", PV_EINVAL, 5, "range of a double" },
		{ "{\"n\":1e400}", PV_EINVAL, 5, "range of a double" },
		{ "{\"n\":0.001e311}", 0, 0, NULL },                    /* 1e308 */
		{ "{\"n\":0.0001e313}", PV_EINVAL, 5, "range of a double" },
		{ "{\"n\":1e-400}", 0, 0, NULL },                       /* underflow is fine */
		{ "{\"n\":0e99999999999999999999}", 0, 0, NULL },
		{ "{\"n\":1e99999999999999999999}", PV_EINVAL, 5, "range of a double" },
		{ "{\"n\":01}", PV_EINVAL, 6, "',' or '}'" },
		{ "{\"n\":-01}", PV_EINVAL, 7, "',' or '}'" },
		{ "{\"n\":+1}", PV_EINVAL, 5, "a value" },
		{ "{\"n\":.5}", PV_EINVAL, 5, "a value" },
		{ "{\"n\":1.}", PV_EINVAL, 7, "a digit after '.'" },
		{ "{\"n\":1.e5}", PV_EINVAL, 7, "a digit after '.'" },
		{ "{\"n\":1e}", PV_EINVAL, 7, "a digit in the exponent" },
		{ "{\"n\":1e+}", PV_EINVAL, 8, "a digit in the exponent" },
		{ "{\"n\":-}", PV_EINVAL, 6, "a digit" },
		{ "{\"n\":-a}", PV_EINVAL, 6, "a digit" },
		{ "{\"n\":0x10}", PV_EINVAL, 6, "',' or '}'" },
		{ "{\"n\":1_000}", PV_EINVAL, 6, "',' or '}'" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	/* jansson agrees on the accepted ones too */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].code == 0)
			assert_true(ref_accepts(cases[i].doc, strlen(cases[i].doc), PV_RECORD_MAX_DEPTH));
}

/* 2^1024 - 2^970: the smallest decimal that rounds to infinity (it ties, and rounds to even = 2^1024). */
static const char THRESHOLD[] =
	"17976931348623158079372897140530341507993413271003782693617377898044496829276475094664901797758720709633"
	"02864166928879109465555478519404026306574886715058206819089020007083836762738548458177115317644757302700"
	"69855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/* The edge of the double range, with many digits: the strtod path and the sticky digit past 800. */
static void test_numbers_long(void **state)
{
	char below[sizeof(THRESHOLD)], doc[4096];
	int n;

	(void)state;
	assert_int_equal(strlen(THRESHOLD), 309);
	memcpy(below, THRESHOLD, sizeof(THRESHOLD));
	below[308] = '1';   /* THRESHOLD - 1 */
	struct {
		const char *fmt;
		const char *digits;
		int ok;
	} cases[] = {
		{ "{\"n\":%se0}", THRESHOLD, 0 },
		{ "{\"n\":%se0}", below, 1 },
		{ "{\"n\":%s.0}", THRESHOLD, 0 },
		{ "{\"n\":-%s.9999}", below, 1 },
		{ "{\"n\":0.%se309}", THRESHOLD, 0 },
		{ "{\"n\":0.00%se311}", below, 1 },
		/* more than 800 significant digits: what is cut off still decides (sticky digit) */
		{ "{\"n\":0.%s" "%0900d" "1e309}", THRESHOLD, 0 },
		{ "{\"n\":0.%s" "%0900d" "1e309}", below, 1 },
		{ "{\"n\":0.%s" "%0900d" "e309}", THRESHOLD, 0 },
		{ "{\"n\":%s" "%0900d" "9e-901}", below, 1 },
		{ "{\"n\":%s" "%0900d" "9e-900}", below, 0 },   /* 10x larger */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
		n = snprintf(doc, sizeof(doc), cases[i].fmt, cases[i].digits, 0);
#pragma GCC diagnostic pop
		assert_true(n > 0 && (size_t)n < sizeof(doc));
		if ((check(doc, (size_t)n, NULL) == 0) != cases[i].ok)
			fail_msg("case %zu: validator %s", i, cases[i].ok ? "refuses" : "accepts");
		assert_int_equal(ref_accepts(doc, (size_t)n, PV_RECORD_MAX_DEPTH), cases[i].ok);
	}
}

static void test_strings(void **state)
{
	static const json_case cases[] = {
		{ "{\"s\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}", 0, 0, NULL },
		{ "{\"s\":\"\\u0041\\u00e9\\u20AC\\uFFFF\"}", 0, 0, NULL },
		{ "{\"s\":\"\\ud83d\\ude00\"}", 0, 0, NULL },             /* a pair */
		{ "{\"s\":\"\\uDBFF\\uDFFF\"}", 0, 0, NULL },             /* U+10FFFF */
		{ "{\"s\":\"\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBF\xBF\"}", 0, 0, NULL },
		{ "{\"s\":\"\x7F\"}", 0, 0, NULL },                       /* DEL is not a control character in JSON */
		{ "{\"s\":\"\\x41\"}", PV_EINVAL, 6, "after '\\'" },
		{ "{\"s\":\"\\'\"}", PV_EINVAL, 6, "after '\\'" },
		{ "{\"s\":\"\\U0041\"}", PV_EINVAL, 6, "after '\\'" },
		{ "{\"s\":\"\\", PV_EINVAL, 6, "an escape character" },
		{ "{\"s\":\"\\u12\"}", PV_EINVAL, 6, "4 hex digits" },
		{ "{\"s\":\"\\u12G4\"}", PV_EINVAL, 6, "4 hex digits" },
		{ "{\"s\":\"\\u0000\"}", PV_EINVAL, 6, "\\u0000" },
		{ "{\"s\":\"\\ud83d\"}", PV_EINVAL, 12, "a low surrogate" },
		{ "{\"s\":\"\\ud83dx\"}", PV_EINVAL, 12, "a low surrogate" },
		{ "{\"s\":\"\\ud83d\\u0041\"}", PV_EINVAL, 12, "a low surrogate" },
		{ "{\"s\":\"\\ud83d\\ud83d\"}", PV_EINVAL, 12, "a low surrogate" },
		{ "{\"s\":\"\\ude00\"}", PV_EINVAL, 6, "a high surrogate" },
		{ "{\"s\":\"\\ude00\\ud83d\"}", PV_EINVAL, 6, "a high surrogate" },
		{ "{\"s\":\"a\nb\"}", PV_EINVAL, 7, "raw control character" },
		{ "{\"s\":\"\t\"}", PV_EINVAL, 6, "raw control character" },
		{ "{\"s\":\"\x1F\"}", PV_EINVAL, 6, "raw control character" },
		/* UTF-8 */
		{ "{\"s\":\"\x80\"}", PV_EINVAL, 6, "valid UTF-8" },              /* stray continuation */
		{ "{\"s\":\"\xBF\"}", PV_EINVAL, 6, "valid UTF-8" },
		{ "{\"s\":\"\xC0\x80\"}", PV_EINVAL, 6, "valid UTF-8" },          /* overlong NUL */
		{ "{\"s\":\"\xC1\xBF\"}", PV_EINVAL, 6, "valid UTF-8" },          /* overlong */
		{ "{\"s\":\"\xE0\x80\xAF\"}", PV_EINVAL, 6, "valid UTF-8" },      /* overlong '/' */
		{ "{\"s\":\"\xE0\x9F\xBF\"}", PV_EINVAL, 6, "valid UTF-8" },      /* overlong U+07FF */
		{ "{\"s\":\"\xF0\x8F\xBF\xBF\"}", PV_EINVAL, 6, "valid UTF-8" },  /* overlong U+FFFF */
		{ "{\"s\":\"\xED\xA0\x80\"}", PV_EINVAL, 6, "valid UTF-8" },      /* U+D800 */
		{ "{\"s\":\"\xED\xBF\xBF\"}", PV_EINVAL, 6, "valid UTF-8" },      /* U+DFFF */
		{ "{\"s\":\"\xF4\x90\x80\x80\"}", PV_EINVAL, 6, "valid UTF-8" },  /* U+110000 */
		{ "{\"s\":\"\xF5\x80\x80\x80\"}", PV_EINVAL, 6, "valid UTF-8" },
		{ "{\"s\":\"\xF8\x88\x80\x80\x80\"}", PV_EINVAL, 6, "valid UTF-8" },
		{ "{\"s\":\"\xFF\"}", PV_EINVAL, 6, "valid UTF-8" },
		{ "{\"s\":\"\xC3\"}", PV_EINVAL, 6, "valid UTF-8" },              /* cut short by the quote */
		{ "{\"s\":\"\xE2\x82\"}", PV_EINVAL, 6, "valid UTF-8" },
		{ "{\"s\":\"\xF0\x9F\x98\"}", PV_EINVAL, 6, "valid UTF-8" },
		{ "{\"s\":\"\xE2\x82", PV_EINVAL, 6, "valid UTF-8" },             /* cut short by the end */
		{ "{\"\xC0\xAF\":1}", PV_EINVAL, 2, "valid UTF-8" },              /* in a key */
		{ "{\"s\":1}\xC3\xA9", PV_EINVAL, 7, "nothing after" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].code == 0)
			assert_true(ref_accepts(cases[i].doc, strlen(cases[i].doc), PV_RECORD_MAX_DEPTH));
}

/* A NUL byte anywhere is refused (the length, not the NUL, ends the input). */
static void test_nul_bytes(void **state)
{
	static const char doc[] = "{\"a\":\"xy\",\"b\":[1,2]}";
	char buf[sizeof(doc)];
	pv_json_problem pr;

	(void)state;
	for (size_t i = 0; i + 1 < sizeof(doc); i++) {
		memcpy(buf, doc, sizeof(doc));
		buf[i] = '\0';
		assert_int_equal(check(buf, sizeof(doc) - 1, &pr), PV_EINVAL);
		assert_int_equal(pr.offset, i);
	}
	assert_int_equal(check(doc, sizeof(doc), &pr), PV_EINVAL);   /* with the terminator */
	assert_int_equal(pr.offset, sizeof(doc) - 1);
	assert_string_equal(pr.expected, "nothing after the top-level object");
}

static void test_duplicates(void **state)
{
	static const json_case cases[] = {
		{ "{\"a\":1,\"b\":2,\"ab\":3,\"A\":4,\"\":5}", 0, 0, NULL },
		{ "{\"a\":{\"a\":{\"a\":1}},\"b\":[{\"a\":1},{\"a\":2}]}", 0, 0, NULL },   /* same key, other objects */
		{ "{\"x\":{\"a\":1,\"b\":2},\"a\":{\"b\":1,\"a\":2}}", 0, 0, NULL },
		{ "{\"a\":1,\"a\":2}", PV_EINVAL, 7, "a key not already used" },
		{ "{\"a\":1,\"b\":2,\"a\":3}", PV_EINVAL, 13, "a key not already used" },
		{ "{\"\":1,\"\":2}", PV_EINVAL, 6, "a key not already used" },
		{ "{\"a\":1,\"\\u0061\":2}", PV_EINVAL, 7, "a key not already used" },   /* escapes decoded */
		{ "{\"\\/\":1,\"/\":2}", PV_EINVAL, 8, "a key not already used" },
		{ "{\"\xC3\xA9\":1,\"\\u00E9\":2}", PV_EINVAL, 8, "a key not already used" },
		{ "{\"\xF0\x9F\x98\x80\":1,\"\\ud83d\\ude00\":2}", PV_EINVAL, 10, "a key not already used" },
		{ "{\"\\n\":1,\"\\u000a\":2}", PV_EINVAL, 8, "a key not already used" },
		{ "{\"o\":{\"k\":1,\"k\":2}}", PV_EINVAL, 12, "a key not already used" },   /* nested */
		{ "{\"o\":[{},{\"k\":1,\"j\":{},\"k\":2}]}", PV_EINVAL, 23, "a key not already used" },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cases[i].code == 0)
			assert_true(ref_accepts(cases[i].doc, strlen(cases[i].doc), PV_RECORD_MAX_DEPTH));
}

/* Objects with more keys than the fixed table: jansson finishes the duplicate check. */
static void test_duplicates_many_keys(void **state)
{
	size_t cap = 64 * 1024, n;
	char *doc = malloc(cap);
	pv_json_problem pr;
	const size_t nkeys = PV_JSON_CHECK_KEYS_MAX + 100;

	(void)state;
	assert_non_null(doc);
	for (int dup_at = -1; dup_at < 3; dup_at++) {
		n = (size_t)snprintf(doc, cap, "{\"inner\":{\"z\":1");
		for (size_t i = 0; i < nkeys; i++)
			n += (size_t)snprintf(doc + n, cap - n, ",\"k%zu\":%zu", i, i);
		/* dup_at 0: a repeat of a key the table holds; 1: of one it could not hold; 2: in the outer object */
		if (dup_at == 0)
			n += (size_t)snprintf(doc + n, cap - n, ",\"k5\":0");
		if (dup_at == 1)
			n += (size_t)snprintf(doc + n, cap - n, ",\"k%zu\":0", nkeys - 1);
		n += (size_t)snprintf(doc + n, cap - n, "},\"b\":2%s}", dup_at == 2 ? ",\"inner\":3" : "");
		assert_true(n < cap);
		if (dup_at < 0) {
			assert_int_equal(check(doc, n, &pr), 0);
			assert_true(ref_accepts(doc, n, PV_RECORD_MAX_DEPTH));
		} else {
			assert_int_equal(check(doc, n, &pr), PV_EINVAL);
			assert_string_equal(pr.expected, "a key not already used in this object");
			assert_true(pr.offset > 0 && pr.offset <= n);
			assert_false(ref_accepts(doc, n, PV_RECORD_MAX_DEPTH));
		}
	}
	/* many keys spread over sibling objects never overflow: each object's keys are forgotten at its end */
	n = (size_t)snprintf(doc, cap, "{\"l\":[");
	for (size_t o = 0; o < 200; o++) {
		n += (size_t)snprintf(doc + n, cap - n, "%s{", o ? "," : "");
		for (size_t i = 0; i < 10; i++)
			n += (size_t)snprintf(doc + n, cap - n, "%s\"k%zu\":%zu", i ? "," : "", i, i);
		n += (size_t)snprintf(doc + n, cap - n, "}");
	}
	n += (size_t)snprintf(doc + n, cap - n, "],\"l\":1}");
	assert_int_equal(check(doc, n, &pr), PV_EINVAL);   /* found by the table, not by jansson */
	assert_int_equal(pr.offset, n - 6);
	free(doc);
}

static void test_depth_and_size(void **state)
{
	char doc[512];
	size_t n = 0;
	pv_json_problem pr;

	(void)state;
	/* depth 32 (the top object is 1) passes, 33 does not; arrays count like objects */
	for (int depth = 31; depth <= 34; depth++) {
		n = 0;
		doc[n++] = '{';
		for (int i = 1; i < depth; i++) {
			n += (size_t)snprintf(doc + n, sizeof(doc) - n, i % 2 ? "\"k\":[" : "{");
		}
		/* innermost: inside an array when the last level opened one, else inside an object */
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, (depth - 1) % 2 ? "1" : "\"k\":1");
		for (int i = depth - 1; i >= 1; i--)
			doc[n++] = i % 2 ? ']' : '}';
		doc[n++] = '}';
		doc[n] = '\0';
		if (depth <= PV_RECORD_MAX_DEPTH) {
			assert_int_equal(check(doc, n, &pr), 0);
			assert_true(ref_accepts(doc, n, PV_RECORD_MAX_DEPTH));
		} else {
			assert_int_equal(check(doc, n, &pr), PV_ELIMIT);
			assert_int_equal(pr.code, PV_ELIMIT);
			assert_non_null(strstr(pr.expected, "depth"));
			assert_false(ref_accepts(doc, n, PV_RECORD_MAX_DEPTH));
		}
	}
	/* the depth limit is a parameter */
	assert_int_equal(pv_json_check_object("{\"a\":{}}", 8, 100, 1, &pr), PV_ELIMIT);
	assert_int_equal(pr.offset, 5);
	assert_int_equal(pv_json_check_object("{\"a\":{}}", 8, 100, 2, &pr), 0);
	assert_int_equal(pv_json_check_object("{}", 2, 100, 0, &pr), PV_ELIMIT);
	/* size: more than max_bytes is refused before anything is read */
	assert_int_equal(pv_json_check_object("{\"a\":1}", 7, 7, 4, &pr), 0);
	assert_int_equal(pv_json_check_object("{\"a\":1}", 7, 6, 4, &pr), PV_ELIMIT);
	assert_int_equal(pr.offset, 6);
	/* no data at all */
	assert_int_equal(pv_json_check_object(NULL, 0, 100, 4, &pr), PV_EINVAL);
	assert_int_equal(pr.offset, 0);
	/* a NULL problem pointer is allowed */
	assert_int_equal(pv_json_check_object("[", 1, 100, 4, NULL), PV_EINVAL);
}

/* A very deep document (deeper than the validator can track) is refused at the limit, without recursion. */
static void test_very_deep(void **state)
{
	size_t n = 200000;
	char *doc = malloc(n);
	pv_json_problem pr;

	(void)state;
	assert_non_null(doc);
	doc[0] = '{';
	memcpy(doc + 1, "\"a\":", 4);
	memset(doc + 5, '[', n - 5);
	assert_int_equal(pv_json_check_object(doc, n, n, 100000, &pr), PV_ELIMIT);
	assert_int_equal(pr.offset, 5 + PV_JSON_CHECK_DEPTH_MAX - 1);
	assert_int_equal(check(doc, n, &pr), PV_ELIMIT);
	assert_int_equal(pr.offset, 5 + PV_RECORD_MAX_DEPTH - 1);
	free(doc);
}

/* ---- differential test against jansson --------------------------------- */

typedef struct {
	char *b;
	size_t n, cap;
	uint64_t rng;
} gen;

static uint64_t rnd(gen *g)
{
	/* xorshift64* */
	g->rng ^= g->rng >> 12;
	g->rng ^= g->rng << 25;
	g->rng ^= g->rng >> 27;
	return g->rng * 2685821657736338717ull;
}

static unsigned pick(gen *g, unsigned n)
{
	return (unsigned)(rnd(g) % n);
}

static void put(gen *g, const char *s, size_t len)
{
	if (g->n + len > g->cap)
		return;   /* stop growing; the document just ends up cut (and so invalid): fine */
	memcpy(g->b + g->n, s, len);
	g->n += len;
}

static void puts_(gen *g, const char *s)
{
	put(g, s, strlen(s));
}

static void ws(gen *g)
{
	static const char *const w[] = { "", "", "", " ", "\n", "\t", "\r\n  " };
	puts_(g, w[pick(g, sizeof(w) / sizeof(w[0]))]);
}

/* Keys from a small set, several spelling the same text, so that duplicates happen. */
static void gen_key(gen *g)
{
	static const char *const keys[] = {
		"\"a\"", "\"b\"", "\"\\u0061\"", "\"\"", "\"ab\"", "\"a\\u0062\"",
		"\"\xC3\xA9\"", "\"\\u00e9\"", "\"\\u00E9\"", "\"\xF0\x9F\x98\x80\"", "\"\\ud83d\\ude00\"",
		"\"\\/\"", "\"/\"", "\"\\n\"", "\"\\u000A\"", "\"name\"", "\"email\"", "\"k\\\"q\"",
	};
	puts_(g, keys[pick(g, sizeof(keys) / sizeof(keys[0]))]);
}

static void gen_string(gen *g)
{
	static const char *const parts[] = {
		"x", "hello", " ", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00ff",
		"\\uFFFF", "\\ud834\\udd1e", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD", "\x7F",
		/* occasionally wrong */
		"\\ud834", "\\udd1e", "\\u0000", "\\x", "\xC0\x80", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\x80", "\t",
	};
	unsigned n = pick(g, 5);

	puts_(g, "\"");
	for (unsigned i = 0; i < n; i++) {
		unsigned k = pick(g, 100) < 97 ? pick(g, 20) : pick(g, sizeof(parts) / sizeof(parts[0]));
		puts_(g, parts[k]);
	}
	puts_(g, "\"");
}

static void gen_number(gen *g)
{
	static const char *const nums[] = {
		"0", "-0", "1", "-1", "42", "3.14", "-2.5e-3", "1E10", "1e+2", "6.02e23", "1e308", "-1e308", "1e309",
		"1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "2e308", "1e-400",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"123456789012345678901234567890", "0.1e310", "0.01e310", "100e306", "1000e306",
		/* invalid */
		"01", "1.", ".5", "+1", "-", "1e", "1e+", "0x1F",
	};
	char buf[64];

	if (pick(g, 3) == 0) {
		snprintf(buf, sizeof(buf), "%s%llu", pick(g, 2) ? "-" : "", (unsigned long long)(rnd(g) >> pick(g, 64)));
		puts_(g, buf);
		return;
	}
	puts_(g, nums[pick(g, pick(g, 10) == 0 ? sizeof(nums) / sizeof(nums[0]) : 27)]);
}

static void gen_value(gen *g, int depth);

static void gen_container(gen *g, int depth, int object)
{
	unsigned n = depth > 36 ? 0 : pick(g, depth > 6 ? 2 : 5);

	puts_(g, object ? "{" : "[");
	ws(g);
	for (unsigned i = 0; i < n; i++) {
		if (i) {
			puts_(g, ",");
			ws(g);
		}
		if (object) {
			gen_key(g);
			ws(g);
			puts_(g, ":");
			ws(g);
		}
		gen_value(g, depth + 1);
		ws(g);
	}
	puts_(g, object ? "}" : "]");
}

static void gen_value(gen *g, int depth)
{
	/* a chain of single-element containers now and then, to reach the depth limit */
	if (depth < 40 && pick(g, 40) == 0) {
		gen_container(g, depth, pick(g, 2));
		return;
	}
	switch (pick(g, 8)) {
	case 0: gen_container(g, depth, 1); break;
	case 1: gen_container(g, depth, 0); break;
	case 2: case 3: gen_string(g); break;
	case 4: case 5: gen_number(g); break;
	case 6: puts_(g, pick(g, 2) ? "true" : "false"); break;
	default: puts_(g, "null");
	}
}

/* A deep chain "{"a":[{"a":[ ... ]}]}" of about `depth` levels with a small generated value inside. */
static void gen_deep(gen *g, int depth)
{
	puts_(g, "{");
	for (int i = 1; i < depth; i++)
		puts_(g, i % 2 ? "\"a\":[" : "{");
	gen_value(g, depth);
	for (int i = depth - 1; i >= 1; i--)
		puts_(g, i % 2 ? "]" : "}");
	puts_(g, "}");
}

/* Mutate the document in place: flips, inserts, deletes, cuts, swaps of interesting bytes. */
static void mutate(gen *g)
{
	static const unsigned char interesting[] = {
		'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', '1', '9', '-', '+', '.', 'e', 'E', 'u', 'n', 't',
		'a', 'd', 'D', 'F', 0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF,
	};
	unsigned k = 1 + pick(g, 3);

	for (unsigned i = 0; i < k && g->n > 0; i++) {
		size_t at = pick(g, (unsigned)g->n);
		unsigned char ch = pick(g, 4) ? interesting[pick(g, sizeof(interesting))] : (unsigned char)pick(g, 256);
		switch (pick(g, 5)) {
		case 0: /* replace */
			g->b[at] = (char)ch;
			break;
		case 1: /* insert */
			if (g->n < g->cap) {
				memmove(g->b + at + 1, g->b + at, g->n - at);
				g->b[at] = (char)ch;
				g->n++;
			}
			break;
		case 2: /* delete */
			memmove(g->b + at, g->b + at + 1, g->n - at - 1);
			g->n--;
			break;
		case 3: /* cut */
			g->n = at;
			break;
		default: { /* copy a piece elsewhere (duplicates members, keys, brackets) */
			size_t from = pick(g, (unsigned)g->n), len = 1 + pick(g, 12);
			if (from + len > g->n)
				len = g->n - from;
			if (g->n + len <= g->cap) {
				char tmp[16];
				memcpy(tmp, g->b + from, len);
				memmove(g->b + at + len, g->b + at, g->n - at);
				memcpy(g->b + at, tmp, len);
				g->n += len;
			}
		}
		}
	}
}

static void hexdump(const char *s, size_t n)
{
	for (size_t i = 0; i < n && i < 400; i++)
		fprintf(stderr, "%02x", (unsigned char)s[i]);
	fprintf(stderr, "%s\n", n > 400 ? "..." : "");
}

/* One document: the validator and jansson must agree; a refusal names an offset inside it. */
static void agree(const char *s, size_t n, unsigned max_depth, size_t *accepted, size_t *refused)
{
	pv_json_problem pr = { 0, 0, NULL };
	int rc = pv_json_check_object(s, n, PV_RECORD_MAX_BYTES, max_depth, &pr);
	int want = ref_accepts(s, n, max_depth);

	if ((rc == 0) != want) {
		hexdump(s, n);
		fail_msg("disagreement: validator %d (byte %zu: %s), jansson %s", rc, pr.offset,
			 pr.expected ? pr.expected : "-", want ? "accepts" : "refuses");
	}
	if (rc == 0) {
		(*accepted)++;
		return;
	}
	(*refused)++;
	assert_true(rc == PV_EINVAL || rc == PV_ELIMIT);
	assert_int_equal(pr.code, rc);
	assert_true(pr.offset <= n);
	assert_non_null(pr.expected);
}

static void test_differential(void **state)
{
	enum { CAP = 8192, ROUNDS = 40000 };
	gen g = { malloc(CAP), 0, CAP, 0x9E3779B97F4A7C15ull };
	char *orig = malloc(CAP);
	size_t accepted = 0, refused = 0, mutated_accepted = 0, mutated_refused = 0;
	const char *seed = getenv("PV_JSON_CHECK_SEED");

	(void)state;
	assert_non_null(g.b);
	assert_non_null(orig);
	if (seed && *seed)
		g.rng = strtoull(seed, NULL, 0) | 1;
	for (int r = 0; r < ROUNDS; r++) {
		size_t n;
		unsigned depth = r % 7 == 0 ? (unsigned)(1 + pick(&g, 40)) : PV_RECORD_MAX_DEPTH;

		g.n = 0;
		ws(&g);
		if (r % 25 == 0)
			gen_deep(&g, 28 + (int)pick(&g, 8));
		else if (r % 50 == 1)
			gen_value(&g, 0);   /* not always an object at the top */
		else
			gen_container(&g, 0, 1);
		ws(&g);
		n = g.n;
		agree(g.b, n, depth, &accepted, &refused);
		memcpy(orig, g.b, n);
		for (int m = 0; m < 4; m++) {
			memcpy(g.b, orig, n);
			g.n = n;
			mutate(&g);
			agree(g.b, g.n, depth, &mutated_accepted, &mutated_refused);
		}
	}
	/* the generator must exercise both outcomes, or the comparison proves little */
	print_message("generated: %zu accepted, %zu refused; mutated: %zu accepted, %zu refused\n", accepted, refused,
		      mutated_accepted, mutated_refused);
	assert_true(accepted > ROUNDS / 10);
	assert_true(refused > ROUNDS / 10);
	assert_true(mutated_accepted > ROUNDS / 10);
	assert_true(mutated_refused > ROUNDS);
	free(orig);
	free(g.b);
}

/* ---- the vault's use of it --------------------------------------------- */

/* The problem text never repeats input: only offsets and fixed expectations. */
static void test_problem_has_no_content(void **state)
{
	static const char *const docs[] = {
		"{\"secret-value\" 1}", "{\"secret-value\":secret}", "{\"a\":\"secret-value\\q\"}",
		"{\"secret-value\":1,\"secret-value\":2}", "[\"secret-value\"]", "{\"n\":99999999999999999999999}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		pv_json_problem pr;
		assert_int_equal(check_str(docs[i], &pr), PV_EINVAL);
		assert_null(strstr(pr.expected, "secret"));
		assert_null(strstr(pr.expected, "999"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_numbers_long),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_duplicates_many_keys),
		cmocka_unit_test(test_depth_and_size),
		cmocka_unit_test(test_very_deep),
		cmocka_unit_test(test_differential),
		cmocka_unit_test(test_problem_has_no_content),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
