/*
 * privault retention (internal): helpers shared by hold.c and sweep.c.
 */
#ifndef PV_RETENTION_INTERNAL_H
#define PV_RETENTION_INTERNAL_H

#include "privault/retention.h"
#include "store/store.h"

typedef char subject_id_t[PV_ID_LEN + 1];

/* One (policy version, category, purpose) -> action, cached for the sweep. */
typedef struct {
	char policy_version[PV_HASH_HEX_LEN + 1];
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	pv_retention_action action;
} rule_slot;

typedef struct {
	pv_vault *v;
	const pv_caller *caller;
	pv_sweep_report *rep;
	pv_time now;

	rule_slot *rules;               /* a handful: versions x categories x purposes seen */
	size_t nrules, caprules;

	subject_id_t *held;             /* subjects named by an active hold, sorted */
	size_t nheld, capheld;

	/* the current batch */
	pv_store_expired *rows;
	pv_retention_action *actions;
	pv_time *months;                /* month of collection, for anonymized rows */
	size_t *order;                  /* rows sorted by subject, action */
	pv_store_record_ref *refs;
	size_t n, cap;

	/* dry run: the subject of every record that would go */
	subject_id_t *subjects;
	size_t nsubjects, capsubjects;

	int64_t w_new;                  /* epochs below it are destroyed by this sweep (or would be) */
	size_t purge;                   /* pv_sweep_options.purge */
} pv_sweep_ctx;


/* ---- sweep.c helpers shared with shred.c ---- */
/* The action for an expired record, by its policy version's rule (cached in sw). */
int pv_ret_action_for(pv_sweep_ctx *sw, const pv_store_expired *r, pv_retention_action *out);
/* Add n records to the report's line for category x purpose x action, and to its totals. */
int pv_ret_count_add(pv_sweep_report *rep, const char *category, const char *purpose, pv_retention_action a,
		     int64_t n);
int pv_ret_erased_add(pv_sweep_report *rep, const char *subject_id);
/* The UTC midnight of the 1st of t's month. */
pv_time pv_ret_month_of(pv_time t);
/* Subjects named by active holds: load (sorted) into sw->held; test one. */
int pv_ret_held_load(pv_sweep_ctx *sw);
int pv_ret_is_held(const pv_sweep_ctx *sw, const char *subject_id);
int pv_ret_cmp_sid(const void *a, const void *b);
/* Commit the pv_vault_begin() batch when rc == 0, else roll it back keeping the error message. */
int pv_ret_end(pv_vault *v, int rc);

/*
 * The sweep's first step (shred.c): destroy the retention epochs that have
 * ended by the sweep's now, inside one transaction (or, in a dry run, report
 * what that would do). docs/retention.md, "Sweeping by key destruction".
 */
int pv_retention_shred(pv_sweep_ctx *sw);

/*
 * Validate the caller (name 1..128 printable bytes, a known role) and its
 * role: admins always pass; auditors pass only when `auditor_ok`. PV_EINVAL
 * for a malformed caller, PV_EDENIED naming `what` for a role not allowed.
 */
int pv_retention_caller_check(const pv_caller *caller, int auditor_ok, const char *what);

#endif
