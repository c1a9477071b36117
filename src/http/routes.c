/*
 * The /v1 API described once, as data: every route with its handler, roles,
 * request body fields, response schema and statuses. The server dispatches
 * from this table, validates bodies against its field tables and generates
 * /v1/openapi.json from it; tests/http walks it for the role matrix.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/limits.h"
#include "core/util.h"
#include "http/api.h"

/* ---- shared helpers ---------------------------------------------------- */

int pv_api_uuid_or_404(pv_http_response *res, const char *id, const char *what)
{
	if (id && pv_uuid_valid(id))
		return 1;
	pv_http_problem(res, 404, "not-found", "Not found", "%s: no such %s (ids are lower-case UUIDs)", what, what);
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Walk "a=1&b=2": compare each key (not decoded: our names are plain ASCII)
 * with `name`; decode the first match's value ('+' is a space, %XX a byte).
 * A value holding a NUL byte or a bad escape is malformed.
 */
int pv_api_query_get(const char *query, const char *name, char *out, size_t size)
{
	size_t nlen = strlen(name);
	const char *p = query;

	if (size)
		out[0] = '\0';
	while (p && *p) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= nlen && strncmp(p, name, nlen) == 0 && (len == nlen || p[nlen] == '=')) {
			size_t o = 0;
			for (size_t i = nlen + (len > nlen); i < len; i++) {
				int c = (unsigned char)p[i];
				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					int hi = i + 2 < len ? hexval(p[i + 1]) : -1;
					int lo = i + 2 < len ? hexval(p[i + 2]) : -1;
					if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
						goto bad;
					c = hi * 16 + lo;
					i += 2;
				}
				if (o + 1 >= size)
					goto bad;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 1;
		}
		p = end ? end + 1 : NULL;
	}
	return 0;
bad:
	if (size)
		out[0] = '\0';
	return -1;
}

json_t *pv_api_time(pv_time t)
{
	char buf[32];

	if (t == INT64_MAX)
		return json_null();
	return json_string(pv_time_format(t, buf, sizeof(buf)));
}

/* ---- request body field tables ------------------------------------------ */

static const char *const regimes[] = { "gdpr", "ccpa", "lgpd", NULL };

static const pv_http_field subject_create_body[] = {
	{ "identifiers", PV_HTTP_T_STRING_MAP, 1, PV_IDENT_VALUE_MAX, NULL,
	  "How the subject is found again: kind -> value, e.g. {\"email\": \"ann@example.com\"}. Kinds match "
	  "^[a-z][a-z0-9_]{0,31}$; values are normalized (emails lower-cased, phones E.164) and stored only as "
	  "keyed blind indexes plus an encrypted copy. At least one.", NULL },
	{ "regime", PV_HTTP_T_STRING, 0, 8, NULL, "Legal regime of the subject; default: the policy's default regime.",
	  regimes },
	{ "birth_year", PV_HTTP_T_INTEGER, 0, 0, NULL, "Year of birth (age rules); omit when unknown.", NULL },
	{ "parental_consent", PV_HTTP_T_BOOLEAN, 0, 0, NULL, "A parent consented (children's data).", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field lookup_body[] = {
	{ "kind", PV_HTTP_T_STRING, 1, PV_IDENT_KIND_MAX, NULL, "Identifier kind: email, phone, login, ...", NULL },
	{ "value", PV_HTTP_T_STRING, 1, PV_IDENT_VALUE_MAX, NULL,
	  "The identifier's value. It travels in the body, never in a URL, because URLs end up in logs.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field record_put_body[] = {
	{ "category", PV_HTTP_T_STRING, 1, PV_ID_MAX, NULL, "A category id declared by the current policy.", NULL },
	{ "purpose", PV_HTTP_T_STRING, 1, PV_ID_MAX, NULL,
	  "The purpose the data is collected for; it must cover the category.", NULL },
	{ "source", PV_HTTP_T_STRING, 0, PV_ID_MAX, NULL, "A source id declared by the current policy.", NULL },
	{ "data", PV_HTTP_T_ANY_OBJECT, 1, 0, NULL, "The record itself: a JSON object, stored encrypted.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field record_rectify_body[] = {
	{ "data", PV_HTTP_T_ANY_OBJECT, 1, 0, NULL,
	  "The corrected record, replacing the old data whole. The audit names the top-level fields that changed, "
	  "never their values.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

static const pv_http_field decide_body[] = {
	{ "subject", PV_HTTP_T_STRING, 1, PV_ID_LEN, NULL, "The subject's id (a UUID).", NULL },
	{ "category", PV_HTTP_T_STRING, 1, PV_ID_MAX, NULL, "A category id.", NULL },
	{ "purpose", PV_HTTP_T_STRING, 1, PV_ID_MAX, NULL, "A purpose id.", NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL },
};

/* ---- response schemas (JSON Schema text) --------------------------------- */

#define S_ID "{\"type\":\"string\",\"format\":\"uuid\"}"
#define S_TIME "{\"type\":\"string\",\"format\":\"date-time\"}"
#define S_HASH "{\"type\":\"string\",\"pattern\":\"^[0-9a-f]{64}$\"}"

static const char schema_id[] = "{\"type\":\"object\",\"required\":[\"id\"],\"properties\":{\"id\":" S_ID "}}";

static const char schema_subject[] =
	"{\"type\":\"object\",\"required\":[\"id\",\"created_at\",\"regime\",\"birth_year\",\"parental_consent\",\"state\"],"
	"\"properties\":{\"id\":" S_ID ",\"created_at\":" S_TIME ",\"regime\":{\"enum\":[\"gdpr\",\"ccpa\",\"lgpd\"]},"
	"\"birth_year\":{\"type\":[\"integer\",\"null\"]},\"parental_consent\":{\"type\":\"boolean\"},"
	"\"state\":{\"enum\":[\"active\",\"restricted\",\"erased\"]}}}";

static const char schema_categories[] =
	"{\"type\":\"object\",\"required\":[\"categories\"],\"properties\":{\"categories\":{\"type\":\"array\","
	"\"items\":{\"type\":\"object\",\"required\":[\"category\",\"count\"],\"properties\":{\"category\":"
	"{\"type\":\"string\"},\"count\":{\"type\":\"integer\"}}}}}}";

static const char schema_records[] =
	"{\"type\":\"object\",\"required\":[\"records\",\"withheld\"],\"properties\":{\"records\":{\"type\":\"array\","
	"\"items\":{\"type\":\"object\",\"required\":[\"id\",\"subject_id\",\"category\",\"purpose\",\"source\","
	"\"policy_version\",\"collected_at\",\"updated_at\",\"expires_at\",\"data\"],\"properties\":{\"id\":" S_ID ","
	"\"subject_id\":" S_ID ",\"category\":{\"type\":\"string\"},\"purpose\":{\"type\":\"string\"},"
	"\"source\":{\"type\":[\"string\",\"null\"]},\"policy_version\":" S_HASH ",\"collected_at\":" S_TIME ","
	"\"updated_at\":" S_TIME ",\"expires_at\":{\"type\":[\"string\",\"null\"],\"format\":\"date-time\"},"
	"\"data\":{\"type\":\"object\"}}}},\"withheld\":{\"type\":\"integer\","
	"\"description\":\"records the access decision withheld\"}}}";

static const char schema_rectified[] =
	"{\"type\":\"object\",\"required\":[\"id\",\"subject_id\"],\"properties\":{\"id\":" S_ID ",\"subject_id\":" S_ID "}}";

static const char schema_decision[] =
	"{\"type\":\"object\",\"required\":[\"allow\",\"reason\"],\"properties\":{\"allow\":{\"type\":\"boolean\"},"
	"\"reason\":{\"enum\":[\"allowed\",\"purpose_undeclared\",\"category_undeclared\",\"category_not_in_purpose\","
	"\"role_forbidden\",\"no_grant\",\"subject_unknown\",\"subject_erased\",\"subject_restricted\",\"objected\","
	"\"sensitive_limited\",\"consent_missing\",\"consent_refused\",\"consent_withdrawn\",\"consent_stale\","
	"\"opted_out\",\"child_under_minimum_age\",\"parental_consent_missing\"]}}}";

static const char schema_policy[] =
	"{\"type\":\"object\",\"required\":[\"hash\",\"version\",\"effective\",\"default_regime\"],\"properties\":{"
	"\"hash\":" S_HASH ",\"version\":{\"type\":\"string\"},\"effective\":" S_TIME ","
	"\"title\":{\"type\":[\"string\",\"null\"]},\"url\":{\"type\":[\"string\",\"null\"]},"
	"\"default_regime\":{\"type\":\"string\"}}}";

static const char schema_policy_version[] =
	"{\"type\":\"object\",\"required\":[\"hash\",\"version\",\"effective\",\"policy\"],\"properties\":{"
	"\"hash\":" S_HASH ",\"version\":{\"type\":\"string\"},\"effective\":" S_TIME ","
	"\"policy\":{\"type\":\"object\",\"description\":\"the normalized policy model, defaults filled in\"}}}";

static const char schema_policy_added[] =
	"{\"type\":\"object\",\"required\":[\"hash\",\"version\",\"effective\",\"changed\"],\"properties\":{"
	"\"hash\":" S_HASH ",\"version\":{\"type\":\"string\"},\"effective\":" S_TIME ","
	"\"changed\":{\"type\":\"boolean\",\"description\":\"false when this content was already current\"}}}";

static const char schema_verify[] =
	"{\"type\":\"object\",\"required\":[\"ok\",\"entries\",\"checkpoints\",\"first_bad_seq\",\"reason\"],"
	"\"properties\":{\"ok\":{\"type\":\"boolean\"},\"entries\":{\"type\":\"integer\"},\"checkpoints\":"
	"{\"type\":\"integer\"},\"first_bad_seq\":{\"type\":\"integer\"},\"reason\":{\"type\":\"string\"}}}";

static const char schema_audit[] =
	"{\"type\":\"object\",\"required\":[\"entries\",\"next\"],\"properties\":{\"entries\":{\"type\":\"array\","
	"\"items\":{\"type\":\"object\",\"properties\":{\"seq\":{\"type\":\"integer\"},\"at\":" S_TIME ","
	"\"actor\":{\"type\":\"string\"},\"action\":{\"type\":\"string\"},\"subject_id\":{\"type\":[\"string\",\"null\"]},"
	"\"purpose\":{\"type\":[\"string\",\"null\"]},\"category\":{\"type\":[\"string\",\"null\"]},"
	"\"outcome\":{\"type\":\"string\"},\"prev_hash\":" S_HASH ",\"hash\":" S_HASH "}}},"
	"\"next\":{\"type\":[\"integer\",\"null\"],\"description\":\"the from= of the next page, null at the end\"}}}";

static const char schema_checkpoint[] =
	"{\"type\":\"object\",\"required\":[\"seq\"],\"properties\":{\"seq\":{\"type\":\"integer\"}}}";

static const char schema_public_key[] =
	"{\"type\":\"object\",\"required\":[\"algorithm\",\"public_key\"],\"properties\":{\"algorithm\":"
	"{\"const\":\"ed25519\"},\"public_key\":{\"type\":\"string\",\"pattern\":\"^[0-9a-f]{64}$\"}}}";

static const char schema_rotated[] =
	"{\"type\":\"object\",\"required\":[\"version\",\"rewrapped\"],\"properties\":{\"version\":{\"type\":\"integer\"},"
	"\"rewrapped\":{\"type\":\"integer\"}}}";

/* ---- documented error statuses ----------------------------------------- */

/* Every authenticated route may answer 401 (no or bad key), 403 (role), 429 (rate limit), 500, 503. */
static const int err_body[] = { 400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503, 0 };
static const int err_subject[] = { 400, 401, 403, 404, 410, 429, 500, 503, 0 };
static const int err_subject_body[] = { 400, 401, 403, 404, 410, 413, 415, 422, 429, 500, 503, 0 };
static const int err_simple[] = { 400, 401, 403, 429, 500, 503, 0 };
static const int err_lookup[] = { 400, 401, 403, 404, 413, 415, 429, 500, 503, 0 };
static const int err_policy_get[] = { 401, 403, 404, 429, 500, 503, 0 };
static const int err_rotate[] = { 401, 403, 409, 429, 500, 503, 0 };
static const int err_policy_add[] = { 400, 401, 403, 413, 415, 422, 429, 500, 503, 0 };

#define R_WRITERS (PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE)
#define R_AUDIT (PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_AUDITOR)

/* ---- the table ---------------------------------------------------------- */

const pv_http_route pv_http_api_routes[] = {
	{ .method = "POST", .pattern = "/v1/subjects", .handler = pv_api_subject_create, .roles = R_WRITERS,
	  .tag = "subjects", .summary = "Create a data subject",
	  .description = "Creates a subject with its own data key and indexes its identifiers. 409 when an identifier "
			 "already belongs to another subject. Answers the new id and its Location.",
	  .body = subject_create_body, .response_schema = schema_id, .success_status = 201,
	  .error_statuses = err_body, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/subjects/{id}", .handler = pv_api_subject_get, .roles = PV_HTTP_ROLE_ANY,
	  .tag = "subjects", .summary = "A subject's metadata",
	  .description = "Metadata only (no personal data): creation time, regime, birth year, parental consent, "
			 "state. An erased subject stays as a tombstone in state erased.",
	  .response_schema = schema_subject, .success_status = 200, .error_statuses = err_subject, .executor = 1, .read_only = 1 },
	{ .method = "DELETE", .pattern = "/v1/subjects/{id}", .handler = pv_api_subject_erase,
	  .roles = PV_HTTP_ROLE_ADMIN, .tag = "subjects", .summary = "Erase a subject",
	  .description = "Destroys the subject's data key, then its records and identifiers, and keeps its hashed "
			 "identifiers on the suppression list. 410 when already erased.",
	  .success_status = 204, .error_statuses = err_subject, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/subjects/{id}/categories", .handler = pv_api_subject_categories,
	  .roles = PV_HTTP_ROLE_ANY, .tag = "subjects", .summary = "Categories held for a subject",
	  .description = "Each category of data held with its record count. Metadata only.",
	  .response_schema = schema_categories, .success_status = 200, .error_statuses = err_subject, .executor = 1, .read_only = 1 },
	{ .method = "POST", .pattern = "/v1/lookup", .handler = pv_api_lookup, .roles = R_WRITERS, .tag = "subjects",
	  .summary = "Find a subject by identifier",
	  .description = "Looks a subject up through the keyed blind index of an identifier. The value is sent in "
			 "the body, never in a URL. 404 when nobody has it.",
	  .body = lookup_body, .response_schema = schema_id, .success_status = 200, .error_statuses = err_lookup,
	  .executor = 1, .read_only = 1 },
	{ .method = "POST", .pattern = "/v1/subjects/{id}/records", .handler = pv_api_record_put, .roles = R_WRITERS,
	  .tag = "records", .summary = "Store a record",
	  .description = "Stores a JSON object encrypted with the subject's data key. The category, purpose and "
			 "source must be declared by the current policy (else 422); a service needs a grant for the "
			 "purpose and category (else 403 no_grant). Expiry follows the policy's retention rules.",
	  .body = record_put_body, .response_schema = schema_id, .success_status = 201,
	  .error_statuses = err_subject_body, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/subjects/{id}/records", .handler = pv_api_record_read,
	  .roles = PV_HTTP_ROLE_ANY, .tag = "records", .summary = "Read a subject's records for a purpose",
	  .description = "Reads for the purpose declared in the X-Purpose header (400 without it), optionally only "
			 "?category=C. Each record is decided against the policy version it was collected under; "
			 "only allowed records are decrypted. When none is allowed: 403 with the decision's reason "
			 "code (purpose_undeclared, role_forbidden, no_grant, ...). Every read is audited.",
	  .response_schema = schema_records, .success_status = 200, .error_statuses = err_subject,
	  .needs_purpose = 1, .executor = 1, .read_only = 1 },
	{ .method = "PUT", .pattern = "/v1/subjects/{id}/records/{record}", .handler = pv_api_record_rectify,
	  .roles = R_WRITERS, .tag = "records", .summary = "Rectify a record",
	  .description = "Replaces a record's data (right to rectification). A service needs a grant for the "
			 "record's purpose and category.",
	  .body = record_rectify_body, .response_schema = schema_rectified, .success_status = 200,
	  .error_statuses = err_subject_body, .executor = 1 },
	{ .method = "POST", .pattern = "/v1/decide", .handler = pv_api_decide, .roles = PV_HTTP_ROLE_ANY,
	  .tag = "records", .summary = "The access decision",
	  .description = "May the caller use the subject's category for the purpose now? Answers allow or deny "
			 "with a reason code, reads nothing. Audited.",
	  .body = decide_body, .response_schema = schema_decision, .success_status = 200,
	  .error_statuses = err_body, .executor = 1, .read_only = 1 },
	{ .method = "GET", .pattern = "/v1/policy", .handler = pv_api_policy_current, .roles = PV_HTTP_ROLE_ANY,
	  .tag = "policy", .summary = "The current policy version",
	  .description = "Hash, version label, effective date and title of the policy in force.",
	  .response_schema = schema_policy, .success_status = 200, .error_statuses = err_policy_get, .executor = 1, .read_only = 1 },
	{ .method = "GET", .pattern = "/v1/policy/versions/{hash}", .handler = pv_api_policy_version,
	  .roles = PV_HTTP_ROLE_ANY, .tag = "policy", .summary = "A policy version",
	  .description = "A version by its content hash, with the normalized model (every field, defaults filled in).",
	  .response_schema = schema_policy_version, .success_status = 200, .error_statuses = err_policy_get,
	  .executor = 1, .read_only = 1 },
	{ .method = "POST", .pattern = "/v1/policy", .handler = pv_api_policy_upload, .roles = PV_HTTP_ROLE_ADMIN,
	  .tag = "policy", .summary = "Upload a new policy version",
	  .description = "The body is the YAML policy file (Content-Type: application/yaml). It is validated and "
			 "becomes the current version; data collected before keeps its own version. An invalid "
			 "policy is answered 422 with every error's line, column, field path and JSON pointer.",
	  .response_schema = schema_policy_added, .success_status = 201, .error_statuses = err_policy_add,
	  .executor = 1, .raw_body_type = "application/yaml", .exclusive = 1 },
	{ .method = "GET", .pattern = "/v1/audit/verify", .handler = pv_api_audit_verify, .roles = R_AUDIT,
	  .tag = "audit", .summary = "Verify the audit chain",
	  .description = "Recomputes every hash, checks sequence continuity and every signed checkpoint. A chain "
			 "that does not verify is still a 200 answer, with ok false and the first bad sequence number.",
	  .response_schema = schema_verify, .success_status = 200, .error_statuses = err_simple, .executor = 1, .read_only = 1 },
	{ .method = "GET", .pattern = "/v1/audit", .handler = pv_api_audit_list, .roles = R_AUDIT, .tag = "audit",
	  .summary = "Audit entries",
	  .description = "Entries from sequence number ?from= (default 1), at most ?limit= (default 100, at most "
			 "10000), in order. Entries hold no personal data.",
	  .response_schema = schema_audit, .success_status = 200, .error_statuses = err_simple, .executor = 1, .read_only = 1 },
	{ .method = "POST", .pattern = "/v1/audit/checkpoint", .handler = pv_api_audit_checkpoint, .roles = R_AUDIT,
	  .tag = "audit", .summary = "Sign a checkpoint now",
	  .description = "Appends an Ed25519-signed checkpoint of the current head; keep the answer elsewhere.",
	  .response_schema = schema_checkpoint, .success_status = 200, .error_statuses = err_simple, .executor = 1 },
	{ .method = "GET", .pattern = "/v1/audit/public-key", .handler = pv_api_audit_public_key, .roles = R_AUDIT,
	  .tag = "audit", .summary = "The checkpoint signing key",
	  .description = "The Ed25519 public key that verifies checkpoint signatures, in hex.",
	  .response_schema = schema_public_key, .success_status = 200, .error_statuses = err_simple, .executor = 1, .read_only = 1 },
	{ .method = "POST", .pattern = "/v1/keys/rotate", .handler = pv_api_keys_rotate, .roles = PV_HTTP_ROLE_ADMIN,
	  .tag = "keys", .summary = "Rotate the master key",
	  .description = "Adds a master key version and rewraps every subject's data key with it; records are not "
			 "rewritten. Refused (409) when the keys come from PRIVAULT_KEYS.",
	  .response_schema = schema_rotated, .success_status = 200, .error_statuses = err_rotate, .executor = 1,
	  .exclusive = 1 },
	{ .method = NULL },
};
