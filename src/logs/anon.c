/*
 * The access-log anonymizer: one line at a time, common/combined or JSON
 * lines, output built in one reusable buffer of the handle (no allocation
 * per line once it has grown), and a streaming driver over file descriptors
 * with one large read buffer and one write buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sodium.h>

#include "core/error.h"
#include "core/limits.h"
#include "logs/internal.h"

/* Characters of an address token, and of words (a token must not touch one). */
static uint8_t tok_ch[256], word_ch[256];
/* Bytes that can occur in an element of an address list: hex digits, . : [ ] - and the letters of "unknown". */
static uint8_t elem_ch[256];
/* Decimal text of each octet (padded to 4 bytes so that it is copied as one word) and its length. */
static char oct_txt[256][4];
static uint8_t oct_len[256];

static void tables_init(void)
{
	if (tok_ch['0'])
		return;
	for (int c = 0; c < 256; c++) {
		int hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

		word_ch[c] = (uint8_t)(alnum || c == '_');
		tok_ch[c] = (uint8_t)(hex || c == '.' || c == ':');
		oct_len[c] = (uint8_t)snprintf(oct_txt[c], sizeof(oct_txt[c]), "%d", c);
		elem_ch[c] = (uint8_t)(hex || c == '.' || c == ':' || c == '[' || c == ']' || c == '-' ||
				       (c != 0 && strchr("uUnNkKoOwW", c) != NULL));
	}
}

void pv_logs_options_init(pv_logs_options *o)
{
	memset(o, 0, sizeof(*o));
	o->format = PV_LOGS_AUTO;
	o->v4_bits = 12;
	o->v6_bits = 84;
}

/* Mask presets: name, IPv4 bits, IPv6 bits. */
static const struct { const char *name; unsigned v4, v6; } presets[] = {
	{ "anonip", 12, 84 },
	{ "ga", 8, 80 },
	{ "matomo1", 8, 64 },
	{ "matomo2", 16, 80 },
	{ "matomo3", 24, 104 },
};

int pv_logs_preset(pv_logs_options *o, const char *name)
{
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (strcmp(presets[i].name, name) == 0) {
			o->v4_bits = presets[i].v4;
			o->v6_bits = presets[i].v6;
			return 0;
		}
	}
	return pv_error_set(PV_EINVAL, "preset: expected anonip, ga, matomo1, matomo2 or matomo3");
}

/* Load today's key when the UTC day has changed (or on first use). 0 or the key loader's code. */
int pv_logs_key_refresh(pv_logs_anon *a)
{
	int64_t day;
	pv_time now;

	if (a->key_dir == NULL)
		return 0;
	now = pv_clock_now();
	day = now >= 0 ? now / 86400 : (now - 86399) / 86400;
	if (day == a->key_day && a->m.key != NULL)
		return 0;
	if (a->m.key == NULL && (a->m.key = sodium_malloc(PV_LOGS_KEY_LEN)) == NULL)
		return pv_error_set(PV_ENOMEM, "logs: no memory for the pseudonym key");
	if (pv_logs_key_load(a->key_dir, day, a->m.key) != 0) {
		sodium_free(a->m.key);
		a->m.key = NULL;
		return pv_error_last_code();
	}
	a->key_day = day;
	return 0;
}

int pv_logs_anon_new(pv_logs_anon **out, const pv_logs_options *o)
{
	pv_logs_anon *a;
	int rc;

	*out = NULL;
	if (o->v4_bits < 1 || o->v4_bits > 32)
		return pv_error_set(PV_EINVAL, "v4_bits: expected 1 to 32");
	if (o->v6_bits < 1 || o->v6_bits > 128)
		return pv_error_set(PV_EINVAL, "v6_bits: expected 1 to 128");
	if (o->format != PV_LOGS_AUTO && o->format != PV_LOGS_COMMON && o->format != PV_LOGS_JSON)
		return pv_error_set(PV_EINVAL, "format: expected auto, common or json");
	if (sodium_init() < 0)
		return pv_error_set(PV_ERROR, "logs: libsodium failed to initialize");
	tables_init();
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return pv_error_set(PV_ENOMEM, "logs: no memory");
	a->o = *o;
	a->w.h = a;
	a->m.v4_bits = o->v4_bits;
	a->m.v6_bits = o->v6_bits;
	a->m.mapped_as_v4 = o->mapped_as_v4;
	a->m.v4_keep = o->v4_bits >= 32 ? 0 : UINT32_MAX << o->v4_bits;
	a->key_day = INT64_MIN;
	if (o->key_dir != NULL && (a->key_dir = strdup(o->key_dir)) == NULL) {
		rc = pv_error_set(PV_ENOMEM, "logs: no memory");
		goto fail;
	}
	if ((rc = pv_logs_key_refresh(a)) != 0)
		goto fail;
	*out = a;
	return 0;
fail:
	pv_logs_anon_free(a);
	return rc;
}

void pv_logs_anon_free(pv_logs_anon *a)
{
	if (a == NULL)
		return;
	if (a->m.key != NULL)
		sodium_free(a->m.key);
	free(a->key_dir);
	free(a->w.out);
	free(a);
}

/* ---- output ------------------------------------------------------------------ */

/* Append n bytes to the output. 0 or PV_ENOMEM. */
int pv_logs_work_put(pv_logs_work *a, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (n > a->out_cap - a->out_len) {
		size_t cap = a->out_cap ? a->out_cap : 65536;
		char *q;

		while (cap - a->out_len < n)
			cap *= 2;
		if ((q = realloc(a->out, cap)) == NULL)
			return pv_error_set(PV_ENOMEM, "logs: no memory for the output");
		a->out = q;
		a->out_cap = cap;
	}
	memcpy(a->out + a->out_len, p, n);
	a->out_len += n;
	return 0;
}

/* Copy line[a->copied .. off), then `rep`, and skip the `len` replaced bytes. */
static int edit(pv_logs_work *a, const char *line, size_t off, size_t len, const char *rep, size_t rn)
{
	int rc;

	if ((rc = pv_logs_work_put(a, line + a->copied, off - a->copied)) != 0 || (rc = pv_logs_work_put(a, rep, rn)) != 0)
		return rc;
	a->copied = off + len;
	a->addrs++;
	return 0;
}

/* Mask the address `ad` found at line[off .. off+len). */
static int edit_addr(pv_logs_work *a, const char *line, size_t off, size_t len, pv_ipaddr *ad)
{
	char txt[PV_IP_TEXT_MAX];
	size_t tn = pv_ip_mask_format(&a->h->m, ad, txt);

	return edit(a, line, off, len, txt, tn);
}

/*
 * A plain dotted quad at the start of s[0..n) (Python's rules, as
 * pv_ip_parse4: 1 to 3 digits, no leading zero, at most 255). Returns its
 * length and the address in *v, or 0 when s does not start with one. The
 * caller checks what follows.
 */
static size_t quad(const char *s, size_t n, uint32_t *v)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t p = 0;
	uint32_t r = 0;

	for (int k = 0; k < 4; k++) {
		unsigned d, o;

		if (p >= n || (o = u[p] - (unsigned)'0') > 9)
			return 0;
		p++;
		if (p < n && (d = u[p] - (unsigned)'0') <= 9) {
			if (o == 0)
				return 0;   /* leading zero */
			o = o * 10 + d;
			p++;
			if (p < n && (d = u[p] - (unsigned)'0') <= 9) {
				o = o * 10 + d;
				p++;
				if (o > 255)
					return 0;
			}
		}
		r = r << 8 | o;
		if (k < 3) {
			if (p >= n || u[p] != '.')
				return 0;
			p++;
		}
	}
	*v = r;
	return p;
}

/*
 * quad() for a string of at least 16 readable bytes: the same result with
 * few branches (octet lengths and values chosen by conditional moves; one
 * test at the end), since the octet lengths of real addresses are random.
 */
static size_t quad16(const char *s, uint32_t *v)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t p = 0;
	uint32_t r = 0;
	unsigned bad = 0;

	for (int k = 0; k < 4; k++) {
		unsigned c0 = u[p] - (unsigned)'0', c1 = u[p + 1] - (unsigned)'0', c2 = u[p + 2] - (unsigned)'0';
		unsigned d1 = c1 <= 9, d2 = d1 & (c2 <= 9);
		unsigned v2 = c0 * 10 + c1, v3 = v2 * 10 + c2;
		unsigned o = d2 ? v3 : d1 ? v2 : c0;

		bad |= (c0 > 9) | (d1 & (c0 == 0)) | (o > 255);
		p += 1 + d1 + d2;
		r = r << 8 | (o & 255);
		if (k < 3)
			bad |= u[p++] != '.';
	}
	if (bad)
		return 0;
	*v = r;
	return p;
}

/*
 * Replace line[off .. off+len), a dotted quad whose value is v, with its
 * truncation (no pseudonym key: the caller checks), formatted from the
 * octet table: what edit_addr() writes, without the pv_ipaddr round trip.
 */
static int edit_quad(pv_logs_work *a, const char *line, size_t off, size_t len, uint32_t v)
{
	char txt[16], *t = txt;

	v &= a->h->m.v4_keep;
	for (int sh = 24; sh >= 0; sh -= 8) {
		unsigned o = (v >> sh) & 255;

		memcpy(t, oct_txt[o], 4);
		t += oct_len[o];
		*t++ = '.';
	}
	return edit(a, line, off, len, txt, (size_t)(t - txt) - 1);
}

/* ---- address lists and tokens ------------------------------------------------------ */

static int is_list_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Most addresses of one list remembered between the check and the edits (longer lists are parsed twice). */
#define LIST_MAX 8

/*
 * s = line[off .. off+n): a list of addresses ("1.2.3.4, [2001:db8::1]:443,
 * unknown"): every element an address in host[:port] form, "-" or
 * "unknown", at least one address. Masks them and returns 1; 0 when the
 * field is something else (nothing written). The first pass checks the
 * whole list and remembers where its first LIST_MAX addresses are and what
 * they hold (plain dotted quads without a key through quad()), so that the
 * edits need not parse them again.
 */
static int address_list(pv_logs_work *a, const char *line, size_t off, size_t n, int *rc)
{
	struct { size_t off, len; uint32_t v4; int quad; pv_ipaddr ad; } f[LIST_MAX];
	const char *s = line + off;
	size_t i, naddr = 0;
	int fast = a->h->m.key == NULL;
	unsigned char c0;

	*rc = 0;
	if (n < 2)
		return 0;
	c0 = (unsigned char)s[0];
	if (!(tok_ch[c0] || c0 == '[') || c0 == '.')
		return 0;
	/* an address has a '.' or ':' within its first 5 characters (after a '[') */
	for (i = c0 == '[' ? 1 : 0; i < n && i < 6; i++)
		if (s[i] == '.' || s[i] == ':')
			break;
	if (i == n || i == 6)
		return 0;
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < n;) {
			size_t b = i, e, ao, al;
			const char *comma = memchr(s + i, ',', n - i);
			pv_ipaddr ad;
			uint32_t v;

			e = comma ? (size_t)(comma - s) : n;
			i = e + 1;
			while (b < e && is_list_space(s[b]))
				b++;
			while (e > b && is_list_space(s[e - 1]))
				e--;
			if (pass == 0 && naddr < LIST_MAX && fast && quad(s + b, e - b, &v) == e - b) {
				f[naddr].off = off + b;
				f[naddr].len = e - b;
				f[naddr].v4 = v;
				f[naddr].quad = 1;
				naddr++;
			} else if (pv_ip_hostport(s + b, e - b, &ad, &ao, &al)) {
				if (pass == 1 && (*rc = edit_addr(a, line, off + b + ao, al, &ad)) != 0)
					return 0;
				if (pass == 0 && naddr < LIST_MAX) {
					f[naddr].off = off + b + ao;
					f[naddr].len = al;
					f[naddr].ad = ad;
					f[naddr].quad = 0;
				}
				naddr++;
			} else if (pass == 0 && !((e - b == 1 && s[b] == '-') ||
						  (e - b == 7 && strncasecmp(s + b, "unknown", 7) == 0))) {
				return 0;   /* pass 1 skips the "-" and "unknown" that pass 0 accepted */
			}
		}
		if (naddr == 0)
			return 0;
		if (naddr <= LIST_MAX) {
			for (i = 0; i < naddr; i++) {
				*rc = f[i].quad ? edit_quad(a, line, f[i].off, f[i].len, f[i].v4)
						: edit_addr(a, line, f[i].off, f[i].len, &f[i].ad);
				if (*rc != 0)
					return 0;
			}
			return 1;
		}
	}
	return 1;
}

/*
 * Every address token in line[from .. to): a maximal run of hex digits,
 * '.' and ':' that touches no letter, digit or '_', read as an address,
 * as an address with trailing '.'/':' (end of a sentence) or a leading
 * single ':' ("ip:1.2.3.4"), or as IPv4:PORT.
 */
static int token_scan(pv_logs_work *a, const char *line, size_t len, size_t from, size_t to)
{
	size_t i = from;
	int rc;

	while (i < to) {
		size_t j, b, k;
		pv_ipaddr ad;

		if (!tok_ch[(unsigned char)line[i]]) {
			i++;
			continue;
		}
		for (j = i; j < to && tok_ch[(unsigned char)line[j]]; j++)
			;
		b = i;
		if (line[b] == ':' && b + 1 < j && line[b + 1] != ':')
			b++;
		else if (b > 0 && word_ch[(unsigned char)line[b - 1]])
			goto next;
		if (j < len && word_ch[(unsigned char)line[j]])
			goto next;
		if (j - b < 2 || (memchr(line + b, '.', j - b) == NULL && memchr(line + b, ':', j - b) == NULL))
			goto next;
		if (pv_ip_parse(line + b, j - b, 0, &ad)) {
			if ((rc = edit_addr(a, line, b, j - b, &ad)) != 0)
				return rc;
			goto next;
		}
		for (k = j; k > b && (line[k - 1] == '.' || line[k - 1] == ':'); k--)
			;
		if (k < j && k > b && pv_ip_parse(line + b, k - b, 0, &ad)) {
			if ((rc = edit_addr(a, line, b, k - b, &ad)) != 0)
				return rc;
			goto next;
		}
		{
			size_t ao, al;

			if (memchr(line + b, '.', j - b) && pv_ip_hostport(line + b, j - b, &ad, &ao, &al) && !ad.v6)
				if ((rc = edit_addr(a, line, b + ao, al, &ad)) != 0)
					return rc;
		}
next:
		i = j;
	}
	return 0;
}

/* ---- common / combined ------------------------------------------------------------ */

/* Python's str.isspace for ASCII (what anonip's rstrip() removes). */
static int py_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/*
 * The client field f = line[0..fn): mask it the way anonip does. 1 when
 * masked, 0 when it holds no address (nothing written).
 */
static int client_text(pv_logs_work *a, const char *line, size_t fn, int *rc)
{
	char host[PV_LOGS_HOST_MAX], txt[PV_IP_TEXT_MAX];
	size_t hl, tn, i, first = SIZE_MAX;
	pv_ipaddr ad;
	int whole;

	*rc = 0;
	if (!pv_ip_client_field(line, fn, &a->h->m, &ad, &whole, host, &hl))
		return 0;
	if (whole) {
		*rc = edit_addr(a, line, 0, fn, &ad);
		return *rc == 0;
	}
	for (i = 0; i + hl <= fn; i++) {
		if (strncasecmp(line + i, host, hl) == 0) {
			first = i;
			break;
		}
	}
	if (first == SIZE_MAX)
		return 0;
	tn = pv_ip_mask_format(&a->h->m, &ad, txt);
	for (i = first; i + hl <= fn;) {
		if (strncasecmp(line + i, host, hl) == 0) {
			if ((*rc = edit(a, line, i, hl, txt, tn)) != 0)
				return 0;
			i += hl;
		} else {
			i++;
		}
	}
	return 1;
}

/* Is line[b..e) an element of an address list ("-", "unknown" or an address)? */
static int list_element(const char *line, size_t b, size_t e)
{
	pv_ipaddr ad;
	size_t ao, al;

	if (e - b == 1 && line[b] == '-')
		return 1;
	if (e - b == 7 && strncasecmp(line + b, "unknown", 7) == 0)
		return 1;
	return pv_ip_hostport(line + b, e - b, &ad, &ao, &al);
}

#define MAX_TRAILING 8

/*
 * The address-list fields of a text line: walking back from its end over
 * the trailing fields (bare tokens, and quoted fields that are "-" or end
 * with an address) until a quoted field that is not a list (the user agent
 * in combined, the request in common) or the client field. Each candidate
 * is then checked as a whole by address_list, in line order. Only the
 * last word of the stopping field is read, so a line costs little more
 * than its client field.
 */
static int trailing_lists(pv_logs_work *a, const char *line, size_t fn, size_t end)
{
	size_t off[MAX_TRAILING], len[MAX_TRAILING], nc = 0, e = end;
	int rc = 0;

	while (nc < MAX_TRAILING) {
		size_t b;

		while (e > fn && line[e - 1] == ' ')
			e--;
		if (e <= fn + 1)
			break;
		if (line[e - 1] == '"') {
			size_t q = e - 1, k = q;
			const char *o;

			/* a byte that no list element holds ends the walk: list_element would say no */
			while (k > fn && line[k - 1] != ',' && line[k - 1] != '"' && line[k - 1] != ' ') {
				if (!elem_ch[(unsigned char)line[k - 1]])
					goto stop;
				k--;
			}
			while (k < q && line[k] == ' ')
				k++;
			if (k <= fn || !list_element(line, k, q))
				break;
			for (o = line + k;; o--) {
				o = memrchr(line + fn, '"', (size_t)(o - (line + fn)));
				if (o == NULL)
					break;
				size_t bs = 0;

				while (o - bs - 1 >= line + fn && o[-(ptrdiff_t)bs - 1] == '\\')
					bs++;
				if (bs % 2 == 0)
					break;
			}
			if (o == NULL)
				break;
			b = (size_t)(o - line);
			off[nc] = b + 1;
			len[nc++] = q - b - 1;
			e = b;
			continue;
		}
		for (b = e; b > fn && line[b - 1] != ' '; b--)
			;
		off[nc] = b;
		len[nc++] = e - b;
		e = b;
	}
stop:
	while (nc-- > 0) {
		address_list(a, line, off[nc], len[nc], &rc);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/*
 * A common/combined line: the client field (up to the first space), then
 * the trailing address-list fields (X-Forwarded-For appended to combined).
 * 1 masked, 0 unchanged, 2 malformed.
 */
static int line_text(pv_logs_work *a, const char *line, size_t len)
{
	size_t end = len, fn;
	const char *sp;
	uint32_t v;
	int rc;

	while (end > 0 && py_space((unsigned char)line[end - 1]))
		end--;
	if (end == 0)
		return 0;
	fn = end >= 16 ? quad16(line, &v) : quad(line, end, &v);
	if (a->h->m.key == NULL && fn != 0 && (fn == end || line[fn] == ' ')) {
		/* the usual client field, a plain dotted quad: what client_text() does for it */
		if ((rc = edit_quad(a, line, 0, fn, v)) != 0)
			return rc;
	} else {
		sp = memchr(line, ' ', end);
		fn = sp ? (size_t)(sp - line) : end;
		if (!client_text(a, line, fn, &rc))
			return rc != 0 ? rc : 2;
	}
	if (a->h->o.everywhere)
		return token_scan(a, line, len, fn, len);
	return trailing_lists(a, line, fn, end);
}

/* ---- JSON lines ---------------------------------------------------------------------- */

enum { K_NONE, K_CLIENT, K_LIST };

typedef struct {
	const char *s;
	size_t n, i;
	int found, bad;
} jwalk;

static const char *const client_keys[] = { "remote_addr", "remote_ip", "remoteip", "client_ip", "client_addr",
	"clientip", "client", "ip", "remote_host", "realip_remote_addr", "c_ip", NULL };
static const char *const list_keys[] = { "x_forwarded_for", "http_x_forwarded_for", "xff", "forwarded_for",
	"upstream_addr", "upstream", NULL };

/* Compare a key with a name: ASCII case-insensitive, '-' equal to '_'. */
static int key_is(const char *k, size_t kn, const char *name)
{
	size_t i;

	for (i = 0; i < kn && name[i]; i++) {
		char c = k[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '-')
			c = '_';
		if (c != name[i])
			return 0;
	}
	return i == kn && name[i] == '\0';
}

static int key_kind(const pv_logs_anon *a, const char *k, size_t kn)
{
	for (size_t i = 0; client_keys[i]; i++)
		if (key_is(k, kn, client_keys[i]))
			return K_CLIENT;
	for (size_t i = 0; list_keys[i]; i++)
		if (key_is(k, kn, list_keys[i]))
			return K_LIST;
	for (size_t i = 0; i < a->o.njson_keys; i++)
		if (key_is(k, kn, a->o.json_keys[i]))
			return K_CLIENT;
	return K_NONE;
}

static void jws(jwalk *w)
{
	while (w->i < w->n && (w->s[w->i] == ' ' || w->s[w->i] == '\t' || w->s[w->i] == '\r' || w->s[w->i] == '\n'))
		w->i++;
}

/* A string at w->i (on its '"'): *b..*e is its raw content; *esc if it had escapes. 0 or -1. */
static int jstring(jwalk *w, size_t *b, size_t *e, int *esc)
{
	*esc = 0;
	*b = ++w->i;
	while (w->i < w->n) {
		unsigned char c = (unsigned char)w->s[w->i];

		if (c == '"') {
			*e = w->i++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			*esc = 1;
			if (++w->i >= w->n)
				return -1;
			c = (unsigned char)w->s[w->i];
			if (c == 'u') {
				if (w->n - w->i < 5)
					return -1;
				for (int k = 1; k <= 4; k++) {
					char h = w->s[w->i + k];

					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
						return -1;
				}
				w->i += 4;
			} else if (!strchr("\"\\/bfnrt", c)) {
				return -1;
			}
		}
		w->i++;
	}
	return -1;
}

/* One JSON value; strings under a client or list key are masked. 0, -1 (invalid) or a PV_E* code. */
static int jvalue(pv_logs_work *a, jwalk *w, int kind, int depth)
{
	int rc = 0;

	if (depth > PV_RECORD_MAX_DEPTH)
		return -1;
	jws(w);
	if (w->i >= w->n)
		return -1;
	switch (w->s[w->i]) {
	case '{':
		w->i++;
		jws(w);
		if (w->i < w->n && w->s[w->i] == '}') {
			w->i++;
			return 0;
		}
		for (;;) {
			size_t kb, ke;
			int esc;

			jws(w);
			if (w->i >= w->n || w->s[w->i] != '"' || jstring(w, &kb, &ke, &esc) != 0)
				return -1;
			jws(w);
			if (w->i >= w->n || w->s[w->i] != ':')
				return -1;
			w->i++;
			if ((rc = jvalue(a, w, esc ? K_NONE : key_kind(a->h, w->s + kb, ke - kb), depth + 1)) != 0)
				return rc;
			jws(w);
			if (w->i < w->n && w->s[w->i] == ',') {
				w->i++;
				continue;
			}
			if (w->i < w->n && w->s[w->i] == '}') {
				w->i++;
				return 0;
			}
			return -1;
		}
	case '[':
		w->i++;
		jws(w);
		if (w->i < w->n && w->s[w->i] == ']') {
			w->i++;
			return 0;
		}
		for (;;) {
			if ((rc = jvalue(a, w, kind, depth + 1)) != 0)
				return rc;
			jws(w);
			if (w->i < w->n && w->s[w->i] == ',') {
				w->i++;
				continue;
			}
			if (w->i < w->n && w->s[w->i] == ']') {
				w->i++;
				return 0;
			}
			return -1;
		}
	case '"': {
		size_t b, e;
		int esc;

		if (jstring(w, &b, &e, &esc) != 0)
			return -1;
		if (kind != K_NONE) {
			int ok = !esc && address_list(a, w->s, b, e - b, &rc);

			if (rc != 0)
				return rc;
			if (kind == K_CLIENT) {
				if (ok)
					w->found = 1;
				else
					w->bad = 1;
			}
		}
		return 0;
	}
	default: {
		size_t b = w->i;

		while (w->i < w->n && strchr("+-0123456789.eEtruefalsn", w->s[w->i]) && w->s[w->i] != '\0')
			w->i++;
		if (w->i == b)
			return -1;
		if (kind == K_CLIENT)
			w->bad = 1;
		return 0;
	}
	}
}

/* A JSON-lines line. 1 masked, 0 unchanged, 2 malformed (invalid, or no valid client field). */
static int line_json(pv_logs_work *a, const char *line, size_t len)
{
	jwalk w = { line, len, 0, 0, 0 };
	int rc;

	jws(&w);
	if (w.i >= len || line[w.i] != '{')
		return 2;
	if ((rc = jvalue(a, &w, K_NONE, 0)) < -1)
		return rc;
	if (rc == 0) {
		jws(&w);
		if (w.i != len)
			rc = -1;
	}
	if (rc != 0 || !w.found || w.bad)
		return 2;
	return 0;
}

/* ---- lines ------------------------------------------------------------------------ */

/*
 * Append the anonymized line to a->out. Returns 1 masked, 0 unchanged, 2
 * malformed (the line written unchanged, or with --all its tokens masked),
 * or a negative PV_E* code.
 */
int pv_logs_work_line(pv_logs_work *a, const char *line, size_t len, size_t tail)
{
	size_t start = a->out_len;
	int json, rc;

	if (a->h->key_dir != NULL && ++a->h->since_clock >= 1024) {
		a->h->since_clock = 0;
		if ((rc = pv_logs_key_refresh(a->h)) != 0)
			return rc;
	}
	a->copied = 0;
	a->addrs = 0;
	json = a->h->o.format == PV_LOGS_JSON;
	if (a->h->o.format == PV_LOGS_AUTO) {
		size_t i = 0;

		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		json = i < len && line[i] == '{';
	}
	rc = json ? line_json(a, line, len) : line_text(a, line, len);
	if (rc < 0)
		return rc;
	if (rc == 2 || (json && a->h->o.everywhere)) {
		a->out_len = start;
		a->copied = 0;
		a->addrs = 0;
		if (a->h->o.everywhere) {
			int tr = token_scan(a, line, len, 0, len);

			if (tr != 0)
				return tr;
		}
	}
	if ((rc == 0 || rc == 1) && a->addrs > 0)
		rc = 1;
	if (pv_logs_work_put(a, line + a->copied, len + tail - a->copied) != 0)
		return PV_ENOMEM;
	return rc;
}

int pv_logs_anon_line(pv_logs_anon *a, const char *line, size_t len, const char **out, size_t *out_len)
{
	int rc;

	a->w.out_len = 0;
	rc = pv_logs_work_line(&a->w, line, len, 0);
	if (rc < 0)
		return rc;
	*out = a->w.out ? a->w.out : line;
	*out_len = a->w.out_len;
	return rc;
}

