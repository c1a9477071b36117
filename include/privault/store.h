/*
 * privault store administration: schema migrations and copies of a whole
 * vault between stores (SQLite <-> PostgreSQL). Store URLs:
 *   sqlite:PATH or a plain PATH                      SQLite
 *   postgres://... or postgresql://... (libpq URI)   PostgreSQL, database must exist
 *   postgres:KEY=VALUE ...            (libpq conninfo)
 */
#ifndef PRIVAULT_STORE_H
#define PRIVAULT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "privault/time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One migration this privault knows, and its state in the store. */
typedef struct {
	int64_t version;
	const char *description;   /* borrowed, static */
	pv_time applied_at;        /* 0 = pending */
	int applied_now;           /* applied by this call */
} pv_migration_info;

/*
 * Open the store at `url`, apply its pending migrations (all in one
 * transaction), and report every migration through `cb` (may be NULL).
 * *out_before / *out_after (may be NULL) get the schema version before and
 * after. PV_ENOTFOUND when the database holds no privault schema; PV_ESTORE
 * when its schema is newer than this privault.
 */
int pv_migrate(const char *url, int64_t *out_before, int64_t *out_after,
	       int (*cb)(const pv_migration_info *m, void *payload), void *payload);

#define PV_COPY_MAX_TABLES 32

typedef struct {
	size_t ntables;
	struct {
		char name[64];
		int64_t source_rows;
		int64_t dest_rows;
	} tables[PV_COPY_MAX_TABLES];
	int64_t subjects_with_key;     /* subjects whose data key unwrapped in the destination */
	int64_t records_decrypted;     /* records whose ciphertext opened in the destination */
	int64_t identifiers_decrypted;
	int64_t audit_entries;         /* entries of the destination's verified chain */
	int64_t audit_checkpoints;
	int verified;                  /* 1: counts equal, every record opened, the chain verified */
} pv_copy_report;

/*
 * Copy every table of the vault in `from_url` into `to_url` (schema created
 * there; it must not hold a vault yet) in one transaction of the destination,
 * then verify the destination: row counts per table equal to the source's,
 * every subject's data key unwraps and every record and identifier opens
 * under the key file `key_file` (NULL: $PRIVAULT_KEYS), and the audit chain
 * verifies against that key file's checkpoint key. Returns 0 when verified;
 * PV_EEXISTS if the destination already holds a vault; PV_ETAMPER or
 * PV_ECRYPTO when the verification fails (report filled either way).
 */
int pv_store_copy(const char *from_url, const char *to_url, const char *key_file, pv_copy_report *out);

#ifdef __cplusplus
}
#endif
#endif
