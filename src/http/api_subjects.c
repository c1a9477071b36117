/*
 * /v1 handlers for subjects: create, metadata, erasure, categories, lookup.
 * Bodies arrive validated against the route's field table (routes.c), so the
 * handlers only map them onto the vault API and its errors onto problems.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/limits.h"
#include "http/api.h"
#include "privault/error.h"

static const char *state_name(pv_subject_state s)
{
	switch (s) {
	case PV_SUBJECT_ACTIVE: return "active";
	case PV_SUBJECT_RESTRICTED: return "restricted";
	case PV_SUBJECT_ERASED: return "erased";
	}
	return "unknown";
}

/*
 * POST /v1/subjects: {identifiers: {kind: value}, regime?, birth_year?,
 * parental_consent?} -> 201 {id} with Location. The identifier values are
 * borrowed from the body (no copies); the vault normalizes them in its own
 * guarded buffer.
 */
int pv_api_subject_create(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_identifier ids[PV_SUBJECT_MAX_IDENTS];
	pv_subject_spec spec;
	json_t *idents = json_object_get(req->body, "identifiers");
	json_t *j, *val;
	const char *kind;
	char id[PV_ID_LEN + 1];
	size_t n = 0;
	int rc;

	memset(&spec, 0, sizeof(spec));
	if (json_object_size(idents) == 0) {
		pv_http_problem(res, 400, "validation", "Invalid request body",
				"identifiers: expected at least one identifier");
		pv_http_problem_field(res, "/identifiers", "expected at least one identifier");
		return 0;
	}
	if (json_object_size(idents) > PV_SUBJECT_MAX_IDENTS) {
		pv_http_problem(res, 400, "validation", "Invalid request body",
				"identifiers: at most %d identifiers", PV_SUBJECT_MAX_IDENTS);
		pv_http_problem_field(res, "/identifiers", "too many identifiers");
		return 0;
	}
	json_object_foreach(idents, kind, val) {
		ids[n].kind = kind;
		ids[n].value = json_string_value(val);
		n++;
	}
	spec.identifiers = ids;
	spec.nidentifiers = n;
	if ((j = json_object_get(req->body, "regime")))
		spec.regime = json_string_value(j);
	if ((j = json_object_get(req->body, "birth_year"))) {
		json_int_t y = json_integer_value(j);
		spec.birth_year = y < 0 || y > 99999 ? -1 : (int)y;   /* the vault checks the range */
	}
	if ((j = json_object_get(req->body, "parental_consent")))
		spec.parental_consent = json_is_true(j);

	rc = pv_subject_create(v, req->caller, &spec, id);
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	snprintf(res->location, sizeof(res->location), "/v1/subjects/%s", id);
	return pv_http_json(res, 201, json_pack("{s:s}", "id", id));
}

/* GET /v1/subjects/{id} -> metadata (tombstones included, in state "erased"). */
int pv_api_subject_get(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_subject_info info;
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if ((rc = pv_subject_get(v, req->caller, req->params[0], &info)) < 0)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 200,
			    json_pack("{s:s, s:o, s:s, s:o, s:b, s:s}", "id", info.id, "created_at",
				      pv_api_time(info.created_at), "regime", pv_regime_name(info.regime), "birth_year",
				      info.birth_year ? json_integer(info.birth_year) : json_null(), "parental_consent",
				      info.parental_consent, "state", state_name(info.state)));
}

/* DELETE /v1/subjects/{id} -> 204; 410 when already erased, 404 when unknown. */
int pv_api_subject_erase(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if ((rc = pv_subject_erase(v, req->caller, req->params[0])) < 0)
		return pv_http_problem_from_error(res, rc);
	res->status = 204;
	return 0;
}

/* GET /v1/subjects/{id}/categories -> {categories: [{category, count}]}. */
int pv_api_subject_categories(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_category_count *cats = NULL;
	json_t *arr;
	size_t n = 0;
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if ((rc = pv_subject_categories(v, req->caller, req->params[0], &cats, &n)) < 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:I}", "category", cats[i].category, "count",
						     (json_int_t)cats[i].count));
	free(cats);
	if (!arr)
		return -1;
	return pv_http_json(res, 200, json_pack("{s:o}", "categories", arr));
}

/* POST /v1/lookup {kind, value} -> {id}; 404 when no subject has it. */
int pv_api_lookup(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const char *kind = json_string_value(json_object_get(req->body, "kind"));
	const char *value = json_string_value(json_object_get(req->body, "value"));
	char id[PV_ID_LEN + 1];
	int rc;

	if ((rc = pv_subject_find(v, req->caller, kind, value, id)) < 0)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 200, json_pack("{s:s}", "id", id));
}
