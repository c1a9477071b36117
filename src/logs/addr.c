/*
 * IP addresses of access logs: parsing (Python ipaddress rules, so the
 * client field matches anonip), formatting (Python's str()), masking and
 * keyed pseudonymization, and anonip's reading of a client field.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "logs/internal.h"

/* Value + 1 of each hex digit, 0 for any other byte (one load instead of three range tests). */
static const uint8_t hex_tab[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8,
	['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hexval(int c)
{
	return hex_tab[(unsigned char)c] - 1;
}

/*
 * A dotted quad: exactly four octets of 1 to 3 ASCII digits, no leading
 * zero ("0" itself is fine), each at most 255. 1 on success, else 0.
 */
int pv_ip_parse4(const char *s, size_t n, uint8_t out[4])
{
	const char *p = s, *e = s + n;

	for (int k = 0; k < 4; k++) {
		unsigned v;

		if (p >= e || (unsigned)(*p - '0') > 9)
			return 0;
		v = (unsigned)(*p++ - '0');
		if (p < e && (unsigned)(*p - '0') <= 9) {
			if (v == 0)
				return 0;           /* leading zero */
			v = v * 10 + (unsigned)(*p++ - '0');
			if (p < e && (unsigned)(*p - '0') <= 9) {
				v = v * 10 + (unsigned)(*p++ - '0');
				if (v > 255)
					return 0;
			}
		}
		out[k] = (uint8_t)v;
		if (k < 3) {
			if (p >= e || *p != '.')
				return 0;
			p++;
		}
	}
	return p == e;
}

/* One hextet: 1 to 4 hex digits. -1 when invalid. */
static int hextet(const char *s, size_t n)
{
	int v = 0;

	if (n == 0 || n > 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int h = hexval((unsigned char)s[i]);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * IPv6 text, following CPython's IPv6Address._ip_int_from_string: 3 to 9
 * colon-separated parts (a trailing dotted quad counts as two), at most one
 * empty inner part ("::"), leading or trailing ':' only as part of "::", and
 * "::" standing for at least one zero hextet. With `scope`, a "%zone" suffix
 * (non-empty, without '%') is accepted and ignored. 1 on success, else 0.
 */
int pv_ip_parse6(const char *s, size_t n, int scope, uint8_t out[16])
{
	struct { const char *p; size_t n; int val; } part[10];
	size_t np = 0, start = 0, hi, lo, skipped, skip = 0;
	const char *pct;
	int has_skip = 0;
	uint16_t h[8];

	if (scope && (pct = memchr(s, '%', n)) != NULL) {
		size_t z = n - (size_t)(pct - s) - 1;

		if (z == 0 || memchr(pct + 1, '%', z) != NULL)
			return 0;
		n = (size_t)(pct - s);
	}
	if (n == 0)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == ':') {
			if (np == 9)
				return 0;
			part[np].p = s + start;
			part[np].n = i - start;
			part[np].val = -1;
			np++;
			start = i + 1;
		}
	}
	if (np < 3)
		return 0;
	if (memchr(part[np - 1].p, '.', part[np - 1].n) != NULL) {
		uint8_t q[4];

		if (!pv_ip_parse4(part[np - 1].p, part[np - 1].n, q))
			return 0;
		part[np - 1].val = q[0] << 8 | q[1];
		part[np - 1].n = 1;
		part[np].p = "";
		part[np].n = 1;
		part[np].val = q[2] << 8 | q[3];
		np++;
	}
	if (np > 9)
		return 0;
	for (size_t i = 1; i + 1 < np; i++) {
		if (part[i].n == 0) {
			if (has_skip)
				return 0;
			has_skip = 1;
			skip = i;
		}
	}
	if (has_skip) {
		hi = skip;
		lo = np - skip - 1;
		if (part[0].n == 0 && --hi != 0)
			return 0;
		if (part[np - 1].n == 0 && --lo != 0)
			return 0;
		if (hi + lo >= 8)
			return 0;
		skipped = 8 - (hi + lo);
	} else {
		if (np != 8 || part[0].n == 0 || part[np - 1].n == 0)
			return 0;
		hi = np;
		lo = 0;
		skipped = 0;
	}
	for (size_t i = 0; i < hi; i++) {
		int v = part[i].val >= 0 ? part[i].val : hextet(part[i].p, part[i].n);

		if (v < 0)
			return 0;
		h[i] = (uint16_t)v;
	}
	for (size_t i = 0; i < skipped; i++)
		h[hi + i] = 0;
	for (size_t i = 0; i < lo; i++) {
		size_t k = np - lo + i;
		int v = part[k].val >= 0 ? part[k].val : hextet(part[k].p, part[k].n);

		if (v < 0)
			return 0;
		h[hi + skipped + i] = (uint16_t)v;
	}
	for (int i = 0; i < 8; i++) {
		out[2 * i] = (uint8_t)(h[i] >> 8);
		out[2 * i + 1] = (uint8_t)h[i];
	}
	return 1;
}

/* IPv4 first, then IPv6 (as Python's ip_address does). 1 or 0. */
int pv_ip_parse(const char *s, size_t n, int scope, pv_ipaddr *out)
{
	memset(out, 0, sizeof(*out));
	if (pv_ip_parse4(s, n, out->b))
		return 1;
	if (pv_ip_parse6(s, n, scope, out->b)) {
		out->v6 = 1;
		return 1;
	}
	return 0;
}

static size_t fmt_u8(char *o, unsigned v)
{
	size_t k = 0;

	if (v >= 100)
		o[k++] = (char)('0' + v / 100);
	if (v >= 10)
		o[k++] = (char)('0' + v / 10 % 10);
	o[k++] = (char)('0' + v % 10);
	return k;
}

static size_t fmt4(const uint8_t *b, char *o)
{
	size_t k = 0;

	for (int i = 0; i < 4; i++) {
		if (i)
			o[k++] = '.';
		k += fmt_u8(o + k, b[i]);
	}
	return k;
}

/* Python's _compress_hextets: the first longest run of 2+ zero hextets becomes "::". */
static size_t fmt6(const uint8_t *b, char *o)
{
	static const char hx[] = "0123456789abcdef";
	int best = -1, bestlen = 0, cur = -1, curlen = 0;
	uint16_t h[8];
	size_t k = 0;

	for (int i = 0; i < 8; i++) {
		h[i] = (uint16_t)(b[2 * i] << 8 | b[2 * i + 1]);
		if (h[i] == 0) {
			if (cur < 0)
				cur = i;
			if (++curlen > bestlen) {
				bestlen = curlen;
				best = cur;
			}
		} else {
			cur = -1;
			curlen = 0;
		}
	}
	if (bestlen < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			o[k++] = ':';
			o[k++] = ':';
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			o[k++] = ':';
		int started = 0;

		for (int sh = 12; sh >= 0; sh -= 4) {
			int d = (h[i] >> sh) & 15;

			if (d || started || sh == 0) {
				o[k++] = hx[d];
				started = 1;
			}
		}
	}
	return k;
}

size_t pv_ip_format(const pv_ipaddr *a, char out[PV_IP_TEXT_MAX])
{
	size_t k = a->v6 ? fmt6(a->b, out) : fmt4(a->b, out);

	out[k] = '\0';
	return k;
}

static int is_mapped(const pv_ipaddr *a)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return a->v6 && memcmp(a->b, pre, 12) == 0;
}

/* Keep the high (8*len - bits) bits of b[0..len); the low `bits` come from h (pseudonym) or are zero. */
static void mask_bits(uint8_t *b, size_t len, unsigned bits, const uint8_t *h)
{
	for (size_t i = len; i-- > 0 && bits > 0;) {
		unsigned nb = bits >= 8 ? 8 : bits;
		uint8_t low = (uint8_t)((1u << nb) - 1);

		b[i] = (uint8_t)((b[i] & ~low) | (h ? h[i] & low : 0));
		bits -= nb;
	}
}

/*
 * Truncate `a` in place (IPv4-mapped addresses with the IPv4 mask when
 * m->mapped_as_v4), replacing the truncated bits with bits of
 * BLAKE2b(key, family || address) when m->key is set, and format it.
 */
size_t pv_ip_mask_format(const pv_ipmask *m, pv_ipaddr *a, char out[PV_IP_TEXT_MAX])
{
	uint8_t h[16], in[17];
	const uint8_t *hp = NULL;
	size_t k;

	if (m->key != NULL) {
		in[0] = (uint8_t)a->v6;
		memcpy(in + 1, a->b, 16);
		crypto_generichash(h, sizeof(h), in, sizeof(in), m->key, PV_LOGS_KEY_LEN);
		hp = h;
	}
	if (m->mapped_as_v4 && is_mapped(a)) {
		mask_bits(a->b + 12, 4, m->v4_bits, hp ? hp + 12 : NULL);
		memcpy(out, "::ffff:", 7);
		k = 7 + fmt4(a->b + 12, out + 7);
	} else if (a->v6) {
		mask_bits(a->b, 16, m->v6_bits, hp);
		k = fmt6(a->b, out);
	} else {
		mask_bits(a->b, 4, m->v4_bits, hp);
		k = fmt4(a->b, out);
	}
	out[k] = '\0';
	if (hp)
		sodium_memzero(h, sizeof(h));
	return k;
}

/*
 * Step 1 of anonip's extract_ip: Python's ip_network(field). An address,
 * optionally "/N" (decimal, 0..32 or 0..128) with its host bits zero, and
 * a prefix no shorter than the truncation's (where anonip would raise).
 */
static int client_network(const char *s, size_t n, const pv_ipmask *m, pv_ipaddr *a)
{
	const char *sl = memchr(s, '/', n);
	size_t an = sl ? (size_t)(sl - s) : n;
	unsigned max, prefix = 0, keep;

	if (sl != NULL && memchr(sl + 1, '/', n - an - 1) != NULL)
		return 0;
	memset(a, 0, sizeof(*a));
	if (pv_ip_parse4(s, an, a->b))
		max = 32;
	else if (pv_ip_parse6(s, an, 1, a->b))
		a->v6 = 1, max = 128;
	else
		return 0;
	if (sl == NULL)
		return 1;
	if (an + 1 == n)
		return 0;
	for (size_t i = an + 1; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		prefix = prefix * 10 + (unsigned)(s[i] - '0');
		if (prefix > max)
			return 0;
	}
	for (unsigned bit = prefix; bit < max; bit++)
		if (a->b[bit / 8] & (0x80 >> (bit % 8)))
			return 0;
	keep = max - (a->v6 ? m->v6_bits : m->v4_bits);
	if (m->mapped_as_v4 && is_mapped(a))
		keep = 96 + 32 - m->v4_bits;
	if (prefix != 0 && prefix < keep)
		return 0;
	return 1;
}

/* Python's urlsplit rule for a bracketed host: IPv6 (zone allowed), never IPv4 or IPvFuture. */
static int bracketed_host_ok(const char *h, size_t n)
{
	uint8_t b[16];

	if (n > 0 && h[0] == 'v')
		return 0;
	return pv_ip_parse6(h, n, 1, b);
}

/*
 * anonip's extract_ip on a client field, step by step: the whole field as a
 * network; else drop one trailing ']' ("1.2.3.4]", "[v6]]"), read it as the
 * authority of "//FIELD" the way Python's urlsplit does (tabs removed, netloc
 * up to '/', '?' or '#', brackets checked, userinfo dropped, port dropped,
 * host lower-cased) and parse the host. The host text (lower case) is
 * copied to host[0..*host_len) for the caller to replace in the field.
 */
int pv_ip_client_field(const char *s, size_t n, const pv_ipmask *m, pv_ipaddr *a, int *whole,
		       char *host, size_t *host_len)
{
	char u[PV_LOGS_HOST_MAX];
	const char *net, *hp, *lb, *rb, *at, *h;
	size_t cn = n, un = 0, nn, hn, hl;

	*whole = 0;
	if (n == 0)
		return 0;
	if (client_network(s, n, m, a)) {
		*whole = 1;
		return 1;
	}
	if ((s[0] == '[' && n >= 2 && s[n - 2] == ']' && s[n - 1] == ']') || (s[0] != '[' && s[n - 1] == ']'))
		cn--;
	for (size_t i = 0; i < cn; i++) {
		if (s[i] == '\t' || s[i] == '\r' || s[i] == '\n')
			continue;
		if (un == sizeof(u))
			return 0;
		u[un++] = s[i];
	}
	net = u;
	nn = un;
	for (size_t i = 0; i < un; i++) {
		if (u[i] == '/' || u[i] == '?' || u[i] == '#') {
			nn = i;
			break;
		}
	}
	lb = memchr(net, '[', nn);
	rb = memchr(net, ']', nn);
	if ((lb == NULL) != (rb == NULL))
		return 0;
	at = memrchr(net, '@', nn);
	hp = at ? at + 1 : net;
	hl = nn - (size_t)(hp - net);
	if (lb != NULL) {
		/* _check_bracketed_netloc: nothing before '[', only ":port" after ']' */
		const char *b = memchr(hp, '[', hl);

		if (b != NULL) {
			const char *in = b + 1, *e;
			size_t inl = hl - (size_t)(in - hp);

			if (b != hp)
				return 0;
			e = memchr(in, ']', inl);
			hn = e ? (size_t)(e - in) : inl;
			if (e != NULL && e + 1 < hp + hl && e[1] != ':')
				return 0;
			if (!bracketed_host_ok(in, hn))
				return 0;
		} else {
			const char *c = memchr(hp, ':', hl);

			hn = c ? (size_t)(c - hp) : hl;
			if (!bracketed_host_ok(hp, hn))
				return 0;
		}
	}
	/* _hostinfo */
	if ((lb = memchr(hp, '[', hl)) != NULL) {
		const char *e;

		h = lb + 1;
		hn = hl - (size_t)(h - hp);
		if ((e = memchr(h, ']', hn)) != NULL)
			hn = (size_t)(e - h);
	} else {
		const char *c = memchr(hp, ':', hl);

		h = hp;
		hn = c ? (size_t)(c - hp) : hl;
	}
	if (hn == 0)
		return 0;
	memcpy(host, h, hn);
	for (size_t i = 0; i < hn && host[i] != '%'; i++)
		if (host[i] >= 'A' && host[i] <= 'Z')
			host[i] = (char)(host[i] - 'A' + 'a');
	if (!pv_ip_parse(host, hn, 1, a))
		return 0;
	*host_len = hn;
	return 1;
}

/* V4, V4:PORT, V6, [V6], [V6]:PORT (PORT: 1 to 5 digits). */
int pv_ip_hostport(const char *s, size_t n, pv_ipaddr *a, size_t *a_off, size_t *a_len)
{
	const char *c;
	size_t i;

	if (n == 0)
		return 0;
	/* an address has a '.' or ':' within its first 5 characters, after hex digits only */
	for (i = s[0] == '[' ? 1 : 0; i < n && i < 6; i++) {
		if (s[i] == '.' || s[i] == ':')
			break;
		if (hexval((unsigned char)s[i]) < 0)
			return 0;
	}
	if (i == n || i == 6)
		return 0;
	if (s[0] == '[') {
		const char *e = memchr(s, ']', n);
		size_t rest;

		if (e == NULL)
			return 0;
		rest = n - (size_t)(e - s) - 1;
		if (rest != 0) {
			if (e[1] != ':' || rest < 2 || rest > 6)
				return 0;
			for (size_t i = 2; i <= rest; i++)
				if (e[i] < '0' || e[i] > '9')
					return 0;
		}
		memset(a, 0, sizeof(*a));
		if (!pv_ip_parse6(s + 1, (size_t)(e - s) - 1, 0, a->b))
			return 0;
		a->v6 = 1;
		*a_off = 1;
		*a_len = (size_t)(e - s) - 1;
		return 1;
	}
	if (pv_ip_parse(s, n, 0, a)) {
		*a_off = 0;
		*a_len = n;
		return 1;
	}
	c = memchr(s, ':', n);
	if (c != NULL && c > s && n - (size_t)(c - s) >= 2 && n - (size_t)(c - s) <= 6) {
		for (const char *p = c + 1; p < s + n; p++)
			if (*p < '0' || *p > '9')
				return 0;
		memset(a, 0, sizeof(*a));
		if (!pv_ip_parse4(s, (size_t)(c - s), a->b))
			return 0;
		*a_off = 0;
		*a_len = (size_t)(c - s);
		return 1;
	}
	return 0;
}
