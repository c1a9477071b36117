#!/usr/bin/env bash
# Browser test of the cookie banner: headless Chromium (/usr/bin/chromium)
# driven by playwright-core (npm, installed into $BUILDDIR/browser), against a
# real `privault serve` on loopback with a fresh vault whose policy is
# examples/policies/rockstor-2021.yaml plus an analytics and an advertising
# cookie. The test page (page.html) is served by banner_test.cjs on its own
# origin, so every banner call is cross-origin (CORS through banner_origins).
# Without npm, the registry or chromium: exit 77 (skip), or fail when CI=true.
set -euo pipefail
SRC=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILDDIR:-$SRC/build}
PRIVAULT=${PRIVAULT:-$BUILD/cmd/privault/privault}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
PKG=playwright-core
VER=1.49.1
NODE_DIR=$BUILD/browser
T=$(mktemp -d)
SRV=
cleanup() {
	if [ -n "$SRV" ]; then kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT

source "$SRC/scripts/npm_package.sh"
[ -x "$CHROMIUM" ] || pv_unavailable browser/banner "$CHROMIUM is not installed (scripts/deps.sh test: chromium)"
pv_npm_package browser/banner "$NODE_DIR" "$PKG" "$VER"

# A policy with cookies of every class: the example's three strictly necessary ones, and two more.
python3 - "$SRC/examples/policies/rockstor-2021.yaml" "$T/policy.yaml" <<'PY'
import sys
text = open(sys.argv[1]).read()
extra = """cookies:
  - name: _pa_id
    provider: "Example Analytics"
    party: third
    class: analytics
    lifetime: "13 months"
    description: "test cookie: counts visits"
  - name: _ad_id
    provider: "Example Ads"
    party: third
    class: advertising
    lifetime: "90 days"
    description: "test cookie: targeted advertising"
  - name: lang
    provider: "Rockstor"
    party: first
    class: functional
    lifetime: "1 year"
    description: "test cookie: remembers the language"
"""
assert "\ncookies:\n" in text
open(sys.argv[2], "w").write(text.replace("\ncookies:\n", "\n" + extra, 1))
PY

export PRIVAULT_VAULT=$T/vault TMPDIR=$T
unset PRIVAULT_STORE PRIVAULT_KEYS
"$PRIVAULT" --vault "$T/vault" init "$T/vault" --policy "$T/policy.yaml" >"$T/init.log" 2>&1 \
	|| { cat "$T/init.log" >&2; exit 1; }
ADMIN=$("$PRIVAULT" --vault "$T/vault" apikey create browser-admin --role admin | grep -oE 'pvk_[0-9a-f]{16}_[0-9a-f]{64}' | head -1)
[ -n "$ADMIN" ] || { echo "browser/banner: no admin key" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
PAGE_PORT=$(free_port)
PRIVAULT_LISTEN=127.0.0.1 PRIVAULT_PORT=$PORT PRIVAULT_ACCESS_LOG="$T/access.log" \
	PRIVAULT_BANNER_ORIGINS="http://127.0.0.1:$PAGE_PORT" \
	"$PRIVAULT" --vault "$T/vault" serve >"$T/server.log" 2>&1 &
SRV=$!
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
	kill -0 "$SRV" 2>/dev/null || { cat "$T/server.log" >&2; exit 1; }
	sleep 0.1
done

# The script and CORS, as a browser sees them (headers only; no personal data involved).
fail() { echo "browser/banner: FAIL: $1" >&2; exit 1; }
curl -sS -D "$T/js.h" -o "$T/consent.js" "http://127.0.0.1:$PORT/consent.js"
grep -qi '^content-type: text/javascript' "$T/js.h" || fail "/consent.js Content-Type"
grep -qi '^cache-control: public, max-age=3600' "$T/js.h" || fail "/consent.js Cache-Control"
cmp -s "$T/consent.js" "$SRC/web/consent.js" || fail "/consent.js is not web/consent.js"
curl -sS -D "$T/ok.h" -o /dev/null -X OPTIONS -H "Origin: http://127.0.0.1:$PAGE_PORT" \
	-H 'Access-Control-Request-Method: POST' "http://127.0.0.1:$PORT/v1/banner/choices"
grep -qi "^access-control-allow-origin: http://127.0.0.1:$PAGE_PORT" "$T/ok.h" || fail "preflight of the allowed origin"
curl -sS -D "$T/no.h" -o /dev/null -X OPTIONS -H 'Origin: http://evil.example' \
	-H 'Access-Control-Request-Method: POST' "http://127.0.0.1:$PORT/v1/banner/choices"
! grep -qi '^access-control-allow-origin' "$T/no.h" || fail "an origin not in banner_origins got CORS headers"
echo "ok   /consent.js type, caching and content; CORS for banner_origins only"

rc=0
NODE_PATH=$NODE_DIR/node_modules PRIVAULT_URL="http://127.0.0.1:$PORT" PAGE_PORT=$PAGE_PORT ADMIN_KEY=$ADMIN \
	CHROMIUM=$CHROMIUM node "$SRC/tests/browser/banner_test.cjs" "$SRC/tests/browser/page.html" || rc=$?
# The banner routes are rate-limited per client address (defaults: 30 at once, 60 a minute).
if [ $rc -eq 0 ]; then
	limited=
	for _ in $(seq 1 80); do
		code=$(curl -sS -D "$T/rl.h" -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/banner")
		if [ "$code" = 429 ]; then limited=1; break; fi
		[ "$code" = 200 ] || { echo "browser/banner: FAIL: GET /v1/banner answered $code" >&2; rc=1; break; }
	done
	if [ -z "$limited" ] || ! grep -qi '^retry-after: [0-9]' "$T/rl.h"; then
		echo "browser/banner: FAIL: no 429 with Retry-After after 80 banner requests" >&2; rc=1
	else
		echo "ok   the banner routes answer 429 with Retry-After past the per-address allowance"
	fi
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/v1/policy")
	[ "$code" = 200 ] || { echo "browser/banner: FAIL: authenticated routes limited too ($code)" >&2; rc=1; }
fi
if [ $rc -ne 0 ]; then
	echo "--- server log" >&2
	tail -n 40 "$T/server.log" >&2
fi
exit $rc
