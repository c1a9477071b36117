/*
 * The server's own routes: health, readiness, metrics, the OpenAPI document,
 * and API-key administration over HTTP (admins create and revoke, admins and
 * auditors list). Described as data like every other route table.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/internal.h"
#include "store/store.h"
#include "vault/vault_internal.h"

/* GET /healthz: the process is up and answering. */
static int h_healthz(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	(void)v;
	(void)req;
	return pv_http_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

/* GET /readyz: the vault is open and its store answers (a read inside a transaction). */
static int h_readyz(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int64_t seq = 0;
	uint8_t h[PV_AUDIT_HASH_LEN];
	int rc;

	(void)req;
	rc = pv_store_audit_head(pv_vault_store(v), &seq, h);
	if (rc < 0)
		return pv_http_problem(res, 503, "not-ready", "Not ready", "the store does not answer: %s",
				       pv_error_name(rc));
	return pv_http_json(res, 200, json_pack("{s:s, s:s, s:s}", "status", "ready", "store",
						pv_store_backend(pv_vault_store(v)), "policy",
						pv_policy_hash(pv_vault_policy(v))));
}

/* GET /metrics: Prometheus text; the audit length is read now. */
static int h_metrics(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_http_metrics *m = pv_http_server_metrics(req->server);
	uint8_t h[PV_AUDIT_HASH_LEN];
	int64_t seq = 0;
	char *text;
	size_t len;

	if (pv_store_audit_head(pv_vault_store(v), &seq, h) == 0)
		pv_http_metrics_set_audit(m, seq);
	if (pv_http_metrics_render(m, &text, &len) < 0)
		return pv_error_set(PV_ENOMEM, "metrics: out of memory");
	pv_http_json(res, 200, NULL);
	res->raw = text;
	res->raw_len = len;
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

/* GET /v1/openapi.json: the document built at start from the route tables. */
static int h_openapi(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	size_t len;
	const char *doc = pv_http_server_openapi(req->server, &len);
	char *copy = malloc(len);

	(void)v;
	if (copy == NULL)
		return pv_error_set(PV_ENOMEM, "openapi: out of memory");
	memcpy(copy, doc, len);
	pv_http_json(res, 200, NULL);
	res->raw = copy;
	res->raw_len = len;
	res->content_type = "application/json";
	return 0;
}

static json_t *key_json(const pv_apikey_info *k)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", k->id, "name", k->name, "role",
			      pv_role_name(k->role), "grants", k->grants, "created_at", (json_int_t)k->created_at);

	json_object_set_new(o, "revoked_at", k->revoked_at ? json_integer(k->revoked_at) : json_null());
	return o;
}

/* GET /v1/apikeys */
static int h_keys_list(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_apikey_info *l = NULL;
	size_t n = 0;
	json_t *a;
	int rc = pv_apikey_list(v, req->caller, &l, &n);

	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, key_json(&l[i]));
	free(l);
	return pv_http_json(res, 200, json_pack("{s:o}", "keys", a));
}

/* POST /v1/apikeys {"name", "role", "grants": ["purpose[:cat,cat]"]}: the key text is in this answer only. */
static int h_keys_create(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const char *grants[64];
	json_t *ga = json_object_get(req->body, "grants"), *g, *o;
	pv_apikey_info info;
	pv_role role;
	char *key = NULL;
	size_t i, n = 0;
	int rc;

	if (pv_role_parse(json_string_value(json_object_get(req->body, "role")), &role) < 0)
		return pv_http_problem_from_error(res, PV_EINVAL);
	json_array_foreach(ga, i, g)
		if (n < 64)
			grants[n++] = json_string_value(g);
	rc = pv_apikey_create(v, req->caller, json_string_value(json_object_get(req->body, "name")), role,
			      grants, n, &key, &info);
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	pv_http_server_keys_changed(req->server, v);
	o = key_json(&info);
	json_object_set_new(o, "key", json_string(key));
	pv_apikey_secret_free(key);
	snprintf(res->location, sizeof(res->location), "/v1/apikeys/%s", info.id);
	return pv_http_json(res, 201, o);
}

/* DELETE /v1/apikeys/{id} */
static int h_keys_revoke(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int rc = pv_apikey_revoke(v, req->caller, req->params[0]);

	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	pv_http_server_keys_changed(req->server, v);
	return pv_http_json(res, 204, NULL);
}

static const char *const role_values[] = { "admin", "service", "auditor", NULL };

static const pv_http_field key_create_fields[] = {
	{ "name", PV_HTTP_T_STRING, 1, 128, NULL, "The key's name: the caller name in the audit "
	  "(a letter, then letters, digits, '_', '.', '-')", NULL },
	{ "role", PV_HTTP_T_STRING, 1, 16, NULL, "admin, service or auditor", role_values },
	{ "grants", PV_HTTP_T_ARRAY_STRING, 0, 64, NULL, "Service keys only: \"purpose\" or "
	  "\"purpose:category,category\"", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

static const int err_none[] = { 0 };
static const int err_ready[] = { 503, 0 };
static const int err_keys_create[] = { 400, 0 };
static const int err_keys_revoke[] = { 404, 0 };

#define KEY_SCHEMA "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"}," \
	"\"role\":{\"type\":\"string\"},\"grants\":{\"type\":\"string\"},\"created_at\":{\"type\":\"integer\"}," \
	"\"revoked_at\":{\"type\":[\"integer\",\"null\"]}}}"

const pv_http_route pv_http_system_routes[] = {
	{ "GET", "/healthz", h_healthz, PV_HTTP_PUBLIC, "system", "Liveness",
	  "200 while the process is up and answering.", NULL,
	  "{\"type\":\"object\",\"properties\":{\"status\":{\"const\":\"ok\"}}}", 200, err_none, 0, 0, NULL, 0, 0, 0, 0 },
	{ "GET", "/readyz", h_readyz, PV_HTTP_PUBLIC, "system", "Readiness",
	  "200 when the vault is open and its store answers; 503 otherwise.", NULL,
	  "{\"type\":\"object\",\"properties\":{\"status\":{\"const\":\"ready\"},\"store\":{\"type\":\"string\"},"
	  "\"policy\":{\"type\":\"string\"}}}", 200, err_ready, 0, 1, NULL, 0, 0, 0, 0 },
	{ "GET", "/metrics", h_metrics, PV_HTTP_PUBLIC, "system", "Prometheus metrics",
	  "Requests and latency histograms by route pattern and status, access decisions by reason, the "
	  "audit length, authentication failures and group commits. No personal data.", NULL,
	  "{\"type\":\"string\",\"contentMediaType\":\"text/plain\"}", 200, err_none, 0, 1, NULL, 0, 0, 0, 0 },
	{ "GET", "/v1/openapi.json", h_openapi, PV_HTTP_PUBLIC, "system", "This document",
	  "The OpenAPI 3.1 document, generated from the route tables the server dispatches from.", NULL,
	  "{\"type\":\"object\"}", 200, err_none, 0, 0, NULL, 0, 0, 0, 0 },
	{ "GET", "/v1/apikeys", h_keys_list, PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_AUDITOR, "keys", "List API keys",
	  "Every API key's id, name, role, grants and dates; never a secret.", NULL,
	  "{\"type\":\"object\",\"properties\":{\"keys\":{\"type\":\"array\",\"items\":" KEY_SCHEMA "}}}", 200,
	  err_none, 0, 1, NULL, 0, 0, 0, 0 },
	{ "POST", "/v1/apikeys", h_keys_create, PV_HTTP_ROLE_ADMIN, "keys", "Create an API key",
	  "Creates a key; the answer holds its text (\"key\") once, and only a hash of its secret is stored.",
	  key_create_fields, KEY_SCHEMA, 201, err_keys_create, 0, 1, NULL, 0, 0, 0, 0 },
	{ "DELETE", "/v1/apikeys/{id}", h_keys_revoke, PV_HTTP_ROLE_ADMIN, "keys", "Revoke an API key",
	  "Revokes a key at once; requests presenting it are answered 401 from then on.", NULL, NULL, 204,
	  err_keys_revoke, 0, 1, NULL, 0, 0, 0, 0 },
	{ NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, 0, NULL, 0, 0, 0, 0 }
};
