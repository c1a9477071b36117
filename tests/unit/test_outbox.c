/*
 * Outbox tests: webhook signatures (a valid one verifies; a tampered body, a
 * wrong secret, a stale timestamp or a malformed header fail), messages sealed
 * at rest and wiped once delivered, the file sender, the command sender with
 * retries and exponential backoff driven by the test clock up to "failed",
 * a queued message rolled back with its batch, and signed webhooks POSTed to
 * a local receiver (200 delivered with a signature the recipient verifies;
 * 500 retried).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vault_fixture.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privault/outbox.h"
#include "privault/privault.h"
#include "store/store.h"
#include "vault/vault_internal.h"

#define POLICY PV_SOURCE_ROOT "/tests/data/fulfil-policy.yaml"

static const pv_caller ADMIN = { "test-admin", PV_ROLE_ADMIN, NULL, 0 };
static const pv_caller SERVICE = { "test-service", PV_ROLE_SERVICE, NULL, 0 };
static const pv_time T0 = 1741608000;

typedef pv_test_fixture fixture;

static int setup(void **state)
{
	unsetenv("PRIVAULT_OUTBOX_MAIL");
	return pv_test_fixture_setup(state, POLICY, "obx", T0);
}

static int teardown(void **state)
{
	return pv_test_fixture_teardown(state);
}

static void email(pv_vault *v, const char *to, const char *body, char id[PV_ID_LEN + 1])
{
	pv_outbox_message m = { .channel = PV_OUTBOX_EMAIL, .destination = to, .topic = "verification_code",
				.mail_subject = "Your code", .body = body, .len = strlen(body) };

	assert_int_equal(pv_outbox_enqueue(v, &SERVICE, &m, id), 0);
}

static pv_outbox_entry entry(pv_vault *v, const char *id)
{
	pv_outbox_entry *l = NULL, e = { 0 };
	size_t n;

	assert_int_equal(pv_outbox_list(v, &ADMIN, -1, 0, &l, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].id, id) == 0) {
			e = l[i];
			free(l);
			return e;
		}
	fail_msg("no message %s", id);
	return e;
}

typedef struct {
	int found;
	size_t payload_len;
	int has_needle;
	const char *needle;
} row_look;

static int row_cb(const char *const *cols, const pv_store_value *vals, size_t n, void *payload)
{
	row_look *r = payload;

	(void)cols;
	(void)n;
	r->found = 1;
	r->payload_len = vals[0].type == PV_STORE_BLOB ? vals[0].len : 0;
	if (r->payload_len && memmem(vals[0].p, vals[0].len, r->needle, strlen(r->needle)))
		r->has_needle = 1;
	return 0;
}

/* The stored payload of message id: its length (0 when wiped) and whether `needle` shows in it. */
static row_look stored(pv_vault *v, const char *id, const char *needle)
{
	static const char sql[] = "SELECT payload FROM outbox WHERE id = ?";
	pv_store_value p[] = { pv_sv_text(id) };
	row_look r = { 0, 0, 0, needle };

	assert_int_equal(pv_store_query(pv_vault_store(v), "test", sql, p, 1, row_cb, &r), 0);
	assert_int_equal(r.found, 1);
	return r;
}

static void test_sign_verify(void **state)
{
	uint8_t secret[PV_OUTBOX_SECRET_LEN], other[PV_OUTBOX_SECRET_LEN];
	const char body[] = "{\"event\":\"erasure\"}";
	char h[128];

	(void)state;
	memset(secret, 7, sizeof(secret));
	memset(other, 8, sizeof(other));
	assert_int_equal(pv_outbox_sign(h, sizeof(h), secret, T0, body, strlen(body)), 0);
	assert_int_equal(strncmp(h, "t=1741608000,v1=", 16), 0);
	assert_int_equal(strlen(h), 16 + 64);
	assert_int_equal(pv_outbox_verify(h, secret, body, strlen(body), T0 + 10, 0), 0);
	assert_int_equal(pv_outbox_verify(h, secret, "{\"event\":\"erasurE\"}", strlen(body), T0, 0), PV_ECRYPTO);
	assert_int_equal(pv_outbox_verify(h, other, body, strlen(body), T0, 0), PV_ECRYPTO);
	assert_int_equal(pv_outbox_verify(h, secret, body, strlen(body), T0 + 301, 0), PV_EINVAL);
	assert_int_equal(pv_outbox_verify("v1=abc", secret, body, strlen(body), T0, 0), PV_EINVAL);
	/* known answer: HMAC-SHA256(key 0x07 x 32, "1741608000.{\"event\":\"erasure\"}") */
	{
		char hex[65];
		FILE *p = popen("python3 -c \"import hmac,hashlib;print(hmac.new(bytes([7]*32),"
				"b'1741608000.{\\\"event\\\":\\\"erasure\\\"}',hashlib.sha256).hexdigest())\"", "r");
		assert_non_null(p);
		assert_non_null(fgets(hex, sizeof(hex), p));
		pclose(p);
		assert_string_equal(h + 16, hex);
	}
}

static void test_file_sender_wipes_payload(void **state)
{
	fixture *f = *state;
	pv_outbox_config cfg = { 0 };
	pv_outbox_report r;
	pv_outbox_entry e;
	char id[PV_ID_LEN + 1], mail[300], path[400], buf[2048];
	FILE *fp;
	size_t n;

	email(f->v, "zoe@example.com", "Your code is 12345678", id);
	/* sealed at rest: neither the address nor the code is readable in the row */
	assert_true(stored(f->v, id, "zoe@example.com").payload_len > 0);
	assert_int_equal(stored(f->v, id, "zoe@example.com").has_needle, 0);
	assert_int_equal(stored(f->v, id, "12345678").has_needle, 0);
	/* no mail sender: skipped, still pending */
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, 0, 0, NULL, &r), 0);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.attempted, 0);

	snprintf(mail, sizeof(mail), "%s/mail", f->root);
	assert_int_equal(mkdir(mail, 0700), 0);
	snprintf(path, sizeof(path), "file:%s", mail);
	cfg.mail = path;
	assert_int_equal(pv_outbox_deliver(f->v, &SERVICE, 0, 0, &cfg, &r), PV_EDENIED);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, 0, 0, &cfg, &r), 0);
	assert_int_equal(r.delivered, 1);
	snprintf(path, sizeof(path), "%s/%s.eml", mail, id);
	fp = fopen(path, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = 0;
	fclose(fp);
	assert_non_null(strstr(buf, "To: zoe@example.com\n"));
	assert_non_null(strstr(buf, "Subject: Your code\n"));
	assert_non_null(strstr(buf, "\n\nYour code is 12345678\n"));
	e = entry(f->v, id);
	assert_int_equal(e.status, PV_OUTBOX_DELIVERED);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.delivered_at, T0);
	assert_string_equal(e.topic, "verification_code");
	assert_int_equal(stored(f->v, id, "x").payload_len, 0);   /* wiped */
	/* nothing more to do */
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, 0, 0, &cfg, &r), 0);
	assert_int_equal(r.attempted, 0);
}

static void test_retry_backoff_then_failed(void **state)
{
	fixture *f = *state;
	pv_outbox_config cfg = { .mail = "command:/bin/false", .max_attempts = 3, .backoff_base = 60 };
	pv_outbox_report r;
	pv_outbox_entry e;
	char id[PV_ID_LEN + 1];

	email(f->v, "yan@example.com", "code 1", id);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0, 0, &cfg, &r), 0);
	assert_int_equal(r.retrying, 1);
	e = entry(f->v, id);
	assert_int_equal(e.status, PV_OUTBOX_PENDING);
	assert_int_equal(e.attempts, 1);
	assert_int_equal(e.next_attempt_at, T0 + 60);
	assert_string_equal(e.last_error, "exit_status");
	/* not due yet */
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 59, 0, &cfg, &r), 0);
	assert_int_equal(r.attempted, 0);
	/* second attempt: the wait doubles */
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 60, 0, &cfg, &r), 0);
	assert_int_equal(r.retrying, 1);
	e = entry(f->v, id);
	assert_int_equal(e.attempts, 2);
	assert_int_equal(e.next_attempt_at, T0 + 60 + 120);
	/* third and last: failed, payload wiped */
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 180, 0, &cfg, &r), 0);
	assert_int_equal(r.failed, 1);
	e = entry(f->v, id);
	assert_int_equal(e.status, PV_OUTBOX_FAILED);
	assert_int_equal(e.attempts, 3);
	assert_int_equal(stored(f->v, id, "x").payload_len, 0);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 100000, 0, &cfg, &r), 0);
	assert_int_equal(r.attempted, 0);

	/* a command that reads the message succeeds; one that is missing is a spawn error */
	cfg.mail = "command:/no/such/sendmail -t";
	email(f->v, "yan@example.com", "code 2", id);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0, 0, &cfg, &r), 0);
	assert_string_equal(entry(f->v, id).last_error, "spawn");
	cfg.mail = "command:/bin/cat";
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 60, 0, &cfg, &r), 0);
	assert_int_equal(entry(f->v, id).status, PV_OUTBOX_DELIVERED);
}

static void test_batch_rollback(void **state)
{
	fixture *f = *state;
	pv_outbox_entry *l = NULL;
	size_t n;
	char id[PV_ID_LEN + 1];

	assert_int_equal(pv_vault_begin(f->v), 0);
	email(f->v, "xia@example.com", "code", id);
	assert_int_equal(pv_vault_rollback(f->v), 0);
	assert_int_equal(pv_outbox_list(f->v, &ADMIN, -1, 0, &l, &n), 0);
	assert_int_equal(n, 0);
	free(l);
	/* bad input names the field */
	pv_outbox_message m = { .channel = PV_OUTBOX_EMAIL, .destination = "a@b.c\r\nBcc: x@y.z", .topic = "t",
				.body = "x", .len = 1 };
	assert_int_equal(pv_outbox_enqueue(f->v, &ADMIN, &m, NULL), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "destination"));
	m.destination = "a@b.c";
	m.topic = "Bad Topic";
	assert_int_equal(pv_outbox_enqueue(f->v, &ADMIN, &m, NULL), PV_EINVAL);
	assert_non_null(strstr(pv_error_last(), "topic"));
}

/* ---- a one-shot local HTTP receiver ---- */

typedef struct {
	int fd;
	int status;            /* what to answer */
	char sig[160];         /* Privault-Signature received */
	char body[4096];
	size_t len;
} receiver;

static void *receive(void *arg)
{
	receiver *rc = arg;
	char buf[8192], *hdr_end, *p;
	size_t got = 0, want = 0;
	int c = accept(rc->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	for (;;) {
		ssize_t r = read(c, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = 0;
		if ((hdr_end = strstr(buf, "\r\n\r\n"))) {
			p = strcasestr(buf, "Content-Length:");
			want = p ? (size_t)atol(p + 15) : 0;
			if (got >= (size_t)(hdr_end + 4 - buf) + want)
				break;
		}
	}
	if ((hdr_end = strstr(buf, "\r\n\r\n"))) {
		p = strcasestr(buf, "Privault-Signature: ");
		if (p)
			sscanf(p + 20, "%159[^\r]", rc->sig);
		rc->len = want < sizeof(rc->body) ? want : 0;
		memcpy(rc->body, hdr_end + 4, rc->len);
	}
	snprintf(buf, sizeof(buf), "HTTP/1.1 %d X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", rc->status);
	(void)!write(c, buf, strlen(buf));
	close(c);
	return NULL;
}

static int listen_local(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_webhook_signed_delivery(void **state)
{
	fixture *f = *state;
	const char body[] = "{\"event\":\"erasure\",\"subject_id\":\"s\"}";
	uint8_t secret[PV_OUTBOX_SECRET_LEN];
	pv_outbox_report r;
	receiver rc = { 0 };
	pthread_t t;
	char url[64], id[PV_ID_LEN + 1];
	int port;

	rc.fd = listen_local(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", port);
	pv_outbox_message m = { .channel = PV_OUTBOX_WEBHOOK, .destination = url, .recipient = "payments",
				.topic = "erasure_notice", .body = body, .len = strlen(body) };
	assert_int_equal(pv_outbox_enqueue(f->v, &ADMIN, &m, id), 0);

	/* first answer 500: retried */
	rc.status = 500;
	pthread_create(&t, NULL, receive, &rc);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0, 0, NULL, &r), 0);
	pthread_join(t, NULL);
	assert_int_equal(r.retrying, 1);
	assert_string_equal(entry(f->v, id).last_error, "http_5xx");

	/* then 200: delivered; the recipient verifies the signature with its secret */
	memset(&rc.sig, 0, sizeof(rc.sig));
	rc.status = 200;
	pthread_create(&t, NULL, receive, &rc);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 60, 0, NULL, &r), 0);
	pthread_join(t, NULL);
	close(rc.fd);
	assert_int_equal(r.delivered, 1);
	assert_int_equal(rc.len, strlen(body));
	assert_memory_equal(rc.body, body, rc.len);
	assert_int_equal(pv_outbox_webhook_secret(f->v, &ADMIN, "payments", secret), 0);
	assert_int_equal(pv_outbox_verify(rc.sig, secret, rc.body, rc.len, T0 + 60, 0), 0);
	rc.body[2] ^= 1;
	assert_int_equal(pv_outbox_verify(rc.sig, secret, rc.body, rc.len, T0 + 60, 0), PV_ECRYPTO);
	/* another recipient's secret does not verify */
	assert_int_equal(pv_outbox_webhook_secret(f->v, &ADMIN, "adnet", secret), 0);
	rc.body[2] ^= 1;
	assert_int_equal(pv_outbox_verify(rc.sig, secret, rc.body, rc.len, T0 + 60, 0), PV_ECRYPTO);
	assert_int_equal(pv_outbox_webhook_secret(f->v, &SERVICE, "payments", secret), PV_EDENIED);

	/* nobody listening: a connect error, retried */
	assert_int_equal(pv_outbox_enqueue(f->v, &ADMIN, &m, id), 0);
	assert_int_equal(pv_outbox_deliver(f->v, &ADMIN, T0 + 60, 0, NULL, &r), 0);
	assert_int_equal(r.retrying, 1);
	assert_string_equal(entry(f->v, id).last_error, "connect");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test_setup_teardown(test_file_sender_wipes_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_backoff_then_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_signed_delivery, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
