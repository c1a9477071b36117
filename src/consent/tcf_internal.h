/*
 * Internals of the TCF codec (src/consent/tcf*.c): the bit reader and writer
 * over base64url segments, shared by tcf.c (decode, encode, events) and
 * tcf_json.c (the JSON form).
 */
#ifndef PV_CONSENT_TCF_INTERNAL_H
#define PV_CONSENT_TCF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "privault/consent_signals.h"

/* Segment types of the v2 string (3 bits at the start of every segment but the core). */
#define PV_TCF_SEG_CORE 0
#define PV_TCF_SEG_DISCLOSED 1
#define PV_TCF_SEG_ALLOWED 2
#define PV_TCF_SEG_PUBLISHER 3

/*
 * Bits of one decoded segment, most significant bit first. `buf` has 8 zero
 * bytes after the last data byte, so reads of up to 57 bits load one word.
 */
typedef struct {
	const uint8_t *buf;
	size_t nbits;
	size_t pos;
	const char *seg;                    /* segment name for messages */
} pv_tcf_reader;

/*
 * A growing bit string for the encoder. Every byte from the one holding bit
 * `nbits` to `cap` is zero, and at least 8 bytes follow that byte, so a
 * write of up to 57 bits is one 64-bit load, OR and store. `buf` starts as
 * `stack` (the caller's, zeroed) and moves to the heap when it grows.
 */
typedef struct {
	uint8_t *buf;
	size_t cap;                         /* bytes usable at buf */
	size_t nbits;
	uint8_t *stack;                     /* the initial buffer (not freed), or NULL */
} pv_tcf_writer;

/* Big-endian 64-bit load and store at any alignment. */
static inline uint64_t pv_tcf_load_be64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return __builtin_bswap64(w);
}

static inline void pv_tcf_store_be64(uint8_t *p, uint64_t w)
{
	w = __builtin_bswap64(w);
	memcpy(p, &w, 8);
}

/* Set bits of w (portable: the build does not assume the popcnt instruction). */
static inline unsigned pv_tcf_popcount64(uint64_t w)
{
	w = w - ((w >> 1) & 0x5555555555555555ull);
	w = (w & 0x3333333333333333ull) + ((w >> 2) & 0x3333333333333333ull);
	w = (w + (w >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((w * 0x0101010101010101ull) >> 56);
}

/* The low n (<= 64) bits of v in reverse order: bit i becomes bit n-1-i. */
static inline uint64_t pv_tcf_reverse(uint64_t v, unsigned n)
{
	if (n == 0)
		return 0;
	v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
	v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
	v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
	v = __builtin_bswap64(v);
	return v >> (64 - n);
}

/*
 * Vendors 64k+1 .. 64k+64 of v as one word, the lowest id in the most
 * significant bit; bytes past v->cap read as zero. Ids above v->max_id are
 * not masked here (callers bound their scans by max_id).
 */
static inline uint64_t pv_tcf_vector_word(const pv_tcf_vector *v, size_t k)
{
	size_t at = k * 8;
	uint8_t tmp[8] = { 0 };

	if (at + 8 <= v->cap)
		return pv_tcf_load_be64(v->bits + at);
	if (at < v->cap)
		memcpy(tmp, v->bits + at, v->cap - at);
	return pv_tcf_load_be64(tmp);
}

/* The name of a segment type for messages ("core", "disclosed vendors", ...). */
const char *pv_tcf_segment_name(unsigned type);

/* Set vendors lo..hi (inclusive, 1 <= lo <= hi <= PV_TCF_MAX_VENDOR). 0 or PV_ENOMEM. */
int pv_tcf_vector_set_range(pv_tcf_vector *v, unsigned lo, unsigned hi);

/* Free a vector's bytes and zero it. */
void pv_tcf_vector_clear(pv_tcf_vector *v);

/* Parse / format a time as ISO 8601 UTC with milliseconds, in deciseconds. */
int pv_tcf_time_parse(uint64_t *out, const char *text);
void pv_tcf_time_format(uint64_t ds, char buf[64]);

#endif
