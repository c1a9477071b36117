/*
 * Unit tests of the scrubber (include/privault/scrub.h): the labeled corpus
 * (tests/data/scrub/) with precision and recall per type held to the figures
 * in docs/scrub.md, exact replacements, whole tokens, validation (Luhn, mod 97,
 * SSA ranges), keyed pseudonyms, JSON mode (keys kept, output valid), streams
 * (any line length, chunk boundaries, JSON lines with malformed lines), key
 * files, and linear time on hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "privault/error.h"
#include "privault/scrub.h"
#include "scrub/internal.h"

#define CORPUS_DIR PV_SOURCE_ROOT "/tests/data/scrub"
#define DOC PV_SOURCE_ROOT "/docs/scrub.md"

/* Scrub `in` with placeholders (all types) and return a malloc'd result. */
static char *scrub(const char *in)
{
	pv_scrubber *s = NULL;
	char *out = NULL;
	size_t len;

	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	assert_int_equal(pv_scrub_text(s, in, strlen(in), &out, &len), 0);
	assert_int_equal(strlen(out), len);
	pv_scrubber_free(&s);
	assert_null(s);
	return out;
}

static void expect(const char *in, const char *want)
{
	char *got = scrub(in);

	if (strcmp(got, want) != 0)
		fail_msg("scrub(\"%s\")\n  got  \"%s\"\n  want \"%s\"", in, got, want);
	free(got);
}

/* ---- the labeled corpus ---- */

typedef struct {
	size_t tp[PV_SCRUB_NTYPES], fp[PV_SCRUB_NTYPES], fn[PV_SCRUB_NTYPES];
} tally;

typedef struct {
	size_t start, end;
	int type;
	int hit;
} label;

#define MAX_LABELS 32

typedef struct {
	label *labels;
	size_t n;
	tally *t;
	const char *line;
	int verbose;
} line_ctx;

static int type_of(const char *name, size_t len)
{
	for (int t = 0; t < PV_SCRUB_NTYPES; t++)
		if (strlen(pv_scrub_type_name((pv_scrub_type)t)) == len && strncmp(pv_scrub_type_name((pv_scrub_type)t), name, len) == 0)
			return t;
	return -1;
}

static int on_match(const pv_scrub_match *m, void *payload)
{
	line_ctx *c = payload;

	for (size_t k = 0; k < c->n; k++) {
		if (c->labels[k].start == m->start && c->labels[k].end == m->end && c->labels[k].type == (int)m->type) {
			c->labels[k].hit = 1;
			c->t->tp[m->type]++;
			return 0;
		}
	}
	c->t->fp[m->type]++;
	if (c->verbose)
		fprintf(stderr, "FP %s: \"%.*s\" in: %s\n", pv_scrub_type_name(m->type),
			(int)(m->end - m->start), c->line + m->start, c->line);
	return 0;
}

/* Strip the {{type:value}} marks of one corpus line and score the scrubber on it. */
static void score_line(const pv_scrubber *s, const char *raw, tally *t, int verbose)
{
	char text[4096];
	label labels[MAX_LABELS];
	size_t n = 0, nl = 0;
	line_ctx c;

	for (const char *p = raw; *p != '\0';) {
		if (p[0] == '{' && p[1] == '{') {
			const char *colon = strchr(p + 2, ':'), *close;
			int type;

			assert_non_null(colon);
			type = type_of(p + 2, (size_t)(colon - p - 2));
			if (type < 0)
				fail_msg("corpus: unknown type in: %s", raw);
			close = strstr(colon + 1, "}}");
			assert_non_null(close);
			assert_true(nl < MAX_LABELS);
			labels[nl].start = n;
			memcpy(text + n, colon + 1, (size_t)(close - colon - 1));
			n += (size_t)(close - colon - 1);
			labels[nl].end = n;
			labels[nl].type = type;
			labels[nl++].hit = 0;
			p = close + 2;
			continue;
		}
		assert_true(n < sizeof(text) - 1);
		text[n++] = *p++;
	}
	text[n] = '\0';
	c.labels = labels;
	c.n = nl;
	c.t = t;
	c.line = text;
	c.verbose = verbose;
	assert_int_equal(pv_scrub_find(s, text, n, on_match, &c), 0);
	for (size_t k = 0; k < nl; k++) {
		if (!labels[k].hit) {
			t->fn[labels[k].type]++;
			if (verbose)
				fprintf(stderr, "FN %s: \"%.*s\" in: %s\n", pv_scrub_type_name((pv_scrub_type)labels[k].type),
					(int)(labels[k].end - labels[k].start), text + labels[k].start, text);
		}
	}
}

static size_t score_file(const pv_scrubber *s, const char *path, tally *t, int verbose)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t lines = 0;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		score_line(s, line, t, verbose);
		lines++;
	}
	fclose(f);
	return lines;
}

/*
 * The figures docs/scrub.md records, between the "scrub-figures" markers:
 * rows "| type | precision | recall | ...".
 */
static void read_figures(double prec[PV_SCRUB_NTYPES], double rec[PV_SCRUB_NTYPES])
{
	FILE *f = fopen(DOC, "r");
	char line[512];
	int in = 0, seen = 0;

	if (f == NULL)
		fail_msg("cannot open %s", DOC);
	while (fgets(line, sizeof(line), f) != NULL) {
		char name[16];
		double p, r;
		int t;

		if (strstr(line, "<!-- scrub-figures") != NULL) {
			in = !in;
			continue;
		}
		if (!in || sscanf(line, "| %15[a-z0-9] | %lf | %lf |", name, &p, &r) != 3)
			continue;
		t = type_of(name, strlen(name));
		assert_true(t >= 0);
		prec[t] = p;
		rec[t] = r;
		seen |= 1 << t;
	}
	fclose(f);
	assert_int_equal(seen, (int)PV_SCRUB_ALL);
}

static void test_corpus(void **state)
{
	pv_scrubber *s = NULL;
	tally t;
	double prec[PV_SCRUB_NTYPES], rec[PV_SCRUB_NTYPES];
	int verbose = getenv("SCRUB_VERBOSE") != NULL, bad = 0;
	size_t lines;

	(void)state;
	memset(&t, 0, sizeof(t));
	read_figures(prec, rec);
	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	lines = score_file(s, CORPUS_DIR "/generated.txt", &t, verbose);
	lines += score_file(s, CORPUS_DIR "/handwritten.txt", &t, verbose);
	assert_true(lines > 2000);
	printf("| type | precision | recall | TP | FP | FN |\n");
	for (int k = 0; k < PV_SCRUB_NTYPES; k++) {
		double p = t.tp[k] + t.fp[k] ? (double)t.tp[k] / (double)(t.tp[k] + t.fp[k]) : 1.0;
		double r = t.tp[k] + t.fn[k] ? (double)t.tp[k] / (double)(t.tp[k] + t.fn[k]) : 1.0;

		/* every type has positives in the corpus */
		assert_true(t.tp[k] + t.fn[k] >= 50);
		printf("| %s | %.3f | %.3f | %zu | %zu | %zu |\n", pv_scrub_type_name((pv_scrub_type)k), p, r,
		       t.tp[k], t.fp[k], t.fn[k]);
		/* figures are recorded with three decimals, rounded down */
		if (p + 1e-9 < prec[k] || r + 1e-9 < rec[k]) {
			fprintf(stderr, "%s: precision %.4f (recorded %.3f), recall %.4f (recorded %.3f)\n",
				pv_scrub_type_name((pv_scrub_type)k), p, prec[k], r, rec[k]);
			bad = 1;
		}
	}
	pv_scrubber_free(&s);
	assert_false(bad);
}

/* ---- replacements and boundaries ---- */

static void test_placeholders(void **state)
{
	(void)state;
	expect("mail joe.smith@example.com now", "mail [EMAIL] now");
	expect("GET /s?email=joe%40example.com&x=1 a%40b", "GET /s?email=[EMAIL]&x=1 a%40b");
	expect("ip 10.0.0.1, [2001:db8::1]:443 and 192.168.1.254:8080",
	       "ip [IPV4], [[IPV6]]:443 and [IPV4]:8080");
	expect("card 4111 1111 1111 1111.", "card [CARD].");
	expect("iban DE89 3704 0044 0532 0130 00 ok", "iban [IBAN] ok");
	expect("ssn 123-45-6789;", "ssn [SSN];");
	expect("call (415) 555-0199 or +44 20 7946 0958", "call [PHONE] or [PHONE]");
	/* whole tokens only */
	expect("a11.2.3.45 1.11.2.3.45 11.2.3.456 11.2.3.45x", "a11.2.3.45 1.11.2.3.45 11.2.3.456 11.2.3.45x");
	expect("x11.2.3.45 (11.2.3.45)", "x11.2.3.45 ([IPV4])");
	expect("range 10.0.0.1-10.0.0.9, xff 1.2.3.4,5.6.7.8", "range [IPV4]-[IPV4], xff [IPV4],[IPV4]");
	expect("4111111111111111a a4111111111111111 #4111111111111111", "4111111111111111a a4111111111111111 #4111111111111111");
	/* validation */
	expect("4111111111111112 666-12-3456 000-12-3456 123-00-4567 123-45-0000 900-12-3456",
	       "4111111111111112 666-12-3456 000-12-3456 123-00-4567 123-45-0000 900-12-3456");
	expect("DE89 3704 0044 0532 0130 01 GB82WEST1234569876543", "DE89 3704 0044 0532 0130 01 GB82WEST1234569876543");
	expect("256.1.1.1 01.2.3.4 1.2.3", "256.1.1.1 01.2.3.4 1.2.3");
	/* hard negatives */
	expect("12:30:45 00:1a:2b:3c:4d:5e 2023-10-05 v1.2.3.4 version 1.2.3.4 Chrome/119.0.0.0 std::string",
	       "12:30:45 00:1a:2b:3c:4d:5e 2023-10-05 v1.2.3.4 version 1.2.3.4 Chrome/119.0.0.0 std::string");
	expect("icon@2x.png git@github.com:org/repo.git user@localhost 123-456-7890",
	       "icon@2x.png git@github.com:org/repo.git user@localhost 123-456-7890");
	/* non-ASCII and NUL bytes around values pass unchanged */
	{
		static const char in[] = "\xff\xfejoe@example.com\x00\xc3\xa9 10.0.0.1\x80";
		static const char want[] = "\xff\xfe[EMAIL]\x00\xc3\xa9 [IPV4]\x80";
		pv_scrubber *s = NULL;
		char *out;
		size_t len;

		assert_int_equal(pv_scrubber_new(&s, 0), 0);
		assert_int_equal(pv_scrub_text(s, in, sizeof(in) - 1, &out, &len), 0);
		assert_int_equal(len, sizeof(want) - 1);
		assert_memory_equal(out, want, len);
		free(out);
		pv_scrubber_free(&s);
	}
}

static void test_types_filter(void **state)
{
	pv_scrubber *s = NULL;
	unsigned types;
	char *out;
	size_t len;
	const char *in = "joe@example.com 10.0.0.1 123-45-6789";

	(void)state;
	assert_int_equal(pv_scrub_types_parse(&types, "ipv4,ssn"), 0);
	assert_int_equal(types, PV_SCRUB_BIT(PV_SCRUB_IPV4) | PV_SCRUB_BIT(PV_SCRUB_SSN));
	assert_int_equal(pv_scrub_types_parse(&types, "all"), 0);
	assert_int_equal(types, PV_SCRUB_ALL);
	assert_int_equal(pv_scrub_types_parse(&types, "email,secret"), PV_EINVAL);
	assert_null(strstr(pv_error_last(), "secret"));
	assert_int_equal(pv_scrub_types_parse(&types, "ipv4"), 0);
	assert_int_equal(pv_scrubber_new(&s, types), 0);
	assert_int_equal(pv_scrub_text(s, in, strlen(in), &out, &len), 0);
	assert_string_equal(out, "joe@example.com [IPV4] 123-45-6789");
	free(out);
	pv_scrubber_free(&s);
}

static void test_validators(void **state)
{
	(void)state;
	assert_true(pv_scrub_luhn_ok("4111111111111111", 16));
	assert_false(pv_scrub_luhn_ok("4111111111111112", 16));
	assert_true(pv_scrub_luhn_ok("378282246310005", 15));
	assert_true(pv_scrub_iban_ok("DE89370400440532013000", 22));
	assert_false(pv_scrub_iban_ok("DE89370400440532013001", 22));
	assert_false(pv_scrub_iban_ok("DE8937040044053201300", 21));
	assert_true(pv_scrub_iban_ok("NO9386011117947", 15));
	assert_true(pv_scrub_iban_ok("GB82WEST12345698765432", 22));
}

/* ---- pseudonyms ---- */

static char *pseudo(const uint8_t key[PV_SCRUB_KEY_LEN], const char *in)
{
	pv_scrubber *s = NULL;
	char *out;
	size_t len;

	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	assert_int_equal(pv_scrubber_set_key(s, key), 0);
	assert_int_equal(pv_scrub_text(s, in, strlen(in), &out, &len), 0);
	pv_scrubber_free(&s);
	return out;
}

/* The 12 hex digits after `tag` in s (static buffer of each call site's kind: copy before reuse). */
static const char *hex_of(const char *s, const char *tag)
{
	static char buf[4][PV_SCRUB_PSEUDONYM_HEX + 1];
	static int next;
	const char *p = strstr(s, tag);
	char *b = buf[next++ % 4];

	if (p == NULL)
		return "(none)";
	memcpy(b, p + strlen(tag), PV_SCRUB_PSEUDONYM_HEX);
	b[PV_SCRUB_PSEUDONYM_HEX] = '\0';
	return b;
}

static void test_pseudonyms(void **state)
{
	uint8_t k1[PV_SCRUB_KEY_LEN], k2[PV_SCRUB_KEY_LEN];
	char *a, *b, *c;

	(void)state;
	memset(k1, 0x11, sizeof(k1));
	memset(k2, 0x22, sizeof(k2));
	a = pseudo(k1, "Joe@Example.com +1 (415) 555-0199 10.0.0.1 4111 1111 1111 1111");
	b = pseudo(k1, "joe%40example.com 415-555-0199 ::ffff:10.0.0.1 4111-1111-1111-1111");
	c = pseudo(k2, "joe@example.com 415-555-0199 ::ffff:10.0.0.1 4111-1111-1111-1111");
	/* shape: [TYPE:12 hex] */
	{
		char t[4][8], h[4][16];

		assert_int_equal(sscanf(a, "[%7[A-Z0-9]:%15[0-9a-f]] [%7[A-Z0-9]:%15[0-9a-f]] [%7[A-Z0-9]:%15[0-9a-f]] [%7[A-Z0-9]:%15[0-9a-f]]",
					t[0], h[0], t[1], h[1], t[2], h[2], t[3], h[3]), 8);
		assert_string_equal(t[0], "EMAIL");
		assert_string_equal(t[1], "PHONE");
		assert_string_equal(t[2], "IPV4");
		assert_string_equal(t[3], "CARD");
		for (int k = 0; k < 4; k++)
			assert_int_equal(strlen(h[k]), PV_SCRUB_PSEUDONYM_HEX);
	}
	/* the same values spelled differently: the same pseudonyms; IPv4 and its mapped IPv6 form too */
	for (int k = 0; k < 4; k++) {
		static const char *tags[] = { "[EMAIL:", "[PHONE:", "[IPV4:", "[CARD:" };

		const char *btag = k == 2 ? "[IPV6:" : tags[k];

		assert_string_not_equal(hex_of(a, tags[k]), "(none)");
		assert_string_equal(hex_of(a, tags[k]), hex_of(b, btag));
		/* another key: other pseudonyms for every value */
		assert_string_not_equal(hex_of(b, btag), hex_of(c, btag));
	}
	/* stable across runs */
	{
		char *a2 = pseudo(k1, "Joe@Example.com +1 (415) 555-0199 10.0.0.1 4111 1111 1111 1111");

		assert_string_equal(a, a2);
		free(a2);
	}
	free(a);
	free(b);
	free(c);
}

static void test_key_file(void **state)
{
	char dir[] = "/tmp/pv-scrub-XXXXXX", path[64];
	pv_scrubber *s = NULL;
	FILE *f;
	char *out;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/scrub.key", dir);
	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	assert_int_equal(pv_scrubber_load_key_file(s, path), PV_EIO);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "# scrub key\nscrub %s\n", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	fclose(f);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(pv_scrubber_load_key_file(s, path), PV_EKEY);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(pv_scrubber_load_key_file(s, path), 0);
	assert_int_equal(pv_scrub_text(s, "joe@example.com", 15, &out, &len), 0);
	assert_int_equal(strncmp(out, "[EMAIL:", 7), 0);
	assert_int_equal(len, 8 + PV_SCRUB_PSEUDONYM_HEX);
	free(out);
	/* a malformed key: the message names the line, never the content */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "scrub deadbeefSECRET\n");
	fclose(f);
	assert_int_equal(pv_scrubber_load_key_file(s, path), PV_EKEY);
	assert_non_null(strstr(pv_error_last(), "line 1"));
	assert_null(strstr(pv_error_last(), "SECRET"));
	assert_null(strstr(pv_error_last(), "deadbeef"));
	pv_scrubber_free(&s);
	unlink(path);
	rmdir(dir);
}

/* ---- JSON ---- */

static void test_json(void **state)
{
	static const char in[] =
		"{\"email\": \"joe@example.com\", \"joe@example.com\": [1.10, \"ip 10.0.0.1\", true, null],\n"
		" \"nested\": {\"note\": \"mail jane\\u0040example.org \\\"now\\\"\", \"n\": 4111111111111111},\n"
		" \"plain\": \"caf\\u00e9 \\ud83d\\ude00 nothing here\"}";
	pv_scrubber *s = NULL;
	json_t *j;
	char *out;
	size_t len;

	(void)state;
	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	assert_int_equal(pv_scrub_json(s, in, sizeof(in) - 1, &out, &len), 0);
	assert_string_equal(out,
		"{\"email\": \"[EMAIL]\", \"joe@example.com\": [1.10, \"ip [IPV4]\", true, null],\n"
		" \"nested\": {\"note\": \"mail [EMAIL] \\\"now\\\"\", \"n\": 4111111111111111},\n"
		" \"plain\": \"caf\\u00e9 \\ud83d\\ude00 nothing here\"}");
	j = json_loadb(out, len, 0, NULL);
	assert_non_null(j);
	json_decref(j);
	free(out);
	/* a control character next to a value is re-encoded, the output stays valid */
	{
		static const char cc[] = "[\"a\\u0001joe@example.com\\n\"]";

		assert_int_equal(pv_scrub_json(s, cc, sizeof(cc) - 1, &out, &len), 0);
	}
	assert_string_equal(out, "[\"a\\u0001[EMAIL]\\n\"]");
	free(out);
	assert_int_equal(pv_scrub_json(s, "{\"a\": joe@example.com}", 22, &out, &len), PV_EINVAL);
	assert_null(out);
	assert_null(strstr(pv_error_last(), "joe"));
	pv_scrubber_free(&s);
}

/* ---- streams ---- */

/* Run pv_scrub_stream over `in` through real files (read(2) path). */
static char *stream(const char *in, size_t len, int json, size_t *out_len, pv_scrub_stats *st)
{
	FILE *fi = tmpfile(), *fo = tmpfile();
	pv_scrubber *s = NULL;
	char *out;
	long n;

	assert_non_null(fi);
	assert_non_null(fo);
	assert_int_equal(fwrite(in, 1, len, fi), len);
	fflush(fi);
	rewind(fi);
	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	assert_int_equal(pv_scrub_stream(s, fi, fo, json), 0);
	pv_scrubber_stats(s, st);
	pv_scrubber_free(&s);
	n = ftell(fo);
	assert_true(n >= 0);
	rewind(fo);
	out = malloc((size_t)n + 1);
	assert_non_null(out);
	assert_int_equal(fread(out, 1, (size_t)n, fo), (size_t)n);
	out[n] = '\0';
	*out_len = (size_t)n;
	fclose(fi);
	fclose(fo);
	return out;
}

static void test_stream_long_lines(void **state)
{
	/* one 3 MiB line with values at every distance from the chunk boundaries, then short lines */
	size_t cap = 4u << 20, n = 0, want_len, got_len;
	char *in = malloc(cap), *want, *got;
	static const char *vals[] = { "joe@example.com", "10.0.0.1", "2001:db8::1", "4111 1111 1111 1111",
				      "DE89 3704 0044 0532 0130 00", "123-45-6789", "+44 20 7946 0958" };
	pv_scrubber *s = NULL;
	pv_scrub_stats st;
	size_t k = 0;

	(void)state;
	assert_non_null(in);
	while (n < (3u << 20)) {
		const char *v = vals[k % 7];
		size_t pad = 1 + (k * 7919) % 97;

		memset(in + n, 'x', pad);
		in[n + pad - 1] = ' ';
		n += pad;
		memcpy(in + n, v, strlen(v));
		n += strlen(v);
		in[n++] = ' ';
		k++;
	}
	memcpy(in + n, "\nshort 10.0.0.2\n\nlast 10.0.0.3", 30);
	n += 30;
	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	assert_int_equal(pv_scrub_text(s, in, n, &want, &want_len), 0);
	pv_scrubber_free(&s);
	got = stream(in, n, 0, &got_len, &st);
	assert_int_equal(got_len, want_len);
	assert_memory_equal(got, want, want_len);
	assert_null(strstr(got, "10.0.0."));
	assert_int_equal(st.lines, 4);
	assert_int_equal(st.found[PV_SCRUB_EMAIL], (k + 6) / 7);
	assert_int_equal(st.bytes_in, n);
	assert_int_equal(st.bytes_out, got_len);
	free(in);
	free(want);
	free(got);
}

static void test_stream_json_lines(void **state)
{
	static const char in[] =
		"{\"user\":\"joe@example.com\",\"n\":1}\n"
		"\n"
		"not json: 10.0.0.1\r\n"
		"[\"a\", {\"ip\": \"2001:db8::1\"}]\r\n"
		"{\"last\": \"123-45-6789\"}";
	static const char want[] =
		"{\"user\":\"[EMAIL]\",\"n\":1}\n"
		"\n"
		"not json: [IPV4]\r\n"
		"[\"a\", {\"ip\": \"[IPV6]\"}]\r\n"
		"{\"last\": \"[SSN]\"}";
	pv_scrub_stats st;
	size_t len;
	char *out = stream(in, sizeof(in) - 1, 1, &len, &st);

	(void)state;
	assert_string_equal(out, want);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.lines, 5);
	free(out);
}

/* A JSON line longer than PV_SCRUB_JSON_MAX_LINE is scrubbed as text, counted, and the next line is JSON again. */
static void test_stream_json_too_long(void **state)
{
	size_t big = PV_SCRUB_JSON_MAX_LINE + 100000, n = 0, len;
	char *in = malloc(big + 200), *out;
	pv_scrub_stats st;
	static const char tail[] = "\n{\"ip\": \"10.0.0.9\"}\n";

	(void)state;
	assert_non_null(in);
	n += (size_t)sprintf(in, "{\"a\": \"");
	while (n < big) {
		memcpy(in + n, "joe@example.com ", 16);
		n += 16;
	}
	memcpy(in + n, "\"}", 2);
	n += 2;
	memcpy(in + n, tail, sizeof(tail) - 1);
	n += sizeof(tail) - 1;
	out = stream(in, n, 1, &len, &st);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.lines, 2);
	assert_null(strstr(out, "joe@"));
	assert_int_equal(strncmp(out, "{\"a\": \"[EMAIL] [EMAIL] ", 20), 0);
	assert_true(len > 22);
	assert_string_equal(out + len - 20, "\"}\n{\"ip\": \"[IPV4]\"}\n");
	free(in);
	free(out);
}

/* Hostile input: millions of token starts, each a near miss; must stay linear. */
static void test_linear_time(void **state)
{
	static const char *unit[] = { "1 ", "1.", "a@", "a.", "+1 ", "1-", "::", "1:", "DE89 ", "(2", "4111 " };
	size_t n = 4u << 20;
	char *in = malloc(n), *out;
	pv_scrubber *s = NULL;
	size_t len;

	(void)state;
	assert_non_null(in);
	assert_int_equal(pv_scrubber_new(&s, 0), 0);
	for (size_t u = 0; u < sizeof(unit) / sizeof(unit[0]); u++) {
		size_t ul = strlen(unit[u]);
		clock_t t0;
		double secs;

		for (size_t k = 0; k < n; k++)
			in[k] = unit[u][k % ul];
		t0 = clock();
		assert_int_equal(pv_scrub_text(s, in, n, &out, &len), 0);
		secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
		free(out);
		/* 4 MiB: a quadratic scan would take hours; generous for sanitizers */
		if (secs > 10.0)
			fail_msg("unit \"%s\": %.1f s for 4 MiB", unit[u], secs);
	}
	pv_scrubber_free(&s);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_types_filter),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_pseudonyms),
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_stream_long_lines),
		cmocka_unit_test(test_stream_json_lines),
		cmocka_unit_test(test_stream_json_too_long),
		cmocka_unit_test(test_linear_time),
		cmocka_unit_test(test_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
