/* privault HTTP (internal): what api_consent.c shares with api_consent_banner.c. */
#ifndef PV_HTTP_API_CONSENT_H
#define PV_HTTP_API_CONSENT_H

#include "http/http.h"
#include "privault/consent.h"

/*
 * Fill ctx with the proof of `req`: source, its User-Agent and full client
 * address (the ledger hashes and truncates them), Sec-GPC, and the body's
 * notice_version and signal when present. Strings are borrowed from req.
 */
void pv_api_consent_context(const pv_http_request *req, pv_consent_source source, pv_consent_context *ctx);

/* The banner script (web/consent.js), embedded at build time (consent_js.c). */
extern const char pv_consent_js[];
extern const unsigned long pv_consent_js_len;

#endif
