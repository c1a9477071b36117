/*
 * privault: the whole public C API in one include.
 *
 *     #include <privault/privault.h>
 *
 * Every module's header can also be included on its own.
 */
#ifndef PRIVAULT_H
#define PRIVAULT_H

#include "privault/error.h"
#include "privault/time.h"
#include "privault/policy.h"
#include "privault/vault.h"
#include "privault/audit.h"
#include "privault/retention.h"
#if defined(__has_include)
#if __has_include("privault/import.h")
#include "privault/import.h"
#endif
#endif

#endif
