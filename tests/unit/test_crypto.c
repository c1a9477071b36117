/* Unit tests for src/crypto: keyring files, data keys, record sealing, blind indexes, signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include "core/error.h"
#include "crypto/crypto.h"

static const char *K1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char *K2 = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
static const char *K3 = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
static const char *K4 = "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f";

static const char *SUBJ = "8f14e45f-ceea-467a-9af4-3c3a9f1e2b01";
static const char *SUBJ2 = "8f14e45f-ceea-467a-9af4-3c3a9f1e2b02";
static const char *REC = "11111111-2222-4333-8444-555555555555";

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pv-test-crypto-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	unsetenv("PRIVAULT_KEYS");
	return pv_crypto_init();
}

static int teardown_dir(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_in_tmp(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", tmpdir, name);
}

/* Write `text` to tmpdir/name with `mode`; returns the path in out. */
static void write_file(char *out, size_t size, const char *name, const char *text, mode_t mode)
{
	FILE *f;

	path_in_tmp(out, size, name);
	unlink(out);
	f = fopen(out, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(out, mode), 0);
}

/* A keyring from fixed test keys (kek 1 = K1, kek 2 = K2 if `two`). */
static pv_keyring *fixed_keyring(int two)
{
	char text[1024], path[PATH_MAX];
	pv_keyring *k = NULL;

	snprintf(text, sizeof(text), "# test keys\nkek 1 %s\n%s%s%s\nindex %s\nsign %s\n", K1,
		 two ? "kek 2 " : "", two ? K2 : "", two ? "" : "", K3, K4);
	write_file(path, sizeof(path), "fixed.key", text, 0600);
	assert_int_equal(pv_keyring_load(&k, path), 0);
	return k;
}

/* ---- key files ---------------------------------------------------------- */

static void test_create_and_load(void **state)
{
	char path[PATH_MAX];
	struct stat st;
	pv_keyring *k = NULL;
	(void)state;

	path_in_tmp(path, sizeof(path), "new.key");
	unlink(path);
	assert_int_equal(pv_keyring_create_file(path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* O_EXCL: never overwrite a key file */
	assert_int_equal(pv_keyring_create_file(path), PV_EEXISTS);
	assert_int_equal(pv_keyring_load(&k, path), 0);
	assert_int_equal(pv_keyring_current_version(k), 1);
	assert_true(pv_keyring_has_version(k, 1));
	assert_false(pv_keyring_has_version(k, 2));
	pv_keyring_free(k);
	pv_keyring_free(NULL);
}

static void test_permissions_refused(void **state)
{
	char path[PATH_MAX], text[512];
	pv_keyring *k = NULL;
	(void)state;

	snprintf(text, sizeof(text), "kek 1 %s\nindex %s\nsign %s\n", K1, K3, K4);
	write_file(path, sizeof(path), "open.key", text, 0640);
	assert_int_equal(pv_keyring_load(&k, path), PV_EKEY);
	assert_null(k);
	assert_non_null(strstr(pv_error_last(), "group or others"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(pv_keyring_load(&k, path), PV_EKEY);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(pv_keyring_load(&k, path), 0);
	pv_keyring_free(k);
}

/* Each malformed file must fail with PV_EKEY, name `line`, and never show any key hex. */
static void expect_malformed(const char *text, const char *line)
{
	char path[PATH_MAX];
	pv_keyring *k = NULL;
	const char *msg;

	write_file(path, sizeof(path), "bad.key", text, 0600);
	assert_int_equal(pv_keyring_load(&k, path), PV_EKEY);
	assert_null(k);
	msg = pv_error_last();
	if (line)
		assert_non_null(strstr(msg, line));
	/* no 8-character run of any key may appear */
	const char *keys[] = { K1, K2, K3, K4 };
	for (size_t i = 0; i < 4; i++)
		for (size_t off = 0; off + 8 <= 64; off += 8) {
			char frag[9];
			memcpy(frag, keys[i] + off, 8);
			frag[8] = '\0';
			assert_null(strstr(msg, frag));
		}
	/* the key material must not leak through the path either */
	assert_null(strstr(msg, "0001020304"));
}

static void test_malformed_files(void **state)
{
	char t[1024];
	(void)state;

	/* unknown line (a pasted key) */
	snprintf(t, sizeof(t), "kek 1 %s\nindex %s\n%s\nsign %s\n", K1, K3, K2, K4);
	expect_malformed(t, "line 3");
	/* bad hex */
	snprintf(t, sizeof(t), "kek 1 %s\nindex %.62szz\nsign %s\n", K1, K3, K4);
	expect_malformed(t, "line 2");
	/* short key */
	snprintf(t, sizeof(t), "# c\n\nkek 1 %s\nindex %s\nsign %.60s\n", K1, K3, K4);
	expect_malformed(t, "line 5");
	/* duplicate version */
	snprintf(t, sizeof(t), "kek 1 %s\nkek 1 %s\nindex %s\nsign %s\n", K1, K2, K3, K4);
	expect_malformed(t, "line 2");
	assert_non_null(strstr(pv_error_last(), "duplicate"));
	/* duplicate index */
	snprintf(t, sizeof(t), "kek 1 %s\nindex %s\nindex %s\nsign %s\n", K1, K3, K2, K4);
	expect_malformed(t, "line 3");
	/* bad version */
	snprintf(t, sizeof(t), "kek 0 %s\nindex %s\nsign %s\n", K1, K3, K4);
	expect_malformed(t, "line 1");
	snprintf(t, sizeof(t), "kek x1 %s\nindex %s\nsign %s\n", K1, K3, K4);
	expect_malformed(t, "line 1");
	/* trailing garbage after the key */
	snprintf(t, sizeof(t), "kek 1 %s\nindex %s extra\nsign %s\n", K1, K3, K4);
	expect_malformed(t, "line 2");
	/* missing index / sign / kek */
	snprintf(t, sizeof(t), "kek 1 %s\nsign %s\n", K1, K4);
	expect_malformed(t, "index");
	snprintf(t, sizeof(t), "kek 1 %s\nindex %s\n", K1, K3);
	expect_malformed(t, "sign");
	snprintf(t, sizeof(t), "index %s\nsign %s\n", K3, K4);
	expect_malformed(t, "kek");
	expect_malformed("", "kek");
}

static void test_env_keys(void **state)
{
	char env[1024];
	pv_keyring *k = NULL;
	uint32_t v;
	(void)state;

	snprintf(env, sizeof(env), "kek 1 %s;kek 7 %s; index %s ;sign %s", K1, K2, K3, K4);
	setenv("PRIVAULT_KEYS", env, 1);
	assert_int_equal(pv_keyring_load(&k, "/nonexistent/key"), 0);
	assert_int_equal(pv_keyring_current_version(k), 7);
	assert_true(pv_keyring_has_version(k, 1));
	/* keys from the environment cannot be rotated into a file */
	assert_int_equal(pv_keyring_add_version(k, "/nonexistent/key", &v), PV_EKEY);
	pv_keyring_free(k);

	snprintf(env, sizeof(env), "kek 1 %s;bogus;index %s;sign %s", K1, K3, K4);
	setenv("PRIVAULT_KEYS", env, 1);
	assert_int_equal(pv_keyring_load(&k, NULL), PV_EKEY);
	assert_non_null(strstr(pv_error_last(), "PRIVAULT_KEYS line 2"));
	unsetenv("PRIVAULT_KEYS");
}

static void test_add_version(void **state)
{
	char path[PATH_MAX];
	uint8_t *dek = pv_secret_alloc(PV_DEK_LEN), *back = pv_secret_alloc(PV_DEK_LEN);
	uint8_t wrapped1[PV_WRAPPED_DEK_LEN], wrapped2[PV_WRAPPED_DEK_LEN];
	pv_keyring *k = NULL, *k2 = NULL;
	struct stat st;
	ino_t ino;
	uint32_t v = 0;
	(void)state;

	path_in_tmp(path, sizeof(path), "rotate.key");
	unlink(path);
	assert_int_equal(pv_keyring_create_file(path), 0);
	assert_int_equal(stat(path, &st), 0);
	ino = st.st_ino;
	assert_int_equal(pv_keyring_load(&k, path), 0);
	pv_dek_generate(dek);
	assert_int_equal(pv_dek_wrap(k, 1, SUBJ, dek, wrapped1), 0);

	assert_int_equal(pv_keyring_add_version(k, path, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(pv_keyring_current_version(k), 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(st.st_ino != ino);   /* rewritten by rename, not in place */
	assert_int_equal(pv_dek_wrap(k, 2, SUBJ, dek, wrapped2), 0);

	/* the rewritten file holds both versions, the same index and sign keys */
	assert_int_equal(pv_keyring_load(&k2, path), 0);
	assert_int_equal(pv_keyring_current_version(k2), 2);
	assert_int_equal(pv_dek_unwrap(k2, 1, SUBJ, wrapped1, back), 0);
	assert_memory_equal(back, dek, PV_DEK_LEN);
	assert_int_equal(pv_dek_unwrap(k2, 2, SUBJ, wrapped2, back), 0);
	assert_memory_equal(back, dek, PV_DEK_LEN);
	uint8_t pk1[PV_PUBKEY_LEN], pk2[PV_PUBKEY_LEN], bi1[32], bi2[32];
	pv_keyring_public_key(k, pk1);
	pv_keyring_public_key(k2, pk2);
	assert_memory_equal(pk1, pk2, PV_PUBKEY_LEN);
	assert_int_equal(pv_blind_index(k, "email", "a@b.c", bi1), 0);
	assert_int_equal(pv_blind_index(k2, "email", "a@b.c", bi2), 0);
	assert_memory_equal(bi1, bi2, 32);
	/* wrong version fails */
	assert_int_equal(pv_dek_unwrap(k2, 2, SUBJ, wrapped1, back), PV_ECRYPTO);
	assert_int_equal(pv_dek_unwrap(k2, 3, SUBJ, wrapped1, back), PV_ENOTFOUND);

	assert_int_equal(pv_keyring_add_version(k2, path, &v), 0);
	assert_int_equal(v, 3);
	pv_keyring_free(k2);
	k2 = NULL;
	assert_int_equal(pv_keyring_load(&k2, path), 0);
	assert_int_equal(pv_keyring_current_version(k2), 3);
	assert_int_equal(pv_dek_unwrap(k2, 1, SUBJ, wrapped1, back), 0);
	/* no temporary file left behind */
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -q tmp", tmpdir);
	assert_int_not_equal(system(cmd), 0);

	pv_keyring_free(k);
	pv_keyring_free(k2);
	pv_secret_free(dek);
	pv_secret_free(back);
}

/* ---- data keys and records ---------------------------------------------- */

static void test_dek_wrap(void **state)
{
	pv_keyring *k = fixed_keyring(1);
	uint8_t *dek = pv_secret_alloc(PV_DEK_LEN), *back = pv_secret_alloc(PV_DEK_LEN);
	uint8_t w[PV_WRAPPED_DEK_LEN];
	(void)state;

	assert_int_equal(pv_keyring_current_version(k), 2);
	pv_dek_generate(dek);
	assert_int_equal(pv_dek_wrap(k, 2, SUBJ, dek, w), 0);
	assert_int_equal(pv_dek_unwrap(k, 2, SUBJ, w, back), 0);
	assert_memory_equal(dek, back, PV_DEK_LEN);
	/* another subject's AD */
	assert_int_equal(pv_dek_unwrap(k, 2, SUBJ2, w, back), PV_ECRYPTO);
	/* another version's key */
	assert_int_equal(pv_dek_unwrap(k, 1, SUBJ, w, back), PV_ECRYPTO);
	/* any flipped bit */
	for (size_t i = 0; i < PV_WRAPPED_DEK_LEN; i += 7) {
		w[i] ^= 0x01;
		assert_int_equal(pv_dek_unwrap(k, 2, SUBJ, w, back), PV_ECRYPTO);
		w[i] ^= 0x01;
	}
	assert_int_equal(pv_dek_unwrap(k, 2, SUBJ, w, back), 0);
	pv_secret_free(dek);
	pv_secret_free(back);
	pv_keyring_free(k);
}

static void test_seal_open(void **state)
{
	uint8_t *dek = pv_secret_alloc(PV_DEK_LEN), *dek2 = pv_secret_alloc(PV_DEK_LEN);
	const char *msg = "{\"name\":\"Ada Lovelace\"}";
	size_t len = strlen(msg);
	uint8_t nonce[PV_NONCE_LEN], nonce2[PV_NONCE_LEN], ct[128], ct2[128], pt[128];
	(void)state;

	pv_dek_generate(dek);
	pv_dek_generate(dek2);
	assert_int_equal(pv_seal(dek, SUBJ, REC, "contact", (const uint8_t *)msg, len, nonce, ct), 0);
	assert_int_equal(pv_open(dek, SUBJ, REC, "contact", nonce, ct, len + PV_TAG_LEN, pt), 0);
	assert_memory_equal(pt, msg, len);
	/* fresh nonce each time */
	assert_int_equal(pv_seal(dek, SUBJ, REC, "contact", (const uint8_t *)msg, len, nonce2, ct2), 0);
	assert_memory_not_equal(nonce, nonce2, PV_NONCE_LEN);
	/* wrong AD: subject, record, category; wrong key */
	assert_int_equal(pv_open(dek, SUBJ2, REC, "contact", nonce, ct, len + PV_TAG_LEN, pt), PV_ECRYPTO);
	assert_int_equal(pv_open(dek, SUBJ, SUBJ2, "contact", nonce, ct, len + PV_TAG_LEN, pt), PV_ECRYPTO);
	assert_int_equal(pv_open(dek, SUBJ, REC, "billing", nonce, ct, len + PV_TAG_LEN, pt), PV_ECRYPTO);
	assert_int_equal(pv_open(dek2, SUBJ, REC, "contact", nonce, ct, len + PV_TAG_LEN, pt), PV_ECRYPTO);
	/* length prefixes: moving a character between fields changes the AD */
	assert_int_equal(pv_seal(dek, "ab", "c", "d", (const uint8_t *)msg, len, nonce, ct2), 0);
	assert_int_equal(pv_open(dek, "a", "bc", "d", nonce, ct2, len + PV_TAG_LEN, pt), PV_ECRYPTO);
	assert_int_equal(pv_open(dek, "ab", "c", "d", nonce, ct2, len + PV_TAG_LEN, pt), 0);
	/* one flipped bit anywhere in the ciphertext or tag */
	for (size_t bit = 0; bit < (len + PV_TAG_LEN) * 8; bit += 13) {
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(pv_open(dek, SUBJ, REC, "contact", nonce, ct, len + PV_TAG_LEN, pt), PV_ECRYPTO);
		ct[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* truncated */
	assert_int_equal(pv_open(dek, SUBJ, REC, "contact", nonce, ct, len + PV_TAG_LEN - 1, pt), PV_ECRYPTO);
	assert_int_equal(pv_open(dek, SUBJ, REC, "contact", nonce, ct, 3, pt), PV_ECRYPTO);
	/* empty plaintext */
	assert_int_equal(pv_seal(dek, SUBJ, REC, "contact", (const uint8_t *)"", 0, nonce, ct), 0);
	assert_int_equal(pv_open(dek, SUBJ, REC, "contact", nonce, ct, PV_TAG_LEN, pt), 0);
	pv_secret_free(dek);
	pv_secret_free(dek2);
}

/* ---- identifiers and blind indexes -------------------------------------- */

static void test_normalize(void **state)
{
	char out[64];
	(void)state;

	assert_int_equal(pv_identifier_normalize("email", "  Ada.Lovelace@Example.COM \t\n", out, sizeof(out)), 0);
	assert_string_equal(out, "ada.lovelace@example.com");
	assert_int_equal(pv_identifier_normalize("email", "no-at-sign.example.com", out, sizeof(out)), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "email"));
	assert_null(strstr(pv_error_last(), "no-at-sign"));
	assert_int_equal(pv_identifier_normalize("email", "@example.com", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("email", "ada@", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("email", "a@b@c", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("email", "ada @x.org", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("email", "   ", out, sizeof(out)), PV_EINVAL);

	assert_int_equal(pv_identifier_normalize("phone", "+1 (855) 473-7449", out, sizeof(out)), 0);
	assert_string_equal(out, "+18554737449");
	assert_int_equal(pv_identifier_normalize("phone", " +44 20.7946.0958 ", out, sizeof(out)), 0);
	assert_string_equal(out, "+442079460958");
	assert_int_equal(pv_identifier_normalize("phone", "12345", out, sizeof(out)), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "phone"));
	assert_null(strstr(pv_error_last(), "12345"));
	assert_int_equal(pv_identifier_normalize("phone", "+12345", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("phone", "+1234567890123456", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("phone", "+1 855 CALL NOW", out, sizeof(out)), PV_EINVAL);
	assert_int_equal(pv_identifier_normalize("phone", "+1 855+473 7449", out, sizeof(out)), PV_EINVAL);

	assert_int_equal(pv_identifier_normalize("customer_id", "  C-0042 ", out, sizeof(out)), 0);
	assert_string_equal(out, "C-0042");
	assert_int_equal(pv_identifier_normalize("Bad Kind", "x", out, sizeof(out)), PV_EINVAL);

	/* too long: for the buffer, and for the limit */
	assert_int_equal(pv_identifier_normalize("login", "0123456789", out, 5), PV_ELIMIT);
	char big[1100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(pv_identifier_normalize("login", big, out, sizeof(out)), PV_ELIMIT);
}

static void test_blind_index(void **state)
{
	pv_keyring *k = fixed_keyring(0), *other = NULL;
	uint8_t a[PV_BLIND_INDEX_LEN], b[PV_BLIND_INDEX_LEN], c[PV_BLIND_INDEX_LEN];
	char path[PATH_MAX];
	(void)state;

	assert_int_equal(pv_blind_index(k, "email", "ada@example.com", a), 0);
	assert_int_equal(pv_blind_index(k, "email", "ada@example.com", b), 0);
	assert_memory_equal(a, b, sizeof(a));
	/* kind-separated */
	assert_int_equal(pv_blind_index(k, "login", "ada@example.com", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	/* value-separated */
	assert_int_equal(pv_blind_index(k, "email", "ada@example.org", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	/* the kind/value boundary is unambiguous */
	assert_int_equal(pv_blind_index(k, "ab", "c", b), 0);
	assert_int_equal(pv_blind_index(k, "a", "bc", c), 0);
	assert_memory_not_equal(b, c, sizeof(b));
	/* stable across loads: a known answer, computed independently */
	uint8_t key[32], expect[32];
	const uint8_t msg[] = "email\0ada@example.com";
	assert_int_equal(sodium_hex2bin(key, 32, K3, 64, NULL, NULL, NULL), 0);
	crypto_generichash(expect, 32, msg, sizeof(msg) - 1, key, 32);
	assert_memory_equal(a, expect, 32);
	/* a different index key gives a different index */
	path_in_tmp(path, sizeof(path), "other.key");
	unlink(path);
	assert_int_equal(pv_keyring_create_file(path), 0);
	assert_int_equal(pv_keyring_load(&other, path), 0);
	assert_int_equal(pv_blind_index(other, "email", "ada@example.com", c), 0);
	assert_memory_not_equal(a, c, sizeof(a));
	pv_keyring_free(other);
	pv_keyring_free(k);
}

/* ---- signatures --------------------------------------------------------- */

static void test_sign_verify(void **state)
{
	pv_keyring *k = fixed_keyring(0);
	uint8_t pk[PV_PUBKEY_LEN], sig[PV_SIG_LEN], seed[32], pk2[32], sk2[64];
	uint8_t msg[] = "privault-checkpoint-v1\0 seq and hash";
	(void)state;

	pv_keyring_public_key(k, pk);
	/* the public key derives from the sign seed */
	assert_int_equal(sodium_hex2bin(seed, 32, K4, 64, NULL, NULL, NULL), 0);
	crypto_sign_seed_keypair(pk2, sk2, seed);
	assert_memory_equal(pk, pk2, 32);
	assert_int_equal(pv_sign(k, msg, sizeof(msg), sig), 0);
	assert_int_equal(pv_sign_verify(pk, msg, sizeof(msg), sig), 0);
	msg[3] ^= 1;
	assert_int_equal(pv_sign_verify(pk, msg, sizeof(msg), sig), PV_ECRYPTO);
	msg[3] ^= 1;
	sig[10] ^= 0x80;
	assert_int_equal(pv_sign_verify(pk, msg, sizeof(msg), sig), PV_ECRYPTO);
	sig[10] ^= 0x80;
	pk[0] ^= 1;
	assert_int_equal(pv_sign_verify(pk, msg, sizeof(msg), sig), PV_ECRYPTO);
	pv_keyring_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_and_load),
		cmocka_unit_test(test_permissions_refused),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_env_keys),
		cmocka_unit_test(test_add_version),
		cmocka_unit_test(test_dek_wrap),
		cmocka_unit_test(test_seal_open),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_blind_index),
		cmocka_unit_test(test_sign_verify),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
