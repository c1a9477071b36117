/*
 * Retention epoch keys in the vault (docs/retention.md, "Sweeping by key
 * destruction"). A record with an expiry is sealed under the key of its
 * expiry minute (its epoch) combined with its subject's data key; the sweep
 * destroys every epoch that has ended by moving the watermark of the epoch
 * key tree (crypto.h) past it, in one small write, and the rows are purged
 * afterwards. The tree's frontier is one row of retention_keys, wrapped with
 * the KEK; this handle keeps a copy in guarded memory, re-read at least every
 * EPOCH_REREAD seconds (a sweep in another process prunes the stored one) and
 * after this handle's own sweep, and a few derived epoch keys.
 */
#define PV_VAULT_PRIVATE
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define EPOCH_REREAD 60
#define EPOCH_NEAR (86400 / PV_EPOCH_SECONDS)

struct pv_vault_epochs {
	uint8_t *tree;         /* guarded PV_EPOCH_TREE_MAX: the frontier as last read */
	size_t len;            /* 0 until read */
	int64_t watermark;
	pv_time read_at;
	uint8_t *keys;         /* guarded EPOCH_CACHE x PV_KEY_LEN: derived epoch keys */
	int64_t ids[EPOCH_CACHE];   /* their epochs; 0 = empty slot */
	unsigned next;
	uint8_t *rkey;         /* guarded PV_DEK_LEN: the record key in use */
};

int pv_vault_epochs_new(pv_vault_epochs **out)
{
	pv_vault_epochs *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (e == NULL)
		return pv_error_set(PV_ENOMEM, "vault: out of memory");
	e->tree = pv_secret_alloc(PV_EPOCH_TREE_MAX);
	e->keys = pv_secret_alloc(EPOCH_CACHE * PV_KEY_LEN);
	e->rkey = pv_secret_alloc(PV_DEK_LEN);
	if (e->tree == NULL || e->keys == NULL || e->rkey == NULL) {
		pv_vault_epochs_free(e);
		return pv_error_set(PV_ENOMEM, "vault: cannot allocate guarded memory");
	}
	*out = e;
	return 0;
}

void pv_vault_epochs_free(pv_vault_epochs *e)
{
	if (e == NULL)
		return;
	pv_secret_free(e->tree);
	pv_secret_free(e->keys);
	pv_secret_free(e->rkey);
	free(e);
}

/* Forget cached epoch keys below the watermark (all of them when `all`). */
static void cache_drop(pv_vault_epochs *e, int all)
{
	for (unsigned i = 0; i < EPOCH_CACHE; i++)
		if (e->ids[i] != 0 && (all || e->ids[i] < e->watermark)) {
			sodium_memzero(e->keys + i * PV_KEY_LEN, PV_KEY_LEN);
			e->ids[i] = 0;
		}
}

typedef struct {
	pv_vault *v;
	int found;
	int rc;
} read_ctx;

static int row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	read_ctx *c = payload;
	pv_vault_epochs *e = c->v->epochs;
	int64_t watermark = -1, version = 0;
	const pv_store_value *wrapped = NULL;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(cols[i], "watermark") == 0)
			watermark = pv_sv_get_int(&vals[i]);
		else if (strcmp(cols[i], "kek_version") == 0)
			version = pv_sv_get_int(&vals[i]);
		else if (strcmp(cols[i], "wrapped") == 0 && vals[i].type == PV_STORE_BLOB)
			wrapped = &vals[i];
	}
	c->found = 1;
	if (wrapped == NULL || watermark < 0 || watermark > UINT32_MAX)
		return c->rc = pv_error_set(PV_ESTORE, "retention_keys: malformed row");
	if ((c->rc = pv_epoch_tree_unwrap(c->v->keys, version, wrapped->p, wrapped->len, e->tree, &e->len)) < 0)
		return c->rc;
	e->watermark = watermark;
	return 0;
}

/*
 * Read the stored frontier into the handle; when the vault has none yet
 * (made before epochs, or never needed one), create a random tree and store
 * it (ON CONFLICT DO NOTHING: another process may create it at the same time,
 * and then its tree is the one read back).
 */
int pv_vault_epochs_read(pv_vault *v, int create)
{
	static const char sel[] = "SELECT watermark, kek_version, wrapped FROM retention_keys WHERE id = 1";
	static const char ins[] = "INSERT INTO retention_keys (id, watermark, kek_version, wrapped) VALUES (1, 0, ?, ?)"
				  " ON CONFLICT (id) DO NOTHING";
	pv_vault_epochs *e = v->epochs;
	uint8_t wrapped[PV_EPOCH_WRAPPED_MAX];
	read_ctx c = { v, 0, 0 };
	uint32_t version;
	size_t wlen;
	int rc;

	rc = pv_store_query(v->store, "retention_keys read", sel, NULL, 0, row_cb, &c);
	if (rc == 0 && !c.found && !create) {
		pv_vault_epochs_forget(v);
		return 0;
	}
	if (rc == 0 && !c.found) {
		pv_epoch_tree_new(e->tree, &e->len);
		if ((rc = pv_epoch_tree_wrap(v->keys, e->tree, e->len, wrapped, &wlen, &version)) == 0) {
			pv_store_value p[] = { pv_sv_int(version), pv_sv_blob(wrapped, wlen) };

			rc = pv_store_exec(v->store, "retention_keys insert", ins, p, 2, NULL);
		}
		sodium_memzero(e->tree, PV_EPOCH_TREE_MAX);
		e->len = 0;
		if (rc == 0)
			rc = pv_store_query(v->store, "retention_keys read", sel, NULL, 0, row_cb, &c);
		if (rc == 0 && !c.found)
			rc = pv_error_set(PV_ESTORE, "retention_keys: no row after creating it");
	}
	if (rc < 0) {
		sodium_memzero(e->tree, PV_EPOCH_TREE_MAX);
		e->len = 0;
		return rc;
	}
	e->read_at = pv_clock_now();
	cache_drop(e, 0);
	return 0;
}

int64_t pv_vault_epoch_for(pv_time expires_at, pv_time now)
{
	int64_t epoch;

	if (expires_at == INT64_MAX || expires_at < 0)
		return 0;
	epoch = expires_at / PV_EPOCH_SECONDS;
	/* an epoch that starts within two epochs of now could be destroyed by a sweep whose clock
	 * runs a little ahead before this record commits: such records keep the data key alone */
	if (epoch > UINT32_MAX || epoch * PV_EPOCH_SECONDS <= now + 2 * PV_EPOCH_SECONDS)
		return 0;
	return epoch;
}

int64_t pv_vault_epochs_watermark(pv_vault *v)
{
	return v->epochs->len > 0 ? v->epochs->watermark : -1;
}

/* The key of `epoch` from the cache, or derived (and cached). */
static int epoch_key(pv_vault *v, int64_t epoch, const uint8_t **out)
{
	pv_vault_epochs *e = v->epochs;
	unsigned slot;
	int rc;

	/* re-read when stale, and for an epoch within a day of the watermark: another process's sweep
	 * may have destroyed it since (a clock behind that sweep's, a record stored near its expiry) */
	if (e->len == 0 || pv_clock_now() - e->read_at >= EPOCH_REREAD || pv_clock_now() < e->read_at ||
	    epoch < e->watermark + EPOCH_NEAR) {
		if ((rc = pv_vault_epochs_read(v, 1)) < 0)
			return rc;
	}
	for (unsigned i = 0; i < EPOCH_CACHE; i++)
		if (e->ids[i] == epoch) {
			*out = e->keys + i * PV_KEY_LEN;
			return 0;
		}
	if (epoch < e->watermark)
		return pv_error_set(PV_ENOTFOUND, "epoch %lld: its key is destroyed", (long long)epoch);
	slot = e->next++ % EPOCH_CACHE;
	e->ids[slot] = 0;
	if ((rc = pv_epoch_tree_key(e->tree, e->len, (uint32_t)epoch, e->keys + slot * PV_KEY_LEN)) < 0)
		return rc;
	e->ids[slot] = epoch;
	*out = e->keys + slot * PV_KEY_LEN;
	return 0;
}

int pv_vault_record_key(pv_vault *v, int64_t key_epoch, const uint8_t *dek, const uint8_t **out)
{
	const uint8_t *ek = NULL;
	int rc;

	if (key_epoch == 0) {
		*out = dek;
		return 0;
	}
	if (key_epoch < 0 || key_epoch > UINT32_MAX)
		return pv_error_set(PV_ECRYPTO, "record: impossible key epoch");
	if ((rc = epoch_key(v, key_epoch, &ek)) < 0)
		return rc;
	pv_epoch_record_key(ek, dek, v->epochs->rkey);
	*out = v->epochs->rkey;
	return 0;
}

void pv_vault_record_key_wipe(pv_vault *v)
{
	sodium_memzero(v->epochs->rkey, PV_DEK_LEN);
}

/* Store the handle's frontier and watermark (inside the caller's transaction). */
static int write_tree(pv_vault *v)
{
	static const char upd[] = "UPDATE retention_keys SET watermark = ?, kek_version = ?, wrapped = ? WHERE id = 1";
	uint8_t wrapped[PV_EPOCH_WRAPPED_MAX];
	uint32_t version;
	int64_t changes = 0;
	size_t wlen;
	int rc;

	if ((rc = pv_epoch_tree_wrap(v->keys, v->epochs->tree, v->epochs->len, wrapped, &wlen, &version)) < 0)
		return rc;
	pv_store_value p[] = { pv_sv_int(v->epochs->watermark), pv_sv_int(version), pv_sv_blob(wrapped, wlen) };
	rc = pv_store_exec(v->store, "retention_keys update", upd, p, 3, &changes);
	if (rc == 0 && changes != 1)
		rc = pv_error_set(PV_ESTORE, "retention_keys: no row to update");
	return rc;
}

/*
 * Destroy every epoch below `watermark` (inside the caller's transaction):
 * re-read the stored frontier, prune it, store it. On failure the handle
 * re-reads at its next use (the transaction rolls back).
 */
int pv_vault_epochs_advance(pv_vault *v, int64_t watermark)
{
	pv_vault_epochs *e = v->epochs;
	int rc;

	if (watermark < 0 || watermark > UINT32_MAX)
		return pv_error_set(PV_EINVAL, "watermark: out of range");
	if ((rc = pv_vault_epochs_read(v, 0)) < 0)
		return rc;
	if (e->len == 0 || watermark <= e->watermark)
		return 0;   /* no frontier: nothing was ever sealed under an epoch */
	rc = pv_epoch_tree_prune(e->tree, &e->len, (uint32_t)watermark);
	if (rc == 0) {
		e->watermark = watermark;
		rc = write_tree(v);
	}
	if (rc < 0)
		e->len = 0;
	cache_drop(e, rc < 0);
	return rc;
}

/* Rewrap the stored frontier with the current KEK (key rotation; a vault without one gets one). */
int pv_vault_epochs_rewrap(pv_vault *v)
{
	int rc;

	if ((rc = pv_vault_epochs_read(v, 1)) < 0)
		return rc;
	return write_tree(v);
}

void pv_vault_epochs_forget(pv_vault *v)
{
	pv_vault_epochs *e = v->epochs;

	if (e == NULL)
		return;
	sodium_memzero(e->tree, PV_EPOCH_TREE_MAX);
	e->len = 0;
	e->watermark = 0;
	cache_drop(e, 1);
}
