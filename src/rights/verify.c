/*
 * Identity verification of data-subject requests (issue 6, requests part):
 * one-time codes of PV_REQUEST_CODE_LEN digits drawn with randombytes_uniform,
 * stored only as a keyed hash (the vault's index key, bound to the request id),
 * compared in constant time, valid PV_REQUEST_CODE_TTL seconds and
 * PV_REQUEST_CODE_ATTEMPTS wrong entries; delivered through the outbox (email
 * to the identifier given at intake). Levels: rights.h.
 */
#include "rights/requests_internal.h"

#include <sodium.h>
#include <string.h>

#include "core/error.h"

/* Keyed hash of a code, bound to the request id. */
static int code_hash(pv_vault *v, const char *request_id, const char *code, uint8_t out[32])
{
	char buf[PV_ID_LEN + PV_REQUEST_CODE_LEN + 2];
	int rc;

	snprintf(buf, sizeof(buf), "%s:%s", request_id, code);
	rc = pv_blind_index(pv_vault_keyring(v), "request_code", buf, out);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/*
 * Draw a code for row (hash, expiry, attempts reset) and queue it to `value`
 * through the outbox, inside the caller's pv_vault_begin() batch. The code and
 * the message body are wiped; the audit gets "request.code_sent".
 */
int pv_rq_code_issue(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *value)
{
	char code[PV_REQUEST_CODE_LEN + 1], body[512];
	int rc;

	snprintf(code, sizeof(code), "%08u", (unsigned)randombytes_uniform(100000000u));
	if ((rc = code_hash(v, row->r.id, code, row->code_hash)) < 0)
		goto out;
	row->has_code = 1;
	row->code_expires = pv_clock_now() + PV_REQUEST_CODE_TTL;
	row->code_attempts = 0;
	snprintf(body, sizeof(body),
		 "Your verification code for privacy request %s is: %s\n"
		 "It is valid for %d minutes. If you did not make this request, ignore this message.\n",
		 row->r.id, code, PV_REQUEST_CODE_TTL / 60);
	rc = pv_rq_mail(v, caller, row, value, "verification_code", "Your privacy request: verification code", body);
	if (rc == 0)
		rc = pv_rq_event(v, caller, row, "code_sent", "");
out:
	sodium_memzero(code, sizeof(code));
	sodium_memzero(body, sizeof(body));
	return rc;
}

int pv_request_code_send(pv_vault *v, const pv_caller *caller, const char *id, const char *kind, const char *value)
{
	pv_rq_row row;
	int rc, own;

	if (!v || (rc = pv_rq_caller(caller, 1, "code")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "code: expected a vault");
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (row.r.state != PV_REQ_VERIFYING)
		return pv_error_set(PV_EINVAL, "state: request %s is %s, expected verifying", id,
				    pv_request_state_name(row.r.state));
	if (!kind || strcmp(kind, "email") != 0)
		return pv_error_set(PV_EINVAL, "id_kind: expected email");
	if ((rc = pv_rq_intake_matches(v, &row, kind, value)) < 0)
		return rc;
	if (rc == 0)
		return pv_error_set(PV_EDENIED, "id_value: not the identifier given at intake of request %s", id);
	if ((rc = pv_rq_batch_begin(v, &own)) < 0)
		return rc;
	rc = pv_rq_code_issue(v, caller, &row, value);
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	return pv_rq_batch_end(v, own, rc);
}

/* Save the row's attempt count / level and audit the outcome, then return `result`. */
static int save(pv_vault *v, const pv_caller *caller, pv_rq_row *row, const char *event, const char *reason,
		int result, const char *msg)
{
	int rc;

	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_rq_event(v, caller, row, event, reason);
	if (rc == 0)
		rc = pv_rq_update(v, row);
	if ((rc = pv_vault_tx_end(v, rc)) < 0)
		return rc;
	return result < 0 ? pv_error_set(result, "%s", msg) : 0;
}

/*
 * Check `code` for request `id` (rights.h). Order: state, code present, not
 * exhausted, not expired, constant-time compare (a wrong code counts an
 * attempt, saved with its audit entry "request.code_failed"). Then the level:
 * basic; standard when (kind2, value2) finds the request's subject; the
 * request becomes verified when the needed level is reached (strong waits for
 * pv_request_confirm).
 */
int pv_request_verify(pv_vault *v, const pv_caller *caller, const char *id, const char *code,
		      const char *kind2, const char *value2)
{
	pv_rq_row row;
	uint8_t h[32];
	char found[PV_ID_LEN + 1];
	char msg[160];
	int rc;

	if (!v || (rc = pv_rq_caller(caller, 1, "verify")) < 0)
		return v ? rc : pv_error_set(PV_EINVAL, "verify: expected a vault");
	if (!code || strlen(code) != PV_REQUEST_CODE_LEN || strspn(code, "0123456789") != PV_REQUEST_CODE_LEN)
		return pv_error_set(PV_EINVAL, "code: expected %d digits", PV_REQUEST_CODE_LEN);
	if ((rc = pv_rq_load(v, id, &row)) < 0)
		return rc;
	pv_request_clear(&row.r);
	if (row.r.state != PV_REQ_VERIFYING)
		return pv_error_set(PV_EINVAL, "state: request %s is %s, expected verifying", id,
				    pv_request_state_name(row.r.state));
	if (!row.has_code)
		return pv_error_set(PV_EDENIED, "code: request %s needs a new code", id);
	if (row.code_attempts >= PV_REQUEST_CODE_ATTEMPTS)
		return pv_error_set(PV_EDENIED, "code: too many wrong attempts for request %s; send a new code", id);
	if (pv_clock_now() > row.code_expires)
		return pv_error_set(PV_EDENIED, "code: expired for request %s; send a new code", id);
	if ((rc = code_hash(v, row.r.id, code, h)) < 0)
		return rc;
	if (sodium_memcmp(h, row.code_hash, 32) != 0) {
		row.code_attempts++;
		snprintf(msg, sizeof(msg), "code: wrong for request %s (%d of %d attempts used)", id,
			 (int)row.code_attempts, PV_REQUEST_CODE_ATTEMPTS);
		return save(v, caller, &row, "code_failed", "wrong_code", PV_EDENIED, msg);
	}
	if (row.r.reached < PV_VERIFY_BASIC)
		row.r.reached = PV_VERIFY_BASIC;
	if (kind2 && value2 && row.r.subject_id[0]) {
		rc = pv_subject_find(v, caller, kind2, value2, found);
		if (rc == 0 && strcmp(found, row.r.subject_id) == 0 && strcmp(kind2, row.id_kind) != 0)
			row.r.reached = PV_VERIFY_STANDARD;
		else if (rc < 0 && rc != PV_ENOTFOUND)
			return rc;
	}
	if (row.r.needed >= PV_VERIFY_STANDARD && row.r.reached < PV_VERIFY_STANDARD) {
		row.code_attempts++;
		snprintf(msg, sizeof(msg), "verification: request %s needs a second identifier of the same person "
			 "(id_kind2, id_value2) with the code", id);
		return save(v, caller, &row, "code_failed", "second_identifier_mismatch", PV_EDENIED, msg);
	}
	/* right code and level: the code is used up */
	row.has_code = 0;
	row.code_expires = 0;
	if (row.r.needed > row.r.reached)   /* strong: an admin confirms next */
		return save(v, caller, &row, "code_verified", "awaiting_confirmation", 0, "");
	if ((rc = pv_vault_tx_begin(v)) < 0)
		return rc;
	rc = pv_rq_move(v, caller, &row, PV_REQ_VERIFIED, "code_verified");
	if (rc == 0)
		rc = pv_rq_on_verified(v, caller, &row);
	if (rc == 0)
		rc = pv_rq_update(v, &row);
	return pv_vault_tx_end(v, rc);
}
