#!/usr/bin/env bash
# `make run`: create a vault under ./var/vault with the iXsystems example policy (once),
# then walk through a short, real CLI session against it. Every command shown is run.
set -euo pipefail
cd "$(dirname "$0")/.."

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
