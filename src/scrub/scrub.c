/*
 * The scrubber: its handle and key, the one-pass scanner that calls the
 * detectors (detect.c) at token starts, and the replacement by typed
 * placeholders or keyed pseudonyms.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/util.h"
#include "crypto/crypto.h"
#include "scrub/internal.h"

static const char *const type_names[PV_SCRUB_NTYPES] = {
	"email", "phone", "ipv4", "ipv6", "card", "iban", "ssn"
};
static const char *const placeholders[PV_SCRUB_NTYPES] = {
	"EMAIL", "PHONE", "IPV4", "IPV6", "CARD", "IBAN", "SSN"
};

const char *pv_scrub_type_name(pv_scrub_type t)
{
	return (unsigned)t < PV_SCRUB_NTYPES ? type_names[t] : NULL;
}

int pv_scrub_types_parse(unsigned *out, const char *list)
{
	unsigned set = 0;
	size_t pos = 0, item = 0;

	if (list == NULL || list[0] == '\0')
		return pv_error_set(PV_EINVAL, "types: expected a comma-separated list of types");
	while (list[pos] != '\0') {
		size_t len = strcspn(list + pos, ",");
		int found = 0;

		item++;
		if (len == 3 && strncmp(list + pos, "all", 3) == 0) {
			set |= PV_SCRUB_ALL;
			found = 1;
		}
		for (unsigned t = 0; t < PV_SCRUB_NTYPES && !found; t++) {
			if (strlen(type_names[t]) == len && strncmp(list + pos, type_names[t], len) == 0) {
				set |= PV_SCRUB_BIT(t);
				found = 1;
			}
		}
		if (!found)
			return pv_error_set(PV_EINVAL, "types: entry %zu is not one of email, phone, ipv4, ipv6, card, iban, ssn, all",
					    item);
		pos += len;
		if (list[pos] == ',')
			pos++;
	}
	*out = set;
	return 0;
}

int pv_scrubber_new(pv_scrubber **out, unsigned types)
{
	pv_scrubber *s;

	*out = NULL;
	if ((types & ~PV_SCRUB_ALL) != 0)
		return pv_error_set(PV_EINVAL, "types: unknown type bits");
	if (pv_crypto_init() != 0)
		return PV_ERROR;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return pv_error_set(PV_ENOMEM, "scrubber: out of memory");
	s->types = types == 0 ? PV_SCRUB_ALL : types;
	*out = s;
	return 0;
}

void pv_scrubber_free(pv_scrubber **s)
{
	if (s == NULL || *s == NULL)
		return;
	pv_secret_free((*s)->key);
	free(*s);
	*s = NULL;
}

int pv_scrubber_set_key(pv_scrubber *s, const uint8_t key[PV_SCRUB_KEY_LEN])
{
	if (s->key == NULL) {
		s->key = pv_secret_alloc(PV_SCRUB_KEY_LEN);
		if (s->key == NULL)
			return pv_error_set(PV_ENOMEM, "scrub key: out of guarded memory");
	}
	memcpy(s->key, key, PV_SCRUB_KEY_LEN);
	return 0;
}

/*
 * Read a scrub key file: "[scrub ]<64 hex>" on one line, blank lines and '#'
 * comments allowed, mode without group/other bits. Messages name the file and
 * the line, never what is in it.
 */
int pv_scrubber_load_key_file(pv_scrubber *s, const char *path)
{
	char *text = NULL;
	uint8_t *key = NULL;
	struct stat st;
	size_t len = 0, pos = 0, line = 0, nkeys = 0;
	int fd = -1, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_error_set(PV_EIO, "scrub key file %s: cannot open (%s)", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = pv_error_set(PV_EKEY, "scrub key file %s: not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & 077) != 0) {
		rc = pv_error_set(PV_EKEY, "scrub key file %s: mode %03o lets others read it; chmod 600",
				  path, (unsigned)(st.st_mode & 0777));
		goto fail;
	}
	text = (char *)pv_secret_alloc(4096);
	key = pv_secret_alloc(PV_SCRUB_KEY_LEN);
	if (text == NULL || key == NULL) {
		rc = pv_error_set(PV_ENOMEM, "scrub key: out of guarded memory");
		goto fail;
	}
	for (;;) {
		ssize_t r = read(fd, text + len, 4095 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = pv_error_set(PV_EIO, "scrub key file %s: read failed", path);
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == 4095) {
			rc = pv_error_set(PV_EKEY, "scrub key file %s: larger than 4 KiB", path);
			goto fail;
		}
	}
	text[len] = '\0';
	while (pos < len) {
		size_t e = pos, a, b;

		while (e < len && text[e] != '\n')
			e++;
		line++;
		a = pos;
		b = e;
		while (a < b && (text[a] == ' ' || text[a] == '\t'))
			a++;
		while (b > a && (text[b - 1] == ' ' || text[b - 1] == '\t' || text[b - 1] == '\r'))
			b--;
		pos = e + 1;
		if (a == b || text[a] == '#')
			continue;
		if (b - a > 6 && strncmp(text + a, "scrub", 5) == 0 && (text[a + 5] == ' ' || text[a + 5] == '\t')) {
			a += 6;
			while (a < b && (text[a] == ' ' || text[a] == '\t'))
				a++;
		}
		text[b] = '\0';
		if (b - a != 2 * PV_SCRUB_KEY_LEN || pv_hex_decode(key, PV_SCRUB_KEY_LEN, text + a) != 0) {
			rc = pv_error_set(PV_EKEY, "scrub key file %s line %zu: expected 64 hex digits (\"scrub <hex>\")",
					  path, line);
			goto fail;
		}
		nkeys++;
	}
	if (nkeys != 1) {
		rc = pv_error_set(PV_EKEY, "scrub key file %s: expected exactly one key line, found %zu", path, nkeys);
		goto fail;
	}
	rc = pv_scrubber_set_key(s, key);
fail:
	pv_secret_free((uint8_t *)text);
	pv_secret_free(key);
	if (fd >= 0)
		close(fd);
	return rc;
}

/*
 * The scrub key is the vault's blind-index PRF applied to a fixed label. The
 * label starts with a space, and every identifier value is trimmed before it
 * is indexed, so no blind index stored in the vault can ever equal this key.
 */
int pv_scrubber_key_from_keyring(pv_scrubber *s, const pv_keyring *k)
{
	uint8_t *key = pv_secret_alloc(PV_BLIND_INDEX_LEN);
	int rc;

	if (key == NULL)
		return pv_error_set(PV_ENOMEM, "scrub key: out of guarded memory");
	rc = pv_blind_index(k, "scrub", " privault scrub pseudonym key v1 ", key);
	if (rc == 0)
		rc = pv_scrubber_set_key(s, key);
	pv_secret_free(key);
	return rc;
}

int pv_scrubber_key_from_vault_keys(pv_scrubber *s, const char *vault_key_file)
{
	pv_keyring *k = NULL;
	int rc;

	rc = pv_keyring_load(&k, vault_key_file);
	if (rc != 0)
		return rc;
	rc = pv_scrubber_key_from_keyring(s, k);
	pv_keyring_free(k);
	return rc;
}

void pv_scrubber_stats(const pv_scrubber *s, pv_scrub_stats *out)
{
	*out = s->stats;
}

int pv_scrub_buf_put(pv_scrub_buf *b, const char *data, size_t len)
{
	if (b->p == NULL || len + 1 > b->cap - b->len) {
		size_t cap = b->cap < 256 ? 256 : b->cap;
		char *np;

		while (cap - b->len < len + 1) {
			if (cap > ((size_t)-1) / 2)
				return pv_error_set(PV_ENOMEM, "scrub: output too large");
			cap *= 2;
		}
		np = realloc(b->p, cap);
		if (np == NULL)
			return pv_error_set(PV_ENOMEM, "scrub: out of memory");
		b->p = np;
		b->cap = cap;
	}
	if (len > 0)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/*
 * The normalized form a pseudonym is computed from, so that different
 * spellings of one value get one pseudonym: lower-cased email ("%40" as '@'), a phone in
 * E.164 ("+14155550199"; a "(0)" trunk prefix dropped), an address as 16
 * bytes (IPv4 mapped, zone dropped; IPv4 and IPv6 share the domain "ip"),
 * digits of cards and SSNs, the compact upper-case IBAN. Returns the length
 * written to out (at most PV_SCRUB_MAX_MATCH + 2) and the domain label.
 */
static size_t normalize(pv_scrub_type t, const char *p, size_t start, size_t end, uint8_t *out, const char **domain)
{
	size_t n = 0;

	*domain = type_names[t];
	switch (t) {
	case PV_SCRUB_EMAIL:
		for (size_t k = start; k < end; k++) {
			if (p[k] == '%' && k + 2 < end && p[k + 1] == '4' && p[k + 2] == '0') {
				out[n++] = '@';   /* URL-encoded: the same address, the same pseudonym */
				k += 2;
				continue;
			}
			out[n++] = (uint8_t)(p[k] >= 'A' && p[k] <= 'Z' ? p[k] + 32 : p[k]);
		}
		return n;
	case PV_SCRUB_PHONE:
		out[n++] = '+';
		for (size_t k = start; k < end; k++) {
			if (p[k] == '(' && k + 2 < end && p[k + 1] == '0' && p[k + 2] == ')') {
				k += 2;
				continue;
			}
			if (p[k] >= '0' && p[k] <= '9')
				out[n++] = (uint8_t)p[k];
		}
		if (p[start] != '+') {   /* North American without +: 10 digits, or 11 with the leading 1 */
			if (n == 11) {
				memmove(out + 2, out + 1, 10);
				out[1] = '1';
				n = 12;
			}
		}
		return n;
	case PV_SCRUB_IPV4:
	case PV_SCRUB_IPV6: {
		size_t e = start;

		*domain = "ip";
		while (e < end && p[e] != '%')
			e++;
		if (pv_scrub_parse_ip(p, start, e, out) != 0)
			memset(out, 0, 16);
		return 16;
	}
	case PV_SCRUB_IBAN:
		for (size_t k = start; k < end; k++)
			if (p[k] != ' ')
				out[n++] = (uint8_t)(p[k] >= 'a' && p[k] <= 'z' ? p[k] - 32 : p[k]);
		return n;
	default:
		for (size_t k = start; k < end; k++)
			if (p[k] >= '0' && p[k] <= '9')
				out[n++] = (uint8_t)p[k];
		return n;
	}
}

/* Append the replacement of p[start, end) of type t to out. */
static int replace(const pv_scrubber *s, pv_scrub_buf *out, pv_scrub_type t, const char *p, size_t start, size_t end)
{
	char text[48];
	int len;

	if (s->key == NULL) {
		len = snprintf(text, sizeof(text), "[%s]", placeholders[t]);
	} else {
		uint8_t norm[PV_SCRUB_MAX_MATCH + 2], h[16];
		char hex[2 * sizeof(h) + 1];
		const char *domain;
		size_t nl = normalize(t, p, start, end, norm, &domain);
		crypto_generichash_state st;

		crypto_generichash_init(&st, s->key, PV_SCRUB_KEY_LEN, sizeof(h));
		crypto_generichash_update(&st, (const uint8_t *)domain, strlen(domain) + 1);
		crypto_generichash_update(&st, norm, nl);
		crypto_generichash_final(&st, h, sizeof(h));
		sodium_memzero(&st, sizeof(st));
		sodium_memzero(norm, sizeof(norm));
		pv_hex_encode(hex, h, sizeof(h));
		len = snprintf(text, sizeof(text), "[%s:%.*s]", placeholders[t], PV_SCRUB_PSEUDONYM_HEX, hex);
	}
	return pv_scrub_buf_put(out, text, (size_t)len);
}

static int is_word(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* The value starting at p[i], if any: its end (0 if none) and type. */
static size_t detect_at(unsigned types, const char *p, size_t i, size_t n, pv_scrub_type *t)
{
	int c = (unsigned char)p[i];
	size_t e;

#define TRY(type, fn) \
	if ((types & PV_SCRUB_BIT(type)) && (e = fn(p, i, n)) != 0) { *t = type; return e; }

	if (is_word(c)) {
		TRY(PV_SCRUB_EMAIL, pv_scrub_detect_email);
	}
	if (c >= '0' && c <= '9') {
		TRY(PV_SCRUB_IPV4, pv_scrub_detect_ipv4);
		TRY(PV_SCRUB_IPV6, pv_scrub_detect_ipv6);
		TRY(PV_SCRUB_SSN, pv_scrub_detect_ssn);
		TRY(PV_SCRUB_CARD, pv_scrub_detect_card);
		TRY(PV_SCRUB_PHONE, pv_scrub_detect_phone);
	} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
		TRY(PV_SCRUB_IBAN, pv_scrub_detect_iban);
		TRY(PV_SCRUB_IPV6, pv_scrub_detect_ipv6);
	} else if (c == ':') {
		TRY(PV_SCRUB_IPV6, pv_scrub_detect_ipv6);
	} else if (c == '+' || c == '(') {
		TRY(PV_SCRUB_PHONE, pv_scrub_detect_phone);
	}
#undef TRY
	return 0;
}

/* Bytes that can start a value: letters, digits, '_', '+', '(' and ':'. */
static int can_start(int c)
{
	return is_word(c) || c == '+' || c == '(' || c == ':';
}

size_t pv_scrub_scan(pv_scrubber *s, const char *p, size_t from, size_t lim, size_t n,
		     pv_scrub_buf *out, size_t *copied,
		     int (*fn)(const pv_scrub_match *m, void *payload), void *payload, int *stop, int *err)
{
	size_t i = from;

	*stop = 0;
	*err = 0;
	while (i < lim) {
		int c = (unsigned char)p[i];
		pv_scrub_type t;
		size_t end;

		/* every value starts at a token start: never right after a word byte */
		if (!can_start(c) || (i > 0 && is_word((unsigned char)p[i - 1]))) {
			i++;
			continue;
		}
		end = detect_at(s->types, p, i, n, &t);
		if (end == 0) {
			i++;
			continue;
		}
		s->stats.found[t]++;
		if (fn != NULL) {
			pv_scrub_match m = { i, end, t };

			*stop = fn(&m, payload);
			if (*stop != 0)
				return end;
		}
		if (out != NULL) {
			if (pv_scrub_buf_put(out, p + *copied, i - *copied) != 0 || replace(s, out, t, p, i, end) != 0) {
				*err = PV_ENOMEM;
				return end;
			}
			*copied = end;
		}
		i = end;
	}
	return i;
}

/* pv_scrub_find through a scanner that counts into a throw-away copy of the stats. */
int pv_scrub_find(const pv_scrubber *s, const char *in, size_t len,
		  int (*fn)(const pv_scrub_match *m, void *payload), void *payload)
{
	pv_scrubber tmp = *s;
	size_t copied = 0;
	int stop = 0, err = 0;

	tmp.key = NULL;
	pv_scrub_scan(&tmp, in, 0, len, len, NULL, &copied, fn, payload, &stop, &err);
	return stop;
}

int pv_scrub_text(pv_scrubber *s, const char *in, size_t len, char **out, size_t *out_len)
{
	pv_scrub_buf b = { NULL, 0, 0 };
	size_t copied = 0;
	int stop, err;

	*out = NULL;
	*out_len = 0;
	pv_scrub_scan(s, in, 0, len, len, &b, &copied, NULL, NULL, &stop, &err);
	if (err != 0 || pv_scrub_buf_put(&b, in + copied, len - copied) != 0) {
		free(b.p);
		return pv_error_set(PV_ENOMEM, "scrub: out of memory");
	}
	b.p[b.len] = '\0';
	s->stats.bytes_in += len;
	s->stats.bytes_out += b.len;
	*out = b.p;
	*out_len = b.len;
	return 0;
}
