/*
 * Key-independent crypto: library start-up, guarded memory, record sealing
 * with a subject's data key, identifier normalization and signature checks.
 * Operations that need the keyring's keys are in keyring.c.
 */
#include "crypto/crypto.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

static atomic_int crypto_ready;

int pv_crypto_init(void)
{
	if (atomic_load_explicit(&crypto_ready, memory_order_acquire))
		return 0;
	if (sodium_init() < 0)
		return pv_error_set(PV_ERROR, "crypto: libsodium failed to initialize");
	atomic_store_explicit(&crypto_ready, 1, memory_order_release);
	return 0;
}

uint8_t *pv_secret_alloc(size_t len)
{
	if (pv_crypto_init() != 0)
		return NULL;
	return sodium_malloc(len ? len : 1);
}

void pv_secret_free(uint8_t *p)
{
	sodium_free(p);
}

void pv_dek_generate(uint8_t dek[PV_DEK_LEN])
{
	randombytes_buf(dek, PV_DEK_LEN);
}

/* ---- record sealing ----------------------------------------------------- */

#define REC_AD_PREFIX "pv-rec"   /* with its NUL: 7 bytes */
#define REC_AD_FIELD_MAX 255
#define REC_AD_MAX (sizeof(REC_AD_PREFIX) + 3 * (4 + REC_AD_FIELD_MAX))

static size_t put_field(uint8_t *p, const char *s, size_t len)
{
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memcpy(p + 4, s, len);
	return 4 + len;
}

/* AD for a record: "pv-rec\0" || len32 subject || subject || len32 record || record || len32 category || category. */
static int record_ad(uint8_t ad[REC_AD_MAX], size_t *adlen, const char *subject_id, const char *record_id,
		     const char *category)
{
	const char *names[3] = { "subject_id", "record_id", "category" };
	const char *vals[3] = { subject_id, record_id, category };
	size_t n = sizeof(REC_AD_PREFIX);

	memcpy(ad, REC_AD_PREFIX, sizeof(REC_AD_PREFIX));
	for (int i = 0; i < 3; i++) {
		size_t len = vals[i] ? strnlen(vals[i], REC_AD_FIELD_MAX + 1) : 0;
		if (!vals[i] || len > REC_AD_FIELD_MAX)
			return pv_error_set(PV_EINVAL, "%s: expected at most %d characters", names[i], REC_AD_FIELD_MAX);
		n += put_field(ad + n, vals[i], len);
	}
	*adlen = n;
	return 0;
}

int pv_seal(const uint8_t dek[PV_DEK_LEN], const char *subject_id, const char *record_id, const char *category,
	    const uint8_t *pt, size_t len, uint8_t nonce[PV_NONCE_LEN], uint8_t *ct)
{
	uint8_t ad[REC_AD_MAX];
	size_t adlen;
	int rc;

	if ((rc = record_ad(ad, &adlen, subject_id, record_id, category)) != 0)
		return rc;
	if (len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
		return pv_error_set(PV_ELIMIT, "record: plaintext too long");
	randombytes_buf(nonce, PV_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, pt, len, ad, adlen, NULL, nonce, dek);
	return 0;
}

int pv_open(const uint8_t dek[PV_DEK_LEN], const char *subject_id, const char *record_id, const char *category,
	    const uint8_t nonce[PV_NONCE_LEN], const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
	uint8_t ad[REC_AD_MAX];
	size_t adlen;
	int rc;

	if ((rc = record_ad(ad, &adlen, subject_id, record_id, category)) != 0)
		return rc;
	if (ct_len < PV_TAG_LEN)
		return pv_error_set(PV_ECRYPTO, "record %s: ciphertext shorter than its tag", record_id);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, ct_len, ad, adlen, nonce, dek) != 0) {
		if (ct_len > PV_TAG_LEN)
			sodium_memzero(pt, ct_len - PV_TAG_LEN);
		return pv_error_set(PV_ECRYPTO, "record %s: does not open (tampered, moved or wrong key)", record_id);
	}
	return 0;
}

/* ---- identifier normalization ------------------------------------------- */

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int norm_email(const char *s, size_t len, char *out, size_t size)
{
	size_t at = len, nat = 0;

	if (len + 1 > size)
		return pv_error_set(PV_ELIMIT, "identifier email: longer than %zu bytes", size - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c == 0x7f)
			return pv_error_set(PV_EINVAL, "identifier email: contains whitespace or a control character");
		if (c == '@') {
			at = i;
			nat++;
		}
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	if (nat != 1 || at == 0 || at == len - 1)
		return pv_error_set(PV_EINVAL, "identifier email: expected one '@' with text on both sides");
	out[len] = '\0';
	return 0;
}

static int norm_phone(const char *s, size_t len, char *out, size_t size)
{
	size_t ndigits = 0;

	if (len == 0 || s[0] != '+')
		return pv_error_set(PV_EINVAL, "identifier phone: expected E.164, '+' and the country code first");
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			if (ndigits == 15)
				return pv_error_set(PV_EINVAL, "identifier phone: more than 15 digits");
			if (ndigits + 3 > size)
				return pv_error_set(PV_ELIMIT, "identifier phone: output buffer too small");
			out[1 + ndigits++] = c;
		} else if (!(c == ' ' || c == '.' || c == '-' || c == '(' || c == ')')) {
			return pv_error_set(PV_EINVAL, "identifier phone: only digits, spaces, '.', '-', '(' and ')' allowed after '+'");
		}
	}
	if (ndigits < 8)
		return pv_error_set(PV_EINVAL, "identifier phone: expected 8 to 15 digits");
	if (out[1] == '0')
		return pv_error_set(PV_EINVAL, "identifier phone: a country code never starts with 0");
	out[0] = '+';
	out[1 + ndigits] = '\0';
	return 0;
}

int pv_identifier_normalize(const char *kind, const char *value, char *out, size_t size)
{
	size_t len;

	if (!pv_id_valid(kind, PV_IDENT_KIND_MAX))
		return pv_error_set(PV_EINVAL, "identifier kind: expected ^[a-z][a-z0-9_]{0,31}$");
	if (!value)
		return pv_error_set(PV_EINVAL, "identifier %s: value missing", kind);
	len = strnlen(value, PV_IDENT_VALUE_MAX + 1);
	if (len > PV_IDENT_VALUE_MAX)
		return pv_error_set(PV_ELIMIT, "identifier %s: longer than %d bytes", kind, PV_IDENT_VALUE_MAX);
	while (len > 0 && is_ws((unsigned char)value[0])) {
		value++;
		len--;
	}
	while (len > 0 && is_ws((unsigned char)value[len - 1]))
		len--;
	if (len == 0)
		return pv_error_set(PV_EINVAL, "identifier %s: empty", kind);
	if (!out || size == 0)
		return pv_error_set(PV_ELIMIT, "identifier %s: no room for the normalized value", kind);
	if (!strcmp(kind, "email"))
		return norm_email(value, len, out, size);
	if (!strcmp(kind, "phone"))
		return norm_phone(value, len, out, size);
	if (len + 1 > size)
		return pv_error_set(PV_ELIMIT, "identifier %s: longer than %zu bytes", kind, size - 1);
	memcpy(out, value, len);
	out[len] = '\0';
	return 0;
}

/* ---- signatures --------------------------------------------------------- */

int pv_sign_verify(const uint8_t pk[PV_PUBKEY_LEN], const uint8_t *msg, size_t len, const uint8_t sig[PV_SIG_LEN])
{
	if (crypto_sign_verify_detached(sig, msg, len, pk) != 0)
		return pv_error_set(PV_ECRYPTO, "signature: does not verify");
	return 0;
}
