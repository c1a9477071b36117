/*
 * Day keys of the pseudonymizer. One file per UTC day in a key directory:
 * DIR/YYYY-MM-DD.key, 64 hex characters, mode 0600, created atomically
 * (temporary file, fsync, link) so that concurrent anonymizers agree on
 * the key. Loading the key of a day deletes the files of every earlier day
 * (overwritten with zeros, then unlinked): once a day is over its
 * pseudonyms can no longer be linked to addresses.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/error.h"
#include "core/util.h"
#include "logs/internal.h"

#define KEY_HEX (2 * PV_LOGS_KEY_LEN)

/* "YYYY-MM-DD" of a day number into out (11 bytes). */
static void day_name(int64_t day, char out[11])
{
	char t[32];

	pv_time_format((pv_time)day * 86400, t, sizeof(t));
	memcpy(out, t, 10);
	out[10] = '\0';
}

/* True if `name` is "YYYY-MM-DD.key". */
static int is_key_name(const char *name)
{
	static const char shape[] = "dddd-dd-dd.key";

	if (strlen(name) != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; shape[i]; i++) {
		if (shape[i] == 'd' ? (name[i] < '0' || name[i] > '9') : name[i] != shape[i])
			return 0;
	}
	return 1;
}

/* Read a key file (mode 0600 or stricter, 64 hex + optional newline) into key. */
static int key_read(const char *path, uint8_t *key)
{
	char hex[KEY_HEX + 2];
	struct stat sb;
	ssize_t n;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? PV_ENOTFOUND : pv_error_set(PV_EIO, "key_dir: cannot open the day's key (errno %d)", errno);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = pv_error_set(PV_EKEY, "key_dir: the day's key is not a regular file");
		goto done;
	}
	if (sb.st_mode & 077) {
		rc = pv_error_set(PV_EKEY, "key_dir: the day's key file is readable by group or others (expected mode 0600)");
		goto done;
	}
	n = read(fd, hex, sizeof(hex));
	if (n < KEY_HEX || (n == KEY_HEX + 1 && hex[KEY_HEX] != '\n') || n > KEY_HEX + 1) {
		rc = pv_error_set(PV_EKEY, "key_dir: the day's key: expected 64 hex characters");
		goto done;
	}
	hex[KEY_HEX] = '\0';
	if (pv_hex_decode(key, PV_LOGS_KEY_LEN, hex) != 0)
		rc = pv_error_set(PV_EKEY, "key_dir: the day's key: expected 64 hex characters");
done:
	sodium_memzero(hex, sizeof(hex));
	close(fd);
	return rc;
}

/* Create the key file atomically; PV_EEXISTS when another process won the race. */
static int key_create(const char *dir, const char *path, uint8_t *key)
{
	char tmp[4096], hex[KEY_HEX + 2];
	int fd, rc = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.tmp-key-XXXXXX", dir) >= sizeof(tmp))
		return pv_error_set(PV_EINVAL, "key_dir: path too long");
	if ((fd = mkstemp(tmp)) < 0)
		return pv_error_set(PV_EIO, "key_dir: cannot create a key file (errno %d)", errno);
	randombytes_buf(key, PV_LOGS_KEY_LEN);
	pv_hex_encode(hex, key, PV_LOGS_KEY_LEN);
	hex[KEY_HEX] = '\n';
	if (fchmod(fd, 0600) != 0 || write(fd, hex, KEY_HEX + 1) != KEY_HEX + 1 || fsync(fd) != 0) {
		rc = pv_error_set(PV_EIO, "key_dir: cannot write a key file (errno %d)", errno);
		goto done;
	}
	if (link(tmp, path) != 0)
		rc = errno == EEXIST ? PV_EEXISTS : pv_error_set(PV_EIO, "key_dir: cannot create the day's key (errno %d)", errno);
done:
	sodium_memzero(hex, sizeof(hex));
	close(fd);
	unlink(tmp);
	return rc;
}

/* Overwrite a key file with zeros and remove it. */
static void key_destroy(int dfd, const char *name)
{
	static const char zeros[KEY_HEX + 1];
	int fd = openat(dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, zeros, sizeof(zeros)) < 0 || fsync(fd) != 0) {
			/* unlink below is what matters; the overwrite is best effort */
		}
		close(fd);
	}
	unlinkat(dfd, name, 0);
}

int pv_logs_key_load(const char *dir, int64_t day, uint8_t *key)
{
	char name[11], path[4096], file[16];
	struct dirent *de;
	DIR *d;
	int rc;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return pv_error_set(PV_EIO, "key_dir: cannot create the directory (errno %d)", errno);
	day_name(day, name);
	snprintf(file, sizeof(file), "%s.key", name);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path))
		return pv_error_set(PV_EINVAL, "key_dir: path too long");
	rc = key_read(path, key);
	if (rc == PV_ENOTFOUND) {
		rc = key_create(dir, path, key);
		if (rc == PV_EEXISTS)
			rc = key_read(path, key);
	}
	if (rc != 0) {
		sodium_memzero(key, PV_LOGS_KEY_LEN);
		return rc;
	}
	if ((d = opendir(dir)) == NULL)
		return pv_error_set(PV_EIO, "key_dir: cannot list the directory (errno %d)", errno);
	while ((de = readdir(d)) != NULL) {
		if (is_key_name(de->d_name) && strcmp(de->d_name, file) < 0)
			key_destroy(dirfd(d), de->d_name);
	}
	closedir(d);
	return 0;
}
