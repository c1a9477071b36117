/*
 * Fuzz target of the HTTP request-body handling (src/http/body.c): every
 * input is parsed and validated against two field tables (the shapes of the
 * /v1 bodies: strings with limits and enums, string maps, arrays of strings
 * and of objects, free objects). Nothing may crash, leak or read out of
 * bounds, and the result must be consistent: success gives an object and no
 * problem; failure gives a 400 problem+json with type, title, status and
 * detail, every listed error has a JSON pointer, and nothing is returned.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const regimes[] = { "gdpr", "ccpa", "lgpd", NULL };

static const pv_http_field ident_fields[] = {
	{ "kind", PV_HTTP_T_STRING, 1, 32, NULL, NULL, NULL },
	{ "value", PV_HTTP_T_STRING, 1, 1024, NULL, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

static const pv_http_field subject_fields[] = {
	{ "identifiers", PV_HTTP_T_STRING_MAP, 1, 1024, NULL, NULL, NULL },
	{ "regime", PV_HTTP_T_STRING, 0, 16, NULL, NULL, regimes },
	{ "birth_year", PV_HTTP_T_INTEGER, 0, 0, NULL, NULL, NULL },
	{ "parental_consent", PV_HTTP_T_BOOLEAN, 0, 0, NULL, NULL, NULL },
	{ "list", PV_HTTP_T_ARRAY_OBJECT, 0, 8, ident_fields, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

static const pv_http_field record_fields[] = {
	{ "category", PV_HTTP_T_STRING, 1, 64, NULL, NULL, NULL },
	{ "purpose", PV_HTTP_T_STRING, 1, 64, NULL, NULL, NULL },
	{ "source", PV_HTTP_T_STRING, 0, 64, NULL, NULL, NULL },
	{ "data", PV_HTTP_T_ANY_OBJECT, 1, 0, NULL, NULL, NULL },
	{ "tags", PV_HTTP_T_ARRAY_STRING, 0, 4, NULL, NULL, NULL },
	{ "nested", PV_HTTP_T_OBJECT, 0, 0, ident_fields, NULL, NULL },
	{ NULL, 0, 0, 0, NULL, NULL, NULL }
};

static void check_one(const uint8_t *data, size_t size, const pv_http_field *fields)
{
	pv_http_response res;
	json_t *out = NULL, *errs, *e;
	size_t i;
	int rc;

	memset(&res, 0, sizeof(res));
	res.decision = -1;
	rc = pv_http_body_parse((const char *)data, size, fields, &out, &res);
	if (rc == 0) {
		if (out == NULL || !json_is_object(out) || res.status != 0)
			abort();
		json_decref(out);
		return;
	}
	if (rc != -1 || out != NULL || res.status != 400 || res.body == NULL ||
	    !json_is_string(json_object_get(res.body, "type")) || !json_is_string(json_object_get(res.body, "title")) ||
	    json_integer_value(json_object_get(res.body, "status")) != 400 ||
	    !json_is_string(json_object_get(res.body, "detail")))
		abort();
	if (strncmp(json_string_value(json_object_get(res.body, "type")), PV_HTTP_PROBLEM_BASE,
		    strlen(PV_HTTP_PROBLEM_BASE)) != 0)
		abort();
	errs = json_object_get(res.body, "errors");
	json_array_foreach(errs, i, e) {
		const char *p = json_string_value(json_object_get(e, "pointer"));

		if (p == NULL || p[0] != '/')
			abort();
	}
	pv_http_response_reset(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_one(data, size, subject_fields);
	check_one(data, size, record_fields);
	return 0;
}
