/*
 * Print every route the server dispatches from (pv_http_route_tables) as JSON,
 * one object per route: method, pattern, roles, tag, needs_purpose, body
 * ("json", "raw" with its media type, or "none"), success status. The role
 * matrix and the OpenAPI check read this, so a new route cannot be missed.
 */
#include <stdio.h>

#include <jansson.h>

#include "http/http.h"

int main(void)
{
	json_t *arr = json_array();
	char *out;

	for (size_t t = 0; pv_http_route_tables[t]; t++) {
		for (const pv_http_route *r = pv_http_route_tables[t]; r->method; r++) {
			json_t *roles = json_array();
			if (r->roles & PV_HTTP_ROLE_ADMIN)
				json_array_append_new(roles, json_string("admin"));
			if (r->roles & PV_HTTP_ROLE_SERVICE)
				json_array_append_new(roles, json_string("service"));
			if (r->roles & PV_HTTP_ROLE_AUDITOR)
				json_array_append_new(roles, json_string("auditor"));
			json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:b, s:s, s:s?, s:s?, s:b, s:i}", "method",
							     r->method, "pattern", r->pattern, "roles", roles, "public",
							     r->roles == PV_HTTP_PUBLIC, "body",
							     r->raw_body_type ? "raw" : r->body ? "json" : "none",
							     "raw_type", r->raw_body_type, "tag", r->tag, "needs_purpose",
							     r->needs_purpose, "success", r->success_status));
		}
	}
	out = json_dumps(arr, JSON_INDENT(1));
	if (!out)
		return 1;
	puts(out);
	free(out);
	json_decref(arr);
	return 0;
}
