/*
 * Fuzz target of the record-data JSON validator (src/vault/json_check.c):
 * every input is checked by the validator and by the reference it replaced
 * (jansson's json_loadb with JSON_REJECT_DUPLICATES, a top-level object, the
 * depth limit, no NUL byte), at the record depth limit and at a small one.
 * Any disagreement on accept/refuse aborts; so does a refusal naming an
 * offset outside the input or an unexpected code.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "privault/error.h"
#include "vault/json_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int depth_ok(json_t *j, unsigned depth, unsigned max)
{
	json_t *child;
	const char *key;
	size_t i;

	if (depth > max)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach(j, key, child)
			if ((json_is_object(child) || json_is_array(child)) && !depth_ok(child, depth + 1, max))
				return 0;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, child)
			if ((json_is_object(child) || json_is_array(child)) && !depth_ok(child, depth + 1, max))
				return 0;
	}
	return 1;
}

static void compare(const char *s, size_t n, json_t *j, unsigned max_depth)
{
	pv_json_problem pr = { 0, 0, NULL };
	int rc = pv_json_check_object(s, n, PV_RECORD_MAX_BYTES, max_depth, &pr);
	int want = n > 0 && n <= PV_RECORD_MAX_BYTES && !memchr(s, '\0', n) && j && json_is_object(j)
		   && depth_ok(j, 1, max_depth);

	if ((rc == 0) != want)
		abort();
	if (rc != 0 && (pr.code != rc || pr.offset > n || !pr.expected
			|| (rc != PV_EINVAL && rc != PV_ELIMIT)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	json_t *j;

	if (size > PV_RECORD_MAX_BYTES)
		return 0;
	j = json_loadb(s, size, JSON_REJECT_DUPLICATES, NULL);
	compare(s, size, j, PV_RECORD_MAX_DEPTH);
	compare(s, size, j, 3);
	json_decref(j);
	return 0;
}
