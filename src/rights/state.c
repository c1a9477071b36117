/*
 * The request state machine (issue 6, requests part; drawn in docs/rights.md):
 * allowed edges, the move (history row + audit entry in the caller's
 * transaction), the checks on entering verified (parent, quota), refusals,
 * excessive requests, admin confirmation, expiry and history.
 * Audit entries: action "request.<state>" (or "request.extended"), subject id
 * when known, outcome "<type>:<reason>" - ids and codes only.
 */
#include "rights/requests_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/util.h"

/* edges[from] = bit mask of allowed `to` states */
#define B(s) (1u << (s))
static const unsigned edges[PV_REQ_STATE_COUNT] = {
	[PV_REQ_RECEIVED] = B(PV_REQ_VERIFYING) | B(PV_REQ_VERIFIED) | B(PV_REQ_REFUSED) | B(PV_REQ_WITHDRAWN),
	[PV_REQ_VERIFYING] = B(PV_REQ_VERIFIED) | B(PV_REQ_REFUSED) | B(PV_REQ_WITHDRAWN) | B(PV_REQ_EXPIRED),
	[PV_REQ_VERIFIED] = B(PV_REQ_IN_PROGRESS) | B(PV_REQ_REFUSED) | B(PV_REQ_WITHDRAWN),
	[PV_REQ_IN_PROGRESS] = B(PV_REQ_COMPLETED) | B(PV_REQ_PARTIAL) | B(PV_REQ_REFUSED) | B(PV_REQ_WITHDRAWN),
};

int pv_request_transition_allowed(pv_request_state from, pv_request_state to)
{
	if ((unsigned)from >= PV_REQ_STATE_COUNT || (unsigned)to >= PV_REQ_STATE_COUNT)
		return 0;
	return (edges[from] & B(to)) != 0;
}

/* Query callback: the first column as an integer into *(int64_t *)payload. */
static int int_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	if (n > 0)
		*(int64_t *)payload = pv_sv_get_int(&vals[0]);
	return 0;
}

/*
 * Record row's move to `to` (or an event in the same state: the first
 * "received" row, an extension): history row, audit entry, row->r.state and
 * closed_at. The caller holds the transaction and writes the row afterwards.
 */
static int record(pv_vault *v, const pv_caller *caller, pv_rq_row *row, pv_request_state to, const char *reason,
		  const char *event)
{
	static const char qseq[] = "SELECT MAX(seq) AS n FROM rights_request_events WHERE request_id = ?";
	static const char ins[] = "INSERT INTO rights_request_events (request_id, seq, from_state, to_state, at, "
		"actor, reason) VALUES (?, ?, ?, ?, ?, ?, ?)";
	pv_request *r = &row->r;
	pv_store_value p[7];
	char action[48], outcome[65], hreason[PV_REQUEST_REASON_MAX + 2];
	int64_t seq = 0;
	pv_time now = pv_clock_now();
	int rc, same = r->state == to;

	if (!same && !pv_request_transition_allowed(r->state, to))
		return pv_error_set(PV_EINVAL, "state: request %s cannot go from %s to %s", r->id,
				    pv_request_state_name(r->state), pv_request_state_name(to));
	p[0] = pv_sv_text(r->id);
	if (row->next_seq > 0) {
		seq = row->next_seq - 1;
	} else if ((rc = pv_store_query(pv_vault_store(v), "rights_request_events seq", qseq, p, 1,
					int_cb, &seq)) < 0) {
		return rc;
	}
	p[1] = pv_sv_int(seq + 1);
	p[2] = pv_sv_int(r->state);
	p[3] = pv_sv_int(to);
	p[4] = pv_sv_int(now);
	p[5] = pv_sv_text(caller->name);
	if (event)   /* an event within a state: the history names it ("extended:complex_request") */
		snprintf(hreason, sizeof(hreason), "%s%s%.*s", event, reason && *reason ? ":" : "",
			 (int)(PV_REQUEST_REASON_MAX - strlen(event) - 1), reason ? reason : "");
	else
		snprintf(hreason, sizeof(hreason), "%s", reason ? reason : "");
	p[6] = pv_sv_text(hreason);
	if ((rc = pv_store_exec(pv_vault_store(v), "rights_request_events insert", ins, p, 7, NULL)) < 0)
		return rc;
	snprintf(action, sizeof(action), "request.%s", event ? event : pv_request_state_name(to));
	snprintf(outcome, sizeof(outcome), "%s:%.40s", pv_policy_request_name(r->type), reason ? reason : "");   /* <= 57 chars */
	rc = pv_audit_append(pv_vault_audit(v), caller->name, action, r->subject_id[0] ? r->subject_id : NULL,
			     NULL, NULL, outcome);
	if (rc < 0)
		return rc;
	row->next_seq = seq + 2;
	r->state = to;
	if (pv_rq_final(to) && !r->closed_at)
		r->closed_at = now;
	return 0;
}

int pv_rq_move(pv_vault *v, const pv_caller *caller, pv_rq_row *row, pv_request_state to, const char *reason)
{
	return record(v, caller, row, to, reason, NULL);
}

int pv_rq_mail(pv_vault *v, const pv_caller *caller, const pv_rq_row *row, const char *to, const char *topic,
	       const char *mail_subject, const char *body)
{
	pv_outbox_message m;

	memset(&m, 0, sizeof(m));
	m.channel = PV_OUTBOX_EMAIL;
	m.destination = to;
	m.topic = topic;
	m.subject_id = row->r.subject_id[0] ? row->r.subject_id : NULL;
	m.mail_subject = mail_subject;
	m.body = body;
	m.len = strlen(body);
	return pv_outbox_enqueue(v, caller, &m, NULL);
}

int pv_rq_event(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *event, const char *reason)
{
	return record(v, caller, row, row->r.state, reason, event);
}

/* ---- entering verified -------------------------------------------------- */

typedef struct {
	const char *self;
	pv_time at[64];
	size_t n;
	pv_duration period;
	pv_time now;
} quota_acc;

/* Requests of the same subject and type that count against the quota:
 * reached verified (not refused, withdrawn or expired) and still within the period. */
static int quota_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	quota_acc *q = payload;
	char id[PV_ID_LEN + 1];
	int64_t state, at;

	if (n < 3)
		return 0;
	pv_sv_get_text(&vals[0], id, sizeof(id));
	state = pv_sv_get_int(&vals[1]);
	at = pv_sv_get_int(&vals[2]);
	if (strcmp(id, q->self) == 0 || at > q->now)
		return 0;
	if (state != PV_REQ_VERIFIED && state != PV_REQ_IN_PROGRESS && state != PV_REQ_COMPLETED &&
	    state != PV_REQ_PARTIAL)
		return 0;
	if (pv_time_add(at, &q->period, NULL, 0) <= q->now)
		return 0;
	if (q->n < sizeof(q->at) / sizeof(q->at[0]))
		q->at[q->n++] = at;
	return 0;
}

static int cmp_time(const void *a, const void *b)
{
	pv_time x = *(const pv_time *)a, y = *(const pv_time *)b;
	return x < y ? -1 : x > y;
}

/*
 * The checks made when a request becomes verified (inside the caller's
 * transaction): a parent may act only for a subject under the policy's
 * parental-consent age (when the birth year is known); the type's quota
 * (e.g. CCPA access/portability 2 per 12 months) refuses the request with
 * available_at = when the oldest counted request leaves the period.
 */
int pv_rq_on_verified(pv_vault *v, const pv_caller *caller, pv_rq_row *row)
{
	static const char sql[] = "SELECT id, state, received_at FROM rights_requests "
		"WHERE subject_id = ? AND type = ?";
	const pv_policy *pol = pv_vault_policy(v);
	const pv_policy_rights *rt = pv_policy_rights_get(pol, row->r.regime);
	pv_request *r = &row->r;
	pv_store_value p[2];
	int rc;

	if (!r->subject_id[0])
		return 0;   /* unknown identity: nothing to count or check */
	if (r->requester == PV_REQUESTER_PARENT) {
		const pv_policy_children *ch = pv_policy_children_get(pol);
		pv_subject_info info;
		if (pv_subject_get(v, caller, r->subject_id, &info) == 0 && info.birth_year > 0) {
			time_t now = (time_t)pv_clock_now();
			struct tm tm;
			gmtime_r(&now, &tm);
			if (tm.tm_year + 1900 - info.birth_year >= ch->parental_consent_below) {
				snprintf(r->reason, sizeof(r->reason), "requester_not_authorized");
				return pv_rq_move(v, caller, row, PV_REQ_REFUSED, r->reason);
			}
		}
	}
	if (rt && rt->quota[r->type].present) {
		quota_acc q;
		memset(&q, 0, sizeof(q));
		q.self = r->id;
		q.period = rt->quota[r->type].period;
		q.now = r->received_at;
		p[0] = pv_sv_text(r->subject_id);
		p[1] = pv_sv_int(r->type);
		if ((rc = pv_store_query(pv_vault_store(v), "rights_requests quota", sql, p, 2, quota_cb, &q)) < 0)
			return rc;
		if (rt->quota[r->type].max >= 0 && q.n >= (size_t)rt->quota[r->type].max) {
			qsort(q.at, q.n, sizeof(q.at[0]), cmp_time);
			r->available_at = pv_time_add(q.at[q.n - (size_t)rt->quota[r->type].max], &q.period, NULL, 0);
			snprintf(r->reason, sizeof(r->reason), "quota_exceeded");
			return pv_rq_move(v, caller, row, PV_REQ_REFUSED, r->reason);
		}
	}
	return 0;
}

/* ---- operations -------------------------------------------------------- */

/* Load, check with `fn`-less logic, move and write back in one transaction. */
static int move_one(pv_vault *v, const pv_caller *caller, const char *id, pv_request_state to,
		    const char *reason, int set_reason)
{
	pv_rq_row row;
	int rc;

	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (!pv_request_transition_allowed(row.r.state, to))
		return pv_error_set(PV_EINVAL, "state: request %s cannot go from %s to %s", id,
				    pv_request_state_name(row.r.state), pv_request_state_name(to));
	if (to == PV_REQ_IN_PROGRESS && row.r.fee_due)
		return pv_error_set(PV_EINVAL, "fee: request %s was charged a fee (excessive); record the payment "
				    "by clearing it before work starts", id);
	if (set_reason)
		snprintf(row.r.reason, sizeof(row.r.reason), "%s", reason);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_rq_move(v, caller, &row, to, reason);
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	return pv_vault_tx_end(v, rc);
}

int pv_request_transition(pv_vault *v, const pv_caller *caller, const char *id, pv_request_state to,
			  const char *reason)
{
	int rc;

	if (!v || (rc = pv_rq_caller(caller, 1, "transition")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "transition: expected a vault");
	if (to != PV_REQ_IN_PROGRESS && to != PV_REQ_COMPLETED && to != PV_REQ_PARTIAL && to != PV_REQ_WITHDRAWN)
		return pv_error_set(PV_EINVAL, "state: expected in_progress, completed, partially_completed or "
				    "withdrawn (refuse, verify and extend have their own calls)");
	if (reason && *reason && !pv_rq_reason_valid(reason))
		return pv_error_set(PV_EINVAL, "reason: expected a reason code ^[a-z][a-z0-9_]{0,63}$");
	return move_one(v, caller, id, to, reason ? reason : "", 0);
}

int pv_request_refuse(pv_vault *v, const pv_caller *caller, const char *id, const char *reason)
{
	int rc;

	if (!v || (rc = pv_rq_caller(caller, 1, "refuse")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "refuse: expected a vault");
	if (!pv_rq_reason_valid(reason))
		return pv_error_set(PV_EINVAL, "reason: expected a reason code ^[a-z][a-z0-9_]{0,63}$");
	return move_one(v, caller, id, PV_REQ_REFUSED, reason, 1);
}

/* Charge the fee of an excessive request: fee_due = 1, state kept, event "fee_charged". */
static int move_fee(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *reason)
{
	int rc;

	row->r.fee_due = 1;
	snprintf(row->r.reason, sizeof(row->r.reason), "%s", reason);
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_rq_event(v, caller, row, "fee_charged", reason);
	if (rc == 0)
		rc = pv_rq_update(v, row);
	return pv_vault_tx_end(v, rc);
}

int pv_request_excessive(pv_vault *v, const pv_caller *caller, const char *id, const char *reason)
{
	const pv_policy_rights *rt;
	pv_rq_row row;
	int rc;

	if (!v || (rc = pv_rq_caller(caller, 1, "excessive")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "excessive: expected a vault");
	if (!pv_rq_reason_valid(reason))
		return pv_error_set(PV_EINVAL, "reason: expected manifestly_unfounded or excessive");
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (pv_rq_final(row.r.state))
		return pv_error_set(PV_EINVAL, "state: request %s is already %s", id, pv_request_state_name(row.r.state));
	rt = pv_policy_rights_get(pv_vault_policy(v), row.r.regime);
	if (rt && rt->excessive == PV_EXCESSIVE_CHARGE && rt->fee == PV_FEE_WHEN_EXCESSIVE)
		return move_fee(v, caller, &row, reason);
	return move_one(v, caller, id, PV_REQ_REFUSED, reason, 1);
}

int pv_request_fee_paid(pv_vault *v, const pv_caller *caller, const char *id)
{
	pv_rq_row row;
	int rc;

	if (!v || (rc = pv_rq_caller(caller, 1, "fee")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "fee: expected a vault");
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (!row.r.fee_due)
		return pv_error_set(PV_EINVAL, "fee: request %s owes no fee", id);
	row.r.fee_due = 0;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_rq_event(v, caller, &row, "fee_paid", "fee_paid");
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	return pv_vault_tx_end(v, rc);
}

/*
 * Strong verification: an admin confirms (the agent's authorization or the
 * identity was checked by a person) once standard was reached.
 */
int pv_request_confirm(pv_vault *v, const pv_caller *caller, const char *id)
{
	pv_rq_row row;
	int rc;

	if (!v || !caller || caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "confirm: admin callers only");
	if ((rc = pv_rq_caller(caller, 1, "confirm")) < 0 || (rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (row.r.state != PV_REQ_VERIFYING)
		return pv_error_set(PV_EINVAL, "state: request %s is %s, expected verifying", id,
				    pv_request_state_name(row.r.state));
	if (row.r.reached < PV_VERIFY_STANDARD && row.r.needed >= PV_VERIFY_STANDARD)
		return pv_error_set(PV_EINVAL, "verification: request %s has not reached standard (code and a "
				    "second identifier) yet", id);
	row.r.reached = PV_VERIFY_STRONG;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_rq_move(v, caller, &row, PV_REQ_VERIFIED, "confirmed");
	if (rc == 0)
		rc = pv_rq_on_verified(v, caller, &row);
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	return pv_vault_tx_end(v, rc);
}

typedef struct {
	char (*ids)[PV_ID_LEN + 1];
	size_t n, cap;
	pv_time now;
} stale_acc;

static int stale_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	stale_acc *a = payload;

	if (n < 3)
		return 0;
	pv_time d = pv_sv_get_int(&vals[2]) ? pv_sv_get_int(&vals[2]) : pv_sv_get_int(&vals[1]);
	if (d >= a->now)
		return 0;
	if (pv_grow((void **)&a->ids, &a->cap, a->n + 1, sizeof(*a->ids)) < 0)
		return PV_ENOMEM;
	pv_sv_get_text(&vals[0], a->ids[a->n++], PV_ID_LEN + 1);
	return 0;
}

/* Expire every request still verifying after its deadline (one transaction each). */
int pv_request_expire_stale(pv_vault *v, const pv_caller *caller, size_t *count)
{
	static const char sql[] = "SELECT id, due_at, extended_due FROM rights_requests WHERE state = 1";
	stale_acc a;
	int rc;

	*count = 0;
	if (!v || (rc = pv_rq_caller(caller, 1, "expire")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "expire: expected a vault");
	memset(&a, 0, sizeof(a));
	a.now = pv_clock_now();
	rc = pv_store_query(pv_vault_store(v), "rights_requests stale", sql, NULL, 0, stale_cb, &a);
	for (size_t i = 0; rc == 0 && i < a.n; i++)
		if ((rc = move_one(v, caller, a.ids[i], PV_REQ_EXPIRED, "not_verified_in_time", 1)) == 0)
			(*count)++;
	free(a.ids);
	return rc;
}

typedef struct {
	pv_request_event *items;
	size_t n, cap;
} hist_acc;

static int hist_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	hist_acc *h = payload;

	if (n < 5)
		return 0;
	if (pv_grow((void **)&h->items, &h->cap, h->n + 1, sizeof(*h->items)) < 0)
		return PV_ENOMEM;
	pv_request_event *e = &h->items[h->n++];
	memset(e, 0, sizeof(*e));
	e->from = (pv_request_state)pv_sv_get_int(&vals[0]);
	e->to = (pv_request_state)pv_sv_get_int(&vals[1]);
	e->at = pv_sv_get_int(&vals[2]);
	pv_sv_get_text(&vals[3], e->actor, sizeof(e->actor));
	pv_sv_get_text(&vals[4], e->reason, sizeof(e->reason));
	return 0;
}

int pv_request_history(pv_vault *v, const pv_caller *caller, const char *id, pv_request_event **out, size_t *count)
{
	static const char sql[] = "SELECT from_state, to_state, at, actor, reason FROM rights_request_events "
		"WHERE request_id = ? ORDER BY seq";
	hist_acc h = { 0 };
	pv_rq_row row;
	pv_store_value p[1];
	int rc;

	*out = NULL;
	*count = 0;
	if (!v || (rc = pv_rq_caller(caller, 0, "history")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "history: expected a vault");
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	p[0] = pv_sv_text(id);
	if ((rc = pv_store_query(pv_vault_store(v), "rights_request_events list", sql, p, 1, hist_cb, &h)) < 0) {
		free(h.items);
		return rc;
	}
	*out = h.items;
	*count = h.n;
	return 0;
}
