# Sourced by the tests and benchmarks that run an npm package under node (the IAB
# reference libraries, playwright-core). Defines:
#   pv_unavailable NAME REASON       exit 77 (skip) with "NAME: SKIP: REASON", or fail
#                                    (exit 1) when CI=true: there the test must run
#   pv_npm_package NAME DIR PKG VER  make PKG@VER present under DIR/node_modules (npm
#                                    install --prefix DIR when node reports another or no
#                                    version) and put DIR/node_modules on NODE_PATH; no
#                                    node, npm or registry: pv_unavailable
pv_unavailable() {
	if [ "${CI:-}" = true ]; then
		echo "$1: FAIL: $2 (CI=true: this test must run)" >&2
		exit 1
	fi
	echo "$1: SKIP: $2" >&2
	exit 77
}

pv_npm_package() {
	local name=$1 dir=$2 pkg=$3 ver=$4 log
	command -v node >/dev/null || pv_unavailable "$name" "node is not installed (scripts/deps.sh test)"
	command -v npm >/dev/null || pv_unavailable "$name" "npm is not installed (scripts/deps.sh test)"
	if [ "$(node -p "try { require('$dir/node_modules/$pkg/package.json').version } catch (e) { '' }")" != "$ver" ]; then
		mkdir -p "$dir"
		log=$(mktemp)
		if ! npm install --silent --no-audit --no-fund --prefix "$dir" "$pkg@$ver" >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			pv_unavailable "$name" "npm install $pkg@$ver failed"
		fi
		rm -f "$log"
	fi
	export NODE_PATH=$dir/node_modules
}
