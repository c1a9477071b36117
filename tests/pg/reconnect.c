/*
 * One long-lived vault handle on PostgreSQL across a server crash: writes
 * succeed; the server is killed (PV_PG_KILL, a shell command); writes fail
 * with PV_ESTORE and a message saying PostgreSQL is unavailable, never with
 * a crash and never naming a value; the server comes back (PV_PG_START); the
 * same handle writes again without being reopened; every write that was
 * acknowledged before the crash is still there, none that failed is, and
 * the audit chain verifies. Run by conn_loss.sh.
 *
 * usage: reconnect VAULT_DIR   (PRIVAULT_STORE names the PostgreSQL store)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privault/audit.h"
#include "privault/error.h"
#include "privault/vault.h"

#define CHECK(cond, ...) \
	do { \
		if (!(cond)) { \
			fprintf(stderr, "FAIL (line %d): ", __LINE__); \
			fprintf(stderr, __VA_ARGS__); \
			fprintf(stderr, " [%s]\n", pv_error_last()); \
			exit(1); \
		} \
	} while (0)

static int create(pv_vault *v, const pv_caller *c, int n, char id[PV_ID_LEN + 1])
{
	char email[64];
	pv_identifier ident = { "email", email };
	pv_subject_spec spec = { &ident, 1, NULL, 0, 0 };

	snprintf(email, sizeof(email), "reconnect%d@example.org", n);
	return pv_subject_create(v, c, &spec, id);
}

int main(int argc, char **argv)
{
	const pv_caller admin = { "reconnect-test", PV_ROLE_ADMIN, NULL, 0 };
	char ids[40][PV_ID_LEN + 1], id[PV_ID_LEN + 1];
	const char *kill_cmd = getenv("PV_PG_KILL"), *start_cmd = getenv("PV_PG_START");
	pv_vault *v = NULL;
	pv_audit_report rep;
	pv_subject_info info;
	int i, rc, failed = 0;

	CHECK(argc == 2 && kill_cmd && start_cmd, "usage: PV_PG_KILL=... PV_PG_START=... reconnect VAULT_DIR");
	CHECK(pv_vault_open(&v, argv[1], NULL) == 0, "open");
	for (i = 0; i < 10; i++)
		CHECK(create(v, &admin, i, ids[i]) == 0, "create %d before the crash", i);

	CHECK(system(kill_cmd) == 0, "kill the server");
	for (i = 10; i < 13; i++) {
		rc = create(v, &admin, i, id);
		CHECK(rc == PV_ESTORE, "create %d while the server is down returned %d, expected PV_ESTORE", i, rc);
		CHECK(strstr(pv_error_last(), "PostgreSQL unavailable") != NULL, "message names the outage");
		CHECK(strstr(pv_error_last(), "example.org") == NULL, "message holds no value");
		failed++;
	}
	printf("while down: %d writes refused: %s\n", failed, pv_error_last());

	CHECK(system(start_cmd) == 0, "restart the server");
	/* the same handle, not reopened */
	for (i = 20; i < 25; i++)
		CHECK(create(v, &admin, i, ids[i]) == 0, "create %d after the restart", i);
	for (i = 0; i < 10; i++)
		CHECK(pv_subject_get(v, &admin, ids[i], &info) == 0, "acknowledged subject %d lost", i);
	for (i = 10; i < 13; i++)
		CHECK(pv_subject_find(v, &admin, "email", "reconnect10@example.org", id) == PV_ENOTFOUND,
		      "a refused write is there");
	CHECK(pv_audit_verify(v, &rep) == 0 && rep.ok, "audit after the restart");
	printf("after restart: writes ok, 10 acknowledged subjects kept, chain of %lld entries verified\n",
	       (long long)rep.entries);
	pv_vault_close(v);
	return 0;
}
