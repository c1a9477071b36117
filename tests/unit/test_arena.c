/*
 * Arena tests (src/vault/arena.c): guarded blocks reused across reads are
 * wiped when given back, reused without a new allocation, grown by doubling,
 * and record lists keep their plaintext valid until their own free, across
 * other reads on the same handle and after the handle is closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privault/privault.h"
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"
#include "crypto/crypto.h"

#define POLICY_V1 PV_SOURCE_ROOT "/tests/data/vault-policy.yaml"

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* A block ends at its rear guard page, is wiped when given back and comes back without a new allocation. */
static void test_take_give_reuse(void **state)
{
	pv_vault_arena *a = NULL;
	pv_vault_arena_block b, c;
	uint8_t *base;

	(void)state;
	assert_int_equal(pv_crypto_init(), 0);
	assert_int_equal(pv_vault_arena_new(&a), 0);
	assert_int_equal(pv_vault_arena_take(a, 100, &b), 0);
	assert_non_null(b.base);
	assert_int_equal(b.cap, 4096);
	assert_int_equal(b.len, 100);
	assert_ptr_equal(b.p + b.len, b.base + b.cap);
	memset(b.p, 0xA5, b.len);
	base = b.base;
	pv_vault_arena_give(a, &b);
	assert_null(b.base);   /* the caller's handle is cleared */
	/* the pool still holds the block (mapped): the bytes handed out are zero */
	assert_true(all_zero(base + 4096 - 100, 100));

	/* a smaller request reuses the same block, placed at its end */
	assert_int_equal(pv_vault_arena_take(a, 10, &c), 0);
	assert_ptr_equal(c.base, base);
	assert_ptr_equal(c.p, base + 4096 - 10);
	memset(c.p, 0x5A, c.len);
	pv_vault_arena_give(a, &c);
	assert_true(all_zero(base + 4096 - 10, 10));
	pv_vault_arena_unref(a);
}

/* A request larger than every kept block replaces the largest with one of at least double its size. */
static void test_grow(void **state)
{
	pv_vault_arena *a = NULL;
	pv_vault_arena_block b, big, two;

	(void)state;
	assert_int_equal(pv_vault_arena_new(&a), 0);
	assert_int_equal(pv_vault_arena_take(a, 4096, &b), 0);
	assert_int_equal(b.cap, 4096);
	pv_vault_arena_give(a, &b);
	assert_int_equal(pv_vault_arena_take(a, 4097, &big), 0);
	assert_int_equal(big.cap, 8192);
	assert_ptr_equal(big.p + 4097, big.base + big.cap);
	memset(big.p, 1, big.len);   /* every byte handed out is writable */
	/* two blocks out at once: the second is a new one */
	assert_int_equal(pv_vault_arena_take(a, 20000, &two), 0);
	assert_int_equal(two.cap, 32768);
	assert_ptr_not_equal(two.base, big.base);
	pv_vault_arena_give(a, &big);
	pv_vault_arena_give(a, &two);
	/* now both are kept: the smallest that fits is chosen */
	assert_int_equal(pv_vault_arena_take(a, 5000, &b), 0);
	assert_int_equal(b.cap, 8192);
	pv_vault_arena_give(a, &b);
	pv_vault_arena_give(a, &b);   /* giving back an emptied handle is a no-op */
	pv_vault_arena_unref(a);
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void put(pv_vault *v, const char *sid, const char *data)
{
	pv_record_spec spec = { "contact", "account", NULL, data, strlen(data) };
	char id[PV_ID_LEN + 1];

	assert_int_equal(pv_record_put(v, &ADMIN, sid, &spec, id), 0);
}

/*
 * Record lists share the handle's pool: a list's data stays as it was while
 * other reads (and a rectification) run on the handle, while a second list is
 * freed, and after the handle is closed.
 */
static void test_list_lifetime(void **state)
{
	char root[64], dir[128], s1[PV_ID_LEN + 1], s2[PV_ID_LEN + 1];
	pv_identifier i1[] = { { "email", "ann@example.com" } }, i2[] = { { "email", "bob@example.com" } };
	pv_subject_spec sp1 = { i1, 1, NULL, 1990, 0 }, sp2 = { i2, 1, NULL, 1990, 0 };
	pv_record_list *la = NULL, *lb = NULL, *lc = NULL;
	pv_vault *v = NULL;
	pv_decision d;
	const pv_record *r;
	char big[9000];

	(void)state;
	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	snprintf(root, sizeof(root), "/tmp/pv-test-arena-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/v", root);
	assert_int_equal(pv_vault_init(dir, POLICY_V1, NULL), 0);
	assert_int_equal(pv_vault_open(&v, dir, NULL), 0);
	assert_int_equal(pv_subject_create(v, &ADMIN, &sp1, s1), 0);
	assert_int_equal(pv_subject_create(v, &ADMIN, &sp2, s2), 0);
	put(v, s1, "{\"name\":\"Ann\"}");
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"note\":\"", 9);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	put(v, s2, big);

	assert_int_equal(pv_record_read(v, &ADMIN, s1, "account", NULL, &la, &d), 0);
	assert_int_equal(pv_record_read(v, &ADMIN, s2, "account", NULL, &lb, &d), 0);
	assert_string_equal(pv_record_list_at(la, 0)->data, "{\"name\":\"Ann\"}");
	assert_string_equal(pv_record_list_at(lb, 0)->data, big);
	pv_record_list_free(lb);
	/* the freed list's block goes back to the pool; the next read takes it and la is untouched */
	assert_int_equal(pv_record_read(v, &ADMIN, s2, "account", NULL, &lc, &d), 0);
	assert_string_equal(pv_record_list_at(lc, 0)->data, big);
	r = pv_record_list_at(la, 0);
	assert_int_equal(pv_record_rectify(v, &ADMIN, s1, r->id, "{\"name\":\"Anna\"}", 15), 0);
	assert_string_equal(r->data, "{\"name\":\"Ann\"}");   /* a list is a snapshot */
	pv_vault_close(v);
	/* both lists outlive the handle */
	assert_string_equal(pv_record_list_at(la, 0)->data, "{\"name\":\"Ann\"}");
	assert_string_equal(pv_record_list_at(lc, 0)->data, big);
	pv_record_list_free(lc);
	pv_record_list_free(la);
	nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_give_reuse),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_list_lifetime),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
