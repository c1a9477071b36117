/*
 * Vault tests: init/open, subjects and blind indexes, records and the access
 * decision, retention expiry, policy versions, rectification, erasure,
 * tamper detection, batches and key rotation. Each test gets a fresh vault
 * in a temporary directory, initialized with tests/data/vault-policy.yaml.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privault/privault.h"
#include "privault/consent.h"
/* the batch's subject cache is checked from inside (test_batch_subject_cache) */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#define POLICY_V1 PV_SOURCE_ROOT "/tests/data/vault-policy.yaml"
#define POLICY_V2 PV_SOURCE_ROOT "/tests/data/vault-policy-v2.yaml"

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller AUDITOR = { "test-auditor", PV_ROLE_AUDITOR, NULL, 0 };

typedef struct {
	char root[64];
	char dir[128];
	char db[160];
	pv_vault *v;
} fixture;

/* ---- helpers ----------------------------------------------------------- */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	snprintf(f->root, sizeof(f->root), "/tmp/pv-test-vault-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->dir, sizeof(f->dir), "%s/v", f->root);
	snprintf(f->db, sizeof(f->db), "%s/vault.db", f->dir);
	assert_int_equal(pv_vault_init(f->dir, POLICY_V1, NULL), 0);
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	pv_clock_reset();
	pv_vault_close(f->v);
	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void reopen(fixture *f)
{
	pv_vault_close(f->v);
	f->v = NULL;
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
}

/* The first column of the first row of `sql` (with one optional text parameter) as an integer. */
static int64_t sql_int(const fixture *f, const char *sql, const char *param)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n = -1;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (param)
		sqlite3_bind_text(st, 1, param, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void sql_exec(const fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* Flip one bit of the third byte of a record's ciphertext, through sqlite3. */
static void flip_ciphertext_byte(const fixture *f, const char *record_id)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	uint8_t buf[4096];
	int n;

	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT ciphertext FROM records WHERE id = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, record_id, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_bytes(st, 0);
	assert_true(n > 3 && n <= (int)sizeof(buf));
	memcpy(buf, sqlite3_column_blob(st, 0), (size_t)n);
	sqlite3_finalize(st);
	buf[2] ^= 0x01;
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE records SET ciphertext = ? WHERE id = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, buf, n, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, record_id, -1, SQLITE_TRANSIENT);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	assert_int_equal(sqlite3_changes(db), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* 1 when the file at `path` contains `needle` anywhere (0 when the file does not exist). */
static int file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t n = strlen(needle), len = 0, cap = 1 << 16;
	char *buf;
	int found = 0;

	if (!fp)
		return 0;
	buf = malloc(cap);
	for (size_t r; (r = fread(buf + len, 1, cap - len, fp)) > 0;) {
		len += r;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(fp);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

/* 1 when any file of the database (main, WAL, journal) contains `needle`. */
static int db_contains(const fixture *f, const char *needle)
{
	char p[200];

	snprintf(p, sizeof(p), "%s-wal", f->db);
	if (file_contains(p, needle))
		return 1;
	snprintf(p, sizeof(p), "%s-journal", f->db);
	return file_contains(f->db, needle) || file_contains(p, needle);
}

static void create_subject(pv_vault *v, const char *email, char id[PV_ID_LEN + 1])
{
	pv_identifier ids[] = { { "email", email } };
	pv_subject_spec spec = { ids, 1, NULL, 1990, 0 };
	int rc = pv_subject_create(v, &ADMIN, &spec, id);

	if (rc != 0)
		print_error("create_subject: %s\n", pv_error_last());
	assert_int_equal(rc, 0);
}

static int put(pv_vault *v, const pv_caller *c, const char *sid, const char *cat, const char *purpose,
	       const char *data, char id[PV_ID_LEN + 1])
{
	pv_record_spec spec = { cat, purpose, NULL, data, strlen(data) };
	int rc = pv_record_put(v, c, sid, &spec, id);

	if (getenv("PV_TEST_VERBOSE") && rc != 0)
		print_error("put: %s\n", pv_error_last());
	return rc;
}

/* Audit entries collected by pv_audit_list. */
typedef struct {
	pv_audit_entry e[512];
	size_t n;
} audit_dump;

static int dump_cb(const pv_audit_entry *e, void *payload)
{
	audit_dump *d = payload;

	if (d->n < 512)
		d->e[d->n++] = *e;
	return 0;
}

static audit_dump *audit_all(pv_vault *v)
{
	audit_dump *d = calloc(1, sizeof(*d));

	assert_int_equal(pv_audit_list(v, 1, 0, dump_cb, d), 0);
	return d;
}

/* The last audit entry with `action`, or NULL. */
static const pv_audit_entry *audit_last(const audit_dump *d, const char *action)
{
	for (size_t i = d->n; i > 0; i--)
		if (strcmp(d->e[i - 1].action, action) == 0)
			return &d->e[i - 1];
	return NULL;
}

static int audit_mentions(const audit_dump *d, const char *needle)
{
	for (size_t i = 0; i < d->n; i++) {
		const pv_audit_entry *e = &d->e[i];
		if (strstr(e->actor, needle) || strstr(e->action, needle) || strstr(e->purpose, needle)
		    || strstr(e->category, needle) || strstr(e->outcome, needle))
			return 1;
	}
	return 0;
}

/* ---- init and open ----------------------------------------------------- */

static void test_init_open(void **state)
{
	fixture *f = *state;
	pv_policy *p;
	struct stat st;
	char key[200], bad[160];
	pv_vault *v2 = NULL;

	/* the current policy is the file's version */
	assert_int_equal(pv_policy_load_file(&p, POLICY_V1, NULL), 0);
	assert_string_equal(pv_policy_hash(pv_vault_policy(f->v)), pv_policy_hash(p));
	pv_policy_free(p);
	/* directory 0700, key file 0600 */
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(key, sizeof(key), "%s/privault.key", f->dir);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a second init is refused and leaves the vault usable */
	assert_int_equal(pv_vault_init(f->dir, POLICY_V1, NULL), PV_EEXISTS);
	assert_int_equal(pv_vault_open(&v2, f->dir, NULL), 0);
	pv_vault_close(v2);
	/* an invalid policy leaves nothing behind */
	snprintf(bad, sizeof(bad), "%s/bad", f->root);
	assert_int_equal(pv_vault_init(bad, PV_SOURCE_ROOT "/tests/data/does-not-exist.yaml", NULL) < 0, 1);
	assert_int_not_equal(stat(bad, &st), 0);
	/* opening where there is no vault */
	assert_int_equal(pv_vault_open(&v2, f->root, NULL), PV_ENOTFOUND);
	assert_null(v2);
	/* the init is audited */
	audit_dump *d = audit_all(f->v);
	assert_true(d->n >= 1);
	assert_string_equal(d->e[0].action, "vault.init");
	free(d);
}

/* ---- subjects ---------------------------------------------------------- */

static void test_create_find(void **state)
{
	fixture *f = *state;
	pv_identifier ids[] = { { "email", "Alice@Example.COM" }, { "phone", "+33 6 12 34 56 78" } };
	pv_subject_spec spec = { ids, 2, "ccpa", 1985, 0 };
	char id[PV_ID_LEN + 1], found[PV_ID_LEN + 1], other[PV_ID_LEN + 1];
	pv_subject_info info;

	assert_int_equal(pv_subject_create(f->v, &ADMIN, &spec, id), 0);
	assert_int_equal(strlen(id), PV_ID_LEN);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "alice@example.com", found), 0);
	assert_string_equal(found, id);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "  ALICE@example.com ", found), 0);
	assert_string_equal(found, id);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "phone", "+33612345678", found), 0);
	assert_string_equal(found, id);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "bob@example.com", found), PV_ENOTFOUND);
	assert_null(strstr(pv_error_last(), "bob"));

	assert_int_equal(pv_subject_get(f->v, &AUDITOR, id, &info), 0);
	assert_string_equal(info.id, id);
	assert_int_equal(info.regime, PV_REGIME_CCPA);
	assert_int_equal(info.birth_year, 1985);
	assert_int_equal(info.state, PV_SUBJECT_ACTIVE);

	/* the same email in another case belongs to Alice: refused, naming the kind only */
	pv_identifier dup[] = { { "login", "alice2" }, { "email", "ALICE@example.com" } };
	pv_subject_spec spec2 = { dup, 2, NULL, 0, 0 };
	assert_int_equal(pv_subject_create(f->v, &ADMIN, &spec2, other), PV_EEXISTS);
	assert_non_null(strstr(pv_error_last(), "email"));
	assert_null(strstr(pv_error_last(), "alice"));
	assert_null(strstr(pv_error_last(), "ALICE"));
	/* nothing of the refused subject was kept */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subjects", NULL), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM identifiers", NULL), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys", NULL), 1);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "login", "alice2", found), PV_ENOTFOUND);

	/* validation */
	pv_identifier badkind[] = { { "E-mail", "x@example.com" } };
	pv_subject_spec s3 = { badkind, 1, NULL, 0, 0 };
	assert_int_equal(pv_subject_create(f->v, &ADMIN, &s3, other), PV_EINVAL);
	pv_subject_spec s4 = { NULL, 0, "lgpd", 0, 0 };   /* lgpd is not in force */
	assert_int_equal(pv_subject_create(f->v, &ADMIN, &s4, other), PV_EPOLICY);
	pv_subject_spec s5 = { NULL, 0, NULL, 1800, 0 };
	assert_int_equal(pv_subject_create(f->v, &ADMIN, &s5, other), PV_EINVAL);
	pv_subject_spec s6 = { NULL, 0, NULL, 0, 0 };    /* no identifier at all is fine */
	assert_int_equal(pv_subject_create(f->v, &ADMIN, &s6, other), 0);
	assert_int_equal(pv_subject_get(f->v, &ADMIN, other, &info), 0);
	assert_int_equal(info.regime, PV_REGIME_GDPR);   /* the policy's default */
	/* auditors do not write, nor look people up */
	assert_int_equal(pv_subject_create(f->v, &AUDITOR, &s6, other), PV_EDENIED);
	assert_int_equal(pv_subject_find(f->v, &AUDITOR, "email", "alice@example.com", found), PV_EDENIED);
	pv_caller noname = { "", PV_ROLE_ADMIN, NULL, 0 };
	assert_int_equal(pv_subject_create(f->v, &noname, &s6, other), PV_EINVAL);

	/* the audit holds subject ids and outcomes, never the identifier */
	audit_dump *d = audit_all(f->v);
	const pv_audit_entry *e = audit_last(d, "subject.find");
	assert_non_null(e);
	assert_true(audit_mentions(d, "notfound"));
	assert_false(audit_mentions(d, "alice"));
	assert_false(audit_mentions(d, "example.com"));
	free(d);
}

/* ---- records ----------------------------------------------------------- */

static void test_put_read(void **state)
{
	fixture *f = *state;
	const char *data = "{\"name\": \"Alice\", \"tags\": [1, 2, {\"x\": null}]}";
	char sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1], tmp[PV_ID_LEN + 1];
	pv_record_list *l = NULL;
	pv_decision d;

	create_subject(f->v, "alice@example.com", sid);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", data, rid), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	assert_int_equal(pv_record_list_denied(l), 0);
	const pv_record *r = pv_record_list_at(l, 0);
	assert_string_equal(r->id, rid);
	assert_string_equal(r->subject_id, sid);
	assert_string_equal(r->category, "contact");
	assert_string_equal(r->purpose, "account");
	assert_string_equal(r->source, "");
	assert_string_equal(r->policy_version, pv_policy_hash(pv_vault_policy(f->v)));
	assert_int_equal(r->len, strlen(data));
	assert_memory_equal(r->data, data, strlen(data) + 1);
	assert_true(r->expires_at == INT64_MAX);   /* no retention rule for contact x account */
	assert_null(pv_record_list_at(l, 1));
	pv_record_list_free(l);

	/* the category filter */
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", "contact", &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	pv_record_list_free(l);

	/* input checks */
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "[1,2]", tmp), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "data: expected a JSON object"));
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"a\":1,\"a\":2}", tmp), PV_EINVAL);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"secret-value\" 1}", tmp), PV_EINVAL);
	assert_null(strstr(pv_error_last(), "secret-value"));
	assert_int_equal(put(f->v, &ADMIN, sid, "nope", "account", "{}", tmp), PV_EPOLICY);
	assert_non_null(strstr(pv_error_last(), "category"));
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "nope", "{}", tmp), PV_EPOLICY);
	assert_non_null(strstr(pv_error_last(), "purpose"));
	assert_int_equal(put(f->v, &ADMIN, sid, "commercial", "account", "{}", tmp), PV_EPOLICY);
	assert_non_null(strstr(pv_error_last(), "does not cover"));
	pv_record_spec bad_src = { "contact", "account", "nowhere", "{}", 2 };
	assert_int_equal(pv_record_put(f->v, &ADMIN, sid, &bad_src, tmp), PV_EPOLICY);
	pv_record_spec good_src = { "contact", "account", "direct", "{}", 2 };
	assert_int_equal(pv_record_put(f->v, &ADMIN, sid, &good_src, tmp), 0);
	char deep[512] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "{\"a\":");
	strcat(deep, "1");
	for (int i = 0; i < 40; i++)
		strcat(deep, "}");
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", deep, tmp), PV_ELIMIT);
	assert_int_equal(put(f->v, &ADMIN, "00000000-0000-4000-8000-000000000000", "contact", "account", "{}", tmp),
			 PV_ENOTFOUND);
	assert_int_equal(put(f->v, &AUDITOR, sid, "contact", "account", "{}", tmp), PV_EDENIED);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records", NULL), 2);
	/* nothing of the plaintext is stored */
	assert_false(db_contains(f, "Alice"));
}

static void test_read_decisions(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1];
	pv_record_list *l = NULL;
	pv_decision d;

	create_subject(f->v, "bob@example.com", sid);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"phone\":\"1\"}", rid), 0);
	assert_int_equal(put(f->v, &ADMIN, sid, "commercial", "order_fulfilment", "{\"order\":7}", rid), 0);

	/* undeclared purpose */
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "profiling", NULL, &l, &d), PV_EDENIED);
	assert_null(l);
	assert_int_equal(d.allow, 0);
	assert_int_equal(d.reason, PV_REASON_PURPOSE_UNDECLARED);
	assert_string_equal(pv_reason_name(d.reason), "purpose_undeclared");
	/* the commercial record is not covered by `account`; the contact one is */
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", "commercial", &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_CATEGORY_NOT_IN_PURPOSE);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	assert_int_equal(pv_record_list_denied(l), 1);
	assert_string_equal(pv_record_list_at(l, 0)->category, "contact");
	pv_record_list_free(l);

	/* a service without a grant, with one, with a grant limited to other categories */
	pv_caller svc = { "shop-backend", PV_ROLE_SERVICE, NULL, 0 };
	assert_int_equal(pv_record_read(f->v, &svc, sid, "account", "contact", &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_NO_GRANT);
	pv_grant g = { "account", NULL, 0 };
	svc.grants = &g;
	svc.ngrants = 1;
	assert_int_equal(pv_record_read(f->v, &svc, sid, "account", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	assert_string_equal(pv_record_list_at(l, 0)->data, "{\"phone\":\"1\"}");
	pv_record_list_free(l);
	const char *only_ids[] = { "identifiers" };
	pv_grant g2 = { "account", only_ids, 1 };
	svc.grants = &g2;
	assert_int_equal(pv_record_read(f->v, &svc, sid, "account", "contact", &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_NO_GRANT);
	/* a service writes only under its grants */
	assert_int_equal(put(f->v, &svc, sid, "contact", "account", "{}", rid), PV_EDENIED);
	assert_int_equal(put(f->v, &svc, sid, "identifiers", "account", "{}", rid), 0);

	/* auditors never read personal data */
	assert_int_equal(pv_record_read(f->v, &AUDITOR, sid, "account", "contact", &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_ROLE_FORBIDDEN);
	/* unknown subject */
	assert_int_equal(pv_record_read(f->v, &ADMIN, "00000000-0000-4000-8000-000000000000", "account", NULL, &l, &d),
			 PV_ENOTFOUND);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_UNKNOWN);

	/* the vault decision, audited */
	assert_int_equal(pv_vault_decide(f->v, &ADMIN, sid, "contact", "account", &d), 0);
	assert_int_equal(d.allow, 1);
	assert_int_equal(pv_vault_decide(f->v, &AUDITOR, sid, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_ROLE_FORBIDDEN);
	assert_int_equal(pv_vault_decide(f->v, &ADMIN, "00000000-0000-4000-8000-000000000000", "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_UNKNOWN);
	audit_dump *a = audit_all(f->v);
	const pv_audit_entry *e = audit_last(a, "decision");
	assert_non_null(e);
	assert_string_equal(e->outcome, "deny:subject_unknown");
	e = audit_last(a, "record.read");
	assert_string_equal(e->outcome, "deny:subject_unknown");
	assert_true(audit_mentions(a, "deny:role_forbidden"));
	assert_true(audit_mentions(a, "allow:1,denied:1"));
	free(a);
}

static void test_access_decide_pure(void **state)
{
	fixture *f = *state;
	const pv_policy *p = pv_vault_policy(f->v);
	pv_subject_info s = { .state = PV_SUBJECT_ACTIVE };
	pv_decision d;

	assert_int_equal(pv_access_decide(p, &ADMIN, &s, "contact", "account", &d), 0);
	assert_int_equal(d.allow, 1);
	assert_int_equal(d.reason, PV_REASON_ALLOWED);
	/* order: policy before role, role before subject */
	assert_int_equal(pv_access_decide(p, &AUDITOR, NULL, "contact", "nope", &d), 0);
	assert_int_equal(d.reason, PV_REASON_PURPOSE_UNDECLARED);
	assert_int_equal(pv_access_decide(p, &AUDITOR, NULL, "nope", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_CATEGORY_UNDECLARED);
	assert_int_equal(pv_access_decide(p, &AUDITOR, NULL, "health", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_CATEGORY_NOT_IN_PURPOSE);
	assert_int_equal(pv_access_decide(p, &AUDITOR, NULL, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_ROLE_FORBIDDEN);
	assert_int_equal(pv_access_decide(p, &ADMIN, NULL, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_UNKNOWN);
	s.state = PV_SUBJECT_RESTRICTED;
	assert_int_equal(pv_access_decide(p, &ADMIN, &s, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_RESTRICTED);
	s.state = PV_SUBJECT_ERASED;
	assert_int_equal(pv_access_decide(p, &ADMIN, &s, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_ERASED);
	assert_int_equal(d.allow, 0);
	assert_int_equal(pv_access_decide(NULL, &ADMIN, &s, "contact", "account", &d), PV_EINVAL);
	assert_string_equal(pv_reason_name(PV_REASON_CATEGORY_NOT_IN_PURPOSE), "category_not_in_purpose");
	assert_string_equal(pv_reason_name(PV_REASON_SUBJECT_RESTRICTED), "subject_restricted");
}

/* ---- retention --------------------------------------------------------- */

static pv_time read_expiry(fixture *f, const char *sid, const char *purpose, const char *cat)
{
	pv_record_list *l;
	pv_decision d;
	pv_time t;

	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, purpose, cat, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	t = pv_record_list_at(l, 0)->expires_at;
	assert_int_equal(pv_record_list_at(l, 0)->collected_at, pv_clock_now());
	pv_record_list_free(l);
	return t;
}

static void test_expiry(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1], buf[32];
	pv_time now;

	assert_int_equal(pv_time_parse(&now, "2024-01-31T10:00:00Z"), 0);
	pv_clock_set(now);
	create_subject(f->v, "carol@example.com", sid);
	/* (commercial, order_fulfilment): 1 month; 31 January 2024 -> 29 February (leap year) */
	assert_int_equal(put(f->v, &ADMIN, sid, "commercial", "order_fulfilment", "{\"o\":1}", rid), 0);
	pv_time_format(read_expiry(f, sid, "order_fulfilment", "commercial"), buf, sizeof(buf));
	assert_string_equal(buf, "2024-02-29T10:00:00Z");
	/* (identifiers, order_fulfilment): the purpose's own 2 years */
	assert_int_equal(put(f->v, &ADMIN, sid, "identifiers", "order_fulfilment", "{\"c\":1}", rid), 0);
	pv_time_format(read_expiry(f, sid, "order_fulfilment", "identifiers"), buf, sizeof(buf));
	assert_string_equal(buf, "2026-01-31T10:00:00Z");
	/* (contact, marketing): 30 days */
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "marketing", "{\"n\":1}", rid), 0);
	/* marketing's GDPR basis is consent: reading needs a grant in force */
	assert_int_equal(pv_consent_record_one(f->v, &ADMIN, sid, "marketing", PV_CONSENT_GRANTED, NULL, NULL), 0);
	pv_time_format(read_expiry(f, sid, "marketing", "contact"), buf, sizeof(buf));
	assert_string_equal(buf, "2024-03-01T10:00:00Z");

	/* a non-leap year ends on 28 February */
	assert_int_equal(pv_time_parse(&now, "2023-01-31T00:00:00Z"), 0);
	pv_clock_set(now);
	char sid2[PV_ID_LEN + 1];
	create_subject(f->v, "dave@example.com", sid2);
	assert_int_equal(put(f->v, &ADMIN, sid2, "commercial", "order_fulfilment", "{\"o\":2}", rid), 0);
	pv_time_format(read_expiry(f, sid2, "order_fulfilment", "commercial"), buf, sizeof(buf));
	assert_string_equal(buf, "2023-02-28T00:00:00Z");
}

/* ---- policy versions --------------------------------------------------- */

static void test_policy_versions(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1], v1[PV_HASH_HEX_LEN + 1], v2[PV_HASH_HEX_LEN + 1], again[PV_HASH_HEX_LEN + 1];
	pv_record_list *l;
	pv_decision d;
	const pv_policy *p;

	snprintf(v1, sizeof(v1), "%s", pv_policy_hash(pv_vault_policy(f->v)));
	create_subject(f->v, "erin@example.com", sid);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "marketing", "{\"newsletter\":true}", rid), 0);
	/* marketing's GDPR basis is consent: reading needs a grant in force */
	assert_int_equal(pv_consent_record_one(f->v, &ADMIN, sid, "marketing", PV_CONSENT_GRANTED, NULL, NULL), 0);

	assert_int_equal(pv_vault_policy_add(f->v, &AUDITOR, POLICY_V2, v2), PV_EDENIED);
	assert_int_equal(pv_vault_policy_add(f->v, &ADMIN, POLICY_V2, v2), 0);
	assert_string_not_equal(v1, v2);
	assert_string_equal(pv_policy_hash(pv_vault_policy(f->v)), v2);
	assert_int_equal(pv_vault_policy_add(f->v, &ADMIN, POLICY_V2, again), 0);   /* same file: no-op */
	assert_string_equal(again, v2);
	assert_int_equal(pv_vault_policy_get(f->v, v1, &p), 0);
	assert_string_equal(pv_policy_hash(p), v1);
	assert_int_equal(pv_vault_policy_get(f->v, "0000000000000000000000000000000000000000000000000000000000000000", &p),
			 PV_ENOTFOUND);

	/* v2 dropped `marketing`: no new marketing data ... */
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "marketing", "{}", rid), PV_EPOLICY);
	/* ... but the record collected under v1 stays governed by v1, also after reopening */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "marketing", NULL, &l, &d), 0);
		assert_int_equal(pv_record_list_count(l), 1);
		assert_string_equal(pv_record_list_at(l, 0)->policy_version, v1);
		assert_string_equal(pv_record_list_at(l, 0)->data, "{\"newsletter\":true}");
		pv_record_list_free(l);
		/* v2's new purpose does not reach v1 data */
		assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "analytics", NULL, &l, &d), PV_EDENIED);
		assert_int_equal(d.reason, PV_REASON_PURPOSE_UNDECLARED);
		reopen(f);
		assert_string_equal(pv_policy_hash(pv_vault_policy(f->v)), v2);
	}
	/* data collected under v2 for analytics is readable for analytics, once consented (GDPR basis consent) */
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "analytics", "{\"visits\":3}", rid), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "analytics", NULL, &l, &d), PV_EDENIED);
	assert_int_equal(pv_vault_decide(f->v, &ADMIN, sid, "contact", "analytics", &d), 0);
	assert_int_equal(d.reason, PV_REASON_CONSENT_MISSING);
	assert_int_equal(pv_consent_record_one(f->v, &ADMIN, sid, "analytics", PV_CONSENT_GRANTED, NULL, NULL), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "analytics", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	assert_int_equal(pv_record_list_denied(l), 1);
	assert_string_equal(pv_record_list_at(l, 0)->policy_version, v2);
	pv_record_list_free(l);
}

/* ---- rectification ----------------------------------------------------- */

static void test_rectify(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1];
	const char *after = "{\"name\":\"Frank Jones\",\"city\":\"Lyon\",\"country\":\"FR\"}";
	pv_record_list *l;
	pv_decision d;

	create_subject(f->v, "frank@example.com", sid);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account",
			     "{\"name\":\"Frank Smith\",\"city\":\"Lyon\",\"zip\":\"69001\"}", rid), 0);
	assert_int_equal(pv_record_rectify(f->v, &ADMIN, sid, rid, after, strlen(after)), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);
	assert_string_equal(pv_record_list_at(l, 0)->data, after);
	assert_string_equal(pv_record_list_at(l, 0)->id, rid);
	pv_record_list_free(l);

	audit_dump *a = audit_all(f->v);
	const pv_audit_entry *e = audit_last(a, "record.rectify");
	assert_non_null(e);
	assert_string_equal(e->outcome, "fields:country,name,zip");
	assert_string_equal(e->subject_id, sid);
	assert_string_equal(e->purpose, "account");
	assert_false(audit_mentions(a, "Frank"));
	assert_false(audit_mentions(a, "Jones"));
	assert_false(audit_mentions(a, "Lyon"));
	assert_false(audit_mentions(a, "69001"));
	free(a);

	/* a key longer than the outcome field: the list is cut with "..." */
	char big[300];
	snprintf(big, sizeof(big), "{\"a\":1,\"%0100d\":2}", 0);
	assert_int_equal(pv_record_rectify(f->v, &ADMIN, sid, rid, big, strlen(big)), 0);
	a = audit_all(f->v);
	e = audit_last(a, "record.rectify");
	assert_true(strlen(e->outcome) <= 64);
	assert_non_null(strstr(e->outcome, "..."));
	assert_int_equal(strncmp(e->outcome, "fields:", 7), 0);
	free(a);

	/* checks */
	assert_int_equal(pv_record_rectify(f->v, &ADMIN, sid, rid, "[]", 2), PV_EINVAL);
	assert_int_equal(pv_record_rectify(f->v, &AUDITOR, sid, rid, "{}", 2), PV_EDENIED);
	pv_caller svc = { "crm", PV_ROLE_SERVICE, NULL, 0 };
	assert_int_equal(pv_record_rectify(f->v, &svc, sid, rid, "{}", 2), PV_EDENIED);
	pv_grant g = { "account", NULL, 0 };
	svc.grants = &g;
	svc.ngrants = 1;
	assert_int_equal(pv_record_rectify(f->v, &svc, sid, rid, "{}", 2), 0);
	assert_int_equal(pv_record_rectify(f->v, &ADMIN, sid, "00000000-0000-4000-8000-000000000000", "{}", 2),
			 PV_ENOTFOUND);
}

/* ---- erasure ----------------------------------------------------------- */

static void test_erase(void **state)
{
	fixture *f = *state;
	const char *email = "grace.unique.person@example.org";
	const char *secret = "PLAINTEXT-MARKER-7f3a9c";
	char sid[PV_ID_LEN + 1], keep[PV_ID_LEN + 1], rid[PV_ID_LEN + 1], found[PV_ID_LEN + 1], json[128];
	pv_identifier ids[] = { { "email", email }, { "login", "gracehopper1906" } };
	pv_subject_spec spec = { ids, 2, NULL, 1970, 1 };
	pv_subject_info info;
	pv_record_list *l = NULL;
	pv_category_count *cats;
	size_t ncats;
	pv_decision d;

	assert_int_equal(pv_subject_create(f->v, &ADMIN, &spec, sid), 0);
	create_subject(f->v, "someone.else@example.org", keep);
	snprintf(json, sizeof(json), "{\"note\":\"%s\"}", secret);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", json, rid), 0);
	assert_int_equal(put(f->v, &ADMIN, sid, "identifiers", "account", json, rid), 0);
	assert_int_equal(put(f->v, &ADMIN, sid, "commercial", "order_fulfilment", json, rid), 0);
	assert_int_equal(put(f->v, &ADMIN, keep, "contact", "account", "{}", rid), 0);
	assert_int_equal(pv_subject_categories(f->v, &AUDITOR, sid, &cats, &ncats), 0);
	assert_int_equal(ncats, 3);
	size_t total = 0;
	for (size_t i = 0; i < ncats; i++)
		total += cats[i].count;
	assert_int_equal(total, 3);
	free(cats);
	/* the plaintext never reaches the database files */
	assert_false(db_contains(f, email));
	assert_false(db_contains(f, "gracehopper1906"));
	assert_false(db_contains(f, secret));

	assert_int_equal(pv_subject_erase(f->v, &AUDITOR, sid), PV_EDENIED);
	assert_int_equal(pv_subject_erase(f->v, &ADMIN, sid), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys WHERE subject_id = ?", sid), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records WHERE subject_id = ?", sid), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM identifiers WHERE subject_id = ?", sid), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM suppression WHERE reason = 'erasure'", NULL), 2);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM suppression WHERE kind = 'email'", NULL), 1);
	/* the other subject is untouched */
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records WHERE subject_id = ?", keep), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys WHERE subject_id = ?", keep), 1);

	assert_int_equal(pv_subject_get(f->v, &ADMIN, sid, &info), 0);
	assert_int_equal(info.state, PV_SUBJECT_ERASED);
	assert_int_equal(info.birth_year, 0);
	assert_int_equal(info.parental_consent, 0);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", email, found), PV_ENOTFOUND);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), PV_EERASED);
	assert_null(l);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_ERASED);
	assert_int_equal(pv_subject_erase(f->v, &ADMIN, sid), PV_EERASED);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{}", rid), PV_EERASED);
	assert_int_equal(pv_vault_decide(f->v, &ADMIN, sid, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_ERASED);

	audit_dump *a = audit_all(f->v);
	const pv_audit_entry *e = audit_last(a, "subject.erase");
	assert_non_null(e);
	assert_string_equal(e->outcome, "ok:records=3");
	assert_string_equal(e->subject_id, sid);
	free(a);
	pv_audit_report rep;
	assert_int_equal(pv_audit_verify(f->v, &rep), 0);
	assert_int_equal(rep.ok, 1);

	pv_vault_close(f->v);
	f->v = NULL;
	assert_false(db_contains(f, email));
	assert_false(db_contains(f, secret));
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
}

/* ---- tamper detection -------------------------------------------------- */

static void test_tamper(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], r1[PV_ID_LEN + 1], r2[PV_ID_LEN + 1], sql[512];
	pv_record_list *l = NULL;
	pv_decision d;

	create_subject(f->v, "heidi@example.com", sid);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"a\":\"first\"}", r1), 0);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"a\":\"second\"}", r2), 0);
	pv_vault_close(f->v);
	f->v = NULL;

	/* flip one byte of r1's ciphertext */
	flip_ciphertext_byte(f, r1);
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), PV_ECRYPTO);
	assert_null(l);
	assert_non_null(strstr(pv_error_last(), r1));
	audit_dump *a = audit_all(f->v);
	assert_string_equal(audit_last(a, "record.read")->outcome, "error:PV_ECRYPTO");
	free(a);

	/* move r2's nonce and ciphertext onto r1: r1 fails to open */
	pv_vault_close(f->v);
	f->v = NULL;
	snprintf(sql, sizeof(sql),
		 "UPDATE records SET (nonce, ciphertext) = (SELECT nonce, ciphertext FROM records WHERE id = '%s') "
		 "WHERE id = '%s'", r2, r1);
	sql_exec(f, sql);
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), PV_ECRYPTO);
	assert_non_null(strstr(pv_error_last(), r1));
	assert_null(strstr(pv_error_last(), r2));
}

/* ---- batches ----------------------------------------------------------- */

static void test_batch(void **state)
{
	fixture *f = *state;
	char sid[PV_ID_LEN + 1], sid2[PV_ID_LEN + 1], rid[PV_ID_LEN + 1], found[PV_ID_LEN + 1];
	pv_audit_report rep;
	int64_t before = sql_int(f, "SELECT count(*) FROM audit", NULL);

	assert_int_equal(pv_vault_begin(f->v), 0);
	assert_int_equal(pv_vault_begin(f->v), PV_EINVAL);
	create_subject(f->v, "ivan@example.com", sid);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"x\":1}", rid), 0);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"x\":2}", rid), 0);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "ivan@example.com", found), 0);
	assert_int_equal(pv_vault_rollback(f->v), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records", NULL), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subjects", NULL), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM audit", NULL), before);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "ivan@example.com", found), PV_ENOTFOUND);
	assert_int_equal(pv_audit_verify(f->v, &rep), 0);
	assert_int_equal(rep.ok, 1);
	assert_int_equal(pv_vault_commit(f->v), PV_EINVAL);

	/* a commit keeps everything; an input error inside the batch fails only that call */
	assert_int_equal(pv_vault_begin(f->v), 0);
	create_subject(f->v, "judy@example.com", sid);
	pv_identifier dup[] = { { "email", "JUDY@example.com" } };
	pv_subject_spec spec = { dup, 1, NULL, 0, 0 };
	assert_int_equal(pv_subject_create(f->v, &ADMIN, &spec, sid2), PV_EEXISTS);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "nope", "{}", rid), PV_EPOLICY);
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"y\":1}", rid), 0);
	assert_int_equal(pv_vault_commit(f->v), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records", NULL), 1);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subjects", NULL), 1);
	assert_int_equal(pv_subject_find(f->v, &ADMIN, "email", "judy@example.com", found), 0);
	assert_string_equal(found, sid);
	assert_int_equal(pv_audit_verify(f->v, &rep), 0);
	assert_int_equal(rep.ok, 1);
}

/* 1 when the batch's subject cache holds nothing and its guarded key is all zero. */
static int cache_wiped(const pv_vault *v)
{
	if (v->put_cached || v->put_subj.id[0])
		return 0;
	for (size_t i = 0; i < PV_DEK_LEN; i++)
		if (v->put_dek[i])
			return 0;
	return 1;
}

/* The data of a subject's records for `account`, joined with '|' in read order. */
static void read_joined(pv_vault *v, const char *sid, char *out, size_t size)
{
	pv_record_list *l;
	pv_decision d;
	size_t n = 0;

	out[0] = '\0';
	assert_int_equal(pv_record_read(v, &ADMIN, sid, "account", NULL, &l, &d), 0);
	for (size_t i = 0; i < pv_record_list_count(l); i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", i ? "|" : "", pv_record_list_at(l, i)->data);
	pv_record_list_free(l);
}

/*
 * Inside a batch, puts reuse the subject row and data key of the previous
 * create or put to the same subject. Each record must still be sealed with
 * its own subject's key, and the cache must be gone after commit, rollback,
 * a failed batch, erasure (of any subject) and key rotation.
 */
static void test_batch_subject_cache(void **state)
{
	fixture *f = *state;
	char a[PV_ID_LEN + 1], b[PV_ID_LEN + 1], c[PV_ID_LEN + 1], d[PV_ID_LEN + 1], rid[PV_ID_LEN + 1];
	char got[256];
	pv_audit_report rep;
	uint32_t version;
	size_t n;

	/* alternating subjects: the cache follows, every record opens with its own subject's key */
	pv_clock_set(1700000000);
	assert_int_equal(pv_vault_begin(f->v), 0);
	create_subject(f->v, "anna@example.com", a);
	assert_false(cache_wiped(f->v));
	assert_string_equal(f->v->put_subj.id, a);
	create_subject(f->v, "bert@example.com", b);
	assert_string_equal(f->v->put_subj.id, b);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":1}", rid), 0);
	assert_string_equal(f->v->put_subj.id, a);
	pv_clock_set(1700000001);
	assert_int_equal(put(f->v, &ADMIN, b, "contact", "account", "{\"b\":1}", rid), 0);
	pv_clock_set(1700000002);
	assert_int_equal(put(f->v, &ADMIN, b, "contact", "account", "{\"b\":2}", rid), 0);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":2}", rid), 0);
	assert_string_equal(f->v->put_subj.id, a);
	assert_int_equal(pv_vault_commit(f->v), 0);
	assert_true(cache_wiped(f->v));
	read_joined(f->v, a, got, sizeof(got));
	assert_string_equal(got, "{\"a\":1}|{\"a\":2}");
	read_joined(f->v, b, got, sizeof(got));
	assert_string_equal(got, "{\"b\":1}|{\"b\":2}");

	/* outside a batch nothing is cached */
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":3}", rid), 0);
	assert_true(cache_wiped(f->v));

	/* erasure inside the batch: of the cached subject, and of another one */
	assert_int_equal(pv_vault_begin(f->v), 0);
	create_subject(f->v, "carl@example.com", c);
	assert_int_equal(put(f->v, &ADMIN, c, "contact", "account", "{\"c\":1}", rid), 0);
	assert_int_equal(pv_subject_erase(f->v, &ADMIN, c), 0);
	assert_true(cache_wiped(f->v));
	assert_int_equal(put(f->v, &ADMIN, c, "contact", "account", "{\"c\":2}", rid), PV_EERASED);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":4}", rid), 0);
	assert_string_equal(f->v->put_subj.id, a);
	assert_int_equal(pv_subject_erase(f->v, &ADMIN, b), 0);
	assert_true(cache_wiped(f->v));
	assert_int_equal(put(f->v, &ADMIN, b, "contact", "account", "{\"b\":3}", rid), PV_EERASED);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":5}", rid), 0);
	assert_int_equal(pv_vault_commit(f->v), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records WHERE subject_id = ?", c), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records WHERE subject_id = ?", b), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys WHERE subject_id = ?", c), 0);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records WHERE subject_id = ?", a), 5);

	/* a rolled-back batch: its subject is gone, and so is the cache */
	assert_int_equal(pv_vault_begin(f->v), 0);
	create_subject(f->v, "dora@example.com", d);
	assert_int_equal(put(f->v, &ADMIN, d, "contact", "account", "{\"d\":1}", rid), 0);
	assert_int_equal(pv_vault_rollback(f->v), 0);
	assert_true(cache_wiped(f->v));
	assert_int_equal(put(f->v, &ADMIN, d, "contact", "account", "{\"d\":2}", rid), PV_ENOTFOUND);

	/* a failed batch (a write fails midway, the commit refuses and rolls back) */
	sql_exec(f, "CREATE TRIGGER fail_second_put BEFORE INSERT ON records "
		    "WHEN (SELECT count(*) FROM records WHERE subject_id = NEW.subject_id) >= 1 "
		    "BEGIN SELECT RAISE(ABORT, 'refused'); END");
	assert_int_equal(pv_vault_begin(f->v), 0);
	create_subject(f->v, "dora@example.com", d);
	assert_int_equal(put(f->v, &ADMIN, d, "contact", "account", "{\"d\":1}", rid), 0);
	assert_int_equal(put(f->v, &ADMIN, d, "contact", "account", "{\"d\":2}", rid), PV_ESTORE);
	assert_int_equal(pv_vault_commit(f->v), PV_ESTORE);
	assert_true(cache_wiped(f->v));
	sql_exec(f, "DROP TRIGGER fail_second_put");
	assert_int_equal(put(f->v, &ADMIN, d, "contact", "account", "{\"d\":3}", rid), PV_ENOTFOUND);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subjects WHERE id = ?", d), 0);

	/* key rotation between batches: the next batch unwraps with the new KEK version */
	assert_int_equal(pv_vault_begin(f->v), 0);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":6}", rid), 0);
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &version, &n), PV_EINVAL);   /* not inside a batch */
	assert_int_equal(pv_vault_commit(f->v), 0);
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &version, &n), 0);
	assert_true(cache_wiped(f->v));
	assert_int_equal(sql_int(f, "SELECT kek_version FROM subject_keys WHERE subject_id = ?", a), 2);
	assert_int_equal(pv_vault_begin(f->v), 0);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":7}", rid), 0);
	assert_int_equal(put(f->v, &ADMIN, a, "contact", "account", "{\"a\":8}", rid), 0);
	assert_int_equal(pv_vault_commit(f->v), 0);
	reopen(f);
	read_joined(f->v, a, got, sizeof(got));
	assert_int_equal(sql_int(f, "SELECT count(*) FROM records WHERE subject_id = ?", a), 8);
	for (int i = 1; i <= 8; i++) {
		char want[16];
		snprintf(want, sizeof(want), "{\"a\":%d}", i);
		assert_non_null(strstr(got, want));
	}
	assert_int_equal(pv_audit_verify(f->v, &rep), 0);
	assert_int_equal(rep.ok, 1);
}

/* ---- key rotation ------------------------------------------------------ */

static void test_key_rotate(void **state)
{
	fixture *f = *state;
	char sids[3][PV_ID_LEN + 1], rid[PV_ID_LEN + 1], email[64], key[200];
	pv_record_list *l;
	pv_decision d;
	uint32_t version = 0;
	size_t n = 0;
	struct stat st;

	for (int i = 0; i < 3; i++) {
		snprintf(email, sizeof(email), "user%d@example.com", i);
		create_subject(f->v, email, sids[i]);
		assert_int_equal(put(f->v, &ADMIN, sids[i], "contact", "account", "{\"i\":1}", rid), 0);
	}
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys WHERE kek_version = 1", NULL), 3);
	assert_int_equal(pv_vault_key_rotate(f->v, &AUDITOR, &version, &n), PV_EDENIED);
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &version, &n), 0);
	assert_int_equal(version, 2);
	assert_int_equal(n, 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys WHERE kek_version = 2", NULL), 3);
	assert_int_equal(sql_int(f, "SELECT count(*) FROM subject_keys WHERE kek_version <> 2", NULL), 0);
	snprintf(key, sizeof(key), "%s/privault.key", f->dir);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pv_record_read(f->v, &ADMIN, sids[i], "account", NULL, &l, &d), 0);
		assert_string_equal(pv_record_list_at(l, 0)->data, "{\"i\":1}");
		pv_record_list_free(l);
	}
	audit_dump *a = audit_all(f->v);
	assert_string_equal(audit_last(a, "key.rotate")->outcome, "ok:rewrapped=3,version=2");
	free(a);

	/* after reopening (the key file now holds version 2), new subjects use it and old ones still read */
	reopen(f);
	create_subject(f->v, "late@example.com", rid);
	assert_int_equal(sql_int(f, "SELECT kek_version FROM subject_keys WHERE subject_id = ?", rid), 2);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sids[0], "account", NULL, &l, &d), 0);
	pv_record_list_free(l);
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &version, &n), 0);
	assert_int_equal(version, 3);
	assert_int_equal(n, 4);
}

/* ---- keys from the environment, restriction, empty subjects ------------ */

static void test_env_keys_and_states(void **state)
{
	fixture *f = *state;
	char dir[200], key[220], sid[PV_ID_LEN + 1], rid[PV_ID_LEN + 1];
	pv_vault *v = NULL;
	pv_record_list *l = NULL;
	pv_decision d;
	struct stat st;
	uint32_t version;
	size_t n;

	/* PRIVAULT_KEYS: no key file is written, and rotation is refused (rotate the variable) */
	setenv("PRIVAULT_KEYS",
	       "kek 1 0101010101010101010101010101010101010101010101010101010101010101;"
	       "index 0202020202020202020202020202020202020202020202020202020202020202;"
	       "sign 0303030303030303030303030303030303030303030303030303030303030303", 1);
	snprintf(dir, sizeof(dir), "%s/env", f->root);
	assert_int_equal(pv_vault_init(dir, POLICY_V1, NULL), 0);
	snprintf(key, sizeof(key), "%s/privault.key", dir);
	assert_int_not_equal(stat(key, &st), 0);
	assert_int_equal(pv_vault_open(&v, dir, NULL), 0);
	create_subject(v, "env@example.com", sid);
	assert_int_equal(pv_vault_key_rotate(v, &ADMIN, &version, &n), PV_EKEY);
	pv_vault_close(v);
	unsetenv("PRIVAULT_KEYS");

	/* a subject with no record: the read is decided against the current policy */
	create_subject(f->v, "empty@example.com", sid);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "profiling", NULL, &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_PURPOSE_UNDECLARED);
	assert_int_equal(pv_record_read(f->v, &AUDITOR, sid, "account", NULL, &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_ROLE_FORBIDDEN);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 0);
	pv_record_list_free(l);

	/* a restricted subject: data stays stored but is not read */
	assert_int_equal(put(f->v, &ADMIN, sid, "contact", "account", "{\"r\":1}", rid), 0);
	char sql[200];
	snprintf(sql, sizeof(sql), "UPDATE subjects SET state = %d WHERE id = '%s'", PV_SUBJECT_RESTRICTED, sid);
	sql_exec(f, sql);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "account", NULL, &l, &d), PV_EDENIED);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_RESTRICTED);
	assert_int_equal(pv_vault_decide(f->v, &ADMIN, sid, "contact", "account", &d), 0);
	assert_int_equal(d.reason, PV_REASON_SUBJECT_RESTRICTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_decide_pure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rectify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tamper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_subject_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_keys_and_states, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
