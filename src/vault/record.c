/*
 * Records: encrypted JSON objects of a subject, each tied to the category,
 * purpose and policy version it was collected under. Every read goes through
 * the access decision, record by record, against the record's own version.
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"
#include "vault/json_check.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTCOME_MAX 64   /* characters of pv_audit_entry.outcome */

struct pv_record_list {
	pv_record *v;
	size_t n, cap;
	size_t denied;
	pv_vault_arena *arena;        /* the handle's pool of guarded blocks (a reference) */
	pv_vault_arena_block plain;   /* from it: every record's plaintext, wiped when the list is freed */
};

/* ---- JSON input -------------------------------------------------------- */

/*
 * Validate record data: a JSON object of at most PV_RECORD_MAX_BYTES, nested
 * at most PV_RECORD_MAX_DEPTH deep, valid UTF-8, without duplicate keys or
 * NUL (json_check.h), in one pass and without allocating. The message names
 * the byte offset and what was expected there, never the text.
 */
static int check_data(const char *data, size_t len)
{
	pv_json_problem pr;
	int rc;

	if (!data || len == 0)
		return pv_error_set(PV_EINVAL, "data: expected a JSON object");
	if (len > PV_RECORD_MAX_BYTES)
		return pv_error_set(PV_ELIMIT, "data: %zu bytes, at most %u allowed", len, PV_RECORD_MAX_BYTES);
	rc = pv_json_check_object(data, len, PV_RECORD_MAX_BYTES, PV_RECORD_MAX_DEPTH, &pr);
	if (rc == 0)
		return 0;
	if (rc == PV_ELIMIT)
		return pv_error_set(rc, "data: nested deeper than %d (byte %zu)", PV_RECORD_MAX_DEPTH, pr.offset);
	if (rc == PV_ENOMEM)
		return pv_error_set(rc, "data: out of memory checking duplicate keys");
	return pv_error_set(rc, "data: expected a JSON object (byte %zu: expected %s)", pr.offset, pr.expected);
}

/*
 * Parse record data for its tree (rectification diffs the keys): validated
 * by check_data() first, so the messages are the same as for a put. *out
 * gets the object; json_decref it.
 */
static int parse_data(json_t **out, const char *data, size_t len)
{
	int rc;

	*out = NULL;
	if ((rc = check_data(data, len)) < 0)
		return rc;
	*out = json_loadb(data, len, JSON_REJECT_DUPLICATES, NULL);
	if (!*out || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return pv_error_set(PV_ENOMEM, "data: out of memory parsing the object");
	}
	return 0;
}

/* Name an id in a message only when it is a well-formed id (caller text could be anything). */
static const char *shown(const char *id)
{
	return pv_vault_audit_id(id) ? id : "(malformed id)";
}

/* ---- put --------------------------------------------------------------- */

/* Copy `src` into dst[size], cut to size - 1 bytes (snprintf "%s" without the format parsing: the put path). */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Check category, purpose and source against `p` (PV_EPOLICY naming which). */
static int spec_against_policy(const pv_policy *p, const pv_record_spec *spec)
{
	const pv_policy_category *c;
	const pv_policy_purpose *pu;

	if (!spec->category || !(c = pv_policy_category_find(p, spec->category)))
		return pv_error_set(PV_EPOLICY, "category: %s is not declared in the current policy",
				    spec->category ? shown(spec->category) : "(none)");
	if (!spec->purpose || !(pu = pv_policy_purpose_find(p, spec->purpose)))
		return pv_error_set(PV_EPOLICY, "purpose: %s is not declared in the current policy",
				    spec->purpose ? shown(spec->purpose) : "(none)");
	if (!pv_policy_purpose_has_category(pu, c))
		return pv_error_set(PV_EPOLICY, "purpose: %s does not cover category %s", spec->purpose, spec->category);
	if (spec->source && spec->source[0] && !pv_policy_source_find(p, spec->source))
		return pv_error_set(PV_EPOLICY, "source: %s is not declared in the current policy", shown(spec->source));
	return 0;
}

/*
 * Raise the subject's records_until (the latest expiry of its records; INT64_MAX
 * for one that never expires) to expires_at: how a sweep finds the subjects
 * that the epochs it destroys may leave with nothing (docs/retention.md).
 * Inside a batch, a later put to the cached subject expiring no later than
 * one already raised skips the statement.
 */
static int records_until(pv_vault *v, const char *subject_id, pv_time expires_at)
{
	static const char q[] = "UPDATE subjects SET records_until = ? WHERE id = ?"
				" AND (records_until IS NULL OR records_until < ?)";
	pv_store_value p[] = { pv_sv_int(expires_at), pv_sv_text(subject_id), pv_sv_int(expires_at) };
	int cached = v->put_cached && strncmp(v->put_subj.id, subject_id, sizeof(v->put_subj.id)) == 0;
	int rc;

	if (cached && expires_at <= v->put_until)
		return 0;
	rc = pv_store_exec(v->store, "subjects records_until", q, p, 3, NULL);
	if (rc == 0 && cached)
		v->put_until = expires_at;
	return rc;
}

/* Why this thread's last pv_record_put answered PV_EDENIED (pv_record_put_denied_reason). */
static __thread pv_reason put_denied = PV_REASON_NO_GRANT;

pv_reason pv_record_put_denied_reason(void)
{
	return put_denied;
}

/*
 * Store a record: the subject must exist and not be erased; category, purpose
 * and source must be declared in the current policy, the purpose must cover
 * the category, a service needs a grant for them; the data must be a JSON
 * object. Expiry comes from the retention rule (INT64_MAX when none). The
 * data is sealed with the subject's data key and inserted with the audit
 * entry "record.put" in one transaction. out_id gets the record id.
 */
int pv_record_put(pv_vault *v, const pv_caller *caller, const char *subject_id,
		  const pv_record_spec *spec, char out_id[PV_ID_LEN + 1])
{
	const pv_policy *p;
	const uint8_t *dek = NULL;   /* the batch's cached data key, or v->dek once loaded */
	const uint8_t *key;          /* dek, or the record key of its retention epoch */
	pv_subject_info subj;
	pv_store_record r;
	pv_duration dur;
	uint8_t *ct = NULL;
	int rc;

	if (!v || !spec || !out_id)
		return pv_error_set(PV_EINVAL, "record: expected a vault, a spec and an output");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if (!pv_vault_put_cache_get(v, subject_id, &subj, &dek) && (rc = pv_vault_subject_load(v, subject_id, &subj)) < 0)
		return rc;
	if (subj.state == PV_SUBJECT_ERASED)
		return pv_error_set(PV_EERASED, "subject %s: erased", subject_id);
	p = pv_vault_policy(v);
	put_denied = PV_REASON_CHILD_UNDER_MINIMUM_AGE;
	if (pv_vault_child_under_minimum(p, &subj))
		return pv_error_set(PV_EDENIED, "subject %s: younger than the policy's children.minimum_age (%d) "
				    "and no parental consent: nothing is collected", subject_id,
				    pv_policy_children_get(p)->minimum_age);
	if ((rc = spec_against_policy(p, spec)) < 0)
		return rc;
	put_denied = PV_REASON_NO_GRANT;
	if (!pv_vault_caller_granted(caller, spec->purpose, spec->category))
		return pv_error_set(PV_EDENIED, "caller: no grant for purpose %s and category %s", spec->purpose,
				    spec->category);
	if ((rc = check_data(spec->data, spec->len)) < 0)
		return rc;

	memset(&r, 0, sizeof(r));
	pv_uuid_new(r.id);
	memcpy(r.subject_id, subj.id, sizeof(r.subject_id));
	copy_str(r.category, sizeof(r.category), spec->category);
	copy_str(r.purpose, sizeof(r.purpose), spec->purpose);
	copy_str(r.source, sizeof(r.source), spec->source ? spec->source : "");
	copy_str(r.policy_version, sizeof(r.policy_version), pv_vault_policy_hash(v));
	r.collected_at = r.updated_at = pv_clock_now();
	r.expires_at = INT64_MAX;
	if (pv_policy_retention_for(p, spec->category, spec->purpose, &dur, NULL)) {
		const pv_policy_rights *rights = pv_policy_rights_get(p, subj.regime);
		r.expires_at = pv_time_add(r.collected_at, &dur, rights ? rights->holidays : NULL,
					   rights ? rights->nholidays : 0);
	}
	r.key_epoch = pv_vault_epoch_for(r.expires_at, r.collected_at);
	ct = malloc(spec->len + PV_TAG_LEN);
	if (!ct)
		return pv_error_set(PV_ENOMEM, "record: out of memory");
	if (!dek) {
		if ((rc = pv_vault_dek_load(v, subj.id)) < 0)
			goto out;
		dek = v->dek;
		pv_vault_put_cache_set(v, &subj, dek);   /* for the next put to this subject in the batch */
	}
	rc = pv_vault_record_key(v, r.key_epoch, dek, &key);
	if (rc == PV_ENOTFOUND) {   /* a sweep whose clock is ahead of ours destroyed the epoch already */
		r.key_epoch = 0;
		rc = pv_vault_record_key(v, 0, dek, &key);
		pv_error_clear();
	}
	if (rc == 0)
		rc = pv_seal(key, subj.id, r.id, r.category, (const uint8_t *)spec->data, spec->len, r.nonce, ct);
	pv_vault_dek_wipe(v);
	if (rc < 0)
		goto out;
	r.ciphertext = ct;
	r.ciphertext_len = spec->len + PV_TAG_LEN;

	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto out;
	rc = pv_store_record_insert(v->store, &r);
	if (rc == 0)
		rc = records_until(v, subj.id, r.expires_at);
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, "record.put", subj.id, r.purpose, r.category, "ok");
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0)
		memcpy(out_id, r.id, PV_ID_LEN + 1);
out:
	free(ct);
	return rc;
}

/* ---- read -------------------------------------------------------------- */

/* A record allowed by the decision, waiting to be decrypted. */
typedef struct {
	uint8_t nonce[PV_NONCE_LEN];
	uint8_t *ct;
	size_t ct_len;
	int64_t key_epoch;
} pending_ct;

typedef struct {
	pv_vault *v;
	const pv_caller *caller;
	const pv_subject_info *subj;
	const char *purpose;
	pv_record_list *l;
	pending_ct *pend;       /* parallel to l->v */
	size_t plain_total;
	int any_denied;
	pv_decision first_denied;
} read_ctx;

/* Visit one record: decide against its own policy version; keep its ciphertext when allowed. */
static int read_cb(const pv_store_record *r, void *payload)
{
	read_ctx *c = payload;
	pv_record_list *l = c->l;
	const pv_policy *p;
	pv_decision d;
	pv_record *out;
	int rc;

	if (l->n + l->denied >= PV_READ_MAX_RECORDS)
		return pv_error_set(PV_ELIMIT, "read: subject holds more than %d records", PV_READ_MAX_RECORDS);
	if ((rc = pv_vault_policy_load(c->v, r->policy_version, &p)) < 0)
		return pv_error_wrap(rc, "record %s", r->id);
	pv_vault_decide_any(p, c->caller, c->subj, r->category, c->purpose, &d);
	if (!d.allow) {
		if (!c->any_denied)
			c->first_denied = d;
		c->any_denied = 1;
		l->denied++;
		return 0;
	}
	if (r->ciphertext_len < PV_TAG_LEN || r->ciphertext_len - PV_TAG_LEN > PV_RECORD_MAX_BYTES)
		return pv_error_set(PV_ECRYPTO, "record %s: ciphertext has an impossible length", r->id);
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		pv_record *nv = realloc(l->v, cap * sizeof(*nv));
		pending_ct *np;
		if (!nv)
			return pv_error_set(PV_ENOMEM, "read: out of memory");
		l->v = nv;
		np = realloc(c->pend, cap * sizeof(*np));
		if (!np)
			return pv_error_set(PV_ENOMEM, "read: out of memory");
		c->pend = np;
		l->cap = cap;
	}
	c->pend[l->n].ct = malloc(r->ciphertext_len);
	if (!c->pend[l->n].ct)
		return pv_error_set(PV_ENOMEM, "read: out of memory");
	memcpy(c->pend[l->n].ct, r->ciphertext, r->ciphertext_len);
	memcpy(c->pend[l->n].nonce, r->nonce, PV_NONCE_LEN);
	c->pend[l->n].ct_len = r->ciphertext_len;
	c->pend[l->n].key_epoch = r->key_epoch;
	out = &l->v[l->n];
	memset(out, 0, sizeof(*out));
	memcpy(out->id, r->id, sizeof(out->id));
	memcpy(out->subject_id, r->subject_id, sizeof(out->subject_id));
	memcpy(out->category, r->category, sizeof(out->category));
	memcpy(out->purpose, r->purpose, sizeof(out->purpose));
	memcpy(out->source, r->source, sizeof(out->source));
	memcpy(out->policy_version, r->policy_version, sizeof(out->policy_version));
	out->collected_at = r->collected_at;
	out->updated_at = r->updated_at;
	out->expires_at = r->expires_at;
	out->len = r->ciphertext_len - PV_TAG_LEN;
	c->plain_total += out->len + 1;
	l->n++;
	return 0;
}

/*
 * Decrypt every pending record into one guarded block taken from the
 * handle's pool (no system call once the pool holds a block large enough).
 * PV_ECRYPTO names the record that does not open.
 */
static int read_decrypt(read_ctx *c)
{
	pv_record_list *l = c->l;
	size_t off = 0;
	int rc;

	if (l->n == 0)
		return 0;
	if ((rc = pv_vault_arena_take(l->arena, c->plain_total, &l->plain)) < 0)
		return rc;
	if ((rc = pv_vault_dek_load(c->v, c->subj->id)) < 0)
		return rc;
	for (size_t i = 0; i < l->n; i++) {
		pv_record *r = &l->v[i];
		const uint8_t *key;

		r->data = (char *)l->plain.p + off;
		rc = pv_vault_record_key(c->v, c->pend[i].key_epoch, c->v->dek, &key);
		if (rc == 0)
			rc = pv_open(key, r->subject_id, r->id, r->category, c->pend[i].nonce, c->pend[i].ct,
				     c->pend[i].ct_len, (uint8_t *)r->data);
		if (rc < 0) {
			pv_vault_dek_wipe(c->v);
			return pv_error_set(PV_ECRYPTO, "record %s: ciphertext does not open (tampered or misplaced)", r->id);
		}
		r->data[r->len] = '\0';
		off += r->len + 1;
	}
	pv_vault_dek_wipe(c->v);
	return 0;
}

/* Append the one audit entry of a read; keeps the current error message when rc_keep < 0. */
static int read_audit(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *purpose,
		      const char *category, const char *outcome)
{
	int rc;

	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_audit_append(v->audit, caller->name, "record.read", subject_id, pv_vault_audit_id(purpose),
			     pv_vault_audit_id(category), outcome);
	return pv_vault_tx_end(v, rc);
}

/* Audit a denied or failed read and return `code` with the message it had before the audit. */
static int read_fail(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *purpose,
		     const char *category, const char *outcome, int code)
{
	char msg[PV_ERRMSG_MAX];
	int rc;

	snprintf(msg, sizeof(msg), "%s", pv_error_last());
	rc = read_audit(v, caller, subject_id, purpose, category, outcome);
	if (rc < 0)
		return rc;
	return pv_error_set(code, "%s", msg);
}

/*
 * Read a subject's records for `purpose` (and `category` when not NULL).
 * Each record is decided against the policy version it was collected under;
 * allowed records are decrypted into guarded memory, denied ones counted.
 * One audit entry "record.read" per call: "allow:<n>" (",denied:<m>" when
 * some were withheld), "deny:<reason>" or "error:<code>". With no record at
 * all the read is decided against the current policy, so an undeclared
 * purpose or a missing grant is reported even for an empty subject.
 * *out is freed with pv_record_list_free(); its data stays valid until then,
 * whatever else the handle does (the list holds its own reference to the
 * handle's pool of guarded blocks, so it may even outlive the handle).
 */
int pv_record_read(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *purpose,
		   const char *category, pv_record_list **out, pv_decision *denied)
{
	pv_subject_info subj;
	read_ctx c;
	char outcome[OUTCOME_MAX + 1];
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "read: expected a vault and an output");
	*out = NULL;
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (!purpose)
		return pv_error_set(PV_EINVAL, "purpose: expected a purpose id");
	rc = pv_vault_subject_load(v, subject_id, &subj);
	if (rc == PV_ENOTFOUND || (rc == 0 && subj.state == PV_SUBJECT_ERASED)) {
		pv_reason why = rc == 0 ? PV_REASON_SUBJECT_ERASED : PV_REASON_SUBJECT_UNKNOWN;
		if (denied) {
			denied->allow = 0;
			denied->reason = why;
		}
		snprintf(outcome, sizeof(outcome), "deny:%s", pv_reason_name(why));
		if (rc == 0)
			pv_error_set(PV_EERASED, "subject %s: erased", subject_id);
		return read_fail(v, caller, subject_id, purpose, category, outcome, rc == 0 ? PV_EERASED : PV_ENOTFOUND);
	}
	if (rc < 0)
		return rc;

	memset(&c, 0, sizeof(c));
	c.v = v;
	c.caller = caller;
	c.subj = &subj;
	c.purpose = purpose;
	c.l = calloc(1, sizeof(*c.l));
	if (!c.l)
		return pv_error_set(PV_ENOMEM, "read: out of memory");
	c.l->arena = v->arena;
	pv_vault_arena_ref(v->arena);
	rc = pv_store_record_each(v->store, subject_id, category, read_cb, &c);
	if (rc == 0 && c.l->n == 0 && !c.any_denied) {
		pv_vault_decide_any(pv_vault_policy(v), caller, &subj, category, purpose, &c.first_denied);
		c.any_denied = !c.first_denied.allow;
	}
	if (rc == 0 && c.l->n == 0 && c.any_denied) {
		if (denied)
			*denied = c.first_denied;
		snprintf(outcome, sizeof(outcome), "deny:%s", pv_reason_name(c.first_denied.reason));
		pv_error_set(PV_EDENIED, "read: denied (%s)", pv_reason_name(c.first_denied.reason));
		rc = read_fail(v, caller, subject_id, purpose, category, outcome, PV_EDENIED);
		goto out;
	}
	if (rc == 0)
		rc = read_decrypt(&c);
	if (rc < 0) {
		if (rc == PV_ECRYPTO || rc == PV_ETAMPER) {
			snprintf(outcome, sizeof(outcome), "error:%s", pv_error_name(rc));
			rc = read_fail(v, caller, subject_id, purpose, category, outcome, rc);
		}
		goto out;
	}
	if (c.l->denied)
		snprintf(outcome, sizeof(outcome), "allow:%zu,denied:%zu", c.l->n, c.l->denied);
	else
		snprintf(outcome, sizeof(outcome), "allow:%zu", c.l->n);
	rc = read_audit(v, caller, subject_id, purpose, category, outcome);
out:
	if (c.pend) {
		for (size_t i = 0; i < c.l->n; i++)
			free(c.pend[i].ct);
		free(c.pend);
	}
	if (rc < 0) {
		pv_record_list_free(c.l);
		return rc;
	}
	*out = c.l;
	return 0;
}

size_t pv_record_list_count(const pv_record_list *l)
{
	return l ? l->n : 0;
}

const pv_record *pv_record_list_at(const pv_record_list *l, size_t i)
{
	return l && i < l->n ? &l->v[i] : NULL;
}

size_t pv_record_list_denied(const pv_record_list *l)
{
	return l ? l->denied : 0;
}

void pv_record_list_free(pv_record_list *l)
{
	if (!l)
		return;
	pv_vault_arena_give(l->arena, &l->plain);   /* wipes the plaintexts */
	pv_vault_arena_unref(l->arena);
	free(l->v);
	free(l);
}

/* ---- rectify ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key as the audit may show it: schema-like names only, anything else as "*". */
static const char *key_shown(const char *k)
{
	if (!*k)
		return "*";
	for (const char *s = k; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'
		      || *s == '-' || *s == '.'))
			return "*";
	return k;
}

/*
 * The outcome "fields:<k1>,<k2>,..." of the top-level keys added, removed
 * or changed between `old` and `new`, sorted; cut with "..." where the
 * audit's outcome field ends. Keys only, never values.
 */
static int fields_outcome(char out[OUTCOME_MAX + 1], json_t *old, json_t *new)
{
	const char **keys;
	const char *k;
	json_t *val;
	size_t n = 0, len, kept = 0;

	keys = malloc((json_object_size(old) + json_object_size(new) + 1) * sizeof(*keys));
	if (!keys)
		return pv_error_set(PV_ENOMEM, "rectify: out of memory");
	json_object_foreach(new, k, val) {
		json_t *o = json_object_get(old, k);
		if (!o || !json_equal(o, val))
			keys[n++] = key_shown(k);
	}
	json_object_foreach(old, k, val)
		if (!json_object_get(new, k))
			keys[n++] = key_shown(k);
	qsort(keys, n, sizeof(*keys), cmp_str);
	len = (size_t)snprintf(out, OUTCOME_MAX + 1, "fields:");
	for (size_t i = 0; i < n; i++) {
		size_t kl = strlen(keys[i]);
		int last = i + 1 == n;
		if (i > 0 && strcmp(keys[i], keys[i - 1]) == 0)
			continue;   /* several "*" */
		if (len + (kept ? 1 : 0) + kl + (last ? 0 : 4) > OUTCOME_MAX) {
			if (len + (kept ? 4 : 3) <= OUTCOME_MAX)
				len += (size_t)snprintf(out + len, OUTCOME_MAX + 1 - len, kept ? ",..." : "...");
			break;
		}
		len += (size_t)snprintf(out + len, OUTCOME_MAX + 1 - len, "%s%s", kept ? "," : "", keys[i]);
		kept++;
	}
	free(keys);
	return 0;
}

/*
 * Replace a record's data with a new JSON object. A service needs a grant
 * for the record's purpose and category. Audited as "record.rectify" with the
 * changed top-level keys, in one transaction with the update.
 */
int pv_record_rectify(pv_vault *v, const pv_caller *caller, const char *subject_id, const char *record_id,
		      const char *data, size_t len)
{
	pv_subject_info subj;
	pv_store_record r;
	uint8_t *buf = NULL, *ct = NULL, *pt = NULL;
	pv_vault_arena_block ptb = { NULL, 0, NULL, 0 };
	json_t *new = NULL, *old = NULL;
	char outcome[OUTCOME_MAX + 1];
	const uint8_t *key;
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "rectify: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if (!pv_uuid_valid(record_id))
		return pv_error_set(PV_EINVAL, "record_id: expected a lower-case UUID");
	if ((rc = parse_data(&new, data, len)) < 0)
		return rc;
	if ((rc = pv_vault_subject_load(v, subject_id, &subj)) < 0)
		goto out;
	if (subj.state == PV_SUBJECT_ERASED) {
		rc = pv_error_set(PV_EERASED, "subject %s: erased", subject_id);
		goto out;
	}
	rc = pv_store_record_get(v->store, subject_id, record_id, &r, &buf);
	if (rc < 0) {
		if (rc == PV_ENOTFOUND)
			rc = pv_error_set(rc, "record %s: not found for subject %s", record_id, subject_id);
		goto out;
	}
	if (!pv_vault_caller_granted(caller, r.purpose, r.category)) {
		rc = pv_error_set(PV_EDENIED, "caller: no grant for purpose %s and category %s", r.purpose, r.category);
		goto out;
	}
	if (r.ciphertext_len < PV_TAG_LEN) {
		rc = pv_error_set(PV_ECRYPTO, "record %s: ciphertext has an impossible length", record_id);
		goto out;
	}
	if ((rc = pv_vault_arena_take(v->arena, r.ciphertext_len - PV_TAG_LEN + 1, &ptb)) < 0)
		goto out;
	pt = ptb.p;
	ct = malloc(len + PV_TAG_LEN);
	if (!ct) {
		rc = pv_error_set(PV_ENOMEM, "rectify: out of memory");
		goto out;
	}
	if ((rc = pv_vault_dek_load(v, subject_id)) < 0)
		goto out;
	/* the same key again: the record keeps its retention epoch */
	if ((rc = pv_vault_record_key(v, r.key_epoch, v->dek, &key)) == 0)
		rc = pv_open(key, subject_id, record_id, r.category, r.nonce, buf, r.ciphertext_len, pt);
	if (rc < 0) {
		pv_vault_dek_wipe(v);
		rc = pv_error_set(PV_ECRYPTO, "record %s: ciphertext does not open (tampered or misplaced)", record_id);
		goto out;
	}
	rc = pv_seal(key, subject_id, record_id, r.category, (const uint8_t *)data, len, r.nonce, ct);
	pv_vault_dek_wipe(v);
	if (rc < 0)
		goto out;
	old = json_loadb((const char *)pt, r.ciphertext_len - PV_TAG_LEN, 0, NULL);
	if (!old || !json_is_object(old)) {
		json_decref(old);
		old = json_object();
	}
	if ((rc = fields_outcome(outcome, old, new)) < 0)
		goto out;
	r.ciphertext = ct;
	r.ciphertext_len = len + PV_TAG_LEN;
	r.updated_at = pv_clock_now();
	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto out;
	rc = pv_store_record_update(v->store, &r);
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, "record.rectify", subject_id, r.purpose, r.category, outcome);
	rc = pv_vault_tx_end(v, rc);
out:
	pv_vault_dek_wipe(v);
	json_decref(new);
	json_decref(old);
	pv_vault_arena_give(v->arena, &ptb);   /* wipes the old plaintext */
	free(ct);
	free(buf);
	return rc;
}

int pv_vault_record_reseal(pv_vault *v, const char *subject_id, const char *record_id)
{
	pv_store_record r;
	const uint8_t *key;
	uint8_t *buf = NULL, *pt = NULL, *ct = NULL;
	size_t len;
	int rc;

	if ((rc = pv_store_record_get(v->store, subject_id, record_id, &r, &buf)) < 0)
		return rc;
	if (r.key_epoch == 0)
		goto out;   /* already under the data key alone */
	if (r.ciphertext_len < PV_TAG_LEN) {
		rc = pv_error_set(PV_ECRYPTO, "record %s: ciphertext has an impossible length", record_id);
		goto out;
	}
	len = r.ciphertext_len - PV_TAG_LEN;
	pt = pv_secret_alloc(len + 1);
	ct = malloc(r.ciphertext_len);
	if (!pt || !ct) {
		rc = pv_error_set(PV_ENOMEM, "reseal: out of memory");
		goto out;
	}
	if ((rc = pv_vault_dek_load(v, subject_id)) < 0)
		goto out;
	if ((rc = pv_vault_record_key(v, r.key_epoch, v->dek, &key)) == 0)
		rc = pv_open(key, subject_id, record_id, r.category, r.nonce, buf, r.ciphertext_len, pt);
	if (rc == 0)
		rc = pv_seal(v->dek, subject_id, record_id, r.category, pt, len, r.nonce, ct);
	pv_vault_dek_wipe(v);
	if (rc < 0)
		goto out;
	r.ciphertext = ct;
	r.key_epoch = 0;
	rc = pv_store_record_update(v->store, &r);   /* updated_at stays: the data did not change */
out:
	pv_secret_free(pt);
	free(ct);
	free(buf);
	return rc;
}
