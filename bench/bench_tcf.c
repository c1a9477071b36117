/*
 * TC string decode and encode throughput in C (the C side of
 * bench/bench_tcf.sh): every line of FILE is a TC string; each is decoded
 * REPS times (pv_tcf_decode + pv_tcf_free), then the decoded models are
 * encoded REPS times (pv_tcf_encode). Prints "decode_ns N" and "encode_ns N",
 * the mean nanoseconds per string, and checks that every encoding equals its
 * input (the strings come from the reference encoder, so they are canonical).
 *
 * usage: bench_tcf FILE [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privault/consent_signals.h"
#include "privault/error.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	FILE *f;
	char **s = NULL, *line = NULL, *out;
	size_t *len = NULL, n = 0, cap = 0, lcap = 0;
	pv_tcf **tc;
	long reps = argc > 2 ? atol(argv[2]) : 20;
	ssize_t r;
	double t0, t1;

	if (argc < 2 || reps <= 0 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: bench_tcf FILE [REPS]\n");
		return 2;
	}
	while ((r = getline(&line, &lcap, f)) > 0) {
		while (r > 0 && (line[r - 1] == '\n' || line[r - 1] == '\r'))
			line[--r] = '\0';
		if (r == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			s = realloc(s, cap * sizeof(*s));
			len = realloc(len, cap * sizeof(*len));
			if (s == NULL || len == NULL)
				return 1;
		}
		s[n] = strdup(line);
		len[n++] = (size_t)r;
	}
	free(line);
	fclose(f);
	tc = calloc(n, sizeof(*tc));
	if (n == 0 || tc == NULL)
		return 1;

	t0 = now_ns();
	for (long k = 0; k < reps; k++) {
		for (size_t i = 0; i < n; i++) {
			pv_tcf *t = NULL;

			if (pv_tcf_decode(&t, s[i], len[i]) != 0) {
				fprintf(stderr, "bench_tcf: line %zu: %s\n", i + 1, pv_error_last());
				return 1;
			}
			pv_tcf_free(&t);
		}
	}
	t1 = now_ns();
	printf("decode_ns %.0f\n", (t1 - t0) / ((double)n * (double)reps));

	for (size_t i = 0; i < n; i++)
		if (pv_tcf_decode(&tc[i], s[i], len[i]) != 0)
			return 1;
	t0 = now_ns();
	for (long k = 0; k < reps; k++) {
		for (size_t i = 0; i < n; i++) {
			if (pv_tcf_encode(&out, NULL, tc[i]) != 0)
				return 1;
			if (k == 0 && strcmp(out, s[i]) != 0) {
				fprintf(stderr, "bench_tcf: line %zu: encoding differs from the input\n", i + 1);
				return 1;
			}
			free(out);
		}
	}
	t1 = now_ns();
	printf("encode_ns %.0f\n", (t1 - t0) / ((double)n * (double)reps));
	for (size_t i = 0; i < n; i++) {
		pv_tcf_free(&tc[i]);
		free(s[i]);
	}
	free(tc);
	free(s);
	free(len);
	return 0;
}
