/*
 * privault retention: the sweeper that removes records whose retention has
 * ended, and the legal holds that stop it.
 *
 * A record's expiry (expires_at) is set when it is stored, from the retention
 * rule of the policy version it is collected under (pv_policy_retention_for).
 * The sweeper walks records with expires_at <= now and applies that version's
 * rule action: delete, or anonymize (the ciphertext is deleted and only a
 * de-identified count by category, purpose, source and month of collection
 * is kept). Records that an active legal hold covers, and records of a
 * restricted subject, are never swept. A subject left with no records and no
 * hold naming it is erased through pv_subject_erase (data key destroyed,
 * suppression entries, tombstone). docs/retention.md.
 *
 * Holds and sweeps are administrative: they need an admin caller; an auditor
 * may list and read holds. Every action is audited.
 */
#ifndef PRIVAULT_RETENTION_H
#define PRIVAULT_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "privault/policy.h"
#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- legal holds ------------------------------------------------------ */

/* A hold's reason: printable text, never personal data (a case or matter number, not a name). */
#define PV_HOLD_REASON_MAX 256

/*
 * What a new hold covers: every set field must match (a combination narrows
 * it); at least one must be set.
 */
typedef struct {
	const char *subject_id;   /* this subject's records; NULL = every subject */
	const char *category;     /* records of this category; NULL = every category */
	pv_time from;             /* records collected at or after `from`; 0 = no lower bound */
	pv_time to;               /* records collected before `to`; 0 = no upper bound */
	const char *reason;       /* required, 1..PV_HOLD_REASON_MAX bytes, printable, no '@' */
} pv_hold_spec;

typedef struct {
	char id[PV_ID_LEN + 1];
	char subject_id[PV_ID_LEN + 1];     /* "" = every subject */
	char category[PV_ID_MAX_LEN + 1];   /* "" = every category */
	pv_time from, to;                   /* 0 = open */
	char reason[PV_HOLD_REASON_MAX + 1];
	char created_by[129];
	pv_time created_at;
	char released_by[129];              /* "" while active */
	pv_time released_at;                /* 0 while active */
} pv_hold;

/*
 * Create a hold (admin). The subject, when given, must exist and not be
 * erased; the category, when given, must be one the current policy declares.
 * Audited as "hold.create" with outcome "ok:hold=<id>". out_id receives the
 * new hold's id (a UUID).
 */
int pv_hold_create(pv_vault *v, const pv_caller *caller, const pv_hold_spec *spec, char out_id[PV_ID_LEN + 1]);

/* Release an active hold (admin); audited "hold.release". PV_ENOTFOUND if no such active hold. */
int pv_hold_release(pv_vault *v, const pv_caller *caller, const char *hold_id);

/* One hold by id (admin or auditor). PV_ENOTFOUND if unknown. */
int pv_hold_get(pv_vault *v, const pv_caller *caller, const char *hold_id, pv_hold *out);

/*
 * Holds, oldest first (admin or auditor): active ones only, or released ones
 * too with include_released. *out is malloc'd (free() it); *count may be 0
 * with *out NULL.
 */
int pv_hold_list(pv_vault *v, const pv_caller *caller, int include_released, pv_hold **out, size_t *count);

/* ---- the sweeper ------------------------------------------------------ */

/* Records removed per transaction by default, and the largest batch allowed. */
#define PV_SWEEP_DEFAULT_BATCH 50000
#define PV_SWEEP_MAX_BATCH 100000

typedef struct {
	int dry_run;      /* 1: report what would go, write nothing (not even an audit entry) */
	pv_time now;      /* the sweep's "now"; 0 = pv_clock_now(); later than the clock only in a dry run */
	size_t batch;     /* records per transaction; 0 = PV_SWEEP_DEFAULT_BATCH */
	size_t purge;     /* then purge at most this many destroyed rows (pv_retention_purge); 0 = none,
			     PV_SWEEP_PURGE_ALL = all */
} pv_sweep_options;

#define PV_SWEEP_PURGE_ALL ((size_t)-1)
/* Rows deleted per purge transaction. */
#define PV_SWEEP_PURGE_CHUNK 10000

/* Records removed (or that would be) for one category x purpose x action. */
typedef struct {
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	pv_retention_action action;
	int64_t records;
} pv_sweep_count;

typedef struct {
	int dry_run;
	pv_time now;
	int64_t deleted;              /* records deleted (or that would be) */
	int64_t anonymized;           /* records anonymized (or that would be) */
	int64_t kept;                 /* expired records kept by a legal hold or a restriction */
	int64_t subjects_erased;      /* subjects erased (or that would be) */
	int64_t destroyed;            /* of deleted + anonymized: records whose epoch key was destroyed */
	int64_t purged;               /* rows of destroyed records deleted afterwards (opts->purge) */
	int64_t batches;              /* transactions committed */
	pv_sweep_count *counts;       /* by category, purpose, action, sorted */
	size_t ncounts;
	char (*erased)[PV_ID_LEN + 1];   /* the subjects erased (or that would be), sorted */
	size_t nerased;
	int skipped;                  /* 1: another sweep was running, this one did nothing (PV_SWEEP_SKIPPED) */
} pv_sweep_report;

/*
 * pv_retention_sweep's answer when another sweep (any process, any handle) holds
 * the sweep lock: not an error, nothing was done, *out is an empty report with
 * `skipped` set. A positive code, so `rc < 0` still means failure.
 */
#define PV_SWEEP_SKIPPED 1

/*
 * Sweep (admin). First, in one transaction, every retention epoch that has
 * ended by now is destroyed (docs/retention.md, "Sweeping by key
 * destruction"): its records become unreadable and invisible at once, the
 * few a hold or a restriction keeps are re-sealed first, one
 * "retention.delete" / "retention.anonymize" entry per category x purpose
 * says how many went ("ok:records=<n>,epochs=<a>-<b>", no subject), and the
 * subjects left with nothing are erased. Then the records without an epoch
 * (stored before epochs existed, expiring within two minutes of being stored,
 * or re-sealed for a hold since released) go in batches of opts->batch, each batch one
 * transaction with its audit entries: one "retention.delete" or
 * "retention.anonymize" entry per subject and batch with outcome
 * "ok:records=<n>" (category and purpose set when all n share them), and
 * the "subject.erase" entry of each erasure. A failure rolls back only the
 * batch it happened in; earlier batches stay, the report says how far it got
 * (*out is filled even on failure) and the call returns the error.
 * A real sweep holds the job lock "retention.sweep" of the store for its whole
 * run (pv_store_job_lock: a session advisory lock on PostgreSQL, an flock beside
 * vault.db on SQLite): when another sweep holds it, the call returns
 * PV_SWEEP_SKIPPED at once, having done nothing. A dry run takes no lock.
 * The server calls this on a schedule with its own vault handle.
 * Free *out with pv_sweep_report_free(). opts may be NULL.
 */
int pv_retention_purge(pv_vault *v, const pv_caller *caller, size_t limit, size_t *out_rows);

int pv_retention_sweep(pv_vault *v, const pv_caller *caller, const pv_sweep_options *opts,
		       pv_sweep_report **out);

/* Accepts NULL. */
void pv_sweep_report_free(pv_sweep_report *r);

/* "delete" or "anonymize". */
const char *pv_retention_action_name(pv_retention_action a);

/*
 * The anonymized tallies: de-identified counts of anonymized records by
 * category, purpose, source ("" when none was stated) and month of
 * collection (UTC midnight of the 1st). Admin or auditor; not audited.
 */
int pv_retention_tally_each(pv_vault *v, const pv_caller *caller,
			    int (*cb)(const char *category, const char *purpose, const char *source,
				      pv_time month, int64_t count, void *payload),
			    void *payload);

#ifdef __cplusplus
}
#endif
#endif
