/*
 * Temporary home of the US Privacy / GPP part of include/privault/consent_signals.h
 * until that header exists: the body below is appended to it then.
 */
#ifndef PV_CONSENT_GPP_API_H
#define PV_CONSENT_GPP_API_H
#include <stddef.h>
#include <stdint.h>

#include "privault/consent_signals.h"

/* ---- Signals: US Privacy and GPP (src/consent/usp.c, gpp*.c) ----------------
 *
 * The US Privacy string (IAB CCPA Compliance Framework, "1YNN") and the IAB
 * Global Privacy Platform string (GPP v1: a header and '~'-separated sections)
 * decoded into plain structs, and encoded back (the encoders serve tests and
 * CMP-side tools). Decoders reject bad input with PV_EINVAL and a message that
 * names the section, the field and the bit offset, never the string itself.
 * Input longer than PV_GPP_MAX_BYTES is PV_ELIMIT.
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

#endif
