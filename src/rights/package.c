/*
 * Access and portability packages (fulfil.h; schema in docs/rights.md
 * "Package format"). The document is built with jansson from the policy (what
 * the controller declares), the disclosure ledger, the consent ledger and the
 * subject's records, read through pv_record_read under PV_FULFIL_PURPOSE: the
 * access decision decides every record. The directory form adds CSV files
 * and index.html (package_html.c).
 */
#include "rights/internal.h"

#include "core/error.h"
#include "core/util.h"
#include "privault/consent.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ISO(t, buf) pv_time_format((t), (buf), sizeof(buf))

static const char *recipient_type_name(pv_recipient_type t)
{
	switch (t) {
	case PV_RECIPIENT_PROCESSOR: return "processor";
	case PV_RECIPIENT_THIRD_PARTY: return "third_party";
	case PV_RECIPIENT_AFFILIATE: return "affiliate";
	case PV_RECIPIENT_AUTHORITY: return "authority";
	}
	return "?";
}

/* 1 when a record of `source` counts as provided by the subject (portability). */
static int provided_by_subject(const char *source)
{
	return !source[0] || strcmp(source, "direct") == 0 || strcmp(source, "subject") == 0;
}

static json_t *str_array(const char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* What the policy declares about category c: purposes (with lawful bases), sources, recipients, retention. */
static json_t *category_json(const pv_policy *p, const pv_policy_category *c, pv_regime regime, size_t records)
{
	json_t *o = json_object(), *purposes = json_array(), *sources = json_array(), *recips = json_array();
	json_t *retention = json_array();

	json_object_set_new(o, "id", json_string(c->id));
	json_object_set_new(o, "title", json_string(c->title));
	json_object_set_new(o, "sensitive", json_boolean(c->sensitive));
	if (c->ccpa)
		json_object_set_new(o, "ccpa_category", json_stringn(&c->ccpa, 1));
	json_object_set_new(o, "records", json_integer((json_int_t)records));
	for (size_t i = 0; i < pv_policy_purpose_count(p); i++) {
		const pv_policy_purpose *pu = pv_policy_purpose_at(p, i);
		pv_duration d;
		pv_retention_action act;
		char buf[64];

		if (!pv_policy_purpose_has_category(pu, c))
			continue;
		json_array_append_new(purposes, json_pack("{s:s, s:s, s:s?}", "id", pu->id, "title", pu->title,
							  "lawful_basis", pu->lawful_basis[regime]));
		for (size_t j = 0; j < pu->nsources; j++) {
			int seen = 0;
			for (size_t k = 0; k < json_array_size(sources); k++)
				seen |= strcmp(json_string_value(json_array_get(sources, k)), pu->sources[j]) == 0;
			if (!seen)
				json_array_append_new(sources, json_string(pu->sources[j]));
		}
		if (pv_policy_retention_for(p, c->id, pu->id, &d, &act))
			json_array_append_new(retention, json_pack("{s:s, s:s, s:s}", "purpose", pu->id, "duration",
								   pv_duration_format(&d, buf, sizeof(buf)), "action",
								   act == PV_RETAIN_ANONYMIZE ? "anonymize" : "delete"));
		else
			json_array_append_new(retention, json_pack("{s:s, s:s}", "purpose", pu->id, "duration",
								   "until you ask for deletion"));
	}
	for (size_t i = 0; i < pv_policy_recipient_count(p); i++) {
		const pv_policy_recipient *r = pv_policy_recipient_at(p, i);
		for (size_t j = 0; j < r->ncategories; j++)
			if (strcmp(r->categories[j], c->id) == 0) {
				json_array_append_new(recips, json_string(r->id));
				break;
			}
	}
	json_object_set_new(o, "purposes", purposes);
	json_object_set_new(o, "sources", sources);
	json_object_set_new(o, "recipients", recips);
	json_object_set_new(o, "retention", retention);
	return o;
}

/* The policy's sources and recipients as declared. */
static void declared_json(json_t *doc, const pv_policy *p)
{
	json_t *sources = json_array(), *recips = json_array();

	for (size_t i = 0; i < pv_policy_source_count(p); i++) {
		const pv_policy_source_def *s = pv_policy_source_at(p, i);
		json_array_append_new(sources, json_pack("{s:s, s:s, s:s?}", "id", s->id, "title", s->title,
							 "description", s->description));
	}
	for (size_t i = 0; i < pv_policy_recipient_count(p); i++) {
		const pv_policy_recipient *r = pv_policy_recipient_at(p, i);
		json_array_append_new(recips, json_pack("{s:s, s:s, s:s, s:o, s:o, s:s?, s:s?}", "id", r->id, "name",
							r->name, "type", recipient_type_name(r->type), "purposes",
							str_array(r->purposes, r->npurposes), "categories",
							str_array(r->categories, r->ncategories), "country", r->country,
							"transfer_safeguard", r->transfer_safeguard));
	}
	json_object_set_new(doc, "sources", sources);
	json_object_set_new(doc, "recipients", recips);
}

/* The disclosures of the lookback. */
static int disclosures_json(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_regime regime,
			    json_t *doc, size_t *count)
{
	pv_time since = pv_fulfil_lookback_start(pv_vault_policy(v), regime, pv_clock_now());
	pv_disclosure *d = NULL;
	json_t *items = json_array();
	char buf[32];
	size_t n = 0;
	int rc;

	if ((rc = pv_disclosure_list(v, caller, subject_id, since, &d, &n)) < 0) {
		json_decref(items);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:s}", "id", d[i].id,
						       "recipient", d[i].recipient, "purpose", d[i].purpose,
						       "categories", d[i].categories, "sale", d[i].sale, "sharing",
						       d[i].sharing, "at", ISO(d[i].at, buf)));
	free(d);
	json_object_set_new(doc, "disclosures", json_pack("{s:s, s:o}", "since", ISO(since, buf), "items", items));
	*count = n;
	return 0;
}

/* The consent history from the consent ledger. */
static int consent_json(pv_vault *v, const pv_caller *caller, const char *subject_id, json_t *doc)
{
	pv_consent_event *ev = NULL;
	json_t *items = json_array();
	char buf[32];
	size_t n = 0;
	int rc;

	if ((rc = pv_consent_history(v, caller, subject_id, NULL, &ev, &n)) < 0) {
		json_decref(items);
		return rc;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:s}", "purpose", ev[i].purpose,
						       "action", pv_consent_action_name(ev[i].action), "source",
						       pv_consent_source_name(ev[i].source), "notice_version",
						       ev[i].notice_version, "at", ISO(ev[i].at, buf)));
	pv_consent_events_free(ev, n);
	json_object_set_new(doc, "consent_history", items);
	return 0;
}

/* A growing text buffer (wiped on free: it holds record data). */
typedef struct {
	char *p;
	size_t len, cap;
	int oom;
} tbuf;

static void tb_put(tbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *np;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = malloc(cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		if (b->p) {
			memcpy(np, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void tb_str(tbuf *b, const char *s)
{
	tb_put(b, s, strlen(s));
}

/* A JSON string literal of s (ids, names and times: escaped all the same). */
static void tb_jstr(tbuf *b, const char *s)
{
	tb_put(b, "\"", 1);
	for (const char *q = s; *q; q++) {
		unsigned char c = (unsigned char)*q;
		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			tb_put(b, e, 2);
		} else if (c < 0x20) {
			char e[8];
			snprintf(e, sizeof(e), "\\u%04x", c);
			tb_put(b, e, 6);
		} else {
			tb_put(b, q, 1);
		}
	}
	tb_put(b, "\"", 1);
}

static void tb_free(tbuf *b)
{
	if (b->p) {
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/*
 * The records array as JSON text, each record's data embedded as stored (the
 * vault checked it as a JSON object at put, and the AEAD binds it), without a
 * parse and re-serialization per record. Used by pv_package_json.
 */
static void record_raw(tbuf *b, const pv_record *r, int first)
{
	char a[32];

	tb_str(b, first ? "\n    {\"id\": " : ",\n    {\"id\": ");
	tb_jstr(b, r->id);
	tb_str(b, ", \"category\": ");
	tb_jstr(b, r->category);
	tb_str(b, ", \"purpose\": ");
	tb_jstr(b, r->purpose);
	tb_str(b, ", \"source\": ");
	if (r->source[0])
		tb_jstr(b, r->source);
	else
		tb_str(b, "null");
	tb_str(b, ", \"collected_at\": ");
	tb_jstr(b, pv_time_format(r->collected_at, a, sizeof(a)));
	tb_str(b, ", \"updated_at\": ");
	tb_jstr(b, pv_time_format(r->updated_at, a, sizeof(a)));
	tb_str(b, ", \"expires_at\": ");
	if (r->expires_at == INT64_MAX)
		tb_str(b, "null");
	else
		tb_jstr(b, pv_time_format(r->expires_at, a, sizeof(a)));
	tb_str(b, ", \"data\": ");
	tb_put(b, r->data, r->len);
	tb_str(b, "}");
}

/* Records read under PV_FULFIL_PURPOSE into doc.records; per-category counts into cats. */
static int records_json(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_package_kind kind,
			json_t *doc, pv_package_summary *sum, size_t *cat_counts, tbuf *raw)
{
	const pv_policy *p = pv_vault_policy(v);
	pv_record_list *l = NULL;
	pv_decision denied;
	json_t *arr = json_array();
	int rc;

	rc = pv_record_read(v, caller, subject_id, PV_FULFIL_PURPOSE, NULL, &l, &denied);
	if (rc == PV_EDENIED) {
		sum->withheld = 0;   /* every record denied: reported as withheld below */
		json_object_set_new(doc, "records", arr);
		return pv_error_set(PV_EDENIED, "records: the access decision denied %s (%s)", PV_FULFIL_PURPOSE,
				    pv_reason_name(denied.reason));
	}
	if (rc < 0) {
		json_decref(arr);
		return rc;
	}
	for (size_t i = 0; i < pv_record_list_count(l); i++) {
		const pv_record *r = pv_record_list_at(l, i);
		const pv_policy_category *c = pv_policy_category_find(p, r->category);
		json_error_t err;
		json_t *data, *o;
		char a[32], b[32], e[32];

		if (kind == PV_PACKAGE_PORTABILITY && !provided_by_subject(r->source))
			continue;
		if (raw) {
			record_raw(raw, r, sum->records == 0);
			if (c)
				cat_counts[c->index]++;
			sum->records++;
			continue;
		}
		data = json_loadb(r->data, r->len, JSON_DECODE_ANY, &err);
		if (!data) {
			json_decref(arr);
			pv_record_list_free(l);
			return pv_error_set(PV_ERROR, "records: record %s holds invalid JSON", r->id);
		}
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s?, s:o}", "id", r->id, "category", r->category,
			      "purpose", r->purpose, "source", r->source[0] ? r->source : NULL, "collected_at",
			      ISO(r->collected_at, a), "updated_at", ISO(r->updated_at, b), "expires_at",
			      r->expires_at == INT64_MAX ? NULL : ISO(r->expires_at, e), "data", data);
		json_array_append_new(arr, o);
		if (c)
			cat_counts[c->index]++;
		sum->records++;
	}
	sum->withheld = pv_record_list_denied(l);
	pv_record_list_free(l);
	if (raw) {
		json_decref(arr);
		if (raw->oom)
			return pv_error_set(PV_ENOMEM, "package: out of memory");
	} else {
		json_object_set_new(doc, "records", arr);
	}
	json_object_set_new(doc, "withheld", json_integer((json_int_t)sum->withheld));
	return 0;
}

/*
 * Who may build a package: an admin, or a service granted PV_FULFIL_PURPOSE
 * (its grant's categories then bound what the reads return). 0 or PV_EDENIED.
 */
static int package_caller_check(const pv_caller *caller)
{
	if (caller->role == PV_ROLE_SERVICE)
		for (size_t i = 0; i < caller->ngrants; i++)
			if (caller->grants[i].purpose && strcmp(caller->grants[i].purpose, PV_FULFIL_PURPOSE) == 0)
				return 0;
	return pv_fulfil_need_admin(caller, "package");
}

/* Build the package document. *out owned by the caller (json_decref). */
static int package_doc(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_package_kind kind,
		       json_t **out, pv_package_summary *sum, tbuf *raw)
{
	const pv_policy *p = pv_vault_policy(v);
	const pv_policy_controller *ctl = pv_policy_controller_get(p);
	pv_subject_info info;
	size_t *counts = NULL;
	json_t *doc = NULL, *cats;
	char buf[32], buf2[32];
	int rc;

	*out = NULL;
	memset(sum, 0, sizeof(*sum));
	if (!v || (kind != PV_PACKAGE_ACCESS && kind != PV_PACKAGE_PORTABILITY))
		return pv_error_set(PV_EINVAL, "kind: expected access or portability");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = package_caller_check(caller)) < 0)
		return rc;
	if (!pv_policy_purpose_find(p, PV_FULFIL_PURPOSE))
		return pv_error_set(PV_EPOLICY, "purposes: the policy declares no purpose %s, under which packages "
				    "read data (docs/rights.md)", PV_FULFIL_PURPOSE);
	if ((rc = pv_vault_subject_load(v, subject_id, &info)) < 0)
		return rc;
	if (info.state == PV_SUBJECT_ERASED)
		return pv_error_set(PV_EERASED, "subject %s: erased", subject_id);
	counts = calloc(pv_policy_category_count(p) + 1, sizeof(*counts));
	doc = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:s, s:s?}, s:{s:s, s:s}}", "format",
			"privault-package/1", "kind", kind == PV_PACKAGE_ACCESS ? "access" : "portability",
			"generated_at", ISO(pv_clock_now(), buf), "subject", "id", subject_id, "regime",
			pv_regime_name(info.regime), "created_at", ISO(info.created_at, buf2), "state",
			info.state == PV_SUBJECT_RESTRICTED ? "restricted" : "active", "controller", "name", ctl->name,
			"contact", ctl->contact, "address", ctl->address, "policy", "version",
			pv_policy_version_label(p), "hash", pv_policy_hash(p));
	if (!counts || !doc) {
		rc = pv_error_set(PV_ENOMEM, "package: out of memory");
		goto fail;
	}
	if ((rc = records_json(v, caller, subject_id, kind, doc, sum, counts, raw)) < 0)
		goto fail;
	if (kind == PV_PACKAGE_ACCESS) {
		cats = json_array();
		for (size_t i = 0; i < pv_policy_category_count(p); i++)
			if (counts[i]) {
				json_array_append_new(cats, category_json(p, pv_policy_category_at(p, i), info.regime,
									  counts[i]));
				sum->categories++;
			}
		json_object_set_new(doc, "categories", cats);
		declared_json(doc, p);
		if ((rc = disclosures_json(v, caller, subject_id, info.regime, doc, &sum->disclosures)) < 0 ||
		    (rc = consent_json(v, caller, subject_id, doc)) < 0)
			goto fail;
	} else {
		for (size_t i = 0; i < pv_policy_category_count(p); i++)
			sum->categories += counts[i] != 0;
	}
	free(counts);
	*out = doc;
	return 0;
fail:
	free(counts);
	json_decref(doc);
	return rc;
}

/* Wipe and free a serialized document. */
static void text_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

int pv_package_json(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_package_kind kind,
		    char **out, size_t *len, pv_package_summary *summary)
{
	pv_package_summary sum;
	tbuf raw = { 0 }, whole = { 0 };
	json_t *doc = NULL;
	char *s, *head, *end;
	int rc;

	if (!out)
		return pv_error_set(PV_EINVAL, "package: expected an output");
	*out = NULL;
	if ((rc = package_doc(v, caller, subject_id, kind, &doc, &sum, &raw)) < 0) {
		tb_free(&raw);
		return rc;
	}
	head = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	/* the document without records ends in "\n}": the records array goes before that brace */
	if (!head || !(end = strrchr(head, '}'))) {
		free(head);
		tb_free(&raw);
		return pv_error_set(PV_ENOMEM, "package: out of memory");
	}
	tb_put(&whole, head, (size_t)(end - head));
	while (whole.len && (whole.p[whole.len - 1] == '\n' || whole.p[whole.len - 1] == ' '))
		whole.len--;
	tb_str(&whole, ",\n  \"records\": [");
	if (raw.len)
		tb_put(&whole, raw.p, raw.len);
	tb_str(&whole, raw.len ? "\n  ]\n}" : "]\n}");
	text_free(head);
	tb_free(&raw);
	if (whole.oom) {
		tb_free(&whole);
		return pv_error_set(PV_ENOMEM, "package: out of memory");
	}
	s = whole.p;
	if ((rc = pv_vault_tx_begin(v)) == 0) {
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "package.write", subject_id, PV_FULFIL_PURPOSE,
				     NULL, kind == PV_PACKAGE_ACCESS ? "ok:access:json" : "ok:portability:json");
		rc = pv_vault_tx_end(v, rc);
	}
	if (rc < 0) {
		text_free(s);
		return rc;
	}
	*out = s;
	if (len)
		*len = strlen(s);
	if (summary)
		*summary = sum;
	return 0;
}

/* Write one CSV field (RFC 4180 quoting; a leading = + - @ is prefixed with ' against formula injection). */
static void csv_field(FILE *f, const char *s, int last)
{
	fputc('"', f);
	if (*s == '=' || *s == '+' || *s == '-' || *s == '@')
		fputc('\'', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputs(last ? "\"\r\n" : "\",", f);
}

/* records.csv: id, category, purpose, source, collected_at, field, value (one row per top-level field). */
static int csv_records(const char *path, json_t *doc)
{
	FILE *f = fopen(path, "we");
	size_t i;
	json_t *r;

	if (!f)
		return pv_error_set(PV_EIO, "package: cannot write records.csv (%s)", strerror(errno));
	fputs("record_id,category,purpose,source,collected_at,field,value\r\n", f);
	json_array_foreach(json_object_get(doc, "records"), i, r) {
		json_t *data = json_object_get(r, "data"), *val;
		const char *key;
		json_object_foreach(data, key, val) {
			char *text = json_is_string(val) ? NULL : json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
			const char *src = json_string_value(json_object_get(r, "source"));
			csv_field(f, json_string_value(json_object_get(r, "id")), 0);
			csv_field(f, json_string_value(json_object_get(r, "category")), 0);
			csv_field(f, json_string_value(json_object_get(r, "purpose")), 0);
			csv_field(f, src ? src : "", 0);
			csv_field(f, json_string_value(json_object_get(r, "collected_at")), 0);
			csv_field(f, key, 0);
			csv_field(f, text ? text : json_string_value(val), 1);
			text_free(text);
		}
	}
	if (fclose(f) != 0)
		return pv_error_set(PV_EIO, "package: cannot write records.csv");
	return 0;
}

/* disclosures.csv (access packages). */
static int csv_disclosures(const char *path, json_t *doc)
{
	FILE *f = fopen(path, "we");
	size_t i;
	json_t *d;

	if (!f)
		return pv_error_set(PV_EIO, "package: cannot write disclosures.csv (%s)", strerror(errno));
	fputs("id,recipient,purpose,categories,sale,sharing,at\r\n", f);
	json_array_foreach(json_object_get(json_object_get(doc, "disclosures"), "items"), i, d) {
		csv_field(f, json_string_value(json_object_get(d, "id")), 0);
		csv_field(f, json_string_value(json_object_get(d, "recipient")), 0);
		csv_field(f, json_string_value(json_object_get(d, "purpose")), 0);
		csv_field(f, json_string_value(json_object_get(d, "categories")), 0);
		csv_field(f, json_is_true(json_object_get(d, "sale")) ? "true" : "false", 0);
		csv_field(f, json_is_true(json_object_get(d, "sharing")) ? "true" : "false", 0);
		csv_field(f, json_string_value(json_object_get(d, "at")), 1);
	}
	if (fclose(f) != 0)
		return pv_error_set(PV_EIO, "package: cannot write disclosures.csv");
	return 0;
}

/* Write `s` to path (mode 0600). */
static int file_write(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return pv_error_set(PV_EIO, "package: cannot write %s (%s)", strrchr(path, '/') + 1, strerror(errno));
	if (fwrite(s, 1, len, f) != len) {
		fclose(f);
		return pv_error_set(PV_EIO, "package: write failed");
	}
	if (fclose(f) != 0)
		return pv_error_set(PV_EIO, "package: write failed");
	return 0;
}

static const char *const package_files[] = { "package.json", "records.csv", "disclosures.csv", "index.html" };

int pv_package_write(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_package_kind kind,
		     const char *dir, pv_package_summary *out)
{
	pv_package_summary sum;
	json_t *doc = NULL;
	char path[4200], *s = NULL;
	mode_t old;
	int rc, made = 0, writing = 0;

	if (!dir || !*dir)
		return pv_error_set(PV_EINVAL, "dir: expected a directory for the package");
	if ((rc = package_doc(v, caller, subject_id, kind, &doc, &sum, NULL)) < 0)
		return rc;
	old = umask(077);
	if (mkdir(dir, 0700) == 0)
		made = 1;
	else if (errno != EEXIST) {
		rc = pv_error_set(PV_EIO, "dir: cannot create (%s)", strerror(errno));
		goto done;
	}
	for (size_t i = 0; i < sizeof(package_files) / sizeof(package_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, package_files[i]);
		if (access(path, F_OK) == 0) {
			rc = pv_error_set(PV_EEXISTS, "dir: already holds %s", package_files[i]);
			goto done;
		}
	}
	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s) {
		rc = pv_error_set(PV_ENOMEM, "package: out of memory");
		goto done;
	}
	writing = 1;
	snprintf(path, sizeof(path), "%s/package.json", dir);
	if ((rc = file_write(path, s, strlen(s))) < 0)
		goto done;
	snprintf(path, sizeof(path), "%s/records.csv", dir);
	if ((rc = csv_records(path, doc)) < 0)
		goto done;
	if (kind == PV_PACKAGE_ACCESS) {
		snprintf(path, sizeof(path), "%s/disclosures.csv", dir);
		if ((rc = csv_disclosures(path, doc)) < 0)
			goto done;
		snprintf(path, sizeof(path), "%s/index.html", dir);
		if ((rc = pv_fulfil_html_write(path, doc)) < 0)
			goto done;
	}
	if ((rc = pv_vault_tx_begin(v)) == 0) {
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "package.write", subject_id, PV_FULFIL_PURPOSE,
				     NULL, kind == PV_PACKAGE_ACCESS ? "ok:access" : "ok:portability");
		rc = pv_vault_tx_end(v, rc);
	}
done:
	umask(old);
	if (rc < 0 && writing) {
		for (size_t i = 0; i < sizeof(package_files) / sizeof(package_files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, package_files[i]);
			unlink(path);
		}
	}
	if (rc < 0 && made)
		rmdir(dir);
	text_free(s);
	json_decref(doc);
	if (rc == 0 && out)
		*out = sum;
	return rc;
}
