/*
 * A fresh vault in a temporary directory for one cmocka test: the setup and
 * teardown that the vault-level unit tests share (test_retention, test_epochs,
 * test_rights, test_fulfil, test_outbox). The environment is cleared of PRIVAULT_KEYS and
 * PRIVAULT_STORE so the vault's own key file and SQLite database are used, and
 * the clock is frozen at `t0` until the teardown.
 */
#ifndef PV_TEST_VAULT_FIXTURE_H
#define PV_TEST_VAULT_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "privault/time.h"
#include "privault/vault.h"

static int pv_test_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Create root = /tmp/pv-test-<tag>-XXXXXX, a vault in root/v under `policy`, open it into *v. */
static inline void pv_test_vault_setup(char root[64], char dir[128], pv_vault **v, const char *policy,
				       const char *tag, pv_time t0)
{
	unsetenv("PRIVAULT_KEYS");
	unsetenv("PRIVAULT_STORE");
	pv_clock_set(t0);
	snprintf(root, 64, "/tmp/pv-test-%.16s-XXXXXX", tag);
	assert_non_null(mkdtemp(root));
	snprintf(dir, 128, "%s/v", root);
	assert_int_equal(pv_vault_init(dir, policy, NULL), 0);
	assert_int_equal(pv_vault_open(v, dir, NULL), 0);
}

/* Close the vault, remove root and everything under it, release the clock. */
static inline void pv_test_vault_teardown(const char *root, pv_vault *v)
{
	pv_clock_reset();
	pv_vault_close(v);
	nftw(root, pv_test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* The usual cmocka state: a vault in a temporary directory (most vault-level tests need no more). */
typedef struct {
	char root[64];
	char dir[128];
	pv_vault *v;
} pv_test_fixture;

/* Bodies of a test file's setup (policy, tag and t0 as for pv_test_vault_setup) and teardown. */
static inline int pv_test_fixture_setup(void **state, const char *policy, const char *tag, pv_time t0)
{
	pv_test_fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	pv_test_vault_setup(f->root, f->dir, &f->v, policy, tag, t0);
	*state = f;
	return 0;
}

static inline int pv_test_fixture_teardown(void **state)
{
	pv_test_fixture *f = *state;

	pv_test_vault_teardown(f->root, f->v);
	free(f);
	return 0;
}

#endif
