/*
 * Vault counts for `privault status` (pv_vault_stats_get). Uses only the
 * store interface (src/store/store.h) and the vault's public accessors in
 * vault_internal.h; reads metadata only and writes nothing, so it is not
 * audited.
 */
#include <string.h>

#include "core/error.h"
#include "vault/vault_internal.h"

/* Count one key row; subjects holding a data key are the live subjects. */
static int count_key(const pv_store_key *k, void *payload)
{
	(void)k;
	(*(int64_t *)payload)++;
	return 0;
}

/*
 * Fill *out with the vault id, store backend, subject/record/audit counts and
 * the current key version. Subjects are counted through their data keys
 * (every key version differs from 0, so "other than version 0" visits all),
 * which leaves erased tombstones out. Returns 0 or the store's error.
 */
int pv_vault_stats_get(pv_vault *v, pv_vault_stats *out)
{
	pv_store *s;
	uint8_t head[PV_AUDIT_HASH_LEN];
	int rc;

	if (v == NULL || out == NULL)
		return pv_error_set(PV_EINVAL, "stats: expected a vault and an output");
	memset(out, 0, sizeof(*out));
	s = pv_vault_store(v);
	rc = pv_store_meta_get(s, "vault_id", out->vault_id, sizeof(out->vault_id));
	if (rc == PV_ENOTFOUND)
		out->vault_id[0] = '\0';
	else if (rc != 0)
		return rc;
	snprintf(out->backend, sizeof(out->backend), "%s", pv_store_backend(s));
	rc = pv_store_key_each_other_version(s, 0, 0, count_key, &out->subjects);
	if (rc != 0)
		return rc;
	rc = pv_store_record_count(s, &out->records);
	if (rc != 0)
		return rc;
	rc = pv_store_audit_head(s, &out->audit_entries, head);
	if (rc != 0)
		return rc;
	out->key_version = pv_keyring_current_version(pv_vault_keyring(v));
	return 0;
}
