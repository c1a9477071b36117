/*
 * The backend-independent half of the retention store functions (store.h,
 * "retention"): argument checks done once for every backend, then dispatch
 * through pv_store_ops. A backend that does not fill an operation yet gets a
 * clear PV_ESTORE naming the backend and the operation instead of a crash.
 */
#include "store/backend.h"

#include <string.h>

#include "core/error.h"

#define CHECK(cond, what) \
	do { \
		if (!(cond)) \
			return pv_error_set(PV_EINVAL, "store: %s: %s", __func__ + 9, what); \
	} while (0)

/* The backend must provide ops->op. */
#define HAS_OP(s, op) \
	do { \
		if ((s)->ops->op == NULL) \
			return pv_error_set(PV_ESTORE, "store: %s: the %s backend has no %s", \
					    __func__ + 9, (s)->ops->name, #op); \
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

/* "" or a NUL-terminated string of at most max bytes. */
static int opt_ok(const char *p, size_t max)
{
	return p != NULL && strnlen(p, max + 1) <= max;
}

#define ID_OK(p) str_ok((p), PV_ID_LEN)
#define NAME_OK(p) str_ok((p), PV_ID_MAX_LEN)

static int hold_ok(const pv_store_hold *h)
{
	return ID_OK(h->id) && opt_ok(h->subject_id, PV_ID_LEN) && opt_ok(h->category, PV_ID_MAX_LEN) &&
	       str_ok(h->reason, PV_STORE_HOLD_REASON_MAX) && str_ok(h->created_by, 128) &&
	       opt_ok(h->released_by, 128) && h->from >= 0 && h->to >= 0 &&
	       (h->from == 0 || h->to == 0 || h->from < h->to);
}

int pv_store_hold_insert(pv_store *s, const pv_store_hold *h)
{
	CHECK(s != NULL && h != NULL, "missing argument");
	CHECK(hold_ok(h), "hold: a field is empty, too long or out of range");
	HAS_OP(s, hold_insert);
	return s->ops->hold_insert(s, h);
}

int pv_store_hold_get(pv_store *s, const char *id, pv_store_hold *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	CHECK(ID_OK(id), "id: expected 1..36 bytes");
	HAS_OP(s, hold_get);
	return s->ops->hold_get(s, id, out);
}

int pv_store_hold_each(pv_store *s, int active_only,
		       int (*cb)(const pv_store_hold *h, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	HAS_OP(s, hold_each);
	return s->ops->hold_each(s, active_only, cb, payload);
}

int pv_store_hold_release(pv_store *s, const char *id, const char *by, pv_time at)
{
	CHECK(s != NULL, "no store");
	CHECK(ID_OK(id), "id: expected 1..36 bytes");
	CHECK(str_ok(by, 128), "by: expected 1..128 bytes");
	HAS_OP(s, hold_release);
	return s->ops->hold_release(s, id, by, at);
}

int pv_store_record_expired_each(pv_store *s, pv_time from, pv_time now, size_t limit,
				 int (*cb)(const pv_store_expired *r, void *payload), void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	HAS_OP(s, record_expired_each);
	return s->ops->record_expired_each(s, from, now, limit, cb, payload);
}

int pv_store_record_expired_count(pv_store *s, pv_time now, int64_t *out)
{
	CHECK(s != NULL && out != NULL, "missing argument");
	HAS_OP(s, record_expired_count);
	return s->ops->record_expired_count(s, now, out);
}

int pv_store_record_delete_refs(pv_store *s, const pv_store_record_ref *refs, size_t n, size_t *out_deleted)
{
	size_t i;

	CHECK(s != NULL && (refs != NULL || n == 0), "missing argument");
	for (i = 0; i < n; i++)
		CHECK(ID_OK(refs[i].subject_id) && ID_OK(refs[i].id), "refs: expected ids of 1..36 bytes");
	HAS_OP(s, record_delete_refs);
	return s->ops->record_delete_refs(s, refs, n, out_deleted);
}

int pv_store_record_count_subjects(pv_store *s, const char (*ids)[PV_ID_LEN + 1], size_t n, int64_t *counts)
{
	size_t i;

	CHECK(s != NULL && ((ids != NULL && counts != NULL) || n == 0), "missing argument");
	for (i = 0; i < n; i++)
		CHECK(ID_OK(ids[i]), "ids: expected ids of 1..36 bytes");
	HAS_OP(s, record_count_subjects);
	return s->ops->record_count_subjects(s, ids, n, counts);
}

int pv_store_tally_add(pv_store *s, const char *category, const char *purpose, const char *source,
		       pv_time month, int64_t count)
{
	CHECK(s != NULL, "no store");
	CHECK(NAME_OK(category) && NAME_OK(purpose), "category, purpose: expected 1..64 bytes");
	CHECK(opt_ok(source, PV_ID_MAX_LEN), "source: expected 0..64 bytes");
	CHECK(count >= 0, "count: expected >= 0");
	HAS_OP(s, tally_add);
	return s->ops->tally_add(s, category, purpose, source, month, count);
}

int pv_store_tally_each(pv_store *s,
			int (*cb)(const char *category, const char *purpose, const char *source,
				  pv_time month, int64_t count, void *payload),
			void *payload)
{
	CHECK(s != NULL && cb != NULL, "missing argument");
	HAS_OP(s, tally_each);
	return s->ops->tally_each(s, cb, payload);
}

/* ---- sweep locks: the holds frozen in a batch; a job lock across a whole sweep ---- */

/* A job name: 1..64 bytes of [a-z0-9_.-] (it becomes part of a file name on SQLite). */
static int job_name_ok(const char *p)
{
	size_t n;

	if (!str_ok(p, 64) || p[0] == '.')
		return 0;
	for (n = 0; p[n] != '\0'; n++)
		if (!((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= '0' && p[n] <= '9') || p[n] == '_' ||
		      p[n] == '.' || p[n] == '-'))
			return 0;
	return 1;
}

int pv_store_hold_lock(pv_store *s)
{
	CHECK(s != NULL, "no store");
	CHECK(s->in_tx, "only inside a transaction");
	HAS_OP(s, hold_lock);
	return s->ops->hold_lock(s);
}

int pv_store_job_lock(pv_store *s, const char *name, int *acquired)
{
	CHECK(s != NULL && acquired != NULL, "missing argument");
	*acquired = 0;
	CHECK(job_name_ok(name), "name: expected 1..64 bytes of [a-z0-9_.-]");
	CHECK(!s->in_tx, "only outside a transaction");
	HAS_OP(s, job_lock);
	return s->ops->job_lock(s, name, acquired);
}

int pv_store_job_unlock(pv_store *s, const char *name)
{
	CHECK(s != NULL, "no store");
	CHECK(job_name_ok(name), "name: expected 1..64 bytes of [a-z0-9_.-]");
	HAS_OP(s, job_unlock);
	return s->ops->job_unlock(s, name);
}
