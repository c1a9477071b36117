/*
 * Fuzz target of the bulk import's parsers and validation: every input is
 * read both as JSON lines and as CSV (check mode, against a small built-in
 * policy, no vault), with a batch size taken from the input's length so the
 * batch boundaries move. Nothing may crash, leak or read out of bounds, and
 * the result must be consistent: a failure names a line within the input,
 * and the error message never repeats a value from it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "privault/error.h"
#include "privault/import.h"
#include "privault/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char policy_yaml[] =
	"privault: 1\n"
	"version: \"fuzz-1\"\n"
	"effective: 2024-01-01\n"
	"controller:\n"
	"  name: Fuzz Ltd\n"
	"  contact: privacy@example.com\n"
	"regimes:\n"
	"  gdpr:\n"
	"    default: true\n"
	"  ccpa: {}\n"
	"categories:\n"
	"  - id: identifiers\n"
	"    title: Identifiers\n"
	"  - id: commercial\n"
	"    title: Commercial information\n"
	"  - id: biometric\n"
	"    title: Biometric information\n"
	"    collected: false\n"
	"sources:\n"
	"  - id: direct\n"
	"    title: Directly from you\n"
	"purposes:\n"
	"  - id: account_management\n"
	"    title: Accounts\n"
	"    lawful_basis:\n"
	"      gdpr: contract\n"
	"      ccpa: business_purpose\n"
	"    categories: [identifiers]\n"
	"    sources: [direct]\n"
	"    consent: notice_only\n"
	"  - id: transactions\n"
	"    title: Orders\n"
	"    lawful_basis:\n"
	"      gdpr: contract\n"
	"      ccpa: business_purpose\n"
	"    categories: [identifiers, commercial]\n"
	"    sources: [direct]\n"
	"    consent: notice_only\n";

static pv_policy *policy(void)
{
	static pv_policy *p;

	if (p == NULL && pv_policy_load_buffer(&p, "fuzz-policy", policy_yaml, sizeof(policy_yaml) - 1, NULL) != 0)
		abort();   /* the built-in policy must be valid */
	return p;
}

static void run(const char *format, const uint8_t *data, size_t size)
{
	pv_import_options o;
	pv_import_result r;
	size_t nl = 1;
	int rc;

	pv_import_options_init(&o);
	o.format = format;
	o.check_only = 1;
	o.policy = policy();
	o.batch_size = 1 + size % 7;
	rc = pv_import_buffer(NULL, NULL, (const char *)data, size, &o, &r);
	for (size_t i = 0; i < size; i++)
		nl += data[i] == '\n';
	if (r.lines > nl || r.rows > r.lines || r.records != 0 || r.batches_committed != 0)
		abort();
	if (rc == 0 && r.bad_line != 0)
		abort();
	if (rc != 0) {
		if (r.bad_line > nl || strlen(r.bad_field) >= sizeof(r.bad_field))
			abort();
		if (pv_error_last()[0] == '\0')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run("jsonl", data, size);
	run("csv", data, size);
	return 0;
}
