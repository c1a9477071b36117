/*
 * The one schema of the store, as versioned migrations shared by every backend,
 * and the runner that applies them. docs/schema.md explains each table.
 *
 * Templates are plain SQL with two placeholders a backend spells its own way
 * (pv_store_dialect): {blob} for byte strings and {int64_pk} for a 64-bit
 * integer primary key. Everything else is standard SQL that SQLite and
 * PostgreSQL both accept: TEXT, BIGINT, INTEGER, PRIMARY KEY, UNIQUE, indexes.
 * Migrations are append-only: never edit a released one, add the next.
 */
#include "store/backend.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

typedef struct {
	int version;
	const char *description;  /* one line, for `privault migrate` */
	const char *const *sql;   /* NULL-terminated */
} pv_migration;

static const char *const migration_1[] = {
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL)",

	"CREATE TABLE policy_versions ("
	" hash TEXT PRIMARY KEY,"
	" yaml TEXT NOT NULL,"
	" loaded_at BIGINT NOT NULL,"
	" effective_at BIGINT NOT NULL)",

	"CREATE TABLE subjects ("
	" id TEXT PRIMARY KEY,"
	" created_at BIGINT NOT NULL,"
	" regime INTEGER NOT NULL,"
	" birth_year INTEGER NOT NULL,"
	" parental_consent INTEGER NOT NULL,"
	" state INTEGER NOT NULL,"
	" erased_at BIGINT)",

	"CREATE TABLE identifiers ("
	" kind TEXT NOT NULL,"
	" blind_index {blob} NOT NULL,"
	" subject_id TEXT NOT NULL,"
	" nonce {blob} NOT NULL,"
	" ciphertext {blob} NOT NULL,"
	" PRIMARY KEY (kind, blind_index))",
	"CREATE INDEX identifiers_subject ON identifiers (subject_id)",

	"CREATE TABLE subject_keys ("
	" subject_id TEXT PRIMARY KEY,"
	" kek_version BIGINT NOT NULL,"
	" wrapped {blob} NOT NULL)",
	"CREATE INDEX subject_keys_kek_version ON subject_keys (kek_version)",

	"CREATE TABLE records ("
	" subject_id TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" category TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" policy_version TEXT NOT NULL,"
	" collected_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" expires_at BIGINT,"
	" nonce {blob} NOT NULL,"
	" ciphertext {blob} NOT NULL,"
	" PRIMARY KEY (subject_id, id))",
	"CREATE INDEX records_subject_category ON records (subject_id, category, collected_at)",
	"CREATE INDEX records_expires_at ON records (expires_at)",

	"CREATE TABLE suppression ("
	" kind TEXT NOT NULL,"
	" blind_index {blob} NOT NULL,"
	" reason TEXT NOT NULL,"
	" at BIGINT NOT NULL,"
	" PRIMARY KEY (kind, blind_index))",

	"CREATE TABLE audit ("
	" seq {int64_pk},"
	" at BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" subject_id TEXT,"
	" purpose TEXT,"
	" category TEXT,"
	" outcome TEXT NOT NULL,"
	" prev_hash {blob} NOT NULL,"
	" hash {blob} NOT NULL)",
	"CREATE INDEX audit_subject ON audit (subject_id)",

	"CREATE TABLE audit_checkpoints ("
	" seq {int64_pk},"
	" at BIGINT NOT NULL,"
	" hash {blob} NOT NULL,"
	" signature {blob} NOT NULL,"
	" public_key {blob} NOT NULL)",
	NULL
};

/* Migration 2 (issue 3, the HTTP server): API keys, stored only as hashes of their secrets. */
static const char *const migration_2[] = {
	"CREATE TABLE api_keys ("
	" id TEXT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" role INTEGER NOT NULL,"
	" grants TEXT NOT NULL,"
	" hash {blob} NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" revoked_at BIGINT)",
	NULL
};

/*
 * Migration 3 (issue 7, retention): legal holds and the de-identified tallies
 * that anonymization leaves. A hold's scope columns are NULL when unset
 * (subject_id NULL = every subject); subject_id is there so a sharded cluster
 * can place a subject's holds with its rows (holds of every subject are few
 * and would be a reference table). retention_tally holds counts only, never a
 * subject: it is not a subject's row.
 */
static const char *const migration_3[] = {
	"CREATE TABLE legal_holds ("
	" id TEXT PRIMARY KEY,"
	" subject_id TEXT,"
	" category TEXT,"
	" from_at BIGINT,"
	" to_at BIGINT,"
	" reason TEXT NOT NULL,"
	" created_by TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" released_by TEXT,"
	" released_at BIGINT)",
	"CREATE INDEX legal_holds_subject ON legal_holds (subject_id)",

	"CREATE TABLE retention_tally ("
	" category TEXT NOT NULL,"
	" purpose TEXT NOT NULL,"
	" source TEXT NOT NULL,"
	" month BIGINT NOT NULL,"
	" count BIGINT NOT NULL,"
	" PRIMARY KEY (category, purpose, source, month))",
	NULL
};

/*
 * Migrations 4-6 are written by the modules that own their tables, in files of
 * their own under src/store/ (schema_<module>.c); they reach them only through
 * pv_store_exec / pv_store_query (store.h, portable statements).
 */
extern const char *const pv_migration_consent[];   /* schema_consent.c (issue 5) */
extern const char *const pv_migration_rights[];    /* schema_rights.c (issue 6: requests, outbox) */
extern const char *const pv_migration_fulfil[];    /* schema_fulfil.c (issue 6: disclosures, webhooks) */
extern const char *const pv_migration_epochs[];    /* schema_epochs.c (issue 7: retention epoch keys) */

static const pv_migration migrations[] = {
	{ 1, "core: meta, policy versions, subjects, identifiers, keys, records, suppression, audit",
	  migration_1 },
	{ 2, "server: api_keys (hashes of API key secrets, roles, grants)", migration_2 },
	{ 3, "retention: legal_holds, retention_tally (anonymized counts)", migration_3 },
	{ 4, "consent: the consent ledger", pv_migration_consent },
	{ 5, "rights: data-subject requests, verification codes, the outbox", pv_migration_rights },
	{ 6, "rights fulfilment: disclosures, recipient notifications", pv_migration_fulfil },
	{ 7, "retention: epoch keys (records.key_epoch, subjects.records_until, retention_keys)", pv_migration_epochs },
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* The DDL every migration needs first; not itself a migration (it records them). */
static const char migrations_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version BIGINT PRIMARY KEY,"
	" applied_at BIGINT NOT NULL)";

/*
 * Expand {blob} and {int64_pk} in `tmpl` for dialect `d`. Returns a malloc'd
 * string the caller frees, or NULL (PV_ENOMEM set) when out of memory.
 */
static char *render(const char *tmpl, const pv_store_dialect *d)
{
	size_t cap = strlen(tmpl) + 1, n = 0;
	const char *p;
	char *out;

	for (p = tmpl; (p = strchr(p, '{')) != NULL; p++)
		cap += 32;   /* longest spelling is well under 32 */
	out = malloc(cap);
	if (out == NULL) {
		pv_error_set(PV_ENOMEM, "store: schema: out of memory");
		return NULL;
	}
	for (p = tmpl; *p != '\0';) {
		const char *rep = NULL;
		size_t skip = 0;

		if (strncmp(p, "{blob}", 6) == 0) {
			rep = d->blob;
			skip = 6;
		} else if (strncmp(p, "{int64_pk}", 10) == 0) {
			rep = d->int64_pk;
			skip = 10;
		}
		if (rep != NULL) {
			size_t l = strlen(rep);

			memcpy(out + n, rep, l);
			n += l;
			p += skip;
		} else {
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return out;
}

static int refuse_newer(int64_t v)
{
	return pv_error_set(PV_ESTORE,
			    "store: the database schema is version %" PRId64 ", newer than this "
			    "privault supports (%d); upgrade privault to open it", v, PV_STORE_SCHEMA_VERSION);
}

/* Apply every migration above `from`, and record each; inside the caller's transaction. */
static int apply_from(pv_store *s, const pv_store_dialect *d, int64_t from)
{
	char ins[128];
	size_t i, j;
	int rc;

	for (i = 0; i < N_MIGRATIONS; i++) {
		const pv_migration *m = &migrations[i];

		if (m->version <= from)
			continue;
		for (j = 0; m->sql[j] != NULL; j++) {
			char *sql = render(m->sql[j], d);

			if (sql == NULL)
				return PV_ENOMEM;
			rc = s->ops->exec(s, sql);
			free(sql);
			if (rc != 0)
				return pv_error_wrap(rc, "store: migration %d", m->version);
		}
		snprintf(ins, sizeof(ins),
			 "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, %" PRId64 ")",
			 m->version, (int64_t)pv_clock_now());
		rc = s->ops->exec(s, ins);
		if (rc != 0)
			return pv_error_wrap(rc, "store: migration %d", m->version);
	}
	snprintf(ins, sizeof(ins), "%d", PV_STORE_SCHEMA_VERSION);
	rc = s->ops->meta_set(s, "schema_version", ins);
	if (rc != 0)
		return pv_error_wrap(rc, "store: migration");
	return 0;
}

/*
 * Bring the schema up to PV_STORE_SCHEMA_VERSION (see backend.h). The version
 * is read again under the write lock, so two processes opening a new file at
 * once apply the migrations only once.
 */
int pv_store_schema_migrate(pv_store *s, const pv_store_dialect *d, int create)
{
	int64_t v = 0;
	int rc;

	if (migrations[N_MIGRATIONS - 1].version != PV_STORE_SCHEMA_VERSION)
		return pv_error_set(PV_ESTORE, "store: schema: migrations end at %d, code expects %d",
				    migrations[N_MIGRATIONS - 1].version, PV_STORE_SCHEMA_VERSION);
	rc = s->ops->schema_version(s, &v);
	if (rc != 0)
		return rc;
	s->schema_before = v;
	if (v > PV_STORE_SCHEMA_VERSION)
		return refuse_newer(v);
	if (v == PV_STORE_SCHEMA_VERSION)
		return 0;
	if (v == 0 && !create)
		return pv_error_set(PV_ENOTFOUND, "store: the database holds no privault schema "
				    "(not a vault, or never initialized)");

	rc = s->ops->begin(s);
	if (rc != 0)
		return rc;
	rc = s->ops->exec(s, migrations_table);
	if (rc == 0)
		rc = s->ops->schema_version(s, &v);
	if (rc == 0)
		s->schema_before = v;
	if (rc == 0 && v > PV_STORE_SCHEMA_VERSION)
		rc = refuse_newer(v);
	if (rc == 0)
		rc = apply_from(s, d, v);
	if (rc == 0)
		rc = s->ops->commit(s);
	if (rc != 0) {
		s->ops->rollback(s);
		return rc;
	}
	return 0;
}

/* ---- tables and the migration report ------------------------------------------------------ */

/*
 * The table created by one DDL template ("CREATE TABLE name (..."), copied
 * into out[size]; 0, or -1 when the statement creates no table.
 */
static int created_table(const char *sql, char *out, size_t size)
{
	static const char prefix[] = "CREATE TABLE ";
	size_t n;

	if (strncmp(sql, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	sql += sizeof(prefix) - 1;
	n = strcspn(sql, " (");
	if (n == 0 || n >= size)
		return -1;
	memcpy(out, sql, n);
	out[n] = '\0';
	return 0;
}

int pv_store_table_names(int (*cb)(const char *table, void *payload), void *payload)
{
	char name[64];
	size_t i, j;
	int rc;

	if (cb == NULL)
		return pv_error_set(PV_EINVAL, "store: table_names: no callback");
	for (i = 0; i < N_MIGRATIONS; i++)
		for (j = 0; migrations[i].sql[j] != NULL; j++)
			if (created_table(migrations[i].sql[j], name, sizeof(name)) == 0 &&
			    (rc = cb(name, payload)) != 0)
				return rc;
	return 0;
}

static int match_table(const char *table, void *payload)
{
	return strcmp(table, (const char *)payload) == 0;
}

int pv_store_schema_has_table(const char *table)
{
	return table != NULL && pv_store_table_names(match_table, (void *)table) == 1;
}

typedef struct {
	pv_time applied[N_MIGRATIONS];
} applied_times;

/* One row of schema_migrations: note when a known version was applied. */
static int note_applied(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	applied_times *t = payload;
	int64_t version = -1, at = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(cols[i], "version") == 0 && vals[i].type == PV_STORE_INT)
			version = vals[i].i;
		else if (strcmp(cols[i], "applied_at") == 0 && vals[i].type == PV_STORE_INT)
			at = vals[i].i;
	}
	for (i = 0; i < N_MIGRATIONS; i++)
		if (migrations[i].version == version)
			t->applied[i] = at > 0 ? at : 1;
	return 0;
}

int pv_store_migration_each(pv_store *s,
			    int (*cb)(int64_t version, const char *description, pv_time applied_at, void *payload),
			    void *payload)
{
	applied_times t;
	int64_t v = 0;
	size_t i;
	int rc;

	if (s == NULL || cb == NULL)
		return pv_error_set(PV_EINVAL, "store: migration_each: missing argument");
	memset(&t, 0, sizeof(t));
	if ((rc = s->ops->schema_version(s, &v)) != 0)
		return rc;
	if (v > 0 && (rc = s->ops->table_each(s, "schema_migrations", note_applied, &t)) != 0)
		return rc;
	for (i = 0; i < N_MIGRATIONS; i++)
		if ((rc = cb(migrations[i].version, migrations[i].description, t.applied[i], payload)) != 0)
			return rc;
	return 0;
}
