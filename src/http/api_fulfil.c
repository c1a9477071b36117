/*
 * The disclosure ledger over HTTP (docs/rights.md "Fulfilment"): record a
 * disclosure of a subject's data to a policy recipient (admins and services)
 * and list a subject's disclosures over the regime's lookback (any role:
 * metadata only). Problems name fields, never values.
 */
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "privault/error.h"
#include "privault/fulfil.h"

static const pv_http_field disclosure_body[] = {
	{ "recipient", PV_HTTP_T_STRING, 1, 64, NULL, "A recipient id of the current policy.", NULL },
	{ "purpose", PV_HTTP_T_STRING, 1, 64, NULL, "The purpose id the data was disclosed for.", NULL },
	{ "categories", PV_HTTP_T_ARRAY_STRING, 1, PV_FULFIL_MAX_CATEGORIES, NULL,
	  "Category ids of the data disclosed (1..64, each once).", NULL },
	{ "sale", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "The disclosure is a sale (CCPA); default false.", NULL },
	{ "sharing", PV_HTTP_T_BOOLEAN, 0, 0, NULL,
	  "The disclosure is sharing for cross-context behavioural advertising; default false.", NULL },
	{ "at", PV_HTTP_T_STRING, 0, 32, NULL, "When (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ); default now.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

#define DISCLOSURE_SCHEMA \
	"{\"type\":\"object\",\"required\":[\"id\",\"recipient\",\"purpose\",\"categories\",\"sale\",\"sharing\",\"at\"]," \
	"\"properties\":{\"id\":{\"type\":\"string\"},\"recipient\":{\"type\":\"string\"}," \
	"\"purpose\":{\"type\":\"string\"},\"categories\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}," \
	"\"sale\":{\"type\":\"boolean\"},\"sharing\":{\"type\":\"boolean\"},\"at\":{\"type\":\"string\"}}}"

static const char schema_created[] =
	"{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":{\"type\":\"string\"}}}";
static const char schema_list[] =
	"{\"type\":\"object\",\"required\":[\"since\",\"disclosures\"],\"properties\":{\"since\":{\"type\":[\"string\",\"null\"]},"
	"\"disclosures\":{\"type\":\"array\",\"items\":" DISCLOSURE_SCHEMA "}}}";

static const int err_record[] = { 400, 401, 403, 404, 409, 413, 415, 429, 500, 503, 0 };
static const int err_list[] = { 400, 401, 403, 404, 409, 429, 500, 503, 0 };
static const int err_package[] = { 400, 401, 403, 404, 409, 410, 422, 429, 500, 503, 0 };

/* The package document (docs/rights.md "package.json"): its fixed keys; records and the rest vary by kind. */
static const char schema_package[] =
	"{\"type\":\"object\",\"required\":[\"records\"],\"properties\":{\"records\":{\"type\":\"array\"}}}";

/* One ledger row as JSON: categories split back into an array. */
static json_t *disclosure_json(const pv_disclosure *d)
{
	json_t *cats = json_array();
	char buf[sizeof(d->categories)], *save = NULL, at[32];

	snprintf(buf, sizeof(buf), "%s", d->categories);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		json_array_append_new(cats, json_string(t));
	return json_pack("{s:s,s:s,s:s,s:o,s:b,s:b,s:s}", "id", d->id, "recipient", d->recipient, "purpose",
			 d->purpose, "categories", cats, "sale", d->sale, "sharing", d->sharing, "at",
			 pv_time_format(d->at, at, sizeof(at)));
}

/* POST /v1/subjects/{id}/disclosures -> 201 {id}. */
static int disclosure_record(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	json_t *cats = json_object_get(req->body, "categories");
	const char *list[PV_FULFIL_MAX_CATEGORIES];
	const char *at = json_string_value(json_object_get(req->body, "at"));
	pv_disclosure_spec spec = { 0 };
	char id[PV_ID_LEN + 1];
	size_t n = json_array_size(cats);
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if (n == 0 || n > PV_FULFIL_MAX_CATEGORIES)
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "categories: expected 1..%d ids",
				       PV_FULFIL_MAX_CATEGORIES);
	for (size_t i = 0; i < n; i++)
		list[i] = json_string_value(json_array_get(cats, i));
	if (at && pv_time_parse(&spec.at, at) != 0)
		return pv_http_problem(res, 400, "invalid-value", "Invalid value",
				       "at: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	spec.recipient = json_string_value(json_object_get(req->body, "recipient"));
	spec.purpose = json_string_value(json_object_get(req->body, "purpose"));
	spec.categories = list;
	spec.ncategories = n;
	spec.sale = json_is_true(json_object_get(req->body, "sale"));
	spec.sharing = json_is_true(json_object_get(req->body, "sharing"));
	if ((rc = pv_disclosure_record(v, req->caller, req->params[0], &spec, id)) != 0)
		return pv_http_problem_from_error(res, rc);
	snprintf(res->location, sizeof(res->location), "/v1/subjects/%s/disclosures", req->params[0]);
	return pv_http_json(res, 201, json_pack("{s:s}", "id", id));
}

/* GET /v1/subjects/{id}/disclosures[?since=T] -> 200 {since, disclosures: [...]}, oldest first. */
static int disclosure_list(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char since_text[40] = "";
	pv_disclosure *d = NULL;
	pv_time since = 0;
	size_t n = 0;
	json_t *arr;
	int rc, q;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	q = pv_api_query_get(req->query, "since", since_text, sizeof(since_text));
	if (q < 0 || (q == 1 && pv_time_parse(&since, since_text) != 0))
		return pv_http_problem(res, 400, "invalid-value", "Invalid value",
				       "since: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	if ((rc = pv_disclosure_list(v, req->caller, req->params[0], since, &d, &n)) != 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, disclosure_json(&d[i]));
	free(d);
	if (!arr)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:s?,s:o}", "since", q == 1 ? since_text : NULL, "disclosures", arr));
}

/*
 * GET /v1/subjects/{id}/package[?kind=access|portability] -> 200 the package
 * document of pv_package_json (default kind access). The answer holds the
 * subject's data: sent raw, the buffer wiped when the response is freed.
 */
static int package_get(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char kind_text[16];
	pv_package_kind kind;
	char *doc = NULL;
	size_t len = 0;
	int rc, q;

	if (!pv_api_uuid_or_404(res, req->params[0], "subject"))
		return 0;
	if ((q = pv_api_query_get(req->query, "kind", kind_text, sizeof(kind_text))) == 0)
		snprintf(kind_text, sizeof(kind_text), "access");
	if (q >= 0 && strcmp(kind_text, "access") == 0)
		kind = PV_PACKAGE_ACCESS;
	else if (q >= 0 && strcmp(kind_text, "portability") == 0)
		kind = PV_PACKAGE_PORTABILITY;
	else
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "kind: expected access or portability");
	if ((rc = pv_package_json(v, req->caller, req->params[0], kind, &doc, &len, NULL)) != 0)
		return pv_http_problem_from_error(res, rc);
	pv_http_json(res, 200, NULL);
	res->raw = doc;
	res->raw_len = len;
	res->content_type = "application/json";
	return 0;
}

const pv_http_route pv_http_fulfil_routes[] = {
	{ .method = "POST", .pattern = "/v1/subjects/{id}/disclosures", .handler = disclosure_record,
	  .roles = PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE, .tag = "rights",
	  .summary = "Record a disclosure of a subject's data",
	  .description = "The disclosure ledger: the subject's data of `categories` was disclosed to the policy "
			 "recipient `recipient` for `purpose` (a sale or sharing when flagged). Recipient, purpose "
			 "and categories must be ids of the current policy (400 naming the field). Audited as "
			 "disclosure.record.",
	  .body = disclosure_body, .response_schema = schema_created, .success_status = 201,
	  .error_statuses = err_record, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/subjects/{id}/disclosures", .handler = disclosure_list,
	  .roles = PV_HTTP_ROLE_ANY, .tag = "rights", .summary = "List a subject's disclosures",
	  .description = "Oldest first, since ?since= or, by default, over the lookback of the subject's regime "
			 "(lookback_months, 12 when unset). Metadata only. Audited as disclosure.list.",
	  .response_schema = schema_list, .success_status = 200, .error_statuses = err_list, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/subjects/{id}/package", .handler = package_get,
	  .roles = PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE, .tag = "rights",
	  .summary = "A subject's access or portability package",
	  .description = "The package.json document of `privault fulfil package` (docs/rights.md): ?kind=access "
			 "(default) or portability. The data is read under the purpose data_subject_request, which "
			 "the policy must declare (otherwise 422 naming it). Admins, and services granted "
			 "data_subject_request (their grant limits the categories read); auditors never. "
			 "Audited as package.write.",
	  .response_schema = schema_package, .success_status = 200, .error_statuses = err_package,
	  .executor = 1 },
	{ .method = NULL },
};
