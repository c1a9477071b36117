/*
 * The keyring: key file parsing and writing, the PRIVAULT_KEYS variable, and
 * every operation that needs a key held by the keyring (data key wrapping,
 * blind indexes, checkpoint signatures).
 *
 * All key bytes, and the text of key files while it is parsed or written,
 * live in sodium_malloc() memory. After loading, the key block is made
 * read-only (sodium_mprotect_readonly); add_version builds a new block and
 * swaps it in only once the new file is safely on disk.
 */
#include "crypto/crypto.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEYS_ENV "PRIVAULT_KEYS"
#define HEX_KEY_LEN (2 * PV_KEY_LEN)

/* Layout of the guarded block: index key, sign seed, sign secret key, then one KEK per version. */
#define OFF_INDEX 0
#define OFF_SEED (OFF_INDEX + PV_KEY_LEN)
#define OFF_SK (OFF_SEED + PV_KEY_LEN)
#define OFF_KEKS (OFF_SK + crypto_sign_SECRETKEYBYTES)
#define BLOCK_LEN(n) (OFF_KEKS + (size_t)(n) * PV_KEY_LEN)

struct pv_keyring {
	uint8_t *block;          /* sodium_malloc, read-only once loaded */
	uint32_t *versions;      /* versions[i] is the KEK at block + OFF_KEKS + i * PV_KEY_LEN */
	size_t nversions;
	uint32_t current;        /* highest version */
	uint8_t pk[PV_PUBKEY_LEN];
	int from_env;
};

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t *kek_of(const pv_keyring *k, uint32_t version)
{
	for (size_t i = 0; i < k->nversions; i++)
		if (k->versions[i] == version)
			return k->block + OFF_KEKS + i * PV_KEY_LEN;
	return NULL;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Decode exactly 64 hex characters into 32 bytes, in constant time. 0 or -1. */
static int decode_key(uint8_t out[PV_KEY_LEN], const char *hex, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	if (len != HEX_KEY_LEN)
		return -1;
	if (sodium_hex2bin(out, PV_KEY_LEN, hex, len, NULL, &got, &end) != 0 || got != PV_KEY_LEN ||
	    end != hex + len)
		return -1;
	return 0;
}

/* Fsync the directory holding `path`, so a create or rename survives a crash. */
static int fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		if ((size_t)(slash - path) >= sizeof(dir))
			return pv_error_set(PV_EIO, "key file: path too long");
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return pv_error_set(PV_EIO, "key file: cannot open its directory: %s", strerror(errno));
	if (fsync(fd) != 0)
		rc = pv_error_set(PV_EIO, "key file: fsync of its directory failed: %s", strerror(errno));
	close(fd);
	return rc;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Format the key file text for the keys in `block` (nversions KEKs with
 * `versions`) into guarded memory. Returns the text (free with sodium_free)
 * and its length in *len, or NULL.
 */
static char *format_keys(const uint8_t *block, const uint32_t *versions, size_t nversions, size_t *len)
{
	static const char header[] =
		"# privault key file: keep it at mode 0600, never copy it into the database or a backup of it\n";
	size_t cap = sizeof(header) + (nversions + 2) * (16 + HEX_KEY_LEN + 2), n;
	char *text = sodium_malloc(cap), hex[HEX_KEY_LEN + 1];

	if (!text)
		return NULL;
	n = (size_t)snprintf(text, cap, "%s", header);
	for (size_t i = 0; i < nversions; i++) {
		sodium_bin2hex(hex, sizeof(hex), block + OFF_KEKS + i * PV_KEY_LEN, PV_KEY_LEN);
		n += (size_t)snprintf(text + n, cap - n, "kek %u %s\n", versions[i], hex);
	}
	sodium_bin2hex(hex, sizeof(hex), block + OFF_INDEX, PV_KEY_LEN);
	n += (size_t)snprintf(text + n, cap - n, "index %s\n", hex);
	sodium_bin2hex(hex, sizeof(hex), block + OFF_SEED, PV_KEY_LEN);
	n += (size_t)snprintf(text + n, cap - n, "sign %s\n", hex);
	sodium_memzero(hex, sizeof(hex));
	*len = n;
	return text;
}

/* Write `text` to an already opened fd with mode 0600, fsync and close it. */
static int write_key_fd(int fd, const char *text, size_t len, const char *what)
{
	int rc = 0;

	if (fchmod(fd, 0600) != 0)
		rc = pv_error_set(PV_EIO, "%s: chmod 0600 failed: %s", what, strerror(errno));
	else if (write_all(fd, text, len) != 0)
		rc = pv_error_set(PV_EIO, "%s: write failed: %s", what, strerror(errno));
	else if (fsync(fd) != 0)
		rc = pv_error_set(PV_EIO, "%s: fsync failed: %s", what, strerror(errno));
	if (close(fd) != 0 && rc == 0)
		rc = pv_error_set(PV_EIO, "%s: close failed: %s", what, strerror(errno));
	return rc;
}

/* ---- parsing ------------------------------------------------------------ */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Split `line` (not NUL-terminated, `len` bytes) into at most 4 whitespace-separated tokens. */
static size_t tokenize(const char *line, size_t len, const char *tok[4], size_t toklen[4])
{
	size_t n = 0, i = 0;

	while (i < len) {
		while (i < len && is_space(line[i]))
			i++;
		if (i >= len)
			break;
		if (n == 4)
			return 5;   /* too many */
		tok[n] = line + i;
		while (i < len && !is_space(line[i]))
			i++;
		toklen[n] = (size_t)(line + i - tok[n]);
		n++;
	}
	return n;
}

static int tok_is(const char *tok, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(tok, word, len) == 0;
}

/* Parse a decimal version 1..UINT32_MAX without sign or leading zeros. 0 on error. */
static uint32_t parse_version(const char *tok, size_t len)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || tok[0] == '0')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(tok[i] - '0');
	}
	return v > UINT32_MAX ? 0 : (uint32_t)v;
}

/*
 * Parse key text (`src` names the source in messages: the path or PRIVAULT_KEYS).
 * Lines end at '\n', and also at ';' when `semicolons`. Messages name the line
 * number, never its content. On success *out holds a new keyring.
 */
static int parse_keys(pv_keyring **out, const char *text, size_t len, int semicolons, const char *src)
{
	uint8_t *tmp = NULL;
	uint32_t *versions = NULL;
	size_t nversions = 0, lineno = 0, pos = 0;
	int have_index = 0, have_sign = 0, rc = 0;
	pv_keyring *k = NULL;

	tmp = sodium_malloc(BLOCK_LEN(PV_KEY_MAX_VERSIONS));
	versions = malloc(PV_KEY_MAX_VERSIONS * sizeof(*versions));
	if (!tmp || !versions) {
		rc = pv_error_set(PV_ENOMEM, "keyring: out of memory");
		goto fail;
	}
	while (pos < len) {
		const char *line = text + pos, *tok[4];
		size_t llen = 0, toklen[4], ntok;

		while (pos + llen < len && line[llen] != '\n' && !(semicolons && line[llen] == ';'))
			llen++;
		pos += llen + 1;
		lineno++;
		if (memchr(line, '\0', llen)) {
			rc = pv_error_set(PV_EKEY, "%s line %zu: NUL byte", src, lineno);
			goto fail;
		}
		ntok = tokenize(line, llen, tok, toklen);
		if (ntok == 0 || tok[0][0] == '#')
			continue;
		if (tok_is(tok[0], toklen[0], "kek")) {
			uint32_t v;
			if (ntok != 3) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: expected \"kek <version> <64 hex>\"", src, lineno);
				goto fail;
			}
			v = parse_version(tok[1], toklen[1]);
			if (v == 0) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: kek version must be a number 1..4294967295", src, lineno);
				goto fail;
			}
			for (size_t i = 0; i < nversions; i++) {
				if (versions[i] == v) {
					rc = pv_error_set(PV_EKEY, "%s line %zu: duplicate kek version %u", src, lineno, v);
					goto fail;
				}
			}
			if (nversions == PV_KEY_MAX_VERSIONS) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: more than %d kek versions", src, lineno,
						  PV_KEY_MAX_VERSIONS);
				goto fail;
			}
			if (decode_key(tmp + OFF_KEKS + nversions * PV_KEY_LEN, tok[2], toklen[2]) != 0) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: kek must be 64 hex characters", src, lineno);
				goto fail;
			}
			versions[nversions++] = v;
		} else if (tok_is(tok[0], toklen[0], "index") || tok_is(tok[0], toklen[0], "sign")) {
			int is_index = tok[0][0] == 'i';
			int *have = is_index ? &have_index : &have_sign;
			const char *name = is_index ? "index" : "sign";
			if (ntok != 2) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: expected \"%s <64 hex>\"", src, lineno, name);
				goto fail;
			}
			if (*have) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: duplicate %s key", src, lineno, name);
				goto fail;
			}
			if (decode_key(tmp + (is_index ? OFF_INDEX : OFF_SEED), tok[1], toklen[1]) != 0) {
				rc = pv_error_set(PV_EKEY, "%s line %zu: %s key must be 64 hex characters", src, lineno, name);
				goto fail;
			}
			*have = 1;
		} else {
			/* never echo the line: it may be a key pasted in the wrong place */
			rc = pv_error_set(PV_EKEY, "%s line %zu: unknown entry (expected kek, index, sign or a # comment)",
					  src, lineno);
			goto fail;
		}
	}
	if (nversions == 0 || !have_index || !have_sign) {
		rc = pv_error_set(PV_EKEY, "%s: missing %s", src,
				  nversions == 0 ? "a kek line" : !have_index ? "the index line" : "the sign line");
		goto fail;
	}

	k = calloc(1, sizeof(*k));
	if (!k || !(k->versions = malloc(nversions * sizeof(*versions))) ||
	    !(k->block = sodium_malloc(BLOCK_LEN(nversions)))) {
		rc = pv_error_set(PV_ENOMEM, "keyring: out of memory");
		goto fail;
	}
	memcpy(k->block, tmp, BLOCK_LEN(nversions));
	crypto_sign_seed_keypair(k->pk, k->block + OFF_SK, k->block + OFF_SEED);
	memcpy(k->versions, versions, nversions * sizeof(*versions));
	k->nversions = nversions;
	for (size_t i = 0; i < nversions; i++)
		if (versions[i] > k->current)
			k->current = versions[i];
	sodium_mprotect_readonly(k->block);
	*out = k;
	k = NULL;
fail:
	pv_keyring_free(k);
	sodium_free(tmp);
	free(versions);
	return rc;
}

/* ---- public functions --------------------------------------------------- */

int pv_keyring_create_file(const char *path)
{
	uint8_t *block;
	uint32_t version = 1;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	if (!path)
		return pv_error_set(PV_EINVAL, "key file: path missing");
	if (pv_crypto_init() != 0)
		return PV_ERROR;
	block = sodium_malloc(BLOCK_LEN(1));
	if (!block)
		return pv_error_set(PV_ENOMEM, "keyring: out of memory");
	randombytes_buf(block + OFF_INDEX, PV_KEY_LEN);
	randombytes_buf(block + OFF_SEED, PV_KEY_LEN);
	randombytes_buf(block + OFF_KEKS, PV_KEY_LEN);
	text = format_keys(block, &version, 1, &len);
	sodium_free(block);
	if (!text)
		return pv_error_set(PV_ENOMEM, "keyring: out of memory");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		rc = pv_error_set(errno == EEXIST ? PV_EEXISTS : PV_EIO, "key file %s: cannot create: %s", path,
				  strerror(errno));
		sodium_free(text);
		return rc;
	}
	rc = write_key_fd(fd, text, len, "key file");
	sodium_free(text);
	if (rc == 0)
		rc = fsync_parent(path);
	if (rc != 0)
		unlink(path);
	return rc;
}

/* Read the key file at `path` into guarded memory after checking its type, mode and size. */
static int read_key_file(const char *path, char **text, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return pv_error_set(PV_EKEY, "key file %s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0) {
		rc = pv_error_set(PV_EIO, "key file %s: stat failed: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = pv_error_set(PV_EKEY, "key file %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		rc = pv_error_set(PV_EKEY, "key file %s: mode %03o gives access to group or others; chmod 600 it",
				  path, (unsigned)(st.st_mode & 0777));
		goto out;
	}
	if (st.st_size > PV_KEYFILE_MAX_BYTES) {
		rc = pv_error_set(PV_EKEY, "key file %s: larger than %d bytes", path, PV_KEYFILE_MAX_BYTES);
		goto out;
	}
	buf = sodium_malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = pv_error_set(PV_ENOMEM, "keyring: out of memory");
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sodium_free(buf);
			rc = pv_error_set(PV_EIO, "key file %s: read failed", path);
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*text = buf;
	*len = got;
out:
	close(fd);
	return rc;
}

int pv_keyring_load(pv_keyring **out, const char *path)
{
	const char *env = getenv(KEYS_ENV);
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (pv_crypto_init() != 0)
		return PV_ERROR;
	if (env && *env) {
		len = strlen(env);
		if (len > PV_KEYFILE_MAX_BYTES)
			return pv_error_set(PV_EKEY, KEYS_ENV ": longer than %d bytes", PV_KEYFILE_MAX_BYTES);
		rc = parse_keys(out, env, len, 1, KEYS_ENV);
		if (rc == 0)
			(*out)->from_env = 1;
		return rc;
	}
	if (!path)
		return pv_error_set(PV_EKEY, "keyring: no key file and " KEYS_ENV " is not set");
	rc = read_key_file(path, &text, &len);
	if (rc != 0)
		return rc;
	rc = parse_keys(out, text, len, 0, path);
	sodium_free(text);
	return rc;
}

void pv_keyring_free(pv_keyring *k)
{
	if (!k)
		return;
	sodium_free(k->block);   /* makes the block writable, wipes and unmaps it */
	free(k->versions);
	sodium_memzero(k, sizeof(*k));
	free(k);
}

uint32_t pv_keyring_current_version(const pv_keyring *k)
{
	return k->current;
}

int pv_keyring_has_version(const pv_keyring *k, uint32_t version)
{
	return kek_of(k, version) != NULL;
}

/*
 * Add KEK version current+1: write the whole key set to a temporary file
 * (mode 0600) beside `path`, fsync it, rename it over `path` and fsync the
 * directory; only then does the keyring switch to the new key block.
 */
int pv_keyring_add_version(pv_keyring *k, const char *path, uint32_t *out_version)
{
	uint8_t *block = NULL;
	uint32_t *versions = NULL, v;
	char tmp_path[PATH_MAX], *text = NULL;
	size_t n, len = 0;
	int fd = -1, rc = 0;

	if (k->from_env)
		return pv_error_set(PV_EKEY, "keyring: keys come from " KEYS_ENV "; add the new kek line there yourself");
	if (!path)
		return pv_error_set(PV_EINVAL, "key file: path missing");
	if (k->current == UINT32_MAX || k->nversions >= PV_KEY_MAX_VERSIONS)
		return pv_error_set(PV_ELIMIT, "keyring: no more kek versions (limit %d)", PV_KEY_MAX_VERSIONS);
	if (snprintf(tmp_path, sizeof(tmp_path), "%s.tmpXXXXXX", path) >= (int)sizeof(tmp_path))
		return pv_error_set(PV_EINVAL, "key file: path too long");
	v = k->current + 1;
	n = k->nversions + 1;
	block = sodium_malloc(BLOCK_LEN(n));
	versions = malloc(n * sizeof(*versions));
	if (!block || !versions) {
		rc = pv_error_set(PV_ENOMEM, "keyring: out of memory");
		goto fail;
	}
	memcpy(block, k->block, BLOCK_LEN(k->nversions));
	randombytes_buf(block + OFF_KEKS + k->nversions * PV_KEY_LEN, PV_KEY_LEN);
	memcpy(versions, k->versions, k->nversions * sizeof(*versions));
	versions[n - 1] = v;
	text = format_keys(block, versions, n, &len);
	if (!text) {
		rc = pv_error_set(PV_ENOMEM, "keyring: out of memory");
		goto fail;
	}
	fd = mkostemp(tmp_path, O_CLOEXEC);   /* O_EXCL, mode 0600 */
	if (fd < 0) {
		rc = pv_error_set(PV_EIO, "key file: cannot create a temporary file beside it: %s", strerror(errno));
		goto fail;
	}
	rc = write_key_fd(fd, text, len, "key file (temporary)");
	if (rc != 0) {
		unlink(tmp_path);
		goto fail;
	}
	if (rename(tmp_path, path) != 0) {
		rc = pv_error_set(PV_EIO, "key file %s: rename failed: %s", path, strerror(errno));
		unlink(tmp_path);
		goto fail;
	}
	rc = fsync_parent(path);
	if (rc != 0)
		goto fail;   /* the new file is in place; the keyring keeps the old set */
	sodium_mprotect_readonly(block);
	sodium_free(k->block);
	free(k->versions);
	k->block = block;
	k->versions = versions;
	k->nversions = n;
	k->current = v;
	block = NULL;
	versions = NULL;
	if (out_version)
		*out_version = v;
fail:
	sodium_free(text);
	sodium_free(block);
	free(versions);
	return rc;
}

/* ---- operations with the keys ------------------------------------------- */

#define DEK_AD_PREFIX "pv-dek"   /* with its NUL: 7 bytes */
#define DEK_AD_MAX (sizeof(DEK_AD_PREFIX) + 255 + 4)

/* AD for a wrapped data key: "pv-dek\0" || subject id || version (4 bytes BE). */
static int dek_ad(uint8_t ad[DEK_AD_MAX], size_t *adlen, const char *subject_id, uint32_t version)
{
	size_t sl = subject_id ? strlen(subject_id) : 0;

	if (!subject_id || sl == 0 || sl > 255)
		return pv_error_set(PV_EINVAL, "subject_id: expected 1..255 characters");
	memcpy(ad, DEK_AD_PREFIX, sizeof(DEK_AD_PREFIX));
	memcpy(ad + sizeof(DEK_AD_PREFIX), subject_id, sl);
	put_be32(ad + sizeof(DEK_AD_PREFIX) + sl, version);
	*adlen = sizeof(DEK_AD_PREFIX) + sl + 4;
	return 0;
}

int pv_dek_wrap(const pv_keyring *k, uint32_t version, const char *subject_id,
		const uint8_t dek[PV_DEK_LEN], uint8_t out[PV_WRAPPED_DEK_LEN])
{
	const uint8_t *kek = kek_of(k, version);
	uint8_t ad[DEK_AD_MAX];
	size_t adlen;
	int rc;

	if (!kek)
		return pv_error_set(PV_ENOTFOUND, "keyring: no kek version %u", version);
	if ((rc = dek_ad(ad, &adlen, subject_id, version)) != 0)
		return rc;
	randombytes_buf(out, PV_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + PV_NONCE_LEN, NULL, dek, PV_DEK_LEN, ad, adlen, NULL, out, kek);
	return 0;
}

int pv_dek_unwrap(const pv_keyring *k, uint32_t version, const char *subject_id,
		  const uint8_t wrapped[PV_WRAPPED_DEK_LEN], uint8_t dek[PV_DEK_LEN])
{
	const uint8_t *kek = kek_of(k, version);
	uint8_t ad[DEK_AD_MAX];
	size_t adlen;
	int rc;

	if (!kek)
		return pv_error_set(PV_ENOTFOUND, "keyring: no kek version %u", version);
	if ((rc = dek_ad(ad, &adlen, subject_id, version)) != 0)
		return rc;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dek, NULL, NULL, wrapped + PV_NONCE_LEN,
						       PV_DEK_LEN + PV_TAG_LEN, ad, adlen, wrapped, kek) != 0) {
		sodium_memzero(dek, PV_DEK_LEN);
		return pv_error_set(PV_ECRYPTO, "subject %s: data key does not open with kek version %u",
				    subject_id, version);
	}
	return 0;
}

/* AD for a wrapped secret: "pv-secret\0" || label || version (4 bytes BE). */
#define SECRET_AD_PREFIX "pv-secret"
#define SECRET_AD_MAX (sizeof(SECRET_AD_PREFIX) + 64 + 4)

static int secret_ad(uint8_t ad[SECRET_AD_MAX], size_t *adlen, const char *label, uint32_t version)
{
	size_t ll = label ? strlen(label) : 0;

	if (ll == 0 || ll > 64)
		return pv_error_set(PV_EINVAL, "label: expected 1..64 characters");
	memcpy(ad, SECRET_AD_PREFIX, sizeof(SECRET_AD_PREFIX));
	memcpy(ad + sizeof(SECRET_AD_PREFIX), label, ll);
	put_be32(ad + sizeof(SECRET_AD_PREFIX) + ll, version);
	*adlen = sizeof(SECRET_AD_PREFIX) + ll + 4;
	return 0;
}

int pv_secret_wrap(const pv_keyring *k, uint32_t version, const char *label, const uint8_t *in, size_t len,
		   uint8_t *out)
{
	const uint8_t *kek = kek_of(k, version);
	uint8_t ad[SECRET_AD_MAX];
	size_t adlen;
	int rc;

	if (!kek)
		return pv_error_set(PV_ENOTFOUND, "keyring: no kek version %u", version);
	if ((rc = secret_ad(ad, &adlen, label, version)) != 0)
		return rc;
	randombytes_buf(out, PV_NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + PV_NONCE_LEN, NULL, in, len, ad, adlen, NULL, out, kek);
	return 0;
}

int pv_secret_unwrap(const pv_keyring *k, uint32_t version, const char *label, const uint8_t *in, size_t len,
		     uint8_t *out)
{
	const uint8_t *kek = kek_of(k, version);
	uint8_t ad[SECRET_AD_MAX];
	size_t adlen;
	int rc;

	if (!kek)
		return pv_error_set(PV_ENOTFOUND, "keyring: no kek version %u", version);
	if ((rc = secret_ad(ad, &adlen, label, version)) != 0)
		return rc;
	if (len < PV_NONCE_LEN + PV_TAG_LEN)
		return pv_error_set(PV_ECRYPTO, "%s: wrapped secret too short", label);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, in + PV_NONCE_LEN, len - PV_NONCE_LEN, ad,
						       adlen, in, kek) != 0) {
		sodium_memzero(out, len - PV_NONCE_LEN - PV_TAG_LEN);
		return pv_error_set(PV_ECRYPTO, "%s: does not open with kek version %u", label, version);
	}
	return 0;
}

int pv_blind_index(const pv_keyring *k, const char *kind, const char *normalized, uint8_t out[PV_BLIND_INDEX_LEN])
{
	crypto_generichash_state st;
	static const uint8_t sep = 0;

	if (!pv_id_valid(kind, PV_IDENT_KIND_MAX))
		return pv_error_set(PV_EINVAL, "identifier kind: expected ^[a-z][a-z0-9_]{0,31}$");
	if (!normalized)
		return pv_error_set(PV_EINVAL, "identifier %s: value missing", kind);
	crypto_generichash_init(&st, k->block + OFF_INDEX, PV_KEY_LEN, PV_BLIND_INDEX_LEN);
	crypto_generichash_update(&st, (const uint8_t *)kind, strlen(kind));
	crypto_generichash_update(&st, &sep, 1);
	crypto_generichash_update(&st, (const uint8_t *)normalized, strlen(normalized));
	crypto_generichash_final(&st, out, PV_BLIND_INDEX_LEN);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

int pv_sign(const pv_keyring *k, const uint8_t *msg, size_t len, uint8_t sig[PV_SIG_LEN])
{
	if (crypto_sign_detached(sig, NULL, msg, len, k->block + OFF_SK) != 0)
		return pv_error_set(PV_ECRYPTO, "sign: failed");
	return 0;
}

void pv_keyring_public_key(const pv_keyring *k, uint8_t pk[PV_PUBKEY_LEN])
{
	memcpy(pk, k->pk, PV_PUBKEY_LEN);
}
