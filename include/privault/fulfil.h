/*
 * privault fulfilment: carrying out a verified data-subject request.
 *
 *  - the disclosure ledger: each disclosure of a subject's data to a policy
 *    recipient (categories, purpose, sale/sharing, time), listed per subject
 *    over the regime's lookback (12 months by default);
 *  - access and portability packages: a directory with package.json (schema
 *    in docs/rights.md "Package format"), CSV files and index.html, the data
 *    decrypted only through the access decision under the purpose
 *    PV_FULFIL_PURPOSE, which the policy must declare over the categories it
 *    lets subjects obtain (a plain purpose of the policy: the decision stays
 *    pure);
 *  - erasure with the policy's exceptions evaluated per category (legal holds,
 *    retention required by law, open contracts, published or documentation
 *    data): when nothing is kept the subject is crypto-shredded
 *    (pv_subject_erase: key destroyed, rows deleted, suppression entries),
 *    otherwise only the records that no exception keeps are deleted; recipients
 *    with an erasure_webhook are notified through the outbox (signed
 *    webhooks), in the same transaction;
 *  - the suppression journal: every full erasure also appends a signed line
 *    (kind, blind index, time; Ed25519 with the vault's sign key) to
 *    DIR/suppression.journal beside the database, so that after restoring an
 *    old backup pv_fulfil_replay_suppressions() erases again whoever the backup
 *    brought back.
 *
 * Messages and audit entries carry ids and category names, never values.
 */
#ifndef PRIVAULT_FULFIL_H
#define PRIVAULT_FULFIL_H

#include <stddef.h>
#include <stdint.h>

#include "privault/policy.h"
#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The purpose under which packages decrypt data; the policy declares it. */
#define PV_FULFIL_PURPOSE "data_subject_request"
#define PV_FULFIL_MAX_CATEGORIES 64   /* categories of one disclosure */

/* ---- disclosure ledger ------------------------------------------------ */

typedef struct {
	const char *recipient;                 /* a recipient id of the current policy */
	const char *const *categories;         /* category ids the recipient got (1..64) */
	size_t ncategories;
	const char *purpose;                   /* a purpose id of the current policy */
	int sale;                              /* 1 if this disclosure is a sale (CCPA) */
	int sharing;                           /* 1 if it is sharing for cross-context advertising */
	pv_time at;                            /* when; 0 = now */
} pv_disclosure_spec;

/* Record a disclosure of subject_id's data; audited ("disclosure.record"). Admin or service. */
int pv_disclosure_record(pv_vault *v, const pv_caller *caller, const char *subject_id,
			 const pv_disclosure_spec *spec, char out_id[PV_ID_LEN + 1]);

typedef struct {
	char id[PV_ID_LEN + 1];
	char recipient[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	char categories[1024];                 /* comma-separated ids */
	int sale, sharing;
	pv_time at;
} pv_disclosure;

/*
 * A subject's disclosures with at >= since (0 = the regime's lookback before
 * now: lookback_months, 12 when unset), oldest first. *out freed with free().
 * Any caller that may see metadata; audited ("disclosure.list").
 */
int pv_disclosure_list(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_time since,
		       pv_disclosure **out, size_t *count);

/* ---- packages -------------------------------------------------------- */

typedef enum {
	PV_PACKAGE_ACCESS = 0,       /* everything the right to know covers */
	PV_PACKAGE_PORTABILITY = 1   /* the data the subject provided (source "subject" or none stated), JSON/CSV */
} pv_package_kind;

typedef struct {
	size_t records;              /* records included */
	size_t withheld;             /* records the decision withheld */
	size_t categories;           /* categories with data */
	size_t disclosures;          /* disclosures in the lookback */
} pv_package_summary;

/*
 * Write subject_id's package into directory `dir` (created, mode 0700; must
 * not exist or be empty): package.json, records.csv, disclosures.csv,
 * categories.csv and (access only) index.html. The data is read with
 * pv_record_read under PV_FULFIL_PURPOSE (PV_EPOLICY naming the purpose when the
 * policy does not declare it). Admin callers, or a service granted
 * PV_FULFIL_PURPOSE (its grant bounds the categories read). Audited ("package.write").
 * On failure the files written so far are removed.
 */
int pv_package_write(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_package_kind kind,
		     const char *dir, pv_package_summary *out);

/* The same package.json document in memory (*out malloc'd, NUL-terminated; free()). */
int pv_package_json(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_package_kind kind,
		    char **out, size_t *len, pv_package_summary *summary);

/* ---- erasure ---------------------------------------------------------- */

typedef struct {
	char category[PV_ID_MAX_LEN + 1];
	size_t records;              /* records of the category before */
	size_t kept;                 /* records kept */
	char exception[PV_ID_MAX_LEN + 1];  /* the exception id that keeps them ("legal_hold" for holds), "" when erased */
	const char *kind;            /* "required_by_law", ..., "legal_hold"; NULL when erased (static string) */
} pv_erasure_item;

typedef struct {
	int full;                    /* 1: the subject was crypto-shredded (nothing kept) */
	size_t deleted;              /* records deleted */
	size_t kept;                 /* records kept under an exception */
	size_t notified;             /* webhook notices queued */
	pv_erasure_item *items;      /* one per category held */
	size_t nitems;
} pv_erasure_report;

/*
 * Erase subject_id as a deletion request: evaluate the policy's exceptions per
 * record (an exception keeps a record when its categories contain the
 * record's category and its purposes contain the record's purpose or "*", and,
 * when it has a duration, collected_at + duration is still ahead; an active
 * legal hold covering the record keeps it too; records are read only for the
 * categories some exception or hold names). Everything in one transaction:
 * delete (or crypto-shred, below), suppress, queue notices, audit
 * ("fulfil.erase", outcome "ok:deleted=N,kept=M,full=0|1"). Inside no
 * pv_vault_begin batch of the caller. Admin callers. Free with pv_erasure_report_free.
 */
int pv_fulfil_erase(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_erasure_report *out);
void pv_erasure_report_free(pv_erasure_report *r);   /* frees the items; accepts NULL */

/*
 * A full erasure crypto-shreds at once (key, identifiers, consent rows,
 * suppression, state ERASED: the records are unreadable from that commit on)
 * and queues the subject's record rows for deletion, so that it takes the same
 * time whatever the number of records. pv_fulfil_purge deletes the rows of up
 * to `limit` (0 = 100) queued subjects, one transaction and one audit entry
 * ("fulfil.purge") each; *out_records (may be NULL) = rows deleted. Run by
 * `privault fulfil erase` right after the erasure, by `privault fulfil purge`
 * and by `privault outbox deliver`. Admin callers.
 */
int pv_fulfil_purge(pv_vault *v, const pv_caller *caller, size_t limit, size_t *out_records);

/* ---- suppression journal and restore ---------------------------------- */

typedef struct {
	size_t lines;                /* valid journal lines read */
	size_t suppressed;           /* suppression entries (re)inserted */
	size_t reerased;             /* subjects erased again (they came back with a backup) */
	size_t reregistered;         /* live subjects with a suppressed identifier created after the
				      * erasure: the person registered again; left alone */
} pv_replay_report;

/*
 * Replay the suppression journal (`journal` NULL = DIR/suppression.journal):
 * verify each line's signature (PV_ECRYPTO naming the line on a bad one,
 * nothing changed), insert the suppression entries the store lacks, and erase
 * every live subject holding a suppressed identifier and created before the
 * erasure (pv_subject_erase; audited "suppression.replay" per subject). A
 * subject created after it is a new registration and is left alone. Admin only.
 */
int pv_fulfil_replay_suppressions(pv_vault *v, const pv_caller *caller, const char *journal,
				  pv_replay_report *out);

/*
 * `privault restore BACKUP DIR`: copy the database file BACKUP (an SQLite file
 * made by `privault store backup` or a copy of vault.db) over DIR/vault.db
 * (the vault must not be open elsewhere), then open it and replay the journal.
 */
int pv_fulfil_restore(const char *backup_db, const char *dir, const pv_caller *caller, pv_replay_report *out);

/* ---- the entry point of the requests module --------------------------- */

/* What to do; the requests module fills it from its verified request. */
typedef struct {
	pv_policy_request type;      /* the request type */
	const char *subject_id;
	const char *request_id;      /* for the audit and notices; may be NULL */
	const char *package_dir;     /* access/portability: where to write; NULL = no files (summary only) */
	const char *record_id;       /* rectification: the record */
	const char *data;            /* rectification: the new JSON */
	size_t len;
	const char *purpose;         /* objection, withdrawal: the purpose; NULL = see pv_fulfil_run */
} pv_fulfil_order;

typedef struct {
	pv_policy_request type;
	pv_package_summary package;  /* access, portability */
	pv_erasure_report erasure;   /* deletion (free with pv_fulfil_result_free) */
	int partial;                 /* 1 when complied with only in part (deletion with records kept) */
} pv_fulfil_result;

/*
 * Carry out a verified request: access/portability -> pv_package_write (or
 * pv_package_json when package_dir is NULL); deletion -> pv_fulfil_erase;
 * rectification -> pv_record_rectify; restriction -> pv_subject_restrict(on);
 * the others are consent-ledger events, source "request", one receipt, which
 * the access decision then enforces:
 *   objection        -> "objected" for order->purpose, or (NULL) for every
 *                       purpose whose lawful basis under the subject's regime
 *                       is legitimate_interests or public_task, and every
 *                       marketing purpose;
 *   opt_out          -> "opted_out" for every sale or sharing purpose;
 *   limit_sensitive  -> "limited" for purpose ref "*";
 *   withdraw_consent -> "withdrawn" for order->purpose, or (NULL) every opt_in purpose.
 * PV_EPOLICY when the policy has no purpose the request applies to.
 * Admin callers. out may be NULL for types without a result.
 */
int pv_fulfil_run(pv_vault *v, const pv_caller *caller, const pv_fulfil_order *order, pv_fulfil_result *out);
void pv_fulfil_result_free(pv_fulfil_result *r);   /* accepts NULL */

#ifdef __cplusplus
}
#endif
#endif
