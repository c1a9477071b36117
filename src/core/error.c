#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_msg[PV_ERRMSG_MAX];
static _Thread_local int last_code;

int pv_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	last_code = code;
	return code;
}

int pv_error_wrap(int code, const char *fmt, ...)
{
	char prefix[PV_ERRMSG_MAX], joined[2 * PV_ERRMSG_MAX + 2];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	snprintf(joined, sizeof(joined), "%s: %s", prefix, last_msg);
	n = strlen(joined);
	if (n >= sizeof(last_msg))
		n = sizeof(last_msg) - 1;
	memcpy(last_msg, joined, n);
	last_msg[n] = '\0';
	last_code = code;
	return code;
}

const char *pv_error_last(void)
{
	return last_msg;
}

int pv_error_last_code(void)
{
	return last_code;
}

void pv_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = PV_OK;
}

const char *pv_error_name(int code)
{
	switch (code) {
	case PV_OK: return "PV_OK";
	case PV_ERROR: return "PV_ERROR";
	case PV_ENOMEM: return "PV_ENOMEM";
	case PV_EINVAL: return "PV_EINVAL";
	case PV_ENOTFOUND: return "PV_ENOTFOUND";
	case PV_EEXISTS: return "PV_EEXISTS";
	case PV_EDENIED: return "PV_EDENIED";
	case PV_ECRYPTO: return "PV_ECRYPTO";
	case PV_ESTORE: return "PV_ESTORE";
	case PV_EIO: return "PV_EIO";
	case PV_ELIMIT: return "PV_ELIMIT";
	case PV_EERASED: return "PV_EERASED";
	case PV_EPOLICY: return "PV_EPOLICY";
	case PV_ETAMPER: return "PV_ETAMPER";
	case PV_EKEY: return "PV_EKEY";
	default: return "PV_E?";
	}
}
