/*
 * privault server: `privault serve` as a library. The HTTP/JSON server
 * (libmicrohttpd), its configuration, and the API keys its callers present.
 *
 * Configuration comes from four layers, each overriding the one before:
 * defaults < file (`key = value` lines) < environment (PRIVAULT_*) < flags.
 * docs/operations.md ("Running the server") lists every key.
 *
 * API keys are created, listed and revoked here (and by `privault apikey`);
 * only a hash of each key's secret is stored. A key is shown once, at creation.
 */
#ifndef PRIVAULT_SERVER_H
#define PRIVAULT_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "privault/time.h"
#include "privault/vault.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration ---------------------------------------------------- */

#define PV_SERVER_PATH_MAX 1024

typedef struct {
	char vault_dir[PV_SERVER_PATH_MAX];   /* vault       PRIVAULT_VAULT        default ./var/vault */
	char store[PV_SERVER_PATH_MAX];       /* store       PRIVAULT_STORE        "" = the vault's own (SQLite) */
	char listen[64];                      /* listen      PRIVAULT_LISTEN       default 127.0.0.1 (IPv4 or IPv6 literal) */
	int port;                             /* port        PRIVAULT_PORT         default 8700; 0 = any free port */
	char tls_cert[PV_SERVER_PATH_MAX];    /* tls_cert    PRIVAULT_TLS_CERT     PEM file; TLS when both are set */
	char tls_key[PV_SERVER_PATH_MAX];     /* tls_key     PRIVAULT_TLS_KEY      PEM file */
	int threads;                          /* threads     PRIVAULT_THREADS      HTTP threads; 0 = cores - 1 (at least 1) */
	int64_t max_body;                     /* max_body    PRIVAULT_MAX_BODY     request body bytes (413 beyond) */
	char access_log[PV_SERVER_PATH_MAX];  /* access_log  PRIVAULT_ACCESS_LOG   "-" stderr, "off", or a file */
	int auth_fail_burst;                  /* auth_fail_burst       failed authentications allowed at once */
	int auth_fail_per_minute;             /* auth_fail_per_minute  refill of that allowance, per key id and address */
	int group_commit_us;                  /* group_commit_us       extra wait to gather a batch (0 = none) */
	int max_batch;                        /* max_batch             requests per group commit */
	/* appended by the HTTP performance engineer (issue 3): see docs/operations.md "Durability of reads" */
	int durable_reads;                    /* durable_reads  PRIVAULT_DURABLE_READS  1: read batches fsync too (default 0) */
	int read_sync_ms;                     /* read_sync_ms   PRIVAULT_READ_SYNC_MS   relaxed read commits durable within (default 50) */
	char banner_origins[1024];            /* banner_origins PRIVAULT_BANNER_ORIGINS  origins allowed to call the banner
						 routes cross-origin (CORS), space or comma separated ("" = none) */
	int banner_burst;                     /* banner_burst   PRIVAULT_BANNER_BURST   banner requests at once per client address */
	int banner_per_minute;                /* banner_per_minute PRIVAULT_BANNER_PER_MINUTE  refill of that allowance */
	char config_file[PV_SERVER_PATH_MAX]; /* the file read ("" = none): --config or PRIVAULT_CONFIG */
} pv_server_config;

/* One flag's setting, by configuration key ("port", "tls_cert", ...). */
typedef struct {
	const char *key;
	const char *value;
} pv_server_setting;

/* Fill the defaults. */
void pv_server_config_defaults(pv_server_config *c);

/* Set one key from text. PV_EINVAL naming the key for an unknown key or a bad value. */
int pv_server_config_set(pv_server_config *c, const char *key, const char *value);

/*
 * Read `key = value` lines from a file ('#' comments, blank lines). Errors
 * name the line and key (never a value). PV_EIO if the file cannot be read.
 */
int pv_server_config_load_file(pv_server_config *c, const char *path);

/* Apply PRIVAULT_* variables from `envp` (NULL = the process environment). */
int pv_server_config_load_env(pv_server_config *c, char *const *envp);

/*
 * The whole resolution: defaults, then the file (`file`, else a "config" flag,
 * else PRIVAULT_CONFIG from envp; none is fine), then envp, then `flags` in
 * order. *out is complete on success; errors name the layer and key.
 */
int pv_server_config_resolve(pv_server_config *out, const char *file, char *const *envp,
			     const pv_server_setting *flags, size_t nflags);

/* Visit every key whose value differs between a and b; `live` is 1 when a reload applies it. */
void pv_server_config_diff(const pv_server_config *a, const pv_server_config *b,
			   void (*cb)(const char *key, const char *before, const char *after, int live, void *payload),
			   void *payload);

/* The value of `key` as text into out[size]. 0, or PV_EINVAL for an unknown key. */
int pv_server_config_get(const pv_server_config *c, const char *key, char *out, size_t size);

/* ---- the server ------------------------------------------------------- */

typedef struct pv_server pv_server;

/*
 * Open the vault, start the executor (which owns the vault handle) and the
 * HTTP daemon. Returns 0 with *out running; stop it with pv_server_stop().
 */
int pv_server_start(pv_server **out, const pv_server_config *cfg);

/* The port actually bound (useful with port 0). */
int pv_server_port(const pv_server *s);

/* 1 when the server speaks TLS. */
int pv_server_tls(const pv_server *s);

/*
 * Apply a new configuration while serving: access log, rate limits, body limit,
 * group-commit window and batch size take effect; keys that need a restart
 * (listen, port, TLS, threads, vault, store) are logged as such. API keys are
 * reloaded from the store. Every change is logged (key names, never secrets).
 */
int pv_server_reload(pv_server *s, const pv_server_config *cfg);

/*
 * Stop: stop accepting connections, let requests in flight finish (up to
 * `drain_ms` milliseconds), stop the executor, close the vault, free `s`.
 * Accepts NULL. Returns the number of requests cut off by the timeout (0 normally).
 */
int pv_server_stop(pv_server *s, int drain_ms);

/* ---- API keys --------------------------------------------------------- */

/* A key's text: "pvk_" + 16 hex id + "_" + 64 hex secret. */
#define PV_APIKEY_ID_LEN 16
#define PV_APIKEY_TEXT_LEN (4 + PV_APIKEY_ID_LEN + 1 + 64)
#define PV_APIKEY_GRANTS_MAX 1024

typedef struct {
	char id[PV_APIKEY_ID_LEN + 1];
	char name[129];                       /* the caller name in the audit */
	pv_role role;
	char grants[PV_APIKEY_GRANTS_MAX];    /* "purpose[:cat,cat] purpose ..." ("" = none) */
	pv_time created_at;
	pv_time revoked_at;                   /* 0 while active */
} pv_apikey_info;

/*
 * Create a key (admin callers only): `name` ^[a-z][a-z0-9_.-]{0,127}$, a role,
 * and for services grants as texts "purpose[:category,category]". *out_key
 * receives the key text in guarded memory (free with pv_apikey_secret_free);
 * it is shown once and never stored: the store keeps BLAKE2b-256 of the
 * secret. *out_info (may be NULL) gets the stored metadata. Audited.
 */
int pv_apikey_create(pv_vault *v, const pv_caller *caller, const char *name, pv_role role,
		     const char *const *grants, size_t ngrants, char **out_key, pv_apikey_info *out_info);

/* Wipe and free a key text from pv_apikey_create; accepts NULL. */
void pv_apikey_secret_free(char *key);

/* Every key, oldest first (admins and auditors). Free *out with free(). */
int pv_apikey_list(pv_vault *v, const pv_caller *caller, pv_apikey_info **out, size_t *count);

/* Revoke a key by id (admin callers only). PV_ENOTFOUND if unknown. Audited. */
int pv_apikey_revoke(pv_vault *v, const pv_caller *caller, const char *id);

/* Parse role text "admin" | "service" | "auditor". 0 or PV_EINVAL. */
int pv_role_parse(const char *text, pv_role *out);
/* "admin", "service", "auditor". */
const char *pv_role_name(pv_role r);

#ifdef __cplusplus
}
#endif
#endif
