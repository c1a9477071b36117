/*
 * Unit tests of the bulk import (include/privault/import.h): JSON lines and
 * CSV parsing (quotes, embedded newlines, BOM, CRLF), every malformed case
 * with its line number and field, batch atomicity, and --check writing nothing.
 * Each test works on a fresh vault in a temporary directory with the
 * iXsystems example policy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privault/consent.h"
#include "privault/error.h"
#include "privault/import.h"
#include "privault/vault.h"

#define POLICY PV_SOURCE_ROOT "/examples/policies/ixsystems-2020.yaml"

static const pv_caller admin = { "import-test", PV_ROLE_ADMIN, NULL, 0 };

typedef struct {
	char dir[256];
	pv_vault *v;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char vdir[300];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/pv-import-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(vdir, sizeof(vdir), "%s/v", f->dir);
	assert_int_equal(pv_vault_init(vdir, POLICY, NULL), 0);
	assert_int_equal(pv_vault_open(&f->v, vdir, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char cmd[400];

	pv_vault_close(f->v);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

static int import_text(pv_vault *v, const char *format, const char *text, size_t batch, int check,
		       pv_import_result *r)
{
	pv_import_options o;

	pv_import_options_init(&o);
	o.format = format;
	o.batch_size = batch;
	o.check_only = check;
	return pv_import_buffer(v, &admin, text, strlen(text), &o, r);
}

static pv_vault_stats stats(pv_vault *v)
{
	pv_vault_stats st;

	assert_int_equal(pv_vault_stats_get(v, &st), 0);
	return st;
}

/* The data of the one record `kind`=`value` holds for `purpose`, as a malloc'd string. */
static char *read_one(pv_vault *v, const char *kind, const char *value, const char *purpose, size_t *count)
{
	char id[PV_ID_LEN + 1], *out;
	pv_record_list *l = NULL;

	assert_int_equal(pv_subject_find(v, &admin, kind, value, id), 0);
	/* the policy's purposes are consent-based under GDPR: reading needs a grant in force */
	assert_int_equal(pv_consent_record_one(v, &admin, id, purpose, PV_CONSENT_GRANTED, NULL, NULL), 0);
	assert_int_equal(pv_record_read(v, &admin, id, purpose, NULL, &l, NULL), 0);
	*count = pv_record_list_count(l);
	assert_true(*count >= 1);
	out = strdup(pv_record_list_at(l, 0)->data);
	pv_record_list_free(l);
	return out;
}

/* BOM, CRLF line ends, a blank line, one subject found again by its first identifier. */
static void test_jsonl_basic(void **state)
{
	fixture *f = *state;
	pv_import_result r;
	size_t n;
	char *data;
	const char *text =
		"\xef\xbb\xbf"
		"{\"subject\":{\"identifiers\":{\"email\":\"Ann@Example.com\",\"phone\":\"+1 415 555 0100\"},"
		"\"regime\":\"gdpr\",\"birth_year\":1990},\"category\":\"identifiers\","
		"\"purpose\":\"account_management\",\"source\":\"direct\",\"data\":{\"name\":\"Ann \\u00e9\",\"n\":[1,2]}}\r\n"
		"\r\n"
		"{\"subject\":{\"identifiers\":{\"email\":\"ann@example.com\"}},\"category\":\"commercial\","
		"\"purpose\":\"transactions\",\"source\":\"direct\",\"data\":{\"order\":\"A-1\"}}\r\n"
		"{\"subject\":{\"identifiers\":{\"email\":\"bob@example.com\"}},\"category\":\"identifiers\","
		"\"purpose\":\"account_management\",\"source\":\"direct\",\"data\":{\"name\":\"Bob\"}}";

	assert_int_equal(import_text(f->v, "jsonl", text, 0, 0, &r), 0);
	assert_int_equal(r.lines, 4);
	assert_int_equal(r.rows, 3);
	assert_int_equal(r.records, 3);
	assert_int_equal(r.subjects_created, 2);
	assert_int_equal(r.batches_committed, 1);
	assert_int_equal(r.bad_line, 0);
	assert_int_equal(stats(f->v).records, 3);
	assert_int_equal(stats(f->v).subjects, 2);

	data = read_one(f->v, "email", "ann@example.com", "account_management", &n);
	assert_string_equal(data, "{\"name\":\"Ann \xc3\xa9\",\"n\":[1,2]}");
	free(data);
	data = read_one(f->v, "phone", "+14155550100", "transactions", &n);
	assert_int_equal(n, 2);   /* identifiers and commercial, both covered by transactions */
	free(data);
}

/* RFC 4180: quotes, doubled quotes, embedded commas and newlines, CRLF, BOM, trailing newline. */
static void test_csv_quotes(void **state)
{
	fixture *f = *state;
	pv_import_result r;
	size_t n;
	char *data;
	const char *text =
		"\xef\xbb\xbf"
		"id.email,regime,birth_year,category,purpose,source,name,note\r\n"
		"carol@example.com,ccpa,1980,identifiers,account_management,direct,\"Carol, C.\",\"said \"\"hi\"\"\r\nthen left\"\r\n"
		"\r\n"
		"dave@example.com,,,identifiers,account_management,direct,Dave,\"\"\r\n";

	assert_int_equal(import_text(f->v, "csv", text, 0, 0, &r), 0);
	assert_int_equal(r.rows, 2);
	assert_int_equal(r.records, 2);
	assert_int_equal(r.lines, 5);
	assert_int_equal(r.subjects_created, 2);
	data = read_one(f->v, "email", "carol@example.com", "account_management", &n);
	assert_string_equal(data, "{\"name\":\"Carol, C.\",\"note\":\"said \\\"hi\\\"\\r\\nthen left\"}");
	free(data);
	data = read_one(f->v, "email", "dave@example.com", "account_management", &n);
	assert_string_equal(data, "{\"name\":\"Dave\",\"note\":\"\"}");
	free(data);
}

typedef struct {
	const char *format;
	const char *text;
	int code;
	size_t line;
	const char *field;
} bad_case;

#define ROW(cat, pur, data) \
	"{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"}},\"category\":\"" cat "\",\"purpose\":\"" \
	pur "\",\"source\":\"direct\",\"data\":" data "}\n"
#define GOOD ROW("identifiers", "account_management", "{\"a\":\"secretvalue\"}")
#define CSVH "id.email,category,purpose,source,name\n"
#define CSVGOOD "y@example.com,identifiers,account_management,direct,Y\n"

/* Every malformed case: its code, line and field; the message names line and field, never the value. */
static void test_malformed(void **state)
{
	fixture *f = *state;
	static const bad_case cases[] = {
		{ "jsonl", GOOD "{\"subject\": secretvalue}\n", PV_EINVAL, 2, "" },
		{ "jsonl", GOOD "[1,2]\n", PV_EINVAL, 2, "" },
		{ "jsonl", GOOD GOOD ROW("secretvalue", "account_management", "{}"), PV_EINVAL, 3, "category" },
		{ "jsonl", ROW("biometric", "account_management", "{}"), PV_EINVAL, 1, "category" },   /* collected: false */
		{ "jsonl", ROW("identifiers", "secretvalue", "{}"), PV_EINVAL, 1, "purpose" },
		{ "jsonl", ROW("internet_activity", "account_management", "{}"), PV_EINVAL, 1, "purpose" },
		{ "jsonl", ROW("identifiers", "account_management", "\"secretvalue\""), PV_EINVAL, 1, "data" },
		{ "jsonl", "{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"}},\"category\":\"identifiers\","
			   "\"purpose\":\"account_management\"}\n", PV_EINVAL, 1, "data" },
		{ "jsonl", "{\"subject\":{\"identifiers\":{\"email\":\"secretvalue\"}},\"category\":\"identifiers\","
			   "\"purpose\":\"account_management\",\"data\":{}}\n", PV_EINVAL, 1, "subject.identifiers.email" },
		{ "jsonl", "{\"subject_id\":\"secretvalue\",\"category\":\"identifiers\","
			   "\"purpose\":\"account_management\",\"data\":{}}\n", PV_EINVAL, 1, "subject_id" },
		{ "jsonl", "{\"category\":\"identifiers\",\"purpose\":\"account_management\",\"data\":{}}\n",
		  PV_EINVAL, 1, "subject" },
		{ "jsonl", GOOD "{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"}},\"colour\":1}\n",
		  PV_EINVAL, 2, "colour" },
		{ "jsonl", ROW("identifiers", "account_management", "{\"a\":\"\xff secretvalue\"}"), PV_EINVAL, 1, "" },
		{ "jsonl", "{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"},\"regime\":\"mars\"},"
			   "\"category\":\"identifiers\",\"purpose\":\"account_management\",\"data\":{}}\n",
		  PV_EINVAL, 1, "regime" },
		{ "jsonl", "{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"},\"regime\":\"lgpd\"},"
			   "\"category\":\"identifiers\",\"purpose\":\"account_management\",\"data\":{}}\n",
		  PV_EINVAL, 1, "regime" },
		{ "jsonl", "{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"},\"birth_year\":1066},"
			   "\"category\":\"identifiers\",\"purpose\":\"account_management\",\"data\":{}}\n",
		  PV_EINVAL, 1, "birth_year" },
		{ "jsonl", ROW("identifiers", "account_management", "{}") ROW("identifiers", "account_management", "{}")
			   "{\"subject\":{\"identifiers\":{\"email\":\"x@example.com\"}},\"subject\":{}}\n",
		  PV_EINVAL, 3, "" },
		{ "csv", CSVH CSVGOOD "z@example.com,identifiers,account_management\n", PV_EINVAL, 3, "source" },
		{ "csv", CSVH CSVGOOD "z@example.com,identifiers,account_management,direct,Z,secretvalue\n",
		  PV_EINVAL, 3, "" },
		{ "csv", CSVH CSVGOOD "z@example.com,identifiers,account_management,direct,\"secretvalue\n",
		  PV_EINVAL, 3, "" },
		{ "csv", CSVH "z@example.com,identifiers,account_management,direct,se\"cretvalue\n", PV_EINVAL, 2, "" },
		{ "csv", CSVH CSVGOOD CSVGOOD "z@example.com,identifiers,account_management,direct,\xc3\x28secretvalue\n",
		  PV_EINVAL, 4, "name" },
		{ "csv", CSVH "z@example.com,secretvalue,account_management,direct,Z\n", PV_EINVAL, 2, "category" },
		{ "csv", "id.email,purpose,name\nz@example.com,account_management,Z\n", PV_EINVAL, 1, "category" },
		{ "csv", "name,category,purpose\nZ,identifiers,account_management\n", PV_EINVAL, 1, "subject_id" },
		{ "csv", "id.email,category,purpose,name,name\n", PV_EINVAL, 1, "name" },
		{ "csv", "id.Email!,category,purpose\n", PV_EINVAL, 1, "column 1" },
		{ "csv", "id.email,category,purpose,birth_year\nz@example.com,identifiers,account_management,19x0\n",
		  PV_EINVAL, 2, "birth_year" },
		{ "csv", "subject_id,id.email,category,purpose\n,,identifiers,account_management\n", PV_EINVAL, 2,
		  "subject_id" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pv_import_result r;
		char want[64];
		int rc = import_text(f->v, cases[i].format, cases[i].text, 0, 1, &r);

		printf("case %zu: %s\n", i, pv_error_last());
		assert_int_equal(rc, cases[i].code);
		assert_int_equal(r.bad_line, cases[i].line);
		assert_string_equal(r.bad_field, cases[i].field);
		snprintf(want, sizeof(want), "line %zu: ", cases[i].line);
		assert_non_null(strstr(pv_error_last(), want));
		if (cases[i].field[0] != '\0') {
			snprintf(want, sizeof(want), "field \"%s\"", cases[i].field);
			assert_non_null(strstr(pv_error_last(), want));
		}
		assert_null(strstr(pv_error_last(), "secretvalue"));
		assert_null(strstr(pv_error_last(), "x@example"));
	}
	assert_int_equal(stats(f->v).records, 0);
}

/* A line longer than PV_IMPORT_MAX_LINE: PV_ELIMIT at its line, and the import stops there. */
static void test_line_too_long(void **state)
{
	fixture *f = *state;
	size_t big = 1024 * 1024 + 10;
	char *text = malloc(big + 200);
	pv_import_result r;

	assert_non_null(text);
	strcpy(text, GOOD);
	memset(text + strlen(GOOD), 'a', big);
	text[strlen(GOOD) + big] = '\0';
	assert_int_equal(import_text(f->v, "jsonl", text, 0, 0, &r), PV_ELIMIT);
	assert_int_equal(r.bad_line, 2);
	assert_int_equal(r.records, 0);
	assert_int_equal(stats(f->v).records, 0);
	free(text);
}

/* Build n JSON lines, each a new subject; line `bad` (1-based) replaced by `bad_text`. */
static char *lines(size_t n, size_t bad, const char *bad_text)
{
	size_t cap = n * 256 + 512, len = 0;
	char *t = malloc(cap);

	assert_non_null(t);
	for (size_t i = 1; i <= n; i++) {
		if (i == bad)
			len += (size_t)snprintf(t + len, cap - len, "%s\n", bad_text);
		else
			len += (size_t)snprintf(t + len, cap - len,
				"{\"subject\":{\"identifiers\":{\"email\":\"u%zu@example.com\"}},\"category\":\"identifiers\","
				"\"purpose\":\"account_management\",\"source\":\"direct\",\"data\":{\"i\":%zu}}\n", i, i);
	}
	return t;
}

/* A malformed line in batch 3: batches 1 and 2 are committed, nothing of batch 3. */
static void test_batch_atomic_parse(void **state)
{
	fixture *f = *state;
	pv_import_result r;
	char *t = lines(35, 27, "{\"subject\":{\"identifiers\":{\"email\":\"q@example.com\"}},\"category\":\"nope\","
			"\"purpose\":\"account_management\",\"data\":{}}");

	assert_int_equal(import_text(f->v, "jsonl", t, 10, 0, &r), PV_EINVAL);
	assert_int_equal(r.batches_committed, 2);
	assert_int_equal(r.records, 20);
	assert_int_equal(r.subjects_created, 20);
	assert_int_equal(r.bad_line, 27);
	assert_string_equal(r.bad_field, "category");
	assert_int_equal(stats(f->v).records, 20);
	assert_int_equal(stats(f->v).subjects, 20);
	free(t);
}

/* A row that parses but fails to write (unknown subject id) in batch 3: the whole batch rolls back,
 * including the subjects its earlier rows created. */
static void test_batch_atomic_write(void **state)
{
	fixture *f = *state;
	pv_import_result r;
	pv_vault_stats before, after;
	char id[PV_ID_LEN + 1];
	char *t = lines(30, 25, "{\"subject_id\":\"00000000-0000-4000-8000-000000000000\",\"category\":\"identifiers\","
			"\"purpose\":\"account_management\",\"source\":\"direct\",\"data\":{}}");

	before = stats(f->v);
	assert_int_not_equal(import_text(f->v, "jsonl", t, 10, 0, &r), 0);
	after = stats(f->v);
	assert_int_equal(r.batches_committed, 2);
	assert_int_equal(r.records, 20);
	assert_int_equal(r.bad_line, 25);
	assert_string_equal(r.bad_field, "subject_id");
	assert_non_null(strstr(pv_error_last(), "line 25"));
	assert_int_equal(after.records - before.records, 20);
	assert_int_equal(after.subjects - before.subjects, 20);
	/* u21 was created by batch 3 before the bad row: rolled back with it */
	assert_int_equal(pv_subject_find(f->v, &admin, "email", "u21@example.com", id), PV_ENOTFOUND);
	assert_int_equal(pv_subject_find(f->v, &admin, "email", "u20@example.com", id), 0);
	free(t);
}

/* --check validates everything and writes nothing, not even an audit entry. */
static void test_check_writes_nothing(void **state)
{
	fixture *f = *state;
	pv_import_result r;
	pv_vault_stats before, after;
	char *t = lines(50, 0, "");

	before = stats(f->v);
	assert_int_equal(import_text(f->v, "jsonl", t, 7, 1, &r), 0);
	after = stats(f->v);
	assert_int_equal(r.rows, 50);
	assert_int_equal(r.records, 0);
	assert_int_equal(r.batches_committed, 0);
	assert_int_equal(after.records, before.records);
	assert_int_equal(after.subjects, before.subjects);
	assert_int_equal(after.audit_entries, before.audit_entries);
	free(t);
}

/* Without a vault: check_only against a policy (what the fuzz target does). */
static void test_no_vault(void **state)
{
	pv_policy *p = NULL;
	pv_import_options o;
	pv_import_result r;
	const char *csv = CSVH CSVGOOD;

	(void)state;
	assert_int_equal(pv_policy_load_file(&p, POLICY, NULL), 0);
	pv_import_options_init(&o);
	o.format = "csv";
	o.check_only = 1;
	o.policy = p;
	assert_int_equal(pv_import_buffer(NULL, NULL, csv, strlen(csv), &o, &r), 0);
	assert_int_equal(r.rows, 1);
	o.check_only = 0;
	assert_int_equal(pv_import_buffer(NULL, NULL, csv, strlen(csv), &o, &r), PV_EINVAL);
	o.check_only = 1;
	o.format = "xml";
	assert_int_equal(pv_import_buffer(NULL, NULL, csv, strlen(csv), &o, &r), PV_EINVAL);
	o.format = "csv";
	o.batch_size = 100001;
	assert_int_equal(pv_import_buffer(NULL, NULL, csv, strlen(csv), &o, &r), PV_ELIMIT);
	pv_policy_free(p);
}

/* pv_import_file: format by extension, and a missing file is PV_EIO. */
static void test_file(void **state)
{
	fixture *f = *state;
	pv_import_result r;
	char path[400];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/in.CSV", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(CSVH CSVGOOD, fp);
	fclose(fp);
	assert_int_equal(pv_import_file(f->v, &admin, path, NULL, &r), 0);
	assert_int_equal(r.records, 1);
	snprintf(path, sizeof(path), "%s/missing.jsonl", f->dir);
	assert_int_equal(pv_import_file(f->v, &admin, path, NULL, &r), PV_EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_jsonl_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_quotes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_atomic_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_writes_nothing, setup, teardown),
		cmocka_unit_test(test_no_vault),
		cmocka_unit_test_setup_teardown(test_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
