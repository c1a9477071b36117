/*
 * Unit tests for src/audit: the hash chain, checkpoints and verification,
 * against the real SQLite store. Tampering is done on copies of the database
 * file with the sqlite3 C API, the way an attacker with file access would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"
#include "core/error.h"
#include "core/limits.h"
#include "crypto/crypto.h"
#include "store/store.h"

#define N_ENTRIES 2500
#define EVERY 1000
#define T0 1790000000

static char dir[64];
static char golden[128];      /* the database with N_ENTRIES good entries */
static pv_keyring *keys;
static uint8_t pk[PV_PUBKEY_LEN];

static const char *SUBJ = "8f14e45f-ceea-467a-9af4-3c3a9f1e2b01";

static void db_path(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

static pv_store *open_store(const char *path, int create)
{
	char url[200];
	pv_store *s = NULL;

	snprintf(url, sizeof(url), "sqlite:%s", path);
	assert_int_equal(pv_store_open(&s, url, create), 0);
	return s;
}

/* Append `n` entries through `a`, committing every 500. */
static void append_many(pv_store *s, pv_audit *a, int n)
{
	for (int i = 0; i < n; i++) {
		if (i % 500 == 0)
			assert_int_equal(pv_store_begin(s), 0);
		pv_clock_set(T0 + i);
		assert_int_equal(pv_audit_append(a, "billing-service", i % 3 ? "record.put" : "record.read",
						  i % 5 ? SUBJ : NULL, i % 2 ? "billing" : NULL,
						  i % 2 ? "contact" : NULL, "ok"), 0);
		if (i % 500 == 499 || i == n - 1)
			assert_int_equal(pv_store_commit(s), 0);
	}
}

static int setup_group(void **state)
{
	char keypath[128];
	pv_store *s;
	pv_audit *a = NULL;
	(void)state;

	unsetenv("PRIVAULT_KEYS");
	snprintf(dir, sizeof(dir), "/tmp/pv-test-audit-XXXXXX");
	if (!mkdtemp(dir) || pv_crypto_init() != 0)
		return -1;
	db_path(keypath, sizeof(keypath), "audit.key");
	if (pv_keyring_create_file(keypath) != 0 || pv_keyring_load(&keys, keypath) != 0)
		return -1;
	pv_keyring_public_key(keys, pk);

	db_path(golden, sizeof(golden), "audit.db");
	s = open_store(golden, 1);
	if (pv_audit_open(&a, s, keys, EVERY) != 0)
		return -1;
	append_many(s, a, N_ENTRIES);
	pv_audit_close(a);
	pv_store_close(s);
	pv_clock_reset();
	return 0;
}

static int teardown_group(void **state)
{
	char cmd[128];
	(void)state;

	pv_keyring_free(keys);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out;
	char buf[65536];
	size_t n;

	if (!in)
		return;   /* e.g. no -wal file */
	out = fopen(to, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* A fresh copy of the golden database named `name`; its path in out. */
static void fresh_copy(char *out, size_t size, const char *name)
{
	char from[160], to[160];

	db_path(out, size, name);
	unlink(out);
	copy_file(golden, out);
	snprintf(from, sizeof(from), "%s-wal", golden);
	snprintf(to, sizeof(to), "%s-wal", out);
	unlink(to);
	copy_file(from, to);
}

/* Run SQL on a database file directly, as an attacker would. */
static void tamper(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "tamper SQL failed: %s\n", err ? err : "?");
		sqlite3_free(err);
		fail();
	}
	sqlite3_close(db);
}

/* Verify the database at `path` (against the vault key when use_pk); returns the code, fills r. */
static int verify_file(const char *path, int use_pk, pv_audit_report *r)
{
	pv_store *s = open_store(path, 0);
	int rc = pv_audit_verify_store(s, use_pk ? pk : NULL, r);

	pv_store_close(s);
	return rc;
}

static void expect_tamper(const char *path, int64_t bad_seq, const char *reason)
{
	pv_audit_report r;

	assert_int_equal(verify_file(path, 1, &r), PV_ETAMPER);
	assert_int_equal(r.ok, 0);
	if (r.first_bad_seq != bad_seq || !strstr(r.reason, reason))
		fprintf(stderr, "expected seq %" PRId64 " \"%s\", got seq %" PRId64 " \"%s\"\n", bad_seq, reason,
			r.first_bad_seq, r.reason);
	assert_int_equal(r.first_bad_seq, bad_seq);
	assert_non_null(strstr(r.reason, reason));
	assert_int_equal(pv_error_last_code(), PV_ETAMPER);
}

/* ---- the good chain ----------------------------------------------------- */

static int count_cp(const pv_store_checkpoint *c, void *payload)
{
	int64_t *seqs = payload;
	seqs[seqs[0] + 1] = c->seq;
	seqs[0]++;
	return 0;
}

static void test_verify_ok(void **state)
{
	pv_audit_report r;
	int64_t seqs[8] = { 0 };
	pv_store *s;
	(void)state;

	assert_int_equal(verify_file(golden, 1, &r), 0);
	assert_int_equal(r.ok, 1);
	assert_int_equal(r.entries, N_ENTRIES);
	assert_int_equal(r.checkpoints, 2);
	assert_int_equal(r.first_bad_seq, 0);
	assert_int_equal(verify_file(golden, 0, &r), 0);

	s = open_store(golden, 0);
	assert_int_equal(pv_store_checkpoint_each(s, count_cp, seqs), 0);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[1], 1000);
	assert_int_equal(seqs[2], 2000);
	pv_store_close(s);
}

/* The hash pins the documented canonical encoding; a known answer computed here independently. */
static void test_entry_hash_encoding(void **state)
{
	pv_audit_entry e;
	uint8_t got[32], want[32], buf[512];
	size_t n = 0;
	const char *fields[6] = { "svc", "record.put", "", "billing", "contact", "ok" };
	(void)state;

	memset(&e, 0, sizeof(e));
	e.seq = 0x0102030405060708LL;
	e.at = 1790000000;
	strcpy(e.actor, fields[0]);
	strcpy(e.action, fields[1]);
	strcpy(e.purpose, fields[3]);
	strcpy(e.category, fields[4]);
	strcpy(e.outcome, fields[5]);
	memset(e.prev_hash, 0xab, 32);
	pv_audit_entry_hash(&e, got);

	memset(buf, 0xab, 32);
	n = 32;
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)((uint64_t)e.seq >> (8 * i));
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)((uint64_t)e.at >> (8 * i));
	for (int f = 0; f < 6; f++) {
		uint32_t len = (uint32_t)strlen(fields[f]);
		buf[n++] = (uint8_t)(len >> 24);
		buf[n++] = (uint8_t)(len >> 16);
		buf[n++] = (uint8_t)(len >> 8);
		buf[n++] = (uint8_t)len;
		memcpy(buf + n, fields[f], len);
		n += len;
	}
	crypto_generichash(want, 32, buf, n, NULL, 0);
	assert_memory_equal(got, want, 32);

	/* unambiguous: moving a byte between adjacent fields changes the hash */
	strcpy(e.purpose, "billin");
	strcpy(e.category, "gcontact");
	pv_audit_entry_hash(&e, want);
	assert_memory_not_equal(got, want, 32);
}

static void test_append_validation(void **state)
{
	char path[160], big[300];
	pv_store *s;
	pv_audit *a = NULL;
	(void)state;

	db_path(path, sizeof(path), "valid.db");
	s = open_store(path, 1);
	assert_int_equal(pv_audit_open(&a, s, keys, 10), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[PV_AUDIT_ACTOR_MAX] = '\0';
	assert_int_equal(pv_audit_append(a, big, "x", NULL, NULL, NULL, "ok"), 0);   /* exactly the limit */
	big[PV_AUDIT_ACTOR_MAX] = 'a';
	big[PV_AUDIT_ACTOR_MAX + 1] = '\0';
	assert_int_equal(pv_audit_append(a, big, "x", NULL, NULL, NULL, "ok"), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "actor"));
	big[PV_AUDIT_ACTION_MAX + 1] = '\0';
	assert_int_equal(pv_audit_append(a, "svc", big, NULL, NULL, NULL, "ok"), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "action"));
	assert_int_equal(pv_audit_append(a, "svc", "x", NULL, big, NULL, "ok"), PV_EINVAL);
	assert_int_equal(pv_audit_append(a, "svc", "x", NULL, NULL, big, "ok"), PV_EINVAL);
	assert_int_equal(pv_audit_append(a, "svc", "x", NULL, NULL, NULL, big), PV_EINVAL);
	assert_int_equal(pv_audit_append(a, "", "x", NULL, NULL, NULL, "ok"), PV_EINVAL);
	assert_int_equal(pv_audit_append(a, NULL, "x", NULL, NULL, NULL, "ok"), PV_EINVAL);
	assert_int_equal(pv_audit_append(a, "svc", "x", NULL, NULL, NULL, NULL), PV_EINVAL);
	/* a subject id must be a UUID, never an identifier */
	assert_int_equal(pv_audit_append(a, "svc", "x", "ada@example.com", NULL, NULL, "ok"), PV_EINVAL);
	assert_null(strstr(pv_error_last(), "ada@"));
	assert_int_equal(pv_audit_append(a, "svc", "x", SUBJ, "p", "c", "ok"), 0);
	pv_audit_report r;
	assert_int_equal(pv_audit_verify_store(s, pk, &r), 0);
	assert_int_equal(r.entries, 2);
	pv_audit_close(a);
	pv_audit_close(NULL);
	pv_store_close(s);
}

/* Rollback then forget: the next append reloads the head and the chain stays whole. */
static void test_rollback_forget_and_two_handles(void **state)
{
	char path[160];
	pv_store *s;
	pv_audit *a = NULL, *b = NULL;
	pv_audit_report r;
	int64_t seq = 0;
	(void)state;

	db_path(path, sizeof(path), "rollback.db");
	s = open_store(path, 1);
	assert_int_equal(pv_audit_open(&a, s, keys, 0), 0);
	assert_int_equal(pv_audit_checkpoint_now(a, &seq), PV_ENOTFOUND);   /* empty chain */
	assert_int_equal(pv_audit_append(a, "svc", "one", NULL, NULL, NULL, "ok"), 0);
	assert_int_equal(pv_store_begin(s), 0);
	assert_int_equal(pv_audit_append(a, "svc", "two", NULL, NULL, NULL, "ok"), 0);
	assert_int_equal(pv_audit_append(a, "svc", "three", NULL, NULL, NULL, "ok"), 0);
	assert_int_equal(pv_store_rollback(s), 0);
	pv_audit_forget(a);
	assert_int_equal(pv_audit_append(a, "svc", "two", NULL, NULL, NULL, "ok"), 0);
	assert_int_equal(pv_audit_verify_store(s, pk, &r), 0);
	assert_int_equal(r.entries, 2);

	/* a second handle (another process) appends; the first one does not trust its cached head
	 * across transactions: it reads the head again under the store's audit lock and continues */
	assert_int_equal(pv_audit_open(&b, s, keys, 0), 0);
	assert_int_equal(pv_audit_append(b, "svc", "three", NULL, NULL, NULL, "ok"), 0);
	assert_int_equal(pv_audit_append(a, "svc", "four", NULL, NULL, NULL, "ok"), 0);

	/* checkpoint now covers the real head, twice is harmless */
	assert_int_equal(pv_audit_checkpoint_now(b, &seq), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(pv_audit_checkpoint_now(a, &seq), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(pv_audit_verify_store(s, pk, &r), 0);
	assert_int_equal(r.entries, 4);
	assert_int_equal(r.checkpoints, 1);
	pv_audit_close(a);
	pv_audit_close(b);
	pv_store_close(s);
}

/* ---- tampering ---------------------------------------------------------- */

static void test_tamper_modify_field(void **state)
{
	char p[160];
	(void)state;

	fresh_copy(p, sizeof(p), "t_actor.db");
	tamper(p, "UPDATE audit SET actor = 'mallory' WHERE seq = 1234");
	expect_tamper(p, 1234, "hash mismatch");

	fresh_copy(p, sizeof(p), "t_at.db");
	tamper(p, "UPDATE audit SET at = at + 1 WHERE seq = 1");
	expect_tamper(p, 1, "hash mismatch");

	fresh_copy(p, sizeof(p), "t_outcome.db");
	tamper(p, "UPDATE audit SET outcome = 'deny:no_grant' WHERE seq = 2500");
	expect_tamper(p, 2500, "hash mismatch");

	fresh_copy(p, sizeof(p), "t_subject.db");
	tamper(p, "UPDATE audit SET subject_id = NULL WHERE seq = 777 AND subject_id IS NOT NULL");
	tamper(p, "UPDATE audit SET subject_id = '8f14e45f-ceea-467a-9af4-3c3a9f1e2b01' WHERE seq = 776 AND subject_id IS NULL");
	expect_tamper(p, 776, "hash mismatch");

	/* a stored hash overwritten */
	fresh_copy(p, sizeof(p), "t_hash.db");
	tamper(p, "UPDATE audit SET hash = zeroblob(32) WHERE seq = 1500");
	expect_tamper(p, 1500, "hash mismatch");
}

static void test_tamper_delete_middle(void **state)
{
	char p[160];
	(void)state;

	fresh_copy(p, sizeof(p), "t_del.db");
	tamper(p, "DELETE FROM audit WHERE seq = 1234");
	expect_tamper(p, 1234, "missing entry");

	fresh_copy(p, sizeof(p), "t_del_first.db");
	tamper(p, "DELETE FROM audit WHERE seq = 1");
	expect_tamper(p, 1, "missing entry");

	/* a deleted range that contains a checkpointed entry */
	fresh_copy(p, sizeof(p), "t_del_range.db");
	tamper(p, "DELETE FROM audit WHERE seq BETWEEN 990 AND 1010");
	expect_tamper(p, 990, "missing entry");
}

static void test_tamper_truncate_tail(void **state)
{
	char p[160];
	pv_audit_report r;
	(void)state;

	fresh_copy(p, sizeof(p), "t_tail.db");
	tamper(p, "DELETE FROM audit WHERE seq > 1900");
	expect_tamper(p, 1901, "entries missing after seq 1900");
	assert_int_equal(verify_file(p, 1, &r), PV_ETAMPER);
	assert_int_equal(r.entries, 1900);

	/* everything deleted, checkpoints left */
	fresh_copy(p, sizeof(p), "t_all.db");
	tamper(p, "DELETE FROM audit");
	expect_tamper(p, 1, "entries missing after seq 0");

	/* a cut after the last checkpoint is only visible as a shorter chain: not detectable here */
	fresh_copy(p, sizeof(p), "t_tail_small.db");
	tamper(p, "DELETE FROM audit WHERE seq > 2400");
	assert_int_equal(verify_file(p, 1, &r), 0);
	assert_int_equal(r.entries, 2400);
}

static void test_tamper_swap(void **state)
{
	char p[160];
	(void)state;

	fresh_copy(p, sizeof(p), "t_swap.db");
	tamper(p, "UPDATE audit SET seq = -100 WHERE seq = 100;"
		  "UPDATE audit SET seq = 100 WHERE seq = 200;"
		  "UPDATE audit SET seq = 200 WHERE seq = -100;");
	expect_tamper(p, 100, "broken link");

	/* adjacent entries */
	fresh_copy(p, sizeof(p), "t_swap_adj.db");
	tamper(p, "UPDATE audit SET seq = -1 WHERE seq = 1500;"
		  "UPDATE audit SET seq = 1500 WHERE seq = 1501;"
		  "UPDATE audit SET seq = 1501 WHERE seq = -1;");
	expect_tamper(p, 1500, "broken link");
}

/* Collect entries into an array (seq 1 at index 0). */
typedef struct {
	pv_audit_entry *e;
	size_t n;
} entries;

static int collect(const pv_audit_entry *e, void *payload)
{
	entries *es = payload;
	es->e[es->n++] = *e;
	return 0;
}

static void read_all(const char *path, entries *es)
{
	pv_store *s = open_store(path, 0);

	es->e = calloc(N_ENTRIES + 10, sizeof(*es->e));
	es->n = 0;
	assert_non_null(es->e);
	assert_int_equal(pv_store_audit_each(s, 1, 0, collect, es), 0);
	pv_store_close(s);
}

/* Insert entries through the store API (the attacker knows the format, not the key). */
static void write_entries(const char *path, const pv_audit_entry *e, size_t n)
{
	pv_store *s = open_store(path, 0);

	assert_int_equal(pv_store_begin(s), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(pv_store_audit_append(s, &e[i]), 0);
	assert_int_equal(pv_store_commit(s), 0);
	pv_store_close(s);
}

static void test_tamper_insert_forged(void **state)
{
	char p[160];
	entries es;
	pv_audit_entry forged;
	(void)state;

	read_all(golden, &es);
	assert_int_equal(es.n, N_ENTRIES);

	/* renumber 1500.. up by one and slip in a well-formed entry at 1500 linked to 1499 */
	fresh_copy(p, sizeof(p), "t_forge.db");
	tamper(p, "UPDATE audit SET seq = -seq WHERE seq >= 1500;"
		  "UPDATE audit SET seq = 1 - seq WHERE seq < 0;");
	memset(&forged, 0, sizeof(forged));
	forged.seq = 1500;
	forged.at = es.e[1498].at;
	strcpy(forged.actor, "billing-service");
	strcpy(forged.action, "subject.erase");
	strcpy(forged.subject_id, SUBJ);
	strcpy(forged.outcome, "ok");
	memcpy(forged.prev_hash, es.e[1498].hash, 32);
	pv_audit_entry_hash(&forged, forged.hash);
	write_entries(p, &forged, 1);
	/* the forged entry itself is consistent; the renumbered one after it is not */
	expect_tamper(p, 1501, "broken link");

	/* a careless forgery is caught at its own seq */
	fresh_copy(p, sizeof(p), "t_forge_naive.db");
	tamper(p, "UPDATE audit SET seq = -seq WHERE seq >= 1500;"
		  "UPDATE audit SET seq = 1 - seq WHERE seq < 0;");
	forged.hash[0] ^= 1;
	write_entries(p, &forged, 1);
	expect_tamper(p, 1500, "hash mismatch");
	forged.hash[0] ^= 1;

	/* the whole tail rewritten into a consistent chain: only the signed checkpoint at 2000 catches it */
	fresh_copy(p, sizeof(p), "t_rewrite.db");
	tamper(p, "DELETE FROM audit WHERE seq >= 1500");
	{
		pv_audit_entry *tail = calloc(N_ENTRIES, sizeof(*tail));
		size_t n = 0;
		uint8_t prev[32];

		assert_non_null(tail);
		tail[n++] = forged;
		memcpy(prev, forged.hash, 32);
		for (size_t i = 1499; i < N_ENTRIES; i++) {
			tail[n] = es.e[i];
			tail[n].seq = (int64_t)i + 2;
			memcpy(tail[n].prev_hash, prev, 32);
			pv_audit_entry_hash(&tail[n], tail[n].hash);
			memcpy(prev, tail[n].hash, 32);
			n++;
		}
		write_entries(p, tail, n);
		free(tail);
	}
	expect_tamper(p, 2000, "checkpoint does not match");

	free(es.e);
}

static void test_tamper_checkpoint(void **state)
{
	char p[160], sql[512], hex[129], pkhex[65];
	uint8_t apk[32], ask[64], msg[23 + 8 + 32], sig[64];
	entries es;
	pv_audit_report r;
	(void)state;

	/* a flipped bit in a signature */
	fresh_copy(p, sizeof(p), "t_sig.db");
	tamper(p, "UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = 1000");
	expect_tamper(p, 1000, "signature invalid");

	/* the signed hash altered */
	fresh_copy(p, sizeof(p), "t_cphash.db");
	tamper(p, "UPDATE audit_checkpoints SET hash = zeroblob(32) WHERE seq = 2000");
	expect_tamper(p, 2000, "signature invalid");

	/* checkpoint moved to another seq */
	fresh_copy(p, sizeof(p), "t_cpseq.db");
	tamper(p, "UPDATE audit_checkpoints SET seq = 1001 WHERE seq = 1000");
	expect_tamper(p, 1001, "signature invalid");

	/* re-signed with the attacker's own key over a different entry's hash */
	read_all(golden, &es);
	crypto_sign_keypair(apk, ask);
	memcpy(msg, "privault-checkpoint-v1", 23);
	for (int i = 0; i < 8; i++)
		msg[23 + i] = (uint8_t)((uint64_t)1000 >> (8 * (7 - i)));
	memcpy(msg + 31, es.e[998].hash, 32);   /* the hash of entry 999, not 1000 */
	crypto_sign_detached(sig, NULL, msg, sizeof(msg), ask);
	sodium_bin2hex(hex, sizeof(hex), sig, 64);
	sodium_bin2hex(pkhex, sizeof(pkhex), apk, 32);
	fresh_copy(p, sizeof(p), "t_cpkey.db");
	snprintf(sql, sizeof(sql), "UPDATE audit_checkpoints SET signature = x'%s', public_key = x'%s', "
		 "hash = (SELECT hash FROM audit WHERE seq = 999) WHERE seq = 1000", hex, pkhex);
	tamper(p, sql);
	expect_tamper(p, 1000, "another key");
	/* without the vault's key the signature itself checks, but not against the chain */
	assert_int_equal(verify_file(p, 0, &r), PV_ETAMPER);
	assert_int_equal(r.first_bad_seq, 1000);
	assert_non_null(strstr(r.reason, "checkpoint does not match"));
	free(es.e);

	/* a deleted checkpoint is not itself an error, the chain still verifies */
	fresh_copy(p, sizeof(p), "t_cpdel.db");
	tamper(p, "DELETE FROM audit_checkpoints WHERE seq = 1000");
	assert_int_equal(verify_file(p, 1, &r), 0);
	assert_int_equal(r.checkpoints, 1);
}

/* Appends stay cheap: time them next to plain SQLite inserts of similar rows (informational). */
static void test_append_speed(void **state)
{
	char path[160], ppath[160];
	pv_store *s;
	pv_audit *a = NULL;
	sqlite3 *db;
	sqlite3_stmt *st;
	struct timespec t0, t1, t2;
	const int n = 20000;
	(void)state;

	db_path(path, sizeof(path), "speed.db");
	s = open_store(path, 1);
	assert_int_equal(pv_audit_open(&a, s, keys, EVERY), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pv_store_begin(s), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(pv_audit_append(a, "import", "record.put", SUBJ, "billing", "contact", "ok"), 0);
	assert_int_equal(pv_store_commit(s), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pv_audit_close(a);
	pv_store_close(s);

	db_path(ppath, sizeof(ppath), "plain.db");
	assert_int_equal(sqlite3_open(ppath, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (seq INTEGER PRIMARY KEY, at INT, actor TEXT, action TEXT, "
				      "subject_id TEXT, purpose TEXT, category TEXT, outcome TEXT, prev_hash BLOB, hash BLOB);"
				      "BEGIN", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t VALUES (?1, ?2, 'import', 'record.put', ?3, 'billing', "
					    "'contact', 'ok', ?4, ?4)", -1, &st, NULL), SQLITE_OK);
	for (int i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, i + 1);
		sqlite3_bind_int64(st, 2, T0);
		sqlite3_bind_text(st, 3, SUBJ, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, pk, 32, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	double audit_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double plain_s = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
	printf("audit appends: %d in %.3fs (%.0f/s); plain SQLite inserts: %.3fs\n", n, audit_s, n / audit_s, plain_s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verify_ok),
		cmocka_unit_test(test_entry_hash_encoding),
		cmocka_unit_test(test_append_validation),
		cmocka_unit_test(test_rollback_forget_and_two_handles),
		cmocka_unit_test(test_tamper_modify_field),
		cmocka_unit_test(test_tamper_delete_middle),
		cmocka_unit_test(test_tamper_truncate_tail),
		cmocka_unit_test(test_tamper_swap),
		cmocka_unit_test(test_tamper_insert_forged),
		cmocka_unit_test(test_tamper_checkpoint),
		cmocka_unit_test(test_append_speed),
	};
	return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
