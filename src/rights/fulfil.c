/*
 * pv_fulfil_run: the one entry point through which the requests module
 * carries out a verified request (fulfil.h), and the consent-ledger effects
 * of objection, opt-out, limitation and withdrawal.
 */
#include "rights/internal.h"

#include "core/error.h"
#include "privault/consent.h"

#include <stdlib.h>
#include <string.h>

int pv_fulfil_erase_request(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *request_id,
			    pv_erasure_report *out);

/* 1 when purpose pu is one a request of `type` without a purpose applies to. */
static int purpose_applies(const pv_policy_purpose *pu, pv_policy_request type, pv_regime regime)
{
	const char *basis = pu->lawful_basis[regime];

	switch (type) {
	case PV_POLICY_REQ_OBJECTION:
		return pu->marketing || (basis && (strcmp(basis, "legitimate_interests") == 0 ||
						   strcmp(basis, "public_task") == 0));
	case PV_POLICY_REQ_OPT_OUT:
		return pu->sale || pu->sharing;
	case PV_POLICY_REQ_WITHDRAW_CONSENT:
		return pu->consent == PV_CONSENT_OPT_IN;
	default:
		return 0;
	}
}

/* Record the consent-ledger events of a consent-type request in one receipt. */
static int consent_effect(pv_vault *v, const pv_caller *caller, const pv_fulfil_order *o)
{
	const pv_policy *p = pv_vault_policy(v);
	pv_consent_context ctx = { .source = PV_CONSENT_SRC_REQUEST };
	pv_consent_action action;
	pv_consent_item *items = NULL;
	pv_subject_info info;
	size_t n = 0;
	int rc;

	switch (o->type) {
	case PV_POLICY_REQ_OBJECTION: action = PV_CONSENT_OBJECTED; break;
	case PV_POLICY_REQ_OPT_OUT: action = PV_CONSENT_OPTED_OUT; break;
	case PV_POLICY_REQ_LIMIT_SENSITIVE: action = PV_CONSENT_LIMITED; break;
	default: action = PV_CONSENT_WITHDRAWN; break;
	}
	if ((rc = pv_vault_subject_load(v, o->subject_id, &info)) < 0)
		return rc;
	items = calloc(pv_policy_purpose_count(p) + 1, sizeof(*items));
	if (!items)
		return pv_error_set(PV_ENOMEM, "fulfil: out of memory");
	if (o->type == PV_POLICY_REQ_LIMIT_SENSITIVE) {
		items[n++] = (pv_consent_item){ "*", 0, action };
	} else if (o->purpose && o->type != PV_POLICY_REQ_OPT_OUT) {
		if (!pv_policy_purpose_find(p, o->purpose)) {
			free(items);
			return pv_error_set(PV_EINVAL, "purpose: expected a purpose id of the current policy");
		}
		items[n++] = (pv_consent_item){ o->purpose, 0, action };
	} else {
		for (size_t i = 0; i < pv_policy_purpose_count(p); i++) {
			const pv_policy_purpose *pu = pv_policy_purpose_at(p, i);
			if (purpose_applies(pu, o->type, info.regime))
				items[n++] = (pv_consent_item){ pu->id, 0, action };
		}
	}
	if (n == 0) {
		free(items);
		return pv_error_set(PV_EPOLICY, "type: the policy has no purpose a %s request applies to",
				    pv_policy_request_name(o->type));
	}
	rc = pv_consent_record(v, caller, o->subject_id, items, n, &ctx, NULL);
	free(items);
	return rc;
}

int pv_fulfil_run(pv_vault *v, const pv_caller *caller, const pv_fulfil_order *o, pv_fulfil_result *out)
{
	pv_fulfil_result r;
	int rc;

	memset(&r, 0, sizeof(r));
	if (!v || !o)
		return pv_error_set(PV_EINVAL, "fulfil: expected a vault and an order");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_fulfil_need_admin(caller, "fulfil")) < 0)
		return rc;
	r.type = o->type;
	switch (o->type) {
	case PV_POLICY_REQ_ACCESS:
	case PV_POLICY_REQ_PORTABILITY: {
		pv_package_kind k = o->type == PV_POLICY_REQ_ACCESS ? PV_PACKAGE_ACCESS : PV_PACKAGE_PORTABILITY;
		if (o->package_dir) {
			rc = pv_package_write(v, caller, o->subject_id, k, o->package_dir, &r.package);
		} else {
			char *s = NULL;
			rc = pv_package_json(v, caller, o->subject_id, k, &s, NULL, &r.package);
			if (s) {
				memset(s, 0, strlen(s));
				free(s);
			}
		}
		break;
	}
	case PV_POLICY_REQ_DELETION:
		rc = pv_fulfil_erase_request(v, caller, o->subject_id, o->request_id, &r.erasure);
		r.partial = rc == 0 && !r.erasure.full;
		break;
	case PV_POLICY_REQ_RECTIFICATION:
		if (!o->record_id || !o->data)
			return pv_error_set(PV_EINVAL, "record_id, data: a rectification names a record and its new data");
		rc = pv_record_rectify(v, caller, o->subject_id, o->record_id, o->data, o->len);
		break;
	case PV_POLICY_REQ_RESTRICTION:
		rc = pv_subject_restrict(v, caller, o->subject_id, 1);
		break;
	case PV_POLICY_REQ_OBJECTION:
	case PV_POLICY_REQ_OPT_OUT:
	case PV_POLICY_REQ_LIMIT_SENSITIVE:
	case PV_POLICY_REQ_WITHDRAW_CONSENT:
		rc = consent_effect(v, caller, o);
		break;
	default:
		return pv_error_set(PV_EINVAL, "type: expected a request type");
	}
	if (rc < 0) {
		pv_erasure_report_free(&r.erasure);
		return rc;
	}
	if (out)
		*out = r;
	else
		pv_erasure_report_free(&r.erasure);
	return 0;
}

void pv_fulfil_result_free(pv_fulfil_result *r)
{
	if (r)
		pv_erasure_report_free(&r->erasure);
}
