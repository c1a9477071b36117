#!/usr/bin/env bash
# Install the Debian packages privault needs, if any are missing.
# As root it runs apt-get itself; otherwise it prints the exact apt line and fails.
#   scripts/deps.sh build   -- what `make run` needs
#   scripts/deps.sh test    -- also what `make test` needs
set -euo pipefail

build_pkgs=(build-essential meson ninja-build pkg-config libpq-dev libmicrohttpd-dev
	libsodium-dev libyaml-dev libjansson-dev libsqlite3-dev libcurl4-openssl-dev)
test_pkgs=(libcmocka-dev sqlite3 jq python3 curl postgresql wrk clang libclang-rt-14-dev anonip ipv6calc openssl nodejs:node npm:npm chromium)

want=("${build_pkgs[@]}")
if [ "${1:-build}" = test ]; then
	want+=("${test_pkgs[@]}")
fi

# An entry "package:command" is also satisfied by that command on the PATH
# (node and npm often come from NodeSource, whose nodejs bundles npm and
# conflicts with Debian's npm package).
missing=()
for entry in "${want[@]}"; do
	p=${entry%%:*}
	if [ "$entry" != "$p" ] && command -v "${entry#*:}" >/dev/null 2>&1; then
		continue
	fi
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "privault needs these Debian packages; install them with:" >&2
	echo "  sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
