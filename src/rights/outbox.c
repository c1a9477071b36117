/*
 * The outbox: messages queued in the store with the change that caused them,
 * sealed at rest, delivered with retries by pv_outbox_deliver (outbox.h).
 * The senders (file, command, webhook) are in notify.c.
 */
#include "rights/internal.h"

#include "core/error.h"
#include "core/util.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int pv_outbox_send(const pv_outbox_config *cfg, const char *id, const char *topic, pv_outbox_channel channel,
		   const char *recipient_secret_hex, const char *dest, const char *mail_subject,
		   const char *body, size_t len, pv_time now, char errclass[32]);

const char *pv_outbox_channel_name(pv_outbox_channel c)
{
	return c == PV_OUTBOX_EMAIL ? "email" : c == PV_OUTBOX_WEBHOOK ? "webhook" : "?";
}

const char *pv_outbox_status_name(pv_outbox_status s)
{
	switch (s) {
	case PV_OUTBOX_PENDING: return "pending";
	case PV_OUTBOX_DELIVERED: return "delivered";
	case PV_OUTBOX_FAILED: return "failed";
	}
	return "?";
}

int pv_fulfil_need_admin(const pv_caller *caller, const char *what)
{
	if (!caller || caller->role != PV_ROLE_ADMIN)
		return pv_error_set(PV_EDENIED, "%s: an admin caller is required", what);
	return 0;
}

/*
 * A 32-byte key derived from the vault's key file for `label` and `ctx`:
 * BLAKE2b-256 of the (deterministic) Ed25519 signature of
 * "privault-derive/v1" NUL label NUL ctx. The sign key signs nothing else of
 * this form (audit checkpoints and journal lines have their own formats), so
 * the signature is a secret only the key file yields. `out` should be guarded.
 */
static int derive(pv_vault *v, const char *label, const char *ctx, uint8_t out[32])
{
	uint8_t msg[256], sig[PV_SIG_LEN];
	size_t ll = strlen(label), cl = strlen(ctx);
	int rc;

	if (19 + ll + 1 + cl > sizeof(msg))
		return pv_error_set(PV_ELIMIT, "derive: context too long");
	memcpy(msg, "privault-derive/v1", 19);   /* with its NUL */
	memcpy(msg + 19, label, ll + 1);
	memcpy(msg + 19 + ll + 1, ctx, cl);
	if ((rc = pv_sign(pv_vault_keyring(v), msg, 19 + ll + 1 + cl, sig)) < 0)
		return rc;
	crypto_generichash(out, 32, sig, sizeof(sig), NULL, 0);
	sodium_memzero(sig, sizeof(sig));
	return 0;
}

/* The outbox sealing key into guarded `key` (PV_DEK_LEN bytes). */
static int outbox_key(pv_vault *v, uint8_t *key)
{
	return derive(v, "outbox-seal", "", key);
}

int pv_outbox_webhook_secret(pv_vault *v, const pv_caller *caller, const char *recipient_id,
			     uint8_t out[PV_OUTBOX_SECRET_LEN])
{
	int rc;

	if (!v || !out)
		return pv_error_set(PV_EINVAL, "secret: expected a vault and an output");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_fulfil_need_admin(caller, "outbox secret")) < 0)
		return rc;
	if (!recipient_id || !pv_id_valid(recipient_id, PV_ID_MAX_LEN))
		return pv_error_set(PV_EINVAL, "recipient: expected a recipient id");
	if ((rc = derive(v, "webhook-secret", recipient_id, out)) < 0)
		return rc;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_audit_append(pv_vault_audit(v), caller->name, "outbox.secret", NULL, NULL, NULL, recipient_id);
	return pv_vault_tx_end(v, rc);
}

int pv_outbox_sign(char *out, size_t size, const uint8_t secret[PV_OUTBOX_SECRET_LEN], pv_time t,
		   const char *body, size_t len)
{
	crypto_auth_hmacsha256_state st;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	char ts[32], hex[2 * sizeof(mac) + 1];
	int n;

	if (!out || !secret || (!body && len))
		return pv_error_set(PV_EINVAL, "sign: expected an output, a secret and a body");
	n = snprintf(ts, sizeof(ts), "%lld", (long long)t);
	crypto_auth_hmacsha256_init(&st, secret, PV_OUTBOX_SECRET_LEN);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)ts, (size_t)n);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)".", 1);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	pv_hex_encode(hex, mac, sizeof(mac));
	if ((size_t)snprintf(out, size, "t=%s,v1=%s", ts, hex) >= size)
		return pv_error_set(PV_ELIMIT, "sign: output buffer too small");
	return 0;
}

int pv_outbox_verify(const char *header, const uint8_t secret[PV_OUTBOX_SECRET_LEN], const char *body,
		     size_t len, pv_time now, int64_t tolerance)
{
	char want[128], *end;
	const char *v1;
	long long t;
	int rc;

	if (!header || !secret || (!body && len))
		return pv_error_set(PV_EINVAL, "signature: expected a header, a secret and a body");
	if (strncmp(header, "t=", 2) != 0)
		return pv_error_set(PV_EINVAL, "signature: expected t=<unix time>,v1=<hex>");
	t = strtoll(header + 2, &end, 10);
	if (end == header + 2 || strncmp(end, ",v1=", 4) != 0)
		return pv_error_set(PV_EINVAL, "signature: expected t=<unix time>,v1=<hex>");
	v1 = end + 4;
	if (strlen(v1) != 2 * crypto_auth_hmacsha256_BYTES)
		return pv_error_set(PV_EINVAL, "signature: v1 must be 64 hex characters");
	if (tolerance <= 0)
		tolerance = 300;
	if (t > now + tolerance || t < now - tolerance)
		return pv_error_set(PV_EINVAL, "signature: timestamp outside the %lld s tolerance", (long long)tolerance);
	if ((rc = pv_outbox_sign(want, sizeof(want), secret, (pv_time)t, body, len)) < 0)
		return rc;
	if (sodium_memcmp(strchr(want, 'v') + 3, v1, 2 * crypto_auth_hmacsha256_BYTES) != 0)
		return pv_error_set(PV_ECRYPTO, "signature: does not match the body");
	return 0;
}

/* 1 when `s` is a topic: [a-z0-9_.]{1,64}. */
static int topic_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return 0;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= 64 || !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
			return 0;
	}
	return n > 0;
}

/* Check a message; PV_EINVAL naming the field. */
static int message_check(const pv_outbox_message *m)
{
	if (m->channel != PV_OUTBOX_EMAIL && m->channel != PV_OUTBOX_WEBHOOK)
		return pv_error_set(PV_EINVAL, "channel: expected email or webhook");
	if (!m->destination || !*m->destination || strlen(m->destination) > PV_OUTBOX_DEST_MAX)
		return pv_error_set(PV_EINVAL, "destination: expected 1..%d bytes", PV_OUTBOX_DEST_MAX);
	if (strpbrk(m->destination, "\r\n"))
		return pv_error_set(PV_EINVAL, "destination: line breaks are not allowed");
	if (m->channel == PV_OUTBOX_WEBHOOK && strncmp(m->destination, "https://", 8) != 0 &&
	    strncmp(m->destination, "http://", 7) != 0)
		return pv_error_set(PV_EINVAL, "destination: expected an http(s) URL for a webhook");
	if (m->channel == PV_OUTBOX_WEBHOOK && (!m->recipient || !pv_id_valid(m->recipient, PV_ID_MAX_LEN)))
		return pv_error_set(PV_EINVAL, "recipient: expected the policy recipient id of a webhook");
	if (m->recipient && !pv_id_valid(m->recipient, PV_ID_MAX_LEN))
		return pv_error_set(PV_EINVAL, "recipient: expected an id");
	if (!topic_valid(m->topic))
		return pv_error_set(PV_EINVAL, "topic: expected [a-z0-9_.]{1,64}");
	if (m->subject_id && !pv_uuid_valid(m->subject_id))
		return pv_error_set(PV_EINVAL, "subject_id: expected a UUID");
	if (m->mail_subject && (strlen(m->mail_subject) > 200 || strpbrk(m->mail_subject, "\r\n")))
		return pv_error_set(PV_EINVAL, "mail_subject: expected one line of at most 200 bytes");
	if (!m->body || m->len > PV_OUTBOX_BODY_MAX)
		return pv_error_set(PV_EINVAL, "body: expected 0..%d bytes", PV_OUTBOX_BODY_MAX);
	return 0;
}

/*
 * Queue a message: payload = destination NUL mail_subject NUL body, sealed
 * with the outbox key (AD: message id). Inside the caller's batch when open.
 */
int pv_outbox_enqueue(pv_vault *v, const pv_caller *caller, const pv_outbox_message *m, char out_id[PV_ID_LEN + 1])
{
	char id[PV_ID_LEN + 1];
	uint8_t nonce[PV_NONCE_LEN], *key = NULL, *pt = NULL, *ct = NULL;
	size_t dl, sl, len;
	pv_time now = pv_clock_now();
	int rc;

	if (!v || !m)
		return pv_error_set(PV_EINVAL, "outbox: expected a vault and a message");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_vault_caller_may_write(caller)) < 0)
		return rc;
	if ((rc = message_check(m)) < 0)
		return rc;
	dl = strlen(m->destination);
	sl = m->mail_subject ? strlen(m->mail_subject) : 0;
	len = dl + 1 + sl + 1 + m->len;
	key = pv_secret_alloc(PV_DEK_LEN);
	pt = pv_secret_alloc(len);
	ct = malloc(len + PV_TAG_LEN);
	if (!key || !pt || !ct) {
		rc = pv_error_set(PV_ENOMEM, "outbox: out of memory");
		goto fail;
	}
	memcpy(pt, m->destination, dl + 1);
	if (sl)
		memcpy(pt + dl + 1, m->mail_subject, sl);
	pt[dl + 1 + sl] = 0;
	memcpy(pt + dl + sl + 2, m->body, m->len);
	pv_uuid_new(id);
	if ((rc = outbox_key(v, key)) < 0 || (rc = pv_seal(key, "outbox", id, "outbox", pt, len, nonce, ct)) < 0)
		goto fail;
	if ((rc = pv_vault_tx_begin(v)) < 0)
		goto fail;
	{
		static const char sql[] =
			"INSERT INTO outbox (id, channel, topic, subject_id, recipient, status, attempts, created_at,"
			" next_attempt_at, delivered_at, last_error, nonce, payload)"
			" VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, NULL, NULL, ?, ?)";
		pv_store_value p[] = { pv_sv_text(id), pv_sv_int(m->channel), pv_sv_text(m->topic),
				       pv_sv_text(m->subject_id), pv_sv_text(m->recipient), pv_sv_int(now),
				       pv_sv_int(now), pv_sv_blob(nonce, sizeof(nonce)), pv_sv_blob(ct, len + PV_TAG_LEN) };
		rc = pv_store_exec(pv_vault_store(v), "outbox insert", sql, p, sizeof(p) / sizeof(p[0]), NULL);
	}
	if (rc == 0)
		rc = pv_audit_append(pv_vault_audit(v), caller->name, "outbox.enqueue",
				     pv_vault_audit_id(m->subject_id), NULL, NULL, m->topic);
	if ((rc = pv_vault_tx_end(v, rc)) == 0 && out_id)
		memcpy(out_id, id, sizeof(id));
fail:
	pv_secret_free(key);
	pv_secret_free(pt);
	free(ct);
	return rc;
}

/* One due message as read from the store. */
typedef struct {
	char id[PV_ID_LEN + 1];
	int channel;
	char topic[65];
	char subject_id[PV_ID_LEN + 1];
	char recipient[PV_ID_MAX_LEN + 1];
	int attempts;
	uint8_t nonce[PV_NONCE_LEN];
	uint8_t *ct;
	size_t ct_len;
} due_msg;

typedef struct {
	due_msg *v;
	size_t n, cap;
} due_list;

static int due_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	due_list *l = payload;
	due_msg *d;

	(void)cols;
	(void)n;
	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	d = &l->v[l->n];
	memset(d, 0, sizeof(*d));
	pv_sv_get_text(&vals[0], d->id, sizeof(d->id));
	d->channel = (int)pv_sv_get_int(&vals[1]);
	pv_sv_get_text(&vals[2], d->topic, sizeof(d->topic));
	pv_sv_get_text(&vals[3], d->subject_id, sizeof(d->subject_id));
	pv_sv_get_text(&vals[4], d->recipient, sizeof(d->recipient));
	d->attempts = (int)pv_sv_get_int(&vals[5]);
	if (vals[6].type == PV_STORE_BLOB && vals[6].len == PV_NONCE_LEN)
		memcpy(d->nonce, vals[6].p, PV_NONCE_LEN);
	if (vals[7].type == PV_STORE_BLOB && vals[7].len > PV_TAG_LEN) {
		d->ct = malloc(vals[7].len);
		if (!d->ct)
			return pv_error_set(PV_ENOMEM, "outbox: out of memory");
		memcpy(d->ct, vals[7].p, vals[7].len);
		d->ct_len = vals[7].len;
	}
	l->n++;
	return 0;
}

/* Record the outcome of one attempt: row update, delivery log, audit; one transaction. */
static int attempt_record(pv_vault *v, const pv_caller *caller, const due_msg *d, int status, pv_time now,
			  pv_time next, const char *errclass)
{
	static const char upd[] =
		"UPDATE outbox SET status = ?, attempts = ?, next_attempt_at = ?, delivered_at = ?, last_error = ?,"
		" nonce = CASE WHEN CAST(? AS BIGINT) = 0 THEN nonce ELSE NULL END, payload = CASE WHEN CAST(? AS BIGINT) = 0 THEN payload ELSE NULL END"
		" WHERE id = ?";
	static const char log[] = "INSERT INTO outbox_attempts (message_id, attempt, at, result) VALUES (?, ?, ?, ?)";
	char outcome[48];
	int rc;

	if (status == PV_OUTBOX_DELIVERED)
		snprintf(outcome, sizeof(outcome), "delivered");
	else
		snprintf(outcome, sizeof(outcome), "%s:%s", status == PV_OUTBOX_FAILED ? "failed" : "retry", errclass);
	{
		pv_store_value p[] = { pv_sv_int(status), pv_sv_int(d->attempts + 1), pv_sv_int(next),
				       status == PV_OUTBOX_DELIVERED ? pv_sv_int(now) : pv_sv_null(),
				       *errclass ? pv_sv_text(errclass) : pv_sv_null(), pv_sv_int(status),
				       pv_sv_int(status), pv_sv_text(d->id) };
		pv_store_value q[] = { pv_sv_text(d->id), pv_sv_int(d->attempts + 1), pv_sv_int(now), pv_sv_text(outcome) };
		if ((rc = pv_vault_tx_begin(v)) < 0)
			return rc;
		rc = pv_store_exec(pv_vault_store(v), "outbox update", upd, p, sizeof(p) / sizeof(p[0]), NULL);
		if (rc == 0)
			rc = pv_store_exec(pv_vault_store(v), "outbox_attempts insert", log, q, 4, NULL);
		if (rc == 0)
			rc = pv_audit_append(pv_vault_audit(v), caller->name, "outbox.deliver",
					     d->subject_id[0] ? d->subject_id : NULL, NULL, NULL, outcome);
		return pv_vault_tx_end(v, rc);
	}
}

/* Open d's payload and hand it to its sender; errclass "" on success. */
static void attempt_send(pv_vault *v, const pv_outbox_config *cfg, const due_msg *d, pv_time now, char errclass[32])
{
	uint8_t *key = NULL, *pt = NULL;
	char secret_hex[2 * PV_OUTBOX_SECRET_LEN + 1];
	uint8_t secret[PV_OUTBOX_SECRET_LEN];
	size_t len, dl, sl;

	errclass[0] = 0;
	if (!d->ct) {
		snprintf(errclass, 32, "crypto");
		return;
	}
	len = d->ct_len - PV_TAG_LEN;
	key = pv_secret_alloc(PV_DEK_LEN);
	pt = pv_secret_alloc(len + 1);
	if (!key || !pt || outbox_key(v, key) < 0 ||
	    pv_open(key, "outbox", d->id, "outbox", d->nonce, d->ct, d->ct_len, pt) < 0) {
		snprintf(errclass, 32, "crypto");
		goto done;
	}
	pt[len] = 0;
	dl = strnlen((char *)pt, len);
	sl = dl < len ? strnlen((char *)pt + dl + 1, len - dl - 1) : 0;
	if (dl + sl + 2 > len) {
		snprintf(errclass, 32, "crypto");
		goto done;
	}
	secret_hex[0] = 0;
	if (d->channel == PV_OUTBOX_WEBHOOK) {
		if (derive(v, "webhook-secret", d->recipient, secret) < 0) {
			snprintf(errclass, 32, "crypto");
			goto done;
		}
		pv_hex_encode(secret_hex, secret, sizeof(secret));
		sodium_memzero(secret, sizeof(secret));
	}
	pv_outbox_send(cfg, d->id, d->topic, (pv_outbox_channel)d->channel, secret_hex, (char *)pt,
		       sl ? (char *)pt + dl + 1 : NULL, (char *)pt + dl + sl + 2, len - dl - sl - 2, now, errclass);
	sodium_memzero(secret_hex, sizeof(secret_hex));
done:
	pv_secret_free(key);
	pv_secret_free(pt);
}

/*
 * Deliver due messages (outbox.h). Reads the due list first, then makes one
 * attempt per message, each committed with its delivery-log row and audit.
 */
int pv_outbox_deliver(pv_vault *v, const pv_caller *caller, pv_time now, size_t limit,
		      const pv_outbox_config *cfg, pv_outbox_report *out)
{
	static const char sql[] =
		"SELECT id, channel, topic, subject_id, recipient, attempts, nonce, payload FROM outbox"
		" WHERE status = 0 AND next_attempt_at <= ? ORDER BY next_attempt_at, created_at, id LIMIT ?";
	pv_outbox_config c = { 0 };
	pv_outbox_report r = { 0 };
	due_list l = { 0 };
	int rc;

	if (!v)
		return pv_error_set(PV_EINVAL, "deliver: expected a vault");
	if ((rc = pv_vault_caller_check(caller)) < 0 || (rc = pv_fulfil_need_admin(caller, "outbox deliver")) < 0)
		return rc;
	if (cfg)
		c = *cfg;
	if (!c.mail)
		c.mail = getenv("PRIVAULT_OUTBOX_MAIL");
	if (!c.webhook_cainfo)
		c.webhook_cainfo = getenv("PRIVAULT_WEBHOOK_CAINFO");
	if (c.max_attempts <= 0)
		c.max_attempts = 8;
	if (c.backoff_base <= 0)
		c.backoff_base = 60;
	if (c.backoff_max <= 0)
		c.backoff_max = 6 * 3600;
	if (c.timeout_ms <= 0)
		c.timeout_ms = 10000;
	if (now == 0)
		now = pv_clock_now();
	if (limit == 0)
		limit = 100;
	{
		pv_store_value p[] = { pv_sv_int(now), pv_sv_int((int64_t)limit) };
		if ((rc = pv_store_query(pv_vault_store(v), "outbox due", sql, p, 2, due_cb, &l)) < 0)
			goto done;
	}
	for (size_t i = 0; i < l.n; i++) {
		due_msg *d = &l.v[i];
		char errclass[32];
		int status;
		pv_time next = now;

		if (d->channel == PV_OUTBOX_EMAIL && (!c.mail || !*c.mail)) {
			r.skipped++;
			continue;
		}
		r.attempted++;
		attempt_send(v, &c, d, now, errclass);
		if (!errclass[0]) {
			status = PV_OUTBOX_DELIVERED;
			r.delivered++;
		} else if (d->attempts + 1 >= c.max_attempts) {
			status = PV_OUTBOX_FAILED;
			r.failed++;
		} else {
			int64_t wait = c.backoff_base;
			for (int k = 0; k < d->attempts && wait < c.backoff_max; k++)
				wait *= 2;
			next = now + (wait < c.backoff_max ? wait : c.backoff_max);
			status = PV_OUTBOX_PENDING;
			r.retrying++;
		}
		if ((rc = attempt_record(v, caller, d, status, now, next, errclass)) < 0)
			goto done;
	}
	rc = 0;
done:
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i].ct);
	free(l.v);
	if (out)
		*out = r;
	return rc;
}

typedef struct {
	pv_outbox_entry *v;
	size_t n, cap;
} entry_list;

static int entry_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	entry_list *l = payload;
	pv_outbox_entry *e;

	(void)cols;
	(void)n;
	if (pv_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)) < 0)
		return PV_ENOMEM;
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	pv_sv_get_text(&vals[0], e->id, sizeof(e->id));
	e->channel = (pv_outbox_channel)pv_sv_get_int(&vals[1]);
	pv_sv_get_text(&vals[2], e->topic, sizeof(e->topic));
	pv_sv_get_text(&vals[3], e->subject_id, sizeof(e->subject_id));
	pv_sv_get_text(&vals[4], e->recipient, sizeof(e->recipient));
	e->status = (pv_outbox_status)pv_sv_get_int(&vals[5]);
	e->attempts = (int)pv_sv_get_int(&vals[6]);
	e->created_at = pv_sv_get_int(&vals[7]);
	e->next_attempt_at = pv_sv_get_int(&vals[8]);
	e->delivered_at = pv_sv_get_int(&vals[9]);
	pv_sv_get_text(&vals[10], e->last_error, sizeof(e->last_error));
	return 0;
}

int pv_outbox_list(pv_vault *v, const pv_caller *caller, int status, size_t limit,
		   pv_outbox_entry **out, size_t *count)
{
	static const char sql[] =
		"SELECT id, channel, topic, subject_id, recipient, status, attempts, created_at, next_attempt_at,"
		" delivered_at, last_error FROM outbox WHERE (CAST(? AS BIGINT) < 0 OR status = ?)"
		" ORDER BY created_at DESC, id DESC LIMIT ?";
	entry_list l = { 0 };
	int rc;

	if (!v || !out || !count)
		return pv_error_set(PV_EINVAL, "outbox list: expected a vault and outputs");
	*out = NULL;
	*count = 0;
	if ((rc = pv_vault_caller_check(caller)) < 0)
		return rc;
	{
		pv_store_value p[] = { pv_sv_int(status), pv_sv_int(status), pv_sv_int(limit ? (int64_t)limit : 1000) };
		rc = pv_store_query(pv_vault_store(v), "outbox list", sql, p, 3, entry_cb, &l);
	}
	if (rc < 0) {
		free(l.v);
		return rc;
	}
	*out = l.v;
	*count = l.n;
	return 0;
}
