/*
 * The anonymizer's stream driver: read an fd in chunks that end on a line
 * boundary, anonymize the chunks in up to PV_LOGS_THREADS threads, write
 * them in input order.
 *
 * Each worker (the calling thread and the threads it starts) loops: take
 * the next chunk (read() under the read lock, which also numbers the
 * chunks in input order), anonymize it without any lock into the output
 * slot of its number (a ring of 2 slots per worker), mark the slot ready,
 * and if no one is writing, write every ready slot in order. Nobody waits
 * for a turn: a worker whose chunk is not next leaves it for the writer
 * and goes on with another chunk, which matters on a loaded machine. A
 * worker waits only when the slot of its chunk still holds output not yet
 * written. The read lock is not held while writing and the write lock not
 * while reading, so a worker blocked in read() on a quiet pipe never holds
 * back the output of a chunk that is done: each read that ends on a line
 * boundary is written as soon as it is anonymized.
 *
 * Lines longer than PV_LOGS_MAX_LINE are passed through unchanged, in
 * pieces when they span chunks (the "skipping" state), and counted as
 * malformed once. With a pseudonym key directory one worker runs, so that
 * the key changes at the same line as with a single thread.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/limits.h"
#include "logs/internal.h"

/* Most workers of one stream (the calling thread included). */
#define PV_LOGS_THREADS 4

/* Output slots per worker. */
#define SLOTS_PER_WORKER 2

/* The output of one chunk, waiting for its turn to be written. */
typedef struct {
	pv_logs_work w;
	int ready;                  /* anonymized, not yet written */
	int rc;                     /* the chunk failed (read or anonymize): stop there */
	char msg[PV_ERRMSG_MAX];    /* and why */
} slot;

/* The state the workers share. */
typedef struct {
	pv_logs_anon *a;
	int in_fd, out_fd;
	size_t chunk;               /* bytes asked of one read() */
	/* under rmu: the reader */
	pthread_mutex_t rmu;
	char *carry;                /* the partial line after the last newline read */
	size_t carry_len;
	int skipping;               /* inside a line longer than PV_LOGS_MAX_LINE */
	int eof, done;              /* end of input seen; nothing more to hand out */
	uint64_t next;              /* number of the next chunk */
	/* under mu: the output */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	slot *slots;                /* chunk i goes to slots[i % nslots] */
	size_t nslots;
	uint64_t turn;              /* number of the chunk to write next */
	int writing;                /* a worker is writing */
	int rc;                     /* first failure (then every worker stops) */
	char msg[PV_ERRMSG_MAX];    /* its message, for the calling thread */
} stream;

/* One chunk in a worker's input buffer. */
typedef struct {
	size_t n;                   /* bytes in the chunk */
	size_t raw_head;            /* in[0..raw_head): the end of a line being passed through */
	size_t raw_from;            /* in[raw_from..n): the start of a too-long line (n when none) */
} chunk;

typedef struct {
	stream *s;
	char *in;                   /* PV_LOGS_MAX_LINE + s->chunk bytes */
	pv_logs_stats st;
	pthread_t tid;
	int started;
} worker;

/* A line passed through unchanged: counted as a malformed line. */
static void count_raw(pv_logs_stats *st)
{
	st->lines++;
	st->malformed++;
}

/* Read once into in[have..), retrying on EINTR. Sets s->eof at the end. 0 or PV_EIO. */
static int read_some(stream *s, char *in, size_t *have)
{
	size_t room = PV_LOGS_MAX_LINE + s->chunk - *have;
	ssize_t r;

	if (room > s->chunk)
		room = s->chunk;
	do {
		r = read(s->in_fd, in + *have, room);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return pv_error_set(PV_EIO, "logs: reading the input failed (errno %d)", errno);
	if (r == 0)
		s->eof = 1;
	*have += (size_t)r;
	return 0;
}

/*
 * Under s->rmu: fill k->in with the next chunk: the carried partial line,
 * then reads until the chunk holds a newline (or the end of the input, or
 * more than PV_LOGS_MAX_LINE bytes of one line). The bytes after the last
 * newline are carried to the next chunk, unless the input ended (they are
 * the last line, without newline) or they already make a too-long line.
 * 0 or PV_EIO.
 */
static int fill(stream *s, worker *k, chunk *c)
{
	size_t have = s->carry_len;
	const char *nl;
	int rc;

	memcpy(k->in, s->carry, have);
	s->carry_len = 0;
	c->raw_head = 0;
	for (;;) {
		if (!s->eof && (rc = read_some(s, k->in, &have)) != 0)
			return rc;
		if (s->skipping) {
			/* the rest of a too-long line, up to and including its newline */
			if ((nl = memchr(k->in, '\n', have)) == NULL) {
				c->n = c->raw_head = c->raw_from = have;
				return 0;
			}
			c->raw_head = (size_t)(nl - k->in) + 1;
			s->skipping = 0;
		}
		if (s->eof) {
			c->n = c->raw_from = have;
			return 0;
		}
		nl = memrchr(k->in + c->raw_head, '\n', have - c->raw_head);
		if (nl != NULL || c->raw_head > 0) {
			size_t end = nl ? (size_t)(nl - k->in) + 1 : c->raw_head;

			c->n = have;
			c->raw_from = end;
			if (have - end > PV_LOGS_MAX_LINE) {
				/* the partial line is already too long: it starts passing through */
				s->skipping = 1;
				count_raw(&k->st);
				return 0;
			}
			memcpy(s->carry, k->in + end, have - end);
			s->carry_len = have - end;
			c->n = c->raw_from = end;
			return 0;
		}
		if (have > PV_LOGS_MAX_LINE) {
			s->skipping = 1;
			count_raw(&k->st);
			c->n = have;
			c->raw_from = 0;
			return 0;
		}
		/* a partial line of at most PV_LOGS_MAX_LINE bytes: read on */
	}
}

/* Account for one processed line. */
static void count(pv_logs_stats *st, int rc, uint64_t addrs)
{
	st->lines++;
	if (rc == 1)
		st->changed++;
	else if (rc == 2)
		st->malformed++;
	st->addresses += addrs;
}

/*
 * Anonymize the chunk in k->in into w->out (emptied first): the raw head
 * and tail unchanged, every line between through pv_logs_work_line, lines
 * over PV_LOGS_MAX_LINE unchanged. The last line of the input has no
 * newline and keeps none. 0 or a PV_E* code.
 */
static int process_chunk(worker *k, const chunk *c, pv_logs_work *w)
{
	const char *in = k->in;
	size_t pos = c->raw_head;
	int rc;

	w->out_len = 0;
	if ((rc = pv_logs_work_put(w, in, c->raw_head)) != 0)
		return rc;
	while (pos < c->raw_from) {
		const char *nl = memchr(in + pos, '\n', c->raw_from - pos);
		size_t len = nl ? (size_t)(nl - (in + pos)) : c->raw_from - pos;
		size_t with_nl = len + (nl != NULL);

		if (len > PV_LOGS_MAX_LINE) {
			if ((rc = pv_logs_work_put(w, in + pos, with_nl)) != 0)
				return rc;
			count_raw(&k->st);
		} else {
			int lr = pv_logs_work_line(w, in + pos, len, with_nl - len);

			if (lr < 0)
				return lr;
			count(&k->st, lr, w->addrs);
		}
		pos += with_nl;
	}
	return pv_logs_work_put(w, in + c->raw_from, c->n - c->raw_from);
}

/* Write all of p[0..n) to fd. 0 or PV_EIO. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return pv_error_set(PV_EIO, "logs: writing the output failed (errno %d)", errno);
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Record the first failure and its message, and wake every worker. Under s->mu. */
static void fail_locked(stream *s, int rc, const char *msg)
{
	if (s->rc == 0) {
		s->rc = rc;
		snprintf(s->msg, sizeof(s->msg), "%s", msg);
	}
	pthread_cond_broadcast(&s->cv);
}

/*
 * Under s->mu, with s->writing set: write the ready slots from s->turn on,
 * in order, releasing the lock during each write(). Stops at the first slot
 * not ready, or at a failed chunk or write (recorded in s->rc).
 */
static void write_ready(stream *s)
{
	for (;;) {
		slot *o = &s->slots[s->turn % s->nslots];
		int rc;

		if (s->rc != 0 || !o->ready)
			return;
		if (o->rc != 0) {
			fail_locked(s, o->rc, o->msg);
			return;
		}
		pthread_mutex_unlock(&s->mu);
		rc = write_all(s->out_fd, o->w.out, o->w.out_len);
		pthread_mutex_lock(&s->mu);
		if (rc != 0) {
			fail_locked(s, rc, pv_error_last());
			return;
		}
		o->ready = 0;
		s->turn++;
		pthread_cond_broadcast(&s->cv);
	}
}

/* A worker: take and anonymize chunks until the input ends or something fails; write what is ready. */
static void *work(void *arg)
{
	worker *k = arg;
	stream *s = k->s;

	for (;;) {
		chunk c = { 0, 0, 0 };
		uint64_t idx;
		slot *o;
		int rc;

		pthread_mutex_lock(&s->rmu);
		if (s->done) {
			pthread_mutex_unlock(&s->rmu);
			break;
		}
		idx = s->next++;
		rc = fill(s, k, &c);
		if (rc == 0 && s->a->key_dir != NULL)
			rc = pv_logs_key_refresh(s->a);   /* one worker only: see the top */
		if (rc != 0 || (s->eof && s->carry_len == 0))
			s->done = 1;
		pthread_mutex_unlock(&s->rmu);

		/* the slot of this chunk is free once the chunk nslots before it is written */
		pthread_mutex_lock(&s->mu);
		while (s->turn + s->nslots <= idx && s->rc == 0)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->rc != 0) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		o = &s->slots[idx % s->nslots];
		if (rc == 0)
			rc = process_chunk(k, &c, &o->w);
		o->rc = rc;
		if (rc != 0)
			snprintf(o->msg, sizeof(o->msg), "%s", pv_error_last());

		pthread_mutex_lock(&s->mu);
		o->ready = 1;
		if (!s->writing) {
			s->writing = 1;
			write_ready(s);
			s->writing = 0;
		}
		rc = s->rc;
		pthread_mutex_unlock(&s->mu);
		if (rc != 0)
			break;
	}
	/* a failure ends the input for everyone */
	pthread_mutex_lock(&s->rmu);
	pthread_mutex_lock(&s->mu);
	if (s->rc != 0)
		s->done = 1;
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->rmu);
	return NULL;
}

/* How many workers: one with a pseudonym key, else one per online CPU up to PV_LOGS_THREADS. */
static int workers_wanted(const pv_logs_anon *a)
{
	long n;

	if (a->key_dir != NULL)
		return 1;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > PV_LOGS_THREADS ? PV_LOGS_THREADS : (int)n;
}

int pv_logs_anon_fd(pv_logs_anon *a, int in_fd, int out_fd, pv_logs_stats *st_out)
{
	worker k[PV_LOGS_THREADS];
	stream s;
	int nk = workers_wanted(a), rc = 0;

	memset(&s, 0, sizeof(s));
	memset(k, 0, sizeof(k));
	s.a = a;
	s.in_fd = in_fd;
	s.out_fd = out_fd;
	s.chunk = PV_LOGS_WRITE_CHUNK;   /* one chunk's output is about one write */
	pthread_mutex_init(&s.rmu, NULL);
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cv, NULL);
	if ((s.carry = malloc(PV_LOGS_MAX_LINE)) == NULL)
		goto nomem;
	for (int i = 0; i < nk; i++) {
		k[i].s = &s;
		if ((k[i].in = malloc(PV_LOGS_MAX_LINE + s.chunk)) == NULL) {
			if (i == 0)
				goto nomem;
			nk = i;   /* fewer workers */
			break;
		}
	}
	s.nslots = (size_t)nk * SLOTS_PER_WORKER;
	if ((s.slots = calloc(s.nslots, sizeof(*s.slots))) == NULL)
		goto nomem;
	for (size_t i = 0; i < s.nslots; i++)
		s.slots[i].w.h = a;
	/* the handle's own output buffer serves as the first slot */
	s.slots[0].w = a->w;
	for (int i = 1; i < nk; i++)
		k[i].started = pthread_create(&k[i].tid, NULL, work, &k[i]) == 0;
	work(&k[0]);
	for (int i = 1; i < nk; i++)
		if (k[i].started)
			pthread_join(k[i].tid, NULL);
	a->w = s.slots[0].w;
	a->w.out_len = 0;
	s.slots[0].w.out = NULL;
	if (s.rc != 0)
		rc = pv_error_set(s.rc, "%s", s.msg);
	if (st_out != NULL) {
		for (int i = 0; i < nk; i++) {
			st_out->lines += k[i].st.lines;
			st_out->changed += k[i].st.changed;
			st_out->malformed += k[i].st.malformed;
			st_out->addresses += k[i].st.addresses;
		}
	}
	goto done;
nomem:
	rc = pv_error_set(PV_ENOMEM, "logs: no memory for the stream buffers");
done:
	for (int i = 0; i < PV_LOGS_THREADS; i++)
		free(k[i].in);
	for (size_t i = 0; s.slots != NULL && i < s.nslots; i++)
		free(s.slots[i].w.out);
	free(s.slots);
	free(s.carry);
	pthread_cond_destroy(&s.cv);
	pthread_mutex_destroy(&s.mu);
	pthread_mutex_destroy(&s.rmu);
	return rc;
}
