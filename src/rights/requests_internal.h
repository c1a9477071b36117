/*
 * src/rights (requests part, issue 6): helpers shared by request.c, state.c,
 * deadline.c, verify.c and report.c.
 */
#ifndef PV_RIGHTS_REQUESTS_INTERNAL_H
#define PV_RIGHTS_REQUESTS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "privault/outbox.h"
#include "privault/rights.h"
#include "vault/vault_internal.h"

/* A request row with the columns only this module sees. */
typedef struct {
	pv_request r;
	char id_kind[33];
	uint8_t id_bi[32];
	int has_bi;
	uint8_t code_hash[32];
	int has_code;
	pv_time code_expires;
	int64_t code_attempts;
	int64_t next_seq;       /* next history seq when known (a new request), else 0: read MAX(seq) */
} pv_rq_row;

/* 0 when caller is valid (name set); writers: admin or service; PV_EDENIED naming `what`. */
int pv_rq_caller(const pv_caller *caller, int write, const char *what);
/* Load request `id` (PV_ENOTFOUND). row->r.details malloc'd: pv_request_clear(&row->r). */
int pv_rq_load(pv_vault *v, const char *id, pv_rq_row *row);
/* Write back the mutable columns of row (inside a transaction). */
int pv_rq_update(pv_vault *v, const pv_rq_row *row);
/* Append the history row and the audit entry for row's move to `to` and set its state
 * (closed_at for final states) - inside a transaction; the caller then pv_rq_update()s. */
int pv_rq_move(pv_vault *v, const pv_caller *caller, pv_rq_row *row, pv_request_state to, const char *reason);
/* A same-state event of the history and audit ("extended", "fee_charged", "code_sent"...). */
int pv_rq_event(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *event, const char *reason);
/* Queue an email about row to the requester at `to` through the outbox (topic and subject line
 * name the message; body is copied by the outbox) - inside a transaction (state.c). */
int pv_rq_mail(pv_vault *v, const pv_caller *caller, const pv_rq_row *row, const char *to, const char *topic,
	       const char *mail_subject, const char *body);
/* 1 for completed, partially_completed, refused, withdrawn, expired. */
int pv_rq_final(pv_request_state s);
/* Reason codes: ^[a-z][a-z0-9_]{0,63}$. */
int pv_rq_reason_valid(const char *s);
/* Deadlines of a request received at `at` under regime r (deadline.c). */
int pv_rq_deadlines(const pv_policy *p, pv_regime r, pv_time at, pv_time *ack_due, pv_time *due_at);
/* Checks made on entering verified (quota, parent); may move row to refused (state.c). */
int pv_rq_on_verified(pv_vault *v, const pv_caller *caller, pv_rq_row *row);
/* Blind index of an intake identifier (normalized). */
int pv_rq_blind(pv_vault *v, const char *kind, const char *value, uint8_t out[32]);
/* 1 when (kind, value) is the identifier given at intake of row (constant-time), 0 when not,
 * or a PV_E* code (malformed value). */
int pv_rq_intake_matches(pv_vault *v, const pv_rq_row *row, const char *kind, const char *value);
/* Issue a code for row and queue it to (kind, value) through the outbox; inside a batch (verify.c). */
int pv_rq_code_issue(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *value);
/* Open a batch for an operation that queues outbox messages, or join the caller's (*own = 0). */
int pv_rq_batch_begin(pv_vault *v, int *own);
/* Commit/roll back what pv_rq_batch_begin opened (own), or pass rc to the caller's batch. */
int pv_rq_batch_end(pv_vault *v, int own, int rc);

#endif
