/*
 * The consent ledger: appending events. Each call validates everything first,
 * then in one transaction (joining a pv_vault_begin batch) reads the derived
 * state of each (subject ref, purpose, vendor), applies the event, appends the
 * event row, rewrites the state row, creates opt-out deadlines and audits.
 */
#define PV_VAULT_PRIVATE   /* caller checks, subject loads, the policy hash: vault_internal.h */
#include "consent/ledger_internal.h"
#include "vault/vault_internal.h"

#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* The access log's truncation (src/http/accesslog.c; declared in src/http/internal.h). */
void pv_http_client_truncate(const void *sa, char *out, size_t size);

static const char *const action_names[PV_CONSENT_ACTION_COUNT] = {
	"granted", "refused", "withdrawn", "opted_out", "opted_in", "objected", "limited"
};
static const char *const source_names[PV_CONSENT_SRC_COUNT] = {
	"banner", "form", "api", "import", "gpc", "tcf", "usp", "gpp", "request"
};
static const char *const status_names[] = { "none", "granted", "refused", "withdrawn" };
static const char *const cookie_classes[] = { "strictly_necessary", "functional", "analytics", "advertising" };

const char *pv_consent_action_name(pv_consent_action a)
{
	return (int)a >= 0 && a < PV_CONSENT_ACTION_COUNT ? action_names[a] : "?";
}

const char *pv_consent_source_name(pv_consent_source s)
{
	return (int)s >= 0 && s < PV_CONSENT_SRC_COUNT ? source_names[s] : "?";
}

const char *pv_consent_status_name(pv_consent_status s)
{
	return (int)s >= 0 && s <= PV_CONSENT_IS_WITHDRAWN ? status_names[s] : "?";
}

int pv_consent_action_parse(pv_consent_action *out, const char *s)
{
	for (int i = 0; s && i < PV_CONSENT_ACTION_COUNT; i++)
		if (strcmp(s, action_names[i]) == 0) {
			*out = (pv_consent_action)i;
			return 0;
		}
	return pv_error_set(PV_EINVAL, "action: expected granted, refused, withdrawn, opted_out, opted_in, objected or limited");
}

int pv_consent_source_parse(pv_consent_source *out, const char *s)
{
	for (int i = 0; s && i < PV_CONSENT_SRC_COUNT; i++)
		if (strcmp(s, source_names[i]) == 0) {
			*out = (pv_consent_source)i;
			return 0;
		}
	return pv_error_set(PV_EINVAL, "source: expected banner, form, api, import, gpc, tcf, usp, gpp or request");
}

int pv_consent_ref_is_device(const char *ref)
{
	size_t n;

	if (!ref || strncmp(ref, "dev_", 4) != 0)
		return 0;
	n = strnlen(ref + 4, 61);
	if (n < 26 || n > 60)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = ref[4 + i];
		if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')))
			return 0;
	}
	return 1;
}

int pv_consent_ref_valid(const char *ref)
{
	return ref && (pv_uuid_valid(ref) || pv_consent_ref_is_device(ref));
}

int pv_consent_client_truncate(const char *ip, char out[PV_CONSENT_CLIENT_MAX + 1])
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	if (!ip) {
		snprintf(out, PV_CONSENT_CLIENT_MAX + 1, "-");
		return 0;
	}
	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		pv_http_client_truncate(&a4, out, PV_CONSENT_CLIENT_MAX + 1);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		pv_http_client_truncate(&a6, out, PV_CONSENT_CLIENT_MAX + 1);
		return 0;
	}
	return pv_error_set(PV_EINVAL, "client_ip: expected an IPv4 or IPv6 address");
}

/* "tcf:N" style refs: prefix then 1..4095 in decimal. */
static int tcf_ref_valid(const char *p)
{
	static const char *const prefixes[] = { "tcf:", "tcf-li:", "tcf-sf:", "tcf-pub:", "tcf-pub-li:",
						"tcf-custom:", "tcf-custom-li:" };
	if (strcmp(p, "tcf-vendor") == 0 || strcmp(p, "tcf-vendor-li") == 0)
		return 1;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t l = strlen(prefixes[i]);
		if (strncmp(p, prefixes[i], l) == 0) {
			const char *d = p + l;
			size_t n = strlen(d);
			if (n < 1 || n > 4 || d[0] == '0')
				return 0;
			for (size_t j = 0; j < n; j++)
				if (d[j] < '0' || d[j] > '9')
					return 0;
			return 1;
		}
	}
	return 0;
}

int pv_consent_purpose_check(const pv_policy *policy, const char *purpose, const char *field)
{
	if (!purpose || !purpose[0])
		return pv_error_set(PV_EINVAL, "%s: expected a purpose ref", field);
	if (strnlen(purpose, PV_CONSENT_PURPOSE_MAX + 1) > PV_CONSENT_PURPOSE_MAX)
		return pv_error_set(PV_EINVAL, "%s: longer than %d bytes", field, PV_CONSENT_PURPOSE_MAX);
	if (pv_policy_purpose_find(policy, purpose))
		return 0;
	for (size_t i = 0; i < sizeof(cookie_classes) / sizeof(cookie_classes[0]); i++)
		if (strcmp(purpose, cookie_classes[i]) == 0)
			return 0;
	if (strcmp(purpose, "*") == 0 || tcf_ref_valid(purpose))
		return 0;
	return pv_error_set(PV_EINVAL, "%s: expected a purpose of the policy, a cookie class or a TCF ref", field);
}

/*
 * The derivation of the state from events (also used by rebuilds and views
 * at a time): see ledger_internal.h. Opt-outs from GPC cannot be lifted by an
 * opted_in from another source; a grant under them is recorded as a conflict
 * (the consent becomes granted, the opt-out stays and keeps denying).
 */
int pv_consent_apply(pv_consent_state *st, const pv_consent_fact *f)
{
	int gpc_block = st->opted_out && st->gpc && f->source != PV_CONSENT_SRC_GPC;
	int conflict = 0;

	switch (f->action) {
	case PV_CONSENT_GRANTED:
		st->consent = PV_CONSENT_IS_GRANTED;
		st->objected = 0;
		conflict = gpc_block;
		break;
	case PV_CONSENT_REFUSED:
		st->consent = PV_CONSENT_IS_REFUSED;
		break;
	case PV_CONSENT_WITHDRAWN:
		st->consent = PV_CONSENT_IS_WITHDRAWN;
		break;
	case PV_CONSENT_OPTED_OUT:
		if (!st->opted_out)
			st->opted_out_at = f->at;
		st->opted_out = 1;
		if (f->source == PV_CONSENT_SRC_GPC)
			st->gpc = 1;
		break;
	case PV_CONSENT_OPTED_IN:
		if (gpc_block) {
			conflict = 1;
			break;
		}
		st->opted_out = 0;
		st->gpc = 0;
		st->opted_out_at = 0;
		st->objected = 0;
		st->limited = 0;
		break;
	case PV_CONSENT_OBJECTED:
		st->objected = 1;
		break;
	case PV_CONSENT_LIMITED:
		st->limited = 1;
		break;
	default:
		break;
	}
	if (f->action == PV_CONSENT_GRANTED || f->action == PV_CONSENT_REFUSED || f->action == PV_CONSENT_WITHDRAWN) {
		st->consent_at = f->at;
		snprintf(st->notice_version, sizeof(st->notice_version), "%s", f->notice_version ? f->notice_version : "");
	}
	snprintf(st->last_event, sizeof(st->last_event), "%s", f->id ? f->id : "");
	st->last_seq = f->seq;
	return conflict;
}

pv_store *pv_consent_store(pv_vault *v)
{
	return pv_vault_store(v);
}

int pv_consent_may_read(const pv_caller *caller, const char *subject)
{
	int rc = pv_vault_caller_check(caller);

	if (rc < 0)
		return rc;
	if (caller->role == PV_ROLE_AUDITOR)
		return pv_error_set(PV_EDENIED, "caller: role auditor may not read a subject's consent ledger");
	if (!pv_consent_ref_valid(subject))
		return pv_error_set(PV_EINVAL, "subject: expected a subject id (UUID) or a device id (dev_ + 26..60 of [a-z2-7])");
	return 0;
}

int pv_consent_audit(pv_vault *v, const pv_caller *caller, const char *what, const char *subject,
		     const char *purpose, const char *outcome)
{
	const char *sid = subject && pv_uuid_valid(subject) ? subject : NULL;
	char action[48];
	char out[96];

	snprintf(action, sizeof(action), "consent.%s", what);
	snprintf(out, sizeof(out), "%s%s", outcome ? outcome : "ok",
		 subject && pv_consent_ref_is_device(subject) ? ":device" : "");
	return pv_audit_append(pv_vault_audit(v), caller->name, action, sid, purpose, NULL, out);
}

/* ---- state rows ---------------------------------------------------------- */

static const char sql_state_get[] =
	"SELECT consent, consent_at, notice_version, opted_out, gpc, opted_out_at, objected, limited,"
	" last_event, last_seq FROM consent_state WHERE subject_id = ? AND purpose = ? AND vendor = ?";

static int state_row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	pv_consent_state *st = payload;

	(void)cols;
	if (n < 10)
		return pv_error_set(PV_ESTORE, "consent_state: unexpected columns");
	st->consent = (pv_consent_status)pv_sv_get_int(&vals[0]);
	st->consent_at = pv_sv_get_int(&vals[1]);
	pv_sv_get_text(&vals[2], st->notice_version, sizeof(st->notice_version));
	st->opted_out = (int)pv_sv_get_int(&vals[3]);
	st->gpc = (int)pv_sv_get_int(&vals[4]);
	st->opted_out_at = pv_sv_get_int(&vals[5]);
	st->objected = (int)pv_sv_get_int(&vals[6]);
	st->limited = (int)pv_sv_get_int(&vals[7]);
	pv_sv_get_text(&vals[8], st->last_event, sizeof(st->last_event));
	st->last_seq = pv_sv_get_int(&vals[9]);
	return 0;
}

/* Read one state row into *st (zeroed with purpose/vendor set when absent). */
static int state_get(pv_store *s, const char *subject, const char *purpose, uint32_t vendor, pv_consent_state *st)
{
	pv_store_value p[3] = { pv_sv_text(subject), pv_sv_text(purpose), pv_sv_int(vendor) };

	memset(st, 0, sizeof(*st));
	snprintf(st->purpose, sizeof(st->purpose), "%s", purpose);
	st->vendor = vendor;
	return pv_store_query(s, "consent_state select", sql_state_get, p, 3, state_row_cb, st);
}

static const char sql_state_put[] =
	"INSERT INTO consent_state (subject_id, purpose, vendor, consent, consent_at, notice_version, opted_out,"
	" gpc, opted_out_at, objected, limited, last_event, last_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	" ON CONFLICT (subject_id, purpose, vendor) DO UPDATE SET consent = excluded.consent,"
	" consent_at = excluded.consent_at, notice_version = excluded.notice_version,"
	" opted_out = excluded.opted_out, gpc = excluded.gpc, opted_out_at = excluded.opted_out_at,"
	" objected = excluded.objected, limited = excluded.limited, last_event = excluded.last_event,"
	" last_seq = excluded.last_seq";

/* Write a state row (insert or replace). Shared with rebuilds (ledger_read.c). */
int pv_consent_state_put(pv_store *s, const char *subject, const pv_consent_state *st)
{
	pv_store_value p[13] = {
		pv_sv_text(subject), pv_sv_text(st->purpose), pv_sv_int(st->vendor), pv_sv_int(st->consent),
		pv_sv_int(st->consent_at), pv_sv_text(st->notice_version), pv_sv_int(st->opted_out),
		pv_sv_int(st->gpc), pv_sv_int(st->opted_out_at), pv_sv_int(st->objected),
		pv_sv_int(st->limited), pv_sv_text(st->last_event), pv_sv_int(st->last_seq)
	};
	return pv_store_exec(s, "consent_state upsert", sql_state_put, p, 13, NULL);
}

/* ---- appending ------------------------------------------------------------ */

static int max_seq_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	if (n > 0)
		*(int64_t *)payload = pv_sv_get_int(&vals[0]);
	return 0;
}

static const char sql_max_seq[] = "SELECT MAX(seq) FROM consent_events WHERE subject_id = ?";
static const char sql_event_ins[] =
	"INSERT INTO consent_events (id, subject_id, seq, receipt_id, purpose, vendor, action, mechanism, source,"
	" notice_version, policy_version, at, ua_hash, client, conflict, conflict_reason)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char sql_signal_ins[] =
	"INSERT INTO consent_signals (receipt_id, subject_id, kind, signal) VALUES (?, ?, ?, ?)";
static const char sql_deadline_ins[] =
	"INSERT INTO consent_deadlines (event_id, subject_id, purpose, at, due, done_at) VALUES (?, ?, ?, ?, ?, NULL)";

static const char *const mechanism_names[] = { "opt_in", "opt_out", "notice_only" };

/* The state of a call: what every event of it shares. */
typedef struct {
	pv_vault *v;
	const pv_caller *caller;
	const pv_policy *policy;
	const char *subject;
	pv_regime regime;
	const pv_consent_context *ctx;
	char notice[PV_CONSENT_NOTICE_MAX + 1];
	char ua_hash[PV_HASH_HEX_LEN + 1];
	char client[PV_CONSENT_CLIENT_MAX + 1];
	int64_t seq;
	size_t vendor_events;
	pv_consent_result res;
} recorder;

/* Append one event and its consequences. 0 or an error (the caller rolls back). */
static int append_one(recorder *r, const char *purpose, uint32_t vendor, pv_consent_action action,
		      pv_consent_source source)
{
	pv_store *s = pv_vault_store(r->v);
	const pv_policy_purpose *pu = pv_policy_purpose_find(r->policy, purpose);
	pv_consent_state st;
	pv_consent_fact f;
	char id[PV_ID_LEN + 1];
	pv_time now = pv_clock_now();
	int conflict, was_out, rc;

	if ((rc = state_get(s, r->subject, purpose, vendor, &st)) < 0)
		return rc;
	was_out = st.opted_out;
	pv_uuid_new(id);
	f.id = id;
	f.seq = ++r->seq;
	f.action = action;
	f.source = source;
	f.notice_version = r->notice;
	f.at = now;
	conflict = pv_consent_apply(&st, &f);
	{
		pv_store_value p[16] = {
			pv_sv_text(id), pv_sv_text(r->subject), pv_sv_int(f.seq), pv_sv_text(r->res.receipt_id),
			pv_sv_text(purpose), pv_sv_int(vendor), pv_sv_text(action_names[action]),
			pv_sv_text(pu ? mechanism_names[pu->consent] : NULL), pv_sv_text(source_names[source]),
			pv_sv_text(r->notice), pv_sv_text(pv_vault_policy_hash(r->v)), pv_sv_int(now),
			pv_sv_text(r->ua_hash[0] ? r->ua_hash : NULL), pv_sv_text(r->client[0] ? r->client : NULL),
			pv_sv_int(conflict), pv_sv_text(conflict ? "gpc" : NULL)
		};
		if ((rc = pv_store_exec(s, "consent_events insert", sql_event_ins, p, 16, NULL)) < 0)
			return rc;
	}
	if ((rc = pv_consent_state_put(s, r->subject, &st)) < 0)
		return rc;
	r->res.events++;
	r->res.conflicts += (size_t)conflict;
	if (action == PV_CONSENT_OPTED_OUT && !was_out && pu && pu->has_opt_out_window) {   /* a new opt-out only */
		const pv_policy_rights *rt = pv_policy_rights_get(r->policy, r->regime);
		pv_time due = pv_time_add(now, &pu->opt_out_window, rt ? rt->holidays : NULL, rt ? rt->nholidays : 0);
		pv_store_value p[5] = { pv_sv_text(id), pv_sv_text(r->subject), pv_sv_text(purpose),
					pv_sv_int(now), pv_sv_int(due) };
		if ((rc = pv_store_exec(s, "consent_deadlines insert", sql_deadline_ins, p, 5, NULL)) < 0)
			return rc;
		r->res.deadlines++;
	}
	if (vendor != 0) {   /* vendor events are audited once per call, by count */
		r->vendor_events++;
		return 0;
	}
	{
		char outcome[48];
		snprintf(outcome, sizeof(outcome), "%s:%s%s", action_names[action], source_names[source],
			 conflict ? ":conflict" : "");
		return pv_consent_audit(r->v, r->caller, "record", r->subject, purpose, outcome);
	}
}

/* The purposes GPC opts out of: sale or sharing purposes, and the cookie class "advertising". */
static int append_gpc(recorder *r)
{
	int rc;

	for (size_t i = 0; i < pv_policy_purpose_count(r->policy); i++) {
		const pv_policy_purpose *pu = pv_policy_purpose_at(r->policy, i);
		if (!pu->sale && !pu->sharing)
			continue;
		if ((rc = append_one(r, pu->id, 0, PV_CONSENT_OPTED_OUT, PV_CONSENT_SRC_GPC)) < 0)
			return rc;
	}
	return append_one(r, "advertising", 0, PV_CONSENT_OPTED_OUT, PV_CONSENT_SRC_GPC);
}

/*
 * Prepare a recorder: check the caller, the subject ref (a vault subject
 * must exist and not be erased) and the context; hash the user agent,
 * truncate the address. No transaction yet.
 */
static int recorder_init(recorder *r, pv_vault *v, const pv_caller *caller, const char *subject,
			 const pv_consent_context *ctx)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (!v)
		return pv_error_set(PV_EINVAL, "consent: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if (!pv_consent_ref_valid(subject))
		return pv_error_set(PV_EINVAL, "subject: expected a subject id (UUID) or a device id (dev_ + 26..60 of [a-z2-7])");
	r->v = v;
	r->caller = caller;
	r->policy = pv_vault_policy(v);
	r->subject = subject;
	r->ctx = ctx;
	r->regime = pv_policy_default_regime(r->policy);
	if (pv_uuid_valid(subject)) {
		pv_subject_info info;
		if ((rc = pv_vault_subject_load(v, subject, &info)) < 0)
			return rc;
		if (info.state == PV_SUBJECT_ERASED)
			return pv_error_set(PV_EERASED, "subject %s: erased", subject);
		r->regime = info.regime;
	}
	if (ctx && ((int)ctx->source < 0 || ctx->source >= PV_CONSENT_SRC_COUNT))
		return pv_error_set(PV_EINVAL, "context.source: expected a source");
	if (ctx && ctx->notice_version) {
		size_t n = strnlen(ctx->notice_version, PV_CONSENT_NOTICE_MAX + 1);
		if (n == 0 || n > PV_CONSENT_NOTICE_MAX)
			return pv_error_set(PV_EINVAL, "context.notice_version: expected 1..%d bytes", PV_CONSENT_NOTICE_MAX);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)ctx->notice_version[i] < 0x20)
				return pv_error_set(PV_EINVAL, "context.notice_version: control character at byte %zu", i);
	}
	snprintf(r->notice, sizeof(r->notice), "%s",
		 ctx && ctx->notice_version ? ctx->notice_version : pv_policy_version_label(r->policy));
	if (ctx && ctx->user_agent) {
		uint8_t h[32];
		crypto_generichash(h, sizeof(h), (const uint8_t *)ctx->user_agent, strlen(ctx->user_agent), NULL, 0);
		pv_hex_encode(r->ua_hash, h, sizeof(h));
	}
	if (ctx && ctx->client_ip && (rc = pv_consent_client_truncate(ctx->client_ip, r->client)) < 0)
		return rc;
	if (ctx && ctx->signal && strnlen(ctx->signal, PV_GPP_MAX_BYTES + 1) > PV_GPP_MAX_BYTES)
		return pv_error_set(PV_ELIMIT, "context.signal: longer than %u bytes", PV_GPP_MAX_BYTES);
	pv_uuid_new(r->res.receipt_id);
	return 0;
}

/* Begin the transaction, find the next seq, keep the signal once. */
static int recorder_begin(recorder *r, const char *signal, const char *kind)
{
	pv_store *s = pv_vault_store(r->v);
	pv_store_value p[1] = { pv_sv_text(r->subject) };
	int rc;

	if ((rc = pv_vault_tx_begin(r->v)) < 0)
		return rc;
	if ((rc = pv_store_query(s, "consent_events seq", sql_max_seq, p, 1, max_seq_cb, &r->seq)) < 0)
		return pv_vault_tx_end(r->v, rc);
	if (signal) {
		pv_store_value q[4] = { pv_sv_text(r->res.receipt_id), pv_sv_text(r->subject), pv_sv_text(kind),
					pv_sv_text(signal) };
		if ((rc = pv_store_exec(s, "consent_signals insert", sql_signal_ins, q, 4, NULL)) < 0)
			return pv_vault_tx_end(r->v, rc);
	}
	if (r->ctx && r->ctx->gpc && (rc = append_gpc(r)) < 0)
		return pv_vault_tx_end(r->v, rc);
	return 0;
}

/* Audit the vendor events by count, end the transaction, hand out the result. */
static int recorder_end(recorder *r, int rc, pv_consent_result *out)
{
	if (rc == 0 && r->vendor_events) {
		char outcome[48];
		snprintf(outcome, sizeof(outcome), "vendors:%zu", r->vendor_events);
		rc = pv_consent_audit(r->v, r->caller, "record", r->subject, "tcf-vendor", outcome);
	}
	rc = pv_vault_tx_end(r->v, rc);
	if (rc == 0 && out)
		*out = r->res;
	return rc;
}

int pv_consent_record(pv_vault *v, const pv_caller *caller, const char *subject,
		      const pv_consent_item *items, size_t n, const pv_consent_context *ctx,
		      pv_consent_result *out)
{
	pv_consent_source src = ctx ? ctx->source : PV_CONSENT_SRC_API;
	recorder r;
	int rc;

	if ((rc = recorder_init(&r, v, caller, subject, ctx)) < 0)
		return rc;
	if (n == 0 || !items)
		return pv_error_set(PV_EINVAL, "items: expected at least one item");
	if (n > PV_CONSENT_ITEMS_MAX)
		return pv_error_set(PV_ELIMIT, "items: more than %d", PV_CONSENT_ITEMS_MAX);
	for (size_t i = 0; i < n; i++) {
		char field[48];
		snprintf(field, sizeof(field), "items[%zu].purpose", i);
		if ((rc = pv_consent_purpose_check(r.policy, items[i].purpose, field)) < 0)
			return rc;
		if ((int)items[i].action < 0 || items[i].action >= PV_CONSENT_ACTION_COUNT)
			return pv_error_set(PV_EINVAL, "items[%zu].action: expected a consent action", i);
		if (strcmp(items[i].purpose, "*") == 0 && items[i].action != PV_CONSENT_LIMITED)
			return pv_error_set(PV_EINVAL, "items[%zu].purpose: \"*\" is only for limited", i);
	}
	if ((rc = recorder_begin(&r, ctx ? ctx->signal : NULL, source_names[src])) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = append_one(&r, items[i].purpose, items[i].vendor, items[i].action, src);
	return recorder_end(&r, rc, out);
}

int pv_consent_record_one(pv_vault *v, const pv_caller *caller, const char *subject, const char *purpose,
			  pv_consent_action action, const pv_consent_context *ctx, pv_consent_result *out)
{
	pv_consent_item it = { purpose, 0, action };
	return pv_consent_record(v, caller, subject, &it, 1, ctx, out);
}

int pv_consent_gpc(pv_vault *v, const pv_caller *caller, const char *subject,
		   const pv_consent_context *ctx, pv_consent_result *out)
{
	pv_consent_context c = { PV_CONSENT_SRC_GPC, NULL, NULL, NULL, NULL, 0 };
	recorder r;
	int rc;

	if (ctx) {
		c = *ctx;
		c.source = PV_CONSENT_SRC_GPC;
		c.gpc = 0;
	}
	if ((rc = recorder_init(&r, v, caller, subject, &c)) < 0)
		return rc;
	if ((rc = recorder_begin(&r, c.signal, "gpc")) < 0)
		return rc;
	return recorder_end(&r, append_gpc(&r), out);
}

/* ---- signals (used by ledger_signals.c) ------------------------------------ */

/*
 * A signal's events: begin a call for `subject` with `ctx` (source forced to
 * `source`), keep `signal` once, append the `n` items, end. Items were
 * produced by a decoder, so their purposes are known to be valid.
 */
int pv_consent_record_signal(pv_vault *v, const pv_caller *caller, const char *subject,
			     const pv_consent_context *ctx, pv_consent_source source, const char *signal,
			     const pv_consent_item *items, size_t n, int with_gpc, pv_consent_result *out)
{
	pv_consent_context c = { source, NULL, NULL, NULL, NULL, 0 };
	recorder r;
	int rc;

	if (ctx)
		c = *ctx;
	c.source = source;
	c.signal = signal;
	c.gpc = with_gpc || (ctx && ctx->gpc);
	if ((rc = recorder_init(&r, v, caller, subject, &c)) < 0)
		return rc;
	if ((rc = recorder_begin(&r, signal, source_names[source])) < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = append_one(&r, items[i].purpose, items[i].vendor, items[i].action, source);
	return recorder_end(&r, rc, out);
}
