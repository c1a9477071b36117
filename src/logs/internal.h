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

#endif
