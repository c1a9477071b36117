/*
 * privault audit (internal): appending to the chain. The public side
 * (verify, checkpoint, list, public key) is in include/privault/audit.h.
 *
 * Appends happen inside the caller's store transaction, so a committed write
 * always has its audit entry and a rolled-back one leaves none. The chain head
 * (seq, hash) is cached; after a rollback call pv_audit_forget() so the next
 * append reloads the head from the store.
 */
#ifndef PV_AUDIT_INTERNAL_H
#define PV_AUDIT_INTERNAL_H

#include "crypto/crypto.h"
#include "privault/audit.h"
#include "store/store.h"

typedef struct pv_audit pv_audit;

int pv_audit_open(pv_audit **out, pv_store *s, const pv_keyring *k, int checkpoint_every);
void pv_audit_close(pv_audit *a);   /* accepts NULL */

/*
 * Append one entry; any of subject_id, purpose, category may be NULL. A signed
 * checkpoint is added after every `checkpoint_every` entries. Never pass
 * personal data: actor is a service name, outcome a code.
 */
int pv_audit_append(pv_audit *a, const char *actor, const char *action, const char *subject_id,
		    const char *purpose, const char *category, const char *outcome);

/* Drop the cached head (after a rollback). */
void pv_audit_forget(pv_audit *a);

/* Sign a checkpoint of the current head now (inside the caller's transaction). */
int pv_audit_checkpoint_now(pv_audit *a, int64_t *out_seq);

/* The hash of one entry given its fields and prev_hash (used by append and verify). */
void pv_audit_entry_hash(const pv_audit_entry *e, uint8_t out[PV_AUDIT_HASH_LEN]);

/* Verify the chain in `s` against checkpoints signed by `pk` (NULL = accept each checkpoint's own key). */
int pv_audit_verify_store(pv_store *s, const uint8_t *pk, pv_audit_report *out);

#endif
