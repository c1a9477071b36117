/*
 * Migration of the consent ledger (issue 5); owned by src/consent.
 * Tables here are reached only through pv_store_exec / pv_store_query (store.h).
 * Append-only once released: add a migration instead of editing a released one.
 *
 * consent_events: the ledger, append only (rows leave only with the erasure
 *   of their subject ref). seq orders a subject ref's events (1, 2, ...).
 * consent_signals: the exact signal string of a receipt, kept once.
 * consent_state: derived current state per (subject ref, purpose, vendor),
 *   rewritten in the transaction of each event; rebuildable from the events.
 * consent_deadlines: opt-out processing deadlines (done_at set when done).
 * Every table carries subject_id (a vault subject id or a device id).
 */
#include <stddef.h>

const char *const pv_migration_consent[] = {
	"CREATE TABLE consent_events ("
	" id TEXT PRIMARY KEY,"
	" subject_id TEXT NOT NULL,"
	" seq BIGINT NOT NULL,"
	" receipt_id TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" vendor BIGINT NOT NULL,"
	" action TEXT NOT NULL,"
	" mechanism TEXT,"
	" source TEXT NOT NULL,"
	" notice_version TEXT NOT NULL,"
	" policy_version TEXT NOT NULL,"
	" at BIGINT NOT NULL,"
	" ua_hash TEXT,"
	" client TEXT,"
	" conflict BIGINT NOT NULL,"
	" conflict_reason TEXT)",
	"CREATE UNIQUE INDEX consent_events_subject ON consent_events (subject_id, seq)",
	"CREATE INDEX consent_events_at ON consent_events (at)",

	"CREATE TABLE consent_signals ("
	" receipt_id TEXT PRIMARY KEY,"
	" subject_id TEXT NOT NULL,"
	" kind TEXT NOT NULL,"
	" signal TEXT NOT NULL)",
	"CREATE INDEX consent_signals_subject ON consent_signals (subject_id)",

	"CREATE TABLE consent_state ("
	" subject_id TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" vendor BIGINT NOT NULL,"
	" consent BIGINT NOT NULL,"
	" consent_at BIGINT NOT NULL,"
	" notice_version TEXT NOT NULL,"
	" opted_out BIGINT NOT NULL,"
	" gpc BIGINT NOT NULL,"
	" opted_out_at BIGINT NOT NULL,"
	" objected BIGINT NOT NULL,"
	" limited BIGINT NOT NULL,"
	" last_event TEXT NOT NULL,"
	" last_seq BIGINT NOT NULL,"
	" PRIMARY KEY (subject_id, purpose, vendor))",

	"CREATE TABLE consent_deadlines ("
	" event_id TEXT PRIMARY KEY,"
	" subject_id TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" at BIGINT NOT NULL,"
	" due BIGINT NOT NULL,"
	" done_at BIGINT)",
	"CREATE INDEX consent_deadlines_due ON consent_deadlines (due)",
	NULL
};
