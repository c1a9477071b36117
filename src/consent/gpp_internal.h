/*
 * Internal to the US Privacy / GPP codecs (src/consent/usp.c, gpp*.c):
 * base64url segments read and written bit by bit, Fibonacci integers.
 *
 * GPP segments are "compressed" base64url: the bit string is padded with
 * zeros to a multiple of 8, then of 6, and each 6 bits become one character
 * of A-Z a-z 0-9 - _ (no '=' padding).
 */
#ifndef PV_CONSENT_GPP_INTERNAL_H
#define PV_CONSENT_GPP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "privault/consent_signals.h"

/* Reading a segment: its 6-bit values, the bit position, names for messages. */
typedef struct {
	uint8_t *sext;         /* one 6-bit value per character */
	size_t nbits;          /* 6 * characters */
	size_t pos;            /* next bit to read */
	const char *section;   /* "header", "usnat", ... for messages */
	const char *segment;   /* "core", "gpc" */
} pv_gpp_reader;

/*
 * Decode `len` base64url characters into r->sext (malloc'd; freed by
 * pv_gpp_reader_free). PV_EINVAL names the first character position that is
 * not base64url; an empty segment is PV_EINVAL.
 */
int pv_gpp_reader_init(pv_gpp_reader *r, const char *s, size_t len, const char *section,
		       const char *segment);
void pv_gpp_reader_free(pv_gpp_reader *r);

/* Read an unsigned integer of `nbits` (1..32) bits, most significant first.
 * PV_EINVAL "<section>.<field>: needs N bits at bit P, the segment has M". */
int pv_gpp_read_int(pv_gpp_reader *r, unsigned nbits, const char *field, uint32_t *out);

/* Read one Fibonacci-coded integer (ends with "11"; at most PV_GPP_MAX_FIB_BITS bits). */
int pv_gpp_read_fib(pv_gpp_reader *r, const char *field, uint32_t *out);

/* Writing a segment: bits in a fixed buffer, then base64url text. */
#define PV_GPP_WRITER_BITS 4096
typedef struct {
	uint8_t bit[PV_GPP_WRITER_BITS];
	size_t n;
	int overflow;
} pv_gpp_writer;

void pv_gpp_write_int(pv_gpp_writer *w, uint32_t v, unsigned nbits);
void pv_gpp_write_fib(pv_gpp_writer *w, uint32_t v);   /* v >= 1 */

/* Pad (to 8 then 6 bits) and write base64url text to out (cap bytes with the NUL).
 * *written gets the characters written. PV_ELIMIT if out or the writer overflowed. */
int pv_gpp_writer_text(char *out, size_t cap, size_t *written, pv_gpp_writer *w);

/*
 * The tcfeuv2 section (gpp_tcf.c): hands the section to the TC string
 * decoder. Returns 1 when decoded into g->tcfeuv2, 0 when kept undecoded,
 * or the decoder's negative error (wrapped with "tcfeuv2: ").
 */
int pv_gpp_tcfeuv2_decode(pv_gpp *g, const char *s, size_t len);
void pv_gpp_tcfeuv2_free(pv_gpp *g);

/* The header segment alone (gpp.c): type and version into g, section ids into
 * ids[0..*n), PV_GPP_MAX_SECTIONS at most. 0, PV_EINVAL or PV_ELIMIT. */
int pv_gpp_header_decode(pv_gpp *g, unsigned *ids, size_t *n, const char *s, size_t len);

/* Longest Fibonacci code accepted: 46 bits encode every value below 2^32. */
#define PV_GPP_MAX_FIB_BITS 46

#endif
