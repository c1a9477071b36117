/*
 * Outbox senders (file, command, webhook) and the erasure notices queued for
 * the policy's recipients. A sender reports failure as an error class only
 * (outbox.h), never a value of the message.
 */
#include "rights/internal.h"

#include "core/error.h"
#include "core/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int pv_outbox_send(const pv_outbox_config *cfg, const char *id, const char *topic, pv_outbox_channel channel,
		   const char *recipient_secret_hex, const char *dest, const char *mail_subject,
		   const char *body, size_t len, pv_time now, char errclass[32]);

/* Write all of buf to fd; 0 or -1. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The RFC 5322 text of an email message into *out (malloc'd; the caller wipes and frees). */
static char *mail_text(const char *id, const char *topic, const char *dest, const char *subj,
		       const char *body, size_t len, size_t *out_len)
{
	size_t cap = strlen(dest) + (subj ? strlen(subj) : 0) + len + 256;
	char *m = malloc(cap);
	int n;

	if (!m)
		return NULL;
	n = snprintf(m, cap, "To: %s\nSubject: %s\nX-Privault-Message: %s\nX-Privault-Topic: %s\n"
		     "Content-Type: text/plain; charset=utf-8\n\n", dest, subj ? subj : "", id, topic);
	memcpy(m + n, body, len);
	m[n + len] = '\n';
	*out_len = (size_t)n + len + 1;
	return m;
}

/* file:PATH: one file PATH/<id>.eml when PATH is a directory, else appended to PATH. */
static void send_file(const char *path, const char *id, const char *m, size_t len, char errclass[32])
{
	char file[4200];
	struct stat st;
	int fd;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(file, sizeof(file), "%s/%s.eml", path, id);
		fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	} else {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	}
	if (fd < 0) {
		snprintf(errclass, 32, "io");
		return;
	}
	if (write_all(fd, m, len) < 0 || fsync(fd) < 0)
		snprintf(errclass, 32, "io");
	close(fd);
}

/* command:PROG ARGS: run without a shell, message on stdin, exit 0 = delivered, killed after timeout. */
static void send_command(const char *cmdline, long timeout_ms, const char *m, size_t len, char errclass[32])
{
	char *copy = strdup(cmdline), *argv[33], *save = NULL;
	int argc = 0, pfd[2] = { -1, -1 }, status = 0, wfail = 0;
	pid_t pid;

	if (!copy) {
		snprintf(errclass, 32, "spawn");
		return;
	}
	for (char *t = strtok_r(copy, " ", &save); t && argc < 32; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	if (argc == 0 || pipe(pfd) < 0) {
		snprintf(errclass, 32, argc == 0 ? "config" : "spawn");
		goto done;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(errclass, 32, "spawn");
		goto done;
	}
	if (pid == 0) {
		dup2(pfd[0], 0);
		close(pfd[0]);
		close(pfd[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(pfd[0]);
	pfd[0] = -1;
	signal(SIGPIPE, SIG_IGN);
	wfail = write_all(pfd[1], m, len) < 0;   /* judged after the exit status: a program that
						    failed at once closes its stdin (EPIPE) */
	close(pfd[1]);
	pfd[1] = -1;
	for (long waited = 0;; waited += 10) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			snprintf(errclass, 32, "spawn");
			goto done;
		}
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			snprintf(errclass, 32, "timeout");
			goto done;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (!errclass[0] && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		snprintf(errclass, 32, WIFEXITED(status) && WEXITSTATUS(status) == 127 ? "spawn" : "exit_status");
	else if (!errclass[0] && wfail)
		snprintf(errclass, 32, "io");
done:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(copy);
}

/* Discard a response body. */
static size_t sink(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

/* POST the JSON body to url, signed with the recipient secret (hex). */
static void send_webhook(const pv_outbox_config *cfg, const char *id, const char *url, const char *secret_hex,
			 const char *body, size_t len, pv_time now, char errclass[32])
{
	uint8_t secret[PV_OUTBOX_SECRET_LEN];
	char sig[160], hdr[200], idh[80];
	struct curl_slist *h = NULL;
	CURL *c = NULL;
	CURLcode cc;
	long code = 0;

	if (pv_hex_decode(secret, sizeof(secret), secret_hex) < 0 ||
	    pv_outbox_sign(sig, sizeof(sig), secret, now, body, len) < 0) {
		snprintf(errclass, 32, "crypto");
		goto done;
	}
	snprintf(hdr, sizeof(hdr), "Privault-Signature: %s", sig);
	snprintf(idh, sizeof(idh), "Privault-Message-Id: %s", id);
	c = curl_easy_init();
	if (!c) {
		snprintf(errclass, 32, "io");
		goto done;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, hdr);
	h = curl_slist_append(h, idh);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (cfg->webhook_cainfo && *cfg->webhook_cainfo)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->webhook_cainfo);
	cc = curl_easy_perform(c);
	if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(errclass, 32, "timeout");
	else if (cc != CURLE_OK)
		snprintf(errclass, 32, "connect");
	else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code < 200 || code > 299)
			snprintf(errclass, 32, code >= 500 ? "http_5xx" : "http_4xx");
	}
done:
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(sig, sizeof(sig));
	curl_slist_free_all(h);
	if (c)
		curl_easy_cleanup(c);
}

/* Hand one opened message to its sender; errclass stays "" on success. */
int pv_outbox_send(const pv_outbox_config *cfg, const char *id, const char *topic, pv_outbox_channel channel,
		   const char *recipient_secret_hex, const char *dest, const char *mail_subject,
		   const char *body, size_t len, pv_time now, char errclass[32])
{
	char *m;
	size_t mlen = 0;

	if (channel == PV_OUTBOX_WEBHOOK) {
		send_webhook(cfg, id, dest, recipient_secret_hex, body, len, now, errclass);
		return 0;
	}
	if (!(m = mail_text(id, topic, dest, mail_subject, body, len, &mlen))) {
		snprintf(errclass, 32, "io");
		return 0;
	}
	if (strncmp(cfg->mail, "file:", 5) == 0)
		send_file(cfg->mail + 5, id, m, mlen, errclass);
	else if (strncmp(cfg->mail, "command:", 8) == 0)
		send_command(cfg->mail + 8, cfg->timeout_ms, m, mlen, errclass);
	else
		snprintf(errclass, 32, "config");
	sodium_memzero(m, mlen);
	free(m);
	return 0;
}

/*
 * Queue one signed-webhook notice per policy recipient with an
 * erasure_webhook: {"event":"erasure","subject_id":...,"request_id":...,
 * "recipient":...,"at":...}. The subject id is the vault's own pseudonymous
 * UUID, the key recipients were given with the data.
 */
int pv_fulfil_notify_erasure(pv_vault *v, const pv_caller *caller, const char *subject_id,
			     const char *request_id, size_t *queued)
{
	const pv_policy *p = pv_vault_policy(v);
	int rc = 0;

	*queued = 0;
	for (size_t i = 0; i < pv_policy_recipient_count(p); i++) {
		const pv_policy_recipient *r = pv_policy_recipient_at(p, i);
		json_t *o;
		char *body;

		if (!r->erasure_webhook)
			continue;
		o = json_pack("{s:s, s:s, s:s?, s:s, s:I}", "event", "erasure", "subject_id", subject_id,
			      "request_id", request_id, "recipient", r->id, "at", (json_int_t)pv_clock_now());
		body = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		json_decref(o);
		if (!body)
			return pv_error_set(PV_ENOMEM, "notify: out of memory");
		pv_outbox_message m = { .channel = PV_OUTBOX_WEBHOOK, .destination = r->erasure_webhook,
					.recipient = r->id, .topic = "erasure_notice", .subject_id = subject_id,
					.body = body, .len = strlen(body) };
		rc = pv_outbox_enqueue(v, caller, &m, NULL);
		free(body);
		if (rc < 0)
			return rc;
		(*queued)++;
	}
	return 0;
}
