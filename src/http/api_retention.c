/*
 * Retention over HTTP (docs/retention.md): legal holds (create, list, show,
 * release) and the sweep (a dry run or a real one, which then purges up to
 * "purge" rows of destroyed records) for admins; auditors may read holds. A hold's reason comes back to admins and auditors only and is
 * never put in a problem or a log. The sweep runs exclusive (alone, outside
 * any group-commit batch): it commits its own batches, under the store's sweep
 * lock (409 when another sweep holds it). Hold creation and release run
 * exclusive too: each writes its hold before its audit entry, the lock order of
 * a sweep batch (legal_holds, then the audit lock), which a group-commit batch
 * that had already appended would break (a deadlock on PostgreSQL).
 */
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "privault/error.h"
#include "privault/retention.h"

static const pv_http_field hold_body[] = {
	{ "reason", PV_HTTP_T_STRING, 1, PV_HOLD_REASON_MAX, NULL,
	  "Why the data must be kept: a case or matter reference, never personal data ('@' is refused).", NULL },
	{ "subject_id", PV_HTTP_T_STRING, 0, 36, NULL, "Hold this subject's records only.", NULL },
	{ "category", PV_HTTP_T_STRING, 0, 64, NULL, "Hold records of this category only.", NULL },
	{ "from", PV_HTTP_T_STRING, 0, 32, NULL,
	  "Hold records collected at or after this time (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ).", NULL },
	{ "to", PV_HTTP_T_STRING, 0, 32, NULL, "Hold records collected before this time.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field sweep_body[] = {
	{ "dry_run", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "Report what would go and write nothing (default false).", NULL },
	{ "now", PV_HTTP_T_STRING, 0, 32, NULL,
	  "Sweep as of this time (default: now); later than the clock only in a dry run.", NULL },
	{ "batch", PV_HTTP_T_INTEGER, 0, 0, NULL, "Records per transaction (default 50000, at most 100000).", NULL },
	{ "purge", PV_HTTP_T_INTEGER, 0, 0, NULL,
	  "Then delete at most this many rows of records whose epoch key is destroyed, this sweep's or earlier "
	  "ones' (default 10000, 0..1000000; 0 = none). Not with dry_run.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

/*
 * Rows of destroyed records a request purges by default (one purge transaction,
 * PV_SWEEP_PURGE_CHUNK) and at most: a request's work stays bounded; a larger
 * backlog goes over several requests, the server's schedule or `privault sweep`.
 */
#define SWEEP_PURGE_DEFAULT PV_SWEEP_PURGE_CHUNK
#define SWEEP_PURGE_MAX 1000000

#define HOLD_SCHEMA \
	"{\"type\":\"object\",\"required\":[\"id\",\"reason\",\"created_by\",\"created_at\",\"active\"]," \
	"\"properties\":{\"id\":{\"type\":\"string\"},\"subject_id\":{\"type\":[\"string\",\"null\"]}," \
	"\"category\":{\"type\":[\"string\",\"null\"]},\"from\":{\"type\":[\"string\",\"null\"]}," \
	"\"to\":{\"type\":[\"string\",\"null\"]},\"reason\":{\"type\":\"string\"}," \
	"\"created_by\":{\"type\":\"string\"},\"created_at\":{\"type\":\"string\"}," \
	"\"released_by\":{\"type\":[\"string\",\"null\"]},\"released_at\":{\"type\":[\"string\",\"null\"]}," \
	"\"active\":{\"type\":\"boolean\"}}}"

static const char schema_hold[] = HOLD_SCHEMA;
static const char schema_holds[] =
	"{\"type\":\"object\",\"required\":[\"holds\"],\"properties\":{\"holds\":{\"type\":\"array\",\"items\":"
	HOLD_SCHEMA "}}}";
static const char schema_sweep[] =
	"{\"type\":\"object\",\"required\":[\"dry_run\",\"now\",\"deleted\",\"anonymized\",\"kept\","
	"\"subjects_erased\",\"batches\",\"destroyed\",\"purged\",\"counts\",\"erased\"],\"properties\":{"
	"\"dry_run\":{\"type\":\"boolean\"},\"now\":{\"type\":\"string\"},"
	"\"deleted\":{\"type\":\"integer\"},\"anonymized\":{\"type\":\"integer\"},\"kept\":{\"type\":\"integer\"},"
	"\"subjects_erased\":{\"type\":\"integer\"},\"batches\":{\"type\":\"integer\"},"
	"\"destroyed\":{\"type\":\"integer\"},\"purged\":{\"type\":\"integer\"},"
	"\"counts\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"category\",\"purpose\","
	"\"action\",\"records\"],\"properties\":{\"category\":{\"type\":\"string\"},\"purpose\":{\"type\":\"string\"},"
	"\"action\":{\"type\":\"string\",\"enum\":[\"delete\",\"anonymize\"]},\"records\":{\"type\":\"integer\"}}}},"
	"\"erased\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}}";

static const int err_hold_create[] = { 400, 401, 403, 404, 410, 413, 415, 429, 500, 503, 0 };
static const int err_hold_read[] = { 400, 401, 403, 404, 429, 500, 503, 0 };
static const int err_sweep[] = { 400, 401, 403, 409, 413, 415, 429, 500, 503, 0 };

/* A time field: "" when absent. 0 ok, else a 400 problem naming the field was set (returns -1). */
static int body_time(pv_http_response *res, json_t *body, const char *name, pv_time *out)
{
	json_t *j = json_object_get(body, name);
	char ptr[16];

	*out = 0;
	if (j == NULL)
		return 0;
	if (pv_time_parse(out, json_string_value(j)) == 0 && *out > 0)
		return 0;
	snprintf(ptr, sizeof(ptr), "/%s", name);
	pv_http_problem(res, 400, "invalid-value", "Invalid value", "%s: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ",
			name);
	pv_http_problem_field(res, ptr, "expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ");
	return -1;
}

static json_t *hold_json(const pv_hold *h)
{
	return json_pack("{s:s,s:s?,s:s?,s:o,s:o,s:s,s:s,s:o,s:s?,s:o,s:b}",
			 "id", h->id,
			 "subject_id", h->subject_id[0] ? h->subject_id : NULL,
			 "category", h->category[0] ? h->category : NULL,
			 "from", h->from ? pv_api_time(h->from) : json_null(),
			 "to", h->to ? pv_api_time(h->to) : json_null(),
			 "reason", h->reason,
			 "created_by", h->created_by,
			 "created_at", pv_api_time(h->created_at),
			 "released_by", h->released_by[0] ? h->released_by : NULL,
			 "released_at", h->released_at ? pv_api_time(h->released_at) : json_null(),
			 "active", h->released_at == 0);
}

/* Answer 200/201 with the hold `id` as stored. */
static int hold_answer(pv_vault *v, pv_http_request *req, pv_http_response *res, const char *id, int status)
{
	pv_hold h;
	json_t *j;
	int rc = pv_hold_get(v, req->caller, id, &h);

	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	if ((j = hold_json(&h)) == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	if (status == 201)
		snprintf(res->location, sizeof(res->location), "/v1/holds/%s", id);
	return pv_http_json(res, status, j);
}

/* POST /v1/holds {reason, subject_id?, category?, from?, to?} -> 201 hold. */
static int hold_create(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_hold_spec spec = { 0 };
	char id[PV_ID_LEN + 1];
	int rc;

	spec.reason = json_string_value(json_object_get(req->body, "reason"));
	spec.subject_id = json_string_value(json_object_get(req->body, "subject_id"));
	spec.category = json_string_value(json_object_get(req->body, "category"));
	if (body_time(res, req->body, "from", &spec.from) != 0 || body_time(res, req->body, "to", &spec.to) != 0)
		return 0;
	rc = pv_hold_create(v, req->caller, &spec, id);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	return hold_answer(v, req, res, id, 201);
}

/* GET /v1/holds[?all=true] -> 200 {holds: [...]}, oldest first. */
static int hold_list(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char all[8] = "";
	pv_hold *list = NULL;
	size_t n = 0, i;
	json_t *arr;
	int rc, q = pv_api_query_get(req->query, "all", all, sizeof(all));

	if (q < 0 || (q == 1 && strcmp(all, "true") != 0 && strcmp(all, "false") != 0))
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "all: expected true or false");
	rc = pv_hold_list(v, req->caller, q == 1 && strcmp(all, "true") == 0, &list, &n);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		if (json_array_append_new(arr, hold_json(&list[i])) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	free(list);
	if (arr == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:o}", "holds", arr));
}

/* GET /v1/holds/{id} -> 200 hold. */
static int hold_show(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	if (!pv_api_uuid_or_404(res, req->params[0], "hold"))
		return 0;
	return hold_answer(v, req, res, req->params[0], 200);
}

/* POST /v1/holds/{id}/release -> 200 hold (released). 404 when no such active hold. */
static int hold_release(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "hold"))
		return 0;
	rc = pv_hold_release(v, req->caller, req->params[0]);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	return hold_answer(v, req, res, req->params[0], 200);
}

/* A 400 problem for the integer field `name` outside lo..hi (returns 0: the answer is set). */
static int bad_range(pv_http_response *res, const char *name, long lo, long hi)
{
	char ptr[16], want[48];

	snprintf(ptr, sizeof(ptr), "/%s", name);
	snprintf(want, sizeof(want), "expected %ld..%ld", lo, hi);
	pv_http_problem(res, 400, "invalid-value", "Invalid value", "%s: %s", name, want);
	pv_http_problem_field(res, ptr, want);
	return 0;
}

/*
 * POST /v1/retention/sweep {dry_run?, now?, batch?, purge?} -> 200 report.
 * A real sweep purges up to `purge` destroyed rows (SWEEP_PURGE_DEFAULT when
 * absent); `purge` with dry_run true is a 400 (a dry run writes nothing).
 */
static int sweep(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	json_t *batch = json_object_get(req->body, "batch"), *purge = json_object_get(req->body, "purge");
	json_t *out, *counts, *erased;
	pv_sweep_options o = { 0 };
	pv_sweep_report *r = NULL;
	size_t i;
	int rc;

	o.dry_run = json_is_true(json_object_get(req->body, "dry_run"));
	if (body_time(res, req->body, "now", &o.now) != 0)
		return 0;
	if (batch != NULL) {
		json_int_t b = json_integer_value(batch);

		if (b < 1 || b > PV_SWEEP_MAX_BATCH)
			return bad_range(res, "batch", 1, PV_SWEEP_MAX_BATCH);
		o.batch = (size_t)b;
	}
	o.purge = o.dry_run ? 0 : SWEEP_PURGE_DEFAULT;
	if (purge != NULL) {
		json_int_t p = json_integer_value(purge);

		if (p < 0 || p > SWEEP_PURGE_MAX)
			return bad_range(res, "purge", 0, SWEEP_PURGE_MAX);
		if (o.dry_run) {
			pv_http_problem(res, 400, "invalid-value", "Invalid value",
					"purge: a dry run purges nothing; send purge or dry_run, not both");
			pv_http_problem_field(res, "/purge", "not with dry_run");
			return 0;
		}
		o.purge = (size_t)p;
	}
	rc = pv_retention_sweep(v, req->caller, &o, &r);
	if (rc != 0) {
		pv_sweep_report_free(r);
		if (rc == PV_SWEEP_SKIPPED)
			return pv_http_problem(res, 409, "sweep-running", "Another sweep is running",
					       "another retention sweep is running on this vault; this one did "
					       "nothing, retry later");
		return pv_http_problem_from_error(res, rc);
	}
	counts = json_array();
	erased = json_array();
	for (i = 0; counts != NULL && i < r->ncounts; i++)
		json_array_append_new(counts, json_pack("{s:s,s:s,s:s,s:I}", "category", r->counts[i].category,
							"purpose", r->counts[i].purpose,
							"action", pv_retention_action_name(r->counts[i].action),
							"records", (json_int_t)r->counts[i].records));
	for (i = 0; erased != NULL && i < r->nerased; i++)
		json_array_append_new(erased, json_string(r->erased[i]));
	out = json_pack("{s:b,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}", "dry_run", r->dry_run,
			"now", pv_api_time(r->now), "deleted", (json_int_t)r->deleted,
			"anonymized", (json_int_t)r->anonymized, "kept", (json_int_t)r->kept,
			"subjects_erased", (json_int_t)r->subjects_erased, "batches", (json_int_t)r->batches,
			"destroyed", (json_int_t)r->destroyed, "purged", (json_int_t)r->purged,
			"counts", counts, "erased", erased);
	pv_sweep_report_free(r);
	if (out == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, out);
}

const pv_http_route pv_http_retention_routes[] = {
	{ .method = "POST", .pattern = "/v1/holds", .handler = hold_create, .roles = PV_HTTP_ROLE_ADMIN,
	  .tag = "retention", .summary = "Create a legal hold",
	  .description = "A hold keeps every record it covers from retention sweeps until it is released: "
			 "records of subject_id, of category, collected in [from, to), or a combination (at "
			 "least one). The subject must exist and not be erased; the category must be declared. "
			 "Audited as hold.create (without the reason).",
	  .body = hold_body, .response_schema = schema_hold, .success_status = 201,
	  .error_statuses = err_hold_create, .executor = 1, .exclusive = 1 },
	{ .method = "GET", .pattern = "/v1/holds", .handler = hold_list,
	  .roles = PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_AUDITOR,
	  .tag = "retention", .summary = "List legal holds",
	  .description = "Active holds, oldest first; ?all=true adds released ones.",
	  .response_schema = schema_holds, .success_status = 200, .error_statuses = err_hold_read, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/holds/{id}", .handler = hold_show,
	  .roles = PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_AUDITOR,
	  .tag = "retention", .summary = "Show a legal hold",
	  .response_schema = schema_hold, .success_status = 200, .error_statuses = err_hold_read, .executor = 1 },
	{ .method = "POST", .pattern = "/v1/holds/{id}/release", .handler = hold_release, .roles = PV_HTTP_ROLE_ADMIN,
	  .tag = "retention", .summary = "Release a legal hold",
	  .description = "The hold stops protecting its records; the next sweep removes those that have expired. "
			 "404 when there is no such active hold. Audited as hold.release.",
	  .response_schema = schema_hold, .success_status = 200, .error_statuses = err_hold_read, .executor = 1,
	  .exclusive = 1 },
	{ .method = "POST", .pattern = "/v1/retention/sweep", .handler = sweep, .roles = PV_HTTP_ROLE_ADMIN,
	  .tag = "retention", .summary = "Sweep expired records (or a dry run)",
	  .description = "Deletes or anonymizes (per the policy's retention rules) every record whose expiry has "
			 "passed, except what a legal hold covers or a restricted subject holds, and erases "
			 "subjects left with no record and no hold. dry_run reports the same counts and the "
			 "subjects that would be erased, and writes nothing. Expired records become unreadable at "
			 "once (destroyed: their epoch key is gone); a real sweep then deletes up to purge rows of "
			 "such records (purged), left by this sweep or earlier ones. Runs alone, in batches of its own. "
			 "409 (sweep-running) when another sweep (any server or process on this vault) is "
			 "running: this one did nothing.",
	  .body = sweep_body, .response_schema = schema_sweep, .success_status = 200,
	  .error_statuses = err_sweep, .executor = 1, .exclusive = 1 },
	{ .method = NULL },
};
