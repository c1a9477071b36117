/*
 * privault vault: subjects, identifiers, encrypted records and the access decision.
 *
 * A vault is a directory holding the database (vault.db, SQLite by default) and
 * the key file (privault.key, mode 0600). The master key never enters the database.
 * A pv_vault handle is not thread-safe: open one handle per thread.
 *
 * Every call that touches personal data takes the caller (who is asking) and is
 * audited. Every read of personal data goes through the access decision.
 */
#ifndef PRIVAULT_VAULT_H
#define PRIVAULT_VAULT_H

#include <stddef.h>
#include <stdint.h>

#include "privault/policy.h"
#include "privault/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pv_vault pv_vault;

#define PV_ID_LEN 36          /* subject and record ids: canonical UUIDs */
#define PV_HASH_HEX_LEN 64    /* policy versions: BLAKE2b-256 in hex */
#define PV_ID_MAX_LEN 64      /* category, purpose and source ids */

/* ---- opening ---------------------------------------------------------- */

typedef struct {
	const char *store;      /* store URL; NULL = "sqlite:DIR/vault.db" (PRIVAULT_STORE overrides) */
	const char *key_file;   /* NULL = DIR/privault.key; the PRIVAULT_KEYS variable, when set, wins */
	int checkpoint_every;   /* audit entries between signed checkpoints; 0 = PV_AUDIT_CHECKPOINT_EVERY */
} pv_vault_options;

/*
 * Create a vault in `dir` (created with its missing parents, mode 0700, if
 * missing; must be empty of a vault; on failure every directory made is removed):
 * a new key file with mode 0600, the database with its schema, and the policy
 * at `policy_path` as the first policy version. opts may be NULL.
 * PV_EEXISTS if a vault is already there; PV_EPOLICY if the policy is invalid.
 */
int pv_vault_init(const char *dir, const char *policy_path, const pv_vault_options *opts);

/* Open the vault in `dir`. The caller frees it with pv_vault_close(). opts may be NULL. */
int pv_vault_open(pv_vault **out, const char *dir, const pv_vault_options *opts);

/* Close and free; accepts NULL. Wipes every key held. */
void pv_vault_close(pv_vault *v);

/* ---- callers ---------------------------------------------------------- */

typedef enum {
	PV_ROLE_ADMIN = 0,   /* administrative actions; may read for any declared purpose */
	PV_ROLE_SERVICE,     /* reads and writes only within its grants */
	PV_ROLE_AUDITOR      /* audit, reports and metadata; never personal data */
} pv_role;

/* A grant: `purpose`, limited to `categories` (NULL/0 = every category the purpose covers). */
typedef struct {
	const char *purpose;
	const char *const *categories;
	size_t ncategories;
} pv_grant;

/* Who is asking. `name` is a service or key name (never a person's data); it goes into the audit. */
typedef struct {
	const char *name;
	pv_role role;
	const pv_grant *grants;
	size_t ngrants;
} pv_caller;

/* ---- the access decision ---------------------------------------------- */

typedef enum {
	PV_REASON_ALLOWED = 0,
	PV_REASON_PURPOSE_UNDECLARED,       /* the policy in force for the data declares no such purpose */
	PV_REASON_CATEGORY_UNDECLARED,      /* the policy declares no such category */
	PV_REASON_CATEGORY_NOT_IN_PURPOSE,  /* the purpose does not cover the category */
	PV_REASON_ROLE_FORBIDDEN,           /* the caller's role may never do this (auditor reading data) */
	PV_REASON_NO_GRANT,                 /* the caller holds no grant for purpose x category */
	PV_REASON_SUBJECT_UNKNOWN,          /* no such subject */
	PV_REASON_SUBJECT_ERASED,           /* the subject has been erased */
	PV_REASON_SUBJECT_RESTRICTED,       /* processing is restricted */
	/* consent (issue 5; consent.h): checked after the subject's state */
	PV_REASON_OBJECTED,                 /* the subject objected to the purpose (GDPR art. 21) */
	PV_REASON_SENSITIVE_LIMITED,        /* sensitive category, use limited, purpose not necessary for the service */
	PV_REASON_CONSENT_MISSING,          /* consent-based purpose, no consent event */
	PV_REASON_CONSENT_REFUSED,          /* consent-based purpose, consent refused */
	PV_REASON_CONSENT_WITHDRAWN,        /* consent-based purpose, consent withdrawn */
	PV_REASON_CONSENT_STALE,            /* granted under an older notice; the purpose needs fresh consent */
	PV_REASON_OPTED_OUT,                /* the subject opted out (marketing, sale, sharing; GPC) */
	PV_REASON_CHILD_UNDER_MINIMUM_AGE,  /* younger than the policy's children.minimum_age, no parental consent */
	PV_REASON_PARENTAL_CONSENT_MISSING, /* a consent-based purpose, younger than parental_consent_below,
					     * no parental consent */
	PV_REASON_COUNT
} pv_reason;

typedef enum {
	PV_SUBJECT_ACTIVE = 0,
	PV_SUBJECT_RESTRICTED,
	PV_SUBJECT_ERASED
} pv_subject_state;

typedef struct {
	char id[PV_ID_LEN + 1];
	pv_time created_at;
	pv_regime regime;
	int birth_year;         /* 0 = unknown */
	int parental_consent;   /* 1 if a parent consented */
	pv_subject_state state;
	/* The subject's consent view (consent.h), borrowed; NULL = no consent events.
	 * When the vault fills this struct (pv_subject_get, pv_vault_decide, record
	 * reads) it points at the view of the last subject loaded on this thread:
	 * valid until the next call on this thread that loads a subject. */
	const struct pv_consent_view *consent;
} pv_subject_info;

typedef struct {
	int allow;         /* 1 allow, 0 deny */
	pv_reason reason;  /* PV_REASON_ALLOWED when allowed */
} pv_decision;

/* Stable machine-readable name of a reason: "purpose_undeclared", ... */
const char *pv_reason_name(pv_reason r);

/*
 * The access decision, pure and in process: may `caller` use `subject`'s
 * `category` for `purpose` under `policy` (the version the data was collected
 * under)? Consults, in order: the policy, the caller's role and grants, the
 * subject's state, then consent (subject->consent; rules in docs/consent.md):
 * objection, limitation of sensitive PI, consent in force for consent-based
 * purposes (lawful basis "consent" in the subject's regime, or no basis stated
 * there and mechanism opt_in; fresh under the current notice version when the
 * purpose has fresh_consent_on_change), opt-outs of opt-out purposes
 * (administrative purposes exempt). Allocates nothing, touches no store;
 * fills *out; returns 0.
 */
int pv_access_decide(const pv_policy *policy, const pv_caller *caller, const pv_subject_info *subject,
		     const char *category, const char *purpose, pv_decision *out);

/* The same decision against the vault (subject loaded from the store, current policy), audited. */
int pv_vault_decide(pv_vault *v, const pv_caller *caller, const char *subject_id,
		    const char *category, const char *purpose, pv_decision *out);

/* ---- policy versions -------------------------------------------------- */

/* Load the policy file at `path` as a new version (immutable, by content hash) and make it
 * current. Loading an identical file again is a no-op that returns the same hash. */
int pv_vault_policy_add(pv_vault *v, const pv_caller *caller, const char *path, char out_hash[PV_HASH_HEX_LEN + 1]);

/* The current policy (borrowed; valid until the vault is closed). */
const pv_policy *pv_vault_policy(pv_vault *v);

/* A version by hash (borrowed; valid until the vault is closed). PV_ENOTFOUND if unknown. */
int pv_vault_policy_get(pv_vault *v, const char *hash, const pv_policy **out);

/* ---- subjects --------------------------------------------------------- */

typedef struct {
	const char *kind;    /* email, phone, login, customer_id, ...: ^[a-z][a-z0-9_]{0,31}$ */
	const char *value;   /* normalized before indexing: emails lower-cased, phones E.164 */
} pv_identifier;

typedef struct {
	const pv_identifier *identifiers;
	size_t nidentifiers;
	const char *regime;     /* "gdpr", "ccpa", "lgpd"; NULL = the policy's default regime */
	int birth_year;         /* 0 = unknown */
	int parental_consent;
} pv_subject_spec;

/* Create a subject with its own data key. PV_EEXISTS if an identifier belongs to someone else. */
int pv_subject_create(pv_vault *v, const pv_caller *caller, const pv_subject_spec *spec, char out_id[PV_ID_LEN + 1]);

/* Find a subject by identifier through its keyed blind index. PV_ENOTFOUND if none. */
int pv_subject_find(pv_vault *v, const pv_caller *caller, const char *kind, const char *value, char out_id[PV_ID_LEN + 1]);

/* A subject's metadata (no personal data). PV_ENOTFOUND if unknown. Erased subjects remain as tombstones. */
int pv_subject_get(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_subject_info *out);

/*
 * Erase a subject: destroy its data key first, then delete its records and
 * identifiers, then add a suppression entry of its hashed identifiers. The
 * subject stays as a tombstone in state ERASED with no personal data.
 */
int pv_subject_erase(pv_vault *v, const pv_caller *caller, const char *subject_id);

/* Categories held for a subject, with record counts. Metadata only. */
typedef struct {
	char category[PV_ID_MAX_LEN + 1];
	size_t count;
} pv_category_count;
int pv_subject_categories(pv_vault *v, const pv_caller *caller, const char *subject_id,
			  pv_category_count **out, size_t *count);   /* free *out with free() */

/* ---- records ---------------------------------------------------------- */

typedef struct {
	const char *category;   /* a category id of the current policy */
	const char *purpose;    /* the purpose it was collected for; must cover the category */
	const char *source;     /* a source id of the current policy; NULL = none stated */
	const char *data;       /* a JSON object, UTF-8 */
	size_t len;
} pv_record_spec;

/* Store a record, encrypted with the subject's data key; expiry from the policy's retention rule. */
int pv_record_put(pv_vault *v, const pv_caller *caller, const char *subject_id,
		  const pv_record_spec *spec, char out_id[PV_ID_LEN + 1]);
/* After pv_record_put answered PV_EDENIED on this thread, why: PV_REASON_NO_GRANT, or
 * PV_REASON_CHILD_UNDER_MINIMUM_AGE (a subject younger than the policy's children.minimum_age,
 * by the youngest age the birth year allows, without parental consent: nothing is collected). */
pv_reason pv_record_put_denied_reason(void);

typedef struct {
	char id[PV_ID_LEN + 1];
	char subject_id[PV_ID_LEN + 1];
	char category[PV_ID_MAX_LEN + 1];
	char purpose[PV_ID_MAX_LEN + 1];
	char source[PV_ID_MAX_LEN + 1];
	char policy_version[PV_HASH_HEX_LEN + 1];
	pv_time collected_at;
	pv_time updated_at;
	pv_time expires_at;     /* INT64_MAX: no expiry */
	char *data;             /* decrypted JSON, NUL-terminated, in guarded memory */
	size_t len;
} pv_record;

typedef struct pv_record_list pv_record_list;

/*
 * Read a subject's records for a declared purpose. Each record is decided
 * against the policy version it was collected under; only allowed records are
 * decrypted and returned. If no record is allowed and at least one was denied,
 * returns PV_EDENIED and, when `denied` is not NULL, the first denial's decision.
 * `category` may be NULL (all) or limit the read to one category.
 * Free the list with pv_record_list_free() (which wipes the plaintext).
 * Lifetime: a list's records and their data stay valid until that free and
 * no longer; other reads on the same handle, and closing the handle, do not
 * touch them (the plaintext sits in a guarded block of the handle's pool that
 * the list keeps a reference to; the free wipes it and returns it to the pool).
 * A list may be freed on another thread than the handle's.
 */
int pv_record_read(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *purpose,
		   const char *category, pv_record_list **out, pv_decision *denied);
size_t pv_record_list_count(const pv_record_list *l);
const pv_record *pv_record_list_at(const pv_record_list *l, size_t i);
size_t pv_record_list_denied(const pv_record_list *l);  /* records withheld by the decision */
void pv_record_list_free(pv_record_list *l);

/* Replace a record's data (rectification). The audit names the top-level fields that changed, never values. */
int pv_record_rectify(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *record_id,
		      const char *data, size_t len);

/* ---- batches and keys ------------------------------------------------- */

/* Group writes into one transaction (bulk import). Nothing is visible until commit; rollback leaves nothing. */
int pv_vault_begin(pv_vault *v);
int pv_vault_commit(pv_vault *v);
int pv_vault_rollback(pv_vault *v);

/*
 * Relaxed durability (appended by the HTTP performance engineer, issue 3).
 *
 * pv_vault_begin_ex(v, PV_TX_RELAXED) opens a batch like pv_vault_begin whose
 * commit may be relaxed: it is atomic and reaches the operating system before
 * pv_vault_commit_ex returns (a crash or kill -9 of the process loses
 * nothing), but it does not wait for stable storage, so an OS crash or power
 * loss can lose it until the next durable commit or pv_vault_sync() (SQLite:
 * synchronous=NORMAL in WAL mode for that commit; PostgreSQL: SET LOCAL
 * synchronous_commit = off). Use it only for batches of reads, whose only
 * writes are their audit entries. The store checks that: a relaxed batch that
 * wrote anything besides audit entries is committed durably anyway, and
 * *out_relaxed says so. flags 0 is pv_vault_begin.
 *
 * pv_vault_commit_ex: as pv_vault_commit; *out_relaxed (may be NULL) = 1 when
 * the commit was relaxed (not yet on stable storage), 0 when durable.
 *
 * pv_vault_sync: outside a batch, make every commit so far durable (one fsync
 * of the SQLite WAL; on PostgreSQL one synchronous commit). Callers that use
 * relaxed batches call it within a bounded time after one (the server: every
 * read_sync_ms, 50 ms by default) and before closing.
 */
#define PV_TX_RELAXED 0x1u
int pv_vault_begin_ex(pv_vault *v, unsigned flags);
int pv_vault_commit_ex(pv_vault *v, int *out_relaxed);
int pv_vault_sync(pv_vault *v);

/* Rotate the master key: a new key version is added to the key file and every data key
 * is rewrapped with it; records are not rewritten. */
int pv_vault_key_rotate(pv_vault *v, const pv_caller *caller, uint32_t *out_version, size_t *out_rewrapped);

/* ---- counts (added by the CLI/import engineer for `privault status`; implemented in src/vault/stats.c) ---- */

typedef struct {
	char vault_id[PV_ID_LEN + 1];   /* the vault's own id (meta "vault_id"); "" when unset */
	char backend[16];               /* "sqlite", ... */
	int64_t subjects;               /* subjects holding a data key (active or restricted; erased tombstones excluded) */
	int64_t records;                /* records stored */
	int64_t audit_entries;          /* audit chain length (head seq) */
	uint32_t key_version;           /* current master key version */
} pv_vault_stats;

/* Counts for `privault status`: metadata only, not audited. 0 or a PV_E* code. */
int pv_vault_stats_get(pv_vault *v, pv_vault_stats *out);

/* ---- restriction (appended by the fulfilment engineer, issue 6; src/vault/restrict.c) ---- */

/*
 * Restrict processing of a subject (on = 1: state RESTRICTED, the decision
 * denies reads and the sweeper leaves its records) or lift it (on = 0: ACTIVE).
 * Admin or service; audited ("subject.restrict" / "subject.unrestrict").
 * PV_EERASED for an erased subject; setting the state it already has is a no-op (audited).
 */
int pv_subject_restrict(pv_vault *v, const pv_caller *caller, const char *subject_id, int on);

#ifdef __cplusplus
}
#endif
#endif
