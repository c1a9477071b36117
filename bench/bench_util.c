/*
 * Helpers shared by the benchmarks: clock, scratch directories, rows and the
 * plaintext SQLite baseline. See bench_util.h.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bench_util.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "privault/error.h"

#ifndef PV_SOURCE_ROOT
#define PV_SOURCE_ROOT "."
#endif

uint64_t pv_bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void pv_bench_die(const char *what, int rc)
{
	fprintf(stderr, "bench: %s failed: %s (%d): %s\n", what, pv_error_name(rc), rc, pv_error_last());
	exit(1);
}

void pv_bench_tmpdir(char *out, size_t size, const char *tag)
{
	const char *base = getenv("PRIVAULT_BENCH_DIR");
	int n;

	if (base == NULL || base[0] == '\0')
		base = getenv("TMPDIR");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	n = snprintf(out, size, "%s/privault-bench-%s-XXXXXX", base, tag);
	if (n < 0 || (size_t)n >= size || mkdtemp(out) == NULL) {
		fprintf(stderr, "bench: cannot create a scratch directory under %s: %s\n", base, strerror(errno));
		exit(1);
	}
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void pv_bench_rmtree(const char *dir)
{
	const char *keep = getenv("PRIVAULT_BENCH_KEEP");

	if (keep != NULL && strcmp(keep, "1") == 0) {
		fprintf(stderr, "bench: kept %s\n", dir);
		return;
	}
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *pv_bench_policy_path(void)
{
	const char *p = getenv("PRIVAULT_BENCH_POLICY");

	return p != NULL && p[0] != '\0' ? p : PV_SOURCE_ROOT "/bench/bench-policy.yaml";
}

pv_vault *pv_bench_vault_new(const char *dir)
{
	pv_vault *v = NULL;
	/* PRIVAULT_BENCH_STORE: an empty store to put the vault in instead (scripts/bench_pg.sh) */
	const char *store = getenv("PRIVAULT_BENCH_STORE");
	pv_vault_options opts = { .store = store };
	const pv_vault_options *o = store != NULL && store[0] != '\0' ? &opts : NULL;
	int rc;

	/* A fresh vault of its own: neither the environment's keys nor its store. */
	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	rc = pv_vault_init(dir, pv_bench_policy_path(), o);
	if (rc != 0)
		pv_bench_die("pv_vault_init", rc);
	rc = pv_vault_open(&v, dir, o);
	if (rc != 0)
		pv_bench_die("pv_vault_open", rc);
	return v;
}

static const pv_grant service_grants[] = {
	{ "account", NULL, 0 },
	{ "order_fulfilment", NULL, 0 },
};
static const pv_caller service = { "bench-service", PV_ROLE_SERVICE, service_grants, 2 };

const pv_caller *pv_bench_service(void)
{
	return &service;
}

static const char *const first_names[] = { "Alex", "Maria", "Jonas", "Aiko", "Omar", "Lena", "Priya", "Tom" };
static const char *const cities[] = { "Berlin", "Lisbon", "San Jose", "Dublin", "Osaka", "Austin", "Lyon", "Porto" };

/* Fill out->data with a ~200-byte JSON object that depends on i and the category. */
static void row_data(pv_bench_row *out, uint64_t i)
{
	uint64_t s = i / PV_BENCH_RECORDS_PER_SUBJECT;
	const char *name = first_names[s % 8];
	const char *city = cities[(s / 8) % 8];
	int n;

	if (strcmp(out->category, "identifiers") == 0)
		n = snprintf(out->data, sizeof(out->data),
			     "{\"name\":\"%s Example-%07" PRIu64 "\",\"email\":\"user%07" PRIu64 "@example.com\","
			     "\"login\":\"user%07" PRIu64 "\",\"customer_no\":\"C-%09" PRIu64 "\","
			     "\"ip\":\"10.%u.%u.%u\",\"seen\":\"2024-03-%02uT10:15:00Z\",\"locale\":\"de-DE\","
			     "\"ua\":\"Mozilla/5.0 (X11; Linux x86_64)\"}",
			     name, s, s, s, i, (unsigned)(i >> 16 & 255), (unsigned)(i >> 8 & 255),
			     (unsigned)(i & 255), (unsigned)(i % 28 + 1));
	else if (strcmp(out->category, "contact") == 0)
		n = snprintf(out->data, sizeof(out->data),
			     "{\"street\":\"%" PRIu64 " Example Street\",\"city\":\"%s\",\"postcode\":\"%05" PRIu64 "\","
			     "\"country\":\"DE\",\"phone\":\"+49151%08" PRIu64 "\",\"preferred\":\"email\","
			     "\"record\":%" PRIu64 ",\"verified\":\"2024-03-01\",\"mobile\":\"+49170%08" PRIu64 "\","
			     "\"floor\":\"3rd\"}",
			     s % 300 + 1, city, (s * 7919) % 100000, s, i, s);
	else
		n = snprintf(out->data, sizeof(out->data),
			     "{\"order\":\"ORD-%010" PRIu64 "\",\"items\":[{\"sku\":\"SKU-%05" PRIu64 "\",\"qty\":%u},"
			     "{\"sku\":\"SKU-%05" PRIu64 "\",\"qty\":1}],\"amount\":%" PRIu64 ".%02u,"
			     "\"currency\":\"EUR\",\"paid\":true,\"method\":\"card\",\"shipped\":\"2024-03-%02u\","
			     "\"carrier\":\"DHL\"}",
			     i, i % 50000, (unsigned)(i % 5 + 1), (i * 31) % 50000, i % 500 + 5, (unsigned)(i % 100),
			     (unsigned)(i % 28 + 1));
	out->len = n > 0 && (size_t)n < sizeof(out->data) ? (size_t)n : strlen(out->data);
}

void pv_bench_row_make(pv_bench_row *out, uint64_t i)
{
	unsigned k = (unsigned)(i % PV_BENCH_RECORDS_PER_SUBJECT);

	if (k < 4) {
		out->category = "identifiers";
		out->purpose = "account";
		out->source = "direct";
	} else if (k < 7) {
		out->category = "contact";
		out->purpose = "account";
		out->source = "direct";
	} else {
		out->category = "commercial";
		out->purpose = "order_fulfilment";
		out->source = "partner";
	}
	row_data(out, i);
}

void pv_bench_row_make_for(pv_bench_row *out, uint64_t i, const char *category, const char *purpose,
			   const char *source)
{
	out->category = category;
	out->purpose = purpose;
	out->source = source;
	row_data(out, i);
}

void pv_bench_email(char *out, size_t size, uint64_t s)
{
	snprintf(out, size, "user%07" PRIu64 "@example.com", s);
}

/* ---- plaintext SQLite baseline ---------------------------------------- */

static void sq_check(pv_bench_sqlite *b, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
		fprintf(stderr, "bench: sqlite %s: %s\n", what, sqlite3_errmsg(b->db));
		exit(1);
	}
}

static sqlite3_stmt *sq_prepare(pv_bench_sqlite *b, const char *sql)
{
	sqlite3_stmt *st = NULL;

	sq_check(b, sqlite3_prepare_v2(b->db, sql, -1, &st, NULL), sql);
	return st;
}

static void sq_step(pv_bench_sqlite *b, sqlite3_stmt *st, const char *what)
{
	sq_check(b, sqlite3_step(st), what);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

void pv_bench_sqlite_open(pv_bench_sqlite *out, const char *path)
{
	static const char schema[] =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=FULL;"
		"CREATE TABLE subjects (id TEXT PRIMARY KEY, email TEXT UNIQUE, regime TEXT NOT NULL,"
		" created_at BIGINT NOT NULL);"
		"CREATE TABLE records (subject_id TEXT NOT NULL, id TEXT NOT NULL, category TEXT NOT NULL,"
		" purpose TEXT NOT NULL, source TEXT NOT NULL, collected_at BIGINT NOT NULL, data TEXT NOT NULL,"
		" PRIMARY KEY (subject_id, id));"
		"CREATE INDEX records_subject_category ON records (subject_id, category, collected_at);";

	memset(out, 0, sizeof(*out));
	if (sqlite3_open(path, &out->db) != SQLITE_OK) {
		fprintf(stderr, "bench: cannot open %s\n", path);
		exit(1);
	}
	sq_check(out, sqlite3_exec(out->db, schema, NULL, NULL, NULL), "schema");
	out->ins_subject = sq_prepare(out, "INSERT INTO subjects (id, email, regime, created_at) VALUES (?, ?, ?, ?)");
	out->ins_record = sq_prepare(out,
				     "INSERT INTO records (subject_id, id, category, purpose, source, collected_at, data)"
				     " VALUES (?, ?, ?, ?, ?, ?, ?)");
	out->sel_records = sq_prepare(out,
				      "SELECT id, category, purpose, source, collected_at, data FROM records"
				      " WHERE subject_id = ? AND purpose = ? ORDER BY collected_at");
	out->begin = sq_prepare(out, "BEGIN");
	out->commit = sq_prepare(out, "COMMIT");
}

void pv_bench_sqlite_close(pv_bench_sqlite *b)
{
	sqlite3_finalize(b->ins_subject);
	sqlite3_finalize(b->ins_record);
	sqlite3_finalize(b->sel_records);
	sqlite3_finalize(b->begin);
	sqlite3_finalize(b->commit);
	sqlite3_close(b->db);
	memset(b, 0, sizeof(*b));
}

void pv_bench_sqlite_begin(pv_bench_sqlite *b)
{
	sq_step(b, b->begin, "BEGIN");
}

void pv_bench_sqlite_commit(pv_bench_sqlite *b)
{
	sq_step(b, b->commit, "COMMIT");
}

/* A random UUID v4, as the application would make one (table hex, no printf: a fair baseline). */
static void uuid_new(char out[PV_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[16];
	size_t i, o = 0;

	randombytes_buf(r, sizeof(r));
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
}

void pv_bench_sqlite_subject(pv_bench_sqlite *b, const char *email, char out_id[PV_ID_LEN + 1])
{
	uuid_new(out_id);
	sqlite3_bind_text(b->ins_subject, 1, out_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_subject, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_subject, 3, "gdpr", -1, SQLITE_STATIC);
	sqlite3_bind_int64(b->ins_subject, 4, (sqlite3_int64)time(NULL));
	sq_step(b, b->ins_subject, "insert subject");
}

void pv_bench_sqlite_record(pv_bench_sqlite *b, const char *subject_id, const pv_bench_row *row)
{
	char id[PV_ID_LEN + 1];

	uuid_new(id);
	sqlite3_bind_text(b->ins_record, 1, subject_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_record, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_record, 3, row->category, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_record, 4, row->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(b->ins_record, 5, row->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(b->ins_record, 6, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(b->ins_record, 7, row->data, (int)row->len, SQLITE_STATIC);
	sq_step(b, b->ins_record, "insert record");
}

size_t pv_bench_sqlite_read(pv_bench_sqlite *b, const char *subject_id, const char *purpose)
{
	sqlite3_stmt *st = b->sel_records;
	char *bufs[1024];
	size_t n = 0, i;
	int rc;

	sqlite3_bind_text(st, 1, subject_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, purpose, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *d = sqlite3_column_text(st, 5);
		int len = sqlite3_column_bytes(st, 5);

		if (n < sizeof(bufs) / sizeof(bufs[0])) {
			bufs[n] = malloc((size_t)len + 1);
			if (bufs[n] == NULL) {
				fprintf(stderr, "bench: out of memory\n");
				exit(1);
			}
			memcpy(bufs[n], d, (size_t)len + 1);
		}
		n++;
	}
	sq_check(b, rc, "select records");
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	for (i = 0; i < n && i < sizeof(bufs) / sizeof(bufs[0]); i++)
		free(bufs[i]);
	return n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double pv_bench_quantile(double *v, size_t n, double q)
{
	size_t k;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	k = (size_t)(q * (double)n + 0.5);
	if (k > 0)
		k--;
	if (k >= n)
		k = n - 1;
	return v[k];
}

uint64_t pv_bench_parse_count(const char *s)
{
	char *end = NULL;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return 0;
	if (*end == 'k' || *end == 'K') {
		x *= 1000;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		x *= 1000000;
		end++;
	}
	return *end == '\0' ? (uint64_t)x : 0;
}
