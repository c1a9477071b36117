/*
 * The PostgreSQL backend's row operations: bind, run the prepared statement
 * (postgres.c), copy out, clear. Arguments were checked by store.c. Results
 * are whole PGresults, so a visitor callback may call back into the store;
 * walks that can be long (the audit chain, keys to rewrap) fetch in pages.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/postgres_internal.h"

/* Rows fetched per page by the walks over whole tables. */
#define PG_PAGE 1000

/* A statement that changes rows; PV_ENOTFOUND (naming `what`) if it changed none. */
static int run_changed(pv_pg *q, int id, const pg_params *p, const char *what)
{
	int64_t n = 0;
	int rc = pg_exec_id(q, id, p, &n);

	if (rc == 0 && n == 0)
		return pv_error_set(PV_ENOTFOUND, "store: %s: no such %s", pg_what(id), what);
	return rc;
}

/* An INSERT ... ON CONFLICT DO NOTHING: PV_EEXISTS when the key was taken. */
static int run_insert(pv_pg *q, int id, const pg_params *p)
{
	int64_t n = 0;
	int rc = pg_exec_id(q, id, p, &n);

	if (rc == 0 && n == 0)
		return pv_error_set(PV_EEXISTS, "store: %s: key already exists", pg_what(id));
	return rc;
}

/* Run a query expected to return at most one row; *out NULL (and 0) when it returned none. */
static int query_one(pv_pg *q, int id, const pg_params *p, PGresult **out)
{
	int rc = pg_run(q, id, p, out);

	if (rc == 0 && PQntuples(*out) == 0) {
		PQclear(*out);
		*out = NULL;
	}
	return rc;
}

/* ---- meta ----------------------------------------------------------------------------------- */

int pg_meta_get(pv_store *s, const char *key, char *out, size_t size)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, key);
	if ((rc = query_one(PQ(s), PG_META_GET, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read meta: no key %s", key);
	rc = pg_get_text(r, 0, 0, out, size) == 0 ? 0 :
	     pv_error_set(PV_EINVAL, "store: read meta: value of %s longer than the buffer", key);
	PQclear(r);
	return rc;
}

int pg_meta_set(pv_store *s, const char *key, const char *value)
{
	pg_params p = { 0 };

	pg_p_text(&p, key);
	pg_p_text(&p, value);
	return pg_exec_id(PQ(s), PG_META_SET, &p, NULL);
}

/* ---- policy versions ------------------------------------------------------------------------ */

int pg_policy_insert(pv_store *s, const char *hash, const char *yaml, size_t len,
		     pv_time loaded_at, pv_time effective_at)
{
	pg_params p = { 0 };

	if (len > INT32_MAX)
		return pv_error_set(PV_ELIMIT, "store: insert into policy_versions: yaml larger than 2 GiB");
	pg_p_text(&p, hash);
	pg_p_textn(&p, yaml, len);
	pg_p_int(&p, loaded_at);
	pg_p_int(&p, effective_at);
	return pg_exec_id(PQ(s), PG_POLICY_INSERT, &p, NULL);   /* existing hash: no change */
}

int pg_policy_get(pv_store *s, const char *hash, char **yaml, size_t *len)
{
	pg_params p = { 0 };
	PGresult *r;
	size_t n;
	int rc;

	pg_p_text(&p, hash);
	if ((rc = query_one(PQ(s), PG_POLICY_GET, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read policy_versions: no policy version %s", hash);
	n = (size_t)PQgetlength(r, 0, 0);
	*yaml = malloc(n + 1);
	if (*yaml == NULL) {
		PQclear(r);
		return pv_error_set(PV_ENOMEM, "store: read policy_versions: out of memory");
	}
	memcpy(*yaml, PQgetvalue(r, 0, 0), n);
	(*yaml)[n] = '\0';
	*len = n;
	PQclear(r);
	return 0;
}

/* ---- subjects ------------------------------------------------------------------------------- */

int pg_subject_insert(pv_store *s, const pv_store_subject *subj)
{
	pg_params p = { 0 };

	pg_p_text(&p, subj->id);
	pg_p_int(&p, subj->created_at);
	pg_p_int(&p, subj->regime);
	pg_p_int(&p, subj->birth_year);
	pg_p_int(&p, subj->parental_consent);
	pg_p_int(&p, subj->state);
	if (subj->erased_at == 0)
		pg_p_null(&p);
	else
		pg_p_int(&p, subj->erased_at);
	return run_insert(PQ(s), PG_SUBJECT_INSERT, &p);
}

int pg_subject_get(pv_store *s, const char *id, pv_store_subject *out)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, id);
	if ((rc = query_one(PQ(s), PG_SUBJECT_GET, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read subjects: no subject %s", id);
	memset(out, 0, sizeof(*out));
	if (pg_get_text(r, 0, 0, out->id, sizeof(out->id)) != 0) {
		rc = pg_malformed(PG_SUBJECT_GET, "id");
	} else {
		out->created_at = pg_get_int(r, 0, 1);
		out->regime = (int)pg_get_int(r, 0, 2);
		out->birth_year = (int)pg_get_int(r, 0, 3);
		out->parental_consent = (int)pg_get_int(r, 0, 4);
		out->state = (int)pg_get_int(r, 0, 5);
		out->erased_at = pg_get_int(r, 0, 6);   /* NULL reads as 0 */
	}
	PQclear(r);
	return rc;
}

int pg_subject_set_state(pv_store *s, const char *id, int state, pv_time at)
{
	pg_params p = { 0 };

	pg_p_text(&p, id);
	pg_p_int(&p, state);
	pg_p_int(&p, at);
	pg_p_int(&p, state == PV_SUBJECT_ERASED);
	p.fmt[3] = 0;
	p.val[3] = state == PV_SUBJECT_ERASED ? "true" : "false";
	return run_changed(PQ(s), PG_SUBJECT_SET_STATE, &p, "subject");
}

/* ---- identifiers ---------------------------------------------------------------------------- */

int pg_identifier_insert(pv_store *s, const pv_store_identifier *id)
{
	pg_params p = { 0 };

	pg_p_text(&p, id->kind);
	pg_p_blob(&p, id->blind_index, PV_BLIND_INDEX_LEN);
	pg_p_text(&p, id->subject_id);
	pg_p_blob(&p, id->nonce, PV_NONCE_LEN);
	pg_p_blob(&p, id->ciphertext, id->ciphertext_len);
	return run_insert(PQ(s), PG_IDENT_INSERT, &p);
}

int pg_identifier_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
		       char out_subject[PV_ID_LEN + 1])
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, kind);
	pg_p_blob(&p, bi, PV_BLIND_INDEX_LEN);
	if ((rc = query_one(PQ(s), PG_IDENT_FIND, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read identifiers: no %s identifier with that blind index",
				    kind);
	rc = pg_get_text(r, 0, 0, out_subject, PV_ID_LEN + 1) == 0 ? 0 :
	     pg_malformed(PG_IDENT_FIND, "subject_id");
	PQclear(r);
	return rc;
}

int pg_identifier_each(pv_store *s, const char *subject_id,
		       int (*cb)(const pv_store_identifier *id, void *payload), void *payload)
{
	pg_params p = { 0 };
	pv_store_identifier row;
	PGresult *r;
	int rc, i;

	pg_p_text(&p, subject_id);
	if ((rc = pg_run(PQ(s), PG_IDENT_EACH, &p, &r)) != 0)
		return rc;
	memset(&row, 0, sizeof(row));
	memcpy(row.subject_id, subject_id, strlen(subject_id) + 1);
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		if (pg_get_text(r, i, 0, row.kind, sizeof(row.kind)) != 0 ||
		    pg_get_blob(r, i, 1, row.blind_index, PV_BLIND_INDEX_LEN) != 0 ||
		    pg_get_blob(r, i, 2, row.nonce, PV_NONCE_LEN) != 0) {
			rc = pg_malformed(PG_IDENT_EACH, "kind, blind_index or nonce");
			break;
		}
		row.ciphertext = (const uint8_t *)PQgetvalue(r, i, 3);
		row.ciphertext_len = (size_t)PQgetlength(r, i, 3);
		rc = cb(&row, payload);
	}
	PQclear(r);
	return rc;
}

int pg_identifier_delete_subject(pv_store *s, const char *subject_id)
{
	pg_params p = { 0 };

	pg_p_text(&p, subject_id);
	return pg_exec_id(PQ(s), PG_IDENT_DELETE, &p, NULL);
}

/* ---- subject keys --------------------------------------------------------------------------- */

static void key_params(pg_params *p, const pv_store_key *k)
{
	pg_p_text(p, k->subject_id);
	pg_p_int(p, k->kek_version);
	pg_p_blob(p, k->wrapped, PV_WRAPPED_DEK_LEN);
}

int pg_key_insert(pv_store *s, const pv_store_key *k)
{
	pg_params p = { 0 };

	key_params(&p, k);
	return run_insert(PQ(s), PG_KEY_INSERT, &p);
}

int pg_key_update(pv_store *s, const pv_store_key *k)
{
	pg_params p = { 0 };

	key_params(&p, k);
	return run_changed(PQ(s), PG_KEY_UPDATE, &p, "subject key");
}

int pg_key_get(pv_store *s, const char *subject_id, pv_store_key *out)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, subject_id);
	if ((rc = query_one(PQ(s), PG_KEY_GET, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read subject_keys: no key for subject %s", subject_id);
	memcpy(out->subject_id, subject_id, strlen(subject_id) + 1);
	out->kek_version = (uint32_t)pg_get_int(r, 0, 0);
	rc = pg_get_blob(r, 0, 1, out->wrapped, PV_WRAPPED_DEK_LEN) == 0 ? 0 :
	     pg_malformed(PG_KEY_GET, "wrapped");
	PQclear(r);
	return rc;
}

int pg_key_delete(pv_store *s, const char *subject_id)
{
	pg_params p = { 0 };

	pg_p_text(&p, subject_id);
	return run_changed(PQ(s), PG_KEY_DELETE, &p, "subject key");
}

/* In pages ordered by subject_id; the callback may update the key it is given (rotation). */
int pg_key_each_other_version(pv_store *s, uint32_t except_version, size_t limit,
			      int (*cb)(const pv_store_key *k, void *payload), void *payload)
{
	char after[PV_ID_LEN + 1] = "";
	size_t seen = 0;
	pv_store_key row;
	int rc = 0;

	for (;;) {
		size_t want = limit == 0 || limit - seen > PG_PAGE ? PG_PAGE : limit - seen;
		pg_params p = { 0 };
		PGresult *r;
		int i, n;

		pg_p_int(&p, except_version);
		pg_p_text(&p, after);
		pg_p_int(&p, (int64_t)want);
		if ((rc = pg_run(PQ(s), PG_KEY_EACH, &p, &r)) != 0)
			return rc;
		n = PQntuples(r);
		for (i = 0; i < n && rc == 0; i++) {
			if (pg_get_text(r, i, 0, row.subject_id, sizeof(row.subject_id)) != 0 ||
			    pg_get_blob(r, i, 2, row.wrapped, PV_WRAPPED_DEK_LEN) != 0) {
				rc = pg_malformed(PG_KEY_EACH, "subject_id or wrapped");
				break;
			}
			row.kek_version = (uint32_t)pg_get_int(r, i, 1);
			memcpy(after, row.subject_id, sizeof(after));
			rc = cb(&row, payload);
		}
		PQclear(r);
		seen += (size_t)n;
		if (rc != 0 || (size_t)n < want || (limit != 0 && seen >= limit))
			return rc;
	}
}

/* ---- records -------------------------------------------------------------------------------- */

int pg_record_insert(pv_store *s, const pv_store_record *r)
{
	pg_params p = { 0 };

	pg_p_text(&p, r->subject_id);
	pg_p_text(&p, r->id);
	pg_p_text(&p, r->category);
	pg_p_text(&p, r->purpose);
	pg_p_text(&p, r->source);
	pg_p_text(&p, r->policy_version);
	pg_p_int(&p, r->collected_at);
	pg_p_int(&p, r->updated_at);
	if (r->expires_at == INT64_MAX)
		pg_p_null(&p);
	else
		pg_p_int(&p, r->expires_at);
	pg_p_blob(&p, r->nonce, PV_NONCE_LEN);
	pg_p_blob(&p, r->ciphertext, r->ciphertext_len);
	if (r->key_epoch == 0)
		pg_p_null(&p);
	else
		pg_p_int(&p, r->key_epoch);
	return run_insert(PQ(s), PG_REC_INSERT, &p);
}

int pg_record_update(pv_store *s, const pv_store_record *r)
{
	pg_params p = { 0 };

	pg_p_text(&p, r->subject_id);
	pg_p_text(&p, r->id);
	pg_p_blob(&p, r->nonce, PV_NONCE_LEN);
	pg_p_blob(&p, r->ciphertext, r->ciphertext_len);
	pg_p_int(&p, r->updated_at);
	if (r->key_epoch == 0)
		pg_p_null(&p);
	else
		pg_p_int(&p, r->key_epoch);
	return run_changed(PQ(s), PG_REC_UPDATE, &p, "record");
}

/* Fill *out from row `i` of REC_COLS; the ciphertext pointer is borrowed from the result. */
static int record_row(const PGresult *r, int i, int id, pv_store_record *out)
{
	if (pg_get_text(r, i, 0, out->subject_id, sizeof(out->subject_id)) != 0 ||
	    pg_get_text(r, i, 1, out->id, sizeof(out->id)) != 0 ||
	    pg_get_text(r, i, 2, out->category, sizeof(out->category)) != 0 ||
	    pg_get_text(r, i, 3, out->purpose, sizeof(out->purpose)) != 0 ||
	    pg_get_text(r, i, 4, out->source, sizeof(out->source)) != 0 ||
	    pg_get_text(r, i, 5, out->policy_version, sizeof(out->policy_version)) != 0 ||
	    pg_get_blob(r, i, 9, out->nonce, PV_NONCE_LEN) != 0)
		return pg_malformed(id, "records text or nonce");
	out->collected_at = pg_get_int(r, i, 6);
	out->updated_at = pg_get_int(r, i, 7);
	out->expires_at = PQgetisnull(r, i, 8) ? INT64_MAX : pg_get_int(r, i, 8);
	out->ciphertext = (const uint8_t *)PQgetvalue(r, i, 10);
	out->ciphertext_len = (size_t)PQgetlength(r, i, 10);
	out->key_epoch = PQgetisnull(r, i, 11) ? 0 : pg_get_int(r, i, 11);
	return 0;
}

int pg_record_get(pv_store *s, const char *subject_id, const char *record_id,
		  pv_store_record *out, uint8_t **buf)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, subject_id);
	pg_p_text(&p, record_id);
	if ((rc = query_one(PQ(s), PG_REC_GET, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read records: no record %s of subject %s",
				    record_id, subject_id);
	rc = record_row(r, 0, PG_REC_GET, out);
	if (rc == 0) {
		*buf = malloc(out->ciphertext_len > 0 ? out->ciphertext_len : 1);
		if (*buf == NULL) {
			rc = pv_error_set(PV_ENOMEM, "store: read records: out of memory");
		} else {
			memcpy(*buf, out->ciphertext, out->ciphertext_len);
			out->ciphertext = *buf;
		}
	}
	if (rc != 0)
		out->ciphertext = NULL;
	PQclear(r);
	return rc;
}

int pg_record_each(pv_store *s, const char *subject_id, const char *category,
		   int (*cb)(const pv_store_record *r, void *payload), void *payload)
{
	int id = category != NULL ? PG_REC_EACH_CAT : PG_REC_EACH;
	pg_params p = { 0 };
	pv_store_record row;
	PGresult *r;
	int rc, i;

	pg_p_text(&p, subject_id);
	if (category != NULL)
		pg_p_text(&p, category);
	if ((rc = pg_run(PQ(s), id, &p, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		rc = record_row(r, i, id, &row);
		if (rc == 0)
			rc = cb(&row, payload);
	}
	PQclear(r);
	return rc;
}

int pg_record_delete_subject(pv_store *s, const char *subject_id, size_t *out_deleted)
{
	pg_params p = { 0 };
	int64_t n = 0;
	int rc;

	pg_p_text(&p, subject_id);
	rc = pg_exec_id(PQ(s), PG_REC_DELETE, &p, &n);
	if (rc == 0 && out_deleted != NULL)
		*out_deleted = (size_t)n;
	return rc;
}

int pg_record_count_categories(pv_store *s, const char *subject_id,
			       int (*cb)(const char *category, size_t count, void *payload), void *payload)
{
	char category[PV_ID_MAX_LEN + 1];
	pg_params p = { 0 };
	PGresult *r;
	int rc, i;

	pg_p_text(&p, subject_id);
	if ((rc = pg_run(PQ(s), PG_REC_COUNT_CAT, &p, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		if (pg_get_text(r, i, 0, category, sizeof(category)) != 0) {
			rc = pg_malformed(PG_REC_COUNT_CAT, "category");
			break;
		}
		rc = cb(category, (size_t)pg_get_int(r, i, 1), payload);
	}
	PQclear(r);
	return rc;
}

int pg_record_count(pv_store *s, int64_t *out)
{
	PGresult *r;
	int rc;

	if ((rc = pg_run(PQ(s), PG_REC_COUNT, NULL, &r)) != 0)
		return rc;
	*out = PQntuples(r) == 1 ? pg_get_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

/* ---- suppression ---------------------------------------------------------------------------- */

int pg_suppression_insert(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			  const char *reason, pv_time at)
{
	pg_params p = { 0 };

	pg_p_text(&p, kind);
	pg_p_blob(&p, bi, PV_BLIND_INDEX_LEN);
	pg_p_text(&p, reason);
	pg_p_int(&p, at);
	return pg_exec_id(PQ(s), PG_SUPP_INSERT, &p, NULL);   /* duplicate: no-op */
}

int pg_suppression_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN])
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, kind);
	pg_p_blob(&p, bi, PV_BLIND_INDEX_LEN);
	if ((rc = query_one(PQ(s), PG_SUPP_FIND, &p, &r)) != 0)
		return rc;
	if (r == NULL)
		return pv_error_set(PV_ENOTFOUND, "store: read suppression: not suppressed");
	PQclear(r);
	return 0;
}

/* ---- audit ---------------------------------------------------------------------------------- */

int pg_audit_append(pv_store *s, const pv_audit_entry *e)
{
	pg_params p = { 0 };

	pg_p_int(&p, e->seq);
	pg_p_int(&p, e->at);
	pg_p_text(&p, e->actor);
	pg_p_text(&p, e->action);
	pg_p_text_or_null(&p, e->subject_id);
	pg_p_text_or_null(&p, e->purpose);
	pg_p_text_or_null(&p, e->category);
	pg_p_text(&p, e->outcome);
	pg_p_blob(&p, e->prev_hash, PV_AUDIT_HASH_LEN);
	pg_p_blob(&p, e->hash, PV_AUDIT_HASH_LEN);
	return run_insert(PQ(s), PG_AUDIT_APPEND, &p);
}

int pg_audit_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN])
{
	PGresult *r;
	int rc;

	if ((rc = query_one(PQ(s), PG_AUDIT_HEAD, NULL, &r)) != 0)
		return rc;
	if (r == NULL) {
		*seq = 0;
		memset(hash, 0, PV_AUDIT_HASH_LEN);
		return 0;
	}
	*seq = pg_get_int(r, 0, 0);
	rc = pg_get_blob(r, 0, 1, hash, PV_AUDIT_HASH_LEN) == 0 ? 0 : pg_malformed(PG_AUDIT_HEAD, "hash");
	PQclear(r);
	return rc;
}

/* In pages of PG_PAGE entries, so verifying a long chain does not hold it all in memory. */
int pg_audit_each(pv_store *s, int64_t from, int64_t limit,
		  int (*cb)(const pv_audit_entry *e, void *payload), void *payload)
{
	int64_t seen = 0;
	pv_audit_entry e;
	int rc = 0;

	for (;;) {
		int64_t want = limit == 0 || limit - seen > PG_PAGE ? PG_PAGE : limit - seen;
		pg_params p = { 0 };
		PGresult *r;
		int i, n;

		pg_p_int(&p, from);
		pg_p_int(&p, want);
		if ((rc = pg_run(PQ(s), PG_AUDIT_EACH, &p, &r)) != 0)
			return rc;
		n = PQntuples(r);
		for (i = 0; i < n && rc == 0; i++) {
			e.seq = pg_get_int(r, i, 0);
			e.at = pg_get_int(r, i, 1);
			if (pg_get_text(r, i, 2, e.actor, sizeof(e.actor)) != 0 ||
			    pg_get_text(r, i, 3, e.action, sizeof(e.action)) != 0 ||
			    pg_get_text(r, i, 4, e.subject_id, sizeof(e.subject_id)) != 0 ||
			    pg_get_text(r, i, 5, e.purpose, sizeof(e.purpose)) != 0 ||
			    pg_get_text(r, i, 6, e.category, sizeof(e.category)) != 0 ||
			    pg_get_text(r, i, 7, e.outcome, sizeof(e.outcome)) != 0 ||
			    pg_get_blob(r, i, 8, e.prev_hash, PV_AUDIT_HASH_LEN) != 0 ||
			    pg_get_blob(r, i, 9, e.hash, PV_AUDIT_HASH_LEN) != 0) {
				rc = pg_malformed(PG_AUDIT_EACH, "audit text or hash");
				break;
			}
			from = e.seq + 1;
			rc = cb(&e, payload);
		}
		PQclear(r);
		seen += n;
		if (rc != 0 || n < want || (limit != 0 && seen >= limit))
			return rc;
	}
}

int pg_checkpoint_insert(pv_store *s, const pv_store_checkpoint *c)
{
	pg_params p = { 0 };

	pg_p_int(&p, c->seq);
	pg_p_int(&p, c->at);
	pg_p_blob(&p, c->hash, PV_AUDIT_HASH_LEN);
	pg_p_blob(&p, c->signature, PV_SIG_LEN);
	pg_p_blob(&p, c->public_key, PV_PUBKEY_LEN);
	return run_insert(PQ(s), PG_CKPT_INSERT, &p);
}

int pg_checkpoint_each(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload), void *payload)
{
	pv_store_checkpoint c;
	PGresult *r;
	int rc, i;

	if ((rc = pg_run(PQ(s), PG_CKPT_EACH, NULL, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		c.seq = pg_get_int(r, i, 0);
		c.at = pg_get_int(r, i, 1);
		if (pg_get_blob(r, i, 2, c.hash, PV_AUDIT_HASH_LEN) != 0 ||
		    pg_get_blob(r, i, 3, c.signature, PV_SIG_LEN) != 0 ||
		    pg_get_blob(r, i, 4, c.public_key, PV_PUBKEY_LEN) != 0) {
			rc = pg_malformed(PG_CKPT_EACH, "hash, signature or public_key");
			break;
		}
		rc = cb(&c, payload);
	}
	PQclear(r);
	return rc;
}

/* ---- job locks ------------------------------------------------------------------------------ */

/* A transaction-scoped lock named `name`, not waited for: *acquired 1 if this transaction holds it. */
int pg_try_lock(pv_store *s, const char *name, int *acquired)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	*acquired = 0;
	if (!PQ(s)->in_tx)
		return pv_error_set(PV_EINVAL, "store: lock job: only inside a transaction");
	pg_p_text(&p, name);
	if ((rc = pg_run(PQ(s), PG_TRY_LOCK, &p, &r)) != 0)
		return rc;
	*acquired = PQntuples(r) == 1 && pg_get_int(r, 0, 0) != 0;
	PQclear(r);
	return 0;
}
