/*
 * /v1/openapi.json: the OpenAPI 3.1 document, generated from the same route
 * tables the server dispatches from (so the two cannot drift):
 *   paths and methods         route.pattern, route.method
 *   path parameters           the {name} segments of the pattern
 *   X-Purpose                 a header parameter where route.needs_purpose
 *   request bodies            the field tables (types, required, maxLength,
 *                             maxItems, enum, additionalProperties: false),
 *                             or route.raw_body_type
 *   responses                 success_status with response_schema, every
 *                             error_statuses entry as a Problem, plus the
 *                             statuses the server itself answers (401, 403 and
 *                             429 on authenticated routes; 400, 413 and 415 on
 *                             routes with a body)
 *   security                  bearer (API keys), none on public routes
 *   x-roles                   the roles allowed (vendor extension)
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

static json_t *field_schema(const pv_http_field *f);

/* An object schema from a field table. */
static json_t *object_schema(const pv_http_field *fields)
{
	json_t *o = json_object(), *props = json_object(), *req = json_array();

	for (const pv_http_field *f = fields; f != NULL && f->name != NULL; f++) {
		json_object_set_new(props, f->name, field_schema(f));
		if (f->required)
			json_array_append_new(req, json_string(f->name));
	}
	json_object_set_new(o, "type", json_string("object"));
	json_object_set_new(o, "properties", props);
	if (json_array_size(req) > 0)
		json_object_set_new(o, "required", req);
	else
		json_decref(req);
	json_object_set_new(o, "additionalProperties", json_false());
	return o;
}

static json_t *enum_array(const char *const *values)
{
	json_t *a = json_array();

	for (size_t i = 0; values[i] != NULL; i++)
		json_array_append_new(a, json_string(values[i]));
	return a;
}

static json_t *string_schema(size_t max, const char *const *enums)
{
	json_t *s = json_pack("{s:s, s:I}", "type", "string", "maxLength", (json_int_t)max);

	if (enums != NULL)
		json_object_set_new(s, "enum", enum_array(enums));
	return s;
}

static json_t *field_schema(const pv_http_field *f)
{
	size_t max_str = f->max_len > 0 ? f->max_len : PV_HTTP_STRING_MAX;
	size_t max_items = f->max_len > 0 ? f->max_len : PV_HTTP_ITEMS_MAX;
	json_t *s;

	switch (f->type) {
	case PV_HTTP_T_STRING:
		s = string_schema(max_str, f->enum_values);
		break;
	case PV_HTTP_T_INTEGER:
		s = json_pack("{s:s}", "type", "integer");
		break;
	case PV_HTTP_T_BOOLEAN:
		s = json_pack("{s:s}", "type", "boolean");
		break;
	case PV_HTTP_T_OBJECT:
		s = object_schema(f->children);
		break;
	case PV_HTTP_T_ANY_OBJECT:
		s = json_pack("{s:s}", "type", "object");
		break;
	case PV_HTTP_T_STRING_MAP:
		s = json_pack("{s:s, s:o, s:i}", "type", "object", "additionalProperties",
			      string_schema(max_str, NULL), "maxProperties", PV_HTTP_ITEMS_MAX);
		json_object_set_new(s, "propertyNames", json_pack("{s:i, s:i}", "minLength", 1, "maxLength",
								  PV_HTTP_MAP_KEY_MAX));
		break;
	case PV_HTTP_T_ARRAY_STRING:
		s = json_pack("{s:s, s:o, s:I}", "type", "array", "items",
			      string_schema(PV_HTTP_STRING_MAX, f->enum_values), "maxItems", (json_int_t)max_items);
		break;
	case PV_HTTP_T_ARRAY_OBJECT:
		s = json_pack("{s:s, s:o, s:I}", "type", "array", "items", object_schema(f->children), "maxItems",
			      (json_int_t)max_items);
		break;
	default:
		s = json_object();
	}
	if (f->description != NULL)
		json_object_set_new(s, "description", json_string(f->description));
	return s;
}

/* "GET" + "/v1/subjects/{id}" -> "get_v1_subjects_id" */
static void operation_id(const pv_http_route *r, char *out, size_t size)
{
	size_t n = 0;

	for (const char *m = r->method; *m && n + 1 < size; m++)
		out[n++] = (char)(*m >= 'A' && *m <= 'Z' ? *m + 32 : *m);
	for (const char *p = r->pattern; *p && n + 1 < size; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			out[n++] = *p;
		else if (*p >= 'A' && *p <= 'Z')
			out[n++] = (char)(*p + 32);
		else if ((*p == '/' || *p == '.' || *p == '-' || *p == '_') && n > 0 && out[n - 1] != '_')
			out[n++] = '_';
	}
	while (n > 0 && out[n - 1] == '_')
		n--;
	out[n] = '\0';
}

static json_t *problem_response(const char *description)
{
	return json_pack("{s:s, s:{s:{s:{s:s}}}}", "description", description, "content",
			 "application/problem+json", "schema", "$ref", "#/components/schemas/Problem");
}

static const char *status_text(int s)
{
	switch (s) {
	case 400: return "Invalid request (problem type names the class; errors[] the fields)";
	case 401: return "Missing, unknown or revoked API key";
	case 403: return "Forbidden for this role, or denied by the access decision (reason)";
	case 404: return "Not found";
	case 405: return "Method not allowed";
	case 409: return "Conflict";
	case 410: return "Gone (erased)";
	case 413: return "Body too large";
	case 415: return "Unsupported media type";
	case 422: return "Not allowed by the policy";
	case 429: return "Too many failed authentications (Retry-After)";
	case 500: return "Internal error";
	case 503: return "Store unavailable, commit failed or shutting down";
	default: return "Error";
	}
}

/* The success response: a media type from the schema's contentMediaType, else JSON. */
static json_t *success_response(const pv_http_route *r)
{
	json_t *resp = json_pack("{s:s}", "description", r->summary ? r->summary : "Success");
	json_t *schema = NULL;
	const char *media = "application/json";

	if (r->success_status == 204)
		return resp;
	if (r->response_schema != NULL)
		schema = json_loads(r->response_schema, 0, NULL);
	if (schema == NULL)
		schema = json_object();
	if (json_is_string(json_object_get(schema, "contentMediaType")))
		media = json_string_value(json_object_get(schema, "contentMediaType"));
	json_object_set_new(resp, "content", json_pack("{s:{s:o}}", media, "schema", schema));
	return resp;
}

static json_t *operation(const pv_http_route *r)
{
	json_t *op = json_object(), *params = json_array(), *resps = json_object(), *roles = json_array();
	char id[256], code[8];
	const char *p;

	operation_id(r, id, sizeof(id));
	json_object_set_new(op, "operationId", json_string(id));
	json_object_set_new(op, "tags", json_pack("[s]", r->tag ? r->tag : "default"));
	if (r->summary)
		json_object_set_new(op, "summary", json_string(r->summary));
	if (r->description)
		json_object_set_new(op, "description", json_string(r->description));
	for (p = strchr(r->pattern, '{'); p != NULL; p = strchr(p + 1, '{')) {
		const char *close = strchr(p, '}');
		char name[64];

		if (close == NULL || (size_t)(close - p - 1) >= sizeof(name))
			break;
		memcpy(name, p + 1, (size_t)(close - p - 1));
		name[close - p - 1] = '\0';
		json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in", "path",
							"required", 1, "schema", "type", "string"));
	}
	if (r->needs_purpose)
		json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:s, s:{s:s, s:i}}", "name", "X-Purpose",
							"in", "header", "required", 0, "description",
							"The declared purpose of this use (or a \"purpose\" body "
							"field); one of the policy's purposes",
							"schema", "type", "string", "maxLength", PV_ID_MAX_LEN));
	if (json_array_size(params) > 0)
		json_object_set_new(op, "parameters", params);
	else
		json_decref(params);
	if (r->body != NULL)
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content", "application/json",
					      "schema", object_schema(r->body)));
	else if (r->raw_body_type != NULL)
		json_object_set_new(op, "requestBody",
				    json_pack("{s:b, s:{s:{s:{s:s}}}}", "required", 1, "content", r->raw_body_type,
					      "schema", "type", "string"));
	snprintf(code, sizeof(code), "%d", r->success_status ? r->success_status : 200);
	json_object_set_new(resps, code, success_response(r));
	for (const int *e = r->error_statuses; e != NULL && *e != 0; e++) {
		snprintf(code, sizeof(code), "%d", *e);
		json_object_set_new(resps, code, problem_response(status_text(*e)));
	}
	if (r->roles != PV_HTTP_PUBLIC) {
		static const int auth[] = { 401, 403, 429 };

		for (size_t i = 0; i < 3; i++) {
			snprintf(code, sizeof(code), "%d", auth[i]);
			if (json_object_get(resps, code) == NULL)
				json_object_set_new(resps, code, problem_response(status_text(auth[i])));
		}
	}
	if (r->body != NULL || r->raw_body_type != NULL) {
		static const int body[] = { 400, 413, 415 };

		for (size_t i = 0; i < 3; i++) {
			snprintf(code, sizeof(code), "%d", body[i]);
			if (json_object_get(resps, code) == NULL)
				json_object_set_new(resps, code, problem_response(status_text(body[i])));
		}
	}
	json_object_set_new(op, "responses", resps);
	if (r->roles == PV_HTTP_PUBLIC) {
		json_object_set_new(op, "security", json_array());
	} else {
		json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearer"));
		for (int i = 0; i <= PV_ROLE_AUDITOR; i++)
			if (r->roles & (1u << i))
				json_array_append_new(roles, json_string(pv_role_name((pv_role)i)));
	}
	json_object_set_new(op, "x-roles", roles);
	return op;
}

static json_t *problem_schema(void)
{
	return json_pack(
		"{s:s, s:s, s:[s,s,s], s:{s:{s:s, s:s}, s:{s:s}, s:{s:s}, s:{s:s}, s:{s:s, s:s}, s:{s:s}, "
		"s:{s:s, s:{s:s, s:{s:{s:s, s:s}, s:{s:s}}}}}}",
		"type", "object", "description", "RFC 9457 problem details",
		"required", "type", "title", "status",
		"properties",
		"type", "type", "string", "format", "uri",
		"title", "type", "string",
		"status", "type", "integer",
		"detail", "type", "string",
		"instance", "type", "string", "format", "uri-reference",
		"reason", "type", "string",
		"errors", "type", "array", "items", "type", "object", "properties",
		"pointer", "type", "string", "description", "JSON pointer (RFC 6901) of the bad field",
		"detail", "type", "string");
}

json_t *pv_http_openapi(const pv_http_route *const *tables)
{
	json_t *doc, *paths = json_object(), *tags = json_array();

	for (size_t t = 0; tables[t] != NULL; t++)
		for (const pv_http_route *r = tables[t]; r->method != NULL; r++) {
			json_t *item = json_object_get(paths, r->pattern);
			char m[16];
			size_t i;

			if (item == NULL) {
				item = json_object();
				json_object_set_new(paths, r->pattern, item);
			}
			for (i = 0; r->method[i] && i + 1 < sizeof(m); i++)
				m[i] = (char)(r->method[i] >= 'A' && r->method[i] <= 'Z' ? r->method[i] + 32 : r->method[i]);
			m[i] = '\0';
			json_object_set_new(item, m, operation(r));
			if (r->tag != NULL) {
				int seen = 0;
				json_t *v;

				json_array_foreach(tags, i, v)
					if (strcmp(json_string_value(json_object_get(v, "name")), r->tag) == 0)
						seen = 1;
				if (!seen)
					json_array_append_new(tags, json_pack("{s:s}", "name", r->tag));
			}
		}
	doc = json_pack("{s:s, s:{s:s, s:s, s:s}, s:o, s:o, s:{s:{s:{s:s, s:s, s:s}}, s:{s:o}}}",
			"openapi", "3.1.0",
			"info", "title", "privault", "version", "0.1.0", "description",
			"privault keeps a privacy policy's promises: an encrypted vault read only for declared "
			"purposes, with a tamper-evident audit. Errors are RFC 9457 problems.",
			"tags", tags,
			"paths", paths,
			"components", "securitySchemes", "bearer", "type", "http", "scheme", "bearer",
			"description", "An API key from `privault apikey create`: Authorization: Bearer pvk_...",
			"schemas", "Problem", problem_schema());
	return doc;
}
