/*
 * privault HTTP (internal): the contract between the server (server.c,
 * executor.c, auth.c, config.c, metrics.c, openapi.c, problem.c, body.c) and
 * the API handlers (routes.c, api_*.c).
 *
 * One description of every route (pv_http_routes[]) is the dispatch table, the
 * source of /v1/openapi.json and of the documentation (Redis style: describe
 * once as data). A test fails if a route is undocumented or a documented route
 * does not exist.
 *
 * Request life: a libmicrohttpd thread reads the body (limit), authenticates the
 * Bearer key (rate-limited), matches the route, checks the role, parses and
 * validates the JSON body against the route's field table (malformed JSON, wrong
 * types, unknown fields, invalid UTF-8, over-long strings, depth, size: each its
 * own 400/413 problem, nothing written), then hands the request to the executor.
 * The executor thread owns the pv_vault handle and runs queued handlers in one
 * store transaction per batch (group commit: one durable commit for many
 * requests), then the response goes back to the connection's thread.
 */
#ifndef PV_HTTP_H
#define PV_HTTP_H

#include <jansson.h>
#include <stddef.h>

#include "privault/vault.h"

/* ---- request body schema: one table drives validation and OpenAPI ---- */

typedef enum {
	PV_HTTP_T_STRING = 0,
	PV_HTTP_T_INTEGER,
	PV_HTTP_T_BOOLEAN,
	PV_HTTP_T_OBJECT,      /* children describe its fields; unknown fields rejected */
	PV_HTTP_T_ANY_OBJECT,  /* a free JSON object (record data): depth and size limits only */
	PV_HTTP_T_STRING_MAP,  /* an object whose values are strings (identifiers: {"email": "..."}) */
	PV_HTTP_T_ARRAY_STRING,
	PV_HTTP_T_ARRAY_OBJECT /* children describe each element */
} pv_http_type;

typedef struct pv_http_field {
	const char *name;
	pv_http_type type;
	int required;
	size_t max_len;                       /* strings: bytes; arrays: items; 0 = default limit */
	const struct pv_http_field *children; /* OBJECT / ARRAY_OBJECT: NULL-name-terminated */
	const char *description;
	const char *const *enum_values;       /* NULL-terminated allowed strings, or NULL */
} pv_http_field;

/* ---- requests and responses ---- */

#define PV_HTTP_MAX_PARAMS 4

typedef struct pv_http_request {
	const char *method;
	const char *path;                      /* without the query string */
	const char *params[PV_HTTP_MAX_PARAMS];/* path parameters in pattern order ({id}, {record}) */
	size_t nparams;
	json_t *body;                          /* validated body, or NULL when the route takes none (borrowed) */
	const pv_caller *caller;               /* the authenticated caller (borrowed) */
	const char *purpose;                   /* X-Purpose header, or NULL (a body field may also carry it) */
	const char *query;                     /* raw query string or NULL (never logged) */
	int gpc;                               /* 1 if Sec-GPC: 1 was sent */
	const char *client_addr;               /* truncated client address (no personal data), for proof fields */
	void *server;                          /* the pv_http_server (for admin routes) */
	/* Added by the API engineer (routes.c): routes with raw_body_type set get the
	 * request body unparsed here (body == NULL); NULL/0 for every other route. */
	const char *raw_body;                  /* borrowed bytes, not NUL-terminated */
	size_t raw_body_len;
	/* Added by the consent HTTP engineer (issue 5), proof fields for the consent ledger only: */
	const char *user_agent;                /* User-Agent header or NULL (the ledger keeps only its hash) */
	const char *client_ip;                 /* full client address text or NULL: handed only to the ledger,
						  which truncates it; never logged, never answered */
} pv_http_request;

typedef struct pv_http_response {
	int status;                            /* 0 until set */
	json_t *body;                          /* owned; serialized by the server */
	const char *content_type;              /* NULL = application/json, or problem+json when status >= 400 */
	char *raw;                             /* alternative to body: owned bytes (text, JS) */
	size_t raw_len;
	char location[256];                    /* Location header for 201, or "" */
	int decision;                          /* -1 none; else pv_reason of an access decision (metrics) */
	const char *cache_control;             /* NULL = "no-store"; static text (GET /consent.js: cacheable) */
} pv_http_response;

/*
 * A handler runs on the executor thread with the vault handle; it may call any
 * pv_* function. It fills `res` (with pv_http_json or pv_http_problem*) and
 * returns 0; a non-zero return without a status set becomes a 500 problem.
 * Handlers never put personal data in problem details.
 */
typedef int (*pv_http_handler)(pv_vault *v, pv_http_request *req, pv_http_response *res);

/* Role bits for pv_http_route.roles */
#define PV_HTTP_ROLE_ADMIN   (1u << PV_ROLE_ADMIN)
#define PV_HTTP_ROLE_SERVICE (1u << PV_ROLE_SERVICE)
#define PV_HTTP_ROLE_AUDITOR (1u << PV_ROLE_AUDITOR)
#define PV_HTTP_ROLE_ANY     (PV_HTTP_ROLE_ADMIN | PV_HTTP_ROLE_SERVICE | PV_HTTP_ROLE_AUDITOR)
#define PV_HTTP_PUBLIC       0u   /* no authentication (healthz, readyz, metrics, openapi) */

typedef struct pv_http_route {
	const char *method;                /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *pattern;               /* "/v1/subjects/{id}/records" */
	pv_http_handler handler;
	unsigned roles;                    /* PV_HTTP_ROLE_* bits, or PV_HTTP_PUBLIC */
	const char *tag;                   /* OpenAPI tag: "subjects", "records", "policy", "audit", "keys", "system" */
	const char *summary;
	const char *description;
	const pv_http_field *body;         /* request body fields (NULL-name-terminated), NULL = no body */
	const char *response_schema;       /* JSON Schema (text) of the success body, or NULL */
	int success_status;                /* 200, 201, 204 */
	const int *error_statuses;         /* 0-terminated list of documented 4xx/5xx */
	int needs_purpose;                 /* 1: X-Purpose header or a "purpose" body field is required */
	int executor;                      /* 1: runs on the executor (touches the vault); 0: on the connection thread */
	/* Added by the API engineer (routes.c), both 0/NULL by default: */
	const char *raw_body_type;         /* non-NULL: the body is not JSON but raw bytes of this media type
					      (POST /v1/policy: "application/yaml"), passed in req->raw_body
					      within the body size limit; `body` is then NULL */
	int exclusive;                     /* 1: run alone, outside any group-commit batch (key rotation refuses
					      to run inside a batch; policy upload changes the vault's current policy) */
	/* Added by the HTTP performance engineer (issue 3), 0 by default: */
	int read_only;                     /* 1: the handler writes nothing but its audit entries (record read,
					      lookup, decide, metadata): a batch holding only such requests may
					      commit with relaxed durability (docs/operations.md, "Durability of
					      reads"); any other request in the batch makes it fully durable */
	/* Added by the consent HTTP engineer (issue 5), 0 by default; for the public banner routes: */
	int cors;                          /* 1: answers carry CORS headers when the request's Origin is one
					      of the configured banner_origins (OPTIONS routes answer preflights) */
	int public_limited;                /* 1: a public route limited per client address (banner_burst,
					      banner_per_minute): 429 with Retry-After past the allowance */
} pv_http_route;

/*
 * Route tables, each ending with a NULL method: the core API (routes.c), the
 * system routes (server side), and one per later module (retention, scrub, ...).
 * pv_http_route_tables (route_tables.c) lists every table the server serves and
 * documents; adding a module's table there is the only registration step.
 */
extern const pv_http_route pv_http_api_routes[];
extern const pv_http_route pv_http_system_routes[];
extern const pv_http_route pv_http_scrub_routes[];    /* api_scrub.c: POST /v1/scrub */
extern const pv_http_route pv_http_retention_routes[];   /* api_retention.c: legal holds, sweep */
extern const pv_http_route pv_http_rights_routes[];    /* api_rights.c: data-subject requests, CCPA report */
extern const pv_http_route pv_http_consent_routes[];   /* api_consent.c: the consent ledger */
extern const pv_http_route pv_http_banner_routes[];    /* api_consent_banner.c: cookie banner, /consent.js */
extern const pv_http_route pv_http_fulfil_routes[];    /* api_fulfil.c: the disclosure ledger */
extern const pv_http_route *const pv_http_route_tables[];   /* NULL-terminated */

/* ---- helpers (problem.c) ---- */

/* Set a JSON success body (steals `body`). Returns 0. */
int pv_http_json(pv_http_response *res, int status, json_t *body);

/*
 * Set an RFC 9457 problem: type "https://privault.dev/problems/<slug>", title,
 * status, detail (printf). Returns 0.
 */
int pv_http_problem(pv_http_response *res, int status, const char *slug, const char *title,
		    const char *detail_fmt, ...) __attribute__((format(printf, 5, 6)));

/* Append one invalid field (JSON pointer + reason) to the problem's "errors" array. */
void pv_http_problem_field(pv_http_response *res, const char *pointer, const char *reason);

/*
 * Map a library failure (PV_E* code, message from pv_error_last()) to a problem:
 * EINVAL/ELIMIT 400 (or 413 where a size), ENOTFOUND 404, EEXISTS 409, EDENIED 403,
 * EERASED 410, EPOLICY 422, ECRYPTO/ETAMPER 500 "integrity", ESTORE 503, others 500.
 */
int pv_http_problem_from_error(pv_http_response *res, int code);

/* A 403 for a denied access decision with its reason code (sets res->decision). */
int pv_http_problem_denied(pv_http_response *res, pv_reason reason);

#endif
