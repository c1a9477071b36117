/*
 * Subjects: creation with a data key of their own, lookup through keyed
 * blind indexes, metadata, and erasure by destroying the data key.
 *
 * Identifier values are sealed with the subject's data key using
 * record_id = "ident:<kind>" and category = <kind> as additional data (the
 * convention src/store/store.h documents), so a sealed identifier cannot be
 * moved to another subject or kind.
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"
#include "consent/ledger_internal.h"

#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDENT_RECORD_PREFIX "ident:"

/* The current UTC year from the one clock. */
static int current_year(void)
{
	time_t t = (time_t)pv_clock_now();
	struct tm tm;

	gmtime_r(&t, &tm);
	return tm.tm_year + 1900;
}

/*
 * Validate an identifier's kind and value size (never looking at the value's
 * content). `field` names it in messages: "identifiers[2]" or "identifier".
 */
static int ident_check(const pv_identifier *id, const char *field)
{
	if (!id->kind || !pv_id_valid(id->kind, PV_IDENT_KIND_MAX))
		return pv_error_set(PV_EINVAL, "%s.kind: expected ^[a-z][a-z0-9_]{0,31}$", field);
	if (!id->value)
		return pv_error_set(PV_EINVAL, "%s.value: expected a value for kind %s", field, id->kind);
	if (strnlen(id->value, PV_IDENT_VALUE_MAX + 1) > PV_IDENT_VALUE_MAX)
		return pv_error_set(PV_ELIMIT, "%s.value: %s longer than %d bytes", field, id->kind, PV_IDENT_VALUE_MAX);
	return 0;
}

/*
 * Normalize `value` of `kind` into the guarded buffer `norm` (PV_IDENT_VALUE_MAX + 1
 * bytes) and compute its blind index.
 */
static int ident_index(pv_vault *v, const char *kind, const char *value, char *norm, uint8_t bi[PV_BLIND_INDEX_LEN])
{
	int rc = pv_identifier_normalize(kind, value, norm, PV_IDENT_VALUE_MAX + 1);

	if (rc < 0)
		return rc;
	return pv_blind_index(v->keys, kind, norm, bi);
}

/* Check the spec of a new subject; fills *regime. */
static int spec_check(pv_vault *v, const pv_subject_spec *spec, pv_regime *regime)
{
	const pv_policy *p = pv_vault_policy(v);
	int rc;

	if (spec->nidentifiers > PV_SUBJECT_MAX_IDENTS)
		return pv_error_set(PV_ELIMIT, "identifiers: more than %d", PV_SUBJECT_MAX_IDENTS);
	if (spec->nidentifiers && !spec->identifiers)
		return pv_error_set(PV_EINVAL, "identifiers: %zu announced, none given", spec->nidentifiers);
	for (size_t i = 0; i < spec->nidentifiers; i++) {
		char field[48];
		snprintf(field, sizeof(field), "identifiers[%zu]", i);
		if ((rc = ident_check(&spec->identifiers[i], field)) < 0)
			return rc;
	}
	if (spec->regime) {
		if (pv_regime_parse(regime, spec->regime) < 0)
			return pv_error_set(PV_EINVAL, "regime: expected gdpr, ccpa or lgpd");
		if (!pv_policy_regime_enabled(p, *regime))
			return pv_error_set(PV_EPOLICY, "regime: %s is not in force in the current policy",
					    pv_regime_name(*regime));
	} else {
		*regime = pv_policy_default_regime(p);
	}
	if (spec->birth_year != 0 && (spec->birth_year < 1900 || spec->birth_year > current_year()))
		return pv_error_set(PV_EINVAL, "birth_year: expected 0 (unknown) or 1900..%d", current_year());
	return 0;
}

/* Seal and insert identifier i (v->dek holds the subject's data key). */
static int ident_store(pv_vault *v, const char *subject_id, const pv_identifier *id, char *norm,
		       const uint8_t bi[PV_BLIND_INDEX_LEN])
{
	pv_store_identifier row;
	char ad_id[sizeof(IDENT_RECORD_PREFIX) + PV_IDENT_KIND_MAX];
	uint8_t *ct = NULL;
	size_t len;
	int rc;

	if ((rc = pv_identifier_normalize(id->kind, id->value, norm, PV_IDENT_VALUE_MAX + 1)) < 0)
		return rc;
	len = strlen(norm);
	ct = malloc(len + PV_TAG_LEN);
	if (!ct)
		return pv_error_set(PV_ENOMEM, "identifiers: out of memory");
	memset(&row, 0, sizeof(row));
	snprintf(row.subject_id, sizeof(row.subject_id), "%s", subject_id);
	snprintf(row.kind, sizeof(row.kind), "%s", id->kind);
	memcpy(row.blind_index, bi, PV_BLIND_INDEX_LEN);
	snprintf(ad_id, sizeof(ad_id), IDENT_RECORD_PREFIX "%s", id->kind);
	rc = pv_seal(v->dek, subject_id, ad_id, id->kind, (const uint8_t *)norm, len, row.nonce, ct);
	sodium_memzero(norm, len);
	if (rc == 0) {
		row.ciphertext = ct;
		row.ciphertext_len = len + PV_TAG_LEN;
		rc = pv_store_identifier_insert(v->store, &row);
		if (rc == PV_EEXISTS)
			rc = pv_error_set(PV_EEXISTS, "identifiers: this %s belongs to another subject", id->kind);
	}
	free(ct);
	return rc;
}

/*
 * Create a subject: validate the spec, index every identifier (PV_EEXISTS
 * naming the kind if one is taken), then in one transaction (or the open
 * batch) insert the subject, its wrapped data key, its sealed identifiers and
 * the audit entry "subject.create". out_id gets the new id.
 */
int pv_subject_create(pv_vault *v, const pv_caller *caller, const pv_subject_spec *spec, char out_id[PV_ID_LEN + 1])
{
	uint8_t(*bis)[PV_BLIND_INDEX_LEN] = NULL;
	char *norm = NULL, other[PV_ID_LEN + 1];
	pv_store_subject subj;
	pv_store_key key;
	pv_regime regime;
	size_t n;
	int rc;

	if (!v || !spec || !out_id)
		return pv_error_set(PV_EINVAL, "subject: expected a vault, a spec and an output");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if ((rc = spec_check(v, spec, &regime)) < 0)
		return rc;
	n = spec->nidentifiers;
	norm = v->norm;
	bis = calloc(n ? n : 1, sizeof(*bis));
	if (!bis) {
		rc = pv_error_set(PV_ENOMEM, "subject: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const pv_identifier *id = &spec->identifiers[i];
		if ((rc = ident_index(v, id->kind, id->value, norm, bis[i])) < 0)
			goto out;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(spec->identifiers[j].kind, id->kind) == 0
			    && sodium_memcmp(bis[j], bis[i], PV_BLIND_INDEX_LEN) == 0) {
				rc = pv_error_set(PV_EINVAL, "identifiers[%zu]: repeats identifiers[%zu] (%s)", i, j,
						  id->kind);
				goto out;
			}
		}
		rc = pv_store_identifier_find(v->store, id->kind, bis[i], other);
		if (rc == 0) {
			rc = pv_error_set(PV_EEXISTS, "identifiers[%zu]: this %s belongs to another subject", i, id->kind);
			goto out;
		}
		if (rc != PV_ENOTFOUND)
			goto out;
	}

	memset(&subj, 0, sizeof(subj));
	pv_uuid_new(subj.id);
	subj.created_at = pv_clock_now();
	subj.regime = (int)regime;
	subj.birth_year = spec->birth_year;
	subj.parental_consent = spec->parental_consent ? 1 : 0;
	subj.state = PV_SUBJECT_ACTIVE;
	memset(&key, 0, sizeof(key));
	memcpy(key.subject_id, subj.id, sizeof(key.subject_id));
	key.kek_version = pv_keyring_current_version(v->keys);
	pv_dek_generate(v->dek);
	if ((rc = pv_dek_wrap(v->keys, key.kek_version, subj.id, v->dek, key.wrapped)) < 0)
		goto out;

	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto out;
	rc = pv_store_subject_insert(v->store, &subj);
	if (rc == 0)
		rc = pv_store_key_insert(v->store, &key);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = ident_store(v, subj.id, &spec->identifiers[i], norm, bis[i]);
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, "subject.create", subj.id, NULL, NULL, "ok");
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0) {
		pv_subject_info info;
		memcpy(out_id, subj.id, PV_ID_LEN + 1);
		/* inside a batch, the puts that usually follow need neither the row nor an unwrap */
		memset(&info, 0, sizeof(info));
		memcpy(info.id, subj.id, sizeof(info.id));
		info.created_at = subj.created_at;
		info.regime = regime;
		info.birth_year = subj.birth_year;
		info.parental_consent = subj.parental_consent;
		info.state = PV_SUBJECT_ACTIVE;
		pv_vault_put_cache_set(v, &info, v->dek);
	}
out:
	pv_vault_dek_wipe(v);
	sodium_memzero(v->norm, PV_IDENT_VALUE_MAX + 1);
	free(bis);
	return rc;
}

/*
 * Find a subject by identifier: normalize, blind-index, look up. Audited as
 * "subject.find" (outcome ok / notfound) without the identifier's value.
 * Auditors may not look people up by identifier (PV_EDENIED).
 */
int pv_subject_find(pv_vault *v, const pv_caller *caller, const char *kind, const char *value, char out_id[PV_ID_LEN + 1])
{
	pv_identifier id = { kind, value };
	uint8_t bi[PV_BLIND_INDEX_LEN];
	char *norm = NULL, found[PV_ID_LEN + 1];
	int rc, lookup;

	if (!v || !out_id)
		return pv_error_set(PV_EINVAL, "subject: expected a vault and an output");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (caller->role == PV_ROLE_AUDITOR)
		return pv_error_set(PV_EDENIED, "caller: role auditor may not look subjects up by identifier");
	if ((rc = ident_check(&id, "identifier")) < 0)
		return rc;
	norm = v->norm;
	rc = ident_index(v, kind, value, norm, bi);
	sodium_memzero(norm, PV_IDENT_VALUE_MAX + 1);
	if (rc < 0)
		return rc;
	lookup = pv_store_identifier_find(v->store, kind, bi, found);
	if (lookup < 0 && lookup != PV_ENOTFOUND)
		return lookup;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_audit_append(v->audit, caller->name, "subject.find", lookup == 0 ? found : NULL, NULL, NULL,
			     lookup == 0 ? "ok" : "notfound");
	if ((rc = pv_vault_tx_end(v, rc)) < 0)
		return rc;
	if (lookup == PV_ENOTFOUND)
		return pv_error_set(PV_ENOTFOUND, "subject: no subject with this %s", kind);
	memcpy(out_id, found, PV_ID_LEN + 1);
	return 0;
}

/* A subject's metadata; any caller (auditors included). Audited as "subject.get". */
int pv_subject_get(pv_vault *v, const pv_caller *caller, const char *subject_id, pv_subject_info *out)
{
	int rc, found;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "subject: expected a vault and an output");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	found = pv_vault_subject_load(v, subject_id, out);
	if (found < 0 && found != PV_ENOTFOUND)
		return found;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_audit_append(v->audit, caller->name, "subject.get", subject_id, NULL, NULL,
			     found == 0 ? "ok" : "notfound");
	if ((rc = pv_vault_tx_end(v, rc)) < 0)
		return rc;
	if (found < 0)
		return pv_error_set(PV_ENOTFOUND, "subject %s: not found", subject_id);
	return 0;
}

/* ---- categories -------------------------------------------------------- */

typedef struct {
	pv_category_count *v;
	size_t n, cap;
} count_list;

static int count_cb(const char *category, size_t count, void *payload)
{
	count_list *l = payload;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		pv_category_count *n = realloc(l->v, cap * sizeof(*n));
		if (!n)
			return pv_error_set(PV_ENOMEM, "categories: out of memory");
		l->v = n;
		l->cap = cap;
	}
	snprintf(l->v[l->n].category, sizeof(l->v[0].category), "%s", category);
	l->v[l->n].count = count;
	l->n++;
	return 0;
}

/* Categories held for a subject with record counts; any caller. *out freed with free(). */
int pv_subject_categories(pv_vault *v, const pv_caller *caller, const char *subject_id,
			  pv_category_count **out, size_t *count)
{
	pv_subject_info info;
	count_list l = { 0 };
	int rc;

	if (!v || !out || !count)
		return pv_error_set(PV_EINVAL, "categories: expected a vault and outputs");
	*out = NULL;
	*count = 0;
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if ((rc = pv_vault_subject_load(v, subject_id, &info)) < 0)
		return rc;
	if ((rc = pv_store_record_count_categories(v->store, subject_id, count_cb, &l)) < 0)
		goto fail;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto fail;
	rc = pv_audit_append(v->audit, caller->name, "subject.categories", subject_id, NULL, NULL, "ok");
	if ((rc = pv_vault_tx_end(v, rc)) < 0)
		goto fail;
	*out = l.v;
	*count = l.n;
	return 0;
fail:
	free(l.v);
	return rc;
}

/* ---- erasure ----------------------------------------------------------- */

typedef struct {
	char kind[PV_IDENT_KIND_MAX + 1];
	uint8_t bi[PV_BLIND_INDEX_LEN];
} ident_ref;

typedef struct {
	ident_ref *v;
	size_t n, cap;
} ident_list;

static int ident_cb(const pv_store_identifier *id, void *payload)
{
	ident_list *l = payload;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		ident_ref *n = realloc(l->v, cap * sizeof(*n));
		if (!n)
			return pv_error_set(PV_ENOMEM, "erase: out of memory");
		l->v = n;
		l->cap = cap;
	}
	snprintf(l->v[l->n].kind, sizeof(l->v[0].kind), "%s", id->kind);
	memcpy(l->v[l->n].bi, id->blind_index, PV_BLIND_INDEX_LEN);
	l->n++;
	return 0;
}

/*
 * Erase a subject in one transaction, in this order: delete the wrapped data
 * key (from here on the records are unreadable), read the identifiers' blind
 * indexes, delete records and identifiers, add suppression entries, delete
 * the subject's consent ledger rows (events, signals, state, deadlines), set the
 * subject to ERASED (a tombstone without birth year), audit "subject.erase"
 * with outcome "ok:records=<n>". PV_EERASED if already erased.
 */
int pv_subject_erase(pv_vault *v, const pv_caller *caller, const char *subject_id)
{
	return pv_vault_subject_erase(v, caller, subject_id, 1);
}

/*
 * pv_subject_erase, with the record rows deleted (delete_rows) or left to the
 * retention purge: the sweep erases subjects whose every record is sealed
 * under a destroyed retention epoch, whose rows are unreadable already.
 */
int pv_vault_subject_erase(pv_vault *v, const pv_caller *caller, const char *subject_id, int delete_rows)
{
	pv_store_subject row;
	ident_list l = { 0 };
	size_t deleted = 0;
	int64_t live = 0;
	char outcome[64];
	pv_time now = pv_clock_now();
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "erase: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	pv_vault_put_cache_wipe(v);   /* whichever subject it holds: its key may be the one going away */
	if (!pv_uuid_valid(subject_id))
		return pv_error_set(PV_EINVAL, "subject_id: expected a lower-case UUID");
	/* the row alone (its state): the consent view a subject load adds is not needed here */
	if ((rc = pv_store_subject_get(v->store, subject_id, &row)) < 0)
		return rc == PV_ENOTFOUND ? pv_error_set(rc, "subject %s: not found", subject_id) : rc;
	if (row.state == PV_SUBJECT_ERASED)
		return pv_error_set(PV_EERASED, "subject %s: already erased", subject_id);

	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_store_key_delete(v->store, subject_id);
	if (rc == PV_ENOTFOUND)
		rc = 0;   /* a subject whose key is already gone is still erased to the end */
	if (rc == 0)
		rc = pv_store_identifier_each(v->store, subject_id, ident_cb, &l);
	if (rc == 0 && delete_rows)   /* the audit counts readable records, not rows of destroyed epochs */
		rc = pv_store_record_count_subjects(v->store, (const char (*)[PV_ID_LEN + 1])row.id, 1, &live);
	if (rc == 0 && delete_rows)
		rc = pv_store_record_delete_subject(v->store, subject_id, &deleted);
	if (rc == 0)
		rc = pv_store_identifier_delete_subject(v->store, subject_id);
	for (size_t i = 0; rc == 0 && i < l.n; i++)
		rc = pv_store_suppression_insert(v->store, l.v[i].kind, l.v[i].bi, "erasure", now);
	if (rc == 0)   /* the consent ledger's rows of the subject (src/consent) */
		rc = pv_consent_erase_rows(v->store, subject_id, NULL);
	if (rc == 0)
		rc = pv_store_subject_set_state(v->store, subject_id, PV_SUBJECT_ERASED, now);
	snprintf(outcome, sizeof(outcome), "ok:records=%lld", (long long)live);
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, "subject.erase", subject_id, NULL, NULL, outcome);
	rc = pv_vault_tx_end(v, rc);
	free(l.v);
	return rc;
}
