/*
 * The HTTP server: libmicrohttpd with an epoll thread pool (one thread per
 * core by default), optional TLS, dispatch from the route tables, and the
 * request life described in http.h:
 *
 *   headers   route match (404, 405 + Allow), authentication (429 when the key
 *             id or address is rate-limited, 401), role (403), Content-Type
 *             (415), Content-Length over the limit (413): answered at once,
 *             before any body is read
 *   body      buffered up to max_body; beyond it the rest is discarded and 413
 *             answered at the end (never held in memory)
 *   complete  JSON parsed and validated (body.c, 400), purpose present (400),
 *             then the handler: on this thread (system routes), or queued to
 *             the executor with the connection suspended until its group
 *             commit is done (executor.c)
 *   finished  metrics (route pattern, status, latency) and one access-log line
 *
 * Requests in flight are counted, so a stop can let them finish.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "http/internal.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define KEYS_RELOAD_NS 1000000000ull

/* Retired access logs stay open until stop (a writer may still hold one). */
#define MAX_RETIRED_LOGS 64

struct pv_server {
	pv_server_config cfg;
	pthread_mutex_t mu;                 /* cfg, keys, log swaps */
	const pv_http_route **routes;       /* every table, flattened */
	size_t nroutes;
	struct MHD_Daemon *d;
	pv_http_exec *exec;
	pv_http_metrics *metrics;
	pv_http_accesslog *log;
	pv_http_accesslog *retired[MAX_RETIRED_LOGS];
	size_t nretired;
	pv_http_ratelimit *rl;
	pv_http_ratelimit *banner_rl;       /* public_limited routes, per client address */
	pv_http_keyset *keys;
	int keys_dirty;
	uint64_t keys_at;
	char *openapi;
	size_t openapi_len;
	int64_t max_body;
	int inflight;
	int stopping;
	int port;
	int tls;
	char *tls_cert, *tls_key;
	size_t tls_key_len;
};

enum { ST_NEW = 0, ST_BODY, ST_QUEUED, ST_DONE, ST_SENT };

typedef struct {
	pv_server *srv;
	struct MHD_Connection *conn;
	uint64_t t0;
	uint64_t ns;                        /* time to the response */
	int state;
	size_t route_idx;                   /* srv->nroutes: unmatched */
	const pv_http_route *route;
	const char *method;
	char path[PV_HTTP_PATH_MAX];
	char params[PV_HTTP_PATH_MAX];
	char client[64];                    /* truncated, for logs and handlers */
	char client_key[INET6_ADDRSTRLEN + 4];   /* full address, rate limiting only (never logged) */
	char allow[64];
	char purpose[PV_ID_MAX_LEN + 2];
	char *query;
	int retry_after;
	int www_auth;
	char *body;
	size_t body_len, body_cap;
	int too_large;
	json_t *json;
	pv_http_keyset *keys;               /* reference held while the caller is in use */
	pv_http_request req;
	pv_http_response res;
	pv_http_job job;
	int status;
	size_t bytes;
} req_ctx;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void slog(const char *fmt, ...)
{
	va_list ap;

	fputs("privault serve: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- routing ----------------------------------------------------------- */

/*
 * Match `path` against `pattern` ("/v1/subjects/{id}"): literal segments equal,
 * each {name} one non-empty segment. Parameters are copied NUL-separated into
 * pbuf and pointed to from params. 1 on a match.
 */
static int match(const char *pattern, const char *path, char *pbuf, size_t psize, const char **params,
		 size_t *nparams)
{
	const char *p = pattern, *s = path;
	size_t used = 0, n = 0;

	while (*p != '\0') {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			size_t len = strcspn(s, "/");

			if (close == NULL || len == 0 || n >= PV_HTTP_MAX_PARAMS || used + len + 1 > psize)
				return 0;
			memcpy(pbuf + used, s, len);
			pbuf[used + len] = '\0';
			params[n++] = pbuf + used;
			used += len + 1;
			s += len;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	if (*s != '\0')
		return 0;
	*nparams = n;
	return 1;
}

/* Find the route for method + path; on a path match with another method, fill `allow`. */
static const pv_http_route *route_find(req_ctx *c, const char *method)
{
	const char *params[PV_HTTP_MAX_PARAMS];
	size_t np = 0, an = 0;

	c->allow[0] = '\0';
	for (size_t i = 0; i < c->srv->nroutes; i++) {
		const pv_http_route *r = c->srv->routes[i];

		if (!match(r->pattern, c->path, c->params, sizeof(c->params), params, &np))
			continue;
		if (strcmp(r->method, method) == 0) {
			c->route_idx = i;
			memcpy(c->req.params, params, sizeof(params));
			c->req.nparams = np;
			return r;
		}
		if (strstr(c->allow, r->method) == NULL && an + strlen(r->method) + 3 < sizeof(c->allow))
			an += (size_t)snprintf(c->allow + an, sizeof(c->allow) - an, "%s%s", an ? ", " : "", r->method);
	}
	return NULL;
}

/* ---- responses --------------------------------------------------------- */

static void add_header(struct MHD_Response *r, const char *k, const char *v)
{
	MHD_add_response_header(r, k, v);
}

/*
 * CORS for the routes marked cors (the banner's): when the request's Origin is
 * one of the configured banner_origins (space or comma separated, exact
 * match), allow it, with the methods and headers the banner sends. Other
 * origins get no CORS headers (the browser then refuses the answer).
 */
static void add_cors(req_ctx *c, struct MHD_Response *r)
{
	const char *origin = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Origin");
	size_t n = origin != NULL ? strlen(origin) : 0;
	int ok = 0;

	if (c->route == NULL || !c->route->cors)
		return;
	add_header(r, "Vary", "Origin");
	if (n == 0 || n > 512)
		return;
	pthread_mutex_lock(&c->srv->mu);
	for (const char *p = c->srv->cfg.banner_origins; *p != '\0' && !ok;) {
		size_t len = strcspn(p, " ,\t");

		ok = len == n && strncmp(p, origin, n) == 0;
		p += len;
		p += strspn(p, " ,\t");
	}
	pthread_mutex_unlock(&c->srv->mu);
	if (!ok)
		return;
	add_header(r, "Access-Control-Allow-Origin", origin);
	add_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
	add_header(r, "Access-Control-Allow-Headers", "Content-Type, Sec-GPC");
	add_header(r, "Access-Control-Max-Age", "600");
}

/* A response body handed to MHD: wiped and freed once MHD is done with it. */
typedef struct {
	char *p;
	size_t len;
} sent_body;

/* MHD's free callback for a body (any answer may hold personal data: record reads, exports). */
static void sent_body_free(void *cls)
{
	sent_body *b = cls;

	if (b->p != NULL)
		sodium_memzero(b->p, b->len);
	free(b->p);
	free(b);
}

/*
 * Serialize and queue c->res; records status, bytes and latency. A raw body
 * is handed to MHD as it is (not copied); every body is wiped after sending.
 */
static enum MHD_Result send_response(req_ctx *c)
{
	struct MHD_Response *r;
	const char *ctype = "application/json";
	char *out = NULL, num[24];
	size_t len = 0;
	enum MHD_Result ret;
	sent_body *b;

	if (c->res.status == 0)
		pv_http_problem(&c->res, 500, "internal", "Internal error", "no response was produced");
	if (c->res.raw != NULL) {   /* take it over */
		out = c->res.raw;
		len = c->res.raw_len;
		ctype = c->res.content_type != NULL ? c->res.content_type : "application/octet-stream";
		c->res.raw = NULL;
		c->res.raw_len = 0;
	} else if (pv_http_response_serialize(&c->res, &out, &len, &ctype) < 0) {
		pv_http_response_reset(&c->res);
		pv_http_problem(&c->res, 500, "internal", "Internal error", "the response could not be encoded");
		if (pv_http_response_serialize(&c->res, &out, &len, &ctype) < 0)
			return MHD_NO;
	}
	if ((b = malloc(sizeof(*b))) == NULL) {
		if (out != NULL)
			sodium_memzero(out, len);
		free(out);
		return MHD_NO;
	}
	b->p = out;
	b->len = len;
	r = MHD_create_response_from_buffer_with_free_callback_cls(len, out, sent_body_free, b);
	if (r == NULL) {
		sent_body_free(b);
		return MHD_NO;
	}
	if (len > 0 || c->res.status != 204)
		add_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	add_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
		   c->res.cache_control != NULL && c->res.status < 400 ? c->res.cache_control : "no-store");
	add_cors(c, r);
	if (c->res.location[0] != '\0')
		add_header(r, MHD_HTTP_HEADER_LOCATION, c->res.location);
	if (c->res.status == 405 && c->allow[0] != '\0')
		add_header(r, MHD_HTTP_HEADER_ALLOW, c->allow);
	if (c->res.status == 429 && c->retry_after > 0) {
		snprintf(num, sizeof(num), "%d", c->retry_after);
		add_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
	}
	if (c->res.status == 401)
		add_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"privault\"");
	if (__atomic_load_n(&c->srv->stopping, __ATOMIC_RELAXED))
		add_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	c->status = c->res.status;
	c->bytes = len;
	c->ns = mono_ns() - c->t0;
	ret = MHD_queue_response(c->conn, (unsigned)c->res.status, r);
	MHD_destroy_response(r);
	c->state = ST_SENT;
	return ret;
}

/* ---- authentication ---------------------------------------------------- */

static pv_http_keyset *keys_get(pv_server *s)
{
	pv_http_keyset *k;

	pthread_mutex_lock(&s->mu);
	k = s->keys;
	if (k != NULL)
		pv_http_keyset_ref(k);
	pthread_mutex_unlock(&s->mu);
	return k;
}

/*
 * Authenticate the Bearer key and check the route's roles. 0 when the caller
 * may go on (c->req.caller set); -1 with a 429, 401 or 403 problem in c->res.
 */
static int authenticate(req_ctx *c)
{
	pv_server *s = c->srv;
	const char *h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	const char *token = NULL;
	char id[PV_APIKEY_ID_LEN + 1], idkey[PV_APIKEY_ID_LEN + 3];
	const pv_caller *caller = NULL;
	uint64_t now = mono_ns();
	int wait, has_id;

	if (h != NULL && strncasecmp(h, "Bearer ", 7) == 0) {
		token = h + 7;
		while (*token == ' ')
			token++;
	}
	has_id = pv_http_key_id(token, id) == 0;
	if (has_id)
		snprintf(idkey, sizeof(idkey), "k:%s", id);
	wait = pv_http_ratelimit_check(s->rl, c->client_key, now);
	if (wait == 0 && has_id)
		wait = pv_http_ratelimit_check(s->rl, idkey, now);
	if (wait > 0) {
		c->retry_after = wait;
		pv_http_metrics_auth_failure(s->metrics, 1);
		pv_http_problem(&c->res, 429, "too-many-failures", "Too many failed authentications",
				"too many failed authentications from this client or for this key; retry after "
				"%d s", wait);
		return -1;
	}
	if (token != NULL) {
		c->keys = keys_get(s);
		caller = pv_http_keyset_verify(c->keys, token);
	}
	if (caller == NULL) {
		pv_http_ratelimit_fail(s->rl, c->client_key, now);
		if (has_id)
			pv_http_ratelimit_fail(s->rl, idkey, now);
		pv_http_metrics_auth_failure(s->metrics, 0);
		pv_http_problem(&c->res, 401, "unauthenticated", "Authentication required",
				token == NULL ? "send an API key as 'Authorization: Bearer <key>'"
					      : "the API key is unknown, revoked or malformed");
		return -1;
	}
	c->req.caller = caller;
	if ((c->route->roles & (1u << caller->role)) == 0) {
		pv_http_problem(&c->res, 403, "role-forbidden", "Forbidden for this role",
				"the %s role may not use %s %s", pv_role_name(caller->role), c->route->method,
				c->route->pattern);
		return -1;
	}
	return 0;
}

/* ---- request life ------------------------------------------------------ */

/* Does Content-Type name `want` (parameters such as charset ignored)? */
static int ctype_is(const char *ct, const char *want)
{
	size_t n = strlen(want);

	return ct != NULL && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Re-encode the query arguments MHD parsed as one raw string ("a=1&b=x%20y"). */
static enum MHD_Result query_cb(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	req_ctx *c = cls;
	size_t n = c->query ? strlen(c->query) : 0, need = strlen(key) + 3 * (value ? strlen(value) : 0) + 3;
	char *q;

	(void)kind;
	if (n + need > PV_HTTP_PATH_MAX * 4)
		return MHD_NO;
	q = realloc(c->query, n + need);
	if (q == NULL)
		return MHD_NO;
	c->query = q;
	n += (size_t)sprintf(q + n, "%s%s", n ? "&" : "", key);
	if (value != NULL) {
		q[n++] = '=';
		for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
			if ((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
			    *v == '-' || *v == '_' || *v == '.' || *v == '~')
				q[n++] = (char)*v;
			else
				n += (size_t)sprintf(q + n, "%%%02X", *v);
		}
	}
	q[n] = '\0';
	return MHD_YES;
}

/* First call: route, authenticate, check the body's announced type and size. 0 go on, -1 answered. */
static int on_headers(req_ctx *c, const char *url, const char *method)
{
	pv_server *s = c->srv;
	const char *cl, *ct;

	if (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
		pv_http_problem(&c->res, 503, "shutting-down", "Shutting down", "the server is stopping");
		return -1;
	}
	if (strlen(url) >= sizeof(c->path)) {
		pv_http_problem(&c->res, 404, "not-found", "Not found", "no route for this path");
		return -1;
	}
	snprintf(c->path, sizeof(c->path), "%s", url);
	c->route = route_find(c, method);
	if (c->route == NULL) {
		if (c->allow[0] != '\0')
			pv_http_problem(&c->res, 405, "method-not-allowed", "Method not allowed",
					"this path accepts %s", c->allow);
		else
			pv_http_problem(&c->res, 404, "not-found", "Not found", "no route for this path");
		return -1;
	}
	if (c->route->roles != PV_HTTP_PUBLIC && authenticate(c) < 0)
		return -1;
	if (c->route->roles == PV_HTTP_PUBLIC && c->route->public_limited) {
		uint64_t now = mono_ns();
		int wait = pv_http_ratelimit_check(s->banner_rl, c->client_key, now);

		if (wait > 0) {
			c->retry_after = wait;
			pv_http_problem(&c->res, 429, "too-many-requests", "Too many requests",
					"too many banner requests from this client; retry after %d s", wait);
			return -1;
		}
		pv_http_ratelimit_fail(s->banner_rl, c->client_key, now);
	}
	if (c->route->body != NULL || c->route->raw_body_type != NULL) {
		const char *want = c->route->raw_body_type ? c->route->raw_body_type : "application/json";

		ct = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
		if (!ctype_is(ct, want)) {
			pv_http_problem(&c->res, 415, "unsupported-media-type", "Unsupported media type",
					"this route takes a body of type %s", want);
			return -1;
		}
	}
	cl = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && strtoll(cl, NULL, 10) > __atomic_load_n(&s->max_body, __ATOMIC_RELAXED)) {
		pv_http_problem(&c->res, 413, "body-too-large", "Body too large",
				"the request body exceeds %lld bytes",
				(long long)__atomic_load_n(&s->max_body, __ATOMIC_RELAXED));
		return -1;
	}
	return 0;
}

/* Append one chunk of body, or discard it past the limit. */
static void on_body(req_ctx *c, const char *data, size_t len)
{
	int64_t max = __atomic_load_n(&c->srv->max_body, __ATOMIC_RELAXED);

	if (c->too_large || (int64_t)(c->body_len + len) > max) {
		c->too_large = 1;
		return;
	}
	if (c->body_len + len + 1 > c->body_cap) {
		size_t cap = c->body_cap ? c->body_cap : 4096;
		char *p;

		while (cap < c->body_len + len + 1)
			cap *= 2;
		p = realloc(c->body, cap);
		if (p == NULL) {
			c->too_large = 1;
			return;
		}
		c->body = p;
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, data, len);
	c->body_len += len;
	c->body[c->body_len] = '\0';
}

/* The executor finished this request: mark it and resume its connection. */
static void job_done(pv_http_job *job)
{
	req_ctx *c = (req_ctx *)((char *)job - offsetof(req_ctx, job));

	__atomic_store_n(&c->state, ST_DONE, __ATOMIC_RELEASE);
	MHD_resume_connection(c->conn);
}

/* The whole request is in: validate the body and the purpose, then run or queue the handler. */
static enum MHD_Result on_complete(req_ctx *c)
{
	const pv_http_route *r = c->route;
	const char *h;

	if (c->too_large) {
		pv_http_problem(&c->res, 413, "body-too-large", "Body too large", "the request body exceeds %lld bytes",
				(long long)__atomic_load_n(&c->srv->max_body, __ATOMIC_RELAXED));
		return send_response(c);
	}
	if (r->raw_body_type != NULL) {
		c->req.raw_body = c->body != NULL ? c->body : "";
		c->req.raw_body_len = c->body_len;
	} else if (r->body != NULL) {
		if (pv_http_body_parse(c->body, c->body_len, r->body, &c->json, &c->res) < 0)
			return send_response(c);
		c->req.body = c->json;
	}
	h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "X-Purpose");
	if (h != NULL) {
		if (strlen(h) > PV_ID_MAX_LEN) {
			pv_http_problem(&c->res, 400, "invalid-purpose", "Invalid purpose",
					"X-Purpose: longer than %d bytes", PV_ID_MAX_LEN);
			return send_response(c);
		}
		snprintf(c->purpose, sizeof(c->purpose), "%s", h);
		c->req.purpose = c->purpose;
	} else if (c->json != NULL && json_is_string(json_object_get(c->json, "purpose"))) {
		c->req.purpose = json_string_value(json_object_get(c->json, "purpose"));
	}
	if (r->needs_purpose && (c->req.purpose == NULL || c->req.purpose[0] == '\0')) {
		pv_http_problem(&c->res, 400, "purpose-required", "Purpose required",
				"declare the purpose of this use in the X-Purpose header or a \"purpose\" field");
		return send_response(c);
	}
	MHD_get_connection_values(c->conn, MHD_GET_ARGUMENT_KIND, query_cb, c);
	h = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, "Sec-GPC");
	c->req.method = c->method;
	c->req.path = c->path;
	c->req.query = c->query;
	c->req.gpc = h != NULL && strcmp(h, "1") == 0;
	c->req.client_addr = c->client;
	c->req.user_agent = MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
	c->req.client_ip = strcmp(c->client_key, "a:-") != 0 ? c->client_key + 2 : NULL;
	c->req.server = c->srv;
	if (!r->executor) {
		int rc;

		pv_error_clear();
		rc = r->handler(NULL, &c->req, &c->res);
		if (c->res.status == 0 && rc != 0)
			pv_http_problem_from_error(&c->res, rc);
		return send_response(c);
	}
	c->job.route = r;
	c->job.req = &c->req;
	c->job.res = &c->res;
	c->job.done = job_done;
	c->state = ST_QUEUED;
	MHD_suspend_connection(c->conn);
	if (pv_http_exec_submit(c->srv->exec, &c->job) < 0) {
		pv_http_problem(&c->res, 503, "overloaded", "Overloaded", "too many requests are waiting; retry");
		__atomic_store_n(&c->state, ST_DONE, __ATOMIC_RELEASE);
		MHD_resume_connection(c->conn);
	}
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	pv_server *s = cls;
	req_ctx *c = *con_cls;

	(void)version;
	if (c == NULL) {
		const union MHD_ConnectionInfo *ci;

		c = calloc(1, sizeof(*c));
		if (c == NULL)
			return MHD_NO;
		*con_cls = c;
		c->srv = s;
		c->conn = conn;
		c->t0 = mono_ns();
		c->method = method;
		c->route_idx = s->nroutes;
		c->res.decision = -1;
		__atomic_add_fetch(&s->inflight, 1, __ATOMIC_ACQ_REL);
		pv_http_metrics_inflight(s->metrics, 1);
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		pv_http_client_truncate(ci ? ci->client_addr : NULL, c->client, sizeof(c->client));
		snprintf(c->client_key, sizeof(c->client_key), "a:-");
		if (ci != NULL && ci->client_addr != NULL) {
			const struct sockaddr *sa = ci->client_addr;

			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
					  c->client_key + 2, sizeof(c->client_key) - 2);
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
					  c->client_key + 2, sizeof(c->client_key) - 2);
		}
		if (on_headers(c, url, method) < 0)
			return send_response(c);
		c->state = ST_BODY;
		return MHD_YES;
	}
	switch (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE)) {
	case ST_BODY:
		if (*upload_data_size > 0) {
			on_body(c, upload_data, *upload_data_size);
			*upload_data_size = 0;
			return MHD_YES;
		}
		return on_complete(c);
	case ST_QUEUED:
		return MHD_YES;   /* resumed too early: the executor has not finished */
	case ST_DONE:
		return send_response(c);
	default:
		*upload_data_size = 0;
		return MHD_YES;
	}
}

/* The connection is done with this request: metrics, access log, free. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	pv_server *s = cls;
	req_ctx *c = *con_cls;
	pv_http_accesslog *log;

	(void)conn;
	(void)toe;
	if (c == NULL)
		return;
	*con_cls = NULL;
	if (c->state != ST_SENT)
		c->ns = mono_ns() - c->t0;
	pv_http_metrics_observe(s->metrics, c->route_idx, c->status, c->ns);
	pthread_mutex_lock(&s->mu);
	log = s->log;
	pthread_mutex_unlock(&s->mu);
	pv_http_accesslog_write(log, c->client, c->method, c->route != NULL ? c->route->pattern : "-", c->status,
				c->ns, c->bytes);
	json_decref(c->json);
	pv_http_response_reset(&c->res);
	pv_http_keyset_unref(c->keys);
	free(c->body);
	free(c->query);
	free(c);
	pv_http_metrics_inflight(s->metrics, -1);
	__atomic_sub_fetch(&s->inflight, 1, __ATOMIC_ACQ_REL);
}

/* ---- the executor's tick: API keys, audit gauge, log flush ------------- */

/* Load the key set now (on the executor thread, inside or outside a batch). */
static void keys_reload(pv_server *s, pv_vault *v)
{
	pv_http_keyset *k = NULL, *old;

	if (pv_http_keyset_load(&k, v) < 0) {
		slog("API keys: reload failed (%s); keeping the previous set", pv_error_last());
		return;
	}
	pthread_mutex_lock(&s->mu);
	old = s->keys;
	s->keys = k;
	s->keys_dirty = 0;
	s->keys_at = mono_ns();
	pthread_mutex_unlock(&s->mu);
	pv_http_keyset_unref(old);
}

static void tick(pv_vault *v, void *payload)
{
	pv_server *s = payload;
	pv_http_accesslog *log;
	uint8_t h[PV_AUDIT_HASH_LEN];
	int64_t seq = 0;
	int dirty;

	pthread_mutex_lock(&s->mu);
	dirty = s->keys_dirty || mono_ns() - s->keys_at > KEYS_RELOAD_NS;
	log = s->log;
	pthread_mutex_unlock(&s->mu);
	if (!dirty)
		return;
	keys_reload(s, v);
	if (pv_store_audit_head(pv_vault_store(v), &seq, h) == 0)
		pv_http_metrics_set_audit(s->metrics, seq);
	pv_http_accesslog_flush(log);
}

/*
 * Called by the API-key routes after a change, inside their batch: the set is
 * reloaded at once (this transaction sees its own insert or revocation), so a
 * key works, or stops working, from the moment its response is sent.
 */
void pv_http_server_keys_changed(void *server, pv_vault *v)
{
	keys_reload(server, v);
}

pv_http_metrics *pv_http_server_metrics(void *server)
{
	return ((pv_server *)server)->metrics;
}

const char *pv_http_server_openapi(void *server, size_t *len)
{
	*len = ((pv_server *)server)->openapi_len;
	return ((pv_server *)server)->openapi;
}

/* ---- start, reload, stop ----------------------------------------------- */

/* Read a whole PEM file into malloc'd memory (NUL-terminated). */
static int read_pem(const char *path, char **out, size_t *len)
{
	struct stat st;
	FILE *f = fopen(path, "r");
	char *b;

	*out = NULL;
	if (f == NULL)
		return pv_error_set(PV_EIO, "tls: %s: %s", path, strerror(errno));
	if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 || st.st_size > 1024 * 1024) {
		fclose(f);
		return pv_error_set(PV_EIO, "tls: %s: empty, unreadable or larger than 1 MiB", path);
	}
	b = malloc((size_t)st.st_size + 1);
	if (b == NULL || fread(b, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		free(b);
		fclose(f);
		return pv_error_set(PV_EIO, "tls: %s: read failed", path);
	}
	fclose(f);
	b[st.st_size] = '\0';
	*out = b;
	*len = (size_t)st.st_size;
	return 0;
}

static void server_free(pv_server *s)
{
	if (s == NULL)
		return;
	pv_http_accesslog_close(s->log);
	for (size_t i = 0; i < s->nretired; i++)
		pv_http_accesslog_close(s->retired[i]);
	pv_http_ratelimit_free(s->rl);
	pv_http_ratelimit_free(s->banner_rl);
	pv_http_metrics_free(s->metrics);
	pv_http_keyset_unref(s->keys);
	free(s->routes);
	free(s->openapi);
	free(s->tls_cert);
	if (s->tls_key != NULL) {
		sodium_memzero(s->tls_key, s->tls_key_len);
		free(s->tls_key);
	}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* Flatten the route tables. */
static int routes_flatten(pv_server *s, const pv_http_route *const *tables)
{
	size_t n = 0, i, t;

	for (t = 0; tables[t] != NULL; t++)
		for (i = 0; tables[t][i].method != NULL; i++)
			n++;
	s->routes = calloc(n + 1, sizeof(*s->routes));
	if (s->routes == NULL)
		return pv_error_set(PV_ENOMEM, "server: out of memory");
	for (t = 0, n = 0; tables[t] != NULL; t++)
		for (i = 0; tables[t][i].method != NULL; i++)
			s->routes[n++] = &tables[t][i];
	s->nroutes = n;
	return 0;
}

/* The socket address to listen on. */
static int listen_addr(const pv_server_config *cfg, struct sockaddr_storage *ss, socklen_t *len, int *v6)
{
	memset(ss, 0, sizeof(*ss));
	*v6 = 0;
	if (inet_pton(AF_INET, cfg->listen, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)cfg->port);
		*len = sizeof(struct sockaddr_in);
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->listen, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)cfg->port);
		*len = sizeof(struct sockaddr_in6);
		*v6 = 1;
		return 0;
	}
	return pv_error_set(PV_EINVAL, "listen: expected an IPv4 or IPv6 address literal");
}

int pv_http_server_start(pv_server **out, const pv_server_config *cfg, const pv_http_route *const *tables)
{
	pv_server *s;
	pv_vault *v = NULL;
	pv_vault_options vo = { 0 };
	pv_http_exec_tuning tune;
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	const union MHD_DaemonInfo *di;
	json_t *doc;
	size_t certlen = 0;
	int v6, threads, rc;

	*out = NULL;
	if (cfg == NULL || tables == NULL)
		return pv_error_set(PV_EINVAL, "server: expected a configuration and route tables");
	if ((rc = listen_addr(cfg, &ss, &sslen, &v6)) < 0)
		return rc;
	if ((cfg->tls_cert[0] != '\0') != (cfg->tls_key[0] != '\0'))
		return pv_error_set(PV_EINVAL, "tls_cert, tls_key: set both for TLS, or neither");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return pv_error_set(PV_ENOMEM, "server: out of memory");
	pthread_mutex_init(&s->mu, NULL);
	s->cfg = *cfg;
	s->max_body = cfg->max_body;
	if ((rc = routes_flatten(s, tables)) < 0)
		goto fail;
	if (pv_http_metrics_new(&s->metrics, s->routes, s->nroutes) < 0 ||
	    pv_http_ratelimit_new(&s->rl, cfg->auth_fail_burst, cfg->auth_fail_per_minute) < 0 ||
	    pv_http_ratelimit_new(&s->banner_rl, cfg->banner_burst, cfg->banner_per_minute) < 0) {
		rc = pv_error_set(PV_ENOMEM, "server: out of memory");
		goto fail;
	}
	if ((rc = pv_http_accesslog_open(&s->log, cfg->access_log)) < 0)
		goto fail;
	doc = pv_http_openapi(tables);
	s->openapi = doc != NULL ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(doc);
	if (s->openapi == NULL) {
		rc = pv_error_set(PV_ENOMEM, "server: the OpenAPI document could not be built");
		goto fail;
	}
	s->openapi_len = strlen(s->openapi);
	if (cfg->tls_cert[0] != '\0') {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			rc = pv_error_set(PV_EINVAL, "tls: this libmicrohttpd was built without TLS");
			goto fail;
		}
		if ((rc = read_pem(cfg->tls_cert, &s->tls_cert, &certlen)) < 0 ||
		    (rc = read_pem(cfg->tls_key, &s->tls_key, &s->tls_key_len)) < 0)
			goto fail;
		flags |= MHD_USE_TLS;
		s->tls = 1;
	}
	if (v6)
		flags |= MHD_USE_IPv6;
	vo.store = cfg->store[0] != '\0' ? cfg->store : NULL;
	if ((rc = pv_vault_open(&v, cfg->vault_dir, &vo)) < 0)
		goto fail;
	if ((rc = pv_http_keyset_load(&s->keys, v)) < 0) {
		pv_vault_close(v);
		goto fail;
	}
	s->keys_at = mono_ns();
	tune.group_commit_us = cfg->group_commit_us;
	tune.max_batch = cfg->max_batch;
	tune.durable_reads = cfg->durable_reads;
	tune.read_sync_ms = cfg->read_sync_ms;
	if ((rc = pv_http_exec_start(&s->exec, v, &tune, s->metrics, tick, s)) < 0) {
		pv_vault_close(v);
		goto fail;
	}
	/* default: one per core but the executor's (it runs every request's vault work; an HTTP
	 * thread more than the cores left competes with it: docs/benchmarks.md, HTTP threads) */
	threads = cfg->threads > 0 ? cfg->threads : (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	if (threads < 1)
		threads = 1;
	s->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, s,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
				MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
				/* without TLS the list ends here */
				s->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, s->tls_cert,
				MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
				MHD_OPTION_END);
	if (s->d == NULL) {
		rc = pv_error_set(PV_EIO, "listen %s port %d: cannot start the HTTP daemon (address in use, or "
				  "an unusable TLS certificate or key)", cfg->listen, cfg->port);
		pv_http_exec_stop(s->exec);
		s->exec = NULL;
		goto fail;
	}
	di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	s->port = di != NULL && di->port != 0 ? di->port : cfg->port;
	*out = s;
	return 0;
fail:
	server_free(s);
	return rc;
}

int pv_server_port(const pv_server *s)
{
	return s != NULL ? s->port : 0;
}

int pv_server_tls(const pv_server *s)
{
	return s != NULL && s->tls;
}

typedef struct {
	int restart;
} diff_state;

static void log_change(const char *key, const char *before, const char *after, int live, void *payload)
{
	diff_state *d = payload;

	if (!live)
		d->restart = 1;
	slog("reload: %s changed from \"%s\" to \"%s\"%s", key, before, after,
	     live ? " (applied)" : " (takes effect after a restart; not applied)");
}

int pv_server_reload(pv_server *s, const pv_server_config *cfg)
{
	pv_http_accesslog *log = NULL;
	pv_http_exec_tuning tune;
	diff_state d = { 0 };
	int rc;

	if (s == NULL || cfg == NULL)
		return pv_error_set(PV_EINVAL, "reload: expected a server and a configuration");
	pv_server_config_diff(&s->cfg, cfg, log_change, &d);
	/* reopen the access log even when its path is the same (log rotation); the old one stays
	 * open until stop, since a request finishing now may still be writing to it */
	pthread_mutex_lock(&s->mu);
	rc = s->nretired < MAX_RETIRED_LOGS ? pv_http_accesslog_open(&log, cfg->access_log) : 0;
	if (rc < 0) {
		slog("reload: %s; keeping the previous access log", pv_error_last());
	} else if (log != NULL) {
		pv_http_accesslog_flush(s->log);
		s->retired[s->nretired++] = s->log;
		s->log = log;
	} else {
		slog("reload: the access log was reopened %d times; restart to reopen it again", MAX_RETIRED_LOGS);
	}
	pthread_mutex_unlock(&s->mu);
	__atomic_store_n(&s->max_body, cfg->max_body, __ATOMIC_RELAXED);
	pv_http_ratelimit_configure(s->rl, cfg->auth_fail_burst, cfg->auth_fail_per_minute);
	pv_http_ratelimit_configure(s->banner_rl, cfg->banner_burst, cfg->banner_per_minute);
	tune.group_commit_us = cfg->group_commit_us;
	tune.max_batch = cfg->max_batch;
	tune.durable_reads = cfg->durable_reads;
	tune.read_sync_ms = cfg->read_sync_ms;
	pv_http_exec_tune(s->exec, &tune);
	pthread_mutex_lock(&s->mu);
	/* keep the settings a restart needs as they are running */
	{
		pv_server_config next = *cfg;

		memcpy(next.vault_dir, s->cfg.vault_dir, sizeof(next.vault_dir));
		memcpy(next.store, s->cfg.store, sizeof(next.store));
		memcpy(next.listen, s->cfg.listen, sizeof(next.listen));
		next.port = s->cfg.port;
		memcpy(next.tls_cert, s->cfg.tls_cert, sizeof(next.tls_cert));
		memcpy(next.tls_key, s->cfg.tls_key, sizeof(next.tls_key));
		next.threads = s->cfg.threads;
		s->cfg = next;
	}
	s->keys_dirty = 1;
	pthread_mutex_unlock(&s->mu);
	pv_http_exec_poke(s->exec);
	slog("reload: configuration applied; API keys reloaded");
	return 0;
}

int pv_server_stop(pv_server *s, int drain_ms)
{
	uint64_t deadline;
	MHD_socket fd;
	int left;

	if (s == NULL)
		return 0;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
	fd = MHD_quiesce_daemon(s->d);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	deadline = mono_ns() + (uint64_t)(drain_ms > 0 ? drain_ms : 0) * 1000000ull;
	while ((left = __atomic_load_n(&s->inflight, __ATOMIC_ACQUIRE)) > 0 && mono_ns() < deadline) {
		struct timespec ts = { 0, 5000000 };

		nanosleep(&ts, NULL);
	}
	pv_http_exec_stop(s->exec);   /* runs what is still queued, resumes its connections, closes the vault */
	MHD_stop_daemon(s->d);
	server_free(s);
	return left;
}

int pv_server_start(pv_server **out, const pv_server_config *cfg)
{
	return pv_http_server_start(out, cfg, pv_http_route_tables);
}
