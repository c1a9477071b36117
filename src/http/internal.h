/*
 * privault HTTP server (internal to the server side of src/http): the pieces
 * behind include/privault/server.h and the contract of http.h. One header
 * for server.c, executor.c, auth.c, ratelimit.c, body.c, problem.c,
 * metrics.c, accesslog.c, openapi.c, config.c and system_routes.c.
 */
#ifndef PV_HTTP_INTERNAL_H
#define PV_HTTP_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/limits.h"
#include "http/http.h"
#include "privault/server.h"

/* ---- limits (hostile input; see src/core/limits.h for the library's own) ---- */

/* Default request body limit: one largest record plus its JSON envelope. */
#define PV_HTTP_BODY_MAX_DEFAULT ((int64_t)PV_RECORD_MAX_BYTES + 64 * 1024)
/* Largest body limit the configuration accepts. */
#define PV_HTTP_BODY_MAX_LIMIT ((int64_t)64 * 1024 * 1024)
/* JSON nesting of a whole body: a record's own depth plus the envelope around it. */
#define PV_HTTP_MAX_DEPTH (PV_RECORD_MAX_DEPTH + 4)
/* A string field whose table entry gives no max_len. */
#define PV_HTTP_STRING_MAX 4096
/* Items of an array field, or entries of a string map, whose table entry gives no max_len. */
#define PV_HTTP_ITEMS_MAX 256
/* Keys of a string map ({"email": ...}): identifier kinds. */
#define PV_HTTP_MAP_KEY_MAX PV_IDENT_KIND_MAX
/* Request path (after the host): longer ones are answered 404 without matching. */
#define PV_HTTP_PATH_MAX 1024
/* Validation errors listed in one problem body. */
#define PV_HTTP_MAX_ERRORS 64
/* Requests waiting for the executor before new ones are answered 503. */
#define PV_HTTP_QUEUE_MAX 65536
/* Tracked token buckets of the failed-authentication limiter (keys and addresses). */
#define PV_HTTP_RL_SLOTS 4096

/* ---- problems (problem.c) ---- */

/* "https://privault.dev/problems/" */
#define PV_HTTP_PROBLEM_BASE "https://privault.dev/problems/"

/* Reset a response to empty (frees what it held). */
void pv_http_response_reset(pv_http_response *res);

/*
 * Serialize a response body: JSON (compact) or raw bytes. *out is malloc'd
 * (caller frees; MHD_RESPMEM_MUST_FREE), *ctype borrowed. 0 or -1 (no memory).
 */
int pv_http_response_serialize(const pv_http_response *res, char **out, size_t *len, const char **ctype);

/* ---- request bodies (body.c) ---- */

/*
 * Parse and validate a JSON request body against a route's field table
 * (NULL-name-terminated). Checks, each with its own problem type: invalid
 * UTF-8, nesting deeper than PV_HTTP_MAX_DEPTH, malformed JSON (with line and
 * column), duplicate keys, a body that is not an object, and per field:
 * unknown fields, missing required fields, wrong types, over-long strings,
 * too many items, values outside an enum; every bad field is listed with its
 * JSON pointer. Returns 0 with *out (a new reference the caller decrefs), or
 * -1 with a 400 problem in `res` and *out NULL.
 */
int pv_http_body_parse(const char *buf, size_t len, const pv_http_field *fields, json_t **out,
		       pv_http_response *res);

/* ---- metrics (metrics.c) ---- */

typedef struct pv_http_metrics pv_http_metrics;

/* Route labels: "METHOD", "pattern" per index 0..nroutes-1; index nroutes = "unmatched". */
int pv_http_metrics_new(pv_http_metrics **out, const pv_http_route *const *routes, size_t nroutes);
void pv_http_metrics_free(pv_http_metrics *m);
/* Count one request (route index or nroutes) with its status and duration. Thread-safe, lock-free. */
void pv_http_metrics_observe(pv_http_metrics *m, size_t route, int status, uint64_t ns);
/* Count one access decision (pv_reason; ALLOWED counts as allowed). */
void pv_http_metrics_decision(pv_http_metrics *m, int reason);
/* Other counters and gauges. */
void pv_http_metrics_auth_failure(pv_http_metrics *m, int rate_limited);
void pv_http_metrics_batch(pv_http_metrics *m, size_t requests, int commit_failed);
void pv_http_metrics_set_audit(pv_http_metrics *m, int64_t entries);
/* One successful executor commit, relaxed (read-only batch) or full; one durability sync (issue 3). */
void pv_http_metrics_commit(pv_http_metrics *m, int relaxed);
void pv_http_metrics_sync(pv_http_metrics *m);
void pv_http_metrics_inflight(pv_http_metrics *m, int delta);
/* Render the Prometheus text exposition format (0.0.4). Caller frees *out. 0 or -1. */
int pv_http_metrics_render(pv_http_metrics *m, char **out, size_t *len);

/* ---- access log (accesslog.c) ---- */

typedef struct pv_http_accesslog pv_http_accesslog;

/* Open "-" (stderr), "off" (nothing) or a file (appended, 0640). */
int pv_http_accesslog_open(pv_http_accesslog **out, const char *where);
void pv_http_accesslog_close(pv_http_accesslog *l);   /* flushes; accepts NULL */
void pv_http_accesslog_flush(pv_http_accesslog *l);
/*
 * One line: time, truncated client address, method, route pattern (never the
 * concrete path or query), status, duration, response bytes. Thread-safe.
 */
void pv_http_accesslog_write(pv_http_accesslog *l, const char *client, const char *method,
			     const char *pattern, int status, uint64_t ns, size_t bytes);

/*
 * The client address with its host part cut off: IPv4 to its /24
 * ("192.0.2.0/24"), IPv6 to its /48 ("2001:db8:1::/48"). `sa` is a struct
 * sockaddr (NULL gives "-").
 */
void pv_http_client_truncate(const void *sa, char *out, size_t size);

/* ---- failed-authentication limiter (ratelimit.c) ---- */

typedef struct pv_http_ratelimit pv_http_ratelimit;

/* A token bucket per key: `burst` tokens, refilled at `per_minute`. */
int pv_http_ratelimit_new(pv_http_ratelimit **out, int burst, int per_minute);
void pv_http_ratelimit_free(pv_http_ratelimit *r);
void pv_http_ratelimit_configure(pv_http_ratelimit *r, int burst, int per_minute);
/* 0 when `key` may try (a token is left), else the seconds until one is (Retry-After). */
int pv_http_ratelimit_check(pv_http_ratelimit *r, const char *key, uint64_t now_ns);
/* A failure: take a token from `key`'s bucket. */
void pv_http_ratelimit_fail(pv_http_ratelimit *r, const char *key, uint64_t now_ns);

/* ---- API keys in memory (auth.c) ---- */

typedef struct pv_http_keyset pv_http_keyset;

/* Load every active key from the vault's store (the caller owns the one reference). */
int pv_http_keyset_load(pv_http_keyset **out, pv_vault *v);
void pv_http_keyset_ref(pv_http_keyset *k);
void pv_http_keyset_unref(pv_http_keyset *k);   /* frees at zero; accepts NULL */
size_t pv_http_keyset_count(const pv_http_keyset *k);

/*
 * Split a presented key "pvk_<id>_<secret>": copies the id (17 bytes). 0, or
 * -1 when it does not have that shape (no id to rate-limit by).
 */
int pv_http_key_id(const char *token, char id[PV_APIKEY_ID_LEN + 1]);

/*
 * Verify a presented key against the set: the hash of its secret compared in
 * constant time with the stored one of its id. Returns the caller (borrowed
 * from `k`, valid while the reference is held), or NULL.
 */
const pv_caller *pv_http_keyset_verify(const pv_http_keyset *k, const char *token);

/* ---- OpenAPI (openapi.c) ---- */

/* The OpenAPI 3.1 document of the route tables (NULL-terminated list). New reference, or NULL. */
json_t *pv_http_openapi(const pv_http_route *const *tables);

/* ---- the executor (executor.c) ---- */

typedef struct pv_http_exec pv_http_exec;

/* One queued request: the executor runs `route->handler` and then calls `done`. */
typedef struct pv_http_job {
	const pv_http_route *route;
	pv_http_request *req;
	pv_http_response *res;
	void (*done)(struct pv_http_job *job);   /* on the executor thread, after the commit */
	struct pv_http_job *next;
} pv_http_job;

typedef struct {
	int group_commit_us;
	int max_batch;
	int durable_reads;   /* 1: batches of read-only routes commit fully durable too */
	int read_sync_ms;    /* relaxed commits become durable within this many ms (0 = default 50) */
} pv_http_exec_tuning;

/*
 * Start the executor thread, which owns `v` from now on (closed by stop).
 * `tick` (may be NULL) runs on the executor about once a second with no batch
 * open (key reload, log flush, audit gauge).
 */
int pv_http_exec_start(pv_http_exec **out, pv_vault *v, const pv_http_exec_tuning *t,
		       pv_http_metrics *metrics, void (*tick)(pv_vault *v, void *payload), void *payload);
void pv_http_exec_tune(pv_http_exec *e, const pv_http_exec_tuning *t);
/* Queue a job. 0, or -1 when the queue is full or stopping (answer 503). */
int pv_http_exec_submit(pv_http_exec *e, pv_http_job *job);
/* Ask for a tick as soon as possible (after a SIGHUP). */
void pv_http_exec_poke(pv_http_exec *e);
/* Run every queued job, stop the thread, close the vault, free. Accepts NULL. */
void pv_http_exec_stop(pv_http_exec *e);

/* ---- the server (server.c) ---- */

typedef struct pv_http_server pv_http_server;

/* pv_server_start with explicit route tables (tests). */
int pv_http_server_start(pv_server **out, const pv_server_config *cfg, const pv_http_route *const *tables);

/* For system routes: the metrics text, the cached OpenAPI document, and a key reload. */
pv_http_metrics *pv_http_server_metrics(void *server);
const char *pv_http_server_openapi(void *server, size_t *len);
void pv_http_server_keys_changed(void *server, pv_vault *v);

#endif
