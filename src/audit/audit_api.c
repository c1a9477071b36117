/*
 * The public audit API (include/privault/audit.h) over a vault. The vault's
 * internals stay in src/vault/: only the accessors of vault_internal.h are used.
 */
#include "audit/audit.h"
#include "core/error.h"
#include "core/util.h"
#include "vault/vault_internal.h"

int pv_audit_verify(pv_vault *v, pv_audit_report *out)
{
	uint8_t pk[PV_PUBKEY_LEN];

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "audit verify: vault and report required");
	/* checkpoints must be signed by this vault's key, not by whatever key sits beside them */
	pv_keyring_public_key(pv_vault_keyring(v), pk);
	return pv_audit_verify_store(pv_vault_store(v), pk, out);
}

/*
 * Record the request as an administrative entry, then sign a checkpoint of
 * the head (that entry). The checkpoint is one store write: its own
 * transaction, or part of the caller's batch when one is open.
 */
int pv_audit_checkpoint(pv_vault *v, const pv_caller *caller, int64_t *out_seq)
{
	int rc;

	if (!v || !caller)
		return pv_error_set(PV_EINVAL, "audit checkpoint: vault and caller required");
	if (caller->role != PV_ROLE_ADMIN && caller->role != PV_ROLE_AUDITOR) {
		pv_vault_audit_action(v, caller, "audit.checkpoint", "deny:role_forbidden");
		return pv_error_set(PV_EDENIED, "audit checkpoint: only admin and auditor callers may sign checkpoints");
	}
	if ((rc = pv_vault_audit_action(v, caller, "audit.checkpoint", "ok")) != 0)
		return rc;
	return pv_audit_checkpoint_now(pv_vault_audit(v), out_seq);
}

int pv_audit_public_key(pv_vault *v, char out_hex[65])
{
	uint8_t pk[PV_PUBKEY_LEN];

	if (!v || !out_hex)
		return pv_error_set(PV_EINVAL, "audit public key: vault and buffer required");
	pv_keyring_public_key(pv_vault_keyring(v), pk);
	pv_hex_encode(out_hex, pk, PV_PUBKEY_LEN);
	return 0;
}

int pv_audit_list(pv_vault *v, int64_t from, int64_t limit,
		  int (*cb)(const pv_audit_entry *e, void *payload), void *payload)
{
	if (!v || !cb)
		return pv_error_set(PV_EINVAL, "audit list: vault and callback required");
	if (limit < 0)
		return pv_error_set(PV_EINVAL, "audit list: limit must be 0 (all) or positive");
	return pv_store_audit_each(pv_vault_store(v), from < 1 ? 1 : from, limit, cb, payload);
}
