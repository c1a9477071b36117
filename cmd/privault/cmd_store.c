/*
 * `privault migrate` and `privault store copy`: the store administration of
 * include/privault/store.h on the command line.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "privault/store.h"

/* The store URL of the invocation: --store, else $PRIVAULT_STORE, else sqlite:VAULT/vault.db. */
static const char *store_url(pv_cli *cli, char *buf, size_t size)
{
	const char *env = getenv("PRIVAULT_STORE");

	if (cli->store != NULL && cli->store[0] != '\0')
		return cli->store;
	if (env != NULL && env[0] != '\0')
		return env;
	snprintf(buf, size, "sqlite:%s/vault.db", cli->vault_dir);
	return buf;
}

/* The backend named by a URL, for output (never the URL itself: it may hold a password). */
static const char *backend_of(const char *url)
{
	return strncmp(url, "postgres", 8) == 0 ? "postgres" : "sqlite";
}

static int print_migration(const pv_migration_info *m, void *payload)
{
	char when[32];

	(void)payload;
	if (m->applied_at == 0)
		printf("  %3lld  pending                          %s\n", (long long)m->version, m->description);
	else
		printf("  %3lld  applied %-20s%s  %s\n", (long long)m->version,
		       pv_time_format(m->applied_at, when, sizeof(when)), m->applied_now ? " (now)" : "      ",
		       m->description);
	return 0;
}

int pv_cmd_migrate(pv_cli *cli, int argc, char **argv)
{
	const pv_cli_opt opts[] = { { NULL, NULL, NULL, NULL } };
	const char *pos[1], *url;
	char buf[4200];
	int64_t before = 0, after = 0;
	size_t npos = 0;
	int rc = pv_cli_parse(cli, argc, argv, 1, opts, pos, 0, &npos);

	if (rc >= 0)
		return rc;
	url = store_url(cli, buf, sizeof(buf));
	printf("store: %s\n", backend_of(url));
	rc = pv_migrate(url, &before, &after, print_migration, NULL);
	if (rc != 0)
		return pv_cli_fail(rc);
	if (after == before)
		printf("schema version %lld: up to date\n", (long long)after);
	else
		printf("schema version %lld -> %lld: %lld migration%s applied\n", (long long)before,
		       (long long)after, (long long)(after - before), after - before == 1 ? "" : "s");
	return PV_EXIT_OK;
}

static void print_copy(const pv_copy_report *r)
{
	size_t i;

	printf("%-20s %12s %12s\n", "table", "source", "destination");
	for (i = 0; i < r->ntables; i++)
		printf("%-20s %12lld %12lld%s\n", r->tables[i].name, (long long)r->tables[i].source_rows,
		       (long long)r->tables[i].dest_rows,
		       r->tables[i].source_rows == r->tables[i].dest_rows ? "" : "  MISMATCH");
	printf("subject keys unwrapped: %lld\n", (long long)r->subjects_with_key);
	printf("records decrypted: %lld\n", (long long)r->records_decrypted);
	printf("identifiers decrypted: %lld\n", (long long)r->identifiers_decrypted);
	printf("audit: %lld entries, %lld checkpoints %s\n", (long long)r->audit_entries,
	       (long long)r->audit_checkpoints, r->verified ? "verified" : "NOT verified");
}

/* `privault store copy --from URL --to URL [--key-file FILE]`. */
static int store_copy(pv_cli *cli, int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *key_file = NULL, *pos[1];
	const pv_cli_opt opts[] = {
		{ "--from", &from, NULL, NULL },
		{ "--to", &to, NULL, NULL },
		{ "--key-file", &key_file, NULL, NULL },
		{ NULL, NULL, NULL, NULL }
	};
	char kbuf[4200], sbuf[4200];
	pv_copy_report rep;
	size_t npos = 0;
	int rc = pv_cli_parse(cli, argc, argv, 2, opts, pos, 0, &npos);

	if (rc >= 0)
		return rc;
	if (to == NULL)
		return pv_cli_usage_error(cli, "store copy: --to URL is required");
	if (from == NULL)
		from = store_url(cli, sbuf, sizeof(sbuf));
	if (key_file == NULL) {
		snprintf(kbuf, sizeof(kbuf), "%s/privault.key", cli->vault_dir);
		key_file = kbuf;
	}
	printf("copy: %s -> %s\n", backend_of(from), backend_of(to));
	rc = pv_store_copy(from, to, key_file, &rep);
	if (rep.ntables > 0)
		print_copy(&rep);
	if (rc != 0)
		return pv_cli_fail(rc);
	printf("copy verified\n");
	return PV_EXIT_OK;
}

int pv_cmd_store(pv_cli *cli, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "copy") == 0)
		return store_copy(cli, argc, argv);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		pv_cli_usage(cli, stdout);
		return PV_EXIT_OK;
	}
	return pv_cli_usage_error(cli, "store: expected 'copy'");
}
