/*
 * The public store administration of include/privault/store.h: migrations
 * with a report, and verified copies of a whole vault between stores.
 *
 * A copy is backend-independent: every schema table (pv_store_table_names)
 * is read row by row from the source (pv_store_table_each) and inserted into
 * the destination (pv_store_table_insert), all in one destination
 * transaction, so a failed copy leaves nothing behind. The verification
 * needs the keys, so this file sits above the store: it uses the keyring,
 * the record AEAD and the audit verifier, and decrypts into guarded memory
 * that is wiped at once (nothing decrypted is kept or printed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit.h"
#include "core/error.h"
#include "crypto/crypto.h"
#include "privault/store.h"
#include "store/backend.h"

/* ---- migrate ---------------------------------------------------------------------------------- */

typedef struct {
	int64_t before;
	int (*cb)(const pv_migration_info *m, void *payload);
	void *payload;
} migrate_ctx;

static int report_migration(int64_t version, const char *description, pv_time applied_at, void *payload)
{
	migrate_ctx *c = payload;
	pv_migration_info m;

	m.version = version;
	m.description = description;
	m.applied_at = applied_at;
	m.applied_now = applied_at != 0 && version > c->before;
	return c->cb != NULL ? c->cb(&m, c->payload) : 0;
}

int pv_migrate(const char *url, int64_t *out_before, int64_t *out_after,
	       int (*cb)(const pv_migration_info *m, void *payload), void *payload)
{
	migrate_ctx c = { 0, cb, payload };
	pv_store *s = NULL;
	int64_t after = 0;
	int rc;

	if ((rc = pv_store_open(&s, url, 0)) != 0)
		return rc;
	c.before = pv_store_schema_version_before(s);
	rc = pv_store_schema_version(s, &after);
	if (rc == 0)
		rc = pv_store_migration_each(s, report_migration, &c);
	pv_store_close(s);
	if (rc == 0 && out_before != NULL)
		*out_before = c.before;
	if (rc == 0 && out_after != NULL)
		*out_after = after;
	return rc;
}

/* ---- copy ------------------------------------------------------------------------------------- */

typedef struct {
	pv_store *from, *to;
	pv_copy_report *rep;
	const char *table;
	int64_t rows;
} copy_ctx;

static int copy_row(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	copy_ctx *c = payload;
	size_t i;

	/* the destination's migrations wrote its own schema_version (the same: both are current) */
	if (strcmp(c->table, "meta") == 0)
		for (i = 0; i < n; i++)
			if (strcmp(cols[i], "key") == 0 && vals[i].type == PV_STORE_TEXT &&
			    vals[i].len == 14 && memcmp(vals[i].p, "schema_version", 14) == 0)
				return 0;
	c->rows++;
	return pv_store_table_insert(c->to, c->table, cols, vals, n);
}

static int copy_table(const char *table, void *payload)
{
	copy_ctx *c = payload;
	int rc;

	if (c->rep->ntables >= PV_COPY_MAX_TABLES)
		return pv_error_set(PV_ELIMIT, "copy: more than %d tables", PV_COPY_MAX_TABLES);
	c->table = table;
	c->rows = 0;
	rc = pv_store_table_each(c->from, table, copy_row, c);
	if (rc != 0)
		return pv_error_wrap(rc, "copy: table %s", table);
	snprintf(c->rep->tables[c->rep->ntables].name, sizeof(c->rep->tables[0].name), "%s", table);
	c->rep->ntables++;
	return 0;
}

typedef struct {
	pv_store *s;
	const pv_keyring *keys;
	uint8_t *dek;
	uint8_t *pt;
	size_t pt_cap;
	pv_copy_report *rep;
	char subject[PV_ID_LEN + 1];
	uint8_t *tree;          /* guarded: the retention epoch frontier, once a record needs it */
	size_t tree_len;
	uint8_t *rkey;          /* guarded: a record's epoch key, then its record key */
} check_ctx;

/* Open one ciphertext into the guarded scratch buffer (grown as needed) and wipe it. */
static int open_wipe(check_ctx *c, const uint8_t *key, const char *record_id, const char *category,
		     const uint8_t *nonce, const uint8_t *ct, size_t ct_len)
{
	int rc;

	if (ct_len < PV_TAG_LEN)
		return pv_error_set(PV_ECRYPTO, "copy check: subject %s: ciphertext shorter than its tag", c->subject);
	if (ct_len - PV_TAG_LEN + 1 > c->pt_cap) {
		pv_secret_free(c->pt);
		c->pt_cap = ct_len + 1024;
		c->pt = pv_secret_alloc(c->pt_cap);
		if (c->pt == NULL)
			return pv_error_set(PV_ENOMEM, "copy check: cannot allocate guarded memory");
	}
	rc = pv_open(key, c->subject, record_id, category, nonce, ct, ct_len, c->pt);
	sodium_memzero(c->pt, ct_len - PV_TAG_LEN);
	return rc;
}

static int tree_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	check_ctx *c = payload;
	const pv_store_value *wrapped = NULL;
	int64_t version = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(cols[i], "kek_version") == 0)
			version = vals[i].type == PV_STORE_INT ? vals[i].i : 0;
		else if (strcmp(cols[i], "wrapped") == 0 && vals[i].type == PV_STORE_BLOB)
			wrapped = &vals[i];
	}
	if (wrapped == NULL)
		return pv_error_set(PV_ESTORE, "copy check: retention_keys row without a frontier");
	return pv_epoch_tree_unwrap(c->keys, version, wrapped->p, wrapped->len, c->tree, &c->tree_len);
}

/* The key record r is sealed with: the subject's data key, or with its retention epoch's key. */
static int record_key(check_ctx *c, const pv_store_record *r, const uint8_t **out)
{
	static const char sel[] = "SELECT kek_version, wrapped FROM retention_keys WHERE id = 1";
	int rc;

	*out = c->dek;
	if (r->key_epoch == 0)
		return 0;
	if (c->tree == NULL && ((c->tree = pv_secret_alloc(PV_EPOCH_TREE_MAX)) == NULL ||
				(c->rkey = pv_secret_alloc(PV_DEK_LEN)) == NULL))
		return pv_error_set(PV_ENOMEM, "copy check: cannot allocate guarded memory");
	if (c->tree_len == 0 && (rc = pv_store_query(c->s, "retention_keys read", sel, NULL, 0, tree_cb, c)) != 0)
		return rc;
	if (c->tree_len == 0)
		return pv_error_set(PV_ESTORE, "copy check: records sealed under retention epochs but no retention_keys row");
	if (r->key_epoch < 0 || r->key_epoch > UINT32_MAX ||
	    (rc = pv_epoch_tree_key(c->tree, c->tree_len, (uint32_t)r->key_epoch, c->rkey)) != 0)
		return pv_error_set(PV_ECRYPTO, "copy check: record %s: its retention epoch key is missing", r->id);
	pv_epoch_record_key(c->rkey, c->dek, c->rkey);
	*out = c->rkey;
	return 0;
}

static int check_record(const pv_store_record *r, void *payload)
{
	check_ctx *c = payload;
	const uint8_t *key;
	int rc = record_key(c, r, &key);

	if (rc != 0)
		return rc;
	rc = open_wipe(c, key, r->id, r->category, r->nonce, r->ciphertext, r->ciphertext_len);

	if (rc != 0)
		return pv_error_set(PV_ECRYPTO, "copy check: record %s of subject %s does not open", r->id, c->subject);
	c->rep->records_decrypted++;
	return 0;
}

static int check_identifier(const pv_store_identifier *id, void *payload)
{
	check_ctx *c = payload;
	char ad_id[sizeof("ident:") + sizeof(id->kind)];
	int rc;

	snprintf(ad_id, sizeof(ad_id), "ident:%s", id->kind);
	rc = open_wipe(c, c->dek, ad_id, id->kind, id->nonce, id->ciphertext, id->ciphertext_len);
	if (rc != 0)
		return pv_error_set(PV_ECRYPTO, "copy check: a %s identifier of subject %s does not open",
				    id->kind, c->subject);
	c->rep->identifiers_decrypted++;
	return 0;
}

/* One subject row of the destination: unwrap its key (erased subjects have none) and open its rows. */
static int check_subject(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	check_ctx *c = payload;
	pv_store_key k;
	size_t i;
	int rc;

	c->subject[0] = '\0';
	for (i = 0; i < n; i++)
		if (strcmp(cols[i], "id") == 0 && vals[i].type == PV_STORE_TEXT && vals[i].len <= PV_ID_LEN) {
			memcpy(c->subject, vals[i].p, vals[i].len);
			c->subject[vals[i].len] = '\0';
		}
	if (c->subject[0] == '\0')
		return pv_error_set(PV_ESTORE, "copy check: a subjects row without a valid id");
	rc = pv_store_key_get(c->s, c->subject, &k);
	if (rc == PV_ENOTFOUND)
		return 0;   /* erased: its rows are gone with the key */
	if (rc != 0)
		return rc;
	rc = pv_dek_unwrap(c->keys, k.kek_version, c->subject, k.wrapped, c->dek);
	sodium_memzero(&k, sizeof(k));
	if (rc != 0)
		return pv_error_set(PV_ECRYPTO, "copy check: the data key of subject %s does not unwrap "
				    "(wrong key file?)", c->subject);
	c->rep->subjects_with_key++;
	rc = pv_store_record_each(c->s, c->subject, NULL, check_record, c);
	if (rc == 0)
		rc = pv_store_identifier_each(c->s, c->subject, check_identifier, c);
	sodium_memzero(c->dek, PV_DEK_LEN);
	return rc;
}

/* Counts, keys and records, audit chain of the destination; fills the report. */
static int verify_copy(pv_store *from, pv_store *to, const pv_keyring *keys, pv_copy_report *rep)
{
	check_ctx c;
	pv_audit_report ar;
	uint8_t pk[PV_PUBKEY_LEN];
	int64_t records = 0;
	size_t i;
	int rc;

	for (i = 0; i < rep->ntables; i++) {
		if ((rc = pv_store_table_count(from, rep->tables[i].name, &rep->tables[i].source_rows)) != 0 ||
		    (rc = pv_store_table_count(to, rep->tables[i].name, &rep->tables[i].dest_rows)) != 0)
			return rc;
		if (rep->tables[i].source_rows != rep->tables[i].dest_rows)
			return pv_error_set(PV_ETAMPER, "copy check: table %s has %lld rows in the source, %lld in "
					    "the destination", rep->tables[i].name,
					    (long long)rep->tables[i].source_rows, (long long)rep->tables[i].dest_rows);
	}
	memset(&c, 0, sizeof(c));
	c.s = to;
	c.keys = keys;
	c.rep = rep;
	c.dek = pv_secret_alloc(PV_DEK_LEN);
	if (c.dek == NULL)
		return pv_error_set(PV_ENOMEM, "copy check: cannot allocate guarded memory");
	rc = pv_store_table_each(to, "subjects", check_subject, &c);
	pv_secret_free(c.dek);
	pv_secret_free(c.pt);
	pv_secret_free(c.tree);
	pv_secret_free(c.rkey);
	if (rc != 0)
		return rc;
	if ((rc = pv_store_record_count(to, &records)) != 0)
		return rc;
	if (records != rep->records_decrypted)
		return pv_error_set(PV_ETAMPER, "copy check: %lld records stored, %lld opened (records without "
				    "a subject key?)", (long long)records, (long long)rep->records_decrypted);
	pv_keyring_public_key(keys, pk);
	rc = pv_audit_verify_store(to, pk, &ar);
	rep->audit_entries = ar.entries;
	rep->audit_checkpoints = ar.checkpoints;
	if (rc != 0)
		return rc;
	rep->verified = 1;
	return 0;
}

int pv_store_copy(const char *from_url, const char *to_url, const char *key_file, pv_copy_report *out)
{
	pv_store *from = NULL, *to = NULL;
	pv_keyring *keys = NULL;
	copy_ctx c;
	char id[PV_ID_LEN + 8];
	int rc, in_tx = 0;

	if (out == NULL || from_url == NULL || to_url == NULL)
		return pv_error_set(PV_EINVAL, "copy: expected a source, a destination and a report");
	memset(out, 0, sizeof(*out));
	if (strcmp(from_url, to_url) == 0)
		return pv_error_set(PV_EINVAL, "copy: source and destination are the same store");
	if ((rc = pv_crypto_init()) != 0)
		return rc;
	if ((rc = pv_keyring_load(&keys, key_file)) != 0)
		return rc;
	if ((rc = pv_store_open(&from, from_url, 0)) != 0) {
		pv_error_wrap(rc, "copy: source");
		goto done;
	}
	if ((rc = pv_store_meta_get(from, "vault_id", id, sizeof(id))) != 0) {
		if (rc == PV_ENOTFOUND)
			rc = pv_error_set(PV_ENOTFOUND, "copy: the source holds no vault");
		goto done;
	}
	if ((rc = pv_store_open(&to, to_url, 1)) != 0) {
		pv_error_wrap(rc, "copy: destination");
		goto done;
	}
	rc = pv_store_meta_get(to, "vault_id", id, sizeof(id));
	if (rc == 0) {
		rc = pv_error_set(PV_EEXISTS, "copy: the destination already holds a vault");
		goto done;
	}
	if (rc != PV_ENOTFOUND)
		goto done;
	if ((rc = pv_store_begin(to)) != 0)
		goto done;
	in_tx = 1;
	memset(&c, 0, sizeof(c));
	c.from = from;
	c.to = to;
	c.rep = out;
	if ((rc = pv_store_table_names(copy_table, &c)) != 0)
		goto done;
	rc = pv_store_commit(to);
	in_tx = 0;
	if (rc != 0)
		goto done;
	rc = verify_copy(from, to, keys, out);
done:
	if (in_tx) {
		char msg[PV_ERRMSG_MAX];

		snprintf(msg, sizeof(msg), "%s", pv_error_last());
		pv_store_rollback(to);
		pv_error_set(rc, "%s", msg);
	}
	pv_store_close(from);
	pv_store_close(to);
	pv_keyring_free(keys);
	return rc;
}
