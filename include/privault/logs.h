/*
 * privault logs: anonymize and rotate web-server access logs.
 *
 * The anonymizer is a streaming filter for access logs in the common and
 * combined formats (Apache, nginx) and in JSON lines. It truncates IP
 * addresses (a number of low bits set to zero) in the client field, in
 * fields that hold address lists (X-Forwarded-For, nginx $upstream_addr)
 * and, when asked, anywhere in the line. It never drops, adds or reorders a
 * line: a line it cannot parse is written unchanged and counted. For the
 * client field of text formats its output is byte-identical to anonip's
 * (docs/logs.md lists the few inputs where privault masks and anonip leaks).
 *
 * Optional keyed pseudonymization replaces the truncated bits with bits of a
 * keyed hash of the whole address: the same address gives the same pseudonym
 * for one UTC day; the key of each day lives in a file of a key directory
 * and is deleted when the day is over, after which nobody can link old
 * pseudonyms to addresses or to each other across days.
 *
 * Rotation moves a log aside by age or size (copy and truncate, or rename),
 * compresses it with gzip and deletes rotated files past the policy's
 * retention of access logs.
 *
 * Documentation: docs/logs.md.
 */
#ifndef PRIVAULT_LOGS_H
#define PRIVAULT_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "privault/time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- anonymizer ------------------------------------------------------------ */

typedef enum {
	PV_LOGS_AUTO = 0,   /* per line: JSON lines when it starts with '{', else common/combined */
	PV_LOGS_COMMON,     /* common and combined (same parser: extra fields allowed) */
	PV_LOGS_JSON        /* one JSON object per line */
} pv_logs_format;

typedef struct {
	pv_logs_format format;
	unsigned v4_bits;           /* low bits of an IPv4 address set to zero: 1..32 (default 12) */
	unsigned v6_bits;           /* low bits of an IPv6 address set to zero: 1..128 (default 84) */
	int everywhere;             /* also mask every address token anywhere in the line */
	int mapped_as_v4;           /* ::ffff:a.b.c.d gets the IPv4 mask, written as ::ffff:a.b.c.d */
	const char *key_dir;        /* pseudonymize with the day's key of this directory (NULL: off) */
	const char *const *json_keys;  /* extra JSON keys holding the client address */
	size_t njson_keys;
} pv_logs_options;

/* Counters of one run. */
typedef struct {
	uint64_t lines;             /* lines read (a last line without newline counts) */
	uint64_t changed;           /* lines written with at least one address masked */
	uint64_t malformed;         /* lines written unchanged: no address in the client field, bad JSON, too long */
	uint64_t addresses;         /* addresses masked */
} pv_logs_stats;

typedef struct pv_logs_anon pv_logs_anon;

/* Defaults: auto format, anonip masks (12 and 84 bits), client and address-list fields only. */
void pv_logs_options_init(pv_logs_options *o);

/*
 * Set the masks of a preset: "anonip" (12 / 84 bits), "ga" (Google Analytics:
 * last octet, 80 bits), "matomo1", "matomo2", "matomo3" (Matomo's 1, 2 or 3
 * bytes: 8/16/24 bits of IPv4, 64/80/104 bits of IPv6). 0 or PV_EINVAL.
 */
int pv_logs_preset(pv_logs_options *o, const char *name);

/*
 * A new anonymizer. With o->key_dir, loads or creates today's key (UTC, from
 * pv_clock_now) and deletes the keys of earlier days. Free with
 * pv_logs_anon_free(). 0, PV_EINVAL (bad masks), PV_EIO / PV_EKEY (key dir).
 */
int pv_logs_anon_new(pv_logs_anon **out, const pv_logs_options *o);
void pv_logs_anon_free(pv_logs_anon *a);   /* wipes the key; accepts NULL */

/*
 * Anonymize one line (`len` bytes, without its newline). *out points to the
 * result, borrowed from the handle until the next call; *out_len is its
 * length. Returns 1 when something was masked, 0 when the line is unchanged
 * and well formed, 2 when it is malformed (then *out is the line itself,
 * except that with `everywhere` its address tokens are still masked), or a
 * negative PV_E* code.
 */
int pv_logs_anon_line(pv_logs_anon *a, const char *line, size_t len, const char **out, size_t *out_len);

/*
 * Stream: read lines from in_fd, write them anonymized to out_fd, in order,
 * every byte outside the masked addresses unchanged (newlines included; a
 * last line without newline stays without). Lines longer than
 * PV_LOGS_MAX_LINE are passed through unchanged and counted as malformed.
 * Adds to *st (may be NULL). 0, or PV_EIO when reading or writing fails.
 */
int pv_logs_anon_fd(pv_logs_anon *a, int in_fd, int out_fd, pv_logs_stats *st);

/* ---- rotation ---------------------------------------------------------------- */

typedef enum {
	PV_LOGS_COPYTRUNCATE = 0,   /* copy the log, then truncate it in place (default) */
	PV_LOGS_RENAME              /* rename the log, create an empty one, run `postrotate` */
} pv_logs_rotate_mode;

typedef struct {
	uint64_t max_size;          /* rotate when the log holds at least this many bytes (0: no size rule) */
	int has_max_age;  pv_duration max_age;      /* rotate when the live segment is this old */
	int has_retention; pv_duration retention;   /* delete rotated files whose oldest line is older */
	int compress;               /* gzip rotated files (default 1) */
	pv_logs_rotate_mode mode;
	const char *postrotate;     /* RENAME: shell command run after the rename (e.g. "nginx -s reopen") */
	int dry_run;                /* report, change nothing */
} pv_logs_rotate_options;

/* What one pv_logs_rotate() did. */
typedef struct {
	int rotated;                /* 1 when the log was rotated */
	char reason[16];            /* "size", "age" or "" */
	uint64_t bytes;             /* bytes moved to the rotated file */
	size_t deleted;             /* rotated files deleted past retention */
	size_t kept;                /* rotated files kept */
} pv_logs_rotate_result;

void pv_logs_rotate_options_init(pv_logs_rotate_options *o);

/*
 * Rotate the log at `path` when a rule says so, then delete its rotated files
 * (PATH.<start>[.gz], <start> = UTC time of the segment's first byte as
 * YYYYMMDDTHHMMSSZ) whose start + retention is past. The start of the live
 * segment is kept in the state file .NAME.privault-rotate next to the log.
 * 0, PV_EINVAL (options), PV_EIO (file system), PV_ERROR (postrotate failed).
 */
int pv_logs_rotate(const char *path, const pv_logs_rotate_options *o, pv_logs_rotate_result *out);

#ifdef __cplusplus
}
#endif
#endif
