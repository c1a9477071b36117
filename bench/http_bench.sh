#!/usr/bin/env bash
# HTTP benchmark: wrk against a running `privault serve`, beside the in-process
# rate of the same vault call measured by this same script (bench_http_inproc).
#
#   bench/http_bench.sh [--seconds S] [--connections C] [--threads T]
#
# Operations: an allowed record read (GET /v1/subjects/{id}/records, X-Purpose
# account, 4 records), a durable record write (POST .../records) and a lookup
# (POST /v1/lookup), over SUBJECTS subjects (default 1000) chosen at random by
# wrk's Lua script. Prints requests/s and p99 latency per operation, the
# in-process rates with one transaction per call and batched like the
# server's group commit, and the goals (reads >= 20k/s with p99 < 5 ms,
# writes >= 5k/s). The server commits batches of reads with relaxed
# durability (docs/operations.md, "Durability of reads"), so reads and lookups
# are also measured in process batched with PV_TX_RELAXED, and the ratio of
# HTTP to that rate is printed; PRIVAULT_DURABLE_READS=1 in the environment
# makes the server fsync reads too. The 1-minute load average is printed
# beside each figure: other work on the machine moves them. Needs wrk, curl, jq (scripts/deps.sh test) and a build
# (BUILD_DIR, default build). Scratch vault under $PRIVAULT_BENCH_DIR or $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${BUILD_DIR:-build}
seconds=10
conns=64
threads=2
subjects=${SUBJECTS:-1000}
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--threads) threads=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "http_bench.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
for t in wrk curl jq; do
	command -v "$t" >/dev/null || { echo "http_bench.sh: $t missing (scripts/deps.sh test)" >&2; exit 1; }
done
ninja -C "$build" cmd/privault/privault bench/bench_http_inproc >/dev/null
pv=$build/cmd/privault/privault

scratch=$(mktemp -d "${PRIVAULT_BENCH_DIR:-${TMPDIR:-/tmp}}/pv-http-bench.XXXXXX")
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ "${PRIVAULT_BENCH_KEEP:-0}" = 1 ] || rm -rf "$scratch"
}
trap cleanup EXIT
vault=$scratch/vault
export PRIVAULT_VAULT=$vault
unset PRIVAULT_KEYS PRIVAULT_STORE

echo "== privault HTTP benchmark"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "scratch: $scratch ($(df -PT "$scratch" | awk 'NR==2 {print $2}'))"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)  build: $build"
echo "wrk:     -t$threads -c$conns -d${seconds}s; $subjects subjects with 4 records each"
echo

# ---- a vault with SUBJECTS subjects x 4 records, by bulk import ----
"$pv" init "$vault" --policy bench/bench-policy.yaml >/dev/null
for ((s = 0; s < subjects; s++)); do
	for r in 0 1 2 3; do
		cat=identifiers; [ $((r % 2)) = 1 ] && cat=contact
		printf '{"subject":{"identifiers":{"email":"user%07d@example.com"}},"category":"%s","purpose":"account","source":"direct","data":{"name":"User %d","n":%d,"city":"Lisbon","note":"benchmark row of about two hundred bytes, like the other benchmarks use for their records"}}\n' \
			"$s" "$cat" "$s" "$r"
	done
done >"$scratch/rows.jsonl"
"$pv" import "$scratch/rows.jsonl" --no-progress >/dev/null
key=$("$pv" apikey create bench-service --role service --grant account --grant order_fulfilment 2>/dev/null | grep -o 'pvk_[0-9a-f_]*' | head -1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PRIVAULT_PORT=$port PRIVAULT_LISTEN=127.0.0.1 PRIVAULT_ACCESS_LOG=off "$pv" serve >"$scratch/server.log" 2>&1 &
server_pid=$!
url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$url/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$url/readyz" >/dev/null || { echo "server did not start:"; cat "$scratch/server.log"; exit 1; }

# subject ids for the paths, found through the API itself
: >"$scratch/ids"
for ((s = 0; s < subjects; s++)); do
	printf '{"kind":"email","value":"user%07d@example.com"}' "$s"
	echo
done | while read -r body; do
	curl -s -X POST "$url/v1/lookup" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$body" | jq -r .id
done >"$scratch/ids"
grep -c . "$scratch/ids" | grep -qx "$subjects" || { echo "lookup of the bench subjects failed"; exit 1; }

# ---- wrk scripts: one per operation, random subject per request ----
lua_ids=$(awk 'BEGIN {printf "{"} {printf "%s\"%s\"", (NR>1?",":""), $1} END {printf "}"}' "$scratch/ids")
common="ids = $lua_ids
math.randomseed(os.time())
auth = \"Bearer $key\"
"
cat >"$scratch/read.lua" <<EOF
$common
request = function()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/v1/subjects/" .. id .. "/records", {["Authorization"] = auth, ["X-Purpose"] = "account"})
end
EOF
cat >"$scratch/write.lua" <<EOF
$common
n = 0
request = function()
  local id = ids[math.random(#ids)]
  n = n + 1
  local body = '{"category":"contact","purpose":"account","source":"direct","data":{"name":"Writer","n":' .. n .. ',"note":"benchmark write of about two hundred bytes, like the rows of the other benchmarks"}}'
  return wrk.format("POST", "/v1/subjects/" .. id .. "/records", {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
end
EOF
cat >"$scratch/lookup.lua" <<EOF
$common
request = function()
  local body = string.format('{"kind":"email","value":"user%07d@example.com"}', math.random(#ids) - 1)
  return wrk.format("POST", "/v1/lookup", {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
end
EOF

# to_ms "3.21ms" -> 3.21
to_ms() {
	case $1 in
	*us) awk -v v="${1%us}" 'BEGIN {printf "%.2f", v / 1000}' ;;
	*ms) awk -v v="${1%ms}" 'BEGIN {printf "%.2f", v}' ;;
	*s) awk -v v="${1%s}" 'BEGIN {printf "%.2f", v * 1000}' ;;
	esac
}

loadavg() { cut -d' ' -f1 /proc/loadavg; }
declare -A http_rps http_p99 http_err http_load
for op in read write lookup; do
	curl -s "$url/metrics" >/dev/null
	http_load[$op]=$(loadavg)
	out=$(wrk -t"$threads" -c"$conns" -d"${seconds}s" --latency -s "$scratch/$op.lua" "$url")
	http_rps[$op]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<<"$out")
	http_p99[$op]=$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")
	http_err[$op]=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
	http_err[$op]=${http_err[$op]:-0}
	echo "BENCH op=$op mode=http rate=${http_rps[$op]} p99_ms=${http_p99[$op]} non2xx=${http_err[$op]} load=${http_load[$op]}"
done
echo "commits: $(curl -s "$url/metrics" | grep -E '^privault_(commits_total|durability_syncs_total|batches_total|batch_requests_total)' | tr '\n' ' ')"
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=

# ---- the same calls in process, measured here too ----
inproc=$(PRIVAULT_BENCH_DIR=$scratch "$build/bench/bench_http_inproc" --seconds "$((seconds / 2 > 0 ? seconds / 2 : 1))" --subjects "$subjects")
inproc_b=$(PRIVAULT_BENCH_DIR=$scratch "$build/bench/bench_http_inproc" --seconds "$((seconds / 2 > 0 ? seconds / 2 : 1))" --subjects "$subjects" --batch 64)
inproc_r=$(PRIVAULT_BENCH_DIR=$scratch "$build/bench/bench_http_inproc" --seconds "$((seconds / 2 > 0 ? seconds / 2 : 1))" --subjects "$subjects" --batch 64 --relaxed)
inproc_load=$(loadavg)
echo "$inproc"
echo "$inproc_b"
echo "$inproc_r"
field() { grep "op=$1 " <<<"$2" | tr ' ' '\n' | awk -F= -v k="$3" '$1 == k {print $2}'; }

echo
printf '%-8s %12s %8s %8s %6s  %10s %10s %14s %10s  %s\n' op "http req/s" "p99 ms" non-2xx load "1/tx /s" "64/tx /s" "64/tx relaxed" "http/best" goal
for op in read write lookup; do
	goal=""
	case $op in
	read) goal="read >= 20000/s, p99 < 5 ms: $(awk -v r="${http_rps[$op]}" -v p="${http_p99[$op]}" 'BEGIN {print (r >= 20000 && p < 5) ? "met" : "MISSED"}')" ;;
	write) goal="write >= 5000/s: $(awk -v r="${http_rps[$op]}" 'BEGIN {print (r >= 5000) ? "met" : "MISSED"}')" ;;
	esac
	relaxed=$(field "$op" "$inproc_r" rate)
	[ "$op" = write ] && relaxed=-
	best=$(field "$op" "$inproc_b" rate)
	[ "$relaxed" != - ] && [ "${PRIVAULT_DURABLE_READS:-0}" != 1 ] && best=$relaxed
	printf '%-8s %12s %8s %8s %6s  %10s %10s %14s %10s  %s\n' "$op" "${http_rps[$op]}" "${http_p99[$op]}" "${http_err[$op]}" \
		"${http_load[$op]}" "$(field "$op" "$inproc" rate)" "$(field "$op" "$inproc_b" rate)" "$relaxed" \
		"$(awk -v h="${http_rps[$op]}" -v b="$best" 'BEGIN {printf "%.2f", (b > 0) ? h / b : 0}')" "$goal"
done
echo "in process measured at load $inproc_load; http/best = HTTP rate over the in-process 64/tx rate of the same"
echo "durability as the server used (relaxed for reads and lookups unless PRIVAULT_DURABLE_READS=1)"
