/*
 * Fuzz target of the access-log anonymizer: the input is streamed through
 * pv_logs_anon_fd (a pipe-free path: a temporary file in, /dev/null out)
 * and, line by line, through pv_logs_anon_line, with options taken from the
 * first byte (format, --all, mapped, masks). Nothing may crash, hang or
 * read out of bounds; the line API must return the line itself for a
 * malformed line without --all, and never change the number of lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privault/logs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned v4[] = { 12, 8, 16, 32 }, v6[] = { 84, 80, 64, 128 };
	pv_logs_options o;
	pv_logs_anon *a = NULL;
	const char *s = (const char *)data;
	uint8_t f = size > 0 ? data[0] : 0;
	size_t pos = 0;

	pv_logs_options_init(&o);
	o.format = (pv_logs_format)(f % 3);
	o.everywhere = (f >> 2) & 1;
	o.mapped_as_v4 = (f >> 3) & 1;
	o.v4_bits = v4[(f >> 4) & 3];
	o.v6_bits = v6[(f >> 6) & 3];
	if (pv_logs_anon_new(&a, &o) != 0)
		abort();
	while (pos < size) {
		const char *nl = memchr(s + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (s + pos)) : size - pos, n;
		const char *out;
		int rc = pv_logs_anon_line(a, s + pos, len, &out, &n);

		if (rc < 0 || rc > 2)
			abort();
		if (memchr(out, '\n', n) != NULL)
			abort();
		if (rc == 2 && !o.everywhere && (n != len || memcmp(out, s + pos, n) != 0))
			abort();
		if (rc == 0 && (n != len || memcmp(out, s + pos, n) != 0))
			abort();
		pos += len + 1;
	}
	{
		char path[] = "/tmp/pv-fuzz-logline-XXXXXX";
		int in = mkstemp(path);
		FILE *dn = fopen("/dev/null", "w");
		pv_logs_stats st = { 0, 0, 0, 0 };

		if (in >= 0 && dn != NULL) {
			if (write(in, data, size) == (ssize_t)size && lseek(in, 0, SEEK_SET) == 0) {
				if (pv_logs_anon_fd(a, in, fileno(dn), &st) != 0)
					abort();
				if (st.malformed > st.lines)
					abort();
			}
		}
		if (dn != NULL)
			fclose(dn);
		if (in >= 0) {
			close(in);
			unlink(path);
		}
	}
	pv_logs_anon_free(a);
	return 0;
}
