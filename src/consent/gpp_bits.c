/*
 * Bit-level reading and writing of GPP base64url segments, and Fibonacci
 * integers (GPP v1 header section ids). See gpp_internal.h.
 */
#include <stdlib.h>
#include <string.h>

#include "consent/gpp_internal.h"
#include "core/error.h"

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of a base64url character, or -1. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decode a segment's characters into 6-bit values. Returns 0, PV_EINVAL
 * (empty segment, or the position of the first bad character) or PV_ENOMEM.
 * r->sext is freed by pv_gpp_reader_free, also after a failure.
 */
int pv_gpp_reader_init(pv_gpp_reader *r, const char *s, size_t len, const char *section,
		       const char *segment)
{
	memset(r, 0, sizeof(*r));
	r->section = section;
	r->segment = segment;
	if (len == 0)
		return pv_error_set(PV_EINVAL, "%s.%s: empty segment", section, segment);
	if (len > PV_GPP_MAX_BYTES)
		return pv_error_set(PV_ELIMIT, "%s.%s: segment longer than %u characters", section,
				    segment, (unsigned)PV_GPP_MAX_BYTES);
	r->sext = malloc(len);
	if (!r->sext)
		return pv_error_set(PV_ENOMEM, "%s.%s: out of memory", section, segment);
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)s[i]);
		if (v < 0)
			return pv_error_set(PV_EINVAL,
					    "%s.%s: character %zu is not base64url (A-Z a-z 0-9 - _)",
					    section, segment, i);
		r->sext[i] = (uint8_t)v;
	}
	r->nbits = len * 6;
	return 0;
}

void pv_gpp_reader_free(pv_gpp_reader *r)
{
	if (!r)
		return;
	free(r->sext);
	r->sext = NULL;
}

static unsigned bit_at(const pv_gpp_reader *r, size_t i)
{
	return (r->sext[i / 6] >> (5 - i % 6)) & 1u;
}

/* Read `nbits` (1..32) as an unsigned integer, most significant bit first. */
int pv_gpp_read_int(pv_gpp_reader *r, unsigned nbits, const char *field, uint32_t *out)
{
	uint32_t v = 0;

	if (nbits == 0 || nbits > 32)
		return pv_error_set(PV_EINVAL, "%s.%s: bad field width %u", r->section, field, nbits);
	if (r->nbits - r->pos < nbits)
		return pv_error_set(PV_EINVAL, "%s.%s: needs %u bits at bit %zu, the %s segment has %zu",
				    r->section, field, nbits, r->pos, r->segment, r->nbits);
	for (unsigned i = 0; i < nbits; i++)
		v = (v << 1) | bit_at(r, r->pos + i);
	r->pos += nbits;
	*out = v;
	return 0;
}

/*
 * Read one Fibonacci-coded integer: bits weighted 1, 2, 3, 5, 8, ... ended by
 * a 1 that follows a 1. Returns 0 with *out >= 1, or PV_EINVAL when the code
 * runs past the segment or PV_GPP_MAX_FIB_BITS, or exceeds 32 bits.
 */
int pv_gpp_read_fib(pv_gpp_reader *r, const char *field, uint32_t *out)
{
	uint64_t f1 = 1, f2 = 2, sum = 0;
	size_t start = r->pos;
	unsigned prev = 0;

	for (size_t k = 0;; k++) {
		if (k >= PV_GPP_MAX_FIB_BITS)
			return pv_error_set(PV_EINVAL, "%s.%s: Fibonacci code at bit %zu longer than %d bits",
					    r->section, field, start, PV_GPP_MAX_FIB_BITS);
		if (r->pos >= r->nbits)
			return pv_error_set(PV_EINVAL,
					    "%s.%s: Fibonacci code at bit %zu not ended by 11 before the end of the %s segment (%zu bits)",
					    r->section, field, start, r->segment, r->nbits);
		unsigned b = bit_at(r, r->pos++);
		if (b && prev)
			break;
		if (b)
			sum += f1;
		prev = b;
		uint64_t next = f1 + f2;
		f1 = f2;
		f2 = next;
	}
	if (sum > UINT32_MAX)
		return pv_error_set(PV_EINVAL, "%s.%s: Fibonacci value at bit %zu exceeds 32 bits",
				    r->section, field, start);
	*out = (uint32_t)sum;
	return 0;
}

void pv_gpp_write_int(pv_gpp_writer *w, uint32_t v, unsigned nbits)
{
	for (unsigned i = nbits; i-- > 0;) {
		if (w->n >= PV_GPP_WRITER_BITS) {
			w->overflow = 1;
			return;
		}
		w->bit[w->n++] = (uint8_t)((v >> i) & 1u);
	}
}

/* Write v (>= 1) in Zeckendorf form, smallest weight first, then the closing 1. */
void pv_gpp_write_fib(pv_gpp_writer *w, uint32_t v)
{
	uint64_t fib[48];
	uint8_t bits[48] = { 0 };
	size_t n = 0;
	uint64_t rest = v;

	fib[0] = 1;
	fib[1] = 2;
	n = 2;
	while (n < 48 && fib[n - 1] + fib[n - 2] <= rest) {
		fib[n] = fib[n - 1] + fib[n - 2];
		n++;
	}
	size_t top = 0;
	for (size_t i = n; i-- > 0;) {
		if (fib[i] <= rest) {
			bits[i] = 1;
			rest -= fib[i];
			if (!top)
				top = i + 1;
		}
	}
	if (top == 0)
		top = 1;  /* v == 0 is not encodable; callers never pass it */
	for (size_t i = 0; i < top; i++)
		pv_gpp_write_int(w, bits[i], 1);
	pv_gpp_write_int(w, 1, 1);
}

/* Pad to a multiple of 8 bits, then of 6, and write the base64url characters. */
int pv_gpp_writer_text(char *out, size_t cap, size_t *written, pv_gpp_writer *w)
{
	if (w->overflow)
		return pv_error_set(PV_ELIMIT, "gpp: encoded segment longer than %d bits", PV_GPP_WRITER_BITS);
	while (w->n % 8)
		pv_gpp_write_int(w, 0, 1);
	while (w->n % 6)
		pv_gpp_write_int(w, 0, 1);
	if (w->overflow)
		return pv_error_set(PV_ELIMIT, "gpp: encoded segment longer than %d bits", PV_GPP_WRITER_BITS);
	size_t chars = w->n / 6;
	if (chars + 1 > cap)
		return pv_error_set(PV_ELIMIT, "gpp: output buffer of %zu bytes too small for %zu characters",
				    cap, chars);
	for (size_t i = 0; i < chars; i++) {
		unsigned v = 0;
		for (size_t k = 0; k < 6; k++)
			v = (v << 1) | w->bit[i * 6 + k];
		out[i] = b64url[v];
	}
	out[chars] = '\0';
	if (written)
		*written = chars;
	return 0;
}
