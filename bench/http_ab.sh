#!/usr/bin/env bash
# A/B of two privault binaries over HTTP, interleaved on one vault:
#
#   bench/http_ab.sh A_BINARY B_BINARY [--rounds N] [--seconds S] [--op read|lookup]
#
# On a machine shared with other work, two runs of bench/http_bench.sh made a
# minute apart differ by 2x; this script instead starts A, runs wrk, stops it,
# starts B, runs wrk, stops it, N times (default 6, 4 s each, -t2 -c64), on the
# same vault (1,000 subjects x 4 records, built by A), and prints each pair
# with the load average and the median of each side and of B/A per round.
# Both binaries must read the same vault format. Needs wrk, curl, jq.
set -euo pipefail
cd "$(dirname "$0")/.."

[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
a=$1 b=$2
shift 2
rounds=6 seconds=4 op=read subjects=${SUBJECTS:-1000}
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) rounds=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--op) op=$2; shift 2 ;;
	*) echo "http_ab.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case $op in read|lookup) ;; *) echo "http_ab.sh: --op read or lookup" >&2; exit 2 ;; esac

scratch=$(mktemp -d "${TMPDIR:-/tmp}/pv-http-ab.XXXXXX")
server_pid=
stop_server() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
trap 'stop_server; rm -rf "$scratch"' EXIT
export PRIVAULT_VAULT=$scratch/vault
unset PRIVAULT_KEYS PRIVAULT_STORE

"$a" init "$PRIVAULT_VAULT" --policy bench/bench-policy.yaml >/dev/null
for ((s = 0; s < subjects; s++)); do
	for r in 0 1 2 3; do
		cat=identifiers; [ $((r % 2)) = 1 ] && cat=contact
		printf '{"subject":{"identifiers":{"email":"user%07d@example.com"}},"category":"%s","purpose":"account","source":"direct","data":{"name":"User %d","n":%d,"city":"Lisbon","note":"benchmark row of about two hundred bytes, like the other benchmarks use for their records"}}\n' \
			"$s" "$cat" "$s" "$r"
	done
done >"$scratch/rows.jsonl"
"$a" import "$scratch/rows.jsonl" --no-progress >/dev/null
key=$("$a" apikey create bench-service --role service --grant account 2>/dev/null | grep -o 'pvk_[0-9a-f_]*' | head -1)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

start_server() {
	PRIVAULT_PORT=$port PRIVAULT_LISTEN=127.0.0.1 PRIVAULT_ACCESS_LOG=off "$1" serve >>"$scratch/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && return 0; sleep 0.1; done
	echo "server did not start:" >&2
	cat "$scratch/server.log" >&2
	exit 1
}

start_server "$a"
for ((s = 0; s < subjects; s++)); do
	printf '{"kind":"email","value":"user%07d@example.com"}\n' "$s"
done | while read -r body; do
	curl -s -X POST "$url/v1/lookup" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" | jq -r .id
done >"$scratch/ids"
stop_server
lua_ids=$(awk 'BEGIN {printf "{"} {printf "%s\"%s\"", (NR>1?",":""), $1} END {printf "}"}' "$scratch/ids")
cat >"$scratch/op.lua" <<EOF
ids = $lua_ids
math.randomseed(os.time())
auth = "Bearer $key"
request = function()
  if "$op" == "read" then
    return wrk.format("GET", "/v1/subjects/" .. ids[math.random(#ids)] .. "/records", {["Authorization"] = auth, ["X-Purpose"] = "account"})
  end
  local body = string.format('{"kind":"email","value":"user%07d@example.com"}', math.random(#ids) - 1)
  return wrk.format("POST", "/v1/lookup", {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
end
EOF

# one wrk run against binary $1: prints "rate p99_ms non2xx"
run() {
	local out rate p99 errs
	start_server "$1"
	out=$(wrk -t2 -c64 -d"${seconds}s" --latency -s "$scratch/op.lua" "$url")
	stop_server
	rate=$(awk '/^Requests\/sec/ {printf "%d", $2}' <<<"$out")
	p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
	errs=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
	echo "$rate $p99 ${errs:-0}"
}

# wrk's latency ("812.00us", "9.80ms", "1.02s") in ms
ms() { awk -v v="$1" 'BEGIN {u = v; sub(/^[0-9.]+/, "", u); n = v + 0; printf "%.2f", u == "us" ? n / 1000 : u == "s" ? n * 1000 : n}'; }

echo "== A/B $op over HTTP: A=$a B=$b; $rounds rounds of wrk -t2 -c64 -d${seconds}s, $(nproc) cores"
printf '%-6s %8s %9s %8s %9s %6s %6s\n' round "A req/s" "A p99" "B req/s" "B p99" "B/A" load
: >"$scratch/pairs"
for ((i = 1; i <= rounds; i++)); do
	load=$(cut -d' ' -f1 /proc/loadavg)
	read -r ra pa ea <<<"$(run "$a")"
	read -r rb pb eb <<<"$(run "$b")"
	[ "$ea" = 0 ] && [ "$eb" = 0 ] || echo "round $i: non-2xx answers (A $ea, B $eb)"
	ratio=$(awk -v x="$rb" -v y="$ra" 'BEGIN {printf "%.2f", (y > 0) ? x / y : 0}')
	printf '%-6s %8s %9s %8s %9s %6s %6s\n' "$i" "$ra" "$pa" "$rb" "$pb" "$ratio" "$load"
	echo "$ra $rb $ratio $(ms "$pa") $(ms "$pb")" >>"$scratch/pairs"
done
med() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo "median: A $(cut -d' ' -f1 "$scratch/pairs" | med)/s  B $(cut -d' ' -f2 "$scratch/pairs" | med)/s  B/A $(cut -d' ' -f3 "$scratch/pairs" | med); p99 A $(cut -d' ' -f4 "$scratch/pairs" | med) ms  B $(cut -d' ' -f5 "$scratch/pairs" | med) ms  (load now $(cut -d' ' -f1 /proc/loadavg))"
