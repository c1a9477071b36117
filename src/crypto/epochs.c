/*
 * Retention epoch keys: a 16-ary GGM tree over 32-bit epoch numbers, of which
 * a vault keeps only the frontier right of its watermark (crypto.h). Pruning
 * the frontier is how the retention sweep destroys the key of every record
 * whose expiry minute has passed, in one small write.
 */
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "crypto/crypto.h"

#define DEPTH 8
#define ARITY 16

typedef struct {
	unsigned level;
	uint32_t prefix;
	uint64_t lo, hi;   /* epochs [lo, hi) */
} node_span;

static node_span span_of(const uint8_t *n)
{
	node_span s;
	uint64_t width;

	s.level = n[0];
	s.prefix = (uint32_t)n[1] << 24 | (uint32_t)n[2] << 16 | (uint32_t)n[3] << 8 | n[4];
	width = (uint64_t)1 << (4 * (DEPTH - (s.level <= DEPTH ? s.level : DEPTH)));
	s.lo = (uint64_t)s.prefix * width;
	s.hi = s.lo + width;
	return s;
}

static void node_set(uint8_t *n, unsigned level, uint32_t prefix)
{
	n[0] = (uint8_t)level;
	n[1] = (uint8_t)(prefix >> 24);
	n[2] = (uint8_t)(prefix >> 16);
	n[3] = (uint8_t)(prefix >> 8);
	n[4] = (uint8_t)prefix;
}

/* out = keyed BLAKE2b(k, "pv-epoch" || level || j); out may be k. */
static void child_key(const uint8_t k[PV_KEY_LEN], unsigned level, unsigned j, uint8_t out[PV_KEY_LEN])
{
	crypto_generichash_state st;
	uint8_t tail[2] = { (uint8_t)level, (uint8_t)j };

	crypto_generichash_init(&st, k, PV_KEY_LEN, PV_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)"pv-epoch", 8);
	crypto_generichash_update(&st, tail, sizeof(tail));
	crypto_generichash_final(&st, out, PV_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

/* A frontier is well formed: whole nodes, levels <= DEPTH, spans in order and disjoint. */
static int tree_check(const uint8_t *tree, size_t len)
{
	uint64_t prev_hi = 0;

	if (len == 0 || len % PV_EPOCH_NODE_LEN != 0 || len > PV_EPOCH_TREE_MAX)
		return pv_error_set(PV_EINVAL, "epoch tree: expected 1..%d nodes", PV_EPOCH_TREE_MAX_NODES);
	for (size_t off = 0; off < len; off += PV_EPOCH_NODE_LEN) {
		node_span s = span_of(tree + off);

		if (s.level > DEPTH || s.hi > ((uint64_t)1 << 32) || s.lo < prev_hi)
			return pv_error_set(PV_EINVAL, "epoch tree: malformed node");
		prev_hi = s.hi;
	}
	return 0;
}

void pv_epoch_tree_new(uint8_t *tree, size_t *len)
{
	node_set(tree, 0, 0);
	randombytes_buf(tree + 5, PV_KEY_LEN);
	*len = PV_EPOCH_NODE_LEN;
}

/*
 * Drop the nodes wholly below the watermark; split the one that straddles it
 * into its children (the ones below dropped in turn) until every node left
 * starts at or after it. The split children are derived in a stack buffer
 * that is wiped before returning.
 */
int pv_epoch_tree_prune(uint8_t *tree, size_t *len, uint32_t watermark)
{
	uint8_t kids[ARITY * PV_EPOCH_NODE_LEN];
	int rc;

	if ((rc = tree_check(tree, *len)) < 0)
		return rc;
	for (;;) {
		node_span s = span_of(tree);
		size_t m = 0, rest;

		if (s.hi <= watermark) {   /* never the last node: that one reaches 2^32 */
			if (*len == PV_EPOCH_NODE_LEN)
				return pv_error_set(PV_EINVAL, "epoch tree: does not reach the last epoch");
			memmove(tree, tree + PV_EPOCH_NODE_LEN, *len - PV_EPOCH_NODE_LEN);
			*len -= PV_EPOCH_NODE_LEN;
			continue;
		}
		if (s.lo >= watermark)
			break;
		/* s.lo < watermark < s.hi: a leaf spans one epoch, so this is an inner node */
		for (unsigned j = 0; j < ARITY; j++) {
			uint8_t *kid = kids + m * PV_EPOCH_NODE_LEN;

			node_set(kid, s.level + 1, s.prefix * ARITY + j);
			if (span_of(kid).hi <= watermark)
				continue;
			child_key(tree + 5, s.level + 1, j, kid + 5);
			m++;
		}
		rest = *len - PV_EPOCH_NODE_LEN;
		if (PV_EPOCH_NODE_LEN * m + rest > PV_EPOCH_TREE_MAX) {
			sodium_memzero(kids, sizeof(kids));
			return pv_error_set(PV_EINVAL, "epoch tree: frontier too large");
		}
		memmove(tree + m * PV_EPOCH_NODE_LEN, tree + PV_EPOCH_NODE_LEN, rest);
		memcpy(tree, kids, m * PV_EPOCH_NODE_LEN);
		*len = m * PV_EPOCH_NODE_LEN + rest;
	}
	sodium_memzero(kids, sizeof(kids));
	return 0;
}

int pv_epoch_tree_key(const uint8_t *tree, size_t len, uint32_t epoch, uint8_t key[PV_KEY_LEN])
{
	int rc;

	if ((rc = tree_check(tree, len)) < 0)
		return rc;
	for (size_t off = 0; off < len; off += PV_EPOCH_NODE_LEN) {
		node_span s = span_of(tree + off);

		if (epoch < s.lo || epoch >= s.hi)
			continue;
		memcpy(key, tree + off + 5, PV_KEY_LEN);
		for (unsigned l = s.level + 1; l <= DEPTH; l++)
			child_key(key, l, (epoch >> (4 * (DEPTH - l))) & (ARITY - 1), key);
		return 0;
	}
	return pv_error_set(PV_ENOTFOUND, "epoch %u: its key is destroyed", epoch);
}

void pv_epoch_record_key(const uint8_t epoch_key[PV_KEY_LEN], const uint8_t dek[PV_DEK_LEN], uint8_t out[PV_DEK_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, epoch_key, PV_KEY_LEN, PV_DEK_LEN);
	crypto_generichash_update(&st, (const uint8_t *)"pv-record-key", 13);
	crypto_generichash_update(&st, dek, PV_DEK_LEN);
	crypto_generichash_final(&st, out, PV_DEK_LEN);
	sodium_memzero(&st, sizeof(st));
}

#define TREE_LABEL "retention_keys"

int pv_epoch_tree_wrap(const pv_keyring *k, const uint8_t *tree, size_t len, uint8_t *out, size_t *out_len,
		       uint32_t *version)
{
	int rc;

	if ((rc = tree_check(tree, len)) < 0)
		return rc;
	*version = pv_keyring_current_version(k);
	if ((rc = pv_secret_wrap(k, *version, TREE_LABEL, tree, len, out)) < 0)
		return rc;
	*out_len = len + PV_NONCE_LEN + PV_TAG_LEN;
	return 0;
}

int pv_epoch_tree_unwrap(const pv_keyring *k, int64_t version, const uint8_t *wrapped, size_t wlen, uint8_t *tree,
			 size_t *len)
{
	int rc;

	if (version <= 0 || version > UINT32_MAX || wlen < PV_NONCE_LEN + PV_TAG_LEN + PV_EPOCH_NODE_LEN ||
	    wlen > PV_EPOCH_WRAPPED_MAX)
		return pv_error_set(PV_EINVAL, "retention_keys: malformed frontier");
	if ((rc = pv_secret_unwrap(k, (uint32_t)version, TREE_LABEL, wrapped, wlen, tree)) < 0)
		return rc;
	*len = wlen - PV_NONCE_LEN - PV_TAG_LEN;
	if ((rc = tree_check(tree, *len)) < 0) {
		sodium_memzero(tree, *len);
		*len = 0;
	}
	return rc;
}
