#!/usr/bin/env bash
# `make run`: create a vault under ./var/vault with the iXsystems example policy (once),
# create an admin API key, and run `privault serve` on 127.0.0.1:8700 in the foreground,
# printing its URL, the key and a curl example (Ctrl-C stops it; requests in flight finish).
#   scripts/demo.sh --cli    the narrated CLI session instead (every command shown is run)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--cli" ]; then
	P=build/cmd/privault/privault
	POLICY=examples/policies/ixsystems-2020.yaml
	export PRIVAULT_VAULT=var/vault
	mkdir -p var
	if [ ! -f "$PRIVAULT_VAULT/vault.db" ]; then
		"$P" init "$PRIVAULT_VAULT" --policy "$POLICY"
	else
		echo "(vault already at $PRIVAULT_VAULT; delete ./var to start over)"
	fi
	KEY=$("$P" apikey create "demo-admin-$(date +%Y%m%d%H%M%S)" --role admin)
	LISTEN=${PRIVAULT_LISTEN:-127.0.0.1}
	PORT=${PRIVAULT_PORT:-8700}
	cat <<EOF

privault serve: http://$LISTEN:$PORT   (OpenAPI: http://$LISTEN:$PORT/v1/openapi.json)
admin API key (shown once; only its hash is stored):
  $KEY

Try, in another terminal:
  curl -s -H 'Authorization: Bearer $KEY' -H 'Content-Type: application/json' \\
       -d '{"identifiers":{"email":"ada@example.com"},"regime":"ccpa"}' http://$LISTEN:$PORT/v1/subjects
  curl -s http://$LISTEN:$PORT/metrics | head
More in docs/api.md; the CLI walk-through: scripts/demo.sh --cli.

EOF
	exec "$P" serve --listen "$LISTEN" --port "$PORT"
fi

P=build/cmd/privault/privault
POLICY=examples/policies/ixsystems-2020.yaml
export PRIVAULT_VAULT=var/vault

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

mkdir -p var
run "$P" policy check "$POLICY"
if [ ! -f "$PRIVAULT_VAULT/vault.db" ]; then
	run "$P" init "$PRIVAULT_VAULT" --policy "$POLICY"
else
	echo "(vault already at $PRIVAULT_VAULT; delete ./var to start over)"
fi

email="ada.$(date +%s)@example.com"
step "$P subject create --id email=$email --id phone='+1 855 473 7449' --regime ccpa"
S=$("$P" subject create --id "email=$email" --id "phone=+1 855 473 7449" --regime ccpa 2>&1) || {
	echo "$S"; exit 1; }
echo "$S"

step "echo $email | $P subject find email     # the value goes through stdin, never argv"
echo "$email" | "$P" subject find email

step "$P record put $S --category identifiers --purpose transactions --source direct --data '{...}'"
R1=$("$P" record put "$S" --category identifiers --purpose transactions --source direct \
	--data '{"name":"Ada Lovelace","address":"12 St James Square, London"}')
echo "$R1"
step "$P record put $S --category commercial --purpose transactions --data '{...}'"
"$P" record put "$S" --category commercial --purpose transactions \
	--data '{"order":"TN-1001","product":"TrueNAS Mini X+","total":1199}'

run "$P" record read "$S" --purpose transactions

echo
echo "# A newsletter service granted only customer_support asks for identifiers for marketing:"
step "$P --as newsletter --role service --grant customer_support record read $S --purpose personalized_marketing"
"$P" --as newsletter --role service --grant customer_support record read "$S" --purpose personalized_marketing || echo "(exit $?: denied, and the denial is audited)"

echo
echo "# A purpose the policy never declared:"
step "$P decide $S --category identifiers --purpose selling_lists"
"$P" decide "$S" --category identifiers --purpose selling_lists || echo "(exit $?)"

run "$P" subject categories "$S"
step "$P record rectify $S $R1 --data '{...new name...}'"
"$P" record rectify "$S" "$R1" --data '{"name":"Ada King","address":"12 St James Square, London"}'
run "$P" subject erase "$S"
step "echo $email | $P subject find email"
echo "$email" | "$P" subject find email || echo "(exit $?: erased; its data key is destroyed)"

run "$P" audit checkpoint
run "$P" audit verify
step "$P audit list | tail -n 12     # no names, emails or record data in the audit"
"$P" audit list | tail -n 12
run "$P" status
echo
echo "The vault is in ./var/vault (key file ./var/vault/privault.key, mode 0600)."
echo "Try: $P help"
