/* src/logs internals: address parsing and formatting, masks, the day key. */
#ifndef PV_LOGS_INTERNAL_H
#define PV_LOGS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "privault/logs.h"

/* One address: v6 == 0 uses b[0..3]. */
typedef struct {
	uint8_t b[16];
	int v6;
} pv_ipaddr;

/* Longest text of a formatted address ("ffff:...:ffff" is 39; mixed-notation mapped 45). */
#define PV_IP_TEXT_MAX 48

/*
 * Parse exactly s[0..n) as an address the way Python's ipaddress does (no
 * leading zeros in IPv4 octets, at most one "::", a trailing dotted quad in
 * IPv6). `scope` allows an IPv6 zone ("%eth0"), which is ignored. 1 or 0.
 */
int pv_ip_parse4(const char *s, size_t n, uint8_t out[4]);
int pv_ip_parse6(const char *s, size_t n, int scope, uint8_t out[16]);
int pv_ip_parse(const char *s, size_t n, int scope, pv_ipaddr *out);

/* Python's str(ip): dotted quad, or lower-case hextets with the longest zero run as "::". Returns length. */
size_t pv_ip_format(const pv_ipaddr *a, char out[PV_IP_TEXT_MAX]);

/* The mask state of an anonymizer: bits, mapped rule, the day key. */
typedef struct {
	unsigned v4_bits, v6_bits;
	int mapped_as_v4;
	uint32_t v4_keep;              /* IPv4 bits kept by the truncation (host order) */
	uint8_t *key;                  /* sodium_malloc, 32 bytes; NULL: no pseudonymization */
} pv_ipmask;

/* Mask (and pseudonymize) `a` in place, then format it into out. Returns the length. */
size_t pv_ip_mask_format(const pv_ipmask *m, pv_ipaddr *a, char out[PV_IP_TEXT_MAX]);

/* Longest client field read through the URL rule (a host with port and user fits easily). */
#define PV_LOGS_HOST_MAX 512

/*
 * The anonip rule for a client field s[0..n): the field is an address
 * (optionally "/prefix"), or a host in URL authority form ("1.2.3.4:80",
 * "[2001:db8::1]:443", with a trailing ']' tolerated). On success fills *a
 * and says what to replace: *whole = 1 (the whole field), or the host text
 * copied to host[0..*host_len) (lower case, at most PV_LOGS_HOST_MAX bytes),
 * whose every occurrence in the field the caller replaces. 1, or 0 if not an address.
 */
int pv_ip_client_field(const char *s, size_t n, const pv_ipmask *m, pv_ipaddr *a, int *whole,
		       char *host, size_t *host_len);

/*
 * One element of an address list: V4, V4:PORT, V6, [V6], [V6]:PORT. On
 * success a_off and a_len locate the address text inside s. 1 or 0.
 */
int pv_ip_hostport(const char *s, size_t n, pv_ipaddr *a, size_t *a_off, size_t *a_len);

/* Day keys (keys.c). */
#define PV_LOGS_KEY_LEN 32
/*
 * Load or create the key of UTC day `day` (days since the epoch) in `dir`
 * (file YYYY-MM-DD.key, mode 0600, created atomically with link()), into
 * `key` (guarded memory of PV_LOGS_KEY_LEN bytes), and delete the key files
 * of earlier days. 0, PV_EIO or PV_EKEY.
 */
int pv_logs_key_load(const char *dir, int64_t day, uint8_t *key);

/* ---- the anonymizer's state (anon.c), shared with the stream driver (stream.c) ---- */

/*
 * The output of one worker: the anonymized lines of the current chunk in a
 * buffer that grows once and is reused. The handle owns one (for
 * pv_logs_anon_line and single-threaded streams); each extra stream thread
 * has its own. h is read only, except its key state when h->key_dir is set
 * (and then only one worker runs).
 */
typedef struct pv_logs_work {
	struct pv_logs_anon *h;
	char *out;                  /* output of the current line(s); free() */
	size_t out_len, out_cap;
	size_t copied;              /* bytes of the current line already copied to out */
	uint64_t addrs;             /* addresses masked in the current line */
} pv_logs_work;

struct pv_logs_anon {
	pv_logs_options o;
	pv_ipmask m;
	char *key_dir;
	int64_t key_day;
	unsigned since_clock;       /* lines since the day was last checked */
	pv_logs_work w;             /* the handle's own output */
};

/* Append n bytes to w->out. 0 or PV_ENOMEM. */
int pv_logs_work_put(pv_logs_work *w, const char *p, size_t n);

/*
 * Append the anonymized line[0..len) (no newline) to w->out, followed by
 * the `tail` bytes after it unchanged (1 for its newline, or 0). 1 masked,
 * 0 unchanged, 2 malformed, or a negative PV_E* code; w->addrs is the
 * number of addresses masked in it.
 */
int pv_logs_work_line(pv_logs_work *w, const char *line, size_t len, size_t tail);

/* Load the day's key again when the UTC day has changed (no-op without key_dir). 0 or a PV_E* code. */
int pv_logs_key_refresh(pv_logs_anon *a);

#endif
