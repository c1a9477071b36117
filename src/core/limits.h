/*
 * Every size, depth and count that input can push, with the reason for its value.
 * Hostile input is checked against these before anything is copied or allocated.
 */
#ifndef PV_CORE_LIMITS_H
#define PV_CORE_LIMITS_H

/* Policy files: a real policy is tens of kilobytes; 4 MiB leaves room for big cookie tables. */
#define PV_POLICY_MAX_BYTES (4u * 1024 * 1024)
/* YAML nesting depth: the format is at most 5 deep; 32 stops billion-laughs style recursion. */
#define PV_POLICY_MAX_DEPTH 32
/* Items in any one policy list (categories, purposes, cookies, ...). */
#define PV_POLICY_MAX_ITEMS 4096
/* Any one scalar in a policy (descriptions are prose; 64 KiB is generous). */
#define PV_POLICY_MAX_SCALAR 65536
/* Diagnostics reported by one `policy check` before it stops collecting. */
#define PV_POLICY_MAX_DIAGS 200

/* Ids of categories, purposes, sources, recipients: ^[a-z][a-z0-9_]{0,63}$ */
#define PV_ID_MAX 64
/* Identifier kinds (email, phone, login, ...): same shape as ids. */
#define PV_IDENT_KIND_MAX 32
/* One identifier value (an email address is at most 254 octets; leave room for logins). */
#define PV_IDENT_VALUE_MAX 1024
/* Identifiers given when creating one subject. */
#define PV_SUBJECT_MAX_IDENTS 64
/* One record's plaintext (JSON). Records are fields of a person, not files. */
#define PV_RECORD_MAX_BYTES (1024u * 1024)
/* JSON nesting inside a record. */
#define PV_RECORD_MAX_DEPTH 32
/* Records returned by one read of a subject. */
#define PV_READ_MAX_RECORDS 100000

/* Bulk import: one line of JSON lines or CSV. */
#define PV_IMPORT_MAX_LINE (1024u * 1024)
/* Bulk import: rows committed per transaction by default, and the largest allowed batch. */
#define PV_IMPORT_DEFAULT_BATCH 1000
#define PV_IMPORT_MAX_BATCH 100000
/* CSV columns in one import file. */
#define PV_IMPORT_MAX_COLUMNS 256

/* Key file: size and number of key versions kept. */
#define PV_KEYFILE_MAX_BYTES 65536
#define PV_KEY_MAX_VERSIONS 1000

/* Audit: actor names and action names (no personal data: service names, not people). */
#define PV_AUDIT_ACTOR_MAX 128
#define PV_AUDIT_ACTION_MAX 64
/* Audit: entries between signed checkpoints by default. */
#define PV_AUDIT_CHECKPOINT_EVERY 1000

/* Access logs (src/logs, added by the logs module): the longest line the anonymizer parses
 * (longer lines pass through unchanged and are counted as malformed); real access-log lines
 * are under 16 KiB, 1 MiB leaves room for JSON lines with large headers. */
#define PV_LOGS_MAX_LINE (1024u * 1024)
/* Access logs: bytes asked of read() at once, and output buffered before each write(). */
#define PV_LOGS_READ_CHUNK (4u * 1024 * 1024)
#define PV_LOGS_WRITE_CHUNK (1024u * 1024)

/* Consent signals (src/consent, added by the TCF codec): the longest TC string decoded.
 * A TC string with bitfields for 65535 vendors in all four vendor vectors is ~44 KiB;
 * real strings are under 4 KiB. */
#define PV_TCF_MAX_STRING (64u * 1024)

/* GPP strings (src/consent/gpp*.c): a header and its sections; a tcfeuv2 section is a TC
 * string (PV_TCF_MAX_STRING), so the whole string gets that plus room for the US sections. */
#define PV_GPP_MAX_BYTES (80u * 1024)
/* The largest section id a GPP header may list (the registry ends at 27 in 2025). */
#define PV_GPP_MAX_SECTION_ID 4095

#endif
