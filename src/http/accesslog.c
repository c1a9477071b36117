/*
 * The server's own access log. It never holds personal data: the client
 * address is cut to its network (IPv4 /24, IPv6 /48), the path is the route
 * PATTERN (no ids, no query string), and no header or body is ever written.
 *
 * Line format (one request per line, space separated):
 *   2026-01-02T03:04:05Z 192.0.2.0/24 GET /v1/subjects/{id} 200 0.412ms 187
 * Lines are buffered and flushed about once a second (by the executor's tick)
 * and when the log is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "http/internal.h"

struct pv_http_accesslog {
	pthread_mutex_t mu;
	FILE *f;          /* NULL: off */
	int own;          /* 1: fclose on close */
};

int pv_http_accesslog_open(pv_http_accesslog **out, const char *where)
{
	pv_http_accesslog *l = calloc(1, sizeof(*l));
	int fd;

	*out = NULL;
	if (l == NULL)
		return pv_error_set(PV_ENOMEM, "access log: out of memory");
	pthread_mutex_init(&l->mu, NULL);
	if (where == NULL || strcmp(where, "-") == 0 || where[0] == '\0') {
		l->f = stderr;
	} else if (strcmp(where, "off") != 0) {
		fd = open(where, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0 || (l->f = fdopen(fd, "a")) == NULL) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			pthread_mutex_destroy(&l->mu);
			free(l);
			return pv_error_set(PV_EIO, "access log %s: %s", where, strerror(e));
		}
		l->own = 1;
		setvbuf(l->f, NULL, _IOFBF, 64 * 1024);
	}
	*out = l;
	return 0;
}

void pv_http_accesslog_flush(pv_http_accesslog *l)
{
	if (l == NULL || l->f == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	fflush(l->f);
	pthread_mutex_unlock(&l->mu);
}

void pv_http_accesslog_close(pv_http_accesslog *l)
{
	if (l == NULL)
		return;
	if (l->f != NULL) {
		fflush(l->f);
		if (l->own)
			fclose(l->f);
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void pv_http_accesslog_write(pv_http_accesslog *l, const char *client, const char *method,
			     const char *pattern, int status, uint64_t ns, size_t bytes)
{
	char ts[32];
	struct tm tm;
	time_t now;

	if (l == NULL || l->f == NULL)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	pthread_mutex_lock(&l->mu);
	fprintf(l->f, "%s %s %s %s %d %.3fms %zu\n", ts, client, method, pattern, status, (double)ns / 1e6,
		bytes);
	pthread_mutex_unlock(&l->mu);
}

void pv_http_client_truncate(const void *addr, char *out, size_t size)
{
	const struct sockaddr *sa = addr;
	char text[INET6_ADDRSTRLEN];

	if (sa == NULL) {
		snprintf(out, size, "-");
		return;
	}
	if (sa->sa_family == AF_INET) {
		struct in_addr a = ((const struct sockaddr_in *)addr)->sin_addr;
		uint8_t *b = (uint8_t *)&a.s_addr;

		b[3] = 0;
		inet_ntop(AF_INET, &a, text, sizeof(text));
		snprintf(out, size, "%s/24", text);
	} else if (sa->sa_family == AF_INET6) {
		struct in6_addr a = ((const struct sockaddr_in6 *)addr)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&a)) {
			a.s6_addr[15] = 0;
			inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text));
			snprintf(out, size, "%s/24", text);
			return;
		}
		memset(&a.s6_addr[6], 0, 10);
		inet_ntop(AF_INET6, &a, text, sizeof(text));
		snprintf(out, size, "%s/48", text);
	} else {
		snprintf(out, size, "-");
	}
}
