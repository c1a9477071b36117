/*
 * /v1 handlers for records and the access decision: store, read for a
 * purpose, rectify, decide. Record data is personal data: the serialized
 * copies made here are wiped before they are freed, and no problem detail
 * ever holds a value (library messages name fields and ids only).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/limits.h"
#include "http/api.h"
#include "privault/error.h"

/*
 * Serialize the body's "data" object compactly into *out (*len bytes). The
 * caller wipes and frees it with data_free(). Sets a problem and returns -1
 * when it is larger than a record may be (413), or on allocation failure.
 */
static int data_dump(pv_http_request *req, pv_http_response *res, char **out, size_t *len)
{
	char *s = json_dumps(json_object_get(req->body, "data"), JSON_COMPACT);

	*out = NULL;
	*len = 0;
	if (!s) {
		pv_http_problem(res, 500, "internal", "Internal error", "data: could not serialize");
		return -1;
	}
	*len = strlen(s);
	if (*len > PV_RECORD_MAX_BYTES) {
		sodium_memzero(s, *len);
		free(s);
		pv_http_problem(res, 413, "too-large", "Record too large", "data: larger than %u bytes",
				PV_RECORD_MAX_BYTES);
		pv_http_problem_field(res, "/data", "record larger than the limit");
		return -1;
	}
	*out = s;
	return 0;
}

static void data_free(char *s, size_t len)
{
	if (!s)
		return;
	sodium_memzero(s, len);
	free(s);
}

/*
 * A write refused with PV_EDENIED: routes keep auditors out, so what is left
 * is a service without a grant for the purpose and category, or a child under
 * the policy's minimum age (pv_record_put_denied_reason). Answered like a
 * denied read, with the reason code.
 */
static int write_error(pv_http_response *res, int rc, pv_reason denied)
{
	if (rc == PV_EDENIED)
		return pv_http_problem_denied(res, denied);
	return pv_http_problem_from_error(res, rc);
}

/* POST /v1/subjects/{id}/records {category, purpose, source?, data} -> 201 {id}. */
int pv_api_record_put(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_record_spec spec;
	char id[PV_ID_LEN + 1], *data = NULL;
	size_t len;
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if (data_dump(req, res, &data, &len) < 0)
		return 0;
	memset(&spec, 0, sizeof(spec));
	spec.category = json_string_value(json_object_get(req->body, "category"));
	spec.purpose = json_string_value(json_object_get(req->body, "purpose"));
	spec.source = json_string_value(json_object_get(req->body, "source"));
	spec.data = data;
	spec.len = len;
	rc = pv_record_put(v, req->caller, req->params[0], &spec, id);
	data_free(data, len);
	if (rc < 0)
		return write_error(res, rc, pv_record_put_denied_reason());
	snprintf(res->location, sizeof(res->location), "/v1/subjects/%s/records/%s", req->params[0], id);
	return pv_http_json(res, 201, json_pack("{s:s}", "id", id));
}

/* ---- the read answer, written as JSON text ----------------------------- */

/*
 * The answer to a read is written straight from the decrypted bytes into one
 * buffer sized up front: no parse of the record data into jansson objects and
 * no second serialization (both copies of personal data, neither wiped). A
 * record's data is embedded as it is: it was checked to be one JSON object
 * (UTF-8, no duplicate keys, depth and size limits) when it was stored or
 * rectified, and the AEAD binds it to its subject, record id and category,
 * so what decrypts is that checked text. The buffer goes out as the raw body;
 * the server wipes it after sending (server.c, send_response).
 */

#define ANSWER_HEAD "{\"records\":["
#define ANSWER_TAIL "],\"withheld\":"
/* keys, quotes, commas and two times of one record beside its strings and data */
#define RECORD_FIXED 256

/* Worst-case bytes of `s` as a JSON string with its quotes (\u00XX for control bytes). */
static size_t str_max(const char *s)
{
	return 6 * strlen(s) + 2;
}

/* Write `s` as a JSON string at `o`; returns the end. */
static char *put_str(char *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	*o++ = '"';
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			*o++ = '\\';
			*o++ = (char)ch;
		} else if (ch < 0x20) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[ch >> 4];
			o[5] = hex[ch & 15];
			o += 6;
		} else {
			*o++ = (char)ch;
		}
	}
	*o++ = '"';
	return o;
}

static char *put_raw(char *o, const char *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

/* A time as the API writes it (pv_api_time): an RFC 3339 string, or null for INT64_MAX. */
static char *put_time(char *o, pv_time t)
{
	char buf[32];

	if (t == INT64_MAX)
		return put_raw(o, "null", 4);
	return put_str(o, pv_time_format(t, buf, sizeof(buf)));
}

/* Upper bound of one record's JSON text. */
static size_t record_max(const pv_record *r)
{
	return RECORD_FIXED + str_max(r->id) + str_max(r->subject_id) + str_max(r->category) +
	       str_max(r->purpose) + str_max(r->source) + str_max(r->policy_version) + r->len;
}

/* One record's JSON text at `o` (keys in the order of the schema); returns the end. */
static char *put_record(char *o, const pv_record *r)
{
	o = put_str(put_raw(o, "{\"id\":", 6), r->id);
	o = put_str(put_raw(o, ",\"subject_id\":", 14), r->subject_id);
	o = put_str(put_raw(o, ",\"category\":", 12), r->category);
	o = put_str(put_raw(o, ",\"purpose\":", 11), r->purpose);
	o = put_raw(o, ",\"source\":", 10);
	o = r->source[0] ? put_str(o, r->source) : put_raw(o, "null", 4);
	o = put_str(put_raw(o, ",\"policy_version\":", 18), r->policy_version);
	o = put_time(put_raw(o, ",\"collected_at\":", 16), r->collected_at);
	o = put_time(put_raw(o, ",\"updated_at\":", 14), r->updated_at);
	o = put_time(put_raw(o, ",\"expires_at\":", 14), r->expires_at);
	o = put_raw(put_raw(o, ",\"data\":", 8), r->data, r->len);
	*o++ = '}';
	return o;
}

/*
 * The whole answer {"records":[...],"withheld":N} as a raw JSON body of
 * `res` (200). Returns 0, or -1 when it cannot be allocated (nothing set).
 */
static int answer_raw(pv_http_response *res, const pv_record_list *list)
{
	size_t n = pv_record_list_count(list), cap = sizeof(ANSWER_HEAD) + sizeof(ANSWER_TAIL) + 24;
	char *buf, *o;

	for (size_t i = 0; i < n; i++) {
		const pv_record *r = pv_record_list_at(list, i);

		if (!r)
			return -1;
		cap += record_max(r) + 1;
	}
	if (!(buf = malloc(cap)))
		return -1;
	o = put_raw(buf, ANSWER_HEAD, sizeof(ANSWER_HEAD) - 1);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		o = put_record(o, pv_record_list_at(list, i));
	}
	o = put_raw(o, ANSWER_TAIL, sizeof(ANSWER_TAIL) - 1);
	o += snprintf(o, 24, "%zu}", pv_record_list_denied(list));
	pv_http_json(res, 200, NULL);
	res->raw = buf;
	res->raw_len = (size_t)(o - buf);
	res->content_type = "application/json";
	return 0;
}

/*
 * GET /v1/subjects/{id}/records[?category=C] with X-Purpose -> {records,
 * withheld}. No purpose: 400. Nothing allowed: 403 with the reason code;
 * unknown subject 404; erased subject 410 (with reason subject_erased).
 */
int pv_api_record_read(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_record_list *list = NULL;
	pv_decision denied = { 0, PV_REASON_ALLOWED };
	char category[PV_ID_MAX + 1];
	int rc, has_cat;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if (!req->purpose || !req->purpose[0]) {
		pv_http_problem(res, 400, "purpose-required", "Purpose required",
				"purpose: send the purpose of this read in the X-Purpose header");
		return 0;
	}
	has_cat = pv_api_query_get(req->query, "category", category, sizeof(category));
	if (has_cat < 0 || (has_cat && !category[0])) {
		pv_http_problem(res, 400, "invalid-query", "Invalid query parameter",
				"category: expected a category id of at most %d characters", PV_ID_MAX);
		return 0;
	}
	rc = pv_record_read(v, req->caller, req->params[0], req->purpose, has_cat ? category : NULL, &list, &denied);
	if (rc == PV_EDENIED)
		return pv_http_problem_denied(res, denied.reason);
	if (rc == PV_EERASED) {
		pv_http_problem_from_error(res, rc);
		res->decision = PV_REASON_SUBJECT_ERASED;
		if (res->body)
			json_object_set_new(res->body, "reason", json_string(pv_reason_name(PV_REASON_SUBJECT_ERASED)));
		return 0;
	}
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);

	rc = answer_raw(res, list);
	pv_record_list_free(list);
	if (rc < 0) {
		pv_http_problem(res, 500, "internal", "Internal error", "records: could not build the answer");
		return 0;
	}
	res->decision = PV_REASON_ALLOWED;
	return 0;
}

/* PUT /v1/subjects/{id}/records/{record} {data} -> 200 {id, subject_id}. */
int pv_api_record_rectify(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char *data = NULL;
	size_t len;
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject") || !pv_api_uuid_or_404(res, req->params[1], "record"))
		return 0;
	if (data_dump(req, res, &data, &len) < 0)
		return 0;
	rc = pv_record_rectify(v, req->caller, req->params[0], req->params[1], data, len);
	data_free(data, len);
	if (rc < 0)
		return write_error(res, rc, PV_REASON_NO_GRANT);
	return pv_http_json(res, 200, json_pack("{s:s, s:s}", "id", req->params[1], "subject_id", req->params[0]));
}

/* POST /v1/decide {subject, category, purpose} -> {allow, reason}; a deny is still a 200 answer. */
int pv_api_decide(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_decision d;
	int rc;

	rc = pv_vault_decide(v, req->caller, json_string_value(json_object_get(req->body, "subject")),
			     json_string_value(json_object_get(req->body, "category")),
			     json_string_value(json_object_get(req->body, "purpose")), &d);
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	res->decision = (int)d.reason;
	return pv_http_json(res, 200,
			    json_pack("{s:b, s:s}", "allow", d.allow, "reason", pv_reason_name(d.reason)));
}
