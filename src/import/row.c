/*
 * Import rows: parsing one JSON line or one CSV record into a pv_import_row,
 * and validating a row against the policy. Every error names the line and the
 * field, never the value (values are personal data).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "core/error.h"
#include "core/util.h"
#include "crypto/crypto.h"
#include "import/internal.h"

int pv_import_fail(pv_import_err *e, int code, const char *field, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (field != NULL && field != e->field)
		snprintf(e->field, sizeof(e->field), "%s", field);
	else if (field == NULL)
		e->field[0] = '\0';
	if (e->field[0] != '\0')
		return pv_error_set(code, "line %zu: field \"%s\": %s", e->line, e->field, what);
	return pv_error_set(code, "line %zu: %s", e->line, what);
}

/* A field name is printable when it is short and made of [A-Za-z0-9_.-]. */
static int name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (n >= 40 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
				 c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

void pv_import_field_name(char out[64], const char *prefix, const char *name, const char *fallback)
{
	snprintf(out, 64, "%s%s", prefix != NULL ? prefix : "", name_ok(name) ? name : fallback);
}

void pv_import_row_free(pv_import_row *row)
{
	for (size_t i = 0; i < row->nidents; i++) {
		free(row->idents[i].kind);
		if (row->idents[i].value != NULL) {
			sodium_memzero(row->idents[i].value, strlen(row->idents[i].value));
			free(row->idents[i].value);
		}
	}
	free(row->idents);
	if (row->data != NULL) {
		sodium_memzero(row->data, row->len);
		free(row->data);
	}
	memset(row, 0, sizeof(*row));
}

/* Copy an id-shaped string (category, purpose, source) into out. */
static int copy_id(char *out, size_t size, const char *s, size_t len, const char *field, pv_import_err *e)
{
	if (len == 0)
		return pv_import_fail(e, PV_EINVAL, field, "expected an id, got an empty value");
	if (len >= size || memchr(s, '\0', len) != NULL || !pv_id_valid(s, size - 1))
		return pv_import_fail(e, PV_EINVAL, field, "expected an id (lower-case letters, digits, '_')");
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* Add identifier kind=value to the row after checking its shape and normalizing it once. */
static int add_ident(pv_import_row *row, const char *kind, const char *value, size_t vlen, pv_import_err *e)
{
	char field[64], norm[PV_IDENT_VALUE_MAX + 1];
	pv_import_ident *n;
	int rc;

	pv_import_field_name(field, "subject.identifiers.", kind, "?");
	if (!pv_id_valid(kind, PV_IDENT_KIND_MAX))
		return pv_import_fail(e, PV_EINVAL, field, "expected an identifier kind like email or phone");
	for (size_t i = 0; i < row->nidents; i++)
		if (strcmp(row->idents[i].kind, kind) == 0)
			return pv_import_fail(e, PV_EINVAL, field, "identifier kind given twice");
	if (row->nidents >= PV_SUBJECT_MAX_IDENTS)
		return pv_import_fail(e, PV_ELIMIT, field, "more than %d identifiers", PV_SUBJECT_MAX_IDENTS);
	if (vlen == 0)
		return pv_import_fail(e, PV_EINVAL, field, "empty value");
	if (vlen > PV_IDENT_VALUE_MAX)
		return pv_import_fail(e, PV_ELIMIT, field, "value longer than %d bytes", PV_IDENT_VALUE_MAX);
	if (memchr(value, '\0', vlen) != NULL || !pv_import_utf8_valid(value, vlen))
		return pv_import_fail(e, PV_EINVAL, field, "expected UTF-8 text without NUL");
	rc = pv_identifier_normalize(kind, value, norm, sizeof(norm));
	sodium_memzero(norm, sizeof(norm));
	if (rc != 0)
		return pv_import_fail(e, rc, field, "malformed %s", name_ok(kind) ? kind : "identifier");
	n = realloc(row->idents, (row->nidents + 1) * sizeof(*n));
	if (n == NULL)
		return pv_error_set(PV_ENOMEM, "import: out of memory");
	row->idents = n;
	n[row->nidents].kind = strdup(kind);
	n[row->nidents].value = strndup(value, vlen);
	row->nidents++;
	if (n[row->nidents - 1].kind == NULL || n[row->nidents - 1].value == NULL)
		return pv_error_set(PV_ENOMEM, "import: out of memory");
	return 0;
}

/* Depth of nested arrays/objects under j (1 for a scalar inside an object); stops past `max`. */
static int json_depth_over(const json_t *j, int depth, int max)
{
	if (depth > max)
		return 1;
	if (json_is_object(j)) {
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)j, k, v)
			if (json_depth_over(v, depth + 1, max))
				return 1;
	} else if (json_is_array(j)) {
		size_t i;
		json_t *v;

		json_array_foreach(j, i, v)
			if (json_depth_over(v, depth + 1, max))
				return 1;
	}
	return 0;
}

/* Serialize the data object compactly into row->data. */
static int set_data(pv_import_row *row, const json_t *data, pv_import_err *e)
{
	size_t need;

	if (!json_is_object(data))
		return pv_import_fail(e, PV_EINVAL, "data", "expected a JSON object");
	if (json_depth_over(data, 1, PV_RECORD_MAX_DEPTH))
		return pv_import_fail(e, PV_ELIMIT, "data", "nested deeper than %d", PV_RECORD_MAX_DEPTH);
	need = json_dumpb(data, NULL, 0, JSON_COMPACT);
	if (need == 0)
		return pv_import_fail(e, PV_EINVAL, "data", "cannot be serialized");
	if (need > PV_RECORD_MAX_BYTES)
		return pv_import_fail(e, PV_ELIMIT, "data", "larger than %u bytes", PV_RECORD_MAX_BYTES);
	row->data = malloc(need + 1);
	if (row->data == NULL)
		return pv_error_set(PV_ENOMEM, "import: out of memory");
	row->len = json_dumpb(data, row->data, need, JSON_COMPACT);
	row->data[row->len] = '\0';
	return 0;
}

/* The "subject" object of a JSON line. */
static int parse_subject(pv_import_row *row, json_t *subj, pv_import_err *e)
{
	const char *k;
	json_t *v;
	int rc, have_idents = 0;

	if (!json_is_object(subj))
		return pv_import_fail(e, PV_EINVAL, "subject", "expected an object");
	json_object_foreach(subj, k, v) {
		if (strcmp(k, "identifiers") == 0) {
			const char *kind;
			json_t *val;

			if (!json_is_object(v) || json_object_size(v) == 0)
				return pv_import_fail(e, PV_EINVAL, "subject.identifiers", "expected a non-empty object");
			json_object_foreach(v, kind, val) {
				if (!json_is_string(val)) {
					char field[64];

					pv_import_field_name(field, "subject.identifiers.", kind, "?");
					return pv_import_fail(e, PV_EINVAL, field, "expected a string");
				}
				if ((rc = add_ident(row, kind, json_string_value(val), json_string_length(val), e)) != 0)
					return rc;
			}
			have_idents = 1;
		} else if (strcmp(k, "regime") == 0) {
			if (!json_is_string(v) || json_string_length(v) >= sizeof(row->regime) ||
			    json_string_length(v) == 0)
				return pv_import_fail(e, PV_EINVAL, "subject.regime", "expected gdpr, ccpa or lgpd");
			memcpy(row->regime, json_string_value(v), json_string_length(v) + 1);
		} else if (strcmp(k, "birth_year") == 0) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 9999)
				return pv_import_fail(e, PV_EINVAL, "subject.birth_year", "expected a year");
			row->birth_year = (int)json_integer_value(v);
		} else if (strcmp(k, "parental_consent") == 0) {
			if (!json_is_boolean(v))
				return pv_import_fail(e, PV_EINVAL, "subject.parental_consent", "expected true or false");
			row->parental_consent = json_is_true(v);
		} else {
			char field[64];

			pv_import_field_name(field, "subject.", k, "?");
			return pv_import_fail(e, PV_EINVAL, field, "unknown field");
		}
	}
	if (!have_idents)
		return pv_import_fail(e, PV_EINVAL, "subject.identifiers", "missing");
	return 0;
}

/* A required or optional id-valued string member of a JSON line. */
static int json_id(char *out, size_t size, json_t *v, const char *field, pv_import_err *e)
{
	if (!json_is_string(v))
		return pv_import_fail(e, PV_EINVAL, field, "expected a string");
	return copy_id(out, size, json_string_value(v), json_string_length(v), field, e);
}

int pv_import_parse_jsonl(const char *line, size_t len, pv_import_row *row, pv_import_err *e)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *k;
	int rc = 0, has_subject = 0, has_data = 0;

	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL)
		/* jerr.text may quote the input: report only the column. */
		return pv_import_fail(e, PV_EINVAL, NULL, "invalid JSON at column %d", jerr.column);
	if (!json_is_object(root)) {
		rc = pv_import_fail(e, PV_EINVAL, NULL, "expected a JSON object");
		goto out;
	}
	json_object_foreach(root, k, v) {
		if (strcmp(k, "subject") == 0) {
			rc = parse_subject(row, v, e);
			has_subject = 1;
		} else if (strcmp(k, "subject_id") == 0) {
			if (!json_is_string(v) || !pv_uuid_valid(json_string_value(v)))
				rc = pv_import_fail(e, PV_EINVAL, "subject_id", "expected a subject id (UUID)");
			else
				memcpy(row->subject_id, json_string_value(v), PV_ID_LEN + 1);
		} else if (strcmp(k, "category") == 0) {
			rc = json_id(row->category, sizeof(row->category), v, "category", e);
		} else if (strcmp(k, "purpose") == 0) {
			rc = json_id(row->purpose, sizeof(row->purpose), v, "purpose", e);
		} else if (strcmp(k, "source") == 0) {
			if (!json_is_null(v))
				rc = json_id(row->source, sizeof(row->source), v, "source", e);
		} else if (strcmp(k, "data") == 0) {
			rc = set_data(row, v, e);
			has_data = 1;
		} else {
			char field[64];

			pv_import_field_name(field, NULL, k, "?");
			rc = pv_import_fail(e, PV_EINVAL, field, "unknown field");
		}
		if (rc != 0)
			goto out;
	}
	if (has_subject && row->subject_id[0] != '\0')
		rc = pv_import_fail(e, PV_EINVAL, "subject_id", "give subject or subject_id, not both");
	else if (!has_subject && row->subject_id[0] == '\0')
		rc = pv_import_fail(e, PV_EINVAL, "subject", "missing (give subject or subject_id)");
	else if (row->category[0] == '\0')
		rc = pv_import_fail(e, PV_EINVAL, "category", "missing");
	else if (row->purpose[0] == '\0')
		rc = pv_import_fail(e, PV_EINVAL, "purpose", "missing");
	else if (!has_data)
		rc = pv_import_fail(e, PV_EINVAL, "data", "missing");
out:
	json_decref(root);
	return rc;
}

/* ---- CSV ---- */

void pv_csv_header_free(pv_csv_header *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->name[i]);
	memset(h, 0, sizeof(*h));
}

int pv_csv_header_parse(pv_csv_header *h, const pv_csv_record *rec, pv_import_err *e)
{
	static const struct { const char *name; pv_csv_col_kind kind; } reserved[] = {
		{ "subject_id", PV_COL_SUBJECT_ID }, { "regime", PV_COL_REGIME },
		{ "birth_year", PV_COL_BIRTH_YEAR }, { "parental_consent", PV_COL_PARENTAL_CONSENT },
		{ "category", PV_COL_CATEGORY }, { "purpose", PV_COL_PURPOSE }, { "source", PV_COL_SOURCE },
	};
	int has_cat = 0, has_pur = 0, has_subj = 0;

	memset(h, 0, sizeof(*h));
	for (size_t i = 0; i < rec->n; i++) {
		const char *name = rec->b.data + rec->off[i];
		size_t len = rec->len[i];
		char fallback[32];

		snprintf(fallback, sizeof(fallback), "column %zu", i + 1);
		pv_import_field_name(h->label[i], NULL, name, fallback);
		h->n = i + 1;
		if (len == 0 || memchr(name, '\0', len) != NULL || !pv_import_utf8_valid(name, len))
			return pv_import_fail(e, PV_EINVAL, h->label[i], "expected a non-empty UTF-8 column name");
		h->kind[i] = PV_COL_DATA;
		for (size_t r = 0; r < sizeof(reserved) / sizeof(reserved[0]); r++)
			if (strcmp(name, reserved[r].name) == 0)
				h->kind[i] = reserved[r].kind;
		if (strncmp(name, "id.", 3) == 0) {
			h->kind[i] = PV_COL_IDENT;
			if (!pv_id_valid(name + 3, PV_IDENT_KIND_MAX))
				return pv_import_fail(e, PV_EINVAL, h->label[i], "expected id.<kind> like id.email");
			h->name[i] = strdup(name + 3);
		} else {
			h->name[i] = strdup(name);
		}
		if (h->name[i] == NULL)
			return pv_error_set(PV_ENOMEM, "import: out of memory");
		for (size_t j = 0; j < i; j++)
			if (h->kind[j] == h->kind[i] && strcmp(h->name[j], h->name[i]) == 0)
				return pv_import_fail(e, PV_EINVAL, h->label[i], "column given twice");
		has_cat |= h->kind[i] == PV_COL_CATEGORY;
		has_pur |= h->kind[i] == PV_COL_PURPOSE;
		has_subj |= h->kind[i] == PV_COL_SUBJECT_ID || h->kind[i] == PV_COL_IDENT;
	}
	if (!has_cat)
		return pv_import_fail(e, PV_EINVAL, "category", "missing column in the header");
	if (!has_pur)
		return pv_import_fail(e, PV_EINVAL, "purpose", "missing column in the header");
	if (!has_subj)
		return pv_import_fail(e, PV_EINVAL, "subject_id", "missing column in the header (subject_id or id.<kind>)");
	return 0;
}

/* Parse a CSV cell as a small non-negative integer or boolean. */
static int cell_year(const char *s, size_t len, int *out)
{
	int y = 0;

	if (len == 0 || len > 4)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		y = y * 10 + (s[i] - '0');
	}
	*out = y;
	return 0;
}

static int cell_bool(const char *s, int *out)
{
	if (strcmp(s, "1") == 0 || strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
		*out = 1;
	else if (s[0] == '\0' || strcmp(s, "0") == 0 || strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

int pv_import_parse_csv(const pv_csv_header *h, const pv_csv_record *rec, pv_import_row *row, pv_import_err *e)
{
	json_t *data;
	int rc = 0;

	if (rec->n < h->n)
		return pv_import_fail(e, PV_EINVAL, h->label[rec->n], "missing column (%zu of %zu columns)",
				      rec->n, h->n);
	if (rec->n > h->n)
		return pv_import_fail(e, PV_EINVAL, NULL, "%zu columns, the header has %zu", rec->n, h->n);
	data = json_object();
	if (data == NULL)
		return pv_error_set(PV_ENOMEM, "import: out of memory");
	for (size_t i = 0; i < h->n && rc == 0; i++) {
		const char *s = rec->b.data + rec->off[i];
		size_t len = rec->len[i];
		const char *label = h->label[i];

		switch (h->kind[i]) {
		case PV_COL_DATA: {
			json_t *str = json_stringn(s, len);   /* NULL on invalid UTF-8 */

			if (str == NULL) {
				rc = pv_import_fail(e, PV_EINVAL, label, "expected UTF-8 text");
				break;
			}
			if (json_object_set_new(data, h->name[i], str) != 0)
				rc = pv_error_set(PV_ENOMEM, "import: out of memory");
			break;
		}
		case PV_COL_SUBJECT_ID:
			if (len == 0)
				break;
			if (len != PV_ID_LEN || !pv_uuid_valid(s))
				rc = pv_import_fail(e, PV_EINVAL, "subject_id", "expected a subject id (UUID)");
			else
				memcpy(row->subject_id, s, PV_ID_LEN + 1);
			break;
		case PV_COL_IDENT:
			if (len > 0)
				rc = add_ident(row, h->name[i], s, len, e);
			break;
		case PV_COL_REGIME:
			if (len >= sizeof(row->regime))
				rc = pv_import_fail(e, PV_EINVAL, "regime", "expected gdpr, ccpa or lgpd");
			else
				memcpy(row->regime, s, len + 1);
			break;
		case PV_COL_BIRTH_YEAR:
			if (len > 0 && cell_year(s, len, &row->birth_year) != 0)
				rc = pv_import_fail(e, PV_EINVAL, "birth_year", "expected a year");
			break;
		case PV_COL_PARENTAL_CONSENT:
			if (cell_bool(s, &row->parental_consent) != 0)
				rc = pv_import_fail(e, PV_EINVAL, "parental_consent", "expected true or false");
			break;
		case PV_COL_CATEGORY:
			rc = copy_id(row->category, sizeof(row->category), s, len, "category", e);
			break;
		case PV_COL_PURPOSE:
			rc = copy_id(row->purpose, sizeof(row->purpose), s, len, "purpose", e);
			break;
		case PV_COL_SOURCE:
			if (len > 0)
				rc = copy_id(row->source, sizeof(row->source), s, len, "source", e);
			break;
		}
	}
	if (rc == 0 && row->subject_id[0] != '\0' && row->nidents > 0)
		rc = pv_import_fail(e, PV_EINVAL, "subject_id", "give subject_id or identifiers, not both");
	else if (rc == 0 && row->subject_id[0] == '\0' && row->nidents == 0)
		rc = pv_import_fail(e, PV_EINVAL, "subject_id", "missing (no subject_id and no identifier)");
	if (rc == 0)
		rc = set_data(row, data, e);
	json_decref(data);
	return rc;
}

/* ---- validation against the policy ---- */

int pv_import_row_validate(const pv_policy *p, const pv_import_row *row, pv_import_err *e)
{
	const pv_policy_category *c;
	const pv_policy_purpose *pu;
	char now[32];
	int year;

	c = pv_policy_category_find(p, row->category);
	if (c == NULL)
		return pv_import_fail(e, PV_EINVAL, "category", "unknown category");
	if (!c->collected)
		return pv_import_fail(e, PV_EINVAL, "category", "the policy says this category is not collected");
	pu = pv_policy_purpose_find(p, row->purpose);
	if (pu == NULL)
		return pv_import_fail(e, PV_EINVAL, "purpose", "undeclared purpose");
	if (!pv_policy_purpose_has_category(pu, c))
		return pv_import_fail(e, PV_EINVAL, "purpose", "does not cover the category");
	if (row->source[0] != '\0' && pv_policy_source_find(p, row->source) == NULL)
		return pv_import_fail(e, PV_EINVAL, "source", "unknown source");
	if (row->regime[0] != '\0') {
		pv_regime r;

		if (pv_regime_parse(&r, row->regime) != 0)
			return pv_import_fail(e, PV_EINVAL, "regime", "expected gdpr, ccpa or lgpd");
		if (!pv_policy_regime_enabled(p, r))
			return pv_import_fail(e, PV_EINVAL, "regime", "not in force under the policy");
	}
	pv_time_format(pv_clock_now(), now, sizeof(now));
	year = atoi(now);
	if (row->birth_year != 0 && (row->birth_year < 1900 || row->birth_year > year))
		return pv_import_fail(e, PV_EINVAL, "birth_year", "expected a year between 1900 and %d", year);
	return 0;
}
