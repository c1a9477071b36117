/*
 * A strict single-pass JSON validator for record data (see json_check.h for
 * exactly what it accepts). It replaces a jansson tree that was built only to
 * be validated and thrown away, which cost a third of a record put.
 *
 * The scan is iterative: an explicit stack of open containers (their kind and
 * where their keys start in the key table), a cursor, and a few labels for
 * the states of the grammar (a value is expected, a key is expected, a
 * container just closed, a value just ended). Nothing is copied except the
 * digits of a number right at the edge of the double range (into a stack
 * buffer, for strtod) and nothing is allocated unless the key table
 * overflows (then jansson checks the duplicates).
 */
#include "vault/json_check.h"

#include "privault/error.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One key of an open object: where it is and a summary of its decoded text. */
typedef struct {
	size_t off;      /* offset of its opening quote */
	size_t ncp;      /* decoded code points */
	uint32_t hash;   /* FNV-1a over the decoded code points */
} key_span;

typedef struct {
	const unsigned char *s, *end;   /* the document */
	const unsigned char *p;         /* cursor for the scanners */
	pv_json_problem *prob;
	size_t nkeys;                   /* keys of the open objects in keys[] */
	int keys_overflow;              /* some key did not fit: jansson checks duplicates at the end */
	key_span keys[PV_JSON_CHECK_KEYS_MAX];
} checker;

/* Record the problem at `at` and return `code`. */
static int fail(checker *c, const unsigned char *at, int code, const char *expected)
{
	if (c->prob) {
		c->prob->code = code;
		c->prob->offset = (size_t)(at - c->s);
		c->prob->expected = expected;
	}
	return code;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

static inline int is_digit(unsigned ch)
{
	return ch - '0' < 10u;
}

/* The value of 4 hex digits at p (which holds at least 4 bytes), or -1. */
static int32_t hex4(const unsigned char *p)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned ch = p[i], d;
		if (ch - '0' < 10u)
			d = ch - '0';
		else if ((ch | 0x20) - 'a' < 6u)
			d = (ch | 0x20) - 'a' + 10;
		else
			return -1;
		v = (int32_t)((uint32_t)v << 4 | d);
	}
	return v;
}

/*
 * Length (2-4) of the well-formed UTF-8 sequence of a non-ASCII character at
 * p, with its code point in *cp; 0 when it is not one (stray continuation
 * byte, overlong form, encoded surrogate, above U+10FFFF, cut short).
 */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end, uint32_t *cp)
{
	unsigned c0 = p[0], lo = 0x80, hi = 0xBF;
	uint32_t v;
	size_t n;

	if (c0 >= 0xC2 && c0 <= 0xDF) {
		n = 2;
		v = c0 & 0x1F;
	} else if (c0 >= 0xE0 && c0 <= 0xEF) {
		n = 3;
		v = c0 & 0x0F;
		if (c0 == 0xE0)
			lo = 0xA0;   /* overlong */
		else if (c0 == 0xED)
			hi = 0x9F;   /* surrogates */
	} else if (c0 >= 0xF0 && c0 <= 0xF4) {
		n = 4;
		v = c0 & 0x07;
		if (c0 == 0xF0)
			lo = 0x90;   /* overlong */
		else if (c0 == 0xF4)
			hi = 0x8F;   /* above U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	v = v << 6 | (p[1] & 0x3F);
	for (size_t i = 2; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	*cp = v;
	return n;
}

/*
 * Scan the string whose opening quote is at c->p and leave c->p after its
 * closing quote. With `k`, also count and hash its decoded code points (keys).
 */
static int scan_string(checker *c, key_span *k)
{
	const unsigned char *p = c->p + 1, *end = c->end;
	uint32_t h = 2166136261u, cp;
	size_t ncp = 0;

	for (;;) {
		/* the common case: a run of plain printable ASCII */
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') {
			if (k) {
				h = (h ^ *p) * 16777619u;
				ncp++;
			}
			p++;
		}
		if (p >= end)
			return fail(c, p, PV_EINVAL, "'\"' to close the string");
		if (*p == '"')
			break;
		if (*p < 0x20)
			return fail(c, p, PV_EINVAL, "an escape (\\n, \\t, \\u00XX) instead of a raw control character");
		if (*p == '\\') {
			if (end - p < 2)
				return fail(c, p, PV_EINVAL, "an escape character after '\\'");
			switch (p[1]) {
			case '"': case '\\': case '/':
				cp = p[1];
				break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u': {
				int32_t v, lo;
				if (end - p < 6 || (v = hex4(p + 2)) < 0)
					return fail(c, p, PV_EINVAL, "4 hex digits after \\u");
				if (v >= 0xDC00 && v <= 0xDFFF)
					return fail(c, p, PV_EINVAL, "a high surrogate (\\uD800-\\uDBFF) before a low one");
				if (v == 0)
					return fail(c, p, PV_EINVAL, "a character other than \\u0000");
				if (v >= 0xD800 && v <= 0xDBFF) {
					if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0xDC00
					    || lo > 0xDFFF)
						return fail(c, p + 6, PV_EINVAL,
							    "a low surrogate (\\uDC00-\\uDFFF) after a high one");
					v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				}
				cp = (uint32_t)v;
				p += 4;
				break;
			}
			default:
				return fail(c, p, PV_EINVAL, "one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u after '\\'");
			}
			p += 2;
		} else {
			size_t n = utf8_seq(p, end, &cp);
			if (n == 0)
				return fail(c, p, PV_EINVAL, "valid UTF-8");
			p += n;
		}
		if (k) {
			h = (h ^ cp) * 16777619u;
			ncp++;
		}
	}
	if (k) {
		k->hash = h;
		k->ncp = ncp;
	}
	c->p = p + 1;
	return 0;
}

/* The next decoded code point of an already validated string body at *pp; advances *pp. */
static uint32_t next_cp(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint32_t cp;

	if (*p == '\\') {
		switch (p[1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = (uint32_t)hex4(p + 2);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)hex4(p + 8) - 0xDC00);
				p += 6;
			}
			p += 4;
			break;
		default:
			cp = p[1];
		}
		*pp = p + 2;
		return cp;
	}
	if (*p < 0x80) {
		*pp = p + 1;
		return *p;
	}
	*pp = p + utf8_seq(p, p + 4, &cp);   /* validated: the sequence is whole */
	return cp;
}

/* 1 when two validated keys decode to the same text. */
static int key_equal(const checker *c, const key_span *a, const key_span *b)
{
	const unsigned char *pa = c->s + a->off + 1, *pb = c->s + b->off + 1;

	for (size_t i = 0; i < a->ncp; i++)
		if (next_cp(&pa) != next_cp(&pb))
			return 0;
	return 1;
}

/* Check key `k` against the keys of its object (from index `first`) and remember it. */
static int key_add(checker *c, size_t first, const key_span *k)
{
	for (size_t i = first; i < c->nkeys; i++) {
		const key_span *o = &c->keys[i];
		if (o->hash == k->hash && o->ncp == k->ncp && key_equal(c, o, k))
			return fail(c, c->s + k->off, PV_EINVAL, "a key not already used in this object");
	}
	if (c->nkeys == PV_JSON_CHECK_KEYS_MAX) {
		c->keys_overflow = 1;
		return 0;
	}
	c->keys[c->nkeys++] = *k;
	return 0;
}

/*
 * A number with a fraction or an exponent: PV_EINVAL when strtod would
 * overflow (as jansson refuses it). The digits are int_part (nint) followed by
 * frac (nfrac), times 10^exp. Only a number within one power of ten of
 * DBL_MAX needs strtod, on at most 800 significant digits plus a sticky
 * digit for any nonzero digit cut off (enough for a correctly rounded result).
 */
static int real_check(checker *c, const unsigned char *start, const unsigned char *int_part, size_t nint,
		      const unsigned char *frac, size_t nfrac, int64_t exp)
{
	char buf[832];
	size_t k, n = 0, total = nint + nfrac;
	int64_t m;
	int sticky = 0;
	double d;

#define DIGIT(i) ((i) < nint ? int_part[(i)] : frac[(i) - nint])
	for (k = 0; k < total && DIGIT(k) == '0'; k++)
		;
	if (k == total)
		return 0;   /* zero */
	/* the value is in [10^(m-1), 10^m); DBL_MAX is about 1.8e308, in [10^308, 10^309) */
	m = (int64_t)nint - (int64_t)k + exp;
	if (m <= 308)
		return 0;
	if (m >= 310)
		return fail(c, start, PV_EINVAL, "a number within the range of a double");
	for (size_t i = k; i < total; i++) {
		if (n < 800)
			buf[n++] = (char)DIGIT(i);
		else if (DIGIT(i) != '0') {
			sticky = 1;
			break;
		}
	}
#undef DIGIT
	if (sticky)
		buf[n++] = '1';
	/* digits x 10^(m - n): no decimal point, so the locale does not matter */
	snprintf(buf + n, sizeof(buf) - n, "e%lld", (long long)(m - (int64_t)n));
	errno = 0;
	d = strtod(buf, NULL);
	if (errno == ERANGE && isinf(d))
		return fail(c, start, PV_EINVAL, "a number within the range of a double");
	return 0;
}

/*
 * Scan the number at c->p (a '-' or a digit) and leave c->p after it. An
 * integer must fit a signed 64-bit integer, any other number a double.
 */
static int scan_number(checker *c)
{
	const unsigned char *p = c->p, *end = c->end, *start = p, *int_part, *frac = NULL;
	size_t nint, nfrac = 0;
	int64_t exp = 0;
	int neg = 0, is_int = 1;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	int_part = p;
	if (p >= end || !is_digit(*p))
		return fail(c, p, PV_EINVAL, "a digit");
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	nint = (size_t)(p - int_part);
	if (p < end && *p == '.') {
		frac = ++p;
		if (p >= end || !is_digit(*p))
			return fail(c, p, PV_EINVAL, "a digit after '.'");
		while (p < end && is_digit(*p))
			p++;
		nfrac = (size_t)(p - frac);
		is_int = 0;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		int eneg = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || !is_digit(*p))
			return fail(c, p, PV_EINVAL, "a digit in the exponent");
		for (; p < end && is_digit(*p); p++)
			if (exp < 1000000000000000LL)   /* saturate: far beyond any double */
				exp = exp * 10 + (*p - '0');
		if (eneg)
			exp = -exp;
		is_int = 0;
	}
	c->p = p;
	if (is_int) {
		if (nint > 19 || (nint == 19 && memcmp(int_part, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0))
			return fail(c, start, PV_EINVAL, "an integer within -2^63..2^63-1");
		return 0;
	}
	return real_check(c, start, int_part, nint, frac, nfrac, exp);
}

/*
 * The key table overflowed: let jansson look for duplicate keys (everything
 * else has been validated). Allocates, which is why it is the exception.
 */
static int duplicates_by_jansson(checker *c, const char *data, size_t len)
{
	json_error_t err;
	json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);

	if (j) {
		json_decref(j);
		return 0;
	}
	if (json_error_code(&err) == json_error_out_of_memory)
		return fail(c, c->s, PV_ENOMEM, "memory for the duplicate-key check");
	return fail(c, c->s + (err.position > 0 && (size_t)err.position <= len ? (size_t)err.position : 0), PV_EINVAL,
		    json_error_code(&err) == json_error_duplicate_key ? "a key not already used in this object" :
									   "valid JSON");
}

int pv_json_check_object(const char *data, size_t len, size_t max_bytes, unsigned max_depth,
			 pv_json_problem *out)
{
	checker c;
	unsigned char kind[PV_JSON_CHECK_DEPTH_MAX + 1];   /* '{' or '[' per open container */
	size_t first[PV_JSON_CHECK_DEPTH_MAX + 1];         /* its first key in c.keys */
	const unsigned char *p, *end;
	unsigned depth = 0;
	int rc;

	c.s = (const unsigned char *)(data ? data : "");
	c.end = end = c.s + (data ? len : 0);
	c.prob = out;
	c.nkeys = 0;
	c.keys_overflow = 0;
	if (data && len > max_bytes)
		return fail(&c, c.s + max_bytes, PV_ELIMIT, "no more bytes than the size limit");
	if (max_depth > PV_JSON_CHECK_DEPTH_MAX)
		max_depth = PV_JSON_CHECK_DEPTH_MAX;
	p = skip_ws(c.s, end);
	if (p == end)
		return fail(&c, p, PV_EINVAL, "a JSON object");
	if (*p != '{')
		return fail(&c, p, PV_EINVAL, "'{' (the data must be a JSON object)");

value:  /* a value starts at p < end */
	switch (*p) {
	case '{':
	case '[':
		if (++depth > max_depth)
			return fail(&c, p, PV_ELIMIT, "containers nested no deeper than the depth limit");
		kind[depth] = *p;
		first[depth] = c.nkeys;
		p = skip_ws(p + 1, end);
		if (p < end && *p == (kind[depth] == '{' ? '}' : ']')) {
			p++;
			goto closed;
		}
		if (kind[depth] == '{')
			goto key;
		if (p == end)
			return fail(&c, p, PV_EINVAL, "a value or ']'");
		goto value;
	case '"':
		c.p = p;
		if ((rc = scan_string(&c, NULL)) < 0)
			return rc;
		p = c.p;
		goto ended;
	case 't':
		if (end - p < 4 || memcmp(p, "true", 4) != 0)
			return fail(&c, p, PV_EINVAL, "true");
		p += 4;
		goto ended;
	case 'f':
		if (end - p < 5 || memcmp(p, "false", 5) != 0)
			return fail(&c, p, PV_EINVAL, "false");
		p += 5;
		goto ended;
	case 'n':
		if (end - p < 4 || memcmp(p, "null", 4) != 0)
			return fail(&c, p, PV_EINVAL, "null");
		p += 4;
		goto ended;
	default:
		if (*p != '-' && !is_digit(*p))
			return fail(&c, p, PV_EINVAL, "a value (object, array, string, number, true, false or null)");
		c.p = p;
		if ((rc = scan_number(&c)) < 0)
			return rc;
		p = c.p;
		goto ended;
	}

key:    /* inside an object, a key is expected at p (whitespace skipped) */
	if (p == end || *p != '"')
		return fail(&c, p, PV_EINVAL, "'\"' to start a key");
	{
		key_span k;
		k.off = (size_t)(p - c.s);
		c.p = p;
		if ((rc = scan_string(&c, &k)) < 0 || (rc = key_add(&c, first[depth], &k)) < 0)
			return rc;
		p = skip_ws(c.p, end);
	}
	if (p == end || *p != ':')
		return fail(&c, p, PV_EINVAL, "':' after a key");
	p = skip_ws(p + 1, end);
	if (p == end)
		return fail(&c, p, PV_EINVAL, "a value after ':'");
	goto value;

closed: /* the container at `depth` just closed; forget its keys */
	c.nkeys = first[depth];
	depth--;

ended:  /* a value just ended at p */
	p = skip_ws(p, end);
	if (depth == 0) {
		if (p != end)
			return fail(&c, p, PV_EINVAL, "nothing after the top-level object");
		return c.keys_overflow ? duplicates_by_jansson(&c, data, len) : 0;
	}
	if (p < end && *p == ',') {
		p = skip_ws(p + 1, end);
		if (kind[depth] == '{')
			goto key;
		if (p == end)
			return fail(&c, p, PV_EINVAL, "a value after ','");
		goto value;
	}
	if (p < end && *p == (kind[depth] == '{' ? '}' : ']')) {
		p++;
		goto closed;
	}
	return fail(&c, p, PV_EINVAL,
		    kind[depth] == '{' ? "',' or '}' after an object member" : "',' or ']' after an array element");
}
