/*
 * Master key rotation: a new KEK version, then every subject's data key is
 * rewrapped with it. Records are never touched: they stay sealed with the
 * same data keys.
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#include "core/error.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROTATE_CHUNK 1000   /* data keys rewrapped per transaction */

typedef struct {
	pv_store_key *v;
	size_t n;
} key_chunk;

static int collect_cb(const pv_store_key *k, void *payload)
{
	key_chunk *c = payload;

	if (c->n >= ROTATE_CHUNK)
		return 1;
	c->v[c->n++] = *k;
	return 0;
}

/*
 * Rewrap one chunk (at most ROTATE_CHUNK keys of another version than
 * `version`) in one transaction. Each row's own kek_version says which KEK
 * opens it, so a rotation interrupted between chunks leaves a consistent
 * store, and running it again finishes the job. *done gets the number rewrapped.
 */
static int rewrap_chunk(pv_vault *v, uint32_t version, key_chunk *c, size_t *done)
{
	int rc;

	*done = 0;
	c->n = 0;
	rc = pv_store_key_each_other_version(v->store, version, ROTATE_CHUNK, collect_cb, c);
	if (rc < 0)
		return rc;
	if (c->n == 0)
		return 0;
	if ((rc = pv_store_begin(v->store)) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < c->n; i++) {
		pv_store_key *k = &c->v[i];
		rc = pv_dek_unwrap(v->keys, k->kek_version, k->subject_id, k->wrapped, v->dek);
		if (rc < 0) {
			rc = pv_error_wrap(rc, "subject %s: data key (KEK version %u)", k->subject_id, k->kek_version);
			break;
		}
		k->kek_version = version;
		rc = pv_dek_wrap(v->keys, version, k->subject_id, v->dek, k->wrapped);
		if (rc == 0)
			rc = pv_store_key_update(v->store, k);
	}
	pv_vault_dek_wipe(v);
	sodium_memzero(c->v, c->n * sizeof(*c->v));
	if (rc == 0)
		rc = pv_store_commit(v->store);
	if (rc < 0) {
		char msg[PV_ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s", pv_error_last());
		pv_store_rollback(v->store);
		pv_audit_forget(v->audit);
		return pv_error_set(rc, "%s", msg);
	}
	*done = c->n;
	return 0;
}

/*
 * Rotate the master key (admin only, not inside a batch): add a KEK version
 * to the key file, rewrap every data key of another version in transactions
 * of ROTATE_CHUNK, rewrap the retention epoch frontier, and audit
 * "key.rotate" with "ok:rewrapped=<n>,version=<v>".
 * PV_EKEY when the keys come from PRIVAULT_KEYS (rotate the variable instead).
 */
int pv_vault_key_rotate(pv_vault *v, const pv_caller *caller, uint32_t *out_version, size_t *out_rewrapped)
{
	key_chunk c = { 0 };
	uint32_t version;
	size_t total = 0, done;
	char outcome[64];
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "rotate: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "caller: only an admin may rotate keys");
	if (v->batch)
		return pv_error_set(PV_EINVAL, "rotate: not allowed inside a batch");
	pv_vault_put_cache_wipe(v);
	if ((rc = pv_keyring_add_version(v->keys, v->key_path, &version)) < 0)
		return rc;
	c.v = calloc(ROTATE_CHUNK, sizeof(*c.v));
	if (!c.v)
		return pv_error_set(PV_ENOMEM, "rotate: out of memory");
	do {
		rc = rewrap_chunk(v, version, &c, &done);
		total += done;
	} while (rc == 0 && done > 0);
	free(c.v);
	if (rc < 0)
		return rc;
	snprintf(outcome, sizeof(outcome), "ok:rewrapped=%zu,version=%u", total, version);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_vault_epochs_rewrap(v);   /* the retention epoch keys' frontier, with the data keys */
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, "key.rotate", NULL, NULL, NULL, outcome);
	if ((rc = pv_vault_tx_end(v, rc)) < 0)
		return rc;
	if (out_version)
		*out_version = version;
	if (out_rewrapped)
		*out_rewrapped = total;
	return 0;
}
