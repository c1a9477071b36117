/*
 * Restriction of processing (issue 6, fulfilment): a subject in state
 * RESTRICTED is denied by the access decision and skipped by the retention
 * sweeper; lifting the restriction makes it ACTIVE again.
 * Also the vault directory accessor that src/rights uses for the suppression
 * journal (declared in src/rights/internal.h).
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#include "core/error.h"
#include "store/store.h"

/* The vault's directory (borrowed; valid until pv_vault_close). */
const char *pv_vault_dir_path(pv_vault *v);
const char *pv_vault_dir_path(pv_vault *v)
{
	return v->dir;
}

/*
 * Set subject_id's state to RESTRICTED (on) or ACTIVE (off) in one
 * transaction with its audit entry. PV_EERASED for an erased subject,
 * PV_ENOTFOUND for an unknown one; admin or service callers.
 */
int pv_subject_restrict(pv_vault *v, const pv_caller *caller, const char *subject_id, int on)
{
	pv_subject_info info;
	static const char guard[] = "UPDATE legal_holds SET id = id WHERE 1 = 0";
	int target = on ? PV_SUBJECT_RESTRICTED : PV_SUBJECT_ACTIVE;
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "restrict: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	pv_vault_put_cache_wipe(v);   /* a cached subject row would carry the old state */
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	/* the lock a hold creation takes (PostgreSQL: ROW EXCLUSIVE on legal_holds, taken by an
	 * UPDATE even of no row; SQLite: the write lock it already holds), so that a sweep batch,
	 * which freezes legal_holds in SHARE mode, sees a restriction wholly before or after it;
	 * the subject is read after it (a sweep it waited for may have erased the subject) */
	rc = pv_store_exec(v->store, "legal_holds lock", guard, NULL, 0, NULL);
	if (rc == 0)
		rc = pv_vault_subject_load(v, subject_id, &info);
	if (rc == 0 && info.state == PV_SUBJECT_ERASED)
		rc = pv_error_set(PV_EERASED, "subject %s: erased", subject_id);
	if (rc == 0 && (int)info.state != target)
		rc = pv_store_subject_set_state(v->store, subject_id, target, pv_clock_now());
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, on ? "subject.restrict" : "subject.unrestrict",
				     subject_id, NULL, NULL, (int)info.state == target ? "ok:unchanged" : "ok");
	return pv_vault_tx_end(v, rc);
}
