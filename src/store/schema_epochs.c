/*
 * Migration of the retention epochs (issue 7, "sweeping by key destruction",
 * docs/retention.md); owned by src/retention and src/vault.
 * Append-only once released: add a migration instead of editing a released one.
 *
 * records.key_epoch:        the expiry minute whose key the record is sealed under
 *                           (NULL: the subject's data key alone, as before); added to the
 *                           expiry index so walks over expired rows skip destroyed ones there.
 * subjects.records_until:   the latest expiry of any record ever stored for the subject
 *                           (INT64_MAX: one never expires; NULL: none stored), so a sweep
 *                           finds the subjects its epochs may leave with nothing.
 * retention_keys:           one row: the watermark W (epochs below it are destroyed) and
 *                           the frontier of the epoch key tree, wrapped with the KEK.
 */
#include <stddef.h>

const char *const pv_migration_epochs[] = {
	"ALTER TABLE records ADD COLUMN key_epoch BIGINT",
	/* the sweep's walks and counts skip destroyed rows from the index alone */
	"DROP INDEX records_expires_at",
	"CREATE INDEX records_expires_at ON records (expires_at, key_epoch)",
	"ALTER TABLE subjects ADD COLUMN records_until BIGINT",
	"UPDATE subjects SET records_until = (SELECT MAX(COALESCE(r.expires_at, 9223372036854775807))"
	" FROM records r WHERE r.subject_id = subjects.id)",
	"CREATE INDEX subjects_records_until ON subjects (records_until)",
	"CREATE TABLE retention_keys ("
	" id BIGINT PRIMARY KEY,"
	" watermark BIGINT NOT NULL,"
	" kek_version BIGINT,"
	" wrapped {blob})",
	NULL
};
