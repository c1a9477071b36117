/*
 * Guarded blocks reused across reads (one pool per vault handle).
 *
 * sodium_malloc costs mmap + mprotect (guard pages) + madvise and
 * sodium_free mprotect + munmap: a quarter of a record read's time when each
 * read took a fresh block for its plaintexts. The pool keeps a few blocks
 * once allocated and hands them out again. A block given back is wiped
 * (sodium_memzero of the bytes that were handed out) before anyone else can
 * take it, so no plaintext outlives its record list; guard pages and mlock
 * stay as sodium_malloc set them.
 *
 * The bytes handed out end at the block's end, right before sodium's rear
 * guard page, so an overrun still faults as it did with a block of the
 * exact size. Capacities are powers of two from ARENA_MIN: a read that needs
 * more than the largest free block replaces it with one of double the size
 * (or more). Blocks larger than ARENA_KEEP_MAX are freed when given back.
 *
 * Record lists hold a reference to the pool, so a list may outlive its
 * vault handle and be freed on any thread (the pool has its own mutex).
 */
#define PV_VAULT_PRIVATE
#include "vault/vault_internal.h"

#include "core/error.h"
#include "crypto/crypto.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN 4096u                   /* smallest capacity: one page */
#define ARENA_KEEP 4                      /* free blocks kept per pool (lists alive at once on a handle) */
#define ARENA_KEEP_MAX (4u * 1024 * 1024) /* larger blocks go back to the system when given back */

typedef struct {
	uint8_t *base;
	size_t cap;
} arena_slot;

struct pv_vault_arena {
	pthread_mutex_t mu;
	int refs;
	size_t nfree;
	arena_slot free[ARENA_KEEP];
};

int pv_vault_arena_new(pv_vault_arena **out)
{
	pv_vault_arena *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (!a)
		return pv_error_set(PV_ENOMEM, "vault: out of memory");
	pthread_mutex_init(&a->mu, NULL);
	a->refs = 1;
	*out = a;
	return 0;
}

void pv_vault_arena_ref(pv_vault_arena *a)
{
	pthread_mutex_lock(&a->mu);
	a->refs++;
	pthread_mutex_unlock(&a->mu);
}

/* Drop one reference; the last one frees every kept block and the pool. NULL is a no-op. */
void pv_vault_arena_unref(pv_vault_arena *a)
{
	int last;

	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	last = --a->refs == 0;
	pthread_mutex_unlock(&a->mu);
	if (!last)
		return;
	for (size_t i = 0; i < a->nfree; i++)
		pv_secret_free(a->free[i].base);   /* wiped when given back */
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/*
 * Take a guarded block of at least `len` bytes: out->p points at `len`
 * usable bytes that end at the block's guard page. Reuses the smallest kept
 * block that is large enough; else allocates one (replacing the largest kept
 * block, which is too small). Give it back with pv_vault_arena_give().
 * PV_ENOMEM (message set) when guarded memory cannot be had.
 */
int pv_vault_arena_take(pv_vault_arena *a, size_t len, pv_vault_arena_block *out)
{
	arena_slot got = { NULL, 0 }, drop = { NULL, 0 };
	size_t best = SIZE_MAX, big = 0, cap = ARENA_MIN;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		len = 1;
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->nfree; i++) {
		if (a->free[i].cap >= len && (best == SIZE_MAX || a->free[i].cap < a->free[best].cap))
			best = i;
		if (a->free[i].cap > a->free[big].cap)
			big = i;
	}
	if (best == SIZE_MAX && a->nfree > 0) {
		best = big;
		drop = a->free[big];
	} else if (best != SIZE_MAX) {
		got = a->free[best];
	}
	if (best != SIZE_MAX)
		a->free[best] = a->free[--a->nfree];
	pthread_mutex_unlock(&a->mu);

	if (!got.base) {
		pv_secret_free(drop.base);
		if (drop.cap > cap)
			cap = drop.cap;
		while (cap < len) {
			if (cap > SIZE_MAX / 2)
				return pv_error_set(PV_ENOMEM, "read: cannot allocate guarded memory");
			cap *= 2;
		}
		got.base = pv_secret_alloc(cap);
		got.cap = cap;
		if (!got.base)
			return pv_error_set(PV_ENOMEM, "read: cannot allocate guarded memory");
	}
	out->base = got.base;
	out->cap = got.cap;
	out->len = len;
	out->p = got.base + got.cap - len;
	return 0;
}

/* Wipe the bytes handed out and keep the block (or free it when the pool is full or it is large). */
void pv_vault_arena_give(pv_vault_arena *a, pv_vault_arena_block *b)
{
	int kept = 0;

	if (!b->base)
		return;
	sodium_memzero(b->p, b->len);
	if (b->cap <= ARENA_KEEP_MAX) {
		pthread_mutex_lock(&a->mu);
		if (a->nfree < ARENA_KEEP) {
			a->free[a->nfree].base = b->base;
			a->free[a->nfree].cap = b->cap;
			a->nfree++;
			kept = 1;
		}
		pthread_mutex_unlock(&a->mu);
	}
	if (!kept)
		pv_secret_free(b->base);
	memset(b, 0, sizeof(*b));
}
