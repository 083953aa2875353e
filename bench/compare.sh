#!/usr/bin/env bash
# bench/compare.sh — the load generator against pamscim, the SCIMMY peer and
# the ceiling, in one run (issue 9). `make bench-compare` calls it.
#
# Builds pamscim, the load generator (bench/load) and the ceiling
# (bench/ceiling); seeds a fresh SQLite store directly (load seed); installs
# the peer's npm packages if needed; then, one server at a time on loopback,
# starts it, runs W1–W6 against it and stops it. Writes
# bench/results/{pamscim,scimmy,ceiling}.json and bench/results/compare.md.
#
# Sizes (environment):
#   LOAD_SIZE=quick|full   quick (default, a few minutes) or full (1,000,000 users
#                          on pamscim; the peer at LOAD_PEER_USERS; an hour or more)
#   LOAD_USERS             users in pamscim's store for W2–W6
#   LOAD_PEER_USERS        users in the peer's store (it holds everything in one
#                          process and scans it on every filter; see bench/README.md)
#   LOAD_GROUP_SIZES       W4 group sizes on pamscim; LOAD_PEER_GROUP_SIZES on the peer
#   LOAD_W4_OPS            W4 add/remove pairs per size; LOAD_PEER_W4_OPS on the peer
#   LOAD_W1_USERS          W1 creates (LOAD_PEER_W1_USERS on the peer: they join the
#                          store its later workloads scan); LOAD_DURATION  W2/W3/W6 time;
#                          LOAD_CONCURRENCY
#   LOAD_SERVERS           which to run (default "ceiling pamscim scimmy")
#   LOAD_PAMSCIM_PAGING    W5's paging on pamscim (default index,cursor)
#   LOAD_TREE=head         build from the last commit (git archive HEAD), not the working tree
#   LOAD_OUT               results directory (default bench/results)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SIZE=${LOAD_SIZE:-quick}
case "$SIZE" in
quick)
	: "${LOAD_USERS:=20000}" "${LOAD_PEER_USERS:=2000}"
	: "${LOAD_GROUP_SIZES:=100,1000,10000}" "${LOAD_PEER_GROUP_SIZES:=100,1000}"
	: "${LOAD_W4_OPS:=200}" "${LOAD_PEER_W4_OPS:=20}"
	: "${LOAD_W1_USERS:=2000}" "${LOAD_PEER_W1_USERS:=500}" "${LOAD_DURATION:=10s}" ;;
full)
	: "${LOAD_USERS:=1000000}" "${LOAD_PEER_USERS:=5000}"
	: "${LOAD_GROUP_SIZES:=100,1000,10000,200000}" "${LOAD_PEER_GROUP_SIZES:=100,1000}"
	: "${LOAD_W4_OPS:=500}" "${LOAD_PEER_W4_OPS:=20}"
	: "${LOAD_W1_USERS:=20000}" "${LOAD_PEER_W1_USERS:=1000}" "${LOAD_DURATION:=30s}"
	# The export before W4's groups exist (with a group of 200,000 members
	# every user page is dearer), and with cursors only on pamscim: the
	# index walk over a million users takes over an hour.
	: "${LOAD_WORKLOADS:=W1,W2,W3,W5,W4,W6}" ;;
*) echo "LOAD_SIZE must be quick or full" >&2; exit 2 ;;
esac
: "${LOAD_CONCURRENCY:=8}" "${LOAD_WORKLOADS:=W1,W2,W3,W4,W5,W6}" "${LOAD_PAMSCIM_PAGING:=index,cursor}" "${LOAD_SERVERS:=ceiling pamscim scimmy}" "${LOAD_OUT:=$ROOT/bench/results}"

WORK=$(mktemp -d /tmp/pamscim-compare.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$LOAD_OUT"

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
SRC=$ROOT
if [ "${LOAD_TREE:-}" = head ]; then
	# The committed tree, not the working one (which others may be editing).
	SRC="$WORK/src"; mkdir -p "$SRC"; git archive HEAD | tar -x -C "$SRC"
else
	git diff --quiet HEAD -- 2>/dev/null || COMMIT="$COMMIT + uncommitted changes"
fi
echo "== building pamscim ($COMMIT), bench/load, bench/ceiling"
(cd "$SRC" && CGO_ENABLED=0 go build -trimpath -o "$WORK/pamscim" ./cmd/pamscim &&
	go build -o "$WORK/load" ./bench/load && go build -o "$WORK/ceiling" ./bench/ceiling/server)

NODE_V=$(node --version 2>/dev/null || echo none)
COMMAND="LOAD_SIZE=$SIZE LOAD_USERS=$LOAD_USERS LOAD_PEER_USERS=$LOAD_PEER_USERS LOAD_GROUP_SIZES=$LOAD_GROUP_SIZES LOAD_PEER_GROUP_SIZES=$LOAD_PEER_GROUP_SIZES LOAD_W4_OPS=$LOAD_W4_OPS LOAD_PEER_W4_OPS=$LOAD_PEER_W4_OPS LOAD_W1_USERS=$LOAD_W1_USERS LOAD_PEER_W1_USERS=$LOAD_PEER_W1_USERS LOAD_DURATION=$LOAD_DURATION LOAD_CONCURRENCY=$LOAD_CONCURRENCY LOAD_WORKLOADS=$LOAD_WORKLOADS LOAD_PAMSCIM_PAGING=$LOAD_PAMSCIM_PAGING make bench-compare"
META=(--meta "pamscim=$COMMIT" --meta "command=$COMMAND")

# wait_line FILE REGEX: the first match of REGEX in FILE, waiting up to 120 s.
wait_line() {
	for _ in $(seq 1 1200); do
		if l=$(grep -Eo "$2" "$1" 2>/dev/null | head -1) && [ -n "$l" ]; then echo "$l"; return 0; fi
		sleep 0.1
	done
	echo "timed out waiting for $2 in $1:" >&2; cat "$1" >&2; return 1
}

common=(--workload "$LOAD_WORKLOADS" --concurrency "$LOAD_CONCURRENCY" --duration "$LOAD_DURATION" --json)

run_ceiling() {
	echo "== ceiling"
	"$WORK/ceiling" --total "$LOAD_USERS" >"$WORK/ceiling.out" 2>&1 &
	local pid=$!; PIDS+=("$pid")
	local url; url=$(wait_line "$WORK/ceiling.out" 'http://[^ ]+')
	"$WORK/load" --url "$url" --token canned --server ceiling --canned --users "$LOAD_USERS" --w1-users "$LOAD_W1_USERS" \
		--group-sizes "$LOAD_GROUP_SIZES" --w4-ops "$LOAD_W4_OPS" "${common[@]}" "$LOAD_OUT/ceiling.json" "${META[@]}" --quiet
	kill "$pid"
}

run_pamscim() {
	echo "== pamscim: seeding $LOAD_USERS users straight into a fresh SQLite store"
	local data="$WORK/pamscim-data"
	"$WORK/load" seed --store "$data" --users "$LOAD_USERS"
	# pamscim as shipped: default limits and logging (a line per request,
	# to a file), no rate limit (it would cap every figure at 50/s).
	"$WORK/pamscim" serve --data "$data" --listen 127.0.0.1:0 --rate-limit 0 >"$WORK/pamscim.log" 2>&1 &
	local pid=$!; PIDS+=("$pid")
	local addr; addr=$(wait_line "$WORK/pamscim.log" 'addr=127\.0\.0\.1:[0-9]+' | cut -d= -f2)
	"$WORK/load" --url "http://$addr/scim/v2" --token-file "$data/bootstrap-token" --server pamscim \
		--users "$LOAD_USERS" --w1-users "$LOAD_W1_USERS" --seeded --paging "$LOAD_PAMSCIM_PAGING" --group-sizes "$LOAD_GROUP_SIZES" --w4-ops "$LOAD_W4_OPS" \
		"${common[@]}" "$LOAD_OUT/pamscim.json" "${META[@]}"
	kill "$pid"
}

run_scimmy() {
	local dir="$ROOT/bench/peers/scimmy"
	if [ ! -d "$dir/node_modules/scimmy" ]; then
		echo "== scimmy: npm ci (the npm registry)"
		(cd "$dir" && npm ci --no-audit --no-fund)
	fi
	local vs
	vs=$(cd "$dir" && node -e 'for (const p of ["scimmy","scimmy-routers","express"]) process.stdout.write(p+" "+require("./node_modules/"+p+"/package.json").version+"; ")')
	echo "== scimmy ($vs)"
	local tok; tok=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
	(cd "$dir" && SCIMMY_TOKEN="$tok" exec node --max-old-space-size=8192 server.mjs) >"$WORK/scimmy.out" 2>&1 &
	local pid=$!; PIDS+=("$pid")
	local url; url=$(wait_line "$WORK/scimmy.out" 'http://[^ ]+')
	LOAD_TOKEN="$tok" "$WORK/load" --url "$url" --server scimmy --users "$LOAD_PEER_USERS" --w1-users "$LOAD_PEER_W1_USERS" \
		--group-sizes "$LOAD_PEER_GROUP_SIZES" --w4-ops "$LOAD_PEER_W4_OPS" "${common[@]}" "$LOAD_OUT/scimmy.json" \
		"${META[@]}" --meta "node=$NODE_V" --meta "peer=${vs%; }" --meta "peer store=a Map in one Node process"
	kill "$pid"
}

files=()
for s in $LOAD_SERVERS; do
	"run_$s"
	files+=("$LOAD_OUT/$s.json")
done

"$WORK/load" report --subject pamscim --out "$LOAD_OUT/compare.md" "${files[@]}"
echo "== $LOAD_OUT/compare.md"
cat "$LOAD_OUT/compare.md"
