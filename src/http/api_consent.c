/*
 * The consent ledger over HTTP (docs/api.md "Consent", docs/consent.md):
 * record events with their proof, signal strings (TCF, US Privacy, GPP),
 * current state, history, Kantara receipts (JSON, CSV), bulk export,
 * opt-out deadlines. The banner's public routes and GET /consent.js are in
 * api_consent_banner.c (pv_http_banner_routes).
 *
 * Roles. Admins and services record and read a subject ref's ledger (the
 * ledger checks the caller); auditors never read a subject's ledger, but may
 * list opt-out deadlines and run the bulk export: consent metadata (ids,
 * purposes, actions, times, hashed user agents, truncated addresses) is not
 * record data, and proving consent to a regulator is an audit task.
 *
 * Global Privacy Control. Every request to a route with a {ref} that carries
 * `Sec-GPC: 1` records the GPC opt-outs for that ref through the ledger
 * (pv_consent_gpc, or ctx.gpc on writes, so a conflicting opt-in in the same
 * request is recorded as a conflict). Those routes are therefore not
 * read_only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/api.h"
#include "http/api_consent.h"
#include "http/http.h"
#include "privault/consent.h"
#include "privault/error.h"

static const char *const action_names[] = { "granted", "refused", "withdrawn", "opted_out", "opted_in",
					     "objected", "limited", NULL };
static const char *const source_names[] = { "banner", "form", "api", "import", "gpc", "tcf", "usp", "gpp",
					     "request", NULL };
static const char *const signal_types[] = { "tcf", "usp", "gpp", NULL };

static const pv_http_field item_fields[] = {
	{ "purpose", PV_HTTP_T_STRING, 1, PV_CONSENT_PURPOSE_MAX, NULL,
	  "Purpose id of the policy, cookie class, or TCF ref (tcf:N, tcf-vendor ...).", NULL },
	{ "vendor", PV_HTTP_T_INTEGER, 0, 0, NULL, "TCF vendor id (0 or absent: none).", NULL },
	{ "action", PV_HTTP_T_STRING, 1, 0, NULL, "What happened.", action_names },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field events_body[] = {
	{ "items", PV_HTTP_T_ARRAY_OBJECT, 1, 1024, item_fields, "The decisions of one choice (one receipt).", NULL },
	{ "source", PV_HTTP_T_STRING, 0, 0, NULL, "Where the choice came from (default api).", source_names },
	{ "notice_version", PV_HTTP_T_STRING, 0, PV_CONSENT_NOTICE_MAX, NULL,
	  "Notice version shown (default: the current policy's version label).", NULL },
	{ "signal", PV_HTTP_T_STRING, 0, 16384, NULL, "The exact signal string received, kept as proof.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field signal_body[] = {
	{ "type", PV_HTTP_T_STRING, 1, 0, NULL, "tcf (TC string), usp (US Privacy) or gpp.", signal_types },
	{ "string", PV_HTTP_T_STRING, 1, 16384, NULL, "The string as received.", NULL },
	{ "notice_version", PV_HTTP_T_STRING, 0, PV_CONSENT_NOTICE_MAX, NULL, "Notice version shown.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const char schema_result[] =
	"{\"type\":\"object\",\"required\":[\"receipt_id\",\"events\",\"conflicts\",\"deadlines\"],\"properties\":{"
	"\"receipt_id\":{\"type\":[\"string\",\"null\"]},\"events\":{\"type\":\"integer\"},"
	"\"conflicts\":{\"type\":\"integer\"},\"deadlines\":{\"type\":\"integer\"}}}";

#define EVENT_SCHEMA \
	"{\"type\":\"object\",\"required\":[\"id\",\"receipt_id\",\"subject\",\"purpose\",\"action\",\"source\",\"at\"]," \
	"\"properties\":{\"id\":{\"type\":\"string\"},\"receipt_id\":{\"type\":\"string\"},\"seq\":{\"type\":\"integer\"}," \
	"\"subject\":{\"type\":\"string\"},\"purpose\":{\"type\":\"string\"},\"vendor\":{\"type\":\"integer\"}," \
	"\"action\":{\"type\":\"string\"},\"mechanism\":{\"type\":[\"string\",\"null\"]},\"source\":{\"type\":\"string\"}," \
	"\"notice_version\":{\"type\":\"string\"},\"policy_version\":{\"type\":\"string\"},\"at\":{\"type\":\"string\"}," \
	"\"signal\":{\"type\":[\"string\",\"null\"]},\"ua_hash\":{\"type\":\"string\"},\"client\":{\"type\":\"string\"}," \
	"\"conflict\":{\"type\":[\"string\",\"null\"]}}}"

static const char schema_history[] =
	"{\"type\":\"object\",\"required\":[\"subject\",\"events\"],\"properties\":{\"subject\":{\"type\":\"string\"},"
	"\"events\":{\"type\":\"array\",\"items\":" EVENT_SCHEMA "}}}";

static const char schema_state[] =
	"{\"type\":\"object\",\"required\":[\"subject\",\"purposes\"],\"properties\":{\"subject\":{\"type\":\"string\"},"
	"\"purposes\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"purpose\",\"consent\","
	"\"opted_out\"],\"properties\":{\"purpose\":{\"type\":\"string\"},\"vendor\":{\"type\":\"integer\"},"
	"\"consent\":{\"type\":\"string\",\"enum\":[\"none\",\"granted\",\"refused\",\"withdrawn\"]},"
	"\"consent_at\":{\"type\":[\"string\",\"null\"]},\"notice_version\":{\"type\":\"string\"},"
	"\"opted_out\":{\"type\":\"boolean\"},\"gpc\":{\"type\":\"boolean\"},\"opted_out_at\":{\"type\":[\"string\",\"null\"]},"
	"\"objected\":{\"type\":\"boolean\"},\"limited\":{\"type\":\"boolean\"}}}}}}";

static const char schema_deadlines[] =
	"{\"type\":\"object\",\"required\":[\"deadlines\"],\"properties\":{\"deadlines\":{\"type\":\"array\",\"items\":"
	"{\"type\":\"object\",\"required\":[\"event_id\",\"subject\",\"purpose\",\"at\",\"due\",\"overdue\"],"
	"\"properties\":{\"event_id\":{\"type\":\"string\"},\"subject\":{\"type\":\"string\"},"
	"\"purpose\":{\"type\":\"string\"},\"at\":{\"type\":\"string\"},\"due\":{\"type\":\"string\"},"
	"\"done_at\":{\"type\":[\"string\",\"null\"]},\"overdue\":{\"type\":\"boolean\"}}}}}}";

static const char schema_receipt[] = "{\"type\":\"object\",\"required\":[\"version\",\"consentReceiptID\"]}";
static const char schema_csv[] = "{\"type\":\"string\",\"contentMediaType\":\"text/csv\"}";
static const char schema_export[] = "{\"type\":\"string\",\"contentMediaType\":\"application/x-ndjson\"}";

static const int err_write[] = { 400, 401, 403, 404, 410, 413, 415, 429, 500, 503, 0 };
static const int err_read[] = { 400, 401, 403, 404, 410, 429, 500, 503, 0 };
static const int err_list[] = { 400, 401, 403, 429, 500, 503, 0 };

/* Fill the proof of a request into ctx (strings borrowed from req and its body). */
void pv_api_consent_context(const pv_http_request *req, pv_consent_source source, pv_consent_context *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->source = source;
	ctx->user_agent = req->user_agent;
	ctx->client_ip = req->client_ip;
	ctx->gpc = req->gpc;
	if (req->body != NULL) {
		ctx->notice_version = json_string_value(json_object_get(req->body, "notice_version"));
		ctx->signal = json_string_value(json_object_get(req->body, "signal"));
	}
}

/* The {ref} parameter: 1 when a valid subject ref, else a 404 problem and 0. */
static int ref_or_404(pv_http_response *res, const char *ref)
{
	if (ref != NULL && pv_consent_ref_valid(ref))
		return 1;
	pv_http_problem(res, 404, "not-found", "Not found", "subject: no such subject or device");
	return 0;
}

/* A result answer: 201 {receipt_id, events, conflicts, deadlines}. */
static int result_answer(pv_http_response *res, const pv_consent_result *r, int status)
{
	return pv_http_json(res, status, json_pack("{s:s?,s:I,s:I,s:I}", "receipt_id",
						   r->events > 0 ? r->receipt_id : NULL, "events",
						   (json_int_t)r->events, "conflicts", (json_int_t)r->conflicts,
						   "deadlines", (json_int_t)r->deadlines));
}

/*
 * Sec-GPC: 1 on a read of {ref}: record the GPC opt-outs first (the header is
 * a signal wherever it arrives). 0 on success or nothing to do, else a problem.
 */
static int gpc_on_read(pv_vault *v, pv_http_request *req, pv_http_response *res, const char *ref)
{
	pv_consent_context ctx;
	int rc;

	if (!req->gpc || req->caller == NULL || req->caller->role == PV_ROLE_AUDITOR)
		return 0;
	pv_api_consent_context(req, PV_CONSENT_SRC_GPC, &ctx);
	rc = pv_consent_gpc(v, req->caller, ref, &ctx, NULL);
	if (rc != 0) {
		pv_http_problem_from_error(res, rc);
		return -1;
	}
	return 0;
}

/*
 * The ledger names a bad item "items[N].field: ..." (pv_error_last): answer
 * 400 with that field's JSON pointer. 0 when it did, -1 for other messages.
 */
static int item_problem(pv_http_response *res)
{
	const char *msg = pv_error_last();
	char field[32], ptr[64];
	unsigned long idx;
	int used = 0;

	if (msg == NULL || sscanf(msg, "items[%lu].%31[a-z_]:%n", &idx, field, &used) != 2 || used == 0)
		return -1;
	snprintf(ptr, sizeof(ptr), "/items/%lu/%s", idx, field);
	pv_http_problem(res, 400, "invalid-value", "Invalid value", "%s", msg);
	pv_http_problem_field(res, ptr, msg + used + (msg[used] == ' '));
	return 0;
}

/* POST /v1/consent/subjects/{ref}/events {items, source?, notice_version?, signal?} -> 201 result. */
static int h_events(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	json_t *items = json_object_get(req->body, "items"), *it;
	const char *src = json_string_value(json_object_get(req->body, "source"));
	pv_consent_item *list = NULL;
	pv_consent_context ctx;
	pv_consent_result r;
	pv_consent_source source = PV_CONSENT_SRC_API;
	size_t i, n = json_array_size(items);
	int rc;

	if (!ref_or_404(res, req->params[0]))
		return 0;
	if (src != NULL && pv_consent_source_parse(&source, src) != 0)
		return pv_http_problem_from_error(res, PV_EINVAL);
	if (n == 0) {
		pv_http_problem(res, 400, "invalid-value", "Invalid value", "items: expected at least one item");
		pv_http_problem_field(res, "/items", "expected at least one item");
		return 0;
	}
	if ((list = calloc(n, sizeof(*list))) == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	json_array_foreach(items, i, it) {
		json_t *vendor = json_object_get(it, "vendor");
		char ptr[48];

		list[i].purpose = json_string_value(json_object_get(it, "purpose"));
		pv_consent_action_parse(&list[i].action, json_string_value(json_object_get(it, "action")));
		if (vendor != NULL) {
			json_int_t vv = json_integer_value(vendor);

			if (vv < 0 || vv > 0xffff) {
				free(list);
				snprintf(ptr, sizeof(ptr), "/items/%zu/vendor", i);
				pv_http_problem(res, 400, "invalid-value", "Invalid value",
						"items[%zu].vendor: expected 0..65535", i);
				pv_http_problem_field(res, ptr, "expected 0..65535");
				return 0;
			}
			list[i].vendor = (uint32_t)vv;
		}
	}
	pv_api_consent_context(req, source, &ctx);
	rc = pv_consent_record(v, req->caller, req->params[0], list, n, &ctx, &r);
	free(list);
	if (rc == PV_EINVAL && item_problem(res) == 0)
		return 0;
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	return result_answer(res, &r, 201);
}

/* POST /v1/consent/subjects/{ref}/signals {type, string, notice_version?} -> 201 result. */
static int h_signal(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const char *type = json_string_value(json_object_get(req->body, "type"));
	const char *s = json_string_value(json_object_get(req->body, "string"));
	size_t len = json_string_length(json_object_get(req->body, "string"));
	pv_consent_context ctx;
	pv_consent_result r;
	int rc;

	if (!ref_or_404(res, req->params[0]))
		return 0;
	if (strcmp(type, "tcf") == 0) {
		pv_api_consent_context(req, PV_CONSENT_SRC_TCF, &ctx);
		rc = pv_consent_record_tcf(v, req->caller, req->params[0], s, len, &ctx, &r);
	} else if (strcmp(type, "usp") == 0) {
		pv_api_consent_context(req, PV_CONSENT_SRC_USP, &ctx);
		rc = pv_consent_record_usp(v, req->caller, req->params[0], s, len, &ctx, &r);
	} else {
		pv_api_consent_context(req, PV_CONSENT_SRC_GPP, &ctx);
		rc = pv_consent_record_gpp(v, req->caller, req->params[0], s, len, &ctx, &r);
	}
	if (rc == PV_EINVAL) {   /* the codec's message names what was wrong with the string */
		pv_http_problem(res, 400, "invalid-signal", "Invalid signal string", "string: %s", pv_error_last());
		pv_http_problem_field(res, "/string", "not a valid string of this type");
		return 0;
	}
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	return result_answer(res, &r, 201);
}

/* One event as JSON (new reference). */
static json_t *event_json(const pv_consent_event *e)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:s,s:I,s:s,s:s?,s:s,s:s,s:s,s:o,s:s?,s:s,s:s,s:s?}", "id", e->id,
			 "receipt_id", e->receipt_id, "seq", (json_int_t)e->seq, "subject", e->subject, "purpose",
			 e->purpose, "vendor", (json_int_t)e->vendor, "action", pv_consent_action_name(e->action),
			 "mechanism",
			 !e->has_mechanism ? NULL
			 : e->mechanism == PV_CONSENT_OPT_IN ? "opt_in"
			 : e->mechanism == PV_CONSENT_OPT_OUT ? "opt_out" : "notice_only",
			 "source", pv_consent_source_name(e->source), "notice_version", e->notice_version,
			 "policy_version", e->policy_version, "at", pv_api_time(e->at), "signal", e->signal,
			 "ua_hash", e->ua_hash, "client", e->client, "conflict",
			 e->conflict ? (e->conflict_reason[0] ? e->conflict_reason : "conflict") : NULL);
}

/* GET /v1/consent/subjects/{ref}/history[?purpose=] -> 200 {subject, events}. */
static int h_history(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char purpose[PV_CONSENT_PURPOSE_MAX + 1];
	pv_consent_event *ev = NULL;
	size_t n = 0, i;
	json_t *arr;
	int q, rc;

	if (!ref_or_404(res, req->params[0]))
		return 0;
	q = pv_api_query_get(req->query, "purpose", purpose, sizeof(purpose));
	if (q < 0)
		return pv_http_problem(res, 400, "invalid-value", "Invalid value",
				       "purpose: expected a purpose ref of at most %d bytes", PV_CONSENT_PURPOSE_MAX);
	if (gpc_on_read(v, req, res, req->params[0]) != 0)
		return 0;
	rc = pv_consent_history(v, req->caller, req->params[0], q == 1 ? purpose : NULL, &ev, &n);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, event_json(&ev[i]));
	pv_consent_events_free(ev, n);
	if (arr == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:s,s:o}", "subject", req->params[0], "events", arr));
}

/* GET /v1/consent/subjects/{ref} -> 200 {subject, purposes: [state ...]}. */
static int h_state(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_consent_state *st = NULL;
	size_t n = 0, i;
	json_t *arr;
	int rc;

	if (!ref_or_404(res, req->params[0]))
		return 0;
	if (gpc_on_read(v, req, res, req->params[0]) != 0)
		return 0;
	rc = pv_consent_state_list(v, req->caller, req->params[0], &st, &n);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:I,s:s,s:o,s:s,s:b,s:b,s:o,s:b,s:b}", "purpose",
						     st[i].purpose, "vendor", (json_int_t)st[i].vendor, "consent",
						     pv_consent_status_name(st[i].consent), "consent_at",
						     st[i].consent_at ? pv_api_time(st[i].consent_at) : json_null(),
						     "notice_version", st[i].notice_version, "opted_out",
						     st[i].opted_out, "gpc", st[i].gpc, "opted_out_at",
						     st[i].opted_out_at ? pv_api_time(st[i].opted_out_at) : json_null(),
						     "objected", st[i].objected, "limited", st[i].limited));
	free(st);
	if (arr == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:s,s:o}", "subject", req->params[0], "purposes", arr));
}

/* Answer 200 with owned text `text` of media type `ctype`. */
static int text_answer(pv_http_response *res, char *text, const char *ctype)
{
	pv_http_json(res, 200, NULL);
	res->raw = text;
	res->raw_len = strlen(text);
	res->content_type = ctype;
	return 0;
}

/* A receipt of {ref} made by `make` (owned text), answered as `ctype`. */
static int receipt_answer(pv_vault *v, pv_http_request *req, pv_http_response *res,
			  int (*make)(pv_vault *, const pv_caller *, const char *, char **), const char *ctype)
{
	char *doc = NULL;
	int rc;

	if (!ref_or_404(res, req->params[0]))
		return 0;
	if (gpc_on_read(v, req, res, req->params[0]) != 0)
		return 0;
	if ((rc = make(v, req->caller, req->params[0], &doc)) != 0)
		return pv_http_problem_from_error(res, rc);
	return text_answer(res, doc, ctype);
}

/* GET /v1/consent/subjects/{ref}/receipt -> 200 Kantara Consent Receipt JSON. */
static int h_receipt(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	return receipt_answer(v, req, res, pv_consent_receipt_json, "application/json");
}

/* GET /v1/consent/subjects/{ref}/receipt.csv -> 200 text/csv. */
static int h_receipt_csv(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	return receipt_answer(v, req, res, pv_consent_receipt_csv, "text/csv; charset=utf-8");
}

typedef struct {
	char *p;
	size_t len, cap;
} growbuf;

/* pv_consent_export writer: append to a growing buffer. */
static int export_write(const char *buf, size_t len, void *payload)
{
	growbuf *b = payload;

	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		char *p;

		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return pv_error_set(PV_ENOMEM, "export: out of memory");
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	b->p[b->len] = '\0';
	return 0;
}

/* A time query parameter: 0 absent or parsed, -1 with a 400 problem naming it. */
static int query_time(pv_http_request *req, pv_http_response *res, const char *name, pv_time *out)
{
	char text[40];
	int q = pv_api_query_get(req->query, name, text, sizeof(text));

	if (q == 0)
		return 0;
	if (q == 1 && pv_time_parse(out, text) == 0)
		return 0;
	pv_http_problem(res, 400, "invalid-value", "Invalid value", "%s: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ",
			name);
	return -1;
}

/* GET /v1/consent/export?from=&to=&format=jsonl|csv -> 200 JSON lines or CSV. */
static int h_export(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_time from = 0, to = INT64_MAX;
	char format[8] = "jsonl";
	growbuf b = { 0 };
	int q, rc;

	if (query_time(req, res, "from", &from) != 0 || query_time(req, res, "to", &to) != 0)
		return 0;
	q = pv_api_query_get(req->query, "format", format, sizeof(format));
	if (q < 0 || (q == 1 && strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0))
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "format: expected jsonl or csv");
	if (from >= to)
		return pv_http_problem(res, 400, "invalid-value", "Invalid value", "to: expected a time after from");
	rc = pv_consent_export(v, req->caller, from, to,
			       strcmp(format, "csv") == 0 ? PV_CONSENT_EXPORT_CSV : PV_CONSENT_EXPORT_JSONL, export_write,
			       &b, NULL);
	if (rc == 0 && b.p == NULL)
		rc = export_write("", 0, &b);
	if (rc != 0) {
		free(b.p);
		return pv_http_problem_from_error(res, rc);
	}
	return text_answer(res, b.p, strcmp(format, "csv") == 0 ? "text/csv; charset=utf-8" : "application/x-ndjson");
}

/* GET /v1/consent/deadlines?status=pending|overdue|all -> 200 {deadlines}. */
static int h_deadlines(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_consent_deadline_filter f = PV_CONSENT_DEADLINES_PENDING;
	pv_consent_deadline *d = NULL;
	char status[16];
	size_t n = 0, i;
	json_t *arr;
	int q = pv_api_query_get(req->query, "status", status, sizeof(status)), rc;

	if (q == 1 && strcmp(status, "overdue") == 0)
		f = PV_CONSENT_DEADLINES_OVERDUE;
	else if (q == 1 && strcmp(status, "all") == 0)
		f = PV_CONSENT_DEADLINES_ALL;
	else if (q != 0 && !(q == 1 && strcmp(status, "pending") == 0))
		return pv_http_problem(res, 400, "invalid-value", "Invalid value",
				       "status: expected pending, overdue or all");
	if ((rc = pv_consent_deadlines(v, req->caller, f, &d, &n)) != 0)
		return pv_http_problem_from_error(res, rc);
	arr = json_array();
	for (i = 0; arr != NULL && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:b}", "event_id", d[i].event_id,
						     "subject", d[i].subject, "purpose", d[i].purpose, "at",
						     pv_api_time(d[i].at), "due", pv_api_time(d[i].due), "done_at",
						     d[i].done_at ? pv_api_time(d[i].done_at) : json_null(), "overdue",
						     d[i].overdue));
	free(d);
	if (arr == NULL)
		return pv_http_problem_from_error(res, PV_ENOMEM);
	return pv_http_json(res, 200, json_pack("{s:o}", "deadlines", arr));
}

/* POST /v1/consent/deadlines/{event}/done -> 204. */
static int h_deadline_done(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int rc;

	if (!pv_api_uuid_or_404(res, req->params[0], "deadline"))
		return 0;
	if ((rc = pv_consent_deadline_done(v, req->caller, req->params[0])) != 0)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 204, NULL);
}

#define WRITERS (PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE)
#define META (PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_AUDITOR)

const pv_http_route pv_http_consent_routes[] = {
	{ .method = "POST", .pattern = "/v1/consent/subjects/{ref}/events", .handler = h_events, .roles = WRITERS,
	  .tag = "consent", .summary = "Record consent events",
	  .description = "Appends the items of one choice for a subject id or banner device id, under one receipt, "
			 "with the request's proof: the user agent (kept as a hash), the client address (kept "
			 "truncated), the signal string. Sec-GPC: 1 records the GPC opt-outs first; a conflicting "
			 "opt-in is recorded as a conflict.",
	  .body = events_body, .response_schema = schema_result, .success_status = 201,
	  .error_statuses = err_write, .executor = 1 },
	{ .method = "POST", .pattern = "/v1/consent/subjects/{ref}/signals", .handler = h_signal, .roles = WRITERS,
	  .tag = "consent", .summary = "Record a TCF, US Privacy or GPP string",
	  .description = "Decodes the string and appends the events it maps to (docs/consent.md), the string kept "
			 "as proof; a string that does not decode is answered 400 naming /string.",
	  .body = signal_body, .response_schema = schema_result, .success_status = 201,
	  .error_statuses = err_write, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/consent/subjects/{ref}", .handler = h_state, .roles = WRITERS,
	  .tag = "consent", .summary = "Current consent state",
	  .description = "The state derived from the events, per purpose (and TCF vendor).",
	  .response_schema = schema_state, .success_status = 200, .error_statuses = err_read, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/consent/subjects/{ref}/history", .handler = h_history, .roles = WRITERS,
	  .tag = "consent", .summary = "Consent history",
	  .description = "Every event in appending order, with its proof; ?purpose= narrows to one purpose ref.",
	  .response_schema = schema_history, .success_status = 200, .error_statuses = err_read, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/consent/subjects/{ref}/receipt", .handler = h_receipt, .roles = WRITERS,
	  .tag = "consent", .summary = "Consent receipt (Kantara v1.1 style JSON)",
	  .response_schema = schema_receipt, .success_status = 200, .error_statuses = err_read, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/consent/subjects/{ref}/receipt.csv", .handler = h_receipt_csv,
	  .roles = WRITERS, .tag = "consent", .summary = "Consent records as CSV",
	  .response_schema = schema_csv, .success_status = 200, .error_statuses = err_read, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/consent/export", .handler = h_export, .roles = META,
	  .tag = "consent", .summary = "Bulk export of consent events",
	  .description = "Every event with from <= at < to (query parameters, default all time), of every subject "
			 "ref, as JSON lines (format=jsonl, default) or CSV (format=csv). Consent metadata, no "
			 "record data: auditors may run it.",
	  .response_schema = schema_export, .success_status = 200, .error_statuses = err_list, .executor = 1,
	  .read_only = 1 },
	{ .method = "GET", .pattern = "/v1/consent/deadlines", .handler = h_deadlines, .roles = META,
	  .tag = "consent", .summary = "Opt-out processing deadlines",
	  .description = "?status=pending (default), overdue or all; ordered by due time.",
	  .response_schema = schema_deadlines, .success_status = 200, .error_statuses = err_list, .executor = 1,
	  .read_only = 1 },
	{ .method = "POST", .pattern = "/v1/consent/deadlines/{event}/done", .handler = h_deadline_done,
	  .roles = PV_HTTP_ROLE_ADMIN, .tag = "consent", .summary = "Mark an opt-out processed",
	  .description = "Downstream systems applied the opt-out of this event; the deadline is met now. Runs "
			 "alone (exclusive): an unknown id ends its own transaction, never a batch's.",
	  .success_status = 204, .error_statuses = err_read, .executor = 1, .exclusive = 1 },
	{ .method = NULL },
};
