/*
 * Request bodies: strict JSON, validated against the route's field table
 * before anything reaches a handler (so a bad body writes nothing).
 *
 * Order of the checks, each with its own problem type:
 *   1. invalid-utf8    the bytes are not UTF-8 (byte offset given)
 *   2. too-deep        nesting deeper than PV_HTTP_MAX_DEPTH (a scan before parsing,
 *                      so hostile nesting never reaches the parser's recursion)
 *   3. malformed-json  jansson's parse error (line and column; never the input text)
 *      duplicate-key   the same key twice in one object (JSON_REJECT_DUPLICATES)
 *   4. not-an-object   the body is not a JSON object
 *   5. per field, every bad one listed in "errors" with its JSON pointer; the
 *      problem's type is the first error's: unknown-field, missing-field,
 *      wrong-type, string-too-long, too-many-items, invalid-value.
 * The body size limit (413) is enforced while reading, by server.c.
 */
#include <stdio.h>
#include <string.h>

#include "http/internal.h"

typedef struct {
	const char *slug;
	const char *title;
} err_class;

static const err_class UNKNOWN = { "unknown-field", "Unknown field" };
static const err_class MISSING = { "missing-field", "Missing field" };
static const err_class WRONG_TYPE = { "wrong-type", "Wrong type" };
static const err_class TOO_LONG = { "string-too-long", "String too long" };
static const err_class TOO_MANY = { "too-many-items", "Too many items" };
static const err_class BAD_VALUE = { "invalid-value", "Invalid value" };

typedef struct {
	pv_http_response *res;
	const err_class *first;
	size_t n;
} errs;

/* Record one bad field: the first sets the problem's type, each is listed. */
static void add_err(errs *e, const err_class *c, const char *pointer, const char *fmt, const char *arg)
{
	char detail[256];

	snprintf(detail, sizeof(detail), fmt, arg);
	if (e->first == NULL) {
		e->first = c;
		pv_http_problem(e->res, 400, c->slug, c->title, "the request body has invalid fields");
	}
	e->n++;
	pv_http_problem_field(e->res, pointer, detail);
}

/* Append "/<key>" to a JSON pointer, escaping ~ and / (RFC 6901); keys cut at 64 bytes. */
static void ptr_join(char *out, size_t size, const char *base, const char *key)
{
	size_t n = strlen(base), k;

	if (n >= size)
		n = size - 1;
	memmove(out, base, n);
	if (n + 1 < size)
		out[n++] = '/';
	for (k = 0; key[k] != '\0' && k < 64 && n + 2 < size; k++) {
		if (key[k] == '~') {
			out[n++] = '~';
			out[n++] = '0';
		} else if (key[k] == '/') {
			out[n++] = '~';
			out[n++] = '1';
		} else {
			out[n++] = key[k];
		}
	}
	out[n] = '\0';
}

static void ptr_index(char *out, size_t size, const char *base, size_t i)
{
	char num[24];

	snprintf(num, sizeof(num), "%zu", i);
	ptr_join(out, size, base, num);
}

static const char *type_name(pv_http_type t)
{
	switch (t) {
	case PV_HTTP_T_STRING: return "a string";
	case PV_HTTP_T_INTEGER: return "an integer";
	case PV_HTTP_T_BOOLEAN: return "a boolean";
	case PV_HTTP_T_OBJECT:
	case PV_HTTP_T_ANY_OBJECT: return "an object";
	case PV_HTTP_T_STRING_MAP: return "an object of strings";
	case PV_HTTP_T_ARRAY_STRING: return "an array of strings";
	case PV_HTTP_T_ARRAY_OBJECT: return "an array of objects";
	}
	return "a value";
}

static int in_enum(const char *const *values, const char *s)
{
	for (size_t i = 0; values[i] != NULL; i++)
		if (strcmp(values[i], s) == 0)
			return 1;
	return 0;
}

static void check_object(errs *e, const json_t *obj, const pv_http_field *fields, const char *ptr);

/* A string value: length and enum. */
static void check_string(errs *e, const json_t *v, size_t max, const char *const *enums, const char *p)
{
	char lim[32];

	if (json_string_length(v) > max) {
		snprintf(lim, sizeof(lim), "%zu", max);
		add_err(e, &TOO_LONG, p, "longer than %s bytes", lim);
	} else if (enums != NULL && !in_enum(enums, json_string_value(v))) {
		add_err(e, &BAD_VALUE, p, "%s", "not one of the allowed values");
	}
}

/* One field's value against its description. */
static void check_value(errs *e, const json_t *v, const pv_http_field *f, const char *p)
{
	size_t max_items = f->max_len > 0 ? f->max_len : PV_HTTP_ITEMS_MAX;
	size_t max_str = f->max_len > 0 ? f->max_len : PV_HTTP_STRING_MAX;
	char sub[PV_HTTP_PATH_MAX], lim[32];
	const char *key;
	json_t *item;
	size_t i;

	switch (f->type) {
	case PV_HTTP_T_STRING:
		if (!json_is_string(v))
			goto wrong;
		check_string(e, v, max_str, f->enum_values, p);
		return;
	case PV_HTTP_T_INTEGER:
		if (!json_is_integer(v))
			goto wrong;
		return;
	case PV_HTTP_T_BOOLEAN:
		if (!json_is_boolean(v))
			goto wrong;
		return;
	case PV_HTTP_T_OBJECT:
		if (!json_is_object(v))
			goto wrong;
		check_object(e, v, f->children, p);
		return;
	case PV_HTTP_T_ANY_OBJECT:
		if (!json_is_object(v))
			goto wrong;
		return;
	case PV_HTTP_T_STRING_MAP:
		if (!json_is_object(v))
			goto wrong;
		if (json_object_size(v) > PV_HTTP_ITEMS_MAX) {
			snprintf(lim, sizeof(lim), "%d", PV_HTTP_ITEMS_MAX);
			add_err(e, &TOO_MANY, p, "more than %s entries", lim);
			return;
		}
		json_object_foreach((json_t *)v, key, item) {
			ptr_join(sub, sizeof(sub), p, key);
			if (key[0] == '\0' || strlen(key) > PV_HTTP_MAP_KEY_MAX) {
				snprintf(lim, sizeof(lim), "%d", PV_HTTP_MAP_KEY_MAX);
				add_err(e, &BAD_VALUE, sub, "keys are 1 to %s bytes", lim);
			} else if (!json_is_string(item)) {
				add_err(e, &WRONG_TYPE, sub, "expected %s", "a string");
			} else {
				check_string(e, item, max_str, NULL, sub);
			}
		}
		return;
	case PV_HTTP_T_ARRAY_STRING:
	case PV_HTTP_T_ARRAY_OBJECT:
		if (!json_is_array(v))
			goto wrong;
		if (json_array_size(v) > max_items) {
			snprintf(lim, sizeof(lim), "%zu", max_items);
			add_err(e, &TOO_MANY, p, "more than %s items", lim);
			return;
		}
		json_array_foreach(v, i, item) {
			ptr_index(sub, sizeof(sub), p, i);
			if (f->type == PV_HTTP_T_ARRAY_STRING) {
				if (!json_is_string(item))
					add_err(e, &WRONG_TYPE, sub, "expected %s", "a string");
				else
					check_string(e, item, PV_HTTP_STRING_MAX, f->enum_values, sub);
			} else {
				if (!json_is_object(item))
					add_err(e, &WRONG_TYPE, sub, "expected %s", "an object");
				else
					check_object(e, item, f->children, sub);
			}
		}
		return;
	}
wrong:
	add_err(e, &WRONG_TYPE, p, "expected %s", type_name(f->type));
}

/* An object against a field table: each described field, then every key the table does not know. */
static void check_object(errs *e, const json_t *obj, const pv_http_field *fields, const char *ptr)
{
	char sub[PV_HTTP_PATH_MAX];
	const pv_http_field *f;
	const char *key;
	json_t *v;

	for (f = fields; f != NULL && f->name != NULL; f++) {
		ptr_join(sub, sizeof(sub), ptr, f->name);
		v = json_object_get(obj, f->name);
		if (v == NULL) {
			if (f->required)
				add_err(e, &MISSING, sub, "%s", "required");
			continue;
		}
		check_value(e, v, f, sub);
	}
	json_object_foreach((json_t *)obj, key, v) {
		int known = 0;

		for (f = fields; f != NULL && f->name != NULL; f++)
			if (strcmp(f->name, key) == 0) {
				known = 1;
				break;
			}
		if (!known) {
			ptr_join(sub, sizeof(sub), ptr, key);
			add_err(e, &UNKNOWN, sub, "%s", "not a field of this request");
		}
	}
}

/*
 * Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
 * Returns the offset of the first bad byte, or len when all is valid.
 */
static size_t utf8_bad_offset(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return i;
		i += n + 1;
	}
	return len;
}

/* The deepest nesting of objects and arrays, strings skipped; stops counting past `limit`. */
static size_t max_depth(const char *s, size_t len, size_t limit)
{
	size_t depth = 0, deepest = 0;
	int in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > deepest)
				deepest = depth;
			if (deepest > limit)
				return deepest;
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

/* jansson's error code as our own words (its text may quote the input). */
static const char *parse_error_text(enum json_error_code code)
{
	switch (code) {
	case json_error_premature_end_of_input: return "the body ends in the middle of a value";
	case json_error_end_of_input_expected: return "text after the end of the JSON value";
	case json_error_invalid_syntax: return "invalid syntax";
	case json_error_invalid_format: return "invalid format";
	case json_error_wrong_type: return "wrong type";
	case json_error_null_character: return "a NUL byte in the body";
	case json_error_null_value: return "a null value";
	case json_error_null_byte_in_key: return "a NUL byte in an object key";
	case json_error_numeric_overflow: return "a number out of range";
	case json_error_item_not_found: return "an item was not found";
	case json_error_index_out_of_range: return "an index out of range";
	case json_error_stack_overflow: return "nesting too deep";
	case json_error_invalid_utf8: return "invalid UTF-8";
	case json_error_out_of_memory: return "out of memory";
	default: return "invalid JSON";
	}
}

int pv_http_body_parse(const char *buf, size_t len, const pv_http_field *fields, json_t **out,
		       pv_http_response *res)
{
	json_error_t jerr;
	json_t *root;
	size_t bad, depth;
	errs e = { res, NULL, 0 };

	*out = NULL;
	if (buf == NULL || len == 0) {
		pv_http_problem(res, 400, "malformed-json", "Malformed JSON", "the request body is empty; "
				"expected a JSON object");
		return -1;
	}
	bad = utf8_bad_offset((const unsigned char *)buf, len);
	if (bad < len) {
		pv_http_problem(res, 400, "invalid-utf8", "Invalid UTF-8",
				"the request body is not valid UTF-8 (first bad byte at offset %zu)", bad);
		return -1;
	}
	depth = max_depth(buf, len, PV_HTTP_MAX_DEPTH);
	if (depth > PV_HTTP_MAX_DEPTH) {
		pv_http_problem(res, 400, "too-deep", "Nesting too deep",
				"objects and arrays nest deeper than %d levels", PV_HTTP_MAX_DEPTH);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		enum json_error_code code = json_error_code(&jerr);

		if (code == json_error_duplicate_key)
			pv_http_problem(res, 400, "duplicate-key", "Duplicate key",
					"an object has the same key twice (line %d, column %d)", jerr.line,
					jerr.column);
		else
			pv_http_problem(res, 400, "malformed-json", "Malformed JSON",
					"%s at line %d, column %d", parse_error_text(code), jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		pv_http_problem(res, 400, "not-an-object", "Not an object", "the request body must be a "
				"JSON object");
		return -1;
	}
	check_object(&e, root, fields, "");
	if (e.first != NULL) {
		json_decref(root);
		return -1;
	}
	*out = root;
	return 0;
}
