/*
 * Data-subject requests: intake, loading and listing (issue 6, requests part).
 * The state machine is in state.c, codes in verify.c, deadlines in deadline.c.
 * Nothing here stores or logs personal data: identifiers become blind indexes,
 * authorization references become hashes, details are checked to hold ids only.
 */
#include "rights/requests_internal.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"

static const char *const state_names[PV_REQ_STATE_COUNT] = {
	"received", "verifying", "verified", "in_progress", "completed",
	"partially_completed", "refused", "withdrawn", "expired"
};
static const char *const requester_names[] = { "subject", "agent", "parent" };

const char *pv_request_state_name(pv_request_state s)
{
	return (unsigned)s < PV_REQ_STATE_COUNT ? state_names[s] : "?";
}

const char *pv_requester_name(pv_requester r)
{
	return (unsigned)r <= PV_REQUESTER_PARENT ? requester_names[r] : "?";
}

int pv_requester_parse(pv_requester *out, const char *s)
{
	for (int i = 0; s && i <= PV_REQUESTER_PARENT; i++)
		if (strcmp(s, requester_names[i]) == 0) {
			*out = (pv_requester)i;
			return 0;
		}
	return pv_error_set(PV_EINVAL, "requester: expected subject, agent or parent");
}

int pv_request_type_parse(pv_policy_request *out, const char *s)
{
	for (int i = 0; s && i < PV_POLICY_REQ_COUNT; i++)
		if (strcmp(s, pv_policy_request_name((pv_policy_request)i)) == 0) {
			*out = (pv_policy_request)i;
			return 0;
		}
	return pv_error_set(PV_EINVAL, "type: expected access, portability, deletion, rectification, restriction, "
			    "objection, opt_out, limit_sensitive or withdraw_consent");
}

void pv_request_clear(pv_request *r)
{
	if (r) {
		free(r->details);
		r->details = NULL;
	}
}

void pv_request_list_free(pv_request *list, size_t count)
{
	for (size_t i = 0; list && i < count; i++)
		free(list[i].details);
	free(list);
}

pv_time pv_request_deadline(const pv_request *r)
{
	return r->extended_due ? r->extended_due : r->due_at;
}

int pv_rq_final(pv_request_state s)
{
	return s >= PV_REQ_COMPLETED;
}

int pv_rq_reason_valid(const char *s)
{
	return s && pv_id_valid(s, PV_REQUEST_REASON_MAX);
}

int pv_rq_caller(const pv_caller *caller, int write, const char *what)
{
	if (!caller || !caller->name || !*caller->name)
		return pv_error_set(PV_EINVAL, "caller: expected a caller with a name");
	if (write && caller->role == PV_ROLE_AUDITOR)
		return pv_error_set(PV_EDENIED, "%s: auditors may not change requests", what);
	return 0;
}

int pv_rq_blind(pv_vault *v, const char *kind, const char *value, uint8_t out[32])
{
	char norm[512];
	int rc;

	if (!pv_id_valid(kind, 32))
		return pv_error_set(PV_EINVAL, "id_kind: expected ^[a-z][a-z0-9_]{0,31}$");
	if (!value || !*value)
		return pv_error_set(PV_EINVAL, "id_value: expected a value");
	if ((rc = pv_identifier_normalize(kind, value, norm, sizeof(norm))) < 0)
		return rc;
	rc = pv_blind_index(pv_vault_keyring(v), kind, norm, out);
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

int pv_rq_intake_matches(pv_vault *v, const pv_rq_row *row, const char *kind, const char *value)
{
	uint8_t bi[32];
	int rc;

	if ((rc = pv_rq_blind(v, kind, value, bi)) < 0)
		return rc;
	return row->has_bi && strcmp(row->id_kind, kind) == 0 && sodium_memcmp(bi, row->id_bi, 32) == 0;
}

/* ---- rows ---------------------------------------------------------------- */

#define RQ_COLS "id, subject_id, type, regime, requester, authorization_hash, id_kind, id_bi, state, needed, " \
	"reached, received_at, ack_due, due_at, extended_due, closed_at, reason, available_at, fee_due, details, " \
	"code_hash, code_expires, code_attempts"

/* Fill row from one result row in RQ_COLS order. */
static int row_fill(pv_rq_row *row, const pv_store_value *vals, size_t n)
{
	pv_request *r = &row->r;

	if (n < 23)
		return pv_error_set(PV_ESTORE, "rights_requests: unexpected columns");
	memset(row, 0, sizeof(*row));
	pv_sv_get_text(&vals[0], r->id, sizeof(r->id));
	pv_sv_get_text(&vals[1], r->subject_id, sizeof(r->subject_id));
	r->type = (pv_policy_request)pv_sv_get_int(&vals[2]);
	r->regime = (pv_regime)pv_sv_get_int(&vals[3]);
	r->requester = (pv_requester)pv_sv_get_int(&vals[4]);
	pv_sv_get_text(&vals[5], r->authorization, sizeof(r->authorization));
	pv_sv_get_text(&vals[6], row->id_kind, sizeof(row->id_kind));
	if (vals[7].type == PV_STORE_BLOB && vals[7].len == 32) {
		memcpy(row->id_bi, vals[7].p, 32);
		row->has_bi = 1;
	}
	r->state = (pv_request_state)pv_sv_get_int(&vals[8]);
	r->needed = (pv_verification)pv_sv_get_int(&vals[9]);
	r->reached = (pv_verification)pv_sv_get_int(&vals[10]);
	r->received_at = pv_sv_get_int(&vals[11]);
	r->ack_due = pv_sv_get_int(&vals[12]);
	r->due_at = pv_sv_get_int(&vals[13]);
	r->extended_due = pv_sv_get_int(&vals[14]);
	r->closed_at = pv_sv_get_int(&vals[15]);
	pv_sv_get_text(&vals[16], r->reason, sizeof(r->reason));
	r->available_at = pv_sv_get_int(&vals[17]);
	r->fee_due = (int)pv_sv_get_int(&vals[18]);
	if (vals[19].type == PV_STORE_TEXT) {
		r->details = strndup((const char *)vals[19].p, vals[19].len);
		if (!r->details)
			return pv_error_set(PV_ENOMEM, "request details: out of memory");
	}
	if (vals[20].type == PV_STORE_BLOB && vals[20].len == 32) {
		memcpy(row->code_hash, vals[20].p, 32);
		row->has_code = 1;
	}
	row->code_expires = pv_sv_get_int(&vals[21]);
	row->code_attempts = pv_sv_get_int(&vals[22]);
	return 0;
}

static int load_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	pv_rq_row *row = payload;
	int rc = row_fill(row, vals, n);
	return rc < 0 ? rc : 1;
}

int pv_rq_load(pv_vault *v, const char *id, pv_rq_row *row)
{
	static const char sql[] = "SELECT " RQ_COLS " FROM rights_requests WHERE id = ?";
	pv_store_value p[1];
	int rc;

	if (!id || !pv_uuid_valid(id))
		return pv_error_set(PV_EINVAL, "request id: expected a UUID");
	p[0] = pv_sv_text(id);
	memset(row, 0, sizeof(*row));
	rc = pv_store_query(pv_vault_store(v), "rights_requests select", sql, p, 1, load_cb, row);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return pv_error_set(PV_ENOTFOUND, "request %s: not found", id);
	return 0;
}

int pv_rq_update(pv_vault *v, const pv_rq_row *row)
{
	static const char sql[] = "UPDATE rights_requests SET subject_id = ?, state = ?, reached = ?, "
		"extended_due = ?, closed_at = ?, reason = ?, available_at = ?, fee_due = ?, code_hash = ?, "
		"code_expires = ?, code_attempts = ? WHERE id = ?";
	const pv_request *r = &row->r;
	pv_store_value p[12];

	p[0] = pv_sv_text(r->subject_id);
	p[1] = pv_sv_int(r->state);
	p[2] = pv_sv_int(r->reached);
	p[3] = pv_sv_int(r->extended_due);
	p[4] = pv_sv_int(r->closed_at);
	p[5] = pv_sv_text(r->reason);
	p[6] = pv_sv_int(r->available_at);
	p[7] = pv_sv_int(r->fee_due);
	p[8] = row->has_code ? pv_sv_blob(row->code_hash, 32) : pv_sv_null();
	p[9] = pv_sv_int(row->code_expires);
	p[10] = pv_sv_int(row->code_attempts);
	p[11] = pv_sv_text(r->id);
	return pv_store_exec(pv_vault_store(v), "rights_requests update", sql, p, 12, NULL);
}

/* ---- intake ---------------------------------------------------------------- */

/* Details hold ids only: {"record_id": "<uuid>", "purposes"|"categories"|"fields": ["id", ...]}. */
static int details_check(const char *details, char **out)
{
	json_error_t jerr;
	json_t *doc, *val;
	const char *key;
	int rc = 0;

	*out = NULL;
	if (!details)
		return 0;
	if (strlen(details) > PV_REQUEST_DETAILS_MAX)
		return pv_error_set(PV_ELIMIT, "details: expected at most %d bytes", PV_REQUEST_DETAILS_MAX);
	doc = json_loads(details, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return pv_error_set(PV_EINVAL, "details: expected a JSON object");
	}
	json_object_foreach(doc, key, val) {
		if (strcmp(key, "record_id") == 0) {
			if (!json_is_string(val) || !pv_uuid_valid(json_string_value(val)))
				rc = pv_error_set(PV_EINVAL, "details.record_id: expected a record UUID");
		} else if (strcmp(key, "purposes") == 0 || strcmp(key, "categories") == 0 ||
			   strcmp(key, "fields") == 0) {
			size_t i;
			json_t *e;
			if (!json_is_array(val))
				rc = pv_error_set(PV_EINVAL, "details.%s: expected an array of ids", key);
			json_array_foreach(val, i, e) {
				if (rc == 0 && (!json_is_string(e) || !pv_id_valid(json_string_value(e), PV_ID_MAX_LEN)))
					rc = pv_error_set(PV_EINVAL, "details.%s[%zu]: expected an id", key, i);
			}
		} else {
			rc = pv_error_set(PV_EINVAL, "details: unknown field %.64s (expected record_id, purposes, "
					  "categories, fields)", pv_id_valid(key, 64) ? key : "?");
		}
		if (rc < 0)
			break;
	}
	if (rc == 0 && !(*out = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS)))
		rc = pv_error_set(PV_ENOMEM, "details: out of memory");
	json_decref(doc);
	return rc;
}

/*
 * The acknowledgement of receipt (CCPA: within 10 business days): queued
 * through the outbox at intake to the address given, with the deadline;
 * recorded as the event "acknowledged". Inside the intake's batch.
 */
static int acknowledge(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *address)
{
	char rec[32], due[32], body[640];
	int rc;

	pv_time_format(row->r.received_at, rec, sizeof(rec));
	pv_time_format(row->r.due_at, due, sizeof(due));
	snprintf(body, sizeof(body),
		 "We received your privacy request %s (%s) on %s.\n"
		 "We will answer by %s%s.\n",
		 row->r.id, pv_policy_request_name(row->r.type), rec, due,
		 row->r.state == PV_REQ_VERIFYING ? "; first, please enter the verification code we sent you" : "");
	rc = pv_rq_mail(v, caller, row, address, "request_acknowledgement", "Your privacy request: received", body);
	if (rc == 0)
		rc = pv_rq_event(v, caller, row, "acknowledged", "");
	return rc;
}

/*
 * Take a request in (rights.h). Validation and reads first; then one batch:
 * the row, the history row "-> received", the move to verifying (code sent)
 * or verified (no verification needed, or admin intake by subject id).
 */
int pv_request_submit(pv_vault *v, const pv_caller *caller, const pv_request_spec *spec, pv_request *out)
{
	static const char sql[] = "INSERT INTO rights_requests (" RQ_COLS ") VALUES "
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	const pv_policy *pol;
	const pv_policy_rights *rights;
	pv_rq_row row;
	pv_request *r = &row.r;
	pv_subject_info info;
	pv_store_value p[23];
	char *details = NULL;
	int rc, by_id = 0, own = 0;

	memset(&row, 0, sizeof(row));
	if (out)
		memset(out, 0, sizeof(*out));
	if (!v || !spec)
		return pv_error_set(PV_EINVAL, "request: expected a vault and a spec");
	if ((rc = pv_rq_caller(caller, 1, "request")) < 0)
		return rc;
	if ((unsigned)spec->type >= PV_POLICY_REQ_COUNT)
		return pv_error_set(PV_EINVAL, "type: expected a request type");
	if ((unsigned)spec->requester > PV_REQUESTER_PARENT)
		return pv_error_set(PV_EINVAL, "requester: expected subject, agent or parent");
	if (spec->requester != PV_REQUESTER_SUBJECT &&
	    (!spec->authorization || !*spec->authorization || strlen(spec->authorization) > 128))
		return pv_error_set(PV_EINVAL, "authorization: an agent or parent must give a reference to the "
				    "proof of authorization (1-128 bytes)");
	pol = pv_vault_policy(v);
	if (!pol)
		return pv_error_set(PV_EPOLICY, "policy: the vault has none");
	if (spec->subject_id) {
		if (caller->role != PV_ROLE_ADMIN)
			return pv_error_set(PV_EDENIED, "subject_id: intake by subject id is for admins (identity "
					    "checked outside privault)");
		if ((rc = pv_subject_get(v, caller, spec->subject_id, &info)) < 0)
			return rc;
		snprintf(r->subject_id, sizeof(r->subject_id), "%s", info.id);
		snprintf(row.id_kind, sizeof(row.id_kind), "subject_id");
		r->regime = info.regime;
		by_id = 1;
	} else {
		if ((rc = pv_rq_blind(v, spec->id_kind, spec->id_value, row.id_bi)) < 0)
			return rc;
		row.has_bi = 1;
		snprintf(row.id_kind, sizeof(row.id_kind), "%s", spec->id_kind);
		rc = pv_subject_find(v, caller, spec->id_kind, spec->id_value, r->subject_id);
		if (rc == PV_ENOTFOUND)
			r->subject_id[0] = '\0';   /* accepted all the same: nothing revealed */
		else if (rc < 0)
			return rc;
		r->regime = pv_policy_default_regime(pol);
		if (r->subject_id[0] && pv_subject_get(v, caller, r->subject_id, &info) == 0)
			r->regime = info.regime;
	}
	if (spec->regime && (rc = pv_regime_parse(&r->regime, spec->regime)) < 0)
		return rc;
	rights = pv_policy_rights_get(pol, r->regime);
	if (!rights || !rights->enabled)
		return pv_error_set(PV_EPOLICY, "regime: %s is not in force in the policy", pv_regime_name(r->regime));
	if ((rc = details_check(spec->details, &details)) < 0)
		return rc;
	r->details = details;
	r->type = spec->type;
	r->requester = spec->requester;
	if (spec->requester != PV_REQUESTER_SUBJECT) {
		uint8_t h[32];
		crypto_generichash(h, sizeof(h), (const uint8_t *)spec->authorization, strlen(spec->authorization),
				   NULL, 0);
		pv_hex_encode(r->authorization, h, sizeof(h));
	}
	r->needed = rights->verification[spec->type];
	r->received_at = spec->received_at ? spec->received_at : pv_clock_now();
	if ((rc = pv_rq_deadlines(pol, r->regime, r->received_at, &r->ack_due, &r->due_at)) < 0)
		goto fail;
	if (r->needed != PV_VERIFY_NONE && !by_id && strcmp(row.id_kind, "email") != 0) {
		rc = pv_error_set(PV_EINVAL, "id_kind: expected email, where the verification code is sent "
				  "(this request type needs verification)");
		goto fail;
	}
	pv_uuid_new(r->id);
	r->state = PV_REQ_RECEIVED;

	if ((rc = pv_rq_batch_begin(v, &own)) < 0)
		goto fail;
	p[0] = pv_sv_text(r->id);
	p[1] = pv_sv_text(r->subject_id);
	p[2] = pv_sv_int(r->type);
	p[3] = pv_sv_int(r->regime);
	p[4] = pv_sv_int(r->requester);
	p[5] = pv_sv_text(r->authorization);
	p[6] = pv_sv_text(row.id_kind);
	p[7] = row.has_bi ? pv_sv_blob(row.id_bi, 32) : pv_sv_null();
	p[8] = pv_sv_int(r->state);
	p[9] = pv_sv_int(r->needed);
	p[10] = pv_sv_int(r->reached);
	p[11] = pv_sv_int(r->received_at);
	p[12] = pv_sv_int(r->ack_due);
	p[13] = pv_sv_int(r->due_at);
	p[14] = pv_sv_int(0);
	p[15] = pv_sv_int(0);
	p[16] = pv_sv_text("");
	p[17] = pv_sv_int(0);
	p[18] = pv_sv_int(0);
	p[19] = pv_sv_text(r->details);
	p[20] = pv_sv_null();
	p[21] = pv_sv_int(0);
	p[22] = pv_sv_int(0);
	rc = pv_store_exec(pv_vault_store(v), "rights_requests insert", sql, p, 23, NULL);
	row.next_seq = 1;   /* a new request has no history yet */
	if (rc == 0)
		rc = pv_rq_move(v, caller, &row, PV_REQ_RECEIVED, pv_requester_name(r->requester));
	if (rc == 0 && (r->needed == PV_VERIFY_NONE || by_id)) {
		r->reached = by_id ? PV_VERIFY_STRONG : PV_VERIFY_NONE;
		rc = pv_rq_move(v, caller, &row, PV_REQ_VERIFIED, by_id ? "admin_intake" : "no_verification_needed");
		if (rc == 0)
			rc = pv_rq_on_verified(v, caller, &row);
	} else if (rc == 0) {
		rc = pv_rq_move(v, caller, &row, PV_REQ_VERIFYING, "code_sent");
		if (rc == 0)
			rc = pv_rq_code_issue(v, caller, &row, spec->id_value);
	}
	if (rc == 0 && rights->has_acknowledge && row.has_bi && strcmp(row.id_kind, "email") == 0)
		rc = acknowledge(v, caller, &row, spec->id_value);
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	if ((rc = pv_rq_batch_end(v, own, rc)) < 0)
		goto fail;
	if (out) {
		*out = *r;
		return 0;
	}
fail:
	free(r->details);
	return rc;
}

/*
 * Open a pv_vault_begin() batch for an operation that queues outbox messages
 * (*own = 1), or join the caller's batch when one is open (*own = 0: the
 * operation commits or fails with it). pv_vault_begin fails with PV_EINVAL
 * only when a batch is already open.
 */
int pv_rq_batch_begin(pv_vault *v, int *own)
{
	int rc = pv_vault_begin(v);

	*own = rc == 0;
	if (rc == PV_EINVAL) {
		pv_error_clear();
		return 0;
	}
	return rc;
}

/* End what pv_rq_batch_begin opened: commit / roll back keeping the message, or (joined) mark the caller's batch. */
int pv_rq_batch_end(pv_vault *v, int own, int rc)
{
	char msg[PV_ERRMSG_MAX];

	if (!own)
		return pv_vault_tx_end(v, rc);
	if (rc == 0)
		return pv_vault_commit(v);
	snprintf(msg, sizeof(msg), "%s", pv_error_last());
	pv_vault_rollback(v);
	return pv_error_set(rc, "%s", msg);
}

int pv_request_get(pv_vault *v, const pv_caller *caller, const char *id, pv_request *out)
{
	pv_rq_row row;
	int rc;

	if (!v || (rc = pv_rq_caller(caller, 0, "request")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "request: expected a vault");
	rc = pv_rq_load(v, id, &row);   /* id may point into *out */
	memset(out, 0, sizeof(*out));
	if (rc < 0)
		return rc;
	*out = row.r;
	return 0;
}

/* ---- lists --------------------------------------------------------------- */

typedef struct {
	pv_request *items;
	size_t n, cap;
	int rc;
} rq_list;

static int list_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	(void)cols;
	rq_list *l = payload;
	pv_rq_row row;
	int rc;

	if (pv_grow((void **)&l->items, &l->cap, l->n + 1, sizeof(*l->items)) < 0)
		return PV_ENOMEM;
	if ((rc = row_fill(&row, vals, n)) < 0)
		return rc;
	l->items[l->n++] = row.r;
	return 0;
}

static int by_deadline(const void *a, const void *b)
{
	pv_time x = pv_request_deadline(a), y = pv_request_deadline(b);
	return x < y ? -1 : x > y;
}

int pv_request_due(pv_vault *v, const pv_caller *caller, int64_t within, pv_request **out, size_t *count)
{
	static const char sql[] = "SELECT " RQ_COLS " FROM rights_requests WHERE state < 4 AND "
		"((extended_due = 0 AND due_at < ?) OR (extended_due > 0 AND extended_due < ?))";
	pv_store_value p[2];
	rq_list l = { 0 };
	pv_time limit = pv_clock_now() + (within > 0 ? within : 0);
	size_t k = 0;
	int rc;

	*out = NULL;
	*count = 0;
	if (!v || (rc = pv_rq_caller(caller, 0, "requests")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "requests: expected a vault");
	p[0] = pv_sv_int(limit);
	p[1] = pv_sv_int(limit);
	rc = pv_store_query(pv_vault_store(v), "rights_requests due", sql, p, 2, list_cb, &l);
	if (rc < 0) {
		pv_request_list_free(l.items, l.n);
		return rc;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (pv_request_deadline(&l.items[i]) < limit)
			l.items[k++] = l.items[i];
		else
			free(l.items[i].details);
	}
	if (k > 1)
		qsort(l.items, k, sizeof(*l.items), by_deadline);
	*out = l.items;
	*count = k;
	return 0;
}

int pv_request_list_subject(pv_vault *v, const pv_caller *caller, const char *subject_id,
			    pv_request **out, size_t *count)
{
	static const char sql[] = "SELECT " RQ_COLS " FROM rights_requests WHERE subject_id = ? "
		"ORDER BY received_at, id";
	rq_list l = { 0 };
	pv_store_value p[1];
	int rc;

	*out = NULL;
	*count = 0;
	if (!v || (rc = pv_rq_caller(caller, 0, "requests")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "requests: expected a vault");
	if (!subject_id || !pv_uuid_valid(subject_id))
		return pv_error_set(PV_EINVAL, "subject_id: expected a UUID");
	p[0] = pv_sv_text(subject_id);
	rc = pv_store_query(pv_vault_store(v), "rights_requests by subject", sql, p, 1, list_cb, &l);
	if (rc < 0) {
		pv_request_list_free(l.items, l.n);
		return rc;
	}
	*out = l.items;
	*count = l.n;
	return 0;
}

/* ---- fulfilment ------------------------------------------------------------ */

/* details' record_id and purposes (ids; borrowed from doc). */
static void details_ids(json_t *doc, const char **record_id, json_t **purposes)
{
	*record_id = json_string_value(json_object_get(doc, "record_id"));
	*purposes = json_object_get(doc, "purposes");
	if (!json_is_array(*purposes) || json_array_size(*purposes) == 0)
		*purposes = NULL;
}

int pv_request_fulfil(pv_vault *v, const pv_caller *caller, const char *id, const char *package_dir,
		      const char *data, size_t len, pv_fulfil_result *out)
{
	pv_rq_row row;
	pv_fulfil_order o;
	pv_fulfil_result res;
	json_t *doc = NULL, *purposes = NULL;
	const char *record_id = NULL;
	int rc, partial = 0;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!v || !caller || caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "fulfil: admin callers only");
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	if (row.r.details)
		doc = json_loads(row.r.details, 0, NULL);
	pv_request_clear(&row.r);
	if (row.r.state != PV_REQ_VERIFIED && row.r.state != PV_REQ_IN_PROGRESS) {
		rc = pv_error_set(PV_EINVAL, "state: request %s is %s, expected verified or in_progress", id,
				  pv_request_state_name(row.r.state));
		goto out;
	}
	if (row.r.fee_due) {
		rc = pv_error_set(PV_EINVAL, "fee: request %s owes its fee (excessive)", id);
		goto out;
	}
	if (row.r.state == PV_REQ_VERIFIED) {
		if ((rc = pv_vault_tx_begin(v)) < 0)
			goto out;
		rc = pv_rq_move(v, caller, &row, PV_REQ_IN_PROGRESS, "fulfilment");
		if (rc == 0)
			rc = pv_rq_update(v, &row);
		if ((rc = pv_vault_tx_end(v, rc)) < 0)
			goto out;
	}
	memset(&res, 0, sizeof(res));
	if (row.r.subject_id[0]) {
		details_ids(doc, &record_id, &purposes);
		memset(&o, 0, sizeof(o));
		o.type = row.r.type;
		o.subject_id = row.r.subject_id;
		o.request_id = row.r.id;
		o.package_dir = package_dir;
		o.record_id = record_id;
		o.data = data;
		o.len = len;
		if (purposes && (row.r.type == PV_POLICY_REQ_OBJECTION || row.r.type == PV_POLICY_REQ_WITHDRAW_CONSENT)) {
			for (size_t i = 0; rc == 0 && i < json_array_size(purposes); i++) {
				o.purpose = json_string_value(json_array_get(purposes, i));
				rc = pv_fulfil_run(v, caller, &o, NULL);
			}
		} else {
			rc = pv_fulfil_run(v, caller, &o, &res);
			partial = res.partial;
		}
		if (rc < 0) {
			pv_fulfil_result_free(&res);
			goto out;
		}
	}
	snprintf(row.r.reason, sizeof(row.r.reason), "%s", row.r.subject_id[0] ? "fulfilled" : "no_data");
	if ((rc = pv_vault_tx_begin(v)) == 0) {
		rc = pv_rq_move(v, caller, &row, partial ? PV_REQ_PARTIAL : PV_REQ_COMPLETED, row.r.reason);
		if (rc == 0)
			rc = pv_rq_update(v, &row);
		rc = pv_vault_tx_end(v, rc);
	}
	if (rc == 0 && out)
		*out = res;
	else
		pv_fulfil_result_free(&res);
out:
	json_decref(doc);
	return rc;
}
