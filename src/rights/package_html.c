/*
 * index.html of an access package: the package document rendered for a
 * person, every value HTML-escaped (record data is whatever was stored:
 * "<script>" in a record must come out as text). No scripts, no external
 * resources; a Content-Security-Policy meta tag forbids them anyway.
 */
#include "rights/internal.h"

#include "core/error.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

void pv_fulfil_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

#define E(s) pv_fulfil_html_escape(f, (s))

/* A JSON value as escaped text: strings as they are, objects as a list of
 * fields (nested), other values as compact JSON. */
static void value_html(FILE *f, json_t *v)
{
	const char *key;
	json_t *x;
	char *t;

	if (json_is_string(v)) {
		E(json_string_value(v));
		return;
	}
	if (json_is_object(v)) {
		fputs("<dl>", f);
		json_object_foreach(v, key, x) {
			fputs("<dt>", f);
			E(key);
			fputs("</dt><dd>", f);
			value_html(f, x);
			fputs("</dd>", f);
		}
		fputs("</dl>", f);
		return;
	}
	t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	E(t);
	free(t);
}

/* A table of an array of objects, columns in the order given. */
static void table(FILE *f, json_t *arr, const char *const *cols, const char *const *heads, size_t n)
{
	size_t i;
	json_t *row;

	fputs("<table>\n<tr>", f);
	for (size_t c = 0; c < n; c++) {
		fputs("<th>", f);
		E(heads[c]);
		fputs("</th>", f);
	}
	fputs("</tr>\n", f);
	json_array_foreach(arr, i, row) {
		fputs("<tr>", f);
		for (size_t c = 0; c < n; c++) {
			json_t *v = json_object_get(row, cols[c]);
			fputs("<td>", f);
			if (v && !json_is_null(v))
				value_html(f, v);
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void categories_html(FILE *f, json_t *cats)
{
	size_t i, j;
	json_t *c, *x;

	json_array_foreach(cats, i, c) {
		fputs("<h3>", f);
		E(json_string_value(json_object_get(c, "title")));
		fputs(" (", f);
		value_html(f, json_object_get(c, "records"));
		fputs(" records)</h3>\n<p>Purposes and lawful bases:</p>\n<ul>\n", f);
		json_array_foreach(json_object_get(c, "purposes"), j, x) {
			fputs("<li>", f);
			E(json_string_value(json_object_get(x, "title")));
			fputs(": ", f);
			E(json_string_value(json_object_get(x, "lawful_basis")) ? json_string_value(json_object_get(x, "lawful_basis")) : "not stated");
			fputs("</li>\n", f);
		}
		fputs("</ul>\n<p>Sources: ", f);
		json_array_foreach(json_object_get(c, "sources"), j, x) {
			if (j)
				fputs(", ", f);
			E(json_string_value(x));
		}
		fputs("</p>\n<p>Recipients: ", f);
		json_array_foreach(json_object_get(c, "recipients"), j, x) {
			if (j)
				fputs(", ", f);
			E(json_string_value(x));
		}
		fputs("</p>\n<p>Kept:</p>\n<ul>\n", f);
		json_array_foreach(json_object_get(c, "retention"), j, x) {
			fputs("<li>", f);
			E(json_string_value(json_object_get(x, "purpose")));
			fputs(": ", f);
			E(json_string_value(json_object_get(x, "duration")));
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
}

int pv_fulfil_html_write(const char *path, void *docp)
{
	static const char *const rcols[] = { "category", "purpose", "source", "collected_at", "data" };
	static const char *const rheads[] = { "Category", "Purpose", "Source", "Collected", "Data" };
	static const char *const dcols[] = { "at", "recipient", "purpose", "categories", "sale", "sharing" };
	static const char *const dheads[] = { "When", "Recipient", "Purpose", "Categories", "Sale", "Sharing" };
	static const char *const ccols[] = { "at", "purpose", "action", "source", "notice_version" };
	static const char *const cheads[] = { "When", "Purpose", "Choice", "How", "Notice" };
	static const char *const pcols[] = { "id", "name", "type", "country", "transfer_safeguard" };
	static const char *const pheads[] = { "Id", "Name", "Type", "Country", "Safeguard" };
	json_t *doc = docp, *ctl, *subj;
	FILE *f;
	int rc = 0;

	if (!(f = fopen(path, "we")))
		return pv_error_set(PV_EIO, "package: cannot write index.html (%s)", strerror(errno));
	ctl = json_object_get(doc, "controller");
	subj = json_object_get(doc, "subject");
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
	      "<title>Your data</title>\n<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
	      "table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .4em;vertical-align:top}"
	      "</style>\n</head>\n<body>\n<h1>Your data held by ", f);
	E(json_string_value(json_object_get(ctl, "name")));
	fputs("</h1>\n<p>Subject ", f);
	E(json_string_value(json_object_get(subj, "id")));
	fputs(", generated ", f);
	E(json_string_value(json_object_get(doc, "generated_at")));
	fputs(" under policy version ", f);
	E(json_string_value(json_object_get(json_object_get(doc, "policy"), "version")));
	fputs(". Contact: ", f);
	E(json_string_value(json_object_get(ctl, "contact")));
	fputs("</p>\n<h2>Categories</h2>\n", f);
	categories_html(f, json_object_get(doc, "categories"));
	fputs("<h2>Recipients</h2>\n", f);
	table(f, json_object_get(doc, "recipients"), pcols, pheads, 5);
	fputs("<h2>Disclosures since ", f);
	E(json_string_value(json_object_get(json_object_get(doc, "disclosures"), "since")));
	fputs("</h2>\n", f);
	table(f, json_object_get(json_object_get(doc, "disclosures"), "items"), dcols, dheads, 6);
	fputs("<h2>Consent history</h2>\n", f);
	table(f, json_object_get(doc, "consent_history"), ccols, cheads, 5);
	fputs("<h2>Your records</h2>\n", f);
	table(f, json_object_get(doc, "records"), rcols, rheads, 5);
	fputs("</body>\n</html>\n", f);
	if (fclose(f) != 0)
		rc = pv_error_set(PV_EIO, "package: cannot write index.html");
	return rc;
}
