/* Small shared helpers: hex, ids, safe string copies. */
#ifndef PV_CORE_UTIL_H
#define PV_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes). Returns out. */
char *pv_hex_encode(char *out, const uint8_t *in, size_t len);

/* Decode exactly `len` bytes from 2*len hex characters. 0 or PV_EINVAL. */
int pv_hex_decode(uint8_t *out, size_t len, const char *hex);

/* A random UUID v4 in canonical text form into out (37 bytes). Needs sodium_init(). */
#define PV_UUID_LEN 36
void pv_uuid_new(char out[PV_UUID_LEN + 1]);

/* True if `s` is a canonical lower-case UUID. */
int pv_uuid_valid(const char *s);

/* True if `s` matches ^[a-z][a-z0-9_]{0,max-1}$ */
int pv_id_valid(const char *s, size_t max);

/*
 * Grow the array *p (elements of `size` bytes, capacity *cap elements) to hold
 * at least `need`, doubling from 16. 0, or PV_ENOMEM ("out of memory") with
 * *p and *cap unchanged.
 */
int pv_grow(void **p, size_t *cap, size_t need, size_t size);

#endif
