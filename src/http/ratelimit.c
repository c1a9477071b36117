/*
 * Failed-authentication limiter: one token bucket per key id and per client
 * address. Each failure takes a token; a bucket refills at `per_minute`
 * tokens a minute up to `burst`. A request whose key id or address has an
 * empty bucket is answered 429 with Retry-After before its key is checked.
 *
 * Buckets live in a fixed table of PV_HTTP_RL_SLOTS (open addressing by a
 * keyed hash of the text); when the probe window is full the oldest bucket
 * there is replaced, so memory stays bounded whatever clients send. A full
 * bucket is the same as no bucket, so only clients that failed take a slot.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"

#define RL_KEY_MAX 64
#define RL_PROBE 8

typedef struct {
	char key[RL_KEY_MAX];
	double tokens;
	uint64_t at_ns;    /* last refill; 0 = free slot */
} bucket;

struct pv_http_ratelimit {
	pthread_mutex_t mu;
	int burst;
	int per_minute;
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	bucket slots[PV_HTTP_RL_SLOTS];
};

int pv_http_ratelimit_new(pv_http_ratelimit **out, int burst, int per_minute)
{
	pv_http_ratelimit *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (r == NULL)
		return -1;
	pthread_mutex_init(&r->mu, NULL);
	randombytes_buf(r->hash_key, sizeof(r->hash_key));
	pv_http_ratelimit_configure(r, burst, per_minute);
	*out = r;
	return 0;
}

void pv_http_ratelimit_free(pv_http_ratelimit *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r);
}

void pv_http_ratelimit_configure(pv_http_ratelimit *r, int burst, int per_minute)
{
	pthread_mutex_lock(&r->mu);
	r->burst = burst > 0 ? burst : 1;
	r->per_minute = per_minute > 0 ? per_minute : 1;
	pthread_mutex_unlock(&r->mu);
}

static size_t slot_of(const pv_http_ratelimit *r, const char *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, (const unsigned char *)key, strlen(key), r->hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)(v % PV_HTTP_RL_SLOTS);
}

/* Bring a bucket's tokens up to `now`. */
static void refill(const pv_http_ratelimit *r, bucket *b, uint64_t now_ns)
{
	if (now_ns > b->at_ns) {
		b->tokens += (double)(now_ns - b->at_ns) * r->per_minute / 60e9;
		if (b->tokens > r->burst)
			b->tokens = r->burst;
		b->at_ns = now_ns;
	}
}

/* The bucket of `key`, or NULL; with `create`, a new full one (replacing the stalest of the window). */
static bucket *find(pv_http_ratelimit *r, const char *key, uint64_t now_ns, int create)
{
	size_t s = slot_of(r, key), i;
	bucket *free_b = NULL, *oldest = NULL;

	for (i = 0; i < RL_PROBE; i++) {
		bucket *b = &r->slots[(s + i) % PV_HTTP_RL_SLOTS];

		if (b->at_ns == 0) {
			if (free_b == NULL)
				free_b = b;
			continue;
		}
		if (strncmp(b->key, key, RL_KEY_MAX) == 0)
			return b;
		if (oldest == NULL || b->at_ns < oldest->at_ns)
			oldest = b;
	}
	if (!create)
		return NULL;
	if (free_b == NULL)
		free_b = oldest;
	snprintf(free_b->key, sizeof(free_b->key), "%s", key);
	free_b->tokens = r->burst;
	free_b->at_ns = now_ns > 0 ? now_ns : 1;
	return free_b;
}

int pv_http_ratelimit_check(pv_http_ratelimit *r, const char *key, uint64_t now_ns)
{
	bucket *b;
	int wait = 0;

	pthread_mutex_lock(&r->mu);
	b = find(r, key, now_ns, 0);
	if (b != NULL) {
		refill(r, b, now_ns);
		if (b->tokens < 1.0) {
			double secs = (1.0 - b->tokens) * 60.0 / r->per_minute;

			wait = (int)secs + 1;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return wait;
}

void pv_http_ratelimit_fail(pv_http_ratelimit *r, const char *key, uint64_t now_ns)
{
	bucket *b;

	pthread_mutex_lock(&r->mu);
	b = find(r, key, now_ns, 1);
	refill(r, b, now_ns);
	b->tokens -= 1.0;
	if (b->tokens < 0)
		b->tokens = 0;
	pthread_mutex_unlock(&r->mu);
}
