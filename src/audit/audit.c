/*
 * The audit chain: appending entries, signed checkpoints, and verification.
 *
 * Each entry's hash is BLAKE2b-256 over prev_hash || encoding, where the
 * encoding is seq (8 bytes BE) || at (8 bytes BE) || actor || action ||
 * subject_id || purpose || category || outcome, each string preceded by its
 * length as 4 bytes BE. The first entry's prev_hash is 32 zero bytes.
 *
 * A checkpoint is an Ed25519 signature over
 *     "privault-checkpoint-v1\0" || seq (8 bytes BE) || hash
 * stored with the signing public key.
 *
 * Appends are on the hot path of every write: the head is cached, nothing is
 * allocated, and the hash is one crypto_generichash() call over a stack buffer.
 *
 * Several processes may append to one database (two `privault serve` on one
 * PostgreSQL, two imports into one SQLite file). The cached head is therefore
 * trusted only within the store transaction it was read in: the first append
 * of each transaction takes the store's audit lock and reads the head again
 * (pv_store_audit_lock_head), and no other process can append until that
 * transaction ends. Appends outside a transaction read the head every time.
 */
#include "audit/audit.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_DOMAIN "privault-checkpoint-v1"   /* with its NUL: 23 bytes */
#define CHECKPOINT_MSG_LEN (sizeof(CHECKPOINT_DOMAIN) + 8 + PV_AUDIT_HASH_LEN)

/* Largest encoding: prev_hash, seq, at, six length prefixes and the six fields at their maxima. */
#define ENC_MAX (PV_AUDIT_HASH_LEN + 16 + 6 * 4 + sizeof(((pv_audit_entry *)0)->actor) +            \
		 sizeof(((pv_audit_entry *)0)->action) + sizeof(((pv_audit_entry *)0)->subject_id) +     \
		 sizeof(((pv_audit_entry *)0)->purpose) + sizeof(((pv_audit_entry *)0)->category) +      \
		 sizeof(((pv_audit_entry *)0)->outcome))

struct pv_audit {
	pv_store *store;
	const pv_keyring *keys;
	int checkpoint_every;
	int cached;                          /* head_seq/head_hash are valid within transaction `tx` */
	uint64_t tx;                         /* pv_store_tx_serial() when the head was read */
	int64_t head_seq;
	uint8_t head_hash[PV_AUDIT_HASH_LEN];
	uint8_t pk[PV_PUBKEY_LEN];
	pv_audit_entry scratch;              /* the entry being appended: no allocation per append */
};

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static size_t put_str(uint8_t *p, const char *s, size_t max)
{
	size_t len = strnlen(s, max);

	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, s, len);
	return 4 + len;
}

#define PUT_FIELD(buf, n, e, f) ((n) += put_str((buf) + (n), (e)->f, sizeof((e)->f)))

void pv_audit_entry_hash(const pv_audit_entry *e, uint8_t out[PV_AUDIT_HASH_LEN])
{
	uint8_t buf[ENC_MAX];
	size_t n = 0;

	memcpy(buf, e->prev_hash, PV_AUDIT_HASH_LEN);
	n += PV_AUDIT_HASH_LEN;
	put_be64(buf + n, (uint64_t)e->seq);
	put_be64(buf + n + 8, (uint64_t)e->at);
	n += 16;
	PUT_FIELD(buf, n, e, actor);
	PUT_FIELD(buf, n, e, action);
	PUT_FIELD(buf, n, e, subject_id);
	PUT_FIELD(buf, n, e, purpose);
	PUT_FIELD(buf, n, e, category);
	PUT_FIELD(buf, n, e, outcome);
	crypto_generichash(out, PV_AUDIT_HASH_LEN, buf, n, NULL, 0);
}

static void checkpoint_msg(uint8_t msg[CHECKPOINT_MSG_LEN], int64_t seq, const uint8_t hash[PV_AUDIT_HASH_LEN])
{
	memcpy(msg, CHECKPOINT_DOMAIN, sizeof(CHECKPOINT_DOMAIN));
	put_be64(msg + sizeof(CHECKPOINT_DOMAIN), (uint64_t)seq);
	memcpy(msg + sizeof(CHECKPOINT_DOMAIN) + 8, hash, PV_AUDIT_HASH_LEN);
}

int pv_audit_open(pv_audit **out, pv_store *s, const pv_keyring *k, int checkpoint_every)
{
	pv_audit *a;

	*out = NULL;
	if (!s || !k)
		return pv_error_set(PV_EINVAL, "audit: store and keyring required");
	if (checkpoint_every < 0)
		return pv_error_set(PV_EINVAL, "audit: checkpoint_every must be 0 (default) or positive");
	a = calloc(1, sizeof(*a));
	if (!a)
		return pv_error_set(PV_ENOMEM, "audit: out of memory");
	a->store = s;
	a->keys = k;
	a->checkpoint_every = checkpoint_every ? checkpoint_every : PV_AUDIT_CHECKPOINT_EVERY;
	pv_keyring_public_key(k, a->pk);
	*out = a;
	return 0;
}

void pv_audit_close(pv_audit *a)
{
	free(a);
}

void pv_audit_forget(pv_audit *a)
{
	if (a)
		a->cached = 0;
}

/*
 * The chain head, under the store's audit lock: from the cache when it was
 * read in this same transaction, else locked and read from the store.
 */
static int load_head(pv_audit *a)
{
	uint64_t tx = pv_store_tx_serial(a->store);
	int rc;

	if (a->cached && tx != 0 && tx == a->tx)
		return 0;
	rc = pv_store_audit_lock_head(a->store, &a->head_seq, a->head_hash);
	if (rc != 0) {
		a->cached = 0;
		return pv_error_wrap(rc, "audit: reading the chain head");
	}
	a->tx = tx;
	a->cached = 1;
	return 0;
}

/* Sign and store a checkpoint of (seq, hash). An existing checkpoint at seq is left alone. */
static int write_checkpoint(pv_audit *a, int64_t seq, const uint8_t hash[PV_AUDIT_HASH_LEN])
{
	uint8_t msg[CHECKPOINT_MSG_LEN];
	pv_store_checkpoint c;
	int rc;

	c.seq = seq;
	c.at = pv_clock_now();
	memcpy(c.hash, hash, PV_AUDIT_HASH_LEN);
	memcpy(c.public_key, a->pk, PV_PUBKEY_LEN);
	checkpoint_msg(msg, seq, hash);
	if ((rc = pv_sign(a->keys, msg, sizeof(msg), c.signature)) != 0)
		return rc;
	rc = pv_store_checkpoint_insert(a->store, &c);
	if (rc == PV_EEXISTS)
		return 0;
	if (rc != 0)
		return pv_error_wrap(rc, "audit: writing checkpoint %lld", (long long)seq);
	return 0;
}

/* Copy an optional field of at most `max` bytes into dst; PV_EINVAL naming it when longer. */
static int copy_field(char *dst, const char *src, size_t max, const char *name, int required)
{
	size_t len = src ? strnlen(src, max + 1) : 0;

	if (len > max)
		return pv_error_set(PV_EINVAL, "audit %s: longer than %zu bytes", name, max);
	if (required && len == 0)
		return pv_error_set(PV_EINVAL, "audit %s: required", name);
	memcpy(dst, src ? src : "", len);
	dst[len] = '\0';
	return 0;
}

int pv_audit_append(pv_audit *a, const char *actor, const char *action, const char *subject_id,
		    const char *purpose, const char *category, const char *outcome)
{
	pv_audit_entry *e = &a->scratch;
	int rc;

	if ((rc = copy_field(e->actor, actor, PV_AUDIT_ACTOR_MAX, "actor", 1)) != 0 ||
	    (rc = copy_field(e->action, action, PV_AUDIT_ACTION_MAX, "action", 1)) != 0 ||
	    (rc = copy_field(e->subject_id, subject_id, PV_ID_LEN, "subject_id", 0)) != 0 ||
	    (rc = copy_field(e->purpose, purpose, PV_ID_MAX, "purpose", 0)) != 0 ||
	    (rc = copy_field(e->category, category, PV_ID_MAX, "category", 0)) != 0 ||
	    (rc = copy_field(e->outcome, outcome, sizeof(e->outcome) - 1, "outcome", 1)) != 0)
		return rc;
	/* subject ids are random UUIDs: anything else could be personal data */
	if (e->subject_id[0] && !pv_uuid_valid(e->subject_id))
		return pv_error_set(PV_EINVAL, "audit subject_id: expected a canonical UUID");
	if ((rc = load_head(a)) != 0)
		return rc;
	e->seq = a->head_seq + 1;
	e->at = pv_clock_now();
	memcpy(e->prev_hash, a->head_hash, PV_AUDIT_HASH_LEN);
	pv_audit_entry_hash(e, e->hash);
	rc = pv_store_audit_append(a->store, e);
	if (rc != 0) {
		a->cached = 0;   /* someone else may have appended: reload next time */
		return pv_error_wrap(rc, "audit: appending entry %lld", (long long)e->seq);
	}
	a->head_seq = e->seq;
	memcpy(a->head_hash, e->hash, PV_AUDIT_HASH_LEN);
	if (e->seq % a->checkpoint_every == 0 && (rc = write_checkpoint(a, e->seq, e->hash)) != 0) {
		a->cached = 0;
		return rc;
	}
	return 0;
}

int pv_audit_checkpoint_now(pv_audit *a, int64_t *out_seq)
{
	int rc;

	/* always read the head from the store: a checkpoint must cover what is really there */
	a->cached = 0;
	if ((rc = load_head(a)) != 0)
		return rc;
	if (a->head_seq == 0)
		return pv_error_set(PV_ENOTFOUND, "audit: the chain is empty; nothing to checkpoint");
	if ((rc = write_checkpoint(a, a->head_seq, a->head_hash)) != 0)
		return rc;
	if (out_seq)
		*out_seq = a->head_seq;
	return 0;
}

/* ---- verification ------------------------------------------------------- */

typedef struct {
	pv_store_checkpoint c;
	int seen;                            /* the walk reached an entry at c.seq */
	uint8_t entry_hash[PV_AUDIT_HASH_LEN];
} ckpt_slot;

typedef struct {
	ckpt_slot *cps;
	size_t ncps, cap;
	size_t next_cp;                      /* cursor into cps (sorted by seq) during the walk */
	int64_t expected;                    /* seq the next entry must have */
	int64_t last_seq;                    /* highest seq walked */
	uint8_t prev[PV_AUDIT_HASH_LEN];     /* hash of the previous entry */
	int64_t entries;
	int64_t bad_seq;                     /* first problem found, 0 if none */
	char reason[160];
} verify_state;

/* Record a problem at `seq` if it is earlier than any found so far. */
static void flag(verify_state *st, int64_t seq, const char *reason)
{
	if (st->bad_seq == 0 || seq < st->bad_seq) {
		st->bad_seq = seq;
		snprintf(st->reason, sizeof(st->reason), "%s", reason);
	}
}

static int collect_checkpoint(const pv_store_checkpoint *c, void *payload)
{
	verify_state *st = payload;

	if (st->ncps == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 16;
		ckpt_slot *p = realloc(st->cps, cap * sizeof(*p));
		if (!p)
			return pv_error_set(PV_ENOMEM, "audit verify: out of memory");
		st->cps = p;
		st->cap = cap;
	}
	memset(&st->cps[st->ncps], 0, sizeof(st->cps[0]));
	st->cps[st->ncps++].c = *c;
	return 0;
}

static int cmp_slot(const void *x, const void *y)
{
	int64_t a = ((const ckpt_slot *)x)->c.seq, b = ((const ckpt_slot *)y)->c.seq;
	return (a > b) - (a < b);
}

/*
 * One entry of the walk. After a problem the walk resynchronizes on the
 * entry it got, so only the first problem is reported but every entry is
 * counted and every checkpoint's entry hash is still collected.
 */
static int verify_entry(const pv_audit_entry *e, void *payload)
{
	verify_state *st = payload;
	uint8_t h[PV_AUDIT_HASH_LEN];

	st->entries++;
	if (e->seq != st->expected) {
		flag(st, st->expected, e->seq > st->expected ? "missing entry" : "out of order");
	} else if (sodium_memcmp(e->prev_hash, st->prev, PV_AUDIT_HASH_LEN) != 0) {
		flag(st, e->seq, "broken link");
	} else {
		pv_audit_entry_hash(e, h);
		if (sodium_memcmp(h, e->hash, PV_AUDIT_HASH_LEN) != 0)
			flag(st, e->seq, "hash mismatch");
	}
	while (st->next_cp < st->ncps && st->cps[st->next_cp].c.seq < e->seq)
		st->next_cp++;
	for (size_t i = st->next_cp; i < st->ncps && st->cps[i].c.seq == e->seq; i++) {
		st->cps[i].seen = 1;
		memcpy(st->cps[i].entry_hash, e->hash, PV_AUDIT_HASH_LEN);
	}
	if (e->seq > st->last_seq)
		st->last_seq = e->seq;
	st->expected = e->seq + 1;
	memcpy(st->prev, e->hash, PV_AUDIT_HASH_LEN);
	return 0;
}

int pv_audit_verify_store(pv_store *s, const uint8_t *pk, pv_audit_report *out)
{
	verify_state st;
	char why[160];
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	st.expected = 1;
	rc = pv_store_checkpoint_each(s, collect_checkpoint, &st);
	if (rc != 0) {
		rc = pv_error_wrap(rc, "audit verify: reading checkpoints");
		goto done;
	}
	if (st.ncps > 1)
		qsort(st.cps, st.ncps, sizeof(*st.cps), cmp_slot);
	rc = pv_store_audit_each(s, 1, 0, verify_entry, &st);
	if (rc != 0) {
		rc = pv_error_wrap(rc, "audit verify: reading the chain");
		goto done;
	}
	for (size_t i = 0; i < st.ncps; i++) {
		const pv_store_checkpoint *c = &st.cps[i].c;
		uint8_t msg[CHECKPOINT_MSG_LEN];

		out->checkpoints++;
		if (c->seq < 1) {
			flag(&st, 1, "checkpoint with an invalid seq");
			continue;
		}
		checkpoint_msg(msg, c->seq, c->hash);
		if (pk && sodium_memcmp(pk, c->public_key, PV_PUBKEY_LEN) != 0) {
			flag(&st, c->seq, "checkpoint signed by another key");
			continue;
		}
		if (crypto_sign_verify_detached(c->signature, msg, sizeof(msg), pk ? pk : c->public_key) != 0) {
			flag(&st, c->seq, "checkpoint signature invalid");
			continue;
		}
		if (c->seq > st.last_seq) {
			snprintf(why, sizeof(why), "entries missing after seq %lld (checkpoint at seq %lld)",
				 (long long)st.last_seq, (long long)c->seq);
			flag(&st, st.last_seq + 1, why);
			continue;
		}
		if (!st.cps[i].seen) {
			flag(&st, c->seq, "missing entry");   /* checkpoint inside a gap */
			continue;
		}
		if (sodium_memcmp(st.cps[i].entry_hash, c->hash, PV_AUDIT_HASH_LEN) != 0)
			flag(&st, c->seq, "checkpoint does not match the chain");
	}
	out->entries = st.entries;
	out->first_bad_seq = st.bad_seq;
	out->ok = st.bad_seq == 0;
	if (st.bad_seq) {
		snprintf(out->reason, sizeof(out->reason), "%s", st.reason);
		rc = pv_error_set(PV_ETAMPER, "audit: chain fails verification at seq %lld: %s",
				  (long long)st.bad_seq, st.reason);
	}
done:
	if (rc != 0 && rc != PV_ETAMPER) {
		out->ok = 0;
		snprintf(out->reason, sizeof(out->reason), "could not read the chain");
	}
	free(st.cps);
	return rc;
}
