/*
 * The access decision: may this caller use this subject's category for this
 * purpose under this policy version? Pure and allocation-free, so it can run
 * for every record of every read (and millions of times a second).
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#include "consent/ledger_internal.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const reason_names[PV_REASON_COUNT] = {
	[PV_REASON_ALLOWED] = "allowed",
	[PV_REASON_PURPOSE_UNDECLARED] = "purpose_undeclared",
	[PV_REASON_CATEGORY_UNDECLARED] = "category_undeclared",
	[PV_REASON_CATEGORY_NOT_IN_PURPOSE] = "category_not_in_purpose",
	[PV_REASON_ROLE_FORBIDDEN] = "role_forbidden",
	[PV_REASON_NO_GRANT] = "no_grant",
	[PV_REASON_SUBJECT_UNKNOWN] = "subject_unknown",
	[PV_REASON_SUBJECT_ERASED] = "subject_erased",
	[PV_REASON_SUBJECT_RESTRICTED] = "subject_restricted",
	[PV_REASON_OBJECTED] = "objected",
	[PV_REASON_SENSITIVE_LIMITED] = "sensitive_limited",
	[PV_REASON_CONSENT_MISSING] = "consent_missing",
	[PV_REASON_CONSENT_REFUSED] = "consent_refused",
	[PV_REASON_CONSENT_WITHDRAWN] = "consent_withdrawn",
	[PV_REASON_CONSENT_STALE] = "consent_stale",
	[PV_REASON_OPTED_OUT] = "opted_out",
	[PV_REASON_CHILD_UNDER_MINIMUM_AGE] = "child_under_minimum_age",
	[PV_REASON_PARENTAL_CONSENT_MISSING] = "parental_consent_missing",
};

const char *pv_reason_name(pv_reason r)
{
	if ((int)r < 0 || r >= PV_REASON_COUNT)
		return "unknown";
	return reason_names[r];
}

/*
 * Check a caller: a name of 1..PV_AUDIT_ACTOR_MAX bytes without control
 * characters (it goes into the audit), a known role, grants that are well
 * formed. 0 or PV_EINVAL naming the field.
 */
int pv_vault_caller_check(const pv_caller *caller)
{
	size_t n;

	if (!caller)
		return pv_error_set(PV_EINVAL, "caller: expected a caller");
	if (!caller->name || !caller->name[0])
		return pv_error_set(PV_EINVAL, "caller.name: expected a non-empty service or key name");
	n = strnlen(caller->name, PV_AUDIT_ACTOR_MAX + 1);
	if (n > PV_AUDIT_ACTOR_MAX)
		return pv_error_set(PV_EINVAL, "caller.name: longer than %d bytes", PV_AUDIT_ACTOR_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)caller->name[i] < 0x20 || caller->name[i] == 0x7f)
			return pv_error_set(PV_EINVAL, "caller.name: control character at byte %zu", i);
	if (caller->role != PV_ROLE_ADMIN && caller->role != PV_ROLE_SERVICE && caller->role != PV_ROLE_AUDITOR)
		return pv_error_set(PV_EINVAL, "caller.role: expected admin, service or auditor");
	if (caller->ngrants && !caller->grants)
		return pv_error_set(PV_EINVAL, "caller.grants: %zu grants announced, none given", caller->ngrants);
	for (size_t i = 0; i < caller->ngrants; i++) {
		const pv_grant *g = &caller->grants[i];
		if (!g->purpose)
			return pv_error_set(PV_EINVAL, "caller.grants[%zu].purpose: expected a purpose id", i);
		if (g->ncategories && !g->categories)
			return pv_error_set(PV_EINVAL, "caller.grants[%zu].categories: expected %zu ids", i, g->ncategories);
		for (size_t j = 0; j < g->ncategories; j++)
			if (!g->categories[j])
				return pv_error_set(PV_EINVAL, "caller.grants[%zu].categories[%zu]: expected an id", i, j);
	}
	return 0;
}

int pv_vault_caller_may_write(const pv_caller *caller)
{
	if (caller->role == PV_ROLE_ADMIN || caller->role == PV_ROLE_SERVICE)
		return 0;
	return pv_error_set(PV_EDENIED, "caller: role auditor may not write");
}

/* 1 when the role and grants allow purpose x category; no allocation, no copies. */
int pv_vault_caller_granted(const pv_caller *caller, const char *purpose, const char *category)
{
	if (caller->role == PV_ROLE_ADMIN)
		return 1;
	if (caller->role != PV_ROLE_SERVICE || !purpose)
		return 0;
	for (size_t i = 0; i < caller->ngrants; i++) {
		const pv_grant *g = &caller->grants[i];
		if (!g->purpose || strcmp(g->purpose, purpose) != 0)
			continue;
		if (!category || g->ncategories == 0)
			return 1;
		for (size_t j = 0; j < g->ncategories; j++)
			if (g->categories[j] && strcmp(g->categories[j], category) == 0)
				return 1;
	}
	return 0;
}

static inline void verdict(pv_decision *out, pv_reason r)
{
	out->allow = r == PV_REASON_ALLOWED;
	out->reason = r;
}

/* 1 when `basis` is one of the lawful bases that make a purpose necessary for the service. */
static int basis_necessary(const char *basis)
{
	return basis && (strcmp(basis, "contract") == 0 || strcmp(basis, "legal_obligation") == 0 ||
			 strcmp(basis, "vital_interests") == 0 || strcmp(basis, "business_purpose") == 0);
}

/* The UTC calendar year of the clock, recomputed once per day per thread. */
static int clock_year(void)
{
	static __thread int64_t day = -1;
	static __thread int year;
	pv_time now = pv_clock_now();

	if (now / 86400 != day) {
		time_t t = (time_t)now;
		struct tm tm;

		day = now / 86400;
		year = gmtime_r(&t, &tm) ? tm.tm_year + 1900 : 0;
	}
	return year;
}

int pv_vault_child_age(const pv_subject_info *s)
{
	int year;

	if (!s || s->birth_year <= 0 || (year = clock_year()) <= 0)
		return -1;
	return year - s->birth_year - 1 < 0 ? 0 : year - s->birth_year - 1;
}

/*
 * Children (docs/policy-format.md, children): the age is the youngest the
 * birth year allows (current year - birth year - 1: only the year is stored,
 * so a child is never taken for older than they can be). Without parental
 * consent, a subject under children.minimum_age may be processed only for
 * purposes whose basis is legal_obligation (erasing them, answering a parent's
 * request), and one under parental_consent_below is refused every purpose
 * that needs consent.
 */
int pv_vault_child_under_minimum(const pv_policy *policy, const pv_subject_info *s)
{
	const pv_policy_children *ch = pv_policy_children_get(policy);
	int age;

	return !s->parental_consent && ch->has_minimum_age && (age = pv_vault_child_age(s)) >= 0 &&
	       age < ch->minimum_age;
}

static pv_reason child_rule(const pv_policy *policy, const char *basis, int needs_consent,
			    const pv_subject_info *subject)
{
	int age;

	if (subject->parental_consent || (age = pv_vault_child_age(subject)) < 0)
		return PV_REASON_ALLOWED;
	if (pv_vault_child_under_minimum(policy, subject) && !(basis && strcmp(basis, "legal_obligation") == 0))
		return PV_REASON_CHILD_UNDER_MINIMUM_AGE;
	if (needs_consent && age < pv_policy_children_get(policy)->parental_consent_below)
		return PV_REASON_PARENTAL_CONSENT_MISSING;
	return PV_REASON_ALLOWED;
}

/*
 * The consent rules (docs/consent.md, "Decisions"), after the subject's state:
 * objection; limitation of sensitive PI (categories marked sensitive, unless
 * the purpose's basis in the regime is necessary for the service); consent in
 * force for consent-based purposes (basis "consent" in the regime, or no basis
 * stated there and mechanism opt_in), fresh under the current notice version
 * when the purpose asks for it; opt-outs (administrative purposes exempt).
 */
static pv_reason consent_rule(const pv_policy *policy, const pv_policy_purpose *pu, const pv_policy_category *c,
			      const pv_subject_info *subject)
{
	const pv_consent_view *view = subject->consent;
	const pv_consent_view_entry *e = pv_consent_view_find(view, pu->id);
	unsigned r = (unsigned)subject->regime < PV_REGIME_COUNT ? (unsigned)subject->regime : 0;
	const char *basis = pu->lawful_basis[r];
	int needs_consent = basis ? strcmp(basis, "consent") == 0 : pu->consent == PV_CONSENT_OPT_IN;
	pv_reason child = subject->birth_year > 0 ? child_rule(policy, basis, needs_consent, subject)
						  : PV_REASON_ALLOWED;

	if (child != PV_REASON_ALLOWED)
		return child;
	if (e && e->objected)
		return PV_REASON_OBJECTED;
	if (c && c->sensitive && view && (view->limited_all || (e && e->limited)) && !basis_necessary(basis))
		return PV_REASON_SENSITIVE_LIMITED;
	if (needs_consent) {
		const char *notice;
		if (!e || e->consent == PV_CONSENT_NONE)
			return PV_REASON_CONSENT_MISSING;
		if (e->consent == PV_CONSENT_IS_REFUSED)
			return PV_REASON_CONSENT_REFUSED;
		if (e->consent == PV_CONSENT_IS_WITHDRAWN)
			return PV_REASON_CONSENT_WITHDRAWN;
		notice = view->current_notice[0] ? view->current_notice : pv_policy_version_label(policy);
		if (pu->fresh_consent_on_change && notice && strcmp(e->notice_version, notice) != 0)
			return PV_REASON_CONSENT_STALE;
	}
	if (e && e->opted_out && !pu->administrative)
		return PV_REASON_OPTED_OUT;
	return PV_REASON_ALLOWED;
}

/*
 * The decision itself, in the documented order: purpose declared, category
 * declared, purpose covers category (both skipped when category is NULL),
 * role, grants, subject state. Fills *out.
 */
void pv_vault_decide_any(const pv_policy *policy, const pv_caller *caller, const pv_subject_info *subject,
			 const char *category, const char *purpose, pv_decision *out)
{
	const pv_policy_purpose *pu = purpose ? pv_policy_purpose_find(policy, purpose) : NULL;
	const pv_policy_category *c = NULL;

	if (!pu)
		return verdict(out, PV_REASON_PURPOSE_UNDECLARED);
	if (category) {
		c = pv_policy_category_find(policy, category);
		if (!c)
			return verdict(out, PV_REASON_CATEGORY_UNDECLARED);
		if (!pv_policy_purpose_has_category(pu, c))
			return verdict(out, PV_REASON_CATEGORY_NOT_IN_PURPOSE);
	}
	if (caller->role != PV_ROLE_ADMIN && caller->role != PV_ROLE_SERVICE)
		return verdict(out, PV_REASON_ROLE_FORBIDDEN);
	if (!pv_vault_caller_granted(caller, purpose, category))
		return verdict(out, PV_REASON_NO_GRANT);
	if (!subject)
		return verdict(out, PV_REASON_SUBJECT_UNKNOWN);
	if (subject->state == PV_SUBJECT_ERASED)
		return verdict(out, PV_REASON_SUBJECT_ERASED);
	if (subject->state == PV_SUBJECT_RESTRICTED)
		return verdict(out, PV_REASON_SUBJECT_RESTRICTED);
	verdict(out, consent_rule(policy, pu, c, subject));
}

/*
 * Public decision. NULL category or purpose are undeclared ones; only a
 * missing policy, caller or output is an error (PV_EINVAL).
 */
int pv_access_decide(const pv_policy *policy, const pv_caller *caller, const pv_subject_info *subject,
		     const char *category, const char *purpose, pv_decision *out)
{
	if (!policy || !caller || !out)
		return pv_error_set(PV_EINVAL, "decide: expected a policy, a caller and an output");
	if (!category) {
		verdict(out, purpose && pv_policy_purpose_find(policy, purpose) ? PV_REASON_CATEGORY_UNDECLARED
									   : PV_REASON_PURPOSE_UNDECLARED);
		return 0;
	}
	pv_vault_decide_any(policy, caller, subject, category, purpose, out);
	return 0;
}

/*
 * The consent view of the last subject loaded on this thread (handles are
 * not thread-safe, so one per thread is enough): pv_vault_subject_load
 * replaces it, and the pv_subject_info it fills borrows it until then.
 */
static __thread pv_consent_view *tls_view;
/* A thread-specific key only for its destructor: a thread that ends frees its last view. */
static pthread_key_t view_key;
static pthread_once_t view_once = PTHREAD_ONCE_INIT;

static void view_at_exit(void *p)
{
	pv_consent_view_free(p);
	tls_view = NULL;
}

static void view_key_make(void)
{
	(void)pthread_key_create(&view_key, view_at_exit);
}

/*
 * Load a subject's metadata from the store into the public struct, with its
 * consent view (subject->consent; borrowed until the next subject load on
 * this thread).
 */
int pv_vault_subject_load(pv_vault *v, const char *subject_id, pv_subject_info *out)
{
	pv_store_subject s;
	pv_consent_view *view = NULL;
	int rc;

	if (!pv_uuid_valid(subject_id))
		return pv_error_set(PV_EINVAL, "subject_id: expected a lower-case UUID");
	rc = pv_store_subject_get(v->store, subject_id, &s);
	if (rc < 0)
		return rc == PV_ENOTFOUND ? pv_error_set(rc, "subject %s: not found", subject_id) : rc;
	if ((rc = pv_consent_view_load(v, subject_id, &view)) < 0)
		return rc;
	pv_consent_view_free(tls_view);
	tls_view = view;
	pthread_once(&view_once, view_key_make);
	(void)pthread_setspecific(view_key, view);   /* freed at thread exit (view_at_exit) */
	memset(out, 0, sizeof(*out));
	memcpy(out->id, s.id, sizeof(out->id));
	out->created_at = s.created_at;
	out->regime = (pv_regime)s.regime;
	out->birth_year = s.birth_year;
	out->parental_consent = s.parental_consent;
	out->state = (pv_subject_state)s.state;
	out->consent = view;
	return 0;
}

/*
 * The decision against the vault: the subject from the store (unknown when
 * it does not exist), the current policy; audited as "decision" with outcome
 * "allow" or "deny:<reason>". Returns 0 with *out filled, or an error when
 * the store or audit fails (then *out must not be used).
 */
int pv_vault_decide(pv_vault *v, const pv_caller *caller, const char *subject_id,
		    const char *category, const char *purpose, pv_decision *out)
{
	pv_subject_info info;
	const pv_subject_info *subj = NULL;
	char outcome[64];
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "decide: expected a vault and an output");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (subject_id && pv_uuid_valid(subject_id)) {
		rc = pv_vault_subject_load(v, subject_id, &info);
		if (rc == 0)
			subj = &info;
		else if (rc != PV_ENOTFOUND)
			return rc;
	}
	rc = pv_access_decide(pv_vault_policy(v), caller, subj, category, purpose, out);
	if (rc < 0)
		return rc;
	if (out->allow)
		snprintf(outcome, sizeof(outcome), "allow");
	else
		snprintf(outcome, sizeof(outcome), "deny:%s", pv_reason_name(out->reason));
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_audit_append(v->audit, caller->name, "decision", subj ? subj->id : NULL,
			     pv_vault_audit_id(purpose), pv_vault_audit_id(category), outcome);
	return pv_vault_tx_end(v, rc);
}
