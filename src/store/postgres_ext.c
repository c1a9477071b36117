/*
 * The PostgreSQL backend's share of the store functions that later issues
 * appended to store.h: API keys (the HTTP server), legal holds, expired records
 * and tallies (retention). Same conventions as
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

/* ---- retention: legal holds, expired records, tallies ---------------------------------------- */

static void p_opt_int(pg_params *p, int64_t v)
{
	if (v == 0)
		pg_p_null(p);
	else
		pg_p_int(p, v);
}

int pg_hold_insert(pv_store *s, const pv_store_hold *h)
{
	pg_params p = { 0 };
	int64_t n = 0;
	int rc;

	pg_p_text(&p, h->id);
	pg_p_text_or_null(&p, h->subject_id);
	pg_p_text_or_null(&p, h->category);
	p_opt_int(&p, h->from);
	p_opt_int(&p, h->to);
	pg_p_text(&p, h->reason);
	pg_p_text(&p, h->created_by);
	pg_p_int(&p, h->created_at);
	pg_p_text_or_null(&p, h->released_by);
	p_opt_int(&p, h->released_at);
	rc = pg_exec_id(PQ(s), PG_HOLD_INSERT, &p, &n);
	if (rc == 0 && n == 0)
		return pv_error_set(PV_EEXISTS, "store: insert into legal_holds: key already exists");
	return rc;
}

/* Row `i` of HOLD_COLS into *h (NULL text reads "", NULL integers 0). */
static int hold_row(const PGresult *r, int i, pv_store_hold *h)
{
	memset(h, 0, sizeof(*h));
	if (pg_get_text(r, i, 0, h->id, sizeof(h->id)) != 0 ||
	    pg_get_text(r, i, 1, h->subject_id, sizeof(h->subject_id)) != 0 ||
	    pg_get_text(r, i, 2, h->category, sizeof(h->category)) != 0 ||
	    pg_get_text(r, i, 5, h->reason, sizeof(h->reason)) != 0 ||
	    pg_get_text(r, i, 6, h->created_by, sizeof(h->created_by)) != 0 ||
	    pg_get_text(r, i, 8, h->released_by, sizeof(h->released_by)) != 0)
		return pv_error_set(PV_ESTORE, "store: read legal_holds: malformed text column");
	h->from = pg_get_int(r, i, 3);
	h->to = pg_get_int(r, i, 4);
	h->created_at = pg_get_int(r, i, 7);
	h->released_at = pg_get_int(r, i, 9);
	return 0;
}

int pg_hold_get(pv_store *s, const char *id, pv_store_hold *out)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_text(&p, id);
	if ((rc = pg_run(PQ(s), PG_HOLD_GET, &p, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0)
		rc = pv_error_set(PV_ENOTFOUND, "store: read legal_holds: no hold %s", id);
	else
		rc = hold_row(r, 0, out);
	PQclear(r);
	return rc;
}

int pg_hold_each(pv_store *s, int active_only, int (*cb)(const pv_store_hold *h, void *payload), void *payload)
{
	pv_store_hold h;
	PGresult *r;
	int rc, i;

	if ((rc = pg_run(PQ(s), active_only ? PG_HOLD_EACH_ACTIVE : PG_HOLD_EACH, NULL, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		rc = hold_row(r, i, &h);
		if (rc == 0)
			rc = cb(&h, payload);
	}
	PQclear(r);
	return rc;
}

int pg_hold_release(pv_store *s, const char *id, const char *by, pv_time at)
{
	pg_params p = { 0 };
	int64_t n = 0;
	int rc;

	pg_p_text(&p, id);
	pg_p_text(&p, by);
	pg_p_int(&p, at > 0 ? at : 1);
	rc = pg_exec_id(PQ(s), PG_HOLD_RELEASE, &p, &n);
	if (rc == 0 && n == 0)
		return pv_error_set(PV_ENOTFOUND, "store: update legal_holds: no active hold %s", id);
	return rc;
}

int pg_record_expired_each(pv_store *s, pv_time from, pv_time now, size_t limit,
			   int (*cb)(const pv_store_expired *r, void *payload), void *payload)
{
	pg_params p = { 0 };
	pv_store_expired e;
	PGresult *r;
	int rc, i;

	pg_p_int(&p, from);
	pg_p_int(&p, now);
	if (limit == 0 || limit > INT64_MAX)
		pg_p_null(&p);   /* LIMIT NULL: no limit */
	else
		pg_p_int(&p, (int64_t)limit);
	if ((rc = pg_run(PQ(s), PG_EXPIRED_EACH, &p, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		if (pg_get_text(r, i, 0, e.id, sizeof(e.id)) != 0 ||
		    pg_get_text(r, i, 1, e.subject_id, sizeof(e.subject_id)) != 0 ||
		    pg_get_text(r, i, 2, e.category, sizeof(e.category)) != 0 ||
		    pg_get_text(r, i, 3, e.purpose, sizeof(e.purpose)) != 0 ||
		    pg_get_text(r, i, 4, e.source, sizeof(e.source)) != 0 ||
		    pg_get_text(r, i, 5, e.policy_version, sizeof(e.policy_version)) != 0) {
			rc = pv_error_set(PV_ESTORE, "store: read records: malformed text column");
			break;
		}
		e.collected_at = pg_get_int(r, i, 6);
		e.expires_at = pg_get_int(r, i, 7);
		e.key_epoch = PQgetisnull(r, i, 8) ? 0 : pg_get_int(r, i, 8);
		rc = cb(&e, payload);
	}
	PQclear(r);
	return rc;
}

int pg_record_expired_count(pv_store *s, pv_time now, int64_t *out)
{
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	pg_p_int(&p, now);
	if ((rc = pg_run(PQ(s), PG_EXPIRED_COUNT, &p, &r)) != 0)
		return rc;
	*out = PQntuples(r) == 1 ? pg_get_int(r, 0, 0) : 0;
	PQclear(r);
	return 0;
}

int pg_record_delete_refs(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted)
{
	size_t i, deleted = 0;
	int rc = 0;

	if (out_deleted != NULL)
		*out_deleted = 0;
	for (i = 0; i < n && rc == 0; i++) {
		pg_params p = { 0 };
		int64_t changed = 0;

		pg_p_text(&p, refs[i].subject_id);
		pg_p_text(&p, refs[i].id);
		rc = pg_exec_id(PQ(s), PG_REC_DELETE_REF, &p, &changed);
		deleted += (size_t)changed;
	}
	if (rc == 0 && out_deleted != NULL)
		*out_deleted = deleted;
	return rc;
}

int pg_record_count_subjects(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		pg_params p = { 0 };
		PGresult *r;

		pg_p_text(&p, ids[i]);
		if ((rc = pg_run(PQ(s), PG_REC_COUNT_SUBJECT, &p, &r)) != 0)
			break;
		counts[i] = PQntuples(r) == 1 ? pg_get_int(r, 0, 0) : 0;
		PQclear(r);
	}
	return rc;
}

int pg_tally_add(pv_store *s, const char *category, const char *purpose, const char *source,
		 pv_time month, int64_t count)
{
	pg_params p = { 0 };

	pg_p_text(&p, category);
	pg_p_text(&p, purpose);
	pg_p_text(&p, source);
	pg_p_int(&p, month);
	pg_p_int(&p, count);
	return pg_exec_id(PQ(s), PG_TALLY_ADD, &p, NULL);
}

int pg_tally_each(pv_store *s,
		  int (*cb)(const char *category, const char *purpose, const char *source,
			    pv_time month, int64_t count, void *payload),
		  void *payload)
{
	char category[PV_ID_MAX_LEN + 1], purpose[PV_ID_MAX_LEN + 1], source[PV_ID_MAX_LEN + 1];
	PGresult *r;
	int rc, i;

	if ((rc = pg_run(PQ(s), PG_TALLY_EACH, NULL, &r)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		if (pg_get_text(r, i, 0, category, sizeof(category)) != 0 ||
		    pg_get_text(r, i, 1, purpose, sizeof(purpose)) != 0 ||
		    pg_get_text(r, i, 2, source, sizeof(source)) != 0) {
			rc = pv_error_set(PV_ESTORE, "store: read retention_tally: malformed text column");
			break;
		}
		rc = cb(category, purpose, source, pg_get_int(r, i, 3), pg_get_int(r, i, 4), payload);
	}
	PQclear(r);
	return rc;
}
