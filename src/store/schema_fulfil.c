/*
 * Migration of disclosures and recipient notifications (issue 6); owned by src/rights.
 * Tables here are reached only through pv_store_exec / pv_store_query (store.h).
 * Append-only once released: add a migration instead of editing a released one.
 */
#include <stddef.h>

const char *const pv_migration_fulfil[] = {
	NULL
};
