/*
 * The backend-independent half of the store: pick a backend from the URL,
 * check arguments once for every backend, and dispatch through pv_store_ops.
 * Backends may rely on what is checked here (non-NULL pointers, ids that fit
 * their fixed buffers, callbacks present).
 */
#include "store/backend.h"

#include <string.h>

#include "core/error.h"

#define CHECK(cond, what) \
	do { \
		if (!(cond)) \
			return pv_error_set(PV_EINVAL, "store: %s: %s", __func__ + 9, what); \
	} while (0)

/* A NUL-terminated string of 1..max bytes. */
static int str_ok(const char *p, size_t max)
{
	size_t n;

	if (p == NULL)
		return 0;
	n = strnlen(p, max + 1);
	return n > 0 && n <= max;
}

#define ID_OK(p) str_ok((p), PV_ID_LEN)
#define NAME_OK(p) str_ok((p), PV_ID_MAX_LEN)

/*
 * Open the store named by `url`:
 *   "sqlite:PATH" or a plain PATH        SQLite
 *   "postgres://..." / "postgresql://..." PostgreSQL (a libpq URI, passed on whole)
 *   "postgres:KEY=VALUE ..."              PostgreSQL (a libpq conninfo string)
 * With `create`, a missing SQLite file is created, and on either backend the
 * schema is created; pending migrations are applied on every open.
 * The caller closes *out with pv_store_close().
 */
int pv_store_open(pv_store **out, const char *url, int create)
{
	const pv_store_ops *ops;
	const char *target;

	if (out == NULL)
		return pv_error_set(PV_EINVAL, "store: open: no output handle");
	*out = NULL;
	if (url == NULL || url[0] == '\0')
		return pv_error_set(PV_EINVAL, "store: open: empty store URL");
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
		return pv_store_postgres_ops.open(out, url, create);
	if (strncmp(url, "postgres:", 9) == 0) {
		if (url[9] == '\0')
			return pv_error_set(PV_EINVAL, "store: open: empty PostgreSQL connection string");
		return pv_store_postgres_ops.open(out, url + 9, create);
	}
	if (strncmp(url, "sqlite:", 7) == 0) {
		target = url + 7;
		/* accept "sqlite:///abs/path" and "sqlite://rel" spellings too */
		if (strncmp(target, "//", 2) == 0)
			target += 2;
	} else if (strstr(url, "://") != NULL) {
		return pv_error_set(PV_EINVAL, "store: open: unknown store URL scheme "
				    "(expected sqlite:PATH, a path, postgres:// or postgresql://)");
	} else {
		target = url;
	}
	if (target[0] == '\0')
		return pv_error_set(PV_EINVAL, "store: open: empty SQLite path");
	ops = &pv_store_sqlite_ops;
	return ops->open(out, target, create);
}

void pv_store_close(pv_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

const char *pv_store_backend(const pv_store *s)
{
	return s != NULL ? s->ops->name : "";
}

int pv_store_begin(pv_store *s)
{
	int rc;

	CHECK(s != NULL, "no store");
	rc = s->ops->begin(s);
	if (rc == 0) {
		s->in_tx = 1;
		s->tx_serial++;
		s->relaxed = 0;
		s->tx_audits = 0;
	}
	return rc;
}

int pv_store_begin_relaxed(pv_store *s)
{
	int rc;

	CHECK(s != NULL, "no store");
	if (s->ops->begin_relaxed == NULL)
		return pv_store_begin(s);
	rc = s->ops->begin_relaxed(s);
	if (rc == 0) {
		s->in_tx = 1;
		s->tx_serial++;
		s->relaxed = 1;
		s->tx_audits = 0;
	}
	return rc;
}

int pv_store_last_commit_relaxed(const pv_store *s)
{
	return s != NULL && s->last_relaxed;
}

int pv_store_sync(pv_store *s)
{
	int rc;

	CHECK(s != NULL, "no store");
	CHECK(!s->in_tx, "not inside a transaction");
	if (s->ops->sync == NULL)
		return 0;
	rc = s->ops->sync(s);
	if (rc == 0)
		s->last_relaxed = 0;
	return rc;
}

int pv_store_commit(pv_store *s)
{
	int rc;

	CHECK(s != NULL, "no store");
	rc = s->ops->commit(s);   /* a relaxed transaction's commit may clear s->relaxed (made durable) */
	if (rc != PV_EINVAL)
		s->in_tx = 0;   /* committed, or (PostgreSQL) gone with the failed commit */
	if (rc == 0)
		s->last_relaxed = s->relaxed;
	if (rc != PV_EINVAL)
		s->relaxed = 0;
	return rc;
}

int pv_store_rollback(pv_store *s)
{
	int rc;

	CHECK(s != NULL, "no store");
	s->in_tx = 0;
	rc = s->ops->rollback(s);
	s->relaxed = 0;
	return rc;
}

const char *pv_store_url_backend(const char *url)
{
	if (url == NULL || url[0] == '\0')
		return NULL;
	if (strncmp(url, "postgres:", 9) == 0 || strncmp(url, "postgresql://", 13) == 0)
		return "postgres";
	if (strncmp(url, "sqlite:", 7) == 0 || strstr(url, "://") == NULL)
		return "sqlite";
	return NULL;
}

uint64_t pv_store_tx_serial(const pv_store *s)
{
	return s != NULL && s->in_tx ? s->tx_serial : 0;
}

int64_t pv_store_schema_version_before(const pv_store *s)
{
	return s != NULL ? s->schema_before : 0;
}

int pv_store_audit_lock_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN])
{
	CHECK(s != NULL && seq != NULL && hash != NULL, "missing argument");
	return s->ops->audit_lock_head(s, seq, hash);
}

/* [a-z0-9_.-]{1,max} */
static int name_ok(const char *p, size_t max, const char *extra)
{
	size_t n;

	if (!str_ok(p, max))
		return 0;
	for (n = 0; p[n] != '\0'; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_' ||
		      (p[n] != '\0' && strchr(extra, p[n]) != NULL)))
			return 0;
	return 1;
}

int pv_store_try_lock(pv_store *s, const char *name, int *acquired)
{
	CHECK(s != NULL && acquired != NULL, "missing argument");
	*acquired = 0;
	CHECK(name_ok(name, 64, ".-"), "name: expected 1..64 bytes of [a-z0-9_.-]");
	CHECK(s->in_tx, "only inside a transaction");
	return s->ops->try_lock(s, name, acquired);
}

int pv_store_table_count(pv_store *s, const char *table, int64_t *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	CHECK(pv_store_schema_has_table(table), "table: not a table of the schema");
	return s->ops->table_count(s, table, out);
}

int pv_store_table_each(pv_store *s, const char *table,
			int (*cb)(const char *const *cols, const pv_store_value *vals, size_t n, void *payload),
			void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	CHECK(pv_store_schema_has_table(table), "table: not a table of the schema");
	return s->ops->table_each(s, table, cb, payload);
}

int pv_store_table_insert(pv_store *s, const char *table, const char *const *cols,
			  const pv_store_value *vals, size_t n)
{
	size_t i;

	CHECK(s != NULL && cols != NULL && vals != NULL, "missing argument");
	CHECK(n > 0 && n <= PV_STORE_MAX_COLS, "columns: expected 1..32");
	CHECK(pv_store_schema_has_table(table), "table: not a table of the schema");
	for (i = 0; i < n; i++) {
		CHECK(name_ok(cols[i], 63, "") && cols[i][0] >= 'a', "column: expected [a-z][a-z0-9_]*");
		CHECK(vals[i].type == PV_STORE_NULL || vals[i].type == PV_STORE_INT ||
		      vals[i].p != NULL || vals[i].len == 0, "value: missing bytes");
	}
	return s->ops->table_insert(s, table, cols, vals, n);
}

static int pv_store_statement(pv_store *s, const char *what, const char *sql, const pv_store_value *params, size_t n)
{
	size_t i;

	CHECK(s != NULL && what != NULL && sql != NULL && (params != NULL || n == 0), "missing argument");
	CHECK(n <= PV_STORE_MAX_PARAMS, "params: more than 32");
	for (i = 0; i < n; i++)
		CHECK(params[i].type == PV_STORE_NULL || params[i].type == PV_STORE_INT ||
		      params[i].p != NULL || params[i].len == 0, "value: missing bytes");
	return 0;
}

int pv_store_exec(pv_store *s, const char *what, const char *sql,
		  const pv_store_value *params, size_t n, int64_t *changes)
{
	int rc = pv_store_statement(s, what, sql, params, n);

	if (changes != NULL)
		*changes = 0;
	return rc != 0 ? rc : s->ops->sql(s, what, sql, params, n, changes, NULL, NULL);
}

int pv_store_query(pv_store *s, const char *what, const char *sql,
		   const pv_store_value *params, size_t n,
		   int (*cb)(const char *const *cols, const pv_store_value *vals, size_t ncols, void *payload),
		   void *payload)
{
	int rc = pv_store_statement(s, what, sql, params, n);

	CHECK(cb != NULL, "missing argument");
	return rc != 0 ? rc : s->ops->sql(s, what, sql, params, n, NULL, cb, payload);
}

int pv_sv_get_text(const pv_store_value *v, char *out, size_t size)
{
	if (size == 0)
		return -1;
	out[0] = '\0';
	if (v->type != PV_STORE_TEXT && v->type != PV_STORE_BLOB)
		return 0;
	if (v->len >= size || memchr(v->p, '\0', v->len) != NULL)
		return -1;
	memcpy(out, v->p, v->len);
	out[v->len] = '\0';
	return 0;
}

int pv_store_schema_version(pv_store *s, int64_t *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	return s->ops->schema_version(s, out);
}

int pv_store_meta_get(pv_store *s, const char *key, char *out, size_t size)
{
	CHECK(s != NULL && out != NULL && size > 0, "missing argument");
	CHECK(str_ok(key, 128), "key: expected 1..128 bytes");
	return s->ops->meta_get(s, key, out, size);
}

int pv_store_meta_set(pv_store *s, const char *key, const char *value)
{
	CHECK(s != NULL && value != NULL, "missing argument");
	CHECK(str_ok(key, 128), "key: expected 1..128 bytes");
	return s->ops->meta_set(s, key, value);
}

int pv_store_policy_insert(pv_store *s, const char *hash, const char *yaml, size_t len,
			   pv_time loaded_at, pv_time effective_at)
{
	CHECK(s != NULL && (yaml != NULL || len == 0), "missing argument");
	CHECK(str_ok(hash, PV_HASH_HEX_LEN), "hash: expected 1..64 bytes");
	return s->ops->policy_insert(s, hash, yaml != NULL ? yaml : "", len, loaded_at, effective_at);
}

int pv_store_policy_get(pv_store *s, const char *hash, char **yaml, size_t *len)
{
	CHECK(s != NULL && yaml != NULL && len != NULL, "missing argument");
	*yaml = NULL;
	*len = 0;
	CHECK(str_ok(hash, PV_HASH_HEX_LEN), "hash: expected 1..64 bytes");
	return s->ops->policy_get(s, hash, yaml, len);
}

int pv_store_subject_insert(pv_store *s, const pv_store_subject *subj)
{
	CHECK(s != NULL && subj != NULL, "missing argument");
	CHECK(ID_OK(subj->id), "id: expected 1..36 bytes");
	return s->ops->subject_insert(s, subj);
}

int pv_store_subject_get(pv_store *s, const char *id, pv_store_subject *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	CHECK(ID_OK(id), "id: expected 1..36 bytes");
	return s->ops->subject_get(s, id, out);
}

int pv_store_subject_set_state(pv_store *s, const char *id, int state, pv_time at)
{
	CHECK(s != NULL, "no store");
	CHECK(ID_OK(id), "id: expected 1..36 bytes");
	return s->ops->subject_set_state(s, id, state, at);
}

int pv_store_identifier_insert(pv_store *s, const pv_store_identifier *id)
{
	CHECK(s != NULL && id != NULL, "missing argument");
	CHECK(ID_OK(id->subject_id), "subject_id: expected 1..36 bytes");
	CHECK(str_ok(id->kind, sizeof(id->kind) - 1), "kind: expected 1..32 bytes");
	CHECK(id->ciphertext != NULL || id->ciphertext_len == 0, "ciphertext: missing");
	return s->ops->identifier_insert(s, id);
}

int pv_store_identifier_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
			     char out_subject[PV_ID_LEN + 1])
{
	CHECK(s != NULL && bi != NULL && out_subject != NULL, "missing argument");
	CHECK(str_ok(kind, 32), "kind: expected 1..32 bytes");
	return s->ops->identifier_find(s, kind, bi, out_subject);
}

int pv_store_identifier_each(pv_store *s, const char *subject_id,
			     int (*cb)(const pv_store_identifier *id, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->identifier_each(s, subject_id, cb, payload);
}

int pv_store_identifier_delete_subject(pv_store *s, const char *subject_id)
{
	CHECK(s != NULL, "no store");
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->identifier_delete_subject(s, subject_id);
}

int pv_store_key_insert(pv_store *s, const pv_store_key *k)
{
	CHECK(s != NULL && k != NULL, "missing argument");
	CHECK(ID_OK(k->subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->key_insert(s, k);
}

int pv_store_key_get(pv_store *s, const char *subject_id, pv_store_key *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->key_get(s, subject_id, out);
}

int pv_store_key_update(pv_store *s, const pv_store_key *k)
{
	CHECK(s != NULL && k != NULL, "missing argument");
	CHECK(ID_OK(k->subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->key_update(s, k);
}

int pv_store_key_delete(pv_store *s, const char *subject_id)
{
	CHECK(s != NULL, "no store");
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->key_delete(s, subject_id);
}

int pv_store_key_each_other_version(pv_store *s, uint32_t except_version, size_t limit,
				    int (*cb)(const pv_store_key *k, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	return s->ops->key_each_other_version(s, except_version, limit, cb, payload);
}

static int record_ok(const pv_store_record *r)
{
	return ID_OK(r->id) && ID_OK(r->subject_id) && NAME_OK(r->category) && NAME_OK(r->purpose) &&
	       (r->source[0] == '\0' || NAME_OK(r->source)) &&   /* "" = no source stated (pv_record_spec.source NULL) */
	       str_ok(r->policy_version, PV_HASH_HEX_LEN) &&
	       (r->ciphertext != NULL || r->ciphertext_len == 0);
}

int pv_store_record_insert(pv_store *s, const pv_store_record *r)
{
	CHECK(s != NULL && r != NULL, "missing argument");
	CHECK(record_ok(r), "record: a field is empty or too long");
	return s->ops->record_insert(s, r);
}

int pv_store_record_update(pv_store *s, const pv_store_record *r)
{
	CHECK(s != NULL && r != NULL, "missing argument");
	CHECK(ID_OK(r->id) && ID_OK(r->subject_id), "record: id or subject_id empty or too long");
	CHECK(r->ciphertext != NULL || r->ciphertext_len == 0, "ciphertext: missing");
	return s->ops->record_update(s, r);
}

int pv_store_record_get(pv_store *s, const char *subject_id, const char *record_id,
			pv_store_record *out, uint8_t **buf)
{
	CHECK(s != NULL && out != NULL && buf != NULL, "missing argument");
	*buf = NULL;
	CHECK(ID_OK(subject_id) && ID_OK(record_id), "id: expected 1..36 bytes");
	return s->ops->record_get(s, subject_id, record_id, out, buf);
}

int pv_store_record_each(pv_store *s, const char *subject_id, const char *category,
			 int (*cb)(const pv_store_record *r, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	CHECK(category == NULL || NAME_OK(category), "category: expected 1..64 bytes");
	return s->ops->record_each(s, subject_id, category, cb, payload);
}

int pv_store_record_delete_subject(pv_store *s, const char *subject_id, size_t *out_deleted)
{
	CHECK(s != NULL, "no store");
	if (out_deleted != NULL)
		*out_deleted = 0;
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->record_delete_subject(s, subject_id, out_deleted);
}

int pv_store_record_count_categories(pv_store *s, const char *subject_id,
				     int (*cb)(const char *category, size_t count, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	CHECK(ID_OK(subject_id), "subject_id: expected 1..36 bytes");
	return s->ops->record_count_categories(s, subject_id, cb, payload);
}

int pv_store_record_count(pv_store *s, int64_t *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	return s->ops->record_count(s, out);
}

int pv_store_suppression_insert(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN],
				const char *reason, pv_time at)
{
	CHECK(s != NULL && bi != NULL && reason != NULL, "missing argument");
	CHECK(str_ok(kind, 32), "kind: expected 1..32 bytes");
	return s->ops->suppression_insert(s, kind, bi, reason, at);
}

int pv_store_suppression_find(pv_store *s, const char *kind, const uint8_t bi[PV_BLIND_INDEX_LEN])
{
	CHECK(s != NULL && bi != NULL, "missing argument");
	CHECK(str_ok(kind, 32), "kind: expected 1..32 bytes");
	return s->ops->suppression_find(s, kind, bi);
}

int pv_store_audit_append(pv_store *s, const pv_audit_entry *e)
{
	int rc;

	CHECK(s != NULL && e != NULL, "missing argument");
	CHECK(e->seq > 0, "seq: expected 1 or more");
	CHECK(str_ok(e->actor, sizeof(e->actor) - 1) && str_ok(e->action, sizeof(e->action) - 1) &&
	      str_ok(e->outcome, sizeof(e->outcome) - 1), "actor, action or outcome empty or too long");
	CHECK(strnlen(e->subject_id, sizeof(e->subject_id)) < sizeof(e->subject_id) &&
	      strnlen(e->purpose, sizeof(e->purpose)) < sizeof(e->purpose) &&
	      strnlen(e->category, sizeof(e->category)) < sizeof(e->category),
	      "subject_id, purpose or category not terminated");
	rc = s->ops->audit_append(s, e);
	if (rc == 0 && s->in_tx)
		s->tx_audits++;   /* the relaxed-commit guard compares this with the rows changed */
	return rc;
}

int pv_store_audit_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN])
{
	CHECK(s != NULL && seq != NULL && hash != NULL, "missing argument");
	return s->ops->audit_head(s, seq, hash);
}

int pv_store_audit_each(pv_store *s, int64_t from, int64_t limit,
			int (*cb)(const pv_audit_entry *e, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	CHECK(limit >= 0, "limit: expected 0 (all) or more");
	return s->ops->audit_each(s, from, limit, cb, payload);
}

int pv_store_checkpoint_insert(pv_store *s, const pv_store_checkpoint *c)
{
	CHECK(s != NULL && c != NULL, "missing argument");
	CHECK(c->seq > 0, "seq: expected 1 or more");
	return s->ops->checkpoint_insert(s, c);
}

int pv_store_checkpoint_each(pv_store *s, int (*cb)(const pv_store_checkpoint *c, void *payload),
			     void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	return s->ops->checkpoint_each(s, cb, payload);
}

/* ---- API keys (appended by the HTTP server engineer, issue 3) ---- */

#define APIKEY_OPS(s) \
	do { \
		if ((s)->ops->apikey_insert == NULL) \
			return pv_error_set(PV_ESTORE, "store: api_keys: not supported by the %s backend", \
					    (s)->ops->name); \
	} while (0)

static int apikey_id_ok(const char *id)
{
	size_t n = id != NULL ? strnlen(id, 17) : 0;

	if (n != 16)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

int pv_store_apikey_insert(pv_store *s, const pv_store_apikey *k)
{
	CHECK(s != NULL && k != NULL, "missing argument");
	CHECK(apikey_id_ok(k->id), "id: expected 16 lower-case hex characters");
	CHECK(str_ok(k->name, sizeof(k->name) - 1), "name: expected 1..128 bytes");
	CHECK(strnlen(k->grants, sizeof(k->grants)) < sizeof(k->grants), "grants: not terminated");
	APIKEY_OPS(s);
	return s->ops->apikey_insert(s, k);
}

int pv_store_apikey_get(pv_store *s, const char *id, pv_store_apikey *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	CHECK(apikey_id_ok(id), "id: expected 16 lower-case hex characters");
	APIKEY_OPS(s);
	return s->ops->apikey_get(s, id, out);
}

int pv_store_apikey_each(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	APIKEY_OPS(s);
	return s->ops->apikey_each(s, cb, payload);
}

int pv_store_apikey_revoke(pv_store *s, const char *id, pv_time at)
{
	CHECK(s != NULL, "no store");
	CHECK(apikey_id_ok(id), "id: expected 16 lower-case hex characters");
	APIKEY_OPS(s);
	return s->ops->apikey_revoke(s, id, at);
}
