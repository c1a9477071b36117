/*
 * YAML bytes -> a tree of pv_node, through libyaml's event parser.
 *
 * The event parser is used rather than libyaml's document loader so that
 * aliases are never expanded (billion laughs): anchors and aliases are errors.
 * Depth, items per collection and scalar sizes are checked against
 * src/core/limits.h as the events arrive, before anything is copied.
 */
#include "policy/internal.h"
#include "core/limits.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* ---- arena ---- */

struct pv_arena_chunk {
	pv_arena_chunk *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_CHUNK 65536

/*
 * Zeroed memory from the arena, aligned for any type. Large requests get a
 * chunk of their own. Returns NULL when out of memory.
 */
void *pv_arena_alloc(pv_arena *a, size_t size)
{
	const size_t align = alignof(max_align_t);
	pv_arena_chunk *ch = a->head;
	void *p;

	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if (!ch || ch->cap - ch->used < size) {
		size_t cap = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;

		ch = malloc(sizeof(*ch) + cap);
		if (!ch)
			return NULL;
		ch->used = 0;
		ch->cap = cap;
		if (a->head && cap != ARENA_CHUNK) {
			/* keep the current chunk at the head for small allocations */
			ch->next = a->head->next;
			a->head->next = ch;
		} else {
			ch->next = a->head;
			a->head = ch;
		}
	}
	p = ch->data + ch->used;
	ch->used += size;
	memset(p, 0, size);
	return p;
}

char *pv_arena_strndup(pv_arena *a, const char *s, size_t n)
{
	char *d = pv_arena_alloc(a, n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

void pv_arena_free(pv_arena *a)
{
	pv_arena_chunk *ch = a->head;

	while (ch) {
		pv_arena_chunk *next = ch->next;
		free(ch);
		ch = next;
	}
	a->head = NULL;
}

/* ---- tree ---- */

const pv_node *pv_node_get(const pv_node *m, const char *key)
{
	if (!m || m->kind != PV_NODE_MAP)
		return NULL;
	for (const pv_node *k = m->first; k && k->next; k = k->next->next)
		if (k->kind == PV_NODE_SCALAR && !strcmp(k->str, key))
			return k->next;
	return NULL;
}

typedef struct {
	pv_pctx *c;
	const char *buf;
	size_t len;
	pv_node *stack[PV_POLICY_MAX_DEPTH + 1];
	int depth;
	int overflow;   /* collections nested deeper than the limit, being skipped */
} tree_state;

/* 1-based line and column of a byte offset, for reader errors that carry no mark. */
static void offset_mark(const char *buf, size_t len, size_t off, int *line, int *col)
{
	int l = 1, cl = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			l++;
			cl = 1;
		} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
			cl++;
		}
	}
	*line = l;
	*col = cl;
}

static void parser_error(tree_state *s, yaml_parser_t *p)
{
	int line, col;
	const char *what = p->problem ? p->problem : "unknown error";

	if (p->error == YAML_READER_ERROR) {
		offset_mark(s->buf, s->len, p->problem_offset, &line, &col);
		pv_pctx_error(s->c, line, col, "invalid input: %s (byte offset %zu)", what,
			      p->problem_offset);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR) {
		s->c->nomem = 1;
		return;
	}
	line = (int)p->problem_mark.line + 1;
	col = (int)p->problem_mark.column + 1;
	if (p->context)
		pv_pctx_error(s->c, line, col, "invalid YAML: %s %s (line %d, column %d)", what,
			      p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
	else
		pv_pctx_error(s->c, line, col, "invalid YAML: %s", what);
}

/* Attach `n` to the open collection on top of the stack (or make it the root). */
static int attach(tree_state *s, pv_node *n, pv_node **root)
{
	pv_node *parent;

	if (s->depth == 0) {
		*root = n;
		return 0;
	}
	parent = s->stack[s->depth - 1];
	if ((parent->kind == PV_NODE_MAP ? parent->n / 2 : parent->n) >= PV_POLICY_MAX_ITEMS) {
		if (parent->n == (parent->kind == PV_NODE_MAP ? 2u * PV_POLICY_MAX_ITEMS : PV_POLICY_MAX_ITEMS))
			pv_pctx_error(s->c, n->line, n->column, "more than %d items in one %s",
				      PV_POLICY_MAX_ITEMS, parent->kind == PV_NODE_MAP ? "map" : "list");
		parent->n++;   /* count once past the limit so the error is reported once */
		return -1;
	}
	if (parent->last)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	parent->n++;
	return 0;
}

static pv_node *new_node(tree_state *s, pv_node_kind kind, yaml_mark_t mark)
{
	pv_node *n = pv_arena_alloc(s->c->arena, sizeof(*n));

	if (!n) {
		s->c->nomem = 1;
		return NULL;
	}
	n->kind = kind;
	n->line = (int)mark.line + 1;
	n->column = (int)mark.column + 1;
	return n;
}

static void reject_anchor(tree_state *s, const yaml_char_t *anchor, yaml_mark_t mark)
{
	if (anchor)
		pv_pctx_error(s->c, (int)mark.line + 1, (int)mark.column + 1,
			      "YAML anchors are not allowed in a policy (write the value out)");
}

/* Handle one scalar event. Returns 0 or -1 (out of memory). */
static int on_scalar(tree_state *s, yaml_event_t *e, pv_node **root)
{
	pv_node *n;
	size_t len = e->data.scalar.length;

	reject_anchor(s, e->data.scalar.anchor, e->start_mark);
	if (s->overflow)
		return 0;
	if (len > PV_POLICY_MAX_SCALAR) {
		pv_pctx_error(s->c, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
			      "scalar of %zu bytes exceeds the limit of %d bytes", len, PV_POLICY_MAX_SCALAR);
		len = 0;
	}
	if (len && memchr(e->data.scalar.value, '\0', len)) {
		pv_pctx_error(s->c, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
			      "scalar contains a NUL character");
		len = 0;
	}
	n = new_node(s, PV_NODE_SCALAR, e->start_mark);
	if (!n)
		return -1;
	n->str = pv_arena_strndup(s->c->arena, (const char *)e->data.scalar.value, len);
	if (!n->str) {
		s->c->nomem = 1;
		return -1;
	}
	n->len = len;
	n->plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && e->data.scalar.plain_implicit;
	attach(s, n, root);
	return 0;
}

static int on_start(tree_state *s, pv_node_kind kind, yaml_event_t *e, pv_node **root)
{
	const yaml_char_t *anchor = kind == PV_NODE_MAP ? e->data.mapping_start.anchor
							: e->data.sequence_start.anchor;
	pv_node *n;

	reject_anchor(s, anchor, e->start_mark);
	if (s->overflow || s->depth >= PV_POLICY_MAX_DEPTH) {
		if (!s->overflow)
			pv_pctx_error(s->c, (int)e->start_mark.line + 1, (int)e->start_mark.column + 1,
				      "nesting deeper than %d levels", PV_POLICY_MAX_DEPTH);
		s->overflow++;
		return 0;
	}
	n = new_node(s, kind, e->start_mark);
	if (!n)
		return -1;
	attach(s, n, root);
	s->stack[s->depth++] = n;
	return 0;
}

static void on_end(tree_state *s)
{
	if (s->overflow)
		s->overflow--;
	else if (s->depth > 0)
		s->depth--;
}

/*
 * Parse `len` bytes into a tree allocated in c->arena. Errors (syntax,
 * anchors, aliases, limits, several documents, empty input) go to c; the
 * root is returned when parsing got through the whole stream, else NULL.
 */
pv_node *pv_tree_parse(pv_pctx *c, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_event_t e;
	tree_state s;
	pv_node *root = NULL;
	int docs = 0, done = 0, ok = 0;

	memset(&s, 0, sizeof(s));
	s.c = c;
	s.buf = buf;
	s.len = len;
	if (!yaml_parser_initialize(&parser)) {
		c->nomem = 1;
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &e)) {
			parser_error(&s, &parser);
			break;
		}
		switch (e.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				pv_pctx_error(c, (int)e.start_mark.line + 1, (int)e.start_mark.column + 1,
					      "a policy file holds one YAML document; found a second one");
				done = 1;
			}
			break;
		case YAML_SCALAR_EVENT:
			if (on_scalar(&s, &e, &root))
				done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			if (on_start(&s, PV_NODE_MAP, &e, &root))
				done = 1;
			break;
		case YAML_SEQUENCE_START_EVENT:
			if (on_start(&s, PV_NODE_SEQ, &e, &root))
				done = 1;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			on_end(&s);
			break;
		case YAML_ALIAS_EVENT:
			pv_pctx_error(c, (int)e.start_mark.line + 1, (int)e.start_mark.column + 1,
				      "YAML aliases are not allowed in a policy (write the value out)");
			if (!s.overflow) {
				/* stand in an empty scalar so the surrounding map stays paired */
				pv_node *n = new_node(&s, PV_NODE_SCALAR, e.start_mark);
				if (!n || !(n->str = pv_arena_strndup(c->arena, "", 0))) {
					c->nomem = 1;
					done = 1;
				} else {
					n->alias = 1;
					attach(&s, n, &root);
				}
			}
			break;
		case YAML_STREAM_END_EVENT:
			done = ok = 1;
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&parser);
	if (ok && !root && !c->errors)
		pv_pctx_error(c, 1, 1, "the policy is empty");
	return ok ? root : NULL;
}
