/*
 * JSON out of the description table: the normalized model of a loaded policy
 * (`privault policy show`) and the JSON Schema of the format (`privault
 * policy schema`). Both walk the same pv_pspec rows the validator uses, so a
 * key added to spec.c shows up in both without code here.
 */
#include "policy/internal.h"
#include "core/error.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ID_PATTERN "^[a-z][a-z0-9_]{0,63}$"
#define REF_STAR_PATTERN "^(\\*|[a-z][a-z0-9_]{0,63})$"
#define DURATION_UNITS "(hours?|days?|business days?|weeks?|months?|years?)"

static const void *cat(const void *base, size_t off)
{
	return (const char *)base + off;
}

static int flag_at(const void *base, size_t has)
{
	int v;

	memcpy(&v, cat(base, has - 1), sizeof(v));
	return v;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* ---- the model ---- */

static json_t *model_map(const pv_pspec *spec, const void *base);

/* One stored value of type t at `p` (a row's value, or one list item). */
static json_t *model_scalar(const pv_pkey *k, pv_ptype t, const void *p)
{
	const char *s;
	int i;
	char buf[64];

	switch (t) {
	case PV_T_STRING:
	case PV_T_ID:
	case PV_T_REF:
	case PV_T_COUNTRY:
	case PV_T_HTTPS:
		memcpy(&s, p, sizeof(s));
		return str_or_null(s);
	case PV_T_INT:
		memcpy(&i, p, sizeof(i));
		return json_integer(i);
	case PV_T_BOOL:
		memcpy(&i, p, sizeof(i));
		return json_boolean(i);
	case PV_T_DATE: {
		pv_time tm;

		memcpy(&tm, p, sizeof(tm));
		pv_time_format(tm, buf, sizeof(buf));
		buf[10] = '\0';
		return json_string(buf);
	}
	case PV_T_DURATION: {
		pv_duration d;

		memcpy(&d, p, sizeof(d));
		return json_string(pv_duration_format(&d, buf, sizeof(buf)));
	}
	case PV_T_ENUM:
		if (k->flags & PV_K_ESTR) {
			memcpy(&s, p, sizeof(s));
			return str_or_null(s);
		}
		if (k->flags & PV_K_ECHAR) {
			buf[0] = *(const char *)p;
			buf[1] = '\0';
			return buf[0] ? json_string(buf) : json_null();
		}
		memcpy(&i, p, sizeof(i));
		return json_string(k->values[i]);
	case PV_T_MAP:
		return model_map(k->child, p);
	default:
		return json_null();
	}
}

static size_t stored_size(const pv_pkey *k)
{
	switch (k->item) {
	case PV_T_MAP: return k->child->size;
	case PV_T_DATE: return sizeof(pv_time);
	default: return sizeof(char *);   /* lists hold strings, ids and references */
	}
}

/*
 * A map as an object in table order. Optional values that are absent are
 * null; maps behind a presence flag (regimes and rights of regimes not in
 * force) are left out.
 */
static json_t *model_map(const pv_pspec *spec, const void *base)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < spec->nkeys; i++) {
		const pv_pkey *k = &spec->keys[i];
		json_t *v;

		if (k->has && !flag_at(base, k->has)) {
			if (k->type == PV_T_MAP)
				continue;
			v = json_null();
		} else if (k->type == PV_T_LIST) {
			const char *items;
			size_t n, size = stored_size(k);

			memcpy(&items, cat(base, k->off), sizeof(items));
			memcpy(&n, cat(base, k->cnt), sizeof(n));
			v = json_array();
			for (size_t j = 0; v && j < n; j++)
				json_array_append_new(v, model_scalar(k, k->item, items + j * size));
		} else {
			v = model_scalar(k, k->type, cat(base, k->off));
		}
		json_object_set_new(o, k->name, v);
	}
	return o;
}

static int dump(char **out, json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	size_t n;

	json_decref(j);
	if (!s)
		return pv_error_set(PV_ENOMEM, "policy: out of memory writing JSON");
	n = strlen(s);
	*out = malloc(n + 2);
	if (!*out) {
		free(s);
		return pv_error_set(PV_ENOMEM, "policy: out of memory writing JSON");
	}
	memcpy(*out, s, n);
	(*out)[n] = '\n';
	(*out)[n + 1] = '\0';
	free(s);
	return 0;
}

int pv_policy_to_json(char **out, const pv_policy *p)
{
	json_t *o = json_object(), *m;

	*out = NULL;
	if (!o)
		return pv_error_set(PV_ENOMEM, "policy: out of memory writing JSON");
	json_object_set_new(o, "hash", json_string(p->hash));
	json_object_set_new(o, "default_regime", json_string(pv_regime_name(p->default_regime)));
	m = model_map(&pv_policy_spec_root, p);
	json_object_update(o, m);
	json_decref(m);
	return dump(out, o);
}

/* ---- the schema ---- */

static json_t *schema_map(const pv_pspec *spec, json_t *defs);

/* A row's default as the JSON value of its type. */
static json_t *schema_default(const pv_pkey *k)
{
	pv_ptype t = k->type == PV_T_LIST ? k->item : k->type;
	json_t *v;

	if (t == PV_T_BOOL)
		v = json_boolean(!strcmp(k->def, "true"));
	else if (t == PV_T_INT)
		v = json_integer(strtol(k->def, NULL, 10));
	else
		v = json_string(k->def);
	if (k->type == PV_T_LIST) {
		json_t *a = json_array();
		json_array_append_new(a, v);
		return a;
	}
	return v;
}

static json_t *schema_type(const pv_pkey *k, pv_ptype t, json_t *defs)
{
	json_t *o = json_object();
	char pat[160];

	switch (t) {
	case PV_T_STRING:
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "minLength", json_integer(1));
		break;
	case PV_T_ID:
	case PV_T_REF:
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "pattern", json_string(k->flags & PV_K_STAR ? REF_STAR_PATTERN : ID_PATTERN));
		break;
	case PV_T_INT:
		json_object_set_new(o, "type", json_string("integer"));
		json_object_set_new(o, "minimum", json_integer(k->min));
		json_object_set_new(o, "maximum", json_integer(k->max));
		break;
	case PV_T_BOOL:
		json_object_set_new(o, "type", json_string("boolean"));
		break;
	case PV_T_DATE:
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "pattern", json_string("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"));
		break;
	case PV_T_DURATION:
		snprintf(pat, sizeof(pat), "^([0-9]+ " DURATION_UNITS "%s%s)$",
			 k->flags & PV_K_SESSION ? "|session" : "", k->flags & PV_K_INDEFINITE ? "|indefinite" : "");
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "pattern", json_string(pat));
		break;
	case PV_T_ENUM: {
		json_t *e = json_array();

		for (size_t i = 0; k->values[i]; i++)
			json_array_append_new(e, json_string(k->values[i]));
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "enum", e);
		break;
	}
	case PV_T_COUNTRY:
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "pattern", json_string("^[A-Z]{2}$"));
		break;
	case PV_T_HTTPS:
		json_object_set_new(o, "type", json_string("string"));
		json_object_set_new(o, "pattern", json_string("^https://[^\\s]+$"));
		break;
	case PV_T_MAP:
		snprintf(pat, sizeof(pat), "#/$defs/%s", k->child->name);
		json_object_set_new(o, "$ref", json_string(pat));
		if (!json_object_get(defs, k->child->name)) {
			json_object_set_new(defs, k->child->name, json_object());   /* placeholder stops recursion */
			json_object_set_new(defs, k->child->name, schema_map(k->child, defs));
		}
		break;
	case PV_T_LIST:
		json_object_set_new(o, "type", json_string("array"));
		json_object_set_new(o, "items", schema_type(k, k->item, defs));
		if (k->flags & PV_K_NONEMPTY)
			json_object_set_new(o, "minItems", json_integer(1));
		break;
	default:
		break;
	}
	return o;
}

static json_t *schema_map(const pv_pspec *spec, json_t *defs)
{
	json_t *o = json_object(), *props = json_object(), *req = json_array();

	json_object_set_new(o, "type", json_string("object"));
	json_object_set_new(o, "description", json_string(spec->doc));
	for (size_t i = 0; i < spec->nkeys; i++) {
		const pv_pkey *k = &spec->keys[i];
		json_t *t = schema_type(k, k->type, defs);

		json_object_set_new(t, "description", json_string(k->doc));
		if (k->def)
			json_object_set_new(t, "default", schema_default(k));
		json_object_set_new(props, k->name, t);
		if (k->flags & PV_K_REQUIRED)
			json_array_append_new(req, json_string(k->name));
	}
	json_object_set_new(o, "properties", props);
	if (json_array_size(req))
		json_object_set_new(o, "required", req);
	else
		json_decref(req);
	json_object_set_new(o, "additionalProperties", json_false());
	return o;
}

int pv_policy_schema_json(char **out)
{
	json_t *root = json_object(), *defs = json_object(), *body;

	*out = NULL;
	if (!root || !defs) {
		json_decref(root);
		json_decref(defs);
		return pv_error_set(PV_ENOMEM, "policy: out of memory writing JSON");
	}
	json_object_set_new(root, "$schema", json_string("https://json-schema.org/draft/2020-12/schema"));
	json_object_set_new(root, "$id", json_string("https://privault.dev/schema/privault-policy.schema.json"));
	json_object_set_new(root, "title", json_string("privault policy"));
	body = schema_map(&pv_policy_spec_root, defs);
	json_object_update(root, body);
	json_decref(body);
	json_object_set_new(root, "$defs", defs);
	return dump(out, root);
}
