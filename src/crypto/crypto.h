/*
 * privault crypto (internal): the keyring, data keys, record encryption,
 * blind indexes and checkpoint signatures. libsodium underneath.
 *
 * Key file format (text, mode 0600, one key per line, '#' comments):
 *     kek 1 <64 hex>      master key versions (key-encryption keys); the highest is current
 *     kek 2 <64 hex>
 *     index <64 hex>      blind-index key (never rotated with the KEK: indexes must stay stable)
 *     sign <64 hex>       Ed25519 seed for audit checkpoints
 * The environment variable PRIVAULT_KEYS may hold the same text instead of a file
 * (lines separated by newlines or ';').
 *
 * All secret material lives in sodium_malloc() memory (guard pages, mlock,
 * wiped on free), is compared in constant time, and never appears in messages.
 */
#ifndef PV_CRYPTO_H
#define PV_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PV_KEY_LEN 32
#define PV_DEK_LEN 32
#define PV_NONCE_LEN 24     /* XChaCha20-Poly1305 */
#define PV_TAG_LEN 16
#define PV_WRAPPED_DEK_LEN (PV_NONCE_LEN + PV_DEK_LEN + PV_TAG_LEN)
#define PV_BLIND_INDEX_LEN 32
#define PV_SIG_LEN 64
#define PV_PUBKEY_LEN 32

typedef struct pv_keyring pv_keyring;

/* sodium_init() once; safe to call many times. 0 or PV_ERROR. */
int pv_crypto_init(void);

/* Write a fresh key file at `path` (kek 1, index, sign), created with O_EXCL and mode 0600. */
int pv_keyring_create_file(const char *path);

/*
 * Load keys: from the PRIVAULT_KEYS environment variable when set, otherwise
 * from `path`. A key file readable by group or others is refused (PV_EKEY).
 * Free with pv_keyring_free().
 */
int pv_keyring_load(pv_keyring **out, const char *path);
void pv_keyring_free(pv_keyring *k);   /* wipes; accepts NULL */

uint32_t pv_keyring_current_version(const pv_keyring *k);
int pv_keyring_has_version(const pv_keyring *k, uint32_t version);

/*
 * Add a new KEK version (current + 1) and rewrite the key file at `path`
 * atomically (temporary file with mode 0600, fsync, rename). When the keys came
 * from PRIVAULT_KEYS, PV_EKEY: rotate the variable yourself.
 */
int pv_keyring_add_version(pv_keyring *k, const char *path, uint32_t *out_version);

/* Data keys. `dek` buffers must be guarded memory (pv_secret_alloc). */
uint8_t *pv_secret_alloc(size_t len);   /* sodium_malloc; NULL on failure */
void pv_secret_free(uint8_t *p);        /* sodium_free (wipes); accepts NULL */
void pv_dek_generate(uint8_t dek[PV_DEK_LEN]);

/* Wrap a subject's data key with KEK `version`; AD binds the subject id and the version. */
int pv_dek_wrap(const pv_keyring *k, uint32_t version, const char *subject_id,
		const uint8_t dek[PV_DEK_LEN], uint8_t out[PV_WRAPPED_DEK_LEN]);
/* PV_ECRYPTO if the wrapped key does not open (tampered, other subject, wrong key). */
int pv_dek_unwrap(const pv_keyring *k, uint32_t version, const char *subject_id,
		  const uint8_t wrapped[PV_WRAPPED_DEK_LEN], uint8_t dek[PV_DEK_LEN]);

/*
 * Wrap any secret of `len` bytes with KEK `version` (XChaCha20-Poly1305, AD
 * "pv-secret" || label || version): out = nonce || ciphertext || tag, len +
 * PV_NONCE_LEN + PV_TAG_LEN bytes. Unwrap: `in` of that length, `out` of
 * len - PV_NONCE_LEN - PV_TAG_LEN bytes (guarded); PV_ECRYPTO when it does not open.
 */
int pv_secret_wrap(const pv_keyring *k, uint32_t version, const char *label, const uint8_t *in, size_t len,
		   uint8_t *out);
int pv_secret_unwrap(const pv_keyring *k, uint32_t version, const char *label, const uint8_t *in, size_t len,
		     uint8_t *out);

/*
 * Retention epochs (docs/retention.md, "Sweeping by key destruction"). An
 * epoch is a minute of expiry: epoch(t) = t / PV_EPOCH_SECONDS. Each epoch has
 * a key, a leaf of a 16-ary GGM tree of depth 8 over 32-bit epoch numbers
 * (child j of node key k at level l: keyed BLAKE2b(k, "pv-epoch" || l || j)).
 * A vault keeps only the *frontier* for its watermark W: the fewest subtree
 * nodes covering epochs [W, 2^32), at most PV_EPOCH_TREE_MAX_NODES of them;
 * from it any epoch >= W can be derived and no epoch < W can. Advancing W
 * (pv_epoch_tree_prune) destroys every key below it at once, whatever the
 * number of records sealed under them.
 *
 * Serialized frontier: node = level (1 byte) || prefix (4 bytes BE) || key (32),
 * sorted by the first epoch each covers. Keep it in guarded memory.
 */
#define PV_EPOCH_SECONDS 60
#define PV_EPOCH_NODE_LEN 37
#define PV_EPOCH_TREE_MAX_NODES 121
#define PV_EPOCH_TREE_MAX (PV_EPOCH_NODE_LEN * PV_EPOCH_TREE_MAX_NODES)

/* A fresh random tree with watermark 0 (the root alone): tree gets PV_EPOCH_NODE_LEN bytes. */
void pv_epoch_tree_new(uint8_t *tree, size_t *len);
/* Drop every epoch below `watermark` (>= the tree's own): in place, *len updated. 0 or PV_EINVAL (malformed). */
int pv_epoch_tree_prune(uint8_t *tree, size_t *len, uint32_t watermark);
/* The key of `epoch`; PV_ENOTFOUND when the tree no longer covers it (destroyed), PV_EINVAL if malformed. */
int pv_epoch_tree_key(const uint8_t *tree, size_t len, uint32_t epoch, uint8_t key[PV_KEY_LEN]);
/* Wrap the frontier with the current KEK: out gets PV_EPOCH_WRAPPED_MAX bytes at most (*out_len), *version the KEK's. */
#define PV_EPOCH_WRAPPED_MAX (PV_NONCE_LEN + PV_EPOCH_TREE_MAX + PV_TAG_LEN)
int pv_epoch_tree_wrap(const pv_keyring *k, const uint8_t *tree, size_t len, uint8_t *out, size_t *out_len,
		       uint32_t *version);
/* Unwrap a stored frontier (KEK `version`) into tree (guarded, PV_EPOCH_TREE_MAX); PV_ECRYPTO / PV_EINVAL. */
int pv_epoch_tree_unwrap(const pv_keyring *k, int64_t version, const uint8_t *wrapped, size_t wlen, uint8_t *tree,
			 size_t *len);
/* The key a record sealed under an epoch uses: keyed BLAKE2b(epoch_key, "pv-record-key" || dek). */
void pv_epoch_record_key(const uint8_t epoch_key[PV_KEY_LEN], const uint8_t dek[PV_DEK_LEN], uint8_t out[PV_DEK_LEN]);

/*
 * Record encryption: XChaCha20-Poly1305 with the subject's data key, a fresh
 * random nonce, and additional data binding subject id, record id and category
 * (length-prefixed), so a ciphertext moved to another row fails to open.
 * `ct` must hold len + PV_TAG_LEN bytes; `pt` of pv_record_open must hold
 * ct_len - PV_TAG_LEN bytes. Open returns PV_ECRYPTO on any mismatch.
 */
int pv_seal(const uint8_t dek[PV_DEK_LEN], const char *subject_id, const char *record_id, const char *category,
	    const uint8_t *pt, size_t len, uint8_t nonce[PV_NONCE_LEN], uint8_t *ct);
int pv_open(const uint8_t dek[PV_DEK_LEN], const char *subject_id, const char *record_id, const char *category,
	    const uint8_t nonce[PV_NONCE_LEN], const uint8_t *ct, size_t ct_len, uint8_t *pt);

/*
 * Normalize an identifier value for indexing: email -> trimmed, lower-cased,
 * must contain one '@' with text on both sides; phone -> E.164 ('+' and 8..15
 * digits; spaces, dots, dashes and parentheses dropped); other kinds -> trimmed.
 * PV_EINVAL naming the kind (never the value) when malformed; PV_ELIMIT if too long.
 */
int pv_identifier_normalize(const char *kind, const char *value, char *out, size_t size);

/* Keyed BLAKE2b-256 of kind || 0x00 || normalized value, with the index key. */
int pv_blind_index(const pv_keyring *k, const char *kind, const char *normalized, uint8_t out[PV_BLIND_INDEX_LEN]);

/* Ed25519 over msg with the sign key; public key for export; verify. */
int pv_sign(const pv_keyring *k, const uint8_t *msg, size_t len, uint8_t sig[PV_SIG_LEN]);
void pv_keyring_public_key(const pv_keyring *k, uint8_t pk[PV_PUBKEY_LEN]);
int pv_sign_verify(const uint8_t pk[PV_PUBKEY_LEN], const uint8_t *msg, size_t len, const uint8_t sig[PV_SIG_LEN]);  /* 0 or PV_ECRYPTO */

#endif
