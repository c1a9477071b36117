/*
 * Consent receipts and exports: a subject ref's records as a Kantara Consent
 * Receipt v1.1-style JSON document and as CSV, and a bulk export of every
 * event of a time range as JSON lines or CSV (docs/consent.md, "Receipts and
 * exports"). Personal data leaves only to the caller: nothing is logged.
 */
#define PV_VAULT_PRIVATE
#include "consent/ledger_internal.h"
#include "vault/vault_internal.h"

#include "core/error.h"
#include "core/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jurisdiction(pv_regime r)
{
	switch (r) {
	case PV_REGIME_GDPR: return "EU";
	case PV_REGIME_CCPA: return "US-CA";
	case PV_REGIME_LGPD: return "BR";
	default: return "?";
	}
}

static const char *const mech_names[] = { "opt_in", "opt_out", "notice_only" };

static json_t *iso_time(pv_time t)
{
	char buf[32];
	return json_string(pv_time_format(t, buf, sizeof(buf)));
}

/* One event as a JSON object (the export line and the receipt's "events" entries). */
static json_t *event_json(const pv_consent_event *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(e->id));
	json_object_set_new(o, "receipt_id", json_string(e->receipt_id));
	json_object_set_new(o, "subject", json_string(e->subject));
	json_object_set_new(o, "seq", json_integer(e->seq));
	json_object_set_new(o, "at", iso_time(e->at));
	json_object_set_new(o, "purpose", json_string(e->purpose));
	json_object_set_new(o, "vendor", json_integer(e->vendor));
	json_object_set_new(o, "action", json_string(pv_consent_action_name(e->action)));
	json_object_set_new(o, "mechanism", e->has_mechanism ? json_string(mech_names[e->mechanism]) : json_null());
	json_object_set_new(o, "source", json_string(pv_consent_source_name(e->source)));
	json_object_set_new(o, "notice_version", json_string(e->notice_version));
	json_object_set_new(o, "policy_version", json_string(e->policy_version));
	json_object_set_new(o, "ua_hash", e->ua_hash[0] ? json_string(e->ua_hash) : json_null());
	json_object_set_new(o, "client", e->client[0] ? json_string(e->client) : json_null());
	json_object_set_new(o, "conflict", json_boolean(e->conflict));
	json_object_set_new(o, "conflict_reason", e->conflict_reason[0] ? json_string(e->conflict_reason) : json_null());
	json_object_set_new(o, "signal", e->signal ? json_string(e->signal) : json_null());
	return o;
}

/* The Kantara "services" entry: one purpose of the policy with its current state. */
static json_t *purpose_json(const pv_policy *p, const pv_policy_purpose *pu, const pv_consent_state *st,
			    pv_regime regime)
{
	json_t *o = json_object(), *cats = json_array(), *pcat = json_array(), *third = json_array();
	pv_duration d;
	char buf[64];

	json_object_set_new(o, "purpose", json_string(pu->title));
	json_object_set_new(o, "purposeId", json_string(pu->id));
	if (pu->marketing)
		json_array_append_new(pcat, json_string("marketing"));
	if (pu->sale)
		json_array_append_new(pcat, json_string("sale"));
	if (pu->sharing)
		json_array_append_new(pcat, json_string("sharing"));
	if (pu->administrative)
		json_array_append_new(pcat, json_string("administrative"));
	if (json_array_size(pcat) == 0)
		json_array_append_new(pcat, json_string("core_function"));
	json_object_set_new(o, "purposeCategory", pcat);
	json_object_set_new(o, "consentType", json_string(pu->consent == PV_CONSENT_OPT_IN ? "EXPLICIT" : "IMPLICIT"));
	json_object_set_new(o, "lawfulBasis", pu->lawful_basis[regime] ? json_string(pu->lawful_basis[regime]) : json_null());
	for (size_t i = 0; i < pu->ncategories; i++)
		json_array_append_new(cats, json_string(pu->categories[i]));
	json_object_set_new(o, "piiCategory", cats);
	json_object_set_new(o, "primaryPurpose", json_boolean(!pu->marketing && !pu->sale && !pu->sharing));
	if (pv_policy_retention_for(p, "*", pu->id, &d, NULL))
		snprintf(buf, sizeof(buf), "withdrawal, or after %s", pv_duration_format(&d, buf + 32, 32));
	else
		snprintf(buf, sizeof(buf), "withdrawal");
	json_object_set_new(o, "termination", json_string(buf));
	for (size_t i = 0; i < pv_policy_recipient_count(p); i++) {
		const pv_policy_recipient *r = pv_policy_recipient_at(p, i);
		for (size_t j = 0; j < r->npurposes; j++)
			if (strcmp(r->purposes[j], pu->id) == 0) {
				json_array_append_new(third, json_string(r->name));
				break;
			}
	}
	json_object_set_new(o, "thirdPartyDisclosure", json_boolean(json_array_size(third) > 0));
	json_object_set_new(o, "thirdPartyName", third);
	json_object_set_new(o, "state", json_string(st ? pv_consent_status_name(st->consent) : "none"));
	json_object_set_new(o, "optedOut", json_boolean(st && st->opted_out));
	json_object_set_new(o, "objected", json_boolean(st && st->objected));
	json_object_set_new(o, "noticeVersion", st && st->notice_version[0] ? json_string(st->notice_version) : json_null());
	return o;
}

/* Load a subject ref's events (with signals) and derived state, audited as `what`. */
static int load_all(pv_vault *v, const pv_caller *caller, const char *subject, const char *what,
		    pv_consent_event **ev, size_t *n, pv_regime *regime)
{
	pv_subject_info info;
	int rc;

	*regime = pv_policy_default_regime(pv_vault_policy(v));
	if (pv_uuid_valid(subject) && pv_vault_subject_load(v, subject, &info) == 0)
		*regime = info.regime;
	rc = pv_consent_history(v, caller, subject, NULL, ev, n);
	if (rc < 0)
		return rc;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto fail;
	rc = pv_consent_audit(v, caller, what, subject, NULL, "ok");
	if ((rc = pv_vault_tx_end(v, rc)) < 0)
		goto fail;
	return 0;
fail:
	pv_consent_events_free(*ev, *n);
	*ev = NULL;
	*n = 0;
	return rc;
}

/* The state of (purpose, vendor 0) derived from the events. */
static void state_of(const pv_consent_event *ev, size_t n, const char *purpose, pv_consent_state *st)
{
	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < n; i++) {
		pv_consent_fact f = { ev[i].id, ev[i].seq, ev[i].action, ev[i].source, ev[i].notice_version, ev[i].at };
		if (ev[i].vendor == 0 && strcmp(ev[i].purpose, purpose) == 0)
			pv_consent_apply(st, &f);
	}
}

int pv_consent_receipt_json(pv_vault *v, const pv_caller *caller, const char *subject, char **out)
{
	const pv_policy *p;
	const pv_policy_controller *c;
	pv_consent_event *ev = NULL;
	size_t n = 0;
	pv_regime regime;
	json_t *doc, *ctrls, *ctrl, *svc, *svcs, *purposes, *events;
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "receipt: expected a vault and an output");
	*out = NULL;
	if ((rc = load_all(v, caller, subject, "receipt", &ev, &n, &regime)) < 0)
		return rc;
	p = pv_vault_policy(v);
	c = pv_policy_controller_get(p);
	doc = json_object();
	json_object_set_new(doc, "version", json_string("KI-CR-v1.1.0"));
	json_object_set_new(doc, "jurisdiction", json_string(jurisdiction(regime)));
	json_object_set_new(doc, "consentTimestamp", n ? json_integer(ev[n - 1].at) : json_null());
	json_object_set_new(doc, "collectionMethod", n ? json_string(pv_consent_source_name(ev[n - 1].source)) : json_null());
	json_object_set_new(doc, "consentReceiptID", n ? json_string(ev[n - 1].receipt_id) : json_null());
	json_object_set_new(doc, "language", json_string("en"));
	json_object_set_new(doc, "piiPrincipalId", json_string(subject));
	ctrls = json_array();
	ctrl = json_object();
	json_object_set_new(ctrl, "piiController", json_string(c && c->name ? c->name : ""));
	json_object_set_new(ctrl, "contact", json_string(c && c->contact ? c->contact : ""));
	json_object_set_new(ctrl, "address", c && c->address ? json_string(c->address) : json_null());
	json_object_set_new(ctrl, "piiControllerUrl", pv_policy_url(p) ? json_string(pv_policy_url(p)) : json_null());
	json_array_append_new(ctrls, ctrl);
	json_object_set_new(doc, "piiControllers", ctrls);
	json_object_set_new(doc, "policyUrl", pv_policy_url(p) ? json_string(pv_policy_url(p)) : json_null());
	json_object_set_new(doc, "policyVersion", json_string(pv_vault_policy_hash(v)));
	json_object_set_new(doc, "noticeVersion", json_string(pv_policy_version_label(p)));
	svcs = json_array();
	svc = json_object();
	json_object_set_new(svc, "service", json_string(pv_policy_title(p) ? pv_policy_title(p) : "privault"));
	purposes = json_array();
	for (size_t i = 0; i < pv_policy_purpose_count(p); i++) {
		const pv_policy_purpose *pu = pv_policy_purpose_at(p, i);
		pv_consent_state st;
		state_of(ev, n, pu->id, &st);
		json_array_append_new(purposes, purpose_json(p, pu, st.last_seq ? &st : NULL, regime));
	}
	json_object_set_new(svc, "purposes", purposes);
	json_array_append_new(svcs, svc);
	json_object_set_new(doc, "services", svcs);
	{
		int sensitive = 0;
		json_t *spi = json_array();
		for (size_t i = 0; i < pv_policy_category_count(p); i++) {
			const pv_policy_category *cat = pv_policy_category_at(p, i);
			if (cat->sensitive) {
				sensitive = 1;
				json_array_append_new(spi, json_string(cat->id));
			}
		}
		json_object_set_new(doc, "sensitive", json_boolean(sensitive));
		json_object_set_new(doc, "spiCat", spi);
	}
	events = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(events, event_json(&ev[i]));
	json_object_set_new(doc, "events", events);
	*out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	pv_consent_events_free(ev, n);
	return *out ? 0 : pv_error_set(PV_ENOMEM, "receipt: out of memory");
}

/* ---- CSV ------------------------------------------------------------------------ */

static const char csv_header[] =
	"id,receipt_id,subject,seq,at,purpose,vendor,action,mechanism,source,notice_version,policy_version,"
	"ua_hash,client,conflict,conflict_reason,signal\n";

typedef struct {
	char *p;
	size_t n, cap;
	int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *q;
		while (cap < b->n + len + 1)
			cap *= 2;
		q = realloc(b->p, cap);
		if (!q) {
			b->oom = 1;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = 0;
}

/* A CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; a leading =+-@ is prefixed with '. */
static void sb_field(sbuf *b, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;

	if (quote)
		sb_add(b, "\"", 1);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')
		if (strcmp(s, "-") != 0)
			sb_add(b, "'", 1);
	for (const char *q = s; *q; q++) {
		sb_add(b, q, 1);
		if (*q == '"')
			sb_add(b, "\"", 1);   /* a quote is doubled */
	}
	if (quote)
		sb_add(b, "\"", 1);
	sb_add(b, last ? "\n" : ",", 1);
}

static void csv_row(sbuf *b, const pv_consent_event *e)
{
	char at[32], num[32];

	sb_field(b, e->id, 0);
	sb_field(b, e->receipt_id, 0);
	sb_field(b, e->subject, 0);
	snprintf(num, sizeof(num), "%lld", (long long)e->seq);
	sb_field(b, num, 0);
	sb_field(b, pv_time_format(e->at, at, sizeof(at)), 0);
	sb_field(b, e->purpose, 0);
	snprintf(num, sizeof(num), "%u", e->vendor);
	sb_field(b, num, 0);
	sb_field(b, pv_consent_action_name(e->action), 0);
	sb_field(b, e->has_mechanism ? mech_names[e->mechanism] : "", 0);
	sb_field(b, pv_consent_source_name(e->source), 0);
	sb_field(b, e->notice_version, 0);
	sb_field(b, e->policy_version, 0);
	sb_field(b, e->ua_hash, 0);
	sb_field(b, e->client, 0);
	sb_field(b, e->conflict ? "1" : "0", 0);
	sb_field(b, e->conflict_reason, 0);
	sb_field(b, e->signal ? e->signal : "", 1);
}

int pv_consent_receipt_csv(pv_vault *v, const pv_caller *caller, const char *subject, char **out)
{
	pv_consent_event *ev = NULL;
	sbuf b = { NULL, 0, 0, 0 };
	pv_regime regime;
	size_t n = 0;
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "receipt: expected a vault and an output");
	*out = NULL;
	if ((rc = load_all(v, caller, subject, "receipt_csv", &ev, &n, &regime)) < 0)
		return rc;
	sb_add(&b, csv_header, strlen(csv_header));
	for (size_t i = 0; i < n; i++)
		csv_row(&b, &ev[i]);
	pv_consent_events_free(ev, n);
	if (b.oom) {
		free(b.p);
		return pv_error_set(PV_ENOMEM, "receipt: out of memory");
	}
	*out = b.p;
	return 0;
}

/* ---- bulk export ------------------------------------------------------------------ */

static const char sql_signal_get[] = "SELECT signal FROM consent_signals WHERE receipt_id = ?";

static int signal_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	char **sig = payload;

	(void)cols;
	if (n < 1 || vals[0].type != PV_STORE_TEXT)
		return 0;
	*sig = strndup((const char *)vals[0].p, vals[0].len);
	return *sig ? 0 : pv_error_set(PV_ENOMEM, "consent: out of memory");
}

int pv_consent_export(pv_vault *v, const pv_caller *caller, pv_time from, pv_time to,
		      pv_consent_export_format format,
		      int (*write)(const char *buf, size_t len, void *payload), void *payload,
		      size_t *count)
{
	pv_consent_event *ev = NULL;
	size_t n = 0;
	pv_store *s;
	char outcome[48];
	int rc;

	if (!v || !write)
		return pv_error_set(PV_EINVAL, "export: expected a vault and a writer");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (caller->role != PV_ROLE_ADMIN && caller->role != PV_ROLE_AUDITOR)
		return pv_error_set(PV_EDENIED, "caller: only admin or auditor may export the consent ledger");
	if (format != PV_CONSENT_EXPORT_JSONL && format != PV_CONSENT_EXPORT_CSV)
		return pv_error_set(PV_EINVAL, "format: expected jsonl or csv");
	if (from > to)
		return pv_error_set(PV_EINVAL, "from: expected a time before `to`");
	s = pv_vault_store(v);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_consent_events_range(s, from, to, &ev, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {   /* signals: one lookup per receipt */
		pv_store_value p[1] = { pv_sv_text(ev[i].receipt_id) };
		if (i > 0 && strcmp(ev[i].receipt_id, ev[i - 1].receipt_id) == 0) {
			if (ev[i - 1].signal && !(ev[i].signal = strdup(ev[i - 1].signal)))
				rc = pv_error_set(PV_ENOMEM, "consent: out of memory");
			continue;
		}
		rc = pv_store_query(s, "consent_signals get", sql_signal_get, p, 1, signal_cb, &ev[i].signal);
	}
	snprintf(outcome, sizeof(outcome), "events:%zu", n);
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "export", NULL, NULL, outcome);
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0 && format == PV_CONSENT_EXPORT_CSV)
		rc = write(csv_header, strlen(csv_header), payload);
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (format == PV_CONSENT_EXPORT_CSV) {
			sbuf b = { NULL, 0, 0, 0 };
			csv_row(&b, &ev[i]);
			rc = b.oom ? pv_error_set(PV_ENOMEM, "export: out of memory") : write(b.p, b.n, payload);
			free(b.p);
		} else {
			json_t *o = event_json(&ev[i]);
			char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(o);
			if (!line)
				rc = pv_error_set(PV_ENOMEM, "export: out of memory");
			else {
				rc = write(line, strlen(line), payload);
				if (rc == 0)
					rc = write("\n", 1, payload);
				free(line);
			}
		}
	}
	if (rc == 0 && count)
		*count = n;
	pv_consent_events_free(ev, n);
	return rc;
}
