/* Internal error helpers: set the thread's last error and return the code. */
#ifndef PV_CORE_ERROR_H
#define PV_CORE_ERROR_H

#include "privault/error.h"

/*
 * Record a failure on this thread and return `code`, so callers can write
 *     return pv_error_set(PV_EINVAL, "category: expected an id, got %zu bytes", n);
 * Never pass personal data or key material in the format arguments.
 */
int pv_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the current message with "context: " and return `code` unchanged. */
int pv_error_wrap(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define PV_ERRMSG_MAX 512

#endif
