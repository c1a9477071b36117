/*
 * The SQLite backend's row operations: one cached statement each (see
 * sqlite.c), bind, step, copy out, release. Arguments were checked by
 * store.c. Writes outside a transaction are SQLite autocommit statements, so
 * each call is its own transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/sqlite_internal.h"

/* Bind helper: evaluate binds in order, stop at the first failure. */
#define BIND(expr) \
	do { \
		if (b == SQLITE_OK) \
			b = (expr); \
	} while (0)

/* A statement that changes rows; PV_ENOTFOUND (naming `what`) if it changed none. */
static int run_changed(pv_sqlite *q, int id, sqlite3_stmt *st, const char *what)
{
	int rc = sq_run(q, id, st);

	if (rc == 0 && sqlite3_changes(q->db) == 0)
		return pv_error_set(PV_ENOTFOUND, "store: %s: no such %s", sq_what(id), what);
	return rc;
}

/* ---- meta ----------------------------------------------------------------------------------- */

int sq_meta_get(pv_store *s, const char *key, char *out, size_t size)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_META_GET, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, key));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_META_GET, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sq_col_text(st, 0, out, size) == 0 ? 0 :
		     pv_error_set(PV_EINVAL, "store: read meta: value of %s longer than the buffer", key);
	else if (rc == SQLITE_DONE)
		rc = pv_error_set(PV_ENOTFOUND, "store: read meta: no key %s", key);
	else
		rc = sq_fail(ST_META_GET, rc);
	sq_put(q, ST_META_GET, st);
	return rc;
}

int sq_meta_set(pv_store *s, const char *key, const char *value)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_META_SET, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, key));
	BIND(sq_bind_text(st, 2, value));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_META_SET, st, b);
	return sq_run(q, ST_META_SET, st);
}

/* ---- policy versions ------------------------------------------------------------------------ */

int sq_policy_insert(pv_store *s, const char *hash, const char *yaml, size_t len,
		     pv_time loaded_at, pv_time effective_at)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_POLICY_INSERT, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(len > INT_MAX ? SQLITE_TOOBIG : sqlite3_bind_text(st, 2, yaml, (int)len, SQLITE_STATIC));
	BIND(sq_bind_text(st, 1, hash));
	BIND(sqlite3_bind_int64(st, 3, loaded_at));
	BIND(sqlite3_bind_int64(st, 4, effective_at));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_POLICY_INSERT, st, b);
	return sq_run(q, ST_POLICY_INSERT, st);
}

/* The YAML is returned NUL-terminated in a malloc'd *yaml (caller frees) of *len bytes. */
int sq_policy_get(pv_store *s, const char *hash, char **yaml, size_t *len)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_POLICY_GET, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, hash));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_POLICY_GET, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		*yaml = malloc(n + 1);
		if (*yaml == NULL) {
			rc = pv_error_set(PV_ENOMEM, "store: read policy_versions: out of memory");
		} else {
			if (n > 0)
				memcpy(*yaml, t, n);
			(*yaml)[n] = '\0';
			*len = n;
			rc = 0;
		}
	} else if (rc == SQLITE_DONE) {
		rc = pv_error_set(PV_ENOTFOUND, "store: read policy_versions: no policy version %s", hash);
	} else {
		rc = sq_fail(ST_POLICY_GET, rc);
	}
	sq_put(q, ST_POLICY_GET, st);
	return rc;
}

/* ---- subjects ------------------------------------------------------------------------------- */

int sq_subject_insert(pv_store *s, const pv_store_subject *subj)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_SUBJECT_INSERT, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subj->id));
	BIND(sqlite3_bind_int64(st, 2, subj->created_at));
	BIND(sqlite3_bind_int(st, 3, subj->regime));
	BIND(sqlite3_bind_int(st, 4, subj->birth_year));
	BIND(sqlite3_bind_int(st, 5, subj->parental_consent));
	BIND(sqlite3_bind_int(st, 6, subj->state));
	BIND(subj->erased_at == 0 ? sqlite3_bind_null(st, 7) : sqlite3_bind_int64(st, 7, subj->erased_at));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_SUBJECT_INSERT, st, b);
	return sq_run(q, ST_SUBJECT_INSERT, st);
}

int sq_subject_get(pv_store *s, const char *id, pv_store_subject *out)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_SUBJECT_GET, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_SUBJECT_GET, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(out, 0, sizeof(*out));
		if (sq_col_text(st, 0, out->id, sizeof(out->id)) != 0) {
			rc = sq_malformed(ST_SUBJECT_GET, "id");
		} else {
			out->created_at = sqlite3_column_int64(st, 1);
			out->regime = sqlite3_column_int(st, 2);
			out->birth_year = sqlite3_column_int(st, 3);
			out->parental_consent = sqlite3_column_int(st, 4);
			out->state = sqlite3_column_int(st, 5);
			out->erased_at = sqlite3_column_int64(st, 6);   /* NULL reads as 0 */
			rc = 0;
		}
	} else if (rc == SQLITE_DONE) {
		rc = pv_error_set(PV_ENOTFOUND, "store: read subjects: no subject %s", id);
	} else {
		rc = sq_fail(ST_SUBJECT_GET, rc);
	}
	sq_put(q, ST_SUBJECT_GET, st);
	return rc;
}

int sq_subject_set_state(pv_store *s, const char *id, int state, pv_time at)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_SUBJECT_SET_STATE, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, id));
	BIND(sqlite3_bind_int(st, 2, state));
	BIND(sqlite3_bind_int64(st, 3, at));
	BIND(sqlite3_bind_int(st, 4, state == PV_SUBJECT_ERASED));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_SUBJECT_SET_STATE, st, b);
	return run_changed(q, ST_SUBJECT_SET_STATE, st, "subject");
}

/* ---- identifiers ---------------------------------------------------------------------------- */

int sq_identifier_insert(pv_store *s, const pv_store_identifier *id)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_IDENT_INSERT, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, id->kind));
	BIND(sq_bind_blob(st, 2, id->blind_index, PV_BLIND_INDEX_LEN));
	BIND(sq_bind_text(st, 3, id->subject_id));
	BIND(sq_bind_blob(st, 4, id->nonce, PV_NONCE_LEN));
	BIND(sq_bind_blob(st, 5, id->ciphertext, id->ciphertext_len));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_IDENT_INSERT, st, b);
	return sq_run(q, ST_IDENT_INSERT, st);
}

int sq_identifier_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
		       char out_subject[PV_ID_LEN + 1])
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_IDENT_FIND, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, kind));
	BIND(sq_bind_blob(st, 2, bi, PV_BLIND_INDEX_LEN));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_IDENT_FIND, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = sq_col_text(st, 0, out_subject, PV_ID_LEN + 1) == 0 ? 0 :
		     sq_malformed(ST_IDENT_FIND, "subject_id");
	else if (rc == SQLITE_DONE)
		rc = pv_error_set(PV_ENOTFOUND, "store: read identifiers: no %s identifier with that blind index",
				  kind);
	else
		rc = sq_fail(ST_IDENT_FIND, rc);
	sq_put(q, ST_IDENT_FIND, st);
	return rc;
}

int sq_identifier_each(pv_store *s, const char *subject_id,
		       int (*cb)(const pv_store_identifier *id, void *payload), void *payload)
{
	pv_sqlite *q = Q(s);
	pv_store_identifier row;
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_IDENT_EACH, &st), b = SQLITE_OK, ret = 0;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_IDENT_EACH, st, b);
	memset(&row, 0, sizeof(row));
	memcpy(row.subject_id, subject_id, strlen(subject_id) + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_col_text(st, 0, row.kind, sizeof(row.kind)) != 0 ||
		    sq_col_blob(st, 1, row.blind_index, PV_BLIND_INDEX_LEN) != 0 ||
		    sq_col_blob(st, 2, row.nonce, PV_NONCE_LEN) != 0) {
			ret = sq_malformed(ST_IDENT_EACH, "kind, blind_index or nonce");
			break;
		}
		row.ciphertext = sqlite3_column_blob(st, 3);
		row.ciphertext_len = (size_t)sqlite3_column_bytes(st, 3);
		if (row.ciphertext == NULL)
			row.ciphertext = (const uint8_t *)"";
		ret = cb(&row, payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(ST_IDENT_EACH, rc);
	sq_put(q, ST_IDENT_EACH, st);
	return ret;
}

int sq_identifier_delete_subject(pv_store *s, const char *subject_id)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_IDENT_DELETE, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_IDENT_DELETE, st, b);
	return sq_run(q, ST_IDENT_DELETE, st);
}

/* ---- subject keys --------------------------------------------------------------------------- */

static int key_write(pv_sqlite *q, int id, const pv_store_key *k)
{
	sqlite3_stmt *st;
	int rc = sq_get(q, id, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, k->subject_id));
	BIND(sqlite3_bind_int64(st, 2, k->kek_version));
	BIND(sq_bind_blob(st, 3, k->wrapped, PV_WRAPPED_DEK_LEN));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, id, st, b);
	return id == ST_KEY_UPDATE ? run_changed(q, id, st, "subject key") : sq_run(q, id, st);
}

int sq_key_insert(pv_store *s, const pv_store_key *k)
{
	return key_write(Q(s), ST_KEY_INSERT, k);
}

int sq_key_update(pv_store *s, const pv_store_key *k)
{
	return key_write(Q(s), ST_KEY_UPDATE, k);
}

int sq_key_get(pv_store *s, const char *subject_id, pv_store_key *out)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_KEY_GET, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_KEY_GET, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memcpy(out->subject_id, subject_id, strlen(subject_id) + 1);
		out->kek_version = (uint32_t)sqlite3_column_int64(st, 0);
		rc = sq_col_blob(st, 1, out->wrapped, PV_WRAPPED_DEK_LEN) == 0 ? 0 :
		     sq_malformed(ST_KEY_GET, "wrapped");
	} else if (rc == SQLITE_DONE) {
		rc = pv_error_set(PV_ENOTFOUND, "store: read subject_keys: no key for subject %s", subject_id);
	} else {
		rc = sq_fail(ST_KEY_GET, rc);
	}
	sq_put(q, ST_KEY_GET, st);
	return rc;
}

int sq_key_delete(pv_store *s, const char *subject_id)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_KEY_DELETE, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_KEY_DELETE, st, b);
	return run_changed(q, ST_KEY_DELETE, st, "subject key");
}

/* The callback may update the key it is given (rotation rewraps as it walks). */
int sq_key_each_other_version(pv_store *s, uint32_t except_version, size_t limit,
			      int (*cb)(const pv_store_key *k, void *payload), void *payload)
{
	pv_sqlite *q = Q(s);
	pv_store_key row;
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_KEY_EACH, &st), b = SQLITE_OK, ret = 0;

	if (rc != 0)
		return rc;
	BIND(sqlite3_bind_int64(st, 1, except_version));
	BIND(sqlite3_bind_int64(st, 2, limit == 0 || limit > INT64_MAX ? -1 : (sqlite3_int64)limit));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_KEY_EACH, st, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_col_text(st, 0, row.subject_id, sizeof(row.subject_id)) != 0 ||
		    sq_col_blob(st, 2, row.wrapped, PV_WRAPPED_DEK_LEN) != 0) {
			ret = sq_malformed(ST_KEY_EACH, "subject_id or wrapped");
			break;
		}
		row.kek_version = (uint32_t)sqlite3_column_int64(st, 1);
		ret = cb(&row, payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(ST_KEY_EACH, rc);
	sq_put(q, ST_KEY_EACH, st);
	return ret;
}

/* ---- records -------------------------------------------------------------------------------- */

int sq_record_insert(pv_store *s, const pv_store_record *r)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_REC_INSERT, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, r->subject_id));
	BIND(sq_bind_text(st, 2, r->id));
	BIND(sq_bind_text(st, 3, r->category));
	BIND(sq_bind_text(st, 4, r->purpose));
	BIND(sq_bind_text(st, 5, r->source));
	BIND(sq_bind_text(st, 6, r->policy_version));
	BIND(sqlite3_bind_int64(st, 7, r->collected_at));
	BIND(sqlite3_bind_int64(st, 8, r->updated_at));
	BIND(r->expires_at == INT64_MAX ? sqlite3_bind_null(st, 9) : sqlite3_bind_int64(st, 9, r->expires_at));
	BIND(sq_bind_blob(st, 10, r->nonce, PV_NONCE_LEN));
	BIND(sq_bind_blob(st, 11, r->ciphertext, r->ciphertext_len));
	BIND(r->key_epoch == 0 ? sqlite3_bind_null(st, 12) : sqlite3_bind_int64(st, 12, r->key_epoch));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_REC_INSERT, st, b);
	return sq_run(q, ST_REC_INSERT, st);
}

int sq_record_update(pv_store *s, const pv_store_record *r)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_REC_UPDATE, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, r->subject_id));
	BIND(sq_bind_text(st, 2, r->id));
	BIND(sq_bind_blob(st, 3, r->nonce, PV_NONCE_LEN));
	BIND(sq_bind_blob(st, 4, r->ciphertext, r->ciphertext_len));
	BIND(sqlite3_bind_int64(st, 5, r->updated_at));
	BIND(r->key_epoch == 0 ? sqlite3_bind_null(st, 6) : sqlite3_bind_int64(st, 6, r->key_epoch));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_REC_UPDATE, st, b);
	return run_changed(q, ST_REC_UPDATE, st, "record");
}

/* Fill *r from a row of REC_COLS; the ciphertext pointer is borrowed from the statement. */
static int record_row(sqlite3_stmt *st, int id, pv_store_record *r)
{
	if (sq_col_text(st, 0, r->subject_id, sizeof(r->subject_id)) != 0 ||
	    sq_col_text(st, 1, r->id, sizeof(r->id)) != 0 ||
	    sq_col_text(st, 2, r->category, sizeof(r->category)) != 0 ||
	    sq_col_text(st, 3, r->purpose, sizeof(r->purpose)) != 0 ||
	    sq_col_text(st, 4, r->source, sizeof(r->source)) != 0 ||
	    sq_col_text(st, 5, r->policy_version, sizeof(r->policy_version)) != 0 ||
	    sq_col_blob(st, 9, r->nonce, PV_NONCE_LEN) != 0)
		return sq_malformed(id, "records text or nonce");
	r->collected_at = sqlite3_column_int64(st, 6);
	r->updated_at = sqlite3_column_int64(st, 7);
	r->expires_at = sqlite3_column_type(st, 8) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, 8);
	r->ciphertext = sqlite3_column_blob(st, 10);
	r->ciphertext_len = (size_t)sqlite3_column_bytes(st, 10);
	r->key_epoch = sqlite3_column_type(st, 11) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 11);
	if (r->ciphertext == NULL)
		r->ciphertext = (const uint8_t *)"";
	return 0;
}

/* One record; its ciphertext copied into a malloc'd *buf (caller frees; at least 1 byte). */
int sq_record_get(pv_store *s, const char *subject_id, const char *record_id,
		  pv_store_record *out, uint8_t **buf)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_REC_GET, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	BIND(sq_bind_text(st, 2, record_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_REC_GET, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = record_row(st, ST_REC_GET, out);
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
	} else if (rc == SQLITE_DONE) {
		rc = pv_error_set(PV_ENOTFOUND, "store: read records: no record %s of subject %s",
				  record_id, subject_id);
	} else {
		rc = sq_fail(ST_REC_GET, rc);
	}
	sq_put(q, ST_REC_GET, st);
	return rc;
}

int sq_record_each(pv_store *s, const char *subject_id, const char *category,
		   int (*cb)(const pv_store_record *r, void *payload), void *payload)
{
	pv_sqlite *q = Q(s);
	int id = category != NULL ? ST_REC_EACH_CAT : ST_REC_EACH;
	pv_store_record row;
	sqlite3_stmt *st;
	int rc = sq_get(q, id, &st), b = SQLITE_OK, ret = 0;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (category != NULL)
		BIND(sq_bind_text(st, 2, category));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, id, st, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = record_row(st, id, &row);
		if (ret == 0)
			ret = cb(&row, payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(id, rc);
	sq_put(q, id, st);
	return ret;
}

int sq_record_delete_subject(pv_store *s, const char *subject_id, size_t *out_deleted)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_REC_DELETE, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_REC_DELETE, st, b);
	rc = sq_run(q, ST_REC_DELETE, st);
	if (rc == 0 && out_deleted != NULL)
		*out_deleted = (size_t)sqlite3_changes64(q->db);
	return rc;
}

int sq_record_count_categories(pv_store *s, const char *subject_id,
			       int (*cb)(const char *category, size_t count, void *payload), void *payload)
{
	pv_sqlite *q = Q(s);
	char category[PV_ID_MAX_LEN + 1];
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_REC_COUNT_CAT, &st), b = SQLITE_OK, ret = 0;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, subject_id));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_REC_COUNT_CAT, st, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sq_col_text(st, 0, category, sizeof(category)) != 0) {
			ret = sq_malformed(ST_REC_COUNT_CAT, "category");
			break;
		}
		ret = cb(category, (size_t)sqlite3_column_int64(st, 1), payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(ST_REC_COUNT_CAT, rc);
	sq_put(q, ST_REC_COUNT_CAT, st);
	return ret;
}

int sq_record_count(pv_store *s, int64_t *out)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_REC_COUNT, &st);

	if (rc != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = 0;
	} else {
		rc = sq_fail(ST_REC_COUNT, rc);
	}
	sq_put(q, ST_REC_COUNT, st);
	return rc;
}

/* ---- suppression ---------------------------------------------------------------------------- */

int sq_suppression_insert(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			  const char *reason, pv_time at)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_SUPP_INSERT, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, kind));
	BIND(sq_bind_blob(st, 2, bi, PV_BLIND_INDEX_LEN));
	BIND(sq_bind_text(st, 3, reason));
	BIND(sqlite3_bind_int64(st, 4, at));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_SUPP_INSERT, st, b);
	return sq_run(q, ST_SUPP_INSERT, st);
}

int sq_suppression_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN])
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_SUPP_FIND, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, kind));
	BIND(sq_bind_blob(st, 2, bi, PV_BLIND_INDEX_LEN));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_SUPP_FIND, st, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = 0;
	else if (rc == SQLITE_DONE)
		rc = pv_error_set(PV_ENOTFOUND, "store: read suppression: not suppressed");
	else
		rc = sq_fail(ST_SUPP_FIND, rc);
	sq_put(q, ST_SUPP_FIND, st);
	return rc;
}

/* ---- audit ---------------------------------------------------------------------------------- */

int sq_audit_append(pv_store *s, const pv_audit_entry *e)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_AUDIT_APPEND, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sqlite3_bind_int64(st, 1, e->seq));
	BIND(sqlite3_bind_int64(st, 2, e->at));
	BIND(sq_bind_text(st, 3, e->actor));
	BIND(sq_bind_text(st, 4, e->action));
	BIND(sq_bind_text_or_null(st, 5, e->subject_id));
	BIND(sq_bind_text_or_null(st, 6, e->purpose));
	BIND(sq_bind_text_or_null(st, 7, e->category));
	BIND(sq_bind_text(st, 8, e->outcome));
	BIND(sq_bind_blob(st, 9, e->prev_hash, PV_AUDIT_HASH_LEN));
	BIND(sq_bind_blob(st, 10, e->hash, PV_AUDIT_HASH_LEN));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_AUDIT_APPEND, st, b);
	return sq_run(q, ST_AUDIT_APPEND, st);
}

int sq_audit_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN])
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_AUDIT_HEAD, &st);

	if (rc != 0)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(st, 0);
		rc = sq_col_blob(st, 1, hash, PV_AUDIT_HASH_LEN) == 0 ? 0 : sq_malformed(ST_AUDIT_HEAD, "hash");
	} else if (rc == SQLITE_DONE) {
		*seq = 0;
		memset(hash, 0, PV_AUDIT_HASH_LEN);
		rc = 0;
	} else {
		rc = sq_fail(ST_AUDIT_HEAD, rc);
	}
	sq_put(q, ST_AUDIT_HEAD, st);
	return rc;
}

int sq_audit_each(pv_store *s, int64_t from, int64_t limit,
		  int (*cb)(const pv_audit_entry *e, void *payload), void *payload)
{
	pv_sqlite *q = Q(s);
	pv_audit_entry e;
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_AUDIT_EACH, &st), b = SQLITE_OK, ret = 0;

	if (rc != 0)
		return rc;
	BIND(sqlite3_bind_int64(st, 1, from));
	BIND(sqlite3_bind_int64(st, 2, limit == 0 ? -1 : limit));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_AUDIT_EACH, st, b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.seq = sqlite3_column_int64(st, 0);
		e.at = sqlite3_column_int64(st, 1);
		if (sq_col_text(st, 2, e.actor, sizeof(e.actor)) != 0 ||
		    sq_col_text(st, 3, e.action, sizeof(e.action)) != 0 ||
		    sq_col_text(st, 4, e.subject_id, sizeof(e.subject_id)) != 0 ||
		    sq_col_text(st, 5, e.purpose, sizeof(e.purpose)) != 0 ||
		    sq_col_text(st, 6, e.category, sizeof(e.category)) != 0 ||
		    sq_col_text(st, 7, e.outcome, sizeof(e.outcome)) != 0 ||
		    sq_col_blob(st, 8, e.prev_hash, PV_AUDIT_HASH_LEN) != 0 ||
		    sq_col_blob(st, 9, e.hash, PV_AUDIT_HASH_LEN) != 0) {
			ret = sq_malformed(ST_AUDIT_EACH, "audit text or hash");
			break;
		}
		ret = cb(&e, payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(ST_AUDIT_EACH, rc);
	sq_put(q, ST_AUDIT_EACH, st);
	return ret;
}

int sq_checkpoint_insert(pv_store *s, const pv_store_checkpoint *c)
{
	pv_sqlite *q = Q(s);
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_CKPT_INSERT, &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sqlite3_bind_int64(st, 1, c->seq));
	BIND(sqlite3_bind_int64(st, 2, c->at));
	BIND(sq_bind_blob(st, 3, c->hash, PV_AUDIT_HASH_LEN));
	BIND(sq_bind_blob(st, 4, c->signature, PV_SIG_LEN));
	BIND(sq_bind_blob(st, 5, c->public_key, PV_PUBKEY_LEN));
	if (b != SQLITE_OK)
		return sq_bind_failed(q, ST_CKPT_INSERT, st, b);
	return sq_run(q, ST_CKPT_INSERT, st);
}

int sq_checkpoint_each(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload), void *payload)
{
	pv_sqlite *q = Q(s);
	pv_store_checkpoint c;
	sqlite3_stmt *st;
	int rc = sq_get(q, ST_CKPT_EACH, &st), ret = 0;

	if (rc != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c.seq = sqlite3_column_int64(st, 0);
		c.at = sqlite3_column_int64(st, 1);
		if (sq_col_blob(st, 2, c.hash, PV_AUDIT_HASH_LEN) != 0 ||
		    sq_col_blob(st, 3, c.signature, PV_SIG_LEN) != 0 ||
		    sq_col_blob(st, 4, c.public_key, PV_PUBKEY_LEN) != 0) {
			ret = sq_malformed(ST_CKPT_EACH, "hash, signature or public_key");
			break;
		}
		ret = cb(&c, payload);
		if (ret != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = sq_fail(ST_CKPT_EACH, rc);
	sq_put(q, ST_CKPT_EACH, st);
	return ret;
}

/* ---- API keys (appended by the HTTP server engineer, issue 3) -------------------------------- *
 * Rare operations (create, revoke, a reload of the server's key set), so their statements are
 * prepared per call rather than cached in the statement table. */

#define APIKEY_COLS "id, name, role, grants, hash, created_at, revoked_at"

static int ak_fail(const char *what, int rc)
{
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		return pv_error_set(PV_EEXISTS, "store: %s api_keys: key already exists", what);
	return pv_error_set(PV_ESTORE, "store: %s api_keys: %s", what, sqlite3_errstr(rc));
}

static int ak_prepare(pv_sqlite *q, const char *sql, const char *what, sqlite3_stmt **st)
{
	int rc = sqlite3_prepare_v2(q->db, sql, -1, st, NULL);

	return rc == SQLITE_OK ? 0 : ak_fail(what, rc);
}

/* One row of APIKEY_COLS into *k. 0, or PV_ESTORE on a malformed value. */
static int ak_row(sqlite3_stmt *st, pv_store_apikey *k)
{
	memset(k, 0, sizeof(*k));
	if (sq_col_text(st, 0, k->id, sizeof(k->id)) < 0 || sq_col_text(st, 1, k->name, sizeof(k->name)) < 0 ||
	    sq_col_text(st, 3, k->grants, sizeof(k->grants)) < 0 || sq_col_blob(st, 4, k->hash, sizeof(k->hash)) < 0)
		return pv_error_set(PV_ESTORE, "store: read api_keys: malformed value");
	k->role = sqlite3_column_int(st, 2);
	k->created_at = sqlite3_column_int64(st, 5);
	k->revoked_at = sqlite3_column_type(st, 6) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 6);
	return 0;
}

int sq_apikey_insert(pv_store *s, const pv_store_apikey *k)
{
	sqlite3_stmt *st;
	int rc = ak_prepare(Q(s), "INSERT INTO api_keys (" APIKEY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
			    "insert into", &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, k->id));
	BIND(sq_bind_text(st, 2, k->name));
	BIND(sqlite3_bind_int(st, 3, k->role));
	BIND(sq_bind_text(st, 4, k->grants));
	BIND(sq_bind_blob(st, 5, k->hash, sizeof(k->hash)));
	BIND(sqlite3_bind_int64(st, 6, k->created_at));
	rc = b != SQLITE_OK ? b : sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : ak_fail("insert into", rc);
}

int sq_apikey_get(pv_store *s, const char *id, pv_store_apikey *out)
{
	sqlite3_stmt *st;
	int rc = ak_prepare(Q(s), "SELECT " APIKEY_COLS " FROM api_keys WHERE id = ?1", "read", &st);

	if (rc != 0)
		return rc;
	rc = sq_bind_text(st, 1, id);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rc = ak_row(st, out);
	else if (rc == SQLITE_DONE)
		rc = pv_error_set(PV_ENOTFOUND, "store: read api_keys: no key %s", id);
	else
		rc = ak_fail("read", rc);
	sqlite3_finalize(st);
	return rc;
}

int sq_apikey_each(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload)
{
	pv_store_apikey k;
	sqlite3_stmt *st;
	int rc = ak_prepare(Q(s), "SELECT " APIKEY_COLS " FROM api_keys ORDER BY created_at, id", "read", &st),
	    ret = 0;

	if (rc != 0)
		return rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((ret = ak_row(st, &k)) != 0 || (ret = cb(&k, payload)) != 0)
			break;
	}
	if (ret == 0 && rc != SQLITE_DONE)
		ret = ak_fail("read", rc);
	sqlite3_finalize(st);
	return ret;
}

int sq_apikey_revoke(pv_store *s, const char *id, pv_time at)
{
	sqlite3_stmt *st;
	int rc = ak_prepare(Q(s), "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
			    "update", &st), b = SQLITE_OK;

	if (rc != 0)
		return rc;
	BIND(sq_bind_text(st, 1, id));
	BIND(sqlite3_bind_int64(st, 2, at));
	rc = b != SQLITE_OK ? b : sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ak_fail("update", rc);
	if (sqlite3_changes(Q(s)->db) == 0)
		return pv_error_set(PV_ENOTFOUND, "store: update api_keys: no active key %s", id);
	return 0;
}
