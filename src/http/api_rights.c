/*
 * Data-subject requests over HTTP (docs/rights.md, docs/api.md "Requests"):
 * intake, codes, verification, confirmation, transitions, refusals, fees,
 * extension, due lists and the CCPA report. The intake answer never names the
 * subject (nothing tells whether the person is known); codes and identifiers
 * never come back and never reach a problem. Writing routes run exclusive:
 * intake, resending a code and extending queue an outbox message in a batch of
 * their own (pv_vault_begin), which cannot nest in a group-commit batch.
 */
#include <stdlib.h>
#include <string.h>

#include "http/api.h"
#include "http/http.h"
#include "privault/error.h"
#include "privault/rights.h"

static const char *const type_enum[] = { "access", "portability", "deletion", "rectification", "restriction",
					 "objection", "opt_out", "limit_sensitive", "withdraw_consent", NULL };
static const char *const requester_enum[] = { "subject", "agent", "parent", NULL };
static const char *const regime_enum[] = { "gdpr", "ccpa", "lgpd", NULL };
static const char *const move_enum[] = { "in_progress", "completed", "partially_completed", "withdrawn", NULL };

static const pv_http_field submit_body[] = {
	{ "type", PV_HTTP_T_STRING, 1, 32, NULL, "The request type.", type_enum },
	{ "id_kind", PV_HTTP_T_STRING, 0, 32, NULL,
	  "Kind of the identifier the requester gives (email to receive the verification code).", NULL },
	{ "id_value", PV_HTTP_T_STRING, 0, 320, NULL, "Its value; kept only as a keyed blind index.", NULL },
	{ "subject_id", PV_HTTP_T_STRING, 0, 36, NULL,
	  "Admins: a known subject instead of an identifier (identity checked outside privault).", NULL },
	{ "regime", PV_HTTP_T_STRING, 0, 8, NULL, "Default: the subject's regime, else the policy's default.",
	  regime_enum },
	{ "requester", PV_HTTP_T_STRING, 0, 8, NULL, "Who asks (default subject).", requester_enum },
	{ "authorization", PV_HTTP_T_STRING, 0, 128, NULL,
	  "Agent or parent: a reference to the proof of authorization (stored as a hash).", NULL },
	{ "details", PV_HTTP_T_ANY_OBJECT, 0, 0, NULL,
	  "Ids only: record_id (rectification), purposes (objection), categories, fields.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};
static const pv_http_field code_body[] = {
	{ "id_kind", PV_HTTP_T_STRING, 1, 32, NULL, "email: the identifier given at intake.", NULL },
	{ "id_value", PV_HTTP_T_STRING, 1, 320, NULL, "Its value.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};
static const pv_http_field verify_body[] = {
	{ "code", PV_HTTP_T_STRING, 1, 16, NULL, "The one-time code (8 digits).", NULL },
	{ "id_kind2", PV_HTTP_T_STRING, 0, 32, NULL, "Standard level: a second identifier's kind.", NULL },
	{ "id_value2", PV_HTTP_T_STRING, 0, 320, NULL, "Its value.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};
static const pv_http_field move_body[] = {
	{ "state", PV_HTTP_T_STRING, 1, 32, NULL, "The new state.", move_enum },
	{ "reason", PV_HTTP_T_STRING, 0, 64, NULL, "A reason code ^[a-z][a-z0-9_]{0,63}$.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};
static const pv_http_field reason_body[] = {
	{ "reason", PV_HTTP_T_STRING, 1, 64, NULL,
	  "A reason code: manifestly_unfounded, excessive, identity_not_verified, ...", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};
static const pv_http_field fulfil_body[] = {
	{ "data", PV_HTTP_T_ANY_OBJECT, 0, 0, NULL, "Rectification: the record's new data (the record is details.record_id).",
	  NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};
static const pv_http_field extend_body[] = {
	{ "reason", PV_HTTP_T_STRING, 1, 64, NULL, "A reason code (complex_request, number_of_requests, ...).", NULL },
	{ "id_kind", PV_HTTP_T_STRING, 1, 32, NULL, "email: the intake identifier, where the notice goes.", NULL },
	{ "id_value", PV_HTTP_T_STRING, 1, 320, NULL, "Its value.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

#define REQUEST_PROPS \
	"\"id\":{\"type\":\"string\"},\"subject_id\":{\"type\":[\"string\",\"null\"]}," \
	"\"type\":{\"type\":\"string\"},\"regime\":{\"type\":\"string\"},\"requester\":{\"type\":\"string\"}," \
	"\"state\":{\"type\":\"string\"},\"verification_needed\":{\"type\":\"string\"}," \
	"\"verification_reached\":{\"type\":\"string\"},\"received_at\":{\"type\":\"string\"}," \
	"\"acknowledge_by\":{\"type\":[\"string\",\"null\"]},\"due_at\":{\"type\":\"string\"}," \
	"\"extended_due\":{\"type\":[\"string\",\"null\"]},\"deadline\":{\"type\":\"string\"}," \
	"\"closed_at\":{\"type\":[\"string\",\"null\"]},\"reason\":{\"type\":[\"string\",\"null\"]}," \
	"\"available_at\":{\"type\":[\"string\",\"null\"]},\"fee_due\":{\"type\":\"boolean\"}," \
	"\"complaint_route\":{\"type\":\"string\"},\"details\":{\"type\":\"object\"}," \
	"\"history\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}}," \
	"\"fulfilment\":{\"type\":[\"object\",\"null\"]}"
#define REQUEST_SCHEMA \
	"{\"type\":\"object\",\"required\":[\"id\",\"type\",\"regime\",\"state\",\"due_at\",\"deadline\"]," \
	"\"properties\":{" REQUEST_PROPS "}}"
static const char schema_request[] = REQUEST_SCHEMA;
static const char schema_requests[] =
	"{\"type\":\"object\",\"required\":[\"requests\"],\"properties\":{\"requests\":{\"type\":\"array\","
	"\"items\":" REQUEST_SCHEMA "}}}";
static const char schema_report[] =
	"{\"type\":\"object\",\"required\":[\"year\",\"requests\"],\"properties\":{\"year\":{\"type\":\"integer\"},"
	"\"requests\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"object\",\"required\":[\"received\","
	"\"complied\",\"partial\",\"denied\",\"open\",\"mean_days\",\"median_days\"]}}}}";

static const int err_write[] = { 400, 401, 403, 404, 413, 415, 429, 500, 503, 0 };
static const int err_read[] = { 400, 401, 403, 404, 429, 500, 503, 0 };

static const char *level_name(pv_verification l)
{
	static const char *const n[] = { "none", "basic", "standard", "strong" };
	return (unsigned)l <= PV_VERIFY_STRONG ? n[l] : "?";
}

static json_t *tnull(pv_time t)
{
	return t ? pv_api_time(t) : json_null();
}

static json_t *request_json(pv_vault *v, const pv_request *r, int with_subject)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s?,s:o,s:b}",
			      "id", r->id, "type", pv_policy_request_name(r->type), "regime", pv_regime_name(r->regime),
			      "requester", pv_requester_name(r->requester), "state", pv_request_state_name(r->state),
			      "verification_needed", level_name(r->needed),
			      "verification_reached", level_name(r->reached),
			      "received_at", pv_api_time(r->received_at), "acknowledge_by", tnull(r->ack_due),
			      "due_at", pv_api_time(r->due_at), "extended_due", tnull(r->extended_due),
			      "deadline", pv_api_time(pv_request_deadline(r)), "closed_at", tnull(r->closed_at),
			      "reason", r->reason[0] ? r->reason : NULL, "available_at", tnull(r->available_at),
			      "fee_due", r->fee_due);
	if (!j)
		return NULL;
	if (with_subject)
		json_object_set_new(j, "subject_id", r->subject_id[0] ? json_string(r->subject_id) : json_null());
	if (r->state == PV_REQ_REFUSED)
		json_object_set_new(j, "complaint_route",
				    json_string(pv_request_complaint_route(pv_vault_policy(v), r->regime)));
	if (r->details) {
		json_t *d = json_loads(r->details, 0, NULL);
		if (d)
			json_object_set_new(j, "details", d);
	}
	return j;
}

/* Answer `status` with request id as stored, its history included. */
/*
 * What fulfilment did, for the answer of POST /v1/requests/{id}/fulfil: null
 * for a request about an unknown identity (no_data); else {type, partial} plus,
 * for access/portability, `package` (counts) and, for a deletion, `erasure`
 * (full, deleted, kept, notified, and per category the records, those kept and
 * the exception id/kind keeping them). Counts and ids only, never data.
 */
static json_t *fulfilment_json(const pv_request *r, const pv_fulfil_result *f)
{
	json_t *o, *items;

	if (!r->subject_id[0])
		return json_null();
	o = json_pack("{s:s,s:b}", "type", pv_policy_request_name(r->type), "partial", f->partial);
	if (o && (r->type == PV_POLICY_REQ_ACCESS || r->type == PV_POLICY_REQ_PORTABILITY))
		json_object_set_new(o, "package", json_pack("{s:I,s:I,s:I,s:I}", "records", (json_int_t)f->package.records,
							    "withheld", (json_int_t)f->package.withheld, "categories",
							    (json_int_t)f->package.categories, "disclosures",
							    (json_int_t)f->package.disclosures));
	if (o && r->type == PV_POLICY_REQ_DELETION) {
		items = json_array();
		for (size_t i = 0; items && i < f->erasure.nitems; i++) {
			const pv_erasure_item *it = &f->erasure.items[i];

			json_array_append_new(items, json_pack("{s:s,s:I,s:I,s:s?,s:s?}", "category", it->category,
							       "records", (json_int_t)it->records, "kept",
							       (json_int_t)it->kept, "exception",
							       it->exception[0] ? it->exception : NULL, "kind", it->kind));
		}
		json_object_set_new(o, "erasure", json_pack("{s:b,s:I,s:I,s:I,s:o}", "full", f->erasure.full, "deleted",
							     (json_int_t)f->erasure.deleted, "kept",
							     (json_int_t)f->erasure.kept, "notified",
							     (json_int_t)f->erasure.notified, "categories", items));
	}
	return o;
}

/*
 * Answer the request `id` (with its history) with `status`; with f (the
 * fulfil route) also its `fulfilment`.
 */
static int answer_with(pv_vault *v, pv_http_request *req, pv_http_response *res, const char *id, int status,
		       const pv_fulfil_result *f)
{
	pv_request r;
	pv_request_event *h = NULL;
	size_t n = 0;
	json_t *j, *arr;
	int rc;

	if ((rc = pv_request_get(v, req->caller, id, &r)) != 0)
		return pv_http_problem_from_error(res, rc);
	if ((rc = pv_request_history(v, req->caller, id, &h, &n)) != 0) {
		pv_request_clear(&r);
		return pv_http_problem_from_error(res, rc);
	}
	j = request_json(v, &r, 1);
	if (j && f)
		json_object_set_new(j, "fulfilment", fulfilment_json(&r, f));
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:s,s:s}", "from", pv_request_state_name(h[i].from),
						     "to", pv_request_state_name(h[i].to), "at", pv_api_time(h[i].at),
						     "actor", h[i].actor, "reason", h[i].reason));
	free(h);
	pv_request_clear(&r);
	if (!j || !arr) {
		json_decref(j);
		json_decref(arr);
		return pv_http_problem_from_error(res, PV_ENOMEM);
	}
	json_object_set_new(j, "history", arr);
	return pv_http_json(res, status, j);
}

static int answer(pv_vault *v, pv_http_request *req, pv_http_response *res, const char *id, int status)
{
	return answer_with(v, req, res, id, status, NULL);
}

static const char *str(pv_http_request *req, const char *name)
{
	return json_string_value(json_object_get(req->body, name));
}

/* POST /v1/requests -> 201 request (without subject_id). */
static int submit(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_request_spec s;
	pv_request r;
	json_t *details = json_object_get(req->body, "details"), *j;
	char *dtext = NULL;
	const char *requester = str(req, "requester");
	int rc;

	memset(&s, 0, sizeof(s));
	if (pv_request_type_parse(&s.type, str(req, "type")) != 0 ||
	    (requester && pv_requester_parse(&s.requester, requester) != 0))
		return pv_http_problem_from_error(res, PV_EINVAL);
	s.id_kind = str(req, "id_kind");
	s.id_value = str(req, "id_value");
	s.subject_id = str(req, "subject_id");
	if (!s.subject_id && (!s.id_kind || !s.id_value))
		return pv_http_problem(res, 400, "invalid-value", "Invalid value",
				       "id_kind, id_value: expected an identifier (or subject_id, admins)");
	s.regime = str(req, "regime");
	s.authorization = str(req, "authorization");
	if (details && !(dtext = json_dumps(details, JSON_COMPACT)))
		return pv_http_problem_from_error(res, PV_ENOMEM);
	s.details = dtext;
	rc = pv_request_submit(v, req->caller, &s, &r);
	free(dtext);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	j = request_json(v, &r, 0);
	snprintf(res->location, sizeof(res->location), "/v1/requests/%s", r.id);
	pv_request_clear(&r);
	if (!j)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 201, j);
}

static int show(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	if (!pv_api_uuid_or_404(res, req->params[0], "request"))
		return 0;
	return answer(v, req, res, req->params[0], 200);
}

/* The shape of every POST /v1/requests/{id}/<verb>: run op, answer the request. */
#define ID_OP(name, call) \
	static int name(pv_vault *v, pv_http_request *req, pv_http_response *res) \
	{ \
		const char *id = req->params[0]; \
		int rc; \
		if (!pv_api_uuid_or_404(res, id, "request")) \
			return 0; \
		if ((rc = (call)) != 0) \
			return pv_http_problem_from_error(res, rc); \
		return answer(v, req, res, id, 200); \
	}

ID_OP(send_code, pv_request_code_send(v, req->caller, id, str(req, "id_kind"), str(req, "id_value")))
ID_OP(verify, pv_request_verify(v, req->caller, id, str(req, "code"), str(req, "id_kind2"), str(req, "id_value2")))
ID_OP(confirm, pv_request_confirm(v, req->caller, id))
ID_OP(refuse, pv_request_refuse(v, req->caller, id, str(req, "reason")))
ID_OP(excessive, pv_request_excessive(v, req->caller, id, str(req, "reason")))
ID_OP(fee_paid, pv_request_fee_paid(v, req->caller, id))
ID_OP(extend, pv_request_extend(v, req->caller, id, str(req, "reason"), str(req, "id_kind"), str(req, "id_value")))

/*
 * POST /v1/requests/{id}/fulfil {data?}: fulfilment without package files; the
 * answer is the request plus `fulfilment` (fulfilment_json).
 */
static int fulfil(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	json_t *data = req->body ? json_object_get(req->body, "data") : NULL;
	pv_fulfil_result result;
	char *text = NULL;
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "request"))
		return 0;
	if (data && !(text = json_dumps(data, JSON_COMPACT)))
		return pv_http_problem_from_error(res, PV_ENOMEM);
	rc = pv_request_fulfil(v, req->caller, req->params[0], NULL, text, text ? strlen(text) : 0, &result);
	free(text);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	rc = answer_with(v, req, res, req->params[0], 200, &result);
	pv_fulfil_result_free(&result);
	return rc;
}

static int move(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const char *st = str(req, "state");
	pv_request_state to = PV_REQ_STATE_COUNT;
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "request"))
		return 0;
	for (int i = 0; i < PV_REQ_STATE_COUNT; i++)
		if (st && strcmp(st, pv_request_state_name((pv_request_state)i)) == 0)
			to = (pv_request_state)i;
	if ((rc = pv_request_transition(v, req->caller, req->params[0], to, str(req, "reason"))) != 0)
		return pv_http_problem_from_error(res, rc);
	return answer(v, req, res, req->params[0], 200);
}

/* GET /v1/requests/due[?within_days=N] -> open requests overdue (or due within N days), earliest first. */
static int due(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char buf[16] = "";
	long days = 0;
	pv_request *l = NULL;
	size_t n = 0;
	json_t *arr;
	int q = pv_api_query_get(req->query, "within_days", buf, sizeof(buf)), rc;

	if (q == 1) {
		char *end;
		days = strtol(buf, &end, 10);
		if (!*buf || *end || days < 0 || days > 3650)
			q = -1;
	}
	if (q < 0)
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "within_days: expected 0..3650");
	if ((rc = pv_request_due(v, req->caller, (int64_t)days * 86400, &l, &n)) != 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, request_json(v, &l[i], 1));
	pv_request_list_free(l, n);
	if (!arr)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:o}", "requests", arr));
}

/* GET /v1/reports/requests?year=N -> the CCPA metrics per type. */
static int report(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char buf[16] = "";
	pv_request_metrics m[PV_POLICY_REQ_COUNT];
	long year = 0;
	json_t *o;
	int rc;

	if (pv_api_query_get(req->query, "year", buf, sizeof(buf)) != 1 || (year = strtol(buf, NULL, 10)) < 1970 ||
	    year > 9998)
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "year: expected 1970..9998");
	if ((rc = pv_request_report(v, req->caller, (int)year, m)) != 0)
		return pv_http_problem_from_error(res, rc);
	o = json_object();
	for (int t = 0; o && t < PV_POLICY_REQ_COUNT; t++)
		json_object_set_new(o, pv_policy_request_name((pv_policy_request)t),
				    json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "received", (json_int_t)m[t].received,
					      "complied", (json_int_t)m[t].complied, "partial", (json_int_t)m[t].partial,
					      "denied", (json_int_t)m[t].denied, "open", (json_int_t)m[t].open,
					      "mean_days", m[t].mean_days, "median_days", m[t].median_days));
	if (!o)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:I,s:o}", "year", (json_int_t)year, "requests", o));
}

#define W(m, p, h, r, s, d, b) \
	{ .method = m, .pattern = p, .handler = h, .roles = r, .tag = "requests", .summary = s, .description = d, \
	  .body = b, .response_schema = schema_request, .success_status = 200, .error_statuses = err_write, \
	  .executor = 1, .exclusive = 1 }
#define WRITERS (PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE)

const pv_http_route pv_http_rights_routes[] = {
	{ .method = "POST", .pattern = "/v1/requests", .handler = submit, .roles = WRITERS, .tag = "requests",
	  .summary = "Take a data-subject request in",
	  .description = "By the subject, an authorized agent or a parent (authorization reference required). "
			 "Answers the same whether or not the person is known (no subject_id). When the type "
			 "needs verification a one-time code is queued through the outbox to id_value (email); "
			 "otherwise the request is verified at once. Deadlines from the regime's rights settings.",
	  .body = submit_body, .response_schema = schema_request, .success_status = 201,
	  .error_statuses = err_write, .executor = 1, .exclusive = 1 },
	{ .method = "GET", .pattern = "/v1/requests/due", .handler = due, .roles = PV_HTTP_ROLE_ANY,
	  .tag = "requests", .summary = "Overdue and nearly-due requests",
	  .description = "Open requests whose deadline (extended when extended) has passed, or falls within "
			 "?within_days=N days; earliest first.",
	  .response_schema = schema_requests, .success_status = 200, .error_statuses = err_read, .executor = 1,
	  .read_only = 1 },
	{ .method = "GET", .pattern = "/v1/requests/{id}", .handler = show, .roles = PV_HTTP_ROLE_ANY,
	  .tag = "requests", .summary = "A request with its history",
	  .response_schema = schema_request, .success_status = 200, .error_statuses = err_read, .executor = 1,
	  .read_only = 1 },
	W("POST", "/v1/requests/{id}/code", send_code, WRITERS, "Send a new one-time code",
	  "To the identifier given at intake only (403 otherwise); resets the attempts.", code_body),
	W("POST", "/v1/requests/{id}/verify", verify, WRITERS, "Enter the one-time code",
	  "403 on a wrong, expired or exhausted code (5 attempts, 15 minutes). With id_kind2/id_value2 "
	  "of the same person the standard level is reached. Entering verified runs the parent and quota "
	  "checks, which may refuse the request (reason, available_at, complaint_route).", verify_body),
	W("POST", "/v1/requests/{id}/confirm", confirm, PV_HTTP_ROLE_ADMIN, "Confirm strong verification",
	  "An admin vouches for the identity or the agent's authorization after standard was reached.", NULL),
	W("POST", "/v1/requests/{id}/transition", move, WRITERS, "Move a request along the state machine",
	  "in_progress, completed, partially_completed or withdrawn; 400 for an edge the machine lacks.",
	  move_body),
	W("POST", "/v1/requests/{id}/refuse", refuse, WRITERS, "Refuse a request",
	  "With a reason code; the answer carries the complaint route.", reason_body),
	W("POST", "/v1/requests/{id}/excessive", excessive, PV_HTTP_ROLE_ADMIN,
	  "Manifestly unfounded or excessive",
	  "Refused, or a fee is charged (fee_due) when the policy says excessive: charge.", reason_body),
	W("POST", "/v1/requests/{id}/fee-paid", fee_paid, PV_HTTP_ROLE_ADMIN, "Record the fee as paid", NULL, NULL),
	W("POST", "/v1/requests/{id}/fulfil", fulfil, PV_HTTP_ROLE_ADMIN, "Carry a verified request out",
	  "Through fulfilment (pv_fulfil_run): erasure with exceptions, rectification with data, restriction, "
	  "consent events for objection/opt-out/limit/withdrawal; access and portability packages are written "
	  "with the CLI (request fulfil --out DIR). Then completed, or partially_completed when something was "
	  "kept; a request about an unknown identity completes with reason no_data. The answer adds `fulfilment`: "
	  "type, partial, and the package counts or the erasure per category (records, kept, exception, kind); "
	  "null for no_data.", fulfil_body),
	W("POST", "/v1/requests/{id}/extend", extend, WRITERS, "Extend the deadline once",
	  "Only before the first deadline passes, by the regime's extension; the notice goes through the outbox "
	  "to the intake identifier.", extend_body),
	{ .method = "GET", .pattern = "/v1/reports/requests", .handler = report,
	  .roles = PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_AUDITOR, .tag = "requests",
	  .summary = "CCPA request metrics of one year",
	  .description = "?year=N: per request type received, complied with in whole or in part, denied, open, "
			 "mean and median days to respond.",
	  .response_schema = schema_report, .success_status = 200, .error_statuses = err_read, .executor = 1 },
	{ .method = NULL },
};
