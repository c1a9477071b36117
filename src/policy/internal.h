/*
 * Internals of the policy module: the arena, the YAML node tree, the
 * description table of the format (spec) and the validation context.
 *
 * Flow: tree.c turns bytes into a tree of nodes with marks (rejecting
 * anchors, aliases, extra documents and anything over a limit); validate.c
 * walks the tree against the spec table of spec.c and fills the model structs
 * at the offsets the table names; policy.c runs the cross checks, builds the
 * indexes and answers queries; json.c emits the model and the JSON Schema
 * from the same table.
 */
#ifndef PV_POLICY_INTERNAL_H
#define PV_POLICY_INTERNAL_H

#include "privault/policy.h"

#include <stddef.h>

/* ---- arena: everything of one policy is freed at once ---- */

typedef struct pv_arena_chunk pv_arena_chunk;
typedef struct {
	pv_arena_chunk *head;
} pv_arena;

void *pv_arena_alloc(pv_arena *a, size_t size);   /* zeroed, aligned; NULL on ENOMEM */
char *pv_arena_strndup(pv_arena *a, const char *s, size_t n);
void pv_arena_free(pv_arena *a);

/* ---- the YAML tree ---- */

typedef enum { PV_NODE_SCALAR, PV_NODE_MAP, PV_NODE_SEQ } pv_node_kind;

typedef struct pv_node {
	pv_node_kind kind;
	int line, column;          /* 1-based */
	int plain;                 /* scalar written plain (unquoted, untagged) */
	int alias;                 /* stands in for a rejected alias: already reported, skip it */
	const char *str;           /* scalar text, NUL-terminated */
	size_t len;
	struct pv_node *first, *last, *next;   /* children: a map holds key, value, key, value ... */
	size_t n;                  /* number of children (2 per map pair) */
} pv_node;

/* ---- validation context ---- */

typedef enum { PV_REF_NONE, PV_REF_CATEGORY, PV_REF_SOURCE, PV_REF_PURPOSE, PV_REF_RECIPIENT,
	       PV_REF_EXCEPTION, PV_REF_COUNT } pv_ref_kind;

typedef struct {
	const char *id;
	int line, column;
	const char *path;
} pv_id_entry;

typedef struct {
	pv_id_entry *v;
	size_t n, cap;
} pv_id_list;

typedef struct {
	pv_ref_kind kind;
	int star_ok;
	const char *id;
	int line, column;
	const char *path;
} pv_pending_ref;

typedef struct pv_pctx {
	pv_arena *arena;
	const char *file;
	pv_policy_diags *diags;
	size_t errors;              /* counted even when diags is NULL or full */
	int nomem;
	char path[1024];
	size_t pathlen;
	pv_id_list ids[PV_REF_COUNT];       /* declared ids, in order */
	pv_pending_ref *refs;
	size_t nrefs, capref;
	struct pv_policy *policy;
} pv_pctx;

/* Record an error at (line, column) for the current path (+ optional suffix). */
void pv_pctx_error(pv_pctx *c, int line, int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void pv_pctx_error_at(pv_pctx *c, int line, int column, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Sort the diagnostics from index `from` on by position (for one load's errors). */
void pv_policy_diags_sort_from(pv_policy_diags *d, size_t from);
/* Append ".key" or "[i]" to the path; returns the old length for pv_pctx_pop. */
size_t pv_pctx_push_key(pv_pctx *c, const char *key);
size_t pv_pctx_push_index(pv_pctx *c, size_t i);
void pv_pctx_pop(pv_pctx *c, size_t oldlen);

/* Parse bytes into a tree. Returns the root or NULL (errors are in c). */
pv_node *pv_tree_parse(pv_pctx *c, const char *buf, size_t len);

/* The value node of key `key` in map `m` (first occurrence), or NULL. */
const pv_node *pv_node_get(const pv_node *m, const char *key);

/* ---- suggestions ---- */

/* Damerau-Levenshtein (optimal string alignment) distance, capped at 255. */
unsigned pv_edit_distance(const char *a, const char *b);
/* The nearest of `n` candidates within a distance of 2 (and less than the word's length), or NULL. */
const char *pv_suggest(const char *word, const char *const *cands, size_t n);

/* ---- the description table ---- */

typedef enum {
	PV_T_STRING,   /* any non-null scalar */
	PV_T_ID,       /* ^[a-z][a-z0-9_]{0,63}$, registered as a declared id of the spec's kind */
	PV_T_REF,      /* an id declared elsewhere (key.ref), or "*" with PV_K_STAR */
	PV_T_INT,      /* plain integer within key.min..key.max */
	PV_T_BOOL,     /* plain true / false */
	PV_T_DATE,     /* YYYY-MM-DD -> pv_time */
	PV_T_DURATION, /* pv_duration_parse; session / indefinite only with their flags */
	PV_T_ENUM,     /* one of key.values */
	PV_T_COUNTRY,  /* two upper-case letters */
	PV_T_HTTPS,    /* https:// URL */
	PV_T_MAP,      /* a map described by key.child, stored inline at key.off */
	PV_T_LIST,     /* a list of key.item (a map of key.child when item is PV_T_MAP) */
	PV_T_COUNT
} pv_ptype;

enum {
	PV_K_REQUIRED = 1 << 0,
	PV_K_NONEMPTY = 1 << 1,   /* list: at least one item */
	PV_K_STAR = 1 << 2,       /* ref: "*" allowed */
	PV_K_SESSION = 1 << 3,    /* duration: "session" allowed */
	PV_K_INDEFINITE = 1 << 4, /* duration: "indefinite" allowed */
	PV_K_ESTR = 1 << 5,       /* enum: stored as its canonical string, not its index */
	PV_K_ECHAR = 1 << 6       /* enum: stored as its first character */
};

typedef struct pv_pspec pv_pspec;

typedef struct {
	const char *name;
	pv_ptype type;
	pv_ptype item;             /* PV_T_LIST: type of the items */
	unsigned flags;
	const char *const *values; /* PV_T_ENUM: NULL-terminated */
	const pv_pspec *child;     /* PV_T_MAP, or PV_T_LIST of PV_T_MAP */
	int min, max;              /* PV_T_INT range */
	pv_ref_kind ref;           /* PV_T_REF */
	size_t off;                /* where the value goes in the struct */
	size_t has;                /* offset + 1 of an int set to 1 when present (0: none) */
	size_t cnt;                /* PV_T_LIST: offset of the size_t item count */
	const char *def;           /* default, written as it would be in YAML */
	const char *doc;
} pv_pkey;

typedef void (*pv_pcheck)(pv_pctx *c, const pv_node *map, void *item);

struct pv_pspec {
	const char *name;          /* $defs name in the JSON Schema */
	const char *doc;
	size_t size;               /* sizeof the struct an item of a list fills */
	pv_ref_kind kind;          /* list items register their PV_T_ID under this kind */
	size_t index_off;          /* offset + 1 of the item's size_t index (0: none) */
	const pv_pkey *keys;
	size_t nkeys;
	pv_pcheck check;           /* cross-field checks after the map is filled, or NULL */
};

extern const pv_pspec pv_policy_spec_root;
extern const char *const pv_regime_names[];
extern const char *const pv_request_names[];

/* Walk map node `m` against `spec`, filling the struct at `base`. */
void pv_validate_map(pv_pctx *c, const pv_node *m, const pv_pspec *spec, void *base);

/* Scalar conversion of one value by key type, used for values and defaults. 0 or -1. */
int pv_validate_scalar(pv_pctx *c, const pv_pkey *k, pv_ptype t, const pv_node *n, void *dst);

/* Spec hooks (policy.c). */
void pv_policy_check_regimes(pv_pctx *c, const pv_node *m, void *item);
void pv_policy_check_lawful_basis(pv_pctx *c, const pv_node *m, void *item);
void pv_policy_check_rights(pv_pctx *c, const pv_node *m, void *item);
void pv_policy_check_retention(pv_pctx *c, const pv_node *m, void *item);

/* ---- the model ---- */

struct pv_policy {
	pv_arena arena;
	char *source;              /* exact bytes + NUL */
	size_t source_len;
	char hash[65];
	/* filled by the table */
	int format;
	const char *version, *title, *url;
	pv_time effective;
	pv_policy_controller controller;
	pv_policy_regime_settings regimes[PV_REGIME_COUNT];
	pv_policy_category *categories;  size_t ncategories;
	pv_policy_source_def *sources;   size_t nsources;
	pv_policy_purpose *purposes;     size_t npurposes;
	pv_policy_recipient *recipients; size_t nrecipients;
	pv_policy_cookie *cookies;       size_t ncookies;
	int has_access_logs;  pv_duration access_logs;
	pv_policy_retention_rule *rules; size_t nrules;
	pv_policy_exception *exceptions; size_t nexceptions;
	pv_policy_rights rights[PV_REGIME_COUNT];
	pv_policy_children children;
	pv_policy_changes changes;
	/* derived */
	pv_regime default_regime;
	const pv_policy_category **cat_sorted;
	const pv_policy_purpose **pur_sorted;
	const pv_policy_source_def **src_sorted;
	const pv_policy_recipient **rec_sorted;
	const pv_policy_exception **exc_sorted;
};

#endif
