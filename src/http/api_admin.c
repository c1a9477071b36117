/*
 * /v1 handlers for the policy, the audit chain and the master key. None of
 * them touches personal data: auditors may call the audit ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "core/limits.h"
#include "http/api.h"
#include "privault/audit.h"
#include "privault/error.h"

/* ---- policy -------------------------------------------------------------- */

/* The summary fields shared by the policy answers. New object. */
static json_t *policy_summary(const pv_policy *p)
{
	return json_pack("{s:s, s:s, s:o}", "hash", pv_policy_hash(p), "version", pv_policy_version_label(p),
			 "effective", pv_api_time(pv_policy_effective(p)));
}

static json_t *nullable(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* GET /v1/policy -> {hash, version, effective, title, url, default_regime}. */
int pv_api_policy_current(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const pv_policy *p = pv_vault_policy(v);
	json_t *o;

	(void)req;
	if (!p || !(o = policy_summary(p)))
		return -1;
	json_object_set_new(o, "title", nullable(pv_policy_title(p)));
	json_object_set_new(o, "url", nullable(pv_policy_url(p)));
	json_object_set_new(o, "default_regime", json_string(pv_regime_name(pv_policy_default_regime(p))));
	return pv_http_json(res, 200, o);
}

/* GET /v1/policy/versions/{hash} -> the summary plus the normalized model. */
int pv_api_policy_version(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	const char *hash = req->params[0];
	const pv_policy *p;
	char *model = NULL;
	json_t *o, *m;
	int rc;

	if (!hash || strlen(hash) != PV_HASH_HEX_LEN || strspn(hash, "0123456789abcdef") != PV_HASH_HEX_LEN)
		return pv_http_problem(res, 404, "not-found", "Not found",
				       "policy version: no such version (versions are 64 lower-case hex characters)");
	if ((rc = pv_vault_policy_get(v, hash, &p)) < 0)
		return pv_http_problem_from_error(res, rc);
	if ((rc = pv_policy_to_json(&model, p)) < 0)
		return pv_http_problem_from_error(res, rc);
	m = json_loads(model, 0, NULL);
	free(model);
	if (!m || !(o = policy_summary(p))) {
		json_decref(m);
		return -1;
	}
	json_object_set_new(o, "policy", m);
	return pv_http_json(res, 200, o);
}

/*
 * A diagnostic's field path ("purposes[2].categories[0]") as a JSON pointer
 * ("/purposes/2/categories/0"), escaping '~' and '/' (RFC 6901). out gets ""
 * for the document itself.
 */
static void path_to_pointer(const char *path, char *out, size_t size)
{
	size_t o = 0;

#define PUT(c) do { if (o + 1 < size) out[o++] = (c); } while (0)
	if (path && *path)
		PUT('/');
	for (const char *s = path; s && *s; s++) {
		if (*s == '.' || *s == '[') {
			PUT('/');
		} else if (*s == ']') {
			continue;
		} else if (*s == '~') {
			PUT('~');
			PUT('0');
		} else if (*s == '/') {
			PUT('~');
			PUT('1');
		} else {
			PUT(*s);
		}
	}
#undef PUT
	out[o] = '\0';
}

/* The 422 answer of an invalid policy: every diagnostic with line, column, path and pointer. */
static int policy_invalid(pv_http_response *res, const pv_policy_diags *d)
{
	size_t n = pv_policy_diags_count(d);
	json_t *errors = json_array();
	char pointer[512];

	pv_http_problem(res, 422, "invalid-policy", "Invalid policy", "the policy has %zu error%s", n,
			n == 1 ? "" : "s");
	for (size_t i = 0; errors && i < n; i++) {
		const pv_policy_diag *g = pv_policy_diags_at(d, i);
		path_to_pointer(g->path, pointer, sizeof(pointer));
		json_array_append_new(errors, json_pack("{s:s, s:s, s:s, s:i, s:i}", "pointer", pointer, "detail",
							g->message ? g->message : "", "path", g->path ? g->path : "",
							"line", g->line, "column", g->column));
	}
	if (res->body && errors)
		json_object_set_new(res->body, "errors", errors);
	else
		json_decref(errors);
	return 0;
}

/* Write `len` bytes to a new private temporary file; its path goes to `path`. 0 or -1. */
static int write_temp(char *path, size_t size, const char *buf, size_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, size, "%s/privault-policy-XXXXXX", dir && dir[0] ? dir : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		return -1;
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			unlink(path);
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	if (close(fd) < 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * POST /v1/policy with the YAML file as the body (raw, application/yaml):
 * validate it (422 with every diagnostic), then add it as a version and make
 * it current through the vault (which takes a file: the bytes go through a
 * private temporary file). 201 {hash, version, effective, changed}.
 */
int pv_api_policy_upload(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_policy_diags *diags = NULL;
	pv_policy *p = NULL;
	char hash[PV_HASH_HEX_LEN + 1], before[PV_HASH_HEX_LEN + 1], path[4096];
	const pv_policy *cur;
	int rc;

	if (!req->raw_body || req->raw_body_len == 0)
		return pv_http_problem(res, 400, "body-required", "Body required",
				       "body: expected the YAML policy file (Content-Type: application/yaml)");
	if ((rc = pv_policy_diags_new(&diags)) < 0)
		return pv_http_problem_from_error(res, rc);
	rc = pv_policy_load_buffer(&p, "policy.yaml", req->raw_body, req->raw_body_len, diags);
	if (rc == PV_EPOLICY) {
		policy_invalid(res, diags);
		pv_policy_diags_free(diags);
		return 0;
	}
	pv_policy_diags_free(diags);
	pv_policy_free(p);
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);

	snprintf(before, sizeof(before), "%s", pv_policy_hash(pv_vault_policy(v)));
	if (write_temp(path, sizeof(path), req->raw_body, req->raw_body_len) < 0)
		return pv_http_problem(res, 500, "internal", "Internal error", "policy: could not write a temporary file");
	rc = pv_vault_policy_add(v, req->caller, path, hash);
	unlink(path);
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	cur = pv_vault_policy(v);
	snprintf(res->location, sizeof(res->location), "/v1/policy/versions/%s", hash);
	return pv_http_json(res, 201,
			    json_pack("{s:s, s:s, s:o, s:b}", "hash", hash, "version", pv_policy_version_label(cur),
				      "effective", pv_api_time(pv_policy_effective(cur)), "changed",
				      strcmp(before, hash) != 0));
}

/* ---- audit --------------------------------------------------------------- */

/* GET /v1/audit/verify -> the verification report; a broken chain is a 200 with ok false. */
int pv_api_audit_verify(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	pv_audit_report r;
	int rc;

	(void)req;
	memset(&r, 0, sizeof(r));
	rc = pv_audit_verify(v, &r);
	if (rc < 0 && rc != PV_ETAMPER)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 200,
			    json_pack("{s:b, s:I, s:I, s:I, s:s}", "ok", rc == 0 && r.ok, "entries", (json_int_t)r.entries,
				      "checkpoints", (json_int_t)r.checkpoints, "first_bad_seq",
				      (json_int_t)r.first_bad_seq, "reason", r.reason));
}

typedef struct {
	json_t *arr;
	int64_t last;
} audit_page;

static json_t *empty_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static int audit_cb(const pv_audit_entry *e, void *payload)
{
	audit_page *pg = payload;
	char prev[PV_AUDIT_HASH_LEN * 2 + 1], hash[PV_AUDIT_HASH_LEN * 2 + 1];
	json_t *o;

	sodium_bin2hex(prev, sizeof(prev), e->prev_hash, PV_AUDIT_HASH_LEN);
	sodium_bin2hex(hash, sizeof(hash), e->hash, PV_AUDIT_HASH_LEN);
	o = json_pack("{s:I, s:o, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s}", "seq", (json_int_t)e->seq, "at",
		      pv_api_time(e->at), "actor", e->actor, "action", e->action, "subject_id",
		      empty_null(e->subject_id), "purpose", empty_null(e->purpose), "category", empty_null(e->category),
		      "outcome", e->outcome, "prev_hash", prev, "hash", hash);
	if (!o || json_array_append_new(pg->arr, o) < 0)
		return -1;
	pg->last = e->seq;
	return 0;
}

/* A non-negative integer query parameter into *out (unchanged when absent). 0, or -1 when malformed. */
static int query_int(const char *query, const char *name, int64_t *out)
{
	char buf[24], *end;
	long long n;
	int got = pv_api_query_get(query, name, buf, sizeof(buf));

	if (got == 0)
		return 0;
	if (got < 0 || !buf[0] || buf[0] == '-' || buf[0] == '+')
		return -1;
	errno = 0;
	n = strtoll(buf, &end, 10);
	if (errno || *end)
		return -1;
	*out = n;
	return 0;
}

/* GET /v1/audit?from=&limit= -> {entries, next}. */
int pv_api_audit_list(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int64_t from = 1, limit = PV_API_AUDIT_PAGE_DEFAULT;
	audit_page pg = { NULL, 0 };
	int rc;

	if (query_int(req->query, "from", &from) < 0 || from < 1)
		return pv_http_problem(res, 400, "invalid-query", "Invalid query parameter",
				       "from: expected a sequence number >= 1");
	if (query_int(req->query, "limit", &limit) < 0 || limit < 1 || limit > PV_API_AUDIT_PAGE_MAX)
		return pv_http_problem(res, 400, "invalid-query", "Invalid query parameter",
				       "limit: expected 1..%d", PV_API_AUDIT_PAGE_MAX);
	if (!(pg.arr = json_array()))
		return -1;
	/* one more than asked, to know whether a next page exists */
	rc = pv_audit_list(v, from, limit + 1, audit_cb, &pg);
	if (rc < 0) {
		json_decref(pg.arr);
		return pv_http_problem_from_error(res, rc);
	}
	if ((int64_t)json_array_size(pg.arr) > limit) {
		json_array_remove(pg.arr, json_array_size(pg.arr) - 1);
		return pv_http_json(res, 200, json_pack("{s:o, s:I}", "entries", pg.arr, "next", (json_int_t)pg.last));
	}
	return pv_http_json(res, 200, json_pack("{s:o, s:n}", "entries", pg.arr, "next"));
}

/* POST /v1/audit/checkpoint -> {seq}. */
int pv_api_audit_checkpoint(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	int64_t seq = 0;
	int rc;

	if ((rc = pv_audit_checkpoint(v, req->caller, &seq)) < 0)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 200, json_pack("{s:I}", "seq", (json_int_t)seq));
}

/* GET /v1/audit/public-key -> {algorithm: "ed25519", public_key: hex}. */
int pv_api_audit_public_key(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	char hex[65];
	int rc;

	(void)req;
	if ((rc = pv_audit_public_key(v, hex)) < 0)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 200, json_pack("{s:s, s:s}", "algorithm", "ed25519", "public_key", hex));
}

/* ---- keys ---------------------------------------------------------------- */

/* POST /v1/keys/rotate -> {version, rewrapped}; 409 when the keys come from PRIVAULT_KEYS. */
int pv_api_keys_rotate(pv_vault *v, pv_http_request *req, pv_http_response *res)
{
	uint32_t version = 0;
	size_t n = 0;
	int rc;

	rc = pv_vault_key_rotate(v, req->caller, &version, &n);
	if (rc == PV_EKEY)
		return pv_http_problem(res, 409, "keys-external", "Keys held outside the vault", "%s",
				       pv_error_last());
	if (rc < 0)
		return pv_http_problem_from_error(res, rc);
	return pv_http_json(res, 200, json_pack("{s:I, s:I}", "version", (json_int_t)version, "rewrapped",
					       (json_int_t)n));
}
