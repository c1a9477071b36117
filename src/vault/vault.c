/*
 * The vault handle: init, open, close, policy versions, transactions and
 * the accessors other modules use.
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VAULT_DB_NAME "vault.db"
#define VAULT_KEY_NAME "privault.key"
#define VAULT_SYSTEM_ACTOR "privault"

/* ---- paths and URLs ---------------------------------------------------- */

/* Join dir and name into out. PV_ELIMIT if too long. */
static int path_join(char *out, size_t size, const char *dir, const char *name)
{
	int n = snprintf(out, size, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= size)
		return pv_error_set(PV_ELIMIT, "dir: path longer than %zu bytes", size - 1);
	return 0;
}

/* The store URL: opts->store, else $PRIVAULT_STORE, else "sqlite:DIR/vault.db". */
static int resolve_store_url(char *out, size_t size, const char *dir, const pv_vault_options *opts)
{
	const char *url = opts && opts->store ? opts->store : getenv("PRIVAULT_STORE");
	int n;

	if (url && *url)
		n = snprintf(out, size, "%s", url);
	else
		n = snprintf(out, size, "sqlite:%s/%s", dir, VAULT_DB_NAME);
	if (n < 0 || (size_t)n >= size)
		return pv_error_set(PV_ELIMIT, "store: URL longer than %zu bytes", size - 1);
	return 0;
}

/* The file of a SQLite URL ("sqlite:PATH" or a plain path), NULL for other backends. */
static const char *sqlite_file_of(const char *url)
{
	if (strncmp(url, "sqlite:", 7) == 0)
		return url + 7;
	if (strstr(url, "://") || strncmp(url, "postgres", 8) == 0)
		return NULL;
	return url;
}

/* The key file: opts->key_file, else DIR/privault.key. */
static int resolve_key_path(char *out, size_t size, const char *dir, const pv_vault_options *opts)
{
	if (opts && opts->key_file) {
		int n = snprintf(out, size, "%s", opts->key_file);
		if (n < 0 || (size_t)n >= size)
			return pv_error_set(PV_ELIMIT, "key_file: path longer than %zu bytes", size - 1);
		return 0;
	}
	return path_join(out, size, dir, VAULT_KEY_NAME);
}

/*
 * Load a policy file, turning its first diagnostic into the error message.
 * Returns 0, PV_EPOLICY, PV_EIO or PV_ENOMEM; *out freed with pv_policy_free.
 */
static int load_policy_file(pv_policy **out, const char *path)
{
	pv_policy_diags *diags = NULL;
	char line[512];
	int rc;

	*out = NULL;
	rc = pv_policy_diags_new(&diags);
	if (rc < 0)
		return rc;
	rc = pv_policy_load_file(out, path, diags);
	if (rc < 0 && pv_policy_diags_count(diags) > 0) {
		pv_policy_diag_format(pv_policy_diags_at(diags, 0), line, sizeof(line));
		rc = pv_error_set(rc, "policy: %s (%zu error%s)", line, pv_policy_diags_count(diags),
				  pv_policy_diags_count(diags) == 1 ? "" : "s");
	}
	pv_policy_diags_free(diags);
	return rc;
}

/* ---- policy cache ------------------------------------------------------ */

/* Add a loaded policy to the cache (taking ownership); *out_index gets its slot. */
static int cache_add(pv_vault *v, pv_policy *p, size_t *out_index)
{
	if (v->npolicies == v->cappolicies) {
		size_t cap = v->cappolicies ? v->cappolicies * 2 : 4;
		pv_vault_policy_slot *n = realloc(v->policies, cap * sizeof(*n));
		if (!n)
			return pv_error_set(PV_ENOMEM, "policy cache: out of memory");
		v->policies = n;
		v->cappolicies = cap;
	}
	snprintf(v->policies[v->npolicies].hash, sizeof(v->policies[0].hash), "%s", pv_policy_hash(p));
	v->policies[v->npolicies].policy = p;
	*out_index = v->npolicies++;
	return 0;
}

static int cache_find(const pv_vault *v, const char *hash, size_t *out_index)
{
	for (size_t i = 0; i < v->npolicies; i++) {
		if (strcmp(v->policies[i].hash, hash) == 0) {
			*out_index = i;
			return 1;
		}
	}
	return 0;
}

/*
 * The slot of policy version `hash`: from the cache, or loaded from the store
 * (its text re-validated and its hash checked). PV_ENOTFOUND if unknown.
 */
static int policy_slot(pv_vault *v, const char *hash, size_t *out_index)
{
	char *yaml = NULL, name[32];
	size_t len = 0;
	pv_policy *p = NULL;
	int rc;

	if (!hash || strlen(hash) != PV_HASH_HEX_LEN)
		return pv_error_set(PV_EINVAL, "policy_version: expected %d hex characters", PV_HASH_HEX_LEN);
	if (cache_find(v, hash, out_index))
		return 0;
	rc = pv_store_policy_get(v->store, hash, &yaml, &len);
	if (rc < 0)
		return rc == PV_ENOTFOUND ? pv_error_set(rc, "policy_version: %.12s... unknown", hash) : rc;
	snprintf(name, sizeof(name), "policy:%.12s", hash);
	rc = pv_policy_load_buffer(&p, name, yaml, len, NULL);
	free(yaml);
	if (rc < 0)
		return pv_error_set(PV_EPOLICY, "policy_version: %.12s... no longer validates", hash);
	if (strcmp(pv_policy_hash(p), hash) != 0) {
		pv_policy_free(p);
		return pv_error_set(PV_ETAMPER, "policy_version: %.12s... stored text does not match its hash", hash);
	}
	rc = cache_add(v, p, out_index);
	if (rc < 0)
		pv_policy_free(p);
	return rc;
}

int pv_vault_policy_load(pv_vault *v, const char *hash, const pv_policy **out)
{
	size_t i;
	int rc = policy_slot(v, hash, &i);

	if (rc < 0)
		return rc;
	*out = v->policies[i].policy;
	return 0;
}

const char *pv_vault_policy_hash(pv_vault *v)
{
	return v->policies[v->current].hash;
}

const pv_policy *pv_vault_policy(pv_vault *v)
{
	return v && v->npolicies ? v->policies[v->current].policy : NULL;
}

int pv_vault_policy_get(pv_vault *v, const char *hash, const pv_policy **out)
{
	if (!v || !out)
		return pv_error_set(PV_EINVAL, "vault: expected a handle and an output");
	return pv_vault_policy_load(v, hash, out);
}

/* Make the version named in meta current_policy the current one. */
static int load_current_policy(pv_vault *v)
{
	char hash[PV_HASH_HEX_LEN + 1];
	size_t i;
	int rc = pv_store_meta_get(v->store, "current_policy", hash, sizeof(hash));

	if (rc < 0)
		return rc == PV_ENOTFOUND ? pv_error_set(rc, "vault: no current policy (not a vault?)") : rc;
	rc = policy_slot(v, hash, &i);
	if (rc < 0)
		return rc;
	v->current = i;
	return 0;
}

/*
 * Load the policy file at `path` as a new version and make it current. The
 * same content as the current version is a no-op; a former version's content
 * becomes current again. Admin only. out_hash gets the version's hash.
 */
int pv_vault_policy_add(pv_vault *v, const pv_caller *caller, const char *path, char out_hash[PV_HASH_HEX_LEN + 1])
{
	pv_policy *p = NULL;
	const char *src;
	size_t i, len, prev;
	int rc, added = 0;
	char outcome[64];

	if (!v || !path)
		return pv_error_set(PV_EINVAL, "policy: expected a vault and a path");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if (caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "caller: only an admin may add a policy version");
	rc = load_policy_file(&p, path);
	if (rc < 0)
		return rc;
	if (out_hash)
		snprintf(out_hash, PV_HASH_HEX_LEN + 1, "%s", pv_policy_hash(p));
	if (strcmp(pv_policy_hash(p), pv_vault_policy_hash(v)) == 0) {
		pv_policy_free(p);
		return 0;
	}
	if (cache_find(v, pv_policy_hash(p), &i)) {
		pv_policy_free(p);
	} else {
		rc = cache_add(v, p, &i);
		if (rc < 0) {
			pv_policy_free(p);
			return rc;
		}
		added = 1;
	}
	p = v->policies[i].policy;
	src = pv_policy_source(p, &len);
	snprintf(outcome, sizeof(outcome), "ok:%.16s", v->policies[i].hash);
	prev = v->current;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto fail;
	rc = pv_store_policy_insert(v->store, v->policies[i].hash, src, len, pv_clock_now(), pv_policy_effective(p));
	if (rc == 0)
		rc = pv_store_meta_set(v->store, "current_policy", v->policies[i].hash);
	if (rc == 0)
		rc = pv_audit_append(v->audit, caller->name, "policy.add", NULL, NULL, NULL, outcome);
	rc = pv_vault_tx_end(v, rc);
	if (rc == 0) {
		v->current = i;
		return 0;
	}
fail:
	v->current = prev;
	if (added && i == v->npolicies - 1) {
		pv_policy_free(v->policies[i].policy);
		v->npolicies--;
	}
	return rc;
}

/* ---- transactions ------------------------------------------------------ */

int pv_vault_tx_begin(pv_vault *v)
{
	if (v->batch)
		return 0;
	return pv_store_begin(v->store);
}

/*
 * End an operation's transaction: commit when rc == 0, else roll back and
 * make the audit reload its head; the failure's message survives the
 * rollback. Inside a batch nothing is committed; a failure marks the batch
 * failed (its writes so far cannot be undone alone), so the batch's commit
 * will refuse and roll everything back. Operations therefore validate
 * everything (and read what they need) before pv_vault_tx_begin(), so that
 * an input error inside a batch fails only that one operation.
 */
int pv_vault_tx_end(pv_vault *v, int rc)
{
	char msg[PV_ERRMSG_MAX];

	if (v->batch) {
		if (rc < 0)
			v->batch_failed = 1;
		return rc;
	}
	if (rc == 0) {
		rc = pv_store_commit(v->store);
		if (rc == 0)
			return 0;
	}
	snprintf(msg, sizeof(msg), "%s", pv_error_last());
	pv_store_rollback(v->store);
	pv_audit_forget(v->audit);
	pv_vault_epochs_forget(v);   /* a frontier created or pruned in the transaction is undone too */
	return pv_error_set(rc, "%s", msg);
}

/*
 * Begin a batch: every write until pv_vault_commit() shares one transaction.
 * PV_TX_RELAXED: its commit may skip the wait for stable storage (vault.h).
 */
int pv_vault_begin_ex(pv_vault *v, unsigned flags)
{
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "vault: expected a handle");
	if (v->batch)
		return pv_error_set(PV_EINVAL, "batch: already open (batches do not nest)");
	if (flags & ~PV_TX_RELAXED)
		return pv_error_set(PV_EINVAL, "batch: flags: expected 0 or PV_TX_RELAXED");
	pv_vault_put_cache_wipe(v);
	rc = (flags & PV_TX_RELAXED) ? pv_store_begin_relaxed(v->store) : pv_store_begin(v->store);
	if (rc < 0)
		return rc;
	v->batch = 1;
	v->batch_failed = 0;
	return 0;
}

int pv_vault_begin(pv_vault *v)
{
	return pv_vault_begin_ex(v, 0);
}

/* Roll the batch back and reload what the rollback may have undone (audit head, current policy). */
static void batch_abort(pv_vault *v)
{
	char msg[PV_ERRMSG_MAX];
	int code = pv_error_last_code();

	snprintf(msg, sizeof(msg), "%s", pv_error_last());
	pv_vault_put_cache_wipe(v);
	pv_store_rollback(v->store);
	pv_audit_forget(v->audit);
	pv_vault_epochs_forget(v);
	v->batch = 0;
	v->batch_failed = 0;
	load_current_policy(v);
	if (code < 0)
		pv_error_set(code, "%s", msg);
}

/* Commit the batch. If a write failed midway inside it, everything is rolled back instead (PV_ESTORE). */
int pv_vault_commit_ex(pv_vault *v, int *out_relaxed)
{
	int rc;

	if (out_relaxed)
		*out_relaxed = 0;
	if (!v || !v->batch)
		return pv_error_set(PV_EINVAL, "batch: none open");
	pv_vault_put_cache_wipe(v);
	if (v->batch_failed) {
		pv_error_set(PV_ESTORE, "batch: a write failed midway; the whole batch was rolled back");
		batch_abort(v);
		return PV_ESTORE;
	}
	rc = pv_store_commit(v->store);
	if (rc < 0) {
		batch_abort(v);
		return rc;
	}
	v->batch = 0;
	if (out_relaxed)
		*out_relaxed = pv_store_last_commit_relaxed(v->store);
	return 0;
}

int pv_vault_commit(pv_vault *v)
{
	return pv_vault_commit_ex(v, NULL);
}

/* Make every commit so far durable (after relaxed batches). Outside a batch only. */
int pv_vault_sync(pv_vault *v)
{
	if (!v)
		return pv_error_set(PV_EINVAL, "vault: expected a handle");
	if (v->batch)
		return pv_error_set(PV_EINVAL, "sync: a batch is open (commit it first)");
	return pv_store_sync(v->store);
}

int pv_vault_rollback(pv_vault *v)
{
	if (!v || !v->batch)
		return pv_error_set(PV_EINVAL, "batch: none open");
	pv_error_clear();
	batch_abort(v);
	return 0;
}

/* ---- accessors --------------------------------------------------------- */

pv_store *pv_vault_store(pv_vault *v)
{
	return v ? v->store : NULL;
}

pv_audit *pv_vault_audit(pv_vault *v)
{
	return v ? v->audit : NULL;
}

const pv_keyring *pv_vault_keyring(pv_vault *v)
{
	return v ? v->keys : NULL;
}

int pv_vault_audit_action(pv_vault *v, const pv_caller *caller, const char *action, const char *outcome)
{
	int rc;

	if (!v || !action)
		return pv_error_set(PV_EINVAL, "audit: expected a vault and an action");
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_audit_append(v->audit, caller->name, action, NULL, NULL, NULL, outcome ? outcome : "ok");
	return pv_vault_tx_end(v, rc);
}

const char *pv_vault_audit_id(const char *s)
{
	return s && pv_id_valid(s, PV_ID_MAX) ? s : NULL;
}

/* ---- data keys --------------------------------------------------------- */

int pv_vault_dek_load(pv_vault *v, const char *subject_id)
{
	pv_store_key k;
	int rc = pv_store_key_get(v->store, subject_id, &k);

	if (rc < 0)
		return rc == PV_ENOTFOUND ? pv_error_set(rc, "subject %s: data key not found", subject_id) : rc;
	rc = pv_dek_unwrap(v->keys, k.kek_version, subject_id, k.wrapped, v->dek);
	sodium_memzero(&k, sizeof(k));
	if (rc < 0)
		pv_vault_dek_wipe(v);
	return rc;
}

void pv_vault_dek_wipe(pv_vault *v)
{
	if (v && v->dek)
		sodium_memzero(v->dek, PV_DEK_LEN);
	if (v && v->epochs)
		pv_vault_record_key_wipe(v);
}

/* ---- the batch's subject cache ------------------------------------------ */

/*
 * A batch that creates a subject and then puts its records (an import, the
 * ingest benchmark) would otherwise reload the subject row and unwrap its data
 * key on every put. The cache holds one subject, is valid only inside the
 * batch's store transaction, and is wiped whenever the batch ends or a
 * subject's state or key may change.
 */
void pv_vault_put_cache_wipe(pv_vault *v)
{
	if (!v)
		return;
	v->put_cached = 0;
	v->put_tx = 0;
	v->put_until = 0;
	sodium_memzero(&v->put_subj, sizeof(v->put_subj));
	if (v->put_dek)
		sodium_memzero(v->put_dek, PV_DEK_LEN);
}

void pv_vault_put_cache_set(pv_vault *v, const pv_subject_info *subj, const uint8_t *dek)
{
	uint64_t tx = pv_store_tx_serial(v->store);

	if (!v->batch || tx == 0 || !v->put_dek) {
		pv_vault_put_cache_wipe(v);
		return;
	}
	v->put_subj = *subj;
	v->put_until = 0;
	memcpy(v->put_dek, dek, PV_DEK_LEN);
	v->put_tx = tx;
	v->put_cached = 1;
}

int pv_vault_put_cache_get(pv_vault *v, const char *subject_id, pv_subject_info *out, const uint8_t **dek)
{
	if (!v->put_cached || !v->batch || !subject_id || v->put_tx != pv_store_tx_serial(v->store)
	    || strncmp(v->put_subj.id, subject_id, sizeof(v->put_subj.id)) != 0)
		return 0;
	*out = v->put_subj;
	*dek = v->put_dek;
	return 1;
}

/* ---- open and close ---------------------------------------------------- */

void pv_vault_close(pv_vault *v)
{
	if (!v)
		return;
	pv_vault_put_cache_wipe(v);
	if (v->batch && v->store) {
		pv_store_rollback(v->store);
		v->batch = 0;
	}
	if (pv_store_last_commit_relaxed(v->store))
		pv_store_sync(v->store);   /* a relaxed last commit becomes durable before the handle goes */
	pv_audit_close(v->audit);
	pv_store_close(v->store);
	pv_keyring_free(v->keys);
	pv_secret_free(v->dek);
	pv_vault_epochs_free(v->epochs);
	pv_secret_free(v->put_dek);
	pv_secret_free((uint8_t *)v->norm);
	pv_vault_arena_unref(v->arena);   /* record lists still alive keep the pool */
	for (size_t i = 0; i < v->npolicies; i++)
		pv_policy_free(v->policies[i].policy);
	free(v->policies);
	free(v);
}

/*
 * Open the vault in `dir`: the store (opts->store, $PRIVAULT_STORE or
 * DIR/vault.db), the keyring ($PRIVAULT_KEYS, opts->key_file or
 * DIR/privault.key), the audit chain and the current policy version.
 * *out is freed with pv_vault_close().
 */
int pv_vault_open(pv_vault **out, const char *dir, const pv_vault_options *opts)
{
	pv_vault *v = NULL;
	char url[PV_VAULT_PATH_MAX + 16], id[PV_ID_LEN + 8];
	const char *file;
	struct stat st;
	int rc;

	if (!out || !dir || !*dir)
		return pv_error_set(PV_EINVAL, "dir: expected a directory");
	*out = NULL;
	if ((rc = pv_crypto_init()) < 0)
		return rc;
	v = calloc(1, sizeof(*v));
	if (!v)
		return pv_error_set(PV_ENOMEM, "vault: out of memory");
	if (snprintf(v->dir, sizeof(v->dir), "%s", dir) >= (int)sizeof(v->dir)) {
		rc = pv_error_set(PV_ELIMIT, "dir: path too long");
		goto fail;
	}
	if ((rc = resolve_key_path(v->key_path, sizeof(v->key_path), dir, opts)) < 0)
		goto fail;
	if ((rc = resolve_store_url(url, sizeof(url), dir, opts)) < 0)
		goto fail;
	file = sqlite_file_of(url);
	if (file && stat(file, &st) != 0) {
		rc = pv_error_set(PV_ENOTFOUND, "vault: no database in the vault directory (run init first)");
		goto fail;
	}
	v->dek = pv_secret_alloc(PV_DEK_LEN);
	v->put_dek = pv_secret_alloc(PV_DEK_LEN);
	v->norm = (char *)pv_secret_alloc(PV_IDENT_VALUE_MAX + 1);
	if (!v->dek || !v->put_dek || !v->norm) {
		rc = pv_error_set(PV_ENOMEM, "vault: cannot allocate guarded memory");
		goto fail;
	}
	if ((rc = pv_vault_arena_new(&v->arena)) < 0 || (rc = pv_vault_epochs_new(&v->epochs)) < 0)
		goto fail;
	if ((rc = pv_keyring_load(&v->keys, v->key_path)) < 0)
		goto fail;
	if ((rc = pv_store_open(&v->store, url, 0)) < 0)
		goto fail;
	rc = pv_store_meta_get(v->store, "vault_id", id, sizeof(id));
	if (rc < 0) {
		if (rc == PV_ENOTFOUND)
			rc = pv_error_set(PV_ENOTFOUND, "vault: the store holds no vault (run init first)");
		goto fail;
	}
	rc = pv_audit_open(&v->audit, v->store, v->keys,
			   opts && opts->checkpoint_every > 0 ? opts->checkpoint_every : PV_AUDIT_CHECKPOINT_EVERY);
	if (rc < 0)
		goto fail;
	if ((rc = load_current_policy(v)) < 0)
		goto fail;
	*out = v;
	return 0;
fail:
	pv_vault_close(v);
	return rc;
}

/* Remove a file we created, with the SQLite side files. */
static void remove_db_files(const char *file)
{
	char side[PV_VAULT_PATH_MAX + 48];

	unlink(file);
	snprintf(side, sizeof(side), "%s-wal", file);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", file);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", file);
	unlink(side);
}

/* Remove `dir` and then its parents, `count` directories in all (the ones mkdirs created). */
static void rmdirs_n(const char *dir, int count)
{
	char path[PV_VAULT_PATH_MAX];
	char *slash;

	snprintf(path, sizeof(path), "%s", dir);
	while (count-- > 0) {
		/* the created ones are the deepest: drop a trailing slash, remove, go up */
		size_t n = strlen(path);

		while (n > 1 && path[n - 1] == '/')
			path[--n] = '\0';
		rmdir(path);
		if ((slash = strrchr(path, '/')) == NULL)
			break;
		*(slash == path ? slash + 1 : slash) = '\0';
	}
}

/*
 * Create directory `dir` (0700) and every missing parent (0700, like mkdir -p).
 * Returns how many directories it created (0..), or -1 with errno set; on
 * failure it removes what it created. rmdirs() undoes a successful call.
 */
static int mkdirs(const char *dir)
{
	char path[PV_VAULT_PATH_MAX];
	struct stat st;
	int made = 0, e;
	size_t i, n = strlen(dir);

	if (n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (stat(path, &st) != 0) {
			if (mkdir(path, 0700) != 0)
				goto fail;
			made++;
		} else if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			goto fail;
		}
		path[i] = i < n ? '/' : '\0';
	}
	return made;
fail:
	/* path ends with the component that failed; the ones made are its parents */
	e = errno;
	if (made > 0) {
		char *slash = strrchr(path, '/');

		if (slash != NULL)
			*slash = '\0';
		rmdirs_n(path, made);
	}
	errno = e;
	return -1;
}

/*
 * Create a vault in `dir`: the directory (0700) and its missing parents, a key file (0600)
 * unless PRIVAULT_KEYS is set, the store with its schema, vault_id and
 * created_at, the policy as first version, and the audit entry "vault.init".
 * On failure everything this call created is removed again.
 */
int pv_vault_init(const char *dir, const char *policy_path, const pv_vault_options *opts)
{
	char url[PV_VAULT_PATH_MAX + 16], key_path[PV_VAULT_PATH_MAX], id[PV_ID_LEN + 8], when[32];
	const char *file, *src, *keys_env = getenv("PRIVAULT_KEYS");
	pv_policy *p = NULL;
	pv_keyring *keys = NULL;
	pv_store *store = NULL;
	pv_audit *audit = NULL;
	int rc, made_dir = 0, made_key = 0, made_db = 0, in_tx = 0;
	struct stat st;
	size_t len;

	if (!dir || !*dir || !policy_path)
		return pv_error_set(PV_EINVAL, "init: expected a directory and a policy file");
	if ((rc = pv_crypto_init()) < 0)
		return rc;
	if ((rc = resolve_key_path(key_path, sizeof(key_path), dir, opts)) < 0)
		return rc;
	if ((rc = resolve_store_url(url, sizeof(url), dir, opts)) < 0)
		return rc;
	file = sqlite_file_of(url);
	if (file && stat(file, &st) == 0)
		return pv_error_set(PV_EEXISTS, "vault: a database already exists there");
	/* The policy first: an invalid policy must not leave anything behind. */
	if ((rc = load_policy_file(&p, policy_path)) < 0)
		return rc;

	if (stat(dir, &st) != 0) {
		if ((made_dir = mkdirs(dir)) < 0) {
			made_dir = 0;
			rc = pv_error_set(PV_EIO, "dir: cannot create (%s)", strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		rc = pv_error_set(PV_EINVAL, "dir: exists and is not a directory");
		goto fail;
	}
	if (!keys_env || !*keys_env) {
		if ((rc = pv_keyring_create_file(key_path)) < 0)
			goto fail;
		made_key = 1;
	}
	if ((rc = pv_keyring_load(&keys, key_path)) < 0)
		goto fail;
	made_db = file != NULL;
	if ((rc = pv_store_open(&store, url, 1)) < 0)
		goto fail;
	rc = pv_store_meta_get(store, "vault_id", id, sizeof(id));
	if (rc == 0) {
		made_db = 0;
		rc = pv_error_set(PV_EEXISTS, "vault: the store already holds a vault");
		goto fail;
	}
	if (rc != PV_ENOTFOUND)
		goto fail;
	rc = pv_audit_open(&audit, store, keys,
			   opts && opts->checkpoint_every > 0 ? opts->checkpoint_every : PV_AUDIT_CHECKPOINT_EVERY);
	if (rc < 0)
		goto fail;

	if ((rc = pv_store_begin(store)) < 0)
		goto fail;
	in_tx = 1;
	pv_uuid_new(id);
	src = pv_policy_source(p, &len);
	if ((rc = pv_store_meta_set(store, "vault_id", id)) < 0)
		goto fail;
	if ((rc = pv_store_meta_set(store, "created_at", pv_time_format(pv_clock_now(), when, sizeof(when)))) < 0)
		goto fail;
	if ((rc = pv_store_policy_insert(store, pv_policy_hash(p), src, len, pv_clock_now(), pv_policy_effective(p))) < 0)
		goto fail;
	if ((rc = pv_store_meta_set(store, "current_policy", pv_policy_hash(p))) < 0)
		goto fail;
	if ((rc = pv_audit_append(audit, VAULT_SYSTEM_ACTOR, "vault.init", NULL, NULL, NULL, "ok")) < 0)
		goto fail;
	if ((rc = pv_store_commit(store)) < 0)
		goto fail;
	in_tx = 0;
	pv_audit_close(audit);
	pv_store_close(store);
	pv_keyring_free(keys);
	pv_policy_free(p);
	return 0;
fail: {
		char msg[PV_ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s", pv_error_last());
		if (in_tx)
			pv_store_rollback(store);
		pv_audit_close(audit);
		pv_store_close(store);
		pv_keyring_free(keys);
		pv_policy_free(p);
		if (made_db)
			remove_db_files(file);
		if (made_key)
			unlink(key_path);
		rmdirs_n(dir, made_dir);
		return pv_error_set(rc, "%s", msg);
	}
}
