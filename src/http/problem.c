/*
 * RFC 9457 problem details: every 4xx and 5xx the server and the handlers
 * produce is an application/problem+json body with type, title, status,
 * detail and, for validation failures, "errors": [{"pointer", "detail"}].
 * Details name fields, never values (no personal data in answers that end up
 * in client logs).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/error.h"
#include "http/internal.h"

/* Wipe and free a raw body (it may hold personal data: record reads). */
static void pv_http_raw_free(pv_http_response *res)
{
	if (res->raw != NULL)
		sodium_memzero(res->raw, res->raw_len);
	free(res->raw);
}

int pv_http_json(pv_http_response *res, int status, json_t *body)
{
	if (res->body != NULL)
		json_decref(res->body);
	pv_http_raw_free(res);
	res->raw = NULL;
	res->raw_len = 0;
	res->status = status;
	res->body = body;
	res->content_type = NULL;
	return 0;
}

/*
 * Set a problem body; replaces anything the response held. The detail is
 * formatted into a bounded buffer (longer details are cut). Returns 0.
 */
int pv_http_problem(pv_http_response *res, int status, const char *slug, const char *title,
		    const char *detail_fmt, ...)
{
	char type[160], detail[PV_ERRMSG_MAX];
	va_list ap;
	json_t *o;

	va_start(ap, detail_fmt);
	vsnprintf(detail, sizeof(detail), detail_fmt, ap);
	va_end(ap);
	snprintf(type, sizeof(type), "%s%s", PV_HTTP_PROBLEM_BASE, slug);
	o = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", title, "status", status,
		      "detail", detail);
	pv_http_json(res, status, o);
	res->content_type = "application/problem+json";
	return 0;
}

void pv_http_problem_field(pv_http_response *res, const char *pointer, const char *reason)
{
	json_t *errs;

	if (res->body == NULL || !json_is_object(res->body))
		return;
	errs = json_object_get(res->body, "errors");
	if (errs == NULL) {
		errs = json_array();
		if (json_object_set_new(res->body, "errors", errs) != 0)
			return;
	}
	if (json_array_size(errs) >= PV_HTTP_MAX_ERRORS)
		return;
	json_array_append_new(errs, json_pack("{s:s, s:s}", "pointer", pointer, "detail", reason));
}

/* Does the library message speak of a size? (ELIMIT on a size is 413, on a count 400.) */
static int is_size_message(const char *msg)
{
	return strstr(msg, "bytes") != NULL || strstr(msg, "too large") != NULL;
}

int pv_http_problem_from_error(pv_http_response *res, int code)
{
	const char *msg = pv_error_last();

	if (msg == NULL || msg[0] == '\0')
		msg = pv_error_name(code);
	switch (code) {
	case PV_EINVAL:
		return pv_http_problem(res, 400, "invalid-request", "Invalid request", "%s", msg);
	case PV_ELIMIT:
		if (is_size_message(msg))
			return pv_http_problem(res, 413, "too-large", "Content too large", "%s", msg);
		return pv_http_problem(res, 400, "limit-exceeded", "Limit exceeded", "%s", msg);
	case PV_ENOTFOUND:
		return pv_http_problem(res, 404, "not-found", "Not found", "%s", msg);
	case PV_EEXISTS:
		return pv_http_problem(res, 409, "conflict", "Conflict", "%s", msg);
	case PV_EDENIED:
		return pv_http_problem(res, 403, "forbidden", "Forbidden", "%s", msg);
	case PV_EERASED:
		return pv_http_problem(res, 410, "erased", "Subject erased", "%s", msg);
	case PV_EPOLICY:
		return pv_http_problem(res, 422, "policy", "Not allowed by the policy", "%s", msg);
	case PV_ECRYPTO:
	case PV_ETAMPER:
		return pv_http_problem(res, 500, "integrity", "Integrity check failed", "%s", msg);
	case PV_ESTORE:
		return pv_http_problem(res, 503, "store-unavailable", "Store unavailable", "%s", msg);
	default:
		return pv_http_problem(res, 500, "internal", "Internal error", "%s", msg);
	}
}

int pv_http_problem_denied(pv_http_response *res, pv_reason reason)
{
	const char *name = pv_reason_name(reason);

	pv_http_problem(res, 403, "access-denied", "Access denied",
			"the access decision denied this use: %s", name);
	json_object_set_new(res->body, "reason", json_string(name));
	res->decision = (int)reason;
	return 0;
}

void pv_http_response_reset(pv_http_response *res)
{
	json_decref(res->body);
	pv_http_raw_free(res);
	memset(res, 0, sizeof(*res));
	res->decision = -1;
}

int pv_http_response_serialize(const pv_http_response *res, char **out, size_t *len, const char **ctype)
{
	*out = NULL;
	*len = 0;
	if (res->raw != NULL) {
		*out = malloc(res->raw_len > 0 ? res->raw_len : 1);
		if (*out == NULL)
			return -1;
		memcpy(*out, res->raw, res->raw_len);
		*len = res->raw_len;
		*ctype = res->content_type != NULL ? res->content_type : "application/octet-stream";
		return 0;
	}
	if (res->content_type != NULL)
		*ctype = res->content_type;
	else
		*ctype = res->status >= 400 ? "application/problem+json" : "application/json";
	if (res->body == NULL)
		return 0;
	*out = json_dumps(res->body, JSON_COMPACT | JSON_ENCODE_ANY);
	if (*out == NULL)
		return -1;
	*len = strlen(*out);
	return 0;
}
