/*
 * privault consent ledger: an append-only record of consent events, the
 * current state derived from it, the consent view the access decision reads,
 * signals (GPC, TCF, US Privacy, GPP) turned into events, opt-out deadlines,
 * receipts and exports. Signal codecs are in consent_signals.h.
 *
 * Subject refs. Every event is about a "subject ref": either a vault subject
 * id (a lower-case UUID) or a device id for an anonymous banner visitor:
 * "dev_" followed by 26 to 60 characters of the lower-case RFC 4648 base32
 * alphabet [a-z2-7] (the banner makes 130+ random bits). Device refs never
 * reach the access decision (only vault subjects have records).
 *
 * Purpose refs. A purpose id of the current policy; a cookie class
 * ("strictly_necessary", "functional", "analytics", "advertising"); or a TCF
 * ref: "tcf:N" purpose consent, "tcf-li:N" purpose legitimate interest,
 * "tcf-sf:N" special feature opt-in, "tcf-pub:N" / "tcf-pub-li:N" publisher
 * purposes, "tcf-custom:N" / "tcf-custom-li:N" custom purposes, and
 * "tcf-vendor" / "tcf-vendor-li" with the vendor id in `vendor`. Vendor 0 is
 * "no vendor". At most PV_CONSENT_PURPOSE_MAX bytes.
 *
 * Notice version. The `version` label of the policy (pv_policy_version_label)
 * shown to the person when they chose. A new label is, by definition, a
 * material change: a purpose with fresh_consent_on_change needs a grant given
 * under the current label. (A policy edit that keeps its label is not
 * material: the policy version hash changes, the notice version does not.)
 *
 * Append only. Events are never updated or deleted, except by the erasure
 * of their subject (pv_subject_erase, or pv_consent_erase for any subject
 * ref), which removes every consent row of the subject ref. The derived state table is rewritten in the same
 * transaction as each event and can be rebuilt from the events.
 *
 * Every write is audited in its transaction with the subject ref (device refs
 * as "device"), purpose, action and source; never the signal string, the user
 * agent or the address. Calls take the caller (admin or service may write;
 * every role but auditor may read the ledger of a subject; auditors may export).
 */
#ifndef PRIVAULT_CONSENT_H
#define PRIVAULT_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "privault/policy.h"
#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_CONSENT_REF_MAX 64        /* subject refs: UUID (36) or "dev_" + 26..60 base32 */
#define PV_CONSENT_PURPOSE_MAX 64    /* purpose refs */
#define PV_CONSENT_NOTICE_MAX 64     /* notice version labels */
#define PV_CONSENT_CLIENT_MAX 64     /* truncated client address text: "203.0.113.0/24", "2001:db8:1::/48" */
#define PV_CONSENT_ITEMS_MAX 4096    /* items of one choice */

/* What happened. Names: "granted", "refused", ... (pv_consent_action_name). */
typedef enum {
	PV_CONSENT_GRANTED = 0,  /* consent given (opt-in purposes) */
	PV_CONSENT_REFUSED,      /* consent asked and refused */
	PV_CONSENT_WITHDRAWN,    /* consent given earlier, withdrawn now */
	PV_CONSENT_OPTED_OUT,    /* opt-out (marketing, sale, sharing, targeted ads; GPC) */
	PV_CONSENT_OPTED_IN,     /* an opt-out lifted */
	PV_CONSENT_OBJECTED,     /* GDPR art. 21 objection to the purpose (rights requests) */
	PV_CONSENT_LIMITED,      /* CCPA limit the use of sensitive PI (purpose ref "*": all purposes) */
	PV_CONSENT_ACTION_COUNT
} pv_consent_action;

/* Where the event came from. Names: "banner", "form", "api", "import", "gpc", "tcf", "usp", "gpp", "request". */
typedef enum {
	PV_CONSENT_SRC_BANNER = 0,
	PV_CONSENT_SRC_FORM,
	PV_CONSENT_SRC_API,
	PV_CONSENT_SRC_IMPORT,
	PV_CONSENT_SRC_GPC,
	PV_CONSENT_SRC_TCF,
	PV_CONSENT_SRC_USP,
	PV_CONSENT_SRC_GPP,
	PV_CONSENT_SRC_REQUEST,
	PV_CONSENT_SRC_COUNT
} pv_consent_source;

const char *pv_consent_action_name(pv_consent_action a);     /* "?" when out of range */
const char *pv_consent_source_name(pv_consent_source s);     /* "?" when out of range */
int pv_consent_action_parse(pv_consent_action *out, const char *s);   /* 0 or PV_EINVAL */
int pv_consent_source_parse(pv_consent_source *out, const char *s);   /* 0 or PV_EINVAL */

/* 1 when `ref` is a valid subject ref (UUID or device id), else 0. */
int pv_consent_ref_valid(const char *ref);
/* 1 when `ref` is a device id ("dev_" + 26..60 of [a-z2-7]), else 0. */
int pv_consent_ref_is_device(const char *ref);

/*
 * Truncate a textual IP address the way the HTTP access log does (IPv4 to
 * /24, IPv6 to /48, v4-mapped IPv6 as IPv4): "203.0.113.7" -> "203.0.113.0/24".
 * out gets "-" when `ip` is NULL. 0, or PV_EINVAL when `ip` is not an address.
 */
int pv_consent_client_truncate(const char *ip, char out[PV_CONSENT_CLIENT_MAX + 1]);

/* ---- recording --------------------------------------------------------- */

/* The circumstances of one choice: the proof kept with each of its events. */
typedef struct {
	pv_consent_source source;
	const char *notice_version;  /* label shown; NULL = the current policy's version label */
	const char *signal;          /* the exact signal string received (TC/GPP/USP string), or NULL */
	const char *user_agent;      /* stored only as its BLAKE2b-256 hash (hex); NULL = none */
	const char *client_ip;       /* stored only truncated (pv_consent_client_truncate); NULL = none */
	int gpc;                     /* 1: the request carried Sec-GPC: 1 (see pv_consent_record) */
} pv_consent_context;

/* One decision inside a choice. */
typedef struct {
	const char *purpose;         /* purpose ref */
	uint32_t vendor;             /* TCF vendor id, 0 = none */
	pv_consent_action action;
} pv_consent_item;

/* What a write appended. */
typedef struct {
	char receipt_id[PV_ID_LEN + 1];   /* one receipt id for all events of the call (UUID) */
	size_t events;                    /* events appended */
	size_t conflicts;                 /* events of them recorded with a conflict */
	size_t deadlines;                 /* opt-out processing deadlines created */
} pv_consent_result;

/*
 * Append one choice: `n` items for subject ref `subject`, one receipt, one
 * transaction (all or nothing; joins a pv_vault_begin batch). Each event
 * records the mechanism the current policy declares for the purpose (none for
 * cookie classes and TCF refs), the notice version, the current policy
 * version hash, the time (pv_clock), and the proof of `ctx`.
 * Checks: the subject ref is valid, a vault subject exists and is not erased
 * (PV_ENOTFOUND / PV_EERASED); each purpose ref is a purpose of the current
 * policy, a cookie class or a TCF ref (PV_EINVAL naming items[i].purpose).
 * Conflicts are recorded, never silent: an opted_in or granted for a purpose
 * under a GPC opt-out (source gpc, or ctx->gpc set on this call) gets
 * conflict "gpc" and the opt-out stays in force (GPC wins). When ctx->gpc is
 * 1 the GPC opt-outs (pv_consent_gpc) are appended first in the same receipt.
 * A new opt-out (the purpose was not opted out) of a purpose with an
 * opt_out_window creates a deadline (at + window, business days counted with the policy's holidays of the
 * subject's regime, or of the default regime for devices).
 * out may be NULL.
 */
int pv_consent_record(pv_vault *v, const pv_caller *caller, const char *subject,
		      const pv_consent_item *items, size_t n, const pv_consent_context *ctx,
		      pv_consent_result *out);

/* One item: pv_consent_record with n = 1. */
int pv_consent_record_one(pv_vault *v, const pv_caller *caller, const char *subject, const char *purpose,
			  pv_consent_action action, const pv_consent_context *ctx, pv_consent_result *out);

/*
 * Global Privacy Control: opted_out, source gpc, for every purpose of the
 * current policy that is a sale or a sharing (cross-context behavioural /
 * targeted advertising) purpose, and for the cookie class "advertising".
 * ctx may be NULL (source is forced to gpc either way).
 */
int pv_consent_gpc(pv_vault *v, const pv_caller *caller, const char *subject,
		   const pv_consent_context *ctx, pv_consent_result *out);

/*
 * A TC string (TCF v2.2/2.3) decoded with pv_tcf_decode and appended as
 * events, source tcf, the string kept once as the signal of the receipt:
 * "tcf:N" granted/refused per purpose consent, "tcf-li:N", "tcf-sf:N",
 * publisher and custom purposes, and "tcf-vendor"/"tcf-vendor-li" per vendor
 * (as pv_tcf_events lists them). PV_EINVAL (the codec's message) on a bad string.
 */
int pv_consent_record_tcf(pv_vault *v, const pv_caller *caller, const char *subject,
			  const char *tc, size_t len, const pv_consent_context *ctx, pv_consent_result *out);

/*
 * A US Privacy string: opt_out_sale 'Y' -> opted_out, 'N' -> opted_in, of
 * every sale purpose of the policy (and of sharing purposes: the CCPA 2020
 * string predates "sharing"; we treat its sale flag as covering both);
 * '-' records nothing. Source usp, the string kept as proof.
 */
int pv_consent_record_usp(pv_vault *v, const pv_caller *caller, const char *subject,
			  const char *usp, size_t len, const pv_consent_context *ctx, pv_consent_result *out);

/*
 * A GPP string: usnat sale_opt_out 1/2 -> opted_out/opted_in of sale
 * purposes, sharing_opt_out and targeted_advertising_opt_out -> of sharing
 * purposes (and the cookie class "advertising"); usnat's Gpc bit -> the GPC
 * opt-outs; uspv1 as pv_consent_record_usp; tcfeuv2 as pv_consent_record_tcf.
 * Source gpp, the whole GPP string kept as proof.
 */
int pv_consent_record_gpp(pv_vault *v, const pv_caller *caller, const char *subject,
			  const char *gpp, size_t len, const pv_consent_context *ctx, pv_consent_result *out);

/* ---- reading ------------------------------------------------------------ */

/* One event as stored. Strings are "" when absent. */
typedef struct {
	char id[PV_ID_LEN + 1];
	char receipt_id[PV_ID_LEN + 1];
	int64_t seq;                                   /* order of appending (per store) */
	char subject[PV_CONSENT_REF_MAX + 1];
	char purpose[PV_CONSENT_PURPOSE_MAX + 1];
	uint32_t vendor;
	pv_consent_action action;
	int has_mechanism;  pv_consent_mechanism mechanism;   /* from the policy; 0 for cookie classes, TCF */
	pv_consent_source source;
	char notice_version[PV_CONSENT_NOTICE_MAX + 1];
	char policy_version[PV_HASH_HEX_LEN + 1];
	pv_time at;
	char *signal;                                  /* malloc'd exact signal string, or NULL */
	char ua_hash[PV_HASH_HEX_LEN + 1];             /* BLAKE2b-256 hex of the user agent */
	char client[PV_CONSENT_CLIENT_MAX + 1];        /* truncated address */
	int conflict;                                  /* 1 when recorded as a conflict */
	char conflict_reason[PV_CONSENT_PURPOSE_MAX + 1];   /* "gpc", ... */
} pv_consent_event;

/* Free an array of events and their signals; accepts NULL. */
void pv_consent_events_free(pv_consent_event *ev, size_t n);

/*
 * A subject ref's events in appending order; `purpose` NULL for all.
 * *out is malloc'd (free with pv_consent_events_free; NULL when *n is 0).
 * Audited as "consent.history".
 */
int pv_consent_history(pv_vault *v, const pv_caller *caller, const char *subject, const char *purpose,
		       pv_consent_event **out, size_t *n);

/* The derived current state of one (subject ref, purpose, vendor). */
typedef enum {
	PV_CONSENT_NONE = 0,       /* no consent event */
	PV_CONSENT_IS_GRANTED,
	PV_CONSENT_IS_REFUSED,
	PV_CONSENT_IS_WITHDRAWN
} pv_consent_status;

typedef struct {
	char purpose[PV_CONSENT_PURPOSE_MAX + 1];
	uint32_t vendor;
	pv_consent_status consent;      /* last of granted / refused / withdrawn */
	pv_time consent_at;             /* 0 when none */
	char notice_version[PV_CONSENT_NOTICE_MAX + 1];   /* of the last consent event */
	int opted_out;                  /* an opt-out in force (last of opted_out / opted_in) */
	int gpc;                        /* that opt-out came from GPC (an explicit opt-in does not lift it) */
	pv_time opted_out_at;
	int objected;                   /* an objection in force (lifted by a later grant or opted_in) */
	int limited;                    /* a limitation of sensitive PI in force */
	char last_event[PV_ID_LEN + 1]; /* id of the last event that changed the row */
	int64_t last_seq;
} pv_consent_state;

const char *pv_consent_status_name(pv_consent_status s);   /* "none", "granted", "refused", "withdrawn" */

/*
 * The current state of every (purpose, vendor) of a subject ref, ordered by
 * purpose then vendor, from the derived table. *out malloc'd (free());
 * NULL when *n is 0. Audited as "consent.state".
 */
int pv_consent_state_list(pv_vault *v, const pv_caller *caller, const char *subject,
			  pv_consent_state **out, size_t *n);

/*
 * Rebuild the derived state of `subject` (NULL: every subject ref that has
 * events) from its events, in one transaction. With verify = 1 nothing is
 * written: *mismatches (may be NULL) counts rows of the derived table that
 * differ from the events' derivation (0 = consistent). Audited.
 */
int pv_consent_rebuild(pv_vault *v, const pv_caller *caller, const char *subject, int verify,
		       size_t *mismatches);

/* ---- the consent view (what the access decision reads) -------------------- */

/*
 * A compact, immutable per-purpose summary of a vault subject's consent state
 * (vendor 0 rows only), loaded once and handed to pv_access_decide through
 * pv_subject_info.consent. NULL or an empty view = no consent events.
 * `current_notice` is the notice version the decision compares grants with
 * (the vault's current policy label, copied at load).
 */
typedef struct pv_consent_view pv_consent_view;

/* Load the view of `subject` from the derived table. Free with pv_consent_view_free. Not audited.
 * (pv_vault_subject_load does this for every subject the vault loads: one indexed query.) */
int pv_consent_view_load(pv_vault *v, const char *subject, pv_consent_view **out);

/*
 * The view as it stood at time `at` (events with at <= `at` only), derived
 * from history: the answer to "was processing at time T covered?".
 */
int pv_consent_view_load_at(pv_vault *v, const char *subject, pv_time at, pv_consent_view **out);

void pv_consent_view_free(pv_consent_view *view);   /* accepts NULL */

/* Number of purposes the view holds. */
size_t pv_consent_view_count(const pv_consent_view *view);

/*
 * Was processing of `subject`'s `category` for `purpose` at time `at` covered
 * by consent? Runs pv_access_decide with the subject (as active: a later
 * erasure or restriction is not the question), the policy version in force
 * at `at` (the last one loaded at or before it; the current one when none
 * is that old), its label as the notice to be fresh against, and the view as
 * of `at`, as an admin caller (grants are not the question). *out gets the decision
 * (allowed, or consent_missing / consent_withdrawn / opted_out ...). Audited
 * as "consent.covered".
 */
int pv_consent_covered(pv_vault *v, const pv_caller *caller, const char *subject, const char *category,
		       const char *purpose, pv_time at, pv_decision *out);

/* ---- opt-out processing deadlines -------------------------------------- */

typedef enum {
	PV_CONSENT_DEADLINES_PENDING = 0,   /* not done, due in the future */
	PV_CONSENT_DEADLINES_OVERDUE,       /* not done, due passed */
	PV_CONSENT_DEADLINES_ALL
} pv_consent_deadline_filter;

typedef struct {
	char event_id[PV_ID_LEN + 1];       /* the opt-out event */
	char subject[PV_CONSENT_REF_MAX + 1];
	char purpose[PV_CONSENT_PURPOSE_MAX + 1];
	pv_time at;                         /* the opt-out */
	pv_time due;                        /* at + the purpose's opt_out_window */
	pv_time done_at;                    /* 0 while pending */
	int overdue;                        /* not done and due < now */
} pv_consent_deadline;

/* Deadlines by due time. *out malloc'd (free()); NULL when *n is 0. Not personal data; audited. */
int pv_consent_deadlines(pv_vault *v, const pv_caller *caller, pv_consent_deadline_filter filter,
			 pv_consent_deadline **out, size_t *n);

/* Mark the deadline of opt-out event `event_id` done now (downstream systems processed it). Audited. */
int pv_consent_deadline_done(pv_vault *v, const pv_caller *caller, const char *event_id);

/* ---- receipts and exports ---------------------------------------------- */

/*
 * A subject ref's consent records as a Kantara Consent Receipt v1.1-style
 * JSON document (docs/consent.md lists the fields). *out malloc'd (free()),
 * NUL-terminated. Audited as "consent.receipt".
 */
int pv_consent_receipt_json(pv_vault *v, const pv_caller *caller, const char *subject, char **out);

/* The same events as CSV with a header line (docs/consent.md). *out malloc'd (free()). */
int pv_consent_receipt_csv(pv_vault *v, const pv_caller *caller, const char *subject, char **out);

typedef enum { PV_CONSENT_EXPORT_JSONL = 0, PV_CONSENT_EXPORT_CSV } pv_consent_export_format;

/*
 * Every consent event with from <= at < to, of every subject ref, in
 * appending order, as JSON lines or CSV, handed to `write` in pieces (a
 * non-zero return stops the export and is returned). *count (may be NULL)
 * gets the number of events. Admin or auditor only. Audited as "consent.export".
 */
int pv_consent_export(pv_vault *v, const pv_caller *caller, pv_time from, pv_time to,
		      pv_consent_export_format format,
		      int (*write)(const char *buf, size_t len, void *payload), void *payload,
		      size_t *count);

/* ---- erasure ------------------------------------------------------------- */

/*
 * Remove every consent row (events, derived state, deadlines) of subject ref
 * `subject`, inside the caller's transaction when a pv_vault_begin batch is
 * open, else in its own. pv_subject_erase already removes a vault subject's
 * consent rows in its transaction; this call is for device refs (and for
 * removing a subject's ledger alone). *removed (may be NULL) = events removed. No de-identified
 * proof is kept (the policy format has no setting that allows it). Audited as
 * "consent.erase".
 */
int pv_consent_erase(pv_vault *v, const pv_caller *caller, const char *subject, size_t *removed);

#ifdef __cplusplus
}
#endif
#endif
