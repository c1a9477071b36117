/*
 * The suppression journal and restore. Every full erasure appends one signed
 * line per hashed identifier to DIR/suppression.journal, outside the database:
 *     v1 <kind> <blind index, 64 hex> <unix time> <Ed25519 signature, 128 hex>\n
 * signed (the vault's audit signing key) over the line up to the time. After a
 * database is restored from a backup, the replay inserts the suppression
 * entries the backup lacks and erases again every subject the backup brought
 * back. The journal holds no value: blind indexes are keyed hashes.
 */
#include "rights/internal.h"

#include "core/error.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JOURNAL_NAME "suppression.journal"
#define LINE_MAX_LEN 512

static void journal_path(pv_vault *v, char *out, size_t size)
{
	snprintf(out, size, "%s/" JOURNAL_NAME, pv_vault_dir_path(v));
}

/* Append signed lines for ids[0..n) with O_APPEND and fsync. */
int pv_fulfil_journal_append(pv_vault *v, const pv_fulfil_ident *ids, size_t n, pv_time at)
{
	char path[4200], line[LINE_MAX_LEN], bihex[65], sighex[2 * PV_SIG_LEN + 1];
	uint8_t sig[PV_SIG_LEN];
	int fd, rc = 0;

	journal_path(v, path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return pv_error_set(PV_EIO, "suppression journal: cannot open for appending (%s)", strerror(errno));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		int len;
		pv_hex_encode(bihex, ids[i].bi, sizeof(ids[i].bi));
		len = snprintf(line, sizeof(line), "v1 %s %s %lld", ids[i].kind, bihex, (long long)at);
		if ((rc = pv_sign(pv_vault_keyring(v), (const uint8_t *)line, (size_t)len, sig)) < 0)
			break;
		pv_hex_encode(sighex, sig, sizeof(sig));
		len = snprintf(line + len, sizeof(line) - (size_t)len, " %s\n", sighex) + len;
		if (write(fd, line, (size_t)len) != len)
			rc = pv_error_set(PV_EIO, "suppression journal: write failed");
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = pv_error_set(PV_EIO, "suppression journal: fsync failed");
	close(fd);
	return rc;
}

/* Parse and verify one line; fills *id and *at. PV_ECRYPTO / PV_EINVAL naming the line number. */
static int line_parse(const uint8_t pk[PV_PUBKEY_LEN], char *line, size_t lineno, pv_fulfil_ident *id, pv_time *at)
{
	char kind[40], bihex[80], sighex[140];
	long long t;
	uint8_t sig[PV_SIG_LEN];
	char *last;

	if (sscanf(line, "v1 %39s %79s %lld %139s", kind, bihex, &t, sighex) != 4 || strlen(bihex) != 64 ||
	    strlen(sighex) != 2 * PV_SIG_LEN || !pv_id_valid(kind, 32) ||
	    pv_hex_decode(id->bi, sizeof(id->bi), bihex) < 0 || pv_hex_decode(sig, sizeof(sig), sighex) < 0)
		return pv_error_set(PV_EINVAL, "suppression journal line %zu: expected v1 KIND HEX TIME SIGNATURE", lineno);
	last = strrchr(line, ' ');
	if (pv_sign_verify(pk, (const uint8_t *)line, (size_t)(last - line), sig) < 0)
		return pv_error_set(PV_ECRYPTO, "suppression journal line %zu: signature does not verify", lineno);
	memcpy(id->kind, kind, strlen(kind) + 1);   /* pv_id_valid checked <= 32 bytes */
	*at = (pv_time)t;
	return 0;
}

typedef struct {
	pv_fulfil_ident id;
	pv_time at;
} jline;

/* Read and verify the whole journal first (nothing changes on a bad line). */
static int journal_read(pv_vault *v, const char *path, jline **out, size_t *count)
{
	uint8_t pk[PV_PUBKEY_LEN];
	char line[LINE_MAX_LEN + 2];
	jline *l = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	FILE *f;
	int rc = 0;

	*out = NULL;
	*count = 0;
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;   /* nobody erased yet */
		return pv_error_set(PV_EIO, "suppression journal: cannot open (%s)", strerror(errno));
	}
	pv_keyring_public_key(pv_vault_keyring(v), pk);
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			jline *nv = realloc(l, c * sizeof(*nv));
			if (!nv) {
				rc = pv_error_set(PV_ENOMEM, "suppression journal: out of memory");
				break;
			}
			l = nv;
			cap = c;
		}
		if ((rc = line_parse(pk, line, lineno, &l[n].id, &l[n].at)) < 0)
			break;
		n++;
	}
	fclose(f);
	if (rc < 0) {
		free(l);
		return rc;
	}
	*out = l;
	*count = n;
	return 0;
}

int pv_fulfil_replay_suppressions(pv_vault *v, const pv_caller *caller, const char *journal,
				  pv_replay_report *out)
{
	pv_replay_report r = { 0 };
	char path[4200], who[PV_ID_LEN + 1], outcome[64];
	jline *l = NULL;
	size_t n = 0;
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "replay: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_fulfil_need_admin(caller, "replay")) < 0)
		return rc;
	if (journal)
		snprintf(path, sizeof(path), "%s", journal);
	else
		journal_path(v, path, sizeof(path));
	if ((rc = journal_read(v, path, &l, &n)) < 0)
		return rc;
	r.lines = n;
	for (size_t i = 0; i < n; i++) {
		pv_subject_info info;
		pv_store *s = pv_vault_store(v);

		rc = pv_store_suppression_find(s, l[i].id.kind, l[i].id.bi);
		if (rc == PV_ENOTFOUND) {
			if ((rc = pv_vault_tx_begin(v)) < 0)
				goto done;
			rc = pv_store_suppression_insert(s, l[i].id.kind, l[i].id.bi, "erasure", l[i].at);
			if (rc == 0)
				rc = pv_audit_append(pv_vault_audit(v), caller->name, "suppression.replay", NULL, NULL,
						     NULL, "ok:suppressed");
			if ((rc = pv_vault_tx_end(v, rc)) < 0)
				goto done;
			r.suppressed++;
		} else if (rc < 0) {
			goto done;
		}
		rc = pv_store_identifier_find(s, l[i].id.kind, l[i].id.bi, who);
		if (rc == PV_ENOTFOUND)
			continue;
		if (rc < 0)
			goto done;
		if ((rc = pv_vault_subject_load(v, who, &info)) < 0)
			goto done;
		if (info.state == PV_SUBJECT_ERASED)
			continue;
		/* created after the erasure: the person came back and registered again (a new
		 * subject, not one a backup brought back); a replay must not erase them */
		if (info.created_at > l[i].at) {
			r.reregistered++;
			continue;
		}
		if ((rc = pv_vault_begin(v)) < 0)
			goto done;
		rc = pv_subject_erase(v, caller, who);
		snprintf(outcome, sizeof(outcome), "ok:reerased");
		if (rc == 0)
			rc = pv_audit_append(pv_vault_audit(v), caller->name, "suppression.replay", who, NULL, NULL, outcome);
		if (rc == 0)
			rc = pv_vault_commit(v);
		else
			pv_vault_rollback(v);
		if (rc < 0)
			goto done;
		r.reerased++;
	}
	rc = 0;
done:
	free(l);
	if (out)
		*out = r;
	return rc;
}

/* Copy file src to dst through dst.tmp (mode 0600, fsync, rename). */
static int file_copy(const char *src, const char *dst)
{
	char tmp[4300], buf[65536];
	int in, outfd, rc = 0;
	ssize_t r;

	snprintf(tmp, sizeof(tmp), "%s.restore-tmp", dst);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return pv_error_set(PV_EIO, "backup: cannot open (%s)", strerror(errno));
	if ((outfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		close(in);
		return pv_error_set(PV_EIO, "restore: cannot create the database file (%s)", strerror(errno));
	}
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(outfd, buf, (size_t)r) != r) {
			rc = pv_error_set(PV_EIO, "restore: write failed");
			break;
		}
	if (r < 0)
		rc = pv_error_set(PV_EIO, "backup: read failed");
	if (rc == 0 && fsync(outfd) < 0)
		rc = pv_error_set(PV_EIO, "restore: fsync failed");
	close(in);
	close(outfd);
	if (rc == 0 && rename(tmp, dst) < 0)
		rc = pv_error_set(PV_EIO, "restore: rename failed (%s)", strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int pv_fulfil_restore(const char *backup_db, const char *dir, const pv_caller *caller, pv_replay_report *out)
{
	char db[4200], side[4210];
	pv_vault *v = NULL;
	int rc;

	if (!backup_db || !dir)
		return pv_error_set(PV_EINVAL, "restore: expected a backup file and a vault directory");
	if (getenv("PRIVAULT_STORE") && *getenv("PRIVAULT_STORE"))
		return pv_error_set(PV_EINVAL, "restore: PRIVAULT_STORE is set: restore that store with its own tools, "
				    "then run privault restore --replay-only");
	snprintf(db, sizeof(db), "%s/vault.db", dir);
	if (access(db, F_OK) != 0)
		return pv_error_set(PV_ENOTFOUND, "restore: %s/vault.db: no vault there", dir);
	if ((rc = file_copy(backup_db, db)) < 0)
		return rc;
	snprintf(side, sizeof(side), "%s-wal", db);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", db);
	unlink(side);
	if ((rc = pv_vault_open(&v, dir, NULL)) < 0)
		return rc;
	if ((rc = pv_vault_audit_action(v, caller, "vault.restore", "ok")) == 0)
		rc = pv_fulfil_replay_suppressions(v, caller, NULL, out);
	pv_vault_close(v);
	return rc;
}
