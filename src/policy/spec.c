/*
 * The policy format, described once as data.
 *
 * Every map of the format is a pv_pspec; every key of it a pv_pkey row: name,
 * type, whether it is required, its allowed values, its child map, its
 * default, its documentation, and where its value goes in the model structs
 * of include/privault/policy.h. validate.c checks and fills from these rows,
 * json.c prints the model and generates the JSON Schema from them, and the
 * suggestions for unknown keys come from them: adding a key is adding a row.
 */
#include "policy/internal.h"

#include <stddef.h>

/* offset + 1 of a presence flag or of an index (0 means "none") */
#define HAS(T, f) (offsetof(T, f) + 1)
#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(sizeof(pv_consent_mechanism) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(pv_verification) == sizeof(int), "enums are stored as int");

const char *const pv_regime_names[] = { "gdpr", "ccpa", "lgpd", NULL };
const char *const pv_request_names[] = { "access", "portability", "deletion", "rectification",
	"restriction", "objection", "opt_out", "limit_sensitive", "withdraw_consent", NULL };

static const char *const v_consent[] = { "opt_in", "opt_out", "notice_only", NULL };
static const char *const v_action[] = { "delete", "anonymize", NULL };
static const char *const v_rtype[] = { "processor", "third_party", "affiliate", "authority", NULL };
static const char *const v_safeguard[] = { "adequacy", "scc", "bcr", "consent", "derogation", "none", NULL };
static const char *const v_party[] = { "first", "third", NULL };
static const char *const v_class[] = { "strictly_necessary", "functional", "analytics", "advertising", NULL };
static const char *const v_exkind[] = { "required_by_law", "open_contract", "legal_claims", "published",
	"documentation", NULL };
static const char *const v_verify[] = { "none", "basic", "standard", "strong", NULL };
static const char *const v_fee[] = { "none", "when_excessive", NULL };
static const char *const v_excessive[] = { "refuse", "charge", NULL };
static const char *const v_ccpa_cat[] = { "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", NULL };
static const char *const v_basis_gdpr[] = { "consent", "contract", "legal_obligation", "vital_interests",
	"public_task", "legitimate_interests", NULL };
static const char *const v_basis_ccpa[] = { "business_purpose", "commercial_purpose", NULL };
static const char *const v_basis_lgpd[] = { "consent", "legal_obligation", "public_policy", "research",
	"contract", "legal_proceedings", "vital_interests", "health", "legitimate_interests",
	"credit_protection", NULL };

/* ---- controller ---- */

static const pv_pkey k_contact[] = {
	{ .name = "name", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_contact, name),
	  .doc = "name of the person or organization" },
	{ .name = "contact", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_contact, contact),
	  .doc = "email, URL or phone" },
	{ .name = "address", .type = PV_T_STRING, .off = offsetof(pv_policy_contact, address),
	  .doc = "postal address" },
};
static const pv_pspec s_contact = { .name = "contact", .doc = "a representative or data protection officer",
	.keys = k_contact, .nkeys = NKEYS(k_contact) };

static const pv_pkey k_controller[] = {
	{ .name = "name", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_controller, name),
	  .doc = "legal name of the controller" },
	{ .name = "contact", .type = PV_T_STRING, .flags = PV_K_REQUIRED,
	  .off = offsetof(pv_policy_controller, contact), .doc = "email, URL or phone for privacy questions" },
	{ .name = "address", .type = PV_T_STRING, .off = offsetof(pv_policy_controller, address),
	  .doc = "postal address" },
	{ .name = "representative", .type = PV_T_MAP, .child = &s_contact,
	  .off = offsetof(pv_policy_controller, representative),
	  .has = HAS(pv_policy_controller, representative.present),
	  .doc = "GDPR Art. 27 representative in the EU" },
	{ .name = "dpo", .type = PV_T_MAP, .child = &s_contact, .off = offsetof(pv_policy_controller, dpo),
	  .has = HAS(pv_policy_controller, dpo.present), .doc = "data protection officer" },
};
static const pv_pspec s_controller = { .name = "controller", .doc = "who is responsible",
	.keys = k_controller, .nkeys = NKEYS(k_controller) };

/* ---- regimes ---- */

static const pv_pkey k_regime[] = {
	{ .name = "default", .type = PV_T_BOOL, .off = offsetof(pv_policy_regime_settings, is_default),
	  .def = "false", .doc = "the regime of a subject created without one (at most one regime says true)" },
	{ .name = "consent_age", .type = PV_T_INT, .min = 13, .max = 16,
	  .off = offsetof(pv_policy_regime_settings, consent_age), .doc = "Art. 8 age of digital consent (GDPR default 16)" },
	{ .name = "breach_notice_hours", .type = PV_T_INT, .min = 1, .max = 8760,
	  .off = offsetof(pv_policy_regime_settings, breach_notice_hours), .doc = "hours to notify the authority of a breach (GDPR default 72)" },
	{ .name = "authority", .type = PV_T_STRING, .off = offsetof(pv_policy_regime_settings, authority),
	  .doc = "supervisory authority where a person can complain" },
	{ .name = "sale_opt_in_age", .type = PV_T_INT, .min = 1, .max = 21,
	  .off = offsetof(pv_policy_regime_settings, sale_opt_in_age), .doc = "below this age, no sale or sharing without opt-in (CCPA default 16)" },
	{ .name = "parent_opt_in_age", .type = PV_T_INT, .min = 1, .max = 21,
	  .off = offsetof(pv_policy_regime_settings, parent_opt_in_age), .doc = "below this age, a parent opts in (CCPA default 13)" },
	{ .name = "lookback_months", .type = PV_T_INT, .min = 1, .max = 240,
	  .off = offsetof(pv_policy_regime_settings, lookback_months), .doc = "lookback of a request to know (CCPA default 12)" },
};
static const pv_pspec s_regime = { .name = "regime", .doc = "settings of one regime in force; may be {}",
	.keys = k_regime, .nkeys = NKEYS(k_regime) };

#define RS sizeof(pv_policy_regime_settings)
static const pv_pkey k_regimes[] = {
	{ .name = "gdpr", .type = PV_T_MAP, .child = &s_regime, .off = 0 * RS,
	  .has = 0 * RS + HAS(pv_policy_regime_settings, enabled), .doc = "EU General Data Protection Regulation" },
	{ .name = "ccpa", .type = PV_T_MAP, .child = &s_regime, .off = 1 * RS,
	  .has = 1 * RS + HAS(pv_policy_regime_settings, enabled), .doc = "California Consumer Privacy Act as amended by the CPRA" },
	{ .name = "lgpd", .type = PV_T_MAP, .child = &s_regime, .off = 2 * RS,
	  .has = 2 * RS + HAS(pv_policy_regime_settings, enabled), .doc = "Brazil's Lei Geral de Proteção de Dados" },
};
#undef RS
static const pv_pspec s_regimes = { .name = "regimes", .doc = "regimes in force (at least one); each present key switches one on",
	.keys = k_regimes, .nkeys = NKEYS(k_regimes), .check = pv_policy_check_regimes };

/* ---- categories, sources ---- */

static const pv_pkey k_category[] = {
	{ .name = "id", .type = PV_T_ID, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_category, id),
	  .doc = "identifier used by purposes, recipients and records" },
	{ .name = "title", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_category, title),
	  .doc = "human-readable name" },
	{ .name = "ccpa", .type = PV_T_ENUM, .flags = PV_K_ECHAR, .values = v_ccpa_cat,
	  .off = offsetof(pv_policy_category, ccpa), .doc = "CCPA category of personal information, A..K" },
	{ .name = "sensitive", .type = PV_T_BOOL, .off = offsetof(pv_policy_category, sensitive), .def = "false",
	  .doc = "special category (GDPR Art. 9) or sensitive personal information (CPRA)" },
	{ .name = "description", .type = PV_T_STRING, .off = offsetof(pv_policy_category, description),
	  .doc = "examples of the data" },
	{ .name = "collected", .type = PV_T_BOOL, .off = offsetof(pv_policy_category, collected), .def = "true",
	  .doc = "false for categories a policy lists as not collected" },
};
static const pv_pspec s_category = { .name = "category", .doc = "a data category",
	.size = sizeof(pv_policy_category), .kind = PV_REF_CATEGORY, .index_off = HAS(pv_policy_category, index),
	.keys = k_category, .nkeys = NKEYS(k_category) };

static const pv_pkey k_source[] = {
	{ .name = "id", .type = PV_T_ID, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_source_def, id),
	  .doc = "identifier used by purposes and records" },
	{ .name = "title", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_source_def, title),
	  .doc = "human-readable name" },
	{ .name = "description", .type = PV_T_STRING, .off = offsetof(pv_policy_source_def, description),
	  .doc = "examples" },
};
static const pv_pspec s_source = { .name = "source", .doc = "where data comes from",
	.size = sizeof(pv_policy_source_def), .kind = PV_REF_SOURCE, .index_off = HAS(pv_policy_source_def, index),
	.keys = k_source, .nkeys = NKEYS(k_source) };

/* ---- purposes ---- */

static const pv_pkey k_basis[] = {
	{ .name = "gdpr", .type = PV_T_ENUM, .flags = PV_K_ESTR, .values = v_basis_gdpr,
	  .off = PV_REGIME_GDPR * sizeof(char *), .doc = "GDPR Art. 6 lawful basis" },
	{ .name = "ccpa", .type = PV_T_ENUM, .flags = PV_K_ESTR, .values = v_basis_ccpa,
	  .off = PV_REGIME_CCPA * sizeof(char *), .doc = "CCPA business or commercial purpose" },
	{ .name = "lgpd", .type = PV_T_ENUM, .flags = PV_K_ESTR, .values = v_basis_lgpd,
	  .off = PV_REGIME_LGPD * sizeof(char *), .doc = "LGPD Art. 7 legal basis" },
};
static const pv_pspec s_basis = { .name = "lawful_basis", .doc = "one entry per regime in force, none for others",
	.keys = k_basis, .nkeys = NKEYS(k_basis), .check = pv_policy_check_lawful_basis };

static const pv_pkey k_purpose[] = {
	{ .name = "id", .type = PV_T_ID, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_purpose, id),
	  .doc = "identifier callers name when they use data" },
	{ .name = "title", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_purpose, title),
	  .doc = "human-readable name" },
	{ .name = "description", .type = PV_T_STRING, .off = offsetof(pv_policy_purpose, description),
	  .doc = "what is done" },
	{ .name = "lawful_basis", .type = PV_T_MAP, .flags = PV_K_REQUIRED, .child = &s_basis,
	  .off = offsetof(pv_policy_purpose, lawful_basis), .doc = "lawful basis per regime in force" },
	{ .name = "categories", .type = PV_T_LIST, .item = PV_T_REF, .ref = PV_REF_CATEGORY,
	  .flags = PV_K_REQUIRED | PV_K_NONEMPTY, .off = offsetof(pv_policy_purpose, categories),
	  .cnt = offsetof(pv_policy_purpose, ncategories), .doc = "category ids this purpose uses" },
	{ .name = "sources", .type = PV_T_LIST, .item = PV_T_REF, .ref = PV_REF_SOURCE,
	  .off = offsetof(pv_policy_purpose, sources), .cnt = offsetof(pv_policy_purpose, nsources),
	  .doc = "source ids the data comes from" },
	{ .name = "consent", .type = PV_T_ENUM, .flags = PV_K_REQUIRED, .values = v_consent,
	  .off = offsetof(pv_policy_purpose, consent), .doc = "consent mechanism" },
	{ .name = "marketing", .type = PV_T_BOOL, .off = offsetof(pv_policy_purpose, marketing), .def = "false",
	  .doc = "direct marketing (a marketing opt-out blocks it)" },
	{ .name = "administrative", .type = PV_T_BOOL, .off = offsetof(pv_policy_purpose, administrative), .def = "false",
	  .doc = "administrative messages that stay allowed after a marketing opt-out" },
	{ .name = "sale", .type = PV_T_BOOL, .off = offsetof(pv_policy_purpose, sale), .def = "false",
	  .doc = "\"selling\" under the CCPA" },
	{ .name = "sharing", .type = PV_T_BOOL, .off = offsetof(pv_policy_purpose, sharing), .def = "false",
	  .doc = "\"sharing\" for cross-context behavioral advertising" },
	{ .name = "fresh_consent_on_change", .type = PV_T_BOOL, .off = offsetof(pv_policy_purpose, fresh_consent_on_change),
	  .def = "false", .doc = "consent must be renewed after a material change of the policy" },
	{ .name = "opt_out_window", .type = PV_T_DURATION, .off = offsetof(pv_policy_purpose, opt_out_window),
	  .has = HAS(pv_policy_purpose, has_opt_out_window), .doc = "time the policy promises to act on an opt-out" },
	{ .name = "retention", .type = PV_T_DURATION, .flags = PV_K_INDEFINITE,
	  .off = offsetof(pv_policy_purpose, retention), .has = HAS(pv_policy_purpose, has_retention),
	  .doc = "default retention of this purpose's data" },
};
static const pv_pspec s_purpose = { .name = "purpose", .doc = "why data is processed",
	.size = sizeof(pv_policy_purpose), .kind = PV_REF_PURPOSE, .index_off = HAS(pv_policy_purpose, index),
	.keys = k_purpose, .nkeys = NKEYS(k_purpose) };

/* ---- recipients, cookies ---- */

static const pv_pkey k_recipient[] = {
	{ .name = "id", .type = PV_T_ID, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_recipient, id),
	  .doc = "identifier used by the disclosure ledger" },
	{ .name = "name", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_recipient, name),
	  .doc = "legal name" },
	{ .name = "type", .type = PV_T_ENUM, .flags = PV_K_REQUIRED, .values = v_rtype,
	  .off = offsetof(pv_policy_recipient, type), .doc = "relationship to the controller" },
	{ .name = "purposes", .type = PV_T_LIST, .item = PV_T_REF, .ref = PV_REF_PURPOSE, .flags = PV_K_REQUIRED,
	  .off = offsetof(pv_policy_recipient, purposes), .cnt = offsetof(pv_policy_recipient, npurposes),
	  .doc = "purpose ids it receives data for" },
	{ .name = "categories", .type = PV_T_LIST, .item = PV_T_REF, .ref = PV_REF_CATEGORY, .flags = PV_K_REQUIRED,
	  .off = offsetof(pv_policy_recipient, categories), .cnt = offsetof(pv_policy_recipient, ncategories),
	  .doc = "category ids it receives" },
	{ .name = "country", .type = PV_T_COUNTRY, .off = offsetof(pv_policy_recipient, country),
	  .doc = "ISO 3166-1 alpha-2 country code" },
	{ .name = "transfer_safeguard", .type = PV_T_ENUM, .flags = PV_K_ESTR, .values = v_safeguard,
	  .off = offsetof(pv_policy_recipient, transfer_safeguard), .doc = "safeguard of an international transfer" },
	{ .name = "erasure_webhook", .type = PV_T_HTTPS, .off = offsetof(pv_policy_recipient, erasure_webhook),
	  .doc = "https URL told of erasures" },
	{ .name = "description", .type = PV_T_STRING, .off = offsetof(pv_policy_recipient, description),
	  .doc = "what it does" },
};
static const pv_pspec s_recipient = { .name = "recipient", .doc = "who receives data",
	.size = sizeof(pv_policy_recipient), .kind = PV_REF_RECIPIENT, .index_off = HAS(pv_policy_recipient, index),
	.keys = k_recipient, .nkeys = NKEYS(k_recipient) };

static const pv_pkey k_cookie[] = {
	{ .name = "name", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_cookie, name),
	  .doc = "cookie name" },
	{ .name = "provider", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_cookie, provider),
	  .doc = "who sets it" },
	{ .name = "party", .type = PV_T_ENUM, .flags = PV_K_REQUIRED, .values = v_party,
	  .off = offsetof(pv_policy_cookie, party), .doc = "first or third party" },
	{ .name = "class", .type = PV_T_ENUM, .flags = PV_K_REQUIRED, .values = v_class,
	  .off = offsetof(pv_policy_cookie, cls), .doc = "only strictly_necessary cookies are set without consent" },
	{ .name = "lifetime", .type = PV_T_DURATION, .flags = PV_K_REQUIRED | PV_K_SESSION,
	  .off = offsetof(pv_policy_cookie, lifetime), .doc = "a duration or \"session\"" },
	{ .name = "purpose", .type = PV_T_REF, .ref = PV_REF_PURPOSE, .off = offsetof(pv_policy_cookie, purpose),
	  .doc = "purpose id" },
	{ .name = "description", .type = PV_T_STRING, .off = offsetof(pv_policy_cookie, description),
	  .doc = "what it is for" },
};
static const pv_pspec s_cookie = { .name = "cookie", .doc = "a cookie or similar technology",
	.size = sizeof(pv_policy_cookie), .keys = k_cookie, .nkeys = NKEYS(k_cookie) };

/* ---- retention ---- */

static const pv_pkey k_rule[] = {
	{ .name = "category", .type = PV_T_REF, .ref = PV_REF_CATEGORY, .flags = PV_K_REQUIRED | PV_K_STAR,
	  .off = offsetof(pv_policy_retention_rule, category), .doc = "a category id or \"*\"" },
	{ .name = "purpose", .type = PV_T_REF, .ref = PV_REF_PURPOSE, .flags = PV_K_REQUIRED | PV_K_STAR,
	  .off = offsetof(pv_policy_retention_rule, purpose), .doc = "a purpose id or \"*\"" },
	{ .name = "duration", .type = PV_T_DURATION, .flags = PV_K_REQUIRED | PV_K_INDEFINITE,
	  .off = offsetof(pv_policy_retention_rule, duration), .doc = "a duration or \"indefinite\"" },
	{ .name = "action", .type = PV_T_ENUM, .values = v_action, .def = "delete",
	  .off = offsetof(pv_policy_retention_rule, action), .doc = "what happens when retention ends" },
	{ .name = "description", .type = PV_T_STRING, .off = offsetof(pv_policy_retention_rule, description),
	  .doc = "why" },
};
static const pv_pspec s_rule = { .name = "retention_rule", .doc = "the most specific rule wins",
	.size = sizeof(pv_policy_retention_rule), .keys = k_rule, .nkeys = NKEYS(k_rule) };

static const pv_pkey k_exception[] = {
	{ .name = "id", .type = PV_T_ID, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_exception, id),
	  .doc = "identifier named when a request is partly refused" },
	{ .name = "kind", .type = PV_T_ENUM, .flags = PV_K_REQUIRED, .values = v_exkind,
	  .off = offsetof(pv_policy_exception, kind), .doc = "ground for keeping the data" },
	{ .name = "categories", .type = PV_T_LIST, .item = PV_T_REF, .ref = PV_REF_CATEGORY,
	  .flags = PV_K_REQUIRED | PV_K_NONEMPTY | PV_K_STAR, .off = offsetof(pv_policy_exception, categories),
	  .cnt = offsetof(pv_policy_exception, ncategories), .doc = "category ids kept" },
	{ .name = "purposes", .type = PV_T_LIST, .item = PV_T_REF, .ref = PV_REF_PURPOSE, .flags = PV_K_STAR,
	  .off = offsetof(pv_policy_exception, purposes), .cnt = offsetof(pv_policy_exception, npurposes),
	  .def = "*", .doc = "purpose ids, default all" },
	{ .name = "duration", .type = PV_T_DURATION, .flags = PV_K_INDEFINITE,
	  .off = offsetof(pv_policy_exception, duration), .has = HAS(pv_policy_exception, has_duration),
	  .doc = "how long it is kept" },
	{ .name = "reason", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_exception, reason),
	  .doc = "told to the person" },
};
static const pv_pspec s_exception = { .name = "retention_exception", .doc = "data kept despite erasure or expiry",
	.size = sizeof(pv_policy_exception), .kind = PV_REF_EXCEPTION, .index_off = HAS(pv_policy_exception, index),
	.keys = k_exception, .nkeys = NKEYS(k_exception) };

static const pv_pkey k_retention[] = {
	{ .name = "access_logs", .type = PV_T_DURATION, .off = offsetof(struct pv_policy, access_logs),
	  .has = HAS(struct pv_policy, has_access_logs), .doc = "how long web-server logs with IP addresses are kept" },
	{ .name = "rules", .type = PV_T_LIST, .item = PV_T_MAP, .child = &s_rule,
	  .off = offsetof(struct pv_policy, rules), .cnt = offsetof(struct pv_policy, nrules), .doc = "retention rules" },
	{ .name = "exceptions", .type = PV_T_LIST, .item = PV_T_MAP, .child = &s_exception,
	  .off = offsetof(struct pv_policy, exceptions), .cnt = offsetof(struct pv_policy, nexceptions),
	  .doc = "data kept despite erasure or expiry" },
};
/* stored straight into struct pv_policy: the `retention` row has offset 0 */
static const pv_pspec s_retention = { .name = "retention", .doc = "retention rules and exceptions",
	.keys = k_retention, .nkeys = NKEYS(k_retention), .check = pv_policy_check_retention };

/* ---- rights ---- */

static const pv_pkey k_quota[] = {
	{ .name = "max", .type = PV_T_INT, .flags = PV_K_REQUIRED, .min = 1, .max = 1000,
	  .off = offsetof(pv_policy_quota, max), .doc = "requests answered within the period" },
	{ .name = "period", .type = PV_T_DURATION, .flags = PV_K_REQUIRED, .off = offsetof(pv_policy_quota, period),
	  .doc = "the sliding period" },
};
static const pv_pspec s_quota = { .name = "quota", .doc = "at most `max` requests within `period`",
	.keys = k_quota, .nkeys = NKEYS(k_quota) };

#define QS sizeof(pv_policy_quota)
#define QUOTA(i, n) { .name = n, .type = PV_T_MAP, .child = &s_quota, .off = (i) * QS, \
	.has = (i) * QS + HAS(pv_policy_quota, present), .doc = "quota of " n " requests" }
static const pv_pkey k_quotas[] = {
	QUOTA(0, "access"), QUOTA(1, "portability"), QUOTA(2, "deletion"), QUOTA(3, "rectification"),
	QUOTA(4, "restriction"), QUOTA(5, "objection"), QUOTA(6, "opt_out"), QUOTA(7, "limit_sensitive"),
	QUOTA(8, "withdraw_consent"),
};
#undef QUOTA
#undef QS
static const pv_pspec s_quotas = { .name = "quotas", .doc = "quota per request type",
	.keys = k_quotas, .nkeys = NKEYS(k_quotas) };

#define VS sizeof(pv_verification)
#define VERIFY(i, n, d) { .name = n, .type = PV_T_ENUM, .values = v_verify, .off = (i) * VS, .def = d, \
	.doc = "identity verification of " n " requests" }
static const pv_pkey k_verify[] = {
	VERIFY(0, "access", "standard"), VERIFY(1, "portability", "standard"), VERIFY(2, "deletion", "standard"),
	VERIFY(3, "rectification", "standard"), VERIFY(4, "restriction", "standard"),
	VERIFY(5, "objection", "standard"), VERIFY(6, "opt_out", "none"), VERIFY(7, "limit_sensitive", "none"),
	VERIFY(8, "withdraw_consent", "none"),
};
#undef VERIFY
#undef VS
static const pv_pspec s_verify = { .name = "verification", .doc = "identity verification per request type",
	.keys = k_verify, .nkeys = NKEYS(k_verify) };

static const pv_pkey k_rights[] = {
	{ .name = "deadline", .type = PV_T_DURATION, .off = offsetof(pv_policy_rights, deadline),
	  .doc = "time to answer (GDPR 1 month, CCPA 45 days, LGPD 15 days)" },
	{ .name = "acknowledge", .type = PV_T_DURATION, .off = offsetof(pv_policy_rights, acknowledge),
	  .has = HAS(pv_policy_rights, has_acknowledge), .doc = "time to confirm receipt (CCPA 10 business days)" },
	{ .name = "extension", .type = PV_T_DURATION, .off = offsetof(pv_policy_rights, extension),
	  .has = HAS(pv_policy_rights, has_extension), .doc = "one extension (GDPR 2 months, CCPA 45 days)" },
	{ .name = "quota", .type = PV_T_MAP, .child = &s_quotas, .off = offsetof(pv_policy_rights, quota),
	  .doc = "per request type (CCPA: access and portability 2 per 12 months)" },
	{ .name = "verification", .type = PV_T_MAP, .child = &s_verify, .off = offsetof(pv_policy_rights, verification),
	  .doc = "identity verification per request type" },
	{ .name = "fee", .type = PV_T_ENUM, .values = v_fee, .def = "none", .off = offsetof(pv_policy_rights, fee),
	  .doc = "fee for requests" },
	{ .name = "excessive", .type = PV_T_ENUM, .values = v_excessive, .def = "refuse",
	  .off = offsetof(pv_policy_rights, excessive), .doc = "what happens to manifestly excessive requests" },
	{ .name = "holidays", .type = PV_T_LIST, .item = PV_T_DATE, .off = offsetof(pv_policy_rights, holidays),
	  .cnt = offsetof(pv_policy_rights, nholidays), .doc = "dates skipped by business-day arithmetic" },
	{ .name = "channels", .type = PV_T_LIST, .item = PV_T_STRING, .off = offsetof(pv_policy_rights, channels),
	  .cnt = offsetof(pv_policy_rights, nchannels), .doc = "where requests can be sent" },
};
static const pv_pspec s_rights = { .name = "rights", .doc = "rights settings of one regime; defaults from REGULATIONS.md",
	.keys = k_rights, .nkeys = NKEYS(k_rights) };

#define RR sizeof(pv_policy_rights)
static const pv_pkey k_rights_regimes[] = {
	{ .name = "gdpr", .type = PV_T_MAP, .child = &s_rights, .off = 0 * RR, .has = 0 * RR + HAS(pv_policy_rights, enabled), .doc = "rights under the GDPR" },
	{ .name = "ccpa", .type = PV_T_MAP, .child = &s_rights, .off = 1 * RR, .has = 1 * RR + HAS(pv_policy_rights, enabled), .doc = "rights under the CCPA" },
	{ .name = "lgpd", .type = PV_T_MAP, .child = &s_rights, .off = 2 * RR, .has = 2 * RR + HAS(pv_policy_rights, enabled), .doc = "rights under the LGPD" },
};
#undef RR
static const pv_pspec s_rights_regimes = { .name = "rights_per_regime", .doc = "rights settings per regime in force",
	.keys = k_rights_regimes, .nkeys = NKEYS(k_rights_regimes), .check = pv_policy_check_rights };

/* ---- children, changes ---- */

static const pv_pkey k_children[] = {
	{ .name = "minimum_age", .type = PV_T_INT, .min = 0, .max = 21, .off = offsetof(pv_policy_children, minimum_age),
	  .has = HAS(pv_policy_children, has_minimum_age), .doc = "no data knowingly collected below this age" },
	{ .name = "parental_consent_below", .type = PV_T_INT, .min = 1, .max = 21,
	  .off = offsetof(pv_policy_children, parental_consent_below),
	  .doc = "a parent must consent below this age (default: the GDPR consent age, else the CCPA parent opt-in age, else 16)" },
};
static const pv_pspec s_children = { .name = "children", .doc = "age thresholds",
	.keys = k_children, .nkeys = NKEYS(k_children) };

static const pv_pkey k_changes[] = {
	{ .name = "notice_on_material_change", .type = PV_T_BOOL, .def = "true",
	  .off = offsetof(pv_policy_changes, notice_on_material_change), .doc = "people are told of material changes" },
	{ .name = "notice_days", .type = PV_T_INT, .min = 0, .max = 365, .def = "30",
	  .off = offsetof(pv_policy_changes, notice_days), .doc = "days of notice before a change takes effect" },
	{ .name = "channels", .type = PV_T_LIST, .item = PV_T_STRING, .off = offsetof(pv_policy_changes, channels),
	  .cnt = offsetof(pv_policy_changes, nchannels), .doc = "how changes are announced (email, website, ...)" },
	{ .name = "reminder", .type = PV_T_DURATION, .off = offsetof(pv_policy_changes, reminder),
	  .has = HAS(pv_policy_changes, has_reminder), .doc = "periodic reminder of the policy" },
};
static const pv_pspec s_changes = { .name = "changes", .doc = "how policy changes are announced",
	.keys = k_changes, .nkeys = NKEYS(k_changes) };

/* ---- top level ---- */

#define P(f) offsetof(struct pv_policy, f)
static const pv_pkey k_root[] = {
	{ .name = "privault", .type = PV_T_INT, .flags = PV_K_REQUIRED, .min = 1, .max = 1, .off = P(format),
	  .doc = "format version, must be 1" },
	{ .name = "version", .type = PV_T_STRING, .flags = PV_K_REQUIRED, .off = P(version),
	  .doc = "the organization's own label for this policy version" },
	{ .name = "effective", .type = PV_T_DATE, .flags = PV_K_REQUIRED, .off = P(effective),
	  .doc = "date the policy takes effect" },
	{ .name = "title", .type = PV_T_STRING, .off = P(title), .doc = "title of the published policy" },
	{ .name = "url", .type = PV_T_STRING, .off = P(url), .doc = "where the published policy lives" },
	{ .name = "controller", .type = PV_T_MAP, .flags = PV_K_REQUIRED, .child = &s_controller, .off = P(controller),
	  .doc = "who is responsible" },
	{ .name = "regimes", .type = PV_T_MAP, .flags = PV_K_REQUIRED, .child = &s_regimes, .off = P(regimes),
	  .doc = "regimes in force" },
	{ .name = "categories", .type = PV_T_LIST, .item = PV_T_MAP, .flags = PV_K_REQUIRED, .child = &s_category,
	  .off = P(categories), .cnt = P(ncategories), .doc = "data categories" },
	{ .name = "sources", .type = PV_T_LIST, .item = PV_T_MAP, .flags = PV_K_REQUIRED, .child = &s_source,
	  .off = P(sources), .cnt = P(nsources), .doc = "where data comes from" },
	{ .name = "purposes", .type = PV_T_LIST, .item = PV_T_MAP, .flags = PV_K_REQUIRED, .child = &s_purpose,
	  .off = P(purposes), .cnt = P(npurposes), .doc = "why it is processed" },
	{ .name = "recipients", .type = PV_T_LIST, .item = PV_T_MAP, .child = &s_recipient,
	  .off = P(recipients), .cnt = P(nrecipients), .doc = "who receives it" },
	{ .name = "cookies", .type = PV_T_LIST, .item = PV_T_MAP, .child = &s_cookie,
	  .off = P(cookies), .cnt = P(ncookies), .doc = "cookies and similar technologies" },
	{ .name = "retention", .type = PV_T_MAP, .child = &s_retention, .off = 0, .doc = "retention rules and exceptions" },
	{ .name = "rights", .type = PV_T_MAP, .child = &s_rights_regimes, .off = P(rights),
	  .doc = "rights settings per regime" },
	{ .name = "children", .type = PV_T_MAP, .child = &s_children, .off = P(children),
	  .doc = "age thresholds" },
	{ .name = "changes", .type = PV_T_MAP, .child = &s_changes, .off = P(changes),
	  .doc = "how policy changes are announced" },
};
#undef P

const pv_pspec pv_policy_spec_root = { .name = "policy", .doc = "a privault policy (format version 1)",
	.keys = k_root, .nkeys = NKEYS(k_root) };
