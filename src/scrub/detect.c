/*
 * The scrubber's detectors: one function per type, each deciding whether a
 * value of its type starts exactly at p[i], as a whole token, and is valid
 * (octet ranges, Luhn, issuer prefixes, IBAN length and mod-97, SSA ranges).
 * Every loop is bounded by the type's longest value, so a scan that calls a
 * detector at each token start stays linear.
 */
#include <string.h>

#include "scrub/internal.h"

static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alnum(int c) { return is_digit(c) || is_alpha(c); }
static int is_word(int c) { return is_alnum(c) || c == '_'; }
static int is_hex(int c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* p[k] as an unsigned byte, or 0 past the end. */
static int at(const char *p, size_t k, size_t n) { return k < n ? (unsigned char)p[k] : 0; }

/*
 * A number may start at p[i]: not glued to a word, nor to a longer dotted,
 * dashed or numbered token ("1.192...", "ORD-4111...", "#4111...").
 */
static int digit_start_ok(const char *p, size_t i)
{
	int a, b;

	if (i == 0)
		return 1;
	a = (unsigned char)p[i - 1];
	if (is_word(a) || a == '#' || a == '+')
		return 0;
	if (i >= 2 && (a == '.' || a == '-')) {
		b = (unsigned char)p[i - 2];
		if (is_alnum(b))
			return 0;
	}
	return 1;
}

/* A number ends at p[k]: not glued to a word or continued by ".5", "-5". */
static int digit_end_ok(const char *p, size_t k, size_t n)
{
	int a = at(p, k, n);

	if (is_word(a))
		return 0;
	if ((a == '.' || a == '-') && is_digit(at(p, k + 1, n)))
		return 0;
	return 1;
}

/* ---- email ---- */

static int is_local(int c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* Endings that are file names ("icon@2x.png"), not top-level domains. */
static const char *const file_tlds[] = {
	"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "css", "js", "json", "map",
	"txt", "log", "xml", "htm", "html", "pdf", "gz", "zip", "tar", "yml", "yaml", "ini",
	"cfg", "conf", "lock", NULL
};

static int file_tld(const char *t, size_t len)
{
	for (size_t k = 0; file_tlds[k] != NULL; k++) {
		size_t fl = strlen(file_tlds[k]);
		size_t j;

		if (fl != len)
			continue;
		for (j = 0; j < len && lower((unsigned char)t[j]) == file_tlds[k][j]; j++)
			;
		if (j == len)
			return 1;
	}
	return 0;
}

size_t pv_scrub_detect_email(const char *p, size_t i, size_t n)
{
	size_t k = i, labels = 0, label_start, last_label = 0, last_len = 0, end = 0;
	int c;

	if (!is_alnum(at(p, i, n)) && at(p, i, n) != '_')
		return 0;
	if (i > 0) {
		c = (unsigned char)p[i - 1];
		if (is_local(c) && c != '.')
			return 0;
	}
	/* the local part, up to '@' or its URL encoding "%40" (query strings in access logs) */
	while (k < n && k - i <= 64 && is_local((unsigned char)p[k])
	       && !(p[k] == '%' && at(p, k + 1, n) == '4' && at(p, k + 2, n) == '0'))
		k++;
	if (k - i > 64 || k == i || p[k - 1] == '.')
		return 0;
	if (at(p, k, n) == '@')
		k++;
	else if (at(p, k, n) == '%' && at(p, k + 1, n) == '4' && at(p, k + 2, n) == '0')
		k += 3;
	else
		return 0;
	/* domain: labels of [A-Za-z0-9-], no '-' at either end, joined by single dots */
	label_start = k;
	while (k < n && k - label_start < 254) {
		size_t s = k;

		while (k < n && k - s < 64 && (is_alnum((unsigned char)p[k]) || p[k] == '-'))
			k++;
		if (k == s || p[s] == '-' || p[k - 1] == '-' || (k < n && (is_alnum((unsigned char)p[k]) || p[k] == '-')))
			break;
		labels++;
		last_label = s;
		last_len = k - s;
		end = k;
		if (at(p, k, n) == '.' && is_alnum(at(p, k + 1, n)))
			k++;
		else
			break;
	}
	if (labels < 2 || end - label_start > 253)
		return 0;
	/* the top-level domain: letters (or an IDN "xn--" label), not a file extension */
	if (last_len < 2)
		return 0;
	if (!(last_len > 4 && lower((unsigned char)p[last_label]) == 'x' && lower((unsigned char)p[last_label + 1]) == 'n'
	      && p[last_label + 2] == '-' && p[last_label + 3] == '-')) {
		for (size_t j = last_label; j < end; j++)
			if (!is_alpha((unsigned char)p[j]))
				return 0;
	}
	if (file_tld(p + last_label, last_len))
		return 0;
	c = at(p, end, n);
	if (is_word(c) || c == '@' || c == '-' || (c == '.' && is_alnum(at(p, end + 1, n))))
		return 0;
	/* "git@github.com:org/repo": an SSH location, not a mailbox */
	if (c == ':' && (is_word(at(p, end + 1, n)) || at(p, end + 1, n) == '/'))
		return 0;
	return end;
}

/* ---- IPv4 and IPv6 ---- */

/* Parse a dotted quad at p[i..); end offset or 0. Octets 0..255, no leading zeros. */
static size_t parse_quad(const char *p, size_t i, size_t n, uint8_t out[4])
{
	size_t k = i;

	for (int o = 0; o < 4; o++) {
		unsigned v = 0;
		size_t s = k;

		if (o > 0) {
			if (at(p, k, n) != '.')
				return 0;
			s = ++k;
		}
		while (k < n && is_digit((unsigned char)p[k]) && k - s < 3)
			v = v * 10 + (unsigned)(p[k++] - '0');
		if (k == s || v > 255 || (k - s > 1 && p[s] == '0') || is_digit(at(p, k, n)))
			return 0;
		out[o] = (uint8_t)v;
	}
	return k;
}

/* Words that make a dotted quad a version number: "version 1.2.3.4", "build 10.0.1.5". */
static const char *const version_words[] = {
	"version", "ver", "v", "release", "build", "firmware", "fw", "rev", "revision", "kernel", NULL
};

static int after_version_word(const char *p, size_t i)
{
	size_t k = i, e, s;

	while (k > 0 && i - k < 3 && (p[k - 1] == ' ' || p[k - 1] == ':' || p[k - 1] == '=' || p[k - 1] == '.'))
		k--;
	e = k;
	while (k > 0 && e - k < 10 && is_alpha((unsigned char)p[k - 1]))
		k--;
	s = k;
	if (s == e || (s > 0 && is_word((unsigned char)p[s - 1])))
		return 0;
	for (size_t w = 0; version_words[w] != NULL; w++) {
		size_t wl = strlen(version_words[w]), j;

		if (wl != e - s)
			continue;
		for (j = 0; j < wl && lower((unsigned char)p[s + j]) == version_words[w][j]; j++)
			;
		if (j == wl)
			return 1;
	}
	return 0;
}

/* "Chrome/119.0.0.0": a number right after "word/" is a product version, not an address. */
static int after_product_slash(const char *p, size_t i)
{
	return i >= 2 && p[i - 1] == '/' && is_alnum((unsigned char)p[i - 2]);
}

size_t pv_scrub_detect_ipv4(const char *p, size_t i, size_t n)
{
	uint8_t q[4];
	size_t end;

	int c;

	if (!is_digit(at(p, i, n)) || after_product_slash(p, i))
		return 0;
	/* like other numbers, except that a dash may join addresses: "10.0.0.1-10.0.0.9" is two */
	if (!digit_start_ok(p, i) && !(i >= 2 && p[i - 1] == '-' && is_digit((unsigned char)p[i - 2])))
		return 0;
	end = parse_quad(p, i, n, q);
	if (end == 0 || after_version_word(p, i))
		return 0;
	c = at(p, end, n);
	if (is_word(c) || (c == '.' && is_digit(at(p, end + 1, n))))
		return 0;
	return end;
}

/*
 * Parse an IPv6 address at p[i..): up to 8 groups of 1-4 hex digits, at most
 * one "::", an optional dotted-quad tail (two groups). Writes 16 bytes. Returns
 * the end offset or 0. Greedy: stops at the first byte that cannot continue.
 */
static size_t parse_ipv6(const char *p, size_t i, size_t n, uint8_t out[16], int *has_digit)
{
	uint16_t g[8];
	int ng = 0, gap = -1;
	size_t k = i;

	*has_digit = 0;
	if (at(p, k, n) == ':') {
		if (at(p, k + 1, n) != ':')
			return 0;
		gap = 0;
		k += 2;
	}
	while (ng < 8) {
		size_t s = k;
		unsigned v = 0;

		while (k < n && k - s < 5 && is_hex((unsigned char)p[k])) {
			v = v * 16 + (unsigned)(is_digit((unsigned char)p[k]) ? p[k] - '0' : lower((unsigned char)p[k]) - 'a' + 10);
			*has_digit |= is_digit((unsigned char)p[k]);
			k++;
		}
		if (k == s)
			break;
		if (at(p, k, n) == '.' && ng <= 6) {
			uint8_t q[4];
			size_t e = parse_quad(p, s, n, q);

			if (e == 0)
				return 0;
			g[ng++] = (uint16_t)(q[0] << 8 | q[1]);
			g[ng++] = (uint16_t)(q[2] << 8 | q[3]);
			*has_digit = 1;
			k = e;
			break;
		}
		if (k - s > 4)
			return 0;
		g[ng++] = (uint16_t)v;
		if (at(p, k, n) != ':')
			break;
		if (at(p, k + 1, n) == ':') {
			if (gap >= 0)
				return 0;
			gap = ng;
			k += 2;
			continue;
		}
		if (!is_hex(at(p, k + 1, n)))
			break;    /* a trailing ':' is punctuation */
		k++;
	}
	if (gap < 0 && ng != 8)
		return 0;
	if (gap >= 0 && ng > 7)
		return 0;
	memset(out, 0, 16);
	if (gap < 0) {
		for (int j = 0; j < 8; j++)
			out[2 * j] = (uint8_t)(g[j] >> 8), out[2 * j + 1] = (uint8_t)g[j];
	} else {
		int tail = ng - gap;

		for (int j = 0; j < gap; j++)
			out[2 * j] = (uint8_t)(g[j] >> 8), out[2 * j + 1] = (uint8_t)g[j];
		for (int j = 0; j < tail; j++) {
			int d = 8 - tail + j;

			out[2 * d] = (uint8_t)(g[gap + j] >> 8), out[2 * d + 1] = (uint8_t)g[gap + j];
		}
	}
	if (gap >= 0 && ng == 0)
		return 0;   /* "::" alone */
	return k;
}

size_t pv_scrub_detect_ipv6(const char *p, size_t i, size_t n)
{
	uint8_t a[16];
	int has_digit, c;
	size_t end;

	c = at(p, i, n);
	if (!is_hex(c) && c != ':')
		return 0;
	if (i > 0 && (is_word((unsigned char)p[i - 1]) || p[i - 1] == '.'))
		return 0;
	/* "ip:2001:db8::1" starts after the colon; "1:2001:..." is part of something longer */
	if (i > 0 && p[i - 1] == ':' && i >= 2 && (is_hex((unsigned char)p[i - 2]) || p[i - 2] == ':'))
		return 0;
	if (after_product_slash(p, i))
		return 0;
	end = parse_ipv6(p, i, n, a, &has_digit);
	if (end == 0 || !has_digit)
		return 0;
	c = at(p, end, n);
	if (c == '%' && is_alnum(at(p, end + 1, n))) {   /* zone id: fe80::1%eth0 */
		size_t z = end + 1;

		while (z < n && z - end <= 32 && (is_alnum((unsigned char)p[z]) || p[z] == '.' || p[z] == '_' || p[z] == '-'))
			z++;
		if (z - end > 32)
			return 0;
		end = z;
		c = at(p, end, n);
	}
	if (is_word(c) || (c == ':' && is_hex(at(p, end + 1, n))) || (c == '.' && is_digit(at(p, end + 1, n))))
		return 0;
	return end;
}

int pv_scrub_parse_ip(const char *p, size_t i, size_t end, uint8_t out[16])
{
	uint8_t q[4];
	int has_digit;

	if (parse_quad(p, i, end, q) == end) {
		memset(out, 0, 10);
		out[10] = 0xff, out[11] = 0xff;
		memcpy(out + 12, q, 4);
		return 0;
	}
	return parse_ipv6(p, i, end, out, &has_digit) != 0 ? 0 : -1;
}

/* ---- payment cards ---- */

int pv_scrub_luhn_ok(const char *d, size_t n)
{
	unsigned sum = 0;

	for (size_t k = 0; k < n; k++) {
		unsigned v = (unsigned)(d[n - 1 - k] - '0');

		if (k % 2 == 1) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
	}
	return n > 0 && sum % 10 == 0;
}

/* The first `len` digits of d as a number. */
static unsigned prefix(const char *d, size_t len)
{
	unsigned v = 0;

	for (size_t k = 0; k < len; k++)
		v = v * 10 + (unsigned)(d[k] - '0');
	return v;
}

/* A known issuer prefix (IIN) with a length that issuer uses. */
static int iin_ok(const char *d, size_t n)
{
	unsigned p1 = prefix(d, 1), p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4);

	if (p1 == 4)                                          /* Visa */
		return n == 13 || n == 16 || n == 19;
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))   /* Mastercard */
		return n == 16;
	if (p2 == 34 || p2 == 37)                             /* American Express */
		return n == 15;
	if (p4 >= 2200 && p4 <= 2204)                         /* Mir */
		return n >= 16;
	if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 || p2 == 62)   /* Discover, UnionPay */
		return n >= 16;
	if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)    /* Diners Club */
		return n >= 14;
	if (p4 >= 3528 && p4 <= 3589)                         /* JCB */
		return n >= 16;
	if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 || p4 == 6759
	    || (p4 >= 6761 && p4 <= 6763))                    /* Maestro */
		return n >= 13;
	return 0;
}

/* Group layouts people write cards in (besides no grouping at all). */
static const unsigned char layouts[][6] = {
	{ 4, 4, 4, 4, 0 }, { 4, 4, 4, 4, 3, 0 }, { 4, 4, 4, 4, 2, 0 }, { 4, 4, 4, 4, 1, 0 },
	{ 4, 4, 4, 3, 0 }, { 4, 6, 5, 0 }, { 4, 6, 4, 0 }, { 4, 4, 4, 1, 0 },
};

size_t pv_scrub_detect_card(const char *p, size_t i, size_t n)
{
	char d[20];
	size_t nd = 0, k = i, gl[6], gend[6], ng = 0;
	char sep = 0;

	if (!is_digit(at(p, i, n)) || !digit_start_ok(p, i))
		return 0;
	/* groups of digits joined by one consistent separator (space or dash) */
	while (ng < 6) {
		size_t s = k;

		while (k < n && is_digit((unsigned char)p[k]) && nd < 20) {
			if (nd < 19)
				d[nd] = p[k];
			nd++, k++;
		}
		if (nd > 19)
			break;
		gl[ng] = k - s;
		gend[ng++] = k;
		if (k < n && (p[k] == ' ' || p[k] == '-') && (sep == 0 || sep == p[k])
		    && is_digit(at(p, k + 1, n))) {
			sep = p[k];
			k++;
			continue;
		}
		break;
	}
	if (ng == 1) {
		if (gl[0] < 13 || gl[0] > 19 || !digit_end_ok(p, gend[0], n))
			return 0;
		return pv_scrub_luhn_ok(d, gl[0]) && iin_ok(d, gl[0]) ? gend[0] : 0;
	}
	/* the longest prefix of the groups that is a known layout */
	for (size_t use = ng; use >= 2; use--) {
		for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
			size_t j, total = 0;

			for (j = 0; j < use && layouts[l][j] == gl[j]; j++)
				total += gl[j];
			if (j != use || layouts[l][use] != 0)
				continue;
			if (total < 13 || total > 19 || is_word(at(p, gend[use - 1], n)))
				continue;
			if (at(p, gend[use - 1], n) == sep && use == ng && is_digit(at(p, gend[use - 1] + 1, n)))
				continue;
			if (pv_scrub_luhn_ok(d, total) && iin_ok(d, total))
				return gend[use - 1];
		}
	}
	return 0;
}

/* ---- IBAN ---- */

/* ISO 13616 registry: country code and IBAN length. */
static const struct { char cc[3]; unsigned char len; } iban_lengths[] = {
	{"AD",24},{"AE",23},{"AL",28},{"AT",20},{"AZ",28},{"BA",20},{"BE",16},{"BG",22},{"BH",22},
	{"BI",27},{"BR",29},{"BY",28},{"CH",21},{"CR",22},{"CY",28},{"CZ",24},{"DE",22},{"DJ",27},
	{"DK",18},{"DO",28},{"EE",20},{"EG",29},{"ES",24},{"FI",18},{"FK",18},{"FO",18},{"FR",27},
	{"GB",22},{"GE",22},{"GI",23},{"GL",18},{"GR",27},{"GT",28},{"HR",21},{"HU",28},{"IE",22},
	{"IL",23},{"IQ",23},{"IS",26},{"IT",27},{"JO",30},{"KW",30},{"KZ",20},{"LB",28},{"LC",32},
	{"LI",21},{"LT",20},{"LU",20},{"LV",21},{"LY",25},{"MC",27},{"MD",24},{"ME",22},{"MK",19},
	{"MN",20},{"MR",27},{"MT",31},{"MU",30},{"NI",28},{"NL",18},{"NO",15},{"OM",23},{"PK",24},
	{"PL",28},{"PS",29},{"PT",25},{"QA",29},{"RO",24},{"RS",22},{"RU",33},{"SA",24},{"SC",31},
	{"SD",18},{"SE",24},{"SI",19},{"SK",24},{"SM",27},{"SO",23},{"ST",25},{"SV",28},{"TL",23},
	{"TN",24},{"TR",26},{"UA",29},{"VA",22},{"VG",24},{"XK",20},{"YE",30},
};

static unsigned iban_length(int a, int b)
{
	a = a >= 'a' ? a - 32 : a;
	b = b >= 'a' ? b - 32 : b;
	for (size_t k = 0; k < sizeof(iban_lengths) / sizeof(iban_lengths[0]); k++)
		if (iban_lengths[k].cc[0] == a && iban_lengths[k].cc[1] == b)
			return iban_lengths[k].len;
	return 0;
}

int pv_scrub_iban_ok(const char *s, size_t n)
{
	unsigned r = 0;

	if (n < 15 || n > 34 || iban_length((unsigned char)s[0], (unsigned char)s[1]) != n)
		return 0;
	/* ISO 7064 mod 97-10 over BBAN || country || check digits, letters as 10..35 */
	for (size_t k = 0; k < n; k++) {
		int c = (unsigned char)s[(k + 4) % n];

		if (is_digit(c))
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else if (is_alpha(c))
			r = (r * 100 + (unsigned)(lower(c) - 'a' + 10)) % 97;
		else
			return 0;
	}
	return r == 1;
}

size_t pv_scrub_detect_iban(const char *p, size_t i, size_t n)
{
	char c[35];
	unsigned len;
	size_t k = i, nc = 0;
	int spaced = -1;

	if (!is_alpha(at(p, i, n)) || !is_alpha(at(p, i + 1, n)) || !is_digit(at(p, i + 2, n))
	    || !is_digit(at(p, i + 3, n)) || (i > 0 && is_word((unsigned char)p[i - 1])))
		return 0;
	len = iban_length((unsigned char)p[i], (unsigned char)p[i + 1]);
	if (len == 0)
		return 0;
	while (nc < len && k < n) {
		if (nc > 0 && nc % 4 == 0 && spaced != 0 && p[k] == ' ') {
			if (spaced == -1 && nc != 4)
				return 0;
			spaced = 1;
			k++;
		} else if (nc > 0 && nc % 4 == 0 && spaced == 1) {
			return 0;
		} else if (nc == 4 && spaced == -1) {
			spaced = 0;
		}
		if (!is_alnum(at(p, k, n)))
			return 0;
		c[nc++] = p[k++];
	}
	if (nc != len || is_word(at(p, k, n)))
		return 0;
	return pv_scrub_iban_ok(c, nc) ? k : 0;
}

/* ---- US social security numbers ---- */

size_t pv_scrub_detect_ssn(const char *p, size_t i, size_t n)
{
	static const char shape[] = "ddd-dd-dddd";
	unsigned area, group, serial;

	if (!digit_start_ok(p, i) || i + 11 > n)
		return 0;
	for (size_t k = 0; k < 11; k++)
		if (shape[k] == 'd' ? !is_digit((unsigned char)p[i + k]) : p[i + k] != '-')
			return 0;
	if (!digit_end_ok(p, i + 11, n))
		return 0;
	area = prefix(p + i, 3);
	group = prefix(p + i + 4, 2);
	serial = prefix(p + i + 7, 4);
	/* never issued: area 000, 666, 900-999; group 00; serial 0000; and the two
	 * famous sample numbers the SSA voided (078-05-1120, 219-09-9999) */
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	if ((area == 78 && group == 5 && serial == 1120) || (area == 219 && group == 9 && serial == 9999))
		return 0;
	return i + 11;
}

/* ---- phone numbers ---- */

/*
 * North American number at p[i..): [1 sep] (NXX) or NXX sep, NXX sep XXXX,
 * separators '-', '.', ' ' (one kind in the plain form). End offset or 0.
 */
static size_t nanp(const char *p, size_t i, size_t n)
{
	size_t k = i;
	char sep = 0;
	int paren = 0;

	if (at(p, k, n) == '1' && (at(p, k + 1, n) == '-' || at(p, k + 1, n) == ' ' || at(p, k + 1, n) == '.')) {
		sep = p[k + 1];
		k += 2;
	}
	if (at(p, k, n) == '(') {
		paren = 1;
		k++;
	}
	if (!(at(p, k, n) >= '2' && at(p, k, n) <= '9') || !is_digit(at(p, k + 1, n)) || !is_digit(at(p, k + 2, n)))
		return 0;
	k += 3;
	if (paren) {
		if (at(p, k, n) != ')')
			return 0;
		k++;
		if (at(p, k, n) == ' ' || at(p, k, n) == '-')
			k++;
	} else {
		int c = at(p, k, n);

		if (c != '-' && c != '.' && c != ' ')
			return 0;
		if (sep != 0 && sep != c)
			return 0;
		sep = (char)c;
		k++;
	}
	if (!(at(p, k, n) >= '2' && at(p, k, n) <= '9') || !is_digit(at(p, k + 1, n)) || !is_digit(at(p, k + 2, n)))
		return 0;
	k += 3;
	{
		int c = at(p, k, n);

		if (c != '-' && c != '.' && c != ' ')
			return 0;
		if (!paren && c != sep)
			return 0;
		k++;
	}
	for (int j = 0; j < 4; j++, k++)
		if (!is_digit(at(p, k, n)))
			return 0;
	if (!digit_end_ok(p, k, n))
		return 0;
	return k;
}

size_t pv_scrub_detect_phone(const char *p, size_t i, size_t n)
{
	size_t k, end = 0, digits = 0;
	int c = at(p, i, n);

	if (c == '(') {
		if (i > 0 && (is_word((unsigned char)p[i - 1]) || p[i - 1] == '#'))
			return 0;
		return nanp(p, i, n);
	}
	if (is_digit(c))
		return digit_start_ok(p, i) ? nanp(p, i, n) : 0;
	if (c != '+' || !(at(p, i + 1, n) >= '1' && at(p, i + 1, n) <= '9'))
		return 0;
	if (i > 0 && (is_word((unsigned char)p[i - 1]) || p[i - 1] == '+'))
		return 0;
	/* +1: the North American plan's fixed shape */
	if (p[i + 1] == '1' && !is_digit(at(p, i + 2, n))) {
		k = i + 2;
		if (at(p, k, n) == ' ' || at(p, k, n) == '-' || at(p, k, n) == '.')
			k++;
		return nanp(p, k, n);
	}
	if (p[i + 1] == '1' && is_digit(at(p, i + 2, n))) {
		/* +14155550199 */
		for (k = i + 1; k < n && is_digit((unsigned char)p[k]) && k - i <= 12; k++)
			;
		return k - i == 12 && digit_end_ok(p, k, n) ? k : 0;
	}
	/* elsewhere: groups of digits with single separators, an optional (0) or (area) group */
	k = i + 1;
	while (k < n && k - i < 40) {
		size_t s = k;
		int paren = 0;

		if (p[k] == '(') {
			paren = 1;
			k++;
		}
		s = k;
		while (k < n && is_digit((unsigned char)p[k]) && digits + (k - s) < 17)
			k++;
		if (k == s)
			break;
		digits += k - s;
		if (paren) {
			if (at(p, k, n) != ')')
				return 0;
			k++;
		}
		end = k;
		c = at(p, k, n);
		if ((c == ' ' || c == '-' || c == '.') && (is_digit(at(p, k + 1, n)) || at(p, k + 1, n) == '(') && digits < 15)
			k++;
		else if (paren && is_digit(c))
			;
		else
			break;
	}
	if (digits < 8 || digits > 15 || end == 0 || is_word(at(p, end, n)))
		return 0;
	return end;
}
