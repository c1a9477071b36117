/*
 * The PostgreSQL backend of the store (libpq).
 *
 * One connection per handle. Every statement is prepared once per connection
 * on first use (PQprepare) and run with PQexecPrepared: byte strings go as
 * binary parameters, text as its bytes, integers as decimal text; results
 * come back in binary. Inserts on a unique key use ON CONFLICT DO NOTHING and
 * report PV_EEXISTS when no row was inserted, so a taken key never aborts the
 * surrounding transaction (PostgreSQL aborts a whole transaction on any
 * failed statement, where SQLite fails only the statement); SQLSTATE 23505
 * maps to PV_EEXISTS as well.
 *
 * Transactions are READ COMMITTED: every statement sees what other
 * processes committed before it started. The audit chain is serialized
 * across processes through the database: the first append of a transaction
 * takes a transaction-level advisory lock (pg_advisory_xact_lock), and only
 * then reads the chain head; the lock is held until commit or rollback.
 *
 * Connection loss: a failed statement leaves the handle usable. The next call
 * outside a transaction reconnects (PQreset) and prepares again; BEGIN retries
 * once after a reconnect. A statement that fails because the connection broke
 * is never retried (its outcome is unknown); the caller gets PV_ESTORE
 * "PostgreSQL unavailable". A COMMIT that succeeded is durable
 * (synchronous_commit stays on), except that of a relaxed transaction
 * (pv_store_begin_relaxed: SET LOCAL synchronous_commit = off, audit rows only),
 * durable at the next synchronous commit or pv_store_sync.
 *
 * Error messages name the operation and the table and carry the SQLSTATE and
 * its class, never the server's message text (which can quote values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/postgres_internal.h"

#define REC_COLS "subject_id, id, category, purpose, source, policy_version, collected_at, " \
		 "updated_at, expires_at, nonce, ciphertext, key_epoch"
#define AUDIT_COLS "seq, at, actor, action, subject_id, purpose, category, outcome, prev_hash, hash"
#define APIKEY_COLS "id, name, role, grants, hash, created_at, revoked_at"
#define HOLD_COLS "id, subject_id, category, from_at, to_at, reason, created_by, created_at, " \
		  "released_by, released_at"
/* A record is kept from the sweep when an active legal hold covers it or its subject is restricted
 * (the subject's own row: a lookup within one subject, never a join across subjects). */
#define SWEEPABLE "NOT EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL" \
		  " AND (h.subject_id IS NULL OR h.subject_id = r.subject_id)" \
		  " AND (h.category IS NULL OR h.category = r.category)" \
		  " AND (h.from_at IS NULL OR r.collected_at >= h.from_at)" \
		  " AND (h.to_at IS NULL OR r.collected_at < h.to_at))" \
		  " AND NOT EXISTS (SELECT 1 FROM subjects su WHERE su.id = r.subject_id AND su.state = 1)"

/* The advisory lock key that serializes audit appends ("prvault" in ASCII). */
#define PG_AUDIT_LOCK_KEY "31637185665230964"

static const struct {
	const char *sql;
	const char *what;   /* "<operation> <table>" for error messages */
} stmts[PG__COUNT] = {
	[PG_META_GET] = { "SELECT value FROM meta WHERE key = $1::text", "read meta" },
	[PG_META_SET] = { "INSERT INTO meta (key, value) VALUES ($1::text, $2::text) "
			  "ON CONFLICT (key) DO UPDATE SET value = excluded.value", "write meta" },
	[PG_POLICY_INSERT] = { "INSERT INTO policy_versions (hash, yaml, loaded_at, effective_at) "
			       "VALUES ($1::text, $2::text, $3::bigint, $4::bigint) ON CONFLICT (hash) DO NOTHING",
			       "insert into policy_versions" },
	[PG_POLICY_GET] = { "SELECT yaml FROM policy_versions WHERE hash = $1::text", "read policy_versions" },
	[PG_SUBJECT_INSERT] = { "INSERT INTO subjects (id, created_at, regime, birth_year, "
				"parental_consent, state, erased_at) VALUES ($1::text, $2::bigint, $3::integer, "
				"$4::integer, $5::integer, $6::integer, $7::bigint) ON CONFLICT DO NOTHING",
				"insert into subjects" },
	[PG_SUBJECT_GET] = { "SELECT id, created_at, regime, birth_year, parental_consent, state, "
			     "erased_at FROM subjects WHERE id = $1::text", "read subjects" },
	[PG_SUBJECT_SET_STATE] = { "UPDATE subjects SET state = $2::integer, "
				   "erased_at = CASE WHEN $4::boolean THEN $3::bigint ELSE erased_at END, "
				   "birth_year = CASE WHEN $4::boolean THEN 0 ELSE birth_year END, "
				   "parental_consent = CASE WHEN $4::boolean THEN 0 ELSE parental_consent END "
				   "WHERE id = $1::text", "update subjects" },
	[PG_IDENT_INSERT] = { "INSERT INTO identifiers (kind, blind_index, subject_id, nonce, ciphertext) "
			      "VALUES ($1::text, $2::bytea, $3::text, $4::bytea, $5::bytea) ON CONFLICT DO NOTHING",
			      "insert into identifiers" },
	[PG_IDENT_FIND] = { "SELECT subject_id FROM identifiers WHERE kind = $1::text AND blind_index = $2::bytea",
			    "read identifiers" },
	[PG_IDENT_EACH] = { "SELECT kind, blind_index, nonce, ciphertext FROM identifiers "
			    "WHERE subject_id = $1::text ORDER BY kind, blind_index", "read identifiers" },
	[PG_IDENT_DELETE] = { "DELETE FROM identifiers WHERE subject_id = $1::text", "delete from identifiers" },
	[PG_KEY_INSERT] = { "INSERT INTO subject_keys (subject_id, kek_version, wrapped) "
			    "VALUES ($1::text, $2::bigint, $3::bytea) ON CONFLICT DO NOTHING",
			    "insert into subject_keys" },
	[PG_KEY_GET] = { "SELECT kek_version, wrapped FROM subject_keys WHERE subject_id = $1::text",
			 "read subject_keys" },
	[PG_KEY_UPDATE] = { "UPDATE subject_keys SET kek_version = $2::bigint, wrapped = $3::bytea "
			    "WHERE subject_id = $1::text", "update subject_keys" },
	[PG_KEY_DELETE] = { "DELETE FROM subject_keys WHERE subject_id = $1::text", "delete from subject_keys" },
	[PG_KEY_EACH] = { "SELECT subject_id, kek_version, wrapped FROM subject_keys "
			  "WHERE kek_version <> $1::bigint AND subject_id > $2::text "
			  "ORDER BY subject_id LIMIT $3::bigint", "read subject_keys" },
	[PG_REC_INSERT] = { "INSERT INTO records (" REC_COLS ") VALUES ($1::text, $2::text, $3::text, "
			    "$4::text, $5::text, $6::text, $7::bigint, $8::bigint, $9::bigint, $10::bytea, "
			    "$11::bytea, $12::bigint) ON CONFLICT DO NOTHING", "insert into records" },
	[PG_REC_UPDATE] = { "UPDATE records SET nonce = $3::bytea, ciphertext = $4::bytea, updated_at = $5::bigint, "
			    "key_epoch = $6::bigint WHERE subject_id = $1::text AND id = $2::text", "update records" },
	[PG_REC_GET] = { "SELECT " REC_COLS " FROM records WHERE subject_id = $1::text AND id = $2::text "
			 "AND " PV_REC_LIVE(""),
			 "read records" },
	[PG_REC_EACH] = { "SELECT " REC_COLS " FROM records WHERE subject_id = $1::text "
			  "AND " PV_REC_LIVE("") " ORDER BY collected_at, id", "read records" },
	[PG_REC_EACH_CAT] = { "SELECT " REC_COLS " FROM records WHERE subject_id = $1::text "
			      "AND category = $2::text AND " PV_REC_LIVE("") " ORDER BY collected_at, id", "read records" },
	[PG_REC_DELETE] = { "DELETE FROM records WHERE subject_id = $1::text", "delete from records" },
	[PG_REC_COUNT_CAT] = { "SELECT category, COUNT(*) FROM records WHERE subject_id = $1::text "
			       "AND " PV_REC_LIVE("") " GROUP BY category ORDER BY category", "count records" },
	[PG_REC_COUNT] = { "SELECT COUNT(*) FROM records WHERE " PV_REC_LIVE(""), "count records" },
	[PG_SUPP_INSERT] = { "INSERT INTO suppression (kind, blind_index, reason, at) "
			     "VALUES ($1::text, $2::bytea, $3::text, $4::bigint) "
			     "ON CONFLICT (kind, blind_index) DO NOTHING", "insert into suppression" },
	[PG_SUPP_FIND] = { "SELECT 1 FROM suppression WHERE kind = $1::text AND blind_index = $2::bytea",
			   "read suppression" },
	[PG_AUDIT_APPEND] = { "INSERT INTO audit (" AUDIT_COLS ") VALUES ($1::bigint, $2::bigint, $3::text, "
			      "$4::text, $5::text, $6::text, $7::text, $8::text, $9::bytea, $10::bytea) "
			      "ON CONFLICT DO NOTHING", "insert into audit" },
	[PG_AUDIT_HEAD] = { "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1", "read audit" },
	[PG_AUDIT_EACH] = { "SELECT " AUDIT_COLS " FROM audit WHERE seq >= $1::bigint ORDER BY seq "
			    "LIMIT $2::bigint", "read audit" },
	[PG_AUDIT_LOCK] = { "SELECT pg_advisory_xact_lock(" PG_AUDIT_LOCK_KEY ")", "lock audit" },
	[PG_CKPT_INSERT] = { "INSERT INTO audit_checkpoints (seq, at, hash, signature, public_key) "
			     "VALUES ($1::bigint, $2::bigint, $3::bytea, $4::bytea, $5::bytea) ON CONFLICT DO NOTHING",
			     "insert into audit_checkpoints" },
	[PG_CKPT_EACH] = { "SELECT seq, at, hash, signature, public_key FROM audit_checkpoints "
			   "ORDER BY seq", "read audit_checkpoints" },
	[PG_TRY_LOCK] = { "SELECT pg_try_advisory_xact_lock(hashtextextended('privault:' || $1::text, 0))",
			  "lock job" },
	[PG_APIKEY_INSERT] = { "INSERT INTO api_keys (" APIKEY_COLS ") VALUES ($1::text, $2::text, $3::integer, "
			       "$4::text, $5::bytea, $6::bigint, NULL) ON CONFLICT DO NOTHING", "insert into api_keys" },
	[PG_APIKEY_GET] = { "SELECT " APIKEY_COLS " FROM api_keys WHERE id = $1::text", "read api_keys" },
	[PG_APIKEY_EACH] = { "SELECT " APIKEY_COLS " FROM api_keys ORDER BY created_at, id", "read api_keys" },
	[PG_APIKEY_REVOKE] = { "UPDATE api_keys SET revoked_at = $2::bigint WHERE id = $1::text "
			       "AND revoked_at IS NULL", "update api_keys" },
	[PG_HOLD_INSERT] = { "INSERT INTO legal_holds (" HOLD_COLS ") VALUES ($1::text, $2::text, $3::text, "
			     "$4::bigint, $5::bigint, $6::text, $7::text, $8::bigint, $9::text, $10::bigint) "
			     "ON CONFLICT DO NOTHING", "insert into legal_holds" },
	[PG_HOLD_GET] = { "SELECT " HOLD_COLS " FROM legal_holds WHERE id = $1::text", "read legal_holds" },
	[PG_HOLD_EACH] = { "SELECT " HOLD_COLS " FROM legal_holds ORDER BY created_at, id", "read legal_holds" },
	[PG_HOLD_EACH_ACTIVE] = { "SELECT " HOLD_COLS " FROM legal_holds WHERE released_at IS NULL "
				  "ORDER BY created_at, id", "read legal_holds" },
	[PG_HOLD_RELEASE] = { "UPDATE legal_holds SET released_by = $2::text, released_at = $3::bigint "
			      "WHERE id = $1::text AND released_at IS NULL", "update legal_holds" },
	[PG_EXPIRED_EACH] = { "SELECT r.id, r.subject_id, r.category, r.purpose, r.source, r.policy_version, "
			      "r.collected_at, r.expires_at, r.key_epoch FROM records r WHERE r.expires_at >= $1::bigint "
			      "AND r.expires_at <= $2::bigint AND " PV_REC_LIVE("r.") " AND " SWEEPABLE " ORDER BY r.expires_at "
			      "LIMIT $3::bigint", "read records" },
	[PG_EXPIRED_COUNT] = { "SELECT COUNT(*) FROM records WHERE expires_at <= $1::bigint AND " PV_REC_LIVE(""),
			       "count records" },
	[PG_REC_DELETE_REF] = { "DELETE FROM records WHERE subject_id = $1::text AND id = $2::text",
				"delete from records" },
	[PG_REC_COUNT_SUBJECT] = { "SELECT COUNT(*) FROM records WHERE subject_id = $1::text AND " PV_REC_LIVE(""),
				   "count records" },
	[PG_TALLY_ADD] = { "INSERT INTO retention_tally (category, purpose, source, month, count) "
			   "VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint) "
			   "ON CONFLICT (category, purpose, source, month) "
			   "DO UPDATE SET count = retention_tally.count + excluded.count", "insert into retention_tally" },
	[PG_TALLY_EACH] = { "SELECT category, purpose, source, month, count FROM retention_tally "
			    "ORDER BY month, category, purpose, source", "read retention_tally" },
	/* session-level: held across the transactions of a job, same key as PG_TRY_LOCK */
	[PG_JOB_LOCK] = { "SELECT pg_try_advisory_lock(hashtextextended('privault:' || $1::text, 0))",
			  "lock job" },
	[PG_JOB_UNLOCK] = { "SELECT pg_advisory_unlock(hashtextextended('privault:' || $1::text, 0))",
			    "unlock job" },
};

static const pv_store_dialect pg_dialect = {
	.blob = "BYTEA",
	.int64_pk = "BIGINT PRIMARY KEY",
};

const char *pg_what(int id)
{
	return stmts[id].what;
}

int pg_malformed(int id, const char *column)
{
	return pv_error_set(PV_ESTORE, "store: %s: malformed value in column %s", stmts[id].what, column);
}

/* ---- parameters ----------------------------------------------------------------------------- */

void pg_p_textn(pg_params *p, const char *s, size_t n)
{
	p->val[p->n] = n > 0 ? s : "";
	p->len[p->n] = (int)n;
	p->fmt[p->n] = 1;   /* binary text: the bytes themselves, no terminator needed */
	p->n++;
}

void pg_p_text(pg_params *p, const char *s)
{
	pg_p_textn(p, s, strlen(s));
}

void pg_p_null(pg_params *p)
{
	p->val[p->n] = NULL;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void pg_p_text_or_null(pg_params *p, const char *s)
{
	if (s[0] == '\0')
		pg_p_null(p);
	else
		pg_p_text(p, s);
}

void pg_p_blob(pg_params *p, const void *b, size_t n)
{
	p->val[p->n] = n > 0 ? b : "";
	p->len[p->n] = (int)n;
	p->fmt[p->n] = 1;
	p->n++;
}

void pg_p_int(pg_params *p, int64_t v)
{
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
	p->val[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

/* ---- results -------------------------------------------------------------------------------- */

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

int64_t pg_get_int(const PGresult *r, int row, int col)
{
	const unsigned char *p = (const unsigned char *)PQgetvalue(r, row, col);
	int n = PQgetlength(r, row, col);

	if (PQgetisnull(r, row, col))
		return 0;
	switch (n) {
	case 1:
		return p[0];   /* boolean */
	case 2:
		return (int16_t)be(p, 2);
	case 4:
		return (int32_t)be(p, 4);
	case 8:
		return (int64_t)be(p, 8);
	default:
		return 0;
	}
}

int pg_get_text(const PGresult *r, int row, int col, char *out, size_t size)
{
	size_t n = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);

	if (n >= size || memchr(PQgetvalue(r, row, col), '\0', n) != NULL)
		return -1;
	memcpy(out, PQgetvalue(r, row, col), n);
	out[n] = '\0';
	return 0;
}

int pg_get_blob(const PGresult *r, int row, int col, uint8_t *out, size_t len)
{
	if (PQgetisnull(r, row, col) || (size_t)PQgetlength(r, row, col) != len)
		return -1;
	memcpy(out, PQgetvalue(r, row, col), len);
	return 0;
}

/* ---- errors --------------------------------------------------------------------------------- */

/* A readable name for a SQLSTATE class (the first two characters). */
static const char *state_class(const char *state)
{
	static const struct {
		const char *cls, *name;
	} classes[] = {
		{ "08", "connection exception" },
		{ "22", "data exception" },
		{ "23", "integrity constraint violation" },
		{ "25", "invalid transaction state" },
		{ "28", "invalid authorization" },
		{ "3D", "no such database" },
		{ "40", "transaction rolled back (serialization failure or deadlock)" },
		{ "42", "syntax error or missing table (schema mismatch?)" },
		{ "53", "insufficient resources (disk full, out of memory, too many connections)" },
		{ "54", "program limit exceeded" },
		{ "55", "object not in prerequisite state (lock not available)" },
		{ "57", "operator intervention (server shutting down or query canceled)" },
		{ "58", "system error (I/O)" },
		{ "XX", "internal error" },
	};
	size_t i;

	if (state == NULL || strlen(state) < 2)
		return "unknown error";
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strncmp(state, classes[i].cls, 2) == 0)
			return classes[i].name;
	return "error";
}

/*
 * Turn a failed result (or none) of `what` into the error: PV_EEXISTS for a
 * unique violation, PV_ESTORE naming the connection loss or the SQLSTATE
 * otherwise. Consumes `r`.
 */
static int fail_result(pv_pg *q, const char *what, PGresult *r)
{
	const char *state = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	int rc;

	if (state != NULL && strcmp(state, "23505") == 0)
		rc = pv_error_set(PV_EEXISTS, "store: %s: key already exists", what);
	else if (PQstatus(q->conn) != CONNECTION_OK || state == NULL ||
		 strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0)
		rc = pv_error_set(PV_ESTORE, "store: %s: PostgreSQL unavailable (connection lost); "
				  "not confirmed; the next call reconnects", what);
	else
		rc = pv_error_set(PV_ESTORE, "store: %s: SQLSTATE %s (%s)", what, state, state_class(state));
	PQclear(r);
	return rc;
}

/*
 * Make sure the connection is up before a statement. Outside a transaction a
 * broken connection is re-established (and every statement will be prepared
 * again); inside one it cannot be: the transaction died with the connection.
 */
static int ensure_conn(pv_pg *q, const char *what)
{
	if (PQstatus(q->conn) == CONNECTION_OK)
		return 0;
	if (q->in_tx)
		return pv_error_set(PV_ESTORE, "store: %s: PostgreSQL unavailable (connection lost inside a "
				    "transaction; it was rolled back)", what);
	/* the job lock died with the session: stop the job rather than go on without it */
	if (q->job[0] != '\0')
		return pv_error_set(PV_ESTORE, "store: %s: PostgreSQL unavailable (connection lost; the job "
				    "lock %s went with it, the job stops)", what, q->job);
	PQreset(q->conn);
	memset(q->prepared, 0, sizeof(q->prepared));
	if (PQstatus(q->conn) != CONNECTION_OK)
		return pv_error_set(PV_ESTORE, "store: %s: PostgreSQL unavailable (cannot reconnect)", what);
	PQsetClientEncoding(q->conn, "UTF8");
	return 0;
}

/* ---- statements ----------------------------------------------------------------------------- */

static int prepare(pv_pg *q, int id)
{
	char name[16];
	PGresult *r;

	if (q->prepared[id])
		return 0;
	snprintf(name, sizeof(name), "pv%d", id);
	r = PQprepare(q->conn, name, stmts[id].sql, 0, NULL);
	if (r == NULL || PQresultStatus(r) != PGRES_COMMAND_OK)
		return fail_result(q, stmts[id].what, r);
	PQclear(r);
	q->prepared[id] = 1;
	return 0;
}

int pg_run(pv_pg *q, int id, const pg_params *p, PGresult **out)
{
	static const pg_params none;
	char name[16];
	PGresult *r;
	ExecStatusType st;
	int rc;

	*out = NULL;
	if (p == NULL)
		p = &none;
	if ((rc = ensure_conn(q, stmts[id].what)) != 0)
		return rc;
	if ((rc = prepare(q, id)) != 0)
		return rc;
	snprintf(name, sizeof(name), "pv%d", id);
	r = PQexecPrepared(q->conn, name, p->n, p->val, p->len, p->fmt, 1);
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		return fail_result(q, stmts[id].what, r);
	*out = r;
	return 0;
}

int pg_exec_id(pv_pg *q, int id, const pg_params *p, int64_t *changed)
{
	PGresult *r;
	int rc = pg_run(q, id, p, &r);

	if (rc != 0)
		return rc;
	if (changed != NULL)
		*changed = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

/* Run a parameterless statement given as text (DDL, transaction control). */
static int exec_sql(pv_pg *q, const char *sql, const char *what, PGresult **out)
{
	PGresult *r;
	ExecStatusType st;
	int rc;

	if (out != NULL)
		*out = NULL;
	if ((rc = ensure_conn(q, what)) != 0)
		return rc;
	r = PQexec(q->conn, sql);
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
		return fail_result(q, what, r);
	if (out != NULL)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/* ---- connection ----------------------------------------------------------------------------- */

static void pg_close(pv_store *s)
{
	pv_pg *q = PQ(s);

	if (q == NULL)
		return;
	if (q->conn != NULL)
		PQfinish(q->conn);
	free(q);
}

static int pg_exec(pv_store *s, const char *sql)
{
	return exec_sql(PQ(s), sql, "schema statement", NULL);
}

static int pg_schema_version(pv_store *s, int64_t *out)
{
	PGresult *r;
	int rc;

	*out = 0;
	rc = exec_sql(PQ(s), "SELECT to_regclass('schema_migrations') IS NOT NULL", "read catalog", &r);
	if (rc != 0)
		return rc;
	if (PQntuples(r) != 1 || PQgetvalue(r, 0, 0)[0] != 't') {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	rc = exec_sql(PQ(s), "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
		      "read schema_migrations", &r);
	if (rc != 0)
		return rc;
	*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* The first line of libpq's connection error (server, socket, authentication; never a row value). */
static const char *conn_error(PGconn *c, char *buf, size_t size)
{
	const char *m = c != NULL ? PQerrorMessage(c) : "out of memory";
	size_t n = strcspn(m, "\n");

	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), m);
	return buf;
}

/* Server notices (warnings on a crash of another backend, ...) are not the caller's output. */
static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/*
 * Connect to `conninfo` (a postgres:// or postgresql:// URI, or key=value
 * pairs) and bring the schema up to date. A connect timeout of 10 s and the
 * application name "privault" apply unless the connection string sets its
 * own. The database itself must exist; `create` creates the schema in it.
 */
static int pg_open(pv_store **out, const char *conninfo, int create)
{
	const char *keys[] = { "connect_timeout", "application_name", "dbname", NULL };
	const char *vals[] = { "10", "privault", conninfo, NULL };
	char msg[256];
	pv_pg *q;
	int rc;

	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return pv_error_set(PV_ENOMEM, "store: open: out of memory");
	q->base.ops = &pv_store_postgres_ops;
	q->conn = PQconnectdbParams(keys, vals, 1);
	if (q->conn == NULL || PQstatus(q->conn) != CONNECTION_OK) {
		rc = pv_error_set(PV_ESTORE, "store: open: cannot connect to PostgreSQL: %s",
				  conn_error(q->conn, msg, sizeof(msg)));
		goto fail;
	}
	PQsetNoticeProcessor(q->conn, ignore_notice, NULL);
	if (PQsetClientEncoding(q->conn, "UTF8") != 0) {
		rc = pv_error_set(PV_ESTORE, "store: open: PostgreSQL: cannot use UTF8 client encoding");
		goto fail;
	}
	rc = exec_sql(q, "SET default_transaction_isolation = 'read committed'", "open", NULL);
	if (rc == 0)
		rc = pv_store_schema_migrate(&q->base, &pg_dialect, create);
	if (rc != 0)
		goto fail;
	*out = &q->base;
	return 0;
fail:
	pg_close(&q->base);
	return rc;
}

/* ---- transactions --------------------------------------------------------------------------- */

static int pg_rollback(pv_store *s);

static int pg_begin_sql(pv_store *s, const char *sql)
{
	pv_pg *q = PQ(s);
	int rc;

	if (q->in_tx)
		return pv_error_set(PV_EINVAL, "store: begin: a transaction is already open");
	rc = exec_sql(q, sql, "begin transaction", NULL);
	if (rc != 0 && PQstatus(q->conn) != CONNECTION_OK)
		rc = exec_sql(q, sql, "begin transaction", NULL);   /* once, on a new connection */
	if (rc != 0)
		return rc;
	q->in_tx = 1;
	q->audit_locked = 0;
	return 0;
}

static int pg_begin(pv_store *s)
{
	return pg_begin_sql(s, "BEGIN");
}

/*
 * Row changes in tables other than audit, as pg_stat_xact_user_tables counts
 * them for this connection (the relaxed-commit guard): *out, or PV_ESTORE.
 * PostgreSQL 15 may include changes of earlier transactions not yet flushed to
 * the statistics, but never flushes inside a transaction block, so the
 * difference between the BEGIN and the COMMIT of one transaction is exact.
 */
static int pg_other_changes(pv_pg *q, int64_t *out)
{
	PGresult *r;
	int rc;

	*out = 0;
	rc = exec_sql(q, "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables "
		      "WHERE relname <> 'audit'", "read transaction statistics", &r);
	if (rc != 0)
		return rc;
	if (PQntuples(r) == 1)
		*out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

/* A transaction whose COMMIT does not wait for the WAL flush (issue 3). */
static int pg_begin_relaxed(pv_store *s)
{
	pv_pg *q = PQ(s);
	int rc = pg_begin_sql(s, "BEGIN; SET LOCAL synchronous_commit = off");

	if (rc == 0 && (rc = pg_other_changes(q, &q->xact_changes0)) != 0) {
		pg_rollback(s);
		return rc;
	}
	return rc;
}

/*
 * Make every commit of this connection so far durable: a transaction that has
 * an id commits with synchronous_commit on, which waits until the WAL is
 * flushed up to its commit record, so up to every earlier commit too.
 */
static int pg_sync(pv_store *s)
{
	return exec_sql(PQ(s), "BEGIN; SELECT txid_current(); COMMIT", "sync", NULL);
}

/* COMMIT of a transaction that an earlier error aborted answers ROLLBACK: that is a failure. */
static int pg_commit(pv_store *s)
{
	pv_pg *q = PQ(s);
	PGresult *r;
	int rc;

	if (!q->in_tx)
		return pv_error_set(PV_EINVAL, "store: commit: no transaction is open");
	if (s->relaxed) {
		int64_t other = 0;

		/* a relaxed transaction that wrote more than audit rows commits durably after all */
		if (pg_other_changes(q, &other) != 0 || other != q->xact_changes0) {
			s->relaxed = 0;
			/* on failure the transaction stays open for the caller's rollback */
			if ((rc = exec_sql(q, "SET LOCAL synchronous_commit = on", "commit transaction", NULL)) != 0)
				return rc;
		}
	}
	rc = exec_sql(q, "COMMIT", "commit transaction", &r);
	q->in_tx = 0;
	q->audit_locked = 0;
	if (rc != 0)
		return rc;
	if (strcmp(PQcmdStatus(r), "COMMIT") != 0) {
		PQclear(r);
		return pv_error_set(PV_ESTORE, "store: commit transaction: rolled back by an earlier failed "
				    "statement");
	}
	PQclear(r);
	return 0;
}

/* Rolling back with no transaction open, or on a lost connection, is a no-op. */
static int pg_rollback(pv_store *s)
{
	pv_pg *q = PQ(s);
	int rc = 0;

	if (!q->in_tx)
		return 0;
	q->in_tx = 0;
	q->audit_locked = 0;
	if (PQstatus(q->conn) == CONNECTION_OK)
		rc = exec_sql(q, "ROLLBACK", "roll back transaction", NULL);
	return rc;
}

/*
 * Inside a transaction: take the audit lock (once per transaction), then read
 * the head, which now cannot move until this transaction ends. Outside a
 * transaction it is only a read of the head.
 */
int pg_audit_lock_head(pv_store *s, int64_t *seq, uint8_t hash[PV_AUDIT_HASH_LEN])
{
	pv_pg *q = PQ(s);
	int rc;

	if (q->in_tx && !q->audit_locked) {
		if ((rc = pg_exec_id(q, PG_AUDIT_LOCK, NULL, NULL)) != 0)
			return rc;
		q->audit_locked = 1;
	}
	return pg_audit_head(s, seq, hash);
}

/*
 * Freeze the legal holds until the transaction ends (store.h): a SHARE lock on
 * legal_holds conflicts with the ROW EXCLUSIVE lock every INSERT and UPDATE of
 * a hold takes, so hold creation and release wait for this transaction, and
 * this one waits for theirs to commit before it reads the holds. Taken before
 * the batch's audit lock: hold creation writes the hold before its audit entry,
 * the same order, so the two cannot deadlock.
 */
static int pg_hold_lock(pv_store *s)
{
	return exec_sql(PQ(s), "LOCK TABLE legal_holds IN SHARE MODE", "lock legal_holds", NULL);
}

/*
 * A job lock held by the session (store.h): pg_try_advisory_lock, outside a
 * transaction, so it outlives every transaction of the job. The handle records
 * the name; ensure_conn() then refuses to reconnect while it is set.
 */
static int pg_job_lock(pv_store *s, const char *name, int *acquired)
{
	pv_pg *q = PQ(s);
	pg_params p = { 0 };
	PGresult *r;
	int rc;

	*acquired = 0;
	if (q->job[0] != '\0')
		return pv_error_set(PV_EINVAL, "store: lock job: this handle already holds a job lock");
	pg_p_text(&p, name);
	if ((rc = pg_run(q, PG_JOB_LOCK, &p, &r)) != 0)
		return rc;
	if (PQntuples(r) == 1 && pg_get_int(r, 0, 0) == 1) {
		snprintf(q->job, sizeof(q->job), "%s", name);
		*acquired = 1;
	}
	PQclear(r);
	return 0;
}

/* Release the session's job lock; when the connection is gone, so is the lock: only forget it. */
static int pg_job_unlock(pv_store *s, const char *name)
{
	pv_pg *q = PQ(s);
	pg_params p = { 0 };
	PGresult *r;
	int rc = 0;

	if (q->job[0] == '\0' || strcmp(q->job, name) != 0)
		return pv_error_set(PV_EINVAL, "store: unlock job: this handle does not hold that lock");
	if (PQstatus(q->conn) == CONNECTION_OK) {
		pg_p_text(&p, name);
		rc = pg_run(q, PG_JOB_UNLOCK, &p, &r);
		if (rc == 0)
			PQclear(r);
	}
	/* forgotten even on failure: a failed unlock means the session (and the lock) is gone */
	q->job[0] = '\0';
	return rc;
}

const pv_store_ops pv_store_postgres_ops = {
	.name = "postgres",
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.schema_version = pg_schema_version,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.begin_relaxed = pg_begin_relaxed,
	.sync = pg_sync,
	.meta_get = pg_meta_get,
	.meta_set = pg_meta_set,
	.policy_insert = pg_policy_insert,
	.policy_get = pg_policy_get,
	.subject_insert = pg_subject_insert,
	.subject_get = pg_subject_get,
	.subject_set_state = pg_subject_set_state,
	.identifier_insert = pg_identifier_insert,
	.identifier_find = pg_identifier_find,
	.identifier_each = pg_identifier_each,
	.identifier_delete_subject = pg_identifier_delete_subject,
	.key_insert = pg_key_insert,
	.key_get = pg_key_get,
	.key_update = pg_key_update,
	.key_delete = pg_key_delete,
	.key_each_other_version = pg_key_each_other_version,
	.record_insert = pg_record_insert,
	.record_update = pg_record_update,
	.record_get = pg_record_get,
	.record_each = pg_record_each,
	.record_delete_subject = pg_record_delete_subject,
	.record_count_categories = pg_record_count_categories,
	.record_count = pg_record_count,
	.suppression_insert = pg_suppression_insert,
	.suppression_find = pg_suppression_find,
	.audit_append = pg_audit_append,
	.audit_head = pg_audit_head,
	.audit_each = pg_audit_each,
	.checkpoint_insert = pg_checkpoint_insert,
	.checkpoint_each = pg_checkpoint_each,
	.audit_lock_head = pg_audit_lock_head,
	.try_lock = pg_try_lock,
	.table_count = pg_table_count,
	.table_each = pg_table_each,
	.table_insert = pg_table_insert,
	.sql = pg_sql,
	.apikey_insert = pg_apikey_insert,
	.apikey_get = pg_apikey_get,
	.apikey_each = pg_apikey_each,
	.apikey_revoke = pg_apikey_revoke,
	.hold_insert = pg_hold_insert,
	.hold_get = pg_hold_get,
	.hold_each = pg_hold_each,
	.hold_release = pg_hold_release,
	.record_expired_each = pg_record_expired_each,
	.record_expired_count = pg_record_expired_count,
	.record_delete_refs = pg_record_delete_refs,
	.record_count_subjects = pg_record_count_subjects,
	.tally_add = pg_tally_add,
	.tally_each = pg_tally_each,
	.hold_lock = pg_hold_lock,
	.job_lock = pg_job_lock,
	.job_unlock = pg_job_unlock,
};
