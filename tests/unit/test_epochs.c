/*
 * Retention epoch tests (docs/retention.md, "Sweeping by key destruction").
 *
 * The tree (src/crypto/epochs.c): keys are deterministic per tree and differ
 * per epoch, pruning keeps every key at or past the watermark unchanged and
 * destroys every one below it, the frontier is the minimal cover (never more
 * than PV_EPOCH_TREE_MAX_NODES nodes), malformed frontiers are refused, the
 * wrapped frontier round-trips and detects tampering.
 *
 * The vault (src/vault/epochs.c, src/retention/shred.c): records are sealed
 * under their expiry minute's epoch, a sweep destroys ended epochs (reads and
 * counts leave their records out at once, the raw rows stay until
 * pv_retention_purge), held records are re-sealed under the data key alone and
 * survive, key rotation rewraps the frontier, a store copy with destroyed rows
 * verifies, and a dry run looks ahead without writing anything.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vault_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/crypto.h"
#include "privault/consent.h"
#include "privault/privault.h"
#include "privault/retention.h"
#include "privault/store.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/retention-policy.yaml"
#define DAY 86400
#define NODE PV_EPOCH_NODE_LEN

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };

/* 2025-03-10T12:00:00Z (a whole minute). */
static const pv_time T0 = 1741608000;

/* ---- the tree --------------------------------------------------------------------------------- */

/* A frontier in guarded memory with its length. */
typedef struct {
	uint8_t *t;
	size_t len;
} tree;

static tree tree_new(void)
{
	tree x;

	assert_int_equal(pv_crypto_init(), 0);
	x.t = pv_secret_alloc(PV_EPOCH_TREE_MAX);
	assert_non_null(x.t);
	pv_epoch_tree_new(x.t, &x.len);
	assert_int_equal(x.len, NODE);
	return x;
}

static tree tree_dup(const tree *a)
{
	tree x;

	x.t = pv_secret_alloc(PV_EPOCH_TREE_MAX);
	assert_non_null(x.t);
	memcpy(x.t, a->t, a->len);
	x.len = a->len;
	return x;
}

static void key_of(const tree *x, uint32_t epoch, uint8_t key[PV_KEY_LEN])
{
	assert_int_equal(pv_epoch_tree_key(x->t, x->len, epoch, key), 0);
}

/* The minimal cover of [w, 2^32) by aligned 16-ary subtrees: the frontier's expected node count. */
static size_t frontier_nodes(uint32_t w)
{
	size_t n = 0;
	int k = 8;

	if (w == 0)
		return 1;
	while (((w >> (4 * (8 - k))) & 15) == 0)
		k--;   /* the deepest level whose digit is not 0 */
	for (int l = 1; l < k; l++)
		n += 15 - ((w >> (4 * (8 - l))) & 15);
	return n + 16 - ((w >> (4 * (8 - k))) & 15);
}

/* Same tree, same key; epochs differ, keys differ; another tree, other keys. */
static void test_tree_keys(void **state)
{
	tree a = tree_new(), b = tree_new();
	uint8_t k1[PV_KEY_LEN], k2[PV_KEY_LEN], k3[PV_KEY_LEN];
	static const uint32_t epochs[] = { 0, 1, 15, 16, 17, 255, 256, 4095, 4096, 29026800, 0x7fffffffu,
					   0xfffffffeu, 0xffffffffu };
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(epochs) / sizeof(epochs[0]); i++) {
		key_of(&a, epochs[i], k1);
		key_of(&a, epochs[i], k2);
		assert_memory_equal(k1, k2, PV_KEY_LEN);
		key_of(&b, epochs[i], k3);
		assert_memory_not_equal(k1, k3, PV_KEY_LEN);
		for (j = 0; j < i; j++) {
			key_of(&a, epochs[j], k2);
			assert_memory_not_equal(k1, k2, PV_KEY_LEN);
		}
	}
	/* the leaf key is not the root key: nothing of the frontier is handed out as is */
	key_of(&a, 0, k1);
	assert_memory_not_equal(k1, a.t + 5, PV_KEY_LEN);
	pv_secret_free(a.t);
	pv_secret_free(b.t);
}

/* Every epoch in `probe` >= w has the key of the unpruned tree `orig`; every one < w is PV_ENOTFOUND. */
static void check_pruned(const tree *orig, const tree *x, uint32_t w, const uint32_t *probe, size_t n)
{
	uint8_t want[PV_KEY_LEN], got[PV_KEY_LEN];

	for (size_t i = 0; i < n; i++) {
		if (probe[i] >= w) {
			key_of(orig, probe[i], want);
			key_of(x, probe[i], got);
			assert_memory_equal(want, got, PV_KEY_LEN);
		} else {
			assert_int_equal(pv_epoch_tree_key(x->t, x->len, probe[i], got), PV_ENOTFOUND);
		}
	}
}

static void test_tree_prune(void **state)
{
	tree orig = tree_new(), x = tree_dup(&orig), before;
	const uint32_t W = 29026800 + 43200;   /* T0's epoch + 30 days */
	const uint32_t W2 = W + 4097;
	uint32_t probe[] = { 0, 1, W - 16, W - 1, W, W + 1, W + 15, W + 16, W + 4095, W + 4096, W2 - 1, W2,
			     W2 + 1, 0xffffffffu };
	size_t np = sizeof(probe) / sizeof(probe[0]);

	(void)state;
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, W), 0);
	assert_int_equal(x.len % NODE, 0);
	assert_int_equal(x.len / NODE, frontier_nodes(W));
	check_pruned(&orig, &x, W, probe, np);

	/* a higher watermark destroys more; the same or a lower one changes nothing */
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, W2), 0);
	assert_int_equal(x.len / NODE, frontier_nodes(W2));
	check_pruned(&orig, &x, W2, probe, np);
	before = tree_dup(&x);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, W), 0);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, W2), 0);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, 0), 0);
	assert_int_equal(x.len, before.len);
	assert_memory_equal(x.t, before.t, x.len);

	/* the last epoch: one leaf left, still the original key */
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, 0xffffffffu), 0);
	assert_int_equal(x.len, NODE);
	check_pruned(&orig, &x, 0xffffffffu, probe, np);

	/* the largest frontier: watermark 1 (digits 0,...,0,1) needs 8 x 15 nodes */
	pv_secret_free(x.t);
	x = tree_dup(&orig);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, 1), 0);
	assert_int_equal(x.len / NODE, 120);
	assert_true(x.len / NODE <= PV_EPOCH_TREE_MAX_NODES);
	check_pruned(&orig, &x, 1, probe, np);
	pv_secret_free(x.t);
	pv_secret_free(before.t);
	pv_secret_free(orig.t);
}

/* 1000 random increasing watermarks: the frontier stays minimal and within bounds, keys stay put. */
static void test_tree_prune_random(void **state)
{
	tree orig = tree_new(), x = tree_dup(&orig);
	uint64_t w = 0;
	uint32_t probe[6];
	size_t most = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		/* steps of 1 .. ~8.6M epochs, smaller ones often, so every level's digits vary */
		uint32_t r = randombytes_uniform(4);
		uint64_t step = 1 + randombytes_uniform(r == 0 ? 16 : r == 1 ? 4096 : r == 2 ? 1u << 20 : 1u << 23);

		if (w + step > 0xffffffffu)
			break;
		w += step;
		assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, (uint32_t)w), 0);
		assert_int_equal(x.len % NODE, 0);
		assert_true(x.len / NODE <= PV_EPOCH_TREE_MAX_NODES);
		assert_int_equal(x.len / NODE, frontier_nodes((uint32_t)w));
		if (x.len / NODE > most)
			most = x.len / NODE;
		probe[0] = (uint32_t)w - 1;
		probe[1] = (uint32_t)w;
		probe[2] = (uint32_t)w + (w < 0xffffffffu);
		probe[3] = (uint32_t)(w + randombytes_uniform((uint32_t)(0xffffffffu - w) + 1 > 1u << 30
								 ? 1u << 30 : (uint32_t)(0xffffffffu - w) + 1));
		probe[4] = randombytes_uniform((uint32_t)w);
		probe[5] = 0xffffffffu;
		check_pruned(&orig, &x, (uint32_t)w, probe, 6);
	}
	assert_true(w > 1000);
	assert_true(most > 8);   /* the walk did reach deep frontiers */
	print_message("random prune: final watermark %llu, largest frontier %zu nodes\n", (unsigned long long)w, most);
	pv_secret_free(x.t);
	pv_secret_free(orig.t);
}

static void test_tree_malformed(void **state)
{
	tree x = tree_new();
	uint8_t *bad = pv_secret_alloc(PV_EPOCH_TREE_MAX + NODE), key[PV_KEY_LEN];
	size_t len;

	(void)state;
	assert_non_null(bad);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, 1000), 0);
	assert_true(x.len >= 2 * NODE);

	/* lengths: not whole nodes, none, more than the most */
	memcpy(bad, x.t, x.len);
	for (size_t l = x.len - 1; l <= x.len + 1; l += 2)
		assert_int_equal(pv_epoch_tree_key(bad, l, 5000, key), PV_EINVAL);
	assert_int_equal(pv_epoch_tree_key(bad, NODE - 1, 5000, key), PV_EINVAL);
	assert_int_equal(pv_epoch_tree_key(bad, 0, 5000, key), PV_EINVAL);
	len = x.len + 1;
	assert_int_equal(pv_epoch_tree_prune(bad, &len, 2000), PV_EINVAL);
	memset(bad, 0, PV_EPOCH_TREE_MAX + NODE);
	for (size_t i = 0; i <= PV_EPOCH_TREE_MAX_NODES; i++) {   /* 122 disjoint leaves */
		bad[i * NODE] = 8;
		bad[i * NODE + 4] = (uint8_t)i;
	}
	assert_int_equal(pv_epoch_tree_key(bad, PV_EPOCH_TREE_MAX, 5, key), 0);   /* 121: fine */
	assert_int_equal(pv_epoch_tree_key(bad, PV_EPOCH_TREE_MAX + NODE, 5, key), PV_EINVAL);

	/* level 9 */
	memcpy(bad, x.t, x.len);
	bad[0] = 9;
	assert_int_equal(pv_epoch_tree_key(bad, x.len, 5000, key), PV_EINVAL);
	len = x.len;
	assert_int_equal(pv_epoch_tree_prune(bad, &len, 2000), PV_EINVAL);
	assert_int_equal(len, x.len);

	/* a prefix past the last epoch at its level (level 1 has 16 nodes: 0..15) */
	memset(bad, 0, NODE);
	bad[0] = 1;
	bad[4] = 16;
	assert_int_equal(pv_epoch_tree_key(bad, NODE, 5000, key), PV_EINVAL);

	/* overlapping nodes: a level-2 node inside the level-1 node before it, and the root twice */
	memset(bad, 0, 2 * NODE);
	bad[0] = 1;            /* level 1, prefix 0: epochs [0, 2^28) */
	bad[NODE] = 2;         /* level 2, prefix 3: epochs [3 * 2^24, 4 * 2^24) */
	bad[NODE + 4] = 3;
	assert_int_equal(pv_epoch_tree_key(bad, 2 * NODE, 1, key), PV_EINVAL);
	memset(bad, 0, 2 * NODE);
	assert_int_equal(pv_epoch_tree_key(bad, 2 * NODE, 1, key), PV_EINVAL);
	/* out of order (disjoint, but the later span first) */
	memset(bad, 0, 2 * NODE);
	bad[0] = 8;
	bad[4] = 9;
	bad[NODE] = 8;
	bad[NODE + 4] = 8;
	assert_int_equal(pv_epoch_tree_key(bad, 2 * NODE, 8, key), PV_EINVAL);
	len = 2 * NODE;
	assert_int_equal(pv_epoch_tree_prune(bad, &len, 3), PV_EINVAL);

	/* a well-formed frontier that stops short of 2^32 cannot be pruned past its end */
	memset(bad, 0, NODE);
	bad[0] = 8;
	bad[4] = 5;
	len = NODE;
	assert_int_equal(pv_epoch_tree_key(bad, len, 5, key), 0);
	assert_int_equal(pv_epoch_tree_prune(bad, &len, 10), PV_EINVAL);

	pv_secret_free(bad);
	pv_secret_free(x.t);
}

static void test_tree_wrap(void **state)
{
	char dir[] = "/tmp/pv-test-epochwrap-XXXXXX", path[64];
	pv_keyring *k = NULL;
	tree x = tree_new();
	uint8_t wrapped[PV_EPOCH_WRAPPED_MAX], *back = pv_secret_alloc(PV_EPOCH_TREE_MAX);
	uint8_t k1[PV_KEY_LEN], k2[PV_KEY_LEN];
	size_t wlen = 0, blen = 0;
	uint32_t ver = 0, v2 = 0;
	tree b;

	(void)state;
	assert_non_null(back);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k", dir);
	unsetenv("PRIVAULT_KEYS");
	assert_int_equal(pv_keyring_create_file(path), 0);
	assert_int_equal(pv_keyring_load(&k, path), 0);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, 29026800), 0);

	assert_int_equal(pv_epoch_tree_wrap(k, x.t, x.len, wrapped, &wlen, &ver), 0);
	assert_int_equal(ver, 1);
	assert_int_equal(wlen, x.len + PV_NONCE_LEN + PV_TAG_LEN);
	assert_true(wlen <= PV_EPOCH_WRAPPED_MAX);
	assert_int_equal(pv_epoch_tree_unwrap(k, ver, wrapped, wlen, back, &blen), 0);
	assert_int_equal(blen, x.len);
	assert_memory_equal(back, x.t, x.len);
	b.t = back;
	b.len = blen;
	key_of(&x, 29026800 + 77, k1);
	key_of(&b, 29026800 + 77, k2);
	assert_memory_equal(k1, k2, PV_KEY_LEN);

	/* any flipped byte (nonce, body, tag) fails to open */
	for (size_t i = 0; i < wlen; i += wlen / 7) {
		wrapped[i] ^= 0x01;
		assert_int_equal(pv_epoch_tree_unwrap(k, ver, wrapped, wlen, back, &blen), PV_ECRYPTO);
		wrapped[i] ^= 0x01;
	}
	wrapped[wlen - 1] ^= 0x80;
	assert_int_equal(pv_epoch_tree_unwrap(k, ver, wrapped, wlen, back, &blen), PV_ECRYPTO);
	wrapped[wlen - 1] ^= 0x80;
	/* malformed sizes and versions */
	assert_int_equal(pv_epoch_tree_unwrap(k, ver, wrapped, wlen - 1, back, &blen), PV_ECRYPTO);
	assert_int_equal(pv_epoch_tree_unwrap(k, ver, wrapped, PV_NONCE_LEN + PV_TAG_LEN, back, &blen), PV_EINVAL);
	assert_int_equal(pv_epoch_tree_unwrap(k, 0, wrapped, wlen, back, &blen), PV_EINVAL);
	assert_int_equal(pv_epoch_tree_unwrap(k, 2, wrapped, wlen, back, &blen), PV_ENOTFOUND);
	/* nor is a malformed frontier wrapped */
	memcpy(back, x.t, x.len);
	back[0] = 9;
	assert_int_equal(pv_epoch_tree_wrap(k, back, x.len, wrapped, &blen, &v2), PV_EINVAL);
	assert_int_equal(pv_epoch_tree_wrap(k, x.t, x.len + 1, wrapped, &blen, &v2), PV_EINVAL);

	/* a new KEK wraps from now on; the version is bound: the new blob does not open as version 1 */
	assert_int_equal(pv_keyring_add_version(k, path, &v2), 0);
	assert_int_equal(v2, 2);
	assert_int_equal(pv_epoch_tree_unwrap(k, 1, wrapped, wlen, back, &blen), 0);
	assert_int_equal(pv_epoch_tree_wrap(k, x.t, x.len, wrapped, &wlen, &ver), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(pv_epoch_tree_unwrap(k, 1, wrapped, wlen, back, &blen), PV_ECRYPTO);
	assert_int_equal(pv_epoch_tree_unwrap(k, 2, wrapped, wlen, back, &blen), 0);
	assert_memory_equal(back, x.t, x.len);

	pv_keyring_free(k);
	pv_secret_free(back);
	pv_secret_free(x.t);
	remove(path);
	rmdir(dir);
}

static void test_record_key(void **state)
{
	uint8_t e1[PV_KEY_LEN], e2[PV_KEY_LEN], d1[PV_DEK_LEN], d2[PV_DEK_LEN];
	uint8_t r11[PV_DEK_LEN], r11b[PV_DEK_LEN], r12[PV_DEK_LEN], r21[PV_DEK_LEN], r22[PV_DEK_LEN];
	tree x = tree_new();

	(void)state;
	key_of(&x, 100, e1);
	key_of(&x, 101, e2);
	pv_dek_generate(d1);
	pv_dek_generate(d2);
	pv_epoch_record_key(e1, d1, r11);
	pv_epoch_record_key(e1, d1, r11b);
	pv_epoch_record_key(e1, d2, r12);
	pv_epoch_record_key(e2, d1, r21);
	pv_epoch_record_key(e2, d2, r22);
	assert_memory_equal(r11, r11b, PV_DEK_LEN);
	assert_memory_not_equal(r11, r12, PV_DEK_LEN);
	assert_memory_not_equal(r11, r21, PV_DEK_LEN);
	assert_memory_not_equal(r11, r22, PV_DEK_LEN);
	assert_memory_not_equal(r12, r21, PV_DEK_LEN);
	assert_memory_not_equal(r11, d1, PV_DEK_LEN);
	assert_memory_not_equal(r11, e1, PV_DEK_LEN);
	/* out may be the epoch key (as the copy check uses it) */
	memcpy(r22, e1, PV_KEY_LEN);
	pv_epoch_record_key(r22, d1, r22);
	assert_memory_equal(r22, r11, PV_DEK_LEN);
	pv_secret_free(x.t);
}

/* The documented derivation (crypto.h), written out: child j of key k at level l = keyed BLAKE2b(k, "pv-epoch" || l || j). */
static void ref_derive(uint8_t k[PV_KEY_LEN], unsigned from_level, unsigned to_level, uint32_t epoch)
{
	for (unsigned l = from_level + 1; l <= to_level; l++) {
		uint8_t tail[2] = { (uint8_t)l, (uint8_t)((epoch >> (4 * (8 - l))) & 15) };
		crypto_generichash_state st;

		crypto_generichash_init(&st, k, PV_KEY_LEN, PV_KEY_LEN);
		crypto_generichash_update(&st, (const uint8_t *)"pv-epoch", 8);
		crypto_generichash_update(&st, tail, 2);
		crypto_generichash_final(&st, k, PV_KEY_LEN);
	}
}

/*
 * Known answers: a root of fixed bytes gives the leaf keys and, once pruned,
 * the frontier nodes (level || prefix BE || key) that the documented
 * derivation gives; the record key is keyed BLAKE2b(epoch key, "pv-record-key" || dek).
 * Stored records depend on this staying the same from one version to the next.
 */
static void test_tree_known_answer(void **state)
{
	static const uint32_t epochs[] = { 0, 1, 0x12345678u, 0x12345679u, 0xfedcba98u, 0xffffffffu };
	const uint32_t W = 0x12345678u;   /* every digit non-zero: the first node is W's own leaf */
	tree x = tree_new();
	uint8_t want[PV_KEY_LEN], got[PV_KEY_LEN], dek[PV_DEK_LEN], rk[PV_DEK_LEN];
	crypto_generichash_state st;
	const uint8_t *last;

	(void)state;
	for (int i = 0; i < PV_KEY_LEN; i++)
		x.t[5 + i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(epochs) / sizeof(epochs[0]); i++) {
		memcpy(want, x.t + 5, PV_KEY_LEN);
		ref_derive(want, 0, 8, epochs[i]);
		key_of(&x, epochs[i], got);
		assert_memory_equal(got, want, PV_KEY_LEN);
	}
	memcpy(want, x.t + 5, PV_KEY_LEN);
	assert_int_equal(pv_epoch_tree_prune(x.t, &x.len, W), 0);
	assert_int_equal(x.len / NODE, frontier_nodes(W));
	/* first node: level 8, prefix W, W's leaf key */
	assert_int_equal(x.t[0], 8);
	assert_int_equal((uint32_t)x.t[1] << 24 | (uint32_t)x.t[2] << 16 | (uint32_t)x.t[3] << 8 | x.t[4], W);
	memcpy(got, want, PV_KEY_LEN);
	ref_derive(got, 0, 8, W);
	assert_memory_equal(x.t + 5, got, PV_KEY_LEN);
	/* last node: level 1, prefix 15 (epochs [15 * 2^28, 2^32)), the root's child 15 */
	last = x.t + x.len - NODE;
	assert_int_equal(last[0], 1);
	assert_true(last[1] == 0 && last[2] == 0 && last[3] == 0 && last[4] == 15);
	memcpy(got, want, PV_KEY_LEN);
	ref_derive(got, 0, 1, 0xf0000000u);
	assert_memory_equal(last + 5, got, PV_KEY_LEN);

	for (int i = 0; i < PV_DEK_LEN; i++)
		dek[i] = (uint8_t)(255 - i);
	key_of(&x, W + 3, got);
	pv_epoch_record_key(got, dek, rk);
	crypto_generichash_init(&st, got, PV_KEY_LEN, PV_DEK_LEN);
	crypto_generichash_update(&st, (const uint8_t *)"pv-record-key", 13);
	crypto_generichash_update(&st, dek, PV_DEK_LEN);
	crypto_generichash_final(&st, want, PV_DEK_LEN);
	assert_memory_equal(rk, want, PV_DEK_LEN);
	pv_secret_free(x.t);
}

/* ---- the vault -------------------------------------------------------------------------------- */

typedef pv_test_fixture fixture;

static int setup(void **state)
{
	return pv_test_fixture_setup(state, POLICY, "epochs", T0);
}

static int teardown(void **state)
{
	return pv_test_fixture_teardown(state);
}

static void subject(pv_vault *v, int n, char id[PV_ID_LEN + 1])
{
	char email[64];
	pv_identifier ident = { "email", email };
	pv_subject_spec spec = { &ident, 1, NULL, 0, 0 };

	snprintf(email, sizeof(email), "person%d@example.com", n);
	assert_int_equal(pv_subject_create(v, &ADMIN, &spec, id), 0);
}

static void put(pv_vault *v, const char *sid, const char *cat, const char *purpose, const char *data,
		char id[PV_ID_LEN + 1])
{
	pv_record_spec spec = { cat, purpose, NULL, data, strlen(data) };

	assert_int_equal(pv_record_put(v, &ADMIN, sid, &spec, id), 0);
}

/*
 * A: account contact (no expiry) + an order (1 month, delete); B: an order;
 * C: a newsletter contact (30 days, anonymize); D: identifiers (2 years).
 */
enum { A_CONTACT, A_ORDER, B_ORDER, C_NEWS, D_IDENT, NREC };
static const struct {
	int who;
	const char *cat, *purpose, *data;
} RECS[NREC] = {
	{ 0, "contact", "account", "{\"n\":\"a-contact\"}" },
	{ 0, "commercial", "order_fulfilment", "{\"n\":\"a-order\"}" },
	{ 1, "commercial", "order_fulfilment", "{\"n\":\"b-order\"}" },
	{ 2, "contact", "marketing", "{\"n\":\"c-news\"}" },
	{ 3, "identifiers", "order_fulfilment", "{\"n\":\"d-ident\"}" },
};

typedef struct {
	char sid[4][PV_ID_LEN + 1];
	char rid[NREC][PV_ID_LEN + 1];
} people;

static void populate(pv_vault *v, people *p)
{
	for (int i = 0; i < 4; i++)
		subject(v, i + 1, p->sid[i]);
	/* C's newsletter is opt-in: without consent the admin's read of it is denied */
	assert_int_equal(pv_consent_record_one(v, &ADMIN, p->sid[2], "marketing", PV_CONSENT_GRANTED, NULL, NULL), 0);
	for (int i = 0; i < NREC; i++)
		put(v, p->sid[RECS[i].who], RECS[i].cat, RECS[i].purpose, RECS[i].data, p->rid[i]);
}

static const char *sid_of(const people *p, int rec)
{
	return p->sid[RECS[rec].who];
}

/* The record's row through the store (live records only): 0 or PV_ENOTFOUND. */
static int row(pv_vault *v, const people *p, int rec, pv_store_record *out)
{
	uint8_t *buf = NULL;
	int rc = pv_store_record_get(pv_vault_store(v), sid_of(p, rec), p->rid[rec], out, &buf);

	free(buf);
	return rc;
}

static int64_t epoch_of(pv_vault *v, const people *p, int rec)
{
	pv_store_record r;

	assert_int_equal(row(v, p, rec, &r), 0);
	return r.key_epoch;
}

/*
 * Read record `rec` through pv_record_read (admin, its purpose and category):
 * the number of records returned; when one, its data must be the record's.
 * An erased subject's read answers PV_EERASED: 0.
 */
static size_t read_rec(pv_vault *v, const people *p, int rec)
{
	pv_record_list *l = NULL;
	pv_decision d;
	size_t n;
	int rc = pv_record_read(v, &ADMIN, sid_of(p, rec), RECS[rec].purpose, RECS[rec].cat, &l, &d);

	if (rc == PV_EERASED)
		return 0;
	assert_int_equal(rc, 0);
	n = pv_record_list_count(l);
	assert_true(n <= 1);
	if (n == 1) {
		const pv_record *r = pv_record_list_at(l, 0);

		assert_string_equal(r->id, p->rid[rec]);
		assert_int_equal(r->len, strlen(RECS[rec].data));
		assert_memory_equal(r->data, RECS[rec].data, r->len);
	}
	pv_record_list_free(l);
	return n;
}

static int count_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	assert_int_equal(n, 1);
	*(int64_t *)payload = pv_sv_get_int(&vals[0]);
	return 0;
}

static int64_t live(pv_vault *v)
{
	int64_t n = -1;

	assert_int_equal(pv_store_record_count(pv_vault_store(v), &n), 0);
	return n;
}

/* Rows in the records table, destroyed ones included. */
static int64_t raw(pv_vault *v)
{
	static const char q[] = "SELECT COUNT(*) FROM records";
	int64_t n = -1;

	assert_int_equal(pv_store_query(pv_vault_store(v), "test", q, NULL, 0, count_cb, &n), 0);
	return n;
}

static int raw_has(pv_vault *v, const people *p, int rec)
{
	static const char q[] = "SELECT COUNT(*) FROM records WHERE subject_id = ? AND id = ?";
	pv_store_value a[] = { pv_sv_text(sid_of(p, rec)), pv_sv_text(p->rid[rec]) };
	int64_t n = -1;

	assert_int_equal(pv_store_query(pv_vault_store(v), "test", q, a, 2, count_cb, &n), 0);
	return (int)n;
}

/* The retention_keys row. */
typedef struct {
	int found;
	int64_t watermark, kek_version;
	uint8_t wrapped[PV_EPOCH_WRAPPED_MAX];
	size_t len;
} keys_row;

static int keys_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	keys_row *k = payload;

	(void)cols;
	assert_int_equal(n, 3);
	k->found++;
	k->watermark = pv_sv_get_int(&vals[0]);
	k->kek_version = pv_sv_get_int(&vals[1]);
	assert_int_equal(vals[2].type, PV_STORE_BLOB);
	assert_true(vals[2].len <= sizeof(k->wrapped));
	memcpy(k->wrapped, vals[2].p, vals[2].len);
	k->len = vals[2].len;
	return 0;
}

static keys_row keys_get(pv_vault *v)
{
	static const char q[] = "SELECT watermark, kek_version, wrapped FROM retention_keys";
	keys_row k;

	memset(&k, 0, sizeof(k));
	assert_int_equal(pv_store_query(pv_vault_store(v), "test", q, NULL, 0, keys_cb, &k), 0);
	assert_int_equal(k.found, 1);
	return k;
}

/* The stored frontier, unwrapped with the vault's keyring. */
static tree stored_tree(pv_vault *v)
{
	keys_row k = keys_get(v);
	tree x;

	x.t = pv_secret_alloc(PV_EPOCH_TREE_MAX);
	assert_non_null(x.t);
	assert_int_equal(pv_epoch_tree_unwrap(pv_vault_keyring(v), k.kek_version, k.wrapped, k.len, x.t, &x.len), 0);
	return x;
}

typedef struct {
	char category[PV_ID_MAX_LEN + 1];
	int64_t key_epoch;
	uint8_t nonce[PV_NONCE_LEN];
	uint8_t ct[256];
	size_t ct_len;
} raw_row;

static int raw_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	raw_row *r = payload;

	(void)cols;
	assert_int_equal(n, 4);
	assert_int_equal(pv_sv_get_text(&vals[0], r->category, sizeof(r->category)), 0);
	r->key_epoch = pv_sv_get_int(&vals[1]);
	assert_int_equal(vals[2].len, PV_NONCE_LEN);
	memcpy(r->nonce, vals[2].p, PV_NONCE_LEN);
	assert_true(vals[3].len <= sizeof(r->ct));
	memcpy(r->ct, vals[3].p, vals[3].len);
	r->ct_len = vals[3].len;
	return 0;
}

/*
 * Open record `rec`'s raw row (read with SQL, past the live filter) by hand:
 * the subject's data key, with the key of its epoch from frontier `t` unless
 * its key_epoch is NULL. 0 (and the data checked), PV_ENOTFOUND when `t` has no
 * key for its epoch, PV_ECRYPTO when the key does not open it.
 */
static int raw_open(pv_vault *v, const people *p, int rec, const tree *t)
{
	static const char q[] = "SELECT category, key_epoch, nonce, ciphertext FROM records"
				" WHERE subject_id = ? AND id = ?";
	pv_store_value a[] = { pv_sv_text(sid_of(p, rec)), pv_sv_text(p->rid[rec]) };
	uint8_t *dek = pv_secret_alloc(PV_DEK_LEN), *ek = pv_secret_alloc(PV_KEY_LEN), pt[256];
	raw_row r;
	pv_store_key k;
	int rc;

	memset(&r, 0, sizeof(r));
	assert_int_equal(pv_store_query(pv_vault_store(v), "test", q, a, 2, raw_cb, &r), 0);
	assert_true(r.ct_len > PV_TAG_LEN);
	assert_int_equal(pv_store_key_get(pv_vault_store(v), sid_of(p, rec), &k), 0);
	assert_int_equal(pv_dek_unwrap(pv_vault_keyring(v), k.kek_version, sid_of(p, rec), k.wrapped, dek), 0);
	rc = r.key_epoch == 0 ? 0 : pv_epoch_tree_key(t->t, t->len, (uint32_t)r.key_epoch, ek);
	if (rc == 0 && r.key_epoch != 0)
		pv_epoch_record_key(ek, dek, dek);
	if (rc == 0)
		rc = pv_open(dek, sid_of(p, rec), p->rid[rec], r.category, r.nonce, r.ct, r.ct_len, pt);
	if (rc == 0) {
		assert_int_equal(r.ct_len - PV_TAG_LEN, strlen(RECS[rec].data));
		assert_memory_equal(pt, RECS[rec].data, r.ct_len - PV_TAG_LEN);
	}
	pv_secret_free(dek);
	pv_secret_free(ek);
	return rc;
}

/* Audit entries with `action`; *last = the last one. */
typedef struct {
	const char *action;
	size_t n;
	pv_audit_entry last;
} audit_ctx;

static int audit_cb(const pv_audit_entry *e, void *payload)
{
	audit_ctx *c = payload;

	if (strcmp(e->action, c->action) == 0) {
		c->n++;
		c->last = *e;
	}
	return 0;
}

static size_t audit_count(pv_vault *v, const char *action, pv_audit_entry *last)
{
	audit_ctx c;

	memset(&c, 0, sizeof(c));
	c.action = action;
	assert_int_equal(pv_audit_list(v, 1, 0, audit_cb, &c), 0);
	if (last)
		*last = c.last;
	return c.n;
}

static int64_t audit_len(pv_vault *v)
{
	pv_vault_stats st;

	assert_int_equal(pv_vault_stats_get(v, &st), 0);
	return st.audit_entries;
}

static void verify_audit(pv_vault *v)
{
	pv_audit_report r;

	assert_int_equal(pv_audit_verify(v, &r), 0);
	assert_int_equal(r.ok, 1);
}

static int64_t watermark(pv_vault *v)
{
	assert_int_equal(pv_vault_epochs_read(v, 0), 0);
	return pv_vault_epochs_watermark(v);
}

/* Sweep as of `now` (the clock moved there unless a dry run), purging `purge` rows. */
static pv_sweep_report *sweep(pv_vault *v, int dry, pv_time now, size_t purge)
{
	pv_sweep_options o = { dry, now, 0, purge };
	pv_sweep_report *r = NULL;

	if (!dry)
		pv_clock_set(now);
	assert_int_equal(pv_retention_sweep(v, &ADMIN, &o, &r), 0);
	assert_non_null(r);
	return r;
}

/* Records are sealed under their expiry minute; a sweep destroys ended epochs; the purge deletes their rows. */
static void test_vault_destroy_purge(void **state)
{
	fixture *f = *state;
	const pv_caller service = { "test-service", PV_ROLE_SERVICE, NULL, 0 };
	const pv_time now = T0 + 40 * DAY;
	pv_sweep_report *r;
	pv_store_record rr;
	pv_audit_entry e;
	tree before, after;
	size_t rows = 99;
	people p;
	keys_row k;

	populate(f->v, &p);
	for (int i = 0; i < NREC; i++) {
		assert_int_equal(row(f->v, &p, i, &rr), 0);
		if (i == A_CONTACT) {
			assert_true(rr.expires_at == INT64_MAX);
			assert_int_equal(rr.key_epoch, 0);
		} else {
			assert_true(rr.expires_at >= T0 + 30 * DAY);
			assert_int_equal(rr.key_epoch, rr.expires_at / PV_EPOCH_SECONDS);
		}
		assert_int_equal(read_rec(f->v, &p, i), 1);
	}
	assert_true(epoch_of(f->v, &p, D_IDENT) > epoch_of(f->v, &p, A_ORDER));
	k = keys_get(f->v);
	assert_int_equal(k.watermark, 0);
	assert_int_equal(k.kek_version, 1);
	assert_int_equal(watermark(f->v), 0);
	/* by hand, from the stored frontier: the rows open under epoch key + data key, and not under the data key alone */
	before = stored_tree(f->v);
	for (int i = 0; i < NREC; i++)
		assert_int_equal(raw_open(f->v, &p, i, &before), 0);
	assert_int_equal(live(f->v), 5);
	assert_int_equal(raw(f->v), 5);

	r = sweep(f->v, 0, now, 0);
	assert_int_equal(r->destroyed, 3);
	assert_int_equal(r->deleted, 2);
	assert_int_equal(r->anonymized, 1);
	assert_int_equal(r->kept, 0);
	assert_int_equal(r->subjects_erased, 2);   /* B and C */
	assert_int_equal(r->purged, 0);
	assert_int_equal(r->batches, 1);           /* the one destruction transaction */
	pv_sweep_report_free(r);

	/* gone from every read at once; the rows stay */
	for (int i = A_ORDER; i <= C_NEWS; i++) {
		assert_int_equal(read_rec(f->v, &p, i), 0);
		assert_int_equal(row(f->v, &p, i, &rr), PV_ENOTFOUND);
		assert_int_equal(raw_has(f->v, &p, i), 1);
	}
	assert_int_equal(read_rec(f->v, &p, A_CONTACT), 1);
	assert_int_equal(read_rec(f->v, &p, D_IDENT), 1);
	assert_int_equal(live(f->v), 2);
	assert_int_equal(raw(f->v), 5);
	assert_int_equal(watermark(f->v), now / PV_EPOCH_SECONDS);
	assert_int_equal(keys_get(f->v).watermark, now / PV_EPOCH_SECONDS);

	/* the stored frontier no longer yields the destroyed epochs: A's order (A still has its data key)
	 * cannot be opened any more, though its ciphertext is unchanged (the old frontier still opens it) */
	after = stored_tree(f->v);
	assert_int_equal(raw_open(f->v, &p, A_ORDER, &after), PV_ENOTFOUND);
	assert_int_equal(raw_open(f->v, &p, A_ORDER, &before), 0);
	assert_int_equal(raw_open(f->v, &p, D_IDENT, &after), 0);
	assert_int_equal(raw_open(f->v, &p, A_CONTACT, &after), 0);

	/* the purge (admin only) deletes exactly the destroyed rows, audited without a subject */
	assert_int_equal(audit_count(f->v, "retention.purge", NULL), 0);
	assert_int_equal(pv_retention_purge(f->v, &service, 0, &rows), PV_EDENIED);
	assert_int_equal(raw(f->v), 5);
	assert_int_equal(pv_retention_purge(f->v, &ADMIN, 1, &rows), 0);
	assert_int_equal(rows, 1);
	assert_int_equal(raw(f->v), 4);
	assert_int_equal(pv_retention_purge(f->v, &ADMIN, 0, &rows), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(raw(f->v), 2);
	assert_int_equal(live(f->v), 2);
	for (int i = 0; i < NREC; i++)
		assert_int_equal(raw_has(f->v, &p, i), i == A_CONTACT || i == D_IDENT);
	assert_int_equal(audit_count(f->v, "retention.purge", &e), 2);
	assert_string_equal(e.outcome, "ok:rows=2");
	assert_string_equal(e.subject_id, "");
	assert_string_equal(e.actor, "test-admin");
	assert_int_equal(pv_retention_purge(f->v, &ADMIN, 0, &rows), 0);
	assert_int_equal(rows, 0);
	assert_int_equal(audit_count(f->v, "retention.purge", NULL), 2);   /* nothing purged, nothing audited */
	assert_int_equal(read_rec(f->v, &p, D_IDENT), 1);
	verify_audit(f->v);
	pv_secret_free(before.t);
	pv_secret_free(after.t);
}

/* Sweeping through a purge option: the report's purged count. */
static void test_vault_sweep_purges(void **state)
{
	fixture *f = *state;
	pv_sweep_report *r;
	people p;

	populate(f->v, &p);
	r = sweep(f->v, 0, T0 + 40 * DAY, PV_SWEEP_PURGE_ALL);
	assert_int_equal(r->destroyed, 3);
	assert_int_equal(r->purged, 3);
	pv_sweep_report_free(r);
	assert_int_equal(raw(f->v), 2);
	assert_int_equal(live(f->v), 2);
}

/*
 * The minute boundary: a record whose expiry has come but whose epoch has not
 * ended yet goes through the batch path (its row deleted at once); one sweep
 * earlier, nothing goes.
 */
static void test_vault_epoch_boundary(void **state)
{
	fixture *f = *state;
	pv_sweep_report *r;
	pv_store_record rr;
	people p;
	pv_time x;

	populate(f->v, &p);
	assert_int_equal(row(f->v, &p, A_ORDER, &rr), 0);
	x = rr.expires_at;   /* both orders expire at x */
	assert_int_equal(row(f->v, &p, B_ORDER, &rr), 0);
	assert_true(rr.expires_at == x);

	r = sweep(f->v, 0, x - 1, 0);
	assert_int_equal(r->deleted, 0);
	assert_int_equal(r->anonymized, 1);   /* C's newsletter contact (30 days) only */
	assert_int_equal(r->destroyed, 1);
	pv_sweep_report_free(r);
	assert_int_equal(watermark(f->v), (x - 1) / PV_EPOCH_SECONDS);
	assert_int_equal(read_rec(f->v, &p, A_ORDER), 1);
	assert_int_equal(read_rec(f->v, &p, C_NEWS), 0);
	assert_int_equal(raw(f->v), 5);

	r = sweep(f->v, 0, x / PV_EPOCH_SECONDS * PV_EPOCH_SECONDS + PV_EPOCH_SECONDS - 1, 0);
	assert_int_equal(r->destroyed, 0);   /* x's epoch has not ended */
	assert_int_equal(r->deleted, 2);     /* but both orders have expired: the batch path */
	pv_sweep_report_free(r);
	assert_int_equal(watermark(f->v), x / PV_EPOCH_SECONDS);
	assert_int_equal(read_rec(f->v, &p, A_ORDER), 0);
	assert_int_equal(raw(f->v), 3);   /* C's destroyed row waits for the purge */
}

/* A policy with retentions of 0 hours and 1 hour (the shortest a policy can state). */
static void short_policy(const char *root, char path[128])
{
	static const char extra[] = "    - category: identifiers\n      purpose: account\n      duration: \"0 hours\"\n"
				    "    - category: contact\n      purpose: account\n      duration: \"1 hour\"\n";
	char buf[8192];
	FILE *in = fopen(POLICY, "r"), *out;
	size_t n;

	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	assert_true(n > 0 && n < sizeof(buf));
	snprintf(path, 128, "%s/short.yaml", root);
	out = fopen(path, "w");
	assert_non_null(out);
	assert_int_equal(fwrite(buf, 1, n, out), n);
	if (buf[n - 1] != '\n')
		fputc('\n', out);
	fputs(extra, out);
	fclose(out);
}

/* An expiry within 2 minutes of storing keeps the data key alone (key_epoch 0); 1 hour gets an epoch. */
static void test_vault_short_retention(void **state)
{
	fixture *f = *state;
	char path[128], dir[160], sid[PV_ID_LEN + 1], now_id[PV_ID_LEN + 1], hour_id[PV_ID_LEN + 1];
	pv_vault *v = NULL;
	pv_sweep_report *r;
	pv_store_record rr;
	uint8_t *buf = NULL;

	short_policy(f->root, path);
	snprintf(dir, sizeof(dir), "%s/short", f->root);
	assert_int_equal(pv_vault_init(dir, path, NULL), 0);
	assert_int_equal(pv_vault_open(&v, dir, NULL), 0);
	subject(v, 1, sid);
	put(v, sid, "identifiers", "account", "{\"n\":1}", now_id);
	put(v, sid, "contact", "account", "{\"n\":2}", hour_id);
	assert_int_equal(pv_store_record_get(pv_vault_store(v), sid, now_id, &rr, &buf), 0);
	free(buf);
	assert_true(rr.expires_at == T0);
	assert_int_equal(rr.key_epoch, 0);
	assert_int_equal(pv_store_record_get(pv_vault_store(v), sid, hour_id, &rr, &buf), 0);
	free(buf);
	assert_true(rr.expires_at == T0 + 3600);
	assert_int_equal(rr.key_epoch, (T0 + 3600) / PV_EPOCH_SECONDS);

	/* the one without an epoch goes through the batch path; the subject keeps its other record */
	r = sweep(v, 0, T0 + 1, 0);
	assert_int_equal(r->destroyed, 0);
	assert_int_equal(r->deleted, 1);
	assert_int_equal(r->subjects_erased, 0);
	pv_sweep_report_free(r);
	assert_int_equal(raw(v), 1);
	/* an hour and a minute on, the other one's epoch is destroyed and the subject, left with nothing, erased */
	r = sweep(v, 0, T0 + 3600 + 60, 0);
	assert_int_equal(r->destroyed, 1);
	assert_int_equal(r->deleted, 1);
	assert_int_equal(r->subjects_erased, 1);
	assert_string_equal(r->erased[0], sid);
	pv_sweep_report_free(r);
	assert_int_equal(live(v), 0);
	assert_int_equal(raw(v), 1);
	verify_audit(v);
	pv_vault_close(v);
}

/* A hold on an expired record: re-sealed under the data key alone, survives its epoch; released, the batch path deletes it. */
static void hold_case(fixture *f, int by_category)
{
	pv_hold_spec hs = { 0 };
	char h[PV_ID_LEN + 1];
	uint8_t key[PV_KEY_LEN];
	pv_sweep_report *r;
	pv_store_subject subj;
	tree t;
	people p;
	int64_t e;

	populate(f->v, &p);
	e = epoch_of(f->v, &p, B_ORDER);
	assert_true(e > 0);
	hs.reason = "Matter 12";
	if (by_category)
		hs.category = "commercial";   /* A's and B's orders */
	else
		hs.subject_id = p.sid[1];     /* B */
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &hs, h), 0);

	r = sweep(f->v, 0, T0 + 40 * DAY, PV_SWEEP_PURGE_ALL);
	assert_int_equal(r->destroyed, by_category ? 1 : 2);
	assert_int_equal(r->kept, by_category ? 2 : 1);
	assert_int_equal(r->subjects_erased, 1);   /* C */
	pv_sweep_report_free(r);
	assert_true(watermark(f->v) > e);
	t = stored_tree(f->v);
	for (int i = A_ORDER; i <= B_ORDER; i++) {
		int held = by_category || i == B_ORDER;

		assert_int_equal(read_rec(f->v, &p, i), held);
		assert_int_equal(raw_has(f->v, &p, i), held);
		if (held) {
			assert_int_equal(epoch_of(f->v, &p, i), 0);
			assert_int_equal(raw_open(f->v, &p, i, &t), 0);   /* opens with the data key alone */
		}
	}
	assert_int_equal(pv_epoch_tree_key(t.t, t.len, (uint32_t)e, key), PV_ENOTFOUND);
	pv_secret_free(t.t);
	assert_int_equal(pv_store_subject_get(pv_vault_store(f->v), p.sid[1], &subj), 0);
	assert_int_equal(subj.state, PV_SUBJECT_ACTIVE);

	/* still held: a later sweep keeps it */
	r = sweep(f->v, 0, T0 + 41 * DAY, PV_SWEEP_PURGE_ALL);
	assert_int_equal(r->deleted + r->destroyed, 0);
	assert_int_equal(r->kept, by_category ? 2 : 1);
	pv_sweep_report_free(r);
	assert_int_equal(read_rec(f->v, &p, B_ORDER), 1);

	assert_int_equal(pv_hold_release(f->v, &ADMIN, h), 0);
	r = sweep(f->v, 0, T0 + 42 * DAY, 0);
	assert_int_equal(r->destroyed, 0);
	assert_int_equal(r->deleted, by_category ? 2 : 1);
	assert_int_equal(r->kept, 0);
	assert_int_equal(r->batches, 1);
	assert_int_equal(r->subjects_erased, 1);   /* B */
	assert_string_equal(r->erased[0], p.sid[1]);
	pv_sweep_report_free(r);
	assert_int_equal(raw_has(f->v, &p, B_ORDER), 0);   /* the batch deletes the row itself */
	assert_int_equal(raw_has(f->v, &p, A_ORDER), 0);
	assert_int_equal(raw(f->v), 2);
	assert_int_equal(live(f->v), 2);
	verify_audit(f->v);
}

static void test_vault_hold_subject(void **state)
{
	hold_case(*state, 0);
}

static void test_vault_hold_category(void **state)
{
	hold_case(*state, 1);
}

/* Key rotation rewraps the frontier with the new KEK; records still read, and sweeps still work, after a reopen. */
static void test_vault_rotate(void **state)
{
	fixture *f = *state;
	uint32_t ver = 0;
	size_t rewrapped = 0;
	pv_sweep_report *r;
	people p;
	keys_row k;
	tree t;

	populate(f->v, &p);
	assert_int_equal(keys_get(f->v).kek_version, 1);
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &ver, &rewrapped), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(rewrapped, 4);
	k = keys_get(f->v);
	assert_int_equal(k.kek_version, 2);
	assert_int_equal(k.watermark, 0);
	{
		uint8_t *x = pv_secret_alloc(PV_EPOCH_TREE_MAX);
		size_t xl = 0;

		assert_int_equal(pv_epoch_tree_unwrap(pv_vault_keyring(f->v), 1, k.wrapped, k.len, x, &xl), PV_ECRYPTO);
		pv_secret_free(x);
	}
	for (int i = 0; i < NREC; i++)
		assert_int_equal(read_rec(f->v, &p, i), 1);

	/* a fresh handle reads the rewrapped frontier */
	pv_vault_close(f->v);
	f->v = NULL;
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	for (int i = 0; i < NREC; i++)
		assert_int_equal(read_rec(f->v, &p, i), 1);
	t = stored_tree(f->v);
	assert_int_equal(raw_open(f->v, &p, A_ORDER, &t), 0);
	pv_secret_free(t.t);

	r = sweep(f->v, 0, T0 + 40 * DAY, 0);
	assert_int_equal(r->destroyed, 3);
	pv_sweep_report_free(r);
	k = keys_get(f->v);
	assert_int_equal(k.kek_version, 2);
	assert_int_equal(k.watermark, (T0 + 40 * DAY) / PV_EPOCH_SECONDS);
	assert_int_equal(read_rec(f->v, &p, A_ORDER), 0);
	assert_int_equal(read_rec(f->v, &p, D_IDENT), 1);

	/* a second rotation after the sweep keeps the pruned frontier (the destroyed epochs stay destroyed) */
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &ver, &rewrapped), 0);
	assert_int_equal(ver, 3);
	k = keys_get(f->v);
	assert_int_equal(k.kek_version, 3);
	assert_int_equal(k.watermark, (T0 + 40 * DAY) / PV_EPOCH_SECONDS);
	t = stored_tree(f->v);
	assert_int_equal(raw_open(f->v, &p, A_ORDER, &t), PV_ENOTFOUND);
	assert_int_equal(raw_open(f->v, &p, D_IDENT, &t), 0);
	pv_secret_free(t.t);
	verify_audit(f->v);
}

/* A vault with no frontier yet gets one at its first rotation, wrapped with the new KEK. */
static void test_vault_rotate_fresh(void **state)
{
	fixture *f = *state;
	static const char q[] = "SELECT COUNT(*) FROM retention_keys";
	uint32_t ver = 0;
	int64_t n = -1;

	assert_int_equal(pv_store_query(pv_vault_store(f->v), "test", q, NULL, 0, count_cb, &n), 0);
	assert_true(n <= 1);   /* none so far: made at the first record with an expiry (or at rotation) */
	assert_int_equal(pv_vault_key_rotate(f->v, &ADMIN, &ver, NULL), 0);
	assert_int_equal(ver, 2);
	assert_int_equal(keys_get(f->v).kek_version, 2);
	assert_int_equal(watermark(f->v), 0);
}

/* A verified store copy of a vault holding destroyed but unpurged rows (and a re-sealed held one). */
static void test_vault_copy(void **state)
{
	fixture *f = *state;
	char from[160], to[160], key[160];
	pv_vault_options o = { 0 };
	pv_copy_report rep;
	pv_hold_spec hs = { 0 };
	char h[PV_ID_LEN + 1];
	pv_sweep_report *r;
	pv_vault *c = NULL;
	size_t rows = 0;
	people p;
	int rc;

	populate(f->v, &p);
	hs.subject_id = p.sid[0];
	hs.category = "commercial";
	hs.reason = "Matter 13";
	assert_int_equal(pv_hold_create(f->v, &ADMIN, &hs, h), 0);   /* A's order is re-sealed */
	r = sweep(f->v, 0, T0 + 40 * DAY, 0);
	assert_int_equal(r->destroyed, 2);
	assert_int_equal(r->kept, 1);
	pv_sweep_report_free(r);
	assert_int_equal(live(f->v), 3);
	assert_int_equal(raw(f->v), 5);

	snprintf(from, sizeof(from), "sqlite:%s/vault.db", f->dir);
	snprintf(to, sizeof(to), "sqlite:%s/copy.db", f->root);
	snprintf(key, sizeof(key), "%s/privault.key", f->dir);
	rc = pv_store_copy(from, to, key, &rep);
	if (rc != 0)
		print_error("store copy: %s\n", pv_error_last());
	assert_int_equal(rc, 0);
	assert_int_equal(rep.verified, 1);
	assert_int_equal(rep.records_decrypted, 3);
	assert_int_equal(rep.subjects_with_key, 2);   /* A and D; B and C were erased */
	for (size_t i = 0; i < rep.ntables; i++) {
		assert_true(rep.tables[i].source_rows == rep.tables[i].dest_rows);
		if (strcmp(rep.tables[i].name, "records") == 0)
			assert_int_equal(rep.tables[i].dest_rows, 5);
		if (strcmp(rep.tables[i].name, "retention_keys") == 0)
			assert_int_equal(rep.tables[i].dest_rows, 1);
	}

	/* the copy is the same vault: same watermark, the same records readable, the destroyed ones not */
	o.store = to;
	o.key_file = key;
	assert_int_equal(pv_vault_open(&c, f->dir, &o), 0);
	assert_int_equal(watermark(c), (T0 + 40 * DAY) / PV_EPOCH_SECONDS);
	assert_int_equal(read_rec(c, &p, A_ORDER), 1);
	assert_int_equal(read_rec(c, &p, D_IDENT), 1);
	assert_int_equal(read_rec(c, &p, A_CONTACT), 1);
	assert_int_equal(read_rec(c, &p, B_ORDER), 0);
	assert_int_equal(live(c), 3);
	assert_int_equal(raw(c), 5);
	assert_int_equal(pv_retention_purge(c, &ADMIN, 0, &rows), 0);
	assert_int_equal(rows, 2);
	assert_int_equal(raw(c), 3);
	verify_audit(c);
	pv_vault_close(c);
	assert_int_equal(raw(f->v), 5);   /* the source untouched */
}

/* A dry run at a future now reports what the ended epochs hold and writes nothing. */
static void test_vault_dry_run(void **state)
{
	fixture *f = *state;
	const pv_time later = T0 + 40 * DAY;
	pv_sweep_report *r;
	keys_row k0, k1;
	int64_t audit0, w0;
	people p;

	populate(f->v, &p);
	r = sweep(f->v, 0, T0 + DAY, 0);   /* a real sweep first: a watermark other than 0 */
	assert_int_equal(r->deleted + r->anonymized + r->destroyed, 0);
	pv_sweep_report_free(r);
	w0 = watermark(f->v);
	assert_int_equal(w0, (T0 + DAY) / PV_EPOCH_SECONDS);
	k0 = keys_get(f->v);
	audit0 = audit_len(f->v);

	r = sweep(f->v, 1, later, 0);
	assert_int_equal(r->dry_run, 1);
	assert_true(r->now == later);
	assert_int_equal(r->destroyed, 3);
	assert_int_equal(r->deleted, 2);
	assert_int_equal(r->anonymized, 1);
	assert_int_equal(r->kept, 0);
	assert_int_equal(r->subjects_erased, 2);
	assert_int_equal(r->batches, 0);
	assert_int_equal(r->purged, 0);
	assert_int_equal(r->ncounts, 2);
	pv_sweep_report_free(r);

	assert_true(pv_clock_now() == T0 + DAY);
	assert_int_equal(watermark(f->v), w0);
	k1 = keys_get(f->v);
	assert_int_equal(k1.watermark, k0.watermark);
	assert_int_equal(k1.len, k0.len);
	assert_memory_equal(k1.wrapped, k0.wrapped, k0.len);   /* not even rewrapped */
	assert_int_equal(audit_len(f->v), audit0);
	assert_int_equal(live(f->v), 5);
	assert_int_equal(raw(f->v), 5);
	for (int i = 0; i < NREC; i++)
		assert_int_equal(read_rec(f->v, &p, i), 1);

	/* the real sweep does what the dry run said */
	r = sweep(f->v, 0, later, 0);
	assert_int_equal(r->destroyed, 3);
	assert_int_equal(r->deleted, 2);
	assert_int_equal(r->anonymized, 1);
	assert_int_equal(r->subjects_erased, 2);
	pv_sweep_report_free(r);
	/* a dry run looking behind the watermark finds nothing to destroy */
	r = sweep(f->v, 1, T0 + 2 * DAY, 0);
	assert_int_equal(r->destroyed + r->deleted + r->anonymized, 0);
	pv_sweep_report_free(r);
	assert_int_equal(watermark(f->v), later / PV_EPOCH_SECONDS);
}

/* A batch that created the vault's frontier rolls back: the handle must not keep sealing under it. */
static void test_vault_batch_rollback_frontier(void **state)
{
	fixture *f = *state;
	static const char q[] = "SELECT COUNT(*) FROM retention_keys";
	char sid[PV_ID_LEN + 1], r1[PV_ID_LEN + 1], r2[PV_ID_LEN + 1];
	pv_record_list *l = NULL;
	pv_decision d;
	int64_t n = -1;

	subject(f->v, 1, sid);
	assert_int_equal(pv_vault_begin(f->v), 0);
	put(f->v, sid, "commercial", "order_fulfilment", "{\"n\":1}", r1);   /* creates the frontier row, in the batch */
	assert_int_equal(pv_vault_rollback(f->v), 0);
	assert_int_equal(pv_store_query(pv_vault_store(f->v), "test", q, NULL, 0, count_cb, &n), 0);
	assert_int_equal(n, 0);                                               /* rolled back with it */
	put(f->v, sid, "commercial", "order_fulfilment", "{\"n\":2}", r2);   /* committed */
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "order_fulfilment", "commercial", &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 1);   /* not sealed under a frontier no row holds */
	pv_record_list_free(l);
	put(f->v, sid, "commercial", "order_fulfilment", "{\"n\":3}", r1);   /* from another handle, or a minute later */
	pv_vault_close(f->v);
	f->v = NULL;
	assert_int_equal(pv_vault_open(&f->v, f->dir, NULL), 0);
	assert_int_equal(pv_record_read(f->v, &ADMIN, sid, "order_fulfilment", "commercial", &l, &d), 0);
	assert_int_equal(pv_record_list_count(l), 2);
	pv_record_list_free(l);
}

/* A dry run writes nothing: not even the frontier row of a vault that has none yet. */
static void test_vault_dry_run_fresh(void **state)
{
	fixture *f = *state;
	static const char q[] = "SELECT COUNT(*) FROM retention_keys";
	pv_sweep_report *r;
	int64_t n = -1;

	r = sweep(f->v, 1, T0 + DAY, 0);
	pv_sweep_report_free(r);
	assert_int_equal(pv_store_query(pv_vault_store(f->v), "test", q, NULL, 0, count_cb, &n), 0);
	assert_int_equal(n, 0);
}

#define VAULT_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
#define VAULT_TESTS                                                                                     \
	VAULT_TEST(test_vault_destroy_purge), VAULT_TEST(test_vault_sweep_purges),                     \
	VAULT_TEST(test_vault_epoch_boundary), VAULT_TEST(test_vault_short_retention),                 \
	VAULT_TEST(test_vault_hold_subject), VAULT_TEST(test_vault_hold_category),                     \
	VAULT_TEST(test_vault_rotate), VAULT_TEST(test_vault_rotate_fresh), VAULT_TEST(test_vault_copy), \
	VAULT_TEST(test_vault_dry_run), VAULT_TEST(test_vault_batch_rollback_frontier),                \
	VAULT_TEST(test_vault_dry_run_fresh)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_keys),
		cmocka_unit_test(test_tree_prune),
		cmocka_unit_test(test_tree_prune_random),
		cmocka_unit_test(test_tree_malformed),
		cmocka_unit_test(test_tree_wrap),
		cmocka_unit_test(test_record_key),
		cmocka_unit_test(test_tree_known_answer),
		VAULT_TESTS
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
