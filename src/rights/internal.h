/*
 * src/rights (fulfilment part, issue 6): helpers shared by disclosure.c,
 * package.c, package_html.c, erasure.c, restore.c, notify.c and outbox.c.
 */
#ifndef PV_RIGHTS_FULFIL_INTERNAL_H
#define PV_RIGHTS_FULFIL_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

#include "privault/fulfil.h"
#include "privault/outbox.h"
#include "vault/vault_internal.h"

/* src/vault's own helpers (vault_internal.h declares them inside src/vault
 * only; the same symbols, used here rather than duplicated). */
int pv_vault_caller_check(const pv_caller *caller);
int pv_vault_caller_may_write(const pv_caller *caller);
int pv_vault_subject_load(pv_vault *v, const char *subject_id, pv_subject_info *out);
const char *pv_vault_audit_id(const char *s);

/* Start of the disclosure lookback for a subject of `regime` (disclosure.c). */
pv_time pv_fulfil_lookback_start(const pv_policy *p, pv_regime regime, pv_time now);

/* The vault's directory (src/vault/restrict.c; borrowed). */
const char *pv_vault_dir_path(pv_vault *v);

/* 0 when the caller is an admin, else PV_EDENIED naming `what`. */
int pv_fulfil_need_admin(const pv_caller *caller, const char *what);

/* Queue erasure notices for every policy recipient with an erasure_webhook
 * (inside the caller's transaction). *queued = how many. (notify.c) */
int pv_fulfil_notify_erasure(pv_vault *v, const pv_caller *caller, const char *subject_id,
			     const char *request_id, size_t *queued);

/* Append one signed line per suppressed identifier to the journal (restore.c). */
typedef struct {
	char kind[33];
	unsigned char bi[32];
} pv_fulfil_ident;
int pv_fulfil_journal_append(pv_vault *v, const pv_fulfil_ident *ids, size_t n, pv_time at);

/* HTML-escape `s` to f (& < > " '). (package_html.c) */
void pv_fulfil_html_escape(FILE *f, const char *s);
/* Write index.html of a package from its document (package_html.c; a json_t *, borrowed). */
int pv_fulfil_html_write(const char *path, void *doc);

#endif
