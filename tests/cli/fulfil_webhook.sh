#!/usr/bin/env bash
# Erasure notices through signed webhooks: a deletion request queues a notice
# for the policy's recipient with an erasure_webhook; `privault outbox deliver`
# POSTs it to a local HTTPS receiver (python3, a self-signed certificate given
# to privault with PRIVAULT_WEBHOOK_CAINFO) that answers 503 first (retried
# with backoff, the delivery waits for its time), then 200. The receiver checks
# the Privault-Signature with the recipient's secret from `privault outbox
# secret`; the body names the subject id and no personal data. Email delivery
# through the file sender (PRIVAULT_OUTBOX_MAIL=file:DIR) is covered by
# tests/unit/test_outbox.c.
set -euo pipefail

: "${PRIVAULT:?PRIVAULT must name the privault binary}"
: "${SRCDIR:?SRCDIR must name the source root}"
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
export PRIVAULT_VAULT="$T/vault"
export PRIVAULT_NOW=2025-03-10T12:00:00Z
P="$PRIVAULT"

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s#https://127.0.0.1:18443/erasure#https://127.0.0.1:$PORT/erasure#" "$SRCDIR/tests/data/fulfil-policy.yaml" > "$T/policy.yaml"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
export PRIVAULT_WEBHOOK_CAINFO="$T/cert.pem"

"$P" init --policy "$T/policy.yaml" >/dev/null
A=$("$P" subject create --id email=ann@example.com)
"$P" record put "$A" --category contact --purpose account --data '{"city":"Lyon"}' >/dev/null
SECRET=$("$P" outbox secret payments)
[ ${#SECRET} = 64 ] || fail "secret: $SECRET"
expect 4 "$P" --role service outbox secret payments

cat > "$T/recv.py" <<'PY'
import hashlib, hmac, http.server, json, ssl, sys
port, secret, cert, key, log = int(sys.argv[1]), bytes.fromhex(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
answers = [503, 200]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        sig = self.headers.get("Privault-Signature", "")
        t, v1 = sig.split(",")
        want = hmac.new(secret, t[2:].encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(want, v1[3:])
        tampered = hmac.compare_digest(hmac.new(secret, t[2:].encode() + b"." + body + b" ", hashlib.sha256).hexdigest(), v1[3:])
        code = answers.pop(0) if answers else 200
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "ok": ok, "tampered_ok": tampered, "t": t[2:], "code": code,
                                "body": json.loads(body)}) + "\n")
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", port), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PY
python3 "$T/recv.py" "$PORT" "$SECRET" "$T/cert.pem" "$T/key.pem" "$T/log" &
PID=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

"$P" fulfil erase "$A" --json | jq -e '.full == true and .notified == 1' >/dev/null || fail "erase"

# first attempt: 503 -> retrying, next attempt in 30 s
expect 0 "$P" outbox deliver --backoff 30
grep -q 'attempted=1	delivered=0	retrying=1' "$T/out" || fail "first delivery: $(cat "$T/out")"
"$P" outbox list --json | jq -e '.[0].status == "pending" and .[0].attempts == 1 and .[0].last_error == "http_5xx" and .[0].next_attempt_at == "2025-03-10T12:00:30Z"' >/dev/null \
	|| fail "after 503: $("$P" outbox list --json)"
# not due yet
PRIVAULT_NOW=2025-03-10T12:00:29Z "$P" outbox deliver --backoff 30 | grep -q 'attempted=0' || fail "delivered before its time"
# due: 200 -> delivered
PRIVAULT_NOW=2025-03-10T12:00:30Z "$P" outbox deliver --backoff 30 > "$T/out"
grep -q 'attempted=1	delivered=1' "$T/out" || fail "second delivery: $(cat "$T/out")"
"$P" outbox list --status delivered --json | jq -e 'length == 1 and .[0].attempts == 2 and .[0].last_error == null' >/dev/null \
	|| fail "delivered entry"

[ "$(wc -l < "$T/log")" = 2 ] || fail "receiver saw $(wc -l < "$T/log") posts"
jq -se 'all(.ok == true and .tampered_ok == false and .path == "/erasure")' "$T/log" >/dev/null || fail "signature: $(cat "$T/log")"
jq -se --arg a "$A" '.[1].body == {"event":"erasure","subject_id":$a,"recipient":"payments","request_id":null,"at":1741608000} and .[1].t == "1741608030"' "$T/log" >/dev/null \
	|| fail "body: $(tail -1 "$T/log")"
! grep -q 'ann@' "$T/log" || fail "the notice holds personal data"
"$P" audit list > "$T/audit"
grep -q 'outbox.deliver' "$T/audit" || fail "deliveries audited"
expect 0 "$P" audit verify
echo ok
