/*
 * Migration of data-subject requests, verification, the outbox (issue 6); owned by src/rights.
 * Tables here are reached only through pv_store_exec / pv_store_query (store.h).
 * Append-only once released: add a migration instead of editing a released one.
 *
 * rights_requests:        one row per request. No personal data: the identifier
 *                         given at intake is kept as its keyed blind index (id_bi),
 *                         the one-time code as a keyed hash (code_hash), the
 *                         agent's/parent's authorization reference as a hash.
 *                         subject_id is '' while the identity is unknown.
 * rights_request_events:  the history: one row per state transition.
 */
#include <stddef.h>

const char *const pv_migration_rights[] = {
	"CREATE TABLE rights_requests ("
	" id TEXT PRIMARY KEY,"
	" subject_id TEXT NOT NULL,"
	" type BIGINT NOT NULL,"
	" regime BIGINT NOT NULL,"
	" requester BIGINT NOT NULL,"
	" authorization_hash TEXT NOT NULL,"
	" id_kind TEXT NOT NULL,"
	" id_bi {blob},"
	" state BIGINT NOT NULL,"
	" needed BIGINT NOT NULL,"
	" reached BIGINT NOT NULL,"
	" received_at BIGINT NOT NULL,"
	" ack_due BIGINT NOT NULL,"
	" due_at BIGINT NOT NULL,"
	" extended_due BIGINT NOT NULL,"
	" closed_at BIGINT NOT NULL,"
	" reason TEXT NOT NULL,"
	" available_at BIGINT NOT NULL,"
	" fee_due BIGINT NOT NULL,"
	" details TEXT,"
	" code_hash {blob},"
	" code_expires BIGINT NOT NULL,"
	" code_attempts BIGINT NOT NULL)",
	"CREATE INDEX rights_requests_subject ON rights_requests (subject_id, type, received_at)",
	"CREATE INDEX rights_requests_open ON rights_requests (state, due_at)",
	"CREATE INDEX rights_requests_received ON rights_requests (received_at)",

	"CREATE TABLE rights_request_events ("
	" request_id TEXT NOT NULL,"
	" seq BIGINT NOT NULL,"
	" from_state BIGINT NOT NULL,"
	" to_state BIGINT NOT NULL,"
	" at BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" PRIMARY KEY (request_id, seq))",
	NULL
};
