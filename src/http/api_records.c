/*
 * /v1 handlers for records and the access decision: store, read for a
 * purpose, rectify, decide. Record data is personal data: the serialized
 * copies made here are wiped before they are freed, and no problem detail
 * ever holds a value (library messages name fields and ids only).
 */
#include <stdio.h>
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
 * is a service without a grant for the purpose and category. Answered like a
 * denied read, with the reason code.
 */
static int write_error(pv_http_response *res, int rc)
{
	if (rc == PV_EDENIED)
		return pv_http_problem_denied(res, PV_REASON_NO_GRANT);
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
		return write_error(res, rc);
	snprintf(res->location, sizeof(res->location), "/v1/subjects/%s/records/%s", req->params[0], id);
	return pv_http_json(res, 201, json_pack("{s:s}", "id", id));
}

/* One decrypted record as JSON; its data parsed back into an object. NULL on failure. */
static json_t *record_json(const pv_record *r)
{
	json_t *data = json_loadb(r->data, r->len, JSON_REJECT_DUPLICATES, NULL);

	if (!data)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "id", r->id, "subject_id",
			 r->subject_id, "category", r->category, "purpose", r->purpose, "source",
			 r->source[0] ? json_string(r->source) : json_null(), "policy_version", r->policy_version,
			 "collected_at", pv_api_time(r->collected_at), "updated_at", pv_api_time(r->updated_at),
			 "expires_at", pv_api_time(r->expires_at), "data", data);
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
	json_t *arr = NULL;
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

	arr = json_array();
	for (size_t i = 0; arr && i < pv_record_list_count(list); i++) {
		json_t *r = record_json(pv_record_list_at(list, i));
		if (!r || json_array_append_new(arr, r) < 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	if (!arr) {
		pv_record_list_free(list);
		pv_http_problem(res, 500, "internal", "Internal error", "records: could not build the answer");
		return 0;
	}
	res->decision = PV_REASON_ALLOWED;
	rc = pv_http_json(res, 200, json_pack("{s:o, s:I}", "records", arr, "withheld",
					      (json_int_t)pv_record_list_denied(list)));
	pv_record_list_free(list);
	return rc;
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
		return write_error(res, rc);
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
