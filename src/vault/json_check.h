/*
 * A strict, single-pass JSON validator for record data.
 *
 * It accepts exactly what the record path accepted before it (jansson's
 * json_loadb with JSON_REJECT_DUPLICATES, a top-level object, a nesting depth
 * limit, no NUL byte), without building a tree and without allocating:
 *
 *  - RFC 8259 syntax; whitespace is space, tab, LF and CR only;
 *  - strings: valid UTF-8 (no overlong forms, no encoded surrogates, nothing
 *    above U+10FFFF), no control characters, the escapes \" \\ \/ \b \f \n \r
 *    \t and \uXXXX, where surrogates come only as a high + low pair and
 *    \u0000 is refused (as jansson refuses it);
 *  - numbers as jansson reads them: an integer (no fraction, no exponent)
 *    must fit a signed 64-bit integer, any other number must not overflow a
 *    double (underflow to 0 is fine);
 *  - the top level is one object, followed by whitespace only;
 *  - containers nest at most `max_depth` deep (the top object is depth 1);
 *  - no object, at any depth, repeats a key (keys compared after decoding
 *    escapes). Keys are remembered in a fixed table of
 *    PV_JSON_CHECK_KEYS_MAX spans; a document whose open objects hold more
 *    keys than that is checked for duplicates by jansson instead, after
 *    everything else validated (the only case that allocates).
 */
#ifndef PV_VAULT_JSON_CHECK_H
#define PV_VAULT_JSON_CHECK_H

#include <stddef.h>

/* Deepest nesting the validator can track; a larger max_depth is taken as this. */
#define PV_JSON_CHECK_DEPTH_MAX 256
/* Keys of the currently open objects tracked for the duplicate check without jansson. */
#define PV_JSON_CHECK_KEYS_MAX 512

/* Why a document was refused: never any of its content. */
typedef struct {
	int code;              /* PV_EINVAL (syntax), PV_ELIMIT (size, depth) or PV_ENOMEM */
	size_t offset;         /* byte offset where the problem was found */
	const char *expected;  /* static text: what was expected there */
} pv_json_problem;

/*
 * Validate `len` bytes at `data` as one JSON object (see above). Returns 0
 * when valid; otherwise the negative code, with *out (when not NULL) telling
 * where and what was expected. Sets no thread error: the caller words the
 * message (e.g. "data: invalid JSON at byte 17: expected ':' after a key").
 */
int pv_json_check_object(const char *data, size_t len, size_t max_bytes, unsigned max_depth,
			 pv_json_problem *out);

#endif
