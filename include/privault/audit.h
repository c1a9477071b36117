/*
 * privault audit: a tamper-evident hash chain of every write, read, decision
 * and administrative action, with Ed25519-signed checkpoints. No personal data
 * is ever written to it: subject ids are random UUIDs, never identifiers.
 */
#ifndef PRIVAULT_AUDIT_H
#define PRIVAULT_AUDIT_H

#include <stdint.h>

#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_AUDIT_HASH_LEN 32

typedef struct {
	int64_t seq;                   /* 1, 2, 3, ... without gaps */
	pv_time at;
	char actor[129];               /* caller name: a service or key name */
	char action[65];               /* e.g. "record.put", "record.read", "decision", "subject.erase" */
	char subject_id[PV_ID_LEN + 1];  /* "" when none */
	char purpose[PV_ID_MAX_LEN + 1];
	char category[PV_ID_MAX_LEN + 1];
	char outcome[65];              /* "ok", "allow", "deny:<reason>", "error:<code name>" */
	uint8_t prev_hash[PV_AUDIT_HASH_LEN];
	uint8_t hash[PV_AUDIT_HASH_LEN];  /* BLAKE2b-256(prev_hash || canonical encoding of the fields) */
} pv_audit_entry;

typedef struct {
	int ok;                        /* 1 if the whole chain verified */
	int64_t entries;               /* entries checked */
	int64_t checkpoints;           /* signed checkpoints checked */
	int64_t first_bad_seq;         /* first bad sequence number, 0 when ok */
	char reason[160];              /* what was wrong there: "hash mismatch", "missing entry", ... */
} pv_audit_report;

/*
 * Walk the whole chain: recompute every hash, check that sequence numbers run
 * without gaps and each entry links to the one before, and check every signed
 * checkpoint's signature and that it matches the chain (a checkpoint beyond the
 * last entry means entries were cut off the end). Returns 0 when the chain
 * verifies, PV_ETAMPER when it does not (report filled either way).
 */
int pv_audit_verify(pv_vault *v, pv_audit_report *out);

/* Append a signed checkpoint of the current head now. *out_seq = the seq it covers. */
int pv_audit_checkpoint(pv_vault *v, const pv_caller *caller, int64_t *out_seq);

/* The checkpoint signing public key (Ed25519), hex, for export to verifiers. */
int pv_audit_public_key(pv_vault *v, char out_hex[65]);

/* Visit entries with seq >= from, at most `limit` (0 = all), in order; a non-zero return from cb stops. */
int pv_audit_list(pv_vault *v, int64_t from, int64_t limit,
		  int (*cb)(const pv_audit_entry *e, void *payload), void *payload);

#ifdef __cplusplus
}
#endif
#endif
