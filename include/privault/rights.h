/*
 * privault rights: data-subject requests (issue 6, requests part).
 *
 * A request moves through a state machine (docs/rights.md draws it):
 *
 *   received -> verifying -> verified -> in_progress -> completed
 *                  |            |            |      \-> partially_completed
 *                  |            |            \--------> refused
 *                  +------------+-----------------------> refused | withdrawn
 *                  \-> expired (never verified before the deadline)
 *
 * Every transition is one row of the request's history and one audit entry
 * ("request.<state>") in the same transaction; neither holds personal data
 * (ids, type, regime, reason codes only). Identifiers given at intake are kept
 * only as their keyed blind index; one-time codes only as a keyed hash.
 *
 * Verification levels (policy rights.verification per request type):
 *   none     -> verified at intake (opt-out);
 *   basic    -> a one-time code sent through the outbox to the identifier given
 *               at intake (an email address) and entered back;
 *   standard -> basic + a second identifier that belongs to the same subject;
 *   strong   -> standard + a manual confirmation by an admin
 *               (pv_request_confirm: agent's authorization or ID checked).
 * Codes: 8 digits, valid PV_REQUEST_CODE_TTL seconds, PV_REQUEST_CODE_ATTEMPTS
 * wrong entries, then a new code is needed (pv_request_code_send).
 *
 * Checks made when a request becomes verified (so that intake never reveals
 * whether a person is known): a parent may ask only for a subject under the
 * policy's children.parental_consent_below age; the per-type quota (CCPA:
 * access and portability twice per 12 months) refuses the next one with the
 * date it becomes possible. Refusals carry a reason code and the complaint
 * route (the regime's supervisory authority).
 */
#ifndef PRIVAULT_RIGHTS_H
#define PRIVAULT_RIGHTS_H

#include <stddef.h>
#include <stdint.h>

#include "privault/fulfil.h"
#include "privault/policy.h"
#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_REQUEST_CODE_LEN 8          /* digits of a one-time code */
#define PV_REQUEST_CODE_TTL (15 * 60)  /* seconds a code stays valid */
#define PV_REQUEST_CODE_ATTEMPTS 5     /* wrong entries before a new code is needed */
#define PV_REQUEST_REASON_MAX 64       /* reason codes: [a-z0-9_]{1,64} */
#define PV_REQUEST_DETAILS_MAX 8192    /* bytes of the details JSON */

typedef enum {
	PV_REQ_RECEIVED = 0,
	PV_REQ_VERIFYING,
	PV_REQ_VERIFIED,
	PV_REQ_IN_PROGRESS,
	PV_REQ_COMPLETED,
	PV_REQ_PARTIAL,        /* partially_completed */
	PV_REQ_REFUSED,
	PV_REQ_WITHDRAWN,
	PV_REQ_EXPIRED,
	PV_REQ_STATE_COUNT
} pv_request_state;

typedef enum {
	PV_REQUESTER_SUBJECT = 0,
	PV_REQUESTER_AGENT,    /* an authorized agent: authorization reference required */
	PV_REQUESTER_PARENT    /* a parent for a child: authorization reference required */
} pv_requester;

/* "received", ... "partially_completed", ...; "?" otherwise. Parse: 0 or PV_EINVAL. */
const char *pv_request_state_name(pv_request_state s);
const char *pv_requester_name(pv_requester r);
int pv_requester_parse(pv_requester *out, const char *s);
/* Parse a request type name ("access", "opt_out", ...): 0 or PV_EINVAL naming the field. */
int pv_request_type_parse(pv_policy_request *out, const char *s);
/* 1 when `from -> to` is an edge of the state machine. */
int pv_request_transition_allowed(pv_request_state from, pv_request_state to);

/* Intake. Strings are copied; identifier values are kept only as blind indexes. */
typedef struct {
	pv_policy_request type;
	const char *id_kind;        /* identifier the requester gives, "email" to receive codes */
	const char *id_value;
	const char *subject_id;     /* or a known subject id instead of the identifier (admin intake) */
	const char *regime;         /* NULL = the subject's regime, else the policy's default */
	pv_requester requester;
	const char *authorization;  /* agent/parent: a reference to the proof (document id or hash), <= 128 bytes */
	const char *details;        /* JSON object or NULL: rectification {"record_id","data"}, objection {"purposes":[...]} */
	pv_time received_at;        /* 0 = now */
} pv_request_spec;

typedef struct {
	char id[PV_ID_LEN + 1];
	char subject_id[PV_ID_LEN + 1];   /* "" while the identity is unknown */
	pv_policy_request type;
	pv_regime regime;
	pv_requester requester;
	char authorization[65];           /* hex BLAKE2b-256 of the authorization reference; "" when none */
	pv_request_state state;
	pv_verification needed;           /* level the policy asks for this type */
	pv_verification reached;          /* level reached so far */
	pv_time received_at;
	pv_time ack_due;                  /* acknowledgement due (CCPA 10 business days); 0 when none */
	pv_time due_at;                   /* first deadline */
	pv_time extended_due;             /* 0 until extended */
	pv_time closed_at;                /* 0 while open */
	char reason[PV_REQUEST_REASON_MAX + 1];   /* refusal / extension reason code, "" when none */
	pv_time available_at;             /* quota refusal: when a new request becomes possible; else 0 */
	int fee_due;                      /* excessive request charged a fee (policy excessive: charge) */
	char *details;                    /* the details JSON or NULL; freed by pv_request_clear */
} pv_request;

/* Free what a pv_request owns (details); accepts NULL. */
void pv_request_clear(pv_request *r);

/* The effective deadline: extended_due when extended, else due_at. */
pv_time pv_request_deadline(const pv_request *r);

/*
 * Take a request in. Sends the first code (outbox, email) when the type needs
 * verification, else the request is verified at once. Admin or service
 * callers. out (may be NULL) gets the request (pv_request_clear it).
 * PV_EINVAL naming the field; PV_EPOLICY when the regime is not in force.
 */
int pv_request_submit(pv_vault *v, const pv_caller *caller, const pv_request_spec *spec, pv_request *out);

/* One request. PV_ENOTFOUND if unknown. pv_request_clear the result. */
int pv_request_get(pv_vault *v, const pv_caller *caller, const char *id, pv_request *out);

/*
 * Send a new one-time code for request `id` to (kind, value), which must be
 * the identifier given at intake (PV_EDENIED otherwise). Resets the attempts.
 */
int pv_request_code_send(pv_vault *v, const pv_caller *caller, const char *id, const char *kind, const char *value);

/*
 * Check a code (constant time). 0 on success (level basic reached; with
 * (kind2, value2) matching the same subject: standard), PV_EDENIED on a wrong,
 * expired or exhausted code (the message says which, never the code).
 * Reaching the needed level makes the request verified (and runs the quota
 * and parent checks, which may refuse it).
 */
int pv_request_verify(pv_vault *v, const pv_caller *caller, const char *id, const char *code,
		      const char *kind2, const char *value2);

/* Admin confirmation for strong verification (after standard was reached). */
int pv_request_confirm(pv_vault *v, const pv_caller *caller, const char *id);

/* Move a request to `to` (in_progress, completed, partially_completed, withdrawn);
 * PV_EINVAL naming the state when the state machine has no such edge. */
int pv_request_transition(pv_vault *v, const pv_caller *caller, const char *id, pv_request_state to,
			  const char *reason);

/* Refuse with a reason code (e.g. "manifestly_unfounded", "excessive", "identity_not_verified"). */
int pv_request_refuse(pv_vault *v, const pv_caller *caller, const char *id, const char *reason);

/*
 * Mark a request manifestly unfounded or excessive: refused when the policy
 * says excessive: refuse, else a fee is charged (fee_due = 1, state kept).
 */
int pv_request_excessive(pv_vault *v, const pv_caller *caller, const char *id, const char *reason);

/* The fee of an excessive request was paid: fee_due back to 0 (work may start). */
int pv_request_fee_paid(pv_vault *v, const pv_caller *caller, const char *id);

/*
 * Extend the deadline once by the regime's extension, with a reason code,
 * only before the first deadline passed; the notice is queued through the
 * outbox to `contact` (the intake identifier, checked against its blind index).
 */
int pv_request_extend(pv_vault *v, const pv_caller *caller, const char *id, const char *reason,
		      const char *contact_kind, const char *contact);

/*
 * Carry out a verified request through fulfilment (fulfil.h, pv_fulfil_run):
 * verified -> in_progress (audited), then the order built from the request
 * (type, subject, request id, package_dir for access/portability, details'
 * record_id with `data` for rectification, each of details' purposes for
 * objection/withdrawal), then completed, or partially_completed when
 * fulfilment kept part (deletion exceptions). A request about an unknown
 * identity completes with reason "no_data". On a fulfilment error the request
 * stays in_progress and the error is returned. Admin callers; PV_EINVAL while
 * a fee is due or the state is not verified/in_progress. out may be NULL
 * (else pv_fulfil_result_free it).
 */
int pv_request_fulfil(pv_vault *v, const pv_caller *caller, const char *id, const char *package_dir,
		      const char *data, size_t len, pv_fulfil_result *out);

/* Expire requests still unverified after their deadline; *count = how many. */
int pv_request_expire_stale(pv_vault *v, const pv_caller *caller, size_t *count);

/* The complaint route of regime r: the policy's authority, else the regulator's name. Static or borrowed. */
const char *pv_request_complaint_route(const pv_policy *p, pv_regime r);

/* Open requests whose deadline is before now + within (seconds); within 0 = overdue only.
 * Sorted by deadline. *out freed with pv_request_list_free. Any caller. */
int pv_request_due(pv_vault *v, const pv_caller *caller, int64_t within, pv_request **out, size_t *count);
/* Requests of one subject, oldest first. */
int pv_request_list_subject(pv_vault *v, const pv_caller *caller, const char *subject_id,
			    pv_request **out, size_t *count);
void pv_request_list_free(pv_request *list, size_t count);

/* One history row. */
typedef struct {
	pv_request_state from, to;
	pv_time at;
	char actor[65];
	char reason[PV_REQUEST_REASON_MAX + 1];
} pv_request_event;
int pv_request_history(pv_vault *v, const pv_caller *caller, const char *id, pv_request_event **out, size_t *count);

/* CCPA metrics of one calendar year (requests received that year). */
typedef struct {
	size_t received;
	size_t complied;          /* completed in whole */
	size_t partial;           /* complied with in part */
	size_t denied;            /* refused */
	size_t open;              /* still open */
	double mean_days, median_days;   /* received -> closed, closed requests; 0 when none */
} pv_request_metrics;
int pv_request_report(pv_vault *v, const pv_caller *caller, int year, pv_request_metrics out[PV_POLICY_REQ_COUNT]);

#ifdef __cplusplus
}
#endif
#endif
