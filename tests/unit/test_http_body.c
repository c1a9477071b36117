/*
 * HTTP server unit tests, bodies and problems: every class of bad request
 * body gets its own problem type (RFC 9457 fields, JSON pointers of the bad
 * fields), good bodies pass, and problem bodies never repeat input values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "privault/error.h"

static const char *const regimes[] = { "gdpr", "ccpa", NULL };

static const pv_http_field item_fields[] = {
	{ "kind", PV_HTTP_T_STRING, 1, 8, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

static const pv_http_field fields[] = {
	{ "name", PV_HTTP_T_STRING, 1, 10, NULL, NULL, NULL },
	{ "count", PV_HTTP_T_INTEGER, 0, 0, NULL, NULL, NULL },
	{ "flag", PV_HTTP_T_BOOLEAN, 0, 0, NULL, NULL, NULL },
	{ "regime", PV_HTTP_T_STRING, 0, 0, NULL, NULL, regimes },
	{ "data", PV_HTTP_T_ANY_OBJECT, 0, 0, NULL, NULL, NULL },
	{ "ids", PV_HTTP_T_STRING_MAP, 0, 20, NULL, NULL, NULL },
	{ "tags", PV_HTTP_T_ARRAY_STRING, 0, 3, NULL, NULL, NULL },
	{ "items", PV_HTTP_T_ARRAY_OBJECT, 0, 2, item_fields, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

/* Parse `body`; expect failure with problem `slug` and `status`; returns the problem (caller resets). */
static void expect_problem(pv_http_response *res, const char *body, size_t len, int status, const char *slug)
{
	json_t *out = (json_t *)1;
	char type[128];

	memset(res, 0, sizeof(*res));
	res->decision = -1;
	assert_int_equal(pv_http_body_parse(body, len, fields, &out, res), -1);
	assert_null(out);
	assert_int_equal(res->status, status);
	assert_string_equal(res->content_type, "application/problem+json");
	snprintf(type, sizeof(type), PV_HTTP_PROBLEM_BASE "%s", slug);
	assert_string_equal(json_string_value(json_object_get(res->body, "type")), type);
	assert_int_equal(json_integer_value(json_object_get(res->body, "status")), status);
	assert_non_null(json_string_value(json_object_get(res->body, "title")));
	assert_non_null(json_string_value(json_object_get(res->body, "detail")));
}

/* The errors[] entry for `pointer`, or NULL. */
static json_t *error_at(pv_http_response *res, const char *pointer)
{
	json_t *errs = json_object_get(res->body, "errors"), *e;
	size_t i;

	json_array_foreach(errs, i, e)
		if (strcmp(json_string_value(json_object_get(e, "pointer")), pointer) == 0)
			return e;
	return NULL;
}

static void test_valid(void **state)
{
	const char *b = "{\"name\":\"ada\",\"count\":3,\"flag\":true,\"regime\":\"gdpr\",\"data\":{\"x\":[1,{\"y\":null}]},"
			"\"ids\":{\"email\":\"a@b.c\"},\"tags\":[\"a\",\"b\"],\"items\":[{\"kind\":\"k\"}]}";
	pv_http_response res;
	json_t *out = NULL;

	(void)state;
	memset(&res, 0, sizeof(res));
	assert_int_equal(pv_http_body_parse(b, strlen(b), fields, &out, &res), 0);
	assert_non_null(out);
	assert_int_equal(res.status, 0);
	assert_string_equal(json_string_value(json_object_get(out, "name")), "ada");
	json_decref(out);
}

static void test_malformed(void **state)
{
	pv_http_response res;

	(void)state;
	expect_problem(&res, "{\"name\":", 8, 400, "malformed-json");
	assert_non_null(strstr(json_string_value(json_object_get(res.body, "detail")), "line 1"));
	pv_http_response_reset(&res);
	expect_problem(&res, "{\"name\":\"secret-value\" x}", 25, 400, "malformed-json");
	/* the detail never quotes the input */
	assert_null(strstr(json_string_value(json_object_get(res.body, "detail")), "secret"));
	pv_http_response_reset(&res);
	expect_problem(&res, "", 0, 400, "malformed-json");
	pv_http_response_reset(&res);
	expect_problem(&res, "{\"name\":\"a\"} trailing", 21, 400, "malformed-json");
	pv_http_response_reset(&res);
	expect_problem(&res, "[1,2]", 5, 400, "not-an-object");
	pv_http_response_reset(&res);
	expect_problem(&res, "{\"name\":\"a\",\"name\":\"b\"}", 23, 400, "duplicate-key");
	pv_http_response_reset(&res);
	expect_problem(&res, "{\"name\":\"a\\u0000b\"}", 19, 400, "malformed-json");
	pv_http_response_reset(&res);
}

static void test_utf8(void **state)
{
	pv_http_response res;
	const char overlong[] = "{\"name\":\"\xc0\xaf\"}";
	const char surrogate[] = "{\"name\":\"\xed\xa0\x80\"}";
	const char truncated[] = "{\"name\":\"\xe2\x82\"}";
	const char ok[] = "{\"name\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}";
	json_t *out = NULL;

	(void)state;
	expect_problem(&res, overlong, sizeof(overlong) - 1, 400, "invalid-utf8");
	assert_non_null(strstr(json_string_value(json_object_get(res.body, "detail")), "offset 9"));
	pv_http_response_reset(&res);
	expect_problem(&res, surrogate, sizeof(surrogate) - 1, 400, "invalid-utf8");
	pv_http_response_reset(&res);
	expect_problem(&res, truncated, sizeof(truncated) - 1, 400, "invalid-utf8");
	pv_http_response_reset(&res);
	memset(&res, 0, sizeof(res));
	assert_int_equal(pv_http_body_parse(ok, sizeof(ok) - 1, fields, &out, &res), 0);
	json_decref(out);
}

static void test_depth(void **state)
{
	pv_http_response res;
	char b[512];
	size_t n = 0;
	json_t *out = NULL;
	int i;

	(void)state;
	n += (size_t)snprintf(b + n, sizeof(b) - n, "{\"name\":\"a\",\"data\":");
	for (i = 0; i < PV_HTTP_MAX_DEPTH; i++)
		b[n++] = '[';
	for (i = 0; i < PV_HTTP_MAX_DEPTH; i++)
		b[n++] = ']';
	b[n++] = '}';
	expect_problem(&res, b, n, 400, "too-deep");
	pv_http_response_reset(&res);
	/* one level less fits ("[" and "]" inside strings do not count) */
	n = (size_t)snprintf(b, sizeof(b), "{\"name\":\"[[[[\",\"data\":{\"a\":[[[]]]}}");
	memset(&res, 0, sizeof(res));
	assert_int_equal(pv_http_body_parse(b, n, fields, &out, &res), 0);
	json_decref(out);
}

static void test_fields(void **state)
{
	pv_http_response res;
	const char *b;

	(void)state;
	b = "{\"name\":\"a\",\"extra\":1,\"we/ird~\":2}";
	expect_problem(&res, b, strlen(b), 400, "unknown-field");
	assert_non_null(error_at(&res, "/extra"));
	assert_non_null(error_at(&res, "/we~1ird~0"));
	pv_http_response_reset(&res);

	b = "{\"count\":1}";
	expect_problem(&res, b, strlen(b), 400, "missing-field");
	assert_non_null(error_at(&res, "/name"));
	pv_http_response_reset(&res);

	b = "{\"name\":5,\"count\":\"x\",\"flag\":1,\"data\":[],\"ids\":{\"email\":7},\"tags\":[1],\"items\":[3]}";
	expect_problem(&res, b, strlen(b), 400, "wrong-type");
	assert_non_null(error_at(&res, "/name"));
	assert_non_null(error_at(&res, "/count"));
	assert_non_null(error_at(&res, "/flag"));
	assert_non_null(error_at(&res, "/data"));
	assert_non_null(error_at(&res, "/ids/email"));
	assert_non_null(error_at(&res, "/tags/0"));
	assert_non_null(error_at(&res, "/items/0"));
	assert_int_equal(json_array_size(json_object_get(res.body, "errors")), 7);
	pv_http_response_reset(&res);

	b = "{\"name\":\"abcdefghijk\"}";
	expect_problem(&res, b, strlen(b), 400, "string-too-long");
	assert_non_null(error_at(&res, "/name"));
	/* the value itself is never echoed */
	{
		char *dump = json_dumps(res.body, 0);

		assert_null(strstr(dump, "abcdefghijk"));
		free(dump);
	}
	pv_http_response_reset(&res);

	b = "{\"name\":\"a\",\"tags\":[\"a\",\"b\",\"c\",\"d\"]}";
	expect_problem(&res, b, strlen(b), 400, "too-many-items");
	assert_non_null(error_at(&res, "/tags"));
	pv_http_response_reset(&res);

	b = "{\"name\":\"a\",\"regime\":\"lgpd\"}";
	expect_problem(&res, b, strlen(b), 400, "invalid-value");
	assert_non_null(error_at(&res, "/regime"));
	pv_http_response_reset(&res);

	b = "{\"name\":\"a\",\"items\":[{\"kind\":\"k\",\"z\":1},{}]}";
	expect_problem(&res, b, strlen(b), 400, "unknown-field");
	assert_non_null(error_at(&res, "/items/0/z"));
	assert_non_null(error_at(&res, "/items/1/kind"));
	pv_http_response_reset(&res);
}

static void test_problem_helpers(void **state)
{
	pv_http_response res;
	char *out;
	size_t len;
	const char *ct;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.decision = -1;
	pv_http_problem_denied(&res, PV_REASON_NO_GRANT);
	assert_int_equal(res.status, 403);
	assert_int_equal(res.decision, PV_REASON_NO_GRANT);
	assert_string_equal(json_string_value(json_object_get(res.body, "reason")), "no_grant");
	assert_int_equal(pv_http_response_serialize(&res, &out, &len, &ct), 0);
	assert_string_equal(ct, "application/problem+json");
	assert_non_null(strstr(out, "\"type\":\"https://privault.dev/problems/access-denied\""));
	free(out);
	pv_http_response_reset(&res);

	pv_http_problem_from_error(&res, PV_ENOTFOUND);
	assert_int_equal(res.status, 404);
	pv_http_response_reset(&res);
	pv_http_problem_from_error(&res, PV_EERASED);
	assert_int_equal(res.status, 410);
	pv_http_response_reset(&res);
	pv_http_problem_from_error(&res, PV_ESTORE);
	assert_int_equal(res.status, 503);
	pv_http_response_reset(&res);
	pv_http_problem_from_error(&res, PV_EPOLICY);
	assert_int_equal(res.status, 422);
	pv_http_response_reset(&res);
	pv_http_problem_from_error(&res, PV_ETAMPER);
	assert_int_equal(res.status, 500);
	pv_http_response_reset(&res);
	pv_http_problem_from_error(&res, PV_EEXISTS);
	assert_int_equal(res.status, 409);
	pv_http_response_reset(&res);

	pv_http_json(&res, 200, json_pack("{s:i}", "a", 1));
	assert_int_equal(pv_http_response_serialize(&res, &out, &len, &ct), 0);
	assert_string_equal(ct, "application/json");
	assert_string_equal(out, "{\"a\":1}");
	free(out);
	pv_http_response_reset(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_problem_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
