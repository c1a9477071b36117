/*
 * Legal holds: create, release, get, list. A hold names a scope (a subject,
 * a category, a [from, to) range of collection times, or a combination) and
 * a reason; while active, the sweeper leaves every record it covers alone
 * (the filter is in the store's expired-records walk). Holds are never
 * deleted: a release records who released it and when.
 */
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"
#include "retention/internal.h"
#include "store/store.h"
#include "vault/vault_internal.h"

int pv_retention_caller_check(const pv_caller *caller, int auditor_ok, const char *what)
{
	size_t n, i;

	if (caller == NULL)
		return pv_error_set(PV_EINVAL, "caller: expected a caller");
	if (caller->name == NULL || caller->name[0] == '\0')
		return pv_error_set(PV_EINVAL, "caller.name: expected a non-empty service or key name");
	n = strnlen(caller->name, PV_AUDIT_ACTOR_MAX + 1);
	if (n > PV_AUDIT_ACTOR_MAX)
		return pv_error_set(PV_EINVAL, "caller.name: longer than %d bytes", PV_AUDIT_ACTOR_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)caller->name[i] < 0x20 || caller->name[i] == 0x7f)
			return pv_error_set(PV_EINVAL, "caller.name: control character at byte %zu", i);
	if (caller->role == PV_ROLE_ADMIN)
		return 0;
	if (caller->role == PV_ROLE_AUDITOR && auditor_ok)
		return 0;
	if (caller->role != PV_ROLE_SERVICE && caller->role != PV_ROLE_AUDITOR)
		return pv_error_set(PV_EINVAL, "caller.role: expected admin, service or auditor");
	return pv_error_set(PV_EDENIED, "%s: needs the admin role%s", what, auditor_ok ? " or auditor" : "");
}

/*
 * A reason is printable text (UTF-8 bytes >= 0x80 allowed), 1..PV_HOLD_REASON_MAX
 * bytes, without '@': holds are referred to by case or matter numbers, and an
 * e-mail address is the likeliest personal data to slip into one.
 */
static int reason_check(const char *reason)
{
	size_t n, i;

	if (reason == NULL || reason[0] == '\0')
		return pv_error_set(PV_EINVAL, "reason: required (a case or matter reference, not personal data)");
	n = strnlen(reason, PV_HOLD_REASON_MAX + 1);
	if (n > PV_HOLD_REASON_MAX)
		return pv_error_set(PV_EINVAL, "reason: longer than %d bytes", PV_HOLD_REASON_MAX);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)reason[i];

		if (c < 0x20 || c == 0x7f)
			return pv_error_set(PV_EINVAL, "reason: control character at byte %zu", i);
		if (c == '@')
			return pv_error_set(PV_EINVAL, "reason: '@' at byte %zu: a reason must not hold "
					    "an e-mail address or other personal data", i);
	}
	return 0;
}

/* Check the spec against the vault: scope set, subject exists and is not erased, category declared. */
static int spec_check(pv_vault *v, const pv_hold_spec *spec)
{
	pv_store_subject subj;
	int rc;

	if (spec == NULL)
		return pv_error_set(PV_EINVAL, "hold: expected a spec");
	if ((rc = reason_check(spec->reason)) < 0)
		return rc;
	if (spec->subject_id == NULL && spec->category == NULL && spec->from == 0 && spec->to == 0)
		return pv_error_set(PV_EINVAL, "scope: expected a subject, a category or a time range");
	if (spec->from < 0 || spec->to < 0 || (spec->from != 0 && spec->to != 0 && spec->from >= spec->to))
		return pv_error_set(PV_EINVAL, "from, to: expected from < to");
	if (spec->subject_id != NULL) {
		if (!pv_uuid_valid(spec->subject_id))
			return pv_error_set(PV_EINVAL, "subject_id: expected a canonical UUID");
		rc = pv_store_subject_get(pv_vault_store(v), spec->subject_id, &subj);
		if (rc == PV_ENOTFOUND)
			return pv_error_set(PV_ENOTFOUND, "subject_id: no subject %s", spec->subject_id);
		if (rc < 0)
			return rc;
		if (subj.state == PV_SUBJECT_ERASED)
			return pv_error_set(PV_EERASED, "subject_id: subject %s is erased", spec->subject_id);
	}
	if (spec->category != NULL) {
		if (!pv_id_valid(spec->category, PV_ID_MAX))
			return pv_error_set(PV_EINVAL, "category: expected an id");
		if (pv_policy_category_find(pv_vault_policy(v), spec->category) == NULL)
			return pv_error_set(PV_EINVAL, "category: %s is not declared by the current policy",
					    spec->category);
	}
	return 0;
}

/* Write out_id and audit "hold.create" in one transaction (joining a pv_vault_begin batch). */
int pv_hold_create(pv_vault *v, const pv_caller *caller, const pv_hold_spec *spec, char out_id[PV_ID_LEN + 1])
{
	pv_store_hold h;
	char outcome[64];
	int rc;

	if (v == NULL || out_id == NULL)
		return pv_error_set(PV_EINVAL, "hold create: expected a vault and an output id");
	if ((rc = pv_retention_caller_check(caller, 0, "hold create")) < 0)
		return rc;
	if ((rc = spec_check(v, spec)) < 0)
		return rc;

	memset(&h, 0, sizeof(h));
	pv_uuid_new(h.id);
	if (spec->subject_id != NULL)
		memcpy(h.subject_id, spec->subject_id, PV_ID_LEN + 1);
	if (spec->category != NULL)
		snprintf(h.category, sizeof(h.category), "%s", spec->category);
	h.from = spec->from;
	h.to = spec->to;
	snprintf(h.reason, sizeof(h.reason), "%s", spec->reason);
	snprintf(h.created_by, sizeof(h.created_by), "%s", caller->name);
	h.created_at = pv_clock_now();

	snprintf(outcome, sizeof(outcome), "ok:hold=%s", h.id);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	/* the hold's row first, then the audit: legal_holds before the audit lock, the order of a
	 * sweep batch (pv_store_hold_lock, then its audit entries), so the two cannot deadlock on
	 * PostgreSQL; hence not inside a batch that has already appended (the server runs hold
	 * creation and release alone) */
	rc = pv_store_hold_insert(pv_vault_store(v), &h);
	if (rc == 0)
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "hold.create",
				     h.subject_id[0] ? h.subject_id : NULL, NULL,
				     h.category[0] ? h.category : NULL, outcome);
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0)
		memcpy(out_id, h.id, PV_ID_LEN + 1);
	return rc;
}

int pv_hold_release(pv_vault *v, const pv_caller *caller, const char *hold_id)
{
	pv_store_hold h;
	char outcome[64];
	int rc;

	if (v == NULL)
		return pv_error_set(PV_EINVAL, "hold release: expected a vault");
	if ((rc = pv_retention_caller_check(caller, 0, "hold release")) < 0)
		return rc;
	if (hold_id == NULL || !pv_uuid_valid(hold_id))
		return pv_error_set(PV_EINVAL, "hold_id: expected a canonical UUID");
	if ((rc = pv_store_hold_get(pv_vault_store(v), hold_id, &h)) < 0)
		return rc;
	if (h.released_at != 0)
		return pv_error_set(PV_ENOTFOUND, "hold %s: already released", hold_id);

	snprintf(outcome, sizeof(outcome), "ok:hold=%s", hold_id);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	/* legal_holds, then the audit: the lock order of pv_hold_create */
	rc = pv_store_hold_release(pv_vault_store(v), hold_id, caller->name, pv_clock_now());
	if (rc == 0)
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "hold.release",
				     h.subject_id[0] ? h.subject_id : NULL, NULL,
				     h.category[0] ? h.category : NULL, outcome);
	return pv_vault_tx_end(v, rc);
}

/* Copy a store row into the public struct (same fields, fixed sizes). */
static void hold_copy(pv_hold *out, const pv_store_hold *h)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->id, h->id, sizeof(out->id));
	memcpy(out->subject_id, h->subject_id, sizeof(out->subject_id));
	memcpy(out->category, h->category, sizeof(out->category));
	out->from = h->from;
	out->to = h->to;
	memcpy(out->reason, h->reason, sizeof(out->reason));
	memcpy(out->created_by, h->created_by, sizeof(out->created_by));
	out->created_at = h->created_at;
	memcpy(out->released_by, h->released_by, sizeof(out->released_by));
	out->released_at = h->released_at;
}

int pv_hold_get(pv_vault *v, const pv_caller *caller, const char *hold_id, pv_hold *out)
{
	pv_store_hold h;
	int rc;

	if (v == NULL || out == NULL)
		return pv_error_set(PV_EINVAL, "hold get: expected a vault and an output");
	if ((rc = pv_retention_caller_check(caller, 1, "hold get")) < 0)
		return rc;
	if (hold_id == NULL || !pv_uuid_valid(hold_id))
		return pv_error_set(PV_EINVAL, "hold_id: expected a canonical UUID");
	if ((rc = pv_store_hold_get(pv_vault_store(v), hold_id, &h)) < 0)
		return rc;
	hold_copy(out, &h);
	return 0;
}

typedef struct {
	pv_hold *v;
	size_t n, cap;
} hold_vec;

static int collect(const pv_store_hold *h, void *payload)
{
	hold_vec *l = payload;

	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	hold_copy(&l->v[l->n++], h);
	return 0;
}

int pv_hold_list(pv_vault *v, const pv_caller *caller, int include_released, pv_hold **out, size_t *count)
{
	hold_vec l = { 0 };
	int rc;

	if (v == NULL || out == NULL || count == NULL)
		return pv_error_set(PV_EINVAL, "hold list: expected a vault and outputs");
	*out = NULL;
	*count = 0;
	if ((rc = pv_retention_caller_check(caller, 1, "hold list")) < 0)
		return rc;
	rc = pv_store_hold_each(pv_vault_store(v), !include_released, collect, &l);
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	*out = l.v;
	*count = l.n;
	return 0;
}
