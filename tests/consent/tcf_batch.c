/*
 * The C side of the TCF oracle test (tests/consent/tcf_oracle.sh), one item
 * per line from stdin to stdout:
 *   tcf_batch decode   TC strings -> JSON lines ({"error": "<message>"} on failure)
 *   tcf_batch encode   JSON lines -> TC strings (exit 1 on the first failure)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privault/consent_signals.h"
#include "privault/error.h"

int main(int argc, char **argv)
{
	char *line = NULL, *out = NULL;
	size_t cap = 0;
	ssize_t n;
	int decode;

	if (argc != 2 || (strcmp(argv[1], "decode") != 0 && strcmp(argv[1], "encode") != 0)) {
		fprintf(stderr, "usage: tcf_batch decode|encode < lines\n");
		return 2;
	}
	decode = strcmp(argv[1], "decode") == 0;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		pv_tcf *tc = NULL;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (decode) {
			if (pv_tcf_decode(&tc, line, (size_t)n) != 0 || pv_tcf_to_json(&out, tc) != 0) {
				/* the message names a field and an offset: no quotes or backslashes in it */
				printf("{\"error\":\"%s\"}\n", pv_error_last());
			} else {
				printf("%s\n", out);
			}
		} else {
			if (pv_tcf_from_json(&tc, line, (size_t)n) != 0 || pv_tcf_encode(&out, NULL, tc) != 0) {
				fprintf(stderr, "tcf_batch: encode: %s\n", pv_error_last());
				pv_tcf_free(&tc);
				free(line);
				return 1;
			}
			printf("%s\n", out);
		}
		free(out);
		out = NULL;
		pv_tcf_free(&tc);
	}
	free(line);
	return 0;
}
