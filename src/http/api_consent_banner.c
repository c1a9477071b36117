/*
 * The cookie banner's server side (docs/consent.md "Cookie banner"):
 *
 *   GET  /consent.js           the banner script (web/consent.js, embedded at
 *                              build time), public and cacheable
 *   GET  /v1/banner            the current policy's cookie classes and cookies
 *                              (no personal data), public
 *   POST /v1/banner/choices    a visitor's choice for their device id, public
 *   OPTIONS on both            CORS preflights
 *
 * The visitor has no API key, so the banner routes are public but narrow: they
 * are rate-limited per client address (banner_burst, banner_per_minute), they
 * answer CORS only to the configured banner_origins, and the choice route can
 * only record the four cookie classes for a device id ("dev_" + base32): never
 * a subject id, never another purpose, and it answers only what the choice
 * itself left in force for that device (no reads of anything else). Choices
 * are recorded by the internal caller "banner" (service role) with source
 * banner and the request's proof; Sec-GPC: 1 (or "gpc": true, what the script
 * read from navigator.globalPrivacyControl) records the GPC opt-outs in the
 * same receipt, so an "accept all" under GPC leaves advertising off and is
 * recorded as a conflict.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/api.h"
#include "http/api_consent.h"
#include "http/http.h"
#include "privault/consent.h"
#include "privault/error.h"
#include "privault/policy.h"

/* The four cookie classes, in the banner's order; index = pv_cookie_class. */
static const char *const classes[] = { "strictly_necessary", "functional", "analytics", "advertising" };
#define NCLASSES 4

static const pv_caller banner_caller = { "banner", PV_ROLE_SERVICE, NULL, 0 };

static const pv_http_field choice_categories[] = {
	{ "strictly_necessary", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "Always on; false is refused.", NULL },
	{ "functional", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "Allow functional cookies.", NULL },
	{ "analytics", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "Allow analytics cookies.", NULL },
	{ "advertising", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "Allow advertising cookies.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field choice_body[] = {
	{ "device", PV_HTTP_T_STRING, 1, PV_CONSENT_REF_MAX, NULL,
	  "The visitor's device id: \"dev_\" and 26 to 60 characters of [a-z2-7].", NULL },
	{ "categories", PV_HTTP_T_OBJECT, 1, 0, choice_categories,
	  "The choice per cookie class; classes left out are not changed.", NULL },
	{ "notice_version", PV_HTTP_T_STRING, 0, PV_CONSENT_NOTICE_MAX, NULL,
	  "The notice version the banner showed (GET /v1/banner's notice_version).", NULL },
	{ "gpc", PV_HTTP_T_BOOLEAN, 0, 0, NULL,
	  "navigator.globalPrivacyControl as the script saw it: true records the GPC opt-outs like "
	  "Sec-GPC: 1 (a script cannot set that header itself).", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const char schema_banner[] =
	"{\"type\":\"object\",\"required\":[\"notice_version\",\"policy\",\"categories\"],\"properties\":{"
	"\"notice_version\":{\"type\":\"string\"},\"policy\":{\"type\":\"string\"},"
	"\"categories\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"required\":[\"id\",\"required\",\"cookies\"],"
	"\"properties\":{\"id\":{\"type\":\"string\"},\"required\":{\"type\":\"boolean\"},"
	"\"cookies\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"},"
	"\"provider\":{\"type\":[\"string\",\"null\"]},\"party\":{\"type\":\"string\"},"
	"\"lifetime\":{\"type\":\"string\"},\"purpose\":{\"type\":[\"string\",\"null\"]},"
	"\"description\":{\"type\":[\"string\",\"null\"]}}}}}}}}}";

static const char schema_choice[] =
	"{\"type\":\"object\",\"required\":[\"receipt_id\",\"device\",\"gpc\",\"allowed\"],\"properties\":{"
	"\"receipt_id\":{\"type\":[\"string\",\"null\"]},\"device\":{\"type\":\"string\"},\"gpc\":{\"type\":\"boolean\"},"
	"\"conflicts\":{\"type\":\"integer\"},"
	"\"allowed\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"boolean\"}}}}";

static const char schema_js[] = "{\"type\":\"string\",\"contentMediaType\":\"text/javascript\"}";

static const int err_public[] = { 429, 500, 503, 0 };
static const int err_choice[] = { 400, 413, 415, 429, 500, 503, 0 };

/* GET /consent.js: the embedded script, cacheable for an hour. */
static int h_script(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char *copy = malloc(pv_consent_js_len + 1);

	(void)v;
	(void)req;
	if (copy == NULL)
		return pv_error_set(PV_ENOMEM, "consent.js: out of memory");
	memcpy(copy, pv_consent_js, pv_consent_js_len);
	pv_http_json(res, 200, NULL);
	res->raw = copy;
	res->raw_len = pv_consent_js_len;
	res->content_type = "text/javascript; charset=utf-8";
	res->cache_control = "public, max-age=3600";
	return 0;
}

/* GET /v1/banner: the cookie classes of the current policy, each with its cookies. */
static int h_banner(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const pv_policy *p = pv_vault_policy(v);
	json_t *cats = json_array(), *lists[NCLASSES];
	size_t i, n = pv_policy_cookie_count(p);
	char life[64];

	(void)req;
	for (i = 0; i < NCLASSES; i++) {
		lists[i] = json_array();
		json_array_append_new(cats, json_pack("{s:s,s:b,s:o}", "id", classes[i], "required", i == 0,
						      "cookies", lists[i]));
	}
	for (i = 0; i < n; i++) {
		const pv_policy_cookie *c = pv_policy_cookie_at(p, i);

		if ((size_t)c->cls >= NCLASSES)
			continue;
		pv_duration_format(&c->lifetime, life, sizeof(life));
		json_array_append_new(lists[c->cls], json_pack("{s:s,s:s?,s:s,s:s,s:s?,s:s?}", "name", c->name,
							       "provider", c->provider, "party",
							       c->party == PV_COOKIE_FIRST ? "first" : "third",
							       "lifetime", life, "purpose", c->purpose,
							       "description", c->description));
	}
	return pv_http_json(res, 200, json_pack("{s:s,s:s,s:o}", "notice_version", pv_policy_version_label(p),
						"policy", pv_policy_hash(p), "categories", cats));
}

/* OPTIONS on a banner route: the CORS preflight (headers added by the server for banner_origins). */
static int h_preflight(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	(void)v;
	(void)req;
	return pv_http_json(res, 204, NULL);
}

/*
 * POST /v1/banner/choices {device, categories: {class: bool}, notice_version?}
 * -> 201 {receipt_id, device, gpc, conflicts, allowed: {class: bool}}.
 * true -> granted; false -> withdrawn when the device's consent for the class
 * is granted now, else refused. `allowed` is read back from the ledger: a
 * class is allowed when its consent is granted and no opt-out (GPC) is in
 * force; strictly_necessary always.
 */
static int h_choice(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const char *device = json_string_value(json_object_get(req->body, "device"));
	json_t *cats = json_object_get(req->body, "categories"), *allowed;
	json_t *sn = json_object_get(cats, "strictly_necessary");
	pv_consent_item items[NCLASSES];
	pv_consent_state *st = NULL;
	pv_consent_context ctx;
	pv_consent_result r = { 0 };
	size_t n = 0, nst = 0, i, k;
	int rc, ok[NCLASSES] = { 1, 0, 0, 0 };

	if (!pv_consent_ref_is_device(device)) {
		pv_http_problem(res, 400, "invalid-value", "Invalid value",
				"device: expected \"dev_\" and 26 to 60 characters of [a-z2-7]");
		pv_http_problem_field(res, "/device", "expected \"dev_\" and 26 to 60 characters of [a-z2-7]");
		return 0;
	}
	if (sn != NULL && !json_is_true(sn)) {
		pv_http_problem(res, 400, "invalid-value", "Invalid value",
				"categories.strictly_necessary: strictly necessary cookies cannot be refused");
		pv_http_problem_field(res, "/categories/strictly_necessary", "expected true (always on)");
		return 0;
	}
	if ((rc = pv_consent_state_list(v, &banner_caller, device, &st, &nst)) != 0)
		return pv_http_problem_from_error(res, rc);
	for (i = 1; i < NCLASSES; i++) {
		json_t *b = json_object_get(cats, classes[i]);
		int granted_now = 0;

		if (b == NULL)
			continue;
		for (k = 0; k < nst; k++)
			if (strcmp(st[k].purpose, classes[i]) == 0 && st[k].vendor == 0)
				granted_now = st[k].consent == PV_CONSENT_IS_GRANTED;
		items[n].purpose = classes[i];
		items[n].vendor = 0;
		items[n].action = json_is_true(b) ? PV_CONSENT_GRANTED
				  : granted_now ? PV_CONSENT_WITHDRAWN : PV_CONSENT_REFUSED;
		n++;
	}
	free(st);
	st = NULL;
	pv_api_consent_context(req, PV_CONSENT_SRC_BANNER, &ctx);
	ctx.signal = NULL;
	ctx.gpc = req->gpc || json_is_true(json_object_get(req->body, "gpc"));
	if (n > 0)
		rc = pv_consent_record(v, &banner_caller, device, items, n, &ctx, &r);
	else if (ctx.gpc)
		rc = pv_consent_gpc(v, &banner_caller, device, &ctx, &r);
	if (rc != 0)
		return pv_http_problem_from_error(res, rc);
	if ((rc = pv_consent_state_list(v, &banner_caller, device, &st, &nst)) != 0)
		return pv_http_problem_from_error(res, rc);
	for (k = 0; k < nst; k++)
		for (i = 1; i < NCLASSES; i++)
			if (st[k].vendor == 0 && strcmp(st[k].purpose, classes[i]) == 0)
				ok[i] = st[k].consent == PV_CONSENT_IS_GRANTED && !st[k].opted_out;
	free(st);
	allowed = json_object();
	for (i = 0; i < NCLASSES; i++)
		json_object_set_new(allowed, classes[i], json_boolean(ok[i]));
	return pv_http_json(res, 201, json_pack("{s:s?,s:s,s:b,s:I,s:o}", "receipt_id",
						r.events > 0 ? r.receipt_id : NULL, "device", device, "gpc",
						ctx.gpc, "conflicts", (json_int_t)r.conflicts, "allowed", allowed));
}

const pv_http_route pv_http_banner_routes[] = {
	{ .method = "GET", .pattern = "/consent.js", .handler = h_script, .roles = PV_HTTP_PUBLIC,
	  .tag = "banner", .summary = "The cookie banner script",
	  .description = "A dependency-free script: <script src=\"https://privault.example/consent.js\"></script>. "
			 "Cacheable (Cache-Control: public, max-age=3600). docs/consent.md explains its options "
			 "and the page interface (window.privault, the privault:consent event, data-category).",
	  .response_schema = schema_js, .success_status = 200, .error_statuses = err_public, .executor = 0 },
	{ .method = "GET", .pattern = "/v1/banner", .handler = h_banner, .roles = PV_HTTP_PUBLIC,
	  .tag = "banner", .summary = "Cookie categories of the current policy",
	  .description = "The four cookie classes (strictly_necessary is required) with the policy's cookies of "
			 "each, and the notice version to send back with a choice. No personal data; public, "
			 "rate-limited per client address, CORS for banner_origins.",
	  .response_schema = schema_banner, .success_status = 200, .error_statuses = err_public, .executor = 1,
	  .read_only = 1, .cors = 1, .public_limited = 1 },
	{ .method = "OPTIONS", .pattern = "/v1/banner", .handler = h_preflight, .roles = PV_HTTP_PUBLIC,
	  .tag = "banner", .summary = "CORS preflight", .success_status = 204, .error_statuses = err_public,
	  .executor = 0, .cors = 1 },
	{ .method = "POST", .pattern = "/v1/banner/choices", .handler = h_choice, .roles = PV_HTTP_PUBLIC,
	  .tag = "banner", .summary = "Record a visitor's banner choice",
	  .description = "Records the choice per cookie class for a device id (source banner, with the request's "
			 "proof), and answers which classes are allowed now. Only cookie classes and device ids; "
			 "Sec-GPC: 1 or \"gpc\": true records the GPC opt-outs (advertising stays off, a conflicting accept is "
			 "recorded as a conflict). Public, rate-limited per client address, CORS for "
			 "banner_origins.",
	  .body = choice_body, .response_schema = schema_choice, .success_status = 201,
	  .error_statuses = err_choice, .executor = 1, .cors = 1, .public_limited = 1 },
	{ .method = "OPTIONS", .pattern = "/v1/banner/choices", .handler = h_preflight, .roles = PV_HTTP_PUBLIC,
	  .tag = "banner", .summary = "CORS preflight", .success_status = 204, .error_statuses = err_public,
	  .executor = 0, .cors = 1 },
	{ .method = NULL },
};
