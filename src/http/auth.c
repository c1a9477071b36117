/*
 * API keys: creation, listing and revocation (include/privault/server.h), and
 * the server's in-memory set of active keys that authenticates requests.
 *
 * A key's text is "pvk_<id>_<secret>": id = 8 random bytes in hex (the lookup
 * key, also shown by `apikey list`), secret = 32 random bytes in hex. The store
 * keeps only BLAKE2b-256(secret); a presented key is hashed and compared in
 * constant time with the stored hash of its id. The secret exists in clear
 * only in guarded memory, once, at creation, and while a request is checked.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/util.h"
#include "http/internal.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define SECRET_LEN 32
#define ID_BYTES (PV_APIKEY_ID_LEN / 2)
#define MAX_GRANTS 64
#define MAX_GRANT_CATS 64

static const char *const role_names[] = { "admin", "service", "auditor" };

int pv_role_parse(const char *text, pv_role *out)
{
	for (int i = 0; i < 3; i++)
		if (text != NULL && strcmp(text, role_names[i]) == 0) {
			*out = (pv_role)i;
			return 0;
		}
	return pv_error_set(PV_EINVAL, "role: expected admin, service or auditor");
}

const char *pv_role_name(pv_role r)
{
	return (unsigned)r < 3 ? role_names[r] : "unknown";
}

/* A key name: a letter, then letters, digits, '_', '.', '-'; 1..128 bytes. */
static int name_ok(const char *s)
{
	size_t n = s != NULL ? strnlen(s, 129) : 0;

	if (n == 0 || n > 128 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

/*
 * Check one grant text "purpose[:cat,cat]" (ids of the policy's shape) and
 * append it to out (space separated). 0 or PV_EINVAL naming grants[i].
 */
static int grant_append(char *out, size_t size, const char *g, size_t i)
{
	char buf[PV_APIKEY_GRANTS_MAX], *colon, *tok, *save = NULL;
	size_t n = strlen(out), ncat = 0;

	if (g == NULL || strlen(g) >= sizeof(buf))
		return pv_error_set(PV_EINVAL, "grants[%zu]: expected purpose[:category,category]", i);
	snprintf(buf, sizeof(buf), "%s", g);
	colon = strchr(buf, ':');
	if (colon != NULL)
		*colon = '\0';
	if (!pv_id_valid(buf, PV_ID_MAX))
		return pv_error_set(PV_EINVAL, "grants[%zu]: purpose: expected an id ([a-z][a-z0-9_]*)", i);
	if (colon != NULL) {
		for (tok = strtok_r(colon + 1, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
			if (!pv_id_valid(tok, PV_ID_MAX) || ++ncat > MAX_GRANT_CATS)
				return pv_error_set(PV_EINVAL, "grants[%zu]: categories: expected up to %d ids", i,
						    MAX_GRANT_CATS);
		}
		if (ncat == 0)
			return pv_error_set(PV_EINVAL, "grants[%zu]: expected purpose[:category,category]", i);
	}
	if (n + strlen(g) + 2 > size)
		return pv_error_set(PV_EINVAL, "grants: longer than %zu bytes in all", size - 1);
	snprintf(out + n, size - n, "%s%s", n > 0 ? " " : "", g);
	return 0;
}

static void info_from_row(pv_apikey_info *o, const pv_store_apikey *k)
{
	memset(o, 0, sizeof(*o));
	memcpy(o->id, k->id, sizeof(o->id));
	snprintf(o->name, sizeof(o->name), "%s", k->name);
	o->role = (pv_role)k->role;
	snprintf(o->grants, sizeof(o->grants), "%s", k->grants);
	o->created_at = k->created_at;
	o->revoked_at = k->revoked_at;
}

/*
 * Run `fn` and an audit entry in one transaction: the caller's batch when one
 * is open (the HTTP executor), else a transaction of our own.
 */
static int in_tx(pv_vault *v, const pv_caller *caller, const char *action, const char *outcome,
		 int (*fn)(pv_store *s, void *payload), void *payload)
{
	pv_store *s = pv_vault_store(v);
	int own = pv_store_tx_serial(s) == 0, rc;

	if (own && (rc = pv_vault_begin(v)) < 0)
		return rc;
	rc = fn(s, payload);
	if (rc == 0)
		rc = pv_vault_audit_action(v, caller, action, outcome);
	if (own) {
		if (rc == 0)
			return pv_vault_commit(v);
		{
			char msg[PV_ERRMSG_MAX];

			snprintf(msg, sizeof(msg), "%s", pv_error_last());
			pv_vault_rollback(v);
			pv_error_set(rc, "%s", msg);
		}
	}
	return rc;
}

static int do_insert(pv_store *s, void *payload)
{
	return pv_store_apikey_insert(s, payload);
}

int pv_apikey_create(pv_vault *v, const pv_caller *caller, const char *name, pv_role role,
		     const char *const *grants, size_t ngrants, char **out_key, pv_apikey_info *out_info)
{
	pv_store_apikey k;
	uint8_t idb[ID_BYTES], *secret = NULL;
	char *text = NULL, outcome[40];
	int rc;

	if (out_key != NULL)
		*out_key = NULL;
	if (v == NULL || caller == NULL || out_key == NULL)
		return pv_error_set(PV_EINVAL, "apikey: expected a vault, a caller and an output");
	if (caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "caller: only an admin may create API keys");
	if (!name_ok(name))
		return pv_error_set(PV_EINVAL, "name: expected a letter then letters, digits, '_', '.', '-' "
				    "(1 to 128 bytes)");
	if ((unsigned)role > PV_ROLE_AUDITOR)
		return pv_error_set(PV_EINVAL, "role: expected admin, service or auditor");
	if (ngrants > MAX_GRANTS)
		return pv_error_set(PV_EINVAL, "grants: at most %d", MAX_GRANTS);
	if (ngrants > 0 && role != PV_ROLE_SERVICE)
		return pv_error_set(PV_EINVAL, "grants: only service keys hold grants (admins may use every "
				    "declared purpose, auditors none)");
	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < ngrants; i++)
		if ((rc = grant_append(k.grants, sizeof(k.grants), grants[i], i)) < 0)
			return rc;
	secret = sodium_malloc(SECRET_LEN);
	text = sodium_malloc(PV_APIKEY_TEXT_LEN + 1);
	if (secret == NULL || text == NULL) {
		rc = pv_error_set(PV_ENOMEM, "apikey: out of memory");
		goto fail;
	}
	randombytes_buf(idb, sizeof(idb));
	randombytes_buf(secret, SECRET_LEN);
	pv_hex_encode(k.id, idb, sizeof(idb));
	snprintf(k.name, sizeof(k.name), "%s", name);
	k.role = (int)role;
	crypto_generichash(k.hash, sizeof(k.hash), secret, SECRET_LEN, NULL, 0);
	k.created_at = pv_clock_now();
	memcpy(text, "pvk_", 4);
	memcpy(text + 4, k.id, PV_APIKEY_ID_LEN);
	text[4 + PV_APIKEY_ID_LEN] = '_';
	pv_hex_encode(text + 5 + PV_APIKEY_ID_LEN, secret, SECRET_LEN);
	snprintf(outcome, sizeof(outcome), "ok:%s", k.id);
	rc = in_tx(v, caller, "apikey.create", outcome, do_insert, &k);
	if (rc < 0)
		goto fail;
	if (out_info != NULL)
		info_from_row(out_info, &k);
	*out_key = text;
	sodium_free(secret);
	return 0;
fail:
	sodium_free(secret);
	sodium_free(text);
	return rc;
}

void pv_apikey_secret_free(char *key)
{
	if (key != NULL)
		sodium_free(key);
}

typedef struct {
	pv_apikey_info *v;
	size_t n, cap;
} info_list;

static int list_cb(const pv_store_apikey *k, void *payload)
{
	info_list *l = payload;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		pv_apikey_info *p = realloc(l->v, cap * sizeof(*p));

		if (p == NULL)
			return pv_error_set(PV_ENOMEM, "apikey: out of memory");
		l->v = p;
		l->cap = cap;
	}
	info_from_row(&l->v[l->n++], k);
	return 0;
}

int pv_apikey_list(pv_vault *v, const pv_caller *caller, pv_apikey_info **out, size_t *count)
{
	info_list l = { NULL, 0, 0 };
	int rc;

	if (out == NULL || count == NULL || v == NULL || caller == NULL)
		return pv_error_set(PV_EINVAL, "apikey: expected a vault, a caller and outputs");
	*out = NULL;
	*count = 0;
	if (caller->role == PV_ROLE_SERVICE)
		return pv_error_set(PV_EDENIED, "caller: only admins and auditors may list API keys");
	rc = pv_store_apikey_each(pv_vault_store(v), list_cb, &l);
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	*out = l.v;
	*count = l.n;
	return 0;
}

static int do_revoke(pv_store *s, void *payload)
{
	return pv_store_apikey_revoke(s, payload, pv_clock_now());
}

int pv_apikey_revoke(pv_vault *v, const pv_caller *caller, const char *id)
{
	char outcome[40];

	if (v == NULL || caller == NULL)
		return pv_error_set(PV_EINVAL, "apikey: expected a vault and a caller");
	if (caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "caller: only an admin may revoke API keys");
	if (id == NULL || strlen(id) != PV_APIKEY_ID_LEN || pv_hex_decode((uint8_t[ID_BYTES]){ 0 }, ID_BYTES, id) < 0)
		return pv_error_set(PV_ENOTFOUND, "apikey: no such key (ids are 16 hex characters)");
	snprintf(outcome, sizeof(outcome), "ok:%s", id);
	return in_tx(v, caller, "apikey.revoke", outcome, do_revoke, (void *)id);
}

/* ---- the server's key set ---------------------------------------------- */

typedef struct {
	char id[PV_APIKEY_ID_LEN + 1];
	uint8_t hash[32];
	char name[129];
	char *grant_text;                 /* split in place */
	pv_grant *grants;
	const char **cats;                /* every grant's categories, one array */
	pv_caller caller;
} key_entry;

struct pv_http_keyset {
	int refs;
	key_entry *v;
	size_t n, cap;
};

static void entry_free(key_entry *e)
{
	free(e->grant_text);
	free(e->grants);
	free(e->cats);
}

/* Build a caller from a stored row: name, role and grants split from their text. */
static int entry_from_row(key_entry *e, const pv_store_apikey *k)
{
	size_t ng = 0, nc = 0, gi = 0, ci = 0;
	char *p, *tok, *save = NULL;

	memset(e, 0, sizeof(*e));
	memcpy(e->id, k->id, sizeof(e->id));
	memcpy(e->hash, k->hash, sizeof(e->hash));
	snprintf(e->name, sizeof(e->name), "%s", k->name);
	e->grant_text = strdup(k->grants);
	if (e->grant_text == NULL)
		return -1;
	for (p = e->grant_text; *p; p++) {
		if (*p == ' ')
			ng++;
		if (*p == ',' || *p == ':')
			nc++;
	}
	ng += e->grant_text[0] != '\0';
	e->grants = calloc(ng + 1, sizeof(*e->grants));
	e->cats = calloc(nc + 1, sizeof(*e->cats));
	if (e->grants == NULL || e->cats == NULL)
		return -1;
	for (tok = strtok_r(e->grant_text, " ", &save); tok != NULL && gi < ng; tok = strtok_r(NULL, " ", &save)) {
		char *colon = strchr(tok, ':'), *c, *save2 = NULL;
		pv_grant *g = &e->grants[gi++];

		g->purpose = tok;
		if (colon == NULL)
			continue;
		*colon = '\0';
		g->categories = &e->cats[ci];
		for (c = strtok_r(colon + 1, ",", &save2); c != NULL && ci < nc; c = strtok_r(NULL, ",", &save2)) {
			e->cats[ci++] = c;
			g->ncategories++;
		}
	}
	e->caller.name = e->name;
	e->caller.role = (pv_role)k->role;
	e->caller.grants = gi > 0 ? e->grants : NULL;
	e->caller.ngrants = gi;
	return 0;
}

static int keyset_cb(const pv_store_apikey *k, void *payload)
{
	pv_http_keyset *ks = payload;

	if (k->revoked_at != 0)
		return 0;
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		key_entry *p = realloc(ks->v, cap * sizeof(*p));

		if (p == NULL)
			return pv_error_set(PV_ENOMEM, "keys: out of memory");
		ks->v = p;
		ks->cap = cap;
	}
	if (entry_from_row(&ks->v[ks->n], k) < 0) {
		entry_free(&ks->v[ks->n]);
		return pv_error_set(PV_ENOMEM, "keys: out of memory");
	}
	ks->n++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const key_entry *)a)->id, ((const key_entry *)b)->id);
}

int pv_http_keyset_load(pv_http_keyset **out, pv_vault *v)
{
	pv_http_keyset *ks = calloc(1, sizeof(*ks));
	int rc;

	*out = NULL;
	if (ks == NULL)
		return pv_error_set(PV_ENOMEM, "keys: out of memory");
	ks->refs = 1;
	rc = pv_store_apikey_each(pv_vault_store(v), keyset_cb, ks);
	if (rc < 0) {
		pv_http_keyset_unref(ks);
		return rc;
	}
	if (ks->n > 1)
		qsort(ks->v, ks->n, sizeof(*ks->v), entry_cmp);
	*out = ks;
	return 0;
}

void pv_http_keyset_ref(pv_http_keyset *k)
{
	__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
}

void pv_http_keyset_unref(pv_http_keyset *k)
{
	if (k == NULL || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < k->n; i++)
		entry_free(&k->v[i]);
	sodium_memzero(k->v, k->cap * sizeof(*k->v));
	free(k->v);
	free(k);
}

size_t pv_http_keyset_count(const pv_http_keyset *k)
{
	return k != NULL ? k->n : 0;
}

static int is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int pv_http_key_id(const char *token, char id[PV_APIKEY_ID_LEN + 1])
{
	if (token == NULL || strncmp(token, "pvk_", 4) != 0 || strnlen(token, PV_APIKEY_TEXT_LEN + 1) != PV_APIKEY_TEXT_LEN ||
	    token[4 + PV_APIKEY_ID_LEN] != '_' || !is_lower_hex(token + 4, PV_APIKEY_ID_LEN))
		return -1;
	memcpy(id, token + 4, PV_APIKEY_ID_LEN);
	id[PV_APIKEY_ID_LEN] = '\0';
	return 0;
}

const pv_caller *pv_http_keyset_verify(const pv_http_keyset *k, const char *token)
{
	key_entry probe, *e;
	uint8_t secret[SECRET_LEN], h[32];
	int ok;

	if (k == NULL || k->n == 0 || pv_http_key_id(token, probe.id) < 0)
		return NULL;
	if (pv_hex_decode(secret, SECRET_LEN, token + 5 + PV_APIKEY_ID_LEN) < 0)
		return NULL;
	crypto_generichash(h, sizeof(h), secret, SECRET_LEN, NULL, 0);
	sodium_memzero(secret, sizeof(secret));
	e = bsearch(&probe, k->v, k->n, sizeof(*k->v), entry_cmp);
	if (e == NULL)
		return NULL;
	ok = sodium_memcmp(h, e->hash, sizeof(h)) == 0;
	return ok ? &e->caller : NULL;
}
