/*
 * Unit tests of src/logs: address parsing and Python-compatible formatting,
 * masks and presets, the anonip client rule, address lists, --all tokens,
 * JSON lines, malformed lines, pseudonyms with day keys, rotation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "privault/error.h"
#include "privault/logs.h"
#include "privault/time.h"

/* Anonymize one line with masks v4/v6 (and options), compare with `want` and the return code. */
static void check_opts(const pv_logs_options *o, const char *line, const char *want, int want_rc)
{
	pv_logs_anon *a = NULL;
	const char *out;
	size_t n;
	int rc;

	assert_int_equal(pv_logs_anon_new(&a, o), 0);
	rc = pv_logs_anon_line(a, line, strlen(line), &out, &n);
	if (n != strlen(want) || memcmp(out, want, n) != 0)
		fail_msg("line '%s': got '%.*s', want '%s'", line, (int)n, out, want);
	assert_int_equal(rc, want_rc);
	pv_logs_anon_free(a);
}

static void check(unsigned v4, unsigned v6, const char *line, const char *want, int want_rc)
{
	pv_logs_options o;

	pv_logs_options_init(&o);
	o.v4_bits = v4;
	o.v6_bits = v6;
	check_opts(&o, line, want, want_rc);
}

static void test_ipv4(void **state)
{
	(void)state;
	check(12, 84, "192.168.100.200 - -", "192.168.96.0 - -", 1);
	check(8, 84, "192.168.100.200 x", "192.168.100.0 x", 1);
	check(16, 84, "192.168.100.200 x", "192.168.0.0 x", 1);
	check(32, 84, "192.168.100.200 x", "0.0.0.0 x", 1);
	check(1, 84, "1.2.3.5 x", "1.2.3.4 x", 1);
	check(12, 84, "1.2.3.4:8080 x", "1.2.0.0:8080 x", 1);
	check(12, 84, "01.2.3.4 x", "01.2.3.4 x", 2);       /* Python refuses leading zeros */
	check(12, 84, "256.1.1.1 x", "256.1.1.1 x", 2);
	check(12, 84, "1.2.3 x", "1.2.3 x", 2);
	check(12, 84, "1.2.3.4.5 x", "1.2.3.4.5 x", 2);
}

static void test_ipv6(void **state)
{
	(void)state;
	/* full and compressed notation read; Python's compressed form written */
	check(12, 84, "2001:0db8:85a3:0000:0000:8a2e:0370:7334 x", "2001:db8:85a0:: x", 1);
	check(12, 80, "2001:db8:85a3::8a2e:370:7334 x", "2001:db8:85a3:: x", 1);
	check(12, 64, "2001:db8:0:0:1:0:0:1 x", "2001:db8:: x", 1);
	check(12, 1, "1:0:0:1:0:0:0:1 x", "1:0:0:1:: x", 1);           /* longest zero run */
	check(12, 1, "1:0:0:0:1:0:0:1 x", "1::1:0:0:0 x", 1);            /* first of equal runs */
	check(12, 1, "1:0:1:1:1:1:1:1 x", "1:0:1:1:1:1:1:0 x", 1);       /* one zero: no "::" */
	check(12, 84, "2001:DB8::1 x", "2001:db8:: x", 1);
	check(12, 84, "[2001:db8::1]:443 x", "[2001:db8::]:443 x", 1);
	check(12, 84, "[2001:db8::1] x", "[2001:db8::] x", 1);
	check(12, 84, "fe80::1%eth0 x", "fe80:: x", 1);
	check(12, 8, "::ffff:1.2.3.4 x", "::ffff:102:300 x", 1);         /* anonip: mapped is IPv6 */
	check(12, 84, "1:::2 x", "1:::2 x", 2);
	check(12, 84, "1::2::3 x", "1::2::3 x", 2);
	check(12, 84, "1:2:3:4:5:6:7:8:9 x", "1:2:3:4:5:6:7:8:9 x", 2);
	check(12, 84, "12345:: x", "12345:: x", 2);
	check(12, 84, "[1.2.3.4] x", "[1.2.3.4] x", 2);                  /* Python: no IPv4 in brackets */
}

static void test_mapped_and_presets(void **state)
{
	pv_logs_options o;

	(void)state;
	pv_logs_options_init(&o);
	assert_int_equal(pv_logs_preset(&o, "ga"), 0);
	assert_int_equal(o.v4_bits, 8);
	assert_int_equal(o.v6_bits, 80);
	assert_int_equal(pv_logs_preset(&o, "matomo3"), 0);
	assert_int_equal(o.v4_bits, 24);
	assert_int_equal(o.v6_bits, 104);
	assert_int_equal(pv_logs_preset(&o, "nope"), PV_EINVAL);
	pv_logs_preset(&o, "ga");
	o.mapped_as_v4 = 1;
	check_opts(&o, "::ffff:1.2.3.4 x", "::ffff:1.2.3.0 x", 1);
	check_opts(&o, "[::ffff:1.2.3.4]:80 x", "[::ffff:1.2.3.0]:80 x", 1);

	pv_logs_anon *a = NULL;

	o.v4_bits = 0;
	assert_int_equal(pv_logs_anon_new(&a, &o), PV_EINVAL);
	o.v4_bits = 8;
	o.v6_bits = 129;
	assert_int_equal(pv_logs_anon_new(&a, &o), PV_EINVAL);
	assert_null(a);
}

static void test_fields(void **state)
{
	pv_logs_options o;

	(void)state;
	check(12, 84, "1.2.3.4 - - [x] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua \\\" 9.9.9.9\" \"5.6.7.8, 10.0.0.1:80\"",
	      "1.2.0.0 - - [x] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua \\\" 9.9.9.9\" \"5.6.0.0, 10.0.0.0:80\"", 1);
	check(12, 84, "1.2.3.4 \"5.6.7.8 junk\"", "1.2.0.0 \"5.6.7.8 junk\"", 1);   /* not a list */
	check(12, 84, "-  \"5.6.7.8\"", "-  \"5.6.7.8\"", 2);                          /* malformed: unchanged */
	check(12, 84, "", "", 0);
	check(12, 84, "   ", "   ", 0);
	check(12, 84, "1.2.3.4\r", "1.2.0.0\r", 1);
	pv_logs_options_init(&o);
	o.everywhere = 1;
	check_opts(&o, "1.2.3.4 GET /a?ip=11.2.3.45&x=1.2.3.4.5 via 2001:db8::1, ab1.2.3.4",
		   "1.2.0.0 GET /a?ip=11.2.0.0&x=1.2.3.4.5 via 2001:db8::, ab1.2.3.4", 1);
	check_opts(&o, "garbage 8.8.8.8.", "garbage 8.8.0.0.", 2);
	check_opts(&o, "t 12:30:45 1.2.3.4:80 [::1]:9", "t 12:30:45 1.2.0.0:80 [::]:9", 2);
}

static void test_json(void **state)
{
	pv_logs_options o;
	const char *keys[] = { "peer" };

	(void)state;
	check(12, 84, "{\"remote_addr\": \"1.2.3.4\", \"x_forwarded_for\": \"5.6.7.8, [2001:db8::1]:443\", \"n\": 1}",
	      "{\"remote_addr\": \"1.2.0.0\", \"x_forwarded_for\": \"5.6.0.0, [2001:db8::]:443\", \"n\": 1}", 1);
	check(12, 84, "{\"request\":{\"client_ip\":\"1.2.3.4\",\"headers\":{\"X-Forwarded-For\":[\"9.9.9.9\"]}}}",
	      "{\"request\":{\"client_ip\":\"1.2.0.0\",\"headers\":{\"X-Forwarded-For\":[\"9.9.0.0\"]}}}", 1);
	check(12, 84, "{\"remote_addr\":\"1.2.3.4\"", "{\"remote_addr\":\"1.2.3.4\"", 2);
	check(12, 84, "{\"msg\":\"1.2.3.4\"}", "{\"msg\":\"1.2.3.4\"}", 2);   /* no client key */
	check(12, 84, "{\"ip\":\"nope\"}", "{\"ip\":\"nope\"}", 2);
	pv_logs_options_init(&o);
	o.json_keys = keys;
	o.njson_keys = 1;
	check_opts(&o, "{\"peer\":\"1.2.3.4\"}", "{\"peer\":\"1.2.0.0\"}", 1);
}

static char *tmpdir(void)
{
	char *d = strdup("/tmp/pv-logs-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void anon_one(const char *dir, const char *line, char *out, size_t cap)
{
	pv_logs_options o;
	pv_logs_anon *a;
	const char *r;
	size_t n;

	pv_logs_options_init(&o);
	o.key_dir = dir;
	assert_int_equal(pv_logs_anon_new(&a, &o), 0);
	assert_true(pv_logs_anon_line(a, line, strlen(line), &r, &n) == 1);
	assert_true(n < cap);
	memcpy(out, r, n);
	out[n] = '\0';
	pv_logs_anon_free(a);
}

static void test_pseudonyms(void **state)
{
	char *d = tmpdir(), p1[64], p2[64], p3[64], p4[64], path[256];
	pv_time t;
	struct stat sb;

	(void)state;
	assert_int_equal(pv_time_parse(&t, "2024-03-01T08:00:00Z"), 0);
	pv_clock_set(t);
	anon_one(d, "1.2.3.4 x", p1, sizeof(p1));
	anon_one(d, "1.2.3.4 x", p2, sizeof(p2));
	anon_one(d, "1.2.3.5 x", p3, sizeof(p3));
	assert_string_equal(p1, p2);
	assert_string_not_equal(p1, "1.2.0.0 x");
	assert_memory_equal(p1, "1.2.", 4);
	snprintf(path, sizeof(path), "%s/2024-03-01.key", d);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(pv_time_parse(&t, "2024-03-02T00:00:00Z"), 0);
	pv_clock_set(t);
	anon_one(d, "1.2.3.4 x", p4, sizeof(p4));
	assert_int_not_equal(stat(path, &sb), 0);      /* yesterday's key is gone */
	assert_string_not_equal(p1, p4);
	pv_clock_reset();
	snprintf(path, sizeof(path), "rm -rf '%s'", d);
	assert_int_equal(system(path), 0);
	free(d);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_rotate(void **state)
{
	char *d = tmpdir(), log[256], cmd[300];
	pv_logs_rotate_options o;
	pv_logs_rotate_result r;
	pv_time t;

	(void)state;
	snprintf(log, sizeof(log), "%s/access.log", d);
	assert_int_equal(pv_time_parse(&t, "2024-01-01T00:00:00Z"), 0);
	pv_clock_set(t);
	write_file(log, "a\n");
	pv_logs_rotate_options_init(&o);
	o.compress = 0;
	o.max_size = 10;
	assert_int_equal(pv_logs_rotate(log, &o, &r), 0);
	assert_int_equal(r.rotated, 0);
	write_file(log, "0123456789\n");
	assert_int_equal(pv_logs_rotate(log, &o, &r), 0);
	assert_int_equal(r.rotated, 1);
	assert_string_equal(r.reason, "size");
	assert_int_equal(r.bytes, 13);
	assert_int_equal(r.kept, 1);
	/* retention: 2 days after the segment's start, the rotated file goes */
	o.max_size = 0;
	o.has_retention = 1;
	assert_int_equal(pv_duration_parse(&o.retention, "2 days"), 0);
	assert_int_equal(pv_logs_rotate(log, &o, &r), 0);
	assert_int_equal(r.deleted, 0);
	assert_int_equal(pv_time_parse(&t, "2024-01-03T00:00:00Z"), 0);
	pv_clock_set(t);
	assert_int_equal(pv_logs_rotate(log, &o, &r), 0);
	assert_int_equal(r.deleted, 1);
	assert_int_equal(r.kept, 0);
	o.mode = 7;
	assert_int_equal(pv_logs_rotate(log, &o, &r), PV_EINVAL);
	pv_clock_reset();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_mapped_and_presets),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_pseudonyms),
		cmocka_unit_test(test_rotate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
