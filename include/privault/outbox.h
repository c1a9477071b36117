/*
 * privault outbox: messages the vault must send (verification codes to a
 * subject, erasure notices to recipients), queued in the store in the same
 * transaction as the change that caused them and delivered later, with
 * retries, by pv_outbox_deliver() (`privault outbox deliver`, and `privault
 * serve` on a timer).
 *
 * At rest: a message's destination and body are sealed (XChaCha20-Poly1305)
 * with the outbox key, a key derived from the vault's key file (BLAKE2b-256 of
 * the deterministic Ed25519 signature, with the vault's sign key, of
 * "privault-derive/v1" NUL "outbox-seal" NUL), bound to the message id.
 * Once delivered (or given up), the sealed payload is deleted; what stays is
 * metadata only: id, channel, topic, subject id, status, attempts, times and
 * the class of the last error (never a value). Each attempt is also written to
 * the delivery log (outbox_attempts).
 *
 * Senders, chosen by the message's channel:
 *   email   -> the configured mail sender: "file:PATH" (append the message to
 *              PATH, or write one file per message when PATH is a directory;
 *              tests use it) or "command:/usr/sbin/sendmail -t -i" (the program
 *              is run with execvp, arguments split on spaces, no shell; the
 *              message is written to its stdin; exit status 0 = delivered).
 *   webhook -> an HTTP POST of the JSON body to the destination URL (libcurl),
 *              signed: header `Privault-Signature: t=<unix time>,v1=<hex>`
 *              where hex = HMAC-SHA256(secret, "<t>." || body) and `secret` is
 *              the recipient's webhook secret (pv_outbox_webhook_secret). 2xx =
 *              delivered; anything else (or no answer in 10 s) is retried.
 *
 * Retries: after failed attempt n the message waits
 * min(base << (n - 1), max_backoff) seconds; after max_attempts failures it is
 * "failed" (its payload wiped). Times come from the one clock (pv_clock_now /
 * PRIVAULT_NOW) or the `now` given to pv_outbox_deliver.
 */
#ifndef PRIVAULT_OUTBOX_H
#define PRIVAULT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PV_OUTBOX_BODY_MAX (256 * 1024)   /* bytes of a message body */
#define PV_OUTBOX_DEST_MAX 2048           /* bytes of a destination (address or URL) */
#define PV_OUTBOX_SECRET_LEN 32           /* webhook secrets (shown as 64 hex characters) */

typedef enum { PV_OUTBOX_EMAIL = 0, PV_OUTBOX_WEBHOOK = 1 } pv_outbox_channel;

typedef enum {
	PV_OUTBOX_PENDING = 0,     /* waiting for its next attempt */
	PV_OUTBOX_DELIVERED = 1,   /* done; payload wiped */
	PV_OUTBOX_FAILED = 2       /* max_attempts reached; payload wiped */
} pv_outbox_status;

/* "email"/"webhook"; "pending"/"delivered"/"failed"; "?" otherwise. */
const char *pv_outbox_channel_name(pv_outbox_channel c);
const char *pv_outbox_status_name(pv_outbox_status s);

/* A message to queue. Every string is copied; destination and body are sealed at rest. */
typedef struct {
	pv_outbox_channel channel;
	const char *destination;   /* email: an address; webhook: an http(s) URL */
	const char *recipient;     /* webhook: the policy's recipient id (selects the secret); email: NULL */
	const char *topic;         /* what it is, [a-z0-9_.]{1,64}: "verification_code", "erasure_notice" (metadata) */
	const char *subject_id;    /* the subject concerned (metadata), or NULL */
	const char *mail_subject;  /* email: the Subject line (may hold no personal data), or NULL */
	const char *body;          /* email: text; webhook: a JSON document */
	size_t len;
} pv_outbox_message;

/*
 * Queue a message (status pending, due now). Joins the caller's
 * pv_vault_begin() batch when one is open, so the message commits or rolls
 * back with the change that caused it; otherwise one transaction of its own.
 * Audited ("outbox.enqueue", topic as outcome). Admin or service callers.
 * out_id (may be NULL) gets the message id. PV_EINVAL naming the field.
 */
int pv_outbox_enqueue(pv_vault *v, const pv_caller *caller, const pv_outbox_message *m, char out_id[PV_ID_LEN + 1]);

/* How pv_outbox_deliver sends. Zero fields take the defaults. */
typedef struct {
	const char *mail;          /* "file:PATH" or "command:PROG ARGS..."; NULL = PRIVAULT_OUTBOX_MAIL, else email waits */
	int max_attempts;          /* 0 = 8 */
	int64_t backoff_base;      /* seconds; 0 = 60 */
	int64_t backoff_max;       /* seconds; 0 = 6 hours */
	long timeout_ms;           /* per webhook or command; 0 = 10000 */
	const char *webhook_cainfo; /* CA bundle for https webhooks; NULL = PRIVAULT_WEBHOOK_CAINFO or the system's */
} pv_outbox_config;

typedef struct {
	size_t attempted, delivered, retrying, failed;
	size_t skipped;            /* due but no sender configured for their channel */
} pv_outbox_report;

/*
 * Deliver up to `limit` (0 = 100) pending messages due at `now` (0 = the
 * clock), oldest first. Each attempt is committed on its own (status,
 * attempts, next_attempt_at, last_error class, delivered_at, a delivery-log
 * row and an audit entry "outbox.deliver" with outcome "delivered" /
 * "retry:<class>" / "failed:<class>"). cfg may be NULL. Admin callers only.
 * Error classes: "connect", "timeout", "http_4xx", "http_5xx", "exit_status",
 * "spawn", "io", "config", "crypto".
 */
int pv_outbox_deliver(pv_vault *v, const pv_caller *caller, pv_time now, size_t limit,
		      const pv_outbox_config *cfg, pv_outbox_report *out);

/* A message's metadata (never its destination or body). */
typedef struct {
	char id[PV_ID_LEN + 1];
	pv_outbox_channel channel;
	char topic[65];
	char subject_id[PV_ID_LEN + 1];   /* "" when none */
	char recipient[PV_ID_MAX_LEN + 1];/* "" when none */
	pv_outbox_status status;
	int attempts;
	pv_time created_at, next_attempt_at, delivered_at;   /* delivered_at 0 until delivered */
	char last_error[32];              /* class of the last failure, "" when none */
} pv_outbox_entry;

/* Messages, newest first, at most `limit` (0 = 1000); status < 0 = any. *out freed with free(). Any caller. */
int pv_outbox_list(pv_vault *v, const pv_caller *caller, int status, size_t limit,
		   pv_outbox_entry **out, size_t *count);

/*
 * The webhook secret of recipient `recipient_id`, derived from the key file
 * like the outbox key (label "webhook-secret", context the recipient id). Give it to the recipient so
 * it can verify signatures. Admin only; audited ("outbox.secret").
 */
int pv_outbox_webhook_secret(pv_vault *v, const pv_caller *caller, const char *recipient_id,
			     uint8_t out[PV_OUTBOX_SECRET_LEN]);

/*
 * The signature header value for `body` at time `t` with `secret`:
 * "t=<t>,v1=<64 hex>" into out (size >= 100). Pure.
 */
int pv_outbox_sign(char *out, size_t size, const uint8_t secret[PV_OUTBOX_SECRET_LEN], pv_time t,
		   const char *body, size_t len);

/*
 * What a recipient does: 0 when `header` ("t=...,v1=...") is a valid
 * signature of body under secret and |now - t| <= tolerance seconds
 * (tolerance 0 = 300), else PV_ECRYPTO (bad signature, constant-time
 * comparison) or PV_EINVAL (malformed header, too old). Pure.
 */
int pv_outbox_verify(const char *header, const uint8_t secret[PV_OUTBOX_SECRET_LEN], const char *body,
		     size_t len, pv_time now, int64_t tolerance);

#ifdef __cplusplus
}
#endif
#endif
