/*
 * privault error handling.
 *
 * Every library call returns 0 on success or a negative PV_E* code. The
 * one-line message describing the last failure on the calling thread is
 * available from pv_error_last() until the next failing call on that thread.
 * Messages never contain personal data or key material: they name fields,
 * line numbers and identifiers of the vault's own (subject ids, record ids),
 * never values.
 */
#ifndef PRIVAULT_ERROR_H
#define PRIVAULT_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	PV_OK = 0,
	PV_ERROR = -1,       /* generic failure; see the message */
	PV_ENOMEM = -2,      /* out of memory */
	PV_EINVAL = -3,      /* bad argument or bad input: the message names the field */
	PV_ENOTFOUND = -4,   /* no such subject, record, key version, ... */
	PV_EEXISTS = -5,     /* already exists (identifier taken, vault already initialized) */
	PV_EDENIED = -6,     /* the access decision denied the operation */
	PV_ECRYPTO = -7,     /* authentication failed: tampered or misplaced ciphertext, wrong key */
	PV_ESTORE = -8,      /* the storage backend failed */
	PV_EIO = -9,         /* file or system I/O failed */
	PV_ELIMIT = -10,     /* input exceeds a limit of src/core/limits.h */
	PV_EERASED = -11,    /* the subject has been erased */
	PV_EPOLICY = -12,    /* the policy is invalid or does not allow this */
	PV_ETAMPER = -13,    /* the audit trail failed verification */
	PV_EKEY = -14        /* key material missing, malformed or unusable */
} pv_error_code;

/* The message of the last failing call on this thread ("" if none). Borrowed. */
const char *pv_error_last(void);

/* The code of the last failing call on this thread (PV_OK if none). */
int pv_error_last_code(void);

/* Clear the thread's last error. */
void pv_error_clear(void);

/* A short constant name for a code, e.g. "PV_ENOTFOUND". */
const char *pv_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
