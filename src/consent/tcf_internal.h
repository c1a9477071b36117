/*
 * Internals of the TCF codec (src/consent/tcf*.c): the bit reader and writer
 * over base64url segments, shared by tcf.c (decode, encode, events) and
 * tcf_json.c (the JSON form).
 */
#ifndef PV_CONSENT_TCF_INTERNAL_H
#define PV_CONSENT_TCF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

/* A growing bit string for the encoder. */
typedef struct {
	uint8_t *buf;
	size_t cap;                         /* bytes allocated */
	size_t nbits;
} pv_tcf_writer;

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
