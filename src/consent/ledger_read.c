/*
 * The consent ledger: reading. History, the derived state, the consent view
 * of the access decision (now and as of a time), coverage at a time,
 * rebuilding and verifying the derived state, erasure, opt-out deadlines.
 */
#define PV_VAULT_PRIVATE   /* caller checks, subject loads, the policy hash: vault_internal.h */
#include "consent/ledger_internal.h"
#include "vault/vault_internal.h"

#include "core/error.h"
#include "core/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- events ------------------------------------------------------------------ */

void pv_consent_events_free(pv_consent_event *ev, size_t n)
{
	if (!ev)
		return;
	for (size_t i = 0; i < n; i++)
		free(ev[i].signal);
	free(ev);
}

typedef struct {
	pv_consent_event *ev;
	size_t n, cap;
} event_vec;

static int event_row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	event_vec *vec = payload;
	pv_consent_event *e;
	char buf[32];

	(void)cols;
	if (n < 17)
		return pv_error_set(PV_ESTORE, "consent_events: unexpected columns");
	if (pv_grow((void **)&vec->ev, &vec->cap, vec->n + 1, sizeof(*vec->ev)) < 0)
		return PV_ENOMEM;
	e = &vec->ev[vec->n];
	memset(e, 0, sizeof(*e));
	pv_sv_get_text(&vals[0], e->id, sizeof(e->id));
	pv_sv_get_text(&vals[1], e->subject, sizeof(e->subject));
	e->seq = pv_sv_get_int(&vals[2]);
	pv_sv_get_text(&vals[3], e->receipt_id, sizeof(e->receipt_id));
	pv_sv_get_text(&vals[4], e->purpose, sizeof(e->purpose));
	e->vendor = (uint32_t)pv_sv_get_int(&vals[5]);
	pv_sv_get_text(&vals[6], buf, sizeof(buf));
	if (pv_consent_action_parse(&e->action, buf) < 0)
		return pv_error_set(PV_ESTORE, "consent_events: unknown action");
	pv_sv_get_text(&vals[7], buf, sizeof(buf));
	e->has_mechanism = 1;
	if (strcmp(buf, "opt_in") == 0)
		e->mechanism = PV_CONSENT_OPT_IN;
	else if (strcmp(buf, "opt_out") == 0)
		e->mechanism = PV_CONSENT_OPT_OUT;
	else if (strcmp(buf, "notice_only") == 0)
		e->mechanism = PV_CONSENT_NOTICE_ONLY;
	else
		e->has_mechanism = 0;
	pv_sv_get_text(&vals[8], buf, sizeof(buf));
	if (pv_consent_source_parse(&e->source, buf) < 0)
		return pv_error_set(PV_ESTORE, "consent_events: unknown source");
	pv_sv_get_text(&vals[9], e->notice_version, sizeof(e->notice_version));
	pv_sv_get_text(&vals[10], e->policy_version, sizeof(e->policy_version));
	e->at = pv_sv_get_int(&vals[11]);
	pv_sv_get_text(&vals[12], e->ua_hash, sizeof(e->ua_hash));
	pv_sv_get_text(&vals[13], e->client, sizeof(e->client));
	e->conflict = (int)pv_sv_get_int(&vals[14]);
	pv_sv_get_text(&vals[15], e->conflict_reason, sizeof(e->conflict_reason));
	if (vals[16].type == PV_STORE_TEXT) {
		e->signal = malloc(vals[16].len + 1);
		if (!e->signal)
			return pv_error_set(PV_ENOMEM, "consent: out of memory");
		memcpy(e->signal, vals[16].p, vals[16].len);
		e->signal[vals[16].len] = 0;
	}
	vec->n++;
	return 0;
}

#define EVENT_COLS \
	"SELECT id, subject_id, seq, receipt_id, purpose, vendor, action, mechanism, source, notice_version," \
	" policy_version, at, ua_hash, client, conflict, conflict_reason,"

static const char sql_events_subject[] =
	EVENT_COLS " CAST(NULL AS TEXT) FROM consent_events WHERE subject_id = ? AND at <= ? ORDER BY seq";
static const char sql_signals_subject[] =
	"SELECT receipt_id, signal FROM consent_signals WHERE subject_id = ?";

typedef struct {
	event_vec *vec;
} signal_fill;

static int signal_row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	event_vec *vec = payload;
	char rid[PV_ID_LEN + 1];

	(void)cols;
	if (n < 2 || pv_sv_get_text(&vals[0], rid, sizeof(rid)) < 0)
		return 0;
	for (size_t i = 0; i < vec->n; i++) {
		if (vec->ev[i].signal || strcmp(vec->ev[i].receipt_id, rid) != 0)
			continue;
		vec->ev[i].signal = malloc(vals[1].len + 1);
		if (!vec->ev[i].signal)
			return pv_error_set(PV_ENOMEM, "consent: out of memory");
		memcpy(vec->ev[i].signal, vals[1].p, vals[1].len);
		vec->ev[i].signal[vals[1].len] = 0;
	}
	return 0;
}

int pv_consent_events_load(pv_store *s, const char *subject, const char *purpose, pv_time until,
			   pv_consent_event **out, size_t *n)
{
	event_vec vec = { NULL, 0, 0 };
	pv_store_value p[2] = { pv_sv_text(subject), pv_sv_int(until) };
	int rc = pv_store_query(s, "consent_events select", sql_events_subject, p, 2, event_row_cb, &vec);

	if (rc < 0)
		goto fail;
	if (purpose) {   /* filter in memory: one statement shape, the ledger of one subject is small */
		size_t k = 0;
		for (size_t i = 0; i < vec.n; i++) {
			if (strcmp(vec.ev[i].purpose, purpose) == 0)
				vec.ev[k++] = vec.ev[i];
			else
				free(vec.ev[i].signal);
		}
		vec.n = k;
	}
	*out = vec.ev;
	*n = vec.n;
	if (vec.n == 0) {
		free(vec.ev);
		*out = NULL;
	}
	return 0;
fail:
	pv_consent_events_free(vec.ev, vec.n);
	return rc;
}

static const char sql_events_range[] =
	EVENT_COLS " CAST(NULL AS TEXT) FROM consent_events WHERE at >= ? AND at < ? ORDER BY at, subject_id, seq";

int pv_consent_events_range(pv_store *s, pv_time from, pv_time to, pv_consent_event **out, size_t *n)
{
	event_vec vec = { NULL, 0, 0 };
	pv_store_value p[2] = { pv_sv_int(from), pv_sv_int(to) };
	int rc = pv_store_query(s, "consent_events range", sql_events_range, p, 2, event_row_cb, &vec);

	if (rc < 0) {
		pv_consent_events_free(vec.ev, vec.n);
		return rc;
	}
	*out = vec.ev;
	*n = vec.n;
	return 0;
}

int pv_consent_history(pv_vault *v, const pv_caller *caller, const char *subject, const char *purpose,
		       pv_consent_event **out, size_t *n)
{
	pv_store *s;
	int rc;

	if (!v || !out || !n)
		return pv_error_set(PV_EINVAL, "history: expected a vault and outputs");
	*out = NULL;
	*n = 0;
	if ((rc = pv_consent_may_read(caller, subject)) < 0)
		return rc;
	s = pv_vault_store(v);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_consent_events_load(s, subject, purpose, INT64_MAX, out, n);
	if (rc == 0 && *n) {
		event_vec vec = { *out, *n, *n };
		pv_store_value p[1] = { pv_sv_text(subject) };
		rc = pv_store_query(s, "consent_signals select", sql_signals_subject, p, 1, signal_row_cb, &vec);
	}
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "history", subject, pv_vault_audit_id(purpose), "ok");
	rc = pv_vault_tx_end(v, rc);
	if (rc < 0) {
		pv_consent_events_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* ---- derived state ------------------------------------------------------------- */

typedef struct {
	pv_consent_state *st;
	size_t n, cap;
} state_vec;

static int state_vec_push(state_vec *vec, pv_consent_state **out)
{
	if (pv_grow((void **)&vec->st, &vec->cap, vec->n + 1, sizeof(*vec->st)) < 0)
		return PV_ENOMEM;
	*out = &vec->st[vec->n++];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int state_list_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	pv_consent_state *st;
	int rc;

	(void)cols;
	if (n < 12)
		return pv_error_set(PV_ESTORE, "consent_state: unexpected columns");
	if ((rc = state_vec_push(payload, &st)) < 0)
		return rc;
	pv_sv_get_text(&vals[0], st->purpose, sizeof(st->purpose));
	st->vendor = (uint32_t)pv_sv_get_int(&vals[1]);
	st->consent = (pv_consent_status)pv_sv_get_int(&vals[2]);
	st->consent_at = pv_sv_get_int(&vals[3]);
	pv_sv_get_text(&vals[4], st->notice_version, sizeof(st->notice_version));
	st->opted_out = (int)pv_sv_get_int(&vals[5]);
	st->gpc = (int)pv_sv_get_int(&vals[6]);
	st->opted_out_at = pv_sv_get_int(&vals[7]);
	st->objected = (int)pv_sv_get_int(&vals[8]);
	st->limited = (int)pv_sv_get_int(&vals[9]);
	pv_sv_get_text(&vals[10], st->last_event, sizeof(st->last_event));
	st->last_seq = pv_sv_get_int(&vals[11]);
	return 0;
}

static const char sql_state_subject[] =
	"SELECT purpose, vendor, consent, consent_at, notice_version, opted_out, gpc, opted_out_at, objected,"
	" limited, last_event, last_seq FROM consent_state WHERE subject_id = ? ORDER BY purpose, vendor";

/* The derived rows of a subject ref, sorted by purpose then vendor. */
static int state_load(pv_store *s, const char *subject, state_vec *vec)
{
	pv_store_value p[1] = { pv_sv_text(subject) };
	return pv_store_query(s, "consent_state select", sql_state_subject, p, 1, state_list_cb, vec);
}

int pv_consent_state_list(pv_vault *v, const pv_caller *caller, const char *subject,
			  pv_consent_state **out, size_t *n)
{
	state_vec vec = { NULL, 0, 0 };
	int rc;

	if (!v || !out || !n)
		return pv_error_set(PV_EINVAL, "state: expected a vault and outputs");
	*out = NULL;
	*n = 0;
	if ((rc = pv_consent_may_read(caller, subject)) < 0)
		return rc;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = state_load(pv_vault_store(v), subject, &vec);
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "state", subject, NULL, "ok");
	rc = pv_vault_tx_end(v, rc);
	if (rc < 0) {
		free(vec.st);
		return rc;
	}
	*out = vec.st;
	*n = vec.n;
	return 0;
}

static int cmp_state(const void *a, const void *b)
{
	const pv_consent_state *x = a, *y = b;
	int c = strcmp(x->purpose, y->purpose);
	return c ? c : (x->vendor > y->vendor) - (x->vendor < y->vendor);
}

/* Derive the state rows of a list of events (sorted by purpose, vendor). */
static int derive(const pv_consent_event *ev, size_t n, state_vec *vec)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		pv_consent_state *st = NULL;
		pv_consent_fact f = { ev[i].id, ev[i].seq, ev[i].action, ev[i].source, ev[i].notice_version, ev[i].at };
		for (size_t j = 0; j < vec->n; j++)
			if (vec->st[j].vendor == ev[i].vendor && strcmp(vec->st[j].purpose, ev[i].purpose) == 0) {
				st = &vec->st[j];
				break;
			}
		if (!st) {
			if ((rc = state_vec_push(vec, &st)) < 0)
				return rc;
			snprintf(st->purpose, sizeof(st->purpose), "%s", ev[i].purpose);
			st->vendor = ev[i].vendor;
		}
		pv_consent_apply(st, &f);
	}
	if (vec->n)
		qsort(vec->st, vec->n, sizeof(vec->st[0]), cmp_state);
	return 0;
}

/* ---- the view ---------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const pv_consent_view_entry *)a)->purpose, ((const pv_consent_view_entry *)b)->purpose);
}

/* Build a view from state rows (vendor 0 only). */
static int view_build(pv_vault *v, const state_vec *vec, pv_consent_view **out)
{
	size_t n = 0;
	pv_consent_view *view;

	for (size_t i = 0; i < vec->n; i++)
		n += vec->st[i].vendor == 0;
	view = calloc(1, sizeof(*view) + n * sizeof(view->e[0]));
	if (!view)
		return pv_error_set(PV_ENOMEM, "consent: out of memory");
	snprintf(view->current_notice, sizeof(view->current_notice), "%s",
		 pv_policy_version_label(pv_vault_policy(v)));
	for (size_t i = 0; i < vec->n; i++) {
		const pv_consent_state *st = &vec->st[i];
		pv_consent_view_entry *e;
		if (st->vendor != 0)
			continue;
		if (strcmp(st->purpose, "*") == 0) {
			view->limited_all = st->limited;
			continue;
		}
		e = &view->e[view->n++];
		snprintf(e->purpose, sizeof(e->purpose), "%s", st->purpose);
		e->consent = (uint8_t)st->consent;
		e->opted_out = (uint8_t)st->opted_out;
		e->gpc = (uint8_t)st->gpc;
		e->objected = (uint8_t)st->objected;
		e->limited = (uint8_t)st->limited;
		snprintf(e->notice_version, sizeof(e->notice_version), "%s", st->notice_version);
	}
	qsort(view->e, view->n, sizeof(view->e[0]), cmp_entry);
	*out = view;
	return 0;
}

int pv_consent_view_load(pv_vault *v, const char *subject, pv_consent_view **out)
{
	state_vec vec = { NULL, 0, 0 };
	int rc;

	if (!v || !out || !pv_consent_ref_valid(subject))
		return pv_error_set(PV_EINVAL, "consent view: expected a vault, a subject ref and an output");
	*out = NULL;
	rc = state_load(pv_vault_store(v), subject, &vec);
	if (rc == 0)
		rc = view_build(v, &vec, out);
	free(vec.st);
	return rc;
}

int pv_consent_view_load_at(pv_vault *v, const char *subject, pv_time at, pv_consent_view **out)
{
	state_vec vec = { NULL, 0, 0 };
	pv_consent_event *ev = NULL;
	size_t n = 0;
	int rc;

	if (!v || !out || !pv_consent_ref_valid(subject))
		return pv_error_set(PV_EINVAL, "consent view: expected a vault, a subject ref and an output");
	*out = NULL;
	rc = pv_consent_events_load(pv_vault_store(v), subject, NULL, at, &ev, &n);
	if (rc == 0)
		rc = derive(ev, n, &vec);
	if (rc == 0)
		rc = view_build(v, &vec, out);
	pv_consent_events_free(ev, n);
	free(vec.st);
	return rc;
}

void pv_consent_view_free(pv_consent_view *view)
{
	free(view);
}

size_t pv_consent_view_count(const pv_consent_view *view)
{
	return view ? view->n : 0;
}

const pv_consent_view_entry *pv_consent_view_find(const pv_consent_view *view, const char *purpose)
{
	size_t lo = 0, hi;

	if (!view || !purpose)
		return NULL;
	hi = view->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(view->e[mid].purpose, purpose);
		if (c == 0)
			return &view->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- coverage at a time ------------------------------------------------------ */

static int hash_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	if (n > 0)
		pv_sv_get_text(&vals[0], payload, PV_HASH_HEX_LEN + 1);
	return 0;
}

/* The policy version loaded last at or before `at` (a vault-level row, not a subject's). */
static const char sql_policy_at[] =
	"SELECT hash FROM policy_versions WHERE loaded_at <= ? ORDER BY loaded_at DESC LIMIT 1";

int pv_consent_covered(pv_vault *v, const pv_caller *caller, const char *subject, const char *category,
		       const char *purpose, pv_time at, pv_decision *out)
{
	static const pv_caller admin = { "consent.covered", PV_ROLE_ADMIN, NULL, 0 };
	const pv_policy *policy;
	pv_consent_view *view = NULL;
	pv_subject_info info;
	char hash[PV_HASH_HEX_LEN + 1] = "", outcome[64];
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "covered: expected a vault and an output");
	if ((rc = pv_consent_may_read(caller, subject)) < 0)
		return rc;
	if (!pv_uuid_valid(subject))
		return pv_error_set(PV_EINVAL, "subject: expected a vault subject id (devices have no records)");
	if ((rc = pv_vault_subject_load(v, subject, &info)) < 0)
		return rc;
	{
		pv_store_value p[1] = { pv_sv_int(at) };
		if ((rc = pv_store_query(pv_vault_store(v), "policy_versions at", sql_policy_at, p, 1, hash_cb, hash)) < 0)
			return rc;
	}
	policy = pv_vault_policy(v);
	if (hash[0] && (rc = pv_vault_policy_load(v, hash, &policy)) < 0)
		return rc;
	if ((rc = pv_consent_view_load_at(v, subject, at, &view)) < 0)
		return rc;
	/* the notice in force then, and the subject as it stood (a later erasure or restriction is not the question) */
	snprintf(view->current_notice, sizeof(view->current_notice), "%s", pv_policy_version_label(policy));
	info.state = PV_SUBJECT_ACTIVE;
	info.consent = view;
	pv_access_decide(policy, &admin, &info, category, purpose, out);
	pv_consent_view_free(view);
	snprintf(outcome, sizeof(outcome), "%s", out->allow ? "covered" : pv_reason_name(out->reason));
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_consent_audit(v, caller, "covered", subject, pv_vault_audit_id(purpose), outcome);
	return pv_vault_tx_end(v, rc);
}

/* ---- rebuild and verify -------------------------------------------------------- */

static int same_state(const pv_consent_state *a, const pv_consent_state *b)
{
	return strcmp(a->purpose, b->purpose) == 0 && a->vendor == b->vendor && a->consent == b->consent &&
	       a->consent_at == b->consent_at && strcmp(a->notice_version, b->notice_version) == 0 &&
	       a->opted_out == b->opted_out && a->gpc == b->gpc && a->opted_out_at == b->opted_out_at &&
	       a->objected == b->objected && a->limited == b->limited &&
	       strcmp(a->last_event, b->last_event) == 0 && a->last_seq == b->last_seq;
}

static const char sql_state_delete[] = "DELETE FROM consent_state WHERE subject_id = ?";

/* Rebuild or verify one subject ref inside the caller's transaction. */
static int rebuild_one(pv_store *s, const char *subject, int verify, size_t *mismatches)
{
	state_vec have = { NULL, 0, 0 }, want = { NULL, 0, 0 };
	pv_consent_event *ev = NULL;
	size_t n = 0;
	int rc;

	if ((rc = pv_consent_events_load(s, subject, NULL, INT64_MAX, &ev, &n)) < 0)
		goto done;
	if ((rc = derive(ev, n, &want)) < 0 || (rc = state_load(s, subject, &have)) < 0)
		goto done;
	if (verify) {
		size_t i = 0, j = 0;
		while (i < have.n || j < want.n) {
			int c = i == have.n ? 1 : j == want.n ? -1 : cmp_state(&have.st[i], &want.st[j]);
			if (c == 0) {
				*mismatches += !same_state(&have.st[i], &want.st[j]);
				i++, j++;
			} else {
				(*mismatches)++;
				c < 0 ? i++ : j++;
			}
		}
		goto done;
	}
	{
		pv_store_value p[1] = { pv_sv_text(subject) };
		if ((rc = pv_store_exec(s, "consent_state delete", sql_state_delete, p, 1, NULL)) < 0)
			goto done;
	}
	for (size_t i = 0; i < want.n && rc == 0; i++)
		rc = pv_consent_state_put(s, subject, &want.st[i]);
done:
	pv_consent_events_free(ev, n);
	free(have.st);
	free(want.st);
	return rc;
}

typedef struct {
	char (*refs)[PV_CONSENT_REF_MAX + 1];
	size_t n, cap;
} ref_vec;

static int ref_row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	ref_vec *r = payload;

	(void)cols;
	if (n < 1)
		return 0;
	if (pv_grow((void **)&r->refs, &r->cap, r->n + 1, sizeof(*r->refs)) < 0)
		return PV_ENOMEM;
	pv_sv_get_text(&vals[0], r->refs[r->n], sizeof(r->refs[0]));
	r->n++;
	return 0;
}

/* Every subject ref with events or state rows (a scan of no one subject's rows: refs only). */
static const char sql_refs[] =
	"SELECT subject_id FROM consent_events UNION SELECT subject_id FROM consent_state";

int pv_consent_rebuild(pv_vault *v, const pv_caller *caller, const char *subject, int verify,
		       size_t *mismatches)
{
	ref_vec refs = { NULL, 0, 0 };
	size_t bad = 0;
	pv_store *s;
	char outcome[48];
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "rebuild: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "caller: only admin may rebuild or verify the consent state");
	if (subject && !pv_consent_ref_valid(subject))
		return pv_error_set(PV_EINVAL, "subject: expected a subject id or a device id");
	s = pv_vault_store(v);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	if (subject)
		rc = rebuild_one(s, subject, verify, &bad);
	else {
		rc = pv_store_query(s, "consent refs", sql_refs, NULL, 0, ref_row_cb, &refs);
		for (size_t i = 0; i < refs.n && rc == 0; i++)
			rc = rebuild_one(s, refs.refs[i], verify, &bad);
	}
	snprintf(outcome, sizeof(outcome), "%s:%zu", verify ? "verify" : "rebuild", bad);
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "rebuild", subject, NULL, outcome);
	free(refs.refs);
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0 && mismatches)
		*mismatches = bad;
	return rc;
}

/* ---- erasure -------------------------------------------------------------------- */

static const char sql_erase_events[] = "DELETE FROM consent_events WHERE subject_id = ?";
static const char sql_erase_signals[] = "DELETE FROM consent_signals WHERE subject_id = ?";
static const char sql_erase_state[] = "DELETE FROM consent_state WHERE subject_id = ?";
static const char sql_erase_deadlines[] = "DELETE FROM consent_deadlines WHERE subject_id = ?";

int pv_consent_erase_rows(pv_store *s, const char *subject, int64_t *removed)
{
	pv_store_value p[1] = { pv_sv_text(subject) };
	int64_t n = 0;
	int rc = pv_store_exec(s, "consent_events erase", sql_erase_events, p, 1, &n);

	if (rc == 0)
		rc = pv_store_exec(s, "consent_signals erase", sql_erase_signals, p, 1, NULL);
	if (rc == 0)
		rc = pv_store_exec(s, "consent_state erase", sql_erase_state, p, 1, NULL);
	if (rc == 0)
		rc = pv_store_exec(s, "consent_deadlines erase", sql_erase_deadlines, p, 1, NULL);
	if (rc == 0 && removed)
		*removed = n;
	return rc;
}

int pv_consent_erase(pv_vault *v, const pv_caller *caller, const char *subject, size_t *removed)
{
	int64_t n = 0;
	char outcome[48];
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "erase: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if (!pv_consent_ref_valid(subject))
		return pv_error_set(PV_EINVAL, "subject: expected a subject id or a device id");
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_consent_erase_rows(pv_vault_store(v), subject, &n);
	snprintf(outcome, sizeof(outcome), "events:%lld", (long long)n);
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "erase", subject, NULL, outcome);
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0 && removed)
		*removed = (size_t)n;
	return rc;
}

/* ---- deadlines -------------------------------------------------------------------- */

typedef struct {
	pv_consent_deadline *d;
	size_t n, cap;
	pv_consent_deadline_filter filter;
	pv_time now;
} deadline_vec;

static int deadline_row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	deadline_vec *vec = payload;
	pv_consent_deadline d;

	(void)cols;
	if (n < 6)
		return pv_error_set(PV_ESTORE, "consent_deadlines: unexpected columns");
	memset(&d, 0, sizeof(d));
	pv_sv_get_text(&vals[0], d.event_id, sizeof(d.event_id));
	pv_sv_get_text(&vals[1], d.subject, sizeof(d.subject));
	pv_sv_get_text(&vals[2], d.purpose, sizeof(d.purpose));
	d.at = pv_sv_get_int(&vals[3]);
	d.due = pv_sv_get_int(&vals[4]);
	d.done_at = pv_sv_get_int(&vals[5]);
	d.overdue = d.done_at == 0 && d.due < vec->now;
	if (vec->filter == PV_CONSENT_DEADLINES_PENDING && (d.done_at || d.overdue))
		return 0;
	if (vec->filter == PV_CONSENT_DEADLINES_OVERDUE && !d.overdue)
		return 0;
	if (pv_grow((void **)&vec->d, &vec->cap, vec->n + 1, sizeof(*vec->d)) < 0)
		return PV_ENOMEM;
	vec->d[vec->n++] = d;
	return 0;
}

static const char sql_deadlines[] =
	"SELECT event_id, subject_id, purpose, at, due, done_at FROM consent_deadlines ORDER BY due, event_id";

int pv_consent_deadlines(pv_vault *v, const pv_caller *caller, pv_consent_deadline_filter filter,
			 pv_consent_deadline **out, size_t *n)
{
	deadline_vec vec = { NULL, 0, 0, filter, pv_clock_now() };
	int rc;

	if (!v || !out || !n)
		return pv_error_set(PV_EINVAL, "deadlines: expected a vault and outputs");
	*out = NULL;
	*n = 0;
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if ((int)filter < 0 || filter > PV_CONSENT_DEADLINES_ALL)
		return pv_error_set(PV_EINVAL, "filter: expected pending, overdue or all");
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_store_query(pv_vault_store(v), "consent_deadlines select", sql_deadlines, NULL, 0,
			    deadline_row_cb, &vec);
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "deadlines", NULL, NULL, "ok");
	rc = pv_vault_tx_end(v, rc);
	if (rc < 0) {
		free(vec.d);
		return rc;
	}
	*out = vec.d;
	*n = vec.n;
	return 0;
}

static const char sql_deadline_done[] =
	"UPDATE consent_deadlines SET done_at = ? WHERE event_id = ? AND done_at IS NULL";

int pv_consent_deadline_done(pv_vault *v, const pv_caller *caller, const char *event_id)
{
	pv_store_value p[2] = { pv_sv_int(pv_clock_now()), pv_sv_text(event_id) };
	int64_t changed = 0;
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "deadline: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if (!pv_uuid_valid(event_id))
		return pv_error_set(PV_EINVAL, "event_id: expected the opt-out event's id (UUID)");
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_store_exec(pv_vault_store(v), "consent_deadlines done", sql_deadline_done, p, 2, &changed);
	if (rc == 0 && changed == 0)
		rc = pv_error_set(PV_ENOTFOUND, "deadline %s: no pending deadline", event_id);
	if (rc == 0)
		rc = pv_consent_audit(v, caller, "deadline_done", NULL, NULL, "ok");
	return pv_vault_tx_end(v, rc);
}
