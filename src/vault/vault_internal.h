/*
 * privault vault (internal): the handle, and what other modules (audit,
 * import) may reach inside it. Only src/vault/ defines struct pv_vault.
 */
#ifndef PV_VAULT_INTERNAL_H
#define PV_VAULT_INTERNAL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "audit/audit.h"
#include "crypto/crypto.h"
#include "privault/vault.h"
#include "store/store.h"

/* ---- accessors for other modules (audit_api.c, import) ---- */

/* The vault's store, audit chain and keyring (borrowed; valid until pv_vault_close). */
pv_store *pv_vault_store(pv_vault *v);
pv_audit *pv_vault_audit(pv_vault *v);
const pv_keyring *pv_vault_keyring(pv_vault *v);

/*
 * Append one administrative audit entry (no subject, purpose or category) in
 * its own transaction, or inside the caller's pv_vault_begin() batch when one
 * is open. Validates the caller. 0 or a PV_E* code.
 */
int pv_vault_audit_action(pv_vault *v, const pv_caller *caller, const char *action, const char *outcome);

/*
 * Forget (and wipe) the subject row and data key that a pv_vault_begin()
 * batch caches for repeated pv_record_put() calls to one subject. The vault
 * does this itself at commit, rollback, erasure, key rotation and close; a
 * module that changes a subject's state or key through the store directly,
 * inside a batch, must call it too.
 */
void pv_vault_put_cache_wipe(pv_vault *v);

/*
 * (Declared here by the retention engineer, issue 7, for modules outside
 * src/vault that write through the store: the same transaction helpers as
 * below.) pv_vault_tx_begin joins the caller's pv_vault_begin() batch when
 * one is open; pv_vault_tx_end commits when rc == 0, else rolls back keeping
 * the message (inside a batch: marks it failed). Returns rc or the commit's error.
 */
int pv_vault_tx_begin(pv_vault *v);
int pv_vault_tx_end(pv_vault *v, int rc);

/*
 * (For the retention sweep, src/retention.) Erase a subject like
 * pv_subject_erase, leaving its record rows to the retention purge when
 * !delete_rows (they are sealed under destroyed epochs). Re-seal one record
 * under its subject's data key alone (key_epoch 0), inside the caller's
 * transaction, so that it survives the destruction of its epoch (a hold or a
 * restriction keeps it).
 */
int pv_vault_subject_erase(pv_vault *v, const pv_caller *caller, const char *subject_id, int delete_rows);
int pv_vault_record_reseal(pv_vault *v, const char *subject_id, const char *record_id);
/* (Re-)read the retention epoch watermark and frontier (vault/epochs.c), creating them when the
 * vault has none and `create` (a record put); without `create` a vault without them has
 * watermark -1 (pv_vault_epochs_watermark) and nothing sealed under an epoch. */
int pv_vault_epochs_read(pv_vault *v, int create);
int64_t pv_vault_epochs_watermark(pv_vault *v);
/* Destroy every epoch below `watermark`, inside the caller's transaction (the sweep). */
int pv_vault_epochs_advance(pv_vault *v, int64_t watermark);

/* ---- inside src/vault/ only ---- */

#ifdef PV_VAULT_PRIVATE

#define PV_VAULT_PATH_MAX 4096

/* One loaded policy version; every version stays loaded until the vault closes
 * (pv_vault_policy_get hands out borrowed pointers). */
typedef struct {
	char hash[PV_HASH_HEX_LEN + 1];
	pv_policy *policy;
} pv_vault_policy_slot;

struct pv_vault {
	char dir[PV_VAULT_PATH_MAX];
	char key_path[PV_VAULT_PATH_MAX];
	pv_store *store;
	pv_keyring *keys;
	pv_audit *audit;
	pv_vault_policy_slot *policies;   /* cache of loaded versions, by hash */
	size_t npolicies, cappolicies;
	size_t current;                   /* index of the current version in policies */
	uint8_t *dek;                     /* guarded scratch for the data key in use; wiped after each operation */
	char *norm;                       /* guarded scratch for one normalized identifier (PV_IDENT_VALUE_MAX + 1) */
	int batch;                        /* 1 inside pv_vault_begin() */
	/* inside a batch: the subject of the last create or put and its data key, for the next put */
	int put_cached;                   /* put_subj and put_dek are valid in store transaction put_tx */
	uint64_t put_tx;
	pv_subject_info put_subj;
	uint8_t *put_dek;                 /* guarded, PV_DEK_LEN */
	pv_time put_until;                /* the cached subject's records_until is at least this (0: unknown) */
	int batch_failed;                 /* a write failed midway inside the batch: commit refuses */
	struct pv_vault_arena *arena;     /* guarded blocks reused by reads (arena.c); record lists hold a reference */
	struct pv_vault_epochs *epochs;   /* retention epoch keys (epochs.c) */
};

/* ---- retention epoch keys (epochs.c, docs/retention.md "Sweeping by key destruction") ---- */
#define EPOCH_CACHE 16
typedef struct pv_vault_epochs pv_vault_epochs;
int pv_vault_epochs_new(pv_vault_epochs **out);
void pv_vault_epochs_free(pv_vault_epochs *e);   /* wipes; accepts NULL */
/* The epoch a record expiring at expires_at is sealed under when stored at `now`; 0 = none
 * (no expiry, or one too close to now: the data key alone). */
int64_t pv_vault_epoch_for(pv_time expires_at, pv_time now);
/* The key a record of key_epoch is sealed with: dek itself for epoch 0, else the epoch's key
 * combined with dek in guarded scratch (wiped by pv_vault_dek_wipe). PV_ENOTFOUND when the
 * epoch is destroyed. */
int pv_vault_record_key(pv_vault *v, int64_t key_epoch, const uint8_t *dek, const uint8_t **out);
void pv_vault_record_key_wipe(pv_vault *v);
/* Forget the handle's frontier and cached keys (after a rollback: it may never have been stored). */
void pv_vault_epochs_forget(pv_vault *v);
/* Rewrap the stored frontier with the current KEK (key rotation). */
int pv_vault_epochs_rewrap(pv_vault *v);

/* Transactions: begin joins the caller's batch when one is open. */
int pv_vault_tx_begin(pv_vault *v);
/* Commit when rc == 0, else roll back (keeping the error message); returns rc or the commit's error. */
int pv_vault_tx_end(pv_vault *v, int rc);

/* Validate a caller (name non-empty and short, role known, grants well formed). */
int pv_vault_caller_check(const pv_caller *caller);
/* PV_EDENIED unless the caller may write (admin, or service). */
int pv_vault_caller_may_write(const pv_caller *caller);
/* 1 when the caller's role and grants allow `purpose` x `category` (category NULL: the purpose alone). */
int pv_vault_caller_granted(const pv_caller *caller, const char *purpose, const char *category);

/*
 * The decision for a read with no record to decide on: like pv_access_decide
 * against `policy`, but `category` may be NULL (then only the purpose, role,
 * grants for the purpose and the subject's state are consulted).
 */
void pv_vault_decide_any(const pv_policy *policy, const pv_caller *caller, const pv_subject_info *subject,
			 const char *category, const char *purpose, pv_decision *out);

/* A policy version by hash from the cache, loading it from the store when needed (borrowed). */
int pv_vault_policy_load(pv_vault *v, const char *hash, const pv_policy **out);
/* The current version's hash (borrowed). */
const char *pv_vault_policy_hash(pv_vault *v);

/* Load a subject's metadata; PV_ENOTFOUND when unknown. */
int pv_vault_subject_load(pv_vault *v, const char *subject_id, pv_subject_info *out);
/* The youngest age a subject's birth year allows today (clock year - birth year - 1, at least 0);
 * -1 when the birth year is unknown. decide.c. */
int pv_vault_child_age(const pv_subject_info *s);
/* 1 when `s` is younger than `policy`'s children.minimum_age without parental consent (decide.c). */
int pv_vault_child_under_minimum(const pv_policy *policy, const pv_subject_info *s);

/* Unwrap a subject's data key into v->dek. PV_EERASED-free: PV_ENOTFOUND when the key row is gone. */
int pv_vault_dek_load(pv_vault *v, const char *subject_id);
/* Wipe v->dek. */
void pv_vault_dek_wipe(pv_vault *v);

/*
 * The batch's cached subject when it is `subject_id` (same open batch, same
 * store transaction): 1 with *out filled and *dek pointing at its data key
 * (borrowed until the next put, commit or rollback), else 0.
 */
int pv_vault_put_cache_get(pv_vault *v, const char *subject_id, pv_subject_info *out, const uint8_t **dek);
/* Remember `subj` and its data key `dek` for the next put, when inside a batch (else nothing). */
void pv_vault_put_cache_set(pv_vault *v, const pv_subject_info *subj, const uint8_t *dek);

/* Copy `s` into an audit field only when it is a valid id (never arbitrary caller text); else NULL. */
const char *pv_vault_audit_id(const char *s);

/*
 * Guarded blocks reused across reads (arena.c): no mmap/mprotect/munmap per
 * read. A pool is shared by its vault handle and the record lists taken from
 * it (reference counted, own mutex); a block given back is wiped first.
 */
typedef struct pv_vault_arena pv_vault_arena;
typedef struct {
	uint8_t *base;   /* the sodium_malloc'd block */
	size_t cap;
	uint8_t *p;      /* the `len` bytes handed out: they end at the block's rear guard page */
	size_t len;
} pv_vault_arena_block;
/* A pool holding one reference; freed with pv_vault_arena_unref(). */
int pv_vault_arena_new(pv_vault_arena **out);
void pv_vault_arena_ref(pv_vault_arena *a);
void pv_vault_arena_unref(pv_vault_arena *a);
/* A block of at least `len` bytes (contents undefined); PV_ENOMEM when none can be had. */
int pv_vault_arena_take(pv_vault_arena *a, size_t len, pv_vault_arena_block *out);
/* Wipe b->len bytes at b->p and keep or free the block; zeroes *b. No-op when b->base is NULL. */
void pv_vault_arena_give(pv_vault_arena *a, pv_vault_arena_block *b);

#endif /* PV_VAULT_PRIVATE */

#endif
