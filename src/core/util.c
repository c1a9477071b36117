#include "core/util.h"
#include "core/error.h"

#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *pv_hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int pv_hex_decode(uint8_t *out, size_t len, const char *hex)
{
	if (!hex || strlen(hex) != 2 * len)
		return pv_error_set(PV_EINVAL, "expected %zu hex characters", 2 * len);
	for (size_t i = 0; i < len; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return pv_error_set(PV_EINVAL, "invalid hex character at position %zu", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void pv_uuid_new(char out[PV_UUID_LEN + 1])
{
	uint8_t b[16];
	char hex[33];

	randombytes_buf(b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	pv_hex_encode(hex, b, sizeof(b));
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

int pv_uuid_valid(const char *s)
{
	if (!s || strlen(s) != PV_UUID_LEN)
		return 0;
	for (size_t i = 0; i < PV_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return 0;
		}
	}
	return 1;
}

int pv_id_valid(const char *s, size_t max)
{
	size_t n;

	if (!s || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (n = 1; s[n]; n++) {
		char c = s[n];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return n <= max;
}

int pv_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (c > SIZE_MAX / size || (n = realloc(*p, c * size)) == NULL)
		return pv_error_set(PV_ENOMEM, "out of memory");
	*p = n;
	*cap = c;
	return 0;
}
