/*
 * HTTP server unit tests: configuration precedence (defaults < file < env <
 * flags) and errors, the failed-authentication token buckets, the Prometheus
 * text format, the OpenAPI document's structure (from a route table defined
 * here), client address truncation and the API-key text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/internal.h"
#include "privault/error.h"

/* ---- configuration ----------------------------------------------------- */

static char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "/tmp/pv-test-conf-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_config_precedence(void **state)
{
	char *file = write_tmp("# comment\n\nport = 9001\nlisten = \"::1\"\nthreads=3\nmax_body = 4096\n"
			       "access_log = /tmp/a.log\n");
	char env_port[] = "PRIVAULT_PORT=9002", env_threads[] = "PRIVAULT_THREADS=5", env_other[] = "HOME=/x";
	char *envp[] = { env_port, env_threads, env_other, NULL };
	pv_server_setting flags[] = { { "port", "9003" }, { "group_commit_us", "250" } };
	pv_server_config c;

	(void)state;
	/* defaults */
	assert_int_equal(pv_server_config_resolve(&c, NULL, (char *[]){ NULL }, NULL, 0), 0);
	assert_int_equal(c.port, 8700);
	assert_string_equal(c.listen, "127.0.0.1");
	assert_string_equal(c.vault_dir, "./var/vault");
	assert_int_equal(c.threads, 0);
	/* file over defaults */
	assert_int_equal(pv_server_config_resolve(&c, file, (char *[]){ NULL }, NULL, 0), 0);
	assert_int_equal(c.port, 9001);
	assert_string_equal(c.listen, "::1");
	assert_int_equal(c.threads, 3);
	assert_int_equal(c.max_body, 4096);
	assert_string_equal(c.config_file, file);
	/* env over file */
	assert_int_equal(pv_server_config_resolve(&c, file, envp, NULL, 0), 0);
	assert_int_equal(c.port, 9002);
	assert_int_equal(c.threads, 5);
	assert_string_equal(c.listen, "::1");
	/* flags over env */
	assert_int_equal(pv_server_config_resolve(&c, file, envp, flags, 2), 0);
	assert_int_equal(c.port, 9003);
	assert_int_equal(c.threads, 5);
	assert_int_equal(c.group_commit_us, 250);
	assert_string_equal(c.access_log, "/tmp/a.log");
	/* the file named by a "config" flag, or by PRIVAULT_CONFIG */
	{
		pv_server_setting f2[] = { { "config", file } };
		char env_conf[128];
		char *envp2[] = { env_conf, NULL };

		assert_int_equal(pv_server_config_resolve(&c, NULL, (char *[]){ NULL }, f2, 1), 0);
		assert_int_equal(c.port, 9001);
		snprintf(env_conf, sizeof(env_conf), "PRIVAULT_CONFIG=%s", file);
		assert_int_equal(pv_server_config_resolve(&c, NULL, envp2, NULL, 0), 0);
		assert_int_equal(c.threads, 3);
	}
	unlink(file);
}

static void test_config_errors(void **state)
{
	char *file = write_tmp("port = 80\nbogus = 1\n");
	char env_bad[] = "PRIVAULT_PORT=70000";
	char *envp[] = { env_bad, NULL };
	pv_server_setting bad_flag[] = { { "max_body", "12x" } };
	pv_server_config c;
	char buf[64];

	(void)state;
	assert_int_equal(pv_server_config_resolve(&c, file, (char *[]){ NULL }, NULL, 0), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), ":2"));
	assert_non_null(strstr(pv_error_last(), "bogus"));
	unlink(file);
	assert_int_equal(pv_server_config_resolve(&c, NULL, envp, NULL, 0), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "PRIVAULT_PORT"));
	assert_null(strstr(pv_error_last(), "70000"));   /* names the key, not the value */
	assert_int_equal(pv_server_config_resolve(&c, NULL, (char *[]){ NULL }, bad_flag, 1), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "max_body"));
	assert_int_equal(pv_server_config_resolve(&c, "/nonexistent/pv.conf", (char *[]){ NULL }, NULL, 0), PV_EIO);
	pv_server_config_defaults(&c);
	assert_int_equal(pv_server_config_get(&c, "port", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "8700");
	assert_int_equal(pv_server_config_get(&c, "nope", buf, sizeof(buf)), PV_EINVAL);
}

static int ndiff, nlive;
static void on_diff(const char *key, const char *before, const char *after, int live, void *payload)
{
	(void)before;
	(void)after;
	(void)payload;
	ndiff++;
	nlive += live;
	assert_true(strcmp(key, "port") == 0 || strcmp(key, "max_batch") == 0);
	assert_int_equal(live, strcmp(key, "max_batch") == 0);
}

static void test_config_diff(void **state)
{
	pv_server_config a, b;

	(void)state;
	pv_server_config_defaults(&a);
	b = a;
	b.port = 1;
	b.max_batch = 7;
	pv_server_config_diff(&a, &b, on_diff, NULL);
	assert_int_equal(ndiff, 2);
	assert_int_equal(nlive, 1);
}

/* ---- rate limiting ----------------------------------------------------- */

static void test_ratelimit(void **state)
{
	pv_http_ratelimit *r;
	uint64_t t = 1000000000ull;
	int i;

	(void)state;
	assert_int_equal(pv_http_ratelimit_new(&r, 3, 60), 0);
	assert_int_equal(pv_http_ratelimit_check(r, "a:10.0.0.1", t), 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pv_http_ratelimit_check(r, "a:10.0.0.1", t), 0);
		pv_http_ratelimit_fail(r, "a:10.0.0.1", t);
	}
	/* the bucket is empty: about one second until a token (60 a minute) */
	assert_int_equal(pv_http_ratelimit_check(r, "a:10.0.0.1", t), 2);
	/* other keys are not affected */
	assert_int_equal(pv_http_ratelimit_check(r, "a:10.0.0.2", t), 0);
	assert_int_equal(pv_http_ratelimit_check(r, "k:0123456789abcdef", t), 0);
	/* refilled after a second: one more try, then empty again */
	t += 1000000001ull;
	assert_int_equal(pv_http_ratelimit_check(r, "a:10.0.0.1", t), 0);
	pv_http_ratelimit_fail(r, "a:10.0.0.1", t);
	assert_true(pv_http_ratelimit_check(r, "a:10.0.0.1", t) > 0);
	/* a minute later the bucket is full again (burst 3) */
	t += 60000000000ull;
	for (i = 0; i < 3; i++) {
		assert_int_equal(pv_http_ratelimit_check(r, "a:10.0.0.1", t), 0);
		pv_http_ratelimit_fail(r, "a:10.0.0.1", t);
	}
	assert_true(pv_http_ratelimit_check(r, "a:10.0.0.1", t) > 0);
	/* many distinct failing clients never grow memory: the table recycles slots */
	for (i = 0; i < 3 * PV_HTTP_RL_SLOTS; i++) {
		char k[32];

		snprintf(k, sizeof(k), "a:198.51.%d.%d", i / 256, i % 256);
		pv_http_ratelimit_fail(r, k, t + (uint64_t)i);
	}
	pv_http_ratelimit_free(r);
}

/* ---- metrics ----------------------------------------------------------- */

static int h_dummy(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	(void)v;
	(void)req;
	return pv_http_json(res, 200, json_object());
}

static const char *const kinds[] = { "email", "phone", NULL };
static const pv_http_field create_fields[] = {
	{ "kind", PV_HTTP_T_STRING, 1, 32, NULL, "a kind", kinds },
	{ "data", PV_HTTP_T_ANY_OBJECT, 0, 0, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};
static const int errs_404[] = { 404, 0 };

/* A test table (never in src/): one public, one authenticated with a body, one with parameters. */
static const pv_http_route test_routes[] = {
	{ "GET", "/ping", h_dummy, PV_HTTP_PUBLIC, "system", "Ping", NULL, NULL, "{\"type\":\"object\"}", 200,
	  NULL, 0, 0, NULL, 0, 0, 0, 0 },
	{ "POST", "/v1/things", h_dummy, PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE, "things", "Create", NULL,
	  create_fields, NULL, 201, NULL, 1, 1, NULL, 0, 0, 0, 0 },
	{ "GET", "/v1/things/{id}/parts/{part}", h_dummy, PV_HTTP_ROLE_ANY, "things", "Part", NULL, NULL,
	  "{\"type\":\"string\",\"contentMediaType\":\"text/plain\"}", 200, errs_404, 0, 1, NULL, 0, 0, 0, 0 },
	{ "DELETE", "/v1/things/{id}/parts/{part}", h_dummy, PV_HTTP_ROLE_ADMIN, "things", "Delete", NULL, NULL,
	  NULL, 204, errs_404, 0, 1, NULL, 0, 0, 0, 0 },
	{ NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, 0, 0, 0, 0 }
};
static const pv_http_route *const test_tables[] = { test_routes, NULL };

static void test_metrics(void **state)
{
	const pv_http_route *flat[4] = { &test_routes[0], &test_routes[1], &test_routes[2], &test_routes[3] };
	pv_http_metrics *m;
	char *text, *p;
	size_t len;

	(void)state;
	assert_int_equal(pv_http_metrics_new(&m, flat, 4), 0);
	pv_http_metrics_observe(m, 0, 200, 300000);          /* 0.3 ms */
	pv_http_metrics_observe(m, 0, 200, 3000000);         /* 3 ms */
	pv_http_metrics_observe(m, 2, 403, 700000);
	pv_http_metrics_observe(m, 4, 404, 10000);           /* unmatched */
	pv_http_metrics_observe(m, 99, 599, 10000);          /* out of range: unmatched, "other" */
	pv_http_metrics_decision(m, PV_REASON_ALLOWED);
	pv_http_metrics_decision(m, PV_REASON_NO_GRANT);
	pv_http_metrics_decision(m, PV_REASON_NO_GRANT);
	pv_http_metrics_set_audit(m, 42);
	assert_int_equal(pv_http_metrics_render(m, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "# TYPE privault_http_requests_total counter\n"));
	assert_non_null(strstr(text, "privault_http_requests_total{method=\"GET\",route=\"/ping\",status=\"200\"} 2\n"));
	assert_non_null(strstr(text, "privault_http_requests_total{method=\"GET\",route=\"/v1/things/{id}/parts/{part}\","
				     "status=\"403\"} 1\n"));
	assert_non_null(strstr(text, "route=\"unmatched\",status=\"404\"} 1\n"));
	assert_non_null(strstr(text, "route=\"unmatched\",status=\"other\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE privault_http_request_duration_seconds histogram\n"));
	/* cumulative buckets: one at <= 0.5 ms, both at <= 5 ms, +Inf = count */
	assert_non_null(strstr(text, "privault_http_request_duration_seconds_bucket{method=\"GET\",route=\"/ping\","
				     "status=\"200\",le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(text, "privault_http_request_duration_seconds_bucket{method=\"GET\",route=\"/ping\","
				     "status=\"200\",le=\"0.005\"} 2\n"));
	assert_non_null(strstr(text, "privault_http_request_duration_seconds_bucket{method=\"GET\",route=\"/ping\","
				     "status=\"200\",le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(text, "privault_http_request_duration_seconds_count{method=\"GET\",route=\"/ping\","
				     "status=\"200\"} 2\n"));
	assert_non_null(strstr(text, "privault_http_request_duration_seconds_sum{method=\"GET\",route=\"/ping\","
				     "status=\"200\"} 0.003300000\n"));
	assert_non_null(strstr(text, "privault_access_decisions_total{decision=\"allow\",reason=\"allowed\"} 1\n"));
	assert_non_null(strstr(text, "privault_access_decisions_total{decision=\"deny\",reason=\"no_grant\"} 2\n"));
	assert_non_null(strstr(text, "privault_audit_entries 42\n"));
	/* every line is a comment or "name{labels} value" / "name value" */
	for (p = text; *p; p = strchr(p, '\n') + 1) {
		size_t l = strcspn(p, "\n");

		assert_true(p[0] == '#' || (p[0] >= 'a' && p[0] <= 'z'));
		assert_true(memchr(p, ' ', l) != NULL);
	}
	free(text);
	pv_http_metrics_free(m);
}

/* ---- OpenAPI ----------------------------------------------------------- */

static void test_openapi(void **state)
{
	json_t *doc = pv_http_openapi(test_tables), *op, *params, *schema, *resps;

	(void)state;
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	assert_non_null(json_object_get(json_object_get(doc, "info"), "title"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(json_object_get(doc,
			    "components"), "securitySchemes"), "bearer"), "scheme")), "bearer");
	assert_non_null(json_object_get(json_object_get(json_object_get(doc, "components"), "schemas"), "Problem"));
	assert_int_equal(json_object_size(json_object_get(doc, "paths")), 3);

	op = json_object_get(json_object_get(json_object_get(doc, "paths"), "/ping"), "get");
	assert_non_null(op);
	assert_int_equal(json_array_size(json_object_get(op, "security")), 0);
	assert_int_equal(json_array_size(json_object_get(op, "x-roles")), 0);
	assert_string_equal(json_string_value(json_object_get(op, "operationId")), "get_ping");

	op = json_object_get(json_object_get(json_object_get(doc, "paths"), "/v1/things"), "post");
	assert_non_null(op);
	assert_int_equal(json_array_size(json_object_get(op, "x-roles")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(op, "x-roles"), 0)), "admin");
	schema = json_object_get(json_object_get(json_object_get(json_object_get(op, "requestBody"), "content"),
						 "application/json"), "schema");
	assert_int_equal(json_is_false(json_object_get(schema, "additionalProperties")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(schema, "required"), 0)), "kind");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(schema, "properties"),
										"kind"), "maxLength")), 32);
	assert_int_equal(json_array_size(json_object_get(json_object_get(json_object_get(schema, "properties"),
									   "kind"), "enum")), 2);
	params = json_object_get(op, "parameters");
	assert_string_equal(json_string_value(json_object_get(json_array_get(params, 0), "name")), "X-Purpose");
	resps = json_object_get(op, "responses");
	assert_non_null(json_object_get(resps, "201"));
	assert_non_null(json_object_get(resps, "401"));
	assert_non_null(json_object_get(resps, "403"));
	assert_non_null(json_object_get(resps, "429"));
	assert_non_null(json_object_get(resps, "400"));
	assert_non_null(json_object_get(resps, "413"));
	assert_non_null(json_object_get(resps, "415"));
	assert_non_null(json_object_get(json_object_get(json_object_get(resps, "400"), "content"),
					"application/problem+json"));

	op = json_object_get(json_object_get(json_object_get(doc, "paths"), "/v1/things/{id}/parts/{part}"), "get");
	params = json_object_get(op, "parameters");
	assert_int_equal(json_array_size(params), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(params, 1), "name")), "part");
	assert_string_equal(json_string_value(json_object_get(json_array_get(params, 1), "in")), "path");
	assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(op, "responses"), "200"),
							"content"), "text/plain"));
	assert_non_null(json_object_get(json_object_get(op, "responses"), "404"));
	op = json_object_get(json_object_get(json_object_get(doc, "paths"), "/v1/things/{id}/parts/{part}"), "delete");
	assert_null(json_object_get(json_object_get(json_object_get(op, "responses"), "204"), "content"));
	json_decref(doc);
}

/* ---- addresses and keys ------------------------------------------------ */

static void test_truncate(void **state)
{
	struct sockaddr_in a4 = { 0 };
	struct sockaddr_in6 a6 = { 0 };
	char out[64];

	(void)state;
	a4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.77", &a4.sin_addr);
	pv_http_client_truncate(&a4, out, sizeof(out));
	assert_string_equal(out, "192.0.2.0/24");
	a6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2:3:4:5:6", &a6.sin6_addr);
	pv_http_client_truncate(&a6, out, sizeof(out));
	assert_string_equal(out, "2001:db8:1::/48");
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &a6.sin6_addr);
	pv_http_client_truncate(&a6, out, sizeof(out));
	assert_string_equal(out, "198.51.100.0/24");
	pv_http_client_truncate(NULL, out, sizeof(out));
	assert_string_equal(out, "-");
}

static void test_key_id(void **state)
{
	char id[PV_APIKEY_ID_LEN + 1];
	char good[PV_APIKEY_TEXT_LEN + 1];

	(void)state;
	snprintf(good, sizeof(good), "pvk_0123456789abcdef_%064d", 0);
	assert_int_equal(pv_http_key_id(good, id), 0);
	assert_string_equal(id, "0123456789abcdef");
	assert_int_equal(pv_http_key_id("pvk_0123456789abcdef_00", id), -1);
	assert_int_equal(pv_http_key_id(NULL, id), -1);
	good[4] = 'G';
	assert_int_equal(pv_http_key_id(good, id), -1);
	assert_null(pv_http_keyset_verify(NULL, good));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_precedence),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_config_diff),
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_openapi),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_key_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
