/*
 * privault HTTP API (internal): the /v1 handlers of routes.c and the small
 * helpers they share. The route table itself (pv_http_api_routes[]) is
 * declared in http.h; everything here is private to src/http.
 */
#ifndef PV_HTTP_API_H
#define PV_HTTP_API_H

#include <jansson.h>
#include <stddef.h>

#include "http/http.h"
#include "privault/time.h"

/* ---- helpers (routes.c) ---- */

/*
 * 1 when `id` is a canonical lower-case UUID; otherwise sets a 404 problem
 * naming `what` ("subject", "record") and returns 0. Ids that cannot exist
 * are answered like unknown ones.
 */
int pv_api_uuid_or_404(pv_http_response *res, const char *id, const char *what);

/*
 * Find query parameter `name` in the raw query string `query` (may be NULL),
 * percent-decoded into out (size bytes, NUL-terminated). Returns 1 when found,
 * 0 when absent, -1 when its value is malformed or too long (out is then "").
 */
int pv_api_query_get(const char *query, const char *name, char *out, size_t size);

/* A JSON string "YYYY-MM-DDThh:mm:ssZ", or null for INT64_MAX (no expiry). New reference. */
json_t *pv_api_time(pv_time t);

/* ---- handlers: subjects and lookup (api_subjects.c) ---- */
int pv_api_subject_create(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_subject_get(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_subject_erase(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_subject_categories(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_lookup(pv_vault *v, pv_http_request *req, pv_http_response *res);

/* ---- handlers: records and decisions (api_records.c) ---- */
int pv_api_record_put(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_record_read(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_record_rectify(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_decide(pv_vault *v, pv_http_request *req, pv_http_response *res);

/* ---- handlers: policy, audit, keys (api_admin.c) ---- */
int pv_api_policy_current(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_policy_version(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_policy_upload(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_audit_verify(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_audit_list(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_audit_checkpoint(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_audit_public_key(pv_vault *v, pv_http_request *req, pv_http_response *res);
int pv_api_keys_rotate(pv_vault *v, pv_http_request *req, pv_http_response *res);

/* Largest page of GET /v1/audit, and its default. */
#define PV_API_AUDIT_PAGE_MAX 10000
#define PV_API_AUDIT_PAGE_DEFAULT 100

#endif
