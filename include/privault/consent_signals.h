/*
 * privault consent signals: decoders and encoders of the consent strings real
 * sites send (issue 5). Each codec has its own section below; none of them
 * touches the vault: they turn a string into plain structs that the consent
 * ledger stores, and back. Errors are PV_EINVAL with a message naming the
 * field and the bit offset, never the string itself.
 */
#ifndef PRIVAULT_CONSENT_SIGNALS_H
#define PRIVAULT_CONSENT_SIGNALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * IAB TCF v2.2 / v2.3 TC strings (src/consent/tcf*.c, docs/consent.md)
 *
 * A TC string is one to four base64url segments joined by '.': the core
 * segment, then optionally the disclosed vendors (type 1), allowed vendors
 * (type 2) and publisher TC (type 3) segments. Only version 2 is accepted
 * (TCF v2.2 and v2.3 both write version 2; v2.3 makes the disclosed vendors
 * segment mandatory, which pv_tcf_decode does not enforce).
 * ------------------------------------------------------------------------ */

/* Highest vendor id a TC string can carry (16-bit fields). */
#define PV_TCF_MAX_VENDOR 65535
/* Purposes and special features defined by TCF v2.2 (the fields hold 24 and 12 bits). */
#define PV_TCF_NUM_PURPOSES 11
#define PV_TCF_NUM_SPECIAL_FEATURES 2

/*
 * A set of vendor ids 1..PV_TCF_MAX_VENDOR. `bits` holds id k at byte
 * (k-1)/8, mask 0x80 >> ((k-1)%8); `max_id` is the highest id set (0 when
 * empty); `cap` is the number of bytes allocated. Owned by the pv_tcf that
 * holds it. A zeroed vector is a valid empty set.
 */
typedef struct {
	uint8_t *bits;
	size_t cap;
	unsigned max_id;
	unsigned count;
} pv_tcf_vector;

/* Is vendor `id` in the set? */
bool pv_tcf_vector_has(const pv_tcf_vector *v, unsigned id);
/* Add vendor `id` (1..PV_TCF_MAX_VENDOR). 0, PV_EINVAL or PV_ENOMEM. */
int pv_tcf_vector_set(pv_tcf_vector *v, unsigned id);

typedef enum {
	PV_TCF_RESTRICT_NOT_ALLOWED = 0,    /* purpose flatly not allowed by the publisher */
	PV_TCF_RESTRICT_REQUIRE_CONSENT = 1,
	PV_TCF_RESTRICT_REQUIRE_LI = 2
} pv_tcf_restriction_type;

/* One publisher restriction: purpose x type, for a set of vendors. */
typedef struct {
	unsigned purpose;                   /* 1..63 */
	pv_tcf_restriction_type type;
	pv_tcf_vector vendors;
} pv_tcf_restriction;

/*
 * A decoded TC string. Purpose-like fields are bit masks: bit (id-1) is
 * purpose / feature id. Times are deciseconds since the Unix epoch, as the
 * string stores them. Allocate with pv_tcf_new or get one from
 * pv_tcf_decode / pv_tcf_from_json; free with pv_tcf_free.
 */
typedef struct {
	unsigned version;                   /* 2 */
	uint64_t created;                   /* deciseconds since 1970-01-01T00:00:00Z (36 bits) */
	uint64_t last_updated;
	unsigned cmp_id, cmp_version;       /* 12 bits each */
	unsigned consent_screen;            /* 6 bits */
	char consent_language[3];           /* two letters A-Z, e.g. "EN" */
	unsigned vendor_list_version;       /* 12 bits */
	unsigned policy_version;            /* 6 bits: TCF policy version (4 = v2.2, 5 = v2.3) */
	bool is_service_specific;
	bool use_non_standard_texts;
	uint32_t special_feature_optins;    /* 12 bits */
	uint32_t purpose_consents;          /* 24 bits */
	uint32_t purpose_legitimate_interests; /* 24 bits */
	bool purpose_one_treatment;
	char publisher_country_code[3];     /* two letters A-Z */
	pv_tcf_vector vendor_consents;
	pv_tcf_vector vendor_legitimate_interests;
	pv_tcf_restriction *restrictions;   /* one per distinct purpose x type, in string order */
	size_t n_restrictions;

	bool has_vendors_disclosed;         /* segment type 1 present */
	pv_tcf_vector vendors_disclosed;
	bool has_vendors_allowed;           /* segment type 2 present */
	pv_tcf_vector vendors_allowed;
	bool has_publisher_tc;              /* segment type 3 present */
	uint32_t publisher_consents;        /* 24 bits */
	uint32_t publisher_legitimate_interests; /* 24 bits */
	unsigned num_custom_purposes;       /* 0..63 */
	uint64_t publisher_custom_consents; /* num_custom_purposes bits */
	uint64_t publisher_custom_legitimate_interests;
} pv_tcf;

/* A zeroed pv_tcf with version 2 and languages "EN" / "AA". 0 or PV_ENOMEM. Free with pv_tcf_free. */
int pv_tcf_new(pv_tcf **out);

/* Free a pv_tcf and everything it holds; sets *tc to NULL; accepts NULL. */
void pv_tcf_free(pv_tcf **tc);

/* Add `vendor` to the restriction purpose x type, creating it if needed. 0, PV_EINVAL, PV_ENOMEM. */
int pv_tcf_restriction_add(pv_tcf *tc, unsigned purpose, pv_tcf_restriction_type type, unsigned vendor);

/*
 * Decode the TC string s[0..len). *out is the caller's (pv_tcf_free).
 * Returns 0, PV_EINVAL (bad base64url, short segment, unknown version or
 * segment type, duplicate segment, invalid range; the message names the
 * field and bit offset), PV_ELIMIT (longer than PV_TCF_MAX_STRING) or PV_ENOMEM.
 */
int pv_tcf_decode(pv_tcf **out, const char *s, size_t len);

/*
 * Encode `tc` as a TC string: the core segment, then the disclosed vendors,
 * allowed vendors and publisher TC segments that tc marks present. Vendor
 * vectors use the bitfield or the range encoding as @iabtechlabtcf/core
 * chooses it (the shorter by its estimate), so the output is byte for byte
 * the reference library's. *out is malloc'd, NUL-terminated, the caller
 * frees it; *len (optional) is its length. 0, PV_EINVAL naming the field
 * that does not fit, or PV_ENOMEM.
 */
int pv_tcf_encode(char **out, size_t *len, const pv_tcf *tc);

/*
 * JSON form of a pv_tcf (docs/consent.md): field names of the reference
 * library (cmpId, purposeConsents, ...), id lists as arrays of numbers,
 * times as ISO 8601 UTC with milliseconds, optional segments as optional
 * keys. pv_tcf_to_json: *out malloc'd, NUL-terminated (caller frees).
 * pv_tcf_from_json: *out is the caller's (pv_tcf_free); PV_EINVAL names the
 * key that is missing, of the wrong type or out of range.
 */
int pv_tcf_to_json(char **out, const pv_tcf *tc);
int pv_tcf_from_json(pv_tcf **out, const char *json, size_t len);

/* Consent events read from a TC string, for the consent ledger. */
typedef enum {
	PV_TCF_EV_PURPOSE_CONSENT = 0,
	PV_TCF_EV_PURPOSE_LI,               /* legitimate interest (granted = not objected) */
	PV_TCF_EV_VENDOR_CONSENT,
	PV_TCF_EV_VENDOR_LI,
	PV_TCF_EV_SPECIAL_FEATURE,          /* special feature opt-in */
	PV_TCF_EV_PUBLISHER_CONSENT,
	PV_TCF_EV_PUBLISHER_LI,
	PV_TCF_EV_CUSTOM_CONSENT,           /* publisher custom purpose */
	PV_TCF_EV_CUSTOM_LI
} pv_tcf_event_kind;

typedef struct {
	pv_tcf_event_kind kind;
	unsigned id;                        /* purpose, vendor, feature or custom purpose id */
	bool granted;                       /* true: consent / LI / opt-in given; false: refused */
} pv_tcf_event;

/* "purpose_consent", "vendor_li", ... (constant). */
const char *pv_tcf_event_kind_name(pv_tcf_event_kind kind);

/*
 * Map a decoded string to consent events, in kind then id order:
 *  - purpose consents and special feature opt-ins: every defined id
 *    (1..PV_TCF_NUM_PURPOSES, 1..PV_TCF_NUM_SPECIAL_FEATURES) and any other
 *    set bit, granted or refused;
 *  - purpose LI: the same, without purposes 1, 3, 4, 5 and 6 (TCF v2.2 allows
 *    no legitimate interest for them) unless their bit is set;
 *  - vendor consents and vendor LI: when the disclosed vendors segment is
 *    present, every disclosed vendor (granted or refused) and any vendor set
 *    outside it; otherwise the vendors set (granted only: an absent bit for a
 *    vendor never disclosed is no decision);
 *  - publisher TC segment present: publisher purposes 1..PV_TCF_NUM_PURPOSES
 *    and custom purposes 1..num_custom_purposes, granted or refused.
 * *out is malloc'd (caller frees with free(); NULL when *n is 0).
 * Returns 0 or PV_ENOMEM.
 */
int pv_tcf_events(pv_tcf_event **out, size_t *n, const pv_tcf *tc);

/* ------------------------------------------------------------------------
 * US Privacy and GPP strings (src/consent/usp.c, gpp*.c, docs/consent.md)
 *
 * The US Privacy string (IAB CCPA Compliance Framework, "1YNN") and the IAB
 * Global Privacy Platform string (GPP v1: a header and '~'-separated sections)
 * decoded into plain structs, and encoded back (the encoders serve tests and
 * CMP-side tools). Decoders reject bad input with PV_EINVAL and a message that
 * names the section, the field and the bit offset, never the string itself.
 * Input longer than PV_GPP_MAX_BYTES (src/core/limits.h) is PV_ELIMIT.
 *
 * Sections decoded: tcfeuv2 (id 2, by the TC string decoder), uspv1 (id 6),
 * usnat (id 7, core and GPC sub-section, versions 1 and 2). Other section ids
 * (the US state sections 8..27, tcfcav1 5, ...) are listed with their id,
 * name and place in the string but not decoded.
 */

/* ---- US Privacy ---- */

/* One US Privacy character: yes, no, or not applicable. */
typedef enum {
	PV_USP_NA = '-',
	PV_USP_YES = 'Y',
	PV_USP_NO = 'N'
} pv_usp_flag;

typedef struct {
	int version;               /* 1 */
	pv_usp_flag notice;        /* explicit notice / opportunity to opt out given */
	pv_usp_flag opt_out_sale;  /* the consumer opted out of the sale */
	pv_usp_flag lspa_covered;  /* the publisher signed the LSPA */
} pv_usp;

/*
 * Decode a US Privacy string of `len` bytes ("1YNN", "1---"): exactly four
 * characters, version '1', then three of 'Y', 'N', '-' (upper case, as the
 * specification writes them). PV_EINVAL names the position on failure.
 */
int pv_usp_decode(pv_usp *out, const char *s, size_t len);

/* Encode into out (5 bytes: four characters and a NUL). PV_EINVAL on a bad flag or version. */
int pv_usp_encode(char out[5], const pv_usp *in);

/* 1 if the string records an opt-out of sale (opt_out_sale == 'Y'), else 0. */
int pv_usp_opted_out(const pv_usp *u);

/* ---- GPP ---- */

/* Sections one GPP string may list (the registry has 27 ids; a string lists a few). */
#define PV_GPP_MAX_SECTIONS 64

/* Section ids of the GPP section registry. */
enum {
	PV_GPP_SID_TCFEUV1 = 1,
	PV_GPP_SID_TCFEUV2 = 2,
	PV_GPP_SID_HEADER = 3,
	PV_GPP_SID_SIGNAL_INTEGRITY = 4,
	PV_GPP_SID_TCFCAV1 = 5,
	PV_GPP_SID_USPV1 = 6,
	PV_GPP_SID_USNAT = 7
	/* 8..27: usca usva usco usut usct usfl usmt usor ustx usde usia usne usnh usnj ustn usmn usmd usin usky usri */
};

/* usnat values: 0 not applicable, 1 yes (notice given / opted out / no consent),
 * 2 no; MSPA covered transaction is 1 yes or 2 no (see docs/consent.md). */
#define PV_GPP_USNAT_SENSITIVE_MAX 16
#define PV_GPP_USNAT_CHILD_MAX 3

typedef struct {
	unsigned version;                          /* 1 or 2 */
	uint8_t sharing_notice;
	uint8_t sale_opt_out_notice;
	uint8_t sharing_opt_out_notice;
	uint8_t targeted_advertising_opt_out_notice;
	uint8_t sensitive_data_processing_opt_out_notice;
	uint8_t sensitive_data_limit_use_notice;
	uint8_t sale_opt_out;
	uint8_t sharing_opt_out;
	uint8_t targeted_advertising_opt_out;
	uint8_t sensitive_data_processing[PV_GPP_USNAT_SENSITIVE_MAX]; /* 12 used in version 1 */
	uint8_t known_child_sensitive_data_consents[PV_GPP_USNAT_CHILD_MAX]; /* 2 used in version 1 */
	uint8_t personal_data_consents;
	uint8_t mspa_covered_transaction;
	uint8_t mspa_opt_out_option_mode;
	uint8_t mspa_service_provider_mode;
	int gpc_segment_included;                  /* the GPC sub-section is present */
	int gpc;                                   /* its Gpc bit */
} pv_gpp_usnat;

/*
 * Decode one usnat section ("core" or "core.gpc", without the GPP header).
 * Values must be 0..2 (MSPA covered transaction 1..2). Returns 0 or PV_EINVAL
 * naming the field and bit offset.
 */
int pv_gpp_usnat_decode(pv_gpp_usnat *out, const char *s, size_t len);

/* Entries of sensitive_data_processing / known_child_sensitive_data_consents a version uses. */
size_t pv_gpp_usnat_sensitive_count(unsigned version);
size_t pv_gpp_usnat_child_count(unsigned version);

/* One section listed in the header. */
typedef struct {
	unsigned id;
	const char *name;      /* "usnat", ...; "unknown" for an unregistered id (static) */
	int decoded;           /* 1 if decoded into the pv_gpp fields below */
	int applicable;        /* listed by pv_gpp_apply_sid (1 for all when never called) */
	size_t offset;         /* the section's bytes in the decoded string */
	size_t length;
} pv_gpp_section;

typedef struct {
	unsigned type;         /* header type: 3 */
	unsigned version;      /* header version: 1 */
	size_t n_sections;
	pv_gpp_section sections[PV_GPP_MAX_SECTIONS];
	int has_uspv1;
	pv_usp uspv1;
	int has_usnat;
	pv_gpp_usnat usnat;
	int has_tcfeuv2;
	pv_tcf *tcfeuv2;       /* the TC string decoder's result; owned, freed by pv_gpp_clear */
} pv_gpp;

/*
 * Decode a GPP string of `len` bytes into *out (which the caller owns and
 * releases with pv_gpp_clear, also after a failure). The header must be type
 * 3 version 1; its section ids (Fibonacci-coded, ranges allowed) must match
 * the '~'-separated sections one for one, none empty. Returns 0, PV_EINVAL
 * (message: section, field, bit offset), PV_ELIMIT or PV_ENOMEM.
 */
int pv_gpp_decode(pv_gpp *out, const char *s, size_t len);

/* Release what pv_gpp_decode allocated and zero *g; accepts NULL. */
void pv_gpp_clear(pv_gpp *g);

/* The section with this id, or NULL. Borrowed from g. */
const pv_gpp_section *pv_gpp_section_find(const pv_gpp *g, unsigned id);

/* The registered name of a section id ("usnat"), or "unknown". Static. */
const char *pv_gpp_section_name(unsigned id);

/*
 * Applicable sections: parse the `gpp_sid` list that travels with a GPP
 * string ("2,6", "7"; "-1" means none applies) and mark each section of g
 * as applicable or not. An id in the list but not in the string is ignored.
 * PV_EINVAL on a malformed list.
 */
int pv_gpp_apply_sid(pv_gpp *g, const char *sid, size_t len);

/*
 * Encoders (NUL-terminated, into caller buffers of `cap` bytes; PV_ELIMIT if
 * too small, PV_EINVAL on an out-of-range value):
 * the header for `n` ascending section ids, the usnat section (the GPC
 * sub-section appended when gpc_segment_included), and a whole GPP string
 * from a header and already-encoded sections (sections[i] for ids[i]).
 */
int pv_gpp_header_encode(char *out, size_t cap, const unsigned *ids, size_t n);
int pv_gpp_usnat_encode(char *out, size_t cap, const pv_gpp_usnat *u);
int pv_gpp_encode(char *out, size_t cap, const unsigned *ids, const char *const *sections, size_t n);

/*
 * The decoded string as JSON (docs/consent.md shows the shape): a
 * NUL-terminated string the caller frees with free().
 */
int pv_gpp_to_json(char **out, const pv_gpp *g);
int pv_usp_to_json(char **out, const pv_usp *u);

#ifdef __cplusplus
}
#endif
#endif
