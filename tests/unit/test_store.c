/*
 * Store: every function of src/store/store.h, round trips with exact values,
 * error codes, transactions, migrations and the SQLite file settings.
 *
 * The store under test is PRIVAULT_TEST_STORE when set (so the same suite runs
 * against PostgreSQL once that backend exists), else a fresh SQLite file in a
 * mkdtemp directory per test. Tests use fresh random ids and compare counts
 * and audit sequence numbers relative to what was there before, so they also
 * pass on a shared database. Checks that need the SQLite file itself (file
 * modes, raw rows, a forged newer schema) are skipped for other backends.
 */
#include <pthread.h>
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
#include <sodium.h>
#include <sqlite3.h>

#include "core/error.h"
#include "core/util.h"
#include "store/store.h"

typedef struct {
	char dir[256];     /* "" when the store comes from PRIVAULT_TEST_STORE */
	char url[800];
	char path[600];    /* the SQLite file, "" for other backends */
	pv_store *s;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	const char *env = getenv("PRIVAULT_TEST_STORE");

	if (f == NULL)
		return -1;
	if (env != NULL && env[0] != '\0') {
		snprintf(f->url, sizeof(f->url), "%s", env);
		if (strncmp(env, "sqlite:", 7) == 0)
			snprintf(f->path, sizeof(f->path), "%s", env + 7);
		else if (strstr(env, "://") == NULL)
			snprintf(f->path, sizeof(f->path), "%s", env);
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/pv-test-store-XXXXXX");
		if (mkdtemp(f->dir) == NULL)
			return -1;
		snprintf(f->path, sizeof(f->path), "%s/vault.db", f->dir);
		snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	}
	if (pv_store_open(&f->s, f->url, 1) != 0) {
		fprintf(stderr, "open %s: %s\n", f->url, pv_error_last());
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	char p[800];

	pv_store_close(f->s);
	if (f->dir[0] != '\0') {
		static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
		size_t i;

		for (i = 0; i < 4; i++) {
			snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
			unlink(p);
		}
		snprintf(p, sizeof(p), "%s/plain.db", f->dir);
		unlink(p);
		rmdir(f->dir);
	}
	free(f);
	return 0;
}

static void reopen(fixture *f)
{
	pv_store_close(f->s);
	f->s = NULL;
	assert_int_equal(pv_store_open(&f->s, f->url, 0), 0);
}

/* A raw SQLite connection to the store's file (SQLite only). */
static sqlite3 *raw(const fixture *f)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static void new_subject(pv_store *s, char id[PV_ID_LEN + 1])
{
	pv_store_subject subj;

	memset(&subj, 0, sizeof(subj));
	pv_uuid_new(id);
	memcpy(subj.id, id, PV_ID_LEN + 1);
	subj.created_at = 1700000000;
	subj.regime = 1;
	subj.birth_year = 1990;
	assert_int_equal(pv_store_subject_insert(s, &subj), 0);
}

static void make_record(pv_store_record *r, const char *subject, const char *category,
			pv_time collected, const uint8_t *ct, size_t ctlen)
{
	memset(r, 0, sizeof(*r));
	pv_uuid_new(r->id);
	snprintf(r->subject_id, sizeof(r->subject_id), "%s", subject);
	snprintf(r->category, sizeof(r->category), "%s", category);
	snprintf(r->purpose, sizeof(r->purpose), "billing");
	snprintf(r->source, sizeof(r->source), "signup_form");
	memset(r->policy_version, 'a', PV_HASH_HEX_LEN);
	r->collected_at = collected;
	r->updated_at = collected;
	r->expires_at = INT64_MAX;
	fill(r->nonce, PV_NONCE_LEN, (uint8_t)collected);
	r->ciphertext = ct;
	r->ciphertext_len = ctlen;
}

static void assert_record_equal(const pv_store_record *a, const pv_store_record *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->subject_id, b->subject_id);
	assert_string_equal(a->category, b->category);
	assert_string_equal(a->purpose, b->purpose);
	assert_string_equal(a->source, b->source);
	assert_string_equal(a->policy_version, b->policy_version);
	assert_int_equal(a->collected_at, b->collected_at);
	assert_int_equal(a->updated_at, b->updated_at);
	assert_int_equal(a->expires_at, b->expires_at);
	assert_memory_equal(a->nonce, b->nonce, PV_NONCE_LEN);
	assert_int_equal(a->ciphertext_len, b->ciphertext_len);
	if (a->ciphertext_len > 0)
		assert_memory_equal(a->ciphertext, b->ciphertext, a->ciphertext_len);
}

/* ---- opening, URLs, files, migrations ---------------------------------------------------- */

static void test_open_urls(void **state)
{
	fixture *f = *state;
	pv_store *s = (pv_store *)1;
	char url[800];

	/* PostgreSQL URLs reach the PostgreSQL backend: no server behind this socket folder */
	assert_int_equal(pv_store_open(&s, "postgresql:///privault?host=/nonexistent-pv-dir", 1), PV_ESTORE);
	assert_null(s);
	assert_non_null(strstr(pv_error_last(), "cannot connect to PostgreSQL"));
	assert_int_equal(pv_store_open(&s, "postgres://u@/db?host=/nonexistent-pv-dir", 0), PV_ESTORE);
	assert_int_equal(pv_store_open(&s, "postgres:host=/nonexistent-pv-dir dbname=x", 0), PV_ESTORE);
	assert_non_null(strstr(pv_error_last(), "cannot connect to PostgreSQL"));
	assert_int_equal(pv_store_open(&s, "postgres:", 0), PV_EINVAL);
	assert_string_equal(pv_store_url_backend("postgresql://h/db"), "postgres");
	assert_string_equal(pv_store_url_backend("postgres:dbname=x"), "postgres");
	assert_string_equal(pv_store_url_backend("sqlite:/x/vault.db"), "sqlite");
	assert_string_equal(pv_store_url_backend("/x/vault.db"), "sqlite");
	assert_null(pv_store_url_backend("mysql://h/db"));
	assert_int_equal(pv_store_open(&s, "mysql://h/db", 1), PV_EINVAL);
	assert_int_equal(pv_store_open(&s, "", 1), PV_EINVAL);
	assert_int_equal(pv_store_open(&s, "sqlite:", 1), PV_EINVAL);
	assert_int_equal(pv_store_open(&s, NULL, 1), PV_EINVAL);
	assert_int_equal(pv_store_open(NULL, f->url, 1), PV_EINVAL);
	pv_store_close(NULL);
	assert_string_equal(pv_store_backend(NULL), "");

	if (f->dir[0] == '\0')
		skip();
	assert_string_equal(pv_store_backend(f->s), "sqlite");
	/* a plain path is SQLite too, and a second handle on the same file works */
	assert_int_equal(pv_store_open(&s, f->path, 0), 0);
	assert_string_equal(pv_store_backend(s), "sqlite");
	pv_store_close(s);
	/* missing file without create */
	snprintf(url, sizeof(url), "sqlite:%s/missing.db", f->dir);
	assert_int_equal(pv_store_open(&s, url, 0), PV_ENOTFOUND);
	assert_null(s);
	assert_int_equal(access(url + 7, F_OK), -1);
	/* a plain path with create */
	snprintf(url, sizeof(url), "%s/plain.db", f->dir);
	assert_int_equal(pv_store_open(&s, url, 1), 0);
	pv_store_close(s);
	snprintf(url, sizeof(url), "%s/plain.db-wal", f->dir);
	unlink(url);
	snprintf(url, sizeof(url), "%s/plain.db-shm", f->dir);
	unlink(url);
}

/* The database and its -wal and -shm files are 0600 even under a permissive umask. */
static void test_file_mode(void **state)
{
	fixture *f = *state;
	static const char *const suffix[] = { "", "-wal", "-shm" };
	char p[800], id[PV_ID_LEN + 1];
	struct stat sb;
	mode_t old;
	size_t i;

	if (f->path[0] == '\0' || f->dir[0] == '\0')
		skip();
	/* start again from nothing under umask 000 */
	pv_store_close(f->s);
	f->s = NULL;
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		unlink(p);
	}
	old = umask(0);
	assert_int_equal(pv_store_open(&f->s, f->url, 1), 0);
	new_subject(f->s, id);
	assert_int_equal(umask(old), 0);   /* the store restored the caller's umask */
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
		assert_int_equal(stat(p, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
}

static void test_migrations(void **state)
{
	fixture *f = *state;
	char buf[32], want[16];
	int64_t v = 0;
	sqlite3 *db;

	assert_int_equal(pv_store_schema_version(f->s, &v), 0);
	assert_int_equal(v, PV_STORE_SCHEMA_VERSION);
	assert_int_equal(pv_store_meta_get(f->s, "schema_version", buf, sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%d", PV_STORE_SCHEMA_VERSION);
	assert_string_equal(buf, want);
	/* opening again with create applies nothing new */
	pv_store_close(f->s);
	assert_int_equal(pv_store_open(&f->s, f->url, 1), 0);
	reopen(f);
	assert_int_equal(pv_store_schema_version(f->s, &v), 0);
	assert_int_equal(v, PV_STORE_SCHEMA_VERSION);

	if (f->path[0] == '\0')
		skip();
	db = raw(f);
	assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM schema_migrations"), PV_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int(db, "SELECT MAX(version) FROM schema_migrations"), PV_STORE_SCHEMA_VERSION);
	assert_true(raw_int(db, "SELECT MIN(applied_at) FROM schema_migrations") > 1600000000);
	/* every table of the schema exists, with its indexes */
	assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
				 "('meta', 'policy_versions', 'subjects', 'identifiers', 'subject_keys', "
				 "'records', 'suppression', 'audit', 'audit_checkpoints', 'schema_migrations', "
				 "'api_keys')"), 11);
	assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
				 "('identifiers_subject', 'records_subject_category', 'records_expires_at')"), 3);
	assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	fixture *f = *state;
	pv_store *s = NULL;
	sqlite3 *db;

	if (f->dir[0] == '\0')
		skip();
	db = raw(f);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_migrations (version, applied_at) "
				      "VALUES (1000, 1800000000)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	pv_store_close(f->s);
	f->s = NULL;
	assert_int_equal(pv_store_open(&s, f->url, 0), PV_ESTORE);
	assert_null(s);
	assert_non_null(strstr(pv_error_last(), "schema is version 1000, newer than this privault"));
	assert_int_equal(pv_store_open(&s, f->url, 1), PV_ESTORE);
	assert_non_null(strstr(pv_error_last(), "upgrade privault"));
	/* nothing was changed by the refused opens */
	db = raw(f);
	assert_int_equal(raw_int(db, "SELECT MAX(version) FROM schema_migrations"), 1000);
	sqlite3_close(db);
}

/* A SQLite file that is not a vault is refused without create, and is not a database at all. */
static void test_not_a_vault(void **state)
{
	fixture *f = *state;
	pv_store *s = NULL;
	char p[800];
	sqlite3 *db;
	FILE *fp;

	if (f->dir[0] == '\0')
		skip();
	snprintf(p, sizeof(p), "%s/plain.db", f->dir);
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE other (x)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(pv_store_open(&s, p, 0), PV_ENOTFOUND);
	assert_non_null(strstr(pv_error_last(), "no privault schema"));
	unlink(p);
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("this is not an SQLite database, just text that is long enough to have a header..........",
	      fp);
	fclose(fp);
	assert_int_equal(pv_store_open(&s, p, 0), PV_ESTORE);
	assert_null(s);
}

/* ---- meta, policy ------------------------------------------------------------------------ */

static void test_meta(void **state)
{
	fixture *f = *state;
	char buf[64], small[4], key[64], empty[64], id[PV_ID_LEN + 1];

	/* fresh key names, so the test also passes on a shared database used before */
	pv_uuid_new(id);
	snprintf(key, sizeof(key), "test_meta_key_%.8s", id);
	snprintf(empty, sizeof(empty), "test_meta_empty_%.8s", id);
	assert_int_equal(pv_store_meta_get(f->s, key, buf, sizeof(buf)), PV_ENOTFOUND);
	assert_int_equal(pv_store_meta_set(f->s, key, "first"), 0);
	assert_int_equal(pv_store_meta_get(f->s, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "first");
	assert_int_equal(pv_store_meta_set(f->s, key, "second value"), 0);
	assert_int_equal(pv_store_meta_get(f->s, key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "second value");
	assert_int_equal(pv_store_meta_set(f->s, empty, ""), 0);
	assert_int_equal(pv_store_meta_get(f->s, empty, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(pv_store_meta_get(f->s, key, small, sizeof(small)), PV_EINVAL);
	assert_int_equal(pv_store_meta_get(f->s, "", buf, sizeof(buf)), PV_EINVAL);
	assert_int_equal(pv_store_meta_set(f->s, NULL, "x"), PV_EINVAL);
	assert_int_equal(pv_store_meta_set(f->s, "k", NULL), PV_EINVAL);
}

static void test_policy(void **state)
{
	fixture *f = *state;
	const char yaml[] = "version: 1\nname: \"t\\u00e9st\"\ncategories: []\n";
	char hash[PV_HASH_HEX_LEN + 1], *got = NULL;
	uint8_t raw_hash[32];
	size_t len = 0;

	randombytes_buf(raw_hash, sizeof(raw_hash));
	pv_hex_encode(hash, raw_hash, sizeof(raw_hash));
	assert_int_equal(pv_store_policy_get(f->s, hash, &got, &len), PV_ENOTFOUND);
	assert_null(got);
	assert_int_equal(pv_store_policy_insert(f->s, hash, yaml, strlen(yaml), 100, 200), 0);
	assert_int_equal(pv_store_policy_get(f->s, hash, &got, &len), 0);
	assert_int_equal(len, strlen(yaml));
	assert_memory_equal(got, yaml, len);
	assert_int_equal(got[len], '\0');
	free(got);
	/* immutable: inserting the same hash again succeeds and changes nothing */
	assert_int_equal(pv_store_policy_insert(f->s, hash, "other", 5, 300, 400), 0);
	assert_int_equal(pv_store_policy_get(f->s, hash, &got, &len), 0);
	assert_int_equal(len, strlen(yaml));
	assert_memory_equal(got, yaml, len);
	free(got);
	if (f->path[0] != '\0') {
		sqlite3 *db = raw(f);
		char sql[200];

		snprintf(sql, sizeof(sql), "SELECT loaded_at * 1000 + effective_at FROM policy_versions "
			 "WHERE hash = '%s'", hash);
		assert_int_equal(raw_int(db, sql), 100 * 1000 + 200);
		sqlite3_close(db);
	}
}

/* ---- subjects ---------------------------------------------------------------------------- */

static void test_subject(void **state)
{
	fixture *f = *state;
	pv_store_subject in, out;
	char other[PV_ID_LEN + 1];

	memset(&in, 0, sizeof(in));
	pv_uuid_new(in.id);
	in.created_at = 1764000000;
	in.regime = 2;
	in.birth_year = 2012;
	in.parental_consent = 1;
	in.state = PV_SUBJECT_ACTIVE;
	assert_int_equal(pv_store_subject_insert(f->s, &in), 0);
	assert_int_equal(pv_store_subject_insert(f->s, &in), PV_EEXISTS);
	assert_non_null(strstr(pv_error_last(), "subjects"));
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(pv_store_subject_get(f->s, in.id, &out), 0);
	assert_string_equal(out.id, in.id);
	assert_int_equal(out.created_at, 1764000000);
	assert_int_equal(out.regime, 2);
	assert_int_equal(out.birth_year, 2012);
	assert_int_equal(out.parental_consent, 1);
	assert_int_equal(out.state, PV_SUBJECT_ACTIVE);
	assert_int_equal(out.erased_at, 0);

	pv_uuid_new(other);
	assert_int_equal(pv_store_subject_get(f->s, other, &out), PV_ENOTFOUND);
	assert_int_equal(pv_store_subject_set_state(f->s, other, PV_SUBJECT_ERASED, 5), PV_ENOTFOUND);

	assert_int_equal(pv_store_subject_set_state(f->s, in.id, PV_SUBJECT_RESTRICTED, 1764000100), 0);
	assert_int_equal(pv_store_subject_get(f->s, in.id, &out), 0);
	assert_int_equal(out.state, PV_SUBJECT_RESTRICTED);
	assert_int_equal(out.birth_year, 2012);
	assert_int_equal(out.parental_consent, 1);
	assert_int_equal(out.erased_at, 0);

	assert_int_equal(pv_store_subject_set_state(f->s, in.id, PV_SUBJECT_ERASED, 1764000200), 0);
	assert_int_equal(pv_store_subject_get(f->s, in.id, &out), 0);
	assert_int_equal(out.state, PV_SUBJECT_ERASED);
	assert_int_equal(out.birth_year, 0);
	assert_int_equal(out.parental_consent, 0);
	assert_int_equal(out.erased_at, 1764000200);
	assert_int_equal(out.created_at, 1764000000);
	assert_int_equal(out.regime, 2);

	/* an id longer than a UUID is refused before it reaches the backend */
	assert_int_equal(pv_store_subject_get(f->s, "0123456789012345678901234567890123456789", &out),
			 PV_EINVAL);
}

/* ---- identifiers ------------------------------------------------------------------------- */

typedef struct {
	int n;
	pv_store_identifier rows[8];
	uint8_t ct[8][64];
	int stop_after;
} ident_seen;

static int ident_cb(const pv_store_identifier *id, void *payload)
{
	ident_seen *seen = payload;

	assert_true(seen->n < 8);
	seen->rows[seen->n] = *id;
	assert_true(id->ciphertext_len <= 64);
	memcpy(seen->ct[seen->n], id->ciphertext, id->ciphertext_len);
	seen->rows[seen->n].ciphertext = seen->ct[seen->n];
	seen->n++;
	return seen->stop_after > 0 && seen->n == seen->stop_after ? 42 : 0;
}

static void make_ident(pv_store_identifier *id, const char *subject, const char *kind, uint8_t seed,
		       const uint8_t *ct, size_t ctlen)
{
	memset(id, 0, sizeof(*id));
	snprintf(id->subject_id, sizeof(id->subject_id), "%s", subject);
	snprintf(id->kind, sizeof(id->kind), "%s", kind);
	randombytes_buf(id->blind_index, PV_BLIND_INDEX_LEN);
	fill(id->nonce, PV_NONCE_LEN, seed);
	id->ciphertext = ct;
	id->ciphertext_len = ctlen;
}

static void test_identifier(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1], found[PV_ID_LEN + 1];
	uint8_t ct1[40], ct2[17], ct3[33];
	pv_store_identifier email, phone, dup, other_kind, b_email;
	ident_seen seen;

	new_subject(f->s, a);
	new_subject(f->s, b);
	fill(ct1, sizeof(ct1), 1);
	fill(ct2, sizeof(ct2), 2);
	fill(ct3, sizeof(ct3), 3);
	make_ident(&email, a, "email", 10, ct1, sizeof(ct1));
	make_ident(&phone, a, "phone", 20, ct2, sizeof(ct2));
	make_ident(&b_email, b, "email", 30, ct3, sizeof(ct3));
	assert_int_equal(pv_store_identifier_insert(f->s, &email), 0);
	assert_int_equal(pv_store_identifier_insert(f->s, &phone), 0);
	assert_int_equal(pv_store_identifier_insert(f->s, &b_email), 0);

	/* (kind, blind_index) is unique across subjects */
	dup = email;
	memcpy(dup.subject_id, b, sizeof(dup.subject_id));
	assert_int_equal(pv_store_identifier_insert(f->s, &dup), PV_EEXISTS);
	assert_non_null(strstr(pv_error_last(), "identifiers"));
	/* the same blind index under another kind is another identifier */
	other_kind = email;
	snprintf(other_kind.kind, sizeof(other_kind.kind), "login");
	assert_int_equal(pv_store_identifier_insert(f->s, &other_kind), 0);

	assert_int_equal(pv_store_identifier_find(f->s, "email", email.blind_index, found), 0);
	assert_string_equal(found, a);
	assert_int_equal(pv_store_identifier_find(f->s, "email", b_email.blind_index, found), 0);
	assert_string_equal(found, b);
	assert_int_equal(pv_store_identifier_find(f->s, "phone", email.blind_index, found), PV_ENOTFOUND);
	dup.blind_index[0] ^= 1;
	assert_int_equal(pv_store_identifier_find(f->s, "email", dup.blind_index, found), PV_ENOTFOUND);

	/* each: only subject a's identifiers, exact values, ordered by kind */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_identifier_each(f->s, a, ident_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_string_equal(seen.rows[0].kind, "email");
	assert_string_equal(seen.rows[1].kind, "login");
	assert_string_equal(seen.rows[2].kind, "phone");
	assert_string_equal(seen.rows[0].subject_id, a);
	assert_memory_equal(seen.rows[0].blind_index, email.blind_index, PV_BLIND_INDEX_LEN);
	assert_memory_equal(seen.rows[0].nonce, email.nonce, PV_NONCE_LEN);
	assert_int_equal(seen.rows[0].ciphertext_len, sizeof(ct1));
	assert_memory_equal(seen.rows[0].ciphertext, ct1, sizeof(ct1));
	assert_memory_equal(seen.rows[2].blind_index, phone.blind_index, PV_BLIND_INDEX_LEN);
	assert_memory_equal(seen.rows[2].nonce, phone.nonce, PV_NONCE_LEN);
	assert_int_equal(seen.rows[2].ciphertext_len, sizeof(ct2));
	assert_memory_equal(seen.rows[2].ciphertext, ct2, sizeof(ct2));
	/* a non-zero return stops the walk and is returned */
	memset(&seen, 0, sizeof(seen));
	seen.stop_after = 1;
	assert_int_equal(pv_store_identifier_each(f->s, a, ident_cb, &seen), 42);
	assert_int_equal(seen.n, 1);

	/* delete_subject touches only that subject */
	assert_int_equal(pv_store_identifier_delete_subject(f->s, a), 0);
	assert_int_equal(pv_store_identifier_find(f->s, "email", email.blind_index, found), PV_ENOTFOUND);
	assert_int_equal(pv_store_identifier_find(f->s, "phone", phone.blind_index, found), PV_ENOTFOUND);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_identifier_each(f->s, a, ident_cb, &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(pv_store_identifier_find(f->s, "email", b_email.blind_index, found), 0);
	assert_string_equal(found, b);
	/* deleting again (nothing left) is fine */
	assert_int_equal(pv_store_identifier_delete_subject(f->s, a), 0);
	/* the freed blind index can be taken again */
	assert_int_equal(pv_store_identifier_insert(f->s, &email), 0);
}

/* ---- subject keys ------------------------------------------------------------------------ */

static void make_key(pv_store_key *k, const char *subject, uint32_t version, uint8_t seed)
{
	memset(k, 0, sizeof(*k));
	snprintf(k->subject_id, sizeof(k->subject_id), "%s", subject);
	k->kek_version = version;
	fill(k->wrapped, PV_WRAPPED_DEK_LEN, seed);
}

static void test_key(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1];
	pv_store_key ka, kb, out;

	new_subject(f->s, a);
	new_subject(f->s, b);
	make_key(&ka, a, 3, 1);
	make_key(&kb, b, 4000000000u, 2);
	assert_int_equal(pv_store_key_insert(f->s, &ka), 0);
	assert_int_equal(pv_store_key_insert(f->s, &kb), 0);
	assert_int_equal(pv_store_key_insert(f->s, &ka), PV_EEXISTS);
	assert_int_equal(pv_store_key_get(f->s, a, &out), 0);
	assert_string_equal(out.subject_id, a);
	assert_int_equal(out.kek_version, 3);
	assert_memory_equal(out.wrapped, ka.wrapped, PV_WRAPPED_DEK_LEN);
	assert_int_equal(pv_store_key_get(f->s, b, &out), 0);
	assert_int_equal(out.kek_version, 4000000000u);   /* the full uint32 range survives */
	assert_memory_equal(out.wrapped, kb.wrapped, PV_WRAPPED_DEK_LEN);

	make_key(&ka, a, 4, 9);
	assert_int_equal(pv_store_key_update(f->s, &ka), 0);
	assert_int_equal(pv_store_key_get(f->s, a, &out), 0);
	assert_int_equal(out.kek_version, 4);
	assert_memory_equal(out.wrapped, ka.wrapped, PV_WRAPPED_DEK_LEN);

	assert_int_equal(pv_store_key_delete(f->s, a), 0);
	assert_int_equal(pv_store_key_get(f->s, a, &out), PV_ENOTFOUND);
	assert_int_equal(pv_store_key_delete(f->s, a), PV_ENOTFOUND);
	assert_int_equal(pv_store_key_update(f->s, &ka), PV_ENOTFOUND);
	assert_int_equal(pv_store_key_get(f->s, b, &out), 0);   /* b untouched */
}

typedef struct {
	pv_store *s;
	char ids[6][PV_ID_LEN + 1];
	int visits[6];
	int total;
	uint32_t rewrap_to;   /* 0 = do not rewrap */
} key_walk;

static int key_cb(const pv_store_key *k, void *payload)
{
	key_walk *w = payload;
	int i;

	w->total++;
	for (i = 0; i < 6; i++)
		if (strcmp(k->subject_id, w->ids[i]) == 0)
			w->visits[i]++;
	if (w->rewrap_to != 0) {
		pv_store_key n = *k;

		n.kek_version = w->rewrap_to;
		assert_int_equal(pv_store_key_update(w->s, &n), 0);
	}
	return 0;
}

static void test_key_each_other_version(void **state)
{
	fixture *f = *state;
	uint32_t base = 1000000 + (randombytes_random() % 1000000) * 4;
	key_walk w;
	pv_store_key k;
	int i, rounds;

	memset(&w, 0, sizeof(w));
	w.s = f->s;
	for (i = 0; i < 6; i++) {
		new_subject(f->s, w.ids[i]);
		make_key(&k, w.ids[i], i < 4 ? base : base + 1, (uint8_t)i);
		assert_int_equal(pv_store_key_insert(f->s, &k), 0);
	}
	/* except base + 1: the four keys at base (and any other test's keys) */
	assert_int_equal(pv_store_key_each_other_version(f->s, base + 1, 0, key_cb, &w), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(w.visits[i], i < 4 ? 1 : 0);
	/* limit */
	memset(w.visits, 0, sizeof(w.visits));
	w.total = 0;
	assert_int_equal(pv_store_key_each_other_version(f->s, base + 1, 2, key_cb, &w), 0);
	assert_int_equal(w.total, 2);
	/* rotation in batches: the callback rewraps what it is shown, until nothing is left */
	w.rewrap_to = base + 1;
	for (rounds = 0; rounds < 100; rounds++) {
		w.total = 0;
		assert_int_equal(pv_store_key_each_other_version(f->s, base + 1, 3, key_cb, &w), 0);
		if (w.total == 0)
			break;
	}
	assert_true(rounds < 100);
	for (i = 0; i < 6; i++) {
		assert_int_equal(pv_store_key_get(f->s, w.ids[i], &k), 0);
		assert_int_equal(k.kek_version, base + 1);
	}
	memset(w.visits, 0, sizeof(w.visits));
	w.rewrap_to = 0;
	assert_int_equal(pv_store_key_each_other_version(f->s, base + 1, 0, key_cb, &w), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(w.visits[i], 0);
}

/* ---- records ----------------------------------------------------------------------------- */

static void test_record_roundtrip(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1];
	uint8_t ct[300], ct2[5], *buf = NULL;
	pv_store_record r1, r2, out, upd;

	new_subject(f->s, a);
	new_subject(f->s, b);
	fill(ct, sizeof(ct), 77);
	fill(ct2, sizeof(ct2), 99);
	make_record(&r1, a, "contact", 1764000000, ct, sizeof(ct));
	make_record(&r2, a, "billing_address", 1764000500, ct2, sizeof(ct2));
	r2.expires_at = 1800000000;
	snprintf(r2.purpose, sizeof(r2.purpose), "%s", "order_fulfilment_and_delivery_of_goods_bought_online_ok");
	assert_int_equal(pv_store_record_insert(f->s, &r1), 0);
	assert_int_equal(pv_store_record_insert(f->s, &r2), 0);
	assert_int_equal(pv_store_record_insert(f->s, &r1), PV_EEXISTS);
	assert_non_null(strstr(pv_error_last(), "records"));
	/* no source stated: "" round-trips */
	{
		pv_store_record r3;

		make_record(&r3, b, "preferences", 7, ct2, sizeof(ct2));
		r3.source[0] = '\0';
		assert_int_equal(pv_store_record_insert(f->s, &r3), 0);
		assert_int_equal(pv_store_record_get(f->s, b, r3.id, &out, &buf), 0);
		assert_record_equal(&out, &r3);
		free(buf);
		buf = NULL;
	}

	assert_int_equal(pv_store_record_get(f->s, a, r1.id, &out, &buf), 0);
	assert_non_null(buf);
	assert_ptr_equal(out.ciphertext, buf);
	assert_record_equal(&out, &r1);
	assert_int_equal(out.expires_at, INT64_MAX);
	free(buf);
	assert_int_equal(pv_store_record_get(f->s, a, r2.id, &out, &buf), 0);
	assert_record_equal(&out, &r2);
	free(buf);
	/* the subject is part of the key: another subject's id finds nothing */
	assert_int_equal(pv_store_record_get(f->s, b, r1.id, &out, &buf), PV_ENOTFOUND);
	assert_null(buf);

	/* update: nonce, ciphertext and updated_at only */
	upd = r1;
	fill(upd.nonce, PV_NONCE_LEN, 200);
	upd.ciphertext = ct2;
	upd.ciphertext_len = sizeof(ct2);
	upd.updated_at = 1764009999;
	snprintf(upd.category, sizeof(upd.category), "ignored");
	upd.collected_at = 1;
	assert_int_equal(pv_store_record_update(f->s, &upd), 0);
	assert_int_equal(pv_store_record_get(f->s, a, r1.id, &out, &buf), 0);
	upd.collected_at = r1.collected_at;
	memcpy(upd.category, r1.category, sizeof(upd.category));
	assert_record_equal(&out, &upd);
	free(buf);
	memcpy(upd.subject_id, b, sizeof(upd.subject_id));
	assert_int_equal(pv_store_record_update(f->s, &upd), PV_ENOTFOUND);

	if (f->path[0] != '\0') {
		sqlite3 *db = raw(f);

		/* INT64_MAX is stored as NULL; the ciphertext is what was given */
		assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM records WHERE expires_at IS NULL "
					 "AND category = 'contact'"), 1);
		assert_int_equal(raw_int(db, "SELECT expires_at FROM records WHERE category = 'billing_address'"),
				 1800000000);
		sqlite3_close(db);
	}
}

typedef struct {
	pv_store *s;
	int n;
	char ids[16][PV_ID_LEN + 1];
	pv_time collected[16];
	int nested;   /* walk the same subject again from inside the callback */
	int inner;
} rec_walk;

static int inner_cb(const pv_store_record *r, void *payload)
{
	(void)r;
	((rec_walk *)payload)->inner++;
	return 0;
}

static int rec_cb(const pv_store_record *r, void *payload)
{
	rec_walk *w = payload;

	assert_true(w->n < 16);
	memcpy(w->ids[w->n], r->id, sizeof(w->ids[0]));
	w->collected[w->n] = r->collected_at;
	w->n++;
	if (w->nested)
		assert_int_equal(pv_store_record_each(w->s, r->subject_id, NULL, inner_cb, w), 0);
	return 0;
}

static int stop_cb(const pv_store_record *r, void *payload)
{
	(void)r;
	(void)payload;
	return -99;
}

typedef struct {
	int n;
	char cat[8][PV_ID_MAX_LEN + 1];
	size_t count[8];
} cat_counts;

static int cat_cb(const char *category, size_t count, void *payload)
{
	cat_counts *c = payload;

	assert_true(c->n < 8);
	snprintf(c->cat[c->n], sizeof(c->cat[0]), "%s", category);
	c->count[c->n++] = count;
	return 0;
}

static void test_record_each(void **state)
{
	fixture *f = *state;
	static const pv_time when[5] = { 500, 100, 400, 200, 300 };
	static const char *const cat[5] = { "contact", "billing", "contact", "contact", "billing" };
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1];
	pv_store_record r;
	uint8_t ct[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	rec_walk w;
	cat_counts cc;
	int i;

	new_subject(f->s, a);
	new_subject(f->s, b);
	for (i = 0; i < 5; i++) {
		make_record(&r, a, cat[i], when[i], ct, sizeof(ct));
		assert_int_equal(pv_store_record_insert(f->s, &r), 0);
	}
	make_record(&r, b, "contact", 50, ct, sizeof(ct));
	assert_int_equal(pv_store_record_insert(f->s, &r), 0);

	memset(&w, 0, sizeof(w));
	w.s = f->s;
	assert_int_equal(pv_store_record_each(f->s, a, NULL, rec_cb, &w), 0);
	assert_int_equal(w.n, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(w.collected[i], (i + 1) * 100);   /* oldest first; b's record not seen */

	memset(&w, 0, sizeof(w));
	assert_int_equal(pv_store_record_each(f->s, a, "contact", rec_cb, &w), 0);
	assert_int_equal(w.n, 3);
	assert_int_equal(w.collected[0], 200);
	assert_int_equal(w.collected[1], 400);
	assert_int_equal(w.collected[2], 500);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pv_store_record_each(f->s, a, "none_such", rec_cb, &w), 0);
	assert_int_equal(w.n, 0);

	/* a non-zero return stops and is returned; the store stays usable */
	assert_int_equal(pv_store_record_each(f->s, a, NULL, stop_cb, NULL), -99);
	/* a callback may walk the same subject again (the cached statement is busy) */
	memset(&w, 0, sizeof(w));
	w.s = f->s;
	w.nested = 1;
	assert_int_equal(pv_store_record_each(f->s, a, NULL, rec_cb, &w), 0);
	assert_int_equal(w.n, 5);
	assert_int_equal(w.inner, 25);

	memset(&cc, 0, sizeof(cc));
	assert_int_equal(pv_store_record_count_categories(f->s, a, cat_cb, &cc), 0);
	assert_int_equal(cc.n, 2);
	assert_string_equal(cc.cat[0], "billing");
	assert_int_equal(cc.count[0], 2);
	assert_string_equal(cc.cat[1], "contact");
	assert_int_equal(cc.count[1], 3);
}

static void test_record_delete_subject(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1];
	uint8_t ct[3] = { 9, 9, 9 };
	pv_store_record r, keep;
	int64_t before, after;
	size_t deleted = 99;
	rec_walk w;
	int i;

	assert_int_equal(pv_store_record_count(f->s, &before), 0);
	new_subject(f->s, a);
	new_subject(f->s, b);
	for (i = 0; i < 4; i++) {
		make_record(&r, a, "contact", 10 + i, ct, sizeof(ct));
		assert_int_equal(pv_store_record_insert(f->s, &r), 0);
	}
	make_record(&keep, b, "contact", 10, ct, sizeof(ct));
	assert_int_equal(pv_store_record_insert(f->s, &keep), 0);
	assert_int_equal(pv_store_record_count(f->s, &after), 0);
	assert_int_equal(after - before, 5);

	assert_int_equal(pv_store_record_delete_subject(f->s, a, &deleted), 0);
	assert_int_equal(deleted, 4);
	assert_int_equal(pv_store_record_count(f->s, &after), 0);
	assert_int_equal(after - before, 1);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pv_store_record_each(f->s, a, NULL, rec_cb, &w), 0);
	assert_int_equal(w.n, 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pv_store_record_each(f->s, b, NULL, rec_cb, &w), 0);
	assert_int_equal(w.n, 1);
	assert_string_equal(w.ids[0], keep.id);
	assert_int_equal(pv_store_record_delete_subject(f->s, a, &deleted), 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(pv_store_record_delete_subject(f->s, a, NULL), 0);
}

/* ---- suppression ------------------------------------------------------------------------- */

static void test_suppression(void **state)
{
	fixture *f = *state;
	uint8_t bi[PV_BLIND_INDEX_LEN], other[PV_BLIND_INDEX_LEN];

	randombytes_buf(bi, sizeof(bi));
	memcpy(other, bi, sizeof(bi));
	other[31] ^= 0x80;
	assert_int_equal(pv_store_suppression_find(f->s, "email", bi), PV_ENOTFOUND);
	assert_int_equal(pv_store_suppression_insert(f->s, "email", bi, "erased", 1764000000), 0);
	assert_int_equal(pv_store_suppression_insert(f->s, "email", bi, "erased again", 1764000001), 0);
	assert_int_equal(pv_store_suppression_find(f->s, "email", bi), 0);
	assert_int_equal(pv_store_suppression_find(f->s, "phone", bi), PV_ENOTFOUND);
	assert_int_equal(pv_store_suppression_find(f->s, "email", other), PV_ENOTFOUND);
	if (f->path[0] != '\0') {
		sqlite3 *db = raw(f);

		/* the duplicate changed nothing */
		assert_int_equal(raw_int(db, "SELECT at FROM suppression WHERE reason = 'erased'"), 1764000000);
		assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM suppression WHERE reason = 'erased again'"), 0);
		sqlite3_close(db);
	}
}

/* ---- audit ------------------------------------------------------------------------------- */

typedef struct {
	int n;
	pv_audit_entry e[8];
	int64_t stop_at;
} audit_seen;

static int audit_cb(const pv_audit_entry *e, void *payload)
{
	audit_seen *a = payload;

	assert_true(a->n < 8);
	a->e[a->n++] = *e;
	return e->seq == a->stop_at ? 7 : 0;
}

static void make_entry(pv_audit_entry *e, int64_t seq, const uint8_t prev[PV_AUDIT_HASH_LEN])
{
	memset(e, 0, sizeof(*e));
	e->seq = seq;
	e->at = 1764000000 + seq;
	snprintf(e->actor, sizeof(e->actor), "billing-service");
	snprintf(e->action, sizeof(e->action), "record.put");
	pv_uuid_new(e->subject_id);
	snprintf(e->purpose, sizeof(e->purpose), "billing");
	snprintf(e->category, sizeof(e->category), "contact");
	snprintf(e->outcome, sizeof(e->outcome), "ok");
	memcpy(e->prev_hash, prev, PV_AUDIT_HASH_LEN);
	randombytes_buf(e->hash, PV_AUDIT_HASH_LEN);
}

static void assert_entry_equal(const pv_audit_entry *a, const pv_audit_entry *b)
{
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->at, b->at);
	assert_string_equal(a->actor, b->actor);
	assert_string_equal(a->action, b->action);
	assert_string_equal(a->subject_id, b->subject_id);
	assert_string_equal(a->purpose, b->purpose);
	assert_string_equal(a->category, b->category);
	assert_string_equal(a->outcome, b->outcome);
	assert_memory_equal(a->prev_hash, b->prev_hash, PV_AUDIT_HASH_LEN);
	assert_memory_equal(a->hash, b->hash, PV_AUDIT_HASH_LEN);
}

static void test_audit(void **state)
{
	fixture *f = *state;
	uint8_t hash[PV_AUDIT_HASH_LEN], zero[PV_AUDIT_HASH_LEN] = { 0 };
	pv_audit_entry e[3], dup;
	audit_seen seen;
	int64_t base, seq;
	int i;

	assert_int_equal(pv_store_audit_head(f->s, &base, hash), 0);
	if (base == 0)
		assert_memory_equal(hash, zero, PV_AUDIT_HASH_LEN);   /* empty chain */
	for (i = 0; i < 3; i++) {
		make_entry(&e[i], base + 1 + i, i == 0 ? hash : e[i - 1].hash);
		if (i == 2) {
			/* an entry without subject, purpose or category */
			e[2].subject_id[0] = e[2].purpose[0] = e[2].category[0] = '\0';
			snprintf(e[2].outcome, sizeof(e[2].outcome), "deny:no_grant");
		}
		assert_int_equal(pv_store_audit_append(f->s, &e[i]), 0);
	}
	make_entry(&dup, base + 3, e[1].hash);
	assert_int_equal(pv_store_audit_append(f->s, &dup), PV_EEXISTS);
	assert_non_null(strstr(pv_error_last(), "audit"));

	assert_int_equal(pv_store_audit_head(f->s, &seq, hash), 0);
	assert_int_equal(seq, base + 3);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_audit_each(f->s, base + 1, 0, audit_cb, &seen), 0);
	assert_int_equal(seen.n, 3);
	assert_entry_equal(&seen.e[0], &e[0]);
	assert_entry_equal(&seen.e[1], &e[1]);
	assert_entry_equal(&seen.e[2], &e[2]);   /* "" round-trips as "" */
	assert_memory_equal(hash, e[2].hash, PV_AUDIT_HASH_LEN);

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_audit_each(f->s, base + 2, 1, audit_cb, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.e[0].seq, base + 2);
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = base + 2;
	assert_int_equal(pv_store_audit_each(f->s, base + 1, 0, audit_cb, &seen), 7);
	assert_int_equal(seen.n, 2);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_audit_each(f->s, base + 4, 0, audit_cb, &seen), 0);
	assert_int_equal(seen.n, 0);
	assert_int_equal(pv_store_audit_each(f->s, 1, -1, audit_cb, &seen), PV_EINVAL);

	/* appending continues after a refused duplicate */
	make_entry(&dup, base + 4, hash);
	snprintf(dup.actor, sizeof(dup.actor), "admin");
	snprintf(dup.action, sizeof(dup.action), "policy.load");
	assert_int_equal(pv_store_audit_append(f->s, &dup), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_audit_each(f->s, base + 4, 0, audit_cb, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_entry_equal(&seen.e[0], &dup);
	dup.seq = 0;
	assert_int_equal(pv_store_audit_append(f->s, &dup), PV_EINVAL);
}

typedef struct {
	int n;
	pv_store_checkpoint c[4];
	int64_t lo, hi;
} ckpt_seen;

static int ckpt_cb(const pv_store_checkpoint *c, void *payload)
{
	ckpt_seen *s = payload;

	if (c->seq < s->lo || c->seq > s->hi)
		return 0;   /* another test's checkpoint on a shared store */
	assert_true(s->n < 4);
	s->c[s->n++] = *c;
	return 0;
}

static void test_checkpoint(void **state)
{
	fixture *f = *state;
	pv_store_checkpoint c1, c2;
	int64_t base = 1000000000 + (int64_t)(randombytes_random() % 1000000) * 10;
	ckpt_seen seen;

	memset(&c1, 0, sizeof(c1));
	c1.seq = base + 5;
	c1.at = 1764000000;
	fill(c1.hash, PV_AUDIT_HASH_LEN, 1);
	fill(c1.signature, PV_SIG_LEN, 2);
	fill(c1.public_key, PV_PUBKEY_LEN, 3);
	c2 = c1;
	c2.seq = base + 1;
	c2.at = 1764000001;
	fill(c2.signature, PV_SIG_LEN, 4);
	assert_int_equal(pv_store_checkpoint_insert(f->s, &c1), 0);
	assert_int_equal(pv_store_checkpoint_insert(f->s, &c2), 0);
	assert_int_equal(pv_store_checkpoint_insert(f->s, &c1), PV_EEXISTS);

	memset(&seen, 0, sizeof(seen));
	seen.lo = base;
	seen.hi = base + 9;
	assert_int_equal(pv_store_checkpoint_each(f->s, ckpt_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.c[0].seq, base + 1);   /* in seq order */
	assert_int_equal(seen.c[0].at, 1764000001);
	assert_memory_equal(seen.c[0].signature, c2.signature, PV_SIG_LEN);
	assert_int_equal(seen.c[1].seq, base + 5);
	assert_int_equal(seen.c[1].at, 1764000000);
	assert_memory_equal(seen.c[1].hash, c1.hash, PV_AUDIT_HASH_LEN);
	assert_memory_equal(seen.c[1].signature, c1.signature, PV_SIG_LEN);
	assert_memory_equal(seen.c[1].public_key, c1.public_key, PV_PUBKEY_LEN);
}

/* ---- several processes on one database ----------------------------------------------------- */

static int count_table(const char *table, void *payload)
{
	(*(int *)payload)++;
	return strcmp(table, "audit") == 0 ? 0 : 0;
}

/* Every schema table exists on the backend under test, and the migration report lists version 1. */
static int note_migration(int64_t version, const char *description, pv_time applied_at, void *payload)
{
	int64_t *seen = payload;

	assert_non_null(description);
	if (version == 1) {
		assert_true(applied_at > 1600000000);
		*seen = version;
	}
	return 0;
}

static int names_cb(const char *table, void *payload)
{
	pv_store *s = payload;
	int64_t n = -1;

	assert_int_equal(pv_store_table_count(s, table, &n), 0);
	assert_true(n >= 0);
	return 0;
}

static void test_schema_tables_and_report(void **state)
{
	fixture *f = *state;
	int ntables = 0;
	int64_t seen = 0, n;

	assert_int_equal(pv_store_table_names(count_table, &ntables), 0);
	assert_true(ntables >= 9);
	assert_int_equal(pv_store_table_names(names_cb, f->s), 0);
	assert_int_equal(pv_store_table_count(f->s, "schema_migrations", &n), PV_EINVAL);
	assert_int_equal(pv_store_table_count(f->s, "records; DROP TABLE x", &n), PV_EINVAL);
	assert_int_equal(pv_store_migration_each(f->s, note_migration, &seen), 0);
	assert_int_equal(seen, 1);
	assert_int_equal(pv_store_schema_version_before(f->s) <= PV_STORE_SCHEMA_VERSION, 1);
	reopen(f);
	assert_int_equal(pv_store_schema_version_before(f->s), PV_STORE_SCHEMA_VERSION);   /* nothing pending */
}

typedef struct {
	int64_t rows;
	int saw_blob, saw_null, saw_int, saw_text;
	pv_store *to;
	const char *table;
} table_walk;

static int walk_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	table_walk *w = payload;
	size_t i;

	w->rows++;
	for (i = 0; i < n; i++) {
		assert_non_null(cols[i]);
		w->saw_blob |= vals[i].type == PV_STORE_BLOB;
		w->saw_null |= vals[i].type == PV_STORE_NULL;
		w->saw_int |= vals[i].type == PV_STORE_INT;
		w->saw_text |= vals[i].type == PV_STORE_TEXT;
	}
	return w->to != NULL ? pv_store_table_insert(w->to, w->table, cols, vals, n) : 0;
}

/* Whole-table reads give every row with typed values; inserting a row read back is refused as taken. */
static void test_table_rows(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1];
	uint8_t ct[7] = { 0, 1, 2, 0, 4, 5, 6 }, *buf = NULL;
	pv_store_record r, out;
	table_walk w;
	int64_t n;
	const char *cols[] = { "key", "value" };
	pv_store_value vals[2] = { { PV_STORE_TEXT, 0, (const uint8_t *)"test_table_k", 12 },
				   { PV_STORE_TEXT, 0, (const uint8_t *)"v", 1 } };

	new_subject(f->s, a);
	make_record(&r, a, "contact", 77, ct, sizeof(ct));
	assert_int_equal(pv_store_record_insert(f->s, &r), 0);
	assert_int_equal(pv_store_table_count(f->s, "records", &n), 0);
	memset(&w, 0, sizeof(w));
	assert_int_equal(pv_store_table_each(f->s, "records", walk_cb, &w), 0);
	assert_int_equal(w.rows, n);
	assert_true(w.saw_blob && w.saw_null && w.saw_int && w.saw_text);   /* expires_at NULL */
	/* rows read back cannot go in again: every key is taken */
	w.to = f->s;
	w.table = "records";
	w.rows = 0;
	assert_int_equal(pv_store_begin(f->s), 0);
	assert_int_equal(pv_store_table_each(f->s, "records", walk_cb, &w), PV_EEXISTS);
	assert_int_equal(pv_store_rollback(f->s), 0);
	/* a generic insert is a real row */
	if (pv_store_table_insert(f->s, "meta", cols, vals, 2) != 0)
		assert_int_equal(pv_error_last_code(), PV_EEXISTS);   /* a second run on a shared database */
	{
		char v[8];
		assert_int_equal(pv_store_meta_get(f->s, "test_table_k", v, sizeof(v)), 0);
		assert_string_equal(v, "v");
	}
	assert_int_equal(pv_store_table_insert(f->s, "nosuch", cols, vals, 2), PV_EINVAL);
	cols[0] = "key = 1 --";
	assert_int_equal(pv_store_table_insert(f->s, "meta", cols, vals, 2), PV_EINVAL);
	assert_int_equal(pv_store_record_get(f->s, a, r.id, &out, &buf), 0);
	assert_record_equal(&out, &r);   /* bytes with NULs round-trip */
	free(buf);
}

/* The transaction serial changes at every begin and is 0 outside transactions; job locks. */
static void test_tx_serial_and_job_lock(void **state)
{
	fixture *f = *state;
	pv_store *other = NULL;
	uint64_t t1, t2;
	int got = -1;

	assert_int_equal(pv_store_tx_serial(f->s), 0);
	assert_int_equal(pv_store_try_lock(f->s, "retention.sweep", &got), PV_EINVAL);   /* outside a transaction */
	assert_int_equal(pv_store_begin(f->s), 0);
	t1 = pv_store_tx_serial(f->s);
	assert_true(t1 != 0);
	assert_int_equal(pv_store_try_lock(f->s, "retention.sweep", &got), 0);
	assert_int_equal(got, 1);
	assert_int_equal(pv_store_try_lock(f->s, "Bad Name", &got), PV_EINVAL);
	if (strcmp(pv_store_backend(f->s), "postgres") == 0) {
		/* another connection does not get the lock while this transaction holds it */
		assert_int_equal(pv_store_open(&other, f->url, 0), 0);
		assert_int_equal(pv_store_begin(other), 0);
		assert_int_equal(pv_store_try_lock(other, "retention.sweep", &got), 0);
		assert_int_equal(got, 0);
		assert_int_equal(pv_store_try_lock(other, "another.job", &got), 0);
		assert_int_equal(got, 1);
		assert_int_equal(pv_store_rollback(other), 0);
	}
	assert_int_equal(pv_store_commit(f->s), 0);
	assert_int_equal(pv_store_tx_serial(f->s), 0);
	if (other != NULL) {
		/* released at commit */
		assert_int_equal(pv_store_begin(other), 0);
		assert_int_equal(pv_store_try_lock(other, "retention.sweep", &got), 0);
		assert_int_equal(got, 1);
		assert_int_equal(pv_store_commit(other), 0);
		pv_store_close(other);
	}
	assert_int_equal(pv_store_begin(f->s), 0);
	t2 = pv_store_tx_serial(f->s);
	assert_true(t2 != 0 && t2 != t1);
	assert_int_equal(pv_store_rollback(f->s), 0);
	assert_int_equal(pv_store_tx_serial(f->s), 0);
}

typedef struct {
	const char *url;
	int64_t seq;
	volatile int done;
	int rc;
} locker;

/* Another connection: begin, take the audit lock, read the head (blocks while the test holds it). */
static void *lock_thread(void *arg)
{
	locker *l = arg;
	uint8_t hash[PV_AUDIT_HASH_LEN];
	pv_store *s = NULL;

	l->rc = pv_store_open(&s, l->url, 0);
	if (l->rc == 0)
		l->rc = pv_store_begin(s);
	if (l->rc == 0)
		l->rc = pv_store_audit_lock_head(s, &l->seq, hash);
	if (l->rc == 0)
		l->rc = pv_store_rollback(s);
	pv_store_close(s);
	l->done = 1;
	return NULL;
}

/*
 * The audit lock serializes appends across connections: while one transaction
 * holds it, another connection's lock_head waits, and then sees the head the
 * first one committed (never a stale one).
 */
static void test_audit_lock_across_connections(void **state)
{
	fixture *f = *state;
	uint8_t hash[PV_AUDIT_HASH_LEN];
	pv_audit_entry e;
	pthread_t th;
	locker l;
	int64_t seq;

	assert_int_equal(pv_store_begin(f->s), 0);
	assert_int_equal(pv_store_audit_lock_head(f->s, &seq, hash), 0);
	assert_int_equal(pv_store_audit_lock_head(f->s, &seq, hash), 0);   /* twice in one transaction is fine */
	memset(&l, 0, sizeof(l));
	l.url = f->url;
	assert_int_equal(pthread_create(&th, NULL, lock_thread, &l), 0);
	usleep(300 * 1000);
	assert_int_equal(l.done, 0);   /* still waiting for our lock */
	make_entry(&e, seq + 1, hash);
	assert_int_equal(pv_store_audit_append(f->s, &e), 0);
	assert_int_equal(pv_store_commit(f->s), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(l.rc, 0);
	assert_int_equal(l.seq, seq + 1);   /* the head committed while it waited */
}

typedef struct {
	const char *id;
	int found;
	pv_store_apikey k;
} apikey_seen;

static int apikey_cb(const pv_store_apikey *k, void *payload)
{
	apikey_seen *a = payload;

	if (strcmp(k->id, a->id) == 0) {
		a->found++;
		a->k = *k;
	}
	return 0;
}

/* API keys (appended by the HTTP server's issue): every backend implements the four calls. */
static void test_apikeys(void **state)
{
	fixture *f = *state;
	pv_store_apikey k, out;
	apikey_seen seen;
	char uuid[PV_ID_LEN + 1];

	memset(&k, 0, sizeof(k));
	pv_uuid_new(uuid);
	snprintf(k.id, sizeof(k.id), "%.8s%.8s", uuid, uuid + 9 + 5);   /* 16 hex characters */
	for (size_t i = 0; i < 16; i++)
		if (k.id[i] == '-')
			k.id[i] = 'a';
	snprintf(k.name, sizeof(k.name), "shop-backend");
	k.role = 1;
	snprintf(k.grants, sizeof(k.grants), "transactions:commercial support");
	fill(k.hash, sizeof(k.hash), 9);
	k.created_at = 1764000000;
	assert_int_equal(pv_store_apikey_insert(f->s, &k), 0);
	assert_int_equal(pv_store_apikey_insert(f->s, &k), PV_EEXISTS);
	assert_int_equal(pv_store_apikey_get(f->s, k.id, &out), 0);
	assert_string_equal(out.name, "shop-backend");
	assert_string_equal(out.grants, "transactions:commercial support");
	assert_int_equal(out.role, 1);
	assert_memory_equal(out.hash, k.hash, sizeof(k.hash));
	assert_int_equal(out.created_at, 1764000000);
	assert_int_equal(out.revoked_at, 0);
	memset(&seen, 0, sizeof(seen));
	seen.id = k.id;
	assert_int_equal(pv_store_apikey_each(f->s, apikey_cb, &seen), 0);
	assert_int_equal(seen.found, 1);
	assert_int_equal(pv_store_apikey_revoke(f->s, k.id, 1764000100), 0);
	assert_int_equal(pv_store_apikey_revoke(f->s, k.id, 1764000200), PV_ENOTFOUND);
	assert_int_equal(pv_store_apikey_get(f->s, k.id, &out), 0);
	assert_int_equal(out.revoked_at, 1764000100);
	assert_int_equal(pv_store_apikey_get(f->s, "ffffffffffffffff", &out), PV_ENOTFOUND);
}

typedef struct {
	int n;
	pv_store_expired e[8];
} expired_seen;

static int expired_cb(const pv_store_expired *r, void *payload)
{
	expired_seen *x = payload;

	assert_true(x->n < 8);
	x->e[x->n++] = *r;
	return 0;
}

typedef struct {
	const char *id;
	int found;
	pv_store_hold h;
} hold_seen;

static int hold_cb(const pv_store_hold *h, void *payload)
{
	hold_seen *x = payload;

	if (strcmp(h->id, x->id) == 0) {
		x->found++;
		x->h = *h;
	}
	return 0;
}

typedef struct {
	const char *category;
	int64_t count;
	pv_time month;
} tally_seen;

static int tally_cb(const char *category, const char *purpose, const char *source, pv_time month,
		    int64_t count, void *payload)
{
	tally_seen *x = payload;

	if (strcmp(category, x->category) == 0 && strcmp(purpose, "billing") == 0 && strcmp(source, "") == 0) {
		x->count = count;
		x->month = month;
	}
	return 0;
}

/* Retention (appended by the retention issue): holds, the expired walk, deletes by reference, tallies. */
static void test_retention_ops(void **state)
{
	fixture *f = *state;
	/* a window of expiry times of this run only, so a shared database's other rows stay out */
	pv_time base = 100000000 + (pv_time)(randombytes_random() % 1000000) * 100;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1], hid[PV_ID_LEN + 1], cat[40];
	uint8_t ct[3] = { 1, 2, 3 };
	pv_store_record r[4];
	pv_store_record_ref refs[2];
	pv_store_hold h, out;
	expired_seen seen;
	hold_seen hs;
	tally_seen ts;
	int64_t n0, n, counts[2];
	size_t deleted = 0;
	int i;

	new_subject(f->s, a);
	new_subject(f->s, b);
	for (i = 0; i < 4; i++) {
		make_record(&r[i], i < 3 ? a : b, i == 1 ? "commercial" : "contact", 1000 + i, ct, sizeof(ct));
		r[i].expires_at = base + i;
		assert_int_equal(pv_store_record_insert(f->s, &r[i]), 0);
	}
	assert_int_equal(pv_store_record_expired_count(f->s, base - 1, &n0), 0);
	assert_int_equal(pv_store_record_expired_count(f->s, base + 3, &n), 0);
	assert_int_equal(n - n0, 4);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_record_expired_each(f->s, base, base + 3, 0, expired_cb, &seen), 0);
	assert_int_equal(seen.n, 4);
	assert_string_equal(seen.e[0].id, r[0].id);   /* earliest expiry first */
	assert_int_equal(seen.e[3].expires_at, base + 3);
	assert_string_equal(seen.e[1].category, "commercial");
	assert_int_equal(seen.e[2].collected_at, 1002);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_record_expired_each(f->s, base, base + 3, 2, expired_cb, &seen), 0);
	assert_int_equal(seen.n, 2);

	/* a hold on subject a's commercial records keeps r[1] out of the walk; b restricted keeps r[3] */
	memset(&h, 0, sizeof(h));
	pv_uuid_new(hid);
	memcpy(h.id, hid, sizeof(h.id));
	memcpy(h.subject_id, a, sizeof(h.subject_id));
	snprintf(h.category, sizeof(h.category), "commercial");
	h.from = 500;
	snprintf(h.reason, sizeof(h.reason), "litigation 2026-17");
	snprintf(h.created_by, sizeof(h.created_by), "legal");
	h.created_at = 1764000000;
	assert_int_equal(pv_store_hold_insert(f->s, &h), 0);
	assert_int_equal(pv_store_hold_insert(f->s, &h), PV_EEXISTS);
	assert_int_equal(pv_store_hold_get(f->s, hid, &out), 0);
	assert_string_equal(out.category, "commercial");
	assert_string_equal(out.subject_id, a);
	assert_int_equal(out.from, 500);
	assert_int_equal(out.to, 0);
	assert_string_equal(out.released_by, "");
	assert_int_equal(pv_store_subject_set_state(f->s, b, PV_SUBJECT_RESTRICTED, 5), 0);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pv_store_record_expired_each(f->s, base, base + 3, 0, expired_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.e[0].id, r[0].id);
	assert_string_equal(seen.e[1].id, r[2].id);
	memset(&hs, 0, sizeof(hs));
	hs.id = hid;
	assert_int_equal(pv_store_hold_each(f->s, 1, hold_cb, &hs), 0);
	assert_int_equal(hs.found, 1);
	assert_int_equal(pv_store_hold_release(f->s, hid, "legal", 1764000500), 0);
	assert_int_equal(pv_store_hold_release(f->s, hid, "legal", 1764000600), PV_ENOTFOUND);
	memset(&hs, 0, sizeof(hs));
	hs.id = hid;
	assert_int_equal(pv_store_hold_each(f->s, 1, hold_cb, &hs), 0);
	assert_int_equal(hs.found, 0);   /* no longer active */
	assert_int_equal(pv_store_hold_each(f->s, 0, hold_cb, &hs), 0);
	assert_int_equal(hs.found, 1);
	assert_string_equal(hs.h.released_by, "legal");
	assert_int_equal(hs.h.released_at, 1764000500);
	assert_int_equal(pv_store_hold_get(f->s, "00000000-0000-4000-8000-000000000000", &out), PV_ENOTFOUND);

	/* deletes by reference, counts per subject */
	memcpy(refs[0].subject_id, a, sizeof(refs[0].subject_id));
	memcpy(refs[0].id, r[0].id, sizeof(refs[0].id));
	memcpy(refs[1].subject_id, b, sizeof(refs[1].subject_id));   /* r[0] is not b's: nothing */
	memcpy(refs[1].id, r[0].id, sizeof(refs[1].id));
	assert_int_equal(pv_store_record_delete_refs(f->s, refs, 2, &deleted), 0);
	assert_int_equal(deleted, 1);
	{
		char ids[2][PV_ID_LEN + 1];

		memcpy(ids[0], a, sizeof(ids[0]));
		memcpy(ids[1], b, sizeof(ids[1]));
		assert_int_equal(pv_store_record_count_subjects(f->s, (const char (*)[PV_ID_LEN + 1])ids, 2, counts), 0);
		assert_int_equal(counts[0], 2);
		assert_int_equal(counts[1], 1);
	}

	/* tallies add up per (category, purpose, source, month) */
	snprintf(cat, sizeof(cat), "t_%.8s", hid);
	assert_int_equal(pv_store_tally_add(f->s, cat, "billing", "", 1764547200, 3), 0);
	assert_int_equal(pv_store_tally_add(f->s, cat, "billing", "", 1764547200, 4), 0);
	memset(&ts, 0, sizeof(ts));
	ts.category = cat;
	assert_int_equal(pv_store_tally_each(f->s, tally_cb, &ts), 0);
	assert_int_equal(ts.count, 7);
	assert_int_equal(ts.month, 1764547200);
}

/* ---- transactions, persistence ----------------------------------------------------------- */

static void test_transactions(void **state)
{
	fixture *f = *state;
	pv_store_subject subj;
	pv_store_record r;
	pv_store_key k;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1], x[PV_ID_LEN + 1];
	uint8_t ct[4] = { 4, 3, 2, 1 }, *buf = NULL;
	pv_store *other = NULL;
	int64_t n0, n;

	assert_int_equal(pv_store_record_count(f->s, &n0), 0);
	/* rollback leaves nothing */
	assert_int_equal(pv_store_begin(f->s), 0);
	assert_int_equal(pv_store_begin(f->s), PV_EINVAL);   /* not nested */
	new_subject(f->s, a);
	make_key(&k, a, 1, 5);
	assert_int_equal(pv_store_key_insert(f->s, &k), 0);
	make_record(&r, a, "contact", 1, ct, sizeof(ct));
	assert_int_equal(pv_store_record_insert(f->s, &r), 0);
	assert_int_equal(pv_store_meta_set(f->s, "test_tx", "rolled back"), 0);
	assert_int_equal(pv_store_rollback(f->s), 0);
	assert_int_equal(pv_store_subject_get(f->s, a, &subj), PV_ENOTFOUND);
	assert_int_equal(pv_store_key_get(f->s, a, &k), PV_ENOTFOUND);
	assert_int_equal(pv_store_record_get(f->s, a, r.id, &r, &buf), PV_ENOTFOUND);
	assert_int_equal(pv_store_record_count(f->s, &n), 0);
	assert_int_equal(n, n0);
	{
		char v[32];
		assert_int_equal(pv_store_meta_get(f->s, "test_tx", v, sizeof(v)), PV_ENOTFOUND);
	}

	/* commit keeps all, and a failed statement inside does not undo the others */
	assert_int_equal(pv_store_begin(f->s), 0);
	new_subject(f->s, b);
	make_key(&k, b, 1, 6);
	assert_int_equal(pv_store_key_insert(f->s, &k), 0);
	assert_int_equal(pv_store_key_insert(f->s, &k), PV_EEXISTS);
	make_record(&r, b, "contact", 1, ct, sizeof(ct));
	assert_int_equal(pv_store_record_insert(f->s, &r), 0);
	{
		/* another connection does not see uncommitted rows */
		assert_int_equal(pv_store_open(&other, f->url, 0), 0);
		assert_int_equal(pv_store_subject_get(other, b, &subj), PV_ENOTFOUND);
	}
	assert_int_equal(pv_store_commit(f->s), 0);
	assert_int_equal(pv_store_commit(f->s), PV_EINVAL);
	assert_int_equal(pv_store_rollback(f->s), 0);   /* none open: no-op */
	assert_int_equal(pv_store_subject_get(f->s, b, &subj), 0);
	assert_int_equal(pv_store_key_get(f->s, b, &k), 0);
	assert_int_equal(pv_store_record_get(f->s, b, r.id, &r, &buf), 0);
	free(buf);
	assert_int_equal(pv_store_record_count(f->s, &n), 0);
	assert_int_equal(n, n0 + 1);
	if (other != NULL) {
		assert_int_equal(pv_store_subject_get(other, b, &subj), 0);
		/* later commits are visible to the other connection at once */
		assert_int_equal(pv_store_begin(f->s), 0);
		new_subject(f->s, x);
		assert_int_equal(pv_store_commit(f->s), 0);
		assert_int_equal(pv_store_subject_get(other, x, &subj), 0);
		pv_store_close(other);
	}
}

static void test_reopen_keeps_data(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], buf[16];
	uint8_t ct[10], *got = NULL;
	pv_store_record r, out;
	pv_store_subject subj;
	pv_audit_entry e;
	int64_t seq;
	uint8_t hash[PV_AUDIT_HASH_LEN];

	new_subject(f->s, a);
	fill(ct, sizeof(ct), 5);
	make_record(&r, a, "contact", 42, ct, sizeof(ct));
	assert_int_equal(pv_store_record_insert(f->s, &r), 0);
	assert_int_equal(pv_store_meta_set(f->s, "test_reopen", "kept"), 0);
	assert_int_equal(pv_store_audit_head(f->s, &seq, hash), 0);
	make_entry(&e, seq + 1, hash);
	assert_int_equal(pv_store_audit_append(f->s, &e), 0);
	reopen(f);
	assert_int_equal(pv_store_subject_get(f->s, a, &subj), 0);
	assert_int_equal(pv_store_record_get(f->s, a, r.id, &out, &got), 0);
	assert_record_equal(&out, &r);
	free(got);
	assert_int_equal(pv_store_meta_get(f->s, "test_reopen", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "kept");
	assert_int_equal(pv_store_audit_head(f->s, &seq, hash), 0);
	assert_int_equal(seq, e.seq);
	assert_memory_equal(hash, e.hash, PV_AUDIT_HASH_LEN);
}

/* Many inserts through the cached statements in one transaction (run under ASan for leaks). */
static void test_bulk_inserts(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1];
	uint8_t ct[200], hash[PV_AUDIT_HASH_LEN];
	pv_store_record r;
	pv_audit_entry e;
	pv_store_identifier id;
	int64_t before, after, seq;
	int i;

	fill(ct, sizeof(ct), 1);
	assert_int_equal(pv_store_record_count(f->s, &before), 0);
	assert_int_equal(pv_store_audit_head(f->s, &seq, hash), 0);
	assert_int_equal(pv_store_begin(f->s), 0);
	for (i = 0; i < 2000; i++) {
		new_subject(f->s, a);
		make_ident(&id, a, "email", (uint8_t)i, ct, 48);
		assert_int_equal(pv_store_identifier_insert(f->s, &id), 0);
		make_record(&r, a, "contact", i, ct, sizeof(ct));
		assert_int_equal(pv_store_record_insert(f->s, &r), 0);
		make_entry(&e, seq + 1 + i, hash);
		assert_int_equal(pv_store_audit_append(f->s, &e), 0);
		memcpy(hash, e.hash, sizeof(hash));
	}
	assert_int_equal(pv_store_commit(f->s), 0);
	assert_int_equal(pv_store_record_count(f->s, &after), 0);
	assert_int_equal(after - before, 2000);
}

static void test_bad_arguments(void **state)
{
	fixture *f = *state;
	pv_store_record r;
	pv_store_identifier id;
	uint8_t bi[PV_BLIND_INDEX_LEN] = { 0 }, *buf = (uint8_t *)1;
	char out[PV_ID_LEN + 1];
	int64_t n;

	assert_int_equal(pv_store_begin(NULL), PV_EINVAL);
	assert_int_equal(pv_store_record_count(NULL, &n), PV_EINVAL);
	assert_int_equal(pv_store_record_count(f->s, NULL), PV_EINVAL);
	assert_int_equal(pv_store_identifier_find(f->s, "", bi, out), PV_EINVAL);
	assert_int_equal(pv_store_identifier_find(f->s, "email", NULL, out), PV_EINVAL);
	assert_int_equal(pv_store_record_each(f->s, "x", NULL, NULL, NULL), PV_EINVAL);
	assert_int_equal(pv_store_record_get(f->s, "a", "b", &r, &buf), PV_ENOTFOUND);
	assert_null(buf);
	make_record(&r, "s", "Contact!", 1, NULL, 0);
	memset(r.category, 'x', sizeof(r.category));   /* not terminated within its field */
	assert_int_equal(pv_store_record_insert(f->s, &r), PV_EINVAL);
	make_record(&r, "s", "contact", 1, NULL, 5);
	assert_int_equal(pv_store_record_insert(f->s, &r), PV_EINVAL);
	make_ident(&id, "s", "email", 1, NULL, 0);
	memset(id.kind, 'k', sizeof(id.kind));
	assert_int_equal(pv_store_identifier_insert(f->s, &id), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "identifier_insert"));
}

/* ---- portable statements (pv_store_exec / pv_store_query) -------------------------------- */

static const char q_ins[] = "INSERT INTO meta (key, value) VALUES (?, ?)";
static const char q_upd[] = "UPDATE meta SET value = ? WHERE key LIKE ?";
static const char q_sel[] = "SELECT key, value, LENGTH(value) AS n FROM meta WHERE key LIKE ? ORDER BY key";
static const char q_two[] = "SELECT CAST(? AS BIGINT) AS a";

typedef struct {
	pv_store *s;
	const char *like;
	int rows, nested;
	char keys[4][48];
	int64_t lens[4];
} q_seen;

static int q_row(const char *const *cols, const pv_store_value *v, size_t n, void *payload)
{
	q_seen *seen = payload;

	assert_int_equal(n, 3);
	assert_string_equal(cols[0], "key");
	assert_string_equal(cols[2], "n");
	assert_true(seen->rows < 4);
	assert_int_equal(pv_sv_get_text(&v[0], seen->keys[seen->rows], sizeof(seen->keys[0])), 0);
	seen->lens[seen->rows] = pv_sv_get_int(&v[2]);
	seen->rows++;
	if (seen->nested) {
		/* the same statement again while the outer one is stepping */
		q_seen inner = { .s = seen->s, .like = seen->like };
		pv_store_value p = pv_sv_text(seen->like);

		assert_int_equal(pv_store_query(seen->s, "meta nested", q_sel, &p, 1, q_row, &inner), 0);
		assert_int_equal(inner.rows, 2);
	}
	return 0;
}

static int q_stop(const char *const *cols, const pv_store_value *v, size_t n, void *payload)
{
	(void)cols;
	(void)n;
	*(int64_t *)payload = pv_sv_get_int(&v[0]);
	return 42;
}

static void test_portable_statements(void **state)
{
	fixture *f = *state;
	pv_store_value p[2] = { pv_sv_text("q.one"), pv_sv_text("1") };
	q_seen seen = { .s = f->s };
	int64_t changes = -1, got = 0;
	char small[3], k1[48], k2[48], k3[48], like[48];

	/* keys of this run only: the PostgreSQL suite runs twice on one database */
	snprintf(like, sizeof(like), "q%ld.%d.%%", (long)time(NULL), (int)getpid());
	snprintf(k1, sizeof(k1), "%.*sone", (int)strlen(like) - 1, like);
	snprintf(k2, sizeof(k2), "%.*stwo", (int)strlen(like) - 1, like);
	snprintf(k3, sizeof(k3), "%.*sthree", (int)strlen(like) - 1, like);
	p[0] = pv_sv_text(k1);
	seen.like = like;

	assert_int_equal(pv_store_exec(f->s, "meta insert", q_ins, p, 2, &changes), 0);
	assert_int_equal(changes, 1);
	p[0] = pv_sv_text(k2);
	p[1] = pv_sv_text("22");
	assert_int_equal(pv_store_exec(f->s, "meta insert", q_ins, p, 2, NULL), 0);
	/* a taken key: PV_EEXISTS, and the message names the label, not the value */
	assert_int_equal(pv_store_exec(f->s, "meta insert", q_ins, p, 2, NULL), PV_EEXISTS);
	assert_non_null(strstr(pv_error_last(), "meta insert"));
	assert_null(strstr(pv_error_last(), k2));
	/* placeholders and values must agree */
	assert_int_equal(pv_store_exec(f->s, "meta insert", q_ins, p, 1, NULL), PV_EINVAL);
	assert_int_equal(pv_store_exec(f->s, "bad", "INSERT INTO no_such_table VALUES (?)", p, 1, NULL), PV_ESTORE);

	p[0] = pv_sv_text(like);
	assert_int_equal(pv_store_query(f->s, "meta select", q_sel, p, 1, q_row, &seen), 0);
	assert_int_equal(seen.rows, 2);
	assert_string_equal(seen.keys[0], k1);
	assert_string_equal(seen.keys[1], k2);
	assert_int_equal(seen.lens[1], 2);

	/* update: the count of changed rows */
	p[0] = pv_sv_text("333");
	p[1] = pv_sv_text(like);
	assert_int_equal(pv_store_exec(f->s, "meta update", q_upd, p, 2, &changes), 0);
	assert_int_equal(changes, 2);
	memset(&seen, 0, sizeof(seen));
	seen.s = f->s;
	seen.like = like;
	seen.nested = 1;
	p[0] = pv_sv_text(like);
	assert_int_equal(pv_store_query(f->s, "meta select", q_sel, p, 1, q_row, &seen), 0);
	assert_int_equal(seen.rows, 2);
	assert_int_equal(seen.lens[0], 3);

	/* a callback's non-zero return stops the walk and comes back; ints round-trip */
	p[0] = pv_sv_int(-7);
	assert_int_equal(pv_store_query(f->s, "select", q_two, p, 1, q_stop, &got), 42);
	assert_int_equal(got, -7);
	/* inside a transaction, rolled back: nothing stays */
	p[0] = pv_sv_text(k3);
	p[1] = pv_sv_null();
	assert_int_equal(pv_store_exec(f->s, "meta insert", q_ins, p, 2, NULL), PV_ESTORE);   /* NOT NULL */
	assert_int_equal(pv_store_begin(f->s), 0);
	p[1] = pv_sv_text("3");
	assert_int_equal(pv_store_exec(f->s, "meta insert", q_ins, p, 2, NULL), 0);
	assert_int_equal(pv_store_rollback(f->s), 0);
	assert_int_equal(pv_store_meta_get(f->s, k3, small, sizeof(small)), PV_ENOTFOUND);
	/* a text column too long for the caller's buffer */
	pv_store_value longv = pv_sv_text("abc");
	assert_int_equal(pv_sv_get_text(&longv, small, sizeof(small)), -1);
	assert_int_equal(pv_store_query(f->s, "x", q_sel, p, 1, NULL, NULL), PV_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_each_other_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_each, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_delete_subject, setup, teardown),
		cmocka_unit_test_setup_teardown(test_suppression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk_inserts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_tables_and_report, setup, teardown),
		cmocka_unit_test_setup_teardown(test_table_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_serial_and_job_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_lock_across_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apikeys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_portable_statements, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
