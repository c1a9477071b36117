/*
 * privault scrub (internal): the detectors (detect.c), the scanner and
 * replacement (scrub.c), JSON mode (scrub_json.c) and the streaming reader
 * (stream.c).
 */
#ifndef PV_SCRUB_INTERNAL_H
#define PV_SCRUB_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "privault/scrub.h"

/*
 * Bounds that keep the scan linear and the stream's memory bounded: no
 * detected value is longer than PV_SCRUB_MAX_MATCH bytes (an email address is
 * at most 64 + 1 + 253), no detector looks further than PV_SCRUB_MAX_MATCH + 2
 * bytes right of where it starts, nor more than PV_SCRUB_LEFT_CONTEXT bytes
 * left of it. A stream keeps PV_SCRUB_OVERLAP bytes unscanned at the end of a
 * chunk that has no newline, so every detector sees all the bytes it needs.
 */
#define PV_SCRUB_MAX_MATCH 320
#define PV_SCRUB_LEFT_CONTEXT 32
#define PV_SCRUB_OVERLAP 1024
/* Stream read size in text mode. */
#define PV_SCRUB_CHUNK (64u * 1024)

struct pv_scrubber {
	unsigned types;
	uint8_t *key;            /* guarded memory, PV_SCRUB_KEY_LEN bytes, or NULL (placeholders) */
	pv_scrub_stats stats;
};

/*
 * Set the pseudonymization key derived from a vault's keyring (what
 * pv_scrubber_key_from_vault_keys does after loading the key file; the HTTP
 * handler uses the open vault's keyring).
 */
int pv_scrubber_key_from_keyring(pv_scrubber *s, const pv_keyring *k);

/* A growable output buffer; free with free(b->p). */
typedef struct {
	char *p;
	size_t len;
	size_t cap;
} pv_scrub_buf;

int pv_scrub_buf_put(pv_scrub_buf *b, const char *data, size_t len);

/*
 * Detectors. Each looks for a value of its type starting exactly at p[i]
 * (p[0..i) is left context, p[i..n) is what may be read) and returns the end
 * offset of the value (> i), or 0. Every one checks both token boundaries.
 */
size_t pv_scrub_detect_email(const char *p, size_t i, size_t n);
size_t pv_scrub_detect_phone(const char *p, size_t i, size_t n);
size_t pv_scrub_detect_ipv4(const char *p, size_t i, size_t n);
size_t pv_scrub_detect_ipv6(const char *p, size_t i, size_t n);
size_t pv_scrub_detect_card(const char *p, size_t i, size_t n);
size_t pv_scrub_detect_iban(const char *p, size_t i, size_t n);
size_t pv_scrub_detect_ssn(const char *p, size_t i, size_t n);

/* Parse an IPv4 / IPv6 address in p[i..end) into 16 bytes (IPv4 mapped). 0 or -1. */
int pv_scrub_parse_ip(const char *p, size_t i, size_t end, uint8_t out[16]);

/* Checks exposed for the unit tests. */
int pv_scrub_luhn_ok(const char *digits, size_t n);
int pv_scrub_iban_ok(const char *compact, size_t n);

/*
 * Scan p[from, lim) for values (p[0..from) is context only; bytes up to n may
 * be read). For each match, appends p[*copied, start) and the replacement to
 * `out` (when out != NULL) and calls fn (when fn != NULL; non-zero stops and is
 * returned through *stop). Returns the offset where scanning stopped (>= lim,
 * <= n); bytes from *copied on are not yet written.
 */
size_t pv_scrub_scan(pv_scrubber *s, const char *p, size_t from, size_t lim, size_t n,
		     pv_scrub_buf *out, size_t *copied,
		     int (*fn)(const pv_scrub_match *m, void *payload), void *payload, int *stop, int *err);

/*
 * JSON mode on one document: validate `in` with jansson, then copy it to `out`
 * with each string value (never a key) scrubbed and re-encoded, everything else
 * byte for byte. 0, PV_EINVAL (not JSON; nothing appended), PV_ENOMEM.
 */
int pv_scrub_json_doc(pv_scrubber *s, const char *in, size_t len, pv_scrub_buf *out);

/* Scrub every string value of a jansson tree in place (keys untouched). 0 or PV_ENOMEM. */
int pv_scrub_json_tree(pv_scrubber *s, json_t *v);

#endif
