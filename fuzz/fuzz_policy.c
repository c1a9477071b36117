/*
 * Fuzz target of the policy loader: any bytes go through YAML parsing,
 * validation and, when valid, the JSON model; nothing may crash, leak or
 * read out of bounds, and a valid policy must answer its own lookups.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privault/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pv_policy *p = NULL;
	pv_policy_diags *d = NULL;
	char *json = NULL;
	char line[1024];

	if (pv_policy_diags_new(&d))
		return 0;
	if (pv_policy_load_buffer(&p, "fuzz", (const char *)data, size, d) == 0) {
		for (size_t i = 0; i < pv_policy_category_count(p); i++) {
			const pv_policy_category *c = pv_policy_category_at(p, i);
			if (pv_policy_category_find(p, c->id) != c)
				abort();
		}
		for (size_t i = 0; i < pv_policy_purpose_count(p); i++) {
			const pv_policy_purpose *pu = pv_policy_purpose_at(p, i);
			pv_duration dur;

			if (pv_policy_purpose_find(p, pu->id) != pu)
				abort();
			for (size_t j = 0; j < pu->ncategories; j++) {
				if (!pv_policy_purpose_has_category(pu, pv_policy_category_find(p, pu->categories[j])))
					abort();
				pv_policy_retention_for(p, pu->categories[j], pu->id, &dur, NULL);
			}
		}
		if (pv_policy_to_json(&json, p) == 0)
			free(json);
		pv_policy_free(p);
	} else if (p) {
		abort();   /* a failed load leaves *out NULL */
	}
	for (size_t i = 0; i < pv_policy_diags_count(d); i++)
		pv_policy_diag_format(pv_policy_diags_at(d, i), line, sizeof(line));
	pv_policy_diags_free(d);
	return 0;
}
