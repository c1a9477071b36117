/*
 * Migration of disclosures and recipient notifications (issue 6); owned by src/rights.
 * Tables here are reached only through pv_store_exec / pv_store_query (store.h).
 * Append-only once released: add a migration instead of editing a released one.
 *
 * disclosures:      the disclosure ledger, one row per disclosure of a subject's data.
 * outbox:           messages to deliver; nonce/payload hold the sealed destination and
 *                   body until delivered or failed, then are set to NULL (metadata stays).
 * outbox_attempts:  the delivery log: one row per attempt, metadata only.
 * erasure_purges:   subjects crypto-shredded by a deletion request whose (unreadable) record
 *                   rows are still to be deleted by pv_fulfil_purge, in batches.
 */
#include <stddef.h>

const char *const pv_migration_fulfil[] = {
	"CREATE TABLE disclosures ("
	" id TEXT PRIMARY KEY,"
	" subject_id TEXT NOT NULL,"
	" recipient TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" categories TEXT NOT NULL,"
	" sale BIGINT NOT NULL,"
	" sharing BIGINT NOT NULL,"
	" disclosed_at BIGINT NOT NULL,"
	" recorded_by TEXT NOT NULL)",
	"CREATE INDEX disclosures_subject ON disclosures (subject_id, disclosed_at)",

	"CREATE TABLE outbox ("
	" id TEXT PRIMARY KEY,"
	" channel BIGINT NOT NULL,"
	" topic TEXT NOT NULL,"
	" subject_id TEXT,"
	" recipient TEXT,"
	" status BIGINT NOT NULL,"
	" attempts BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" next_attempt_at BIGINT NOT NULL,"
	" delivered_at BIGINT,"
	" last_error TEXT,"
	" nonce {blob},"
	" payload {blob})",
	"CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",

	"CREATE TABLE outbox_attempts ("
	" message_id TEXT NOT NULL,"
	" attempt BIGINT NOT NULL,"
	" at BIGINT NOT NULL,"
	" result TEXT NOT NULL,"
	" PRIMARY KEY (message_id, attempt))",

	"CREATE TABLE erasure_purges ("
	" subject_id TEXT PRIMARY KEY,"
	" queued_at BIGINT NOT NULL)",
	NULL
};
