/*
 * Server configuration: one table of keys drives the file parser, the
 * PRIVAULT_* variables, the flags, the reload diff and the documentation.
 *
 * Precedence, lowest first: defaults < file < environment < flags.
 * The file is `key = value` lines; '#' starts a comment line; blank lines are
 * skipped; values may be double-quoted; keys are the names of the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "http/internal.h"

extern char **environ;

typedef enum { K_STR, K_INT, K_I64 } kind;

typedef struct {
	const char *key;
	const char *env;
	kind kind;
	size_t off;
	size_t size;        /* strings: buffer size */
	int64_t min, max;   /* numbers */
	int live;           /* 1: a reload applies it */
} key_desc;

#define S(k, e, f, live) { k, e, K_STR, offsetof(pv_server_config, f), sizeof(((pv_server_config *)0)->f), 0, 0, live }
#define I(k, e, f, lo, hi, live) { k, e, K_INT, offsetof(pv_server_config, f), 0, lo, hi, live }
#define L(k, e, f, lo, hi, live) { k, e, K_I64, offsetof(pv_server_config, f), 0, lo, hi, live }

static const key_desc keys[] = {
	S("vault", "PRIVAULT_VAULT", vault_dir, 0),
	S("store", "PRIVAULT_STORE", store, 0),
	S("listen", "PRIVAULT_LISTEN", listen, 0),
	I("port", "PRIVAULT_PORT", port, 0, 65535, 0),
	S("tls_cert", "PRIVAULT_TLS_CERT", tls_cert, 0),
	S("tls_key", "PRIVAULT_TLS_KEY", tls_key, 0),
	I("threads", "PRIVAULT_THREADS", threads, 0, 256, 0),
	L("max_body", "PRIVAULT_MAX_BODY", max_body, 1024, PV_HTTP_BODY_MAX_LIMIT, 1),
	S("access_log", "PRIVAULT_ACCESS_LOG", access_log, 1),
	I("auth_fail_burst", "PRIVAULT_AUTH_FAIL_BURST", auth_fail_burst, 1, 1000000, 1),
	I("auth_fail_per_minute", "PRIVAULT_AUTH_FAIL_PER_MINUTE", auth_fail_per_minute, 1, 1000000, 1),
	I("group_commit_us", "PRIVAULT_GROUP_COMMIT_US", group_commit_us, 0, 1000000, 1),
	I("max_batch", "PRIVAULT_MAX_BATCH", max_batch, 1, 100000, 1),
	I("durable_reads", "PRIVAULT_DURABLE_READS", durable_reads, 0, 1, 1),
	I("read_sync_ms", "PRIVAULT_READ_SYNC_MS", read_sync_ms, 1, 10000, 1),
	S("banner_origins", "PRIVAULT_BANNER_ORIGINS", banner_origins, 1),
	I("banner_burst", "PRIVAULT_BANNER_BURST", banner_burst, 1, 1000000, 1),
	I("banner_per_minute", "PRIVAULT_BANNER_PER_MINUTE", banner_per_minute, 1, 1000000, 1),
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void pv_server_config_defaults(pv_server_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->vault_dir, sizeof(c->vault_dir), "./var/vault");
	snprintf(c->listen, sizeof(c->listen), "127.0.0.1");
	c->port = 8700;
	c->threads = 0;
	c->max_body = PV_HTTP_BODY_MAX_DEFAULT;
	snprintf(c->access_log, sizeof(c->access_log), "-");
	c->auth_fail_burst = 10;
	c->auth_fail_per_minute = 10;
	c->group_commit_us = 0;
	c->max_batch = 512;
	c->durable_reads = 0;
	c->read_sync_ms = 50;
	c->banner_burst = 30;
	c->banner_per_minute = 60;
}

static const key_desc *find_key(const char *key)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].key, key) == 0)
			return &keys[i];
	return NULL;
}

/* Set one described key from text; errors name the key and the expected form, never the value. */
static int set_key(pv_server_config *c, const key_desc *k, const char *value)
{
	char *p = (char *)c + k->off, *end;
	long long n;

	if (k->kind == K_STR) {
		if (strlen(value) >= k->size)
			return pv_error_set(PV_EINVAL, "%s: longer than %zu bytes", k->key, k->size - 1);
		snprintf(p, k->size, "%s", value);
		return 0;
	}
	errno = 0;
	n = strtoll(value, &end, 10);
	if (value[0] == '\0' || *end != '\0' || errno != 0 || n < k->min || n > k->max)
		return pv_error_set(PV_EINVAL, "%s: expected an integer from %" PRId64 " to %" PRId64,
				    k->key, k->min, k->max);
	if (k->kind == K_INT)
		*(int *)p = (int)n;
	else
		*(int64_t *)p = n;
	return 0;
}

int pv_server_config_set(pv_server_config *c, const char *key, const char *value)
{
	const key_desc *k;

	if (c == NULL || key == NULL || value == NULL)
		return pv_error_set(PV_EINVAL, "config: expected a key and a value");
	k = find_key(key);
	if (k == NULL)
		return pv_error_set(PV_EINVAL, "%s: not a configuration key", key);
	return set_key(c, k, value);
}

int pv_server_config_get(const pv_server_config *c, const char *key, char *out, size_t size)
{
	const key_desc *k = find_key(key);
	const char *p;

	if (k == NULL)
		return pv_error_set(PV_EINVAL, "%s: not a configuration key", key);
	p = (const char *)c + k->off;
	if (k->kind == K_STR)
		snprintf(out, size, "%s", p);
	else if (k->kind == K_INT)
		snprintf(out, size, "%d", *(const int *)p);
	else
		snprintf(out, size, "%" PRId64, *(const int64_t *)p);
	return 0;
}

/* Trim spaces and tabs at both ends, in place. */
static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/*
 * Read `key = value` lines. A value in double quotes keeps its spaces (no
 * escapes). Errors: "FILE:LINE: key: what was expected". PV_EIO if unreadable.
 */
int pv_server_config_load_file(pv_server_config *c, const char *path)
{
	char line[PV_SERVER_PATH_MAX + 128];
	FILE *f;
	int lineno = 0, rc = 0;

	f = fopen(path, "r");
	if (f == NULL)
		return pv_error_set(PV_EIO, "config file %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *key, *val;
		size_t vl;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = pv_error_set(PV_EINVAL, "%s:%d: line too long", path, lineno);
			break;
		}
		s = trim(line);
		if (s[0] == '\0' || s[0] == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			rc = pv_error_set(PV_EINVAL, "%s:%d: expected key = value", path, lineno);
			break;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		vl = strlen(val);
		if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
			val[vl - 1] = '\0';
			val++;
		}
		rc = pv_server_config_set(c, key, val);
		if (rc < 0) {
			pv_error_wrap(rc, "%s:%d", path, lineno);
			break;
		}
	}
	fclose(f);
	if (rc == 0)
		snprintf(c->config_file, sizeof(c->config_file), "%s", path);
	return rc;
}

/* The value of NAME in envp, or NULL. */
static const char *env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

int pv_server_config_load_env(pv_server_config *c, char *const *envp)
{
	if (envp == NULL)
		envp = environ;
	for (size_t i = 0; i < NKEYS; i++) {
		const char *v = env_get(envp, keys[i].env);
		int rc;

		if (v == NULL || v[0] == '\0')
			continue;
		rc = set_key(c, &keys[i], v);
		if (rc < 0)
			return pv_error_wrap(rc, "environment %s", keys[i].env);
	}
	return 0;
}

int pv_server_config_resolve(pv_server_config *out, const char *file, char *const *envp,
			     const pv_server_setting *flags, size_t nflags)
{
	size_t i;
	int rc;

	if (out == NULL)
		return pv_error_set(PV_EINVAL, "config: no output");
	if (envp == NULL)
		envp = environ;
	pv_server_config_defaults(out);
	for (i = 0; file == NULL && i < nflags; i++)
		if (strcmp(flags[i].key, "config") == 0)
			file = flags[i].value;
	if (file == NULL || file[0] == '\0')
		file = env_get(envp, "PRIVAULT_CONFIG");
	if (file != NULL && file[0] != '\0' && (rc = pv_server_config_load_file(out, file)) < 0)
		return rc;
	if ((rc = pv_server_config_load_env(out, envp)) < 0)
		return rc;
	for (i = 0; i < nflags; i++) {
		if (strcmp(flags[i].key, "config") == 0)
			continue;
		rc = pv_server_config_set(out, flags[i].key, flags[i].value);
		if (rc < 0)
			return pv_error_wrap(rc, "flag --%s", flags[i].key);
	}
	return 0;
}

void pv_server_config_diff(const pv_server_config *a, const pv_server_config *b,
			   void (*cb)(const char *key, const char *before, const char *after, int live, void *payload),
			   void *payload)
{
	char va[PV_SERVER_PATH_MAX], vb[PV_SERVER_PATH_MAX];

	for (size_t i = 0; i < NKEYS; i++) {
		pv_server_config_get(a, keys[i].key, va, sizeof(va));
		pv_server_config_get(b, keys[i].key, vb, sizeof(vb));
		if (strcmp(va, vb) != 0)
			cb(keys[i].key, va, vb, keys[i].live, payload);
	}
}
