/*
 * privault scrub: removes personal data from telemetry and free text before
 * it leaves (docs/scrub.md).
 *
 * Detected types, each found as a whole token and validated, not only matched:
 *   email   local@domain.tld (ASCII; the TLD is letters and not a file extension)
 *   phone   international (+CC ..., 8 to 15 digits) and North American
 *           ((415) 555-0199, 415-555-0199, 1-800-555-0199) formats
 *   ipv4    dotted quad, every octet 0..255 without leading zeros
 *   ipv6    full and compressed notation, IPv4-mapped tails, zone ids
 *   card    13 to 19 digits, plain or grouped by spaces/dashes, known issuer
 *           prefix, Luhn checksum
 *   iban    country length table and ISO 7064 mod-97 checksum, plain or in
 *           groups of four
 *   ssn     US social security number AAA-GG-SSSS outside the SSA's invalid ranges
 *
 * Each detected value is replaced by a typed placeholder ("[EMAIL]") or, with
 * a key, by a keyed pseudonym ("[EMAIL:3f2a9c0b11d4]"): keyed BLAKE2b of the
 * type and the normalized value (lower-cased email, digits of a phone in
 * E.164 form, binary address, digits of a card, compact IBAN), stable for the
 * same value and key and unlinkable without the key.
 *
 * Text is scrubbed in one left-to-right pass in linear time, streamed line by
 * line with bounded memory whatever the line length; any bytes are accepted
 * (non-ASCII bytes are never part of a detected value and pass unchanged).
 * JSON mode scrubs string values (at any depth), never object keys, and writes
 * valid JSON.
 */
#ifndef PRIVAULT_SCRUB_H
#define PRIVAULT_SCRUB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	PV_SCRUB_EMAIL = 0,
	PV_SCRUB_PHONE,
	PV_SCRUB_IPV4,
	PV_SCRUB_IPV6,
	PV_SCRUB_CARD,
	PV_SCRUB_IBAN,
	PV_SCRUB_SSN,
	PV_SCRUB_NTYPES
} pv_scrub_type;

/* Bit of a type in a type set; PV_SCRUB_ALL is every type. */
#define PV_SCRUB_BIT(t) (1u << (t))
#define PV_SCRUB_ALL ((1u << PV_SCRUB_NTYPES) - 1u)

/* Length of the keyed pseudonym in hex digits ("[EMAIL:" + 12 hex + "]"). */
#define PV_SCRUB_PSEUDONYM_HEX 12
/* Length of a pseudonymization key. */
#define PV_SCRUB_KEY_LEN 32
/* Longest JSON line pv_scrub_stream parses as JSON (longer ones are scrubbed as text). */
#define PV_SCRUB_JSON_MAX_LINE (4u * 1024 * 1024)

typedef struct pv_scrubber pv_scrubber;

/* What a scrubber found and replaced, per type, since it was created. */
typedef struct {
	uint64_t found[PV_SCRUB_NTYPES];
	uint64_t lines;          /* lines (text) or documents (JSON lines) read */
	uint64_t malformed;      /* JSON mode: lines that were not JSON (scrubbed as text) */
	uint64_t bytes_in;
	uint64_t bytes_out;
} pv_scrub_stats;

/* One detected value: bytes [start, end) of the input. */
typedef struct {
	size_t start;
	size_t end;
	pv_scrub_type type;
} pv_scrub_match;

/* "email", "phone", "ipv4", "ipv6", "card", "iban", "ssn"; NULL out of range. */
const char *pv_scrub_type_name(pv_scrub_type t);

/*
 * Parse a comma-separated list of type names ("email,phone"; "all") into a
 * type set. 0, or PV_EINVAL naming the position of the unknown entry.
 */
int pv_scrub_types_parse(unsigned *out, const char *list);

/*
 * A scrubber for the type set `types` (0 = PV_SCRUB_ALL), replacing with
 * typed placeholders until a key is set. Free with pv_scrubber_free().
 */
int pv_scrubber_new(pv_scrubber **out, unsigned types);

/* Wipe the key and free; sets *s to NULL; accepts NULL and a NULL *s. */
void pv_scrubber_free(pv_scrubber **s);

/*
 * Replace with keyed pseudonyms from now on. `key` (PV_SCRUB_KEY_LEN bytes)
 * is copied into guarded memory; the caller keeps and wipes its own copy.
 */
int pv_scrubber_set_key(pv_scrubber *s, const uint8_t key[PV_SCRUB_KEY_LEN]);

/*
 * Read the pseudonymization key from a scrub key file: one line of 64 hex
 * digits, optionally prefixed by "scrub ", '#' comments allowed. The file must
 * not be readable by group or others. PV_EKEY when malformed or too open
 * (the message names the file and line, never its content), PV_EIO when it
 * cannot be read.
 */
int pv_scrubber_load_key_file(pv_scrubber *s, const char *path);

/*
 * Derive the pseudonymization key from a vault's keys (the key file at
 * `vault_key_file`, or PRIVAULT_KEYS when set): keyed BLAKE2b of a fixed label
 * with the vault's blind-index key, so pseudonyms are stable for the vault's
 * lifetime and the vault's key file is the only secret to keep.
 */
int pv_scrubber_key_from_vault_keys(pv_scrubber *s, const char *vault_key_file);

/*
 * Find the values in `in` (len bytes, any content) without replacing them:
 * calls `fn` once per match, left to right, non-overlapping. `fn` returning
 * non-zero stops the scan and is returned. Returns 0 otherwise.
 */
int pv_scrub_find(const pv_scrubber *s, const char *in, size_t len,
		  int (*fn)(const pv_scrub_match *m, void *payload), void *payload);

/*
 * Scrub `in` (len bytes) into *out (malloc'd, NUL-terminated, *out_len bytes
 * without the NUL; the caller frees it with free()). Newlines are data like
 * any other byte. 0, PV_ENOMEM.
 */
int pv_scrub_text(pv_scrubber *s, const char *in, size_t len, char **out, size_t *out_len);

/*
 * JSON mode: `in` is one JSON document (any value). String values at any depth
 * are scrubbed; object keys, numbers and structure are kept (compact output,
 * key order kept). PV_EINVAL when `in` is not JSON (nothing written to *out).
 * Output ownership as pv_scrub_text.
 */
int pv_scrub_json(pv_scrubber *s, const char *in, size_t len, char **out, size_t *out_len);

/*
 * Stream `in` to `out`. Text: line by line with bounded memory whatever the
 * line length. JSON (`json` != 0): JSON lines, one document per line (at most
 * PV_SCRUB_JSON_MAX_LINE bytes); a line that is not JSON, or too long, is
 * scrubbed as text and counted in stats.malformed, never passed through.
 * Blank lines pass unchanged. 0, PV_EIO on a read or write error, PV_ENOMEM.
 */
int pv_scrub_stream(pv_scrubber *s, FILE *in, FILE *out, int json);

/* Counts since the scrubber was created. */
void pv_scrubber_stats(const pv_scrubber *s, pv_scrub_stats *out);

#ifdef __cplusplus
}
#endif
#endif
