/*
 * Log rotation by size and age, gzip compression (the gzip program, which
 * every Debian system has), and deletion of rotated files past the policy's
 * retention of access logs.
 *
 * Rotated files are named PATH.<start>[-N][.gz], where <start> is the UTC
 * time (YYYYMMDDTHHMMSSZ) of the segment's first byte: the start of the live
 * segment is kept in DIR/.NAME.privault-rotate. A rotated file is deleted
 * once start + retention has passed, so no line outlives the retention; a
 * live segment older than the retention is rotated at once for the same
 * reason. See docs/logs.md for the comparison with logrotate.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "logs/internal.h"

extern char **environ;

#define PATH_MAX_LEN 4096

void pv_logs_rotate_options_init(pv_logs_rotate_options *o)
{
	memset(o, 0, sizeof(*o));
	o->compress = 1;
	o->mode = PV_LOGS_COPYTRUNCATE;
}

/* 20240131T235959Z into out (17 bytes). */
static void stamp(pv_time t, char out[17])
{
	char iso[32];
	size_t k = 0;

	pv_time_format(t, iso, sizeof(iso));
	for (size_t i = 0; iso[i] && k < 16; i++)
		if (iso[i] != '-' && iso[i] != ':')
			out[k++] = iso[i];
	out[k] = '\0';
}

/* Parse a stamp of 16 characters back. 0 or -1. */
static int stamp_parse(const char *s, pv_time *out)
{
	char iso[21];

	if (strlen(s) < 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 9, s + 11, s + 13);
	for (int i = 0; i < 16; i++)
		if (i != 8 && i != 15 && (s[i] < '0' || s[i] > '9'))
			return -1;
	return pv_time_parse(out, iso) == 0 ? 0 : -1;
}

/* dir and base name of path into d and b. */
static void split_path(const char *path, char d[PATH_MAX_LEN], char b[PATH_MAX_LEN])
{
	char tmp[PATH_MAX_LEN];

	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(d, PATH_MAX_LEN, "%s", dirname(tmp));
	snprintf(tmp, sizeof(tmp), "%s", path);
	snprintf(b, PATH_MAX_LEN, "%s", basename(tmp));
}

/* The live segment's start from the state file, else the log's birth time, else now. */
static pv_time state_read(const char *state, const char *path, int *known)
{
	char line[64] = "";
	struct statx sx;
	pv_time t;
	FILE *f = fopen(state, "r");

	*known = 0;
	if (f != NULL) {
		if (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (pv_time_parse(&t, line) == 0) {
				fclose(f);
				*known = 1;
				return t;
			}
		}
		fclose(f);
	}
	t = pv_clock_now();
	if (statx(AT_FDCWD, path, 0, STATX_BTIME, &sx) == 0 && (sx.stx_mask & STATX_BTIME) &&
	    (pv_time)sx.stx_btime.tv_sec < t)
		return (pv_time)sx.stx_btime.tv_sec;
	return t;
}

static int state_write(const char *state, pv_time t)
{
	char tmp[PATH_MAX_LEN * 2 + 48], iso[32];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state);
	if ((f = fopen(tmp, "w")) == NULL)
		return pv_error_set(PV_EIO, "rotate: cannot write the state file (errno %d)", errno);
	fprintf(f, "%s\n", pv_time_format(t, iso, sizeof(iso)));
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return pv_error_set(PV_EIO, "rotate: cannot write the state file (errno %d)", errno);
	}
	fclose(f);
	if (rename(tmp, state) != 0)
		return pv_error_set(PV_EIO, "rotate: cannot write the state file (errno %d)", errno);
	return 0;
}

/* Run argv (execvp) or "/bin/sh -c cmd"; 0 when it exits 0. */
static int run(char *const argv[])
{
	pid_t pid;
	int st;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* Copy from `in` (from offset *done on) to `out` until EOF. */
static int copy_rest(int in, int out, uint64_t *done)
{
	char buf[1 << 16];

	for (;;) {
		ssize_t r = pread(in, buf, sizeof(buf), (off_t)*done), w;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return pv_error_set(PV_EIO, "rotate: reading the log failed (errno %d)", errno);
		if (r == 0)
			return 0;
		for (ssize_t o = 0; o < r; o += w) {
			w = write(out, buf + o, (size_t)(r - o));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return pv_error_set(PV_EIO, "rotate: writing the rotated file failed (errno %d)", errno);
		}
		*done += (uint64_t)r;
	}
}

/*
 * copytruncate: copy the log to `dst` (new, same mode), copy again what a
 * writer appended meanwhile, then truncate the log in place. Writers keep
 * their descriptors; what they append between the last copy and the
 * truncation (a few microseconds) is lost, as with logrotate's copytruncate.
 */
static int rotate_copy(const char *path, const char *dst, mode_t mode, uint64_t *bytes)
{
	int in = -1, out = -1, rc;
	struct stat sb;

	*bytes = 0;
	if ((in = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return pv_error_set(PV_EIO, "rotate: cannot open the log (errno %d)", errno);
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777)) < 0) {
		rc = pv_error_set(PV_EIO, "rotate: cannot create the rotated file (errno %d)", errno);
		goto done;
	}
	if ((rc = copy_rest(in, out, bytes)) != 0 || (rc = fsync(out) == 0 ? 0 : PV_EIO) != 0)
		goto done;
	for (int i = 0; i < 8; i++) {
		if (fstat(in, &sb) != 0 || (uint64_t)sb.st_size <= *bytes)
			break;
		if ((rc = copy_rest(in, out, bytes)) != 0)
			goto done;
	}
	if (ftruncate(in, 0) != 0)
		rc = pv_error_set(PV_EIO, "rotate: cannot truncate the log (errno %d)", errno);
	if (rc == 0 && fsync(out) != 0)
		rc = pv_error_set(PV_EIO, "rotate: fsync of the rotated file failed (errno %d)", errno);
done:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* rename, then an empty log with the same mode (and owner, when we may). */
static int rotate_rename(const char *path, const char *dst, const struct stat *sb, uint64_t *bytes)
{
	int fd;

	*bytes = (uint64_t)sb->st_size;
	if (rename(path, dst) != 0)
		return pv_error_set(PV_EIO, "rotate: cannot rename the log (errno %d)", errno);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, sb->st_mode & 0777)) < 0)
		return pv_error_set(PV_EIO, "rotate: cannot create the new log (errno %d)", errno);
	if (fchown(fd, sb->st_uid, sb->st_gid) != 0) {
		/* not root: the new log keeps our owner, as logrotate's `create` without owner does */
	}
	close(fd);
	return 0;
}

/* A rotated sibling: "<base>.<stamp>[-N][.gz]". Fills *start; sets *gz. 1 or 0. */
static int sibling(const char *name, const char *base, pv_time *start, int *gz)
{
	size_t bl = strlen(base), nl = strlen(name);
	const char *s;

	if (nl < bl + 17 || strncmp(name, base, bl) != 0 || name[bl] != '.')
		return 0;
	s = name + bl + 1;
	if (stamp_parse(s, start) != 0)
		return 0;
	*gz = nl >= 3 && strcmp(name + nl - 3, ".gz") == 0;
	s += 16;
	if (*s == '-')
		for (s++; *s >= '0' && *s <= '9'; s++)
			;
	return *s == '\0' || strcmp(s, ".gz") == 0;
}

int pv_logs_rotate(const char *path, const pv_logs_rotate_options *o, pv_logs_rotate_result *out)
{
	char dir[PATH_MAX_LEN], base[PATH_MAX_LEN], state[PATH_MAX_LEN * 2 + 32], dst[PATH_MAX_LEN * 2 + 32];
	char newest[PATH_MAX_LEN * 2 + 64] = "", st_txt[17];
	pv_time now = pv_clock_now(), start;
	struct dirent *de;
	struct stat sb;
	int known, rc = 0, have_log;
	DIR *d;

	memset(out, 0, sizeof(*out));
	if (strlen(path) >= PATH_MAX_LEN - 64)
		return pv_error_set(PV_EINVAL, "path: too long");
	if (o->mode != PV_LOGS_COPYTRUNCATE && o->mode != PV_LOGS_RENAME)
		return pv_error_set(PV_EINVAL, "mode: expected copytruncate or rename");
	split_path(path, dir, base);
	snprintf(state, sizeof(state), "%s/.%s.privault-rotate", dir, base);
	have_log = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	start = state_read(state, path, &known);
	if (have_log && !known && !o->dry_run && (rc = state_write(state, start)) != 0)
		return rc;

	if (have_log && sb.st_size > 0) {
		if (o->max_size > 0 && (uint64_t)sb.st_size >= o->max_size)
			snprintf(out->reason, sizeof(out->reason), "size");
		else if (o->has_retention && now >= pv_time_add(start, &o->retention, NULL, 0))
			snprintf(out->reason, sizeof(out->reason), "retention");
		else if (o->has_max_age && now >= pv_time_add(start, &o->max_age, NULL, 0))
			snprintf(out->reason, sizeof(out->reason), "age");
	}
	if (out->reason[0] != '\0') {
		out->rotated = 1;
		stamp(start, st_txt);
		snprintf(dst, sizeof(dst), "%s.%s", path, st_txt);
		for (int i = 1;; i++) {
			snprintf(newest, sizeof(newest), "%s.gz", dst);
			if (access(dst, F_OK) != 0 && access(newest, F_OK) != 0)
				break;
			snprintf(dst, sizeof(dst), "%s.%s-%d", path, st_txt, i);
		}
		snprintf(newest, sizeof(newest), "%s", strrchr(dst, '/') ? strrchr(dst, '/') + 1 : dst);
		if (o->dry_run) {
			out->bytes = (uint64_t)sb.st_size;
		} else {
			rc = o->mode == PV_LOGS_RENAME ? rotate_rename(path, dst, &sb, &out->bytes)
						       : rotate_copy(path, dst, sb.st_mode, &out->bytes);
			if (rc != 0)
				return rc;
			if ((rc = state_write(state, now)) != 0)
				return rc;
			if (o->mode == PV_LOGS_RENAME && o->postrotate != NULL) {
				char *argv[] = { "/bin/sh", "-c", (char *)o->postrotate, NULL };

				if (run(argv) != 0)
					rc = pv_error_set(PV_ERROR, "postrotate: the command failed");
			}
		}
	}

	/* compress and expire rotated files */
	if ((d = opendir(dir)) == NULL)
		return pv_error_set(PV_EIO, "rotate: cannot list the log's directory (errno %d)", errno);
	while ((de = readdir(d)) != NULL) {
		char full[PATH_MAX_LEN * 2 + 300];
		pv_time fstart;
		int gz;

		if (!sibling(de->d_name, base, &fstart, &gz))
			continue;
		snprintf(full, sizeof(full), "%s/%s", dir, de->d_name);
		if (o->has_retention && now >= pv_time_add(fstart, &o->retention, NULL, 0)) {
			if (!o->dry_run && unlink(full) != 0) {
				rc = pv_error_set(PV_EIO, "rotate: cannot delete a rotated file (errno %d)", errno);
				continue;
			}
			out->deleted++;
			continue;
		}
		out->kept++;
		/* rename without postrotate: the writer may still hold the newest one until it reopens */
		if (!gz && o->compress && !o->dry_run &&
		    !(o->mode == PV_LOGS_RENAME && o->postrotate == NULL && strcmp(de->d_name, newest) == 0)) {
			char *argv[] = { "gzip", "-f", "-q", "--", full, NULL };

			if (run(argv) != 0)
				rc = pv_error_set(PV_EIO, "rotate: gzip of a rotated file failed");
		}
	}
	closedir(d);
	return rc;
}
