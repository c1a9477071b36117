/*
 * POST /v1/scrub: the telemetry and free-text scrubber over HTTP
 * (docs/scrub.md). The body carries either "text" (scrubbed as free text) or
 * "json" (an object whose string values are scrubbed, never its keys), and
 * optionally "types" and "pseudonymize" (keyed pseudonyms with a key derived
 * from the vault's keys, the same as `privault scrub --pseudonymize` without
 * --key-file). Nothing is stored; nothing of the body is logged or echoed in
 * a problem.
 */
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "http/http.h"
#include "privault/error.h"
#include "privault/scrub.h"
#include "scrub/internal.h"
#include "vault/vault_internal.h"

static const char *const scrub_types[] = { "email", "phone", "ipv4", "ipv6", "card", "iban", "ssn", "all", NULL };

static const pv_http_field scrub_body[] = {
	{ "text", PV_HTTP_T_STRING, 0, PV_RECORD_MAX_BYTES, NULL,
	  "Free text (a log line, a ticket, telemetry) to scrub. Exactly one of text and json.", NULL },
	{ "json", PV_HTTP_T_ANY_OBJECT, 0, 0, NULL,
	  "A JSON object whose string values (at any depth) are scrubbed; keys are never changed.", NULL },
	{ "types", PV_HTTP_T_ARRAY_STRING, 0, 8, NULL,
	  "The types to look for (default all).", scrub_types },
	{ "pseudonymize", PV_HTTP_T_BOOLEAN, 0, 0, NULL,
	  "Keyed pseudonyms ([EMAIL:3f2a9c0b11d4]) instead of placeholders ([EMAIL]); the key is derived "
	  "from the vault's keys, so pseudonyms are stable across requests.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const char schema_scrubbed[] =
	"{\"type\":\"object\",\"required\":[\"found\"],\"properties\":{"
	"\"text\":{\"type\":\"string\"},\"json\":{\"type\":\"object\"},"
	"\"found\":{\"type\":\"object\",\"required\":[\"email\",\"phone\",\"ipv4\",\"ipv6\",\"card\",\"iban\",\"ssn\"],"
	"\"additionalProperties\":{\"type\":\"integer\",\"minimum\":0}}}}";

static const int err_scrub[] = { 400, 401, 403, 413, 415, 429, 500, 503, 0 };

/* The type set of the body's "types" (all when absent). */
static unsigned body_types(json_t *arr)
{
	unsigned set = 0, one;
	size_t i;
	json_t *t;

	if (arr == NULL)
		return PV_SCRUB_ALL;
	json_array_foreach(arr, i, t)
		if (pv_scrub_types_parse(&one, json_string_value(t)) == 0)
			set |= one;
	return set == 0 ? PV_SCRUB_ALL : set;
}

/* POST /v1/scrub {text | json, types?, pseudonymize?} -> 200 {text | json, found}. */
static int scrub_handler(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	json_t *text = json_object_get(req->body, "text"), *doc = json_object_get(req->body, "json");
	json_t *out = NULL, *found = NULL, *copy = NULL;
	pv_scrubber *s = NULL;
	pv_scrub_stats st;
	char *scrubbed = NULL;
	size_t len;
	int rc;

	if ((text == NULL) == (doc == NULL)) {
		pv_http_problem(res, 400, "invalid-value", "Invalid value", "body: expected exactly one of text and json");
		pv_http_problem_field(res, text == NULL ? "/text" : "/json", "exactly one of text and json");
		return 0;
	}
	rc = pv_scrubber_new(&s, body_types(json_object_get(req->body, "types")));
	if (rc == 0 && json_is_true(json_object_get(req->body, "pseudonymize")))
		rc = pv_scrubber_key_from_keyring(s, pv_vault_keyring(v));
	if (rc != 0)
		goto fail;
	out = json_object();
	found = json_object();
	if (out == NULL || found == NULL) {
		rc = PV_ENOMEM;
		goto fail;
	}
	if (text != NULL) {
		rc = pv_scrub_text(s, json_string_value(text), json_string_length(text), &scrubbed, &len);
		if (rc != 0)
			goto fail;
		if (json_object_set_new(out, "text", json_stringn(scrubbed, len)) != 0) {
			rc = PV_ENOMEM;
			goto fail;
		}
	} else {
		copy = json_deep_copy(doc);
		if (copy == NULL || pv_scrub_json_tree(s, copy) != 0) {
			rc = PV_ENOMEM;
			goto fail;
		}
		json_object_set_new(out, "json", copy);
		copy = NULL;
	}
	pv_scrubber_stats(s, &st);
	for (int t = 0; t < PV_SCRUB_NTYPES; t++)
		json_object_set_new(found, pv_scrub_type_name((pv_scrub_type)t), json_integer((json_int_t)st.found[t]));
	json_object_set_new(out, "found", found);
	found = NULL;
	free(scrubbed);
	pv_scrubber_free(&s);
	return pv_http_json(res, 200, out);
fail:
	json_decref(copy);
	json_decref(found);
	json_decref(out);
	free(scrubbed);
	pv_scrubber_free(&s);
	return pv_http_problem_from_error(res, rc);
}

const pv_http_route pv_http_scrub_routes[] = {
	{ .method = "POST", .pattern = "/v1/scrub", .handler = scrub_handler, .roles = PV_HTTP_ROLE_ANY,
	  .tag = "scrub", .summary = "Remove personal data from text or JSON",
	  .description = "Email addresses, phone numbers, IPv4 and IPv6 addresses, payment cards (Luhn and issuer "
			 "checked), IBANs (mod 97) and US social security numbers are replaced by typed "
			 "placeholders ([EMAIL]) or keyed pseudonyms. With json, string values are scrubbed and "
			 "keys kept. Counts per type come back in found. Nothing is stored.",
	  .body = scrub_body, .response_schema = schema_scrubbed, .success_status = 200,
	  .error_statuses = err_scrub, .executor = 1 },
	{ .method = NULL },
};
