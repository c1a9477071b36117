/*
 * The consent ledger: signals turned into events. Each string is decoded with
 * the codecs of consent_signals.h, mapped to items, and appended in one
 * receipt that keeps the exact string once (consent_signals).
 */
#include "consent/ledger_internal.h"

#include "privault/consent_signals.h"

#include "core/error.h"
#include "core/limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Items with their purpose text in one block. */
typedef struct {
	pv_consent_item *items;
	char (*names)[PV_CONSENT_PURPOSE_MAX + 1];
	size_t n, cap;
} item_vec;

static int item_add(item_vec *v, const char *purpose, uint32_t vendor, pv_consent_action action)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		pv_consent_item *it = realloc(v->items, cap * sizeof(*it));
		void *nm;
		if (!it)
			return pv_error_set(PV_ENOMEM, "consent: out of memory");
		v->items = it;
		nm = realloc(v->names, cap * sizeof(v->names[0]));
		if (!nm)
			return pv_error_set(PV_ENOMEM, "consent: out of memory");
		v->names = nm;
		v->cap = cap;
	}
	snprintf(v->names[v->n], sizeof(v->names[0]), "%s", purpose);
	v->items[v->n].vendor = vendor;
	v->items[v->n].action = action;
	v->n++;
	return 0;
}

/* Point each item's purpose at its name (after the last realloc). */
static void item_fix(item_vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		v->items[i].purpose = v->names[i];
}

static void item_free(item_vec *v)
{
	free(v->items);
	free(v->names);
}

/* The TC string's events as items. */
static int tcf_items(item_vec *v, const pv_tcf *tc)
{
	static const char *const prefix[] = {
		[PV_TCF_EV_PURPOSE_CONSENT] = "tcf:", [PV_TCF_EV_PURPOSE_LI] = "tcf-li:",
		[PV_TCF_EV_VENDOR_CONSENT] = "tcf-vendor", [PV_TCF_EV_VENDOR_LI] = "tcf-vendor-li",
		[PV_TCF_EV_SPECIAL_FEATURE] = "tcf-sf:", [PV_TCF_EV_PUBLISHER_CONSENT] = "tcf-pub:",
		[PV_TCF_EV_PUBLISHER_LI] = "tcf-pub-li:", [PV_TCF_EV_CUSTOM_CONSENT] = "tcf-custom:",
		[PV_TCF_EV_CUSTOM_LI] = "tcf-custom-li:",
	};
	pv_tcf_event *ev = NULL;
	size_t n = 0;
	int rc = pv_tcf_events(&ev, &n, tc);

	for (size_t i = 0; i < n && rc == 0; i++) {
		char name[PV_CONSENT_PURPOSE_MAX + 1];
		int vendor = ev[i].kind == PV_TCF_EV_VENDOR_CONSENT || ev[i].kind == PV_TCF_EV_VENDOR_LI;
		if (vendor)
			snprintf(name, sizeof(name), "%s", prefix[ev[i].kind]);
		else
			snprintf(name, sizeof(name), "%s%u", prefix[ev[i].kind], ev[i].id);
		rc = item_add(v, name, vendor ? ev[i].id : 0,
			      ev[i].granted ? PV_CONSENT_GRANTED : PV_CONSENT_REFUSED);
	}
	free(ev);
	return rc;
}

/* Opt-out (or opt-in) items for every purpose of the policy with sale (want_sale) or sharing (want_sharing). */
static int policy_items(item_vec *v, const pv_policy *p, int want_sale, int want_sharing, pv_consent_action a)
{
	int rc = 0;

	for (size_t i = 0; i < pv_policy_purpose_count(p) && rc == 0; i++) {
		const pv_policy_purpose *pu = pv_policy_purpose_at(p, i);
		if ((want_sale && pu->sale) || (want_sharing && pu->sharing))
			rc = item_add(v, pu->id, 0, a);
	}
	if (rc == 0 && want_sharing)
		rc = item_add(v, "advertising", 0, a);
	return rc;
}

int pv_consent_record_tcf(pv_vault *v, const pv_caller *caller, const char *subject,
			  const char *tc, size_t len, const pv_consent_context *ctx, pv_consent_result *out)
{
	item_vec items = { NULL, NULL, 0, 0 };
	pv_tcf *t = NULL;
	char *copy = NULL;
	int rc;

	if (!tc)
		return pv_error_set(PV_EINVAL, "tc: expected a TC string");
	if ((rc = pv_tcf_decode(&t, tc, len)) < 0)
		return rc;
	if ((rc = tcf_items(&items, t)) < 0)
		goto done;
	item_fix(&items);
	if (!(copy = strndup(tc, len))) {
		rc = pv_error_set(PV_ENOMEM, "consent: out of memory");
		goto done;
	}
	rc = pv_consent_record_signal(v, caller, subject, ctx, PV_CONSENT_SRC_TCF, copy, items.items, items.n, 0, out);
done:
	free(copy);
	item_free(&items);
	pv_tcf_free(&t);
	return rc;
}

int pv_consent_record_usp(pv_vault *v, const pv_caller *caller, const char *subject,
			  const char *usp, size_t len, const pv_consent_context *ctx, pv_consent_result *out)
{
	item_vec items = { NULL, NULL, 0, 0 };
	char copy[5];
	pv_usp u;
	int rc;

	if (!usp)
		return pv_error_set(PV_EINVAL, "usp: expected a US Privacy string");
	if ((rc = pv_usp_decode(&u, usp, len)) < 0)
		return rc;
	if (!v)
		return pv_error_set(PV_EINVAL, "consent: expected a vault");
	if (u.opt_out_sale != PV_USP_NA &&
	    (rc = policy_items(&items, pv_vault_policy(v), 1, 1,
			       u.opt_out_sale == PV_USP_YES ? PV_CONSENT_OPTED_OUT : PV_CONSENT_OPTED_IN)) < 0)
		goto done;
	item_fix(&items);
	memcpy(copy, usp, 4);
	copy[4] = 0;
	rc = pv_consent_record_signal(v, caller, subject, ctx, PV_CONSENT_SRC_USP, copy, items.items, items.n, 0, out);
done:
	item_free(&items);
	return rc;
}

/* usnat value 1 = opted out, 2 = did not opt out, 0 = not applicable. */
static int usnat_add(item_vec *items, const pv_policy *p, uint8_t val, int sale, int sharing)
{
	if (val == 1)
		return policy_items(items, p, sale, sharing, PV_CONSENT_OPTED_OUT);
	if (val == 2)
		return policy_items(items, p, sale, sharing, PV_CONSENT_OPTED_IN);
	return 0;
}

int pv_consent_record_gpp(pv_vault *v, const pv_caller *caller, const char *subject,
			  const char *gpp, size_t len, const pv_consent_context *ctx, pv_consent_result *out)
{
	item_vec items = { NULL, NULL, 0, 0 };
	char *copy = NULL;
	int with_gpc = 0;
	pv_gpp g;
	int rc;

	if (!gpp || !v)
		return pv_error_set(PV_EINVAL, "gpp: expected a vault and a GPP string");
	memset(&g, 0, sizeof(g));
	if ((rc = pv_gpp_decode(&g, gpp, len)) < 0)
		return rc;
	if (g.has_usnat) {
		const pv_policy *p = pv_vault_policy(v);
		if ((rc = usnat_add(&items, p, g.usnat.sale_opt_out, 1, 0)) < 0 ||
		    (rc = usnat_add(&items, p, g.usnat.sharing_opt_out, 0, 1)) < 0 ||
		    (rc = usnat_add(&items, p, g.usnat.targeted_advertising_opt_out, 0, 1)) < 0)
			goto done;
		with_gpc = g.usnat.gpc_segment_included && g.usnat.gpc;
	}
	if (g.has_uspv1 && g.uspv1.opt_out_sale != PV_USP_NA &&
	    (rc = policy_items(&items, pv_vault_policy(v), 1, 1,
			       g.uspv1.opt_out_sale == PV_USP_YES ? PV_CONSENT_OPTED_OUT : PV_CONSENT_OPTED_IN)) < 0)
		goto done;
	if (g.has_tcfeuv2 && g.tcfeuv2 && (rc = tcf_items(&items, g.tcfeuv2)) < 0)
		goto done;
	item_fix(&items);
	if (!(copy = strndup(gpp, len))) {
		rc = pv_error_set(PV_ENOMEM, "consent: out of memory");
		goto done;
	}
	rc = pv_consent_record_signal(v, caller, subject, ctx, PV_CONSENT_SRC_GPP, copy, items.items, items.n,
				      with_gpc, out);
done:
	free(copy);
	item_free(&items);
	pv_gpp_clear(&g);
	return rc;
}
