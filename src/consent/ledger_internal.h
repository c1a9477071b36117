/*
 * consent ledger (internal): the consent view's layout (read by the access
 * decision in src/vault/decide.c), the state derivation shared by writes,
 * rebuilds and views at a time, and the store helpers of src/consent/ledger*.c.
 */
#ifndef PV_CONSENT_LEDGER_INTERNAL_H
#define PV_CONSENT_LEDGER_INTERNAL_H

#include <stdint.h>

#include "privault/consent.h"
#include "store/store.h"

/* One purpose of a view (vendor 0 state). */
typedef struct {
	char purpose[PV_CONSENT_PURPOSE_MAX + 1];
	uint8_t consent;     /* pv_consent_status */
	uint8_t opted_out;
	uint8_t gpc;
	uint8_t objected;
	uint8_t limited;
	char notice_version[PV_CONSENT_NOTICE_MAX + 1];
} pv_consent_view_entry;

struct pv_consent_view {
	char current_notice[PV_CONSENT_NOTICE_MAX + 1];   /* "" = compare with the decided policy's label */
	int limited_all;                                  /* a limitation with purpose ref "*" in force */
	size_t n;
	pv_consent_view_entry e[];                        /* sorted by purpose */
};

/* The entry of `purpose`, or NULL (binary search; no allocation). */
const pv_consent_view_entry *pv_consent_view_find(const pv_consent_view *view, const char *purpose);

/* The fields of an event the derivation needs. */
typedef struct {
	const char *id;
	int64_t seq;
	pv_consent_action action;
	pv_consent_source source;
	const char *notice_version;
	pv_time at;
} pv_consent_fact;

/*
 * Apply one event to a state row (zeroed for a new row). Returns 1 when the
 * event conflicts with a GPC opt-out in force (granted or opted_in from a
 * source other than gpc; the opt-out stays), else 0.
 */
int pv_consent_apply(pv_consent_state *st, const pv_consent_fact *f);

/* Validation of a purpose ref (policy purpose, cookie class, TCF ref): 0 or PV_EINVAL naming `field`. */
int pv_consent_purpose_check(const pv_policy *policy, const char *purpose, const char *field);

/* Ledger rows of one subject in seq order, visited (ledger.c); signal not loaded. */
int pv_consent_events_load(pv_store *s, const char *subject, const char *purpose, pv_time until,
			   pv_consent_event **out, size_t *n);

/* Events of every subject ref with from <= at < to, by at, subject, seq; signal not loaded. */
int pv_consent_events_range(pv_store *s, pv_time from, pv_time to, pv_consent_event **out, size_t *n);

/* The store and the current policy hash and label (helpers over vault_internal.h). */
pv_store *pv_consent_store(pv_vault *v);

/* Read access to a subject ref's ledger: any role but auditor; PV_EDENIED else. Validates caller and ref. */
int pv_consent_may_read(const pv_caller *caller, const char *subject);

/* Append "consent.<what>" audit entry, subject id or NULL for devices; inside the caller's transaction. */
int pv_consent_audit(pv_vault *v, const pv_caller *caller, const char *what, const char *subject,
		     const char *purpose, const char *outcome);

/* Delete every consent row of `subject` in the caller's transaction (pv_subject_erase calls it). */
int pv_consent_erase_rows(pv_store *s, const char *subject, int64_t *removed);

/* Write a state row (insert or replace). */
int pv_consent_state_put(pv_store *s, const char *subject, const pv_consent_state *st);

/* Append a decoded signal's items in one receipt (ledger.c); with_gpc adds the GPC opt-outs first. */
int pv_consent_record_signal(pv_vault *v, const pv_caller *caller, const char *subject,
			     const pv_consent_context *ctx, pv_consent_source source, const char *signal,
			     const pv_consent_item *items, size_t n, int with_gpc, pv_consent_result *out);

#endif
