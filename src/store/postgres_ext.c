/*
 * The PostgreSQL backend's share of the store functions that later issues
 * appended to store.h: API keys (the HTTP server). Same conventions as
 * postgres_rows.c: prepared statements of postgres.c, binary results.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/postgres_internal.h"

/* One row of APIKEY_COLS into *k. */
static int apikey_row(const PGresult *r, int i, pv_store_apikey *k)
{
	memset(k, 0, sizeof(*k));
	if (pg_get_text(r, i, 0, k->id, sizeof(k->id)) != 0 || pg_get_text(r, i, 1, k->name, sizeof(k->name)) != 0 ||
	    pg_get_text(r, i, 3, k->grants, sizeof(k->grants)) != 0 ||
	    pg_get_blob(r, i, 4, k->hash, sizeof(k->hash)) != 0)
		return pv_error_set(PV_ESTORE, "store: read api_keys: malformed value");
	k->role = (int)pg_get_int(r, i, 2);
	k->created_at = pg_get_int(r, i, 5);
	k->revoked_at = pg_get_int(r, i, 6);   /* NULL reads as 0 */
	return 0;
}

int pg_apikey_insert(pv_store *s, const pv_store_apikey *k)
{
	pg_params p = { 0 };
	int64_t n = 0;
	int rc;

	pg_p_text(&p, k->id);
	pg_p_text(&p, k->name);
	pg_p_int(&p, k->role);
	pg_p_text(&p, k->grants);
	pg_p_blob(&p, k->hash, sizeof(k->hash));
	pg_p_int(&p, k->created_at);
	rc = pg_exec_id(PQ(s), PG_APIKEY_INSERT, &p, &n);
	if (rc == 0 && n == 0)
		return pv_error_set(PV_EEXISTS, "store: insert into api_keys: key already exists");
	return rc;
}

int pg_apikey_get(pv_store *s, const char *id, pv_store_apikey *out)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, id);
	if ((rc = pg_run(PQ(s), PG_APIKEY_GET, &p, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0)
		rc = pv_error_set(PV_ENOTFOUND, "store: read api_keys: no key %s", id);
	else
		rc = apikey_row(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_apikey_each(pv_store *s, int (*cb)(const pv_store_apikey *k, void *payload), void *payload)
{
	pv_store_apikey k;
	PGresult *r;
	int rc, i;

	if ((rc = pg_run(PQ(s), PG_APIKEY_EACH, NULL, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		rc = apikey_row(r, i, &k);
		if (rc == 0)
			rc = cb(&k, payload);
	}
	PQclear(r);
	return rc;
}

int pg_apikey_revoke(pv_store *s, const char *id, pv_time at)
{
	pg_params p = { 0 };
	int64_t n = 0;
	int rc;

	pg_p_text(&p, id);
	pg_p_int(&p, at);
	rc = pg_exec_id(PQ(s), PG_APIKEY_REVOKE, &p, &n);
	if (rc == 0 && n == 0)
		return pv_error_set(PV_ENOTFOUND, "store: update api_keys: no active key %s", id);
	return rc;
}
