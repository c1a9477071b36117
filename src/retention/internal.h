/*
 * privault retention (internal): helpers shared by hold.c and sweep.c.
 */
#ifndef PV_RETENTION_INTERNAL_H
#define PV_RETENTION_INTERNAL_H

#include "privault/retention.h"

/*
 * Validate the caller (name 1..128 printable bytes, a known role) and its
 * role: admins always pass; auditors pass only when `auditor_ok`. PV_EINVAL
 * for a malformed caller, PV_EDENIED naming `what` for a role not allowed.
 */
int pv_retention_caller_check(const pv_caller *caller, int auditor_ok, const char *what);

#endif
